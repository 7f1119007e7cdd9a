#!/usr/bin/env bash
# `meson install --destdir` puts every file an operator needs where the
# build says it goes, as TAP: binaries, the unit pointing at the installed
# daemon, man pages, the example configuration, and the configuration file,
# which a second install must not overwrite.
#
#   check-install.sh --builddir DIR --prefix P --sbindir DIR --bindir DIR --mandir DIR
#                    --unitdir DIR --config FILE --socket FILE --exampledir DIR [--ctl]
# Directories are absolute, as they are on the installed system.
set -uo pipefail

builddir='' prefix='' sbindir='' bindir='' mandir='' unitdir='' config='' socket='' exampledir='' want_ctl=0
while [ $# -gt 0 ]; do
	case "$1" in
	--builddir) builddir=$2 ;;
	--prefix) prefix=$2 ;;
	--sbindir) sbindir=$2 ;;
	--bindir) bindir=$2 ;;
	--mandir) mandir=$2 ;;
	--unitdir) unitdir=$2 ;;
	--config) config=$2 ;;
	--socket) socket=$2 ;;
	--exampledir) exampledir=$2 ;;
	--ctl) want_ctl=1; shift; continue ;;
	*) echo "Bail out! unknown argument $1"; exit 2 ;;
	esac
	shift 2
done

. "$(dirname "$0")/../lib/tap.sh"

dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
install_into() {
	meson install -C "$builddir" --no-rebuild --destdir "$dest" >"$dest.log" 2>&1
	local rc=$?
	[ $rc -eq 0 ] || { sed 's/^/#   /' "$dest.log"; rm -f "$dest.log"; bail "meson install --destdir failed ($rc)"; }
	rm -f "$dest.log"
}
install_into
echo "# installed under $prefix:"
(cd "$dest" && find . -type f -o -type l | sort | sed 's/^\./#   /')

D=$dest
check "the daemon is installed executable at $sbindir" test -x "$D$sbindir/scx_ai_numad"
if [ "$want_ctl" = 1 ]; then
	check "the CLI is installed executable at $bindir" test -x "$D$bindir/scx-ai-numactl"
else
	skip "scx-ai-numactl is not part of this build"
fi

unit=$D$unitdir/scx-ai-numa.service
check "the unit is installed in $unitdir" test -f "$unit"
exec_start=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit" 2>/dev/null)
check "the unit starts the installed daemon ($exec_start)" test "$exec_start" = "$sbindir/scx_ai_numad"
check "the unit is Type=notify" grep -qx 'Type=notify' "$unit"
check "no @placeholder@ is left in the unit" bash -c '! grep -q "@[a-z_]*@" "$1"' _ "$unit"

for page in man8/scx_ai_numad.8 man8/scx-ai-numactl.8 man5/scx-ai-numa.conf.5; do
	f=$D$mandir/$page
	check "man page $page is installed" grep -q '^\.TH ' "$f"
	# scdoc writes "." as ".\&" so that no line starts a roff request.
	case $page in
	*numactl*) ;;
	*) check "man page $page names the installed configuration file" \
		grep -qF "$config" <(sed 's/\\&//g' "$f") ;;
	esac
	case $page in
	*.8) check "man page $page names the default socket" grep -qF "$socket" <(sed 's/\\&//g' "$f") ;;
	esac
	check "no @placeholder@ is left in $page" bash -c '! grep -q "@[a-z_]*@" "$1"' _ "$f"
	if command -v man >/dev/null; then
		# groff's warnings are what a reader would see as garbage.
		warnings=$(MANWIDTH=80 man --warnings -l "$f" 2>&1 >/dev/null)
		check "man page $page renders without warnings${warnings:+: $warnings}" test -z "$warnings"
	fi
done

example=$D$exampledir/scx-ai-numa.conf
check "the example configuration is installed in $exampledir" test -s "$example"
check "the configuration file is installed at $config" cmp -s "$example" "$D$config"
check "the configuration file is not world-writable" test -z "$(find "$D$config" -perm -o+w)"
if out=$("$D$sbindir/scx_ai_numad" --check-config --config "$D$config" 2>&1); then
	ok "the installed daemon accepts the installed configuration"
else
	not_ok "the installed daemon accepts the installed configuration"
	sed 's/^/#   /' <<<"$out"
fi
check "the installed daemon's default configuration path is $config" \
	grep -qF "$config" <<<"$("$D$sbindir/scx_ai_numad" --help)"
# The unit has systemd create /run/RuntimeDirectory= for the socket.
check "the installed daemon's default socket is $socket" \
	grep -qF "(default $socket)" <<<"$("$D$sbindir/scx_ai_numad" --help)"
# Among the directories it lists (the scx_stats endpoint's is another).
check "the unit creates the socket's directory" \
	grep -qE "^RuntimeDirectory=(.* )?$(basename "$(dirname "$socket")")( .*)?$" "$unit"
if [ "$want_ctl" = 1 ]; then
	check "the installed CLI's default socket is $socket" \
		grep -qF "(default $socket)" <<<"$("$D$bindir/scx-ai-numactl" --help)"
fi

# An operator's edits survive reinstalling.
echo "slice_ns = 5ms" >>"$D$config"
before=$(cat "$D$config")
install_into
check "a second install keeps the existing configuration file" test "$(cat "$D$config")" = "$before"
check "a second install still refreshes the example" bash -c '! grep -q "^slice_ns = 5ms" "$1"' _ "$example"

tap_end
