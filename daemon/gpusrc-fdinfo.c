// SPDX-License-Identifier: GPL-2.0
/*
 * DRM fdinfo (see gpusrc.h and the kernel's drm-usage-stats document):
 * every open DRM file's /proc/PID/fdinfo/FD carries, besides the usual
 * pos/flags lines, the client's device (drm-pdev), its id (drm-client-id,
 * shared by dup'ed and inherited fds), busy time per engine
 * (drm-engine-<name>: N ns; xe counts drm-cycles-<class>) and memory per
 * region (drm-resident-<region>, drm-memory-<region> in amdgpu's older
 * form, drm-total-<region>), sizes with an optional KiB/MiB/GiB unit.
 *
 * Holding memory is use; so is engine time that grew since the last pass.
 * A process that merely has a render node open (every process of a
 * desktop session may) uses nothing.
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
#include "gpusrc.h"

#define CLIENTS_PER_PROC	16
#define FDS_PER_PROC		1024

/*
 * A client's engine time at the last pass. Keyed by its device too: client
 * ids are unique per DRM device only on some kernels (i915 and older amdgpu
 * number their clients per device), so one process may hold client 3 on
 * two GPUs, and one GPU's time must not be the other's baseline.
 */
struct seen_client {
	pid_t pid;
	uint64_t client_id, engine_ns;
	char pdev[GPU_PCI_LEN];
};

struct fdinfo_state {
	struct seen_client *last, *cur;
	size_t nr_last, nr_cur, cap_last, cap_cur;
};

struct fdinfo_state *fdinfo_state_new(void)
{
	return calloc(1, sizeof(struct fdinfo_state));
}

void fdinfo_state_free(struct fdinfo_state *s)
{
	if (!s)
		return;
	free(s->last);
	free(s->cur);
	free(s);
}

void fdinfo_pass_begin(struct fdinfo_state *s)
{
	struct seen_client *t = s->last;
	size_t cap = s->cap_last;

	s->last = s->cur;
	s->cap_last = s->cap_cur;
	s->nr_last = s->nr_cur;
	s->cur = t;
	s->cap_cur = cap;
	s->nr_cur = 0;
}

/* "123", "123 ns", "4 KiB": the number, scaled to bytes for sizes. Returns 0 or -EINVAL. */
static int value(const char *v, bool size, uint64_t *out)
{
	uint64_t x = 0, mult = 1;
	const char *p = v;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (x > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		x = x * 10 + (uint64_t)(*p - '0');
	}
	while (*p == ' ')
		p++;
	if (size && !strcmp(p, "KiB"))
		mult = 1ULL << 10;
	else if (size && !strcmp(p, "MiB"))
		mult = 1ULL << 20;
	else if (size && !strcmp(p, "GiB"))
		mult = 1ULL << 30;
	else if (*p && strcmp(p, "ns"))
		return -EINVAL;
	if (x > UINT64_MAX / mult)
		return -EINVAL;
	*out = x * mult;
	return 0;
}

int drm_fdinfo_parse(const char *text, struct drm_client *out)
{
	uint64_t resident = 0, total = 0;
	bool have_pdev = false;

	memset(out, 0, sizeof(*out));
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		char line[256], *colon, *v;
		size_t len = strcspn(p, "\n");
		uint64_t x;

		if (len >= sizeof(line) || strncmp(p, "drm-", 4))
			continue;
		memcpy(line, p, len);
		line[len] = '\0';
		colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		if (!strcmp(line, "drm-pdev")) {
			if (strlen(v) >= sizeof(out->pdev) || strspn(v, "0123456789abcdef:.") != strlen(v))
				return -EINVAL;
			memcpy(out->pdev, v, strlen(v) + 1);
			have_pdev = true;
		} else if (!strcmp(line, "drm-client-id")) {
			if (value(v, false, &out->client_id))
				return -EINVAL;
			out->has_id = true;
		} else if ((!strncmp(line, "drm-engine-", 11) && strncmp(line, "drm-engine-capacity-", 20)) ||
			   !strncmp(line, "drm-cycles-", 11)) {
			/* A malformed counter is ignored; the rest of the client still counts. */
			if (!value(v, false, &x) && out->engine_ns <= UINT64_MAX - x)
				out->engine_ns += x;
		} else if (!strncmp(line, "drm-resident-", 13) || !strncmp(line, "drm-memory-", 11)) {
			if (!value(v, true, &x) && x > resident)
				resident = x;
		} else if (!strncmp(line, "drm-total-", 10) && strncmp(line, "drm-total-cycles-", 17)) {
			if (!value(v, true, &x) && x > total)
				total = x;
		}
	}
	if (!have_pdev || !out->has_id)
		return -ENOENT;
	out->mem_bytes = resident ? resident : total;
	return 0;
}

static uint64_t last_engine(const struct fdinfo_state *s, pid_t pid, const struct drm_client *c, bool *found)
{
	for (size_t i = 0; i < s->nr_last; i++)
		if (s->last[i].pid == pid && s->last[i].client_id == c->client_id && !strcmp(s->last[i].pdev, c->pdev)) {
			*found = true;
			return s->last[i].engine_ns;
		}
	*found = false;
	return 0;
}

static void remember(struct fdinfo_state *s, pid_t pid, const struct drm_client *c)
{
	if (s->nr_cur == s->cap_cur) {
		size_t cap = s->cap_cur ? s->cap_cur * 2 : 64;
		struct seen_client *n = realloc(s->cur, cap * sizeof(*n));

		if (!n)
			return;	/* no baseline next pass: only memory counts then */
		s->cur = n;
		s->cap_cur = cap;
	}
	s->cur[s->nr_cur] = (struct seen_client){ .pid = pid, .client_id = c->client_id, .engine_ns = c->engine_ns };
	memcpy(s->cur[s->nr_cur++].pdev, c->pdev, sizeof(c->pdev));
}

void fdinfo_read(struct fdinfo_state *s, const char *root, pid_t pid, const struct gpu_list *g,
		 struct use_list *out, uint64_t *covered)
{
	struct drm_client seen[CLIENTS_PER_PROC];
	char path[PATH_MAX], target[64], buf[4096];
	int nseen = 0, dfd, nfd = 0;
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "%s/proc/%d/fd", root, (int)pid);
	d = opendir(path);
	if (!d)
		return;	/* gone meanwhile, or not ours to read */
	dfd = dirfd(d);
	while ((e = readdir(d)) && nfd++ < FDS_PER_PROC && nseen < CLIENTS_PER_PROC) {
		struct drm_client c;
		ssize_t n;
		bool dup = false;

		if (e->d_name[0] == '.')
			continue;
		n = readlinkat(dfd, e->d_name, target, sizeof(target) - 1);
		if (n <= 0 || n >= (ssize_t)sizeof(target) - 1)
			continue;
		target[n] = '\0';
		if (strncmp(target, "/dev/dri/", 9))
			continue;
		snprintf(path, sizeof(path), "%s/proc/%d/fdinfo/%.16s", root, (int)pid, e->d_name);
		if (read_small_file(path, buf, sizeof(buf), false) || drm_fdinfo_parse(buf, &c))
			continue;
		for (int i = 0; i < nseen; i++)
			dup |= seen[i].client_id == c.client_id && !strcmp(seen[i].pdev, c.pdev);
		if (!dup)
			seen[nseen++] = c;
	}
	closedir(d);
	for (int i = 0; i < nseen; i++) {
		int gi = gpu_by_pci(g, seen[i].pdev);
		bool had;
		uint64_t before;

		if (gi < 0)
			continue;
		*covered |= 1ULL << gi;
		before = last_engine(s, pid, &seen[i], &had);
		remember(s, pid, &seen[i]);
		if (seen[i].mem_bytes || (had && seen[i].engine_ns > before))
			use_add(out, pid, gi, seen[i].mem_bytes, GSRC_FDINFO);
	}
}
