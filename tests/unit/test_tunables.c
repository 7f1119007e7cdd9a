// SPDX-License-Identifier: GPL-2.0
/*
 * Tunables table tests: defaults, parsing with units, range and overflow
 * errors and their messages, lookup and formatting. Expected ranges are taken
 * from the table itself, so the tests follow a deliberate change of a limit
 * but catch parsing that ignores it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "tunables.h"

static char err[256];

static const struct tunable *must_find(const char *name)
{
	const struct tunable *t = tunable_find(name);

	if (!t)
		check_bail("tunable %s missing from the table", name);
	return t;
}

/* Parse @text for @name; returns the error code, value in *v. */
static int parse(const char *name, const char *text, uint64_t *v)
{
	err[0] = '\0';
	*v = 0xdeadbeef;
	return tunable_parse(must_find(name), text, v, err, sizeof(err));
}

static void test_table(void)
{
	bool ok = true, unique = true;

	for (size_t i = 0; i < nr_tunables; i++) {
		const struct tunable *t = &tunables[i];

		ok = ok && t->name && t->help && t->unit && *t->help && t->min <= t->def && t->def <= t->max;
		if (t->type == TUN_BOOL)
			ok = ok && t->min == 0 && t->max == 1;
		if (t->type == TUN_U32)
			ok = ok && t->max <= UINT32_MAX && t->off + sizeof(uint32_t) <= sizeof(struct an_tunables);
		else
			ok = ok && t->off + (t->type == TUN_U64 ? 8 : 4) <= sizeof(struct an_tunables);
		for (size_t j = 0; j < i; j++)
			unique = unique && strcmp(t->name, tunables[j].name);
		CHECK(tunable_find(t->name) == t, "find '%s' returns its table entry", t->name);
	}
	CHECK(nr_tunables > 0, "table has %zu tunables", nr_tunables);
	CHECK(ok, "every tunable: help and unit set, min <= default <= max, field inside an_tunables");
	CHECK(unique, "tunable names are unique");
	CHECK(tunable_find("no_such_knob") == NULL, "find unknown name -> NULL");
	CHECK(tunable_find("") == NULL, "find empty name -> NULL");
	CHECK(tunable_find("SLICE_NS") == NULL, "find is case-sensitive");
}

/*
 * Every field of struct an_tunables is read (by the BPF program, or the
 * daemon for its own knobs): a field no
 * tunable owns would stay 0 there whatever the configuration says, and two
 * tunables sharing bytes would overwrite each other. pad_end alone, the
 * named tail pad, belongs to none.
 */
static void test_layout(void)
{
	unsigned char owners[sizeof(struct an_tunables)] = { 0 };
	bool ok = true;

	for (size_t i = 0; i < nr_tunables; i++) {
		size_t len = tunables[i].type == TUN_U64 ? 8 : 4;

		for (size_t b = tunables[i].off; b < tunables[i].off + len && b < sizeof(owners); b++)
			owners[b]++;
	}
	for (size_t b = 0; b < sizeof(owners); b++) {
		bool pad = b >= offsetof(struct an_tunables, pad_end) &&
			   b < offsetof(struct an_tunables, pad_end) + sizeof(uint32_t);

		ok = ok && owners[b] == (pad ? 0 : 1);
	}
	CHECK(ok, "every byte of an_tunables belongs to exactly one tunable");
}

/* A daemon-side knob with named values: gpu_scope. */
static void test_enum(void)
{
	const struct tunable *t = must_find("gpu_scope");
	struct an_tunables tun;
	char err[256] = "", buf[32];
	uint64_t v = 99;

	tunables_defaults(&tun);
	tunable_format(t, tunable_get(&tun, t), buf, sizeof(buf));
	CHECK(t->type == TUN_ENUM && !strcmp(buf, "tree") && tun.gpu_scope == 1,
	      "gpu_scope: an enum, 'tree' by default, stored in an_tunables.gpu_scope");
	CHECK(!tunable_parse(t, "process", &v, err, sizeof(err)) && v == 0 &&
	      !tunable_parse(t, "CGROUP", &v, err, sizeof(err)) && v == 2 &&
	      !tunable_parse(t, "1", &v, err, sizeof(err)) && v == 1,
	      "gpu_scope: takes its names (any case) and their numbers");
	CHECK(tunable_parse(t, "forest", &v, err, sizeof(err)) == -EINVAL && strstr(err, "process, tree, cgroup") &&
	      v == 1, "gpu_scope: an unknown name is refused, naming the allowed ones: %s", err);
	CHECK(tunable_parse(t, "3", &v, err, sizeof(err)) == -EINVAL && tunable_check(t, 3, err, sizeof(err)) == -ERANGE,
	      "gpu_scope: a number past the last name is refused");
	tunable_store(&tun, t, 0);
	tunable_format(t, tunable_get(&tun, t), buf, sizeof(buf));
	CHECK(!strcmp(buf, "process") && !strcmp(tunable_type_name(t->type), "enum"),
	      "gpu_scope: formatted by name; its type reads 'enum'");
}

static void test_defaults(void)
{
	struct an_tunables tun;
	bool ok = true;

	memset(&tun, 0xa5, sizeof(tun));
	tunables_defaults(&tun);
	for (size_t i = 0; i < nr_tunables; i++)
		ok = ok && tunable_get(&tun, &tunables[i]) == tunables[i].def;
	CHECK(ok, "defaults: every tunable reads back its table default");
	CHECK(tun.slice_ns == must_find("slice_ns")->def && tun.steal == must_find("steal")->def &&
	      tun.home_move_ns == must_find("home_move_ns")->def,
	      "defaults: land in the an_tunables fields the table names");
}

static void test_store(void)
{
	struct an_tunables tun;
	const struct tunable *q = must_find("steal_min_queued");
	const struct tunable *s = must_find("steal");

	tunables_defaults(&tun);
	tunable_store(&tun, q, 77);
	CHECK(tun.steal_min_queued == 77 && tunable_get(&tun, q) == 77, "store/get u32 round-trips");
	CHECK(tunable_get(&tun, s) == s->def && tun.slice_ns == must_find("slice_ns")->def,
	      "store of a u32 leaves its neighbours alone");
	tunable_store(&tun, must_find("slice_ns"), 123456789);
	CHECK(tun.slice_ns == 123456789, "store u64 reaches slice_ns");
}

static void test_parse_numbers(void)
{
	uint64_t v;
	int ret;

	ret = parse("slice_ns", "5000000", &v);
	CHECK(ret == 0 && v == 5000000, "slice_ns '5000000' -> 5000000 ns (%s)", err);
	ret = parse("slice_ns", "5ms", &v);
	CHECK(ret == 0 && v == 5000000, "slice_ns '5ms' -> 5000000 ns (%s)", err);
	ret = parse("slice_ns", "250us", &v);
	CHECK(ret == 0 && v == 250000, "slice_ns '250us' -> 250000 ns (%s)", err);
	ret = parse("slice_ns", "1s", &v);
	CHECK(ret == 0 && v == 1000000000, "slice_ns '1s' -> 1e9 ns (%s)", err);
	ret = parse("slice_ns", "70000ns", &v);
	CHECK(ret == 0 && v == 70000, "slice_ns '70000ns' -> 70000 ns (%s)", err);
	ret = parse("home_move_ns", "2s", &v);
	CHECK(ret == 0 && v == 2000000000, "home_move_ns '2s' -> 2e9 ns (%s)", err);
	ret = parse("steal_min_queued", "8", &v);
	CHECK(ret == 0 && v == 8, "steal_min_queued '8' -> 8 (%s)", err);

	static const char *const bad[] = { "-5", "", "5xs", "5 ms", " 5", "5ms ", "0x10", "ms", "+5", "1.5ms" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ret = parse("slice_ns", bad[i], &v);
		CHECK(ret == -EINVAL && err[0] && v == 0xdeadbeef, "slice_ns '%s': EINVAL, value untouched: %s",
		      bad[i], err);
	}
	ret = parse("steal_min_queued", "5ms", &v);
	CHECK(ret == -EINVAL, "steal_min_queued '5ms': no time suffix on a count: %s", err);
}

static void test_parse_range(void)
{
	const struct tunable *t = must_find("slice_ns");
	char range[64];
	uint64_t v;
	int ret;

	snprintf(range, sizeof(range), "%" PRIu64 "..%" PRIu64, t->min, t->max);
	ret = parse("slice_ns", "1", &v);
	CHECK(ret == -ERANGE && strstr(err, range), "slice_ns '1': ERANGE naming %s: %s", range, err);
	ret = parse("slice_ns", "2s", &v);
	CHECK(ret == -ERANGE && strstr(err, range), "slice_ns '2s': ERANGE naming %s: %s", range, err);
	ret = parse("slice_ns", "99999999999999999999", &v);
	CHECK(ret == -ERANGE && strstr(err, range), "slice_ns 20 digits: overflow is ERANGE: %s", err);
	ret = parse("slice_ns", "99999999999s", &v);
	CHECK(ret == -ERANGE && v == 0xdeadbeef, "slice_ns '99999999999s': suffix overflow is ERANGE: %s", err);

	snprintf(range, sizeof(range), "%" PRIu64, t->min);
	CHECK(parse("slice_ns", range, &v) == 0 && v == t->min, "slice_ns at its minimum is accepted");
	snprintf(range, sizeof(range), "%" PRIu64, t->max);
	CHECK(parse("slice_ns", range, &v) == 0 && v == t->max, "slice_ns at its maximum is accepted");
	snprintf(range, sizeof(range), "%" PRIu64, t->max + 1);
	CHECK(parse("slice_ns", range, &v) == -ERANGE, "slice_ns one past its maximum is ERANGE");

	t = must_find("steal_min_queued");
	snprintf(range, sizeof(range), "%" PRIu64, t->max + 1);
	ret = parse("steal_min_queued", range, &v);
	CHECK(ret == -ERANGE && strstr(err, "tasks"), "steal_min_queued past max: ERANGE with unit: %s", err);
	snprintf(range, sizeof(range), "%" PRIu64, t->min - 1);
	CHECK(parse("steal_min_queued", range, &v) == -ERANGE, "steal_min_queued below min is ERANGE");

	err[0] = '\0';
	ret = tunable_check(must_find("steal"), 2, err, sizeof(err));
	CHECK(ret == -ERANGE && strstr(err, "on or off"), "check steal=2: ERANGE naming on or off: %s", err);
	CHECK(tunable_check(must_find("steal"), 1, err, sizeof(err)) == 0, "check steal=1: accepted");
}

static void test_parse_bool(void)
{
	static const struct { const char *text; uint64_t want; } words[] = {
		{ "on", 1 }, { "off", 0 }, { "true", 1 }, { "false", 0 }, { "yes", 1 }, { "no", 0 },
		{ "1", 1 }, { "0", 0 }, { "ON", 1 }, { "Off", 0 },
	};
	uint64_t v;
	int ret;

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		ret = parse("steal", words[i].text, &v);
		CHECK(ret == 0 && v == words[i].want, "steal '%s' -> %" PRIu64, words[i].text, words[i].want);
	}
	static const char *const bad[] = { "maybe", "", "2", "onn", "o" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ret = parse("steal", bad[i], &v);
		CHECK(ret == -EINVAL && strstr(err, "on or off") && strstr(err, "steal"),
		      "steal '%s': EINVAL naming the tunable and on or off: %s", bad[i], err);
	}
}

static void test_format(void)
{
	char buf[32];

	tunable_format(must_find("steal"), 1, buf, sizeof(buf));
	CHECK(!strcmp(buf, "on"), "format steal 1 -> 'on' (got '%s')", buf);
	tunable_format(must_find("steal"), 0, buf, sizeof(buf));
	CHECK(!strcmp(buf, "off"), "format steal 0 -> 'off' (got '%s')", buf);
	tunable_format(must_find("slice_ns"), 18446744073709551615ULL, buf, sizeof(buf));
	CHECK(!strcmp(buf, "18446744073709551615"), "format u64 max in decimal (got '%s')", buf);
	tunable_format(must_find("steal_min_queued"), 12345, buf, 4);
	CHECK(!strcmp(buf, "123"), "format truncates to the buffer (got '%s')", buf);
	CHECK(!strcmp(tunable_type_name(TUN_U64), "u64") && !strcmp(tunable_type_name(TUN_U32), "u32") &&
	      !strcmp(tunable_type_name(TUN_BOOL), "bool"), "type names u64/u32/bool");
}

int main(void)
{
	test_table();
	test_enum();
	test_layout();
	test_defaults();
	test_store();
	test_parse_numbers();
	test_parse_range();
	test_parse_bool();
	test_format();
	return check_done();
}
