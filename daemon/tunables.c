// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tunables.h"

#define NSEC_PER_USEC	1000ULL
#define NSEC_PER_MSEC	1000000ULL
#define NSEC_PER_SEC	1000000000ULL

#define FIELD(f)	offsetof(struct an_tunables, f)

/*
 * Ranges are chosen so that no value can hurt the machine: a slice below
 * 50us makes the CPU spend its time scheduling, above 1s it starves
 * interactive work well past the kernel's watchdog comfort.
 */
/* enum gpu_scope's names, in its order (assoc.h). */
static const char *const gpu_scopes[] = { "process", "tree", "cgroup", NULL };

const struct tunable tunables[] = {
	{ "slice_ns", TUN_U64, "ns", 50 * NSEC_PER_USEC, NSEC_PER_SEC, 3 * NSEC_PER_MSEC,
	  FIELD(slice_ns), "time slice given to each dispatched task", NULL },
	{ "steal", TUN_BOOL, "", 0, 1, 1,
	  FIELD(steal), "let CPUs with nothing local run other nodes' queued tasks", NULL },
	{ "steal_min_queued", TUN_U32, "tasks", 1, 1024, 3,
	  FIELD(steal_min_queued), "steal from a node queue at least this deep ...", NULL },
	{ "steal_delay_ns", TUN_U64, "ns", 0, NSEC_PER_SEC, 2 * NSEC_PER_MSEC,
	  FIELD(steal_delay_ns), "... or whose oldest task has waited this long (0: depth only)", NULL },
	{ "remote_idle", TUN_BOOL, "", 0, 1, 0,
	  FIELD(remote_idle), "when stealing is on, wake a task onto another node's idle CPU if its home has none", NULL },
	{ "home_move_ns", TUN_U64, "ns", NSEC_PER_MSEC, 60 * NSEC_PER_SEC, NSEC_PER_SEC,
	  FIELD(home_move_ns), "run time on one other node, uninterrupted by home, before a task's home moves there", NULL },
	{ "lat_run_ns", TUN_U64, "ns", 0, 100 * NSEC_PER_MSEC, 500 * NSEC_PER_USEC,
	  FIELD(lat_run_ns), "average run time between sleeps below which a task is latency-critical (0: none)", NULL },
	{ "warm_pick", TUN_BOOL, "", 0, 1, 1,
	  FIELD(warm_pick), "let a CPU take, from the first few of its node's queue, a task that last ran on it", NULL },
	{ "handoff_ns", TUN_U64, "ns", 0, 10 * NSEC_PER_MSEC, NSEC_PER_MSEC,
	  FIELD(handoff_ns), "run a wakeup on its waker's CPU when the waker habitually sleeps within this long of waking (0: never)", NULL },
	{ "balance_hold_ns", TUN_U64, "ns", 0, 600 * NSEC_PER_SEC, 5 * NSEC_PER_SEC,
	  FIELD(balance_hold_ns), "move task homes off a node that stays overloaded to nodes with spare CPU time, "
	  "and keep each moved home at least this long (0: never move)", NULL },
	{ "group_wakes", TUN_U32, "wakes", 0, 100000, 32,
	  FIELD(group_wakes), "wakes in a row a task gets from tasks whose home is one other node before one of the two "
	  "moves home to the other's node, the lighter of the two if it has room (0: never)", NULL },
	{ "wake_home", TUN_BOOL, "", 0, 1, 1,
	  FIELD(wake_home), "wake a task that must queue at home, having last run on another node, onto a CPU of its home "
	  "rather than the one it last ran on", NULL },
	/*
	 * Memory follows the task. 256 MiB/s moves a 64 GiB data loader in
	 * minutes while costing a few percent of one socket's memory
	 * bandwidth; the kernel's own NUMA balancing moves at most 256 MB per
	 * scan period and node by default.
	 */
	{ "migrate_mbps", TUN_U32, "MiB/s", 0, 16384, 256,
	  FIELD(migrate_mbps), "rate at which a process's memory moves to its home node (0: off)", NULL },
	{ "migrate_settle_ns", TUN_U64, "ns", 0, 600 * NSEC_PER_SEC, 2 * NSEC_PER_SEC,
	  FIELD(migrate_settle_ns), "how long a home must hold before the process's memory follows it "
	  "(a home the node balancer gave is followed at once when balance_hold_ns is at least this long)", NULL },
	{ "mem_home_permille", TUN_U32, "permille", 501, 1000, 667,
	  FIELD(mem_home_permille), "share of a process's sampled memory on one node that makes that node its home, "
	  "when its home was not given from outside", NULL },
	{ "gpu_scope", TUN_ENUM, "", 0, 2, 1,
	  FIELD(gpu_scope), "how far a GPU process's home extends: the process, its tree of descendants, or its cgroup",
	  gpu_scopes },
};
const size_t nr_tunables = sizeof(tunables) / sizeof(tunables[0]);

const struct tunable *tunable_find(const char *name)
{
	for (size_t i = 0; i < nr_tunables; i++)
		if (!strcmp(tunables[i].name, name))
			return &tunables[i];
	return NULL;
}

const char *tunable_type_name(enum tun_type type)
{
	switch (type) {
	case TUN_U64: return "u64";
	case TUN_U32: return "u32";
	case TUN_BOOL: return "bool";
	case TUN_ENUM: return "enum";
	}
	return "?";
}

uint64_t tunable_get(const struct an_tunables *tun, const struct tunable *t)
{
	const char *p = (const char *)tun + t->off;

	if (t->type == TUN_U64)
		return *(const uint64_t *)p;
	return *(const uint32_t *)p;
}

void tunable_store(struct an_tunables *tun, const struct tunable *t, uint64_t v)
{
	char *p = (char *)tun + t->off;

	if (t->type == TUN_U64)
		*(uint64_t *)p = v;
	else
		*(uint32_t *)p = (uint32_t)v;
}

void tunables_defaults(struct an_tunables *tun)
{
	memset(tun, 0, sizeof(*tun));
	for (size_t i = 0; i < nr_tunables; i++)
		tunable_store(tun, &tunables[i], tunables[i].def);
}

int tunable_check(const struct tunable *t, uint64_t v, char *err, size_t errlen)
{
	if (v >= t->min && v <= t->max)
		return 0;
	if (t->type == TUN_BOOL)
		snprintf(err, errlen, "%s: invalid value %" PRIu64 ": expected on or off", t->name, v);
	else if (t->type == TUN_ENUM)
		snprintf(err, errlen, "%s: invalid value %" PRIu64 ": allowed %" PRIu64 "..%" PRIu64, t->name, v, t->min,
			 t->max);
	else
		snprintf(err, errlen, "%s: %" PRIu64 " out of range: allowed %" PRIu64 "..%" PRIu64 " %s",
			 t->name, v, t->min, t->max, t->unit);
	return -ERANGE;
}

static int parse_bool(const char *s, uint64_t *out)
{
	static const char *const yes[] = { "on", "true", "yes", "1" };
	static const char *const no[] = { "off", "false", "no", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = 1;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = 0;
			return 0;
		}
	}
	return -EINVAL;
}

/* One of @t's names, or its number as the control socket may send it. */
static int parse_enum(const struct tunable *t, const char *text, uint64_t *out, char *err, size_t errlen)
{
	char list[128];
	size_t o = 0;

	for (uint64_t v = t->min; v <= t->max; v++) {
		char num[24];

		snprintf(num, sizeof(num), "%" PRIu64, v);
		if (!strcasecmp(text, t->names[v]) || !strcmp(text, num)) {
			*out = v;
			return 0;
		}
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", v > t->min ? ", " : "", t->names[v]);
		if (o >= sizeof(list))
			break;
	}
	snprintf(err, errlen, "%s: invalid value '%.64s': expected one of %s", t->name, text, list);
	return -EINVAL;
}

/* Multiplier for an ns-unit suffix, 0 if the suffix is unknown. */
static uint64_t ns_suffix(const char *s)
{
	if (!*s || !strcmp(s, "ns"))
		return 1;
	if (!strcmp(s, "us"))
		return NSEC_PER_USEC;
	if (!strcmp(s, "ms"))
		return NSEC_PER_MSEC;
	if (!strcmp(s, "s"))
		return NSEC_PER_SEC;
	return 0;
}

int tunable_parse(const struct tunable *t, const char *text, uint64_t *out, char *err, size_t errlen)
{
	unsigned long long v;
	uint64_t mult = 1;
	char *end;

	if (t->type == TUN_BOOL) {
		if (parse_bool(text, out) < 0) {
			snprintf(err, errlen, "%s: invalid value '%.64s': expected on or off", t->name, text);
			return -EINVAL;
		}
		return 0;
	}
	if (t->type == TUN_ENUM)
		return parse_enum(t, text, out, err, errlen);
	/* strtoull accepts "-5" and wraps it; a tunable is never negative. */
	if (*text < '0' || *text > '9')
		goto bad;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno == ERANGE)
		goto range;
	if (!strcmp(t->unit, "ns"))
		mult = ns_suffix(end);
	else if (*end)
		mult = 0;
	if (!mult)
		goto bad;
	if (v > UINT64_MAX / mult)
		goto range;
	v *= mult;
	if (tunable_check(t, v, err, errlen) < 0)
		return -ERANGE;
	*out = v;
	return 0;
bad:
	snprintf(err, errlen, "%s: invalid value '%.64s': expected an integer %" PRIu64 "..%" PRIu64 "%s%s",
		 t->name, text, t->min, t->max, *t->unit ? " " : "",
		 !strcmp(t->unit, "ns") ? "ns (or with a us, ms or s suffix)" : t->unit);
	return -EINVAL;
range:
	snprintf(err, errlen, "%s: '%.64s' out of range: allowed %" PRIu64 "..%" PRIu64 " %s",
		 t->name, text, t->min, t->max, t->unit);
	return -ERANGE;
}

void tunable_format(const struct tunable *t, uint64_t v, char *buf, size_t len)
{
	if (t->type == TUN_BOOL)
		snprintf(buf, len, "%s", v ? "on" : "off");
	else if (t->type == TUN_ENUM && v >= t->min && v <= t->max)
		snprintf(buf, len, "%s", t->names[v]);
	else
		snprintf(buf, len, "%" PRIu64, v);
}
