// SPDX-License-Identifier: GPL-2.0
/*
 * The hand-off rule (bpf/handoff.h), run on the host: which wakes are
 * queued on the waker's CPU, for the wakers the benchmarks run.
 */
#include <stdbool.h>

#include "check.h"
#include "intf.h"
#include "handoff.h"

/* A waker that earned the habit, at home, making its first wake since it last stopped. */
static struct an_handoff habitual(void)
{
	return (struct an_handoff){ .score = HANDOFF_SCORE_MAX, .nr_woke = 1, .at_home = true };
}

static void loader_hands_launcher(void)
{
	struct an_handoff h = habitual();

	h.wakee_lat = true;
	CHECK(an_handoff_ok(&h), "a loader that sleeps at once hands its launcher to its CPU");
	h.score = HANDOFF_SCORE_MIN - 1;
	CHECK(!an_handoff_ok(&h), "a waker without the habit hands nothing off");
	h = habitual();
	h.at_home = false;
	CHECK(!an_handoff_ok(&h), "never off the wakee's home node");
}

/* wakebench: a message thread wakes two latency-critical workers, then sleeps. */
static void message_thread_hands_one_worker(void)
{
	struct an_handoff h = habitual();

	h.wakee_lat = true;
	CHECK(an_handoff_ok(&h), "the first worker runs on the waker's CPU as it sleeps");
	h.nr_woke = 2;
	h.nr_queued = 1;
	h.handed = 1;
	h.handed_lat = true;
	CHECK(!an_handoff_ok(&h), "the second worker is not queued behind the first: it would wait its whole run");
	h.wakee_lat = false;
	h.handed_lat = false;
	CHECK(!an_handoff_ok(&h), "nor is a second wakee that is not latency-critical");
}

/* A timer wake counted as the loader's own queued a loader first; then it wakes its launcher. */
static void launcher_joins_misattributed_wakee(void)
{
	struct an_handoff h = habitual();

	h.nr_woke = 2;
	h.nr_queued = 1;
	h.handed = 1;
	h.wakee_lat = true;
	CHECK(an_handoff_ok(&h), "a launcher still joins one handed-off wakee that is not latency-critical");
	h.nr_queued = 2;
	CHECK(!an_handoff_ok(&h), "but never more than two deep");
	h.nr_queued = 1;
	h.nr_woke = HANDOFF_MAX_WAKES + 1;
	CHECK(!an_handoff_ok(&h), "nor after more wakes than a loader makes");
}

int main(void)
{
	loader_hands_launcher();
	message_thread_hands_one_worker();
	launcher_joins_misattributed_wakee();
	return check_done();
}
