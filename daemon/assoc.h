/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The association: which process gets which GPU's node as its home, from
 * every source of evidence, most authoritative first:
 *
 *   nvml      NVIDIA's driver lists it running compute work, holding memory
 *   kfd       AMD's compute driver: it has queues or VRAM on the GPU
 *   fdinfo    DRM fdinfo: its client of the GPU holds memory or its engine
 *             time grew (amdgpu graphics, i915, xe, ...)
 *   accel     it holds an accelerator (PCI class 0x1200) open
 *   environ   its device list (CUDA_VISIBLE_DEVICES and kin, see gpuenv.h),
 *             for a process holding a GPU open that no vendor source names
 *   fd        it holds the GPU's device node open (the open-file scan); for
 *             a GPU a vendor source answers for, an open node alone is no
 *             evidence: CUDA and ROCm open every GPU they can see
 *
 * A process whose GPUs sit on several nodes gets the node holding most of
 * its GPU memory (NVML), or most of its GPUs; a tie is broken by LOCAL_RANK
 * when its rank's GPU is on one of the tied nodes, and otherwise left to the
 * policy. With scope "tree" (the default) a home extends to the process's
 * descendants (a training job's DataLoader workers), found through the
 * kernel's /proc/PID/task/TID/children lists, unless they have evidence of
 * their own better than an open device node (which a forked worker
 * inherits). A process the kernel already keeps on one node (its CPU
 * affinity or cpuset) is left alone.
 *
 * The environment of a process is read once, when it is first seen.
 */
#ifndef SCX_AI_NUMA_ASSOC_H
#define SCX_AI_NUMA_ASSOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "affinity.h"
#include "gpu.h"
#include "gpuscan.h"
#include "gpusrc.h"
#include "nvml.h"

enum gpu_scope {
	GPU_SCOPE_PROCESS,	/* only the process with the evidence */
	GPU_SCOPE_TREE,		/* and its descendants */
	GPU_SCOPE_CGROUP,	/* and everything in its cgroup (placement installs the cgroup) */
};

/* A process with a GPU home, or one left alone and why. */
struct gpu_proc {
	pid_t pid;
	uint64_t gpus;		/* bit i: GPU i, by its own evidence; 0 for one sharing another's home */
	int node;		/* kernel node of its GPUs chosen; -1: left to the policy */
	enum gpu_source source;	/* the evidence that decided (its GPU process's, when shared) */
	pid_t via;		/* the GPU process whose home it shares; 0: its own evidence */
	const char *alone;	/* why it is left alone (static text); NULL: its home is installed */
};

struct assoc_in {
	const char *root;		/* prefix of proc/, "" for the live system */
	const struct gpu_list *gpus;
	const struct scan_hit *hits;	/* the open-file scan's, in pid order */
	size_t nr_hits;
	const struct nv_snapshot *nv;	/* NULL: NVML off */
	bool kernel_sources;		/* read KFD and DRM fdinfo (off: tests of the other sources) */
	enum gpu_scope scope;
	const int *cpu_node;		/* kernel node of each CPU; NULL: nobody is confined */
	int nr_cpus;
	aff_get_fn aff_get;		/* NULL: sched_getaffinity(2) */
};

struct assoc;

struct assoc *assoc_new(void);
void assoc_free(struct assoc *a);

/*
 * One association pass. @out (freed by the caller) gets the processes in
 * pid order. Returns their count, or -ENOMEM.
 */
ssize_t assoc_run(struct assoc *a, const struct assoc_in *in, struct gpu_proc **out);

const char *gpu_source_name(enum gpu_source s);
const char *gpu_scope_name(enum gpu_scope s);

#endif
