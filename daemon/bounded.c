// SPDX-License-Identifier: GPL-2.0
/*
 * run_bounded(): see bounded.h. The waiter and the thread share a small
 * record; whichever of them is done with it last frees it, so a waiter that
 * gave up leaves nothing behind that the thread still needs.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "bounded.h"
#include "clock.h"

struct bounded {
	void (*fn)(void *);
	void *arg;
	int fd[2];	/* the thread writes a byte to [1] once fn returned */
	int refs;
};

static void put(struct bounded *b)
{
	if (__atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL))
		return;
	close(b->fd[0]);
	close(b->fd[1]);
	free(b);
}

static void *runner(void *p)
{
	struct bounded *b = p;
	char c = 1;
	ssize_t n;

	b->fn(b->arg);
	/* One byte never fills a pipe, and a waiter that gave up reads nothing: the result does not matter. */
	n = write(b->fd[1], &c, 1);
	(void)n;
	put(b);
	return NULL;
}

int run_bounded(void (*fn)(void *), void *arg, unsigned int timeout_ms)
{
	uint64_t deadline = mono_ns() + (uint64_t)timeout_ms * 1000000ULL;
	struct bounded *b = calloc(1, sizeof(*b));
	pthread_attr_t attr;
	pthread_t t;
	int ret;

	if (!b)
		return -ENOMEM;
	if (pipe2(b->fd, O_CLOEXEC) < 0) {
		ret = -errno;
		free(b);
		return ret;
	}
	b->fn = fn;
	b->arg = arg;
	b->refs = 2;
	ret = pthread_attr_init(&attr);
	if (!ret) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		ret = pthread_create(&t, &attr, runner, b);
		pthread_attr_destroy(&attr);
	}
	if (ret) {
		b->refs = 1;
		put(b);
		return -ret;
	}
	for (;;) {
		struct pollfd pfd = { .fd = b->fd[0], .events = POLLIN };
		uint64_t now = mono_ns();
		int n;

		if (now >= deadline) {
			ret = -ETIMEDOUT;
			break;
		}
		n = poll(&pfd, 1, (int)((deadline - now + 999999) / 1000000));
		if (n > 0) {
			ret = 0;
			break;
		}
		if (n < 0 && errno != EINTR) {
			/* Cannot tell when it ends: it has not ended as far as we know. */
			ret = -ETIMEDOUT;
			break;
		}
	}
	put(b);
	return ret;
}
