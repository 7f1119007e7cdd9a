// SPDX-License-Identifier: GPL-2.0
/*
 * GPU discovery from sysfs. Nothing here knows a vendor's driver beyond
 * where it publishes its device nodes: DRM render nodes and accel nodes sit
 * under the PCI device in sysfs; NVIDIA's proprietary driver has neither,
 * and names each GPU's /dev/nvidiaN minor in its per-GPU information file.
 * Every file is read into a bounded buffer and parsed strictly; a device
 * whose files do not parse is skipped rather than guessed at.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "gpu.h"

#define PCI_VENDOR_NVIDIA	0x10de

/* A "0x..." hex number of at most @max, as sysfs prints class, vendor and device. */
static int read_hex(const char *dir, const char *name, unsigned long max, unsigned long *out)
{
	char path[PATH_MAX + 64], buf[32], *end;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ret = read_small_file(path, buf, sizeof(buf), true);
	if (ret)
		return ret;
	if (strncmp(buf, "0x", 2) || !buf[2])
		return -EINVAL;
	errno = 0;
	*out = strtoul(buf + 2, &end, 16);
	if (errno || *end || *out > max)
		return -EINVAL;
	return 0;
}

/* The device's NUMA node; -1 (unknown) when the file is missing or says so. */
static int read_node(const char *dir)
{
	char path[PATH_MAX + 16], buf[32], *end;
	long v;

	snprintf(path, sizeof(path), "%s/numa_node", dir);
	if (read_small_file(path, buf, sizeof(buf), true))
		return -1;
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno || end == buf || *end || v < 0 || v > INT_MAX)
		return -1;
	return (int)v;
}

static void read_driver(const char *dir, char *out, size_t len)
{
	char path[PATH_MAX + 16], target[PATH_MAX];
	const char *base;
	ssize_t n;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/driver", dir);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) < len)
		memcpy(out, base, strlen(base) + 1);
}

bool gpu_class_match(uint32_t class)
{
	/* Display controllers of every subclass (VGA, XGA, 3D, other), and processing accelerators. */
	return (class >> 16) == 0x03 || (class >> 8) == 0x1200;
}

static void add_dev(struct gpu *g, const char *fmt, unsigned long minor)
{
	if (g->nr_dev >= GPU_MAX_DEVS)
		return;
	snprintf(g->dev[g->nr_dev++], GPU_DEV_LEN, fmt, minor);
}

/* "renderD128" with @prefix "renderD": 128; -1 for any other name. */
static long name_minor(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);
	char *end;
	long v;

	if (strncmp(name, prefix, n) || name[n] < '0' || name[n] > '9')
		return -1;
	errno = 0;
	v = strtol(name + n, &end, 10);
	if (errno || *end || v > 1L << 20)
		return -1;
	return v;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/* Device nodes of class directory @sub ("drm", "accel") under the PCI device, lowest minor first. */
static void add_class_devs(struct gpu *g, const char *dir, const char *sub, const char *prefix, const char *fmt)
{
	char path[PATH_MAX + 16];
	long minors[GPU_MAX_DEVS];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	d = opendir(path);
	if (!d)
		return;
	while ((e = readdir(d)) && n < GPU_MAX_DEVS) {
		long m = name_minor(e->d_name, prefix);

		if (m >= 0)
			minors[n++] = m;
	}
	closedir(d);
	qsort(minors, (size_t)n, sizeof(minors[0]), cmp_long);
	for (int i = 0; i < n; i++)
		add_dev(g, fmt, (unsigned long)minors[i]);
}

/* "GPU-" and hex digits and dashes: a UUID as NVIDIA prints it; anything else is not kept. */
static void keep_uuid(struct gpu *g, const char *v)
{
	size_t n = strlen(v);

	if (strncmp(v, "GPU-", 4) || n < 5 || n >= GPU_UUID_LEN || strspn(v + 4, "0123456789abcdefABCDEF-") != n - 4)
		return;
	memcpy(g->uuid, v, n + 1);
}

/*
 * NVIDIA's driver lists each GPU it drives under /proc/driver/nvidia/gpus,
 * by PCI address, with a "Device Minor:" line naming its /dev/nvidiaN and a
 * "GPU UUID:" line naming it as CUDA_VISIBLE_DEVICES may.
 */
static void add_nvidia_dev(struct gpu *g, const char *root)
{
	char path[PATH_MAX], buf[4096], *line, *save = NULL, *end;
	unsigned long minor;

	snprintf(path, sizeof(path), "%s/proc/driver/nvidia/gpus/%s/information", root, g->pci);
	if (read_small_file(path, buf, sizeof(buf), true))
		return;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *v;

		if (!strncmp(line, "GPU UUID:", 9)) {
			v = line + 9;
			v += strspn(v, " \t");
			v[strcspn(v, " \t")] = '\0';
			keep_uuid(g, v);
			continue;
		}
		if (strncmp(line, "Device Minor:", 13) || g->nv_minor >= 0)
			continue;
		v = line + 13;
		while (*v == ' ' || *v == '\t')
			v++;
		errno = 0;
		minor = strtoul(v, &end, 10);
		while (*end == ' ' || *end == '\t')
			end++;
		if (v[0] >= '0' && v[0] <= '9' && !errno && !*end && minor < 1UL << 20) {
			add_dev(g, "/dev/nvidia%lu", minor);
			g->nv_minor = (int)minor;
		}
	}
}

static int dot_filter(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

int gpu_discover(const char *root, struct gpu_list *out, char *err, size_t errlen)
{
	char base[PATH_MAX], dir[PATH_MAX];
	struct dirent **names = NULL;
	int n;

	memset(out, 0, sizeof(*out));
	if (!root)
		root = "";
	snprintf(base, sizeof(base), "%s/sys/bus/pci/devices", root);
	n = scandir(base, &names, dot_filter, alphasort);
	if (n < 0) {
		int ret = -errno;

		if (ret == -ENOENT)
			return 0;
		snprintf(err, errlen, "gpu_discover: %s: %s", base, strerror(-ret));
		return ret;
	}
	for (int i = 0; i < n; i++) {
		unsigned long class, vendor, device;
		struct gpu *g;

		if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", base, names[i]->d_name) >= sizeof(dir) ||
		    strlen(names[i]->d_name) >= GPU_PCI_LEN ||
		    read_hex(dir, "class", 0xffffff, &class) || !gpu_class_match((uint32_t)class) ||
		    read_hex(dir, "vendor", 0xffff, &vendor) || read_hex(dir, "device", 0xffff, &device))
			continue;
		if (out->nr == GPU_MAX) {
			out->truncated = true;
			continue;
		}
		g = &out->gpu[out->nr++];
		memcpy(g->pci, names[i]->d_name, strlen(names[i]->d_name) + 1);
		g->class = (uint32_t)class;
		g->vendor = (uint16_t)vendor;
		g->device = (uint16_t)device;
		g->node = read_node(dir);
		g->nv_minor = -1;
		read_driver(dir, g->driver, sizeof(g->driver));
		if (g->vendor == PCI_VENDOR_NVIDIA)
			add_nvidia_dev(g, root);
		add_class_devs(g, dir, "drm", "renderD", "/dev/dri/renderD%lu");
		add_class_devs(g, dir, "accel", "accel", "/dev/accel/accel%lu");
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return 0;
}

bool gpu_list_equal(const struct gpu_list *a, const struct gpu_list *b)
{
	if (a->nr != b->nr)
		return false;
	for (int i = 0; i < a->nr; i++) {
		const struct gpu *x = &a->gpu[i], *y = &b->gpu[i];

		if (strcmp(x->pci, y->pci) || x->node != y->node || x->nr_dev != y->nr_dev)
			return false;
		for (int k = 0; k < x->nr_dev; k++)
			if (strcmp(x->dev[k], y->dev[k]))
				return false;
	}
	return true;
}

int gpu_find_dev(const struct gpu_list *l, const char *path)
{
	for (int i = 0; i < l->nr; i++)
		for (int k = 0; k < l->gpu[i].nr_dev; k++)
			if (!strcmp(l->gpu[i].dev[k], path))
				return i;
	return -1;
}

const char *gpu_vendor_name(uint16_t vendor)
{
	switch (vendor) {
	case 0x10de: return "NVIDIA";
	case 0x1002: return "AMD";
	case 0x1022: return "AMD";
	case 0x8086: return "Intel";
	case 0x1da3: return "Habana";
	case 0x1ae0: return "Google";
	case 0x1d0f: return "Amazon";
	case 0x1e52: return "Tenstorrent";
	case 0x1ed5: return "Moore Threads";
	case 0x1af4: return "virtio";
	case 0x1234: return "QEMU";
	case 0x1a03: return "ASPEED";
	case 0x102b: return "Matrox";
	}
	return NULL;
}
