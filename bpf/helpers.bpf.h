/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few helpers the scheduler needs on top of vmlinux.h and libbpf's
 * headers, and the kfunc compatibility layer.
 *
 * Kernel API drift handled here, at load time: every kfunc is a __weak
 * __ksym, so a kfunc the running kernel lacks resolves to 0 instead of
 * failing the load, and bpf_ksym_exists() picks the variant that exists.
 * 6.12 spells "insert into a DSQ" scx_bpf_dispatch and "move a DSQ's head to
 * the local DSQ" scx_bpf_consume; 6.13 renamed both. vmlinux.h comes from a
 * newer kernel, so the 6.12 names are declared here.
 */
#ifndef SCX_AI_NUMA_HELPERS_BPF_H
#define SCX_AI_NUMA_HELPERS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define BPF_STRUCT_OPS(name, args...)	SEC("struct_ops/" #name) BPF_PROG(name, ##args)
#define BPF_STRUCT_OPS_SLEEPABLE(name, args...) SEC("struct_ops.s/" #name) BPF_PROG(name, ##args)

/*
 * Keep a bounds check on the register that is used for the access: without
 * it clang may check a 32-bit copy and index with the 64-bit one, which the
 * verifier cannot follow.
 */
#define barrier_var(var)	asm volatile("" : "+r"(var))

#define READ_ONCE(x)		(*(const volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, v)	(*(volatile typeof(x) *)&(x) = (v))

/* errno values (vmlinux.h has no macros). */
#define ENOENT	2
#define ENOMEM	12
#define EINVAL	22

#ifndef likely
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
#endif

#include "costprobe.bpf.h"	/* no-op outside the test build */

/* 6.12 names of kfuncs renamed in 6.13. */
void scx_bpf_dispatch(struct task_struct *p, u64 dsq_id, u64 slice, u64 enq_flags) __ksym __weak;
void scx_bpf_dispatch_vtime(struct task_struct *p, u64 dsq_id, u64 slice, u64 vtime, u64 enq_flags) __ksym __weak;
bool scx_bpf_consume(u64 dsq_id) __ksym __weak;
bool scx_bpf_dispatch_from_dsq(struct bpf_iter_scx_dsq *it__iter, struct task_struct *p,
			       u64 dsq_id, u64 enq_flags) __ksym __weak;

void bpf_rcu_read_lock(void) __ksym;
void bpf_rcu_read_unlock(void) __ksym;

static __always_inline void an_dsq_insert(struct task_struct *p, u64 dsq_id, u64 slice, u64 enq_flags)
{
	if (bpf_ksym_exists(scx_bpf_dsq_insert))
		scx_bpf_dsq_insert(p, dsq_id, slice, enq_flags);
	else
		scx_bpf_dispatch(p, dsq_id, slice, enq_flags);
}

static __always_inline void an_dsq_insert_vtime(struct task_struct *p, u64 dsq_id, u64 slice,
						u64 vtime, u64 enq_flags)
{
	if (bpf_ksym_exists(scx_bpf_dsq_insert_vtime))
		scx_bpf_dsq_insert_vtime(p, dsq_id, slice, vtime, enq_flags);
	else
		scx_bpf_dispatch_vtime(p, dsq_id, slice, vtime, enq_flags);
}

static __always_inline bool an_dsq_move_to_local(u64 dsq_id)
{
	if (bpf_ksym_exists(scx_bpf_dsq_move_to_local))
		return COST_EXPR(MOVE_LOCAL, scx_bpf_dsq_move_to_local(dsq_id));
	return COST_EXPR(MOVE_LOCAL, scx_bpf_consume(dsq_id));
}

/*
 * Iterate the tasks of a dispatch queue (kernel >= 6.12):
 *   bpf_for_each(scx_dsq, p, dsq_id, 0) { ... }
 * libbpf's bpf_for_each() expands to the bpf_iter_scx_dsq_* kfuncs, with
 * the iterator in a local named ___it; AN_DSQ_ITER names it in the body.
 */
#define AN_DSQ_ITER	(&___it)

/* Move @p, met while iterating, to @dsq_id; false if it is no longer there. */
static __always_inline bool an_dsq_move(struct bpf_iter_scx_dsq *it, struct task_struct *p,
					u64 dsq_id, u64 enq_flags)
{
	if (bpf_ksym_exists(scx_bpf_dsq_move))
		return scx_bpf_dsq_move(it, p, dsq_id, enq_flags);
	return scx_bpf_dispatch_from_dsq(it, p, dsq_id, enq_flags);
}

/*
 * scx_bpf_error() with printf-style arguments: the kernel's kfunc takes the
 * arguments packed into an array of u64, as bpf_seq_printf() does; libbpf's
 * ___bpf_fill() does the packing. At least one argument is required.
 */
#define an_error(fmt, args...)							\
({										\
	static char ___fmt[] = fmt;						\
	unsigned long long ___param[___bpf_narg(args)];				\
										\
	_Pragma("GCC diagnostic push")						\
	_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")			\
	___bpf_fill(___param, args);						\
	_Pragma("GCC diagnostic pop")						\
	scx_bpf_error_bstr(___fmt, ___param, sizeof(___param));			\
})

#endif
