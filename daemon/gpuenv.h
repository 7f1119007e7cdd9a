/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Environment hints: which GPUs a process was told to use, from the device
 * lists launchers and container runtimes put in its environment. A hint,
 * not a fact: the process may ignore it, so it counts only when no vendor
 * source (NVML, KFD, DRM fdinfo) says anything about the process.
 *
 *   CUDA_VISIBLE_DEVICES     indices, GPU-<uuid> (a unique prefix is enough,
 *                            as CUDA allows), MIG-<uuid>; indices follow
 *                            CUDA_DEVICE_ORDER: PCI order with PCI_BUS_ID,
 *                            and under the default (fastest first) only
 *                            when all NVIDIA GPUs are the same model
 *   NVIDIA_VISIBLE_DEVICES   the container's GPUs (indices or UUIDs; "all")
 *   ROCR_VISIBLE_DEVICES,
 *   HIP_VISIBLE_DEVICES      AMD GPUs by index
 *   SLURM_STEP_GPUS,
 *   SLURM_JOB_GPUS           the job's GPUs by device minor
 *   LOCAL_RANK               which of several visible GPUs a rank uses by
 *                            convention (cuda:LOCAL_RANK): a tie-breaker
 *
 * An outer list (the container's, Slurm's) is what the process can see:
 * indices in CUDA_VISIBLE_DEVICES then count within it. A list stops at
 * its first entry that does not parse, as CUDA's own does.
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
	bool unresolved;	/* a list named GPUs we cannot map (MIG, unknown UUIDs, ambiguous order) */
};

/*
 * Read the hints of environment block @env (@len bytes of NUL-separated
 * NAME=value strings, as /proc/PID/environ holds them; a last string
 * without its NUL is ignored) against GPUs @g.
 */
void gpuenv_parse(const char *env, size_t len, const struct gpu_list *g, struct gpu_env *out);

/* Same for process @pid below @root. Returns 0, or -errno (gone, not ours to read). */
int gpuenv_read(const char *root, pid_t pid, const struct gpu_list *g, struct gpu_env *out);

#endif
