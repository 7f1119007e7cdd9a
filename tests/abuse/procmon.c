// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon as the kernel sees it: resident memory and open descriptors,
 * from /proc. Both are what an operator would watch for a leak.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "abuse.h"

int proc_sample(int pid, struct proc_sample *s)
{
	char path[64], line[256];
	struct dirent *e;
	FILE *f;
	DIR *d;

	s->rss_kb = s->fds = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &s->rss_kb) == 1)
			break;
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return -1;
	s->fds = 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			s->fds++;
	closedir(d);
	return s->rss_kb < 0 ? -1 : 0;
}

/* User plus system CPU time of @pid in ms; -1 if unreadable. */
long proc_cpu_ms(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	/* After ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (long)((ut + st) * 1000 / (unsigned long)sysconf(_SC_CLK_TCK));
}

/* Time @pid spent runnable but not running, in ms (schedstat); -1 if unknown. */
long proc_wait_ms(int pid)
{
	unsigned long long run, wait;
	char path[64];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	n = fscanf(f, "%llu %llu", &run, &wait);
	fclose(f);
	return n == 2 ? (long)(wait / 1000000) : -1;
}

/* The run-queue wait of a schedstat file, in µs; -1 if unreadable. */
static long long schedstat_wait_us(const char *path)
{
	unsigned long long run, wait;
	FILE *f = fopen(path, "re");
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "%llu %llu", &run, &wait);
	fclose(f);
	return n == 2 ? (long long)(wait / 1000) : -1;
}

static int avail_pid;
static long long avail_daemon0;
static __thread long long avail_self0 = -1;

void avail_init(int pid)
{
	char path[64];

	avail_pid = pid;
	snprintf(path, sizeof(path), "/proc/%d/schedstat", pid);
	avail_daemon0 = pid ? schedstat_wait_us(path) : -1;
}

/*
 * Wall time minus the longer of two waits since avail_init: the daemon's
 * and the calling thread's, runnable without a CPU. The kernel books a wait
 * when the wait ends, in one go, so the difference can step back: the clock
 * holds still until wall time catches up instead.
 */
uint64_t avail_us(void)
{
	static __thread uint64_t last;
	long long d = 0, s = 0, w;
	char path[64];
	uint64_t now;

	if (avail_pid && avail_daemon0 >= 0) {
		snprintf(path, sizeof(path), "/proc/%d/schedstat", avail_pid);
		w = schedstat_wait_us(path);
		if (w >= avail_daemon0)
			d = w - avail_daemon0;
	}
	w = schedstat_wait_us("/proc/thread-self/schedstat");
	if (avail_self0 < 0)
		avail_self0 = w;
	else if (w >= avail_self0)
		s = w - avail_self0;
	w = d > s ? d : s;
	now = mono_us() - (uint64_t)w;
	if (now > last)
		last = now;
	return last;
}

/* Alive and not a zombie. */
bool proc_alive(int pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The state follows the command name, which may itself hold ") ". */
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}
