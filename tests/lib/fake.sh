# SPDX-License-Identifier: GPL-2.0
# For the shell tests that run tests/control/fake-daemon, sourced after
# tap.sh. start_fake FAKE ARGS...: starts it with its output in $dir
# (which the test made), waits for its "ready", bails out if it does not
# come; FAKE_PID is its pid, which the test's cleanup kills.
start_fake() {
	"$@" >"$dir/fake.out" 2>"$dir/fake.err" &
	FAKE_PID=$!
	for _ in $(seq 200); do
		grep -q ready "$dir/fake.out" && return 0
		sleep 0.05
	done
	bail "fake-daemon did not start: $(cat "$dir/fake.err")"
}
