// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target for the control request path: bytes -> framing -> call
 * parsing -> method table -> handlers, on a daemon without a kernel.
 *
 * Byte 0 picks the caller's privilege, the fixture, and how the rest is cut
 * into reads. For every message the protocol's promises are checked: one
 * well-formed reply (none for oneway), errors only from our two interfaces,
 * unparsable input answered with InvalidRequest, replies strict JSON (no
 * client bytes echoed that the strict checker refuses), tunables always in range,
 * and changed only by a privileged, successful SetTunable.
 *
 * Built as a plain function it replays the checked-in corpus (replay.c);
 * tests/fuzz/run.sh builds and runs it as a libFuzzer binary (README.md).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control-internal.h"
#include "fixture.h"
#include "json-strict.h"
#include "log.h"
#include "varlink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

__attribute__((noreturn))
static void broken(const char *what, const char *msg, size_t len)
{
	fprintf(stderr, "fuzz_request: %s\n  message (%zu bytes): %.*s\n", what, len, (int)(len > 512 ? 512 : len),
		msg);
	abort();
}

static bool own_error(const char *e)
{
	return !strncmp(e, VL_IFACE ".", strlen(VL_IFACE) + 1) || !strncmp(e, VL_SERVICE ".", strlen(VL_SERVICE) + 1);
}

static void check_message(struct daemon *d, const struct ctl_peer *peer, const char *msg, size_t len)
{
	struct an_tunables before = d->tun;
	struct vl_call call;
	struct vl_out out;
	char err[256];
	bool parsed, refused = false;
	int want, got = 0, ret;

	parsed = vl_call_parse(msg, len, &call, err, sizeof(err)) == 0;
	want = parsed && call.oneway && !call.more ? 0 : 1;
	vl_out_init(&out, CTL_OUT_MAX);
	ret = control_handle(d, peer, msg, len, &out);
	if (ret < 0)
		broken("control_handle failed on a single message", msg, len);
	if (ret == 1 && !(parsed && call.more))
		broken("a stream opened without \"more\"", msg, len);

	for (size_t off = 0; off < out.len; ) {
		const char *m = out.buf + off;
		size_t mlen = strnlen(m, out.len - off);
		struct vl_reply r;

		if (off + mlen == out.len)
			broken("a reply without its NUL", msg, len);
		if (vl_reply_parse(m, mlen, &r, err, sizeof(err)) < 0)
			broken("a reply our own parser refuses", msg, len);
		if (json_strict_check(m, mlen, VL_MAX_DEPTH, err, sizeof(err)) < 0)
			broken("a reply that is not strict JSON", msg, len);
		if (r.error && !own_error(r.error))
			broken("an error outside our interfaces", msg, len);
		if (!parsed && (!r.error || strcmp(r.error, VL_ERR_INVALID_REQUEST)))
			broken("unparsable input not answered with InvalidRequest", msg, len);
		if (r.continues != (ret == 1))
			broken("continues set without a stream, or missing on one", msg, len);
		refused |= r.error != NULL;
		vl_reply_free(&r);
		got++;
		off += mlen + 1;
	}
	if (got != want)
		broken(want ? "a call without its reply" : "a oneway call answered", msg, len);

	for (size_t i = 0; i < nr_tunables; i++) {
		uint64_t v = tunable_get(&d->tun, &tunables[i]);

		if (v < tunables[i].min || v > tunables[i].max)
			broken("a tunable left its range", msg, len);
	}
	if (memcmp(&before, &d->tun, sizeof(before))) {
		if (!peer->priv)
			broken("an unprivileged caller changed a tunable", msg, len);
		if (refused)
			broken("a refused call changed a tunable", msg, len);
		if (!parsed || strcmp(call.method, VL_IFACE ".SetTunable"))
			broken("something other than SetTunable changed a tunable", msg, len);
	}
	if (parsed)
		vl_call_free(&call);
	vl_out_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct daemon d;
	static bool quiet;
	struct ctl_peer peer = { .pid = 1, .uid = 1000, .gid = 1000 };
	const char *msg;
	struct vl_in in;
	size_t len, chunk;

	if (!quiet) {
		log_init(LOG_EMERG);
		quiet = true;
	}
	if (!size)
		return 0;
	peer.priv = data[0] & 1;
	fixture_init(&d, 3, 2, data[0] & 2, data[0] & 4);
	chunk = 1 + (size_t)(data[0] >> 3) * 13;
	vl_in_init(&in, CTL_MAX_MSG);
	for (size_t off = 1; off < size; ) {
		size_t n = size - off < chunk ? size - off : chunk;
		int ret;

		if (vl_in_feed(&in, data + off, n) < 0)
			break;
		off += n;
		while ((ret = vl_in_next(&in, &msg, &len)) == 1)
			check_message(&d, &peer, msg, len);
		if (ret < 0)	/* oversized: the daemon hangs up here */
			break;
	}
	vl_in_free(&in);
	return 0;
}
