#!/usr/bin/env bash
# Build the userspace with AddressSanitizer (leaks included) and
# UndefinedBehaviorSanitizer in a build directory of its own, and run the
# host tests under them: unit tests, the control plane's tests, every fuzz
# target's corpus replay, the CLI end to end, and the control socket under abuse.
# Any report fails: UBSan does not recover, ASan halts at the first error,
# and LeakSanitizer fails a process that exits with memory unreachable.
#   scripts/sanitize-test.sh [BUILDDIR]      (default: build-sanitize, or $SANITIZE_BUILDDIR)
# Environment: SANITIZE_FUZZ_SECS=N also runs every libFuzzer target for N
# seconds each (tests/fuzz/run.sh, in its own clang build; 0: never).
# The last line is "sanitize: N passed, N failed" (individual checks).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

builddir=${1:-${SANITIZE_BUILDDIR:-build-sanitize}}
# The BPF object is built by its own clang rule and never sees these flags.
if [ ! -f "$builddir/build.ninja" ]; then
	meson setup "$builddir" -Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fno-sanitize-recover=all -Dc_link_args=-fno-sanitize-recover=all >/dev/null
fi
meson compile -C "$builddir"

# meson test sets these too when they are unset; spelled out so a caller's
# environment cannot weaken them.
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1:print_summary=1
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1:print_summary=1
export LSAN_OPTIONS=print_suppressions=0

rc=0
# valgrind cannot run sanitized binaries; docs and install check files, not memory.
meson test -C "$builddir" --no-rebuild --print-errorlogs \
	--suite unit --suite control --suite fuzz --suite abuse --suite bench || rc=1
log=$builddir/meson-logs/testlog.txt
pass=$(grep -c '^ok ' "$log" || true)
fail=$(grep -c '^not ok ' "$log" || true)
# A crash or sanitizer abort in a program that printed no TAP line is a failure too.
bad=$(grep -cE '^(==[0-9]+==ERROR|SUMMARY: (Address|Undefined|Leak)Sanitizer|[^ ]+:[0-9]+:[0-9]+: runtime error:)' "$log" || true)
fail=$((fail + bad))

if [ "${SANITIZE_FUZZ_SECS:-0}" -gt 0 ]; then
	frc=0
	tests/fuzz/run.sh "$SANITIZE_FUZZ_SECS" || frc=$?
	case $frc in
	0) pass=$((pass + 1)) ;;
	2) echo "sanitize: no clang with libFuzzer; fuzzing skipped" ;;
	*) fail=$((fail + 1)); echo "sanitize: libFuzzer found a crash; the input is saved (see above)" ;;
	esac
fi

[ "$pass" -gt 0 ] || { echo "sanitize: no check ran" >&2; fail=$((fail + 1)); }
[ "$fail" -eq 0 ] || rc=1
echo "sanitize: $pass passed, $fail failed"
exit "$rc"
