// SPDX-License-Identifier: GPL-2.0
/*
 * mem-worker: a process whose memory is on the wrong node, for the VM
 * scenarios of "memory follows the task". It first-touches a private buffer
 * from a thread running on one node (as a framework's main thread allocates
 * pinned buffers), then runs its worker threads wherever it is told, and
 * reports every second where the buffer's pages are.
 *
 *   mem-worker [--mb N] [--touch-node N] [--bind-node N] [--start-node N]
 *              [--threads T] [--seconds S] [--shared-mb N] [--file PATH]
 *
 *   --touch-node N   first-touch the buffer on node N's CPUs (default 0); a
 *                    node without CPUs (memory only) gets the private buffer
 *                    by a bind policy for the touch, which is then dropped
 *                    so the pages stay only by the scheduler's choice
 *   --threads T      worker threads that keep the buffer in use (default 2;
 *                    0: the process only sleeps, for cost measurements)
 *   --bind-node N    then confine the whole process to node N's CPUs
 *                    (sched_setaffinity of every thread); without it the
 *                    threads may run anywhere
 *   --start-node N   the worker threads start on node N's CPUs (their first
 *                    run there makes it their home), then the process may
 *                    run anywhere at once: it is never seen confined, which
 *                    would make its memory follow that affinity
 *   --shared-mb N    also first-touch a MAP_SHARED|MAP_ANONYMOUS buffer of
 *                    N MB, which a forked child keeps mapped: memory shared
 *                    with another process must not move
 *   --file PATH      also map PATH (MAP_SHARED) and read it: page cache
 *                    must not move
 *
 * It prints "ready pid=PID" once the buffer is touched, then once a second:
 *
 *   t=3 node0=1024 node1=15360 absent=0 pct_node1=93 shared_node0=... file_node0=...
 *
 * where nodeK counts the private buffer's pages on node K (from
 * move_pages(2) with no target: a query, which moves nothing).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define MAX_NODES	64
#define MAX_THREADS	16
#define PAGE		4096UL

static atomic_int stop;
static char *buf, *shbuf, *fbuf;
static size_t buf_len, sh_len, f_len;

static int node_cpus(int node, cpu_set_t *set)
{
	char path[128], list[4096], *p;
	FILE *f;

	CPU_ZERO(set);
	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/cpulist", node);
	f = fopen(path, "r");
	if (!f || !fgets(list, sizeof(list), f)) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	for (p = list; *p && *p != '\n';) {
		long a = strtol(p, &p, 10), b = a;

		if (*p == '-')
			b = strtol(p + 1, &p, 10);
		for (long c = a; c <= b && c < CPU_SETSIZE; c++)
			CPU_SET((int)c, set);
		if (*p == ',')
			p++;
	}
	return CPU_COUNT(set) ? 0 : -1;
}

/* Confine every thread of this process (affinity is per thread). */
static int bind_process(const cpu_set_t *set)
{
	struct dirent *de;
	DIR *d = opendir("/proc/self/task");
	int ret = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && sched_setaffinity(atoi(de->d_name), sizeof(*set), set) < 0)
			ret = -1;
	closedir(d);
	return ret;
}

static void *touch(void *arg)
{
	(void)arg;
	for (size_t i = 0; i < buf_len; i += PAGE)
		buf[i] = 1;
	for (size_t i = 0; i < sh_len; i += PAGE)
		shbuf[i] = 1;
	for (size_t i = 0; i < f_len; i += PAGE)
		(void)*(volatile char *)(fbuf + i);
	return NULL;
}

/* The kernel's mbind(2) modes; no libnuma in the guest. */
#define MPOL_DEFAULT	0
#define MPOL_BIND	2

static int bound = -1;

/* The private buffer's pages go to @node when touched (a node without CPUs). */
static int bind_memory(int node)
{
	unsigned long mask[MAX_NODES / (8 * sizeof(unsigned long))] = { 0 };

	if (node < 0 || node >= MAX_NODES) {
		fprintf(stderr, "mem-worker: node %d is beyond %d\n", node, MAX_NODES - 1);
		return -1;
	}
	mask[node / (8 * sizeof(long))] |= 1UL << (node % (8 * sizeof(long)));
	if (syscall(SYS_mbind, buf, buf_len, MPOL_BIND, mask, MAX_NODES + 1, 0) < 0) {
		perror("mem-worker: mbind");
		return -1;
	}
	bound = node;
	return 0;
}

/* Back to the default policy: only a migration can move the pages now. */
static int unbind_memory(void)
{
	if (bound < 0)
		return 0;
	if (syscall(SYS_mbind, buf, buf_len, MPOL_DEFAULT, NULL, 0, 0) < 0) {
		perror("mem-worker: mbind default");
		return -1;
	}
	bound = -1;
	return 0;
}

/* Keep the buffer in use, as a data loader keeps reading its batches. */
static void *work(void *arg)
{
	size_t i = (size_t)(uintptr_t)arg * PAGE * 7;

	while (!atomic_load(&stop)) {
		for (int k = 0; k < 4096; k++) {
			i = (i + PAGE * 13) % buf_len;
			buf[i]++;
		}
		usleep(200);
	}
	return NULL;
}

/* Where the pages of [p, p+len) are; counts[MAX_NODES] is "not resident". */
static void where(const char *p, size_t len, long counts[MAX_NODES + 1])
{
	static void *addrs[1024];
	static int status[1024];

	memset(counts, 0, sizeof(long) * (MAX_NODES + 1));
	for (size_t off = 0; off < len;) {
		unsigned long n = 0;

		for (; n < 1024 && off < len; off += PAGE)
			addrs[n++] = (void *)(p + off);
		if (syscall(SYS_move_pages, 0, n, addrs, NULL, status, 0) < 0) {
			counts[MAX_NODES] += (long)n;
			continue;
		}
		for (unsigned long i = 0; i < n; i++)
			counts[status[i] >= 0 && status[i] < MAX_NODES ? status[i] : MAX_NODES]++;
	}
}

static void print_where(const char *name, const char *p, size_t len)
{
	long c[MAX_NODES + 1];

	if (!p)
		return;
	where(p, len, c);
	for (int n = 0; n < MAX_NODES; n++)
		if (c[n] || n < 2)
			printf(" %snode%d=%ld", name, n, c[n]);
}

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&stop, 1);
}

int main(int argc, char **argv)
{
	int touch_node = 0, bind_node = -1, start_node = -1, threads = 2, seconds = 30;
	size_t mb = 64, sh_mb = 0;
	const char *file = NULL;
	pthread_t th[MAX_THREADS], t;
	pthread_attr_t attr;
	cpu_set_t set, all;
	pid_t child = -1;

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v) {
			fprintf(stderr, "mem-worker: %s needs a value\n", argv[i]);
			return 2;
		}
		if (!strcmp(argv[i], "--mb"))
			mb = strtoul(v, NULL, 10);
		else if (!strcmp(argv[i], "--touch-node"))
			touch_node = atoi(v);
		else if (!strcmp(argv[i], "--bind-node"))
			bind_node = atoi(v);
		else if (!strcmp(argv[i], "--start-node"))
			start_node = atoi(v);
		else if (!strcmp(argv[i], "--threads"))
			threads = atoi(v);
		else if (!strcmp(argv[i], "--seconds"))
			seconds = atoi(v);
		else if (!strcmp(argv[i], "--shared-mb"))
			sh_mb = strtoul(v, NULL, 10);
		else if (!strcmp(argv[i], "--file"))
			file = v;
		else {
			fprintf(stderr, "mem-worker: unknown option %s\n", argv[i]);
			return 2;
		}
		i++;
	}
	if (threads < 0 || threads > MAX_THREADS || !mb) {
		fprintf(stderr, "mem-worker: bad --threads or --mb\n");
		return 2;
	}
	buf_len = mb << 20;
	buf = mmap(NULL, buf_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* Small pages: a huge page moves as one, which would blur the counts. */
	if (buf == MAP_FAILED || madvise(buf, buf_len, MADV_NOHUGEPAGE) < 0) {
		perror("mem-worker: mmap");
		return 1;
	}
	if (sh_mb) {
		sh_len = sh_mb << 20;
		shbuf = mmap(NULL, sh_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (shbuf == MAP_FAILED) {
			perror("mem-worker: mmap shared");
			return 1;
		}
	}
	if (file) {
		struct stat st;
		int fd = open(file, O_RDONLY);

		if (fd < 0 || fstat(fd, &st) < 0 || !st.st_size) {
			perror("mem-worker: file");
			return 1;
		}
		f_len = (size_t)st.st_size & ~(PAGE - 1);
		fbuf = mmap(NULL, f_len, PROT_READ, MAP_SHARED, fd, 0);
		close(fd);
		if (fbuf == MAP_FAILED) {
			perror("mem-worker: mmap file");
			return 1;
		}
	}
	/* First touch from a thread of the touch node: that is where the kernel puts the pages. */
	if (node_cpus(touch_node, &set) < 0) {
		/* No CPUs: mbind refuses a node that is not online. */
		if (bind_memory(touch_node) < 0)
			return 1;
		if (sched_getaffinity(0, sizeof(set), &set) < 0) {
			perror("mem-worker: sched_getaffinity");
			return 1;
		}
	}
	pthread_attr_init(&attr);
	pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	if (pthread_create(&t, &attr, touch, NULL) || pthread_join(t, NULL)) {
		fprintf(stderr, "mem-worker: touch thread failed\n");
		return 1;
	}
	if (unbind_memory() < 0)
		return 1;
	if (sh_mb) {
		/* A second process maps the shared buffer: its pages have two users. */
		child = fork();
		if (child == 0) {
			for (;;)
				pause();
		}
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	/* New threads take the affinity of the thread that creates them. */
	if (start_node >= 0 && (sched_getaffinity(0, sizeof(all), &all) < 0 || node_cpus(start_node, &set) < 0 ||
				sched_setaffinity(0, sizeof(set), &set) < 0)) {
		fprintf(stderr, "mem-worker: starting on node %d failed\n", start_node);
		return 1;
	}
	for (int i = 0; i < threads; i++)
		if (pthread_create(&th[i], NULL, work, (void *)(uintptr_t)i)) {
			fprintf(stderr, "mem-worker: thread failed\n");
			return 1;
		}
	if (start_node >= 0) {
		usleep(10000);	/* each has run once */
		if (bind_process(&all) < 0) {
			fprintf(stderr, "mem-worker: widening from node %d failed\n", start_node);
			return 1;
		}
	}
	if (bind_node >= 0) {
		if (node_cpus(bind_node, &set) < 0 || bind_process(&set) < 0) {
			fprintf(stderr, "mem-worker: binding to node %d failed\n", bind_node);
			return 1;
		}
	}
	printf("ready pid=%d\n", (int)getpid());
	fflush(stdout);
	for (int s = 1; s <= seconds && !atomic_load(&stop); s++) {
		long c[MAX_NODES + 1];
		long resident = 0;

		sleep(1);
		where(buf, buf_len, c);
		for (int n = 0; n < MAX_NODES; n++)
			resident += c[n];
		printf("t=%d", s);
		print_where("", buf, buf_len);
		printf(" absent=%ld", c[MAX_NODES]);
		if (bind_node >= 0)
			printf(" pct_node%d=%ld", bind_node, resident ? c[bind_node] * 100 / resident : 0);
		print_where("shared_", shbuf, sh_len);
		print_where("file_", fbuf, f_len);
		printf("\n");
		fflush(stdout);
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	return 0;
}
