/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Listening Unix sockets the daemon owns (the control socket, the scx_stats
 * endpoint): the directory checks, taking over a stale socket file, and the
 * bind with the file's final mode. Every message starts with @what, the
 * caller's name for the socket ("control", "scx_stats").
 */
#ifndef SCX_AI_NUMA_SOCKFILE_H
#define SCX_AI_NUMA_SOCKFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* sun_path's size: a path is at most one byte shorter. */
#define SOCKFILE_PATH_SIZE	108

/*
 * Create @path's directory if missing (0755) and open it. It must be a real
 * directory owned by us that neither group nor others may write: whoever
 * may rename entries in it could swap the socket for their own. Returns the
 * directory's fd or -errno with @err set.
 */
int sockfile_open_parent(const char *what, const char *path, char *err, size_t errlen);

/*
 * Bind and listen on @path, a socket file of mode 0666 & ~@umask_bits,
 * group @gid unless it is (gid_t)-1. A stale socket file (nobody listening)
 * is replaced; a live one or any other file is refused. Returns a
 * non-blocking, close-on-exec listening fd or -errno with @err set.
 */
int sockfile_listen(const char *what, const char *path, mode_t umask_bits, gid_t gid, char *err, size_t errlen);

/*
 * Accept what is pending on listening @lfd, at most a batch so a connect
 * storm cannot hold the loop, handing each non-blocking fd to @add with
 * @arg. Returns true when out of file descriptors (logged): the caller
 * takes the level-triggered listener off the loop until a client leaves,
 * or it would spin.
 */
bool sockfile_accept(const char *what, int lfd, int (*add)(void *arg, int fd), void *arg);

#endif
