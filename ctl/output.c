// SPDX-License-Identifier: GPL-2.0
/*
 * One formatter, two backends. JSON mode prints the daemon's reply as it
 * came, so scripts see exactly the documented interface; table mode turns
 * the same reply into aligned columns with units a person reads at a glance.
 * Nothing in a reply is trusted to be present or well typed: a missing field
 * prints as "?", it never crashes the CLI.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "ctl.h"
#include "intf.h"

/* ---- reading replies ------------------------------------------------------ */

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

static bool is_num(struct json_object *v)
{
	return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
}

static uint64_t get_u64(struct json_object *o, const char *key)
{
	struct json_object *v = get(o, key);

	if (!is_num(v) || json_object_get_int64(v) < 0)
		return 0;
	return (uint64_t)json_object_get_int64(v);
}

static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v = get(o, key);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "?";
}

static size_t arr_len(struct json_object *a)
{
	return json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

/*
 * What each reply must hold for the tables to mean anything: a reply
 * without them is a protocol error, not an empty success. Nullable fields
 * (?int, ?string in the interface) are not listed.
 */
struct field {
	const char *key;
	enum json_type type;
	const struct field *sub;	/* an object's fields, or each array element's */
};

#define F(key, type)		{ key, json_type_##type, NULL }
#define FS(key, type, sub)	{ key, json_type_##type, sub }
#define F_END			{ NULL, json_type_null, NULL }

static const struct field tunable_fields[] = {
	F("name", string), F("type", string), F("unit", string),
	F("value", int), F("default", int), F("min", int), F("max", int),
	F_END,
};
static const struct field pin_fields[] = {
	F("kind", string), F("node", int), F("origin", string),
	F("active", boolean), F_END,
};
static const struct field status_fields[] = {
	F("state", string), F("kernel", string), F("version", string),
	F("uptime_ns", int), F("attach_count", int), F("restarts", int),
	F("errors", int), F("topology", object), F("placement", object), F("migration", object), F_END,
};
static const struct field stats_fields[] = {
	F("interval_ms", int), F("nodes", array), F("total", object),
	F("total_rates", object), F("queued", int), F("migration", object), F_END,
};
static const struct field topology_fields[] = {
	F("cpus", int), F("online_cpus", int), F("nodes", array),
	F("gpus", array), F_END,
};
static const struct field tunables_fields[] = { FS("tunables", array, tunable_fields), F_END };
static const struct field get_fields[] = { FS("tunable", object, tunable_fields), F_END };
static const struct field set_fields[] = {
	FS("tunable", object, tunable_fields), F("previous", int), F_END,
};
static const struct field pin_reply_fields[] = { FS("pin", object, pin_fields), F_END };
static const struct field pins_fields[] = {
	FS("pins", array, pin_fields), F("gpu_processes", array), F("migration", array), F_END,
};

static int check_fields(struct json_object *o, const struct field *f, const char *where, char *err, size_t errlen)
{
	for (; f->key; f++) {
		struct json_object *v = get(o, f->key);
		char path[160];

		snprintf(path, sizeof(path), "%s%s\"%s\"", where, *where ? "." : "", f->key);
		if (!v) {
			snprintf(err, errlen, "%s missing", path);
			return -EPROTO;
		}
		if (!json_object_is_type(v, f->type)) {
			snprintf(err, errlen, "%s is %s, not %s", path, json_type_to_name(json_object_get_type(v)),
				 json_type_to_name(f->type));
			return -EPROTO;
		}
		if (f->sub && f->type == json_type_object && check_fields(v, f->sub, path, err, errlen) < 0)
			return -EPROTO;
		for (size_t i = 0; f->sub && f->type == json_type_array && i < arr_len(v); i++) {
			char elem[192];

			snprintf(elem, sizeof(elem), "%s[%zu]", path, i);
			if (check_fields(json_object_array_get_idx(v, i), f->sub, elem, err, errlen) < 0)
				return -EPROTO;
		}
	}
	return 0;
}

int output_check_reply(enum action action, struct json_object *params, char *err, size_t errlen)
{
	static const struct field *const by_action[] = {
		[ACT_STATUS] = status_fields, [ACT_STATS] = stats_fields, [ACT_TOPOLOGY] = topology_fields,
		[ACT_TUNABLES] = tunables_fields, [ACT_GET] = get_fields, [ACT_SET] = set_fields,
		[ACT_PIN] = pin_reply_fields, [ACT_UNPIN] = pin_reply_fields, [ACT_PINS] = pins_fields,
	};

	if ((size_t)action >= sizeof(by_action) / sizeof(by_action[0]) || !by_action[action])
		return 0;
	return check_fields(params, by_action[action], "", err, errlen);
}

/* ---- units ------------------------------------------------------------------ */

/* "%.3f" without trailing zeros: 1.500 -> 1.5, 3.000 -> 3. */
static void trim_fraction(char *s)
{
	char *dot = strchr(s, '.'), *end;

	if (!dot)
		return;
	end = s + strlen(s) - 1;
	while (end > dot && *end == '0')
		*end-- = '\0';
	if (end == dot)
		*end = '\0';
}

void fmt_ns(uint64_t ns, char *buf, size_t len)
{
	static const struct {
		uint64_t div;
		const char *unit;
	} u[] = { { 1000000000ULL, "s" }, { 1000000ULL, "ms" }, { 1000ULL, "us" }, { 1, "ns" } };
	size_t i = 0;
	char num[48];

	while (i < 3 && ns < u[i].div)
		i++;
	if (ns % u[i].div == 0) {
		snprintf(buf, len, "%" PRIu64 "%s", ns / u[i].div, u[i].unit);
		return;
	}
	snprintf(num, sizeof(num), "%.3f", (double)ns / (double)u[i].div);
	trim_fraction(num);
	snprintf(buf, len, "%s%s", num, u[i].unit);
}

void fmt_duration(uint64_t ns, char *buf, size_t len)
{
	uint64_t s = ns / 1000000000ULL;

	if (s < 60)
		snprintf(buf, len, "%.1fs", (double)ns / 1e9);
	else if (s < 3600)
		snprintf(buf, len, "%" PRIu64 "m %02" PRIu64 "s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%" PRIu64 "h %02" PRIu64 "m", s / 3600, s / 60 % 60);
	else
		snprintf(buf, len, "%" PRIu64 "d %02" PRIu64 "h", s / 86400, s / 3600 % 24);
}

void fmt_rate(double r, char *buf, size_t len)
{
	static const char *const suffix[] = { "", "k", "M", "G", "T" };
	size_t i = 0;

	if (!(r > 0))		/* negative or NaN: a rate is never either */
		r = 0;
	while (r >= 999.95 && i < 4) {
		r /= 1000;
		i++;
	}
	snprintf(buf, len, "%.1f%s", r, suffix[i]);
}

void fmt_kib(uint64_t kib, char *buf, size_t len)
{
	if (!kib)
		snprintf(buf, len, "-");
	else if (kib >= 1024 * 1024)
		snprintf(buf, len, "%.1f GiB", (double)kib / (1024 * 1024));
	else if (kib >= 1024)
		snprintf(buf, len, "%.1f MiB", (double)kib / 1024);
	else
		snprintf(buf, len, "%" PRIu64 " KiB", kib);
}

void fmt_cpulist(struct json_object *arr, char *buf, size_t len)
{
	size_t n = arr_len(arr), out = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && out < len; ) {
		int64_t first = json_object_get_int64(json_object_array_get_idx(arr, i)), last = first;
		size_t j = i + 1;

		/* The ids are the reply's: json-c saturates a huge one at INT64_MAX, where last + 1 overflows. */
		while (j < n && last < INT64_MAX && json_object_get_int64(json_object_array_get_idx(arr, j)) == last + 1) {
			last++;
			j++;
		}
		if (first == last)
			out += (size_t)snprintf(buf + out, len - out, "%s%" PRId64, out ? "," : "", first);
		else
			out += (size_t)snprintf(buf + out, len - out, "%s%" PRId64 "-%" PRId64, out ? "," : "",
						first, last);
		i = j;
	}
	if (!n)
		snprintf(buf, len, "-");
}

/* ---- aligned tables ---------------------------------------------------------- */

struct table {
	size_t ncols;
	const char *align;	/* 'l' or 'r' per column */
	char **cell;		/* row-major */
	size_t n, cap;
};

static void tbl_init(struct table *t, const char *align)
{
	memset(t, 0, sizeof(*t));
	t->ncols = strlen(align);
	t->align = align;
}

__attribute__((format(printf, 2, 3)))
static void tbl_add(struct table *t, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **c = realloc(t->cell, cap * sizeof(*c));

		if (!c)
			return;
		t->cell = c;
		t->cap = cap;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	t->cell[t->n++] = s;
}

static void tbl_print(struct table *t, FILE *f)
{
	size_t *w = calloc(t->ncols, sizeof(*w)), linecap = 0, len = 0;
	char *line = NULL;

	if (!w)
		return;
	for (size_t i = 0; i < t->n; i++) {
		size_t l = t->cell[i] ? strlen(t->cell[i]) : 0;

		if (l > w[i % t->ncols])
			w[i % t->ncols] = l;
	}
	for (size_t col = 0; col < t->ncols; col++)
		linecap += w[col] + 2;
	line = malloc(linecap + 1);
	for (size_t i = 0; line && i < t->n; i++) {
		size_t col = i % t->ncols;
		const char *s = t->cell[i] ? t->cell[i] : "";
		bool last = col == t->ncols - 1 || i == t->n - 1;

		len += (size_t)snprintf(line + len, linecap + 1 - len, t->align[col] == 'r' ? "%*s%s" : "%-*s%s",
					(int)w[col], s, last ? "" : "  ");
		if (last) {
			/* Padding of empty or left-aligned last cells is not output. */
			while (len && line[len - 1] == ' ')
				len--;
			fprintf(f, "%.*s\n", (int)len, line);
			len = 0;
		}
	}
	free(line);
	free(w);
}

static void tbl_free(struct table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->cell[i]);
	free(t->cell);
}

/* ---- the table backend --------------------------------------------------------- */

/* Status rows of GPU placement: what was found, what is placed, what the scan costs. */
static void placement_rows(struct table *t, struct json_object *pl)
{
	struct json_object *scan = get(pl, "gpu_scan");
	char cpu[32], last[32], wall[32], denied[96] = "";

	if (!json_object_is_type(pl, json_type_object))
		return;
	tbl_add(t, "gpus");
	tbl_add(t, "%" PRIu64 " found, %" PRIu64 " processes using them (homes extend to: %s)", get_u64(pl, "gpus"),
		get_u64(pl, "gpu_processes"), *get_str(pl, "gpu_scope") ? get_str(pl, "gpu_scope") : "?");
	tbl_add(t, "nvml");
	tbl_add(t, "%s", *get_str(pl, "nvml") ? get_str(pl, "nvml") : "?");
	tbl_add(t, "placed");
	tbl_add(t, "%" PRIu64 " processes, %" PRIu64 " cgroups (%" PRIu64 " rules)", get_u64(pl, "placed_processes"),
		get_u64(pl, "placed_cgroups"), get_u64(pl, "pins"));
	tbl_add(t, "gpu scan");
	if (!get_u64(scan, "passes")) {
		tbl_add(t, "%s", get_u64(pl, "gpus") ? "no pass yet" : "off (no GPU)");
		return;
	}
	fmt_ns(get_u64(scan, "cpu_ns"), cpu, sizeof(cpu));
	fmt_ns(get_u64(scan, "last_cpu_ns"), last, sizeof(last));
	fmt_ns(get_u64(scan, "last_wall_ns"), wall, sizeof(wall));
	if (get_u64(scan, "last_denied"))
		snprintf(denied, sizeof(denied), "; %" PRIu64 " processes' files unreadable (no permission)",
			 get_u64(scan, "last_denied"));
	tbl_add(t, "%" PRIu64 " passes, %s CPU in all; last: %" PRIu64 " processes (%" PRIu64 " left for later), %"
		PRIu64 " files, %s CPU over %s%s%s",
		get_u64(scan, "passes"), cpu, get_u64(scan, "last_processes"), get_u64(scan, "last_skipped"),
		get_u64(scan, "last_fds"), last, wall, get_u64(scan, "last_truncated") ? " (some files not looked at)" : "",
		denied);
}

/* Status row of memory migration: whether memory follows its tasks, and why not. */
static void migration_rows(struct table *t, struct json_object *m)
{
	if (!json_object_is_type(m, json_type_object))
		return;
	tbl_add(t, "memory");
	if (json_object_is_type(get(m, "reason"), json_type_string))
		tbl_add(t, "%s: %s", get_str(m, "state"), get_str(m, "reason"));
	else
		tbl_add(t, "%s, following %" PRIu64 " processes to their homes", get_str(m, "state"),
			get_u64(m, "processes"));
}

static void status_table(FILE *f, struct json_object *p)
{
	struct json_object *ex = get(p, "last_exit"), *topo = get(p, "topology"), *att = get(p, "attached_for_ns");
	struct table t;
	char buf[64];

	tbl_init(&t, "ll");
	tbl_add(&t, "state");
	tbl_add(&t, "%s", get_str(p, "state"));
	tbl_add(&t, "kernel");
	tbl_add(&t, "%s", get_str(p, "kernel"));
	tbl_add(&t, "version");
	tbl_add(&t, "%s", get_str(p, "version"));
	fmt_duration(get_u64(p, "uptime_ns"), buf, sizeof(buf));
	tbl_add(&t, "uptime");
	tbl_add(&t, "%s", buf);
	tbl_add(&t, "attached");
	if (is_num(att)) {
		fmt_duration(get_u64(p, "attached_for_ns"), buf, sizeof(buf));
		tbl_add(&t, "%s ago (attach #%" PRIu64 ")", buf, get_u64(p, "attach_count"));
	} else {
		tbl_add(&t, "no (%" PRIu64 " attaches so far)", get_u64(p, "attach_count"));
	}
	tbl_add(&t, "restarts");
	tbl_add(&t, "%" PRIu64 " (CPU hotplug)", get_u64(p, "restarts"));
	tbl_add(&t, "errors");
	tbl_add(&t, "%" PRIu64, get_u64(p, "errors"));
	tbl_add(&t, "idle CPUs");
	if (json_object_is_type(get(p, "idle_tracking"), json_type_string))
		tbl_add(&t, "tracked %s", get_str(p, "idle_tracking"));
	else
		tbl_add(&t, "-");
	tbl_add(&t, "last exit");
	if (json_object_is_type(ex, json_type_object)) {
		const char *msg = get_str(ex, "message");

		tbl_add(&t, "%s: %s%s%s (kind %" PRIu64 ", code %#" PRIx64 ")", get_str(ex, "kind_name"),
			get_str(ex, "reason"), *msg ? ": " : "", msg, get_u64(ex, "kind"),
			(uint64_t)json_object_get_int64(get(ex, "code")));
	} else {
		tbl_add(&t, "none");
	}
	tbl_add(&t, "topology");
	tbl_add(&t, "%" PRIu64 " nodes (%" PRIu64 " with CPUs), %" PRIu64 " CPUs, %" PRIu64 " online",
		get_u64(topo, "nodes"), get_u64(topo, "cpu_nodes"), get_u64(topo, "cpus"),
		get_u64(topo, "online_cpus"));
	placement_rows(&t, get(p, "placement"));
	migration_rows(&t, get(p, "migration"));
	tbl_print(&t, f);
	tbl_free(&t);
}

/* What memory migration moved, where to, and what it could not. */
static void migration_stats(FILE *f, struct json_object *m)
{
	struct json_object *nodes = get(m, "moved_pages");
	char cpu[32], into[256];
	size_t o = 0;

	if (!json_object_is_type(m, json_type_object))
		return;
	into[0] = '\0';
	for (size_t i = 0; i < arr_len(nodes) && o < sizeof(into); i++) {
		struct json_object *n = json_object_array_get_idx(nodes, i);

		o += (size_t)snprintf(into + o, sizeof(into) - o, "%snode %" PRIu64 ": %" PRIu64, i ? ", " : "",
				      get_u64(n, "node"), get_u64(n, "pages"));
	}
	fmt_ns(get_u64(m, "cpu_ns"), cpu, sizeof(cpu));
	fprintf(f, "\nmemory moved to homes: %" PRIu64 " pages%s%s%s, %" PRIu64 " KiB/s now; not moved: %" PRIu64
		" pinned, %" PRIu64 " shared, %" PRIu64 " no room, %" PRIu64 " failed; %s CPU\n",
		get_u64(m, "moved_pages_total"), *into ? " (" : "", into, *into ? ")" : "",
		get_u64(m, "bytes_per_s") / 1024, get_u64(m, "busy_pages"), get_u64(m, "shared_pages"),
		get_u64(m, "nomem_pages"), get_u64(m, "failed_pages"), cpu);
}

/* Counter names in the daemon's order, from the first map that has them. */
/*
 * Share of run time spent on the task's home node, in percent, from an
 * object of home_run_ns and away_run_ns (counters or rates); negative when
 * the daemon reports neither or nothing ran.
 */
static double locality_pct(struct json_object *o)
{
	struct json_object *h = get(o, "home_run_ns"), *a = get(o, "away_run_ns");
	double home, away;

	if (!h || !a)
		return -1;
	home = json_object_get_double(h);
	away = json_object_get_double(a);
	return home + away > 0 ? home * 100 / (home + away) : -1;
}

static void tbl_pct(struct table *t, double pct)
{
	if (pct < 0)
		tbl_add(t, "%s", "-");
	else
		tbl_add(t, "%.1f%%", pct);
}

/* Latency-critical wake latency quantiles, as the daemon names them and as the tables do. */
static const char *const lat_keys[] = { "lat_wake_p50_us", "lat_wake_p99_us" };
static const char *const lat_rows[] = { "lat_wake p50", "lat_wake p99" };

/*
 * A quantile in microseconds (a number), or "-" (null: none measured). One
 * in the histogram's open last bucket is only known to be at least its
 * lower bound (intf.h, AN_WAIT_BUCKETS), which the daemon reports: ">=".
 */
static void tbl_us(struct table *t, struct json_object *us)
{
	const double open_us = (double)(1ULL << (AN_WAIT_BUCKETS - 2));
	double v;
	char buf[32];

	if (!is_num(us)) {
		tbl_add(t, "%s", "-");
		return;
	}
	v = json_object_get_double(us);
	fmt_ns((uint64_t)(v * 1000), buf, sizeof(buf));
	tbl_add(t, "%s%s", v >= open_us ? ">=" : "", buf);
}

static void stats_table(FILE *f, struct json_object *p)
{
	struct json_object *nodes = get(p, "nodes"), *total = get(p, "total"), *trates = get(p, "total_rates");
	size_t nn = arr_len(nodes);
	char align[2 + 2 * 64 + 1], buf[32];
	uint64_t interval = get_u64(p, "interval_ms");
	struct table t;

	if (nn > 63)
		nn = 63;
	memset(align, 'r', 1 + 2 * (nn + 1));
	align[0] = 'l';
	align[1 + 2 * (nn + 1)] = '\0';
	tbl_init(&t, align);

	if (interval)
		fprintf(f, "rates over the last %.1fs, %" PRIu64 " tasks queued\n\n", (double)interval / 1000,
			get_u64(p, "queued"));
	else
		fprintf(f, "no rate interval yet, %" PRIu64 " tasks queued\n\n", get_u64(p, "queued"));
	tbl_add(&t, "COUNTER");
	for (size_t i = 0; i < nn; i++) {
		tbl_add(&t, "NODE %" PRIu64, get_u64(json_object_array_get_idx(nodes, i), "node"));
		tbl_add(&t, "/s");
	}
	tbl_add(&t, "TOTAL");
	tbl_add(&t, "/s");
	if (json_object_is_type(total, json_type_object)) {
		json_object_object_foreach(total, name, v) {
			(void)v;
			tbl_add(&t, "%s", name);
			for (size_t i = 0; i < nn; i++) {
				struct json_object *n = json_object_array_get_idx(nodes, i);

				tbl_add(&t, "%" PRIu64, get_u64(get(n, "counters"), name));
				fmt_rate(json_object_get_double(get(get(n, "rates"), name)), buf, sizeof(buf));
				tbl_add(&t, "%s", buf);
			}
			tbl_add(&t, "%" PRIu64, get_u64(total, name));
			fmt_rate(json_object_get_double(get(trates, name)), buf, sizeof(buf));
			tbl_add(&t, "%s", buf);
		}
	}
	tbl_add(&t, "queued");
	for (size_t i = 0; i < nn; i++) {
		tbl_add(&t, "%" PRIu64, get_u64(json_object_array_get_idx(nodes, i), "queued"));
		tbl_add(&t, "%s", "");
	}
	tbl_add(&t, "%" PRIu64, get_u64(p, "queued"));
	tbl_add(&t, "%s", "");
	/* Since attach, and (in the rate column) over the last interval. */
	if (get(total, "home_run_ns")) {
		tbl_add(&t, "locality");
		for (size_t i = 0; i < nn; i++) {
			struct json_object *n = json_object_array_get_idx(nodes, i);

			tbl_pct(&t, locality_pct(get(n, "counters")));
			tbl_pct(&t, locality_pct(get(n, "rates")));
		}
		tbl_pct(&t, locality_pct(total));
		tbl_pct(&t, locality_pct(trates));
	}
	/* Since attach; the rate columns stay empty. */
	for (size_t q = 0; q < 2 && get(p, lat_keys[q]); q++) {
		tbl_add(&t, "%s", lat_rows[q]);
		for (size_t i = 0; i < nn; i++) {
			tbl_us(&t, get(json_object_array_get_idx(nodes, i), lat_keys[q]));
			tbl_add(&t, "%s", "");
		}
		tbl_us(&t, get(p, lat_keys[q]));
		tbl_add(&t, "%s", "");
	}
	tbl_print(&t, f);
	tbl_free(&t);
}

/* A rate of @name in a node's (or the total's) rates object, per second. */
static double rate_of(struct json_object *o, const char *name)
{
	return json_object_get_double(get(get(o, "rates"), name));
}

void output_top_nodes(FILE *f, struct json_object *p)
{
	struct json_object *nodes = get(p, "nodes");
	char buf[32];
	struct table t;

	tbl_init(&t, "rrrrrrrrrr");
	tbl_add(&t, "NODE");
	tbl_add(&t, "CPUS");
	tbl_add(&t, "BUSY");
	tbl_add(&t, "LOCALITY");
	tbl_add(&t, "QUEUED");
	tbl_add(&t, "STEAL IN/s");
	tbl_add(&t, "STEAL OUT/s");
	tbl_add(&t, "MIGR IN/s");
	tbl_add(&t, "FAR/s");
	tbl_add(&t, "WAKE p99");
	for (size_t i = 0; i < arr_len(nodes); i++) {
		struct json_object *n = json_object_array_get_idx(nodes, i);
		/* Run time per second of wall time is how many CPUs were busy. */
		double busy = (rate_of(n, "home_run_ns") + rate_of(n, "away_run_ns")) / 1e9;

		tbl_add(&t, "%" PRIu64, get_u64(n, "node"));
		tbl_add(&t, "%" PRIu64 "/%" PRIu64, get_u64(n, "online_cpus"), get_u64(n, "cpus"));
		if (get(get(n, "rates"), "home_run_ns"))
			tbl_add(&t, "%.1f", busy);
		else
			tbl_add(&t, "%s", "-");
		tbl_pct(&t, locality_pct(get(n, "rates")));
		tbl_add(&t, "%" PRIu64, get_u64(n, "queued"));
		fmt_rate(rate_of(n, "steal_in"), buf, sizeof(buf));
		tbl_add(&t, "%s", buf);
		fmt_rate(rate_of(n, "steal_out"), buf, sizeof(buf));
		tbl_add(&t, "%s", buf);
		fmt_rate(rate_of(n, "migrate_in"), buf, sizeof(buf));
		tbl_add(&t, "%s", buf);
		/* Of those, from beyond the nearest nodes (SLIT). */
		if (get(get(n, "rates"), "migrate_in_far")) {
			fmt_rate(rate_of(n, "migrate_in_far"), buf, sizeof(buf));
			tbl_add(&t, "%s", buf);
		} else {
			tbl_add(&t, "%s", "-");
		}
		tbl_us(&t, get(n, "lat_wake_p99_us"));
	}
	tbl_print(&t, f);
	tbl_free(&t);
	migration_stats(f, get(p, "migration"));
}

static void gpus_table(FILE *f, struct json_object *gpus)
{
	size_t n = arr_len(gpus);
	struct table t;

	if (!json_object_is_type(gpus, json_type_array))
		return;
	if (!n) {
		fprintf(f, "\nno GPU or accelerator\n");
		return;
	}
	fprintf(f, "\n%zu GPU%s and accelerators\n\n", n, n == 1 ? "" : "s");
	tbl_init(&t, "llrllll");
	tbl_add(&t, "PCI");
	tbl_add(&t, "VENDOR");
	tbl_add(&t, "NODE");
	tbl_add(&t, "CLASS");
	tbl_add(&t, "DRIVER");
	tbl_add(&t, "DEVICES");
	tbl_add(&t, "PROCESSES");
	for (size_t i = 0; i < n; i++) {
		struct json_object *g = json_object_array_get_idx(gpus, i), *devs = get(g, "devices");
		const char *name = get_str(g, "vendor_name");
		struct json_object *node = get(g, "node"), *users = get(g, "processes");
		char d[256], u[256];
		size_t o = 0, uo = 0;

		d[0] = '\0';
		for (size_t k = 0; k < arr_len(devs) && o < sizeof(d); k++)
			o += (size_t)snprintf(d + o, sizeof(d) - o, "%s%s", k ? " " : "",
					      json_object_get_string(json_object_array_get_idx(devs, k)));
		tbl_add(&t, "%s", get_str(g, "pci"));
		tbl_add(&t, "%s %s:%s", *name ? name : "?", get_str(g, "vendor"), get_str(g, "device"));
		if (is_num(node) && json_object_get_int64(node) >= 0)
			tbl_add(&t, "%" PRId64, json_object_get_int64(node));
		else
			tbl_add(&t, "?");
		tbl_add(&t, "%s", get_str(g, "class"));
		tbl_add(&t, "%s", *get_str(g, "driver") ? get_str(g, "driver") : "-");
		tbl_add(&t, "%s", *d ? d : "-");
		/* Each process using it, with the source that says so: "4100(nvml)". */
		u[0] = '\0';
		for (size_t k = 0; k < arr_len(users) && uo < sizeof(u); k++) {
			struct json_object *x = json_object_array_get_idx(users, k);

			uo += (size_t)snprintf(u + uo, sizeof(u) - uo, "%s%" PRIu64 "(%s)", k ? " " : "", get_u64(x, "pid"),
					       get_str(x, "source"));
		}
		tbl_add(&t, "%s", *u ? u : "-");
	}
	tbl_print(&t, f);
	tbl_free(&t);
}

/*
 * Below the node table: each node's last-level caches as CPU lists, and
 * which node serves the memory of a node without CPUs.
 */
static void llcs_lines(FILE *f, struct json_object *nodes)
{
	bool head = false;

	for (size_t i = 0; i < arr_len(nodes); i++) {
		struct json_object *n = json_object_array_get_idx(nodes, i), *llcs = get(n, "llcs");
		struct json_object *home = get(n, "cpu_home");
		char cpus[1024];

		if (!head && (llcs || home))
			fprintf(f, "\n");
		head = head || llcs || home;
		if (!arr_len(get(n, "cpus"))) {
			if (home && json_object_get_int64(home) >= 0)
				fprintf(f, "node %" PRIu64 ": memory only, its tasks run on node %" PRId64 "\n",
					get_u64(n, "id"), json_object_get_int64(home));
			else if (home)
				fprintf(f, "node %" PRIu64 ": memory only, no node with CPUs serves it\n", get_u64(n, "id"));
			continue;
		}
		if (!llcs)
			continue;
		fprintf(f, "node %" PRIu64 " LLCs:", get_u64(n, "id"));
		for (size_t k = 0; k < arr_len(llcs); k++) {
			fmt_cpulist(get(json_object_array_get_idx(llcs, k), "cpus"), cpus, sizeof(cpus));
			fprintf(f, " %s%s", k ? "| " : "", cpus);
		}
		fprintf(f, "\n");
	}
}

static void topology_table(FILE *f, struct json_object *p)
{
	struct json_object *nodes = get(p, "nodes");
	size_t nn = arr_len(nodes);
	struct table t;

	fprintf(f, "%zu nodes, %" PRIu64 " CPUs (%" PRIu64 " online)\n\n", nn, get_u64(p, "cpus"),
		get_u64(p, "online_cpus"));
	tbl_init(&t, "rllrrl");
	tbl_add(&t, "NODE");
	tbl_add(&t, "CPUS");
	tbl_add(&t, "ONLINE");
	tbl_add(&t, "LLCS");
	tbl_add(&t, "MEMORY");
	tbl_add(&t, "DISTANCES");
	for (size_t i = 0; i < nn; i++) {
		struct json_object *n = json_object_array_get_idx(nodes, i), *dist = get(n, "distances");
		char cpus[1024], online[1024], mem[32], d[512];
		size_t out = 0;

		fmt_cpulist(get(n, "cpus"), cpus, sizeof(cpus));
		fmt_cpulist(get(n, "online_cpus"), online, sizeof(online));
		fmt_kib(get_u64(n, "memory_kb"), mem, sizeof(mem));
		d[0] = '\0';
		for (size_t j = 0; j < arr_len(dist) && out < sizeof(d); j++)
			out += (size_t)snprintf(d + out, sizeof(d) - out, "%s%" PRId64, j ? " " : "",
						json_object_get_int64(json_object_array_get_idx(dist, j)));
		tbl_add(&t, "%" PRIu64, get_u64(n, "id"));
		tbl_add(&t, "%s", cpus);
		tbl_add(&t, "%s", online);
		tbl_add(&t, "%zu", arr_len(get(n, "llcs")));
		tbl_add(&t, "%s", mem);
		tbl_add(&t, "%s", d);
	}
	tbl_print(&t, f);
	tbl_free(&t);
	llcs_lines(f, nodes);
	gpus_table(f, get(p, "gpus"));
}

/* A tunable's value in its unit: durations scaled, booleans as on/off. */
static void fmt_tunable(struct json_object *tun, uint64_t v, char *buf, size_t len)
{
	const char *unit = get_str(tun, "unit");

	struct json_object *names = get(tun, "values");

	if (!strcmp(get_str(tun, "type"), "bool"))
		snprintf(buf, len, "%s", v ? "on" : "off");
	else if (!strcmp(get_str(tun, "type"), "enum") && v - get_u64(tun, "min") < arr_len(names))
		snprintf(buf, len, "%s", json_object_get_string(json_object_array_get_idx(names, v - get_u64(tun, "min"))));
	else if (!strcmp(unit, "ns"))
		fmt_ns(v, buf, len);
	else
		snprintf(buf, len, "%" PRIu64, v);
}

static void fmt_range(struct json_object *tun, char *buf, size_t len)
{
	const char *unit = get_str(tun, "unit");
	char lo[32], hi[32];

	if (!strcmp(get_str(tun, "type"), "bool")) {
		snprintf(buf, len, "on|off");
		return;
	}
	if (!strcmp(get_str(tun, "type"), "enum")) {
		struct json_object *names = get(tun, "values");
		size_t o = 0;

		buf[0] = '\0';
		for (size_t i = 0; i < arr_len(names) && o < len; i++)
			o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? "|" : "",
					      json_object_get_string(json_object_array_get_idx(names, i)));
		return;
	}
	fmt_tunable(tun, get_u64(tun, "min"), lo, sizeof(lo));
	fmt_tunable(tun, get_u64(tun, "max"), hi, sizeof(hi));
	snprintf(buf, len, "%s..%s%s%s", lo, hi, strcmp(unit, "ns") && *unit ? " " : "",
		 strcmp(unit, "ns") ? unit : "");
}

static void tunables_table(FILE *f, struct json_object *p)
{
	struct json_object *list = get(p, "tunables");
	struct table t;

	tbl_init(&t, "llllll");
	tbl_add(&t, "NAME");
	tbl_add(&t, "VALUE");
	tbl_add(&t, "DEFAULT");
	tbl_add(&t, "RANGE");
	tbl_add(&t, "TYPE");
	tbl_add(&t, "DESCRIPTION");
	for (size_t i = 0; i < arr_len(list); i++) {
		struct json_object *tun = json_object_array_get_idx(list, i);
		char val[32], def[32], range[80];

		fmt_tunable(tun, get_u64(tun, "value"), val, sizeof(val));
		fmt_tunable(tun, get_u64(tun, "default"), def, sizeof(def));
		fmt_range(tun, range, sizeof(range));
		tbl_add(&t, "%s", get_str(tun, "name"));
		tbl_add(&t, "%s", val);
		tbl_add(&t, "%s", def);
		tbl_add(&t, "%s", range);
		tbl_add(&t, "%s", get_str(tun, "type"));
		tbl_add(&t, "%s", get_str(tun, "description"));
	}
	tbl_print(&t, f);
	tbl_free(&t);
}

static void tunable_table(FILE *f, struct json_object *p)
{
	struct json_object *tun = get(p, "tunable");
	uint64_t v = get_u64(tun, "value");
	char val[32], def[32], range[80];
	struct table t;

	fmt_tunable(tun, v, val, sizeof(val));
	fmt_tunable(tun, get_u64(tun, "default"), def, sizeof(def));
	fmt_range(tun, range, sizeof(range));
	tbl_init(&t, "ll");
	tbl_add(&t, "name");
	tbl_add(&t, "%s", get_str(tun, "name"));
	tbl_add(&t, "value");
	if (!strcmp(get_str(tun, "unit"), "ns"))
		tbl_add(&t, "%s (%" PRIu64 " ns)", val, v);
	else
		tbl_add(&t, "%s", val);
	tbl_add(&t, "default");
	tbl_add(&t, "%s", def);
	tbl_add(&t, "range");
	tbl_add(&t, "%s", range);
	tbl_add(&t, "type");
	tbl_add(&t, "%s", get_str(tun, "type"));
	tbl_add(&t, "description");
	tbl_add(&t, "%s", get_str(tun, "description"));
	tbl_print(&t, f);
	tbl_free(&t);
}

static void set_line(FILE *f, struct json_object *p)
{
	struct json_object *tun = get(p, "tunable");
	char before[32], after[32];

	fmt_tunable(tun, get_u64(p, "previous"), before, sizeof(before));
	fmt_tunable(tun, get_u64(tun, "value"), after, sizeof(after));
	fprintf(f, "%s: %s -> %s\n", get_str(tun, "name"), before, after);
}

/* "process 1234" or "cgroup /a/b" */
static void pin_target(struct json_object *pin, char *buf, size_t len)
{
	if (!strcmp(get_str(pin, "kind"), "process"))
		snprintf(buf, len, "process %" PRIu64, get_u64(pin, "pid"));
	else
		snprintf(buf, len, "cgroup %s", get_str(pin, "cgroup"));
}

static void pin_line(FILE *f, struct json_object *p, bool pinned)
{
	struct json_object *pin = get(p, "pin");
	char what[512];

	pin_target(pin, what, sizeof(what));
	if (pinned)
		fprintf(f, "%s: node %" PRIu64 "%s\n", what, get_u64(pin, "node"),
			json_object_get_boolean(get(pin, "active")) ? "" : " (waiting for the cgroup to exist)");
	else
		fprintf(f, "%s: unpinned (was node %" PRIu64 ")\n", what, get_u64(pin, "node"));
}

static void gpu_procs_table(FILE *f, struct json_object *procs);
static void migration_table(FILE *f, struct json_object *procs);

static void pins_table(FILE *f, struct json_object *p)
{
	struct json_object *pins = get(p, "pins"), *procs = get(p, "gpu_processes");
	struct table t;

	if (!arr_len(pins)) {
		fprintf(f, "no rules\n");
	} else {
		tbl_init(&t, "llrll");
		tbl_add(&t, "RULE");
		tbl_add(&t, "TARGET");
		tbl_add(&t, "NODE");
		tbl_add(&t, "FROM");
		tbl_add(&t, "STATE");
		for (size_t i = 0; i < arr_len(pins); i++) {
			struct json_object *pin = json_object_array_get_idx(pins, i);
			bool process = !strcmp(get_str(pin, "kind"), "process");

			tbl_add(&t, "%s", get_str(pin, "kind"));
			if (process)
				tbl_add(&t, "%" PRIu64, get_u64(pin, "pid"));
			else
				tbl_add(&t, "%s", get_str(pin, "cgroup"));
			tbl_add(&t, "%" PRIu64, get_u64(pin, "node"));
			tbl_add(&t, "%s", get_str(pin, "origin"));
			/* An inactive process rule names one that exited; the timer is about to drop it. */
			tbl_add(&t, "%s", json_object_get_boolean(get(pin, "active")) ? "active" :
					  process ? "exited" : "no such cgroup");
		}
		tbl_print(&t, f);
		tbl_free(&t);
	}
	fputc('\n', f);
	if (!arr_len(procs)) {
		fprintf(f, "no process uses a GPU\n");
	} else {
		gpu_procs_table(f, procs);
	}
	migration_table(f, get(p, "migration"));
}

/* A percentage the daemon computed, or "-" (null: nothing measured yet). */
static void tbl_pct_of(struct table *t, struct json_object *pct)
{
	if (is_num(pct))
		tbl_add(t, "%.0f%%", json_object_get_double(pct));
	else
		tbl_add(t, "-");
}

/* Processes whose memory follows a home given from outside. */
static void migration_table(FILE *f, struct json_object *procs)
{
	struct table t;

	fputc('\n', f);
	if (!arr_len(procs)) {
		fprintf(f, "no process has memory to follow a home\n");
		return;
	}
	tbl_init(&t, "rlrllrrrr");
	tbl_add(&t, "PID");
	tbl_add(&t, "COMMAND");
	tbl_add(&t, "HOME");
	tbl_add(&t, "FROM");
	tbl_add(&t, "MEMORY");
	tbl_add(&t, "MEM LOCAL");
	tbl_add(&t, "RUN LOCAL");
	tbl_add(&t, "MOVED");
	tbl_add(&t, "PINNED");
	for (size_t i = 0; i < arr_len(procs); i++) {
		struct json_object *mp = json_object_array_get_idx(procs, i), *loc = get(mp, "memory_locality_pct");

		tbl_add(&t, "%" PRIu64, get_u64(mp, "pid"));
		tbl_add(&t, "%s", get_str(mp, "comm"));
		tbl_add(&t, "%" PRIu64, get_u64(mp, "node"));
		tbl_add(&t, "%s", get_str(mp, "source"));
		tbl_add(&t, "%s", get_str(mp, "state"));
		tbl_pct_of(&t, loc);
		tbl_pct_of(&t, get(mp, "run_locality_pct"));
		tbl_add(&t, "%" PRIu64, get_u64(mp, "moved_pages"));
		tbl_add(&t, "%" PRIu64, get_u64(mp, "busy_pages"));
	}
	tbl_print(&t, f);
	tbl_free(&t);
}

/* The GPUs (PCI addresses) of @pid in ListPins' gpu_processes, comma-separated; "-" if none. */
static void gpus_of(struct json_object *procs, uint64_t pid, char *buf, size_t len)
{
	size_t o = 0;

	snprintf(buf, len, "-");
	for (size_t i = 0; i < arr_len(procs); i++) {
		struct json_object *gp = json_object_array_get_idx(procs, i), *gpus = get(gp, "gpus");

		if (get_u64(gp, "pid") != pid)
			continue;
		for (size_t k = 0; k < arr_len(gpus) && o < len; k++)
			o += (size_t)snprintf(buf + o, len - o, "%s%s", k ? "," : "",
					      json_object_get_string(json_object_array_get_idx(gpus, k)));
	}
}

void output_top_jobs(FILE *f, struct json_object *p)
{
	struct json_object *procs = get(p, "migration"), *gprocs = get(p, "gpu_processes");
	char gpus[512];
	struct table t;
	size_t shown = 0;

	tbl_init(&t, "rlrllrr");
	tbl_add(&t, "PID");
	tbl_add(&t, "COMMAND");
	tbl_add(&t, "HOME");
	tbl_add(&t, "SOURCE");
	tbl_add(&t, "GPUS");
	tbl_add(&t, "LOCALITY");
	tbl_add(&t, "MEM LOCAL");
	for (size_t i = 0; i < arr_len(procs); i++) {
		struct json_object *mp = json_object_array_get_idx(procs, i);

		/* Placed jobs only: an affinity home is where the process confined itself. */
		if (!strcmp(get_str(mp, "source"), "affinity"))
			continue;
		gpus_of(gprocs, get_u64(mp, "pid"), gpus, sizeof(gpus));
		tbl_add(&t, "%" PRIu64, get_u64(mp, "pid"));
		tbl_add(&t, "%s", get_str(mp, "comm"));
		tbl_add(&t, "%" PRIu64, get_u64(mp, "node"));
		tbl_add(&t, "%s", get_str(mp, "source"));
		tbl_add(&t, "%s", gpus);
		tbl_pct_of(&t, get(mp, "run_locality_pct"));
		tbl_pct_of(&t, get(mp, "memory_locality_pct"));
		shown++;
	}
	if (shown)
		tbl_print(&t, f);
	else
		fprintf(f, "no placed jobs (pins, pinned cgroups, GPU or memory homes)\n");
	tbl_free(&t);
}

static void gpu_procs_table(FILE *f, struct json_object *procs)
{
	struct table t;

	tbl_init(&t, "rlrlll");
	tbl_add(&t, "PID");
	tbl_add(&t, "COMMAND");
	tbl_add(&t, "NODE");
	tbl_add(&t, "SOURCE");
	tbl_add(&t, "GPUS");
	tbl_add(&t, "NOTE");
	for (size_t i = 0; i < arr_len(procs); i++) {
		struct json_object *gp = json_object_array_get_idx(procs, i), *gpus = get(gp, "gpus");
		struct json_object *node = get(gp, "node"), *by = get(gp, "pinned_by");
		struct json_object *via = get(gp, "via"), *alone = get(gp, "left_alone");
		char list[512];
		size_t o = 0;

		list[0] = '\0';
		for (size_t k = 0; k < arr_len(gpus) && o < sizeof(list); k++)
			o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", k ? "," : "",
					      json_object_get_string(json_object_array_get_idx(gpus, k)));
		tbl_add(&t, "%" PRIu64, get_u64(gp, "pid"));
		tbl_add(&t, "%s", get_str(gp, "comm"));
		if (is_num(node))
			tbl_add(&t, "%" PRIu64, get_u64(gp, "node"));
		else
			tbl_add(&t, "-");
		tbl_add(&t, "%s", *get_str(gp, "source") ? get_str(gp, "source") : "-");
		tbl_add(&t, "%s", *list ? list : "-");
		if (json_object_is_type(by, json_type_string))
			tbl_add(&t, "placed by its %s rule", json_object_get_string(by));
		else if (json_object_is_type(alone, json_type_string))
			tbl_add(&t, "left alone: %s", json_object_get_string(alone));
		else if (!is_num(node))
			tbl_add(&t, "GPUs on several or unknown nodes: left to the policy");
		else if (is_num(via))
			tbl_add(&t, "shares the home of GPU process %" PRIu64, get_u64(gp, "via"));
		else
			tbl_add(&t, "%s", "");
	}
	tbl_print(&t, f);
	tbl_free(&t);
}

/* ---- entry points ------------------------------------------------------------------ */

static void print_json(FILE *f, enum out_mode mode, struct json_object *obj)
{
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE;

	flags |= mode == OUT_JSON_LINE ? JSON_C_TO_STRING_PLAIN : JSON_C_TO_STRING_PRETTY;
	fprintf(f, "%s\n", json_object_to_json_string_ext(obj, flags));
}

void output_reply(FILE *f, enum out_mode mode, enum action action, struct json_object *params)
{
	if (mode != OUT_TABLE) {
		print_json(f, mode, params);
		return;
	}
	switch (action) {
	case ACT_STATUS: status_table(f, params); break;
	case ACT_STATS: stats_table(f, params); break;
	case ACT_TOPOLOGY: topology_table(f, params); break;
	case ACT_TUNABLES: tunables_table(f, params); break;
	case ACT_GET: tunable_table(f, params); break;
	case ACT_SET: set_line(f, params); break;
	case ACT_PIN: pin_line(f, params, true); break;
	case ACT_UNPIN: pin_line(f, params, false); break;
	case ACT_PINS: pins_table(f, params); break;
	/* Two replies: main.c prints them with metrics_print(), top.c its frames. */
	case ACT_METRICS:
	case ACT_TOP:
	case ACT_NONE: break;
	}
}

void output_error(FILE *f, FILE *err, enum out_mode mode, const char *error, struct json_object *params)
{
	const char *what = strrchr(error, '.') ? strrchr(error, '.') + 1 : error;

	if (mode != OUT_TABLE) {
		struct json_object *o = json_object_new_object();

		if (o) {
			json_object_object_add(o, "error", json_object_new_string(error));
			json_object_object_add(o, "parameters", json_object_get(params));
			print_json(f, mode, o);
			json_object_put(o);
		}
	}
	fputs("scx-ai-numactl: ", err);
	if (!strcmp(error, VL_ERR_UNKNOWN_TUNABLE)) {
		struct json_object *known = get(params, "known");

		fprintf(err, "unknown tunable '%s'; known:", get_str(params, "tunable"));
		for (size_t i = 0; i < arr_len(known); i++)
			fprintf(err, " %s", json_object_get_string(json_object_array_get_idx(known, i)));
		fputc('\n', err);
	} else if (!strcmp(error, VL_ERR_INVALID_PARAM)) {
		fprintf(err, "the daemon refused parameter '%s'\n", get_str(params, "parameter"));
	} else if (!strcmp(error, VL_ERR_METHOD_NOT_FOUND)) {
		fprintf(err, "the daemon does not implement %s (a different version?)\n", get_str(params, "method"));
	} else if (!strcmp(error, VL_ERR_IFACE_NOT_FOUND)) {
		fprintf(err, "the daemon does not implement interface %s\n", get_str(params, "interface"));
	} else if (json_object_is_type(get(params, "message"), json_type_string)) {
		/* Our interface's errors carry a complete sentence. */
		fprintf(err, "%s%s\n", strcmp(error, VL_ERR_PERMISSION) ? "" : "permission denied: ",
			get_str(params, "message"));
	} else {
		fprintf(err, "%s %s\n", what,
			json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN));
	}
}
