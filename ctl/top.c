// SPDX-License-Identifier: GPL-2.0
/*
 * `scx-ai-numactl top`: Stats and ListPins every interval, redrawn in
 * place like watch(1), without a curses dependency: each frame is built in
 * memory and written at once after "cursor home, clear", so it does not
 * flicker. On a terminal, stdin is switched to non-canonical mode so that
 * q leaves without Enter; Ctrl-C leaves too, and the terminal is always
 * restored. Not on a terminal (a pipe), frames follow each other.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "ctl.h"

static volatile sig_atomic_t stop;
static struct termios saved;
static bool raw;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void tty_restore(void)
{
	if (raw)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	raw = false;
}

/* Keys without Enter, no echo; signals (Ctrl-C) still work. */
static void tty_keys(void)
{
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved) < 0)
		return;
	t = saved;
	t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) == 0)
		raw = true;
}

/* Wait up to @ms for q; true if the user asked to leave. */
static bool wait_key(int ms)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	struct timespec end, now;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += ms / 1000;
	while (!stop) {
		long left;
		char c;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left = (end.tv_sec - now.tv_sec) * 1000 + (end.tv_nsec - now.tv_nsec) / 1000000;
		if (left <= 0)
			return false;
		if (!raw) {
			poll(NULL, 0, (int)left);
			continue;
		}
		if (poll(&pfd, 1, (int)left) == 1 && read(STDIN_FILENO, &c, 1) == 1 && (c == 'q' || c == 'Q'))
			return true;
	}
	return true;
}

/* One call whose reply passes output_check_reply(); EXIT_OK with @r to free, else the reason on stderr. */
static int fetch(struct conn *c, const char *method, enum action action, struct vl_reply *r)
{
	char err[512];

	if (conn_call(c, method, json_object_new_object(), r, err, sizeof(err)) < 0) {
		fprintf(stderr, "scx-ai-numactl: %s\n", err);
		return EXIT_ERR;
	}
	if (!r->error && output_check_reply(action, r->params, err, sizeof(err)) == 0)
		return EXIT_OK;
	if (r->error)
		output_error(stdout, stderr, OUT_TABLE, r->error, r->params);
	else
		fprintf(stderr, "scx-ai-numactl: bad reply from %s: %s\n", c->path, err);
	vl_reply_free(r);
	return EXIT_ERR;
}

static int frame(struct conn *c, unsigned int interval_s, bool tty)
{
	struct vl_reply stats, pins;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (fetch(c, VL_IFACE ".Stats", ACT_STATS, &stats) != EXIT_OK)
		return EXIT_ERR;
	if (fetch(c, VL_IFACE ".ListPins", ACT_PINS, &pins) != EXIT_OK) {
		vl_reply_free(&stats);
		return EXIT_ERR;
	}
	f = open_memstream(&buf, &len);
	if (!f) {
		vl_reply_free(&stats);
		vl_reply_free(&pins);
		return EXIT_ERR;
	}
	if (tty)
		fputs("\033[H\033[2J", f);
	fprintf(f, "scx_ai_numa: every %us, rates over the daemon's last interval%s\n\n", interval_s,
		tty ? "; q to leave" : "");
	output_top_nodes(f, stats.params);
	fputc('\n', f);
	output_top_jobs(f, pins.params);
	fclose(f);
	vl_reply_free(&stats);
	vl_reply_free(&pins);
	fwrite(buf, 1, len, stdout);
	free(buf);
	if (!tty)
		fputc('\n', stdout);
	fflush(stdout);
	return EXIT_OK;
}

int top_run(struct conn *c, unsigned int interval_s)
{
	struct sigaction sa = { .sa_handler = on_signal };
	bool tty = isatty(STDOUT_FILENO);
	int ret = EXIT_OK;

	if (!interval_s)
		interval_s = 1;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (tty)
		tty_keys();
	while (!stop) {
		ret = frame(c, interval_s, tty);
		if (ret != EXIT_OK || wait_key((int)interval_s * 1000))
			break;
	}
	tty_restore();
	return ret;
}
