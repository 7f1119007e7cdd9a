// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target for /proc/PID/smaps (the maps lines, each followed by its sizes). Byte 0 says how many times the rest is
 * repeated to make the file, so small inputs still cross the reader's 8 KiB
 * chunks at every offset and split lines the way a large process's maps
 * does. Every range read is a non-empty span, and no more ranges come out
 * than the file has lines.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-util.h"
#include "memory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *root = fuzz_tree_reset();
	struct mem_range *r = NULL;
	size_t times, lines = 0, len;
	uint8_t *file;
	int n;

	if (!size)
		return 0;
	times = 1 + data[0] % 64;
	len = (size - 1) * times;
	file = malloc(len + 1);
	if (!file)
		abort();
	for (size_t i = 0; i < times; i++)
		memcpy(file + i * (size - 1), data + 1, size - 1);
	for (size_t i = 0; i < len; i++)
		lines += file[i] == '\n';
	fuzz_tree_put("proc/42/smaps", file, len);
	n = mem_read_ranges(root, 42, &r);
	if (n < 0)
		fuzz_broken(data, size, "mem_read_ranges failed on a readable file: %d", n);
	if ((size_t)n > lines + 1 || n > MEM_MAX_RANGES)
		fuzz_broken(data, size, "%d ranges from %zu lines", n, lines + 1);
	for (int i = 0; i < n; i++)
		if (r[i].end <= r[i].start)
			fuzz_broken(data, size, "range %d is %#lx-%#lx", i, r[i].start, r[i].end);
	free(r);
	free(file);
	return 0;
}
