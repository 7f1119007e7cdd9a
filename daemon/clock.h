/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SCX_AI_NUMA_CLOCK_H
#define SCX_AI_NUMA_CLOCK_H

#include <stdint.h>
#include <time.h>

/* @c in nanoseconds: CLOCK_MONOTONIC for deadlines, the CPU-time clocks for costs. */
static inline uint64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline uint64_t mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

#endif
