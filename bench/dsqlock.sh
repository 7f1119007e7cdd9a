#!/bin/sh
# VM scenario: how long the dispatch queues' locks are waited for and held.
# Run on the host:
#   tests/vm/run.sh --bindir build --scenario-timeout 600 \
#       --nodes 2 --cpus-per-node 4 --sockets-per-node 2 bench/dsqlock.sh
# then bench/dsqlock-report.py CONSOLE.LOG for the table. The default VM
# kernel only (on 6.12 the tracer cannot attach: tracer-attaches fails).
# Under the scheduler with per-LLC queues and then per-node queues
# (--node-queues), restarted before each run, dsqlock (bench/dsqlock.c)
# traces the DSQ locks around hackbench and wakebench; before each traced
# hackbench an untraced one says how much the tracer slows the workload.
# Each result is one line
#   @@DSQLOCK {"config":..,"workload":..,"data":<dsqlock's JSON>}
# and each untraced hackbench one
#   @@DSQLOCK-PLAIN {"config":..,"secs":..}
# Kernel command line (tests/vm/run.sh --append): scxdsq_reps=N (2),
# scxdsq_duration=S (4), scxdsq_workloads=hackbench,wakebench.
. /vm/lib.sh

dur=${scxdsq_duration:-4}
nodes=$(nr_nodes)
cpus=$(nr_cpus_online)

check dsqlock-in-image command -v dsqlock
# A kernel whose spinlock functions are inlined (6.12) cannot be traced:
# one failure that says why, rather than one per run.
check tracer-attaches dsqlock --pair-calls 0 -- true || exit 1

hb() { hackbench --threads --groups "$((nodes * 2))" --fds 8 --loops 100; }

one() { # CONFIG WORKLOAD DAEMON-FLAGS...
	_cfg=$1 _wl=$2
	shift 2
	sched_try "$_cfg/$_wl" "$@" || return
	case "$_wl" in
	hackbench)
		_t=$(now_ms)
		hb >/dev/null 2>&1
		printf '@@DSQLOCK-PLAIN {"config":"%s","secs":%s}\n' "$_cfg" \
			"$(awk -v ms="$(($(now_ms) - _t))" 'BEGIN { printf "%.3f", ms / 1000 }')"
		_s=$(dsqlock -- sh -c "$(command -v hackbench) --threads --groups $((nodes * 2)) --fds 8 --loops 100 >/dev/null 2>&1")
		;;
	wakebench)
		_s=$(dsqlock -- sh -c "wakebench --msg-threads $nodes --workers $((cpus / nodes)) --duration $dur >/dev/null 2>&1")
		;;
	esac
	sched_end
	printf '@@DSQLOCK {"config":"%s","workload":"%s","data":%s}\n' "$_cfg" "$_wl" "${_s:-null}"
	_held=$(printf '%s' "$_s" | jq '[.kinds[] | select(.name == "hold") | .cnt] | add // 0' 2>/dev/null)
	_locks=$(printf '%s' "$_s" | jq '.locks | length' 2>/dev/null)
	info "$_cfg/$_wl: ${_locks:-?} DSQ locks followed, ${_held:-?} holds timed"
	check "$_cfg/$_wl/holds-timed" [ "${_held:-0}" -gt 0 ]
}

rep=0
while [ "$rep" -lt "${scxdsq_reps:-2}" ]; do
	rep=$((rep + 1))
	for wl in $(echo "${scxdsq_workloads:-hackbench,wakebench}" | tr ',' ' '); do
		one llc "$wl"
		one node "$wl" --node-queues
	done
done
