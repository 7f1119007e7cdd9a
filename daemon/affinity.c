// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "affinity.h"
#include "fileio.h"
#include "proc.h"

/* A pass's answer: the processes found, as it builds up, then done. */
struct hits {
	struct aff_hit *cur, *done;
	size_t nr_cur, cap_cur, nr_done;
};

/*
 * What the files of a process said when they were last read: its affinity
 * then (@node), whether it was a live user process (@start_time, else 0)
 * and big. The verdict stands, without a file read, while the affinity
 * stays the same, until pass @due; each look that confirms it doubles the
 * wait (@every passes), up to AFF_RECHECK_MAX.
 */
struct known {
	pid_t pid;
	int node;
	uint64_t start_time;
	bool big;
	uint32_t every;
	uint64_t due;
};

struct knowns {
	struct known *cur, *done;
	size_t nr_cur, cap_cur, nr_done;
};

struct affscan {
	char root[PATH_MAX - 16];
	char proc[PATH_MAX];
	aff_get_fn get;
	DIR *dir;			/* while a pass is in progress */
	pid_t self;
	uint64_t big_pages;		/* resident pages that make a process big; 0: none */
	uint64_t pass;			/* passes started */
	struct hits confined, big;
	struct knowns known;
	struct affscan_counts n;
};

/*
 * The raw system call: daemon/sched.h shadows <sched.h> on this include
 * path, and a plain bitmap of AN_MAX_CPUS bits is all we need.
 */
static int sys_getaffinity(pid_t pid, uint8_t *mask, int nr_cpus)
{
	unsigned long bits[AN_MAX_CPUS / (8 * sizeof(unsigned long))] = { 0 };
	const int per = 8 * sizeof(unsigned long);

	if (syscall(SYS_sched_getaffinity, pid, sizeof(bits), bits) < 0)
		return -errno;
	for (int c = 0; c < nr_cpus && c < AN_MAX_CPUS; c++)
		mask[c] = (bits[c / per] >> (c % per)) & 1;
	return 0;
}

int affscan_new(const char *root, aff_get_fn get, struct affscan **out)
{
	struct affscan *a = calloc(1, sizeof(*a));

	*out = NULL;
	if (!a)
		return -ENOMEM;
	snprintf(a->root, sizeof(a->root), "%s", root ? root : "");
	snprintf(a->proc, sizeof(a->proc), "%s/proc", a->root);
	a->get = get ? get : sys_getaffinity;
	a->self = getpid();
	*out = a;
	return 0;
}

void affscan_free(struct affscan *a)
{
	if (!a)
		return;
	if (a->dir)
		closedir(a->dir);
	free(a->confined.cur);
	free(a->confined.done);
	free(a->big.cur);
	free(a->big.done);
	free(a->known.cur);
	free(a->known.done);
	free(a);
}

static pid_t pid_of(const char *name)
{
	long v = 0;

	for (const char *p = name; *p; p++) {
		if (*p < '0' || *p > '9' || v > INT_MAX / 10)
			return 0;
		v = v * 10 + (*p - '0');
	}
	return (pid_t)v;
}

int aff_confined_node(aff_get_fn get, pid_t pid, const int *cpu_node, int nr_cpus)
{
	uint8_t mask[AN_MAX_CPUS];
	int node = -1;

	if (nr_cpus > AN_MAX_CPUS)
		nr_cpus = AN_MAX_CPUS;
	if ((get ? get : sys_getaffinity)(pid, mask, nr_cpus))
		return -1;
	for (int c = 0; c < nr_cpus; c++) {
		if (!mask[c] || cpu_node[c] < 0)
			continue;
		if (node >= 0 && cpu_node[c] != node)
			return -1;
		node = cpu_node[c];
	}
	return node;
}

/* Room for one more element of @size in *@v, which holds @nr of *@cap. */
static int reserve(void **v, size_t *cap, size_t nr, size_t size)
{
	size_t c = *cap ? *cap * 2 : 64;
	void *n;

	if (nr < *cap)
		return 0;
	n = realloc(*v, c * size);
	if (!n)
		return -ENOMEM;
	*v = n;
	*cap = c;
	return 0;
}

static int add(struct hits *l, const struct aff_hit *h)
{
	if (reserve((void **)&l->cur, &l->cap_cur, l->nr_cur, sizeof(*h)))
		return -ENOMEM;
	l->cur[l->nr_cur++] = *h;
	return 0;
}

/* Resident pages of @pid (/proc/PID/statm, second field); 0 if unknown. */
static uint64_t resident_pages(const struct affscan *a, pid_t pid)
{
	char path[PATH_MAX + 32], buf[128], *p;

	snprintf(path, sizeof(path), "%s/%d/statm", a->proc, (int)pid);
	if (read_small_file(path, buf, sizeof(buf), true))
		return 0;
	p = strchr(buf, ' ');
	return p ? strtoull(p + 1, NULL, 10) : 0;
}

static int cmp_hit(const void *x, const void *y)
{
	const struct aff_hit *a = x, *b = y;

	return (a->pid > b->pid) - (a->pid < b->pid);
}

/* The finished pass becomes the answer; the old answer's memory goes. */
static void finish(struct hits *l)
{
	free(l->done);
	l->done = l->cur;
	l->nr_done = l->nr_cur;
	l->cur = NULL;
	l->nr_cur = l->cap_cur = 0;
	/* qsort may not be handed NULL, which an empty pass leaves. */
	if (l->nr_done)
		qsort(l->done, l->nr_done, sizeof(*l->done), cmp_hit);
}

static int known_add(struct knowns *l, const struct known *k)
{
	if (reserve((void **)&l->cur, &l->cap_cur, l->nr_cur, sizeof(*k)))
		return -ENOMEM;
	l->cur[l->nr_cur++] = *k;
	return 0;
}

static int cmp_known(const void *x, const void *y)
{
	const struct known *a = x, *b = y;

	return (a->pid > b->pid) - (a->pid < b->pid);
}

static const struct known *known_find(const struct knowns *l, pid_t pid)
{
	const struct known key = { .pid = pid };

	return l->nr_done ? bsearch(&key, l->done, l->nr_done, sizeof(key), cmp_known) : NULL;
}

/*
 * Read @pid's files and judge it: a live user process (its start time,
 * else 0), big or not. Only the confined or big few pay for a stat read:
 * kernel threads are bound too.
 */
static void judge(struct affscan *a, struct known *k)
{
	struct proc_stat ps;

	k->start_time = 0;
	k->big = false;
	if (k->node < 0) {
		if (!a->big_pages)
			return;
		a->n.reads++;
		if (resident_pages(a, k->pid) < a->big_pages)
			return;
		k->big = true;
	}
	a->n.reads++;
	if (!proc_stat_read(a->root, k->pid, &ps) && proc_stat_live(&ps))
		k->start_time = ps.start_time;
}

/*
 * One process of the pass. Its affinity is read every pass (one system
 * call, no file), so a process that confines itself is found at the next
 * pass; its files only when it is new, its affinity changed, or its
 * verdict is due for a look again: a process's size and pid change rarely,
 * and opening files for every process every pass was most of what the
 * pass cost.
 */
static int visit(struct affscan *a, pid_t pid, const int *cpu_node, int nr_cpus)
{
	const struct known *old = known_find(&a->known, pid);
	struct known k = { .pid = pid };

	k.node = aff_confined_node(a->get, pid, cpu_node, nr_cpus);
	if (old && old->node == k.node && a->pass < old->due) {
		k = *old;
		a->n.reused++;
	} else {
		bool same;

		judge(a, &k);
		same = old && old->node == k.node && old->start_time == k.start_time && old->big == k.big;
		k.every = !same ? 1 : old->every >= AFF_RECHECK_MAX / 2 ? AFF_RECHECK_MAX : old->every * 2;
		k.due = a->pass + k.every;
	}
	if (known_add(&a->known, &k))
		return -ENOMEM;
	if (!k.start_time || (k.node < 0 && !k.big))
		return 0;
	return add(k.node >= 0 ? &a->confined : &a->big,
		   &(struct aff_hit){ .pid = pid, .start_time = k.start_time, .node = k.node });
}

int affscan_step(struct affscan *a, const int *cpu_node, int nr_cpus, unsigned int max)
{
	bool end = false;

	if (!a->dir) {
		a->dir = opendir(a->proc);
		if (!a->dir)
			return -errno;
		a->confined.nr_cur = 0;
		a->big.nr_cur = 0;
		a->known.nr_cur = 0;
		a->pass++;
	}
	for (unsigned int n = 0; n < max; n++) {
		struct dirent *de = readdir(a->dir);
		pid_t pid;
		int ret;

		if (!de) {
			end = true;
			break;
		}
		pid = pid_of(de->d_name);
		if (pid <= 0 || pid == a->self)
			continue;
		a->n.procs++;
		ret = visit(a, pid, cpu_node, nr_cpus);
		if (ret)
			return ret;
	}
	if (!end)
		return 0;
	closedir(a->dir);
	a->dir = NULL;
	finish(&a->confined);
	finish(&a->big);
	/* The verdicts of this pass are what the next one looks up. */
	free(a->known.done);
	a->known.done = a->known.cur;
	a->known.nr_done = a->known.nr_cur;
	a->known.cur = NULL;
	a->known.nr_cur = a->known.cap_cur = 0;
	if (a->known.nr_done)
		qsort(a->known.done, a->known.nr_done, sizeof(*a->known.done), cmp_known);
	a->n.passes++;
	return 1;
}

const struct affscan_counts *affscan_counts(const struct affscan *a)
{
	return &a->n;
}

bool affscan_busy(const struct affscan *a)
{
	return a->dir != NULL;
}

size_t affscan_hits(const struct affscan *a, const struct aff_hit **out)
{
	*out = a->confined.done;
	return a->confined.nr_done;
}

size_t affscan_big(const struct affscan *a, const struct aff_hit **out)
{
	*out = a->big.done;
	return a->big.nr_done;
}

void affscan_set_big(struct affscan *a, uint64_t pages)
{
	a->big_pages = pages;
}
