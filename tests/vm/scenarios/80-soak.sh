#!/bin/sh
# Soak: everything at once for scxvm_soak_secs (default 60; tests/vm/soak.sh
# runs 10 minutes): hackbench back to back, stress-ng, the AI-pipeline
# benchmark, a CPU going offline and online every few hundred ms, and the
# control socket hammered by ctl-abuse (a probe calling every method with
# good and bad sets; garbage, half messages, hangups, streams and floods
# nobody reads; a monitor sampling the counters every second). Proves: no
# stall (the harness fails on the kernel's stall messages), the daemon alive
# and exiting 0 on TERM, its memory and open descriptors flat, every stats
# counter monotonic between re-attaches (a counter may drop only when
# attach_count changed), the scheduler attached at the end, every control
# call answered right and in bounded time.
#
# Knobs (kernel command line, --append): scxvm_soak_secs, scxvm_soak_hotplug_ms
# (0: no churn), scxvm_soak_clients (hostile clients at once, 0: only the
# probe and the monitor), scxvm_soak_max_latency_ms (slowest probe reply),
# scxvm_soak_all=1 (tests/vm/soak.sh --all): also memory migration (one
# mem-worker after another, first-touching one node and pinned to the
# other), scx_stats traffic (stats-client every second, and a client that
# asks and never reads), `scx-ai-numactl metrics` every second and pins
# made and dropped; then the scheduler must have been attached in at least
# 99 % of the once-a-second samples and the pipeline must see no stall.
# scxvm_soak_freeze_ms=N stops the daemon (SIGSTOP) for N ms a third into
# the soak, to show that the status check below catches a daemon that does
# not answer.
#
# Latency: every `status` is timed beside a no-op round trip of the same
# shape at the same moment; with scxvm_soak_all=1 it must come within 1 s
# of the slower no-op around it (the daemon's own time to answer; both
# figures are printed either way).
# The other latency bounds (the probe's slowest reply, scx_stats within
# 15 s, `metrics` within the CLI's 10 s, the pipeline's stalls) hold the
# guest's own stalls too: the no-op's figures and the longest gap of the
# once-a-second sampler are printed beside them to tell the two apart.
. /vm/lib.sh

secs=${scxvm_soak_secs:-60}
all=${scxvm_soak_all:-0}
churn_ms=${scxvm_soak_hotplug_ms:-300}
hostile=${scxvm_soak_clients:-4}
ncpus=${scxvm_cpus:-4}
ctl=$SCXVM_CTL
sock=/run/scx-ai-numa/control.sock
info "soak_secs=$secs" "hotplug_every_ms=$churn_ms" "hostile_clients=$hostile"

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
nr_fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }

# Fixed malloc thresholds turn off glibc's dynamic ones: freed buffers go
# back to the kernel, so RSS follows what the daemon really holds.
export GLIBC_TUNABLES=glibc.malloc.trim_threshold=131072:glibc.malloc.mmap_threshold=131072
start_sched
unset GLIBC_TUNABLES
check_eq attached "$(sched_ops)" ai_numa
# Warm up: the first replies allocate what the daemon keeps for good.
for m in status stats topology tunables; do "$ctl" "$m" >/dev/null; done
sleep 1
rss0=$(rss_kb "$DAEMON_PID")
fds0=$(nr_fds "$DAEMON_PID")
attach0=$("$ctl" --json status | jq -r .attach_count)
info "daemon_rss_kb_start=$rss0" "daemon_fds_start=$fds0" "attach_count_start=$attach0"
read -r sched0 <"/proc/$DAEMON_PID/schedstat"

t0=$(_now)
end=$((t0 + secs))

# hackbench, back to back; each run must succeed.
(
	runs=0 fails=0
	while [ "$(_now)" -lt "$end" ]; do
		timeout 120 hackbench --groups 2 --fds 4 --loops 20 >/dev/null 2>&1 || fails=$((fails + 1))
		runs=$((runs + 1))
	done
	echo "$runs $fails" >/tmp/hackbench.res
) &
hb=$!

stress-ng --cpu "$ncpus" --cpu-load 50 --timeout "${secs}s" >/tmp/stress.out 2>&1 &
sn=$!

ap=
if command -v ai_pipeline >/dev/null 2>&1; then
	ai_pipeline --duration $((secs > 6 ? secs - 4 : 2)) --warmup 1 --json >/tmp/ai.json 2>/tmp/ai.err &
	ap=$!
else
	info "ai_pipeline=absent"
fi

# Hotplug churn over every CPU but 0, one at a time.
pause=$(awk -v m="$churn_ms" 'BEGIN { printf "%.3f", m / 1000 }')
(
	n=0
	while [ "$churn_ms" -gt 0 ] && [ "$(_now)" -lt "$end" ]; do
		c=$((n % (ncpus - 1) + 1))
		cpu_offline "$c" 2>/dev/null
		sleep "$pause"
		cpu_online "$c" 2>/dev/null
		sleep "$pause"
		n=$((n + 1))
	done
	echo "$n" >/tmp/hotplug.res
) &
hp=$!

# The control socket, against the real daemon. Paced: a soak is about time,
# not throughput, and TCG makes every request some 30 times dearer than
# hardware. The monitor does the counter sampling (a shell loop with jq
# cannot keep a one-second pace in an overloaded TCG guest).
ab=
if check control-hammer-present command -v ctl-abuse; then
	ctl-abuse --pid "$DAEMON_PID" --no-cap-check --no-rss-check --fd-slack 4 --clients "$hostile" \
		--respawn-ms 1000 --pipeline 40 --probe-gap-ms 100 --monitor 1000 --rounds 1 --seconds "$secs" \
		--garbage-kb 64 --patience-ms 20000 --max-latency-ms "${scxvm_soak_max_latency_ms:-8000}" \
		"$sock" >/tmp/abuse.out 2>/tmp/abuse.err &
	ab=$!
fi

# --all: memory migration, scx_stats, metrics and pins traffic, each loop
# leaving its counts in /tmp/*.res.
extra=
if [ "$all" = 1 ]; then
	(
		k=0 reached=0
		while [ "$(_now)" -lt $((end - 30)) ]; do
			from=$((k % 2)) to=$(((k + 1) % 2))
			mem-worker --mb 32 --threads 1 --touch-node "$from" --seconds 25 >/tmp/mw.out 2>&1 &
			w=$!
			wait_for 30 grep -q '^ready' /tmp/mw.out
			"$ctl" pin "$w" "$to" >/dev/null 2>&1
			wait "$w"
			last=$(grep '^t=' /tmp/mw.out | tail -n 1)
			case " $last " in *" node$to="*) ;; *) last= ;; esac
			n_to=$(echo "$last" | tr ' ' '\n' | sed -n "s/^node$to=//p")
			n_all=$(echo "$last" | tr ' ' '\n' | sed -n 's/^node[0-9]*=//p' | awk '{ s += $1 } END { print s + 0 }')
			[ "${n_all:-0}" -gt 0 ] && [ $((n_to * 100 / n_all)) -ge 90 ] && reached=$((reached + 1))
			k=$((k + 1))
		done
		echo "$k $reached" >/tmp/memory.res
	) &
	extra="$extra $!"
	stats-client /var/run/scx/root/stats --every-ms 1000 --seconds "$secs" >/tmp/scxstats.res 2>&1 &
	extra="$extra $!"
	(
		while [ "$(_now)" -lt "$end" ]; do
			stats-client /var/run/scx/root/stats --no-read --seconds 20
		done >/tmp/noread.res 2>&1
	) &
	extra="$extra $!"
	(
		n=0 bad=0
		while [ "$(_now)" -lt "$end" ]; do
			"$ctl" metrics >/tmp/metrics.txt 2>&1 && grep -q '^scx_ai_numa_' /tmp/metrics.txt || bad=$((bad + 1))
			n=$((n + 1))
			sleep 1
		done
		echo "$n $bad" >/tmp/metrics.res
	) &
	extra="$extra $!"
fi

# `status` against a no-op round trip of the same shape taken at the same
# moment, once a second: the no-op execs the same CLI (which exits at once)
# and has a sleeping shell wake, answer through a FIFO and wake the caller,
# as the daemon and the CLI do, on the same scheduler; it costs the daemon
# nothing. In an overloaded guest (stress-ng, a host with fewer cores than
# vCPUs) both wait for CPUs alike: what `status` takes beyond the slower of
# the no-ops around it is the daemon's own time to answer.
mkfifo /tmp/noop.in /tmp/noop.out
(while :; do read -r x </tmp/noop.in && echo "$x" >/tmp/noop.out; done) &
noop_srv=$!
noop_ms() {
	_t=$(now_ms)
	"$ctl" --help >/dev/null 2>&1
	echo 1 >/tmp/noop.in
	read -r _ </tmp/noop.out
	echo $(($(now_ms) - _t))
}
(
	while [ "$(_now)" -lt "$end" ]; do
		b0=$(noop_ms)
		t=$(now_ms)
		"$ctl" status >/dev/null 2>&1 && s=$(($(now_ms) - t)) || s=99999
		b1=$(noop_ms)
		echo "$s $b0 $b1" >>/tmp/status-pairs.txt
		sleep 1
	done
) &
pairs=$!
if [ "${scxvm_soak_freeze_ms:-0}" -gt 0 ]; then
	(
		sleep $((secs / 3))
		kill -STOP "$DAEMON_PID"
		sleep "$(awk -v m="$scxvm_soak_freeze_ms" 'BEGIN { printf "%.3f", m / 1000 }')"
		kill -CONT "$DAEMON_PID"
	) &
fi

# Once a second: the daemon's memory and descriptors, and its state (R
# running or runnable, S sleeping, D blocked in the kernel) with its wait
# channel, which says where it was should anything go wrong.
rss_q='' rss_peak=0 fds_peak=0 on=0 samples=0 gap_max=0 last_ms=$(now_ms)
quarter=$((t0 + secs / 4))
while [ "$(_now)" -lt "$end" ]; do
	samples=$((samples + 1))
	# How long the guest's shell went without a CPU beyond its 1 s sleep.
	g=$(($(now_ms) - last_ms))
	last_ms=$(now_ms)
	[ "$g" -gt "$gap_max" ] && gap_max=$g
	sched_enabled_ai_numa && on=$((on + 1))
	r=$(rss_kb "$DAEMON_PID")
	f=$(nr_fds "$DAEMON_PID")
	[ -n "$r" ] && [ "$r" -gt "$rss_peak" ] && rss_peak=$r
	[ -n "$f" ] && [ "$f" -gt "$fds_peak" ] && fds_peak=$f
	[ -z "$rss_q" ] && [ "$(_now)" -ge "$quarter" ] && rss_q=$r
	if read -r st <"/proc/$DAEMON_PID/stat" 2>/dev/null; then
		# shellcheck disable=SC2086 # split on purpose: state follows "(comm) "
		set -- ${st##*) }
		echo "$1 $(cat "/proc/$DAEMON_PID/wchan" 2>/dev/null)" >>/tmp/dstate.txt
	fi
	sleep 1
done
: "${rss_q:=$rss0}"
read -r sched1 <"/proc/$DAEMON_PID/schedstat"

wait "$hb"
wait "$sn"
sn_rc=$?
ap_rc=0
[ -n "$ap" ] && { wait "$ap"; ap_rc=$?; }
wait "$hp"
# shellcheck disable=SC2086 # a list of pids
[ -n "$extra" ] && wait $extra
wait "$pairs"
kill "$noop_srv" 2>/dev/null
ab_rc=0
[ -n "$ab" ] && { wait "$ab"; ab_rc=$?; }
for c in $(seq 1 $((ncpus - 1))); do cpu_online "$c" 2>/dev/null; done
# Let the daemon settle: attached, and the attach count holding still.
wait_for 30 sched_enabled_ai_numa
a=$("$ctl" --json status | jq -r .attach_count)
sleep 2
b=$("$ctl" --json status | jq -r .attach_count)
[ "$a" = "$b" ] || { sleep 3; b=$("$ctl" --json status | jq -r .attach_count); }
rss1=$(rss_kb "$DAEMON_PID")
fds1=$(nr_fds "$DAEMON_PID")

read -r hb_runs hb_fails </tmp/hackbench.res
hotplugs=$(cat /tmp/hotplug.res)
# shellcheck disable=SC2086 # two schedstat lines, split on purpose
set -- $sched0 $sched1
info "hackbench_runs=$hb_runs" "hackbench_failures=$hb_fails" "stress_ng_exit=$sn_rc" \
	"hotplug_cycles=$hotplugs" "attach_count_end=$b" \
	"daemon_cpu_ms=$((($4 - $1) / 1000000))" "daemon_runqueue_wait_ms=$((($5 - $2) / 1000000))" \
	"daemon_rss_kb_start=$rss0" "daemon_rss_kb_quarter=$rss_q" "daemon_rss_kb_peak=$rss_peak" \
	"daemon_rss_kb_end=$rss1" "daemon_fds_start=$fds0" "daemon_fds_peak=$fds_peak" "daemon_fds_end=$fds1"
sort /tmp/dstate.txt | uniq -c | sort -rn | head -n 5 | sed 's/^ */  daemon-state| /'
# The status pairs: p50, p99 and max of the CLI's status, of the no-op, and
# of status beyond the slower no-op beside it; and how many went past 1 s.
pct_of() { sort -n | awk '{ v[NR] = $1 } END { if (!NR) { print "0 0 0"; exit }
	i = int(NR * 0.99); if (i < 1) i = 1; print v[int((NR + 1) / 2)], v[i], v[NR] }'; }
# shellcheck disable=SC2046 # three numbers each, split on purpose
set -- $(awk '{ print $1 }' /tmp/status-pairs.txt | pct_of) \
	$(awk '{ print ($2 > $3 ? $2 : $3) }' /tmp/status-pairs.txt | pct_of) \
	$(awk '{ d = $1 - ($2 > $3 ? $2 : $3); print d < 0 ? 0 : d }' /tmp/status-pairs.txt | pct_of)
st_n=$(wc -l </tmp/status-pairs.txt)
st_over=$(awk '$1 > 1000' /tmp/status-pairs.txt | wc -l)
own_over=$(awk '$1 - ($2 > $3 ? $2 : $3) > 1000' /tmp/status-pairs.txt | wc -l)
# No-ops past 10 s: the guest itself stalled as long as the CLI's and
# stats-client's own time limits (10 s, 15 s), whoever was asked.
noop_over=$(awk '$2 > 10000 || $3 > 10000' /tmp/status-pairs.txt | wc -l)
info "status_calls=$st_n" "status_ms_p50=$1" "status_ms_p99=$2" "status_ms_max=$3" "status_over_1s=$st_over" \
	"noop_ms_p50=$4" "noop_ms_p99=$5" "noop_ms_max=$6" \
	"status_beyond_noop_ms_p50=$7" "status_beyond_noop_ms_p99=$8" "status_beyond_noop_ms_max=$9" \
	"status_beyond_noop_over_1s=$own_over" "noop_over_10s=$noop_over" "guest_max_sample_gap_ms=$gap_max"
sort -n /tmp/status-pairs.txt | tail -n 3 | sed 's/^/  slowest status, no-op before, after| /'
if [ -n "$ap" ]; then
	info "ai_pipeline_exit=$ap_rc" "$(jq -r '"ai_throughput_bps=\(.throughput_bps) ai_stalls=\(.stalls) ai_max_gap_ms=\(.max_gap_ms) ai_wake_p99_us=\(.wake_lat_us.p99)"' /tmp/ai.json 2>/dev/null)"
	check_eq ai-pipeline-completes "$ap_rc" 0
fi
if [ -n "$ab" ]; then
	sed -n 's/^# abuse: /info abuse_/p' /tmp/abuse.out
	grep -E '^# (probe|monitor|daemon cpu|fresh|round)' /tmp/abuse.out | sed 's/^# /  abuse| /'
	grep -E '^(ok|not ok)' /tmp/abuse.out | sed 's/^/  abuse| /'
	tail -n 5 /tmp/abuse.err | sed 's/^/  abuse-err| /'
	check_eq control-calls-answered-and-counters-monotonic "$ab_rc" 0
fi

check_ge status-calls-made "$st_n" 1
# The daemon's own time to answer, with everything on (the figures are
# printed either way): every status within 1 s of the no-op's.
[ "$all" = 1 ] && check_eq status-within-1s-beyond-noop "$own_over" 0
check_eq hackbench-all-succeed "$hb_fails" 0
check_ge hackbench-ran "$hb_runs" 1
check_eq stress-ng-exit "$sn_rc" 0
[ "$churn_ms" -gt 0 ] && check_ge hotplug-churned "$hotplugs" 1
check daemon-alive daemon_alive
check_eq still-attached "$(sched_ops)" ai_numa
# Flat: after the first quarter (every buffer has grown to what the load
# needs), memory must not keep growing; descriptors back where they started.
if [ "$all" = 1 ]; then
	read -r mem_runs mem_reached </tmp/memory.res
	read -r met_runs met_bad </tmp/metrics.res
	sc=$(sed -n 's/^stats-client: requests=//p' /tmp/scxstats.res)
	info "attached_samples=$samples" "attached_on=$on" "attached_pct=$((on * 100 / (samples ? samples : 1)))" \
		"memory_workers=$mem_runs" "memory_workers_moved_90pct=$mem_reached" \
		"moved_pages_total=$("$ctl" --json stats | jq -r '.migration.moved_pages_total')" \
		"metrics_calls=$met_runs" "metrics_failed=$met_bad" "scxstats_requests=${sc%% *}" \
		"noread_clients=$(grep -c 'no-read' /tmp/noread.res)" \
		"noread_closed_by_daemon=$(grep -c 'closed_by_daemon=1' /tmp/noread.res)"
	sed 's/^/  scx_stats| /' /tmp/scxstats.res
	check scxstats-all-answered grep -q 'failed=0 ' /tmp/scxstats.res
	check_eq metrics-all-answered "$met_bad" 0
	check_ge attached-99pct $((on * 1000 / (samples ? samples : 1))) 990
	check_ge memory-followed "$mem_reached" 1
	[ -n "$ap" ] && check_eq ai-pipeline-no-stall "$(jq -r .stalls /tmp/ai.json 2>/dev/null)" 0
fi
check_le daemon-rss-flat "$rss1" $((rss_q + 1024 + rss_q / 50))
check_le daemon-fds-flat "$fds1" $((fds0 + 2))
stop_daemon TERM 30
check_eq clean-exit "$DAEMON_RC" 0
