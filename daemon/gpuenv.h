/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Environment hints: which GPUs a process was told to use, from the device
 * lists launchers and container runtimes put in its environment. A hint,
 * not a fact: the process may ignore it, so it counts only when no vendor
 * source (NVML, KFD, DRM fdinfo) says anything about the process.
 *
 *   CUDA_VISIBLE_DEVICES     indices, GPU-<uuid> (a unique prefix is enough,
 *                            as CUDA allows), MIG-<uuid> (a MIG instance: its
 *                            GPU, as NVML tells), MIG-GPU-<uuid>/GI/CI (the
 *                            older form, naming its GPU); indices follow
 *                            CUDA_DEVICE_ORDER: PCI order with PCI_BUS_ID,
 *                            and under the default (fastest first) only
 *                            when all NVIDIA GPUs are the same model
 *   NVIDIA_VISIBLE_DEVICES   the container's GPUs (indices or UUIDs; "all")
 *   ROCR_VISIBLE_DEVICES,
 *   HIP_VISIBLE_DEVICES      AMD GPUs by index or GPU-<hex> (KFD's unique_id
 *                            as ROCm prints it)
 *   SLURM_STEP_GPUS,
 *   SLURM_JOB_GPUS           the job's GPUs by device minor
 *   LOCAL_RANK               which of several visible GPUs a rank uses by
 *                            convention (cuda:LOCAL_RANK): a tie-breaker
 *
 * An outer list (the container's, Slurm's) is what the process can see:
 * indices in CUDA_VISIBLE_DEVICES then count within it. A list stops at
 * its first entry that does not parse, as CUDA's own does; a well-formed
 * UUID that names no GPU we know is skipped, and reported.
 *
 * UUIDs are looked up in the GPU list's own (the NVIDIA driver's /proc) and
 * in those the vendors' interfaces give (struct gpu_uuids): NVML's per GPU
 * and per MIG instance, KFD's per AMD GPU.
 */
#ifndef SCX_AI_NUMA_GPUENV_H
#define SCX_AI_NUMA_GPUENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gpu.h"

#define GPUENV_READ_MAX	(128 * 1024)	/* bytes of /proc/PID/environ looked at */

struct gpu_env {
	uint64_t gpus;		/* bit i: GPU i of the list is named; 0 with @var set: none visible */
	const char *var;	/* the variable that decided, NULL if none did */
	int rank_gpu;		/* the GPU LOCAL_RANK picks among the visible ones, -1 if none */
	bool unresolved;	/* a list named GPUs we cannot map (unknown UUIDs, ambiguous order) */
	char unmatched[GPU_UUID_LEN];	/* the first UUID that named no GPU we know, "" if none */
};

/* A UUID a vendor interface gives for GPU @gpu (index into the GPU list). */
struct gpu_uuid {
	char uuid[GPU_UUID_LEN];
	int gpu;
};

struct gpu_uuids {
	struct gpu_uuid *v;
	size_t n, cap;
};

/* Add @uuid for GPU @gpu. 0, -EINVAL (too long for any UUID), or -ENOMEM. */
int gpu_uuids_add(struct gpu_uuids *u, const char *uuid, int gpu);
void gpu_uuids_free(struct gpu_uuids *u);

/*
 * Read the hints of environment block @env (@len bytes of NUL-separated
 * NAME=value strings, as /proc/PID/environ holds them; a last string
 * without its NUL is ignored) against GPUs @g and the vendors' UUIDs @ids
 * (NULL: none).
 */
void gpuenv_parse(const char *env, size_t len, const struct gpu_list *g, const struct gpu_uuids *ids,
		  struct gpu_env *out);

/* Same for process @pid below @root. Returns 0, or -errno (gone, not ours to read). */
int gpuenv_read(const char *root, pid_t pid, const struct gpu_list *g, const struct gpu_uuids *ids,
		struct gpu_env *out);

#endif
