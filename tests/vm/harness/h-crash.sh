#!/bin/sh
# Harness test scenario (tests/vm/test-harness.sh), never part of the suite:
# kills the guest the way the kernel under multi-threaded TCG sometimes does,
# or in a way it must not be mistaken for. Kernel command line:
#   scxvm_harness=int3         the emulator fault's console signature
#                =panic        a plain panic, no int3
#                =bug-int3     a BUG first, then the int3 signature
#                =int3-warned  the int3 signature on a kernel that WARNed
#   scxvm_harness_boots=1|all  crash on the first boot only, or on every one
# On a boot it does not crash it passes, saying which boot it ran on.
. /vm/lib.sh

boot=${scxvm_boot:-1}
info boot="$boot" mode="${scxvm_harness:-}"
if [ "${scxvm_harness_boots:-1}" = all ] || [ "$boot" = 1 ]; then
	# At console level (<= 3) so the lines reach the serial console live,
	# as the kernel's own Oops lines do.
	kmsg() { echo "<2>$1" >/dev/kmsg; }
	taint='Not tainted'
	case "${scxvm_harness:-}" in
	bug-int3) kmsg "BUG: kernel NULL pointer dereference, address: 0000000000000008" ;;
	int3-warned) taint='Tainted: G        W' ;;
	esac
	case "${scxvm_harness:-}" in
	int3 | bug-int3 | int3-warned)
		kmsg "Oops: int3: 0000 [#1] SMP NOPTI"
		kmsg "CPU: 0 UID: 0 PID: 0 Comm: swapper/0 $taint $(uname -r) #1 PREEMPT(lazy)"
		kmsg "RIP: 0010:scx_tick+0xa/0xb0" ;;
	esac
	sleep 1
	echo c >/proc/sysrq-trigger
	sleep 10
	check guest-crashed false
fi
check_eq ran-on-a-later-boot "$([ "$boot" -gt 1 ] && echo yes)" yes
