// SPDX-License-Identifier: GPL-2.0
/*
 * dsqlock: how long the sched_ext dispatch queues' locks are waited for and
 * held while a command runs (bench/dsqlock.bpf.c), as one JSON object.
 *
 *   dsqlock [--pair-calls N] -- COMMAND [ARG...]
 *   dsqlock --pair-only [--pair-calls N]
 *
 * Attaches the tracer, runs COMMAND (counting the machine's context switches
 * meanwhile, /proc/stat ctxt), then calls getppid() N times (20,000)
 * with the tracer still attached to time the probe's own cost (the "pair"
 * histogram), and prints: the run's seconds, getppid's round trip before
 * attaching and while attached, per followed lock its DSQ id, acquisitions
 * and how many had to spin, and per kind of figure (bench/dsqlock.h) the
 * count, sum and log histogram (bpf/costprobe.h's buckets).
 *
 * --pair-only loads the yardstick alone: on any kernel with BTF (one
 * without sched_ext, a host that is not emulated) it says what the probe
 * costs there, against which the emulated figures can be scaled.
 *
 * Needs a kernel whose spin unlock is a function (CONFIG_UNINLINE_SPIN_UNLOCK,
 * the Debian sched_ext kernel of tests/vm) and root. Optional parts (the
 * slow-path count, the yardstick, the second DSQ lookup) are dropped when
 * the kernel lacks their function, and the output says which were on.
 */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dsqlock.h"
#include "dsqlock.skel.h"

static const char *const kind_names[DL_NR_KINDS] = {
#define DL_NAME_(id, name, help) name,
	DL_KINDS(DL_NAME_)
#undef DL_NAME_
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* @n getppid() calls; ns per call. */
static double getppid_loop(long n)
{
	double t0 = now_s();

	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	return n > 0 ? (now_s() - t0) * 1e9 / (double)n : 0;
}

static int run(char **argv)
{
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		fprintf(stderr, "dsqlock: fork: %s\n", strerror(errno));
		return -1;
	}
	if (!pid) {
		execvp(argv[0], argv);
		fprintf(stderr, "dsqlock: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The machine's context switches since boot (/proc/stat ctxt), 0 if unreadable. */
static unsigned long long ctxt_now(void)
{
	FILE *f = fopen("/proc/stat", "r");
	char line[256];
	unsigned long long v = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "ctxt %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

struct prog_need {
	struct bpf_program *prog;
	const char *func;	/* the kernel function it attaches to */
	int optional;
	int on;
	int pair;		/* part of the yardstick */
};

#define USAGE "usage: dsqlock [--pair-calls N] -- COMMAND [ARG...]\n       dsqlock --pair-only [--pair-calls N]\n"

static void print_kinds(struct dsqlock *skel, int ncpu)
{
	struct an_cost *v = calloc((size_t)ncpu, sizeof(*v));

	printf(",\"kinds\":[");
	for (unsigned int k = 0; v && k < DL_NR_KINDS; k++) {
		struct an_cost sum = {0};

		if (!bpf_map__lookup_elem(skel->maps.dl_hist, &k, sizeof(k), v, sizeof(*v) * (size_t)ncpu, 0)) {
			for (int c = 0; c < ncpu; c++) {
				sum.ns += v[c].ns;
				sum.cnt += v[c].cnt;
				for (int b = 0; b < AN_COST_BUCKETS; b++)
					sum.hist[b] += v[c].hist[b];
			}
		}
		printf("%s{\"name\":\"%s\",\"cnt\":%llu,\"ns\":%llu,\"hist\":[", k ? "," : "", kind_names[k], sum.cnt,
		       sum.ns);
		for (int b = 0; b < AN_COST_BUCKETS; b++)
			printf("%s%llu", b ? "," : "", sum.hist[b]);
		printf("]}");
	}
	printf("]");
	free(v);
}

static void print_locks(struct dsqlock *skel, int ncpu)
{
	struct dl_count *v = calloc((size_t)ncpu, sizeof(*v));
	unsigned long long key, next, id;
	void *prev = NULL;
	int first = 1;

	printf(",\"locks\":[");
	while (v && !bpf_map__get_next_key(skel->maps.dl_ids, prev, &next, sizeof(next))) {
		struct dl_count sum = {0};

		key = next;
		prev = &key;
		if (bpf_map__lookup_elem(skel->maps.dl_ids, &key, sizeof(key), &id, sizeof(id), 0))
			continue;
		if (!bpf_map__lookup_elem(skel->maps.dl_locks, &key, sizeof(key), v, sizeof(*v) * (size_t)ncpu, 0)) {
			for (int c = 0; c < ncpu; c++) {
				sum.acq += v[c].acq;
				sum.slow += v[c].slow;
			}
		}
		printf("%s{\"id\":%llu,\"acq\":%llu,\"slow\":%llu}", first ? "" : ",", id, sum.acq, sum.slow);
		first = 0;
	}
	printf("]");
	free(v);
}

int main(int argc, char **argv)
{
	long pair_calls = 20000;
	struct dsqlock *skel;
	struct btf *vmlinux;
	double t0, secs, ppid_ns, ppid_traced_ns;
	unsigned long long ctxt0, ctxt;
	int ncpu, rc, argi = 1, pair_only = 0;
	unsigned long long pair_key = DL_PAIR_KEY;

	while (argi < argc && strcmp(argv[argi], "--")) {
		if (!strcmp(argv[argi], "--pair-calls") && argi + 1 < argc) {
			char *end;

			pair_calls = strtol(argv[argi + 1], &end, 10);
			if (*end || pair_calls < 0 || pair_calls > 100000000) {
				fprintf(stderr, "dsqlock: --pair-calls: not a count: %s\n", argv[argi + 1]);
				return 2;
			}
			argi += 2;
		} else if (!strcmp(argv[argi], "--pair-only")) {
			pair_only = 1;
			argi++;
		} else {
			fputs(USAGE, stderr);
			return 2;
		}
	}
	if (pair_only ? argi < argc : argi + 1 >= argc) {
		fputs(USAGE, stderr);
		return 2;
	}
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0) {
		fprintf(stderr, "dsqlock: possible CPUs: %s\n", strerror(-ncpu));
		return 1;
	}
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux) {
		fprintf(stderr, "dsqlock: kernel BTF: %s\n", strerror(errno));
		return 1;
	}
	skel = dsqlock__open();
	if (!skel) {
		fprintf(stderr, "dsqlock: open: %s\n", strerror(errno));
		btf__free(vmlinux);
		return 1;
	}
	struct prog_need need[] = {
		{ skel->progs.dl_find_user_dsq, "find_user_dsq", 0, 0, 0 },
		{ skel->progs.dl_find_dsq_for_dispatch, "find_dsq_for_dispatch", 1, 0, 0 },
		{ skel->progs.dl_lock_enter, "_raw_spin_lock", 0, 0, 0 },
		{ skel->progs.dl_lock_exit, "_raw_spin_lock", 0, 0, 0 },
		{ skel->progs.dl_lock_irq_enter, "_raw_spin_lock_irqsave", 0, 0, 0 },
		{ skel->progs.dl_lock_irq_exit, "_raw_spin_lock_irqsave", 0, 0, 0 },
		{ skel->progs.dl_unlock, "_raw_spin_unlock", 0, 0, 0 },
		{ skel->progs.dl_unlock_irq, "_raw_spin_unlock_irqrestore", 0, 0, 0 },
		{ skel->progs.dl_slowpath, "native_queued_spin_lock_slowpath", 1, 0, 0 },
		{ skel->progs.dl_pair_enter, "__do_sys_getppid", 1, 0, 1 },
		{ skel->progs.dl_pair_exit, "__do_sys_getppid", 1, 0, 1 },
	};
	const size_t nneed = sizeof(need) / sizeof(need[0]);

	for (size_t i = 0; i < nneed; i++) {
		if (pair_only)
			need[i].optional = !need[i].pair;
		need[i].on = (!pair_only || need[i].pair) &&
			     btf__find_by_name_kind(vmlinux, need[i].func, BTF_KIND_FUNC) > 0;
		if (!need[i].on && !need[i].optional) {
			fprintf(stderr, "dsqlock: the kernel has no function %s to trace (an inlined spinlock or another sched_ext)\n",
				need[i].func);
			rc = 1;
			goto out;
		}
		bpf_program__set_autoload(need[i].prog, need[i].on);
	}
	rc = dsqlock__load(skel);
	if (rc) {
		fprintf(stderr, "dsqlock: load: %s\n", strerror(-rc));
		rc = 1;
		goto out;
	}
	{
		struct dl_count *zero = calloc((size_t)ncpu, sizeof(*zero));

		rc = zero ? bpf_map__update_elem(skel->maps.dl_locks, &pair_key, sizeof(pair_key), zero,
						 sizeof(*zero) * (size_t)ncpu, BPF_NOEXIST) : -ENOMEM;
		free(zero);
		if (rc) {
			fprintf(stderr, "dsqlock: yardstick key: %s\n", strerror(-rc));
			rc = 1;
			goto out;
		}
	}
	ppid_ns = getppid_loop(pair_calls);
	for (size_t i = 0; i < nneed; i++) {
		if (!need[i].on)
			continue;
		if (!bpf_program__attach(need[i].prog)) {
			fprintf(stderr, "dsqlock: attach to %s: %s\n", need[i].func, strerror(errno));
			need[i].on = 0;
			if (!need[i].optional) {
				rc = 1;
				goto out;
			}
		}
	}
	fflush(stdout);
	ctxt0 = ctxt_now();
	t0 = now_s();
	rc = pair_only ? 0 : run(argv + argi + 1);
	secs = now_s() - t0;
	ctxt = ctxt_now() - ctxt0;
	ppid_traced_ns = getppid_loop(pair_calls);

	printf("{\"tool\":\"dsqlock\",\"secs\":%.3f,\"exit\":%d,\"ctxt\":%llu,\"getppid_ns\":%.1f,"
	       "\"getppid_traced_ns\":%.1f", secs, rc, ctxt, ppid_ns, ppid_traced_ns);
	printf(",\"on\":{");
	for (size_t i = 0; i < nneed; i++)
		printf("%s\"%s\":%s", i ? "," : "", bpf_program__name(need[i].prog), need[i].on ? "true" : "false");
	printf("}");
	{
		unsigned long long lost = 0;
		unsigned int zero = 0;
		size_t sz = bpf_map__value_size(skel->maps.dl_cpu);
		char *v = calloc((size_t)ncpu, sz);

		/* lost is the last member of struct dl_cpu (bench/dsqlock.bpf.c). */
		if (v && !bpf_map__lookup_elem(skel->maps.dl_cpu, &zero, sizeof(zero), v, sz * (size_t)ncpu, 0))
			for (int c = 0; c < ncpu; c++)
				lost += *(unsigned long long *)(v + (size_t)c * sz + sz - sizeof(lost));
		free(v);
		printf(",\"lost\":%llu", lost);
	}
	print_locks(skel, ncpu);
	print_kinds(skel, ncpu);
	printf("}\n");
	rc = rc ? 3 : 0;
out:
	dsqlock__destroy(skel);
	btf__free(vmlinux);
	return rc;
}
