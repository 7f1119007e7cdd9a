/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Processes whose CPUs are confined to one NUMA node: by taskset, numactl
 * --cpunodebind, a cpuset, or a launcher binding each rank. The node they
 * can run on is their home as surely as a pin is, so their memory should
 * be there too (see migrate.h).
 *
 * A pass over all processes is cut into bounded steps, like the GPU scan:
 * one directory stream of /proc, kept open between steps. A process's
 * affinity is one sched_getaffinity(2) of its main thread: no file to parse
 * for the many processes that may run anywhere. Kernel threads (often bound
 * to one CPU) and zombies are left out. The same walk can list the big
 * processes too (one small statm read each), so /proc is walked once.
 *
 * Files are read only for what changed: a process's verdict (user process
 * or not, big or not, its start time) is kept from pass to pass and its
 * files read again only when it is new, when its affinity changed, or
 * when the verdict is due for another look: the next pass, then twice as
 * many passes later each time it holds, up to AFF_RECHECK_MAX passes. At
 * steady state a pass costs the directory read and one system call per
 * process; a process that grows big is found within AFF_RECHECK_MAX
 * passes (a new one, usually at its second pass), a reused pid is told
 * apart by the mover's own start-time check meanwhile (migrate.h).
 */
#ifndef SCX_AI_NUMA_AFFINITY_H
#define SCX_AI_NUMA_AFFINITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "intf.h"

struct aff_hit {
	pid_t pid;
	uint64_t start_time;	/* to tell a reused pid */
	int node;		/* kernel node id of every CPU it may use */
};

/* The CPUs @pid may run on, into @mask of @nr_cpus bytes (1: allowed). Returns 0 or -errno. */
typedef int (*aff_get_fn)(pid_t pid, uint8_t *mask, int nr_cpus);

struct affscan;

/* A verdict holds for at most this many passes before its files are read again. */
#define AFF_RECHECK_MAX	12

/* What the scanner did, in all passes: for stats and tests. */
struct affscan_counts {
	uint64_t passes;	/* completed */
	uint64_t procs;		/* processes looked at */
	uint64_t reads;		/* their /proc files read (statm, stat) */
	uint64_t reused;	/* verdicts kept from an earlier pass without a read */
};

/*
 * The one node every CPU @pid may run on belongs to (@cpu_node[cpu]: its
 * kernel node, -1 for none), or -1: several, none, or unknown. @get NULL
 * means sched_getaffinity(2).
 */
int aff_confined_node(aff_get_fn get, pid_t pid, const int *cpu_node, int nr_cpus);

/*
 * A scanner of ROOT/proc ("" for the live system); @get NULL means
 * sched_getaffinity(2). Returns 0 or -errno.
 */
int affscan_new(const char *root, aff_get_fn get, struct affscan **out);
void affscan_free(struct affscan *a);

/*
 * Look at up to @max processes of the current pass (starting one if none is
 * in progress), with @cpu_node[cpu] the kernel node of each CPU (-1: none).
 * Returns 1 when the step completed a pass (affscan_hits() then returns its
 * result until the next one completes), 0 when the pass goes on, -errno
 * when /proc cannot be read.
 */
int affscan_step(struct affscan *a, const int *cpu_node, int nr_cpus, unsigned int max);

/* Is a pass in progress? */
bool affscan_busy(const struct affscan *a);

/* Processes of the last completed pass confined to one node, in pid order. */
size_t affscan_hits(const struct affscan *a, const struct aff_hit **out);

/*
 * The same walk also finds the big processes that may run anywhere (node
 * -1): those with at least @pages resident pages (0, the default: none),
 * whose home may follow their memory (memfollow.c). In pid order.
 */
void affscan_set_big(struct affscan *a, uint64_t pages);
size_t affscan_big(const struct affscan *a, const struct aff_hit **out);

const struct affscan_counts *affscan_counts(const struct affscan *a);

#endif
