// SPDX-License-Identifier: GPL-2.0
/*
 * The scratch tree lives under $TMPDIR (run.sh gives each run its own) and
 * is removed when the process exits normally; libFuzzer leaves by _exit on
 * a crash, and then run.sh's TMPDIR goes with the run.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz-util.h"

static char root[PATH_MAX];

size_t fuzz_split(const uint8_t *data, size_t size, struct fuzz_part *parts, size_t max)
{
	size_t n = 0, start = 0;

	if (!max)
		return 0;
	for (size_t i = 0; i < size && n + 1 < max; i++) {
		if (data[i] != FUZZ_SEP)
			continue;
		parts[n].p = data + start;
		parts[n++].len = i - start;
		start = i + 1;
	}
	parts[n].p = data + start;
	parts[n++].len = size - start;
	return n;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	if (ftw->level == 0)
		return 0;
	if (remove(path) < 0 && errno != ENOENT) {
		fprintf(stderr, "fuzz: remove %s: %s\n", path, strerror(errno));
		abort();
	}
	return 0;
}

static void remove_root(void)
{
	if (root[0]) {
		nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		rmdir(root);
	}
}

const char *fuzz_tree_reset(void)
{
	if (!root[0]) {
		const char *tmp = getenv("TMPDIR");

		snprintf(root, sizeof(root), "%s/scx-fuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(root)) {
			fprintf(stderr, "fuzz: mkdtemp %s: %s\n", root, strerror(errno));
			abort();
		}
		atexit(remove_root);
		return root;
	}
	nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return root;
}

/* ROOT/@rel@suffix into @path; a fake tree never needs a longer path. */
static void tree_path(char *path, size_t len, const char *rel, const char *suffix)
{
	int n = snprintf(path, len, "%s/%s%s", root, rel, suffix);

	if (n < 0 || (size_t)n >= len) {
		fprintf(stderr, "fuzz: path too long: %s\n", rel);
		abort();
	}
}

static void mkdirs(char *path)
{
	for (char *s = path + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			fprintf(stderr, "fuzz: mkdir %s: %s\n", path, strerror(errno));
			abort();
		}
		*s = '/';
	}
}

void fuzz_tree_put(const char *rel, const void *p, size_t len)
{
	char path[PATH_MAX];
	int fd;

	tree_path(path, sizeof(path), rel, "");
	mkdirs(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || (len && write(fd, p, len) != (ssize_t)len)) {
		fprintf(stderr, "fuzz: write %s: %s\n", path, strerror(errno));
		abort();
	}
	close(fd);
}

void fuzz_tree_mkdir(const char *rel)
{
	char path[PATH_MAX];

	tree_path(path, sizeof(path), rel, "/");
	mkdirs(path);
}

void fuzz_tree_symlink(const char *rel, const char *target)
{
	char path[PATH_MAX];

	tree_path(path, sizeof(path), rel, "");
	mkdirs(path);
	if (symlink(target, path) < 0 && errno != EEXIST) {
		fprintf(stderr, "fuzz: symlink %s: %s\n", path, strerror(errno));
		abort();
	}
}

char *fuzz_strndup(const void *p, size_t len)
{
	char *s = malloc(len + 1);

	if (!s)
		abort();
	memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

char *fuzz_names(const struct fuzz_part *part, char **names, int max, int *nr)
{
	char *buf = fuzz_strndup(part->p, part->len), *save = NULL;

	*nr = 0;
	for (char *s = strtok_r(buf, " \t\n", &save); s && *nr < max; s = strtok_r(NULL, " \t\n", &save))
		if (!strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..") && strlen(s) <= 64)
			names[(*nr)++] = s;
	return buf;
}

void fuzz_tree_entries(const char *dir, const struct fuzz_part *part, int max)
{
	char *names[64], *buf, rel[PATH_MAX];
	int n;

	buf = fuzz_names(part, names, max < 64 ? max : 64, &n);
	for (int i = 0; i < n; i++) {
		snprintf(rel, sizeof(rel), "%s/%s", dir, names[i]);
		fuzz_tree_mkdir(rel);
	}
	free(buf);
}

bool fuzz_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

void fuzz_broken(const void *input, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "fuzz: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n  input (%zu bytes): %.*s\n", len, (int)(len > 512 ? 512 : len), (const char *)input);
	abort();
}
