// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's sources of GPU evidence over fixture trees: DRM fdinfo in
 * the documented amdgpu, i915 and xe formats (and malformed ones), a
 * process's DRM clients judged by memory and engine time growth, KFD's
 * processes mapped through its topology to PCI, accelerators, and the
 * association taking a ROCm process's KFD GPU over the render nodes it
 * holds open on every GPU.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "assoc.h"
#include "check.h"
#include "fixture.h"
#include "gpuenv.h"
#include "gpusrc.h"

static char root[PATH_MAX];
static struct gpu_list gl;

static void put(const char *rel, const char *text)
{
	fixture_puts(root, rel, text);
}

static void fd_link(int pid, int fd, const char *target)
{
	char rel[64];

	snprintf(rel, sizeof(rel), "proc/%d/fd/%d", pid, fd);
	fixture_link(root, rel, target);
}

static void proc(int pid)
{
	char rel[64], text[256];

	snprintf(rel, sizeof(rel), "proc/%d/stat", pid);
	snprintf(text, sizeof(text), "%d (hip) S 1 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 %d 0 0\n", pid, 500 + pid);
	put(rel, text);
	snprintf(rel, sizeof(rel), "proc/%d/environ", pid);
	put(rel, "");
	snprintf(rel, sizeof(rel), "proc/%d/task/%d/children", pid, pid);
	put(rel, "");
}

static const char amdgpu[] =
	"pos:\t0\nflags:\t02100002\nmnt_id:\t25\nino:\t1066\n"
	"drm-driver:\tamdgpu\ndrm-client-id:\t42\ndrm-pdev:\t0000:03:00.0\npasid:\t32771\n"
	"drm-memory-vram:\t1024 KiB\ndrm-memory-gtt:\t2048 KiB\ndrm-memory-cpu:\t0 KiB\n"
	"amd-memory-visible-vram:\t0 KiB\namd-evicted-vram:\t0 KiB\n"
	"drm-engine-gfx:\t1234567 ns\ndrm-engine-compute:\t100 ns\ndrm-engine-capacity-gfx:\t2\n";
static const char i915[] =
	"pos:\t0\nflags:\t02100002\n"
	"drm-driver:\ti915\ndrm-client-id:\t7\ndrm-pdev:\t0000:00:02.0\n"
	"drm-total-system0:\t8 MiB\ndrm-shared-system0:\t0\ndrm-active-system0:\t0\ndrm-resident-system0:\t0\n"
	"drm-engine-render:\t25662044495 ns\ndrm-engine-copy:\t0 ns\ndrm-engine-video:\t0 ns\n"
	"drm-engine-capacity-video:\t2\n";
static const char xe[] =
	"pos:\t0\nflags:\t00080002\n"
	"drm-driver:\txe\ndrm-client-id:\t105\ndrm-pdev:\t0000:c1:00.0\n"
	"drm-total-system:\t0\ndrm-total-gtt:\t0\ndrm-total-vram0:\t24 KiB\ndrm-resident-vram0:\t24 KiB\n"
	"drm-cycles-rcs:\t28257900\ndrm-total-cycles-rcs:\t7655183225\ndrm-engine-capacity-ccs:\t4\n";

static void test_parse(void)
{
	struct drm_client c;

	CHECK(!drm_fdinfo_parse(amdgpu, &c) && !strcmp(c.pdev, "0000:03:00.0") && c.client_id == 42 &&
	      c.mem_bytes == 2048 * 1024 && c.engine_ns == 1234667,
	      "amdgpu: device, client, memory (the largest region, KiB scaled) and engine time (capacity left out)");
	CHECK(!drm_fdinfo_parse(i915, &c) && !strcmp(c.pdev, "0000:00:02.0") && c.client_id == 7 &&
	      c.mem_bytes == 8 << 20 && c.engine_ns == 25662044495ULL,
	      "i915: nothing resident, so drm-total counts (MiB scaled); engine ns summed");
	CHECK(!drm_fdinfo_parse(xe, &c) && !strcmp(c.pdev, "0000:c1:00.0") && c.client_id == 105 &&
	      c.mem_bytes == 24 * 1024 && c.engine_ns == 28257900,
	      "xe: resident VRAM; drm-cycles counted, the GPU's drm-total-cycles clock not");
	CHECK(drm_fdinfo_parse("pos:\t0\nflags:\t02\nmnt_id:\t15\n", &c) == -ENOENT,
	      "a file that is not a DRM client's is not one");
	CHECK(drm_fdinfo_parse("drm-client-id:\t1\n", &c) == -ENOENT, "no drm-pdev: not usable");
	CHECK(drm_fdinfo_parse("drm-pdev:\t0000:03:00.0; rm\ndrm-client-id:\t1\n", &c) == -EINVAL,
	      "a drm-pdev with bytes no PCI address has is refused");
	CHECK(drm_fdinfo_parse("drm-pdev:\t0000:03:00.0\ndrm-client-id:\tx\n", &c) == -EINVAL,
	      "a client id that is not a number is refused");
	CHECK(!drm_fdinfo_parse("drm-pdev:\t0000:03:00.0\ndrm-client-id:\t3\ndrm-memory-vram:\t99999999999999999999 KiB\n"
				"drm-engine-gfx:\t12 parsecs\ndrm-memory-gtt:\t5 KiB\n", &c) && c.mem_bytes == 5120 &&
	      !c.engine_ns, "overflowing and malformed values are ignored, the rest still read");
}

static uint64_t uses_of(const struct use_list *l, pid_t pid, enum gpu_source src, uint64_t *bytes)
{
	uint64_t m = 0;

	*bytes = 0;
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].pid == pid && l->v[i].src == src) {
			m |= 1ULL << l->v[i].gpu;
			*bytes += l->v[i].bytes;
		}
	return m;
}

static void test_fdinfo(void)
{
	struct fdinfo_state *s = fdinfo_state_new();
	struct use_list l = { 0 };
	uint64_t cov = 0, bytes;

	/* Process 300: amdgpu client holding memory through two fds (one client), and a pipe. */
	fd_link(300, 3, "/dev/dri/renderD128");
	fd_link(300, 4, "/dev/dri/renderD128");
	fd_link(300, 5, "pipe:[1234]");
	put("proc/300/fdinfo/3", amdgpu);
	put("proc/300/fdinfo/4", amdgpu);
	/* Process 301: an xe client with no memory, whose engine time then grows. */
	fd_link(301, 3, "/dev/dri/renderD129");
	put("proc/301/fdinfo/3", "drm-pdev:\t0000:c1:00.0\ndrm-client-id:\t9\ndrm-cycles-rcs:\t100\n");
	fdinfo_pass_begin(s);
	fdinfo_read(s, root, 300, &gl, &l, &cov);
	CHECK(uses_of(&l, 300, GSRC_FDINFO, &bytes) == 1 && bytes == 2048 * 1024 && l.n == 1 && cov == 1,
	      "a client holding memory uses its GPU, counted once for its two fds");
	cov = 0;
	fdinfo_read(s, root, 301, &gl, &l, &cov);
	CHECK(!uses_of(&l, 301, GSRC_FDINFO, &bytes) && cov == 2,
	      "an idle client seen for the first time uses nothing (but its GPU is answered for)");
	fdinfo_pass_begin(s);
	fdinfo_read(s, root, 301, &gl, &l, &cov);
	CHECK(!uses_of(&l, 301, GSRC_FDINFO, &bytes), "engine time that did not grow: still nothing");
	put("proc/301/fdinfo/3", "drm-pdev:\t0000:c1:00.0\ndrm-client-id:\t9\ndrm-cycles-rcs:\t250\n");
	fdinfo_pass_begin(s);
	fdinfo_read(s, root, 301, &gl, &l, &cov);
	CHECK(uses_of(&l, 301, GSRC_FDINFO, &bytes) == 2, "engine time that grew since the last pass: the GPU is used");
	/*
	 * Process 302: client 5 on each GPU (i915 and older amdgpu number clients
	 * per device), both idle, then only the one on GPU 1 busier. Whichever fd
	 * is read first, one GPU's time as the other's baseline breaks a check.
	 */
	fd_link(302, 3, "/dev/dri/renderD128");
	fd_link(302, 4, "/dev/dri/renderD129");
	put("proc/302/fdinfo/3", "drm-pdev:\t0000:03:00.0\ndrm-client-id:\t5\ndrm-engine-gfx:\t500 ns\n");
	put("proc/302/fdinfo/4", "drm-pdev:\t0000:c1:00.0\ndrm-client-id:\t5\ndrm-cycles-rcs:\t100\n");
	for (int pass = 0; pass < 2; pass++) {
		l.n = 0;
		fdinfo_pass_begin(s);
		fdinfo_read(s, root, 302, &gl, &l, &cov);
	}
	CHECK(!uses_of(&l, 302, GSRC_FDINFO, &bytes), "one client id on two GPUs, both idle: nothing used");
	put("proc/302/fdinfo/4", "drm-pdev:\t0000:c1:00.0\ndrm-client-id:\t5\ndrm-cycles-rcs:\t200\n");
	l.n = 0;
	fdinfo_pass_begin(s);
	fdinfo_read(s, root, 302, &gl, &l, &cov);
	CHECK(uses_of(&l, 302, GSRC_FDINFO, &bytes) == 2,
	      "one client id on two GPUs: the engine time that grew is measured against its own GPU's");
	l.n = 0;
	fdinfo_read(s, root, 999, &gl, &l, &cov);
	CHECK(!l.n, "a process gone mid-scan reads as nothing");
	free(l.v);
	fdinfo_state_free(s);
}

static void test_kfd(void)
{
	struct use_list l = { 0 };
	struct gpu_uuids ids = { 0 };
	uint64_t cov = 0, bytes;

	put("sys/class/kfd/kfd/topology/nodes/0/gpu_id", "0\n");
	put("sys/class/kfd/kfd/topology/nodes/0/properties", "cpu_cores_count 4\nsimd_count 0\n");
	put("sys/class/kfd/kfd/topology/nodes/1/gpu_id", "12345\n");
	put("sys/class/kfd/kfd/topology/nodes/1/properties",
	    "simd_count 304\nlocation_id 768\ndomain 0\nunique_id 3735928559\n");
	put("sys/class/kfd/kfd/topology/nodes/2/gpu_id", "222\n");
	put("sys/class/kfd/kfd/topology/nodes/2/properties", "simd_count 304\nlocation_id 49408\nunique_id x1\n");
	put("sys/class/kfd/kfd/topology/nodes/3/gpu_id", "333\n");
	put("sys/class/kfd/kfd/topology/nodes/3/properties", "location_id 99999999\nunique_id 42\n");
	put("sys/class/kfd/kfd/proc/500/vram_12345", "1048576\n");
	put("sys/class/kfd/kfd/proc/500/vram_222", "0\n");
	put("sys/class/kfd/kfd/proc/600/vram_222", "0\n");
	put("sys/class/kfd/kfd/proc/600/queues/7/gpuid", "222\n");
	put("sys/class/kfd/kfd/proc/700/vram_12345", "lots\n");
	put("sys/class/kfd/kfd/proc/700/vram_555", "4096\n");
	put("sys/class/kfd/kfd/proc/700/queues/1/gpuid", "9\n");
	put("sys/class/kfd/kfd/proc/notapid/vram_222", "4096\n");
	CHECK(kfd_read(root, &gl, &l, &cov, &ids) == 3 && cov == 3, "KFD: its processes read, its two GPUs mapped to PCI");
	CHECK(ids.n == 1 && !strcmp(ids.v[0].uuid, "GPU-00000000deadbeef") && ids.v[0].gpu == 0,
	      "KFD's unique_id is the GPU's UUID as ROCm prints it (16 hex digits); a garbage one, none, and a GPU "
	      "not ours gives none");
	CHECK(uses_of(&l, 500, GSRC_KFD, &bytes) == 1 && bytes == 1048576,
	      "VRAM on GPU 0000:03:00.0 (location_id 768 = bus 3): used, with its bytes; 0 bytes elsewhere: not");
	CHECK(uses_of(&l, 600, GSRC_KFD, &bytes) == 2 && !bytes,
	      "a compute queue on 0000:c1:00.0 (no domain property: domain 0) is use without VRAM");
	CHECK(!uses_of(&l, 700, GSRC_KFD, &bytes), "garbage VRAM, unknown GPU ids and a bad location: nothing");
	free(l.v);
	gpu_uuids_free(&ids);
}

static void test_assoc_rocm(void)
{
	struct assoc *a = assoc_new();
	struct gpu_proc *out = NULL;
	const struct scan_hit hits[] = { { 500, 3 }, { 800, 4 } };
	struct assoc_in in = { .root = root, .gpus = &gl, .hits = hits, .nr_hits = 2, .scope = GPU_SCOPE_PROCESS,
			       .kernel_sources = true };
	ssize_t n;

	/* 500: a ROCm process with every GPU's render node open, VRAM on one (KFD above); 800: an accelerator's owner. */
	proc(500);
	proc(800);
	fd_link(800, 3, "/dev/accel/accel0");
	n = assoc_run(a, &in, &out);
	CHECK(n == 2 && out[0].pid == 500 && out[0].source == GSRC_KFD && out[0].node == 0 && out[0].gpus == 1,
	      "a ROCm process holding every GPU open is placed on the node of its KFD GPU");
	CHECK(n == 2 && out[1].pid == 800 && out[1].source == GSRC_ACCEL && out[1].node == 1,
	      "an accelerator held open places its owner, as accel evidence");
	free(out);
	assoc_free(a);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char cmd[PATH_MAX + 16];

	snprintf(root, sizeof(root), "%s/test-gpusrc.%d", tmp, (int)getpid());
	if (mkdir(root, 0755) < 0)
		check_bail("mkdir %s: %s", root, strerror(errno));
	gl.nr = 3;
	gl.gpu[0] = (struct gpu){ .pci = "0000:03:00.0", .vendor = 0x1002, .class = 0x038000, .node = 0,
				  .nr_dev = 1, .dev = { "/dev/dri/renderD128" }, .nv_minor = -1 };
	gl.gpu[1] = (struct gpu){ .pci = "0000:c1:00.0", .vendor = 0x1002, .class = 0x038000, .node = 1,
				  .nr_dev = 1, .dev = { "/dev/dri/renderD129" }, .nv_minor = -1 };
	gl.gpu[2] = (struct gpu){ .pci = "0000:e1:00.0", .vendor = 0x1da3, .class = 0x120000, .node = 1,
				  .nr_dev = 1, .dev = { "/dev/accel/accel0" }, .nv_minor = -1 };
	test_parse();
	test_fdinfo();
	test_kfd();
	test_assoc_rocm();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd))
		return 1;
	return check_done();
}
