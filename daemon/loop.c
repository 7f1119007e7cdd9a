// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"

/*
 * Callbacks are looked up by fd in a flat table: the daemon has a handful of
 * fds plus bounded control clients, so a linear scan is cheaper than any
 * index, and a callback may delete entries (even its own) while we iterate.
 */
struct watch {
	int fd;
	loop_cb cb;
	void *arg;
};

struct loop {
	int epfd;
	struct watch *w;
	size_t nr, cap;
};

int loop_new(struct loop **out)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int err = -errno;

		free(l);
		return err;
	}
	*out = l;
	return 0;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	close(l->epfd);
	free(l->w);
	free(l);
}

static struct watch *find(struct loop *l, int fd)
{
	for (size_t i = 0; i < l->nr; i++)
		if (l->w[i].fd == fd)
			return &l->w[i];
	return NULL;
}

int loop_add(struct loop *l, int fd, uint32_t events, loop_cb cb, void *arg)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	if (l->nr == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct watch *w = realloc(l->w, cap * sizeof(*w));

		if (!w)
			return -ENOMEM;
		l->w = w;
		l->cap = cap;
	}
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	l->w[l->nr++] = (struct watch){ fd, cb, arg };
	return 0;
}

int loop_mod(struct loop *l, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

int loop_del(struct loop *l, int fd)
{
	struct watch *w = find(l, fd);

	if (!w)
		return -ENOENT;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	*w = l->w[--l->nr];
	return 0;
}

int loop_run_once(struct loop *l, int timeout_ms)
{
	struct epoll_event ev[32];
	int n;

	n = epoll_wait(l->epfd, ev, 32, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		/* An earlier callback of this round may have removed this fd. */
		struct watch *w = find(l, ev[i].data.fd);

		if (w)
			w->cb(w->arg, ev[i].events);
	}
	return 0;
}

int loop_timer_set(int fd, uint64_t ms, uint64_t period_ms)
{
	struct itimerspec its = {
		.it_interval = { period_ms / 1000, (period_ms % 1000) * 1000000 },
		.it_value = { ms / 1000, (ms % 1000) * 1000000 },
	};

	return timerfd_settime(fd, 0, &its, NULL) < 0 ? -errno : 0;
}

int loop_add_timer(struct loop *l, uint64_t period_ms, loop_cb cb, void *arg)
{
	int fd, err;

	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = loop_timer_set(fd, period_ms, period_ms);
	if (err) {
		close(fd);
		return err;
	}
	err = loop_add(l, fd, EPOLLIN, cb, arg);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

uint64_t loop_timer_drain(int fd)
{
	uint64_t n = 0;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}
