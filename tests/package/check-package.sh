#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The Debian package, as TAP: it builds from a copy of the source tree,
# lintian finds no error in it, it installs into a throwaway root with every
# file where the unit, the man pages and --help say, the unit is installed
# but neither enabled nor started, systemd-analyze verify accepts the
# installed unit, the installed daemon accepts the installed configuration
# (a conffile, which an upgrade keeps as the operator edited it), and remove
# then purge leave nothing behind.
# Skipped (77) without the Debian build tools (scripts/deps.sh installs them).
#
#   check-package.sh SRCDIR VERSION
set -uo pipefail

src=$1 version=$2
pkg=scx-ai-numa
for tool in dpkg-buildpackage dh lintian fakeroot; do
	command -v "$tool" >/dev/null || { echo "1..0 # SKIP no $tool (scripts/deps.sh)"; exit 77; }
done
arch=$(dpkg --print-architecture)

. "$(dirname "$0")/../lib/tap.sh"
indent() { sed 's/^/#   /'; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# ---- build, from a copy so the source tree stays clean ------------------------
# The tracked and new files as they are in the work tree (a deleted one is
# left out), not build directories (.gitignore) or what an earlier
# dpkg-buildpackage left in debian/.
mkdir "$work/src"
present() { while IFS= read -r -d '' f; do { [ -e "$f" ] || [ -L "$f" ]; } && printf '%s\0' "$f"; done; }
if git -C "$src" rev-parse --show-toplevel >/dev/null 2>&1; then
	(cd "$src" && git ls-files -z -co --exclude-standard | present | tar --null -T - -cf -) | tar -xf - -C "$work/src" ||
		bail "copying the source tree failed"
else
	tar -C "$src" --exclude='./build*' --exclude=./.git -cf - . | tar -xf - -C "$work/src" ||
		bail "copying the source tree failed"
fi
# nocheck: the host suites run in the same `meson test` that runs this one;
# running them again inside the build would double its cost.
if ! (cd "$work/src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
	dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1); then
	tail -n 60 "$work/build.log" | indent
	bail "dpkg-buildpackage -us -uc -b failed"
fi
deb=$work/${pkg}_${version}_${arch}.deb
check "dpkg-buildpackage builds $(basename "$deb")" test -f "$deb"
[ -f "$deb" ] || bail "no package to check (built: $(cd "$work" && echo *.deb); debian/changelog's version must be meson's $version)"

# ---- lintian --------------------------------------------------------------------
changes=$work/${pkg}_${version}_${arch}.changes
lint=$(lintian --display-info --pedantic "$changes" 2>&1 | grep -v "root privileges is not recommended")
lrc=$?
[ -z "$lint" ] || indent <<<"$lint"
errors=$(grep -c '^E: ' <<<"$lint")
warnings=$(grep -c '^W: ' <<<"$lint")
echo "# lintian: $errors errors, $warnings warnings"
check "lintian reports no error" test "$errors" -eq 0 -a "$lrc" -eq 0

# ---- the package's own metadata ----------------------------------------------------
conffiles=$(dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles 2>/dev/null)
# libbpf loads the scheduler at run time, so the libbpf the package accepts
# is at least the one it must be built with.
built_with=$(sed -n 's/.*libbpf-dev (>= \([^)]*\)).*/\1/p' "$src/debian/control")
runs_with=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed -n 's/.*libbpf1 (>= \([^)]*\)).*/\1/p' | sort -V | tail -n 1)
check "the package needs libbpf1 >= ${runs_with:-?}, no older than the build's libbpf-dev >= ${built_with:-?}" \
	dpkg --compare-versions "${runs_with:-0}" ge "${built_with:-1}"

# ---- install into a throwaway root --------------------------------------------------
# dpkg --root needs its admin directory there. The root holds no libc or
# shell, so the maintainer scripts run on the host with DPKG_ROOT set
# (--force-script-chrootless; debhelper's snippets and deb-systemd-helper
# honour DPKG_ROOT), and the package's dependencies (libc6, libbpf1,
# libjson-c5) are not in the root's database (--force-depends): the host
# provides them when the installed binaries run below.
root=$work/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/triggers" "$root/stub"
: >"$root/var/lib/dpkg/status"
# What systemd-analyze verify needs besides the package: the targets the
# unit's default dependencies name, and kill for ExecReload=. And what
# systemd owns on a real system: deb-systemd-helper keeps its state in
# /var/lib/systemd. Recorded as the root's baseline, which a purge must
# leave exactly as it was.
mkdir -p "$root/usr/lib/systemd/system" "$root/usr/bin" "$root/var/lib/systemd"
for t in sysinit basic shutdown multi-user; do
	for d in /lib/systemd/system /usr/lib/systemd/system; do
		[ -f "$d/$t.target" ] && { cp "$d/$t.target" "$root/usr/lib/systemd/system/"; break; }
	done
done
[ -x /usr/bin/kill ] && cp /usr/bin/kill "$root/usr/bin/kill"
# A systemctl and deb-systemd-invoke that only record what the maintainer
# scripts ask of them: none may start, stop or enable anything on the host.
calls=$work/systemctl.calls
: >"$calls"
for stub in systemctl deb-systemd-invoke; do
	printf '#!/bin/sh\necho "%s $*" >>"%s"\n' "$stub" "$calls" >"$root/stub/$stub"
	chmod +x "$root/stub/$stub"
done
baseline=$(cd "$root" && find . -path ./var/lib/dpkg -prune -o -path ./var/log -prune -o -print | sort)

# Not root: fakeroot lets dpkg give the files to root in the throwaway root.
as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(fakeroot)
rootdpkg() {
	PATH=$root/stub:$PATH "${as_root[@]}" dpkg --root="$root" --log="$work/dpkg.log" \
		--force-depends --force-script-chrootless "$@" >"$work/dpkg.out" 2>&1
	local rc=$?
	[ $rc -eq 0 ] || indent <"$work/dpkg.out"
	return $rc
}
check "dpkg --root installs the package" rootdpkg --install "$deb"
status=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null)
check "the package is installed and configured (status '$status')" test "$status" = "ii "
R=$root

# ---- every file where the unit, the man pages and --help say ------------------------
unit=$(dpkg-query --admindir="$root/var/lib/dpkg" -L "$pkg" | grep -E '/systemd/system/[^/]+\.service$')
check "the unit is installed in a systemd unit directory (${unit:-none})" test -n "$unit" -a -f "$R$unit"
case $unit in
/lib/systemd/system/* | /usr/lib/systemd/system/*) ;;
*) not_ok "the unit is in the system unit directory, not $unit" ;;
esac
exec_start=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$R$unit" 2>/dev/null)
daemon=$R$exec_start
check "the daemon is at the unit's ExecStart= ($exec_start)" test -n "$exec_start" -a -x "$daemon"
check "the CLI is installed executable at /usr/bin" test -x "$R/usr/bin/scx-ai-numactl"
check "the license is installed (DEP-5 copyright)" \
	grep -q '^Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' "$R/usr/share/doc/$pkg/copyright"
for doc in $(sed -n 's/^Documentation=//p' "$R$unit" 2>/dev/null); do
	case $doc in
	man:*) page=${doc#man:} name=${page%%(*} sec=${page#*(}; sec=${sec%)}
		check "the man page $page the unit names is installed" test -f "$R/usr/share/man/man$sec/$name.$sec.gz" ;;
	esac
done

help=$("$daemon" --help 2>&1)
config=$(sed -n 's/.*--config PATH.*(default \([^;)]*\).*/\1/p' <<<"$help")
check "the daemon's default configuration is under /etc (${config:-none})" test "${config%/*}" = /etc
check "the configuration file is installed where --help says" test -s "$R$config"
check "the configuration file is a conffile" grep -qxF "$config" <<<"$conffiles"
check "the unit's comment names the same configuration file" grep -qF "Settings: $config " "$R$unit"
for page in man8/scx_ai_numad.8 man5/scx-ai-numa.conf.5; do
	check "$page names the configuration file" \
		bash -c 'zcat "$1" | sed "s/\\\\&//g" | grep -qF "$2"' _ "$R/usr/share/man/$page.gz" "$config"
done
if out=$("$daemon" --check-config --config "$R$config" 2>&1); then
	ok "the installed daemon accepts the installed configuration"
else
	not_ok "the installed daemon accepts the installed configuration"
	indent <<<"$out"
fi

# The control socket is in the directory the unit has systemd create.
socket=$(sed -n 's/.*--socket PATH.*(default \([^)]*\)).*/\1/p' <<<"$help")
# RuntimeDirectory= may list several directories (the control socket's, the scx_stats endpoint's).
rtdirs=$(sed -n 's/^RuntimeDirectory=//p' "$R$unit" 2>/dev/null)
# in_rtdir PATH: PATH is one of the unit's runtime directories or below one.
in_rtdir() {
	local d
	for d in $rtdirs; do
		case $1 in "/run/$d" | "/run/$d"/*) return 0 ;; esac
	done
	return 1
}
check "the default socket $socket is in one of the unit's RuntimeDirectory=$rtdirs" in_rtdir "${socket%/*}"
check "the CLI's default socket is the daemon's" grep -qF "(default $socket)" <<<"$("$R/usr/bin/scx-ai-numactl" --help 2>&1)"
check "scx_ai_numad(8) names the socket" \
	bash -c 'zcat "$1" | sed "s/\\\\&//g" | grep -qF "$2"' _ "$R/usr/share/man/man8/scx_ai_numad.8.gz" "$socket"

# Every installed path the man pages name is there; runtime paths are in
# the directory the unit has systemd create.
for page in "$R"/usr/share/man/man*/*.gz; do
	named=$(zcat "$page" | sed 's/\\&//g; s/\\f[BIRP]//g; s/\\-/-/g' |
		grep -oE '(^|[^A-Za-z0-9_.-])/(etc|usr|lib|run)/[A-Za-z0-9_./-]*[A-Za-z0-9_]' | sed 's|^[^/]||' | sort -u)
	for path in $named; do
		case $path in
		/run/*) check "${page##*/} names $path, in the unit's RuntimeDirectory=" in_rtdir "$path" ;;
		*) check "${page##*/} names $path, which the package installs" test -e "$R$path" ;;
		esac
	done
done

# ---- installed, not switched on --------------------------------------------------
wants=$(find "$R/etc/systemd" -name "${unit##*/}" 2>/dev/null)
check "installing does not enable the unit" test -z "$wants"
# The maintainer scripts skip systemctl under DPKG_ROOT, so what they would
# do on a live system is read from them: never start or restart the unit,
# and stop it only when the package is removed, not on upgrade.
info=$R/var/lib/dpkg/info/$pkg
never_starts() {
	! grep -Eqs '(deb-systemd-invoke|systemctl)[^#]*(start|restart|\$_dh_action)' "$info".*inst "$info".*rm
}
stops_only_on_remove() {
	! grep -qs 'deb-systemd-invoke.* stop' "$info.preinst" "$info.postinst" || return 1
	[ -f "$info.prerm" ] || return 0
	# Every stop in prerm sits in an `if` that tests for removal.
	awk '/^if /{ cond = $0 } /deb-systemd-invoke.* stop/{ if (cond !~ /"\$1" = remove/) bad = 1 } END { exit bad }' "$info.prerm"
}
check "no maintainer script starts or restarts the unit" never_starts
check "an upgrade does not stop the unit (only removal does)" stops_only_on_remove
check "removing the package stops the unit" grep -q 'deb-systemd-invoke stop' "$info.prerm"

if ! command -v systemd-analyze >/dev/null; then
	skip "no systemd-analyze"
elif ! grep -q -- '--root' <<<"$(systemd-analyze --help 2>&1)"; then
	skip "systemd-analyze has no --root"
elif out=$(MANPATH=$R/usr/share/man systemd-analyze verify --root="$R" "$unit" 2>&1) && [ -z "$out" ]; then
	# MANPATH: Documentation= is checked against the pages in the root.
	ok "systemd-analyze verify accepts the installed unit, its binaries and man pages"
else
	not_ok "systemd-analyze verify accepts the installed unit, its binaries and man pages"
	indent <<<"$out"
fi

# ---- an upgrade keeps the operator's configuration ---------------------------------
# The same package under a higher version: dpkg keeps an edited conffile
# whose packaged content did not change, without asking; a configuration
# file that is not a conffile would be overwritten.
dpkg-deb -R "$deb" "$work/next" && sed -i "s/^Version: .*/Version: $version+next/" "$work/next/DEBIAN/control" &&
	dpkg-deb --root-owner-group -b "$work/next" "$work/next.deb" >/dev/null || bail "repacking the package failed"
echo "slice_ns = 5ms" >>"$R$config"
edited=$(cat "$R$config")
check "dpkg --root upgrades the package" rootdpkg --install "$work/next.deb"
check "an upgrade keeps the operator's configuration" test "$(cat "$R$config" 2>/dev/null)" = "$edited"
check "an upgrade does not enable the unit" test -z "$(find "$R/etc/systemd" -name "${unit##*/}" 2>/dev/null)"

# ---- remove, then purge ---------------------------------------------------------------
files=$(dpkg-query --admindir="$root/var/lib/dpkg" -L "$pkg" | while read -r f; do [ -d "$R$f" ] || echo "$f"; done)
check "dpkg --root removes the package" rootdpkg --remove "$pkg"
left=$(while read -r f; do [ -e "$R$f" ] && ! grep -qxF "$f" <<<"$conffiles" && echo "$f"; done <<<"$files")
check "remove deletes every file but the conffile${left:+ (left: $left)}" test -z "$left"
check "remove keeps the configuration file" test -f "$R$config"
check "dpkg --root purges the package" rootdpkg --purge "$pkg"
status=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null)
check "the package is gone from dpkg's database (status '${status:-none}')" test -z "$status" -o "$status" = "pn "
after=$(cd "$root" && find . -path ./var/lib/dpkg -prune -o -path ./var/log -prune -o -print | sort)
extra=$(comm -13 <(echo "$baseline") <(echo "$after") | tr '\n' ' ')
check "purge leaves nothing behind${extra:+ (left: $extra)}" test -z "$extra"
check "purge removes the configuration file" test ! -e "$R$config"
echo "# maintainer-script calls: $(tr '\n' ';' <"$calls")"

tap_end
