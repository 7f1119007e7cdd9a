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
 * depth x window). Beyond its capacity (online CPUs x window) by more than
 * the margin it is overloaded; below by more than the margin it has spare
 * capacity. A node overloaded for AN_BAL_STREAK windows in a row while
 * another has spare capacity sheds up to min(its excess, the machine's
 * spare) of run time per window; a node with spare capacity takes in up to
 * its spare. Hysteresis: the streak restarts at every move, so the next move
 * is decided on figures that include the last one, and a machine with no
 * spare capacity anywhere moves nothing (stealing serves it, moving homes
 * would only shuffle them).
 */
#ifndef SCX_AI_NUMA_BALANCE_H
#define SCX_AI_NUMA_BALANCE_H

/* Windows in a row a node must be overloaded before its homes move. */
#define AN_BAL_STREAK	3

struct an_bal_node {
	/* Inputs, one window. */
	u64 cap_ns;	/* online CPUs x window */
	u64 demand_ns;	/* run time of its tasks anywhere + queue wait */
	/* State kept across windows. */
	u32 streak;	/* windows in a row overloaded */
	u32 pad;
	/* Outputs. */
	u64 out_ns;	/* run time per window of homes to move away */
	u64 in_ns;	/* run time per window of homes it may take in */
};

/*
 * One window over @nr nodes. @margin_ns keeps noise (a quarter of a CPU's
 * window in the program) from moving anything.
 */
static inline void an_bal_step(struct an_bal_node *nd, u32 nr, u64 margin_ns)
{
	u64 spare = 0, excess;
	u32 i;

	for (i = 0; i < nr; i++)
		if (nd[i].demand_ns + margin_ns < nd[i].cap_ns)
			spare += nd[i].cap_ns - nd[i].demand_ns;
	for (i = 0; i < nr; i++) {
		nd[i].out_ns = 0;
		nd[i].in_ns = 0;
		if (nd[i].demand_ns + margin_ns < nd[i].cap_ns) {
			nd[i].streak = 0;
			nd[i].in_ns = nd[i].cap_ns - nd[i].demand_ns;
			continue;
		}
		if (!spare || nd[i].demand_ns <= nd[i].cap_ns + margin_ns) {
			nd[i].streak = 0;
			continue;
		}
		if (nd[i].streak < AN_BAL_STREAK)
			nd[i].streak++;
		if (nd[i].streak < AN_BAL_STREAK)
			continue;
		excess = nd[i].demand_ns - nd[i].cap_ns;
		nd[i].out_ns = excess < spare ? excess : spare;
	}
}

#endif
