/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which processes hold a GPU open: a scan of every process's open files
 * (/proc/PID/fd links) against the GPUs' device nodes. A pass over all
 * processes is cut into bounded steps, so the daemon's event loop never
 * spends long in one, and each step measures its own CPU time.
 */
#ifndef SCX_AI_NUMA_GPUSCAN_H
#define SCX_AI_NUMA_GPUSCAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gpu.h"

struct gpuscan;

/* A process seen holding GPUs open. */
struct scan_hit {
	pid_t pid;		/* the process (thread group) id */
	uint64_t gpus;		/* bit i: holds a device node of GPU i open */
};

/* What one step may do. */
struct scan_budget {
	unsigned int procs;		/* processes per step */
	unsigned int fds;		/* open files per step (checked between processes) */
	unsigned int fds_per_proc;	/* open files looked at per process */
};

struct scan_stats {
	uint64_t passes;		/* completed passes */
	uint64_t cpu_ns;		/* CPU time of every step so far */
	/* The last completed pass: */
	uint64_t last_cpu_ns;		/* its CPU time */
	uint64_t last_wall_ns;		/* from its first step's start to its last step's end */
	uint32_t last_steps;
	uint32_t last_procs;		/* processes looked at */
	uint32_t last_skipped;		/* processes left alone: no GPU the last times they were looked at */
	uint32_t last_fds;		/* open files looked at */
	uint32_t last_truncated;	/* processes with more open files than fds_per_proc */
	uint32_t last_denied;		/* processes whose open files the kernel would not show (EACCES) */
	uint32_t last_hits;		/* processes holding a GPU open */
};

/* A scanner of ROOT/proc ("" for the live system). Returns 0 or -errno. */
int gpuscan_new(const char *root, struct gpuscan **out);
void gpuscan_free(struct gpuscan *sc);

/*
 * One step of the current pass (starting one if none is in progress) over
 * processes against @gpus. Returns 1 when the step completed a pass, whose
 * results gpuscan_hits() then returns until the next pass completes; 0 when
 * the pass goes on; -errno when /proc cannot be read.
 */
int gpuscan_step(struct gpuscan *sc, const struct gpu_list *gpus, const struct scan_budget *b);

/* Drop the pass in progress (the GPUs changed): the next step starts afresh. */
void gpuscan_restart(struct gpuscan *sc);

/* Is a pass in progress? */
int gpuscan_busy(const struct gpuscan *sc);

/* Processes of the last completed pass holding GPUs open, in pid order. */
size_t gpuscan_hits(const struct gpuscan *sc, const struct scan_hit **out);

const struct scan_stats *gpuscan_stats(const struct gpuscan *sc);

#endif
