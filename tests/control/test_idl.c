// SPDX-License-Identifier: GPL-2.0
/*
 * The interface description is a promise to varlinkctl and every other
 * client: this test reads our IDL text and holds the real replies and errors
 * to it, field by field and type by type, and checks the names obey the
 * varlink grammar (an invalid interface name makes varlinkctl refuse to call).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#include "check.h"
#include "control-idl.h"
#include "control-internal.h"
#include "fixture.h"
#include "log.h"
#include "varlink.h"

#define MAX_SYMS	64

struct sym {
	char kind[16];		/* method, type, error */
	char name[64];
	char *in;		/* fields of a type or error; a method's input */
	char *out;		/* a method's output */
};

struct idl {
	char name[128];
	struct sym sym[MAX_SYMS];
	int n;
	char *text;		/* comments stripped */
};

static char *strip_comments(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;

	while (*s) {
		if (*s == '#') {
			while (*s && *s != '\n')
				s++;
			continue;
		}
		*o++ = *s++;
	}
	*o = '\0';
	return out;
}

static const char *skip_ws(const char *p)
{
	while (isspace((unsigned char)*p))
		p++;
	return p;
}

/* Copy a balanced "( ... )" at *p (without the outer parentheses). */
static char *take_parens(const char **p)
{
	const char *s = skip_ws(*p), *start;
	int depth = 0;
	char *out;

	if (*s != '(')
		return NULL;
	start = s + 1;
	for (; *s; s++) {
		depth += *s == '(';
		depth -= *s == ')';
		if (!depth)
			break;
	}
	if (!*s)
		return NULL;
	out = strndup(start, (size_t)(s - start));
	*p = s + 1;
	return out;
}

static const char *take_word(const char *p, char *buf, size_t len)
{
	size_t n = 0;

	p = skip_ws(p);
	while (*p && !isspace((unsigned char)*p) && *p != '(' && n + 1 < len)
		buf[n++] = *p++;
	buf[n] = '\0';
	return p;
}

static bool parse_idl(const char *text, struct idl *idl)
{
	const char *p;
	char word[128];

	memset(idl, 0, sizeof(*idl));
	idl->text = strip_comments(text);
	p = take_word(idl->text, word, sizeof(word));
	if (strcmp(word, "interface"))
		return false;
	p = take_word(p, idl->name, sizeof(idl->name));
	for (;;) {
		struct sym *s = &idl->sym[idl->n];

		p = take_word(p, word, sizeof(word));
		if (!*word)
			return true;
		if (idl->n == MAX_SYMS || (strcmp(word, "method") && strcmp(word, "type") && strcmp(word, "error")))
			return false;
		snprintf(s->kind, sizeof(s->kind), "%.15s", word);
		p = take_word(p, s->name, sizeof(s->name));
		s->in = take_parens(&p);
		if (!s->in)
			return false;
		if (!strcmp(word, "method")) {
			p = skip_ws(p);
			if (strncmp(p, "->", 2))
				return false;
			p += 2;
			s->out = take_parens(&p);
			if (!s->out)
				return false;
		}
		idl->n++;
	}
}

static void free_idl(struct idl *idl)
{
	for (int i = 0; i < idl->n; i++) {
		free(idl->sym[i].in);
		free(idl->sym[i].out);
	}
	free(idl->text);
}

static const struct sym *find_sym(const struct idl *idl, const char *kind, const char *name)
{
	for (int i = 0; i < idl->n; i++)
		if (!strcmp(idl->sym[i].kind, kind) && !strcmp(idl->sym[i].name, name))
			return &idl->sym[i];
	return NULL;
}

/* The varlink grammar, as systemd's sd-varlink enforces it. */
static bool iface_name_ok(const char *s)
{
	bool dot = false, dash = false, seen_dot = false;

	if (!isalpha((unsigned char)*s))
		return false;
	for (s++; *s; s++) {
		if (*s == '.') {
			if (dot || dash)
				return false;
			dot = seen_dot = true;
		} else if (*s == '-') {
			if (dot || dash)
				return false;
			dash = true;
		} else if (isalnum((unsigned char)*s)) {
			dot = dash = false;
		} else {
			return false;
		}
	}
	return !dot && !dash && seen_dot;
}

static bool symbol_name_ok(const char *s)
{
	if (!isupper((unsigned char)*s))
		return false;
	while (*++s)
		if (!isalnum((unsigned char)*s))
			return false;
	return true;
}

static bool field_name_ok(const char *s)
{
	bool under = false;

	if (!isalpha((unsigned char)*s))
		return false;
	while (*++s) {
		if (*s == '_') {
			if (under)
				return false;
			under = true;
		} else if (isalnum((unsigned char)*s)) {
			under = false;
		} else {
			return false;
		}
	}
	return !under;
}

struct field {
	char name[64];
	char type[128];
};

/* Split "a: int, b: ?[]T" at top-level commas into names and types. */
static int fields(const char *list, struct field *f, int max)
{
	int n = 0, depth = 0;
	const char *start = list;

	for (const char *p = list; ; p++) {
		if (*p == '(' || *p == '[')
			depth++;
		if (*p == ')' || *p == ']')
			depth--;
		if ((*p == ',' && !depth) || !*p) {
			char piece[256], *colon, *a, *b;

			snprintf(piece, sizeof(piece), "%.*s", (int)(p - start), start);
			a = piece;
			while (isspace((unsigned char)*a))
				a++;
			b = a + strlen(a);
			while (b > a && isspace((unsigned char)b[-1]))
				*--b = '\0';
			if (*a && n < max) {
				colon = strchr(a, ':');
				if (colon) {
					*colon = '\0';
					snprintf(f[n].type, sizeof(f[n].type), "%s", skip_ws(colon + 1));
				} else {
					f[n].type[0] = '\0';
				}
				snprintf(f[n].name, sizeof(f[n].name), "%s", a);
				for (char *e = f[n].name + strlen(f[n].name); e > f[n].name && isspace((unsigned char)e[-1]); )
					*--e = '\0';
				n++;
			}
			if (!*p)
				return n;
			start = p + 1;
		}
	}
}

static bool check_object(const struct idl *idl, struct json_object *obj, const char *list, char *why, size_t len);

/* Does @v have IDL type @type? */
static bool check_type(const struct idl *idl, struct json_object *v, const char *type, char *why, size_t len)
{
	const struct sym *s;

	if (*type == '?') {
		if (!v || json_object_is_type(v, json_type_null))
			return true;
		type++;
	}
	if (!strncmp(type, "[]", 2)) {
		if (!json_object_is_type(v, json_type_array))
			return snprintf(why, len, "not an array"), false;
		for (size_t i = 0; i < json_object_array_length(v); i++)
			if (!check_type(idl, json_object_array_get_idx(v, i), type + 2, why, len))
				return false;
		return true;
	}
	if (!strncmp(type, "[string]", 8)) {
		if (!json_object_is_type(v, json_type_object))
			return snprintf(why, len, "not a map"), false;
		json_object_object_foreach(v, k, e) {
			(void)k;
			if (!check_type(idl, e, type + 8, why, len))
				return false;
		}
		return true;
	}
	if (!strcmp(type, "int"))
		return json_object_is_type(v, json_type_int) || (snprintf(why, len, "not an int"), false);
	if (!strcmp(type, "float"))
		return json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int) ||
		       (snprintf(why, len, "not a float"), false);
	if (!strcmp(type, "string"))
		return json_object_is_type(v, json_type_string) || (snprintf(why, len, "not a string"), false);
	if (!strcmp(type, "bool"))
		return json_object_is_type(v, json_type_boolean) || (snprintf(why, len, "not a bool"), false);
	if (!strcmp(type, "object"))
		return json_object_is_type(v, json_type_object) || (snprintf(why, len, "not an object"), false);
	s = find_sym(idl, "type", type);
	if (!s)
		return snprintf(why, len, "unknown type %s", type), false;
	if (!json_object_is_type(v, json_type_object))
		return snprintf(why, len, "%s is not an object", type), false;
	return check_object(idl, v, s->in, why, len);
}

/* @obj has exactly the fields of @list, each of its declared type. */
static bool check_object(const struct idl *idl, struct json_object *obj, const char *list, char *why, size_t len)
{
	struct field f[32];
	int n = fields(list, f, 32);

	json_object_object_foreach(obj, key, val) {
		int i;

		(void)val;
		for (i = 0; i < n && strcmp(f[i].name, key); i++)
			;
		if (i == n)
			return snprintf(why, len, "field %s is not declared", key), false;
	}
	for (int i = 0; i < n; i++) {
		struct json_object *v = NULL;
		char inner[200];

		if (!json_object_object_get_ex(obj, f[i].name, &v) && f[i].type[0] != '?')
			return snprintf(why, len, "field %.63s is missing", f[i].name), false;
		if (!check_type(idl, v, f[i].type, inner, sizeof(inner)))
			return snprintf(why, len, "field %.63s: %.150s", f[i].name, inner), false;
	}
	return true;
}

static struct daemon D;

/* Call @method with @params (JSON text) and check the reply against @idl. */
static void check_reply(const struct idl *idl, const struct ctl_peer *peer, const char *method, const char *params,
			const char *want_error)
{
	char msg[1024], why[256] = "", err[256];
	const char *dot = strrchr(method, '.');
	const struct sym *s;
	struct vl_reply r;
	struct vl_out out;
	bool ok = false;

	snprintf(msg, sizeof(msg), "{\"method\":\"%s\",\"parameters\":%s}", method, params);
	vl_out_init(&out, CTL_OUT_MAX);
	control_handle(&D, peer, msg, strlen(msg), &out);
	if (vl_reply_parse(out.buf, strlen(out.buf), &r, err, sizeof(err)) < 0) {
		CHECK(0, "%s: a parsable reply (%s)", method, err);
		vl_out_free(&out);
		return;
	}
	if (want_error) {
		const char *edot = strrchr(want_error, '.');

		s = find_sym(idl, "error", edot + 1);
		if (!r.error || strcmp(r.error, want_error))
			snprintf(why, sizeof(why), "got %s", r.error ? r.error : "success");
		else if (!s)
			snprintf(why, sizeof(why), "error %s not in the IDL", want_error);
		else
			ok = check_object(idl, r.params, s->in, why, sizeof(why));
		CHECK(ok, "%s %s: error %s matches its declaration%s%s", method, params, want_error,
		      *why ? ": " : "", why);
	} else {
		s = find_sym(idl, "method", dot + 1);
		if (r.error)
			snprintf(why, sizeof(why), "got error %s", r.error);
		else if (!s)
			snprintf(why, sizeof(why), "method not in the IDL");
		else
			ok = check_object(idl, r.params, s->out, why, sizeof(why));
		CHECK(ok, "%s: the reply matches the declared output%s%s", method, *why ? ": " : "", why);
	}
	vl_reply_free(&r);
	vl_out_free(&out);
}

int main(void)
{
	static const char *const our_errors[] = {
		VL_ERR_INVALID_REQUEST, VL_ERR_INVALID_VALUE, VL_ERR_UNKNOWN_TUNABLE, VL_ERR_PERMISSION,
		VL_IFACE ".InvalidPin",
	};
	char pin_self[128];
	const struct ctl_peer root = { .uid = 0, .priv = true }, user = { .uid = 1000 };
	struct idl ours, svc;
	int nmethods = 0, idl_methods = 0;
	bool ok = true;

	log_init(LOG_CRIT);
	fixture_init(&D, 2, 3, false, true);

	CHECK(parse_idl(control_idl_iface, &ours), "our IDL has the shape interface, then methods, types, errors");
	CHECK(parse_idl(control_idl_service, &svc), "so does org.varlink.service's");
	CHECK(!strcmp(ours.name, VL_IFACE) && !strcmp(svc.name, VL_SERVICE), "each IDL names its interface");
	CHECK(iface_name_ok(VL_IFACE) && iface_name_ok(VL_SERVICE), "both interface names obey the varlink grammar");
	CHECK(!iface_name_ok("io.scx_ai_numa") && !iface_name_ok("io.-x") && !iface_name_ok("io"),
	      "the grammar check refuses underscores, leading dashes and single labels");

	for (int i = 0; i < ours.n; i++) {
		struct field f[32];
		int n = fields(ours.sym[i].in, f, 32);

		ok &= symbol_name_ok(ours.sym[i].name);
		for (int k = 0; k < n; k++)
			ok &= field_name_ok(f[k].name);
		if (ours.sym[i].out) {
			n = fields(ours.sym[i].out, f, 32);
			for (int k = 0; k < n; k++)
				ok &= field_name_ok(f[k].name);
		}
		if (!strcmp(ours.sym[i].kind, "method")) {
			bool found = false;

			idl_methods++;
			for (size_t k = 0; control_method_name(k); k++)
				found |= !strcmp(control_method_name(k), ours.sym[i].name);
			CHECK(found, "IDL method %s is in the method table", ours.sym[i].name);
		}
	}
	CHECK(ok, "every symbol and field name obeys the varlink grammar");
	while (control_method_name((size_t)nmethods))
		nmethods++;
	CHECK_INT(nmethods, idl_methods, "the method table has no method the IDL does not describe");
	for (size_t i = 0; i < sizeof(our_errors) / sizeof(our_errors[0]); i++)
		CHECK(find_sym(&ours, "error", strrchr(our_errors[i], '.') + 1), "error %s is declared", our_errors[i]);

	/* Every reply against its declaration, with and without optional parts. */
	check_reply(&svc, &user, VL_SERVICE ".GetInfo", "{}", NULL);
	check_reply(&svc, &user, VL_SERVICE ".GetInterfaceDescription", "{\"interface\":\"" VL_IFACE "\"}", NULL);
	check_reply(&ours, &user, VL_IFACE ".Status", "{}", NULL);
	D.last_exit.kind = AN_EXIT_ERROR;
	snprintf(D.last_exit.reason, sizeof(D.last_exit.reason), "runtime error");
	check_reply(&ours, &user, VL_IFACE ".Status", "{}", NULL);
	daemon_stats_tick(&D);
	daemon_stats_tick(&D);
	check_reply(&ours, &user, VL_IFACE ".Stats", "{}", NULL);
	check_reply(&ours, &user, VL_IFACE ".Topology", "{}", NULL);
	check_reply(&ours, &user, VL_IFACE ".ListTunables", "{}", NULL);
	check_reply(&ours, &user, VL_IFACE ".GetTunable", "{\"name\":\"slice_ns\"}", NULL);
	check_reply(&ours, &root, VL_IFACE ".SetTunable", "{\"name\":\"steal\",\"value\":\"off\"}", NULL);
	snprintf(pin_self, sizeof(pin_self), "{\"pid\":%d,\"node\":0}", (int)getpid());
	check_reply(&ours, &root, VL_IFACE ".Pin", pin_self, NULL);
	check_reply(&ours, &user, VL_IFACE ".ListPins", "{}", NULL);
	snprintf(pin_self, sizeof(pin_self), "{\"pid\":%d,\"cgroup\":null}", (int)getpid());
	check_reply(&ours, &root, VL_IFACE ".Unpin", pin_self, NULL);

	/* And every error we send against its declaration. */
	check_reply(&ours, &user, VL_IFACE ".GetTunable", "{\"name\":\"nope\"}", VL_ERR_UNKNOWN_TUNABLE);
	check_reply(&ours, &root, VL_IFACE ".SetTunable", "{\"name\":\"slice_ns\",\"value\":\"1\"}", VL_ERR_INVALID_VALUE);
	check_reply(&ours, &root, VL_IFACE ".SetTunable",
		    "{\"name\":\"slice_ns\",\"value\":\"1000000000000000000000000000000000000000000000000000000000000000000000000\"}",
		    VL_ERR_INVALID_VALUE);
	check_reply(&ours, &user, VL_IFACE ".SetTunable", "{\"name\":\"slice_ns\",\"value\":\"1\"}", VL_ERR_PERMISSION);
	check_reply(&ours, &user, VL_IFACE ".Pin", "{\"pid\":1,\"node\":0}", VL_ERR_PERMISSION);
	check_reply(&ours, &root, VL_IFACE ".Pin", "{\"pid\":1,\"node\":1}", VL_IFACE ".InvalidPin");
	check_reply(&ours, &root, VL_IFACE ".Pin", "{\"pid\":1,\"cgroup\":\"/x\",\"node\":0}", VL_IFACE ".InvalidPin");
	check_reply(&ours, &root, VL_IFACE ".Pin", "{\"node\":0}", VL_IFACE ".InvalidPin");
	check_reply(&ours, &root, VL_IFACE ".Unpin", "{\"cgroup\":\"/not-pinned\"}", VL_IFACE ".InvalidPin");
	check_reply(&svc, &root, VL_IFACE ".Pin", "{\"pid\":\"1\",\"node\":0}", VL_ERR_INVALID_PARAM);
	check_reply(&svc, &root, VL_IFACE ".Pin", "{\"pid\":1}", VL_ERR_INVALID_PARAM);
	check_reply(&ours, &user, VL_IFACE ".Stats", "{}, \"upgrade\": true", VL_ERR_INVALID_REQUEST);
	fake_sched_log()->fail_reads = true;
	check_reply(&ours, &user, VL_IFACE ".Stats", "{}", VL_IFACE ".Failed");
	fake_sched_log()->fail_reads = false;
	check_reply(&svc, &user, VL_IFACE ".GetTunable", "{\"name\":1}", VL_ERR_INVALID_PARAM);
	check_reply(&svc, &user, VL_IFACE ".Nope", "{}", VL_ERR_METHOD_NOT_FOUND);
	check_reply(&svc, &user, "x.y.Nope", "{}", VL_ERR_IFACE_NOT_FOUND);

	free_idl(&ours);
	free_idl(&svc);
	return check_done();
}
