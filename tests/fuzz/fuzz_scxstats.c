// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target for the scx_stats endpoint's requests and replies
 * (daemon/scxstats-proto.c scxstats_handle), straight at the parser: the
 * request target reaches the control socket only, never this protocol.
 *
 * Byte 0 picks the daemon: bit 0 a fake scheduler attached (else no
 * counters to read), bit 1 its counter reads failing, bit 2 a memory-only
 * node, bits 3-4 the room for output a client has (the daemon's
 * SXS_OUT_MAX, or little enough for a reply not to fit). The rest is cut at
 * newlines into request lines, as the transport hands them over (at most
 * SXS_MAX_REQ bytes each).
 *
 * Promises for every line: the reply is exactly one line, newline
 * terminated, of strict JSON (json-strict.c: valid UTF-8 too), an object
 * {"errno": N >= 0, "args": {"resp": ...}} and nothing else; no reply at
 * all only when it would not fit (-ENOBUFS), never half a one; the output
 * never passes its cap; a request that is not strict JSON, not an object,
 * or without a string "req" gets EINVAL; errno 0 only for "stats_meta" or
 * "stats" with target "top" (or none); and no request, answered or
 * refused, changes the tunables or anything the scheduler was given.
 *
 * Built as a plain function it replays the checked-in corpus (replay.c);
 * tests/fuzz/run.sh builds and runs it as a libFuzzer binary (README.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "fixture.h"
#include "fuzz-util.h"
#include "json-strict.h"
#include "log.h"
#include "scxstats.h"
#include "varlink.h"

static const uint8_t *input;
static size_t input_len;

__attribute__((noreturn))
static void broken(const char *what, const char *line, size_t len)
{
	fuzz_broken(input, input_len, "%s; request (%zu bytes): %.*s", what, len, (int)(len > 256 ? 256 : len), line);
}

/* What an independent parser (json-c alone) makes of the request: its "req", or NULL. */
static char *req_name(const char *line, size_t len, char *target, size_t tlen)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o, *v, *args;
	char *name = NULL;

	snprintf(target, tlen, "top");
	if (!tok)
		abort();
	o = json_tokener_parse_ex(tok, line, (int)len);
	if (o && json_tokener_get_parse_end(tok) == len && json_object_is_type(o, json_type_object) &&
	    json_object_object_get_ex(o, "req", &v) && json_object_is_type(v, json_type_string)) {
		name = strdup(json_object_get_string(v));
		if (json_object_object_get_ex(o, "args", &args) && json_object_is_type(args, json_type_object) &&
		    json_object_object_get_ex(args, "target", &v) && json_object_is_type(v, json_type_string))
			snprintf(target, tlen, "%s", json_object_get_string(v));
	}
	json_object_put(o);
	json_tokener_free(tok);
	return name;
}

static void check_reply(const char *line, size_t len, const char *r, size_t n)
{
	struct json_object *o = NULL, *e, *args, *resp;
	char err[256], target[128], *name;
	bool strict;
	int code;

	if (!n || r[n - 1] != '\n' || memchr(r, '\n', n - 1))
		broken("a reply that is not one newline-terminated line", line, len);
	if (json_strict_check(r, n - 1, VL_MAX_DEPTH, err, sizeof(err)) < 0 ||
	    vl_json_parse(r, n - 1, &o, err, sizeof(err)) < 0)
		broken("a reply that is not strict JSON", line, len);
	if (!json_object_is_type(o, json_type_object) || json_object_object_length(o) != 2 ||
	    !json_object_object_get_ex(o, "errno", &e) || !json_object_is_type(e, json_type_int) ||
	    !json_object_object_get_ex(o, "args", &args) || !json_object_is_type(args, json_type_object) ||
	    json_object_object_length(args) != 1 || !json_object_object_get_ex(args, "resp", &resp))
		broken("a reply not shaped {\"errno\": N, \"args\": {\"resp\": ...}}", line, len);
	code = json_object_get_int(e);
	if (code < 0)
		broken("a negative errno in a reply", line, len);
	strict = json_strict_check(line, len && line[len - 1] == '\r' ? len - 1 : len, VL_MAX_DEPTH, err,
				   sizeof(err)) == 0;
	name = req_name(line, len && line[len - 1] == '\r' ? len - 1 : len, target, sizeof(target));
	if ((!strict || !name) && code != EINVAL)
		broken("a malformed request not refused with EINVAL", line, len);
	if (!code && (!name || !(!strcmp(name, "stats_meta") || (!strcmp(name, "stats") && !strcmp(target, "top")))))
		broken("errno 0 for something other than stats_meta or stats of the top target", line, len);
	if (code && json_object_is_type(resp, json_type_object))
		broken("an error with a stats payload", line, len);
	free(name);
	json_object_put(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t room[] = { SXS_OUT_MAX, 64, 512, 4096 };
	static struct daemon d;
	static bool quiet;
	struct an_tunables tun;
	struct fake_sched_log before;
	struct vl_out out;

	if (!quiet) {
		log_init(LOG_EMERG);
		quiet = true;
	}
	if (!size)
		return 0;
	input = data;
	input_len = size;
	fixture_init(&d, 3, 2, data[0] & 4, data[0] & 1);
	fake_sched_log()->fail_reads = data[0] & 2;
	vl_out_init(&out, room[(data[0] >> 3) & 3]);
	tun = d.tun;
	before = *fake_sched_log();
	for (size_t off = 1; off < size; ) {
		const char *line = (const char *)data + off;
		const char *nl = memchr(line, '\n', size - off);
		size_t len = nl ? (size_t)(nl - line) : size - off, had = out.len;
		int ret;

		off += len + 1;
		if (len > SXS_MAX_REQ)
			continue;
		ret = scxstats_handle(&d, line, len, &out);
		if (out.len > out.max)
			broken("output past its cap", line, len);
		if (ret < 0) {
			if (ret != -ENOBUFS && ret != -ENOMEM)
				broken("an error other than no room or no memory", line, len);
			if (out.len != had)
				broken("half a reply queued", line, len);
			/* The client's output drained, as the transport's would be. */
			out.len = out.off = 0;
			continue;
		}
		check_reply(line, len, out.buf + had, out.len - had);
		if (memcmp(&tun, &d.tun, sizeof(tun)))
			broken("a request changed a tunable", line, len);
		if (fake_sched_log()->applied != before.applied || fake_sched_log()->homes_set != before.homes_set ||
		    fake_sched_log()->homes_cleared != before.homes_cleared)
			broken("a request changed what the scheduler was given", line, len);
		out.len = out.off = 0;
	}
	vl_out_free(&out);
	return 0;
}
