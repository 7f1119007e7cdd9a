/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The daemon's state, owned by main.c. The control plane reads it through
 * daemon_view() and changes it through daemon_set_tunable(); the other
 * modules get narrow handles of their own (placement_env, what stats_tick()
 * is handed) rather than this struct. One thread, one event loop: no
 * locking anywhere.
 */
#ifndef SCX_AI_NUMA_DAEMON_H
#define SCX_AI_NUMA_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "intf.h"
#include "options.h"
#include "stats.h"
#include "topology.h"
#include "tunables.h"

struct loop;
struct memfollow;
struct mig_proc;
struct placement;
struct sched;

enum sched_state {
	ST_STARTING,	/* not attached yet */
	ST_RUNNING,	/* attached and scheduling */
	ST_BACKOFF,	/* ejected on error, waiting to retry */
	ST_STOPPING,	/* shutting down */
};

struct daemon {
	struct options opt;
	struct loop *loop;
	struct topology topo;
	struct an_tunables tun;		/* what the user asked for; survives re-attach */
	struct sched *sched;		/* NULL while detached */
	enum sched_state state;

	uint64_t started_ns;		/* CLOCK_MONOTONIC */
	uint64_t attached_ns;		/* last successful attach */
	uint32_t attach_count;
	bool idle_per_node;		/* the current attach has per-node idle masks */
	uint32_t restarts;		/* kernel-requested re-attaches (hotplug) */
	uint32_t errors;		/* error exits since start */
	struct an_exit_info last_exit;	/* kind == 0: none yet */

	struct stats_sampler stats;	/* rate baselines (stats.c) */

	struct placement *placement;	/* GPU homes and pins (placement.c); NULL when out of memory */
	struct memfollow *memfollow;	/* memory follows the task (memfollow.c); NULL when out of memory */
};

/*
 * What the control plane may see of the daemon: read-only, valid until the
 * daemon next runs (the next event). Changes go through the functions below
 * and placement.h's, on @placement.
 */
struct daemon_view {
	enum sched_state state;
	uint64_t started_ns, attached_ns;	/* CLOCK_MONOTONIC */
	uint32_t attach_count, restarts, errors;
	bool idle_per_node;
	const struct an_exit_info *last_exit;	/* kind AN_EXIT_NONE: none yet */
	const struct topology *topo;
	const struct an_tunables *tun;
	const char *ctl_group;			/* NULL: root only */
	struct loop *loop;			/* the event loop the sockets serve from */
	const char *socket_path;		/* the control socket */
	const char *stats_socket;		/* the scx_stats endpoint; NULL or "off": none */
	struct placement *placement;		/* NULL when out of memory */
	const struct memfollow *memfollow;	/* NULL when out of memory */
};
void daemon_view(const struct daemon *d, struct daemon_view *out);

/* Current counters and rates (rates over the last sampling interval). */
int daemon_stats(struct daemon *d, struct stats *out);
/* Once a second (the daemon's stats timer): sample counters, compute rates. */
void daemon_stats_tick(struct daemon *d);
/* After a re-attach: counters restart at zero, so do rate baselines. */
void daemon_stats_reset(struct daemon *d);
/*
 * Run time on and off its home of a process memory follows (memfollow.h),
 * since it was placed or the scheduler attached; -ENOENT when the scheduler
 * keeps none for it (an affinity home, or not synced yet).
 */
int daemon_proc_run(const struct daemon *d, const struct mig_proc *p, struct an_proc_run *out);

/* Validate, store and apply live. Returns 0 or -errno with @err set; state unchanged on error. */
int daemon_set_tunable(struct daemon *d, const struct tunable *t, uint64_t v, char *err, size_t errlen);
const char *sched_state_str(enum sched_state s);

#endif
