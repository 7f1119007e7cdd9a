#!/usr/bin/env bash
# The long soak: scenarios/80-soak.sh (which CI runs for 60 s) for SECS
# seconds, default $SOAK_SECS or 600, in a VM of its own.
#
#   tests/vm/soak.sh [SECS | --minutes N] [--all] [tests/vm/run.sh OPTIONS...]
#   tests/vm/soak.sh --minutes 10 --all --bindir build --keep-log soak.log
#   SOAK_SECS=1800 tests/vm/soak.sh --bindir build-rel --keep-log soak.log
#
# --all adds memory migration, scx_stats and metrics traffic and pins to the
# load, and asserts the scheduler attached in >= 99 % of the samples and no
# pipeline stall (see the scenario). The scenario's limit is the soak plus
# four minutes for boot, warm-up and the daemon's shutdown; the hotplug
# period and the number of hostile clients go through --append
# (scxvm_soak_hotplug_ms=, scxvm_soak_clients=).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
secs=${SOAK_SECS:-600}
append=
args=()
while [ $# -gt 0 ]; do
	case $1 in
	[0-9]*)
		[[ "$1" =~ ^[0-9]+$ ]] || { echo "soak: bad seconds: $1" >&2; exit 2; }
		secs=$1
		shift ;;
	--minutes)
		[[ "${2:-}" =~ ^[0-9]+$ ]] || { echo "soak: --minutes needs a whole number" >&2; exit 2; }
		secs=$(($2 * 60))
		shift 2 ;;
	--all)
		append+=" scxvm_soak_all=1"
		shift ;;
	--append)
		[ $# -ge 2 ] || { echo "soak: --append needs a value" >&2; exit 2; }
		append+=" $2"
		shift 2 ;;
	*)
		args+=("$1")
		shift ;;
	esac
done
[ "$secs" -ge 10 ] || { echo "soak: at least 10 seconds" >&2; exit 2; }
append="scxvm_soak_secs=$secs$append"
exec "$here/run.sh" --scenario-timeout $((secs + 240)) --append "$append" "${args[@]+"${args[@]}"}" 80-soak
