// SPDX-License-Identifier: GPL-2.0
/*
 * Environment hints (see gpuenv.h). The block comes from the process and
 * is not trusted: every string is bounded by the block, every number by
 * the list it indexes, and anything unexpected ends the list it is in.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <unistd.h>

#include "gpuenv.h"

#define VENDOR_NVIDIA	0x10de
#define VENDOR_AMD	0x1002

/* GPUs in the order a list's indices count them. */
struct vis {
	int n;
	int idx[GPU_MAX];
};

/* The value of @name in the block, NULL if it is not set. */
static const char *getv(const char *env, size_t len, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = env, *end = env + len;

	while (p < end) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));

		if (!nul)
			return NULL;
		if ((size_t)(nul - p) > nlen && !memcmp(p, name, nlen) && p[nlen] == '=')
			return p + nlen + 1;
		p = nul + 1;
	}
	return NULL;
}

/* A vendor's GPUs (every GPU for vendor 0), in PCI order, which is the list's order. */
static void vendor_order(const struct gpu_list *g, uint16_t vendor, struct vis *v)
{
	v->n = 0;
	for (int i = 0; i < g->nr && i < GPU_MAX; i++)
		if (!vendor || g->gpu[i].vendor == vendor)
			v->idx[v->n++] = i;
}

/* Would CUDA's default order (fastest first, then PCI) be PCI order? Only if no GPU is faster. */
static bool same_model(const struct gpu_list *g, const struct vis *v)
{
	for (int i = 1; i < v->n; i++)
		if (g->gpu[v->idx[i]].device != g->gpu[v->idx[0]].device)
			return false;
	return true;
}

/* A decimal index of at most 3 digits (no list has more GPUs), -1 otherwise. */
static int small_index(const char *t, size_t n)
{
	int v = 0;

	if (!n || n > 3)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (t[i] < '0' || t[i] > '9')
			return -1;
		v = v * 10 + (t[i] - '0');
	}
	return v;
}

/* What a list is read against, and what it could not map. */
struct ctx {
	const struct gpu_list *g;
	const struct gpu_uuids *ids;
	bool unresolved;
	char unmatched[GPU_UUID_LEN];
};

int gpu_uuids_add(struct gpu_uuids *u, const char *uuid, int gpu)
{
	size_t n = strlen(uuid);

	if (!n || n >= GPU_UUID_LEN)
		return -EINVAL;
	if (u->n == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 16;
		struct gpu_uuid *v = realloc(u->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		u->v = v;
		u->cap = cap;
	}
	memcpy(u->v[u->n].uuid, uuid, n + 1);
	u->v[u->n++].gpu = gpu;
	return 0;
}

void gpu_uuids_free(struct gpu_uuids *u)
{
	free(u->v);
	*u = (struct gpu_uuids){ 0 };
}

/* Does @uuid start with the @n bytes of @t? Then GPU @gpu is named: -2 when another already was. */
static int match(const char *uuid, int gpu, const char *t, size_t n, int found)
{
	if (!uuid[0] || strncasecmp(uuid, t, n))
		return found;
	return found >= 0 && found != gpu ? -2 : gpu;
}

/*
 * The one GPU a UUID starting with @t names (CUDA takes a unique prefix):
 * -1 if none, -2 if several. The vendors' UUIDs count with the list's own;
 * one GPU named by both is one GPU.
 */
static int by_uuid(const struct ctx *x, const char *t, size_t n)
{
	int found = -1;

	if (n < 5 || n >= GPU_UUID_LEN)
		return -1;
	for (int i = 0; i < x->g->nr && i < GPU_MAX && found != -2; i++)
		found = match(x->g->gpu[i].uuid, i, t, n, found);
	for (size_t i = 0; x->ids && i < x->ids->n && found != -2; i++)
		if (x->ids->v[i].gpu >= 0 && x->ids->v[i].gpu < x->g->nr && x->ids->v[i].gpu < GPU_MAX)
			found = match(x->ids->v[i].uuid, x->ids->v[i].gpu, t, n, found);
	return found;
}

/* The GPU a GPU-... or MIG-... entry names, -1 when it names none we know (said in @x), -2 if several. */
static int uuid_entry(struct ctx *x, const char *t, size_t n)
{
	size_t k = n;
	int gpu;

	/* The older MIG form, MIG-GPU-<uuid>/GI/CI, names its GPU. */
	if (!strncasecmp(t, "MIG-GPU-", 8)) {
		t += 4;
		n -= 4;
		k = strcspn(t, "/");
		if (k > n)
			k = n;
	}
	gpu = by_uuid(x, t, k);
	if (gpu < 0)
		x->unresolved = true;
	if (gpu == -1 && !x->unmatched[0]) {
		/* Logged later: printable UUID characters only, bounded. */
		size_t i;

		for (i = 0; i < k && i + 1 < sizeof(x->unmatched); i++)
			x->unmatched[i] = (isalnum((unsigned char)t[i]) || t[i] == '-') ? t[i] : '?';
		x->unmatched[i] = '\0';
	}
	return gpu;
}

static void add(struct vis *v, int gpu)
{
	for (int i = 0; i < v->n; i++)
		if (v->idx[i] == gpu)
			return;
	if (v->n < GPU_MAX)
		v->idx[v->n++] = gpu;
}

/*
 * The GPUs list @val names, in its order: indices count in @base (when
 * @idx_ok; otherwise they cannot be mapped), UUIDs are looked up (one that
 * names no GPU is skipped), and @minors makes indices device minors
 * instead. Returns 1 for "all" (no restriction), 0 otherwise.
 */
static int parse_list(const char *val, struct ctx *x, const struct vis *base, bool idx_ok, bool minors,
		      struct vis *out)
{
	const struct gpu_list *g = x->g;
	const char *p = val;

	out->n = 0;
	if (!strcmp(val, "all"))
		return 1;
	if (!strcmp(val, "none") || !strcmp(val, "void") || !strcmp(val, "NoDevFiles"))
		return 0;
	while (*p) {
		size_t n;
		int i;

		p += strspn(p, " \t");
		n = strcspn(p, ",");
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		i = small_index(p, n);
		if (i >= 0 && minors) {
			int k;

			for (k = 0; k < base->n && g->gpu[base->idx[k]].nv_minor != i; k++)
				;
			if (k == base->n)
				break;
			add(out, base->idx[k]);
		} else if (i >= 0) {
			if (!idx_ok) {
				x->unresolved = true;
				break;
			}
			/* CUDA ignores the rest of a list after an index it does not have. */
			if (i >= base->n)
				break;
			add(out, base->idx[i]);
		} else if (n > 4 && (!strncasecmp(p, "GPU-", 4) || !strncasecmp(p, "MIG-", 4))) {
			int k = uuid_entry(x, p, n);

			if (k >= 0)
				add(out, k);
		} else {
			break;
		}
		p += strcspn(p, ",");
		if (*p == ',')
			p++;
	}
	return 0;
}

static uint64_t mask_of(const struct vis *v)
{
	uint64_t m = 0;

	for (int i = 0; i < v->n; i++)
		m |= 1ULL << v->idx[i];
	return m;
}

void gpuenv_parse(const char *env, size_t len, const struct gpu_list *g, const struct gpu_uuids *ids,
		  struct gpu_env *out)
{
	struct ctx x = { .g = g, .ids = ids };
	struct vis nv, amd, all, outer, slurm, res, visible;
	const char *cvd = getv(env, len, "CUDA_VISIBLE_DEVICES");
	const char *nvd = getv(env, len, "NVIDIA_VISIBLE_DEVICES");
	const char *rocr = getv(env, len, "ROCR_VISIBLE_DEVICES");
	const char *hip = getv(env, len, "HIP_VISIBLE_DEVICES");
	const char *sl = getv(env, len, "SLURM_STEP_GPUS");
	const char *order = getv(env, len, "CUDA_DEVICE_ORDER");
	const char *rank = getv(env, len, "LOCAL_RANK");
	bool has_outer = false, has_slurm = false;
	const char *slname = "SLURM_STEP_GPUS";
	int r;

	memset(out, 0, sizeof(*out));
	out->rank_gpu = -1;
	vendor_order(g, VENDOR_NVIDIA, &nv);
	vendor_order(g, VENDOR_AMD, &amd);
	vendor_order(g, 0, &all);
	res.n = 0;
	if (!sl) {
		sl = getv(env, len, "SLURM_JOB_GPUS");
		slname = "SLURM_JOB_GPUS";
	}
	if (nvd && !parse_list(nvd, &x, &nv, true, false, &outer))
		has_outer = true;
	if (sl) {
		/* Slurm counts NVIDIA GPUs by /dev/nvidiaN; other vendors by their order. */
		parse_list(sl, &x, nv.n ? &nv : &all, true, nv.n > 0, &slurm);
		has_slurm = true;
	}
	if (cvd) {
		const struct vis *base = &nv;
		bool pci = order && !strcmp(order, "PCI_BUS_ID");

		/* Inside a container or a job whose devices are fenced, indices count the GPUs it sees. */
		if (has_outer)
			base = &outer;
		else if (has_slurm && strcmp(cvd, sl))
			base = &slurm;
		parse_list(cvd, &x, base, pci || same_model(g, base), false, &res);
		out->var = "CUDA_VISIBLE_DEVICES";
	} else if (has_outer) {
		res = outer;
		out->var = "NVIDIA_VISIBLE_DEVICES";
	} else if (rocr || hip) {
		struct vis rv = amd;

		if (rocr) {
			parse_list(rocr, &x, &amd, true, false, &rv);
			out->var = "ROCR_VISIBLE_DEVICES";
		}
		res = rv;
		/* HIP's indices count within what ROCr left visible. */
		if (hip) {
			parse_list(hip, &x, &rv, true, false, &res);
			out->var = "HIP_VISIBLE_DEVICES";
		}
	} else if (has_slurm) {
		res = slurm;
		out->var = slname;
	}
	out->gpus = mask_of(&res);
	out->unresolved = x.unresolved;
	memcpy(out->unmatched, x.unmatched, sizeof(out->unmatched));
	if (out->var && !out->gpus && x.unresolved)
		out->var = NULL;	/* named GPUs, none of them ours to map: no hint at all */
	visible = out->var ? res : nv.n ? nv : amd.n ? amd : all;
	if (rank && (r = small_index(rank, strlen(rank))) >= 0 && r < visible.n)
		out->rank_gpu = visible.idx[r];
}

int gpuenv_read(const char *root, pid_t pid, const struct gpu_list *g, const struct gpu_uuids *ids,
		struct gpu_env *out)
{
	char path[PATH_MAX], *buf;
	size_t len = 0;
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/proc/%d/environ", root ? root : "", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(GPUENV_READ_MAX);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (len < GPUENV_READ_MAX) {
		ssize_t n = read(fd, buf + len, GPUENV_READ_MAX - len);

		if (n < 0) {
			ret = -errno;
			break;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (!ret)
		gpuenv_parse(buf, len, g, ids, out);
	free(buf);
	return ret;
}
