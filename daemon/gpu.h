/* SPDX-License-Identifier: GPL-2.0 */
/*
 * GPUs and accelerators, vendor-neutral, from sysfs: every PCI display or 3D
 * controller (class 0x03xxxx) and processing accelerator (0x1200xx), with
 * its NUMA node and the device nodes a process opens to use it. A root
 * prefix lets tests feed fake trees.
 */
#ifndef SCX_AI_NUMA_GPU_H
#define SCX_AI_NUMA_GPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GPU_MAX		64	/* a process's GPUs are a 64-bit mask */
#define GPU_MAX_DEVS	4	/* device nodes per GPU */
#define GPU_DEV_LEN	32	/* "/dev/accel/accel1234" fits */
#define GPU_PCI_LEN	24	/* "10000:00:00.0" (a VMD domain) fits */
#define GPU_UUID_LEN	64	/* "GPU-" and a 36-character UUID fit, and the older "MIG-GPU-<uuid>/GI/CI" */

struct gpu {
	char pci[GPU_PCI_LEN];		/* PCI address, as sysfs names it */
	uint32_t class;			/* PCI class code, e.g. 0x030200 */
	uint16_t vendor, device;
	int node;			/* kernel NUMA node, -1 if unknown */
	char driver[32];		/* bound driver, "" if none */
	int nr_dev;
	char dev[GPU_MAX_DEVS][GPU_DEV_LEN];	/* "/dev/nvidia3", "/dev/dri/renderD128" */
	char uuid[GPU_UUID_LEN];	/* NVIDIA's "GPU-...", as CUDA_VISIBLE_DEVICES names it; "" if unknown */
	int nv_minor;			/* N of /dev/nvidiaN, -1 if none */
};

struct gpu_list {
	int nr;
	bool truncated;			/* more than GPU_MAX were found */
	struct gpu gpu[GPU_MAX];	/* in PCI address order */
};

/*
 * Read every GPU below @root ("" for the live system): PCI devices from
 * ROOT/sys/bus/pci/devices, NVIDIA minors from ROOT/proc/driver/nvidia/gpus.
 * No PCI bus at all is zero GPUs, not an error. Returns 0 or -errno with a
 * reason in @err.
 */
int gpu_discover(const char *root, struct gpu_list *out, char *err, size_t errlen);

/* Same GPUs, nodes and device nodes. */
bool gpu_list_equal(const struct gpu_list *a, const struct gpu_list *b);

/* Index of the GPU that owns device node @path ("/dev/dri/renderD128"), -1 if none. */
int gpu_find_dev(const struct gpu_list *l, const char *path);

/* Is @class a GPU or accelerator's PCI class code? */
bool gpu_class_match(uint32_t class);

/* "NVIDIA", "AMD", "Intel", "Habana" ...; NULL for a vendor we have no name for. */
const char *gpu_vendor_name(uint16_t vendor);

#endif
