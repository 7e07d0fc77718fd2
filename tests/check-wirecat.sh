#!/bin/sh
# check-wirecat.sh - wirecat(1) end to end: against itself and the echo
# example on loopback, and (tests/wirecat-netns.sh) in a network
# namespace of its own for what loopback cannot show.
#
# Free ports: every listener is "wirecat -v -l 127.0.0.1 0", and the
# port the system chose is read from its "listening on ... port N" line
# on standard error.  A closed port is one whose listener has exited.
set -eu
: "${top_builddir:=.}"
: "${top_srcdir:=.}"

W="$top_builddir/tools/wirecat"
tmp=$(mktemp -d)
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || :; done
	exec 3>&- 4>&- 5>&-
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; exit 1; }

# listen NAME STDIN ARGS...: runs "wirecat -v ARGS" in the background with
# standard input from STDIN, output in $tmp/NAME.out and $tmp/NAME.err;
# sets pid, and port from the "listening" line.
listen() {
	name=$1 input=$2
	shift 2
	: > "$tmp/$name.err"
	"$W" -v "$@" < "$input" > "$tmp/$name.out" 2> "$tmp/$name.err" &
	pid=$!
	pids="$pids $pid"
	i=0
	while [ $i -lt 100 ]; do
		port=$(sed -n 's/^wirecat: listening on .* port \([0-9][0-9]*\)\( (UDP)\)*$/\1/p' \
		    "$tmp/$name.err")
		[ -n "$port" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	fail "no port from wirecat -v $*: $(cat "$tmp/$name.err")"
}

# wait_for FILE TEXT: until FILE holds TEXT (10 s at most).
wait_for() {
	i=0
	while [ $i -lt 100 ]; do
		grep -qF -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	fail "never came in $1: $2 (has: $(cat "$1"))"
}

# status CMD...: runs CMD and prints its exit status, never failing.
status() { rc=0; "$@" || rc=$?; echo "$rc"; }

# A fifo that a writer holds open: standard input that has not ended.
mkfifo "$tmp/held"
exec 3<> "$tmp/held"

# ---------------------------------------------------------------- streams

# The test data: NUL bytes and every byte value, then random bytes.
if [ "${WK_TEST_BIG:-0}" = 1 ]; then mib=64; else mib=4; fi
printf 'a\000b\000\000\r\n\377' > "$tmp/big"
i=0
while [ $i -lt 256 ]; do printf "\\$(printf %o $i)"; i=$((i + 1)); done >> "$tmp/big"
head -c $((mib * 1048576)) /dev/urandom >> "$tmp/big"

# A pipeline into a receiver given -d (it reads no input, so it never
# half-closes): the file arrives whole, and both ends exit 0.
listen recv /dev/null -d -l 127.0.0.1 0
"$W" 127.0.0.1 "$port" < "$tmp/big" > "$tmp/send.out" ||
	fail "sending $mib MiB: exit $?"
wait "$pid" || fail "the receiver exited with $?"
cmp "$tmp/big" "$tmp/recv.out" || fail "$mib MiB arrived changed"
[ -s "$tmp/send.out" ] && fail "the sender printed: $(cat "$tmp/send.out")"
grep -q "^wirecat: connection from 127\.0\.0\.1 port [0-9]*$" "$tmp/recv.err" ||
	fail "the receiver said: $(cat "$tmp/recv.err")"
closed=$port
echo "ok: $mib MiB (NUL bytes and all 256 values) into wirecat -l -d"

# The issue's case: "wirecat -l PORT > file", its input still open,
# exits when the client has sent everything and closed.
listen plain "$tmp/held" -l 127.0.0.1 0
"$W" 127.0.0.1 "$port" < "$tmp/big" || fail "sending to wirecat -l: exit $?"
wait "$pid" || fail "wirecat -l exited with $?"
cmp "$tmp/big" "$tmp/plain.out" || fail "wirecat -l > file: the file differs"
echo "ok: wirecat -l PORT > file"

# The other way: the listener sends a file, the client given -d receives
# it, and each ends when the other has.
listen give "$tmp/big" -l 127.0.0.1 0
"$W" -d 127.0.0.1 "$port" > "$tmp/got" || fail "receiving: exit $?"
wait "$pid" || fail "the giving listener exited with $?"
cmp "$tmp/big" "$tmp/got" || fail "the file from wirecat -l < file differs"
echo "ok: wirecat -l PORT < file"

# ---------------------------------------------------------------- echo

# The echo example closes when its client has half-closed: "echo hi |
# wirecat" prints hi and exits 0; a name is looked up; binary data comes
# back intact through a pipeline.
"$top_builddir/examples/echo-server" > "$tmp/echo.out" &
epid=$!
pids="$pids $epid"
wait_for "$tmp/echo.out" "listening on"
eport=$(sed -n 's/.* port \([0-9][0-9]*\)$/\1/p' "$tmp/echo.out")
out=$(echo hi | "$W" 127.0.0.1 "$eport") || fail "echo hi: exit $?"
[ "$out" = hi ] || fail "echo hi came back as: $out"
out=$(printf 'by name\n' | "$W" localhost "$eport") || fail "localhost: exit $?"
[ "$out" = "by name" ] || fail "by name came back as: $out"
head -c 1048576 "$tmp/big" > "$tmp/mib"
"$W" 127.0.0.1 "$eport" < "$tmp/mib" > "$tmp/mib.back" || fail "echo 1 MiB: exit $?"
cmp "$tmp/mib" "$tmp/mib.back" || fail "1 MiB came back changed"
echo "ok: the echo server, by address and by name"

# ---------------------------------------------------------------- -z, -v

[ "$(status "$W" -z 127.0.0.1 "$eport")" = 0 ] || fail "-z on an open port"
rc=$(status "$W" -z 127.0.0.1 "$closed" 2> "$tmp/z.err")
[ "$rc" = 4 ] || fail "-z on a closed port: exit $rc"
grep -q "Connection refused" "$tmp/z.err" || fail "-z refused said: $(cat "$tmp/z.err")"

# Refused: exit status 4, wirekit's reason on standard error, nothing
# on standard output.
rc=0
"$W" 127.0.0.1 "$closed" < /dev/null > "$tmp/r.out" 2> "$tmp/r.err" || rc=$?
[ "$rc" = 4 ] || fail "refused: exit $rc"
grep -q "^wirecat: connect to 127\.0\.0\.1:$closed: Connection refused$" "$tmp/r.err" ||
	fail "refused said: $(cat "$tmp/r.err")"
[ -s "$tmp/r.out" ] && fail "refused printed on stdout"

# -v: the lookup and each attempt, with its outcome and time.
"$W" -v -z localhost "$eport" > "$tmp/v.out" 2> "$tmp/v.err" || fail "-v -z: exit $?"
grep -q "^wirecat: lookup localhost: [0-9]* address\(es\)* in [0-9]* ms" "$tmp/v.err" ||
	fail "-v lookup line: $(cat "$tmp/v.err")"
grep -q "^wirecat: connect to \(127\.0\.0\.1\|::1\) port $eport (IPv[46]): connected in [0-9]* ms$" \
    "$tmp/v.err" || fail "-v attempt line: $(cat "$tmp/v.err")"
[ -s "$tmp/v.out" ] && fail "-v printed on stdout"
rc=$(status "$W" -v 127.0.0.1 "$closed" < /dev/null 2> "$tmp/v.err")
[ "$rc" = 4 ] || fail "-v refused: exit $rc"
grep -q "^wirecat: connect to 127\.0\.0\.1 port $closed (IPv4): failed after [0-9]* ms: .*Connection refused$" \
    "$tmp/v.err" || fail "-v refused attempt: $(cat "$tmp/v.err")"
echo "ok: -z, refused, -v"

# A name that cannot exist: wirekit refuses it without a lookup.
rc=$(status "$W" a..b 80 < /dev/null 2> "$tmp/nf.err")
[ "$rc" = 3 ] || fail "a..b: exit $rc, $(cat "$tmp/nf.err")"
grep -q "^wirecat: lookup of a\.\.b: " "$tmp/nf.err" || fail "a..b said: $(cat "$tmp/nf.err")"

# Usage errors: 2.
for args in "" "-k 127.0.0.1 1" "127.0.0.1 0" "127.0.0.1 65536" "-4 -6 127.0.0.1 1" \
    "-z -l 1" "-w 0 127.0.0.1 1" "-w x 127.0.0.1 1" "-4 ::1 1" "-6 127.0.0.1 1" \
    "-l 1 2 3" "-u -k -l 1" "host"; do
	# shellcheck disable=SC2086
	rc=$(status "$W" $args < /dev/null 2> /dev/null)
	[ "$rc" = 2 ] || fail "wirecat $args: exit $rc, expected 2"
done
"$W" -h > "$tmp/h.out" || fail "-h: exit $?"
grep -q "^usage: wirecat " "$tmp/h.out" || fail "-h printed: $(cat "$tmp/h.out")"
rc=$(status "$W" -x 2> "$tmp/x.err")
[ "$rc" = 2 ] && grep -q "^wirecat: unknown option -x$" "$tmp/x.err" ||
	fail "-x: exit $rc, $(cat "$tmp/x.err")"
echo "ok: not found, usage"

# ---------------------------------------------------------------- -4, -6

# A dual-stack listener (no address) takes both families; -4 and -6 pick
# one; a -4 listener has no IPv6 side.
listen dual /dev/null -k -l 0
grep -q "listening on :: and 0\.0\.0\.0 port" "$tmp/dual.err" ||
	fail "dual-stack listener said: $(cat "$tmp/dual.err")"
dpid=$pid
"$W" -4 -v -z 127.0.0.1 "$port" 2> "$tmp/4.err" || fail "-4 to the dual listener: exit $?"
grep -q "(IPv4): connected" "$tmp/4.err" || fail "-4 said: $(cat "$tmp/4.err")"
if "$W" -6 -v -z ::1 "$port" 2> "$tmp/6.err"; then
	grep -q "^wirecat: connect to ::1 port $port (IPv6): connected" "$tmp/6.err" ||
		fail "-6 said: $(cat "$tmp/6.err")"
	listen four /dev/null -4 -k -l 0
	grep -q "listening on 0\.0\.0\.0 port" "$tmp/four.err" ||
		fail "-4 listener said: $(cat "$tmp/four.err")"
	[ "$(status "$W" -z ::1 "$port" 2>/dev/null)" = 4 ] || fail "::1 to a -4 listener"
	[ "$(status "$W" -z 127.0.0.1 "$port")" = 0 ] || fail "127.0.0.1 to a -4 listener"
	kill "$pid"
	echo "ok: -4, -6, dual stack"
else
	echo "SKIP: no IPv6 on loopback: $(cat "$tmp/6.err")"
fi
kill "$dpid"

# ---------------------------------------------------------------- -k

# Two clients in turn: each one's bytes, in order, and the listener
# stays until SIGTERM, then exits 0.
listen keep /dev/null -k -l 127.0.0.1 0
echo one | "$W" 127.0.0.1 "$port" || fail "first -k client: exit $?"
printf 'tw\000o\n' | "$W" 127.0.0.1 "$port" || fail "second -k client: exit $?"
kill -TERM "$pid"
wait "$pid" || fail "wirecat -k exited with $? on SIGTERM"
printf 'one\ntw\000o\n' | cmp - "$tmp/keep.out" || fail "-k wrote: $(od -c "$tmp/keep.out")"
[ "$(grep -c '^wirecat: connection from 127\.0\.0\.1 port [0-9]*$' "$tmp/keep.err")" = 2 ] ||
	fail "-k said: $(cat "$tmp/keep.err")"
echo "ok: -k, two clients in turn"

# ---------------------------------------------------------------- -w

# Connected, and nobody says anything: the idle timeout, status 5.  The
# listener (its input open) then sees the client close, and exits 0.
listen idle "$tmp/held" -l 127.0.0.1 0
rc=$(status "$W" -d -w 0.5 127.0.0.1 "$port" 2> "$tmp/w.err")
[ "$rc" = 5 ] || fail "-w idle: exit $rc, $(cat "$tmp/w.err")"
grep -q "no data for 500 ms" "$tmp/w.err" || fail "-w idle said: $(cat "$tmp/w.err")"
wait "$pid" || fail "the silent listener exited with $?"
rc=$(status "$W" -w 0.3 -l 127.0.0.1 0 2> "$tmp/w.err")
[ "$rc" = 5 ] || fail "-w -l with no client: exit $rc, $(cat "$tmp/w.err")"
echo "ok: -w idle and accept timeouts"

# ---------------------------------------------------------------- UDP

# Both ways: the client's datagram reaches the listener, and the
# listener's input goes back to its last sender.
mkfifo "$tmp/uin" "$tmp/cin"
exec 4<> "$tmp/uin" 5<> "$tmp/cin"
listen udp "$tmp/uin" -u -l 127.0.0.1 0
upid=$pid
"$W" -u -v 127.0.0.1 "$port" < "$tmp/cin" > "$tmp/uc.out" 2> "$tmp/uc.err" &
cpid=$!
pids="$pids $cpid"
printf 'ping\n' >&5
wait_for "$tmp/udp.out" ping
printf 'po\000ng\n' >&4
wait_for "$tmp/uc.out" ng
printf 'ping\n' | cmp - "$tmp/udp.out" || fail "the UDP listener got: $(od -c "$tmp/udp.out")"
printf 'po\000ng\n' | cmp - "$tmp/uc.out" || fail "the UDP client got: $(od -c "$tmp/uc.out")"
grep -q "^wirecat: datagrams from 127\.0\.0\.1 port [0-9]*$" "$tmp/udp.err" ||
	fail "the UDP listener said: $(cat "$tmp/udp.err")"
kill "$cpid" "$upid"
wait "$upid" 2>/dev/null || :	# its port is closed from here on
uclosed=$port

# -w ends a UDP exchange normally (status 0); a port with no socket
# answers with ICMP, which is "refused" (status 4).
rc=$(status "$W" -u -w 0.3 -l 127.0.0.1 0 < /dev/null)
[ "$rc" = 0 ] || fail "UDP -w: exit $rc"
rc=$(echo hi | status "$W" -u -w 10 127.0.0.1 "$uclosed" 2> "$tmp/u.err")
[ "$rc" = 4 ] || fail "UDP to a closed port: exit $rc, $(cat "$tmp/u.err")"
echo "ok: UDP both ways, -w, refused"

# ---------------------------------------------------------------- SIGPIPE

# A reader that goes away: wirecat ends quietly with status 1, and does
# not die of SIGPIPE.
listen pipe "$tmp/big" -l 127.0.0.1 0
{ rc=0; "$W" -d 127.0.0.1 "$port" 2> "$tmp/p.err" || rc=$?; echo "$rc" > "$tmp/p.rc"; } |
	head -c 10 > /dev/null
[ "$(cat "$tmp/p.rc")" = 1 ] || fail "stdout closed: exit $(cat "$tmp/p.rc")"
[ -s "$tmp/p.err" ] && fail "stdout closed said: $(cat "$tmp/p.err")"
wait "$pid" || :
echo "ok: a closed standard output"

# ---------------------------------------------------------------- namespace

# Host not found, IDN, the Happy Eyeballs race and the connect timeout
# need names and a network of their own.
if unshare -n -m true 2>/dev/null; then
	rc=0
	W="$W" unshare -n -m sh "$top_srcdir/tests/wirecat-netns.sh" || rc=$?
	case $rc in
	0) ;;
	77) echo "SKIP: the namespace part" ;;
	*) fail "the namespace part (tests/wirecat-netns.sh) exited with $rc" ;;
	esac
else
	echo "SKIP: no network namespaces here"
fi
echo "check-wirecat: ok"
