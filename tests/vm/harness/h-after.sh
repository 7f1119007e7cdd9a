#!/bin/sh
# Harness test scenario (tests/vm/test-harness.sh): runs after h-crash, so
# only on the boot where h-crash finished.
. /vm/lib.sh
info boot="${scxvm_boot:-}"
check booted-with-a-number [ -n "${scxvm_boot:-}" ]
