/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Counters since attach per node and in total, plus per-second rates over the
 * last sampling interval. The scheduler's per-CPU maps are summed here; a
 * re-attach starts a fresh baseline so rates never go negative.
 */
#ifndef SCX_AI_NUMA_STATS_H
#define SCX_AI_NUMA_STATS_H

#include <stdint.h>
#include "intf.h"

struct stats_node {
	uint32_t node_id;		/* kernel node id */
	uint32_t nr_cpus;
	uint32_t nr_online;
	uint32_t queued;		/* tasks waiting in the node queue */
	uint64_t cnt[AN_NR_STATS];	/* since attach */
	double rate[AN_NR_STATS];	/* per second over the last interval */
	uint64_t wait_hist[AN_WAIT_BUCKETS];	/* queue waits since attach, see intf.h */
	uint64_t lat_wake_hist[AN_WAIT_BUCKETS];	/* latency-critical wakeups, see intf.h */
};

struct stats {
	uint32_t nr_nodes;
	uint64_t interval_ms;		/* length of the rate interval, 0 if none yet */
	struct stats_node node[AN_MAX_NODES];
	uint64_t total[AN_NR_STATS];
	double total_rate[AN_NR_STATS];
	uint64_t total_lat_wake_hist[AN_WAIT_BUCKETS];	/* all nodes together */
};

struct sched;
struct topology;

/* Counters at the last tick; rates in last are relative to them. */
struct stats_sampler {
	struct an_node_stats prev[AN_MAX_NODES];
	uint64_t prev_ns;		/* CLOCK_MONOTONIC; 0: no tick yet */
	struct stats last;		/* rates over the last tick interval */
};

/* Once a second (the daemon's stats timer): sample @sched's counters, compute rates. */
void stats_tick(struct stats_sampler *sm, const struct sched *sched, const struct topology *t);
/* After a re-attach: counters restart at zero, so do rate baselines. */
void stats_reset(struct stats_sampler *sm);
/* Current counters and the rates of the last tick, per node of @t with CPUs. Returns 0 or -errno. */
int stats_read(const struct stats_sampler *sm, const struct sched *sched, const struct topology *t,
	       struct stats *out);

/*
 * The @q quantile (0 < q < 1) of a log2-microsecond histogram (intf.h,
 * AN_WAIT_BUCKETS), in microseconds, interpolated within its bucket; the
 * open last bucket answers its lower bound. Negative when it is empty.
 */
double stats_hist_quantile(const uint64_t *hist, double q);

/*
 * For each dense node of @t, the other dense nodes at the smallest SLIT
 * distance from it, a bit each (an_setup.near_nodes).
 */
void stats_near_nodes(const struct topology *t, uint32_t out[AN_MAX_NODES]);

/* Short stable names ("direct", "steal_in", ...) used in JSON and tables. */
const char *stats_name(enum an_stat i);
/* One-line description of counter @i. */
const char *stats_help(enum an_stat i);

#endif
