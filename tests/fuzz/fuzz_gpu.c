// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target for GPU discovery from sysfs: the input is a fake tree, one
 * file per FUZZ_SEP-separated part (a missing part is a missing file):
 *
 *   the PCI device names (blank-separated, at most 3), then per device:
 *   class, vendor, device, numa_node, the driver link's target, the names
 *   under drm/, the names under accel/, and NVIDIA's per-GPU information.
 *
 * Whatever the files say, the list holds GPUs only, each with its node
 * known or -1, at most GPU_MAX_DEVS device nodes that are real /dev paths,
 * and each device node found again by gpu_find_dev.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-util.h"
#include "gpu.h"

#define DEVS		3
#define PER_DEV		8
#define NR_PARTS	(1 + DEVS * PER_DEV)

static const char *const dev_files[] = { "class", "vendor", "device", "numa_node" };

static void build_tree(const struct fuzz_part *parts, size_t nr)
{
	char *buf, *names[DEVS], rel[512], dir[256];
	int n;

	if (!nr)
		return;
	fuzz_tree_mkdir("sys/bus/pci/devices");
	buf = fuzz_names(&parts[0], names, DEVS, &n);
	for (int d = 0; d < n; d++) {
		const struct fuzz_part *p = &parts[1 + d * PER_DEV];
		size_t have = nr > 1 + (size_t)d * PER_DEV ? nr - 1 - (size_t)d * PER_DEV : 0;
		char *target;

		snprintf(dir, sizeof(dir), "sys/bus/pci/devices/%s", names[d]);
		fuzz_tree_mkdir(dir);
		for (size_t k = 0; k < 4 && k < have; k++) {
			snprintf(rel, sizeof(rel), "%s/%s", dir, dev_files[k]);
			fuzz_tree_put(rel, p[k].p, p[k].len);
		}
		if (have > 4 && p[4].len) {
			target = fuzz_strndup(p[4].p, p[4].len > 1000 ? 1000 : p[4].len);
			snprintf(rel, sizeof(rel), "%s/driver", dir);
			if (*target)
				fuzz_tree_symlink(rel, target);
			free(target);
		}
		if (have > 5) {
			snprintf(rel, sizeof(rel), "%s/drm", dir);
			fuzz_tree_entries(rel, &p[5], 8);
		}
		if (have > 6) {
			snprintf(rel, sizeof(rel), "%s/accel", dir);
			fuzz_tree_entries(rel, &p[6], 8);
		}
		if (have > 7) {
			snprintf(rel, sizeof(rel), "proc/driver/nvidia/gpus/%s/information", names[d]);
			fuzz_tree_put(rel, p[7].p, p[7].len);
		}
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gpu_list l;
	struct fuzz_part parts[NR_PARTS];
	const char *root = fuzz_tree_reset();
	size_t nr = fuzz_split(data, size, parts, NR_PARTS);
	char err[256];

	build_tree(parts, nr);
	if (gpu_discover(root, &l, err, sizeof(err)) < 0)
		fuzz_broken(data, size, "gpu_discover failed on a readable tree: %s", err);
	if (l.nr < 0 || l.nr > DEVS)
		fuzz_broken(data, size, "%d GPUs from %d devices", l.nr, DEVS);
	for (int i = 0; i < l.nr; i++) {
		const struct gpu *g = &l.gpu[i];

		if (!gpu_class_match(g->class) || g->node < -1 || !g->pci[0] || strlen(g->pci) >= GPU_PCI_LEN)
			fuzz_broken(data, size, "GPU %d: class %#x node %d pci '%s'", i, g->class, g->node, g->pci);
		if (g->nr_dev < 0 || g->nr_dev > GPU_MAX_DEVS || strlen(g->driver) >= sizeof(g->driver))
			fuzz_broken(data, size, "GPU %d: %d device nodes", i, g->nr_dev);
		for (int k = 0; k < g->nr_dev; k++) {
			if (strncmp(g->dev[k], "/dev/", 5) || !fuzz_printable(g->dev[k]))
				fuzz_broken(data, size, "GPU %d: device node '%s'", i, g->dev[k]);
			if (gpu_find_dev(&l, g->dev[k]) > i)
				fuzz_broken(data, size, "GPU %d: %s found on a later GPU", i, g->dev[k]);
		}
	}
	if (!gpu_list_equal(&l, &l))
		fuzz_broken(data, size, "a GPU list differs from itself");
	return 0;
}
