// SPDX-License-Identifier: GPL-2.0
/*
 * `scx-ai-numactl metrics`: the Status, Stats and ListPins replies as the Prometheus
 * text exposition, for node_exporter's textfile collector (or any scraper
 * that reads a file). Conventions: one prefix (scx_ai_numa_), counters end
 * in _total, base units (seconds: nanosecond counters are converted), per-node series carry node="N" and no
 * sum of them is exported (PromQL sums). The output ends with "# EOF", as
 * OpenMetrics does; in the text format it is a comment. Counter names and
 * help texts come from the BPF contract's list (intf.h), so a new counter
 * shows up here without an edit; one the daemon reports that this build
 * does not know gets a generic help text.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "ctl.h"
#include "intf.h"

#define PREFIX	"scx_ai_numa_"
/* The counter that is the wake-latency histogram's sum (intf.h: LAT_WAKE_NS). */
#define LAT_WAKE_SUM	"lat_wake_ns"

#define STAT_HELP_(id, name, help)	{ name, help },
static const struct {
	const char *name, *help;
} counter_help[] = {
	AN_STATS(STAT_HELP_)
};
#undef STAT_HELP_

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static bool get_u64(struct json_object *o, const char *key, uint64_t *out)
{
	struct json_object *v = get(o, key);

	if (!v || !json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
		return false;
	*out = (uint64_t)json_object_get_int64(v);
	return true;
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP " PREFIX "%s %s\n# TYPE " PREFIX "%s %s\n", name, help, name, type);
}

/* A metric name part from the daemon: only [a-z0-9_] passes, the rest is refused. */
static bool name_ok(const char *s)
{
	if (!*s || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* A label value from the daemon, escaped as the format wants: \\, \" and \n. */
static void label_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void status_metrics(FILE *f, struct json_object *st)
{
	struct json_object *pl = get(st, "placement");
	const char *state = json_object_get_string(get(st, "state"));
	uint64_t v;

	family(f, "info", "gauge", "the daemon's version, the kernel and the scheduler's state; always 1");
	fputs(PREFIX "info{version=\"", f);
	label_value(f, json_object_get_string(get(st, "version")));
	fputs("\",kernel=\"", f);
	label_value(f, json_object_get_string(get(st, "kernel")));
	fputs("\",state=\"", f);
	label_value(f, state);
	fputs("\"} 1\n", f);
	family(f, "attached", "gauge", "1 while the scheduler is attached, else 0");
	fprintf(f, PREFIX "attached %d\n", !strcmp(state, "running"));
	get_u64(st, "uptime_ns", &v);
	family(f, "uptime_seconds", "gauge", "seconds since the daemon started");
	fprintf(f, PREFIX "uptime_seconds %.3f\n", (double)v / 1e9);
	get_u64(st, "attach_count", &v);
	family(f, "attaches_total", "counter", "successful attaches of the scheduler since the daemon started");
	fprintf(f, PREFIX "attaches_total %" PRIu64 "\n", v);
	get_u64(st, "restarts", &v);
	family(f, "restarts_total", "counter", "re-attaches the kernel asked for (CPU hotplug) since the daemon started");
	fprintf(f, PREFIX "restarts_total %" PRIu64 "\n", v);
	get_u64(st, "errors", &v);
	family(f, "errors_total", "counter", "error exits of the scheduler since the daemon started");
	fprintf(f, PREFIX "errors_total %" PRIu64 "\n", v);
	if (get_u64(pl, "pins", &v)) {
		family(f, "pins", "gauge", "placement rules (pins) in force");
		fprintf(f, PREFIX "pins %" PRIu64 "\n", v);
	}
	if (get_u64(pl, "placed_processes", &v)) {
		family(f, "placed_processes", "gauge", "processes given a home node by a pin or their GPUs");
		fprintf(f, PREFIX "placed_processes %" PRIu64 "\n", v);
	}
}

/* One gauge of every node from the node objects' field @key. */
static void node_gauge(FILE *f, struct json_object *nodes, const char *name, const char *key, const char *help)
{
	family(f, name, "gauge", help);
	for (size_t i = 0; i < json_object_array_length(nodes); i++) {
		struct json_object *n = json_object_array_get_idx(nodes, i);
		uint64_t id, v;

		if (get_u64(n, "node", &id) && get_u64(n, key, &v))
			fprintf(f, PREFIX "%s{node=\"%" PRIu64 "\"} %" PRIu64 "\n", name, id, v);
	}
}

static const char *help_of(const char *counter)
{
	for (size_t i = 0; i < sizeof(counter_help) / sizeof(counter_help[0]); i++)
		if (!strcmp(counter_help[i].name, counter))
			return counter_help[i].help;
	return "scheduler events of this kind";
}

/*
 * A histogram in seconds from the node objects' bucket list @key (bucket b
 * of the daemon holds times below 2^b us), with its _sum from the
 * nanosecond counter @sum_ns when the daemon reports one.
 */
static void histogram(FILE *f, struct json_object *nodes, const char *name, const char *key, const char *sum_ns,
		      const char *help)
{
	family(f, name, "histogram", help);
	for (size_t i = 0; i < json_object_array_length(nodes); i++) {
		struct json_object *n = json_object_array_get_idx(nodes, i), *h = get(n, key);
		uint64_t id, cum = 0, sum;

		if (!get_u64(n, "node", &id) || !h || !json_object_is_type(h, json_type_array))
			continue;
		for (size_t b = 0; b < json_object_array_length(h); b++) {
			struct json_object *bucket = json_object_array_get_idx(h, b);
			uint64_t le, count;

			if (!get_u64(bucket, "count", &count))
				continue;
			cum += count;
			if (get_u64(bucket, "le_us", &le))
				fprintf(f, PREFIX "%s_bucket{node=\"%" PRIu64 "\",le=\"%g\"} %" PRIu64 "\n",
					name, id, (double)le / 1e6, cum);
		}
		fprintf(f, PREFIX "%s_bucket{node=\"%" PRIu64 "\",le=\"+Inf\"} %" PRIu64 "\n", name, id, cum);
		if (sum_ns && get_u64(get(n, "counters"), sum_ns, &sum))
			fprintf(f, PREFIX "%s_sum{node=\"%" PRIu64 "\"} %.9f\n", name, id, (double)sum / 1e9);
		fprintf(f, PREFIX "%s_count{node=\"%" PRIu64 "\"} %" PRIu64 "\n", name, id, cum);
	}
}

static void stats_metrics(FILE *f, struct json_object *stats)
{
	struct json_object *nodes = get(stats, "nodes"), *first;
	char name[96];

	node_gauge(f, nodes, "cpus", "cpus", "CPUs of the node");
	node_gauge(f, nodes, "online_cpus", "online_cpus", "online CPUs of the node");
	node_gauge(f, nodes, "queued_tasks", "queued", "tasks waiting in the node's queue");
	/* The counters every node reports, in the daemon's order. */
	first = json_object_array_length(nodes) ? get(json_object_array_get_idx(nodes, 0), "counters") : NULL;
	if (first && json_object_is_type(first, json_type_object)) {
		json_object_object_foreach(first, key, val) {
			size_t len = strlen(key);
			/* Nanosecond counters (intf.h: names ending in _ns) are exported in seconds. */
			bool ns = len > 3 && !strcmp(key + len - 3, "_ns");

			(void)val;
			/* The histogram's _sum, below. */
			if (!name_ok(key) || !strcmp(key, LAT_WAKE_SUM))
				continue;
			snprintf(name, sizeof(name), "%.*s%s", (int)(ns ? len - 3 : len), key,
				 ns ? "_seconds_total" : "_total");
			family(f, name, "counter", help_of(key));
			for (size_t i = 0; i < json_object_array_length(nodes); i++) {
				struct json_object *n = json_object_array_get_idx(nodes, i);
				uint64_t id, v;

				if (!get_u64(n, "node", &id) || !get_u64(get(n, "counters"), key, &v))
					continue;
				if (ns)
					fprintf(f, PREFIX "%s{node=\"%" PRIu64 "\"} %.9f\n", name, id, (double)v / 1e9);
				else
					fprintf(f, PREFIX "%s{node=\"%" PRIu64 "\"} %" PRIu64 "\n", name, id, v);
			}
		}
	}
	histogram(f, nodes, "queue_wait_seconds", "wait_hist_us", NULL,
		  "time tasks waited in the node's queue before running");
	histogram(f, nodes, "lat_wake_seconds", "lat_wake_hist_us", LAT_WAKE_SUM,
		  "wake-to-run time of latency-critical (launcher-class) tasks that ran on the node");
}

/* The labels of a placed process: its pid and command. */
static void proc_labels(FILE *f, const char *name, struct json_object *p, uint64_t pid)
{
	fprintf(f, PREFIX "%s{pid=\"%" PRIu64 "\",comm=\"", name, pid);
	label_value(f, json_object_get_string(get(p, "comm")));
	fputs("\"} ", f);
}

/*
 * Per placed process (ListPins' migration list with a run time kept): one
 * series each, labelled by pid and command. Bounded by the scheduler's map
 * of kept processes (AN_MAX_PROC_RUN); a restarted job is a new series.
 */
static void process_metrics(FILE *f, struct json_object *pins)
{
	static const struct {
		const char *name, *help;
	} fam[] = {
		{ "process_home_run_seconds_total", "run time of a placed process's threads on its home node since it was placed" },
		{ "process_away_run_seconds_total", "run time of a placed process's threads off its home node since it was placed" },
		{ "process_memory_locality_ratio", "share of a placed process's sampled resident pages on its home node, 0 to 1" },
	};
	struct json_object *procs = get(pins, "migration");
	size_t np = procs && json_object_is_type(procs, json_type_array) ? json_object_array_length(procs) : 0;

	for (size_t k = 0; k < sizeof(fam) / sizeof(fam[0]); k++) {
		family(f, fam[k].name, k < 2 ? "counter" : "gauge", fam[k].help);
		for (size_t i = 0; i < np; i++) {
			struct json_object *p = json_object_array_get_idx(procs, i), *loc = get(p, "memory_locality_pct");
			uint64_t pid, home, away;

			if (!get_u64(p, "pid", &pid) || !get_u64(p, "run_home_ns", &home) ||
			    !get_u64(p, "run_away_ns", &away))
				continue;
			if (k == 2 && !(json_object_is_type(loc, json_type_double) || json_object_is_type(loc, json_type_int)))
				continue;
			proc_labels(f, fam[k].name, p, pid);
			if (k < 2)
				fprintf(f, "%.9f\n", (double)(k ? away : home) / 1e9);
			else
				fprintf(f, "%.4f\n", json_object_get_double(loc) / 100);
		}
	}
}

void metrics_print(FILE *f, struct json_object *status, struct json_object *stats, struct json_object *pins)
{
	status_metrics(f, status);
	stats_metrics(f, stats);
	process_metrics(f, pins);
	fputs("# EOF\n", f);
}
