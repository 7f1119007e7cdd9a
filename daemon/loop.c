// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "loop.h"

/*
 * Callbacks are looked up by fd in a flat table: the daemon has a handful of
 * fds plus bounded control clients, so a linear scan is cheaper than any
 * index, and a callback may delete entries (even its own) while we iterate.
 *
 * Two classes of fd: timers start bulk work (migration, /proc passes, GPU
 * scans, stats), every other fd (clients, listeners, signals, the
 * scheduler's exit) is someone waiting. The waiting fds live in their own
 * epoll set, nested in the main one, so "is anyone waiting?" is one
 * zero-timeout epoll_wait: they are served before the timers of a round,
 * again between two timers, and a bulk job asks loop_should_yield() to hand
 * the loop back when someone waits or its slice is used up.
 */
struct watch {
	int fd;
	bool bulk;
	loop_cb cb;
	void *arg;
};

struct loop {
	int epfd;		/* bulk fds and prompt_fd */
	int prompt_fd;		/* the fds someone waits behind */
	struct watch *w;
	size_t nr, cap;
	uint64_t bulk_start_ns;	/* the running bulk callback began; 0: none runs */
	/* The longest callback since the last debug line about one (said at most once a second). */
	uint64_t longest_ns, said_ns;
	loop_cb longest_cb;
	int longest_fd;
	bool longest_bulk;
};

/* A callback this long keeps a client waiting noticeably: worth a debug line. */
#define SLOW_CB_NS	(50ULL * 1000000ULL)

/* The loop whose bulk callback runs now (the daemon has one loop, one thread). */
static struct loop *bulk_loop;

int loop_new(struct loop **out)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->prompt_fd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0 || l->prompt_fd < 0 ||
	    epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->prompt_fd,
		      &(struct epoll_event){ .events = EPOLLIN, .data.fd = l->prompt_fd }) < 0) {
		int err = -errno;

		if (l->epfd >= 0)
			close(l->epfd);
		if (l->prompt_fd >= 0)
			close(l->prompt_fd);
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
	if (bulk_loop == l)
		bulk_loop = NULL;
	close(l->prompt_fd);
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

static int set_of(const struct loop *l, bool bulk)
{
	return bulk ? l->epfd : l->prompt_fd;
}

static int add(struct loop *l, int fd, uint32_t events, bool bulk, loop_cb cb, void *arg)
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
	if (epoll_ctl(set_of(l, bulk), EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	l->w[l->nr++] = (struct watch){ fd, bulk, cb, arg };
	return 0;
}

int loop_add(struct loop *l, int fd, uint32_t events, loop_cb cb, void *arg)
{
	return add(l, fd, events, false, cb, arg);
}

int loop_mod(struct loop *l, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };
	struct watch *w = find(l, fd);

	if (!w)
		return -ENOENT;
	return epoll_ctl(set_of(l, w->bulk), EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

int loop_del(struct loop *l, int fd)
{
	struct watch *w = find(l, fd);

	if (!w)
		return -ENOENT;
	epoll_ctl(set_of(l, w->bulk), EPOLL_CTL_DEL, fd, NULL);
	*w = l->w[--l->nr];
	return 0;
}

static int run_ready(struct loop *l, int set, int timeout_ms);

/* Run @w's callback, and say at debug level which one kept the loop longest. */
static void run_timed(struct loop *l, const struct watch *w, uint32_t events)
{
	/* The callback may delete its own watch: keep what the debug line needs. */
	struct watch self = *w;
	uint64_t t0 = mono_ns(), t1;

	if (self.bulk)
		l->bulk_start_ns = t0;
	self.cb(self.arg, events);
	l->bulk_start_ns = 0;
	t1 = mono_ns();
	if (t1 - t0 > l->longest_ns) {
		l->longest_ns = t1 - t0;
		l->longest_cb = self.cb;
		l->longest_fd = self.fd;
		l->longest_bulk = self.bulk;
	}
	if (l->longest_ns >= SLOW_CB_NS && t1 - l->said_ns >= 1000000000ULL) {
		/* The address resolves with addr2line against the binary. */
		log_debug("loop: longest callback since the last such line: %llu ms, %s on fd %d (%p)",
			  (unsigned long long)(l->longest_ns / 1000000ULL),
			  l->longest_bulk ? "a timer" : "a waiting fd", l->longest_fd, (void *)l->longest_cb);
		l->said_ns = t1;
		l->longest_ns = 0;
	}
}

/* A failure here is the main set's too: loop_run_once() reports it. */
static void serve_waiting(struct loop *l)
{
	run_ready(l, l->prompt_fd, 0);
}

/* Run the callbacks of the fds ready now in @set; one round, so a flood cannot starve the timers. */
static int run_ready(struct loop *l, int set, int timeout_ms)
{
	struct epoll_event ev[32];
	int n;

	n = epoll_wait(set, ev, 32, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		struct watch *w;

		/* Waiting fds are served by serve_waiting(), before and between bulk work. */
		if (ev[i].data.fd == l->prompt_fd) {
			serve_waiting(l);
			continue;
		}
		/* An earlier callback of this round may have removed this fd. */
		w = find(l, ev[i].data.fd);
		if (!w)
			continue;
		if (w->bulk) {
			serve_waiting(l);
			w = find(l, ev[i].data.fd);
			if (!w)
				continue;
			bulk_loop = l;
		}
		run_timed(l, w, ev[i].events);
	}
	return 0;
}

int loop_run_once(struct loop *l, int timeout_ms)
{
	return run_ready(l, l->epfd, timeout_ms);
}

bool loop_should_yield(void)
{
	struct loop *l = bulk_loop;
	struct epoll_event ev;

	if (!l || !l->bulk_start_ns)
		return false;
	if (mono_ns() - l->bulk_start_ns >= LOOP_BULK_SLICE_NS)
		return true;
	/* Level-triggered: looking does not consume the readiness. */
	return epoll_wait(l->prompt_fd, &ev, 1, 0) > 0;
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
	err = add(l, fd, EPOLLIN, true, cb, arg);
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
