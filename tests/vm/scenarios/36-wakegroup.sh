#!/bin/sh
# Wake groups (group_wake() in the BPF policy, bpf/wakegroup.h). wakebench
# --cross-start starts each message thread on one node and its workers on
# the next, pinned for a moment, then frees them all: every thread's home
# is where it first ran, so every request crosses nodes. With grouping off
# (group_wakes 0) nothing brings them together and the workers keep running
# away from their message thread's node; with it on, the scheduler moves
# homes (group_move) until most worker runs share their waker's node.
. /vm/lib.sh

check wakebench-present command -v wakebench
start_sched
check_eq attached "$(sched_ops)" ai_numa
[ "$(nr_nodes)" -ge 2 ] || { info "one node: nothing to group"; stop_daemon TERM; exit 0; }

# crossed: one wakebench run; prints "GROUP_MOVES SAME_NODE_PCT REQUESTS".
crossed() {
	_a=$(stat_total group_move)
	if ! wakebench --msg-threads 2 --workers 2 --duration 4 --cross-start 500 --json \
			>/tmp/wg.json 2>/tmp/wg.err; then
		echo "x x x"
		return
	fi
	_b=$(stat_total group_move)
	echo "$((_b - _a)) $(jq -r '"\(.same_node_pct | floor) \(.requests)"' /tmp/wg.json)"
}

check group-off "$SCXVM_CTL" set group_wakes 0
set -- $(crossed)
info "group_wakes=0: group_moves=$1 same_node_pct=$2 requests=$3"
check_ge off-requests "$3" 100
check_eq off-no-group-move "$1" 0
check_le off-workers-stay-apart "$2" 40

check group-on "$SCXVM_CTL" set group_wakes 32
set -- $(crossed)
info "group_wakes=32: group_moves=$1 same_node_pct=$2 requests=$3"
# Which group gathers first, and when, is a race: 12 runs gave 80-99 %
# and one 49 % (a full CI boot, moves made). A run whose homes moved but
# whose workers still ran apart gets one fresh trial; with grouping broken
# (no moves, or workers apart both times) the checks below still fail.
if [ "$1" != x ] && [ "$1" -ge 2 ] && [ "$2" -lt 65 ]; then
	set -- $(crossed)
	info "group_wakes=32, second trial: group_moves=$1 same_node_pct=$2 requests=$3"
fi
check_ge on-requests "$3" 100
check_ge on-group-moves "$1" 2
check_ge on-workers-join-waker "$2" 65

check_eq still-attached "$(sched_ops)" ai_numa
stop_daemon TERM
check_eq clean-exit "$DAEMON_RC" 0
