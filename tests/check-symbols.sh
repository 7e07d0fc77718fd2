#!/bin/sh
# check-symbols.sh - the shared library exports exactly the names that
# lib/wirekit.map lists, each under the map's version node.
set -eu
: "${top_srcdir:=.}" "${top_builddir:=.}" "${NM:=nm}"

lib="$top_builddir/lib/.libs/libwirekit.so"
if [ ! -f "$lib" ]; then
	echo "check-symbols: $lib not built (shared libraries disabled?)"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

sed -n '/^global:/,/^local:/s/^[[:space:]]*\([a-z_0-9]*\);.*/\1/p' \
	"$top_srcdir/lib/wirekit.map" | sort -u > "$tmp/map"
node=$(sed -n 's/^\(WIREKIT_[0-9.]*\).*{.*/\1/p' "$top_srcdir/lib/wirekit.map" | tail -n 1)
# Defined dynamic symbols, without the version node entry itself.
$NM -D --defined-only "$lib" | awk '$2 != "A" { print $3 }' |
	sort -u > "$tmp/exported"

status=0
bad=$(grep -v "@@$node\$" "$tmp/exported" || true)
if [ -n "$bad" ]; then
	echo "exported outside $node:"; echo "$bad"; status=1
fi
sed 's/@.*//' "$tmp/exported" | sort -u > "$tmp/names"
extra=$(comm -13 "$tmp/map" "$tmp/names")
missing=$(comm -23 "$tmp/map" "$tmp/names")
if [ -n "$extra" ]; then
	echo "exported but not in lib/wirekit.map:"; echo "$extra"; status=1
fi
if [ -n "$missing" ]; then
	echo "in lib/wirekit.map but not exported:"; echo "$missing"; status=1
fi
notwk=$(grep -v '^wk_' "$tmp/names" || true)
if [ -n "$notwk" ]; then
	echo "exported names without the wk_ prefix:"; echo "$notwk"; status=1
fi
echo "check-symbols: $(wc -l < "$tmp/names") exported, $(wc -l < "$tmp/map") in the map"
exit $status
