// SPDX-License-Identifier: GPL-2.0
/*
 * wakebench: wakeup latency of many short requests, in the manner of
 * schbench. Each message thread, per request, wakes its worker threads
 * (one futex each), then sleeps until the last of them is done; a worker
 * does a little work and goes back to sleep. What a scheduler is judged on
 * is how long a woken worker waits before it runs (from the futex_wake to
 * its first instruction) and how many requests get through per second.
 *
 * Where the threads live matters as much on a NUMA machine: a worker on
 * another node than its message thread pays a cross-node wake each
 * request. --cross-start MS starts every message thread on one node and its
 * workers on the next, pinned for MS ms, then lets them all run free: the
 * worst layout a scheduler that keeps homes where threads first ran can
 * inherit. same_node_pct says how many worker runs after that were on their
 * message thread's node. --gather-start MS starts every thread on the first
 * node instead: the layout where the groups fit by average load but queue
 * behind each other; group_nodes counts the nodes the groups' workers then
 * mostly ran on (each group's most used node, distinct ones counted).
 *
 *   wakebench [-m MSG] [-w WORKERS] [-d SECONDS] [--work-us US]
 *             [--cross-start MS | --gather-start MS] [-j]
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "pipeline.h"

#define MAX_MSG		64
#define MAX_WORKERS	64
#define MAX_SAMPLES	(1u << 20)	/* per worker; later wakes are counted, not kept */
#define MAX_CPUS	1024
#define MAX_NODES	64

struct msg;

struct worker {
	_Atomic uint32_t go;		/* futex word: 1 once a request is posted */
	_Atomic uint64_t wake_ns;	/* when its message thread called futex_wake */
	_Atomic int waker_cpu;		/* ... and on which CPU */
	struct msg *m;
	pthread_t thr;
	uint64_t *lat;
	size_t nr_lat, dropped;
	uint64_t done, on_waker;	/* requests, and those it ran on its waker's CPU */
	uint64_t free_runs, same_node;	/* runs after --cross-start, and those on its waker's node */
	uint64_t node_runs[MAX_NODES];	/* runs after it, by dense node */
	int start_node;			/* dense node it starts pinned to (--cross-start) */
};

struct msg {
	_Atomic uint32_t pending;	/* futex word: workers not yet done */
	struct worker *w;
	pthread_t thr;
	uint64_t requests;
	int start_node;
};

static unsigned int nr_msg = 2, nr_workers = 4, duration_s = 5, work_us = 50, cross_ms, gather_ms;
static bool json;
static _Atomic bool stop;
static volatile uint64_t sink;

/* CPU -> dense node (-1: none), the nodes' CPUs, and when --cross-start ends. */
static int cpu_node[MAX_CPUS];
static cpu_set_t node_cpus[MAX_NODES], all_cpus;
static int nr_nodes;
static uint64_t free_ns;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static long futex(_Atomic uint32_t *uaddr, int op, uint32_t val)
{
	/* The timeout lets a sleeper notice the stop even if its wake was lost. */
	const struct timespec to = { 0, 100 * 1000 * 1000 };

	return syscall(SYS_futex, (uint32_t *)uaddr, op, val, op == FUTEX_WAIT_PRIVATE ? &to : NULL, NULL, 0);
}

/* The request's work: @us of CPU time spent on a dependency chain. */
static void work(unsigned int us)
{
	uint64_t end = mono_ns() + (uint64_t)us * 1000, acc = 1;

	while (mono_ns() < end)
		for (int i = 0; i < 256; i++)
			acc = acc * 0x9e3779b97f4a7c15ULL + 1;
	sink ^= acc;
}

/*
 * Each online CPU's node from its sysfs "nodeN" link, numbered densely in the
 * order nodes are met. Without NUMA in sysfs every CPU is node 0.
 */
static void read_nodes(void)
{
	int ids[MAX_NODES];

	CPU_ZERO(&all_cpus);
	if (sched_getaffinity(0, sizeof(all_cpus), &all_cpus))
		CPU_ZERO(&all_cpus);
	for (int c = 0; c < MAX_CPUS; c++) {
		char path[64];
		struct dirent *e;
		DIR *d;
		int id = -1;

		cpu_node[c] = -1;
		if (!CPU_ISSET(c, &all_cpus))
			continue;
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d", c);
		d = opendir(path);
		while (d && (e = readdir(d)) != NULL)
			if (!strncmp(e->d_name, "node", 4) && e->d_name[4] >= '0' && e->d_name[4] <= '9')
				id = atoi(e->d_name + 4);
		if (d)
			closedir(d);
		if (id < 0)
			id = 0;
		for (int n = 0; n < nr_nodes && cpu_node[c] < 0; n++)
			if (ids[n] == id)
				cpu_node[c] = n;
		if (cpu_node[c] < 0 && nr_nodes < MAX_NODES) {
			ids[nr_nodes] = id;
			CPU_ZERO(&node_cpus[nr_nodes]);
			cpu_node[c] = nr_nodes++;
		}
		if (cpu_node[c] >= 0)
			CPU_SET(c, &node_cpus[cpu_node[c]]);
	}
}

static int node_of(int cpu)
{
	return cpu >= 0 && cpu < MAX_CPUS ? cpu_node[cpu] : -1;
}

/* --cross-start: pinned to @node until free_ns, then free; true once free. */
static bool cross_free(int node, bool *freed)
{
	if (*freed)
		return true;
	if (node < 0 || mono_ns() >= free_ns) {
		if (node >= 0)
			sched_setaffinity(0, sizeof(all_cpus), &all_cpus);
		*freed = true;
	}
	return *freed;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	bool freed = false;

	w->lat = malloc(MAX_SAMPLES * sizeof(*w->lat));
	while (!atomic_load(&stop)) {
		uint64_t now;
		int cpu;

		if (atomic_load(&w->go) == 0) {
			futex(&w->go, FUTEX_WAIT_PRIVATE, 0);
			continue;
		}
		now = mono_ns();
		if (w->lat && w->nr_lat < MAX_SAMPLES)
			w->lat[w->nr_lat++] = now - atomic_load(&w->wake_ns);
		else
			w->dropped++;
		/* Did the wake queue it behind its waker? Tells hand-offs from spreading. */
		cpu = sched_getcpu();
		w->on_waker += cpu == atomic_load(&w->waker_cpu);
		if (cross_free(w->start_node, &freed)) {
			int node = node_of(cpu);

			w->free_runs++;
			w->same_node += node == node_of(atomic_load(&w->waker_cpu));
			if (node >= 0)
				w->node_runs[node]++;
		}
		atomic_store(&w->go, 0);
		work(work_us);
		w->done++;
		if (atomic_fetch_sub(&w->m->pending, 1) == 1)
			futex(&w->m->pending, FUTEX_WAKE_PRIVATE, 1);
	}
	return NULL;
}

static void *msg_main(void *arg)
{
	struct msg *m = arg;
	bool freed = false;

	while (!atomic_load(&stop)) {
		uint32_t p;

		cross_free(m->start_node, &freed);

		atomic_store(&m->pending, nr_workers);
		for (unsigned int i = 0; i < nr_workers; i++) {
			struct worker *w = &m->w[i];

			atomic_store(&w->waker_cpu, sched_getcpu());
			atomic_store(&w->wake_ns, mono_ns());
			atomic_store(&w->go, 1);
			futex(&w->go, FUTEX_WAKE_PRIVATE, 1);
		}
		while ((p = atomic_load(&m->pending)) != 0 && !atomic_load(&stop))
			futex(&m->pending, FUTEX_WAIT_PRIVATE, p);
		m->requests++;
	}
	return NULL;
}

/* How many distinct nodes the groups' workers mostly ran on (each group's most used). */
static unsigned int count_group_nodes(const struct msg *msgs)
{
	bool used[MAX_NODES] = { false };
	unsigned int n = 0;

	for (unsigned int i = 0; i < nr_msg; i++) {
		uint64_t runs[MAX_NODES] = { 0 };
		int best = -1;

		for (unsigned int k = 0; k < nr_workers; k++)
			for (int d = 0; d < nr_nodes && d < MAX_NODES; d++)
				runs[d] += msgs[i].w[k].node_runs[d];
		for (int d = 0; d < nr_nodes && d < MAX_NODES; d++)
			if (runs[d] && (best < 0 || runs[d] > runs[best]))
				best = d;
		if (best >= 0 && !used[best]) {
			used[best] = true;
			n++;
		}
	}
	return n;
}

/* A thread pinned to dense @node from its first instruction (-1: free). */
static int start(pthread_t *thr, int node, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	int ret;

	if (node < 0)
		return pthread_create(thr, NULL, fn, arg);
	pthread_attr_init(&attr);
	pthread_attr_setaffinity_np(&attr, sizeof(cpu_set_t), &node_cpus[node]);
	ret = pthread_create(thr, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return ret;
}

static int parse_num(const char *opt, const char *s, unsigned int lo, unsigned int hi, unsigned int *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = s && *s >= '0' && *s <= '9' ? strtoul(s, &end, 10) : 0;
	if (!s || *s < '0' || *s > '9' || *end || errno || v < lo || v > hi) {
		fprintf(stderr, "wakebench: %s: '%s' is not a number in %u..%u\n", opt, s ? s : "", lo, hi);
		return -1;
	}
	*out = (unsigned int)v;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: wakebench [-m MSG] [-w WORKERS] [-d SECONDS] [--work-us US] [--cross-start MS | --gather-start MS] [-j]\n"
		   "  -m, --msg-threads N   message threads (1-%d, default 2)\n"
		   "  -w, --workers N       workers per message thread (1-%d, default 4)\n"
		   "  -d, --duration S      seconds (1-3600, default 5)\n"
		   "      --work-us US      work per request per worker (0-100000, default 50)\n"
		   "      --cross-start MS  start each message thread on one node and its workers on\n"
		   "                        the next, pinned for MS ms (1-60000), then free\n"
		   "      --gather-start MS start every thread on the first node, then free\n"
		   "  -j, --json            one JSON object on stdout\n",
		MAX_MSG, MAX_WORKERS);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "msg-threads", required_argument, NULL, 'm' },
		{ "workers", required_argument, NULL, 'w' },
		{ "duration", required_argument, NULL, 'd' },
		{ "work-us", required_argument, NULL, 'u' },
		{ "cross-start", required_argument, NULL, 'c' },
		{ "gather-start", required_argument, NULL, 'g' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct msg *msgs;
	uint64_t t0, t1, requests = 0, n = 0, dropped = 0, done = 0, on_waker = 0, *all;
	uint64_t free_runs = 0, same_node = 0;
	unsigned int group_nodes;
	double secs;
	int opt;

	while ((opt = getopt_long(argc, argv, "m:w:d:jh", lopts, NULL)) != -1) {
		int bad = 0;

		switch (opt) {
		case 'm': bad = parse_num("--msg-threads", optarg, 1, MAX_MSG, &nr_msg); break;
		case 'w': bad = parse_num("--workers", optarg, 1, MAX_WORKERS, &nr_workers); break;
		case 'd': bad = parse_num("--duration", optarg, 1, 3600, &duration_s); break;
		case 'u': bad = parse_num("--work-us", optarg, 0, 100000, &work_us); break;
		case 'c': bad = parse_num("--cross-start", optarg, 1, 60000, &cross_ms); break;
		case 'g': bad = parse_num("--gather-start", optarg, 1, 60000, &gather_ms); break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		if (bad)
			return 2;
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (cross_ms && gather_ms) {
		fprintf(stderr, "wakebench: --cross-start and --gather-start exclude each other\n");
		return 2;
	}
	read_nodes();
	/* One node: nothing to cross or gather. */
	if (nr_nodes < 2)
		cross_ms = gather_ms = 0;
	free_ns = mono_ns() + (uint64_t)(cross_ms + gather_ms) * 1000000;
	msgs = calloc(nr_msg, sizeof(*msgs));
	if (!msgs)
		return 1;
	for (unsigned int i = 0; i < nr_msg; i++) {
		msgs[i].w = calloc(nr_workers, sizeof(*msgs[i].w));
		if (!msgs[i].w)
			return 1;
		msgs[i].start_node = cross_ms ? (int)(i % nr_nodes) : gather_ms ? 0 : -1;
		for (unsigned int k = 0; k < nr_workers; k++) {
			msgs[i].w[k].m = &msgs[i];
			msgs[i].w[k].start_node = cross_ms ? (int)((i + 1) % nr_nodes) : gather_ms ? 0 : -1;
			if (start(&msgs[i].w[k].thr, msgs[i].w[k].start_node, worker_main, &msgs[i].w[k])) {
				fprintf(stderr, "wakebench: cannot start a worker\n");
				return 1;
			}
		}
	}
	t0 = mono_ns();
	for (unsigned int i = 0; i < nr_msg; i++)
		if (start(&msgs[i].thr, msgs[i].start_node, msg_main, &msgs[i])) {
			fprintf(stderr, "wakebench: cannot start a message thread\n");
			return 1;
		}
	sleep(duration_s);
	atomic_store(&stop, true);
	t1 = mono_ns();
	for (unsigned int i = 0; i < nr_msg; i++) {
		/* Whoever still sleeps sees the stop on its wake or its timeout. */
		atomic_store(&msgs[i].pending, 0);
		futex(&msgs[i].pending, FUTEX_WAKE_PRIVATE, 1);
		pthread_join(msgs[i].thr, NULL);
		for (unsigned int k = 0; k < nr_workers; k++) {
			atomic_store(&msgs[i].w[k].go, 1);
			futex(&msgs[i].w[k].go, FUTEX_WAKE_PRIVATE, 1);
			pthread_join(msgs[i].w[k].thr, NULL);
			n += msgs[i].w[k].nr_lat;
			dropped += msgs[i].w[k].dropped;
			done += msgs[i].w[k].done;
			on_waker += msgs[i].w[k].on_waker;
			free_runs += msgs[i].w[k].free_runs;
			same_node += msgs[i].w[k].same_node;
		}
		requests += msgs[i].requests;
	}
	group_nodes = count_group_nodes(msgs);
	all = malloc((n ? n : 1) * sizeof(*all));
	if (!all)
		return 1;
	n = 0;
	for (unsigned int i = 0; i < nr_msg; i++)
		for (unsigned int k = 0; k < nr_workers; k++) {
			memcpy(all + n, msgs[i].w[k].lat, msgs[i].w[k].nr_lat * sizeof(*all));
			n += msgs[i].w[k].nr_lat;
		}
	pl_sort_u64(all, n);
	secs = (double)(t1 - t0) / 1e9;
	if (json)
		printf("{\"bench\":\"wakebench\",\"msg_threads\":%u,\"workers\":%u,\"work_us\":%u,"
		       "\"duration_s\":%.3f,\"requests\":%" PRIu64 ",\"requests_per_s\":%.3f,"
		       "\"on_waker_cpu_pct\":%.3f,\"same_node_pct\":%.3f,\"cross_start_ms\":%u,\"gather_start_ms\":%u,\"group_nodes\":%u,"
		       "\"wake_lat_us\":{\"count\":%" PRIu64 ",\"dropped\":%" PRIu64 ",\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f}}\n",
		       nr_msg, nr_workers, work_us, secs, requests, requests / secs,
		       done ? 100.0 * (double)on_waker / (double)done : 0.0,
		       free_runs ? 100.0 * (double)same_node / (double)free_runs : 0.0, cross_ms, gather_ms, group_nodes,
		       n, dropped,
		       pl_percentile(all, n, 50) / 1e3, pl_percentile(all, n, 99) / 1e3,
		       pl_percentile(all, n, 100) / 1e3);
	else
		printf("wakebench: %u message threads x %u workers, %u us work: %.1f requests/s, "
		       "wakeup p50 %.1f us, p99 %.1f us, max %.1f us (%" PRIu64 " wakes, %.1f%% on the waker's CPU, "
		       "%.1f%% on its node)\n",
		       nr_msg, nr_workers, work_us, requests / secs, pl_percentile(all, n, 50) / 1e3,
		       pl_percentile(all, n, 99) / 1e3, pl_percentile(all, n, 100) / 1e3, n,
		       done ? 100.0 * (double)on_waker / (double)done : 0.0,
		       free_runs ? 100.0 * (double)same_node / (double)free_runs : 0.0);
	return 0;
}
