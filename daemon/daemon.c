// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"
#include "memfollow.h"
#include "placement.h"
#include "sched.h"

const char *sched_state_str(enum sched_state s)
{
	switch (s) {
	case ST_STARTING: return "starting";
	case ST_RUNNING: return "running";
	case ST_BACKOFF: return "backoff";
	case ST_STOPPING: return "stopping";
	}
	return "unknown";
}

void daemon_view(const struct daemon *d, struct daemon_view *out)
{
	*out = (struct daemon_view){
		.state = d->state,
		.started_ns = d->started_ns,
		.attached_ns = d->attached_ns,
		.attach_count = d->attach_count,
		.restarts = d->restarts,
		.errors = d->errors,
		.idle_per_node = d->idle_per_node,
		.last_exit = &d->last_exit,
		.topo = &d->topo,
		.tun = &d->tun,
		.ctl_group = d->opt.ctl_group,
		.loop = d->loop,
		.socket_path = d->opt.socket_path,
		.stats_socket = d->opt.stats_socket,
		.placement = d->placement,
		.memfollow = d->memfollow,
	};
}

int daemon_stats(struct daemon *d, struct stats *out)
{
	return stats_read(&d->stats, d->sched, &d->topo, out);
}

static int cmp_tgid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The processes whose run time the scheduler keeps: the placed ones memory
 * follows (pinned, in a pinned cgroup, with a GPU or memory home), not
 * those merely confined by their affinity, whose home is where they run.
 */
static bool placed_job(const struct mig_proc *p)
{
	return p->src != MIG_AFFINITY && p->pid > 0;
}

static void proc_run_sync(struct daemon *d)
{
	static bool logged;
	const struct mig_proc *mp;
	size_t n = memfollow_procs(d->memfollow, &mp), nt = 0;
	uint32_t *tgids;
	int ret;

	if (!d->sched)
		return;
	tgids = calloc(n ? n : 1, sizeof(*tgids));
	if (!tgids)
		return;
	for (size_t i = 0; i < n; i++)
		if (placed_job(&mp[i]))
			tgids[nt++] = (uint32_t)mp[i].pid;
	qsort(tgids, nt, sizeof(*tgids), cmp_tgid);
	ret = sched_proc_run_sync(d->sched, tgids, nt);
	if (ret < 0 && !logged)
		log_warn("stats: process run time map: %s", strerror(-ret));
	logged = ret < 0;
	free(tgids);
}

void daemon_stats_tick(struct daemon *d)
{
	stats_tick(&d->stats, d->sched, &d->topo);
	proc_run_sync(d);
}

int daemon_proc_run(const struct daemon *d, const struct mig_proc *p, struct an_proc_run *out)
{
	/* Not asked of the scheduler at all: most processes memory follows are affinity homes. */
	if (!d->sched || !placed_job(p))
		return -ENOENT;
	return sched_proc_run_read(d->sched, (uint32_t)p->pid, out);
}

void daemon_stats_reset(struct daemon *d)
{
	stats_reset(&d->stats);
}

int daemon_set_tunable(struct daemon *d, const struct tunable *t, uint64_t v, char *err, size_t errlen)
{
	char old[32], new[32];
	int ret;

	ret = tunable_check(t, v, err, errlen);
	if (ret)
		return ret;
	tunable_format(t, tunable_get(&d->tun, t), old, sizeof(old));
	tunable_store(&d->tun, t, v);
	tunable_format(t, v, new, sizeof(new));
	/* d->tun is what every later attach starts from, so the change survives restarts. */
	if (d->sched)
		sched_apply_tunables(d->sched, &d->tun);
	/* The daemon's own knobs take effect here; the BPF program ignores them. */
	placement_set_scope(d->placement, (enum gpu_scope)d->tun.gpu_scope);
	log_info("tunable %s: %s -> %s", t->name, old, new);
	return 0;
}
