#!/bin/sh
# Fault injection. A scheduler that keeps hitting errors: the daemon logs the
# kernel's reason for each, retries with backoff, gives up after the
# configured bound, exits non-zero, and the kernel's default scheduler runs.
# SIGKILL in the middle of that: the kernel is back on its default scheduler
# and a new daemon attaches. And tasks that try to get stranded (single-CPU
# pins, affinity flipping mid-run, a node's CPUs all offline, stealing off)
# never stall.
#
# The errors come from scx_ai_numad-faults, the test build whose scheduler
# raises one on request (SCX_AI_NUMA_DEBUG_INJECT_ERROR); the installed
# daemon has no such trigger and must ignore the variable.
. /vm/lib.sh

main_log=$SCXVM_DAEMON_LOG
SCXVM_DAEMON_LOG=/tmp/release.log
export SCX_AI_NUMA_DEBUG_INJECT_ERROR=1
start_sched
unset SCX_AI_NUMA_DEBUG_INJECT_ERROR
check_eq release-ignores-trigger-attached "$(sched_ops)" ai_numa
check release-ignores-trigger-runs hackbench --groups 1 --fds 4 --loops 10
check_eq release-ignores-trigger-still-attached "$(sched_ops)" ai_numa
check release-ignores-trigger-no-exit sh -c "! grep -q 'scheduler exited' /tmp/release.log"
stop_daemon TERM
check_eq release-ignores-trigger-clean-exit "$DAEMON_RC" 0
SCXVM_DAEMON_LOG=$main_log

check faults-daemon-in-image command -v scx_ai_numad-faults
expect_kmsg 'debug: error injected by the daemon'
expect_kmsg 'BPF scheduler "ai_numa" disabled \(scx_bpf_error\)'
expect_kmsg 'ai_numa: .*error injected'

t0=$(now_ms)
SCX_AI_NUMA_DEBUG_INJECT_ERROR=1 scx_ai_numad-faults --max-failures 3 --failure-window 60 \
	--backoff-ms 100 >/tmp/inject.log 2>&1
rc=$?
info "inject_exit=$rc" "inject_ms=$(($(now_ms) - t0))"
sed 's/^/  inject| /' /tmp/inject.log | head -n 40
exits=$(grep -c 'scheduler exited: error raised by the BPF program' /tmp/inject.log)
retries=$(grep -c 'retrying in' /tmp/inject.log)
info "error_exits=$exits" "retries=$retries"
check_eq gives-up-exit-1 "$rc" 1
check_eq error-exits-bounded "$exits" 4
check_eq retried-3-times "$retries" 3
check reason-logged grep -q 'error injected by the daemon' /tmp/inject.log
check backoff-doubles sh -c "grep -q 'retrying in 100 ms' /tmp/inject.log && grep -q 'retrying in 200 ms' /tmp/inject.log"
check gave-up-logged grep -q 'giving up' /tmp/inject.log
check_eq default-scheduler-after-giving-up "$(sched_state)" disabled
check system-runs-after-giving-up hackbench --groups 1 --fds 4 --loops 10

# SIGKILL while the daemon is between retries.
SCX_AI_NUMA_DEBUG_INJECT_ERROR=1 scx_ai_numad-faults --max-failures 50 --backoff-ms 2000 >/tmp/kill.log 2>&1 &
kpid=$!
wait_for 20 grep -q 'retrying in' /tmp/kill.log
kill -KILL "$kpid"
wait "$kpid" 2>/dev/null
wait_for 10 sched_is disabled
check_eq sigkill-mid-restart-default "$(sched_state)" disabled
start_sched
check_eq new-daemon-attaches "$(sched_ops)" ai_numa

# Try to strand tasks: stealing off, one-CPU pins on every CPU, hogs whose
# affinity flips between the nodes every 200 ms, and node 1 taken offline
# and back. The harness fails the run on any sched_ext stall.
"$SCXVM_CTL" set steal off
ncpus=${scxvm_cpus:-4}
pins=
for c in $(seq 0 $((ncpus - 1))); do
	taskset -c "$c" sh -c 'while :; do :; done' &
	pins="$pins $!"
done
spawn_hogs_on_node 0 2
spawn_hogs_on_node 1 2
n0=$(cat /sys/devices/system/node/node0/cpulist)
n1=$(cat /sys/devices/system/node/node1/cpulist)
(
	end=$(($(_now) + 20))
	while [ "$(_now)" -lt "$end" ]; do
		for p in $HOG_PIDS; do taskset -p -c "$n0" "$p" >/dev/null 2>&1; done
		sleep 0.2
		for p in $HOG_PIDS; do taskset -p -c "$n1" "$p" >/dev/null 2>&1; done
		sleep 0.2
	done
) &
flip=$!
sleep 3
for c in $(list_ids "$n1"); do
	cpu_offline "$c"
done
check hackbench-while-stranding timeout 120 hackbench --groups 2 --fds 4 --loops 20
sleep 5
for c in $(seq 0 $((ncpus - 1))); do cpu_online "$c" 2>/dev/null; done
wait "$flip"
# shellcheck disable=SC2086
kill $pins
kill_hogs
info "attach_count=$(attach_count)"
check_eq no-stall-still-attached "$(sched_ops)" ai_numa
check_eq no-reattach "$(attach_count)" 1
check no-stall-in-log sh -c "! grep -q 'stall' $SCXVM_DAEMON_LOG"
# A node going offline under queued tasks, stealing off, the other node
# saturated: the tasks left in the dead node's queue must still run. Three
# hogs homed on node 1's two CPUs keep one of them queued there when the
# node goes; node 0's CPUs always have their own queue to serve.
spawn_hogs_on_node 0 3
spawn_hogs_on_node 1 3
orphans=$(echo "$HOG_PIDS" | awk '{ print $4, $5, $6 }')
sleep 1
for c in $(list_ids "$n1"); do
	cpu_offline "$c"
done
sleep 1
before=
for p in $orphans; do before="$before $(proc_ticks "$p")"; done
sleep 4
starved=0 i=0
for p in $orphans; do
	i=$((i + 1))
	b=$(echo "$before" | awk -v i="$i" '{ print $i }')
	a=$(proc_ticks "$p")
	info "orphan_$p=$((a - b))"
	[ "$((a - b))" -gt 0 ] || starved=$((starved + 1))
done
check_eq dead-node-queue-drained "$starved" 0
for c in $(seq 0 $((ncpus - 1))); do cpu_online "$c" 2>/dev/null; done
kill_hogs
check_eq dead-node-still-attached "$(sched_ops)" ai_numa
"$SCXVM_CTL" set steal on
stop_daemon TERM
check_eq clean-exit "$DAEMON_RC" 0
