// SPDX-License-Identifier: GPL-2.0
/*
 * Environment hints: each form of device list (indices, UUIDs and their
 * prefixes, MIG, containers, Slurm, ROCm), the order rules, LOCAL_RANK as a
 * tie-breaker, and malformed blocks. GPU lists are built by hand: a BMC's
 * display controller first (it must not shift CUDA's indices), then four
 * NVIDIA GPUs whose device minors are not in PCI order.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "gpuenv.h"

static struct gpu_list nvl, amdl;
static struct gpu_uuids *ids;	/* the vendors' UUIDs env() reads against; NULL: none */

static void mk(struct gpu_list *l, uint16_t vendor, uint16_t device, int node, const char *uuid, int minor)
{
	struct gpu *g = &l->gpu[l->nr];

	snprintf(g->pci, sizeof(g->pci), "0000:%02x:00.0", 0x10 * (l->nr + 1));
	g->vendor = vendor;
	g->device = device;
	g->node = node;
	snprintf(g->uuid, sizeof(g->uuid), "%s", uuid);
	g->nv_minor = minor;
	l->nr++;
}

/* A block from "A=1|B=2" (| for NUL); the last string ends with its NUL. */
static struct gpu_env env(const struct gpu_list *l, const char *spec)
{
	char block[1024];
	struct gpu_env e;
	size_t n = strlen(spec);

	memcpy(block, spec, n + 1);
	for (size_t i = 0; i < n; i++)
		if (block[i] == '|')
			block[i] = '\0';
	gpuenv_parse(block, n + 1, l, ids, &e);
	return e;
}

#define B(i)	(1ULL << (i))
#define MIG_A	"MIG-0f0f0f0f-0000-0000-0000-000000000000"
#define MIG_B	"MIG-1e1e1e1e-0000-0000-0000-000000000000"

static void add_id(struct gpu_uuids *u, const char *uuid, int gpu)
{
	if (gpu_uuids_add(u, uuid, gpu) < 0)
		check_bail("gpu_uuids_add %s", uuid);
}

/* UUIDs the vendors give (NVML's GPUs and MIG instances, KFD's unique_id) name their GPUs too. */
static void test_vendor_uuids(void)
{
	struct gpu_uuids u = { 0 };
	char saved[GPU_UUID_LEN];
	struct gpu_env e;

	/* GPU 4's /proc entry has no UUID; NVML knows it, and two MIG instances on GPUs 3 and 1. */
	memcpy(saved, nvl.gpu[4].uuid, sizeof(saved));
	nvl.gpu[4].uuid[0] = '\0';
	add_id(&u, "GPU-cccc4444-0000-0000-0000-000000000000", 4);
	add_id(&u, "GPU-bbbb2222-0000-0000-0000-000000000000", 2);	/* the same as /proc says */
	add_id(&u, MIG_A, 3);
	add_id(&u, MIG_B, 1);
	add_id(&u, "GPU-00000000deadbeef", 7);	/* a GPU index past the list: ignored */
	ids = &u;
	e = env(&nvl, "CUDA_VISIBLE_DEVICES=" MIG_A);
	CHECK(e.var && e.gpus == B(3) && !e.unresolved && !e.unmatched[0],
	      "a MIG instance's UUID names the GPU NVML puts it under");
	e = env(&nvl, "CUDA_VISIBLE_DEVICES=MIG-1e1e");
	CHECK(e.gpus == B(1), "a unique prefix of a MIG UUID, as CUDA accepts");
	e = env(&nvl, "CUDA_VISIBLE_DEVICES=GPU-cccc4444-0000-0000-0000-000000000000");
	CHECK(e.gpus == B(4), "a GPU UUID only NVML knows names its GPU");
	e = env(&nvl, "NVIDIA_VISIBLE_DEVICES=" MIG_B "," MIG_A);
	CHECK(e.var && !strcmp(e.var, "NVIDIA_VISIBLE_DEVICES") && e.gpus == (B(1) | B(3)),
	      "a container's MIG instances by UUID");
	e = env(&nvl, "CUDA_VISIBLE_DEVICES=GPU-bbbb");
	CHECK(e.gpus == B(2) && !e.unresolved, "one GPU named by both /proc and NVML is one GPU, not an ambiguity");
	e = env(&nvl, "CUDA_VISIBLE_DEVICES=GPU-ffff9999-0000-0000-0000-000000000000," MIG_B);
	CHECK(e.gpus == B(1) && e.unresolved && !strcmp(e.unmatched, "GPU-ffff9999-0000-0000-0000-000000000000"),
	      "a UUID that matches nothing is skipped (and kept for the log); the rest of the list counts");
	e = env(&nvl, "CUDA_VISIBLE_DEVICES=" MIG_A "," MIG_B "|LOCAL_RANK=1");
	CHECK(e.rank_gpu == 1, "LOCAL_RANK picks among MIG instances in the list's order: the second one's GPU");
	e = env(&nvl, "CUDA_VISIBLE_DEVICES=GPU-00000000deadbeef");
	CHECK(!e.var && e.unresolved, "a vendor UUID for a GPU index we do not have names nothing");
	memcpy(nvl.gpu[4].uuid, saved, sizeof(saved));

	/* KFD's unique_id as ROCm prints it, for the AMD GPUs. */
	u.n = 0;
	add_id(&u, "GPU-00000000deadbeef", 2);
	add_id(&u, "GPU-0123456789abcdef", 0);
	e = env(&amdl, "ROCR_VISIBLE_DEVICES=GPU-00000000deadbeef");
	CHECK(e.var && !strcmp(e.var, "ROCR_VISIBLE_DEVICES") && e.gpus == B(2), "ROCR_VISIBLE_DEVICES by KFD UUID");
	e = env(&amdl, "HIP_VISIBLE_DEVICES=GPU-0123456789ABCDEF,1");
	CHECK(e.gpus == (B(0) | B(1)), "HIP_VISIBLE_DEVICES by UUID (any case) and by index");
	ids = NULL;
	e = env(&amdl, "ROCR_VISIBLE_DEVICES=GPU-00000000deadbeef");
	CHECK(!e.var && e.unresolved && !strcmp(e.unmatched, "GPU-00000000deadbeef"),
	      "without KFD's UUIDs an AMD UUID names nothing, and says which");
	gpu_uuids_free(&u);
}

int main(void)
{
	struct gpu_env e;

	mk(&nvl, 0x1a03, 0x2000, -1, "", -1);				/* 0: ASPEED BMC */
	mk(&nvl, 0x10de, 0x2330, 0, "GPU-aaaa1111-0000-0000-0000-000000000000", 2);	/* 1 */
	mk(&nvl, 0x10de, 0x2330, 0, "GPU-bbbb2222-0000-0000-0000-000000000000", 0);	/* 2 */
	mk(&nvl, 0x10de, 0x2330, 1, "GPU-aaaa3333-0000-0000-0000-000000000000", 3);	/* 3 */
	mk(&nvl, 0x10de, 0x2330, 1, "GPU-cccc4444-0000-0000-0000-000000000000", 1);	/* 4 */
	mk(&amdl, 0x1002, 0x74a1, 0, "", -1);
	mk(&amdl, 0x1002, 0x74a1, 0, "", -1);
	mk(&amdl, 0x1002, 0x74a1, 1, "", -1);

	e = env(&nvl, "PATH=/bin|HOME=/root");
	CHECK(!e.var && !e.gpus && e.rank_gpu == -1, "no device variable: no hint");

	e = env(&nvl, "CUDA_VISIBLE_DEVICES=2");
	CHECK(e.var && !strcmp(e.var, "CUDA_VISIBLE_DEVICES") && e.gpus == B(3),
	      "CUDA_VISIBLE_DEVICES=2 is the third NVIDIA GPU in PCI order (the BMC's display is not counted)");
	e = env(&nvl, "CUDA_VISIBLE_DEVICES=0, 3");
	CHECK(e.gpus == (B(1) | B(4)), "an index list with blanks names each GPU");
	e = env(&nvl, "CUDA_VISIBLE_DEVICES=1,7,2");
	CHECK(e.gpus == B(2), "CUDA ignores a list from its first index it does not have: so do we");
	e = env(&nvl, "CUDA_VISIBLE_DEVICES=");
	CHECK(e.var && !e.gpus, "an empty CUDA_VISIBLE_DEVICES: the process sees no GPU");
	e = env(&nvl, "CUDA_VISIBLE_DEVICES=-1");
	CHECK(e.var && !e.gpus, "CUDA_VISIBLE_DEVICES=-1: no GPU");

	e = env(&nvl, "CUDA_VISIBLE_DEVICES=GPU-bbbb2222-0000-0000-0000-000000000000");
	CHECK(e.gpus == B(2), "a full GPU UUID names its GPU");
	e = env(&nvl, "CUDA_VISIBLE_DEVICES=GPU-cccc");
	CHECK(e.gpus == B(4), "a unique UUID prefix names its GPU, as CUDA accepts");
	e = env(&nvl, "CUDA_VISIBLE_DEVICES=GPU-aaaa");
	CHECK(!e.var && e.unresolved, "an ambiguous UUID prefix names nothing (and says so)");
	e = env(&nvl, "CUDA_VISIBLE_DEVICES=" MIG_A);
	CHECK(!e.var && e.unresolved && !strcmp(e.unmatched, MIG_A),
	      "a MIG instance's UUID with no vendor to map it: no hint, unresolved, and the UUID kept for the log");
	e = env(&nvl, "CUDA_VISIBLE_DEVICES=MIG-GPU-bbbb2222-0000-0000-0000-000000000000/1/0");
	CHECK(e.gpus == B(2), "the older MIG-GPU-<uuid>/GI/CI form names its GPU by the GPU's UUID");
	test_vendor_uuids();

	/* Different models: CUDA's default order is fastest first, which we cannot know. */
	nvl.gpu[4].device = 0x2331;
	e = env(&nvl, "CUDA_VISIBLE_DEVICES=1");
	CHECK(!e.var && e.unresolved, "mixed models under the default CUDA_DEVICE_ORDER: an index is ambiguous");
	e = env(&nvl, "CUDA_DEVICE_ORDER=PCI_BUS_ID|CUDA_VISIBLE_DEVICES=1");
	CHECK(e.gpus == B(2), "CUDA_DEVICE_ORDER=PCI_BUS_ID makes indices PCI order again");
	nvl.gpu[4].device = 0x2330;

	e = env(&nvl, "NVIDIA_VISIBLE_DEVICES=2,3");
	CHECK(e.var && !strcmp(e.var, "NVIDIA_VISIBLE_DEVICES") && e.gpus == (B(3) | B(4)),
	      "a container's NVIDIA_VISIBLE_DEVICES names its GPUs");
	e = env(&nvl, "NVIDIA_VISIBLE_DEVICES=all");
	CHECK(!e.var, "NVIDIA_VISIBLE_DEVICES=all restricts nothing");
	e = env(&nvl, "NVIDIA_VISIBLE_DEVICES=2,3|CUDA_VISIBLE_DEVICES=1");
	CHECK(e.gpus == B(4), "inside a container, CUDA_VISIBLE_DEVICES counts the container's GPUs");
	e = env(&nvl, "NVIDIA_VISIBLE_DEVICES=GPU-bbbb2222-0000-0000-0000-000000000000");
	CHECK(e.gpus == B(2), "NVIDIA_VISIBLE_DEVICES by UUID");

	e = env(&nvl, "SLURM_JOB_GPUS=1,3");
	CHECK(e.var && !strcmp(e.var, "SLURM_JOB_GPUS") && e.gpus == (B(4) | B(3)),
	      "Slurm's GPU numbers are /dev/nvidiaN minors, not PCI order");
	e = env(&nvl, "SLURM_JOB_GPUS=0,1|SLURM_STEP_GPUS=3");
	CHECK(e.gpus == B(3), "the step's GPUs win over the job's");
	e = env(&nvl, "SLURM_STEP_GPUS=1,3|CUDA_VISIBLE_DEVICES=1");
	CHECK(e.gpus == B(3), "with fenced devices, CUDA_VISIBLE_DEVICES counts within the step's GPUs");
	e = env(&nvl, "SLURM_STEP_GPUS=1,3|CUDA_VISIBLE_DEVICES=1,3");
	CHECK(e.gpus == (B(2) | B(4)), "CUDA_VISIBLE_DEVICES equal to the step's list is the real indices");

	e = env(&amdl, "ROCR_VISIBLE_DEVICES=2");
	CHECK(e.var && !strcmp(e.var, "ROCR_VISIBLE_DEVICES") && e.gpus == B(2), "ROCR_VISIBLE_DEVICES by index");
	e = env(&amdl, "ROCR_VISIBLE_DEVICES=1,2|HIP_VISIBLE_DEVICES=0");
	CHECK(e.gpus == B(1), "HIP_VISIBLE_DEVICES counts within what ROCr left visible");
	e = env(&amdl, "HIP_VISIBLE_DEVICES=0,2");
	CHECK(e.gpus == (B(0) | B(2)), "HIP_VISIBLE_DEVICES alone");

	e = env(&nvl, "LOCAL_RANK=2");
	CHECK(!e.var && e.rank_gpu == 3, "LOCAL_RANK alone is only a tie-breaker: the rank's GPU among all NVIDIA GPUs");
	e = env(&nvl, "CUDA_VISIBLE_DEVICES=3,2|LOCAL_RANK=1");
	CHECK(e.gpus == (B(3) | B(4)) && e.rank_gpu == 3, "LOCAL_RANK counts in the visible list's order");
	e = env(&nvl, "LOCAL_RANK=9");
	CHECK(e.rank_gpu == -1, "a LOCAL_RANK past the visible GPUs picks nothing");
	e = env(&nvl, "LOCAL_RANK=x1");
	CHECK(e.rank_gpu == -1, "a LOCAL_RANK that is not a number picks nothing");

	{
		/* No NUL at the end: the unterminated string is not read. */
		static const char block[] = { 'C', 'U', 'D', 'A', '_', 'V', 'I', 'S', 'I', 'B', 'L', 'E', '_', 'D',
					      'E', 'V', 'I', 'C', 'E', 'S', '=', '1' };

		gpuenv_parse(block, sizeof(block), &nvl, NULL, &e);
		CHECK(!e.var, "an environment block cut off mid-string: the cut string is ignored");
	}
	e = env(&nvl, "CUDA_VISIBLE_DEVICES=1;rm -rf|X");
	CHECK(e.var && !e.gpus, "garbage in a list ends it");
	e = env(&nvl, "CUDA_VISIBLE_DEVICES=99999999999999999999");
	CHECK(e.var && !e.gpus, "an index too large for any host ends the list");
	e = env(&nvl, "XCUDA_VISIBLE_DEVICES=1|CUDA_VISIBLE_DEVICESX=1");
	CHECK(!e.var, "only the exact variable name counts");
	return check_done();
}
