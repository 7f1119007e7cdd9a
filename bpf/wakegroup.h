/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Wake groups: threads that keep waking each other across nodes move to one
 * node. Pure logic, shared by the BPF program (group_wake() in
 * scx_ai_numa.bpf.c) and the unit test (tests/unit/test_wakegroup.c), so the
 * rule is proven on the host.
 *
 * Why: a task's home is the node it first ran on, so threads a process
 * starts one after another land wherever a CPU was idle at the time.
 * Measured in the VM (2 nodes x 2 CPUs, wakebench: two message threads each
 * waking their own two workers), the two groups ended up mixed across the
 * nodes (five of six threads on one node in one run). A worker's wake then
 * waited for a busy CPU of its home while its waker's node idled:
 * wakebench was bimodal, 4,400-5,400 requests/s when the groups happened to
 * fall apart cleanly and 1,100-2,400 when they did not. Hand-offs off,
 * remote idle wakes, immediate stealing and a shorter slice changed none of
 * it; where the threads live did.
 *
 * The rule. A wakee counts the wakes in a row it gets from wakers whose
 * home is one other node and who run there (streak; a waker running away
 * from home is skipped: timer wakes are counted against whatever task is
 * current). Once the streak reaches group_wakes, one
 * of the two moves so that both share a home: to the lighter of the two
 * nodes (run time demand per CPU in the balancer's last window, plus the
 * group moves made since), the wakee on a tie, since it is asleep and its
 * next wake lands there at no cost. Lighter, not "the waker's": moving
 * every wakee towards its waker gathers every group on the node where the
 * message threads happened to start. If the one that should move cannot (a home
 * given from outside, an affinity, a home moved within balance_hold_ns),
 * the other may, to the heavier node, as long as that node has room for
 * it. A move needs the destination's room (the balancer's grant for the
 * window, which moves spend), so grouping never overloads a node the
 * balancer would then have to empty again. A task woken from several nodes
 * in turn (a launcher fed by loaders of both nodes) never builds a streak
 * and stays where it is.
 *
 * What the rule does not do: take a group apart. Measured (quiet host, 5
 * repetitions): wakebench's requests went from 0.85x the default's (two
 * repetitions of five in the slow mode) to 0.99x, 96 % of worker runs on
 * their waker's node against 50 %, but its wakeup p99 stayed 3.6x the
 * default's: both groups can end up on one node, where by average demand
 * they fit, so nothing moves them, while each request's second worker
 * queues behind the first with the other node idle. A rule splitting such
 * groups was tried and left out: in the VM the gathered layout was the
 * faster one (two busy vCPUs on a 2-core host, against four contending),
 * so nothing there could show the split pays (bench/README.md).
 */
#ifndef SCX_AI_NUMA_WAKEGROUP_H
#define SCX_AI_NUMA_WAKEGROUP_H

enum an_wg_move {
	AN_WG_NONE,		/* nobody moves */
	AN_WG_WAKEE,		/* the wakee's home becomes the waker's */
	AN_WG_WAKER,		/* the waker's home becomes the wakee's */
};

/* One side of a wake: a task, and its home node as the balancer saw it. */
struct an_wg_side {
	u64 load_ns;		/* the task's run time per balancer window */
	u64 demand_ns;		/* its home node's demand, last window */
	u64 room_ns;		/* its home node's grant left this window (0: no room) */
	u32 cpus;		/* its home node's online CPUs */
	bool movable;		/* its home may move: no outside home, no affinity, not held */
};

/*
 * @streak wakes in a row from the waker's home node, @min (group_wakes) to
 * act, 0: never. Returns who moves.
 */
static inline enum an_wg_move an_wg_decide(u32 streak, u32 min, const struct an_wg_side *wakee,
					   const struct an_wg_side *waker)
{
	u64 wakee_load = wakee->load_ns ? wakee->load_ns : 1;
	u64 waker_load = waker->load_ns ? waker->load_ns : 1;
	bool wakee_ok, waker_ok;

	if (!min || streak < min || !wakee->cpus || !waker->cpus)
		return AN_WG_NONE;
	/* The wakee moves to the waker's node: it needs room there, and the other way round. */
	wakee_ok = wakee->movable && waker->room_ns >= wakee_load;
	waker_ok = waker->movable && wakee->room_ns >= waker_load;
	/* Demand per CPU, cross-multiplied: the waker's node is no heavier than the wakee's. */
	if (waker->demand_ns * wakee->cpus <= wakee->demand_ns * waker->cpus)
		return wakee_ok ? AN_WG_WAKEE : waker_ok ? AN_WG_WAKER : AN_WG_NONE;
	return waker_ok ? AN_WG_WAKER : wakee_ok ? AN_WG_WAKEE : AN_WG_NONE;
}

#endif /* SCX_AI_NUMA_WAKEGROUP_H */
