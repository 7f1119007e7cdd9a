// SPDX-License-Identifier: GPL-2.0
/*
 * The association over a fake /proc: two NVIDIA GPUs on two nodes, ranks
 * that hold both open (as every CUDA process does) and NVML naming the one
 * each uses; memory deciding between nodes; environment hints when NVML is
 * silent; LOCAL_RANK breaking ties; whole jobs (forked workers inherit
 * their rank's home, unless they have evidence of their own); processes
 * confined to one node left alone; processes that exit mid-pass; the
 * environment read once per process (and again for MIG instances NVML
 * names later); a UUID that matches nothing logged once.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "assoc.h"
#include "check.h"
#include "fixture.h"

static char root[PATH_MAX];
static struct gpu_list gl;
static int confined_pid = -1, confined_node = -1;

static void put(const char *rel, const char *text, size_t len)
{
	fixture_put(root, rel, text, len);
}

/* A process: its stat (with @start), environment ("A=1|B=2", | for NUL) and children. */
static void proc(int pid, int ppid, unsigned long start, const char *env, const char *kids)
{
	char rel[128], text[512];
	size_t n;

	snprintf(rel, sizeof(rel), "proc/%d/stat", pid);
	n = (size_t)snprintf(text, sizeof(text), "%d (python3) S %d 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 %lu 0 0\n",
			     pid, ppid, start);
	put(rel, text, n);
	snprintf(rel, sizeof(rel), "proc/%d/environ", pid);
	n = strlen(env);
	memcpy(text, env, n + 1);
	for (size_t i = 0; i < n; i++)
		if (text[i] == '|')
			text[i] = '\0';
	put(rel, text, n ? n + 1 : 0);
	snprintf(rel, sizeof(rel), "proc/%d/task/%d/children", pid, pid);
	put(rel, kids, strlen(kids));
}

static int fake_aff(pid_t pid, uint8_t *mask, int nr_cpus)
{
	/* CPUs 0-1 on node 0, 2-3 on node 1; one process confined, the rest anywhere. */
	for (int c = 0; c < nr_cpus; c++)
		mask[c] = pid != confined_pid || (c / 2) == confined_node;
	return 0;
}

static const int cpu_node[4] = { 0, 0, 1, 1 };

static struct nv_snapshot snap;
static struct nv_use uses[16];

static void nv_use(pid_t pid, int gpu, uint64_t bytes)
{
	uses[snap.nr_uses++] = (struct nv_use){ .pid = pid, .gpu = gpu, .bytes = bytes };
}

static struct gpu_proc *got;
static ssize_t nr_got;

static void run(struct assoc *a, const struct scan_hit *hits, size_t nh, bool nvml, enum gpu_scope scope)
{
	struct assoc_in in = { .root = root, .gpus = &gl, .hits = hits, .nr_hits = nh, .nv = nvml ? &snap : NULL,
			       .scope = scope, .cpu_node = cpu_node, .nr_cpus = 4, .aff_get = fake_aff };

	free(got);
	nr_got = assoc_run(a, &in, &got);
	if (nr_got < 0)
		check_bail("assoc_run: %s", strerror((int)-nr_got));
	for (ssize_t i = 1; i < nr_got; i++)
		if (got[i - 1].pid >= got[i].pid)
			check_bail("assoc_run: output not in pid order");
}

static const struct gpu_proc *of(pid_t pid)
{
	for (ssize_t i = 0; i < nr_got; i++)
		if (got[i].pid == pid)
			return &got[i];
	return NULL;
}

static bool placed(pid_t pid, int node, enum gpu_source src, pid_t via)
{
	const struct gpu_proc *p = of(pid);

	return p && p->node == node && p->source == src && p->via == via && !p->alone;
}

#define BOTH	3ULL
#define MIG_A	"MIG-aaaa0000-1111-2222-3333-444444444444"
#define MIG_B	"MIG-bbbb0000-1111-2222-3333-444444444444"

/* Run @fn with stderr (the log) going to a file; return how often @needle is in what it wrote. */
static int log_count(void (*fn)(struct assoc *), struct assoc *a, const char *needle)
{
	char path[PATH_MAX + 16], buf[8192];
	int fd, saved, n = 0;
	ssize_t len;

	snprintf(path, sizeof(path), "%s/log", root);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || saved < 0 || dup2(fd, STDERR_FILENO) < 0)
		check_bail("redirecting stderr: %s", strerror(errno));
	fn(a);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	len = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	buf[len > 0 ? len : 0] = '\0';
	fputs(buf, stderr);
	for (const char *p = buf; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* Two processes and two passes with one UUID that names no GPU here. */
static void unmatched_passes(struct assoc *a)
{
	const struct scan_hit hits[] = { { 700, BOTH }, { 701, BOTH } };

	run(a, hits, 2, true, GPU_SCOPE_TREE);
	run(a, hits, 2, true, GPU_SCOPE_TREE);
}

/*
 * MIG: a rank names its MIG instances in CUDA_VISIBLE_DEVICES; only NVML
 * knows which GPU each sits on. Its memory is on both GPUs evenly, so
 * LOCAL_RANK decides: the second instance, on GPU 0.
 */
static void test_mig(struct assoc *a)
{
	const struct scan_hit hits[] = { { 600, BOTH } };
	const struct gpu_proc *p;

	proc(600, 1, 6000, "CUDA_VISIBLE_DEVICES=" MIG_A "," MIG_B "|LOCAL_RANK=1", "");
	snap.nr_uses = 0;
	nv_use(600, 0, 1 << 30);
	nv_use(600, 1, 1 << 30);
	snap.nr_migs = 0;
	/* NVML has not named the instances yet: LOCAL_RANK counts every NVIDIA GPU. */
	run(a, hits, 1, true, GPU_SCOPE_TREE);
	p = of(600);
	CHECK(p && p->node == 1, "MIG instances NVML has not named: LOCAL_RANK=1 counts all GPUs, GPU 1's node");
	snap.mig[0] = (struct nv_mig){ .gpu = 1, .uuid = MIG_A };
	snap.mig[1] = (struct nv_mig){ .gpu = 0, .uuid = MIG_B };
	snap.nr_migs = 2;
	run(a, hits, 1, true, GPU_SCOPE_TREE);
	CHECK(placed(600, 0, GSRC_NVML, 0),
	      "once NVML names them, the environment is read again and LOCAL_RANK=1 is the second MIG instance: "
	      "GPU 0's node");

	/* A UUID no vendor knows: ignored, and said once however many processes carry it, pass after pass. */
	proc(700, 1, 7000, "CUDA_VISIBLE_DEVICES=MIG-dead0000-1111-2222-3333-444444444444|LOCAL_RANK=0", "");
	proc(701, 1, 7001, "CUDA_VISIBLE_DEVICES=MIG-dead0000-1111-2222-3333-444444444444|LOCAL_RANK=0", "");
	nv_use(700, 1, 1 << 20);
	nv_use(701, 1, 1 << 20);
	CHECK_INT(log_count(unmatched_passes, a, "MIG-dead0000-1111-2222-3333-444444444444"), 1,
		  "a UUID that matches no GPU is logged once for two processes and two passes");
	CHECK(placed(700, 1, GSRC_NVML, 0) && placed(701, 1, GSRC_NVML, 0),
	      "and is ignored: NVML's evidence places them");
	snap.nr_migs = 0;
	snap.nr_uses = 0;
}

int main(void)
{
	struct assoc *a = assoc_new();
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char cmd[PATH_MAX + 16];
	const struct gpu_proc *p;

	snprintf(root, sizeof(root), "%s/test-assoc.%d", tmp, (int)getpid());
	if (mkdir(root, 0755) < 0)
		check_bail("mkdir %s: %s", root, strerror(errno));
	gl.nr = 2;
	gl.gpu[0] = (struct gpu){ .pci = "0000:21:00.0", .vendor = 0x10de, .device = 0x2330, .node = 0, .nv_minor = 0 };
	gl.gpu[1] = (struct gpu){ .pci = "0000:c1:00.0", .vendor = 0x10de, .device = 0x2330, .node = 1, .nv_minor = 1 };
	snap.nr_gpus = 2;
	snprintf(snap.pci[0], sizeof(snap.pci[0]), "0000:21:00.0");
	snprintf(snap.pci[1], sizeof(snap.pci[1]), "0000:c1:00.0");
	snap.use = uses;

	/* Two ranks of a torchrun job, each with a DataLoader worker that inherited every open GPU. */
	proc(100, 1, 1000, "LOCAL_RANK=0", "101");
	proc(101, 100, 1001, "LOCAL_RANK=0", "102");
	proc(102, 101, 1002, "", "");
	proc(200, 1, 2000, "LOCAL_RANK=1", "201");
	proc(201, 200, 2001, "LOCAL_RANK=1", "");
	/* Scheduled by its device list only, and one NVML does not list at all. */
	proc(300, 1, 3000, "CUDA_VISIBLE_DEVICES=1", "");
	proc(400, 1, 4000, "", "");
	/* Memory on both GPUs, more on GPU 1; and a worker with its own GPU under rank 100's launcher. */
	proc(500, 1, 5000, "", "");
	nv_use(100, 0, 1 << 30);
	nv_use(200, 1, 1 << 30);
	nv_use(500, 0, 1ULL << 30);
	nv_use(500, 1, 2ULL << 30);
	{
		const struct scan_hit hits[] = { { 100, BOTH }, { 101, BOTH }, { 102, BOTH }, { 200, BOTH },
						 { 201, BOTH }, { 300, BOTH }, { 400, BOTH }, { 500, BOTH },
						 { 999, BOTH } };
		const size_t nh = sizeof(hits) / sizeof(hits[0]);

		run(a, hits, nh, true, GPU_SCOPE_TREE);
		CHECK(placed(100, 0, GSRC_NVML, 0) && placed(200, 1, GSRC_NVML, 0),
		      "NVML: ranks that hold both GPUs open get the node of the GPU NVML lists them on");
		CHECK(placed(101, 0, GSRC_NVML, 100) && placed(102, 0, GSRC_NVML, 100) && placed(201, 1, GSRC_NVML, 200),
		      "tree: a rank's workers and theirs share its home, their inherited open GPUs notwithstanding");
		CHECK(!of(400), "an open NVIDIA GPU that NVML does not list the process on is no evidence");
		CHECK(placed(500, 1, GSRC_NVML, 0), "memory on GPUs of two nodes: the node holding most of it");
		CHECK(!of(999), "a process that exited mid-pass is not placed");
		p = of(300);
		CHECK(!p, "NVML on: a process it does not list is not placed by its device list alone");

		/* The same hosts without NVML: the device list, then the open nodes and LOCAL_RANK. */
		run(a, hits, nh, false, GPU_SCOPE_TREE);
		CHECK(placed(300, 1, GSRC_ENVIRON, 0), "no NVML: CUDA_VISIBLE_DEVICES=1 places the process on GPU 1's node");
		CHECK(placed(100, 0, GSRC_FDSCAN, 0) && placed(200, 1, GSRC_FDSCAN, 0),
		      "no NVML: GPUs open on both nodes, a tie LOCAL_RANK breaks");
		p = of(500);
		CHECK(p && p->node == -1 && p->alone && strstr(p->alone, "several nodes"),
		      "no NVML: an even tie without LOCAL_RANK is left to the policy, saying why");
		CHECK(placed(101, 0, GSRC_FDSCAN, 100), "no NVML: the worker still follows its rank");

		run(a, hits, nh, true, GPU_SCOPE_PROCESS);
		CHECK(placed(100, 0, GSRC_NVML, 0) && !of(101) && !of(102),
		      "scope process: the rank alone; its workers, which NVML does not list, get nothing");
		run(a, hits, nh, false, GPU_SCOPE_PROCESS);
		p = of(101);
		CHECK(p && p->via == 0 && p->source == GSRC_FDSCAN && p->node == 0 && of(102) && of(102)->via == 0 &&
		      of(102)->node == -1,
		      "scope process without NVML: each worker is judged on its own open GPUs and LOCAL_RANK");
	}

	/* A worker with NVML evidence of its own keeps it. */
	nv_use(101, 1, 1 << 20);
	{
		const struct scan_hit hits[] = { { 100, BOTH }, { 101, BOTH }, { 102, BOTH } };

		run(a, hits, 3, true, GPU_SCOPE_TREE);
		CHECK(placed(101, 1, GSRC_NVML, 0) && placed(102, 1, GSRC_NVML, 101),
		      "tree: a descendant using its own GPU keeps that home, and so do its own descendants");
	}
	snap.nr_uses--;

	/* Confined by affinity: left alone, its home named. */
	confined_pid = 200;
	confined_node = 0;
	{
		const struct scan_hit hits[] = { { 200, BOTH } };

		run(a, hits, 1, true, GPU_SCOPE_TREE);
		p = of(200);
		CHECK(p && p->node == 1 && p->alone && strstr(p->alone, "affinity"),
		      "a process the kernel keeps on one node is left alone, saying why");
		CHECK(placed(201, 1, GSRC_NVML, 200), "its unconfined worker still gets the GPU's node");
	}
	confined_pid = -1;

	/* The environment is read once per process: a changed file is not read again... */
	{
		const struct scan_hit hits[] = { { 300, BOTH } };

		run(a, hits, 1, false, GPU_SCOPE_TREE);
		proc(300, 1, 3000, "CUDA_VISIBLE_DEVICES=0", "");
		run(a, hits, 1, false, GPU_SCOPE_TREE);
		CHECK(placed(300, 1, GSRC_ENVIRON, 0), "environ: read once per process, not every pass");
		/* ... but a new process under the same pid is read afresh. */
		proc(300, 1, 3999, "CUDA_VISIBLE_DEVICES=0", "");
		run(a, hits, 1, false, GPU_SCOPE_TREE);
		CHECK(placed(300, 0, GSRC_ENVIRON, 0), "environ: a reused pid (new start time) is read again");
		/* Malformed children and environ: nothing placed wrongly. */
		proc(300, 1, 4111, "CUDA_VISIBLE_DEVICES=zz\x01", "abc 12x -5 0");
		run(a, hits, 1, false, GPU_SCOPE_TREE);
		p = of(300);
		CHECK(p && nr_got == 1 && p->source == GSRC_FDSCAN && p->node == -1,
		      "malformed environ and children lists: the open GPUs decide, no child is invented");
	}

	test_mig(a);

	/* A GPU on no known node. */
	gl.gpu[1].node = -1;
	{
		const struct scan_hit hits[] = { { 400, 2 } };

		run(a, hits, 1, false, GPU_SCOPE_TREE);
		p = of(400);
		CHECK(p && p->node == -1 && p->alone && strstr(p->alone, "unknown"),
		      "a GPU whose node is unknown places nothing and says so");
	}
	free(got);
	assoc_free(a);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd))
		return 1;
	return check_done();
}
