#!/bin/sh
# check-install.sh - "make install" into a DESTDIR, then build and run a
# program outside the tree with pkg-config --cflags --libs wirekit.
set -eu
: "${top_builddir:=.}" "${CC:=cc}" "${MAKE:=make}"

dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
$MAKE -s -C "$top_builddir" install DESTDIR="$dest" >"$dest/install.log" 2>&1 || {
	cat "$dest/install.log"; exit 1; }

pc=$(find "$dest" -name wirekit.pc | head -n 1)
libdir=$(dirname "$(find "$dest" -name 'libwirekit.so' | head -n 1)")
incdir=$(dirname "$(find "$dest" -path '*/include/wirekit.h' | head -n 1)")
man3=$(dirname "$(find "$dest" -name 'wk_addr_parse.3' | head -n 1)")
for f in "$pc" "$libdir/libwirekit.so" "$incdir/wirekit/addr.h" \
    "$incdir/wirekit/version.h" "$man3/wirekit.3" "$man3/wk_addr_format.3"; do
	[ -e "$f" ] || { echo "not installed: $f"; exit 1; }
done
[ -e "$incdir/error-private.h" ] && { echo "private header installed"; exit 1; }

# The programs and their pages; each runs from where it was installed.
for prog in wirecat wirelookup; do
	bin=$(find "$dest" -path "*/bin/$prog" | head -n 1)
	page=$(find "$dest" -name "$prog.1" | head -n 1)
	[ -n "$bin" ] && [ -x "$bin" ] || { echo "not installed: bin/$prog"; exit 1; }
	[ -n "$page" ] || { echo "not installed: man1/$prog.1"; exit 1; }
	LD_LIBRARY_PATH="$libdir" "$bin" -h >/dev/null 2>&1 ||
	    { echo "$bin -h failed"; exit 1; }
done

cat > "$dest/prog.c" <<'PROG'
#include <stdio.h>
#include <string.h>
#include <wirekit.h>

int
main(void)
{
	wk_addr a;
	char text[WK_ADDR_STRLEN];

	if (!wk_addr_parse(&a, "2001:DB8:0:0:1::1"))
		return 1;
	wk_addr_format(&a, text, sizeof(text));
	printf("%s %s %s\n", wk_version(), text, wk_error_name(WK_HOST_NOT_FOUND));
	return strcmp(text, "2001:db8::1:0:0:1") != 0 ||
	    strcmp(wk_version(), WK_VERSION_STRING) != 0;
}
PROG
export PKG_CONFIG_PATH="$(dirname "$pc")" PKG_CONFIG_SYSROOT_DIR="$dest"
flags=$(pkg-config --cflags --libs wirekit)
echo "pkg-config --cflags --libs wirekit: $flags"
# shellcheck disable=SC2086
$CC ${WK_TEST_CFLAGS:-} "$dest/prog.c" -o "$dest/prog" $flags ${WK_TEST_LDFLAGS:-}
LD_LIBRARY_PATH="$libdir" "$dest/prog"
