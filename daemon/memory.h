/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Memory follows the task: the page mover.
 *
 * Under sched_ext the kernel's NUMA balancing does not run for the tasks the
 * BPF scheduler owns (task_tick_numa() is the fair class's), so no page ever
 * migrates on its own. This module does that part of its job for one
 * process at a time: it finds where the process's private anonymous pages
 * are (a sample) and moves the ones on other nodes to a target node, a
 * bounded slice at a time, so the daemon's single event loop never waits on
 * a large process.
 *
 * Only private anonymous memory is looked at (heap, stacks, anonymous
 * mappings): page cache and file mappings belong to whoever else maps them,
 * and move_pages(2) without MPOL_MF_MOVE_ALL leaves any page that another
 * process also maps where it is (-EACCES per page). Pages that cannot move
 * (pinned for DMA: -EBUSY) are counted and passed over; a pass never looks
 * at a page twice. A process that exits or whose pid is reused ends its job
 * without an error.
 *
 * The kernel calls go through struct mem_ops so tests can play every error
 * a real move_pages(2) gives.
 */
#ifndef SCX_AI_NUMA_MEMORY_H
#define SCX_AI_NUMA_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "intf.h"

/* move_pages(2): query when @nodes is NULL, move otherwise. Returns >= 0 or -errno. */
struct mem_ops {
	long (*move_pages)(pid_t pid, unsigned long count, void **pages, const int *nodes, int *status,
			   int flags);
};

/* The real system call. */
extern const struct mem_ops mem_sys_ops;

/* Pages of a process by node, from a sample. */
struct mem_sample {
	uint32_t pages[AN_MAX_NODE_ID];	/* sampled resident pages on each kernel node */
	uint32_t resident;		/* sampled pages that are resident at all */
	uint32_t looked;		/* addresses sampled */
};

/* One VMA worth moving: private, anonymous, readable. */
struct mem_range {
	unsigned long start, end;
};

enum mem_job_state {
	MEM_JOB_RUNNING,	/* pages left to look at */
	MEM_JOB_DONE,		/* the pass reached the end of the address space */
	MEM_JOB_GONE,		/* the process exited or its pid was reused */
	MEM_JOB_DENIED,		/* no permission to move its pages (CAP_SYS_NICE, ptrace) */
	MEM_JOB_FAILED,		/* move_pages failed otherwise; see err */
};

struct mem_job_counts {
	uint64_t scanned;	/* addresses looked at */
	uint64_t moved;		/* pages moved to the target node */
	uint64_t busy;		/* pages that could not move: pinned, under I/O (-EBUSY) */
	uint64_t shared;	/* pages another process maps too: left alone (-EACCES) */
	uint64_t nomem;		/* the target node had no room (-ENOMEM) */
	uint64_t failed;	/* any other per-page error */
};

/*
 * One pass of moving @pid's pages to @node. The address ranges are read once
 * when the job starts; memory mapped later is left to the next pass.
 */
struct mem_job {
	pid_t pid;
	uint64_t start_time;		/* the process's start (clock ticks), to tell a reused pid */
	int node;			/* kernel node id to move to */
	enum mem_job_state state;
	int err;			/* -errno of MEM_JOB_DENIED / MEM_JOB_FAILED */
	struct mem_range *ranges;
	size_t nr_ranges;
	size_t range;			/* index of the range holding cursor */
	unsigned long cursor;		/* next address to look at */
	struct mem_job_counts n;
};

/* The longest mapping list read (a process with more VMAs gets its first ones moved). */
#define MEM_MAX_RANGES		65536
/*
 * A range over MEM_SPARSE_MIN_KB with less than 1/MEM_SPARSE_RATIO of it
 * resident is a sparse reservation: not looked at page by page.
 */
#define MEM_SPARSE_MIN_KB	(1024ULL * 1024)
#define MEM_SPARSE_RATIO	64
/* Addresses per move_pages(2) call: the kernel walks them under one mmap lock. */
#define MEM_CHUNK		512

/*
 * The private anonymous ranges of ROOT/proc/PID/smaps ("" for the live
 * system) that hold resident pages, sparse reservations left out (see
 * MEM_SPARSE_RATIO). On success *out is malloc'd (free it) and the count
 * returned; -ESRCH if the process is gone, or another -errno.
 */
int mem_read_ranges(const char *root, pid_t pid, struct mem_range **out);

/*
 * Start a pass for @pid (which started at @start_time) to @node. Returns 0,
 * or -ESRCH when the process is gone, or another -errno; *j is usable (and
 * must be freed with mem_job_free) only after 0.
 */
int mem_job_start(struct mem_job *j, const char *root, pid_t pid, uint64_t start_time, int node);
void mem_job_free(struct mem_job *j);

/*
 * Advance the pass: look at no more than @max_scan addresses and move no
 * more than @max_move pages. Returns the pages moved (>= 0); the job's state
 * says whether it goes on. Never fails: errors end the job with a state.
 */
long mem_job_step(struct mem_job *j, const struct mem_ops *ops, unsigned long max_scan, unsigned long max_move);

/*
 * Where @pid's pages are: up to @max addresses spread evenly over @ranges.
 * Returns 0 or -errno (-ESRCH: gone, -EPERM/-EACCES: no permission).
 */
int mem_sample_ranges(pid_t pid, const struct mem_ops *ops, const struct mem_range *ranges, size_t nr,
		      unsigned int max, struct mem_sample *out);

/*
 * The node holding at least @permille of the sampled resident pages, or -1
 * (no majority, or fewer than @min_pages sampled pages: too little to judge).
 */
int mem_sample_majority(const struct mem_sample *s, unsigned int permille, unsigned int min_pages);

/* "running", "done", "gone", "denied", "failed". */
const char *mem_job_state_str(enum mem_job_state s);

#endif
