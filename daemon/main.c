// SPDX-License-Identifier: GPL-2.0
/*
 * scx_ai_numad: keep the scx_ai_numa scheduler attached.
 *
 * One thread around one event loop. The scheduler's lifecycle policy lives
 * here: attach; on a kernel restart request (CPU hotplug) re-read the
 * topology and re-attach at once; on an error exit retry with exponential
 * backoff and give up after max_failures errors within failure_window_s,
 * leaving the kernel's default scheduler in charge; on SIGINT/SIGTERM detach;
 * on SIGHUP re-read the configuration file and apply it live. The
 * configuration module only reads: applying a configuration is done here.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "bounded.h"
#include "clock.h"
#include "config.h"
#include "control.h"
#include "daemon.h"
#include "exitinfo.h"
#include "explain.h"
#include "faults.h"
#include "fileio.h"
#include "log.h"
#include "loop.h"
#include "memfollow.h"
#include "notify.h"
#include "placement.h"
#include "sched.h"
#include "scxstats.h"
#include "settings.h"
#include "tunables.h"

#ifndef SCX_AI_NUMA_VERSION
#define SCX_AI_NUMA_VERSION "unknown"
#endif

/* A hotplug restart may race with the kernel still disabling the old instance. */
#define RESTART_RETRY_MS	50
#define BACKOFF_MAX_MS		30000
#define MAX_FAILURES_TRACKED	1000
/*
 * How long detaching may take before the daemon goes on without it: well
 * inside the unit's TimeoutStopSec (30 s), so the reason is in the journal
 * before systemd's SIGKILL. A normal detach takes milliseconds to a second.
 */
#define DETACH_TIMEOUT_MS	15000
/*
 * Before the final detach, CPU hotplug must have been quiet this long (the
 * kernel's hotplug_seq unchanged); waited for at most HOTPLUG_SETTLE_MS.
 */
#define HOTPLUG_QUIET_MS	300
#define HOTPLUG_SETTLE_MS	3000
/* LSB's "program is not configured": the unit does not restart on it. */
#define EXIT_CONFIG		6

static struct daemon D;
static int retry_fd = -1, tick_fd = -1, watchdog_fd = -1;
static int exit_code;
static bool done;
static uint64_t failures[MAX_FAILURES_TRACKED];	/* monotonic ns of recent error exits */
static unsigned int nr_failures, consecutive_failures;

static void stop(int code)
{
	exit_code = code;
	done = true;
}

static void on_sched_exit(void *arg, uint32_t events);

/* What `systemctl status` shows, after @prefix ("READY=1\n" or ""). */
/* For memfollow: the node balancer's homes, none while detached. */
static size_t balanced_homes(void *arg, pid_t *pid, int *node, size_t max)
{
	struct daemon *d = arg;

	return d->sched ? sched_balanced_homes(d->sched, pid, node, max) : 0;
}

static uint64_t cpumask_changes(void *arg)
{
	struct daemon *d = arg;

	return d->sched ? sched_cpumask_changes(d->sched) : 0;
}

static void notify_status(struct daemon *d, const char *prefix)
{
	int ret = 0;

	switch (d->state) {
	case ST_STARTING:
		ret = notify_printf("%sSTATUS=attaching", prefix);
		break;
	case ST_RUNNING:
		ret = notify_printf("%sSTATUS=scheduling on %d nodes, %u restarts, %u errors", prefix,
				    topology_nr_cpu_nodes(&d->topo), d->restarts, d->errors);
		break;
	case ST_BACKOFF:
		ret = notify_printf("%sSTATUS=scheduler exited (%s), retrying; %u errors", prefix,
				    exit_kind_str(d->last_exit.kind), d->errors);
		break;
	case ST_STOPPING:
		ret = notify_printf("%sSTOPPING=1\nSTATUS=stopping", prefix);
		break;
	}
	if (ret < 0)
		log_warn("sd_notify: $NOTIFY_SOCKET: %s", strerror(-ret));
}

static void destroy_sched(void *s)
{
	unsigned int ms = faults_detach_delay_ms();

	if (ms) {
		struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	sched_destroy(s);
}

/*
 * Closing the link returns once the kernel has disabled the scheduler, and
 * waits for that uninterruptibly. A disable that does not finish must not
 * hold the daemon (and whoever stops it) forever: past the bound, say so
 * and go on without it. The kernel keeps the scheduler's programs and maps
 * for as long as its disable needs them, whatever this process does, and
 * the disable puts sched_ext in bypass mode before anything that can wait,
 * so every task keeps running meanwhile; what the kernel cannot do until
 * the disable ends is take another sched_ext scheduler. Returns true
 * when the bound ran out.
 */
static bool detach(struct daemon *d)
{
	int fd = sched_exit_fd(d->sched);
	char path[4096], state[32];
	uint64_t t0 = mono_ns(), ms;
	int ret;

	if (!d->sched)
		return false;
	if (fd >= 0)
		loop_del(d->loop, fd);
	ret = run_bounded(destroy_sched, d->sched, DETACH_TIMEOUT_MS);
	if (ret && ret != -ETIMEDOUT) {
		log_warn("detach: no thread to bound the wait with (%s); waiting for the kernel", strerror(-ret));
		destroy_sched(d->sched);
	}
	d->sched = NULL;
	ms = (mono_ns() - t0) / 1000000ULL;
	if (ret != -ETIMEDOUT) {
		if (ms >= 1000)
			log_info("detach: the kernel took %llu ms to disable the scheduler", (unsigned long long)ms);
		return false;
	}
	snprintf(path, sizeof(path), "%s/sys/kernel/sched_ext/state", d->opt.sysfs_root);
	if (read_small_file(path, state, sizeof(state), true) < 0)
		snprintf(state, sizeof(state), "unknown");
	log_err("detach: the kernel has not finished disabling the scheduler after %u s (sched_ext state %s); "
		"going on without it. Tasks keep running (sched_ext's bypass mode, then the default scheduler); "
		"no sched_ext scheduler can attach until the disable ends, and this process cannot be reaped "
		"until then",
		DETACH_TIMEOUT_MS / 1000, state);
	ret = notify_printf("STATUS=detach stuck in the kernel (sched_ext %s)", state);
	if (ret < 0)
		log_warn("sd_notify: $NOTIFY_SOCKET: %s", strerror(-ret));
	return true;
}

/*
 * The kernel's disable waits for CPU hotplug (it takes the hotplug lock),
 * and the stops that hung in it came within a second of CPUs going on or
 * off: a stop does not start the disable in the middle of a burst of
 * hotplug if a short, bounded wait avoids that.
 */
static void wait_hotplug_quiet(const struct daemon *d)
{
	uint64_t seq = sched_hotplug_seq(d->opt.sysfs_root), t0 = mono_ns(), quiet = t0, now;
	unsigned int changes = 0;
	struct timespec step = { .tv_nsec = 50 * 1000000L };

	for (;;) {
		uint64_t s;

		nanosleep(&step, NULL);
		now = mono_ns();
		s = sched_hotplug_seq(d->opt.sysfs_root);
		if (s != seq) {
			seq = s;
			quiet = now;
			changes++;
		}
		if (now - quiet >= HOTPLUG_QUIET_MS * 1000000ULL)
			break;
		if (now - t0 >= HOTPLUG_SETTLE_MS * 1000000ULL) {
			log_warn("detach: CPU hotplug still going after %u ms (%u changes); detaching anyway",
				 HOTPLUG_SETTLE_MS, changes);
			return;
		}
	}
	if (changes)
		log_info("detach: waited %llu ms for CPU hotplug to settle (%u changes)",
			 (unsigned long long)((now - t0) / 1000000ULL), changes);
}

static void log_topology_change(const struct topology *old, const struct topology *new)
{
	if (old->nr_online != new->nr_online)
		log_info("topology: online CPUs %d -> %d", old->nr_online, new->nr_online);
	else if (!topology_equal(old, new))
		log_info("topology: changed");
}

/*
 * Read the topology and attach. Returns 0 or -errno with the reason logged
 * at @fail_level (errors are fatal at startup, routine during restarts).
 */
static int attach(struct daemon *d, int fail_level)
{
	static struct an_topo bpf_topo;
	struct sched_opts so = {
		.hotplug_seq = sched_hotplug_seq(d->opt.sysfs_root),
		.hotplug_restart = d->opt.hotplug_restart,
		.global_idle = d->opt.global_idle,
	};
	struct topology topo;
	char err[1536];
	int ret, fd;

	ret = topology_read(d->opt.sysfs_root, &topo, err, sizeof(err));
	/*
	 * Without LLCs the view has one per node: the per-node queues. Each
	 * CPU's physical L3 stays, for the count of runs that changed it.
	 */
	if (!ret && d->opt.node_queues)
		topology_drop_llcs(&topo);
	if (!ret)
		ret = topology_to_bpf(&topo, &bpf_topo, err, sizeof(err));
	if (ret) {
		log_msg(fail_level, "topology: %s", err);
		return ret;
	}
	if (d->attach_count)
		log_topology_change(&d->topo, &topo);
	d->topo = topo;
	stats_near_nodes(&topo, so.near_nodes);

	ret = sched_attach(&bpf_topo, &d->tun, &so, &d->sched, err, sizeof(err));
	if (ret) {
		log_msg(fail_level, "%s", err);
		return ret;
	}
	fd = sched_exit_fd(d->sched);
	/* Kernels without poll on struct_ops links are covered by the stats tick. */
	if (fd >= 0 && loop_add(d->loop, fd, EPOLLIN | EPOLLHUP, on_sched_exit, d) < 0)
		log_debug("attach: struct_ops link not pollable, polling the exit record");
	d->state = ST_RUNNING;
	d->attach_count++;
	d->attached_ns = mono_ns();
	d->idle_per_node = sched_idle_per_node(d->sched);
	daemon_stats_reset(d);
	/* A new scheduler has empty placement maps: install the GPU homes and pins again. */
	placement_attached(d->placement);
	log_info("attached: scheduling on %d nodes (%d LLC queues), %d of %d CPUs online, %s idle tracking (attach #%u)",
		 topology_nr_cpu_nodes(&d->topo), d->topo.nr_llcs ? d->topo.nr_llcs : topology_nr_cpu_nodes(&d->topo),
		 d->topo.nr_online, d->topo.nr_cpus,
		 d->idle_per_node ? "per-node" : "global", d->attach_count);
	notify_status(d, "");
	return 0;
}

/* Count an error exit; true when the failure budget is exhausted. */
static bool failure_budget_exhausted(struct daemon *d)
{
	uint64_t t = mono_ns(), window = (uint64_t)d->opt.failure_window_s * 1000000000ULL;
	unsigned int kept = 0;

	for (unsigned int i = 0; i < nr_failures; i++)
		if (t - failures[i] < window)
			failures[kept++] = failures[i];
	nr_failures = kept;
	if (nr_failures < MAX_FAILURES_TRACKED)
		failures[nr_failures++] = t;
	return nr_failures > d->opt.max_failures;
}

static void schedule_retry(struct daemon *d, uint64_t ms)
{
	d->state = ST_BACKOFF;
	notify_status(d, "");
	if (loop_timer_set(retry_fd, ms, 0) < 0) {
		log_err("schedule_retry: timerfd_settime: %s", strerror(errno));
		stop(1);
	}
}

/* The kernel's debug dump of an error exit: what each CPU and queue held. */
static void log_dump(const char *dump)
{
	const char *p = dump, *nl;
	int lines = 0;

	log_err("kernel debug dump follows");
	while (*p && lines++ < 400) {
		nl = strchr(p, '\n');
		if (!nl) {
			log_err("dump: %s", p);
			break;
		}
		log_err("dump: %.*s", (int)(nl - p), p);
		p = nl + 1;
	}
}

/*
 * A SIGTERM or SIGINT not read yet: the signalfd leaves it pending until
 * the loop gets to it. A re-attach (seconds of BPF loading on a slow or busy
 * machine, and under hotplug churn one after another) must not hold up a
 * stop that has already been asked for.
 */
static bool stop_pending(void)
{
	sigset_t set;

	if (done)
		return true;
	if (sigpending(&set) < 0)
		return false;
	return sigismember(&set, SIGTERM) == 1 || sigismember(&set, SIGINT) == 1;
}

static void handle_exit(struct daemon *d)
{
	struct an_exit_info ei;
	enum exit_action act;
	uint64_t backoff;

	if (!d->sched || !sched_exited(d->sched, &ei))
		return;
	d->last_exit = ei;
	detach(d);
	act = exit_classify(ei.kind, ei.exit_code);
	log_msg(act == EXIT_ACT_RETRY ? LOG_ERR : LOG_INFO,
		"scheduler exited: %s (kind %d, code %#llx): %s%s%s", exit_kind_str(ei.kind), ei.kind,
		(unsigned long long)ei.exit_code, ei.reason, ei.msg[0] ? ": " : "", ei.msg);

	if (act == EXIT_ACT_RETRY && ei.dump[0])
		log_dump(ei.dump);
	switch (act) {
	case EXIT_ACT_RESTART:
		d->restarts++;
		consecutive_failures = 0;
		if (stop_pending()) {
			log_info("stopping: not re-attaching");
			return;
		}
		if (attach(d, LOG_WARNING))
			schedule_retry(d, RESTART_RETRY_MS);
		return;
	case EXIT_ACT_STOP:
		log_info("the kernel's default scheduler is in charge; exiting");
		stop(0);
		return;
	case EXIT_ACT_RETRY:
		d->errors++;
		if (failure_budget_exhausted(d)) {
			log_err("giving up after %u error exits within %us; the kernel's default scheduler stays in charge",
				nr_failures, d->opt.failure_window_s);
			stop(1);
			return;
		}
		backoff = (uint64_t)d->opt.backoff_ms << (consecutive_failures < 16 ? consecutive_failures : 16);
		if (backoff > BACKOFF_MAX_MS)
			backoff = BACKOFF_MAX_MS;
		consecutive_failures++;
		log_warn("retrying in %llu ms (%u of %u failures allowed in %us)", (unsigned long long)backoff,
			 nr_failures, d->opt.max_failures, d->opt.failure_window_s);
		schedule_retry(d, backoff);
		return;
	}
}

static void on_sched_exit(void *arg, uint32_t events)
{
	struct daemon *d = arg;

	(void)events;
	if (d->sched && sched_exited(d->sched, NULL)) {
		handle_exit(d);
		return;
	}
	/* Hung up without an exit record (should not happen): stop polling it. */
	if (d->sched && (events & EPOLLHUP))
		loop_del(d->loop, sched_exit_fd(d->sched));
}

static void on_retry(void *arg, uint32_t events)
{
	struct daemon *d = arg;

	(void)events;
	loop_timer_drain(retry_fd);
	if (d->sched || stop_pending())
		return;
	if (attach(d, LOG_WARNING) == 0)
		return;
	/* A restart's re-attach that keeps failing is an error exit like any other. */
	d->errors++;
	if (failure_budget_exhausted(d)) {
		log_err("giving up: re-attach failed %u times within %us; the kernel's default scheduler stays in charge",
			nr_failures, d->opt.failure_window_s);
		stop(1);
		return;
	}
	schedule_retry(d, d->opt.backoff_ms);
}

static void print_summary(struct daemon *d)
{
	struct stats st;

	if (daemon_stats(d, &st) < 0)
		return;
	printf("[%s] attach #%u restarts %u errors %u\n", sched_state_str(d->state), d->attach_count,
	       d->restarts, d->errors);
	for (uint32_t i = 0; i < st.nr_nodes; i++) {
		const struct stats_node *n = &st.node[i];

		printf("  node %u cpus %u/%u queued %u | direct %.0f/s remote %.0f/s enq %.0f/s "
		       "local %.0f/s steal in %.0f/s out %.0f/s kick %.0f/s | total direct %llu steal_in %llu\n",
		       n->node_id, n->nr_online, n->nr_cpus, n->queued, n->rate[AN_STAT_DIRECT],
		       n->rate[AN_STAT_DIRECT_REMOTE], n->rate[AN_STAT_NODE_ENQ], n->rate[AN_STAT_NODE_DISPATCH],
		       n->rate[AN_STAT_STEAL_IN], n->rate[AN_STAT_STEAL_OUT], n->rate[AN_STAT_KICK],
		       (unsigned long long)n->cnt[AN_STAT_DIRECT], (unsigned long long)n->cnt[AN_STAT_STEAL_IN]);
	}
	fflush(stdout);
}

/* Hotplug is handled in place: keep the online CPUs current (what Status and Topology report). */
static void refresh_topology(struct daemon *d)
{
	int before = d->topo.nr_online;

	/* Before the first attach there is no topology to refresh. */
	if (!d->attach_count)
		return;
	if (topology_refresh_online(d->opt.sysfs_root, &d->topo) > 0 && d->topo.nr_online != before)
		log_info("topology: online CPUs %d -> %d", before, d->topo.nr_online);
}

static void on_tick(void *arg, uint32_t events)
{
	static unsigned int ticks;
	struct daemon *d = arg;

	(void)events;
	loop_timer_drain(tick_fd);
	/* The exit fd covers most exits; this catches kernels where it is not pollable. */
	if (d->sched && sched_exited(d->sched, NULL))
		handle_exit(d);
	refresh_topology(d);
	daemon_stats_tick(d);
	control_stats_tick(d);
	scxstats_tick(d);
	if (d->opt.interval_s && ++ticks % d->opt.interval_s == 0)
		print_summary(d);
}

static void on_watchdog(void *arg, uint32_t events)
{
	(void)arg;
	(void)events;
	loop_timer_drain(watchdog_fd);
	notify_send("WATCHDOG=1");
}

/*
 * The pins of a configuration, as placement takes them: the strings point
 * into @c. Returns how many.
 */
static size_t config_pin_rules(const struct config *c, struct pin_rule *out)
{
	for (size_t i = 0; i < c->nr_pins; i++) {
		const struct cfg_pin *p = &c->pins[i];

		out[i] = (struct pin_rule){
			.target = { .kind = p->cgroup ? PIN_CGROUP : PIN_PROCESS, .pid = p->pid, .cgroup = p->path },
			.node = p->node,
			.line = p->line,
		};
	}
	return c->nr_pins;
}

static void apply_pins(struct daemon *d, const struct config *c)
{
	struct pin_rule rules[CONFIG_MAX_PINS];

	placement_set_config_pins(d->placement, rules, config_pin_rules(c, rules), c->path);
}

/*
 * SIGHUP: re-read the file and apply it. Tunables become exactly what a
 * fresh start would set (a key taken out returns to its default) and go
 * live through daemon_set_tunable(); restart policy and summary interval
 * apply at once; socket and group need a restart; the command line still
 * wins; the file's pins replace the previous file's. A bad file, or a
 * default file that has gone, changes nothing.
 */
static void reload(struct daemon *d)
{
	static struct config next;
	struct options opt = d->opt;
	char err[1024], val[SETTING_STR_MAX + 1], cur[SETTING_STR_MAX + 1];
	int changes = 0;

	/* systemd >= 253 wants the reload's start time with RELOADING=1. */
	notify_printf("RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)(mono_ns() / 1000));
	if (config_read(&d->opt, false, &next, err, sizeof(err)) < 0) {
		log_err("reload: %s; the running configuration stays", err);
		notify_status(d, "READY=1\n");
		return;
	}
	for (size_t i = 0; i < nr_tunables; i++) {
		const struct tunable *t = &tunables[i];
		uint64_t v = tunable_get(&next.tun, t);

		if (v == tunable_get(&d->tun, t))
			continue;
		/* Cannot fail: the value passed tunable_parse's range check. */
		if (daemon_set_tunable(d, t, v, err, sizeof(err)) < 0)
			log_err("reload: %s", err);
		else
			changes++;
	}
	config_to_options(&next, &opt, true);
	for (size_t i = 0; i < NR_SETTINGS; i++) {
		const struct setting *s = &settings[i];

		options_format(&d->opt, s, cur, sizeof(cur));
		if (s->type == SETTING_UINT) {
			options_format(&opt, s, val, sizeof(val));
			if (strcmp(cur, val)) {
				log_info("%s: %s -> %s", s->key, cur, val);
				changes++;
			}
		} else if (!(d->opt.given & OPT_GIVEN(i)) && strcmp(next.str[i], cur)) {
			/* Bound once; moving them under running clients is not worth it. */
			log_warn("reload: %s '%s': takes effect when the daemon restarts; still '%s'", s->key,
				 next.str[i], cur);
		}
	}
	d->opt = opt;
	apply_pins(d, &next);
	log_info("reloaded %s: %d setting%s changed", next.path, changes, changes == 1 ? "" : "s");
	notify_status(d, "READY=1\n");
}

static void on_signal(void *arg, uint32_t events)
{
	int fd = *(int *)arg;
	struct signalfd_siginfo si;

	(void)events;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGINT:
		case SIGTERM:
			log_info("%s: detaching; the kernel's default scheduler takes over",
				 strsignal(si.ssi_signo));
			D.state = ST_STOPPING;
			notify_status(&D, "");
			stop(0);
			break;
		case SIGHUP:
			reload(&D);
			break;
		}
	}
}

int main(int argc, char **argv)
{
	/* The configuration read at startup: the options' strings point into it. */
	static struct config boot;
	static int sig_fd;
	char err[1536];
	sigset_t mask;
	int ret;

	log_init(LOG_INFO);
	ret = options_parse(argc, argv, &D.opt, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "scx_ai_numad: %s\n", err);
		options_usage(stderr, "scx_ai_numad");
		return 2;
	}
	if (ret == OPT_EXIT) {
		if (D.opt.help)
			options_usage(stdout, "scx_ai_numad");
		else
			printf("scx_ai_numad %s\n", SCX_AI_NUMA_VERSION);
		return 0;
	}
	ret = config_read(&D.opt, true, &boot, err, sizeof(err));
	if (!ret) {
		config_to_options(&boot, &D.opt, false);
		D.tun = boot.tun;
	}
	if (!ret && D.opt.check_config)
		ret = config_check(stdout, &D.opt, &D.tun, &boot, err, sizeof(err));
	if (ret) {
		if (D.opt.check_config)
			fprintf(stderr, "scx_ai_numad: %s\n", err);
		else
			log_err("%s", err);
		return EXIT_CONFIG;
	}
	if (D.opt.check_config)
		return 0;
	if (D.opt.verbose)
		log_set_level(LOG_DEBUG);
	if (D.opt.explain) {
		ret = explain_run(stdout, D.opt.sysfs_root, D.tun.gpu_scope, err, sizeof(err));
		if (ret)
			fprintf(stderr, "scx_ai_numad: --explain: %s\n", err);
		return ret ? 1 : 0;
	}

	ret = sched_preflight(D.opt.sysfs_root, err, sizeof(err));
	if (ret) {
		log_err("%s", err);
		return 1;
	}
	D.started_ns = mono_ns();
	if (loop_new(&D.loop) < 0) {
		log_err("main: epoll: %s", strerror(errno));
		return 1;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	/* A client vanishing mid-reply must not kill the daemon. */
	signal(SIGPIPE, SIG_IGN);
	sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	retry_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (sig_fd < 0 || retry_fd < 0 ||
	    loop_add(D.loop, sig_fd, EPOLLIN, on_signal, &sig_fd) < 0 ||
	    loop_add(D.loop, retry_fd, EPOLLIN, on_retry, &D) < 0) {
		log_err("main: signal/timer setup: %s", strerror(errno));
		return 1;
	}
	tick_fd = loop_add_timer(D.loop, 1000, on_tick, &D);
	if (tick_fd < 0) {
		log_err("main: stats timer: %s", strerror(-tick_fd));
		return 1;
	}

	D.placement = placement_new(&(struct placement_env){
		.loop = D.loop, .topo = &D.topo, .sched = &D.sched, .root = D.opt.sysfs_root });
	if (!D.placement)
		log_warn("placement: out of memory; GPU homes and pins are off");
	placement_set_scope(D.placement, (enum gpu_scope)D.tun.gpu_scope);
	D.memfollow = memfollow_new(&(struct memfollow_env){
		.loop = D.loop, .topo = &D.topo, .tun = &D.tun, .placement = &D.placement,
		.root = D.opt.sysfs_root, .balanced = balanced_homes, .balanced_arg = &D,
		.cpumask_changes = cpumask_changes,
		.ops = faults_mem_ops() });
	if (!D.memfollow)
		log_warn("memfollow: out of memory; memory does not follow its tasks");
	/* A socket directory we would refuse is found before the scheduler is touched. */
	ret = control_preflight(D.opt.socket_path, err, sizeof(err));
	if (ret) {
		log_err("%s", err);
		return 1;
	}
	if (attach(&D, LOG_ERR))
		return 1;
	apply_pins(&D, &boot);
	ret = control_open(&D, err, sizeof(err));
	if (ret) {
		log_err("%s", err);
		detach(&D);
		return 1;
	}
	/* The scheduler does not depend on a tool's view of it: without the endpoint, it runs on. */
	ret = scxstats_open(&D, err, sizeof(err));
	if (ret)
		log_warn("%s; the scx_stats endpoint is off", err);
	/* Ready means scheduling: attach() succeeded and the socket takes requests. */
	notify_status(&D, "READY=1\n");
	if (notify_watchdog_usec()) {
		uint64_t ms = notify_watchdog_usec() / 2000;

		watchdog_fd = loop_add_timer(D.loop, ms ? ms : 1, on_watchdog, NULL);
		if (watchdog_fd < 0)
			log_warn("main: watchdog timer: %s", strerror(-watchdog_fd));
	}

	while (!done) {
		ret = loop_run_once(D.loop, -1);
		if (ret < 0) {
			log_err("main: event loop: %s", strerror(-ret));
			stop(1);
		}
	}
	scxstats_close(&D);
	control_close(&D);
	memfollow_free(D.memfollow);
	placement_free(D.placement);
	if (D.sched)
		wait_hotplug_quiet(&D);
	/* A stop that could not finish is not a clean one, whatever asked for it. */
	if (detach(&D) && !exit_code)
		exit_code = 1;
	loop_free(D.loop);
	return exit_code;
}
