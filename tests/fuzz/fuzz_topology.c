// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target for the topology reader: the input is a fake sysfs tree, one
 * file per FUZZ_SEP-separated part (a missing part is a missing file):
 *
 *   cpu/possible, cpu/online, node/online, then per node 0..3: cpulist,
 *   meminfo, distance, and the names to create in the node's directory
 *   (blank-separated: "cpu3 cpu5" are the kernel's CPU links).
 *
 * A tree that reads is a topology the BPF view can be made from or is
 * refused with a reason, reads the same a second time, and keeps its
 * counts consistent; one that does not read leaves nothing half-filled.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-util.h"
#include "topology.h"

#define NODES		4
#define PER_NODE	4
#define NR_PARTS	(3 + NODES * PER_NODE)

static const char *const fixed[] = {
	"sys/devices/system/cpu/possible",
	"sys/devices/system/cpu/online",
	"sys/devices/system/node/online",
};
static const char *const per_node[] = { "cpulist", "meminfo", "distance" };

static void build_tree(const struct fuzz_part *parts, size_t nr)
{
	char rel[256];

	for (size_t i = 0; i < 3 && i < nr; i++)
		fuzz_tree_put(fixed[i], parts[i].p, parts[i].len);
	for (int node = 0; node < NODES; node++) {
		size_t base = 3 + (size_t)node * PER_NODE;

		if (base >= nr)
			break;
		snprintf(rel, sizeof(rel), "sys/devices/system/node/node%d", node);
		fuzz_tree_mkdir(rel);
		for (size_t k = 0; k < 3 && base + k < nr; k++) {
			snprintf(rel, sizeof(rel), "sys/devices/system/node/node%d/%s", node, per_node[k]);
			fuzz_tree_put(rel, parts[base + k].p, parts[base + k].len);
		}
		if (base + 3 < nr) {
			snprintf(rel, sizeof(rel), "sys/devices/system/node/node%d", node);
			fuzz_tree_entries(rel, &parts[base + 3], 16);
		}
	}
}

static void check_topology(const struct topology *t, const uint8_t *data, size_t size)
{
	int cpus = 0, online = 0;

	if (t->nr_cpus < 1 || t->nr_cpus > AN_MAX_CPUS || t->nr_online < 1 || t->nr_online > t->nr_cpus)
		fuzz_broken(data, size, "%d CPUs, %d online", t->nr_cpus, t->nr_online);
	if (t->nr_nodes < 1 || t->nr_nodes > AN_MAX_NODE_ID)
		fuzz_broken(data, size, "%d nodes", t->nr_nodes);
	for (int i = 0; i < t->nr_nodes; i++) {
		const struct topo_node *n = &t->nodes[i];

		if (n->id < 0 || n->id >= AN_MAX_NODE_ID || (i && n->id <= t->nodes[i - 1].id))
			fuzz_broken(data, size, "node %d: id %d out of order or range", i, n->id);
		if (n->nr_online < 0 || n->nr_online > n->nr_cpus)
			fuzz_broken(data, size, "node %d: %d of %d CPUs online", n->id, n->nr_online, n->nr_cpus);
		cpus += n->nr_cpus;
		online += n->nr_online;
		if (t->distance[i][i] < 1)
			fuzz_broken(data, size, "node %d: no distance to itself", n->id);
	}
	if (cpus > t->nr_cpus || online > t->nr_online)
		fuzz_broken(data, size, "nodes hold %d CPUs (%d online), the machine %d (%d)", cpus, online,
			    t->nr_cpus, t->nr_online);
	for (int c = 0; c < AN_MAX_CPUS; c++) {
		if (c >= t->nr_cpus && (t->cpu_online[c] || t->cpu_node[c] != -1))
			fuzz_broken(data, size, "cpu %d beyond nr_cpus is set", c);
		if (t->cpu_online[c] > 1)
			fuzz_broken(data, size, "cpu %d online is %u", c, t->cpu_online[c]);
	}
}

static void check_bpf(const struct topology *t, const uint8_t *data, size_t size)
{
	static struct an_topo bt;
	char err[256];

	if (topology_to_bpf(t, &bt, err, sizeof(err)) < 0) {
		if (!err[0] || t->indexed)
			fuzz_broken(data, size, "BPF view refused (indexed %d) with '%s'", t->indexed, err);
		return;
	}
	if (!bt.nr_nodes || bt.nr_nodes > AN_MAX_NODES || bt.nr_cpus != (u32)t->nr_cpus)
		fuzz_broken(data, size, "BPF view: %u nodes, %u CPUs", bt.nr_nodes, bt.nr_cpus);
	for (int id = 0; id < AN_MAX_NODE_ID; id++)
		if (bt.node_of_id[id] != AN_NO_NODE && bt.node_of_id[id] >= bt.nr_nodes)
			fuzz_broken(data, size, "node id %d maps to %u of %u", id, bt.node_of_id[id], bt.nr_nodes);
	for (u32 d = 0; d < bt.nr_nodes; d++) {
		uint64_t seen = 0;

		for (u32 k = 0; k < bt.nr_nodes; k++) {
			if (bt.node_order[d][k] >= bt.nr_nodes || (seen & (1ULL << bt.node_order[d][k])))
				fuzz_broken(data, size, "steal order of %u is no permutation", d);
			seen |= 1ULL << bt.node_order[d][k];
		}
		if (bt.node_order[d][0] != d)
			fuzz_broken(data, size, "node %u does not steal from itself first", d);
	}
	for (int c = 0; c < t->nr_cpus; c++)
		if (bt.cpu_known[c] && bt.cpu_node[c] >= bt.nr_nodes)
			fuzz_broken(data, size, "cpu %d in queue %u of %u", c, bt.cpu_node[c], bt.nr_nodes);
	if (!t->indexed)
		fuzz_broken(data, size, "a topology with a BPF view is not indexed");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct topology t, again, zero;
	struct fuzz_part parts[NR_PARTS];
	const char *root = fuzz_tree_reset();
	size_t nr = fuzz_split(data, size, parts, NR_PARTS);
	char err[512];
	int ret;

	build_tree(parts, nr);
	err[0] = '\0';
	ret = topology_read(root, &t, err, sizeof(err));
	if (ret < 0) {
		if (!err[0] || memcmp(&t, &zero, sizeof(t)))
			fuzz_broken(data, size, "refused (%d) without a reason or half-filled: '%s'", ret, err);
		return 0;
	}
	check_topology(&t, data, size);
	check_bpf(&t, data, size);
	if (topology_read(root, &again, err, sizeof(err)) < 0 || !topology_equal(&t, &again))
		fuzz_broken(data, size, "the same tree reads differently the second time");
	ret = topology_refresh_online(root, &again);
	if (ret != 0 || !topology_equal(&t, &again))
		fuzz_broken(data, size, "refreshing an unchanged tree returned %d or changed it", ret);
	return 0;
}
