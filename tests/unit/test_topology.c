// SPDX-License-Identifier: GPL-2.0
/*
 * Topology tests. Each one builds a fake sysfs tree under a fresh temporary
 * directory, shaped the way the kernel lays it out, reads it back through
 * topology_read() and checks what came out.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "fixture.h"
#include "topology.h"

/* ---- fake sysfs -------------------------------------------------------- */

static char root[PATH_MAX];

static void fk_new(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(root, sizeof(root), "%s/scx-ai-numa-topo-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(root))
		check_bail("mkdtemp %s: %s", root, strerror(errno));
}

static void fk_path(char *buf, size_t len, const char *rel)
{
	if ((size_t)snprintf(buf, len, "%s/%s", root, rel) >= len)
		check_bail("path too long: %s/%s", root, rel);
}

static void fk_unlink(const char *rel)
{
	char path[PATH_MAX];

	fk_path(path, sizeof(path), rel);
	if (unlink(path) < 0)
		check_bail("unlink %s: %s", path, strerror(errno));
}

/* nodeN/cpuM -> ../../cpu/cpuM, as sysfs has it. */
static void fk_cpu_link(int node, int cpu)
{
	char rel[128], target[64];

	snprintf(rel, sizeof(rel), "sys/devices/system/cpu/cpu%d", cpu);
	fixture_mkdir(root, rel);
	snprintf(rel, sizeof(rel), "sys/devices/system/node/node%d/cpu%d", node, cpu);
	snprintf(target, sizeof(target), "../../cpu/cpu%d", cpu);
	fixture_link(root, rel, target);
}

static void fk_cpu_unlink(int node, int cpu)
{
	char rel[128];

	snprintf(rel, sizeof(rel), "sys/devices/system/node/node%d/cpu%d", node, cpu);
	fk_unlink(rel);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) < 0)
		check_bail("remove %s: %s", path, strerror(errno));
	return 0;
}

static void fk_free(void)
{
	if (nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
		check_bail("nftw %s: %s", root, strerror(errno));
	root[0] = '\0';
}

/* "lo-hi", "lo" or "" the way the kernel prints a contiguous range. */
static const char *range(char *buf, size_t len, int lo, int hi)
{
	if (hi < lo)
		snprintf(buf, len, "%s", "");
	else if (hi == lo)
		snprintf(buf, len, "%d", lo);
	else
		snprintf(buf, len, "%d-%d", lo, hi);
	return buf;
}

/* SLIT-like: 10 local, 10 more per hop along a line of nodes. */
static int line_dist(int i, int j)
{
	return 10 + 10 * abs(i - j);
}

struct machine {
	int nr_nodes;
	int ids[AN_MAX_NODE_ID];
	int cpus[AN_MAX_NODE_ID];	/* per node; CPU ids follow node order */
	int (*dist)(int i, int j);	/* by index in ids[] */
};

static uint64_t mem_of(int id)
{
	return (uint64_t)(id + 1) * 1048576;
}

/* Lay out a whole machine: every CPU possible and online. */
static void fk_machine(const struct machine *m)
{
	char online[512] = "", rel[128], r[32];
	int cpu = 0;

	for (int i = 0; i < m->nr_nodes; i++) {
		size_t len = strlen(online);

		snprintf(online + len, sizeof(online) - len, "%s%d", i ? "," : "", m->ids[i]);
	}
	fixture_printf(root, "sys/devices/system/node/online", "%s\n", online);
	for (int i = 0; i < m->nr_nodes; i++) {
		int id = m->ids[i];
		char row[512] = "";

		snprintf(rel, sizeof(rel), "sys/devices/system/node/node%d", id);
		fixture_mkdir(root, rel);
		for (int c = cpu; c < cpu + m->cpus[i]; c++)
			fk_cpu_link(id, c);
		snprintf(rel, sizeof(rel), "sys/devices/system/node/node%d/cpulist", id);
		fixture_printf(root, rel, "%s\n", range(r, sizeof(r), cpu, cpu + m->cpus[i] - 1));
		cpu += m->cpus[i];
		for (int j = 0; j < m->nr_nodes; j++) {
			size_t len = strlen(row);

			snprintf(row + len, sizeof(row) - len, "%s%d", j ? " " : "", m->dist(i, j));
		}
		snprintf(rel, sizeof(rel), "sys/devices/system/node/node%d/distance", id);
		fixture_printf(root, rel, "%s\n", row);
		snprintf(rel, sizeof(rel), "sys/devices/system/node/node%d/meminfo", id);
		fixture_printf(root, rel, "Node %d MemTotal:       %llu kB\nNode %d MemFree:        %llu kB\n",
			 id, (unsigned long long)mem_of(id), id, (unsigned long long)mem_of(id) / 2);
	}
	fixture_printf(root, "sys/devices/system/cpu/possible", "%s\n", range(r, sizeof(r), 0, cpu - 1));
	fixture_printf(root, "sys/devices/system/cpu/online", "%s\n", range(r, sizeof(r), 0, cpu - 1));
}

static void uniform(struct machine *m, int nodes, int cpus)
{
	memset(m, 0, sizeof(*m));
	m->nr_nodes = nodes;
	m->dist = line_dist;
	for (int i = 0; i < nodes; i++) {
		m->ids[i] = i;
		m->cpus[i] = cpus;
	}
}

/* ---- helpers over results ---------------------------------------------- */

static struct topology topo, topo2;
static struct an_topo bpf;
static char err[512];

static int read_tree(struct topology *t)
{
	err[0] = '\0';
	return topology_read(root, t, err, sizeof(err));
}

/*
 * The properties node_order must have, checked without sharing the code
 * under test: self first, a permutation of the dense nodes, distance never
 * decreasing, equal distances in dense order.
 */
static bool order_ok(const struct topology *t, const struct an_topo *b, int d)
{
	bool seen[AN_MAX_NODES] = { false };
	int from = -1, prev_dist = -1;
	u32 prev = 0;

	for (int i = 0; i < t->nr_nodes; i++)
		if (t->nodes[i].id == (int)b->node_id[d])
			from = i;
	if (from < 0 || b->node_order[d][0] != (u32)d)
		return false;
	seen[d] = true;
	for (u32 k = 1; k < b->nr_nodes; k++) {
		u32 e = b->node_order[d][k];
		int to = -1, dist;

		if (e >= b->nr_nodes || seen[e])
			return false;
		seen[e] = true;
		for (int i = 0; i < t->nr_nodes; i++)
			if (t->nodes[i].id == (int)b->node_id[e])
				to = i;
		if (to < 0)
			return false;
		dist = t->distance[from][to];
		if (dist < prev_dist || (dist == prev_dist && e < prev))
			return false;
		prev_dist = dist;
		prev = e;
	}
	return true;
}

/* ---- tests -------------------------------------------------------------- */

static void test_uniform(int nodes, int cpus)
{
	struct machine m;
	bool ok;
	int ret;

	uniform(&m, nodes, cpus);
	fk_new();
	fk_machine(&m);
	ret = read_tree(&topo);
	CHECK_INT(ret, 0, "%d nodes x %d CPUs: read succeeds (%s)", nodes, cpus, err);
	CHECK_INT(topo.nr_nodes, nodes, "%d nodes: node count", nodes);
	CHECK_INT(topo.nr_cpus, nodes * cpus, "%d nodes: nr_cpus is max possible id + 1", nodes);
	CHECK_INT(topo.nr_online, nodes * cpus, "%d nodes: all CPUs online", nodes);

	ok = true;
	for (int i = 0; i < nodes; i++)
		ok = ok && topo.nodes[i].id == i && topo.nodes[i].nr_cpus == cpus &&
		     topo.nodes[i].nr_online == cpus && topo.nodes[i].mem_kb == mem_of(i);
	CHECK(ok, "%d nodes: every node has its id, %d CPUs, all online, and its MemTotal", nodes, cpus);

	ok = true;
	for (int c = 0; c < nodes * cpus; c++)
		ok = ok && topo.cpu_node[c] == c / cpus && topo.cpu_online[c] == 1;
	CHECK(ok, "%d nodes: every CPU maps to its node and is online", nodes);
	CHECK_INT(topo.cpu_node[nodes * cpus], -1, "%d nodes: CPU past nr_cpus has no node", nodes);

	ok = true;
	for (int i = 0; i < nodes; i++)
		for (int j = 0; j < nodes; j++)
			ok = ok && topo.distance[i][j] == line_dist(i, j);
	CHECK(ok, "%d nodes: distance table matches the rows written", nodes);
	CHECK_INT(topology_nr_cpu_nodes(&topo), nodes, "%d nodes: all have CPUs", nodes);

	ret = topology_to_bpf(&topo, &bpf, err, sizeof(err));
	CHECK_INT(ret, 0, "%d nodes: to_bpf succeeds (%s)", nodes, err);
	CHECK_INT(bpf.nr_nodes, nodes, "%d nodes: bpf dense node count", nodes);
	CHECK_INT(bpf.nr_cpus, nodes * cpus, "%d nodes: bpf nr_cpus", nodes);
	ok = true;
	for (int d = 0; d < nodes; d++)
		ok = ok && order_ok(&topo, &bpf, d) && bpf.node_id[d] == (u32)d &&
		     bpf.node_of_id[d] == (u32)d && bpf.node_nr_online[d] == (u32)cpus;
	CHECK(ok, "%d nodes: node_order sorted by distance, self first; ids map 1:1", nodes);
	ok = true;
	for (int c = 0; c < nodes * cpus; c++)
		ok = ok && bpf.cpu_node[c] == (u32)(c / cpus) && bpf.cpu_online[c] == 1;
	CHECK(ok, "%d nodes: bpf cpu_node and cpu_online", nodes);
	CHECK(bpf.node_of_id[nodes] == AN_NO_NODE, "%d nodes: id %d (not online) maps to AN_NO_NODE",
	      nodes, nodes);

	if (nodes == 4) {
		/* On a line 0-1-2-3, node 1 sees 0 and 2 at 20: the tie goes to 0. */
		static const u32 want[4][4] = { { 0, 1, 2, 3 }, { 1, 0, 2, 3 }, { 2, 1, 3, 0 }, { 3, 2, 1, 0 } };

		bool same = true;

		for (int d = 0; d < 4; d++)
			same = same && !memcmp(bpf.node_order[d], want[d], sizeof(want[d]));
		CHECK(same, "4 nodes on a line: node_order is {0123},{1023},{2130},{3210}");
	}
	fk_free();
}

static void test_trailing_slash(void)
{
	struct machine m;
	char slashed[PATH_MAX + 2];
	int ret;

	uniform(&m, 2, 1);
	fk_new();
	fk_machine(&m);
	snprintf(slashed, sizeof(slashed), "%s//", root);
	ret = topology_read(slashed, &topo, err, sizeof(err));
	CHECK(ret == 0 && topo.nr_nodes == 2, "root with trailing slashes reads the same tree (%s)", err);
	fk_free();
}

static void test_sparse(void)
{
	struct machine m;
	int ret;

	memset(&m, 0, sizeof(m));
	m.nr_nodes = 2;
	m.ids[0] = 0;
	m.ids[1] = 2;
	m.cpus[0] = m.cpus[1] = 2;
	m.dist = line_dist;
	fk_new();
	fk_machine(&m);
	ret = read_tree(&topo);
	CHECK_INT(ret, 0, "sparse ids 0,2: read succeeds (%s)", err);
	CHECK(topo.nr_nodes == 2 && topo.nodes[0].id == 0 && topo.nodes[1].id == 2,
	      "sparse ids 0,2: nodes[] holds ids 0 and 2 in order");
	CHECK(topo.cpu_node[2] == 2 && topo.cpu_node[3] == 2 && topo.cpu_node[1] == 0,
	      "sparse ids 0,2: CPUs 2-3 carry kernel node id 2");
	CHECK(topo.distance[0][1] == 20 && topo.distance[1][0] == 20,
	      "sparse ids 0,2: distance stored by index, not by id");
	CHECK(topo.nodes[1].mem_kb == mem_of(2), "sparse ids 0,2: node 2 MemTotal read");
	ret = topology_to_bpf(&topo, &bpf, err, sizeof(err));
	CHECK_INT(ret, 0, "sparse ids 0,2: to_bpf succeeds (%s)", err);
	CHECK(bpf.nr_nodes == 2 && bpf.node_id[0] == 0 && bpf.node_id[1] == 2,
	      "sparse ids 0,2: dense 1 is kernel node 2");
	CHECK(bpf.node_of_id[0] == 0 && bpf.node_of_id[2] == 1 && bpf.node_of_id[1] == AN_NO_NODE,
	      "sparse ids 0,2: node_of_id 0->0, 2->1, 1->none");
	CHECK(bpf.cpu_node[2] == 1 && bpf.cpu_node[3] == 1 && bpf.cpu_node[0] == 0,
	      "sparse ids 0,2: bpf cpu_node is dense");
	fk_free();
}

/* Node 1 of 2 holds memory only. */
static void test_memless_2(void)
{
	struct machine m;
	int ret;

	uniform(&m, 2, 2);
	m.cpus[1] = 0;
	fk_new();
	fk_machine(&m);
	ret = read_tree(&topo);
	CHECK_INT(ret, 0, "CPU-less node (2 nodes): read succeeds (%s)", err);
	CHECK(topo.nr_nodes == 2 && topo.nodes[1].nr_cpus == 0 && topo.nodes[1].mem_kb == mem_of(1),
	      "CPU-less node (2 nodes): node 1 is a real node with memory and no CPUs");
	CHECK_INT(topology_nr_cpu_nodes(&topo), 1, "CPU-less node (2 nodes): one CPU node");
	ret = topology_to_bpf(&topo, &bpf, err, sizeof(err));
	CHECK_INT(ret, 0, "CPU-less node (2 nodes): to_bpf succeeds (%s)", err);
	CHECK(bpf.nr_nodes == 1 && bpf.node_of_id[0] == 0 && bpf.node_of_id[1] == 0,
	      "CPU-less node (2 nodes): memory-only node 1 maps to dense 0");
	CHECK(bpf.node_order[0][0] == 0, "CPU-less node (2 nodes): order of the one node is itself");
	CHECK(topology_dense_node(&topo, 0) == 0 && topology_dense_node(&topo, 1) == 0 &&
	      topology_dense_node(&topo, 2) == AN_NO_NODE && topology_dense_node(&topo, -1) == AN_NO_NODE,
	      "CPU-less node (2 nodes): the read topology keeps the BPF view's node map");
	fk_free();
}

/*
 * Four nodes, node 3 memory-only and closest to node 2; node 1 memory-only
 * and equally far from 0 and 2 (the lower id wins).
 */
static int memless_dist(int i, int j)
{
	static const int d[4][4] = {
		{ 10, 20, 30, 40 },
		{ 25, 10, 25, 40 },
		{ 30, 20, 10, 15 },
		{ 40, 35, 17, 10 },
	};
	return d[i][j];
}

static void test_memless_4(void)
{
	struct machine m;
	int ret;

	uniform(&m, 4, 2);
	m.cpus[1] = 0;
	m.cpus[3] = 0;
	m.dist = memless_dist;
	fk_new();
	fk_machine(&m);
	ret = read_tree(&topo);
	CHECK_INT(ret, 0, "CPU-less nodes (4 nodes): read succeeds (%s)", err);
	CHECK(topo.cpu_node[0] == 0 && topo.cpu_node[2] == 2 && topo.nodes[3].nr_cpus == 0,
	      "CPU-less nodes (4 nodes): CPUs 2-3 are in node 2, node 3 has none");
	ret = topology_to_bpf(&topo, &bpf, err, sizeof(err));
	CHECK_INT(ret, 0, "CPU-less nodes (4 nodes): to_bpf succeeds (%s)", err);
	CHECK(bpf.nr_nodes == 2 && bpf.node_id[0] == 0 && bpf.node_id[1] == 2,
	      "CPU-less nodes (4 nodes): dense nodes are kernel 0 and 2");
	CHECK_INT(bpf.node_of_id[3], 1, "CPU-less nodes (4 nodes): node 3 maps to its nearest, node 2");
	CHECK_INT(bpf.node_of_id[1], 0, "CPU-less nodes (4 nodes): node 1 ties 0 and 2, lower id wins");
	CHECK(bpf.node_order[0][0] == 0 && bpf.node_order[0][1] == 1 &&
	      bpf.node_order[1][0] == 1 && bpf.node_order[1][1] == 0,
	      "CPU-less nodes (4 nodes): node_order covers only CPU nodes");
	CHECK(bpf.node_of_id[4] == AN_NO_NODE, "CPU-less nodes (4 nodes): id 4 is AN_NO_NODE");
	fk_free();
}

static void test_offline(void)
{
	struct machine m;
	int ret;

	uniform(&m, 2, 4);
	fk_new();
	fk_machine(&m);
	/* x86: offline CPU 3 leaves node0/cpulist but keeps node0/cpu3. */
	fixture_printf(root, "sys/devices/system/cpu/online", "0-2,4-7\n");
	fixture_printf(root, "sys/devices/system/node/node0/cpulist", "0-2\n");
	/* CPU 7 is listed in the cpulist but has no link: the union counts it. */
	fk_cpu_unlink(1, 7);
	ret = read_tree(&topo);
	CHECK_INT(ret, 0, "offline CPU: read succeeds (%s)", err);
	CHECK_INT(topo.nr_cpus, 8, "offline CPU: still possible, nr_cpus 8");
	CHECK_INT(topo.nr_online, 7, "offline CPU: 7 online");
	CHECK(topo.cpu_node[3] == 0 && topo.cpu_online[3] == 0,
	      "offline CPU 3 keeps node 0 through its link, marked offline");
	CHECK(topo.nodes[0].nr_cpus == 4 && topo.nodes[0].nr_online == 3,
	      "offline CPU: node 0 has 4 CPUs, 3 online");
	CHECK(topo.cpu_node[7] == 1 && topo.nodes[1].nr_cpus == 4,
	      "CPU only in cpulist (no link) still belongs to its node");
	ret = topology_to_bpf(&topo, &bpf, err, sizeof(err));
	CHECK(ret == 0 && bpf.node_nr_online[0] == 3 && bpf.node_nr_online[1] == 4 &&
	      bpf.cpu_online[3] == 0 && bpf.cpu_node[3] == 0,
	      "offline CPU: bpf node_nr_online 3/4, CPU 3 offline on dense 0");

	/* Without a cpulist file, the links alone decide membership. */
	fk_unlink("sys/devices/system/node/node0/cpulist");
	ret = read_tree(&topo);
	CHECK(ret == 0 && topo.nodes[0].nr_cpus == 4 && topo.cpu_node[0] == 0 && topo.cpu_node[3] == 0,
	      "node without cpulist: CPUs come from its links (%s)", err);

	/* A CPU with no node at all (possible, not present). */
	fixture_printf(root, "sys/devices/system/cpu/possible", "0-8\n");
	ret = read_tree(&topo);
	CHECK(ret == 0 && topo.nr_cpus == 9 && topo.cpu_node[8] == -1 && topo.cpu_online[8] == 0,
	      "possible-only CPU 8: in no node, cpu_node -1 (%s)", err);
	ret = topology_to_bpf(&topo, &bpf, err, sizeof(err));
	CHECK(ret == 0 && bpf.cpu_node[8] == 0 && bpf.nr_cpus == 9,
	      "possible-only CPU 8: bpf gives it dense node 0");
	fk_free();
}

/*
 * In-place hotplug: topology_refresh_online() takes over the online set and
 * recounts each node, and leaves a change of membership (a CPU in no node)
 * to the re-attach that follows it.
 */
static void test_dense_node(void)
{
	struct machine m;
	bool same = true;

	uniform(&m, 4, 1);
	m.ids[0] = 1, m.ids[1] = 3, m.ids[2] = 4, m.ids[3] = 9;
	m.cpus[2] = 0;
	fk_new();
	fk_machine(&m);
	CHECK_INT(read_tree(&topo), 0, "dense map: sparse ids, memory-only node 4 (%s)", err);
	CHECK_INT(topology_to_bpf(&topo, &bpf, err, sizeof(err)), 0, "dense map: to_bpf (%s)", err);
	for (int id = 0; id < AN_MAX_NODE_ID; id++)
		same &= topology_dense_node(&topo, id) == bpf.node_of_id[id];
	CHECK(same, "dense map: every node id looks up as the BPF view maps it");
	CHECK(topology_dense_node(&topo, 9) == 2 && topology_dense_node(&topo, 0) == AN_NO_NODE,
	      "dense map: id 9 is dense 2, id 0 is no node");
	CHECK_INT(topology_refresh_online(root, &topo), 0, "dense map: a refresh with nothing new ...");
	fixture_printf(root, "sys/devices/system/cpu/online", "0\n");
	CHECK(topology_refresh_online(root, &topo) == 1 && topology_dense_node(&topo, 9) == 2,
	      "dense map: ... or with CPUs gone offline keeps the map");
	topo2 = topo;
	topo2.indexed = false;
	CHECK(topology_dense_node(&topo2, 1) == AN_NO_NODE, "dense map: a topology never indexed maps nothing");
	fk_free();
}

static void test_refresh_online(void)
{
	struct topology before;
	struct machine m;

	uniform(&m, 2, 4);
	fk_new();
	fk_machine(&m);
	CHECK_INT(read_tree(&topo), 0, "refresh: read (%s)", err);
	before = topo;
	CHECK_INT(topology_refresh_online(root, &topo), 0, "refresh: nothing changed, nothing to do");
	CHECK(!memcmp(&topo, &before, sizeof(topo)), "refresh: the topology is as read");

	fixture_printf(root, "sys/devices/system/cpu/online", "0-2,4-5\n");
	CHECK_INT(topology_refresh_online(root, &topo), 1, "refresh: CPUs 3, 6 and 7 went offline");
	CHECK(topo.nr_online == 5 && topo.nodes[0].nr_online == 3 && topo.nodes[1].nr_online == 2 &&
	      !topo.cpu_online[3] && topo.cpu_online[4] && !topo.cpu_online[7],
	      "refresh: online set and per-node counts follow sysfs");
	CHECK(topo.nr_cpus == 8 && topo.nodes[0].nr_cpus == 4 && topo.cpu_node[7] == 1,
	      "refresh: membership untouched");
	topo2 = topo;
	fixture_printf(root, "sys/devices/system/cpu/online", "0-8\n");
	CHECK_INT(topology_refresh_online(root, &topo), 0, "refresh: CPU 8 belongs to no node: left to a re-attach");
	CHECK(!memcmp(&topo, &topo2, sizeof(topo)), "refresh: ... and nothing taken over");
	fixture_printf(root, "sys/devices/system/cpu/online", "0-a\n");
	CHECK(topology_refresh_online(root, &topo) < 0 && !memcmp(&topo, &topo2, sizeof(topo)),
	      "refresh: a malformed online file is an error and changes nothing");
	fk_free();
}

static void test_no_numa(void)
{
	int ret;

	fk_new();
	fixture_printf(root, "sys/devices/system/cpu/possible", "0-3\n");
	fixture_printf(root, "sys/devices/system/cpu/online", "0-2\n");
	ret = read_tree(&topo);
	CHECK_INT(ret, 0, "no node dir: read succeeds (%s)", err);
	CHECK(topo.nr_nodes == 1 && topo.nodes[0].id == 0 && topo.nodes[0].nr_cpus == 4 &&
	      topo.nodes[0].nr_online == 3 && topo.distance[0][0] == 10,
	      "no node dir: one node 0 with all 4 possible CPUs (3 online), distance 10");
	CHECK(topo.cpu_node[0] == 0 && topo.cpu_node[3] == 0, "no node dir: every CPU in node 0");
	ret = topology_to_bpf(&topo, &bpf, err, sizeof(err));
	CHECK(ret == 0 && bpf.nr_nodes == 1 && bpf.node_nr_online[0] == 3,
	      "no node dir: bpf view has one node with 3 online");
	fk_free();
}

static void test_defaults(void)
{
	struct machine m;
	int ret;

	uniform(&m, 2, 1);
	fk_new();
	fk_machine(&m);
	fk_unlink("sys/devices/system/node/node1/distance");
	fk_unlink("sys/devices/system/node/node0/meminfo");
	fixture_printf(root, "sys/devices/system/node/node1/meminfo", "Node 1 MemTotal: lots\n");
	ret = read_tree(&topo);
	CHECK_INT(ret, 0, "missing distance and meminfo: read succeeds (%s)", err);
	CHECK(topo.distance[1][0] == 20 && topo.distance[1][1] == 10 && topo.distance[0][1] == 20,
	      "missing distance row: 10 local, 20 remote");
	CHECK(topo.nodes[0].mem_kb == 0 && topo.nodes[1].mem_kb == 0,
	      "missing or garbled meminfo: mem_kb 0");
	fk_free();
}

/* Build a 2-node tree, let @breakit damage it, expect @want and a message. */
static void expect_err(const char *what, void (*breakit)(void), int want, const char *needle)
{
	struct machine m;
	int ret;

	uniform(&m, 2, 2);
	fk_new();
	fk_machine(&m);
	breakit();
	ret = read_tree(&topo);
	CHECK(ret == want, "%s: returns %d (%s), got %d", what, want, strerror(-want), ret);
	CHECK(err[0] && strstr(err, needle), "%s: message names '%s': %s", what, needle, err);
	CHECK(topo.nr_nodes == 0 && topo.nr_cpus == 0, "%s: no half-read topology left behind", what);
	fk_free();
}

static void br_cpu_online(void) { fixture_printf(root, "sys/devices/system/cpu/online", "0-a\n"); }
static void br_node_cpulist(void) { fixture_printf(root, "sys/devices/system/node/node1/cpulist", "3-1\n"); }
static void br_dist_count(void) { fixture_printf(root, "sys/devices/system/node/node0/distance", "10 20 30\n"); }
static void br_dist_short(void) { fixture_printf(root, "sys/devices/system/node/node1/distance", "20\n"); }
static void br_dist_zero(void) { fixture_printf(root, "sys/devices/system/node/node1/distance", "0 10\n"); }
static void br_dist_big(void) { fixture_printf(root, "sys/devices/system/node/node1/distance", "300 10\n"); }
static void br_dist_word(void) { fixture_printf(root, "sys/devices/system/node/node1/distance", "20 ten\n"); }
static void br_node_id(void)
{
	fixture_printf(root, "sys/devices/system/node/online", "0,100\n");
}
static void br_cpu_cap(void) { fixture_printf(root, "sys/devices/system/cpu/possible", "0-2047\n"); }
static void br_no_possible(void) { fk_unlink("sys/devices/system/cpu/possible"); }
static void br_no_node_online(void) { fk_unlink("sys/devices/system/node/online"); }
static void br_node_dir(void) { fixture_printf(root, "sys/devices/system/node/online", "0-2\n"); }
static void br_two_nodes(void) { fixture_printf(root, "sys/devices/system/node/node1/cpulist", "1-3\n"); }
static void br_not_possible(void) { fk_cpu_link(1, 9); }
static void br_online_impossible(void) { fixture_printf(root, "sys/devices/system/cpu/online", "0-4\n"); }
static void br_empty_online(void) { fixture_printf(root, "sys/devices/system/node/online", "\n"); }
static void br_link_cap(void) { fk_cpu_link(0, 5000); }

static void br_huge(void)
{
	char rel[] = "sys/devices/system/cpu/online";
	char path[PATH_MAX];
	FILE *f;

	fk_path(path, sizeof(path), rel);
	f = fopen(path, "w");
	if (!f)
		check_bail("fopen %s: %s", path, strerror(errno));
	for (int i = 0; i < 20000; i++)
		fputs("0,", f);
	fputs("0\n", f);
	fclose(f);
}

static void br_nul(void)
{
	char path[PATH_MAX];
	FILE *f;

	fk_path(path, sizeof(path), "sys/devices/system/cpu/online");
	f = fopen(path, "w");
	if (!f)
		check_bail("fopen %s: %s", path, strerror(errno));
	fwrite("0\0-3\n", 1, 5, f);
	fclose(f);
}

static void test_malformed(void)
{
	expect_err("bad cpu/online", br_cpu_online, -EINVAL, "cpu/online");
	expect_err("reversed range in node cpulist", br_node_cpulist, -EINVAL, "node1/cpulist");
	expect_err("distance row too long", br_dist_count, -EINVAL, "expected 2");
	expect_err("distance row too short", br_dist_short, -EINVAL, "1 distance entry,");
	expect_err("distance 0", br_dist_zero, -EINVAL, "1..255");
	expect_err("distance 300", br_dist_big, -EINVAL, "1..255");
	expect_err("distance word", br_dist_word, -EINVAL, "node1/distance");
	expect_err("node id 100", br_node_id, -E2BIG, "AN_MAX_NODE_ID");
	expect_err("CPU id 2047", br_cpu_cap, -E2BIG, "AN_MAX_CPUS");
	expect_err("no cpu/possible", br_no_possible, -ENOENT, strerror(ENOENT));
	expect_err("node dir without online", br_no_node_online, -ENOENT, "node/online");
	expect_err("online node without dir", br_node_dir, -ENOENT, "node2");
	expect_err("CPU in two nodes", br_two_nodes, -EINVAL, "cpu 1 is in node 0 and node 1");
	expect_err("node CPU not possible", br_not_possible, -EINVAL, "cpu 9");
	expect_err("online CPU not possible", br_online_impossible, -EINVAL, "cpu 4");
	expect_err("no online node", br_empty_online, -EINVAL, "no online node");
	expect_err("cpu link id 5000", br_link_cap, -E2BIG, "cpu5000");
	expect_err("40 KB cpulist", br_huge, -EFBIG, "longer than");
	expect_err("NUL in cpulist", br_nul, -EINVAL, "NUL");
}

/* 17 nodes with one CPU each: readable, but more dispatch queues than BPF has. */
static void test_too_many_cpu_nodes(void)
{
	struct machine m;
	int ret;

	uniform(&m, AN_MAX_NODES + 1, 1);
	fk_new();
	fk_machine(&m);
	ret = read_tree(&topo);
	CHECK_INT(ret, 0, "%d CPU nodes: topology itself reads (%s)", AN_MAX_NODES + 1, err);
	err[0] = '\0';
	ret = topology_to_bpf(&topo, &bpf, err, sizeof(err));
	CHECK_INT(ret, -E2BIG, "%d CPU nodes: to_bpf refuses with E2BIG", AN_MAX_NODES + 1);
	CHECK(strstr(err, "AN_MAX_NODES") != NULL, "%d CPU nodes: message names the cap: %s",
	      AN_MAX_NODES + 1, err);

	/* Exactly at the cap is fine. */
	m.nr_nodes = AN_MAX_NODES;
	fk_free();
	fk_new();
	fk_machine(&m);
	ret = read_tree(&topo);
	ret = ret ?: topology_to_bpf(&topo, &bpf, err, sizeof(err));
	CHECK(ret == 0 && bpf.nr_nodes == AN_MAX_NODES, "%d CPU nodes: accepted (%s)", AN_MAX_NODES, err);
	fk_free();

	memset(&topo, 0, sizeof(topo));
	err[0] = '\0';
	ret = topology_to_bpf(&topo, &bpf, err, sizeof(err));
	CHECK(ret == -EINVAL && err[0], "empty topology: to_bpf refuses with EINVAL: %s", err);
}

static void test_equal(void)
{
	struct machine m;
	int ret;

	uniform(&m, 2, 2);
	fk_new();
	fk_machine(&m);
	ret = read_tree(&topo);
	ret = ret ?: read_tree(&topo2);
	CHECK_INT(ret, 0, "equal: tree reads twice (%s)", err);
	CHECK(topology_equal(&topo, &topo2), "equal: same tree read twice is equal");

	topo2.nodes[1].mem_kb += 4;
	CHECK(topology_equal(&topo, &topo2), "equal: memory size is not part of equality");

	topo2 = topo;
	topo2.distance[0][1] = 21;
	CHECK(!topology_equal(&topo, &topo2), "equal: a changed distance differs");

	topo2 = topo;
	topo2.cpu_node[3] = 0;
	CHECK(!topology_equal(&topo, &topo2), "equal: a CPU in another node differs");

	fixture_printf(root, "sys/devices/system/cpu/online", "0-2\n");
	ret = read_tree(&topo2);
	CHECK(ret == 0 && !topology_equal(&topo, &topo2), "equal: a CPU going offline differs");

	fixture_printf(root, "sys/devices/system/cpu/online", "0-3\n");
	ret = read_tree(&topo2);
	CHECK(ret == 0 && topology_equal(&topo, &topo2), "equal: back online is equal again");
	fk_free();

	uniform(&m, 4, 1);
	fk_new();
	fk_machine(&m);
	ret = read_tree(&topo2);
	CHECK(ret == 0 && !topology_equal(&topo, &topo2), "equal: a different machine differs");
	fk_free();
}

static void test_cpulist(void)
{
	uint8_t mask[16];
	bool ok;

	memset(mask, 0xff, sizeof(mask));
	CHECK_INT(parse_cpulist("", mask, 16), 0, "cpulist '': empty");
	CHECK(!memchr(mask, 1, sizeof(mask)) && !memchr(mask, 0xff, sizeof(mask)),
	      "cpulist '': mask cleared");
	CHECK_INT(parse_cpulist("\n", mask, 16), 0, "cpulist '\\n': empty");
	CHECK(parse_cpulist("0", mask, 16) == 1 && mask[0] == 1 && mask[1] == 0, "cpulist '0': CPU 0 only");
	CHECK_INT(parse_cpulist("0-3,8,10-11\n", mask, 16), 7, "cpulist '0-3,8,10-11': 7 CPUs");
	ok = true;
	for (int i = 0; i < 16; i++)
		ok = ok && mask[i] == (i <= 3 || i == 8 || i == 10 || i == 11);
	CHECK(ok, "cpulist '0-3,8,10-11': exactly those bits");
	CHECK_INT(parse_cpulist("0-3,2", mask, 16), 4, "cpulist '0-3,2': overlap counted once");
	CHECK_INT(parse_cpulist("15", mask, 16), 1, "cpulist '15' with max 16: last id fits");
	CHECK_INT(parse_cpulist("16", mask, 16), -ERANGE, "cpulist '16' with max 16: ERANGE");
	CHECK_INT(parse_cpulist("0-16", mask, 16), -ERANGE, "cpulist '0-16' with max 16: ERANGE");
	CHECK_INT(parse_cpulist("99999999999999999999", mask, 16), -ERANGE,
		  "cpulist with a 20-digit id: ERANGE, not wrapped");
	CHECK(!memchr(mask, 1, sizeof(mask)), "cpulist error: mask left clear");
	static const char *const bad[] = { "3-1", "a", "1,,2", "1,", ",1", "-1", "0-", "1-2-3",
					   " 1", "1 2", "0x1", "1:2", "+1", "0-3:2/4" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_INT(parse_cpulist(bad[i], mask, 16), -EINVAL, "cpulist '%s': EINVAL", bad[i]);
	CHECK_INT(parse_cpulist("", NULL, 0), 0, "cpulist '' with max 0: empty");
	CHECK_INT(parse_cpulist("0", NULL, 0), -ERANGE, "cpulist '0' with max 0: ERANGE");
}

/* The machine running the test: only facts that must hold anywhere. */
static void test_live(void)
{
	long onln;
	int ret;

	if (access("/sys/devices/system/cpu/possible", R_OK) < 0) {
		check_skip("live: no /sys/devices/system/cpu/possible");
		return;
	}
	ret = topology_read("/", &topo, err, sizeof(err));
	if (ret == -E2BIG) {
		check_skip("live: machine beyond the caps");
		return;
	}
	CHECK_INT(ret, 0, "live: read succeeds (%s)", err);
	onln = sysconf(_SC_NPROCESSORS_ONLN);
	CHECK(onln < 1 || topo.nr_online == onln, "live: %d online CPUs, libc says %ld", topo.nr_online, onln);
	CHECK(topo.nr_nodes >= 1 && topo.nr_cpus >= topo.nr_online, "live: at least one node, online <= possible");
	ret = topology_read("", &topo2, err, sizeof(err));
	CHECK(ret == 0 && topology_equal(&topo, &topo2), "live: '' and '/' read the same machine");
	ret = topology_to_bpf(&topo, &bpf, err, sizeof(err));
	CHECK(ret == 0 || ret == -E2BIG, "live: to_bpf succeeds (%s)", ret ? err : "ok");
}

int main(void)
{
	test_cpulist();
	test_uniform(1, 2);
	test_uniform(2, 2);
	test_uniform(4, 2);
	test_uniform(8, 2);
	test_trailing_slash();
	test_sparse();
	test_memless_2();
	test_memless_4();
	test_offline();
	test_refresh_online();
	test_dense_node();
	test_no_numa();
	test_defaults();
	test_malformed();
	test_too_many_cpu_nodes();
	test_equal();
	test_live();
	return check_done();
}
