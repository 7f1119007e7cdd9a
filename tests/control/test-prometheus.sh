#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end with the real parts a fleet uses: `scx-ai-numactl metrics`
# (against fake-daemon) writes a file for Debian's prometheus-node-exporter
# textfile collector, Debian's prometheus scrapes that exporter, and a
# PromQL query over its HTTP API returns the per-node locality series
# (scx_ai_numa_home_run_seconds_total, run time on each node of the tasks
# whose home it is), one per node of the Stats reply, labelled node="N".
# Both servers run as plain processes on free localhost ports, with
# temporary configuration and storage. Skipped only when the binaries are
# missing (scripts/deps.sh installs them).
#
# usage: test-prometheus.sh CTL FAKE_DAEMON      (TAP on stdout)
set -u
CTL=$1 FAKE=$2
PY=/usr/bin/python3
EXPORTER=${NODE_EXPORTER:-/usr/bin/prometheus-node-exporter}
PROMETHEUS=${PROMETHEUS:-/usr/bin/prometheus}
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/fake.sh"

for b in "$EXPORTER" "$PROMETHEUS"; do
	[ -x "$b" ] || { echo "1..0 # SKIP $b missing (Debian: prometheus, prometheus-node-exporter)"; exit 0; }
done

dir=$(mktemp -d)
sock=$dir/run/control.sock
pids=() FAKE_PID=
cleanup() {
	for p in "${pids[@]}" $FAKE_PID; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

# A port the kernel says is free now.
free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# get URL: the body, or nothing.
get() {
	"$PY" -c '
import sys, urllib.request
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())
except Exception as e:
    print("error:", e, file=sys.stderr)
' "$1"
}

start_fake "$FAKE" "$sock"
nodes=$("$CTL" -s "$sock" --json stats | "$PY" -c '
import json, sys
print(" ".join(sorted(str(n["node"]) for n in json.load(sys.stdin)["nodes"])))')
[ -n "$nodes" ] || bail "no nodes in the Stats reply"

# The textfile collector reads *.prom; written aside and renamed, as its documentation asks.
mkdir "$dir/textfile"
"$CTL" -s "$sock" metrics >"$dir/textfile/scx_ai_numa.prom.tmp" &&
	mv "$dir/textfile/scx_ai_numa.prom.tmp" "$dir/textfile/scx_ai_numa.prom"
check "scx-ai-numactl metrics wrote the textfile" test -s "$dir/textfile/scx_ai_numa.prom"

eport=$(free_port)
"$EXPORTER" --web.listen-address="127.0.0.1:$eport" --collector.disable-defaults --collector.textfile \
	--collector.textfile.directory="$dir/textfile" >"$dir/exporter.log" 2>&1 &
pids+=($!)
body=
for _ in $(seq 100); do
	body=$(get "http://127.0.0.1:$eport/metrics" 2>/dev/null)
	[ -n "$body" ] && break
	sleep 0.1
done
check "node_exporter serves our series from the textfile" grep -q '^scx_ai_numa_direct_total{node=' <<<"$body"
if grep -qx 'node_textfile_scrape_error 0' <<<"$body"; then
	ok "node_exporter read the textfile without an error"
else
	not_ok "node_exporter read the textfile without an error"
	grep -i textfile "$dir/exporter.log" | tail -3 | sed 's/^/#   /'
fi

pport=$(free_port)
cat >"$dir/prometheus.yml" <<EOT
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['127.0.0.1:$eport']
EOT
"$PROMETHEUS" --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
	--web.listen-address="127.0.0.1:$pport" >"$dir/prometheus.log" 2>&1 &
pids+=($!)
query="http://127.0.0.1:$pport/api/v1/query?query=scx_ai_numa_home_run_seconds_total"
got=
for _ in $(seq 120); do
	got=$(get "$query" 2>/dev/null | "$PY" -c '
import json, sys
try:
    r = json.load(sys.stdin)
except ValueError:
    sys.exit(0)
if r.get("status") == "success":
    print(" ".join(sorted(s["metric"].get("node", "?") for s in r["data"]["result"])))
' 2>/dev/null)
	[ -n "$got" ] && break
	sleep 0.5
done
if [ "$got" = "$nodes" ]; then
	ok "PromQL scx_ai_numa_home_run_seconds_total returns one series per node ($got)"
else
	not_ok "PromQL scx_ai_numa_home_run_seconds_total returns one series per node: got '${got}', want '$nodes'"
	tail -5 "$dir/prometheus.log" | sed 's/^/#   /'
fi
tap_end
