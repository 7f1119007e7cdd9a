/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Whether a wakeup is handed to its waker's CPU (handoff_cpu() in
 * scx_ai_numa.bpf.c says why hand-offs exist and how the habit is learnt).
 * Pure logic, shared by the BPF program and the unit test
 * (tests/unit/test_handoff.c), so the rule is proven on the host.
 *
 * One hand-off per stop of the waker. A hand-off makes the wakee wait for
 * the waker to sleep; a second one waits for that and for the first wakee's
 * whole run as well, while a CPU of the node may sit idle. Measured in the
 * VM (2 nodes x 2 CPUs, wakebench: a message thread wakes two workers and
 * then sleeps): the message thread earns the habit (it does sleep right
 * after its last wake), both workers were queued on its CPU (91 % ran on
 * the waker's CPU, 4285 hand-offs in 3 s against 448 idle-CPU wakes) and
 * ran one after the other: 0.5x the default's requests/s, 3.6x its p99
 * wakeup latency. The one exception is the misattributed wake (a loader's
 * timer wake counted as its own, see "Misattributed wakes" there): a
 * latency-critical wakee (the launcher) may still join one wakee that is
 * not, at the head of the queue, so it runs first as the waker sleeps.
 */
#ifndef SCX_AI_NUMA_HANDOFF_H
#define SCX_AI_NUMA_HANDOFF_H

#define HANDOFF_SCORE_MAX	8
#define HANDOFF_SCORE_MIN	4
#define HANDOFF_MISS_COST	2
#define HANDOFF_MAX_WAKES	2

/* The waker's side of one wake, as select_cpu sees it. */
struct an_handoff {
	u32 score;		/* the waker's hand-off score */
	u32 nr_woke;		/* wakes it made since it last stopped, this one included */
	u32 nr_queued;		/* tasks already in its CPU's local queue */
	u32 handed;		/* wakees it handed off since it last stopped */
	bool handed_lat;	/* ... one of them latency-critical */
	bool at_home;		/* its CPU is on the wakee's home node */
	bool wakee_lat;		/* the wakee is latency-critical */
};

static inline bool an_handoff_ok(const struct an_handoff *h)
{
	if (h->score < HANDOFF_SCORE_MIN || h->nr_woke > HANDOFF_MAX_WAKES)
		return false;
	/* Only at home, and never more than two deep. */
	if (!h->at_home || h->nr_queued > 1)
		return false;
	/* One per stop, save a latency-critical wakee joining one that is not. */
	if (h->handed && (h->handed_lat || !h->wakee_lat))
		return false;
	return true;
}

#endif /* SCX_AI_NUMA_HANDOFF_H */
