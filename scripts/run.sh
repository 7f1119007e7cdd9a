#!/usr/bin/env bash
# Run scx_ai_numa with live per-node stats.
#   scripts/run.sh [SECONDS]
# On a host whose kernel has sched_ext the daemon runs right here (until
# Ctrl-C). Otherwise it runs inside the bundled VM (Debian's sched_ext
# kernel, 2 NUMA nodes x 2 CPUs) for SECONDS (default 60) under a demo load.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
secs=${1:-60}
case "$secs" in ''|*[!0-9]*) echo "usage: scripts/run.sh [SECONDS]" >&2; exit 2 ;; esac

if [ "$(id -u)" -eq 0 ]; then scripts/deps.sh; else sudo scripts/deps.sh; fi
[ -f build/build.ninja ] || meson setup build >/dev/null
meson compile -C build >/dev/null

if [ -d /sys/kernel/sched_ext ]; then
	echo "run: this kernel has sched_ext: running scx_ai_numad here (Ctrl-C detaches)"
	if [ "$(id -u)" -eq 0 ]; then exec build/scx_ai_numad -v; else exec sudo build/scx_ai_numad -v; fi
fi
echo "run: this kernel has no sched_ext: running the scheduler in the bundled VM for ${secs}s"
exec tests/vm/run.sh -v --bindir build --scenario-timeout $((secs + 120)) \
	--append "scxvm_demo_secs=$secs" tests/vm/demo/demo.sh
