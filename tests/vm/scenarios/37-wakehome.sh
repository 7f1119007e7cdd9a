#!/bin/sh
# Waking at home (queue_cpu() in the BPF policy, tunable wake_home). Hogs
# whose home is node 0 keep its CPUs busy; duty-cycled workers whose home is
# node 0 too (stress-ng --cpu-load: bursts of 2 ms between sleeps) queue
# there, and node 1's idle CPUs steal them. A stolen worker then wakes with
# its home busy: with wake_home on it is woken onto a CPU of node 0
# (counted as wake_home on node 0), off onto the CPU it was stolen to, and
# the counter stays flat. Both ways node 1 keeps stealing: the switch
# changes where a waking task waits, not whether it is served.
. /vm/lib.sh

cpn=${scxvm_cpus_per_node:-2}
start_sched
check_eq attached "$(sched_ops)" ai_numa
[ "$(nr_nodes)" -ge 2 ] || { info "one node: nothing to steal"; stop_daemon TERM; exit 0; }

# Homes must stay on node 0 for the whole run: neither a stolen task's
# home (home_move_ns) nor the balancer may move them to node 1.
check home-move-off "$SCXVM_CTL" set home_move_ns 60s
check balance-off "$SCXVM_CTL" set balance_hold_ns 0
check group-off "$SCXVM_CTL" set group_wakes 0
spawn_hogs_on_node 0 "$cpn"

# stress_pids: the stress-ng parent and its workers (each a process).
stress_pids() {
	for _d in /proc/[0-9]*; do
		case "$(cat "$_d/comm" 2>/dev/null)" in
		stress-ng*) echo "${_d#/proc/}" ;;
		esac
	done
}

# The workers first run on node 0 (inherited affinity), which makes it
# their home; then they may run anywhere.
node0=$(cat /sys/devices/system/node/node0/cpulist)
taskset -c "$node0" stress-ng --cpu $((cpn * 2)) --cpu-load 50 --cpu-load-slice 2 \
	--timeout 30s -q >/dev/null 2>&1 &
sn=$!
sleep 1
for _p in $(stress_pids); do
	taskset -p "$(all_cpus_mask)" "$_p" >/dev/null 2>&1
done
sleep 1

# window SECS: "WAKE_HOME_DELTA STEAL_IN_DELTA" on nodes 0 and 1.
window() {
	_w0=$(stat_node 0 wake_home) _s0=$(stat_node 1 steal_in)
	sleep "$1"
	echo "$(($(stat_node 0 wake_home) - _w0)) $(($(stat_node 1 steal_in) - _s0))"
}

# shellcheck disable=SC2046 # three words on purpose
set -- $(window 3)
info "wake_home=on: wake_home=$1 node1_steal_in=$2"
check_ge on-steals "$2" 1
check_ge on-woken-at-home "$1" 1

check wake-home-off "$SCXVM_CTL" set wake_home off
check_eq wake-home-reads-off "$("$SCXVM_CTL" --json get wake_home | jq -r '.tunable.text')" off
# shellcheck disable=SC2046 # three words on purpose
set -- $(window 3)
info "wake_home=off: wake_home=$1 node1_steal_in=$2"
check_ge off-steals "$2" 1
check_eq off-none-woken-at-home "$1" 0

check wake-home-on "$SCXVM_CTL" set wake_home on
# shellcheck disable=SC2046 # three words on purpose
set -- $(window 3)
info "wake_home=on again: wake_home=$1 node1_steal_in=$2"
check_ge on-again-woken-at-home "$1" 1

# shellcheck disable=SC2046
kill $(stress_pids) 2>/dev/null
wait "$sn" 2>/dev/null
kill_hogs
check_eq still-attached "$(sched_ops)" ai_numa
stop_daemon TERM
check_eq clean-exit "$DAEMON_RC" 0
