// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target for tunable values as the configuration file and SetTunable
 * give them: byte 0 picks the tunable, the rest is the text. An accepted
 * value is inside the table's range and reads back the same from its own
 * printed form; a refused one is -EINVAL or -ERANGE with a message.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-util.h"
#include "tunables.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct tunable *t;
	char err[256], shown[64], *text;
	uint64_t v = 0, again = 0;
	int ret;

	if (!size)
		return 0;
	t = &tunables[data[0] % nr_tunables];
	text = fuzz_strndup(data + 1, size - 1);
	err[0] = '\0';
	ret = tunable_parse(t, text, &v, err, sizeof(err));
	if (ret == 0) {
		if (v < t->min || v > t->max)
			fuzz_broken(data, size, "%s: accepted %llu out of range", t->name, (unsigned long long)v);
		tunable_format(t, v, shown, sizeof(shown));
		if (tunable_parse(t, shown, &again, err, sizeof(err)) || again != v)
			fuzz_broken(data, size, "%s: %llu printed as '%s' does not read back", t->name,
				    (unsigned long long)v, shown);
	} else if ((ret != -EINVAL && ret != -ERANGE) || !err[0]) {
		fuzz_broken(data, size, "%s: returned %d with message '%s'", t->name, ret, err);
	}
	free(text);
	return 0;
}
