/*
 * server.c - the TCP server: listening, accepting into a queue of
 * pending connections, and handing them out
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <wirekit/server.h>

#include "clock.h"
#include "engine.h"
#include "server-private.h"
#include "socket-private.h"

#define DEFAULT_MAX_PENDING 30	/* Qt's maxPendingConnections */
#define BACKLOG 50		/* Qt's listen() backlog */

wk_server *
wk_server_new(void)
{
	wk_server *srv = calloc(1, sizeof(*srv));

	if (!srv)
		return NULL;
	srv->fd = -1;
	srv->max_pending = DEFAULT_MAX_PENDING;
	return srv;
}

static void
drop_pending(wk_server *srv)
{
	while (srv->count) {
		wk_socket_free(srv->pending[srv->head]);
		srv->head = (srv->head + 1) % (size_t)srv->max_pending;
		srv->count--;
	}
	free(srv->pending);
	srv->pending = NULL;
	srv->head = 0;
}

void
wk_server_close(wk_server *srv)
{
	if (!srv)
		return;
	wk__fd_close(srv->fd);
	srv->fd = -1;
	drop_pending(srv);
	srv->addr = (wk_addr){ 0 };
	srv->port = 0;
	srv->paused = false;
	srv->adopted = false;
}

void
wk_server_free(wk_server *srv)
{
	if (!srv)
		return;
	/* A started or serving server: its threads are stopped first. */
	if (srv->free_hook)
		srv->free_hook(srv);
	wk_server_close(srv);
	wk__err_clear(&srv->err);
	free(srv);
}

/* Takes the listening descriptor: its address, and room for the queue. */
static bool
adopt(wk_server *srv, int fd, bool any)
{
	if (!srv->pending && !(srv->pending = calloc((size_t)srv->max_pending,
	    sizeof(*srv->pending)))) {
		wk__err_set_sys(&srv->err, ENOMEM, "listen");
		return false;
	}
	srv->fd = fd;
	wk__fd_name(fd, false, &srv->addr, &srv->port);
	if (any)
		srv->addr = wk_addr_special(WK_ADDR_ANY);
	return true;
}

/* A listening socket for a on port; 0 or an errno value. */
static int
open_listener(const wk_addr *a, uint16_t port, bool dual_stack, int *fd)
{
	int err = wk__fd_socket(a->family == WK_FAMILY_IPV4 ? AF_INET :
	    AF_INET6, WK_SOCKET_TCP, fd);

	if (err)
		return err;
	if ((dual_stack && (err = wk__fd_set_v6only(*fd, false)) != 0) ||
	    (err = wk__fd_bind(*fd, a, port, WK_REUSE_ADDRESS_HINT)) != 0 ||
	    (err = wk__fd_listen(*fd, BACKLOG)) != 0) {
		wk__fd_close(*fd);
		*fd = -1;
	}
	return err;
}

bool
wk_server_listen(wk_server *srv, const wk_addr *addr, uint16_t port)
{
	bool any = !addr || addr->family == WK_FAMILY_ANY;
	wk_addr a = any ? wk_addr_special(WK_ADDR_ANY_IPV6) : *addr;
	char text[WK_ADDR_STRLEN];
	int fd, err;

	if (!srv)
		return false;
	wk__err_clear(&srv->err);
	if (srv->fd >= 0) {
		wk__err_set(&srv->err, WK_OPERATION,
		    "listen: the server is already listening on port %u",
		    (unsigned)srv->port);
		return false;
	}
	if (a.family != WK_FAMILY_IPV4 && a.family != WK_FAMILY_IPV6) {
		wk__err_set(&srv->err, WK_INVALID_ARGUMENT,
		    "listen: the address is the null address");
		return false;
	}
	err = open_listener(&a, port, any, &fd);
	if (any && err == EAFNOSUPPORT) {	/* no IPv6 here: IPv4 alone */
		a = wk_addr_special(WK_ADDR_ANY_IPV4);
		err = open_listener(&a, port, false, &fd);
	}
	if (err) {
		wk_addr_format(&a, text, sizeof(text));
		wk__err_set_sys(&srv->err, err, "listen on %s port %u",
		    any ? "any address" : text, (unsigned)port);
		return false;
	}
	if (!adopt(srv, fd, any)) {
		wk__fd_close(fd);
		return false;
	}
	return true;
}

bool
wk_server_is_listening(const wk_server *srv)
{
	return srv && srv->fd >= 0;
}

/*
 * Accepts one connection the kernel has queued, when there is room.  A
 * failed accept that says nothing about the next one (the peer gave up)
 * is passed over; running out of descriptors or memory stops here with
 * the error set, and the connections wait in the backlog.  One at a
 * time: an accept that only finds the queue empty is a wasted call.
 */
static void
accept_some(wk_server *srv)
{
	wk_socket *s = NULL;
	wk_addr peer;
	uint16_t port;
	int conn, err;

	while (srv->fd >= 0 && !srv->paused &&
	    srv->count < (size_t)srv->max_pending) {
		/* Memory first: without it the client stays in the backlog. */
		if (!s && !(s = wk__socket_new(WK_SOCKET_TCP))) {
			wk__err_set_sys(&srv->err, ENOMEM, "accept on port %u",
			    (unsigned)srv->port);
			return;
		}
		err = wk__fd_accept(srv->fd, &conn, &peer, &port);
		if (err == EAGAIN || err == EWOULDBLOCK)
			break;
		/* accept(2): these belong to the connection, not the socket. */
		if (err == ECONNABORTED || err == EPROTO || err == EPERM ||
		    err == ENETDOWN || err == ENOPROTOOPT || err == EHOSTDOWN ||
		    err == ENONET || err == EHOSTUNREACH || err == EOPNOTSUPP ||
		    err == ENETUNREACH)
			continue;
		if (err) {
			wk__err_set_sys(&srv->err, err, "accept on port %u",
			    (unsigned)srv->port);
			break;
		}
		/* A fresh descriptor: adopting it cannot fail. */
		(void)wk__socket_adopt(s, conn, WK_STATE_CONNECTED, true);
		s->peer = peer;
		s->peer_port = port;
		s->peer_known = true;
		/* An outside listener's receive timeout is inherited. */
		if (srv->adopted)
			s->rcv_timeout_ms = -2;
		srv->pending[(srv->head + srv->count++) % (size_t)srv->max_pending] = s;
		return;
	}
	wk_socket_free(s);
}

static bool
check_listening(wk_server *srv, const char *what)
{
	if (srv->fd >= 0)
		return true;
	wk__err_set(&srv->err, WK_OPERATION, "%s: the server is not listening",
	    what);
	return false;
}

bool
wk_server_wait_new_connection(wk_server *srv, int msecs, bool *timed_out)
{
	int64_t deadline = wk__deadline(msecs);
	short revents;
	int err;

	if (timed_out)
		*timed_out = false;
	if (!srv)
		return false;
	wk__err_clear(&srv->err);
	if (srv->count)
		return true;
	if (!check_listening(srv, "wait for a connection"))
		return false;
	if (srv->paused) {
		wk__err_set(&srv->err, WK_OPERATION,
		    "wait for a connection: accepting is paused");
		return false;
	}
	for (;;) {
		if ((err = wk__fd_wait(srv->fd, POLLIN, deadline, &revents))) {
			wk__err_set_sys(&srv->err, err, "wait for a connection");
			return false;
		}
		if (!revents && wk__now_ns() >= deadline)
			break;
		accept_some(srv);
		if (srv->count)
			return true;
		if (srv->err.code != WK_NO_ERROR)
			return false;
	}
	if (timed_out)
		*timed_out = true;
	wk__err_set(&srv->err, WK_SOCKET_TIMEOUT,
	    "wait for a connection on port %u: timed out after %d ms",
	    (unsigned)srv->port, msecs);
	return false;
}

bool
wk_server_has_pending(wk_server *srv)
{
	if (!srv)
		return false;
	wk__err_clear(&srv->err);
	if (!srv->count)
		accept_some(srv);
	return srv->count > 0;
}

wk_socket *
wk_server_next_pending(wk_server *srv)
{
	wk_socket *s;

	if (!wk_server_has_pending(srv))
		return NULL;
	s = srv->pending[srv->head];
	srv->head = (srv->head + 1) % (size_t)srv->max_pending;
	srv->count--;
	return s;
}

bool
wk_server_set_max_pending(wk_server *srv, int count)
{
	wk_socket **ring;

	if (!srv)
		return false;
	wk__err_clear(&srv->err);
	if (count < 1 || (size_t)count < srv->count) {
		wk__err_set(&srv->err, WK_INVALID_ARGUMENT,
		    "set max pending: %d is below 1 or the %zu waiting", count,
		    srv->count);
		return false;
	}
	if (srv->pending) {
		if (!(ring = calloc((size_t)count, sizeof(*ring)))) {
			wk__err_set_sys(&srv->err, ENOMEM, "set max pending");
			return false;
		}
		for (size_t i = 0; i < srv->count; i++)
			ring[i] = srv->pending[(srv->head + i) %
			    (size_t)srv->max_pending];
		free(srv->pending);
		srv->pending = ring;
		srv->head = 0;
	}
	srv->max_pending = count;
	return true;
}

int
wk_server_max_pending(const wk_server *srv)
{
	return srv ? srv->max_pending : 0;
}

void
wk_server_pause_accepting(wk_server *srv)
{
	if (srv)
		srv->paused = true;
}

void
wk_server_resume_accepting(wk_server *srv)
{
	if (srv)
		srv->paused = false;
}

bool
wk_server_set_descriptor(wk_server *srv, int fd)
{
	int type, family = 0, listening = 0, err;

	if (!srv)
		return false;
	wk__err_clear(&srv->err);
	if (srv->fd >= 0) {
		wk__err_set(&srv->err, WK_OPERATION,
		    "set descriptor: the server is already listening");
		return false;
	}
	if (fd < 0 || wk__fd_type(fd, &type) != 0 || type != SOCK_STREAM ||
	    wk__fd_family(fd, &family) != 0 ||
	    (family != AF_INET && family != AF_INET6) ||
	    wk__fd_listening(fd, &listening) != 0 || !listening) {
		wk__err_set(&srv->err, WK_UNSUPPORTED_OPERATION,
		    "set descriptor: %d is not a listening TCP socket", fd);
		return false;
	}
	if ((err = wk__fd_take(fd, false)) != 0) {
		wk__err_set_sys(&srv->err, err, "set descriptor %d", fd);
		return false;
	}
	if (!adopt(srv, fd, false))
		return false;
	srv->adopted = true;
	return true;
}

int
wk_server_descriptor(const wk_server *srv)
{
	return srv ? srv->fd : -1;
}

uint16_t
wk_server_port(const wk_server *srv)
{
	return srv ? srv->port : 0;
}

wk_addr
wk_server_address(const wk_server *srv)
{
	static const wk_addr null_addr;

	return srv ? srv->addr : null_addr;
}

wk_error
wk_server_error(const wk_server *srv)
{
	return srv ? srv->err.code : WK_INVALID_ARGUMENT;
}

const char *
wk_server_error_string(const wk_server *srv)
{
	return srv ? wk__err_string(&srv->err) : "the server is NULL";
}
