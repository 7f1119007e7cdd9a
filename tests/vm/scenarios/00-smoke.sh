#!/bin/sh
# The harness itself works: the guest has sched_ext (idle), the NUMA layout
# run.sh asked for, the kernel config where libbpf looks for it, and the
# load generators the other scenarios use.
. /vm/lib.sh

# What run.sh configured (kernel command line -> environment); absent when
# the scenario runs elsewhere, then only ">= 1" is asserted.
want_nodes=${scxvm_nodes:-}
want_cpus=${scxvm_cpus:-}

rel=$(uname -r)
state=$(sched_state 2>&1)
nodes=$(nr_nodes)
cpus=$(nr_cpus_online)
info "kernel=$rel" "sched_ext_state=$state" "nodes=$nodes" "cpus=$cpus" \
	"node_list=$(cat /sys/devices/system/node/online)" "want_nodes=${want_nodes:-?}" "want_cpus=${want_cpus:-?}"

check sched-ext-sysfs test -d /sys/kernel/sched_ext
check_eq sched-ext-idle "$state" disabled
check_eq no-scheduler-ops "$(sched_ops)" ""
check_ge numa-nodes "$nodes" "${want_nodes:-1}"
check_le numa-nodes-max "$nodes" "${want_nodes:-$nodes}"
check_eq online-cpus "$cpus" "${want_cpus:-$cpus}"

# Every node got its share of CPUs: the scheduler's per-node queues rely on
# sysfs cpulists that add up to the online set.
sum=0
for n in /sys/devices/system/node/node[0-9]*; do
	c=$(_count_list "$(cat "$n/cpulist")")
	info "${n##*/}_cpus=$c"
	check_ge "${n##*/}-has-cpus" "$c" 1
	sum=$((sum + c))
done
check_eq node-cpus-cover-online "$sum" "$cpus"

check kconfig-present test -s "/boot/config-$rel"
check kconfig-sched-ext grep -qx CONFIG_SCHED_CLASS_EXT=y "/boot/config-$rel"
check bpffs-mounted grep -q ' /sys/fs/bpf bpf ' /proc/mounts
check shm-mounted grep -q ' /dev/shm tmpfs ' /proc/mounts

t0=$(now_ms)
check stress-ng stress-ng --cpu "$cpus" --timeout 3s --metrics-brief
info "stress_ng_ms=$(($(now_ms) - t0))"

t0=$(now_ms)
check hackbench hackbench --groups 2 --fds 4 --loops 50
info "hackbench_ms=$(($(now_ms) - t0))"

# cyclictest prints its per-thread maxima; a run that measured nothing
# would print no "Max:" line.
cyclictest --mlockall --smp --priority 80 --interval 1000 --distance 0 \
	--duration 3 --quiet >/tmp/cyclictest.out 2>&1
rc=$?
sed 's/^/  cyclictest| /' /tmp/cyclictest.out
check_eq cyclictest-exit "$rc" 0
check_ge cyclictest-threads "$(grep -c 'Max:' /tmp/cyclictest.out)" "$cpus"
