// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target for KFD's sysfs (daemon/gpusrc-kfd.c): its topology nodes and
 * its per-process directories. The input is a fake tree below
 * sys/class/kfd/kfd, one file per FUZZ_SEP-separated part (a missing part is
 * a missing file):
 *
 *   per topology node 0, 1, 2: gpu_id, properties; then the names under
 *   proc/ (blank-separated, at most 3); then per process directory: its
 *   files, blank-separated NAME=CONTENT (a file; "vram_1234=8589934592"),
 *   and its queues, blank-separated Q=GPUID (queues/Q/gpuid).
 *
 * The GPU list is fixed: two AMD GPUs at the PCI addresses the seeds name
 * and an NVIDIA one. Promised: kfd_read counts at most the process
 * directories there are; every use is of a process named there, on a GPU
 * of the list that KFD covers, once per process and GPU; every UUID is
 * "GPU-" and 16 hex digits on a covered GPU; and a second read of the same
 * tree gives the same uses, coverage and UUIDs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-util.h"
#include "gpuenv.h"
#include "gpusrc.h"

#define KFD		"sys/class/kfd/kfd"
#define NODES		3
#define PROCS		3
#define NR_PARTS	(2 * NODES + 1 + 2 * PROCS)

static const char *const pcis[] = { "0000:03:00.0", "0000:43:00.0", "0000:c1:00.0" };
static const uint16_t vendors[] = { 0x1002, 0x1002, 0x10de };
#define NR_GPUS	((int)(sizeof(pcis) / sizeof(pcis[0])))

struct result {
	int n;
	uint64_t covered;
	struct use_list u;
	struct gpu_uuids ids;
};

static void gpus(struct gpu_list *l)
{
	memset(l, 0, sizeof(*l));
	for (int i = 0; i < NR_GPUS; i++) {
		snprintf(l->gpu[i].pci, sizeof(l->gpu[i].pci), "%s", pcis[i]);
		l->gpu[i].class = 0x038000;
		l->gpu[i].vendor = vendors[i];
		l->gpu[i].node = i;
		l->gpu[i].nv_minor = -1;
	}
	l->nr = NR_GPUS;
}

/* NAME=CONTENT entries of @part as files below @dir; with @sub, as @dir/NAME/@sub. */
static void put_entries(const char *dir, const struct fuzz_part *part, const char *sub)
{
	char *names[8], *buf, rel[512];
	int n;

	buf = fuzz_names(part, names, 8, &n);
	for (int i = 0; i < n; i++) {
		char *eq = strchr(names[i], '=');

		if (eq)
			*eq++ = '\0';
		/* Cut at '=', a name may be left "." or "..": no file can have it. */
		if (!*names[i] || !strcmp(names[i], ".") || !strcmp(names[i], ".."))
			continue;
		snprintf(rel, sizeof(rel), "%s/%s%s%s", dir, names[i], sub ? "/" : "", sub ? sub : "");
		fuzz_tree_put(rel, eq ? eq : "", eq ? strlen(eq) : 0);
	}
	free(buf);
}

static void build_tree(const struct fuzz_part *parts, size_t nr)
{
	char rel[256], *names[PROCS], *buf;
	int n;

	for (size_t k = 0; k < 2 * NODES && k < nr; k++) {
		snprintf(rel, sizeof(rel), KFD "/topology/nodes/%zu/%s", k / 2, k % 2 ? "properties" : "gpu_id");
		fuzz_tree_put(rel, parts[k].p, parts[k].len);
	}
	if (nr <= 2 * NODES)
		return;
	fuzz_tree_mkdir(KFD "/proc");
	buf = fuzz_names(&parts[2 * NODES], names, PROCS, &n);
	for (int i = 0; i < n; i++) {
		size_t first = 2 * NODES + 1 + 2 * (size_t)i;

		snprintf(rel, sizeof(rel), KFD "/proc/%s", names[i]);
		fuzz_tree_mkdir(rel);
		if (first < nr)
			put_entries(rel, &parts[first], NULL);
		if (first + 1 < nr) {
			snprintf(rel, sizeof(rel), KFD "/proc/%s/queues", names[i]);
			fuzz_tree_mkdir(rel);
			put_entries(rel, &parts[first + 1], "gpuid");
		}
	}
	free(buf);
}

/* Is @pid one of the process directories' names, written as KFD writes it? */
static bool named(const struct fuzz_part *part, pid_t pid)
{
	char *names[PROCS], *buf, want[16];
	bool found = false;
	int n;

	snprintf(want, sizeof(want), "%d", (int)pid);
	buf = fuzz_names(part, names, PROCS, &n);
	for (int i = 0; i < n; i++) {
		char *end;
		unsigned long v = strtoul(names[i], &end, 10);

		found |= names[i][0] >= '0' && names[i][0] <= '9' && v == (unsigned long)pid;
	}
	free(buf);
	return found;
}

static void check(const uint8_t *data, size_t size, const struct result *r, const struct fuzz_part *procs,
		  int nprocs)
{
	if (r->n < 0 || r->n > nprocs)
		fuzz_broken(data, size, "kfd_read counted %d processes of %d directories", r->n, nprocs);
	if (r->covered >> NR_GPUS)
		fuzz_broken(data, size, "covered %#llx beyond %d GPUs", (unsigned long long)r->covered, NR_GPUS);
	for (size_t i = 0; i < r->u.n; i++) {
		const struct gpu_use *x = &r->u.v[i];

		if (x->src != GSRC_KFD || x->gpu < 0 || x->gpu >= NR_GPUS || !(r->covered & (1ULL << x->gpu)) ||
		    !procs || !named(procs, x->pid))
			fuzz_broken(data, size, "use %zu is pid %d GPU %d source %d, covered %#llx", i, (int)x->pid,
				    x->gpu, (int)x->src, (unsigned long long)r->covered);
		for (size_t k = 0; k < i; k++)
			if (r->u.v[k].pid == x->pid && r->u.v[k].gpu == x->gpu)
				fuzz_broken(data, size, "pid %d uses GPU %d twice", (int)x->pid, x->gpu);
	}
	for (size_t i = 0; i < r->ids.n; i++) {
		const struct gpu_uuid *id = &r->ids.v[i];

		if (strlen(id->uuid) != 20 || strncmp(id->uuid, "GPU-", 4) ||
		    strspn(id->uuid + 4, "0123456789abcdef") != 16 || id->gpu < 0 || id->gpu >= NR_GPUS ||
		    !(r->covered & (1ULL << id->gpu)))
			fuzz_broken(data, size, "UUID '%s' for GPU %d", id->uuid, id->gpu);
	}
}

static bool same(const struct result *a, const struct result *b)
{
	if (a->n != b->n || a->covered != b->covered || a->u.n != b->u.n || a->ids.n != b->ids.n)
		return false;
	for (size_t i = 0; i < a->u.n; i++)
		if (a->u.v[i].pid != b->u.v[i].pid || a->u.v[i].gpu != b->u.v[i].gpu ||
		    a->u.v[i].bytes != b->u.v[i].bytes)
			return false;
	for (size_t i = 0; i < a->ids.n; i++)
		if (strcmp(a->ids.v[i].uuid, b->ids.v[i].uuid) || a->ids.v[i].gpu != b->ids.v[i].gpu)
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_part parts[NR_PARTS];
	const char *root = fuzz_tree_reset();
	size_t nr = fuzz_split(data, size, parts, NR_PARTS);
	struct result r[2] = { 0 };
	const struct fuzz_part *procs = nr > 2 * NODES ? &parts[2 * NODES] : NULL;
	int nprocs = 0;
	struct gpu_list g;

	gpus(&g);
	build_tree(parts, nr);
	if (procs) {
		char *names[PROCS], *buf = fuzz_names(procs, names, PROCS, &nprocs);

		free(buf);
	}
	for (int k = 0; k < 2; k++) {
		r[k].n = kfd_read(root, &g, &r[k].u, &r[k].covered, &r[k].ids);
		check(data, size, &r[k], procs, nprocs);
	}
	if (!same(&r[0], &r[1]))
		fuzz_broken(data, size, "a second read of the same tree differs: %d processes, %zu uses, %zu UUIDs; then "
			    "%d, %zu, %zu", r[0].n, r[0].u.n, r[0].ids.n, r[1].n, r[1].u.n, r[1].ids.n);
	for (int k = 0; k < 2; k++) {
		free(r[k].u.v);
		gpu_uuids_free(&r[k].ids);
	}
	return 0;
}
