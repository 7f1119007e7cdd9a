#!/bin/sh
# meson install script: put the example configuration at CONF unless a file
# is already there. Both paths are absolute; DESTDIR (meson install
# --destdir) is prefixed to each.
#   install-config.sh EXAMPLE CONF
set -eu
example="${DESTDIR:-}$1"
conf="${DESTDIR:-}$2"
if [ -e "$conf" ]; then
	[ -n "${MESON_INSTALL_QUIET:-}" ] || echo "Keeping existing $conf"
	exit 0
fi
mkdir -p "$(dirname "$conf")"
install -m 0644 "$example" "$conf"
[ -n "${MESON_INSTALL_QUIET:-}" ] || echo "Installing $conf"
