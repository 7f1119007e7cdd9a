// SPDX-License-Identifier: GPL-2.0
/*
 * The affinity scan (daemon/affinity.c) over a fake /proc tree with faked
 * CPU masks: which processes count as confined to one node, that a pass
 * cut into small steps sees every process, and that passes read a
 * process's files again only when something may have changed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <stdbool.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/stat.h>

#include "affinity.h"
#include "check.h"
#include "fixture.h"

/* 4 CPUs: 0-1 on node 0, 2-3 on node 2 (sparse ids), CPU 4 in no node. */
static const int cpu_node[] = { 0, 0, 2, 2, -1 };
static char root[64];

static int fake_get(pid_t pid, uint8_t *mask, int nr_cpus)
{
	static const char *masks[] = {
		[10] = "00110", [11] = "11110", [12] = "10000", [13] = "00100",
		[14] = "10000", [15] = "00011", [16] = "00001",
	};

	if (pid < 10 || pid > 16)
		return -ESRCH;
	for (int c = 0; c < nr_cpus; c++)
		mask[c] = masks[pid][c] == '1';
	return 0;
}

static void proc(int pid, char state, unsigned long flags, unsigned long long start)
{
	char rel[64];

	snprintf(rel, sizeof(rel), "proc/%d/stat", pid);
	fixture_printf(root, rel, "%d (a (b) c) %c 1 1 1 0 -1 %lu 0 0 0 0 0 0 0 0 20 0 1 0 %llu 0 0\n", pid, state,
		       flags, start);
}

/* Masks test_cache() changes between passes: pid 20 + i's CPUs. */
static const char *cache_mask[4] = { "00110", "11110", "11110", "11110" };

static int cache_get(pid_t pid, uint8_t *mask, int nr_cpus)
{
	if (pid < 20 || pid > 23)
		return -ESRCH;
	for (int c = 0; c < nr_cpus; c++)
		mask[c] = cache_mask[pid - 20][c] == '1';
	return 0;
}

static void statm(int pid, unsigned long resident)
{
	char rel[64];

	snprintf(rel, sizeof(rel), "proc/%d/statm", pid);
	fixture_printf(root, rel, "%lu %lu 0 0 0 0 0\n", resident * 2, resident);
}

static int pass(struct affscan *a)
{
	int ret;

	while ((ret = affscan_step(a, cpu_node, 5, 1000)) == 0)
		;
	return ret;
}

static bool listed(const struct aff_hit *h, size_t n, pid_t pid, uint64_t start_time)
{
	for (size_t i = 0; i < n; i++)
		if (h[i].pid == pid && h[i].start_time == start_time)
			return true;
	return false;
}

/*
 * Pid 20 is confined to node 2, 21 small, 22 big, 23 small and unconfined;
 * big means 100 resident pages or more.
 */
static void test_cache(void)
{
	const struct aff_hit *h;
	struct affscan *a;
	int k, seen_start = 0, seen_big = 0;
	uint64_t reads;
	size_t n;

	proc(20, 'S', 0, 2000);
	proc(21, 'S', 0, 2001);
	proc(22, 'S', 0, 2002);
	proc(23, 'S', 0, 2003);
	statm(20, 10);
	statm(21, 10);
	statm(22, 500);
	statm(23, 10);
	if (affscan_new(root, cache_get, &a))
		check_bail("affscan_new");
	affscan_set_big(a, 100);
	pass(a);
	CHECK_INT(affscan_counts(a)->reads, 5, "the first pass reads the files of every process it keeps an eye on");
	pass(a);
	CHECK_INT(affscan_counts(a)->reads, 10, "the second reads them again: a new process may still be growing");
	/* A changed start time unseen says the pass read no stat file. */
	proc(20, 'S', 0, 3000);
	pass(a);
	n = affscan_hits(a, &h);
	CHECK(listed(h, n, 20, 2000), "the third pass keeps the verdicts that held: no stat file read again");
	CHECK_INT(affscan_counts(a)->reads, 10, "... and no file read at all");
	for (k = 0; k < 8; k++)
		pass(a);
	reads = affscan_counts(a)->reads;
	pass(a);
	CHECK(affscan_counts(a)->reads - reads < 4,
	      "once their verdicts held a few times, a pass reads fewer files than there are processes (%llu)",
	      (unsigned long long)(affscan_counts(a)->reads - reads));
	/* An affinity change is seen at the next pass, with a fresh stat read. */
	cache_mask[3] = "11000";
	pass(a);
	n = affscan_hits(a, &h);
	CHECK(listed(h, n, 23, 2003), "a process that confines itself is found confined at the next pass");
	/* A reused pid or a grown process is seen within AFF_RECHECK_MAX passes. */
	statm(21, 400);
	for (k = 1; k <= AFF_RECHECK_MAX && (!seen_start || !seen_big); k++) {
		pass(a);
		n = affscan_hits(a, &h);
		seen_start = seen_start ? seen_start : listed(h, n, 20, 3000) ? k : 0;
		n = affscan_big(a, &h);
		seen_big = seen_big ? seen_big : listed(h, n, 21, 2001) && listed(h, n, 22, 2002) ? k : 0;
	}
	CHECK(seen_start, "a confined process's start time is read again within %d passes (%d)", AFF_RECHECK_MAX,
	      seen_start);
	CHECK(seen_big, "a process that grew big is listed within %d passes (%d), next to the one that was",
	      AFF_RECHECK_MAX, seen_big);
	affscan_free(a);
}

/* The real sched_getaffinity(2): a child bound to CPU 0, with CPU 0 made "node 0" and the rest "node 1". */
static void test_live(void)
{
	int live_node[AN_MAX_CPUS];
	unsigned long one = 1;
	const struct aff_hit *h;
	struct affscan *a;
	bool found = false;
	pid_t child;
	size_t n;

	for (int c = 0; c < AN_MAX_CPUS; c++)
		live_node[c] = c ? 1 : 0;
	child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	if (child < 0 || syscall(SYS_sched_setaffinity, child, sizeof(one), &one) < 0)
		check_bail("child");
	if (affscan_new("", NULL, &a))
		check_bail("affscan_new");
	while (affscan_step(a, live_node, AN_MAX_CPUS, 256) == 0)
		;
	n = affscan_hits(a, &h);
	for (size_t i = 0; i < n; i++)
		found |= h[i].pid == child && h[i].node == 0;
	CHECK(found, "live: a process bound to CPU 0 is found confined to CPU 0's node");
	affscan_free(a);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

int main(void)
{
	const struct aff_hit *h;
	struct affscan *a;
	char path[160];
	int ret, steps = 0;
	size_t n;

	snprintf(root, sizeof(root), "/tmp/test-affinity-XXXXXX");
	if (!mkdtemp(root))
		check_bail("mkdtemp");
	fixture_mkdir(root, "proc/self");
	proc(10, 'S', 0, 1000);		/* CPUs 2-3: node 2 */
	proc(11, 'R', 0, 1001);		/* CPUs 0-3: two nodes */
	proc(12, 'S', 0x00200000, 5);	/* a kernel thread bound to CPU 0 */
	proc(13, 'Z', 0, 1003);		/* a zombie */
	proc(14, 'S', 0, 1004);		/* CPU 0 alone: node 0 */
	proc(15, 'S', 0, 1005);		/* CPU 3 and a CPU in no node: node 2 */
	proc(16, 'S', 0, 1006);		/* only a CPU in no node */
	proc(17, 'S', 0, 1007);		/* exits before its mask is read */

	if (affscan_new(root, fake_get, &a))
		check_bail("affscan_new");
	while ((ret = affscan_step(a, cpu_node, 5, 2)) == 0 && steps < 100)
		steps++;
	CHECK(ret == 1 && steps >= 3, "a pass of 2 processes a step takes several steps (%d) and completes", steps);
	n = affscan_hits(a, &h);
	CHECK_INT(n, 3, "confined: a process on one node's CPUs, one on a single CPU, one with a CPU in no node");
	CHECK(n == 3 && h[0].pid == 10 && h[0].node == 2 && h[0].start_time == 1000,
	      "confined to CPUs 2-3: node 2, with its start time");
	CHECK(n == 3 && h[1].pid == 14 && h[1].node == 0, "confined to CPU 0: node 0");
	CHECK(n == 3 && h[2].pid == 15 && h[2].node == 2, "CPUs in no node do not count against confinement");
	for (size_t i = 0; i < n; i++)
		CHECK(h[i].pid != 12 && h[i].pid != 13, "kernel threads and zombies are left out (%d)", (int)h[i].pid);
	/* A second pass after a process exits. */
	snprintf(path, sizeof(path), "rm -rf %s/proc/10", root);
	if (system(path))
		check_bail("rm");
	while ((ret = affscan_step(a, cpu_node, 5, 1000)) == 0)
		;
	n = affscan_hits(a, &h);
	CHECK(ret == 1 && n == 2 && h[0].pid == 14, "the next pass forgets a process that exited");
	affscan_free(a);
	snprintf(path, sizeof(path), "rm -rf %s/proc", root);
	if (system(path))
		check_bail("rm");
	fixture_mkdir(root, "proc/self");
	test_cache();
	test_live();
	snprintf(path, sizeof(path), "rm -rf %s", root);
	if (system(path))
		check_bail("cleanup");
	return check_done();
}
