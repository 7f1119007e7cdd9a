#!/bin/sh
# Not a test: what scripts/run.sh shows in the VM. The daemon runs with -v
# (a per-node summary every second) under a mixed load: CPU hogs whose home
# is node 0 (so node 1 steals), a message-passing workload, and stats from
# the control CLI every few seconds.
. /vm/lib.sh

dur=${scxvm_demo_secs:-60}
start_sched -v
check_eq scheduler-enabled "$(sched_ops)" ai_numa
# The summary is on the daemon's stdout: show it live on the console.
tail -f "$SCXVM_DAEMON_LOG" &
tailpid=$!

spawn_hogs_on_node 0 "$(($(nproc) + 2))"
end=$(($(_now) + dur))
while [ "$(_now)" -lt "$end" ]; do
	hackbench --groups 2 --fds 4 --loops 20 >/dev/null 2>&1
	if command -v "$SCXVM_CTL" >/dev/null 2>&1; then
		echo "---- $SCXVM_CTL stats ----"
		"$SCXVM_CTL" stats
	fi
	sleep 4
done
kill_hogs
kill "$tailpid" 2>/dev/null
stop_daemon TERM
check_eq clean-exit "$DAEMON_RC" 0
