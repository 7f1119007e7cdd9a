// SPDX-License-Identifier: GPL-2.0
/*
 * gpu-worker: a stand-in for a training process, for the GPU placement VM
 * test. It optionally holds device nodes open (as a CUDA or ROCm process
 * holds every GPU it can see), runs CPU-bound threads, and measures how
 * much of each thread's own run time it spent on each NUMA node. With
 * --fork it first forks a worker (as a DataLoader does) that inherits the
 * open nodes and does the same; each prints its own lines, which carry its
 * pid.
 *
 *   gpu-worker [--open DEV]... [--fork] [--threads N] [--seconds S]
 *
 * Threads start on the CPUs the worker was started on (taskset), so their
 * home is decided there; then every thread is allowed on every CPU and the
 * scheduler decides. "ready" is printed; SIGUSR1 starts the measurement,
 * which lasts S seconds, then one line per thread and a total:
 *
 *   thread=1 node0_ms=12 node1_ms=3988
 *   total threads=2 node0_ms=30 node1_ms=7970 pct_node0=0 pct_node1=99 pid=123
 *
 * Run time is the thread's CPU clock, attributed to the node of the CPU it
 * runs on (sched_getcpu), sampled in a tight loop: the error is one loop
 * iteration per migration.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

#define MAX_CPUS	1024
#define MAX_NODES	64
#define MAX_THREADS	64

static int cpu_node[MAX_CPUS];
static int nr_nodes;
static atomic_int measuring, done;

struct worker {
	pthread_t th;
	pid_t tid;
	atomic_int started;
	uint64_t ns[MAX_NODES];
};

static struct worker workers[MAX_THREADS];

static uint64_t thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* cpu -> node from /sys/devices/system/node/nodeN/cpulist. */
static void read_nodes(void)
{
	for (int c = 0; c < MAX_CPUS; c++)
		cpu_node[c] = -1;
	for (int n = 0; n < MAX_NODES; n++) {
		char path[96], buf[4096], *p;
		FILE *f;

		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/cpulist", n);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
		nr_nodes = n + 1;
		for (p = strtok(buf, ",\n"); p; p = strtok(NULL, ",\n")) {
			int a, b;

			if (sscanf(p, "%d-%d", &a, &b) != 2)
				b = a = atoi(p);
			for (int c = a; c <= b && c >= 0 && c < MAX_CPUS; c++)
				cpu_node[c] = n;
		}
	}
}

static void *spin(void *arg)
{
	struct worker *w = arg;
	uint64_t last = thread_ns(), now;
	int was = 0;

	w->tid = (pid_t)syscall(SYS_gettid);
	atomic_store(&w->started, 1);
	while (!atomic_load_explicit(&done, memory_order_relaxed)) {
		int cpu = sched_getcpu(), on = atomic_load_explicit(&measuring, memory_order_relaxed);

		now = thread_ns();
		/* Time before the start signal is not counted. */
		if (on && was && cpu >= 0 && cpu < MAX_CPUS && cpu_node[cpu] >= 0)
			w->ns[cpu_node[cpu]] += now - last;
		was = on;
		last = now;
	}
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
	atomic_store(&measuring, 1);
}

int main(int argc, char **argv)
{
	const char *dev[4] = { NULL };
	int threads = 2, seconds = 4, fd[4] = { -1, -1, -1, -1 }, ndev = 0;
	bool fork_worker = false;
	uint64_t total[MAX_NODES] = { 0 }, sum = 0;
	struct sigaction sa = { .sa_handler = on_usr1 };
	cpu_set_t all;
	struct timespec ts;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--open") && i + 1 < argc && ndev < 4)
			dev[ndev++] = argv[++i];
		else if (!strcmp(argv[i], "--fork"))
			fork_worker = true;
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			threads = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: gpu-worker [--open DEV]... [--fork] [--threads N] [--seconds S]\n");
			return 2;
		}
	}
	if (threads < 1 || threads > MAX_THREADS || seconds < 1) {
		fprintf(stderr, "gpu-worker: 1..%d threads, seconds >= 1\n", MAX_THREADS);
		return 2;
	}
	read_nodes();
	if (!nr_nodes) {
		fprintf(stderr, "gpu-worker: no NUMA node in sysfs\n");
		return 1;
	}
	for (int i = 0; i < ndev; i++) {
		fd[i] = open(dev[i], O_RDWR | O_CLOEXEC);
		if (fd[i] < 0) {
			fprintf(stderr, "gpu-worker: %s: %s\n", dev[i], strerror(errno));
			return 1;
		}
	}
	/* The worker inherits the open nodes and runs the same threads: a DataLoader worker. */
	fflush(stdout);
	if (fork_worker && fork() < 0) {
		fprintf(stderr, "gpu-worker: fork: %s\n", strerror(errno));
		return 1;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);

	for (int i = 0; i < threads; i++) {
		if (pthread_create(&workers[i].th, NULL, spin, &workers[i])) {
			fprintf(stderr, "gpu-worker: pthread_create failed\n");
			return 1;
		}
	}
	for (int i = 0; i < threads; i++)
		while (!atomic_load(&workers[i].started))
			usleep(1000);
	/* Let the threads settle where they started, then let the scheduler move them. */
	usleep(300000);
	CPU_ZERO(&all);
	for (int c = 0; c < MAX_CPUS && c < CPU_SETSIZE; c++)
		CPU_SET(c, &all);
	sched_setaffinity(0, sizeof(all), &all);
	for (int i = 0; i < threads; i++)
		if (sched_setaffinity(workers[i].tid, sizeof(all), &all) < 0)
			fprintf(stderr, "gpu-worker: sched_setaffinity(%d): %s\n", workers[i].tid, strerror(errno));
	printf("ready pid=%d threads=%d dev=%s\n", (int)getpid(), threads, ndev ? dev[0] : "none");
	fflush(stdout);

	while (!atomic_load(&measuring))
		pause();
	ts.tv_sec = seconds;
	ts.tv_nsec = 0;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	atomic_store(&done, 1);
	for (int i = 0; i < threads; i++) {
		pthread_join(workers[i].th, NULL);
		printf("thread=%d", i + 1);
		for (int n = 0; n < nr_nodes; n++) {
			printf(" node%d_ms=%llu", n, (unsigned long long)(workers[i].ns[n] / 1000000));
			total[n] += workers[i].ns[n];
			sum += workers[i].ns[n];
		}
		printf("\n");
	}
	printf("total threads=%d", threads);
	for (int n = 0; n < nr_nodes; n++)
		printf(" node%d_ms=%llu", n, (unsigned long long)(total[n] / 1000000));
	for (int n = 0; n < nr_nodes; n++)
		printf(" pct_node%d=%llu", n, (unsigned long long)(sum ? total[n] * 100 / sum : 0));
	printf(" pid=%d\n", (int)getpid());
	fflush(stdout);
	for (int i = 0; i < ndev; i++)
		close(fd[i]);
	return 0;
}
