#!/bin/sh
# Harness test scenario (tests/vm/test-harness.sh): runs before h-crash; it
# must run once, on the first boot, whatever becomes of that boot later.
. /vm/lib.sh
info boot="${scxvm_boot:-}"
check_eq ran-on-the-first-boot "${scxvm_boot:-}" 1
