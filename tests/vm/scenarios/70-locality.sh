#!/bin/sh
# Locality accounting (home_run_ns, away_run_ns, migrate_in): run time lands
# on the node it ran on, split by whether that was the task's home. Hogs
# that fit their home nodes (one CPU a node to spare) run at home at least
# 95 % of the time; hogs homed on node 0, three times what it can
# run, are stolen by node 1, which then shows run time away from home and
# migrations in. With the node balancer on, the same overload moves some of
# the hogs' homes to node 1, whose CPUs then run them as their home. The
# live `metrics` output passes promtool when the guest
# has it, and the scx_stats endpoint is up at its default path.
. /vm/lib.sh

cpn=${scxvm_cpus_per_node:-2}
start_sched
check_eq attached "$(sched_ops)" ai_numa
# Homes must stay where the hogs started: a stolen hog's home must not follow
# it, nor may the node balancer move it (until phase 3).
check home-move-off "$SCXVM_CTL" set home_move_ns 60s
check balance-off "$SCXVM_CTL" set balance_hold_ns 0

# run_ns NODE KIND [JSON]: home or away run time of NODE.
run_ns() { stat_node "$1" "$2_run_ns" "${3:-}"; }

# Phase 1: a pipeline that fits, one CPU a node to spare: under TCG on a
# busy host a vCPU stalls now and then, and with every CPU taken the other
# node rightly steals what waits behind it (10 % away with cpn hogs a node).
fit=$((cpn > 1 ? cpn - 1 : 1))
spawn_hogs_on_node 0 "$fit"
spawn_hogs_on_node 1 "$fit"
sleep 1
s0=$(stats_json)
sleep 4
s1=$(stats_json)
home=$(($(stat_total home_run_ns "$s1") - $(stat_total home_run_ns "$s0")))
away=$(($(stat_total away_run_ns "$s1") - $(stat_total away_run_ns "$s0")))
info "fit_home_ns=$home" "fit_away_ns=$away" \
	"fit_node0_away_ns=$(($(run_ns 0 away "$s1") - $(run_ns 0 away "$s0")))" \
	"fit_node1_away_ns=$(($(run_ns 1 away "$s1") - $(run_ns 1 away "$s0")))" \
	"fit_steals=$(($(stat_total steal_in "$s1") - $(stat_total steal_in "$s0")))" \
	"fit_rescues=$(($(stat_total rescue "$s1") - $(stat_total rescue "$s0")))" \
	"fit_direct_remote=$(($(stat_total direct_remote "$s1") - $(stat_total direct_remote "$s0")))" \
	"fit_migrate_in=$(($(stat_total migrate_in "$s1") - $(stat_total migrate_in "$s0")))"
check_ge fit-run-time-counted "$((home + away))" 1000000000
check_ge fit-locality-95pct "$((home * 100))" "$(((home + away) * 95))"
kill_hogs
sleep 1

# Phase 2: node 0 overloaded; node 1 steals its hogs, which then run away from home.
spawn_hogs_on_node 0 $((cpn * 3))
sleep 1
s0=$(stats_json)
sleep 4
s1=$(stats_json)
away1=$(($(run_ns 1 away "$s1") - $(run_ns 1 away "$s0")))
home1=$(($(run_ns 1 home "$s1") - $(run_ns 1 home "$s0")))
home0=$(($(run_ns 0 home "$s1") - $(run_ns 0 home "$s0")))
mig1=$(($(stat_node 1 migrate_in "$s1") - $(stat_node 1 migrate_in "$s0")))
info "overload_node1_away_ns=$away1" "overload_node1_home_ns=$home1" "overload_node0_home_ns=$home0" \
	"overload_node1_migrate_in=$mig1"
# Node 1's CPUs run node 0's hogs for most of the 4 s.
check_ge overload-node1-away-run-time "$away1" 1000000000
check_ge overload-node1-away-beats-home "$away1" "$home1"
check_ge overload-node0-home-run-time "$home0" 1000000000
check_ge overload-migrations-into-node1 "$mig1" 1
check locality-in-stats-table sh -c "'$SCXVM_CTL' stats | grep -q '^locality'"
if command -v promtool >/dev/null; then
	check metrics-promtool sh -c "'$SCXVM_CTL' metrics | promtool check metrics"
fi
check metrics-away-series sh -c "'$SCXVM_CTL' metrics | grep -q '^scx_ai_numa_away_run_seconds_total{node=\"1\"} '"

# Phase 3: the same overload with the node balancer on. Within a few 100 ms
# windows it moves hogs' homes to node 1, which then runs them as its own.
check balance-on "$SCXVM_CTL" set balance_hold_ns 5s
s0=$(stats_json)
sleep 4
s1=$(stats_json)
moves1=$(($(stat_node 1 balance_move "$s1") - $(stat_node 1 balance_move "$s0")))
home1=$(($(run_ns 1 home "$s1") - $(run_ns 1 home "$s0")))
info "balance_moves_to_node1=$moves1" "balance_node1_home_ns=$home1" \
	"balance_steals=$(($(stat_total steal_in "$s1") - $(stat_total steal_in "$s0")))"
check_ge balance-moves-homes-to-node1 "$moves1" 1
check_ge balance-node1-runs-moved-homes "$home1" 500000000
kill_hogs
# The live daemon serves the scx_stats endpoint where sched_ext tools look, root only.
check scx-stats-endpoint test -S /var/run/scx/root/stats
check_eq scx-stats-endpoint-mode "$(stat -L -c %a /var/run/scx/root/stats)" 600
check_eq still-attached "$(sched_ops)" ai_numa
