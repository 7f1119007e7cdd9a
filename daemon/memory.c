// SPDX-License-Identifier: GPL-2.0
/*
 * The page mover (see memory.h). Everything here is bounded by what the
 * caller grants a step: the addresses looked at and the pages moved, so a
 * 100 GB process takes many short steps and never one long system call.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "memory.h"

static long sys_move_pages(pid_t pid, unsigned long count, void **pages, const int *nodes, int *status,
			   int flags)
{
	long ret = syscall(SYS_move_pages, pid, count, pages, nodes, status, flags);

	return ret < 0 ? -errno : ret;
}

const struct mem_ops mem_sys_ops = { .move_pages = sys_move_pages };

static unsigned long page_size(void)
{
	static unsigned long ps;

	if (!ps) {
		long v = sysconf(_SC_PAGESIZE);

		ps = v > 0 ? (unsigned long)v : 4096;
	}
	return ps;
}

const char *mem_job_state_str(enum mem_job_state s)
{
	switch (s) {
	case MEM_JOB_RUNNING: return "running";
	case MEM_JOB_DONE: return "done";
	case MEM_JOB_GONE: return "gone";
	case MEM_JOB_DENIED: return "denied";
	case MEM_JOB_FAILED: return "failed";
	}
	return "unknown";
}

/*
 * One line of /proc/PID/maps: "start-end perms offset dev inode [path]".
 * Worth moving: private ('p'), readable, no backing file (inode 0), and not
 * one of the kernel's special mappings, whose pages are not the process's.
 */
static bool parse_maps_line(const char *line, struct mem_range *out)
{
	unsigned long start, end, inode;
	char perms[5], path[32];
	int n = 0;

	path[0] = '\0';
	if (sscanf(line, "%lx-%lx %4s %*x %*x:%*x %lu %n", &start, &end, perms, &inode, &n) != 4 || !n)
		return false;
	/* A short field ("r") leaves perms[3] unset: only a whole one is looked into. */
	if (end <= start || strlen(perms) != 4 || perms[0] != 'r' || perms[3] != 'p' || inode != 0)
		return false;
	sscanf(line + n, "%31s", path);
	/* Named anonymous memory ("[anon:...]"), the heap and stacks are the process's own. */
	if (path[0] && strcmp(path, "[heap]") && strncmp(path, "[stack", 6) && strncmp(path, "[anon:", 6))
		return false;
	out->start = start;
	out->end = end;
	return true;
}

/*
 * Worth looking at page by page? A range with no resident page is not, and
 * neither is a sparse reservation: allocator arenas, sanitizer shadows and
 * GPU runtimes map gigabytes or terabytes and touch a sliver of them, and
 * asking for every page of those would cost more than anything it could
 * move. Without an Rss figure (a maps-only fixture) the range is taken.
 */
static bool worth_scanning(const struct mem_range *m, long long rss_kb)
{
	unsigned long long kb = (m->end - m->start) / 1024;

	if (rss_kb < 0)
		return true;
	if (!rss_kb)
		return false;
	return kb <= MEM_SPARSE_MIN_KB || kb <= (unsigned long long)rss_kb * MEM_SPARSE_RATIO;
}

struct range_list {
	struct mem_range *r;
	size_t nr, cap;
};

static int range_add(struct range_list *l, const struct mem_range *m)
{
	if (l->nr >= MEM_MAX_RANGES)
		return 0;
	if (l->nr == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct mem_range *grown = realloc(l->r, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		l->r = grown;
		l->cap = cap;
	}
	l->r[l->nr++] = *m;
	return 0;
}

int mem_read_ranges(const char *root, pid_t pid, struct mem_range **out)
{
	char path[PATH_MAX], buf[8192];
	struct range_list l = { 0 };
	struct mem_range pend;
	bool have_pend = false;
	long long pend_rss = -1;
	size_t have = 0;
	int fd, ret = 0;

	/* smaps: the ranges of maps, each followed by its sizes, Rss among them. */
	snprintf(path, sizeof(path), "%s/proc/%d/smaps", root ? root : "", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	/* Read in pieces: a process with many mappings has an smaps file of megabytes. */
	for (;;) {
		ssize_t got = read(fd, buf + have, sizeof(buf) - 1 - have);
		char *line, *nl;

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			/* The process exited while we read: its smaps read as ESRCH. */
			ret = errno == ESRCH ? -ESRCH : -errno;
			break;
		}
		have += (size_t)got;
		buf[have] = '\0';
		line = buf;
		while ((nl = strchr(line, '\n')) || (!got && *line)) {
			struct mem_range m = { 0 };

			if (nl)
				*nl = '\0';
			if (!strncmp(line, "Rss:", 4)) {
				pend_rss = strtoll(line + 4, NULL, 10);
			} else if (!(line[0] >= 'A' && line[0] <= 'Z')) {
				/* A range's first line (or garbage): the one before it is complete. */
				if (have_pend && worth_scanning(&pend, pend_rss) && range_add(&l, &pend)) {
					ret = -ENOMEM;
					goto out;
				}
				have_pend = parse_maps_line(line, &m);
				pend = m;
				pend_rss = -1;
			}
			line = nl ? nl + 1 : line + strlen(line);
		}
		if (!got)
			break;
		have = strlen(line);
		/* A line longer than the buffer is no smaps line: drop it. */
		if (have == sizeof(buf) - 1)
			have = 0;
		memmove(buf, line, have);
	}
	if (!ret && have_pend && worth_scanning(&pend, pend_rss) && range_add(&l, &pend))
		ret = -ENOMEM;
out:
	close(fd);
	if (ret) {
		free(l.r);
		return ret;
	}
	*out = l.r;
	return (int)l.nr;
}

int mem_job_start(struct mem_job *j, const char *root, pid_t pid, uint64_t start_time, int node)
{
	int nr;

	memset(j, 0, sizeof(*j));
	nr = mem_read_ranges(root, pid, &j->ranges);
	if (nr < 0)
		return nr;
	j->nr_ranges = (size_t)nr;
	j->pid = pid;
	j->start_time = start_time;
	j->node = node;
	j->state = nr ? MEM_JOB_RUNNING : MEM_JOB_DONE;
	j->cursor = nr ? j->ranges[0].start : 0;
	return 0;
}

void mem_job_free(struct mem_job *j)
{
	free(j->ranges);
	j->ranges = NULL;
	j->nr_ranges = 0;
}

/* A failed call ends the job; which state says whether that is anyone's fault. */
static void job_end(struct mem_job *j, long err)
{
	j->err = (int)err;
	if (err == -ESRCH)
		j->state = MEM_JOB_GONE;
	else if (err == -EPERM || err == -EACCES)
		j->state = MEM_JOB_DENIED;
	else
		j->state = MEM_JOB_FAILED;
}

/* The next up to @max addresses from the cursor, advancing it. */
static unsigned long next_addrs(struct mem_job *j, void **addrs, unsigned long max)
{
	unsigned long n = 0, ps = page_size();

	while (n < max && j->range < j->nr_ranges) {
		const struct mem_range *r = &j->ranges[j->range];

		if (j->cursor < r->start)
			j->cursor = r->start;
		if (j->cursor >= r->end) {
			if (++j->range < j->nr_ranges)
				j->cursor = j->ranges[j->range].start;
			continue;
		}
		addrs[n++] = (void *)j->cursor;
		j->cursor += ps;
	}
	return n;
}

long mem_job_step(struct mem_job *j, const struct mem_ops *ops, unsigned long max_scan, unsigned long max_move)
{
	void *addrs[MEM_CHUNK], *move[MEM_CHUNK];
	int status[MEM_CHUNK], nodes[MEM_CHUNK];
	unsigned long scanned = 0;
	long moved = 0;

	while (j->state == MEM_JOB_RUNNING && scanned < max_scan && (unsigned long)moved < max_move) {
		unsigned long want = max_scan - scanned, n, nmove = 0;
		long ret;

		/* Never pick more to move than the grant has room for: the cursor stays exact. */
		if (want > max_move - (unsigned long)moved)
			want = max_move - (unsigned long)moved;
		if (want > MEM_CHUNK)
			want = MEM_CHUNK;
		n = next_addrs(j, addrs, want);
		if (!n) {
			j->state = MEM_JOB_DONE;
			break;
		}
		scanned += n;
		j->n.scanned += n;
		/* Where are they? Pages not resident (-ENOENT, -EFAULT) have nothing to move. */
		ret = ops->move_pages(j->pid, n, addrs, NULL, status, 0);
		if (ret < 0) {
			job_end(j, ret);
			break;
		}
		for (unsigned long i = 0; i < n; i++) {
			if (status[i] < 0 || status[i] == j->node)
				continue;
			move[nmove] = addrs[i];
			nodes[nmove++] = j->node;
		}
		if (!nmove)
			continue;
		ret = ops->move_pages(j->pid, nmove, move, nodes, status, 0);
		if (ret < 0) {
			job_end(j, ret);
			break;
		}
		for (unsigned long i = 0; i < nmove; i++) {
			if (status[i] == j->node)
				moved++;
			else if (status[i] == -EBUSY)
				j->n.busy++;
			else if (status[i] == -EACCES)
				j->n.shared++;
			else if (status[i] == -ENOMEM)
				j->n.nomem++;
			/* Unmapped since we looked, or another node: nothing to count against anyone. */
			else if (status[i] != -ENOENT && status[i] != -EFAULT)
				j->n.failed++;
		}
	}
	j->n.moved += (uint64_t)moved;
	return moved;
}

int mem_sample_ranges(pid_t pid, const struct mem_ops *ops, const struct mem_range *ranges, size_t nr,
		      unsigned int max, struct mem_sample *out)
{
	void *addrs[MEM_CHUNK];
	int status[MEM_CHUNK];
	unsigned long total = 0, ps = page_size(), step;
	size_t r = 0;
	unsigned long off = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < nr; i++)
		total += (ranges[i].end - ranges[i].start) / ps;
	if (!total || !max)
		return 0;
	/* Every step-th page, so a sample of a huge process still covers all of it. */
	step = total > max ? total / max : 1;
	while (r < nr && out->looked < max) {
		unsigned long n = 0;
		long ret;

		for (; r < nr && n < MEM_CHUNK && out->looked + n < max; ) {
			unsigned long pages = (ranges[r].end - ranges[r].start) / ps;

			if (off >= pages) {
				off -= pages;
				r++;
				continue;
			}
			addrs[n++] = (void *)(ranges[r].start + off * ps);
			off += step;
		}
		if (!n)
			break;
		ret = ops->move_pages(pid, n, addrs, NULL, status, 0);
		if (ret < 0)
			return (int)ret;
		out->looked += (uint32_t)n;
		for (unsigned long i = 0; i < n; i++) {
			if (status[i] < 0 || status[i] >= AN_MAX_NODE_ID)
				continue;
			out->pages[status[i]]++;
			out->resident++;
		}
	}
	return 0;
}

int mem_sample_majority(const struct mem_sample *s, unsigned int permille, unsigned int min_pages)
{
	if (s->resident < min_pages || !s->resident)
		return -1;
	for (int n = 0; n < AN_MAX_NODE_ID; n++)
		if ((uint64_t)s->pages[n] * 1000 >= (uint64_t)s->resident * permille)
			return n;
	return -1;
}
