#!/usr/bin/env bash
# Regenerate bpf/vmlinux/x86/vmlinux.h from a sched_ext kernel's BTF.
#   scripts/gen-vmlinux.sh [vmlinuz|vmlinux|/sys/kernel/btf/vmlinux]
# Without an argument it uses the VM test kernel (fetched by tests/vm/fetch-kernel.sh).
# CO-RE relocates every field access at load time, so one header serves all
# kernels >= 6.12; kfuncs that only some kernels have are declared __weak.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
src=${1:-}
if [ -z "$src" ]; then
	kdir=$("$top/tests/vm/fetch-kernel.sh")
	src="$kdir/vmlinuz"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

case "$(head -c 4 "$src" | od -An -tx1 | tr -d ' ')" in
7f454c46) elf="$src" ;;                 # already an ELF (vmlinux) or raw BTF below
9feb0100|eb9f0100) elf="$src" ;;        # raw BTF blob (/sys/kernel/btf/vmlinux)
*)
	# bzImage: the payload is a compressed ELF; find the zstd frame magic.
	off=$(python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); print(d.find(b"\x28\xb5\x2f\xfd"))' "$src")
	[ "$off" -ge 0 ] || { echo "gen-vmlinux: no zstd payload in $src" >&2; exit 1; }
	# zstd stops at the frame end and complains about trailing bytes: that is fine.
	tail -c +$((off + 1)) "$src" | zstd -dcq > "$tmp/vmlinux" 2>/dev/null || true
	elf="$tmp/vmlinux"
	;;
esac
out="$top/bpf/vmlinux/x86/vmlinux.h"
bpftool btf dump file "$elf" format c > "$tmp/vmlinux.h"
grep -q 'struct sched_ext_ops {' "$tmp/vmlinux.h" || { echo "gen-vmlinux: $src has no sched_ext BTF" >&2; exit 1; }
mv "$tmp/vmlinux.h" "$out"
echo "gen-vmlinux: wrote $out"
