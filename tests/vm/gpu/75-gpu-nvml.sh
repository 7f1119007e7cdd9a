#!/bin/sh
# GPU homes from NVML on a two-GPU, two-node host. Needs a GPU on each node:
#   tests/vm/run.sh --flavour generic --gpu-node 0 --gpu-node 1 tests/vm/gpu/75-gpu-nvml.sh
# and the stand-in libnvidia-ml.so.1 (tests/nvml-stub) in the image, which
# run.sh puts in /usr/local/bin; the daemon finds it there through
# LD_LIBRARY_PATH, and answers from the file NVML_STUB_CONFIG names.
#
# Two "ranks" (gpu-worker) each hold both GPUs' device nodes open, as every
# CUDA process does, start on the CPUs of the node that is not their GPU's,
# and fork a worker (a DataLoader) that inherits the open nodes. NVML lists
# each rank on its own GPU and with 0 bytes on the other: each rank and its
# worker must run >= 90 % of the time on its GPU's node. Two more ranks
# (mem-worker) first-touch 64 MB on the node that is not their GPU's: at
# least 90 % of each one's pages must end on its GPU's node. Then NVML turns
# hostile (hangs, then answers garbage): the control socket answers within
# 1 s, the source is reported off, nothing is placed on a wrong node, and
# the daemon keeps running.
. /vm/lib.sh

ctl=$SCXVM_CTL
nodes=${scxvm_gpu_nodes:-}
case "$nodes" in
*,*) ;;
*) info "gpu_nodes=${nodes:-none}"; check two-gpus-given false; exit 1 ;;
esac
check nvml-stub-in-image test -f /usr/local/bin/libnvidia-ml.so.1

# The render node and PCI address of the GPU on node N.
gpu_of_node() {
	for r in /sys/class/drm/renderD*; do
		d=$(readlink -f "$r/device")
		[ "$(cat "$d/numa_node" 2>/dev/null)" = "$1" ] && echo "/dev/dri/${r##*/} ${d##*/}" && return 0
	done
	return 1
}
set -- $(gpu_of_node 0)
dev0=$1 pci0=$2
set -- $(gpu_of_node 1)
dev1=$1 pci1=$2
info "gpu_node0=$dev0,$pci0" "gpu_node1=$dev1,$pci1"
check two-gpus-on-two-nodes test -n "$pci0" -a -n "$pci1"
# NVML writes an 8-digit domain, in upper case.
nvbus() { echo "0000$1" | tr a-f A-F; }

cfg=/tmp/nvml.cfg
export LD_LIBRARY_PATH=/usr/local/bin NVML_STUB_CONFIG=$cfg
printf 'mode ok\ngpu %s\ngpu %s\n' "$(nvbus "$pci0")" "$(nvbus "$pci1")" >"$cfg"
start_sched
check_eq attached "$(sched_ops)" ai_numa
"$ctl" topology

# rank OUT NODE_CPUS: a rank holding both GPUs open, forking a worker, started on NODE_CPUS.
rank() {
	taskset -c "$2" gpu-worker --seconds 5 --threads 1 --open "$dev0" --open "$dev1" --fork >"$1" 2>&1 &
	wait_for 20 sh -c "[ \$(grep -c '^ready' '$1') -ge 2 ]" || { cat "$1"; return 1; }
}
pids() { sed -n 's/^ready pid=\([0-9]*\).*/\1/p' "$1"; }
cpus0=$(cat /sys/devices/system/node/node0/cpulist)
cpus1=$(cat /sys/devices/system/node/node1/cpulist)
# Each rank starts on the other GPU's node.
rank /tmp/r0.out "$cpus1" || dump_daemon_log
rank /tmp/r1.out "$cpus0" || dump_daemon_log
set -- $(pids /tmp/r0.out)
r0=$1 w0=$2
set -- $(pids /tmp/r1.out)
r1=$1 w1=$2
# The rank is the parent: the worker's ppid names it.
ppid_of() { awk '{ print $4 }' "/proc/$1/stat"; }
[ "$(ppid_of "$r0")" = "$w0" ] && { t=$r0; r0=$w0; w0=$t; }
[ "$(ppid_of "$r1")" = "$w1" ] && { t=$r1; r1=$w1; w1=$t; }
info "rank0=$r0 worker0=$w0 rank1=$r1 worker1=$w1"
printf 'mode ok\ngpu %s\ngpu %s\nproc 0 %s 1073741824\nproc 1 %s 0\nproc 1 %s 1073741824\nproc 0 %s 0\n' \
	"$(nvbus "$pci0")" "$(nvbus "$pci1")" "$r0" "$r0" "$r1" "$r1" >"$cfg"

placed() {
	"$ctl" --json pins | jq -e --argjson p "$1" --argjson n "$2" --arg s "$3" \
		'.gpu_processes | any(.pid == $p and .node == $n and .source == $s and .left_alone == null)' >/dev/null
}
wait_for 15 placed "$w1" 1 nvml
"$ctl" pins
"$ctl" status
check rank0-placed-by-nvml placed "$r0" 0 nvml
check rank1-placed-by-nvml placed "$r1" 1 nvml
check worker0-shares-rank0 sh -c "$ctl --json pins | jq -e '.gpu_processes | any(.pid == $w0 and .node == 0 and .via == $r0)'"
check worker1-shares-rank1 sh -c "$ctl --json pins | jq -e '.gpu_processes | any(.pid == $w1 and .node == 1 and .via == $r1)'"
check nvml-on sh -c "$ctl --json status | jq -e '.placement.nvml | startswith(\"on\")'"

# One job at a time has its GPU's node to itself (the other is stopped), as
# in 70-gpu.sh: both nodes full with crossed homes is the policy's business.
share() { sed -n "s/^total .* pct_node$2=\([0-9]*\).* pid=$3\$/\1/p" "$1"; }
measure_pair() {
	kill -STOP "$4" "$5"
	# Placed while the other job filled its node: now it has room, it goes home within a slice or two.
	sleep 1
	kill -USR1 "$2" "$3"
	# No polling while it measures: a poll is a process that would push the pair aside.
	sleep 6
	wait_for 30 sh -c "[ \$(grep -c '^total' '$1') -ge 2 ]"
	kill -CONT "$4" "$5"
	cat "$1"
}
measure_pair /tmp/r0.out "$r0" "$w0" "$r1" "$w1"
measure_pair /tmp/r1.out "$r1" "$w1" "$r0" "$w0"
for x in "r0 $r0 0 /tmp/r0.out" "w0 $w0 0 /tmp/r0.out" "r1 $r1 1 /tmp/r1.out" "w1 $w1 1 /tmp/r1.out"; do
	set -- $x
	s=$(share "$4" "$3" "$2")
	info "${1}_pct_on_gpu_node=$s"
	check_ge "$1-runs-on-its-gpu-node" "${s:-0}" 90
done

# Memory follows the GPU home: ranks whose memory was first touched on the other GPU's node.
mem-worker --mb 64 --touch-node 1 --seconds 90 >/tmp/m0.out 2>&1 &
m0=$!
mem-worker --mb 64 --touch-node 0 --seconds 90 >/tmp/m1.out 2>&1 &
m1=$!
wait_for 30 mem_at_least /tmp/m0.out 1 90
wait_for 30 mem_at_least /tmp/m1.out 0 90
info "mem_rank0=$m0 mem_rank1=$m1"
check mem-rank0-starts-on-the-wrong-node mem_at_least /tmp/m0.out 1 90
check mem-rank1-starts-on-the-wrong-node mem_at_least /tmp/m1.out 0 90
printf 'mode ok\ngpu %s\ngpu %s\nproc 0 %s 1073741824\nproc 1 %s 0\nproc 1 %s 1073741824\nproc 0 %s 0\n' \
	"$(nvbus "$pci0")" "$(nvbus "$pci1")" "$m0" "$m0" "$m1" "$m1" >"$cfg"
wait_for 15 placed "$m1" 1 nvml
check mem-rank0-placed-by-nvml placed "$m0" 0 nvml
check mem-rank1-placed-by-nvml placed "$m1" 1 nvml
for x in "0 /tmp/m0.out" "1 /tmp/m1.out"; do
	set -- $x
	wait_for 30 mem_at_least "$2" "$1" 90
	info "mem_rank${1}_pct_on_gpu_node=$(mem_pct "$2" "$1")"
	check_ge "mem-rank$1-memory-on-its-gpu-node" "$(mem_pct "$2" "$1")" 90
done
kill "$m0" "$m1" 2>/dev/null
wait "$m0" "$m1" 2>/dev/null

# Hostile NVML. Ranks that hold both GPUs open for a while yet.
rank /tmp/h0.out "$cpus1" || dump_daemon_log
set -- $(pids /tmp/h0.out)
h0=$1 hw0=$2
[ "$(ppid_of "$h0")" = "$hw0" ] && { t=$h0; h0=$hw0; hw0=$t; }
printf 'mode ok\ngpu %s\ngpu %s\nproc 0 %s 1073741824\nproc 1 %s 0\n' "$(nvbus "$pci0")" "$(nvbus "$pci1")" \
	"$h0" "$h0" >"$cfg"
wait_for 15 placed "$h0" 0 nvml
check hostile-rank-placed placed "$h0" 0 nvml
times='' base=0
for i in 1 2 3 4; do
	t0=$(now_ms)
	"$ctl" status >/dev/null
	t=$(($(now_ms) - t0))
	times="$times $t"
	[ "$t" -gt "$base" ] && base=$t
	sleep 0.5
done
info "ctl_ms_before_the_hang=$times"
sed -i 's/^mode ok/mode hang/' "$cfg"
# The control socket answers while NVML hangs as fast as before it (each
# call's time printed; a call is a whole scx-ai-numactl run under TCG, whose
# time follows the host's load): none slower than 1 s beyond the slowest
# before the hang, which was under 1 s on a quiet host.
slow=0 times=''
for i in 1 2 3 4 5 6 7 8; do
	t0=$(now_ms)
	"$ctl" status >/dev/null || slow=$((slow + 100))
	t1=$(now_ms)
	times="$times $((t1 - t0))"
	[ $((t1 - t0)) -lt $((base + 1000)) ] || slow=$((slow + 1))
	sleep 0.5
done
info "ctl_ms_while_nvml_hangs=$times"
check_eq ctl-answers-within-1s-while-nvml-hangs "$slow" 0
# Between the retries the status says "starting": the hang must be reported, not stay reported.
check nvml-hang-reported wait_for 15 sh -c "$ctl --json status | jq -e '.placement.nvml | contains(\"hung\")'"
"$ctl" status
check nvml-hang-logged-once sh -c "[ \$(grep -c 'nvml: a request got no answer' '$SCXVM_DAEMON_LOG') -eq 1 ]"
# Without NVML both nodes' GPUs are open evenly: left to the policy, never on the wrong node.
wait_for 10 sh -c "! $ctl --json pins | jq -e '.gpu_processes | any(.pid == $h0 and .source == \"nvml\")'"
"$ctl" pins
check nothing-placed-wrongly sh -c "! $ctl --json pins | jq -e '.gpu_processes | any(.pid == $h0 and .node == 1)'"
check daemon-alive-after-hang daemon_alive
check no-hung-helper-left sh -c "[ \$(grep -lx scx-nvml-helper /proc/[0-9]*/comm 2>/dev/null | wc -l) -le 1 ]"

sed -i 's/^mode hang/mode garbage/' "$cfg"
# The source retries (10 s after the hang, 20 s after a second one), then answers garbage counts.
wait_for 45 grep -q 'nvml: .*GPUs could not be read' "$SCXVM_DAEMON_LOG"
"$ctl" pins
check garbage-places-nothing sh -c "! $ctl --json pins | jq -e '.gpu_processes | any(.source == \"nvml\")'"
check garbage-logged grep -q 'nvml: .*GPUs could not be read' "$SCXVM_DAEMON_LOG"
check daemon-alive-after-garbage daemon_alive
kill "$h0" "$hw0" 2>/dev/null
grep 'nvml' "$SCXVM_DAEMON_LOG"
stop_daemon TERM
check_eq clean-exit "$DAEMON_RC" 0
