#!/bin/sh
# VM scenario: what each scheduler callback costs and where its time goes.
# Run on the host:
#   tests/vm/run.sh --bindir build --scenario-timeout 600 \
#       [--sockets-per-node 2 --cpus-per-node 4] bench/costprobe.sh
# (12 scheduler starts: on a busy host more than the default 300 s.)
# It runs the test build (scx_ai_numad-faults, whose scheduler has the cost
# probe of bpf/costprobe.h compiled in) with kernel.bpf_stats_enabled=1,
# per-LLC queues and then per-node queues (--node-queues), each over an idle
# spell, hackbench and wakebench, restarting the scheduler before each so
# every figure belongs to one workload. Each result is one line
#   @@COST {"config":..,"workload":..,"data":<bpf_progstats --probe>}
# with run_time_ns/run_cnt per callback and ns/call per probed section.
# bench/costprobe-report.py CONSOLE.LOG summarises them. Kernel command
# line (tests/vm/run.sh --append): scxcost_reps=N (2), scxcost_duration=S
# (4), scxcost_workloads=idle,hackbench,wakebench.
. /vm/lib.sh

SCXVM_DAEMON=scx_ai_numad-faults
dur=${scxcost_duration:-4}
nodes=$(nr_nodes)
cpus=$(nr_cpus_online)

check faults-daemon-in-image command -v scx_ai_numad-faults
check progstats-in-image command -v bpf_progstats
echo 1 >/proc/sys/kernel/bpf_stats_enabled || _fail bpf-stats "cannot enable bpf_stats"

one() { # CONFIG WORKLOAD DAEMON-FLAGS...
	_cfg=$1 _wl=$2
	shift 2
	sched_try "$_cfg/$_wl" "$@" || return
	case "$_wl" in
	idle) sleep "$dur" ;;
	hackbench) hackbench --threads --groups "$((nodes * 2))" --fds 8 --loops 100 >/dev/null 2>&1 ;;
	wakebench) wakebench --msg-threads "$nodes" --workers "$((cpus / nodes))" --duration "$dur" >/dev/null 2>&1 ;;
	esac
	_s=$(bpf_progstats --probe)
	sched_end
	printf '@@COST {"config":"%s","workload":"%s","data":%s}\n' "$_cfg" "$_wl" "$_s"
	case "$_s" in
	*'"probe":['*) _pass "$_cfg/$_wl/probed" ;;
	*) _fail "$_cfg/$_wl/probed" "no cost probe map: $_s" ;;
	esac
	# With next to nothing queued, an idle CPU's steal scan finds every
	# other node's queued_llcs bits clear and reads none of their queue
	# counters (bpf/llc.bpf.h): fewer victims examined than scans.
	if [ "$_wl" = idle ]; then
		_scan=$(printf '%s' "$_s" | jq '.probe[] | select(.name == "steal_scan") | .cnt')
		_vict=$(printf '%s' "$_s" | jq '.probe[] | select(.name == "steal_victim") | .cnt')
		info "$_cfg/idle: steal scans=$_scan victims read=$_vict"
		check "$_cfg/idle-steal-scan-skips-empty-nodes" [ "$((_vict * 2))" -le "$_scan" ]
	fi
}

rep=0
while [ "$rep" -lt "${scxcost_reps:-2}" ]; do
	rep=$((rep + 1))
	for wl in $(echo "${scxcost_workloads:-idle,hackbench,wakebench}" | tr ',' ' '); do
		one llc "$wl"
		one node "$wl" --node-queues
	done
done
echo 0 >/proc/sys/kernel/bpf_stats_enabled
