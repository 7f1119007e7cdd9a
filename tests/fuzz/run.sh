#!/usr/bin/env bash
# Build the libFuzzer targets (tests/fuzz/fuzz_*.c) with clang in a build
# directory of their own and run each for a bounded time, one after another.
#
#   tests/fuzz/run.sh [--merge] [--only NAME[,NAME...]] SECONDS
#
# Per target it prints executions per second, libFuzzer's coverage (cov:
# edges, ft: features) and whether it crashed; a crashing input is saved in
# BUILDDIR/fuzz-out/NAME/ (crash-*, leak-*, timeout-*). New inputs found go
# to a scratch directory; with --merge the ones that add coverage are
# minimised into the checked-in corpus tests/fuzz/corpus/NAME (-merge=1),
# which `meson test` replays (suite fuzz): see merge_corpus. Exit status
# 1 if any target crashed.
#
# Environment: FUZZ_BUILDDIR (default build-fuzz), FUZZ_CC (default: the
# first of clang, clang-14 .. clang-21 that links -fsanitize=fuzzer),
# FUZZ_NICE (default 10), FUZZ_MAX_LEN (default 4096).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"

merge=0
only=
while [ $# -gt 1 ]; do
	case $1 in
	--merge) merge=1; shift ;;
	--only) only=$2; shift 2 ;;
	*) break ;;
	esac
done
secs=${1:-}
if ! [[ $secs =~ ^[0-9]+$ ]] || [ "$secs" -lt 1 ]; then
	echo "usage: $0 [--merge] [--only NAME[,NAME...]] SECONDS" >&2
	exit 2
fi
builddir=${FUZZ_BUILDDIR:-build-fuzz}
nice_n=${FUZZ_NICE:-10}
max_len=${FUZZ_MAX_LEN:-4096}

probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' \
	>"$probe/p.c"
cc=${FUZZ_CC:-}
if [ -z "$cc" ]; then
	for c in clang clang-14 clang-15 clang-16 clang-17 clang-18 clang-19 clang-20 clang-21; do
		if command -v "$c" >/dev/null && "$c" -fsanitize=fuzzer "$probe/p.c" -o "$probe/p" 2>/dev/null; then
			cc=$c
			break
		fi
	done
fi
[ -n "$cc" ] || { echo "run.sh: no clang with libFuzzer (Debian: libclang-rt-N-dev for clang-N; or set FUZZ_CC)" >&2; exit 2; }

if [ ! -f "$builddir/build.ninja" ]; then
	CC=$cc meson setup "$builddir" -Dfuzzing=true -Db_lundef=false >/dev/null
fi
targets=()
for f in tests/fuzz/fuzz_*.c; do
	n=${f#tests/fuzz/fuzz_}
	n=${n%.c}
	if [ -n "$only" ] && [[ ",$only," != *",$n,"* ]]; then
		continue
	fi
	targets+=("$n")
done
nice -n "$nice_n" ninja -C "$builddir" "${targets[@]/#/tests/fuzz/fuzz_}" >/dev/null

# The targets' scratch trees (fuzz-util.c) go here, and go away with it.
export TMPDIR=$probe
# Sanitizer reports end the run: the input that caused one is saved.
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1

# The corpus, minimised: the hand-named inputs (seeds, crash-*) always stay;
# of libFuzzer's (named by their SHA-1), only those that reach an edge
# nothing before them reaches. Edges, not hit counts (-use_counters=0):
# that keeps each corpus to tens or a few hundred files.
merge_corpus() {
	local fresh=$out/merged
	rm -rf "$fresh"
	mkdir -p "$fresh"
	find "$corpus" -maxdepth 1 -type f -regextype posix-extended ! -regex '.*/[0-9a-f]{40}' -exec cp {} "$fresh/" \;
	nice -n "$nice_n" "$bin" -merge=1 -use_counters=0 -max_len="$max_len" "$fresh" "$corpus" "$new" \
		>"$out/merge.log" 2>&1
	find "$corpus" -maxdepth 1 -type f -regextype posix-extended -regex '.*/[0-9a-f]{40}' -delete
	find "$fresh" -maxdepth 1 -type f -regextype posix-extended -regex '.*/[0-9a-f]{40}' -exec cp {} "$corpus/" \;
	rm -rf "$fresh"
}

crashed=0
printf '%-10s %9s %8s %8s %8s %7s  %s\n' target execs exec/s cov ft corpus result
for n in "${targets[@]}"; do
	bin=$builddir/tests/fuzz/fuzz_$n
	corpus=tests/fuzz/corpus/$n
	out=$builddir/fuzz-out/$n
	new=$out/new
	log=$out/log
	# Only this run's findings are reported.
	rm -rf "$out"
	mkdir -p "$corpus" "$new"
	rc=0
	nice -n "$nice_n" "$bin" -max_total_time="$secs" -max_len="$max_len" -timeout=10 -rss_limit_mb=1024 \
		-print_final_stats=1 -artifact_prefix="$out/" "$new" "$corpus" >"$log" 2>&1 || rc=$?
	# The log holds the inputs' bytes when a target reports one: -a.
	last=$(grep -aE '^#[0-9]+' "$log" | tail -n 1 || true)
	execs=$(grep -aEo 'stat::number_of_executed_units: *[0-9]+' "$log" | tail -n 1 | grep -Eo '[0-9]+$' || true)
	rate=$(grep -aEo 'stat::average_exec_per_sec: *[0-9]+' "$log" | tail -n 1 | grep -Eo '[0-9]+$' || true)
	# libFuzzer's own average is whole seconds: 0 for a run cut short.
	[ -n "$rate" ] && [ "$rate" != 0 ] || rate=$(grep -aEo 'exec/s: [0-9]+' <<<"$last" | cut -d' ' -f2 || true)
	cov=$(grep -Eo 'cov: [0-9]+' <<<"$last" | cut -d' ' -f2 || true)
	ft=$(grep -Eo 'ft: [0-9]+' <<<"$last" | cut -d' ' -f2 || true)
	if [ "$rc" -ne 0 ]; then
		crashed=1
		result="CRASH (exit $rc): $(ls "$out" | grep -E '^(crash|leak|timeout|oom|slow-unit)-' | sed "s|^|$out/|" | tr '\n' ' ')"
		grep -aE 'ERROR: |runtime error|^fuzz' "$log" | head -n 3 | sed 's/^/    /' >&2 || true
	else
		result=ok
	fi
	if [ "$merge" = 1 ] && [ "$rc" -eq 0 ]; then
		before=$(ls "$corpus" | wc -l)
		merge_corpus
		result="$result, corpus $before -> $(ls "$corpus" | wc -l)"
	fi
	printf '%-10s %9s %8s %8s %8s %7s  %s\n' "$n" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" \
		"$(ls "$corpus" | wc -l)" "$result"
	rm -rf "$new"
done
exit "$crashed"
