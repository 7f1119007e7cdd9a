// SPDX-License-Identifier: GPL-2.0
/*
 * run_bounded() (daemon/bounded.c), what the daemon's detach runs under: a
 * call that returns is waited for and seen done; a call that blocks past
 * the bound is given up on at the bound, goes on to its end on its own, and
 * nothing leaks either way.
 */
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "../../daemon/bounded.h"
#include "../../daemon/clock.h"
#include "check.h"

static int done_count;

static void quick(void *arg)
{
	*(int *)arg = 42;
	__atomic_add_fetch(&done_count, 1, __ATOMIC_SEQ_CST);
}

/* Stands in for a close() the kernel does not return from for a while. */
static void slow(void *arg)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 800 * 1000000L };

	nanosleep(&ts, NULL);
	__atomic_store_n((int *)arg, 7, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&done_count, 1, __ATOMIC_SEQ_CST);
}

int main(void)
{
	static int slow_arg;
	int v = 0, ret;
	uint64_t t0, ms;

	ret = run_bounded(quick, &v, 5000);
	CHECK_INT(ret, 0, "a call that returns in time: 0");
	CHECK_INT(v, 42, "... and it ran to its end before run_bounded returned");

	t0 = mono_ns();
	ret = run_bounded(slow, &slow_arg, 200);
	ms = (mono_ns() - t0) / 1000000;
	CHECK_INT(ret, -ETIMEDOUT, "a call still blocked at the bound: -ETIMEDOUT");
	CHECK(ms >= 190 && ms < 700, "... returned at the bound, not when the call ended (%llu ms, bound 200)",
	      (unsigned long long)ms);
	CHECK_INT(__atomic_load_n(&slow_arg, __ATOMIC_SEQ_CST), 0, "... while the call was still running");
	for (int i = 0; i < 300 && __atomic_load_n(&done_count, __ATOMIC_SEQ_CST) < 2; i++)
		usleep(10000);
	CHECK_INT(__atomic_load_n(&slow_arg, __ATOMIC_SEQ_CST), 7, "the call given up on still ran to its end");

	/* Many in a row: no descriptor or thread is left behind by either outcome. */
	for (int i = 0; i < 200; i++)
		run_bounded(quick, &v, 5000);
	CHECK_INT(__atomic_load_n(&done_count, __ATOMIC_SEQ_CST), 202, "200 more calls all ran");
	usleep(100000);
	{
		int fd = dup(0);

		CHECK(fd >= 0 && fd < 10, "no descriptor leaked by 202 bounded calls (next free fd %d)", fd);
		if (fd >= 0)
			close(fd);
	}
	return check_done();
}
