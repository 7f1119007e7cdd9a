// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket's transport: listening, accepting, credentials and
 * per-client buffers. Every socket is non-blocking and every buffer capped,
 * so a slow or hostile client costs at most its own memory and never delays
 * the event loop the scheduler's supervision runs on. What the messages mean
 * is control-methods.c's business.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "clock.h"
#include "control.h"
#include "control-internal.h"
#include "daemon.h"
#include "log.h"
#include "loop.h"
#include "varlink.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS	59
#endif

/* Requests handled per wakeup of one client, so a pipelining client cannot starve the rest. */
#define CTL_BATCH	64

struct client {
	struct client *prev, *next;
	int fd;
	struct ctl_peer peer;
	struct vl_in in;
	struct vl_out out;
	uint32_t events;	/* as registered with the loop */
	bool streaming;		/* a Stats call with "more" is open */
	bool more_work;		/* complete requests left over from the last batch */
	bool eof;		/* the peer shut down its sending side */
	bool closing;		/* send what is queued, then hang up */
	bool doomed;		/* shut down outside its callback; freed in it */
};

/* One control socket per process: the daemon has one event loop and one of these. */
static struct {
	struct daemon *d;
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	bool have_gid;
	gid_t gid;
	struct client *clients;
	unsigned int nr_clients;
	bool accept_paused;	/* out of fds: listener off until a client leaves */
	uint64_t full_warned_ns;	/* last "too many clients" warning */
	unsigned long refused;		/* connections refused at the cap since then */
} ctl = { .fd = -1 };

unsigned int control_nr_clients(void)
{
	return ctl.nr_clients;
}

static void accept_resume(void)
{
	if (!ctl.accept_paused || ctl.fd < 0)
		return;
	if (loop_mod(ctl.d->loop, ctl.fd, EPOLLIN) == 0)
		ctl.accept_paused = false;
}

static void client_free(struct client *c, const char *why)
{
	if (why)
		log_debug("control: closing client pid %d uid %u: %s", (int)c->peer.pid,
			  (unsigned int)c->peer.uid, why);
	loop_del(ctl.d->loop, c->fd);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		ctl.clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	vl_in_free(&c->in);
	vl_out_free(&c->out);
	free(c);
	ctl.nr_clients--;
	accept_resume();
}

static void client_set_events(struct client *c)
{
	uint32_t want = 0;
	size_t pending = vl_out_pending(&c->out);

	/*
	 * A streaming client keeps reading enabled even above the high mark:
	 * its input only tells us it hung up or misbehaves, and its output is
	 * bounded by the hard cap instead.
	 */
	if (!c->eof && !c->closing && (c->streaming || pending < CTL_OUT_HIGH))
		want |= EPOLLIN;
	/* Writable is also how a client with leftover requests gets its next turn. */
	if (pending || c->more_work)
		want |= EPOLLOUT;
	if (want != c->events && loop_mod(ctl.d->loop, c->fd, want) == 0)
		c->events = want;
}

/*
 * Handle complete requests in order. Stops when a stream opened (further
 * requests wait for it to end, which keeps replies in call order), above the
 * output high mark, or after a batch. Returns 1 if requests may be left, 0
 * if none are, -errno if the client has to go.
 */
static int client_process(struct client *c)
{
	for (int i = 0; i < CTL_BATCH; i++) {
		const char *msg;
		size_t len;
		char err[128];
		int ret;

		if (c->streaming || c->closing)
			return 0;
		if (vl_out_pending(&c->out) >= CTL_OUT_HIGH)
			return 1;
		ret = vl_in_next(&c->in, &msg, &len);
		if (ret == 0)
			return 0;
		if (ret < 0) {
			/* No NUL within the cap: the stream cannot be resynchronised. */
			snprintf(err, sizeof(err), "message longer than %d bytes", CTL_MAX_MSG);
			c->closing = true;
			return control_put_error(&c->out, VL_ERR_INVALID_REQUEST, err);
		}
		ret = control_handle(ctl.d, &c->peer, msg, len, &c->out);
		if (ret < 0)
			return ret;
		if (ret == 1)
			c->streaming = true;
	}
	return 1;
}

/*
 * The peer closed the connection: still run what it sent (a oneway call
 * must take effect), but nobody is left to read the replies.
 */
static void client_hangup(struct client *c)
{
	for (;;) {
		ssize_t n;
		int ret;

		vl_out_discard(&c->out);
		ret = client_process(c);
		if (ret < 0 || c->streaming || c->closing)
			break;
		if (ret == 1)	/* a full batch: more requests are buffered */
			continue;
		n = vl_in_read(&c->in, c->fd);
		if (n <= 0 && n != -ENOBUFS)
			break;
	}
	client_free(c, "hung up");
}

static void on_client(void *arg, uint32_t events)
{
	struct client *c = arg;
	ssize_t n;
	int ret;

	if (c->doomed) {
		client_free(c, "not reading its stats stream");
		return;
	}
	if (events & (EPOLLHUP | EPOLLERR)) {
		client_hangup(c);
		return;
	}
	if ((events & EPOLLIN) && !c->eof) {
		n = vl_in_read(&c->in, c->fd);
		if (n == 0) {
			c->eof = true;
		} else if (n == -ENOBUFS && c->streaming) {
			client_free(c, "sent more than a request's worth while streaming");
			return;
		} else if (n < 0 && n != -EAGAIN && n != -ENOBUFS) {
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
	n = vl_out_flush(&c->out, c->fd);
	if (n < 0) {
		/* Gone before we noticed the hangup: what it sent still counts. */
		client_hangup(c);
		return;
	}
	if (!n) {
		if (c->closing) {
			client_free(c, "protocol error");
			return;
		}
		/* Half-closed and nothing left to answer: an unfinished message is dropped. */
		if (c->eof && !c->streaming && !c->more_work) {
			client_free(c, "done");
			return;
		}
	}
	client_set_events(c);
}

/* May this peer change tunables? Root, or a member (primary or supplementary) of the control group. */
static bool peer_priv(int fd, const struct ucred *cred)
{
	gid_t stack[64], *groups = stack;
	socklen_t len = sizeof(stack);
	bool ok = false;

	if (cred->uid == 0)
		return true;
	if (!ctl.have_gid)
		return false;
	if (cred->gid == ctl.gid)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
		if (errno != ERANGE) {
			log_debug("control: SO_PEERGROUPS: %s", strerror(errno));
			return false;
		}
		/* The kernel told us the size it needs. */
		groups = malloc(len);
		if (!groups || getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
			free(groups);
			return false;
		}
	}
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == ctl.gid)
			ok = true;
	if (groups != stack)
		free(groups);
	return ok;
}

static int client_add(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct client *c;
	int ret;

	if (ctl.nr_clients >= CTL_MAX_CLIENTS) {
		uint64_t now = mono_ns();

		/* A storm at the cap must not flood the journal: once a minute at most. */
		ctl.refused++;
		if (!ctl.full_warned_ns || now - ctl.full_warned_ns >= CTL_FULL_WARN_NS) {
			log_warn("control: %d clients connected; refusing more until one leaves "
				 "(%lu refused since the last warning)", CTL_MAX_CLIENTS, ctl.refused);
			ctl.full_warned_ns = now;
			ctl.refused = 0;
		}
		close(fd);
		return -EBUSY;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		ret = -errno;
		log_warn("control: SO_PEERCRED: %s", strerror(errno));
		close(fd);
		return ret;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->fd = fd;
	c->peer.pid = cred.pid;
	c->peer.uid = cred.uid;
	c->peer.gid = cred.gid;
	c->peer.priv = peer_priv(fd, &cred);
	vl_in_init(&c->in, CTL_MAX_MSG);
	vl_out_init(&c->out, CTL_OUT_MAX);
	c->events = EPOLLIN;
	ret = loop_add(ctl.d->loop, fd, c->events, on_client, c);
	if (ret < 0) {
		log_warn("control: adding client to the loop: %s", strerror(-ret));
		close(fd);
		free(c);
		return ret;
	}
	c->next = ctl.clients;
	if (c->next)
		c->next->prev = c;
	ctl.clients = c;
	ctl.nr_clients++;
	log_debug("control: client pid %d uid %u connected%s", (int)cred.pid, (unsigned int)cred.uid,
		  c->peer.priv ? " (may change tunables)" : "");
	return 0;
}

int control_adopt(struct daemon *d, int fd)
{
	int flags;

	if (ctl.d && ctl.d != d) {
		close(fd);
		return -EBUSY;
	}
	ctl.d = d;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		close(fd);
		return -errno;
	}
	return client_add(fd);
}

static void on_listen(void *arg, uint32_t events)
{
	(void)arg;
	(void)events;
	/* Bounded, so a connect storm cannot monopolise the loop. */
	for (int i = 0; i < 16; i++) {
		int fd = accept4(ctl.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			client_add(fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			/* Level-triggered: leaving the listener on would spin until an fd frees up. */
			log_warn("control: accept: %s; pausing the control socket", strerror(errno));
			if (loop_mod(ctl.d->loop, ctl.fd, 0) == 0)
				ctl.accept_paused = true;
			return;
		}
		log_warn("control: accept: %s", strerror(errno));
		return;
	}
}

static int resolve_group(const char *name, gid_t *gid, char *err, size_t errlen)
{
	struct group gr, *res = NULL;
	char buf[16384], *end;
	unsigned long v;
	int ret;

	ret = getgrnam_r(name, &gr, buf, sizeof(buf), &res);
	if (res) {
		*gid = gr.gr_gid;
		return 0;
	}
	errno = 0;
	v = strtoul(name, &end, 10);
	if (*name >= '0' && *name <= '9' && !*end && !errno && v < (gid_t)-1) {
		*gid = (gid_t)v;
		return 0;
	}
	snprintf(err, errlen, "control group '%s': %s", name, ret ? strerror(ret) : "no such group");
	return -ENOENT;
}

/* mkdir -p of @path's directory, 0755 for what is created. */
static int make_parent(const char *path, char *err, size_t errlen)
{
	char dir[sizeof(ctl.path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; ; p++) {
		if (*p && *p != '/')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			int ret = -errno;

			snprintf(err, errlen, "control: creating %s: %s", dir, strerror(errno));
			return ret;
		}
		*p = c;
		if (!c)
			return 0;
	}
}

/*
 * A socket file left by a daemon that died is removed; one that a live
 * daemon still listens on is not ours to take.
 */
static int claim_path(const struct sockaddr_un *addr, char *err, size_t errlen)
{
	struct stat st;
	int probe, ret;

	if (lstat(addr->sun_path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		ret = -errno;
		snprintf(err, errlen, "control: %s: %s", addr->sun_path, strerror(errno));
		return ret;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "control: %s exists and is not a socket", addr->sun_path);
		return -EEXIST;
	}
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (probe < 0) {
		ret = -errno;
		snprintf(err, errlen, "control: socket: %s", strerror(errno));
		return ret;
	}
	/* Non-blocking, so a live daemon with a full backlog cannot hang us (EAGAIN). */
	ret = connect(probe, (const struct sockaddr *)addr, sizeof(*addr));
	if (ret == 0 || errno == EAGAIN || errno == EINPROGRESS) {
		close(probe);
		snprintf(err, errlen, "control: another scx_ai_numad is listening on %s", addr->sun_path);
		return -EADDRINUSE;
	}
	ret = errno;
	close(probe);
	if (ret != ECONNREFUSED) {
		snprintf(err, errlen, "control: probing %s: %s", addr->sun_path, strerror(ret));
		return -ret;
	}
	if (unlink(addr->sun_path) < 0 && errno != ENOENT) {
		ret = -errno;
		snprintf(err, errlen, "control: removing stale %s: %s", addr->sun_path, strerror(errno));
		return ret;
	}
	return 0;
}

int control_open(struct daemon *d, char *err, size_t errlen)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	const char *path = d->opt.socket_path;
	mode_t old_umask;
	int fd, ret;

	if (ctl.fd >= 0) {
		snprintf(err, errlen, "control: already open on %s", ctl.path);
		return -EALREADY;
	}
	if (!path || !*path) {
		snprintf(err, errlen, "control: no socket path");
		return -EINVAL;
	}
	if (strlen(path) >= sizeof(addr.sun_path)) {
		snprintf(err, errlen, "control: socket path longer than %zu bytes: %s",
			 sizeof(addr.sun_path) - 1, path);
		return -ENAMETOOLONG;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	ctl.d = d;
	ctl.have_gid = false;
	if (d->opt.ctl_group) {
		ret = resolve_group(d->opt.ctl_group, &ctl.gid, err, errlen);
		if (ret < 0)
			return ret;
		ctl.have_gid = true;
	}
	ret = make_parent(path, err, errlen);
	if (ret < 0)
		return ret;
	ret = claim_path(&addr, err, errlen);
	if (ret < 0)
		return ret;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "control: socket: %s", strerror(errno));
		return ret;
	}
	/* The socket file gets its final mode at creation: no window where it is wider. */
	old_umask = umask(0117);
	ret = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old_umask);
	if (ret < 0) {
		ret = -errno;
		snprintf(err, errlen, "control: bind %s: %s", path, strerror(errno));
		close(fd);
		return ret;
	}
	if ((ctl.have_gid && chown(path, (uid_t)-1, ctl.gid) < 0) || chmod(path, 0660) < 0) {
		ret = -errno;
		snprintf(err, errlen, "control: setting owner and mode of %s: %s", path, strerror(errno));
		goto fail;
	}
	if (listen(fd, 64) < 0) {
		ret = -errno;
		snprintf(err, errlen, "control: listen %s: %s", path, strerror(errno));
		goto fail;
	}
	ret = loop_add(d->loop, fd, EPOLLIN, on_listen, NULL);
	if (ret < 0) {
		snprintf(err, errlen, "control: adding %s to the loop: %s", path, strerror(-ret));
		goto fail;
	}
	ctl.fd = fd;
	snprintf(ctl.path, sizeof(ctl.path), "%s", path);
	log_info("control: listening on %s%s%s", path, ctl.have_gid ? ", group " : "",
		 ctl.have_gid ? d->opt.ctl_group : "");
	return 0;
fail:
	close(fd);
	unlink(path);
	return ret;
}

void control_close(struct daemon *d)
{
	(void)d;
	while (ctl.clients)
		client_free(ctl.clients, NULL);
	if (ctl.fd >= 0) {
		loop_del(ctl.d->loop, ctl.fd);
		close(ctl.fd);
		if (unlink(ctl.path) < 0 && errno != ENOENT)
			log_warn("control: removing %s: %s", ctl.path, strerror(errno));
	}
	ctl.fd = -1;
	ctl.path[0] = '\0';
	ctl.d = NULL;
	ctl.accept_paused = false;
	ctl.full_warned_ns = 0;
	ctl.refused = 0;
}

void control_stats_tick(struct daemon *d)
{
	struct client *c, *next;
	struct vl_out sample;
	bool any = false;

	if (!ctl.d || ctl.d != d)
		return;
	/* A paused listener gets another chance even if no client left. */
	accept_resume();
	for (c = ctl.clients; c && !any; c = c->next)
		any = c->streaming;
	if (!any)
		return;
	/* Serialised once, copied to every stream. */
	vl_out_init(&sample, CTL_OUT_MAX);
	if (control_stream_sample(d, &sample) < 0) {
		vl_out_free(&sample);
		return;
	}
	for (c = ctl.clients; c; c = next) {
		next = c->next;
		if (!c->streaming || c->doomed)
			continue;
		/*
		 * Closing the fd here could let an accept later in this epoll
		 * round reuse its number while a stale event for it is still
		 * queued. Shutting it down instead wakes its own callback,
		 * which frees it.
		 */
		if (vl_out_put_raw(&c->out, sample.buf + sample.off, vl_out_pending(&sample)) < 0 ||
		    vl_out_flush(&c->out, c->fd) < 0) {
			c->doomed = true;
			vl_out_discard(&c->out);
			shutdown(c->fd, SHUT_RDWR);
			c->streaming = false;
			client_set_events(c);
			continue;
		}
		client_set_events(c);
	}
	vl_out_free(&sample);
}
