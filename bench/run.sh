#!/usr/bin/env bash
# Side-by-side benchmark: the kernel's default scheduler vs scx_ai_numa (and
# tunable variants), in one VM boot, several repetitions each, alternating.
#
#   bench/run.sh [options]
#
# Options:
#   --quick                 1 repetition, short runs (development; ~2 min)
#   --reps N                repetitions per configuration (default 5)
#   --duration S            measured seconds per ai_pipeline run (default 8)
#   --nodes N               NUMA nodes (default 2; issue #14's shapes: 2x2,
#                           4x1, 4x2, 8x1)
#   --cpus-per-node M       CPUs per node (default 2)
#   --sockets-per-node S    sockets per node, each its own L3 (default 1)
#   --variant SPEC          also run scx_ai_numa with these tunables; SPEC is
#                           KEY=VALUE[+KEY=VALUE...] (names: scx-ai-numactl
#                           tunables), e.g. steal=off or slice_ns=1ms;
#                           node_queues=on runs the daemon with --node-queues;
#                           repeatable
#   --noise                 add the ai_noise workload (CPU hogs + churn)
#   --no-bpfcost            skip the BPF cost-per-callback run
#   --spawn-local           ai_pipeline threads are created by a thread on
#                           their own node, not by the main thread
#   --cost-model            also run every ai workload under the NUMA cost
#                           model (rows WORKLOAD+cost; see bench/README.md)
#   --procs                 also run ai_fit/ai_imbalance with loader processes
#                           (rows WORKLOAD+procs)
#   --no-firsttouch         skip ai_firsttouch (buffers first-touched by a
#                           thread on node 0: memory follows the task)
#   --no-migcost            skip the daemon's CPU time with 100 processes to
#                           look after
#   --only LIST             run only these workloads (comma-separated
#                           names as in the table: ai_firsttouch,
#                           ai_fit_cm, wakebench, hackbench, cyclictest,
#                           stress_ng, bpf_cost, migcost); targets of the
#                           others are not judged
#   --kernel-args ARGS      extra guest kernel command line (default
#                           "tsc=reliable": see bench/README.md, clocksource)
#   --builddir DIR          meson build directory (default: build-bench at the
#                           top of the tree; set up when missing)
#   --no-build              use the build directory as it is
#   --out DIR               results directory (default DIR/bench-results/DATE
#                           under the build directory)
#   -v, --verbose           stream the VM console
#
# Prints the table of medians, ratios and PASS/FAIL per target; writes
# results.json, table.txt, plot.png and console.log to the results directory.
# Exit status: 0 all targets pass, 1 a target failed, 2 the run itself failed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)

reps=5 dur=8 warm=2 short=5 hb_loops=200 nodes=2 cpn=2 spn=1 quick=0 noise=0 bpfcost=1 spawn=0 cost=0 procs=0 ftouch=1 migcost=1 only=''
builddir="$top/build-bench" build=1 out='' verbose=() variants=() kargs="tsc=reliable"

die() { echo "bench: error: $*" >&2; exit 2; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
need_int() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 needs a positive integer, got '$2'"; }

while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1; shift ;;
	--reps) need_int "$1" "${2:-}"; reps=$2; shift 2 ;;
	--duration) need_int "$1" "${2:-}"; dur=$2; shift 2 ;;
	--nodes) need_int "$1" "${2:-}"; nodes=$2; shift 2 ;;
	--cpus-per-node) need_int "$1" "${2:-}"; cpn=$2; shift 2 ;;
	--sockets-per-node) need_int "$1" "${2:-}"; spn=$2; shift 2 ;;
	--variant)
		[[ "${2:-}" =~ ^[A-Za-z0-9_]+=[A-Za-z0-9_.]+(\+[A-Za-z0-9_]+=[A-Za-z0-9_.]+)*$ ]] ||
			die "--variant needs KEY=VALUE[+KEY=VALUE...], got '${2:-}'"
		variants+=("$2"); shift 2 ;;
	--noise) noise=1; shift ;;
	--no-bpfcost) bpfcost=0; shift ;;
	--spawn-local) spawn=1; shift ;;
	--cost-model) cost=1; shift ;;
	--procs) procs=1; shift ;;
	--no-firsttouch) ftouch=0; shift ;;
	--no-migcost) migcost=0; shift ;;
	--only)
		[[ "${2:-}" =~ ^[a-z_]+(,[a-z_]+)*$ ]] || die "--only needs WORKLOAD[,WORKLOAD...], got '${2:-}'"
		only=$2; shift 2 ;;
	--kernel-args) [ $# -ge 2 ] || usage; kargs=$2; shift 2 ;;
	--builddir) [ -n "${2:-}" ] || usage; builddir=$2; shift 2 ;;
	--no-build) build=0; shift ;;
	--out) [ -n "${2:-}" ] || usage; out=$2; shift 2 ;;
	-v | --verbose) verbose=(-v); shift ;;
	-h | --help) usage ;;
	*) echo "bench: unknown argument $1" >&2; usage ;;
	esac
done
if [ "$quick" = 1 ]; then
	reps=1 dur=3 warm=1 short=3 hb_loops=50
fi

if [ "$build" = 1 ]; then
	if [ ! -f "$builddir/build.ninja" ]; then
		meson setup "$builddir" "$top" >/dev/null || die "meson setup $builddir failed"
	fi
	meson compile -C "$builddir" >/dev/null || die "meson compile -C $builddir failed (run it to see why)"
fi
for b in scx_ai_numad bench/ai_pipeline bench/bpf_progstats bench/wakebench tests/unit/mem-worker; do
	[ -x "$builddir/$b" ] || die "$builddir/$b is missing (build first, or drop --no-build)"
done

[ -n "$out" ] || out="$builddir/bench-results/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
out=$(cd "$out" && pwd)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/scxbench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# The harness names a scenario after its file. It finds ai_pipeline and
# bpf_progstats in the build directory itself and puts them in the image.
cp "$here/guest.sh" "$tmp/bench.sh"

# Every node gets at least 512 MB: the migration-cost step puts 200 MB on
# node 0 and the last node.
mem_mb=$((nodes * 512 > 2048 ? nodes * 512 : 2048))
nconf=$((2 + ${#variants[@]}))
nai=$(((2 + noise) * (1 + procs) * (1 + cost) + ftouch * (1 + cost)))
# One configuration's turn at every workload, as measured under TCG on a
# 2-core host; the limit is generous because a busy host halves the speed.
block_s=$((nai * (dur + warm + 2) + ftouch * (1 + cost) * 3 + 3 * short + 12))
est_s=$((reps * nconf * block_s + bpfcost * (dur + 15) + migcost * 120 + 30))
scen_timeout=$((est_s * 5 / 2 + 120))
vlist=$(IFS=,; echo "${variants[*]}")
append="scxbench_reps=$reps scxbench_duration=$dur scxbench_warmup=$warm scxbench_short=$short"
append+=" scxbench_hb_loops=$hb_loops scxbench_noise=$noise scxbench_bpfcost=$bpfcost"
append+=" scxbench_spawn_local=$spawn scxbench_cost=$cost scxbench_procs=$procs"
append+=" scxbench_firsttouch=$ftouch scxbench_migcost=$migcost"
[ -n "$vlist" ] && append+=" scxbench_variants=$vlist"
[ -n "$only" ] && append+=" scxbench_only=$only"
[ -n "$kargs" ] && append+=" $kargs"

echo "bench: $nodes nodes x $cpn CPUs, configs: default scx${vlist:+ $vlist}, $reps reps," \
	"ai runs ${dur}s (estimate $((est_s / 60 + 1)) min, limit $((scen_timeout / 60)) min)" >&2
set +e
"$top/tests/vm/run.sh" --nodes "$nodes" --cpus-per-node "$cpn" --mem-mb "$mem_mb" --bindir "$builddir" \
	--sockets-per-node "$spn" --scenario-timeout "$scen_timeout" --keep-log "$out/console.log" --append "$append" \
	"${verbose[@]}" "$tmp/bench.sh" >"$out/vm-verdict.txt"
vm_rc=$?
set -e
cat "$out/vm-verdict.txt" >&2
[ -s "$out/console.log" ] || die "no console log: the VM did not run"

set +e
python3 "$here/report.py" --log "$out/console.log" --out "$out"
rep_rc=$?
set -e
echo "bench: results in $out" >&2
[ "$rep_rc" -ge 2 ] && exit 2
if [ "$vm_rc" != 0 ]; then
	# Kernel trouble (a stall, a scheduler error exit) or a timeout: the
	# figures may be incomplete, so the run does not pass.
	echo "bench: the VM run reported failures (see $out/vm-verdict.txt and console.log)" >&2
	exit 1
fi
exit "$rep_rc"
