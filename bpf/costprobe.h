/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where a callback's time goes: the sections the test build's scheduler
 * times with bpf_ktime_get_ns() (AN_COST_PROBE, the scx_ai_numad-faults
 * build only; the installed scheduler has no probe) and that
 * `bpf_progstats --probe` prints. Shared by the BPF side (costprobe.bpf.h)
 * and user space, hence plain C with no kernel types.
 *
 * Each entry: id, name, what it times. A section nested in another is
 * counted in both; every section includes one clock read (CLOCK, an empty
 * section, is that cost).
 *
 * Besides the sum, a histogram: under emulation on a busy host a vCPU is
 * descheduled in the middle of a section now and then, and those
 * milliseconds swamp every mean; the median is the code's cost. Bucket b
 * holds [AN_COST_LO(b), AN_COST_LO(b + 1)) ns: 4 buckets per power of two
 * from 2^AN_COST_MIN_LOG ns, the last one open-ended.
 */
#ifndef SCX_AI_NUMA_COSTPROBE_H
#define SCX_AI_NUMA_COSTPROBE_H

#define AN_COST_SECTIONS(X) \
	X(CLOCK,	"clock",	"an empty section: one clock read and the map update") \
	X(SELECT,	"select_cpu",	"an_select_cpu, whole") \
	X(ENQUEUE,	"enqueue",	"an_enqueue, whole") \
	X(DISPATCH,	"dispatch",	"an_dispatch, whole") \
	X(MOVE_LOCAL,	"move_to_local", "scx_bpf_dsq_move_to_local: a DSQ's head to the local DSQ (takes the DSQ lock)") \
	X(NR_QUEUED,	"dsq_nr_queued", "scx_bpf_dsq_nr_queued of one DSQ") \
	X(NODE_QUEUED,	"node_queued",	"node_queued(): a node's LLC queues summed (global function, num iterator)") \
	X(ITER_WAIT,	"dsq_iter_wait", "dsq_head_wait_ns(): up to 4 steps of a DSQ iterator (a lock round trip each)") \
	X(ITER_WARM,	"dsq_iter_warm", "take_own()'s warm pick: up to 4 iterator steps and a move") \
	X(IDLE_PREV,	"idle_prev",	"scx_bpf_test_and_clear_cpu_idle of the previous CPU") \
	X(IDLE_LLC,	"idle_llc",	"claim_idle_in_llc(): an idle CPU in one LLC") \
	X(IDLE_NODE,	"idle_node",	"claim_idle(): an idle CPU in one node") \
	X(KICK,		"kick",		"scx_bpf_kick_cpu") \
	X(TASK_CTX,	"task_ctx",	"task storage lookup of the task's context") \
	X(STAT,		"stat_add",	"one per-CPU counter update (map lookup)") \
	X(STEAL_SCAN,	"steal_scan",	"an_dispatch's walk of the other nodes (after its own queues)") \
	X(VICTIM,	"steal_victim",	"the steal scan reads one other node's queue counters") \
	X(SERVING,	"serving_node",	"an_enqueue's choice of node") \
	X(ENQ_LLC,	"enq_llc",	"an_enqueue's choice of LLC queue") \
	X(INSERT,	"dsq_insert",	"scx_bpf_dsq_insert(_vtime) (the kernel queues the task after the callback)")

#define AN_COST_ENUM_(id, name, help)	AN_COST_##id,
enum an_cost_section {
	AN_COST_SECTIONS(AN_COST_ENUM_)
	AN_NR_COST
};
#undef AN_COST_ENUM_

#define AN_COST_MIN_LOG		6	/* 64 ns */
#define AN_COST_MAX_LOG		25	/* 33 ms */
#define AN_COST_BUCKETS		((AN_COST_MAX_LOG - AN_COST_MIN_LOG) * 4)
#define AN_COST_LO(b)		((1ULL << ((b) / 4 + AN_COST_MIN_LOG)) * (4 + (b) % 4) / 4)

/*
 * The bucket of a duration of @ns: floor(log2(ns)) picks the power of two,
 * the two bits below the top one the quarter.
 */
static inline unsigned int an_cost_bucket(unsigned long long ns)
{
	unsigned int l = 0;

	while (l < 63 && (ns >> (l + 1)))
		l++;
	if (l < AN_COST_MIN_LOG)
		return 0;
	if (l >= AN_COST_MAX_LOG)
		return AN_COST_BUCKETS - 1;
	return (l - AN_COST_MIN_LOG) * 4 + (unsigned int)((ns >> (l - 2)) & 3);
}

/* One section's totals, per CPU. */
struct an_cost {
	unsigned long long ns;
	unsigned long long cnt;
	unsigned long long hist[AN_COST_BUCKETS];
};

/* Adds a duration of @ns to @c's sum, count and histogram. */
static inline void an_cost_account(struct an_cost *c, unsigned long long ns)
{
	unsigned int b = an_cost_bucket(ns);

	c->ns += ns;
	c->cnt++;
	/*
	 * Keep the bounds check on the register used for the access: the BPF
	 * verifier cannot follow a check of a copy.
	 */
	asm volatile("" : "+r"(b));
	if (b < AN_COST_BUCKETS)
		c->hist[b]++;
}

#endif
