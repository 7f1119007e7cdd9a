// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the benchmark's pure parts: percentiles, parsers, options. */
#include <errno.h>
#include <string.h>

#include "pipeline.h"

static int failures;

#define EXPECT(cond, ...)							\
	do {									\
		if (!(cond)) {							\
			failures++;						\
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);				\
			fputc('\n', stderr);					\
		}								\
	} while (0)

static void test_percentile_nearest_rank(void)
{
	uint64_t v[100];

	for (int i = 0; i < 100; i++)
		v[i] = 100 - i;			/* 100..1, unsorted on purpose */
	pl_sort_u64(v, 100);
	EXPECT(v[0] == 1 && v[99] == 100, "sort gave %lu..%lu", (unsigned long)v[0], (unsigned long)v[99]);
	EXPECT(pl_percentile(v, 100, 50) == 50, "p50 = %lu", (unsigned long)pl_percentile(v, 100, 50));
	EXPECT(pl_percentile(v, 100, 99) == 99, "p99 = %lu", (unsigned long)pl_percentile(v, 100, 99));
	EXPECT(pl_percentile(v, 100, 99.5) == 100, "p99.5 = %lu", (unsigned long)pl_percentile(v, 100, 99.5));
	EXPECT(pl_percentile(v, 100, 100) == 100, "max = %lu", (unsigned long)pl_percentile(v, 100, 100));
	EXPECT(pl_percentile(v, 100, 0) == 1, "p0 = %lu", (unsigned long)pl_percentile(v, 100, 0));
	/* With 10 samples p99 is the largest: 9 of 10 (90%) is not enough. */
	EXPECT(pl_percentile(v, 10, 99) == 10, "p99 of 10 = %lu", (unsigned long)pl_percentile(v, 10, 99));
	EXPECT(pl_percentile(v, 10, 50) == 5, "p50 of 10 = %lu", (unsigned long)pl_percentile(v, 10, 50));
}

static void test_percentile_edges(void)
{
	uint64_t one = 42;

	EXPECT(pl_percentile(NULL, 0, 50) == 0, "empty set gives 0");
	EXPECT(pl_percentile(&one, 1, 1) == 42, "single value is every percentile");
	EXPECT(pl_percentile(&one, 1, 99) == 42, "single value is every percentile");
}

static void test_list_parse(void)
{
	bool set[16] = { false };

	EXPECT(pl_parse_list("0-3,6,8-9\n", set, 16) == 7, "count");
	EXPECT(set[0] && set[3] && !set[4] && set[6] && !set[7] && set[9] && !set[10], "members");
	memset(set, 0, sizeof(set));
	EXPECT(pl_parse_list("5", set, 16) == 1 && set[5], "single index");
	EXPECT(pl_parse_list("", set, 16) == 0, "empty list");
	EXPECT(pl_parse_list("3-1", set, 16) == -EINVAL, "reversed range refused");
	EXPECT(pl_parse_list("1,,2", set, 16) == -EINVAL, "empty element refused");
	EXPECT(pl_parse_list("1;2", set, 16) == -EINVAL, "junk refused");
	EXPECT(pl_parse_list("0-16", set, 16) == -ERANGE, "index past the table refused");
}

static void test_proc_stat(void)
{
	static const char text[] =
		"cpu  100 0 100 800 0 0 0 0 0 0\n"
		"cpu0 10 1 9 70 10 0 0 0 5 0\n"
		"cpu1 50 0 50 0 0 0 0 0 0 0\n"
		"intr 12345\n"
		"cpu3 1 2 3 4\n";
	struct pl_cpu_times t[4];

	memset(t, 0, sizeof(t));
	EXPECT(pl_parse_proc_stat(text, t, 4) == 3, "three cpuN lines");
	/* idle (70) and iowait (10) are not busy; guest (5) is inside user already. */
	EXPECT(t[0].total == 100 && t[0].busy == 20, "cpu0 %lu/%lu", (unsigned long)t[0].busy,
	       (unsigned long)t[0].total);
	EXPECT(t[1].total == 100 && t[1].busy == 100, "cpu1 fully busy");
	EXPECT(t[3].total == 10 && t[3].busy == 6, "old kernels: four fields");
	EXPECT(pl_parse_proc_stat("intr 1\n", t, 4) == -EINVAL, "no CPU lines is an error");
}

/* The cost model charges remote work and node changes, and nothing else. */
static void test_chunk_cost(void)
{
	struct pl_cost off = { false, 1500, 30 }, on = { true, 1500, 30 }, two = { true, 2000, 0 };
	struct pl_chunk_cost cc;

	cc = pl_chunk_cost(&off, 1, 0, 0, 2048);
	EXPECT(cc.extra_words == 0 && cc.refill_ns == 0, "off costs nothing");
	cc = pl_chunk_cost(&on, 0, 0, 0, 2048);
	EXPECT(cc.extra_words == 0 && cc.refill_ns == 0, "local, same node: free");
	cc = pl_chunk_cost(&on, 1, 0, 1, 2048);
	EXPECT(cc.extra_words == 1024 && cc.refill_ns == 0, "remote x1.5: half again, got %zu", cc.extra_words);
	cc = pl_chunk_cost(&on, 1, 0, 0, 2048);
	EXPECT(cc.extra_words == 1024 && cc.refill_ns == 30000, "remote after a node change: both");
	cc = pl_chunk_cost(&on, 0, 0, 1, 2048);
	EXPECT(cc.extra_words == 0 && cc.refill_ns == 30000, "back home: refill only");
	cc = pl_chunk_cost(&on, 1, 0, -1, 2048);
	EXPECT(cc.refill_ns == 0, "the first chunk has no previous node");
	cc = pl_chunk_cost(&on, 1, -1, 1, 2048);
	EXPECT(cc.extra_words == 0, "memory's node unknown: not charged as remote");
	cc = pl_chunk_cost(&on, -1, 0, 1, 2048);
	EXPECT(cc.extra_words == 0 && cc.refill_ns == 0, "own node unknown: nothing");
	cc = pl_chunk_cost(&two, 3, 2, 2, 512);
	EXPECT(cc.extra_words == 512 && cc.refill_ns == 0, "x2: the chunk again, refill 0 us: none");
	cc = pl_chunk_cost(&(struct pl_cost){ true, 1001, 0 }, 1, 0, 1, 3);
	EXPECT(cc.extra_words == 0, "rounding: 3 words x 0.001 is none, got %zu", cc.extra_words);
}

/* A wakee's CPU counts as busy only when a task ran there after the wake or was fresh on it. */
static void test_cpu_was_busy(void)
{
	EXPECT(!pl_cpu_was_busy(0, false, 5000, 1000), "never seen: idle");
	EXPECT(pl_cpu_was_busy(6000, false, 5000, 1000), "something ran there after the wake: busy");
	EXPECT(pl_cpu_was_busy(5000, true, 5000, 1000), "seen at the wake itself: busy");
	EXPECT(pl_cpu_was_busy(4500, true, 5000, 1000), "running 500 ns before the wake: busy");
	EXPECT(!pl_cpu_was_busy(4500, false, 5000, 1000), "went to sleep before the wake: idle");
	EXPECT(!pl_cpu_was_busy(3000, true, 5000, 1000), "a stale sighting (2 us old) says nothing: idle");
	EXPECT(pl_cpu_was_busy(4000, true, 5000, 1000), "exactly the freshness limit: busy");
}

static void test_parse_milli(void)
{
	unsigned int v = 7;

	EXPECT(pl_parse_milli("1.5", 1000, 10000, &v) == 0 && v == 1500, "1.5 -> %u", v);
	EXPECT(pl_parse_milli("2", 1000, 10000, &v) == 0 && v == 2000, "2 -> %u", v);
	EXPECT(pl_parse_milli("1.125", 1000, 10000, &v) == 0 && v == 1125, "1.125 -> %u", v);
	EXPECT(pl_parse_milli("10.000", 1000, 10000, &v) == 0 && v == 10000, "upper bound taken");
	v = 7;
	EXPECT(pl_parse_milli("0.9", 1000, 10000, &v) == -ERANGE && v == 7, "below 1 refused, unchanged");
	EXPECT(pl_parse_milli("10.001", 1000, 10000, &v) == -ERANGE, "above 10 refused");
	EXPECT(pl_parse_milli("99999999999", 1000, 10000, &v) == -ERANGE, "overflow refused");
	EXPECT(pl_parse_milli("1.2345", 1000, 10000, &v) == -EINVAL, "four decimals refused");
	EXPECT(pl_parse_milli("1.", 1000, 10000, &v) == -EINVAL, "dangling point refused");
	EXPECT(pl_parse_milli(".5", 1000, 10000, &v) == -EINVAL, "no integer part refused");
	EXPECT(pl_parse_milli("-1.5", 1000, 10000, &v) == -EINVAL, "sign refused");
	EXPECT(pl_parse_milli("1.5x", 1000, 10000, &v) == -EINVAL, "junk refused");
	EXPECT(pl_parse_milli("", 1000, 10000, &v) == -EINVAL, "empty refused");
}

static int parse(struct pl_config *c, char *err, size_t len, int argc, const char **argv)
{
	return pl_parse_args(argc, (char **)argv, c, err, len);
}

static void test_args(void)
{
	struct pl_config c;
	char err[256];

	{
		const char *argv[] = { "ai_pipeline" };

		EXPECT(parse(&c, err, sizeof(err), 1, argv) == 0, "no args: %s", err);
		EXPECT(c.duration_s == 10 && c.imbalance == 1 && c.loaders == 0 && !c.json,
		       "defaults");
		EXPECT(!c.cost.on, "the cost model is off unless asked for");
	}
	{
		const char *argv[] = { "ai_pipeline", "--cost-model" };

		EXPECT(parse(&c, err, sizeof(err), 2, argv) == 0, "cost model: %s", err);
		EXPECT(c.cost.on && c.cost.remote_milli == 1500 && c.cost.refill_us == 30,
		       "published defaults: x%u, %u us", c.cost.remote_milli, c.cost.refill_us);
	}
	{
		const char *argv[] = { "ai_pipeline", "--remote-factor", "2.25" };

		EXPECT(parse(&c, err, sizeof(err), 3, argv) == 0, "remote factor: %s", err);
		EXPECT(c.cost.on && c.cost.remote_milli == 2250 && c.cost.refill_us == 30,
		       "factor implies the model, refill keeps its default");
	}
	{
		const char *argv[] = { "ai_pipeline", "--refill-us", "0" };

		EXPECT(parse(&c, err, sizeof(err), 3, argv) == 0, "refill: %s", err);
		EXPECT(c.cost.on && c.cost.refill_us == 0 && c.cost.remote_milli == 1500,
		       "refill implies the model, factor keeps its default");
	}
	{
		const char *argv[] = { "ai_pipeline", "--ballast-mb", "40", "--loader-procs", "--alloc-main" };

		EXPECT(parse(&c, err, sizeof(err), 5, argv) == 0, "modes: %s", err);
		EXPECT(c.ballast_mb == 40 && c.loader_procs && c.alloc_main && !c.cost.on, "modes taken");
	}
	{
		const char *argv[] = { "ai_pipeline", "--ballast-mb", "4097" };

		EXPECT(parse(&c, err, sizeof(err), 3, argv) == -ERANGE, "ballast past 4 GB refused");
	}
	{
		const char *argv[] = { "ai_pipeline", "--remote-factor", "0.5" };

		EXPECT(parse(&c, err, sizeof(err), 3, argv) == -ERANGE, "factor below 1 refused");
		EXPECT(strstr(err, "--remote-factor"), "message names the option: %s", err);
	}
	{
		const char *argv[] = { "ai_pipeline", "-d", "3", "--imbalance=4", "--io-us", "0",
				       "-j", "--label", "fit", "--churn", "2", "--spawn-local" };

		EXPECT(parse(&c, err, sizeof(err), 12, argv) == 0, "valid: %s", err);
		EXPECT(c.duration_s == 3 && c.imbalance == 4 && c.io_us == 0 && c.json &&
		       !strcmp(c.label, "fit") && c.churn == 2 && c.spawn_local, "values taken");
	}
	{
		const char *argv[] = { "ai_pipeline", "--duration", "0" };

		EXPECT(parse(&c, err, sizeof(err), 3, argv) == -ERANGE, "zero duration refused");
		EXPECT(strstr(err, "--duration") && strstr(err, "1..3600"), "message: %s", err);
	}
	{
		const char *argv[] = { "ai_pipeline", "-l", "-2" };

		EXPECT(parse(&c, err, sizeof(err), 3, argv) == -EINVAL, "negative refused");
		EXPECT(strstr(err, "--loaders"), "message names the option: %s", err);
	}
	{
		const char *argv[] = { "ai_pipeline", "--passes", "3x" };

		EXPECT(parse(&c, err, sizeof(err), 3, argv) == -EINVAL, "trailing junk refused");
	}
	{
		const char *argv[] = { "ai_pipeline", "--warmup" };

		EXPECT(parse(&c, err, sizeof(err), 2, argv) == -EINVAL, "missing value refused");
		EXPECT(strstr(err, "needs a value"), "message: %s", err);
	}
	{
		const char *argv[] = { "ai_pipeline", "--bogus" };

		EXPECT(parse(&c, err, sizeof(err), 2, argv) == -EINVAL, "unknown option refused");
	}
	{
		const char *argv[] = { "ai_pipeline", "extra" };

		EXPECT(parse(&c, err, sizeof(err), 2, argv) == -EINVAL, "positional refused");
	}
	{
		const char *argv[] = { "ai_pipeline", "--stall-ms", "99999999999999999999" };

		EXPECT(parse(&c, err, sizeof(err), 3, argv) == -ERANGE, "overflow refused");
	}
}

int main(void)
{
	test_percentile_nearest_rank();
	test_percentile_edges();
	test_list_parse();
	test_proc_stat();
	test_chunk_cost();
	test_parse_milli();
	test_cpu_was_busy();
	test_args();
	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("all bench unit checks passed\n");
	return 0;
}
