// SPDX-License-Identifier: GPL-2.0
/*
 * The wire format on its own: framing at NUL bytes across arbitrary read
 * boundaries, the caps, partial writes, and the checks on calls and replies.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <json-c/json.h>

#include "check.h"
#include "varlink.h"

static void test_framing(void)
{
	static const char stream[] = "{\"a\":1}\0{}\0{\"method\":\"x\"}\0{\"tail";
	const size_t n = sizeof(stream) - 1;
	const char *want[] = { "{\"a\":1}", "{}", "{\"method\":\"x\"}" };

	/* Every chunk size, down to byte by byte, yields the same messages. */
	for (size_t chunk = 1; chunk <= n; chunk++) {
		struct vl_in in;
		const char *msg;
		size_t len, got = 0;
		bool same = true;

		vl_in_init(&in, 64);
		for (size_t off = 0; off < n; off += chunk) {
			if (vl_in_feed(&in, stream + off, off + chunk > n ? n - off : chunk) < 0)
				same = false;
			while (vl_in_next(&in, &msg, &len) == 1) {
				if (got >= 3 || len != strlen(want[got]) || strcmp(msg, want[got]))
					same = false;
				got++;
			}
		}
		if (!CHECK(same && got == 3 && vl_in_pending(&in) == strlen("{\"tail"),
			   "chunks of %zu bytes: 3 messages in order, the unterminated tail kept", chunk))
			printf("#   got %zu messages, pending %zu\n", got, vl_in_pending(&in));
		vl_in_free(&in);
	}
}

static void test_in_caps(void)
{
	struct vl_in in;
	char big[130];
	const char *msg;
	size_t len;
	int ret;

	/* A message of exactly the cap is fine. */
	vl_in_init(&in, 128);
	memset(big, 'x', 128);
	big[128] = '\0';
	CHECK_INT(vl_in_feed(&in, big, 129), 0, "a 128-byte message fits a 128-byte cap");
	ret = vl_in_next(&in, &msg, &len);
	CHECK(ret == 1 && len == 128, "and comes out whole");
	vl_in_free(&in);

	/* One more byte without a NUL can never become a valid message. */
	vl_in_init(&in, 128);
	memset(big, 'x', sizeof(big));
	ret = vl_in_feed(&in, big, 129);
	if (ret == 0)
		ret = vl_in_next(&in, &msg, &len);
	CHECK_INT(ret, -EMSGSIZE, "129 bytes without a NUL under a 128-byte cap: -EMSGSIZE");
	vl_in_free(&in);

	/* Messages nobody takes fill the buffer instead of growing it without bound. */
	vl_in_init(&in, 16);
	ret = 0;
	for (int i = 0; i < 100 && ret == 0; i++)
		ret = vl_in_feed(&in, "{}", 3);
	CHECK_INT(ret, -ENOBUFS, "untaken messages stop at the cap with -ENOBUFS");
	CHECK(in.cap <= 17, "the buffer never exceeded one message and its NUL (%zu bytes)", in.cap);
	vl_in_free(&in);
}

static void test_out_caps(void)
{
	struct vl_out out;
	char chunk[100];
	int ret = 0, puts = 0;

	memset(chunk, 'y', sizeof(chunk));
	vl_out_init(&out, 1000);
	while ((ret = vl_out_put_raw(&out, chunk, sizeof(chunk))) == 0)
		puts++;
	CHECK(ret == -ENOBUFS && puts == 10, "a 1000-byte cap takes ten 100-byte messages, then -ENOBUFS");
	CHECK_INT(vl_out_pending(&out), 1000, "a refused message leaves nothing half-appended");
	vl_out_free(&out);
}

static void test_partial_writes(void)
{
	struct vl_out out;
	struct vl_in in;
	size_t size = 1 << 20, got = 0;
	char *blob = malloc(size + 1);
	int sv[2], sndbuf = 4096;
	const char *msg;
	size_t len;
	ssize_t left;
	bool intact = false;

	if (!blob || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		check_bail("socketpair: %s", strerror(errno));
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	for (size_t i = 0; i < size; i++)
		blob[i] = (char)('a' + i % 26);
	blob[size] = '\0';
	vl_out_init(&out, 2 * size);
	vl_in_init(&in, 2 * size);
	vl_out_put_raw(&out, blob, size + 1);
	left = vl_out_flush(&out, sv[0]);
	CHECK(left > 0, "a 1 MiB message does not fit a small socket buffer at once (%zd left)", left);
	/* Alternate reading and flushing, as the event loop would. */
	for (int rounds = 0; rounds < 100000 && !intact; rounds++) {
		if (vl_out_pending(&out))
			left = vl_out_flush(&out, sv[0]);
		if (left < 0)
			break;
		vl_in_read(&in, sv[1]);
		if (vl_in_next(&in, &msg, &len) == 1) {
			got = len;
			intact = len == size && !memcmp(msg, blob, size);
		}
	}
	CHECK(intact, "after partial writes the reader gets the message byte for byte (%zu bytes)", got);
	close(sv[1]);
	left = vl_out_put_raw(&out, "{}", 3) == 0 ? vl_out_flush(&out, sv[0]) : 0;
	CHECK_INT(left, -EPIPE, "flushing to a closed peer is -EPIPE, not SIGPIPE");
	close(sv[0]);
	vl_out_free(&out);
	vl_in_free(&in);
	free(blob);
}

static void test_json(void)
{
	struct json_object *o;
	char err[256], deep[64];
	int ret;

	ret = vl_json_parse("{\"a\": [1, 2]} \n", 15, &o, err, sizeof(err));
	CHECK(ret == 0 && json_object_is_type(o, json_type_object), "an object with trailing whitespace parses");
	json_object_put(o);

	ret = vl_json_parse("{} x", 4, &o, err, sizeof(err));
	CHECK(ret == -EINVAL && strstr(err, "byte 3"), "data after the value is refused at its offset (%s)", err);
	ret = vl_json_parse("{\"a\":", 5, &o, err, sizeof(err));
	CHECK(ret == -EINVAL && strstr(err, "malformed JSON"), "a value cut by the NUL is malformed JSON (%s)", err);
	ret = vl_json_parse("{\"a\":1,}", 8, &o, err, sizeof(err));
	CHECK(ret == -EINVAL && strstr(err, "byte 7"), "a trailing comma is refused at its offset (%s)", err);
	ret = vl_json_parse("{\"a\":\"\xff\"}", 9, &o, err, sizeof(err));
	CHECK_INT(ret, -EINVAL, "invalid UTF-8 is refused");

	memset(deep, '[', VL_MAX_DEPTH + 1);
	memset(deep + VL_MAX_DEPTH + 1, ']', VL_MAX_DEPTH + 1);
	ret = vl_json_parse(deep, 2 * (VL_MAX_DEPTH + 1), &o, err, sizeof(err));
	CHECK(ret == -EINVAL && strstr(err, "too deep"), "nesting beyond %d levels is refused (%s)", VL_MAX_DEPTH, err);
	ret = vl_json_parse(deep + 1, 2 * VL_MAX_DEPTH, &o, err, sizeof(err));
	CHECK_INT(ret, 0, "nesting of exactly %d levels is accepted", VL_MAX_DEPTH);
	json_object_put(o);
}

/* A call whose parameters are @params; the strict checker's verdict on it. */
static int strict_call(const char *params, char *err, size_t errlen)
{
	struct vl_call call;
	char msg[512];
	int n = snprintf(msg, sizeof(msg), "{\"method\":\"a.B\",\"parameters\":%s}", params);
	int ret;

	err[0] = '\0';
	ret = vl_call_parse(msg, (size_t)n, &call, err, errlen);
	if (!ret)
		vl_call_free(&call);
	return ret;
}

/*
 * What json-c alone accepts but the interface promises to refuse: each must
 * be InvalidRequest material (-EINVAL) with a reason saying what is wrong.
 */
static void test_strict(void)
{
	static const struct { const char *params, *why, *what; } bad[] = {
		{ "{\"name\":\"slice_ns\",\"value\":\"5ms\",\"value\":\"1s\"}", "duplicate key \"value\"",
		  "a duplicate key (json-c keeps the last)" },
		{ "{\"value\":1,\"val\\u0075e\":2}", "duplicate key \"value\"", "a duplicate key spelt with an escape" },
		{ "{\"name\":\"slice_ns\",\"value\":\"5ms\",\"value\\u0000x\":\"1s\"}", "without NUL",
		  "a key with an embedded NUL (json-c cuts it)" },
		{ "{\"v\":\"a\\u0000\"}", "without NUL", "a string value with an embedded NUL" },
		{ "{\"v\":NaN}", "unexpected 'N'", "NaN" },
		{ "{\"v\":Infinity}", "unexpected 'I'", "Infinity" },
		{ "{\"v\":-Infinity}", "invalid number", "-Infinity" },
		{ "{\"v\":1e309}", "1e309 out of range", "a double that overflows (1e309)" },
		{ "{\"v\":-1e309}", "out of range", "a negative double that overflows" },
		{ "{\"v\":18446744073709551616}", "18446744073709551616 out of range", "an integer above uint64" },
		{ "{\"v\":-9223372036854775809}", "out of range", "an integer below int64" },
		{ "{\"v\":0100}", "leading zero", "a number with a leading zero" },
		{ "{'v':1}", "key in double quotes", "a single-quoted key" },
		{ "{\"v\":'x'}", "unexpected '\''", "a single-quoted string" },
		{ "{\"v\":\"a\x01z\"}", "control byte 0x01", "a raw control byte in a string" },
		{ "{\"v\":\"a\nz\"}", "control byte 0x0a", "a raw newline in a string" },
		{ "{\"v\":\"\xc0\xaf\"}", "invalid UTF-8", "an overlong 2-byte form" },
		{ "{\"v\":\"\xe0\x80\xaf\"}", "invalid UTF-8", "an overlong 3-byte form" },
		{ "{\"v\":\"\xed\xa0\x80\"}", "invalid UTF-8", "a UTF-16 surrogate encoded in UTF-8" },
		{ "{\"v\":\"\xf4\x90\x80\x80\"}", "invalid UTF-8", "a code point above U+10FFFF" },
		{ "{\"v\":\"\xf5\x80\x80\x80\"}", "invalid UTF-8", "a lead byte beyond U+10FFFF" },
		{ "{\"v\":\"\xe2\x82\"}", "invalid UTF-8", "a sequence cut short" },
		{ "{\"v\":\"\x80\"}", "invalid UTF-8", "a stray continuation byte" },
		{ "{\"v\":\"\\ud800\"}", "without its low half", "a lone high surrogate escape (json-c makes U+FFFD)" },
		{ "{\"v\":\"\\ud800\\u0041\"}", "without its low half", "a high surrogate escape before a non-surrogate" },
		{ "{\"v\":\"\\udc00\"}", "lone low surrogate", "a lone low surrogate escape" },
		{ "{\"v\":\"\\x41\"}", "invalid escape", "an unknown escape" },
		{ "{\"v\":[1,]}", "expected", "a trailing comma in an array" },
	};
	static const struct { const char *params, *what; } good[] = {
		{ "{\"v\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"}",
		  "valid 2-, 3- and 4-byte UTF-8 up to U+10FFFF" },
		{ "{\"v\":\"\\u00e9\\ud83d\\ude00\\n\\t\\\"\\\\\\/\\b\\f\\r\"}", "every escape, a surrogate pair included" },
		{ "{\"v\":[0,-0,1.5e10,-2.5E-3,18446744073709551615,-9223372036854775808,1e-400]}",
		  "numbers at the edges of int64 and uint64, exponents, underflow" },
		{ "{\"a\":{\"a\":1},\"b\":{\"a\":[{\"a\":2}]},\"ab\":true,\"\":null}",
		  "one key in different objects, keys that share a prefix, the empty key" },
		{ " { \"v\" : [ ] , \"w\" : { } } ", "whitespace everywhere it may be" },
	};
	struct vl_call call;
	const char *m;
	char err[256];
	int ret;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ret = strict_call(bad[i].params, err, sizeof(err));
		if (!CHECK(ret == -EINVAL && strstr(err, bad[i].why), "refused: %s (%s)", bad[i].what, err))
			printf("#   ret %d, want the reason '%s'\n", ret, bad[i].why);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ret = strict_call(good[i].params, err, sizeof(err));
		CHECK(ret == 0, "accepted: %s %s", good[i].what, err);
	}

	m = "{\"method\":\"a.B\",\"method\":\"c.D\"}";
	ret = vl_call_parse(m, strlen(m), &call, err, sizeof(err));
	CHECK(ret == -EINVAL && strstr(err, "byte 16"), "a repeated \"method\" is refused at the second one (%s)", err);
	if (!ret)
		vl_call_free(&call);

	m = "{\"method\":\"a.B\",\"parameters\":{\"v\":\"\\ud83d\\ude00\"}}";
	ret = vl_call_parse(m, strlen(m), &call, err, sizeof(err));
	CHECK(ret == 0 && !strcmp(vl_get_string(call.params, "v"), "\xf0\x9f\x98\x80"),
	      "a surrogate pair escape reads as its code point in UTF-8");
	if (!ret)
		vl_call_free(&call);
}

struct call_case {
	const char *msg;
	int ret;
	const char *err;	/* substring of the reason */
};

static void test_calls(void)
{
	static const struct call_case cases[] = {
		{ "[]", -EINVAL, "must be a JSON object" },
		{ "{}", -EINVAL, "missing \"method\"" },
		{ "{\"method\": 5}", -EINVAL, "non-empty string" },
		{ "{\"method\": \"\"}", -EINVAL, "non-empty string" },
		{ "{\"method\": \"a.B\\u0000C\"}", -EINVAL, "without NUL" },
		{ "{\"method\": \"a.B\", \"parameters\": []}", -EINVAL, "\"parameters\" must be an object, got array" },
		{ "{\"method\": \"a.B\", \"oneway\": 1}", -EINVAL, "\"oneway\" must be a boolean, got int" },
		{ "{\"method\": \"a.B\", \"more\": \"yes\"}", -EINVAL, "\"more\" must be a boolean" },
		{ "{\"method\": \"a.B\", \"parameters\": null, \"more\": null}", 0, NULL },
		{ "{\"method\": \"a.B\", \"unknown\": {\"x\": 1}}", 0, NULL },
	};
	struct vl_call call;
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct call_case *c = &cases[i];
		int ret;

		err[0] = '\0';
		ret = vl_call_parse(c->msg, strlen(c->msg), &call, err, sizeof(err));
		if (!CHECK(ret == c->ret && (!c->err || strstr(err, c->err)),
			   "call %s: %s", c->msg, c->err ? c->err : "accepted"))
			printf("#   ret %d, reason '%s'\n", ret, err);
		if (ret == 0) {
			CHECK(call.params && json_object_is_type(call.params, json_type_object) &&
			      !call.oneway && !call.more,
			      "absent or null parameters and flags read as {} and false");
			vl_call_free(&call);
		}
	}
	{
		const char *m = "{\"method\":\"io.x.Y\",\"parameters\":{\"k\":1},"
				"\"oneway\":true,\"more\":false,\"upgrade\":true}";

		vl_call_parse(m, strlen(m), &call, err, sizeof(err));
	}
	CHECK(call.method && !strcmp(call.method, "io.x.Y") && call.oneway && !call.more && call.upgrade &&
	      json_object_object_length(call.params) == 1, "method, parameters and the three flags are read");
	vl_call_free(&call);
}

/* Serialise with the builders and read back with the reply parser. */
static void test_builders(void)
{
	struct json_object *p = json_object_new_object(), *m;
	struct vl_out out;
	struct vl_reply r;
	char err[256];
	int ret;

	json_object_object_add(p, "x", json_object_new_int(7));
	vl_out_init(&out, 4096);
	m = vl_reply_new(p, true);
	vl_out_put(&out, m);
	json_object_put(m);
	ret = vl_reply_parse(out.buf, vl_out_pending(&out) - 1, &r, err, sizeof(err));
	CHECK(ret == 0 && !r.error && r.continues &&
	      json_object_get_int(json_object_object_get(r.params, "x")) == 7,
	      "a streamed reply carries its parameters and continues=true");
	CHECK_INT(json_object_object_length(r.root), 2, "and nothing but \"parameters\" and \"continues\"");
	vl_reply_free(&r);
	vl_out_free(&out);

	/* vl_out_put does not consume; the builders do. */
	m = vl_error_new("io.x.Bad", NULL);
	vl_out_init(&out, 4096);
	vl_out_put(&out, m);
	json_object_put(m);
	ret = vl_reply_parse(out.buf, vl_out_pending(&out) - 1, &r, err, sizeof(err));
	CHECK(ret == 0 && r.error && !strcmp(r.error, "io.x.Bad") && !r.continues &&
	      json_object_object_length(r.params) == 0, "an error reply names the error, with {} parameters");
	vl_reply_free(&r);
	vl_out_free(&out);

	ret = vl_reply_parse("{\"error\": 3}", 12, &r, err, sizeof(err));
	CHECK_INT(ret, -EINVAL, "a reply whose error is not a string is refused");
	ret = vl_reply_parse("{\"continues\": \"x\"}", 18, &r, err, sizeof(err));
	CHECK_INT(ret, -EINVAL, "a reply whose continues is not a boolean is refused");
}

int main(void)
{
	test_framing();
	test_in_caps();
	test_out_caps();
	test_partial_writes();
	test_json();
	test_calls();
	test_strict();
	test_builders();
	return check_done();
}
