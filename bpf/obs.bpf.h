/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Accounting that only feeds the daemon's figures, never a decision:
 * migrations by SLIT distance class, the wake latency of latency-critical
 * tasks, and the run time of placed processes on and off their home. Each
 * costs a load and a branch on the common path; the map updates happen
 * only on a migration, a latency-critical wakeup, or a placed process's
 * stop. Included by the policy after lat_critical() and the counter
 * helpers it uses.
 */
#ifndef SCX_AI_NUMA_OBS_BPF_H
#define SCX_AI_NUMA_OBS_BPF_H

/* See struct an_proc_run: the daemon owns the keys, the policy only adds. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, AN_MAX_PROC_RUN);
	__type(key, u32);		/* tgid */
	__type(value, struct an_proc_run);
} proc_run SEC(".maps");

/* Log2-microsecond bucket of @ns, see AN_WAIT_BUCKETS. */
static __always_inline u32 us_bucket(u64 ns)
{
	u64 us = ns / 1000;
	u32 b = 0;

	while (us && b < AN_WAIT_BUCKETS - 1) {
		us >>= 1;
		b++;
	}
	return b;
}

/* A run on @node of a task that last ran on @from, another node. */
static __always_inline void migrate_in_add(u32 node, u32 from)
{
	struct an_node_stats *s = bpf_map_lookup_elem(&node_stats, &node);
	u32 near;

	if (!s)
		return;
	barrier_var(node);
	near = node < AN_MAX_NODES ? setup.near_nodes[node] : 0;
	s->cnt[AN_STAT_MIGRATE_IN]++;
	if (from < 32 && (near & (1U << from)))
		s->cnt[AN_STAT_MIGRATE_IN_NEAR]++;
	else
		s->cnt[AN_STAT_MIGRATE_IN_FAR]++;
}

/* A wakeup of a latency-critical task starts its wake latency. */
static __always_inline void lat_wake_mark(struct task_ctx *tctx, u64 wake_flags)
{
	if ((wake_flags & SCX_WAKE_TTWU) && lat_critical(tctx))
		tctx->lat_woke_ns = bpf_ktime_get_ns();
}

/* ... which ends as it runs, on @node at @now. */
static __always_inline void lat_wake_ran(struct task_ctx *tctx, u32 node, u64 now)
{
	struct an_node_stats *s;
	u64 woke = tctx->lat_woke_ns;
	u32 b;

	if (!woke)
		return;
	tctx->lat_woke_ns = 0;
	if (now < woke)
		return;
	s = bpf_map_lookup_elem(&node_stats, &node);
	if (!s)
		return;
	b = us_bucket(now - woke);
	barrier_var(b);
	if (b < AN_WAIT_BUCKETS)
		s->lat_wake_hist[b]++;
	s->cnt[AN_STAT_LAT_WAKE_NS] += now - woke;
}

/* Run time of a placed process's thread, at home or not. */
static __always_inline void proc_run_add(struct task_struct *p, bool home, u64 ran)
{
	struct an_proc_run *r;
	u32 tgid;

	if (!READ_ONCE(shared.nr_proc_run))
		return;
	tgid = p->tgid;
	r = bpf_map_lookup_elem(&proc_run, &tgid);
	if (!r)
		return;
	if (home)
		r->home_ns += ran;
	else
		r->away_ns += ran;
}

#endif
