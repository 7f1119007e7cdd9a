#!/bin/sh
# A node whose CPUs are all offline when the scheduler starts (run by the
# shape boots, see 15-shapes.sh): the last node with CPUs, never CPU 0's.
# The scheduler attaches counting it as a node with CPUs, none online, and
# schedules the rest (hackbench, stress-ng); when its CPUs come online they
# are served in place (no reattach): under load each is busy, and tasks
# whose home is that node are taken from its own queue by its CPUs and run
# there. Offlined again under those tasks, they keep running elsewhere;
# online again, the node serves new home tasks from its queue again.
. /vm/lib.sh

ctl=$SCXVM_CTL
nodes=${scxvm_nodes:-2}
ncpus=${scxvm_cpus:-4}

cpu_nodes=$(list_ids "$(cat /sys/devices/system/node/has_cpu)")
off=$(echo "$cpu_nodes" | awk '{ print $NF }')
off_cpus=$(list_ids "$(cat "/sys/devices/system/node/node$off/cpulist")")
cpu0_node=$(basename /sys/devices/system/cpu/cpu0/node* | sed 's/^node//')
info "offline_node=$off offline_cpus=$off_cpus cpu0_node=$cpu0_node"
[ "$off" != "$cpu0_node" ] || { check_eq not-cpu0-node "$off" "not $cpu0_node"; exit 0; }
n_off=0
for c in $off_cpus; do cpu_offline "$c" && n_off=$((n_off + 1)); done
check_eq node-cpus-offline-before-start "$(cat "/sys/devices/system/node/node$off/cpulist")" ""

start_sched
check_eq attached "$(sched_ops)" ai_numa
check attach-counts-offline-node grep -q "attached: scheduling on $nodes nodes" "$SCXVM_DAEMON_LOG"
node_json() { "$ctl" --json topology | jq -c ".nodes[] | select(.id == $off)"; }
n=$(node_json)
info "node=$n"
check_eq offline-node-has-its-cpus "$(printf '%s' "$n" | jq '.cpus | length')" "$n_off"
check_eq offline-node-none-online "$(printf '%s' "$n" | jq '.online_cpus | length')" 0

stress-ng --cpu "$ncpus" --timeout 5s >/dev/null 2>&1 &
spid=$!
check hackbench-node-offline timeout 120 hackbench --groups 2 --fds 4 --loops 30
wait "$spid"
check_eq stress-ng-node-offline-exit "$?" 0
check_eq still-attached-node-offline "$(sched_ops)" ai_numa

for c in $off_cpus; do cpu_online "$c"; done
node_online() { [ "$(node_json | jq '.online_cpus | length')" = "$n_off" ]; }
wait_for 10 node_online
check node-online-in-topology node_online
check_eq online-in-place "$(attach_count)" 1

# Each of its CPUs is busy under two hogs per CPU of the machine, started on CPU 0's node.
spawn_hogs_on_node "$cpu0_node" "$((2 * ncpus))"
sleep 1
# shellcheck disable=SC2086 # one argument per CPU
min_busy=$(busy_pct_min 3 $off_cpus)
kill_hogs
info "least_busy_pct_on_node$off=$min_busy"
check_ge onlined-cpus-get-work "$min_busy" 50

# served NAME: in 3 s, node $off's CPUs took tasks from its own queue and its
# home tasks ran there.
served() {
	_s0=$(stats_json)
	sleep 3
	_s1=$(stats_json)
	_nd=$(($(stat_node "$off" node_dispatch "$_s1") - $(stat_node "$off" node_dispatch "$_s0")))
	_hr=$(($(stat_node "$off" home_run_ns "$_s1") - $(stat_node "$off" home_run_ns "$_s0")))
	info "$1_node_dispatch=$_nd $1_home_run_ms=$((_hr / 1000000))"
	check_ge "$1-queue-served" "$_nd" 1
	check_ge "$1-home-tasks-run-there" "$((_hr / 1000000))" 100
}
# Twice as many hogs as the node has CPUs: some wait in its queue.
spawn_hogs_on_node "$off" "$((2 * n_off))"
served online

# The reverse: its CPUs go away under its home tasks, which keep running.
for c in $off_cpus; do cpu_offline "$c"; done
t0=0
for p in $HOG_PIDS; do t0=$((t0 + $(proc_ticks "$p"))); done
sleep 3
t1=0
for p in $HOG_PIDS; do t1=$((t1 + $(proc_ticks "$p"))); done
info "home_tasks_ticks_node_offline=$((t1 - t0))"
check_ge home-tasks-run-node-offline "$((t1 - t0))" 30
check_eq still-attached-offline-again "$(sched_ops)" ai_numa
kill_hogs
# Online again, with new home tasks: their old homes may have moved meanwhile.
for c in $off_cpus; do cpu_online "$c"; done
wait_for 10 node_online
spawn_hogs_on_node "$off" "$((2 * n_off))"
served online-again
kill_hogs
check_eq no-reattach "$(attach_count)" 1
check_eq still-attached-at-end "$(sched_ops)" ai_numa
