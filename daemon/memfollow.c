// SPDX-License-Identifier: GPL-2.0
/*
 * Memory follows the task: gathering the homes given from outside and
 * driving the mover (see memfollow.h).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "affinity.h"
#include "cgprocs.h"
#include "clock.h"
#include "fileio.h"
#include "log.h"
#include "loop.h"
#include "memfollow.h"
#include "nodeload.h"
#include "placement.h"
#include "proc.h"
#include "topology.h"

#define FAST_MS		100	/* tick while memory moves or waits to */
#define SLOW_MS		1000	/* tick otherwise */
#define GATHER_NS	(1000ULL * 1000000ULL)	/* new list of targets at most this often */
#define AFF_PER_TICK	256	/* processes the affinity scan looks at per tick */
/*
 * A new pass over /proc at most this often, walked only when something may
 * have changed (aff_walk_wanted()): the walk is most of what following
 * memory costs when nothing needs to move, and a process born a second ago
 * is the one most likely to need a home (a DataLoader worker whose memory
 * its parent touched first).
 */
#define AFF_PASS_NS	(900ULL * 1000000ULL)	/* a tick a second, give or take the timer's slack */
/*
 * ... or this long after the last walk: what no signal announces (a
 * process that grew big) is found within it.
 */
#define AFF_WALK_NS	(60ULL * 1000000000ULL)
/*
 * A process born is small at first and grows as it maps and touches its
 * memory: after a birth the walks go on a pass apart for this long, so a
 * young process is found big within a second or two of growing, not a
 * minute later.
 */
#define AFF_YOUNG_NS	(10ULL * 1000000000ULL)
/*
 * Home follows memory once two looks this far apart found the memory on
 * the same node: it is the threads that move, not the memory, so there is
 * no move to settle first; the second look only keeps a process still
 * touching its memory from being sent after its first pages.
 */
#define IMPLICIT_CONFIRM_NS (900ULL * 1000000ULL)	/* the next gathering's look */
/* A process this big (resident) may have its home follow its memory; smaller ones are not worth a look. */
#define BIG_PAGES	(32ULL << 20 >> 12)
#define IMPLICIT_MAX	256	/* processes whose home follows memory, at most */
#define IMPLICIT_PER_GATHER 8	/* big processes looked at per gathering */
/*
 * A big process found with nothing to do (memory with its threads, threads
 * spread, no clear majority) is looked at again LOOK_BASE_NS later, then
 * twice as long after each look that finds nothing again, up to
 * LOOK_MAX_NS: a look is an smaps read and a sample, and without this a
 * host's few big processes were looked at several times a second for ever.
 */
#define LOOK_BASE_NS	(2ULL * 1000000000ULL)
#define LOOK_MAX_NS	(60ULL * 1000000000ULL)
#define LOOKS_MAX	1024	/* big processes whose looks are backed off, at most */
#define THREADS_MAX	64	/* a process with more threads is left alone: too costly to read */
#define MIN_SAMPLE	64	/* resident pages a sample needs before it says anything */

/* A big process whose home may follow its memory. */
struct implicit {
	pid_t pid;
	uint64_t start_time;
	int node;		/* the node its memory is on, -1: none yet */
	uint64_t since_ns;	/* ... since then */
	int run;		/* the node all its threads ran on at the last look */
	uint64_t ticks0, ticks_ns;	/* its CPU time at the first look, and when: its CPU use */
	bool home;		/* the node is its home now (installed) */
	bool memory_stays;	/* its memory is on a node without CPUs, near this one */
	bool memory_follows;	/* the memory's node had no room: the memory moves to @run instead */
};

/* A big process last found with nothing to do, and when to look at it again. */
struct look {
	pid_t pid;
	uint64_t start_time;
	uint64_t next_ns;
	unsigned int streak;	/* looks in a row that found nothing */
};

struct memfollow {
	struct memfollow_env env;
	struct migrate *mig;
	struct affscan *aff;
	int timer_fd;
	uint64_t period_ms;
	uint64_t last_gather_ns;
	uint64_t aff_pass_ns;		/* when the last /proc pass was due */
	uint64_t aff_walk_ns;		/* when the last walk of /proc started */
	uint64_t aff_changes;		/* the scheduler's affinity-change count then */
	long aff_last_pid;		/* the last pid /proc/loadavg named then */
	uint64_t aff_born_ns;		/* when a walk last found the pid moved (a birth) */
	struct mig_target *targets;	/* MEMFOLLOW_MAX_TARGETS */
	pid_t *cgpids;			/* scratch for cgroup members */
	struct implicit *imp;		/* IMPLICIT_MAX */
	size_t nr_imp, imp_rr;
	struct look *looks;		/* LOOKS_MAX */
	size_t nr_looks;
	struct mem_home *homes;		/* IMPLICIT_MAX, for placement */
	pid_t *bal_pid;			/* AN_MAX_BAL_HOMES, from the balancer */
	int *bal_node;
	struct memfollow_cpu cpu;
	struct nodeload load;		/* room on each node, for home follows memory */
	/* The rate shown by stats: pages moved over the last full second. */
	uint64_t rate_since_ns, rate_pages0, bytes_per_s;
	unsigned long page;
};

static const char *root_of(const struct memfollow *mf)
{
	return mf->env.root ? mf->env.root : "";
}

const char *memfollow_state_str(enum memfollow_state s)
{
	switch (s) {
	case MF_ACTIVE: return "active";
	case MF_OFF: return "off";
	case MF_NO_PERMISSION: return "no permission";
	case MF_ONE_NODE: return "one node";
	}
	return "unknown";
}

enum memfollow_state memfollow_state(const struct memfollow *mf, const char **why)
{
	const char *w = NULL;
	enum memfollow_state s = MF_ACTIVE;

	if (!mf) {
		s = MF_OFF;
		w = "out of memory at start";
	} else if (!mf->env.tun->migrate_mbps) {
		s = MF_OFF;
		w = "migrate_mbps is 0";
	} else if (mf->env.topo->nr_nodes < 2) {
		s = MF_ONE_NODE;
		w = "one NUMA node: all memory is local";
	} else if (migrate_stats(mf->mig)->no_permission) {
		s = MF_NO_PERMISSION;
		w = "the kernel refused to read or move a process's pages: the daemon needs ptrace read access (CAP_SYS_PTRACE)";
	}
	if (why)
		*why = w;
	return s;
}

/* Add a target unless the list is full; false when full. */
static bool add(struct memfollow *mf, size_t *n, pid_t pid, uint64_t start_time, int node, enum mig_source src)
{
	if (*n >= MEMFOLLOW_MAX_TARGETS)
		return false;
	mf->targets[(*n)++] = (struct mig_target){ .pid = pid, .start_time = start_time, .node = node, .src = src };
	return true;
}

/* The start time of a live user process, or 0 if it is not one (gone, zombie, kernel thread). */
static uint64_t live_start(const struct memfollow *mf, pid_t pid)
{
	struct proc_stat ps;

	if (proc_stat_read(root_of(mf), pid, &ps) || !proc_stat_live(&ps))
		return 0;
	return ps.start_time;
}

static size_t add_cgroup(struct memfollow *mf, size_t n, const struct pin *p)
{
	char dir[PATH_MAX];
	int nr;

	snprintf(dir, sizeof(dir), "%s%s%s", root_of(mf), CGROUP_MOUNT, p->path);
	nr = cgprocs_list(dir, mf->cgpids, MEMFOLLOW_MAX_TARGETS);
	for (int i = 0; i < nr; i++) {
		uint64_t st = live_start(mf, mf->cgpids[i]);

		if (st && !add(mf, &n, mf->cgpids[i], st, p->node, MIG_CGROUP))
			break;
	}
	return n;
}

static int threads_node(const struct memfollow *mf, pid_t pid);
static bool is_target(const struct memfollow *mf, size_t n, pid_t pid);

/*
 * Homes the scheduler's node balancer moved off an overloaded node. They
 * are meant for good, so memory follows them like a home given from
 * outside; and being targets, they are never turned back by "home follows
 * memory" (implicit_homes()), which would otherwise see a process running
 * wholly on one node with its memory on the other, make the old node its
 * home again (a placement home, which beats the balancer) and undo the
 * move. Only a process whose threads all run on the new home now is one:
 * memory follows a process, not one of its threads.
 */
static size_t add_balanced(struct memfollow *mf, size_t n)
{
	size_t nr;

	if (!mf->env.balanced)
		return n;
	nr = mf->env.balanced(mf->env.balanced_arg, mf->bal_pid, mf->bal_node, AN_MAX_BAL_HOMES);
	for (size_t i = 0; i < nr && i < AN_MAX_BAL_HOMES; i++) {
		uint64_t st;

		/*
		 * A home from outside wins (the mover keeps a process's first
		 * entry), and the balancer's map keeps a process it once moved
		 * after it got one: reading the threads of each such process
		 * every second was most of what a gathering cost.
		 */
		if (is_target(mf, n, mf->bal_pid[i]) || threads_node(mf, mf->bal_pid[i]) != mf->bal_node[i])
			continue;
		st = live_start(mf, mf->bal_pid[i]);
		if (st && !add(mf, &n, mf->bal_pid[i], st, mf->bal_node[i], MIG_BALANCE))
			break;
	}
	return n;
}

/*
 * The homes given from outside, most certain first: the migrate module
 * keeps the first entry of a process. Affinity leads because it is where
 * the process can run at all, whatever a pin or a GPU says. The balancer's
 * homes come last: it never moves a process that has any of the others.
 */
static size_t gather(struct memfollow *mf)
{
	struct placement *pl = *mf->env.placement;
	const struct aff_hit *ah;
	const struct gpu_proc *gp;
	const struct pin *pins;
	size_t n = 0, nr;

	nr = affscan_hits(mf->aff, &ah);
	for (size_t i = 0; i < nr; i++)
		add(mf, &n, ah[i].pid, ah[i].start_time, ah[i].node, MIG_AFFINITY);
	nr = placement_pins(pl, &pins);
	for (size_t i = 0; i < nr; i++)
		if (pins[i].active && pins[i].kind == PIN_PROCESS)
			add(mf, &n, pins[i].pid, pins[i].start_time, pins[i].node, MIG_PIN);
	for (size_t i = 0; i < nr; i++)
		if (pins[i].active && pins[i].kind == PIN_CGROUP)
			n = add_cgroup(mf, n, &pins[i]);
	nr = placement_gpu_procs(pl, &gp);
	for (size_t i = 0; i < nr; i++) {
		uint64_t st;

		/* Left alone (already confined, or several nodes): not a GPU home to follow. */
		if (gp[i].node < 0 || gp[i].alone)
			continue;
		st = live_start(mf, gp[i].pid);
		if (st)
			add(mf, &n, gp[i].pid, st, gp[i].node, MIG_GPU);
	}
	return add_balanced(mf, n);
}

static bool is_target(const struct memfollow *mf, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (mf->targets[i].pid == pid)
			return true;
	return false;
}

/* The node every thread of @pid last ran on; -1 when they differ, or too many to read. */
static int threads_node(const struct memfollow *mf, pid_t pid)
{
	char path[PATH_MAX];
	struct dirent *de;
	int node = -1, nr = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/proc/%d/task", root_of(mf), (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		struct proc_stat ps;
		pid_t tid = (pid_t)strtol(de->d_name, NULL, 10);
		int n;

		if (tid <= 0)
			continue;
		if (++nr > THREADS_MAX || proc_stat_read(root_of(mf), tid, &ps) || ps.cpu < 0 ||
		    ps.cpu >= mf->env.topo->nr_cpus || ps.cpu >= AN_MAX_CPUS) {
			node = -1;
			break;
		}
		n = mf->env.topo->cpu_node[ps.cpu];
		if (node >= 0 && n != node) {
			node = -1;
			break;
		}
		node = n;
	}
	closedir(d);
	return node;
}

/* The node holding a clear majority of @pid's memory, -1 if none (or unreadable). */
static int memory_node(const struct memfollow *mf, pid_t pid, unsigned int permille)
{
	struct mem_range *r = NULL;
	struct mem_sample smp;
	int nr, ret;

	nr = mem_read_ranges(root_of(mf), pid, &r);
	if (nr < 0)
		return -1;
	ret = mem_sample_ranges(pid, mf->env.ops ? mf->env.ops : &mem_sys_ops, r, (size_t)nr, MIG_SAMPLE_PAGES, &smp);
	free(r);
	return ret ? -1 : mem_sample_majority(&smp, permille, MIN_SAMPLE);
}

uint64_t memfollow_look_every(unsigned int streak)
{
	uint64_t every = LOOK_BASE_NS;

	for (unsigned int i = 0; i < streak && every < LOOK_MAX_NS; i++)
		every *= 2;
	return every < LOOK_MAX_NS ? every : LOOK_MAX_NS;
}

static struct look *look_find(struct memfollow *mf, const struct aff_hit *b)
{
	for (size_t i = 0; i < mf->nr_looks; i++)
		if (mf->looks[i].pid == b->pid && mf->looks[i].start_time == b->start_time)
			return &mf->looks[i];
	return NULL;
}

/* Nothing to do for @b now: look again later, later each time. A full table just looks sooner. */
static void look_later(struct memfollow *mf, const struct aff_hit *b, uint64_t now_ns)
{
	struct look *l = look_find(mf, b);

	if (!l) {
		if (mf->nr_looks == LOOKS_MAX)
			return;
		l = &mf->looks[mf->nr_looks++];
		*l = (struct look){ .pid = b->pid, .start_time = b->start_time };
	} else if (l->streak < 32) {
		l->streak++;
	}
	l->next_ns = now_ns + memfollow_look_every(l->streak);
}

/* Forget the looks of processes no longer big (or gone). */
static void looks_prune(struct memfollow *mf, const struct aff_hit *big, size_t nr_big)
{
	size_t kept = 0;

	for (size_t i = 0; i < mf->nr_looks; i++) {
		bool listed = false;

		for (size_t k = 0; k < nr_big && !listed; k++)
			listed = big[k].pid == mf->looks[i].pid && big[k].start_time == mf->looks[i].start_time;
		if (listed)
			mf->looks[kept++] = mf->looks[i];
	}
	mf->nr_looks = kept;
}

static struct implicit *implicit_find(struct memfollow *mf, pid_t pid, uint64_t start_time)
{
	for (size_t i = 0; i < mf->nr_imp; i++)
		if (mf->imp[i].pid == pid && mf->imp[i].start_time == start_time)
			return &mf->imp[i];
	return NULL;
}

/*
 * @im's memory has been on im->node for two looks: its home goes there if
 * the node has room for the CPU the process used since the first look (or
 * its memory is on a node without CPUs, which has no other CPUs to offer);
 * otherwise its memory is to follow its threads to im->run.
 */
static void implicit_decide(struct memfollow *mf, struct implicit *im, uint64_t now_ns)
{
	uint64_t ticks = nodeload_proc_ticks(root_of(mf), im->pid);
	double use = nodeload_share(ticks > im->ticks0 ? ticks - im->ticks0 : 0, now_ns - im->ticks_ns);

	if (im->memory_stays || nodeload_room(&mf->load, mf->env.topo, im->node, use)) {
		nodeload_grant(&mf->load, im->node, use);
		im->home = true;
		log_info("memfollow: process %d has most of its memory on node %d: that is its home now",
			 (int)im->pid, im->node);
		return;
	}
	im->memory_follows = true;
	log_info("memfollow: process %d has most of its memory on node %d, which has no room for its %.2f CPUs: "
		 "its memory follows its threads to node %d", (int)im->pid, im->node, use, im->run);
}

/*
 * Home follows memory, for big processes without a home given from outside:
 * one whose threads all run on one node while two looks a second apart
 * (IMPLICIT_CONFIRM_NS) find a clear majority of its memory on another
 * gets that node as its home (its threads then move to their memory,
 * rather than the memory to them), if that node has room for the CPU the
 * process uses (nodeload.h); if not, its memory follows its threads
 * instead, as it would a home given from outside (MIG_THREADS). A process
 * whose threads are spread over nodes keeps their homes, each thread's
 * memory being where it first touched it. A few processes are looked at
 * per gathering; the homes stay while the memory stays.
 */
static size_t implicit_homes(struct memfollow *mf, size_t n, uint64_t now_ns)
{
	const struct an_tunables *tun = mf->env.tun;
	const struct aff_hit *big;
	size_t nr_big = affscan_big(mf->aff, &big), kept = 0, nh = 0;

	/* Forget processes no longer big, gone, or with a home from outside now. */
	for (size_t i = 0; i < mf->nr_imp; i++) {
		struct implicit *im = &mf->imp[i];
		bool listed = false;

		for (size_t k = 0; k < nr_big && !listed; k++)
			listed = big[k].pid == im->pid && big[k].start_time == im->start_time;
		if (listed && !is_target(mf, n, im->pid))
			mf->imp[kept++] = *im;
	}
	mf->nr_imp = kept;
	looks_prune(mf, big, nr_big);
	/* Once a second while there are big processes: what each node has room for. */
	if (nr_big && nodeload_sample(&mf->load, root_of(mf), mf->env.topo))
		log_debug("memfollow: node load unknown: /proc/stat unreadable");
	/* Each big process at most once per gathering, however few there are. */
	for (size_t k = 0, looked = 0; k < nr_big && looked < IMPLICIT_PER_GATHER; k++) {
		const struct aff_hit *b = &big[mf->imp_rr++ % nr_big];
		struct look *l;
		struct implicit *im;
		int run, mem, raw;

		if (is_target(mf, n, b->pid))
			continue;
		im = implicit_find(mf, b->pid, b->start_time);
		l = look_find(mf, b);
		if (l && now_ns < l->next_ns)
			continue;
		looked++;
		if (im && im->memory_follows) {
			/* Its memory follows its threads: until they settle elsewhere. */
			run = threads_node(mf, b->pid);
			if (run < 0 || run == im->run) {
				look_later(mf, b, now_ns);
				continue;
			}
			*im = (struct implicit){ .pid = b->pid, .start_time = b->start_time, .node = -1 };
		}
		/*
		 * Memory on a node without CPUs (GPU HBM, CXL) was put there on
		 * purpose and no CPU is local to it: home is its nearest CPU node,
		 * and the memory stays.
		 */
		raw = memory_node(mf, b->pid, tun->mem_home_permille);
		mem = topology_cpu_home(mf->env.topo, raw);
		if (mem < 0) {
			if (!im)
				look_later(mf, b, now_ns);
			continue;
		}
		if (im && im->home && mem == im->node) {
			look_later(mf, b, now_ns);
			continue;
		}
		run = threads_node(mf, b->pid);
		/* Spread threads keep their own homes; memory already with its threads is fine. */
		if (!im && (run < 0 || run == mem)) {
			look_later(mf, b, now_ns);
			continue;
		}
		/* Something to do: it is looked at every round until its home settles. */
		if (l)
			*l = (struct look){ .pid = b->pid, .start_time = b->start_time };
		if (!im) {
			if (mf->nr_imp == IMPLICIT_MAX)
				continue;
			im = &mf->imp[mf->nr_imp++];
			*im = (struct implicit){ .pid = b->pid, .start_time = b->start_time, .node = -1 };
		}
		if (run >= 0)
			im->run = run;
		im->memory_stays = raw != mem;
		if (im->node != mem) {
			im->node = mem;
			im->since_ns = now_ns;
			im->home = false;
			im->ticks0 = nodeload_proc_ticks(root_of(mf), im->pid);
			im->ticks_ns = now_ns;
		}
	}
	for (size_t i = 0; i < mf->nr_imp; i++) {
		struct implicit *im = &mf->imp[i];

		if (!im->home && !im->memory_follows && im->node >= 0 && now_ns - im->since_ns >= IMPLICIT_CONFIRM_NS)
			implicit_decide(mf, im, now_ns);
		if (im->memory_follows) {
			add(mf, &n, im->pid, im->start_time, im->run, MIG_THREADS);
			continue;
		}
		if (!im->home)
			continue;
		mf->homes[nh++] = (struct mem_home){ .pid = im->pid, .node = im->node };
		/* The rest of its memory follows the home like any other. */
		if (!im->memory_stays)
			add(mf, &n, im->pid, im->start_time, im->node, MIG_MEMORY);
	}
	if (placement_set_memory_homes(*mf->env.placement, mf->homes, nh))
		log_warn("memfollow: out of memory for %zu memory homes", nh);
	return n;
}

/* The last pid the kernel handed out (a process or a thread), from /proc/loadavg; -1 if unknown. */
static long last_pid(const struct memfollow *mf)
{
	char path[PATH_MAX], buf[128], *p;

	snprintf(path, sizeof(path), "%s/proc/loadavg", root_of(mf));
	if (read_small_file(path, buf, sizeof(buf), true))
		return -1;
	p = strrchr(buf, ' ');
	return p ? strtol(p + 1, NULL, 10) : -1;
}

/*
 * A pass is due: walk /proc only if a task's affinity changed, a process
 * or thread was born since the last walk or within AFF_YOUNG_NS, or the
 * last walk is AFF_WALK_NS old. Without the scheduler's count every pass
 * walks.
 */
static bool aff_walk_wanted(struct memfollow *mf, uint64_t now_ns)
{
	uint64_t changes;
	long pid;

	if (!mf->env.cpumask_changes)
		return true;
	changes = mf->env.cpumask_changes(mf->env.balanced_arg);
	pid = last_pid(mf);
	/* A birth since the last walk; the first walk reads everything anyway. */
	if (mf->aff_walk_ns && (pid < 0 || pid != mf->aff_last_pid))
		mf->aff_born_ns = now_ns;
	if (mf->aff_walk_ns && now_ns - mf->aff_walk_ns < AFF_WALK_NS && changes == mf->aff_changes && pid >= 0 &&
	    pid == mf->aff_last_pid && (!mf->aff_born_ns || now_ns - mf->aff_born_ns >= AFF_YOUNG_NS))
		return false;
	mf->aff_walk_ns = now_ns;
	mf->aff_changes = changes;
	mf->aff_last_pid = pid;
	return true;
}

static void set_period(struct memfollow *mf, uint64_t ms)
{
	if (mf->timer_fd < 0 || ms == mf->period_ms)
		return;
	if (loop_timer_set(mf->timer_fd, ms, ms) < 0) {
		log_warn("memfollow: timer: %s", strerror(errno));
		return;
	}
	mf->period_ms = ms;
}

/* The mover's parameters, from the live tunables. */
static void params_of(const struct an_tunables *tun, struct mig_params *prm)
{
	prm->rate_bps = (uint64_t)tun->migrate_mbps << 20;
	prm->settle_ns = tun->migrate_settle_ns;
	prm->balance_hold_ns = tun->balance_hold_ns;
}

void memfollow_tick(struct memfollow *mf, uint64_t now_ns)
{
	const struct an_tunables *tun;
	struct mig_params prm;
	const struct mig_stats *st;
	int ret;

	if (!mf)
		return;
	tun = mf->env.tun;
	if (mf->env.topo->nr_nodes < 2)
		return;
	if (affscan_busy(mf->aff) || !mf->aff_pass_ns || now_ns - mf->aff_pass_ns >= AFF_PASS_NS) {
		uint64_t cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
		bool walk = true;

		if (!affscan_busy(mf->aff)) {
			mf->aff_pass_ns = now_ns;
			walk = aff_walk_wanted(mf, now_ns);
			mf->cpu.passes_skipped += !walk;
		}
		ret = walk ? affscan_step(mf->aff, mf->env.topo->cpu_node, mf->env.topo->nr_cpus, AFF_PER_TICK) : 0;
		if (ret < 0)
			log_debug("memfollow: affinity scan: %s", strerror(-ret));
		mf->cpu.scan_ns += clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	}
	if (!mf->last_gather_ns || now_ns - mf->last_gather_ns >= GATHER_NS) {
		uint64_t cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
		size_t n = implicit_homes(mf, gather(mf), now_ns);

		mf->last_gather_ns = now_ns;
		if (migrate_set_targets(mf->mig, mf->targets, n, now_ns))
			log_warn("memfollow: out of memory for %zu processes; keeping the last list", n);
		mf->cpu.gather_ns += clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	}
	params_of(tun, &prm);
	migrate_tick(mf->mig, &prm, now_ns);

	st = migrate_stats(mf->mig);
	if (now_ns - mf->rate_since_ns >= 1000000000ULL) {
		mf->bytes_per_s = (st->moved_total - mf->rate_pages0) * mf->page * 1000000000ULL /
				  (now_ns - mf->rate_since_ns);
		mf->rate_pages0 = st->moved_total;
		mf->rate_since_ns = now_ns;
	}
	set_period(mf, prm.rate_bps && migrate_busy(mf->mig) ? FAST_MS : SLOW_MS);
}

static void on_timer(void *arg, uint32_t events)
{
	struct memfollow *mf = arg;

	(void)events;
	loop_timer_drain(mf->timer_fd);
	memfollow_tick(mf, mono_ns());
}

struct memfollow *memfollow_new(const struct memfollow_env *env)
{
	struct memfollow *mf = calloc(1, sizeof(*mf));
	long ps = sysconf(_SC_PAGESIZE);

	if (!mf)
		return NULL;
	mf->env = *env;
	mf->timer_fd = -1;
	mf->page = ps > 0 ? (unsigned long)ps : 4096;
	mf->targets = calloc(MEMFOLLOW_MAX_TARGETS, sizeof(*mf->targets));
	mf->cgpids = calloc(MEMFOLLOW_MAX_TARGETS, sizeof(*mf->cgpids));
	mf->imp = calloc(IMPLICIT_MAX, sizeof(*mf->imp));
	mf->looks = calloc(LOOKS_MAX, sizeof(*mf->looks));
	mf->homes = calloc(IMPLICIT_MAX, sizeof(*mf->homes));
	mf->bal_pid = calloc(AN_MAX_BAL_HOMES, sizeof(*mf->bal_pid));
	mf->bal_node = calloc(AN_MAX_BAL_HOMES, sizeof(*mf->bal_node));
	if (!mf->targets || !mf->cgpids || !mf->imp || !mf->looks || !mf->homes || !mf->bal_pid || !mf->bal_node ||
	    migrate_new(root_of(mf), env->ops ? env->ops : &mem_sys_ops, &mf->mig) ||
	    affscan_new(root_of(mf), NULL, &mf->aff)) {
		memfollow_free(mf);
		return NULL;
	}
	affscan_set_big(mf->aff, BIG_PAGES);
	if (env->loop) {
		mf->timer_fd = loop_add_timer(env->loop, SLOW_MS, on_timer, mf);
		if (mf->timer_fd < 0) {
			log_warn("memfollow: timer: %s; memory does not follow its tasks", strerror(-mf->timer_fd));
			memfollow_free(mf);
			return NULL;
		}
		mf->period_ms = SLOW_MS;
	}
	return mf;
}

void memfollow_free(struct memfollow *mf)
{
	if (!mf)
		return;
	if (mf->timer_fd >= 0) {
		loop_del(mf->env.loop, mf->timer_fd);
		close(mf->timer_fd);
	}
	migrate_free(mf->mig);
	affscan_free(mf->aff);
	free(mf->targets);
	free(mf->cgpids);
	free(mf->imp);
	free(mf->looks);
	free(mf->homes);
	free(mf->bal_pid);
	free(mf->bal_node);
	free(mf);
}

const struct mig_stats *memfollow_stats(const struct memfollow *mf, uint64_t *bytes_per_s)
{
	static const struct mig_stats none;

	if (bytes_per_s)
		*bytes_per_s = mf ? mf->bytes_per_s : 0;
	return mf ? migrate_stats(mf->mig) : &none;
}

void memfollow_cpu(const struct memfollow *mf, struct memfollow_cpu *out)
{
	memset(out, 0, sizeof(*out));
	if (!mf)
		return;
	*out = mf->cpu;
	out->scan = *affscan_counts(mf->aff);
}

size_t memfollow_procs(const struct memfollow *mf, const struct mig_proc **out)
{
	if (!mf) {
		*out = NULL;
		return 0;
	}
	return migrate_procs(mf->mig, out);
}

const char *memfollow_proc_state(const struct mig_proc *p, const struct an_tunables *tun, uint64_t now_ns)
{
	struct mig_params prm;

	params_of(tun, &prm);
	if (p->in_job)
		return "moving";
	if (p->denied)
		return "no permission";
	if (now_ns - p->since_ns < migrate_settle_of(p, &prm))
		return "settling";
	if (p->moved_to == p->node)
		return "home";
	return "waiting";
}
