#!/bin/sh
# The daemon enables our scheduler, refuses a second instance and non-root
# callers with one clear line, and SIGTERM hands the CPUs back.
. /vm/lib.sh

check_eq idle-before "$(sched_state)" disabled
start_sched
rc=$?
info "ops=$(sched_ops)" "state=$(sched_state)"
check_eq daemon-enables-ai_numa "$rc" 0
check attach-logged grep -q "attached: scheduling on ${scxvm_nodes:-2} nodes" "$SCXVM_DAEMON_LOG"

# A second daemon must not touch the running scheduler.
scx_ai_numad >/tmp/second.log 2>&1
rc=$?
sed 's/^/  second| /' /tmp/second.log
check_eq second-daemon-exit-1 "$rc" 1
check second-daemon-says-why grep -q 'another sched_ext scheduler is active' /tmp/second.log
check_eq first-still-attached "$(sched_ops)" ai_numa

# Non-root is refused before anything is touched.
su -s /bin/sh nobody -c 'scx_ai_numad' >/tmp/nonroot.log 2>&1
rc=$?
sed 's/^/  nonroot| /' /tmp/nonroot.log
check_eq nonroot-exit-1 "$rc" 1
check nonroot-says-root grep -q 'must run as root' /tmp/nonroot.log

# Bad usage is exit 2.
scx_ai_numad --interval 0 >/tmp/usage.log 2>&1
check_eq bad-usage-exit-2 "$?" 2

stop_daemon TERM
check_eq sigterm-exit-0 "$DAEMON_RC" 0
wait_for 10 sched_is disabled
check_eq sigterm-disables "$(sched_state)" disabled
check sigterm-logged grep -q 'detaching' "$SCXVM_DAEMON_LOG"

# SIGKILL: the kernel notices the link closing and falls back by itself.
start_sched
check_eq restarted "$(sched_ops)" ai_numa
kill -KILL "$DAEMON_PID"
t0=$(now_ms)
wait_for 10 sched_is disabled
info "fallback_after_sigkill_ms=$(($(now_ms) - t0))"
check_eq sigkill-falls-back-to-default "$(sched_state)" disabled
check system-still-runs sh -c 'echo alive | grep -q alive'
DAEMON_PID=
