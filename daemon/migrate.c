// SPDX-License-Identifier: GPL-2.0
/*
 * Memory follows the task (see migrate.h): the settle clock, the token
 * bucket and the round-robin over processes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "loop.h"
#include "migrate.h"
#include "proc.h"

/* A pass over a process's memory is redone this long after the last one, if a sample finds pages astray. */
#define REPASS_NS		(30ULL * 1000000000ULL)
/* A burst the bucket may save up: a fifth of a second's worth. */
#define BURST_DIV		5
/* Permission problems, failed passes and pages left behind are each said at most this often. */
#define DENIED_LOG_NS		(60ULL * 1000000000ULL)

/* One kind of trouble's log line: when it was last said, and how many times it went unsaid since. */
struct said {
	uint64_t at_ns;
	unsigned long held;
};

struct migrate {
	char root[256];
	const struct mem_ops *ops;
	struct mig_proc *procs;
	size_t nr;
	size_t rr;			/* next process to serve */
	uint64_t tokens;		/* bytes that may move now */
	uint64_t last_ns;		/* last tick */
	uint64_t denied_logged_ns;
	struct said failed_said, left_said;
	unsigned long page;
	struct mig_stats st;
};

const char *mig_source_str(enum mig_source s)
{
	switch (s) {
	case MIG_PIN: return "pin";
	case MIG_CGROUP: return "cgroup";
	case MIG_GPU: return "gpu";
	case MIG_AFFINITY: return "affinity";
	case MIG_MEMORY: return "memory";
	case MIG_BALANCE: return "balance";
	case MIG_THREADS: return "threads";
	}
	return "unknown";
}

int migrate_new(const char *root, const struct mem_ops *ops, struct migrate **out)
{
	struct migrate *m = calloc(1, sizeof(*m));
	long ps = sysconf(_SC_PAGESIZE);

	if (!m)
		return -ENOMEM;
	snprintf(m->root, sizeof(m->root), "%s", root ? root : "");
	m->ops = ops;
	m->page = ps > 0 ? (unsigned long)ps : 4096;
	*out = m;
	return 0;
}

static void proc_end_job(struct mig_proc *p)
{
	if (p->in_job)
		mem_job_free(&p->job);
	p->in_job = false;
}

void migrate_free(struct migrate *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nr; i++)
		proc_end_job(&m->procs[i]);
	free(m->procs);
	free(m);
}

uint64_t migrate_home_every(unsigned int home_streak)
{
	uint64_t every = MIG_SAMPLE_HOME_NS;

	for (unsigned int i = 0; i < home_streak && every < MIG_SAMPLE_HOME_MAX_NS; i++)
		every *= 2;
	return every < MIG_SAMPLE_HOME_MAX_NS ? every : MIG_SAMPLE_HOME_MAX_NS;
}

/* Does the last sample find the memory home (fewer than MIG_OFF_HOME_MIN per mille elsewhere)? */
static bool sample_home(const struct mig_proc *p)
{
	uint32_t on = p->node >= 0 && p->node < AN_MAX_NODE_ID ? p->sample.pages[p->node] : 0;
	uint32_t off = p->sample.resident - on;

	return (uint64_t)off * 1000 < (uint64_t)p->sample.resident * MIG_OFF_HOME_MIN;
}

static struct mig_proc *find(struct mig_proc *v, size_t n, pid_t pid, uint64_t start_time)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].pid == pid && v[i].start_time == start_time)
			return &v[i];
	return NULL;
}

int migrate_set_targets(struct migrate *m, const struct mig_target *t, size_t n, uint64_t now_ns)
{
	struct mig_proc *next = n ? calloc(n, sizeof(*next)) : NULL;
	size_t nr = 0;

	if (n && !next)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct mig_proc *old = find(m->procs, m->nr, t[i].pid, t[i].start_time), *p;

		/* The same process twice (a pin and its GPU): the first, most authoritative, wins. */
		if (find(next, nr, t[i].pid, t[i].start_time))
			continue;
		p = &next[nr++];
		if (old) {
			*p = *old;
			/* Taken over: the old slot must not free the job's ranges. */
			old->in_job = false;
		} else {
			p->pid = t[i].pid;
			p->start_time = t[i].start_time;
			p->moved_to = -1;
		}
		p->src = t[i].src;
		if (!old || old->node != t[i].node) {
			p->node = t[i].node;
			p->since_ns = now_ns;
			p->home_streak = 0;
			/* A pass towards another node is of no use any more. */
			proc_end_job(p);
		}
	}
	for (size_t i = 0; i < m->nr; i++)
		proc_end_job(&m->procs[i]);
	free(m->procs);
	m->procs = next;
	m->nr = nr;
	m->rr = 0;
	return 0;
}

bool migrate_busy(const struct migrate *m)
{
	for (size_t i = 0; i < m->nr; i++)
		if (m->procs[i].in_job || !m->procs[i].pass_end_ns)
			return true;
	return false;
}

const struct mig_stats *migrate_stats(const struct migrate *m)
{
	return &m->st;
}

size_t migrate_procs(const struct migrate *m, const struct mig_proc **out)
{
	*out = m->procs;
	return m->nr;
}

int migrate_locality(const struct migrate *m, pid_t pid)
{
	for (size_t i = 0; i < m->nr; i++) {
		const struct mig_proc *p = &m->procs[i];

		if (p->pid != pid)
			continue;
		if (!p->sampled_ns || !p->sample.resident || p->node < 0 || p->node >= AN_MAX_NODE_ID)
			return -1;
		return (int)((uint64_t)p->sample.pages[p->node] * 1000 / p->sample.resident);
	}
	return -1;
}

/* Still the process we were told about? A zombie has no memory to move. */
static bool still_there(const struct migrate *m, const struct mig_proc *p)
{
	struct proc_stat ps;

	return !proc_stat_read(m->root, p->pid, &ps) && ps.start_time == p->start_time && proc_stat_live(&ps);
}

static void said_denied(struct migrate *m, const struct mig_proc *p, int err, uint64_t now_ns)
{
	m->st.denied++;
	if (m->denied_logged_ns && now_ns - m->denied_logged_ns < DENIED_LOG_NS)
		return;
	m->denied_logged_ns = now_ns;
	log_warn("migrate: moving pages of process %d: %s (needs ptrace read access to it: CAP_SYS_PTRACE for "
		 "other users' processes); said once a minute", (int)p->pid, strerror(-err));
}

/* The kernel's answer when the daemon may not read or move a process's memory. */
static bool refused(int err)
{
	return err == -EPERM || err == -EACCES;
}

/*
 * The kernel refused to show or move @p's memory (the daemon lacks ptrace
 * read access to it): nothing is known of where its memory is, so no
 * figure from before stands, and `pins` says so instead of a stale share.
 */
static void mark_denied(struct migrate *m, struct mig_proc *p, int err, uint64_t now_ns)
{
	p->denied = true;
	memset(&p->sample, 0, sizeof(p->sample));
	p->home_streak = 0;
	said_denied(m, p, err, now_ns);
}

/* Say it now, or count it for the next line? At most one line a DENIED_LOG_NS. */
static bool say_now(struct said *s, uint64_t now_ns)
{
	if (s->at_ns && now_ns - s->at_ns < DENIED_LOG_NS) {
		s->held++;
		return false;
	}
	s->at_ns = now_ns;
	return true;
}

/* A pass that ended on a failed call, or left pages behind, said once a minute at most. */
static void said_trouble(struct migrate *m, const struct mig_proc *p, uint64_t now_ns)
{
	const struct mem_job_counts *n = &p->job.n;
	struct said *s;

	if (p->job.state == MEM_JOB_FAILED) {
		s = &m->failed_said;
		if (say_now(s, now_ns))
			log_warn("migrate: moving pages of process %d to node %d: %s; tried again in %llu s "
				 "(%lu more such failures since the last line; said once a minute)", (int)p->pid,
				 p->node, strerror(-p->job.err), REPASS_NS / 1000000000ULL, s->held);
		else
			return;
	} else if (n->busy + n->nomem + n->failed) {
		s = &m->left_said;
		if (say_now(s, now_ns))
			log_info("migrate: process %d: %llu pages stayed off node %d (%llu in use by the kernel, "
				 "%llu for lack of memory there, %llu for other reasons) of %llu moved "
				 "(%lu more such passes since the last line; said once a minute)", (int)p->pid,
				 (unsigned long long)(n->busy + n->nomem + n->failed), p->node,
				 (unsigned long long)n->busy, (unsigned long long)n->nomem,
				 (unsigned long long)n->failed, (unsigned long long)n->moved, s->held);
		else
			return;
	} else {
		return;
	}
	s->held = 0;
}

static int sample(struct migrate *m, struct mig_proc *p, uint64_t now_ns)
{
	struct mem_range *r = NULL;
	int nr, ret;

	nr = mem_read_ranges(m->root, p->pid, &r);
	if (nr < 0)
		return nr;
	ret = mem_sample_ranges(p->pid, m->ops, r, (size_t)nr, MIG_SAMPLE_PAGES, &p->sample);
	free(r);
	if (ret)
		return ret;
	p->sampled_ns = now_ns;
	p->denied = false;
	/* Home and still home: look less often; anything else: back to the base interval. */
	if (p->moved_to == p->node && sample_home(p))
		p->home_streak += p->home_streak < 32;
	else
		p->home_streak = 0;
	return 0;
}

/* Should a pass start now? Samples first when one is due; never blocks for long. */
uint64_t migrate_settle_of(const struct mig_proc *p, const struct mig_params *prm)
{
	/*
	 * The settle time is there to see a home hold before pages follow
	 * it; a balancer's home is held by the scheduler for balance_hold_ns
	 * from the move, so waiting would only keep the process remote.
	 */
	if (p->src == MIG_BALANCE && prm->balance_hold_ns >= prm->settle_ns)
		return 0;
	return prm->settle_ns;
}

static bool pass_due(struct migrate *m, struct mig_proc *p, const struct mig_params *prm, uint64_t now_ns)
{
	if (now_ns - p->since_ns < migrate_settle_of(p, prm))
		return false;
	/* Back to where the memory went a moment ago only after the home has held for long. */
	if (p->moved_to >= 0 && p->moved_to != p->node && now_ns - p->since_ns < 4 * prm->settle_ns)
		return false;
	if (p->pass_end_ns && p->moved_to == p->node) {
		if (now_ns - p->pass_end_ns < REPASS_NS)
			return false;
		/* Home by a sample not yet due again (it backs off): nothing to look at. */
		if (p->sampled_ns && sample_home(p) && now_ns - p->sampled_ns < migrate_home_every(p->home_streak))
			return false;
	}
	/* Refused for this process only: others, readable, are not held back by it. */
	if (p->pass_end_ns && now_ns - p->pass_end_ns < REPASS_NS && p->denied)
		return false;
	/* A failed call (the kernel out of memory, say) is not retried every tick either. */
	if (p->pass_end_ns && now_ns - p->pass_end_ns < REPASS_NS && p->job.state == MEM_JOB_FAILED)
		return false;
	if (!still_there(m, p)) {
		/* Gone or reused: the owner's next list drops it; until then, look now and then. */
		p->pass_end_ns = now_ns;
		return false;
	}
	if (!p->sampled_ns || now_ns - p->sampled_ns >= MIG_SAMPLE_NS) {
		int ret = sample(m, p, now_ns);

		if (refused(ret)) {
			mark_denied(m, p, ret, now_ns);
			p->pass_end_ns = now_ns;
			return false;
		}
		if (ret)
			return false;
	}
	/* Refused at the last sample (refresh_samples'): a pass would be refused too. */
	if (p->denied) {
		p->pass_end_ns = now_ns;
		return false;
	}
	if (sample_home(p)) {
		/* Home already: as good as a pass. */
		p->moved_to = p->node;
		p->pass_end_ns = now_ns;
		return false;
	}
	return true;
}

static void account(struct migrate *m, struct mig_proc *p, const struct mem_job_counts *before)
{
	const struct mem_job_counts *a = &p->job.n;

	m->st.busy += a->busy - before->busy;
	m->st.shared += a->shared - before->shared;
	m->st.nomem += a->nomem - before->nomem;
	m->st.failed += a->failed - before->failed;
	p->n.scanned += a->scanned - before->scanned;
	p->n.moved += a->moved - before->moved;
	p->n.busy += a->busy - before->busy;
	p->n.shared += a->shared - before->shared;
	p->n.nomem += a->nomem - before->nomem;
	p->n.failed += a->failed - before->failed;
}

/* The pass ended one way or another: what it means for the next one. */
static void pass_over(struct migrate *m, struct mig_proc *p, uint64_t now_ns)
{
	switch (p->job.state) {
	case MEM_JOB_RUNNING:
		return;
	case MEM_JOB_DONE:
		m->st.passes++;
		p->denied = false;
		p->moved_to = p->node;
		said_trouble(m, p, now_ns);
		break;
	case MEM_JOB_GONE:
		m->st.gone++;
		break;
	case MEM_JOB_DENIED:
		mark_denied(m, p, p->job.err, now_ns);
		break;
	case MEM_JOB_FAILED:
		m->st.failed_passes++;
		said_trouble(m, p, now_ns);
		break;
	}
	p->pass_end_ns = now_ns;
	/* Fresh eyes on where the memory is now. */
	p->sampled_ns = 0;
	proc_end_job(p);
}

/*
 * Keep each process's locality figure fresh (for `pins`), a few processes a
 * tick, whether or not migration is on: it is what says migration is needed.
 */
static void refresh_samples(struct migrate *m, uint64_t now_ns)
{
	unsigned int done = 0;
	int ret;

	for (size_t k = 0; k < m->nr && done < MIG_SAMPLES_PER_TICK; k++) {
		struct mig_proc *p = &m->procs[(m->rr + k) % m->nr];

		uint64_t every = p->moved_to == p->node ? migrate_home_every(p->home_streak) : MIG_SAMPLE_NS;

		if (p->in_job || (p->sampled_ns && now_ns - p->sampled_ns < every))
			continue;
		done++;
		if (!still_there(m, p))
			continue;
		ret = sample(m, p, now_ns);
		if (refused(ret))
			mark_denied(m, p, ret, now_ns);
		if (ret)
			p->sampled_ns = now_ns;	/* unreadable: try again in a while, not every tick */
	}
}

long migrate_tick(struct migrate *m, const struct mig_params *prm, uint64_t now_ns)
{
	uint64_t cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID), cap;
	unsigned long scan_left = MIG_SCAN_PER_TICK;
	long moved_tick = 0;
	bool stepped = false;

	refresh_samples(m, now_ns);
	if (!prm->rate_bps) {
		/* Off: nothing in flight, nothing saved up for when it comes back on. */
		for (size_t i = 0; i < m->nr; i++)
			proc_end_job(&m->procs[i]);
		m->tokens = 0;
		m->last_ns = now_ns;
		goto out;
	}
	if (m->last_ns && now_ns > m->last_ns) {
		uint64_t dt = now_ns - m->last_ns;

		/* rate * dt / 1e9 without overflow for any rate below 2^64 / 1e9 per ns. */
		m->tokens += prm->rate_bps / 1000000000ULL * dt + prm->rate_bps % 1000000000ULL * dt / 1000000000ULL;
	}
	m->last_ns = now_ns;
	cap = prm->rate_bps / BURST_DIV + m->page;
	if (m->tokens > cap)
		m->tokens = cap;

	/* At least one chunk a tick: a client that stays ready cannot stop memory from moving. */
	for (size_t k = 0; k < m->nr && scan_left && m->tokens >= m->page && !(stepped && loop_should_yield()); k++) {
		struct mig_proc *p = &m->procs[(m->rr + k) % m->nr];
		struct mem_job_counts before;
		long moved;
		int ret;

		if (!p->in_job) {
			if (!pass_due(m, p, prm, now_ns))
				continue;
			ret = mem_job_start(&p->job, m->root, p->pid, p->start_time, p->node);
			if (ret) {
				if (refused(ret))
					mark_denied(m, p, ret, now_ns);
				p->pass_end_ns = now_ns;
				continue;
			}
			p->in_job = true;
		} else if (!still_there(m, p)) {
			/* Exited, or its pid is another process's now: not one more page. */
			p->job.state = MEM_JOB_GONE;
			pass_over(m, p, now_ns);
			continue;
		}
		before = p->job.n;
		moved = 0;
		stepped = true;
		/* A chunk at a time: a waiting client is answered between two, not after the tick. */
		do {
			uint64_t scanned0 = p->job.n.scanned;
			long got = mem_job_step(&p->job, m->ops, scan_left < MEM_CHUNK ? scan_left : MEM_CHUNK,
						m->tokens / m->page);

			scan_left -= p->job.n.scanned - scanned0 < scan_left ? p->job.n.scanned - scanned0 : scan_left;
			m->tokens -= (uint64_t)got * m->page;
			moved += got;
		} while (p->job.state == MEM_JOB_RUNNING && scan_left && m->tokens >= m->page && !loop_should_yield());
		moved_tick += moved;
		if (p->node >= 0 && p->node < AN_MAX_NODE_ID)
			m->st.moved_pages[p->node] += (uint64_t)moved;
		m->st.moved_total += (uint64_t)moved;
		account(m, p, &before);
		pass_over(m, p, now_ns);
	}
out:
	/* What `status` says: refused for some process followed now, not for one long gone. */
	m->st.no_permission = false;
	for (size_t i = 0; i < m->nr; i++)
		m->st.no_permission |= m->procs[i].denied;
	if (m->nr)
		m->rr = (m->rr + 1) % m->nr;
	m->st.cpu_ns += clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	return moved_tick;
}
