#!/bin/sh
# Machine shapes beyond 2 nodes x 2 CPUs, one boot each (scripts/test.sh):
#   tests/vm/run.sh --nodes 2 --cpus-per-node 4 --sockets-per-node 2 --mem-node tests/vm/shapes/15-shapes.sh
#   tests/vm/run.sh --nodes 8 --cpus-per-node 1 tests/vm/shapes/15-shapes.sh
# On any shape: the scheduler attaches on the nodes with CPUs; the topology
# it reports has, for each CPU, the LLC sysfs names (cut to the node) and
# a memory-only node served by a node with CPUs; hackbench and stress-ng
# complete with every stress-ng worker running, with migrations across LLCs
# counted apart from those across nodes; a CPU going offline and
# online, and a whole LLC going offline under load, leave it attached.
. /vm/lib.sh

ctl=$SCXVM_CTL
nodes=${scxvm_nodes:-2}
mem_nodes=${scxvm_mem_nodes:-0}
ncpus=${scxvm_cpus:-4}
last=$((ncpus - 1))

start_sched
check_eq attached "$(sched_ops)" ai_numa
check attach-counts-cpu-nodes grep -q "attached: scheduling on $nodes nodes" "$SCXVM_DAEMON_LOG"

topo=$("$ctl" --json topology)
check_eq all-nodes-listed "$(printf '%s' "$topo" | jq '.nodes | length')" "$((nodes + mem_nodes))"

# Each CPU's LLC in the reply is the CPUs of its sysfs L3 that share its node
# (QEMU: one L3 per socket). Without an L3 in sysfs, the node is one LLC.
llc_ok=1 nr_l3=0
for c in $(seq 0 "$last"); do
	node=$(printf '%s' "$topo" | jq -r ".nodes[] | select(.cpus | index($c)) | .id")
	f=/sys/devices/system/cpu/cpu$c/cache/index3/shared_cpu_list
	if [ -r "$f" ]; then
		nr_l3=$((nr_l3 + 1))
		want=""
		for d in $(list_ids "$(cat "$f")"); do
			printf '%s' "$topo" | jq -e ".nodes[] | select(.id == $node) | .cpus | index($d)" >/dev/null &&
				want="$want$d "
		done
	else
		want=$(printf '%s' "$topo" | jq -r ".nodes[] | select(.id == $node) | .cpus | map(tostring) | join(\" \")")" "
	fi
	got=$(printf '%s' "$topo" | jq -r ".nodes[] | select(.id == $node) | .llcs[] | select(.cpus | index($c)) | .cpus | map(tostring) | join(\" \")")" "
	[ "$got" = "$want" ] || { info "cpu$c: llc '$got', sysfs says '$want'"; llc_ok=0; }
done
info "cpus_with_l3=$nr_l3"
# Several sockets per node exist to give a node several L3s: they must show.
[ "${scxvm_sockets_per_node:-1}" -gt 1 ] && check_eq every-cpu-has-an-l3 "$nr_l3" "$ncpus"
check_eq each-cpu-has-its-sysfs-llc "$llc_ok" 1
want_llcs=$nodes
[ "$nr_l3" -gt 0 ] && want_llcs=$((nodes * ${scxvm_sockets_per_node:-1}))
check_eq llc-count "$(printf '%s' "$topo" | jq '[.nodes[].llcs[]] | length')" "$want_llcs"
"$ctl" topology | sed 's/^/  topology| /'
check topology-table-shows-llcs sh -c "$ctl topology | grep -q '^node 0 LLCs: '"

if [ "$mem_nodes" = 1 ]; then
	m=$(printf '%s' "$topo" | jq -c '.nodes[] | select(.cpus | length == 0)')
	info "memory_only=$m"
	check_ge memory-only-node-has-memory "$(printf '%s' "$m" | jq -r '.memory_kb')" 1
	check_eq memory-only-node-no-llc "$(printf '%s' "$m" | jq -r '.llcs | length')" 0
	home=$(printf '%s' "$m" | jq -r '.cpu_home')
	check memory-only-served-by-a-cpu-node sh -c \
		"printf '%s' '$topo' | jq -e '.nodes[] | select(.id == $home) | .cpus | length > 0' >/dev/null"
	check topology-table-says-memory-only sh -c "$ctl topology | grep -q 'memory only, its tasks run on node $home'"
fi

# Every worker runs: each of 2 per CPU reports bogo ops.
stress-ng --cpu "$((2 * ncpus))" --timeout 6s --metrics-brief >/tmp/stress.out 2>&1 &
spid=$!
check hackbench timeout 120 hackbench --groups 2 --fds 4 --loops 50
wait "$spid"
check_eq stress-ng-exit "$?" 0
check stress-ng-all-workers-ran grep -Eq "cpu +[1-9][0-9]* " /tmp/stress.out
check_eq still-attached "$(sched_ops)" ai_numa

# Migrations across LLCs of a node are counted apart from those across nodes;
# a CPU pulling from another LLC's queue of its node is a dispatch of the node.
s=$(stats_json)
info "migrate_in=$(stat_total migrate_in "$s")" "migrate_llc=$(stat_total migrate_llc "$s")" \
	"llc_pull=$(stat_total llc_pull "$s")" "node_dispatch=$(stat_total node_dispatch "$s")"
check_ge migrate-llc-counted "$(stat_total migrate_llc "$s")" 0
check_le llc-pulls-are-node-dispatches "$(stat_total llc_pull "$s")" "$(stat_total node_dispatch "$s")"

# Hotplug in place: one CPU, then under load the whole LLC of the last CPU.
cpu_offline "$last"
sleep 1
cpu_online "$last"
sleep 1
check_eq hotplug-one-cpu-no-reattach "$(attach_count)" 1
llc=$(printf '%s' "$topo" | jq -r ".nodes[].llcs[] | select(.cpus | index($last)) | .cpus | map(tostring) | join(\" \")")
info "offlining_llc=$llc"
stress-ng --cpu "$ncpus" --timeout 8s >/dev/null 2>&1 &
spid=$!
for c in $llc; do [ "$c" = 0 ] || cpu_offline "$c"; done
check hackbench-llc-offline timeout 120 hackbench --groups 2 --fds 4 --loops 30
for c in $llc; do cpu_online "$c" 2>/dev/null; done
wait "$spid"
check_eq llc-offline-stress-exit "$?" 0
check_eq llc-back-no-reattach "$(attach_count)" 1
check_eq llc-back-attached "$(sched_ops)" ai_numa
