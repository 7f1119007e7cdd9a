// SPDX-License-Identifier: GPL-2.0
/*
 * dump-keys: print every configuration key and tunable as the code knows
 * them, for the man-page completeness test:
 *   key NAME
 *   tunable NAME TYPE UNIT MIN MAX DEFAULT     (UNIT "-" when there is none)
 */
#include <inttypes.h>
#include <stdio.h>

#include "config.h"
#include "daemon.h"
#include "tunables.h"

/* config.c's reload path calls this; dump-keys never reloads. */
int daemon_set_tunable(struct daemon *d, const struct tunable *t, uint64_t v, char *err, size_t errlen)
{
	(void)d;
	(void)t;
	(void)v;
	snprintf(err, errlen, "dump-keys: not a daemon");
	return -1;
}

int main(void)
{
	for (size_t k = 0; k < config_nr_keys(); k++)
		printf("key %s\n", config_key_name(k));
	for (size_t i = 0; i < nr_tunables; i++) {
		const struct tunable *t = &tunables[i];

		printf("tunable %s %s %s %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", t->name, tunable_type_name(t->type),
		       *t->unit ? t->unit : "-", t->min, t->max, t->def);
	}
	return 0;
}
