/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Scheduler lifecycle: the BPF skeleton's open -> set topology and tunables
 * -> load -> attach, the scheduler's exit as the kernel reported it, and the
 * live views into its memory (tunables, counters). Knows nothing of policy
 * about when to restart: that is the daemon's (main.c).
 */
#ifndef SCX_AI_NUMA_SCHED_H
#define SCX_AI_NUMA_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "intf.h"

struct sched;

/*
 * Refuse early with one clear line when the scheduler cannot run here:
 * not root, no sched_ext in the kernel, another sched_ext scheduler active.
 * @sysfs_root is "" for the live system. Returns 0 or -errno.
 */
int sched_preflight(const char *sysfs_root, char *err, size_t errlen);

struct sched_opts {
	uint64_t hotplug_seq;	/* read before the topology: see sched_hotplug_seq() */
	bool hotplug_restart;	/* no in-place hotplug: the kernel ejects us on every event */
	bool global_idle;	/* the global idle mask even where the kernel keeps one per node */
	/* See an_setup.near_nodes (stats_near_nodes()); all zero: every migration counts as far. */
	uint32_t near_nodes[AN_MAX_NODES];
};

/*
 * The kernel's CPU hotplug sequence number, 0 if unknown. Read it before
 * reading the topology and pass it to sched_attach(): the kernel then
 * refuses the attach if CPUs changed in between, so the topology handed to
 * BPF is never stale.
 */
uint64_t sched_hotplug_seq(const char *sysfs_root);

/*
 * Load and attach with @topo and @tun. On a verifier failure @err carries the
 * tail of the verifier log. Returns 0 or -errno; *out is NULL on failure.
 */
int sched_attach(const struct an_topo *topo, const struct an_tunables *tun, const struct sched_opts *o,
		 struct sched **out, char *err, size_t errlen);
/* Detach (if still attached) and free everything. NULL is fine. */
void sched_destroy(struct sched *s);

/* True when the kernel tracks idle CPUs per node for us (see sched_opts.global_idle). */
bool sched_idle_per_node(const struct sched *s);
/* An fd that becomes readable/hangs up when the kernel detaches us; -1 if none. */
int sched_exit_fd(const struct sched *s);
/* True once the kernel has ejected the scheduler; copies the exit record unless @out is NULL. */
bool sched_exited(const struct sched *s, struct an_exit_info *out);

/* Write tunables into the running program; effective at its next event. */
void sched_apply_tunables(struct sched *s, const struct an_tunables *tun);
/* Sum per-CPU counters into @out[nr_nodes]. Returns 0 or -errno. */
int sched_read_counters(const struct sched *s, struct an_node_stats *out, uint32_t nr_nodes);
/* Tasks waiting in each node queue, as last sampled by the scheduler. */
void sched_read_queued(const struct sched *s, uint32_t *out, uint32_t nr_nodes);

/*
 * Placement homes (see struct an_home in intf.h), keyed by process (tgid)
 * and by cgroup id. A new attach starts with both maps empty: the caller
 * re-installs every entry. Deleting an entry that is not there is fine.
 * Return 0 or -errno (-E2BIG when a map is full).
 */
int sched_set_tgid_home(struct sched *s, uint32_t tgid, uint32_t dense_node, bool pinned);
int sched_clear_tgid_home(struct sched *s, uint32_t tgid);
int sched_set_cgroup_home(struct sched *s, uint64_t cgroup_id, uint32_t dense_node);
int sched_clear_cgroup_home(struct sched *s, uint64_t cgroup_id);
/* How many entries each map holds: zero lets the policy skip its lookups. */
void sched_set_home_counts(struct sched *s, uint32_t nr_tgid, uint32_t nr_cgroup);
/* How many times a task's CPU affinity changed (ops.set_cpumask) since the scheduler was attached. */
uint64_t sched_cpumask_changes(const struct sched *s);

/*
 * The processes whose home the node balancer last moved (a thread of each),
 * with the kernel node id of the new home: at most @max, the count returned.
 */
size_t sched_balanced_homes(const struct sched *s, pid_t *pid, int *node, size_t max);

/*
 * Placed processes whose run time the policy keeps (struct an_proc_run):
 * make the map hold exactly @tgids (sorted ascending; beyond
 * AN_MAX_PROC_RUN the rest are left out), keeping what those already there
 * counted. Returns how many it holds, or -errno.
 */
int sched_proc_run_sync(struct sched *s, const uint32_t *tgids, size_t n);
/* Run time of @tgid, summed over CPUs. Returns 0, or -ENOENT when it is not kept. */
int sched_proc_run_read(const struct sched *s, uint32_t tgid, struct an_proc_run *out);

#endif
