#!/bin/sh
# wirecat-netns.sh - the part of check-wirecat.sh that needs a network of
# its own; run by it as "unshare -n -m sh wirecat-netns.sh" with W set to
# the program.  Exit 77: this namespace cannot be set up here.
#
# The namespace has loopback (with 192.0.2.1 and 2001:db8::1, so that
# AI_ADDRCONFIG sees both families) and a tun device that nobody reads,
# wc0, on 198.51.100.0/24 and 2001:db8:1::/64: a SYN sent there is never
# answered, which is a connect that times out.  Names come from a private
# /etc/hosts only ("hosts: files"): no query leaves for any DNS server.
set -eu
: "${W:?}"

tmp=$(mktemp -d)
pid=
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null || :; rm -rf "$tmp"' EXIT

fail() { echo "FAIL (netns): $*"; exit 1; }
skip() { echo "SKIP (netns): $*"; exit 77; }
status() { rc=0; "$@" || rc=$?; echo "$rc"; }

command -v ip > /dev/null || skip "no ip(8)"
ip link set lo up || skip "cannot configure loopback"
ip addr add 192.0.2.1/32 dev lo
ip addr add 2001:db8::1/128 dev lo
ip tuntap add dev wc0 mode tun 2>/dev/null || skip "no tun device"
ip addr add 198.51.100.1/24 dev wc0
ip addr add 2001:db8:1::1/64 dev wc0 nodad
ip link set wc0 up

cat > "$tmp/hosts" <<'EOF'
127.0.0.1	localhost
::1	localhost
127.0.0.1	xn--bcher-kva.test
2001:db8:1::99	race.test
127.0.0.1	race.test
198.51.100.99	silent.test
EOF
printf 'hosts: files\n' > "$tmp/nsswitch.conf"
printf 'nameserver 192.0.2.1\n' > "$tmp/resolv.conf"
for f in hosts nsswitch.conf resolv.conf; do
	mount --bind "$tmp/$f" "/etc/$f" || skip "cannot mount over /etc/$f"
done

# One listener for every client below: -k takes any number of them.
: > "$tmp/l.err"
"$W" -v -k -l 127.0.0.1 0 < /dev/null > /dev/null 2> "$tmp/l.err" &
pid=$!
i=0
while [ $i -lt 100 ]; do
	port=$(sed -n 's/^wirecat: listening on .* port \([0-9][0-9]*\)$/\1/p' "$tmp/l.err")
	[ -n "$port" ] && break
	sleep 0.1
	i=$((i + 1))
done
[ -n "$port" ] || fail "no listener: $(cat "$tmp/l.err")"

# A name that is not there: status 3, and the lookup's reason.
rc=$(status "$W" -v nosuch.invalid "$port" < /dev/null 2> "$tmp/err")
[ "$rc" = 3 ] || fail "nosuch.invalid: exit $rc, $(cat "$tmp/err")"
grep -q "^wirecat: lookup nosuch\.invalid: failed after [0-9]* ms: " "$tmp/err" ||
	fail "nosuch.invalid said: $(cat "$tmp/err")"
rc=$(status "$W" -4 -z race.test "$port" 2> /dev/null)
[ "$rc" = 0 ] || fail "-4 race.test: exit $rc"
echo "ok (netns): host not found"

# An internationalized name, written in Unicode.
"$W" -v -z 'bücher.test' "$port" 2> "$tmp/err" || fail "bücher.test: exit $?, $(cat "$tmp/err")"
grep -q "^wirecat: lookup bücher\.test: 1 address in [0-9]* ms: 127\.0\.0\.1$" "$tmp/err" ||
	fail "bücher.test said: $(cat "$tmp/err")"
echo "ok (netns): IDN"

# The race: an IPv6 address that never answers and 127.0.0.1.  Whatever
# order the resolver gives, 127.0.0.1 wins; when the silent one comes
# first, it is abandoned once the other has connected, 250 ms later.
"$W" -v -z race.test "$port" 2> "$tmp/err" || fail "race.test: exit $?, $(cat "$tmp/err")"
cat "$tmp/err"
grep -q "^wirecat: lookup race\.test: 2 addresses in [0-9]* ms: " "$tmp/err" ||
	fail "race.test lookup: $(cat "$tmp/err")"
grep -q "^wirecat: connect to 127\.0\.0\.1 port $port (IPv4): connected in [0-9]* ms$" "$tmp/err" ||
	fail "race.test: no winner: $(cat "$tmp/err")"
if grep -q "^wirecat: lookup race\.test: .*: 2001:db8:1::99 127\.0\.0\.1$" "$tmp/err"; then
	grep -q "^wirecat: connect to 2001:db8:1::99 port $port (IPv6): abandoned after [0-9]* ms$" \
	    "$tmp/err" || fail "race.test: the loser: $(cat "$tmp/err")"
fi
echo "ok (netns): Happy Eyeballs"

# Connects that are never answered: -w gives up, status 5, for an
# address and for a name; -v says which attempt timed out.
rc=$(status "$W" -w 0.5 198.51.100.99 80 < /dev/null 2> "$tmp/err")
[ "$rc" = 5 ] || fail "-w connect: exit $rc, $(cat "$tmp/err")"
grep -q "timed out after 500 ms" "$tmp/err" || fail "-w connect said: $(cat "$tmp/err")"
rc=$(status "$W" -v -w 0.5 -z silent.test 80 2> "$tmp/err")
[ "$rc" = 5 ] || fail "-w -z silent.test: exit $rc, $(cat "$tmp/err")"
grep -q "^wirecat: connect to 198\.51\.100\.99 port 80 (IPv4): timed out after [0-9]* ms$" "$tmp/err" ||
	fail "-w -v said: $(cat "$tmp/err")"
echo "ok (netns): connect timeout"
