// SPDX-License-Identifier: GPL-2.0
/*
 * The connection layer of both sockets (conn.h). Every socket is
 * non-blocking and every buffer capped: a client that does not read stops
 * being read above ops->out_high and is dropped at ops->out_max; one that
 * neither sends nor reads, or trickles an unfinished request, loses its
 * slot on the tick; beyond ops->max_clients newcomers are told so and hung
 * up on; and what a client that hung up still had queued is dropped.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "clock.h"
#include "conn.h"
#include "log.h"
#include "loop.h"

static void accept_resume(struct conn_server *s)
{
	if (s->accept_paused && s->fd >= 0 && loop_mod(s->loop, s->fd, EPOLLIN) == 0)
		s->accept_paused = false;
}

static void conn_client_free(struct conn_client *c, const char *why)
{
	struct conn_server *s = c->srv;

	if (s->ops->release)
		s->ops->release(c, why);
	else if (why)
		log_debug("%s: closing client fd %d: %s", s->ops->name, c->fd, why);
	loop_del(s->loop, c->fd);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	vl_in_free(&c->in);
	vl_out_free(&c->out);
	free(c);
	s->nr_clients--;
	accept_resume(s);
}

void conn_client_set_events(struct conn_client *c)
{
	uint32_t want = 0;
	size_t pending = vl_out_pending(&c->out);

	/*
	 * A streaming client keeps reading enabled even above the high mark:
	 * its input only tells us it hung up or misbehaves, and its output is
	 * bounded by the hard cap instead.
	 */
	if (c->hungup)
		want |= EPOLLIN;	/* what it sent before hanging up, one batch per wakeup */
	else if (!c->eof && !c->closing && (c->streaming || pending < c->srv->ops->out_high))
		want |= EPOLLIN;
	/* Writable is also how a client with leftover requests gets its next turn. */
	if (pending || c->more_work)
		want |= EPOLLOUT;
	if (want != c->events && loop_mod(c->srv->loop, c->fd, want) == 0)
		c->events = want;
}

/*
 * Handle complete requests in order. Stops when a stream opened (further
 * requests wait for it to end, which keeps replies in call order), above the
 * output high mark, or after a batch. Returns 1 if requests may be left, 0
 * if none are, -errno if the client has to go.
 */
static int conn_client_process(struct conn_client *c)
{
	const struct conn_ops *ops = c->srv->ops;

	for (unsigned int i = 0; i < ops->batch; i++) {
		const char *msg;
		size_t len;
		char err[128];
		int ret;

		if (c->streaming || c->closing)
			return 0;
		if (vl_out_pending(&c->out) >= ops->out_high)
			return 1;
		ret = vl_in_next(&c->in, &msg, &len);
		if (ret == 0)
			return 0;
		if (ret < 0) {
			/* No delimiter within the cap: the stream cannot be resynchronised. */
			snprintf(err, sizeof(err), "%s longer than %zu bytes", ops->unit, ops->max_msg);
			c->closing = true;
			return ops->put_error(&c->out, CONN_ERR_TOO_LONG, err);
		}
		ret = ops->handle(c, msg, len);
		if (ret < 0)
			return ret;
		if (ret == 1)
			c->streaming = true;
	}
	return 1;
}

static void conn_client_hangup(struct conn_client *c)
{
	c->hungup = true;
	if (!c->srv->ops->drain || c->srv->ops->drain(c)) {
		conn_client_free(c, "hung up");
		return;
	}
	conn_client_set_events(c);
}

static void on_client(void *arg, uint32_t events)
{
	struct conn_client *c = arg;
	size_t queued;
	ssize_t n;
	int ret;

	if (c->doomed) {
		conn_client_free(c, c->doomed);
		return;
	}
	if (c->hungup || (events & (EPOLLHUP | EPOLLERR))) {
		conn_client_hangup(c);
		return;
	}
	if ((events & EPOLLIN) && !c->eof && !c->closing) {
		n = vl_in_read(&c->in, c->fd);
		if (n > 0) {
			c->last_io_ns = mono_ns();
		} else if (n == 0) {
			c->eof = true;
		} else if (n == -ENOBUFS && c->streaming) {
			conn_client_free(c, "sent more than a request's worth while streaming");
			return;
		} else if (n != -EAGAIN && n != -ENOBUFS) {
			conn_client_free(c, strerror((int)-n));
			return;
		}
	}
	ret = conn_client_process(c);
	if (ret < 0) {
		conn_client_free(c, ret == -ENOBUFS ? "output cap reached" : strerror(-ret));
		return;
	}
	c->more_work = ret == 1;
	/* An unfinished request's clock starts with its first byte, however slowly the rest trickles in. */
	if (c->more_work || c->streaming || !vl_in_pending(&c->in))
		c->partial_ns = 0;
	else if (!c->partial_ns)
		c->partial_ns = mono_ns();
	queued = vl_out_pending(&c->out);
	n = vl_out_flush(&c->out, c->fd);
	if (n < 0) {
		/* Gone before we noticed the hangup: what it sent may still count. */
		conn_client_hangup(c);
		return;
	}
	if ((size_t)n < queued)
		c->last_io_ns = mono_ns();
	if (!n) {
		if (c->closing) {
			conn_client_free(c, "protocol error");
			return;
		}
		/* Half-closed and nothing left to answer: an unfinished request is dropped. */
		if (c->eof && !c->streaming && !c->more_work) {
			conn_client_free(c, "done");
			return;
		}
	}
	conn_client_set_events(c);
}

/*
 * Say why before hanging up, so the client can tell a full daemon from a
 * broken one. One non-blocking send to a fresh socket: it fits, or the
 * client learns nothing, which costs us nothing either.
 */
static void conn_server_refuse(struct conn_server *s, int fd, const char *why)
{
	struct vl_out out;
	uint64_t now = mono_ns();

	vl_out_init(&out, s->ops->out_max);
	if (s->ops->put_error(&out, CONN_ERR_FULL, why) == 0)
		vl_out_flush(&out, fd);
	vl_out_free(&out);
	close(fd);
	/* A storm at the cap must not flood the journal. */
	s->refused++;
	if (!s->warned_ns || now - s->warned_ns >= CONN_WARN_NS) {
		log_warn("%s: %u clients connected; refusing more: %s (%lu refused since the last warning)",
			 s->ops->name, s->nr_clients, why, s->refused);
		s->warned_ns = now;
		s->refused = 0;
	}
}

int conn_server_add(struct conn_server *s, struct loop *loop, int fd)
{
	const struct conn_ops *ops = s->ops;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	const char *why = ops->full_msg;
	struct conn_client *c;
	int ret;

	s->loop = loop;
	if (s->nr_clients >= ops->max_clients) {
		conn_server_refuse(s, fd, why);
		return -EBUSY;
	}
	c = calloc(1, ops->size);
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->srv = s;
	c->fd = fd;
	ret = ops->admit ? ops->admit(c, &why) : 0;
	if (ret < 0) {
		free(c);
		if (ret == -EBUSY)
			conn_server_refuse(s, fd, why);
		else
			close(fd);
		return ret;
	}
	/*
	 * Replies a client does not read are computed up to what the socket
	 * and our queue hold: keep that small where the transport asks, so
	 * pipelining and never reading buys a client little of our time.
	 * Best effort.
	 */
	if (ops->sndbuf)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &ops->sndbuf, sizeof(ops->sndbuf));
	c->last_io_ns = mono_ns();
	vl_in_init(&c->in, ops->max_msg);
	vl_in_set_delim(&c->in, ops->delim);
	vl_out_init(&c->out, ops->out_max);
	c->events = EPOLLIN;
	ret = loop_add(loop, fd, c->events, on_client, c);
	if (ret < 0) {
		log_warn("%s: adding a client to the loop: %s", ops->name, strerror(-ret));
		if (ops->release)
			ops->release(c, NULL);
		close(fd);
		free(c);
		return ret;
	}
	c->next = s->clients;
	if (c->next)
		c->next->prev = c;
	s->clients = c;
	s->nr_clients++;
	/*
	 * One that already hung up (a pipeline written and closed while it
	 * waited in the backlog) is dealt with now, not after this accept
	 * batch: a storm of them must not fill the slots others need.
	 */
	if (poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLHUP | POLLERR)))
		conn_client_hangup(c);
	return 0;
}

static int accept_one(void *arg, int fd)
{
	struct conn_server *s = arg;

	return conn_server_add(s, s->loop, fd);
}

static void on_listen(void *arg, uint32_t events)
{
	struct conn_server *s = arg;

	(void)events;
	if (sockfile_accept(s->ops->name, s->fd, accept_one, s) && loop_mod(s->loop, s->fd, 0) == 0)
		s->accept_paused = true;
}

int conn_server_listen(struct conn_server *s, struct loop *loop, const char *path, mode_t umask_bits, gid_t gid,
		       char *err, size_t errlen)
{
	int fd, ret;

	if (s->fd >= 0) {
		snprintf(err, errlen, "%s: already open on %s", s->ops->name, s->path);
		return -EALREADY;
	}
	fd = sockfile_listen(s->ops->name, path, umask_bits, gid, err, errlen);
	if (fd < 0)
		return fd;
	ret = loop_add(loop, fd, EPOLLIN, on_listen, s);
	if (ret < 0) {
		snprintf(err, errlen, "%s: adding %s to the loop: %s", s->ops->name, path, strerror(-ret));
		close(fd);
		unlink(path);
		return ret;
	}
	s->loop = loop;
	s->fd = fd;
	snprintf(s->path, sizeof(s->path), "%s", path);
	return 0;
}

void conn_server_close(struct conn_server *s)
{
	while (s->clients)
		conn_client_free(s->clients, NULL);
	if (s->fd >= 0) {
		loop_del(s->loop, s->fd);
		close(s->fd);
		if (unlink(s->path) < 0 && errno != ENOENT)
			log_warn("%s: removing %s: %s", s->ops->name, s->path, strerror(errno));
	}
	s->fd = -1;
	s->path[0] = '\0';
	s->accept_paused = false;
	s->warned_ns = 0;
	s->refused = 0;
}

void conn_client_doom(struct conn_client *c, const char *why)
{
	c->doomed = why;
	vl_out_discard(&c->out);
	shutdown(c->fd, SHUT_RDWR);
	c->streaming = false;
	conn_client_set_events(c);
}

void conn_server_tick(struct conn_server *s, uint64_t now)
{
	const struct conn_ops *ops = s->ops;

	/* A paused listener gets another chance even if no client left. */
	accept_resume(s);
	for (struct conn_client *c = s->clients; c; c = c->next) {
		if (c->doomed || c->hungup)
			continue;
		if (ops->tick)
			ops->tick(c, now);
		if (c->partial_ns && now - c->partial_ns >= *ops->partial_ns)
			conn_client_doom(c, "an unfinished request timed out");
		else if (!c->streaming && now - c->last_io_ns >= *ops->idle_ns)
			conn_client_doom(c, "idle");
	}
}
