// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target for cgroup.procs: byte 0 picks how many pids the caller has
 * room for and how often the rest is repeated (to cross the reader's 4 KiB
 * pieces); the rest, cut at FUZZ_SEP, is the cgroup.procs of a cgroup and
 * of its child and grandchild. Every pid read is positive, no more are
 * stored than there is room for, and none is made up: each is a number
 * that stands in one of the files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgprocs.h"
#include "fuzz-util.h"

#define LEVELS	3
#define ROOM	256

static const char *const files[LEVELS] = { "cg/cgroup.procs", "cg/a/cgroup.procs", "cg/a/b/cgroup.procs" };

/* Does decimal @pid stand in @p as a whole number (not part of a longer one)? */
static bool stands_in(const uint8_t *p, size_t len, pid_t pid)
{
	char want[16];
	size_t n = (size_t)snprintf(want, sizeof(want), "%d", (int)pid);

	for (size_t i = 0; i + n <= len; i++) {
		if (memcmp(p + i, want, n))
			continue;
		if (i && p[i - 1] >= '0' && p[i - 1] <= '9' && p[i - 1] != '0')
			continue;
		if (i + n < len && p[i + n] >= '0' && p[i + n] <= '9')
			continue;
		return true;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static pid_t out[ROOM];
	struct fuzz_part parts[LEVELS];
	const char *root;
	char dir[4096];
	size_t nr, room, times;
	int n;

	if (!size)
		return 0;
	room = data[0] % 64 == 63 ? ROOM : data[0] % 64;
	times = 1 + (data[0] >> 6) * 3;
	root = fuzz_tree_reset();
	nr = fuzz_split(data + 1, size - 1, parts, LEVELS);
	for (size_t i = 0; i < nr; i++) {
		size_t len = parts[i].len * times;
		uint8_t *file = malloc(len + 1);

		if (!file)
			abort();
		for (size_t k = 0; k < times; k++)
			memcpy(file + k * parts[i].len, parts[i].p, parts[i].len);
		fuzz_tree_put(files[i], file, len);
		free(file);
	}
	snprintf(dir, sizeof(dir), "%s/cg", root);
	fuzz_tree_mkdir("cg");
	n = cgprocs_list(dir, out, room);
	if (n < 0 || (size_t)n > room)
		fuzz_broken(data, size, "%d pids with room for %zu", n, room);
	for (int i = 0; i < n; i++) {
		bool found = false;

		if (out[i] <= 0)
			fuzz_broken(data, size, "pid %d read", (int)out[i]);
		for (size_t k = 0; k < nr && !found; k++)
			found = stands_in(parts[k].p, parts[k].len, out[i]);
		/* A number cut by the repetition joins its neighbour: only whole inputs are checked. */
		if (!found && times == 1 && out[i] != 2147483647)
			fuzz_broken(data, size, "pid %d is in no file", (int)out[i]);
	}
	return 0;
}
