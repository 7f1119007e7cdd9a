// SPDX-License-Identifier: GPL-2.0
/*
 * The control interface's methods: one table of {name, handler, needs_priv,
 * parameters}. Names, privilege and parameter types are checked once, here,
 * before any handler runs, so a handler only sees well-formed input. The
 * handlers read the daemon through daemon_view(), change it only through
 * daemon.h's and placement.h's functions, and know nothing of sockets. The
 * interface description they implement is in control-idl.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/utsname.h>
#include <json-c/json.h>

#include "clock.h"
#include "control-idl.h"
#include "control-json.h"
#include "control-methods.h"
#include "daemon.h"
#include "exitinfo.h"
#include "log.h"
#include "memfollow.h"
#include "placement.h"
#include "varlink.h"

#ifndef SCX_AI_NUMA_VERSION
#define SCX_AI_NUMA_VERSION "unknown"
#endif

/* Longest tunable value text looked at; tunable_parse quotes at most 64 bytes of it. */
#define VALUE_TEXT_MAX	64

struct call {
	struct daemon *d;
	const struct ctl_peer *peer;
	struct vl_call *vc;
	struct jb jb;
	struct json_object *reply;	/* parameters of a successful reply */
	const char *error;		/* error name; NULL on success */
	struct json_object *eparams;	/* parameters of the error */
	bool stream;			/* more replies will follow */
};

static const struct an_tunables *tunables_of(struct call *c)
{
	struct daemon_view v;

	daemon_view(c->d, &v);
	return v.tun;
}

static struct placement *placement_of(struct call *c)
{
	struct daemon_view v;

	daemon_view(c->d, &v);
	return v.placement;
}

static int fail(struct call *c, const char *error, const char *key, const char *val)
{
	c->error = error;
	c->eparams = jb_obj(&c->jb);
	if (key)
		jb_set(&c->jb, c->eparams, key, jstr(val));
	return 0;
}

static int fail_msg(struct call *c, const char *error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail_msg(struct call *c, const char *error, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fail(c, error, "message", msg);
}

/* JSON types a parameter accepts, as a mask of 1 << enum json_type. */
#define P_STRING	(1u << json_type_string)
#define P_INT		(1u << json_type_int)
#define P_BOOL		(1u << json_type_boolean)

/* Not a type: the parameter may be left out, or sent as null (varlink's ?type). */
#define P_OPTIONAL	(1u << 31)

struct param {
	const char *name;
	unsigned int types;
};

struct method {
	const char *name;		/* qualified: interface.Method */
	int (*fn)(struct call *c);
	bool needs_priv;		/* changes state: root or the control group only */
	bool streams;			/* honours "more" */
	struct param params[4];		/* required unless optional; unlisted ones are refused; NULL-ended */
};

static int m_get_info(struct call *c)
{
	struct jb *b = &c->jb;
	struct json_object *ifaces = jb_arr(b);

	c->reply = jb_obj(b);
	jb_set(b, c->reply, "vendor", jstr("scx_ai_numa"));
	jb_set(b, c->reply, "product", jstr("scx_ai_numad"));
	jb_set(b, c->reply, "version", jstr(SCX_AI_NUMA_VERSION));
	jb_set(b, c->reply, "url", jstr("man:scx_ai_numad(8)"));
	jb_push(b, ifaces, jstr(VL_SERVICE));
	jb_push(b, ifaces, jstr(VL_IFACE));
	jb_set(b, c->reply, "interfaces", ifaces);
	return 0;
}

static int m_get_description(struct call *c)
{
	const char *iface = vl_get_string(c->vc->params, "interface");
	const char *text = NULL;

	if (!strcmp(iface, VL_SERVICE))
		text = control_idl_service;
	else if (!strcmp(iface, VL_IFACE))
		text = control_idl_iface;
	if (!text)
		return fail(c, VL_ERR_IFACE_NOT_FOUND, "interface", iface);
	c->reply = jb_obj(&c->jb);
	jb_set(&c->jb, c->reply, "description", jstr(text));
	return 0;
}

static struct json_object *exit_json(struct jb *b, const struct an_exit_info *e)
{
	struct json_object *o;
	char reason[AN_EXIT_REASON_LEN + 1], msg[AN_EXIT_MSG_LEN + 1];

	/* The kernel fills these; do not trust them to be terminated. */
	snprintf(reason, sizeof(reason), "%.*s", (int)sizeof(e->reason), e->reason);
	snprintf(msg, sizeof(msg), "%.*s", (int)sizeof(e->msg), e->msg);
	o = jb_obj(b);
	jb_set(b, o, "kind", jint(e->kind));
	jb_set(b, o, "kind_name", jstr(exit_kind_str(e->kind)));
	jb_set(b, o, "code", jint(e->exit_code));
	jb_set(b, o, "reason", jstr(reason));
	jb_set(b, o, "message", jstr(msg));
	return o;
}

static struct json_object *placement_json(struct jb *b, struct placement *pl)
{
	struct json_object *o = jb_obj(b), *scan = jb_obj(b);
	struct placement_info pi;

	placement_get_info(pl, &pi);
	jb_set(b, scan, "passes", juint(pi.scan.passes));
	jb_set(b, scan, "cpu_ns", juint(pi.scan.cpu_ns));
	jb_set(b, scan, "last_cpu_ns", juint(pi.scan.last_cpu_ns));
	jb_set(b, scan, "last_wall_ns", juint(pi.scan.last_wall_ns));
	jb_set(b, scan, "last_processes", juint(pi.scan.last_procs));
	jb_set(b, scan, "last_fds", juint(pi.scan.last_fds));
	jb_set(b, scan, "last_skipped", juint(pi.scan.last_skipped));
	jb_set(b, scan, "last_truncated", juint(pi.scan.last_truncated));
	jb_set(b, scan, "last_denied", juint(pi.scan.last_denied));
	jb_set(b, scan, "last_gpu_processes", juint(pi.scan.last_hits));
	jb_set(b, o, "gpus", jint(pi.nr_gpus));
	jb_set(b, o, "pins", juint(pi.nr_pins));
	jb_set(b, o, "gpu_processes", juint(pi.nr_gpu_procs));
	jb_set(b, o, "nvml", jstr(pi.nvml));
	jb_set(b, o, "gpu_scope", jstr(gpu_scope_name(pi.scope)));
	jb_set(b, o, "placed_processes", juint(pi.nr_tgid_homes));
	jb_set(b, o, "placed_cgroups", juint(pi.nr_cgroup_homes));
	jb_set(b, o, "gpu_scan", scan);
	return o;
}

static struct json_object *migration_summary_json(struct jb *b, const struct memfollow *mf)
{
	struct json_object *o = jb_obj(b);
	const struct mig_proc *procs;
	const char *why;
	enum memfollow_state st = memfollow_state(mf, &why);

	jb_set(b, o, "state", jstr(memfollow_state_str(st)));
	if (why)
		jb_set(b, o, "reason", jstr(why));
	else
		jb_set_null(b, o, "reason");
	jb_set(b, o, "processes", juint(memfollow_procs(mf, &procs)));
	return o;
}

static int m_status(struct call *c)
{
	struct daemon_view v;
	struct jb *b = &c->jb;
	struct json_object *topo;
	struct utsname u;
	uint64_t now = mono_ns();

	daemon_view(c->d, &v);
	if (uname(&u) < 0)
		snprintf(u.release, sizeof(u.release), "unknown");
	c->reply = jb_obj(b);
	jb_set(b, c->reply, "state", jstr(sched_state_str(v.state)));
	jb_set(b, c->reply, "kernel", jstr(u.release));
	jb_set(b, c->reply, "version", jstr(SCX_AI_NUMA_VERSION));
	jb_set(b, c->reply, "uptime_ns", juint(now - v.started_ns));
	if (v.state == ST_RUNNING)
		jb_set(b, c->reply, "attached_for_ns", juint(now - v.attached_ns));
	else
		jb_set_null(b, c->reply, "attached_for_ns");
	jb_set(b, c->reply, "attach_count", juint(v.attach_count));
	jb_set(b, c->reply, "restarts", juint(v.restarts));
	jb_set(b, c->reply, "errors", juint(v.errors));
	if (v.state == ST_RUNNING)
		jb_set(b, c->reply, "idle_tracking", jstr(v.idle_per_node ? "per-node" : "global"));
	else
		jb_set_null(b, c->reply, "idle_tracking");
	if (v.last_exit->kind == AN_EXIT_NONE)
		jb_set_null(b, c->reply, "last_exit");
	else
		jb_set(b, c->reply, "last_exit", exit_json(b, v.last_exit));

	topo = jb_obj(b);
	jb_set(b, topo, "nodes", jint(v.topo->nr_nodes));
	jb_set(b, topo, "cpu_nodes", jint(topology_nr_cpu_nodes(v.topo)));
	jb_set(b, topo, "cpus", jint(v.topo->nr_cpus));
	jb_set(b, topo, "online_cpus", jint(v.topo->nr_online));
	jb_set(b, c->reply, "topology", topo);
	jb_set(b, c->reply, "placement", placement_json(b, v.placement));
	jb_set(b, c->reply, "migration", migration_summary_json(b, v.memfollow));
	return 0;
}

/*
 * A counter's key: its stats_name, or "stat<N>" should a counter be added to
 * intf.h before it gets a name, so the reply stays complete and valid.
 */
static const char *stat_key(int i, char *buf, size_t len)
{
	const char *name = stats_name(i);

	if (name && *name && strcmp(name, "?"))
		return name;
	snprintf(buf, len, "stat%d", i);
	return buf;
}

static struct json_object *counters_json(struct jb *b, const uint64_t *cnt)
{
	struct json_object *o = jb_obj(b);
	char buf[16];

	for (int i = 0; i < AN_NR_STATS; i++)
		jb_set(b, o, stat_key(i, buf, sizeof(buf)), juint(cnt[i]));
	return o;
}

static struct json_object *rates_json(struct jb *b, const double *rate)
{
	struct json_object *o = jb_obj(b);
	char buf[16];

	for (int i = 0; i < AN_NR_STATS; i++)
		jb_set(b, o, stat_key(i, buf, sizeof(buf)), jrate(rate[i]));
	return o;
}

/*
 * A histogram since attach (queue waits, latency-critical wakeups) as
 * [{"le_us": upper bound, "count": n}, ...]; the last bucket has no upper
 * bound ("le_us": null). See AN_WAIT_BUCKETS.
 */
static struct json_object *hist_us_json(struct jb *b, const uint64_t *hist)
{
	struct json_object *a = jb_arr(b);

	for (int i = 0; i < AN_WAIT_BUCKETS; i++) {
		struct json_object *o = jb_obj(b);

		if (i < AN_WAIT_BUCKETS - 1)
			jb_set(b, o, "le_us", juint(1ULL << i));
		else
			jb_set_null(b, o, "le_us");
		jb_set(b, o, "count", juint(hist[i]));
		jb_push(b, a, o);
	}
	return a;
}

/* p50 and p99 of the latency-critical wakeups in @hist, null while there were none. */
static void quantiles_json(struct jb *b, struct json_object *o, const uint64_t *hist)
{
	static const struct {
		const char *key;
		double q;
	} qs[] = { { "lat_wake_p50_us", 0.5 }, { "lat_wake_p99_us", 0.99 } };

	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		double v = stats_hist_quantile(hist, qs[i].q);

		if (v < 0)
			jb_set_null(b, o, qs[i].key);
		else
			jb_set(b, o, qs[i].key, jrate(v));
	}
}

static struct json_object *migration_stats_json(struct jb *b, const struct memfollow *mf)
{
	struct json_object *o = jb_obj(b), *nodes = jb_arr(b);
	uint64_t rate;
	const struct mig_stats *ms = memfollow_stats(mf, &rate);
	struct memfollow_cpu cpu;

	for (int n = 0; n < AN_MAX_NODE_ID; n++) {
		struct json_object *e;

		if (!ms->moved_pages[n])
			continue;
		e = jb_obj(b);
		jb_set(b, e, "node", jint(n));
		jb_set(b, e, "pages", juint(ms->moved_pages[n]));
		jb_push(b, nodes, e);
	}
	jb_set(b, o, "moved_pages_total", juint(ms->moved_total));
	jb_set(b, o, "moved_pages", nodes);
	jb_set(b, o, "bytes_per_s", juint(rate));
	jb_set(b, o, "busy_pages", juint(ms->busy));
	jb_set(b, o, "shared_pages", juint(ms->shared));
	jb_set(b, o, "nomem_pages", juint(ms->nomem));
	jb_set(b, o, "failed_pages", juint(ms->failed));
	jb_set(b, o, "passes", juint(ms->passes));
	jb_set(b, o, "refused", juint(ms->denied));
	jb_set(b, o, "exited", juint(ms->gone));
	jb_set(b, o, "cpu_ns", juint(ms->cpu_ns));
	memfollow_cpu(mf, &cpu);
	jb_set(b, o, "scan_cpu_ns", juint(cpu.scan_ns));
	jb_set(b, o, "scan_passes", juint(cpu.scan.passes));
	jb_set(b, o, "scan_passes_skipped", juint(cpu.passes_skipped));
	jb_set(b, o, "scan_processes", juint(cpu.scan.procs));
	jb_set(b, o, "scan_reads", juint(cpu.scan.reads));
	jb_set(b, o, "gather_cpu_ns", juint(cpu.gather_ns));
	return o;
}

/* The Stats reply; NULL with @err set if the daemon has no sample. */
static struct json_object *stats_json(struct jb *b, struct daemon *d, char *err, size_t errlen)
{
	struct stats st;
	struct json_object *o, *nodes;
	uint64_t queued = 0;
	uint32_t nr;
	int ret;

	memset(&st, 0, sizeof(st));
	ret = daemon_stats(d, &st);
	if (ret < 0) {
		snprintf(err, errlen, "reading scheduler counters: %s", strerror(-ret));
		return NULL;
	}
	nr = st.nr_nodes < AN_MAX_NODES ? st.nr_nodes : AN_MAX_NODES;
	o = jb_obj(b);
	nodes = jb_arr(b);
	for (uint32_t i = 0; i < nr; i++) {
		const struct stats_node *sn = &st.node[i];
		struct json_object *n = jb_obj(b);

		jb_set(b, n, "node", juint(sn->node_id));
		jb_set(b, n, "cpus", juint(sn->nr_cpus));
		jb_set(b, n, "online_cpus", juint(sn->nr_online));
		jb_set(b, n, "queued", juint(sn->queued));
		jb_set(b, n, "counters", counters_json(b, sn->cnt));
		jb_set(b, n, "rates", rates_json(b, sn->rate));
		jb_set(b, n, "wait_hist_us", hist_us_json(b, sn->wait_hist));
		jb_set(b, n, "lat_wake_hist_us", hist_us_json(b, sn->lat_wake_hist));
		quantiles_json(b, n, sn->lat_wake_hist);
		jb_push(b, nodes, n);
		queued += sn->queued;
	}
	jb_set(b, o, "interval_ms", juint(st.interval_ms));
	jb_set(b, o, "nodes", nodes);
	jb_set(b, o, "total", counters_json(b, st.total));
	jb_set(b, o, "total_rates", rates_json(b, st.total_rate));
	jb_set(b, o, "queued", juint(queued));
	quantiles_json(b, o, st.total_lat_wake_hist);
	{
		struct daemon_view v;

		daemon_view(d, &v);
		jb_set(b, o, "migration", migration_stats_json(b, v.memfollow));
	}
	return o;
}

static int m_stats(struct call *c)
{
	char err[256];

	c->reply = stats_json(&c->jb, c->d, err, sizeof(err));
	if (!c->reply && !c->jb.oom)
		return fail_msg(c, VL_ERR_FAILED, "%s", err);
	c->stream = c->vc->more;
	return 0;
}

static struct json_object *gpus_json(struct jb *b, struct placement *pl)
{
	const struct gpu_list *l = placement_gpus(pl);
	struct json_object *a = jb_arr(b);
	const struct gpu_proc *gp;
	size_t np = placement_gpu_procs(pl, &gp);
	char hex[16];

	for (int i = 0; i < l->nr && i < GPU_MAX; i++) {
		const struct gpu *g = &l->gpu[i];
		const char *vendor = gpu_vendor_name(g->vendor);
		struct json_object *o = jb_obj(b), *devs = jb_arr(b);

		jb_set(b, o, "pci", jstr(g->pci));
		snprintf(hex, sizeof(hex), "0x%04x", g->vendor);
		jb_set(b, o, "vendor", jstr(hex));
		snprintf(hex, sizeof(hex), "0x%04x", g->device);
		jb_set(b, o, "device", jstr(hex));
		snprintf(hex, sizeof(hex), "0x%06x", g->class);
		jb_set(b, o, "class", jstr(hex));
		jb_set(b, o, "vendor_name", jstr(vendor ? vendor : ""));
		jb_set(b, o, "driver", jstr(g->driver));
		jb_set(b, o, "node", jint(g->node));
		struct json_object *users = jb_arr(b);

		for (int k = 0; k < g->nr_dev && k < GPU_MAX_DEVS; k++)
			jb_push(b, devs, jstr(g->dev[k]));
		jb_set(b, o, "devices", devs);
		for (size_t k = 0; k < np; k++) {
			struct json_object *u;

			if (!(gp[k].gpus & (1ULL << i)))
				continue;
			u = jb_obj(b);
			jb_set(b, u, "pid", jint(gp[k].pid));
			jb_set(b, u, "source", jstr(gpu_source_name(gp[k].source)));
			jb_push(b, users, u);
		}
		jb_set(b, o, "processes", users);
		jb_push(b, a, o);
	}
	return a;
}

/* CPUs of @t in LLC @k, or of node @id when @k is -1 (a topology without LLCs has one per node). */
static struct json_object *llc_cpus_json(struct jb *b, const struct topology *t, int nr_cpus, int id, int k)
{
	struct json_object *cpus = jb_arr(b);

	for (int cpu = 0; cpu < nr_cpus; cpu++)
		if (t->cpu_node[cpu] == id && (k < 0 || t->cpu_llc[cpu] == k))
			jb_push(b, cpus, jint(cpu));
	return cpus;
}

/* Node @id's last-level caches, each an object listing its CPUs. */
static struct json_object *llcs_json(struct jb *b, const struct topology *t, int nr_cpus, const struct topo_node *tn)
{
	struct json_object *llcs = jb_arr(b);

	if (!t->nr_llcs && tn->nr_cpus > 0) {
		struct json_object *o = jb_obj(b);

		jb_set(b, o, "cpus", llc_cpus_json(b, t, nr_cpus, tn->id, -1));
		jb_push(b, llcs, o);
	}
	for (int k = 0; k < t->nr_llcs && k < AN_MAX_LLCS; k++) {
		struct json_object *o;

		if (t->llcs[k].node != tn->id)
			continue;
		o = jb_obj(b);
		jb_set(b, o, "cpus", llc_cpus_json(b, t, nr_cpus, tn->id, k));
		jb_push(b, llcs, o);
	}
	return llcs;
}

static int m_topology(struct call *c)
{
	struct daemon_view v;
	const struct topology *t;
	struct jb *b = &c->jb;
	struct json_object *nodes = jb_arr(b);
	int nr_nodes, nr_cpus;

	daemon_view(c->d, &v);
	t = v.topo;
	nr_nodes = t->nr_nodes < AN_MAX_NODE_ID ? t->nr_nodes : AN_MAX_NODE_ID;
	nr_cpus = t->nr_cpus < AN_MAX_CPUS ? t->nr_cpus : AN_MAX_CPUS;
	for (int i = 0; i < nr_nodes; i++) {
		const struct topo_node *tn = &t->nodes[i];
		struct json_object *n = jb_obj(b), *cpus = jb_arr(b), *online = jb_arr(b), *dist = jb_arr(b);

		for (int cpu = 0; cpu < nr_cpus; cpu++) {
			if (t->cpu_node[cpu] != tn->id)
				continue;
			jb_push(b, cpus, jint(cpu));
			if (t->cpu_online[cpu])
				jb_push(b, online, jint(cpu));
		}
		for (int j = 0; j < nr_nodes; j++)
			jb_push(b, dist, jint(t->distance[i][j]));
		jb_set(b, n, "id", jint(tn->id));
		jb_set(b, n, "cpus", cpus);
		jb_set(b, n, "online_cpus", online);
		jb_set(b, n, "memory_kb", juint(tn->mem_kb));
		jb_set(b, n, "distances", dist);
		jb_set(b, n, "llcs", llcs_json(b, t, nr_cpus, tn));
		jb_set(b, n, "cpu_home", jint(topology_cpu_home(t, tn->id)));
		jb_push(b, nodes, n);
	}
	c->reply = jb_obj(b);
	jb_set(b, c->reply, "cpus", jint(t->nr_cpus));
	jb_set(b, c->reply, "online_cpus", jint(t->nr_online));
	jb_set(b, c->reply, "nodes", nodes);
	jb_set(b, c->reply, "gpus", gpus_json(b, v.placement));
	return 0;
}

static struct json_object *tunable_json(struct jb *b, const struct tunable *t, uint64_t v)
{
	struct json_object *o = jb_obj(b), *names = jb_arr(b);
	char text[32];

	tunable_format(t, v, text, sizeof(text));
	jb_set(b, o, "name", jstr(t->name));
	jb_set(b, o, "type", jstr(tunable_type_name(t->type)));
	jb_set(b, o, "unit", jstr(t->unit));
	jb_set(b, o, "value", juint(v));
	jb_set(b, o, "text", jstr(text));
	jb_set(b, o, "default", juint(t->def));
	jb_set(b, o, "min", juint(t->min));
	jb_set(b, o, "max", juint(t->max));
	jb_set(b, o, "description", jstr(t->help));
	for (uint64_t i = t->min; t->names && i <= t->max; i++)
		jb_push(b, names, jstr(t->names[i]));
	jb_set(b, o, "values", names);
	return o;
}

static int m_list_tunables(struct call *c)
{
	struct jb *b = &c->jb;
	struct json_object *list = jb_arr(b);

	for (size_t i = 0; i < nr_tunables; i++)
		jb_push(b, list, tunable_json(b, &tunables[i], tunable_get(tunables_of(c), &tunables[i])));
	c->reply = jb_obj(b);
	jb_set(b, c->reply, "tunables", list);
	return 0;
}

/* The tunable named by the "name" parameter, or NULL with the error set. */
static const struct tunable *find_tunable(struct call *c)
{
	const char *name = vl_get_string(c->vc->params, "name");
	const struct tunable *t = tunable_find(name);
	struct json_object *known;

	if (t)
		return t;
	fail(c, VL_ERR_UNKNOWN_TUNABLE, "tunable", name);
	known = jb_arr(&c->jb);
	for (size_t i = 0; i < nr_tunables; i++)
		jb_push(&c->jb, known, jstr(tunables[i].name));
	jb_set(&c->jb, c->eparams, "known", known);
	return NULL;
}

static int m_get_tunable(struct call *c)
{
	const struct tunable *t = find_tunable(c);

	if (!t)
		return 0;
	c->reply = jb_obj(&c->jb);
	jb_set(&c->jb, c->reply, "tunable", tunable_json(&c->jb, t, tunable_get(tunables_of(c), t)));
	return 0;
}

/*
 * Every accepted JSON type becomes text for tunable_parse, so integers,
 * booleans and strings share one validator and one set of error messages.
 */
static bool value_text(struct json_object *v, char *buf, size_t len)
{
	const char *s;

	switch (json_object_get_type(v)) {
	case json_type_int:
		if (json_object_get_int64(v) < 0)
			snprintf(buf, len, "%" PRId64, json_object_get_int64(v));
		else
			snprintf(buf, len, "%" PRIu64, json_object_get_uint64(v));
		return true;
	case json_type_boolean:
		snprintf(buf, len, "%s", json_object_get_boolean(v) ? "true" : "false");
		return true;
	case json_type_string:
		s = json_object_get_string(v);
		return (size_t)snprintf(buf, len, "%s", s) < len;
	default:
		return false;
	}
}

static int m_set_tunable(struct call *c)
{
	struct daemon *d = c->d;
	const struct tunable *t = find_tunable(c);
	struct json_object *val;
	char text[VALUE_TEXT_MAX + 1], err[256];
	uint64_t v, prev;
	int ret = -EINVAL;

	if (!t)
		return 0;
	prev = tunable_get(tunables_of(c), t);
	json_object_object_get_ex(c->vc->params, "value", &val);
	if (!value_text(val, text, sizeof(text)))
		snprintf(err, sizeof(err), "%s: value longer than %d bytes", t->name, VALUE_TEXT_MAX);
	else
		ret = tunable_parse(t, text, &v, err, sizeof(err));
	if (ret >= 0)
		ret = daemon_set_tunable(d, t, v, err, sizeof(err));
	if (ret < 0) {
		fail(c, VL_ERR_INVALID_VALUE, "tunable", t->name);
		jb_set(&c->jb, c->eparams, "value", jstr(text));
		jb_set(&c->jb, c->eparams, "message", jstr(err));
		return 0;
	}
	/* daemon_set_tunable logged the change; the audit trail wants who made it. */
	log_info("control: %s set by uid %u, pid %d", t->name, (unsigned int)c->peer->uid, (int)c->peer->pid);
	c->reply = jb_obj(&c->jb);
	jb_set(&c->jb, c->reply, "tunable", tunable_json(&c->jb, t, tunable_get(tunables_of(c), t)));
	jb_set(&c->jb, c->reply, "previous", juint(prev));
	return 0;
}

static struct json_object *pin_json(struct jb *b, const struct pin *p)
{
	struct json_object *o = jb_obj(b);

	jb_set(b, o, "kind", jstr(p->kind == PIN_PROCESS ? "process" : "cgroup"));
	if (p->kind == PIN_PROCESS) {
		jb_set(b, o, "pid", jint(p->pid));
		jb_set_null(b, o, "cgroup");
		jb_set_null(b, o, "cgroup_id");
	} else {
		jb_set_null(b, o, "pid");
		jb_set(b, o, "cgroup", jstr(p->path));
		if (p->active)
			jb_set(b, o, "cgroup_id", juint(p->cgroup_id));
		else
			jb_set_null(b, o, "cgroup_id");
	}
	jb_set(b, o, "node", jint(p->node));
	jb_set(b, o, "origin", jstr(p->origin == PIN_FROM_CONFIG ? "config" : "control"));
	jb_set(b, o, "active", jb_check(b, json_object_new_boolean(p->active)));
	return o;
}

static int fail_pin(struct call *c, const char *param, const char *msg)
{
	fail(c, VL_ERR_INVALID_PIN, "parameter", param);
	jb_set(&c->jb, c->eparams, "message", jstr(msg));
	return 0;
}

/*
 * An integer parameter as sent: json-c saturates one above INT64_MAX to
 * INT64_MAX, and an error naming that value would name one nobody sent.
 * False with the error set.
 */
static bool pin_int(struct call *c, struct json_object *v, const char *param, int64_t *out)
{
	char msg[96];

	*out = json_object_get_int64(v);
	if (*out == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX) {
		snprintf(msg, sizeof(msg), "%s %" PRIu64 ": out of range", param, json_object_get_uint64(v));
		fail_pin(c, param, msg);
		return false;
	}
	return true;
}

/* The target of Pin and Unpin: exactly one of "pid" and "cgroup". False with the error set. */
static bool pin_target(struct call *c, struct pin_target *t)
{
	struct json_object *pid = NULL, *cg = NULL;

	json_object_object_get_ex(c->vc->params, "pid", &pid);
	json_object_object_get_ex(c->vc->params, "cgroup", &cg);
	if (!pid == !cg) {
		fail_pin(c, pid ? "cgroup" : "pid", "give exactly one of pid and cgroup");
		return false;
	}
	memset(t, 0, sizeof(*t));
	if (pid) {
		int64_t v;

		if (!pin_int(c, pid, "pid", &v))
			return false;
		t->kind = PIN_PROCESS;
		t->pid = (long long)v;
	} else {
		t->kind = PIN_CGROUP;
		t->cgroup = vl_get_string(c->vc->params, "cgroup");
	}
	return true;
}

static int m_pin(struct call *c)
{
	struct json_object *jn = NULL;
	struct pin_target t;
	const char *param;
	struct pin p;
	char err[512];
	int64_t node;

	if (!pin_target(c, &t))
		return 0;
	json_object_object_get_ex(c->vc->params, "node", &jn);
	if (!pin_int(c, jn, "node", &node))
		return 0;
	if (node < 0 || node >= AN_MAX_NODE_ID) {
		snprintf(err, sizeof(err), "node %" PRId64 ": not a node id (0..%d)", node, AN_MAX_NODE_ID - 1);
		return fail_pin(c, "node", err);
	}
	if (placement_pin(placement_of(c), &t, (int)node, PIN_FROM_CONTROL, &p, &param, err, sizeof(err)) < 0)
		return fail_pin(c, param, err);
	log_info("control: pin set by uid %u, pid %d", (unsigned int)c->peer->uid, (int)c->peer->pid);
	c->reply = jb_obj(&c->jb);
	jb_set(&c->jb, c->reply, "pin", pin_json(&c->jb, &p));
	return 0;
}

static int m_unpin(struct call *c)
{
	struct pin_target t;
	const char *param;
	struct pin p;
	char err[512];

	if (!pin_target(c, &t))
		return 0;
	if (placement_unpin(placement_of(c), &t, &p, &param, err, sizeof(err)) < 0)
		return fail_pin(c, param, err);
	log_info("control: unpin by uid %u, pid %d", (unsigned int)c->peer->uid, (int)c->peer->pid);
	c->reply = jb_obj(&c->jb);
	jb_set(&c->jb, c->reply, "pin", pin_json(&c->jb, &p));
	return 0;
}

/* Where placed process @p ran since it was placed; nulls when the scheduler keeps no count of it. */
static void proc_run_json(struct call *c, struct json_object *o, const struct mig_proc *p)
{
	struct an_proc_run r;
	uint64_t all;

	if (daemon_proc_run(c->d, p, &r) < 0) {
		jb_set_null(&c->jb, o, "run_home_ns");
		jb_set_null(&c->jb, o, "run_away_ns");
		jb_set_null(&c->jb, o, "run_locality_pct");
		return;
	}
	all = r.home_ns + r.away_ns;
	jb_set(&c->jb, o, "run_home_ns", juint(r.home_ns));
	jb_set(&c->jb, o, "run_away_ns", juint(r.away_ns));
	if (all)
		jb_set(&c->jb, o, "run_locality_pct", jrate(100.0 * (double)r.home_ns / (double)all));
	else
		jb_set_null(&c->jb, o, "run_locality_pct");
}

static struct json_object *migration_procs_json(struct call *c)
{
	struct json_object *a = jb_arr(&c->jb);
	const struct mig_proc *mp;
	struct daemon_view v;
	uint64_t now = mono_ns();
	size_t n;

	daemon_view(c->d, &v);
	n = memfollow_procs(v.memfollow, &mp);
	for (size_t i = 0; i < n; i++) {
		const struct mig_proc *p = &mp[i];
		struct json_object *o = jb_obj(&c->jb);
		char comm[32];

		placement_comm(v.placement, p->pid, comm, sizeof(comm));
		jb_set(&c->jb, o, "pid", jint(p->pid));
		jb_set(&c->jb, o, "comm", jstr(comm));
		jb_set(&c->jb, o, "node", jint(p->node));
		jb_set(&c->jb, o, "source", jstr(mig_source_str(p->src)));
		jb_set(&c->jb, o, "state", jstr(memfollow_proc_state(p, v.tun, now)));
		if (p->sampled_ns && p->sample.resident && p->node >= 0 && p->node < AN_MAX_NODE_ID)
			jb_set(&c->jb, o, "memory_locality_pct",
			       jrate(100.0 * p->sample.pages[p->node] / p->sample.resident));
		else
			jb_set_null(&c->jb, o, "memory_locality_pct");
		proc_run_json(c, o, p);
		jb_set(&c->jb, o, "moved_pages", juint(p->n.moved));
		jb_set(&c->jb, o, "busy_pages", juint(p->n.busy));
		jb_set(&c->jb, o, "shared_pages", juint(p->n.shared));
		jb_push(&c->jb, a, o);
	}
	return a;
}

static int m_list_pins(struct call *c)
{
	const struct gpu_list *gpus = placement_gpus(placement_of(c));
	struct json_object *pins = jb_arr(&c->jb), *procs = jb_arr(&c->jb);
	const struct gpu_proc *gp;
	const struct pin *pn;
	size_t n;

	n = placement_pins(placement_of(c), &pn);
	for (size_t i = 0; i < n; i++)
		jb_push(&c->jb, pins, pin_json(&c->jb, &pn[i]));
	n = placement_gpu_procs(placement_of(c), &gp);
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = jb_obj(&c->jb), *list = jb_arr(&c->jb);
		const char *by = placement_overridden_by(placement_of(c), gp[i].pid);
		char comm[32];

		placement_comm(placement_of(c), gp[i].pid, comm, sizeof(comm));
		for (int g = 0; g < gpus->nr && g < GPU_MAX; g++)
			if (gp[i].gpus & (1ULL << g))
				jb_push(&c->jb, list, jstr(gpus->gpu[g].pci));
		jb_set(&c->jb, o, "pid", jint(gp[i].pid));
		jb_set(&c->jb, o, "comm", jstr(comm));
		jb_set(&c->jb, o, "gpus", list);
		if (gp[i].node >= 0)
			jb_set(&c->jb, o, "node", jint(gp[i].node));
		else
			jb_set_null(&c->jb, o, "node");
		jb_set(&c->jb, o, "source", jstr(gpu_source_name(gp[i].source)));
		if (gp[i].via)
			jb_set(&c->jb, o, "via", jint(gp[i].via));
		else
			jb_set_null(&c->jb, o, "via");
		if (gp[i].alone)
			jb_set(&c->jb, o, "left_alone", jstr(gp[i].alone));
		else
			jb_set_null(&c->jb, o, "left_alone");
		if (by)
			jb_set(&c->jb, o, "pinned_by", jstr(by));
		else
			jb_set_null(&c->jb, o, "pinned_by");
		jb_push(&c->jb, procs, o);
	}
	c->reply = jb_obj(&c->jb);
	jb_set(&c->jb, c->reply, "pins", pins);
	jb_set(&c->jb, c->reply, "gpu_processes", procs);
	jb_set(&c->jb, c->reply, "migration", migration_procs_json(c));
	return 0;
}

static const struct method methods[] = {
	{ VL_SERVICE ".GetInfo", m_get_info, false, false, { { 0 } } },
	{ VL_SERVICE ".GetInterfaceDescription", m_get_description, false, false,
	  { { "interface", P_STRING } } },
	{ VL_IFACE ".Status", m_status, false, false, { { 0 } } },
	{ VL_IFACE ".Stats", m_stats, false, true, { { 0 } } },
	{ VL_IFACE ".Topology", m_topology, false, false, { { 0 } } },
	{ VL_IFACE ".ListTunables", m_list_tunables, false, false, { { 0 } } },
	{ VL_IFACE ".GetTunable", m_get_tunable, false, false, { { "name", P_STRING } } },
	{ VL_IFACE ".SetTunable", m_set_tunable, true, false,
	  { { "name", P_STRING }, { "value", P_STRING | P_INT | P_BOOL } } },
	{ VL_IFACE ".Pin", m_pin, true, false,
	  { { "pid", P_INT | P_OPTIONAL }, { "cgroup", P_STRING | P_OPTIONAL }, { "node", P_INT } } },
	{ VL_IFACE ".Unpin", m_unpin, true, false,
	  { { "pid", P_INT | P_OPTIONAL }, { "cgroup", P_STRING | P_OPTIONAL } } },
	{ VL_IFACE ".ListPins", m_list_pins, false, false, { { 0 } } },
};
#define NR_METHODS	(sizeof(methods) / sizeof(methods[0]))

const char *control_method_name(size_t i)
{
	size_t skip = sizeof(VL_IFACE);	/* the interface and its dot */

	for (size_t k = 0; k < NR_METHODS; k++) {
		if (strncmp(methods[k].name, VL_IFACE ".", skip))
			continue;
		if (!i--)
			return methods[k].name + skip;
	}
	return NULL;
}

static const struct method *method_find(const char *name)
{
	for (size_t i = 0; i < NR_METHODS; i++)
		if (!strcmp(methods[i].name, name))
			return &methods[i];
	return NULL;
}

/* Unknown method of a known interface, or an unknown interface altogether. */
static int unknown_method(struct call *c)
{
	const char *name = c->vc->method, *dot = strrchr(name, '.');
	size_t ilen = dot ? (size_t)(dot - name) : 0;
	char iface[256];

	if ((ilen == strlen(VL_IFACE) && !strncmp(name, VL_IFACE, ilen)) ||
	    (ilen == strlen(VL_SERVICE) && !strncmp(name, VL_SERVICE, ilen)))
		return fail(c, VL_ERR_METHOD_NOT_FOUND, "method", name);
	if (!dot)
		return fail(c, VL_ERR_METHOD_NOT_FOUND, "method", name);
	snprintf(iface, sizeof(iface), "%.*s", (int)(ilen < 255 ? ilen : 255), name);
	return fail(c, VL_ERR_IFACE_NOT_FOUND, "interface", iface);
}

/*
 * Every parameter must be one the method declares, of a type it accepts;
 * every declared parameter must be present. A refusal names the parameter.
 */
static bool params_ok(struct call *c, const struct method *m)
{
	struct json_object *params = c->vc->params;
	const struct param *p;

	json_object_object_foreach(params, key, val) {
		(void)val;
		for (p = m->params; p->name && strcmp(p->name, key); p++)
			;
		if (!p->name) {
			fail(c, VL_ERR_INVALID_PARAM, "parameter", key);
			return false;
		}
	}
	for (p = m->params; p->name; p++) {
		struct json_object *v = NULL;

		/* varlink's optional (?type) parameters may be left out or sent as null. */
		if ((p->types & P_OPTIONAL) && (!json_object_object_get_ex(params, p->name, &v) || !v))
			continue;
		if (!json_object_object_get_ex(params, p->name, &v) ||
		    !(p->types & (1u << json_object_get_type(v))) ||
		    (json_object_is_type(v, json_type_string) && !vl_get_string(params, p->name))) {
			fail(c, VL_ERR_INVALID_PARAM, "parameter", p->name);
			return false;
		}
	}
	return true;
}

static void run(struct call *c)
{
	const struct method *m = method_find(c->vc->method);

	if (!m) {
		unknown_method(c);
		return;
	}
	if (c->vc->oneway && c->vc->more) {
		fail_msg(c, VL_ERR_INVALID_REQUEST, "\"oneway\" and \"more\" exclude each other");
		return;
	}
	if (c->vc->upgrade) {
		fail_msg(c, VL_ERR_INVALID_REQUEST, "%s does not support \"upgrade\"", m->name);
		return;
	}
	if (m->needs_priv && !c->peer->priv) {
		struct daemon_view v;
		const char *group;

		daemon_view(c->d, &v);
		group = v.ctl_group;

		/* A client repeating refused calls must not flood the log: its first one only. */
		if (!c->peer->refused || !(*c->peer->refused)++)
			log_info("control: %s refused for uid %u, pid %d: not root%s%s%s", m->name,
				 (unsigned int)c->peer->uid, (int)c->peer->pid,
				 group ? " nor in group " : "", group ? group : "",
				 c->peer->refused ? " (more from this connection are counted)" : "");
		fail_msg(c, VL_ERR_PERMISSION, "%s needs root%s%s", m->name,
			 group ? " or membership of group " : "", group ? group : "");
		return;
	}
	if (!params_ok(c, m))
		return;
	m->fn(c);
	if (!m->streams)
		c->stream = false;
}

int control_put_error(struct vl_out *out, const char *error, const char *msg)
{
	struct json_object *p = json_object_new_object();
	int ret;

	if (!p || json_object_object_add(p, "message", json_object_new_string(msg)) < 0) {
		json_object_put(p);
		return -ENOMEM;
	}
	p = vl_error_new(error, p);
	ret = vl_out_put(out, p);
	json_object_put(p);
	return ret;
}

int control_handle(struct daemon *d, const struct ctl_peer *peer, const char *msg, size_t len,
		   struct vl_out *out)
{
	struct vl_call vc;
	struct call c = { .d = d, .peer = peer, .vc = &vc };
	struct json_object *m = NULL;
	char err[256];
	int ret = 0;

	if (vl_call_parse(msg, len, &vc, err, sizeof(err)) < 0) {
		log_debug("control: pid %d: bad request: %s", (int)peer->pid, err);
		/* Whether it was oneway is unknown: answer, or the caller waits forever. */
		return control_put_error(out, VL_ERR_INVALID_REQUEST, err);
	}
	run(&c);
	if (c.jb.oom) {
		ret = -ENOMEM;
	} else if (vc.oneway && !vc.more) {
		/* Both flags at once is a broken call: answered with its error like unparsable input. */
		if (c.error)
			log_debug("control: pid %d: oneway %s failed: %s", (int)peer->pid, vc.method, c.error);
	} else {
		if (c.error)
			m = vl_error_new(c.error, c.eparams);
		else
			m = vl_reply_new(c.reply, c.stream);
		c.eparams = c.reply = NULL;	/* consumed */
		ret = vl_out_put(out, m);
		if (ret >= 0)
			ret = c.stream;
	}
	json_object_put(m);
	json_object_put(c.reply);
	json_object_put(c.eparams);
	vl_call_free(&vc);
	return ret;
}

int control_stream_sample(struct daemon *d, struct vl_out *out)
{
	struct jb b = { 0 };
	struct json_object *p, *m;
	char err[256];
	int ret;

	p = stats_json(&b, d, err, sizeof(err));
	if (b.oom || !p) {
		json_object_put(p);
		if (!b.oom)
			log_warn("control: stats stream: %s", err);
		return b.oom ? -ENOMEM : -EIO;
	}
	m = vl_reply_new(p, true);
	ret = vl_out_put(out, m);
	json_object_put(m);
	return ret;
}
