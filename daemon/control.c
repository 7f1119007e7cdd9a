// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket's transport: listening, accepting, credentials and
 * per-client buffers. Every socket is non-blocking and every buffer capped,
 * so a slow or hostile client costs at most its own memory and never delays
 * the event loop the scheduler's supervision runs on: idle and half-sent
 * clients time out, unprivileged users cannot take every slot, and what a
 * client that hung up still had queued is dropped. What the messages mean
 * is control-methods.c's business.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
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
#include "sockfile.h"
#include "varlink.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS	59
#endif

/* Requests handled per wakeup of one client, so a pipelining client cannot starve the rest. */
#define CTL_BATCH	64
/*
 * Bytes read from a client after it hung up, in all: enough for any oneway
 * call a client sends before closing (one message is at most CTL_MAX_MSG),
 * while the rest of a long pipeline is dropped unread. Reading costs the
 * daemon about what writing cost the client; a storm of pipelines must not
 * make every newcomer wait behind megabytes nobody asked to be answered.
 */
#define CTL_HANGUP_READ	CTL_MAX_MSG

uint64_t ctl_idle_timeout_ns = CTL_IDLE_TIMEOUT_NS;
uint64_t ctl_partial_timeout_ns = CTL_PARTIAL_TIMEOUT_NS;

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
	bool hungup;		/* the peer is gone: only its oneway calls still run */
	size_t hangup_read;	/* bytes read since, at most CTL_HANGUP_READ */
	const char *doomed;	/* shut down outside its callback, freed in it: why */
	uint64_t last_io_ns;	/* last byte read from or written to it */
	uint64_t partial_ns;	/* an incomplete message is buffered since; 0: none */
	unsigned long refused;	/* calls refused for want of privilege */
	unsigned long refused_told;	/* of those, already in the log */
	uint64_t refused_log_ns;	/* last summary of them */
};

/* One control socket per process: the daemon has one event loop and one of these. */
static struct {
	struct daemon *d;	/* handed to the methods, which read it through daemon_view() */
	struct loop *loop;
	int fd;
	char path[SOCKFILE_PATH_SIZE];
	bool have_gid;
	gid_t gid;
	struct client *clients;
	unsigned int nr_clients;
	unsigned int nr_unpriv;	/* of them, peers that may not change tunables */
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
	if (loop_mod(ctl.loop, ctl.fd, EPOLLIN) == 0)
		ctl.accept_paused = false;
}

/* Refusals after a connection's first are summed up here, not logged one by one. */
static void refusals_report(struct client *c, uint64_t now)
{
	if (c->refused <= c->refused_told + 1)
		return;
	log_info("control: %lu more calls refused for uid %u, pid %d: not privileged",
		 c->refused - c->refused_told - 1, (unsigned int)c->peer.uid, (int)c->peer.pid);
	c->refused_told = c->refused - 1;
	c->refused_log_ns = now;
}

static void client_free(struct client *c, const char *why)
{
	if (why)
		log_debug("control: closing client pid %d uid %u: %s", (int)c->peer.pid,
			  (unsigned int)c->peer.uid, why);
	refusals_report(c, mono_ns());
	loop_del(ctl.loop, c->fd);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		ctl.clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	vl_in_free(&c->in);
	vl_out_free(&c->out);
	if (!c->peer.priv)
		ctl.nr_unpriv--;
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
	if (c->hungup)
		want |= EPOLLIN;	/* what it sent before hanging up, one batch per wakeup */
	else if (!c->eof && !c->closing && (c->streaming || pending < CTL_OUT_HIGH))
		want |= EPOLLIN;
	/* Writable is also how a client with leftover requests gets its next turn. */
	if (pending || c->more_work)
		want |= EPOLLOUT;
	if (want != c->events && loop_mod(ctl.loop, c->fd, want) == 0)
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

/* Only a oneway call changes anything without a reply; the rest of a gone client's calls are dropped. */
static bool maybe_oneway(const char *msg, size_t len)
{
	struct vl_call vc;
	char err[64];
	bool oneway;

	/* Cheap first: without the word, or an escape that could spell it, it is not oneway. */
	if (!memmem(msg, len, "oneway", 6) && !memchr(msg, '\\', len))
		return false;
	if (vl_call_parse(msg, len, &vc, err, sizeof(err)) < 0)
		return false;
	oneway = vc.oneway && !vc.more;
	vl_call_free(&vc);
	return oneway;
}

/*
 * One wakeup's share of a client that hung up: what it sent is still
 * looked at (a oneway call must take effect), but nobody is left to read
 * replies, so no other call is run. At most a batch of oneway calls per
 * wakeup, like a live client, and at most CTL_HANGUP_READ more bytes in
 * all, so hanging up after a long pipeline cannot hold the loop. Returns
 * true once it is dealt with.
 */
static bool client_drain(struct client *c)
{
	unsigned int ran = 0;

	vl_out_discard(&c->out);
	if (c->streaming || c->closing)
		return true;
	while (ran < CTL_BATCH) {
		const char *msg;
		size_t len;
		int ret = vl_in_next(&c->in, &msg, &len);

		if (ret < 0)
			return true;
		if (ret == 0) {
			ssize_t n;

			if (c->hangup_read >= CTL_HANGUP_READ)
				return true;
			n = vl_in_read(&c->in, c->fd);
			if (n <= 0)
				return true;
			c->hangup_read += (size_t)n;
			continue;
		}
		if (!maybe_oneway(msg, len))
			continue;
		ran++;
		ret = control_handle(ctl.d, &c->peer, msg, len, &c->out);
		vl_out_discard(&c->out);
		if (ret != 0)
			return true;
	}
	return false;
}

static void client_hangup(struct client *c)
{
	c->hungup = true;
	if (client_drain(c)) {
		client_free(c, "hung up");
		return;
	}
	client_set_events(c);
}

static void on_client(void *arg, uint32_t events)
{
	struct client *c = arg;
	size_t queued;
	ssize_t n;
	int ret;

	if (c->doomed) {
		client_free(c, c->doomed);
		return;
	}
	if (c->hungup || (events & (EPOLLHUP | EPOLLERR))) {
		client_hangup(c);
		return;
	}
	if ((events & EPOLLIN) && !c->eof) {
		n = vl_in_read(&c->in, c->fd);
		if (n > 0)
			c->last_io_ns = mono_ns();
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
	/* An incomplete message's clock starts with its first byte, however slowly the rest trickles in. */
	if (c->more_work || c->streaming || !vl_in_pending(&c->in))
		c->partial_ns = 0;
	else if (!c->partial_ns)
		c->partial_ns = mono_ns();
	queued = vl_out_pending(&c->out);
	n = vl_out_flush(&c->out, c->fd);
	if (n < 0) {
		/* Gone before we noticed the hangup: what it sent still counts. */
		client_hangup(c);
		return;
	}
	if ((size_t)n < queued)
		c->last_io_ns = mono_ns();
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

static unsigned int clients_of_uid(uid_t uid)
{
	unsigned int n = 0;

	for (struct client *c = ctl.clients; c; c = c->next)
		n += c->peer.uid == uid;
	return n;
}

/*
 * Which cap, if any, keeps this peer out. Unprivileged peers leave
 * CTL_PRIV_RESERVED slots free and hold at most CTL_MAX_PER_UID each, so
 * no unprivileged user can lock root (or another user) out.
 */
static const char *over_cap(const struct ucred *cred, bool priv)
{
	if (ctl.nr_clients >= CTL_MAX_CLIENTS)
		return "the daemon serves as many clients as it can";
	if (priv)
		return NULL;
	if (ctl.nr_unpriv >= CTL_MAX_CLIENTS - CTL_PRIV_RESERVED)
		return "the slots left are kept for root and the control group";
	if (clients_of_uid(cred->uid) >= CTL_MAX_PER_UID)
		return "this user holds as many connections as one user may";
	return NULL;
}

/*
 * Say why before hanging up, so the client can tell a full daemon from a
 * broken one. One non-blocking send to a fresh socket: it fits, or the
 * client learns nothing, which costs us nothing either.
 */
static void refuse(int fd, const char *why)
{
	struct vl_out out;
	uint64_t now = mono_ns();

	vl_out_init(&out, CTL_OUT_MAX);
	if (control_put_error(&out, VL_ERR_TOO_MANY_CLIENTS, why) == 0)
		vl_out_flush(&out, fd);
	vl_out_free(&out);
	close(fd);
	/* A storm at the cap must not flood the journal: once a minute at most. */
	ctl.refused++;
	if (!ctl.full_warned_ns || now - ctl.full_warned_ns >= CTL_FULL_WARN_NS) {
		log_warn("control: %u clients connected; refusing more: %s "
			 "(%lu refused since the last warning)", ctl.nr_clients, why, ctl.refused);
		ctl.full_warned_ns = now;
		ctl.refused = 0;
	}
}

static int client_add(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct client *c;
	const char *full;
	bool priv;
	int ret;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		ret = -errno;
		log_warn("control: SO_PEERCRED: %s", strerror(errno));
		close(fd);
		return ret;
	}
	priv = peer_priv(fd, &cred);
	full = over_cap(&cred, priv);
	if (full) {
		refuse(fd, full);
		return -EBUSY;
	}
	/*
	 * Replies a client does not read are computed up to what the socket
	 * and our queue hold: keep that small, so pipelining and never reading
	 * (or hanging up) buys a client little of our time. Best effort.
	 */
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &(int){ CTL_SNDBUF }, sizeof(int));
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->fd = fd;
	c->peer.pid = cred.pid;
	c->peer.uid = cred.uid;
	c->peer.gid = cred.gid;
	c->peer.priv = priv;
	c->peer.refused = &c->refused;
	c->last_io_ns = c->refused_log_ns = mono_ns();
	vl_in_init(&c->in, CTL_MAX_MSG);
	vl_out_init(&c->out, CTL_OUT_MAX);
	c->events = EPOLLIN;
	ret = loop_add(ctl.loop, fd, c->events, on_client, c);
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
	ctl.nr_unpriv += !priv;
	log_debug("control: client pid %d uid %u connected%s", (int)cred.pid, (unsigned int)cred.uid,
		  priv ? " (may change tunables)" : "");
	/*
	 * One that already hung up (a pipeline written and closed while it
	 * waited in the backlog) is dealt with now, not after this accept
	 * batch: a storm of them must not fill the slots others need.
	 */
	if (poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLHUP | POLLERR)))
		client_hangup(c);
	return 0;
}

/* What the transport needs of the daemon: its loop and its socket's settings. */
static struct daemon_view view_of(const struct daemon *d)
{
	struct daemon_view v;

	daemon_view(d, &v);
	return v;
}

int control_adopt(struct daemon *d, int fd)
{
	int flags;

	if (ctl.d && ctl.d != d) {
		close(fd);
		return -EBUSY;
	}
	ctl.d = d;
	ctl.loop = view_of(d).loop;
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
	if (sockfile_accept("control", ctl.fd, client_add) && loop_mod(ctl.loop, ctl.fd, 0) == 0)
		ctl.accept_paused = true;
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

int control_preflight(const char *path, char *err, size_t errlen)
{
	int fd;

	if (!path || !*path || strlen(path) >= sizeof(ctl.path)) {
		snprintf(err, errlen, "control: socket path must be 1..%zu bytes", sizeof(ctl.path) - 1);
		return -EINVAL;
	}
	fd = sockfile_open_parent("control", path, err, errlen);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int control_open(struct daemon *d, char *err, size_t errlen)
{
	struct daemon_view v = view_of(d);
	const char *path = v.socket_path;
	int fd, ret;

	if (ctl.fd >= 0) {
		snprintf(err, errlen, "control: already open on %s", ctl.path);
		return -EALREADY;
	}
	ctl.d = d;
	ctl.loop = v.loop;
	ctl.have_gid = false;
	if (path && *path && v.ctl_group) {
		ret = resolve_group(v.ctl_group, &ctl.gid, err, errlen);
		if (ret < 0)
			return ret;
		ctl.have_gid = true;
	}
	/* 0660: root and the control group. */
	fd = sockfile_listen("control", path, 0117, ctl.have_gid ? ctl.gid : (gid_t)-1, err, errlen);
	if (fd < 0)
		return fd;
	ret = loop_add(v.loop, fd, EPOLLIN, on_listen, NULL);
	if (ret < 0) {
		snprintf(err, errlen, "control: adding %s to the loop: %s", path, strerror(-ret));
		close(fd);
		unlink(path);
		return ret;
	}
	ctl.fd = fd;
	snprintf(ctl.path, sizeof(ctl.path), "%s", path);
	log_info("control: listening on %s%s%s", path, ctl.have_gid ? ", group " : "",
		 ctl.have_gid ? v.ctl_group : "");
	return 0;
}

void control_close(struct daemon *d)
{
	(void)d;
	while (ctl.clients)
		client_free(ctl.clients, NULL);
	if (ctl.fd >= 0) {
		loop_del(ctl.loop, ctl.fd);
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

/*
 * Shut a client down outside its callback. Closing the fd here could let an
 * accept later in this epoll round reuse its number while a stale event for
 * it is still queued; shutting it down instead wakes its own callback,
 * which frees it.
 */
static void client_doom(struct client *c, const char *why)
{
	c->doomed = why;
	vl_out_discard(&c->out);
	shutdown(c->fd, SHUT_RDWR);
	c->streaming = false;
	client_set_events(c);
}

/*
 * A slot held without progress is taken back: a client that neither sends
 * nor reads for the idle timeout (a stream is exempt: it reads what we
 * push), or whose unfinished message is not finished in time however
 * slowly it trickles in. Refusal counts are summarised once a minute.
 */
static void clients_expire(uint64_t now)
{
	for (struct client *c = ctl.clients; c; c = c->next) {
		if (c->doomed || c->hungup)
			continue;
		if (now - c->refused_log_ns >= CTL_FULL_WARN_NS)
			refusals_report(c, now);
		if (c->partial_ns && now - c->partial_ns >= ctl_partial_timeout_ns)
			client_doom(c, "an unfinished message timed out");
		else if (!c->streaming && now - c->last_io_ns >= ctl_idle_timeout_ns)
			client_doom(c, "idle");
	}
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
	clients_expire(mono_ns());
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
		if (vl_out_put_raw(&c->out, sample.buf + sample.off, vl_out_pending(&sample)) < 0 ||
		    vl_out_flush(&c->out, c->fd) < 0) {
			client_doom(c, "not reading its stats stream");
			continue;
		}
		client_set_events(c);
	}
	vl_out_free(&sample);
}
