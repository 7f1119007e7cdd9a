#!/usr/bin/env bash
# Install everything scx_ai_numa needs to build, test, package (debian/) and
# run its VM on Debian 12.
# Idempotent: when every package is already present it only checks and exits.
#   scripts/deps.sh [--kernel-build]
# --kernel-build: also what tests/vm/build-kernel.sh needs to build the 6.12
# VM kernel (Debian's 6.12 source, from bookworm's security updates).
set -euo pipefail

[ "$(id -u)" -eq 0 ] || { echo "deps.sh: must run as root (apt-get)" >&2; exit 1; }

# bookworm ships libbpf 1.1 and QEMU 7.2; we need libbpf >= 1.4, bpftool 7.5,
# meson >= 1.1, a QEMU whose multi-threaded TCG does not oops the guest, and
# python3-varlink (the reference client of the interop test). prometheus
# (promtool and the server), prometheus-node-exporter and
# python3-prometheus-client (upstream's scx_stats exporter) serve the
# observability tests.
BACKPORTS=(libbpf-dev bpftool meson qemu-system-x86 libsystemd-dev python3-varlink)
BASE=(clang-16 llvm-16 lld-16 ninja-build pkg-config libelf-dev zlib1g-dev
      libjson-c-dev scdoc busybox-static stress-ng rt-tests zstd cpio jq
      binutils file procps python3 util-linux gnuplot-nox valgrind
      build-essential debhelper dpkg-dev fakeroot lintian
      prometheus prometheus-node-exporter python3-prometheus-client)
KERNEL_BUILD=(linux-source-6.12 bc bison flex libssl-dev dwarves xz-utils)
case "${1:-}" in
--kernel-build) BASE+=("${KERNEL_BUILD[@]}") ;;
'') ;;
*) echo "deps.sh: unknown argument '$1' (usage: $0 [--kernel-build])" >&2; exit 2 ;;
esac

. /etc/os-release
codename=${VERSION_CODENAME:-bookworm}

need=()
for p in "${BASE[@]}" "${BACKPORTS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
# An older libbpf/meson from the base suite does not count.
if dpkg --compare-versions "$(dpkg-query -W -f='${Version}' libbpf-dev 2>/dev/null || echo 0)" lt 1:1.4; then
	need+=(libbpf-dev)
fi
if dpkg --compare-versions "$(dpkg-query -W -f='${Version}' meson 2>/dev/null || echo 0)" lt 1.1; then
	need+=(meson)
fi
if [ "${#need[@]}" -eq 0 ]; then
	echo "deps.sh: all dependencies present"
	exit 0
fi

if [ "$codename" = bookworm ]; then
	src=/etc/apt/sources.list.d/scx-ai-numa-backports.list
	if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
		echo "deb http://deb.debian.org/debian bookworm-backports main" > "$src"
	fi
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
base_need=() bp_need=()
for p in "${need[@]}"; do
	if [[ " ${BACKPORTS[*]} " == *" $p "* ]] && [ "$codename" = bookworm ]; then
		bp_need+=("$p")
	else
		base_need+=("$p")
	fi
done
[ "${#base_need[@]}" -eq 0 ] || apt-get install -y -qq --no-install-recommends "${base_need[@]}"
# -t lets the backported packages pull their own backported dependencies
# (qemu-system-x86 needs the matching qemu-system-common, seabios, ...).
[ "${#bp_need[@]}" -eq 0 ] || apt-get install -y -qq --no-install-recommends -t bookworm-backports "${bp_need[@]}"
echo "deps.sh: installed ${need[*]}"
