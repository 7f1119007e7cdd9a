// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"

void pl_config_defaults(struct pl_config *c)
{
	memset(c, 0, sizeof(*c));
	c->duration_s = 10;
	c->warmup_s = 1;
	c->imbalance = 1;
	c->buffer_kb = 256;
	c->passes = 4;
	c->io_us = 2000;
	c->launch_us = 100;
	c->stall_ms = 1000;
	c->label = "";
	c->cost.remote_milli = PL_COST_REMOTE_MILLI;
	c->cost.refill_us = PL_COST_REFILL_US;
}

void pl_usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [OPTIONS]\n"
		"Model an AI training host: per-node data loaders whose buffers live on their\n"
		"node, each batch waking that node's launcher thread. Reports locality,\n"
		"cross-node migrations, launcher wake latency, throughput and CPU use.\n\n"
		"  -d, --duration S       measured seconds (1-3600, default 10)\n"
		"  -w, --warmup S         unmeasured seconds first (0-600, default 1)\n"
		"  -l, --loaders N        loaders per node (1-256; default: the node's CPUs)\n"
		"  -i, --imbalance K      one node gets K times the loaders (1-64, default 1)\n"
		"      --imbalance-node N which node (index among nodes with CPUs, default 0)\n"
		"  -b, --buffer-kb KB     working buffer per loader (4-1048576, default 256)\n"
		"      --ballast-mb MB    per loader, this much more memory first-touched with the\n"
		"                         buffer and never used again (0-4096, default 0): a\n"
		"                         DataLoader worker's resident size\n"
		"  -p, --passes N         passes over the buffer per batch (1-10000, default 4)\n"
		"      --io-us US         simulated storage wait per batch (0-1000000, default 2000)\n"
		"      --launch-us US     launcher work per batch (0-100000, default 100)\n"
		"      --hogs N           background CPU hog threads (0-1024, default 0)\n"
		"      --churn N          background message-passing thread pairs (0-512, default 0)\n"
		"      --stall-ms MS      a loader without progress this long is a stall\n"
		"                         (10-600000, default 1000)\n"
		"      --spawn-local      create each node's threads from a thread already running\n"
		"                         on that node (as numactl-started processes are), not\n"
		"                         from the main thread\n"
		"      --loader-procs     loaders are forked processes (as DataLoader workers are),\n"
		"                         each with a private buffer; batches reach the\n"
		"                         launcher through a futex in shared memory\n"
		"      --alloc-main       loader buffers are first-touched by another thread on\n"
		"                         the first node (as a framework's main thread allocates\n"
		"                         pinned buffers), not by the loader on its own node\n"
		"      --cost-model       model what NUMA costs (QEMU's emulated NUMA has no\n"
		"                         remote penalty): remote work takes --remote-factor\n"
		"                         times as long, a change of node pays --refill-us\n"
		"      --remote-factor F  remote/local time of the same work, 1-10 with up to\n"
		"                         three decimals (default 1.5); implies --cost-model\n"
		"      --refill-us US     cache refill after a change of node (0-100000,\n"
		"                         default 30); implies --cost-model\n"
		"      --label TEXT       copied into the report\n"
		"  -j, --json             one JSON object on stdout instead of text\n"
		"  -h, --help             show this help\n",
		prog);
}

enum {
	O_IMB_NODE = 256, O_IO, O_LAUNCH, O_HOGS, O_CHURN, O_STALL, O_LABEL, O_SPAWN,
	O_COST, O_REMOTE, O_REFILL, O_PROCS, O_ALLOC_MAIN, O_BALLAST,
};

struct range {
	int opt;
	unsigned int lo, hi;
	size_t off;
};

#define OFF(f) offsetof(struct pl_config, f)

static const struct range ranges[] = {
	{ 'd', 1, 3600, OFF(duration_s) },
	{ 'w', 0, 600, OFF(warmup_s) },
	{ 'l', 1, 256, OFF(loaders) },
	{ 'i', 1, 64, OFF(imbalance) },
	{ O_IMB_NODE, 0, PL_MAX_NODES - 1, OFF(imbalance_node) },
	{ 'b', 4, 1048576, OFF(buffer_kb) },
	{ 'p', 1, 10000, OFF(passes) },
	{ O_IO, 0, 1000000, OFF(io_us) },
	{ O_LAUNCH, 0, 100000, OFF(launch_us) },
	{ O_HOGS, 0, 1024, OFF(hogs) },
	{ O_CHURN, 0, 512, OFF(churn) },
	{ O_STALL, 10, 600000, OFF(stall_ms) },
	{ O_REFILL, 0, 100000, OFF(cost.refill_us) },
	{ O_BALLAST, 0, 4096, OFF(ballast_mb) },
};

static int parse_uint(const char *s, unsigned int lo, unsigned int hi, unsigned int *out)
{
	unsigned long v;
	char *end;

	/* strtoul takes "-1" and " 5"; a count is plain digits. */
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno || v < lo || v > hi)
		return -ERANGE;
	*out = (unsigned int)v;
	return 0;
}

int pl_parse_milli(const char *s, unsigned int lo_milli, unsigned int hi_milli, unsigned int *out)
{
	unsigned long whole = 0, frac = 0;
	int decimals = 0;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		whole = whole * 10 + (unsigned long)(*s - '0');
		if (whole > 1000000)
			return -ERANGE;
	}
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return -EINVAL;
		for (; *s >= '0' && *s <= '9'; s++) {
			if (++decimals > 3)
				return -EINVAL;
			frac = frac * 10 + (unsigned long)(*s - '0');
		}
	}
	if (*s)
		return -EINVAL;
	for (; decimals < 3; decimals++)
		frac *= 10;
	whole = whole * 1000 + frac;
	if (whole < lo_milli || whole > hi_milli)
		return -ERANGE;
	*out = (unsigned int)whole;
	return 0;
}

/* Every short option has a long twin; messages name the long one. */
static const char *long_name(const struct option *lopts, int opt)
{
	for (; lopts->name; lopts++)
		if (lopts->val == opt)
			return lopts->name;
	return "?";
}

int pl_parse_args(int argc, char **argv, struct pl_config *c, char *err, size_t errlen)
{
	static const struct option lopts[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "loaders", required_argument, NULL, 'l' },
		{ "imbalance", required_argument, NULL, 'i' },
		{ "imbalance-node", required_argument, NULL, O_IMB_NODE },
		{ "buffer-kb", required_argument, NULL, 'b' },
		{ "passes", required_argument, NULL, 'p' },
		{ "io-us", required_argument, NULL, O_IO },
		{ "launch-us", required_argument, NULL, O_LAUNCH },
		{ "hogs", required_argument, NULL, O_HOGS },
		{ "churn", required_argument, NULL, O_CHURN },
		{ "stall-ms", required_argument, NULL, O_STALL },
		{ "label", required_argument, NULL, O_LABEL },
		{ "spawn-local", no_argument, NULL, O_SPAWN },
		{ "cost-model", no_argument, NULL, O_COST },
		{ "loader-procs", no_argument, NULL, O_PROCS },
		{ "alloc-main", no_argument, NULL, O_ALLOC_MAIN },
		{ "ballast-mb", required_argument, NULL, O_BALLAST },
		{ "remote-factor", required_argument, NULL, O_REMOTE },
		{ "refill-us", required_argument, NULL, O_REFILL },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt;

	pl_config_defaults(c);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":d:w:l:i:b:p:jh", lopts, NULL)) != -1) {
		const struct range *r = NULL;
		int ret;

		switch (opt) {
		case 'j': c->json = true; continue;
		case 'h': c->help = true; continue;
		case O_LABEL: c->label = optarg; continue;
		case O_SPAWN: c->spawn_local = true; continue;
		case O_COST: c->cost.on = true; continue;
		case O_PROCS: c->loader_procs = true; continue;
		case O_ALLOC_MAIN: c->alloc_main = true; continue;
		case O_REMOTE: {
			int ret = pl_parse_milli(optarg, 1000, 10000, &c->cost.remote_milli);

			if (ret) {
				snprintf(err, errlen, "--remote-factor: '%.32s' %s", optarg,
					 ret == -ERANGE ? "out of range: allowed 1..10" :
					 "is not a number such as 1.5 (up to three decimals)");
				return ret;
			}
			c->cost.on = true;
			continue;
		}
		case ':':
			snprintf(err, errlen, "--%s needs a value", long_name(lopts, optopt));
			return -EINVAL;
		case '?':
			/* optopt is set for an unknown short option only. */
			if (optopt)
				snprintf(err, errlen, "unknown option -%c", optopt);
			else
				snprintf(err, errlen, "unknown option %s", argv[optind - 1]);
			return -EINVAL;
		}
		for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
			if (ranges[i].opt == opt)
				r = &ranges[i];
		if (!r) {
			snprintf(err, errlen, "unhandled option %s", argv[optind - 1]);
			return -EINVAL;
		}
		ret = parse_uint(optarg, r->lo, r->hi, (unsigned int *)((char *)c + r->off));
		if (opt == O_REFILL)
			c->cost.on = true;
		if (ret == -EINVAL)
			snprintf(err, errlen, "--%s: '%.32s' is not a whole number", long_name(lopts, opt), optarg);
		else if (ret == -ERANGE)
			snprintf(err, errlen, "--%s: %.32s out of range: allowed %u..%u",
				 long_name(lopts, opt), optarg, r->lo, r->hi);
		if (ret)
			return ret;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%.32s'", argv[optind]);
		return -EINVAL;
	}
	return 0;
}
