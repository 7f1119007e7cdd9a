/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The parts of control.c below the socket, for the protocol tests and the
 * fuzzer: they drive the method table (control-methods.h) without a
 * listening socket, and probe the transport's caps.
 */
#ifndef SCX_AI_NUMA_CONTROL_INTERNAL_H
#define SCX_AI_NUMA_CONTROL_INTERNAL_H

#include "control-methods.h"

struct daemon;

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
