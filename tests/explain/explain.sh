#!/bin/bash
# scx_ai_numad --explain end to end on a fake host: two NVIDIA GPUs on two
# nodes, two ranks holding both open (as CUDA processes do) and a forked
# worker, with the stand-in NVML listing each rank on its own GPU. Proves
# the dry run needs no sched_ext, places each rank by NVML and the worker
# with its rank, falls back to the policy without NVML, and finishes when
# NVML hangs, saying so. TAP.
#
#   explain.sh DAEMON NVML-STUB
set -u
daemon=${1:?usage: explain.sh DAEMON NVML-STUB}
stub_dir=$(dirname "${2:?usage: explain.sh DAEMON NVML-STUB}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
n=0 failed=0
check() {
	local what=$1
	shift
	n=$((n + 1))
	if "$@"; then echo "ok $n - $what"; else failed=$((failed + 1)); echo "not ok $n - $what"; fi
}
w() { mkdir -p "$(dirname "$root/$1")"; printf '%b' "$2" >"$root/$1"; }

# Topology: CPUs 0-1 on node 0, 2-3 on node 1.
w sys/devices/system/cpu/possible '0-3\n'
w sys/devices/system/cpu/online '0-3\n'
w sys/devices/system/node/online '0-1\n'
for node in 0 1; do
	w sys/devices/system/node/node$node/cpulist "$((2 * node))-$((2 * node + 1))\n"
	w sys/devices/system/node/node$node/distance "$([ $node = 0 ] && echo '10 20' || echo '20 10')\n"
	for cpu in $((2 * node)) $((2 * node + 1)); do
		mkdir -p "$root/sys/devices/system/cpu/cpu$cpu"
		ln -s "../../cpu/cpu$cpu" "$root/sys/devices/system/node/node$node/cpu$cpu"
	done
done
# Two GPUs, one per node, with the NVIDIA driver's information files.
for i in 0 1; do
	pci=0000:$([ $i = 0 ] && echo 21 || echo c1):00.0
	d=sys/bus/pci/devices/$pci
	w $d/class '0x030200\n'
	w $d/vendor '0x10de\n'
	w $d/device '0x2330\n'
	w $d/numa_node "$i\n"
	w proc/driver/nvidia/gpus/$pci/information \
		"Model: \t\t NVIDIA H100\nGPU UUID: \t GPU-0000000$i-1111-2222-3333-444444444444\nDevice Minor: \t $i\n"
done
# proc PID PPID COMM CHILDREN: a process holding both GPUs open.
proc() {
	w proc/$1/stat "$1 ($3) S $2 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 $((1000 + $1)) 0 0\n"
	w proc/$1/status "Name:\t$3\nTgid:\t$1\nPid:\t$1\n"
	w proc/$1/comm "$3\n"
	w proc/$1/cgroup "0::/train.slice\n"
	w proc/$1/environ ''
	w proc/$1/task/$1/children "$4"
	mkdir -p "$root/proc/$1/fd"
	ln -s /dev/nvidia0 "$root/proc/$1/fd/7"
	ln -s /dev/nvidia1 "$root/proc/$1/fd/8"
	ln -s /dev/nvidiactl "$root/proc/$1/fd/9"
}
proc 4100 1 rank0 '4101 '
proc 4101 4100 pt_data_worker ''
proc 4200 1 rank1 ''
cfg=$tmp/nvml.cfg
printf 'mode ok\ngpu 00000000:21:00.0\ngpu 00000000:C1:00.0\nproc 0 4100 1073741824\nproc 1 4100 0\nproc 1 4200 1073741824\nproc 0 4200 0\n' >"$cfg"
: >"$tmp/empty.conf"

explain() { "$daemon" --explain --config "$tmp/empty.conf" --sysfs-root "$root" "$@"; }
row() { grep -E "^ +$1 " "$2"; }

LD_LIBRARY_PATH=$stub_dir NVML_STUB_CONFIG=$cfg explain >"$tmp/out" 2>"$tmp/err"
check "--explain runs without sched_ext and exits 0" test $? -eq 0
check "it lists both GPUs with their nodes" grep -q "0000:c1:00.0  NVIDIA \[10de:2330\]  node 1" "$tmp/out"
check "the NVML source is on" grep -q "nvml on, 2 GPUs" "$tmp/out"
check "rank 0 (both GPUs open, NVML on GPU 0) would run on node 0, by nvml" \
	grep -qE "^ +4100 +rank0 +0 +nvml +- +would run on node 0" "$tmp/out"
check "rank 1 would run on node 1, by nvml" grep -qE "^ +4200 +rank1 +1 +nvml +- +would run on node 1" "$tmp/out"
check "rank 0's worker would share its node (scope tree)" \
	grep -qE "^ +4101 +pt_data_worker +0 +nvml +4100 +would share node 0 with GPU process 4100 \(scope tree\)" "$tmp/out"
check "nothing was loaded" grep -q "nothing was loaded or changed" "$tmp/out"

printf 'gpu_scope = process\n' >"$tmp/process.conf"
LD_LIBRARY_PATH=$stub_dir NVML_STUB_CONFIG=$cfg "$daemon" --explain --config "$tmp/process.conf" \
	--sysfs-root "$root" >"$tmp/out2" 2>&1
check "gpu_scope = process in the configuration: the worker is not placed" \
	bash -c "grep -q 'scope: process' '$tmp/out2' && ! grep -qE '^ +4101 ' '$tmp/out2'"

LD_LIBRARY_PATH=$tmp/none explain >"$tmp/out3" 2>&1
check "without NVML each rank holds GPUs on two nodes evenly: left to the policy" \
	grep -qE "^ +4100 +rank0 +- +fd +- +left to the policy: it uses GPUs on several nodes evenly" "$tmp/out3"
check "without NVML the status says why it is off" grep -q "nvml off: libnvidia-ml.so.1 not loadable" "$tmp/out3"

sed -i 's/^mode ok/mode hang/' "$cfg"
start=$(date +%s)
LD_LIBRARY_PATH=$stub_dir NVML_STUB_CONFIG=$cfg timeout 20 "$daemon" --explain --config "$tmp/empty.conf" \
	--sysfs-root "$root" >"$tmp/out4" 2>&1
rc=$? took=$(($(date +%s) - start))
check "a hanging NVML: --explain still finishes (rc $rc, ${took}s)" test $rc -eq 0 -a $took -le 10
check "and says the source hung" grep -q "nvml off: a request got no answer within 2000 ms (hung)" "$tmp/out4"
check "and places nothing by nvml" bash -c "! grep -qE '^ +[0-9]+ .* nvml ' '$tmp/out4'"

echo "1..$n"
[ "$failed" = 0 ]
