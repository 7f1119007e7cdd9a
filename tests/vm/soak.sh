#!/usr/bin/env bash
# The long soak: scenarios/80-soak.sh (which CI runs for 60 s) for SECS
# seconds, default $SOAK_SECS or 600, in a VM of its own.
#
#   tests/vm/soak.sh [SECS] [tests/vm/run.sh OPTIONS...]
#   SOAK_SECS=1800 tests/vm/soak.sh --bindir build-rel --keep-log soak.log
#
# The scenario's limit is the soak plus four minutes for boot, warm-up and
# the daemon's shutdown; the hotplug period and the number of hostile
# clients go through --append (scxvm_soak_hotplug_ms=, scxvm_soak_clients=).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
secs=${SOAK_SECS:-600}
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then
	secs=$1
	shift
fi
[ "$secs" -ge 10 ] || { echo "soak: at least 10 seconds" >&2; exit 2; }
append="scxvm_soak_secs=$secs"
args=()
while [ $# -gt 0 ]; do
	if [ "$1" = --append ] && [ $# -ge 2 ]; then
		append+=" $2"
		shift 2
	else
		args+=("$1")
		shift
	fi
done
exec "$here/run.sh" --scenario-timeout $((secs + 240)) --append "$append" "${args[@]+"${args[@]}"}" 80-soak
