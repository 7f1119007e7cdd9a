/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the fuzz targets share: cutting one input into the several files a
 * reader expects, writing them as a fake sysfs or /proc tree in a private
 * scratch directory, and failing loudly when an invariant breaks.
 *
 * Files are written rather than the parsers refactored to take buffers, so
 * each target runs the daemon's own reading code (bounded reads, chunking,
 * NUL bytes, missing files) exactly as the daemon does.
 */
#ifndef SCX_AI_NUMA_FUZZ_UTIL_H
#define SCX_AI_NUMA_FUZZ_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Separates the files of one input (ASCII record separator: rare in text). */
#define FUZZ_SEP	0x1e

struct fuzz_part {
	const uint8_t *p;
	size_t len;
};

/*
 * Cut @data at FUZZ_SEP into at most @max parts. Returns how many parts the
 * input has (parts beyond it stand for files that do not exist); the last
 * part takes the rest, separators included.
 */
size_t fuzz_split(const uint8_t *data, size_t size, struct fuzz_part *parts, size_t max);

/* The scratch directory, emptied: a fresh tree for each input. Never fails (aborts instead). */
const char *fuzz_tree_reset(void);
/* Write @len bytes to ROOT/@rel, creating its directories. */
void fuzz_tree_put(const char *rel, const void *p, size_t len);
void fuzz_tree_mkdir(const char *rel);
/* @rel as a symbolic link to @target. */
void fuzz_tree_symlink(const char *rel, const char *target);

/*
 * The blank-separated names in @part that are plain file names (no '/', not
 * "." or "..", at most 64 bytes), at most @max into @names. They point into
 * the returned buffer: free() it. *@nr is how many.
 */
char *fuzz_names(const struct fuzz_part *part, char **names, int max, int *nr);
/* A directory ROOT/@dir/NAME for each of fuzz_names(@part), at most @max. */
void fuzz_tree_entries(const char *dir, const struct fuzz_part *part, int max);

/* A copy of @len bytes as a C string (cut at the first NUL); free() it. */
char *fuzz_strndup(const void *p, size_t len);

/* Is @s printable ASCII only: what a log line or an error message may carry? */
bool fuzz_printable(const char *s);

/* Report a broken invariant with the input's text and abort. */
__attribute__((noreturn, format(printf, 3, 4)))
void fuzz_broken(const void *input, size_t len, const char *fmt, ...);

#endif
