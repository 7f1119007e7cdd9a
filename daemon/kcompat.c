// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/btf.h>

#include "kcompat.h"

/* kfuncs renamed in 6.13: the BPF program calls whichever spelling exists. */
static const struct {
	const char *v613, *v612;
} renamed[] = {
	{ "scx_bpf_dsq_insert", "scx_bpf_dispatch" },
	{ "scx_bpf_dsq_insert_vtime", "scx_bpf_dispatch_vtime" },
	{ "scx_bpf_dsq_move_to_local", "scx_bpf_consume" },
	{ "scx_bpf_dsq_move", "scx_bpf_dispatch_from_dsq" },
};

/* kfuncs the program calls unconditionally, under the same name since 6.12. */
static const char *const required[] = {
	"scx_bpf_select_cpu_dfl", "scx_bpf_pick_idle_cpu", "scx_bpf_test_and_clear_cpu_idle",
	"scx_bpf_kick_cpu", "scx_bpf_create_dsq", "scx_bpf_dsq_nr_queued", "scx_bpf_task_cpu",
	"scx_bpf_exit_bstr", "scx_bpf_error_bstr",
	"bpf_iter_scx_dsq_new", "bpf_iter_scx_dsq_next", "bpf_iter_scx_dsq_destroy",
};

static bool has_func(const struct btf *btf, const char *name)
{
	return btf__find_by_name_kind(btf, name, BTF_KIND_FUNC) > 0;
}

/* Enumerator @name's value in any enum of @btf; false if there is none. */
static bool enum_value(const struct btf *btf, const char *name, uint64_t *val)
{
	for (uint32_t id = 1; id < btf__type_cnt(btf); id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		uint16_t n = btf_vlen(t);

		if (btf_is_enum(t)) {
			const struct btf_enum *e = btf_enum(t);

			for (uint16_t i = 0; i < n; i++)
				if (!strcmp(btf__name_by_offset(btf, e[i].name_off), name)) {
					/* Flags: as the kernel's unsigned enums spell them. */
					*val = (uint32_t)e[i].val;
					return true;
				}
		} else if (btf_is_enum64(t)) {
			const struct btf_enum64 *e = btf_enum64(t);

			for (uint16_t i = 0; i < n; i++)
				if (!strcmp(btf__name_by_offset(btf, e[i].name_off), name)) {
					*val = btf_enum64_value(&e[i]);
					return true;
				}
		}
	}
	return false;
}

static int lacking(char *err, size_t errlen, const char *what, const char *name)
{
	snprintf(err, errlen, "this kernel's sched_ext lacks the %s %s (needs Linux >= 6.12)", what, name);
	return -EOPNOTSUPP;
}

int kcompat_choose(const struct btf *btf, bool want_idle_per_node, struct kcompat *out, char *err,
		   size_t errlen)
{
	uint64_t flag;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sizeof(renamed) / sizeof(renamed[0]); i++) {
		bool now = has_func(btf, renamed[i].v613);

		if (!now && !has_func(btf, renamed[i].v612))
			return lacking(err, errlen, "kfunc", renamed[i].v613);
		/* Reported by the first pair; the others were renamed in the same release. */
		if (!i)
			out->names_613 = now;
	}
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!has_func(btf, required[i]))
			return lacking(err, errlen, "kfunc", required[i]);
	if (!enum_value(btf, "SCX_OPS_ENQ_LAST", &out->ops_flags))
		return lacking(err, errlen, "ops flag", "SCX_OPS_ENQ_LAST");
	if (!enum_value(btf, "SCX_ENQ_HEAD", &out->enq_head))
		return lacking(err, errlen, "enqueue flag", "SCX_ENQ_HEAD");
	/*
	 * Per-node idle masks need both the flag that asks for them and the
	 * kfunc that searches one; a kernel with the flag alone keeps the
	 * global mask rather than fail every search.
	 */
	if (want_idle_per_node && enum_value(btf, "SCX_OPS_BUILTIN_IDLE_PER_NODE", &flag) && flag &&
	    has_func(btf, "scx_bpf_pick_idle_cpu_node")) {
		out->ops_flags |= flag;
		out->idle_per_node = true;
	}
	return 0;
}

const char *kcompat_describe(const struct kcompat *k, char *buf, size_t len)
{
	snprintf(buf, len, "%s kfunc names, %s idle masks", k->names_613 ? "6.13+" : "6.12",
		 k->idle_per_node ? "per-node" : "global");
	return buf;
}
