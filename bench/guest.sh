#!/bin/sh
# Guest side of the benchmark: a VM scenario (busybox ash) run by
# tests/vm/run.sh on behalf of bench/run.sh. It alternates the kernel's
# default scheduler and scx_ai_numa (plus tunable variants) over the
# workloads, several repetitions each, and prints one result per line:
#
#   @@BENCH {"rep":R,"config":"C","workload":"W","data":{...}}
#
# bench/report.py turns those lines into the table. Parameters come from
# the kernel command line (bench/run.sh sets them):
#   scxbench_reps=N          repetitions per configuration (default 3; run.sh passes 5)
#   scxbench_duration=S      measured seconds of each ai_pipeline run (8)
#   scxbench_warmup=S        ai_pipeline warm-up seconds (2)
#   scxbench_short=S         seconds of the cyclictest and stress-ng runs (5)
#   scxbench_hb_loops=N      hackbench loops (100)
#   scxbench_imbalance=K     loaders multiplier of the overloaded node (4)
#   scxbench_noise=0|1       add the ai_noise workload (hogs + churn)
#   scxbench_variants=LIST   comma-separated tunable variants of scx_ai_numa,
#                            each KEY=VALUE[+KEY=VALUE...], e.g.
#                            steal=off,slice_ns=1ms+steal_min_queued=2
#   scxbench_bpfcost=0|1     measure BPF cost per callback (default 1)
#   scxbench_spawn_local=0|1 ai_pipeline --spawn-local: threads born on their node
#   scxbench_cost=0|1        also run the ai workloads under the NUMA cost
#                            model (ai_pipeline --cost-model), as WORKLOAD_cm
#   scxbench_procs=0|1       also run them with loader processes
#                            (--loader-procs), as WORKLOAD_procs
#   scxbench_firsttouch=0|1  ai_firsttouch: loader processes whose buffers a
#                            thread on node 0 first-touched (default 1)
#   scxbench_migcost=0|1     the daemon's CPU time while it looks after 100
#                            processes whose memory is on the wrong node (1)
. /vm/lib.sh

reps=${scxbench_reps:-3}
dur=${scxbench_duration:-8}
warm=${scxbench_warmup:-2}
short=${scxbench_short:-5}
hb_loops=${scxbench_hb_loops:-100}
imb_k=${scxbench_imbalance:-4}
noise=${scxbench_noise:-0}
variants=${scxbench_variants:-}
bpfcost=${scxbench_bpfcost:-1}
cost=${scxbench_cost:-0}
ai_extra=
[ "${scxbench_spawn_local:-0}" = 1 ] && ai_extra=--spawn-local
# Each ai workload runs plain and, with scxbench_cost=1, again under the cost model.
cost_sets=plain
[ "$cost" = 1 ] && cost_sets="plain cm"
procs_sets=plain
[ "${scxbench_procs:-0}" = 1 ] && procs_sets="plain procs"
firsttouch=${scxbench_firsttouch:-1}
migcost=${scxbench_migcost:-1}
# Comma-separated workloads to run (bench/run.sh --only); empty: all.
only=${scxbench_only:-}
# Memory has to move before it is local: NUMA balancing starts scanning a
# task a second after it runs, the daemon waits migrate_settle_ns (2 s).
ft_warm=$((warm > 5 ? warm : 5))
# ai_firsttouch's loaders are as big as DataLoader workers: the daemon lets
# the home of a process follow its memory only from 32 MB resident up.
ft_ballast=40
# The default scheduler's side of "memory follows the task".
[ -w /proc/sys/kernel/numa_balancing ] && echo 1 >/proc/sys/kernel/numa_balancing

cpus=$(nr_cpus_online)
nodes=$(nr_nodes)
cpn=$((cpus / nodes))
# The overloaded node gets imb_k times the loaders of the others; with one
# loader per CPU elsewhere that node alone would be full, so start from half.
imb_base=$((cpn / 2))
[ "$imb_base" -ge 1 ] || imb_base=1
t_begin=$(now_ms)

emit() { # WORKLOAD CONFIG REP JSON
	printf '@@BENCH {"rep":%s,"config":"%s","workload":"%s","data":%s}\n' "$3" "$2" "$1" "$4"
}

# A variant name goes into JSON and file names: keep it to a safe alphabet.
for v in $(echo "$variants" | tr ',' ' '); do
	case "$v" in
	*[!A-Za-z0-9_=.+-]* | "" | *=) echo "CHECK FAIL: bench/variant-syntax: '$v'"; exit 1 ;;
	esac
done
configs="default scx"
for v in $(echo "$variants" | tr ',' ' '); do
	configs="$configs scx:$v"
done

# Kernel trouble that counts as a stall: the sched_ext watchdog, hung
# tasks, and scheduler exits other than a clean unregistration.
kernel_stalls() {
	_a=$(dmesg | grep -E -c 'runnable task stall|watchdog failed to check in|blocked for more than')
	_b=$(dmesg | grep -E 'sched_ext: BPF scheduler .* disabled \(' |
		grep -E -v -c 'unregistered from (user space|BPF|the main kernel)')
	echo $((_a + _b))
}

start_config() { # CONFIG
	case "$1" in
	default) return 0 ;;
	scx) start_sched ;;
	scx:*)
		: >/tmp/bench-variant.conf
		_flags=""
		for kv in $(echo "${1#scx:}" | tr '+' ' '); do
			# node_queues=on is the daemon's --node-queues, not a tunable.
			case "$kv" in
			node_queues=on) _flags="$_flags --node-queues" ;;
			*) echo "${kv%%=*} = ${kv#*=}" >>/tmp/bench-variant.conf ;;
			esac
		done
		# shellcheck disable=SC2086 # flags are words
		start_sched -c /tmp/bench-variant.conf $_flags
		;;
	esac
}

stop_config() { # CONFIG
	[ "$1" = default ] && return 0
	sched_end
}

# still_attached CONFIG: for scx configs, is our scheduler still the one running?
still_attached() {
	[ "$1" = default ] || sched_enabled_ai_numa
}

# wanted WORKLOAD: is it one the run measures (--only)?
wanted() {
	[ -z "$only" ] && return 0
	case ",$only," in *",$1,"*) return 0 ;; esac
	return 1
}

run_ai() { # CONFIG REP WORKLOAD ARGS...
	_c=$1 _r=$2 _w=$3
	shift 3
	wanted "$_w" || return 0
	# shellcheck disable=SC2086 # ai_extra is empty or one word
	_out=$(ai_pipeline --json --label "$_w" --duration "$dur" --warmup "$warm" $ai_extra "$@" 2>/tmp/ai.err)
	_rc=$?
	if [ "$_rc" = 0 ] && [ "${_out#\{}" != "$_out" ]; then
		emit "$_w" "$_c" "$_r" "$_out"
		_pass "$_c/r$_r/$_w"
	else
		_fail "$_c/r$_r/$_w" "ai_pipeline exit $_rc" /tmp/ai.err
	fi
}

# schbench-like: per node a message thread waking one worker per CPU of a node.
run_wakebench() { # CONFIG REP
	wanted wakebench || return 0
	_out=$(wakebench --json --msg-threads "$nodes" --workers "$cpn" --duration "$short" 2>/tmp/wb.err)
	_rc=$?
	if [ "$_rc" = 0 ] && [ "${_out#\{}" != "$_out" ]; then
		emit wakebench "$1" "$2" "$_out"
		_pass "$1/r$2/wakebench"
	else
		_fail "$1/r$2/wakebench" "exit $_rc" /tmp/wb.err
	fi
}

run_hackbench() { # CONFIG REP
	wanted hackbench || return 0
	# Threads, not processes: fork under TCG would dominate the figure.
	_g=$((nodes * 2)) _f=8
	hackbench --threads --groups "$_g" --fds "$_f" --loops "$hb_loops" >/tmp/hb.out 2>&1
	_rc=$?
	_t=$(sed -n 's/^Time: *\([0-9.]*\).*/\1/p' /tmp/hb.out)
	if [ "$_rc" = 0 ] && [ -n "$_t" ]; then
		emit hackbench "$1" "$2" "{\"time_s\":$_t,\"messages\":$((_g * _f * _f * hb_loops))}"
		_pass "$1/r$2/hackbench"
	else
		_fail "$1/r$2/hackbench" "exit $_rc" /tmp/hb.out
	fi
}

# Wakeup latency of normal (SCHED_OTHER) threads while every CPU is busy:
# this is where the scheduler, not the timer hardware, decides.
run_cyclictest() { # CONFIG REP
	wanted cyclictest || return 0
	stress-ng --cpu "$cpus" --cpu-method int64 --timeout "$((short + 3))s" -q >/dev/null 2>&1 &
	_hog=$!
	sleep 1
	rm -f /tmp/ct.json
	cyclictest -q -m --policy=other -p 0 -t "$cpus" -i 1000 -D "$short" \
		-h 100000 --histfile=/dev/null --json=/tmp/ct.json >/tmp/ct.out 2>&1
	_rc=$?
	kill "$_hog" 2>/dev/null
	wait "$_hog" 2>/dev/null
	if [ "$_rc" = 0 ] && [ -s /tmp/ct.json ]; then
		emit cyclictest "$1" "$2" "$(tr -d '\n\t ' </tmp/ct.json)"
		_pass "$1/r$2/cyclictest"
	else
		_fail "$1/r$2/cyclictest" "exit $_rc" /tmp/ct.out
	fi
}

run_stressng() { # CONFIG REP
	wanted stress_ng || return 0
	rm -f /tmp/sng.yaml
	stress-ng --cpu "$((cpus * 2))" --cpu-method int64 --timeout "${short}s" \
		--metrics-brief --yaml /tmp/sng.yaml >/tmp/sng.out 2>&1
	_rc=$?
	_b=$(sed -n 's/^ *bogo-ops-per-second-real-time: *\([0-9.]*\).*/\1/p' /tmp/sng.yaml 2>/dev/null | head -n1)
	if [ "$_rc" = 0 ] && [ -n "$_b" ]; then
		emit stress_ng "$1" "$2" "{\"bogo_ops_s\":$_b}"
		_pass "$1/r$2/stress-ng"
	else
		_fail "$1/r$2/stress-ng" "exit $_rc" /tmp/sng.out
	fi
}

# ctl_record WORKLOAD CONFIG REP CTL-ARGS...: the daemon's JSON answer as a
# record (best effort: the bench does not depend on the control socket).
ctl_record() {
	_w=$1 _c=$2 _r=$3
	shift 3
	command -v scx-ai-numactl >/dev/null 2>&1 || return 0
	_s=$(scx-ai-numactl --json "$@" 2>/dev/null | tr -d '\n')
	[ "${_s#\{}" != "$_s" ] && emit "$_w" "$_c" "$_r" "$_s"
	return 0
}

run_block() { # CONFIG REP
	_cfg=$1 _rep=$2
	_k0=$(kernel_stalls)
	_t0=$(now_ms)
	if ! start_config "$_cfg"; then
		_fail "$_cfg/r$_rep/start" "the scheduler did not attach" "$SCXVM_DAEMON_LOG"
		stop_config "$_cfg"
		return 1
	fi
	_lost=0
	# What the variant really runs with, for the record.
	[ "$_cfg" = default ] || ctl_record tunables "$_cfg" "$_rep" tunables
	for _pset in $procs_sets; do
		for _set in $cost_sets; do
			_sfx='' _a=''
			[ "$_pset" = procs ] && _sfx=_procs _a=--loader-procs
			[ "$_set" = cm ] && _sfx=${_sfx}_cm _a="$_a --cost-model"
			# shellcheck disable=SC2086 # _a holds whole options
			run_ai "$_cfg" "$_rep" "ai_fit$_sfx" $_a
			still_attached "$_cfg" || _lost=$((_lost + 1))
			# shellcheck disable=SC2086
			run_ai "$_cfg" "$_rep" "ai_imbalance$_sfx" --loaders "$imb_base" --imbalance "$imb_k" $_a
			still_attached "$_cfg" || _lost=$((_lost + 1))
			if [ "$noise" = 1 ]; then
				# shellcheck disable=SC2086
				run_ai "$_cfg" "$_rep" "ai_noise$_sfx" --hogs "$nodes" --churn "$nodes" $_a
				still_attached "$_cfg" || _lost=$((_lost + 1))
			fi
		done
	done
	for _set in $cost_sets; do
		[ "$firsttouch" = 1 ] || break
		_sfx='' _a=''
		[ "$_set" = cm ] && _sfx=_cm _a=--cost-model
		# shellcheck disable=SC2086
		run_ai "$_cfg" "$_rep" "ai_firsttouch$_sfx" --loader-procs --alloc-main --warmup "$ft_warm" \
			--ballast-mb "$ft_ballast" $_a
		still_attached "$_cfg" || _lost=$((_lost + 1))
	done
	[ "$_cfg" = default ] || ctl_record sched_stats "$_cfg" "$_rep" stats
	run_hackbench "$_cfg" "$_rep"
	still_attached "$_cfg" || _lost=$((_lost + 1))
	run_cyclictest "$_cfg" "$_rep"
	still_attached "$_cfg" || _lost=$((_lost + 1))
	run_stressng "$_cfg" "$_rep"
	still_attached "$_cfg" || _lost=$((_lost + 1))
	run_wakebench "$_cfg" "$_rep"
	[ "$_cfg" = default ] || ctl_record sched_stats_end "$_cfg" "$_rep" stats
	still_attached "$_cfg" || _lost=$((_lost + 1))
	stop_config "$_cfg"
	_k1=$(kernel_stalls)
	emit health "$_cfg" "$_rep" "{\"kernel_stalls\":$((_k1 - _k0)),\"detached\":$_lost,\"secs\":$((($(now_ms) - _t0) / 1000))}"
	check_eq "$_cfg/r$_rep/stayed-attached" "$_lost" 0
	info "block_done=$_cfg/r$_rep" "elapsed_s=$((($(now_ms) - t_begin) / 1000))"
}

# BPF cost per callback: counted only while kernel.bpf_stats_enabled=1,
# which itself costs time, so it gets its own run outside the comparison.
run_bpfcost() {
	echo 1 >/proc/sys/kernel/bpf_stats_enabled || { _fail bpf-cost/enable "cannot enable bpf_stats"; return 1; }
	if start_config scx; then
		ai_pipeline --json --duration "$dur" --warmup 1 >/dev/null 2>&1
		hackbench --threads --groups "$((nodes * 2))" --fds 8 --loops "$hb_loops" >/dev/null 2>&1
		_s=$(bpf_progstats)
		stop_config scx
		emit bpf_cost scx 0 "$_s"
		case "$_s" in
		*'"run_cnt":'[1-9]*) _pass bpf-cost-collected ;;
		*) _fail bpf-cost-collected "no callback ran while counting: $_s" ;;
		esac
	else
		_fail bpf-cost/start "the scheduler did not attach" "$SCXVM_DAEMON_LOG"
		stop_config scx
	fi
	echo 0 >/proc/sys/kernel/bpf_stats_enabled
}

# PID: CPU time of all its threads in ns (schedstat: finer than the 10 ms
# ticks of /proc/PID/stat, which a 30 s window of well under 1 % needs).
proc_cpu_ns() {
	awk '{ s += $1 } END { printf "%.0f\n", s }' /proc/"$1"/task/*/schedstat 2>/dev/null
}

# The daemon's CPU split by job (ns so far): the mover, the /proc pass,
# the gathering, and the pass's files read.
mig_split() {
	"$SCXVM_CTL" --json stats 2>/dev/null |
		jq -c '.migration | {cpu_ns, scan_cpu_ns, scan_passes, scan_processes, scan_reads, gather_cpu_ns}' 2>/dev/null ||
		echo null
}

# How many mem-workers last reported >= 90 % of their pages on node $1
# (one process for all: under TCG a fork costs milliseconds).
workers_home() {
	awk -v k="pct_node$1=" '{ i = index($0, k); if (i) v[FILENAME] = substr($0, i + length(k)) + 0 }
		END { c = 0; for (f in v) if (v[f] >= 90) c++; print c }' /tmp/mw.* 2>/dev/null
}

# The daemon's own CPU time (all its threads) while it looks after 100
# processes, each confined to the last node with 2 MB first-touched on node
# 0: while their memory moves, at steady state, and once they are gone,
# with nothing to migrate (base). A process's memory is sampled again when its pass
# ends, then 60 s later, then 2, 4 and 8 minutes after that
# (daemon/migrate.h): the steady window starts _after seconds after the
# last worker is home, past every worker's 60 s sample, and ends before the
# next ones. What those samples cost is the mover's share of the window
# after the moves (move_ns) and, spread over the back-off, small.
run_migcost() {
	[ "$nodes" -ge 2 ] || return 0
	_last=$((nodes - 1)) _n=100 _base=10 _after=65 _win=25
	start_config scx || { _fail migcost/start "the scheduler did not attach" "$SCXVM_DAEMON_LOG"; stop_config scx; return 1; }
	_pids=''
	rm -f /tmp/mw.*
	_t0=$(now_ms)
	_c0=$(proc_cpu_ns "$DAEMON_PID")
	for _i in $(seq "$_n"); do
		mem-worker --mb 2 --touch-node 0 --bind-node "$_last" --threads 0 --seconds 300 \
			>"/tmp/mw.$_i" 2>&1 &
		_pids="$_pids $!"
	done
	# Moving 200 MB at the default 256 MiB/s after a 2 s settle takes a few
	# seconds; the move ends when every worker reports >= 90 % of its pages
	# on its node, or after 60 s.
	_home=0
	while [ $(($(now_ms) - _t0)) -lt 60000 ]; do
		sleep 2
		_home=$(workers_home "$_last")
		[ "$_home" -ge "$_n" ] && break
	done
	_t1=$(now_ms)
	_c1=$(proc_cpu_ns "$DAEMON_PID")
	sleep "$_after"
	_s0=$(mig_split)
	_t2=$(now_ms)
	_c2=$(proc_cpu_ns "$DAEMON_PID")
	sleep "$_win"
	_t3=$(now_ms)
	_c3=$(proc_cpu_ns "$DAEMON_PID")
	_s1=$(mig_split)
	_alive=0
	for _p in $_pids; do [ -d "/proc/$_p" ] && _alive=$((_alive + 1)); done
	# shellcheck disable=SC2086
	kill $_pids 2>/dev/null
	for _p in $_pids; do wait "$_p" 2>/dev/null; done
	# The baseline last: the daemon's first minutes read every process's
	# files again and again (daemon/affinity.h), which is start-up, not
	# what it costs with nothing to migrate.
	sleep 5
	_tb0=$(now_ms)
	_b0=$(proc_cpu_ns "$DAEMON_PID")
	sleep "$_base"
	_tb1=$(now_ms)
	_b1=$(proc_cpu_ns "$DAEMON_PID")
	stop_config scx
	emit migcost scx 0 "{\"procs\":$_n,\"mb_each\":2,\"alive\":$_alive,\"home_procs\":$_home,\"base_ms\":$((_tb1 - _tb0)),\"base_ns\":$((_b1 - _b0)),\"move_ms\":$((_t1 - _t0)),\"move_ns\":$((_c1 - _c0)),\"after_home_ms\":$((_t2 - _t1)),\"steady_ms\":$((_t3 - _t2)),\"steady_ns\":$((_c3 - _c2)),\"split0\":${_s0:-null},\"split1\":${_s1:-null}}"
	check_ge migcost/workers-home "$_home" 90
}

emit meta none 0 "{\"kernel\":\"$(uname -r)\",\"nodes\":$nodes,\"cpus\":$cpus,\"reps\":$reps,\"duration_s\":$dur,\"warmup_s\":$warm,\"short_s\":$short,\"hb_loops\":$hb_loops,\"imbalance\":$imb_k,\"imbalance_loaders\":$imb_base,\"numa_balancing\":$(cat /proc/sys/kernel/numa_balancing 2>/dev/null || echo -1),\"clocksource\":\"$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)\",\"bpfcost\":$bpfcost,\"spawn_local\":${scxbench_spawn_local:-0},\"cost_model\":$cost,\"procs\":${scxbench_procs:-0},\"firsttouch\":$firsttouch,\"firsttouch_warmup_s\":$ft_warm,\"firsttouch_ballast_mb\":$ft_ballast,\"only\":\"$only\",\"configs\":\"$configs\"}"
info "configs=$configs" "reps=$reps" "nodes=$nodes" "cpus=$cpus"
check ai_pipeline-present command -v ai_pipeline
check bpf_progstats-present command -v bpf_progstats

rep=1
while [ "$rep" -le "$reps" ]; do
	# Alternate the order so neither side always runs first (warm caches,
	# host noise drifting over the run).
	if [ $((rep % 2)) = 1 ]; then
		order=$configs
	else
		order=$(echo "$configs" | tr ' ' '\n' | sed '1!G;h;$!d' | tr '\n' ' ')
	fi
	for c in $order; do
		run_block "$c" "$rep"
	done
	rep=$((rep + 1))
done
[ "$bpfcost" = 1 ] && wanted bpf_cost && run_bpfcost
[ "$migcost" = 1 ] && wanted migcost && run_migcost
info "bench_elapsed_s=$((($(now_ms) - t_begin) / 1000))"
