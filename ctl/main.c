// SPDX-License-Identifier: GPL-2.0
/*
 * scx-ai-numactl: parse, call, print. Exit 0 on success, 1 when the daemon
 * refused, could not be reached or sent a reply without the fields asked
 * for, 2 on a usage error.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>

#include "ctl.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/*
 * One call whose reply has the fields @action needs: EXIT_OK with @reply to
 * free, or EXIT_ERR with the reason printed. Takes @params.
 */
static int call(struct conn *c, const char *method, enum action action, struct json_object *params,
		enum out_mode mode, struct vl_reply *reply)
{
	char err[512];

	if (!params) {
		fprintf(stderr, "scx-ai-numactl: out of memory\n");
		return EXIT_ERR;
	}
	if (conn_call(c, method, params, reply, err, sizeof(err)) < 0) {
		fprintf(stderr, "scx-ai-numactl: %s\n", err);
		return EXIT_ERR;
	}
	if (reply->error) {
		output_error(stdout, stderr, mode, reply->error, reply->params);
	} else if (output_check_reply(action, reply->params, err, sizeof(err)) < 0) {
		fprintf(stderr, "scx-ai-numactl: bad reply from %s: %s\n", c->path, err);
	} else {
		return EXIT_OK;
	}
	vl_reply_free(reply);
	fflush(stdout);
	return EXIT_ERR;
}

/* One call and its output; EXIT_OK or EXIT_ERR. */
static int run_once(struct conn *c, const struct request *req, enum out_mode mode)
{
	struct vl_reply reply;

	if (call(c, request_method(req), req->action, request_params(req), mode, &reply) != EXIT_OK)
		return EXIT_ERR;
	output_reply(stdout, mode, req->action, reply.params);
	vl_reply_free(&reply);
	fflush(stdout);
	return EXIT_OK;
}

/* Three calls on one connection, one text: nothing is printed unless all answered. */
static int run_metrics(struct conn *c, const struct request *req)
{
	struct vl_reply status, stats, pins;

	if (call(c, VL_IFACE ".Status", ACT_STATUS, json_object_new_object(), OUT_TABLE, &status) != EXIT_OK)
		return EXIT_ERR;
	if (call(c, request_method(req), ACT_STATS, request_params(req), OUT_TABLE, &stats) != EXIT_OK) {
		vl_reply_free(&status);
		return EXIT_ERR;
	}
	if (call(c, VL_IFACE ".ListPins", ACT_PINS, json_object_new_object(), OUT_TABLE, &pins) != EXIT_OK) {
		vl_reply_free(&status);
		vl_reply_free(&stats);
		return EXIT_ERR;
	}
	metrics_print(stdout, status.params, stats.params, pins.params);
	vl_reply_free(&status);
	vl_reply_free(&stats);
	vl_reply_free(&pins);
	return fflush(stdout) == 0 && !ferror(stdout) ? EXIT_OK : EXIT_ERR;
}

/*
 * --watch polls on one connection rather than streaming with "more": the
 * user's period wins over the daemon's sampling tick, and rates always cover
 * the daemon's last full interval.
 */
static int watch(struct conn *c, const struct request *req)
{
	enum out_mode mode = req->json ? OUT_JSON_LINE : OUT_TABLE;
	struct sigaction sa = { .sa_handler = on_signal };
	bool first = true;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!stop) {
		struct timespec ts = { .tv_sec = req->watch_s };
		int ret;

		if (!first && mode == OUT_TABLE)
			fputc('\n', stdout);
		first = false;
		ret = run_once(c, req, mode);
		if (ret != EXIT_OK)
			return ret;
		/* A signal cuts the sleep short (no SA_RESTART), and ends the loop. */
		while (!stop && nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	struct request req;
	struct conn c;
	char err[512];
	int ret;

	/* A daemon that goes away mid-call is an error to report, not a signal to die of. */
	signal(SIGPIPE, SIG_IGN);
	if (parse_args(argc, argv, &req, err, sizeof(err)) < 0) {
		fprintf(stderr, "scx-ai-numactl: %s\nTry 'scx-ai-numactl --help'.\n", err);
		return EXIT_USAGE;
	}
	if (req.help) {
		usage(stdout);
		return EXIT_OK;
	}
	if (conn_open(&c, req.socket, err, sizeof(err)) < 0) {
		fprintf(stderr, "scx-ai-numactl: %s\n", err);
		return EXIT_ERR;
	}
	if (req.action == ACT_STATS && req.watch_s)
		ret = watch(&c, &req);
	else if (req.action == ACT_METRICS)
		ret = run_metrics(&c, &req);
	else if (req.action == ACT_TOP)
		ret = top_run(&c, req.watch_s);
	else
		ret = run_once(&c, &req, req.json ? OUT_JSON : OUT_TABLE);
	conn_close(&c);
	return ret;
}
