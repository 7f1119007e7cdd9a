#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The scx_stats endpoint against upstream's own client: sched-ext/scx's
# scxstats_to_openmetrics.py, unmodified, run by Debian's python3 (it needs
# python3-prometheus-client) against fake-daemon, the real control and
# scx_stats code around a fake scheduler. Proves that our stats_meta is one
# it understands and that it prints, for every node the Stats reply lists,
# one gauge per node field with the value of that reply (the queue depths,
# which the fake scheduler holds still, and each node's locality), plus the
# top-level gauges, and the gauges of a pinned job labelled by its pid.
#
# usage: test-scxstats-interop.sh CTL FAKE_DAEMON SCRIPT     (TAP on stdout)
set -u
CTL=$1 FAKE=$2 SCRIPT=$3
PY=/usr/bin/python3
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/fake.sh"

# TAP's own skip (a plan of 0 and exit 0): meson reads exit 77 of a TAP test as an error.
[ -f "$SCRIPT" ] || { echo "1..0 # SKIP upstream's scxstats_to_openmetrics.py is not at $SCRIPT"; exit 0; }
"$PY" -c 'import prometheus_client' 2>/dev/null ||
	{ echo "1..0 # SKIP $PY has no prometheus_client (Debian: python3-prometheus-client)"; exit 0; }

dir=$(mktemp -d)
sock=$dir/run/control.sock
stats=$dir/scx/root/stats
FAKE_PID=
cleanup() {
	[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

start_fake "$FAKE" "$sock" --stats-socket "$stats"
check "the endpoint's socket exists" test -S "$stats"
# A placed job, the fake daemon itself: the fake scheduler kept 3/4 of its run time at home.
"$CTL" -s "$sock" pin "$FAKE_PID" 0 >/dev/null || bail "pin failed"
for _ in $(seq 60); do
	"$CTL" -s "$sock" --json pins | grep -q '"run_home_ns":[0-9]' && break
	sleep 0.1
done

# What the control socket says, as "NODE QUEUED" lines and the counter names.
"$CTL" -s "$sock" --json stats >"$dir/stats.json" || bail "scx-ai-numactl stats failed"
"$PY" -c '
import json, sys
s = json.load(open(sys.argv[1]))
for n in s["nodes"]:
    c = n["counters"]
    home, away = c["home_run_ns"], c["away_run_ns"]
    print("node", n["node"], n["queued"], home / (home + away) if home + away else 1.0)
for k in s["total"]:
    print("counter", k)
' "$dir/stats.json" >"$dir/want" || bail "unreadable Stats reply"
nodes=$(awk '$1 == "node" { print $2 }' "$dir/want")
[ "$(wc -w <<<"$nodes")" -ge 2 ] || bail "the fixture should have two nodes with CPUs, got: $nodes"

# It prints the gauges every interval and loops until killed.
timeout 4 "$PY" "$SCRIPT" -p "$stats" -i 1 >"$dir/om" 2>"$dir/om.err"
check "the exporter printed gauges (stderr: $(head -c 300 "$dir/om.err" | tr '\n' ' '))" \
	grep -q '^scx_ai_numa_' "$dir/om"
check "it found no field it could not translate" bash -c "! grep -q 'unsupported type' '$dir/om.err'"
check "the top-level gauge scx_ai_numa_attached is 1" grep -qx 'scx_ai_numa_attached 1.0' "$dir/om"

fields="cpus online_cpus queued locality lat_wake_p50_us lat_wake_p99_us $(awk '$1 == "counter" { print $2 }' "$dir/want")"
for node in $nodes; do
	missing=
	for f in $fields; do
		grep -q "^scx_ai_numa_node_$f{node=\"$node\"} " "$dir/om" || missing="$missing $f"
	done
	if [ -z "$missing" ]; then
		ok "node $node: one gauge per field ($(wc -w <<<"$fields") fields)"
	else
		not_ok "node $node: one gauge per field; missing:$missing"
	fi
	queued=$(awk -v n="$node" '$1 == "node" && $2 == n { print $3 }' "$dir/want")
	check "node $node: scx_ai_numa_node_queued is $queued, as the Stats reply says" \
		grep -qx "scx_ai_numa_node_queued{node=\"$node\"} $queued.0" "$dir/om"
	# The fake scheduler's counters move between the two readings: about the same share.
	want=$(awk -v n="$node" '$1 == "node" && $2 == n { print $4 }' "$dir/want")
	got=$(sed -n "s/^scx_ai_numa_node_locality{node=\"$node\"} //p" "$dir/om" | tail -n 1)
	check "node $node: scx_ai_numa_node_locality ($got) is home / (home + away) run time ($want)" \
		awk -v g="${got:-x}" -v w="$want" 'BEGIN { exit !(g != "x" && g - w < 0.01 && w - g < 0.01) }'
done
check "the pinned job's locality, labelled by its pid, is 3/4" \
	grep -qx "scx_ai_numa_job_locality{pid=\"$FAKE_PID\"} 0.75" "$dir/om"
check "with its run time at home and away" bash -c \
	"grep -q '^scx_ai_numa_job_home_run_ns{pid=\"$FAKE_PID\"} [1-9]' '$dir/om' &&
	 grep -q '^scx_ai_numa_job_away_run_ns{pid=\"$FAKE_PID\"} [1-9]' '$dir/om'"
# It printed several times: count the distinct series.
check "and only placed jobs (affinity homes are not)" \
	test "$(grep '^scx_ai_numa_job_locality{' "$dir/om" | sed 's/}.*//' | sort -u | wc -l)" -eq 1
tap_end
