// SPDX-License-Identifier: GPL-2.0
/*
 * Memory follows the task (daemon/migrate.c): the settle time, the rate,
 * the off switch, no back-and-forth, and processes that exit, turn zombie
 * or get their pid reused mid-pass, over a fake /proc tree and a fake
 * move_pages(2).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "check.h"
#include "fixture.h"
#include "loopfix.h"
#include "migrate.h"

#define BASE	0x200000000UL
#define PAGES	4096		/* 16 MB of 4 KB pages */
#define MS	1000000ULL
#define SEC	1000000000ULL

static char root[64];
static struct {
	int node[PAGES];
	long call_err;		/* every call fails with it */
	pid_t deny_pid;		/* every call for this process fails with EPERM */
	long move_err;		/* every move call fails with it (queries answer) */
	int page_status;	/* non-zero: every page a move asks for stays, with this status */
	unsigned long calls, moves;
	uint64_t spin_ns;	/* every call takes this long, as under a loaded host */
	int ask_fd;		/* >= 0: the first move call makes a client's request here */
	uint64_t asked_ns;
} fk;
static char log_path[96];

static long fake_move_pages(pid_t pid, unsigned long count, void **pages, const int *nodes, int *status,
			    int flags)
{
	(void)flags;
	fk.calls++;
	if (nodes && fk.ask_fd >= 0) {
		if (write(fk.ask_fd, "?", 1) != 1)
			perror("write");
		fk.ask_fd = -1;
		fk.asked_ns = mono_ns();
	}
	if (fk.spin_ns)
		fixture_spin(fk.spin_ns);
	if (fk.call_err)
		return fk.call_err;
	if (fk.deny_pid && pid == fk.deny_pid)
		return -EPERM;
	if (nodes)
		fk.moves++;
	if (nodes && fk.move_err)
		return fk.move_err;
	for (unsigned long i = 0; i < count; i++) {
		unsigned long p = ((unsigned long)pages[i] - BASE) / 4096;

		if (p >= PAGES) {
			status[i] = -EFAULT;
			continue;
		}
		if (nodes && fk.page_status) {
			status[i] = fk.page_status;
			continue;
		}
		if (nodes)
			fk.node[p] = nodes[i];
		status[i] = fk.node[p];
	}
	return 0;
}

static const struct mem_ops ops = { .move_pages = fake_move_pages };

/* A process in the fake /proc: its stat line (state, start time) and one 16 MB anonymous range. */
static void fake_proc(int pid, char state, unsigned long long start)
{
	char rel[64];

	snprintf(rel, sizeof(rel), "proc/%d/stat", pid);
	fixture_printf(root, rel, "%d (py thon) %c 1 %d %d 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 4 0 %llu "
		       "1000000 200 18446744073709551615\n", pid, state, pid, pid, start);
	snprintf(rel, sizeof(rel), "proc/%d/smaps", pid);
	fixture_printf(root, rel, "%lx-%lx rw-p 00000000 00:00 0 \nRss: %lu kB\n", BASE, BASE + PAGES * 4096UL,
		       PAGES * 4UL);
}

static void reset(int node)
{
	memset(&fk, 0, sizeof(fk));
	fk.ask_fd = -1;
	for (int i = 0; i < PAGES; i++)
		fk.node[i] = node;
}

static unsigned int on(int node)
{
	unsigned int n = 0;

	for (int i = 0; i < PAGES; i++)
		n += fk.node[i] == node;
	return n;
}

/* Tick every 100 ms from @t0 for @ms; returns the time after. */
static uint64_t run(struct migrate *m, const struct mig_params *p, uint64_t t0, unsigned int ms)
{
	for (unsigned int t = 0; t <= ms; t += 100)
		migrate_tick(m, p, t0 + t * MS);
	return t0 + ms * MS;
}

static struct migrate *fresh(void)
{
	struct migrate *m;

	if (migrate_new(root, &ops, &m))
		check_bail("migrate_new");
	return m;
}

/*
 * A home the node balancer gave is held by the scheduler for
 * balance_hold_ns: its memory moves without the settle time when that hold
 * is at least as long, and waits for it otherwise.
 */
static void test_balance_no_settle(void)
{
	struct mig_params p = { .rate_bps = 64ULL << 20, .settle_ns = 2 * SEC, .balance_hold_ns = 5 * SEC };
	struct mig_target t = { .pid = 100, .start_time = 5000, .node = 1, .src = MIG_BALANCE };
	struct migrate *m = fresh();
	const struct mig_proc *procs;
	uint64_t now = 10 * SEC;

	reset(0);
	fake_proc(100, 'S', 5000);
	migrate_set_targets(m, &t, 1, now);
	CHECK(migrate_procs(m, &procs) == 1 && migrate_settle_of(&procs[0], &p) == 0,
	      "a balancer's home held 5 s: no settle time");
	now = run(m, &p, now, 500);
	CHECK_INT(on(1), PAGES, "a balancer's home held longer than the settle time: memory follows at once");
	migrate_free(m);

	p.balance_hold_ns = 1 * SEC;
	m = fresh();
	reset(0);
	migrate_set_targets(m, &t, 1, now);
	now = run(m, &p, now, 1500);
	CHECK_INT(on(1), 0, "a balancer's home held less than the settle time: memory waits for the settle");
	now = run(m, &p, now, 1000);
	CHECK_INT(on(1), PAGES, "... and follows once it has held");
	migrate_free(m);
}

static void test_settle_then_move(void)
{
	struct mig_params p = { .rate_bps = 64ULL << 20, .settle_ns = 2 * SEC };
	struct mig_target t = { .pid = 100, .start_time = 5000, .node = 1, .src = MIG_PIN };
	struct migrate *m = fresh();
	uint64_t now = 10 * SEC;

	reset(0);
	fake_proc(100, 'S', 5000);
	migrate_set_targets(m, &t, 1, now);
	now = run(m, &p, now, 1900);
	CHECK_INT(on(1), 0, "before the settle time nothing moves");
	/* The owner gives the same list again: the settle clock keeps running. */
	migrate_set_targets(m, &t, 1, now);
	now = run(m, &p, now, 1500);
	CHECK_INT(on(1), PAGES, "after the settle time every page moves to the home node");
	CHECK(migrate_stats(m)->moved_pages[1] == PAGES && migrate_stats(m)->passes == 1,
	      "moved pages are counted into their node, one pass");
	fk.moves = 0;
	run(m, &p, now, 6000);
	CHECK(fk.moves == 0, "memory home: no further move calls (%lu)", fk.moves);
	CHECK_INT(migrate_locality(m, 100), 1000, "a fresh sample shows the memory home (per mille)");
	migrate_free(m);
}

static void test_rate(void)
{
	struct mig_params p = { .rate_bps = 2ULL << 20, .settle_ns = 0 };
	struct mig_target t = { .pid = 101, .start_time = 7, .node = 1, .src = MIG_GPU };
	struct migrate *m = fresh();
	uint64_t now = 100 * SEC;
	double mb;

	reset(0);
	fake_proc(101, 'R', 7);
	migrate_set_targets(m, &t, 1, now);
	migrate_tick(m, &p, now);
	run(m, &p, now, 3000);
	mb = on(1) * 4096.0 / (1 << 20);
	/* 3 s at 2 MB/s, plus at most the 0.2 s burst the bucket may save. */
	CHECK(mb >= 3 * 2 * 0.9 && mb <= 3 * 2 * 1.1 + 0.4, "moved bytes follow the rate: %.2f MB in 3 s at 2 MB/s", mb);
	migrate_free(m);
}

static void test_off(void)
{
	struct mig_params p = { .rate_bps = 1ULL << 20, .settle_ns = 0 }, off = { 0 };
	struct mig_target t = { .pid = 102, .start_time = 9, .node = 1, .src = MIG_AFFINITY };
	struct migrate *m = fresh();
	uint64_t now = 100 * SEC;
	unsigned int moved;

	reset(0);
	fake_proc(102, 'S', 9);
	migrate_set_targets(m, &t, 1, now);
	now = run(m, &p, now, 1000);
	moved = on(1);
	CHECK(moved > 0 && moved < PAGES, "a pass is in progress (%u pages)", moved);
	fk.moves = 0;
	now = run(m, &off, now, 3000);
	CHECK(on(1) == moved && fk.moves == 0, "migration off: nothing moves");
	/* Turned on again, no saved-up burst. */
	migrate_tick(m, &p, now);
	CHECK(on(1) - moved <= 1, "turned back on: no burst saved from the off time (%u)", on(1) - moved);
	migrate_free(m);
}

static void test_reuse_and_zombie(void)
{
	struct mig_params p = { .rate_bps = 1ULL << 20, .settle_ns = 0 };
	struct mig_target t[] = {
		{ .pid = 103, .start_time = 11, .node = 1, .src = MIG_PIN },
	};
	struct migrate *m = fresh();
	uint64_t now = 100 * SEC;
	unsigned int moved;

	reset(0);
	fake_proc(103, 'S', 11);
	migrate_set_targets(m, t, 1, now);
	now = run(m, &p, now, 1000);
	moved = on(1);
	/* The process exits and its pid goes to another process. */
	fake_proc(103, 'S', 12);
	now = run(m, &p, now, 2000);
	CHECK(moved > 0 && on(1) == moved, "pid reused mid-pass: not one more page moves (%u, %u)", moved, on(1));
	CHECK_INT(migrate_stats(m)->gone, 1, "... and the pass counts as cut short by an exit");
	reset(0);
	fake_proc(104, 'Z', 13);
	t[0] = (struct mig_target){ .pid = 104, .start_time = 13, .node = 1, .src = MIG_PIN };
	migrate_set_targets(m, t, 1, now);
	run(m, &p, now, 2000);
	CHECK(on(1) == 0 && fk.calls == 0, "a zombie's memory is never looked at, let alone moved");
	t[0].pid = 105;
	migrate_set_targets(m, t, 1, now);
	run(m, &p, now, 1000);
	CHECK(on(1) == 0 && fk.calls == 0, "a process that is gone before its pass: nothing, no error");
	migrate_free(m);
}

static void test_no_ping_pong(void)
{
	struct mig_params p = { .rate_bps = 64ULL << 20, .settle_ns = 1 * SEC };
	struct mig_target t = { .pid = 106, .start_time = 15, .node = 1, .src = MIG_GPU };
	struct migrate *m = fresh();
	uint64_t now = 100 * SEC;

	reset(0);
	fake_proc(106, 'S', 15);
	migrate_set_targets(m, &t, 1, now);
	now = run(m, &p, now, 2000);
	CHECK_INT(on(1), PAGES, "moved to node 1");
	t.node = 0;
	migrate_set_targets(m, &t, 1, now);
	now = run(m, &p, now, 3000);
	CHECK_INT(on(1), PAGES, "a home that flips back is not followed within four settle times");
	now = run(m, &p, now, 2000);
	CHECK_INT(on(0), PAGES, "... but once it has held that long, the memory follows");
	migrate_free(m);
}

/* Lines the daemon's log (stderr, kept in a file) has had so far that contain @needle. */
static int log_lines(const char *needle)
{
	char line[1024];
	int n = 0;
	FILE *f;

	fflush(stderr);
	f = fopen(log_path, "r");
	if (!f)
		check_bail("reading %s", log_path);
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

/*
 * move_pages(2) itself failing (the kernel out of memory, EBUSY on the
 * whole call): the pass ends, is tried again after the re-pass time and
 * not every tick, and the failure is logged once a minute at most, with
 * the errno. The process is still looked after afterwards.
 */
static void test_call_fails(void)
{
	static const long errs[] = { -ENOMEM, -EBUSY };
	struct mig_params p = { .rate_bps = 64ULL << 20, .settle_ns = 0 };

	for (size_t e = 0; e < sizeof(errs) / sizeof(errs[0]); e++) {
		struct mig_target t = { .pid = 110 + (int)e, .start_time = 21, .node = 1, .src = MIG_PIN };
		struct migrate *m = fresh();
		uint64_t now = 100 * SEC;
		int lines0 = log_lines("migrate: moving pages of process");
		const struct mig_proc *procs;

		reset(0);
		fk.move_err = errs[e];
		fake_proc(t.pid, 'S', 21);
		migrate_set_targets(m, &t, 1, now);
		now = run(m, &p, now, 70000);
		CHECK(fk.moves >= 2 && fk.moves <= 3,
		      "move_pages failing with %s: tried again every 30 s, not every tick (%lu move calls in 70 s)",
		      strerror((int)-errs[e]), fk.moves);
		CHECK_INT(log_lines("migrate: moving pages of process") - lines0, 2,
			  "... logged once a minute: 2 lines in 70 s (%s)", strerror((int)-errs[e]));
		CHECK(log_lines(strerror((int)-errs[e])) >= 1, "... the line names the error (%s)",
		      strerror((int)-errs[e]));
		CHECK(migrate_stats(m)->failed_passes == fk.moves, "... each failed pass counted (%llu)",
		      (unsigned long long)migrate_stats(m)->failed_passes);
		fk.move_err = 0;
		run(m, &p, now, 31000);
		CHECK_INT(on(1), PAGES, "... and once the call works again, the memory moves");
		CHECK(migrate_procs(m, &procs) == 1 && procs[0].pid == t.pid, "... the process was never dropped");
		migrate_free(m);
	}
}

/*
 * Every page a move asks for stays (EBUSY: pinned by the kernel; ENOMEM:
 * the node is full): the pass completes, the pages are counted by reason,
 * and one line says so, however many passes find the same.
 */
static void test_pages_stay(void)
{
	static const int errs[] = { -EBUSY, -ENOMEM };
	struct mig_params p = { .rate_bps = 256ULL << 20, .settle_ns = 0 };

	for (size_t e = 0; e < sizeof(errs) / sizeof(errs[0]); e++) {
		struct mig_target t = { .pid = 120 + (int)e, .start_time = 23, .node = 1, .src = MIG_GPU };
		struct migrate *m = fresh();
		uint64_t now = 100 * SEC;
		int lines0 = log_lines("pages stayed off node");
		const struct mig_stats *st;

		reset(0);
		fk.page_status = errs[e];
		fake_proc(t.pid, 'S', 23);
		migrate_set_targets(m, &t, 1, now);
		run(m, &p, now, 50000);
		st = migrate_stats(m);
		CHECK(on(1) == 0 && (errs[e] == -EBUSY ? st->busy : st->nomem) >= PAGES,
		      "every page refused with %s: none moved, all counted under it (busy %llu, nomem %llu)",
		      strerror(-errs[e]), (unsigned long long)st->busy, (unsigned long long)st->nomem);
		CHECK_INT(log_lines("pages stayed off node") - lines0, 1,
			  "... said in one line for %llu passes within a minute (%s)",
			  (unsigned long long)st->passes, strerror(-errs[e]));
		fk.page_status = 0;
		migrate_free(m);
	}
}

static void test_denied(void)
{
	struct mig_params p = { .rate_bps = 64ULL << 20, .settle_ns = 0 };
	struct mig_target t = { .pid = 107, .start_time = 17, .node = 1, .src = MIG_PIN };
	struct migrate *m = fresh();
	uint64_t now = 100 * SEC;

	reset(0);
	fk.call_err = -EPERM;
	fake_proc(107, 'S', 17);
	migrate_set_targets(m, &t, 1, now);
	run(m, &p, now, 10000);
	CHECK(migrate_stats(m)->no_permission, "no permission is visible in the stats");
	CHECK(fk.calls <= 4, "no permission: not retried every tick (%lu calls in 10 s)", fk.calls);
	CHECK_INT(log_lines("needs ptrace read access"), 1, "no permission: said once in 10 s");
	migrate_free(m);
}

/*
 * One process the kernel will not show (another user's, the daemon without
 * CAP_SYS_PTRACE) among others it will: that one is reported as refused,
 * with no memory figure (not the last one from before the refusal), while
 * the others' memory still moves; once it is no longer followed, `status`
 * no longer says "no permission".
 */
static void test_denied_one_process(void)
{
	struct mig_params p = { .rate_bps = 64ULL << 20, .settle_ns = 0 };
	struct mig_target t[2] = {
		{ .pid = 130, .start_time = 31, .node = 1, .src = MIG_PIN },
		{ .pid = 131, .start_time = 33, .node = 1, .src = MIG_PIN },
	};
	struct migrate *m = fresh();
	const struct mig_proc *procs;
	uint64_t now = 100 * SEC;
	size_t n;

	reset(1);
	fake_proc(130, 'S', 31);
	fake_proc(131, 'S', 33);
	migrate_set_targets(m, t, 1, now);
	now = run(m, &p, now, 6000);
	CHECK_INT(migrate_locality(m, 130), 1000, "readable and home: its memory figure is there");
	/* Its owner changes uid, say: from now on the kernel refuses. */
	fk.deny_pid = 130;
	now = run(m, &p, now, (MIG_SAMPLE_HOME_MAX_NS + 5 * SEC) / MS);
	n = migrate_procs(m, &procs);
	CHECK(n == 1 && procs[0].denied, "refused at its next look: the process is marked refused");
	CHECK_INT(migrate_locality(m, 130), -1, "... and the figure from before the refusal is gone, not kept");
	CHECK(migrate_stats(m)->no_permission, "... status says no permission");
	/* Another process, readable, with its memory away from its home. */
	reset(0);
	migrate_set_targets(m, t, 2, now);
	now = run(m, &p, now, 10000);
	CHECK_INT(on(1), PAGES, "the readable process's memory still moves beside the refused one");
	n = migrate_procs(m, &procs);
	CHECK(n == 2 && procs[0].denied && !procs[1].denied, "... only the refused one is marked");
	CHECK(migrate_stats(m)->no_permission, "... and status still says no permission, the other's pass done");
	migrate_set_targets(m, &t[1], 1, now);
	run(m, &p, now, 1000);
	CHECK(!migrate_stats(m)->no_permission, "the refused process no longer followed: status no longer says "
	      "no permission");
	fk.deny_pid = 0;
	migrate_free(m);
}

/* Tick once a second from @t0 for @s seconds (the daemon's pace at steady state); returns the time after. */
static uint64_t run_slow(struct migrate *m, const struct mig_params *p, uint64_t t0, unsigned int s)
{
	for (unsigned int t = 0; t <= s; t++)
		migrate_tick(m, p, t0 + t * SEC);
	return t0 + s * SEC;
}

/*
 * Memory that stays home is sampled less and less often (the steady-state
 * cost of 100 homed processes), yet pages found astray later still go home.
 */
static void test_home_backoff(void)
{
	struct mig_params p = { .rate_bps = 64ULL << 20, .settle_ns = 2 * SEC };
	struct mig_target t = { .pid = 108, .start_time = 19, .node = 1, .src = MIG_AFFINITY };
	struct migrate *m = fresh();
	uint64_t now = 100 * SEC;
	unsigned long calls;

	CHECK(migrate_home_every(0) == MIG_SAMPLE_HOME_NS && migrate_home_every(1) == 2 * MIG_SAMPLE_HOME_NS &&
	      migrate_home_every(2) == 4 * MIG_SAMPLE_HOME_NS, "the interval doubles with each sample found home");
	CHECK(migrate_home_every(4) == MIG_SAMPLE_HOME_MAX_NS && migrate_home_every(1000) == MIG_SAMPLE_HOME_MAX_NS,
	      "... up to MIG_SAMPLE_HOME_MAX_NS, whatever the streak");
	reset(1);
	fake_proc(108, 'S', 19);
	migrate_set_targets(m, &t, 1, now);
	now = run_slow(m, &p, now, 600);
	/* One move_pages(2) query per sample of this 16 MB process: 30 s apart without the back-off, 20 of them. */
	CHECK(fk.calls <= 6, "memory home for 10 minutes: sampled at most 6 times (%lu)", fk.calls);
	CHECK(fk.moves == 0, "memory home: nothing moved");
	/* Something moved half of it away: the next sample, at most MIG_SAMPLE_HOME_MAX_NS on, brings it back. */
	for (int i = 0; i < PAGES / 2; i++)
		fk.node[i] = 0;
	calls = fk.calls;
	now = run_slow(m, &p, now, MIG_SAMPLE_HOME_MAX_NS / SEC + 10);
	CHECK_INT(on(1), PAGES, "pages found astray after the back-off still go home");
	CHECK(fk.calls > calls, "they were found by a sample");
	/* A new home starts the schedule over. */
	t.node = 0;
	migrate_set_targets(m, &t, 1, now);
	now = run_slow(m, &p, now, 30);
	CHECK_INT(on(0), PAGES, "a new home is followed within the settle time, back-off or not");
	migrate_free(m);
}

/* The daemon's shape: migrate_tick() on a loop timer, a control client on the same loop. */
struct yield_world {
	struct migrate *m;
	struct mig_params p;
	int timer_fd, client_fd;
	uint64_t answered_ns;
};

static void on_mig_timer(void *arg, uint32_t events)
{
	struct yield_world *w = arg;

	(void)events;
	loop_timer_drain(w->timer_fd);
	migrate_tick(w->m, &w->p, mono_ns());
}

static void on_request(void *arg, uint32_t events)
{
	struct yield_world *w = arg;
	char c;

	(void)events;
	if (read(w->client_fd, &c, 1) == 1)
		w->answered_ns = mono_ns();
}

static void test_yields_to_client(void)
{
	struct mig_target t = { .pid = 108, .start_time = 9, .node = 1, .src = MIG_PIN };
	struct yield_world w = { .p = { .rate_bps = 1ULL << 40, .settle_ns = 0 } };
	struct loop *l;
	uint64_t t0, ms;
	int sv[2];

	reset(0);
	fake_proc(108, 'R', 9);
	l = loopfix_open(sv, on_request, &w);
	w.m = fresh();
	w.client_fd = sv[0];
	migrate_set_targets(w.m, &t, 1, mono_ns());
	/* 16 calls of 50 ms: one tick's budget holds the whole 0.8 s pass. */
	fk.spin_ns = 50 * MS;
	fk.ask_fd = sv[1];
	w.timer_fd = loop_add_timer(l, 10, on_mig_timer, &w);
	t0 = mono_ns();
	while ((!w.answered_ns || on(1) < PAGES) && mono_ns() - t0 < 10 * SEC)
		loop_run_once(l, 100);
	ms = w.answered_ns && fk.asked_ns ? (w.answered_ns - fk.asked_ns) / MS : 99999;
	CHECK(ms < 150, "a request made while memory moves is answered after the chunk in flight, "
	      "not after the tick's pass (%llu ms; the pass takes 800)", (unsigned long long)ms);
	CHECK_INT(on(1), PAGES, "the pass still moves every page, over later ticks");
	loopfix_close(l, w.timer_fd, sv);
	migrate_free(w.m);
}

/* The request is left unread: the client stays ready for the whole test. */
static void on_unread(void *arg, uint32_t events)
{
	(void)arg;
	(void)events;
}

static void test_ready_client_no_starve(void)
{
	struct mig_target t = { .pid = 109, .start_time = 9, .node = 1, .src = MIG_PIN };
	struct yield_world w = { .p = { .rate_bps = 1ULL << 40, .settle_ns = 0 } };
	struct loop *l;
	uint64_t t0;
	int sv[2];

	reset(0);
	fake_proc(109, 'R', 9);
	l = loopfix_open(sv, on_unread, NULL);
	if (write(sv[1], "?", 1) != 1)
		check_bail("write");
	w.m = fresh();
	migrate_set_targets(w.m, &t, 1, mono_ns());
	w.timer_fd = loop_add_timer(l, 10, on_mig_timer, &w);
	for (t0 = mono_ns(); on(1) < PAGES && mono_ns() - t0 < 5 * SEC;)
		loop_run_once(l, 100);
	CHECK_INT(on(1), PAGES, "a client that stays ready does not stop memory moving: a chunk a tick still goes");
	loopfix_close(l, w.timer_fd, sv);
	migrate_free(w.m);
}

int main(void)
{
	char cmd[128];

	snprintf(root, sizeof(root), "/tmp/test-migrate-XXXXXX");
	if (!mkdtemp(root))
		check_bail("mkdtemp");
	fixture_mkdir(root, "proc");
	/* The log goes to a file the tests count lines in. */
	snprintf(log_path, sizeof(log_path), "%s/log", root);
	if (!freopen(log_path, "w", stderr))
		check_bail("redirecting stderr to %s", log_path);
	test_settle_then_move();
	test_balance_no_settle();
	test_rate();
	test_off();
	test_reuse_and_zombie();
	test_no_ping_pong();
	test_denied();
	test_denied_one_process();
	test_call_fails();
	test_pages_stay();
	test_home_backoff();
	test_yields_to_client();
	test_ready_client_no_starve();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd))
		check_bail("cleanup");
	return check_done();
}
