/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-LLC queues: one DSQ per last-level cache, created on its node.
 *
 * A node of 100 and more CPUs behind one queue serialises every enqueue and
 * dispatch of the node on one spinlock, and a task taken from it lands on
 * whichever CPU came first, often in another L3 (EPYC puts 8 to 16 L3s in
 * one NPS1 node), where its cache is cold. So each LLC has its own queue: a
 * task is queued on the LLC it last ran in (if that is in the node serving
 * it), a CPU serves its own LLC's queue first, then its node's other LLCs,
 * and only then other nodes. The node stays the unit of home, stealing and
 * rescue: "a node's queue" is the set of its LLC queues, see node_queued()
 * and node_move_to_local(). With one LLC per node (no cache information,
 * or --node-queues) every function here reduces to the per-node queue of
 * old, at the same cost; all but llc_note_run(), which counts runs that
 * changed physical L3 (setup.topo.cpu_cache) whatever the queues, so that
 * per-node and per-LLC queues compare by it.
 *
 * Included by scx_ai_numa.bpf.c after its node helpers (cpu_node(),
 * kernel_node(), node_nr_online(), task_ctx(), stat_add()).
 */
#ifndef SCX_AI_NUMA_LLC_BPF_H
#define SCX_AI_NUMA_LLC_BPF_H

/* Online CPUs per LLC, kept by the hotplug callbacks (llc_hotplug()). */
u32 llc_online[AN_MAX_LLCS];
/* LLCs with no CPU online whose node has some (bit per LLC): their queue is drained first. */
u64 llcs_down;
/* Each node's LLCs as bits of an LLC mask (llcs_down, queued_llcs), built in init. */
u64 node_llc_bits[AN_MAX_NODES];
/*
 * LLC queues that may hold a task (bit per LLC), so that an idle CPU's
 * steal scan skips the nodes with nothing queued: reading one word instead
 * of every other node's queue counters (each a line the queue's CPUs keep
 * writing; 84 of them at 8 nodes x 12 LLCs), and in the VM 2-3 us of a
 * 9 us dispatch at 2 nodes (docs/scaling.md). Set by enqueue as it queues
 * (read first: a busy queue's bit stays set, so the line stays shared),
 * cleared by a CPU that found all of a node's queues empty. That clear can
 * race with an insertion (the kernel inserts after ops.enqueue returns): a
 * lost bit only hides the node from remote stealers until its next enqueue
 * sets it again, and from its own node's CPUs of other LLCs
 * (take_llc_sibling()) likewise; the queue's own CPUs never look at the
 * hint, and neither does the rescue timer.
 */
u64 queued_llcs;

/* CPUs of each LLC, built in init; the idle search in an LLC is confined to these. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, AN_MAX_LLCS);
	__type(key, u32);
	__type(value, struct node_mask);
} llc_masks SEC(".maps");

static __always_inline u32 nr_llcs(void)
{
	u32 n = setup.topo.nr_llcs;

	return n <= AN_MAX_LLCS ? n : AN_MAX_LLCS;
}

/* LLC of @cpu; CPUs beyond the topology count as LLC 0 (in node 0, as cpu_node() says). */
static __always_inline u32 cpu_llc(s32 cpu)
{
	u32 idx = (u32)cpu, l;

	barrier_var(idx);
	if (idx >= AN_MAX_CPUS)
		return 0;
	l = setup.topo.cpu_llc[idx];
	return l < AN_MAX_LLCS ? l : 0;
}

static __always_inline u32 node_nr_llcs(u32 node)
{
	u32 n;

	barrier_var(node);
	if (node >= AN_MAX_NODES)
		return 0;
	n = setup.topo.node_nr_llcs[node];
	return n <= AN_MAX_NODE_LLCS ? n : AN_MAX_NODE_LLCS;
}

/* The @i-th LLC of @node, AN_MAX_LLCS if none. */
static __always_inline u32 node_llc(u32 node, u32 i)
{
	barrier_var(node);
	barrier_var(i);
	if (node >= AN_MAX_NODES || i >= AN_MAX_NODE_LLCS)
		return AN_MAX_LLCS;
	return setup.topo.node_llcs[node][i];
}

/*
 * Visit @node's LLCs; @i is the caller's int. An open-coded iterator, not a
 * bounded loop: the verifier checks the body once instead of once per
 * possible LLC, and these loops run inside loops over nodes.
 */
#define for_each_node_llc(i, llc, node)						\
	bpf_for(i, 0, (int)node_nr_llcs(node))					\
		if (((llc) = node_llc((node), (u32)(i))) < nr_llcs())

static __always_inline u32 llc_nr_online(u32 llc)
{
	barrier_var(llc);
	if (llc >= AN_MAX_LLCS)
		return 0;
	return READ_ONCE(llc_online[llc]);
}

static __always_inline s32 llc_queued(u32 llc)
{
	s32 q = COST_EXPR(NR_QUEUED, scx_bpf_dsq_nr_queued(AN_LLC_DSQ(llc)));

	return q > 0 ? q : 0;
}

/*
 * The node-wide operations below are global functions (noinline, not
 * static): the verifier checks each once on its own, where a static one is
 * checked again at every call with the caller's state. They run inside
 * loops over nodes, and checked inline the load exceeds the verifier's
 * budget.
 */
#define AN_GLOBAL_FN	__attribute__((noinline))

/*
 * Tasks queued on @node: the sum of its LLC queues. One LLC (the common
 * case, and every node under --node-queues) skips the iterator: its three
 * kfunc calls cost more than the one read they wrap.
 */
AN_GLOBAL_FN s32 node_queued(u32 node)
{
	u32 llc;
	int i;
	s32 sum = 0;
	COST_BEGIN(c0);

	if (node_nr_llcs(node) == 1) {
		llc = node_llc(node, 0);
		sum = llc < nr_llcs() ? llc_queued(llc) : 0;
	} else {
		for_each_node_llc(i, llc, node)
			sum += llc_queued(llc);
	}
	COST_END(NODE_QUEUED, c0);
	return sum;
}

/*
 * The queue of @node for a task that last ran on @task_cpu: that CPU's LLC
 * when it is in @node and has a CPU online (its cache may still hold the
 * task's data), else the node's LLC with an online CPU and the fewest
 * tasks queued.
 */
static u32 enq_llc(u32 node, s32 task_cpu)
{
	u32 llc, best = AN_MAX_LLCS;
	int i;
	s32 q, best_q = 0;

	if (node_nr_llcs(node) <= 1)
		return node_llc(node, 0) < nr_llcs() ? node_llc(node, 0) : 0;
	llc = cpu_llc(task_cpu);
	if (cpu_node(task_cpu) == node && llc_nr_online(llc))
		return llc;
	for_each_node_llc(i, llc, node) {
		if (!llc_nr_online(llc))
			continue;
		q = llc_queued(llc);
		if (best == AN_MAX_LLCS || q < best_q) {
			best = llc;
			best_q = q;
		}
	}
	/* No CPU of the node online: any of its queues, the others drain it. */
	if (best == AN_MAX_LLCS)
		best = node_llc(node, 0) < nr_llcs() ? node_llc(node, 0) : 0;
	return best;
}

/* A task is being queued on @llc. */
static __always_inline void llc_mark_queued(u32 llc)
{
	u64 bit;

	if (llc >= 64)
		return;
	bit = 1ULL << llc;
	if (!(READ_ONCE(queued_llcs) & bit))
		__sync_fetch_and_or(&queued_llcs, bit);
}

/* Which of @node's LLC queues may hold a task (see queued_llcs). */
static __always_inline u64 node_queued_bits(u32 node)
{
	barrier_var(node);
	if (node >= AN_MAX_NODES)
		return ~0ULL;
	return READ_ONCE(queued_llcs) & node_llc_bits[node];
}

static __always_inline bool node_maybe_queued(u32 node)
{
	return node_queued_bits(node) != 0;
}

/* @node's queues were found empty: clear their bits, and look once more. */
static __always_inline void node_note_empty(u32 node)
{
	u64 bits;

	barrier_var(node);
	if (node >= AN_MAX_NODES)
		return;
	bits = node_llc_bits[node];
	if (!(READ_ONCE(queued_llcs) & bits))
		return;
	__sync_fetch_and_and(&queued_llcs, ~bits);
	/* An insertion that landed meanwhile keeps its node visible. */
	if (node_queued(node) > 0)
		__sync_fetch_and_or(&queued_llcs, bits);
}

/*
 * Move the head of one of @node's LLC queues to this CPU's local queue.
 * With several LLCs the empty ones are skipped by their counter: a move
 * attempt on an empty queue costs a kfunc call that first flushes this
 * CPU's dispatch buffer, several times the read.
 */
AN_GLOBAL_FN bool node_move_to_local(u32 node)
{
	bool several = node_nr_llcs(node) > 1;
	u32 llc;
	int i;

	for_each_node_llc(i, llc, node) {
		if (several && !llc_queued(llc))
			continue;
		if (an_dsq_move_to_local(AN_LLC_DSQ(llc)))
			return true;
	}
	return false;
}

/* How long the oldest of the first few tasks of queue @dsq has waited, 0 if empty. */
static u64 dsq_head_wait_ns(u64 dsq, u64 now)
{
	struct task_struct *p;
	struct task_ctx *tctx;
	u64 oldest = 0;
	int seen = 0;
	COST_BEGIN(c0);

	/*
	 * The queue is ordered by vtime, not age: look at its first few.
	 * The RCU section is here, in the global function's own body: the
	 * verifier checks a global function alone, and 6.12's checks the
	 * rescue timer's calls as sleepable, where the DSQ iterator needs one.
	 */
	bpf_rcu_read_lock();
	bpf_for_each(scx_dsq, p, dsq, 0) {
		tctx = task_ctx(p);
		if (tctx && tctx->enq_ns && (!oldest || tctx->enq_ns < oldest))
			oldest = tctx->enq_ns;
		if (++seen >= 4)
			break;
	}
	bpf_rcu_read_unlock();
	COST_END(ITER_WAIT, c0);
	return oldest && now > oldest ? now - oldest : 0;
}

/*
 * The LLC of @node whose queue's head waited longest (@want_llc), or that
 * wait (!@want_llc); AN_MAX_LLCS or 0 when all are empty.
 */
static __always_inline u64 node_head_wait(u32 node, u64 now, bool want_llc)
{
	u32 llc, which = AN_MAX_LLCS;
	u64 w, max = 0;
	int i;

	for_each_node_llc(i, llc, node) {
		if (!llc_queued(llc))
			continue;
		w = dsq_head_wait_ns(AN_LLC_DSQ(llc), now);
		if (which == AN_MAX_LLCS || w > max) {
			max = w;
			which = llc;
		}
	}
	return want_llc ? which : max;
}

/* How long the oldest task of @node's queues has waited, 0 if all are empty. */
AN_GLOBAL_FN u64 node_head_wait_ns(u32 node, u64 now)
{
	return node_head_wait(node, now, false);
}

/* Rescue: take the task that waited longest in @node's queues. */
AN_GLOBAL_FN bool node_move_oldest(u32 node)
{
	u32 llc;

	if (node_nr_llcs(node) > 1) {
		llc = (u32)node_head_wait(node, bpf_ktime_get_ns(), true);
		if (llc < nr_llcs() && an_dsq_move_to_local(AN_LLC_DSQ(llc)))
			return true;
	}
	return node_move_to_local(node);
}

/*
 * After this CPU's own LLC: an LLC of its node with no CPU online first (no
 * one else serves it), then the node's other LLCs, fullest first, so a
 * node's CPUs share its work as one queue did. Counted as LLC_PULL.
 */
static bool take_llc_sibling(u32 node, s32 cpu)
{
	u32 llc, own = cpu_llc(cpu), best = AN_MAX_LLCS;
	int i;
	s32 q, best_q = 0;

	if (node_nr_llcs(node) <= 1)
		return false;
	/* Nothing queued on the others (see queued_llcs): skip the walk. */
	if (!(node_queued_bits(node) & ~(1ULL << (own & 63))))
		return false;
	for_each_node_llc(i, llc, node) {
		if (llc == own)
			continue;
		q = llc_queued(llc);
		if (!q)
			continue;
		if (!llc_nr_online(llc)) {
			best = llc;
			break;
		}
		if (q > best_q) {
			best = llc;
			best_q = q;
		}
	}
	if (best >= nr_llcs() || !an_dsq_move_to_local(AN_LLC_DSQ(best)))
		return false;
	stat_add(node, AN_STAT_LLC_PULL);
	return true;
}

/* An LLC of this CPU's node whose CPUs are all offline: its queue comes before our own. */
static bool take_llc_orphan(u32 node, s32 cpu)
{
	u64 down = READ_ONCE(llcs_down);
	u32 llc;
	int i;

	if (!down)
		return false;
	for_each_node_llc(i, llc, node) {
		if (llc < 64 && (down & (1ULL << llc)) && llc != cpu_llc(cpu) &&
		    an_dsq_move_to_local(AN_LLC_DSQ(llc))) {
			stat_add(node, AN_STAT_LLC_PULL);
			return true;
		}
	}
	return false;
}

static __always_inline const struct cpumask *llc_cpus(u32 llc)
{
	struct node_mask *m = bpf_map_lookup_elem(&llc_masks, &llc);

	if (!m || !m->mask)
		return NULL;
	return (const struct cpumask *)m->mask;
}

/*
 * An idle CPU in @llc of @node for @p (allowed on every CPU), -1 if none.
 * Only for nodes of several LLCs: with one, the node's search is the same.
 */
static s32 claim_idle_in_llc(struct task_struct *p, u32 llc, u32 node)
{
	const struct cpumask *cpus;
	s32 cpu = -1;
	COST_BEGIN(c0);

	if (node_nr_llcs(node) <= 1 || !llc_nr_online(llc) || !any_cpu(p))
		return -1;
	bpf_rcu_read_lock();
	cpus = llc_cpus(llc);
	if (cpus) {
		if (setup.idle_per_node && bpf_ksym_exists(scx_bpf_pick_idle_cpu_node))
			cpu = scx_bpf_pick_idle_cpu_node(cpus, kernel_node(node), SCX_PICK_IDLE_IN_NODE);
		else
			cpu = scx_bpf_pick_idle_cpu(cpus, 0);
	}
	bpf_rcu_read_unlock();
	COST_END(IDLE_LLC, c0);
	return cpu >= 0 ? cpu : -1;
}

/* The idle search's first step after the previous CPU: its LLC, when in @home. */
static __always_inline s32 pick_idle_in_prev_llc(struct task_struct *p, s32 prev_cpu, u32 home)
{
	if (cpu_node(prev_cpu) != home)
		return -1;
	return claim_idle_in_llc(p, cpu_llc(prev_cpu), home);
}

/* Kick an idle CPU of @llc (in @node) for the task just queued there; true if one was. */
static bool kick_idle_in_llc(struct task_struct *p, u32 llc, u32 node)
{
	s32 cpu = claim_idle_in_llc(p, llc, node);

	if (cpu < 0)
		return false;
	COST_STMT(KICK, scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE));
	stat_add(node, AN_STAT_KICK);
	return true;
}

/* Physical L3 of @cpu (setup.topo.cpu_cache), which --node-queues leaves in place. */
static __always_inline u32 cpu_cache(s32 cpu)
{
	u32 idx = (u32)cpu;

	barrier_var(idx);
	if (idx >= AN_MAX_CPUS)
		return 0;
	return setup.topo.cpu_cache[idx];
}

/*
 * Count a run on @cpu of a task whose last run was in another L3 of the
 * same node. The caches, not the queues: per-node queues (--node-queues)
 * are compared with per-LLC ones by this count. @last_cpu (CPU + 1, 0
 * before the first run) lives in the task's context, which an_running()
 * has looked up already: a storage map of its own cost a second lookup on
 * every run.
 */
static __always_inline void llc_note_run(u32 *last_cpu, s32 cpu, u32 node)
{
	u32 last;

	if (setup.topo.nr_caches <= nr_nodes())
		return;	/* one L3 per node: MIGRATE_IN says it all */
	last = *last_cpu;
	*last_cpu = (u32)cpu + 1;
	if (last && last - 1 != (u32)cpu && cpu_node((s32)(last - 1)) == node &&
	    cpu_cache((s32)(last - 1)) != cpu_cache(cpu))
		stat_add(node, AN_STAT_MIGRATE_LLC);
}

/* CPU hotplug: keep the LLC's online count and whether it is orphaned. */
static __always_inline void llc_hotplug(s32 cpu, bool online)
{
	u32 llc = cpu_llc(cpu);

	if (llc >= AN_MAX_LLCS || llc >= 64)
		return;
	if (online) {
		if (!__sync_fetch_and_add(&llc_online[llc], 1))
			__sync_fetch_and_and(&llcs_down, ~(1ULL << llc));
	} else if (__sync_fetch_and_add(&llc_online[llc], -1) == 1) {
		__sync_fetch_and_or(&llcs_down, 1ULL << llc);
	}
}

/* The CPU mask of @llc; returns how many of its CPUs are online, or -errno. */
AN_GLOBAL_FN s32 build_llc_mask(u32 llc)
{
	u32 nr = setup.topo.nr_cpus < AN_MAX_CPUS ? setup.topo.nr_cpus : AN_MAX_CPUS;
	struct bpf_cpumask *mask, *old;
	struct node_mask *m;
	s32 online = 0;
	int cpu;

	m = bpf_map_lookup_elem(&llc_masks, &llc);
	if (!m)
		return -ENOENT;
	mask = bpf_cpumask_create();
	if (!mask)
		return -ENOMEM;
	bpf_for(cpu, 0, (int)nr) {
		if (setup.topo.cpu_llc[cpu] != llc || !setup.topo.cpu_known[cpu])
			continue;
		bpf_cpumask_set_cpu((u32)cpu, mask);
		online += setup.topo.cpu_online[cpu] ? 1 : 0;
	}
	old = bpf_kptr_xchg(&m->mask, mask);
	if (old)
		bpf_cpumask_release(old);
	return online;
}

/* Init: @node's LLC queues, each on the node, their masks and online counts. */
AN_GLOBAL_FN s32 create_llc_dsqs(u32 node)
{
	s32 ret;
	u32 llc;
	int i;

	for_each_node_llc(i, llc, node) {
		barrier_var(llc);
		if (llc >= AN_MAX_LLCS || llc >= 64)
			return -EINVAL;
		ret = scx_bpf_create_dsq(AN_LLC_DSQ(llc), kernel_node(node));
		if (ret)
			return ret;
		if (node < AN_MAX_NODES)
			node_llc_bits[node] |= 1ULL << llc;
		ret = build_llc_mask(llc);
		if (ret < 0)
			return ret;
		llc_online[llc] = (u32)ret;
		/* As llc_hotplug() keeps it: set for an LLC without CPUs online. */
		if (!ret)
			llcs_down |= 1ULL << llc;
	}
	return 0;
}

#endif /* SCX_AI_NUMA_LLC_BPF_H */
