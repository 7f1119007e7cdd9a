// SPDX-License-Identifier: GPL-2.0
/* Reply building for the control methods; see control-json.h. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "control-json.h"

struct json_object *jb_check(struct jb *b, struct json_object *o)
{
	if (!o)
		b->oom = true;
	return o;
}

struct json_object *jb_obj(struct jb *b)
{
	return jb_check(b, json_object_new_object());
}

struct json_object *jb_arr(struct jb *b)
{
	return jb_check(b, json_object_new_array());
}

void jb_set(struct jb *b, struct json_object *o, const char *key, struct json_object *v)
{
	if (!o || !v || json_object_object_add(o, key, v) < 0) {
		b->oom = true;
		json_object_put(v);
	}
}

/* json-c represents null as a NULL pointer, which jb_set would take for ENOMEM. */
void jb_set_null(struct jb *b, struct json_object *o, const char *key)
{
	if (!o || json_object_object_add(o, key, NULL) < 0)
		b->oom = true;
}

void jb_push(struct jb *b, struct json_object *a, struct json_object *v)
{
	if (!a || !v || json_object_array_add(a, v) < 0) {
		b->oom = true;
		json_object_put(v);
	}
}

struct json_object *jstr(const char *s)
{
	return json_object_new_string(s);
}

struct json_object *jint(int64_t v)
{
	return json_object_new_int64(v);
}

struct json_object *juint(uint64_t v)
{
	/* Every value we send fits; clamp so no client ever sees a negative int64. */
	return json_object_new_int64(v > INT64_MAX ? INT64_MAX : (int64_t)v);
}

/* Rates to the millievent: json-c's default of 17 digits is noise on a rate. */
struct json_object *jrate(double r)
{
	char buf[32];

	if (!isfinite(r) || r < 0)
		r = 0;
	snprintf(buf, sizeof(buf), "%.3f", r);
	return json_object_new_double_s(r, buf);
}
