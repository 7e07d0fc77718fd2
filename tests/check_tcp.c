/*
 * check_tcp.c - the TCP socket end to end: real sockets on loopback, a
 * peer thread per test (raw POSIX or wirekit) on the other end
 *
 * When run as root the whole program runs in a network namespace of its
 * own (tests/netns.h), where the tests that need a connect that cannot
 * complete (a listener whose accept queue is full drops SYNs) run; they
 * are skipped otherwise.  Names other than "localhost" are answered by a
 * fake resolver backend (tests/tcp_helpers.h): no lookup leaves the host.
 *
 * No test asserts an elapsed time: waits are judged by their results and
 * error codes.  WK_TEST_SMALL=1 (for valgrind) scales transfers down,
 * WK_TEST_BIG=1 makes the read-buffer-limit test move 1 GiB.
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <wirekit/addr.h>
#include <wirekit/lookup.h>
#include <wirekit/socket.h>
#include <wirekit/udp.h>

#include "netns.h"
#include "tcp_helpers.h"

#define KIB 1024
#define MIB (1024 * 1024)
#define CHUNK (64 * KIB)

/* Set in main(): the program runs in a namespace of its own. */
static bool in_netns;

/* ---------------------------------------------------------------- helpers */

static wk_socket *
new_socket(void)
{
	wk_socket *s = wk_tcp_socket();

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(wk_socket_state(s), WK_STATE_UNCONNECTED);
	ck_assert_int_eq(wk_socket_descriptor(s), -1);
	return s;
}

#define assert_error(s, code) \
	ck_assert_msg(wk_socket_error(s) == (code), \
	    "error %s (\"%s\"), want %s", wk_error_name(wk_socket_error(s)), \
	    wk_socket_error_string(s), wk_error_name(code))

#define assert_state(s, want) \
	ck_assert_msg(wk_socket_state(s) == (want), "state %s, want %s", \
	    wk_state_name(wk_socket_state(s)), wk_state_name(want))

static void
assert_connected(wk_socket *s)
{
	ck_assert_msg(wk_socket_wait_connected(s, TH_WAIT_MSECS),
	    "wait_connected: %s (%s)", wk_error_name(wk_socket_error(s)),
	    wk_socket_error_string(s));
	assert_state(s, WK_STATE_CONNECTED);
	assert_error(s, WK_NO_ERROR);
	ck_assert_int_ge(wk_socket_descriptor(s), 0);
}

static void
connect_ok(wk_socket *s, const char *host, uint16_t port)
{
	ck_assert_msg(wk_socket_connect(s, host, port), "connect to %s: %s",
	    host, wk_socket_error_string(s));
	assert_connected(s);
}

/* A dual-stack listener ("::"), or IPv4 any where there is no IPv6. */
static int
listen_any(uint16_t *port)
{
	int fd = th_listen("::", port, 64);

	if (fd < 0)
		fd = th_listen("0.0.0.0", port, 64);
	ck_assert_msg(fd >= 0, "listen: %s", strerror(errno));
	return fd;
}

static int
listen_on(const char *text, uint16_t *port)
{
	int fd = th_listen(text, port, 64);

	ck_assert_msg(fd >= 0, "listen on %s: %s", text, strerror(errno));
	return fd;
}

static void
start_peer(th_peer *p, int lfd, const char *(*fn)(th_peer *p))
{
	th_peer_init(p, lfd);
	ck_assert(th_peer_start(p, fn));
}

static void
join_peer(th_peer *p)
{
	const char *why = th_peer_join(p);

	ck_assert_msg(why == NULL, "%s", why);
}

/* Reads exactly len bytes through wirekit, waiting when none are there. */
static bool
read_exact(wk_socket *s, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = wk_socket_read(s, p + got, len - got);
		if (n < 0)
			return false;
		if (n == 0 && !wk_socket_wait_ready_read(s, TH_WAIT_MSECS))
			return false;
		got += (size_t)n;
	}
	return true;
}

/* A request and its echo. */
static void
assert_echo(wk_socket *s, const char *msg)
{
	char buf[256];
	size_t len = strlen(msg);

	ck_assert_int_eq(wk_socket_write(s, msg, len), (ssize_t)len);
	ck_assert_msg(read_exact(s, buf, len), "echo of \"%s\": %s (%s)", msg,
	    wk_error_name(wk_socket_error(s)), wk_socket_error_string(s));
	ck_assert_mem_eq(buf, msg, len);
}

/* Graceful close: disconnect, wait for it when it did not end at once. */
static void
disconnect_ok(wk_socket *s)
{
	wk_socket_disconnect(s);
	if (wk_socket_state(s) != WK_STATE_UNCONNECTED)
		ck_assert_msg(wk_socket_wait_disconnected(s, TH_WAIT_MSECS),
		    "wait_disconnected: %s", wk_socket_error_string(s));
	assert_state(s, WK_STATE_UNCONNECTED);
	ck_assert_int_eq(wk_socket_descriptor(s), -1);
}

static wk_addr
addr_of(const char *text)
{
	wk_addr a;

	ck_assert_msg(wk_addr_parse(&a, text), "parse %s", text);
	return a;
}

static void
assert_peer_is(wk_socket *s, const char *text)
{
	wk_addr want = addr_of(text), got = wk_socket_peer_address(s);
	char buf[WK_ADDR_STRLEN];

	wk_addr_format(&got, buf, sizeof(buf));
	ck_assert_msg(wk_addr_equal(&got, &want, WK_ADDR_CMP_STRICT),
	    "peer address %s, want %s", buf, text);
}

static bool
skip_unless_netns(const char *what)
{
	if (in_netns)
		return false;
	fprintf(stderr, "skip: %s needs the test's network namespace "
	    "(run as root)\n", what);
	return true;
}

/*
 * Steps a connect with short waits that leave it running (only
 * wait_connected gives a connect up on timeout) while the state is
 * HOST_LOOKUP; returns the state it reached.
 */
static wk_state
step_past_lookup(wk_socket *s)
{
	for (int i = 0; i < 600 && wk_socket_state(s) ==
	    WK_STATE_HOST_LOOKUP; i++)
		if (!wk_socket_wait_ready_read(s, 50))
			ck_assert_msg(wk_socket_error(s) == WK_SOCKET_TIMEOUT,
			    "stepping the lookup: %s", wk_socket_error_string(s));
	return wk_socket_state(s);
}

static void
teardown(void)
{
	th_fake_uninstall();
	th_fd_restore();
}

/* ---------------------------------------------------------------- connect */

START_TEST(test_connect_localhost)
{
	uint16_t port = 0, local;
	int lfd = listen_any(&port);
	wk_socket *s = new_socket();
	wk_addr peer;
	th_peer p;

	start_peer(&p, lfd, th_peer_echo);
	ck_assert(wk_socket_connect(s, "localhost", port));
	assert_state(s, WK_STATE_HOST_LOOKUP);
	assert_connected(s);
	ck_assert_str_eq(wk_socket_peer_name(s), "localhost");
	ck_assert_uint_eq(wk_socket_peer_port(s), port);
	peer = wk_socket_peer_address(s);
	ck_assert(wk_addr_is_loopback(&peer));
	local = wk_socket_local_port(s);
	ck_assert_uint_ne(local, 0);
	assert_echo(s, "hello by name\n");
	disconnect_ok(s);
	wk_socket_free(s);
	join_peer(&p);
	ck_assert_uint_eq(p.peer_port, local);
	close(lfd);
}
END_TEST

/* A literal: CONNECTING at once (the attempt starts inside the call). */
static void
connect_literal(const char *text)
{
	uint16_t port = 0, local;
	int lfd = listen_on(text, &port);
	wk_socket *s = new_socket();
	wk_addr a;
	th_peer p;
	char name[64];

	start_peer(&p, lfd, th_peer_echo);
	ck_assert(wk_socket_connect(s, text, port));
	assert_state(s, WK_STATE_CONNECTING);
	assert_connected(s);
	ck_assert_str_eq(wk_socket_peer_name(s), text);
	ck_assert_uint_eq(wk_socket_peer_port(s), port);
	assert_peer_is(s, text);
	a = wk_socket_local_address(s);
	wk_addr_format(&a, name, sizeof(name));
	ck_assert_str_eq(name, text);
	local = wk_socket_local_port(s);
	ck_assert(fcntl(wk_socket_descriptor(s), F_GETFD) & FD_CLOEXEC);
	assert_echo(s, "hello by literal\n");
	disconnect_ok(s);
	wk_socket_free(s);
	join_peer(&p);
	ck_assert_uint_eq(p.peer_port, local);
	ck_assert_str_eq(p.peer_addr, text);
	close(lfd);
}

START_TEST(test_connect_ipv4_literal)
{
	connect_literal("127.0.0.1");
}
END_TEST

START_TEST(test_connect_ipv6_literal)
{
	if (!th_ipv6_loopback()) {
		fprintf(stderr, "skip: no IPv6 loopback listener here\n");
		return;
	}
	connect_literal("::1");
}
END_TEST

START_TEST(test_connect_addr)
{
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_addr a = addr_of("127.0.0.1");
	wk_socket *s = new_socket();
	th_peer p;

	start_peer(&p, lfd, th_peer_echo);
	ck_assert(wk_socket_connect_addr(s, &a, port));
	assert_connected(s);
	assert_peer_is(s, "127.0.0.1");
	ck_assert_str_eq(wk_socket_peer_name(s), "127.0.0.1");
	assert_echo(s, "hello by value\n");
	disconnect_ok(s);
	wk_socket_free(s);
	join_peer(&p);
	close(lfd);
}
END_TEST

/*
 * HOST_LOOKUP -> CONNECTING -> CONNECTED, each state seen.  To see
 * CONNECTING after a lookup the connect must not complete at once: the
 * listener's queue is full until the test accepts the connection that
 * fills it, and the client's next SYN then gets through.
 */
START_TEST(test_state_sequence)
{
	static const char *const addrs[] = { "127.0.0.1" };
	uint16_t port = 0;
	wk_socket *s = new_socket();
	int lfd, filler, conn;

	if (!in_netns) {
		/* Outside the namespace: the states that can be caught. */
		lfd = listen_on("127.0.0.1", &port);
		ck_assert(wk_socket_connect(s, "localhost", port));
		assert_state(s, WK_STATE_HOST_LOOKUP);
		assert_connected(s);
		wk_socket_abort(s);
		fprintf(stderr, "skip: CONNECTING after HOST_LOOKUP is seen "
		    "only in the test's network namespace\n");
		wk_socket_free(s);
		close(lfd);
		return;
	}
	lfd = th_full_listener("127.0.0.1", &port, &filler);
	ck_assert_msg(lfd >= 0, "full listener: %s", strerror(errno));
	th_fake_install("seq.test", addrs, 1, 0);
	ck_assert(wk_socket_connect(s, "seq.test", port));
	assert_state(s, WK_STATE_HOST_LOOKUP);
	ck_assert_int_eq(step_past_lookup(s), WK_STATE_CONNECTING);
	/* Still connecting after another wait that times out. */
	ck_assert(!wk_socket_wait_ready_read(s, 100));
	assert_error(s, WK_SOCKET_TIMEOUT);
	assert_state(s, WK_STATE_CONNECTING);
	/* Room in the queue: the SYN the client sends again gets in. */
	conn = th_accept(lfd, TH_WAIT_MSECS);
	ck_assert_int_ge(conn, 0);
	close(conn);
	close(filler);
	assert_connected(s);
	assert_peer_is(s, "127.0.0.1");
	ck_assert_str_eq(wk_socket_peer_name(s), "seq.test");
	wk_socket_free(s);
	close(lfd);
}
END_TEST

START_TEST(test_refused)
{
	uint16_t port = th_dead_port("127.0.0.1");
	wk_socket *s = new_socket();
	char want[64];

	ck_assert_uint_ne(port, 0);
	/* A literal may be refused inside connect() or in the wait. */
	if (wk_socket_connect(s, "127.0.0.1", port))
		ck_assert(!wk_socket_wait_connected(s, TH_WAIT_MSECS));
	assert_error(s, WK_CONNECTION_REFUSED);
	assert_state(s, WK_STATE_UNCONNECTED);
	snprintf(want, sizeof(want), "127.0.0.1:%u", (unsigned)port);
	ck_assert_msg(strstr(wk_socket_error_string(s), want) != NULL,
	    "\"%s\" does not name %s", wk_socket_error_string(s), want);
	ck_assert_msg(strstr(wk_socket_error_string(s), "refused") != NULL,
	    "\"%s\" gives no reason", wk_socket_error_string(s));
	ck_assert_int_eq(wk_socket_descriptor(s), -1);

	/* By name: every address is named with its reason. */
	ck_assert(wk_socket_connect(s, "localhost", port));
	ck_assert(!wk_socket_wait_connected(s, TH_WAIT_MSECS));
	assert_error(s, WK_CONNECTION_REFUSED);
	assert_state(s, WK_STATE_UNCONNECTED);
	snprintf(want, sizeof(want), "localhost:%u", (unsigned)port);
	ck_assert_msg(strstr(wk_socket_error_string(s), want) != NULL,
	    "\"%s\" does not name %s", wk_socket_error_string(s), want);
	ck_assert_msg(strstr(wk_socket_error_string(s), "127.0.0.1") != NULL,
	    "\"%s\" does not name 127.0.0.1", wk_socket_error_string(s));
	wk_socket_free(s);
}
END_TEST

/* A connect that cannot complete: a listener whose queue is full. */
START_TEST(test_connect_timeout)
{
	uint16_t port = 0;
	wk_socket *s;
	int lfd, filler;
	char want[64];

	if (skip_unless_netns("the connect timeout test"))
		return;
	lfd = th_full_listener("127.0.0.1", &port, &filler);
	ck_assert_msg(lfd >= 0, "full listener: %s", strerror(errno));
	s = new_socket();
	ck_assert(wk_socket_connect(s, "127.0.0.1", port));
	assert_state(s, WK_STATE_CONNECTING);
	ck_assert(!wk_socket_wait_connected(s, 500));
	assert_error(s, WK_SOCKET_TIMEOUT);
	/* As Qt: a connect that timed out is given up. */
	assert_state(s, WK_STATE_UNCONNECTED);
	ck_assert_int_eq(wk_socket_descriptor(s), -1);
	snprintf(want, sizeof(want), "127.0.0.1:%u", (unsigned)port);
	ck_assert_msg(strstr(wk_socket_error_string(s), want) != NULL,
	    "\"%s\" does not name %s", wk_socket_error_string(s), want);

	/* The per-attempt connect timeout ends even a wait forever. */
	ck_assert(wk_socket_set_connect_timeout(s, 300));
	ck_assert(wk_socket_connect(s, "127.0.0.1", port));
	ck_assert(!wk_socket_wait_connected(s, -1));
	assert_error(s, WK_SOCKET_TIMEOUT);
	assert_state(s, WK_STATE_UNCONNECTED);

	/* Other waits that time out leave the connect running. */
	ck_assert(wk_socket_set_connect_timeout(s, 30000));
	ck_assert(wk_socket_connect(s, "127.0.0.1", port));
	ck_assert(!wk_socket_wait_ready_read(s, 200));
	assert_error(s, WK_SOCKET_TIMEOUT);
	assert_state(s, WK_STATE_CONNECTING);
	ck_assert_int_eq(wk_socket_write(s, "x", 1), 1);
	ck_assert(!wk_socket_wait_bytes_written(s, 200));
	assert_error(s, WK_SOCKET_TIMEOUT);
	assert_state(s, WK_STATE_CONNECTING);
	ck_assert_uint_eq(wk_socket_bytes_to_write(s), 1);
	wk_socket_abort(s);
	assert_state(s, WK_STATE_UNCONNECTED);
	ck_assert_uint_eq(wk_socket_bytes_to_write(s), 0);
	wk_socket_free(s);
	close(filler);
	close(lfd);
}
END_TEST

START_TEST(test_connect_twice)
{
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_addr a = addr_of("127.0.0.1");
	wk_socket *s = new_socket();
	th_peer p;

	start_peer(&p, lfd, th_peer_echo);
	ck_assert(wk_socket_connect(s, "127.0.0.1", port));
	/* While connecting. */
	ck_assert(!wk_socket_connect(s, "127.0.0.1", port));
	assert_error(s, WK_OPERATION);
	ck_assert(wk_socket_state(s) == WK_STATE_CONNECTING ||
	    wk_socket_state(s) == WK_STATE_CONNECTED);
	assert_connected(s);
	/* While connected: the connection is left alone. */
	ck_assert(!wk_socket_connect(s, "127.0.0.1", port));
	assert_error(s, WK_OPERATION);
	ck_assert(!wk_socket_connect_addr(s, &a, port));
	assert_error(s, WK_OPERATION);
	ck_assert(!wk_socket_connect(s, "localhost", port));
	assert_error(s, WK_OPERATION);
	assert_state(s, WK_STATE_CONNECTED);
	ck_assert_str_eq(wk_socket_peer_name(s), "127.0.0.1");
	assert_echo(s, "still here\n");
	disconnect_ok(s);
	join_peer(&p);

	/* While looking up. */
	ck_assert(wk_socket_connect(s, "localhost", port));
	ck_assert(!wk_socket_connect(s, "localhost", port));
	assert_error(s, WK_OPERATION);
	wk_socket_free(s);
	close(lfd);
}
END_TEST

/* ---------------------------------------------------------------- happy eyeballs */

/*
 * The first address refuses, the second takes the connection; twice on
 * one object (what the first connect kept must not leak into the next).
 */
START_TEST(test_fallback)
{
	static const char *const addrs[] = { "127.0.0.2", "127.0.0.1" };
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	th_peer p;

	th_peer_init(&p, lfd);
	p.count = 2;
	ck_assert(th_peer_start(&p, th_peer_echo_many));
	th_fake_install("he.test", addrs, 2, 0);
	for (int round = 0; round < 2; round++) {
		ck_assert(wk_socket_connect(s, "he.test", port));
		assert_state(s, WK_STATE_HOST_LOOKUP);
		assert_connected(s);
		assert_peer_is(s, "127.0.0.1");
		ck_assert_uint_eq(wk_socket_peer_port(s), port);
		ck_assert_str_eq(wk_socket_peer_name(s), "he.test");
		ck_assert_msg(strstr(wk_socket_error_string(s), "127.0.0.2") ==
		    NULL, "the failed attempt shows in \"%s\"",
		    wk_socket_error_string(s));
		assert_echo(s, "second address\n");
		disconnect_ok(s);
	}
	ck_assert_int_ge(th_fake_calls(), 1);
	wk_socket_free(s);
	join_peer(&p);
	close(lfd);
}
END_TEST

/* The family preference leaves the other family out. */
START_TEST(test_family_preference)
{
	static const char *const addrs[] = { "::1", "127.0.0.1" };
	uint16_t port = 0;
	int lfd = listen_any(&port);
	wk_socket *s = new_socket();
	bool v6 = th_ipv6_loopback();
	th_peer p;

	th_peer_init(&p, lfd);
	p.count = v6 ? 2 : 1;
	ck_assert(th_peer_start(&p, th_peer_echo_many));
	th_fake_install("fam.test", addrs, 2, 0);
	ck_assert(wk_socket_set_family(s, WK_FAMILY_IPV4));
	connect_ok(s, "fam.test", port);
	assert_peer_is(s, "127.0.0.1");
	assert_echo(s, "IPv4 only\n");
	disconnect_ok(s);
	/* A literal of the other family is refused at once. */
	ck_assert(!wk_socket_connect(s, "::1", port));
	assert_error(s, WK_UNSUPPORTED_OPERATION);
	assert_state(s, WK_STATE_UNCONNECTED);
	if (v6) {
		ck_assert(wk_socket_set_family(s, WK_FAMILY_IPV6));
		connect_ok(s, "fam.test", port);
		assert_peer_is(s, "::1");
		assert_echo(s, "IPv6 only\n");
		disconnect_ok(s);
	}
	wk_socket_free(s);
	join_peer(&p);
	close(lfd);
}
END_TEST

/* Every address refuses: the error names each one. */
START_TEST(test_fallback_all_refused)
{
	static const char *const addrs[] = { "127.0.0.2", "127.0.0.3" };
	uint16_t port = th_dead_port("127.0.0.1");
	wk_socket *s = new_socket();
	const char *e;
	char want[64];

	th_fake_install("dead.test", addrs, 2, 0);
	ck_assert(wk_socket_connect(s, "dead.test", port));
	ck_assert(!wk_socket_wait_connected(s, TH_WAIT_MSECS));
	assert_error(s, WK_CONNECTION_REFUSED);
	assert_state(s, WK_STATE_UNCONNECTED);
	e = wk_socket_error_string(s);
	snprintf(want, sizeof(want), "dead.test:%u", (unsigned)port);
	ck_assert_msg(strstr(e, want) != NULL, "\"%s\" lacks %s", e, want);
	ck_assert_msg(strstr(e, "127.0.0.2") != NULL, "\"%s\" lacks .2", e);
	ck_assert_msg(strstr(e, "127.0.0.3") != NULL, "\"%s\" lacks .3", e);
	wk_socket_free(s);
}
END_TEST

START_TEST(test_host_not_found)
{
	static const char *const addrs[] = { "127.0.0.1" };
	wk_socket *s = new_socket();

	/* The fake backend answers only its own name. */
	th_fake_install("known.test", addrs, 1, 0);
	ck_assert(wk_socket_connect(s, "unknown.test", 1));
	ck_assert(!wk_socket_wait_connected(s, TH_WAIT_MSECS));
	assert_error(s, WK_HOST_NOT_FOUND);
	assert_state(s, WK_STATE_UNCONNECTED);
	ck_assert_msg(strstr(wk_socket_error_string(s), "unknown.test") != NULL,
	    "\"%s\"", wk_socket_error_string(s));
	wk_socket_free(s);
}
END_TEST

/*
 * The IPv6 address comes first but its SYNs go unanswered (a listener
 * with a full queue on ::1); the IPv4 attempt, started 250 ms later,
 * wins.  The losing attempt is closed: no socket of this namespace is
 * left in SYN-SENT to the port.
 */
START_TEST(test_happy_eyeballs_v6_slow)
{
	static const char *const addrs[] = { "::1", "127.0.0.1" };
	uint16_t port = 0;
	int lfd6, lfd4, filler;
	wk_socket *s;
	th_peer p;

	if (skip_unless_netns("the Happy Eyeballs race test"))
		return;
	if (!th_ipv6_loopback()) {
		fprintf(stderr, "skip: no IPv6 loopback here\n");
		return;
	}
	lfd6 = th_full_listener("::1", &port, &filler);
	ck_assert_msg(lfd6 >= 0, "full listener: %s", strerror(errno));
	lfd4 = listen_on("127.0.0.1", &port);
	start_peer(&p, lfd4, th_peer_echo);
	th_fake_install("he6.test", addrs, 2, 0);
	s = new_socket();
	ck_assert_int_eq(th_count_tcp(port, TH_TCP_SYN_SENT), 0);
	ck_assert(wk_socket_connect(s, "he6.test", port));
	assert_connected(s);
	assert_peer_is(s, "127.0.0.1");
	ck_assert_int_eq(th_count_tcp(port, TH_TCP_SYN_SENT), 0);
	assert_echo(s, "over IPv4\n");
	disconnect_ok(s);
	wk_socket_free(s);
	join_peer(&p);
	close(filler);
	close(lfd6);
	close(lfd4);
}
END_TEST

/* Every address times out: WK_SOCKET_TIMEOUT, each address named. */
START_TEST(test_all_attempts_time_out)
{
	static const char *const addrs[] = { "127.0.0.1", "127.0.0.2" };
	uint16_t port = 0;
	int lfd1, lfd2, filler1, filler2;
	wk_socket *s;
	const char *e;

	if (skip_unless_netns("the all-attempts-time-out test"))
		return;
	lfd1 = th_full_listener("127.0.0.1", &port, &filler1);
	ck_assert_msg(lfd1 >= 0, "full listener: %s", strerror(errno));
	lfd2 = th_full_listener("127.0.0.2", &port, &filler2);
	ck_assert_msg(lfd2 >= 0, "full listener: %s", strerror(errno));
	th_fake_install("silent.test", addrs, 2, 0);
	s = new_socket();
	ck_assert(wk_socket_set_connect_timeout(s, 400));
	ck_assert(wk_socket_connect(s, "silent.test", port));
	ck_assert(!wk_socket_wait_connected(s, -1));
	assert_error(s, WK_SOCKET_TIMEOUT);
	assert_state(s, WK_STATE_UNCONNECTED);
	e = wk_socket_error_string(s);
	ck_assert_msg(strstr(e, "127.0.0.1") && strstr(e, "127.0.0.2"),
	    "\"%s\" does not name both addresses", e);
	ck_assert_int_eq(th_count_tcp(port, TH_TCP_SYN_SENT), 0);
	wk_socket_free(s);
	close(filler1);
	close(filler2);
	close(lfd1);
	close(lfd2);
}
END_TEST

/* One deadline covers the lookup too: a lookup that never ends. */
START_TEST(test_lookup_timeout)
{
	static const char *const addrs[] = { "127.0.0.1" };
	wk_socket *s = new_socket();

	th_fake_install("never.test", addrs, 1, 60000);
	ck_assert(wk_socket_connect(s, "never.test", 1));
	ck_assert(!wk_socket_wait_connected(s, 300));
	assert_error(s, WK_SOCKET_TIMEOUT);
	assert_state(s, WK_STATE_UNCONNECTED);
	ck_assert_msg(strstr(wk_socket_error_string(s), "never.test") != NULL,
	    "\"%s\"", wk_socket_error_string(s));
	/* Other waits leave the lookup running. */
	ck_assert(wk_socket_connect(s, "never.test", 1));
	ck_assert(!wk_socket_wait_ready_read(s, 100));
	assert_error(s, WK_SOCKET_TIMEOUT);
	assert_state(s, WK_STATE_HOST_LOOKUP);
	wk_socket_free(s);	/* abandons the lookup */
}
END_TEST

/* ---------------------------------------------------------------- data */

/* 64 MiB each way at once: the client writes and reads interleaved. */
START_TEST(test_bulk_both_ways)
{
	const size_t size = th_size(64 * MIB, 4 * MIB);
	const uint32_t seed = 0xb01c;
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	char *out = malloc(CHUNK), *in = malloc(CHUNK);
	size_t sent = 0, got = 0;
	uint64_t sum = TH_SUM_INIT;
	int64_t bad;
	ssize_t n;
	th_peer p;

	ck_assert(out && in);
	start_peer(&p, lfd, th_peer_echo);
	connect_ok(s, "127.0.0.1", port);
	while (got < size) {
		if (sent < size && wk_socket_bytes_to_write(s) < MIB) {
			size_t len = size - sent < CHUNK ? size - sent : CHUNK;

			th_pattern(out, len, sent, seed);
			ck_assert_int_eq(wk_socket_write(s, out, len),
			    (ssize_t)len);
			sent += len;
		}
		wk_socket_flush(s);
		n = wk_socket_read(s, in, CHUNK);
		ck_assert_msg(n >= 0, "read: %s", wk_socket_error_string(s));
		if (n > 0) {
			bad = th_pattern_check(in, (size_t)n, got, seed);
			ck_assert_msg(bad < 0, "byte %lld is wrong", (long long)bad);
			sum = th_sum(sum, in, (size_t)n);
			got += (size_t)n;
			continue;
		}
		if (sent < size && wk_socket_bytes_to_write(s) < MIB)
			continue;
		ck_assert_msg(wk_socket_wait_ready_read(s, TH_WAIT_MSECS),
		    "wait_ready_read after %zu of %zu bytes: %s", got, size,
		    wk_socket_error_string(s));
	}
	ck_assert_uint_eq(got, size);
	ck_assert_uint_eq(sent, size);
	ck_assert_uint_eq(wk_socket_bytes_to_write(s), 0);
	ck_assert(sum == th_pattern_sum(size, seed));
	disconnect_ok(s);
	wk_socket_free(s);
	join_peer(&p);
	ck_assert_uint_eq(p.received, size);
	ck_assert(p.sum == sum);
	free(out);
	free(in);
	close(lfd);
}
END_TEST

/* Sends text in pieces of the sizes given (cyclic); 0 or -1. */
static int
send_pieces(int fd, const char *text, const size_t *sizes, size_t nsizes)
{
	size_t len = strlen(text), off = 0, i = 0;

	while (off < len) {
		size_t n = sizes[i++ % nsizes];

		if (n > len - off)
			n = len - off;
		if (th_write_all(fd, text + off, n) != 0)
			return -1;
		off += n;
		th_sleep_ms(1);	/* a chance for each piece to go alone */
	}
	return 0;
}

static const char chunked_text[] =
    "first line\nsecond, a little longer line\n\nafter an empty line\n"
    "x\nyz\nthe end of the chunked part\n";
static const size_t odd_sizes[] = { 1, 2, 3, 5, 7, 11, 13 };
static const size_t byte_sizes[] = { 1 };

static const char *
peer_lines(th_peer *p)
{
	static const char *why_accept = "peer: accept failed";

	if ((p->fd = th_accept(p->lfd, TH_PEER_MSECS)) < 0)
		return why_accept;
	/* Half a line, and the rest only when the client has looked. */
	if (th_write_all(p->fd, "hel", 3) != 0)
		return "peer: send failed";
	if (!th_peer_wait_signal(p, 1, TH_PEER_MSECS))
		return "peer: no signal from the client";
	if (th_write_all(p->fd, "lo\n", 3) != 0)
		return "peer: send failed";
	if (send_pieces(p->fd, "byte by byte\n", byte_sizes, 1) != 0 ||
	    send_pieces(p->fd, chunked_text, odd_sizes, 7) != 0 ||
	    send_pieces(p->fd, "tail", odd_sizes, 7) != 0)
		return "peer: send failed";
	return NULL;	/* closing the descriptor ends the stream */
}

/*
 * The next piece read_line gives, waiting as needed: its length, or -1
 * at the end of the stream (the peer closed, nothing left).
 */
static ssize_t
next_line(wk_socket *s, char *buf, size_t size)
{
	ssize_t n;

	for (;;) {
		n = wk_socket_read_line(s, buf, size);
		if (n != 0)
			return n;
		ck_assert_str_eq(buf, "");
		if (!wk_socket_wait_ready_read(s, TH_WAIT_MSECS))
			ck_assert_msg(wk_socket_error(s) == WK_REMOTE_HOST_CLOSED,
			    "wait_ready_read: %s", wk_socket_error_string(s));
	}
}

START_TEST(test_read_line_chunks)
{
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	char line[128];
	const char *want, *end;
	th_peer p;

	start_peer(&p, lfd, peer_lines);
	connect_ok(s, "127.0.0.1", port);
	while (wk_socket_bytes_available(s) < 3)
		ck_assert(wk_socket_wait_ready_read(s, TH_WAIT_MSECS));
	/* A line still arriving: 0, nothing taken. */
	ck_assert(!wk_socket_can_read_line(s));
	ck_assert_int_eq(wk_socket_read_line(s, line, sizeof(line)), 0);
	ck_assert_str_eq(line, "");
	ck_assert_uint_eq(wk_socket_bytes_available(s), 3);
	ck_assert(!wk_socket_at_end(s));
	th_peer_signal(&p);
	ck_assert_int_eq(next_line(s, line, sizeof(line)), 6);
	ck_assert_str_eq(line, "hello\n");
	ck_assert_int_eq(next_line(s, line, sizeof(line)), 13);
	ck_assert_str_eq(line, "byte by byte\n");
	for (want = chunked_text; *want; want = end) {
		end = strchr(want, '\n') + 1;
		ck_assert_int_eq(next_line(s, line, sizeof(line)), end - want);
		ck_assert_msg(strncmp(line, want, (size_t)(end - want)) == 0,
		    "got \"%s\"", line);
	}
	/* The last bytes, with no newline, at the end of the stream. */
	ck_assert_int_eq(next_line(s, line, sizeof(line)), 4);
	ck_assert_str_eq(line, "tail");
	ck_assert_int_eq(next_line(s, line, sizeof(line)), -1);
	assert_state(s, WK_STATE_UNCONNECTED);
	wk_socket_free(s);
	join_peer(&p);
	close(lfd);
}
END_TEST

#define LONG_LINE 10000
#define LONG_TAIL 250

static const char *
peer_long_line(th_peer *p)
{
	char *text = p->arg;

	if ((p->fd = th_accept(p->lfd, TH_PEER_MSECS)) < 0)
		return "peer: accept failed";
	if (th_write_all(p->fd, text, strlen(text)) != 0)
		return "peer: send failed";
	return NULL;
}

/* Reads one line in pieces of at most size - 1 into out; its length. */
static size_t
read_long_line(wk_socket *s, size_t size, char *out, size_t max, bool eof)
{
	char piece[128];
	size_t len = 0;
	ssize_t n;

	ck_assert_uint_le(size, sizeof(piece));
	for (;;) {
		n = next_line(s, piece, size);
		if (n < 0)
			break;
		ck_assert_int_le(n, (ssize_t)size - 1);
		ck_assert_uint_eq(strlen(piece), (size_t)n);
		ck_assert_uint_le(len + (size_t)n, max);
		memcpy(out + len, piece, (size_t)n);
		len += (size_t)n;
		if (piece[n - 1] == '\n' || (eof && (size_t)n < size - 1))
			break;
	}
	return len;
}

START_TEST(test_read_line_long)
{
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	size_t total = LONG_LINE + 1 + 6 + LONG_TAIL, len;
	char *text = malloc(total + 1), *got = malloc(total + 1);
	char small[2];
	th_peer p;

	ck_assert(text && got);
	/* A long line of printable bytes, a short one, a long unended tail. */
	for (size_t i = 0; i < LONG_LINE; i++)
		text[i] = (char)('a' + i % 26);
	memcpy(text + LONG_LINE, "\nshort\n", 7);
	for (size_t i = 0; i < LONG_TAIL; i++)
		text[LONG_LINE + 7 + i] = (char)('A' + i % 26);
	text[total] = '\0';
	th_peer_init(&p, lfd);
	p.arg = text;
	ck_assert(th_peer_start(&p, peer_long_line));
	connect_ok(s, "127.0.0.1", port);

	len = read_long_line(s, 100, got, total, false);
	ck_assert_uint_eq(len, LONG_LINE + 1);
	ck_assert(memcmp(got, text, len) == 0);
	/* The smallest buffer: one byte at a time. */
	for (const char *c = "short\n"; *c; c++) {
		ck_assert_int_eq(next_line(s, small, sizeof(small)), 1);
		ck_assert_int_eq(small[0], *c);
		ck_assert_int_eq(small[1], '\0');
	}
	len = read_long_line(s, 100, got, total, true);
	ck_assert_uint_eq(len, LONG_TAIL);
	ck_assert(memcmp(got, text + LONG_LINE + 7, len) == 0);
	ck_assert_int_eq(next_line(s, got, 100), -1);
	/* Buffers that hold no text. */
	ck_assert_int_eq(wk_socket_read_line(s, small, 1), -1);
	assert_error(s, WK_INVALID_ARGUMENT);
	ck_assert_int_eq(wk_socket_read_line(s, small, 0), -1);
	assert_error(s, WK_INVALID_ARGUMENT);
	wk_socket_free(s);
	join_peer(&p);
	free(text);
	free(got);
	close(lfd);
}
END_TEST

/*
 * A read buffer limit below the line buffer: a line longer than the
 * limit fills the buffer and no more input comes until the program
 * reads, so read_line hands out what the buffer holds (and
 * can_read_line says it will) instead of waiting for a newline that
 * cannot arrive.
 */
START_TEST(test_read_line_over_limit)
{
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	size_t total = LONG_LINE + 1 + 6, len;
	char *text = malloc(total + 1), *got = malloc(total + 1);
	char piece[128];
	ssize_t n;
	th_peer p;

	ck_assert(text && got);
	for (size_t i = 0; i < LONG_LINE; i++)
		text[i] = (char)('a' + i % 26);
	memcpy(text + LONG_LINE, "\nshort\n", 7);
	text[total] = '\0';
	ck_assert(wk_socket_set_read_buffer_size(s, 16));
	th_peer_init(&p, lfd);
	p.arg = text;
	ck_assert(th_peer_start(&p, peer_long_line));
	connect_ok(s, "127.0.0.1", port);
	for (len = 0; len < total; len += (size_t)n) {
		while ((n = wk_socket_read_line(s, piece, sizeof(piece))) == 0) {
			ck_assert(!wk_socket_can_read_line(s));
			ck_assert_msg(wk_socket_wait_ready_read(s, TH_WAIT_MSECS),
			    "wait_ready_read: %s", wk_socket_error_string(s));
		}
		ck_assert_int_gt(n, 0);
		ck_assert_int_le(n, 16);
		ck_assert_uint_le(len + (size_t)n, total);
		memcpy(got + len, piece, (size_t)n);
	}
	ck_assert(memcmp(got, text, total) == 0);
	wk_socket_free(s);
	join_peer(&p);
	free(text);
	free(got);
	close(lfd);
}
END_TEST

/*
 * Reads to the end of the stream, then answers with the count of bytes
 * it read and closes: a server that needs the client's half-close.
 */
static const char *
peer_count_to_eof(th_peer *p)
{
	char buf[CHUNK], line[64];
	ssize_t n;

	if ((p->fd = th_accept(p->lfd, TH_PEER_MSECS)) < 0)
		return "peer: accept failed";
	while ((n = recv(p->fd, buf, sizeof(buf), 0)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return "peer: recv failed";
		p->received += (size_t)n;
	}
	snprintf(line, sizeof(line), "got %zu\n", p->received);
	if (th_write_all(p->fd, line, strlen(line)) != 0)
		return "peer: send failed";
	return NULL;
}

START_TEST(test_close_write)
{
	const size_t size = 4 * MIB;
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket(), *u = wk_udp_socket();
	char *big = calloc(1, size), line[64], want[64];
	ssize_t n;
	th_peer p;

	ck_assert(big && u);
	/* Not connected, not TCP, no socket. */
	ck_assert(!wk_socket_close_write(NULL));
	ck_assert(!wk_socket_close_write(s));
	assert_error(s, WK_OPERATION);
	ck_assert(!wk_socket_close_write(u));
	ck_assert_int_eq(wk_socket_error(u), WK_OPERATION);
	th_peer_init(&p, lfd);
	ck_assert(th_peer_start(&p, peer_count_to_eof));
	connect_ok(s, "127.0.0.1", port);
	/* More than the kernel takes at once: the end waits for the queue. */
	ck_assert_int_eq(wk_socket_write(s, big, size), (ssize_t)size);
	ck_assert(wk_socket_close_write(s));
	ck_assert(wk_socket_close_write(s));		/* again: nothing */
	assert_state(s, WK_STATE_CONNECTED);
	ck_assert_int_eq(wk_socket_write(s, "x", 1), -1);
	assert_error(s, WK_OPERATION);
	/* The answer comes only after the peer saw the end of the stream. */
	while (!wk_socket_can_read_line(s))
		ck_assert_msg(wk_socket_wait_ready_read(s, TH_WAIT_MSECS),
		    "wait_ready_read: %s", wk_socket_error_string(s));
	n = wk_socket_read_line(s, line, sizeof(line));
	snprintf(want, sizeof(want), "got %zu\n", size);
	ck_assert_int_eq(n, (ssize_t)strlen(want));
	ck_assert_str_eq(line, want);
	ck_assert_uint_eq(wk_socket_bytes_to_write(s), 0);
	join_peer(&p);
	/* The peer's close ends the connection as usual. */
	ck_assert(wk_socket_wait_disconnected(s, TH_WAIT_MSECS));
	assert_state(s, WK_STATE_UNCONNECTED);
	/* A new connection can write again. */
	th_peer_init(&p, lfd);
	ck_assert(th_peer_start(&p, peer_count_to_eof));
	connect_ok(s, "127.0.0.1", port);
	ck_assert_int_eq(wk_socket_write(s, "abc", 3), 3);
	ck_assert(wk_socket_close_write(s));
	while (!wk_socket_can_read_line(s))
		ck_assert_msg(wk_socket_wait_ready_read(s, TH_WAIT_MSECS),
		    "wait_ready_read: %s", wk_socket_error_string(s));
	wk_socket_read_line(s, line, sizeof(line));
	ck_assert_str_eq(line, "got 3\n");
	join_peer(&p);
	wk_socket_free(s);
	wk_socket_free(u);
	free(big);
	close(lfd);
}
END_TEST

/* Reads p->size bytes from the client, then resets the connection. */
static const char *
peer_read_then_reset(th_peer *p)
{
	struct linger lg = { 1, 0 };
	char *buf = malloc(CHUNK);
	size_t left = p->size;
	ssize_t n;

	if (!buf)
		return "peer: out of memory";
	if ((p->fd = th_accept(p->lfd, TH_PEER_MSECS)) < 0) {
		free(buf);
		return "peer: accept failed";
	}
	while (left > 0) {
		n = recv(p->fd, buf, left < CHUNK ? left : CHUNK, 0);
		if (n <= 0) {
			free(buf);
			return "peer: recv failed";
		}
		left -= (size_t)n;
		p->received += (size_t)n;
	}
	free(buf);
	setsockopt(p->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	return NULL;	/* the close sends RST */
}

/* Sends p->size bytes of pattern p->seed, then resets the connection. */
static const char *
peer_send_then_reset(th_peer *p)
{
	struct linger lg = { 1, 0 };
	char *buf = malloc(CHUNK);
	size_t off = 0;

	if (!buf)
		return "peer: out of memory";
	if ((p->fd = th_accept(p->lfd, TH_PEER_MSECS)) < 0) {
		free(buf);
		return "peer: accept failed";
	}
	while (off < p->size) {
		size_t n = p->size - off < CHUNK ? p->size - off : CHUNK;

		th_pattern(buf, n, off, p->seed);
		if (th_write_all(p->fd, buf, n) != 0) {
			free(buf);
			return "peer: send failed";
		}
		off += n;
	}
	free(buf);
	if (p->count > 0 && !th_peer_wait_signal(p, 1, TH_PEER_MSECS))
		return "peer: no signal from the client";
	setsockopt(p->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	return NULL;
}

/* The peer resets while the client writes: an error, no crash. */
START_TEST(test_peer_reset_writing)
{
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	char *chunk = calloc(1, CHUNK);
	size_t written = 0;
	bool failed = false;
	th_peer p;

	ck_assert_ptr_nonnull(chunk);
	th_peer_init(&p, lfd);
	p.size = 256 * KIB;
	ck_assert(th_peer_start(&p, peer_read_then_reset));
	connect_ok(s, "127.0.0.1", port);
	/* Bounded: far more than the peer reads and any kernel buffers. */
	while (!failed && written < 1024 * MIB) {
		if (wk_socket_write(s, chunk, CHUNK) < 0) {
			failed = true;
			break;
		}
		written += CHUNK;
		if (wk_socket_bytes_to_write(s) > MIB &&
		    !wk_socket_wait_bytes_written(s, TH_WAIT_MSECS))
			failed = true;
	}
	ck_assert_msg(failed, "no error after %zu bytes", written);
	assert_error(s, WK_REMOTE_HOST_CLOSED);
	assert_state(s, WK_STATE_UNCONNECTED);
	ck_assert_uint_eq(wk_socket_bytes_to_write(s), 0);
	ck_assert_int_eq(wk_socket_descriptor(s), -1);
	ck_assert_int_eq(wk_socket_write(s, "x", 1), -1);
	assert_error(s, WK_OPERATION);
	wk_socket_free(s);
	join_peer(&p);
	free(chunk);
	close(lfd);
}
END_TEST

/* The peer resets while the client reads: what came is right, then -1. */
START_TEST(test_peer_reset_reading)
{
	const uint32_t seed = 0x4e5e7;
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	char *buf = malloc(CHUNK);
	size_t got = 0;
	ssize_t n;
	th_peer p;

	ck_assert_ptr_nonnull(buf);
	th_peer_init(&p, lfd);
	p.size = MIB;
	p.seed = seed;
	p.count = 0;	/* reset at once, no signal */
	ck_assert(th_peer_start(&p, peer_send_then_reset));
	connect_ok(s, "127.0.0.1", port);
	for (;;) {
		n = wk_socket_read(s, buf, CHUNK);
		if (n < 0)
			break;
		if (n == 0) {
			if (!wk_socket_wait_ready_read(s, TH_WAIT_MSECS))
				ck_assert_msg(wk_socket_error(s) ==
				    WK_REMOTE_HOST_CLOSED, "wait: %s",
				    wk_socket_error_string(s));
			continue;
		}
		ck_assert(th_pattern_check(buf, (size_t)n, got, seed) < 0);
		got += (size_t)n;
		ck_assert_uint_le(got, MIB);
	}
	assert_state(s, WK_STATE_UNCONNECTED);
	ck_assert_msg(wk_socket_error(s) == WK_REMOTE_HOST_CLOSED ||
	    wk_socket_error(s) == WK_OPERATION, "error %s (%s)",
	    wk_error_name(wk_socket_error(s)), wk_socket_error_string(s));
	ck_assert_int_eq(wk_socket_read(s, buf, CHUNK), -1);
	wk_socket_free(s);
	join_peer(&p);
	free(buf);
	close(lfd);
}
END_TEST

/* Sends p->size bytes of pattern p->seed and closes. */
static const char *
peer_send(th_peer *p)
{
	char *buf = malloc(CHUNK);
	size_t off = 0;

	if (!buf)
		return "peer: out of memory";
	if ((p->fd = th_accept(p->lfd, TH_PEER_MSECS)) < 0) {
		free(buf);
		return "peer: accept failed";
	}
	p->sum = TH_SUM_INIT;
	while (off < p->size) {
		size_t n = p->size - off < CHUNK ? p->size - off : CHUNK;

		th_pattern(buf, n, off, p->seed);
		p->sum = th_sum(p->sum, buf, n);
		if (th_write_all(p->fd, buf, n) != 0) {
			free(buf);
			return "peer: send failed or timed out";
		}
		off += n;
	}
	free(buf);
	return NULL;
}

/*
 * The peer sends and closes; the client only waits (reads nothing)
 * until the wait reports the close.  Every byte is then still there.
 */
START_TEST(test_peer_close_buffered)
{
	const size_t size = th_size(MIB, 256 * KIB);
	const uint32_t seed = 0xc105ed;
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	char *buf = malloc(size);
	void *all = NULL;
	ssize_t n;
	th_peer p;

	ck_assert_ptr_nonnull(buf);
	th_peer_init(&p, lfd);
	p.size = size;
	p.seed = seed;
	ck_assert(th_peer_start(&p, peer_send));
	connect_ok(s, "127.0.0.1", port);
	while (wk_socket_wait_ready_read(s, TH_WAIT_MSECS))
		ck_assert_uint_le(wk_socket_bytes_available(s), size);
	assert_error(s, WK_REMOTE_HOST_CLOSED);
	assert_state(s, WK_STATE_UNCONNECTED);
	ck_assert_uint_eq(wk_socket_bytes_available(s), size);
	ck_assert(!wk_socket_at_end(s));
	/* Half by read(), the rest by read_all(). */
	ck_assert_int_eq(wk_socket_read(s, buf, size / 2), (ssize_t)(size / 2));
	n = wk_socket_read_all(s, &all);
	ck_assert_int_eq(n, (ssize_t)(size - size / 2));
	ck_assert_ptr_nonnull(all);
	memcpy(buf + size / 2, all, (size_t)n);
	free(all);
	ck_assert(th_pattern_check(buf, size, 0, seed) < 0);
	ck_assert(wk_socket_at_end(s));
	/* Nothing left: -1 from every read. */
	ck_assert_int_eq(wk_socket_read(s, buf, 1), -1);
	ck_assert_int_eq(wk_socket_read_line(s, buf, 16), -1);
	ck_assert_int_eq(wk_socket_peek(s, buf, 1), -1);
	ck_assert_int_eq(wk_socket_read_all(s, &all), -1);
	ck_assert_ptr_null(all);
	/* Unconnected; the library may repeat why (Qt keeps the error). */
	ck_assert(!wk_socket_wait_ready_read(s, 0));
	ck_assert_msg(wk_socket_error(s) == WK_OPERATION ||
	    wk_socket_error(s) == WK_REMOTE_HOST_CLOSED, "error %s",
	    wk_error_name(wk_socket_error(s)));
	wk_socket_free(s);
	join_peer(&p);
	free(buf);
	close(lfd);
}
END_TEST

/* Accepts, closes at once, tells the client. */
static const char *
peer_close_at_once(th_peer *p)
{
	if ((p->fd = th_accept(p->lfd, TH_PEER_MSECS)) < 0)
		return "peer: accept failed";
	close(p->fd);
	p->fd = -1;
	return NULL;
}

/*
 * Writing to a connection the peer closed: the peer's RST makes send()
 * fail with ECONNRESET or EPIPE.  No signal handler is installed here,
 * so a SIGPIPE would kill the test.
 */
START_TEST(test_write_after_peer_closed)
{
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	char *big = calloc(1, MIB);
	int i;
	th_peer p;

	ck_assert_ptr_nonnull(big);
	start_peer(&p, lfd, peer_close_at_once);
	connect_ok(s, "127.0.0.1", port);
	join_peer(&p);
	/* Small writes, no waits: the fast path's send() fails. */
	for (i = 0; i < 10000; i++) {
		if (wk_socket_write(s, "x", 1) < 0)
			break;
		th_sleep_ms(1);
	}
	ck_assert_msg(i < 10000, "no error after 10000 writes");
	assert_error(s, WK_REMOTE_HOST_CLOSED);
	assert_state(s, WK_STATE_UNCONNECTED);
	ck_assert_int_eq(wk_socket_write(s, "x", 1), -1);
	assert_error(s, WK_OPERATION);

	/* The same through the queue and a wait. */
	start_peer(&p, lfd, peer_close_at_once);
	connect_ok(s, "127.0.0.1", port);
	join_peer(&p);
	for (i = 0; i < 10000; i++) {
		if (wk_socket_write(s, big, MIB) < 0)
			break;
		if (wk_socket_bytes_to_write(s) > 0 &&
		    !wk_socket_wait_bytes_written(s, TH_WAIT_MSECS))
			break;
	}
	ck_assert_msg(i < 10000, "no error after 10000 writes");
	assert_error(s, WK_REMOTE_HOST_CLOSED);
	assert_state(s, WK_STATE_UNCONNECTED);
	ck_assert_uint_eq(wk_socket_bytes_to_write(s), 0);
	wk_socket_free(s);
	free(big);
	close(lfd);
}
END_TEST

/* Sends "hello world\n", waits for the signal, closes. */
static const char *
peer_hello(th_peer *p)
{
	if ((p->fd = th_accept(p->lfd, TH_PEER_MSECS)) < 0)
		return "peer: accept failed";
	if (th_write_all(p->fd, "hello world\n", 12) != 0)
		return "peer: send failed";
	if (!th_peer_wait_signal(p, 1, TH_PEER_MSECS))
		return "peer: no signal";
	return NULL;
}

START_TEST(test_peek_and_read_all)
{
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	char buf[16];
	void *all = NULL;
	th_peer p;

	start_peer(&p, lfd, peer_hello);
	connect_ok(s, "127.0.0.1", port);
	while (wk_socket_bytes_available(s) < 12)
		ck_assert_msg(wk_socket_wait_ready_read(s, TH_WAIT_MSECS),
		    "wait: %s", wk_socket_error_string(s));
	ck_assert(wk_socket_can_read_line(s));
	/* peek takes nothing. */
	ck_assert_int_eq(wk_socket_peek(s, buf, 5), 5);
	ck_assert_mem_eq(buf, "hello", 5);
	ck_assert_int_eq(wk_socket_peek(s, buf, sizeof(buf)), 12);
	ck_assert_uint_eq(wk_socket_bytes_available(s), 12);
	ck_assert_int_eq(wk_socket_read(s, buf, 6), 6);
	ck_assert_mem_eq(buf, "hello ", 6);
	ck_assert_int_eq(wk_socket_read_all(s, &all), 6);
	ck_assert_ptr_nonnull(all);
	ck_assert_mem_eq(all, "world\n", 6);
	free(all);
	ck_assert(wk_socket_at_end(s));
	/* Connected, nothing there: 0, not -1. */
	ck_assert_int_eq(wk_socket_read(s, buf, sizeof(buf)), 0);
	ck_assert_int_eq(wk_socket_peek(s, buf, sizeof(buf)), 0);
	ck_assert_int_eq(wk_socket_read_line(s, buf, sizeof(buf)), 0);
	ck_assert_int_eq(wk_socket_read_all(s, &all), 0);
	assert_state(s, WK_STATE_CONNECTED);
	th_peer_signal(&p);
	ck_assert(!wk_socket_wait_ready_read(s, TH_WAIT_MSECS));
	assert_error(s, WK_REMOTE_HOST_CLOSED);
	ck_assert_int_eq(wk_socket_read(s, buf, sizeof(buf)), -1);
	wk_socket_free(s);
	join_peer(&p);
	close(lfd);
}
END_TEST

/* Each wait_bytes_written sends some of the queue, until all is out. */
START_TEST(test_wait_bytes_written)
{
	const size_t size = 16 * MIB;
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	char *data = malloc(size);
	size_t left;
	th_peer p;

	ck_assert_ptr_nonnull(data);
	th_pattern(data, size, 0, 0x3a17);
	start_peer(&p, lfd, th_peer_sink);
	connect_ok(s, "127.0.0.1", port);
	ck_assert_int_eq(wk_socket_write(s, data, size), (ssize_t)size);
	while ((left = wk_socket_bytes_to_write(s)) > 0) {
		ck_assert_msg(wk_socket_wait_bytes_written(s, TH_WAIT_MSECS),
		    "wait_bytes_written with %zu queued: %s", left,
		    wk_socket_error_string(s));
		ck_assert_uint_lt(wk_socket_bytes_to_write(s), left);
	}
	ck_assert(!wk_socket_wait_bytes_written(s, 0));
	assert_error(s, WK_OPERATION);
	disconnect_ok(s);
	join_peer(&p);
	ck_assert_uint_eq(p.received, size);
	ck_assert(p.sum == th_sum(TH_SUM_INIT, data, size));
	wk_socket_free(s);
	free(data);
	close(lfd);
}
END_TEST

/* wait_disconnected on a connection the peer ends: true, data kept. */
START_TEST(test_wait_disconnected_by_peer)
{
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	char line[32];
	th_peer p;

	start_peer(&p, lfd, peer_hello);
	connect_ok(s, "127.0.0.1", port);
	/* The peer stays: a timeout, and the connection is kept. */
	ck_assert(!wk_socket_wait_disconnected(s, 200));
	assert_error(s, WK_SOCKET_TIMEOUT);
	assert_state(s, WK_STATE_CONNECTED);
	th_peer_signal(&p);
	ck_assert_msg(wk_socket_wait_disconnected(s, TH_WAIT_MSECS),
	    "wait_disconnected: %s", wk_socket_error_string(s));
	assert_state(s, WK_STATE_UNCONNECTED);
	ck_assert_int_eq(next_line(s, line, sizeof(line)), 12);
	ck_assert_str_eq(line, "hello world\n");
	ck_assert_int_eq(next_line(s, line, sizeof(line)), -1);
	wk_socket_free(s);
	join_peer(&p);
	close(lfd);
}
END_TEST

/* ---------------------------------------------------------------- limits */

/*
 * A read buffer limit holds memory down while the peer sends far more:
 * the buffer never holds more than the limit, and the process grows by
 * less than 64 MiB (a bound on memory, not on time).
 */
START_TEST(test_read_buffer_limit)
{
	const size_t limit = MIB;
	const size_t size = th_big() ? 1024 * (size_t)MIB :
	    th_size(64 * MIB, 16 * MIB);
	const uint32_t seed = 0x11e17;
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	char *buf = malloc(CHUNK);
	size_t got = 0, full = 0, iter = 0;
	long rss0, rss, grown = 0;
	uint64_t sum = TH_SUM_INIT;
	ssize_t n;
	th_peer p;

	ck_assert_ptr_nonnull(buf);
	ck_assert(wk_socket_set_read_buffer_size(s, limit));
	ck_assert_uint_eq(wk_socket_read_buffer_size(s), limit);
	th_peer_init(&p, lfd);
	p.size = size;
	p.seed = seed;
	ck_assert(th_peer_start(&p, peer_send));
	connect_ok(s, "127.0.0.1", port);
	rss0 = th_rss();
	ck_assert_int_gt(rss0, 0);
	for (;;) {
		bool ok = wk_socket_wait_ready_read(s, TH_WAIT_MSECS);

		ck_assert_uint_le(wk_socket_bytes_available(s), limit);
		if (++iter % 64 == 0 && (rss = th_rss()) - rss0 > grown)
			grown = rss - rss0;
		if (ok)
			continue;	/* read only when the buffer is full */
		if (wk_socket_error(s) == WK_REMOTE_HOST_CLOSED)
			break;
		assert_error(s, WK_TEMPORARY);
		ck_assert_uint_eq(wk_socket_bytes_available(s), limit);
		full++;
		n = wk_socket_read(s, buf, CHUNK);
		ck_assert_int_eq(n, CHUNK);
		ck_assert(th_pattern_check(buf, CHUNK, got, seed) < 0);
		sum = th_sum(sum, buf, CHUNK);
		got += CHUNK;
	}
	while ((n = wk_socket_read(s, buf, CHUNK)) > 0) {
		ck_assert(th_pattern_check(buf, (size_t)n, got, seed) < 0);
		sum = th_sum(sum, buf, (size_t)n);
		got += (size_t)n;
	}
	ck_assert_uint_eq(got, size);
	ck_assert_uint_gt(full, 0);
	ck_assert_msg(grown < 64L * MIB, "RSS grew by %ld bytes", grown);
	wk_socket_free(s);
	join_peer(&p);
	/* Every byte was checked on the way; and the checksums agree. */
	ck_assert(sum == p.sum);
	free(buf);
	close(lfd);
}
END_TEST

/* Waits for the client's signal, then reads to EOF. */
static const char *
peer_sink_after_signal(th_peer *p)
{
	if ((p->fd = th_accept(p->lfd, TH_PEER_MSECS)) < 0)
		return "peer: accept failed";
	if (!th_peer_wait_signal(p, 1, TH_PEER_MSECS))
		return "peer: no signal from the client";
	return th_peer_read_to_eof(p);
}

/* 16 MiB queued, then disconnect: all of it arrives, then EOF. */
START_TEST(test_disconnect_delivers)
{
	const size_t size = 16 * MIB;
	const uint32_t seed = 0xd15c;
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	char *data = malloc(size);
	th_peer p;

	ck_assert_ptr_nonnull(data);
	th_pattern(data, size, 0, seed);
	start_peer(&p, lfd, peer_sink_after_signal);
	connect_ok(s, "127.0.0.1", port);
	ck_assert_int_eq(wk_socket_write(s, data, size), (ssize_t)size);
	wk_socket_disconnect(s);
	if (wk_socket_bytes_to_write(s) > 0)
		assert_state(s, WK_STATE_CLOSING);
	th_peer_signal(&p);
	if (wk_socket_state(s) != WK_STATE_UNCONNECTED)
		ck_assert_msg(wk_socket_wait_disconnected(s, 60000),
		    "wait_disconnected: %s", wk_socket_error_string(s));
	assert_state(s, WK_STATE_UNCONNECTED);
	ck_assert_uint_eq(wk_socket_bytes_to_write(s), 0);
	join_peer(&p);
	ck_assert_uint_eq(p.received, size);
	ck_assert(p.sum == th_sum(TH_SUM_INIT, data, size));
	wk_socket_free(s);
	free(data);
	close(lfd);
}
END_TEST

/* abort() drops the queue: the peer gets at most what the kernel took. */
START_TEST(test_abort_drops)
{
	const size_t size = 16 * MIB;
	const uint32_t seed = 0xab0;
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	char *data = malloc(size);
	size_t queued;
	th_peer p;

	ck_assert_ptr_nonnull(data);
	th_pattern(data, size, 0, seed);
	start_peer(&p, lfd, peer_sink_after_signal);
	connect_ok(s, "127.0.0.1", port);
	ck_assert_int_eq(wk_socket_write(s, data, size), (ssize_t)size);
	queued = wk_socket_bytes_to_write(s);
	ck_assert_msg(queued > 0, "the kernel took all 16 MiB: nothing to drop");
	wk_socket_abort(s);
	assert_state(s, WK_STATE_UNCONNECTED);
	ck_assert_uint_eq(wk_socket_bytes_to_write(s), 0);
	ck_assert_uint_eq(wk_socket_bytes_available(s), 0);
	ck_assert_int_eq(wk_socket_descriptor(s), -1);
	ck_assert(!wk_socket_wait_disconnected(s, 0));
	assert_error(s, WK_OPERATION);
	ck_assert_int_eq(wk_socket_write(s, "x", 1), -1);
	assert_error(s, WK_OPERATION);
	th_peer_signal(&p);
	join_peer(&p);
	ck_assert_uint_le(p.received, size - queued);
	ck_assert(p.sum == th_sum(TH_SUM_INIT, data, p.received));
	wk_socket_free(s);
	free(data);
	close(lfd);
}
END_TEST

/* ---------------------------------------------------------------- closing while connecting */

START_TEST(test_disconnect_during_lookup)
{
	static const char *const addrs[] = { "127.0.0.1" };
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	th_peer p;

	/* An answer that takes long: the lookup is still running. */
	th_fake_install("slow.test", addrs, 1, 60000);
	ck_assert(wk_socket_connect(s, "slow.test", port));
	assert_state(s, WK_STATE_HOST_LOOKUP);
	wk_socket_disconnect(s);
	assert_state(s, WK_STATE_UNCONNECTED);
	assert_error(s, WK_NO_ERROR);
	ck_assert_uint_eq(wk_socket_bytes_to_write(s), 0);
	ck_assert(!wk_socket_wait_connected(s, 0));
	assert_error(s, WK_OPERATION);

	/* abort() likewise. */
	ck_assert(wk_socket_connect(s, "slow.test", port));
	assert_state(s, WK_STATE_HOST_LOOKUP);
	wk_socket_abort(s);
	assert_state(s, WK_STATE_UNCONNECTED);

	/* The object is as new: the next connect works. */
	start_peer(&p, lfd, th_peer_echo);
	connect_ok(s, "127.0.0.1", port);
	assert_echo(s, "after the abandoned lookup\n");
	disconnect_ok(s);
	wk_socket_free(s);
	join_peer(&p);
	close(lfd);
}
END_TEST

/* Data queued during the lookup goes out once connected, then EOF. */
START_TEST(test_disconnect_during_lookup_delivers)
{
	static const char *const addrs[] = { "127.0.0.1" };
	static const char msg[] = "queued while looking up\n";
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	th_peer p;

	start_peer(&p, lfd, th_peer_sink);
	th_fake_install("slowdata.test", addrs, 1, 300);
	ck_assert(wk_socket_connect(s, "slowdata.test", port));
	assert_state(s, WK_STATE_HOST_LOOKUP);
	ck_assert_int_eq(wk_socket_write(s, msg, strlen(msg)),
	    (ssize_t)strlen(msg));
	ck_assert_uint_eq(wk_socket_bytes_to_write(s), strlen(msg));
	wk_socket_disconnect(s);
	ck_assert_int_ne(wk_socket_state(s), WK_STATE_UNCONNECTED);
	ck_assert_msg(wk_socket_wait_disconnected(s, TH_WAIT_MSECS),
	    "wait_disconnected: %s (%s), state %s",
	    wk_error_name(wk_socket_error(s)), wk_socket_error_string(s),
	    wk_state_name(wk_socket_state(s)));
	assert_state(s, WK_STATE_UNCONNECTED);
	ck_assert_uint_eq(wk_socket_bytes_to_write(s), 0);
	join_peer(&p);
	ck_assert_uint_eq(p.received, strlen(msg));
	ck_assert(p.sum == th_sum(TH_SUM_INIT, msg, strlen(msg)));
	wk_socket_free(s);
	close(lfd);
}
END_TEST

START_TEST(test_disconnect_during_connect)
{
	static const char msg[] = "queued while connecting\n";
	uint16_t port = 0;
	wk_socket *s;
	int lfd, filler, conn;
	th_peer p;

	if (skip_unless_netns("the disconnect-while-connecting test"))
		return;
	lfd = th_full_listener("127.0.0.1", &port, &filler);
	ck_assert_msg(lfd >= 0, "full listener: %s", strerror(errno));
	s = new_socket();
	/* Nothing queued: given up at once. */
	ck_assert(wk_socket_connect(s, "127.0.0.1", port));
	assert_state(s, WK_STATE_CONNECTING);
	wk_socket_disconnect(s);
	assert_state(s, WK_STATE_UNCONNECTED);
	ck_assert_uint_eq(wk_socket_bytes_to_write(s), 0);
	ck_assert_int_eq(wk_socket_descriptor(s), -1);

	/* Data queued: delivered once the connect completes. */
	ck_assert(wk_socket_connect(s, "127.0.0.1", port));
	ck_assert_int_eq(wk_socket_write(s, msg, strlen(msg)),
	    (ssize_t)strlen(msg));
	wk_socket_disconnect(s);
	assert_state(s, WK_STATE_CONNECTING);
	ck_assert_uint_eq(wk_socket_bytes_to_write(s), strlen(msg));
	/* Make room: the client's next SYN gets into the queue. */
	conn = th_accept(lfd, TH_WAIT_MSECS);
	ck_assert_int_ge(conn, 0);
	close(conn);
	close(filler);
	start_peer(&p, lfd, th_peer_sink);
	ck_assert_msg(wk_socket_wait_disconnected(s, TH_WAIT_MSECS),
	    "wait_disconnected: %s (%s), state %s",
	    wk_error_name(wk_socket_error(s)), wk_socket_error_string(s),
	    wk_state_name(wk_socket_state(s)));
	assert_state(s, WK_STATE_UNCONNECTED);
	join_peer(&p);
	ck_assert_uint_eq(p.received, strlen(msg));
	ck_assert(p.sum == th_sum(TH_SUM_INIT, msg, strlen(msg)));
	wk_socket_free(s);
	close(lfd);
}
END_TEST

/* One object, three connections: by name, by literal, by value. */
START_TEST(test_three_cycles)
{
	uint16_t port = 0;
	int lfd = listen_any(&port);
	wk_addr a = addr_of("127.0.0.1");
	wk_socket *s = new_socket();
	char msg[32];
	th_peer p;

	th_peer_init(&p, lfd);
	p.count = 3;
	ck_assert(th_peer_start(&p, th_peer_echo_many));
	for (int i = 0; i < 3; i++) {
		if (i == 0)
			ck_assert(wk_socket_connect(s, "localhost", port));
		else if (i == 1)
			ck_assert(wk_socket_connect(s, "127.0.0.1", port));
		else
			ck_assert(wk_socket_connect_addr(s, &a, port));
		assert_connected(s);
		snprintf(msg, sizeof(msg), "cycle %d\n", i);
		assert_echo(s, msg);
		disconnect_ok(s);
		ck_assert_uint_eq(wk_socket_bytes_available(s), 0);
	}
	wk_socket_free(s);
	join_peer(&p);
	close(lfd);
}
END_TEST

/* 1,000 connections in a row; no descriptor is left behind. */
START_TEST(test_thousand_connections)
{
	const int count = 1000;
	uint16_t port = 0;
	int before = th_count_fds(), lfd, after = -1;
	th_peer p;

	ck_assert_int_gt(before, 0);
	lfd = th_listen("127.0.0.1", &port, 128);
	ck_assert_int_ge(lfd, 0);
	th_peer_init(&p, lfd);
	p.count = count;
	ck_assert(th_peer_start(&p, th_peer_sink_many));
	for (int i = 0; i < count; i++) {
		wk_socket *s = new_socket();

		ck_assert(wk_socket_connect(s, i % 100 == 0 ? "localhost" :
		    "127.0.0.1", port));
		assert_connected(s);
		if (i % 2) {
			ck_assert_int_eq(wk_socket_write(s, "x", 1), 1);
			disconnect_ok(s);
		}
		wk_socket_free(s);	/* aborts the even ones */
	}
	join_peer(&p);
	ck_assert_uint_eq(p.received, (size_t)count / 2);
	close(lfd);
	/*
	 * The lookups' threads are done with their descriptors after this.
	 * Fewer than before is no leak: with CK_FORK=no, something an
	 * earlier test left may close meanwhile.
	 */
	wk_resolver_shutdown();
	for (int i = 0; i < 1000 && (after = th_count_fds()) > before; i++)
		th_sleep_ms(10);
	ck_assert_int_le(after, before);
}
END_TEST

#define PARALLEL_THREADS 4
#define PARALLEL_CONNECTIONS 25

/*
 * A client thread: p->count connections by name, one after the other,
 * each on a socket of its own and echoed; NULL or what went wrong.
 */
static const char *
client_by_name(th_peer *p)
{
	char buf[16];

	for (int i = 0; i < p->count; i++) {
		wk_socket *s = wk_tcp_socket();
		size_t got = 0;
		ssize_t n;

		if (!s)
			return "client: out of memory";
		if (!wk_socket_connect(s, "localhost", p->port) ||
		    !wk_socket_wait_connected(s, TH_PEER_MSECS) ||
		    wk_socket_write(s, "parallel\n", 9) != 9) {
			wk_socket_free(s);
			return "client: connect or write failed";
		}
		while (got < 9) {
			n = wk_socket_read(s, buf + got, 9 - got);
			if (n < 0 || (n == 0 &&
			    !wk_socket_wait_ready_read(s, TH_PEER_MSECS))) {
				wk_socket_free(s);
				return "client: no echo";
			}
			got += (size_t)n;
		}
		wk_socket_disconnect(s);
		if (wk_socket_state(s) != WK_STATE_UNCONNECTED &&
		    !wk_socket_wait_disconnected(s, TH_PEER_MSECS)) {
			wk_socket_free(s);
			return "client: disconnect failed";
		}
		wk_socket_free(s);
		if (memcmp(buf, "parallel\n", 9) != 0)
			return "client: wrong echo";
		p->received++;
	}
	return NULL;
}

/* Sockets on several threads at once, sharing the resolver pool. */
START_TEST(test_parallel_sockets)
{
	uint16_t port = 0;
	int lfd = listen_any(&port);
	th_peer server, c[PARALLEL_THREADS];

	th_peer_init(&server, lfd);
	server.count = PARALLEL_THREADS * PARALLEL_CONNECTIONS;
	ck_assert(th_peer_start(&server, th_peer_echo_many));
	for (int i = 0; i < PARALLEL_THREADS; i++) {
		th_peer_init(&c[i], -1);
		c[i].port = port;
		c[i].count = PARALLEL_CONNECTIONS;
		ck_assert(th_peer_start(&c[i], client_by_name));
	}
	for (int i = 0; i < PARALLEL_THREADS; i++) {
		join_peer(&c[i]);
		ck_assert_uint_eq(c[i].received, PARALLEL_CONNECTIONS);
	}
	join_peer(&server);
	close(lfd);
}
END_TEST

/* ---------------------------------------------------------------- waits */

/* Sends "x", then "y" at the first signal, closes at the second. */
static const char *
peer_x_then_y(th_peer *p)
{
	if ((p->fd = th_accept(p->lfd, TH_PEER_MSECS)) < 0)
		return "peer: accept failed";
	if (th_write_all(p->fd, "x", 1) != 0)
		return "peer: send failed";
	if (!th_peer_wait_signal(p, 1, TH_PEER_MSECS))
		return "peer: no first signal";
	if (th_write_all(p->fd, "y", 1) != 0)
		return "peer: send failed";
	if (!th_peer_wait_signal(p, 2, TH_PEER_MSECS))
		return "peer: no second signal";
	return NULL;
}

/*
 * msecs 0 and below -1 check once; a timeout leaves the connection
 * open; wait_bytes_written with nothing queued fails at once.
 */
START_TEST(test_wait_msecs)
{
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	char c;
	th_peer p;

	start_peer(&p, lfd, peer_x_then_y);
	connect_ok(s, "127.0.0.1", port);
	ck_assert(!wk_socket_wait_bytes_written(s, 100));
	assert_error(s, WK_OPERATION);
	/* "x" is in the kernel: a wait of 0 sees it. */
	ck_assert(th_poll(wk_socket_descriptor(s), POLLIN, TH_WAIT_MSECS) &
	    POLLIN);
	ck_assert_msg(wk_socket_wait_ready_read(s, 0), "wait 0: %s",
	    wk_socket_error_string(s));
	ck_assert_int_eq(wk_socket_read(s, &c, 1), 1);
	ck_assert_int_eq(c, 'x');
	/* Nothing there: a timeout, and the connection stays. */
	ck_assert(!wk_socket_wait_ready_read(s, 200));
	assert_error(s, WK_SOCKET_TIMEOUT);
	assert_state(s, WK_STATE_CONNECTED);
	ck_assert(!wk_socket_wait_ready_read(s, 0));
	assert_error(s, WK_SOCKET_TIMEOUT);
	assert_state(s, WK_STATE_CONNECTED);
	/* "y" is in the kernel: a wait of -2 is a wait of 0, and sees it. */
	th_peer_signal(&p);
	ck_assert(th_poll(wk_socket_descriptor(s), POLLIN, TH_WAIT_MSECS) &
	    POLLIN);
	ck_assert_msg(wk_socket_wait_ready_read(s, -2), "wait -2: %s",
	    wk_socket_error_string(s));
	ck_assert_int_eq(wk_socket_read(s, &c, 1), 1);
	ck_assert_int_eq(c, 'y');
	th_peer_signal(&p);
	/* Then the close, reported by a wait forever. */
	ck_assert(!wk_socket_wait_ready_read(s, -1));
	assert_error(s, WK_REMOTE_HOST_CLOSED);
	assert_state(s, WK_STATE_UNCONNECTED);
	wk_socket_free(s);
	join_peer(&p);
	close(lfd);
}
END_TEST

/* Waits and I/O on a socket that is not connected. */
START_TEST(test_wait_unconnected)
{
	wk_socket *s = new_socket();
	wk_addr lo = addr_of("127.0.0.1");
	char buf[16];
	void *all = &all;

	ck_assert(!wk_socket_wait_connected(s, 0));
	assert_error(s, WK_OPERATION);
	ck_assert(!wk_socket_wait_connected(s, 100));
	assert_error(s, WK_OPERATION);
	ck_assert(!wk_socket_wait_ready_read(s, 100));
	assert_error(s, WK_OPERATION);
	ck_assert(!wk_socket_wait_bytes_written(s, 100));
	assert_error(s, WK_OPERATION);
	ck_assert(!wk_socket_wait_disconnected(s, 100));
	assert_error(s, WK_OPERATION);
	ck_assert_int_eq(wk_socket_write(s, "x", 1), -1);
	assert_error(s, WK_OPERATION);
	ck_assert_int_eq(wk_socket_read(s, buf, sizeof(buf)), -1);
	assert_error(s, WK_OPERATION);
	ck_assert_int_eq(wk_socket_read_line(s, buf, sizeof(buf)), -1);
	ck_assert_int_eq(wk_socket_peek(s, buf, sizeof(buf)), -1);
	ck_assert_int_eq(wk_socket_read_all(s, &all), -1);
	ck_assert_ptr_null(all);
	ck_assert(!wk_socket_flush(s));
	ck_assert(wk_socket_at_end(s));
	ck_assert(!wk_socket_can_read_line(s));
	/* Bound is not connected either. */
	ck_assert_msg(wk_socket_bind(s, &lo, 0, WK_DEFAULT_FOR_PLATFORM),
	    "bind: %s", wk_socket_error_string(s));
	assert_state(s, WK_STATE_BOUND);
	ck_assert(!wk_socket_wait_ready_read(s, 100));
	assert_error(s, WK_OPERATION);
	ck_assert(!wk_socket_wait_connected(s, 100));
	assert_error(s, WK_OPERATION);
	ck_assert_int_eq(wk_socket_write(s, "x", 1), -1);
	assert_error(s, WK_OPERATION);
	wk_socket_disconnect(s);
	assert_state(s, WK_STATE_UNCONNECTED);
	ck_assert_int_eq(wk_socket_descriptor(s), -1);
	wk_socket_free(s);
}
END_TEST

/* A storm of signals at the test's thread, from a thread of its own. */
static volatile sig_atomic_t storm_hits;

static void
on_storm(int sig)
{
	(void)sig;
	storm_hits++;
}

struct storm {
	pthread_t target, thread;
	volatile int stop;
};

static void *
storm_main(void *arg)
{
	struct storm *st = arg;

	while (!__atomic_load_n(&st->stop, __ATOMIC_ACQUIRE)) {
		pthread_kill(st->target, SIGUSR1);
		th_sleep_ms(1);
	}
	return NULL;
}

static const char *
peer_late_byte(th_peer *p)
{
	if ((p->fd = th_accept(p->lfd, TH_PEER_MSECS)) < 0)
		return "peer: accept failed";
	if (!th_peer_wait_signal(p, 1, TH_PEER_MSECS))
		return "peer: no signal";
	th_sleep_ms(300);
	if (th_write_all(p->fd, "z", 1) != 0)
		return "peer: send failed";
	if (!th_peer_wait_signal(p, 2, TH_PEER_MSECS))
		return "peer: no second signal";
	return NULL;
}

/*
 * Signals without SA_RESTART interrupt the waits' system calls: the
 * waits go on (EINTR retried) and end as they would have.
 */
START_TEST(test_waits_survive_signals)
{
	struct sigaction sa, old;
	struct storm st = { .stop = 0 };
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	char c;
	th_peer p;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_storm;
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGUSR1, &sa, &old), 0);
	start_peer(&p, lfd, peer_late_byte);
	st.target = pthread_self();
	ck_assert_int_eq(pthread_create(&st.thread, NULL, storm_main, &st), 0);
	connect_ok(s, "127.0.0.1", port);
	/* Nothing comes: the timeout, not EINTR, ends the wait. */
	ck_assert(!wk_socket_wait_ready_read(s, 300));
	assert_error(s, WK_SOCKET_TIMEOUT);
	assert_state(s, WK_STATE_CONNECTED);
	/* A byte comes later: the wait sees it. */
	th_peer_signal(&p);
	ck_assert_msg(wk_socket_wait_ready_read(s, TH_WAIT_MSECS), "wait: %s",
	    wk_socket_error_string(s));
	ck_assert_int_eq(wk_socket_read(s, &c, 1), 1);
	ck_assert_int_eq(c, 'z');
	__atomic_store_n(&st.stop, 1, __ATOMIC_RELEASE);
	pthread_join(st.thread, NULL);
	ck_assert_int_eq(sigaction(SIGUSR1, &old, NULL), 0);
	ck_assert_int_gt(storm_hits, 0);	/* the signals did come */
	th_peer_signal(&p);
	wk_socket_free(s);
	join_peer(&p);
	close(lfd);
}
END_TEST

/* ---------------------------------------------------------------- api */

START_TEST(test_null_arguments)
{
	wk_socket *s = new_socket();
	wk_addr null_addr = { 0 }, lo = addr_of("127.0.0.1");
	char buf[8];
	void *all = NULL;
	int v;

	/* A NULL socket: nothing happens, nothing crashes. */
	wk_socket_free(NULL);
	ck_assert_int_eq(wk_socket_state(NULL), WK_STATE_UNCONNECTED);
	ck_assert_int_eq(wk_socket_error(NULL), WK_INVALID_ARGUMENT);
	ck_assert_ptr_nonnull(wk_socket_error_string(NULL));
	(void)wk_socket_get_type(NULL);
	ck_assert(!wk_socket_set_family(NULL, WK_FAMILY_ANY));
	ck_assert(!wk_socket_set_connect_timeout(NULL, 10));
	ck_assert(!wk_socket_connect(NULL, "127.0.0.1", 1));
	ck_assert(!wk_socket_connect_addr(NULL, &lo, 1));
	ck_assert(!wk_socket_wait_connected(NULL, 0));
	ck_assert_int_eq(wk_socket_read(NULL, buf, sizeof(buf)), -1);
	ck_assert_int_eq(wk_socket_read_line(NULL, buf, sizeof(buf)), -1);
	ck_assert_int_eq(wk_socket_peek(NULL, buf, sizeof(buf)), -1);
	ck_assert_int_eq(wk_socket_read_all(NULL, &all), -1);
	ck_assert_uint_eq(wk_socket_bytes_available(NULL), 0);
	ck_assert(!wk_socket_can_read_line(NULL));
	ck_assert(wk_socket_at_end(NULL));
	ck_assert(!wk_socket_wait_ready_read(NULL, 0));
	ck_assert(!wk_socket_set_read_buffer_size(NULL, 1));
	ck_assert_uint_eq(wk_socket_read_buffer_size(NULL), 0);
	ck_assert_int_eq(wk_socket_write(NULL, "x", 1), -1);
	ck_assert_uint_eq(wk_socket_bytes_to_write(NULL), 0);
	ck_assert(!wk_socket_flush(NULL));
	ck_assert(!wk_socket_wait_bytes_written(NULL, 0));
	wk_socket_disconnect(NULL);
	ck_assert(!wk_socket_wait_disconnected(NULL, 0));
	wk_socket_abort(NULL);
	{
		wk_addr a = wk_socket_peer_address(NULL);

		ck_assert(wk_addr_is_null(&a));
		a = wk_socket_local_address(NULL);
		ck_assert(wk_addr_is_null(&a));
	}
	ck_assert_uint_eq(wk_socket_peer_port(NULL), 0);
	ck_assert_ptr_nonnull(wk_socket_peer_name(NULL));
	ck_assert_uint_eq(wk_socket_local_port(NULL), 0);
	ck_assert(!wk_socket_set_option(NULL, WK_OPT_LOW_DELAY, 1));
	ck_assert(!wk_socket_get_option(NULL, WK_OPT_LOW_DELAY, &v));
	ck_assert(!wk_socket_bind(NULL, &lo, 0, 0));
	ck_assert(!wk_socket_set_descriptor(NULL, 0, WK_STATE_CONNECTED));
	ck_assert_int_eq(wk_socket_descriptor(NULL), -1);

	/* A real socket, NULL or null arguments: WK_INVALID_ARGUMENT. */
	ck_assert(!wk_socket_connect(s, NULL, 1));
	assert_error(s, WK_INVALID_ARGUMENT);
	ck_assert(!wk_socket_connect_addr(s, NULL, 1));
	assert_error(s, WK_INVALID_ARGUMENT);
	ck_assert(!wk_socket_connect_addr(s, &null_addr, 1));
	assert_error(s, WK_INVALID_ARGUMENT);
	ck_assert_int_eq(wk_socket_read(s, NULL, 4), -1);
	assert_error(s, WK_INVALID_ARGUMENT);
	ck_assert_int_eq(wk_socket_peek(s, NULL, 4), -1);
	assert_error(s, WK_INVALID_ARGUMENT);
	ck_assert_int_eq(wk_socket_read_line(s, NULL, 4), -1);
	assert_error(s, WK_INVALID_ARGUMENT);
	ck_assert_int_eq(wk_socket_read_all(s, NULL), -1);
	assert_error(s, WK_INVALID_ARGUMENT);
	ck_assert_int_eq(wk_socket_write(s, NULL, 4), -1);
	assert_error(s, WK_INVALID_ARGUMENT);
	ck_assert(!wk_socket_get_option(s, WK_OPT_LOW_DELAY, NULL));
	assert_error(s, WK_INVALID_ARGUMENT);
	ck_assert(!wk_socket_bind(s, &null_addr, 0, 0));
	assert_error(s, WK_INVALID_ARGUMENT);
	ck_assert(!wk_socket_set_family(s, (wk_family)99));
	assert_error(s, WK_INVALID_ARGUMENT);
	/* The next call that succeeds clears the error. */
	ck_assert(wk_socket_set_family(s, WK_FAMILY_ANY));
	assert_error(s, WK_NO_ERROR);
	assert_state(s, WK_STATE_UNCONNECTED);
	wk_socket_free(s);
}
END_TEST

/* NULL buffers on a live connection leave it alone. */
START_TEST(test_null_buffers_connected)
{
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	th_peer p;

	start_peer(&p, lfd, th_peer_echo);
	connect_ok(s, "127.0.0.1", port);
	ck_assert_int_eq(wk_socket_write(s, NULL, 4), -1);
	assert_error(s, WK_INVALID_ARGUMENT);
	ck_assert_int_eq(wk_socket_read(s, NULL, 4), -1);
	assert_error(s, WK_INVALID_ARGUMENT);
	ck_assert_int_eq(wk_socket_read_line(s, NULL, 4), -1);
	assert_error(s, WK_INVALID_ARGUMENT);
	assert_state(s, WK_STATE_CONNECTED);
	assert_echo(s, "unharmed\n");
	disconnect_ok(s);
	wk_socket_free(s);
	join_peer(&p);
	close(lfd);
}
END_TEST

static int
raw_option(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	ck_assert_int_eq(getsockopt(fd, level, name, &v, &len), 0);
	return v;
}

START_TEST(test_options)
{
	uint16_t port = 0;
	int lfd = listen_any(&port), v, fd;
	wk_socket *s = new_socket();
	th_peer p;

	/* Before a descriptor exists: stored. */
	ck_assert(wk_socket_set_option(s, WK_OPT_LOW_DELAY, 1));
	ck_assert(wk_socket_set_option(s, WK_OPT_KEEP_ALIVE, 1));
	ck_assert(wk_socket_get_option(s, WK_OPT_LOW_DELAY, &v));
	ck_assert_int_eq(v, 1);
	ck_assert(wk_socket_get_option(s, WK_OPT_KEEP_ALIVE, &v));
	ck_assert_int_eq(v, 1);
	/* ... and applied to the connection. */
	th_peer_init(&p, lfd);
	p.count = 2;
	ck_assert(th_peer_start(&p, th_peer_echo_many));
	connect_ok(s, "127.0.0.1", port);
	fd = wk_socket_descriptor(s);
	/* Read only; before IP_TOS is set, which drops the cached route. */
	ck_assert_msg(wk_socket_get_option(s, WK_OPT_PATH_MTU, &v),
	    "get path MTU: %s", wk_socket_error_string(s));
	ck_assert_int_gt(v, 0);
	ck_assert_int_ne(raw_option(fd, IPPROTO_TCP, TCP_NODELAY), 0);
	ck_assert_int_ne(raw_option(fd, SOL_SOCKET, SO_KEEPALIVE), 0);
	ck_assert(wk_socket_get_option(s, WK_OPT_LOW_DELAY, &v));
	ck_assert_int_eq(v, 1);
	ck_assert(wk_socket_get_option(s, WK_OPT_KEEP_ALIVE, &v));
	ck_assert_int_eq(v, 1);
	/* Set while connected. */
	ck_assert(wk_socket_set_option(s, WK_OPT_LOW_DELAY, 0));
	ck_assert(wk_socket_get_option(s, WK_OPT_LOW_DELAY, &v));
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(raw_option(fd, IPPROTO_TCP, TCP_NODELAY), 0);
	ck_assert(wk_socket_set_option(s, WK_OPT_LOW_DELAY, 1));
	ck_assert(wk_socket_get_option(s, WK_OPT_LOW_DELAY, &v));
	ck_assert_int_eq(v, 1);
	ck_assert(wk_socket_set_option(s, WK_OPT_SEND_BUFFER_SIZE, 65536));
	ck_assert(wk_socket_get_option(s, WK_OPT_SEND_BUFFER_SIZE, &v));
	ck_assert_int_ge(v, 65536);
	ck_assert(wk_socket_set_option(s, WK_OPT_TYPE_OF_SERVICE, 0x10));
	ck_assert(wk_socket_get_option(s, WK_OPT_TYPE_OF_SERVICE, &v));
	ck_assert_int_eq(v, 0x10);
	/* Read only, and unknown options. */
	ck_assert(!wk_socket_set_option(s, WK_OPT_PATH_MTU, 1000));
	assert_error(s, WK_INVALID_ARGUMENT);
	ck_assert(!wk_socket_set_option(s, (wk_socket_option)99, 1));
	assert_error(s, WK_INVALID_ARGUMENT);
	ck_assert(!wk_socket_get_option(s, (wk_socket_option)99, &v));
	assert_error(s, WK_INVALID_ARGUMENT);
	assert_echo(s, "options\n");
	disconnect_ok(s);

	/* Set before a connect by name: applied after the lookup. */
	wk_socket_free(s);
	s = new_socket();
	ck_assert(wk_socket_set_option(s, WK_OPT_KEEP_ALIVE, 1));
	ck_assert(wk_socket_set_option(s, WK_OPT_LOW_DELAY, 1));
	connect_ok(s, "localhost", port);
	fd = wk_socket_descriptor(s);
	ck_assert_int_ne(raw_option(fd, SOL_SOCKET, SO_KEEPALIVE), 0);
	ck_assert_int_ne(raw_option(fd, IPPROTO_TCP, TCP_NODELAY), 0);
	assert_echo(s, "options by name\n");
	disconnect_ok(s);
	wk_socket_free(s);
	join_peer(&p);
	close(lfd);
}
END_TEST

START_TEST(test_set_descriptor_invalid)
{
	wk_socket *s = new_socket();
	int fds[2], udp;

	ck_assert(!wk_socket_set_descriptor(s, -1, WK_STATE_CONNECTED));
	assert_error(s, WK_UNSUPPORTED_OPERATION);
	ck_assert_int_eq(wk_socket_descriptor(s), -1);
	assert_state(s, WK_STATE_UNCONNECTED);
	ck_assert(!wk_socket_set_descriptor(s, -5, WK_STATE_UNCONNECTED));
	assert_error(s, WK_UNSUPPORTED_OPERATION);
	ck_assert_int_eq(wk_socket_descriptor(s), -1);
	/* Not a TCP socket: refused, and left open. */
	ck_assert_int_eq(pipe(fds), 0);
	ck_assert(!wk_socket_set_descriptor(s, fds[0], WK_STATE_CONNECTED));
	assert_error(s, WK_UNSUPPORTED_OPERATION);
	ck_assert_int_eq(wk_socket_descriptor(s), -1);
	ck_assert_int_ne(fcntl(fds[0], F_GETFD), -1);
	udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(udp, 0);
	ck_assert(!wk_socket_set_descriptor(s, udp, WK_STATE_UNCONNECTED));
	assert_error(s, WK_UNSUPPORTED_OPERATION);
	ck_assert_int_eq(wk_socket_descriptor(s), -1);
	wk_socket_free(s);
	close(fds[0]);
	close(fds[1]);
	close(udp);
}
END_TEST

START_TEST(test_adopt_connected)
{
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port), fd;
	wk_socket *s = new_socket();
	char buf[8];
	th_peer p;

	start_peer(&p, lfd, th_peer_echo);
	/* Blocking and without close-on-exec: the adopter sees to both. */
	fd = th_connect("127.0.0.1", port);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fcntl(fd, F_SETFD, 0), 0);
	ck_assert_msg(wk_socket_set_descriptor(s, fd, WK_STATE_CONNECTED),
	    "set_descriptor: %s", wk_socket_error_string(s));
	ck_assert_int_eq(wk_socket_descriptor(s), fd);
	assert_state(s, WK_STATE_CONNECTED);
	ck_assert_uint_eq(wk_socket_peer_port(s), port);
	assert_peer_is(s, "127.0.0.1");
	ck_assert_str_eq(wk_socket_peer_name(s), "");
	ck_assert_uint_ne(wk_socket_local_port(s), 0);
	ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	/* Nothing to read: 0 at once (a blocking recv would hang here). */
	ck_assert_int_eq(wk_socket_read(s, buf, sizeof(buf)), 0);
	assert_echo(s, "through an adopted descriptor\n");
	disconnect_ok(s);
	wk_socket_free(s);
	join_peer(&p);
	close(lfd);
}
END_TEST

START_TEST(test_adopt_unconnected)
{
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	wk_socket *s = new_socket();
	th_peer p;

	ck_assert_int_ge(fd, 0);
	start_peer(&p, lfd, th_peer_echo);
	ck_assert_msg(wk_socket_set_descriptor(s, fd, WK_STATE_UNCONNECTED),
	    "set_descriptor: %s", wk_socket_error_string(s));
	ck_assert_int_eq(wk_socket_descriptor(s), fd);
	connect_ok(s, "127.0.0.1", port);
	assert_echo(s, "adopted, then connected\n");
	disconnect_ok(s);
	wk_socket_free(s);
	join_peer(&p);
	close(lfd);
}
END_TEST

/* bind() first: the connection comes from the bound port. */
START_TEST(test_bind_then_connect)
{
	uint16_t port = 0, bound;
	int lfd = listen_on("127.0.0.1", &port);
	wk_addr lo = addr_of("127.0.0.1"), local;
	wk_socket *s = new_socket();
	th_peer p;

	start_peer(&p, lfd, th_peer_echo);
	ck_assert_msg(wk_socket_bind(s, &lo, 0, WK_DEFAULT_FOR_PLATFORM),
	    "bind: %s", wk_socket_error_string(s));
	assert_state(s, WK_STATE_BOUND);
	bound = wk_socket_local_port(s);
	ck_assert_uint_ne(bound, 0);
	local = wk_socket_local_address(s);
	ck_assert(wk_addr_equal(&local, &lo, WK_ADDR_CMP_STRICT));
	ck_assert(!wk_socket_bind(s, &lo, 0, 0));
	assert_error(s, WK_OPERATION);
	connect_ok(s, "127.0.0.1", port);
	ck_assert_uint_eq(wk_socket_local_port(s), bound);
	assert_echo(s, "from the bound port\n");
	disconnect_ok(s);
	wk_socket_free(s);
	join_peer(&p);
	ck_assert_uint_eq(p.peer_port, bound);
	close(lfd);
}
END_TEST

/* bind(NULL) is dual-stack any: an IPv4 peer is reachable from it. */
START_TEST(test_bind_any_then_connect_ipv4)
{
	uint16_t port = 0, bound;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	th_peer p;

	if (!th_ipv6_loopback()) {
		fprintf(stderr, "skip: no IPv6 here, bind(NULL) is IPv4\n");
		wk_socket_free(s);
		close(lfd);
		return;
	}
	start_peer(&p, lfd, th_peer_echo);
	ck_assert_msg(wk_socket_bind(s, NULL, 0, WK_DEFAULT_FOR_PLATFORM),
	    "bind: %s", wk_socket_error_string(s));
	bound = wk_socket_local_port(s);
	ck_assert_uint_ne(bound, 0);
	ck_assert_msg(wk_socket_connect(s, "127.0.0.1", port) &&
	    wk_socket_wait_connected(s, TH_WAIT_MSECS),
	    "connect from a dual-stack bound socket: %s (%s)",
	    wk_error_name(wk_socket_error(s)), wk_socket_error_string(s));
	ck_assert_uint_eq(wk_socket_local_port(s), bound);
	assert_echo(s, "from dual-stack any\n");
	disconnect_ok(s);
	wk_socket_free(s);
	join_peer(&p);
	close(lfd);
}
END_TEST

/* Out of descriptors: WK_SOCKET_RESOURCE, and the socket stays usable. */
START_TEST(test_descriptors_exhausted)
{
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	th_peer p;

	ck_assert_int_eq(th_fd_exhaust(), 0);
	if (wk_socket_connect(s, "127.0.0.1", port))
		ck_assert(!wk_socket_wait_connected(s, TH_WAIT_MSECS));
	assert_error(s, WK_SOCKET_RESOURCE);
	assert_state(s, WK_STATE_UNCONNECTED);
	if (wk_socket_connect(s, "localhost", port))
		ck_assert(!wk_socket_wait_connected(s, TH_WAIT_MSECS));
	assert_error(s, WK_SOCKET_RESOURCE);
	assert_state(s, WK_STATE_UNCONNECTED);
	th_fd_restore();
	/* The same object, descriptors back: it connects. */
	start_peer(&p, lfd, th_peer_echo);
	connect_ok(s, "127.0.0.1", port);
	assert_echo(s, "descriptors again\n");
	disconnect_ok(s);
	wk_socket_free(s);
	join_peer(&p);
	close(lfd);
}
END_TEST

/* ---------------------------------------------------------------- main */

static TCase *
tcase(Suite *s, const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, NULL, teardown);
	suite_add_tcase(s, tc);
	return tc;
}

int
main(void)
{
	Suite *s = suite_create("tcp");
	TCase *tc;
	SRunner *sr;
	int failed;

	/* Everything runs in the namespace when it can be had. */
	failed = wk_test_enter_netns("nameserver 127.0.0.1\n");
	if (failed == WK_TEST_HARD_ERROR)
		return failed;
	in_netns = failed == 0;
	if (!in_netns)
		fprintf(stderr, "note: no network namespace: the tests that "
		    "need one are skipped\n");

	tc = tcase(s, "connect");
	tcase_add_test(tc, test_connect_localhost);
	tcase_add_test(tc, test_connect_ipv4_literal);
	tcase_add_test(tc, test_connect_ipv6_literal);
	tcase_add_test(tc, test_connect_addr);
	tcase_add_test(tc, test_state_sequence);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_connect_timeout);
	tcase_add_test(tc, test_connect_twice);
	tc = tcase(s, "happy_eyeballs");
	tcase_add_test(tc, test_fallback);
	tcase_add_test(tc, test_fallback_all_refused);
	tcase_add_test(tc, test_host_not_found);
	tcase_add_test(tc, test_happy_eyeballs_v6_slow);
	tcase_add_test(tc, test_family_preference);
	tcase_add_test(tc, test_all_attempts_time_out);
	tc = tcase(s, "data");
	tcase_add_test(tc, test_bulk_both_ways);
	tcase_add_test(tc, test_read_line_chunks);
	tcase_add_test(tc, test_read_line_long);
	tcase_add_test(tc, test_read_line_over_limit);
	tcase_add_test(tc, test_peer_reset_writing);
	tcase_add_test(tc, test_peer_reset_reading);
	tcase_add_test(tc, test_peer_close_buffered);
	tcase_add_test(tc, test_write_after_peer_closed);
	tcase_add_test(tc, test_close_write);
	tcase_add_test(tc, test_peek_and_read_all);
	tcase_add_test(tc, test_wait_bytes_written);
	tcase_add_test(tc, test_wait_disconnected_by_peer);
	tc = tcase(s, "closing");
	tcase_add_test(tc, test_disconnect_delivers);
	tcase_add_test(tc, test_abort_drops);
	tcase_add_test(tc, test_disconnect_during_lookup);
	tcase_add_test(tc, test_lookup_timeout);
	tcase_add_test(tc, test_disconnect_during_lookup_delivers);
	tcase_add_test(tc, test_disconnect_during_connect);
	tcase_add_test(tc, test_three_cycles);
	tc = tcase(s, "limits");
	tcase_add_test(tc, test_read_buffer_limit);
	tcase_add_test(tc, test_thousand_connections);
	tcase_add_test(tc, test_parallel_sockets);
	tc = tcase(s, "waits");
	tcase_add_test(tc, test_wait_msecs);
	tcase_add_test(tc, test_wait_unconnected);
	tcase_add_test(tc, test_waits_survive_signals);
	tc = tcase(s, "api");
	tcase_add_test(tc, test_null_arguments);
	tcase_add_test(tc, test_null_buffers_connected);
	tcase_add_test(tc, test_options);
	tcase_add_test(tc, test_set_descriptor_invalid);
	tcase_add_test(tc, test_adopt_connected);
	tcase_add_test(tc, test_adopt_unconnected);
	tcase_add_test(tc, test_bind_then_connect);
	tcase_add_test(tc, test_bind_any_then_connect_ipv4);
	tcase_add_test(tc, test_descriptors_exhausted);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	/* With CK_FORK=no the pool ran here; let valgrind see it gone. */
	wk_resolver_shutdown();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
