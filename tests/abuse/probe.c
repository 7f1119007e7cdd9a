// SPDX-License-Identifier: GPL-2.0
/*
 * The well-behaved clients. The persistent probe holds one connection from
 * before the abuse starts (so the client cap never refuses it) and cycles
 * through every method, a good and a bad SetTunable among them, checking
 * each answer and timing it from the first byte sent to the last byte of
 * the reply. The fresh probe opens a new connection for every call: it
 * shows what a newcomer sees, refusals at the cap included.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <json-c/json.h>

#include "abuse.h"

#define FRESH_GAP_MS	100

struct probe_stats P;

struct conn {
	struct handler h;
	int fd;
	struct vl_in in;
	uint64_t sent_us;
	uint64_t next_ms;
};

/* The persistent probe's state belongs to its thread; the fresh probe's to the main loop. */
static struct conn pr = { .fd = -1 }, fr = { .fd = -1 };
static unsigned int step;
static uint64_t slice_ns;	/* what the probe last set; 0 before its first set */
static uint64_t probe_rng;	/* rnd() is the main thread's */
static pthread_t probe_tid;
static bool probe_running;
static atomic_bool probe_done;

static uint64_t probe_rnd_range(uint64_t lo, uint64_t hi)
{
	probe_rng ^= probe_rng >> 12;
	probe_rng ^= probe_rng << 25;
	probe_rng ^= probe_rng >> 27;
	return lo + probe_rng * 0x2545F4914F6CDD1DULL % (hi - lo + 1);
}

void lat_add(struct lat *l, uint64_t us)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4096;
		uint64_t *p = realloc(l->us, cap * sizeof(*p));

		if (!p)
			return;
		l->us = p;
		l->cap = cap;
	}
	l->us[l->n++] = us;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t lat_pct(struct lat *l, double pct)
{
	size_t i;

	if (!l->n)
		return 0;
	qsort(l->us, l->n, sizeof(*l->us), cmp_u64);
	i = (size_t)(pct / 100.0 * (double)(l->n - 1) + 0.5);
	return l->us[i < l->n ? i : l->n - 1];
}

__attribute__((format(printf, 1, 2)))
static void bad(const char *fmt, ...)
{
	va_list ap;

	P.bad++;
	va_start(ap, fmt);
	vsnprintf(P.last_bad, sizeof(P.last_bad), fmt, ap);
	va_end(ap);
	fprintf(stderr, "ctl-abuse: probe: %s\n", P.last_bad);
}

static void conn_drop(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	vl_in_free(&c->in);
}

static int send_all(int fd, const char *p, size_t n)
{
	/* Calls are a few dozen bytes: a fresh socket buffer always takes them. */
	ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);

	return w == (ssize_t)n ? 0 : -1;
}

static int64_t tunable_value(struct json_object *params)
{
	struct json_object *t = json_object_object_get(params, "tunable");

	return json_object_get_int64(json_object_object_get(t, "value"));
}

/* The probe's script: what to call at @s, and whether @r is the right answer. */
static char *step_call(unsigned int s, size_t *len)
{
	char params[128];

	switch (s) {
	case 0:
		return call_text("io.scx-ai-numa.Status", NULL, false, len);
	case 1:
		return call_text("io.scx-ai-numa.Stats", NULL, false, len);
	case 2:
		snprintf(params, sizeof(params), "{\"name\":\"slice_ns\",\"value\":\"%" PRIu64 "us\"}",
			 probe_rnd_range(1000, 10000));
		return call_text("io.scx-ai-numa.SetTunable", params, false, len);
	case 3:
	case 5:
		return call_text("io.scx-ai-numa.GetTunable", "{\"name\":\"slice_ns\"}", false, len);
	case 4:
		return call_text("io.scx-ai-numa.SetTunable", "{\"name\":\"slice_ns\",\"value\":\"-5\"}", false, len);
	case 6:
		return call_text("io.scx-ai-numa.ListTunables", NULL, false, len);
	case 7:
		return call_text("io.scx-ai-numa.Topology", NULL, false, len);
	default:
		return call_text("org.varlink.service.GetInfo", NULL, false, len);
	}
}
#define NR_STEPS	9

static bool has(struct json_object *o, const char *key, enum json_type t)
{
	return json_object_is_type(json_object_object_get(o, key), t);
}

static bool step_ok(unsigned int s, const struct vl_reply *r)
{
	const char *perm = "io.scx-ai-numa.PermissionDenied";

	switch (s) {
	case 0:
		return !r->error && has(r->params, "state", json_type_string);
	case 1:
		return !r->error && has(r->params, "nodes", json_type_array);
	case 2:
		if (!C.priv)
			return r->error && !strcmp(r->error, perm);
		if (r->error)
			return false;
		slice_ns = (uint64_t)tunable_value(r->params);
		return slice_ns >= 1000000 && slice_ns <= 10000000;
	case 3:
	case 5:
		/* A refused set in between must have changed nothing. */
		return !r->error && (!slice_ns || (uint64_t)tunable_value(r->params) == slice_ns);
	case 4:
		return r->error && !strcmp(r->error, C.priv ? VL_ERR_INVALID_VALUE : perm);
	case 6:
		return !r->error && has(r->params, "tunables", json_type_array);
	case 7:
		return !r->error && has(r->params, "nodes", json_type_array);
	default:
		return !r->error && has(r->params, "interfaces", json_type_array);
	}
}

static int conn_open(struct conn *c, void (*fn)(struct handler *, uint32_t))
{
	int fd = sock_connect();

	if (fd < 0)
		return fd;
	c->h.fn = fn;
	c->fd = fd;
	vl_in_init(&c->in, 4 * 1024 * 1024);
	if (fn && ep_add(fd, EPOLLIN | EPOLLRDHUP, &c->h) < 0) {
		conn_drop(c);
		return -EIO;
	}
	return 0;
}

/*
 * Read what is there; 1 and @r filled when a whole reply arrived, 0 if not
 * yet, -1 when the daemon hung up, -2 on a reply that is not varlink.
 */
static int conn_reply(struct conn *c, struct vl_reply *r)
{
	for (;;) {
		const char *msg;
		size_t len;
		char err[256];
		ssize_t n;
		int ret = vl_in_next(&c->in, &msg, &len);

		if (ret == 1) {
			if (vl_reply_parse(msg, len, r, err, sizeof(err)) < 0) {
				fprintf(stderr, "ctl-abuse: unparsable reply: %s\n", err);
				return -2;
			}
			return 1;
		}
		if (ret < 0)
			return -1;
		n = vl_in_read(&c->in, c->fd);
		if (n == -EAGAIN)
			return 0;
		if (n <= 0)
			return -1;
	}
}

/* One call of the script on the persistent connection, timed. */
static void probe_call(void)
{
	struct vl_reply r;
	size_t len;
	char *m = step_call(step, &len);
	uint64_t t0 = avail_us(), w0 = mono_us(), deadline = t0 + (uint64_t)C.patience_ms * 1000;
	int ret = -1;

	if (send_all(pr.fd, m, len) < 0) {
		bad("sending step %u: %s", step, strerror(errno));
		free(m);
		conn_drop(&pr);
		return;
	}
	free(m);
	for (;;) {
		struct pollfd p = { .fd = pr.fd, .events = POLLIN };
		uint64_t now = avail_us();

		ret = conn_reply(&pr, &r);
		if (ret != 0)
			break;
		if (now >= deadline) {
			P.timeouts++;
			bad("no reply within %u ms (step %u)", C.patience_ms, step);
			conn_drop(&pr);
			return;
		}
		poll(&p, 1, (int)((deadline - now) / 1000) + 1);
	}
	if (ret < 0) {
		bad(ret == -2 ? "step %u: a reply that is not varlink" : "the daemon hung up on the probe (step %u)",
		    step);
		conn_drop(&pr);
		return;
	}
	lat_add(&P.lat, avail_us() - t0);
	lat_add(&P.raw, mono_us() - w0);
	P.calls++;
	if (!step_ok(step, &r))
		bad("step %u: unexpected reply %s", step, r.error ? r.error : "(success)");
	vl_reply_free(&r);
	step = (step + 1) % NR_STEPS;
}

/*
 * Its own thread, so that what it measures is the daemon's delay and not
 * the time our own loop spends on the hostile clients.
 */
static void *probe_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&probe_done)) {
		struct timespec gap = { .tv_sec = C.probe_gap_ms / 1000, .tv_nsec = C.probe_gap_ms % 1000 * 1000000L };

		if (pr.fd < 0) {
			/* Lost: come back as soon as the cap lets us. */
			if (conn_open(&pr, NULL) < 0) {
				nanosleep(&gap, NULL);
				continue;
			}
			P.reconnects++;
		}
		probe_call();
		nanosleep(&gap, NULL);
	}
	return NULL;
}

int probe_start(void)
{
	int ret = conn_open(&pr, NULL);

	if (ret < 0)
		return ret;
	probe_rng = C.rng ^ 0x9E3779B97F4A7C15ULL;
	ret = pthread_create(&probe_tid, NULL, probe_main, NULL);
	if (ret) {
		conn_drop(&pr);
		return -ret;
	}
	probe_running = true;
	return 0;
}

void probe_stop(void)
{
	if (probe_running) {
		atomic_store(&probe_done, true);
		pthread_join(probe_tid, NULL);
		probe_running = false;
	}
	conn_drop(&pr);
	conn_drop(&fr);
}

void probe_free(void)
{
	free(P.lat.us);
	free(P.raw.us);
	free(P.fresh_lat.us);
	memset(&P.lat, 0, sizeof(P.lat));
	memset(&P.raw, 0, sizeof(P.raw));
	memset(&P.fresh_lat, 0, sizeof(P.fresh_lat));
}

static void on_fresh(struct handler *h, uint32_t events)
{
	struct vl_reply r;
	int ret;

	(void)h;
	(void)events;
	if (fr.fd < 0)
		return;
	ret = conn_reply(&fr, &r);
	if (ret == 0)
		return;
	if (ret == -2) {
		P.fresh_bad++;
	} else if (ret < 0) {
		/* Closed without a word: the cap refused us. */
		P.fresh_refused++;
	} else {
		if (r.error && !strcmp(r.error, VL_ERR_TOO_MANY_CLIENTS)) {
			P.fresh_refused++;
		} else {
			lat_add(&P.fresh_lat, avail_us() - fr.sent_us);
			if (r.error || !has(r.params, "state", json_type_string))
				P.fresh_bad++;
			else
				P.fresh_ok++;
		}
		vl_reply_free(&r);
	}
	conn_drop(&fr);
	fr.next_ms = C.now_ms + FRESH_GAP_MS;
}

void probe_fresh_tick(void)
{
	size_t len;
	char *m;
	uint64_t t0;

	if (fr.fd >= 0) {
		if (avail_us() - fr.sent_us > (uint64_t)C.patience_ms * 1000) {
			P.fresh_bad++;
			fprintf(stderr, "ctl-abuse: fresh probe: neither a reply nor a hangup within %u ms\n",
				C.patience_ms);
			conn_drop(&fr);
			fr.next_ms = C.now_ms + FRESH_GAP_MS;
		}
		return;
	}
	if (C.now_ms < fr.next_ms)
		return;
	t0 = avail_us();
	if (conn_open(&fr, on_fresh) < 0) {
		/* Backlog full: as good as refused. */
		P.fresh_refused++;
		fr.next_ms = C.now_ms + FRESH_GAP_MS;
		return;
	}
	m = call_text("io.scx-ai-numa.Status", NULL, false, &len);
	fr.sent_us = t0;
	if (send_all(fr.fd, m, len) < 0) {
		P.fresh_refused++;
		conn_drop(&fr);
		fr.next_ms = C.now_ms + FRESH_GAP_MS;
	}
	free(m);
}

void probe_fresh_cancel(void)
{
	conn_drop(&fr);
	fr.next_ms = C.now_ms + FRESH_GAP_MS;
}
