#!/bin/sh
# GPU-aware placement end to end. Needs a GPU on a NUMA node:
#   tests/vm/run.sh --flavour generic --gpu-node 1 tests/vm/gpu/70-gpu.sh
# (a second GPU, on the other node, as scripts/test.sh adds for
# 75-gpu-nvml.sh, is left alone: the GPU node is the first --gpu-node.)
# (an emulated virtio GPU behind a PCIe expander bridge on node 1, its
# driver loaded, so /dev/dri/renderD128 belongs to a device on node 1).
#
# Each worker (gpu-worker, two CPU-bound threads) starts its threads on the
# other node's CPUs, then allows them every CPU and measures the share of
# their run time on each node. One worker runs at a time, so the GPU's node
# has room for it (the policy lets idle CPUs steal from a busy node):
#   - one that holds the GPU open runs on the GPU's node; an identical one
#     that does not stays where it started;
#   - a cgroup pinned to the GPU's node, and a pinned process, run there
#     without any GPU;
#   - a process pin beats the GPU's node.
# Along the way: discovery (topology), the association (pins), the scan's
# own CPU time (status), bad pins refused with nothing changed, entries
# dropped when processes exit, and rules from the configuration file.
. /vm/lib.sh

ctl=$SCXVM_CTL
gnode=${scxvm_gpu_node:-1}
other=0
[ "$gnode" = 0 ] && other=1
other_cpus=$(cat "/sys/devices/system/node/node$other/cpulist")

# worker OUT ARGS...: start a worker on the other node's CPUs; sets WPID once it is ready.
worker() {
	_out=$1
	shift
	taskset -c "$other_cpus" gpu-worker --seconds 4 "$@" >"$_out" 2>&1 &
	WPID=$!
	wait_for 20 grep -q '^ready' "$_out" || { cat "$_out"; return 1; }
}

# share OUT NODE: percentage of the worker's run time on NODE.
share() { sed -n "s/^total .* pct_node$2=\([0-9]*\).*/\1/p" "$1"; }

# measure PID...: start the measurement of the given workers and wait for
# their results; print what the scheduler and the daemon did meanwhile.
measure() {
	"$ctl" --json stats >/tmp/stats0.json
	_d0=$(proc_ticks "$DAEMON_PID")
	kill -USR1 "$@"
	for _p in "$@"; do
		wait "$_p"
	done
	_d1=$(proc_ticks "$DAEMON_PID")
	"$ctl" --json stats >/tmp/stats1.json
	jq -M -c -s '[.[0].nodes, .[1].nodes] | transpose | map({node: .[1].node,
		steal_in: (.[1].counters.steal_in - .[0].counters.steal_in),
		direct_remote: (.[1].counters.direct_remote - .[0].counters.direct_remote),
		home_move: (.[1].counters.home_move - .[0].counters.home_move)})' /tmp/stats0.json /tmp/stats1.json
	info "daemon_cpu_ticks_during_measurement=$((_d1 - _d0))"
}

# listed PID NODE: the daemon lists PID as holding a GPU with home NODE.
listed() {
	"$ctl" --json pins | jq -e --argjson p "$1" --argjson n "$2" \
		'.gpu_processes | any(.pid == $p and .node == $n)' >/dev/null
}

# The render node of the GPU on the GPU node (with several GPUs, render
# minors follow probe order, not PCI order).
dev=/dev/dri/renderD128
for r in /sys/class/drm/renderD*; do
	[ "$(cat "$r/device/numa_node" 2>/dev/null)" = "$gnode" ] && dev=/dev/dri/${r##*/} && break
done
check gpu-render-node test -c "$dev"
pci=$(basename "$(readlink -f "/sys/class/drm/${dev##*/}/device")")
info "gpu_pci=$pci" "gpu_numa_node=$(cat "/sys/bus/pci/devices/$pci/numa_node" 2>/dev/null)"

start_sched
check_eq attached "$(sched_ops)" ai_numa

# Discovery: the render node's PCI device, on the GPU's node.
"$ctl" topology
"$ctl" --json topology >/tmp/topo.json
check topology-lists-gpu jq -e --arg p "$pci" --argjson n "$gnode" --arg d "$dev" \
	'.gpus | any(.pci == $p and .node == $n and (.devices | index($d)))' /tmp/topo.json

# 1. GPU holder, then an identical worker without the GPU.
worker /tmp/gpu.out --threads 2 --open "$dev" || dump_daemon_log
gpu_pid=$WPID
if ! wait_for 10 listed "$gpu_pid" "$gnode"; then
	"$ctl" pins
	dump_daemon_log
fi
check gpu-process-associated listed "$gpu_pid" "$gnode"
"$ctl" pins
measure "$gpu_pid"
cat /tmp/gpu.out
worker /tmp/plain.out --threads 2
plain_pid=$WPID
sleep 2
check plain-process-not-listed sh -c "! $ctl --json pins | jq -e '.gpu_processes | any(.pid == $plain_pid)'"
measure "$plain_pid"
cat /tmp/plain.out
gpu_share=$(share /tmp/gpu.out "$gnode")
plain_share=$(share /tmp/plain.out "$gnode")
info "gpu_worker_pct_on_gpu_node=$gpu_share" "plain_worker_pct_on_gpu_node=$plain_share"
check_ge gpu-worker-runs-on-gpu-node "$gpu_share" 95
check_le plain-worker-no-bias "$plain_share" 50

# The scan's cost, as the daemon reports it.
"$ctl" status
"$ctl" --json status >/tmp/status.json
scan() { jq -r ".placement.gpu_scan.$1" /tmp/status.json; }
passes=$(scan passes)
info "scan_passes=$passes" "scan_cpu_ns_total=$(scan cpu_ns)" "scan_last_cpu_ns=$(scan last_cpu_ns)" \
	"scan_last_processes=$(scan last_processes)" "scan_last_fds=$(scan last_fds)" \
	"daemon_uptime_ns=$(jq -r .uptime_ns /tmp/status.json)"
check_ge scan-ran "$passes" 1
# The CPU time is the daemon thread's (CLOCK_THREAD_CPUTIME_ID). This VM's
# kernel finds the TSCs unsynchronised and the thread's clock advances by
# ticks (4 ms): one short pass (here 1 process, 3 fds) reads 0 or one tick,
# as chance has it, so the figure that must be above 0 is the total.
check scan-cpu-measured jq -e '.placement.gpu_scan.cpu_ns > 0' /tmp/status.json

# The association goes with the process.
wait_for 5 sh -c "! $ctl --json pins | jq -e '.gpu_processes | any(.pid == $gpu_pid)'"
check exited-gpu-process-dropped sh -c "! $ctl --json pins | jq -e '.gpu_processes | any(.pid == $gpu_pid)'"
check placed-back-to-zero sh -c "$ctl --json status | jq -e '.placement.placed_processes == 0'"

# 2. A cgroup pinned to the GPU's node, no GPU.
mkdir -p /sys/fs/cgroup
mountpoint -q /sys/fs/cgroup || mount -t cgroup2 none /sys/fs/cgroup
mkdir -p /sys/fs/cgroup/gputest
check pin-cgroup "$ctl" pin --cgroup /gputest "$gnode"
check cgroup-pin-listed sh -c "$ctl --json pins | jq -e '.pins | any(.kind == \"cgroup\" and .cgroup == \"/gputest\" and .active)'"
sh -c "echo \$\$ >/sys/fs/cgroup/gputest/cgroup.procs && exec taskset -c '$other_cpus' gpu-worker --seconds 4 --threads 2" \
	>/tmp/cg.out 2>&1 &
cg_pid=$!
wait_for 20 grep -q '^ready' /tmp/cg.out
check worker-in-cgroup grep -qx '0::/gputest' "/proc/$cg_pid/cgroup"
measure "$cg_pid"
cat /tmp/cg.out
cg_share=$(share /tmp/cg.out "$gnode")
info "cgroup_pinned_pct_on_gpu_node=$cg_share"
check_ge cgroup-pin-runs-on-node "$cg_share" 95
check unpin-cgroup "$ctl" unpin --cgroup /gputest

# 3. A pinned process, then a GPU holder pinned away from its GPU's node.
worker /tmp/pinned.out --threads 2
pin_pid=$WPID
check pin-process "$ctl" pin "$pin_pid" "$gnode"
measure "$pin_pid"
cat /tmp/pinned.out
worker /tmp/gpu2.out --threads 2 --open "$dev"
gpu2_pid=$WPID
check pin-gpu-process-away "$ctl" pin "$gpu2_pid" "$other"
wait_for 10 sh -c "$ctl --json pins | jq -e '.gpu_processes | any(.pid == $gpu2_pid and .pinned_by == \"process\")'"
check rule-overrides-gpu sh -c "$ctl --json pins | jq -e '.gpu_processes | any(.pid == $gpu2_pid and .pinned_by == \"process\")'"
"$ctl" pins
measure "$gpu2_pid"
cat /tmp/gpu2.out
pin_share=$(share /tmp/pinned.out "$gnode")
away_share=$(share /tmp/gpu2.out "$other")
info "pid_pinned_pct_on_gpu_node=$pin_share" "gpu_worker_pinned_away_pct_on_other_node=$away_share"
check_ge pid-pin-runs-on-node "$pin_share" 95
check_ge pin-beats-gpu-node "$away_share" 95
# Exited processes take their rules along.
wait_for 5 sh -c "$ctl --json pins | jq -e '.pins | length == 0'"
check exited-pins-dropped sh -c "$ctl --json pins | jq -e '.pins | length == 0'"

# 4. Bad rules are refused, and nothing changes.
before=$("$ctl" --json pins | jq -c .pins)
"$ctl" pin 999999 "$gnode" >/tmp/e1 2>&1
check_eq bad-pid-exit-1 "$?" 1
check bad-pid-says-why grep -q 'no process with pid 999999' /tmp/e1
"$ctl" pin 1 7 >/tmp/e2 2>&1
check_eq bad-node-exit-1 "$?" 1
check bad-node-says-why grep -q 'node 7 does not exist' /tmp/e2
"$ctl" pin --cgroup /nosuch "$gnode" >/tmp/e3 2>&1
check_eq bad-cgroup-exit-1 "$?" 1
check bad-cgroup-says-why grep -q 'no cgroup /nosuch' /tmp/e3
"$ctl" pin --cgroup /../x "$gnode" >/tmp/e4 2>&1
check_eq dotdot-exit-1 "$?" 1
"$ctl" pin x "$gnode" >/tmp/e5 2>&1
check_eq bad-pid-usage-exit-2 "$?" 2
cat /tmp/e1 /tmp/e2 /tmp/e3 /tmp/e4 /tmp/e5
check_eq nothing-changed "$("$ctl" --json pins | jq -c .pins)" "$before"

check daemon-alive daemon_alive
stop_daemon TERM
check_eq clean-exit "$DAEMON_RC" 0

# 5. Rules from the configuration file, replaced on reload.
printf 'pin_cgroup = /gputest %s\npin = 999999 0\n' "$gnode" >/tmp/gpu.conf
start_sched --config /tmp/gpu.conf
"$ctl" pins
check config-pin-applied sh -c "$ctl --json pins | jq -e '.pins | any(.cgroup == \"/gputest\" and .origin == \"config\" and .node == $gnode)'"
check config-missing-pid-skipped grep -q '/tmp/gpu.conf:2: no process with pid 999999; rule skipped' "$SCXVM_DAEMON_LOG"
: >/tmp/gpu.conf
kill -HUP "$DAEMON_PID"
wait_for 10 sh -c "$ctl --json pins | jq -e '.pins | length == 0'"
check config-pin-gone-on-reload sh -c "$ctl --json pins | jq -e '.pins | length == 0'"
stop_daemon TERM
check_eq clean-exit-config "$DAEMON_RC" 0
