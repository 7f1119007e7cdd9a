// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"

/*
 * How long a send may wait for room in the manager's queue. The manager
 * drains it promptly; the cap only keeps a wedged manager from stopping
 * the event loop for good.
 */
#define NOTIFY_SEND_TIMEOUT_MS	1000

static int notify_addr(const char *name, struct sockaddr_un *sa, socklen_t *len)
{
	size_t n = strlen(name);

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (name[0] == '@') {
		/* Abstract: a leading NUL, and the length counts the name only, no terminator. */
		if (n < 2 || n > sizeof(sa->sun_path))
			return -EINVAL;
		memcpy(sa->sun_path + 1, name + 1, n - 1);
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
		return 0;
	}
	if (name[0] != '/')
		return strchr(name, ':') ? -EAFNOSUPPORT : -EINVAL;
	if (n >= sizeof(sa->sun_path))
		return -EINVAL;
	memcpy(sa->sun_path, name, n);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	return 0;
}

int notify_send(const char *msg)
{
	const char *name = getenv("NOTIFY_SOCKET");
	struct timeval tv = {
		.tv_sec = NOTIFY_SEND_TIMEOUT_MS / 1000,
		.tv_usec = (NOTIFY_SEND_TIMEOUT_MS % 1000) * 1000,
	};
	struct sockaddr_un sa;
	socklen_t len;
	ssize_t n;
	int fd, ret;

	if (!name || !*name)
		return 0;
	ret = notify_addr(name, &sa, &len);
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	do
		n = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa, len);
	while (n < 0 && errno == EINTR);
	ret = n < 0 ? -errno : 1;
	close(fd);
	return ret;
}

int notify_printf(const char *fmt, ...)
{
	char msg[NOTIFY_MSG_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return -EMSGSIZE;
	return notify_send(msg);
}

/* A whole positive decimal, nothing else; 0 if malformed. */
static unsigned long long env_uint(const char *name)
{
	const char *s = getenv(name);
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return 0;
	return v;
}

uint64_t notify_watchdog_usec(void)
{
	uint64_t usec = env_uint("WATCHDOG_USEC");

	if (getenv("WATCHDOG_PID") && env_uint("WATCHDOG_PID") != (unsigned long long)getpid())
		return 0;
	return usec;
}
