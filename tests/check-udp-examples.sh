#!/bin/sh
# check-udp-examples.sh - the broadcast and multicast examples, sender
# against receiver, in a private network namespace made here: lo with a
# broadcast address of its own and multicast on, and a veth pair for
# IPv6 multicast (which lo does not deliver).  Nothing leaves the
# namespace.  Skipped (77) when not root or without unshare -n.
set -eu
: "${top_builddir:=.}"

if [ -z "${WK_UDP_EXAMPLES_NETNS:-}" ]; then
	[ "$(id -u)" -eq 0 ] || { echo "SKIP: not root"; exit 77; }
	command -v unshare > /dev/null && command -v ip > /dev/null ||
		{ echo "SKIP: unshare or ip missing"; exit 77; }
	unshare -n true 2> /dev/null ||
		{ echo "SKIP: unshare -n not allowed here"; exit 77; }
	WK_UDP_EXAMPLES_NETNS=1 exec unshare -n sh "$0" "$@"
fi

fail() { echo "FAIL: $*"; exit 1; }

# Only in the namespace of our own (its lo has no address yet).
[ -z "$(ip -o -4 addr show dev lo)" ] || fail "not in a private namespace"
ip link set lo up
ip link set lo multicast on
ip addr add 10.99.0.1/24 brd 10.99.0.255 dev lo
ip route add 224.0.0.0/4 dev lo
ip route add 255.255.255.255 dev lo
# IPv6 multicast needs a real link: a veth pair, without DAD so that its
# link-local address is usable at once.
sysctl -qw net.ipv6.conf.default.accept_dad=0 2> /dev/null || :
ip link add wkva type veth peer name wkvb
ip link set wkva up
ip link set wkvb up
ip addr add 10.99.1.1/24 dev wkva
ip addr add 10.99.1.2/24 dev wkvb

ex="$top_builddir/examples"
tmp=$(mktemp -d)
pids=
trap 'for p in $pids; do kill "$p" 2>/dev/null || :; done; rm -rf "$tmp"' EXIT

# start OUT COMMAND...: COMMAND in the background, output in OUT; waits
# (5 s at most) for its "listening on port 45454" line, sets pid.
start() {
	out=$1; shift
	# No stale "listening" line from the run before: gone before the start.
	rm -f "$out" "$out.err"
	"$@" > "$out" 2> "$out.err" &
	pid=$!
	pids="$pids $pid"
	for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 \
	    21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 \
	    41 42 43 44 45 46 47 48 49 50; do
		grep -q '^listening on port 45454$' "$out" 2> /dev/null && return 0
		kill -0 "$pid" 2> /dev/null || fail "$* died: $(cat "$out.err")"
		sleep 0.1
	done
	fail "$* did not start: $(cat "$out" "$out.err")"
}

# finish PID WHAT: waits 5 s at most for PID, which must exit 0.
finish() {
	for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 \
	    21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 \
	    41 42 43 44 45 46 47 48 49 50; do
		kill -0 "$1" 2> /dev/null || break
		sleep 0.1
	done
	if kill -0 "$1" 2> /dev/null; then
		kill "$1" 2> /dev/null || :
		fail "$2 still running after 5 s (killed): $(cat "$tmp/r.out" "$tmp/r.out.err")"
	fi
	rc=0; wait "$1" || rc=$?
	[ "$rc" -eq 0 ] || fail "$2 exited with $rc: $(cat "$tmp/r.out.err")"
}

# expect WHAT LINES: the receiver's output after its first line is LINES
# (sorted: the two families may arrive in either order).
expect() {
	got=$(sed 1d "$tmp/r.out" | sort)
	want=$(printf '%s\n' "$2" | sort)
	[ "$got" = "$want" ] || fail "$1: the receiver printed
$got
expected
$want"
	echo "$1: ok"
	printf '%s\n' "$got" | sed 's/^/  /'
}

# broadcast DEST: 3 of the sender's 5 datagrams to DEST, printed as Qt does.
broadcast() {
	start "$tmp/r.out" "$ex/broadcast-receiver" -n 3
	"$ex/broadcast-sender" -a "$1" -n 5 -i 100 > "$tmp/s.out" ||
		fail "broadcast-sender -a $1 failed"
	grep -qx 'Now broadcasting datagram 5' "$tmp/s.out" || fail "sender output"
	finish "$pid" "broadcast-receiver"
	expect "broadcast to $1" 'Received datagram: "Broadcast message 1"
Received datagram: "Broadcast message 2"
Received datagram: "Broadcast message 3"'
}

broadcast 10.99.0.255
broadcast 255.255.255.255

# multicast WANT RECEIVER-OPTIONS -- SENDER-OPTIONS
multicast() {
	want=$1; shift
	ropts=
	while [ "$1" != -- ]; do ropts="$ropts $1"; shift; done
	shift
	# shellcheck disable=SC2086
	start "$tmp/r.out" "$ex/multicast-receiver" $ropts
	"$ex/multicast-sender" -n 5 -i 100 "$@" > "$tmp/s.out" ||
		fail "multicast-sender $* failed"
	grep -qx 'Now sending datagram 5' "$tmp/s.out" || fail "sender output"
	finish "$pid" "multicast-receiver"
	expect "multicast$ropts / $*" "$want"
}

v4='Received IPv4 datagram: "Multicast message'
v6='Received IPv6 datagram: "Multicast message'
# IPv4 over lo, interface of the system's choice (the 224.0.0.0/4 route).
multicast "$v4 1\"
$v4 2\"
$v4 3\"" -n 3 -- -4
# Both groups on the veth, with -I on both sides: 4 of the 10 datagrams.
multicast "$v4 1\"
$v6 1\"
$v4 2\"
$v6 2\"" -n 4 -I wkva -- -I wkva -t 2
multicast "$v6 1\"
$v6 2\"
$v6 3\"" -n 3 -I wkva -- -6 -I wkva

# An unknown interface is refused by both.
rc=0; "$ex/multicast-sender" -I nosuchif -n 1 2> "$tmp/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q 'nosuchif: no such interface' "$tmp/err" ||
	fail "sender -I nosuchif: exit $rc, $(cat "$tmp/err")"
rc=0; "$ex/multicast-receiver" -I nosuchif -n 1 2> "$tmp/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q 'nosuchif: no such interface' "$tmp/err" ||
	fail "receiver -I nosuchif: exit $rc, $(cat "$tmp/err")"
echo "check-udp-examples: ok"
