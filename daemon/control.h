/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Control socket: a Unix stream socket speaking the varlink wire format.
 * Knows nothing of BPF: methods call into daemon.h's functions.
 */
#ifndef SCX_AI_NUMA_CONTROL_H
#define SCX_AI_NUMA_CONTROL_H

#include <stddef.h>

struct daemon;

/*
 * Create the socket (mode 0660, parent dir created 0755, refused unless it is
 * a real directory of ours that nobody else may write) and register it with d->loop.
 */
int control_open(struct daemon *d, char *err, size_t errlen);
/*
 * Before the scheduler is attached: the checks control_open() makes of the
 * socket's directory (creating it if missing), so a directory that would be
 * refused stops the daemon before it touches the scheduler. 0 or -errno.
 */
int control_preflight(const char *path, char *err, size_t errlen);
/* Close the socket and every client; unlink the socket path. */
void control_close(struct daemon *d);
/* Called by the daemon's stats timer: push a sample to every streaming (more) client, close idle ones. */
void control_stats_tick(struct daemon *d);

#endif
