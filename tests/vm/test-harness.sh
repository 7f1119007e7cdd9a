#!/usr/bin/env bash
# Test of run.sh's handling of a boot lost to the emulator fault (multi-
# threaded TCG dying with "Oops: int3" in kernel text being patched): the
# scenarios in harness/ crash the guest on purpose, with and without that
# signature, and this checks what run.sh makes of it. Costs 8 boots (2-4
# min); needs the VM, so it is neither a meson test nor in scripts/test.sh.
#
#   tests/vm/test-harness.sh [--bindir DIR] [CASE...]
#
# CASEs (default all; each proves the fact it names):
#   int3-once    a boot lost to the fault is booted again, the scenario it
#                died in runs again from its start and passes, those that
#                finished before are not run again, the lost boot's console
#                is kept and named
#   panic        a panic without the signature fails, with no second boot
#   bug-int3     another kernel error first, then the int3: fails likewise
#   int3-warned  the signature on a kernel that had WARNed: fails likewise
#   int3-always  a fault on every boot fails after 3 boots
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bindir="$here/../../build"
if [ "${1:-}" = --bindir ]; then
	bindir=$2
	shift 2
fi
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(int3-once panic bug-int3 int3-warned int3-always)
want() { [[ " ${cases[*]} " == *" $1 "* ]]; }
h=$here/harness
scen=("$h/h-before.sh" "$h/h-crash.sh" "$h/h-after.sh")
out=$(mktemp -d "${TMPDIR:-/tmp}/scxvm-harness.XXXXXX")
failed=0

ok() { echo "harness: ok: $*"; }
bad() { echo "harness: FAIL: $*"; failed=$((failed + 1)); }
expect() { # NAME CMD...: a fact about the last run
	local n=$1
	shift
	if "$@"; then ok "$case: $n"; else bad "$case: $n"; fi
}
# run CASE APPEND: run.sh on the three scenarios; sets rc, $o (its output), $log
run() {
	case=$1
	o=$out/$1.out log=$out/$1.log
	"$here/run.sh" --bindir "$bindir" --keep-log "$log" --append "$2" "${scen[@]}" >"$o" 2>&1
	rc=$?
	echo "harness: $case: exit $rc, $(tail -n 1 "$o")"
}
last_is() { [ "$(tail -n 1 "$o")" = "$1" ]; }
has() { grep -qF -- "$1" "$o"; }
lacks() { ! grep -qF -- "$1" "$2"; }
boots() { [ "$(grep -c '@@SCXVM BOOT ' "$log")" = "$1" ]; }
began() { [ "$(grep -c "@@SCXVM BEGIN $1\$" "$log")" = "$2" ]; }

if want int3-once; then
	run int3-once "scxvm_harness=int3 scxvm_harness_boots=1"
	expect "exit status 0" [ "$rc" = 0 ]
	expect "all passed" last_is "vm: 3 passed, 0 failed"
	expect "two boots" boots 2
	expect "the lost boot is reported with its scenario" has 'vm: boot 1 lost to the emulator fault (kernel "Oops: int3" in text being patched) while h-crash ran; console log: '"$log.boot1"
	expect "the lost boot's console is kept" grep -q 'Oops: int3' "$log.boot1"
	# The kept log is what the verdict read: each scenario's run once, its
	# interrupted run only in the lost boot's log.
	expect "h-before ran once" began h-before 1
	expect "h-crash judged once" began h-crash 1
	expect "h-crash began on the lost boot" grep -q '@@SCXVM BEGIN h-crash$' "$log.boot1"
	expect "h-after did not run on the lost boot" lacks "@@SCXVM BEGIN h-after" "$log.boot1"
	expect "h-after ran once" began h-after 1
	expect "h-crash passed on boot 2" has 'CHECK PASS: ran-on-a-later-boot'
fi

for c in panic bug-int3 int3-warned; do
	want "$c" || continue
	run "$c" "scxvm_harness=$c scxvm_harness_boots=1"
	expect "exit status 1" [ "$rc" = 1 ]
	# h-crash failed, h-after did not run, the VM had no DONE marker.
	expect "h-crash failed" has 'vm: FAIL h-crash:'
	expect "1 passed, 3 failed" last_is "vm: 1 passed, 3 failed"
	expect "one boot" boots 1
	expect "no lost boot" lacks "lost to the emulator" "$o"
done

if want int3-always; then
	run int3-always "scxvm_harness=int3 scxvm_harness_boots=all"
	expect "exit status 1" [ "$rc" = 1 ]
	expect "1 passed, 3 failed" last_is "vm: 1 passed, 3 failed"
	expect "three boots" boots 3
	expect "h-before ran once" began h-before 1
	expect "no boots left" has "boot 3 of 3 lost to the emulator fault as well; no boots left"
	expect "h-crash failed on its kernel errors" has 'vm: FAIL h-crash: 0 checks passed, 0 failed: no end marker'
fi

if [ "$failed" = 0 ]; then
	echo "harness: all passed (logs in $out)"
	rm -rf "$out"
else
	echo "harness: $failed failed (logs in $out)"
	exit 1
fi
