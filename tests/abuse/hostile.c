// SPDX-License-Identifier: GPL-2.0
/*
 * The attacks the control socket once lost to, measured (ctl-abuse --hostile):
 * a connection that pipelines 200 KB of Status calls and hangs up, costing
 * the daemon CPU for replies nobody reads; and unprivileged users holding
 * every connection they can get idle, while such pipelines keep coming and a
 * fresh root client must still be answered at once. Needs root: the holders
 * switch to other users, so the socket must let them connect (mode 0666).
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <json-c/json.h>

#include "abuse.h"

#define PIPELINE_BYTES	(200 * 1024)
#define HOLDER_UIDS	4
#define FRESH_GAP_MS	100

static char *pipeline;
static size_t pipeline_len;

static void pipeline_build(void)
{
	size_t one;
	char *status = call_text("io.scx-ai-numa.Status", NULL, false, &one);
	size_t n = PIPELINE_BYTES / one;

	pipeline_len = n * one;
	pipeline = malloc(pipeline_len);
	if (!pipeline) {
		fprintf(stderr, "ctl-abuse: out of memory\n");
		exit(2);
	}
	for (size_t i = 0; i < n; i++)
		memcpy(pipeline + i * one, status, one);
	free(status);
}

/* Connect, write the whole pipeline, hang up without reading a byte. */
static int pipeline_once(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), sz = 1 << 20;
	size_t off = 0;

	if (fd < 0)
		return -errno;
	/* Room for all of it, so the hangup follows the last byte at once. */
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (connect(fd, (struct sockaddr *)&C.addr, sizeof(C.addr)) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	while (off < pipeline_len) {
		ssize_t n = send(fd, pipeline + off, pipeline_len - off, MSG_NOSIGNAL);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	return 0;
}

/* Until the daemon's descriptors are back to @fds: it has let the connection go. */
static void wait_fds(int pid, long fds)
{
	struct proc_sample s;

	for (int i = 0; i < 1000; i++) {
		if (proc_sample(pid, &s) < 0 || s.fds <= fds)
			return;
		usleep(10000);
	}
}

/*
 * The daemon's CPU time in µs, all threads: the scheduler's own runtime
 * accounting (schedstat) where there is one, precise where /proc/PID/stat
 * counts whole ticks; else the latter.
 */
static long long cpu_us(int pid)
{
	char path[64];
	long long sum = 0;
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	while (d && (e = readdir(d))) {
		unsigned long long ns;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/schedstat", pid, e->d_name);
		f = fopen(path, "re");
		if (!f || fscanf(f, "%llu", &ns) != 1) {
			if (f)
				fclose(f);
			closedir(d);
			return proc_cpu_ms(pid) < 0 ? -1 : proc_cpu_ms(pid) * 1000LL;
		}
		fclose(f);
		sum += (long long)(ns / 1000);
	}
	if (d)
		closedir(d);
	return d ? sum : -1;
}

/* The daemon's CPU in µs over @ms from now, with one pipeline at the start if @attack. */
static long long cpu_window(int pid, unsigned int ms, bool attack)
{
	uint64_t end = mono_us() + (uint64_t)ms * 1000;
	struct proc_sample s;
	long long cpu0, cpu1;

	if (proc_sample(pid, &s) < 0)
		return -1;
	cpu0 = cpu_us(pid);
	if (attack) {
		if (pipeline_once() < 0)
			return -1;
		wait_fds(pid, s.fds);
	}
	while (mono_us() < end)
		usleep(10000);
	cpu1 = cpu_us(pid);
	return cpu0 < 0 || cpu1 < 0 ? -1 : cpu1 - cpu0;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

long hostile_pipeline_cost(int pid, long *idle_ms, long costs_ms[3])
{
	long long quiet, c[3];

	if (!pipeline)
		pipeline_build();
	/* What the daemon spends anyway (its stats tick) is not the pipeline's doing. */
	quiet = cpu_window(pid, 1000, false);
	if (quiet < 0)
		return -1;
	*idle_ms = (long)(quiet / 1000);
	/* A guest's CPU times include what its host took away: the median of three. */
	for (int i = 0; i < 3; i++) {
		long long busy = cpu_window(pid, 1000, true);

		if (busy < 0)
			return -1;
		c[i] = busy > quiet ? busy - quiet : 0;
		costs_ms[i] = (long)(c[i] / 1000);
	}
	qsort(c, 3, sizeof(c[0]), cmp_ll);
	return (long)(c[1] / 1000);
}

/* A child of uid @uid holding as many idle connections as it gets, of @n tried. */
static pid_t holder(uid_t uid, int n)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(uid) < 0)
		_exit(1);
	for (int i = 0; i < n; i++) {
		sock_connect();
		usleep(5000);
	}
	for (;;)
		pause();
}

static pid_t attacker(unsigned int seconds)
{
	pid_t pid = fork();
	uint64_t end;

	if (pid != 0)
		return pid;
	end = mono_us() + (uint64_t)seconds * 1000000;
	while (mono_us() < end)
		if (pipeline_once() < 0)
			usleep(10000);
	_exit(0);
}

/* One Status call on a fresh connection: its wall time in µs, or 0 if it was not answered right. */
static uint64_t fresh_status(void)
{
	size_t len;
	char *m = call_text("io.scx-ai-numa.Status", NULL, false, &len);
	uint64_t t0 = mono_us(), took = 0;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char buf[65536];
	size_t got = 0;

	if (fd >= 0 && connect(fd, (struct sockaddr *)&C.addr, sizeof(C.addr)) == 0 &&
	    send(fd, m, len, MSG_NOSIGNAL) == (ssize_t)len) {
		for (;;) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			ssize_t n;

			if (poll(&p, 1, (int)C.patience_ms) != 1)
				break;
			n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
			if (n <= 0)
				break;
			got += (size_t)n;
			if (memchr(buf, '\0', got)) {
				struct vl_reply r;
				char err[128];

				if (vl_reply_parse(buf, strlen(buf), &r, err, sizeof(err)) == 0) {
					if (!r.error && json_object_object_get(r.params, "state"))
						took = mono_us() - t0 + 1;
					else
						fprintf(stderr, "ctl-abuse: fresh Status: %s\n",
							r.error ? r.error : "no state");
					vl_reply_free(&r);
				}
				break;
			}
			if (got >= sizeof(buf) - 1)
				break;
		}
	}
	if (!took && !got)
		fprintf(stderr, "ctl-abuse: fresh Status: no answer: %s\n", strerror(errno));
	if (fd >= 0)
		close(fd);
	free(m);
	return took;
}

void hostile_siege(int pid, unsigned int seconds, struct hostile_result *res)
{
	pid_t holders[HOLDER_UIDS], att;
	struct proc_sample s0, s;
	uint64_t end;
	long cpu0;

	if (!pipeline)
		pipeline_build();
	memset(res, 0, sizeof(*res));
	proc_sample(pid, &s0);
	/* Each uid tries as many as the whole cap: the limits decide who gets what. */
	for (int i = 0; i < HOLDER_UIDS; i++)
		holders[i] = holder(60001 + (uid_t)i, 16);
	usleep(1000000);
	if (proc_sample(pid, &s) == 0)
		res->held = s.fds - s0.fds;
	cpu0 = proc_cpu_ms(pid);
	att = attacker(seconds);
	end = mono_us() + (uint64_t)seconds * 1000000;
	while (mono_us() < end) {
		uint64_t took = fresh_status();

		if (took) {
			res->fresh_ok++;
			if (took - 1 > res->fresh_max_us)
				res->fresh_max_us = took - 1;
		} else {
			res->fresh_bad++;
		}
		usleep(FRESH_GAP_MS * 1000);
	}
	waitpid(att, NULL, 0);
	res->cpu_ms = proc_cpu_ms(pid) - cpu0;
	for (int i = 0; i < HOLDER_UIDS; i++) {
		kill(holders[i], SIGKILL);
		waitpid(holders[i], NULL, 0);
	}
}
