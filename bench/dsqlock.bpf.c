// SPDX-License-Identifier: GPL-2.0
/*
 * How long the sched_ext dispatch queues' locks are waited for and held
 * (bench/dsqlock.h), by tracing the kernel's spinlock functions: they are
 * real functions on the Debian kernel (CONFIG_UNINLINE_SPIN_UNLOCK), and a
 * DSQ's lock is its first member.
 *
 * A lock becomes followed when the kernel looks its DSQ up (fexit of
 * find_user_dsq / find_dsq_for_dispatch, which every insert, move, count
 * and iterator start of a user DSQ goes through); from then on each
 * _raw_spin_lock* / _raw_spin_unlock* call on it is timed. Local DSQs are
 * left out: they are guarded by the run-queue lock, not their own.
 *
 * The probe's own time lands in every figure: a wait includes the tail of
 * the entry program, two trampoline passes and the head of the return
 * program (a map lookup); a hold the tail of the return program and the
 * head of the unlock's entry program. The PAIR kind runs the same entry
 * and return code around getppid's body, whose own work is tens of
 * nanoseconds natively: its median is what to subtract.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "dsqlock.h"

char LICENSE[] SEC("license") = "GPL";

/* Followed locks: address -> per-CPU counts (the filter every lock call reads). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, DL_MAX_LOCKS);
	__type(key, u64);
	__type(value, struct dl_count);
} dl_locks SEC(".maps");

/* Followed locks: address -> the DSQ's id, for the loader's report. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DL_MAX_LOCKS);
	__type(key, u64);
	__type(value, u64);
} dl_ids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DL_NR_KINDS);
	__type(key, u32);
	__type(value, struct an_cost);
} dl_hist SEC(".maps");

/*
 * What this CPU is doing with followed locks: the one it is acquiring (an
 * interrupt that takes another followed lock meanwhile overwrites it: that
 * wait is then dropped and counted in lost) and the ones it holds (an
 * iterator's step can nest in a held insert's lock only across DSQs, so 2).
 */
struct dl_held {
	u64 lock;
	u64 t;
	u32 irq;
};

struct dl_cpu {
	u64 enter_lock;
	u64 enter_t;
	u64 enter_slow;
	struct dl_held held[2];
	u64 lost;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct dl_cpu);
} dl_cpu SEC(".maps");

/* Global: verified once rather than at each of its callers. */
__attribute__((noinline)) int dl_hist_add(u32 kind, u64 ns)
{
	struct an_cost *c = bpf_map_lookup_elem(&dl_hist, &kind);

	if (c)
		an_cost_account(c, ns);
	return 0;
}

static __always_inline struct dl_cpu *this_cpu(void)
{
	u32 zero = 0;

	return bpf_map_lookup_elem(&dl_cpu, &zero);
}

static __always_inline void lock_enter(u64 lock)
{
	struct dl_cpu *st;

	if (!bpf_map_lookup_elem(&dl_locks, &lock))
		return;
	st = this_cpu();
	if (!st)
		return;
	st->enter_lock = lock;
	st->enter_slow = 0;
	st->enter_t = bpf_ktime_get_ns();	/* last: the wait starts here */
}

static __always_inline void lock_acquired(u64 lock, u32 irq)
{
	struct dl_count *cnt = bpf_map_lookup_elem(&dl_locks, &lock);
	struct dl_cpu *st;
	u64 t;
	int i;

	if (!cnt)
		return;
	t = bpf_ktime_get_ns();
	st = this_cpu();
	if (!st)
		return;
	cnt->acq++;
	if (st->enter_lock == lock) {
		st->enter_lock = 0;
		if (lock == DL_PAIR_KEY)
			dl_hist_add(DL_PAIR, t - st->enter_t);
		else
			dl_hist_add(irq ? DL_WAIT_IRQ : DL_WAIT, t - st->enter_t);
		if (st->enter_slow) {
			cnt->slow++;
			dl_hist_add(DL_WAIT_SLOW, t - st->enter_t);
		}
	} else {
		st->lost++;
	}
	if (lock == DL_PAIR_KEY)
		return;
	for (i = 0; i < 2; i++) {
		if (!st->held[i].lock) {
			st->held[i].lock = lock;
			st->held[i].irq = irq;
			st->held[i].t = bpf_ktime_get_ns();	/* last: the hold starts here */
			return;
		}
	}
	st->lost++;
}

static __always_inline void lock_release(u64 lock)
{
	u64 t = bpf_ktime_get_ns();	/* first: the hold ends here */
	struct dl_cpu *st = this_cpu();
	int i;

	if (!st)
		return;
	for (i = 0; i < 2; i++) {
		if (st->held[i].lock == lock) {
			st->held[i].lock = 0;
			dl_hist_add(st->held[i].irq ? DL_HOLD_IRQ : DL_HOLD, t - st->held[i].t);
			return;
		}
	}
}

static __always_inline void follow(struct scx_dispatch_q *dsq)
{
	u64 id, lock;
	struct dl_count zero = {};

	if (!dsq)
		return;
	id = BPF_CORE_READ(dsq, id);
	/* Built-in ids other than the global DSQ are local DSQs (rq lock). */
	if ((id & SCX_DSQ_FLAG_BUILTIN) && id != SCX_DSQ_GLOBAL)
		return;
	lock = (u64)&dsq->lock;
	if (bpf_map_lookup_elem(&dl_locks, &lock))
		return;
	bpf_map_update_elem(&dl_ids, &lock, &id, BPF_NOEXIST);
	bpf_map_update_elem(&dl_locks, &lock, &zero, BPF_NOEXIST);
}

SEC("fexit/find_user_dsq")
int BPF_PROG(dl_find_user_dsq, struct scx_sched *sch, u64 dsq_id, struct scx_dispatch_q *ret)
{
	follow(ret);
	return 0;
}

SEC("fexit/find_dsq_for_dispatch")
int BPF_PROG(dl_find_dsq_for_dispatch, struct scx_sched *sch, struct rq *rq, u64 dsq_id, s32 tcpu,
	     struct scx_dispatch_q *ret)
{
	follow(ret);
	return 0;
}

SEC("fentry/_raw_spin_lock")
int BPF_PROG(dl_lock_enter, raw_spinlock_t *lock)
{
	lock_enter((u64)lock);
	return 0;
}

SEC("fexit/_raw_spin_lock")
int BPF_PROG(dl_lock_exit, raw_spinlock_t *lock)
{
	lock_acquired((u64)lock, 0);
	return 0;
}

SEC("fentry/_raw_spin_lock_irqsave")
int BPF_PROG(dl_lock_irq_enter, raw_spinlock_t *lock)
{
	lock_enter((u64)lock);
	return 0;
}

SEC("fexit/_raw_spin_lock_irqsave")
int BPF_PROG(dl_lock_irq_exit, raw_spinlock_t *lock, unsigned long ret)
{
	lock_acquired((u64)lock, 1);
	return 0;
}

SEC("fentry/_raw_spin_unlock")
int BPF_PROG(dl_unlock, raw_spinlock_t *lock)
{
	lock_release((u64)lock);
	return 0;
}

SEC("fentry/_raw_spin_unlock_irqrestore")
int BPF_PROG(dl_unlock_irq, raw_spinlock_t *lock, unsigned long flags)
{
	lock_release((u64)lock);
	return 0;
}

/*
 * The fast path's compare-and-swap failed: someone holds the lock (or is
 * queued). Optional: the loader drops it when the kernel lacks the symbol.
 */
SEC("fentry/native_queued_spin_lock_slowpath")
int BPF_PROG(dl_slowpath, struct qspinlock *lock, u32 val)
{
	struct dl_cpu *st = this_cpu();

	if (st && st->enter_lock == (u64)lock)
		st->enter_slow = 1;
	return 0;
}

/* The yardstick: the same probe code around a function that does next to nothing. */
SEC("fentry/__do_sys_getppid")
int BPF_PROG(dl_pair_enter, const struct pt_regs *unused)
{
	lock_enter(DL_PAIR_KEY);
	return 0;
}

SEC("fexit/__do_sys_getppid")
int BPF_PROG(dl_pair_exit, const struct pt_regs *unused, long ret)
{
	lock_acquired(DL_PAIR_KEY, 0);
	return 0;
}
