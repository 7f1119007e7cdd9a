#!/bin/sh
# Memory follows the task. Under sched_ext the kernel's NUMA balancing does
# not run for our tasks, so without the daemon a page never moves. Each case
# first-touches 64 MB on node 0 (mem-worker), then gives the process a home
# on node 1 from outside and watches where its pages go:
#   (a) the process confines itself to node 1's CPUs (affinity);
#   (b) it is pinned with `scx-ai-numactl pin PID 1`;
#   (c) its cgroup is pinned with `pin --cgroup`.
# Each must have >= 90 % of its pages on node 1 within 20 s at the default
# rate. Then: memory already home moves nothing; migration off moves
# nothing; the rate holds within 10 %; a shared anonymous mapping and a
# shared file mapping stay; a process killed mid-migration, a zombie and a
# kernel thread break nothing.
. /vm/lib.sh

ctl=$SCXVM_CTL
[ "$(nr_nodes)" -ge 2 ] || { info "needs 2 nodes"; check_eq two-nodes "$(nr_nodes)" 2; exit 0; }
node1_cpus=$(cat /sys/devices/system/node/node1/cpulist)

start_sched || exit 1
check migration-active sh -c "$ctl --json status | jq -e '.migration.state == \"active\"'"

# worker OUT ARGS...: start mem-worker; WPID once its memory is touched.
worker() {
	_out=$1
	shift
	mem-worker "$@" >"$_out" 2>&1 &
	WPID=$!
	wait_for 30 grep -q '^ready' "$_out" || { cat "$_out"; return 1; }
}

# followed NAME OUT: within 20 s, >= 90 % of the pages on node 1.
followed() {
	_t0=$(now_ms)
	wait_for 20 mem_at_least "$2" 1 90
	info "$1_ms=$(($(now_ms) - _t0)) $1_pct_node1=$(mem_pct "$2" 1)"
	check_ge "$1-memory-followed" "$(mem_pct "$2" 1)" 90
}

finish() {
	kill "$WPID" 2>/dev/null
	wait "$WPID" 2>/dev/null
}

moved_total() { $ctl --json stats | jq -r '.migration.moved_pages_total'; }

# (a) affinity confined to node 1
worker /tmp/a.out --mb 64 --touch-node 0 --bind-node 1 --seconds 40
followed affinity /tmp/a.out
check affinity-listed sh -c "$ctl --json pins | jq -e '.migration[] | select(.pid == $WPID and .source == \"affinity\" and .node == 1)'"
tail -n 3 /tmp/a.out | sed 's/^/  a| /'
finish

# (b) pinned with the ctl; its threads may run anywhere
worker /tmp/b.out --mb 64 --touch-node 0 --seconds 40
sleep 2
check_eq not-moved-before-pin "$(mem_pct /tmp/b.out 1)" 0
check pin-b "$ctl" pin "$WPID" 1
followed pin /tmp/b.out
# The daemon samples a process's pages again after a pass, within seconds.
local_pct() { $ctl --json pins | jq -e --argjson p "$1" '.migration[] | select(.pid == $p) | .memory_locality_pct >= 90'; }
wait_for 10 local_pct "$WPID"
$ctl --json pins | jq -c --argjson p "$WPID" '.migration[] | select(.pid == $p)' | sed 's/^/  pins| /'
check pins-show-locality local_pct "$WPID"
"$ctl" unpin "$WPID" >/dev/null
finish

# (c) its cgroup pinned
mkdir -p /sys/fs/cgroup
mountpoint -q /sys/fs/cgroup || mount -t cgroup2 none /sys/fs/cgroup
mkdir -p /sys/fs/cgroup/memtest
worker /tmp/c.out --mb 64 --touch-node 0 --seconds 40
echo "$WPID" >/sys/fs/cgroup/memtest/cgroup.procs
check pin-cgroup "$ctl" pin --cgroup /memtest 1
followed cgroup /tmp/c.out
"$ctl" unpin --cgroup /memtest >/dev/null
finish

# Home follows memory: threads that first ran on node 1 (their home there)
# while their 64 MB sit on node 0, with no home given from outside, get
# node 0 as their home: they move to their memory, the memory stays.
# The threads start on node 1 and are let go at once (--start-node): a
# worker held there by taskset while it first-touches its memory is one
# confined to node 1, whose memory rightly follows that affinity if the
# daemon's /proc pass sees it before the release.
mem-worker --mb 64 --touch-node 0 --start-node 1 --seconds 40 >/tmp/f.out 2>&1 &
WPID=$!
wait_for 30 grep -q '^ready' /tmp/f.out
m0=$(moved_total)
# threads_on NODE: every thread of the worker last ran on NODE.
threads_on() {
	_cpus=" $(list_ids "$(cat "/sys/devices/system/node/node$1/cpulist")") "
	for _t in /proc/"$WPID"/task/*/stat; do
		_c=$(awk '{ sub(/.*\) /, ""); print $37 }' "$_t")
		case "$_cpus" in *" $_c "*) ;; *) return 1 ;; esac
	done
}
memory_home() { $ctl --json pins | jq -e --argjson p "$WPID" '.migration[] | select(.pid == $p and .source == "memory" and .node == 0)'; }
wait_for 30 memory_home
$ctl --json pins | jq -c --argjson p "$WPID" '.migration[] | select(.pid == $p)' | sed 's/^/  pins| /'
check home-followed-memory memory_home
# Where its threads run, sampled: stealing may take one away for a moment.
wait_for 15 threads_on 0
on=0 all=0
for _i in $(seq 20); do
	threads_on 0 && on=$((on + 1))
	all=$((all + 1))
	sleep 0.2
done
info "threads_all_on_node0_samples=$on of $all"
check_ge threads-moved-to-memory "$((on * 100 / all))" 75
m1=$(moved_total)
info "home_follows_memory_moved_pages=$((m1 - m0)) pct_node0=$(mem_pct /tmp/f.out 0)"
check_ge memory-stayed-on-node0 "$(mem_pct /tmp/f.out 0)" 95
finish

# Memory already home: nothing moves.
m0=$(moved_total)
worker /tmp/d.out --mb 32 --touch-node 1 --seconds 20
"$ctl" pin "$WPID" 1 >/dev/null
sleep 8
m1=$(moved_total)
info "home_already_moved_pages=$((m1 - m0))"
check_eq home-already-nothing-moved "$((m1 - m0))" 0
"$ctl" unpin "$WPID" >/dev/null
finish

# Migration off: nothing moves, and status says so.
check rate-off "$ctl" set migrate_mbps 0
check migration-off-visible sh -c "$ctl --json status | jq -e '.migration.state == \"off\"'"
worker /tmp/e.out --mb 32 --touch-node 0 --seconds 20
"$ctl" pin "$WPID" 1 >/dev/null
sleep 8
check_eq off-nothing-moved "$(mem_pct /tmp/e.out 1)" 0
"$ctl" unpin "$WPID" >/dev/null
finish

# The rate: 8 MB/s moves 64 MB in about 8 s; measure the slope between 10 % and 90 %.
check rate-8 "$ctl" set migrate_mbps 8
worker /tmp/r.out --mb 64 --touch-node 0 --seconds 40
"$ctl" pin "$WPID" 1 >/dev/null
wait_for 30 mem_at_least /tmp/r.out 1 10
t10=$(now_ms)
wait_for 30 mem_at_least /tmp/r.out 1 90
t90=$(now_ms)
# 80 % of 64 MB at 8 MB/s: 6.4 s; the worker reports once a second, so allow its granularity.
info "rate_10_to_90_ms=$((t90 - t10)) expected_ms=6400"
check_ge rate-not-faster "$((t90 - t10))" 5200
check_le rate-not-slower "$((t90 - t10))" 7800
"$ctl" unpin "$WPID" >/dev/null
finish
"$ctl" set migrate_mbps 256 >/dev/null

# Memory with other users stays: a shared anonymous mapping (a forked child
# keeps it) and a shared file mapping (page cache).
dd if=/dev/urandom of=/tmp/shared.bin bs=1M count=8 2>/dev/null
worker /tmp/s.out --mb 16 --touch-node 0 --shared-mb 8 --file /tmp/shared.bin --seconds 30
"$ctl" pin "$WPID" 1 >/dev/null
followed shared-case /tmp/s.out
first=$(grep '^t=' /tmp/s.out | head -n 1)
last=$(grep '^t=' /tmp/s.out | tail -n 1)
info "shared_case_first: $first"
info "shared_case_last: $last"
# The shared buffer was touched on node 0 and must still be there; the
# file's page cache is wherever dd left it and must not have moved.
field() { echo "$1" | sed -n "s/.* $2=\([0-9]*\).*/\1/p"; }
check_eq shared-anon-stayed "$(field "$last" shared_node1)" 0
check_eq file-stayed-node0 "$(field "$last" file_node0)" "$(field "$first" file_node0)"
check_eq file-stayed-node1 "$(field "$last" file_node1)" "$(field "$first" file_node1)"
"$ctl" unpin "$WPID" >/dev/null
finish

# Killed mid-migration (slow rate so it is mid-way), a zombie, a kernel thread.
"$ctl" set migrate_mbps 2 >/dev/null
worker /tmp/k.out --mb 64 --touch-node 0 --seconds 30
"$ctl" pin "$WPID" 1 >/dev/null
wait_for 20 mem_at_least /tmp/k.out 1 5
kill -9 "$WPID"
wait "$WPID" 2>/dev/null
sleep 2
check alive-after-kill daemon_alive
check status-after-kill "$ctl" status
# A zombie: a child whose parent does not reap it.
sh -c 'sleep 0.2 & exec sleep 8' &
zparent=$!
sleep 1
zpid=$(awk '$3 == "Z" { print $1 }' /proc/[0-9]*/stat 2>/dev/null | head -n 1)
info "zombie=$zpid"
if [ -n "$zpid" ]; then
	"$ctl" pin "$zpid" 1 >/tmp/z.out 2>&1
	check zombie-pin-refused sh -c "! $ctl --json pins | jq -e '.pins[] | select(.pid == $zpid)'"
fi
kthread=$(awk '/kthreadd/ { print $1 }' /proc/[0-9]*/stat 2>/dev/null | head -n 1)
"$ctl" pin "${kthread:-2}" 1 >/dev/null 2>&1
sleep 3
check alive-after-zombie-and-kthread daemon_alive
check still-enabled sched_is enabled
kill "$zparent" 2>/dev/null
wait "$zparent" 2>/dev/null
"$ctl" unpin "${kthread:-2}" >/dev/null 2>&1
"$ctl" --json stats | jq -c '.migration' | sed 's/^/  migration| /'

# What following memory costs the daemon at steady state with 100
# processes looked after: each confined to node 1 with 2 MB touched on
# node 0; once all of it moved, the daemon's CPU time over 10 s.
"$ctl" set migrate_mbps 256 >/dev/null
pids=
for _i in $(seq 100); do
	mem-worker --mb 2 --touch-node 0 --bind-node 1 --threads 0 --seconds 120 >/dev/null 2>&1 &
	pids="$pids $!"
done
alive() { n=0; for _p in $pids; do [ -d "/proc/$_p" ] && n=$((n + 1)); done; echo "$n"; }
nhome() { $ctl --json pins | jq '[.migration[] | select(.source == "affinity" and .state == "home")] | length'; }
all_home() { [ "$(nhome)" -ge "$(alive)" ]; }
sleep 5
wait_for 120 all_home
info "workers_alive=$(alive) looked_after_home=$(nhome)"
$ctl --json pins | jq -c '[.migration[] | {s: (.source + "/" + .state)}] | group_by(.s) | map({(.[0].s): length}) | add' | sed 's/^/  states| /'
$ctl --json pins | jq -c '.migration[] | select(.state != "home")' | head -n 5 | sed 's/^/  not-home| /'
check hundred-processes-home all_home
check_ge hundred-processes-alive "$(alive)" 95
sleep 5
c0=$(awk '{ s += $1 } END { print s }' /proc/"$DAEMON_PID"/task/*/schedstat)
sleep 10
c1=$(awk '{ s += $1 } END { print s }' /proc/"$DAEMON_PID"/task/*/schedstat)
# Per mille of one CPU: ns over 10 s.
cost=$(((c1 - c0) / 10000000))
info "daemon_cpu_permille_100_processes_steady=$cost"
"$ctl" --json stats | jq -c '.migration' | sed 's/^/  migration| /'
# The target is 1 % of one CPU on real hardware; under TCG every system
# call costs several times more, and a loaded host inflates the guest's CPU
# time, so the VM holds it to 2 %: 0.7 and 1.3 % measured at host load
# 15-17 (the same measurement 40 s later, before the /proc pass stopped
# rereading and rewalking: 1.6 %).
check_le steady-cost-under-2pct "$cost" 20
# shellcheck disable=SC2086
kill $pids 2>/dev/null
for _p in $pids; do wait "$_p" 2>/dev/null; done
stop_daemon
check_eq exit-0 "$DAEMON_RC" 0
