// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "nodeload.h"
#include "proc.h"
#include "topology.h"

/* The balancer's margin, a quarter CPU: noise never counts as room. */
#define ROOM_MARGIN	0.25

static long ticks_per_s(void)
{
	long hz = sysconf(_SC_CLK_TCK);

	return hz > 0 ? hz : 100;
}

/*
 * One "cpuN user nice system idle iowait irq softirq steal ..." line: busy
 * is everything but idle and iowait. Returns the CPU or -1.
 */
static int parse_cpu_line(char *line, uint64_t *busy, uint64_t *all)
{
	char *p = line + 3, *end;
	long cpu = strtol(p, &end, 10);
	uint64_t v;

	if (end == p || cpu < 0 || cpu >= AN_MAX_CPUS)
		return -1;
	*busy = *all = 0;
	p = end;
	for (int f = 0; f < 8; f++) {
		v = strtoull(p, &end, 10);
		if (end == p)
			break;
		p = end;
		*all += v;
		if (f != 3 && f != 4)
			*busy += v;
	}
	return (int)cpu;
}

int nodeload_sample(struct nodeload *nl, const char *root, const struct topology *t)
{
	char path[PATH_MAX], *buf, *line, *save = NULL;
	double busy[AN_MAX_NODE_ID] = { 0 };
	uint8_t seen[AN_MAX_CPUS] = { 0 };
	/* A line per CPU, under 128 bytes each. */
	size_t cap = (AN_MAX_CPUS + 2) * 128;
	bool had = nl->have;
	int ret;

	snprintf(path, sizeof(path), "%s/proc/stat", root ? root : "");
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	/* The CPU lines come first, the long interrupt counts after: what does not fit is not needed. */
	ret = read_small_file(path, buf, cap, false);
	if (ret) {
		free(buf);
		nl->have = nl->known = false;
		return ret;
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		uint64_t b, a, db, da;
		int cpu, node;

		if (strncmp(line, "cpu", 3) || line[3] < '0' || line[3] > '9')
			continue;
		cpu = parse_cpu_line(line, &b, &a);
		/* Each CPU once: a second line for it would count it twice. */
		if (cpu < 0 || cpu >= t->nr_cpus || seen[cpu])
			continue;
		seen[cpu] = 1;
		node = t->cpu_node[cpu];
		/* A counter that went back (a CPU that came online again) is a fresh start. */
		if (had && node >= 0 && node < AN_MAX_NODE_ID && a > nl->cpu_all[cpu] && b >= nl->cpu_busy[cpu]) {
			db = b - nl->cpu_busy[cpu];
			da = a - nl->cpu_all[cpu];
			/* At most all of its time: the busy fields are part of the whole. */
			busy[node] += db < da ? (double)db / (double)da : 1.0;
		}
		nl->cpu_busy[cpu] = b;
		nl->cpu_all[cpu] = a;
	}
	free(buf);
	memcpy(nl->busy, busy, sizeof(busy));
	memset(nl->granted, 0, sizeof(nl->granted));
	nl->known = had;
	nl->have = true;
	return 0;
}

bool nodeload_room(const struct nodeload *nl, const struct topology *t, int id, double cpus)
{
	if (id < 0 || id >= AN_MAX_NODE_ID)
		return false;
	if (!nl->known)
		return true;
	for (int i = 0; i < t->nr_nodes; i++)
		if (t->nodes[i].id == id)
			return nl->busy[id] + nl->granted[id] + cpus + ROOM_MARGIN <= (double)t->nodes[i].nr_online;
	return false;
}

void nodeload_grant(struct nodeload *nl, int id, double cpus)
{
	if (id >= 0 && id < AN_MAX_NODE_ID)
		nl->granted[id] += cpus;
}

uint64_t nodeload_proc_ticks(const char *root, pid_t pid)
{
	struct proc_stat st;

	return proc_stat_read(root, pid, &st) ? 0 : st.cpu_ticks;
}

double nodeload_share(uint64_t ticks, uint64_t ns)
{
	if (!ns)
		return 0;
	return (double)ticks / (double)ticks_per_s() / ((double)ns / 1e9);
}
