/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The AI-pipeline benchmark: option parsing and the pure helpers the unit
 * test exercises (percentiles, sysfs list parsing, /proc/stat parsing, the
 * NUMA cost model's arithmetic, the wake-path classification).
 */
#ifndef AI_PIPELINE_H
#define AI_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PL_MAX_CPUS	1024
#define PL_MAX_NODES	64

struct pl_config {
	unsigned int duration_s;	/* measured window */
	unsigned int warmup_s;		/* run before measuring: homes settle, caches fill */
	unsigned int loaders;		/* loaders per node; 0 = as many as the node has CPUs */
	unsigned int imbalance;		/* the overloaded node gets this many times the loaders */
	unsigned int imbalance_node;	/* index among nodes with CPUs */
	unsigned int buffer_kb;		/* each loader's working buffer */
	unsigned int ballast_mb;	/* resident memory per loader beside it, never worked on */
	unsigned int passes;		/* passes over the buffer per batch */
	unsigned int io_us;		/* simulated storage wait before each batch */
	unsigned int launch_us;		/* launcher CPU work per batch */
	unsigned int hogs;		/* background CPU-bound threads */
	unsigned int churn;		/* background ping-pong thread pairs */
	unsigned int stall_ms;		/* a loader silent this long counts as a stall */
	bool spawn_local;		/* create each node's threads from a thread on that node */
	bool loader_procs;		/* loaders are forked processes, not threads */
	bool alloc_main;		/* loader buffers first-touched by another thread on node 0 */
	struct pl_cost {
		bool on;		/* the NUMA cost model (bench/README.md) */
		unsigned int remote_milli;	/* remote work takes this/1000 times as long */
		unsigned int refill_us;	/* a change of node costs this much cache refill */
	} cost;
	bool json;
	bool help;
	const char *label;
};

/* Published 2-socket figures put remote DRAM at 1.5-2x local latency: the low end. */
#define PL_COST_REMOTE_MILLI	1500
#define PL_COST_REFILL_US	30

void pl_config_defaults(struct pl_config *c);
void pl_usage(FILE *f, const char *prog);
/*
 * Fill @c from argv (defaults first). Returns 0, or -EINVAL/-ERANGE with a
 * message in @err naming the option. Positional arguments are refused.
 */
int pl_parse_args(int argc, char **argv, struct pl_config *c, char *err, size_t errlen);

/*
 * Nearest-rank percentile of @n sorted values, @pct in [0, 100]: the
 * smallest value such that at least pct% of the values are <= it. 0 when
 * n == 0.
 */
uint64_t pl_percentile(const uint64_t *sorted, size_t n, double pct);
void pl_sort_u64(uint64_t *v, size_t n);

/*
 * Parse a sysfs list ("0-3,8,10-11\n") into @out (indices set to true,
 * others untouched). Returns how many entries were set, or -EINVAL on
 * syntax errors and -ERANGE for an index >= @max.
 */
int pl_parse_list(const char *s, bool *out, size_t max);

/* Busy and total jiffies of one "cpuN ..." line of /proc/stat. */
struct pl_cpu_times {
	uint64_t busy, total;
};

/*
 * Parse /proc/stat text: per-CPU times into @cpus (indexed by CPU number,
 * up to @max), idle and iowait counting as not busy. Returns the number of
 * cpuN lines read, or -EINVAL when there are none.
 */
int pl_parse_proc_stat(const char *text, struct pl_cpu_times *cpus, size_t max);

/*
 * What the cost model adds to one chunk of @words words of work that runs on
 * @node while its buffer sits on @mem_node, the previous chunk of the same
 * thread having run on @prev_node (-1: none yet): extra words to transform
 * (remote work takes remote_milli/1000 times as long) and nanoseconds of
 * refill to spin (the chunk starts on another node than the last one).
 * Nothing when the model is off or a node is unknown (< 0).
 */
struct pl_chunk_cost {
	size_t extra_words;
	uint64_t refill_ns;
};
struct pl_chunk_cost pl_chunk_cost(const struct pl_cost *c, int node, int mem_node, int prev_node,
				   size_t words);

/*
 * Was a CPU busy with another task when a wake came at @wake_ns? Its last
 * sighting says a task ran there at @stamp_ns, still running (@running) or
 * about to sleep. Busy when something ran there after the wake, or was
 * running there no longer than @fresh_ns before it.
 */
bool pl_cpu_was_busy(uint64_t stamp_ns, bool running, uint64_t wake_ns, uint64_t fresh_ns);

/*
 * Parse a factor such as "1.5" (at most three decimals) into thousandths.
 * Returns 0, -EINVAL for anything but digits[.digits], -ERANGE outside
 * [@lo_milli, @hi_milli].
 */
int pl_parse_milli(const char *s, unsigned int lo_milli, unsigned int hi_milli, unsigned int *out);

#endif
