/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The cost probe (costprobe.h): COST_BEGIN(v) / COST_END(SECTION, v) around
 * a section add its time to the per-CPU map an_cost. Compiled in only with
 * AN_COST_PROBE (the test build); otherwise the macros vanish and the
 * scheduler is unchanged.
 */
#ifndef SCX_AI_NUMA_COSTPROBE_BPF_H
#define SCX_AI_NUMA_COSTPROBE_BPF_H

#include "costprobe.h"

#ifdef AN_COST_PROBE
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, AN_NR_COST);
	__type(key, u32);
	__type(value, struct an_cost);
} an_cost SEC(".maps");

/*
 * A global function (noinline, not static): the verifier checks its loop
 * once, not at each of the ~30 probe sites; inlined, 6.12's verifier took
 * longer than the harness waits for the scheduler to attach.
 */
__attribute__((noinline)) int cost_add(u32 id, u64 ns)
{
	struct an_cost *c = bpf_map_lookup_elem(&an_cost, &id);

	if (c)
		an_cost_account(c, ns);
	return 0;
}

#define COST_BEGIN(v)		u64 v = bpf_ktime_get_ns()
#define COST_END(id, v)		cost_add(AN_COST_##id, bpf_ktime_get_ns() - (v))
/* Time one expression, keeping its value. */
#define COST_EXPR(id, e)						\
({									\
	u64 ___c0 = bpf_ktime_get_ns();					\
	typeof(e) ___r = (e);						\
	cost_add(AN_COST_##id, bpf_ktime_get_ns() - ___c0);		\
	___r;								\
})
#define COST_STMT(id, s)						\
do {									\
	u64 ___c0 = bpf_ktime_get_ns();					\
	s;								\
	cost_add(AN_COST_##id, bpf_ktime_get_ns() - ___c0);		\
} while (0)
#else
#define COST_BEGIN(v)		do { } while (0)
#define COST_END(id, v)		do { } while (0)
#define COST_EXPR(id, e)	(e)
#define COST_STMT(id, s)	do { s; } while (0)
#endif

#endif
