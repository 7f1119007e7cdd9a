#!/bin/sh
# Hand-off wakeups (handoff_cpu() in the BPF policy). ai_pipeline's loaders
# wake their node's launcher and go to sleep at once (the next batch's I/O),
# so with handoff on most launcher wakes are hand-offs and the launcher runs
# on its waker's CPU. Switched off at run time (handoff_ns 0), there is no
# hand-off at all.
# Loaders without an I/O wait keep running after every wake: with handoff
# on again they never earn it, since the habit is learnt, not assumed.
. /vm/lib.sh

check ai-pipeline-present command -v ai_pipeline
start_sched
check_eq attached "$(sched_ops)" ai_numa

# pipeline ARGS...: one ai_pipeline run; prints "HANDOFFS WAKES WAKER_PCT".
# HANDOFFS counts the warm-up second too, WAKES only the measured three.
pipeline() {
	_a=$(stat_total handoff)
	if ! ai_pipeline --duration 3 --warmup 1 --json "$@" >/tmp/ho.json 2>/tmp/ho.err; then
		echo "x x x"
		return
	fi
	_b=$(stat_total handoff)
	echo "$((_b - _a)) $(jq -r '"\(.wake_lat_us.count) \(.wake_paths.waker.pct | floor)"' /tmp/ho.json)"
}

set -- $(pipeline)
info "handoff_on: handoffs=$1 wakes=$2 on_waker_pct=$3"
check_ge on-wakes "$2" 100
check_ge on-most-wakes-handed-off "$1" $(($2 / 2))
check_ge on-launcher-runs-on-waker-cpu "$3" 50

check handoff-off "$SCXVM_CTL" set handoff_ns 0
set -- $(pipeline)
info "handoff_off: handoffs=$1 wakes=$2 on_waker_pct=$3"
check_ge off-wakes "$2" 100
check_eq off-no-handoff "$1" 0

check handoff-on "$SCXVM_CTL" set handoff_ns 1ms
set -- $(pipeline --io-us 0 --loaders 1)
info "busy_waker: handoffs=$1 wakes=$2 on_waker_pct=$3"
check_ge busy-wakes "$2" 100
check_le busy-waker-no-handoff "$1" $(($2 / 100))

check_eq still-attached "$(sched_ops)" ai_numa
stop_daemon TERM
check_eq clean-exit "$DAEMON_RC" 0
