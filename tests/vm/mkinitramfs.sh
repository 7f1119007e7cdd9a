#!/usr/bin/env bash
# Build the VM test initramfs.
#
#   tests/vm/mkinitramfs.sh [--modules MODDIR NAME[,NAME...]] OUT.cpio.gz BINDIR KCONFIG SCENARIO...
#
# --modules  kernel modules for /init to load before the scenarios: NAMEs
#            (e.g. virtio_gpu) and everything they depend on, found in the
#            unpacked modules tree MODDIR (fetch-kernel.sh --flavour
#            generic: its modules/), decompressed, in load order
#
# BINDIR   every executable directly in it goes to /usr/local/bin (the
#          project's binaries), with the shared libraries ldd finds
# KCONFIG  the kernel's config file (or a directory holding `config`);
#          /init links it to /boot/config-$(uname -r) at boot
# SCENARIO scenario scripts, run in the order given (names must be unique)
#
# Also included: busybox (static) as the userland, stress-ng, hackbench and
# cyclictest with their libraries, util-linux's setpriv at /usr/bin/setpriv
# (busybox's cannot drop capabilities from the bounding set; scenarios name
# it by its path), promtool when the host has it, tests/vm/lib.sh at /vm/lib.sh,
# the unit's template at /vm/scx-ai-numa.service and tests/vm/init.sh as /init.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
log() { echo "mkinitramfs: $*" >&2; }
die() { log "error: $*"; exit 1; }

moddir='' modnames=''
if [ "${1:-}" = --modules ]; then
	[ $# -ge 3 ] || die "--modules needs MODDIR and NAMEs"
	moddir=$2 modnames=$3
	shift 3
	[ -d "$moddir" ] || die "modules tree $moddir is not a directory"
fi
[ $# -ge 3 ] || die "usage: $0 [--modules MODDIR NAMES] OUT.cpio.gz BINDIR KCONFIG SCENARIO..."
out=$1 bindir=$2 kconfig=$3
shift 3
[ -d "$bindir" ] || die "BINDIR $bindir is not a directory"
[ -d "$kconfig" ] && kconfig="$kconfig/config"
[ -s "$kconfig" ] || die "kernel config $kconfig missing"

root=$(mktemp -d)
# mktemp makes it 0700: the guest's / must let unprivileged users in (non-root tests).
chmod 755 "$root"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,lib64,etc,root,boot,vm/scenarios} \
	"$root"/{dev,proc,sys,tmp,run}

declare -A copied=()

# put SRC DEST: copy a file to DEST inside the image, dereferencing links.
put() {
	mkdir -p "$root$(dirname "$2")"
	cp -L "$1" "$root$2"
}

# add_libs BIN: copy the shared libraries and loader BIN needs, at the
# paths ldd resolved them to, so the loader finds them without a cache.
add_libs() {
	local lib missing
	missing=$(ldd "$1" 2>/dev/null | grep 'not found' || true)
	[ -z "$missing" ] || die "$1: missing libraries: $missing"
	# ldd fails on static binaries: that just means no libraries.
	while IFS= read -r lib; do
		if [ -z "$lib" ] || [ -n "${copied[$lib]:-}" ]; then
			continue
		fi
		copied[$lib]=1
		put "$lib" "$lib"
	done < <(ldd "$1" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p' || true)
}

add_bin() {
	put "$1" "$2"
	chmod 755 "$root$2"
	add_libs "$1"
}

bb=$(command -v busybox) || die "busybox not found (install busybox-static, see scripts/deps.sh)"
add_bin "$bb" /bin/busybox
while IFS= read -r applet; do
	[ -n "$applet" ] && [ "$applet" != busybox ] && ln -sf busybox "$root/bin/$applet"
done < <("$bb" --list)

for tool in stress-ng hackbench cyclictest jq setpriv; do
	p=$(command -v "$tool") || die "$tool not found (see scripts/deps.sh)"
	add_bin "$p" "/usr/bin/$tool"
done
# Optional: promtool (Debian: prometheus) checks the live daemon's metrics
# in 70-locality. A Go binary that needs only libc; without it the check is
# skipped.
if p=$(command -v promtool); then
	add_bin "$p" /usr/bin/promtool
else
	log "no promtool: the guest cannot check the metrics output"
fi

nbin=0
while IFS= read -r -d '' f; do
	add_bin "$f" "/usr/local/bin/$(basename "$f")"
	log "binary $(basename "$f")"
	nbin=$((nbin + 1))
done < <(find -L "$bindir" -maxdepth 1 -type f -perm -u+x -print0)
[ "$nbin" -gt 0 ] || log "warning: no executables in $bindir"

cp "$kconfig" "$root/boot/config"
install -m 755 "$here/init.sh" "$root/init"
install -m 644 "$here/lib.sh" "$root/vm/lib.sh"
# The shipped unit's template: scenarios run the daemon with its privileges.
install -m 644 "$here/../../systemd/scx-ai-numa.service.in" "$root/vm/scx-ai-numa.service"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"

# Modules: each after the ones its .modinfo says it depends on. The tree is
# unpacked from packages, without depmod's index, so the dependencies are
# read from each module itself.
if [ -n "$moddir" ]; then
	declare -A modpath=() modseen=()
	while IFS= read -r -d '' f; do
		b=$(basename "$f")
		b=${b%%.ko*}
		modpath[${b//-/_}]=$f
	done < <(find "$moddir" -name '*.ko*' -print0)
	mkdir -p "$root/vm/modules"
	: >"$root/vm/modules.list"
	modcat() {
		case "$1" in
		*.xz) xz -dc "$1" ;;
		*.zst) zstd -qdc "$1" ;;
		*.gz) gzip -dc "$1" ;;
		*) cat "$1" ;;
		esac
	}
	add_module() {
		local m=${1//-/_} dep f
		[ -n "${modseen[$m]:-}" ] && return 0
		modseen[$m]=1
		f=${modpath[$m]:-}
		[ -n "$f" ] || die "module $m not found in $moddir"
		modcat "$f" >"$root/vm/modules/$m.ko" || die "cannot decompress $f"
		for dep in $(tr '\0' '\n' <"$root/vm/modules/$m.ko" | sed -n 's/^depends=//p' | head -n 1 | tr ',' ' '); do
			add_module "$dep"
		done
		echo "$m" >>"$root/vm/modules.list"
	}
	for m in ${modnames//,/ }; do
		add_module "$m"
	done
	log "modules: $(tr '\n' ' ' <"$root/vm/modules.list")"
fi

: >"$root/vm/scenarios.list"
for s in "$@"; do
	[ -f "$s" ] || die "scenario $s not found"
	b=$(basename "$s")
	[ -e "$root/vm/scenarios/$b" ] && die "two scenarios named $b"
	case "$b" in *[!A-Za-z0-9._-]*) die "scenario name $b: use [A-Za-z0-9._-] only" ;; esac
	install -m 755 "$s" "$root/vm/scenarios/$b"
	echo "$b" >>"$root/vm/scenarios.list"
done

mkdir -p "$(dirname "$out")"
(cd "$root" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --owner 0:0 --quiet) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
log "wrote $out ($(du -h "$out" | cut -f1), ${#copied[@]} libraries, $# scenarios)"
