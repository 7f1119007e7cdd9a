/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The daemon's single event loop: one epoll set, one callback per fd.
 * Everything the daemon does (signals, timers, the scheduler's exit, the
 * control socket and its clients) is an fd here, so nothing ever blocks.
 * Timers start bulk work; every other fd is someone waiting, and is served
 * first: before the timers of a round and between two of them.
 */
#ifndef SCX_AI_NUMA_LOOP_H
#define SCX_AI_NUMA_LOOP_H

#include <stdbool.h>
#include <stdint.h>

/* How long a bulk callback (a timer's) may run before it should hand the loop back. */
#define LOOP_BULK_SLICE_NS	(20ULL * 1000000ULL)

struct loop;
typedef void (*loop_cb)(void *arg, uint32_t events);

int loop_new(struct loop **out);
void loop_free(struct loop *l);
int loop_add(struct loop *l, int fd, uint32_t events, loop_cb cb, void *arg);
int loop_mod(struct loop *l, int fd, uint32_t events);
int loop_del(struct loop *l, int fd);
/* Wait up to @timeout_ms and run ready callbacks. Returns 0 or -errno. */
int loop_run_once(struct loop *l, int timeout_ms);

/*
 * For a timer's callback doing bulk work in steps: true when a waiting fd
 * (a client's request) is ready or the callback has run LOOP_BULK_SLICE_NS.
 * The job then stops and goes on at its next tick. False outside a timer's
 * callback.
 */
bool loop_should_yield(void);

/* A periodic timerfd (bulk work); returns the fd (to loop_del/close) or -errno. */
int loop_add_timer(struct loop *l, uint64_t period_ms, loop_cb cb, void *arg);
/* Re-arm a timer fd: first expiry after @ms (0 disarms), then every @period_ms (0: once). */
int loop_timer_set(int fd, uint64_t ms, uint64_t period_ms);
/* Consume a timerfd's expirations; returns how many, 0 if none. */
uint64_t loop_timer_drain(int fd);

#endif
