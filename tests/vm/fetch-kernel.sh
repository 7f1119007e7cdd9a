#!/usr/bin/env bash
# Fetch the VM test kernel (Debian trixie-backports, cloud flavour) into a cache
# and print the cache directory (vmlinuz, config, version, release) on stdout.
#
#   tests/vm/fetch-kernel.sh [--flavour cloud|generic]
#
# The cloud flavour (the default) has no DRM at all. The generic flavour
# (linux-image-amd64) builds GPU drivers as modules: its cache directory also
# holds modules/, the unpacked modules tree (kernel/... .ko.xz), from which
# mkinitramfs.sh --modules takes what a scenario needs.
#
# Environment:
#   SCX_AI_NUMA_CACHE          cache root (default ${XDG_CACHE_HOME:-~/.cache}/scx-ai-numa)
#   SCX_AI_NUMA_KERNEL_REFRESH=1  ask apt for the current version even when a
#                              kernel is cached (falls back to the cache offline)
#   SCX_AI_NUMA_DEBIAN_MIRROR  Debian mirror (default http://deb.debian.org/debian)
#
# The packages are only downloaded and unpacked, never installed: apt runs with
# a private sources list, list directory and cache so the host's apt state is
# neither read for sources nor modified.
set -euo pipefail

log() { echo "fetch-kernel: $*" >&2; }
die() { log "error: $*"; exit 1; }

kind=cloud
case "${1:-}" in
--flavour) kind=${2:-}; shift 2 || true ;;
--flavour=*) kind=${1#--flavour=}; shift ;;
'') ;;
*) die "unknown argument '$1' (usage: $0 [--flavour cloud|generic])" ;;
esac

root=${SCX_AI_NUMA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/scx-ai-numa}
suite=trixie-backports
mirror=${SCX_AI_NUMA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
case "$kind" in
cloud) kroot="$root/kernel" flavour=cloud-amd64 ;;
# A cache of its own: the cloud lookup picks the newest directory in its own.
generic) kroot="$root/kernel-generic" flavour=amd64 ;;
*) die "unknown kernel flavour '$kind' (cloud or generic)" ;;
esac
meta=linux-image-$flavour

mkdir -p "$kroot"

complete() {
	[ -s "$1/vmlinuz" ] && [ -s "$1/config" ] && [ -s "$1/version" ] &&
		{ [ "$kind" != generic ] || [ -d "$1/modules/kernel" ]; }
}

# Newest complete cached kernel, by Debian-ish version order of the dir names.
newest_cached() {
	local d best=
	while IFS= read -r d; do
		complete "$kroot/$d" && best="$kroot/$d"
	done < <(find "$kroot" -mindepth 1 -maxdepth 1 -type d ! -name '.*' -printf '%f\n' | sort -V)
	[ -n "$best" ] && echo "$best"
}

# Serialise concurrent callers (parallel test runs share the cache); the
# lock also covers the fast path so nobody reads a half-moved directory.
exec 9>"$kroot/.lock"
flock 9

if [ "${SCX_AI_NUMA_KERNEL_REFRESH:-0}" != 1 ] && cached=$(newest_cached); then
	log "using cached kernel $(cat "$cached/version")"
	echo "$cached"
	exit 0
fi

work=$(mktemp -d "$kroot/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/dl"
echo "deb $mirror $suite main" > "$work/sources.list"
apt_opts=(
	-o "Dir::Etc::sourcelist=$work/sources.list"
	-o "Dir::Etc::sourceparts=-"
	-o "Dir::State::Lists=$work/lists"
	-o "Dir::Cache=$work/cache"
	-o "Debug::NoLocking=1"
	-o "APT::Sandbox::User=root"
	-o "Acquire::Languages=none"
)

fallback() {
	local cached
	if cached=$(newest_cached); then
		log "warning: $1; using cached kernel $(cat "$cached/version")"
		echo "$cached"
		exit 0
	fi
	die "$1 and no kernel is cached in $kroot"
}

log "resolving $meta in $suite"
apt-get "${apt_opts[@]}" -q --error-on=any update >"$work/apt.log" 2>&1 ||
	{ cat "$work/apt.log" >&2; fallback "apt-get update failed"; }

# The meta package depends on linux-image-<ver>-<flavour>; <ver> names the
# binary packages we need.
ver=$(apt-cache "${apt_opts[@]}" show --no-all-versions "$meta" 2>/dev/null |
	sed -n 's/^Depends:.*linux-image-\([^ ,]*\)-'"$flavour"'\b.*/\1/p' | head -n1) || true
[ -n "$ver" ] || fallback "cannot resolve the kernel version from $meta"
log "kernel version $ver"

dest="$kroot/$ver"
if complete "$dest"; then
	echo "$dest"
	exit 0
fi

rel="$ver-$flavour"
pkgs=("linux-binary-unsigned-$rel" "linux-base-$rel")
[ "$kind" = generic ] && pkgs+=("linux-modules-$rel")
log "downloading ${pkgs[*]}"
(cd "$work/dl" && apt-get "${apt_opts[@]}" -q download "${pkgs[@]}") >"$work/apt.log" 2>&1 ||
	{ cat "$work/apt.log" >&2; fallback "apt-get download failed"; }

for deb in "$work"/dl/*.deb; do
	dpkg-deb -x "$deb" "$work/x"
done
mod="$work/x/usr/lib/modules/$rel"
[ -s "$mod/vmlinuz.unsigned" ] || die "no vmlinuz.unsigned in ${pkgs[0]}"
[ -s "$mod/config" ] || die "no config in ${pkgs[1]}"
grep -qx 'CONFIG_SCHED_CLASS_EXT=y' "$mod/config" || die "kernel $rel lacks CONFIG_SCHED_CLASS_EXT"

stage="$work/out"
mkdir "$stage"
cp "$mod/vmlinuz.unsigned" "$stage/vmlinuz"
cp "$mod/config" "$stage/config"
echo "$ver" > "$stage/version"
echo "$rel" > "$stage/release"
if [ "$kind" = generic ]; then
	[ -d "$mod/kernel" ] || die "no modules in linux-modules-$rel"
	mkdir "$stage/modules"
	mv "$mod/kernel" "$stage/modules/kernel"
	cp "$mod/modules.order" "$stage/modules/" 2>/dev/null || true
fi
rm -rf "$dest"
mv "$stage" "$dest"
log "cached in $dest"
echo "$dest"
