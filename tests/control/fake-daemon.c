// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket of a daemon without a kernel, for the CLI tests:
 * fake-daemon SOCKET [GROUP] [--stats-socket PATH]. Serves the fixture (two nodes, a fake
 * scheduler whose counters move) until SIGTERM or SIGINT, sampling stats
 * and looking after pinned processes (memfollow) every 200 ms. Prints "ready" once the socket is listening. With
 * --stats-socket it also serves the scx_stats endpoint there, and
 * SCX_STATS_IDLE_MS shortens that endpoint's idle timeout.
 *
 * fake-daemon --empty-replies SOCKET answers every call with a success
 * that has none of the method's fields, as a broken or foreign daemon
 * might, until killed.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "clock.h"
#include "control.h"
#include "fixture.h"
#include "memfollow.h"
#include "log.h"
#include "loop.h"
#include "scxstats.h"

static struct daemon D;
static int tick_fd, sig_fd;
static bool done;

static void on_tick(void *arg, uint32_t events)
{
	(void)arg;
	(void)events;
	loop_timer_drain(tick_fd);
	/* Pinned processes become placed jobs, whose run time the fake scheduler "keeps". */
	memfollow_tick(D.memfollow, mono_ns());
	daemon_stats_tick(&D);
	control_stats_tick(&D);
	scxstats_tick(&D);
}

static void on_signal(void *arg, uint32_t events)
{
	struct signalfd_siginfo si;

	(void)arg;
	(void)events;
	while (read(sig_fd, &si, sizeof(si)) == sizeof(si))
		done = true;
}

static int empty_replies(const char *path)
{
	static const char reply[] = "{\"parameters\":{}}";
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(lfd, 8) < 0) {
		fprintf(stderr, "fake-daemon: %s: %s\n", path, strerror(errno));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		char c;

		if (fd < 0)
			continue;
		/* One reply per request: each ends at its NUL. */
		while (read(fd, &c, 1) == 1)
			if (!c && write(fd, reply, sizeof(reply)) != (ssize_t)sizeof(reply))
				break;
		close(fd);
	}
}

int main(int argc, char **argv)
{
	char err[512];
	const char *stats_path = NULL, *idle;
	sigset_t mask;

	signal(SIGPIPE, SIG_IGN);
	if (argc == 3 && !strcmp(argv[1], "--empty-replies"))
		return empty_replies(argv[2]);
	if (argc >= 4 && !strcmp(argv[argc - 2], "--stats-socket")) {
		stats_path = argv[argc - 1];
		argc -= 2;
	}
	idle = getenv("SCX_STATS_IDLE_MS");
	if (idle)
		sxs_idle_timeout_ns = strtoull(idle, NULL, 10) * 1000000ULL;
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: fake-daemon SOCKET [GROUP] [--stats-socket PATH]\n");
		return 2;
	}
	log_init(LOG_INFO);
	fixture_init(&D, 2, 4, false, true);
	D.opt.socket_path = argv[1];
	D.opt.ctl_group = argc > 2 ? argv[2] : NULL;
	D.opt.stats_socket = stats_path;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sig_fd < 0 || loop_new(&D.loop) < 0 || loop_add(D.loop, sig_fd, EPOLLIN, on_signal, NULL) < 0) {
		fprintf(stderr, "fake-daemon: setup: %s\n", strerror(errno));
		return 1;
	}
	tick_fd = loop_add_timer(D.loop, 200, on_tick, NULL);
	if (tick_fd < 0 || control_open(&D, err, sizeof(err)) < 0) {
		fprintf(stderr, "fake-daemon: %s\n", tick_fd < 0 ? strerror(-tick_fd) : err);
		return 1;
	}
	if (scxstats_open(&D, err, sizeof(err)) < 0) {
		fprintf(stderr, "fake-daemon: %s\n", err);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (!done)
		loop_run_once(D.loop, -1);
	scxstats_close(&D);
	control_close(&D);
	loop_free(D.loop);
	return 0;
}
