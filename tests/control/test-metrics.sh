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
		# Nanosecond counters are exported in seconds.
		case $c in *_ns) m=${c%_ns}_seconds_total ;; *) m=${c}_total ;; esac
		grep -q "^scx_ai_numa_$m{node=\"$node\"} [0-9]" "$dir/metrics" || missing="$missing $c"
	done
	check "node $node: a counter series for each of the reply's counters${missing:+ (missing:$missing)}" \
		test -z "$missing"
	# The fake scheduler's counters grow on every read: the later call sees more.
	got=$(sed -n "s/^scx_ai_numa_direct_total{node=\"$node\"} //p" "$dir/metrics")
	check "node $node: scx_ai_numa_direct_total ($got) is at least the earlier reply's $direct" \
		test "${got:-0}" -ge "$direct"
done < <(grep '^node ' "$dir/want")
tap_end
