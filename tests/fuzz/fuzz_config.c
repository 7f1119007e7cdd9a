// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target for the configuration file: the input is the file's text.
 * config_parse() either accepts it whole, with every value inside its
 * table's range, or refuses it with a message that names the file and
 * line and carries nothing a terminal would act on (the message is logged).
 */
#include <errno.h>
#include <string.h>

#include "config.h"
#include "fuzz-util.h"
#include "tunables.h"

static void check_accepted(const struct config *c, const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < nr_tunables; i++) {
		uint64_t v = tunable_get(&c->tun, &tunables[i]);

		if (v < tunables[i].min || v > tunables[i].max)
			fuzz_broken(data, size, "tunable %s accepted out of range: %llu", tunables[i].name,
				    (unsigned long long)v);
	}
	for (size_t i = 0; i < NR_SETTINGS; i++) {
		const struct setting *s = &settings[i];

		if (s->type == SETTING_UINT && (c->num[i] < s->min || c->num[i] > s->max))
			fuzz_broken(data, size, "setting %s accepted out of range: %u", s->key, c->num[i]);
		if (s->type == SETTING_PATH && (c->str[i][0] != '/' || strlen(c->str[i]) > s->max))
			fuzz_broken(data, size, "setting %s accepted '%s'", s->key, c->str[i]);
		if (s->type == SETTING_GROUP_NAME && !fuzz_printable(c->str[i]))
			fuzz_broken(data, size, "group name accepted with unprintable bytes");
	}
	if (c->nr_pins > CONFIG_MAX_PINS)
		fuzz_broken(data, size, "%u pins", c->nr_pins);
	for (unsigned int i = 0; i < c->nr_pins; i++) {
		const struct cfg_pin *p = &c->pins[i];

		if (p->node < 0 || p->node >= AN_MAX_NODE_ID || !p->line)
			fuzz_broken(data, size, "pin %u: node %d line %u", i, p->node, p->line);
		if (p->cgroup ? p->path[0] != '/' : (p->pid < 1 || p->pid > CONFIG_PID_MAX))
			fuzz_broken(data, size, "pin %u: target accepted out of range", i);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c, before;
	char err[1024];
	int ret;

	config_init(&c, "fuzz.conf");
	before = c;
	err[0] = '\0';
	ret = config_parse(&c, "fuzz.conf", (const char *)data, size, err, sizeof(err));
	if (!ret) {
		check_accepted(&c, data, size);
		return 0;
	}
	if (ret != -EINVAL && ret != -ERANGE && ret != -EFBIG)
		fuzz_broken(data, size, "config_parse returned %d", ret);
	if (memcmp(&c, &before, sizeof(c)))
		fuzz_broken(data, size, "a refused file changed the config");
	if (strncmp(err, "fuzz.conf", 9))
		fuzz_broken(data, size, "the message does not name the file: %s", err);
	if (!fuzz_printable(err))
		fuzz_broken(data, size, "the message carries unprintable bytes: %s", err);
	return 0;
}
