#!/bin/sh
# Detaching during CPU hotplug: the daemon is stopped (SIGTERM) while CPUs
# go offline and online under load, many times in one boot, at different
# moments of the churn (mid-churn, right after a CPU came back, right after
# one went), on the in-place path and on the restart path. Every stop must
# finish (the daemon's own bound, 3 s of hotplug settling and 15 s of
# detach, after any re-attach already in the kernel: 60 s here), attach
# nothing once the stop was read, the kernel must reach `disabled`, and a
# new daemon must attach afterwards.
# A stop that does not finish leaves its stacks on the console
# (stuck_report: the daemon, sched_ext's helper kthread, every task in D
# state) and ends the loop: the kernel cannot be trusted after it.
#
# scxvm_detach_iters=N (default 6; 40 or more to hunt the hang on purpose),
# scxvm_detach_secs=S to start no iteration after S seconds (a long hunt
# then ends in time and still reports: the checks count the iterations
# started, not N),
# scxvm_detach_load=0 to run without the stress-ng load,
# scxvm_detach_restart=0 to leave out the --hotplug-restart iterations,
# =only to run nothing else.
. /vm/lib.sh

iters=${scxvm_detach_iters:-6}
budget_s=${scxvm_detach_secs:-0}
load=${scxvm_detach_load:-1}
restart=${scxvm_detach_restart:-1}
ncpus=${scxvm_cpus:-4}
last=$((ncpus - 1))
# The second churned CPU is on the other node from $last where there is one.
other=$(( ncpus > 2 ? 1 : last ))

# churn_loop: CPUs $last and $other off and on, as fast as the kernel lets.
churn_loop() {
	while :; do
		cpu_offline "$last" 2>/dev/null
		cpu_offline "$other" 2>/dev/null
		cpu_online "$other" 2>/dev/null
		cpu_online "$last" 2>/dev/null
	done
}

sp=
if [ "$load" = 1 ]; then
	stress-ng --cpu "$ncpus" --timeout $((iters * 40))s >/dev/null 2>&1 &
	sp=$!
fi

stuck=0 slow=0 max_ms=0 total_ms=0 done_iters=0 reattached=0
i=0
start_ms=$(now_ms)
while [ "$i" -lt "$iters" ]; do
	if [ "$budget_s" -gt 0 ] && [ $(($(now_ms) - start_ms)) -ge $((budget_s * 1000)) ]; then
		echo "detach-hotplug: time budget of ${budget_s} s spent after $i of $iters iterations"
		break
	fi
	i=$((i + 1))
	for c in $(seq 0 "$last"); do cpu_online "$c" 2>/dev/null; done
	# Every other iteration on the restart path, where the kernel itself
	# ejects the scheduler on each hotplug and the daemon re-attaches: the
	# stop then races a disable the kernel started.
	mode=
	case $restart in
	1) [ $((i % 2)) = 0 ] && mode=--hotplug-restart ;;
	only) mode=--hotplug-restart ;;
	esac
	# shellcheck disable=SC2086 # no argument when empty
	if ! start_sched $mode; then
		_fail "attach-$i" "the scheduler did not attach"
		break
	fi
	churn_loop &
	cp=$!
	# Three moments: mid-churn after a varying delay, right after a CPU
	# came back, right after one went.
	case $((i % 3)) in
	0) sleep "0.$(( (i * 37) % 10 ))" ;;
	1) sleep 0.5; wait_for 5 sh -c "[ \"\$(cat /sys/devices/system/cpu/cpu$last/online)\" = 1 ]" ;;
	2) sleep 0.5; wait_for 5 sh -c "[ \"\$(cat /sys/devices/system/cpu/cpu$last/online)\" = 0 ]" ;;
	esac
	t0=$(now_ms)
	kill -s TERM "$DAEMON_PID"
	# A stop may have to wait for a re-attach already in the kernel (BPF
	# loading takes seconds under TCG, tens of seconds on a loaded host),
	# then hotplug to settle (3 s) and the detach (15 s): 60 s is stuck.
	# shellcheck disable=SC2016 # expanded by eval, on every poll
	if ! wait_for 60 eval '! _alive "$DAEMON_PID"'; then
		stuck=$((stuck + 1))
		echo "detach-hotplug: iteration $i: the daemon did not exit within 60 s of SIGTERM"
		stuck_report "$DAEMON_PID"
		kill "$cp" 2>/dev/null
		dump_daemon_log | tail -n 30
		break
	fi
	ms=$(($(now_ms) - t0))
	# Past its bound the daemon says so and its main thread exits, while the
	# thread closing the link stays in the kernel.
	if grep -q 'has not finished disabling' "$SCXVM_DAEMON_LOG"; then
		stuck=$((stuck + 1))
		echo "detach-hotplug: iteration $i: the kernel's disable did not finish (daemon gave up after ${ms} ms)"
		stuck_report "$DAEMON_PID"
		kill "$cp" 2>/dev/null
		dump_daemon_log | tail -n 30
		DAEMON_PID=
		break
	fi
	kill "$cp" 2>/dev/null
	wait "$cp" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_RC=$?
	DAEMON_PID=
	[ "$DAEMON_RC" = 0 ] || _fail "exit-$i" "daemon exit $DAEMON_RC"
	# Once the stop was read, nothing is attached again.
	n=$(sed -n '/detaching; the kernel/,$p' "$SCXVM_DAEMON_LOG" | grep -c 'attached: scheduling')
	[ "$n" = 0 ] || reattached=$((reattached + 1))
	total_ms=$((total_ms + ms))
	[ "$ms" -gt "$max_ms" ] && max_ms=$ms
	[ "$ms" -gt 30000 ] && slow=$((slow + 1))
	# One line a stop, so a long hunt cut short still leaves its figures.
	echo "detach-hotplug: iteration $i${mode:+ ($mode)}: stopped in ${ms} ms"
	if ! wait_for 20 sched_is disabled; then
		stuck=$((stuck + 1))
		echo "detach-hotplug: iteration $i: sched_ext $(sched_state) 20 s after the daemon exited"
		stuck_report 0
		break
	fi
	done_iters=$((done_iters + 1))
	: >"$SCXVM_DAEMON_LOG"
done
[ -n "$sp" ] && kill "$sp" 2>/dev/null
for c in $(seq 0 "$last"); do cpu_online "$c" 2>/dev/null; done
info "detach_iterations=$done_iters" "detach_stuck=$stuck" "detach_slow_over_30s=$slow" \
	"reattached_after_stop=$reattached" \
	"detach_max_ms=$max_ms" "detach_mean_ms=$((total_ms / (done_iters ? done_iters : 1)))"
check_eq detach-never-stuck "$stuck" 0
check_eq no-reattach-after-stop "$reattached" 0
check_eq detach-all-iterations "$done_iters" "$i"
