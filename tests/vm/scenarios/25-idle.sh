#!/bin/sh
# Idle-CPU search confined to the home node, with either kind of idle
# tracking: the kernel's per-node idle masks, asked for by default where the
# kernel has them (6.15+), and its one global mask (--global-idle, and every
# kernel before 6.15). A periodic sleeper homed on one node, whose previous
# CPU is kept busy by a pinned hog, must find the other idle CPU of its node
# on its wakeups (the idle fast path, counted as direct) and never run on
# the other node; the scheduler must stay attached with no error. Stealing
# is off, so that an idle CPU found on the wrong node is the only way off
# home (with it on, a wakeup that finds both home CPUs busy is rightly
# taken by the idle other node after steal_delay_ns).
. /vm/lib.sh

ctl=$SCXVM_CTL
rel=$(uname -r)
maj=${rel%%.*}
rest=${rel#*.}
min=${rest%%[!0-9]*}
if [ "$maj" -gt 6 ] || { [ "$maj" -eq 6 ] && [ "$min" -ge 15 ]; }; then
	native=per-node
else
	native=global
fi
info "kernel=$rel native_idle_tracking=$native"

node=$(($(nr_nodes) - 1))
cpus=$(cat "/sys/devices/system/node/node$node/cpulist")
ids=$(list_ids "$cpus")
first=${ids%% *}
info "node=$node cpus=$cpus hog_cpu=$first"

# on_node PID: 1 if every thread of PID last ran on a CPU of $node.
on_node() {
	for _t in /proc/"$1"/task/*/stat; do
		_c=$(awk '{ sub(/.*\) /, ""); print $37 }' "$_t" 2>/dev/null) || continue
		case " $ids " in *" $_c "*) ;; *) echo 0; return ;; esac
	done
	echo 1
}

for mode in default global-idle; do
	if [ "$mode" = default ]; then
		start_sched
		want=$native
	else
		start_sched --global-idle
		want=global
	fi
	got=$("$ctl" --json status | jq -r .idle_tracking)
	info "mode=$mode idle_tracking=$got"
	check_eq "$mode-idle-tracking" "$got" "$want"
	check "$mode-attach-logged" grep -q "$want idle tracking" "$SCXVM_DAEMON_LOG"
	check "$mode-status-table" sh -c "$ctl status | grep -q 'tracked $want'"
	check "$mode-steal-off" "$ctl" set steal off

	taskset -c "$first" sh -c 'while :; do :; done' &
	hog=$!
	# Born on the node (home), then free to run anywhere: the scheduler places it.
	taskset -c "$cpus" cyclictest -t1 -i 2000 -D 4 -q >/dev/null 2>&1 &
	cyc=$!
	sleep 0.5
	for t in /proc/"$cyc"/task/*; do
		taskset -p "$(all_cpus_mask)" "${t##*/}" >/dev/null 2>&1
	done
	a=$(stat_node "$node" direct)
	off=0 samples=0
	while _alive "$cyc"; do
		[ "$(on_node "$cyc")" = 1 ] || off=$((off + 1))
		samples=$((samples + 1))
		sleep 0.1
	done
	wait "$cyc"
	b=$(stat_node "$node" direct)
	kill "$hog"
	wait "$hog" 2>/dev/null
	info "mode=$mode samples=$samples off_node=$off direct_node${node}=$((b - a))"
	check_ge "$mode-sampled" "$samples" 10
	check_eq "$mode-sleeper-stays-home" "$off" 0
	# 3.5 s of 2 ms periods is 1750 wakeups; most must take the idle fast path.
	check_ge "$mode-idle-fast-path" "$((b - a))" 500
	check_eq "$mode-still-attached" "$(sched_ops)" ai_numa
	stop_daemon TERM
	check_eq "$mode-clean-exit" "$DAEMON_RC" 0
	wait_for 10 sched_is disabled
done
