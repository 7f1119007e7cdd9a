// SPDX-License-Identifier: GPL-2.0
/* What the sources of GPU evidence share (see gpusrc.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gpusrc.h"

int use_add(struct use_list *l, pid_t pid, int gpu, uint64_t bytes, enum gpu_source src)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		struct gpu_use *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (struct gpu_use){ .pid = pid, .gpu = gpu, .bytes = bytes, .src = src };
	return 0;
}

int gpu_by_pci(const struct gpu_list *g, const char *pci)
{
	for (int i = 0; *pci && i < g->nr && i < GPU_MAX; i++)
		if (!strcmp(g->gpu[i].pci, pci))
			return i;
	return -1;
}
