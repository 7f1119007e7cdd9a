// SPDX-License-Identifier: GPL-2.0
/* The scheduler's map calls placement links against; the benchmark runs detached and never calls them. */
#include "sched.h"

int sched_set_tgid_home(struct sched *s, uint32_t tgid, uint32_t dense, bool pinned)
{
	(void)s, (void)tgid, (void)dense, (void)pinned;
	return 0;
}

int sched_clear_tgid_home(struct sched *s, uint32_t tgid)
{
	(void)s, (void)tgid;
	return 0;
}

int sched_set_cgroup_home(struct sched *s, uint64_t id, uint32_t dense)
{
	(void)s, (void)id, (void)dense;
	return 0;
}

int sched_clear_cgroup_home(struct sched *s, uint64_t id)
{
	(void)s, (void)id;
	return 0;
}

void sched_set_home_counts(struct sched *s, uint32_t nr_tgid, uint32_t nr_cgroup)
{
	(void)s, (void)nr_tgid, (void)nr_cgroup;
}
