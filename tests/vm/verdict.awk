# Judge a VM console log (see init.sh for the markers, lib.sh for CHECK lines).
#   awk -v names="00-smoke 10-foo" -v extra="$(global failures, one per line)" \
#       -f verdict.awk console.log
# Prints one line per scenario, details of failures, and finally
# "vm: N passed, N failed". Exit status 1 when anything failed.
#
#   awk -v names="..." -v triage=1 -f verdict.awk console.log
# judges instead whether a boot that died was lost to the emulator fault
# (below): prints "lost SCOPE NEXT CUT" (SCOPE the scenario that was running,
# or "vm"; NEXT how many scenarios of names finished before it; CUT the
# console line where the lost part starts) and exits 0, or exits 1.
# POSIX awk only (Debian's default awk is mawk).

function after(s, m,    i) {
	i = index(s, m)
	return i ? substr(s, i + length(m)) : ""
}

function word(s,    a) {
	split(s, a, " ")
	return a[1]
}

# kv("rc=0 secs=1.2", "rc") -> "0"
function kv(s, k,    a, n, i) {
	n = split(s, a, " ")
	for (i = 1; i <= n; i++)
		if (index(a[i], k "=") == 1)
			return substr(a[i], length(k) + 2)
	return ""
}

function note(scope, msg) {
	if (ndetail[scope] < 25)
		detail[scope] = detail[scope] "vm:     " msg "\n"
	else if (ndetail[scope] == 25)
		detail[scope] = detail[scope] "vm:     ... (more in the console log)\n"
	ndetail[scope]++
}

function reason(scope, msg) {
	reasons[scope] = reasons[scope] (reasons[scope] == "" ? "" : "; ") msg
}

# Kernel text is recognised by its printk timestamp; user output has none.
function is_kernel(l) {
	return in_kmsg || l ~ /\[ *[0-9]+\.[0-9]+\] /
}

function level(l) {
	if (l !~ /^<[0-9]+>/)
		return -1
	return substr(l, 2, index(l, ">") - 2) % 8
}

function kernel_bad(l,    r) {
	if (l ~ /sched_ext: BPF (sub-)?scheduler ".*" disabled \(/) {
		r = after(l, "disabled (")
		sub(/\)[^)]*$/, "", r)
		# Clean unregistration, including the kernel's own on CPU hotplug.
		return !(r == "unregistered from user space" || r == "unregistered from BPF" ||
			 r == "unregistered from the main kernel")
	}
	if (l ~ /runnable task stall|watchdog failed to check in|Debug dump triggered by|ops error detected|invalid ops state|Invalid task state/)
		return 1
	# sched_ext logs error exits (reason, message) at KERN_ERR.
	if (l ~ /sched_ext:/ && level(l) >= 0 && level(l) <= 3)
		return 1
	return l ~ /Kernel panic|kernel BUG at|BUG: |Oops: |general protection fault|Call Trace:|WARNING: |cut here|soft lockup|hard LOCKUP|blocked for more than|detected stall|self-detected stall|UBSAN:|KASAN:|KFENCE:|list_add corruption|list_del corruption|Out of memory: Killed process/
}

# Multi-threaded TCG now and then runs a stale translation of kernel text
# the kernel is live-patching (a static key flip: text_poke_bp plants an
# int3, patches, removes it): a vCPU traps on the int3 after patching is
# over, the kernel finds no patch in progress and dies with "Oops: int3".
# Nothing else in kernel mode executes int3 here (BUG() is ud2, "invalid
# opcode"). Only the first kernel error of the scope counts: what came
# before it is no emulator's doing, what follows is the dying kernel.
function is_tcg_fault(l) {
	return l ~ /Oops: int3: /
}

# "CPU: 0 UID: 0 PID: 0 Comm: x Not tainted 7.3.4 ..." or
# "... Tainted: G      D W    7.3.4 ...": whether the kernel had WARNed
# before. WARNINGs print below the console level, so a boot that dies
# before the scenario's dmesg dump hides them: the taint is the only trace.
function warned_before(l,    f) {
	if (index(l, "Not tainted"))
		return 0
	f = after(l, "Tainted: ")
	match(f, /^[A-Z ]*/)
	return index(substr(f, 1, RLENGTH), "W") > 0
}

function expected(scope, l,    n, i, a) {
	n = split(expect[scope], a, "\n")
	for (i = 1; i <= n; i++)
		if (a[i] != "" && l ~ a[i])
			return 1
	return 0
}

BEGIN {
	cur = "vm"
	nnames = split(names, order, " ")
	booted = done = in_kmsg = 0
}

{
	sub(/\r$/, "")
	l = $0
}

index(l, "@@SCXVM ") {
	m = after(l, "@@SCXVM ")
	tag = word(m)
	arg = after(m, tag " ")
	if (tag == "BOOT") { booted = 1; boot_info = arg }
	else if (tag == "DONE") { done = 1 }
	else if (tag == "BEGIN") { cur = word(arg); began[cur] = 1; begin_nr[cur] = NR }
	else if (tag == "END") {
		n = word(arg)
		ended[n] = 1
		rc[n] = kv(arg, "rc")
		secs[n] = kv(arg, "secs")
		cur = "vm"
	}
	else if (tag == "TIMEOUT") { timedout[word(arg)] = kv(arg, "after") }
	else if (tag == "KMSG-BEGIN") { in_kmsg = 1 }
	else if (tag == "KMSG-END") { in_kmsg = 0 }
	else if (tag == "EXPECT-KMSG") { expect[cur] = expect[cur] "\n" arg }
	next
}

index(l, "CHECK PASS: ") { pass[cur]++ }

index(l, "CHECK FAIL: ") {
	fail[cur]++
	note(cur, "CHECK FAIL: " after(l, "CHECK FAIL: "))
}

# The taint the first Oops of a scope reports, on its "CPU:" line.
want_taint && is_kernel(l) && l ~ /CPU: [0-9]+ .*[Tt]ainted/ {
	want_taint = 0
	if (warned_before(l))
		tainted_w[cur] = 1
}

# A message at console level shows up twice: live and in the dmesg dump.
is_kernel(l) && kernel_bad(l) && !expected(cur, l) {
	if (!(cur in first_bad)) {
		first_bad[cur] = l
		first_bad_nr[cur] = NR
		want_taint = is_tcg_fault(l)
	}
	k = l
	sub(/^<[0-9]+>/, "", k)
	if (!((cur, k) in seen)) {
		seen[cur, k] = 1
		kbad[cur]++
		note(cur, "kernel: " k)
	}
}

function triage_boot(    s, i, nend) {
	# A guest that ran to the end, or scenarios whose own errors came
	# first, or an int3 after a WARNING the console never showed: as is.
	if (done || !(cur in first_bad) || !is_tcg_fault(first_bad[cur]) || tainted_w[cur])
		return 1
	for (nend = 0; nend < nnames && ended[order[nend + 1]]; nend++)
		;
	# What it ran of the scenario it died in goes; before it stays.
	printf "lost %s %d %d\n", cur, nend, cur == "vm" ? first_bad_nr[cur] : begin_nr[cur]
	return 0
}

END {
	if (triage)
		exit triage_boot()
	npass = nfail = 0
	for (i = 1; i <= nnames; i++) {
		s = order[i]
		if (!began[s])
			reason(s, "did not run")
		else {
			if (timedout[s] != "")
				reason(s, "timed out after " timedout[s] "s")
			if (!ended[s])
				reason(s, "no end marker (guest died or hung)")
			else if (rc[s] != "0")
				reason(s, "exit status " rc[s])
			if (fail[s])
				reason(s, fail[s] " failed check" (fail[s] > 1 ? "s" : ""))
			if (ended[s] && !pass[s] && !fail[s])
				reason(s, "no checks")
			if (kbad[s])
				reason(s, kbad[s] " kernel error line" (kbad[s] > 1 ? "s" : ""))
		}
		line = sprintf("%s: %d checks passed, %d failed", s, pass[s], fail[s])
		if (secs[s] != "")
			line = line " (" secs[s] "s)"
		if (reasons[s] == "") {
			npass++
			if (!quiet) print "vm: PASS " line
		} else {
			nfail++
			if (!quiet) printf "vm: FAIL %s: %s\n%s", line, reasons[s], detail[s]
		}
	}

	# Trouble outside any scenario: boot, shutdown, QEMU itself.
	n = split(extra, xs, "\n")
	for (i = 1; i <= n; i++)
		if (xs[i] != "")
			reason("vm", xs[i])
	if (!booted)
		reason("vm", "guest did not boot")
	else if (!done)
		reason("vm", "no DONE marker (guest died or hung)")
	if (kbad["vm"])
		reason("vm", kbad["vm"] " kernel error line" (kbad["vm"] > 1 ? "s" : "") " outside scenarios")
	if (fail["vm"])
		reason("vm", fail["vm"] " failed check" (fail["vm"] > 1 ? "s" : "") " outside scenarios")
	if (reasons["vm"] != "") {
		nfail++
		if (!quiet) printf "vm: FAIL vm: %s\n%s", reasons["vm"], detail["vm"]
	}
	printf "vm: %d passed, %d failed\n", npass, nfail
	exit nfail > 0
}
