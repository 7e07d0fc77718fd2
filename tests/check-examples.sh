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
# at a time, with pauses, so the client sees them arrive in pieces;
# "echo PORT" sends its input to an echo server, reading as it writes,
# and prints what comes back.
cat > "$tmp/raw.c" <<'CEOF'
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) { perror(what); exit(1); }

/* Sends all of in and copies what comes back to stdout until as much came. */
static int echo(int fd, const unsigned char *in, size_t len)
{
	unsigned char buf[65536];
	size_t sent = 0, back = 0;
	ssize_t got;

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	while (back < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN | (sent < len ? POLLOUT : 0) };
		if (poll(&p, 1, 10000) <= 0) die("echo: nothing for 10 s");
		if ((p.revents & POLLOUT) && sent < len) {
			if ((got = write(fd, in + sent, len - sent)) < 0 && errno != EAGAIN) die("write");
			sent += got > 0 ? (size_t)got : 0;
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			if ((got = read(fd, buf, sizeof(buf))) == 0) { fprintf(stderr, "echo: the server hung up\n"); exit(1); }
			if (got < 0 && errno != EAGAIN) die("read");
			if (got > 0) { fwrite(buf, 1, (size_t)got, stdout); back += (size_t)got; }
		}
	}
	return close(fd);
}

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
	if (argc == 3 && strcmp(argv[1], "echo") == 0) {
		static unsigned char in[4 << 20];
		size_t len = fread(in, 1, sizeof(in), stdin);
		sin.sin_port = htons((unsigned short)atoi(argv[2]));
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin))) die("connect");
		return echo(fd, in, len);
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

# ---------------------------------------------------------------- threads
# The threaded fortune server and the callback-style client, each
# against both servers and the raw peer, and the echo server.
tserver="$top_builddir/examples/threaded-fortune-server"
cclient="$top_builddir/examples/fortune-client"
echo_server="$top_builddir/examples/echo-server"

# is_fortune TEXT WHO: TEXT is one of Qt's fortunes.
is_fortune() {
	printf '%s\n' "$fortunes" | grep -qxF -- "$1" || fail "$2: not a Qt fortune: $1"
}

# The threaded server: both clients by address and by name, then six
# clients at once, then the raw peer: eleven clients, and it exits.
start "$tmp/tserver.out" "$tserver" -n 11
tpid=$pid
grep -q "^listening on 127\.0\.0\.1 port $port\$" "$tmp/tserver.out" ||
	fail "threaded server said: $(cat "$tmp/tserver.out")"
for c in "$client" "$cclient"; do
	for host in 127.0.0.1 localhost; do
		f=$("$c" "$host" "$port") || fail "$c against the threaded server at $host: $f"
		is_fortune "$f" "$c"
	done
done
cpids=
for i in 1 2 3 4 5 6; do
	if [ $((i % 2)) -eq 0 ]; then c=$client; else c=$cclient; fi
	"$c" 127.0.0.1 "$port" > "$tmp/at-once.$i" 2>&1 &
	cpids="$cpids $!"
done
for p in $cpids; do
	wait "$p" || fail "a client of six at once: $(cat "$tmp"/at-once.*)"
done
for i in 1 2 3 4 5 6; do
	is_fortune "$(cat "$tmp/at-once.$i")" "client $i of six at once"
done
"$tmp/raw" fetch "$port" > "$tmp/block" || fail "raw fetch from the threaded server"
got=$(hex < "$tmp/block")
match=
while IFS= read -r f; do
	n=${#f}
	want=$(printf '%04x%08x' $((4 + 2 * n)) $((2 * n)))$(printf '%s' "$f" | hex | sed 's/../00&/g')
	[ "$got" = "$want" ] && match=$f
done <<FORTUNES
$fortunes
FORTUNES
[ -n "$match" ] || fail "the threaded server's block is not a Qt 4 fortune: $got"
wait "$tpid" || fail "threaded-fortune-server -n 11 exited with $?"
echo "threaded server: 11 clients served, 6 of them at once"

# The callback client against the single-threaded server.
start "$tmp/server.out" "$server" -n 2
for host in 127.0.0.1 localhost; do
	f=$("$cclient" "$host" "$port") || fail "fortune-client against $host: $f"
	is_fortune "$f" fortune-client
done
wait "$pid" || fail "fortune-server -n 2 exited with $?"

# Its ready_read gathers a block arriving in pieces; UTF-16 decoding,
# the null string, a lone surrogate, a server that hangs up mid-block.
start "$tmp/raw.out" "$tmp/raw" serve 000c0000000800e920acd83dde00
out=$("$cclient" 127.0.0.1 "$port" | hex) || fail "fortune-client against pieces"
[ "$out" = c3a9e282acf09f98800a ] || fail "fortune-client decoded UTF-16 as $out"
wait "$pid"
start "$tmp/raw.out" "$tmp/raw" serve 0004ffffffff
out=$("$cclient" 127.0.0.1 "$port") || fail "fortune-client against a null string"
[ "$out" = "(null)" ] || fail "fortune-client read the null string as $out"
wait "$pid"
start "$tmp/raw.out" "$tmp/raw" serve 000800000004d8000041
rc=0; "$cclient" 127.0.0.1 "$port" 2> "$tmp/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q 'not a fortune' "$tmp/err" ||
	fail "fortune-client, lone surrogate: exit $rc, $(cat "$tmp/err")"
wait "$pid"
start "$tmp/raw.out" "$tmp/raw" serve 000c00000008
rc=0; "$cclient" 127.0.0.1 "$port" 2> "$tmp/err" || rc=$?
[ "$rc" -eq 1 ] && grep -qi 'closed' "$tmp/err" ||
	fail "fortune-client, a block cut short: exit $rc, $(cat "$tmp/err")"
wait "$pid"

# Refused: it asks again a few times, then says what wirekit says.
rc=0; "$cclient" 127.0.0.1 "$port" 2> "$tmp/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "connect to 127\.0\.0\.1:$port: Connection refused" "$tmp/err" ||
	fail "fortune-client, refused: exit $rc, $(cat "$tmp/err")"
echo "fortune-client: ok"

# Without -n the threaded server runs until SIGTERM, and exits cleanly.
start "$tmp/tserver.out" "$tserver"
"$cclient" 127.0.0.1 "$port" > /dev/null || fail "fortune-client against the endless threaded server"
kill -TERM "$pid"
wait "$pid" || fail "threaded-fortune-server exited with $? on SIGTERM"

# The echo server: lines, a megabyte that needs the flow control, four
# clients at once; then SIGTERM while a client says nothing: that one
# is cut off after the grace time and the server exits with status 0.
start "$tmp/echo.out" "$echo_server"
epid=$pid
grep -q "^listening on 127\.0\.0\.1 port $port\$" "$tmp/echo.out" ||
	fail "echo server said: $(cat "$tmp/echo.out")"
printf 'hello\nworld\n' > "$tmp/lines"
"$tmp/raw" echo "$port" < "$tmp/lines" > "$tmp/lines.back" || fail "echo of two lines"
cmp -s "$tmp/lines" "$tmp/lines.back" || fail "the lines came back as: $(cat "$tmp/lines.back")"
head -c 1048576 /dev/urandom > "$tmp/big"
"$tmp/raw" echo "$port" < "$tmp/big" > "$tmp/big.back" || fail "echo of 1 MiB"
cmp -s "$tmp/big" "$tmp/big.back" || fail "1 MiB came back changed"
seq 1 5000 > "$tmp/numbers"
cpids=
for i in 1 2 3 4; do
	"$tmp/raw" echo "$port" < "$tmp/numbers" > "$tmp/numbers.$i" &
	cpids="$cpids $!"
done
for p in $cpids; do wait "$p" || fail "an echo client of four at once"; done
for i in 1 2 3 4; do
	cmp -s "$tmp/numbers" "$tmp/numbers.$i" || fail "echo client $i of four got other bytes"
done
"$tmp/raw" fetch "$port" > /dev/null 2>&1 &
silent=$!
pids="$pids $silent"
sleep 0.3
kill -TERM "$epid"
t0=$(date +%s)
wait "$epid" || fail "echo-server exited with $? on SIGTERM"
t1=$(date +%s)
[ $((t1 - t0)) -le 6 ] || fail "echo-server took $((t1 - t0)) s to drain (grace 2 s)"
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	kill -0 "$silent" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$silent" 2>/dev/null && fail "the silent client was not cut off"
echo "echo-server: ok, drained in $((t1 - t0)) s"
echo "check-examples: threaded examples ok"
