// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target for the CLI's side of the wire: what a daemon (or anything
 * listening on the socket) sends back. Byte 0 picks the command the reply
 * answers and the output mode; the rest is the byte stream, framed as the
 * CLI frames it. Each message goes the way scx-ai-numactl takes it: parsed,
 * an error explained, a success checked for its fields and then printed.
 * A reply the check accepts must print without reading anything it did not
 * check; a refused one comes with a reason.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ctl.h"
#include "fuzz-util.h"
#include "varlink.h"

#define ACTIONS	(ACT_PINS - ACT_STATUS + 1)

static FILE *sink(void)
{
	static FILE *f;

	if (!f)
		f = fopen("/dev/null", "w");
	if (!f)
		abort();
	return f;
}

static void take(enum action action, enum out_mode mode, const char *msg, size_t len)
{
	struct vl_reply reply;
	char err[512];

	err[0] = '\0';
	if (vl_reply_parse(msg, len, &reply, err, sizeof(err)) < 0) {
		if (!err[0])
			fuzz_broken(msg, len, "a reply refused without a reason");
		return;
	}
	if (reply.error)
		output_error(sink(), sink(), mode, reply.error, reply.params);
	else if (output_check_reply(action, reply.params, err, sizeof(err)) < 0) {
		if (!err[0])
			fuzz_broken(msg, len, "a reply's fields refused without a reason");
	} else
		output_reply(sink(), mode, action, reply.params);
	vl_reply_free(&reply);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum action action;
	enum out_mode mode;
	struct vl_in in;
	const char *msg;
	size_t len;

	if (!size)
		return 0;
	action = (enum action)(ACT_STATUS + data[0] % ACTIONS);
	mode = (enum out_mode)(data[0] / ACTIONS % 3);
	vl_in_init(&in, 4 * 1024 * 1024);
	if (vl_in_feed(&in, data + 1, size - 1) == 0)
		while (vl_in_next(&in, &msg, &len) == 1)
			take(action, mode, msg, len);
	vl_in_free(&in);
	return 0;
}
