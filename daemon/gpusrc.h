/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The sources of GPU evidence the kernel publishes, each answering "which
 * GPUs does this process use, and how much": AMD's KFD (the ROCm compute
 * driver), DRM fdinfo (graphics and compute drivers: amdgpu, i915, xe, ...)
 * and exclusive accelerators. Each turns what it reads into gpu_use
 * records against the GPU list; the association (assoc.h) weighs them.
 * Everything is read from files other processes control the existence of
 * (they come and go mid-read) and parsed strictly.
 */
#ifndef SCX_AI_NUMA_GPUSRC_H
#define SCX_AI_NUMA_GPUSRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gpu.h"

enum gpu_source {
	GSRC_NONE,
	GSRC_NVML,
	GSRC_KFD,
	GSRC_FDINFO,
	GSRC_ACCEL,
	GSRC_ENVIRON,
	GSRC_FDSCAN,
};

/* Process @pid uses GPU @gpu (index into the GPU list), holding @bytes there (0: unknown). */
struct gpu_use {
	pid_t pid;
	int gpu;
	uint64_t bytes;
	enum gpu_source src;
};

/* A growable list of uses. */
struct use_list {
	struct gpu_use *v;
	size_t n, cap;
};

int use_add(struct use_list *l, pid_t pid, int gpu, uint64_t bytes, enum gpu_source src);

/* The GPU whose PCI address is @pci ("0000:03:00.0"), -1 if none. */
int gpu_by_pci(const struct gpu_list *g, const char *pci);

struct gpu_uuids;

/*
 * KFD: every process with compute queues on a GPU or VRAM allocated there
 * (ROOT/sys/class/kfd/kfd/proc/PID/{queues/Q/gpuid,vram_GPUID}), KFD's GPU
 * ids mapped to PCI through its topology (nodes/N/{gpu_id,properties}).
 * Adds to @out; @covered gets the GPUs KFD knows, and @uuids (unless NULL)
 * their UUIDs as ROCm names them. Returns the number of processes read, 0
 * when there is no KFD, -ENOMEM.
 */
int kfd_read(const char *root, const struct gpu_list *g, struct use_list *out, uint64_t *covered,
	     struct gpu_uuids *uuids);

/* One DRM client, from one /proc/PID/fdinfo/FD file. */
struct drm_client {
	char pdev[GPU_PCI_LEN];	/* drm-pdev: the GPU's PCI address */
	uint64_t client_id;	/* drm-client-id: fds of one client share it */
	uint64_t engine_ns;	/* the sum of drm-engine-* */
	uint64_t mem_bytes;	/* the most of drm-resident-*, drm-memory-* (or drm-total-*) */
	bool has_id;
};

/*
 * Parse fdinfo text (the kernel's drm-usage-stats format: "key:\tvalue"
 * lines; sizes with an optional KiB, MiB or GiB unit). Returns 0, -ENOENT
 * when the text is not a DRM client's (no drm-pdev or client id), or -EINVAL
 * when its drm-pdev or client id does not parse.
 */
int drm_fdinfo_parse(const char *text, struct drm_client *out);

struct fdinfo_state;

struct fdinfo_state *fdinfo_state_new(void);
void fdinfo_state_free(struct fdinfo_state *s);
/* Start a pass: engine times seen in the last one become the baseline. */
void fdinfo_pass_begin(struct fdinfo_state *s);

/*
 * The DRM clients of @pid (its open /dev/dri nodes): a GPU counts as used
 * when the client holds memory on it or its engine time grew since the last
 * pass. Adds to @out; @covered gets the GPUs whose clients it could read
 * (an open node there without use is no evidence).
 */
void fdinfo_read(struct fdinfo_state *s, const char *root, pid_t pid, const struct gpu_list *g,
		 struct use_list *out, uint64_t *covered);

#endif
