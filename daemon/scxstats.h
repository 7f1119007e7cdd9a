/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The scx_stats endpoint: the protocol every sched_ext scheduler of
 * sched-ext/scx serves, so scxtop and scxstats_to_openmetrics.py see this
 * one too. One JSON object a line over a Unix socket (root only, read-only):
 *   {"req":"stats","args":{"target":"top"}}  -> {"errno":0,"args":{"resp":{...}}}
 *   {"req":"stats_meta","args":{}}           -> the structs' description
 * Anything else gets {"errno":EINVAL,...}. The transport is the control
 * socket's (conn.h): non-blocking, capped requests and output, a client
 * cap, idle and unfinished-request timeouts.
 */
#ifndef SCX_AI_NUMA_SCXSTATS_H
#define SCX_AI_NUMA_SCXSTATS_H

#include <stddef.h>
#include <stdint.h>

struct daemon;
struct vl_out;

/*
 * Listen on d->opt.stats_socket (nothing when it is off). The directory is
 * created if missing and must pass the control socket's checks. Returns 0
 * or -errno with @err set; the daemon runs on without the endpoint then.
 */
int scxstats_open(struct daemon *d, char *err, size_t errlen);
/* Close the socket and every client; unlink the socket path. */
void scxstats_close(struct daemon *d);
/* On the daemon's stats timer: close idle and stuck clients, resume a paused listener. */
void scxstats_tick(struct daemon *d);

/* Answer one request line (without its newline): the reply line, newline included, goes to @out. */
int scxstats_handle(struct daemon *d, const char *line, size_t len, struct vl_out *out);
/* Append an error reply: {"errno": @err, "args": {"resp": @msg}}. */
int scxstats_put_error(struct vl_out *out, int err, const char *msg);
/* Clients connected now. */
unsigned int scxstats_nr_clients(void);

/* Caps, exported so tests can probe their edges. */
#define SXS_MAX_CLIENTS		32
#define SXS_MAX_REQ		4096			/* a request line; real ones are under 100 bytes */
#define SXS_OUT_MAX		(256 * 1024)		/* output queued per client */
#define SXS_OUT_HIGH		(32 * 1024)		/* stop taking requests above this */
#define SXS_BATCH		16			/* requests per wakeup of one client */

/* Like the control socket's: variables so tests need not wait 30 s. */
extern uint64_t sxs_idle_timeout_ns;
extern uint64_t sxs_partial_timeout_ns;

#endif
