// SPDX-License-Identifier: GPL-2.0
/*
 * The NVML source's daemon side: the helper's life (fork, ask, read, kill,
 * reap) and a strict reader of its answers. Nothing the helper says is
 * trusted: it runs a vendor library that may be broken, so every line is
 * parsed against the protocol in nvml-helper.h and an answer that breaks it
 * is garbage, which costs the helper its life like a hang does.
 *
 * A killed helper may sit in the kernel for a while (a hung driver call):
 * it is reaped without waiting, on later calls, never blocking the loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "clock.h"
#include "log.h"
#include "loop.h"
#include "nvml-helper.h"
#include "nvml.h"

#define ANSWER_MAX	(4u << 20)	/* 64 GPUs x NVML_PROCS_MAX lines would be more: that is garbage */
#define NOLIB_RETRY_MS	300000		/* a driver may be installed later */
#define BACKOFF_MAX_MS	600000
#define REAP_MAX	8

enum nv_state {
	NV_IDLE,	/* no helper: start one when due */
	NV_READY,	/* helper up, no request out */
	NV_WAIT,	/* a request out, its answer not complete */
	NV_OFF,		/* failed: start again at retry_at */
};

/* Failures said in the log once each, however often they recur. */
enum nv_said {
	SAID_NOLIB = 1,
	SAID_FAIL = 2,
	SAID_HUNG = 4,
	SAID_DIED = 8,
	SAID_GARBAGE = 16,
	SAID_BADGPU = 32,
	SAID_SPAWN = 64,
};

struct nvsrc {
	struct nvsrc_opts o;
	enum nv_state st;
	pid_t pid;
	int fd;
	uint64_t deadline_ns, retry_at_ns;
	unsigned int backoff_ms;
	char *buf;
	size_t len, cap;
	uint64_t sent, answered;	/* requests sent; the last one answered */
	struct nv_snapshot snap;
	struct nv_snapshot scratch;	/* an answer decoded, until it is whole */
	bool have;
	bool was_on;
	bool ever_on;
	unsigned int said;
	char why[192];
	pid_t reap[REAP_MAX];
};

struct nvsrc *nvsrc_new(const struct nvsrc_opts *o)
{
	struct nvsrc *nv = calloc(1, sizeof(*nv));

	if (!nv)
		return NULL;
	nv->o = *o;
	if (!nv->o.lib)
		nv->o.lib = NVML_LIB;
	if (!nv->o.timeout_ms)
		nv->o.timeout_ms = 2000;
	if (!nv->o.retry_ms)
		nv->o.retry_ms = 10000;
	nv->backoff_ms = nv->o.retry_ms;
	nv->fd = -1;
	snprintf(nv->why, sizeof(nv->why), "not started");
	return nv;
}

static void reap(struct nvsrc *nv)
{
	for (int i = 0; i < REAP_MAX; i++)
		if (nv->reap[i] > 0 && waitpid(nv->reap[i], NULL, WNOHANG) != 0)
			nv->reap[i] = 0;
}

/* Kill the helper (if any) and forget its socket; it is reaped later. */
static void drop_helper(struct nvsrc *nv)
{
	if (nv->fd >= 0) {
		if (nv->o.loop)
			loop_del(nv->o.loop, nv->fd);
		close(nv->fd);
		nv->fd = -1;
	}
	if (nv->pid > 0) {
		kill(nv->pid, SIGKILL);
		if (waitpid(nv->pid, NULL, WNOHANG) == 0) {
			int i;

			for (i = 0; i < REAP_MAX && nv->reap[i] > 0; i++)
				;
			if (i < REAP_MAX)
				nv->reap[i] = nv->pid;
		}
		nv->pid = 0;
	}
	nv->len = 0;
}

/* The source goes off for @delay_ms; @kind is said once, @fmt says why. */
static void turn_off(struct nvsrc *nv, unsigned int kind, unsigned int delay_ms, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void turn_off(struct nvsrc *nv, unsigned int kind, unsigned int delay_ms, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(nv->why, sizeof(nv->why), fmt, ap);
	va_end(ap);
	drop_helper(nv);
	nv->st = NV_OFF;
	nv->have = false;
	nv->was_on = false;
	nv->retry_at_ns = mono_ns() + delay_ms * 1000000ULL;
	/* No library is the normal state of a host without NVIDIA GPUs: worth a line, not a warning. */
	if (!(nv->said & kind))
		log_msg(kind == SAID_NOLIB ? LOG_INFO : LOG_WARNING, "nvml: %s; NVML source off, tried again later",
			nv->why);
	else
		log_debug("nvml: %s", nv->why);
	nv->said |= kind;
}

static unsigned int next_backoff(struct nvsrc *nv)
{
	unsigned int d = nv->backoff_ms;

	nv->backoff_ms = d >= BACKOFF_MAX_MS / 2 ? BACKOFF_MAX_MS : d * 2;
	return d;
}

static void on_readable(void *arg, uint32_t events);

static int spawn(struct nvsrc *nv)
{
	pid_t parent = getpid(), pid;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int ret = -errno;

		close(sv[0]);
		close(sv[1]);
		return ret;
	}
	if (pid == 0) {
		sigset_t none;

		/* The helper must not outlive the daemon, nor keep its sockets and maps. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (sv[1] != 3 && dup2(sv[1], 3) < 0)
			_exit(1);
		close_range(4, ~0U, 0);
		prctl(PR_SET_NAME, "scx-nvml-helper");
		_exit(nvml_helper_main(3, nv->o.lib));
	}
	close(sv[1]);
	nv->fd = sv[0];
	nv->pid = pid;
	nv->len = 0;
	fcntl(nv->fd, F_SETFL, fcntl(nv->fd, F_GETFL) | O_NONBLOCK);
	if (nv->o.loop && loop_add(nv->o.loop, nv->fd, EPOLLIN, on_readable, nv) < 0)
		log_warn("nvml: watching the helper's socket: %s; answers are read once a pass", strerror(errno));
	nv->st = NV_READY;
	return 0;
}

/* An unsigned decimal of at most @max; the whole token. */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		uint64_t d = (uint64_t)(*s - '0');

		/*
		 * Room for this digit, not for any: a bound of (UINT64_MAX - 9) / 10
		 * refused UINT64_MAX itself, the "unknown" the protocol sends as bytes.
		 */
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	if (v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int hexval(char c)
{
	return (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 :
	       (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
}

int nvml_bus_to_sysfs(const char *bus, char *out, size_t len)
{
	/* After the domain: ":BB:DD.F", each letter one hex digit. */
	static const char shape[] = ":xx:xx.x";
	unsigned int dom = 0, v[3] = { 0 };
	int nd = 0, k = 0;

	/* The domain: 4 digits in the legacy form, 8 in NVML's own. */
	for (; bus[nd] && bus[nd] != ':'; nd++) {
		if (nd == 8 || hexval(bus[nd]) < 0)
			return -EINVAL;
		dom = dom << 4 | (unsigned int)hexval(bus[nd]);
	}
	if (nd < 4)
		return -EINVAL;
	bus += nd;
	for (int i = 0; shape[i]; i++) {
		if (shape[i] != 'x') {
			if (bus[i] != shape[i])
				return -EINVAL;
			k++;
			continue;
		}
		if (hexval(bus[i]) < 0)
			return -EINVAL;
		v[k - 1] = v[k - 1] << 4 | (unsigned int)hexval(bus[i]);
	}
	if (bus[sizeof(shape) - 1] || v[1] > 0x1f || v[2] > 7)
		return -EINVAL;
	if ((size_t)snprintf(out, len, "%04x:%02x:%02x.%x", dom, v[0], v[1], v[2]) >= len)
		return -EINVAL;
	return 0;
}

bool nvml_uuid_ok(const char *s)
{
	size_t n = strlen(s);
	const char *p = s + 4;

	if (n >= GPU_UUID_LEN || (strncmp(s, "GPU-", 4) && strncmp(s, "MIG-", 4)))
		return false;
	if (!strncmp(s, "MIG-GPU-", 8))
		p += 4;
	return *p && strspn(p, "0123456789abcdefABCDEF-/") == strlen(p);
}

static int add_use(struct nv_snapshot *s, const struct nv_use *u)
{
	if (s->nr_uses == s->use_cap) {
		size_t cap = s->use_cap ? s->use_cap * 2 : 64;
		struct nv_use *n = realloc(s->use, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		s->use = n;
		s->use_cap = cap;
	}
	s->use[s->nr_uses++] = *u;
	return 0;
}

/*
 * Read the lines of an answer into @s. Returns 0, -ENOMEM, or -EINVAL with
 * @bad naming the first line that breaks the protocol.
 */
static int parse_lines(char *buf, struct nv_snapshot *s, char *bad, size_t badlen, unsigned int *nbad)
{
	char *line, *save = NULL;
	int last_bad = -1;

	*nbad = 0;
	s->nr_gpus = 0;
	s->nr_uses = 0;
	s->nr_migs = 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *tok[5], *tsave = NULL;
		uint64_t idx, pid, bytes;
		int nt = 0;

		snprintf(bad, badlen, "%.80s", line);
		for (char *t = strtok_r(line, " ", &tsave); t && nt < 5; t = strtok_r(NULL, " ", &tsave))
			tok[nt++] = t;
		/* One answer a request: a second one behind it is a helper speaking unasked. */
		if (nt == 1 && !strcmp(tok[0], "end"))
			return save && *save ? -EINVAL : 0;
		if (nt == 3 && !strcmp(tok[0], "gpu")) {
			if (parse_u64(tok[1], GPU_MAX - 1, &idx) || (int)idx != s->nr_gpus)
				return -EINVAL;
			/* An id we cannot read names no GPU of ours: its processes count for nothing. */
			if (nvml_bus_to_sysfs(tok[2], s->pci[idx], sizeof(s->pci[idx])) < 0)
				s->pci[idx][0] = '\0';
			s->uuid[idx][0] = '\0';
			s->nr_gpus++;
			continue;
		}
		if (nt == 3 && (!strcmp(tok[0], "uuid") || !strcmp(tok[0], "mig"))) {
			bool mig = tok[0][0] == 'm';

			if (parse_u64(tok[1], GPU_MAX - 1, &idx) || (int)idx != s->nr_gpus - 1)
				return -EINVAL;
			/* A UUID we would not print names nothing: it is dropped, the answer stands. */
			if (!nvml_uuid_ok(tok[2]) || strncmp(tok[2], mig ? "MIG-" : "GPU-", 4))
				continue;
			if (!mig) {
				snprintf(s->uuid[idx], sizeof(s->uuid[idx]), "%s", tok[2]);
			} else if (s->nr_migs < NV_MIG_MAX) {
				s->mig[s->nr_migs].gpu = (int)idx;
				snprintf(s->mig[s->nr_migs].uuid, sizeof(s->mig[0].uuid), "%s", tok[2]);
				s->nr_migs++;
			}
			continue;
		}
		/* A GPU of the answer, counted once: the count goes to the log as GPUs. */
		if (nt == 3 && !strcmp(tok[0], "bad")) {
			if (parse_u64(tok[1], GPU_MAX - 1, &idx) || (int)idx != s->nr_gpus - 1)
				return -EINVAL;
			if (last_bad != (int)idx)
				(*nbad)++;
			last_bad = (int)idx;
			continue;
		}
		if (nt == 4 && !strcmp(tok[0], "proc")) {
			if (parse_u64(tok[1], GPU_MAX - 1, &idx) || (int)idx != s->nr_gpus - 1 ||
			    parse_u64(tok[2], INT_MAX, &pid) || parse_u64(tok[3], UINT64_MAX, &bytes))
				return -EINVAL;
			/*
			 * A context that holds nothing (a stray one every DDP rank leaves on GPU 0)
			 * is no use; nor is a process we cannot name (pid 0: in another pid namespace).
			 */
			if (!bytes || !pid)
				continue;
			/* The helper lists at most NVML_PROCS_MAX a GPU: more is a helper gone wrong, not memory to give. */
			if (s->nr_uses >= NVML_PROCS_MAX && s->use[s->nr_uses - NVML_PROCS_MAX].gpu == (int)idx)
				return -EINVAL;
			if (add_use(s, &(struct nv_use){ .pid = (pid_t)pid, .gpu = (int)idx, .bytes = bytes }) < 0)
				return -ENOMEM;
			continue;
		}
		return -EINVAL;
	}
	snprintf(bad, badlen, "no end line");
	return -EINVAL;
}

/* What the helper said goes to the log: no control bytes, nothing past ASCII. */
static void printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

bool nvml_answer_complete(const char *buf, size_t len)
{
	if (!len || buf[len - 1] != '\n')
		return false;
	if (!strncmp(buf, "nolib ", 6) || !strncmp(buf, "fail ", 5))
		return true;
	return len >= 4 && !memcmp(buf + len - 4, "end\n", 4) && (len == 4 || buf[len - 5] == '\n');
}

int nvml_answer_decode(char *buf, size_t len, struct nv_snapshot *s, struct nv_snapshot *tmp, unsigned int *nbad,
		       char *why, size_t whylen)
{
	struct nv_snapshot keep;
	char *nl;
	int ret;

	*nbad = 0;
	buf[len] = '\0';
	/*
	 * The text is read as C strings: a NUL would hide what follows it (the
	 * newline a nolib line was checked to end in: no newline, a NULL deref).
	 */
	if (strlen(buf) != len) {
		snprintf(why, whylen, "a NUL byte");
		return NV_ANSWER_GARBAGE;
	}
	if (!strncmp(buf, "nolib ", 6) || !strncmp(buf, "fail ", 5)) {
		bool nolib = buf[0] == 'n';

		nl = strchr(buf, '\n');
		*nl = '\0';
		snprintf(why, whylen, "%.120s", buf + (nolib ? 6 : 5));
		printable(why);
		return nolib ? NV_ANSWER_NOLIB : NV_ANSWER_FAIL;
	}
	ret = parse_lines(buf, tmp, why, whylen, nbad);
	if (ret == -EINVAL) {
		printable(why);
		return NV_ANSWER_GARBAGE;
	}
	if (ret < 0)
		return ret;
	/* The new answer goes in whole; the old one's storage is the next scratch. */
	keep = *s;
	*s = *tmp;
	*tmp = keep;
	s->seq = keep.seq;
	return NV_ANSWER_OK;
}

static void take_answer(struct nvsrc *nv)
{
	char why[128];
	unsigned int nbad;
	int ret;

	ret = nvml_answer_decode(nv->buf, nv->len, &nv->snap, &nv->scratch, &nbad, why, sizeof(why));
	if (ret == NV_ANSWER_NOLIB) {
		turn_off(nv, SAID_NOLIB, NOLIB_RETRY_MS, "%s not loadable (%s)", nv->o.lib, why);
		return;
	}
	if (ret == NV_ANSWER_FAIL) {
		turn_off(nv, SAID_FAIL, next_backoff(nv), "the library does not work (%s)", why);
		return;
	}
	if (ret == NV_ANSWER_GARBAGE) {
		turn_off(nv, SAID_GARBAGE, next_backoff(nv), "the helper answered garbage ('%s')", why);
		return;
	}
	if (ret < 0) {
		turn_off(nv, SAID_FAIL, next_backoff(nv), "out of memory reading the helper's answer");
		return;
	}
	if (nbad && !(nv->said & SAID_BADGPU)) {
		nv->said |= SAID_BADGPU;
		log_warn("nvml: %u GPUs could not be read (a garbage count or an error); NVML places nothing on them",
			 nbad);
	}
	nv->len = 0;
	nv->st = NV_READY;
	nv->answered = nv->sent;
	nv->snap.seq++;
	nv->have = true;
	nv->backoff_ms = nv->o.retry_ms;
	if (!nv->was_on) {
		log_info("nvml: %s%d GPUs", nv->ever_on ? "answering again: " : "", nv->snap.nr_gpus);
		nv->was_on = nv->ever_on = true;
	}
	snprintf(nv->why, sizeof(nv->why), "on");
}

static void helper_gone(struct nvsrc *nv)
{
	int status = 0;
	pid_t pid = nv->pid;

	if (pid > 0 && waitpid(pid, &status, WNOHANG) == pid) {
		nv->pid = 0;
		if (WIFSIGNALED(status)) {
			turn_off(nv, SAID_DIED, next_backoff(nv), "the helper died of signal %d (%s)", WTERMSIG(status),
				 strsignal(WTERMSIG(status)));
			return;
		}
		turn_off(nv, SAID_DIED, next_backoff(nv), "the helper exited with status %d", WEXITSTATUS(status));
		return;
	}
	turn_off(nv, SAID_DIED, next_backoff(nv), "the helper closed its socket (crashed)");
}

/* Read what is there. Returns 1 when an answer completed. */
static int drain(struct nvsrc *nv)
{
	for (;;) {
		ssize_t r;

		if (nv->fd < 0)
			return 0;
		if (nv->cap - nv->len < 4096) {
			size_t cap = nv->cap ? nv->cap * 2 : 8192;
			char *b;

			if (cap > ANSWER_MAX + 1) {
				turn_off(nv, SAID_GARBAGE, next_backoff(nv), "the helper answered more than %u bytes",
					 ANSWER_MAX);
				return 0;
			}
			b = realloc(nv->buf, cap);
			if (!b) {
				turn_off(nv, SAID_FAIL, next_backoff(nv), "out of memory reading the helper");
				return 0;
			}
			nv->buf = b;
			nv->cap = cap;
		}
		r = read(nv->fd, nv->buf + nv->len, nv->cap - nv->len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			break;
		if (r > 0 && nv->st != NV_WAIT) {
			turn_off(nv, SAID_GARBAGE, next_backoff(nv), "the helper spoke unasked");
			return 0;
		}
		if (r > 0) {
			nv->len += (size_t)r;
			continue;
		}
		/* EOF or an error: the answer may still be complete (nolib, fail). */
		if (nvml_answer_complete(nv->buf, nv->len)) {
			take_answer(nv);
			return 0;
		}
		helper_gone(nv);
		return 0;
	}
	if (nv->st == NV_WAIT && nvml_answer_complete(nv->buf, nv->len)) {
		take_answer(nv);
		return nv->st == NV_READY;
	}
	return 0;
}

static void on_readable(void *arg, uint32_t events)
{
	(void)events;
	drain(arg);
}

int nvsrc_poll(struct nvsrc *nv)
{
	uint64_t now = mono_ns(), seq;
	int fresh = 0, ret;

	if (!nv)
		return 0;
	reap(nv);
	seq = nv->snap.seq;
	if (nv->fd >= 0)
		drain(nv);
	fresh = nv->snap.seq != seq && nv->have;
	now = mono_ns();
	if (nv->st == NV_WAIT && now >= nv->deadline_ns) {
		turn_off(nv, SAID_HUNG, next_backoff(nv), "a request got no answer within %u ms (hung); helper killed",
			 nv->o.timeout_ms);
		return fresh;
	}
	if (nv->st == NV_OFF && now < nv->retry_at_ns)
		return fresh;
	if (nv->st == NV_OFF || nv->st == NV_IDLE) {
		ret = spawn(nv);
		if (ret < 0) {
			turn_off(nv, SAID_SPAWN, next_backoff(nv), "starting the helper: %s", strerror(-ret));
			return fresh;
		}
	}
	if (nv->st == NV_READY) {
		if (write(nv->fd, "q", 1) != 1) {
			helper_gone(nv);
			return fresh;
		}
		nv->sent++;
		nv->deadline_ns = now + nv->o.timeout_ms * 1000000ULL;
		nv->st = NV_WAIT;
	}
	return fresh;
}

int nvsrc_sync(struct nvsrc *nv, unsigned int timeout_ms)
{
	uint64_t end = mono_ns() + timeout_ms * 1000000ULL, want;

	if (!nv)
		return 0;
	/* An answer to a request sent before now may predate what the caller changed. */
	want = nv->sent + (nv->st == NV_WAIT ? 2 : 1);
	for (;;) {
		uint64_t now;
		struct pollfd p;

		nvsrc_poll(nv);
		if (nv->have && nv->answered >= want)
			return 1;
		now = mono_ns();
		if (nv->st == NV_OFF || now >= end)
			return 0;
		p = (struct pollfd){ .fd = nv->fd, .events = POLLIN };
		if (poll(&p, nv->fd >= 0 ? 1 : 0, 20) < 0 && errno != EINTR)
			return 0;
	}
}

const struct nv_snapshot *nvsrc_snapshot(const struct nvsrc *nv)
{
	return nv && nv->have ? &nv->snap : NULL;
}

bool nvsrc_on(const struct nvsrc *nv)
{
	return nv && nv->have;
}

void nvsrc_describe(const struct nvsrc *nv, char *buf, size_t len)
{
	uint64_t now = mono_ns();

	if (!nv)
		snprintf(buf, len, "off: not started");
	else if (nv->have)
		snprintf(buf, len, "on, %d GPUs", nv->snap.nr_gpus);
	else if (nv->st == NV_OFF)
		snprintf(buf, len, "off: %s; retrying in %llu s", nv->why,
			 (unsigned long long)(nv->retry_at_ns > now ? (nv->retry_at_ns - now + 999999999ULL) / 1000000000ULL : 0));
	else if (nv->st == NV_IDLE)
		snprintf(buf, len, "not asked yet (it is, once a GPU is found)");
	else
		snprintf(buf, len, "starting");
}

void nvsrc_free(struct nvsrc *nv)
{
	if (!nv)
		return;
	drop_helper(nv);
	reap(nv);
	free(nv->buf);
	free(nv->snap.use);
	free(nv->scratch.use);
	free(nv);
}
