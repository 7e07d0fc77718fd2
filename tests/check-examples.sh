#!/bin/sh
# check-examples.sh - the examples are built and they run.
set -eu
: "${top_builddir:=.}"

rc=0
out=$("$top_builddir/examples/addrinfo" 192.168.1.10 "fe80::1%1" "::FFFF:10.0.0.1" 1.2.3.4.5) || rc=$?
[ "$rc" -eq 1 ] || { echo "exit status $rc, expected 1 for one bad argument"; exit 1; }
echo "$out"
echo "$out" | grep -q '^192\.168\.1\.10 .*IPv4.*private' || { echo "192.168.1.10 line wrong"; exit 1; }
echo "$out" | grep -q '^::ffff:10\.0\.0\.1 .*IPv6' || { echo "mapped line wrong"; exit 1; }
echo "$out" | grep -q '^1\.2\.3\.4\.5: not an address' || { echo "1.2.3.4.5 not refused"; exit 1; }
"$top_builddir/examples/addrinfo" >/dev/null
