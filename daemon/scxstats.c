// SPDX-License-Identifier: GPL-2.0
/*
 * The scx_stats endpoint's transport (what it answers: scxstats-proto.c).
 * Built like the control socket's (control.c) from the same pieces: the
 * socket file and its directory checks (sockfile.c), the capped framing
 * buffers (varlink.h's vl_in with '\n' as delimiter, vl_out). Simpler,
 * because the protocol is: read-only, root only, no streams, no call that
 * must run after a hangup. So a slow or hostile client costs at most its
 * own buffers: requests beyond SXS_MAX_REQ are refused, a client that does
 * not read stops being read above SXS_OUT_HIGH and is closed when idle, and
 * beyond SXS_MAX_CLIENTS newcomers are told so and closed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "clock.h"
#include "daemon.h"
#include "log.h"
#include "loop.h"
#include "scxstats.h"
#include "settings.h"
#include "sockfile.h"
#include "varlink.h"

uint64_t sxs_idle_timeout_ns = 30ULL * 1000000000ULL;
uint64_t sxs_partial_timeout_ns = 5ULL * 1000000000ULL;

struct sxs_client {
	struct sxs_client *prev, *next;
	int fd;
	struct vl_in in;
	struct vl_out out;
	uint32_t events;	/* as registered with the loop */
	bool more_work;		/* complete requests left over from the last batch */
	bool eof;		/* the peer shut down its sending side */
	bool closing;		/* send what is queued, then hang up */
	const char *doomed;	/* shut down outside its callback, freed in it: why */
	uint64_t last_io_ns;	/* last byte read from or written to it */
	uint64_t partial_ns;	/* an incomplete request is buffered since; 0: none */
};

static struct {
	struct daemon *d;	/* handed to the methods, which read it through daemon_view() */
	struct loop *loop;
	int fd;
	char path[SOCKFILE_PATH_SIZE];
	struct sxs_client *clients;
	unsigned int nr_clients;
	bool accept_paused;	/* out of fds: listener off until a client leaves */
	uint64_t warned_ns;	/* last "too many clients" warning */
	unsigned long refused;	/* connections refused since then */
} sxs = { .fd = -1 };

unsigned int scxstats_nr_clients(void)
{
	return sxs.nr_clients;
}

static void accept_resume(void)
{
	if (sxs.accept_paused && sxs.fd >= 0 && loop_mod(sxs.loop, sxs.fd, EPOLLIN) == 0)
		sxs.accept_paused = false;
}

static void client_free(struct sxs_client *c, const char *why)
{
	if (why)
		log_debug("scx_stats: closing client fd %d: %s", c->fd, why);
	loop_del(sxs.loop, c->fd);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		sxs.clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	vl_in_free(&c->in);
	vl_out_free(&c->out);
	free(c);
	sxs.nr_clients--;
	accept_resume();
}

static void client_set_events(struct sxs_client *c)
{
	uint32_t want = 0;
	size_t pending = vl_out_pending(&c->out);

	if (!c->eof && !c->closing && pending < SXS_OUT_HIGH)
		want |= EPOLLIN;
	/* Writable is also how a client with leftover requests gets its next turn. */
	if (pending || c->more_work)
		want |= EPOLLOUT;
	if (want != c->events && loop_mod(sxs.loop, c->fd, want) == 0)
		c->events = want;
}

/* Answer complete requests, a batch at most. 1: requests may be left, 0: none, -errno: drop it. */
static int client_process(struct sxs_client *c)
{
	for (int i = 0; i < SXS_BATCH; i++) {
		const char *line;
		size_t len;
		char err[96];
		int ret;

		if (c->closing)
			return 0;
		if (vl_out_pending(&c->out) >= SXS_OUT_HIGH)
			return 1;
		ret = vl_in_next(&c->in, &line, &len);
		if (ret == 0)
			return 0;
		if (ret < 0) {
			/* No newline within the cap: the stream cannot be resynchronised. */
			snprintf(err, sizeof(err), "request longer than %d bytes", SXS_MAX_REQ);
			c->closing = true;
			return scxstats_put_error(&c->out, EMSGSIZE, err);
		}
		ret = scxstats_handle(sxs.d, line, len, &c->out);
		if (ret < 0)
			return ret;
	}
	return 1;
}

static void on_client(void *arg, uint32_t events)
{
	struct sxs_client *c = arg;
	size_t queued;
	ssize_t n;
	int ret;

	if (c->doomed) {
		client_free(c, c->doomed);
		return;
	}
	/* Nothing it sent needs an answer nobody reads. */
	if (events & (EPOLLHUP | EPOLLERR)) {
		client_free(c, "hung up");
		return;
	}
	if ((events & EPOLLIN) && !c->eof && !c->closing) {
		n = vl_in_read(&c->in, c->fd);
		if (n > 0)
			c->last_io_ns = mono_ns();
		else if (n == 0)
			c->eof = true;
		else if (n != -EAGAIN && n != -ENOBUFS) {
			client_free(c, strerror((int)-n));
			return;
		}
	}
	ret = client_process(c);
	if (ret < 0) {
		client_free(c, ret == -ENOBUFS ? "output cap reached" : strerror(-ret));
		return;
	}
	c->more_work = ret == 1;
	/* An unfinished request's clock starts with its first byte, however slowly the rest trickles in. */
	if (c->more_work || !vl_in_pending(&c->in))
		c->partial_ns = 0;
	else if (!c->partial_ns)
		c->partial_ns = mono_ns();
	queued = vl_out_pending(&c->out);
	n = vl_out_flush(&c->out, c->fd);
	if (n < 0) {
		client_free(c, strerror((int)-n));
		return;
	}
	if ((size_t)n < queued)
		c->last_io_ns = mono_ns();
	if (!n && (c->closing || (c->eof && !c->more_work))) {
		client_free(c, c->closing ? "request too long" : "done");
		return;
	}
	client_set_events(c);
}

/* Say why before hanging up; one non-blocking send, which fits or is lost. */
static void refuse(int fd)
{
	struct vl_out out;
	uint64_t now = mono_ns();

	vl_out_init(&out, 4096);
	if (scxstats_put_error(&out, EBUSY, "the daemon serves as many scx_stats clients as it can") == 0)
		vl_out_flush(&out, fd);
	vl_out_free(&out);
	close(fd);
	sxs.refused++;
	if (!sxs.warned_ns || now - sxs.warned_ns >= SXS_WARN_NS) {
		log_warn("scx_stats: %u clients connected; refusing more (%lu refused since the last warning)",
			 sxs.nr_clients, sxs.refused);
		sxs.warned_ns = now;
		sxs.refused = 0;
	}
}

static int client_add(int fd)
{
	struct sxs_client *c;
	int ret;

	if (sxs.nr_clients >= SXS_MAX_CLIENTS) {
		refuse(fd);
		return -EBUSY;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->fd = fd;
	c->last_io_ns = mono_ns();
	vl_in_init(&c->in, SXS_MAX_REQ);
	vl_in_set_delim(&c->in, '\n');
	vl_out_init(&c->out, SXS_OUT_MAX);
	c->events = EPOLLIN;
	ret = loop_add(sxs.loop, fd, c->events, on_client, c);
	if (ret < 0) {
		log_warn("scx_stats: adding a client to the loop: %s", strerror(-ret));
		close(fd);
		free(c);
		return ret;
	}
	c->next = sxs.clients;
	if (c->next)
		c->next->prev = c;
	sxs.clients = c;
	sxs.nr_clients++;
	return 0;
}

static void on_listen(void *arg, uint32_t events)
{
	(void)arg;
	(void)events;
	if (sockfile_accept("scx_stats", sxs.fd, client_add) && loop_mod(sxs.loop, sxs.fd, 0) == 0)
		sxs.accept_paused = true;
}

int scxstats_open(struct daemon *d, char *err, size_t errlen)
{
	struct daemon_view v;
	const char *path;
	int fd, ret;

	/* What the transport needs of the daemon: its loop and the endpoint's path. */
	daemon_view(d, &v);
	path = v.stats_socket;
	if (setting_path_off(path)) {
		log_info("scx_stats: endpoint off");
		return 0;
	}
	if (sxs.fd >= 0) {
		snprintf(err, errlen, "scx_stats: already open on %s", sxs.path);
		return -EALREADY;
	}
	sxs.d = d;
	sxs.loop = v.loop;
	/* 0600: what the stats say about the host's jobs is root's to read, as with upstream's servers. */
	fd = sockfile_listen("scx_stats", path, 0177, (gid_t)-1, err, errlen);
	if (fd < 0)
		return fd;
	ret = loop_add(v.loop, fd, EPOLLIN, on_listen, NULL);
	if (ret < 0) {
		snprintf(err, errlen, "scx_stats: adding %s to the loop: %s", path, strerror(-ret));
		close(fd);
		unlink(path);
		return ret;
	}
	sxs.fd = fd;
	snprintf(sxs.path, sizeof(sxs.path), "%s", path);
	log_info("scx_stats: listening on %s", path);
	return 0;
}

void scxstats_close(struct daemon *d)
{
	(void)d;
	while (sxs.clients)
		client_free(sxs.clients, NULL);
	if (sxs.fd >= 0) {
		loop_del(sxs.loop, sxs.fd);
		close(sxs.fd);
		if (unlink(sxs.path) < 0 && errno != ENOENT)
			log_warn("scx_stats: removing %s: %s", sxs.path, strerror(errno));
	}
	sxs.fd = -1;
	sxs.path[0] = '\0';
	sxs.accept_paused = false;
	sxs.warned_ns = 0;
	sxs.refused = 0;
}

/*
 * Shut a client down outside its callback: closing the fd here could let
 * an accept in this epoll round reuse its number while a stale event for
 * it is queued; the shutdown wakes its own callback, which frees it.
 */
static void client_doom(struct sxs_client *c, const char *why)
{
	c->doomed = why;
	vl_out_discard(&c->out);
	shutdown(c->fd, SHUT_RDWR);
	client_set_events(c);
}

void scxstats_tick(struct daemon *d)
{
	uint64_t now = mono_ns();

	if (sxs.fd < 0 || sxs.d != d)
		return;
	accept_resume();
	for (struct sxs_client *c = sxs.clients; c; c = c->next) {
		if (c->doomed)
			continue;
		if (c->partial_ns && now - c->partial_ns >= sxs_partial_timeout_ns)
			client_doom(c, "an unfinished request timed out");
		else if (now - c->last_io_ns >= sxs_idle_timeout_ns)
			client_doom(c, "idle");
	}
}
