#!/bin/sh
# Write a kernel's sched_ext API, as its BTF has it, in the fixture format
# test_kcompat reads: every sched_ext kfunc ("func NAME") and every SCX_*
# enumerator ("enum KIND TYPE NAME VALUE", KIND enum or enum64, TYPE the
# enum's name or "-" for an anonymous one), sorted.
#
#   mkfixture.sh VMLINUX_OR_BTF > VERSION.txt
#
# The input is anything bpftool reads BTF from: a vmlinux ELF (the .BTF
# section; tests/vm/build-kernel.sh keeps its kernel's BTF as btf), a raw
# BTF file, or /sys/kernel/btf/vmlinux on the running kernel. A packaged
# kernel's vmlinuz becomes a vmlinux with the kernel source's
# scripts/extract-vmlinux.
set -eu
[ $# -eq 1 ] && [ -r "$1" ] || { echo "usage: $0 VMLINUX_OR_BTF" >&2; exit 2; }
command -v bpftool >/dev/null || { echo "mkfixture: bpftool not found" >&2; exit 1; }

bpftool btf dump file "$1" format raw | awk '
/^\[[0-9]+\] FUNC '\''(scx_bpf_|bpf_iter_scx_)/ {
	name = $3; gsub(/'\''/, "", name); print "func " name; inenum = 0; next
}
/^\[[0-9]+\] ENUM(64)? / {
	kind = ($2 == "ENUM64") ? "enum64" : "enum"
	type = $3; gsub(/'\''/, "", type); if (type == "(anon)") type = "-"
	inenum = 1; next
}
/^\[/ { inenum = 0; next }
inenum && /^\t'\''SCX_/ {
	name = $1; gsub(/'\''/, "", name)
	val = $2; sub(/^val=/, "", val); sub(/U?LL$/, "", val)
	print "enum " kind " " type " " name " " val
}' | LC_ALL=C sort -u
