/*
 * check_udp.c - UDP sockets end to end: datagrams over loopback, bind
 * modes, connected UDP, broadcast, multicast and source-specific
 * multicast, options, a flood
 *
 * Network rule: datagrams go to loopback only (127.0.0.0/8, ::1), or,
 * when run as root, inside the program's own network namespace
 * (tests/netns.h), where lo gets a multicast route (IPv4 multicast)
 * and a veth pair gets 10.99.0.1/24 (broadcast) and fd99::1, fd99::2
 * (IPv6 multicast).  Nothing is sent to the host's network.
 * The broadcast and multicast tests are skipped outside the namespace.
 *
 * No test asserts an elapsed time.  WK_TEST_SMALL=1 (for valgrind)
 * makes the flood smaller.
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <wirekit/addr.h>
#include <wirekit/iface.h>
#include <wirekit/lookup.h>
#include <wirekit/socket.h>
#include <wirekit/udp.h>

#include "netns.h"
#include "tcp_helpers.h"

#define MAX_V4 65507		/* 65535 - 20 (IPv4) - 8 (UDP) */
#define MAX_V6 65527		/* 65535 - 8 (UDP); the IPv6 header is apart */
#define BUF_SIZE 65536

#define GROUP_V4 "239.255.43.21"
#define GROUP_V6 "ff12::2115"
/* The broadcast network, on a veth inside the namespace only. */
#define BCAST_LOCAL "10.99.0.1"
#define BCAST_ADDR "10.99.0.255"
/* The veth inside the namespace, for broadcast and IPv6 multicast. */
#define VETH "wkb0"
#define SRC6_A "fd99::1"
#define SRC6_B "fd99::2"

/* Set in main(): the program runs in a namespace of its own. */
static bool in_netns;
/* Set in main(): the namespace's veth carries IPv6 multicast. */
static bool mc6_ready;
/* Set in main(): the veth for broadcast is up. */
static bool bcast_ready;

/* ---------------------------------------------------------------- helpers */

#define assert_error(s, code) \
	ck_assert_msg(wk_socket_error(s) == (code), \
	    "error %s (\"%s\"), want %s", wk_error_name(wk_socket_error(s)), \
	    wk_socket_error_string(s), wk_error_name(code))

#define assert_state(s, want) \
	ck_assert_msg(wk_socket_state(s) == (want), "state %s, want %s", \
	    wk_state_name(wk_socket_state(s)), wk_state_name(want))

static bool
skip_outside_netns(const char *what)
{
	if (in_netns)
		return false;
	fprintf(stderr, "skip: %s needs the test's network namespace "
	    "(run as root)\n", what);
	return true;
}

static wk_addr
addr_of(const char *text)
{
	wk_addr a;

	ck_assert_msg(wk_addr_parse(&a, text), "parse %s", text);
	return a;
}

/* A pointer to a parsed address, for one call's argument. */
#define ADDR(text) (&(wk_addr[1]){ addr_of(text) }[0])

static wk_socket *
new_udp(void)
{
	wk_socket *s = wk_udp_socket();

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(wk_socket_get_type(s), WK_SOCKET_UDP);
	assert_state(s, WK_STATE_UNCONNECTED);
	return s;
}

/* A socket bound to text (NULL: dual-stack any) and port; its port. */
static uint16_t
bind_to(wk_socket *s, const char *text, uint16_t port, unsigned flags)
{
	wk_addr a;

	if (text)
		a = addr_of(text);
	ck_assert_msg(wk_socket_bind(s, text ? &a : NULL, port, flags),
	    "bind %s port %u: %s", text ? text : "(any)", (unsigned)port,
	    wk_socket_error_string(s));
	assert_state(s, WK_STATE_BOUND);
	ck_assert_uint_ne(wk_socket_local_port(s), 0);
	if (port)
		ck_assert_uint_eq(wk_socket_local_port(s), port);
	return wk_socket_local_port(s);
}

static wk_socket *
bound_udp(const char *text, uint16_t *port)
{
	wk_socket *s = new_udp();

	*port = bind_to(s, text, 0, WK_DEFAULT_FOR_PLATFORM);
	return s;
}

static void
send_to(wk_socket *s, const void *buf, size_t n, const char *to,
    uint16_t port)
{
	wk_addr a = addr_of(to);

	ck_assert_msg(wk_udp_write_datagram(s, buf, n, &a, port) == (ssize_t)n,
	    "write %zu bytes to %s port %u: %s", n, to, (unsigned)port,
	    wk_socket_error_string(s));
}

/* Waits for the next datagram and reads it; its size. */
static ssize_t
recv_next(wk_socket *s, void *buf, size_t size, wk_addr *from,
    uint16_t *port)
{
	ssize_t n;

	ck_assert_msg(wk_socket_wait_ready_read(s, TH_WAIT_MSECS),
	    "wait_ready_read: %s", wk_socket_error_string(s));
	n = wk_udp_read_datagram(s, buf, size, from, port);
	ck_assert_msg(n >= 0, "read_datagram: %s", wk_socket_error_string(s));
	return n;
}

/* Waits for the next datagram; asserts it is the text want. */
static void
expect_text(wk_socket *s, const char *want)
{
	char buf[256];
	ssize_t n = recv_next(s, buf, sizeof(buf) - 1, NULL, NULL);

	buf[n] = '\0';
	ck_assert_msg(n == (ssize_t)strlen(want) && memcmp(buf, want, n) == 0,
	    "got \"%s\" (%zd bytes), want \"%s\"", buf, n, want);
}

static void
assert_addr(const wk_addr *got, const char *want)
{
	wk_addr w = addr_of(want);
	char text[WK_ADDR_STRLEN];

	wk_addr_format(got, text, sizeof(text));
	ck_assert_msg(wk_addr_equal(got, &w, WK_ADDR_CMP_STRICT),
	    "address %s (family %d), want %s", text, got->family, want);
}

/* Nothing waits: every reading call says so. */
static void
assert_empty(wk_socket *s)
{
	char c;

	ck_assert(!wk_udp_has_pending_datagrams(s));
	ck_assert_int_eq(wk_udp_pending_datagram_size(s), -1);
	assert_error(s, WK_TEMPORARY);
	ck_assert_int_eq(wk_udp_read_datagram(s, &c, 1, NULL, NULL), -1);
	assert_error(s, WK_TEMPORARY);
}

/* A UDP port that nothing listens on (bound a moment ago, then closed). */
static uint16_t
dead_udp_port(const char *text)
{
	uint16_t port;
	wk_socket *s = bound_udp(text, &port);

	wk_socket_free(s);
	return port;
}

/* Bytes with NULs among them: a pattern with every 7th byte zero. */
static void
fill(unsigned char *buf, size_t n, uint32_t seed)
{
	th_pattern(buf, n, 0, seed);
	for (size_t i = 0; i < n; i += 7)
		buf[i] = '\0';
}

/* ---------------------------------------------------------------- datagrams */

/* Two bound sockets on loop exchange datagrams of each size. */
static void
exchange(const char *loop)
{
	static const size_t sizes[] = { 0, 1, 600, MAX_V4 };
	unsigned char *out = malloc(BUF_SIZE), *in = malloc(BUF_SIZE);
	uint16_t rport, sport, from_port;
	wk_socket *r = bound_udp(loop, &rport);
	wk_socket *s = bound_udp(loop, &sport);
	wk_addr from;

	ck_assert(out && in);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];

		fill(out, n, (uint32_t)i + 1);
		send_to(s, out, n, loop, rport);
		ck_assert(wk_socket_wait_ready_read(r, TH_WAIT_MSECS));
		ck_assert(wk_udp_has_pending_datagrams(r));
		ck_assert_int_eq(wk_udp_pending_datagram_size(r), (ssize_t)n);
		memset(in, 0xa5, BUF_SIZE);
		ck_assert_int_eq(wk_udp_read_datagram(r, in, BUF_SIZE, &from,
		    &from_port), (ssize_t)n);
		ck_assert(memcmp(in, out, n) == 0);
		assert_addr(&from, loop);
		ck_assert_uint_eq(from_port, sport);
		assert_empty(r);
		/* And back: the receiver answers to the reported sender. */
		send_to(r, out, n, loop, from_port);
		ck_assert_int_eq(recv_next(s, in, BUF_SIZE, &from, &from_port),
		    (ssize_t)n);
		ck_assert(memcmp(in, out, n) == 0);
		ck_assert_uint_eq(from_port, rport);
	}
	wk_socket_free(r);
	wk_socket_free(s);
	free(out);
	free(in);
}

START_TEST(test_exchange_ipv4)
{
	exchange("127.0.0.1");
}
END_TEST

START_TEST(test_exchange_ipv6)
{
	if (!th_ipv6_loopback()) {
		fprintf(stderr, "skip: no ::1 here\n");
		return;
	}
	exchange("::1");
}
END_TEST

START_TEST(test_empty_datagram)
{
	uint16_t rport, sport;
	wk_socket *r = bound_udp("127.0.0.1", &rport);
	wk_socket *s = bound_udp("127.0.0.1", &sport);
	char c = 'x';

	assert_empty(r);
	ck_assert_int_eq(wk_udp_write_datagram(s, NULL, 0,
	    &(wk_addr){ 0 }, rport), -1);
	assert_error(s, WK_INVALID_ARGUMENT);
	send_to(s, NULL, 0, "127.0.0.1", rport);
	ck_assert(wk_socket_wait_ready_read(r, TH_WAIT_MSECS));
	ck_assert(wk_udp_has_pending_datagrams(r));
	ck_assert_int_eq(wk_udp_pending_datagram_size(r), 0);
	assert_error(r, WK_NO_ERROR);
	ck_assert_int_eq(wk_udp_read_datagram(r, &c, 1, NULL, NULL), 0);
	ck_assert_int_eq(c, 'x');
	assert_empty(r);
	wk_socket_free(r);
	wk_socket_free(s);
}
END_TEST

START_TEST(test_truncating_read)
{
	unsigned char out[600], in[600];
	uint16_t rport, sport, port;
	wk_socket *r = bound_udp("127.0.0.1", &rport);
	wk_socket *s = bound_udp("127.0.0.1", &sport);
	wk_addr from;

	fill(out, sizeof(out), 9);
	out[0] = 'A';	/* not a NUL: the first byte is checked too */
	send_to(s, out, sizeof(out), "127.0.0.1", rport);
	send_to(s, "next!", 5, "127.0.0.1", rport);
	ck_assert_int_eq(recv_next(r, in, 10, &from, &port), 10);
	ck_assert(memcmp(in, out, 10) == 0);
	assert_addr(&from, "127.0.0.1");
	ck_assert_uint_eq(port, sport);
	/* The rest of the 600 bytes is gone: the next read is "next!". */
	ck_assert_int_eq(wk_udp_pending_datagram_size(r), 5);
	ck_assert_int_eq(recv_next(r, in, sizeof(in), NULL, NULL), 5);
	ck_assert(memcmp(in, "next!", 5) == 0);
	assert_empty(r);
	/* A zero-size buffer takes a whole datagram too. */
	send_to(s, out, sizeof(out), "127.0.0.1", rport);
	send_to(s, "last", 4, "127.0.0.1", rport);
	ck_assert_int_eq(recv_next(r, NULL, 0, NULL, NULL), 0);
	expect_text(r, "last");
	wk_socket_free(r);
	wk_socket_free(s);
}
END_TEST

START_TEST(test_too_large)
{
	unsigned char *buf = calloc(1, MAX_V6 + 2);
	uint16_t rport, sport;
	wk_socket *r = bound_udp("127.0.0.1", &rport);
	wk_socket *s = bound_udp("127.0.0.1", &sport);
	wk_socket *u = new_udp();
	wk_addr lo4 = addr_of("127.0.0.1");

	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(wk_udp_write_datagram(s, buf, MAX_V4 + 1, &lo4,
	    rport), -1);
	assert_error(s, WK_DATAGRAM_TOO_LARGE);
	assert_state(s, WK_STATE_BOUND);
	/* A dual-stack socket (bound by the write) sends IPv4 the same way. */
	ck_assert_int_eq(wk_udp_write_datagram(u, buf, MAX_V4 + 1, &lo4,
	    rport), -1);
	assert_error(u, WK_DATAGRAM_TOO_LARGE);
	/* The limit itself goes through. */
	send_to(u, buf, MAX_V4, "127.0.0.1", rport);
	ck_assert_int_eq(recv_next(r, buf, MAX_V6 + 2, NULL, NULL), MAX_V4);
	assert_empty(r);
	if (th_ipv6_loopback()) {
		wk_addr lo6 = addr_of("::1");
		uint16_t p6;
		wk_socket *r6 = bound_udp("::1", &p6);

		ck_assert_int_eq(wk_udp_write_datagram(u, buf, MAX_V6 + 1,
		    &lo6, p6), -1);
		assert_error(u, WK_DATAGRAM_TOO_LARGE);
		send_to(u, buf, MAX_V6, "::1", p6);
		ck_assert_int_eq(recv_next(r6, buf, MAX_V6 + 2, NULL, NULL),
		    MAX_V6);
		wk_socket_free(r6);
	}
	wk_socket_free(r);
	wk_socket_free(s);
	wk_socket_free(u);
	free(buf);
}
END_TEST

START_TEST(test_write_binds)
{
	uint16_t rport, port;
	wk_socket *r = bound_udp("127.0.0.1", &rport);
	wk_socket *s = new_udp();
	wk_addr from;

	ck_assert_uint_eq(wk_socket_local_port(s), 0);
	send_to(s, "hello", 5, "127.0.0.1", rport);
	assert_state(s, WK_STATE_BOUND);
	ck_assert_uint_ne(wk_socket_local_port(s), 0);
	ck_assert_int_eq(recv_next(r, (char[8]){ 0 }, 8, &from, &port), 5);
	ck_assert_uint_eq(port, wk_socket_local_port(s));
	assert_addr(&from, "127.0.0.1");
	/* Bound now: a bind is refused, a second write keeps the port. */
	ck_assert(!wk_socket_bind(s, NULL, 0, 0));
	assert_error(s, WK_OPERATION);
	send_to(s, "again", 5, "127.0.0.1", rport);
	ck_assert_int_eq(recv_next(r, (char[8]){ 0 }, 8, NULL, &port), 5);
	ck_assert_uint_eq(port, wk_socket_local_port(s));
	wk_socket_free(r);
	wk_socket_free(s);
}
END_TEST

START_TEST(test_dual_stack)
{
	uint16_t rport, sport, port;
	wk_socket *r = bound_udp(NULL, &rport);
	wk_socket *s = bound_udp("127.0.0.1", &sport);
	wk_addr from;

	send_to(s, "four", 4, "127.0.0.1", rport);
	ck_assert_int_eq(recv_next(r, (char[8]){ 0 }, 8, &from, &port), 4);
	/* Reported as IPv4, not as ::ffff:127.0.0.1. */
	ck_assert_int_eq(from.family, WK_FAMILY_IPV4);
	assert_addr(&from, "127.0.0.1");
	ck_assert_uint_eq(port, sport);
	/* And the answer goes back to that IPv4 address. */
	send_to(r, "back", 4, "127.0.0.1", port);
	expect_text(s, "back");
	/*
	 * A read with no wait before it takes the datagram from the kernel
	 * itself (loopback has queued it when the send returns): the same.
	 */
	send_to(s, "five", 4, "127.0.0.1", rport);
	ck_assert(wk_udp_has_pending_datagrams(r));
	port = 0;
	ck_assert_int_eq(wk_udp_read_datagram(r, (char[8]){ 0 }, 8, &from,
	    &port), 4);
	ck_assert_int_eq(from.family, WK_FAMILY_IPV4);
	assert_addr(&from, "127.0.0.1");
	ck_assert_uint_eq(port, sport);
	/* The port alone, with no address asked for. */
	send_to(s, "port", 4, "127.0.0.1", rport);
	port = 0;
	ck_assert_int_eq(recv_next(r, (char[8]){ 0 }, 8, NULL, &port), 4);
	ck_assert_uint_eq(port, sport);
	if (th_ipv6_loopback()) {
		uint16_t p6;
		wk_socket *s6 = bound_udp("::1", &p6);

		send_to(s6, "six", 3, "::1", rport);
		ck_assert_int_eq(recv_next(r, (char[8]){ 0 }, 8, &from, &port),
		    3);
		assert_addr(&from, "::1");
		ck_assert_uint_eq(port, p6);
		wk_socket_free(s6);
	}
	wk_socket_free(r);
	wk_socket_free(s);
}
END_TEST

/* ---------------------------------------------------------------- binding */

START_TEST(test_bind_modes)
{
	wk_socket *a = new_udp(), *b = new_udp(), *c = new_udp();
	wk_socket *d = new_udp(), *e = new_udp();
	uint16_t shared, exclusive;

	shared = bind_to(a, "127.0.0.1", 0, WK_SHARE_ADDRESS);
	bind_to(b, "127.0.0.1", shared, WK_SHARE_ADDRESS);
	/* A socket that will not share cannot join them. */
	ck_assert(!wk_socket_bind(c, &(wk_addr){ 0 }, shared, 0));
	assert_error(c, WK_INVALID_ARGUMENT);
	ck_assert(!wk_socket_bind(c, ADDR("127.0.0.1"), shared,
	    WK_DONT_SHARE_ADDRESS));
	assert_error(c, WK_ADDRESS_IN_USE);
	assert_state(c, WK_STATE_UNCONNECTED);
	ck_assert_int_eq(wk_socket_descriptor(c), -1);
	/* Exclusive first: a second exclusive bind is refused. */
	exclusive = bind_to(d, "127.0.0.1", 0, WK_DONT_SHARE_ADDRESS);
	ck_assert(!wk_socket_bind(e, ADDR("127.0.0.1"), exclusive,
	    WK_DONT_SHARE_ADDRESS));
	assert_error(e, WK_ADDRESS_IN_USE);
	assert_state(e, WK_STATE_UNCONNECTED);
	/* The refused socket can still bind elsewhere. */
	bind_to(e, "127.0.0.1", 0, WK_DONT_SHARE_ADDRESS);
	/* Binding twice is refused, and the socket stays bound. */
	ck_assert(!wk_socket_bind(d, ADDR("127.0.0.1"), 0, 0));
	assert_error(d, WK_OPERATION);
	assert_state(d, WK_STATE_BOUND);
	ck_assert_uint_eq(wk_socket_local_port(d), exclusive);
	wk_socket_free(a);
	wk_socket_free(b);
	wk_socket_free(c);
	wk_socket_free(d);
	wk_socket_free(e);
}
END_TEST

/* ---------------------------------------------------------------- connected */

START_TEST(test_connected_refused)
{
	uint16_t dead = dead_udp_port("127.0.0.1");
	wk_socket *u = new_udp(), *c = new_udp();
	char buf[8];

	/* An unconnected socket never hears of the ICMP: the write succeeds. */
	send_to(u, "lost", 4, "127.0.0.1", dead);
	send_to(u, "lost", 4, "127.0.0.1", dead);
	assert_state(u, WK_STATE_BOUND);
	ck_assert(wk_socket_connect(c, "127.0.0.1", dead));
	ck_assert_msg(wk_socket_wait_connected(c, TH_WAIT_MSECS),
	    "wait_connected: %s", wk_socket_error_string(c));
	assert_state(c, WK_STATE_CONNECTED);
	ck_assert_uint_eq(wk_socket_peer_port(c), dead);
	/* write_datagram is for unconnected sockets. */
	ck_assert_int_eq(wk_udp_write_datagram(c, "x", 1,
	    ADDR("127.0.0.1"), dead), -1);
	assert_error(c, WK_OPERATION);
	ck_assert_int_eq(wk_socket_write(c, "ping", 4), 4);
	/* The port unreachable comes back; the socket stays connected. */
	ck_assert(!wk_socket_wait_ready_read(c, TH_WAIT_MSECS));
	assert_error(c, WK_CONNECTION_REFUSED);
	assert_state(c, WK_STATE_CONNECTED);
	/* Seen through a read as well. */
	ck_assert_int_eq(wk_socket_write(c, "ping", 4), 4);
	ck_assert(!wk_socket_wait_ready_read(c, TH_WAIT_MSECS));
	ck_assert_int_eq(wk_socket_write(c, "ping", 4), 4);
	for (int i = 0; i < 1000; i++) {
		ssize_t n = wk_socket_read(c, buf, sizeof(buf));

		if (n < 0)
			break;
		ck_assert_int_eq(n, 0);
		th_sleep_ms(1);
	}
	assert_error(c, WK_CONNECTION_REFUSED);
	assert_state(c, WK_STATE_CONNECTED);
	/* And through has_pending_datagrams, whose peek takes it. */
	ck_assert_int_eq(wk_socket_write(c, "ping", 4), 4);
	for (int i = 0; i < 1000; i++) {
		if (wk_udp_has_pending_datagrams(c))
			ck_abort_msg("a datagram from a closed port");
		if (wk_socket_error(c) != WK_NO_ERROR)
			break;
		th_sleep_ms(1);
	}
	assert_error(c, WK_CONNECTION_REFUSED);
	assert_state(c, WK_STATE_CONNECTED);
	wk_socket_free(u);
	wk_socket_free(c);
}
END_TEST

START_TEST(test_connected_exchange)
{
	uint16_t rport, port;
	wk_socket *r = bound_udp("127.0.0.1", &rport);
	wk_socket *c = new_udp();
	char buf[16];

	ck_assert(wk_socket_connect(c, "127.0.0.1", rport));
	ck_assert(wk_socket_wait_connected(c, TH_WAIT_MSECS));
	ck_assert_int_eq(wk_socket_write(c, "one\0two", 7), 7);
	ck_assert_int_eq(recv_next(r, buf, sizeof(buf), NULL, &port), 7);
	ck_assert(memcmp(buf, "one\0two", 7) == 0);
	ck_assert_uint_eq(port, wk_socket_local_port(c));
	send_to(r, "reply", 5, "127.0.0.1", port);
	ck_assert(wk_socket_wait_ready_read(c, TH_WAIT_MSECS));
	ck_assert_int_eq(wk_socket_read(c, buf, sizeof(buf)), 5);
	ck_assert(memcmp(buf, "reply", 5) == 0);
	/* Nothing waits: a read gives 0, still connected. */
	ck_assert_int_eq(wk_socket_read(c, buf, sizeof(buf)), 0);
	assert_state(c, WK_STATE_CONNECTED);
	wk_socket_free(r);
	wk_socket_free(c);
}
END_TEST

/* ---------------------------------------------------------------- waits */

START_TEST(test_wait_timeout)
{
	uint16_t port;
	wk_socket *r = bound_udp("127.0.0.1", &port);
	wk_socket *u = new_udp();

	ck_assert(!wk_socket_wait_ready_read(r, 50));
	assert_error(r, WK_SOCKET_TIMEOUT);
	ck_assert(!wk_socket_wait_ready_read(r, 0));
	assert_error(r, WK_SOCKET_TIMEOUT);
	assert_state(r, WK_STATE_BOUND);
	/* Unbound: nothing to wait on. */
	ck_assert(!wk_socket_wait_ready_read(u, 50));
	ck_assert_int_ne(wk_socket_error(u), WK_NO_ERROR);
	ck_assert_int_eq(wk_udp_pending_datagram_size(u), -1);
	assert_error(u, WK_OPERATION);
	ck_assert_int_eq(wk_udp_read_datagram(u, (char[4]){ 0 }, 4, NULL,
	    NULL), -1);
	assert_error(u, WK_OPERATION);
	wk_socket_free(r);
	wk_socket_free(u);
}
END_TEST

/* ---------------------------------------------------------------- options */

static void
check_options(wk_socket *s)
{
	int v = -7;

	ck_assert(!wk_socket_set_option(s, WK_OPT_MULTICAST_TTL, 1024));
	ck_assert_int_ne(wk_socket_error(s), WK_NO_ERROR);
	ck_assert(wk_socket_set_option(s, WK_OPT_MULTICAST_TTL, 5));
	ck_assert(wk_socket_get_option(s, WK_OPT_MULTICAST_TTL, &v));
	ck_assert_int_eq(v, 5);
	ck_assert(wk_socket_set_option(s, WK_OPT_MULTICAST_LOOPBACK, 2));
	ck_assert(wk_socket_get_option(s, WK_OPT_MULTICAST_LOOPBACK, &v));
	ck_assert_int_eq(v, 1);
	ck_assert(wk_socket_set_option(s, WK_OPT_MULTICAST_LOOPBACK, 0));
	ck_assert(wk_socket_get_option(s, WK_OPT_MULTICAST_LOOPBACK, &v));
	ck_assert_int_eq(v, 0);
	ck_assert(!wk_socket_get_option(s, WK_OPT_MULTICAST_TTL, NULL));
	assert_error(s, WK_INVALID_ARGUMENT);
}

START_TEST(test_options)
{
	uint16_t port;
	wk_socket *s4 = bound_udp("127.0.0.1", &port);
	wk_socket *any = bound_udp(NULL, &port);

	check_options(s4);
	check_options(any);
	wk_socket_free(s4);
	wk_socket_free(any);
}
END_TEST

/* ---------------------------------------------------------------- api */

START_TEST(test_null_arguments)
{
	uint16_t port;
	wk_socket *s = bound_udp("127.0.0.1", &port);
	wk_socket *t = wk_tcp_socket();
	wk_addr group = addr_of(GROUP_V4), lo = addr_of("127.0.0.1");
	wk_addr six = addr_of("::1");
	char buf[4];

	/* A NULL socket: nothing to report on, nothing crashes. */
	ck_assert_int_eq(wk_udp_write_datagram(NULL, "x", 1, &lo, 9), -1);
	ck_assert(!wk_udp_has_pending_datagrams(NULL));
	ck_assert_int_eq(wk_udp_pending_datagram_size(NULL), -1);
	ck_assert_int_eq(wk_udp_read_datagram(NULL, buf, 4, NULL, NULL), -1);
	ck_assert(!wk_udp_join_group(NULL, &group, NULL));
	ck_assert(!wk_udp_leave_group(NULL, &group, NULL));
	ck_assert(!wk_udp_join_source_group(NULL, &group, &lo, NULL));
	ck_assert(!wk_udp_leave_source_group(NULL, &group, &lo, NULL));
	ck_assert(!wk_udp_set_multicast_interface(NULL, NULL));
	wk_socket_free(NULL);
	/* NULL arguments on a real socket. */
	ck_assert_int_eq(wk_udp_write_datagram(s, NULL, 1, &lo, port), -1);
	assert_error(s, WK_INVALID_ARGUMENT);
	ck_assert_int_eq(wk_udp_write_datagram(s, "x", 1, NULL, port), -1);
	assert_error(s, WK_INVALID_ARGUMENT);
	ck_assert_int_eq(wk_udp_read_datagram(s, NULL, 4, NULL, NULL), -1);
	assert_error(s, WK_INVALID_ARGUMENT);
	ck_assert(!wk_udp_join_group(s, NULL, NULL));
	assert_error(s, WK_INVALID_ARGUMENT);
	ck_assert(!wk_udp_leave_group(s, NULL, NULL));
	assert_error(s, WK_INVALID_ARGUMENT);
	ck_assert(!wk_udp_join_source_group(s, &group, NULL, NULL));
	assert_error(s, WK_INVALID_ARGUMENT);
	ck_assert(!wk_udp_join_source_group(s, NULL, &lo, NULL));
	assert_error(s, WK_INVALID_ARGUMENT);
	ck_assert(!wk_udp_leave_source_group(s, &group, NULL, NULL));
	assert_error(s, WK_INVALID_ARGUMENT);
	/* A source of the other family, a group that is not multicast. */
	ck_assert(!wk_udp_join_source_group(s, &group, &six, NULL));
	assert_error(s, WK_INVALID_ARGUMENT);
	ck_assert(!wk_udp_join_group(s, &lo, NULL));
	assert_error(s, WK_INVALID_ARGUMENT);
	/* A TCP socket is not a UDP socket. */
	ck_assert_int_eq(wk_udp_write_datagram(t, "x", 1, &lo, port), -1);
	assert_error(t, WK_UNSUPPORTED_OPERATION);
	ck_assert(!wk_udp_join_group(t, &group, NULL));
	assert_error(t, WK_UNSUPPORTED_OPERATION);
	ck_assert_int_eq(wk_udp_pending_datagram_size(t), -1);
	assert_error(t, WK_UNSUPPORTED_OPERATION);
	wk_socket_free(s);
	wk_socket_free(t);
}
END_TEST

START_TEST(test_join_before_bind)
{
	wk_socket *s = new_udp();
	wk_addr g4 = addr_of(GROUP_V4), g6 = addr_of(GROUP_V6);
	wk_addr src = addr_of("127.0.0.2");

	ck_assert(!wk_udp_join_group(s, &g4, NULL));
	assert_error(s, WK_OPERATION);
	ck_assert(!wk_udp_join_group(s, &g6, NULL));
	assert_error(s, WK_OPERATION);
	ck_assert(!wk_udp_join_source_group(s, &g4, &src, NULL));
	assert_error(s, WK_OPERATION);
	ck_assert(!wk_udp_leave_group(s, &g4, NULL));
	assert_error(s, WK_OPERATION);
	ck_assert(!wk_udp_set_multicast_interface(s, NULL));
	assert_error(s, WK_OPERATION);
	assert_state(s, WK_STATE_UNCONNECTED);
	wk_socket_free(s);
}
END_TEST

/* ---------------------------------------------------------------- multicast */

/* A sender whose multicast goes out of lo (or a veth), looped back. */
static wk_socket *
mc_sender(const char *bind_text, wk_iface *lo)
{
	uint16_t port;
	wk_socket *s = bound_udp(bind_text, &port);

	ck_assert_msg(wk_udp_set_multicast_interface(s, lo),
	    "set multicast interface: %s", wk_socket_error_string(s));
	ck_assert(wk_socket_set_option(s, WK_OPT_MULTICAST_LOOPBACK, 1));
	ck_assert(wk_socket_set_option(s, WK_OPT_MULTICAST_TTL, 1));
	return s;
}

/*
 * Joins group on ifname, receives five datagrams in order, leaves, and then
 * sees only the unicast marker sent after three more to the group.
 */
static void
join_and_leave(const char *group_text, const char *ifname,
    const char *send_from, const char *unicast_to)
{
	wk_iface *lo = wk_iface_by_name(ifname);
	wk_addr group = addr_of(group_text);
	uint16_t port;
	wk_socket *r = bound_udp(NULL, &port);
	wk_socket *s;
	char text[32];

	ck_assert_ptr_nonnull(lo);
	s = mc_sender(send_from, lo);
	ck_assert_msg(wk_udp_join_group(r, &group, lo), "join %s: %s",
	    group_text, wk_socket_error_string(r));
	for (int i = 0; i < 5; i++) {
		snprintf(text, sizeof(text), "mc %d", i);
		send_to(s, text, strlen(text), group_text, port);
	}
	for (int i = 0; i < 5; i++) {
		snprintf(text, sizeof(text), "mc %d", i);
		expect_text(r, text);
	}
	ck_assert_msg(wk_udp_leave_group(r, &group, lo), "leave %s: %s",
	    group_text, wk_socket_error_string(r));
	/* Leaving twice: the kernel says no. */
	ck_assert(!wk_udp_leave_group(r, &group, lo));
	ck_assert_int_ne(wk_socket_error(r), WK_NO_ERROR);
	for (int i = 5; i < 8; i++) {
		snprintf(text, sizeof(text), "mc %d", i);
		send_to(s, text, strlen(text), group_text, port);
	}
	send_to(s, "marker", 6, unicast_to, port);
	expect_text(r, "marker");
	assert_empty(r);
	wk_socket_free(r);
	wk_socket_free(s);
	wk_iface_free(lo);
}

START_TEST(test_multicast_ipv4)
{
	if (skip_outside_netns("IPv4 multicast"))
		return;
	join_and_leave(GROUP_V4, "lo", "0.0.0.0", "127.0.0.1");
}
END_TEST

START_TEST(test_multicast_ipv6)
{
	if (skip_outside_netns("IPv6 multicast"))
		return;
	if (!mc6_ready) {
		fprintf(stderr, "skip: the veth for IPv6 multicast could not "
		    "be set up in the namespace\n");
		return;
	}
	join_and_leave(GROUP_V6, VETH, "::", "::1");
}
END_TEST

/* The system's choice of interface (NULL) works too, by the routes. */
START_TEST(test_multicast_default_iface)
{
	wk_addr group = addr_of(GROUP_V4);
	uint16_t port, sport;
	wk_socket *r, *s;

	if (skip_outside_netns("IPv4 multicast"))
		return;
	r = bound_udp(NULL, &port);
	s = bound_udp("0.0.0.0", &sport);
	ck_assert_msg(wk_udp_join_group(r, &group, NULL), "join: %s",
	    wk_socket_error_string(r));
	ck_assert(wk_udp_set_multicast_interface(s, NULL));
	send_to(s, "default", 7, GROUP_V4, port);
	expect_text(r, "default");
	wk_socket_free(r);
	wk_socket_free(s);
}
END_TEST

/*
 * Source-specific: two senders bound to different addresses (127/8 on
 * lo, or the veth's two); only the chosen source's datagrams arrive.
 */
static void
source_specific(const char *group_text, const char *ifname,
    const char *src_a, const char *src_b, const char *unicast_to)
{
	wk_iface *lo = wk_iface_by_name(ifname);
	wk_addr group = addr_of(group_text), a_addr = addr_of(src_a);
	uint16_t port;
	wk_socket *r = bound_udp(NULL, &port);
	wk_socket *a, *b;

	ck_assert_ptr_nonnull(lo);
	a = mc_sender(src_a, lo);
	b = mc_sender(src_b, lo);
	ck_assert_msg(wk_udp_join_source_group(r, &group, &a_addr, lo),
	    "join %s from %s: %s", group_text, src_a,
	    wk_socket_error_string(r));
	send_to(b, "b0", 2, group_text, port);
	send_to(a, "a0", 2, group_text, port);
	send_to(b, "b1", 2, group_text, port);
	send_to(a, "a1", 2, group_text, port);
	send_to(b, "b-marker", 8, unicast_to, port);
	expect_text(r, "a0");
	expect_text(r, "a1");
	expect_text(r, "b-marker");
	/* Left: a's datagrams stop too. */
	ck_assert_msg(wk_udp_leave_source_group(r, &group, &a_addr, lo),
	    "leave: %s", wk_socket_error_string(r));
	send_to(a, "a2", 2, group_text, port);
	send_to(a, "a-marker", 8, unicast_to, port);
	expect_text(r, "a-marker");
	assert_empty(r);
	wk_socket_free(r);
	wk_socket_free(a);
	wk_socket_free(b);
	wk_iface_free(lo);
}

START_TEST(test_source_specific_ipv4)
{
	if (skip_outside_netns("source-specific multicast"))
		return;
	source_specific(GROUP_V4, "lo", "127.0.0.2", "127.0.0.3", "127.0.0.1");
}
END_TEST

START_TEST(test_source_specific_ipv6)
{
	if (skip_outside_netns("source-specific multicast"))
		return;
	if (!mc6_ready) {
		fprintf(stderr, "skip: the veth for IPv6 multicast could not "
		    "be set up in the namespace\n");
		return;
	}
	source_specific(GROUP_V6, VETH, SRC6_A, SRC6_B, "::1");
}
END_TEST

/* ---------------------------------------------------------------- broadcast */

START_TEST(test_broadcast)
{
	uint16_t port, port4, from_port;
	wk_socket *r, *r4, *s, *s2;
	wk_addr from;

	if (skip_outside_netns("broadcast"))
		return;
	if (!bcast_ready) {
		fprintf(stderr, "skip: the veth pair for broadcast could not "
		    "be made in the namespace\n");
		return;
	}
	r = bound_udp(NULL, &port);		/* dual stack */
	r4 = bound_udp("0.0.0.0", &port4);
	/* Unbound: the write binds it, SO_BROADCAST is already on. */
	s = new_udp();
	send_to(s, "Broadcast message 1", 19, BCAST_ADDR, port);
	send_to(s, "Broadcast message 2", 19, BCAST_ADDR, port4);
	expect_text(r4, "Broadcast message 2");
	ck_assert_int_eq(recv_next(r, (char[32]){ 0 }, 32, &from, &from_port),
	    19);
	assert_addr(&from, BCAST_LOCAL);
	ck_assert_uint_eq(from_port, wk_socket_local_port(s));
	/*
	 * 255.255.255.255 from a socket bound to the veth's address: the
	 * kernel picks the veth by the source address.  Only inside the
	 * namespace.
	 */
	s2 = bound_udp(BCAST_LOCAL, &(uint16_t){ 0 });
	send_to(s2, "limited", 7, "255.255.255.255", port4);
	expect_text(r4, "limited");
	assert_empty(r);
	assert_empty(r4);
	wk_socket_free(r);
	wk_socket_free(r4);
	wk_socket_free(s);
	wk_socket_free(s2);
}
END_TEST

/* ---------------------------------------------------------------- flood */

#define FLOOD_SIZE 16

struct flood {
	wk_socket *s;
	uint16_t port;
	uint32_t count;
	atomic_bool done;
	const char *failure;
};

static void
flood_fill(unsigned char *buf, uint32_t seq)
{
	memcpy(buf, &seq, sizeof(seq));
	th_pattern(buf + 4, FLOOD_SIZE - 4, seq, 77);
}

static void *
flood_main(void *arg)
{
	struct flood *f = arg;
	unsigned char buf[FLOOD_SIZE];
	wk_addr to;

	wk_addr_parse(&to, "127.0.0.1");
	for (uint32_t seq = 0; seq < f->count && !f->failure; ) {
		flood_fill(buf, seq);
		if (wk_udp_write_datagram(f->s, buf, sizeof(buf), &to,
		    f->port) == (ssize_t)sizeof(buf))
			seq++;
		else if (wk_socket_error(f->s) == WK_TEMPORARY ||
		    wk_socket_error(f->s) == WK_SOCKET_RESOURCE)
			th_sleep_ms(1);		/* the send buffer is full */
		else
			f->failure = "flood: write_datagram failed";
	}
	atomic_store(&f->done, true);
	return NULL;
}

START_TEST(test_flood)
{
	struct flood f = { .count = (uint32_t)th_size(100000, 10000) };
	unsigned char buf[64];
	uint16_t sport, port;
	wk_socket *r = bound_udp("127.0.0.1", &f.port);
	long reads = 0, last = -1;
	pthread_t thread;
	ssize_t n;

	f.s = bound_udp("127.0.0.1", &sport);
	/* A large queue loses less; the kernel caps it at rmem_max. */
	wk_socket_set_option(r, WK_OPT_RECEIVE_BUFFER_SIZE, 4 * 1024 * 1024);
	ck_assert_int_eq(pthread_create(&thread, NULL, flood_main, &f), 0);
	for (;;) {
		/* Seen before the drain: all it sent is queued or lost. */
		bool done = atomic_load(&f.done);

		while ((n = wk_udp_read_datagram(r, buf, sizeof(buf), NULL,
		    &port)) >= 0) {
			uint32_t seq;

			ck_assert_int_eq(n, FLOOD_SIZE);
			ck_assert_uint_eq(port, sport);
			memcpy(&seq, buf, sizeof(seq));
			ck_assert_msg((long)seq > last, "seq %u after %ld",
			    seq, last);
			ck_assert_uint_lt(seq, f.count);
			ck_assert_int_eq(th_pattern_check(buf + 4,
			    FLOOD_SIZE - 4, seq, 77), -1);
			last = seq;
			reads++;
		}
		assert_error(r, WK_TEMPORARY);
		if (done)
			break;
		/* The result does not matter: a timeout just loops. */
		wk_socket_wait_ready_read(r, 100);
	}
	pthread_join(thread, NULL);
	ck_assert_msg(!f.failure, "%s: %s", f.failure,
	    wk_socket_error_string(f.s));
	ck_assert_int_gt(reads, 0);
	ck_assert_int_le(reads, (long)f.count);
	fprintf(stderr, "note: flood: %ld of %u datagrams read (the rest "
	    "dropped by the kernel)\n", reads, f.count);
	wk_socket_free(r);
	wk_socket_free(f.s);
}
END_TEST

/* ---------------------------------------------------------------- main */

/*
 * Inside the namespace: IPv4 multicast on lo (routed there), a veth pair
 * with a /24 for broadcast (lo has no broadcast address) and two IPv6
 * addresses for IPv6 multicast.  Runs before any thread exists.
 */
static void
set_up_namespace(void)
{
	if (system("ip link set lo multicast on && "
	    "ip route add 224.0.0.0/4 dev lo") != 0)
		fprintf(stderr, "note: IPv4 multicast set-up on lo failed\n");
	bcast_ready = system("ip link add " VETH " type veth peer name wkb1 && "
	    "ip addr add " BCAST_LOCAL "/24 brd " BCAST_ADDR " dev " VETH
	    " && ip link set wkb1 up && ip link set " VETH " up") == 0;
	/*
	 * IPv6 multicast does not come back through lo on Linux (tried:
	 * with ff00::/8 routed to lo in table local, even a plain socket
	 * receives nothing), so it uses the veth: no generated link-local
	 * address and no duplicate detection, so that the addresses are
	 * usable at once.
	 */
	mc6_ready = bcast_ready && th_ipv6_loopback() &&
	    system("ip link set " VETH " down && "
	    "ip link set " VETH " addrgenmode none && "
	    "ip -6 addr add " SRC6_A "/64 dev " VETH " nodad && "
	    "ip -6 addr add " SRC6_B "/64 dev " VETH " nodad && "
	    "ip link set " VETH " up") == 0;
}

static TCase *
tcase(Suite *s, const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return tc;
}

int
main(void)
{
	Suite *s = suite_create("udp");
	TCase *tc;
	SRunner *sr;
	int failed;

	failed = wk_test_enter_netns("nameserver 127.0.0.1\n");
	if (failed == WK_TEST_HARD_ERROR)
		return failed;
	in_netns = failed == 0;
	if (in_netns)
		set_up_namespace();
	else
		fprintf(stderr, "note: no network namespace: the broadcast "
		    "and multicast tests are skipped\n");

	tc = tcase(s, "datagrams");
	tcase_add_test(tc, test_exchange_ipv4);
	tcase_add_test(tc, test_exchange_ipv6);
	tcase_add_test(tc, test_empty_datagram);
	tcase_add_test(tc, test_truncating_read);
	tcase_add_test(tc, test_too_large);
	tcase_add_test(tc, test_write_binds);
	tcase_add_test(tc, test_dual_stack);
	tc = tcase(s, "binding");
	tcase_add_test(tc, test_bind_modes);
	tc = tcase(s, "connected");
	tcase_add_test(tc, test_connected_refused);
	tcase_add_test(tc, test_connected_exchange);
	tc = tcase(s, "waits");
	tcase_add_test(tc, test_wait_timeout);
	tcase_add_test(tc, test_flood);
	tc = tcase(s, "api");
	tcase_add_test(tc, test_options);
	tcase_add_test(tc, test_null_arguments);
	tcase_add_test(tc, test_join_before_bind);
	tc = tcase(s, "multicast");
	tcase_add_test(tc, test_multicast_ipv4);
	tcase_add_test(tc, test_multicast_ipv6);
	tcase_add_test(tc, test_multicast_default_iface);
	tcase_add_test(tc, test_source_specific_ipv4);
	tcase_add_test(tc, test_source_specific_ipv6);
	tc = tcase(s, "broadcast");
	tcase_add_test(tc, test_broadcast);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	/* With CK_FORK=no the pool ran here; let valgrind see it gone. */
	wk_resolver_shutdown();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
