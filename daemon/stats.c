// SPDX-License-Identifier: GPL-2.0
#include <string.h>
#include <time.h>

#include "sched.h"
#include "stats.h"
#include "topology.h"

#define STAT_DESC_(id, name, help)	[AN_STAT_##id] = { name, help },
static const struct {
	const char *name, *help;
} stat_desc[] = {
	AN_STATS(STAT_DESC_)
};
#undef STAT_DESC_
_Static_assert(sizeof(stat_desc) / sizeof(stat_desc[0]) == AN_NR_STATS, "a name and help for every counter");

const char *stats_name(enum an_stat i)
{
	return (unsigned int)i < AN_NR_STATS ? stat_desc[i].name : "?";
}

const char *stats_help(enum an_stat i)
{
	return (unsigned int)i < AN_NR_STATS ? stat_desc[i].help : "?";
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Counters and queue depths now, per dense node. */
static int read_now(const struct sched *sched, struct an_node_stats *cur, uint32_t *queued, int nr)
{
	memset(cur, 0, sizeof(*cur) * AN_MAX_NODES);
	memset(queued, 0, sizeof(*queued) * AN_MAX_NODES);
	if (!sched)
		return 0;
	sched_read_queued(sched, queued, nr);
	return sched_read_counters(sched, cur, nr);
}

static int cpu_nodes(const struct topology *t)
{
	int nr = topology_nr_cpu_nodes(t);

	return nr < AN_MAX_NODES ? nr : AN_MAX_NODES;
}

/*
 * Called by the daemon's stats timer: rates are the difference to the
 * previous tick, so every reader sees per-second rates over the same,
 * complete interval whatever the request rate. A counter below its baseline
 * means the scheduler was re-attached: the baseline restarts at zero.
 */
void stats_tick(struct stats_sampler *sm, const struct sched *sched, const struct topology *t)
{
	struct an_node_stats cur[AN_MAX_NODES];
	uint32_t queued[AN_MAX_NODES];
	int nr = cpu_nodes(t);
	uint64_t now = now_ns(), dt = sm->prev_ns ? now - sm->prev_ns : 0;

	if (read_now(sched, cur, queued, nr))
		return;
	memset(sm->last.node, 0, sizeof(sm->last.node));
	memset(sm->last.total_rate, 0, sizeof(sm->last.total_rate));
	for (int k = 0; k < nr; k++) {
		for (int s = 0; s < AN_NR_STATS; s++) {
			uint64_t base = sm->prev[k].cnt[s];

			if (base > cur[k].cnt[s])
				base = 0;
			if (dt)
				sm->last.node[k].rate[s] = (double)(cur[k].cnt[s] - base) * 1e9 / (double)dt;
			sm->last.total_rate[s] += sm->last.node[k].rate[s];
		}
	}
	sm->last.interval_ms = dt / 1000000;
	memcpy(sm->prev, cur, sizeof(cur));
	sm->prev_ns = now;
}

/* A re-attach starts counting from zero: so do the rates. */
void stats_reset(struct stats_sampler *sm)
{
	memset(sm, 0, sizeof(*sm));
}

int stats_read(const struct stats_sampler *sm, const struct sched *sched, const struct topology *t,
	       struct stats *out)
{
	struct an_node_stats cur[AN_MAX_NODES];
	uint32_t queued[AN_MAX_NODES];
	int nr = cpu_nodes(t), k = 0, err;

	memset(out, 0, sizeof(*out));
	err = read_now(sched, cur, queued, nr);
	if (err)
		return err;
	out->nr_nodes = nr;
	out->interval_ms = sm->last.interval_ms;
	for (int i = 0; i < t->nr_nodes && k < nr; i++) {
		const struct topo_node *tn = &t->nodes[i];
		struct stats_node *sn = &out->node[k];

		if (!tn->nr_cpus)
			continue;
		sn->node_id = tn->id;
		sn->nr_cpus = tn->nr_cpus;
		sn->nr_online = tn->nr_online;
		sn->queued = queued[k];
		memcpy(sn->wait_hist, cur[k].wait_hist, sizeof(sn->wait_hist));
		memcpy(sn->lat_wake_hist, cur[k].lat_wake_hist, sizeof(sn->lat_wake_hist));
		for (int b = 0; b < AN_WAIT_BUCKETS; b++)
			out->total_lat_wake_hist[b] += sn->lat_wake_hist[b];
		for (int s = 0; s < AN_NR_STATS; s++) {
			sn->cnt[s] = cur[k].cnt[s];
			sn->rate[s] = sm->last.node[k].rate[s];
			out->total[s] += sn->cnt[s];
			out->total_rate[s] += sn->rate[s];
		}
		k++;
	}
	return 0;
}

double stats_hist_quantile(const uint64_t *hist, double q)
{
	uint64_t total = 0, below = 0;
	double rank;

	for (int b = 0; b < AN_WAIT_BUCKETS; b++)
		total += hist[b];
	if (!total)
		return -1;
	rank = q * (double)total;
	for (int b = 0; b < AN_WAIT_BUCKETS; b++) {
		double lo = b ? (double)(1ULL << (b - 1)) : 0, hi = (double)(1ULL << b);

		if (!hist[b] || (double)(below + hist[b]) < rank) {
			below += hist[b];
			continue;
		}
		if (b == AN_WAIT_BUCKETS - 1)
			return lo;
		return lo + (hi - lo) * (rank - (double)below) / (double)hist[b];
	}
	return (double)(1ULL << (AN_WAIT_BUCKETS - 2));
}

void stats_near_nodes(const struct topology *t, uint32_t out[AN_MAX_NODES])
{
	int idx[AN_MAX_NODES], nr = 0;

	memset(out, 0, sizeof(uint32_t) * AN_MAX_NODES);
	/* Dense node k is the k-th node with CPUs, as in stats_read(). */
	for (int i = 0; i < t->nr_nodes && i < AN_MAX_NODE_ID && nr < AN_MAX_NODES; i++)
		if (t->nodes[i].nr_cpus)
			idx[nr++] = i;
	for (int a = 0; a < nr; a++) {
		int best = -1;

		for (int b = 0; b < nr; b++)
			if (b != a && (best < 0 || t->distance[idx[a]][idx[b]] < best))
				best = t->distance[idx[a]][idx[b]];
		for (int b = 0; b < nr; b++)
			if (b != a && t->distance[idx[a]][idx[b]] == best)
				out[a] |= 1U << b;
	}
}
