/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one contract between the BPF scheduler and userspace.
 *
 * Everything that crosses the boundary is declared here once, with
 * fixed-width types and fixed caps, and included by both sides: the BPF
 * program (through vmlinux.h types) and the daemon (through linux/types.h).
 * Changing a layout here changes both sides at once; nothing is declared twice.
 * That is: the program's globals the daemon touches (struct an_setup,
 * struct an_tunables, struct an_shared), the values of the maps it reads or
 * fills (struct an_node_stats, struct an_home), the counters with their
 * names, and the kernel's exit codes the daemon interprets. Maps and state
 * private to the BPF side are declared there. The assertions at the end
 * are compiled on both sides.
 */
#ifndef SCX_AI_NUMA_INTF_H
#define SCX_AI_NUMA_INTF_H

#ifndef __bpf__
#include <linux/types.h>
typedef __u8 u8;
typedef __u32 u32;
typedef __s32 s32;
typedef __u64 u64;
typedef __s64 s64;
#endif

/*
 * Caps. The BPF side sizes its arrays with these, so a machine beyond them is
 * refused by the daemon's topology check instead of being silently truncated.
 * AN_MAX_NODE_ID bounds the kernel's (possibly sparse) node ids; AN_MAX_NODES
 * bounds the number of nodes that have CPUs, which get a dense index and a
 * dispatch queue each.
 */
#define AN_MAX_CPUS	1024
#define AN_MAX_NODES	16
#define AN_MAX_NODE_ID	64
/*
 * Last-level caches (L3): AN_MAX_LLCS in all, at most AN_MAX_NODE_LLCS in
 * one node (EPYC NPS1 has 8 to 16 L3s per node). A machine beyond these is
 * not refused: the daemon then gives each node one LLC, which is how the
 * scheduler works without cache information.
 */
#define AN_MAX_LLCS		64
#define AN_MAX_NODE_LLCS	16

/*
 * Dispatch queue id of LLC @l: one user DSQ per last-level cache; a node's
 * queue is the set of its LLCs' (no DSQ per node).
 */
#define AN_LLC_DSQ(l)	((u64)(l))

/* Home node not decided yet (first wakeup decides it). */
#define AN_NO_NODE	0xffffffffu

/*
 * Per-node event counters, kept in a per-CPU array indexed by dense node
 * index, so the hot path increments without atomics; the daemon sums CPUs.
 * The node is the one the event belongs to: for a steal, STEAL_IN counts on
 * the thief's node and STEAL_OUT on the victim queue's node. Run time
 * (HOME_RUN_NS, AWAY_RUN_NS) counts on the node the task ran on, split by
 * whether that was its home then: the node's locality is home / (home + away).
 *
 * One list gives the enum (AN_STAT_<ID>) and the daemon's name and help
 * text for each counter: X(ID, "name", "help"). Names are stable, they are
 * the keys of the control interface's counters; a name ending in _ns counts
 * nanoseconds, the others events.
 */
#define AN_STATS(X) \
	X(DIRECT, "direct", "woken onto an idle CPU of the home node") \
	X(DIRECT_REMOTE, "direct_remote", "woken onto an idle CPU of another node") \
	X(NODE_ENQ, "node_enq", "queued on the node's dispatch queue") \
	X(PINNED_ENQ, "pinned_enq", "single-CPU task queued on its CPU") \
	X(NODE_DISPATCH, "node_dispatch", "taken from the node's own queue") \
	X(STEAL_IN, "steal_in", "taken by this node from another node's queue") \
	X(STEAL_OUT, "steal_out", "taken from this node's queue by another node") \
	X(KICK, "kick", "idle CPU woken to serve a queue") \
	X(HOME_MOVE, "home_move", "task home node changed to this node") \
	X(RESCUE, "rescue", "taken by this node from a queue whose oldest task starved") \
	X(SENT_HOME, "sent_home", "tasks running away from home sent to an idle CPU of this, their home node") \
	X(HANDOFF, "handoff", "wakeups run on the CPU of their waker, which slept next") \
	X(HANDOFF_MISS, "handoff_miss", "hand-offs whose waker kept running after all: the wakee waited for it") \
	X(HOME_RUN_NS, "home_run_ns", "run time on this node of tasks whose home it is") \
	X(AWAY_RUN_NS, "away_run_ns", "run time on this node of tasks whose home is another node") \
	X(MIGRATE_IN, "migrate_in", "runs on this node of tasks that last ran on another node") \
	X(BALANCE_MOVE, "balance_move", "task homes the node balancer moved to this node from an overloaded one") \
	X(IDLE_QUEUED_NS, "idle_queued_ns", "idle CPU time on this node while another node's queue held a task waiting, on average") \
	X(MIGRATE_IN_NEAR, "migrate_in_near", "migrate_in from a node at the smallest SLIT distance from this one") \
	X(MIGRATE_IN_FAR, "migrate_in_far", "migrate_in from a node farther than the nearest ones") \
	X(LAT_WAKE_NS, "lat_wake_ns", "wake-to-run time of latency-critical tasks that then ran on this node") \
	X(LLC_PULL, "llc_pull", "taken by a CPU of this node from another LLC's queue of the node") \
	X(MIGRATE_LLC, "migrate_llc", "runs on this node of tasks that last ran in another L3 of it, whatever the queues") \
	X(GROUP_MOVE, "group_move", "task homes moved to this node to join the tasks they wake or are woken by") \
	X(WAKE_HOME, "wake_home", "wakeups of tasks that last ran on another node, woken onto a CPU of this, their busy home")

#define AN_STAT_ENUM_(id, name, help)	AN_STAT_##id,
enum an_stat {
	AN_STATS(AN_STAT_ENUM_)
	AN_NR_STATS,
};
#undef AN_STAT_ENUM_

/*
 * Queue-wait histogram: time from insertion into a node queue to running,
 * bucket b counts waits in [2^(b-1), 2^b) microseconds (bucket 0: < 1us),
 * the last bucket everything longer.
 */
#define AN_WAIT_BUCKETS	16

/*
 * Wake-latency histogram of latency-critical tasks (the launcher class,
 * lat_run_ns): time from their wakeup (select_cpu) to running, counted on
 * the node they ran on, in the same log2-microsecond buckets; the sum is
 * the counter LAT_WAKE_NS.
 */
struct an_node_stats {
	u64 cnt[AN_NR_STATS];
	u64 wait_hist[AN_WAIT_BUCKETS];
	u64 lat_wake_hist[AN_WAIT_BUCKETS];
};

/*
 * Live tunables: one struct in the BPF program's .data section, written by
 * the daemon through the memory-mapped skeleton while the scheduler runs.
 * Every field is read with READ_ONCE semantics on the BPF side, so a change
 * is effective at the next scheduling event, without a reload. Ranges,
 * defaults and units live in the daemon's tunables table, which is the
 * single source of truth for them.
 */
struct an_tunables {
	u64 slice_ns;		/* time slice given to every dispatch */
	u64 home_move_ns;	/* run time away from home before home moves */
	u64 steal_delay_ns;	/* ... or whose oldest task waited this long */
	u64 lat_run_ns;		/* average burst below which a task is latency-critical */
	u32 steal;		/* 0: strict locality, 1: idle CPUs steal work */
	u32 steal_min_queued;	/* steal from queues at least this deep ... */
	u32 remote_idle;	/* wake onto another node's idle CPU when steal is on */
	u32 warm_pick;		/* a CPU prefers a queued task that last ran on it */
	u64 handoff_ns;		/* a waker sleeping this soon after a wake hands off; 0: never */
	u64 balance_hold_ns;	/* a home the node balancer moved holds this long; 0: no balancer */
	/*
	 * The daemon's own live knobs, which the BPF program never reads. They
	 * live here so that one table (tunables.c) and one code path serve
	 * every knob for set/get, the configuration file and the man pages.
	 */
	u64 migrate_settle_ns;	/* a home holds this long before memory follows it */
	u32 migrate_mbps;	/* memory moved to its task's home, MiB/s; 0: off */
	u32 mem_home_permille;	/* memory share that makes an implicit home follow it */
	u32 gpu_scope;		/* how far a GPU home extends (enum gpu_scope) */
	/* Read by the BPF program; last, where the tail pad was, so no field moved. */
	u32 group_wakes;	/* wakes in a row from one other node that group waker and wakee; 0: never */
	u32 wake_home;		/* wake a task queued at home onto a home CPU, not where it last ran */
	u32 pad_end;		/* the tail pad, named: no tunable owns it (the next u32 goes here) */
};

/*
 * Topology handed to BPF before load (read-only data). Dense node indices
 * 0..nr_nodes-1 name the nodes that have CPUs. Nodes without CPUs (memory
 * only) map to the nearest node with CPUs, so a task whose memory lives there
 * still gets a home that some CPU serves.
 */
struct an_topo {
	u32 nr_cpus;				/* possible CPU ids are < nr_cpus */
	u32 nr_nodes;				/* dense nodes (with CPUs) */
	u32 cpu_node[AN_MAX_CPUS];		/* cpu -> dense node */
	u8 cpu_online[AN_MAX_CPUS];		/* online at attach time */
	u8 cpu_known[AN_MAX_CPUS];		/* in a node: hotplug handled in place */
	u32 node_id[AN_MAX_NODES];		/* dense -> kernel node id */
	u32 node_of_id[AN_MAX_NODE_ID];		/* kernel node id -> dense (nearest) */
	u32 node_nr_online[AN_MAX_NODES];	/* online CPUs per dense node */
	/* For each dense node, all dense nodes ordered by SLIT distance (self first). */
	u32 node_order[AN_MAX_NODES][AN_MAX_NODES];
	/*
	 * Last-level caches, numbered 0..nr_llcs-1 node by node; an LLC never
	 * spans nodes (with SNC the socket's L3 is split by node). Without
	 * cache information each node is one LLC.
	 */
	u32 nr_llcs;
	u32 llc_pad;
	u32 cpu_llc[AN_MAX_CPUS];		/* cpu -> LLC (0 for a CPU in no node) */
	u32 llc_node[AN_MAX_LLCS];		/* LLC -> dense node */
	u32 node_nr_llcs[AN_MAX_NODES];		/* LLCs per dense node, at least 1 */
	u32 node_llcs[AN_MAX_NODES][AN_MAX_NODE_LLCS];	/* each dense node's LLCs */
	/*
	 * The physical L3 of each CPU, whatever the queues: with --node-queues
	 * (or more L3s than the caps) the LLCs above are one per node, these
	 * stay the caches. Ids only compare equal or not (the daemon names a
	 * cache by its lowest CPU; an L3 never spans nodes here either);
	 * nr_caches counts them. For counters (MIGRATE_LLC), not queues.
	 */
	u32 nr_caches;
	u32 cache_pad;
	u32 cpu_cache[AN_MAX_CPUS];
};

/* Last exit of the scheduler as the kernel reported it (see ops.exit). */
#define AN_EXIT_REASON_LEN	128
#define AN_EXIT_MSG_LEN		1024
#define AN_EXIT_DUMP_LEN	16384

struct an_exit_info {
	s32 kind;		/* enum scx_exit_kind; 0 while attached */
	s32 pad;
	s64 exit_code;		/* SCX_ECODE_* bits for kernel-initiated exits */
	char reason[AN_EXIT_REASON_LEN];
	char msg[AN_EXIT_MSG_LEN];
	char dump[AN_EXIT_DUMP_LEN];	/* the kernel's debug dump (error exits) */
};

/*
 * The kernel's exit codes the daemon interprets, for userspace, which has
 * no vmlinux.h; the BPF side asserts each equals the kernel's enum.
 * Exit code bits (enum scx_exit_code):
 */
#define AN_ECODE_RSN_HOTPLUG	(1ULL << 32)
#define AN_ECODE_ACT_RESTART	(1ULL << 48)

/* Exit kinds (enum scx_exit_kind). */
#define AN_EXIT_NONE		0
#define AN_EXIT_DONE		1
#define AN_EXIT_UNREG		64
#define AN_EXIT_UNREG_BPF	65
#define AN_EXIT_UNREG_KERN	66
#define AN_EXIT_SYSRQ		67
#define AN_EXIT_ERROR		1024
#define AN_EXIT_ERROR_BPF	1025
#define AN_EXIT_ERROR_STALL	1026

/*
 * Placement homes: a node chosen for a task from outside the scheduler. The
 * daemon fills two hash maps the policy consults before any home rule of its
 * own: tgid_homes, tgid -> home (processes holding a GPU open get that
 * GPU's node, and processes an operator pinned), and cgroup_homes, cgroup
 * id -> home (pinned cgroups, which cover their descendants). A pin beats a
 * GPU association, so a tgid entry says where it came from.
 */
#define AN_MAX_TGID_HOMES	8192	/* processes with a placement home (map tgid_homes) */
#define AN_MAX_PINS		256	/* operator rules: processes and cgroups */
#define AN_CGROUP_MAX_DEPTH	16	/* cgroup levels searched for a pin, deepest first */

#define AN_HOME_GPU	1	/* associated with the GPUs it holds open */
#define AN_HOME_PIN	2	/* pinned by a rule */
#define AN_HOME_BALANCE	3	/* moved off an overloaded node (map bal_homes, written by the policy) */

/*
 * Processes a thread of which the node balancer last moved, tgid -> the
 * new home (an LRU map the policy writes and the daemon reads): memory
 * follows a process that now lives wholly there, see memfollow.c.
 */
#define AN_MAX_BAL_HOMES	1024

struct an_home {
	u32 node;	/* dense node */
	u32 src;	/* AN_HOME_GPU or AN_HOME_PIN */
};

/*
 * The program's globals the daemon touches, one struct per section. The
 * daemon reaches them through the skeleton as rodata->setup, data->tun and
 * bss->shared.
 *
 * .rodata, "setup": written by the daemon between open and load; constant
 * for the program, so the verifier prunes on it.
 */
struct an_setup {
	struct an_topo topo;
	u32 idle_per_node;	/* the kernel keeps an idle mask per node for us (6.15+) */
	u32 pad;
	/*
	 * For each dense node, the other dense nodes at the smallest SLIT
	 * distance from it (bit per node): a migration from one of them counts
	 * as MIGRATE_IN_NEAR, from any other as MIGRATE_IN_FAR.
	 */
	u32 near_nodes[AN_MAX_NODES];
	u64 enq_head;		/* SCX_ENQ_HEAD as the running kernel numbers it (daemon/kcompat.h) */
};

/* .bss, "shared": live both ways while the scheduler runs. */
struct an_shared {
	/* Written by the daemon. */
	u32 nr_tgid_homes;	/* entries in tgid_homes: 0 skips the lookup */
	u32 nr_cgroup_homes;	/* entries in cgroup_homes: 0 skips the walk */
	u32 inject_error;	/* fault-injection builds only: error at the next dispatch */
	u32 pad;
	/* Written by the scheduler. */
	u32 node_queued[AN_MAX_NODES];	/* tasks per node queue, sampled by the rescue timer */
	struct an_exit_info exit_info;	/* kind set last, see ops.exit */
	/* Written by the daemon: entries in proc_run, 0 skips the lookup. */
	u32 nr_proc_run;
	u32 pad2;
	/* Written by the scheduler: ops.set_cpumask calls so far (the daemon's affinity pass looks when it moves). */
	u64 cpumask_changes;
};

/*
 * Run time of placed processes (pinned, in a pinned cgroup, with a GPU or
 * memory home), per CPU, keyed by tgid, split by whether the thread ran on
 * its home then. The daemon creates and removes the entries (at most
 * AN_MAX_PROC_RUN), the policy only adds to the ones it finds.
 */
#define AN_MAX_PROC_RUN	1024

struct an_proc_run {
	u64 home_ns;
	u64 away_ns;
};

/*
 * Caps the code relies on, and layouts both compilers must lay out alike:
 * with every size a multiple of 8 and u64 fields 8-aligned, x86-64 and BPF
 * agree on them without hidden padding at the ends.
 */
_Static_assert(AN_MAX_NODES <= AN_MAX_NODE_ID, "every dense node has a kernel node id below the cap");
_Static_assert(AN_MAX_NODES <= 32, "sets of nodes are u32 bit masks");
_Static_assert(AN_MAX_NODES <= AN_MAX_LLCS && AN_MAX_NODE_LLCS <= AN_MAX_LLCS, "one LLC per node always fits");
_Static_assert(AN_MAX_PINS <= AN_MAX_TGID_HOMES, "pinned processes fit the tgid map beside GPU processes");
_Static_assert(AN_NR_STATS > 0 && sizeof(struct an_node_stats) % 8 == 0, "counters are u64");
_Static_assert(sizeof(struct an_tunables) % 8 == 0, "tunables: no tail padding");
_Static_assert(__builtin_offsetof(struct an_tunables, handoff_ns) % 8 == 0, "tunables: u64 fields 8-aligned");
_Static_assert(sizeof(struct an_topo) % 8 == 0, "topology: no tail padding");
_Static_assert(sizeof(struct an_exit_info) % 8 == 0, "exit record: no tail padding");
_Static_assert(sizeof(struct an_home) == 8, "placement home: two u32");
_Static_assert(sizeof(struct an_proc_run) == 16, "process run time: two u64");
_Static_assert(sizeof(struct an_setup) % 8 == 0, "setup: no tail padding");
_Static_assert(__builtin_offsetof(struct an_shared, exit_info) % 8 == 0, "shared: exit record 8-aligned");
_Static_assert(sizeof(struct an_shared) % 8 == 0, "shared: no tail padding");
_Static_assert(__builtin_offsetof(struct an_shared, cpumask_changes) % 8 == 0, "shared: u64 fields 8-aligned");

#endif /* SCX_AI_NUMA_INTF_H */
