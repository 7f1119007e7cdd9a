// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
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
		.placement = d->placement,
	};
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
	log_info("tunable %s: %s -> %s", t->name, old, new);
	return 0;
}

/*
 * CPUs going offline and online are handled inside the scheduler, without a
 * re-attach, so the daemon's view of which CPUs are online would go stale:
 * re-read it whenever someone is about to look. Only the online state is
 * taken over; a change of membership (a CPU or node never seen) makes the
 * scheduler ask for a restart, and the re-attach reads the topology anew.
 */
void daemon_refresh_topology(struct daemon *d)
{
	static uint8_t online[AN_MAX_CPUS];
	struct topology *t = &d->topo;
	char path[4096], buf[4096];
	int fd, nr_online = 0;
	ssize_t n;

	/*
	 * One small read, and no full topology read: during hotplug the node
	 * files can be caught mid-update, and CPUs do not change node.
	 */
	/* Only a topology that attach() read from sysfs has anything to refresh. */
	if (!d->topo_from_sysfs)
		return;
	snprintf(path, sizeof(path), "%s/sys/devices/system/cpu/online", d->opt.sysfs_root);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	memset(online, 0, sizeof(online));
	if (parse_cpulist(buf, online, AN_MAX_CPUS) < 0 || !memcmp(online, t->cpu_online, sizeof(online)))
		return;
	/* A CPU in no node is a membership change: the scheduler asks for a restart. */
	for (int c = 0; c < AN_MAX_CPUS; c++)
		if (online[c] && (c >= t->nr_cpus || t->cpu_node[c] < 0))
			return;
	memcpy(t->cpu_online, online, sizeof(online));
	for (int i = 0; i < t->nr_nodes; i++)
		t->nodes[i].nr_online = 0;
	for (int c = 0; c < t->nr_cpus && c < AN_MAX_CPUS; c++) {
		if (!online[c])
			continue;
		nr_online++;
		for (int i = 0; i < t->nr_nodes; i++)
			if (t->nodes[i].id == t->cpu_node[c])
				t->nodes[i].nr_online++;
	}
	if (nr_online != t->nr_online)
		log_info("topology: online CPUs %d -> %d", t->nr_online, nr_online);
	t->nr_online = nr_online;
}
