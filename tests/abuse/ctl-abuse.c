// SPDX-License-Identifier: GPL-2.0
/*
 * ctl-abuse: the control socket under abuse at scale. TAP on stdout.
 *
 *   ctl-abuse [OPTIONS] --spawn DAEMON [SOCKET]    start DAEMON SOCKET (fake-daemon), judge its exit
 *   ctl-abuse [OPTIONS] --pid PID SOCKET           a daemon already serving SOCKET
 *
 * Phases, each printing what it measured before asserting it:
 *  1. A persistent probe connects and keeps calling every method (a good and
 *     a bad SetTunable among them), checking each answer and timing it.
 *  2. The cap: 100 clients connect at once; exactly as many as the cap leaves
 *     are served, the others are hung up on without a word, nobody hangs,
 *     and once they leave a newcomer is served.
 *  3. Rounds of hostile clients (clients.c) far beyond the cap: sleepers,
 *     streams and floods nobody reads, 1 MiB of garbage with and without
 *     NULs, messages at the size cap, half messages and hangups mid-call,
 *     connect storms, deep pipelines. Each must get what the protocol
 *     promises (an answer, a hangup or a refusal at the cap) in bounded time.
 *  4. Between rounds, everything hostile gone: the daemon's descriptors are
 *     back where they started, and its memory does not grow round to round.
 * Throughout: the probe's worst reply time stays under --max-latency-ms,
 * the daemon's memory under its per-client caps, its fds under the cap;
 * with --monitor, no stats counter goes down without a re-attach.
 * Times are on avail_us()'s clock (procmon.c): the time the daemon was
 * runnable without a CPU does not count against it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "abuse.h"
#include "check.h"
#include "../../daemon/control-internal.h"

#define CAP_CROWD	(CTL_MAX_CLIENTS + 36)
#define SAMPLE_MS	50

struct ctx C = { .epfd = -1 };

static struct {
	int pid;
	const char *spawn;
	char sockpath[sizeof(C.addr.sun_path)];
	char tmpdir[64];
	char daemon_log[128];
	unsigned int clients, seconds, rounds, max_latency_ms, fd_slack, monitor_ms, hostile_s;
	/*
	 * Round-end RSS growth allowed: malloc's free lists take a round or two
	 * to settle (+604 kB from round 1 to 2 once, on a loaded host), while a
	 * leak of even 16 bytes per refused message (over 80 000 a round) is
	 * past a MiB.
	 */
	long rss_growth_kb;
	bool cap_check, rss_check;
	uint64_t seed;
} opt = {
	.clients = 200, .seconds = 5, .rounds = 2, .max_latency_ms = 1000,
	.rss_growth_kb = 1024, .cap_check = true, .rss_check = true,
};

static struct {
	struct proc_sample start, peak, now;
	long round_end_rss[64];
	uint64_t next_ms;
	bool died;
} mon;

uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

static void update_now(void)
{
	C.now_ms = avail_us() / 1000;
}

static uint64_t avail_ms(void)
{
	return avail_us() / 1000;
}

/* xorshift64*: reproducible from --seed, good enough for picking kinds and bytes. */
uint64_t rnd(void)
{
	C.rng ^= C.rng >> 12;
	C.rng ^= C.rng << 25;
	C.rng ^= C.rng >> 27;
	return C.rng * 0x2545F4914F6CDD1DULL;
}

uint64_t rnd_range(uint64_t lo, uint64_t hi)
{
	return lo + rnd() % (hi - lo + 1);
}

int ep_add(int fd, uint32_t events, struct handler *h)
{
	struct epoll_event ev = { .events = events, .data.ptr = h };

	return epoll_ctl(C.epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int ep_mod(int fd, uint32_t events, struct handler *h)
{
	struct epoll_event ev = { .events = events, .data.ptr = h };

	return epoll_ctl(C.epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

int sock_connect(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), ret;

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&C.addr, sizeof(C.addr)) < 0) {
		ret = errno == EWOULDBLOCK ? -EAGAIN : -errno;
		close(fd);
		return ret;
	}
	return fd;
}

bool refused_at_door(int fd)
{
	char buf[1024];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
	struct vl_reply r;
	char err[128];
	char *nul;
	bool ret;

	nul = n > 0 ? memchr(buf, '\0', (size_t)n) : NULL;
	if (!nul || vl_reply_parse(buf, (size_t)(nul - buf), &r, err, sizeof(err)) < 0)
		return false;
	ret = r.error && !strcmp(r.error, VL_ERR_TOO_MANY_CLIENTS);
	vl_reply_free(&r);
	return ret;
}

char *call_text(const char *method, const char *params_json, bool more, size_t *len)
{
	char *s;
	int n = asprintf(&s, "{\"method\":\"%s\"%s%s%s}", method, params_json ? ",\"parameters\":" : "",
			 params_json ? params_json : "", more ? ",\"more\":true" : "");

	if (n < 0) {
		fprintf(stderr, "ctl-abuse: out of memory\n");
		exit(2);
	}
	/* The string's own NUL is the message delimiter. */
	*len = (size_t)n + 1;
	return s;
}

static void sample(void)
{
	if (!opt.pid)
		return;
	if (proc_sample(opt.pid, &mon.now) < 0 || !proc_alive(opt.pid)) {
		if (!mon.died)
			fprintf(stderr, "ctl-abuse: the daemon (pid %d) is gone\n", opt.pid);
		mon.died = true;
		return;
	}
	if (mon.now.rss_kb > mon.peak.rss_kb)
		mon.peak.rss_kb = mon.now.rss_kb;
	if (mon.now.fds > mon.peak.fds)
		mon.peak.fds = mon.now.fds;
}

/*
 * Run the loop for @ms of wall time (a round lasts as long as the load it
 * runs next to): events, the probes, and with @hostile the population.
 */
static void run_for(uint64_t ms, bool hostile, bool fresh)
{
	uint64_t end = mono_us() / 1000 + ms;

	update_now();
	while (mono_us() / 1000 < end) {
		struct epoll_event ev[128];
		int n = epoll_wait(C.epfd, ev, 128, 5);

		for (int i = 0; i < n; i++) {
			struct handler *h = ev[i].data.ptr;

			h->fn(h, ev[i].events);
		}
		update_now();
		if (hostile)
			clients_tick(true);
		if (fresh)
			probe_fresh_tick();
		if (C.now_ms >= mon.next_ms) {
			sample();
			mon.next_ms = C.now_ms + SAMPLE_MS;
		}
	}
}

/* ---- the daemon -------------------------------------------------------------- */

static int wait_listening(unsigned int ms)
{
	uint64_t end = mono_us() / 1000 + ms;

	for (;;) {
		int fd = sock_connect();

		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (mono_us() / 1000 >= end)
			return fd;
		if (opt.pid && !proc_alive(opt.pid))
			return -ESRCH;
		usleep(20000);
	}
}

static int spawn_daemon(void)
{
	pid_t pid;

	snprintf(opt.daemon_log, sizeof(opt.daemon_log), "%s/daemon.log", opt.tmpdir);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd = open(opt.daemon_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		/*
		 * Fixed malloc thresholds turn off glibc's dynamic ones, so that
		 * freed buffers go back to the kernel and RSS after a round
		 * shows what is still allocated, not what malloc kept around.
		 */
		setenv("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=131072:glibc.malloc.mmap_threshold=131072", 0);
		execl(opt.spawn, opt.spawn, opt.sockpath, (char *)NULL);
		fprintf(stderr, "ctl-abuse: exec %s: %s\n", opt.spawn, strerror(errno));
		_exit(127);
	}
	opt.pid = pid;
	return 0;
}

static void show_daemon_log(void)
{
	char line[512];
	FILE *f;
	int n = 0;

	if (!opt.daemon_log[0] || !(f = fopen(opt.daemon_log, "re")))
		return;
	while (fgets(line, sizeof(line), f) && n++ < 40)
		printf("#   daemon| %s", line);
	fclose(f);
}

/* What the daemon holds open, for a failed descriptor check. */
static void show_fds(void)
{
	char dir[64], path[384], target[256];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", opt.pid);
	d = opendir(dir);
	if (!d)
		return;
	while ((e = readdir(d))) {
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		printf("#   fd %s -> %s\n", e->d_name, target);
	}
	closedir(d);
}

/*
 * How much the daemon logged: an attack must not turn into a flood of log
 * lines. Returns how many of them were the client-cap warning.
 */
static unsigned long print_log_summary(void)
{
	char line[512];
	unsigned long lines = 0, refusals = 0;
	FILE *f = fopen(opt.daemon_log, "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		lines++;
		refusals += strstr(line, "refusing more") != NULL;
	}
	fclose(f);
	printf("# daemon log: %lu lines, %lu of them about refusing clients at the cap\n", lines, refusals);
	return refusals;
}

/* SIGTERM, then its exit status within @ms; -1 if it lingered (killed) or died by a signal. */
static int stop_daemon(unsigned int ms)
{
	uint64_t end = mono_us() / 1000 + ms;
	int status;

	kill(opt.pid, SIGTERM);
	for (;;) {
		pid_t r = waitpid(opt.pid, &status, WNOHANG);

		if (r == opt.pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		if (r < 0 || mono_us() / 1000 >= end)
			break;
		usleep(20000);
	}
	kill(opt.pid, SIGKILL);
	waitpid(opt.pid, &status, 0);
	return -1;
}

/* ---- phase 2: the client cap ---------------------------------------------------- */

/* 1 if the peer hung up with nothing to read, 0 if still open, -1 if data waits. */
static int peer_state(int fd)
{
	char b;
	ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

	if (n == 0 || (n < 0 && errno == ECONNRESET))
		return 1;
	return n > 0 ? -1 : 0;
}

static void cap_check(void)
{
	int fd[CAP_CROWD];
	unsigned int eagain = 0, refused = 0, held = 0, served = 0, late_refused = 0, hung = 0, stable = 0;
	/* The probe holds one slot, the monitor another. */
	unsigned int prev = UINT_MAX, want = CTL_MAX_CLIENTS - 1 - (opt.monitor_ms ? 1 : 0);
	uint64_t end;
	size_t len;
	char *status = call_text("io.scx-ai-numa.Status", NULL, false, &len);

	for (int i = 0; i < CAP_CROWD; i++) {
		fd[i] = sock_connect();
		if (fd[i] == -EAGAIN)
			eagain++;
		else if (fd[i] < 0)
			check_bail("cap: connect: %s", strerror(-fd[i]));
	}
	/* The daemon accepts (and refuses) in batches: wait until what it holds settles. */
	end = avail_ms() + C.patience_ms;
	while (avail_ms() < end && stable < 6) {
		run_for(50, false, false);
		held = 0;
		for (int i = 0; i < CAP_CROWD; i++)
			held += fd[i] >= 0 && peer_state(fd[i]) == 0;
		stable = held == prev ? stable + 1 : 0;
		prev = held;
	}
	/* Everyone still connected asks for Status; who is served and who was refused? */
	for (int i = 0; i < CAP_CROWD; i++) {
		if (fd[i] < 0)
			continue;
		if (peer_state(fd[i]) == 1 || refused_at_door(fd[i])) {
			refused++;
			close(fd[i]);
			fd[i] = -1;
		} else {
			send(fd[i], status, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		}
	}
	end = avail_ms() + C.patience_ms;
	for (;;) {
		unsigned int pending = 0;

		for (int i = 0; i < CAP_CROWD; i++) {
			char buf[8192];
			ssize_t n;

			if (fd[i] < 0)
				continue;
			n = recv(fd[i], buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
			if (n > 0 && memchr(buf, '\0', (size_t)n) && refused_at_door(fd[i])) {
				late_refused++;
			} else if (n > 0 && memchr(buf, '\0', (size_t)n)) {
				served++;
			} else if (n == 0 || (n < 0 && errno != EAGAIN)) {
				late_refused++;
			} else {
				pending++;
				continue;
			}
			close(fd[i]);
			fd[i] = -1;
		}
		if (!pending || avail_ms() >= end) {
			hung = pending;
			break;
		}
		run_for(20, false, false);
	}
	for (int i = 0; i < CAP_CROWD; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	printf("# cap: %d clients at once: %u served, %u refused (%u after sending), "
	       "%u found the backlog full, %u hung\n",
	       CAP_CROWD, served, refused + late_refused, late_refused, eagain, hung);
	CHECK(served == want && hung == 0 && served + refused + late_refused + eagain == CAP_CROWD,
	      "client cap: with our %u connected, exactly %u of %d simultaneous clients are served, "
	      "the other %u refused cleanly, none left hanging", CTL_MAX_CLIENTS - want, want, CAP_CROWD,
	      CAP_CROWD - want);

	/* The cap is not sticky: as soon as they are gone, a newcomer gets in. */
	run_for(200, false, false);
	{
		int f = sock_connect();
		bool ok = false;

		if (f >= 0 && send(f, status, len, MSG_NOSIGNAL) == (ssize_t)len) {
			struct pollfd p = { .fd = f, .events = POLLIN };
			char buf[8192];

			if (poll(&p, 1, (int)C.patience_ms) == 1) {
				ssize_t n = recv(f, buf, sizeof(buf), MSG_PEEK);

				ok = n > 0 && memchr(buf, '\0', (size_t)n);
			}
		}
		if (f >= 0)
			close(f);
		CHECK(ok, "client cap: once the crowd has left, a new client is served");
	}
	free(status);
}

/* ---- phase 3 and 4: rounds of abuse ------------------------------------------------ */

static void print_kinds(void)
{
	printf("# %-14s %8s", "client kind", "started");
	for (int o = 0; o < NR_OUTCOMES; o++)
		printf(" %8s", outcome_name(o));
	printf("\n");
	for (int k = 0; k < NR_KINDS; k++) {
		printf("# %-14s %8lu", kind_name(k), C.started[k]);
		for (int o = 0; o < NR_OUTCOMES; o++)
			printf(" %8lu", C.outcome[k][o]);
		printf("\n");
	}
}

static unsigned long tally(enum outcome o)
{
	unsigned long n = 0;

	for (int k = 0; k < NR_KINDS; k++)
		n += C.outcome[k][o];
	return n;
}

static void round_run(unsigned int r)
{
	unsigned long failed_before = tally(O_HUNG) + tally(O_DROPPED) + tally(O_WRONG);
	unsigned long started = 0, failed;
	uint64_t end;

	for (int k = 0; k < NR_KINDS; k++)
		started -= C.started[k];
	run_for((uint64_t)opt.seconds * 1000, true, true);
	for (int k = 0; k < NR_KINDS; k++)
		started += C.started[k];
	clients_close_all();
	probe_fresh_cancel();
	failed = tally(O_HUNG) + tally(O_DROPPED) + tally(O_WRONG) - failed_before;
	CHECK(failed == 0 && !C.daemon_gone,
	      "round %u: %lu hostile clients in %u s, each answered, refused at the cap or hung up on "
	      "as the protocol says (%lu failures)", r, started, opt.seconds, failed);

	/* Settle: the daemon notices the hangups at its own pace. */
	if (!opt.pid)
		return;
	end = C.now_ms + C.patience_ms;
	do {
		run_for(50, false, false);
		sample();
	} while (!mon.died && mon.now.fds > mon.start.fds && C.now_ms < end);
	run_for(300, false, false);
	sample();
	mon.round_end_rss[r - 1] = mon.now.rss_kb;
	printf("# round %u end: daemon rss %ld kB, %ld fds (start %ld kB, %ld fds)\n", r, mon.now.rss_kb,
	       mon.now.fds, mon.start.rss_kb, mon.start.fds);
	if (!CHECK(!mon.died && mon.now.fds <= mon.start.fds + (long)opt.fd_slack,
		   "round %u: with the hostile clients gone the daemon's fds are back to %ld (%ld)", r,
		   mon.start.fds, mon.now.fds))
		show_fds();
}

/* ---- --hostile ------------------------------------------------------------------- */

static void hostile_phase(void)
{
	struct hostile_result r;
	long cost, idle, tries[3];

	if (geteuid() != 0) {
		check_skip("--hostile needs root to hold connections as other users");
		return;
	}
	/* Our own directory, when we started the daemon: the other users must get through it. */
	if (opt.spawn)
		chmod(opt.tmpdir, 0755);
	if (chmod(opt.sockpath, 0666) < 0)
		check_bail("chmod %s: %s", opt.sockpath, strerror(errno));
	cost = hostile_pipeline_cost(opt.pid, &idle, tries);
	printf("# one connection pipelining 200 KB of Status calls, then hanging up: %ld ms of daemon CPU "
	       "(median of %ld, %ld, %ld; beyond the %ld ms it spends in 1 s anyway)\n", cost, tries[0],
	       tries[1], tries[2], idle);
	CHECK(cost >= 0 && cost <= 50, "a pipeline then a hangup costs the daemon %ld ms of CPU (at most 50)", cost);
	hostile_siege(opt.pid, opt.hostile_s, &r);
	printf("# siege of %u s: unprivileged holders got %ld connections; daemon cpu %ld ms; fresh Status "
	       "calls: %lu answered (slowest %.1f ms), %lu not\n", opt.hostile_s, r.held, r.cpu_ms, r.fresh_ok,
	       r.fresh_max_us / 1000.0, r.fresh_bad);
	CHECK(r.held <= CTL_MAX_CLIENTS - CTL_PRIV_RESERVED,
	      "unprivileged users hold at most %d connections (%ld)", CTL_MAX_CLIENTS - CTL_PRIV_RESERVED, r.held);
	CHECK(r.fresh_ok > 0 && r.fresh_bad == 0 && r.fresh_max_us < 1000000,
	      "under the siege every fresh root Status call is answered within 1 s (%lu of %lu, slowest %.1f ms)",
	      r.fresh_ok, r.fresh_ok + r.fresh_bad, r.fresh_max_us / 1000.0);
}

/* ---- main ------------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ctl-abuse [OPTIONS] --spawn DAEMON [SOCKET]\n"
		"       ctl-abuse [OPTIONS] --pid PID SOCKET\n"
		"  --spawn PROG          start PROG SOCKET as the daemon; SIGTERM it at the end, expect exit 0\n"
		"  --pid PID             the daemon serving SOCKET: watch its memory and fds\n"
		"  --clients N           hostile clients at once (default 200)\n"
		"  --seconds S           length of a round (default 5)\n"
		"  --rounds N            rounds (default 2, at most 64)\n"
		"  --garbage-kb KB       bytes of garbage per garbage client (default 1024)\n"
		"  --respawn-ms MS       an ended client is replaced within MS (default 20; pace for a soak)\n"
		"  --probe-gap-ms MS     the probe's pause between calls (default 10)\n"
		"  --pipeline N          calls per pipelining client (default 400; floods send 3/4 of it)\n"
		"  --monitor MS          also sample the stats counters every MS on a connection of their own:\n"
		"                        none may drop unless attach_count changed\n"
		"  --patience-ms MS      longer than this for a reply or hangup is a hang (default 5000)\n"
		"  --max-latency-ms MS   slowest probe reply allowed (default 1000)\n"
		"  --rss-growth-kb KB    round-end RSS growth allowed, first to last round (default 1024)\n"
		"  --no-rss-check        report memory, do not assert it (sanitizers, valgrind)\n"
		"  --fd-slack N          fds above the start allowed at a round's end (default 0)\n"
		"  --no-cap-check        skip the cap phase (when other clients may hold slots)\n"
		"  --seed N              random seed (default: from the clock, printed)\n"
		"  --hostile S           instead of the rounds: time one pipeline-then-hangup, then S seconds\n"
		"                        of them while other users hold idle connections (root; opens the\n"
		"                        socket to mode 0666)\n"
		"  -v, --verbose         report every refusal too\n");
}

static unsigned long num(const char *s, const char *what, unsigned long lo, unsigned long hi)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || !*s || v < lo || v > hi) {
		fprintf(stderr, "ctl-abuse: %s: expected an integer %lu..%lu, got '%s'\n", what, lo, hi, s);
		exit(2);
	}
	return v;
}

static void parse(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "spawn", required_argument, NULL, 'S' }, { "pid", required_argument, NULL, 'p' },
		{ "clients", required_argument, NULL, 'c' }, { "seconds", required_argument, NULL, 't' },
		{ "rounds", required_argument, NULL, 'r' }, { "garbage-kb", required_argument, NULL, 'g' },
		{ "respawn-ms", required_argument, NULL, 'W' }, { "probe-gap-ms", required_argument, NULL, 'G' },
		{ "pipeline", required_argument, NULL, 'l' }, { "monitor", required_argument, NULL, 'm' },
		{ "patience-ms", required_argument, NULL, 'P' }, { "max-latency-ms", required_argument, NULL, 'L' },
		{ "rss-growth-kb", required_argument, NULL, 'R' }, { "no-rss-check", no_argument, NULL, 'n' },
		{ "fd-slack", required_argument, NULL, 'f' }, { "no-cap-check", no_argument, NULL, 'N' },
		{ "seed", required_argument, NULL, 's' }, { "verbose", no_argument, NULL, 'v' },
		{ "hostile", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' }, { 0 },
	};
	int c;

	C.patience_ms = 5000;
	C.garbage_bytes = 1024 * 1024;
	C.respawn_ms = 20;
	C.probe_gap_ms = 10;
	C.pipeline_calls = 400;
	opt.seed = mono_us() ^ (uint64_t)getpid() << 32;
	while ((c = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		switch (c) {
		case 'S': opt.spawn = optarg; break;
		case 'p': opt.pid = (int)num(optarg, "--pid", 1, INT_MAX); break;
		case 'c': opt.clients = (unsigned int)num(optarg, "--clients", 0, 5000); break;
		case 't': opt.seconds = (unsigned int)num(optarg, "--seconds", 1, 86400); break;
		case 'r': opt.rounds = (unsigned int)num(optarg, "--rounds", 1, 64); break;
		case 'g': C.garbage_bytes = num(optarg, "--garbage-kb", 1, 65536) * 1024; break;
		case 'l': C.pipeline_calls = (unsigned int)num(optarg, "--pipeline", 1, 100000); break;
		case 'm': opt.monitor_ms = (unsigned int)num(optarg, "--monitor", 10, 600000); break;
		case 'G': C.probe_gap_ms = (unsigned int)num(optarg, "--probe-gap-ms", 0, 60000); break;
		case 'W': C.respawn_ms = (unsigned int)num(optarg, "--respawn-ms", 0, 3600000); break;
		case 'P': C.patience_ms = (unsigned int)num(optarg, "--patience-ms", 100, 600000); break;
		case 'L': opt.max_latency_ms = (unsigned int)num(optarg, "--max-latency-ms", 1, 600000); break;
		case 'R': opt.rss_growth_kb = (long)num(optarg, "--rss-growth-kb", 0, 1 << 30); break;
		case 'n': opt.rss_check = false; break;
		case 'f': opt.fd_slack = (unsigned int)num(optarg, "--fd-slack", 0, 1000); break;
		case 'N': opt.cap_check = false; break;
		case 's': opt.seed = num(optarg, "--seed", 1, ULONG_MAX); break;
		case 'v': C.verbose = true; break;
		case 'H': opt.hostile_s = (unsigned int)num(optarg, "--hostile", 1, 3600); break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind < argc)
		snprintf(opt.sockpath, sizeof(opt.sockpath), "%s", argv[optind++]);
	if (optind < argc || (!opt.spawn && (!opt.pid || !opt.sockpath[0])) || (opt.spawn && opt.pid)) {
		usage(stderr);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	int ret, rc;
	uint64_t p50, p99, pmax;
	long growth = 0, rss_bound, cpu0, cpu1, wait0, wait1;
	uint64_t t0, secs;
	unsigned long warned;

	parse(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	C.rng = opt.seed;
	C.priv = geteuid() == 0;
	printf("# seed %" PRIu64 " (--seed to replay), %u hostile clients, %u rounds of %u s\n", opt.seed,
	       opt.clients, opt.rounds, opt.seconds);
	/* Hundreds of sockets at once: the default soft limit of 1024 is close. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (opt.spawn) {
		snprintf(opt.tmpdir, sizeof(opt.tmpdir), "/tmp/ctl-abuse.XXXXXX");
		if (!mkdtemp(opt.tmpdir))
			check_bail("mkdtemp: %s", strerror(errno));
		if (!opt.sockpath[0])
			snprintf(opt.sockpath, sizeof(opt.sockpath), "%s/control.sock", opt.tmpdir);
		if (spawn_daemon() < 0)
			check_bail("fork: %s", strerror(errno));
	}
	C.addr.sun_family = AF_UNIX;
	snprintf(C.addr.sun_path, sizeof(C.addr.sun_path), "%s", opt.sockpath);
	C.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (C.epfd < 0)
		check_bail("epoll_create1: %s", strerror(errno));

	ret = wait_listening(C.patience_ms * 2 > 10000 ? C.patience_ms * 2 : 10000);
	if (ret < 0) {
		show_daemon_log();
		if (opt.spawn)
			stop_daemon(2000);
		check_bail("nobody answers on %s: %s", opt.sockpath, strerror(-ret));
	}
	avail_init(opt.pid);
	update_now();
	if (opt.hostile_s) {
		hostile_phase();
		if (opt.spawn)
			CHECK_INT(stop_daemon(5000), 0, "the daemon exits 0 on SIGTERM after the attacks");
		return check_done();
	}
	if (probe_start() < 0)
		check_bail("the probe cannot connect to %s", opt.sockpath);
	/* Before the start figures: its connection is part of the baseline. */
	if (opt.monitor_ms && monitor_start(opt.monitor_ms) < 0)
		check_bail("cannot start the counter monitor");
	/*
	 * The hostile crowd is this (main) thread; on a small machine it
	 * competes with the daemon for CPUs. Niced, it stands for clients that
	 * are just other processes, and leaves the probe thread (not niced)
	 * and the daemon the CPU time they would have next to real ones.
	 */
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), 10) < 0)
		fprintf(stderr, "ctl-abuse: setpriority: %s\n", strerror(errno));
	/* Warm up: the daemon's first replies allocate what it keeps for good. */
	run_for(500, false, true);
	probe_fresh_cancel();
	run_for(100, false, false);
	sample();
	mon.start = mon.peak = mon.now;
	if (opt.pid)
		printf("# daemon pid %d at start: rss %ld kB, %ld fds\n", opt.pid, mon.start.rss_kb, mon.start.fds);

	if (opt.cap_check)
		cap_check();
	clients_init(opt.clients);
	cpu0 = opt.pid ? proc_cpu_ms(opt.pid) : -1;
	wait0 = opt.pid ? proc_wait_ms(opt.pid) : -1;
	t0 = mono_us();
	for (unsigned int r = 1; r <= opt.rounds; r++)
		round_run(r);
	cpu1 = opt.pid ? proc_cpu_ms(opt.pid) : -1;
	wait1 = opt.pid ? proc_wait_ms(opt.pid) : -1;
	print_kinds();
	probe_stop();
	monitor_stop();
	if (cpu0 >= 0 && cpu1 >= 0)
		printf("# daemon cpu: %ld ms in %.1f s of rounds (%.0f%% of one CPU); runnable but waiting "
		       "for a CPU: %ld ms\n", cpu1 - cpu0, (mono_us() - t0) / 1e6,
		       (cpu1 - cpu0) * 100.0 / ((mono_us() - t0) / 1000.0), wait1 >= 0 ? wait1 - wait0 : -1);

	p50 = lat_pct(&P.lat, 50);
	p99 = lat_pct(&P.lat, 99);
	pmax = lat_pct(&P.lat, 100);
	printf("# probe: %lu calls, latency p50 %.2f ms, p99 %.2f ms, max %.2f ms; %lu wrong, %lu timeouts, "
	       "%lu reconnects\n", P.calls, p50 / 1000.0, p99 / 1000.0, pmax / 1000.0, P.bad, P.timeouts,
	       P.reconnects);
	printf("# probe wall-clock latency (CPU starvation included): p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
	       lat_pct(&P.raw, 50) / 1000.0, lat_pct(&P.raw, 99) / 1000.0, lat_pct(&P.raw, 100) / 1000.0);
	printf("# fresh connections: %lu served (p50 %.2f ms, max %.2f ms), %lu refused at the cap, %lu bad\n",
	       P.fresh_ok, lat_pct(&P.fresh_lat, 50) / 1000.0, lat_pct(&P.fresh_lat, 100) / 1000.0,
	       P.fresh_refused, P.fresh_bad);
	CHECK(P.bad == 0 && P.timeouts == 0 && P.calls >= opt.rounds * opt.seconds,
	      "persistent probe: %lu calls under abuse, every answer right (%lu wrong, %lu timeouts)",
	      P.calls, P.bad, P.timeouts);
	CHECK(pmax < (uint64_t)opt.max_latency_ms * 1000,
	      "persistent probe: slowest reply %.1f ms < %u ms (p50 %.2f ms, p99 %.2f ms)", pmax / 1000.0,
	      opt.max_latency_ms, p50 / 1000.0, p99 / 1000.0);
	CHECK(P.fresh_bad == 0, "fresh connections: each served or refused cleanly, none hung or wrong");
	if (opt.monitor_ms) {
		unsigned long want = (unsigned long)opt.rounds * opt.seconds * 1000 / opt.monitor_ms / 4;

		printf("# monitor: %lu samples, %lu compared, %lu re-attach gaps, %lu skipped mid-attach, "
		       "%lu errors, %lu with a drop%s%s; attach_count %lld\n", M.samples, M.compared,
		       M.reattach_gaps, M.skipped, M.errors, M.drops, M.first_drop[0] ? ": " : "", M.first_drop,
		       (long long)M.last_attach);
		CHECK(M.drops == 0 && M.compared > 0,
		      "stats counters never went down between re-attaches (%lu comparisons, %lu gaps)",
		      M.compared, M.reattach_gaps);
		CHECK(M.samples >= (want ? want : 1) && M.errors == 0,
		      "counter monitor: %lu samples (at least %lu wanted), %lu calls failed", M.samples,
		      want ? want : 1, M.errors);
	}

	if (opt.pid) {
		/* Per client at most its input cap and its output cap, plus slack for json-c and malloc. */
		rss_bound = (long)CTL_MAX_CLIENTS * (CTL_OUT_MAX + 2 * CTL_MAX_MSG) / 1024 + 16384;
		if (opt.rounds > 1)
			growth = mon.round_end_rss[opt.rounds - 1] - mon.round_end_rss[0];
		printf("# daemon rss kB: start %ld, peak %ld, end %ld; fds: start %ld, peak %ld, end %ld\n",
		       mon.start.rss_kb, mon.peak.rss_kb, mon.now.rss_kb, mon.start.fds, mon.peak.fds, mon.now.fds);
		printf("# abuse: probe_calls=%lu p50_ms=%.2f p99_ms=%.2f max_ms=%.2f rss_kb_start=%ld rss_kb_peak=%ld "
		       "rss_kb_end=%ld fds_start=%ld fds_peak=%ld fds_end=%ld refused=%lu monitor_samples=%lu "
		       "counter_drops=%lu\n",
		       P.calls, p50 / 1000.0, p99 / 1000.0, pmax / 1000.0, mon.start.rss_kb, mon.peak.rss_kb,
		       mon.now.rss_kb, mon.start.fds, mon.peak.fds, mon.now.fds, tally(O_REFUSED), M.samples,
		       M.drops);
		CHECK(!mon.died, "the daemon stayed alive throughout");
		CHECK(mon.peak.fds <= mon.start.fds + CTL_MAX_CLIENTS + (long)opt.fd_slack,
		      "daemon fds peaked at %ld: at most the cap (%d) above the start (%ld)", mon.peak.fds,
		      CTL_MAX_CLIENTS, mon.start.fds);
		if (opt.rss_check) {
			CHECK(mon.peak.rss_kb <= mon.start.rss_kb + rss_bound,
			      "daemon rss peaked at %ld kB: within the per-client caps (start %ld + %ld kB)",
			      mon.peak.rss_kb, mon.start.rss_kb, rss_bound);
			if (opt.rounds > 1)
				CHECK(growth <= opt.rss_growth_kb,
				      "daemon rss does not grow round to round: %ld kB after round 1, %ld kB after "
				      "round %u (%+ld kB, %ld allowed)", mon.round_end_rss[0],
				      mon.round_end_rss[opt.rounds - 1], opt.rounds, growth, opt.rss_growth_kb);
		} else {
			check_skip("rss bounds not asserted (--no-rss-check)");
		}
	}
	probe_free();
	clients_free();
	close(C.epfd);
	if (opt.spawn) {
		rc = stop_daemon(C.patience_ms * 2);
		CHECK(rc == 0, "the daemon exits 0 on SIGTERM after the abuse (%d)", rc);
		if (rc != 0 || check_failures)
			show_daemon_log();
		/* The warning is rate-limited to one a minute (CTL_FULL_WARN_NS). */
		warned = print_log_summary();
		secs = (mono_us() - t0) / 1000000;
		CHECK(warned <= 1 + secs / 60, "the cap warning was logged %lu times in %lu s (one a minute at most)",
		      warned, (unsigned long)secs);
		unlink(opt.daemon_log);
		unlink(opt.sockpath);
		rmdir(opt.tmpdir);
	}
	return check_done();
}
