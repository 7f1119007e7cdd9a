#!/bin/sh
# The restart path (--hotplug-restart: no in-place hotplug callbacks): the
# kernel ejects the scheduler with a restart request on every CPU hotplug
# event and the daemon re-attaches with the new topology, each time. With
# every CPU of the last node offline, scheduling goes on on the remaining
# node. (The default, in-place handling is 45-hotplug-inplace.)
. /vm/lib.sh

ncpus=${scxvm_cpus:-4}
last=$((ncpus - 1))
start_sched --hotplug-restart
check_eq attached "$(sched_ops)" ai_numa

# attached_with N: the daemon logged an attach seeing N online CPUs.
attached_with() {
	grep -q "attached: scheduling on .* $1 of $ncpus CPUs online" "$SCXVM_DAEMON_LOG"
}

before=$(attach_count)
t0=$(now_ms)
cpu_offline "$last"
wait_for 20 attached_with $((ncpus - 1))
info "reattach_offline_ms=$(($(now_ms) - t0))" "attach_count=$(attach_count)"
check "reattached-with-$((ncpus - 1))-cpus" attached_with $((ncpus - 1))
check_eq attach-count-after-offline "$(attach_count)" $((before + 1))
check restart-reason-logged grep -q 'going offline' "$SCXVM_DAEMON_LOG"
wait_for 10 sched_enabled_ai_numa
check_eq enabled-after-offline "$(sched_ops)" ai_numa

t0=$(now_ms)
cpu_online "$last"
wait_for 20 sh -c "[ \$(grep -c 'attached: scheduling on' $SCXVM_DAEMON_LOG) -ge $((before + 2)) ]"
info "reattach_online_ms=$(($(now_ms) - t0))" "attach_count=$(attach_count)"
check_eq attach-count-after-online "$(attach_count)" $((before + 2))
check "reattached-with-$ncpus-cpus" sh -c "grep 'attached: scheduling on' $SCXVM_DAEMON_LOG | tail -n 1 | grep -q ' $ncpus of $ncpus CPUs online'"
wait_for 10 sched_enabled_ai_numa
check_eq enabled-after-online "$(sched_ops)" ai_numa

# Take the whole last node offline: its queue has no CPU left, its tasks must
# still run (on the other node), with stealing on or off.
lastnode=$(($(nr_nodes) - 1))
nodecpus=$(cat "/sys/devices/system/node/node$lastnode/cpulist")
info "offlining_node=$lastnode" "node_cpus=$nodecpus"
for c in $(list_ids "$nodecpus"); do
	cpu_offline "$c"
	sleep 1
done
wait_for 20 sched_enabled_ai_numa
info "online=$(cat /sys/devices/system/cpu/online)" "attach_count=$(attach_count)"
check_eq node-offline-still-ai_numa "$(sched_ops)" ai_numa
check hackbench-with-node-offline timeout 120 hackbench --groups 2 --fds 4 --loops 30
check stress-with-node-offline timeout 60 stress-ng --cpu 4 --timeout 3s
check_eq node-offline-still-attached "$(sched_ops)" ai_numa
check daemon-alive daemon_alive

for c in $(seq 0 "$last"); do
	[ -e "/sys/devices/system/cpu/cpu$c/online" ] && cpu_online "$c" 2>/dev/null
done
wait_for 20 sh -c "grep 'attached: scheduling on' $SCXVM_DAEMON_LOG | tail -n 1 | grep -q ' $ncpus of $ncpus CPUs online'"
wait_for 10 sched_enabled_ai_numa
check_eq all-back-online "$(nr_cpus_online)" "$ncpus"
check_eq enabled-after-all-online "$(sched_ops)" ai_numa
dump_daemon_log | tail -n 20
stop_daemon TERM
check_eq clean-exit "$DAEMON_RC" 0
