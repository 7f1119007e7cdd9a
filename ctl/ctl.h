/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx-ai-numactl: a thin client. One table-driven parser turns argv into one
 * request, client.c carries it over the varlink socket, and one formatter
 * prints the reply either as aligned tables or as the daemon's own JSON.
 */
#ifndef SCX_AI_NUMACTL_H
#define SCX_AI_NUMACTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "varlink.h"

struct json_object;

/* Exit statuses. */
#define EXIT_OK		0
#define EXIT_ERR	1	/* the daemon said no, or it could not be reached */
#define EXIT_USAGE	2

enum action {
	ACT_NONE,
	ACT_STATUS,
	ACT_STATS,
	ACT_TOPOLOGY,
	ACT_TUNABLES,
	ACT_GET,
	ACT_SET,
	ACT_PIN,
	ACT_UNPIN,
	ACT_PINS,
	ACT_METRICS,	/* Status, Stats and ListPins, as metrics */
	ACT_TOP,	/* Stats and ListPins, refreshed in place */
};

struct request {
	enum action action;
	const char *name;		/* get, set */
	const char *value;		/* set */
	unsigned int watch_s;		/* stats --watch, top --interval; 0: once (top: 1 s) */
	long long pid;			/* pin, unpin; 0: none given */
	const char *cgroup;		/* pin, unpin --cgroup */
	long long node;			/* pin; -1: none given */
	bool json;
	bool help;
	const char *socket;
};

/* parser.c: returns 0, or -EINVAL with a one-line reason in @err. */
int parse_args(int argc, char **argv, struct request *req, char *err, size_t errlen);
void usage(FILE *f);
/* The varlink method and parameters @req stands for; NULL params on ENOMEM. */
const char *request_method(const struct request *req);
struct json_object *request_params(const struct request *req);

/* client.c */
struct conn {
	int fd;
	const char *path;
	struct vl_in in;
	bool answered;	/* a reply came: a hangup is no longer a refusal at the door */
};

/* Connect; on failure @err says what to do about it. Returns 0 or -errno. */
int conn_open(struct conn *c, const char *path, char *err, size_t errlen);
/* One call (takes @params), one reply. Returns 0 (the reply may be an error) or -errno with @err set. */
int conn_call(struct conn *c, const char *method, struct json_object *params, struct vl_reply *reply,
	      char *err, size_t errlen);
void conn_close(struct conn *c);

/* output.c */
enum out_mode {
	OUT_TABLE,
	OUT_JSON,
	OUT_JSON_LINE,	/* one compact object per line, for --watch */
};

/*
 * Whether a successful reply of @action holds the fields its output needs,
 * with their types. 0, or -EPROTO with the first missing or mistyped field
 * in @err.
 */
int output_check_reply(enum action action, struct json_object *params, char *err, size_t errlen);
/* Print a successful reply of @action (one output_check_reply accepted). */
void output_reply(FILE *f, enum out_mode mode, enum action action, struct json_object *params);
/* Explain an error reply in one line (to @err), and in JSON mode print it whole to @f. */
void output_error(FILE *f, FILE *err, enum out_mode mode, const char *error, struct json_object *params);

/* The per-node view of top from a Stats reply: busy CPUs, locality, queues, steals, migrations. */
void output_top_nodes(FILE *f, struct json_object *stats);
/* top: the placed jobs of a ListPins reply, with their GPUs, home, run and memory locality. */
void output_top_jobs(FILE *f, struct json_object *pins);

/* top.c: refresh Stats and ListPins on @c every @interval_s until q, Ctrl-C or an error. */
int top_run(struct conn *c, unsigned int interval_s);

/* metrics.c: replies of Status, Stats and ListPins (all checked) as the Prometheus text exposition. */
void metrics_print(FILE *f, struct json_object *status, struct json_object *stats, struct json_object *pins);

/* Unit formatting, shared with the tests. */
void fmt_ns(uint64_t ns, char *buf, size_t len);
void fmt_duration(uint64_t ns, char *buf, size_t len);
void fmt_rate(double per_s, char *buf, size_t len);
void fmt_kib(uint64_t kib, char *buf, size_t len);
/* "0-3,8,10-11" from the integers of a JSON array. */
void fmt_cpulist(struct json_object *arr, char *buf, size_t len);

#endif
