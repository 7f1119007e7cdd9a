// SPDX-License-Identifier: GPL-2.0
/*
 * GPU placement over fake trees: discovery from sysfs (NVIDIA, AMD and
 * accelerator layouts, unknown nodes, several GPUs per node), the open-file
 * scan of /proc, and what reaches the scheduler's maps: GPU homes, pins of
 * processes and cgroups, their precedence, and their going away. The
 * scheduler is a recorder standing in for sched.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include "check.h"
#include "fixture.h"
#include "topology.h"
#include "gpu.h"
#include "gpuscan.h"
#include "log.h"
#include "loopfix.h"
#include "placement.h"
#include "sched.h"

/* ---- a recording scheduler ------------------------------------------------------ */

struct sched {
	int unused;
};

#define MAX_REC	64

static struct rec {
	uint64_t key;
	uint32_t node;
	bool pinned;
} tgid_map[MAX_REC], cg_map[MAX_REC];
static int nr_tgid_map, nr_cg_map, map_writes;
static uint32_t count_tgid, count_cg;

static struct rec *rec_find(struct rec *m, int n, uint64_t key)
{
	for (int i = 0; i < n; i++)
		if (m[i].key == key)
			return &m[i];
	return NULL;
}

static int rec_set(struct rec *m, int *n, uint64_t key, uint32_t node, bool pinned)
{
	struct rec *r = rec_find(m, *n, key);

	map_writes++;
	if (!r) {
		if (*n == MAX_REC)
			return -E2BIG;
		r = &m[(*n)++];
	}
	*r = (struct rec){ key, node, pinned };
	return 0;
}

static int rec_del(struct rec *m, int *n, uint64_t key)
{
	struct rec *r = rec_find(m, *n, key);

	map_writes++;
	if (r)
		*r = m[--(*n)];
	return 0;
}

int sched_set_tgid_home(struct sched *s, uint32_t tgid, uint32_t dense, bool pinned)
{
	(void)s;
	return rec_set(tgid_map, &nr_tgid_map, tgid, dense, pinned);
}

int sched_clear_tgid_home(struct sched *s, uint32_t tgid)
{
	(void)s;
	return rec_del(tgid_map, &nr_tgid_map, tgid);
}

int sched_set_cgroup_home(struct sched *s, uint64_t id, uint32_t dense)
{
	(void)s;
	return rec_set(cg_map, &nr_cg_map, id, dense, true);
}

int sched_clear_cgroup_home(struct sched *s, uint64_t id)
{
	(void)s;
	return rec_del(cg_map, &nr_cg_map, id);
}

void sched_set_home_counts(struct sched *s, uint32_t nr_tgid, uint32_t nr_cgroup)
{
	(void)s;
	count_tgid = nr_tgid;
	count_cg = nr_cgroup;
}

/* task->flags of a kernel thread, as /proc/PID/stat shows it. */
#define PF_KTHREAD_TEST	0x00200000UL

/* ---- fake trees ----------------------------------------------------------------- */

static char root[PATH_MAX];

static void rm_rf(const char *rel)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s/%s'", root, rel);
	if (system(cmd) != 0)
		check_bail("%s failed", cmd);
}

/* A PCI function: class, vendor, device, and numa_node unless @node is NULL. */
static void pci(const char *addr, unsigned int class, unsigned int vendor, unsigned int device, const char *node)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/class", addr);
	fixture_printf(root, rel, "0x%06x\n", class);
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/vendor", addr);
	fixture_printf(root, rel, "0x%04x\n", vendor);
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/device", addr);
	fixture_printf(root, rel, "0x%04x\n", device);
	if (node) {
		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/numa_node", addr);
		fixture_printf(root, rel, "%s\n", node);
	}
}

static void class_dev(const char *addr, const char *sub, const char *name)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/%s/%s/dev", addr, sub, name);
	fixture_printf(root, rel, "226:0\n");
}

static void nvidia_info(const char *addr, int minor)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "proc/driver/nvidia/gpus/%s/information", addr);
	fixture_printf(root, rel, "Model: \t\t NVIDIA H100 80GB HBM3\nIRQ:   \t\t 150\nGPU UUID: \t GPU-x\n"
		 "Video BIOS: \t 96.00.99.00.01\nBus Type: \t PCIe\nDMA Size: \t 52 bits\n"
		 "Bus Location: \t %s\nDevice Minor: \t %d\nGPU Excluded:\t No\n", addr, minor);
}

/* A process: /proc/PID/{stat,status,cgroup} and an fd directory. */
static void proc(int pid, int tgid, const char *comm, unsigned long flags, unsigned long long start,
		 const char *cgroup)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "proc/%d/stat", pid);
	fixture_printf(root, rel, "%d (%s) S 1 1 1 0 -1 %lu 0 0 0 0 0 0 0 0 20 0 1 0 %llu 0 0 0\n", pid, comm, flags,
		       start);
	snprintf(rel, sizeof(rel), "proc/%d/status", pid);
	fixture_printf(root, rel, "Name:\t%s\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t%d\nNgid:\t0\nPid:\t%d\n",
		       comm, tgid, pid);
	snprintf(rel, sizeof(rel), "proc/%d/comm", pid);
	fixture_printf(root, rel, "%s\n", comm);
	snprintf(rel, sizeof(rel), "proc/%d/cgroup", pid);
	fixture_printf(root, rel, "0::%s\n", cgroup);
	snprintf(rel, sizeof(rel), "proc/%d/fd", pid);
	fixture_mkdir(root, rel);
}

/* The process exits but is not reaped yet: /proc still shows it, in state Z. */
static void zombie(int pid, const char *comm, unsigned long long start)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "proc/%d/stat", pid);
	fixture_printf(root, rel, "%d (%s) Z 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 %llu 0 0 0\n", pid, comm, start);
}

static void fd(int pid, int n, const char *target)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "proc/%d/fd/%d", pid, n);
	fixture_link(root, rel, target);
}

/*
 * A two-socket host: four NVIDIA GPUs, two per node (nodes 0 and 2, so an
 * id is never mistaken for a dense index), whose /dev/nvidiaN minors do not
 * follow PCI order; a BMC's VGA with no render node and no numa_node file;
 * an AMD Instinct with card and render nodes and an unknown node; an AMD GPU
 * on node 2; a Gaudi accelerator on node 0; a NIC and a bridge.
 */
static void build_host(void)
{
	pci("0000:00:00.0", 0x060000, 0x8086, 0x09a2, "0");		/* host bridge */
	pci("0000:02:00.0", 0x030000, 0x1a03, 0x2000, NULL);		/* ASPEED BMC VGA */
	class_dev("0000:02:00.0", "drm", "card0");
	pci("0000:18:00.0", 0x020000, 0x15b3, 0x101d, "0");		/* NIC */
	pci("0000:3b:00.0", 0x030200, 0x10de, 0x2330, "0");
	pci("0000:5e:00.0", 0x030200, 0x10de, 0x2330, "0");
	pci("0000:86:00.0", 0x030200, 0x10de, 0x2330, "2");
	pci("0000:af:00.0", 0x030200, 0x10de, 0x2330, "2");
	nvidia_info("0000:3b:00.0", 2);
	nvidia_info("0000:5e:00.0", 0);
	nvidia_info("0000:86:00.0", 3);
	nvidia_info("0000:af:00.0", 1);
	pci("0000:c1:00.0", 0x038000, 0x1002, 0x74a1, "-1");		/* MI300X, node unknown */
	class_dev("0000:c1:00.0", "drm", "card1");
	class_dev("0000:c1:00.0", "drm", "renderD129");
	pci("0000:c2:00.0", 0x038000, 0x1002, 0x74a1, "2");
	class_dev("0000:c2:00.0", "drm", "renderD128");
	class_dev("0000:c2:00.0", "drm", "card2");
	pci("0000:d0:00.0", 0x120000, 0x1da3, 0x1020, "0");		/* Gaudi 2 */
	class_dev("0000:d0:00.0", "accel", "accel0");
	fixture_link(root, "sys/bus/pci/devices/0000:c2:00.0/driver", "../../../bus/pci/drivers/amdgpu");
}

static const struct gpu *by_pci(const struct gpu_list *l, const char *addr)
{
	for (int i = 0; i < l->nr; i++)
		if (!strcmp(l->gpu[i].pci, addr))
			return &l->gpu[i];
	return NULL;
}

static void test_discovery(void)
{
	static const struct {
		const char *pci, *dev;
		int node;
	} want[] = {
		{ "0000:02:00.0", NULL, -1 },
		{ "0000:3b:00.0", "/dev/nvidia2", 0 },
		{ "0000:5e:00.0", "/dev/nvidia0", 0 },
		{ "0000:86:00.0", "/dev/nvidia3", 2 },
		{ "0000:af:00.0", "/dev/nvidia1", 2 },
		{ "0000:c1:00.0", "/dev/dri/renderD129", -1 },
		{ "0000:c2:00.0", "/dev/dri/renderD128", 2 },
		{ "0000:d0:00.0", "/dev/accel/accel0", 0 },
	};
	struct gpu_list l, again;
	char err[256] = "";
	const struct gpu *g;
	bool sorted = true;

	CHECK(gpu_class_match(0x030000) && gpu_class_match(0x030200) && gpu_class_match(0x038000) &&
	      gpu_class_match(0x120000), "VGA, 3D, other display controllers and processing accelerators are GPUs");
	CHECK(!gpu_class_match(0x020000) && !gpu_class_match(0x060400) && !gpu_class_match(0x120100) &&
	      !gpu_class_match(0x040300), "NICs, bridges, other processing classes and audio are not");

	CHECK_INT(gpu_discover(root, &l, err, sizeof(err)), 0, "discovery over the fake host succeeds %s", err);
	CHECK_INT(l.nr, 8, "eight GPUs and accelerators; the NIC and the bridge are left out");
	for (int i = 1; i < l.nr; i++)
		sorted &= strcmp(l.gpu[i - 1].pci, l.gpu[i].pci) < 0;
	CHECK(sorted, "in PCI address order");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		g = by_pci(&l, want[i].pci);
		if (!CHECK(g, "%s found", want[i].pci))
			continue;
		CHECK_INT(g->node, want[i].node, "%s is on node %d", want[i].pci, want[i].node);
		if (want[i].dev)
			CHECK(g->nr_dev >= 1 && !strcmp(g->dev[0], want[i].dev), "%s's device node is %s (got %s)",
			      want[i].pci, want[i].dev, g->nr_dev ? g->dev[0] : "none");
		else
			CHECK_INT(g->nr_dev, 0, "%s has no device node a compute process opens", want[i].pci);
	}
	g = by_pci(&l, "0000:c1:00.0");
	CHECK(g && g->nr_dev == 1, "card nodes are not device nodes of ours, render nodes are");
	g = by_pci(&l, "0000:3b:00.0");
	CHECK(g && g->vendor == 0x10de && g->device == 0x2330 && g->class == 0x030200,
	      "vendor, device and class are read as hex");
	g = by_pci(&l, "0000:c2:00.0");
	CHECK(g && !strcmp(g->driver, "amdgpu"), "the bound driver is named (%s)", g ? g->driver : "?");
	CHECK_INT(gpu_find_dev(&l, "/dev/nvidia1"), 4, "/dev/nvidia1 is the GPU at 0000:af:00.0");
	CHECK_INT(gpu_find_dev(&l, "/dev/nvidiactl"), -1, "the control node is no GPU");
	CHECK(gpu_vendor_name(0x10de) && gpu_vendor_name(0x1002) && !gpu_vendor_name(0xfffe), "vendor names");

	CHECK(gpu_discover(root, &again, err, sizeof(err)) == 0 && gpu_list_equal(&l, &again),
	      "discovery is repeatable and compares equal");
	again.gpu[3].node = 0;
	CHECK(!gpu_list_equal(&l, &again), "a node change compares unequal");
	CHECK(gpu_discover("/nonexistent-root", &again, err, sizeof(err)) == 0 && again.nr == 0,
	      "a root without a PCI bus has no GPU, which is not an error");
}

/* ---- the scan ----------------------------------------------------------------------- */

static void build_procs(void)
{
	/* 100: CUDA on GPU minor 2 (0000:3b, node 0) among ordinary files. */
	proc(100, 100, "python", 0, 1000, "/train.slice/job1");
	fd(100, 0, "/dev/null");
	fd(100, 1, "pipe:[4242]");
	fd(100, 3, "/dev/nvidiactl");
	fd(100, 4, "/dev/nvidia2");
	fd(100, 5, "socket:[99]");
	fd(100, 6, "/dev/nvidia-uvm");
	/* 101: ROCm on the node 2 AMD GPU, through its render node. */
	proc(101, 101, "a) b", 0, 1001, "/user.slice");
	fd(101, 3, "/dev/kfd");
	fd(101, 4, "/dev/dri/renderD128");
	/* 102: no GPU. */
	proc(102, 102, "bash", 0, 1002, "/user.slice");
	fd(102, 0, "/dev/pts/0");
	/* 103: two GPUs, both on node 2. */
	proc(103, 103, "torchrun", 0, 1003, "/user.slice");
	fd(103, 3, "/dev/nvidia3");
	fd(103, 4, "/dev/nvidia1");
	/* 104: GPUs on nodes 0 and 2: left to the policy. */
	proc(104, 104, "ddp", 0, 1004, "/user.slice");
	fd(104, 3, "/dev/nvidia0");
	fd(104, 4, "/dev/nvidia3");
	/* 105: only the GPU whose node is unknown: no home. */
	proc(105, 105, "mi300", 0, 1005, "/user.slice");
	fd(105, 3, "/dev/dri/renderD129");
	/* 106: the unknown-node GPU and a node 0 GPU: the known node decides. */
	proc(106, 106, "mixed", 0, 1006, "/user.slice");
	fd(106, 3, "/dev/dri/renderD129");
	fd(106, 4, "/dev/accel/accel0");
	/* 107: a thread of 100 (/proc answers for thread ids too). */
	proc(107, 100, "python", 0, 1000, "/train.slice/job1");
	/* 2: a kernel thread. */
	proc(2, 2, "kthreadd", PF_KTHREAD_TEST, 1, "/");
	/* Not a process. */
	fixture_printf(root, "proc/self-not-a-pid/stat", "x\n");
}

/*
 * Without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH in the effective set (on:
 * back from the permitted set), mode bits bind root too: a directory of mode
 * 000 reads as EACCES, as another user's /proc/PID/fd does to a daemon
 * without CAP_SYS_PTRACE. 0 or -errno.
 */
static int dac_caps(bool on)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	const uint32_t dac = (1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH);

	if (syscall(SYS_capget, &h, d))
		return -errno;
	d[0].effective = on ? d[0].effective | (d[0].permitted & dac) : d[0].effective & ~dac;
	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

/*
 * A GPU holder whose open files the kernel will not show: not a hit, and
 * counted as refused rather than taken for a process without a GPU.
 */
static void test_scan_denied(const struct gpu_list *l)
{
	const struct scan_budget all = { .procs = 1000, .fds = 100000, .fds_per_proc = 1000 };
	const struct scan_hit *hits;
	struct gpuscan *sc;
	char path[PATH_MAX + 16];
	size_t n;

	snprintf(path, sizeof(path), "%s/proc/104/fd", root);
	if (gpuscan_new(root, &sc) < 0 || chmod(path, 0) || dac_caps(false))
		check_bail("making %s unreadable", path);
	CHECK_INT(gpuscan_step(sc, l, &all), 1, "a pass with one process's open files unreadable completes");
	if (dac_caps(true) || chmod(path, 0755))
		check_bail("making %s readable again", path);
	n = gpuscan_hits(sc, &hits);
	CHECK_INT(n, 5, "the unreadable GPU holder is not a hit, the other five are");
	CHECK_INT(gpuscan_stats(sc)->last_denied, 1, "... and it is counted as refused");
	if (chmod(path, 0) || dac_caps(false))
		check_bail("making %s unreadable", path);
	CHECK_INT(gpuscan_step(sc, l, &all), 1, "the next pass completes");
	if (dac_caps(true) || chmod(path, 0755))
		check_bail("making %s readable again", path);
	CHECK_INT(gpuscan_stats(sc)->last_denied, 1, "... still counting it: refused is not backed off as no GPU");
	CHECK_INT(gpuscan_step(sc, l, &all), 1, "readable again: the next pass completes");
	CHECK_INT(gpuscan_stats(sc)->last_denied, 0, "... nothing refused");
	CHECK_INT(gpuscan_hits(sc, &hits), 6, "... and its GPU is found at once");
	gpuscan_free(sc);
}

/* A step run from a loop timer, as placement runs it, while a client's request waits. */
struct waiting_scan {
	struct gpuscan *sc;
	const struct gpu_list *l;
	int timer_fd;
	int ret;
	bool ran;
};

static void on_scan_timer(void *arg, uint32_t events)
{
	const struct scan_budget all = { .procs = 1000, .fds = 100000, .fds_per_proc = 1000 };
	struct waiting_scan *ws = arg;

	(void)events;
	loop_timer_drain(ws->timer_fd);
	loop_timer_set(ws->timer_fd, 0, 0);
	ws->ret = gpuscan_step(ws->sc, ws->l, &all);
	ws->ran = true;
}

/* The request is left unread: it waits through the step. */
static void on_unread_request(void *arg, uint32_t events)
{
	(void)arg;
	(void)events;
}

static void test_scan_yields(const struct gpu_list *l)
{
	struct waiting_scan ws = { .l = l };
	struct loop *lp;
	int sv[2];

	if (gpuscan_new(root, &ws.sc) < 0)
		check_bail("gpuscan_new");
	lp = loopfix_open(sv, on_unread_request, NULL);
	if (write(sv[1], "?", 1) != 1)
		check_bail("write");
	ws.timer_fd = loop_add_timer(lp, 1, on_scan_timer, &ws);
	/* The waiting fd is always ready: rounds come back at once, so wait by the clock. */
	for (uint64_t t0 = mono_ns(); !ws.ran && mono_ns() - t0 < 2000000000ULL;)
		loop_run_once(lp, 100);
	CHECK(ws.ran && ws.ret == 0 && gpuscan_busy(ws.sc),
	      "with a client waiting, a scan step hands the loop back before the pass is done (step returned %d)",
	      ws.ret);
	/* Outside a timer's callback nothing yields: the next step finishes the pass. */
	ws.ret = gpuscan_step(ws.sc, l, &(const struct scan_budget){ .procs = 1000, .fds = 100000, .fds_per_proc = 1000 });
	CHECK(ws.ret == 1 && gpuscan_stats(ws.sc)->last_steps == 2 && gpuscan_stats(ws.sc)->last_procs == 9,
	      "the yielded step had looked at one process; the next one does the other eight (%u steps, %u processes)",
	      gpuscan_stats(ws.sc)->last_steps, gpuscan_stats(ws.sc)->last_procs);
	loopfix_close(lp, ws.timer_fd, sv);
	gpuscan_free(ws.sc);
}

static void test_scan(const struct gpu_list *l)
{
	const struct scan_budget all = { .procs = 1000, .fds = 100000, .fds_per_proc = 1000 };
	const struct scan_budget small = { .procs = 2, .fds = 100000, .fds_per_proc = 2 };
	const struct scan_stats *st;
	const struct scan_hit *hits;
	struct gpuscan *sc;
	int ret, steps = 0;
	size_t n;

	if (gpuscan_new(root, &sc) < 0)
		check_bail("gpuscan_new");
	CHECK_INT(gpuscan_step(sc, l, &all), 1, "a pass over nine processes completes in one step");
	n = gpuscan_hits(sc, &hits);
	CHECK_INT(n, 6, "six processes hold a GPU open");
	CHECK(n >= 6 && hits[0].pid == 100 && hits[0].gpus == 1ULL << gpu_find_dev(l, "/dev/nvidia2"),
	      "process 100 holds exactly the GPU of /dev/nvidia2, not the control or UVM nodes");
	CHECK(n >= 6 && hits[1].pid == 101 && hits[2].pid == 103 && hits[5].pid == 106, "hits are in pid order");
	CHECK(n >= 3 && hits[2].gpus == ((1ULL << gpu_find_dev(l, "/dev/nvidia3")) |
					 (1ULL << gpu_find_dev(l, "/dev/nvidia1"))), "process 103 holds two GPUs");
	st = gpuscan_stats(sc);
	printf("# pass: %u processes, %u fds, %llu ns CPU\n", st->last_procs, st->last_fds,
	       (unsigned long long)st->last_cpu_ns);
	CHECK_INT(st->last_procs, 9, "it looked at every process, nothing else");
	CHECK_INT(st->last_fds, 16, "and at every open file");
	CHECK(st->passes == 1 && st->cpu_ns > 0 && st->cpu_ns == st->last_cpu_ns, "and measured its own CPU time");
	CHECK_INT(st->last_truncated, 0, "no process had more files than looked at");

	/* Processes without a GPU are looked at again after 1, 3, then 7 skipped passes. */
	{
		static const unsigned int want[] = { 6, 9, 6, 6, 6, 9, 6, 6, 6, 6, 6, 6, 6, 9, 6 };
		unsigned int got[sizeof(want) / sizeof(want[0])];
		bool same = true, hits_ok = true;

		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
			gpuscan_step(sc, l, &all);
			got[i] = gpuscan_stats(sc)->last_procs;
			same &= got[i] == want[i] && gpuscan_stats(sc)->last_skipped == 9 - want[i];
			hits_ok &= gpuscan_hits(sc, &hits) == 6;
		}
		CHECK(same, "the three processes without a GPU back off: looked at in passes 3, 7, 15 of 16 "
		      "(got %u %u %u %u %u %u %u)", got[0], got[1], got[2], got[3], got[4], got[5], got[6]);
		CHECK(hits_ok, "while every GPU holder is looked at, and found, every pass");
	}
	gpuscan_free(sc);

	/* Bounded steps: two processes and two files each. */
	if (gpuscan_new(root, &sc) < 0)
		check_bail("gpuscan_new");
	do {
		ret = gpuscan_step(sc, l, &small);
		steps++;
	} while (ret == 0 && steps < 100);
	CHECK_INT(ret, 1, "a pass in small steps completes");
	CHECK_INT(steps, 5, "nine processes two at a time take five steps");
	st = gpuscan_stats(sc);
	CHECK_INT(st->last_steps, 5, "which the pass counts");
	CHECK(st->last_truncated >= 1, "processes with more than two files count as truncated (%u)", st->last_truncated);
	CHECK(st->last_fds <= 9 * 2, "and no process had more than two files looked at (%u)", st->last_fds);

	/* A pass dropped halfway restarts from the first process. */
	gpuscan_step(sc, l, &small);
	CHECK(gpuscan_busy(sc), "a pass is in progress");
	gpuscan_restart(sc);
	CHECK(!gpuscan_busy(sc), "until restarted");
	CHECK_INT(gpuscan_step(sc, l, &all), 1, "then a whole pass completes");
	CHECK_INT(gpuscan_stats(sc)->last_procs + gpuscan_stats(sc)->last_skipped, 9,
		  "and sees every process, looked at or backed off");
	CHECK_INT(gpuscan_stats(sc)->passes, 2, "two passes so far");
	gpuscan_free(sc);
}

/* ---- placement ---------------------------------------------------------------------- */

static struct topology topo;
static struct sched fake_sched, *sched_now;
static struct placement *P;

/* A fresh module, as the daemon makes it at startup. */
/* The fake processes may run anywhere: their pids are not this host's processes. */
static int anywhere(pid_t pid, uint8_t *mask, int nr_cpus)
{
	(void)pid;
	memset(mask, 1, (size_t)nr_cpus);
	return 0;
}

static void new_placement(void)
{
	placement_free(P);
	P = placement_new(&(struct placement_env){ .topo = &topo, .sched = &sched_now, .root = root, .nvml_lib = "",
						   .aff_get = anywhere });
	if (!P)
		check_bail("placement_new: out of memory");
}

static void build_topology(void)
{
	struct topology *t = &topo;
	char err[256];

	memset(t, 0, sizeof(*t));
	t->nr_nodes = 2;
	for (int i = 0; i < AN_MAX_CPUS; i++)
		t->cpu_node[i] = -1;
	for (int n = 0; n < 2; n++) {
		t->nodes[n].id = 2 * n;
		t->nodes[n].nr_cpus = t->nodes[n].nr_online = 2;
		for (int k = 0; k < 2; k++) {
			t->cpu_node[2 * n + k] = 2 * n;
			t->cpu_online[2 * n + k] = 1;
		}
		for (int m = 0; m < 2; m++)
			t->distance[n][m] = n == m ? 10 : 20;
	}
	t->nr_cpus = t->nr_online = 4;
	if (topology_index(t, err, sizeof(err)))
		check_bail("topology_index: %s", err);
	sched_now = &fake_sched;
	new_placement();
}

static struct rec *tgid_home(int pid)
{
	return rec_find(tgid_map, nr_tgid_map, (uint64_t)pid);
}

/* The rule for process @pid, as ListPins sees it; NULL if there is none. */
static const struct pin *pin_of(int pid)
{
	const struct pin *p;
	size_t n = placement_pins(P, &p);

	for (size_t i = 0; i < n; i++)
		if (p[i].kind == PIN_PROCESS && p[i].pid == pid)
			return &p[i];
	return NULL;
}

static uint64_t ino_of(const char *rel)
{
	char p[PATH_MAX + 256];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	return stat(p, &st) ? 0 : (uint64_t)st.st_ino;
}

static void test_placement(void)
{
	struct pin_target t = { .kind = PIN_PROCESS };
	const char *param = "";
	char err[512] = "";
	struct rec *r;
	struct pin p;
	int writes;

	build_topology();
	CHECK_INT(placement_scan_now(P), 0, "a scan of the fake host");
	r = tgid_home(100);
	CHECK(r && r->node == 0 && !r->pinned, "process 100 (GPU on node 0) gets dense node 0, as a GPU home");
	r = tgid_home(101);
	CHECK(r && r->node == 1, "process 101 (AMD GPU on node id 2) gets dense node 1");
	r = tgid_home(103);
	CHECK(r && r->node == 1, "process 103 (two GPUs, both on node 2) gets dense node 1");
	CHECK(!tgid_home(104), "process 104 (GPUs on nodes 0 and 2) is left to the policy");
	CHECK(!tgid_home(105), "process 105 (only a GPU of unknown node) is left to the policy");
	r = tgid_home(106);
	CHECK(r && r->node == 0, "process 106 (unknown-node GPU and a node 0 accelerator) gets node 0");
	CHECK(!tgid_home(102), "process 102 (no GPU) has no entry");
	CHECK_INT(count_tgid, 4, "the scheduler is told how many process entries there are");
	CHECK_INT(count_cg, 0, "and that there is no cgroup entry");

	writes = map_writes;
	placement_scan_now(P);
	CHECK_INT(map_writes, writes, "a second pass that finds the same writes nothing");

	/* Pins of processes. */
	t.pid = 100;
	CHECK_INT(placement_pin(P, &t, 2, PIN_FROM_CONTROL, &p, &param, err, sizeof(err)), 0,
		  "process 100 pinned to node 2 %s", err);
	r = tgid_home(100);
	CHECK(r && r->node == 1 && r->pinned, "its entry becomes the pin's node, marked pinned");
	CHECK(p.kind == PIN_PROCESS && p.pid == 100 && p.node == 2 && p.active && p.start_time == 1000,
	      "the rule remembers the process's start time");
	placement_scan_now(P);
	r = tgid_home(100);
	CHECK(r && r->node == 1 && r->pinned, "the next scan leaves the pin ahead of the GPU home");
	CHECK(placement_overridden_by(P, 100) && !strcmp(placement_overridden_by(P, 100), "process"),
	      "the GPU process list says a process rule places it");

	t.pid = 107;
	CHECK(placement_pin(P, &t, 0, PIN_FROM_CONTROL, NULL, &param, err, sizeof(err)) < 0 &&
	      !strcmp(param, "pid") && strstr(err, "thread of process 100"), "a thread id is refused: %s", err);
	t.pid = 2;
	CHECK(placement_pin(P, &t, 0, PIN_FROM_CONTROL, NULL, &param, err, sizeof(err)) < 0 &&
	      strstr(err, "kernel thread"), "a kernel thread is refused: %s", err);
	t.pid = 4242;
	CHECK(placement_pin(P, &t, 0, PIN_FROM_CONTROL, NULL, &param, err, sizeof(err)) == -ESRCH &&
	      strstr(err, "no process with pid 4242"), "a missing process is refused: %s", err);
	t.pid = -3;
	CHECK(placement_pin(P, &t, 0, PIN_FROM_CONTROL, NULL, &param, err, sizeof(err)) == -EINVAL &&
	      !strcmp(param, "pid"), "a negative pid is refused: %s", err);
	t.pid = 102;
	CHECK(placement_pin(P, &t, 1, PIN_FROM_CONTROL, NULL, &param, err, sizeof(err)) < 0 &&
	      !strcmp(param, "node") && strstr(err, "node 1 does not exist (nodes: 0, 2)"),
	      "node 1, which this host lacks, is refused naming the nodes: %s", err);
	CHECK(!tgid_home(102) && placement_pins(P, &(const struct pin *){ NULL }) == 1,
	      "and nothing changed after the refusals");

	/* Pins of cgroups. */
	fixture_printf(root, "sys/fs/cgroup/cgroup.controllers", "cpu memory\n");
	fixture_printf(root, "sys/fs/cgroup/train.slice/cgroup.controllers", "cpu memory\n");
	fixture_printf(root, "sys/fs/cgroup/train.slice/job1/cgroup.controllers", "cpu\n");
	fixture_mkdir(root, "sys/fs/cgroup/v1-style");
	t = (struct pin_target){ .kind = PIN_CGROUP, .cgroup = "/sys/fs/cgroup/train.slice/" };
	CHECK_INT(placement_pin(P, &t, 0, PIN_FROM_CONTROL, &p, &param, err, sizeof(err)), 0,
		  "cgroup /sys/fs/cgroup/train.slice/ pinned to node 0 %s", err);
	CHECK(!strcmp(p.path, "/train.slice") && p.cgroup_id == ino_of("sys/fs/cgroup/train.slice"),
	      "under its path below the mount (%s), keyed by its directory's inode number", p.path);
	r = rec_find(cg_map, nr_cg_map, ino_of("sys/fs/cgroup/train.slice"));
	CHECK(r && r->node == 0 && count_cg == 1, "the scheduler's cgroup map has it, with dense node 0");
	CHECK(placement_overridden_by(P, 103) == NULL, "a process outside the cgroup is not overridden");
	t.cgroup = "train.slice/./job1";
	CHECK_INT(placement_pin(P, &t, 2, PIN_FROM_CONTROL, &p, &param, err, sizeof(err)), 0,
		  "a relative path with '.' names /train.slice/job1 %s", err);
	CHECK(!strcmp(p.path, "/train.slice/job1"), "normalised to %s", p.path);
	t.cgroup = "/train.slice/../etc";
	CHECK(placement_pin(P, &t, 0, PIN_FROM_CONTROL, NULL, &param, err, sizeof(err)) < 0 &&
	      !strcmp(param, "cgroup") && strstr(err, "'..'"), "'..' is refused: %s", err);
	t.cgroup = "/";
	CHECK(placement_pin(P, &t, 0, PIN_FROM_CONTROL, NULL, &param, err, sizeof(err)) < 0 &&
	      strstr(err, "root cgroup"), "the root cgroup is refused: %s", err);
	t.cgroup = "/nope";
	CHECK(placement_pin(P, &t, 0, PIN_FROM_CONTROL, NULL, &param, err, sizeof(err)) == -ENOENT &&
	      strstr(err, "no cgroup /nope"), "a missing cgroup is refused: %s", err);
	t.cgroup = "/v1-style";
	CHECK(placement_pin(P, &t, 0, PIN_FROM_CONTROL, NULL, &param, err, sizeof(err)) < 0 &&
	      strstr(err, "not a cgroup v2"), "a directory without cgroup.controllers is refused: %s", err);
	CHECK_INT(nr_cg_map, 2, "the refusals changed nothing");

	/* A removed cgroup waits; created again, it is pinned under its new id. */
	rm_rf("sys/fs/cgroup/train.slice/job1");
	placement_scan_now(P);
	CHECK_INT(nr_cg_map, 1, "a removed cgroup leaves the scheduler's map");
	CHECK_INT(placement_pins(P, &(const struct pin *){ NULL }), 3, "but its rule stays");
	fixture_printf(root, "sys/fs/cgroup/train.slice/job1/cgroup.controllers", "cpu\n");
	placement_scan_now(P);
	r = rec_find(cg_map, nr_cg_map, ino_of("sys/fs/cgroup/train.slice/job1"));
	CHECK(r && r->node == 1, "created again, it is back in the map under its new id");

	/* Unpin. */
	t = (struct pin_target){ .kind = PIN_CGROUP, .cgroup = "/train.slice/job1" };
	CHECK(placement_unpin(P, &t, &p, &param, err, sizeof(err)) == 0 && p.node == 2,
	      "unpin of a cgroup returns the removed rule");
	CHECK_INT(nr_cg_map, 1, "and it leaves the map");
	CHECK(placement_unpin(P, &t, &p, &param, err, sizeof(err)) == -ENOENT && strstr(err, "no rule for cgroup"),
	      "unpinning it again says there is no such rule: %s", err);

	/* Scope cgroup: a cgroup whose GPU processes agree on a node gets it; one that mixes nodes does not. */
	placement_set_scope(P, GPU_SCOPE_CGROUP);
	placement_scan_now(P);
	CHECK(!rec_find(cg_map, nr_cg_map, ino_of("sys/fs/cgroup/user.slice")),
	      "scope cgroup: /user.slice holds GPU processes of nodes 0 and 2: no home for it");
	fixture_printf(root, "sys/fs/cgroup/user.slice/cgroup.controllers", "cpu\n");
	fixture_printf(root, "sys/fs/cgroup/other.slice/cgroup.controllers", "cpu\n");
	fixture_printf(root, "proc/106/cgroup", "0::/other.slice\n");
	placement_scan_now(P);
	r = rec_find(cg_map, nr_cg_map, ino_of("sys/fs/cgroup/user.slice"));
	CHECK(r && r->node == 1 && rec_find(cg_map, nr_cg_map, ino_of("sys/fs/cgroup/other.slice")) &&
	      rec_find(cg_map, nr_cg_map, ino_of("sys/fs/cgroup/other.slice"))->node == 0,
	      "scope cgroup: each cgroup whose GPU processes share a node gets that node");
	CHECK(!rec_find(cg_map, nr_cg_map, ino_of("sys/fs/cgroup/train.slice/job1")),
	      "scope cgroup: a cgroup under a pinned one is the pin's");
	placement_set_scope(P, GPU_SCOPE_TREE);
	placement_scan_now(P);
	CHECK(!rec_find(cg_map, nr_cg_map, ino_of("sys/fs/cgroup/user.slice")) &&
	      !rec_find(cg_map, nr_cg_map, ino_of("sys/fs/cgroup/other.slice")),
	      "scope tree: the cgroup homes go");
	fixture_printf(root, "proc/106/cgroup", "0::/user.slice\n");

	/* A pinned process that exits takes its rule along, and its GPU home. */
	rm_rf("proc/100");
	placement_scan_now(P);
	CHECK(!tgid_home(100), "process 100 exited: no entry");
	CHECK_INT(placement_pins(P, &(const struct pin *){ NULL }), 1, "and its rule is gone; the cgroup's stays");
	/* A pid reused by another process does not inherit a rule. */
	t = (struct pin_target){ .kind = PIN_PROCESS, .pid = 102 };
	placement_pin(P, &t, 0, PIN_FROM_CONTROL, NULL, &param, err, sizeof(err));
	proc(102, 102, "other", 0, 9999, "/user.slice");
	placement_scan_now(P);
	CHECK(!tgid_home(102) && placement_pins(P, &(const struct pin *){ NULL }) == 1,
	      "a pid reused by a new process (other start time) loses the old rule");

	/* A zombie has exited: it cannot be pinned, and a pinned process that becomes one loses its rule. */
	proc(108, 108, "zombie", 0, 1008, "/user.slice");
	zombie(108, "zombie", 1008);
	t = (struct pin_target){ .kind = PIN_PROCESS, .pid = 108 };
	CHECK(placement_pin(P, &t, 0, PIN_FROM_CONTROL, NULL, &param, err, sizeof(err)) == -ESRCH &&
	      !strcmp(param, "pid") && strstr(err, "zombie"), "a zombie is refused: %s", err);
	proc(109, 109, "dying", 0, 1009, "/user.slice");
	t.pid = 109;
	placement_pin(P, &t, 0, PIN_FROM_CONTROL, NULL, &param, err, sizeof(err));
	CHECK(tgid_home(109) && tgid_home(109)->pinned, "process 109 pinned");
	zombie(109, "dying", 1009);
	CHECK(!pin_of(109) || !pin_of(109)->active, "once a zombie its rule is inactive at once, before any tick");
	placement_scan_now(P);
	CHECK(!tgid_home(109) && !pin_of(109), "and the next pass removes its entry and its rule");

	/* Installing checks the start time too: a pid reused between two ticks gets no rule. */
	t.pid = 105;
	placement_pin(P, &t, 0, PIN_FROM_CONTROL, NULL, &param, err, sizeof(err));
	CHECK(tgid_home(105) && tgid_home(105)->pinned, "process 105 pinned");
	proc(105, 105, "reused", 0, 7777, "/user.slice");
	nr_tgid_map = nr_cg_map = 0;
	placement_attached(P);
	CHECK(!tgid_home(105), "a re-attach before the next tick does not pin the process now using pid 105");
	CHECK(pin_of(105) && !pin_of(105)->active, "and its rule shows inactive");
	placement_scan_now(P);
	CHECK(!pin_of(105), "the next pass drops the rule");
	rm_rf("proc/105");
	rm_rf("proc/108");
	rm_rf("proc/109");

	/* The configuration's pins: replaced as a set; socket rules stay. */
	struct pin_rule cfg_pins[2] = {
		{ .target = { .kind = PIN_PROCESS, .pid = 103 }, .node = 0, .line = 7 },
		{ .target = { .kind = PIN_CGROUP, .cgroup = "/missing" }, .node = 0, .line = 8 },
	};
	placement_set_config_pins(P, cfg_pins, 2, "test.conf");
	r = tgid_home(103);
	CHECK(r && r->pinned && r->node == 0, "a config pin of process 103 beats its GPU home (node 2)");
	CHECK_INT(placement_pins(P, &(const struct pin *){ NULL }), 2,
		  "the config's missing cgroup is skipped, the socket's cgroup rule stays");
	placement_set_config_pins(P, cfg_pins, 0, "test.conf");
	r = tgid_home(103);
	CHECK(r && !r->pinned && r->node == 1, "a reload without it gives 103 its GPU home back");

	/* A new attach: empty maps, everything installed again. */
	nr_tgid_map = nr_cg_map = 0;
	placement_attached(P);
	CHECK(tgid_home(101) && tgid_home(103) && nr_cg_map == 1, "after a re-attach every entry is installed again");

	/* The daemon's way: started by the first attach, then driven by its timer's ticks. */
	new_placement();
	nr_tgid_map = nr_cg_map = 0;
	placement_tick(P);
	CHECK_INT(nr_tgid_map, 0, "a tick before any attach does nothing");
	placement_attached(P);
	CHECK_INT(nr_tgid_map, 0, "the first attach starts the module; the scan waits for the timer");
	placement_tick(P);
	CHECK(tgid_home(101) && tgid_home(103) && tgid_home(106), "the first tick scans and installs the GPU homes");
	writes = map_writes;
	placement_tick(P);
	CHECK_INT(map_writes, writes, "a tick before the next pass is due changes nothing");

	/* GPUs vanish: so do the GPU homes. */
	rm_rf("sys/bus/pci");
	new_placement();
	nr_tgid_map = nr_cg_map = 0;
	CHECK_INT(placement_scan_now(P), 0, "a host without GPUs scans fine");
	CHECK_INT(nr_tgid_map, 0, "and has no GPU home");
	placement_free(P);
	P = NULL;
}

int main(void)
{
	struct gpu_list l;
	char err[256];

	log_init(LOG_CRIT);
	snprintf(root, sizeof(root), "%s/scx-gpu-test.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(root))
		check_bail("mkdtemp: %s", strerror(errno));
	build_host();
	build_procs();
	test_discovery();
	if (gpu_discover(root, &l, err, sizeof(err)) < 0)
		check_bail("%s", err);
	test_scan(&l);
	test_scan_yields(&l);
	test_scan_denied(&l);
	test_placement();
	rm_rf("");
	return check_done();
}
