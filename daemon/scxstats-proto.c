// SPDX-License-Identifier: GPL-2.0
/*
 * What the scx_stats endpoint says: requests parsed, replies built. The
 * shapes follow sched-ext/scx's scx_stats crate. stats_meta describes each
 * struct by name: {"name", "top" (the top-level one), "desc", "user" hints,
 * "fields": {NAME: {"datum": "u64"|"float"} or {"dict": {"key": "u64",
 * "datum": {"struct": NAME}}}, "desc"}}. The per-node dict carries the
 * OpenMetrics hints _om_prefix (metric name prefix) and _om_label (the
 * label its keys become), so upstream's exporter makes one gauge a field
 * and node; the dict of placed jobs likewise, labelled by pid (bounded by
 * the scheduler's table of placed processes, AN_MAX_PROC_RUN). A figure
 * not measured yet (a quantile without wakeups, a job's memory before its
 * first sample) is left out of the reply rather than sent as a made-up
 * number. Errors are errno values with a message as "resp".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "clock.h"
#include "control-json.h"
#include "daemon.h"
#include "json-strict.h"
#include "memfollow.h"
#include "scxstats.h"
#include "varlink.h"

#define TOP_STRUCT	"scx_ai_numa"
#define NODE_STRUCT	"scx_ai_numa_node"
#define JOB_STRUCT	"scx_ai_numa_job"

/* One field of a struct: a u64 or float datum with its help text. */
static void field(struct jb *b, struct json_object *fields, const char *name, const char *type, const char *desc)
{
	struct json_object *f = jb_obj(b);

	jb_set(b, f, "datum", jstr(type));
	jb_set(b, f, "desc", jstr(desc));
	jb_set(b, fields, name, f);
}

static struct json_object *struct_meta(struct jb *b, const char *name, const char *desc, bool top,
				       struct json_object *user, struct json_object *fields)
{
	struct json_object *m = jb_obj(b);

	jb_set(b, m, "name", jstr(name));
	if (top)
		jb_set(b, m, "top", jstr("true"));
	jb_set(b, m, "desc", jstr(desc));
	jb_set(b, m, "user", user);
	jb_set(b, m, "fields", fields);
	return m;
}

static void counter_fields(struct jb *b, struct json_object *fields)
{
	for (int i = 0; i < AN_NR_STATS; i++)
		field(b, fields, stats_name(i), "u64", stats_help(i));
}

/* A field holding a dict keyed by u64 of struct @sname. */
static void dict_field(struct jb *b, struct json_object *fields, const char *name, const char *sname,
		       const char *desc)
{
	struct json_object *f = jb_obj(b), *dict = jb_obj(b), *datum = jb_obj(b);

	jb_set(b, datum, "struct", jstr(sname));
	jb_set(b, dict, "key", jstr("u64"));
	jb_set(b, dict, "datum", datum);
	jb_set(b, f, "dict", dict);
	jb_set(b, f, "desc", jstr(desc));
	jb_set(b, fields, name, f);
}

static void lat_wake_fields(struct jb *b, struct json_object *fields)
{
	field(b, fields, "lat_wake_p50_us", "float",
	      "median wake-to-run time of latency-critical tasks since attach, microseconds");
	field(b, fields, "lat_wake_p99_us", "float",
	      "99th percentile wake-to-run time of latency-critical tasks since attach, microseconds");
}

static struct json_object *job_meta(struct jb *b)
{
	struct json_object *f = jb_obj(b), *user = jb_obj(b);

	field(b, f, "home_node", "u64", "kernel node id of the job's home");
	field(b, f, "home_run_ns", "u64", "run time of its threads on their home node since it was placed");
	field(b, f, "away_run_ns", "u64", "run time of its threads off their home node since it was placed");
	field(b, f, "locality", "float", "share of its run time spent on its home node, 0 to 1");
	field(b, f, "memory_locality", "float", "share of its sampled resident pages on its home node, 0 to 1");
	jb_set(b, user, "_om_prefix", jstr("scx_ai_numa_job_"));
	jb_set(b, user, "_om_label", jstr("pid"));
	return struct_meta(b, JOB_STRUCT, "a placed job: pinned, in a pinned cgroup, with a GPU or memory home",
			   false, user, f);
}

static struct json_object *meta_json(struct jb *b)
{
	struct json_object *all = jb_obj(b), *top = jb_obj(b), *node = jb_obj(b);
	struct json_object *tuser = jb_obj(b), *nuser = jb_obj(b);

	field(b, top, "attached", "u64", "1 while the scheduler is attached, else 0");
	field(b, top, "attach_count", "u64", "successful attaches since the daemon started");
	field(b, top, "restarts", "u64", "re-attaches the kernel asked for (CPU hotplug)");
	field(b, top, "errors", "u64", "error exits of the scheduler since the daemon started");
	field(b, top, "uptime_seconds", "float", "seconds since the daemon started");
	field(b, top, "queued", "u64", "tasks waiting in the node queues");
	counter_fields(b, top);
	lat_wake_fields(b, top);
	dict_field(b, top, "jobs", JOB_STRUCT, "placed jobs, by pid");
	dict_field(b, top, "nodes", NODE_STRUCT, "per NUMA node with CPUs, by kernel node id");
	jb_set(b, tuser, "_om_prefix", jstr("scx_ai_numa_"));
	jb_set(b, all, TOP_STRUCT, struct_meta(b, TOP_STRUCT, "scx_ai_numa scheduler, counters since attach",
					       true, tuser, top));

	field(b, node, "cpus", "u64", "CPUs of the node");
	field(b, node, "online_cpus", "u64", "online CPUs of the node");
	field(b, node, "queued", "u64", "tasks waiting in the node's queue");
	field(b, node, "locality", "float",
	      "share of the run time on this node since attach spent by tasks whose home it is, 0 to 1");
	counter_fields(b, node);
	lat_wake_fields(b, node);
	jb_set(b, nuser, "_om_prefix", jstr("scx_ai_numa_node_"));
	jb_set(b, nuser, "_om_label", jstr("node"));
	jb_set(b, all, NODE_STRUCT, struct_meta(b, NODE_STRUCT, "one NUMA node, counters since attach",
						false, nuser, node));
	jb_set(b, all, JOB_STRUCT, job_meta(b));
	return all;
}

static void counters(struct jb *b, struct json_object *o, const uint64_t *cnt)
{
	for (int i = 0; i < AN_NR_STATS; i++)
		jb_set(b, o, stats_name(i), juint(cnt[i]));
}

/* Home run time over all run time (intf.h: HOME_RUN_NS, AWAY_RUN_NS); 1 while nothing ran. */
static double locality(const uint64_t *cnt)
{
	double home = (double)cnt[AN_STAT_HOME_RUN_NS], away = (double)cnt[AN_STAT_AWAY_RUN_NS];

	return home + away > 0 ? home / (home + away) : 1.0;
}

/* The wake-latency quantiles of @hist, left out while there were no wakeups. */
static void lat_wake(struct jb *b, struct json_object *o, const uint64_t *hist)
{
	double p50 = stats_hist_quantile(hist, 0.5), p99 = stats_hist_quantile(hist, 0.99);

	if (p50 >= 0)
		jb_set(b, o, "lat_wake_p50_us", json_object_new_double(p50));
	if (p99 >= 0)
		jb_set(b, o, "lat_wake_p99_us", json_object_new_double(p99));
}

/* The placed jobs whose run time the scheduler keeps, by pid. */
static struct json_object *jobs(struct jb *b, struct daemon *d, const struct daemon_view *v)
{
	struct json_object *o = jb_obj(b);
	const struct mig_proc *mp;
	size_t n = memfollow_procs(v->memfollow, &mp);
	char key[16];

	for (size_t i = 0; i < n; i++) {
		const struct mig_proc *p = &mp[i];
		struct json_object *j;
		struct an_proc_run r;
		uint64_t all;

		if (daemon_proc_run(d, p, &r) < 0)
			continue;
		all = r.home_ns + r.away_ns;
		j = jb_obj(b);
		jb_set(b, j, "home_node", juint(p->node >= 0 ? (uint64_t)p->node : 0));
		jb_set(b, j, "home_run_ns", juint(r.home_ns));
		jb_set(b, j, "away_run_ns", juint(r.away_ns));
		jb_set(b, j, "locality", json_object_new_double(all ? (double)r.home_ns / (double)all : 1.0));
		if (p->sampled_ns && p->sample.resident && p->node >= 0 && p->node < AN_MAX_NODE_ID)
			jb_set(b, j, "memory_locality",
			       json_object_new_double((double)p->sample.pages[p->node] / (double)p->sample.resident));
		snprintf(key, sizeof(key), "%d", (int)p->pid);
		jb_set(b, o, key, j);
	}
	return o;
}

/* The top struct's values; NULL with *errp set when there is no sample. */
static struct json_object *stats_resp(struct jb *b, struct daemon *d, int *errp)
{
	struct daemon_view v;
	struct stats st;
	struct json_object *o, *nodes;
	uint64_t queued = 0;
	uint32_t nr;
	char key[16];

	daemon_view(d, &v);
	*errp = daemon_stats(d, &st);
	if (*errp < 0)
		return NULL;
	nr = st.nr_nodes < AN_MAX_NODES ? st.nr_nodes : AN_MAX_NODES;
	o = jb_obj(b);
	nodes = jb_obj(b);
	for (uint32_t i = 0; i < nr; i++) {
		const struct stats_node *sn = &st.node[i];
		struct json_object *n = jb_obj(b);

		jb_set(b, n, "cpus", juint(sn->nr_cpus));
		jb_set(b, n, "online_cpus", juint(sn->nr_online));
		jb_set(b, n, "queued", juint(sn->queued));
		jb_set(b, n, "locality", json_object_new_double(locality(sn->cnt)));
		counters(b, n, sn->cnt);
		lat_wake(b, n, sn->lat_wake_hist);
		snprintf(key, sizeof(key), "%u", sn->node_id);
		jb_set(b, nodes, key, n);
		queued += sn->queued;
	}
	jb_set(b, o, "attached", juint(v.state == ST_RUNNING));
	jb_set(b, o, "attach_count", juint(v.attach_count));
	jb_set(b, o, "restarts", juint(v.restarts));
	jb_set(b, o, "errors", juint(v.errors));
	jb_set(b, o, "uptime_seconds", json_object_new_double((double)(mono_ns() - v.started_ns) / 1e9));
	jb_set(b, o, "queued", juint(queued));
	counters(b, o, st.total);
	lat_wake(b, o, st.total_lat_wake_hist);
	jb_set(b, o, "jobs", jobs(b, d, &v));
	jb_set(b, o, "nodes", nodes);
	return o;
}

/* One reply line. Returns 0 or -errno (-ENOBUFS: the client's output is full). */
static int put_reply(struct vl_out *out, int err, struct json_object *resp)
{
	const int flags = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;
	struct json_object *r = json_object_new_object(), *args = json_object_new_object();
	const char *s;
	size_t n;
	int ret = -ENOMEM;

	if (!r || !args || !resp)
		goto out;
	json_object_object_add(args, "resp", resp);
	resp = NULL;
	json_object_object_add(r, "errno", json_object_new_int(err));
	json_object_object_add(r, "args", args);
	args = NULL;
	s = json_object_to_json_string_length(r, flags, &n);
	if (!s)
		goto out;
	/* Both or neither: a reply without its newline would run into the next. */
	if (vl_out_pending(out) + n + 1 > out->max) {
		ret = -ENOBUFS;
		goto out;
	}
	ret = vl_out_put_raw(out, s, n);
	if (!ret)
		ret = vl_out_put_raw(out, "\n", 1);
out:
	json_object_put(resp);
	json_object_put(args);
	json_object_put(r);
	return ret;
}

int scxstats_put_error(struct vl_out *out, int err, const char *msg)
{
	return put_reply(out, err, json_object_new_string(msg));
}

/* args: absent, null, or an object of strings (upstream's BTreeMap<String, String>). */
static const char *check_args(struct json_object *args)
{
	if (!args || json_object_is_type(args, json_type_null))
		return NULL;
	if (!json_object_is_type(args, json_type_object))
		return "\"args\" must be an object";
	json_object_object_foreach(args, k, v) {
		(void)k;
		if (!json_object_is_type(v, json_type_string))
			return "every value of \"args\" must be a string";
	}
	return NULL;
}

/*
 * How many bytes of the client's @s (valid UTF-8: the request passed the
 * strict check) to quote, at most @max: never half a character, which
 * would make the reply invalid UTF-8 that strict clients refuse whole.
 */
static int quote_len(const char *s, int max)
{
	int n = (int)strnlen(s, (size_t)max + 1);

	if (n <= max)
		return n;
	for (n = max; n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80; n--)
		;
	return n;
}

int scxstats_handle(struct daemon *d, const char *line, size_t len, struct vl_out *out)
{
	struct json_object *req = NULL, *args = NULL, *resp;
	struct jb b = { 0 };
	const char *name, *target = "top", *bad;
	char err[200], msg[300];
	int ret;

	/* A line ending in CRLF is still one request. */
	if (len && line[len - 1] == '\r')
		len--;
	if (json_strict_check(line, len, VL_MAX_DEPTH, err, sizeof(err)) < 0 ||
	    vl_json_parse(line, len, &req, err, sizeof(err)) < 0) {
		snprintf(msg, sizeof(msg), "malformed request: %s", err);
		return scxstats_put_error(out, EINVAL, msg);
	}
	if (!json_object_is_type(req, json_type_object)) {
		json_object_put(req);
		return scxstats_put_error(out, EINVAL, "a request is a JSON object");
	}
	json_object_object_get_ex(req, "args", &args);
	name = vl_get_string(req, "req");
	bad = name ? check_args(args) : "\"req\" must be a string";
	if (bad) {
		json_object_put(req);
		return scxstats_put_error(out, EINVAL, bad);
	}
	if (args && vl_get_string(args, "target"))
		target = vl_get_string(args, "target");
	if (!strcmp(name, "stats_meta")) {
		resp = meta_json(&b);
	} else if (!strcmp(name, "stats")) {
		if (strcmp(target, "top")) {
			snprintf(msg, sizeof(msg), "unknown stat target '%.*s'", quote_len(target, 64), target);
			json_object_put(req);
			return scxstats_put_error(out, EINVAL, msg);
		}
		resp = stats_resp(&b, d, &ret);
		if (!resp && !b.oom) {
			snprintf(msg, sizeof(msg), "reading scheduler counters: %s", strerror(-ret));
			json_object_put(req);
			return scxstats_put_error(out, -ret, msg);
		}
	} else {
		snprintf(msg, sizeof(msg), "unknown command '%.*s'", quote_len(name, 64), name);
		json_object_put(req);
		return scxstats_put_error(out, EINVAL, msg);
	}
	json_object_put(req);
	if (b.oom) {
		json_object_put(resp);
		return -ENOMEM;
	}
	return put_reply(out, 0, resp);
}
