/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How busy each node's CPUs are, from /proc/stat, and how much CPU a
 * process uses, from /proc/PID/stat: what "home follows memory" asks
 * before it sends a process to the node holding its memory, so that it
 * never piles the processes whose memory one thread touched first onto
 * that one node (measured at 8 nodes x 1 CPU, ai_firsttouch: every loader
 * sent to node 0's one CPU halved the pipeline's throughput).
 *
 * A node has room for a process when its busy CPU time over the last
 * interval, what was granted to it since (moves not yet seen in the
 * figures), and the process's own CPU use stay a quarter CPU below its
 * online CPUs, the node balancer's margin (bpf/balance.h). While the load
 * is unknown (/proc/stat unreadable, or a single sample so far) every node
 * has room: the rule is then the one without this check.
 */
#ifndef SCX_AI_NUMA_NODELOAD_H
#define SCX_AI_NUMA_NODELOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "intf.h"

struct topology;

struct nodeload {
	uint64_t cpu_busy[AN_MAX_CPUS], cpu_all[AN_MAX_CPUS];	/* ticks at the last sample */
	double busy[AN_MAX_NODE_ID];	/* CPUs' worth busy over the last interval, by kernel node id */
	double granted[AN_MAX_NODE_ID];	/* CPUs' worth sent there since */
	bool have;			/* a sample to compare the next with */
	bool known;			/* two in a row: busy[] says something */
};

/*
 * Read ROOT/proc/stat ("" for the live system) and turn the ticks since
 * the last call into busy[]; granted[] starts again from nothing. Returns
 * 0 or -errno (the load then unknown).
 */
int nodeload_sample(struct nodeload *nl, const char *root, const struct topology *t);

/* Does node @id have room for @cpus (CPUs' worth) more? */
bool nodeload_room(const struct nodeload *nl, const struct topology *t, int id, double cpus);

/* @cpus (CPUs' worth) was sent to node @id: count it until the next sample. */
void nodeload_grant(struct nodeload *nl, int id, double cpus);

/* A process's CPU time so far (user + system), in clock ticks; 0 if unreadable. */
uint64_t nodeload_proc_ticks(const char *root, pid_t pid);

/* CPUs' worth used by @ticks of CPU time over @ns of wall time. */
double nodeload_share(uint64_t ticks, uint64_t ns);

#endif
