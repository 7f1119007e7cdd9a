/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Memory follows the task: which processes get their pages moved, when,
 * and how fast. The page mover (memory.h) does the moving; this module
 * decides.
 *
 * Its input is the list of processes with an explicit home (an operator's
 * pin, a cgroup pin, a GPU, an affinity confined to one node), given anew
 * whenever the list changes. A home must hold for the settle time before
 * memory moves (a home the node balancer gave need not: the scheduler
 * holds it for balance_hold_ns, see migrate_settle_of()); a process's memory moves to a node in one pass, and to a
 * different node only after the target has held four settle times, so no
 * page goes back and forth with a home that flaps. A token bucket holds the
 * bytes moved to the configured rate; every tick does a bounded amount of
 * work, a chunk of pages at a time, and stops early when the loop says a
 * client waits (loop_should_yield()), so a request is answered after the
 * chunk in flight, not after the tick. Each process's memory locality is
 * sampled now and then: a sample that finds its memory home skips the pass,
 * and the samples of a process whose memory stays home back off, from
 * 30 s to 8 minutes, so 100 processes at home cost a sample every few
 * seconds, not several a second.
 */
#ifndef SCX_AI_NUMA_MIGRATE_H
#define SCX_AI_NUMA_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "memory.h"

enum mig_source {
	MIG_PIN,	/* scx-ai-numactl pin, or a pin line of the configuration */
	MIG_CGROUP,	/* a pinned cgroup */
	MIG_GPU,	/* the node of the GPU the process uses */
	MIG_AFFINITY,	/* its CPU affinity or cpuset is confined to one node */
	MIG_MEMORY,	/* most of its memory is on the node: the home followed it */
	MIG_BALANCE,	/* the node balancer moved it off an overloaded node */
	MIG_THREADS,	/* its threads all run on the node; the node holding its memory had no room for them */
};

struct mig_target {
	pid_t pid;
	uint64_t start_time;	/* /proc/PID/stat field 22, to tell a reused pid */
	int node;		/* kernel node id */
	enum mig_source src;
};

struct mig_params {
	uint64_t rate_bps;	/* bytes moved per second at most; 0: migration off */
	uint64_t settle_ns;	/* a home holds this long before its memory moves */
	/*
	 * How long the scheduler holds a home its node balancer gave
	 * (balance_hold_ns): when at least the settle time, such a home's
	 * memory moves at once, its holding being certain, not awaited.
	 */
	uint64_t balance_hold_ns;
};

/* One process looked after, for `pins` and tests. */
struct mig_proc {
	pid_t pid;
	uint64_t start_time;
	int node;
	enum mig_source src;
	uint64_t since_ns;		/* the target has been this node since */
	int moved_to;			/* node of the last completed pass, -1: none */
	uint64_t pass_end_ns;		/* when that pass (or a refused one) ended */
	uint64_t sampled_ns;		/* last sample; 0: none yet */
	struct mem_sample sample;
	unsigned int home_streak;	/* samples in a row that found its memory home */
	bool denied;			/* its memory could not be read or moved (EPERM, EACCES) at the last look */
	bool in_job;
	struct mem_job job;
	struct mem_job_counts n;	/* all passes together */
};

struct mig_stats {
	uint64_t moved_pages[AN_MAX_NODE_ID];	/* moved into each kernel node */
	uint64_t moved_total;
	uint64_t busy, shared, nomem, failed;	/* pages that could not move, by reason */
	uint64_t passes, denied, gone;		/* passes completed, refused, cut short by an exit */
	uint64_t failed_passes;			/* passes ended by a failed move_pages(2) call */
	uint64_t cpu_ns;			/* CPU time spent in ticks */
	bool no_permission;			/* a process followed was refused (EPERM, EACCES) at its last look: said by `status` */
};

/* Addresses looked at per tick at most, whatever the rate: bounds a tick's CPU time. */
#define MIG_SCAN_PER_TICK	(64 * 1024)
/* How often a process's locality is sampled, and how many pages. */
#define MIG_SAMPLE_NS		(5ULL * 1000000000ULL)
#define MIG_SAMPLE_HOME_NS	(30ULL * 1000000000ULL)	/* ... once its memory is home */
/*
 * ... and twice as long after each sample in a row that finds it still
 * home, up to this: at steady state most of what following memory costs is
 * these samples (an smaps read and a move_pages(2) query each), and memory
 * that is home stays home under this scheduler (no NUMA balancing moves it
 * away; a homed process's threads run, and first-touch, on its home). A
 * new home or a sample that finds pages astray starts over at
 * MIG_SAMPLE_HOME_NS.
 */
#define MIG_SAMPLE_HOME_MAX_NS	(480ULL * 1000000000ULL)
#define MIG_SAMPLE_PAGES	256
#define MIG_SAMPLES_PER_TICK	8
/* A sample with fewer pages than this off their home skips the pass (per mille). */
#define MIG_OFF_HOME_MIN	10

struct migrate;

/* A mover for the processes below ROOT/proc ("" for the live system), through @ops. */
int migrate_new(const char *root, const struct mem_ops *ops, struct migrate **out);
void migrate_free(struct migrate *m);

/*
 * The processes with an explicit home now; replaces the previous list. A
 * process whose target node is unchanged keeps its settle clock and its
 * pass in progress. Returns 0 or -ENOMEM (the previous list stays).
 */
int migrate_set_targets(struct migrate *m, const struct mig_target *t, size_t n, uint64_t now_ns);

/*
 * Do this tick's share of the work: samples due, passes started, pages
 * moved within the rate since the last tick. Returns the pages moved.
 */
long migrate_tick(struct migrate *m, const struct mig_params *p, uint64_t now_ns);

/* Is there work that wants frequent ticks (a pass in progress or waiting to start)? */
bool migrate_busy(const struct migrate *m);

const struct mig_stats *migrate_stats(const struct migrate *m);
size_t migrate_procs(const struct migrate *m, const struct mig_proc **out);
/* Per mille of @pid's sampled pages on its home; -1 if not looked after or not sampled yet. */
int migrate_locality(const struct migrate *m, pid_t pid);

const char *mig_source_str(enum mig_source s);

/* How long @p's home must have held before its memory moves. */
uint64_t migrate_settle_of(const struct mig_proc *p, const struct mig_params *prm);

/* How long after its last sample a process whose memory is home is sampled again (see MIG_SAMPLE_HOME_MAX_NS). */
uint64_t migrate_home_every(unsigned int home_streak);

#endif
