#!/usr/bin/env bash
# Build a Linux 6.12 sched_ext kernel for the VM tests from Debian's
# linux-source-6.12 package, into a cache, and print the cache directory
# (vmlinuz, config, version, release, btf) on stdout.
#
#   tests/vm/build-kernel.sh [--rebuild]
#
# Debian's own 6.12 kernels lack CONFIG_SCHED_CLASS_EXT, and 6.12 is the
# oldest kernel the README promises: this kernel is what proves that claim
# (tests/vm/run.sh --kernel 6.12). The configuration is allnoconfig plus
# what the scheduler and the scenarios need: BPF JIT and syscall, BTF,
# sched_ext, ACPI NUMA, CPU hotplug, cgroups, page migration, transparent
# huge pages, the serial console, and virtio-gpu built in (the GPU
# scenarios; a self-built kernel has no modules tree for /init to load).
#
# The source tree and the objects stay in the cache too, so a second build
# after a configuration change is incremental. The build runs at nice 19;
# SCX_AI_NUMA_KERNEL_JOBS sets make -j (default: the number of CPUs).
#
# Needs linux-source-6.12 (bookworm-security / bookworm-backports), bc,
# bison, flex, libelf-dev, libssl-dev, dwarves (pahole), cpio, xz-utils,
# build-essential, bpftool: scripts/deps.sh --kernel-build installs them.
#
# Environment: SCX_AI_NUMA_CACHE, the cache root (default
# ${XDG_CACHE_HOME:-~/.cache}/scx-ai-numa) shared with fetch-kernel.sh.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
log() { echo "build-kernel: $*" >&2; }
die() { log "error: $*"; exit 1; }

rebuild=0
case "${1:-}" in
--rebuild) rebuild=1 ;;
'') ;;
*) die "unknown argument '$1' (usage: $0 [--rebuild])" ;;
esac

root=${SCX_AI_NUMA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/scx-ai-numa}
# Not under kernel/: fetch-kernel.sh takes the newest directory there.
kroot="$root/kernel-6.12"
tarball=/usr/src/linux-source-6.12.tar.xz
jobs=${SCX_AI_NUMA_KERNEL_JOBS:-$(nproc)}
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || die "SCX_AI_NUMA_KERNEL_JOBS must be a positive integer, got '$jobs'"

for t in make gcc bc bison flex pahole cpio xz bpftool; do
	command -v "$t" >/dev/null || die "$t not found (scripts/deps.sh --kernel-build)"
done
[ -s "$tarball" ] || die "$tarball missing: install linux-source-6.12 (scripts/deps.sh --kernel-build)"
pkgver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null) ||
	die "linux-source-6.12 is not installed"

mkdir -p "$kroot"
exec 9>"$kroot/.lock"
flock 9

# allnoconfig plus this: what a diskless, networkless QEMU guest running the
# scenarios needs and little else, to keep the build short. Each line: an
# option and its value (y, n or a quoted string). BPF_EVENTS (which takes
# kprobe events, so ftrace) is not optional: sched_ext programs get the
# tracing helpers (bpf_get_current_task_btf, bpf_probe_read_kernel) from
# it, and libbpf's probe for bpf_probe_read_kernel loads a tracepoint
# program.
fragment=$(cat <<'EOF'
CONFIG_LOCALVERSION="-scxvm"
CONFIG_LOCALVERSION_AUTO=n
CONFIG_64BIT=y
CONFIG_SMP=y
CONFIG_NR_CPUS=64
CONFIG_SCHED_MC=y
CONFIG_SCHED_SMT=y
CONFIG_HIGH_RES_TIMERS=y
CONFIG_HPET_TIMER=y
CONFIG_NUMA=y
CONFIG_ACPI=y
CONFIG_ACPI_NUMA=y
CONFIG_X86_64_ACPI_NUMA=y
CONFIG_HOTPLUG_CPU=y
CONFIG_MIGRATION=y
CONFIG_NUMA_BALANCING=y
CONFIG_TRANSPARENT_HUGEPAGE=y
CONFIG_SYSVIPC=y
CONFIG_POSIX_MQUEUE=y
CONFIG_INOTIFY_USER=y
CONFIG_PSI=y
CONFIG_IKCONFIG=y
CONFIG_IKCONFIG_PROC=y
CONFIG_CGROUPS=y
CONFIG_MEMCG=y
CONFIG_CPUSETS=y
CONFIG_CGROUP_SCHED=y
CONFIG_FAIR_GROUP_SCHED=y
CONFIG_CGROUP_PIDS=y
CONFIG_CGROUP_FREEZER=y
CONFIG_CGROUP_BPF=y
CONFIG_BPF_SYSCALL=y
CONFIG_BPF_JIT=y
CONFIG_BPF_JIT_ALWAYS_ON=y
CONFIG_PERF_EVENTS=y
CONFIG_KPROBES=y
CONFIG_FTRACE=y
CONFIG_KPROBE_EVENTS=y
CONFIG_BPF_EVENTS=y
CONFIG_DEBUG_KERNEL=y
CONFIG_DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT=y
CONFIG_DEBUG_INFO_BTF=y
CONFIG_SCHED_CLASS_EXT=y
CONFIG_MAGIC_SYSRQ=y
CONFIG_DEBUG_FS=y
CONFIG_BINFMT_ELF=y
CONFIG_BINFMT_SCRIPT=y
CONFIG_BLK_DEV_INITRD=y
CONFIG_RD_GZIP=y
CONFIG_PROC_FS=y
CONFIG_PROC_SYSCTL=y
CONFIG_PROC_CHILDREN=y
CONFIG_TMPFS=y
CONFIG_DEVTMPFS=y
CONFIG_UNIX98_PTYS=y
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y
CONFIG_NET=y
CONFIG_UNIX=y
CONFIG_PCI=y
CONFIG_PCI_MSI=y
CONFIG_PCI_MMCONFIG=y
CONFIG_PCIEPORTBUS=y
CONFIG_VIRTIO_MENU=y
CONFIG_VIRTIO_PCI=y
CONFIG_DRM=y
CONFIG_DRM_FBDEV_EMULATION=n
CONFIG_DRM_VIRTIO_GPU=y
EOF
)
# Every option asked for =y: a cached kernel built without one (an older
# version of this list) is built again.
wanted=$(printf '%s\n' "$fragment" | sed -n 's/^CONFIG_\([A-Z0-9_]*\)=y$/\1/p')

dest="$kroot/$pkgver"
complete() {
	local opt
	[ -s "$1/vmlinuz" ] && [ -s "$1/config" ] && [ -s "$1/version" ] && [ -s "$1/btf" ] || return 1
	for opt in $wanted; do
		grep -qx "CONFIG_$opt=y" "$1/config" || return 1
	done
}
if [ "$rebuild" = 0 ] && complete "$dest"; then
	log "using cached kernel $(cat "$dest/release")"
	echo "$dest"
	exit 0
fi

# The tree is unpacked once per source version and kept for incremental builds.
src="$kroot/src-$pkgver"
if [ ! -f "$src/.unpacked" ]; then
	rm -rf "$src"
	mkdir -p "$src"
	log "unpacking $tarball ($pkgver)"
	tar -xJf "$tarball" -C "$src" --strip-components=1
	touch "$src/.unpacked"
fi


t0=$(date +%s)
cd "$src"
frag="$src/.scxvm.config"
printf '%s\n' "$fragment" >"$frag"
log "configuring (allnoconfig + $(wc -l <"$frag") options)"
KCONFIG_ALLCONFIG="$frag" make -s allnoconfig >"$kroot/build.log" 2>&1
# Kconfig drops an option whose dependencies are unmet without a word:
# every one asked for must have made it.
for opt in $wanted; do
	grep -qx "CONFIG_$opt=y" .config || die "CONFIG_$opt is not =y after allnoconfig (see $kroot/build.log)"
done

log "building with make -j$jobs at nice 19 (log: $kroot/build.log)"
nice -n 19 make -j"$jobs" bzImage >>"$kroot/build.log" 2>&1 ||
	{ tail -n 30 "$kroot/build.log" >&2; die "kernel build failed (log: $kroot/build.log)"; }
t1=$(date +%s)

rel=$(make -s kernelrelease)
stage=$(mktemp -d "$kroot/.stage.XXXXXX")
chmod 755 "$stage"
trap 'rm -rf "$stage"' EXIT
cp arch/x86/boot/bzImage "$stage/vmlinuz"
cp .config "$stage/config"
echo "$pkgver" >"$stage/version"
echo "$rel" >"$stage/release"
# The raw BTF, for the kfunc/flag fixtures (tests/kcompat) and for anyone
# comparing what this kernel offers the scheduler.
bpftool btf dump file vmlinux format raw >/dev/null 2>&1 || die "vmlinux has no BTF"
objcopy -O binary --only-section=.BTF vmlinux "$stage/btf"
echo "$((t1 - t0))" >"$stage/build-seconds"
rm -rf "$dest"
mv "$stage" "$dest"
trap - EXIT
log "built $rel in $(((t1 - t0) / 60))m$(((t1 - t0) % 60))s with make -j$jobs; cached in $dest"
echo "$dest"
