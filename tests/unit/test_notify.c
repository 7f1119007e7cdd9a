// SPDX-License-Identifier: GPL-2.0
/*
 * sd_notify without libsystemd: messages arrive intact at a test
 * $NOTIFY_SOCKET (a path, and the abstract namespace with '@'), a missing
 * socket is a no-op, unusable addresses are refused, and the watchdog
 * interval is honoured only when it is meant for this process.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"
#include "notify.h"

static char dir[] = "/tmp/test_notify.XXXXXX";

/* A datagram socket bound at @name ("/path" or "@abstract"), with a receive timeout. */
static int listener(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 2 };
	socklen_t len;
	int fd;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		check_bail("socket: %s", strerror(errno));
	if (name[0] == '@') {
		memcpy(sa.sun_path + 1, name + 1, strlen(name) - 1);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name));
	} else {
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", name);
		len = sizeof(sa);
	}
	if (bind(fd, (struct sockaddr *)&sa, len) < 0)
		check_bail("bind %s: %s", name, strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* The next datagram as a string; "" on timeout. */
static const char *recv_msg(int fd)
{
	static char buf[2048];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void test_no_socket(void)
{
	unsetenv("NOTIFY_SOCKET");
	CHECK_INT(notify_send("READY=1"), 0, "without $NOTIFY_SOCKET notify_send is a no-op");
	setenv("NOTIFY_SOCKET", "", 1);
	CHECK_INT(notify_send("READY=1"), 0, "an empty $NOTIFY_SOCKET is a no-op");
}

static void test_path(void)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = listener(path);
	setenv("NOTIFY_SOCKET", path, 1);
	CHECK_INT(notify_send("READY=1\nSTATUS=scheduling on 2 nodes, 0 restarts"), 1, "sent to a path socket");
	CHECK(!strcmp(recv_msg(fd), "READY=1\nSTATUS=scheduling on 2 nodes, 0 restarts"),
	      "the datagram holds exactly the message");
	CHECK_INT(notify_printf("STATUS=%s, %u restarts", "running", 3u), 1, "notify_printf sends");
	CHECK(!strcmp(recv_msg(fd), "STATUS=running, 3 restarts"), "notify_printf formats");
	CHECK_INT(notify_send("WATCHDOG=1"), 1, "a watchdog ping is sent");
	CHECK(!strcmp(recv_msg(fd), "WATCHDOG=1"), "each message is its own datagram");
	{
		char big[NOTIFY_MSG_MAX + 10];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		CHECK_INT(notify_printf("STATUS=%s", big), -EMSGSIZE, "an oversized message is refused, not cut");
	}
	close(fd);
	unlink(path);
	CHECK(notify_send("READY=1") < 0, "nobody listening is an error, not a hang");
}

static void test_abstract(void)
{
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "@scx-ai-numa-test-notify-%d", (int)getpid());
	fd = listener(name);
	setenv("NOTIFY_SOCKET", name, 1);
	CHECK_INT(notify_send("READY=1"), 1, "sent to an abstract socket");
	CHECK(!strcmp(recv_msg(fd), "READY=1"), "abstract socket: message received");
	close(fd);
}

static void test_bad_addresses(void)
{
	char longpath[200];

	setenv("NOTIFY_SOCKET", "relative/notify", 1);
	CHECK_INT(notify_send("READY=1"), -EINVAL, "a relative path is refused");
	setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
	CHECK_INT(notify_send("READY=1"), -EAFNOSUPPORT, "vsock is not spoken");
	setenv("NOTIFY_SOCKET", "@", 1);
	CHECK_INT(notify_send("READY=1"), -EINVAL, "an empty abstract name is refused");
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longpath, 1);
	CHECK_INT(notify_send("READY=1"), -EINVAL, "a path longer than sun_path is refused");
	unsetenv("NOTIFY_SOCKET");
}

static void test_watchdog(void)
{
	char pid[32], other[32];

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	snprintf(other, sizeof(other), "%d", (int)getpid() + 1);

	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	CHECK_INT(notify_watchdog_usec(), 0, "no WATCHDOG_USEC: no watchdog");
	setenv("WATCHDOG_USEC", "30000000", 1);
	CHECK_INT(notify_watchdog_usec(), 30000000, "WATCHDOG_USEC without WATCHDOG_PID is ours");
	setenv("WATCHDOG_PID", pid, 1);
	CHECK_INT(notify_watchdog_usec(), 30000000, "WATCHDOG_PID naming us: honoured");
	setenv("WATCHDOG_PID", other, 1);
	CHECK_INT(notify_watchdog_usec(), 0, "WATCHDOG_PID naming another process: ignored");
	setenv("WATCHDOG_PID", "12ab", 1);
	CHECK_INT(notify_watchdog_usec(), 0, "malformed WATCHDOG_PID: ignored");
	unsetenv("WATCHDOG_PID");
	setenv("WATCHDOG_USEC", "30s", 1);
	CHECK_INT(notify_watchdog_usec(), 0, "malformed WATCHDOG_USEC: no watchdog");
	setenv("WATCHDOG_USEC", "-5", 1);
	CHECK_INT(notify_watchdog_usec(), 0, "negative WATCHDOG_USEC: no watchdog");
	setenv("WATCHDOG_USEC", "99999999999999999999999", 1);
	CHECK_INT(notify_watchdog_usec(), 0, "overflowing WATCHDOG_USEC: no watchdog");
	setenv("WATCHDOG_USEC", "0", 1);
	CHECK_INT(notify_watchdog_usec(), 0, "WATCHDOG_USEC=0: no watchdog");
	unsetenv("WATCHDOG_USEC");
}

int main(void)
{
	if (!mkdtemp(dir))
		check_bail("mkdtemp: %s", strerror(errno));
	test_no_socket();
	test_path();
	test_abstract();
	test_bad_addresses();
	test_watchdog();
	rmdir(dir);
	return check_done();
}
