// SPDX-License-Identifier: GPL-2.0
/*
 * KFD, AMD's compute driver (see gpusrc.h). Its sysfs names GPUs by KFD's
 * own gpu_id; the topology node of each gives the PCI address as
 * location_id (bus << 8 | devfn) and domain, and unique_id, which ROCm
 * prints as the GPU's UUID ("GPU-" and 16 hex digits; 0: none) and
 * ROCR_VISIBLE_DEVICES may name it by. A process's directory holds
 * vram_<gpu_id> (bytes of VRAM it allocated) and queues/<q>/gpuid (the GPU
 * of each compute queue it created). ROCm's runtime opens every GPU at
 * start, whatever ROCR_VISIBLE_DEVICES says; queues and VRAM are what a
 * process really uses.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "gpuenv.h"
#include "gpusrc.h"

#define KFD		"sys/class/kfd/kfd"
#define KFD_NODES_MAX	256

struct kfd_gpu {
	unsigned long id;	/* KFD's gpu_id */
	unsigned long uid;	/* unique_id; 0: none (older kernels, older GPUs) */
	int gpu;		/* index into the GPU list */
};

static int parse_ulong(const char *s, unsigned long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 10);
	while (*end == ' ' || *end == '\n')
		end++;
	return errno || *end ? -EINVAL : 0;
}

/* "key value" from a properties file; -ENOENT when the key is missing. */
static int prop(const char *text, const char *key, unsigned long *out)
{
	size_t n = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		char line[64];
		size_t len = strcspn(p, "\n");

		if (len <= n || len >= sizeof(line) || strncmp(p, key, n) || p[n] != ' ')
			continue;
		memcpy(line, p + n + 1, len - n - 1);
		line[len - n - 1] = '\0';
		return parse_ulong(line, out);
	}
	return -ENOENT;
}

/* KFD's GPUs on our list. Returns how many. */
static int kfd_gpus(const char *root, const struct gpu_list *g, struct kfd_gpu *out, int max)
{
	char path[PATH_MAX], buf[4096];
	int n = 0;

	for (int node = 0; node < KFD_NODES_MAX && n < max; node++) {
		unsigned long id, loc, dom = 0, uid = 0;
		char pci[64];	/* room for any unsigned long, though the checks keep it to 12 bytes */
		int gi;

		snprintf(path, sizeof(path), "%s/" KFD "/topology/nodes/%d/gpu_id", root, node);
		if (read_small_file(path, buf, sizeof(buf), true))
			break;	/* nodes are numbered densely */
		if (parse_ulong(buf, &id) || !id)
			continue;	/* a CPU node */
		snprintf(path, sizeof(path), "%s/" KFD "/topology/nodes/%d/properties", root, node);
		if (read_small_file(path, buf, sizeof(buf), false) || prop(buf, "location_id", &loc) || loc > 0xffff)
			continue;
		/* Kernels before the domain property only had domain 0. */
		if (prop(buf, "domain", &dom) == -EINVAL || dom > 0xffff)
			continue;
		snprintf(pci, sizeof(pci), "%04lx:%02lx:%02lx.%lx", dom, loc >> 8, (loc >> 3) & 0x1f, loc & 7);
		gi = gpu_by_pci(g, pci);
		/* Without a (readable) unique_id the GPU still counts; it has no UUID. */
		if (prop(buf, "unique_id", &uid) < 0)
			uid = 0;
		if (gi >= 0)
			out[n++] = (struct kfd_gpu){ .id = id, .uid = uid, .gpu = gi };
	}
	return n;
}

static int gpu_of(const struct kfd_gpu *k, int n, unsigned long id)
{
	for (int i = 0; i < n; i++)
		if (k[i].id == id)
			return k[i].gpu;
	return -1;
}

/* One process's uses: VRAM per GPU, then GPUs with queues but no VRAM counted. */
static int kfd_proc(const char *root, const char *pid_name, pid_t pid, const struct kfd_gpu *k, int nk,
		    struct use_list *out)
{
	char path[PATH_MAX], buf[64];
	uint64_t bytes[GPU_MAX] = { 0 };
	bool queue[GPU_MAX] = { false };
	struct dirent *e;
	DIR *d;
	int ret;

	snprintf(path, sizeof(path), "%s/" KFD "/proc/%s", root, pid_name);
	d = opendir(path);
	if (!d)
		return 0;	/* gone meanwhile */
	while ((e = readdir(d))) {
		unsigned long id, v;
		int gi;

		if (strncmp(e->d_name, "vram_", 5) || parse_ulong(e->d_name + 5, &id))
			continue;
		gi = gpu_of(k, nk, id);
		snprintf(path, sizeof(path), "%s/" KFD "/proc/%s/%.64s", root, pid_name, e->d_name);
		if (gi >= 0 && !read_small_file(path, buf, sizeof(buf), true) && !parse_ulong(buf, &v))
			bytes[gi] += v;
	}
	closedir(d);
	snprintf(path, sizeof(path), "%s/" KFD "/proc/%s/queues", root, pid_name);
	d = opendir(path);
	while (d && (e = readdir(d))) {
		unsigned long id;
		int gi;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/" KFD "/proc/%s/queues/%.32s/gpuid", root, pid_name, e->d_name);
		if (!read_small_file(path, buf, sizeof(buf), true) && !parse_ulong(buf, &id) &&
		    (gi = gpu_of(k, nk, id)) >= 0)
			queue[gi] = true;
	}
	if (d)
		closedir(d);
	for (int i = 0; i < GPU_MAX; i++) {
		if (!bytes[i] && !queue[i])
			continue;
		ret = use_add(out, pid, i, bytes[i], GSRC_KFD);
		if (ret)
			return ret;
	}
	return 0;
}

int kfd_read(const char *root, const struct gpu_list *g, struct use_list *out, uint64_t *covered,
	     struct gpu_uuids *uuids)
{
	struct kfd_gpu k[GPU_MAX];
	char path[PATH_MAX];
	struct dirent *e;
	int nk, n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/" KFD "/proc", root);
	d = opendir(path);
	if (!d)
		return 0;
	nk = kfd_gpus(root, g, k, GPU_MAX);
	for (int i = 0; i < nk; i++) {
		char uuid[GPU_UUID_LEN];

		*covered |= 1ULL << k[i].gpu;
		if (!uuids || !k[i].uid)
			continue;
		/* As ROCm prints it: zero-padded to 16 digits. */
		snprintf(uuid, sizeof(uuid), "GPU-%016lx", k[i].uid);
		if (gpu_uuids_add(uuids, uuid, k[i].gpu) < 0) {
			closedir(d);
			return -ENOMEM;
		}
	}
	while (nk && (e = readdir(d))) {
		unsigned long pid;

		if (parse_ulong(e->d_name, &pid) || !pid || pid > INT_MAX)
			continue;
		if (kfd_proc(root, e->d_name, (pid_t)pid, k, nk, out) < 0)
			break;
		n++;
	}
	closedir(d);
	return n;
}
