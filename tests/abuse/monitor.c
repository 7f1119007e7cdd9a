// SPDX-License-Identifier: GPL-2.0
/*
 * The counter monitor (--monitor MS): on a connection of its own, every MS
 * it asks Status, Stats and Status again. When both Status replies carry the
 * same attach_count and so did the previous sample, every counter (total and
 * per node) must be at least what it was: counters restart at zero only on
 * a re-attach. A compiled sampler, because a shell one with jq is too slow
 * to keep a one-second pace in an overloaded TCG guest.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <json-c/json.h>

#include "abuse.h"

#define MAX_COUNTERS	1024
#define NAME_LEN	48

struct counter {
	char name[NAME_LEN];
	int64_t v;
};

struct sample {
	struct counter c[MAX_COUNTERS];
	size_t n;
};

struct monitor_stats M;

static struct sample prev, cur;
static int64_t prev_attach = -1;
static unsigned int interval_ms;
static pthread_t tid;
static bool running;
static atomic_bool done;
static int fd = -1;
static struct vl_in in;

/* One call on the monitor's connection; 0 with @r filled, or -1. */
static int call(const char *method, struct vl_reply *r)
{
	uint64_t deadline = avail_us() + (uint64_t)C.patience_ms * 1000;
	size_t len;
	char *m = call_text(method, NULL, false, &len);
	ssize_t w;

	if (fd < 0) {
		fd = sock_connect();
		if (fd < 0) {
			free(m);
			return -1;
		}
		vl_in_init(&in, 4 * 1024 * 1024);
	}
	w = send(fd, m, len, MSG_NOSIGNAL);
	free(m);
	if (w != (ssize_t)len)
		goto drop;
	for (;;) {
		const char *msg;
		size_t mlen;
		char err[256];
		int ret = vl_in_next(&in, &msg, &mlen);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t now = avail_us();
		ssize_t n;

		if (ret == 1)
			return vl_reply_parse(msg, mlen, r, err, sizeof(err)) < 0 ? -1 : 0;
		if (ret < 0 || now >= deadline)
			goto drop;
		poll(&p, 1, (int)((deadline - now) / 1000) + 1);
		n = vl_in_read(&in, fd);
		if (n == 0 || (n < 0 && n != -EAGAIN))
			goto drop;
	}
drop:
	close(fd);
	fd = -1;
	vl_in_free(&in);
	return -1;
}

static int64_t attach_count(void)
{
	struct vl_reply r;
	int64_t v = -1;
	struct json_object *o;

	if (call("io.scx-ai-numa.Status", &r) < 0)
		return -1;
	if (!r.error && json_object_object_get_ex(r.params, "attach_count", &o) &&
	    json_object_is_type(o, json_type_int))
		v = json_object_get_int64(o);
	vl_reply_free(&r);
	return v;
}

static void add_counters(struct sample *s, const char *prefix, struct json_object *obj)
{
	if (!json_object_is_type(obj, json_type_object))
		return;
	json_object_object_foreach(obj, key, val) {
		if (s->n == MAX_COUNTERS || !json_object_is_type(val, json_type_int))
			continue;
		snprintf(s->c[s->n].name, NAME_LEN, "%s%s", prefix, key);
		s->c[s->n++].v = json_object_get_int64(val);
	}
}

static int read_stats(struct sample *s)
{
	struct json_object *nodes;
	struct vl_reply r;

	s->n = 0;
	if (call("io.scx-ai-numa.Stats", &r) < 0)
		return -1;
	if (r.error) {
		vl_reply_free(&r);
		return -1;
	}
	add_counters(s, "total.", json_object_object_get(r.params, "total"));
	nodes = json_object_object_get(r.params, "nodes");
	for (size_t i = 0; json_object_is_type(nodes, json_type_array) && i < json_object_array_length(nodes); i++) {
		struct json_object *n = json_object_array_get_idx(nodes, i);
		char prefix[32];

		snprintf(prefix, sizeof(prefix), "node%d.",
			 (int)json_object_get_int64(json_object_object_get(n, "node")));
		add_counters(s, prefix, json_object_object_get(n, "counters"));
	}
	vl_reply_free(&r);
	return 0;
}

/* Counters of @now below their value in @before (matched by name). */
static unsigned int compare(const struct sample *before, const struct sample *now)
{
	unsigned int drops = 0;

	for (size_t i = 0; i < now->n; i++) {
		for (size_t k = 0; k < before->n; k++) {
			if (strcmp(now->c[i].name, before->c[k].name))
				continue;
			if (now->c[i].v < before->c[k].v) {
				if (!drops && !M.first_drop[0])
					snprintf(M.first_drop, sizeof(M.first_drop), "%s %lld -> %lld", now->c[i].name,
						 (long long)before->c[k].v, (long long)now->c[i].v);
				fprintf(stderr, "ctl-abuse: monitor: %s dropped %lld -> %lld without a re-attach\n",
					now->c[i].name, (long long)before->c[k].v, (long long)now->c[i].v);
				drops++;
			}
			break;
		}
	}
	return drops;
}

static void sample_once(void)
{
	int64_t a1 = attach_count(), a2;

	if (a1 < 0 || read_stats(&cur) < 0) {
		M.errors++;
		return;
	}
	a2 = attach_count();
	M.samples++;
	if (a2 != a1) {
		/* Re-attached while we looked: this sample belongs to neither side. */
		M.skipped++;
		prev_attach = -1;
		return;
	}
	if (a1 == prev_attach) {
		M.compared++;
		if (compare(&prev, &cur))
			M.drops++;
	} else if (prev_attach >= 0) {
		M.reattach_gaps++;
	}
	M.last_attach = a1;
	prev = cur;
	prev_attach = a1;
}

static void *monitor_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&done)) {
		uint64_t t0 = mono_us(), spent;

		sample_once();
		spent = (mono_us() - t0) / 1000;
		if (spent < interval_ms) {
			struct timespec ts = { .tv_sec = (interval_ms - spent) / 1000,
					       .tv_nsec = (long)((interval_ms - spent) % 1000) * 1000000L };

			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

int monitor_start(unsigned int ms)
{
	int ret;

	interval_ms = ms;
	ret = pthread_create(&tid, NULL, monitor_main, NULL);
	if (ret)
		return -ret;
	running = true;
	return 0;
}

void monitor_stop(void)
{
	if (!running)
		return;
	atomic_store(&done, true);
	pthread_join(tid, NULL);
	running = false;
	if (fd >= 0)
		close(fd);
	fd = -1;
	vl_in_free(&in);
}
