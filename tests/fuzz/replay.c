// SPDX-License-Identifier: GPL-2.0
/*
 * Replays a fuzz corpus through LLVMFuzzerTestOneInput as an ordinary test:
 * one TAP line per input. The target aborts on a broken invariant, which
 * fails the test with the message that broke it on stderr.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define INPUT_MAX	(1 << 20)

static int count;

static int replay(const char *path)
{
	static uint8_t buf[INPUT_MAX];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		printf("not ok %d - %s: cannot open\n", ++count, path);
		return 1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	fflush(stdout);
	LLVMFuzzerTestOneInput(buf, n);
	printf("ok %d - %s (%zu bytes)\n", ++count, strrchr(path, '/') ? strrchr(path, '/') + 1 : path, n);
	return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
	int failed = 0;

	for (int i = 1; i < argc; i++) {
		struct dirent **ents;
		struct stat st;
		int n;

		if (stat(argv[i], &st) < 0 || !S_ISDIR(st.st_mode)) {
			failed |= replay(argv[i]);
			continue;
		}
		n = scandir(argv[i], &ents, NULL, by_name);
		for (int k = 0; k < n; k++) {
			char path[4096];

			if (ents[k]->d_name[0] != '.') {
				snprintf(path, sizeof(path), "%s/%s", argv[i], ents[k]->d_name);
				failed |= replay(path);
			}
			free(ents[k]);
		}
		if (n > 0)
			free(ents);
	}
	if (!count)
		printf("not ok 1 - an empty corpus proves nothing\n");
	printf("1..%d\n", count ? count : 1);
	return failed || !count;
}
