#!/bin/sh
# The import graph's rules, as TAP, read from the sources' #include lines:
#   - the configuration file module is applied by main.c alone: no other
#     daemon file includes config.h;
#   - struct daemon is main.c's (daemon.c holds its functions): modules get
#     narrow handles, and only the control plane, which reads the daemon
#     through daemon_view(), includes daemon.h;
#   - the CLI shares the wire format with the daemon and nothing else: ctl/
#     includes, of the daemon's headers, varlink.h only, and varlink.[ch]
#     include no other daemon header but the strict JSON check of requests
#     (json-strict.h), which is part of the wire format.
#
#   check-includes.sh SOURCE_ROOT
set -u
src=${1:?usage: check-includes.sh SOURCE_ROOT}
[ -d "$src/daemon" ] && [ -d "$src/ctl" ] || { echo "Bail out! $src has no daemon/ or ctl/"; exit 2; }

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
# includes FILE: the project headers FILE includes, one a line.
includes() { sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$1"; }
daemon_header() { [ -f "$src/daemon/$1" ]; }

for f in "$src"/daemon/*.c "$src"/daemon/*.h; do
	b=${f##*/}
	case "$b" in main.c | config.c | config.h) continue ;; esac
	if includes "$f" | grep -qx 'config.h'; then
		not_ok "daemon/$b does not include config.h (main.c applies the configuration)"
	else
		ok "daemon/$b does not include config.h"
	fi
done

# struct daemon is main.c's; the control plane reads it through daemon_view().
for f in "$src"/daemon/*.c "$src"/daemon/*.h; do
	b=${f##*/}
	case "$b" in main.c | daemon.c | daemon.h | control.c | control-methods.c | scxstats.c | scxstats-proto.c) continue ;; esac
	if includes "$f" | grep -qx 'daemon.h'; then
		not_ok "daemon/$b does not include daemon.h (modules get narrow handles)"
	else
		ok "daemon/$b does not include daemon.h"
	fi
done

# The control plane includes daemon.h for daemon_view(): it reads no member of
# struct daemon itself. The daemon is called d throughout, so a member read
# is "d->" followed by one of the struct's fields.
fields=$(sed -n '/^struct daemon {/,/^};/s/^[[:space:]]*[a-z_ ]*[ *]\([a-z_]*\)\(\[[^]]*\]\)\{0,1\};.*/\1/p' "$src/daemon/daemon.h" | paste -sd'|')
for f in "$src"/daemon/*.c; do
	b=${f##*/}
	case "$b" in main.c | daemon.c) continue ;; esac
	if [ -n "$fields" ] && grep -qE "\bd->($fields)\b" "$f"; then
		not_ok "daemon/$b reads no member of struct daemon (daemon_view() is the way)"
	else
		ok "daemon/$b reads no member of struct daemon"
	fi
done
[ -n "$fields" ] && ok "struct daemon's fields found in daemon.h ($fields)" || not_ok "struct daemon's fields found in daemon.h"

for f in "$src"/ctl/*.c "$src"/ctl/*.h "$src"/daemon/varlink.c "$src"/daemon/varlink.h "$src"/daemon/json-strict.c "$src"/daemon/json-strict.h; do
	rel=${f#"$src"/}
	bad=''
	for h in $(includes "$f"); do
		[ "$h" = varlink.h ] && continue
		case "$rel" in daemon/varlink.* | daemon/json-strict.*) [ "$h" = json-strict.h ] && continue ;; esac
		# The CLI's own headers live next to it.
		case "$rel" in ctl/*) [ -f "$src/ctl/$h" ] && continue ;; esac
		daemon_header "$h" && bad="$bad $h"
	done
	if [ -n "$bad" ]; then
		not_ok "$rel includes of the daemon only the wire format (varlink.h), not:$bad"
	else
		ok "$rel includes of the daemon only the wire format (varlink.h)"
	fi
done

echo "1..$n"
[ "$failed" -eq 0 ]
