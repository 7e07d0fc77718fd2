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

# ---------------------------------------------------------------- fortunes
# The fortune server and the blocking client end to end, on loopback
# only, and the bytes on the wire checked against the Qt 4 format by a
# peer written with plain sockets.
: "${CC:=cc}"
tmp=$(mktemp -d)
pids=
trap 'for p in $pids; do kill "$p" 2>/dev/null || :; done; rm -rf "$tmp"' EXIT
server="$top_builddir/examples/fortune-server"
client="$top_builddir/examples/blocking-fortune-client"

fortunes="You've been leading a dog's life. Stay off the furniture.
You've got to think about tomorrow.
You will be surprised by a loud noise.
You will feel hungry again in another hour.
You might have mail.
You cannot kill time without injuring eternity.
Computers are not intelligent. They only think they are."

fail() { echo "FAIL: $*"; exit 1; }

# start OUT COMMAND...: runs COMMAND in the background with its output in
# OUT, and sets pid, and port from its "... port N" line.
start() {
	out=$1; shift
	# Truncated here, not by the background job's redirection: that
	# happens later, and the loop below would read the last run's port.
	: > "$out"
	"$@" > "$out" &
	pid=$!
	pids="$pids $pid"
	for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 \
	    21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40; do
		port=$(sed -n 's/.* port \([0-9][0-9]*\)$/\1/p' "$out")
		[ -n "$port" ] && return 0
		sleep 0.1
	done
	fail "no port from $*"
}

hex() { od -An -v -tx1 | tr -d ' \n'; }

# A fortune peer with plain sockets: "fetch PORT" prints every byte a
# server sends; "serve HEX" gives the bytes of HEX to one client a few
# at a time, with pauses, so the client sees them arrive in pieces.
cat > "$tmp/raw.c" <<'CEOF'
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) { perror(what); exit(1); }

int main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	unsigned char buf[65600];
	size_t n = 0;
	ssize_t got;
	int fd, c;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0) die("socket");
	if (argc == 3 && strcmp(argv[1], "fetch") == 0) {
		sin.sin_port = htons((unsigned short)atoi(argv[2]));
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin))) die("connect");
		while ((got = read(fd, buf, sizeof(buf))) > 0)
			fwrite(buf, 1, (size_t)got, stdout);
		return got < 0;
	}
	if (argc != 3 || strcmp(argv[1], "serve") != 0) return 2;
	for (const char *h = argv[2]; h[0] && h[1] && n < sizeof(buf); h += 2)
		sscanf(h, "%2hhx", &buf[n++]);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) || listen(fd, 1) ||
	    getsockname(fd, (struct sockaddr *)&sin, &len)) die("listen");
	printf("raw server port %u\n", ntohs(sin.sin_port));
	fflush(stdout);
	if ((c = accept(fd, NULL, NULL)) < 0) die("accept");
	for (size_t i = 0, k = 1; i < n; i += k, k = 3) {
		struct timespec pause = { 0, 20 * 1000000L };
		if (k > n - i) k = n - i;
		if (write(c, buf + i, k) != (ssize_t)k) die("write");
		nanosleep(&pause, NULL);
	}
	close(c);
	return 0;
}
CEOF
# shellcheck disable=SC2086
$CC -std=gnu11 ${WK_TEST_CFLAGS:-} -o "$tmp/raw" "$tmp/raw.c" ${WK_TEST_LDFLAGS:-} ||
	fail "the raw fortune peer does not compile"

# Three fortunes from a server that exits by itself after three clients,
# one of them found by the name "localhost".
start "$tmp/server.out" "$server" -n 4
grep -q "^listening on 127\.0\.0\.1 port $port\$" "$tmp/server.out" ||
	fail "server said: $(cat "$tmp/server.out")"
for host in 127.0.0.1 127.0.0.1 localhost; do
	f=$("$client" "$host" "$port") || fail "client against $host: $f"
	echo "fortune: $f"
	printf '%s\n' "$fortunes" | grep -qxF -- "$f" || fail "not a Qt fortune: $f"
done

# The fourth client speaks raw TCP: the block is Qt 4's, byte for byte.
"$tmp/raw" fetch "$port" > "$tmp/block" || fail "raw fetch"
got=$(hex < "$tmp/block")
match=
while IFS= read -r f; do
	n=${#f}
	want=$(printf '%04x%08x' $((4 + 2 * n)) $((2 * n)))$(printf '%s' "$f" | hex | sed 's/../00&/g')
	[ "$got" = "$want" ] && match=$f
done <<FORTUNES
$fortunes
FORTUNES
[ -n "$match" ] || fail "the block is not a Qt 4 fortune: $got"
echo "wire: $(printf '%s' "$got" | cut -c1-28)... = \"$match\""
wait "$pid" || fail "fortune-server -n 4 exited with $?"

# The client reads a block arriving in pieces, and decodes UTF-16 with a
# surrogate pair: "é€😀" (00e9 20ac d83d de00) is c3a9 e282ac f09f9880.
start "$tmp/raw.out" "$tmp/raw" serve 000c0000000800e920acd83dde00
out=$("$client" 127.0.0.1 "$port" | hex) || fail "client against pieces"
[ "$out" = c3a9e282acf09f98800a ] || fail "UTF-16 decoded as $out"
wait "$pid"

# A null QString, and a lone surrogate (refused, exit status 1).
start "$tmp/raw.out" "$tmp/raw" serve 0004ffffffff
out=$("$client" 127.0.0.1 "$port") || fail "client against a null string"
[ "$out" = "(null)" ] || fail "null string read as $out"
wait "$pid"
start "$tmp/raw.out" "$tmp/raw" serve 000800000004d8000041
rc=0; "$client" 127.0.0.1 "$port" 2> "$tmp/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q 'not a fortune' "$tmp/err" ||
	fail "lone surrogate: exit $rc, $(cat "$tmp/err")"
wait "$pid"

# Errors are wirekit's error strings: nobody listens on the raw port now.
rc=0; "$client" 127.0.0.1 "$port" 2> "$tmp/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "connect to 127\.0\.0\.1:$port: Connection refused" "$tmp/err" ||
	fail "refused: exit $rc, $(cat "$tmp/err")"

# Without -n the server runs until SIGTERM, and then exits cleanly.
start "$tmp/server.out" "$server" -p 0
"$client" 127.0.0.1 "$port" > /dev/null || fail "client against the endless server"
kill -TERM "$pid"
wait "$pid" || fail "fortune-server exited with $? on SIGTERM"
echo "check-examples: fortunes ok"
