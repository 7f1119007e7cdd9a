// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void pl_sort_u64(uint64_t *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_u64);
}

uint64_t pl_percentile(const uint64_t *sorted, size_t n, double pct)
{
	double rank;
	size_t idx;

	if (!n)
		return 0;
	if (!(pct > 0))
		return sorted[0];
	if (pct >= 100)
		return sorted[n - 1];
	/* Nearest rank: ceil(p/100 * n), 1-based. */
	rank = ceil(pct / 100.0 * (double)n);
	idx = rank < 1 ? 0 : (size_t)rank - 1;
	return sorted[idx < n ? idx : n - 1];
}

static int parse_index(const char **sp, unsigned long *out)
{
	const char *s = *sp;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno)
		return -ERANGE;
	*sp = end;
	return 0;
}

int pl_parse_list(const char *s, bool *out, size_t max)
{
	int count = 0;

	while (*s && *s != '\n') {
		unsigned long a, b;
		int ret;

		ret = parse_index(&s, &a);
		if (ret)
			return ret;
		b = a;
		if (*s == '-') {
			s++;
			ret = parse_index(&s, &b);
			if (ret)
				return ret;
			if (b < a)
				return -EINVAL;
		}
		if (b >= max)
			return -ERANGE;
		for (unsigned long i = a; i <= b; i++) {
			if (!out[i])
				count++;
			out[i] = true;
		}
		if (*s == ',')
			s++;
		else if (*s && *s != '\n')
			return -EINVAL;
	}
	return count;
}

int pl_parse_proc_stat(const char *text, struct pl_cpu_times *cpus, size_t max)
{
	const char *line = text;
	int n = 0;

	while (line && *line) {
		const char *next = strchr(line, '\n');
		unsigned long long v[10] = { 0 };
		unsigned int cpu;
		int got;

		/* "cpu " is the sum over all CPUs; only "cpuN" lines are wanted. */
		if (!strncmp(line, "cpu", 3) && line[3] >= '0' && line[3] <= '9') {
			got = sscanf(line + 3, "%u %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &cpu,
				     &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
			if (got >= 5 && cpu < max) {
				uint64_t total = 0;

				/* guest and guest_nice (8, 9) are already in user and nice. */
				for (int i = 0; i < 8 && i < got - 1; i++)
					total += v[i];
				cpus[cpu].total = total;
				cpus[cpu].busy = total - v[3] - v[4];
				n++;
			}
		}
		line = next ? next + 1 : NULL;
	}
	return n ? n : -EINVAL;
}

struct pl_chunk_cost pl_chunk_cost(const struct pl_cost *c, int node, int mem_node, int prev_node,
				   size_t words)
{
	struct pl_chunk_cost r = { 0, 0 };

	if (!c->on || node < 0)
		return r;
	if (mem_node >= 0 && node != mem_node && c->remote_milli > 1000)
		r.extra_words = (size_t)(((uint64_t)words * (c->remote_milli - 1000) + 500) / 1000);
	if (prev_node >= 0 && node != prev_node)
		r.refill_ns = (uint64_t)c->refill_us * 1000;
	return r;
}

bool pl_cpu_was_busy(uint64_t stamp_ns, bool running, uint64_t wake_ns, uint64_t fresh_ns)
{
	if (!stamp_ns)
		return false;
	if (stamp_ns >= wake_ns)
		return true;
	return running && wake_ns - stamp_ns <= fresh_ns;
}
