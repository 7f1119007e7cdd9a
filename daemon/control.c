// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket's transport: what varlink over the connection layer
 * (conn.c: accepting, capped buffers, batches, timeouts, deferred close)
 * needs on top. Credentials decide who may change tunables and which slots
 * a peer may take, so no unprivileged user can lock root out; a stream
 * (Stats with "more") is pushed a sample on every tick; and a client that
 * hung up still has its oneway calls run, nothing else. What the messages
 * mean is control-methods.c's business.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "clock.h"
#include "conn.h"
#include "control.h"
#include "control-internal.h"
#include "daemon.h"
#include "log.h"
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
	struct conn_client conn;	/* first: the connection layer hands it back */
	struct ctl_peer peer;
	size_t hangup_read;	/* bytes read since it hung up, at most CTL_HANGUP_READ */
	unsigned long refused;	/* calls refused for want of privilege */
	unsigned long refused_told;	/* of those, already in the log */
	uint64_t refused_log_ns;	/* last summary of them */
};

static int client_admit(struct conn_client *conn, const char **why);
static int client_handle(struct conn_client *conn, const char *msg, size_t len);
static int client_put_error(struct vl_out *out, enum conn_err kind, const char *msg);
static bool client_drain(struct conn_client *conn);
static void client_release(struct conn_client *conn, const char *why);
static void client_tick(struct conn_client *conn, uint64_t now);

static const struct conn_ops ctl_ops = {
	.name = "control",
	.unit = "message",
	.size = sizeof(struct client),
	.max_clients = CTL_MAX_CLIENTS,
	.full_msg = "the daemon serves as many clients as it can",
	.batch = CTL_BATCH,
	.max_msg = CTL_MAX_MSG,
	.delim = '\0',
	.out_max = CTL_OUT_MAX,
	.out_high = CTL_OUT_HIGH,
	.sndbuf = CTL_SNDBUF,
	.idle_ns = &ctl_idle_timeout_ns,
	.partial_ns = &ctl_partial_timeout_ns,
	.admit = client_admit,
	.handle = client_handle,
	.put_error = client_put_error,
	.drain = client_drain,
	.release = client_release,
	.tick = client_tick,
};

/* One control socket per process: the daemon has one event loop and one of these. */
static struct {
	struct daemon *d;	/* handed to the methods, which read it through daemon_view() */
	struct conn_server srv;
	bool have_gid;
	gid_t gid;
	unsigned int nr_unpriv;	/* of the clients, peers that may not change tunables */
} ctl = { .srv = CONN_SERVER_INIT(&ctl_ops) };

static struct client *client_of(struct conn_client *conn)
{
	return (struct client *)conn;
}

unsigned int control_nr_clients(void)
{
	return ctl.srv.nr_clients;
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

static void client_release(struct conn_client *conn, const char *why)
{
	struct client *c = client_of(conn);

	if (why)
		log_debug("control: closing client pid %d uid %u: %s", (int)c->peer.pid,
			  (unsigned int)c->peer.uid, why);
	refusals_report(c, mono_ns());
	if (!c->peer.priv)
		ctl.nr_unpriv--;
}

/* Refusal counts are summarised once a minute. */
static void client_tick(struct conn_client *conn, uint64_t now)
{
	struct client *c = client_of(conn);

	if (now - c->refused_log_ns >= CTL_FULL_WARN_NS)
		refusals_report(c, now);
}

static int client_handle(struct conn_client *conn, const char *msg, size_t len)
{
	struct client *c = client_of(conn);

	return control_handle(ctl.d, &c->peer, msg, len, &conn->out);
}

static int client_put_error(struct vl_out *out, enum conn_err kind, const char *msg)
{
	return control_put_error(out, kind == CONN_ERR_TOO_LONG ? VL_ERR_INVALID_REQUEST : VL_ERR_TOO_MANY_CLIENTS,
				 msg);
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
static bool client_drain(struct conn_client *conn)
{
	struct client *c = client_of(conn);
	unsigned int ran = 0;

	vl_out_discard(&conn->out);
	if (conn->streaming || conn->closing)
		return true;
	while (ran < CTL_BATCH) {
		const char *msg;
		size_t len;
		int ret = vl_in_next(&conn->in, &msg, &len);

		if (ret < 0)
			return true;
		if (ret == 0) {
			ssize_t n;

			if (c->hangup_read >= CTL_HANGUP_READ)
				return true;
			n = vl_in_read(&conn->in, conn->fd);
			if (n <= 0)
				return true;
			c->hangup_read += (size_t)n;
			continue;
		}
		if (!maybe_oneway(msg, len))
			continue;
		ran++;
		ret = control_handle(ctl.d, &c->peer, msg, len, &conn->out);
		vl_out_discard(&conn->out);
		if (ret != 0)
			return true;
	}
	return false;
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

	for (struct conn_client *c = ctl.srv.clients; c; c = c->next)
		n += client_of(c)->peer.uid == uid;
	return n;
}

/*
 * Which cap, beyond the total the connection layer keeps, keeps this peer
 * out. Unprivileged peers leave CTL_PRIV_RESERVED slots free and hold at
 * most CTL_MAX_PER_UID each, so no unprivileged user can lock root (or
 * another user) out.
 */
static const char *over_cap(const struct ucred *cred, bool priv)
{
	if (priv)
		return NULL;
	if (ctl.nr_unpriv >= CTL_MAX_CLIENTS - CTL_PRIV_RESERVED)
		return "the slots left are kept for root and the control group";
	if (clients_of_uid(cred->uid) >= CTL_MAX_PER_UID)
		return "this user holds as many connections as one user may";
	return NULL;
}

/* Who is calling, and may they have a slot. */
static int client_admit(struct conn_client *conn, const char **why)
{
	struct client *c = client_of(conn);
	struct ucred cred;
	socklen_t len = sizeof(cred);
	bool priv;
	int ret;

	if (getsockopt(conn->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		ret = -errno;
		log_warn("control: SO_PEERCRED: %s", strerror(errno));
		return ret;
	}
	priv = peer_priv(conn->fd, &cred);
	*why = over_cap(&cred, priv);
	if (*why)
		return -EBUSY;
	c->peer.pid = cred.pid;
	c->peer.uid = cred.uid;
	c->peer.gid = cred.gid;
	c->peer.priv = priv;
	c->peer.refused = &c->refused;
	c->refused_log_ns = mono_ns();
	ctl.nr_unpriv += !priv;
	log_debug("control: client pid %d uid %u connected%s", (int)cred.pid, (unsigned int)cred.uid,
		  priv ? " (may change tunables)" : "");
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
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		close(fd);
		return -errno;
	}
	return conn_server_add(&ctl.srv, view_of(d).loop, fd);
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

	if (!path || !*path || strlen(path) >= SOCKFILE_PATH_SIZE) {
		snprintf(err, errlen, "control: socket path must be 1..%d bytes", SOCKFILE_PATH_SIZE - 1);
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
	int ret;

	if (ctl.srv.fd >= 0) {
		snprintf(err, errlen, "control: already open on %s", ctl.srv.path);
		return -EALREADY;
	}
	ctl.d = d;
	ctl.have_gid = false;
	if (path && *path && v.ctl_group) {
		ret = resolve_group(v.ctl_group, &ctl.gid, err, errlen);
		if (ret < 0)
			return ret;
		ctl.have_gid = true;
	}
	/* 0660: root and the control group. */
	ret = conn_server_listen(&ctl.srv, v.loop, path, 0117, ctl.have_gid ? ctl.gid : (gid_t)-1, err, errlen);
	if (ret < 0)
		return ret;
	log_info("control: listening on %s%s%s", path, ctl.have_gid ? ", group " : "",
		 ctl.have_gid ? v.ctl_group : "");
	return 0;
}

void control_close(struct daemon *d)
{
	(void)d;
	conn_server_close(&ctl.srv);
	ctl.d = NULL;
}

void control_stats_tick(struct daemon *d)
{
	struct conn_client *c, *next;
	struct vl_out sample;
	bool any = false;

	if (!ctl.d || ctl.d != d)
		return;
	/* Slots held without progress are taken back; a stream is exempt: it reads what we push. */
	conn_server_tick(&ctl.srv, mono_ns());
	for (c = ctl.srv.clients; c && !any; c = c->next)
		any = c->streaming;
	if (!any)
		return;
	/* Serialised once, copied to every stream. */
	vl_out_init(&sample, CTL_OUT_MAX);
	if (control_stream_sample(d, &sample) < 0) {
		vl_out_free(&sample);
		return;
	}
	for (c = ctl.srv.clients; c; c = next) {
		next = c->next;
		if (!c->streaming || c->doomed)
			continue;
		if (vl_out_put_raw(&c->out, sample.buf + sample.off, vl_out_pending(&sample)) < 0 ||
		    vl_out_flush(&c->out, c->fd) < 0) {
			conn_client_doom(c, "not reading its stats stream");
			continue;
		}
		conn_client_set_events(c);
	}
	vl_out_free(&sample);
}
