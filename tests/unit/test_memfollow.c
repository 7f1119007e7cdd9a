// SPDX-License-Identifier: GPL-2.0
/*
 * Home follows memory (daemon/memfollow.c), over a fake /proc tree and a
 * fake move_pages(2): a big process with nothing to do is looked at less
 * and less often, while one whose memory sits away from its threads gets
 * that node as its home at the second look, unless the node is busy, when
 * its memory follows its threads instead; and that the /proc pass walks
 * only when something may have changed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "fixture.h"
#include "memfollow.h"
#include "placement.h"
#include "topology.h"

#define BASE	0x200000000UL
#define PAGES	16384		/* 64 MB of 4 KB pages: a big process */
#define SEC	1000000000ULL
/* Pids above any pid_max, so sched_getaffinity(2) finds no such process: they may run anywhere. */
#define STILL	4194400		/* threads and memory on node 0: nothing to do */
#define AWAY	4194500		/* threads on node 1, memory on node 0: its home follows the memory */

static char root[64];
static unsigned long queries[2];
static struct mem_home got[8];
static size_t nr_got;

/* The stubs of what memfollow asks of placement: no pins, no GPUs; the memory homes it hands over are kept. */
size_t placement_pins(struct placement *pl, const struct pin **out)
{
	(void)pl;
	*out = NULL;
	return 0;
}

size_t placement_gpu_procs(struct placement *pl, const struct gpu_proc **out)
{
	(void)pl;
	*out = NULL;
	return 0;
}

int placement_set_memory_homes(struct placement *pl, const struct mem_home *h, size_t n)
{
	(void)pl;
	nr_got = n < 8 ? n : 8;
	memcpy(got, h, nr_got * sizeof(*h));
	return 0;
}

/* Every page of every process is on node 0; queries are counted per process. */
static long fake_move_pages(pid_t pid, unsigned long count, void **pages, const int *nodes, int *status, int flags)
{
	(void)pages;
	(void)nodes;
	(void)flags;
	queries[pid == AWAY]++;
	for (unsigned long i = 0; i < count; i++)
		status[i] = 0;
	return 0;
}

static const struct mem_ops ops = { .move_pages = fake_move_pages };

/* A live process of one thread, last run on @cpu, with 64 MB resident in one anonymous range. */
static void fake_proc(int pid, int cpu)
{
	char rel[128], text[512];

	snprintf(text, sizeof(text), "%d (worker) S 1 %d %d 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 777 "
		 "1000000 %d 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 %d\n", pid, pid, pid, PAGES, cpu);
	snprintf(rel, sizeof(rel), "proc/%d/stat", pid);
	fixture_put(root, rel, text, strlen(text));
	snprintf(rel, sizeof(rel), "proc/%d/task/%d/stat", pid, pid);
	fixture_put(root, rel, text, strlen(text));
	snprintf(text, sizeof(text), "20000 %d 100 1 0 20000 0\n", PAGES);
	snprintf(rel, sizeof(rel), "proc/%d/statm", pid);
	fixture_put(root, rel, text, strlen(text));
	snprintf(text, sizeof(text), "%lx-%lx rw-p 00000000 00:00 0 \nRss: %lu kB\n", BASE, BASE + PAGES * 4096UL,
		 PAGES * 4UL);
	snprintf(rel, sizeof(rel), "proc/%d/smaps", pid);
	fixture_put(root, rel, text, strlen(text));
}

static uint64_t changes;

static uint64_t fake_changes(void *arg)
{
	(void)arg;
	return changes;
}

static void loadavg(long last)
{
	fixture_printf(root, "proc/loadavg", "0.00 0.01 0.05 1/99 %ld\n", last);
}

/* Ticks a second apart from *@now for @secs seconds; the /proc walks they made. */
static uint64_t walks(struct memfollow *mf, uint64_t *now, int secs)
{
	struct memfollow_cpu c0, c1;

	memfollow_cpu(mf, &c0);
	for (int s = 0; s < secs; s++, *now += SEC)
		memfollow_tick(mf, *now);
	memfollow_cpu(mf, &c1);
	return c1.scan.passes - c0.scan.passes;
}

/*
 * With the scheduler's count of affinity changes, a pass due every second
 * walks /proc only after a change, a new pid (and for 10 s after it, while
 * the young process grows), or a minute.
 */
static void test_walks(const struct memfollow_env *base)
{
	struct memfollow_env env = *base;
	struct memfollow_cpu c;
	struct memfollow *mf;
	uint64_t now = 1000 * SEC, w;

	env.cpumask_changes = fake_changes;
	loadavg(500);
	mf = memfollow_new(&env);
	if (!mf)
		check_bail("memfollow_new");
	CHECK_INT(walks(mf, &now, 1), 1, "the first pass walks /proc");
	w = walks(mf, &now, 30);
	memfollow_cpu(mf, &c);
	CHECK(w == 0 && c.passes_skipped >= 5, "30 s without a change: no walk (%llu), %llu passes skipped",
	      (unsigned long long)w, (unsigned long long)c.passes_skipped);
	changes++;
	CHECK_INT(walks(mf, &now, 5), 1, "an affinity change: a walk at the next pass");
	loadavg(501);
	w = walks(mf, &now, 12);
	CHECK(w >= 9 && w <= 11, "a new process or thread: a walk at every pass for 10 s (%llu in 12 s)",
	      (unsigned long long)w);
	CHECK_INT(walks(mf, &now, 20), 0, "... then none while nothing changes");
	w = walks(mf, &now, 61);
	CHECK(w == 1, "nothing new for a minute: one walk all the same (%llu)", (unsigned long long)w);
	memfollow_free(mf);
	/* Without the scheduler's count, as before: every pass walks. */
	env.cpumask_changes = NULL;
	mf = memfollow_new(&env);
	if (!mf)
		check_bail("memfollow_new");
	w = walks(mf, &now, 30);
	CHECK(w >= 6, "without the count every pass walks (%llu in 30 s)", (unsigned long long)w);
	memfollow_free(mf);
}

/* /proc/stat after @s seconds: CPU 0 (node 0) busy all the time when @busy, CPU 1 (node 1) idle. */
static void fake_cpu_stat(int s, bool busy)
{
	unsigned long t = (unsigned long)s * 100;

	fixture_printf(root, "proc/stat", "cpu  %lu 0 0 %lu 0 0 0 0 0 0\n"
		       "cpu0 %lu 0 0 %lu 0 0 0 0 0 0\ncpu1 0 0 0 %lu 0 0 0 0 0 0\nintr 1 2 3\n",
		       busy ? t : 0, busy ? t : 2 * t, busy ? t : 0, busy ? 0 : t, t);
}

/*
 * Home follows memory only to a node with room: node 0 busy all the time,
 * the process's memory follows its threads to node 1 instead; node 0 idle,
 * node 0 is its home.
 */
static void test_room(const struct memfollow_env *env)
{
	char path[128];

	for (int busy = 1; busy >= 0; busy--) {
		const struct mig_proc *procs;
		struct memfollow *mf = memfollow_new(env);
		uint64_t now = 2000 * SEC;
		bool follows = false;
		size_t n;

		if (!mf)
			check_bail("memfollow_new");
		nr_got = 0;
		for (int s = 0; s <= 5; s++, now += SEC) {
			fake_cpu_stat(s, busy);
			memfollow_tick(mf, now);
		}
		n = memfollow_procs(mf, &procs);
		for (size_t i = 0; i < n; i++)
			follows |= procs[i].pid == AWAY && procs[i].src == MIG_THREADS && procs[i].node == 1;
		if (busy) {
			CHECK(follows && nr_got == 0, "memory on node 0, which is busy: its memory follows the threads "
			      "to node 1 (%s), no home moves (%zu)", follows ? "yes" : "no", nr_got);
		} else {
			CHECK(!follows && nr_got == 1 && got[0].pid == AWAY && got[0].node == 0,
			      "memory on node 0, which is idle: node 0 is its home (%zu homes)", nr_got);
		}
		memfollow_free(mf);
	}
	snprintf(path, sizeof(path), "%s/proc/stat", root);
	if (unlink(path))
		check_bail("unlink %s", path);
}

int main(void)
{
	static struct topology topo;
	struct an_tunables tun = { .migrate_mbps = 256, .migrate_settle_ns = 2 * SEC, .mem_home_permille = 667 };
	struct placement *pl = NULL;
	struct memfollow_env env = { .topo = &topo, .tun = &tun, .placement = &pl, .root = root, .ops = &ops };
	struct memfollow *mf;
	uint64_t now = 100 * SEC;
	int away_home_s = -1;
	char cmd[128];

	snprintf(root, sizeof(root), "/tmp/test-memfollow-XXXXXX");
	if (!mkdtemp(root))
		check_bail("mkdtemp");
	topo.nr_nodes = 2;
	topo.nr_cpus = topo.nr_online = 2;
	topo.cpu_node[0] = 0;
	topo.cpu_node[1] = 1;
	topo.cpu_online[0] = topo.cpu_online[1] = 1;
	for (int i = 0; i < 2; i++)
		topo.nodes[i] = (struct topo_node){ .id = i, .nr_cpus = 1, .nr_online = 1 };
	if (topology_index(&topo, cmd, sizeof(cmd)))
		check_bail("topology_index: %s", cmd);
	fake_proc(STILL, 0);
	fake_proc(AWAY, 1);
	mf = memfollow_new(&env);
	if (!mf)
		check_bail("memfollow_new");

	CHECK(memfollow_look_every(0) == 2 * SEC && memfollow_look_every(1) == 4 * SEC &&
	      memfollow_look_every(4) == 32 * SEC && memfollow_look_every(5) == 60 * SEC &&
	      memfollow_look_every(1000) == 60 * SEC, "looks back off from 2 s, doubling, to at most a minute");
	/* The daemon's steady pace: a tick a second, for two minutes. */
	for (int s = 0; s <= 120; s++, now += SEC) {
		memfollow_tick(mf, now);
		if (away_home_s < 0 && nr_got == 1 && got[0].pid == AWAY && got[0].node == 0)
			away_home_s = s;
	}
	/*
	 * The first tick's pass finds it and the gathering looks; the next
	 * gathering's look confirms: the threads move, so no settle time.
	 */
	CHECK(away_home_s >= 1 && away_home_s <= 1,
	      "threads on node 1, memory on node 0: node 0 is its home at the second look, 1 s after the first (%d s)",
	      away_home_s);
	CHECK(nr_got == 1 && got[0].pid == AWAY && got[0].node == 0, "... and stays its home");
	/* One query per look (256 sampled pages); without the back-off: 8 looks a second, ~970. */
	CHECK(queries[0] <= 10, "nothing to do for 2 minutes: looked at no more than 10 times (%lu)", queries[0]);
	CHECK(queries[1] <= 40, "the process whose home followed its memory is not looked at every tick (%lu)",
	      queries[1]);
	memfollow_free(mf);
	test_room(&env);
	test_walks(&env);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd))
		check_bail("cleanup");
	return check_done();
}
