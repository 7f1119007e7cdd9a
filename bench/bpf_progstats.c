// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_progstats: run count and run time of loaded BPF programs, as one JSON
 * object, so the benchmark can report what each sched_ext callback costs.
 *
 *   bpf_progstats [--all] [--probe]
 *
 * By default only struct_ops programs (a sched_ext scheduler's callbacks)
 * are listed. --probe adds the sections the test build's scheduler times
 * (map an_cost, bpf/costprobe.h), summed over CPUs. The kernel only counts while kernel.bpf_stats_enabled is 1;
 * the output says whether it is. Needs CAP_SYS_ADMIN (walks program ids).
 * Talks to the bpf(2) syscall directly: the guest image has no bpftool.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "costprobe.h"

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static void json_name(const char *s, size_t max)
{
	putchar('"');
	for (size_t i = 0; i < max && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c > 0x7e)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* BPF_OBJ_GET_INFO_BY_FD of @fd into @info (@len bytes); 0 or -1. */
static int obj_info(int fd, void *info, uint32_t len)
{
	union bpf_attr attr;

	memset(info, 0, len);
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = (uint32_t)fd;
	attr.info.info_len = len;
	attr.info.info = (uint64_t)(uintptr_t)info;
	return sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr) ? -1 : 0;
}

static int stats_enabled(void)
{
	FILE *f = fopen("/proc/sys/kernel/bpf_stats_enabled", "r");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/*
 * ns per getppid() round trip: a yardstick measured on the same (possibly
 * emulated) CPU, so a callback's cost reads as "N syscalls" anywhere.
 */
static double syscall_ns(void)
{
	struct timespec a, b;
	const int n = 20000;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < n; i++)
		syscall(SYS_getppid);
	clock_gettime(CLOCK_MONOTONIC, &b);
	return ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / n;
}

static const char *const cost_names[AN_NR_COST] = {
#define AN_COST_NAME_(id, name, help) name,
	AN_COST_SECTIONS(AN_COST_NAME_)
#undef AN_COST_NAME_
};

/* Possible CPUs: the number of values a per-CPU map lookup returns. */
static int nr_possible_cpus(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/possible", "r");
	char buf[256], *p, *end;
	long id, n = 0;

	if (!f)
		return -1;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	/* "0-7" or "0" or "0-3,8-11": the highest id + 1 is what the kernel sizes by. */
	while (p && *p) {
		id = strtol(p, &end, 10);
		if (end == p)
			break;
		if (id + 1 > n)
			n = id + 1;
		p = *end ? end + 1 : end;
	}
	return n > 0 && n <= 8192 ? (int)n : -1;
}

/* An fd of the loaded map named @name, -1 if none. */
static int map_by_name(const char *name)
{
	union bpf_attr attr;
	uint32_t id = 0;

	for (;;) {
		struct bpf_map_info info;
		int fd;

		memset(&attr, 0, sizeof(attr));
		attr.start_id = id;
		if (sys_bpf(BPF_MAP_GET_NEXT_ID, &attr))
			return -1;
		id = attr.next_id;
		memset(&attr, 0, sizeof(attr));
		attr.map_id = id;
		fd = (int)sys_bpf(BPF_MAP_GET_FD_BY_ID, &attr);
		if (fd < 0)
			continue;
		if (!obj_info(fd, &info, sizeof(info)) && info.type == BPF_MAP_TYPE_PERCPU_ARRAY &&
		    info.value_size == sizeof(struct an_cost) && !strncmp(info.name, name, sizeof(info.name)))
			return fd;
		close(fd);
	}
}

/* ,"probe":[...] from the an_cost map, or ,"probe":null when there is none. */
static void print_probe(void)
{
	int fd = map_by_name("an_cost"), ncpu = nr_possible_cpus();
	static struct an_cost vals[1024];
	union bpf_attr attr;

	if (fd < 0 || ncpu < 0 || ncpu > 1024) {
		printf(",\"probe\":null");
		if (fd >= 0)
			close(fd);
		return;
	}
	printf(",\"probe\":[");
	for (uint32_t k = 0; k < AN_NR_COST; k++) {
		unsigned long long ns = 0, cnt = 0;

		memset(&attr, 0, sizeof(attr));
		attr.map_fd = (uint32_t)fd;
		attr.key = (uint64_t)(uintptr_t)&k;
		attr.value = (uint64_t)(uintptr_t)vals;
		/* A failed lookup reads as a section that never ran. */
		memset(vals, 0, sizeof(vals));
		if (!sys_bpf(BPF_MAP_LOOKUP_ELEM, &attr)) {
			for (int c = 0; c < ncpu; c++) {
				ns += vals[c].ns;
				cnt += vals[c].cnt;
			}
		}
		unsigned long long hist[AN_COST_BUCKETS] = { 0 };

		for (int c = 0; c < ncpu; c++)
			for (int b = 0; b < AN_COST_BUCKETS; b++)
				hist[b] += vals[c].hist[b];
		printf("%s{\"name\":\"%s\",\"cnt\":%llu,\"ns\":%llu,\"ns_per_call\":%.1f,\"hist\":[", k ? "," : "",
		       cost_names[k], cnt, ns, cnt ? (double)ns / (double)cnt : 0.0);
		for (int b = 0; b < AN_COST_BUCKETS; b++)
			printf("%s%llu", b ? "," : "", hist[b]);
		printf("]}");
	}
	printf("]");
	close(fd);
}

int main(int argc, char **argv)
{
	bool all = false, first = true, probe = false;
	union bpf_attr attr;
	uint32_t id = 0;
	int skipped = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--all")) {
			all = true;
		} else if (!strcmp(argv[i], "--probe")) {
			probe = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("Usage: %s [--all] [--probe]\nPrint BPF program run statistics as JSON "
			       "(struct_ops programs only unless --all; --probe: the test build's cost probe).\n",
			       argv[0]);
			return 0;
		} else {
			fprintf(stderr, "bpf_progstats: unknown argument '%s'\n", argv[i]);
			return 2;
		}
	}

	printf("{\"bench\":\"bpf_cost\",\"stats_enabled\":%d,\"syscall_ns\":%.1f,\"progs\":[",
	       stats_enabled(), syscall_ns());
	for (;;) {
		struct bpf_prog_info info;
		int fd;

		memset(&attr, 0, sizeof(attr));
		attr.start_id = id;
		if (sys_bpf(BPF_PROG_GET_NEXT_ID, &attr)) {
			if (errno == ENOENT)
				break;
			fprintf(stderr, "bpf_progstats: BPF_PROG_GET_NEXT_ID: %s\n", strerror(errno));
			printf("]}\n");
			return 1;
		}
		id = attr.next_id;

		memset(&attr, 0, sizeof(attr));
		attr.prog_id = id;
		fd = (int)sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
		if (fd < 0) {
			/* Unloaded since we saw its id: nothing to report. */
			skipped++;
			continue;
		}
		if (obj_info(fd, &info, sizeof(info))) {
			skipped++;
			close(fd);
			continue;
		}
		close(fd);
		if (!all && info.type != BPF_PROG_TYPE_STRUCT_OPS)
			continue;
		printf("%s{\"id\":%u,\"type\":%u,\"name\":", first ? "" : ",", info.id, info.type);
		json_name(info.name, sizeof(info.name));
		printf(",\"run_cnt\":%" PRIu64 ",\"run_time_ns\":%" PRIu64 ",\"ns_per_run\":%.1f}",
		       (uint64_t)info.run_cnt, (uint64_t)info.run_time_ns,
		       info.run_cnt ? (double)info.run_time_ns / (double)info.run_cnt : 0.0);
		first = false;
	}
	printf("],\"skipped\":%d", skipped);
	if (probe)
		print_probe();
	printf("}\n");
	return 0;
}
