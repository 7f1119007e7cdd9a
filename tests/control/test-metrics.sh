#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `scx-ai-numactl metrics` against fake-daemon (the real control code around
# a fake scheduler): it prints what promtool (Debian: prometheus) accepts,
# lint included, ends with "# EOF", and its series say what the Stats reply
# says: one series a node with node="N" for each gauge and each counter,
# counters named *_total (nanosecond ones as *_seconds_total), the fixed
# queue depths equal to the reply's.
#
# usage: test-metrics.sh CTL FAKE_DAEMON      (TAP on stdout)
set -u
CTL=$1 FAKE=$2
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/fake.sh"

dir=$(mktemp -d)
sock=$dir/run/control.sock
FAKE_PID=
cleanup() {
	[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

start_fake "$FAKE" "$sock"
# A placed job: the fake daemon itself, pinned; its run time is kept, its memory sampled, from
# the next gathering on.
"$CTL" -s "$sock" pin "$FAKE_PID" 0 >/dev/null || bail "pin failed"
for _ in $(seq 80); do
	"$CTL" -s "$sock" metrics | grep -q "^scx_ai_numa_process_memory_locality_ratio{pid=\"$FAKE_PID\"" && break
	sleep 0.1
done

"$CTL" -s "$sock" --json stats >"$dir/stats.json" || bail "scx-ai-numactl stats failed"
"$CTL" -s "$sock" metrics >"$dir/metrics" 2>"$dir/err"
rc=$?
check "metrics exits 0 (stderr: $(head -c 200 "$dir/err"))" test "$rc" -eq 0
check "the output ends with the EOF marker" test "$(tail -n 1 "$dir/metrics")" = "# EOF"

if command -v promtool >/dev/null; then
	out=$(promtool check metrics <"$dir/metrics" 2>&1)
	prc=$?
	if [ "$prc" -eq 0 ] && [ -z "$out" ]; then
		ok "promtool check metrics accepts it without a lint complaint"
	else
		not_ok "promtool check metrics accepts it without a lint complaint (exit $prc)"
		sed 's/^/#   /' <<<"$out"
	fi
else
	skip "no promtool (Debian: prometheus)"
fi

# Every counter family is a *_total, every metric has HELP and TYPE.
check "every counter's name ends in _total" \
	bash -c "! grep '^# TYPE .* counter\$' '$dir/metrics' | grep -v '_total counter\$'"
check "every family has a HELP line" \
	test "$(grep -c '^# TYPE ' "$dir/metrics")" -eq "$(grep -c '^# HELP ' "$dir/metrics")"

/usr/bin/python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
for n in s["nodes"]:
    print("node", n["node"], n["queued"], n["counters"]["direct"])
for k in s["total"]:
    print("counter", k)
' "$dir/stats.json" >"$dir/want" || bail "unreadable Stats reply"
counters=$(awk '$1 == "counter" { print $2 }' "$dir/want")
while read -r _ node queued direct; do
	check "node $node: scx_ai_numa_queued_tasks is $queued, as in the Stats reply" \
		grep -qx "scx_ai_numa_queued_tasks{node=\"$node\"} $queued" "$dir/metrics"
	missing=
	for c in $counters; do
		# Nanosecond counters are exported in seconds; lat_wake_ns is its histogram's sum.
		case $c in lat_wake_ns) m=lat_wake_seconds_sum ;; *_ns) m=${c%_ns}_seconds_total ;; *) m=${c}_total ;; esac
		grep -q "^scx_ai_numa_$m{node=\"$node\"} [0-9]" "$dir/metrics" || missing="$missing $c"
	done
	check "node $node: a counter series for each of the reply's counters${missing:+ (missing:$missing)}" \
		test -z "$missing"
	# The fake scheduler's counters grow on every read: the later call sees more.
	got=$(sed -n "s/^scx_ai_numa_direct_total{node=\"$node\"} //p" "$dir/metrics")
	check "node $node: scx_ai_numa_direct_total ($got) is at least the earlier reply's $direct" \
		test "${got:-0}" -ge "$direct"
	# The launcher wake-latency histogram: cumulative buckets ending in +Inf, which is the count.
	inf=$(sed -n "s/^scx_ai_numa_lat_wake_seconds_bucket{node=\"$node\",le=\"+Inf\"} //p" "$dir/metrics")
	cnt=$(sed -n "s/^scx_ai_numa_lat_wake_seconds_count{node=\"$node\"} //p" "$dir/metrics")
	mono=$(grep "^scx_ai_numa_lat_wake_seconds_bucket{node=\"$node\"," "$dir/metrics" |
		awk '{ if ($2 < last) bad = 1; last = $2 } END { print bad ? "no" : "yes" }')
	check "node $node: lat_wake_seconds is a histogram: cumulative buckets, +Inf = count ($inf = $cnt), a sum" \
		test -n "$inf" -a "$inf" = "$cnt" -a "$mono" = yes -a "$inf" -gt 0
done < <(grep '^node ' "$dir/want")
check "the lat_wake_ns counter is not exported twice (it is the histogram's _sum)" \
	bash -c "! grep -q '^scx_ai_numa_lat_wake_seconds_total' '$dir/metrics'"
check "the pinned process has its run time at home and away, labelled by pid and command" \
	bash -c "grep -q '^scx_ai_numa_process_home_run_seconds_total{pid=\"$FAKE_PID\",comm=\"fake-daemon\"} [0-9]' '$dir/metrics' &&
		 grep -q '^scx_ai_numa_process_away_run_seconds_total{pid=\"$FAKE_PID\",comm=\"fake-daemon\"} [0-9]' '$dir/metrics'"
check "and its memory locality as a ratio" \
	grep -q "^scx_ai_numa_process_memory_locality_ratio{pid=\"$FAKE_PID\",comm=\"fake-daemon\"} [01]" "$dir/metrics"
check "processes not placed by us (affinity homes) have no series" \
	test "$(grep -c '^scx_ai_numa_process_home_run_seconds_total' "$dir/metrics")" -eq 1
tap_end
