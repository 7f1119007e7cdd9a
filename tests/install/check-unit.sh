#!/usr/bin/env bash
# The systemd unit, as TAP: systemd-analyze verify accepts it, and its
# exposure score (systemd-analyze security) is no worse than the one
# scx_ai_numad(8) records. Skipped (77) without systemd-analyze.
#
#   check-unit.sh UNIT DAEMON_MAN_SCD
# UNIT is the build-tree variant, whose ExecStart= exists before installing.
set -uo pipefail

unit_in=$1 man=$2
command -v systemd-analyze >/dev/null || { echo "1..0 # SKIP no systemd-analyze"; exit 77; }

. "$(dirname "$0")/../lib/tap.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unit=$tmp/scx-ai-numa.service
cp "$unit_in" "$unit"

# --man=no: the pages are not installed where man(1) looks yet; tests/man checks them.
if out=$(systemd-analyze verify --man=no "$unit" 2>&1) && [ -z "$out" ]; then
	ok "systemd-analyze verify accepts the unit without a warning"
else
	not_ok "systemd-analyze verify accepts the unit without a warning"
	sed 's/^/#   /' <<<"$out"
fi

for key in 'Type=notify' 'ConditionPathIsDirectory=/sys/kernel/sched_ext' 'Restart=on-failure' \
	   'ProtectSystem=strict' 'RestrictAddressFamilies=AF_UNIX' 'RuntimeDirectory=scx-ai-numa scx/root' \
	   'Conflicts=scx.service scx_loader.service'; do
	if grep -qx "$key" "$unit"; then ok "the unit sets $key"; else not_ok "the unit sets $key"; fi
done

# The system calls the unit lets through, computed as systemd does: the
# first SystemCallFilter= line (not negated) is the allow list, a later one
# adds to it, a negated one (~) takes away. Groups are expanded with
# systemd-analyze syscall-filter, nested groups included.
expand() {
	local item
	for item in "$@"; do
		case "$item" in
		@*) systemd-analyze syscall-filter "$item" 2>/dev/null |
			sed -n 's/^    \([@a-z0-9_]*\)$/\1/p' | while read -r m; do expand "$m"; done ;;
		*) echo "$item" ;;
		esac
	done
}
allowed=$tmp/allowed
: >"$allowed"
while IFS= read -r line; do
	val=${line#SystemCallFilter=}
	if [ "${val#\~}" != "$val" ]; then
		# shellcheck disable=SC2086
		expand ${val#\~} | sort -u >"$tmp/deny"
		grep -vxF -f "$tmp/deny" "$allowed" >"$tmp/next" || true
		mv "$tmp/next" "$allowed"
	else
		# shellcheck disable=SC2086
		{ cat "$allowed"; expand $val; } | sort -u >"$tmp/next"
		mv "$tmp/next" "$allowed"
	fi
done < <(grep '^SystemCallFilter=' "$unit")
echo "# the unit's filter lets $(wc -l <"$allowed") system calls through"
# What the daemon needs: bpf for the scheduler, move_pages and
# sched_getaffinity for memory that follows its task.
for sc in bpf move_pages sched_getaffinity; do
	if grep -qx "$sc" "$allowed"; then ok "the unit's system call filter allows $sc"; else not_ok "the unit's system call filter allows $sc"; fi
done
# ... and of @resources nothing else: no priorities, limits or memory policies.
for sc in setrlimit setpriority sched_setattr set_mempolicy migrate_pages mbind setuid; do
	if grep -qx "$sc" "$allowed"; then not_ok "the unit's system call filter denies $sc"; else ok "the unit's system call filter denies $sc"; fi
done

documented=$(grep -o "rates the unit's exposure at \*[0-9.]*\*" "$man" | grep -o '[0-9][0-9.]*')
if [ -z "$documented" ]; then
	not_ok "scx_ai_numad(8) records the unit's exposure score"
# Not a pipe: grep -q exits at the first match, and under pipefail the
# writer's SIGPIPE would read as "no --offline".
elif ! grep -q -- '--offline' <<<"$(systemd-analyze security --help 2>&1)"; then
	skip "systemd-analyze security has no --offline (systemd < 250)"
else
	out=$(systemd-analyze security --offline=yes "$unit" 2>&1)
	measured=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$out")
	echo "# exposure: measured ${measured:-?}, documented $documented"
	if [ -n "$measured" ] && awk -v m="$measured" -v d="$documented" 'BEGIN { exit !(m <= d) }'; then
		ok "the unit's exposure $measured is no worse than the documented $documented"
		[ "$measured" = "$documented" ] || echo "# the unit improved: update the score in scx_ai_numad(8)"
	else
		not_ok "the unit's exposure ${measured:-?} is no worse than the documented $documented"
		grep '✗' <<<"$out" | sed 's/^/#   /'
	fi
fi

tap_end
