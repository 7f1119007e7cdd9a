// SPDX-License-Identifier: GPL-2.0
/*
 * Last-level caches and the shapes of real machines. Each fixture is a sysfs
 * tree written down from the vendor's published layout of one machine: how
 * Linux numbers its CPUs, which node each is in, the SLIT, and the CPUs each
 * L3 is shared by (cpuN/cache/index3/shared_cpu_list). The tests read the
 * tree back through topology_read() and check the LLCs and the BPF view.
 */
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "fixture.h"
#include "topology.h"

static char root[PATH_MAX];
static struct topology topo, topo2;
static struct an_topo bpf;
static char err[512];

__attribute__((format(printf, 2, 3)))
static void put(const char *rel, const char *fmt, ...)
{
	char text[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(text))
		check_bail("fixture text too long for %s", rel);
	fixture_put(root, rel, text, (size_t)n);
}

/* One node of a fixture: kernel id, cpulist, SLIT row, MemTotal in kB. */
struct fx_node {
	int id;
	const char *cpus;
	const char *dist;
	unsigned long long mem_kb;
};

/*
 * A fixture machine: possible/online CPUs, its nodes, and each L3 as the
 * cpulist every member CPU's shared_cpu_list file shows.
 */
struct fx {
	const char *name;
	const char *possible, *online;
	const struct fx_node *nodes;
	int nr_nodes;
	const char *const *l3;
	int nr_l3;
};

static void fx_tree(const struct fx *m)
{
	char online[256] = "", rel[160];
	uint8_t mask[AN_MAX_CPUS];

	snprintf(root, sizeof(root), "%s/scx-ai-numa-llc-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(root))
		check_bail("mkdtemp %s: %s", root, strerror(errno));
	for (int i = 0; i < m->nr_nodes; i++) {
		size_t len = strlen(online);
		const struct fx_node *n = &m->nodes[i];

		snprintf(online + len, sizeof(online) - len, "%s%d", i ? "," : "", n->id);
		snprintf(rel, sizeof(rel), "sys/devices/system/node/node%d/cpulist", n->id);
		put(rel, "%s\n", n->cpus);
		snprintf(rel, sizeof(rel), "sys/devices/system/node/node%d/distance", n->id);
		put(rel, "%s\n", n->dist);
		snprintf(rel, sizeof(rel), "sys/devices/system/node/node%d/meminfo", n->id);
		put(rel, "Node %d MemTotal:       %llu kB\n", n->id, n->mem_kb);
	}
	put("sys/devices/system/node/online", "%s\n", online);
	put("sys/devices/system/cpu/possible", "%s\n", m->possible);
	put("sys/devices/system/cpu/online", "%s\n", m->online);
	for (int k = 0; k < m->nr_l3; k++) {
		if (parse_cpulist(m->l3[k], mask, AN_MAX_CPUS) <= 0)
			check_bail("%s: bad L3 list %s", m->name, m->l3[k]);
		for (int c = 0; c < AN_MAX_CPUS; c++) {
			if (!mask[c])
				continue;
			snprintf(rel, sizeof(rel), "sys/devices/system/cpu/cpu%d/cache/index3/shared_cpu_list", c);
			put(rel, "%s\n", m->l3[k]);
		}
	}
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void fx_free(void)
{
	nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int fx_read(const struct fx *m, struct topology *t)
{
	int ret;

	fx_tree(m);
	err[0] = '\0';
	ret = topology_read(root, t, err, sizeof(err));
	if (!ret)
		ret = topology_to_bpf(t, &bpf, err, sizeof(err));
	return ret;
}

/*
 * Every LLC lies in one node, and cpu_llc and llcs[] agree on it; uncapped,
 * each CPU's cache is its LLC, named by the LLC's first CPU.
 */
static bool llcs_consistent(const struct topology *t)
{
	int count[AN_MAX_LLCS] = { 0 };

	if (!t->llc_capped && t->nr_caches != t->nr_llcs)
		return false;
	for (int c = 0; c < t->nr_cpus; c++) {
		int k = t->cpu_llc[c];

		if (t->cpu_node[c] < 0)
			continue;
		if (k < 0 || k >= t->nr_llcs || t->llcs[k].node != t->cpu_node[c])
			return false;
		if (!t->llc_capped && t->cpu_cache[c] != t->llcs[k].first_cpu)
			return false;
		count[k]++;
	}
	for (int k = 0; k < t->nr_llcs; k++)
		if (count[k] != t->llcs[k].nr_cpus || t->cpu_llc[t->llcs[k].first_cpu] != k)
			return false;
	return true;
}

/* The BPF view's LLCs mirror the topology's, node by node. */
static bool bpf_llcs_match(const struct topology *t, const struct an_topo *b)
{
	u32 seen = 0;

	if (b->nr_llcs != (u32)t->nr_llcs)
		return false;
	for (int c = 0; c < t->nr_cpus; c++)
		if (t->cpu_node[c] >= 0 &&
		    (b->cpu_llc[c] != (u32)t->cpu_llc[c] || b->llc_node[b->cpu_llc[c]] != b->cpu_node[c]))
			return false;
	for (u32 d = 0; d < b->nr_nodes; d++) {
		for (u32 j = 0; j < b->node_nr_llcs[d]; j++)
			if (b->llc_node[b->node_llcs[d][j]] != d)
				return false;
		seen += b->node_nr_llcs[d];
	}
	return seen == b->nr_llcs;
}

/*
 * Intel Xeon Platinum 8480+ (Sapphire Rapids, 56 cores, 112 threads per
 * socket), two sockets, sub-NUMA clustering in two (SNC2): four nodes of 28
 * cores. Linux numbers the first threads of socket 0 then socket 1, then
 * their SMT siblings. CPUID reports the 105 MB L3 as shared by the whole
 * socket, so sysfs lists the socket in shared_cpu_list; under SNC the
 * addresses of a node map to its own L3 slices, which is why the LLC is cut
 * to the node. SLIT: 10 local, 12 to the other cluster of the socket, 21
 * across the UPI links.
 */
static const struct fx_node spr_nodes[] = {
	{ 0, "0-27,112-139", "10 12 21 21", 128ULL << 20 },
	{ 1, "28-55,140-167", "12 10 21 21", 128ULL << 20 },
	{ 2, "56-83,168-195", "21 21 10 12", 128ULL << 20 },
	{ 3, "84-111,196-223", "21 21 12 10", 128ULL << 20 },
};
static const char *const spr_l3[] = { "0-55,112-167", "56-111,168-223" };
static const struct fx spr = { "SPR 2S SNC2", "0-223", "0-223", spr_nodes, 4, spr_l3, 2 };

static void test_spr_snc2(void)
{
	int ret = fx_read(&spr, &topo);

	CHECK_INT(ret, 0, "SPR SNC2: reads and converts (%s)", err);
	CHECK_INT(topo.nr_llcs, 4, "SPR SNC2: the socket-wide L3 becomes one LLC per sub-NUMA node");
	CHECK(llcs_consistent(&topo), "SPR SNC2: every LLC lies in its node, counts agree");
	CHECK(topo.cpu_llc[0] == topo.cpu_llc[139] && topo.cpu_llc[0] != topo.cpu_llc[28] &&
	      topo.cpu_llc[28] == topo.cpu_llc[167], "SPR SNC2: an SMT pair shares its node's LLC, the next cluster does not");
	CHECK(topo.llcs[2].node == 2 && topo.llcs[2].nr_cpus == 56 && topo.llcs[2].first_cpu == 56,
	      "SPR SNC2: LLC 2 is node 2's 56 CPUs, named by CPU 56");
	CHECK(bpf.nr_nodes == 4 && bpf_llcs_match(&topo, &bpf), "SPR SNC2: BPF view has the same 4 LLCs");
	CHECK(bpf.node_order[0][1] == 1 && bpf.node_order[2][1] == 3,
	      "SPR SNC2: the other cluster of the socket is the nearest node");
	fx_free();
}

/*
 * AMD EPYC 9654 (Genoa, 96 cores in 12 CCDs of 8 cores, 32 MB L3 per CCD),
 * two sockets in NPS1: one node per socket holding twelve L3s. Socket 0 has
 * CPUs 0-95 and their siblings 192-287, socket 1 96-191 and 288-383; CCD k
 * of a socket is its cores 8k..8k+7 with their siblings. SLIT 10/32.
 */
static char genoa_l3_text[24][32];
static const char *genoa_l3[24];
static const struct fx_node genoa_nodes[] = {
	{ 0, "0-95,192-287", "10 32", 384ULL << 20 },
	{ 1, "96-191,288-383", "32 10", 384ULL << 20 },
};
static struct fx genoa = { "Genoa 2S NPS1", "0-383", "0-383", genoa_nodes, 2, genoa_l3, 24 };

static void test_genoa_nps1(void)
{
	bool ok = true;
	int ret;

	for (int k = 0; k < 24; k++) {
		int c = 8 * k;

		snprintf(genoa_l3_text[k], sizeof(genoa_l3_text[k]), "%d-%d,%d-%d", c, c + 7, 192 + c, 192 + c + 7);
		genoa_l3[k] = genoa_l3_text[k];
	}
	ret = fx_read(&genoa, &topo);
	CHECK_INT(ret, 0, "Genoa NPS1: reads and converts (%s)", err);
	CHECK_INT(topo.nr_llcs, 24, "Genoa NPS1: 12 L3s per node, 24 LLCs");
	CHECK(llcs_consistent(&topo), "Genoa NPS1: every LLC lies in its node, counts agree");
	for (int k = 0; k < 24; k++)
		ok = ok && topo.llcs[k].node == k / 12 && topo.llcs[k].nr_cpus == 16 && topo.llcs[k].first_cpu == 8 * k;
	CHECK(ok, "Genoa NPS1: LLC k is CCD k: 16 CPUs from CPU 8k, in node k/12");
	CHECK(topo.cpu_llc[7] == topo.cpu_llc[199] && topo.cpu_llc[7] != topo.cpu_llc[8],
	      "Genoa NPS1: CPU 7 shares an LLC with its sibling 199, not with CPU 8 of the next CCD");
	CHECK(bpf.node_nr_llcs[0] == 12 && bpf.node_nr_llcs[1] == 12 && bpf_llcs_match(&topo, &bpf),
	      "Genoa NPS1: BPF view lists 12 LLCs per node");
	fx_free();
}

/*
 * NVIDIA GH200 Grace Hopper superchip: node 0 is the Grace CPU (72 Neoverse
 * V2 cores, one 114 MB L3, 480 GB LPDDR5X); the Hopper GPU's 96 GB HBM3 is
 * node 1, memory only; nodes 2-8 are the further memory-only nodes the
 * driver reserves for MIG partitions, empty until used. SLIT: 10 local, 80
 * between the CPU and the GPU nodes and among the GPU nodes.
 */
static const struct fx_node gh_nodes[] = {
	{ 0, "0-71", "10 80 80 80 80 80 80 80 80", 480ULL << 20 },
	{ 1, "", "80 10 80 80 80 80 80 80 80", 96ULL << 20 },
	{ 2, "", "80 80 10 80 80 80 80 80 80", 0 },
	{ 3, "", "80 80 80 10 80 80 80 80 80", 0 },
	{ 4, "", "80 80 80 80 10 80 80 80 80", 0 },
	{ 5, "", "80 80 80 80 80 10 80 80 80", 0 },
	{ 6, "", "80 80 80 80 80 80 10 80 80", 0 },
	{ 7, "", "80 80 80 80 80 80 80 10 80", 0 },
	{ 8, "", "80 80 80 80 80 80 80 80 10", 0 },
};
static const char *const gh_l3[] = { "0-71" };
static const struct fx gh200 = { "GH200", "0-71", "0-71", gh_nodes, 9, gh_l3, 1 };

static void test_gh200(void)
{
	bool ok = true;
	int ret = fx_read(&gh200, &topo);

	CHECK_INT(ret, 0, "GH200: reads and converts (%s)", err);
	CHECK(topo.nr_nodes == 9 && topology_nr_cpu_nodes(&topo) == 1, "GH200: 9 nodes, one with CPUs");
	CHECK(topo.nr_llcs == 1 && topo.llcs[0].node == 0 && topo.llcs[0].nr_cpus == 72,
	      "GH200: one LLC of 72 CPUs in node 0; memory-only nodes have none");
	CHECK(topo.nodes[1].mem_kb == 96ULL << 20 && topo.nodes[1].nr_cpus == 0, "GH200: node 1 is HBM, no CPUs");
	CHECK(topo.distance[0][1] == 80 && topo.distance[1][2] == 80, "GH200: CPU-GPU and GPU-GPU distance 80");
	CHECK(bpf.nr_nodes == 1 && bpf.nr_llcs == 1 && bpf.node_nr_llcs[0] == 1, "GH200: BPF view has 1 node, 1 LLC");
	for (int id = 1; id <= 8; id++)
		ok = ok && bpf.node_of_id[id] == 0 && topology_cpu_home(&topo, id) == 0;
	CHECK(ok, "GH200: every GPU memory node maps to node 0, the nearest with CPUs");
	CHECK(topology_cpu_home(&topo, 0) == 0 && topology_cpu_home(&topo, 9) == -1,
	      "GH200: a CPU node is its own home; an unknown node has none");
	fx_free();
}

/*
 * Two memory-only nodes between two CPU nodes with sparse ids (as CXL
 * expanders show up): each must be homed at its own nearest CPU node.
 */
static const struct fx_node cxl_nodes[] = {
	{ 0, "0-3", "10 21 14 24", 1ULL << 20 },
	{ 2, "4-7", "21 10 24 14", 1ULL << 20 },
	{ 5, "", "14 24 10 26", 1ULL << 20 },
	{ 9, "", "24 14 26 10", 1ULL << 20 },
};
static const char *const cxl_l3[] = { "0-1", "2-3", "4-5", "6-7" };
static const struct fx cxl = { "sparse + CXL", "0-7", "0-7", cxl_nodes, 4, cxl_l3, 4 };

static void test_sparse_memonly(void)
{
	int ret = fx_read(&cxl, &topo);

	CHECK_INT(ret, 0, "sparse ids + memory-only: reads and converts (%s)", err);
	CHECK(topology_cpu_home(&topo, 5) == 0 && topology_cpu_home(&topo, 9) == 2,
	      "sparse ids + memory-only: node 5 homes at 0, node 9 at 2 (each its nearest)");
	CHECK(topology_cpu_home(&topo, 2) == 2 && topology_cpu_home(&topo, 1) == -1,
	      "sparse ids + memory-only: CPU node 2 is its own home; id 1 is no node");
	CHECK(topo.nr_llcs == 4 && topo.llcs[2].node == 2 && topo.llcs[3].first_cpu == 6 && bpf_llcs_match(&topo, &bpf),
	      "sparse ids + memory-only: 2 LLCs in node 0, 2 in node 2");
	CHECK(bpf.node_llcs[1][0] == 2 && bpf.node_llcs[1][1] == 3, "sparse ids + memory-only: dense node 1 owns LLCs 2, 3");
	fx_free();
}

/*
 * Offline at start: x86 removes an offline CPU's cache directory, so
 * nothing says which L3 it is behind. CPU 3 joins node 0's smaller LLC;
 * node 1, all offline, gets one LLC for all its CPUs.
 */
static const struct fx_node off_nodes[] = {
	{ 0, "0-5", "10 20", 1ULL << 20 },
	{ 1, "6-8", "20 10", 1ULL << 20 },
};
static const char *const off_l3[] = { "0-2", "4-5" };
static const struct fx offline = { "offline", "0-8", "0-2,4-5", off_nodes, 2, off_l3, 2 };

static void test_offline(void)
{
	int ret = fx_read(&offline, &topo);

	CHECK_INT(ret, 0, "offline CPUs: reads and converts (%s)", err);
	CHECK_INT(topo.nr_llcs, 3, "offline CPUs: node 0 keeps its two LLCs, node 1 gets one");
	CHECK(llcs_consistent(&topo), "offline CPUs: every LLC lies in its node, counts agree");
	CHECK(topo.cpu_llc[3] == topo.cpu_llc[4] && topo.cpu_llc[3] != topo.cpu_llc[0],
	      "offline CPUs: CPU 3 joins the LLC with fewer CPUs (4-5)");
	CHECK(topo.llcs[2].node == 1 && topo.llcs[2].nr_cpus == 3 && topo.cpu_llc[6] == 2 && topo.cpu_llc[8] == 2,
	      "offline CPUs: node 1, all offline, is one LLC of CPUs 6-8");
	CHECK(bpf.node_nr_online[1] == 0 && bpf.node_nr_llcs[1] == 1, "offline CPUs: BPF node 1 has no CPU online, one LLC");
	fx_free();
}

/* No L3 in sysfs (some Arm parts, some VMs): one LLC per node, as before. */
static void test_no_l3(void)
{
	static const struct fx_node n[] = { { 0, "0-1", "10 20", 1 }, { 1, "2-3", "20 10", 1 } };
	static const struct fx m = { "no L3", "0-3", "0-3", n, 2, NULL, 0 };
	int ret = fx_read(&m, &topo);

	CHECK_INT(ret, 0, "no L3: reads and converts (%s)", err);
	CHECK(topo.nr_llcs == 2 && topo.cpu_llc[1] == 0 && topo.cpu_llc[2] == 1 && !topo.llc_capped,
	      "no L3: one LLC per node");
	CHECK(bpf.nr_llcs == 2 && bpf.cpu_llc[3] == 1 && bpf.llc_node[1] == 1, "no L3: BPF LLC k is node k");
	/* A hand-made topology without LLCs converts the same way. */
	topo.nr_llcs = 0;
	ret = topology_to_bpf(&topo, &bpf, err, sizeof(err));
	CHECK(ret == 0 && bpf.nr_llcs == 2 && bpf.cpu_llc[3] == 1 && bpf.node_llcs[1][0] == 1,
	      "no LLCs at all: the BPF view gets one per node");
	fx_free();
}

/*
 * More L3s in a node than the BPF view holds: one LLC per node instead of
 * a refusal. A malformed shared_cpu_list is a hint ignored, not an error.
 */
static void test_caps_and_junk(void)
{
	static const struct fx_node n[] = { { 0, "0-17", "10", 1 } };
	static const char *const l3[] = { "0", "1", "2", "3", "4", "5", "6", "7", "8",
					  "9", "10", "11", "12", "13", "14", "15", "16", "17" };
	struct fx m = { "caps", "0-17", "0-17", n, 1, l3, 18 };
	int ret = fx_read(&m, &topo);

	CHECK_INT(ret, 0, "18 L3s in a node: reads and converts (%s)", err);
	CHECK(topo.llc_capped && topo.nr_llcs == 1 && topo.llcs[0].nr_cpus == 18 && llcs_consistent(&topo),
	      "18 L3s in a node (cap %d): one LLC for the node, marked capped", AN_MAX_NODE_LLCS);
	CHECK(bpf.nr_llcs == 1 && bpf.nr_caches == 18 && bpf.cpu_cache[0] != bpf.cpu_cache[1] &&
	      bpf.cpu_cache[17] == 17,
	      "18 L3s in a node: one queue, but the BPF view keeps 18 caches (CPU 17's named 17)");
	put("sys/devices/system/cpu/cpu1/cache/index3/shared_cpu_list", "1-x\n");
	ret = topology_read(root, &topo2, err, sizeof(err));
	CHECK(ret == 0 && topo2.nr_cpus == 18, "a malformed shared_cpu_list does not fail the read (%s)", err);
	fx_free();

	m.nr_l3 = 16;
	ret = fx_read(&m, &topo);
	CHECK(ret == 0 && !topo.llc_capped && topo.nr_llcs == 16 && topo.cpu_llc[16] == 0 && topo.cpu_llc[17] == 1,
	      "16 L3s in a node fit; CPUs 16, 17 without one join the smallest in turn (%s)", err);
	fx_free();
}

/*
 * Per-node queues (--node-queues drops the LLCs) at 2 nodes x 2 L3s, as the
 * VM shape 2 x (2x2): the BPF view has one queue per node, and still each
 * CPU's own L3, so runs that change L3 are counted in both modes.
 */
static void test_node_queues_keep_caches(void)
{
	bool same = true;
	int ret = fx_read(&cxl, &topo);

	CHECK(ret == 0 && bpf.nr_llcs == 4 && bpf.nr_caches == 4, "node queues: per-LLC view has 4 LLCs, 4 caches (%s)", err);
	for (int c = 0; c < 8; c++)
		same = same && bpf.cpu_cache[c] == (u32)(c & ~1);
	CHECK(same, "per-LLC queues: each CPU's cache is its L3, named by its first CPU (0, 2, 4, 6)");
	topology_drop_llcs(&topo);
	ret = topology_to_bpf(&topo, &bpf, err, sizeof(err));
	CHECK(ret == 0 && bpf.nr_llcs == 2 && bpf.node_nr_llcs[0] == 1 && bpf.cpu_llc[3] == 0 && bpf.cpu_llc[4] == 1,
	      "node queues: LLCs dropped, one queue per node (%s)", err);
	same = true;
	for (int c = 0; c < 8; c++)
		same = same && bpf.cpu_cache[c] == (u32)(c & ~1);
	CHECK(bpf.nr_caches == 4 && same, "node queues: the BPF view still has the 4 L3s from the full read");
	/* A topology that never read caches lends its LLCs. */
	topo.nr_caches = 0;
	ret = topology_to_bpf(&topo, &bpf, err, sizeof(err));
	CHECK(ret == 0 && bpf.nr_caches == 2 && bpf.cpu_cache[1] == 0 && bpf.cpu_cache[6] == 1,
	      "no caches read: each CPU's cache is its LLC (%s)", err);
	/* A cache named by a CPU of another node is refused. */
	topo.nr_caches = 4;
	topo.cpu_cache[1] = 4;
	CHECK_INT(topology_to_bpf(&topo, &bpf, err, sizeof(err)), -EINVAL, "a cache in another node is refused");
	fx_free();
}

/* A different cache layout is a different machine to the re-attach check. */
static void test_equal_llcs(void)
{
	static const char *const one[] = { "0-3", "4-7" };
	struct fx m = cxl;
	int ret;

	ret = fx_read(&m, &topo);
	fx_free();
	m.l3 = one;
	m.nr_l3 = 2;
	ret |= fx_read(&m, &topo2);
	fx_free();
	CHECK(ret == 0 && topo.nr_llcs == 4 && topo2.nr_llcs == 2 && !topology_equal(&topo, &topo2),
	      "same nodes, other L3s: topology_equal says they differ");
	topo2 = topo;
	CHECK(topology_equal(&topo, &topo2), "an identical copy is equal");
	topo2.cpu_cache[1] = 2;
	CHECK(!topology_equal(&topo, &topo2), "same LLCs, another cache for one CPU: they differ");
}

int main(void)
{
	test_spr_snc2();
	test_genoa_nps1();
	test_gh200();
	test_sparse_memonly();
	test_offline();
	test_no_l3();
	test_caps_and_junk();
	test_node_queues_keep_caches();
	test_equal_llcs();
	return check_done();
}
