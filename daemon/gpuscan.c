// SPDX-License-Identifier: GPL-2.0
/*
 * The open-file scan. /proc is read with one directory stream that stays
 * open between steps: the kernel resumes a /proc listing at the next pid
 * after the last one returned, so a pass cut into steps still sees every
 * process that lived through it once, whatever came and went meanwhile.
 *
 * Each process's fd directory is opened relative to /proc and its links
 * read with readlinkat(): no path building per file, and a process that
 * exits mid-scan just makes its calls fail, which is not an error. Only
 * links into /dev are compared with the GPUs' device nodes.
 *
 * Most processes never touch a GPU, and looking at their open files every
 * pass is most of the cost. A process found without one is looked at again
 * after 1, then 3, then every 7 skipped passes; a process holding a GPU
 * every pass (it may close it), a process never seen before at once (a job
 * opens its GPUs early), and a process whose open files the kernel will not
 * show every pass too: it is counted as refused, not taken for one without
 * a GPU.
 *
 * A step ends at its budget, or early (after at least one process) when
 * the loop says a client waits or the step's slice is used
 * (loop_should_yield()); the pass goes on at the next step.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "gpuscan.h"
#include "loop.h"

/* Backoff state of a process: how many more passes to leave it alone. */
struct seen {
	pid_t pid;
	uint8_t level;		/* passes without a GPU so far, capped at MAX_LEVEL */
	uint8_t skip;
};
#define MAX_LEVEL	3	/* every (1 << MAX_LEVEL)th pass at the least */

struct gpuscan {
	char proc[PATH_MAX];
	DIR *dir;			/* /proc, while a pass is in progress */
	pid_t self;
	/* The pass in progress. */
	struct scan_hit *cur;
	size_t nr_cur, cap_cur;
	struct scan_stats pass;		/* its last_* fields accumulate */
	uint64_t pass_start_ns;
	struct seen *seen_next;		/* this pass's backoff states, pid order */
	size_t nr_seen_next, cap_seen_next;
	struct seen *seen;		/* last pass's, sorted by pid */
	size_t nr_seen, cap_seen;
	/* The last completed pass. */
	struct scan_hit *done;
	size_t nr_done, cap_done;
	struct scan_stats st;
};

int gpuscan_new(const char *root, struct gpuscan **out)
{
	struct gpuscan *sc = calloc(1, sizeof(*sc));

	*out = NULL;
	if (!sc)
		return -ENOMEM;
	if ((size_t)snprintf(sc->proc, sizeof(sc->proc), "%s/proc", root ? root : "") >= sizeof(sc->proc)) {
		free(sc);
		return -ENAMETOOLONG;
	}
	sc->self = getpid();
	*out = sc;
	return 0;
}

void gpuscan_free(struct gpuscan *sc)
{
	if (!sc)
		return;
	if (sc->dir)
		closedir(sc->dir);
	free(sc->cur);
	free(sc->done);
	free(sc->seen);
	free(sc->seen_next);
	free(sc);
}

void gpuscan_restart(struct gpuscan *sc)
{
	if (sc->dir)
		closedir(sc->dir);
	sc->dir = NULL;
	sc->nr_cur = 0;
	sc->nr_seen_next = 0;
}

int gpuscan_busy(const struct gpuscan *sc)
{
	return sc && sc->dir;
}

static int pid_of(const char *name, pid_t *out)
{
	long v = 0;

	if (!*name)
		return -1;
	for (const char *p = name; *p; p++) {
		if (*p < '0' || *p > '9' || v > INT_MAX / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (v <= 0 || v > INT_MAX)
		return -1;
	*out = (pid_t)v;
	return 0;
}

static int add_hit(struct gpuscan *sc, pid_t pid, uint64_t gpus)
{
	if (sc->nr_cur == sc->cap_cur) {
		size_t cap = sc->cap_cur ? sc->cap_cur * 2 : 64;
		struct scan_hit *h = realloc(sc->cur, cap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		sc->cur = h;
		sc->cap_cur = cap;
	}
	sc->cur[sc->nr_cur++] = (struct scan_hit){ .pid = pid, .gpus = gpus };
	return 0;
}

/* The GPUs process @name holds open; counts what it looked at in sc->pass. */
static uint64_t scan_process(struct gpuscan *sc, const char *name, const struct gpu_list *gpus,
			     unsigned int max_fds, unsigned int *fds, bool *denied)
{
	char rel[300], target[64];
	uint64_t mask = 0;
	struct dirent *e;
	unsigned int n = 0;
	int dfd;
	DIR *d;

	snprintf(rel, sizeof(rel), "%s/fd", name);
	dfd = openat(dirfd(sc->dir), rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		/*
		 * Gone or a zombie is nothing to know; not ours to look at (another
		 * user's, the daemon without CAP_SYS_PTRACE) is a GPU user we may
		 * miss, counted so that the owner can say so.
		 */
		if (errno == EACCES || errno == EPERM) {
			sc->pass.last_denied++;
			*denied = true;
		}
		return 0;
	}
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return 0;
	}
	while ((e = readdir(d))) {
		ssize_t len;
		int g;

		if (e->d_name[0] == '.')
			continue;
		if (n == max_fds) {
			sc->pass.last_truncated++;
			break;
		}
		n++;
		len = readlinkat(dfd, e->d_name, target, sizeof(target) - 1);
		/* Device nodes are short; a longer target is not one of ours. */
		if (len < 5 || len >= (ssize_t)sizeof(target) - 1)
			continue;
		target[len] = '\0';
		if (memcmp(target, "/dev/", 5))
			continue;
		g = gpu_find_dev(gpus, target);
		if (g >= 0)
			mask |= 1ULL << g;
	}
	closedir(d);
	*fds += n;
	return mask;
}

static int add_seen(struct gpuscan *sc, pid_t pid, uint8_t level, uint8_t skip)
{
	if (sc->nr_seen_next == sc->cap_seen_next) {
		size_t cap = sc->cap_seen_next ? sc->cap_seen_next * 2 : 256;
		struct seen *s = realloc(sc->seen_next, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		sc->seen_next = s;
		sc->cap_seen_next = cap;
	}
	sc->seen_next[sc->nr_seen_next++] = (struct seen){ .pid = pid, .level = level, .skip = skip };
	return 0;
}

static int cmp_seen(const void *a, const void *b)
{
	pid_t x = ((const struct seen *)a)->pid, y = ((const struct seen *)b)->pid;

	return (x > y) - (x < y);
}

/* Last pass's state of @pid, NULL if it was not seen. */
static const struct seen *last_seen(struct gpuscan *sc, pid_t pid)
{
	struct seen key = { .pid = pid };

	return sc->nr_seen ? bsearch(&key, sc->seen, sc->nr_seen, sizeof(key), cmp_seen) : NULL;
}

static int cmp_hit(const void *a, const void *b)
{
	pid_t x = ((const struct scan_hit *)a)->pid, y = ((const struct scan_hit *)b)->pid;

	return (x > y) - (x < y);
}

static void finish_pass(struct gpuscan *sc, uint64_t now)
{
	struct scan_hit *t;
	struct seen *s;
	size_t cap;

	closedir(sc->dir);
	sc->dir = NULL;
	s = sc->seen;
	cap = sc->cap_seen;
	sc->seen = sc->seen_next;
	sc->cap_seen = sc->cap_seen_next;
	sc->nr_seen = sc->nr_seen_next;
	sc->seen_next = s;
	sc->cap_seen_next = cap;
	sc->nr_seen_next = 0;
	/* /proc lists pids in ascending order; sorting is for anything else (fake trees). */
	if (sc->nr_seen)
		qsort(sc->seen, sc->nr_seen, sizeof(*sc->seen), cmp_seen);
	if (sc->nr_cur)
		qsort(sc->cur, sc->nr_cur, sizeof(*sc->cur), cmp_hit);
	/* Swap buffers: the finished pass becomes the result, the old result's memory is reused. */
	t = sc->done;
	cap = sc->cap_done;
	sc->done = sc->cur;
	sc->cap_done = sc->cap_cur;
	sc->nr_done = sc->nr_cur;
	sc->cur = t;
	sc->cap_cur = cap;
	sc->nr_cur = 0;
	sc->st.passes++;
	sc->st.last_cpu_ns = sc->pass.last_cpu_ns;
	sc->st.last_wall_ns = now - sc->pass_start_ns;
	sc->st.last_steps = sc->pass.last_steps;
	sc->st.last_procs = sc->pass.last_procs;
	sc->st.last_fds = sc->pass.last_fds;
	sc->st.last_truncated = sc->pass.last_truncated;
	sc->st.last_denied = sc->pass.last_denied;
	sc->st.last_skipped = sc->pass.last_skipped;
	sc->st.last_hits = (uint32_t)sc->nr_done;
}

int gpuscan_step(struct gpuscan *sc, const struct gpu_list *gpus, const struct scan_budget *b)
{
	uint64_t cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID), cpu, now;
	unsigned int procs = 0, fds = 0;
	int ret = 0;

	if (!sc->dir) {
		sc->dir = opendir(sc->proc);
		if (!sc->dir)
			return -errno;
		sc->nr_cur = 0;
		sc->nr_seen_next = 0;
		memset(&sc->pass, 0, sizeof(sc->pass));
		sc->pass_start_ns = clock_ns(CLOCK_MONOTONIC);
	}
	sc->pass.last_steps++;
	for (;;) {
		const struct seen *was;
		struct dirent *e;
		bool denied;
		uint8_t level;
		uint64_t mask;
		pid_t pid;

		/* At least one process a step, so a stream of requests cannot stall the pass. */
		if (procs >= b->procs || fds >= b->fds || (procs && loop_should_yield()))
			break;
		errno = 0;
		e = readdir(sc->dir);
		if (!e) {
			ret = errno ? -errno : 1;
			break;
		}
		if (pid_of(e->d_name, &pid) || pid == sc->self)
			continue;
		was = last_seen(sc, pid);
		if (was && was->skip) {
			sc->pass.last_skipped++;
			if (add_seen(sc, pid, was->level, (uint8_t)(was->skip - 1)) < 0) {
				ret = -ENOMEM;
				break;
			}
			continue;
		}
		procs++;
		denied = false;
		mask = scan_process(sc, e->d_name, gpus, b->fds_per_proc, &fds, &denied);
		/* Refused is not "no GPU": asked again every pass, so the count stays true (a failed open is cheap). */
		level = mask || denied ? 0 : was ? (uint8_t)(was->level < MAX_LEVEL ? was->level + 1 : MAX_LEVEL) : 1;
		if ((mask && add_hit(sc, pid, mask) < 0) ||
		    add_seen(sc, pid, level, (uint8_t)((1u << level) - 1)) < 0) {
			ret = -ENOMEM;
			break;
		}
	}
	cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	now = clock_ns(CLOCK_MONOTONIC);
	sc->st.cpu_ns += cpu;
	sc->pass.last_cpu_ns += cpu;
	sc->pass.last_procs += procs;
	sc->pass.last_fds += fds;
	if (ret == 1)
		finish_pass(sc, now);
	else if (ret < 0)
		gpuscan_restart(sc);
	return ret;
}

size_t gpuscan_hits(const struct gpuscan *sc, const struct scan_hit **out)
{
	*out = sc->done;
	return sc->nr_done;
}

const struct scan_stats *gpuscan_stats(const struct gpuscan *sc)
{
	return &sc->st;
}
