/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A call that may block in the kernel for good, waited for with a bound.
 *
 * Closing the scheduler's link waits, uninterruptibly, until sched_ext's
 * disable work has finished; a disable that never finishes would hold the
 * daemon (and a service manager stopping it) forever. The call runs on a
 * thread of its own; the caller waits at most the bound and then goes on
 * without it. A call still blocked at exit keeps the process from being
 * reaped until the kernel lets the thread go, but nothing else waits on it.
 */
#ifndef SCX_AI_NUMA_BOUNDED_H
#define SCX_AI_NUMA_BOUNDED_H

/*
 * Run fn(arg) on a new thread and wait up to @timeout_ms for it. Returns 0
 * when it returned in time, -ETIMEDOUT when it had not (it goes on running,
 * and @arg must stay valid for it), or -errno when no thread could be
 * started (fn was not called).
 */
int run_bounded(void (*fn)(void *), void *arg, unsigned int timeout_ms);

#endif
