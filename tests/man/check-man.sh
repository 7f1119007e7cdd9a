#!/usr/bin/env bash
# Documentation completeness, as TAP. What the code has is asked of the code
# itself (dump-keys, --help, the control interface's definition), never
# listed here, so a new option, command, key, tunable or method fails this
# test until the man pages describe it.
#
#   check-man.sh --dump DUMP_KEYS --daemon SCX_AI_NUMAD --man MANDIR
#                --idl CONTROL_IDL_C --example EXAMPLE_CONF [--ctl SCX_AI_NUMACTL]
set -uo pipefail

dump='' daemon='' ctl='' mandir='' methods='' example=''
while [ $# -gt 0 ]; do
	case "$1" in
	--dump) dump=$2 ;;
	--daemon) daemon=$2 ;;
	--ctl) ctl=$2 ;;
	--man) mandir=$2 ;;
	--idl) methods=$2 ;;
	--example) example=$2 ;;
	*) echo "Bail out! unknown argument $1"; exit 2 ;;
	esac
	shift 2
done

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}
bail() { echo "Bail out! $*"; exit 2; }

daemon_man=$mandir/scx_ai_numad.8.scd
ctl_man=$mandir/scx-ai-numactl.8.scd
conf_man=$mandir/scx-ai-numa.conf.5.scd
for f in "$daemon_man" "$ctl_man" "$conf_man" "$example" "$methods"; do
	[ -s "$f" ] || bail "$f missing"
done
keys=$("$dump") || bail "$dump failed"
[ -n "$(grep '^tunable ' <<<"$keys")" ] || bail "dump-keys listed no tunable"

# The indented paragraph under a "*NAME* = ..." entry line of a scdoc page, joined into one line
# (prose that starts a line with *NAME* is not an entry).
entry() { # entry FILE NAME
	awk -v head="*$2* =" '
		!on && index($0, head) == 1 { on = 1; printf "%s ", $0; next }
		on && /^\t/ { printf "%s ", $0; next }
		on { exit }' "$1"
}
has_entry() { grep -q "^\*$2\*\( \|\$\|,\)" "$1"; }
contains() { [[ "$1" == *"$2"* ]]; }
# An entry line of scx-ai-numactl(8)'s COUNTERS section names counter $1 ("*a*, *b*" names both).
counter_documented() {
	sed -n '/^# COUNTERS/,/^# EXIT STATUS/p' "$ctl_man" | grep -q "^\(\*[a-z_]*\*, \)*\*$1\*\(,\|\$\)"
}

# ---- configuration keys and tunables ---------------------------------------
while read -r kind name type unit min max def; do
	case "$kind" in
	key)
		check "scx-ai-numa.conf(5) describes key $name" grep -q "^\*$name\* = " "$conf_man"
		check "the example configuration shows key $name" grep -q "^#$name =" "$example"
		;;
	setting) # setting KEY --OPTION MIN MAX DEFAULT
		e=$(entry "$conf_man" "$name")
		check "scx-ai-numa.conf(5): $name range is $unit..$min" contains "$e" "Range: $unit..$min"
		check "scx-ai-numa.conf(5): $name default is $max" contains "$e" "Default: $max"
		check "scx_ai_numad(8) documents $type, the option of $name" grep -q -- "\*$type\*" "$daemon_man"
		;;
	tunable)
		e=$(entry "$conf_man" "$name")
		check "scx-ai-numa.conf(5) has an entry for tunable $name" test -n "$e"
		if [ "$type" = enum ]; then
			check "scx-ai-numa.conf(5): $name lists its values" contains "$e" "Values: $(echo "$min" | sed 's/,/, /g')."
			check "scx-ai-numa.conf(5): $name default is $def" contains "$e" "Default: $def."
		elif [ "$type" = bool ]; then
			d=$([ "$def" = 1 ] && echo on || echo off)
			check "scx-ai-numa.conf(5): $name is a boolean" contains "$e" "Boolean."
			check "scx-ai-numa.conf(5): $name default is $d" contains "$e" "Default: $d."
		else
			check "scx-ai-numa.conf(5): $name unit is $unit" contains "$e" "Unit: $unit."
			check "scx-ai-numa.conf(5): $name range is $min..$max" contains "$e" "Range: $min..$max"
			check "scx-ai-numa.conf(5): $name default is $def" contains "$e" "Default: $def"
		fi
		check "scx-ai-numactl(8) lists tunable $name" has_entry "$ctl_man" "$name"
		;;
	counter)
		check "scx-ai-numactl(8) describes counter $name under COUNTERS" counter_documented "$name"
		;;
	esac
done <<<"$keys"

# The example shows the real defaults: with every "#key = value" line
# uncommented, --check-config must accept it and report the built-in values.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed -n 's/^#\([a-z_]\+ = [^ ].*\)$/\1/p' "$example" >"$tmp/uncommented.conf"
: >"$tmp/empty.conf"
settings() { "$daemon" --check-config --config "$1" | sed -n 's/^\([a-z_]\+ = [^ ]*\).*/\1/p'; }
if settings "$tmp/uncommented.conf" >"$tmp/example.out" 2>"$tmp/example.err"; then
	ok "the example configuration, uncommented, is valid"
else
	not_ok "the example configuration, uncommented, is valid: $(cat "$tmp/example.err")"
fi
settings "$tmp/empty.conf" >"$tmp/defaults.out" 2>&1 || bail "--check-config of an empty file failed"
check "the example configuration sets some keys when uncommented" test -s "$tmp/uncommented.conf"
if diff -u "$tmp/defaults.out" "$tmp/example.out" >"$tmp/diff"; then
	ok "the example configuration's values are the built-in defaults"
else
	not_ok "the example configuration's values are the built-in defaults"
	sed 's/^/#   /' "$tmp/diff"
fi

# ---- the daemon's options -----------------------------------------------------
help=$("$daemon" --help) || bail "$daemon --help failed"
longs=$(grep -o -- '--[a-z][a-z-]*' <<<"$help" | sort -u)
shorts=$(grep -o -- '^ *-[a-zA-Z],' <<<"$help" | tr -d ' ,' | sort -u)
[ -n "$longs" ] || bail "no options found in scx_ai_numad --help"
for o in $longs; do
	check "scx_ai_numad(8) documents $o" grep -q -- "\*$o\*" "$daemon_man"
done
for o in $shorts; do
	check "scx_ai_numad(8) documents $o" grep -q -- "^\*$o\*, " "$daemon_man"
done
# ... and documents no option the daemon does not have.
for o in $(sed -n '/^# OPTIONS/,/^# /p' "$daemon_man" | grep -o -- '^\*--[a-z-]*\*' | tr -d '*'); do
	check "scx_ai_numad --help has $o, documented in scx_ai_numad(8)" grep -q -- "$o\b" <<<"$help"
done

# ---- the control interface -------------------------------------------------------
methods_found=$(grep -o '"method [A-Za-z]*(' "$methods" | sed 's/"method //; s/($//' | sort -u)
[ -n "$methods_found" ] || bail "no method found in the control interface definition ($methods)"
for m in $methods_found; do
	check "scx_ai_numad(8) documents control method $m" grep -q "^\*$m(" "$daemon_man"
done

# ---- the CLI ------------------------------------------------------------------------
if [ -z "$ctl" ]; then
	n=$((n + 1))
	echo "ok $n # SKIP scx-ai-numactl not built before tests/man"
else
	chelp=$("$ctl" --help) || bail "$ctl --help failed"
	cmds=$(awk '/^commands:/ { on = 1; next } on && /^$/ { exit } on { print $1 }' <<<"$chelp")
	[ -n "$cmds" ] || bail "no commands found in scx-ai-numactl --help"
	for c in $cmds; do
		check "scx-ai-numactl(8) documents command $c" has_entry "$ctl_man" "$c"
	done
	for c in $(sed -n '/^# COMMANDS/,/^# OPTIONS/p' "$ctl_man" | grep -o '^\*[a-z]*\*' | tr -d '*'); do
		check "scx-ai-numactl --help has command $c, documented in scx-ai-numactl(8)" grep -qx "$c" <<<"$cmds"
	done
	for o in $(awk '/^options:/ { on = 1; next } on && /^$/ { exit } on' <<<"$chelp" | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		check "scx-ai-numactl(8) documents $o" grep -q -- "\*$o\*" "$ctl_man"
	done
	for o in $(grep -o -- '\*--[a-z-]*\*' "$ctl_man" | tr -d '*' | sort -u); do
		check "scx-ai-numactl --help has $o, documented in scx-ai-numactl(8)" grep -q -- "$o\b" <<<"$chelp"
	done
fi

echo "1..$n"
[ "$failed" -eq 0 ]
