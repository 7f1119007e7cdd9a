// SPDX-License-Identifier: GPL-2.0
/*
 * The node balancer's rule (bpf/balance.h), run on the host: what moves,
 * when, and how much, for the shapes the benchmark runs. Times are in
 * "CPU-windows" of 1000 ns to keep the figures readable.
 */
#include "check.h"
#include "intf.h"
#include "balance.h"

#define W	1000ULL		/* one CPU's window */
#define MARGIN	(W / 4)

static void set(struct an_bal_node *nd, u32 cpus, u64 demand)
{
	nd->cpus = cpus;
	nd->cap_ns = cpus * W;
	nd->demand_ns = demand;
}

/* Run @windows windows with the same inputs; returns the last out_ns of node 0. */
static u64 run(struct an_bal_node *nd, u32 nr, int windows)
{
	for (int i = 0; i < windows; i++)
		an_bal_step(nd, nr, MARGIN);
	return nd[0].out_ns;
}

static void busy_node_sheds_after_streak(void)
{
	struct an_bal_node nd[2] = { 0 };

	/* 2 nodes x 2 CPUs: node 0 wants 3 CPUs, node 1 uses 0.5. */
	set(&nd[0], 2, 3 * W);
	set(&nd[1], 2, W / 2);
	CHECK_INT(run(nd, 2, AN_BAL_STREAK - 1), 0, "a busy node moves nothing before %d windows in a row",
		  AN_BAL_STREAK);
	CHECK_INT(run(nd, 2, 1), W + MARGIN, "then it sheds what brings it back to capacity less the margin");
	CHECK_INT(nd[1].in_ns, 2 * W - MARGIN - W / 2, "the lighter node may take in its room");
	CHECK_INT(nd[1].out_ns, 0, "the lighter node sheds nothing");
}

static void bursty_node_is_busy_before_full(void)
{
	struct an_bal_node nd[2] = { 0 };

	/* 1 CPU per node: 0.9 of a CPU used on average still queues in bursts. */
	set(&nd[0], 1, 9 * W / 10);
	set(&nd[1], 1, W / 10);
	CHECK_INT(run(nd, 2, AN_BAL_STREAK), 9 * W / 10 + MARGIN - W,
		  "a node within the margin of its capacity counts as busy and sheds");
	set(&nd[0], 1, 7 * W / 10);
	CHECK_INT(run(nd, 2, AN_BAL_STREAK), 0, "a node with more than the margin to spare sheds nothing");
}

static void shed_is_capped_by_room(void)
{
	struct an_bal_node nd[4] = { 0 };

	/* 4 nodes x 1 CPU: node 0 wants 3 CPUs, the others use half of theirs. */
	set(&nd[0], 1, 3 * W);
	for (int i = 1; i < 4; i++)
		set(&nd[i], 1, W / 2);
	CHECK_INT(run(nd, 4, AN_BAL_STREAK), 3 * (W - MARGIN - W / 2),
		  "the excess moves only as far as the other nodes' room reaches");
}

static void full_machine_moves_nothing(void)
{
	struct an_bal_node nd[2] = { 0 };

	/* Node 1 is busy too (within the margin of its capacity): no room anywhere. */
	set(&nd[0], 2, 4 * W);
	set(&nd[1], 2, 2 * W - MARGIN / 2);
	CHECK_INT(run(nd, 2, 10), 0, "with no room on any node, no home moves");
	CHECK_INT(nd[0].streak, 0, "and no streak builds up for when room appears");
}

static void streak_restarts_when_overload_pauses(void)
{
	struct an_bal_node nd[2] = { 0 };

	set(&nd[0], 2, 3 * W);
	set(&nd[1], 2, 0);
	run(nd, 2, AN_BAL_STREAK - 1);
	set(&nd[0], 2, W);
	run(nd, 2, 1);
	set(&nd[0], 2, 3 * W);
	CHECK_INT(run(nd, 2, AN_BAL_STREAK - 1), 0,
		  "one window with room restarts the count: a burst does not move homes");
	CHECK(run(nd, 2, 1) > 0, "a streak of full length does");
}

static void moves_narrow_the_gap(void)
{
	struct an_bal_node src = { 0 }, dst = { 0 };

	set(&src, 1, 13 * W / 10);
	set(&dst, 1, 4 * W / 10);
	CHECK(an_bal_worth(&src, &dst, 3 * W / 10), "a loader moves from a node using 1.3 CPUs to one using 0.4");
	set(&src, 1, 7 * W / 10);
	CHECK(!an_bal_worth(&src, &dst, 3 * W / 10),
	      "but not from 0.7 to 0.4: the destination would end up busier (no ping-pong)");
	set(&src, 2, 13 * W / 10);
	CHECK(!an_bal_worth(&src, &dst, 3 * W / 10), "load is compared per CPU: 1.3 on 2 CPUs is lighter than 0.4 on 1");
	set(&src, 1, W / 10);
	CHECK(!an_bal_worth(&src, &dst, 3 * W / 10), "a load larger than its node's demand never moves");
}

int main(void)
{
	busy_node_sheds_after_streak();
	bursty_node_is_busy_before_full();
	shed_is_capped_by_room();
	full_machine_moves_nothing();
	streak_restarts_when_overload_pauses();
	moves_narrow_the_gap();
	return check_done();
}
