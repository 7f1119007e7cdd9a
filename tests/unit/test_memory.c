// SPDX-License-Identifier: GPL-2.0
/*
 * The page mover (daemon/memory.c) against a fake move_pages(2) that keeps
 * a node per page and plays the kernel's per-page and per-call errors, and
 * the maps reader against fixture files and this process's own mappings.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "check.h"
#include "fixture.h"
#include "memory.h"

/* ---- a fake address space ---------------------------------------------------- */

#define FAKE_BASE	0x100000000UL
#define FAKE_PAGES	4096

static struct {
	int node[FAKE_PAGES];		/* -ENOENT: not resident */
	int per_page_err[FAKE_PAGES];	/* returned instead of moving, 0: none */
	long call_err;			/* every call fails with this, 0: none */
	long fail_after;		/* calls before call_err applies */
	unsigned long calls, queries, moves, max_count;
	unsigned long looked_twice;	/* a page asked to move more than once in a pass */
	unsigned char asked[FAKE_PAGES];
} fk;

static long fake_move_pages(pid_t pid, unsigned long count, void **pages, const int *nodes, int *status,
			    int flags)
{
	(void)pid;
	(void)flags;
	fk.calls++;
	if (count > fk.max_count)
		fk.max_count = count;
	if (fk.call_err && (long)fk.calls > fk.fail_after)
		return fk.call_err;
	nodes ? fk.moves++ : fk.queries++;
	for (unsigned long i = 0; i < count; i++) {
		unsigned long a = (unsigned long)pages[i];
		unsigned long p = (a - FAKE_BASE) / 4096;

		if (a < FAKE_BASE || p >= FAKE_PAGES) {
			status[i] = -EFAULT;
			continue;
		}
		if (!nodes) {
			status[i] = fk.node[p];
			continue;
		}
		if (fk.asked[p]++)
			fk.looked_twice++;
		if (fk.per_page_err[p]) {
			status[i] = fk.per_page_err[p];
			continue;
		}
		if (fk.node[p] < 0) {
			status[i] = -ENOENT;
			continue;
		}
		fk.node[p] = nodes[i];
		status[i] = nodes[i];
	}
	return 0;
}

static const struct mem_ops fake_ops = { .move_pages = fake_move_pages };

static void fake_reset(int node)
{
	memset(&fk, 0, sizeof(fk));
	for (int i = 0; i < FAKE_PAGES; i++)
		fk.node[i] = node;
}

/* A job over the whole fake space, as mem_job_start would leave it. */
static struct mem_range whole = { FAKE_BASE, FAKE_BASE + FAKE_PAGES * 4096UL };

static void job_over(struct mem_job *j, struct mem_range *r, size_t nr, int node)
{
	memset(j, 0, sizeof(*j));
	j->pid = 4242;
	j->node = node;
	j->ranges = r;
	j->nr_ranges = nr;
	j->cursor = r[0].start;
	j->state = MEM_JOB_RUNNING;
}

static unsigned int on_node(int node)
{
	unsigned int n = 0;

	for (int i = 0; i < FAKE_PAGES; i++)
		n += fk.node[i] == node;
	return n;
}

static void test_moves_everything_in_slices(void)
{
	struct mem_job j;
	long moved, total = 0;
	int steps = 0;

	fake_reset(0);
	job_over(&j, &whole, 1, 1);
	while (j.state == MEM_JOB_RUNNING && steps < 1000) {
		moved = mem_job_step(&j, &fake_ops, 100000, 256);
		if (moved > 256)
			break;
		total += moved;
		steps++;
	}
	CHECK_INT(on_node(1), FAKE_PAGES, "a pass moves every resident page to the target node");
	CHECK_INT(total, FAKE_PAGES, "the pages moved are reported");
	CHECK(steps >= FAKE_PAGES / 256, "a step moves no more than granted (%d steps for %d pages at 256)",
	      steps, FAKE_PAGES);
	CHECK_INT(j.state, MEM_JOB_DONE, "the pass ends done");
	CHECK(fk.max_count <= MEM_CHUNK, "no call passes more than MEM_CHUNK addresses (%lu)", fk.max_count);
	CHECK_INT(fk.looked_twice, 0, "no page is asked to move twice in a pass");
}

static void test_home_already(void)
{
	struct mem_job j;
	long moved;

	fake_reset(1);
	job_over(&j, &whole, 1, 1);
	moved = mem_job_step(&j, &fake_ops, FAKE_PAGES * 2, FAKE_PAGES);
	CHECK_INT(moved, 0, "memory already on its home node: nothing moves");
	CHECK_INT(fk.moves, 0, "... and no move call is made at all");
	CHECK_INT(j.state, MEM_JOB_DONE, "... and the pass completes");
}

static void test_scan_bound(void)
{
	struct mem_job j;

	fake_reset(1);
	job_over(&j, &whole, 1, 1);
	mem_job_step(&j, &fake_ops, 1000, FAKE_PAGES);
	CHECK_INT(j.n.scanned, 1000, "a step looks at no more addresses than granted");
	CHECK_INT(j.state, MEM_JOB_RUNNING, "... and the pass goes on from there");
	CHECK_INT(j.cursor, FAKE_BASE + 1000 * 4096UL, "... at the next address");
}

static void test_busy_and_shared_counted_once(void)
{
	struct mem_job j;
	int steps = 0;

	fake_reset(0);
	for (int i = 0; i < 100; i++)
		fk.per_page_err[i] = -EBUSY;
	for (int i = 100; i < 150; i++)
		fk.per_page_err[i] = -EACCES;
	for (int i = 150; i < 160; i++)
		fk.per_page_err[i] = -ENOMEM;
	for (int i = 160; i < 170; i++)
		fk.node[i] = -ENOENT;
	job_over(&j, &whole, 1, 1);
	while (j.state == MEM_JOB_RUNNING && steps++ < 1000)
		mem_job_step(&j, &fake_ops, 512, 512);
	CHECK_INT(j.n.busy, 100, "pinned pages (-EBUSY) are counted once and skipped");
	CHECK_INT(j.n.shared, 50, "pages another process maps (-EACCES) are counted and left");
	CHECK_INT(j.n.nomem, 10, "a full target node (-ENOMEM) is counted");
	CHECK_INT(j.n.moved, FAKE_PAGES - 170, "every other resident page moved");
	CHECK_INT(fk.looked_twice, 0, "an unmovable page is never retried in the same pass");
	CHECK_INT(j.state, MEM_JOB_DONE, "the pass still completes");
}

static void test_call_errors_end_job(void)
{
	static const struct { long err; enum mem_job_state st; const char *what; } cases[] = {
		{ -ESRCH, MEM_JOB_GONE, "process exited mid-migration (-ESRCH): gone" },
		{ -EPERM, MEM_JOB_DENIED, "no CAP_SYS_NICE (-EPERM): denied" },
		{ -EACCES, MEM_JOB_DENIED, "no ptrace access (-EACCES): denied" },
		{ -ENOMEM, MEM_JOB_FAILED, "the kernel out of memory (-ENOMEM): failed" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mem_job j;
		long moved;

		fake_reset(0);
		fk.call_err = cases[i].err;
		fk.fail_after = 3;
		job_over(&j, &whole, 1, 1);
		moved = mem_job_step(&j, &fake_ops, FAKE_PAGES, FAKE_PAGES);
		CHECK(j.state == cases[i].st && j.err == cases[i].err && moved >= 0,
		      "%s (state %s, moved %ld)", cases[i].what, mem_job_state_str(j.state), moved);
		moved = mem_job_step(&j, &fake_ops, FAKE_PAGES, FAKE_PAGES);
		CHECK(moved == 0 && fk.calls == 4, "an ended job makes no more calls (%lu)", fk.calls);
	}
}

static void test_ranges_with_holes(void)
{
	struct mem_range r[] = {
		{ FAKE_BASE, FAKE_BASE + 10 * 4096UL },
		{ FAKE_BASE + 100 * 4096UL, FAKE_BASE + 110 * 4096UL },
	};
	struct mem_job j;

	fake_reset(0);
	job_over(&j, r, 2, 1);
	while (j.state == MEM_JOB_RUNNING)
		mem_job_step(&j, &fake_ops, 7, 7);
	CHECK(on_node(1) == 20 && fk.node[10] == 0 && fk.node[99] == 0 && fk.node[110] == 0,
	      "only the pages of the listed ranges move (%u moved)", on_node(1));
}

static void test_sample(void)
{
	struct mem_sample s;
	int ret;

	fake_reset(0);
	for (int i = 0; i < FAKE_PAGES * 3 / 4; i++)
		fk.node[i] = 1;
	ret = mem_sample_ranges(1, &fake_ops, &whole, 1, 400, &s);
	CHECK(ret == 0 && s.looked == 400 && s.resident == 400, "a sample looks at as many pages as asked (%u)",
	      s.looked);
	CHECK(s.pages[1] >= 290 && s.pages[1] <= 310, "a sample spread over the range sees the 3/4 share (%u of 400)",
	      s.pages[1]);
	CHECK_INT(mem_sample_majority(&s, 667, 64), 1, "node 1 holds more than 2/3: it is the majority");
	CHECK_INT(mem_sample_majority(&s, 800, 64), -1, "... but not 80 %%");
	CHECK_INT(mem_sample_majority(&s, 667, 1000), -1, "too few sampled pages: no verdict");
	fake_reset(0);
	fk.call_err = -ESRCH;
	CHECK_INT(mem_sample_ranges(1, &fake_ops, &whole, 1, 400, &s), -ESRCH, "sampling a vanished process: -ESRCH");
}

/* ---- the maps reader ---------------------------------------------------------- */

static void test_maps_fixture(void)
{
	char root[] = "/tmp/test-memory-XXXXXX", path[256];
	struct mem_range *r = NULL;
	int n;

	if (!mkdtemp(root))
		check_bail("mkdtemp");
	fixture_puts(root, "proc/77/smaps",
		     "55d0c0000000-55d0c0021000 r-xp 00000000 08:01 131 /usr/bin/python3\n"
		     "Size:                132 kB\n"
		     "Rss:                 132 kB\n"
		     "55d0c2000000-55d0c2400000 rw-p 00000000 00:00 0 [heap]\n"
		     "7f0000000000-7f0000100000 rw-p 00000000 00:00 0 \n"
		     "7f0000100000-7f0000200000 rw-s 00000000 00:01 9 /dev/zero (deleted)\n"
		     "7f0000200000-7f0000300000 rw-p 00000000 08:01 77 /data/shard.bin\n"
		     "7f0000300000-7f0000301000 ---p 00000000 00:00 0 \n"
		     "7f0000400000-7f0000500000 rw-p 00000000 00:00 0 [anon:pinned pool]\n"
		     "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]\n"
		     "Rss:                  12 kB\n"
		     "7e0000000000-7f0000000000 rw-p 00000000 00:00 0 \n"
		     "Size:          1073741824 kB\n"
		     "Rss:               65536 kB\n"
		     "7d0000000000-7d0000400000 rw-p 00000000 00:00 0 \n"
		     "Rss:                   0 kB\n"
		     "7ffd00100000-7ffd00102000 r--p 00000000 00:00 0 [vvar]\n"
		     "7ffd00102000-7ffd00104000 r-xp 00000000 00:00 0 [vdso]\n"
		     "garbage line\n"
		     "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]");
	n = mem_read_ranges(root, 77, &r);
	CHECK_INT(n, 4, "smaps: heap, anonymous, named anonymous and stack are taken; files, shared, guard "
		  "pages, the kernel's mappings, a range with nothing resident and a sparse terabyte "
		  "reservation are not");
	CHECK(n == 4 && r[0].start == 0x55d0c2000000UL && r[1].start == 0x7f0000000000UL &&
	      r[2].start == 0x7f0000400000UL && r[3].end == 0x7ffd00021000UL, "smaps: the ranges in order");
	free(r);
	CHECK_INT(mem_read_ranges(root, 78, &r), -ESRCH, "smaps of a process that is gone: -ESRCH");
	snprintf(path, sizeof(path), "rm -rf %s", root);
	if (system(path))
		check_bail("cleanup");
}

/* This process's own mappings, read from the live /proc, with the real system call. */
static void test_self(void)
{
	size_t len = 64 * 4096;
	char *priv = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *shared = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct mem_range *r = NULL;
	struct mem_sample s;
	struct mem_job j;
	bool has_priv = false, has_shared = false;
	int n, ret;

	if (priv == MAP_FAILED || shared == MAP_FAILED)
		check_bail("mmap");
	memset(priv, 1, len);
	memset(shared, 1, len);
	n = mem_read_ranges("", getpid(), &r);
	for (int i = 0; i < n; i++) {
		has_priv |= r[i].start <= (unsigned long)priv && (unsigned long)priv < r[i].end;
		has_shared |= r[i].start <= (unsigned long)shared && (unsigned long)shared < r[i].end;
	}
	CHECK(n > 0 && has_priv, "live maps: a private anonymous mapping is listed");
	CHECK(!has_shared, "live maps: a shared anonymous mapping is not");
	ret = mem_sample_ranges(getpid(), &mem_sys_ops, r, (size_t)(n > 0 ? n : 0), 256, &s);
	CHECK(ret == 0 && s.resident > 0 && s.pages[0] > 0, "live sample: resident pages found on node 0 (%u of %u)",
	      s.resident, s.looked);
	ret = mem_job_start(&j, "", getpid(), 0, 0);
	if (!ret) {
		while (j.state == MEM_JOB_RUNNING)
			mem_job_step(&j, &mem_sys_ops, 4096, 4096);
		CHECK(j.state == MEM_JOB_DONE && j.n.moved == 0 && j.n.scanned > 0,
		      "live: moving to the node the pages are on moves nothing (%s, %llu scanned)",
		      mem_job_state_str(j.state), (unsigned long long)j.n.scanned);
		mem_job_free(&j);
	} else {
		CHECK(0, "live: job start: %s", strerror(-ret));
	}
	free(r);
	munmap(priv, len);
	munmap(shared, len);
}

int main(void)
{
	test_moves_everything_in_slices();
	test_home_already();
	test_scan_bound();
	test_busy_and_shared_counted_once();
	test_call_errors_end_job();
	test_ranges_with_holes();
	test_sample();
	test_maps_fixture();
	test_self();
	return check_done();
}
