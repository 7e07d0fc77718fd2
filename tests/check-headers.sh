#!/bin/sh
# check-headers.sh - every public header compiles when included alone,
# as C11 and as C++, with the strict warnings the library uses.
set -eu
: "${top_srcdir:=.}" "${top_builddir:=.}" "${CC:=cc}" "${CXX:=c++}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
inc="-I$top_builddir/include -I$top_srcdir/include"
status=0
count=0
headers="$top_srcdir/include/wirekit.h $(ls "$top_srcdir"/include/wirekit/*.h)"
# version.h is generated in the build tree (in the source tree in-tree).
[ -f "$top_srcdir/include/wirekit/version.h" ] ||
	headers="$headers $top_builddir/include/wirekit/version.h"
for h in $headers; do
	case $h in */wirekit.h) name=wirekit.h ;; *) name=wirekit/$(basename "$h") ;; esac
	printf '#include <%s>\n#include <%s>\nint main(void) { return 0; }\n' \
		"$name" "$name" > "$tmp/t.c"
	printf '#include <%s>\nint main() { return 0; }\n' "$name" > "$tmp/t.cc"
	# shellcheck disable=SC2086
	if ! $CC -std=c11 -pedantic -Wall -Wextra -Werror -Wstrict-prototypes \
	    $inc -c "$tmp/t.c" -o "$tmp/t.o"; then
		echo "FAIL: $name alone as C11"; status=1
	fi
	# shellcheck disable=SC2086
	if ! $CXX -std=c++11 -pedantic -Wall -Wextra -Werror $inc \
	    -c "$tmp/t.cc" -o "$tmp/t.o"; then
		echo "FAIL: $name alone as C++11"; status=1
	fi
	count=$((count + 1))
done
echo "check-headers: $count headers, each alone as C11 (twice, for the guard) and C++11"
exit $status
