# SPDX-License-Identifier: GPL-2.0
# TAP for the shell tests, sourced: numbered ok/not ok lines, a failure
# count, and `tap_end` for the plan and the exit status.
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $*"; }
# check WHAT COMMAND...: ok when COMMAND succeeds.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}
bail() { echo "Bail out! $*"; exit 2; }
tap_end() {
	echo "1..$n"
	[ "$failed" -eq 0 ]
}
