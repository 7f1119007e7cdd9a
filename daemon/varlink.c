// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <json-c/json.h>

#include "json-strict.h"
#include "varlink.h"

/* First allocation of either buffer: a typical request or reply fits. */
#define VL_BUF_MIN	4096

/*
 * Grow @*buf to hold @need bytes. Doubling keeps appends amortised O(1);
 * the callers' caps bound the result.
 */
static int buf_reserve(char **buf, size_t *cap, size_t need, size_t limit)
{
	size_t ncap = *cap ? *cap : VL_BUF_MIN;
	char *nbuf;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	if (ncap > limit)
		ncap = limit;
	if (ncap < need)
		return -ENOBUFS;
	nbuf = realloc(*buf, ncap);
	if (!nbuf)
		return -ENOMEM;
	*buf = nbuf;
	*cap = ncap;
	return 0;
}

void vl_in_init(struct vl_in *in, size_t max)
{
	memset(in, 0, sizeof(*in));
	in->max = max;
}

void vl_in_set_delim(struct vl_in *in, char delim)
{
	in->delim = delim;
}

void vl_in_free(struct vl_in *in)
{
	char delim = in->delim;

	free(in->buf);
	vl_in_init(in, in->max);
	in->delim = delim;
}

/* Drop handed-out messages so free space is contiguous at the end. */
static void vl_in_compact(struct vl_in *in)
{
	if (!in->off)
		return;
	memmove(in->buf, in->buf + in->off, in->len - in->off);
	in->len -= in->off;
	in->off = 0;
}

/*
 * Make room for at least one more byte. The buffer never exceeds one full
 * message plus its NUL: more than that without a NUL is an oversized message,
 * which vl_in_next reports, and complete messages are the caller's to take.
 */
static int vl_in_room(struct vl_in *in)
{
	size_t limit = in->max + 1;

	vl_in_compact(in);
	if (in->len < in->cap)
		return 0;
	if (in->len >= limit)
		return -ENOBUFS;
	return buf_reserve(&in->buf, &in->cap, in->len + 1, limit);
}

ssize_t vl_in_read(struct vl_in *in, int fd)
{
	ssize_t n;
	int err = vl_in_room(in);

	if (err < 0)
		return err;
	do
		n = recv(fd, in->buf + in->len, in->cap - in->len, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	in->len += (size_t)n;
	return n;
}

int vl_in_feed(struct vl_in *in, const void *p, size_t n)
{
	while (n) {
		size_t chunk;
		int err = vl_in_room(in);

		if (err < 0)
			return err;
		chunk = in->cap - in->len;
		if (chunk > n)
			chunk = n;
		memcpy(in->buf + in->len, p, chunk);
		in->len += chunk;
		p = (const char *)p + chunk;
		n -= chunk;
	}
	return 0;
}

int vl_in_next(struct vl_in *in, const char **msg, size_t *len)
{
	char *start, *nul = NULL;
	size_t avail;

	/* Nothing read yet (the CLI asks before its first read): no buffer, and NULL + 0 is undefined. */
	if (!in->buf)
		return 0;
	start = in->buf + in->off;
	avail = in->len - in->off;
	if (avail > in->scan)
		nul = memchr(start + in->scan, in->delim, avail - in->scan);
	if (!nul) {
		in->scan = avail;
		return avail > in->max ? -EMSGSIZE : 0;
	}
	*nul = '\0';
	*msg = start;
	*len = (size_t)(nul - start);
	in->off += *len + 1;
	in->scan = 0;
	if (*len > in->max)
		return -EMSGSIZE;
	return 1;
}

size_t vl_in_pending(const struct vl_in *in)
{
	return in->len - in->off;
}

void vl_out_init(struct vl_out *out, size_t max)
{
	memset(out, 0, sizeof(*out));
	out->max = max;
}

void vl_out_free(struct vl_out *out)
{
	free(out->buf);
	vl_out_init(out, out->max);
}

int vl_out_put_raw(struct vl_out *out, const char *p, size_t n)
{
	int err;

	if (vl_out_pending(out) + n > out->max)
		return -ENOBUFS;
	if (out->off) {
		memmove(out->buf, out->buf + out->off, out->len - out->off);
		out->len -= out->off;
		out->off = 0;
	}
	err = buf_reserve(&out->buf, &out->cap, out->len + n, out->max);
	if (err < 0)
		return err;
	memcpy(out->buf + out->len, p, n);
	out->len += n;
	return 0;
}

int vl_out_put(struct vl_out *out, struct json_object *obj)
{
	const int flags = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;
	size_t n;
	const char *s;

	if (!obj)
		return -ENOMEM;
	s = json_object_to_json_string_length(obj, flags, &n);
	if (!s)
		return -ENOMEM;
	/* The terminating NUL of the C string is the message delimiter. */
	return vl_out_put_raw(out, s, n + 1);
}

ssize_t vl_out_flush(struct vl_out *out, int fd)
{
	while (out->off < out->len) {
		ssize_t n = send(fd, out->buf + out->off, out->len - out->off, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -errno;
		}
		out->off += (size_t)n;
	}
	if (out->off == out->len)
		out->off = out->len = 0;
	return (ssize_t)vl_out_pending(out);
}

size_t vl_out_pending(const struct vl_out *out)
{
	return out->len - out->off;
}

void vl_out_discard(struct vl_out *out)
{
	out->len = out->off = 0;
}

int vl_json_parse(const char *msg, size_t len, struct json_object **out, char *err, size_t errlen)
{
	struct json_tokener *tok;
	enum json_tokener_error jerr;
	struct json_object *obj;
	size_t end;

	*out = NULL;
	/* json-c takes an int length; our caps are far below, but do not trust callers. */
	if (len > (size_t)(1 << 30)) {
		snprintf(err, errlen, "message too long (%zu bytes)", len);
		return -EINVAL;
	}
	tok = json_tokener_new_ex(VL_MAX_DEPTH);
	if (!tok) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, msg, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);

	if (jerr == json_tokener_continue || (!obj && jerr == json_tokener_success)) {
		/* The NUL ended the message in the middle of a value (or before any). */
		snprintf(err, errlen, "malformed JSON: message ends at byte %zu inside a value", len);
		return -EINVAL;
	}
	if (jerr != json_tokener_success) {
		snprintf(err, errlen, "malformed JSON at byte %zu: %s", end, json_tokener_error_desc(jerr));
		json_object_put(obj);
		return -EINVAL;
	}
	/* json-c stops after the value; only whitespace may follow it. */
	for (size_t i = end; i < len; i++) {
		if (!strchr(" \t\r\n", msg[i])) {
			snprintf(err, errlen, "malformed JSON at byte %zu: data after the value", i);
			json_object_put(obj);
			return -EINVAL;
		}
	}
	*out = obj;
	return 0;
}

const char *vl_get_string(struct json_object *obj, const char *key)
{
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	/* "\u0000" is valid JSON but would silently truncate every C string use. */
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return NULL;
	return s;
}

/* Optional boolean member: absent or null is false. */
static int get_flag(struct json_object *root, const char *key, bool *out, char *err, size_t errlen)
{
	struct json_object *v;

	*out = false;
	if (!json_object_object_get_ex(root, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_boolean)) {
		snprintf(err, errlen, "\"%s\" must be a boolean, got %s", key,
			 json_type_to_name(json_object_get_type(v)));
		return -EINVAL;
	}
	*out = json_object_get_boolean(v);
	return 0;
}

/*
 * "parameters" absent or null means no parameters; an empty object stands in
 * so that handlers never see NULL.
 */
static int get_params(struct json_object *root, struct json_object **out, char *err, size_t errlen)
{
	struct json_object *v;

	if (!json_object_object_get_ex(root, "parameters", &v) || !v) {
		v = json_object_new_object();
		if (!v || json_object_object_add(root, "parameters", v) < 0) {
			json_object_put(v);
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
	} else if (!json_object_is_type(v, json_type_object)) {
		snprintf(err, errlen, "\"parameters\" must be an object, got %s",
			 json_type_to_name(json_object_get_type(v)));
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int vl_call_parse(const char *msg, size_t len, struct vl_call *call, char *err, size_t errlen)
{
	struct json_object *root, *m;
	int ret;

	memset(call, 0, sizeof(*call));
	/* json-c alone would take NaN, bad UTF-8 or a repeated key (keeping the last). */
	ret = json_strict_check(msg, len, VL_MAX_DEPTH, err, errlen);
	if (ret < 0)
		return ret;
	ret = vl_json_parse(msg, len, &root, err, errlen);
	if (ret < 0)
		return ret;
	ret = -EINVAL;
	if (!json_object_is_type(root, json_type_object)) {
		snprintf(err, errlen, "a call must be a JSON object, got %s",
			 json_type_to_name(json_object_get_type(root)));
		goto fail;
	}
	if (!json_object_object_get_ex(root, "method", &m)) {
		snprintf(err, errlen, "missing \"method\"");
		goto fail;
	}
	call->method = vl_get_string(root, "method");
	if (!call->method || !*call->method) {
		snprintf(err, errlen, "\"method\" must be a non-empty string without NUL");
		goto fail;
	}
	ret = get_params(root, &call->params, err, errlen);
	if (ret < 0)
		goto fail;
	if ((ret = get_flag(root, "oneway", &call->oneway, err, errlen)) < 0 ||
	    (ret = get_flag(root, "more", &call->more, err, errlen)) < 0 ||
	    (ret = get_flag(root, "upgrade", &call->upgrade, err, errlen)) < 0)
		goto fail;
	/* Unknown members are ignored: the protocol may grow keys we do not use. */
	call->root = root;
	return 0;
fail:
	json_object_put(root);
	memset(call, 0, sizeof(*call));
	return ret;
}

void vl_call_free(struct vl_call *call)
{
	json_object_put(call->root);
	memset(call, 0, sizeof(*call));
}

int vl_reply_parse(const char *msg, size_t len, struct vl_reply *r, char *err, size_t errlen)
{
	struct json_object *root, *v;
	int ret;

	memset(r, 0, sizeof(*r));
	ret = vl_json_parse(msg, len, &root, err, errlen);
	if (ret < 0)
		return ret;
	ret = -EINVAL;
	if (!json_object_is_type(root, json_type_object)) {
		snprintf(err, errlen, "a reply must be a JSON object, got %s",
			 json_type_to_name(json_object_get_type(root)));
		goto fail;
	}
	if (json_object_object_get_ex(root, "error", &v)) {
		r->error = vl_get_string(root, "error");
		if (!r->error || !*r->error) {
			snprintf(err, errlen, "\"error\" must be a non-empty string");
			goto fail;
		}
	}
	ret = get_params(root, &r->params, err, errlen);
	if (ret < 0)
		goto fail;
	ret = get_flag(root, "continues", &r->continues, err, errlen);
	if (ret < 0)
		goto fail;
	r->root = root;
	return 0;
fail:
	json_object_put(root);
	memset(r, 0, sizeof(*r));
	return ret;
}

void vl_reply_free(struct vl_reply *r)
{
	json_object_put(r->root);
	memset(r, 0, sizeof(*r));
}

/* Add @val under @key, consuming it; false (and @val freed) on ENOMEM. */
static bool add(struct json_object *obj, const char *key, struct json_object *val)
{
	if (!val || json_object_object_add(obj, key, val) < 0) {
		json_object_put(val);
		return false;
	}
	return true;
}

/* An envelope holding @params (consumed), or a fresh empty object. */
static struct json_object *envelope(struct json_object *params)
{
	struct json_object *m = json_object_new_object();

	if (!params)
		params = json_object_new_object();
	if (!m || !add(m, "parameters", params)) {
		json_object_put(m);
		if (!m)
			json_object_put(params);
		return NULL;
	}
	return m;
}

struct json_object *vl_call_new(const char *method, struct json_object *params, bool more, bool oneway)
{
	struct json_object *m = envelope(params);

	if (!m)
		return NULL;
	if (!add(m, "method", json_object_new_string(method)) ||
	    (more && !add(m, "more", json_object_new_boolean(1))) ||
	    (oneway && !add(m, "oneway", json_object_new_boolean(1)))) {
		json_object_put(m);
		return NULL;
	}
	return m;
}

struct json_object *vl_reply_new(struct json_object *params, bool continues)
{
	struct json_object *m = envelope(params);

	if (m && continues && !add(m, "continues", json_object_new_boolean(1))) {
		json_object_put(m);
		return NULL;
	}
	return m;
}

struct json_object *vl_error_new(const char *error, struct json_object *params)
{
	struct json_object *m = envelope(params);

	if (m && !add(m, "error", json_object_new_string(error))) {
		json_object_put(m);
		return NULL;
	}
	return m;
}
