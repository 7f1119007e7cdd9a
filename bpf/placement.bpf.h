/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Placement homes set from user space (see struct an_home in intf.h): the
 * node of the GPUs a process holds open, and the operator's pins of
 * processes and cgroups. The daemon owns both maps; the policy only reads
 * them, through placement_home().
 *
 * Most hosts have no entry at all, so the daemon also keeps a count of each
 * map's entries (in struct an_shared): with both at zero the hot path pays two loads, not a
 * hash lookup and a cgroup walk.
 */
#ifndef SCX_AI_NUMA_PLACEMENT_BPF_H
#define SCX_AI_NUMA_PLACEMENT_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AN_MAX_TGID_HOMES);
	__type(key, u32);		/* tgid */
	__type(value, struct an_home);
} tgid_homes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AN_MAX_PINS);
	__type(key, u64);		/* cgroup id: the inode number of its directory */
	__type(value, struct an_home);
} cgroup_homes SEC(".maps");

/*
 * The pin of the task's cgroup v2 or of its nearest pinned ancestor. The
 * walk goes through the cgroup's own css parent links (struct cgroup starts
 * with its css), which every kernel with sched_ext has; the root cgroup is
 * never pinned, so the walk stops below it.
 */
static __always_inline u32 placement_cgroup_home(struct task_struct *p)
{
	struct cgroup *cgrp, *parent;
	struct an_home *h;
	u64 id;
	u32 i;

	cgrp = BPF_CORE_READ(p, cgroups, dfl_cgrp);
	for (i = 0; cgrp && i < AN_CGROUP_MAX_DEPTH; i++) {
		parent = (struct cgroup *)BPF_CORE_READ(cgrp, self.parent);
		if (!parent)
			break;
		id = BPF_CORE_READ(cgrp, kn, id);
		h = bpf_map_lookup_elem(&cgroup_homes, &id);
		if (h)
			return h->node;
		cgrp = parent;
	}
	return AN_NO_NODE;
}

/*
 * The dense node user space chose for @p, or AN_NO_NODE. A pinned process
 * beats a pinned cgroup (the narrower rule), and any pin beats a GPU
 * association.
 */
static __always_inline u32 placement_home(struct task_struct *p)
{
	u32 tgid, node = AN_NO_NODE, n;
	struct an_home *h = NULL;

	if (READ_ONCE(shared.nr_tgid_homes)) {
		tgid = p->tgid;
		h = bpf_map_lookup_elem(&tgid_homes, &tgid);
		if (h && h->src == AN_HOME_PIN)
			return h->node;
		if (h)
			node = h->node;
	}
	if (READ_ONCE(shared.nr_cgroup_homes)) {
		n = placement_cgroup_home(p);
		if (n != AN_NO_NODE)
			return n;
	}
	return node;
}

#endif
