#!/bin/sh
# /proc unreadable, for real: the daemon runs without CAP_SYS_PTRACE,
# CAP_DAC_READ_SEARCH and CAP_DAC_OVERRIDE in its bounding set (so not in
# its capabilities either), and so the kernel refuses it another user's
# /proc/PID/environ and fd/ (EACCES: the GPU sources) and move_pages(2) on
# that process (EPERM: memory locality and migration). (Its maps and smaps
# stay readable to uid 0 on the kernels tried, 6.18 and 7.3: printed, not
# asserted.) Two pinned processes with their memory on the wrong node: one
# of uid 65534, one of root with the daemon's own capabilities (which it may
# read). The daemon keeps scheduling, answers status within 1 s, keeps its
# tunable and both pins, moves the readable process's memory, reports the
# other's placement as not possible ("no permission", no memory figure)
# rather than a made-up one, counts the processes whose open files the GPU
# scan may not read (with --gpu-node: the scan runs only with GPUs), says what failed in one line a minute at most, and
# floods nothing.
. /vm/lib.sh

ctl=$SCXVM_CTL
setpriv=/usr/bin/setpriv
drop=-sys_ptrace,-dac_read_search,-dac_override
# CAP_DAC_OVERRIDE 1, CAP_DAC_READ_SEARCH 2, CAP_SYS_PTRACE 19
dropped_mask=$(((1 << 1) | (1 << 2) | (1 << 19)))

# cap_eff PID: the process's effective capability set, as a number.
cap_eff() { echo $((0x$(awk '/^CapEff:/ { print $2 }' "/proc/$1/status"))); }
own_home() { [ "$(node1_pct /tmp/mw-own.out)" -ge 90 ]; }
# proc_json PID: the daemon's migration entry for PID, from `pins`.
proc_json() { "$ctl" --json pins | jq -c ".migration[] | select(.pid == $1)"; }

if [ ! -x "$setpriv" ]; then
	_fail setpriv-in-image "$setpriv (util-linux) is not in the image: see tests/vm/mkinitramfs.sh"
	exit 0
fi
capless=/tmp/capless-daemon
printf '#!/bin/sh\nexec %s --bounding-set %s -- %s "$@"\n' "$setpriv" "$drop" "$SCXVM_DAEMON" >"$capless"
chmod 755 "$capless"
main_daemon=$SCXVM_DAEMON
SCXVM_DAEMON=$capless

: >"$SCXVM_DAEMON_LOG"
t_start=$(now_ms)
if ! start_sched; then
	_fail attach "the daemon without CAP_SYS_PTRACE did not attach"
	exit 0
fi
eff=$(cap_eff "$DAEMON_PID")
info "daemon_cap_eff=$(printf '%x' "$eff")"
check_eq daemon-lacks-ptrace-and-dac "$((eff & dropped_mask))" 0
"$ctl" set slice_ns 7000000 >/dev/null

# Another user's process, and one of root with the daemon's capabilities.
"$setpriv" --reuid 65534 --regid 65534 --clear-groups -- \
	mem-worker --mb 32 --touch-node 0 --seconds 150 >/tmp/mw-other.out 2>&1 &
other=$!
"$setpriv" --bounding-set "$drop" -- mem-worker --mb 32 --touch-node 0 --seconds 150 >/tmp/mw-own.out 2>&1 &
own=$!
wait_for 30 grep -q '^ready' /tmp/mw-other.out
wait_for 30 grep -q '^ready' /tmp/mw-own.out
# What the daemon meets, shown with its own capabilities: each of the
# other's files it reads, opened as it would be.
refused=0
for f in smaps maps environ fd; do
	if [ "$f" = fd ]; then
		"$setpriv" --bounding-set "$drop" -- ls "/proc/$other/fd" >/tmp/read.out 2>/tmp/denied.err
	else
		"$setpriv" --bounding-set "$drop" -- cat "/proc/$other/$f" >/tmp/read.out 2>/tmp/denied.err
	fi
	rc=$?
	echo "  /proc/$other/$f: exit $rc, $(wc -c </tmp/read.out) bytes $(head -c 200 /tmp/denied.err)"
	case $f in
	environ | fd) [ "$rc" != 0 ] && grep -q 'Permission denied' /tmp/denied.err && refused=$((refused + 1)) ;;
	esac
done
info "other_environ_fd_refused=$refused"
check_eq proc-unreadable-for-real "$refused" 2
check proc-own-readable "$setpriv" --bounding-set "$drop" -- cat "/proc/$own/smaps" >/dev/null
"$ctl" pin "$other" 1 >/dev/null
"$ctl" pin "$own" 1 >/dev/null

# The readable one's memory moves (settle 2 s, then 32 MB at the default rate).
wait_for 90 own_home
sleep 6
own_pct=$(node1_pct /tmp/mw-own.out)
other_pct=$(node1_pct /tmp/mw-other.out)
other_j=$(proc_json "$other")
own_j=$(proc_json "$own")
mig_state=$("$ctl" --json status | jq -r '.migration.state')
# shellcheck disable=SC2046 # two numbers, split on purpose
set -- $(status_ms)
median=$1 slowest=$2
elapsed_s=$((($(now_ms) - t_start) / 1000))
lines=$(grep -c 'needs ptrace read access' "$SCXVM_DAEMON_LOG")
scan_denied=$("$ctl" --json status | jq -r '.placement.gpu_scan.last_denied')
gpus=$("$ctl" --json status | jq -r '.placement.gpus')
info "own_pct_node1=$own_pct" "other_pct_node1=$other_pct" "status_median_ms=$median" \
	"status_slowest_ms=$slowest" "denied_log_lines=$lines" "elapsed_s=$elapsed_s" "migration_state=$mig_state" \
	"gpu_scan_last_denied=$scan_denied"
echo "  other| $other_j"
echo "  own| $own_j"
check_ge readable-memory-moved "$own_pct" 90
check_le refused-memory-stayed "$other_pct" 10
check refused-reported-no-permission sh -c "echo '$other_j' | jq -e '.state == \"no permission\" and .memory_locality_pct == null'"
check readable-reported-with-figure sh -c "echo '$own_j' | jq -e '.state != \"no permission\" and .memory_locality_pct >= 90'"
check_eq status-says-no-permission "$mig_state" "no permission"
check_ge refusal-said "$lines" 1
check refusal-said-with-errno grep -q 'moving pages of process.*Operation not permitted' "$SCXVM_DAEMON_LOG"
# The other's open files, at least: refused is counted, not taken for no GPU.
# The scan runs only with GPUs (--gpu-node); without, tests/unit/test_gpu.c.
if [ "$gpus" -gt 0 ]; then
	check_ge gpu-scan-counts-refused "$scan_denied" 1
else
	info "gpu_scan=off_no_gpu"
fi
# Said once a minute at most.
check_le refusal-said-once-a-minute "$lines" $((1 + elapsed_s / 60))
check_le status-within-1s "$median" 1000
check_le status-never-past-3s "$slowest" 3000
check daemon-alive daemon_alive
check_eq still-scheduling "$(sched_ops)" ai_numa
check hackbench timeout 120 hackbench --groups 1 --fds 4 --loops 10
check_eq tunable-kept "$("$ctl" --json get slice_ns | jq -r '.tunable.value')" 7000000
check pins-kept sh -c "$ctl --json pins | jq -e '[.pins[] | select(.node == 1 and (.pid == $other or .pid == $own))] | length == 2'"
# Nothing floods the log: no line (numbers aside) more often than the
# refusal's once a minute, beside the two pins' own lines.
top=$(sed 's/[0-9][0-9]*/N/g' "$SCXVM_DAEMON_LOG" | sort | uniq -c | sort -rn | head -n 1)
info "log_lines=$(wc -l <"$SCXVM_DAEMON_LOG")" "log_most_repeated=${top%% *}"
echo "  most repeated| $top"
check_le no-flood "$(echo "$top" | awk '{ print $1 + 0 }')" $((2 + elapsed_s / 60))
grep 'needs ptrace read access\|could not be read' "$SCXVM_DAEMON_LOG" | head -n 3 | sed 's/^/  log| /'
kill "$other" "$own" 2>/dev/null
wait "$other" "$own" 2>/dev/null
stop_daemon TERM
check_eq clean-exit "$DAEMON_RC" 0
SCXVM_DAEMON=$main_daemon
