#!/bin/sh
# In-place CPU hotplug (the default): CPUs going offline and online never
# detach the scheduler; the daemon's topology follows sysfs; a node with all
# CPUs offline has its queue drained by the other node even with stealing
# off; and under hotplug churn the scheduler stays attached, where the
# restart path (--hotplug-restart) loses most of the churn window.
. /vm/lib.sh

ctl=$SCXVM_CTL
ncpus=${scxvm_cpus:-4}
last=$((ncpus - 1))
churn_secs=${scxvm_churn_secs:-20}

start_sched
check_eq attached "$(sched_ops)" ai_numa

# status_matches_sysfs: the daemon's online CPU count equals sysfs's.
status_online() { "$ctl" --json status | jq -r '.topology.online_cpus // .online_cpus // empty'; }
# status_settles WANT: the count once it is WANT, or after 5 s: the daemon
# re-reads the online CPUs on its 1 s tick, not when asked.
status_settles() {
	for _ in $(seq 25); do
		[ "$(status_online)" = "$1" ] && break
		sleep 0.2
	done
	status_online
}
cpu_offline "$last"
sleep 1
info "online_sysfs=$(nr_cpus_online)" "online_status=$(status_online)"
check_eq offline-no-reattach "$(attach_count)" 1
check_eq offline-still-enabled "$(sched_ops)" ai_numa
check_eq status-follows-offline "$(status_settles "$(nr_cpus_online)")" "$(nr_cpus_online)"
cpu_online "$last"
sleep 1
check_eq online-no-reattach "$(attach_count)" 1
check_eq status-follows-online "$(status_settles "$ncpus")" "$ncpus"

# Whole last node offline with stealing off: its queued tasks must still run.
"$ctl" set steal off
lastnode=$(($(nr_nodes) - 1))
nodecpus=$(cat "/sys/devices/system/node/node$lastnode/cpulist")
spawn_hogs_on_node "$lastnode" 3
for c in $(list_ids "$nodecpus"); do
	cpu_offline "$c"
done
check_eq node-offline-still-enabled "$(sched_ops)" ai_numa
check hackbench-node-offline-steal-off timeout 120 hackbench --groups 2 --fds 4 --loops 30
kill_hogs
for c in $(seq 0 "$last"); do cpu_online "$c" 2>/dev/null; done
"$ctl" set steal on
check_eq node-back-no-reattach "$(attach_count)" 1
check_eq node-back-enabled "$(sched_ops)" ai_numa

# churn_share SECS: offline/online CPU $last every ~300 ms under load for
# SECS; prints the share (%) of 100 ms samples during which ai_numa was
# enabled.
churn_share() {
	stress-ng --cpu "$ncpus" --timeout "$(($1 + 2))s" >/dev/null 2>&1 &
	sp=$!
	(
		end=$(($(_now) + $1))
		while [ "$(_now)" -lt "$end" ]; do
			cpu_offline "$last" 2>/dev/null
			sleep 0.3
			cpu_online "$last" 2>/dev/null
			sleep 0.3
		done
	) &
	cp=$!
	on=0 total=0 mism=0 asked=0
	end=$(($(_now) + $1))
	while [ "$(_now)" -lt "$end" ]; do
		total=$((total + 1))
		sched_enabled_ai_numa && on=$((on + 1))
		sleep 0.1
	done
	wait "$cp"
	wait "$sp"
	cpu_online "$last" 2>/dev/null
	[ "$total" -gt 0 ] || total=1
	echo "$((on * 100 / total)) $mism $asked $total"
}

# The daemon's view follows sysfs: after each step, with sysfs holding still,
# by its next tick.
asked=0 mism=0
for step in 1 2 3; do
	for op in cpu_offline cpu_online; do
		"$op" "$last"
		a=$(nr_cpus_online)
		st=$(status_settles "$a")
		asked=$((asked + 1))
		[ "$st" = "$a" ] || mism=$((mism + 1))
	done
done
info "status_steps=$asked" "status_mismatches=$mism"
check_eq status-follows-sysfs-every-step "$mism" 0

set -- $(churn_share "$churn_secs")
share=$1
info "inplace_churn_secs=$churn_secs" "inplace_attached_share_pct=$share" "samples=$4" \
	"attach_count=$(attach_count)"
check_ge inplace-attached-95pct "$share" 95
check_eq inplace-churn-no-reattach "$(attach_count)" 1
check daemon-alive daemon_alive
stop_daemon TERM
check_eq clean-exit "$DAEMON_RC" 0

# The same churn on the restart path, for comparison (reported, not asserted:
# it is the reason the in-place path exists).
wait_for 10 sched_is disabled
start_sched --hotplug-restart
set -- $(churn_share "$((churn_secs / 2))")
info "restart_path_churn_secs=$((churn_secs / 2))" "restart_path_attached_share_pct=$1" "samples=$4" \
	"restart_path_attach_count=$(attach_count)"
wait_for 20 sched_enabled_ai_numa
check restart-path-recovers sched_enabled_ai_numa
stop_daemon TERM
check_eq restart-path-clean-exit "$DAEMON_RC" 0
