#!/bin/sh
# The control plane against the real scheduler: a slice_ns change shows in
# scheduling behaviour, tunables survive a hotplug re-attach, bad values and
# non-root callers are refused with nothing changed.
. /vm/lib.sh

ctl=$SCXVM_CTL
# The restart path, so that "tunables survive a re-attach" has a re-attach.
start_sched --hotplug-restart
check_eq attached "$(sched_ops)" ai_numa
check status-running sh -c "$ctl --json status | jq -e '.state == \"running\"'"
check status-human "$ctl" status
check topology-two-nodes sh -c "$ctl --json topology | jq -e '.nodes | length == ${scxvm_nodes:-2}'"

# nvcsw PID: involuntary context switches of a task so far.
nvcsw() { awk '/^nonvoluntary_ctxt_switches/ { print $2 }' "/proc/$1/status"; }

# preempt_rate SLICE: two CPU hogs sharing CPU 1 for 3 s; involuntary
# switches per second of the first one. Each switch is a slice running out.
preempt_rate() {
	"$ctl" set slice_ns "$1" >/dev/null || return 1
	taskset -c 1 sh -c 'while :; do :; done' &
	h1=$!
	taskset -c 1 sh -c 'while :; do :; done' &
	h2=$!
	sleep 1
	a=$(nvcsw "$h1")
	sleep 3
	b=$(nvcsw "$h1")
	kill "$h1" "$h2"
	wait "$h1" "$h2" 2>/dev/null
	echo $(((b - a) / 3))
}
short=$(preempt_rate 2ms)
long=$(preempt_rate 40ms)
info "preempt_per_s_slice_2ms=$short" "preempt_per_s_slice_40ms=$long"
check_ge short-slice-preempts-more "$short" "$((long * 3))"
check_ge long-slice-still-preempts "$long" 1

# Bad input: precise errors, state unchanged.
"$ctl" set slice_ns 40ms
before=$("$ctl" --json get slice_ns | jq -r '.tunable.value')
"$ctl" set slice_ns -5 >/tmp/e1 2>&1
rc=$?
sed 's/^/  set-neg| /' /tmp/e1
check_eq negative-slice-exit-1 "$rc" 1
check negative-slice-names-range grep -q '50000..1000000000' /tmp/e1
"$ctl" set steal maybe >/tmp/e2 2>&1
rc=$?
sed 's/^/  set-maybe| /' /tmp/e2
check_eq steal-maybe-exit-1 "$rc" 1
check steal-maybe-says-on-off grep -q 'on or off' /tmp/e2
"$ctl" set nosuch 1 >/tmp/e3 2>&1
check_eq unknown-tunable-exit-1 "$?" 1
"$ctl" set >/tmp/e4 2>&1
check_eq usage-exit-2 "$?" 2
check_eq value-unchanged "$("$ctl" --json get slice_ns | jq -r '.tunable.value')" "$before"
check daemon-alive daemon_alive

# Non-root: the socket is 0660 root: nobody cannot even connect ...
su -s /bin/sh nobody -c "$ctl set steal off" >/tmp/e5 2>&1
rc=$?
sed 's/^/  nonroot| /' /tmp/e5
check_eq nonroot-set-exit-1 "$rc" 1
check nonroot-permission-denied grep -qi 'permission denied' /tmp/e5
# ... and with the socket opened up, reads work but changes are refused.
sock=$("$ctl" --help 2>&1 | sed -n 's/.*default \(\/[^)]*\.sock\).*/\1/p' | head -n 1)
[ -n "$sock" ] || sock=/run/scx-ai-numa/control.sock
chmod 666 "$sock"
check nonroot-status-ok su -s /bin/sh nobody -c "$ctl status"
su -s /bin/sh nobody -c "$ctl set steal off" >/tmp/e6 2>&1
rc=$?
sed 's/^/  nonroot-open| /' /tmp/e6
check_eq nonroot-set-refused "$rc" 1
check nonroot-needs-root grep -q 'needs root' /tmp/e6
check_eq steal-still-on "$("$ctl" --json get steal | jq -r '.tunable.text')" on

# Tunables survive a hotplug re-attach.
"$ctl" set slice_ns 7ms
"$ctl" set steal_min_queued 5
last=$((${scxvm_cpus:-4} - 1))
cpu_offline "$last"
wait_for 20 sh -c "$ctl --json status | jq -e '.restarts >= 1 and .state == \"running\"'"
info "status_after_offline=$("$ctl" --json status | jq -c '{state, restarts, attach_count}')"
check reattached-after-offline sh -c "$ctl --json status | jq -e '.restarts >= 1 and .state == \"running\"'"
check_eq slice-survives-reattach "$("$ctl" --json get slice_ns | jq -r '.tunable.value')" 7000000
check_eq min-queued-survives-reattach "$("$ctl" --json get steal_min_queued | jq -r '.tunable.value')" 5
cpu_online "$last"
wait_for 20 sh -c "$ctl --json status | jq -e '.restarts >= 2 and .state == \"running\"'"
check_eq enabled-after-online "$(sched_ops)" ai_numa

# Stats stream (watch) gives a sample a second.
timeout 4 "$ctl" --json stats --watch 1 >/tmp/watch.out 2>&1
n=$(grep -c '"nodes"' /tmp/watch.out)
info "watch_samples_4s=$n"
check_ge watch-streams "$n" 2

stop_daemon TERM
check_eq clean-exit "$DAEMON_RC" 0
