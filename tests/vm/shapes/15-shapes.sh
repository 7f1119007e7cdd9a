#!/bin/sh
# Machine shapes beyond 2 nodes x 2 CPUs, one boot each (scripts/test.sh):
#   tests/vm/run.sh --nodes 2 --cpus-per-node 4 --sockets-per-node 2 --mem-node-at 1 tests/vm/shapes/*.sh
#   tests/vm/run.sh --nodes 8 --cpus-per-node 1 tests/vm/shapes/*.sh
# The first has nodes 0 and 2 with CPUs and node 1 memory only between them:
# CPU-node ids with a hole, as on hosts whose firmware numbers them so.
# On any shape: the scheduler attaches on the nodes with CPUs; the topology
# it reports names each CPU's node by the kernel's id, has for each CPU the
# LLC sysfs names (cut to the node), and a memory-only node served by its
# nearest node with CPUs (SLIT, lower id on a tie); the stats name the
# kernel's CPU nodes; hackbench and stress-ng complete with every stress-ng
# worker running and every CPU busy, with migrations across LLCs counted
# apart from those across nodes; a task whose memory is on the memory-only
# node gets that nearest node as home and runs there, its memory staying;
# a CPU going offline and online, and a whole LLC going offline under load,
# leave it attached; with per-node queues (--node-queues) on a shape of
# several L3s per node, runs that change L3 are still counted.
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
# Node ids are the kernel's, holes and all: per CPU its sysfs node link, and
# the nodes with CPUs are has_cpu (every CPU is online here).
cpu_nodes=$(list_ids "$(cat /sys/devices/system/node/has_cpu)")
info "cpu_nodes=$cpu_nodes"
check_eq cpu-node-ids "$(printf '%s' "$topo" | jq -r '[.nodes[] | select(.cpus | length > 0) | .id | tostring] | join(" ")') " \
	"$cpu_nodes"
ids_ok=1
for c in $(seq 0 "$last"); do
	want=$(basename "/sys/devices/system/cpu/cpu$c"/node* | sed 's/^node//')
	got=$(printf '%s' "$topo" | jq -r ".nodes[] | select(.cpus | index($c)) | .id")
	[ "$got" = "$want" ] || { info "cpu$c: node '$got', sysfs says '$want'"; ids_ok=0; }
done
check_eq each-cpu-in-its-kernel-node "$ids_ok" 1
check_eq stats-name-kernel-nodes "$(stats_json | jq -r '[.nodes[].node | tostring] | join(" ")') " "$cpu_nodes"

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
	mid=$(printf '%s' "$m" | jq -r '.id')
	# The nearest node with CPUs by the kernel's SLIT row, the lower id on a tie.
	dist=$(cat "/sys/devices/system/node/node$mid/distance")
	near='' best=''
	i=0
	for id in $(list_ids "$(cat /sys/devices/system/node/online)"); do
		i=$((i + 1))
		case " $cpu_nodes" in *" $id "*) ;; *) continue ;; esac
		d=$(echo "$dist" | awk -v i="$i" '{ print $i }')
		if [ -z "$best" ] || [ "$d" -lt "$best" ]; then best=$d near=$id; fi
	done
	info "memory_only_node=$mid distances='$dist' nearest_cpu_node=$near"
	check_eq memory-only-served-by-nearest-cpu-node "$home" "$near"
	check topology-table-says-memory-only sh -c "$ctl topology | grep -q 'node $mid: memory only, its tasks run on node $near\$'"
fi

# Every worker runs: each of 2 per CPU reports bogo ops.
stress-ng --cpu "$((2 * ncpus))" --timeout 6s --metrics-brief >/tmp/stress.out 2>&1 &
spid=$!
check hackbench timeout 120 hackbench --groups 2 --fds 4 --loops 50
wait "$spid"
check_eq stress-ng-exit "$?" 0
check stress-ng-all-workers-ran grep -Eq "cpu +[1-9][0-9]* " /tmp/stress.out
# Every CPU, of whichever node, is busy at least half the time under two
# hogs per CPU.
spawn_hogs_on_node "${cpu_nodes%% *}" "$((2 * ncpus))"
sleep 1
min_busy=$(busy_pct_min 3 $(seq 0 "$last"))
kill_hogs
info "least_busy_cpu_pct=$min_busy"
check_ge every-cpu-busy "$min_busy" 50
check_eq still-attached "$(sched_ops)" ai_numa

# Migrations across LLCs of a node are counted apart from those across nodes;
# a CPU pulling from another LLC's queue of its node is a dispatch of the node.
s=$(stats_json)
info "migrate_in=$(stat_total migrate_in "$s")" "migrate_llc=$(stat_total migrate_llc "$s")" \
	"llc_pull=$(stat_total llc_pull "$s")" "node_dispatch=$(stat_total node_dispatch "$s")"
llc_moves=$(stat_total migrate_llc "$s")
check_ge migrate-llc-counted "$llc_moves" 0
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

# A task whose memory is on the memory-only node: its threads started on
# the first CPU node (their home there), its 64 MB put on the memory-only
# node, then free to run anywhere. The daemon gives it the memory's nearest
# CPU node as home (not the lowest id, not the dense index: run.sh makes
# the next node the nearest), it runs there, and the memory stays put.
if [ "$mem_nodes" = 1 ]; then
	mem-worker --mb 64 --touch-node "$mid" --start-node "${cpu_nodes%% *}" --seconds 60 >/tmp/m.out 2>&1 &
	wpid=$!
	wait_for 30 grep -q '^t=' /tmp/m.out || sed 's/^/  m| /' /tmp/m.out
	check_ge memory-put-on-memory-only-node "$(mem_pct /tmp/m.out "$mid")" 95
	# Its memory stays, so it is no migration target: the daemon's log tells.
	memory_home() { grep -q "process $wpid has most of its memory on node $near:" "$SCXVM_DAEMON_LOG"; }
	wait_for 30 memory_home
	check memory-only-task-home-is-nearest-cpu-node memory_home || grep memfollow "$SCXVM_DAEMON_LOG" | sed 's/^/  daemon| /'
	# Its threads run on that node's CPUs (sampled: a steal may take one away for a moment).
	near_cpus=" $(list_ids "$(cat "/sys/devices/system/node/node$near/cpulist")") "
	threads_home() {
		[ -d "/proc/$wpid/task" ] || return 1
		for _t in /proc/"$wpid"/task/*/stat; do
			_c=$(awk '{ sub(/.*\) /, ""); print $37 }' "$_t")
			case "$near_cpus" in *" ${_c:-none} "*) ;; *) return 1 ;; esac
		done
	}
	wait_for 15 threads_home
	on=0
	for _i in $(seq 20); do
		threads_home && on=$((on + 1))
		sleep 0.2
	done
	info "threads_on_node${near}_samples=$on of 20"
	check_ge memory-only-task-runs-on-its-home "$on" 15
	check_ge memory-stayed-on-memory-only-node "$(mem_pct /tmp/m.out "$mid")" 95 || tail -n 5 /tmp/m.out | sed 's/^/  m| /'
	kill "$wpid" 2>/dev/null
	wait "$wpid" 2>/dev/null
fi

# Per-node queues take the LLCs from the queues, not from the count: the
# same load as above, one queue per node, and runs that changed L3 within a
# node are counted (what per-LLC queues are compared with), none pulled
# from another LLC's queue (there is none).
if [ "$nr_l3" -gt 0 ] && [ "${scxvm_sockets_per_node:-1}" -gt 1 ]; then
	stop_daemon TERM
	start_sched --node-queues
	check node-queues-one-per-node grep -q "attached: scheduling on $nodes nodes ($nodes LLC queues)" "$SCXVM_DAEMON_LOG"
	stress-ng --cpu "$((2 * ncpus))" --timeout 6s >/dev/null 2>&1 &
	spid=$!
	check node-queues-hackbench timeout 120 hackbench --groups 2 --fds 4 --loops 50
	wait "$spid"
	s=$(stats_json)
	info "per_llc_queues_migrate_llc=$llc_moves" "node_queues_migrate_llc=$(stat_total migrate_llc "$s")" \
		"node_queues_migrate_in=$(stat_total migrate_in "$s")"
	check_ge node-queues-migrate-llc-counted "$(stat_total migrate_llc "$s")" 1
	check_eq node-queues-no-llc-pull "$(stat_total llc_pull "$s")" 0
	check_eq node-queues-still-attached "$(sched_ops)" ai_numa
fi
