#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The control plane under valgrind's memcheck: the daemon side (fake-daemon:
# the real control socket, methods and daemon state around a fake scheduler,
# since the host cannot attach a sched_ext scheduler) serves every
# scx-ai-numactl command, good and bad, each also run under memcheck, then a
# crowd of malformed and misbehaving clients (ctl-abuse); the real daemon
# binary runs the paths that need no kernel. Every process must end with no
# memcheck error, no definitely or indirectly lost block, the exit status
# its command promises, and (the CLI) no descriptor left open.
#
# usage: valgrind-control.sh CTL FAKE_DAEMON CTL_ABUSE DAEMON CONFIG   (TAP on stdout)
set -u
CTL=$1
FAKE=$2
ABUSE=$3
DAEMON=$4
CONF=$5
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }

if ! command -v valgrind >/dev/null 2>&1; then
	echo "1..0 # SKIP valgrind is not installed (scripts/deps.sh installs it)"
	exit 0
fi
# A sanitizer build cannot run under valgrind; scripts/sanitize-test.sh covers it.
if ldd "$FAKE" 2>/dev/null | grep -Eq 'lib(asan|ubsan)'; then
	echo "1..0 # SKIP sanitizer build: memcheck and ASan exclude each other"
	exit 0
fi

dir=$(mktemp -d)
sock=$dir/run/control.sock
fake_pid=
VG_RC=99
# Every memcheck finding is an error, leaks of the two kinds that mean
# "nothing points at it any more" included; "still reachable" is not a leak.
# vg LOG CMD...; in the background as `vg_exec LOG CMD... &`, so that $! is
# the traced process itself and not a subshell around it.
vg() {
	_vlog=$1
	shift
	valgrind --tool=memcheck --error-exitcode=$VG_RC --leak-check=full \
		--show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
		--track-fds=yes --num-callers=30 --log-file="$_vlog" "$@"
}
vg_exec() {
	_vlog=$1
	shift
	exec valgrind --tool=memcheck --error-exitcode=$VG_RC --leak-check=full \
		--show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
		--track-fds=yes --num-callers=30 --log-file="$_vlog" "$@"
}

cleanup() {
	[ -n "$fake_pid" ] && kill -KILL "$fake_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

# vg_clean LOG: no errors, no lost blocks. Prints why not.
vg_clean() {
	if ! grep -q 'ERROR SUMMARY: 0 errors' "$1"; then
		grep -E 'ERROR SUMMARY|definitely lost|indirectly lost|Invalid|uninitialised|at 0x|by 0x' "$1" |
			head -n 40 | sed 's/^/#   /'
		return 1
	fi
	return 0
}

# fds_left LOG: descriptors the process itself opened and left open at exit (not 0-2, not inherited).
fds_left() {
	awk '/Open (file descriptor|AF_UNIX socket|AF_INET socket) [0-9]+/ {
		fd = $0; sub(/.*(descriptor|socket) /, "", fd); sub(/:.*/, "", fd); pending = fd + 0; next }
	     pending > 2 && /inherited from parent/ { pending = -1; next }
	     pending > 2 && /at 0x|by 0x|<unknown>/ { print pending; pending = -1 }' "$1" | sort -u | tr '\n' ' '
}

# ctl NAME WANT_RC ARGS...: the CLI under memcheck against our socket.
ctl() {
	name=$1 want=$2
	shift 2
	log=$dir/vg-ctl.$n.log
	vg "$log" "$CTL" -s "$sock" "$@" >"$dir/out" 2>"$dir/err"
	rc=$?
	left=$(fds_left "$log")
	if [ "$rc" -eq "$want" ] && vg_clean "$log" && [ -z "$left" ]; then
		ok "memcheck clean, exit $rc: scx-ai-numactl $* ($name)"
	else
		not_ok "memcheck clean, exit $want: scx-ai-numactl $* ($name)"
		echo "#   exit $rc (want $want; $VG_RC is memcheck's), fds left open: ${left:-none}"
		sed 's/^/#   | /' "$dir/err" | head -n 5
	fi
}

# ---- the daemon side -------------------------------------------------------
vg_exec "$dir/vg-daemon.log" "$FAKE" "$sock" >"$dir/fake.out" 2>"$dir/fake.err" &
fake_pid=$!
for _ in $(seq 600); do
	grep -q ready "$dir/fake.out" && break
	kill -0 "$fake_pid" 2>/dev/null || break
	sleep 0.1
done
if ! grep -q ready "$dir/fake.out"; then
	echo "Bail out! fake-daemon under valgrind did not start"
	sed 's/^/# /' "$dir/fake.err" "$dir/vg-daemon.log" | tail -n 30
	exit 1
fi

ctl status 0 status
ctl status-json 0 --json status
ctl stats 0 stats
ctl stats-json 0 --json stats
ctl topology 0 topology
ctl topology-json 0 --json topology
ctl tunables 0 tunables
ctl tunables-json 0 --json tunables
ctl get 0 get slice_ns
ctl get-json 0 --json get steal
ctl set-good 0 set slice_ns 5ms
ctl set-good-json 0 --json set steal off
ctl set-bad-range 1 set slice_ns -5
ctl set-bad-bool 1 set steal maybe
ctl set-bad-json 1 --json set slice_ns 99parsecs
ctl get-unknown 1 get no_such_tunable
ctl get-unknown-json 1 --json get no_such_tunable
ctl help 0 --help
ctl usage-unknown-command 2 reboot
ctl usage-missing-value 2 set slice_ns
ctl usage-bad-option 2 --frobnicate status

# --watch until SIGINT: the loop's exit path frees what the calls allocated.
log=$dir/vg-ctl-watch.log
vg_exec "$log" "$CTL" -s "$sock" stats --watch 1 >"$dir/watch" 2>"$dir/err" &
wpid=$!
# Under valgrind on a loaded machine a sample can take seconds: wait for two
# (at most 60 s) instead of guessing a sleep.
for _ in $(seq 1 120); do
	[ "$(grep -c '^COUNTER' "$dir/watch" 2>/dev/null)" -ge 2 ] && break
	sleep 0.5
done
kill -INT "$wpid"
wait "$wpid"
rc=$?
samples=$(grep -c '^COUNTER' "$dir/watch")
left=$(fds_left "$log")
if [ "$rc" -eq 0 ] && [ "$samples" -ge 2 ] && vg_clean "$log" && [ -z "$left" ]; then
	ok "memcheck clean: scx-ai-numactl stats --watch 1, $samples samples, exit 0 on SIGINT"
else
	not_ok "memcheck clean: scx-ai-numactl stats --watch 1, exit 0 on SIGINT"
	echo "#   exit $rc, $samples samples, fds left open: ${left:-none}"
fi

# Malformed and misbehaving clients at the daemon: garbage with and without
# NULs, messages at the size cap, half messages, hangups mid-call, streams
# and floods nobody reads, more clients than the cap. Memcheck makes the
# daemon some 30 times slower, hence the patience.
# Fewer clients than the cap, so that each runs to its end (the cap phase
# still puts 100 at once against it).
"$ABUSE" --pid "$fake_pid" --no-rss-check --clients 48 --rounds 1 --seconds 8 --garbage-kb 16 \
	--patience-ms 30000 --max-latency-ms 30000 "$sock" >"$dir/abuse.out" 2>"$dir/abuse.err"
rc=$?
sed -n 's/^# /#   abuse: /p; s/^not ok/#   abuse: not ok/p' "$dir/abuse.out"
if [ "$rc" -eq 0 ] && ! grep -q '^not ok' "$dir/abuse.out"; then
	ok "malformed and misbehaving clients against the daemon under memcheck: every ctl-abuse check passed"
else
	not_ok "malformed and misbehaving clients against the daemon under memcheck (ctl-abuse exit $rc)"
	tail -n 5 "$dir/abuse.err" | sed 's/^/#   /'
fi

kill -TERM "$fake_pid"
wait "$fake_pid"
rc=$?
fake_pid=
socks=$(grep -c 'Open AF_UNIX socket' "$dir/vg-daemon.log")
grep -E 'in use at exit|total heap usage|definitely lost|indirectly lost|ERROR SUMMARY' "$dir/vg-daemon.log" |
	sed 's/^==[0-9]*== */#   daemon: /'
if [ "$rc" -eq 0 ] && vg_clean "$dir/vg-daemon.log"; then
	ok "the daemon's control plane after all of it: memcheck clean, exit 0 on SIGTERM"
else
	not_ok "the daemon's control plane after all of it: memcheck clean, exit 0 on SIGTERM (exit $rc)"
fi
if [ "$socks" -eq 0 ]; then
	ok "the daemon closed its listening socket and every client before exiting"
else
	not_ok "the daemon left $socks Unix sockets open at exit"
fi

# The CLI with nobody listening: the error path frees as well.
rm -f "$sock"
ctl no-daemon 1 status

# ---- the real daemon, where no kernel is needed ----------------------------
# daemon NAME WANT_RC ARGS...
daemon() {
	name=$1 want=$2
	shift 2
	log=$dir/vg-daemon.$n.log
	vg "$log" "$DAEMON" "$@" >"$dir/out" 2>"$dir/err" </dev/null
	rc=$?
	if [ "$rc" -eq "$want" ] && vg_clean "$log"; then
		ok "memcheck clean, exit $rc: scx_ai_numad $* ($name)"
	else
		not_ok "memcheck clean, exit $want: scx_ai_numad $* ($name)"
		echo "#   exit $rc (want $want; $VG_RC is memcheck's)"
		sed 's/^/#   | /' "$dir/err" | head -n 5
	fi
}
printf 'slice_ns = 7ms\nsteal = maybe\n' >"$dir/bad.conf"
# A sysfs where another scheduler is active: the daemon must refuse before loading anything.
mkdir -p "$dir/sysfs/sys/kernel/sched_ext/root"
echo enabled >"$dir/sysfs/sys/kernel/sched_ext/state"
echo other_sched >"$dir/sysfs/sys/kernel/sched_ext/root/ops"
daemon help 0 --help
daemon version 0 --version
daemon check-config 0 --check-config --config "$CONF"
daemon check-config-bad 6 --check-config --config "$dir/bad.conf"
daemon usage 2 --max-failures 0
if [ "$(id -u)" -eq 0 ]; then
	daemon preflight-busy 1 --config "$CONF" --sysfs-root "$dir/sysfs" --socket "$dir/d.sock"
else
	n=$((n + 1)); echo "ok $n # SKIP the preflight path needs root"
fi

echo "1..$n"
[ "$failed" -eq 0 ]
