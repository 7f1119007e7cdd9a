/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fixture trees for the tests and the benchmark: files, directories and
 * links below a root directory, their parent directories created on the
 * way. Any failure ends the program: a broken fixture is no result.
 */
#ifndef SCX_AI_NUMA_FIXTURE_H
#define SCX_AI_NUMA_FIXTURE_H

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "../../daemon/clock.h"

__attribute__((noreturn, format(printf, 1, 2)))
static inline void fixture_bail(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(": %s\n", strerror(errno));
	exit(2);
}

/* ROOT/REL into @p; with @parents, its parent directories are created. */
static inline void fixture_path(char *p, size_t size, const char *root, const char *rel, bool parents)
{
	if ((size_t)snprintf(p, size, "%s/%s", root, rel) >= size) {
		errno = ENAMETOOLONG;
		fixture_bail("fixture path %s/%s", root, rel);
	}
	if (!parents)
		return;
	for (char *s = p + strlen(root) + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			fixture_bail("mkdir %s", p);
		*s = '/';
	}
}

/* Write @len bytes of @text to ROOT/REL. */
static inline void fixture_put(const char *root, const char *rel, const void *text, size_t len)
{
	char p[PATH_MAX + 256];
	FILE *f;

	fixture_path(p, sizeof(p), root, rel, true);
	f = fopen(p, "w");
	if (!f || fwrite(text, 1, len, f) != len || fclose(f))
		fixture_bail("writing %s", p);
}

/* A NUL-terminated string to ROOT/REL. */
static inline void fixture_puts(const char *root, const char *rel, const char *text)
{
	fixture_put(root, rel, text, strlen(text));
}

/* printf to ROOT/REL. */
__attribute__((format(printf, 3, 4)))
static inline void fixture_printf(const char *root, const char *rel, const char *fmt, ...)
{
	char stack[4096], *text = stack;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(stack, sizeof(stack), fmt, ap);
	va_end(ap);
	if (n < 0)
		fixture_bail("formatting %s", rel);
	if ((size_t)n >= sizeof(stack)) {
		text = malloc((size_t)n + 1);
		if (!text)
			fixture_bail("formatting %s", rel);
		va_start(ap, fmt);
		vsnprintf(text, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	fixture_put(root, rel, text, (size_t)n);
	if (text != stack)
		free(text);
}

/* mkdir -p ROOT/REL. */
static inline void fixture_mkdir(const char *root, const char *rel)
{
	char p[PATH_MAX + 256];

	fixture_path(p, sizeof(p), root, rel, true);
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		fixture_bail("mkdir %s", p);
}

/* ROOT/REL, a symlink to @target; one already there is replaced. */
static inline void fixture_link(const char *root, const char *rel, const char *target)
{
	char p[PATH_MAX + 256];

	fixture_path(p, sizeof(p), root, rel, true);
	unlink(p);
	if (symlink(target, p) < 0)
		fixture_bail("symlink %s", p);
}

/* CPU work for @ns of wall time, not a sleep: what a slow job looks like to the event loop. */
static inline void fixture_spin(uint64_t ns)
{
	uint64_t end = mono_ns() + ns;

	while (mono_ns() < end)
		;
}

#endif
