/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The varlink wire format on json-c: one JSON object per message, each
 * terminated by a NUL byte, on a Unix stream socket. Framing (an incremental
 * reader with a size cap, a capped writer), call and reply parsing, and reply
 * building live here and nowhere else, so the control plane and the CLI could
 * move to sd-varlink without touching their methods or formatters.
 */
#ifndef SCX_AI_NUMA_VARLINK_H
#define SCX_AI_NUMA_VARLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct json_object;

/*
 * Our interface. Varlink interface names allow letters, digits, dots and
 * inner dashes but no underscore (varlinkctl refuses to call anything else),
 * hence the dashes where the project name has underscores.
 */
#define VL_IFACE		"io.scx-ai-numa"
#define VL_SERVICE		"org.varlink.service"

/* Errors of org.varlink.service (standard). */
#define VL_ERR_IFACE_NOT_FOUND	VL_SERVICE ".InterfaceNotFound"
#define VL_ERR_METHOD_NOT_FOUND	VL_SERVICE ".MethodNotFound"
#define VL_ERR_NOT_IMPLEMENTED	VL_SERVICE ".MethodNotImplemented"
#define VL_ERR_INVALID_PARAM	VL_SERVICE ".InvalidParameter"
#define VL_ERR_EXPECTED_MORE	VL_SERVICE ".ExpectedMore"
/* Errors of our interface. */
#define VL_ERR_INVALID_REQUEST	VL_IFACE ".InvalidRequest"
#define VL_ERR_INVALID_VALUE	VL_IFACE ".InvalidValue"
#define VL_ERR_UNKNOWN_TUNABLE	VL_IFACE ".UnknownTunable"
#define VL_ERR_PERMISSION	VL_IFACE ".PermissionDenied"
#define VL_ERR_INVALID_PIN	VL_IFACE ".InvalidPin"
#define VL_ERR_FAILED		VL_IFACE ".Failed"
#define VL_ERR_TOO_MANY_CLIENTS	VL_IFACE ".TooManyClients"

/* Nesting accepted in incoming JSON: our messages need 4 levels at most. */
#define VL_MAX_DEPTH		16

/* Bytes read from a stream, cut into messages at each NUL. */
struct vl_in {
	char *buf;
	size_t cap;	/* allocated */
	size_t len;	/* bytes held */
	size_t off;	/* start of the first message not handed out yet */
	size_t scan;	/* bytes after @off known to hold no NUL */
	size_t max;	/* largest message accepted, its NUL not counted */
	char delim;	/* ends a message: NUL (varlink), or '\n' for line protocols */
};

void vl_in_init(struct vl_in *in, size_t max);
/* Messages end at @delim instead of NUL (scx_stats: one JSON object a line). */
void vl_in_set_delim(struct vl_in *in, char delim);
void vl_in_free(struct vl_in *in);
/*
 * One read from @fd into free space. Returns the bytes read, 0 at end of
 * stream, -EAGAIN if nothing is there, -ENOBUFS if messages not taken with
 * vl_in_next fill the buffer, or another -errno.
 */
ssize_t vl_in_read(struct vl_in *in, int fd);
/* Append bytes as if read; same -ENOBUFS rule. For tests and fuzzing. */
int vl_in_feed(struct vl_in *in, const void *p, size_t n);
/*
 * The next complete message, NUL-terminated in place and valid until the
 * next vl_in_read/vl_in_feed. Returns 1 with *msg and *len set, 0 if no
 * message is complete yet, -EMSGSIZE once the incomplete one exceeds the cap
 * (the stream cannot be resynchronised after that).
 */
int vl_in_next(struct vl_in *in, const char **msg, size_t *len);
/* Bytes held that are not part of a message handed out. */
size_t vl_in_pending(const struct vl_in *in);

/* Serialised messages waiting for the socket, at most @max bytes. */
struct vl_out {
	char *buf;
	size_t cap, len, off, max;
};

void vl_out_init(struct vl_out *out, size_t max);
void vl_out_free(struct vl_out *out);
/* Append @obj and its NUL. -ENOBUFS if that would exceed the cap (nothing appended), -ENOMEM. */
int vl_out_put(struct vl_out *out, struct json_object *obj);
/* Append @n bytes that already hold one or more NUL-terminated messages. */
int vl_out_put_raw(struct vl_out *out, const char *p, size_t n);
/* Write what the socket takes now. Returns the bytes still pending or -errno (-EPIPE: peer gone). */
ssize_t vl_out_flush(struct vl_out *out, int fd);
size_t vl_out_pending(const struct vl_out *out);
/* Forget everything queued (the peer is gone). */
void vl_out_discard(struct vl_out *out);

/*
 * Parse one message as JSON: strict syntax, valid UTF-8, nesting at most
 * VL_MAX_DEPTH, nothing but whitespace after the value. Returns 0 or -EINVAL
 * with the reason and byte offset in @err.
 */
int vl_json_parse(const char *msg, size_t len, struct json_object **out, char *err, size_t errlen);

/* A method call as received. */
struct vl_call {
	struct json_object *root;	/* owns everything below */
	const char *method;
	struct json_object *params;	/* always an object */
	bool oneway, more, upgrade;
};

/*
 * Returns 0, or -EINVAL with a precise reason in @err (nothing to free then).
 * Calls come from untrusted clients, so on top of vl_json_parse() they must
 * pass json_strict_check(): no duplicate keys, NUL, NaN, out-of-range numbers
 * or invalid UTF-8. Replies (the CLI's side) are read as json-c reads them.
 */
int vl_call_parse(const char *msg, size_t len, struct vl_call *call, char *err, size_t errlen);
void vl_call_free(struct vl_call *call);

/* A reply as received by a client. */
struct vl_reply {
	struct json_object *root;
	const char *error;		/* NULL on success */
	struct json_object *params;	/* always an object */
	bool continues;
};

int vl_reply_parse(const char *msg, size_t len, struct vl_reply *r, char *err, size_t errlen);
void vl_reply_free(struct vl_reply *r);

/* Message builders; they take ownership of @params (NULL: empty) and return NULL on ENOMEM. */
struct json_object *vl_call_new(const char *method, struct json_object *params, bool more, bool oneway);
struct json_object *vl_reply_new(struct json_object *params, bool continues);
struct json_object *vl_error_new(const char *error, struct json_object *params);

/* Strings of a JSON object: NULL unless @key holds a string without embedded NUL. */
const char *vl_get_string(struct json_object *obj, const char *key);

#endif
