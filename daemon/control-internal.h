/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The parts of control.c below the socket, for the protocol tests and the
 * fuzzer: they drive the method table without a listening socket, and check
 * the interface description against what the handlers really send.
 */
#ifndef SCX_AI_NUMA_CONTROL_INTERNAL_H
#define SCX_AI_NUMA_CONTROL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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

/* The IDL texts GetInterfaceDescription returns. */
extern const char control_idl_service[];
extern const char control_idl_iface[];

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

/* Serve an already connected socket (a socketpair end in tests); takes @fd. */
int control_adopt(struct daemon *d, int fd);

/* Clients currently connected. */
unsigned int control_nr_clients(void);

/* Caps, exported so tests can probe their edges. */
#define CTL_MAX_CLIENTS		64
#define CTL_PRIV_RESERVED	8	/* of them, kept for root and the control group */
#define CTL_MAX_PER_UID		16	/* connections one unprivileged uid may hold */
#define CTL_MAX_MSG		(64 * 1024)		/* one request, its NUL not counted */
#define CTL_OUT_MAX		(1024 * 1024)		/* output queued per client */
#define CTL_OUT_HIGH		(16 * 1024)		/* stop taking requests above this */
#define CTL_SNDBUF		(8 * 1024)		/* a client socket's send buffer (the kernel doubles it) */
#define CTL_FULL_WARN_NS	(60ULL * 1000000000ULL)	/* "too many clients" at most this often */
#define CTL_IDLE_TIMEOUT_NS	(30ULL * 1000000000ULL)
#define CTL_PARTIAL_TIMEOUT_NS	(5ULL * 1000000000ULL)

/*
 * A client that neither sends nor reads for the idle timeout is closed
 * (streams excepted), and so is one whose unfinished message stays
 * unfinished for the partial timeout. Checked on the stats tick, so they
 * act with up to a tick's delay. Variables so tests need not wait 30 s.
 */
extern uint64_t ctl_idle_timeout_ns;
extern uint64_t ctl_partial_timeout_ns;

#endif
