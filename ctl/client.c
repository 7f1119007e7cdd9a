// SPDX-License-Identifier: GPL-2.0
/*
 * One connection to the daemon, one call at a time. Every wait is bounded:
 * a wedged daemon makes the CLI fail with a message, not hang a script.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <json-c/json.h>

#include "ctl.h"

#define CALL_TIMEOUT_MS	10000
/* Replies are larger than requests: a topology of 1024 CPUs is tens of KiB. */
#define REPLY_MAX	(4 * 1024 * 1024)

/*
 * Answers from whoever listens on the path are believed, so it must be the
 * daemon: a listener running as root, or as ourselves (a test daemon, which
 * could not tell us anything we could not tell ourselves). Anyone else got
 * there through a directory they should not control.
 */
static int check_listener(struct conn *c, char *err, size_t errlen)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int ret;

	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: who is listening: %s", c->path, strerror(errno));
		goto fail;
	}
	if (cred.uid == 0 || cred.uid == geteuid())
		return 0;
	ret = -EPERM;
	snprintf(err, errlen, "%s is served by uid %u (pid %d), not root: not the daemon, refusing to "
		 "talk to it", c->path, (unsigned int)cred.uid, (int)cred.pid);
fail:
	close(c->fd);
	c->fd = -1;
	return ret;
}

int conn_open(struct conn *c, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int ret;

	c->fd = -1;
	c->path = path;
	c->answered = false;
	vl_in_init(&c->in, REPLY_MAX);
	if (strlen(path) >= sizeof(addr.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return ret;
	}
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		ret = -errno;
		if (errno == ENOENT || errno == ECONNREFUSED || errno == ENOTDIR)
			snprintf(err, errlen, "scx_ai_numad not running? (%s: %s)", path, strerror(errno));
		else if (errno == EACCES || errno == EPERM)
			snprintf(err, errlen, "permission denied (%s: %s); the control socket is for root "
				 "and the daemon's control group", path, strerror(errno));
		else
			snprintf(err, errlen, "connecting to %s: %s", path, strerror(errno));
		close(c->fd);
		c->fd = -1;
		return ret;
	}
	return check_listener(c, err, errlen);
}

void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	vl_in_free(&c->in);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for @events until @deadline; 0, or -ETIMEDOUT / -errno. */
static int wait_fd(int fd, short events, long long deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		long long left = deadline - now_ms();
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

int conn_call(struct conn *c, const char *method, struct json_object *params, struct vl_reply *reply,
	      char *err, size_t errlen)
{
	struct json_object *msg = vl_call_new(method, params, false, false);
	long long deadline = now_ms() + CALL_TIMEOUT_MS;
	struct vl_out out;
	const char *text;
	size_t len;
	int ret;

	memset(reply, 0, sizeof(*reply));
	vl_out_init(&out, REPLY_MAX);
	ret = vl_out_put(&out, msg);
	json_object_put(msg);
	if (ret < 0) {
		snprintf(err, errlen, "building the request: %s", strerror(-ret));
		goto out;
	}
	while (vl_out_pending(&out)) {
		ssize_t n = vl_out_flush(&out, c->fd);

		if (n < 0) {
			ret = (int)n;
			/* Refused at the door: the reason may be waiting to be read. */
			if (!c->answered && (ret == -EPIPE || ret == -ECONNRESET))
				break;
			snprintf(err, errlen, "sending to %s: %s", c->path, strerror(-ret));
			goto out;
		}
		if (n && (ret = wait_fd(c->fd, POLLOUT, deadline)) < 0) {
			snprintf(err, errlen, "sending to %s: %s", c->path, strerror(-ret));
			goto out;
		}
	}
	for (;;) {
		ssize_t n;

		ret = vl_in_next(&c->in, &text, &len);
		if (ret == 1)
			break;
		if (ret < 0) {
			snprintf(err, errlen, "reply from %s larger than %d bytes", c->path, REPLY_MAX);
			goto out;
		}
		ret = wait_fd(c->fd, POLLIN, deadline);
		if (ret < 0) {
			snprintf(err, errlen, "waiting for %s: %s", c->path,
				 ret == -ETIMEDOUT ? "no reply within 10 seconds" : strerror(-ret));
			goto out;
		}
		n = vl_in_read(&c->in, c->fd);
		if (!c->answered && (n == 0 || n == -ECONNRESET)) {
			ret = -ECONNRESET;
			snprintf(err, errlen, "%s: the daemon hung up before answering (too many clients?)",
				 c->path);
			goto out;
		}
		if (n == 0) {
			ret = -ECONNRESET;
			snprintf(err, errlen, "%s: the daemon closed the connection", c->path);
			goto out;
		}
		if (n < 0 && n != -EAGAIN) {
			ret = (int)n;
			snprintf(err, errlen, "reading from %s: %s", c->path, strerror(-ret));
			goto out;
		}
	}
	ret = vl_reply_parse(text, len, reply, err, errlen);
	if (ret < 0) {
		char why[256];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "bad reply from %s: %s", c->path, why);
	} else if (reply->error && !strcmp(reply->error, VL_ERR_TOO_MANY_CLIENTS)) {
		struct json_object *m = NULL;

		json_object_object_get_ex(reply->params, "message", &m);
		snprintf(err, errlen, "too many clients: %s", m ? json_object_get_string(m) : "refused");
		vl_reply_free(reply);
		ret = -EBUSY;
	} else {
		c->answered = true;
	}
out:
	vl_out_free(&out);
	return ret < 0 ? ret : 0;
}
