// SPDX-License-Identifier: GPL-2.0
/*
 * The wake-group rule (bpf/wakegroup.h), run on the host: who moves when
 * threads keep waking each other across nodes, for the layouts wakebench
 * and the AI pipeline produce.
 */
#include <stdbool.h>

#include "check.h"
#include "intf.h"
#include "wakegroup.h"

#define WIN	100000000ULL	/* the balancer's window, 100 ms */
#define MIN	32

/* A free task of @load ns per window on a 2-CPU node of @demand ns demand. */
static struct an_wg_side side(unsigned long long load, unsigned long long demand)
{
	unsigned long long cap = 2 * WIN, margin = WIN / 4;

	return (struct an_wg_side){
		.load_ns = load, .demand_ns = demand, .cpus = 2, .movable = true,
		.room_ns = demand + margin < cap ? cap - margin - demand : 0,
	};
}

/* A worker woken by a message thread whose home is the other node. */
static void streak_needed(void)
{
	struct an_wg_side wakee = side(WIN / 20, WIN / 2), waker = side(WIN / 20, WIN / 2);

	CHECK_INT(an_wg_decide(MIN - 1, MIN, &wakee, &waker), AN_WG_NONE, "below group_wakes nobody moves");
	CHECK_INT(an_wg_decide(MIN, 0, &wakee, &waker), AN_WG_NONE, "group_wakes 0: never");
	CHECK_INT(an_wg_decide(MIN, MIN, &wakee, &waker), AN_WG_WAKEE,
		  "equal nodes: the sleeping wakee joins its waker");
}

/*
 * wakebench's slow case: both message threads and three workers on node 0,
 * one worker on node 1. Sending that worker to its waker would put all six
 * threads on node 0; the waker goes to the lighter node 1 instead.
 */
static void lighter_node_wins(void)
{
	struct an_wg_side wakee = side(WIN / 20, WIN / 10), waker = side(WIN / 20, WIN);

	CHECK_INT(an_wg_decide(MIN, MIN, &wakee, &waker), AN_WG_WAKER,
		  "the waker on the heavier node joins the wakee on the lighter one");
	waker = side(WIN / 20, WIN / 10);
	wakee = side(WIN / 20, WIN);
	CHECK_INT(an_wg_decide(MIN, MIN, &wakee, &waker), AN_WG_WAKEE,
		  "the wakee on the heavier node joins the waker on the lighter one");
}

/* The one that should move cannot: the other moves if the heavier node has room. */
static void fallback(void)
{
	struct an_wg_side wakee = side(WIN / 20, WIN / 10), waker = side(WIN / 20, WIN);

	waker.movable = false;	/* just moved, or pinned, or a GPU home */
	CHECK_INT(an_wg_decide(MIN, MIN, &wakee, &waker), AN_WG_WAKEE,
		  "a held waker: the wakee joins it on the heavier node, which has room");
	waker = side(WIN / 20, 2 * WIN);	/* no room */
	waker.movable = false;
	CHECK_INT(an_wg_decide(MIN, MIN, &wakee, &waker), AN_WG_NONE,
		  "nobody moves onto a node without room");
	wakee.movable = false;
	waker = side(WIN / 20, WIN / 10);
	CHECK_INT(an_wg_decide(MIN, MIN, &wakee, &waker), AN_WG_WAKER,
		  "a wakee with a home from outside stays; the waker joins it");
	waker.movable = false;
	CHECK_INT(an_wg_decide(MIN, MIN, &wakee, &waker), AN_WG_NONE, "neither may move: nothing happens");
}

/* Room is measured against the mover's own load. */
static void room_covers_load(void)
{
	struct an_wg_side wakee = side(WIN / 2, WIN / 10), waker = side(WIN / 20, WIN / 10);

	waker.room_ns = WIN / 4;
	CHECK_INT(an_wg_decide(MIN, MIN, &wakee, &waker), AN_WG_WAKER,
		  "a wakee busier than the room left stays; the waker, which fits, moves");
	waker.movable = false;
	CHECK_INT(an_wg_decide(MIN, MIN, &wakee, &waker), AN_WG_NONE, "and if it may not, nobody does");
	wakee = side(0, WIN / 10);
	waker = side(0, WIN / 10);
	waker.room_ns = 0;
	wakee.room_ns = 0;
	CHECK_INT(an_wg_decide(MIN, MIN, &wakee, &waker), AN_WG_NONE,
		  "a task with no run time yet still needs some room");
}

/* Per CPU: a 4-CPU node with twice the demand of a 2-CPU node is as loaded. */
static void per_cpu(void)
{
	struct an_wg_side wakee = side(WIN / 20, WIN / 2), waker = side(WIN / 20, WIN);

	waker.cpus = 4;
	waker.room_ns = 3 * WIN;
	CHECK_INT(an_wg_decide(MIN, MIN, &wakee, &waker), AN_WG_WAKEE,
		  "equal demand per CPU counts as a tie: the wakee moves");
	waker.demand_ns = WIN + 1;
	CHECK_INT(an_wg_decide(MIN, MIN, &wakee, &waker), AN_WG_WAKER, "a little more per CPU: the waker moves");
	waker.cpus = 0;
	CHECK_INT(an_wg_decide(MIN, MIN, &wakee, &waker), AN_WG_NONE, "a node without online CPUs: nothing");
}

int main(void)
{
	streak_needed();
	lighter_node_wins();
	fallback();
	room_covers_load();
	per_cpu();
	return check_done();
}
