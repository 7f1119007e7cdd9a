// SPDX-License-Identifier: GPL-2.0
/*
 * The association (see assoc.h). A pass looks only at processes some
 * source names: the open-file scan's hits and NVML's processes, a handful
 * on a training host, so its cost does not grow with the host's process
 * count. Their descendants are found by walking down from them, never by
 * reading every process's parent.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "assoc.h"
#include "fileio.h"
#include "gpuenv.h"
#include "log.h"
#include "proc.h"

#define TREE_MAX	4096	/* descendants homed per pass, all GPU processes together */
#define TREE_DEPTH	8
#define SAID_MAX	32	/* unmatched UUIDs remembered as logged; past them, none is */

/*
 * The environment's hints of a process, read when it was first seen, and
 * again when it named a GPU we could not map and the vendors' UUIDs have
 * changed since (NVML came up, a MIG instance was created).
 */
struct env_entry {
	pid_t pid;
	uint64_t start_time;
	uint64_t ids_sum;		/* the vendors' UUIDs it was read against */
	struct gpu_env env;
};

struct assoc {
	struct env_entry *env;		/* sorted by pid */
	size_t nr_env;
	struct fdinfo_state *fdi;	/* engine times of the last pass */
	struct gpu_uuids ids;		/* the vendors' UUIDs of our GPUs, this pass */
	uint64_t ids_sum;		/* a hash of them */
	char said[SAID_MAX][GPU_UUID_LEN];	/* UUIDs that matched nothing, already logged */
	unsigned int nr_said;
};

/* A process some source names, and what it says. */
struct cand {
	pid_t pid;
	uint64_t fd;		/* GPUs it holds open */
	uint64_t covered;	/* GPUs where a vendor source answers for it: an open node there is no evidence */
	size_t use_first, use_n;	/* its vendor sources' records, best source first */
	const struct gpu_env *env;
};

const char *gpu_source_name(enum gpu_source s)
{
	switch (s) {
	case GSRC_NONE: return "none";
	case GSRC_NVML: return "nvml";
	case GSRC_KFD: return "kfd";
	case GSRC_FDINFO: return "fdinfo";
	case GSRC_ACCEL: return "accel";
	case GSRC_ENVIRON: return "environ";
	case GSRC_FDSCAN: return "fd";
	}
	return "?";
}

const char *gpu_scope_name(enum gpu_scope s)
{
	switch (s) {
	case GPU_SCOPE_PROCESS: return "process";
	case GPU_SCOPE_TREE: return "tree";
	case GPU_SCOPE_CGROUP: return "cgroup";
	}
	return "?";
}

struct assoc *assoc_new(void)
{
	struct assoc *a = calloc(1, sizeof(struct assoc));

	if (a && !(a->fdi = fdinfo_state_new())) {
		free(a);
		return NULL;
	}
	return a;
}

void assoc_free(struct assoc *a)
{
	if (!a)
		return;
	fdinfo_state_free(a->fdi);
	gpu_uuids_free(&a->ids);
	free(a->env);
	free(a);
}

static int cmp_pid(const void *x, const void *y)
{
	pid_t a = *(const pid_t *)x, b = *(const pid_t *)y;

	return (a > b) - (a < b);
}

/* By pid, then best source first, then GPU. */
static int cmp_use(const void *x, const void *y)
{
	const struct gpu_use *a = x, *b = y;

	if (a->pid != b->pid)
		return (a->pid > b->pid) - (a->pid < b->pid);
	if (a->src != b->src)
		return (a->src > b->src) - (a->src < b->src);
	return (a->gpu > b->gpu) - (a->gpu < b->gpu);
}

/*
 * NVML's answer against our GPUs: PCI addresses mapped to indices, unknown
 * ones dropped; each GPU's UUID and its MIG instances' go to @ids.
 */
static int map_nvml(const struct assoc_in *in, struct use_list *out, uint64_t *covered, struct gpu_uuids *ids)
{
	const struct nv_snapshot *s = in->nv;
	int idx[GPU_MAX];

	if (!s)
		return 0;
	for (int i = 0; i < s->nr_gpus && i < GPU_MAX; i++) {
		idx[i] = gpu_by_pci(in->gpus, s->pci[i]);
		if (idx[i] < 0)
			continue;
		*covered |= 1ULL << idx[i];
		if (s->uuid[i][0] && gpu_uuids_add(ids, s->uuid[i], idx[i]) == -ENOMEM)
			return -ENOMEM;
	}
	for (int i = 0; i < s->nr_migs && i < NV_MIG_MAX; i++) {
		const struct nv_mig *m = &s->mig[i];

		if (m->gpu >= 0 && m->gpu < s->nr_gpus && m->gpu < GPU_MAX && idx[m->gpu] >= 0 &&
		    gpu_uuids_add(ids, m->uuid, idx[m->gpu]) == -ENOMEM)
			return -ENOMEM;
	}
	for (size_t i = 0; i < s->nr_uses; i++) {
		const struct nv_use *u = &s->use[i];

		if (u->gpu < 0 || u->gpu >= s->nr_gpus || u->gpu >= GPU_MAX || idx[u->gpu] < 0)
			continue;
		/* The driver does not say how much: 0, every GPU weighs the same. */
		if (use_add(out, u->pid, idx[u->gpu], u->bytes == NV_BYTES_UNKNOWN ? 0 : u->bytes, GSRC_NVML) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* The sources that read the kernel for one process holding GPUs open: DRM clients, accelerators. */
static int kernel_sources(struct assoc *a, const struct assoc_in *in, pid_t pid, uint64_t fd, struct use_list *out,
			  uint64_t *covered)
{
	bool drm = false;

	for (int i = 0; i < in->gpus->nr && i < GPU_MAX; i++) {
		const struct gpu *g = &in->gpus->gpu[i];

		if (!(fd & (1ULL << i)))
			continue;
		/* An accelerator's node is the device itself: holding it open is owning it. */
		if ((g->class >> 8) == 0x1200) {
			if (use_add(out, pid, i, 0, GSRC_ACCEL) < 0)
				return -ENOMEM;
			*covered |= 1ULL << i;
		}
		for (int k = 0; k < g->nr_dev; k++)
			drm |= !strncmp(g->dev[k], "/dev/dri/", 9);
	}
	if (drm)
		fdinfo_read(a->fdi, in->root, pid, in->gpus, out, covered);
	return 0;
}

/* FNV-1a over the UUIDs and their GPUs: equal tables, equal sums. */
static uint64_t uuids_hash(const struct gpu_uuids *ids)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < ids->n; i++) {
		for (const char *p = ids->v[i].uuid; *p; p++)
			h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
		h = (h ^ (uint64_t)(unsigned int)ids->v[i].gpu) * 0x100000001b3ULL;
	}
	return h;
}

/* A UUID in an environment that names no GPU here: said once per UUID, however many processes carry it. */
static void say_unmatched(struct assoc *a, const struct assoc_in *in, pid_t pid, const char *uuid)
{
	for (unsigned int i = 0; i < a->nr_said; i++)
		if (!strcmp(a->said[i], uuid))
			return;
	if (a->nr_said == SAID_MAX)
		return;
	snprintf(a->said[a->nr_said++], sizeof(a->said[0]), "%s", uuid);
	log_info("assoc: pid %d names GPU %s in its environment, which matches no GPU here%s; ignored%s", (int)pid,
		 uuid, in->nv ? "" : " (NVML is not answering)",
		 a->nr_said == SAID_MAX ? " (further unmatched UUIDs are not logged)" : "");
}

/*
 * The environment of @pid: from the cache when it is the same process (and
 * nothing it named in vain could be mapped now), read otherwise.
 */
static const struct gpu_env *env_of(struct assoc *a, const struct assoc_in *in, pid_t pid, struct env_entry *next,
				    size_t *nr_next)
{
	struct env_entry key = { .pid = pid }, *old, *e = &next[*nr_next];
	struct proc_stat ps;

	if (proc_stat_read(in->root, pid, &ps) || !proc_stat_live(&ps))
		return NULL;	/* gone or a zombie: nothing to read, nothing to place */
	old = a->nr_env ? bsearch(&key, a->env, a->nr_env, sizeof(key), cmp_pid) : NULL;
	if (old && old->start_time == ps.start_time && (!old->env.unresolved || old->ids_sum == a->ids_sum)) {
		*e = *old;
	} else {
		e->pid = pid;
		e->start_time = ps.start_time;
		e->ids_sum = a->ids_sum;
		/* Not ours to read, or gone meanwhile: no hint. */
		if (gpuenv_read(in->root, pid, in->gpus, &a->ids, &e->env) < 0) {
			memset(&e->env, 0, sizeof(e->env));
			e->env.rank_gpu = -1;
		}
		if (e->env.unmatched[0])
			say_unmatched(a, in, pid, e->env.unmatched);
	}
	(*nr_next)++;
	return &e->env;
}

/*
 * The node of a process's GPUs, weighted by @w[i] per GPU; -1 with @why
 * when there is none or a tie LOCAL_RANK does not break.
 */
static int pick_node(const struct gpu_list *g, const uint64_t *w, uint64_t mask, int rank_gpu, const char **why)
{
	uint64_t sum[GPU_MAX] = { 0 };	/* per distinct node, in the order first met */
	int nodes[GPU_MAX], nr = 0, best = -1;
	bool tie = false;

	for (int i = 0; i < g->nr && i < GPU_MAX; i++) {
		int k;

		if (!(mask & (1ULL << i)) || g->gpu[i].node < 0)
			continue;
		for (k = 0; k < nr && nodes[k] != g->gpu[i].node; k++)
			;
		if (k == nr)
			nodes[nr++] = g->gpu[i].node;
		sum[k] += w[i];
	}
	if (!nr) {
		*why = "its GPUs' NUMA node is unknown";
		return -1;
	}
	for (int k = 0; k < nr; k++) {
		if (best < 0 || sum[k] > sum[best]) {
			best = k;
			tie = false;
		} else if (sum[k] == sum[best]) {
			tie = true;
		}
	}
	if (!tie)
		return nodes[best];
	/* Tied: its rank's GPU, if it is on one of the tied nodes. */
	if (rank_gpu >= 0 && rank_gpu < g->nr && (mask & (1ULL << rank_gpu)))
		for (int k = 0; k < nr; k++)
			if (sum[k] == sum[best] && nodes[k] == g->gpu[rank_gpu].node)
				return nodes[k];
	*why = "it uses GPUs on several nodes evenly";
	return -1;
}

/* Decide @c from its best source. Returns false when no source says it uses a GPU. */
static bool resolve(const struct assoc_in *in, const struct cand *c, const struct gpu_use *u, uint64_t covered,
		    struct gpu_proc *out)
{
	uint64_t w[GPU_MAX] = { 0 }, mask = 0, fd;
	int rank = c->env ? c->env->rank_gpu : -1;
	bool unknown = false;
	const char *why = NULL;

	*out = (struct gpu_proc){ .pid = c->pid, .node = -1 };
	if (c->use_n) {
		/* The best source alone: its records come first. */
		size_t i, end = c->use_first + c->use_n;

		out->source = u[c->use_first].src;
		for (i = c->use_first; i < end && u[i].src == out->source; i++) {
			mask |= 1ULL << u[i].gpu;
			unknown |= !u[i].bytes;
		}
		/* Memory decides; where the source does not say, every GPU weighs the same. */
		for (i = c->use_first; i < end && u[i].src == out->source; i++)
			w[u[i].gpu] += unknown ? 1 : u[i].bytes;
	} else {
		/* A vendor source would have named it on a GPU it answers for: an open node there says nothing. */
		fd = c->fd & ~(covered | c->covered);
		if (!fd)
			return false;
		if (c->env && c->env->var && c->env->gpus) {
			mask = c->env->gpus;
			out->source = GSRC_ENVIRON;
		} else {
			mask = fd;
			out->source = GSRC_FDSCAN;
		}
		for (int i = 0; i < GPU_MAX; i++)
			w[i] = (mask >> i) & 1;
	}
	out->gpus = mask;
	out->node = pick_node(in->gpus, w, mask, rank, &why);
	out->alone = why;
	return true;
}

/* Growable output. */
struct outv {
	struct gpu_proc *v;
	size_t n, cap;
};

static int push(struct outv *o, const struct gpu_proc *p)
{
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 32;
		struct gpu_proc *v = realloc(o->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		o->v = v;
		o->cap = cap;
	}
	o->v[o->n++] = *p;
	return 0;
}

static int cmp_gp(const void *x, const void *y)
{
	const struct gpu_proc *a = x, *b = y;

	return (a->pid > b->pid) - (a->pid < b->pid);
}

static struct gpu_proc *find(struct outv *o, size_t sorted, pid_t pid)
{
	struct gpu_proc key = { .pid = pid };
	struct gpu_proc *p = sorted ? bsearch(&key, o->v, sorted, sizeof(key), cmp_gp) : NULL;

	if (p)
		return p;
	for (size_t i = sorted; i < o->n; i++)
		if (o->v[i].pid == pid)
			return &o->v[i];
	return NULL;
}

/* The children of every thread of @pid, into @kids (room for @max). Returns their count. */
static size_t children(const char *root, pid_t pid, pid_t *kids, size_t max)
{
	char path[PATH_MAX], buf[4096];
	struct dirent *e;
	size_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/proc/%d/task", root, (int)pid);
	d = opendir(path);
	if (!d)
		return 0;	/* gone meanwhile */
	while ((e = readdir(d)) && n < max) {
		char *p, *end;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "%s/proc/%d/task/%.32s/children", root, (int)pid, e->d_name);
		if (read_small_file(path, buf, sizeof(buf), true))
			continue;
		for (p = buf; *p && n < max; p = end) {
			long v;

			while (*p == ' ')
				p++;
			if (!*p)
				break;
			errno = 0;
			v = strtol(p, &end, 10);
			if (errno || end == p || v <= 0 || v > INT_MAX || (*end && *end != ' '))
				break;
			kids[n++] = (pid_t)v;
		}
	}
	closedir(d);
	return n;
}

/* Give @root's descendants its home, unless they have better evidence of their own. */
static int extend_tree(const struct assoc_in *in, struct outv *o, size_t sorted, const struct gpu_proc *home,
		       size_t *budget)
{
	pid_t queue[256], kids[256];
	int depth[256];
	size_t qh = 0, qt = 0;
	int ret;

	queue[qt] = home->pid;
	depth[qt++] = 0;
	while (qh < qt && *budget) {
		pid_t p = queue[qh];
		int dep = depth[qh++];
		size_t n = children(in->root, p, kids, sizeof(kids) / sizeof(kids[0]));

		for (size_t i = 0; i < n && *budget; i++) {
			struct gpu_proc *have = find(o, sorted, kids[i]);
			struct gpu_proc g = { .pid = kids[i], .node = home->node, .source = home->source,
					      .via = home->pid };

			if (have && (have->via || have->source < GSRC_FDSCAN))
				continue;	/* its own evidence, or another GPU process's tree already */
			if (have) {
				/* An open node it inherited from its parent is not evidence of its own. */
				*have = g;
			} else if ((ret = push(o, &g)) < 0) {
				return ret;
			}
			(*budget)--;
			if (dep + 1 < TREE_DEPTH && qt < sizeof(queue) / sizeof(queue[0])) {
				queue[qt] = kids[i];
				depth[qt++] = dep + 1;
			}
		}
	}
	return 0;
}

ssize_t assoc_run(struct assoc *a, const struct assoc_in *in, struct gpu_proc **out)
{
	struct use_list uses = { 0 };
	struct cand *c = NULL;
	struct env_entry *next = NULL;
	struct outv o = { 0 };
	uint64_t *hit_cov = NULL, covered = 0;
	size_t nc = 0, nr_next = 0, sorted, budget = TREE_MAX, i, j;
	int ret = -ENOMEM;

	*out = NULL;
	hit_cov = calloc(in->nr_hits + 1, sizeof(*hit_cov));
	a->ids.n = 0;
	if (!hit_cov || map_nvml(in, &uses, &covered, &a->ids) < 0)
		goto out;
	if (in->kernel_sources) {
		fdinfo_pass_begin(a->fdi);
		if (kfd_read(in->root, in->gpus, &uses, &covered, &a->ids) < 0)
			goto out;
		for (i = 0; i < in->nr_hits; i++)
			if (kernel_sources(a, in, in->hits[i].pid, in->hits[i].gpus, &uses, &hit_cov[i]) < 0)
				goto out;
	}
	a->ids_sum = uuids_hash(&a->ids);
	if (uses.n)
		qsort(uses.v, uses.n, sizeof(*uses.v), cmp_use);
	/* Candidates: the scan's hits and the sources' processes, merged in pid order. */
	c = calloc(in->nr_hits + uses.n + 1, sizeof(*c));
	next = calloc(in->nr_hits + uses.n + 1, sizeof(*next));
	if (!c || !next)
		goto out;
	for (i = 0, j = 0; i < in->nr_hits || j < uses.n;) {
		pid_t pid = i == in->nr_hits ? uses.v[j].pid :
			    j == uses.n ? in->hits[i].pid :
			    in->hits[i].pid < uses.v[j].pid ? in->hits[i].pid : uses.v[j].pid;
		struct cand *x = &c[nc++];

		x->pid = pid;
		if (i < in->nr_hits && in->hits[i].pid == pid) {
			x->covered = hit_cov[i];
			x->fd = in->hits[i++].gpus;
		}
		x->use_first = j;
		while (j < uses.n && uses.v[j].pid == pid)
			j++;
		x->use_n = j - x->use_first;
	}
	for (i = 0; i < nc; i++) {
		struct gpu_proc g;

		c[i].env = env_of(a, in, c[i].pid, next, &nr_next);
		if (!c[i].env)
			continue;	/* exited mid-pass */
		if (resolve(in, &c[i], uses.v, covered, &g) && push(&o, &g) < 0)
			goto out;
	}
	/* Every candidate's entry is in, in pid order; descendants are appended. */
	sorted = o.n;
	if (in->scope != GPU_SCOPE_PROCESS)
		for (i = 0; i < sorted; i++) {
			struct gpu_proc home = o.v[i];

			if (home.node < 0 || home.via || home.source == GSRC_NONE)
				continue;
			if (extend_tree(in, &o, sorted, &home, &budget) < 0)
				goto out;
		}
	if (o.n)
		qsort(o.v, o.n, sizeof(*o.v), cmp_gp);
	for (i = 0; in->cpu_node && i < o.n; i++) {
		if (o.v[i].node < 0)
			continue;
		if (aff_confined_node(in->aff_get, o.v[i].pid, in->cpu_node, in->nr_cpus) >= 0)
			o.v[i].alone = "the kernel already keeps it on one node (CPU affinity or cpuset)";
	}
	/* The cache keeps the processes seen this pass; the others have gone or closed their GPUs. */
	free(a->env);
	a->env = next;
	a->nr_env = nr_next;
	next = NULL;
	*out = o.v;
	o.v = NULL;
	ret = (int)o.n;
out:
	free(o.v);
	free(next);
	free(c);
	free(uses.v);
	free(hit_cov);
	return ret;
}
