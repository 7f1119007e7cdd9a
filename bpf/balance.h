/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The node balancer's decision, one window at a time: which nodes shed task
 * homes, and how much run time each node may take in. Pure arithmetic over
 * per-node figures, shared by the BPF program (balance_tick()) and the unit
 * test (tests/unit/test_balance.c), so the rule is proven on the host.
 *
 * Why homes move, not tasks: measured in the VM (bench/run.sh --quick,
 * ai_imbalance), per-slice stealing from an overloaded node made 87 % of all
 * cross-node migrations at 4 nodes x 1 CPU (1283 steals, 1471 node changes;
 * 10 sends home at slice end, 0 remote idle wakes, 0 rescues), each steal
 * followed by a return home at the next wake. A task whose home moves to the
 * lighter node stays there, and so does its memory once it follows the home.
 *
 * A node's demand over a window is the run time of the tasks whose home it
 * is, wherever they ran, plus the time tasks waited in its queue (average
 * depth x window). A node is busy when its demand comes within the margin
 * of its capacity (online CPUs x window), or beyond; it has room when its
 * demand stays below capacity by more than the margin. The overload seen
 * in the benchmark is bursty rather than sustained (four loaders on one
 * CPU use about 0.8 of it on average, yet queue behind each other while
 * the other nodes' CPUs sit idle: about 30 % of their time at 4 x 1), so a
 * node counts as busy before it is over capacity. A node busy for
 * AN_BAL_STREAK windows in a row while another has room may shed up to
 * min(what brings it back to capacity - margin, the machine's room) of run
 * time per window; a node with room may take in its room. A single move
 * happens only if it narrows the gap (an_bal_worth()): after it the source
 * is still at least as loaded per CPU as the destination, so moves never
 * ping-pong. Hysteresis: the streak restarts at every move, so the next
 * move is decided on figures that include the last one; and a machine with
 * no room anywhere moves nothing (stealing serves it, moving homes would
 * only shuffle them).
 */
#ifndef SCX_AI_NUMA_BALANCE_H
#define SCX_AI_NUMA_BALANCE_H

/* Windows in a row a node must be overloaded before its homes move. */
#define AN_BAL_STREAK	3

/*
 * The loop over nodes. In BPF an open-coded iterator: the verifier checks
 * its body until the state converges instead of once per node, as it does
 * a counted loop whose bound it knows at load (the node count): unrolled,
 * the step hit its instruction limit at 8 nodes (E2BIG) and the scheduler
 * could not load. The index is masked, a bound the verifier keeps on every
 * access whatever the loop told it.
 */
#ifdef __bpf__
#define an_bal_for(i, nr)	bpf_for(i, 0, nr)
#else
#define an_bal_for(i, nr)	for ((i) = 0; (i) < (nr); (i)++)
#endif
#define an_bal_idx(i)	((i) & (AN_MAX_NODES - 1))
_Static_assert((AN_MAX_NODES & (AN_MAX_NODES - 1)) == 0, "an_bal_idx() masks");

struct an_bal_node {
	/* Inputs, one window. */
	u64 cap_ns;	/* online CPUs x window */
	u64 demand_ns;	/* run time of its tasks anywhere + queue wait */
	u32 cpus;	/* online CPUs */
	/* State kept across windows. */
	u32 streak;	/* windows in a row busy */
	/* Outputs. */
	u64 out_ns;	/* run time per window of homes to move away */
	u64 in_ns;	/* run time per window of homes it may take in */
};

static inline int an_bal_room(const struct an_bal_node *nd, u64 margin_ns)
{
	return nd->demand_ns + margin_ns < nd->cap_ns;
}

/*
 * One window over the first @nr of @nodes. @margin_ns (a quarter of a
 * CPU's window in the program) keeps noise from moving anything.
 */
static inline void an_bal_step(struct an_bal_node *nodes, u32 nr, u64 margin_ns)
{
	struct an_bal_node *nd;
	u64 room = 0, excess;
	u32 i;

	if (nr > AN_MAX_NODES)
		nr = AN_MAX_NODES;
	an_bal_for(i, nr) {
		nd = &nodes[an_bal_idx(i)];
		if (an_bal_room(nd, margin_ns))
			room += nd->cap_ns - margin_ns - nd->demand_ns;
	}
	an_bal_for(i, nr) {
		nd = &nodes[an_bal_idx(i)];
		nd->out_ns = 0;
		nd->in_ns = 0;
		if (an_bal_room(nd, margin_ns)) {
			nd->streak = 0;
			nd->in_ns = nd->cap_ns - margin_ns - nd->demand_ns;
			continue;
		}
		if (!room) {
			nd->streak = 0;
			continue;
		}
		if (nd->streak < AN_BAL_STREAK)
			nd->streak++;
		if (nd->streak < AN_BAL_STREAK)
			continue;
		excess = nd->demand_ns + margin_ns - nd->cap_ns;
		nd->out_ns = excess < room ? excess : room;
	}
}

/*
 * Is moving a task of @load ns per window from @src to @dst worth it: is
 * @src still at least as loaded per CPU as @dst afterwards? (Products of
 * run time and CPU counts: no overflow below 10^15 ns per window.)
 */
static inline int an_bal_worth(const struct an_bal_node *src, const struct an_bal_node *dst, u64 load)
{
	if (!src->cpus || !dst->cpus || src->demand_ns < load)
		return 0;
	return (src->demand_ns - load) * dst->cpus >= (dst->demand_ns + load) * src->cpus;
}

#endif
