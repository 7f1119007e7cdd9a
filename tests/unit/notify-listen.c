// SPDX-License-Identifier: GPL-2.0
/*
 * notify-listen: stand in for the service manager's notification socket, so
 * tests can see what the daemon tells systemd.
 *
 *   notify-listen [-t] SOCKET [SECONDS]
 *
 * Binds a datagram socket at SOCKET ("/path", or "@name" for the abstract
 * namespace; the path is removed first and at exit) and prints every
 * assignment received on its own line as "N VAR=value", N counting
 * datagrams from 1, so a test can tell which assignments came together.
 * Runs until SIGTERM/SIGINT, or SECONDS (default 600) without any message.
 * With -t each line starts with the CLOCK_MONOTONIC time of its datagram's
 * arrival in ms, "MS N VAR=value", to measure the gaps between pings.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sigaction act = { .sa_handler = on_signal };
	struct timeval tv = { .tv_sec = 600 };
	unsigned long seq = 0;
	const char *name;
	socklen_t len;
	bool stamp = false;
	int fd;

	if (argc > 1 && !strcmp(argv[1], "-t")) {
		stamp = true;
		argv++;
		argc--;
	}
	if (argc < 2 || argc > 3 || !argv[1][0] || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: notify-listen [-t] SOCKET [SECONDS]\n");
		return 2;
	}
	name = argv[1];
	if (argc == 3)
		tv.tv_sec = atoi(argv[2]) > 0 ? atoi(argv[2]) : 1;
	if (name[0] == '@') {
		memcpy(sa.sun_path + 1, name + 1, strlen(name) - 1);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name));
	} else {
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", name);
		unlink(name);
		len = sizeof(sa);
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, len) < 0) {
		fprintf(stderr, "notify-listen: %s: %s\n", name, strerror(errno));
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* No SA_RESTART: a signal ends the blocking recv. */
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	while (!stop) {
		char buf[4096], *line, *save;
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
		struct timespec ts;

		if (n < 0)
			break;	/* timeout or signal */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		buf[n] = '\0';
		seq++;
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			if (stamp)
				printf("%lld %lu %s\n", (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, seq, line);
			else
				printf("%lu %s\n", seq, line);
	}
	if (name[0] != '@')
		unlink(name);
	return 0;
}
