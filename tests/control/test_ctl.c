// SPDX-License-Identifier: GPL-2.0
/*
 * The CLI's parser and formatter. The formatter is fed the daemon's real
 * replies (control_handle on the fixture), and its tables are checked
 * against the fixture's values and for column alignment.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "check.h"
#include "clock.h"
#include "control-internal.h"
#include "ctl.h"
#include "fixture.h"
#include "log.h"
#include "memfollow.h"
#include "stats.h"
#include "varlink.h"

/* ---- parser ----------------------------------------------------------------- */

struct parse_case {
	const char *argv[8];
	int ret;
	enum action action;
	const char *name, *value, *err;
	unsigned int watch;
	bool json;
};

static void test_parser(void)
{
	static const struct parse_case cases[] = {
		{ { "status" }, 0, ACT_STATUS, NULL, NULL, NULL, 0, false },
		{ { "--json", "status" }, 0, ACT_STATUS, NULL, NULL, NULL, 0, true },
		{ { "status", "-j" }, 0, ACT_STATUS, NULL, NULL, NULL, 0, true },
		{ { "stats" }, 0, ACT_STATS, NULL, NULL, NULL, 0, false },
		{ { "stats", "--watch", "2" }, 0, ACT_STATS, NULL, NULL, NULL, 2, false },
		{ { "stats", "--watch=5", "--json" }, 0, ACT_STATS, NULL, NULL, NULL, 5, true },
		{ { "topology" }, 0, ACT_TOPOLOGY, NULL, NULL, NULL, 0, false },
		{ { "tunables" }, 0, ACT_TUNABLES, NULL, NULL, NULL, 0, false },
		{ { "get", "slice_ns" }, 0, ACT_GET, "slice_ns", NULL, NULL, 0, false },
		{ { "set", "slice_ns", "5ms" }, 0, ACT_SET, "slice_ns", "5ms", NULL, 0, false },
		{ { "set", "slice_ns", "-5" }, 0, ACT_SET, "slice_ns", "-5", NULL, 0, false },
		{ { "-s", "/x/y.sock", "set", "steal", "off" }, 0, ACT_SET, "steal", "off", NULL, 0, false },
		{ { "" }, -EINVAL, ACT_NONE, NULL, NULL, "unknown command ''", 0, false },
		{ { 0 }, -EINVAL, ACT_NONE, NULL, NULL, "missing command: expected one of status, stats", 0, false },
		{ { "reboot" }, -EINVAL, ACT_NONE, NULL, NULL, "unknown command 'reboot': expected one of", 0, false },
		{ { "get" }, -EINVAL, ACT_NONE, NULL, NULL, "get: missing NAME", 0, false },
		{ { "set", "steal" }, -EINVAL, ACT_NONE, NULL, NULL, "set: missing VALUE", 0, false },
		{ { "set", "a", "b", "c" }, -EINVAL, ACT_NONE, NULL, NULL, "unexpected argument 'c' after 'b'", 0, false },
		{ { "status", "now" }, -EINVAL, ACT_NONE, NULL, NULL, "unexpected argument 'now'", 0, false },
		{ { "stats", "--watch" }, -EINVAL, ACT_NONE, NULL, NULL, "stats --watch: missing SECONDS", 0, false },
		{ { "stats", "--watch", "0" }, -EINVAL, ACT_NONE, NULL, NULL, "1..86400", 0, false },
		{ { "stats", "--watch", "1s" }, -EINVAL, ACT_NONE, NULL, NULL, "'1s' is not a number of seconds", 0, false },
		{ { "stats", "--every", "1" }, -EINVAL, ACT_NONE, NULL, NULL, "stats: unexpected '--every': expected --watch", 0, false },
		{ { "-s" }, -EINVAL, ACT_NONE, NULL, NULL, "-s needs a SOCKET path", 0, false },
		{ { "--help", "whatever" }, 0, ACT_NONE, NULL, NULL, NULL, 0, false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct parse_case *c = &cases[i];
		char *argv[10] = { "scx-ai-numactl" }, err[256] = "", line[128] = "";
		struct request req;
		int argc = 1, ret;

		for (int k = 0; c->argv[k]; k++) {
			argv[argc++] = (char *)c->argv[k];
			snprintf(line + strlen(line), sizeof(line) - strlen(line), " %s", c->argv[k]);
		}
		ret = parse_args(argc, argv, &req, err, sizeof(err));
		if (c->ret) {
			if (!CHECK(ret == c->ret && strstr(err, c->err), "'%s' is a usage error: %s", line, c->err))
				printf("#   ret %d, '%s'\n", ret, err);
			continue;
		}
		CHECK(ret == 0 && req.action == c->action && (!c->name || !strcmp(req.name, c->name)) &&
		      (!c->value || !strcmp(req.value, c->value)) && req.watch_s == c->watch && req.json == c->json,
		      "'%s' parses%s", line, *err ? err : "");
	}
	{
		char *argv[] = { "scx-ai-numactl", "-s", "/x/y.sock", "status" };
		struct request req;
		char err[256];

		parse_args(4, argv, &req, err, sizeof(err));
		CHECK(!strcmp(req.socket, "/x/y.sock"), "-s sets the socket path");
	}
}

/* ---- units ---------------------------------------------------------------------- */

static void test_units(void)
{
	static const struct {
		uint64_t ns;
		const char *want;
	} ns[] = {
		{ 0, "0ns" }, { 999, "999ns" }, { 50000, "50us" }, { 1500000, "1.5ms" }, { 3000000, "3ms" },
		{ 1234567, "1.235ms" }, { 1000000000, "1s" }, { 60000000000ULL, "60s" },
	};
	static const struct {
		double r;
		const char *want;
	} rates[] = { { 0, "0.0" }, { 12.34, "12.3" }, { 1234, "1.2k" }, { 2.5e6, "2.5M" }, { -1, "0.0" }, { NAN, "0.0" } };
	char buf[64];
	struct json_object *a = json_tokener_parse("[0,1,2,3,8,10,11,20]"), *e = json_object_new_array();

	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		fmt_ns(ns[i].ns, buf, sizeof(buf));
		CHECK(!strcmp(buf, ns[i].want), "%llu ns prints as %s (%s)", (unsigned long long)ns[i].ns, ns[i].want, buf);
	}
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		fmt_rate(rates[i].r, buf, sizeof(buf));
		CHECK(!strcmp(buf, rates[i].want), "rate %g prints as %s (%s)", rates[i].r, rates[i].want, buf);
	}
	fmt_cpulist(a, buf, sizeof(buf));
	CHECK(!strcmp(buf, "0-3,8,10-11,20"), "CPU lists collapse into ranges (%s)", buf);
	fmt_cpulist(e, buf, sizeof(buf));
	CHECK(!strcmp(buf, "-"), "an empty CPU list prints as -");
	fmt_kib(16ULL * 1024 * 1024, buf, sizeof(buf));
	CHECK(!strcmp(buf, "16.0 GiB"), "16 GiB of KiB prints as 16.0 GiB (%s)", buf);
	fmt_duration(3723ULL * 1000000000, buf, sizeof(buf));
	CHECK(!strcmp(buf, "1h 02m"), "3723 s prints as 1h 02m (%s)", buf);
	json_object_put(a);
	json_object_put(e);
}

/* ---- output from real replies ------------------------------------------------------ */

static struct daemon D;
static const struct ctl_peer ROOT = { .uid = 0, .priv = true };

/* The daemon's reply parameters for @msg (owned by *r). */
static struct json_object *reply(const char *msg, struct vl_reply *r)
{
	struct vl_out out;
	char err[256];

	vl_out_init(&out, CTL_OUT_MAX);
	control_handle(&D, &ROOT, msg, strlen(msg), &out);
	if (vl_reply_parse(out.buf, strlen(out.buf), r, err, sizeof(err)) < 0)
		check_bail("reply to %s: %s", msg, err);
	vl_out_free(&out);
	return r->params;
}

/* Print @action's reply in @mode into a string. */
static char *render(enum out_mode mode, enum action action, const char *msg)
{
	struct vl_reply r;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	output_reply(f, mode, action, reply(msg, &r));
	fclose(f);
	vl_reply_free(&r);
	return buf;
}

/* The line of @text starting with @first (after leading spaces), copied into @line. */
static bool line_of(const char *text, const char *first, char *line, size_t len)
{
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		const char *s = p;
		size_t n = strcspn(p, "\n");

		while (*s == ' ')
			s++;
		if (!strncmp(s, first, strlen(first)) && (s[strlen(first)] == ' ' || s[strlen(first)] == '\n')) {
			snprintf(line, len, "%.*s", (int)n, p);
			return true;
		}
	}
	return false;
}

/*
 * Every row below the header has a cell edge where the header's column @col
 * has it: the left edge for a left-aligned column, the right edge for a
 * right-aligned (@right) one.
 */
static bool aligned(const char *text, const char *header, const char *col, bool right)
{
	char hdr[512];
	const char *h, *p;
	size_t at;

	if (!line_of(text, header, hdr, sizeof(hdr)) || !(h = strstr(hdr, col)))
		return false;
	at = (size_t)(h - hdr) + (right ? strlen(col) - 1 : 0);
	p = strstr(text, hdr);
	/* The table ends at the text's end or at a blank line. */
	for (p = strchr(p, '\n'); p && p[1] && p[1] != '\n'; p = strchr(p + 1, '\n')) {
		const char *row = p + 1;
		size_t n = strcspn(row, "\n");

		if (n <= at || row[at] == ' ')
			return false;
		if (right ? at + 1 < n && row[at + 1] != ' ' : row[at - 1] != ' ')
			return false;
	}
	return true;
}

static void test_tables(void)
{
	char *s, line[512], want[64];
	bool ok = true;

	s = render(OUT_TABLE, ACT_TUNABLES, "{\"method\":\"" VL_IFACE ".ListTunables\"}");
	for (size_t i = 0; i < nr_tunables; i++)
		ok &= line_of(s, tunables[i].name, line, sizeof(line)) && strstr(line, tunables[i].help);
	CHECK(ok, "tunables: one row per tunable with its description");
	{
		const struct tunable *t = tunable_find("slice_ns");
		char lo[32], hi[32], range[80];

		fmt_ns(t->min, lo, sizeof(lo));
		fmt_ns(t->max, hi, sizeof(hi));
		snprintf(range, sizeof(range), " %s..%s ", lo, hi);
		fmt_ns(D.tun.slice_ns, want, sizeof(want));
		CHECK(line_of(s, "slice_ns", line, sizeof(line)) && strstr(line, want) && strstr(line, range),
		      "slice_ns shows its value as %s and its range as%s", want, range);
	}
	CHECK(line_of(s, "steal", line, sizeof(line)) && strstr(line, D.tun.steal ? " on " : " off ") &&
	      strstr(line, "on|off"), "booleans show as on/off");
	CHECK(aligned(s, "NAME", "VALUE", false) && aligned(s, "NAME", "DEFAULT", false) &&
	      aligned(s, "NAME", "DESCRIPTION", false),
	      "tunables columns line up under their headers");
	free(s);

	s = render(OUT_TABLE, ACT_GET, "{\"method\":\"" VL_IFACE ".GetTunable\",\"parameters\":{\"name\":\"home_move_ns\"}}");
	fmt_ns(D.tun.home_move_ns, want, sizeof(want));
	CHECK(line_of(s, "value", line, sizeof(line)) && strstr(line, want), "get shows the value in units (%s)", want);
	free(s);

	fmt_ns(D.tun.slice_ns, want, sizeof(want));
	s = render(OUT_TABLE, ACT_SET,
		   "{\"method\":\"" VL_IFACE ".SetTunable\",\"parameters\":{\"name\":\"slice_ns\",\"value\":\"750us\"}}");
	CHECK(strstr(s, "slice_ns: ") && strstr(s, want) && strstr(s, "-> 750us"), "set prints old -> new: %.*s", (int)strcspn(s, "\n"), s);
	free(s);

	daemon_stats_tick(&D);
	nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000000 }, NULL);
	daemon_stats_tick(&D);
	s = render(OUT_TABLE, ACT_STATS, "{\"method\":\"" VL_IFACE ".Stats\"}");
	ok = line_of(s, "COUNTER", line, sizeof(line));
	for (int i = 0; i < D.topo.nr_nodes; i++) {
		snprintf(want, sizeof(want), "NODE %d", D.topo.nodes[i].id);
		ok &= D.topo.nodes[i].nr_cpus ? !!strstr(line, want) : !strstr(line, want);
	}
	CHECK(ok, "stats has a column per node with CPUs, named by kernel id: %s", line);
	ok = true;
	for (int i = 0; i < AN_NR_STATS; i++)
		ok &= stats_name(i) && line_of(s, stats_name(i), line, sizeof(line));
	CHECK(ok && line_of(s, "queued", line, sizeof(line)), "and a row per counter named by stats_name, plus queued");
	CHECK(line_of(s, stats_name(AN_STAT_DIRECT), line, sizeof(line)) && !strstr(line, " 0.0 "),
	      "the fake scheduler's moving counters show as non-zero rates: %s", line);
	CHECK(aligned(s, "COUNTER", "TOTAL", true), "stats columns line up");
	free(s);

	{
		/* Locality is home / (home + away) run time: since attach, and over the last interval. */
		static const char msg[] =
			"{\"interval_ms\":1000,\"queued\":0,\"nodes\":[{\"node\":0,\"queued\":0,"
			"\"counters\":{\"home_run_ns\":3,\"away_run_ns\":1},\"rates\":{\"home_run_ns\":9,\"away_run_ns\":1}},"
			"{\"node\":1,\"queued\":0,\"counters\":{\"home_run_ns\":0,\"away_run_ns\":0},"
			"\"rates\":{\"home_run_ns\":0,\"away_run_ns\":0}}],"
			"\"total\":{\"home_run_ns\":3,\"away_run_ns\":1},\"total_rates\":{\"home_run_ns\":9,\"away_run_ns\":1}}";
		char *text = NULL;
		size_t tlen = 0;
		FILE *f = open_memstream(&text, &tlen);
		struct json_object *o = json_tokener_parse(msg);

		output_reply(f, OUT_TABLE, ACT_STATS, o);
		fclose(f);
		json_object_put(o);
		CHECK(line_of(text, "locality", line, sizeof(line)) && strstr(line, " 75.0% ") && strstr(line, " 90.0% ") &&
		      strstr(line, " - "), "stats shows locality since attach and over the interval, '-' where nothing ran: %s",
		      line);
		free(text);
	}

	s = render(OUT_TABLE, ACT_TOPOLOGY, "{\"method\":\"" VL_IFACE ".Topology\"}");
	CHECK(line_of(s, "0", line, sizeof(line)) && strstr(line, "0-3") && strstr(line, "0-2") && strstr(line, "8.0 GiB"),
	      "node 0: CPUs 0-3, online 0-2, 8 GiB: %s", line);
	snprintf(want, sizeof(want), "%d", D.topo.nodes[D.topo.nr_nodes - 1].id);
	CHECK(line_of(s, want, line, sizeof(line)) && strstr(line, " -  "),
	      "a memory-only node shows no CPUs: %s", line);
	CHECK(aligned(s, "NODE", "MEMORY", true) && aligned(s, "NODE", "CPUS", false), "topology columns line up");
	CHECK(line_of(s, "node 0 LLCs:", line, sizeof(line)) && strstr(line, " 0-3"),
	      "a node without cache information is one LLC of all its CPUs: %s", line);
	snprintf(want, sizeof(want), "node %d: memory only, its tasks run on node %d", D.topo.nodes[D.topo.nr_nodes - 1].id,
		 topology_cpu_home(&D.topo, D.topo.nodes[D.topo.nr_nodes - 1].id));
	CHECK(line_of(s, want, line, sizeof(line)), "the memory-only node names the node serving it: %s", want);
	free(s);

	s = render(OUT_TABLE, ACT_STATUS, "{\"method\":\"" VL_IFACE ".Status\"}");
	CHECK(line_of(s, "state", line, sizeof(line)) && strstr(line, sched_state_str(D.state)),
	      "status shows the state: %s", line);
	CHECK(line_of(s, "last", line, sizeof(line)) && strstr(line, "none"), "and no exit yet: %s", line);
	CHECK(line_of(s, "idle CPUs", line, sizeof(line)) && strstr(line, "tracked global"),
	      "and how the kernel tracks idle CPUs: %s", line);
	free(s);
	D.last_exit.kind = AN_EXIT_ERROR;
	snprintf(D.last_exit.reason, sizeof(D.last_exit.reason), "runtime error");
	snprintf(D.last_exit.msg, sizeof(D.last_exit.msg), "stall on cpu 2");
	s = render(OUT_TABLE, ACT_STATUS, "{\"method\":\"" VL_IFACE ".Status\"}");
	CHECK(line_of(s, "last", line, sizeof(line)) && strstr(line, "runtime error") && strstr(line, "stall on cpu 2"),
	      "then the exit's reason and message: %s", line);
	free(s);
}

static void test_json(void)
{
	static const struct {
		enum action a;
		const char *msg;
	} calls[] = {
		{ ACT_STATUS, "{\"method\":\"" VL_IFACE ".Status\"}" },
		{ ACT_TOPOLOGY, "{\"method\":\"" VL_IFACE ".Topology\"}" },
		{ ACT_TUNABLES, "{\"method\":\"" VL_IFACE ".ListTunables\"}" },
	};

	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		struct vl_reply r;
		struct json_object *back;
		char *s = render(OUT_JSON, calls[i].a, calls[i].msg), *one;

		back = json_tokener_parse(s);
		reply(calls[i].msg, &r);
		/* Status carries a clock; compare everything else. */
		json_object_object_del(back, "uptime_ns");
		json_object_object_del(back, "attached_for_ns");
		json_object_object_del(r.params, "uptime_ns");
		json_object_object_del(r.params, "attached_for_ns");
		CHECK(back && json_object_equal(back, r.params), "--json prints the daemon's reply as is (%s)", calls[i].msg);
		json_object_put(back);
		vl_reply_free(&r);
		one = render(OUT_JSON_LINE, calls[i].a, calls[i].msg);
		CHECK(strchr(one, '\n') == one + strlen(one) - 1, "--watch --json prints one line per sample");
		free(one);
		free(s);
	}
}

static void test_errors(void)
{
	static const struct {
		const char *msg, *want;
	} errs[] = {
		{ "{\"method\":\"" VL_IFACE ".GetTunable\",\"parameters\":{\"name\":\"slise_ns\"}}", "unknown tunable 'slise_ns'; known: slice_ns steal" },
		{ "{\"method\":\"" VL_IFACE ".SetTunable\",\"parameters\":{\"name\":\"slice_ns\",\"value\":\"-5\"}}", "slice_ns: invalid value '-5': expected an integer" },
		{ "{\"method\":\"" VL_IFACE ".SetTunable\",\"parameters\":{\"name\":\"steal\",\"value\":\"maybe\"}}", "expected on or off" },
		{ "{\"method\":\"" VL_IFACE ".Nope\"}", "does not implement " VL_IFACE ".Nope" },
		{ "{\"method\":\"" VL_IFACE ".GetTunable\",\"parameters\":{}}", "refused parameter 'name'" },
	};

	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		struct vl_reply r;
		char *buf = NULL, *jbuf = NULL;
		size_t len = 0, jlen = 0;
		FILE *f = open_memstream(&buf, &len), *j = open_memstream(&jbuf, &jlen);
		struct json_object *back;

		reply(errs[i].msg, &r);
		output_error(j, f, OUT_JSON, r.error, r.params);
		fclose(f);
		fclose(j);
		back = json_tokener_parse(jbuf);
		CHECK(r.error && strstr(buf, errs[i].want) && !strncmp(buf, "scx-ai-numactl: ", 16),
		      "error %s explains itself: %.*s", r.error ? r.error : "none", (int)strcspn(buf, "\n"), buf);
		CHECK(back && !strcmp(json_object_get_string(json_object_object_get(back, "error")), r.error),
		      "and in --json mode the error object is printed too");
		json_object_put(back);
		vl_reply_free(&r);
		free(buf);
		free(jbuf);
	}
}

/* pin, unpin and pins: numbers checked by the CLI, everything else by the daemon. */
static void test_pins(void)
{
	static const struct {
		const char *argv[6];
		int ret;
		enum action action;
		long long pid, node;
		const char *cgroup, *err;
	} cases[] = {
		{ { "pin", "4242", "1" }, 0, ACT_PIN, 4242, 1, NULL, NULL },
		{ { "pin", "--cgroup", "/train.slice", "0" }, 0, ACT_PIN, 0, 0, "/train.slice", NULL },
		{ { "pin", "--cgroup=/a/b", "2", "--json" }, 0, ACT_PIN, 0, 2, "/a/b", NULL },
		{ { "unpin", "4242" }, 0, ACT_UNPIN, 4242, -1, NULL, NULL },
		{ { "unpin", "--cgroup", "/a" }, 0, ACT_UNPIN, 0, -1, "/a", NULL },
		{ { "pins" }, 0, ACT_PINS, 0, -1, NULL, NULL },
		{ { "pin", "4242" }, -EINVAL, ACT_NONE, 0, 0, NULL, "pin: missing NODE" },
		{ { "pin" }, -EINVAL, ACT_NONE, 0, 0, NULL, "pin: missing PID NODE" },
		{ { "pin", "abc", "1" }, -EINVAL, ACT_NONE, 0, 0, NULL, "pin: 'abc' is not a process id" },
		{ { "pin", "0", "1" }, -EINVAL, ACT_NONE, 0, 0, NULL, "pin: '0' is not a process id" },
		{ { "pin", "12", "x" }, -EINVAL, ACT_NONE, 0, 0, NULL, "pin: 'x' is not a node id" },
		{ { "pin", "12", "99999999999" }, -EINVAL, ACT_NONE, 0, 0, NULL, "'99999999999' is not a node id" },
		{ { "pin", "--cgroup" }, -EINVAL, ACT_NONE, 0, 0, NULL, "pin --cgroup: missing PATH NODE" },
		{ { "unpin", "1", "2" }, -EINVAL, ACT_NONE, 0, 0, NULL, "unexpected argument '2'" },
		{ { "pins", "all" }, -EINVAL, ACT_NONE, 0, 0, NULL, "unexpected argument 'all'" },
	};
	char line[256], msg[256];
	struct json_object *p;
	struct request req;
	char *out;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[8] = { "scx-ai-numactl" }, err[256] = "", cmd[128] = "";
		int argc = 1, ret;

		for (int k = 0; cases[i].argv[k]; k++) {
			argv[argc++] = (char *)cases[i].argv[k];
			snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), " %s", cases[i].argv[k]);
		}
		ret = parse_args(argc, argv, &req, err, sizeof(err));
		if (cases[i].ret) {
			if (!CHECK(ret == cases[i].ret && strstr(err, cases[i].err), "'%s' is a usage error: %s", cmd,
				   cases[i].err))
				printf("#   ret %d, '%s'\n", ret, err);
			continue;
		}
		CHECK(ret == 0 && req.action == cases[i].action && req.pid == cases[i].pid && req.node == cases[i].node &&
		      (!cases[i].cgroup == !req.cgroup) && (!req.cgroup || !strcmp(req.cgroup, cases[i].cgroup)),
		      "'%s' parses %s", cmd, err);
	}

	/* The request carries only what was given, typed as the interface declares. */
	{
		char *argv[] = { "scx-ai-numactl", "pin", "--cgroup", "/x", "3" };

		parse_args(5, argv, &req, msg, sizeof(msg));
		p = request_params(&req);
		CHECK(!strcmp(request_method(&req), VL_IFACE ".Pin") &&
		      !strcmp(json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
			  "{\"cgroup\":\"/x\",\"node\":3}"),
		      "pin --cgroup /x 3 calls Pin with cgroup and node: %s", json_object_to_json_string(p));
		json_object_put(p);
	}

	/* Output, from the daemon's own replies. */
	snprintf(msg, sizeof(msg), "{\"method\":\"" VL_IFACE ".Pin\",\"parameters\":{\"pid\":%d,\"node\":2}}",
		 (int)getpid());
	out = render(OUT_TABLE, ACT_PIN, msg);
	snprintf(line, sizeof(line), "process %d: node 2\n", (int)getpid());
	CHECK(out && !strcmp(out, line), "pin prints the rule: %.*s", out ? (int)strcspn(out, "\n") : 0, out);
	free(out);
	out = render(OUT_TABLE, ACT_PINS, "{\"method\":\"" VL_IFACE ".ListPins\"}");
	snprintf(line, sizeof(line), "%d", (int)getpid());
	CHECK(out && strstr(out, "RULE") && strstr(out, "process") && strstr(out, line) && strstr(out, "control") &&
	      strstr(out, "no process uses a GPU"), "pins lists the rule and no GPU process");
	CHECK(out && aligned(out, "RULE", "NODE", true) && aligned(out, "RULE", "TARGET", false), "pins columns line up");
	free(out);
	snprintf(msg, sizeof(msg), "{\"method\":\"" VL_IFACE ".Unpin\",\"parameters\":{\"pid\":%d}}", (int)getpid());
	out = render(OUT_TABLE, ACT_UNPIN, msg);
	snprintf(line, sizeof(line), "process %d: unpinned (was node 2)\n", (int)getpid());
	CHECK(out && !strcmp(out, line), "unpin prints the removed rule: %.*s", out ? (int)strcspn(out, "\n") : 0, out);
	free(out);
	out = render(OUT_TABLE, ACT_PINS, "{\"method\":\"" VL_IFACE ".ListPins\"}");
	CHECK(out && !strncmp(out, "no rules\n", 9), "no rules left");
	free(out);
	out = render(OUT_TABLE, ACT_TOPOLOGY, "{\"method\":\"" VL_IFACE ".Topology\"}");
	CHECK(out && strstr(out, "no GPU or accelerator"), "topology says when there is no GPU");
	free(out);
	out = render(OUT_TABLE, ACT_STATUS, "{\"method\":\"" VL_IFACE ".Status\"}");
	CHECK(out && line_of(out, "gpu", line, sizeof(line)) && strstr(line, "off (no GPU)"),
	      "status shows the GPU scan off without GPUs: %s", line);
	free(out);

	/* GPUs and GPU processes, as a daemon on a GPU host replies. */
	{
		static const char topo[] =
			"{\"cpus\":4,\"online_cpus\":4,\"nodes\":[],\"gpus\":["
			"{\"pci\":\"0000:3b:00.0\",\"vendor\":\"0x10de\",\"device\":\"0x2330\",\"class\":\"0x030200\","
			"\"vendor_name\":\"NVIDIA\",\"driver\":\"nvidia\",\"node\":0,\"devices\":[\"/dev/nvidia2\"],"
			"\"processes\":[{\"pid\":100,\"source\":\"nvml\"},{\"pid\":300,\"source\":\"environ\"}]},"
			"{\"pci\":\"0000:c1:00.0\",\"vendor\":\"0x1002\",\"device\":\"0x74a1\",\"class\":\"0x038000\","
			"\"vendor_name\":\"AMD\",\"driver\":\"\",\"node\":-1,\"devices\":[]}]}";
		static const char pins[] =
			"{\"pins\":[{\"kind\":\"process\",\"pid\":4321,\"cgroup\":null,\"cgroup_id\":null,\"node\":0,"
			"\"origin\":\"control\",\"active\":false}],\"gpu_processes\":["
			"{\"pid\":100,\"comm\":\"python\",\"gpus\":[\"0000:3b:00.0\"],\"node\":0,\"source\":\"nvml\","
			"\"via\":null,\"left_alone\":null,\"pinned_by\":null},"
			"{\"pid\":101,\"comm\":\"pt_data_worker\",\"gpus\":[],\"node\":0,\"source\":\"nvml\","
			"\"via\":100,\"left_alone\":null,\"pinned_by\":null},"
			"{\"pid\":20000,\"comm\":\"ddp\",\"gpus\":[\"0000:3b:00.0\",\"0000:86:00.0\"],\"node\":null,"
			"\"source\":\"fd\",\"via\":null,\"left_alone\":\"it uses GPUs on several nodes evenly\",\"pinned_by\":null},"
			"{\"pid\":7,\"comm\":\"job\",\"gpus\":[\"0000:3b:00.0\"],\"node\":0,\"source\":\"environ\","
			"\"via\":null,\"left_alone\":null,\"pinned_by\":\"cgroup\"}]}";
		struct json_object *o = json_tokener_parse(topo);
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		output_reply(f, OUT_TABLE, ACT_TOPOLOGY, o);
		fclose(f);
		json_object_put(o);
		CHECK(buf && line_of(buf, "0000:3b:00.0", line, sizeof(line)) && strstr(line, "NVIDIA 0x10de:0x2330") &&
		      strstr(line, "/dev/nvidia2") && strstr(line, "nvidia"), "a GPU row: %s", line);
		CHECK(buf && line_of(buf, "0000:3b:00.0", line, sizeof(line)) && strstr(line, "100(nvml) 300(environ)"),
		      "a GPU row names the processes using it and the source of each: %s", line);
		CHECK(buf && line_of(buf, "0000:c1:00.0", line, sizeof(line)) && strstr(line, " ? ") && strstr(line, " - "),
		      "an unknown node shows as ?, no driver or device as -: %s", line);
		CHECK(buf && aligned(buf, "PCI", "NODE", true) && aligned(buf, "PCI", "DEVICES", false),
		      "GPU columns line up");
		free(buf);
		o = json_tokener_parse(pins);
		buf = NULL;
		f = open_memstream(&buf, &len);
		output_reply(f, OUT_TABLE, ACT_PINS, o);
		fclose(f);
		json_object_put(o);
		CHECK(buf && line_of(buf, "20000", line, sizeof(line)) && strstr(line, "left alone: it uses GPUs on several") &&
		      strstr(line, " fd ") && strstr(line, "0000:3b:00.0,0000:86:00.0"),
		      "a process left alone says why and which source saw it: %s", line);
		CHECK(buf && line_of(buf, "100 ", line, sizeof(line)) && strstr(line, " nvml "),
		      "a process placed by NVML names its source: %s", line);
		CHECK(buf && line_of(buf, "101", line, sizeof(line)) && strstr(line, "shares the home of GPU process 100"),
		      "a worker sharing its rank's home names the rank: %s", line);
		CHECK(buf && line_of(buf, "7", line, sizeof(line)) && strstr(line, "placed by its cgroup rule"),
		      "a process placed by a rule says so: %s", line);
		CHECK(buf && aligned(buf, "PID", "PID", true) && aligned(buf, "PID", "COMMAND", false),
		      "GPU process columns line up");
		CHECK(buf && line_of(buf, "process", line, sizeof(line)) && strstr(line, "exited") &&
		      !strstr(line, "cgroup"), "an inactive process rule shows exited, not a missing cgroup: %s", line);
		free(buf);
	}
}

/* A success reply without the fields the command prints is a protocol error, not an empty success. */
static void test_reply_check(void)
{
	static const struct { enum action action; const char *msg; } real[] = {
		{ ACT_STATUS, "{\"method\":\"" VL_IFACE ".Status\"}" },
		{ ACT_STATS, "{\"method\":\"" VL_IFACE ".Stats\"}" },
		{ ACT_TOPOLOGY, "{\"method\":\"" VL_IFACE ".Topology\"}" },
		{ ACT_TUNABLES, "{\"method\":\"" VL_IFACE ".ListTunables\"}" },
		{ ACT_GET, "{\"method\":\"" VL_IFACE ".GetTunable\",\"parameters\":{\"name\":\"slice_ns\"}}" },
		{ ACT_PINS, "{\"method\":\"" VL_IFACE ".ListPins\"}" },
	};
	static const struct { enum action action; const char *params, *why; } bad[] = {
		{ ACT_STATUS, "{}", "\"state\" missing" },
		{ ACT_STATS, "{}", "\"interval_ms\" missing" },
		{ ACT_TOPOLOGY, "{}", "\"cpus\" missing" },
		{ ACT_TUNABLES, "{}", "\"tunables\" missing" },
		{ ACT_GET, "{}", "\"tunable\" missing" },
		{ ACT_SET, "{}", "\"tunable\" missing" },
		{ ACT_PIN, "{}", "\"pin\" missing" },
		{ ACT_UNPIN, "{}", "\"pin\" missing" },
		{ ACT_PINS, "{}", "\"pins\" missing" },
		{ ACT_TUNABLES, "{\"tunables\":[{}]}", "\"tunables\"[0].\"name\" missing" },
		{ ACT_STATUS, "{\"state\":5}", "\"state\" is int, not string" },
		{ ACT_SET, "{\"tunable\":{\"name\":\"x\",\"type\":\"u64\",\"unit\":\"ns\",\"value\":1,\"default\":1,"
			   "\"min\":0,\"max\":2}}", "\"previous\" missing" },
		{ ACT_PIN, "{\"pin\":{\"kind\":\"process\",\"node\":0,\"origin\":\"control\"}}",
		  "\"pin\".\"active\" missing" },
	};
	struct json_object *o;
	struct vl_reply r;
	char err[256];

	for (size_t i = 0; i < sizeof(real) / sizeof(real[0]); i++) {
		err[0] = '\0';
		CHECK_INT(output_check_reply(real[i].action, reply(real[i].msg, &r), err, sizeof(err)), 0,
			  "the daemon's own reply to %s passes the check %s", real[i].msg, err);
		vl_reply_free(&r);
	}
	o = json_tokener_parse("{\"pin\":{\"kind\":\"process\",\"pid\":1,\"node\":0,\"origin\":\"control\",\"active\":true}}");
	CHECK_INT(output_check_reply(ACT_PIN, o, err, sizeof(err)), 0, "a complete Pin reply passes %s", err);
	json_object_put(o);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = json_tokener_parse(bad[i].params);
		err[0] = '\0';
		CHECK(output_check_reply(bad[i].action, o, err, sizeof(err)) == -EPROTO && strstr(err, bad[i].why),
		      "reply %s refused: %s (%s)", bad[i].params, bad[i].why, err);
		json_object_put(o);
	}
}

/* The figures computed from the scheduler's histograms and distances, on known inputs. */
static void test_figures(void)
{
	uint64_t hist[AN_WAIT_BUCKETS] = { 0 };
	uint32_t near[AN_MAX_NODES];
	struct topology t = { .nr_nodes = 4 };
	static const uint8_t dist[4][4] = {
		{ 10, 12, 20, 20 }, { 12, 10, 20, 20 }, { 20, 20, 10, 20 }, { 20, 20, 20, 10 },
	};

	CHECK(stats_hist_quantile(hist, 0.5) < 0, "an empty histogram has no median");
	hist[3] = 100;	/* 4..8 us */
	hist[10] = 1;	/* 512..1024 us */
	CHECK(fabs(stats_hist_quantile(hist, 0.5) - 6.0) < 0.1 && stats_hist_quantile(hist, 0.99) <= 8.0,
	      "p50 interpolates inside its bucket (%.2f us), p99 stays in it (%.2f us)",
	      stats_hist_quantile(hist, 0.5), stats_hist_quantile(hist, 0.99));
	hist[10] = 10;
	CHECK(stats_hist_quantile(hist, 0.99) > 512, "the tail moves p99 into its bucket (%.1f us)",
	      stats_hist_quantile(hist, 0.99));
	for (int i = 0; i < 4; i++) {
		t.nodes[i] = (struct topo_node){ .id = i, .nr_cpus = i == 3 ? 0 : 2 };
		for (int j = 0; j < 4; j++)
			t.distance[i][j] = dist[i][j];
	}
	stats_near_nodes(&t, near);
	CHECK(near[0] == 0x2 && near[1] == 0x1 && near[2] == 0x3,
	      "near nodes: the others at the smallest distance, ties all in, memory-only nodes out (%x %x %x)",
	      near[0], near[1], near[2]);
}

/* A placed process's run and memory locality in pins and top, wake-latency quantiles in stats. */
static void test_locality(void)
{
	char msg[256], pid[16], line[512], *out = NULL;
	struct vl_reply r;
	size_t len = 0;
	FILE *f;

	test_figures();
	snprintf(msg, sizeof(msg), "{\"method\":\"" VL_IFACE ".Pin\",\"parameters\":{\"pid\":%d,\"node\":0}}",
		 (int)getpid());
	free(render(OUT_TABLE, ACT_PIN, msg));
	/* Memory follows the pin, and the next stats tick has the scheduler keep its run time. */
	memfollow_tick(D.memfollow, mono_ns());
	daemon_stats_tick(&D);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	out = render(OUT_TABLE, ACT_PINS, "{\"method\":\"" VL_IFACE ".ListPins\"}");
	/* The fake scheduler: every kept process ran 3/4 of its time at home. */
	CHECK(out && strstr(out, "RUN LOCAL") && line_of(out, pid, line, sizeof(line)) && strstr(line, " pin ") &&
	      strstr(line, "75%"), "pins shows the pinned process's run locality: %s", line);
	free(out);
	out = NULL;
	f = open_memstream(&out, &len);
	output_top_jobs(f, reply("{\"method\":\"" VL_IFACE ".ListPins\"}", &r));
	fclose(f);
	vl_reply_free(&r);
	CHECK(out && strstr(out, "LOCALITY") && strstr(out, "MEM LOCAL") && line_of(out, pid, line, sizeof(line)) &&
	      strstr(line, "pin") && strstr(line, "75%"), "top's placed jobs show it with its locality: %s", line);
	CHECK(out && !strstr(out, "affinity"), "and only placed jobs, not processes confined by their affinity");
	free(out);
	snprintf(msg, sizeof(msg), "{\"method\":\"" VL_IFACE ".Unpin\",\"parameters\":{\"pid\":%d}}", (int)getpid());
	free(render(OUT_TABLE, ACT_UNPIN, msg));

	out = render(OUT_TABLE, ACT_STATS, "{\"method\":\"" VL_IFACE ".Stats\"}");
	CHECK(out && line_of(out, "migrate_in_far", line, sizeof(line)), "stats counts migrations by distance");
	/* The fake histogram: 100 wakes in 4..8 us per node and a few slower. */
	CHECK(out && strstr(out, "lat_wake p50 ") && strstr(out, "lat_wake p99 ") &&
	      line_of(out, "lat_wake", line, sizeof(line)) && strstr(line, "us") && !strstr(line, " - "),
	      "stats shows the launcher wake latency quantiles: %s", line);
	free(out);

	/* A quantile in the open last bucket (>= 16.384 ms) is a lower bound, and says so. */
	{
		struct json_object *p = json_tokener_parse(
			"{\"interval_ms\":0,\"queued\":0,\"total\":{},\"total_rates\":{},"
			"\"lat_wake_p50_us\":5,\"lat_wake_p99_us\":16384,"
			"\"nodes\":[{\"node\":0,\"queued\":0,\"lat_wake_p50_us\":5,\"lat_wake_p99_us\":16384}]}");

		out = NULL;
		f = open_memstream(&out, &len);
		output_reply(f, OUT_TABLE, ACT_STATS, p);
		fclose(f);
		json_object_put(p);
		CHECK(out && line_of(out, "lat_wake", line, sizeof(line)) && strstr(line, " 5us") &&
		      !strstr(line, ">="), "a quantile below the open bucket is shown as it is: %s", line);
		CHECK(out && strstr(out, ">=16.384ms"), "one in the open bucket is shown as a lower bound");
		free(out);
	}
}

int main(void)
{
	log_init(LOG_CRIT);
	fixture_init(&D, 3, 4, true, true);
	test_parser();
	test_units();
	test_tables();
	test_json();
	test_errors();
	test_pins();
	test_locality();
	test_reply_check();
	return check_done();
}
