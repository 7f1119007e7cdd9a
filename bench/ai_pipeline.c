// SPDX-License-Identifier: GPL-2.0
/*
 * ai_pipeline: a model of the CPU side of an AI training host.
 *
 * Each NUMA node runs data-loader threads and one launcher thread. A loader
 * first-touches its working buffer while pinned to its node (so the pages
 * are there), then drops the pinning: from then on the scheduler alone
 * decides where it runs. Per batch it waits for "storage" (a sleep), then
 * transforms its buffer and wakes its node's launcher, which does a short
 * burst of work (the kernel launch) and sleeps again.
 *
 * What the scheduler is judged on:
 *  - locality: the share of loader work done on the node that really holds
 *    the buffer. Work is sampled per chunk with sched_getcpu(); the node
 *    holding the pages is asked from the kernel (move_pages(2) in query
 *    mode) before every batch, so NUMA balancing moving them counts too;
 *  - cross-node migrations seen between consecutive samples of a loader;
 *  - launcher wake latency: from the loader's futex wake to the launcher
 *    running, also split by where the launcher ran (see enum wake_path);
 *  - throughput (batches/s) and CPU utilisation.
 *
 * QEMU's emulated NUMA has no remote-access penalty, so locality would be
 * worth nothing there. --cost-model adds one (pl_chunk_cost()): work on a
 * chunk that runs off its buffer's node is repeated to take remote-factor
 * times as long, and a chunk that starts on another node than the
 * thread's previous one first spins for the cache refill.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "pipeline.h"

#define CHUNK_BYTES	(16 * 1024)	/* work between two locality samples */
#define HOME_PROBES	8		/* pages asked per batch for the memory's node */
#define LAT_MAX_SAMPLES	(4u << 20)
#define LAUNCH_BYTES	(64 * 1024)
#define NSEC_PER_SEC	1000000000ULL

enum phase { PH_SETUP, PH_WARMUP, PH_MEASURE, PH_STOP };

/*
 * Where a woken launcher ran, relative to its waker and its own last CPU:
 * it tells a scheduler that queues the wakee behind its waker from one
 * that wakes an idle CPU, and shows what each path costs.
 */
enum wake_path { WP_WAKER, WP_PREV, WP_NODE, WP_REMOTE, NR_WAKE_PATHS };
static const char *const wake_path_name[NR_WAKE_PATHS] = { "waker", "prev", "node", "remote" };

/*
 * The same wakes by what the launcher found on its CPU, a split that means
 * the same under any scheduler: handed off (it ran on its waker's CPU,
 * queued behind the waker), an idle CPU, or queued behind another task.
 * Idle and queue come from the bench's own sightings of its threads per
 * CPU (struct cpu_stamp): tasks outside the bench are not seen.
 */
enum wake_kind { WK_HANDOFF, WK_IDLE, WK_QUEUE, NR_WAKE_KINDS };
static const char *const wake_kind_name[NR_WAKE_KINDS] = { "handoff", "idle", "queue" };
/* A CPU seen running a bench thread this recently is taken as still running it. */
#define STAMP_FRESH_NS	(1000 * 1000)

struct topo {
	int nr_nodes;				/* nodes with CPUs, densely numbered */
	int node_id[PL_MAX_NODES];		/* dense -> kernel node id */
	cpu_set_t node_cpus[PL_MAX_NODES];
	int node_nr_cpus[PL_MAX_NODES];
	int cpu_node[PL_MAX_CPUS];		/* CPU -> dense node, -1 if none */
	int dense_of[PL_MAX_NODES];		/* kernel node id -> dense, -1 if none */
	cpu_set_t online;
	int nr_cpus;
};

struct launcher {
	_Atomic uint32_t sleeping;	/* futex word: 1 while waiting for a batch */
	_Atomic uint64_t posted;
	_Atomic uint64_t wake_ts;	/* when the last waker called futex_wake */
	_Atomic int wake_cpu;		/* the CPU it called it on */
	int node;
	int prev_node;			/* where its last chunk of work ran, for the cost model */
	pthread_t thr;
	uint64_t *buf;
	/* Written by the launcher, read after join. */
	uint64_t batches, samples, local, dropped;
	uint64_t *lat;
	uint8_t *lat_path;		/* enum wake_path | enum wake_kind << 4 of each sample */
	size_t nr_lat, cap_lat;
	int err;
};

struct loader {
	int node;			/* the node it was started on (and, by default, first-touched on) */
	pid_t tid;
	pid_t pid;			/* --loader-procs: its process */
	pthread_t thr;
	struct launcher *ln;
	uint64_t *buf;
	size_t len, pages;
	char *ballast;			/* --ballast-mb: resident, never worked on */
	size_t ballast_len;
	/* Written by the loader, read after join. */
	uint64_t placed_local, placed_total;
	uint64_t batches, samples, local, xnode;
	uint64_t warm_samples, warm_local;	/* during the warm-up */
	uint64_t late_samples, late_local;	/* the second half of the window: settled */
	uint64_t home_moved, compute_ns, max_gap_ns, last_done_ns;
	int start_mem_node;		/* where its buffer was when it started (--alloc-main: node 0) */
	int err;
	/* Read by main at the window's edges. */
	long long migr_start, migr_end;
};

struct noise {
	pthread_t thr;
	int rfd, wfd;			/* churn only */
	bool leader;
	uint64_t ops;
};

static struct pl_config cfg;
static struct topo topo;
/*
 * One CPU's last sighting of a bench thread: (time << 1) | running, where
 * running is 0 when the thread was about to sleep. Its own cache line.
 */
struct cpu_stamp {
	_Alignas(64) _Atomic uint64_t word;
};

/*
 * What every thread and (with --loader-procs) every loader process shares:
 * the run's phase, the start barrier, the CPU sightings, and the loader and
 * launcher records (hand-off words and counters). It is a MAP_SHARED
 * mapping; the loaders' buffers are not in it: they stay private so that
 * memory migration can move them.
 */
struct shared {
	_Atomic int phase;
	_Atomic int late;		/* the second half of the measured window */
	_Atomic uint64_t measure_start_ns;
	pthread_barrier_t ready;
	struct cpu_stamp stamp[PL_MAX_CPUS];
};

static struct shared *sh;
/* Loader processes hand batches over through a futex in shared memory. */
static int futex_private = FUTEX_PRIVATE_FLAG;
static long page_size;
/* Where results nobody reads go, so the compiler keeps the work. */
static volatile uint64_t sink;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static long futex(_Atomic uint32_t *uaddr, int op, uint32_t val, const struct timespec *to)
{
	return syscall(SYS_futex, (uint32_t *)uaddr, op, val, to, NULL, 0);
}

static int read_text(const char *path, char *buf, size_t len)
{
	ssize_t n, got = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((size_t)got < len - 1) {
		n = read(fd, buf + got, len - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	buf[got] = '\0';
	return (int)got;
}

static int topo_read(struct topo *t)
{
	bool nodes[PL_MAX_NODES] = { false }, cpus[PL_MAX_CPUS];
	char path[128], text[4096];
	int ret;

	memset(t, 0, sizeof(*t));
	for (int i = 0; i < PL_MAX_CPUS; i++)
		t->cpu_node[i] = -1;
	for (int i = 0; i < PL_MAX_NODES; i++)
		t->dense_of[i] = -1;

	memset(cpus, 0, sizeof(cpus));
	if (read_text("/sys/devices/system/cpu/online", text, sizeof(text)) < 0 ||
	    pl_parse_list(text, cpus, PL_MAX_CPUS) <= 0) {
		fprintf(stderr, "ai_pipeline: cannot read the online CPUs\n");
		return -EINVAL;
	}
	CPU_ZERO(&t->online);
	for (int c = 0; c < PL_MAX_CPUS; c++)
		if (cpus[c]) {
			CPU_SET(c, &t->online);
			t->nr_cpus++;
		}

	/* Without NUMA in sysfs the machine is one node holding every CPU. */
	if (read_text("/sys/devices/system/node/online", text, sizeof(text)) < 0 ||
	    pl_parse_list(text, nodes, PL_MAX_NODES) <= 0) {
		t->nr_nodes = 1;
		t->node_id[0] = 0;
		t->dense_of[0] = 0;
		t->node_cpus[0] = t->online;
		t->node_nr_cpus[0] = t->nr_cpus;
		for (int c = 0; c < PL_MAX_CPUS; c++)
			if (cpus[c])
				t->cpu_node[c] = 0;
		return 0;
	}
	for (int n = 0; n < PL_MAX_NODES; n++) {
		bool ncpus[PL_MAX_CPUS] = { false };
		int d = t->nr_nodes;

		if (!nodes[n])
			continue;
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/cpulist", n);
		if (read_text(path, text, sizeof(text)) < 0)
			continue;
		ret = pl_parse_list(text, ncpus, PL_MAX_CPUS);
		if (ret < 0) {
			fprintf(stderr, "ai_pipeline: %s: cannot parse '%s'\n", path, text);
			return ret;
		}
		CPU_ZERO(&t->node_cpus[d]);
		for (int c = 0; c < PL_MAX_CPUS; c++) {
			if (!ncpus[c] || !cpus[c])
				continue;
			CPU_SET(c, &t->node_cpus[d]);
			t->cpu_node[c] = d;
			t->node_nr_cpus[d]++;
		}
		if (!t->node_nr_cpus[d])
			continue;	/* memory-only node: nothing runs there */
		t->node_id[d] = n;
		t->dense_of[n] = d;
		t->nr_nodes++;
	}
	if (!t->nr_nodes) {
		fprintf(stderr, "ai_pipeline: no NUMA node has an online CPU\n");
		return -EINVAL;
	}
	return 0;
}

static int cpu_node_of(int cpu)
{
	return cpu >= 0 && cpu < PL_MAX_CPUS ? topo.cpu_node[cpu] : -1;
}

/* Note that a bench thread runs here (@running) or is about to sleep; returns the CPU. */
static int stamp_cpu(bool running)
{
	int cpu = sched_getcpu();

	if (cpu >= 0 && cpu < PL_MAX_CPUS)
		atomic_store_explicit(&sh->stamp[cpu].word, mono_ns() << 1 | running, memory_order_relaxed);
	return cpu;
}

/*
 * Dense node holding most of @probes pages of [buf, buf+len), -1 if the
 * kernel cannot tell. move_pages(2) with a NULL node list only reports.
 */
static int mem_node(const void *buf, size_t pages, size_t probes)
{
	void *addr[HOME_PROBES];
	int status[HOME_PROBES], count[PL_MAX_NODES] = { 0 };
	int best = -1;

	if (probes > HOME_PROBES)
		probes = HOME_PROBES;
	if (probes > pages)
		probes = pages;
	for (size_t i = 0; i < probes; i++)
		addr[i] = (char *)buf + (i * pages / probes) * (size_t)page_size;
	if (syscall(SYS_move_pages, 0, probes, addr, NULL, status, 0) < 0)
		return -1;
	for (size_t i = 0; i < probes; i++) {
		int d = status[i] >= 0 && status[i] < PL_MAX_NODES ? topo.dense_of[status[i]] : -1;

		if (d < 0)
			continue;
		count[d]++;
		if (best < 0 || count[d] > count[best])
			best = d;
	}
	return best;
}

/* Fraction of all pages on @want, asked in batches of HOME_PROBES. */
static void placement(struct loader *l)
{
	for (size_t p = 0; p < l->pages; p += HOME_PROBES) {
		size_t n = l->pages - p < HOME_PROBES ? l->pages - p : HOME_PROBES;
		void *addr[HOME_PROBES];
		int status[HOME_PROBES];

		for (size_t i = 0; i < n; i++)
			addr[i] = (char *)l->buf + (p + i) * (size_t)page_size;
		if (syscall(SYS_move_pages, 0, n, addr, NULL, status, 0) < 0)
			return;
		for (size_t i = 0; i < n; i++) {
			l->placed_total++;
			if (status[i] >= 0 && status[i] < PL_MAX_NODES &&
			    topo.dense_of[status[i]] == l->node)
				l->placed_local++;
		}
	}
}

/* The data transform: reads and rewrites every word, a dependency chain the compiler keeps. */
static uint64_t crunch(uint64_t *p, size_t words, uint64_t acc)
{
	for (size_t i = 0; i < words; i++) {
		acc = (acc ^ p[i]) * 0x9e3779b97f4a7c15ULL;
		p[i] = acc >> 7;
	}
	return acc;
}

/*
 * The cost model's share of one chunk [p, p+words): the extra fraction of
 * the same transform, then the refill spent re-reading the buffer. Returns
 * how long it took, so time-bounded work can extend its deadline.
 */
static uint64_t pay_cost(uint64_t *p, size_t words, struct pl_chunk_cost cc, uint64_t *acc)
{
	uint64_t t0, end;

	if (!cc.extra_words && !cc.refill_ns)
		return 0;
	t0 = mono_ns();
	for (size_t left = cc.extra_words; left; ) {
		size_t n = left < words ? left : words;

		*acc = crunch(p, n, *acc);
		left -= n;
	}
	end = t0 + cc.refill_ns;
	while (cc.refill_ns && mono_ns() < end)
		*acc = crunch(p, words < 64 ? words : 64, *acc);
	return mono_ns() - t0;
}

static void post_batch(struct launcher *ln)
{
	uint32_t one = 1;

	atomic_fetch_add(&ln->posted, 1);
	/* Only the poster that flips 1 -> 0 wakes, and it stamps the wake first. */
	if (atomic_load(&ln->sleeping) == 1 &&
	    atomic_compare_exchange_strong(&ln->sleeping, &one, 0)) {
		atomic_store(&ln->wake_cpu, sched_getcpu());
		atomic_store(&ln->wake_ts, mono_ns());
		futex(&ln->sleeping, FUTEX_WAKE | futex_private, 1, NULL);
	}
}

/* First touch: the pages land on the node of the CPU that writes them first. */
static void touch(struct loader *l)
{
	size_t words = l->len / sizeof(uint64_t);

	for (size_t i = 0; i < words; i++)
		l->buf[i] = i * 2654435761u;
	for (size_t off = 0; off < l->ballast_len; off += (size_t)page_size)
		l->ballast[off] = 1;
}

static void *toucher_main(void *arg)
{
	touch(arg);
	return NULL;
}

static void *loader_main(void *arg)
{
	struct loader *l = arg;
	size_t words = l->len / sizeof(uint64_t), chunk = CHUNK_BYTES / sizeof(uint64_t);
	struct timespec io = { cfg.io_us / 1000000, (long)(cfg.io_us % 1000000) * 1000 };
	uint64_t acc;
	int prev = -1;

	l->tid = (pid_t)syscall(SYS_gettid);
	/* Named, so a scheduler's traces and per-thread tools can tell the roles apart. */
	prctl(PR_SET_NAME, "ai-loader");
	acc = (uint64_t)l->tid;
	/* Touched while pinned: the pages land on this node (local allocation). */
	if (!cfg.alloc_main)
		touch(l);
	placement(l);
	l->start_mem_node = mem_node(l->buf, l->pages, HOME_PROBES);
	if (l->start_mem_node < 0)
		l->start_mem_node = l->node;
	if (sched_setaffinity(0, sizeof(topo.online), &topo.online))
		l->err = errno;
	pthread_barrier_wait(&sh->ready);

	while (atomic_load(&sh->phase) != PH_STOP) {
		uint64_t t0, t1;
		bool meas, warm, late;
		int home;

		stamp_cpu(false);
		if (cfg.io_us)
			nanosleep(&io, NULL);
		home = mem_node(l->buf, l->pages, HOME_PROBES);
		if (home < 0)
			home = l->start_mem_node;
		meas = atomic_load(&sh->phase) == PH_MEASURE;
		warm = atomic_load(&sh->phase) == PH_WARMUP;
		late = meas && atomic_load(&sh->late);
		t0 = mono_ns();
		for (unsigned int pass = 0; pass < cfg.passes; pass++) {
			for (size_t off = 0; off < words; off += chunk) {
				size_t n = words - off < chunk ? words - off : chunk;
				int node = cpu_node_of(stamp_cpu(true));

				if (meas) {
					l->samples++;
					l->local += node == home;
					l->xnode += prev >= 0 && node != prev;
				}
				if (warm) {
					l->warm_samples++;
					l->warm_local += node == home;
				}
				if (late) {
					l->late_samples++;
					l->late_local += node == home;
				}
				pay_cost(l->buf + off, n, pl_chunk_cost(&cfg.cost, node, home, prev, n), &acc);
				prev = node;
				acc = crunch(l->buf + off, n, acc);
			}
		}
		post_batch(l->ln);
		t1 = mono_ns();
		if (!meas || atomic_load(&sh->phase) != PH_MEASURE)
			continue;
		l->batches++;
		l->home_moved += home != l->start_mem_node;
		l->compute_ns += t1 - t0;
		{
			uint64_t since = l->last_done_ns;
			uint64_t ms = atomic_load(&sh->measure_start_ns);

			if (since < ms)
				since = ms;
			if (t1 - since > l->max_gap_ns)
				l->max_gap_ns = t1 - since;
		}
		l->last_done_ns = t1;
	}
	sink ^= acc;
	return NULL;
}

static void record_lat(struct launcher *ln, uint64_t ns, enum wake_path path, enum wake_kind kind)
{
	if (ln->nr_lat == ln->cap_lat) {
		size_t cap = ln->cap_lat ? ln->cap_lat * 2 : 4096;
		uint64_t *p;
		uint8_t *wp;

		if (cap > LAT_MAX_SAMPLES || !(p = realloc(ln->lat, cap * sizeof(*p)))) {
			ln->dropped++;
			return;
		}
		ln->lat = p;
		if (!(wp = realloc(ln->lat_path, cap))) {
			ln->dropped++;
			return;
		}
		ln->lat_path = wp;
		ln->cap_lat = cap;
	}
	ln->lat_path[ln->nr_lat] = (uint8_t)(path | kind << 4);
	ln->lat[ln->nr_lat++] = ns;
}

static enum wake_path wake_path_of(int cpu, int waker_cpu, int prev_cpu)
{
	if (cpu == waker_cpu)
		return WP_WAKER;
	if (cpu == prev_cpu)
		return WP_PREV;
	if (cpu >= 0 && cpu < PL_MAX_CPUS && prev_cpu >= 0 && prev_cpu < PL_MAX_CPUS &&
	    topo.cpu_node[cpu] == topo.cpu_node[prev_cpu])
		return WP_NODE;
	return WP_REMOTE;
}

/*
 * What the launcher found on @cpu, the CPU it runs on after a wake at
 * @wake_ns from @waker_cpu; to be asked before it stamps the CPU itself.
 */
static enum wake_kind wake_kind_of(int cpu, int waker_cpu, uint64_t wake_ns)
{
	uint64_t w;

	if (cpu == waker_cpu)
		return WK_HANDOFF;
	if (cpu < 0 || cpu >= PL_MAX_CPUS)
		return WK_IDLE;
	w = atomic_load_explicit(&sh->stamp[cpu].word, memory_order_relaxed);
	return pl_cpu_was_busy(w >> 1, w & 1, wake_ns, STAMP_FRESH_NS) ? WK_QUEUE : WK_IDLE;
}

/* The launch: CPU work on the launcher's own (node-local) buffer for launch_us. */
static void launch(struct launcher *ln, int home, bool meas)
{
	size_t words = LAUNCH_BYTES / sizeof(uint64_t), chunk = 512, off = 0;
	uint64_t end = mono_ns() + (uint64_t)cfg.launch_us * 1000, acc = 1;

	do {
		int node = cpu_node_of(stamp_cpu(true));

		if (meas) {
			ln->samples++;
			ln->local += node == home;
		}
		/* The launch is timed: what the cost model adds moves its end. */
		end += pay_cost(ln->buf + off, chunk, pl_chunk_cost(&cfg.cost, node, home, ln->prev_node, chunk),
				&acc);
		ln->prev_node = node;
		acc = crunch(ln->buf + off, chunk, acc);
		off = (off + chunk) % words;
	} while (mono_ns() < end);
	sink ^= acc;
}

static void *launcher_main(void *arg)
{
	struct launcher *ln = arg;
	const struct timespec to = { 0, 50 * 1000 * 1000 };
	uint64_t consumed = 0;
	int home, prev_cpu = -1;

	prctl(PR_SET_NAME, "ai-launcher");
	for (size_t i = 0; i < LAUNCH_BYTES / sizeof(uint64_t); i++)
		ln->buf[i] = i;
	if (sched_setaffinity(0, sizeof(topo.online), &topo.online))
		ln->err = errno;
	pthread_barrier_wait(&sh->ready);

	for (;;) {
		uint64_t posted = atomic_load(&ln->posted);
		bool meas = atomic_load(&sh->phase) == PH_MEASURE;

		if (posted == consumed) {
			long r;

			if (atomic_load(&sh->phase) == PH_STOP)
				break;
			prev_cpu = stamp_cpu(false);
			atomic_store(&ln->sleeping, 1);
			/* A batch posted between the load and the store saw sleeping == 0. */
			if (atomic_load(&ln->posted) != consumed) {
				atomic_store(&ln->sleeping, 0);
				continue;
			}
			r = futex(&ln->sleeping, FUTEX_WAIT | futex_private, 1, &to);
			/*
			 * A real wake has r == 0 and the flag cleared by the
			 * waker; a late wake from an earlier round finds it set.
			 */
			if (r == 0 && atomic_load(&ln->sleeping) == 0 && meas &&
			    atomic_load(&sh->phase) == PH_MEASURE) {
				uint64_t now = mono_ns(), w = atomic_load(&ln->wake_ts);
				int cpu = sched_getcpu(), waker = atomic_load(&ln->wake_cpu);

				if (w && now >= w)
					record_lat(ln, now - w, wake_path_of(cpu, waker, prev_cpu),
						   wake_kind_of(cpu, waker, w));
			}
			atomic_store(&ln->sleeping, 0);
			continue;
		}
		/* Where its buffer is now: NUMA balancing may have moved it. */
		home = mem_node(ln->buf, LAUNCH_BYTES / page_size, HOME_PROBES);
		if (home < 0)
			home = ln->node;
		for (; consumed < posted; consumed++) {
			if (cfg.launch_us)
				launch(ln, home, meas);
			if (meas && atomic_load(&sh->phase) == PH_MEASURE)
				ln->batches++;
		}
	}
	return NULL;
}

static void *hog_main(void *arg)
{
	struct noise *n = arg;
	uint64_t buf[512] = { 0 }, acc = 3;

	while (atomic_load(&sh->phase) != PH_STOP) {
		stamp_cpu(true);
		acc = crunch(buf, 512, acc);
		n->ops++;
	}
	sink ^= acc;
	return NULL;
}

/*
 * One side of a ping-pong pair. The leader starts each round trip and, on
 * stop, closes its write end so the follower's read sees EOF.
 */
static void *churn_main(void *arg)
{
	struct noise *n = arg;
	char c = 0;

	for (;;) {
		if (n->leader) {
			if (atomic_load(&sh->phase) == PH_STOP)
				break;
			stamp_cpu(false);
			if (write(n->wfd, &c, 1) != 1 || read(n->rfd, &c, 1) != 1)
				break;
		} else {
			stamp_cpu(false);
			if (read(n->rfd, &c, 1) != 1 || write(n->wfd, &c, 1) != 1)
				break;
		}
		n->ops++;
	}
	close(n->wfd);
	return NULL;
}

/* se.nr_migrations of one thread, -1 when the kernel does not show it. */
static long long thread_migrations(pid_t tid)
{
	char path[64], text[8192], *p;

	/* /proc/TID finds a thread of any process: loader processes too. */
	snprintf(path, sizeof(path), "/proc/%d/sched", (int)tid);
	if (read_text(path, text, sizeof(text)) <= 0)
		return -1;
	p = strstr(text, "se.nr_migrations");
	if (!p || !(p = strchr(p, ':')))
		return -1;
	return strtoll(p + 1, NULL, 10);
}

static int stat_snapshot(struct pl_cpu_times *t)
{
	static char text[1 << 16];

	memset(t, 0, sizeof(*t) * PL_MAX_CPUS);
	if (read_text("/proc/stat", text, sizeof(text)) < 0)
		return -1;
	return pl_parse_proc_stat(text, t, PL_MAX_CPUS);
}

static void sleep_until(uint64_t deadline)
{
	struct timespec ts = { (time_t)(deadline / NSEC_PER_SEC), (long)(deadline % NSEC_PER_SEC) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

struct results {
	double secs, throughput, locality, ln_locality, util, proc_cpu, placement, home_moved;
	double warm_locality, late_locality;
	double batch_ms, max_gap_ms;
	uint64_t batches, loader_batches, xnode, samples, lat_n, lat_dropped, noise_ops;
	uint64_t p50, p99, max;
	struct {
		double pct;
		uint64_t p50, p99;
	} path[NR_WAKE_PATHS], kind[NR_WAKE_KINDS];
	long long migrations;
	unsigned int stalls;
	double node_util[PL_MAX_NODES], node_locality[PL_MAX_NODES];
	uint64_t node_batches[PL_MAX_NODES];
	unsigned int node_loaders[PL_MAX_NODES];
};

static void print_results(const struct results *r, unsigned int nr_loaders)
{
	if (!cfg.json) {
		printf("ai_pipeline %s: %d nodes, %d CPUs, %u loaders, %.1f s measured\n",
		       cfg.label, topo.nr_nodes, topo.nr_cpus, nr_loaders, r->secs);
		if (cfg.cost.on)
			printf("  cost model      remote work x%.3f, %u us refill after a change of node\n",
			       cfg.cost.remote_milli / 1000.0, cfg.cost.refill_us);
		printf("  throughput      %.1f batches/s (%" PRIu64 " batches, %.2f ms compute each)\n",
		       r->throughput, r->batches, r->batch_ms);
		printf("  locality        %.1f%% of loader work on its memory's node (launchers %.1f%%)\n",
		       r->locality, r->ln_locality);
		printf("                  %.1f%% during the warm-up, %.1f%% in the window's second half\n",
		       r->warm_locality, r->late_locality);
		printf("  placement       %.1f%% of pages first-touched home, %.1f%% of batches found them moved\n",
		       r->placement, r->home_moved);
		printf("  migrations      %" PRIu64 " cross-node (sampled), %lld in total\n",
		       r->xnode, r->migrations);
		printf("  wake latency    p50 %.1f us, p99 %.1f us, max %.1f us (%" PRIu64 " wakes)\n",
		       r->p50 / 1e3, r->p99 / 1e3, r->max / 1e3, r->lat_n);
		for (int wp = 0; wp < NR_WAKE_PATHS; wp++)
			printf("    on %-6s      %.1f%% of wakes, p50 %.1f us, p99 %.1f us\n", wake_path_name[wp],
			       r->path[wp].pct, r->path[wp].p50 / 1e3, r->path[wp].p99 / 1e3);
		for (int k = 0; k < NR_WAKE_KINDS; k++)
			printf("    %-8s        %.1f%% of wakes, p50 %.1f us, p99 %.1f us\n", wake_kind_name[k],
			       r->kind[k].pct, r->kind[k].p50 / 1e3, r->kind[k].p99 / 1e3);
		printf("  cpu             %.1f%% machine busy, %.1f%% used by us\n", r->util, r->proc_cpu);
		printf("  stalls          %u (longest loader gap %.1f ms)\n", r->stalls, r->max_gap_ms);
		for (int d = 0; d < topo.nr_nodes; d++)
			printf("  node %d          %u loaders, %" PRIu64 " batches, locality %.1f%%, busy %.1f%%\n",
			       topo.node_id[d], r->node_loaders[d], r->node_batches[d],
			       r->node_locality[d], r->node_util[d]);
		return;
	}
	printf("{\"bench\":\"ai_pipeline\",\"label\":");
	json_str(stdout, cfg.label);
	printf(",\"nodes\":%d,\"cpus\":%d,\"loaders\":%u,\"imbalance\":%u,\"hogs\":%u,\"churn\":%u,"
	       "\"ballast_mb\":%u,\"spawn_local\":%s,\"loader_procs\":%s,\"alloc_main\":%s,\"cost_model\":%s,\"remote_factor\":%.3f,\"refill_us\":%u,"
	       "\"duration_s\":%.3f,\"batches\":%" PRIu64 ",\"loader_batches\":%" PRIu64 ","
	       "\"throughput_bps\":%.3f,\"batch_compute_ms\":%.3f,"
	       "\"locality_pct\":%.3f,\"locality_warmup_pct\":%.3f,\"locality_late_pct\":%.3f,"
	       "\"launcher_locality_pct\":%.3f,\"samples\":%" PRIu64 ","
	       "\"placement_pct\":%.3f,\"home_moved_pct\":%.3f,"
	       "\"xnode_migrations\":%" PRIu64 ",\"xnode_migrations_per_s\":%.3f,\"migrations\":%lld,"
	       "\"wake_lat_us\":{\"count\":%" PRIu64 ",\"dropped\":%" PRIu64 ",\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f},"
	       "\"cpu_util_pct\":%.3f,\"proc_cpu_pct\":%.3f,\"stalls\":%u,\"max_gap_ms\":%.3f,"
	       "\"noise_ops\":%" PRIu64 ",",
	       topo.nr_nodes, topo.nr_cpus, nr_loaders, cfg.imbalance, cfg.hogs, cfg.churn,
	       cfg.ballast_mb, cfg.spawn_local ? "true" : "false", cfg.loader_procs ? "true" : "false",
	       cfg.alloc_main ? "true" : "false", cfg.cost.on ? "true" : "false",
	       cfg.cost.on ? cfg.cost.remote_milli / 1000.0 : 1.0, cfg.cost.on ? cfg.cost.refill_us : 0, r->secs, r->batches, r->loader_batches, r->throughput, r->batch_ms,
	       r->locality, r->warm_locality, r->late_locality, r->ln_locality, r->samples, r->placement, r->home_moved,
	       r->xnode, r->secs > 0 ? (double)r->xnode / r->secs : 0.0, r->migrations,
	       r->lat_n, r->lat_dropped, r->p50 / 1e3, r->p99 / 1e3, r->max / 1e3,
	       r->util, r->proc_cpu, r->stalls, r->max_gap_ms, r->noise_ops);
	for (int wp = 0; wp < NR_WAKE_PATHS; wp++)
		printf("%s\"%s\":{\"pct\":%.3f,\"p50\":%.3f,\"p99\":%.3f}", wp ? "," : "\"wake_paths\":{",
		       wake_path_name[wp], r->path[wp].pct, r->path[wp].p50 / 1e3, r->path[wp].p99 / 1e3);
	for (int k = 0; k < NR_WAKE_KINDS; k++)
		printf("%s\"%s\":{\"pct\":%.3f,\"p50\":%.3f,\"p99\":%.3f}", k ? "," : "},\"wake_kinds\":{",
		       wake_kind_name[k], r->kind[k].pct, r->kind[k].p50 / 1e3, r->kind[k].p99 / 1e3);
	printf("},\"per_node\":[");
	for (int d = 0; d < topo.nr_nodes; d++)
		printf("%s{\"node\":%d,\"loaders\":%u,\"batches\":%" PRIu64 ",\"locality_pct\":%.3f,\"util_pct\":%.3f}",
		       d ? "," : "", topo.node_id[d], r->node_loaders[d], r->node_batches[d],
		       r->node_locality[d], r->node_util[d]);
	printf("]}\n");
}

/*
 * Small pages only. The buffers are mapped one after another, the kernel
 * merges the mappings into one, and with transparent huge pages on (Debian's
 * default) the first loader to touch an aligned 2 MB of it gets all of it on
 * its node, its neighbours' buffers included: at 8 nodes x 1 CPU the loaders
 * of five nodes found none of their pages on their node, under either
 * scheduler, and locality measured that.
 */
static void *map_buf(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, len, MADV_NOHUGEPAGE);
	return p;
}

static void *map_shared(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static int start_pinned(pthread_t *thr, int node, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	int ret;

	pthread_attr_init(&attr);
	/* Pinned from its first instruction, so its first touches are on @node. */
	pthread_attr_setaffinity_np(&attr, sizeof(cpu_set_t), &topo.node_cpus[node]);
	ret = pthread_create(thr, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return ret;
}

struct node_spawn {
	int node;
	struct launcher *ln;
	struct loader *loaders;
	unsigned int nr;
	int err;
};

/* Start one node's launcher and loaders, each pinned to the node from birth. */
static void spawn_node(struct node_spawn *s)
{
	int ret = start_pinned(&s->ln->thr, s->node, launcher_main, s->ln);

	for (unsigned int i = 0; !ret && i < s->nr; i++)
		ret = start_pinned(&s->loaders[i].thr, s->node, loader_main, &s->loaders[i]);
	s->err = ret;
}

static void *spawner_main(void *arg)
{
	spawn_node(arg);
	return NULL;
}

/*
 * --loader-procs: fork a loader process, pinned to its node, that maps and
 * first-touches its own private buffer (with --alloc-main a thread of its
 * on the first node touches it), then runs the loader. Whatever fails in
 * the child is left in l->err for the parent to report after the barrier.
 */
static pid_t start_loader_proc(struct loader *l)
{
	pid_t pid = fork();
	pthread_t toucher;
	int ret;

	if (pid)
		return pid;
	/* A loader outliving a killed bench would spin for ever. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (sched_setaffinity(0, sizeof(cpu_set_t), &topo.node_cpus[l->node]))
		l->err = errno;
	l->buf = map_buf(l->len);
	l->ballast = l->ballast_len ? map_buf(l->ballast_len) : NULL;
	if (!l->buf || (l->ballast_len && !l->ballast)) {
		l->err = ENOMEM;
		pthread_barrier_wait(&sh->ready);
		_exit(1);
	}
	if (cfg.alloc_main) {
		ret = start_pinned(&toucher, 0, toucher_main, l);
		if (ret)
			l->err = ret;
		else
			pthread_join(toucher, NULL);
	}
	loader_main(l);
	_exit(0);
}

/* --alloc-main with loader threads: the main thread touches every buffer from the first node. */
static int touch_from_first_node(struct loader *lds, unsigned int nr)
{
	cpu_set_t old;

	if (sched_getaffinity(0, sizeof(old), &old) ||
	    sched_setaffinity(0, sizeof(cpu_set_t), &topo.node_cpus[0]))
		return -errno;
	for (unsigned int i = 0; i < nr; i++)
		touch(&lds[i]);
	if (sched_setaffinity(0, sizeof(old), &old))
		return -errno;
	return 0;
}

int main(int argc, char **argv)
{
	static struct pl_cpu_times st0[PL_MAX_CPUS], st1[PL_MAX_CPUS];
	struct node_spawn *spawns;
	struct launcher *lns;
	struct loader *lds;
	struct noise *noise;
	pthread_t *spawners;
	bool mapped;
	unsigned int nr_loaders = 0, nr_noise, k = 0;
	struct rusage ru0, ru1;
	struct results r;
	uint64_t t_start, t_end, *all;
	char err[256];
	int ret;

	ret = pl_parse_args(argc, argv, &cfg, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "ai_pipeline: %s (try --help)\n", err);
		return 2;
	}
	if (cfg.help) {
		pl_usage(stdout, argv[0]);
		return 0;
	}
	page_size = sysconf(_SC_PAGESIZE);
	if (topo_read(&topo))
		return 1;
	if ((int)cfg.imbalance_node >= topo.nr_nodes) {
		fprintf(stderr, "ai_pipeline: --imbalance-node %u: only %d nodes have CPUs\n",
			cfg.imbalance_node, topo.nr_nodes);
		return 2;
	}

	memset(&r, 0, sizeof(r));
	for (int d = 0; d < topo.nr_nodes; d++) {
		unsigned int n = cfg.loaders ? cfg.loaders : (unsigned int)topo.node_nr_cpus[d];

		if ((unsigned int)d == cfg.imbalance_node)
			n *= cfg.imbalance;
		r.node_loaders[d] = n;
		nr_loaders += n;
	}
	nr_noise = cfg.hogs + 2 * cfg.churn;
	/* Shared with loader processes (zeroed, as calloc's would be). */
	sh = map_shared(sizeof(*sh));
	lns = map_shared(topo.nr_nodes * sizeof(*lns));
	lds = map_shared(nr_loaders * sizeof(*lds));
	noise = calloc(nr_noise ? nr_noise : 1, sizeof(*noise));
	spawns = calloc(topo.nr_nodes, sizeof(*spawns));
	spawners = calloc(topo.nr_nodes, sizeof(*spawners));
	if (!sh || !lns || !lds || !noise || !spawns || !spawners) {
		fprintf(stderr, "ai_pipeline: out of memory\n");
		return 1;
	}
	if (cfg.loader_procs)
		futex_private = 0;
	{
		pthread_barrierattr_t ba;

		pthread_barrierattr_init(&ba);
		pthread_barrierattr_setpshared(&ba, PTHREAD_PROCESS_SHARED);
		pthread_barrier_init(&sh->ready, &ba, topo.nr_nodes + nr_loaders + 1);
		pthread_barrierattr_destroy(&ba);
	}

	for (int d = 0; d < topo.nr_nodes; d++) {
		spawns[d] = (struct node_spawn){ .node = d, .ln = &lns[d], .loaders = &lds[k],
						 .nr = r.node_loaders[d] };
		lns[d].node = d;
		lns[d].prev_node = -1;
		lns[d].buf = map_buf(LAUNCH_BYTES);
		mapped = lns[d].buf != NULL;
		for (unsigned int i = 0; i < r.node_loaders[d]; i++, k++) {
			struct loader *l = &lds[k];

			l->node = d;
			l->ln = &lns[d];
			l->len = (size_t)cfg.buffer_kb * 1024;
			l->pages = (l->len + page_size - 1) / page_size;
			l->ballast_len = (size_t)cfg.ballast_mb << 20;
			if (cfg.loader_procs)
				continue;	/* its process maps its own */
			l->buf = map_buf(l->len);
			mapped &= l->buf != NULL;
			if (l->ballast_len) {
				l->ballast = map_buf(l->ballast_len);
				mapped &= l->ballast != NULL;
			}
		}
		if (!mapped) {
			fprintf(stderr, "ai_pipeline: node %d: cannot map buffers\n", d);
			return 1;
		}
	}
	if (cfg.alloc_main && !cfg.loader_procs && (ret = touch_from_first_node(lds, nr_loaders))) {
		fprintf(stderr, "ai_pipeline: cannot touch the buffers from node %d: %s\n",
			topo.node_id[0], strerror(-ret));
		return 1;
	}
	/* Forked before any thread exists, so no lock is held across the fork. */
	for (unsigned int i = 0; cfg.loader_procs && i < nr_loaders; i++) {
		lds[i].pid = start_loader_proc(&lds[i]);
		if (lds[i].pid < 0) {
			perror("ai_pipeline: fork");
			return 1;
		}
	}
	for (int d = 0; d < topo.nr_nodes; d++) {
		if (cfg.loader_procs) {
			spawns[d].err = start_pinned(&lns[d].thr, d, launcher_main, &lns[d]);
		} else if (cfg.spawn_local) {
			/* The spawner runs on node d, so its children are born there. */
			if (start_pinned(&spawners[d], d, spawner_main, &spawns[d])) {
				fprintf(stderr, "ai_pipeline: node %d: cannot start its spawner\n", d);
				return 1;
			}
			pthread_join(spawners[d], NULL);
		} else {
			spawn_node(&spawns[d]);
		}
		if (spawns[d].err) {
			fprintf(stderr, "ai_pipeline: node %d: cannot start its threads: %s\n",
				d, strerror(spawns[d].err));
			return 1;
		}
	}
	for (unsigned int i = 0; i < cfg.churn; i++) {
		int a[2], b[2];
		struct noise *x = &noise[cfg.hogs + 2 * i], *y = x + 1;

		if (pipe2(a, O_CLOEXEC) || pipe2(b, O_CLOEXEC)) {
			perror("ai_pipeline: pipe");
			return 1;
		}
		*x = (struct noise){ .rfd = b[0], .wfd = a[1], .leader = true };
		*y = (struct noise){ .rfd = a[0], .wfd = b[1] };
	}
	pthread_barrier_wait(&sh->ready);
	for (unsigned int i = 0; i < nr_noise; i++) {
		void *(*fn)(void *) = i < cfg.hogs ? hog_main : churn_main;

		if (pthread_create(&noise[i].thr, NULL, fn, &noise[i])) {
			fprintf(stderr, "ai_pipeline: noise thread %u: cannot start\n", i);
			return 1;
		}
	}
	for (unsigned int i = 0; i < nr_loaders; i++)
		if (lds[i].err) {
			fprintf(stderr, "ai_pipeline: loader %u: cannot start: %s\n",
				i, strerror(lds[i].err));
			return 1;
		}

	atomic_store(&sh->phase, PH_WARMUP);
	sleep_until(mono_ns() + (uint64_t)cfg.warmup_s * NSEC_PER_SEC);

	stat_snapshot(st0);
	getrusage(RUSAGE_SELF, &ru0);
	for (unsigned int i = 0; i < nr_loaders; i++)
		lds[i].migr_start = thread_migrations(lds[i].tid);
	t_start = mono_ns();
	atomic_store(&sh->measure_start_ns, t_start);
	atomic_store(&sh->phase, PH_MEASURE);
	/* The second half: homes and memory have had their time to settle. */
	sleep_until(t_start + (uint64_t)cfg.duration_s * NSEC_PER_SEC / 2);
	atomic_store(&sh->late, 1);
	sleep_until(t_start + (uint64_t)cfg.duration_s * NSEC_PER_SEC);
	for (unsigned int i = 0; i < nr_loaders; i++)
		lds[i].migr_end = thread_migrations(lds[i].tid);
	t_end = mono_ns();
	atomic_store(&sh->phase, PH_STOP);
	getrusage(RUSAGE_SELF, &ru1);
	stat_snapshot(st1);

	for (int d = 0; d < topo.nr_nodes; d++) {
		/* A launcher asleep in its futex wait notices the stop on its timeout; speed that up. */
		atomic_store(&lns[d].sleeping, 0);
		futex(&lns[d].sleeping, FUTEX_WAKE | futex_private, 1, NULL);
	}
	for (unsigned int i = 0; i < nr_loaders; i++) {
		if (!cfg.loader_procs)
			pthread_join(lds[i].thr, NULL);
		else
			while (waitpid(lds[i].pid, NULL, 0) < 0 && errno == EINTR)
				;
	}
	for (int d = 0; d < topo.nr_nodes; d++)
		pthread_join(lns[d].thr, NULL);
	for (unsigned int i = 0; i < nr_noise; i++) {
		pthread_join(noise[i].thr, NULL);
		r.noise_ops += noise[i].ops;
	}

	r.secs = (double)(t_end - t_start) / 1e9;
	{
		uint64_t placed = 0, placed_tot = 0, moved = 0, compute = 0, local = 0;
		uint64_t warm_s = 0, warm_l = 0, late_s = 0, late_l = 0;
		uint64_t node_local[PL_MAX_NODES] = { 0 }, node_samples[PL_MAX_NODES] = { 0 };
		uint64_t gap_limit = (uint64_t)cfg.stall_ms * 1000000, max_gap = 0;
		long long migr = 0;

		for (unsigned int i = 0; i < nr_loaders; i++) {
			struct loader *l = &lds[i];
			uint64_t gap = l->max_gap_ns, since = l->last_done_ns;

			/* The silence after its last batch counts too. */
			if (since < t_start)
				since = t_start;
			if (t_end > since && t_end - since > gap)
				gap = t_end - since;
			if (gap > max_gap)
				max_gap = gap;
			r.stalls += gap > gap_limit;
			r.loader_batches += l->batches;
			r.samples += l->samples;
			local += l->local;
			warm_s += l->warm_samples;
			warm_l += l->warm_local;
			late_s += l->late_samples;
			late_l += l->late_local;
			r.xnode += l->xnode;
			placed += l->placed_local;
			placed_tot += l->placed_total;
			moved += l->home_moved;
			compute += l->compute_ns;
			node_local[l->node] += l->local;
			node_samples[l->node] += l->samples;
			r.node_batches[l->node] += l->batches;
			if (migr >= 0 && l->migr_start >= 0 && l->migr_end >= 0)
				migr += l->migr_end - l->migr_start;
			else
				migr = -1;
		}
		r.locality = pct(local, r.samples);
		r.warm_locality = pct(warm_l, warm_s);
		r.late_locality = pct(late_l, late_s);
		r.placement = pct(placed, placed_tot);
		r.home_moved = pct(moved, r.loader_batches);
		r.batch_ms = r.loader_batches ? (double)compute / (double)r.loader_batches / 1e6 : 0;
		r.max_gap_ms = (double)max_gap / 1e6;
		r.migrations = migr;
		for (int d = 0; d < topo.nr_nodes; d++)
			r.node_locality[d] = pct(node_local[d], node_samples[d]);
	}
	{
		uint64_t s = 0, l = 0;
		size_t n = 0;

		for (int d = 0; d < topo.nr_nodes; d++) {
			r.batches += lns[d].batches;
			s += lns[d].samples;
			l += lns[d].local;
			n += lns[d].nr_lat;
			r.lat_dropped += lns[d].dropped;
		}
		r.ln_locality = pct(l, s);
		all = malloc((n ? n : 1) * sizeof(*all));
		if (!all) {
			fprintf(stderr, "ai_pipeline: out of memory\n");
			return 1;
		}
		r.lat_n = n;
		for (int wp = 0; wp < NR_WAKE_PATHS + NR_WAKE_KINDS; wp++) {
			bool kind = wp >= NR_WAKE_PATHS;
			int want = kind ? wp - NR_WAKE_PATHS : wp;
			size_t k = 0;

			for (int d = 0; d < topo.nr_nodes; d++)
				for (size_t i = 0; i < lns[d].nr_lat; i++)
					if ((kind ? lns[d].lat_path[i] >> 4 : lns[d].lat_path[i] & 15) == want)
						all[k++] = lns[d].lat[i];
			pl_sort_u64(all, k);
			(kind ? &r.kind[want] : &r.path[want])->pct = pct(k, n);
			(kind ? &r.kind[want] : &r.path[want])->p50 = pl_percentile(all, k, 50);
			(kind ? &r.kind[want] : &r.path[want])->p99 = pl_percentile(all, k, 99);
		}
		n = 0;
		for (int d = 0; d < topo.nr_nodes; d++) {
			memcpy(all + n, lns[d].lat, lns[d].nr_lat * sizeof(*all));
			n += lns[d].nr_lat;
		}
		pl_sort_u64(all, n);
		r.p50 = pl_percentile(all, n, 50);
		r.p99 = pl_percentile(all, n, 99);
		r.max = pl_percentile(all, n, 100);
		free(all);
	}
	r.throughput = r.secs > 0 ? (double)r.batches / r.secs : 0;
	{
		uint64_t busy = 0, total = 0, nb[PL_MAX_NODES] = { 0 }, nt[PL_MAX_NODES] = { 0 };
		double used;

		for (int c = 0; c < PL_MAX_CPUS; c++) {
			int d = topo.cpu_node[c];
			uint64_t b, t;

			if (!CPU_ISSET(c, &topo.online) || st1[c].total < st0[c].total)
				continue;
			b = st1[c].busy - st0[c].busy;
			t = st1[c].total - st0[c].total;
			busy += b;
			total += t;
			if (d >= 0) {
				nb[d] += b;
				nt[d] += t;
			}
		}
		r.util = pct(busy, total);
		for (int d = 0; d < topo.nr_nodes; d++)
			r.node_util[d] = pct(nb[d], nt[d]);
		used = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec + ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
		       (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec + ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
		r.proc_cpu = r.secs > 0 ? 100.0 * used / (r.secs * topo.nr_cpus) : 0;
	}
	print_results(&r, nr_loaders);
	return 0;
}
