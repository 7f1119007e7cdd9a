// SPDX-License-Identifier: GPL-2.0
/*
 * stats-client: scx_stats traffic for the VM scenarios, as sched_ext's
 * tools make it, or a client that asks and never reads.
 *
 *   stats-client SOCKET [--every-ms N] [--seconds S]
 *       one connection; every N ms (default 1000) a `stats` request and its
 *       one-line reply (reconnecting if the daemon hung up); prints
 *       "stats-client: requests=R ok=K failed=F max_ms=M" at the end and
 *       exits 1 if any request failed (no reply within 15 s included).
 *   stats-client SOCKET --no-read [--seconds S]
 *       writes requests until the socket buffers are full, then holds the
 *       connection S seconds without reading; prints how much it sent and
 *       whether the daemon closed the connection meanwhile.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char req[] = "{\"req\":\"stats\",\"args\":{\"target\":\"top\"}}\n";

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int dial(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One request, its reply up to the newline within 15 s (a starved TCG guest): 0, or -1. */
static int ask(int fd)
{
	char buf[65536];
	size_t have = 0;
	long long deadline = now_ms() + 15000;

	if (write(fd, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1)
		return -1;
	while (now_ms() < deadline) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, (int)(deadline - now_ms())) <= 0)
			continue;
		n = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (n <= 0)
			return -1;
		have += (size_t)n;
		buf[have] = '\0';
		if (memchr(buf, '\n', have))
			return strstr(buf, "\"errno\":0") ? 0 : -1;
		if (have == sizeof(buf) - 1)
			have = 0;	/* longer than we care about: keep looking for its end */
	}
	return -1;
}

static int no_read(const char *path, int secs)
{
	long long sent = 0, end;
	int fd = dial(path), closed = 0;

	if (fd < 0) {
		perror("stats-client: connect");
		return 1;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	for (;;) {
		ssize_t n = write(fd, req, sizeof(req) - 1);

		if (n <= 0)
			break;
		sent += n;
	}
	end = now_ms() + secs * 1000LL;
	while (now_ms() < end && !closed) {
		struct pollfd p = { .fd = fd, .events = POLLRDHUP };

		if (poll(&p, 1, 200) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
			closed = 1;
	}
	printf("stats-client: no-read sent=%lld closed_by_daemon=%d\n", sent, closed);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	int every = 1000, secs = 10, noread = 0, fd = -1;
	long long end, worst = 0, requests = 0, ok = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: stats-client SOCKET [--every-ms N] [--seconds S] [--no-read]\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--no-read"))
			noread = 1;
		else if (!strcmp(argv[i], "--every-ms") && i + 1 < argc)
			every = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			secs = atoi(argv[++i]);
		else {
			fprintf(stderr, "stats-client: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (noread)
		return no_read(argv[1], secs);
	end = now_ms() + secs * 1000LL;
	while (now_ms() < end) {
		long long t0 = now_ms(), dt;
		struct timespec ts = { .tv_sec = every / 1000, .tv_nsec = (every % 1000) * 1000000L };

		if (fd < 0)
			fd = dial(argv[1]);
		requests++;
		if (fd >= 0 && !ask(fd)) {
			ok++;
		} else if (fd >= 0) {
			close(fd);
			fd = -1;
		}
		dt = now_ms() - t0;
		if (dt > worst)
			worst = dt;
		nanosleep(&ts, NULL);
	}
	printf("stats-client: requests=%lld ok=%lld failed=%lld max_ms=%lld\n", requests, ok, requests - ok, worst);
	return requests == ok ? 0 : 1;
}
