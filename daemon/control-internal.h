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
#define CTL_MAX_MSG		(64 * 1024)		/* one request, its NUL not counted */
#define CTL_OUT_MAX		(1024 * 1024)		/* output queued per client */
#define CTL_OUT_HIGH		(256 * 1024)		/* stop taking requests above this */
#define CTL_FULL_WARN_NS	(60ULL * 1000000000ULL)	/* "too many clients" at most this often */

#endif
