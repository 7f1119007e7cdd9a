// SPDX-License-Identifier: GPL-2.0
/*
 * scx_ai_numa: keep each task on the NUMA node that holds its memory.
 *
 * Six mechanisms:
 *
 * 1. One dispatch queue (DSQ) per last-level cache, allocated on its node;
 *    a node's queue is the set of its LLC queues (llc.bpf.h). A CPU serves
 *    its own LLC's queue first, then its node's other LLCs, so queued work
 *    runs where its memory is and, if it can, where its cache is; among the
 *    first few queued it prefers one that last ran on it (see take_own()).
 *
 * 2. Idle fast path. A waking task whose home node has an idle CPU goes
 *    straight to that CPU's local queue (its previous CPU first, for a warm
 *    cache). The search reads the kernel's idle mask of that node alone
 *    where the kernel keeps one per node (6.15+), else the global mask
 *    through the node's CPUs (claim_idle()). Only when the home node has
 *    none, and stealing is on, is an idle CPU of the nearest other node
 *    used: running remotely beats waiting.
 *
 * 3. A stable home node per task. The naive rule "home = node of the last
 *    CPU" makes home follow every steal, so after a few steals locality is
 *    random. Here home is:
 *      - a node user space chose: a pin, the node of the process's GPUs,
 *        or, for a process whose threads all share one home while its
 *        memory sits on another node, that node (the daemon samples where
 *        the memory is: under sched_ext the kernel's NUMA balancing, whose
 *        preferred node once served here, never runs for our tasks);
 *      - otherwise the node the task first ran on (where its first-touch
 *        allocations went), which moves only after the task has run
 *        home_move_ns on one other node without once running at home. A
 *        task stolen now and then keeps its home; one that really lives
 *        elsewhere now (its CPUs there are the only ones it gets) follows.
 *
 * 4. Stealing. A CPU whose own queue is empty takes work from other nodes'
 *    queues, nearest (SLIT distance) first, when stealing is on and the
 *    victim queue is at least steal_min_queued deep or its oldest task has
 *    waited steal_delay_ns. The delay is the hysteresis: a queue that its own
 *    CPUs will drain within a moment keeps its tasks local. A steal costs
 *    two node changes, there and back at the task's next wake, so it is
 *    worth only a wait longer than a burst: with 2 tasks or 1 ms (the old
 *    defaults) the overloaded pipeline made 2.1-4.7x the default
 *    scheduler's cross-node migrations at 4 x 1, 4 x 2 and 8 x 1; with 3
 *    tasks and 2 ms, 0-1.4x, at the same throughput or better and higher
 *    locality, hackbench a few percent slower (bench/README.md, "Stealing
 *    later"). Launchers, which a longer wait would hurt, are handed off
 *    rather than queued (below). Queueing on a busy node also kicks an
 *    idle CPU of the nearest node so it comes and steals. A stolen task
 *    goes back at the end of a slice once a CPU of its home is idle (rare:
 *    5 to 10 per benchmark run, against a thousand steals). At its next
 *    wake, with no idle CPU at home, it is woken onto a CPU of its home
 *    rather than the thief's (queue_cpu()), where a home CPU finds it
 *    without locking another run queue: at 8 x 1 hackbench went from
 *    0.86x to 0.93x the default's; at 2 and 4 nodes the change was
 *    within the noise (bench/README.md, "Waking at home").
 *
 * 5. A node balancer (balance.h, balance_tick()). Measured in the VM, a
 *    node with several times its share of loaders was served by stealing a
 *    slice at a time, each steal followed by a return home at the next
 *    wake: steals made nearly all cross-node migrations, while the other
 *    nodes' CPUs still sat idle next to its waiting queue. Every 100 ms
 *    the rescue timer weighs each node's demand against its CPU time; a
 *    node that stays busy while another has room moves the homes of its
 *    stolen tasks to the node they were stolen to, a few at a time and
 *    only where that narrows the gap, so they run there for good. The
 *    daemon then moves the memory of a process that lives wholly on its
 *    new home (see bal_homes).
 *
 * 6. Wake groups (wakegroup.h, group_wake()). Threads that keep waking each
 *    other from different homes move to one node, the lighter of the two
 *    where it has room: homes taken from where threads first ran split a
 *    process's groups of message and worker threads across nodes at random.
 *
 * Within a node queue tasks are ordered by weighted virtual time, so no task
 * starves and nice levels hold; a task that slept is placed at most one
 * slice behind the current virtual time so sleeping earns no unbounded
 * credit. Short-burst, frequently-waking tasks (GPU launch threads: they run
 * microseconds, then wait for the next batch) are latency-critical. What
 * makes their wakeups fast is the hand-off: a task woken by one that
 * habitually sleeps right after waking (the data loader handing over its
 * batch) runs on the waker's CPU as it sleeps, see handoff_cpu().
 * Preempting a busy home CPU for them was tried and removed: it never
 * shortened the launchers' wake latency and cost hackbench 0.29x (see
 * bench/README.md).
 *
 * A rescue timer is the last line of defence: every RESCUE_PERIOD_NS it
 * looks at the oldest task of each node queue, and one that waited
 * RESCUE_WAIT_NS (far beyond any slice rotation) marks its queue so that
 * every CPU takes from it before its own queue, stealing on or off, and an
 * idle CPU is woken to do so. Seen in the VM: with a node offline and
 * stealing off, the RCU grace-period thread sat 21 s in the dead node's
 * queue because the busy CPUs of the other node always found work in their
 * own queue first.
 *
 * Never stranding a task: a task allowed on one CPU only, or with migration
 * disabled, is queued on that CPU's local DSQ; a task whose home node has no
 * online CPU it may use is queued on the nearest node that has one. A queue
 * left without CPUs (its node went offline under it) is drained by the
 * other nodes ahead of their own work, stealing on or off.
 *
 * CPU hotplug is handled in place: a CPU's node does not change when it goes
 * offline, so cpu_online/cpu_offline only keep per-node online counts. A
 * node whose CPUs are all offline has its queue drained by the others, with
 * stealing on or off. Only a CPU the daemon never saw (hot-added, in no
 * node at attach) asks for a restart, so the daemon re-reads the topology.
 * Without these callbacks the kernel ejects the scheduler on every hotplug
 * event, and a re-attach during a burst of them is refused until it ends.
 */
#include "helpers.bpf.h"
#include "intf.h"

char _license[] SEC("license") = "GPL";

/*
 * Shared with the daemon, see intf.h. setup.idle_per_node is set when the
 * daemon asked the kernel for one idle mask per node
 * (SCX_OPS_BUILTIN_IDLE_PER_NODE, 6.15+); the global idle kfuncs are then
 * an error, see claim_idle().
 */
const volatile struct an_setup setup;
struct an_tunables tun SEC(".data");
struct an_shared shared;

/* Reads shared.nr_*_homes. */
#include "placement.bpf.h"

/* The kernel's exit codes the daemon interprets by the numbers in intf.h. */
_Static_assert(AN_ECODE_RSN_HOTPLUG == SCX_ECODE_RSN_HOTPLUG, "exit code bits");
_Static_assert(AN_ECODE_ACT_RESTART == SCX_ECODE_ACT_RESTART, "exit code bits");
_Static_assert(AN_EXIT_NONE == SCX_EXIT_NONE && AN_EXIT_DONE == SCX_EXIT_DONE, "exit kinds");
_Static_assert(AN_EXIT_UNREG == SCX_EXIT_UNREG && AN_EXIT_UNREG_BPF == SCX_EXIT_UNREG_BPF &&
	       AN_EXIT_UNREG_KERN == SCX_EXIT_UNREG_KERN && AN_EXIT_SYSRQ == SCX_EXIT_SYSRQ, "exit kinds");
_Static_assert(AN_EXIT_ERROR == SCX_EXIT_ERROR && AN_EXIT_ERROR_BPF == SCX_EXIT_ERROR_BPF &&
	       AN_EXIT_ERROR_STALL == SCX_EXIT_ERROR_STALL, "exit kinds");

/* Online CPUs per dense node, kept by the hotplug callbacks. */
u32 node_online[AN_MAX_NODES];
/* Nodes with no CPU online (bit per dense node): dispatch skips orphan checks while 0. */
u32 nodes_down;

/* Nodes whose queue has a starving head, set by the rescue timer. */
u32 rescue_nodes;

#define RESCUE_PERIOD_NS	(20ULL * 1000 * 1000)
#define RESCUE_WAIT_NS		(200ULL * 1000 * 1000)

struct rescue_timer {
	struct bpf_timer timer;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct rescue_timer);
} rescue_timers SEC(".maps");

/* Largest virtual time that started running: the queues' "now". */
u64 vtime_now;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, AN_MAX_NODES);
	__type(key, u32);
	__type(value, struct an_node_stats);
} node_stats SEC(".maps");

struct node_mask {
	struct bpf_cpumask __kptr *mask;
};

/* CPUs of each dense node, built in init; the idle search is confined to these. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, AN_MAX_NODES);
	__type(key, u32);
	__type(value, struct node_mask);
} node_masks SEC(".maps");

struct task_ctx {
	u32 home;		/* dense node, AN_NO_NODE until first seen */
	u32 away_node;		/* node the task has been running on instead */
	u64 away_ns;		/* run time there since it last ran at home */
	u64 started_ns;		/* when it last started running */
	u64 enq_ns;		/* when it was put on a node queue, 0 if not there */
	u64 vtime;		/* weighted virtual run time */
	u64 burst_ns;		/* run time since it last woke */
	u64 avg_burst_ns;	/* moving average of burst_ns at each sleep */
	u64 woke_ns;		/* when it last woke a task, 0 once judged (hand-off) */
	u32 handoff_score;	/* recent wakes it followed by sleeping at once, see handoff_cpu() */
	u32 handed_node;	/* home of a wakee handed to its CPU since it last stopped, AN_NO_NODE if none */
	u32 nr_woke;		/* tasks it woke since it last stopped */
	u32 last_node;		/* node it last ran on, AN_NO_NODE before its first run */
	u64 lat_woke_ns;	/* when it last woke while latency-critical, 0 once it ran */
	u64 bal_win;		/* balancer window win_ns counts in, see balance_note() */
	u64 win_ns;		/* run time in that window */
	u64 load_ns;		/* run time in the window before */
	u64 moved_ns;		/* when the balancer or a wake group last moved its home, 0: never */
	u32 handed_lat;		/* a wakee handed off since handed_node was set was latency-critical */
	u32 grp_streak;		/* wakes in a row from wakers whose home is grp_node, see group_wake() */
	u32 grp_node;		/* ... another node than its own home */
	u32 last_cpu;		/* CPU it last ran on + 1, 0 before its first run: llc_note_run() */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_ctx);
} task_ctxs SEC(".maps");

static __always_inline void stat_add_n(u32 node, enum an_stat idx, u64 n)
{
	struct an_node_stats *s;

	s = COST_EXPR(STAT, bpf_map_lookup_elem(&node_stats, &node));
	if (s && idx < AN_NR_STATS)
		s->cnt[idx] += n;
}

static __always_inline void stat_add(u32 node, enum an_stat idx)
{
	stat_add_n(node, idx, 1);
}

/* Bucket of a queue wait: log2 of microseconds, see AN_WAIT_BUCKETS. */
static __always_inline void wait_add(u32 node, u64 wait_ns)
{
	struct an_node_stats *s;
	u64 us = wait_ns / 1000;
	u32 b = 0;

	s = bpf_map_lookup_elem(&node_stats, &node);
	if (!s)
		return;
	while (us && b < AN_WAIT_BUCKETS - 1) {
		us >>= 1;
		b++;
	}
	barrier_var(b);
	if (b < AN_WAIT_BUCKETS)
		s->wait_hist[b]++;
}

/* Dense node of @cpu; CPUs beyond the topology count as node 0. */
static __always_inline u32 cpu_node(s32 cpu)
{
	u32 idx = (u32)cpu, n;

	barrier_var(idx);
	if (idx >= AN_MAX_CPUS)
		return 0;
	n = setup.topo.cpu_node[idx];
	return n < AN_MAX_NODES ? n : 0;
}

static __always_inline u32 node_nr_online(u32 node)
{
	barrier_var(node);
	if (node >= AN_MAX_NODES)
		return 0;
	return READ_ONCE(node_online[node]);
}

/* The @i-th nearest node to @node (0 is @node itself), AN_NO_NODE if none. */
static __always_inline u32 nth_nearest(u32 node, u32 i)
{
	barrier_var(node);
	barrier_var(i);
	if (node >= AN_MAX_NODES || i >= AN_MAX_NODES)
		return AN_NO_NODE;
	return setup.topo.node_order[node][i];
}

static __always_inline u32 nr_nodes(void)
{
	u32 n = setup.topo.nr_nodes;

	return n <= AN_MAX_NODES ? n : AN_MAX_NODES;
}

/*
 * Visit the dense nodes by SLIT distance from @from, beginning with the
 * @start-th nearest: 0 begins with @from itself, 1 with the nearest other
 * node. @node receives each node, @i (the caller's u32) its place.
 */
#define for_each_nearest(i, node, from, start)					\
	for ((i) = (start); (i) < AN_MAX_NODES && (i) < nr_nodes(); (i)++)	\
		if (((node) = nth_nearest((from), (i))) < nr_nodes())

/* Allowed on every CPU: no mask test needed (most tasks, on every hot path). */
static __always_inline bool any_cpu(const struct task_struct *p)
{
	return p->nr_cpus_allowed >= setup.topo.nr_cpus;
}

/*
 * Node masks are RCU-protected kptrs: callers hold bpf_rcu_read_lock() for
 * as long as they use the returned mask.
 */
static __always_inline const struct cpumask *node_cpus(u32 node)
{
	struct node_mask *nm = bpf_map_lookup_elem(&node_masks, &node);

	if (!nm || !nm->mask)
		return NULL;
	return (const struct cpumask *)nm->mask;
}

static __always_inline struct task_ctx *task_ctx(struct task_struct *p)
{
	return COST_EXPR(TASK_CTX, bpf_task_storage_get(&task_ctxs, p, 0, 0));
}

/*
 * BPF programs run with migration disabled, so when the task being enqueued
 * is the one running this program (a task whose slice ran out, enqueued
 * from its own context) its count reads 1 without the task having asked.
 * Taking that 1 at face value queues every such task on its own CPU's local
 * DSQ, where it runs again at once and starves the node queue.
 */
static __always_inline bool migration_disabled(const struct task_struct *p)
{
	unsigned short md;

	if (!bpf_core_field_exists(p->migration_disabled))
		return false;
	md = p->migration_disabled;
	if (!md)
		return false;
	if (md == 1 && p == (void *)bpf_get_current_task_btf())
		return false;
	return true;
}

/*
 * Make @node the task's home. Replacing a decided home is a move, counted
 * on the new home; the time the task spent away from the old one no longer
 * matters.
 */
static __always_inline void set_home(struct task_ctx *tctx, u32 node)
{
	if (tctx->home == node)
		return;
	if (tctx->home != AN_NO_NODE)
		stat_add(node, AN_STAT_HOME_MOVE);
	tctx->home = node;
	tctx->away_ns = 0;
}

/*
 * The task's home node; before the task has first run (home not decided,
 * see an_running()) the node of @cpu.
 */
static __always_inline u32 home_of(const struct task_ctx *tctx, s32 cpu)
{
	return tctx->home < nr_nodes() ? tctx->home : cpu_node(cpu);
}

/*
 * Apply the homes chosen outside our own rules, which beat them, and return
 * home_of() after that. A node user space chose (the node of the process's
 * GPUs, or a pin) comes first, unless the task's affinity already picks its
 * CPUs. (The kernel's NUMA-balancing preferred node is no input: under
 * sched_ext NUMA balancing never runs for our tasks, so it is never set; the
 * daemon's home-follows-memory entries in the same map take its place.)
 * Before the task
 * has first run, home stays undecided unless one of them decides it.
 */
static u32 update_home(struct task_struct *p, struct task_ctx *tctx, s32 cpu)
{
	u32 node;

	if (any_cpu(p)) {
		node = placement_home(p);
		if (node < nr_nodes()) {
			set_home(tctx, node);
			/* Running elsewhere never earns a move away from user space's choice. */
			tctx->away_ns = 0;
			return node;
		}
	}
	return home_of(tctx, cpu);
}

/* The kernel's id of dense node @node (bounded for the verifier). */
static __always_inline s32 kernel_node(u32 node)
{
	barrier_var(node);
	if (node >= AN_MAX_NODES)
		return 0;
	return (s32)setup.topo.node_id[node];
}

#include "llc.bpf.h"

/*
 * Claim an idle CPU of @node for @p, -1 if none; @p NULL: a CPU woken to
 * look for work, for no task in particular.
 *
 * With per-node idle masks the kernel searches @node's own mask, which only
 * that node's CPUs write, instead of the one machine-wide mask whose cache
 * line every idle transition on every node bounces around; and it applies
 * @p's affinity exactly. With the global mask the search runs over our copy
 * of the node's CPUs, so affinity can only be honoured node-wide: @exact
 * refuses a task not allowed on all of the node (it would be handed a CPU
 * it may not use), otherwise one allowed on any CPU there will do (a kicked
 * CPU is not given @p, it only finds the queue @p is in).
 */
static s32 claim_idle(struct task_struct *p, u32 node, bool exact)
{
	const struct cpumask *cpus;
	s32 cpu = -1;

	if (node >= nr_nodes() || !node_nr_online(node))
		return -1;
	if (setup.idle_per_node && p && bpf_ksym_exists(scx_bpf_pick_idle_cpu_node)) {
		cpu = scx_bpf_pick_idle_cpu_node(p->cpus_ptr, kernel_node(node), SCX_PICK_IDLE_IN_NODE);
		return cpu >= 0 ? cpu : -1;
	}
	bpf_rcu_read_lock();
	cpus = node_cpus(node);
	if (!cpus)
		goto out;
	if (setup.idle_per_node && bpf_ksym_exists(scx_bpf_pick_idle_cpu_node))
		cpu = scx_bpf_pick_idle_cpu_node(cpus, kernel_node(node), SCX_PICK_IDLE_IN_NODE);
	else if (!p || any_cpu(p) ||
		 (exact ? bpf_cpumask_subset(cpus, p->cpus_ptr) : bpf_cpumask_intersects(cpus, p->cpus_ptr)))
		cpu = scx_bpf_pick_idle_cpu(cpus, 0);
out:
	bpf_rcu_read_unlock();
	return cpu >= 0 ? cpu : -1;
}

/* Take an idle CPU of @node that @p may use, -1 if none. */
static __always_inline s32 pick_idle_in_node(struct task_struct *p, u32 node)
{
	return COST_EXPR(IDLE_NODE, claim_idle(p, node, true));
}

/* Short bursts between sleeps: a GPU launch thread, an event loop. */
static __always_inline bool lat_critical(const struct task_ctx *tctx)
{
	u64 lat = READ_ONCE(tun.lat_run_ns);

	return lat && tctx->avg_burst_ns && tctx->avg_burst_ns < lat;
}

/* Accounting for observability only: see obs.bpf.h. */
#include "obs.bpf.h"

static __always_inline void direct_dispatch(struct task_struct *p, u32 node, enum an_stat idx,
					    u64 enq_flags)
{
	stat_add(node, idx);
	an_dsq_insert(p, SCX_DSQ_LOCAL, READ_ONCE(tun.slice_ns), enq_flags);
}

/*
 * Hand-off wakeups. A data loader wakes its GPU launcher and goes to sleep
 * at once (waiting for the next batch's I/O); the launcher reads what the
 * loader just wrote. Waking an idle CPU for the launcher costs an IPI and
 * the idle CPU's exit latency (under emulation: a host thread to schedule,
 * milliseconds at the tail), while the waker's CPU is free microseconds
 * later and its cache holds the batch. The kernel flags such wakeups only
 * for pipes and sockets (WF_SYNC), not futexes, so the habit is learnt:
 * a task scores whether it slept within handoff_ns of each wake it made
 * (an_stopping() judges: +1 for a hit, -HANDOFF_MISS_COST for a miss), and
 * a wakee of a task scoring at least HANDOFF_SCORE_MIN is queued on its
 * own CPU, one per stop of the waker (handoff.h says why). A waker that
 * keeps running after waking (a hackbench sender writing to many
 * receivers) never gets there, and one that stops doing
 * so loses it within two wakes; a wrong guess costs the wakee the waker's
 * run until it next stops (counted as handoff_miss).
 *
 * Misattributed wakes: measured in the VM, timer wakeups of sleeping
 * tasks (a loader's nanosleep ending) run in the context of whatever task
 * is current on that CPU, with no interrupt bits in the preempt count, so
 * they look like that task's own wakes. On a busy node a loader computing
 * thus "wakes" another loader, then wakes its launcher and sleeps. Hence:
 * a stop is judged from the last wake, and only more than
 * HANDOFF_MAX_WAKES wakes before it make a miss by themselves; and a
 * hand-off may join one task already in the waker's local queue (the
 * misattributed wakee), a latency-critical one at its head, so the launcher
 * runs first as the loader sleeps, whichever of the two wakes came first.
 * (Without these, one launcher wake in ten on the overloaded node missed
 * the hand-off.)
 */
#include "handoff.h"	/* the decision: an_handoff_ok(), and why one hand-off per stop */

/*
 * Who is waking @p: select_cpu runs on the waking CPU, and current is the
 * waker only outside interrupts. A wake from interrupt context (a softirq,
 * a device) hits whatever task is running, so crediting that task with it
 * (and handing the wakee to its CPU) would be wrong twice. x86 keeps the
 * preempt count in a per-CPU variable since 6.15; where it cannot be read
 * the answer is "unknown" and only latency-critical wakees take part, since
 * what wakes them is mostly another task. Timer wakeups get past this
 * check: see "misattributed" above.
 */
extern const int __preempt_count __ksym __weak;

#define AN_IN_INTERRUPT_MASK	0x00ffff00	/* NMI, hard and soft IRQ bits of preempt_count */

/* 1: woken by the current task, 0: from an interrupt, -1: unknown. */
static __always_inline int woken_by_task(void)
{
	const int *pc;

	if (!bpf_ksym_exists(&__preempt_count))
		return -1;
	pc = bpf_this_cpu_ptr(&__preempt_count);
	return !(*pc & AN_IN_INTERRUPT_MASK);
}

static __always_inline void handoff_miss(struct task_ctx *wctx)
{
	wctx->handoff_score = wctx->handoff_score > HANDOFF_MISS_COST ?
			      wctx->handoff_score - HANDOFF_MISS_COST : 0;
}

/*
 * The context of the task waking @p, NULL if the wake is not one to learn
 * from: not a task's wake-up call, from an interrupt, or from an unknown
 * context for a wakee that is not latency-critical.
 */
static struct task_ctx *waker_ctx(struct task_struct *p, struct task_ctx *tctx, u64 wake_flags)
{
	struct task_struct *waker;
	int by_task;

	if (!(wake_flags & SCX_WAKE_TTWU))
		return NULL;
	by_task = woken_by_task();
	if (!by_task || (by_task < 0 && !lat_critical(tctx)))
		return NULL;
	waker = bpf_get_current_task_btf();
	if (waker == p)
		return NULL;
	return bpf_task_storage_get(&task_ctxs, waker, 0, 0);
}

/* The waker made a wake: handoff_judge() sees at its stop how soon it slept. */
static __always_inline void note_wake(struct task_ctx *wctx)
{
	if (wctx->nr_woke <= HANDOFF_MAX_WAKES)
		wctx->nr_woke++;
	wctx->woke_ns = bpf_ktime_get_ns();
}

/*
 * The waker's CPU (this one) if its wakee, whose home is @home and which is
 * latency-critical if @wakee_lat, should run there after the waker sleeps,
 * else -1.
 */
static s32 handoff_cpu(const struct task_ctx *wctx, u32 home, bool wakee_lat)
{
	s32 cpu = bpf_get_smp_processor_id();
	struct an_handoff h = {
		.score = wctx->handoff_score,
		.nr_woke = wctx->nr_woke,
		.nr_queued = scx_bpf_dsq_nr_queued(SCX_DSQ_LOCAL),
		.handed = wctx->handed_node != AN_NO_NODE,
		.handed_lat = wctx->handed_lat,
		.at_home = cpu_node(cpu) == home,
		.wakee_lat = wakee_lat,
	};

	if (!READ_ONCE(tun.handoff_ns) || !an_handoff_ok(&h))
		return -1;
	return cpu;
}

/* Judge the waker's last hand-off candidate as it stops; see handoff_cpu(). */
static __always_inline void handoff_judge(struct task_ctx *tctx, bool runnable, u64 now)
{
	u64 woke = tctx->woke_ns;
	u32 nr = tctx->nr_woke, handed = tctx->handed_node;

	if (!woke)
		return;
	tctx->woke_ns = 0;
	tctx->nr_woke = 0;
	tctx->handed_node = AN_NO_NODE;
	tctx->handed_lat = 0;
	if (!runnable && nr <= HANDOFF_MAX_WAKES && now - woke <= READ_ONCE(tun.handoff_ns)) {
		if (tctx->handoff_score < HANDOFF_SCORE_MAX)
			tctx->handoff_score++;
	} else {
		handoff_miss(tctx);
		if (handed != AN_NO_NODE)
			stat_add(handed, AN_STAT_HANDOFF_MISS);
	}
}

static u32 group_wake(struct task_struct *p, struct task_ctx *tctx, struct task_ctx *wctx, u32 home);

/*
 * The CPU to wake a task on when it found no idle CPU and will be queued
 * at @home. The kernel queues a wakee on the run queue of the CPU that
 * select_cpu() returns, and a CPU that later takes the task from a
 * dispatch queue moves it from that run queue to its own: under both run
 * queue locks, the other CPU's taken while it runs, when the two differ.
 * A task stolen last time last ran on the thief's node; left there (the
 * kernel's prev_cpu), every home CPU that takes it pays that remote move.
 * Woken onto a CPU of its home, it is found where it will run, with one
 * CPU per queue always. The CPU is one of the LLC that enqueue() will
 * choose for it (enq_llc(): the one with the fewest queued, as the task's
 * last CPU is in no LLC of its home), so that choice stays what it was.
 * Tasks that may not use all CPUs never get here (select_cpu() leaves
 * them to the kernel).
 */
static s32 queue_cpu(u32 home, s32 prev_cpu)
{
	const struct cpumask *cpus, *online;
	u32 cpu = AN_MAX_CPUS, llc;

	if (!READ_ONCE(tun.wake_home) || cpu_node(prev_cpu) == home)
		return prev_cpu;
	/* enq_llc() falls back to an LLC with no CPU online only when home has none. */
	llc = enq_llc(home, prev_cpu);
	if (!llc_nr_online(llc))
		return prev_cpu;
	online = scx_bpf_get_online_cpumask();
	bpf_rcu_read_lock();
	cpus = llc_cpus(llc);
	if (cpus)
		cpu = bpf_cpumask_any_and_distribute(cpus, online);
	bpf_rcu_read_unlock();
	scx_bpf_put_cpumask(online);
	if (cpu >= setup.topo.nr_cpus || cpu >= AN_MAX_CPUS)
		return prev_cpu;
	stat_add(home, AN_STAT_WAKE_HOME);
	return (s32)cpu;
}

static __always_inline s32 select_cpu(struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	struct task_ctx *tctx, *wctx;
	bool is_idle = false, first;
	u32 home, i, node;
	s32 cpu;

	tctx = task_ctx(p);
	if (!tctx)
		return prev_cpu;
	first = tctx->home == AN_NO_NODE;
	home = update_home(p, tctx, prev_cpu);
	lat_wake_mark(tctx, wake_flags);

	/*
	 * A task that may not use all CPUs: let the kernel's default idle
	 * search, which honours affinity, find a CPU. Such tasks are pinned by
	 * someone who knows better than our home rule.
	 */
	if (!any_cpu(p)) {
		cpu = scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, &is_idle);
		if (is_idle)
			direct_dispatch(p, cpu_node(cpu), cpu_node(cpu) == home ?
					AN_STAT_DIRECT : AN_STAT_DIRECT_REMOTE, 0);
		return cpu;
	}

	wctx = waker_ctx(p, tctx, wake_flags);
	if (wctx) {
		home = group_wake(p, tctx, wctx, home);
		note_wake(wctx);
		cpu = handoff_cpu(wctx, home, lat_critical(tctx));
		if (cpu >= 0) {
			/* For handoff_judge(): a miss strands this wakee. */
			wctx->handed_node = home;
			wctx->handed_lat |= lat_critical(tctx);
			/* A latency-critical one first: see "Misattributed wakes" above woken_by_task(). */
			direct_dispatch(p, home, AN_STAT_HANDOFF, lat_critical(tctx) ? setup.enq_head : 0);
			return cpu;
		}
	}

	/* The previous CPU keeps the cache warm: prefer it when it is home and idle. */
	if (cpu_node(prev_cpu) == home && COST_EXPR(IDLE_PREV, scx_bpf_test_and_clear_cpu_idle(prev_cpu))) {
		direct_dispatch(p, home, AN_STAT_DIRECT, 0);
		return prev_cpu;
	}
	/* Then its LLC, which shares that cache. */
	cpu = pick_idle_in_prev_llc(p, prev_cpu, home);
	if (cpu >= 0) {
		direct_dispatch(p, home, AN_STAT_DIRECT, 0);
		return cpu;
	}
	cpu = pick_idle_in_node(p, home);
	if (cpu >= 0) {
		direct_dispatch(p, home, AN_STAT_DIRECT, 0);
		return cpu;
	}

	/*
	 * A task's first wakeup (fork) has no memory yet: wherever it runs first
	 * is where its memory will be, so an idle CPU of another node is as good
	 * a home as the parent's busy node, and it spreads new work out.
	 */
	if (!first && (!READ_ONCE(tun.steal) || !READ_ONCE(tun.remote_idle)))
		return queue_cpu(home, prev_cpu);
	for_each_nearest(i, node, home, 1) {
		cpu = pick_idle_in_node(p, node);
		if (cpu < 0)
			continue;
		/* A first run there makes it home (an_running()): not remote. */
		direct_dispatch(p, node, first ? AN_STAT_DIRECT : AN_STAT_DIRECT_REMOTE, 0);
		return cpu;
	}
	return queue_cpu(home, prev_cpu);
}

/* The policy is select_cpu(); in the test build this times it whole (costprobe.h). */
s32 BPF_STRUCT_OPS(an_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	return COST_EXPR(SELECT, select_cpu(p, prev_cpu, wake_flags));
}

/* Kick an idle CPU of @node that may run @p; true if one was kicked. */
static bool kick_idle_in_node(struct task_struct *p, u32 node)
{
	s32 cpu = COST_EXPR(IDLE_NODE, claim_idle(p, node, false));

	if (cpu < 0)
		return false;
	COST_STMT(KICK, scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE));
	stat_add(node, AN_STAT_KICK);
	return true;
}

/* Can a CPU of @node run @p at all? */
static bool node_serves(struct task_struct *p, u32 node)
{
	const struct cpumask *cpus;
	bool ok = false;

	if (node >= nr_nodes() || !node_nr_online(node))
		return false;
	if (any_cpu(p))
		return true;
	bpf_rcu_read_lock();
	cpus = node_cpus(node);
	if (cpus)
		ok = bpf_cpumask_intersects(cpus, p->cpus_ptr);
	bpf_rcu_read_unlock();
	return ok;
}

/*
 * The queue for a task whose home is @home: home itself when a CPU there may
 * run it, else the nearest node that can (home's CPUs are offline, or its
 * affinity excludes them). A queue no online CPU of its node serves waits
 * for others to drain it, behind their own work.
 */
static u32 serving_node(struct task_struct *p, u32 home, s32 task_cpu)
{
	u32 i, node;

	for_each_nearest(i, node, home, 0) {
		if (node_serves(p, node))
			return node;
	}
	return cpu_node(task_cpu);
}

/*
 * @p used up its slice and nothing else wants its CPU (SCX_OPS_ENQ_LAST).
 * Without this hook the kernel keeps such a task running where it is, so a
 * CPU-bound task stolen once, or started off its home (a GPU process whose
 * home was set after it began), would stay on the wrong node for as long as
 * it never sleeps. Off home with a home CPU idle, it goes there. Otherwise
 * it keeps its CPU: queueing it would leave this CPU idle with work queued.
 */
static void enqueue_last(struct task_struct *p, struct task_ctx *tctx, s32 task_cpu,
			 u64 slice, u64 enq_flags)
{
	u32 home;
	s32 cpu;

	if (tctx) {
		home = update_home(p, tctx, task_cpu);
		if (home != cpu_node(task_cpu)) {
			cpu = pick_idle_in_node(p, home);
			if (cpu >= 0) {
				stat_add(home, AN_STAT_SENT_HOME);
				an_dsq_insert(p, SCX_DSQ_LOCAL_ON | cpu, slice, 0);
				scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
				return;
			}
		}
	}
	an_dsq_insert(p, SCX_DSQ_LOCAL, slice, enq_flags);
}

static __always_inline void enqueue(struct task_struct *p, u64 enq_flags)
{
	u64 slice = READ_ONCE(tun.slice_ns), now_v, vtime;
	struct task_ctx *tctx;
	u32 node, i, victim, llc;
	s32 task_cpu;

	task_cpu = scx_bpf_task_cpu(p);
	/*
	 * Only one CPU can run it: a node queue could strand it behind CPUs
	 * that may not take it, so hand it to that CPU directly.
	 */
	if (p->nr_cpus_allowed == 1 || migration_disabled(p)) {
		stat_add(cpu_node(task_cpu), AN_STAT_PINNED_ENQ);
		an_dsq_insert(p, SCX_DSQ_LOCAL, slice, enq_flags);
		return;
	}

	tctx = task_ctx(p);
	if (enq_flags & SCX_ENQ_LAST) {
		enqueue_last(p, tctx, task_cpu, slice, enq_flags);
		return;
	}
	if (!tctx) {
		/* No context (allocation failed): FIFO on the CPU's node is always safe. */
		node = cpu_node(task_cpu);
		stat_add(node, AN_STAT_NODE_ENQ);
		llc = enq_llc(node, task_cpu);
		an_dsq_insert_vtime(p, AN_LLC_DSQ(llc), slice, READ_ONCE(vtime_now), enq_flags);
		llc_mark_queued(llc);
		kick_idle_in_node(p, node);
		return;
	}
	node = COST_EXPR(SERVING, serving_node(p, update_home(p, tctx, task_cpu), task_cpu));

	/* Sleeping earns at most one slice of credit. */
	now_v = READ_ONCE(vtime_now);
	vtime = tctx->vtime;
	if (now_v > slice && vtime < now_v - slice)
		vtime = now_v - slice;
	tctx->vtime = vtime;
	tctx->enq_ns = bpf_ktime_get_ns();

	stat_add(node, AN_STAT_NODE_ENQ);
	llc = COST_EXPR(ENQ_LLC, enq_llc(node, task_cpu));
	COST_STMT(INSERT, an_dsq_insert_vtime(p, AN_LLC_DSQ(llc), slice, vtime, enq_flags));
	llc_mark_queued(llc);

	if (kick_idle_in_llc(p, llc, node) || kick_idle_in_node(p, node))
		return;
	/*
	 * Home is busy. With stealing on, wake an idle CPU of the nearest node
	 * that has one: it will find nothing local and steal, instead of
	 * sleeping while work waits.
	 */
	if (!READ_ONCE(tun.steal) ||
	    node_queued(node) < (s32)READ_ONCE(tun.steal_min_queued))
		return;
	for_each_nearest(i, victim, node, 1) {
		if (kick_idle_in_node(p, victim))
			return;
	}
}

/* The policy is enqueue(); in the test build this times it whole (costprobe.h). */
void BPF_STRUCT_OPS(an_enqueue, struct task_struct *p, u64 enq_flags)
{
	COST_STMT(ENQUEUE, enqueue(p, enq_flags));
}

/* How long the oldest task of @victim's queues has waited, 0 if empty. */
static u64 head_wait_ns(u32 victim, u64 now)
{
	return node_head_wait_ns(victim, now);
}

/*
 * Is @victim's queue deep enough, or waited on long enough, to steal from?
 * The clock is read only for the second question: most calls find the
 * queue empty.
 */
static bool worth_stealing(u32 victim)
{
	s32 queued;
	u64 delay = READ_ONCE(tun.steal_delay_ns);

	if (!node_maybe_queued(victim))
		return false;
	COST_STMT(VICTIM, queued = node_queued(victim));
	if (queued <= 0) {
		node_note_empty(victim);
		return false;
	}
	if (queued >= (s32)READ_ONCE(tun.steal_min_queued))
		return true;
	return delay && head_wait_ns(victim, bpf_ktime_get_ns()) >= delay;
}

/* Take one task from another node's queue, counting it on both sides. */
static bool steal_from(u32 node, u32 victim)
{
	if (!node_move_to_local(victim))
		return false;
	stat_add(node, AN_STAT_STEAL_IN);
	stat_add(victim, AN_STAT_STEAL_OUT);
	return true;
}

/* How far down its own node's queue a CPU looks for a task that last ran on it. */
#define WARM_SCAN	4

/*
 * Take the head of this CPU's node queue, unless one of the next few tasks
 * last ran on this CPU and is within one slice of the head's virtual time.
 * With a shared queue nearly every dispatch is otherwise a cross-CPU
 * migration, the dominant cost of CPU-bound work (stress-ng: each CPU keeps
 * pulling the task another CPU just ran); preferring the warm task settles
 * each CPU on its own tasks, and the order drifts by at most a slice.
 */
static bool take_own(u32 node, s32 cpu)
{
	u64 dsq = AN_LLC_DSQ(cpu_llc(cpu)), head = 0, slice = READ_ONCE(tun.slice_ns);
	struct task_struct *p;
	s32 queued = COST_EXPR(NR_QUEUED, scx_bpf_dsq_nr_queued(dsq));
	int seen = 0;

	/* An iterator costs a lock round trip per step: not for zero or one choice. */
	if (queued <= 0)
		return false;
	if (queued == 1 || !READ_ONCE(tun.warm_pick))
		return an_dsq_move_to_local(dsq);
	COST_BEGIN(c0);
	bpf_for_each(scx_dsq, p, dsq, 0) {
		if (!seen)
			head = p->scx.dsq_vtime;
		if (scx_bpf_task_cpu(p) == cpu && p->scx.dsq_vtime <= head + slice &&
		    an_dsq_move(AN_DSQ_ITER, p, SCX_DSQ_LOCAL, 0)) {
			COST_END(ITER_WARM, c0);
			return true;
		}
		if (++seen >= WARM_SCAN)
			break;
	}
	COST_END(ITER_WARM, c0);
	return an_dsq_move_to_local(dsq);
}

/*
 * Serve the queues that have nobody else: a node with no CPU online, and a
 * queue the rescue timer found starving. They come before our own queue,
 * since a busy node never finds its own queue empty and these tasks have no
 * other way to run, stealing on or off.
 */
static bool serve_orphans(u32 node)
{
	u32 i, victim, rescue = READ_ONCE(rescue_nodes);

	/* The common case, every dispatch: nothing orphaned. */
	if (!rescue && !READ_ONCE(nodes_down))
		return false;
	for_each_nearest(i, victim, node, 0) {
		if (rescue & (1U << victim)) {
			if (node_move_oldest(victim)) {
				__sync_fetch_and_and(&rescue_nodes, ~(1U << victim));
				stat_add(node, AN_STAT_RESCUE);
				return true;
			}
			continue;
		}
		if (i && !node_nr_online(victim) && steal_from(node, victim))
			return true;
	}
	return false;
}

static __always_inline void dispatch(s32 cpu)
{
	u32 node = cpu_node(cpu), i, victim;

#ifdef AN_FAULT_INJECTION
	/* Test builds only: the error path on request, see 90-faults.sh. */
	if (unlikely(READ_ONCE(shared.inject_error))) {
		an_error("debug: error injected by the daemon on cpu %d", cpu);
		return;
	}
#endif
	COST_STMT(CLOCK, ;);
	if (serve_orphans(node))
		return;
	if (take_llc_orphan(node, cpu) || take_own(node, cpu) || take_llc_sibling(node, cpu)) {
		stat_add(node, AN_STAT_NODE_DISPATCH);
		return;
	}
	if (!READ_ONCE(tun.steal))
		return;

	COST_BEGIN(c0);
	for_each_nearest(i, victim, node, 1) {
		if (!node_nr_online(victim) || !worth_stealing(victim))
			continue;
		if (steal_from(node, victim)) {
			COST_END(STEAL_SCAN, c0);
			return;
		}
	}
	COST_END(STEAL_SCAN, c0);
}

/* The policy is dispatch(); in the test build this times it whole (costprobe.h). */
void BPF_STRUCT_OPS(an_dispatch, s32 cpu, struct task_struct *prev)
{
	COST_STMT(DISPATCH, dispatch(cpu));
}

/*
 * Node balancer: moves task homes off a node that stays overloaded while
 * another has spare capacity, so its excess runs there for good instead of
 * being stolen a slice at a time and going home at the next wake. The
 * decision is an_bal_step() (balance.h, which says why and the numbers that
 * led to it); here are its inputs, gathered by the rescue timer, and the
 * moves, made as tasks stop.
 *
 * Tried and removed: waking a stolen task on the idle CPU it was stolen to
 * while its home was busy in the last window, instead of queueing it at
 * home to be stolen again. At 4 nodes x 1 CPU it fired on 2-14 % of steals
 * (most stolen tasks find their home's CPU idle again at the next wake, the
 * burst that queued them being over); it cut the overloaded pipeline's
 * cross-node migrations to 0.7x in two runs of three and not in the third,
 * while its throughput was 0.54-0.68x and its launcher wake p50 2.3-3.7x
 * of the same scheduler without it in all three. Without the window
 * condition (any wake whose home had no idle CPU) it fired on 8-38 % of
 * steals and moved migrations by 0.7x and 1.2x in two runs. See
 * bench/README.md, "Node balancer".
 */
#include "balance.h"
#include "wakegroup.h"

#define BAL_TICKS	5	/* rescue timer ticks per window: 100 ms */

/* The balancer's state is the program's own (static: not in the skeleton). */

static struct an_bal_node bal[AN_MAX_NODES];
/* What an_bal_step() granted for this window, spent by balance_note(). */
static s64 bal_out[AN_MAX_NODES], bal_in[AN_MAX_NODES];
/* Run time this window of tasks away from their home, by home (the rare path: atomics). */
static u64 bal_away[AN_MAX_NODES];
/* Queue depth samples this window, by node (the timer alone writes them). */
static u64 bal_qsum[AN_MAX_NODES];
/* Run-time totals at the last window, and scratch for this one. */
static u64 bal_prev_home[AN_MAX_NODES], bal_prev_busy[AN_MAX_NODES];
static u64 bal_cur_home[AN_MAX_NODES], bal_cur_busy[AN_MAX_NODES], bal_idle[AN_MAX_NODES];
static u64 bal_window, bal_start_ns;
static u32 bal_ticks;

/* A mask, not a comparison: the verifier keeps the bound through any register shuffle. */
_Static_assert((AN_MAX_NODES & (AN_MAX_NODES - 1)) == 0, "bal_idx() masks");
/* Where the balancer last moved a thread of each process: the daemon's memory mover reads it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, AN_MAX_BAL_HOMES);
	__type(key, u32);		/* tgid */
	__type(value, struct an_home);
} bal_homes SEC(".maps");

static __always_inline u32 bal_idx(u32 node)
{
	barrier_var(node);
	return node & (AN_MAX_NODES - 1);
}

/*
 * Move @p's home from its overloaded home to @node, where it just ran, when
 * the window's grants on both sides cover its load. Tasks already running on
 * the lighter node go first: moving them costs no migration now, and their
 * cache is there. Placement homes (pins, GPUs, memory) and affinity beat the
 * balancer, and a moved home holds balance_hold_ns, so homes do not ping-pong.
 */
static void balance_move(struct task_struct *p, struct task_ctx *tctx, u32 node, u64 now)
{
	u64 load = tctx->load_ns > tctx->win_ns ? tctx->load_ns : tctx->win_ns;
	struct an_home h = { .node = node, .src = AN_HOME_BALANCE };
	u32 home = tctx->home, tgid;

	if (home >= nr_nodes() || node >= nr_nodes() || home == node || !load)
		return;
	if (READ_ONCE(bal_out[bal_idx(home)]) < (s64)load || READ_ONCE(bal_in[bal_idx(node)]) < (s64)load)
		return;
	if (tctx->moved_ns && now - tctx->moved_ns < READ_ONCE(tun.balance_hold_ns))
		return;
	if (!an_bal_worth(&bal[bal_idx(home)], &bal[bal_idx(node)], load))
		return;
	if (!any_cpu(p) || placement_home(p) < nr_nodes())
		return;
	/* Two CPUs may spend the same grant: at most one task's load too many. */
	__sync_fetch_and_sub(&bal_out[bal_idx(home)], (s64)load);
	__sync_fetch_and_sub(&bal_in[bal_idx(node)], (s64)load);
	set_home(tctx, node);
	tctx->moved_ns = now;
	stat_add(node, AN_STAT_BALANCE_MOVE);
	tgid = p->tgid;
	bpf_map_update_elem(&bal_homes, &tgid, &h, BPF_ANY);
	/* Hysteresis: the next move waits for windows that show this one's effect. */
	WRITE_ONCE(bal[bal_idx(home)].streak, 0);
	WRITE_ONCE(bal_out[bal_idx(home)], 0);
}

/* Account a run of @ran ns on @node for the balancer, and maybe move the task's home. */
static void balance_note(struct task_struct *p, struct task_ctx *tctx, u32 node, u64 ran, u64 now)
{
	u64 win = READ_ONCE(bal_window);

	if (tctx->bal_win != win) {
		tctx->load_ns = tctx->bal_win + 1 == win ? tctx->win_ns : 0;
		tctx->win_ns = 0;
		tctx->bal_win = win;
	}
	tctx->win_ns += ran;
	if (node == tctx->home || tctx->home >= nr_nodes())
		return;
	__sync_fetch_and_add(&bal_away[bal_idx(tctx->home)], ran);
	if (READ_ONCE(tun.balance_hold_ns))
		balance_move(p, tctx, node, now);
}

/*
 * Run time per window moved onto (+) or off (-) each node by wake groups
 * since the balancer's window closed. The window's demand is 100 ms old: a
 * burst of moves decided on it alone sends every group to the node that
 * was lightest before any of them, and wakebench's two groups all ended
 * up on one node that way.
 */
static s64 grp_delta[AN_MAX_NODES];

/* May the home of @p move for a wake group: not given from outside, not pinned, not held. */
static bool group_movable(struct task_struct *p, const struct task_ctx *tctx, u64 now)
{
	if (tctx->moved_ns && now - tctx->moved_ns < READ_ONCE(tun.balance_hold_ns))
		return false;
	return any_cpu(p) && placement_home(p) >= nr_nodes();
}

/* What the wake-group rule needs to know of a task whose home is @node. */
static void group_side(struct an_wg_side *s, struct task_struct *p, const struct task_ctx *tctx,
		       u32 node, u64 now)
{
	u32 i = bal_idx(node);
	s64 room = READ_ONCE(bal_in[i]);
	s64 demand = (s64)READ_ONCE(bal[i].demand_ns) + READ_ONCE(grp_delta[i]);

	s->load_ns = tctx->load_ns > tctx->win_ns ? tctx->load_ns : tctx->win_ns;
	s->demand_ns = demand > 0 ? (u64)demand : 0;
	s->room_ns = room > 0 ? (u64)room : 0;
	s->cpus = READ_ONCE(bal[i].cpus);
	s->movable = group_movable(p, tctx, now);
}

/*
 * Wake groups (wakegroup.h says why): count the wakes in a row @p gets from
 * wakers whose home is one other node, and at group_wakes of them give one
 * of the two the other's home, spending the destination's balancer grant.
 * A moved home holds balance_hold_ns like the balancer's, so the two rules
 * do not undo each other's moves at once. Returns @p's home after that;
 * @home is @p's home now, @wctx the current task's (the waker's) context.
 */
static u32 group_wake(struct task_struct *p, struct task_ctx *tctx, struct task_ctx *wctx, u32 home)
{
	u32 min = READ_ONCE(tun.group_wakes), whome = wctx->home, dst, src;
	struct an_wg_side wakee, waker;
	struct task_ctx *mover;
	enum an_wg_move mv;
	u64 now, load;

	if (!min || whome >= nr_nodes() || home >= nr_nodes() || whome == home) {
		tctx->grp_streak = 0;
		return home;
	}
	/*
	 * Only a waker running at home speaks for its home. A stolen task is
	 * current when a loader's timer fires on the loader's own node: the
	 * wake is counted as the stolen task's (see woken_by_task()), and at
	 * 4 x 1 such wakes moved loaders off their memory.
	 */
	if (cpu_node(bpf_get_smp_processor_id()) != whome)
		return home;
	if (tctx->grp_node != whome) {
		tctx->grp_node = whome;
		tctx->grp_streak = 0;
	}
	if (tctx->grp_streak < min)
		tctx->grp_streak++;
	if (tctx->grp_streak < min)
		return home;
	now = bpf_ktime_get_ns();
	group_side(&wakee, p, tctx, home, now);
	group_side(&waker, bpf_get_current_task_btf(), wctx, whome, now);
	mv = an_wg_decide(tctx->grp_streak, min, &wakee, &waker);
	if (mv == AN_WG_NONE)
		return home;
	mover = mv == AN_WG_WAKEE ? tctx : wctx;
	dst = mv == AN_WG_WAKEE ? whome : home;
	src = mv == AN_WG_WAKEE ? home : whome;
	load = mv == AN_WG_WAKEE ? wakee.load_ns : waker.load_ns;
	load = load ? load : 1;
	__sync_fetch_and_sub(&bal_in[bal_idx(dst)], (s64)load);
	__sync_fetch_and_add(&grp_delta[bal_idx(dst)], (s64)load);
	__sync_fetch_and_sub(&grp_delta[bal_idx(src)], (s64)load);
	set_home(mover, dst);
	mover->moved_ns = now;
	tctx->grp_streak = 0;
	stat_add(dst, AN_STAT_GROUP_MOVE);
	return tctx->home;
}

/*
 * Close a window every BAL_TICKS rescue ticks: sum the run time counters
 * over CPUs (a CPU counts run time on its own node only, see an_stopping()),
 * turn them into each node's demand and capacity, and let an_bal_step()
 * decide. It also counts idle time next to a waiting queue
 * (IDLE_QUEUED_NS): the waste the balancer is for.
 */
static void balance_tick(u64 now)
{
	u32 n = nr_nodes(), node, i, queued_nodes = 0;
	struct an_node_stats *s;
	int cpu;
	u64 win, busy;

	if (++bal_ticks < BAL_TICKS)
		return;
	bal_ticks = 0;
	win = now - bal_start_ns;
	for (node = 0; node < AN_MAX_NODES; node++) {
		bal_cur_home[node] = 0;
		bal_cur_busy[node] = 0;
	}
	/* An open-coded iterator: a counted loop over every CPU would be unrolled by the verifier. */
	bpf_for(cpu, 0, setup.topo.nr_cpus < AN_MAX_CPUS ? setup.topo.nr_cpus : AN_MAX_CPUS) {
		u32 key = cpu_node(cpu);

		/* The key goes through the stack: index with a copy the verifier keeps bounded. */
		s = bpf_map_lookup_percpu_elem(&node_stats, &key, (u32)cpu);
		if (!s)
			continue;
		node = bal_idx(key);
		bal_cur_home[node] += s->cnt[AN_STAT_HOME_RUN_NS];
		bal_cur_busy[node] += s->cnt[AN_STAT_HOME_RUN_NS] + s->cnt[AN_STAT_AWAY_RUN_NS];
	}
	/* Open-coded, as in an_bal_step(): unrolled per node, 8 nodes failed to load (E2BIG). */
	an_bal_for(i, n) {
		/* bal_idx(): a bound the verifier sees on every access below. */
		u32 node = bal_idx(i);
		struct an_bal_node *b = &bal[node];

		b->cpus = node_nr_online(node);
		b->cap_ns = b->cpus * win;
		b->demand_ns = bal_cur_home[node] - bal_prev_home[node] +
			       __sync_lock_test_and_set(&bal_away[node], 0) + bal_qsum[node] * win / BAL_TICKS;
		busy = bal_cur_busy[node] - bal_prev_busy[node];
		bal_idle[node] = b->cap_ns > busy ? b->cap_ns - busy : 0;
		bal_prev_home[node] = bal_cur_home[node];
		bal_prev_busy[node] = bal_cur_busy[node];
		/* On average at least one task waiting all window. */
		if (bal_qsum[node] >= BAL_TICKS)
			queued_nodes |= 1U << node;
		bal_qsum[node] = 0;
		/* The new demand includes the wake groups' moves. */
		WRITE_ONCE(grp_delta[node], 0);
	}
	an_bal_step(bal, n, win / 4);
	an_bal_for(i, n) {
		u32 node = bal_idx(i);

		/* The first window has no start: measure, grant nothing. */
		WRITE_ONCE(bal_out[node], bal_start_ns ? (s64)bal[node].out_ns : 0);
		WRITE_ONCE(bal_in[node], (s64)bal[node].in_ns);
		if (bal_start_ns && (queued_nodes & ~(1U << node)) && bal_idle[node])
			stat_add_n(node, AN_STAT_IDLE_QUEUED_NS, bal_idle[node]);
	}
	bal_start_ns = now;
	WRITE_ONCE(bal_window, bal_window + 1);
}

void BPF_STRUCT_OPS(an_running, struct task_struct *p)
{
	struct task_ctx *tctx = task_ctx(p);
	u32 cpu = bpf_get_smp_processor_id(), node;
	u64 now = bpf_ktime_get_ns();

	if (!tctx)
		return;
	tctx->started_ns = now;
	llc_note_run(&tctx->last_cpu, cpu, cpu_node(cpu));
	/*
	 * Home is decided where the task first runs: its first allocations land
	 * there. And while its affinity keeps it off its home node, home follows
	 * it at once: memory touched while pinned is local to where it is pinned.
	 */
	node = cpu_node(cpu);
	if (tctx->home >= nr_nodes() || (tctx->home != node && !node_serves(p, tctx->home)))
		set_home(tctx, node);
	if (tctx->enq_ns) {
		wait_add(node, now - tctx->enq_ns);
		tctx->enq_ns = 0;
	}
	if (tctx->last_node != node && tctx->last_node != AN_NO_NODE)
		migrate_in_add(node, tctx->last_node);
	lat_wake_ran(tctx, node, now);
	tctx->last_node = node;
	/* Racy max: a lost update only delays the clock by one task's run. */
	if (tctx->vtime > READ_ONCE(vtime_now))
		WRITE_ONCE(vtime_now, tctx->vtime);
}

/*
 * Charge the run to the task's virtual time (scaled by weight: 100 is nice
 * 0), track its burst length, and move home only after sustained running on
 * one other node; see the top comment.
 */
void BPF_STRUCT_OPS(an_stopping, struct task_struct *p, bool runnable)
{
	struct task_ctx *tctx = task_ctx(p);
	u32 node, weight;
	u64 ran, now;

	if (!tctx || !tctx->started_ns)
		return;
	now = bpf_ktime_get_ns();
	handoff_judge(tctx, runnable, now);
	ran = now - tctx->started_ns;
	weight = p->scx.weight ? p->scx.weight : 100;
	tctx->vtime += ran * 100 / weight;
	tctx->burst_ns += ran;
	if (!runnable) {
		/* Going to sleep: a burst ended. */
		tctx->avg_burst_ns = tctx->avg_burst_ns ?
			(tctx->avg_burst_ns * 3 + tctx->burst_ns) / 4 : tctx->burst_ns;
		tctx->burst_ns = 0;
	} else if (tctx->burst_ns > tctx->avg_burst_ns * 4) {
		/* Still running far past its average: not latency-critical now. */
		tctx->avg_burst_ns = tctx->burst_ns;
	}

	if (tctx->home >= AN_MAX_NODES)
		return;
	node = cpu_node(scx_bpf_task_cpu(p));
	/* Locality: where the run time went, against the home it had while running. */
	stat_add_n(node, node == tctx->home ? AN_STAT_HOME_RUN_NS : AN_STAT_AWAY_RUN_NS, ran);
	balance_note(p, tctx, node, ran, now);
	proc_run_add(p, node == tctx->home, ran);
	if (node == tctx->home) {
		tctx->away_ns = 0;
		return;
	}
	if (node != tctx->away_node) {
		tctx->away_node = node;
		tctx->away_ns = 0;
	}
	tctx->away_ns += ran;
	if (tctx->away_ns >= READ_ONCE(tun.home_move_ns))
		set_home(tctx, node);
}

/* A CPU the daemon's topology does not place in a node: reload needed. */
static __always_inline bool cpu_unknown(s32 cpu)
{
	u32 idx = (u32)cpu;

	barrier_var(idx);
	return idx >= AN_MAX_CPUS || idx >= setup.topo.nr_cpus || !setup.topo.cpu_known[idx];
}

/* Exit with the code the kernel uses when it ejects a scheduler for hotplug. */
static void hotplug_restart(s32 cpu)
{
	static char fmt[] = "cpu %d is not in the topology: reloading";
	unsigned long long args[1] = { cpu };

	scx_bpf_exit_bstr(SCX_ECODE_ACT_RESTART | SCX_ECODE_RSN_HOTPLUG, fmt, args, sizeof(args));
}

/* Wake some idle CPU, nearest to @node first; true if one was found. */
static bool kick_any_idle(u32 node)
{
	u32 i, near;
	s32 cpu;

	for_each_nearest(i, near, node, 0) {
		cpu = claim_idle(NULL, near, false);
		if (cpu >= 0) {
			scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
			return true;
		}
	}
	return false;
}

void BPF_STRUCT_OPS(an_cpu_online, s32 cpu)
{
	u32 node = cpu_node(cpu);

	if (cpu_unknown(cpu)) {
		hotplug_restart(cpu);
		return;
	}
	llc_hotplug(cpu, true);
	barrier_var(node);
	if (node < AN_MAX_NODES && !__sync_fetch_and_add(&node_online[node], 1))
		__sync_fetch_and_and(&nodes_down, ~(1U << node));
}

void BPF_STRUCT_OPS(an_cpu_offline, s32 cpu)
{
	u32 node = cpu_node(cpu);

	if (cpu_unknown(cpu)) {
		hotplug_restart(cpu);
		return;
	}
	llc_hotplug(cpu, false);
	barrier_var(node);
	if (node >= AN_MAX_NODES)
		return;
	if (__sync_fetch_and_add(&node_online[node], -1) != 1)
		return;
	__sync_fetch_and_or(&nodes_down, 1U << node);
	/* Its last CPU left with tasks queued: wake another node to drain them. */
	if (node_queued(node) > 0)
		kick_any_idle(node);
}

/*
 * A thread created with its affinity already set (pthread_attr_setaffinity_np,
 * a data loader bound to its node) is scheduled once before the affinity
 * applies, possibly on another node, and that first run would make the wrong
 * node its home. An affinity confined to one node is a clearer statement of
 * where the task belongs: make that node home at once.
 */
void BPF_STRUCT_OPS(an_set_cpumask, struct task_struct *p, const struct cpumask *cpumask)
{
	struct task_ctx *tctx = task_ctx(p);
	const struct cpumask *cpus;
	u32 node, first = AN_NO_NODE, n = nr_nodes();
	bool one = false;

	__sync_fetch_and_add(&shared.cpumask_changes, 1);
	if (!tctx)
		return;
	bpf_rcu_read_lock();
	for (node = 0; node < AN_MAX_NODES && node < n; node++) {
		cpus = node_cpus(node);
		if (!cpus || !bpf_cpumask_intersects(cpus, cpumask))
			continue;
		if (first != AN_NO_NODE) {
			one = false;
			break;
		}
		first = node;
		one = true;
	}
	bpf_rcu_read_unlock();
	if (one)
		set_home(tctx, first);
}

s32 BPF_STRUCT_OPS(an_init_task, struct task_struct *p, struct scx_init_task_args *args)
{
	struct task_ctx *tctx;

	tctx = bpf_task_storage_get(&task_ctxs, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!tctx)
		return -ENOMEM;
	tctx->home = AN_NO_NODE;
	tctx->away_node = AN_NO_NODE;
	tctx->handed_node = AN_NO_NODE;
	tctx->last_node = AN_NO_NODE;
	tctx->grp_node = AN_NO_NODE;
	/* A new task starts at the current virtual time: no credit, no debt. */
	tctx->vtime = READ_ONCE(vtime_now);
	return 0;
}

/*
 * One node's rescue check. A global function, so the verifier checks it
 * once rather than once per node: inline, 8 nodes times the nearest-node
 * search of kick_any_idle() went past its instruction limit (E2BIG).
 */
AN_GLOBAL_FN int rescue_node(u32 node, u64 now)
{
	s32 queued;

	if (node >= AN_MAX_NODES)
		return 0;
	queued = node_queued(node);
	/* For the daemon's stats: fresh enough at the timer's period. */
	shared.node_queued[node] = queued > 0 ? queued : 0;
	bal_qsum[node] += queued > 0 ? queued : 0;
	if (queued <= 0)
		return 0;
	/* The DSQ walk takes its own RCU section, for 6.12: see dsq_head_wait_ns(). */
	if (head_wait_ns(node, now) < RESCUE_WAIT_NS)
		return 0;
	__sync_fetch_and_or(&rescue_nodes, 1U << node);
	kick_any_idle(node);
	return 0;
}

static int rescue_fn(void *map, int *key, struct bpf_timer *timer)
{
	u64 now = bpf_ktime_get_ns();
	u32 node, n = nr_nodes();

	for (node = 0; node < AN_MAX_NODES && node < n && node < 32; node++)
		rescue_node(node, now);
	balance_tick(now);
	bpf_timer_start(timer, RESCUE_PERIOD_NS, 0);
	return 0;
}

static s32 start_rescue_timer(void)
{
	struct rescue_timer *rt;
	u32 key = 0;
	s32 ret;

	rt = bpf_map_lookup_elem(&rescue_timers, &key);
	if (!rt)
		return -ENOENT;
	ret = bpf_timer_init(&rt->timer, &rescue_timers, 1 /* CLOCK_MONOTONIC */);
	if (ret)
		return ret;
	ret = bpf_timer_set_callback(&rt->timer, rescue_fn);
	if (ret)
		return ret;
	return bpf_timer_start(&rt->timer, RESCUE_PERIOD_NS, 0);
}

static s32 build_node_mask(u32 node)
{
	struct bpf_cpumask *mask, *old;
	struct node_mask *nm;
	u32 cpu;

	nm = bpf_map_lookup_elem(&node_masks, &node);
	if (!nm)
		return -ENOENT;
	mask = bpf_cpumask_create();
	if (!mask)
		return -ENOMEM;
	for (cpu = 0; cpu < AN_MAX_CPUS; cpu++) {
		if (cpu >= setup.topo.nr_cpus)
			break;
		if (setup.topo.cpu_node[cpu] == node)
			bpf_cpumask_set_cpu(cpu, mask);
	}
	old = bpf_kptr_xchg(&nm->mask, mask);
	if (old)
		bpf_cpumask_release(old);
	return 0;
}

s32 BPF_STRUCT_OPS_SLEEPABLE(an_init)
{
	u32 node, n = nr_nodes();
	s32 ret;

	if (!n) {
		an_error("no NUMA node in the topology (%u)", n);
		return -EINVAL;
	}
	for (node = 0; node < AN_MAX_NODES; node++) {
		if (node >= n)
			break;
		node_online[node] = setup.topo.node_nr_online[node];
		if (!node_online[node])
			nodes_down |= 1U << node;
		/* Allocate the queues on their own node: its CPUs are the ones touching them. */
		ret = create_llc_dsqs(node);
		if (ret) {
			an_error("creating the queues of node %u failed: %d", setup.topo.node_id[node], ret);
			return ret;
		}
		ret = build_node_mask(node);
		if (ret) {
			an_error("building the CPU mask of node %u failed: %d", setup.topo.node_id[node], ret);
			return ret;
		}
	}
	/* After the queues exist: the timer looks at them. */
	ret = start_rescue_timer();
	if (ret) {
		an_error("starting the rescue timer failed: %d", ret);
		return ret;
	}
	return 0;
}

void BPF_STRUCT_OPS(an_exit, struct scx_exit_info *ei)
{
	struct rescue_timer *rt;
	u32 key = 0;

	/* The queues go with the scheduler: stop the timer that walks them. */
	rt = bpf_map_lookup_elem(&rescue_timers, &key);
	if (rt)
		bpf_timer_cancel(&rt->timer);
	bpf_probe_read_kernel_str(shared.exit_info.reason, sizeof(shared.exit_info.reason), ei->reason);
	bpf_probe_read_kernel_str(shared.exit_info.msg, sizeof(shared.exit_info.msg), ei->msg);
	if (ei->dump)
		bpf_probe_read_kernel_str(shared.exit_info.dump, sizeof(shared.exit_info.dump), ei->dump);
	shared.exit_info.exit_code = ei->exit_code;
	/* kind last: the daemon treats a non-zero kind as "record complete". */
	asm volatile("" ::: "memory");
	WRITE_ONCE(shared.exit_info.kind, ei->kind);
}

SEC(".struct_ops.link")
struct sched_ext_ops ai_numa_ops = {
	.select_cpu	= (void *)an_select_cpu,
	.enqueue	= (void *)an_enqueue,
	.dispatch	= (void *)an_dispatch,
	.running	= (void *)an_running,
	.stopping	= (void *)an_stopping,
	.init_task	= (void *)an_init_task,
	.set_cpumask	= (void *)an_set_cpumask,
	.cpu_online	= (void *)an_cpu_online,
	.cpu_offline	= (void *)an_cpu_offline,
	.init		= (void *)an_init,
	.exit		= (void *)an_exit,
	.flags		= SCX_OPS_ENQ_LAST,
	.exit_dump_len	= AN_EXIT_DUMP_LEN,
	.name		= "ai_numa",
};
