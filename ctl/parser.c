// SPDX-License-Identifier: GPL-2.0
/*
 * The command line as a grammar: each table lists what may come next, and
 * parsing walks from table to table. Adding a command is adding a row; usage
 * and error messages are printed from the same rows, so they cannot drift.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "ctl.h"

enum tok_type {
	T_NONE,		/* ends a table */
	T_DONE,		/* the command may end here */
	T_KEYWORD,	/* a literal word */
	T_NAME,		/* a tunable name */
	T_VALUE,	/* a tunable value; may start with '-' */
	T_SECONDS,	/* a whole number of seconds */
	T_PID,		/* a process id */
	T_NODE,		/* a NUMA node id */
	T_PATH,		/* a cgroup path */
};

struct token {
	enum tok_type type;
	const char *word;		/* the keyword, or the placeholder shown in usage */
	enum action action;		/* set when matched; ACT_NONE keeps the current one */
	const struct token *next;
	const char *help;		/* commands only */
};

static const struct token t_done[] = {
	{ T_DONE, NULL, ACT_NONE, NULL, NULL },
	{ T_NONE, NULL, ACT_NONE, NULL, NULL },
};

static const struct token t_seconds[] = {
	{ T_SECONDS, "SECONDS", ACT_NONE, t_done, NULL },
	{ T_NONE, NULL, ACT_NONE, NULL, NULL },
};

static const struct token t_stats[] = {
	{ T_DONE, NULL, ACT_NONE, NULL, NULL },
	{ T_KEYWORD, "--watch", ACT_NONE, t_seconds, NULL },
	{ T_NONE, NULL, ACT_NONE, NULL, NULL },
};

static const struct token t_top[] = {
	{ T_DONE, NULL, ACT_NONE, NULL, NULL },
	{ T_KEYWORD, "--interval", ACT_NONE, t_seconds, NULL },
	{ T_NONE, NULL, ACT_NONE, NULL, NULL },
};

static const struct token t_get[] = {
	{ T_NAME, "NAME", ACT_NONE, t_done, NULL },
	{ T_NONE, NULL, ACT_NONE, NULL, NULL },
};

static const struct token t_set_value[] = {
	{ T_VALUE, "VALUE", ACT_NONE, t_done, NULL },
	{ T_NONE, NULL, ACT_NONE, NULL, NULL },
};

static const struct token t_set[] = {
	{ T_NAME, "NAME", ACT_NONE, t_set_value, NULL },
	{ T_NONE, NULL, ACT_NONE, NULL, NULL },
};

static const struct token t_pin_node[] = {
	{ T_NODE, "NODE", ACT_NONE, t_done, NULL },
	{ T_NONE, NULL, ACT_NONE, NULL, NULL },
};

static const struct token t_pin_path[] = {
	{ T_PATH, "PATH", ACT_NONE, t_pin_node, NULL },
	{ T_NONE, NULL, ACT_NONE, NULL, NULL },
};

static const struct token t_pin[] = {
	{ T_PID, "PID", ACT_NONE, t_pin_node, NULL },
	{ T_KEYWORD, "--cgroup", ACT_NONE, t_pin_path, NULL },
	{ T_NONE, NULL, ACT_NONE, NULL, NULL },
};

static const struct token t_unpin_path[] = {
	{ T_PATH, "PATH", ACT_NONE, t_done, NULL },
	{ T_NONE, NULL, ACT_NONE, NULL, NULL },
};

static const struct token t_unpin[] = {
	{ T_PID, "PID", ACT_NONE, t_done, NULL },
	{ T_KEYWORD, "--cgroup", ACT_NONE, t_unpin_path, NULL },
	{ T_NONE, NULL, ACT_NONE, NULL, NULL },
};

static const struct token t_main[] = {
	{ T_KEYWORD, "status", ACT_STATUS, t_done,
	  "scheduler state, uptime, restarts and the last exit" },
	{ T_KEYWORD, "stats", ACT_STATS, t_stats,
	  "counters and per-second rates per node, every SECONDS with --watch" },
	{ T_KEYWORD, "topology", ACT_TOPOLOGY, t_done,
	  "nodes with their CPUs, memory and distances" },
	{ T_KEYWORD, "tunables", ACT_TUNABLES, t_done,
	  "every tunable with its value, default and range" },
	{ T_KEYWORD, "get", ACT_GET, t_get,
	  "one tunable" },
	{ T_KEYWORD, "set", ACT_SET, t_set,
	  "change a tunable: 5ms, 200us, on, off (root or the control group)" },
	{ T_KEYWORD, "pin", ACT_PIN, t_pin,
	  "run a process, or with --cgroup PATH a cgroup, on NODE (root or the control group)" },
	{ T_KEYWORD, "unpin", ACT_UNPIN, t_unpin,
	  "remove the rule for a process, or with --cgroup PATH a cgroup" },
	{ T_KEYWORD, "pins", ACT_PINS, t_done,
	  "rules, and the processes placed on their GPUs' node" },
	{ T_KEYWORD, "top", ACT_TOP, t_top,
	  "live view per node and of placed jobs, every SECONDS (default 1); q or Ctrl-C leaves" },
	{ T_KEYWORD, "metrics", ACT_METRICS, t_done,
	  "status and stats for Prometheus (text exposition, node_exporter's textfile)" },
	{ T_NONE, NULL, ACT_NONE, NULL, NULL },
};

/* The daemon's default, passed by meson (runstatedir); fallback as in daemon/options.h. */
#ifdef DEFAULT_SOCKET_PATH
#define DEFAULT_SOCKET	DEFAULT_SOCKET_PATH
#else
#define DEFAULT_SOCKET	"/run/scx-ai-numa/control.sock"
#endif
#define MAX_WATCH_S	86400

static bool can_end(const struct token *table)
{
	for (const struct token *t = table; t->type != T_NONE; t++)
		if (t->type == T_DONE)
			return true;
	return false;
}

/* What may follow, as usage shows it: "[--watch SECONDS]", "NAME VALUE". */
static void syntax(const struct token *table, char *buf, size_t len)
{
	const struct token *t;
	char rest[96];

	buf[0] = '\0';
	for (t = table; t->type == T_DONE; t++)
		;
	if (t->type == T_NONE)
		return;
	syntax(t->next, rest, sizeof(rest));
	snprintf(buf, len, "%s%s%s%s%s", can_end(table) ? "[" : "", t->word, *rest ? " " : "", rest,
		 can_end(table) ? "]" : "");
}

/* The words a table accepts, for "expected one of ..." messages. */
static void expected(const struct token *table, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (const struct token *t = table; t->type != T_NONE && n < len; t++)
		if (t->type != T_DONE)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "", t->word);
}

void usage(FILE *f)
{
	fprintf(f,
		"usage: scx-ai-numactl [-s SOCKET] [--json] COMMAND [ARGS]\n"
		"\n"
		"Query and tune the scx_ai_numa scheduler through scx_ai_numad's control socket.\n"
		"\n"
		"commands:\n");
	for (const struct token *t = t_main; t->type != T_NONE; t++) {
		char args[96], left[128];

		syntax(t->next, args, sizeof(args));
		snprintf(left, sizeof(left), "%s%s%s", t->word, *args ? " " : "", args);
		fprintf(f, "  %-26s %s\n", left, t->help);
	}
	fprintf(f,
		"\n"
		"options:\n"
		"  -s, --socket SOCKET        control socket (default " DEFAULT_SOCKET ")\n"
		"  -j, --json                 print the daemon's JSON reply\n"
		"  -h, --help                 this text\n"
		"\n"
		"Exit status: 0 success, 1 error from the daemon or the connection, 2 usage.\n");
}

/*
 * The row of @table that takes @arg. A keyword "--x" also takes "--x=VAL",
 * with VAL then parsed as the next word (*attached points at it).
 */
static const struct token *match(const struct token *table, const char *arg, const char **attached)
{
	*attached = NULL;
	for (const struct token *t = table; t->type != T_NONE; t++) {
		size_t n;

		switch (t->type) {
		case T_KEYWORD:
			n = strlen(t->word);
			if (!strncmp(arg, t->word, n) && (!arg[n] || (arg[n] == '=' && t->word[0] == '-'))) {
				if (arg[n])
					*attached = arg + n + 1;
				return t;
			}
			break;
		case T_NAME:
		case T_SECONDS:
		case T_PID:
		case T_NODE:
		case T_PATH:
			if (arg[0] != '-')
				return t;
			break;
		case T_VALUE:
			/* "-5" is a value (the daemon explains what is wrong with it); "--x" is not. */
			if (strncmp(arg, "--", 2))
				return t;
			break;
		case T_DONE:
		case T_NONE:
			break;
		}
	}
	return NULL;
}

/* Options valid anywhere a value is not expected. Returns the words used, 0 if none, -EINVAL. */
static int global_option(int argc, char **argv, int i, struct request *req, char *err, size_t errlen)
{
	const char *a = argv[i];

	if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
		req->json = true;
		return 1;
	}
	if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
		req->help = true;
		return 1;
	}
	if (!strcmp(a, "-s") || !strcmp(a, "--socket")) {
		if (i + 1 >= argc || !*argv[i + 1]) {
			snprintf(err, errlen, "%s needs a SOCKET path", a);
			return -EINVAL;
		}
		req->socket = argv[i + 1];
		return 2;
	}
	if (!strncmp(a, "--socket=", 9)) {
		if (!a[9]) {
			snprintf(err, errlen, "--socket needs a SOCKET path");
			return -EINVAL;
		}
		req->socket = a + 9;
		return 1;
	}
	return 0;
}

/*
 * Take one word into @req; advances *table. @path collects the keywords
 * taken so far ("stats --watch") to name the context in error messages.
 */
static int take(const struct token **table, const char *arg, const char **last, char *path, size_t pathlen,
		struct request *req, const char **attached, char *err, size_t errlen)
{
	const struct token *t = match(*table, arg, attached);
	char words[128];

	if (!t) {
		expected(*table, words, sizeof(words));
		if (*table == t_main)
			snprintf(err, errlen, "unknown command '%s': expected one of %s", arg, words);
		else if (!*words)
			snprintf(err, errlen, "unexpected argument '%s' after '%s'", arg, *last);
		else
			snprintf(err, errlen, "%s: unexpected '%s': expected %s", path, arg, words);
		return -EINVAL;
	}
	if (t->action != ACT_NONE)
		req->action = t->action;
	switch (t->type) {
	case T_NAME:
		req->name = arg;
		break;
	case T_VALUE:
		req->value = arg;
		break;
	case T_PID:
	case T_NODE: {
		char *end;
		long long v;

		errno = 0;
		v = strtoll(arg, &end, 10);
		if (arg[0] < '0' || arg[0] > '9' || errno || *end || v > 2147483647LL ||
		    (t->type == T_PID && v < 1)) {
			snprintf(err, errlen, "%s: '%s' is not a %s", path, arg,
				 t->type == T_PID ? "process id" : "node id");
			return -EINVAL;
		}
		if (t->type == T_PID)
			req->pid = v;
		else
			req->node = v;
		break;
	}
	case T_PATH:
		req->cgroup = arg;
		break;
	case T_SECONDS: {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(arg, &end, 10);
		if (arg[0] < '0' || arg[0] > '9' || errno || *end || v < 1 || v > MAX_WATCH_S) {
			snprintf(err, errlen, "%s: '%s' is not a number of seconds 1..%d", path, arg, MAX_WATCH_S);
			return -EINVAL;
		}
		req->watch_s = (unsigned int)v;
		break;
	}
	default:
		break;
	}
	*last = t->type == T_KEYWORD ? t->word : arg;
	if (t->type == T_KEYWORD) {
		size_t n = strlen(path);

		snprintf(path + n, pathlen - n, "%s%s", n ? " " : "", t->word);
	}
	*table = t->next;
	return 0;
}

int parse_args(int argc, char **argv, struct request *req, char *err, size_t errlen)
{
	const struct token *table = t_main;
	const char *last = NULL, *attached;
	char words[128], path[64] = "";

	memset(req, 0, sizeof(*req));
	req->socket = DEFAULT_SOCKET;
	req->node = -1;
	for (int i = 1; i < argc; ) {
		const char *arg = argv[i];
		int used;

		if (arg[0] == '-' && !(match(table, arg, &attached) && match(table, arg, &attached)->type == T_VALUE)) {
			used = global_option(argc, argv, i, req, err, errlen);
			if (used < 0)
				return -EINVAL;
			if (used) {
				i += used;
				continue;
			}
		}
		i++;
		if (req->help)
			continue;
		if (take(&table, arg, &last, path, sizeof(path), req, &attached, err, errlen) < 0)
			return -EINVAL;
		if (attached && take(&table, attached, &last, path, sizeof(path), req, &attached, err, errlen) < 0)
			return -EINVAL;
	}
	if (req->help)
		return 0;
	if (table == t_main) {
		expected(t_main, words, sizeof(words));
		snprintf(err, errlen, "missing command: expected one of %s", words);
		return -EINVAL;
	}
	if (!can_end(table)) {
		syntax(table, words, sizeof(words));
		snprintf(err, errlen, "%s: missing %s", path, words);
		return -EINVAL;
	}
	return 0;
}

const char *request_method(const struct request *req)
{
	switch (req->action) {
	case ACT_STATUS: return VL_IFACE ".Status";
	case ACT_STATS: return VL_IFACE ".Stats";
	case ACT_TOPOLOGY: return VL_IFACE ".Topology";
	case ACT_TUNABLES: return VL_IFACE ".ListTunables";
	case ACT_GET: return VL_IFACE ".GetTunable";
	case ACT_SET: return VL_IFACE ".SetTunable";
	case ACT_PIN: return VL_IFACE ".Pin";
	case ACT_UNPIN: return VL_IFACE ".Unpin";
	case ACT_PINS: return VL_IFACE ".ListPins";
	/* And Status before it: see main.c. */
	case ACT_METRICS: return VL_IFACE ".Stats";
	/* And ListPins after it: see top.c. */
	case ACT_TOP: return VL_IFACE ".Stats";
	case ACT_NONE: break;
	}
	return NULL;
}

struct json_object *request_params(const struct request *req)
{
	struct json_object *p = json_object_new_object();
	struct json_object *v;

	if (!p)
		return NULL;
	/* The value goes as typed: parsing, units and ranges are the daemon's. */
	if (req->name) {
		v = json_object_new_string(req->name);
		if (!v || json_object_object_add(p, "name", v) < 0)
			goto fail;
	}
	if (req->value) {
		v = json_object_new_string(req->value);
		if (!v || json_object_object_add(p, "value", v) < 0)
			goto fail;
	}
	if (req->pid) {
		v = json_object_new_int64(req->pid);
		if (!v || json_object_object_add(p, "pid", v) < 0)
			goto fail;
	}
	if (req->cgroup) {
		v = json_object_new_string(req->cgroup);
		if (!v || json_object_object_add(p, "cgroup", v) < 0)
			goto fail;
	}
	if (req->node >= 0) {
		v = json_object_new_int64(req->node);
		if (!v || json_object_object_add(p, "node", v) < 0)
			goto fail;
	}
	return p;
fail:
	json_object_put(v);
	json_object_put(p);
	return NULL;
}
