#!/bin/sh
# syscalls.sh - system calls per operation, wirekit against raw POSIX
#
# usage: sh bench/syscalls.sh [COUNT [WORK]]     (default: 10000 pingpong)
#
# Runs bench_tcp --only=SIDE-WORK under "strace -c -f" twice per side,
# with COUNT operations and with none (the setup alone), and prints the
# difference divided by COUNT: calls per round trip (or per connection,
# per bulk write) for both ends together, by system call.  strace slows
# each call down, so a wait finds data ready less often than at full
# speed: the counts are exact for this run, the ratio of times is not.
#
# Copyright (C) 2026 The wirekit authors
# SPDX-License-Identifier: LGPL-2.1-or-later
set -eu
: "${top_builddir:=.}"
count=${1:-10000}
work=${2:-pingpong}
bench=${BENCH_TCP:-$top_builddir/bench/bench_tcp}

command -v strace >/dev/null || { echo "syscalls.sh: strace is needed"; exit 77; }
[ -x "$bench" ] || { echo "syscalls.sh: build $bench first (make bench/bench_tcp)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# In the build tree the program is libtool's wrapper script: trace the
# real binary, not the shell.
run=
[ -x "$top_builddir/libtool" ] && run="$top_builddir/libtool --mode=execute"

# The "calls errors name" rows of strace -c, errors 0 when blank.
table() {
	awk '/^-/ || /^% time/ || / total$/ { next }
		NF == 6 { print $6, $4, $5; next }
		NF == 5 { print $5, $4, 0 }' "$1"
}

for side in wirekit raw; do
	$run strace -f -c -o "$tmp/$side.n" "$bench" --only="$side-$work" "$count" >/dev/null
	$run strace -f -c -o "$tmp/$side.0" "$bench" --only="$side-$work" 0 >/dev/null
	table "$tmp/$side.n" > "$tmp/$side.rows"
	table "$tmp/$side.0" > "$tmp/$side.base"
done

case $work in
pingpong) per="round trip" ;;
connect) per="connection" ;;
*) per="write" ;;
esac
echo "system calls per $per ($work, $count, both ends), strace -c -f"
# Rows: name wirekit raw (errors in parentheses), baseline subtracted.
awk -v n="$count" -v work="$work" '
	FNR == 1 { file++ }
	{ key = $1; seen[key] = 1 }
	file == 1 { wn[key] += $2; we[key] += $3 }
	file == 2 { wn[key] -= $2; we[key] -= $3 }
	file == 3 { rn[key] += $2; re[key] += $3 }
	file == 4 { rn[key] -= $2; re[key] -= $3 }
	END {
		if (work == "bulk64k") n = n / 65536
		else if (work == "bulk1k") n = n / 1024
		printf "%-14s %18s %18s\n", "call", "wirekit", "raw"
		sorter = "sort -k2,2nr -k5,5nr"
		for (k in seen) {
			w = wn[k] / n; r = rn[k] / n
			if (w < 0.005 && r < 0.005)
				continue
			printf "%-14s %9.3f (%5.3f) %9.3f (%5.3f)\n", k, w,
			    we[k] / n, r, re[k] / n | sorter
			tw += w; tr += r
		}
		close(sorter)
		printf "%-14s %9.3f         %9.3f\n", "total", tw, tr
		printf "(in parentheses: of which failed, e.g. EAGAIN)\n"
	}' "$tmp/wirekit.rows" "$tmp/wirekit.base" "$tmp/raw.rows" "$tmp/raw.base"
