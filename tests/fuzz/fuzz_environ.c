// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target for the environment hints (daemon/gpuenv.c): a process's
 * /proc/PID/environ, NUL-separated NAME=value strings the process wrote.
 *
 *   byte 0: the GPU list: bits 0-1 how many NVIDIA GPUs (0-3), bits 2-3 how
 *           many AMD GPUs (0-3), bit 4 the NVIDIA GPUs are of one model,
 *           bit 5 their UUIDs are known, bit 6 the vendors' UUIDs (MIG
 *           instances, KFD's) are given, bit 7 the block is repeated past
 *           what the reader reads (GPUENV_READ_MAX);
 *   the rest: the block.
 *
 * Promised: only GPUs of the list are named; no deciding variable, no GPUs;
 * the variable that decided is one of those gpuenv.h lists; LOCAL_RANK's
 * GPU is on the list and, when a variable decided, one of its GPUs; an
 * unmatched UUID is kept as printable UUID characters and marks the
 * result unresolved; a last string without its NUL changes nothing; the
 * same block gives the same result; and gpuenv_read of the file gives
 * what gpuenv_parse of its first GPUENV_READ_MAX bytes does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-util.h"
#include "gpuenv.h"

static const char *const vars[] = {
	"CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES",
	"HIP_VISIBLE_DEVICES", "SLURM_STEP_GPUS", "SLURM_JOB_GPUS",
};

/* NVIDIA GPUs first (bus 0x10 + i), then AMD (0x80 + i): the list is in PCI order. */
static void gpus(uint8_t shape, struct gpu_list *l, struct gpu_uuids *ids)
{
	int nv = shape & 3, amd = (shape >> 2) & 3;
	char uuid[GPU_UUID_LEN];

	memset(l, 0, sizeof(*l));
	for (int i = 0; i < nv + amd; i++) {
		struct gpu *g = &l->gpu[i];
		bool is_nv = i < nv;

		snprintf(g->pci, sizeof(g->pci), "0000:%02x:00.0", is_nv ? 0x10 + i : 0x80 + i);
		g->class = 0x030200;
		g->vendor = is_nv ? 0x10de : 0x1002;
		g->device = is_nv ? ((shape & 0x10) ? 0x2330 : (uint16_t)(0x2330 + i)) : 0x740f;
		g->node = i % 2;
		g->nv_minor = is_nv ? i : -1;
		if (is_nv && (shape & 0x20))
			snprintf(g->uuid, sizeof(g->uuid), "GPU-%d1a2b3c4-5d6e-7f80-9a0b-c1d2e3f4a5b6", i);
		if (!(shape & 0x40))
			continue;
		if (is_nv)
			snprintf(uuid, sizeof(uuid), "MIG-%d9f8e7d6-c5b4-5a39-8271-605f4e3d2c1b", i);
		else
			snprintf(uuid, sizeof(uuid), "GPU-%016llx", 0x5a6b7c8d9e0f1a2bULL + (unsigned)i);
		if (gpu_uuids_add(ids, uuid, i))
			abort();
	}
	l->nr = nv + amd;
}

static void check(const uint8_t *data, size_t size, const struct gpu_env *e, int nr)
{
	bool known = !e->var;

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		known |= e->var && !strcmp(e->var, vars[i]);
	if (!known)
		fuzz_broken(data, size, "decided by '%.64s'", e->var);
	if (e->gpus >> nr)
		fuzz_broken(data, size, "GPUs %#llx of %d", (unsigned long long)e->gpus, nr);
	if (!e->var && e->gpus)
		fuzz_broken(data, size, "GPUs %#llx named by no variable", (unsigned long long)e->gpus);
	if (e->rank_gpu < -1 || e->rank_gpu >= nr || (e->var && e->rank_gpu >= 0 && !(e->gpus >> e->rank_gpu & 1)))
		fuzz_broken(data, size, "LOCAL_RANK's GPU %d, %s named %#llx", e->rank_gpu, e->var ? e->var : "none",
			    (unsigned long long)e->gpus);
	if (!memchr(e->unmatched, '\0', sizeof(e->unmatched)) ||
	    strspn(e->unmatched, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-?") !=
		    strlen(e->unmatched) || (e->unmatched[0] && !e->unresolved))
		fuzz_broken(data, size, "unmatched UUID '%.*s', unresolved %d", (int)sizeof(e->unmatched),
			    e->unmatched, e->unresolved);
}

static bool same(const struct gpu_env *a, const struct gpu_env *b)
{
	return a->gpus == b->gpus && a->rank_gpu == b->rank_gpu && a->unresolved == b->unresolved &&
	       !strcmp(a->unmatched, b->unmatched) && (a->var == b->var || (a->var && b->var && !strcmp(a->var, b->var)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gpu_uuids ids = { 0 };
	struct gpu_env a, b, f;
	struct gpu_list g;
	const char *env, *root;
	char *block = NULL;
	size_t len, whole;
	int ret;

	if (!size)
		return 0;
	gpus(data[0], &g, &ids);
	env = (const char *)data + 1;
	len = size - 1;

	gpuenv_parse(env, len, &g, &ids, &a);
	check(data, size, &a, g.nr);
	gpuenv_parse(env, len, &g, &ids, &b);
	if (!same(&a, &b))
		fuzz_broken(data, size, "the same block read twice differs");
	/* Without the string that has no NUL yet: the same. */
	whole = len;
	while (whole && env[whole - 1])
		whole--;
	gpuenv_parse(env, whole, &g, &ids, &b);
	if (!same(&a, &b))
		fuzz_broken(data, size, "a last string without its NUL changed the result");

	root = fuzz_tree_reset();
	if ((data[0] & 0x80) && len) {
		size_t times = GPUENV_READ_MAX / len + 2;

		block = malloc(len * times);
		if (!block)
			abort();
		for (size_t i = 0; i < times; i++)
			memcpy(block + i * len, env, len);
		fuzz_tree_put("proc/42/environ", block, len * times);
		gpuenv_parse(block, GPUENV_READ_MAX, &g, &ids, &a);
		check(data, size, &a, g.nr);
	} else {
		fuzz_tree_put("proc/42/environ", env, len);
	}
	ret = gpuenv_read(root, 42, &g, &ids, &f);
	if (ret)
		fuzz_broken(data, size, "gpuenv_read failed on a readable file: %d", ret);
	if (!same(&a, &f))
		fuzz_broken(data, size, "gpuenv_read and gpuenv_parse of its bytes differ");
	free(block);
	gpu_uuids_free(&ids);
	return 0;
}
