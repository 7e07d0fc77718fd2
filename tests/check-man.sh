#!/bin/sh
#
# check-man.sh - lint the manual pages and check them against the exports
#
# Copyright (C) 2026 The wirekit authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Run by "make check" from the build directory.  srcdir is the top source
# directory (the test is listed in the top-level Makefile.am); run by hand
# from the top source directory it defaults to ".".
#
# Checks:
#  1. mandoc -Tlint -W warning prints nothing and succeeds on every man/*.3;
#  2. every page has the required sections;
#  3. the names in the global: parts of lib/wirekit.map and the .Nm names in
#     the NAME sections of the pages (wirekit.3 aside) are the same set,
#     each name in exactly one page;
#  4. each .Nm name of a page has a .Fn or .Fo in its SYNOPSIS;
#  5. every man/*.1 (the programs) lints clean and has NAME, SYNOPSIS,
#     DESCRIPTION, EXIT STATUS, EXAMPLES and SEE ALSO.
#
# Exit status: 0 pass, 1 fail, 77 skip (no mandoc), 99 hard error.

srcdir=${srcdir:-.}
mandir=$srcdir/man
map=$srcdir/lib/wirekit.map

if ! command -v mandoc >/dev/null 2>&1; then
	echo "check-man: mandoc not found, skipping"
	exit 77
fi
if [ ! -d "$mandir" ] || [ ! -f "$map" ]; then
	echo "check-man: no $mandir or no $map (is srcdir right?)" >&2
	exit 99
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-man.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 99' HUP INT TERM

fail=0
npages=0

# Join lines into one line of words, for messages.
words() { tr '\n' ' ' | sed 's/ *$//'; }

# The pages, sorted.
for f in "$mandir"/*.3; do
	[ -f "$f" ] && printf '%s\n' "${f##*/}"
done | LC_ALL=C sort > "$tmp/pages"
if [ ! -s "$tmp/pages" ]; then
	echo "FAIL: no pages in $mandir"
	exit 1
fi

: > "$tmp/nm"		# "name page" for each .Nm in a NAME section
while IFS= read -r page; do
	f=$mandir/$page
	npages=$((npages + 1))

	# 1. lint
	out=$(mandoc -Tlint -W warning "$f" 2>&1)
	rc=$?
	if [ -n "$out" ] || [ "$rc" -ne 0 ]; then
		echo "FAIL: mandoc -Tlint -W warning $page (exit $rc):"
		printf '%s\n' "$out" | sed 's/^/    /'
		fail=1
	fi

	# 2. sections
	required="NAME|LIBRARY|SYNOPSIS|DESCRIPTION|RETURN VALUES|SEE ALSO"
	[ "$page" = wirekit.3 ] &&
	    required="NAME|LIBRARY|SYNOPSIS|DESCRIPTION|SEE ALSO"
	old_ifs=$IFS
	IFS='|'
	for sec in $required; do
		if ! grep -q "^\\.Sh $sec\$" "$f" &&
		   ! grep -q "^\\.Sh \"$sec\"\$" "$f"; then
			echo "FAIL: $page has no $sec section"
			fail=1
		fi
	done
	IFS=$old_ifs

	# 3 and 4: the .Nm names of the NAME section, and the functions
	# of the SYNOPSIS section.
	awk -v page="$page" '
		/^\.Sh / { sec = substr($0, 5); gsub(/"/, "", sec); next }
		sec == "NAME" && $1 == ".Nm" && NF >= 2 { print $2, page }
	' "$f" >> "$tmp/nm"
	awk '
		/^\.Sh / { sec = substr($0, 5); gsub(/"/, "", sec); next }
		sec == "SYNOPSIS" && ($1 == ".Fn" || $1 == ".Fo") && NF >= 2 {
			print $2
		}
	' "$f" | LC_ALL=C sort -u > "$tmp/syn.$page"
done < "$tmp/pages"
echo "check-man: linted $npages pages and checked their sections"

# The exports: "<tab>name;" lines inside global: parts of the version
# script, up to the local: line or the end of the node.
awk '
	/^[ \t]*global:/ { g = 1; next }
	/^[ \t]*local:/ || /}/ { g = 0; next }
	g && /^[ \t]+[A-Za-z_][A-Za-z0-9_]*;/ {
		sub(/^[ \t]+/, ""); sub(/;.*/, ""); print
	}
' "$map" | LC_ALL=C sort > "$tmp/exports"
nexp=$(wc -l < "$tmp/exports")
if [ "$nexp" -eq 0 ]; then
	echo "FAIL: no exported names found in $map"
	fail=1
fi
dup=$(uniq -d "$tmp/exports" | words)
if [ -n "$dup" ]; then
	echo "FAIL: listed more than once in $map: $dup"
	fail=1
fi

# Page names, wirekit.3 aside (its .Nm is the library, not a function).
grep -v ' wirekit\.3$' "$tmp/nm" | LC_ALL=C sort > "$tmp/nm.api"
cut -d' ' -f1 "$tmp/nm.api" | LC_ALL=C sort > "$tmp/names"
cut -d' ' -f1 "$tmp/nm.api" | LC_ALL=C sort -u > "$tmp/names.u"
uniq -d "$tmp/names" | while IFS= read -r n; do
	echo "FAIL: $n is in the .Nm of more than one page:" \
	    "$(grep "^$n " "$tmp/nm.api" | cut -d' ' -f2 | words)"
done
[ -n "$(uniq -d "$tmp/names")" ] && fail=1

LC_ALL=C sort -u "$tmp/exports" > "$tmp/exports.u"
missing=$(LC_ALL=C comm -23 "$tmp/exports.u" "$tmp/names.u" | words)
extra=$(LC_ALL=C comm -13 "$tmp/exports.u" "$tmp/names.u" | words)
if [ -n "$missing" ]; then
	echo "FAIL: exported but in no page's .Nm: $missing"
	fail=1
fi
if [ -n "$extra" ]; then
	echo "FAIL: in a page's .Nm but not exported: $extra"
	fail=1
fi
echo "check-man: compared $nexp exports with $(wc -l < "$tmp/names") .Nm names"

# Every documented name has a prototype in its page's SYNOPSIS.
while read -r n page; do
	if ! grep -qx "$n" "$tmp/syn.$page"; then
		echo "FAIL: $page: $n has no .Fn or .Fo in SYNOPSIS"
		fail=1
	fi
done < "$tmp/nm.api"
echo "check-man: checked the SYNOPSIS of every documented name"

# The programs' pages (section 1): lint and sections.
n1=0
for f in "$mandir"/*.1; do
	[ -f "$f" ] || continue
	n1=$((n1 + 1))
	page=${f##*/}
	out=$(mandoc -Tlint -W warning "$f" 2>&1)
	rc=$?
	if [ -n "$out" ] || [ "$rc" -ne 0 ]; then
		echo "FAIL: mandoc -Tlint -W warning $page (exit $rc):"
		printf '%s\n' "$out" | sed 's/^/    /'
		fail=1
	fi
	for sec in NAME SYNOPSIS DESCRIPTION "EXIT STATUS" EXAMPLES "SEE ALSO"; do
		if ! grep -q "^\\.Sh $sec\$" "$f" &&
		   ! grep -q "^\\.Sh \"$sec\"\$" "$f"; then
			echo "FAIL: $page has no $sec section"
			fail=1
		fi
	done
done
echo "check-man: linted $n1 section 1 pages"

if [ "$fail" -ne 0 ]; then
	echo "check-man: FAILED"
	exit 1
fi
echo "check-man: all checks passed"
exit 0
