// SPDX-License-Identifier: GPL-2.0
/*
 * gpu_assoc: what finding GPU homes costs the daemon, on a fake host of
 * 2,000 processes and 8 NVIDIA GPUs on 2 nodes: 8 ranks holding all 8 GPUs
 * open (as CUDA processes do), each with 2 forked DataLoader workers, NVML
 * listing each rank on its own GPU, and 1,976 other processes with 12 open
 * files each. It runs the daemon's placement passes (the open-file scan,
 * the association with NVML's answer, the descendants) and prints their
 * CPU time as a share of one CPU at the daemon's pass period.
 *
 *   gpu_assoc [--passes N] [--dir DIR]      (fails if the share is >= 1 %,
 *                                            except in a sanitizer build)
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "assoc.h"
#include "fixture.h"
#include "log.h"
#include "placement.h"
#include "topology.h"

#define NR_PROCS	2000
#define NR_GPUS		8
#define NR_RANKS	8
#define PASS_PERIOD_MS	1000	/* placement.c's PASS_MS */

static char root[PATH_MAX];

static void put(const char *rel, const char *text, size_t len)
{
	fixture_put(root, rel, text, len);
}

static void putf(const char *rel, const char *text)
{
	put(rel, text, strlen(text));
}

static void link_fd(int pid, int fd, const char *target)
{
	char p[PATH_MAX + 64];

	snprintf(p, sizeof(p), "%s/proc/%d/fd/%d", root, pid, fd);
	if (symlink(target, p) < 0 && errno != EEXIST) {
		fprintf(stderr, "gpu_assoc: symlink %s: %s\n", p, strerror(errno));
		exit(1);
	}
}

static void proc(int pid, int ppid, const char *comm, const char *kids, bool gpus)
{
	char rel[128], text[512];

	snprintf(rel, sizeof(rel), "proc/%d/stat", pid);
	snprintf(text, sizeof(text), "%d (%s) S %d 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 %d 0 0\n", pid, comm, ppid,
		 1000 + pid);
	putf(rel, text);
	snprintf(rel, sizeof(rel), "proc/%d/status", pid);
	snprintf(text, sizeof(text), "Name:\t%s\nTgid:\t%d\nPid:\t%d\n", comm, pid, pid);
	putf(rel, text);
	snprintf(rel, sizeof(rel), "proc/%d/comm", pid);
	putf(rel, comm);
	snprintf(rel, sizeof(rel), "proc/%d/environ", pid);
	put(rel, "PATH=/usr/bin\0HOME=/root\0", 25);
	snprintf(rel, sizeof(rel), "proc/%d/task/%d/children", pid, pid);
	putf(rel, kids);
	{
		char d[PATH_MAX + 32];

		snprintf(d, sizeof(d), "%s/proc/%d/fd", root, pid);
		mkdir(d, 0755);
	}
	for (int fd = 0; fd < 12; fd++) {
		snprintf(text, sizeof(text), fd < 3 ? "/dev/pts/0" : "/var/log/file%d.log", fd);
		link_fd(pid, fd, text);
	}
	for (int g = 0; gpus && g < NR_GPUS; g++) {
		snprintf(text, sizeof(text), "/dev/nvidia%d", g);
		link_fd(pid, 20 + g, text);
	}
}

static void build(void)
{
	char rel[128], text[256];

	for (int g = 0; g < NR_GPUS; g++) {
		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/0000:%02x:00.0/class", 0x10 + g);
		putf(rel, "0x030200\n");
		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/0000:%02x:00.0/vendor", 0x10 + g);
		putf(rel, "0x10de\n");
		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/0000:%02x:00.0/device", 0x10 + g);
		putf(rel, "0x2330\n");
		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/0000:%02x:00.0/numa_node", 0x10 + g);
		putf(rel, g < NR_GPUS / 2 ? "0\n" : "1\n");
		snprintf(rel, sizeof(rel), "proc/driver/nvidia/gpus/0000:%02x:00.0/information", 0x10 + g);
		snprintf(text, sizeof(text), "Model: \t H100\nDevice Minor: \t %d\n", g);
		putf(rel, text);
	}
	for (int pid = 100; pid < 100 + NR_PROCS; pid++) {
		int r = pid - 100;

		if (r < NR_RANKS) {
			/* Rank r at pid 100 + r, its workers at 1100 + 2r and 1101 + 2r. */
			snprintf(text, sizeof(text), "%d %d ", 1100 + 2 * r, 1101 + 2 * r);
			proc(pid, 1, "rank", text, true);
		} else if (pid >= 1100 && pid < 1100 + 2 * NR_RANKS) {
			proc(pid, 100 + (pid - 1100) / 2, "pt_data_worker", "", true);
		} else {
			proc(pid, 1, "daemon", "", false);
		}
	}
}

/* The fake pids are not this host's processes: let them run anywhere. */
static int anywhere(pid_t pid, uint8_t *mask, int nr_cpus)
{
	(void)pid;
	memset(mask, 1, (size_t)nr_cpus);
	return 0;
}

static double cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	struct topology topo = { 0 };
	struct sched *none = NULL;
	struct nv_snapshot snap = { 0 };
	struct nv_use use[NR_RANKS * NR_GPUS];
	struct placement *pl;
	const struct gpu_proc *gp;
	int passes = 30, placed = 0;
	double t0, first, steady, pct;
	char cmd[PATH_MAX + 16], err[256];
	const char *dir = "/tmp";

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--passes") && i + 1 < argc)
			passes = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			dir = argv[++i];
	}
	if (passes < 2)
		passes = 2;
	snprintf(root, sizeof(root), "%s/gpu-assoc.%d", dir, (int)getpid());
	if (mkdir(root, 0755) < 0) {
		fprintf(stderr, "gpu_assoc: mkdir %s: %s\n", root, strerror(errno));
		return 1;
	}
	log_init(LOG_WARNING);
	build();
	topo.nr_nodes = 2;
	topo.nr_cpus = topo.nr_online = 4;
	for (int n = 0; n < 2; n++) {
		topo.nodes[n].id = n;
		topo.nodes[n].nr_cpus = topo.nodes[n].nr_online = 2;
	}
	for (int c = 0; c < AN_MAX_CPUS; c++)
		topo.cpu_node[c] = c < 4 ? c / 2 : -1;
	topology_index(&topo, err, sizeof(err));

	/* The association with NVML's answer: each rank on its GPU, 0 bytes on the others. */
	snap.nr_gpus = NR_GPUS;
	snap.use = use;
	for (int g = 0; g < NR_GPUS; g++)
		snprintf(snap.pci[g], sizeof(snap.pci[g]), "0000:%02x:00.0", 0x10 + g);
	for (int r = 0; r < NR_RANKS; r++)
		use[snap.nr_uses++] = (struct nv_use){ .pid = 100 + r, .gpu = r, .bytes = 1ULL << 30 };

	pl = placement_new(&(struct placement_env){ .topo = &topo, .sched = &none, .root = root, .nvml_lib = "",
						    .aff_get = anywhere });
	placement_inject_nvml(pl, &snap);
	t0 = cpu_ms();
	placement_scan_now(pl);
	first = cpu_ms() - t0;
	t0 = cpu_ms();
	for (int i = 1; i < passes; i++)
		placement_scan_now(pl);
	steady = (cpu_ms() - t0) / (passes - 1);
	for (size_t i = 0, n = placement_gpu_procs(pl, &gp); i < n; i++)
		placed += gp[i].node >= 0 && !gp[i].alone;
	pct = 100.0 * steady / PASS_PERIOD_MS;
	printf("processes=%d gpus=%d placed=%d first_pass_ms=%.2f pass_ms=%.3f cpu_pct_at_%dms=%.3f\n", NR_PROCS,
	       NR_GPUS, placed, first, steady, PASS_PERIOD_MS, pct);
	placement_free(pl);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd))
		fprintf(stderr, "gpu_assoc: could not remove %s\n", root);
	if (placed != NR_RANKS * 3) {
		fprintf(stderr, "gpu_assoc: %d processes placed, want %d (8 ranks and their workers)\n", placed,
			NR_RANKS * 3);
		return 1;
	}
#ifdef __SANITIZE_ADDRESS__
	/* A sanitizer build measures the sanitizer: the figure is printed, not judged. */
	return 0;
#else
	return pct < 1.0 ? 0 : 1;
#endif
}
