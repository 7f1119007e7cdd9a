/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctl-abuse: many hostile and a few well-behaved clients against a live
 * control socket, in one single-threaded epoll loop, while the daemon's
 * memory and descriptors are watched from /proc. See ctl-abuse.c for the
 * phases and what is asserted.
 */
#ifndef SCX_AI_NUMA_ABUSE_H
#define SCX_AI_NUMA_ABUSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

#include "../../daemon/varlink.h"

/* Everything that owns an fd in the epoll set starts with one of these. */
struct handler {
	void (*fn)(struct handler *h, uint32_t events);
};

/* Kinds of hostile client (clients.c). */
enum kind {
	K_SLEEPER,		/* connects and sends nothing */
	K_STREAM_NOREAD,	/* opens a Stats stream, never reads */
	K_FLOOD_NOREAD,		/* pipelines requests for megabytes of replies, never reads */
	K_GARBAGE,		/* garbage without a NUL: one message far over the cap */
	K_GARBAGE_NUL,		/* garbage cut by NULs: thousands of junk messages */
	K_BIG_JSON,		/* valid JSON just under or just over the message cap */
	K_HALF,			/* half a request, then hangs up */
	K_CALL_HANGUP,		/* a whole request, hangs up before the reply */
	K_STORM,		/* connects and hangs up at once */
	K_PIPELINER,		/* hundreds of pipelined calls, checks every reply in order */
	NR_KINDS
};

/* How one hostile client ended. */
enum outcome {
	O_OK,		/* what the protocol promises happened */
	O_REFUSED,	/* closed by the daemon before any reply: the client cap */
	O_CONNFAIL,	/* connect() failed with EAGAIN: listen backlog full */
	O_ABORTED,	/* still running when the round ended: not judged */
	O_HUNG,		/* the daemon should have answered or closed by now: failure */
	O_DROPPED,	/* closed by the daemon after answering part of it: failure */
	O_WRONG,	/* a reply that breaks the protocol's promise: failure */
	NR_OUTCOMES
};

struct ctx {
	int epfd;
	struct sockaddr_un addr;
	uint64_t now_ms;
	uint64_t rng;
	bool priv;		/* root: SetTunable is allowed */
	unsigned int patience_ms;	/* how long a reply or a hangup may take */
	size_t garbage_bytes;	/* size of one garbage client's payload */
	unsigned int respawn_ms;	/* an ended client's slot refills within this */
	unsigned int probe_gap_ms;	/* the probe's pause between a reply and its next call */
	unsigned int pipeline_calls;	/* calls a pipeliner sends; a flood sends 3/4 of it */
	bool verbose;

	/* Tallies, by kind and outcome. */
	unsigned long started[NR_KINDS];
	unsigned long outcome[NR_KINDS][NR_OUTCOMES];
	unsigned long daemon_gone;	/* connect refused: nobody listening */
};

extern struct ctx C;

/* ctl-abuse.c */
uint64_t mono_us(void);
uint64_t rnd(void);
/* A random integer in [lo, hi]. */
uint64_t rnd_range(uint64_t lo, uint64_t hi);
int ep_add(int fd, uint32_t events, struct handler *h);
int ep_mod(int fd, uint32_t events, struct handler *h);
/* Non-blocking connect to the socket: fd, or -errno. */
int sock_connect(void);
/* Is what waits on @fd the daemon's refusal at its client limit (a TooManyClients error)? */
bool refused_at_door(int fd);

/* clients.c: a population of @n hostile clients, refilled as they finish. */
void clients_init(unsigned int n);
void clients_tick(bool spawn);		/* deadlines and respawns; @spawn false winds down */
unsigned int clients_active(void);
void clients_close_all(void);		/* end of a round: what still runs is O_ABORTED */
void clients_free(void);
const char *kind_name(enum kind k);
const char *outcome_name(enum outcome o);
bool outcome_is_failure(enum outcome o);

/* probe.c: the well-behaved clients whose latency is the measurement. */
struct lat {
	uint64_t *us;
	size_t n, cap;
};
struct probe_stats {
	struct lat lat;			/* persistent connection: send to complete reply, avail_us clock */
	struct lat raw;			/* the same on the wall clock */
	unsigned long calls, bad, timeouts, reconnects;
	struct lat fresh_lat;		/* connect + call + hangup */
	unsigned long fresh_ok, fresh_refused, fresh_bad;
	char last_bad[256];
};
extern struct probe_stats P;
int probe_start(void);			/* connect the persistent probe, start its thread; 0 or -errno */
void probe_stop(void);			/* join it; P is final after this */
void probe_free(void);
void probe_fresh_tick(void);		/* one fresh connection every 100 ms */
void probe_fresh_cancel(void);		/* drop the one in flight, if any */
void lat_add(struct lat *l, uint64_t us);
/* @pct in [0, 100]; 0 if empty. Sorts in place. */
uint64_t lat_pct(struct lat *l, double pct);

/* monitor.c: stats counters sampled on their own connection. */
struct monitor_stats {
	unsigned long samples;		/* Status, Stats, Status all answered */
	unsigned long compared;		/* against the previous sample, same attach */
	unsigned long reattach_gaps;	/* attach_count changed since the previous sample */
	unsigned long skipped;		/* changed during the sample */
	unsigned long drops;		/* samples where a counter went down */
	unsigned long errors;		/* a call failed or timed out */
	int64_t last_attach;
	char first_drop[160];
};
extern struct monitor_stats M;
int monitor_start(unsigned int interval_ms);	/* 0 or -errno */
void monitor_stop(void);

/* procmon.c */
struct proc_sample {
	long rss_kb;	/* VmRSS; -1 if unreadable */
	long fds;	/* entries of /proc/PID/fd; -1 if unreadable */
};
int proc_sample(int pid, struct proc_sample *s);
bool proc_alive(int pid);
/*
 * The clock deadlines and latencies are measured on, in µs: wall time minus
 * the time the daemon or the calling thread sat runnable without a CPU. On
 * an overloaded machine a starved daemon is not a wedged one; a daemon that
 * spins, blocks or ignores a client still runs out the clock.
 */
void avail_init(int pid);	/* 0: no daemon to watch, only this thread */
uint64_t avail_us(void);
long proc_cpu_ms(int pid);
long proc_wait_ms(int pid);

/* hostile.c: the attacks --hostile measures; pid is the daemon's. */
struct hostile_result {
	long held;		/* daemon fds the unprivileged holders got */
	long cpu_ms;		/* daemon CPU during the siege */
	unsigned long fresh_ok, fresh_bad;	/* fresh root Status calls answered right, not */
	uint64_t fresh_max_us;	/* the slowest of them, wall time */
};
/*
 * Daemon CPU (ms) for one connection that pipelines 200 KB of Status calls
 * and hangs up, less what it spends in as long a quiet time (*@idle_ms):
 * the median of three tries (@costs_ms); -1 on error.
 */
long hostile_pipeline_cost(int pid, long *idle_ms, long costs_ms[3]);
/* @seconds of pipelines and hangups while other users hold every slot they get, fresh calls timed. */
void hostile_siege(int pid, unsigned int seconds, struct hostile_result *res);

/* A call as the varlink wire wants it: JSON and its NUL. Caller frees. */
char *call_text(const char *method, const char *params_json, bool more, size_t *len);

#endif
