// SPDX-License-Identifier: GPL-2.0
/*
 * The hostile population: a fixed number of slots, each running one client
 * of a randomly chosen kind and starting another when it ends. Every client
 * knows what the daemon owes it (an answer, a hangup, or silence) and ends
 * with an outcome saying whether it got that; the main loop turns the tally
 * into checks. Refusals at the client cap are expected, never failures.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <json-c/json.h>

#include "abuse.h"
#include "../../daemon/control-internal.h"

/* Largest reply we accept; the daemon's biggest is a few KiB. */
#define REPLY_MAX	(1024 * 1024)

struct client {
	struct handler h;	/* first: the epoll data pointer */
	int fd;			/* -1: slot idle */
	enum kind kind;
	bool reads;		/* reads and judges replies */
	bool hangup_after_send;
	bool send_failed;	/* EPIPE/ECONNRESET: the daemon closed on us */
	bool eof_expected;	/* the daemon must hang up after its error reply */
	const char *tx;
	size_t txlen, txoff;
	size_t expect;		/* replies after which we are done; 0: none awaited */
	size_t replies;
	const char *want_error;	/* every reply must be this error (NULL: see kind) */
	uint64_t deadline_ms;
	uint64_t respawn_ms;
	uint32_t events;
	struct vl_in in;
};

static struct client *slots;
static unsigned int nr_slots;

/* Shared payloads, built once: every client of a kind sends the same bytes. */
static char *garbage, *garbage_nul, *flood, *pipeline, *big_ok, *big_over, *stream_call, *half_call,
	*hangup_call;
static size_t garbage_len, garbage_nul_msgs, flood_len, pipeline_len, big_ok_len, big_over_len, stream_len, half_len,
	hangup_len;

static const unsigned int weight[NR_KINDS] = {
	[K_SLEEPER] = 3, [K_STREAM_NOREAD] = 2, [K_FLOOD_NOREAD] = 2, [K_GARBAGE] = 2,
	[K_GARBAGE_NUL] = 2, [K_BIG_JSON] = 1, [K_HALF] = 2, [K_CALL_HANGUP] = 2,
	[K_STORM] = 3, [K_PIPELINER] = 1,
};

static const char *const kind_names[NR_KINDS] = {
	"sleeper", "stream-noread", "flood-noread", "garbage-1MiB", "garbage-nul",
	"big-json", "half-message", "call-hangup", "connect-storm", "pipeliner",
};

static const char *const outcome_names[NR_OUTCOMES] = {
	"ok", "refused", "connect-eagain", "aborted", "HUNG", "DROPPED", "WRONG",
};

const char *kind_name(enum kind k)
{
	return kind_names[k];
}

const char *outcome_name(enum outcome o)
{
	return outcome_names[o];
}

bool outcome_is_failure(enum outcome o)
{
	return o == O_HUNG || o == O_DROPPED || o == O_WRONG;
}

static char *xmalloc(size_t n)
{
	char *p = malloc(n);

	if (!p) {
		fprintf(stderr, "ctl-abuse: out of memory\n");
		exit(2);
	}
	return p;
}

/* @n calls from @make(i) concatenated. */
static char *concat_calls(size_t n, char *(*make)(size_t i, size_t *len), size_t *total)
{
	size_t cap = 4096, len = 0;
	char *buf = xmalloc(cap);

	for (size_t i = 0; i < n; i++) {
		size_t l;
		char *m = make(i, &l);

		while (len + l > cap)
			cap *= 2;
		buf = realloc(buf, cap);
		if (!buf)
			exit(2);
		memcpy(buf + len, m, l);
		len += l;
		free(m);
	}
	*total = len;
	return buf;
}

/* The pipeliner's calls cycle through four answers it can tell apart. */
static char *pipeline_call(size_t i, size_t *len)
{
	switch (i % 4) {
	case 0:
		return call_text(VL_IFACE ".Status", NULL, false, len);
	case 1:
		return call_text(VL_IFACE ".ListTunables", NULL, false, len);
	case 2:
		return call_text(VL_IFACE ".GetTunable", "{\"name\":\"no_such_tunable\"}", false, len);
	default:
		return call_text(VL_IFACE ".Topology", NULL, false, len);
	}
}

static char *flood_call(size_t i, size_t *len)
{
	(void)i;
	return call_text(VL_SERVICE ".GetInterfaceDescription", "{\"interface\":\"" VL_IFACE "\"}", false, len);
}

/* A Status call with one unknown string parameter making the text @total bytes long. */
static char *big_call(size_t total, size_t *len)
{
	const char *head = "{\"method\":\"" VL_IFACE ".Status\",\"parameters\":{\"x\":\"";
	const char *tail = "\"}}";
	size_t hl = strlen(head), tl = strlen(tail), fill = total - hl - tl;
	char *p = xmalloc(total + 1);

	memcpy(p, head, hl);
	memset(p + hl, 'A', fill);
	memcpy(p + hl + fill, tail, tl);
	p[total] = '\0';
	*len = total + 1;
	return p;
}

void clients_init(unsigned int n)
{
	size_t gb = C.garbage_bytes < 2 ? 2 : C.garbage_bytes;

	C.garbage_bytes = gb;
	/* Without a NUL, garbage only proves something once it is over the message cap. */
	garbage_len = gb > CTL_MAX_MSG + 4096 ? gb : CTL_MAX_MSG + 4096;
	garbage = xmalloc(garbage_len);
	for (size_t i = 0; i < garbage_len; i++)
		garbage[i] = (char)rnd_range(1, 255);
	garbage_nul = xmalloc(gb);
	for (size_t i = 0; i < gb; i++)
		/* About one NUL in 256 bytes: thousands of short junk messages. */
		garbage_nul[i] = rnd() % 256 ? (char)rnd_range(1, 255) : '\0';
	garbage_nul[gb - 1] = '\0';
	garbage_nul_msgs = 0;
	for (size_t i = 0; i < gb; i++)
		garbage_nul_msgs += !garbage_nul[i];
	pipeline = concat_calls(C.pipeline_calls, pipeline_call, &pipeline_len);
	flood = concat_calls(C.pipeline_calls * 3 / 4 + 1, flood_call, &flood_len);
	big_ok = big_call(CTL_MAX_MSG - 100, &big_ok_len);
	big_over = big_call(CTL_MAX_MSG + 100, &big_over_len);
	stream_call = call_text(VL_IFACE ".Stats", NULL, true, &stream_len);
	half_call = call_text(VL_IFACE ".Status", NULL, false, &half_len);
	hangup_call = call_text(VL_IFACE ".Topology", NULL, false, &hangup_len);

	nr_slots = n;
	slots = calloc(n ? n : 1, sizeof(*slots));
	if (!slots)
		exit(2);
	for (unsigned int i = 0; i < n; i++) {
		slots[i].fd = -1;
		/* Staggered, so the first wave is not one synchronised burst. */
		slots[i].respawn_ms = C.now_ms + rnd_range(0, 200);
	}
}

void clients_free(void)
{
	clients_close_all();
	free(slots);
	slots = NULL;
	free(garbage);
	free(garbage_nul);
	free(flood);
	free(pipeline);
	free(big_ok);
	free(big_over);
	free(stream_call);
	free(half_call);
	free(hangup_call);
}

unsigned int clients_active(void)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < nr_slots; i++)
		n += slots[i].fd >= 0;
	return n;
}

static void finish(struct client *c, enum outcome o, const char *why)
{
	C.outcome[c->kind][o]++;
	if (outcome_is_failure(o) || (C.verbose && o != O_OK))
		fprintf(stderr, "ctl-abuse: %s client: %s%s%s (%zu of %zu replies)\n", kind_names[c->kind],
			outcome_names[o], why ? ": " : "", why ? why : "", c->replies, c->expect);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	vl_in_free(&c->in);
	c->respawn_ms = C.now_ms + rnd_range(0, C.respawn_ms);
}

/*
 * A client owed an answer is hung when the daemon makes no progress on it
 * (takes none of its bytes, sends no reply) for the patience: a total
 * deadline would instead measure how busy the daemon is with everyone else.
 */
static void progress(struct client *c)
{
	if (c->reads || c->hangup_after_send)
		c->deadline_ms = C.now_ms + C.patience_ms;
}

static void set_events(struct client *c)
{
	uint32_t want = EPOLLRDHUP;

	if (c->reads)
		want |= EPOLLIN;
	if (c->txoff < c->txlen && !c->send_failed)
		want |= EPOLLOUT;
	if (want != c->events && ep_mod(c->fd, want, &c->h) == 0)
		c->events = want;
}

/* Did the daemon send anything before it hung up? Tells a refusal from a drop. */
static bool has_data(int fd)
{
	char b;

	return recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

/* A client that does not read learned that the daemon hung up. */
static void closed_noread(struct client *c)
{
	bool data = has_data(c->fd);

	if (!data || refused_at_door(c->fd))
		finish(c, O_REFUSED, NULL);
	else if (c->kind == K_SLEEPER)
		finish(c, O_WRONG, "the daemon sent something nobody asked for");
	else
		finish(c, O_DROPPED, "a client that only stopped reading was disconnected");
}

/* The daemon hung up on a reading client (EOF or ECONNRESET after the data). */
static void closed_reading(struct client *c)
{
	if (!c->replies)
		finish(c, O_REFUSED, NULL);
	else if (c->eof_expected && c->replies == 1)
		finish(c, O_OK, NULL);
	else
		finish(c, O_DROPPED, "hung up before answering everything");
}

/* Does reply number @i (0-based) of this client keep the protocol's promise? */
static bool reply_ok(struct client *c, const struct vl_reply *r, size_t i)
{
	if (c->want_error)
		return r->error && !strcmp(r->error, c->want_error);
	if (c->kind != K_PIPELINER)
		return false;
	switch (i % 4) {
	case 0:
		return !r->error && json_object_object_get(r->params, "state");
	case 1:
		return !r->error && json_object_object_get(r->params, "tunables");
	case 2:
		return r->error && !strcmp(r->error, VL_ERR_UNKNOWN_TUNABLE);
	default:
		return !r->error && json_object_object_get(r->params, "nodes");
	}
}

static void read_replies(struct client *c)
{
	for (;;) {
		const char *msg;
		size_t len;
		ssize_t n;
		int ret;

		while ((ret = vl_in_next(&c->in, &msg, &len)) == 1) {
			struct vl_reply r;
			char err[256];

			if (vl_reply_parse(msg, len, &r, err, sizeof(err)) < 0) {
				finish(c, O_WRONG, err);
				return;
			}
			if (!c->replies && r.error && !strcmp(r.error, VL_ERR_TOO_MANY_CLIENTS)) {
				vl_reply_free(&r);
				finish(c, O_REFUSED, NULL);
				return;
			}
			if (!reply_ok(c, &r, c->replies)) {
				char why[320];

				snprintf(why, sizeof(why), "reply %zu: unexpected %s", c->replies,
					 r.error ? r.error : "success");
				vl_reply_free(&r);
				finish(c, O_WRONG, why);
				return;
			}
			vl_reply_free(&r);
			c->replies++;
			progress(c);
			if (c->expect && c->replies == c->expect && !c->eof_expected) {
				finish(c, O_OK, NULL);
				return;
			}
		}
		if (ret < 0) {
			finish(c, O_WRONG, "a reply over 1 MiB");
			return;
		}
		n = vl_in_read(&c->in, c->fd);
		if (n == -EAGAIN)
			return;
		if (n == 0 || n == -ECONNRESET) {
			closed_reading(c);
			return;
		}
		if (n < 0) {
			finish(c, O_WRONG, strerror((int)-n));
			return;
		}
	}
}

static void send_more(struct client *c)
{
	while (c->txoff < c->txlen && !c->send_failed) {
		ssize_t n = send(c->fd, c->tx + c->txoff, c->txlen - c->txoff, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			c->txoff += (size_t)n;
			progress(c);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		c->send_failed = true;
	}
	if (c->send_failed) {
		/* Readers learn what happened from their replies; the rest were refused or dropped. */
		if (!c->reads)
			closed_noread(c);
		return;
	}
	if (c->hangup_after_send)
		finish(c, O_OK, NULL);
}

static void on_client(struct handler *h, uint32_t events)
{
	struct client *c = (struct client *)h;

	/* A stale event of a client finished earlier in this batch (no fd is opened mid-batch). */
	if (c->fd < 0)
		return;
	if (events & EPOLLOUT)
		send_more(c);
	if (c->fd < 0)
		return;
	if (c->reads && (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)))
		read_replies(c);
	else if (!c->reads && (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		closed_noread(c);
	if (c->fd >= 0)
		set_events(c);
}

static enum kind pick_kind(void)
{
	unsigned int total = 0, r;

	for (int k = 0; k < NR_KINDS; k++)
		total += weight[k];
	r = (unsigned int)rnd_range(0, total - 1);
	for (int k = 0; k < NR_KINDS; k++) {
		if (r < weight[k])
			return (enum kind)k;
		r -= weight[k];
	}
	return K_SLEEPER;
}

static void spawn(struct client *c)
{
	uint64_t patience = C.patience_ms;
	int fd;

	memset(c, 0, sizeof(*c));
	c->h.fn = on_client;
	c->fd = -1;
	c->kind = pick_kind();
	vl_in_init(&c->in, REPLY_MAX);
	C.started[c->kind]++;
	fd = sock_connect();
	if (fd == -EAGAIN) {
		finish(c, O_CONNFAIL, NULL);
		return;
	}
	if (fd < 0) {
		C.daemon_gone++;
		fprintf(stderr, "ctl-abuse: connect: %s\n", strerror(-fd));
		c->respawn_ms = C.now_ms + 100;
		return;
	}
	c->fd = fd;
	switch (c->kind) {
	case K_SLEEPER:
		c->deadline_ms = C.now_ms + rnd_range(500, 3000);
		break;
	case K_STREAM_NOREAD:
		c->tx = stream_call, c->txlen = stream_len;
		c->deadline_ms = C.now_ms + rnd_range(1000, 5000);
		break;
	case K_FLOOD_NOREAD:
		c->tx = flood, c->txlen = flood_len;
		c->deadline_ms = C.now_ms + rnd_range(1000, 5000);
		break;
	case K_GARBAGE:
		c->tx = garbage, c->txlen = garbage_len;
		c->reads = c->eof_expected = true;
		c->want_error = VL_ERR_INVALID_REQUEST;
		c->deadline_ms = C.now_ms + patience;
		break;
	case K_GARBAGE_NUL:
		c->tx = garbage_nul, c->txlen = C.garbage_bytes;
		c->reads = true;
		c->expect = garbage_nul_msgs;
		c->want_error = VL_ERR_INVALID_REQUEST;
		c->deadline_ms = C.now_ms + patience;
		break;
	case K_BIG_JSON:
		c->reads = true;
		if (rnd() & 1) {
			c->tx = big_ok, c->txlen = big_ok_len;
			c->expect = 1;
			c->want_error = VL_ERR_INVALID_PARAM;
		} else {
			c->tx = big_over, c->txlen = big_over_len;
			c->eof_expected = true;
			c->want_error = VL_ERR_INVALID_REQUEST;
		}
		c->deadline_ms = C.now_ms + patience;
		break;
	case K_HALF:
		c->tx = half_call, c->txlen = rnd_range(1, half_len - 2);
		c->hangup_after_send = true;
		c->deadline_ms = C.now_ms + patience;
		break;
	case K_CALL_HANGUP:
		c->tx = hangup_call, c->txlen = hangup_len;
		c->hangup_after_send = true;
		c->deadline_ms = C.now_ms + patience;
		break;
	case K_STORM:
		finish(c, O_OK, NULL);
		return;
	case K_PIPELINER:
		c->tx = pipeline, c->txlen = pipeline_len;
		c->reads = true;
		c->expect = C.pipeline_calls;
		c->deadline_ms = C.now_ms + patience;
		break;
	case NR_KINDS:
		break;
	}
	c->events = EPOLLRDHUP | (c->reads ? EPOLLIN : 0) | (c->txlen ? EPOLLOUT : 0);
	if (ep_add(fd, c->events, &c->h) < 0) {
		finish(c, O_ABORTED, "epoll_ctl");
		return;
	}
	if (c->txlen)
		send_more(c);
}

/* At its deadline a quiet client has done its job; any other is still owed something. */
static void judge_deadline(struct client *c)
{
	switch (c->kind) {
	case K_SLEEPER:
	case K_STREAM_NOREAD:
	case K_FLOOD_NOREAD:
		finish(c, O_OK, NULL);
		break;
	default:
		finish(c, O_HUNG, c->txoff < c->txlen ? "the daemon stopped reading" : "no reply or hangup");
		break;
	}
}

void clients_tick(bool spawn_more)
{
	for (unsigned int i = 0; i < nr_slots; i++) {
		struct client *c = &slots[i];

		if (c->fd >= 0 && C.now_ms >= c->deadline_ms)
			judge_deadline(c);
		else if (c->fd < 0 && spawn_more && C.now_ms >= c->respawn_ms)
			spawn(c);
	}
}

void clients_close_all(void)
{
	for (unsigned int i = 0; i < nr_slots; i++)
		if (slots[i].fd >= 0)
			finish(&slots[i], O_ABORTED, NULL);
}
