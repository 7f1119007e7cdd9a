// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target for kernel cpulists ("0-3,8,10-11"): byte 0 picks the mask
 * size, the rest is the text. A list that parses sets exactly as many
 * entries as it returns and prints back to a list that parses to the same
 * mask; one that does not leaves the mask empty.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-util.h"
#include "topology.h"

/* The canonical form of @mask, as the kernel prints it. */
static void print_list(const uint8_t *mask, int max, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; i < max; i++) {
		int j = i;

		if (!mask[i])
			continue;
		while (j + 1 < max && mask[j + 1])
			j++;
		n += (size_t)snprintf(buf + n, len - n, j > i ? "%s%d-%d" : "%s%d", n ? "," : "", i, j);
		i = j;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t mask[AN_MAX_CPUS], again[AN_MAX_CPUS];
	static char shown[8 * AN_MAX_CPUS];
	int max, ret, set = 0;
	char *text;

	if (!size)
		return 0;
	/* Small masks find the edges, full ones the real callers' case. */
	max = data[0] < 0xf0 ? data[0] % 65 : AN_MAX_CPUS;
	text = fuzz_strndup(data + 1, size - 1);
	memset(mask, 0xa5, sizeof(mask));
	ret = parse_cpulist(text, mask, max);
	for (int i = 0; i < max; i++) {
		if (mask[i] > 1)
			fuzz_broken(data, size, "entry %d left unset (%u)", i, mask[i]);
		set += mask[i];
	}
	if (ret < 0) {
		if ((ret != -EINVAL && ret != -ERANGE) || set)
			fuzz_broken(data, size, "refused with %d and %d entries set", ret, set);
	} else {
		if (ret != set)
			fuzz_broken(data, size, "returned %d, set %d", ret, set);
		print_list(mask, max, shown, sizeof(shown));
		if (parse_cpulist(shown, again, max) != ret || memcmp(mask, again, (size_t)max))
			fuzz_broken(data, size, "printed as '%s' it reads back differently", shown);
	}
	free(text);
	return 0;
}
