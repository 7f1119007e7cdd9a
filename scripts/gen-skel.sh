#!/bin/sh
# gen-skel.sh BPFTOOL OBJECT OUTPUT FIXUP [NAME]
# Generate the libbpf skeleton; FIXUP=strip-map-link drops the
# bpf_map_skeleton.link assignments that libbpf < 1.5 cannot compile.
set -eu
bpftool=$1 obj=$2 out=$3 fixup=$4 name=${5:-scx_ai_numa}
"$bpftool" gen skeleton "$obj" name "$name" > "$out.tmp"
if [ "$fixup" = strip-map-link ]; then
	sed -i -e '/map->link = /d' -e '/s->maps\[[0-9]*\]\.link = /d' "$out.tmp"
	if grep -n '\.link = \|->link = ' "$out.tmp" | grep -v 'progs' ; then
		echo "gen-skel: unexpected link assignment left for libbpf < 1.5" >&2
		exit 1
	fi
fi
mv "$out.tmp" "$out"
