/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fixture trees for the tests and the benchmark: a file below a root
 * directory, its parent directories created on the way.
 */
#ifndef SCX_AI_NUMA_FIXTURE_H
#define SCX_AI_NUMA_FIXTURE_H

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Write @len bytes of @text to ROOT/REL; any failure ends the program (a broken fixture is no result). */
static inline void fixture_put(const char *root, const char *rel, const void *text, size_t len)
{
	char p[PATH_MAX + 256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	for (char *s = p + strlen(root) + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	f = fopen(p, "w");
	if (!f || fwrite(text, 1, len, f) != len || fclose(f)) {
		printf("Bail out! writing %s: %s\n", p, strerror(errno));
		exit(2);
	}
}

#endif
