#!/bin/sh
# The shipped unit's privileges are enough for what it is shipped to do:
# the daemon runs with exactly the unit's CapabilityBoundingSet (CAP_BPF,
# CAP_PERFMON, CAP_CHOWN, CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH) and
# NoNewPrivileges, as systemd would start it, and still attaches the
# scheduler, answers on its socket, and moves another user's memory to the
# node it was pinned to (move_pages(2) needs ptrace read access, not
# CAP_SYS_NICE). The unit's system call filter, which the VM has no
# systemd to apply, is checked against the same needs by
# tests/install/check-unit.sh.
. /vm/lib.sh

ctl=$SCXVM_CTL
setpriv=/usr/bin/setpriv
unit=$(sed -n 's/^CapabilityBoundingSet=//p' /vm/scx-ai-numa.service 2>/dev/null)
# The unit's set as setpriv spells it: cap_bpf -> +bpf.
caps=-all
for c in $unit; do
	c=$(echo "$c" | tr 'A-Z' 'a-z')
	caps="$caps,+${c#cap_}"
done
info "unit_caps=$unit" "setpriv_bounding_set=$caps"
# CAP_BPF 39, CAP_PERFMON 38, CAP_CHOWN 0, CAP_SYS_PTRACE 19, CAP_DAC_READ_SEARCH 2
want=$(((1 << 39) | (1 << 38) | (1 << 0) | (1 << 19) | (1 << 2)))
cap_eff() { echo $((0x$(awk '/^CapEff:/ { print $2 }' "/proc/$1/status"))); }

if [ -z "$unit" ] || [ ! -x "$setpriv" ]; then
	_fail unit-in-image "the unit (/vm/scx-ai-numa.service) or $setpriv is not in the image: see tests/vm/mkinitramfs.sh"
	exit 0
fi
wrapped=/tmp/unit-caps-daemon
printf '#!/bin/sh\nexec %s --no-new-privs --bounding-set %s -- %s "$@"\n' "$setpriv" "$caps" "$SCXVM_DAEMON" >"$wrapped"
chmod 755 "$wrapped"
SCXVM_DAEMON=$wrapped

if ! start_sched; then
	_fail attach "the daemon with the unit's capabilities did not attach"
	dump_daemon_log
	exit 0
fi
eff=$(cap_eff "$DAEMON_PID")
info "daemon_cap_eff=$(printf '%x' "$eff")"
check_eq daemon-has-the-units-caps-only "$eff" "$want"
check_eq no-new-privs "$(awk '/^NoNewPrivs:/ { print $2 }' "/proc/$DAEMON_PID/status")" 1
check_eq attached "$(sched_ops)" ai_numa
check status "$ctl" status

# Another user's process with its memory on node 0, pinned to node 1.
"$setpriv" --reuid 65534 --regid 65534 --clear-groups -- \
	mem-worker --mb 32 --touch-node 0 --seconds 90 >/tmp/mw.out 2>&1 &
wpid=$!
wait_for 30 grep -q '^ready' /tmp/mw.out
check_eq memory-starts-on-node-0 "$(node1_pct /tmp/mw.out)" 0
check pin "$ctl" pin "$wpid" 1
home() { [ "$(node1_pct /tmp/mw.out)" -ge 90 ]; }
wait_for 20 home
info "node1_pct=$(node1_pct /tmp/mw.out)"
"$ctl" --json pins | jq -c ".migration[] | select(.pid == $wpid)" | sed 's/^/  pins| /'
check another-users-memory-moved home
check no-permission-refusal sh -c "! grep -q 'needs ptrace read access' '$SCXVM_DAEMON_LOG'"
check_eq pins-shows-no-refusal "$("$ctl" --json pins | jq -r ".migration[] | select(.pid == $wpid) | .state")" home
kill "$wpid" 2>/dev/null
wait "$wpid" 2>/dev/null
stop_daemon TERM
check_eq clean-exit "$DAEMON_RC" 0
