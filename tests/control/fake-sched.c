// SPDX-License-Identifier: GPL-2.0
/*
 * The three sched.h calls daemon.c and stats.c make, without BPF. Counters
 * grow on every read so rates move; applied tunables are recorded so tests
 * can see that a set reached "the scheduler".
 */
#include <errno.h>
#include <string.h>

#include "fixture.h"
#include "sched.h"

struct sched {
	int unused;
};

static struct sched the_sched;
static struct fake_sched_log log_;


struct sched *fake_sched_handle(void)
{
	memset(&log_, 0, sizeof(log_));
	return &the_sched;
}

struct fake_sched_log *fake_sched_log(void)
{
	return &log_;
}

void sched_apply_tunables(struct sched *s, const struct an_tunables *tun)
{
	(void)s;
	log_.applied++;
	log_.last = *tun;
}

int sched_read_counters(const struct sched *s, struct an_node_stats *out, uint32_t nr_nodes)
{
	(void)s;
	if (log_.fail_reads)
		return -EIO;
	log_.reads++;
	for (uint32_t n = 0; n < nr_nodes; n++) {
		for (int i = 0; i < AN_NR_STATS; i++)
			out[n].cnt[i] = (uint64_t)log_.reads * 1000 * (n + 1) + (uint64_t)i;
		/* Run time mostly at home (locality about 0.8), so home and away cannot be mistaken for each other. */
		out[n].cnt[AN_STAT_AWAY_RUN_NS] /= 4;
		/* Latency-critical wakeups: a few in each bucket but the last, most in bucket 3 (4..8us). */
		for (int b = 0; b < AN_WAIT_BUCKETS - 1; b++)
			out[n].lat_wake_hist[b] = b == 3 ? 100 * (n + 1) : (uint64_t)b % 2;
	}
	return 0;
}

void sched_read_queued(const struct sched *s, uint32_t *out, uint32_t nr_nodes)
{
	(void)s;
	for (uint32_t n = 0; n < nr_nodes; n++)
		out[n] = 3 * (n + 1);
}

/* Placement maps: recorded so tests can see what reached "the scheduler". */
int sched_set_tgid_home(struct sched *s, uint32_t tgid, uint32_t dense_node, bool pinned)
{
	(void)s;
	(void)tgid;
	(void)dense_node;
	(void)pinned;
	log_.homes_set++;
	return 0;
}

int sched_clear_tgid_home(struct sched *s, uint32_t tgid)
{
	(void)s;
	(void)tgid;
	log_.homes_cleared++;
	return 0;
}

int sched_set_cgroup_home(struct sched *s, uint64_t cgroup_id, uint32_t dense_node)
{
	(void)s;
	(void)cgroup_id;
	(void)dense_node;
	log_.homes_set++;
	return 0;
}

int sched_clear_cgroup_home(struct sched *s, uint64_t cgroup_id)
{
	(void)s;
	(void)cgroup_id;
	log_.homes_cleared++;
	return 0;
}

void sched_set_home_counts(struct sched *s, uint32_t nr_tgid, uint32_t nr_cgroup)
{
	(void)s;
	log_.nr_tgid_homes = nr_tgid;
	log_.nr_cgroup_homes = nr_cgroup;
}

/* Kept processes: what the last sync asked for; each ran 3/4 of its time at home. */
int sched_proc_run_sync(struct sched *s, const uint32_t *tgids, size_t n)
{
	(void)s;
	log_.nr_proc_run = n < FAKE_MAX_PROC_RUN ? n : FAKE_MAX_PROC_RUN;
	memcpy(log_.proc_run, tgids, log_.nr_proc_run * sizeof(*tgids));
	return (int)log_.nr_proc_run;
}

int sched_proc_run_read(const struct sched *s, uint32_t tgid, struct an_proc_run *out)
{
	(void)s;
	for (size_t i = 0; i < log_.nr_proc_run; i++) {
		if (log_.proc_run[i] != tgid)
			continue;
		out->home_ns = 3000000ULL * tgid;
		out->away_ns = 1000000ULL * tgid;
		return 0;
	}
	return -ENOENT;
}
