/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tunables table: the single source of truth for every live knob.
 * Name, type, unit, range, default, help text and where the value lives in
 * struct an_tunables (the BPF program's .data; a knob only the daemon reads,
 * like gpu_scope, lives there too, so it is set, reloaded, listed and
 * documented like every other). Validation, set/get, the
 * config file keys, `scx-ai-numactl tunables` and the man-page test all
 * read this one table.
 */
#ifndef SCX_AI_NUMA_TUNABLES_H
#define SCX_AI_NUMA_TUNABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "intf.h"

enum tun_type {
	TUN_U64,
	TUN_U32,
	TUN_BOOL,
	TUN_ENUM,	/* a u32 naming one of names[] */
};

struct tunable {
	const char *name;
	enum tun_type type;
	const char *unit;	/* "ns", "tasks", "" for booleans */
	uint64_t min, max, def;
	size_t off;		/* offsetof(struct an_tunables, field) */
	const char *help;
	const char *const *names;	/* TUN_ENUM: the name of each value min..max */
};

extern const struct tunable tunables[];
extern const size_t nr_tunables;

const struct tunable *tunable_find(const char *name);
const char *tunable_type_name(enum tun_type type);
void tunables_defaults(struct an_tunables *tun);
uint64_t tunable_get(const struct an_tunables *tun, const struct tunable *t);
/*
 * Parse @text for @t: integers (ns tunables also take ns/us/ms/s suffixes),
 * booleans as on/off/true/false/yes/no/1/0. Range-checked. Returns 0 or
 * -EINVAL/-ERANGE with a message naming the allowed values in @err.
 */
int tunable_parse(const struct tunable *t, const char *text, uint64_t *out, char *err, size_t errlen);
/* Range check only; same error contract as tunable_parse. */
int tunable_check(const struct tunable *t, uint64_t v, char *err, size_t errlen);
/* Store a value that passed tunable_check. */
void tunable_store(struct an_tunables *tun, const struct tunable *t, uint64_t v);
/* "on"/"off" for booleans, the value's name for enums, the decimal number otherwise. */
void tunable_format(const struct tunable *t, uint64_t v, char *buf, size_t len);

#endif
