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

static void overloaded_node_sheds_after_streak(void)
{
	struct an_bal_node nd[2] = { 0 };

	/* 2 nodes x 2 CPUs: node 0 wants 3 CPUs, node 1 uses 0.5. */
	set(&nd[0], 2, 3 * W);
	set(&nd[1], 2, W / 2);
	CHECK_INT(run(nd, 2, AN_BAL_STREAK - 1), 0, "an overloaded node moves nothing before %d windows in a row",
		  AN_BAL_STREAK);
	CHECK_INT(run(nd, 2, 1), W, "then it sheds its excess (1 CPU), which the spare (1.5 CPUs) covers");
	CHECK_INT(nd[1].in_ns, 3 * W / 2, "the lighter node may take in its spare time");
	CHECK_INT(nd[1].out_ns, 0, "the lighter node sheds nothing");
}

static void shed_is_capped_by_spare(void)
{
	struct an_bal_node nd[4] = { 0 };

	/* 4 nodes x 1 CPU: node 0 wants 3 CPUs, the others have 0.3 spare each. */
	set(&nd[0], 1, 3 * W);
	for (int i = 1; i < 4; i++)
		set(&nd[i], 1, 7 * W / 10);
	CHECK_INT(run(nd, 4, AN_BAL_STREAK), 3 * (3 * W / 10), "the excess moves only as far as the spare time reaches");
}

static void full_machine_moves_nothing(void)
{
	struct an_bal_node nd[2] = { 0 };

	/* Node 1 is busy too (within the margin of its capacity): no spare anywhere. */
	set(&nd[0], 2, 4 * W);
	set(&nd[1], 2, 2 * W - MARGIN / 2);
	CHECK_INT(run(nd, 2, 10), 0, "with no spare capacity on any node, no home moves");
	CHECK_INT(nd[0].streak, 0, "and no streak builds up for when spare appears");
}

static void noise_within_margin_moves_nothing(void)
{
	struct an_bal_node nd[2] = { 0 };

	set(&nd[0], 1, W + MARGIN);
	set(&nd[1], 1, 0);
	CHECK_INT(run(nd, 2, 10), 0, "demand within the margin above capacity is noise: nothing moves");
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
		  "one window without overload restarts the count: a burst does not move homes");
	CHECK_INT(run(nd, 2, 1), W, "a streak of full length does");
}

int main(void)
{
	overloaded_node_sheds_after_streak();
	shed_is_capped_by_spare();
	full_machine_moves_nothing();
	noise_within_margin_moves_nothing();
	streak_restarts_when_overload_pauses();
	return check_done();
}
