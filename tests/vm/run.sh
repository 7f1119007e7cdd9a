#!/usr/bin/env bash
# Boot the sched_ext test kernel in QEMU (TCG) once and run VM scenarios.
#
#   tests/vm/run.sh [options] [SCENARIO...]
#
# SCENARIO is a script path, or a name in tests/vm/scenarios/ with or
# without .sh; none means every tests/vm/scenarios/*.sh in name order.
#
# Options:
#   --nodes N               NUMA nodes, one socket each (default 2)
#   --cpus-per-node M       CPUs (cores) per node (default 2)
#   --sockets-per-node S    sockets per node (default 1), M/S cores each:
#                           QEMU shares an L3 per socket, so S last-level
#                           caches per node
#   --mem-node              one more node, with memory and no CPUs, after
#                           the others (scenarios see scxvm_mem_nodes=1)
#   --mem-node-at K         the same node with node id K (1..N): the nodes
#                           with CPUs take the other ids, so below N their
#                           ids have a hole; it is nearer (SLIT 15) to node
#                           K + 1 than to the others (20)
#   --mem-mb MB             guest memory, split evenly over nodes (default 2048)
#   --timeout S             wall-clock limit for each boot of the VM
#                           (default 120 + per scenario its timeout + 30)
#   --scenario-timeout S    per-scenario limit inside the guest (default 300)
#   --bindir DIR            where to find scx_ai_numad and scx-ai-numactl, at
#                           DIR/NAME or DIR/*/NAME (default: build/ at repo top)
#   --keep-log FILE         copy the console log to FILE (always): what the
#                           verdict read, each scenario's run once (a lost
#                           boot's whole console goes to FILE.bootN);
#                           without it the log is kept in $TMPDIR only when
#                           the run fails
#   --append ARGS           extra kernel command-line arguments
#   --flavour F             kernel flavour: cloud (default; no DRM) or
#                           generic (GPU drivers as modules)
#   --kernel 6.12           boot Linux 6.12 instead, the oldest kernel the
#                           README promises, built with sched_ext by
#                           tests/vm/build-kernel.sh (the first time: 30-60
#                           minutes; then cached); GPU drivers built in,
#                           so --flavour and --modules do not apply
#   --modules NAMES         kernel modules (comma-separated, with their
#                           dependencies) for /init to load; generic only
#   --gpu-node N            attach an emulated GPU (virtio-gpu-pci) behind a
#                           PCIe expander bridge on NUMA node N (q35 machine);
#                           with the generic flavour its driver is loaded;
#                           given again, one more GPU (each behind its own
#                           bridge): the scenarios see scxvm_gpu_node (the
#                           first) and scxvm_gpu_nodes (all, comma-separated)
#   --tcg-threads T         QEMU TCG threading: multi (default, one host
#                           thread per vCPU) or single (one thread for all)
#   -v, --verbose           stream the whole console, not just progress
#
# Environment: QEMU (emulator binary, default qemu-system-x86_64), plus what
# tests/vm/fetch-kernel.sh reads (SCX_AI_NUMA_CACHE, ...).
#
# Verdict: a scenario fails on any "CHECK FAIL:", a non-zero exit, a
# timeout, a missing end marker, no checks at all, or a kernel oops/BUG/
# WARNING/panic/lockup or sched_ext error exit while it ran. A boot lost to
# the emulator fault (below) judges nothing of the scenario it died in: the
# next boot runs that one again and those after it, at most 3 boots in all;
# "vm: boot N lost ..." lines before the verdict name them. The last line
# is always "vm: N passed, N failed" (N = scenarios, plus one failed "vm"
# entry for trouble outside any scenario); the exit status is 1 on failure.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

nodes=2 cpn=2 spn=1 mem_nodes=0 mem_at='' mem_mb=2048 total_timeout='' scen_timeout=300
bindir="$top/build" keep_log='' extra_append='' verbose=0
flavour=cloud kernel='' modules='' gpu_node='' gpu_nodes=() tcg_threads=multi
need_node() { [[ "$2" =~ ^(0|[1-9][0-9]*)$ ]] || die "$1 needs a node number, got '$2'"; }
qemu=${QEMU:-qemu-system-x86_64}

die() { echo "vm: error: $*" >&2; echo "vm: 0 passed, 1 failed"; exit 2; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
need_int() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 needs a positive integer, got '$2'"; }

args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--nodes) need_int "$1" "${2:-}"; nodes=$2; shift 2 ;;
	--cpus-per-node) need_int "$1" "${2:-}"; cpn=$2; shift 2 ;;
	--sockets-per-node) need_int "$1" "${2:-}"; spn=$2; shift 2 ;;
	--mem-node) mem_nodes=1; shift ;;
	--mem-node-at) need_node "$1" "${2:-}"; mem_nodes=1; mem_at=$2; shift 2 ;;
	--mem-mb) need_int "$1" "${2:-}"; mem_mb=$2; shift 2 ;;
	--timeout) need_int "$1" "${2:-}"; total_timeout=$2; shift 2 ;;
	--scenario-timeout) need_int "$1" "${2:-}"; scen_timeout=$2; shift 2 ;;
	--bindir) [ -n "${2:-}" ] || usage; bindir=$2; shift 2 ;;
	--keep-log) [ -n "${2:-}" ] || usage; keep_log=$2; shift 2 ;;
	--append) [ -n "${2:-}" ] || usage; extra_append=$2; shift 2 ;;
	--flavour) [ "${2:-}" = cloud ] || [ "${2:-}" = generic ] || die "--flavour takes cloud or generic"
		flavour=$2; shift 2 ;;
	--modules) [ -n "${2:-}" ] || usage; modules=$2; shift 2 ;;
	--kernel) [ "${2:-}" = 6.12 ] || die "--kernel takes 6.12 (the default kernel needs no option)"
		kernel=$2; shift 2 ;;
	--gpu-node) need_node "$1" "${2:-}"; gpu_nodes+=("$2"); gpu_node=${gpu_node:-$2}; shift 2 ;;
	--tcg-threads) [ "${2:-}" = multi ] || [ "${2:-}" = single ] || die "--tcg-threads takes multi or single"
		tcg_threads=$2; shift 2 ;;
	-v | --verbose) verbose=1; shift ;;
	-h | --help) usage ;;
	--) shift; args+=("$@"); break ;;
	-*) echo "vm: unknown option $1" >&2; usage ;;
	*) args+=("$1"); shift ;;
	esac
done

scenarios=()
if [ ${#args[@]} -eq 0 ]; then
	for s in "$here"/scenarios/*.sh; do
		[ -f "$s" ] && scenarios+=("$s")
	done
else
	for a in "${args[@]}"; do
		if [ -f "$a" ]; then scenarios+=("$a")
		elif [ -f "$here/scenarios/$a" ]; then scenarios+=("$here/scenarios/$a")
		elif [ -f "$here/scenarios/$a.sh" ]; then scenarios+=("$here/scenarios/$a.sh")
		elif [ -f "$here/gpu/$a.sh" ]; then scenarios+=("$here/gpu/$a.sh")
		else die "no scenario '$a'"
		fi
	done
fi
[ ${#scenarios[@]} -gt 0 ] || die "no scenarios to run"
names=()
for s in "${scenarios[@]}"; do names+=("$(basename "$s" .sh)"); done

[ $((cpn % spn)) -eq 0 ] || die "--sockets-per-node $spn does not divide --cpus-per-node $cpn"
mem_per_node=$((mem_mb / (nodes + mem_nodes)))
[ "$mem_per_node" -ge 128 ] || die "--mem-mb $mem_mb leaves less than 128 MB per node"
ncpus=$((nodes * cpn))
: "${total_timeout:=$((120 + ${#scenarios[@]} * (scen_timeout + 30)))}"

command -v "$qemu" >/dev/null || die "$qemu not found (see scripts/deps.sh)"

t_start=$EPOCHREALTIME
t_qemu=$t_start
elapsed() { awk -v a="$t_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
since_qemu() { awk -v a="$t_qemu" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/scxvm.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

for g in "${gpu_nodes[@]+"${gpu_nodes[@]}"}"; do
	[ "$g" -lt "$nodes" ] || die "--gpu-node $g: the VM has nodes 0..$((nodes - 1))"
done
if [ -n "$kernel" ]; then
	# A self-built kernel has its drivers built in and no modules tree.
	[ -z "$modules" ] && [ "$flavour" = cloud ] || die "--kernel $kernel takes neither --flavour nor --modules"
	kdir=$("$here/build-kernel.sh") || die "cannot build the $kernel test kernel"
else
	# The GPU's driver comes with the generic kernel; the cloud one has no DRM.
	[ -n "$gpu_node" ] && [ "$flavour" = generic ] && modules=${modules:+$modules,}virtio_gpu
	[ -z "$modules" ] || [ "$flavour" = generic ] || die "--modules needs --flavour generic"
	kdir=$("$here/fetch-kernel.sh" --flavour "$flavour") || die "cannot fetch the test kernel"
fi

mkdir "$tmp/bin"
# The project's programs the scenarios use, wherever meson put them.
# libnvidia-ml.so.1: the stand-in NVML (tests/nvml-stub), for the GPU scenarios that point the daemon at it.
for b in scx_ai_numad scx_ai_numad-faults scx-ai-numactl notify-listen ai_pipeline bpf_progstats dsqlock wakebench gpu-worker mem-worker ctl-abuse stats-client \
	libnvidia-ml.so.1; do
	f=$(find -L "$bindir" -maxdepth 3 -type f -name "$b" -perm -u+x 2>/dev/null | sort | head -n1)
	if [ -n "$f" ]; then
		ln -s "$(cd "$(dirname "$f")" && pwd)/$b" "$tmp/bin/$b"
	else
		echo "vm: note: no $b under $bindir" >&2
	fi
done
modargs=()
[ -n "$modules" ] && modargs=(--modules "$kdir/modules" "$modules")
"$here/mkinitramfs.sh" "${modargs[@]+"${modargs[@]}"}" "$tmp/initramfs.cpio.gz" "$tmp/bin" "$kdir/config" \
	"${scenarios[@]}" || die "cannot build the initramfs"

[ -n "$mem_at" ] || mem_at=$nodes
if [ "$mem_at" -lt 1 ] || [ "$mem_at" -gt "$nodes" ]; then die "--mem-node-at $mem_at: not in 1..$nodes"; fi
# QEMU node id k holds the CPUs of node k, or of node k - 1 past the hole.
# Linux numbers ACPI proximity domains in the order its SRAT pass over CPU
# entries meets them, then memory-only ones: a node without CPU slots gets
# the last id wherever QEMU puts it. So a memory-only node inside the range
# keeps CPU slots that are possible but never plugged (hotplug slots): its id
# stays, its cpulist stays empty, and the nodes with CPUs are sparse. QEMU
# plugs the first -smp CPUs at boot; those past the hole are plugged with
# -device, so Linux numbers the plugged CPUs 0..ncpus-1 in node order.
slots=$nodes hole=''
if [ "$mem_nodes" = 1 ] && [ "$mem_at" -lt "$nodes" ]; then slots=$((nodes + 1)) hole=$mem_at; fi
# shellcheck disable=SC2054 # commas are QEMU's option syntax
qargs=(
	-accel "tcg,thread=$tcg_threads" -cpu max
	-m "$((mem_per_node * (nodes + mem_nodes)))M"
)
# Whole sockets per node: QEMU shares the last-level cache per socket, and
# a node boundary inside a socket makes the kernel warn at boot.
if [ -z "$hole" ]; then
	qargs+=(-smp "$ncpus,sockets=$((nodes * spn)),cores=$((cpn / spn)),threads=1")
else
	qargs+=(-smp "$((hole * cpn)),maxcpus=$((slots * cpn)),sockets=$((slots * spn)),cores=$((cpn / spn)),threads=1")
	for ((c = (hole + 1) * cpn; c < slots * cpn; c++)); do
		qargs+=(-device "max-x86_64-cpu,socket-id=$((c / (cpn / spn))),core-id=$((c % (cpn / spn))),thread-id=0")
	done
fi
for ((id = 0; id < slots; id++)); do
	first=$((id * cpn)) last=$((id * cpn + cpn - 1))
	cpus=$first
	[ "$last" = "$first" ] || cpus+="-$last"
	qargs+=(-object "memory-backend-ram,id=m$id,size=${mem_per_node}M"
		-numa "node,nodeid=$id,cpus=$cpus,memdev=m$id")
done
if [ "$mem_nodes" = 1 ] && [ -z "$hole" ]; then
	qargs+=(-object "memory-backend-ram,id=m$nodes,size=${mem_per_node}M" -numa "node,nodeid=$nodes,memdev=m$nodes")
fi
# The hole is nearer (15) to the next node than to the rest (20), so its
# nearest CPU node is neither the lowest id nor its dense index. QEMU wants
# every pair once a distance is given.
if [ -n "$hole" ]; then
	for ((a = 0; a < slots; a++)); do
		for ((b = a + 1; b < slots; b++)); do
			v=20
			[ "$a" = "$hole" ] && [ "$b" = $((hole + 1)) ] && v=15
			qargs+=(-numa "dist,src=$a,dst=$b,val=$v")
		done
	done
fi
# A GPU on node N: PCI devices take their node from the host bridge they sit
# behind, and an expander bridge (pxb-pcie) is a host bridge of its own
# with a NUMA node (ACPI _PXM), as a socket's root complex is on real
# hardware. It needs the q35 machine's PCIe root.
if [ -n "$gpu_node" ]; then
	qargs+=(-machine q35)
	# Bridge i takes PCI buses from 128 + 32 i: the first GPU keeps its old address.
	for i in "${!gpu_nodes[@]}"; do
		g=${gpu_nodes[$i]}
		qargs+=(-device "pxb-pcie,id=pxb$i,bus_nr=$((128 + 32 * i)),numa_node=$g,bus=pcie.0"
			-device "pcie-root-port,id=gpurp$i,bus=pxb$i,chassis=$((1 + i)),slot=1"
			-device "virtio-gpu-pci,bus=gpurp$i")
	done
fi
# scxvm_* reach /init's environment and so every scenario's.
append="console=ttyS0 panic=-1 loglevel=4 printk.time=1 scxvm_timeout=$scen_timeout"
append+=" scxvm_nodes=$nodes scxvm_cpus_per_node=$cpn scxvm_cpus=$ncpus"
append+=" scxvm_sockets_per_node=$spn scxvm_mem_nodes=$mem_nodes"
if [ -n "$gpu_node" ]; then
	append+=" scxvm_gpu_node=$gpu_node"
	append+=" scxvm_gpu_nodes=$(IFS=,; echo "${gpu_nodes[*]}")"
fi
[ -n "$extra_append" ] && append+=" $extra_append"
qargs+=(-nodefaults -display none -serial stdio -no-reboot
	-kernel "$kdir/vmlinuz" -initrd "$tmp/initramfs.cpio.gz")

log="$tmp/console.log"
shape="$nodes nodes x $cpn CPUs"
[ "$spn" = 1 ] || shape+=" in $spn sockets"
[ "$mem_nodes" = 0 ] || shape+=" + a memory-only node${hole:+ with id $hole}"
echo "vm: kernel $(cat "$kdir/version")${gpu_node:+ ($flavour, GPUs on nodes $(IFS=,; echo "${gpu_nodes[*]}"))}, $shape, $((mem_per_node * (nodes + mem_nodes))) MB," \
	"scenarios: ${names[*]} (limit ${total_timeout}s)" >&2

# Console lines arrive with CRLF; keep the log clean and echo progress.
progress() {
	local line in_kmsg=0
	: >"$log"
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%$'\r'}
		printf '%s\n' "$line" >>"$log"
		if [ "$verbose" = 1 ]; then
			printf 'vm| %s\n' "$line" >&2
			case "$line" in *"@@SCXVM BOOT "*) since_qemu >"$tmp/boot_s" ;; esac
			continue
		fi
		case "$line" in
		*"@@SCXVM KMSG-BEGIN "*) in_kmsg=1 ;;
		*"@@SCXVM KMSG-END "*) in_kmsg=0 ;;
		*"@@SCXVM BOOT "*)
			since_qemu >"$tmp/boot_s"
			echo "vm: [$(elapsed)s] booted: ${line#*@@SCXVM BOOT }" >&2 ;;
		*"@@SCXVM BEGIN "*) echo "vm: [$(elapsed)s] ${line#*@@SCXVM BEGIN } ..." >&2 ;;
		*"@@SCXVM END "* | *"@@SCXVM TIMEOUT "* | *"@@SCXVM CLEANUP "* | *"@@SCXVM DONE"*)
			echo "vm: [$(elapsed)s] ${line#*@@SCXVM }" >&2 ;;
		*"CHECK PASS: "* | *"CHECK FAIL: "*) echo "vm:     ${line}" >&2 ;;
		*)
			# Kernel messages on the console itself are loglevel <= 3 only.
			[ "$in_kmsg" = 0 ] && [[ "$line" =~ ^\[\ *[0-9]+\.[0-9]+\]\  ]] &&
				[[ "$line" != *"reboot: Power down" ]] && echo "vm: kernel: $line" >&2
			;;
		esac
	done
}

# Multi-threaded TCG now and then runs a stale translation of kernel text
# the kernel is live-patching (a static key flip): the guest dies with an
# "Oops: int3" in the patched site. An emulator race, not the code under
# test, so such a boot is lost, not failed: the scenarios it had not
# finished, the one it died in from its start, run on another boot. A guest
# that died before /init ran none of our code: booted again too. Any other
# death counts as it is; boot_tries bounds the boots of a run.
boot_tries=3
skip=0          # scenarios finished on lost boots, left out of the next
judged="$tmp/judged.log" lost=()
: >"$judged"
keep_lost() {
	local f
	if [ -n "$keep_log" ]; then
		f="$keep_log.boot$try"
		cp "$log" "$f"
	else
		f=$(mktemp "${TMPDIR:-/tmp}/scxvm-console-boot$try.XXXXXX")
		cp "$log" "$f"
	fi
	echo "$f"
}
for ((try = 1; ; try++)); do
	t_qemu=$EPOCHREALTIME
	rm -f "$tmp/boot_s"
	set +e
	timeout -k 10 "$total_timeout" "$qemu" "${qargs[@]}" \
		-append "$append scxvm_boot=$try scxvm_skip=$skip" </dev/null 2>"$tmp/qemu.err" | progress
	st=("${PIPESTATUS[@]}")
	set -e
	qemu_rc=${st[0]}
	# Only a kernel that died on its own; not a timeout or a QEMU error.
	if [ "$qemu_rc" != 0 ] || [ "$try" -ge "$boot_tries" ]; then
		[ "$qemu_rc" = 0 ] && [ "$try" -ge "$boot_tries" ] &&
			awk -v names="${names[*]:skip}" -v triage=1 -f "$here/verdict.awk" "$log" >/dev/null &&
			echo "vm: boot $try of $boot_tries lost to the emulator fault as well; no boots left, judged as it is" >&2
		break
	fi
	if ! grep -q '@@SCXVM BOOT ' "$log"; then
		grep -Eq 'Kernel panic|Oops: ' "$log" || break
		f=$(keep_lost)
		lost+=("vm: boot $try lost: the guest kernel died before /init; console log: $f")
		echo "vm: guest kernel died before /init (boot $try of $boot_tries, console log: $f); booting again" >&2
		continue
	fi
	why=$(awk -v names="${names[*]:skip}" -v triage=1 -f "$here/verdict.awk" "$log") || break
	read -r _ scope nend cut <<<"$why"
	# What finished on the lost boot is judged from it; the rest is not.
	head -n "$((cut - 1))" "$log" >>"$judged"
	where="while $scope ran"
	[ "$scope" = vm ] && where="between scenarios"
	f=$(keep_lost)
	lost+=("vm: boot $try lost to the emulator fault (kernel \"Oops: int3\" in text being patched) $where; console log: $f")
	skip=$((skip + nend))
	echo "vm: boot $try of $boot_tries lost to the emulator fault (kernel \"Oops: int3\" in text being patched) $where" \
		"(console log: $f); booting again for: ${names[*]:skip}" >&2
done
cat "$log" >>"$judged"
total_s=$(elapsed)
boot_s=$(cat "$tmp/boot_s" 2>/dev/null || echo "?")

extra=()
case "$qemu_rc" in
0) ;;
124 | 137) extra+=("QEMU killed after the ${total_timeout}s limit") ;;
*) extra+=("QEMU exited with status $qemu_rc: $(tr '\n' ' ' <"$tmp/qemu.err")") ;;
esac
[ -s "$tmp/qemu.err" ] && [ "$qemu_rc" = 0 ] && sed 's/^/vm: qemu: /' "$tmp/qemu.err" >&2

set +e
awk -v names="${names[*]}" -v extra="$(printf '%s\n' "${extra[@]+"${extra[@]}"}")" \
	-f "$here/verdict.awk" "$judged" >"$tmp/verdict"
verdict=$?
set -e

echo "vm: boot ${boot_s}s (QEMU start to /init), total ${total_s}s" >&2
if [ -n "$keep_log" ]; then
	cp "$judged" "$keep_log"
	echo "vm: console log: $keep_log" >&2
elif [ "$verdict" != 0 ]; then
	kept=$(mktemp "${TMPDIR:-/tmp}/scxvm-console.XXXXXX")
	cp "$judged" "$kept"
	echo "vm: console log: $kept" >&2
fi
# The verdict goes last, on stdout, so "vm: N passed, N failed" is the
# final line whatever the caller does with stderr.
[ ${#lost[@]} -eq 0 ] || printf '%s\n' "${lost[@]}"
cat "$tmp/verdict"
[ "$verdict" = 0 ]
