/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The method table (control-methods.c): what control.c hands each complete
 * message to, and what the tests drive without a socket.
 */
#ifndef SCX_AI_NUMA_CONTROL_METHODS_H
#define SCX_AI_NUMA_CONTROL_METHODS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct daemon;
struct vl_out;

/* Who is calling, from SO_PEERCRED at accept time. */
struct ctl_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	bool priv;	/* may change tunables: root or the control group */
	/*
	 * Calls refused for want of privilege on this connection; only the
	 * first is logged, the transport sums up the rest. NULL: log each.
	 */
	unsigned long *refused;
};

/* Unqualified names of our interface's methods, in table order; NULL past the end. */
const char *control_method_name(size_t i);

/*
 * Handle one message from @peer; replies are appended to @out. Returns 1 if
 * the call opened a stream (Stats with "more"), 0 otherwise, or -errno when
 * the client must be dropped (-ENOBUFS: output cap, -ENOMEM).
 */
int control_handle(struct daemon *d, const struct ctl_peer *peer, const char *msg, size_t len,
		   struct vl_out *out);

/* Append an error reply carrying {"message": @msg}. */
int control_put_error(struct vl_out *out, const char *error, const char *msg);

/* Append one streamed Stats reply ("continues": true) to @out. */
int control_stream_sample(struct daemon *d, struct vl_out *out);

#endif
