#!/bin/sh
# Service integration in a real sched_ext kernel: sd_notify (READY=1 only once
# attached, STATUS=, watchdog pings, RELOADING=1/STOPPING=1), --check-config,
# and SIGHUP applying a changed configuration file live while a bad file, or
# a default file that has gone, leaves the running values alone. A FIFO as
# the configuration file is refused at once, at start-up and on SIGHUP, and
# never blocks the daemon.
. /vm/lib.sh

notify-listen /run/notify.sock 180 >/tmp/notify.out 2>&1 &
lpid=$!
sleep 1
printf 'slice_ns = 4ms\ninterval_s = 0\n' >/tmp/t.conf
chmod 644 /tmp/t.conf
check check-config scx_ai_numad --check-config -c /tmp/t.conf
printf 'slice_ns = 4ms\nsteal = maybe\n' >/tmp/bad.conf
chmod 644 /tmp/bad.conf
scx_ai_numad -c /tmp/bad.conf >/tmp/bad.out 2>&1
rc=$?
sed 's/^/  bad-config| /' /tmp/bad.out
check_eq bad-config-refused-exit-6 "$rc" 6
check bad-config-names-line grep -q 'bad.conf:2' /tmp/bad.out
check_eq bad-config-nothing-attached "$(sched_state)" disabled

# A FIFO would block open() until a writer came: refused at once instead.
mkfifo /tmp/fifo.conf
t0=$(now_ms)
timeout 10 scx_ai_numad -c /tmp/fifo.conf >/tmp/fifo.out 2>&1
rc=$?
t1=$(now_ms)
sed 's/^/  fifo-config| /' /tmp/fifo.out
info "fifo_config_refused_ms=$((t1 - t0))"
check_eq fifo-config-refused-exit-6 "$rc" 6
check fifo-config-explained grep -q 'fifo.conf: not a regular file' /tmp/fifo.out
check_le fifo-config-refused-within-2s "$((t1 - t0))" 2000
check_eq fifo-config-nothing-attached "$(sched_state)" disabled

NOTIFY_SOCKET=/run/notify.sock WATCHDOG_USEC=2000000 start_daemon -c /tmp/t.conf
wait_for 90 grep -q READY=1 /tmp/notify.out
check ready-sent grep -q "READY=1" /tmp/notify.out
check enabled-when-ready sched_is enabled
check status-scheduling grep -q "STATUS=scheduling on ${scxvm_nodes:-2} nodes, 0 restarts, 0 errors" /tmp/notify.out
check config-applied-at-start sh -c "$SCXVM_CTL --json get slice_ns | jq -e '.tunable.value == 4000000'"
sleep 4
pings=$(grep -c WATCHDOG=1 /tmp/notify.out)
info "watchdog_pings_in_4s=$pings"
check_ge watchdog-pings "$pings" 3

printf 'slice_ns = 5ms\nsteal = off\n' >/tmp/t.conf
kill -HUP "$DAEMON_PID"
wait_for 10 grep -q "tunable steal" "$SCXVM_DAEMON_LOG"
check reload-slice grep -q "tunable slice_ns: 4000000 -> 5000000" "$SCXVM_DAEMON_LOG"
check reload-steal grep -q "tunable steal: on -> off" "$SCXVM_DAEMON_LOG"
check reload-visible-over-socket sh -c "$SCXVM_CTL --json get steal | jq -e '.tunable.text == \"off\"'"
check reloading-sent grep -q "RELOADING=1" /tmp/notify.out
check monotonic-sent grep -q "MONOTONIC_USEC=" /tmp/notify.out
check_eq reload-no-reattach "$(attach_count)" 1

printf 'slice_ns = 7ms\nbogus = 1\n' >/tmp/t.conf
kill -HUP "$DAEMON_PID"
sleep 2
check bad-reload-logged grep -q "t.conf:2: unknown key 'bogus'" "$SCXVM_DAEMON_LOG"
check bad-reload-no-change sh -c "! grep -q 'slice_ns: 5000000 -> 7000000' $SCXVM_DAEMON_LOG"
check bad-reload-keeps-values sh -c "$SCXVM_CTL --json get slice_ns | jq -e '.tunable.value == 5000000'"

# The file replaced by a FIFO: the reload is refused at once and the loop
# keeps serving. Half a second lets the daemon take the signal first.
rm -f /tmp/t.conf
mkfifo /tmp/t.conf
kill -HUP "$DAEMON_PID"
sleep 0.5
t0=$(now_ms)
timeout 10 sh -c "$SCXVM_CTL status" >/tmp/fifo-status.out 2>&1
rc=$?
t1=$(now_ms)
info "status_after_fifo_sighup_ms=$((t1 - t0))"
check_eq fifo-reload-status-answers "$rc" 0
check_le fifo-reload-status-within-1s "$((t1 - t0))" 1000
check fifo-reload-logged grep -q "t.conf: not a regular file" "$SCXVM_DAEMON_LOG"
check fifo-reload-keeps-values sh -c "$SCXVM_CTL --json get slice_ns | jq -e '.tunable.value == 5000000'"
check still-alive daemon_alive
check still-enabled sched_is enabled
stop_daemon
check stopping-sent grep -q "STOPPING=1" /tmp/notify.out
check_eq exit-0 "$DAEMON_RC" 0

# The default configuration file (not named with -c) going away is no reason
# to fall back to the built-in defaults: a reload keeps the running settings.
defconf=$(scx_ai_numad --help | sed -n 's/.*configuration file (default \([^;]*\);.*/\1/p')
info "default_config=$defconf"
mkdir -p "$(dirname "$defconf")"
printf 'slice_ns = 6ms\n' >"$defconf"
chmod 644 "$defconf"
start_daemon
wait_for 90 sh -c "$SCXVM_CTL --json get slice_ns | jq -e '.tunable.value == 6000000'"
check default-config-applied sh -c "$SCXVM_CTL --json get slice_ns | jq -e '.tunable.value == 6000000'"
rm -f "$defconf"
kill -HUP "$DAEMON_PID"
wait_for 10 grep -q "$defconf: No such file or directory; the running configuration stays" "$SCXVM_DAEMON_LOG"
check gone-default-reload-refused grep -q "$defconf: No such file or directory; the running configuration stays" \
	"$SCXVM_DAEMON_LOG"
check gone-default-keeps-values sh -c "$SCXVM_CTL --json get slice_ns | jq -e '.tunable.value == 6000000'"
stop_daemon
check_eq gone-default-exit-0 "$DAEMON_RC" 0
kill "$lpid"
sed 's/^/notify| /' /tmp/notify.out
