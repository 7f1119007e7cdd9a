/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The smallest test harness that does the job: each check prints one TAP
 * line ("ok 3 - what it proves"), so meson reports checks by name, and
 * check_done() turns any failure into a non-zero exit status.
 */
#ifndef SCX_AI_NUMA_CHECK_H
#define SCX_AI_NUMA_CHECK_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int check_count, check_failures;

__attribute__((format(printf, 4, 5)))
static inline int check_line(int ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	check_count++;
	printf("%s %d - ", ok ? "ok" : "not ok", check_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok) {
		check_failures++;
		printf("#   at %s:%d\n", file, line);
	}
	fflush(stdout);
	return ok;
}

/* CHECK(condition, "printf-style description of the fact proven") */
#define CHECK(cond, ...) \
	check_line(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

/* Integer equality that shows both values when it fails. */
#define CHECK_INT(got, want, ...) do {						\
	long long check_g_ = (long long)(got), check_w_ = (long long)(want);	\
	if (!check_line(check_g_ == check_w_, __FILE__, __LINE__, __VA_ARGS__))	\
		printf("#   got %lld, want %lld (%s)\n", check_g_, check_w_, #got);	\
} while (0)

static inline void check_skip(const char *why)
{
	check_count++;
	printf("ok %d # SKIP %s\n", check_count, why);
	fflush(stdout);
}

/* A broken fixture is not a test result: stop at once. */
__attribute__((format(printf, 1, 2), noreturn))
static inline void check_bail(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(2);
}

static inline int check_done(void)
{
	printf("1..%d\n", check_count);
	if (check_failures)
		printf("# %d of %d checks failed\n", check_failures, check_count);
	return check_failures ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
