// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target for DRM fdinfo (daemon/gpusrc-fdinfo.c): the links under
 * /proc/PID/fd and each DRM file's /proc/PID/fdinfo/FD. The input is a fake
 * tree, one file per FUZZ_SEP-separated part (a missing part is a missing
 * file):
 *
 *   the fd names (blank-separated, at most 4), then per fd: the link's
 *   target, its fdinfo text for the first pass, its fdinfo text for the
 *   second pass (missing: the first pass's text stays).
 *
 * The GPU list is fixed: an amdgpu, an i915 and an xe GPU, at the PCI
 * addresses their seeds name. fdinfo_read runs three passes: the first
 * tree, the second tree, the second tree again. Promised:
 *   - drm_fdinfo_parse of any text returns 0, -ENOENT or -EINVAL, gives the
 *     same client when run again, and a client it accepts has an id and a
 *     pdev of PCI address characters only;
 *   - every use is the process's, on a GPU of the list that is also in the
 *     covered mask, no more uses than clients per pass;
 *   - in the first pass (no baseline yet) only memory is use;
 *   - a use without memory is a client whose engine time grew since the
 *     last pass; the third pass, on an unchanged tree, finds no such use.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-util.h"
#include "gpusrc.h"

#define PID	42
#define FDS	4
#define PER_FD	3
#define NR_PARTS	(1 + FDS * PER_FD)
/* What the reader's 4 KiB buffer holds: the texts checked are the texts it parses. */
#define TEXT_MAX	4095

static const char *const pcis[] = { "0000:00:02.0", "0000:03:00.0", "0000:c1:00.0" };
#define NR_GPUS	((int)(sizeof(pcis) / sizeof(pcis[0])))

struct pass {
	int nfd;
	char *text[FDS];	/* each fd's fdinfo in this pass, NULL if none */
};

static void gpus(struct gpu_list *l)
{
	memset(l, 0, sizeof(*l));
	for (int i = 0; i < NR_GPUS; i++) {
		snprintf(l->gpu[i].pci, sizeof(l->gpu[i].pci), "%s", pcis[i]);
		l->gpu[i].class = 0x030000;
		l->gpu[i].node = i % 2;
		l->gpu[i].nv_minor = -1;
	}
	l->nr = NR_GPUS;
}

static void check_parse(const uint8_t *data, size_t size, const char *text)
{
	struct drm_client a, b;
	int ra = drm_fdinfo_parse(text, &a), rb = drm_fdinfo_parse(text, &b);

	if (ra != 0 && ra != -ENOENT && ra != -EINVAL)
		fuzz_broken(data, size, "drm_fdinfo_parse returned %d", ra);
	if (ra != rb || (!ra && memcmp(&a, &b, sizeof(a))))
		fuzz_broken(data, size, "drm_fdinfo_parse differs when run again: %d, %d", ra, rb);
	if (ra)
		return;
	if (!a.has_id || !memchr(a.pdev, '\0', sizeof(a.pdev)) ||
	    strspn(a.pdev, "0123456789abcdef:.") != strlen(a.pdev))
		fuzz_broken(data, size, "a client accepted with pdev '%.*s' id %d", (int)sizeof(a.pdev), a.pdev,
			    a.has_id);
}

/* Write @p's fdinfo files (the fd links stay as they are). */
static void put_pass(const struct pass *p, char *const *names)
{
	char rel[256];

	for (int i = 0; i < p->nfd; i++) {
		snprintf(rel, sizeof(rel), "proc/%d/fdinfo/%s", PID, names[i]);
		if (p->text[i])
			fuzz_tree_put(rel, p->text[i], strlen(p->text[i]));
	}
}

/* The client fd @i's text in @p gives, with its GPU; false if none usable. */
static bool client_of(const struct pass *p, int i, const struct gpu_list *g, struct drm_client *c, int *gi)
{
	if (!p->text[i] || drm_fdinfo_parse(p->text[i], c))
		return false;
	*gi = gpu_by_pci(g, c->pdev);
	return *gi >= 0;
}

/* Did a client on GPU @gi, without memory now, grow its engine time from @before to @now? */
static bool engine_grew(const struct pass *before, const struct pass *now, int nfd, const struct gpu_list *g,
			int gi)
{
	for (int i = 0; i < nfd; i++) {
		struct drm_client c, o;
		int k, ko;

		if (!client_of(now, i, g, &c, &k) || k != gi)
			continue;
		for (int j = 0; before && j < nfd; j++)
			if (client_of(before, j, g, &o, &ko) && o.client_id == c.client_id && !strcmp(o.pdev, c.pdev) &&
			    c.engine_ns > o.engine_ns)
				return true;
	}
	return false;
}

static void check_pass(const uint8_t *data, size_t size, const char *what, const struct use_list *u,
		       uint64_t covered, const struct pass *before, const struct pass *now, int nfd,
		       const struct gpu_list *g)
{
	if (covered >> NR_GPUS)
		fuzz_broken(data, size, "%s: covered %#llx beyond %d GPUs", what, (unsigned long long)covered,
			    NR_GPUS);
	if (u->n > (size_t)nfd)
		fuzz_broken(data, size, "%s: %zu uses from %d fds", what, u->n, nfd);
	for (size_t i = 0; i < u->n; i++) {
		const struct gpu_use *x = &u->v[i];

		if (x->pid != PID || x->src != GSRC_FDINFO || x->gpu < 0 || x->gpu >= NR_GPUS ||
		    !(covered & (1ULL << x->gpu)))
			fuzz_broken(data, size, "%s: use %zu is pid %d GPU %d source %d, covered %#llx", what, i,
				    (int)x->pid, x->gpu, (int)x->src, (unsigned long long)covered);
		if (!x->bytes && !engine_grew(before, now, nfd, g, x->gpu))
			fuzz_broken(data, size, "%s: GPU %d used without memory or engine time grown", what,
				    x->gpu);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_part parts[NR_PARTS];
	const char *root = fuzz_tree_reset();
	size_t nr = fuzz_split(data, size, parts, NR_PARTS);
	struct pass p1 = { 0 }, p2 = { 0 };
	struct fdinfo_state *s;
	struct gpu_list g;
	char *names[FDS], *buf, rel[256];
	int nfd = 0;

	gpus(&g);
	fuzz_tree_mkdir("proc/42/fd");
	buf = fuzz_names(&parts[0], names, FDS, &nfd);
	p1.nfd = p2.nfd = nfd;
	for (int i = 0; i < nfd; i++) {
		const struct fuzz_part *p = &parts[1 + i * PER_FD];
		size_t have = nr > 1 + (size_t)i * PER_FD ? nr - 1 - (size_t)i * PER_FD : 0;

		if (have > 0 && p[0].len) {
			char *target = fuzz_strndup(p[0].p, p[0].len > 200 ? 200 : p[0].len);

			snprintf(rel, sizeof(rel), "proc/%d/fd/%s", PID, names[i]);
			if (*target)
				fuzz_tree_symlink(rel, target);
			free(target);
		}
		if (have > 1)
			p1.text[i] = fuzz_strndup(p[1].p, p[1].len > TEXT_MAX ? TEXT_MAX : p[1].len);
		if (have > 2)
			p2.text[i] = fuzz_strndup(p[2].p, p[2].len > TEXT_MAX ? TEXT_MAX : p[2].len);
		else if (p1.text[i])
			p2.text[i] = fuzz_strndup(p1.text[i], strlen(p1.text[i]));
		if (p1.text[i])
			check_parse(data, size, p1.text[i]);
		if (p2.text[i])
			check_parse(data, size, p2.text[i]);
	}

	s = fdinfo_state_new();
	if (!s)
		abort();
	for (int k = 0; k < 3; k++) {
		const struct pass *now = k ? &p2 : &p1, *before = k == 0 ? NULL : k == 1 ? &p1 : &p2;
		struct use_list u = { 0 };
		uint64_t covered = 0;
		static const char *const what[] = { "first pass", "second pass", "second tree again" };

		put_pass(now, names);
		fdinfo_pass_begin(s);
		fdinfo_read(s, root, PID, &g, &u, &covered);
		/* The third pass reads the second's tree: nothing grew, so no use may lack memory. */
		check_pass(data, size, what[k], &u, covered, k == 2 ? NULL : before, now, nfd, &g);
		free(u.v);
	}
	fdinfo_state_free(s);
	for (int i = 0; i < FDS; i++) {
		free(p1.text[i]);
		free(p2.text[i]);
	}
	free(buf);
	return 0;
}
