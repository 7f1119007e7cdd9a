/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What bench/dsqlock.bpf.c measures of the sched_ext dispatch queues' locks,
 * shared with its loader (bench/dsqlock.c): plain C, no kernel types.
 *
 * Every duration goes into a per-CPU log histogram (struct an_cost of
 * bpf/costprobe.h: 4 buckets per power of two) because under emulation a
 * vCPU the host deschedules inside a section swamps any mean.
 */
#ifndef SCX_AI_NUMA_DSQLOCK_H
#define SCX_AI_NUMA_DSQLOCK_H

#include "costprobe.h"

/*
 * "plain" is _raw_spin_lock (insert into a DSQ, move its head away);
 * "irqsave" is _raw_spin_lock_irqsave (a BPF iterator's step, a DSQ's
 * destruction). A wait runs from the lock function's entry to its return,
 * a hold from that return to the unlock function's entry.
 */
#define DL_KINDS(X) \
	X(WAIT,		"wait",		"plain: entry of _raw_spin_lock to its return") \
	X(HOLD,		"hold",		"plain: return of _raw_spin_lock to entry of _raw_spin_unlock") \
	X(WAIT_IRQ,	"wait_irqsave",	"irqsave: entry of _raw_spin_lock_irqsave to its return") \
	X(HOLD_IRQ,	"hold_irqsave",	"irqsave: its return to entry of _raw_spin_unlock_irqrestore") \
	X(WAIT_SLOW,	"wait_contended", "waits that entered the spinning slow path (either kind)") \
	X(PAIR,		"probe_pair",	"the same entry and return probes around getppid's body: the probe's own cost")

#define DL_ENUM_(id, name, help)	DL_##id,
enum dl_kind {
	DL_KINDS(DL_ENUM_)
	DL_NR_KINDS
};
#undef DL_ENUM_

/* Per lock and CPU: acquisitions seen, and how many of them had to spin. */
struct dl_count {
	unsigned long long acq;
	unsigned long long slow;
};

/* A key no lock has: the getppid yardstick's stand-in lock. */
#define DL_PAIR_KEY	1ULL

/* How many DSQ locks are followed at most. */
#define DL_MAX_LOCKS	1024

#endif
