#!/bin/sh
# The 6.15 fixture, from 6.12's: no 6.15 sched_ext kernel is built here, so
# its API is 6.12's plus what 6.13-6.15 added, as the kernel's history
# records it (README.md names the commits). The 6.12 names stay: the kernel
# kept them as deprecated aliases until 6.17.
#
#   derive-6.15.sh 6.12.txt > 6.15.txt
set -eu
[ $# -eq 1 ] && [ -r "$1" ] || { echo "usage: $0 6.12.txt" >&2; exit 2; }
{
	echo "# Linux 6.15 (derived from 6.12's fixture by derive-6.15.sh; see README.md)"
	grep -v -e '^#' -e ' SCX_OPS_ALL_FLAGS ' "$1"
	# 6.13: the dispatch verbs renamed.
	for f in scx_bpf_dsq_insert scx_bpf_dsq_insert_vtime scx_bpf_dsq_move_to_local scx_bpf_dsq_move \
		scx_bpf_dsq_move_vtime scx_bpf_dsq_move_set_slice scx_bpf_dsq_move_set_vtime; do
		echo "func $f"
	done
	# 6.14: scx_bpf_now; two ops flags.
	echo "func scx_bpf_now"
	echo "enum enum scx_ops_flags SCX_OPS_ENQ_MIGRATION_DISABLED 16"
	echo "enum enum scx_ops_flags SCX_OPS_ALLOW_QUEUED_WAKEUP 32"
	# 6.15: event counters; per-node idle masks, their flag and kfuncs.
	echo "func scx_bpf_events"
	echo "enum enum scx_ops_flags SCX_OPS_BUILTIN_IDLE_PER_NODE 64"
	echo "enum enum scx_pick_idle_cpu_flags SCX_PICK_IDLE_IN_NODE 2"
	echo "enum enum scx_ops_flags SCX_OPS_ALL_FLAGS 65663"
	for f in scx_bpf_nr_node_ids scx_bpf_cpu_node scx_bpf_get_idle_cpumask_node scx_bpf_get_idle_smtmask_node \
		scx_bpf_pick_idle_cpu_node scx_bpf_pick_any_cpu_node; do
		echo "func $f"
	done
} | LC_ALL=C sort -u
