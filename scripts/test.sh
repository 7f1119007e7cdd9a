#!/usr/bin/env bash
# Run the whole test suite: install dependencies, build, unit tests on the
# host, the Debian package (tests/package), then every VM scenario in one
# QEMU boot of a sched_ext kernel, then the GPU placement scenarios
# (tests/vm/gpu/) in a second boot, then the machine shapes (tests/vm/shapes/)
# in two short boots.
#   scripts/test.sh [--unit-only] [--vm-only] [--no-gpu] [--kernel 6.12] [SCENARIO...]
# --kernel 6.12: the VM boots Linux 6.12 built by tests/vm/build-kernel.sh
# (30-60 minutes the first time), the proof of the README's oldest kernel.
# A skipped VM test counts as a failure: the scheduler is only proven in the VM.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

unit=1 vm=1 gpu=1 scenarios=() kernel=()
while [ $# -gt 0 ]; do
	case "$1" in
	--unit-only) vm=0 ;;
	--vm-only) unit=0 ;;
	--no-gpu) gpu=0 ;;
	--kernel) kernel=(--kernel "${2:-}"); shift ;;
	-h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) scenarios+=("$1") ;;
	esac
	shift
done

if [ "$(id -u)" -eq 0 ]; then
	scripts/deps.sh
else
	sudo scripts/deps.sh
fi

builddir=${BUILDDIR:-build}
[ -f "$builddir/build.ninja" ] || meson setup "$builddir" >/dev/null
meson compile -C "$builddir"

unit_pass=0 unit_fail=0 vm_pass=0 vm_fail=0 rc=0
if [ "$unit" = 1 ]; then
	# meson_counts ARGS...: one `meson test`, its checks added to the counts.
	# meson's own summary counts test programs; count the individual checks
	# too. A program that failed without a failed check (it bailed out,
	# crashed or timed out) counts as one failure, so the total never says
	# 0 failed when the run did not pass.
	meson_counts() {
		local mrc=0 fails
		meson test -C "$builddir" --print-errorlogs "$@" || mrc=1
		fails=$(grep -c '^not ok ' "$builddir/meson-logs/testlog.txt" || true)
		[ "$mrc" -eq 0 ] || { rc=1; [ "$fails" -gt 0 ] || fails=1; }
		unit_pass=$((unit_pass + $(grep -c '^ok ' "$builddir/meson-logs/testlog.txt" || true)))
		unit_fail=$((unit_fail + fails))
	}
	meson_counts
	# The Debian package, built, linted, installed and purged in a throwaway
	# root: left out of a bare `meson test` because it takes minutes.
	meson_counts --suite package
	echo "unit: $unit_pass passed, $unit_fail failed"
	# The same host tests again under ASan and UBSan, in a build directory of their own.
	slog=$(mktemp)
	set +e
	scripts/sanitize-test.sh "$builddir-sanitize" 2>&1 | tee "$slog"
	src=${PIPESTATUS[0]}
	set -e
	line=$(grep -E '^sanitize: [0-9]+ passed, [0-9]+ failed' "$slog" | tail -n 1 || true)
	rm -f "$slog"
	if [ -n "$line" ]; then
		unit_pass=$((unit_pass + $(echo "$line" | awk '{print $2}')))
		unit_fail=$((unit_fail + $(echo "$line" | awk '{print $4}')))
	else
		unit_fail=$((unit_fail + 1))
	fi
	[ "$src" -eq 0 ] && [ -n "$line" ] || rc=1
fi

if [ "$vm" = 1 ]; then
	# Named scenarios run alone; the whole suite includes the GPU VM (below).
	vm_all=0
	[ "${#scenarios[@]}" -gt 0 ] || { scenarios=(tests/vm/scenarios/*.sh); vm_all=1; }
	log=$(mktemp)
	set +e
	tests/vm/run.sh --bindir "$builddir" "${kernel[@]+"${kernel[@]}"}" "${scenarios[@]}" 2>&1 | tee "$log"
	vrc=${PIPESTATUS[0]}
	set -e
	[ "$vrc" -eq 0 ] || rc=1
	line=$(grep -E '^vm: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1 || true)
	rm -f "$log"
	if [ -n "$line" ]; then
		vm_pass=$(echo "$line" | awk '{print $2}')
		vm_fail=$(echo "$line" | awk '{print $4}')
	else
		vm_fail=1
	fi
	[ "$vm_fail" -eq 0 ] || rc=1
	[ "$vm_pass" -gt 0 ] || { echo "test: the VM ran no check" >&2; rc=1; vm_fail=$((vm_fail + 1)); }

	# vm_boot ARGS...: one more boot of tests/vm/run.sh, its counts added.
	vm_boot() {
		local log vrc line
		log=$(mktemp)
		set +e
		tests/vm/run.sh --bindir "$builddir" "$@" 2>&1 | tee "$log"
		vrc=${PIPESTATUS[0]}
		set -e
		[ "$vrc" -eq 0 ] || rc=1
		line=$(grep -E '^vm: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1 || true)
		rm -f "$log"
		if [ -n "$line" ]; then
			vm_pass=$((vm_pass + $(echo "$line" | awk '{print $2}')))
			vm_fail=$((vm_fail + $(echo "$line" | awk '{print $4}')))
		else
			vm_fail=$((vm_fail + 1))
		fi
		[ "$vm_fail" -eq 0 ] || rc=1
	}

	# GPU placement needs a GPU on a NUMA node and its driver: a VM of its
	# own, with the generic kernel (6.12 has the driver built in) and an
	# emulated GPU on node 1.
	if [ "$vm_all" = 1 ] && [ "$gpu" = 1 ]; then
		gpukernel=(--flavour generic)
		[ ${#kernel[@]} -eq 0 ] || gpukernel=("${kernel[@]}")
		vm_boot "${gpukernel[@]}" --gpu-node 1 --gpu-node 0 tests/vm/gpu/*.sh
	fi
	# Other machine shapes, a short boot each: two L3s per node and a node
	# without CPUs between the nodes with CPUs (ids 0 and 2); then eight
	# nodes of one CPU.
	if [ "$vm_all" = 1 ]; then
		vm_boot "${kernel[@]+"${kernel[@]}"}" --nodes 2 --cpus-per-node 4 --sockets-per-node 2 --mem-node-at 1 tests/vm/shapes/*.sh
		vm_boot "${kernel[@]+"${kernel[@]}"}" --nodes 8 --cpus-per-node 1 tests/vm/shapes/*.sh
	fi
fi

echo "$((unit_pass + vm_pass)) passed, $((unit_fail + vm_fail)) failed"
exit "$rc"
