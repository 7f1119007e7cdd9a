#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# scx-ai-numactl end to end against fake-daemon: exit statuses (0 ok,
# 1 refused by the daemon or unreachable, 2 usage), the messages a person
# reads, and that a set is what the next get and stats --watch see.
#
# usage: test-ctl.sh CTL FAKE_DAEMON      (TAP on stdout)
set -u
CTL=$1
FAKE=$2
dir=$(mktemp -d)
sock=$dir/run/control.sock
n=0
failed=0
pid=

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }

# run ARGS...: runs the CLI on our socket; sets rc, out, err
run() {
	"$CTL" -s "$sock" "$@" >"$dir/out" 2>"$dir/err"
	rc=$?
	out=$(cat "$dir/out")
	err=$(cat "$dir/err")
}

# expect RC TEXT DESCRIPTION: exit status RC and TEXT somewhere in stdout or stderr
expect() {
	if [ "$rc" -eq "$1" ] && { [ -z "$2" ] || printf '%s\n%s\n' "$out" "$err" | grep -qF -- "$2"; }; then
		ok "$3"
	else
		not_ok "$3"
		echo "#   exit $rc (want $1), wanted text: $2"
		printf '%s\n' "$out" "$err" | sed 's/^/#   /'
	fi
}

start_daemon() {
	: >"$dir/fake.out"
	"$FAKE" "$sock" >"$dir/fake.out" 2>"$dir/fake.err" &
	pid=$!
	for _ in $(seq 200); do
		grep -q ready "$dir/fake.out" && return 0
		sleep 0.05
	done
	echo "Bail out! fake-daemon did not start: $(cat "$dir/fake.err")"
	exit 1
}

cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

run status
expect 1 "scx_ai_numad not running? ($sock: No such file or directory)" \
	"no socket: 'not running?' with the path and the errno text, exit 1"

start_daemon

run --help
expect 0 "usage: scx-ai-numactl" "--help prints usage, exit 0"
run reboot
expect 2 "unknown command 'reboot': expected one of status, stats, topology, tunables, get, set" \
	"an unknown command lists the commands, exit 2"
run set slice_ns
expect 2 "set: missing VALUE" "a missing argument is named, exit 2"

run status
expect 0 "running" "status shows the scheduler running"
run status --json
expect 0 '"state":"running"' "status --json prints the daemon's JSON"
run topology
expect 0 "0-3" "topology shows node 0's CPUs as a range"
run tunables
expect 0 "home_move_ns" "tunables lists the table"
run stats
expect 0 "NODE 2" "stats has a column per node, by kernel id"

# field NAME: the integer NAME of the last --json reply
field() { printf '%s' "$out" | tr -d ' \n' | grep -o "\"$1\":[0-9]*" | grep -o '[0-9]*$'; }
run --json get slice_ns
ns=$(field value)
range="$(field min)..$(field max)"
run get slice_ns
expect 0 "(${ns:-?} ns)" "get shows the value with its unit and in ns ($ns)"
run set slice_ns 5ms
expect 0 " -> 5ms" "set prints old -> new"
run get slice_ns --json
expect 0 '"value":5000000' "the next get sees the new value"
run set slice_ns -5
expect 1 "expected an integer $range ns" "set slice_ns -5 is refused naming the range ($range), exit 1"
run get slice_ns
expect 0 "5ms (5000000 ns)" "and the value is unchanged"
run set steal maybe
expect 1 "expected on or off" "set steal maybe names on and off, exit 1"
run set steal on
run set steal off
expect 0 "steal: on -> off" "set steal off"
run get nope
expect 1 "unknown tunable 'nope'; known: slice_ns" "an unknown tunable lists the known ones, exit 1"
run --json get nope
expect 1 '"error":"io.scx-ai-numa.UnknownTunable"' "--json prints the error object as well"

# --watch: samples keep coming until SIGINT, and the counters move.
# One SIGINT to the CLI alone (timeout(1) would signal the whole group twice).
"$CTL" -s "$sock" --json stats --watch 1 >"$dir/watch" 2>"$dir/err" &
wpid=$!
sleep 2.5
kill -INT "$wpid"
wait "$wpid"
rc=$?
lines=$(wc -l <"$dir/watch")
first=$(head -n 1 "$dir/watch" | grep -o '"total":{"direct":[0-9]*' | grep -o '[0-9]*$')
last=$(tail -n 1 "$dir/watch" | grep -o '"total":{"direct":[0-9]*' | grep -o '[0-9]*$')
if [ "$rc" -eq 0 ] && [ "$lines" -ge 2 ] && [ -n "$first" ] && [ -n "$last" ] && [ "$last" -gt "$first" ]; then
	ok "stats --watch 1 --json: $lines samples, direct $first -> $last, exit 0 on SIGINT"
else
	not_ok "stats --watch 1 --json: samples that move, exit 0 on SIGINT"
	echo "#   exit $rc, $lines lines, direct '$first' -> '$last'"
fi

if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	chmod 755 "$dir"
	nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$CTL" -s "$sock" "$@" >"$dir/out" 2>"$dir/err"; rc=$?
		out=$(cat "$dir/out"); err=$(cat "$dir/err"); }
	nobody status
	expect 1 "permission denied ($sock: Permission denied)" "nobody cannot connect to the 0660 socket, exit 1"
	chmod 666 "$sock"
	nobody status
	expect 0 "running" "on a widened socket nobody may read"
	nobody set steal on
	expect 1 "permission denied: io.scx-ai-numa.SetTunable needs root" "but not set, exit 1"
	run get steal
	expect 0 "off" "and steal stayed off"
else
	n=$((n + 1)); echo "ok $n # SKIP permission checks need root and setpriv"
fi

# A daemon that died without cleaning up leaves a socket nobody listens on.
kill -KILL "$pid"
wait "$pid" 2>/dev/null
pid=
run status
expect 1 "scx_ai_numad not running? ($sock: Connection refused)" "a stale socket: 'not running?', exit 1"
start_daemon
run status
expect 0 "running" "a restarted daemon replaces the stale socket"

# A success reply without the method's fields is a protocol error, never exit 0.
"$FAKE" --empty-replies "$dir/empty.sock" >"$dir/empty.out" 2>&1 &
epid=$!
for _ in $(seq 200); do
	grep -q ready "$dir/empty.out" && break
	sleep 0.05
done
esock=$sock
sock=$dir/empty.sock
run status
expect 1 "bad reply from $sock: \"state\" missing" "status: a reply without its fields is an error naming one, exit 1"
run --json status
expect 1 "bad reply" "status --json: the same, exit 1"
run get slice_ns
expect 1 "\"tunable\" missing" "get: a reply without the tunable, exit 1"
run set steal on
expect 1 "\"tunable\" missing" "set: a reply without the tunable, exit 1"
run pins
expect 1 "\"pins\" missing" "pins: a reply without the pins, exit 1"
run pin 1 0
expect 1 "\"pin\" missing" "pin: a reply without the pin, exit 1"
sock=$esock
kill "$epid"
wait "$epid" 2>/dev/null

echo "1..$n"
[ "$failed" -eq 0 ]
