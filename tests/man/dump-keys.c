// SPDX-License-Identifier: GPL-2.0
/*
 * dump-keys: print every configuration key and tunable as the code knows
 * them, for the man-page completeness test:
 *   key NAME
 *   setting NAME OPTION MIN MAX DEFAULT      (numeric settings of the daemon)
 *   tunable NAME TYPE UNIT MIN MAX DEFAULT     (UNIT "-" when there is none)
 *   tunable NAME enum - V1,V2,... - DEFAULT    (values by name)
 *   counter NAME                               (the scheduler's counters, intf.h)
 */
#include <inttypes.h>
#include <stdio.h>

#include "config.h"
#include "intf.h"
#include "settings.h"
#include "tunables.h"

int main(void)
{
	for (size_t k = 0; k < config_nr_keys(); k++)
		printf("key %s\n", config_key_name(k));
	for (size_t i = 0; i < NR_SETTINGS; i++) {
		const struct setting *s = &settings[i];

		if (s->type == SETTING_UINT)
			printf("setting %s --%s %u %u %u\n", s->key, s->opt, s->min, s->max, s->def);
	}
	for (size_t i = 0; i < nr_tunables; i++) {
		const struct tunable *t = &tunables[i];

		if (t->type == TUN_ENUM) {
			/* Values by name: MIN is the list, MAX unused, DEFAULT the default's name. */
			printf("tunable %s enum - ", t->name);
			for (uint64_t v = t->min; v <= t->max; v++)
				printf("%s%s", v > t->min ? "," : "", t->names[v]);
			printf(" - %s\n", t->names[t->def]);
			continue;
		}
		printf("tunable %s %s %s %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", t->name, tunable_type_name(t->type),
		       *t->unit ? t->unit : "-", t->min, t->max, t->def);
	}
#define COUNTER_(id, name, help)	printf("counter %s\n", name);
	AN_STATS(COUNTER_)
#undef COUNTER_
	return 0;
}
