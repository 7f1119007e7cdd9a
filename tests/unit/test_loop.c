// SPDX-License-Identifier: GPL-2.0
/*
 * The event loop serves a waiting client promptly whatever bulk work its
 * timers have: before the next timer of a round, and within a slice of a
 * job that asks loop_should_yield().
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../daemon/clock.h"
#include "../../daemon/loop.h"
#include "check.h"
#include "loopfix.h"

struct world {
	int fd;			/* the daemon's end of the client connection */
	int peer;		/* the client's end: writing here is a request */
	bool asked;
	uint64_t asked_ns, answered_ns;
	int order, client_at, jobs_run;
	bool yielded_in_client;
};

static void ask(struct world *w)
{
	if (w->asked)
		return;
	w->asked = true;
	w->asked_ns = mono_ns();
	if (write(w->peer, "?", 1) != 1)
		perror("write");
}

static void on_client(void *arg, uint32_t events)
{
	struct world *w = arg;
	char c;

	(void)events;
	if (read(w->fd, &c, 1) == 1) {
		w->answered_ns = mono_ns();
		w->client_at = ++w->order;
		w->yielded_in_client = loop_should_yield();
	}
}

/* A loop with one client connection on it. */
static struct loop *world_open(struct world *w, int sv[2])
{
	struct loop *l = loopfix_open(sv, on_client, w);

	w->fd = sv[0];
	w->peer = sv[1];
	return l;
}

/* Round order: two timers due together, the first of them brings a request. */
struct once {
	struct world *w;
	int fd;
	int ran_at;
};

static void on_once(void *arg, uint32_t events)
{
	struct once *o = arg;

	(void)events;
	loop_timer_drain(o->fd);
	loop_timer_set(o->fd, 0, 0);
	o->ran_at = ++o->w->order;
	o->w->jobs_run++;
	ask(o->w);
	fixture_spin(100 * 1000000ULL);
}

static void test_between_timers(void)
{
	struct world w = { 0 };
	struct once a = { .w = &w }, b = { .w = &w };
	int sv[2];
	struct loop *l = world_open(&w, sv);
	uint64_t t0;

	a.fd = loop_add_timer(l, 1, on_once, &a);
	b.fd = loop_add_timer(l, 1, on_once, &b);
	usleep(20000);	/* both due in the same round */
	t0 = mono_ns();
	while ((!w.client_at || w.jobs_run < 2) && mono_ns() - t0 < 3000000000ULL)
		loop_run_once(l, 100);
	CHECK(w.jobs_run == 2 && w.client_at == 2,
	      "a request arriving during a timer's job is served before the next timer due in the same round "
	      "(order: client %d of 3)", w.client_at);
	loop_del(l, a.fd);
	close(a.fd);
	loopfix_close(l, b.fd, sv);
}

/* A job wanting 2 s of CPU, in 1 ms steps, that stops when the loop says so. */
struct bulk {
	struct world *w;
	int fd;
	long left_ms;
	bool bring_request;
	uint64_t first_turn_ns;
	int turns;
};

static void on_bulk(void *arg, uint32_t events)
{
	struct bulk *b = arg;
	uint64_t t = mono_ns();

	(void)events;
	loop_timer_drain(b->fd);
	while (b->left_ms > 0 && !loop_should_yield()) {
		/* Halfway through the job, a client asks. */
		if (b->bring_request && b->left_ms == 1000)
			ask(b->w);
		fixture_spin(1000000ULL);
		b->left_ms--;
	}
	if (!b->turns++)
		b->first_turn_ns = mono_ns() - t;
}

static void test_yield(void)
{
	struct world w = { 0 };
	struct bulk b = { .w = &w, .left_ms = 2000, .bring_request = true };
	int sv[2];
	struct loop *l = world_open(&w, sv);
	uint64_t t0, ms;

	b.fd = loop_add_timer(l, 1, on_bulk, &b);
	t0 = mono_ns();
	while (!w.answered_ns && mono_ns() - t0 < 5000000000ULL)
		loop_run_once(l, 100);
	ms = w.answered_ns ? (w.answered_ns - w.asked_ns) / 1000000ULL : 99999;
	CHECK(w.answered_ns && ms < 100,
	      "a request in the middle of a job that wants 2 s of work is answered within 100 ms (took %llu ms)",
	      (unsigned long long)ms);
	CHECK(b.first_turn_ns >= LOOP_BULK_SLICE_NS,
	      "with nobody waiting a job runs its whole slice (%llu ms of %llu)",
	      (unsigned long long)(b.first_turn_ns / 1000000ULL),
	      (unsigned long long)(LOOP_BULK_SLICE_NS / 1000000ULL));
	CHECK(!w.yielded_in_client, "outside a timer's callback nothing has to yield");
	b.bring_request = false;
	while (b.left_ms > 0 && mono_ns() - t0 < 10000000000ULL)
		loop_run_once(l, 100);
	CHECK(b.left_ms == 0, "the job's work still all gets done, a slice a tick (%ld ms left)", b.left_ms);
	loopfix_close(l, b.fd, sv);
}

int main(void)
{
	test_between_timers();
	test_yield();
	return check_done();
}
