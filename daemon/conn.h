/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The connection layer both sockets share (the varlink control socket,
 * control.c, and the scx_stats endpoint, scxstats.c): listening and
 * accepting through sockfile.c, the client list and its cap, capped
 * per-client framing buffers (varlink.h's vl_in/vl_out), reading and
 * answering in batches on the event loop (loop.c), the idle and
 * unfinished-message timeouts, and shutting a client down outside its
 * callback. A slow or hostile client costs at most its own buffers and
 * never blocks the loop.
 *
 * A transport describes itself in a struct conn_ops and keeps one struct
 * conn_server; its own client struct starts with a struct conn_client,
 * which is what the hooks get.
 */
#ifndef SCX_AI_NUMA_CONN_H
#define SCX_AI_NUMA_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sockfile.h"
#include "varlink.h"

struct loop;
struct conn_client;

/* What an error reply the layer sends itself is about; the transport words it in its protocol. */
enum conn_err {
	CONN_ERR_TOO_LONG,	/* a message over ops->max_msg: the stream cannot be resynchronised */
	CONN_ERR_FULL,		/* refused at a client cap */
};

/* "Too many clients" is logged at most this often, with the count refused meanwhile. */
#define CONN_WARN_NS	(60ULL * 1000000000ULL)

struct conn_ops {
	const char *name;	/* starts every log line: "control", "scx_stats" */
	const char *unit;	/* what a request is called in messages: "message", "request" */
	size_t size;		/* of the transport's client struct, a struct conn_client first */
	unsigned int max_clients;
	const char *full_msg;	/* told a client refused at max_clients */
	unsigned int batch;	/* requests handled per wakeup, so one client cannot starve the rest */
	size_t max_msg;		/* one request, its delimiter not counted */
	char delim;		/* ends a request: NUL (varlink) or '\n' */
	size_t out_max;		/* output queued per client; beyond it the client is dropped */
	size_t out_high;	/* stop taking requests above this much queued output */
	int sndbuf;		/* a client socket's send buffer; 0: the kernel's default */
	const uint64_t *idle_ns;	/* no byte either way for this long: closed (streams exempt) */
	const uint64_t *partial_ns;	/* an unfinished request older than this: closed */

	/*
	 * A new client, before it is served: fill the transport's part of it.
	 * 0 admits it; -EBUSY with *why set refuses it with that reason;
	 * another -errno drops it silently (the hook logged why). Optional.
	 */
	int (*admit)(struct conn_client *c, const char **why);
	/* One complete request: 0, 1 when it opened a stream (later requests wait), -errno to drop the client. */
	int (*handle)(struct conn_client *c, const char *msg, size_t len);
	/* Append the error reply @kind, saying @msg, to @out. 0 or -errno. */
	int (*put_error)(struct vl_out *out, enum conn_err kind, const char *msg);
	/*
	 * The peer hung up: one wakeup's share of what it sent before that.
	 * True once it is dealt with (the client is freed then); false to be
	 * called again on the next wakeup. Optional: without it a client that
	 * hung up is freed at once, its requests unanswered.
	 */
	bool (*drain)(struct conn_client *c);
	/* The client is about to be freed, @why (NULL: at shutdown). Optional. */
	void (*release)(struct conn_client *c, const char *why);
	/* On every conn_server_tick, for each live client. Optional. */
	void (*tick)(struct conn_client *c, uint64_t now);
};

struct conn_client {
	struct conn_client *prev, *next;
	struct conn_server *srv;
	int fd;
	struct vl_in in;
	struct vl_out out;
	uint32_t events;	/* as registered with the loop */
	bool streaming;		/* a stream is open: it is pushed to, and later requests wait */
	bool more_work;		/* complete requests left over from the last batch */
	bool eof;		/* the peer shut down its sending side */
	bool closing;		/* send what is queued, then hang up */
	bool hungup;		/* the peer is gone: only ops->drain still looks at what it sent */
	const char *doomed;	/* shut down outside its callback, freed in it: why */
	uint64_t last_io_ns;	/* last byte read from or written to it */
	uint64_t partial_ns;	/* an incomplete request is buffered since; 0: none */
};

/* One a socket; zero it but for fd = -1 (CONN_SERVER_INIT). */
struct conn_server {
	const struct conn_ops *ops;
	struct loop *loop;
	int fd;			/* the listener; -1: none */
	char path[SOCKFILE_PATH_SIZE];
	struct conn_client *clients;
	unsigned int nr_clients;
	bool accept_paused;	/* out of fds: listener off until a client leaves */
	uint64_t warned_ns;	/* last "too many clients" warning */
	unsigned long refused;	/* connections refused since then */
};

#define CONN_SERVER_INIT(o)	{ .ops = (o), .fd = -1 }

/*
 * Listen on @path (sockfile_listen(): mode 0666 & ~@umask_bits, group @gid
 * unless (gid_t)-1) and serve it on @loop. 0 or -errno with @err set.
 */
int conn_server_listen(struct conn_server *s, struct loop *loop, const char *path, mode_t umask_bits, gid_t gid,
		       char *err, size_t errlen);
/* Serve an already connected non-blocking socket (accepted, or a socketpair end in tests); takes @fd. */
int conn_server_add(struct conn_server *s, struct loop *loop, int fd);
/* Free every client, close the listener and unlink its path. The server can listen again after. */
void conn_server_close(struct conn_server *s);
/*
 * On the daemon's stats timer: resume a paused listener, take back slots
 * held without progress (idle, or an unfinished request past its time).
 * Acts with up to a tick's delay.
 */
void conn_server_tick(struct conn_server *s, uint64_t now);

/* Re-register @c's events after its output or state changed outside its callback. */
void conn_client_set_events(struct conn_client *c);
/*
 * Shut @c down outside its callback: closing the fd here could let an
 * accept later in this epoll round reuse its number while a stale event
 * for it is still queued; the shutdown wakes its own callback, which frees it.
 */
void conn_client_doom(struct conn_client *c, const char *why);

#endif
