/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Machine topology as a value: read from a sysfs tree (a root prefix lets
 * tests feed fake trees), its online CPUs refreshed in place, compared on
 * every re-attach, and turned into the BPF program's read-only view, whose
 * node numbering it keeps for lookups.
 */
#ifndef SCX_AI_NUMA_TOPOLOGY_H
#define SCX_AI_NUMA_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "intf.h"

struct topo_node {
	int id;			/* kernel node id (may be sparse) */
	int nr_cpus;		/* CPUs that belong to the node, online or not */
	int nr_online;		/* of those, online now */
	uint64_t mem_kb;	/* MemTotal of the node, 0 if unknown */
};

/* A last-level cache (L3) as the scheduler sees it: its CPUs within one node. */
struct topo_llc {
	int node;		/* kernel node id */
	int nr_cpus;		/* CPUs in it, online or not */
	int first_cpu;		/* its lowest CPU, which names it */
};

struct topology {
	int nr_nodes;				/* online nodes, memory-only included */
	struct topo_node nodes[AN_MAX_NODE_ID];	/* sorted by id */
	int nr_cpus;				/* possible CPU ids are < nr_cpus */
	int nr_online;				/* online CPUs */
	int cpu_node[AN_MAX_CPUS];		/* kernel node id, -1 if none */
	uint8_t cpu_online[AN_MAX_CPUS];
	/* SLIT distance between nodes[i] and nodes[j] (10 = local). */
	uint8_t distance[AN_MAX_NODE_ID][AN_MAX_NODE_ID];
	/*
	 * Last-level caches, sorted by node then first CPU. An LLC is a CPU's
	 * cache/index3/shared_cpu_list cut to its node; a CPU sysfs says
	 * nothing about (offline, or no L3) joins its node's smallest LLC, or
	 * makes one. More LLCs than the BPF caps: one per node (llc_capped).
	 */
	int nr_llcs;
	struct topo_llc llcs[AN_MAX_LLCS];
	int cpu_llc[AN_MAX_CPUS];		/* index into llcs, -1 for a CPU in no node */
	bool llc_capped;			/* the caches were beyond AN_MAX_*LLCS */
	/*
	 * The physical L3 of each CPU, named by its lowest CPU (cut to the node,
	 * as an LLC, with the same fallback for CPUs sysfs says nothing about),
	 * kept when the LLCs above are merged (llc_capped) or dropped
	 * (topology_drop_llcs()): the queues follow the LLCs, the count of
	 * runs that changed cache follows these. nr_caches 0: none read
	 * (a topology made by hand), the LLCs stand for them.
	 */
	int nr_caches;
	int cpu_cache[AN_MAX_CPUS];		/* -1 for a CPU in no node */
	/* Kernel node id -> dense index, as the BPF view numbers nodes; see topology_index(). */
	bool indexed;
	uint32_t dense_of_id[AN_MAX_NODE_ID];
};

/*
 * Read the topology below @root ("" or "/" for the live system; a path to a
 * directory holding sys/devices/system/{node,cpu} for tests). Returns 0 or
 * -errno with a one-line reason in @err.
 */
int topology_read(const char *root, struct topology *t, char *err, size_t errlen);

/*
 * CPUs going offline and online are handled inside the scheduler without a
 * re-attach: take over which CPUs are online from sysfs below @root. Only
 * the online state changes; a CPU in no known node is a change of
 * membership, which the scheduler answers with a restart (and a full
 * read), so it is left alone here. One small read, not a full topology
 * read: during hotplug the node files can be caught mid-update, and CPUs
 * do not change node. Returns 1 if anything changed, 0 if not, or -errno.
 */
int topology_refresh_online(const char *root, struct topology *t);

/* Same CPUs, nodes, online state, distances, LLCs and caches. */
bool topology_equal(const struct topology *a, const struct topology *b);

/*
 * Forget the LLCs: each node becomes one queue, as without cache
 * information. The physical caches (cpu_cache) stay, for the counters.
 */
void topology_drop_llcs(struct topology *t);

/* Number of nodes that have at least one CPU (each gets a dispatch queue). */
int topology_nr_cpu_nodes(const struct topology *t);

/*
 * Fill the BPF view: dense indices for nodes with CPUs, memory-only node ids
 * mapped to their nearest CPU node, per-node steal order by distance, the
 * LLCs of each node (one per node if @t has none), and each CPU's physical
 * cache (its LLC if @t read none).
 * Returns 0 or -E2BIG/-EINVAL with a reason in @err.
 */
int topology_to_bpf(const struct topology *t, struct an_topo *out, char *err, size_t errlen);

/*
 * Compute the node id -> dense index map topology_dense_node() answers from
 * (topology_read() does it; a topology made by hand needs this call). CPUs
 * and nodes, not their online state, decide it, so refreshing the online
 * CPUs keeps it. Returns 0, or topology_to_bpf()'s error, and then every
 * node is AN_NO_NODE.
 */
int topology_index(struct topology *t, char *err, size_t errlen);

/*
 * The dense index of kernel node @id (a memory-only node: its nearest node
 * with CPUs), or AN_NO_NODE when @id is no node the scheduler knows.
 */
uint32_t topology_dense_node(const struct topology *t, int id);

/*
 * The kernel id of the node a task whose memory is on node @id should call
 * home: @id itself if it has CPUs, else its nearest node with CPUs; -1 if
 * @id is no node the scheduler knows.
 */
int topology_cpu_home(const struct topology *t, int id);

/*
 * Parse a kernel cpulist ("0-3,8,10-11") into @mask of @max entries.
 * Returns the number of entries set or -EINVAL / -ERANGE.
 */
int parse_cpulist(const char *s, uint8_t *mask, int max);

#endif
