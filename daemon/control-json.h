/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reply building with a sticky out-of-memory flag: every json-c allocation
 * can fail, and checking each one inline would bury the control methods'
 * handlers. Each jb_* call that fails sets b->oom (and frees what it was
 * given); the caller checks once, after building the whole reply.
 */
#ifndef SCX_AI_NUMA_CONTROL_JSON_H
#define SCX_AI_NUMA_CONTROL_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>

struct jb {
	bool oom;
};

struct json_object *jb_check(struct jb *b, struct json_object *o);
struct json_object *jb_obj(struct jb *b);
struct json_object *jb_arr(struct jb *b);
/* Add @v under @key to @o; takes @v. */
void jb_set(struct jb *b, struct json_object *o, const char *key, struct json_object *v);
/* A JSON null under @key (json-c's NULL, which jb_set would take for ENOMEM). */
void jb_set_null(struct jb *b, struct json_object *o, const char *key);
/* Append @v to array @a; takes @v. */
void jb_push(struct jb *b, struct json_object *a, struct json_object *v);

/* Values; NULL when out of memory, which the jb_* call taking them notes. */
struct json_object *jstr(const char *s);
struct json_object *jint(int64_t v);
/* Clamped to INT64_MAX: no client ever sees a negative count. */
struct json_object *juint(uint64_t v);
/* A rate to the millievent; negative or not finite is 0. */
struct json_object *jrate(double r);

#endif
