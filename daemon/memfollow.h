/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Memory follows the task, as the daemon runs it: once a second the list of
 * processes with a home given from outside is gathered — processes confined
 * to one node by their CPU affinity or cpuset (where they can only run),
 * pinned processes, the processes of pinned cgroups, processes using a GPU
 * on one node, processes the scheduler's node balancer moved off an
 * overloaded node, first of these wins — and handed to the mover (migrate.h),
 * which a timer of its own drives: every 100 ms while memory is moving,
 * every second otherwise.
 *
 * Big processes without such a home are looked at too (home follows
 * memory): a few per gathering, each at most once, and one found with
 * nothing to do again only after a back-off (memfollow_look_every()).
 *
 * The /proc pass that finds confined and big processes (affinity.h) is due
 * every second, but walks /proc only when something may have changed: a
 * task's affinity (the scheduler counts ops.set_cpumask calls), a new
 * process or thread (the last pid in /proc/loadavg moved: a child born
 * with its parent's confined affinity; and for 10 s after a birth, while
 * the young process grows), or a minute since the last walk (a process
 * grown big). So at steady state what following memory costs is the
 * gathering once a second and the mover's backed-off samples (migrate.h).
 *
 * Home follows memory when two looks a second apart find a big process's
 * memory on another node than its threads; memory follows a home the node
 * balancer gave without the settle time, the scheduler holding that home
 * for balance_hold_ns anyway.
 *
 * The knobs are live tunables (migrate_mbps, migrate_settle_ns), read at
 * every tick from the daemon's tunables, so a change takes effect at once.
 */
#ifndef SCX_AI_NUMA_MEMFOLLOW_H
#define SCX_AI_NUMA_MEMFOLLOW_H

#include <stddef.h>
#include <stdint.h>

#include "affinity.h"
#include "intf.h"
#include "memory.h"
#include "migrate.h"

struct loop;
struct placement;
struct topology;

struct memfollow_env {
	struct loop *loop;			/* for the timer; NULL: the caller ticks (tests) */
	const struct topology *topo;		/* nodes and CPUs */
	const struct an_tunables *tun;		/* the live tunables */
	struct placement *const *placement;	/* pins and GPU homes; *placement may be NULL */
	const char *root;			/* prefix of proc/ and sys/ paths, "" for the live system */
	const struct mem_ops *ops;		/* NULL: the real move_pages(2) */
	/*
	 * The processes the scheduler's node balancer moved (a pid and the
	 * kernel node id of its new home each, at most @max; the count
	 * returned); NULL: none.
	 */
	size_t (*balanced)(void *arg, pid_t *pid, int *node, size_t max);
	void *balanced_arg;
	/*
	 * How many times a task's CPU affinity changed so far (the
	 * scheduler's count, with @balanced_arg); NULL: unknown, so every
	 * /proc pass is walked.
	 */
	uint64_t (*cpumask_changes)(void *arg);
};

/* At most this many processes are looked after; more are left to a later pass. */
#define MEMFOLLOW_MAX_TARGETS	4096

enum memfollow_state {
	MF_ACTIVE,		/* moving memory as needed */
	MF_OFF,			/* migrate_mbps is 0 */
	MF_NO_PERMISSION,	/* the kernel refused: no ptrace access to processes */
	MF_ONE_NODE,		/* nothing to do: one node with memory */
};

/* NULL when out of memory (every function below takes NULL and does nothing). */
struct memfollow *memfollow_new(const struct memfollow_env *env);
void memfollow_free(struct memfollow *mf);

/* One tick at @now_ns (CLOCK_MONOTONIC); what the timer does, exposed for tests. */
void memfollow_tick(struct memfollow *mf, uint64_t now_ns);

/* The state, and a sentence saying why for any but MF_ACTIVE. */
enum memfollow_state memfollow_state(const struct memfollow *mf, const char **why);
const char *memfollow_state_str(enum memfollow_state s);

/* Everything moved so far, and the rate over the last second (bytes/s). */
const struct mig_stats *memfollow_stats(const struct memfollow *mf, uint64_t *bytes_per_s);
/*
 * The CPU time of the jobs around the mover (whose own is in
 * mig_stats.cpu_ns): the /proc pass and the gathering of targets, with the
 * pass's counts; what `stats` shows to tell what following memory costs.
 */
struct memfollow_cpu {
	uint64_t scan_ns;
	uint64_t gather_ns;
	uint64_t passes_skipped;	/* passes due that did not walk /proc: nothing had changed */
	struct affscan_counts scan;
};
void memfollow_cpu(const struct memfollow *mf, struct memfollow_cpu *out);

/* The processes looked after now. */
size_t memfollow_procs(const struct memfollow *mf, const struct mig_proc **out);
/*
 * How long after a look that found nothing to do a big process without a
 * home from outside is looked at again, after @streak such looks in a row:
 * 2 s, doubling, at most a minute.
 */
uint64_t memfollow_look_every(unsigned int streak);

/* What @p is doing: moving, settling (its home must hold, migrate_settle_of()), home, or waiting. */
const char *memfollow_proc_state(const struct mig_proc *p, const struct an_tunables *tun, uint64_t now_ns);

#endif
