/*
 * check_server.c - the TCP server end to end: real listeners on
 * loopback, clients in peer threads (raw POSIX) or in the test itself
 *
 * No test asserts an elapsed time.  Connections are counted through
 * /proc/self/fd: an accepted connection is a descriptor of this process.
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <wirekit/addr.h>
#include <wirekit/server.h>
#include <wirekit/socket.h>

#include "tcp_helpers.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- helpers */

static wk_server *
new_server(void)
{
	wk_server *srv = wk_server_new();

	ck_assert_ptr_nonnull(srv);
	ck_assert(!wk_server_is_listening(srv));
	ck_assert_int_eq(wk_server_descriptor(srv), -1);
	ck_assert_int_eq(wk_server_max_pending(srv), 30);
	return srv;
}

#define assert_srv_error(srv, code) \
	ck_assert_msg(wk_server_error(srv) == (code), \
	    "error %s (\"%s\"), want %s", \
	    wk_error_name(wk_server_error(srv)), \
	    wk_server_error_string(srv), wk_error_name(code))

static wk_addr
addr_of(const char *text)
{
	wk_addr a;

	ck_assert_msg(wk_addr_parse(&a, text), "parse %s", text);
	return a;
}

/* Listens on text (NULL: dual-stack any), port 0; the port. */
static uint16_t
listen_ok(wk_server *srv, const char *text)
{
	wk_addr a;

	if (text)
		a = addr_of(text);
	ck_assert_msg(wk_server_listen(srv, text ? &a : NULL, 0),
	    "listen on %s: %s", text ? text : "any",
	    wk_server_error_string(srv));
	ck_assert(wk_server_is_listening(srv));
	ck_assert_uint_ne(wk_server_port(srv), 0);
	assert_srv_error(srv, WK_NO_ERROR);
	return wk_server_port(srv);
}

static void
wait_ok(wk_server *srv)
{
	bool timed_out = true;

	ck_assert_msg(wk_server_wait_new_connection(srv, TH_WAIT_MSECS,
	    &timed_out), "wait_new_connection: %s",
	    wk_server_error_string(srv));
	ck_assert(!timed_out);
	assert_srv_error(srv, WK_NO_ERROR);
}

/* The next connection, waiting for one if none is pending. */
static wk_socket *
take(wk_server *srv)
{
	wk_socket *s;

	if (!wk_server_has_pending(srv))
		wait_ok(srv);
	s = wk_server_next_pending(srv);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(wk_socket_state(s), WK_STATE_CONNECTED);
	ck_assert_str_eq(wk_socket_peer_name(s), "");
	ck_assert_int_ge(wk_socket_descriptor(s), 0);
	return s;
}

static void
join_peer(th_peer *p)
{
	const char *why = th_peer_join(p);

	ck_assert_msg(why == NULL, "%s", why);
}

/*
 * A client: connects to p->addr:p->port, notes its own address in
 * p->peer_addr and p->peer_port, sends "ping\n", expects it back, then
 * waits for the server to close.
 */
static const char *
client_ping(th_peer *p)
{
	char buf[8];

	if ((p->fd = th_connect(p->addr, p->port)) < 0)
		return "client: connect failed";
	if (!th_sock_name(p->fd, false, p->peer_addr, sizeof(p->peer_addr),
	    &p->peer_port))
		return "client: getsockname failed";
	th_peer_signal(p);	/* the address is known */
	if (th_write_all(p->fd, "ping\n", 5) != 0)
		return "client: send failed";
	if (th_read_exact(p->fd, buf, 5) != 0 || memcmp(buf, "ping\n", 5))
		return "client: no echo";
	if (recv(p->fd, buf, sizeof(buf), 0) != 0)
		return "client: no EOF from the server";
	return NULL;
}

static void
start_client(th_peer *p, const char *addr, uint16_t port,
    const char *(*fn)(th_peer *p))
{
	th_peer_init(p, -1);
	snprintf(p->addr, sizeof(p->addr), "%s", addr);
	p->port = port;
	ck_assert(th_peer_start(p, fn));
}

/* Serves one "ping\n" on s, through wirekit, and closes. */
static void
serve_ping(wk_socket *s)
{
	char line[16];
	ssize_t n;

	while ((n = wk_socket_read_line(s, line, sizeof(line))) == 0)
		ck_assert_msg(wk_socket_wait_ready_read(s, TH_WAIT_MSECS),
		    "wait_ready_read: %s", wk_socket_error_string(s));
	ck_assert_int_eq(n, 5);
	ck_assert_str_eq(line, "ping\n");
	ck_assert_int_eq(wk_socket_write(s, line, 5), 5);
	wk_socket_disconnect(s);
	if (wk_socket_state(s) != WK_STATE_UNCONNECTED)
		ck_assert(wk_socket_wait_disconnected(s, TH_WAIT_MSECS));
}

/* The accepted socket's peer is the client (mapped form allowed). */
static void
assert_peer_is_client(wk_socket *s, const th_peer *client, unsigned mode)
{
	wk_addr want = addr_of(client->peer_addr);
	wk_addr got = wk_socket_peer_address(s);
	char text[WK_ADDR_STRLEN];

	wk_addr_format(&got, text, sizeof(text));
	ck_assert_msg(wk_addr_equal(&got, &want, mode),
	    "peer address %s, the client is %s", text, client->peer_addr);
	ck_assert_uint_eq(wk_socket_peer_port(s), client->peer_port);
}

/* ---------------------------------------------------------------- listening */

static void
dual_stack_client(const char *client_addr)
{
	wk_server *srv = new_server();
	uint16_t port = listen_ok(srv, NULL);
	wk_addr any = wk_server_address(srv);
	wk_socket *s;
	th_peer c;

	ck_assert_int_eq(any.family, WK_FAMILY_ANY);
	start_client(&c, client_addr, port, client_ping);
	s = take(srv);
	ck_assert_uint_eq(wk_socket_local_port(s), port);
	ck_assert(th_peer_wait_signal(&c, 1, TH_WAIT_MSECS));
	assert_peer_is_client(s, &c, WK_ADDR_CMP_V4_MAPPED);
	serve_ping(s);
	wk_socket_free(s);
	join_peer(&c);
	wk_server_free(srv);
}

START_TEST(test_any_ipv4_client)
{
	dual_stack_client("127.0.0.1");
}
END_TEST

START_TEST(test_any_ipv6_client)
{
	if (!th_ipv6_loopback()) {
		fprintf(stderr, "skip: no IPv6 loopback here\n");
		return;
	}
	dual_stack_client("::1");
}
END_TEST

/* A server on one address: the peer is the client exactly. */
START_TEST(test_specific_address)
{
	wk_server *srv = new_server();
	uint16_t port = listen_ok(srv, "127.0.0.1"), raw_port;
	wk_addr a = wk_server_address(srv), lo = addr_of("127.0.0.1");
	char text[64];
	wk_socket *s;
	th_peer c;

	ck_assert(wk_addr_equal(&a, &lo, WK_ADDR_CMP_STRICT));
	ck_assert(th_sock_name(wk_server_descriptor(srv), false, text,
	    sizeof(text), &raw_port));
	ck_assert_uint_eq(raw_port, port);
	ck_assert_str_eq(text, "127.0.0.1");
	ck_assert(fcntl(wk_server_descriptor(srv), F_GETFD) & FD_CLOEXEC);
	start_client(&c, "127.0.0.1", port, client_ping);
	s = take(srv);
	ck_assert(th_peer_wait_signal(&c, 1, TH_WAIT_MSECS));
	assert_peer_is_client(s, &c, WK_ADDR_CMP_STRICT);
	a = wk_socket_local_address(s);
	ck_assert(wk_addr_equal(&a, &lo, WK_ADDR_CMP_STRICT));
	ck_assert_uint_eq(wk_socket_local_port(s), port);
	assert_srv_error(srv, WK_NO_ERROR);
	ck_assert(fcntl(wk_socket_descriptor(s), F_GETFD) & FD_CLOEXEC);
	serve_ping(s);
	wk_socket_free(s);
	join_peer(&c);
	wk_server_free(srv);
}
END_TEST

START_TEST(test_wait_timeout)
{
	wk_server *srv = new_server();
	bool timed_out = false;

	/* Not listening: no timeout, an operation error. */
	ck_assert(!wk_server_wait_new_connection(srv, 100, &timed_out));
	ck_assert(!timed_out);
	assert_srv_error(srv, WK_OPERATION);
	listen_ok(srv, "127.0.0.1");
	ck_assert(!wk_server_wait_new_connection(srv, 100, &timed_out));
	ck_assert(timed_out);
	assert_srv_error(srv, WK_SOCKET_TIMEOUT);
	timed_out = false;
	ck_assert(!wk_server_wait_new_connection(srv, 0, &timed_out));
	ck_assert(timed_out);
	assert_srv_error(srv, WK_SOCKET_TIMEOUT);
	timed_out = false;
	ck_assert(!wk_server_wait_new_connection(srv, -7, &timed_out));
	ck_assert(timed_out);
	assert_srv_error(srv, WK_SOCKET_TIMEOUT);
	ck_assert(!wk_server_wait_new_connection(srv, 50, NULL));
	assert_srv_error(srv, WK_SOCKET_TIMEOUT);
	ck_assert(!wk_server_has_pending(srv));
	ck_assert_ptr_null(wk_server_next_pending(srv));
	ck_assert(wk_server_is_listening(srv));
	wk_server_free(srv);
}
END_TEST

/* A pending connection is seen by a wait of 0. */
START_TEST(test_wait_zero_sees_pending)
{
	wk_server *srv = new_server();
	uint16_t port = listen_ok(srv, "127.0.0.1");
	int fd = th_connect("127.0.0.1", port);
	bool timed_out = true;
	wk_socket *s;

	ck_assert_int_ge(fd, 0);
	ck_assert(th_poll(wk_server_descriptor(srv), POLLIN, TH_WAIT_MSECS) &
	    POLLIN);
	ck_assert_msg(wk_server_wait_new_connection(srv, 0, &timed_out),
	    "wait 0: %s", wk_server_error_string(srv));
	ck_assert(!timed_out);
	s = wk_server_next_pending(srv);
	ck_assert_ptr_nonnull(s);
	wk_socket_free(s);
	close(fd);
	wk_server_free(srv);
}
END_TEST

/* ---------------------------------------------------------------- pending */

/* The client's local ports, in connect order. */
static void
connect_clients(uint16_t port, int *fds, uint16_t *ports, size_t n)
{
	char text[64];

	for (size_t i = 0; i < n; i++) {
		fds[i] = th_connect("127.0.0.1", port);
		ck_assert_msg(fds[i] >= 0, "client %zu: %s", i, strerror(errno));
		ck_assert(th_sock_name(fds[i], false, text, sizeof(text),
		    &ports[i]));
	}
}

static void
close_clients(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

/*
 * set_max_pending(2) with 5 connections: never more than 2 accepted and
 * waiting (each accepted one is a descriptor here), all 5 in the end.
 */
START_TEST(test_max_pending)
{
	wk_server *srv = new_server();
	uint16_t port = listen_ok(srv, "127.0.0.1"), ports[5];
	int fds[5], base;
	bool seen[5] = { false };

	ck_assert(!wk_server_set_max_pending(srv, 0));
	assert_srv_error(srv, WK_INVALID_ARGUMENT);
	ck_assert(!wk_server_set_max_pending(srv, -1));
	assert_srv_error(srv, WK_INVALID_ARGUMENT);
	ck_assert(wk_server_set_max_pending(srv, 2));
	ck_assert_int_eq(wk_server_max_pending(srv), 2);
	connect_clients(port, fds, ports, 5);
	base = th_count_fds();
	for (int taken = 0; taken < 5; taken++) {
		wk_socket *s;
		size_t i;

		if (!wk_server_has_pending(srv))
			wait_ok(srv);
		ck_assert_int_le(th_count_fds() - base, 2);
		ck_assert_int_ge(th_count_fds() - base, 1);
		s = wk_server_next_pending(srv);
		ck_assert_ptr_nonnull(s);
		for (i = 0; i < 5 && ports[i] != wk_socket_peer_port(s); i++)
			;
		ck_assert_msg(i < 5, "a connection from an unknown port %u",
		    (unsigned)wk_socket_peer_port(s));
		ck_assert(!seen[i]);
		seen[i] = true;
		wk_socket_free(s);
		ck_assert_int_le(th_count_fds() - base, 1);
	}
	ck_assert(!wk_server_has_pending(srv));
	ck_assert_int_eq(th_count_fds(), base);
	close_clients(fds, 5);
	wk_server_free(srv);
}
END_TEST

/* Changing the limit keeps what is waiting, in order. */
START_TEST(test_max_pending_resize)
{
	wk_server *srv = new_server();
	uint16_t port = listen_ok(srv, "127.0.0.1"), ports[3];
	int fds[3], base;

	connect_clients(port, fds, ports, 3);
	base = th_count_fds();
	wait_ok(srv);	/* takes in what the kernel has: 1 to 3 */
	ck_assert(wk_server_has_pending(srv));
	if (th_count_fds() - base >= 2) {
		ck_assert(!wk_server_set_max_pending(srv, 1));
		assert_srv_error(srv, WK_INVALID_ARGUMENT);
		ck_assert_int_eq(wk_server_max_pending(srv), 30);
	}
	ck_assert(wk_server_set_max_pending(srv, 5));
	ck_assert_int_eq(wk_server_max_pending(srv), 5);
	for (int i = 0; i < 3; i++) {
		wk_socket *s = take(srv);

		ck_assert_uint_eq(wk_socket_peer_port(s), ports[i]);
		wk_socket_free(s);
	}
	close_clients(fds, 3);
	wk_server_free(srv);
}
END_TEST

START_TEST(test_pause_resume)
{
	wk_server *srv = new_server();
	uint16_t port = listen_ok(srv, "127.0.0.1"), ports[2];
	bool timed_out = true, seen[2] = { false };
	int fds[2], base;

	wk_server_pause_accepting(srv);
	connect_clients(port, fds, ports, 2);
	base = th_count_fds();
	ck_assert(!wk_server_wait_new_connection(srv, 100, &timed_out));
	ck_assert(!timed_out);
	assert_srv_error(srv, WK_OPERATION);
	ck_assert(!wk_server_has_pending(srv));
	ck_assert_ptr_null(wk_server_next_pending(srv));
	/* The connections wait in the kernel's backlog. */
	ck_assert_int_eq(th_count_fds(), base);
	ck_assert(wk_server_is_listening(srv));
	wk_server_resume_accepting(srv);
	for (int taken = 0; taken < 2; taken++) {
		wk_socket *s = take(srv);
		int i = wk_socket_peer_port(s) == ports[0] ? 0 : 1;

		ck_assert_uint_eq(wk_socket_peer_port(s), ports[i]);
		ck_assert(!seen[i]);
		seen[i] = true;
		wk_socket_free(s);
	}
	/* Paused with connections already taken in: those are handed out. */
	close_clients(fds, 2);
	connect_clients(port, fds, ports, 1);
	wait_ok(srv);
	wk_server_pause_accepting(srv);
	ck_assert(wk_server_has_pending(srv));
	wk_socket_free(wk_server_next_pending(srv));
	ck_assert(!wk_server_has_pending(srv));
	close_clients(fds, 1);
	wk_server_free(srv);
}
END_TEST

/* ---------------------------------------------------------------- errors */

START_TEST(test_address_in_use)
{
	wk_server *a = new_server(), *b = new_server();
	uint16_t port = listen_ok(a, "127.0.0.1");
	wk_addr lo = addr_of("127.0.0.1");
	char want[16];
	wk_socket *s;
	int fd;

	ck_assert(!wk_server_listen(b, &lo, port));
	assert_srv_error(b, WK_ADDRESS_IN_USE);
	snprintf(want, sizeof(want), "%u", (unsigned)port);
	ck_assert_msg(strstr(wk_server_error_string(b), want) != NULL,
	    "\"%s\" does not name port %s", wk_server_error_string(b), want);
	ck_assert(!wk_server_is_listening(b));
	ck_assert_int_eq(wk_server_descriptor(b), -1);
	/* The first one is unharmed. */
	fd = th_connect("127.0.0.1", port);
	ck_assert_int_ge(fd, 0);
	s = take(a);
	wk_socket_free(s);
	close(fd);
	wk_server_free(a);
	/* Once it is closed, the port can be had. */
	ck_assert_msg(wk_server_listen(b, &lo, port), "listen again: %s",
	    wk_server_error_string(b));
	ck_assert_uint_eq(wk_server_port(b), port);
	wk_server_free(b);
}
END_TEST

START_TEST(test_listen_twice)
{
	wk_server *srv = new_server();
	uint16_t port = listen_ok(srv, "127.0.0.1");
	wk_addr lo = addr_of("127.0.0.1");
	int fd = wk_server_descriptor(srv), c;

	ck_assert(!wk_server_listen(srv, &lo, 0));
	assert_srv_error(srv, WK_OPERATION);
	ck_assert(!wk_server_listen(srv, NULL, 0));
	assert_srv_error(srv, WK_OPERATION);
	ck_assert(wk_server_is_listening(srv));
	ck_assert_uint_eq(wk_server_port(srv), port);
	ck_assert_int_eq(wk_server_descriptor(srv), fd);
	c = th_connect("127.0.0.1", port);
	ck_assert_int_ge(c, 0);
	wk_socket_free(take(srv));
	close(c);
	wk_server_free(srv);
}
END_TEST

/* Is text an address of this host?  A raw bind tells. */
static bool
configured(const char *text)
{
	uint16_t port = 0;
	int fd = th_listen(text, &port, 1);

	if (fd >= 0) {
		close(fd);
		return true;
	}
	return errno != EADDRNOTAVAIL;
}

START_TEST(test_foreign_address)
{
	static const char *const foreign[] = { "192.0.2.77", "2001:db8::77" };
	wk_server *srv = new_server();

	for (size_t i = 0; i < COUNT(foreign); i++) {
		wk_addr a = addr_of(foreign[i]);

		if (configured(foreign[i])) {
			fprintf(stderr, "skip: %s can be bound here\n",
			    foreign[i]);
			continue;
		}
		ck_assert(!wk_server_listen(srv, &a, 0));
		assert_srv_error(srv, WK_ADDRESS_NOT_AVAILABLE);
		ck_assert_msg(strstr(wk_server_error_string(srv), foreign[i]),
		    "\"%s\" does not name %s", wk_server_error_string(srv),
		    foreign[i]);
		ck_assert(!wk_server_is_listening(srv));
		ck_assert_int_eq(wk_server_descriptor(srv), -1);
	}
	/* The object is fine for a listen that can work. */
	listen_ok(srv, "127.0.0.1");
	wk_server_free(srv);
}
END_TEST

/* ---------------------------------------------------------------- descriptors */

START_TEST(test_adopt_listening)
{
	wk_server *srv = new_server();
	uint16_t port = 0;
	int lfd = th_listen("127.0.0.1", &port, 16);
	wk_addr a, lo = addr_of("127.0.0.1");
	wk_socket *s;
	th_peer c;

	ck_assert_int_ge(lfd, 0);
	/* A blocking descriptor without close-on-exec, as from outside. */
	ck_assert_int_eq(fcntl(lfd, F_SETFD, 0), 0);
	ck_assert_msg(wk_server_set_descriptor(srv, lfd), "set_descriptor: %s",
	    wk_server_error_string(srv));
	ck_assert(wk_server_is_listening(srv));
	ck_assert_int_eq(wk_server_descriptor(srv), lfd);
	ck_assert_uint_eq(wk_server_port(srv), port);
	a = wk_server_address(srv);
	ck_assert(wk_addr_equal(&a, &lo, WK_ADDR_CMP_STRICT));
	ck_assert(fcntl(lfd, F_GETFD) & FD_CLOEXEC);
	/* Nothing pending: false at once (a blocking accept would hang). */
	ck_assert(!wk_server_has_pending(srv));
	ck_assert(!wk_server_set_descriptor(srv, lfd));
	assert_srv_error(srv, WK_OPERATION);
	start_client(&c, "127.0.0.1", port, client_ping);
	s = take(srv);
	ck_assert(th_peer_wait_signal(&c, 1, TH_WAIT_MSECS));
	assert_peer_is_client(s, &c, WK_ADDR_CMP_STRICT);
	serve_ping(s);
	wk_socket_free(s);
	join_peer(&c);
	wk_server_free(srv);	/* closes lfd */
}
END_TEST

/* Sends "late\n" a while after connecting, then waits for EOF. */
static const char *
client_late(th_peer *p)
{
	char c;

	if ((p->fd = th_connect(p->addr, p->port)) < 0)
		return "client: connect failed";
	/* Longer than the listener's receive timeout below. */
	th_sleep_ms(800);
	if (th_write_all(p->fd, "late\n", 5) != 0)
		return "client: send failed";
	if (recv(p->fd, &c, 1, 0) != 0)
		return "client: no EOF";
	return NULL;
}

/*
 * A listener from outside may carry a receive timeout, and accepted
 * sockets inherit it: a wait forever must still be a wait forever.
 */
START_TEST(test_adopt_listening_with_timeout)
{
	struct timeval tv = { 0, 200 * 1000 };
	wk_server *srv = new_server();
	uint16_t port = 0;
	int lfd = th_listen("127.0.0.1", &port, 16);
	char line[16];
	wk_socket *s;
	th_peer c;

	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)), 0);
	ck_assert(wk_server_set_descriptor(srv, lfd));
	start_client(&c, "127.0.0.1", port, client_late);
	s = take(srv);
	ck_assert_msg(wk_socket_wait_ready_read(s, -1), "wait forever: %s (%s)",
	    wk_error_name(wk_socket_error(s)), wk_socket_error_string(s));
	while (wk_socket_read_line(s, line, sizeof(line)) == 0)
		ck_assert(wk_socket_wait_ready_read(s, TH_WAIT_MSECS));
	ck_assert_str_eq(line, "late\n");
	wk_socket_disconnect(s);
	wk_socket_free(s);
	join_peer(&c);
	wk_server_free(srv);
}
END_TEST

START_TEST(test_set_descriptor_invalid)
{
	wk_server *srv = new_server();
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int bound = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int pipes[2];
	int bad[5];

	ck_assert(tcp >= 0 && bound >= 0 && udp >= 0);
	ck_assert_int_eq(pipe(pipes), 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(bound, (struct sockaddr *)&sin, sizeof(sin)), 0);
	bad[0] = -1;
	bad[1] = tcp;
	bad[2] = bound;
	bad[3] = udp;
	bad[4] = pipes[0];
	for (size_t i = 0; i < COUNT(bad); i++) {
		ck_assert_msg(!wk_server_set_descriptor(srv, bad[i]),
		    "descriptor %zu was taken", i);
		assert_srv_error(srv, WK_UNSUPPORTED_OPERATION);
		ck_assert(!wk_server_is_listening(srv));
		ck_assert_int_eq(wk_server_descriptor(srv), -1);
		if (bad[i] >= 0)
			ck_assert_int_ne(fcntl(bad[i], F_GETFD), -1);
	}
	wk_server_free(srv);
	close(tcp);
	close(bound);
	close(udp);
	close(pipes[0]);
	close(pipes[1]);
}
END_TEST

/* ---------------------------------------------------------------- closing */

START_TEST(test_close_drops_pending)
{
	wk_server *srv = new_server();
	int before = th_count_fds(), fds[3], base;
	uint16_t port = listen_ok(srv, "127.0.0.1"), ports[3];
	bool timed_out = true;
	char c;

	connect_clients(port, fds, ports, 3);
	base = th_count_fds();
	wait_ok(srv);
	ck_assert_int_ge(th_count_fds() - base, 1);
	wk_server_close(srv);
	ck_assert(!wk_server_is_listening(srv));
	ck_assert_int_eq(wk_server_descriptor(srv), -1);
	ck_assert_uint_eq(wk_server_port(srv), 0);
	ck_assert(!wk_server_has_pending(srv));
	ck_assert_ptr_null(wk_server_next_pending(srv));
	ck_assert(!wk_server_wait_new_connection(srv, 100, &timed_out));
	ck_assert(!timed_out);
	assert_srv_error(srv, WK_OPERATION);
	/* The listener and every pending connection are closed. */
	ck_assert_int_eq(th_count_fds(), before + 3);
	for (int i = 0; i < 3; i++) {
		ck_assert(th_poll(fds[i], POLLIN, TH_WAIT_MSECS));
		ck_assert_int_le(recv(fds[i], &c, 1, 0), 0);
	}
	close_clients(fds, 3);
	/* The object listens again. */
	port = listen_ok(srv, "127.0.0.1");
	fds[0] = th_connect("127.0.0.1", port);
	ck_assert_int_ge(fds[0], 0);
	wk_socket_free(take(srv));
	close(fds[0]);
	wk_server_free(srv);
	ck_assert_int_eq(th_count_fds(), before);
}
END_TEST

START_TEST(test_null_arguments)
{
	wk_server *srv = new_server();
	wk_addr null_addr = { 0 }, a;
	bool timed_out = true;

	wk_server_free(NULL);
	ck_assert(!wk_server_listen(NULL, NULL, 0));
	ck_assert(!wk_server_is_listening(NULL));
	wk_server_close(NULL);
	ck_assert(!wk_server_wait_new_connection(NULL, 0, &timed_out));
	ck_assert(!timed_out);
	ck_assert(!wk_server_wait_new_connection(NULL, 0, NULL));
	ck_assert(!wk_server_has_pending(NULL));
	ck_assert_ptr_null(wk_server_next_pending(NULL));
	ck_assert(!wk_server_set_max_pending(NULL, 3));
	ck_assert_int_eq(wk_server_max_pending(NULL), 0);
	wk_server_pause_accepting(NULL);
	wk_server_resume_accepting(NULL);
	ck_assert(!wk_server_set_descriptor(NULL, 0));
	ck_assert_int_eq(wk_server_descriptor(NULL), -1);
	ck_assert_uint_eq(wk_server_port(NULL), 0);
	a = wk_server_address(NULL);
	ck_assert(wk_addr_is_null(&a));
	ck_assert_int_eq(wk_server_error(NULL), WK_INVALID_ARGUMENT);
	ck_assert_ptr_nonnull(wk_server_error_string(NULL));

	ck_assert(!wk_server_listen(srv, &null_addr, 0));
	assert_srv_error(srv, WK_INVALID_ARGUMENT);
	ck_assert(!wk_server_is_listening(srv));
	/* Calls on a server that is not listening. */
	ck_assert(!wk_server_has_pending(srv));
	ck_assert_ptr_null(wk_server_next_pending(srv));
	wk_server_close(srv);
	wk_server_pause_accepting(srv);
	wk_server_resume_accepting(srv);
	a = wk_server_address(srv);
	ck_assert(wk_addr_is_null(&a));
	ck_assert_uint_eq(wk_server_port(srv), 0);
	ck_assert_ptr_nonnull(wk_server_error_string(srv));
	wk_server_free(srv);
}
END_TEST

/*
 * Out of descriptors: the wait fails with WK_SOCKET_RESOURCE, the server
 * keeps listening, and the connection is taken once there is room.
 */
START_TEST(test_descriptors_exhausted)
{
	wk_server *srv;
	uint16_t port, cport;
	int client;
	bool timed_out = true;
	char text[64];
	wk_socket *s;

	/*
	 * valgrind enforces its own copy of the limit by closing what the
	 * kernel returned: an accepted connection would be lost.
	 */
	if (th_valgrind()) {
		fprintf(stderr, "skip: descriptor exhaustion under valgrind\n");
		return;
	}
	srv = new_server();
	port = listen_ok(srv, "127.0.0.1");
	client = th_connect("127.0.0.1", port);
	ck_assert_int_ge(client, 0);
	ck_assert(th_sock_name(client, false, text, sizeof(text), &cport));
	ck_assert(th_poll(wk_server_descriptor(srv), POLLIN, TH_WAIT_MSECS) &
	    POLLIN);
	ck_assert_int_eq(th_fd_exhaust(), 0);
	ck_assert(!wk_server_wait_new_connection(srv, TH_WAIT_MSECS,
	    &timed_out));
	ck_assert(!timed_out);
	assert_srv_error(srv, WK_SOCKET_RESOURCE);
	ck_assert(!wk_server_has_pending(srv));
	assert_srv_error(srv, WK_SOCKET_RESOURCE);
	ck_assert(wk_server_is_listening(srv));
	th_fd_restore();
	s = take(srv);
	ck_assert_uint_eq(wk_socket_peer_port(s), cport);
	wk_socket_free(s);
	close(client);
	wk_server_free(srv);
}
END_TEST

/* ---------------------------------------------------------------- load */

#define CLIENT_THREADS 4
#define CLIENT_CONNECTIONS 50

/* p->count connections one after the other, each a "ping\n" echoed. */
static const char *
client_many(th_peer *p)
{
	char buf[8];

	for (int i = 0; i < p->count; i++) {
		if ((p->fd = th_connect(p->addr, p->port)) < 0)
			return "client: connect failed";
		if (th_write_all(p->fd, "ping\n", 5) != 0)
			return "client: send failed";
		if (th_read_exact(p->fd, buf, 5) != 0 ||
		    memcmp(buf, "ping\n", 5) != 0)
			return "client: no echo";
		if (recv(p->fd, buf, sizeof(buf), 0) != 0)
			return "client: no EOF";
		close(p->fd);
		p->fd = -1;
		p->received++;
	}
	return NULL;
}

/* Clients in several threads at once; the server serves each in turn. */
START_TEST(test_concurrent_clients)
{
	wk_server *srv = new_server();
	uint16_t port = listen_ok(srv, NULL);
	int before, total = CLIENT_THREADS * CLIENT_CONNECTIONS;
	th_peer c[CLIENT_THREADS];

	for (int i = 0; i < CLIENT_THREADS; i++) {
		th_peer_init(&c[i], -1);
		snprintf(c[i].addr, sizeof(c[i].addr), "127.0.0.1");
		c[i].port = port;
		c[i].count = CLIENT_CONNECTIONS;
		ck_assert(th_peer_start(&c[i], client_many));
	}
	for (int served = 0; served < total; served++) {
		wk_socket *s = take(srv);

		serve_ping(s);
		wk_socket_free(s);
	}
	for (int i = 0; i < CLIENT_THREADS; i++) {
		join_peer(&c[i]);
		ck_assert_uint_eq(c[i].received, CLIENT_CONNECTIONS);
	}
	before = th_count_fds();
	wk_server_free(srv);
	ck_assert_int_eq(th_count_fds(), before - 1);
}
END_TEST

/* ---------------------------------------------------------------- main */

static TCase *
tcase(Suite *s, const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, NULL, th_fd_restore);
	suite_add_tcase(s, tc);
	return tc;
}

int
main(void)
{
	Suite *s = suite_create("server");
	TCase *tc;
	SRunner *sr;
	int failed;

	tc = tcase(s, "listen");
	tcase_add_test(tc, test_any_ipv4_client);
	tcase_add_test(tc, test_any_ipv6_client);
	tcase_add_test(tc, test_specific_address);
	tcase_add_test(tc, test_wait_timeout);
	tcase_add_test(tc, test_wait_zero_sees_pending);
	tc = tcase(s, "pending");
	tcase_add_test(tc, test_max_pending);
	tcase_add_test(tc, test_max_pending_resize);
	tcase_add_test(tc, test_pause_resume);
	tc = tcase(s, "errors");
	tcase_add_test(tc, test_address_in_use);
	tcase_add_test(tc, test_listen_twice);
	tcase_add_test(tc, test_foreign_address);
	tcase_add_test(tc, test_null_arguments);
	tcase_add_test(tc, test_descriptors_exhausted);
	tc = tcase(s, "descriptors");
	tcase_add_test(tc, test_adopt_listening);
	tcase_add_test(tc, test_adopt_listening_with_timeout);
	tcase_add_test(tc, test_set_descriptor_invalid);
	tc = tcase(s, "closing");
	tcase_add_test(tc, test_close_drops_pending);
	tc = tcase(s, "load");
	tcase_add_test(tc, test_concurrent_clients);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
