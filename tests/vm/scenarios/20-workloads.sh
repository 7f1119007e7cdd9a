#!/bin/sh
# hackbench and stress-ng complete under our scheduler with no stall, and the
# counters the daemon reports add up: every steal has a victim, nothing is
# dispatched from a node queue that was not queued there, and each mechanism
# actually fired.
. /vm/lib.sh

start_sched
check_eq attached "$(sched_ops)" ai_numa

t0=$(now_ms)
stress-ng --cpu "$(nproc)" --timeout 8s --metrics-brief >/tmp/stress.out 2>&1 &
spid=$!
check hackbench timeout 180 hackbench --groups 4 --fds 8 --loops 100
wait "$spid"
check_eq stress-ng-exit "$?" 0
info "workload_ms=$(($(now_ms) - t0))"
check_eq still-attached "$(sched_ops)" ai_numa

s=$(stats_json)
printf '%s\n' "$s" | jq -c '.total'
direct=$(stat_total direct "$s")
remote=$(stat_total direct_remote "$s")
enq=$(stat_total node_enq "$s")
disp=$(stat_total node_dispatch "$s")
sin=$(stat_total steal_in "$s")
sout=$(stat_total steal_out "$s")
kick=$(stat_total kick "$s")
queued=$(printf '%s' "$s" | jq -r '.queued')
info "direct=$direct" "direct_remote=$remote" "node_enq=$enq" "node_dispatch=$disp" \
	"steal_in=$sin" "steal_out=$sout" "kick=$kick" "queued=$queued"

check_ge idle-fast-path-used "$direct" 1
check_ge node-queues-used "$enq" 1
check_ge node-dispatches "$disp" 1
check_eq steals-in-equal-steals-out "$sin" "$sout"
# A queued task leaves its node queue once: by its own node, by a thief, or
# dequeued (exit, affinity change) without a dispatch.
check_le dispatched-not-more-than-queued "$((disp + sin))" "$enq"
# ... and almost all of them leave by a dispatch.
check_ge most-queued-dispatched "$(((disp + sin + queued) * 100))" "$((enq * 95))"

# Per-node sums equal the totals.
for c in direct node_enq node_dispatch steal_in; do
	sum=$(printf '%s' "$s" | jq "[.nodes[].counters.$c] | add")
	check_eq "per-node-$c-sums-to-total" "$sum" "$(stat_total "$c" "$s")"
done

# Counters keep moving while the scheduler runs: sample twice around a load.
a=$(stat_total node_enq)
hackbench --groups 2 --fds 4 --loops 20 >/dev/null 2>&1
b=$(stat_total node_enq)
info "node_enq_before=$a" "node_enq_after=$b"
check_ge counters-monotonic-and-moving "$b" "$((a + 1))"

stop_daemon TERM
check_eq clean-exit "$DAEMON_RC" 0
