/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel API drift between Linux 6.12 and today, decided at load time
 * from the running kernel's BTF: a pure function of that BTF (no I/O), so
 * the choice is tested against fixtures of each kernel (tests/unit/kcompat/).
 *
 * The BPF program makes the same kfunc choice itself (bpf_ksym_exists() in
 * bpf/helpers.bpf.h: the 6.13 name where it exists, the 6.12 one otherwise);
 * the daemon's copy refuses a kernel that has neither with one clear line
 * instead of a verifier log. What the BPF side cannot choose, because it is
 * a value baked into the program, is chosen here and written into the
 * program before load: the ops flags and SCX_ENQ_HEAD, whose numbers the
 * kernel has changed (6.12 numbers SCX_ENQ_HEAD 0x10, later kernels 0x10000).
 */
#ifndef SCX_AI_NUMA_KCOMPAT_H
#define SCX_AI_NUMA_KCOMPAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct btf;

struct kcompat {
	uint64_t ops_flags;	/* sched_ext_ops.flags in the kernel's numbering */
	uint64_t enq_head;	/* SCX_ENQ_HEAD in the kernel's numbering */
	bool idle_per_node;	/* per-node idle masks asked for (6.15+, unless refused) */
	bool names_613;		/* scx_bpf_dsq_insert & co. rather than the 6.12 scx_bpf_dispatch & co. */
};

/*
 * Choose for the kernel whose BTF is @btf; @want_idle_per_node false keeps
 * the global idle mask (--global-idle). Returns 0, or -EOPNOTSUPP with @err
 * naming the first kfunc or enumerator the scheduler needs and this kernel
 * lacks.
 */
int kcompat_choose(const struct btf *btf, bool want_idle_per_node, struct kcompat *out, char *err,
		   size_t errlen);

/* One line for the log: "6.13+ kfunc names, per-node idle masks". */
const char *kcompat_describe(const struct kcompat *k, char *buf, size_t len);

#endif
