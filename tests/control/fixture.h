/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A daemon without a kernel: a made-up topology, default tunables and,
 * optionally, a fake scheduler (fake-sched.c) whose counters grow on every
 * read and which records the tunables applied to it. Shared by the control
 * tests, the fuzz target and the fake daemon the CLI tests talk to.
 */
#ifndef SCX_AI_NUMA_TEST_FIXTURE_H
#define SCX_AI_NUMA_TEST_FIXTURE_H

#include <stdbool.h>
#include "daemon.h"

/* What the fake scheduler saw. */
#define FAKE_MAX_PROC_RUN	64

struct fake_sched_log {
	unsigned int applied;		/* sched_apply_tunables calls */
	struct an_tunables last;	/* tunables of the last call */
	unsigned int reads;		/* sched_read_counters calls */
	bool fail_reads;		/* make sched_read_counters fail with -EIO */
	unsigned int homes_set;		/* placement map entries written ... */
	unsigned int homes_cleared;	/* ... and deleted */
	uint32_t nr_tgid_homes, nr_cgroup_homes;	/* the last counts set */
	uint32_t proc_run[FAKE_MAX_PROC_RUN];	/* processes whose run time is kept, the last sync */
	size_t nr_proc_run;
};

/*
 * @nr_nodes nodes with @cpus_per_node CPUs each (the last node memory-only
 * when @memory_only_node), node ids spaced by 2 so code that confuses ids
 * with indices shows. @with_sched attaches the fake scheduler.
 */
void fixture_init(struct daemon *d, int nr_nodes, int cpus_per_node, bool memory_only_node,
		  bool with_sched);
struct fake_sched_log *fake_sched_log(void);
/* The fake scheduler's handle (fake-sched.c); resets its log. */
struct sched *fake_sched_handle(void);

#endif
