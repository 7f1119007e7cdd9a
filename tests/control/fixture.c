// SPDX-License-Identifier: GPL-2.0
#include <string.h>
#include <time.h>

#include "fixture.h"
#include "memfollow.h"
#include "placement.h"


static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void fixture_init(struct daemon *d, int nr_nodes, int cpus_per_node, bool memory_only_node,
		  bool with_sched)
{
	struct topology *t = &d->topo;
	int cpu = 0;

	/* Callers reuse one static daemon: free what pins left behind (NULL is fine). */
	memfollow_free(d->memfollow);
	placement_free(d->placement);
	memset(d, 0, sizeof(*d));
	options_defaults(&d->opt);
	t->nr_nodes = nr_nodes;
	for (int i = 0; i < AN_MAX_CPUS; i++)
		t->cpu_node[i] = -1;
	for (int i = 0; i < nr_nodes; i++) {
		struct topo_node *n = &t->nodes[i];
		bool cpuless = memory_only_node && i == nr_nodes - 1;

		n->id = 2 * i;
		n->mem_kb = (uint64_t)(i + 1) * 8 * 1024 * 1024;
		for (int k = 0; !cpuless && k < cpus_per_node; k++, cpu++) {
			t->cpu_node[cpu] = n->id;
			/* The last CPU of each node is offline. */
			t->cpu_online[cpu] = k != cpus_per_node - 1;
			n->nr_cpus++;
			n->nr_online += t->cpu_online[cpu];
		}
		t->nr_online += n->nr_online;
		for (int j = 0; j < nr_nodes; j++)
			t->distance[i][j] = i == j ? 10 : 20 + i + j;
	}
	t->nr_cpus = cpu;
	topology_index(t, NULL, 0);
	tunables_defaults(&d->tun);
	/* No loop: nothing here attaches, which is what starts placement's timer. */
	d->placement = placement_new(&(struct placement_env){ .topo = &d->topo, .sched = &d->sched,
							      .root = d->opt.sysfs_root });
	/* Never ticked here: it looks after no process, and answers for its state. */
	d->memfollow = memfollow_new(&(struct memfollow_env){ .topo = &d->topo, .tun = &d->tun,
							      .placement = &d->placement, .root = d->opt.sysfs_root });
	d->started_ns = now_ns() - 90ULL * 1000000000ULL;
	d->state = with_sched ? ST_RUNNING : ST_STARTING;
	if (with_sched) {
		d->sched = fake_sched_handle();
		d->attached_ns = now_ns() - 30ULL * 1000000000ULL;
		d->attach_count = 1;
	}
}
