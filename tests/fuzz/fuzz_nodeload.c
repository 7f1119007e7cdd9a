// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target for the node load count (daemon/nodeload.c): the input is
 * three files, FUZZ_SEP-separated: /proc/stat at a first and a second
 * sample, and /proc/42/stat (a process's CPU time). The topology is fixed:
 * 4 nodes of 2 CPUs, node 3 with one online.
 *
 * Whatever the files say, a node is never more than its CPUs busy and
 * never less than idle, room is known only after two good samples and
 * never offered beyond a node's online CPUs, an unreadable sample makes
 * the load unknown again, and a process's CPU use is never negative.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "fuzz-util.h"
#include "nodeload.h"
#include "topology.h"

static struct topology topo;

static void topo_init(void)
{
	if (topo.nr_nodes)
		return;
	topo.nr_nodes = 4;
	topo.nr_cpus = topo.nr_online = 8;
	for (int c = 0; c < 8; c++) {
		topo.cpu_node[c] = c / 2;
		topo.cpu_online[c] = c != 7;
	}
	for (int n = 0; n < 4; n++)
		topo.nodes[n] = (struct topo_node){ .id = n, .nr_cpus = 2, .nr_online = n == 3 ? 1 : 2 };
	topo.nr_online = 7;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *root = fuzz_tree_reset();
	static struct nodeload nl;
	struct fuzz_part parts[3];
	size_t nr = fuzz_split(data, size, parts, 3);
	uint64_t ticks;
	double use;
	int r1, r2;

	topo_init();
	memset(&nl, 0, sizeof(nl));
	if (nr > 0)
		fuzz_tree_put("proc/stat", parts[0].p, parts[0].len);
	r1 = nodeload_sample(&nl, root, &topo);
	if (r1 == 0 && nl.known)
		fuzz_broken(data, size, "the load is known after one sample");
	if (nr > 1)
		fuzz_tree_put("proc/stat", parts[1].p, parts[1].len);
	r2 = nodeload_sample(&nl, root, &topo);
	if ((r1 || r2) && nl.known)
		fuzz_broken(data, size, "the load is known after an unreadable sample (%d, %d)", r1, r2);
	if (r1 && r1 != -ENOENT)
		fuzz_broken(data, size, "nodeload_sample returned %d", r1);
	for (int n = 0; n < AN_MAX_NODE_ID; n++) {
		double cpus = n < 4 ? 2.0 : 0.0;

		if (!nl.known)
			break;
		if (!(nl.busy[n] >= 0.0) || nl.busy[n] > cpus + 1e-9)
			fuzz_broken(data, size, "node %d busy %f of its %.0f CPUs", n, nl.busy[n], cpus);
		/* A node never has room for more than its online CPUs, margin or not. */
		if (n < 4 && nodeload_room(&nl, &topo, n, topo.nodes[n].nr_online + 0.01))
			fuzz_broken(data, size, "node %d offers room for more than its online CPUs", n);
	}
	if (nodeload_room(&nl, &topo, -1, 0) || nodeload_room(&nl, &topo, AN_MAX_NODE_ID, 0) ||
	    nodeload_room(&nl, &topo, 5, 0))
		fuzz_broken(data, size, "room on a node that does not exist");
	if (nr > 2)
		fuzz_tree_put("proc/42/stat", parts[2].p, parts[2].len);
	ticks = nodeload_proc_ticks(root, 42);
	use = nodeload_share(ticks, 1000000000ULL);
	if (!(use >= 0.0) || isinf(use))
		fuzz_broken(data, size, "CPU use %f from %llu ticks", use, (unsigned long long)ticks);
	return 0;
}
