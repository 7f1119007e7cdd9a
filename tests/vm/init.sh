#!/bin/sh
# /init of the VM test initramfs (busybox ash, PID 1). Runs the scenarios
# listed in /vm/scenarios.list in order, then powers off. Markers (one per
# line, parsed by tests/vm/run.sh):
#   @@SCXVM BOOT kernel=REL uptime=S cpus=N nodes=N boot=N skip=N
#   @@SCXVM KMSG-BEGIN NAME / @@SCXVM KMSG-END NAME   (raw dmesg, "<lvl>[ts] msg")
#   @@SCXVM BEGIN NAME
#   @@SCXVM TIMEOUT NAME after=S
#   @@SCXVM END NAME rc=N secs=S
#   @@SCXVM DONE
# Kernel command-line knobs (unknown key=value pairs land in our environment):
#   scxvm_timeout=S   per-scenario timeout in seconds (default 300)
#   scxvm_shell=1     no scenarios: drop to a shell (interactive debugging)
#   scxvm_boot=N      which boot of this run this is (run.sh boots again
#                     after an emulator fault); scenarios see it too
#   scxvm_skip=N      leave out the first N scenarios of the list: they
#                     finished on a boot the emulator lost later
# Modules listed in /vm/modules.list (mkinitramfs.sh --modules) are loaded
# first, from /vm/modules/NAME.ko.

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM="${TERM:-vt100}"

mount -t devtmpfs devtmpfs /dev 2>/dev/null
# The initramfs has no /dev/console node, so the kernel could not give us a
# console: take it now that devtmpfs is there.
exec </dev/console >/dev/console 2>&1

mkdir -p /proc /sys /tmp /run /dev/shm /dev/pts /sys/fs/bpf
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t devpts devpts /dev/pts 2>/dev/null
mount -t bpf bpf /sys/fs/bpf
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
hostname scxvm

# libbpf resolves __kconfig externs from /boot/config-$(uname -r) when the
# kernel has no /proc/config.gz; the image carries the config under a
# release-independent name so it never has to guess the release.
rel=$(uname -r)
[ -e "/boot/config-$rel" ] || ln -s config "/boot/config-$rel"

# Kernel modules the image carries (mkinitramfs.sh --modules), in dependency
# order; a scenario that needs one checks for what it provides.
if [ -s /vm/modules.list ]; then
	loaded=
	for m in $(cat /vm/modules.list); do
		if insmod "/vm/modules/$m.ko" 2>/tmp/.insmod; then
			loaded="$loaded $m"
		else
			echo "modules: insmod $m failed: $(cat /tmp/.insmod)"
		fi
	done
	rm -f /tmp/.insmod
	echo "modules: loaded$loaded"
fi

timeout_s=${scxvm_timeout:-300}
read -r up _ </proc/uptime
skip=${scxvm_skip:-0}
echo "@@SCXVM BOOT kernel=$rel uptime=$up cpus=$(nproc) nodes=$(cat /sys/devices/system/node/online)" \
	"boot=${scxvm_boot:-1} skip=$skip"

kmsg_dump() {
	echo "@@SCXVM KMSG-BEGIN $1"
	dmesg -r -c
	echo "@@SCXVM KMSG-END $1"
}

# Kill every user process but us (kernel threads have ppid 2 or are pid 2),
# TERM first so a daemon can unregister its scheduler cleanly.
kill_leftovers() {
	for sig in TERM TERM TERM KILL; do
		n=0
		for d in /proc/[0-9]*; do
			p=${d#/proc/}
			[ "$p" = 1 ] || [ "$p" = 2 ] && continue
			read -r st 2>/dev/null <"$d/stat" || continue
			# Fields after "(comm) " are state, ppid, ...: split on purpose.
			# shellcheck disable=SC2086
			set -- ${st##*) }
			[ "$2" = 2 ] || [ "$1" = Z ] && continue
			kill -s "$sig" "$p" 2>/dev/null && n=$((n + 1))
		done
		[ "$n" = 0 ] && return 0
		echo "@@SCXVM CLEANUP $name signal=$sig procs=$n"
		sleep 1
	done
}

# Put the machine back to the state every scenario starts from.
reset_state() {
	kill_leftovers
	for c in /sys/devices/system/cpu/cpu[0-9]*/online; do
		[ "$(cat "$c")" = 1 ] || echo 1 >"$c" 2>/dev/null ||
			echo "CHECK FAIL: $name/cleanup-cpu-online: cannot online ${c%/online}"
	done
	i=0
	while [ "$(cat /sys/kernel/sched_ext/state 2>/dev/null)" != disabled ] && [ $i -lt 50 ]; do
		sleep 0.2
		i=$((i + 1))
	done
	st=$(cat /sys/kernel/sched_ext/state 2>/dev/null)
	[ "$st" = disabled ] ||
		echo "CHECK FAIL: $name/cleanup-sched-ext-disabled: state '$st' after its processes were killed"
	rm -rf /tmp/* /dev/shm/* 2>/dev/null
}

run_one() {
	script=$1
	name=$(basename "$script" .sh)
	echo "@@SCXVM BEGIN $name"
	read -r t0 _ </proc/uptime
	# Its own session and process group, so a timeout reaches everything it
	# started (load generators, the daemon) and not us.
	(cd /tmp && exec setsid sh "$script" </dev/null) &
	spid=$!
	# The watchdog kills its own sleep when cancelled, so a scenario that
	# finishes in time leaves nothing behind.
	(
		trap 'kill $sl 2>/dev/null; exit 0' TERM
		sleep "$timeout_s" &
		sl=$!
		wait $sl
		echo "@@SCXVM TIMEOUT $name after=$timeout_s"
		# Blocked tasks, for the KMSG dump that follows.
		echo w >/proc/sysrq-trigger 2>/dev/null
		kill -s TERM "-$spid" 2>/dev/null
		sleep 5 &
		sl=$!
		wait $sl
		kill -s KILL "-$spid" 2>/dev/null
	) &
	wpid=$!
	wait "$spid"
	rc=$?
	kill -s TERM "$wpid" 2>/dev/null
	wait "$wpid" 2>/dev/null
	read -r t1 _ </proc/uptime
	reset_state
	kmsg_dump "$name"
	echo "@@SCXVM END $name rc=$rc secs=$(awk "BEGIN{printf \"%.1f\", $t1 - $t0}")"
}

kmsg_dump boot
if [ "${scxvm_shell:-0}" = 1 ]; then
	setsid cttyhack sh
else
	# Read the list up front: a loop fed by a redirect may run in a
	# subshell, which kill_leftovers would then kill.
	# shellcheck disable=SC2013 # names are single words (mkinitramfs checks)
	for s in $(cat /vm/scenarios.list); do
		if [ "$skip" -gt 0 ]; then
			skip=$((skip - 1))
			continue
		fi
		run_one "/vm/scenarios/$s"
	done
fi
echo "@@SCXVM DONE"
sync
# poweroff -f does not drain the serial console: on a loaded host the last
# lines (a scenario's END, DONE) were still queued in the UART and lost.
sleep 1
poweroff -f
