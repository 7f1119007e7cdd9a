#!/bin/sh
# Stealing: CPU hogs whose home is node 0 overload it (more hogs than node 0
# has CPUs). With stealing on, node 1's CPUs take work from node 0's queue;
# switched off at run time, the steal counters stay flat and node 1's CPUs
# stay (nearly) idle; switched on again, steals resume.
. /vm/lib.sh

cpn=${scxvm_cpus_per_node:-2}
start_sched
check_eq attached "$(sched_ops)" ai_numa

node1_cpus=$(cat /sys/devices/system/node/node1/cpulist)
first1=${node1_cpus%%[-,]*}

# busy_pct CPU SECS: how busy CPU was over SECS seconds.
busy_pct() {
	b0=$(cpu_busy_ticks "$1"); t0=$(cpu_total_ticks "$1")
	sleep "$2"
	b1=$(cpu_busy_ticks "$1"); t1=$(cpu_total_ticks "$1")
	echo $(((b1 - b0) * 100 / (t1 - t0 + 1)))
}

# Homes must not follow the steals here (a hog stolen for 100 ms moves its
# home by design): this scenario is about node 0's memory staying node 0's.
check home-move-off "$SCXVM_CTL" set home_move_ns 60s
# Nor may the node balancer move them: with steal off node 1 must stay idle.
check balance-off "$SCXVM_CTL" set balance_hold_ns 0
spawn_hogs_on_node 0 $((cpn * 3))
sleep 2

# Phase 1: stealing on (default).
a=$(stat_node 1 steal_in)
sleep 4
b=$(stat_node 1 steal_in)
out0=$(stat_node 0 steal_out)
info "steal_on_node1_steal_in_delta=$((b - a))" "node0_steal_out=$out0"
check_ge steal-on-node1-steals "$((b - a))" 1
check_ge steal-on-node0-robbed "$out0" 1

# Phase 2: off. Let in-flight stolen tasks finish their slice, then measure.
check steal-off "$SCXVM_CTL" set steal off
check_eq steal-reads-off "$("$SCXVM_CTL" --json get steal | jq -r '.tunable.text')" off
sleep 1
a=$(stat_total steal_in)
busy=$(busy_pct "$first1" 4)
b=$(stat_total steal_in)
info "steal_off_delta=$((b - a))" "steal_off_cpu${first1}_busy_pct=$busy"
check_eq steal-off-no-steals "$((b - a))" 0
check_le steal-off-node1-mostly-idle "$busy" 30

# Phase 3: on again.
check steal-on "$SCXVM_CTL" set steal on
sleep 1
a=$(stat_total steal_in)
busy=$(busy_pct "$first1" 4)
b=$(stat_total steal_in)
info "steal_on_again_delta=$((b - a))" "steal_on_cpu${first1}_busy_pct=$busy"
check_ge steal-on-again-steals "$((b - a))" 1
check_ge steal-on-node1-busy "$busy" 60

kill_hogs
check_eq still-attached "$(sched_ops)" ai_numa
stop_daemon TERM
check_eq clean-exit "$DAEMON_RC" 0
