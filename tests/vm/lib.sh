# Helpers for VM scenarios (POSIX sh, busybox ash). Source it first:
#   . /vm/lib.sh
# Output contract read by tests/vm/run.sh:
#   CHECK PASS: NAME            one per passed check
#   CHECK FAIL: NAME: context   one per failed check (context lines follow, "  | ")
#   info key=value              a measurement, printed before it is asserted
# Checks return 0/1 and never exit, so one failure does not hide the next;
# do not use `set -e` in scenarios.

SCXVM_DAEMON=${SCXVM_DAEMON:-scx_ai_numad}
SCXVM_DAEMON_LOG=${SCXVM_DAEMON_LOG:-/tmp/daemon.log}
SCXVM_DAEMON_PIDFILE=${SCXVM_DAEMON_PIDFILE:-/tmp/daemon.pid}
SCX_SYSFS=/sys/kernel/sched_ext
DAEMON_PID=
DAEMON_RC=
_scxvm_pass=0
_scxvm_fail=0
_scxvm_out=/tmp/.check.$$

info() {
	for _kv in "$@"; do
		echo "info $_kv"
	done
}

_pass() {
	_scxvm_pass=$((_scxvm_pass + 1))
	echo "CHECK PASS: $1"
	return 0
}

# _fail NAME CONTEXT [FILE-WITH-MORE-CONTEXT]
_fail() {
	_scxvm_fail=$((_scxvm_fail + 1))
	echo "CHECK FAIL: $1: $2"
	if [ -n "${3:-}" ] && [ -s "$3" ]; then
		head -n 40 "$3" | sed 's/^/  | /'
	fi
	return 1
}

# check NAME CMD...: passes when CMD exits 0; on failure shows its output.
check() {
	_n=$1
	shift
	"$@" >"$_scxvm_out" 2>&1
	_rc=$?
	if [ "$_rc" -eq 0 ]; then
		_pass "$_n"
	else
		_fail "$_n" "exit $_rc: $*" "$_scxvm_out"
	fi
	_rc=$?
	rm -f "$_scxvm_out"
	return "$_rc"
}

# check_eq NAME ACTUAL EXPECTED (string equality)
check_eq() {
	if [ "$2" = "$3" ]; then
		_pass "$1"
	else
		_fail "$1" "got '$2', want '$3'"
	fi
}

_is_int() {
	case "$1" in
	'' | - | *[!0-9-]* | ?*-*) return 1 ;;
	esac
	return 0
}

# check_ge NAME ACTUAL MIN, check_le NAME ACTUAL MAX (integers)
check_ge() {
	if ! _is_int "$2" || ! _is_int "$3"; then
		_fail "$1" "not integers: got '$2', want >= '$3'"
	elif [ "$2" -ge "$3" ]; then
		_pass "$1"
	else
		_fail "$1" "got $2, want >= $3"
	fi
}

check_le() {
	if ! _is_int "$2" || ! _is_int "$3"; then
		_fail "$1" "not integers: got '$2', want <= '$3'"
	elif [ "$2" -le "$3" ]; then
		_pass "$1"
	else
		_fail "$1" "got $2, want <= $3"
	fi
}

# wait_for TIMEOUT_S CMD...: poll CMD (quietly) until it succeeds; 0 on
# success, 1 after TIMEOUT_S seconds.
wait_for() {
	_deadline=$(($(_now) + $1))
	shift
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$(_now)" -ge "$_deadline" ] && return 1
		sleep 0.2
	done
}

# Seconds since boot (integer); busybox date lacks %N and the clock may jump.
_now() {
	read -r _up _ </proc/uptime
	echo "${_up%.*}"
}

# Milliseconds since boot, for measurements.
now_ms() {
	read -r _up _ </proc/uptime
	_s=${_up%.*}
	_f=${_up#*.}
	echo $((_s * 1000 + ${_f#0} * 10))
}

sched_state() { cat "$SCX_SYSFS/state"; }
sched_ops() { cat "$SCX_SYSFS/root/ops" 2>/dev/null; }
# sched_is STATE: for wait_for, e.g. `wait_for 30 sched_is enabled`
sched_is() { [ "$(sched_state 2>/dev/null)" = "$1" ]; }

# start_daemon ARGS...: run the daemon in the background, logging to
# $SCXVM_DAEMON_LOG; sets DAEMON_PID.
start_daemon() {
	if ! command -v "$SCXVM_DAEMON" >/dev/null 2>&1; then
		echo "start_daemon: $SCXVM_DAEMON not in the image" >&2
		return 127
	fi
	"$SCXVM_DAEMON" "$@" >>"$SCXVM_DAEMON_LOG" 2>&1 </dev/null &
	DAEMON_PID=$!
	DAEMON_RC=
	echo "$DAEMON_PID" >"$SCXVM_DAEMON_PIDFILE"
	info "daemon_pid=$DAEMON_PID"
	return 0
}

# _alive PID: true while PID exists and is not a zombie.
_alive() {
	[ -r "/proc/$1/stat" ] || return 1
	read -r _st 2>/dev/null <"/proc/$1/stat" || return 1
	# Fields after "(comm) " are state, ppid, ...: split on purpose.
	# shellcheck disable=SC2086
	set -- ${_st##*) }
	[ "$1" != Z ]
}

daemon_alive() { [ -n "$DAEMON_PID" ] && _alive "$DAEMON_PID"; }

# stop_daemon [SIGNAL] [TIMEOUT_S]: signal the daemon (TERM), wait for it
# (10 s), SIGKILL it if it lingers. Sets DAEMON_RC (its exit status) and
# returns 0 if it exited on its own after the signal.
stop_daemon() {
	_sig=${1:-TERM}
	_to=${2:-10}
	[ -n "$DAEMON_PID" ] || { echo "stop_daemon: no daemon started" >&2; return 1; }
	kill -s "$_sig" "$DAEMON_PID" 2>/dev/null
	_r=0
	# shellcheck disable=SC2016 # expanded by eval, on every poll
	if ! wait_for "$_to" eval '! _alive "$DAEMON_PID"'; then
		echo "stop_daemon: pid $DAEMON_PID ignored SIG$_sig for ${_to}s, killing" >&2
		stuck_report "$DAEMON_PID"
		kill -s KILL "$DAEMON_PID" 2>/dev/null
		_r=1
		# Stuck in the kernel, SIGKILL cannot end it: fail instead of hanging.
		# shellcheck disable=SC2016
		if ! wait_for 20 eval '! _alive "$DAEMON_PID"'; then
			_fail daemon-killable "pid $DAEMON_PID survived SIGKILL for 20s"
			DAEMON_RC=137
			DAEMON_PID=
			return 1
		fi
	fi
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_RC=$?
	info "daemon_exit=$DAEMON_RC"
	DAEMON_PID=
	rm -f "$SCXVM_DAEMON_PIDFILE"
	return "$_r"
}

# stuck_report PID: where a process that will not exit is, and the kernel's
# blocked tasks (sysrq w), on the console.
stuck_report() {
	echo "stuck: sched_ext state $(cat "$SCX_SYSFS/state" 2>/dev/null)"
	echo "stuck: pid $1 state $(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null)" \
		"wchan $(cat "/proc/$1/wchan" 2>/dev/null)"
	for _t in /proc/"$1"/task/*; do
		echo "stuck: task ${_t##*/}:"
		sed 's/^/stuck:   /' "$_t/stack" 2>/dev/null
	done
	# The disable runs in sched_ext's helper kthread: where is it?
	for _s in /proc/[0-9]*/comm; do
		case "$(cat "$_s" 2>/dev/null)" in
		*sched_ext* | *scx*)
			_d=${_s%/comm}
			echo "stuck: kthread ${_d#/proc/} $(cat "$_s") state $(awk '{ sub(/.*\) /, ""); print $1 }' "$_d/stat" 2>/dev/null)"
			sed 's/^/stuck:   /' "$_d/stack" 2>/dev/null ;;
		esac
	done
	# Whatever else sleeps uninterruptibly (a hotplug writer, cpuhp threads,
	# kworkers) is what the disable may be waiting for.
	for _s in /proc/[0-9]*/stat; do
		_d=${_s%/stat}
		[ "$(awk '{ sub(/.*\) /, ""); print $1 }' "$_s" 2>/dev/null)" = D ] || continue
		[ "${_d#/proc/}" = "$1" ] && continue
		echo "stuck: D task ${_d#/proc/} $(cat "$_d/comm" 2>/dev/null):"
		sed 's/^/stuck:   /' "$_d/stack" 2>/dev/null
	done
	echo w >/proc/sysrq-trigger 2>/dev/null
	dmesg | tail -n 150 | sed 's/^/stuck| /'
}

dump_daemon_log() {
	echo "--- $SCXVM_DAEMON_LOG ---"
	[ -f "$SCXVM_DAEMON_LOG" ] && sed 's/^/daemon| /' "$SCXVM_DAEMON_LOG"
	echo "--- end $SCXVM_DAEMON_LOG ---"
}

cpu_offline() { echo 0 >"/sys/devices/system/cpu/cpu$1/online"; }
cpu_online() { echo 1 >"/sys/devices/system/cpu/cpu$1/online"; }
nr_nodes() { _count_list "$(cat /sys/devices/system/node/online)"; }
nr_cpus_online() { _count_list "$(cat /sys/devices/system/cpu/online)"; }

# list_ids "0-3,6" -> "0 1 2 3 6 " (sysfs cpu/node list format, one id each)
list_ids() {
	echo "$1" | tr ',' ' ' |
		awk -F- '{ if (NF == 2) for (i = $1; i <= $2; i++) printf "%d ", i; else printf "%s ", $1 }'
}

# _count_list "0-3,6,8-9" -> 7 (sysfs cpu/node list format)
_count_list() {
	_c=0
	_old_ifs=$IFS
	IFS=,
	for _r in $1; do
		case "$_r" in
		*-*) _c=$((_c + ${_r#*-} - ${_r%-*} + 1)) ;;
		?*) _c=$((_c + 1)) ;;
		esac
	done
	IFS=$_old_ifs
	echo "$_c"
}

# expect_kmsg ERE: this scenario deliberately provokes kernel messages that
# run.sh would otherwise count as failures (e.g. a scheduler error exit).
expect_kmsg() { echo "@@SCXVM EXPECT-KMSG $1"; }

_scxvm_exit() {
	_rc=$?
	if daemon_alive; then
		echo "lib.sh: daemon still running at exit, stopping it"
		stop_daemon TERM 10
	fi
	info "checks_passed=$_scxvm_pass" "checks_failed=$_scxvm_fail"
	rm -f "$_scxvm_out"
	exit "$_rc"
}
trap _scxvm_exit EXIT
# A timed-out scenario gets SIGTERM: run the EXIT trap (stop the daemon).
trap 'exit 143' TERM INT

# ---- scx_ai_numa specifics -------------------------------------------------

SCXVM_CTL=${SCXVM_CTL:-scx-ai-numactl}

# start_sched [ARGS]: start the daemon and wait until our scheduler is enabled.
start_sched() {
	start_daemon "$@"
	if wait_for 30 sched_enabled_ai_numa; then
		return 0
	fi
	dump_daemon_log
	return 1
}

# sched_try LABEL [ARGS]: start_sched for one measured configuration; when
# it does not attach, record LABEL/start as failed, stop the daemon, return 1.
sched_try() {
	_st_label=$1
	shift
	start_sched "$@" && return 0
	_fail "$_st_label/start" "the scheduler did not attach"
	stop_daemon TERM 10
	return 1
}

# sched_end: stop the daemon and wait until the kernel's scheduler is back.
sched_end() {
	stop_daemon TERM 10
	wait_for 10 sched_is disabled
}

sched_enabled_ai_numa() {
	[ "$(sched_state)" = enabled ] && [ "$(sched_ops)" = ai_numa ]
}

# status_ms: the median and the slowest of 5 `status` calls, in ms, wall
# clock with the CLI's own start (under TCG on a loaded host one call in a
# few waits a second for a vCPU: the median says what the daemon does).
status_ms() {
	_all=
	for _k in 1 2 3 4 5; do
		_t=$(now_ms)
		"$SCXVM_CTL" status >/dev/null 2>&1 || { echo "99999 99999"; return; }
		_all="$_all $(($(now_ms) - _t))"
		sleep 0.2
	done
	echo "$_all" | tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{ v[NR] = $1 } END { print v[3], v[5] }'
}

# node1_pct OUT: the last reported share (%) of mem-worker's buffer on node 1.
node1_pct() {
	awk '/^t=/ { t = 0; r = 0; for (i = 2; i <= NF; i++) { split($i, kv, "=");
		if (kv[1] ~ /^node[0-9]+$/) { t += kv[2]; if (kv[1] == "node1") r = kv[2] } }
		last = t ? int(r * 100 / t) : 0 } END { print last + 0 }' "$1"
}

# stats_json: the daemon's stats (counters since attach, rates, queue depths).
stats_json() {
	"$SCXVM_CTL" --json stats
}

# stat_total NAME [JSON]: one counter summed over nodes.
stat_total() {
	if [ -n "${2:-}" ]; then
		printf '%s' "$2" | jq -r ".total.$1"
	else
		stats_json | jq -r ".total.$1"
	fi
}

# stat_node NODE NAME [JSON]: one counter of one node.
stat_node() {
	if [ -n "${3:-}" ]; then
		printf '%s' "$3" | jq -r ".nodes[] | select(.node == $1) | .counters.$2"
	else
		stats_json | jq -r ".nodes[] | select(.node == $1) | .counters.$2"
	fi
}

# attach_count: how many times the daemon attached (from its log).
attach_count() {
	grep -c 'attached: scheduling on' "$SCXVM_DAEMON_LOG" 2>/dev/null || echo 0
}

# cpu_busy_ticks CPU: user+nice+system+irq+softirq ticks of one CPU from /proc/stat.
cpu_busy_ticks() {
	awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 + $7 + $8 }' /proc/stat
}

# cpu_total_ticks CPU: all ticks of one CPU from /proc/stat.
cpu_total_ticks() {
	awk -v c="cpu$1" '$1 == c { s = 0; for (i = 2; i <= NF; i++) s += $i; print s }' /proc/stat
}

# busy_pct_min SECS CPU...: over the next SECS seconds, the busy share (%)
# of the least busy of the CPUs.
busy_pct_min() {
	_secs=$1
	shift
	_before=$(cat /proc/stat)
	sleep "$_secs"
	# The fields of cpu_busy_ticks and cpu_total_ticks; a CPU missing (offline) counts as idle.
	printf '%s\n--\n%s\n' "$_before" "$(cat /proc/stat)" | awk -v cpus="$*" '
		BEGIN { n = split(cpus, c, " "); for (i = 1; i <= n; i++) want["cpu" c[i]] = 1 }
		$1 == "--" { after = 1; next }
		$1 in want {
			b = $2 + $3 + $4 + $7 + $8; t = 0
			for (i = 2; i <= NF; i++) t += $i
			if (after) { db[$1] = b - db[$1]; dt[$1] = t - dt[$1] } else { db[$1] = b; dt[$1] = t }
		}
		END { m = 100; for (k in want) { p = dt[k] > 0 ? int(db[k] * 100 / dt[k]) : 0; if (p < m) m = p }; print m }'
}

# spawn_hogs_on_node NODE COUNT: CPU hogs started on NODE's CPUs (so their
# home is NODE), then allowed everywhere so the scheduler decides. Sets
# HOG_PIDS; stop them with kill_hogs.
spawn_hogs_on_node() {
	_cpus=$(cat "/sys/devices/system/node/node$1/cpulist")
	_i=0
	while [ "$_i" -lt "$2" ]; do
		taskset -c "$_cpus" sh -c 'while :; do :; done' &
		HOG_PIDS="${HOG_PIDS:-} $!"
		_i=$((_i + 1))
	done
	sleep 0.5
	for _p in $HOG_PIDS; do
		taskset -p "$(all_cpus_mask)" "$_p" >/dev/null 2>&1
	done
}

kill_hogs() {
	# shellcheck disable=SC2086
	[ -n "${HOG_PIDS:-}" ] || return 0
	# shellcheck disable=SC2086
	kill $HOG_PIDS 2>/dev/null
	# Only the hogs: a bare `wait` would also wait for the daemon.
	for _p in $HOG_PIDS; do
		wait "$_p" 2>/dev/null
	done
	HOG_PIDS=
}

# proc_ticks PID: user+system clock ticks the process has run. The fields
# are counted after "(comm) ", since a comm may contain spaces.
proc_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }

all_cpus_mask() {
	printf '%x' $(((1 << $(nproc --all)) - 1))
}

# mem_pct OUT NODE: the last share (%) of a mem-worker's buffer pages on
# NODE, from the report lines it writes to OUT.
mem_pct() {
	awk -v n="node$2" '/^t=/ { t = 0; r = 0; for (i = 2; i <= NF; i++) { split($i, kv, "=");
		if (kv[1] ~ /^node[0-9]+$/) { t += kv[2]; if (kv[1] == n) r = kv[2] } }
		last = t ? int(r * 100 / t) : 0 } END { print last + 0 }' "$1"
}

# mem_at_least OUT NODE PCT: the last report has at least PCT % of the pages on NODE (for wait_for).
mem_at_least() { [ "$(mem_pct "$1" "$2")" -ge "$3" ]; }
