/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The daemon's shape for tests of the loop's turn order: one loop, a
 * client connection on it (sv[0] the daemon's end, sv[1] the client's),
 * and a bulk timer; any failure to set them up ends the program.
 */
#ifndef SCX_AI_NUMA_LOOPFIX_H
#define SCX_AI_NUMA_LOOPFIX_H

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../daemon/loop.h"
#include "fixture.h"

static inline struct loop *loopfix_open(int sv[2], loop_cb on_client, void *arg)
{
	struct loop *l;

	if (loop_new(&l) || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || loop_add(l, sv[0], EPOLLIN, on_client, arg))
		fixture_bail("loopfix: loop and client socketpair: %s", strerror(errno));
	return l;
}

/* Removes @timer_fd (-1: none), frees the loop and closes both ends. */
static inline void loopfix_close(struct loop *l, int timer_fd, int sv[2])
{
	if (timer_fd >= 0) {
		loop_del(l, timer_fd);
		close(timer_fd);
	}
	loop_free(l);
	close(sv[0]);
	close(sv[1]);
}

#endif
