/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The service manager's notification protocol (sd_notify), without
 * libsystemd: one datagram of newline-separated VAR=value assignments to the
 * AF_UNIX socket named by $NOTIFY_SOCKET ("/path", or "@name" for the
 * abstract namespace). Without $NOTIFY_SOCKET every call is a no-op, so the
 * daemon runs the same under systemd, in the test VM and in a terminal.
 */
#ifndef SCX_AI_NUMA_NOTIFY_H
#define SCX_AI_NUMA_NOTIFY_H

#include <stdint.h>

/* Longest message sent; ours are far shorter. */
#define NOTIFY_MSG_MAX	1024

/*
 * Send @msg ("READY=1\nSTATUS=..."). Returns 1 when sent, 0 when there is no
 * $NOTIFY_SOCKET, or -errno (-EINVAL: unusable address, -EAFNOSUPPORT: a
 * socket type we do not speak, such as vsock).
 */
int notify_send(const char *msg);
/* notify_send() of a formatted message; -EMSGSIZE if longer than NOTIFY_MSG_MAX. */
int notify_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * The watchdog interval the service manager expects pings within, from
 * $WATCHDOG_USEC; 0 when there is none, when it is malformed, or when
 * $WATCHDOG_PID names another process (the variables were inherited).
 */
uint64_t notify_watchdog_usec(void);

#endif
