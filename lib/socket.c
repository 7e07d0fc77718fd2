/*
 * socket.c - the socket object: states, buffered input and output, the
 * blocking waits, closing, options and descriptors
 *
 * Every wait is the same loop: poll() what the state needs, take one
 * step, and go on until the wait's condition holds, an error ends it or
 * the deadline passes; the time left is recomputed before each poll().
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "engine.h"
#include "socket-private.h"

/*
 * How much one read from the kernel asks for when it fills the buffer:
 * big enough for bulk transfers to need few system calls.
 */
#define READ_CHUNK (64 * 1024)

/*
 * How much a blocking wait reads into an empty buffer: enough for a
 * message, while the bulk of a transfer is left in the kernel for the
 * next read() to take straight into the caller's buffer, copied once.
 */
#define WAIT_CHUNK 4096

/* ---------------------------------------------------------------- life */

wk_socket *
wk__socket_new(wk_socket_type type)
{
	wk_socket *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->type = type;
	s->fd = -1;
	s->family = WK_FAMILY_ANY;
	s->connect_timeout_ms = WK__CONNECT_TIMEOUT_MS;
	return s;
}

wk_socket *
wk_tcp_socket(void)
{
	return wk__socket_new(WK_SOCKET_TCP);
}

void
wk__socket_set_state(wk_socket *s, wk_state state)
{
	if (s->log_states && state != s->state) {
		unsigned i = (s->log_head + s->log_count) % WK__STATE_LOG;

		s->state_log[i] = (struct wk__state_change){ s->state, state,
		    s->err.code };
		if (s->log_count < WK__STATE_LOG)
			s->log_count++;
		else	/* full: the oldest goes */
			s->log_head = (s->log_head + 1) % WK__STATE_LOG;
	}
	s->state = state;
}

/* The oldest state change not looked at yet; false when none is left. */
bool
wk__socket_next_change(wk_socket *s, struct wk__state_change *c)
{
	if (s->log_count == 0)
		return false;
	*c = s->state_log[s->log_head];
	s->log_head = (s->log_head + 1) % WK__STATE_LOG;
	s->log_count--;
	return true;
}

/* The descriptor goes, and with it the addresses (as Qt clears them). */
void
wk__socket_close_fd(wk_socket *s)
{
	if (s->close_hook && s->fd >= 0)
		s->close_hook(s);
	wk__fd_close(s->fd);
	s->fd = -1;
	s->read_eof = false;
	s->write_closed = s->fin_sent = false;
	s->peer = s->local = (wk_addr){ 0 };
	s->peer_port = s->local_port = 0;
	s->peer_known = s->local_known = false;
	s->af = 0;
	if (s->type == WK_SOCKET_UDP) {	/* a held datagram goes too */
		s->held = false;
		wk__buf_clear(&s->rbuf);
	}
}

/*
 * Reads the addresses the kernel holds, the first time one is asked for:
 * most connections never ask, and each is a system call.  The getters
 * take a const socket; the cache is not part of its visible state.
 */
static void
load_names(const wk_socket *cs)
{
	wk_socket *s = (wk_socket *)cs;

	if (s->fd < 0)
		return;
	if (!s->peer_known && (s->state == WK_STATE_CONNECTED ||
	    s->state == WK_STATE_CLOSING))
		s->peer_known = wk__fd_name(s->fd, true, &s->peer,
		    &s->peer_port) == 0;
	if (!s->local_known)
		s->local_known = wk__fd_name(s->fd, false, &s->local,
		    &s->local_port) == 0;
}

/* Closes now: the queue is dropped; what was read stays readable. */
static void
close_now(wk_socket *s)
{
	wk__tcp_cancel(s);
	wk__socket_close_fd(s);
	wk__buf_clear(&s->wbuf);
	wk__socket_set_state(s, WK_STATE_UNCONNECTED);
}

void
wk_socket_free(wk_socket *s)
{
	if (!s)
		return;
	/* A started socket: its thread stops first, or frees it later. */
	if (s->free_hook && !s->free_hook(s))
		return;
	close_now(s);
	wk__buf_free(&s->rbuf);
	wk__buf_free(&s->wbuf);
	wk__err_clear(&s->err);
	free(s->peer_name);
	free(s);
}

wk_socket_type
wk_socket_get_type(const wk_socket *s)
{
	return s ? s->type : WK_SOCKET_TCP;
}

wk_state
wk_socket_state(const wk_socket *s)
{
	return s ? s->state : WK_STATE_UNCONNECTED;
}

wk_error
wk_socket_error(const wk_socket *s)
{
	return s ? s->err.code : WK_INVALID_ARGUMENT;
}

const char *
wk_socket_error_string(const wk_socket *s)
{
	return s ? wk__err_string(&s->err) : "the socket is NULL";
}

/*
 * "host:port", or "[v6]:port", for error strings: the host as given to
 * connect, else the peer's address (an accepted connection).
 */
const char *
wk__socket_target(wk_socket *s)
{
	static __thread char text[320];
	char addr[WK_ADDR_STRLEN];
	const char *host = s->peer_name;
	uint16_t port = s->peer_name ? s->connect_port : s->peer_port;

	if (!host) {
		load_names(s);
		wk_addr_format(&s->peer, addr, sizeof(addr));
		host = addr;
	}

	snprintf(text, sizeof(text), strchr(host, ':') ? "[%s]:%u" : "%s:%u",
	    host, (unsigned)port);
	return text;
}

/* ---------------------------------------------------------------- options */

void
wk__socket_apply_options(wk_socket *s, int fd, int family)
{
	for (int i = 0; i < WK__OPTION_COUNT; i++)
		if (s->option_set[i])
			wk__fd_set_option(fd, family, (wk_socket_option)i,
			    s->options[i]);
}

/* The descriptor's family, asked of the kernel once. */
int
wk__socket_family(wk_socket *s)
{
	int family = AF_INET6;

	if (s->af)
		return s->af;
	if (s->fd >= 0 && wk__fd_family(s->fd, &family) == 0)
		s->af = family;
	return family;
}

bool
wk_socket_set_option(wk_socket *s, wk_socket_option option, int value)
{
	int err;

	if (!s)
		return false;
	wk__err_clear(&s->err);
	if ((unsigned)option >= WK__OPTION_COUNT || option == WK_OPT_PATH_MTU) {
		wk__err_set(&s->err, WK_INVALID_ARGUMENT,
		    "set option %d: no such option, or it is read-only",
		    (int)option);
		return false;
	}
	s->options[option] = value;
	s->option_set[option] = true;
	if (s->fd < 0)
		return true;	/* applied when a descriptor exists */
	if ((err = wk__fd_set_option(s->fd, wk__socket_family(s), option, value))) {
		wk__err_set_sys(&s->err, err, "set option %d to %d",
		    (int)option, value);
		return false;
	}
	return true;
}

bool
wk_socket_get_option(wk_socket *s, wk_socket_option option, int *value)
{
	int err;

	if (!s)
		return false;
	wk__err_clear(&s->err);
	if ((unsigned)option >= WK__OPTION_COUNT || !value) {
		wk__err_set(&s->err, WK_INVALID_ARGUMENT,
		    "get option %d: no such option, or value is NULL",
		    (int)option);
		return false;
	}
	if (s->fd < 0) {
		*value = s->option_set[option] ? s->options[option] : -1;
		return true;
	}
	if ((err = wk__fd_get_option(s->fd, wk__socket_family(s), option, value))) {
		wk__err_set_sys(&s->err, err, "get option %d", (int)option);
		return false;
	}
	/* SO_SNDBUF and SO_RCVBUF read back doubled on Linux; report that. */
	return true;
}

/* ---------------------------------------------------------------- connecting */

/* A connection is up on fd, to peer (options were applied before). */
void
wk__socket_connected(wk_socket *s, int fd, const wk_addr *peer)
{
	s->fd = fd;
	s->blocking = false;
	s->rcv_timeout_ms = -1;
	s->peer = *peer;
	s->peer_port = s->connect_port;
	s->peer_known = true;
	s->local_known = false;
	s->af = peer->family == WK_FAMILY_IPV4 ? AF_INET : AF_INET6;
	wk__socket_set_state(s, WK_STATE_CONNECTED);
}

static bool
connect_begin(wk_socket *s, const char *host, uint16_t port)
{
	if (s->state != WK_STATE_UNCONNECTED && s->state != WK_STATE_BOUND) {
		wk__err_set(&s->err, WK_OPERATION,
		    "connect to %s:%u: the socket is %s", host, (unsigned)port,
		    wk_state_name(s->state));
		return false;
	}
	free(s->peer_name);
	if (!(s->peer_name = strdup(host))) {
		wk__err_set_sys(&s->err, ENOMEM, "connect to %s", host);
		return false;
	}
	s->connect_port = port;
	s->peer_gone = false;
	wk__buf_clear(&s->rbuf);
	wk__buf_clear(&s->wbuf);
	return true;
}

bool
wk_socket_connect(wk_socket *s, const char *host, uint16_t port)
{
	wk_addr addr;

	if (!s)
		return false;
	wk__err_clear(&s->err);
	if (!host) {
		wk__err_set(&s->err, WK_INVALID_ARGUMENT,
		    "connect: the host is NULL");
		return false;
	}
	if (!connect_begin(s, host, port))
		return false;
	if (wk_addr_parse(&addr, host))
		return wk__tcp_start(s, wk__socket_target(s), &addr);
	return wk__tcp_start(s, host, NULL);
}

bool
wk_socket_connect_addr(wk_socket *s, const wk_addr *addr, uint16_t port)
{
	char text[WK_ADDR_STRLEN];

	if (!s)
		return false;
	wk__err_clear(&s->err);
	if (!addr || (addr->family != WK_FAMILY_IPV4 &&
	    addr->family != WK_FAMILY_IPV6)) {
		wk__err_set(&s->err, WK_INVALID_ARGUMENT,
		    "connect: the address is %s", addr ? "not IPv4 or IPv6" :
		    "NULL");
		return false;
	}
	wk_addr_format(addr, text, sizeof(text));
	if (!connect_begin(s, text, port))
		return false;
	return wk__tcp_start(s, wk__socket_target(s), addr);
}

bool
wk_socket_set_family(wk_socket *s, wk_family family)
{
	if (!s)
		return false;
	wk__err_clear(&s->err);
	if (family == WK_FAMILY_NONE)
		family = WK_FAMILY_ANY;
	if (family != WK_FAMILY_ANY && family != WK_FAMILY_IPV4 &&
	    family != WK_FAMILY_IPV6) {
		wk__err_set(&s->err, WK_INVALID_ARGUMENT,
		    "set family: %d is not WK_FAMILY_ANY, _IPV4 or _IPV6",
		    (int)family);
		return false;
	}
	s->family = family;
	return true;
}

bool
wk_socket_set_connect_timeout(wk_socket *s, int msecs)
{
	if (!s)
		return false;
	s->connect_timeout_ms = msecs < -1 ? 0 : msecs;
	return true;
}

/* ---------------------------------------------------------------- moving bytes */

/*
 * The peer closed: Qt's order, the error first, then the states.  A peer
 * that only shut down its sending side still reads, so while output is
 * queued the connection stays up, reading no more, until the queue is
 * out (drain() comes back here then).
 */
static void
peer_closed(wk_socket *s)
{
	if (wk__buf_len(&s->wbuf) && s->fd >= 0 &&
	    s->state == WK_STATE_CONNECTED) {
		s->read_eof = true;
		return;
	}
	wk__err_set(&s->err, WK_REMOTE_HOST_CLOSED,
	    "read from %s: the remote host closed the connection",
	    wk__socket_target(s));
	s->peer_gone = true;
	wk__socket_set_state(s, WK_STATE_CLOSING);
	wk__socket_close_fd(s);
	wk__buf_clear(&s->wbuf);
	wk__socket_set_state(s, WK_STATE_UNCONNECTED);
}

/* A read or write failed with err: the connection is gone. */
static void
io_failed(wk_socket *s, int err, const char *what)
{
	wk__err_set_sys(&s->err, err, "%s %s", what, wk__socket_target(s));
	wk__socket_close_fd(s);
	wk__buf_clear(&s->wbuf);
	wk__socket_set_state(s, WK_STATE_UNCONNECTED);
}

/*
 * Room for want more bytes in the read buffer; NULL with the error set
 * when memory runs out.
 */
static char *
read_space(wk_socket *s, size_t want)
{
	char *p = wk__buf_space(&s->rbuf, want);

	if (!p)
		wk__err_set_sys(&s->err, ENOMEM, "read from %s",
		    wk__socket_target(s));
	return p;
}

/*
 * What a receive into the read buffer gave: the bytes (now buffered), 0
 * when nothing was there, -1 when the connection ended.
 */
static ssize_t
took(wk_socket *s, ssize_t n, int err)
{
	if (n > 0) {
		wk__buf_commit(&s->rbuf, (size_t)n);
		s->rx_count += (uint64_t)n;
		return n;
	}
	if (n == 0)
		peer_closed(s);
	else if (err == EAGAIN || err == EWOULDBLOCK)
		return 0;
	else
		io_failed(s, err, "read from");
	return -1;
}

/*
 * Reads what the kernel has, up to READ_CHUNK and the read buffer's
 * limit, into the read buffer.  Returns the bytes read, 0 when nothing
 * was there (or there is no room), -1 when the connection ended.
 */
static ssize_t
fill(wk_socket *s)
{
	size_t want = READ_CHUNK, len = wk__buf_len(&s->rbuf);
	ssize_t n;
	char *p;
	int err;

	if (s->fd < 0 || (s->state != WK_STATE_CONNECTED &&
	    s->state != WK_STATE_CLOSING))
		return s->state == WK_STATE_UNCONNECTED ? -1 : 0;
	if (s->read_eof)
		return 0;	/* the end was read; the queue is going out */
	if (s->read_limit) {
		if (len >= s->read_limit)
			return 0;
		if (want > s->read_limit - len)
			want = s->read_limit - len;
	}
	if (!(p = read_space(s, want)))
		return -1;
	n = wk__fd_recv(s->fd, p, want, &err);
	return took(s, n, err);
}

/*
 * The fast wait for input when nothing is queued for output: one recv()
 * that blocks until the deadline less the timer's slack (msecs is the
 * wait's own, just turned into deadline).  Returns as
 * fill() does; 0 when the time ran out, and poll() waits the rest.
 */
static ssize_t
fill_wait(wk_socket *s, int64_t deadline, int msecs)
{
	size_t len = wk__buf_len(&s->rbuf);
	size_t want = len ? READ_CHUNK : WAIT_CHUNK;
	ssize_t n;
	char *p;
	int err;

	if (s->read_limit && want > s->read_limit - len)
		want = s->read_limit - len;
	if (!(p = read_space(s, want)))
		return -1;
	if (!s->blocking && wk__fd_set_blocking(s->fd, true) == 0)
		s->blocking = true;
	if (deadline != WK__FOREVER)
		deadline -= WK__RCVTIMEO_SLACK_MS * WK__NS_PER_MS;
	n = s->blocking ? wk__fd_recv_wait(s->fd, p, want, deadline,
	    msecs == -1 ? -1 : msecs - WK__RCVTIMEO_SLACK_MS,
	    &s->rcv_timeout_ms, &err) : (err = EAGAIN, -1);
	return took(s, n, err);
}

/*
 * After wk_socket_close_write(), once the queue is out: the end of the
 * stream goes to the peer.  False when the connection failed.
 */
static bool
send_fin(wk_socket *s)
{
	int err;

	if (!s->write_closed || s->fin_sent || s->fd < 0 ||
	    wk__buf_len(&s->wbuf) > 0)
		return true;
	s->fin_sent = true;
	if ((err = wk__fd_shutdown_write(s->fd)) == 0 || err == ENOTCONN)
		return true;
	io_failed(s, err, "close the writing side of");
	return false;
}

/* Sends what the kernel takes of the queue; -1 when the connection ended. */
static ssize_t
drain(wk_socket *s)
{
	size_t len = wk__buf_len(&s->wbuf);
	ssize_t n;
	int err;

	if (len == 0 || s->fd < 0)
		return 0;
	n = wk__fd_send(s->fd, wk__buf_head(&s->wbuf), len, &err);
	if (n >= 0) {
		wk__buf_drop(&s->wbuf, (size_t)n);
		s->tx_count += (uint64_t)n;
		if (!send_fin(s))
			return -1;
		/* The peer's end came while this was queued: now it closes. */
		if (s->read_eof && wk__buf_len(&s->wbuf) == 0)
			peer_closed(s);
		return n;
	}
	if (err == EAGAIN || err == EWOULDBLOCK)
		return 0;
	io_failed(s, err, "write to");
	return -1;
}

/*
 * The end of a graceful close: everything queued is with the kernel,
 * which sends it and then the FIN after close().
 */
static void
finish_close(wk_socket *s)
{
	wk__socket_close_fd(s);
	wk__socket_set_state(s, WK_STATE_UNCONNECTED);
}

/* CLOSING: the queue goes out first, then the connection is closed. */
static void
begin_close(wk_socket *s)
{
	s->close_after_connect = false;
	wk__socket_set_state(s, WK_STATE_CLOSING);
	drain(s);
	if (s->state == WK_STATE_CLOSING && wk__buf_len(&s->wbuf) == 0)
		finish_close(s);
}

/* ---------------------------------------------------------------- the wait loop */

enum want { WANT_CONNECTED, WANT_READ, WANT_WRITTEN, WANT_CLOSED };

/*
 * Polls for what the state needs: the connect while connecting, input
 * (unless the read buffer is full) and the queue's progress after.
 * Returns false when the deadline passed.
 */
unsigned
wk__socket_pollfds(wk_socket *s, struct pollfd *fds, int64_t *wake)
{
	unsigned n = wk__tcp_pollfds(s, fds, wake);

	if (n == 0 && s->fd >= 0) {
		short ev = 0;

		if (!s->read_eof && (!s->read_limit ||
		    wk__buf_len(&s->rbuf) < s->read_limit))
			ev |= POLLIN;
		if (wk__buf_len(&s->wbuf))
			ev |= POLLOUT;
		fds[n++] = (struct pollfd){ .fd = s->fd, .events = ev };
	}
	return n;
}

static bool
poll_once(wk_socket *s, int64_t deadline, struct pollfd *fds, unsigned *n)
{
	int64_t wake = deadline;
	int ready, err;

	*n = wk__socket_pollfds(s, fds, &wake);
	if ((err = wk__fd_poll(fds, *n, wake, &ready)) != 0) {
		wk__err_set_sys(&s->err, err, "wait on %s", wk__socket_target(s));
		return false;
	}
	return ready > 0 || wake < deadline || wk__now_ns() < deadline;
}

/* One step after poll(); returns how many new bytes were read. */
static ssize_t
step(wk_socket *s, const struct pollfd *fds, unsigned n, bool *wrote)
{
	ssize_t got = 0;

	*wrote = false;
	if (s->state == WK_STATE_HOST_LOOKUP || s->state == WK_STATE_CONNECTING) {
		wk__tcp_progress(s, fds, n);
		if (s->state == WK_STATE_CONNECTED && s->close_after_connect)
			begin_close(s);
		return 0;
	}
	if (n == 0 || s->fd < 0)
		return 0;
	if (fds[0].revents & (POLLOUT | POLLERR | POLLHUP))
		*wrote = drain(s) > 0;
	if (s->fd >= 0 && (fds[0].revents & (POLLIN | POLLERR | POLLHUP)))
		got = fill(s);
	if (s->state == WK_STATE_CLOSING && s->fd >= 0 &&
	    wk__buf_len(&s->wbuf) == 0)
		finish_close(s);
	return got;
}

/* The callback layer's step: what poll() found, acted on. */
void
wk__socket_step(wk_socket *s, const struct pollfd *fds, unsigned n)
{
	bool wrote;

	step(s, fds, n, &wrote);
}

static bool
wait_done(wk_socket *s, enum want want, ssize_t got, bool wrote)
{
	switch (want) {
	case WANT_CONNECTED:
		return s->state != WK_STATE_HOST_LOOKUP &&
		    s->state != WK_STATE_CONNECTING;
	case WANT_READ:
		return got != 0 || s->state == WK_STATE_UNCONNECTED;
	case WANT_WRITTEN:
		return wrote || s->state == WK_STATE_UNCONNECTED;
	case WANT_CLOSED:
	default:
		return s->state == WK_STATE_UNCONNECTED;
	}
}

/*
 * Runs the loop until want is met or the deadline passes.  The deadline
 * is checked after every step too: a descriptor that stays ready
 * without progress (a hang-up) must not keep the loop past it.  msecs
 * is what the caller asked for, for the message.
 */
static bool
wait_loop(wk_socket *s, enum want want, int64_t deadline, int msecs,
    const char *what)
{
	struct pollfd fds[WK__MAX_ATTEMPTS + 1];
	unsigned n;
	ssize_t got = 0;
	bool wrote = false;

	while (!wait_done(s, want, got, wrote)) {
		if (poll_once(s, deadline, fds, &n)) {
			got = step(s, fds, n, &wrote);
			if (wait_done(s, want, got, wrote) ||
			    deadline == WK__FOREVER || wk__now_ns() < deadline)
				continue;
		}
		if (s->err.code == WK_NO_ERROR)
			wk__err_set(&s->err, WK_SOCKET_TIMEOUT,
			    "%s %s: timed out after %d ms", what,
			    wk__socket_target(s), msecs);
		return false;
	}
	return true;
}

bool
wk_socket_wait_connected(wk_socket *s, int msecs)
{
	if (!s)
		return false;
	if (msecs == -1 && s->idle_ms > 0)
		msecs = s->idle_ms;
	wk__err_clear(&s->err);
	if (s->state == WK_STATE_CONNECTED)
		return true;
	if (s->state != WK_STATE_HOST_LOOKUP && s->state != WK_STATE_CONNECTING) {
		wk__err_set(&s->err, WK_OPERATION,
		    "wait for a connection: the socket is %s",
		    wk_state_name(s->state));
		return false;
	}
	if (wait_loop(s, WANT_CONNECTED, wk__deadline(msecs), msecs,
	    "connect to"))
		return s->state == WK_STATE_CONNECTED ||
		    s->state == WK_STATE_CLOSING;
	/* As Qt: a connect that timed out is given up. */
	if (s->err.code == WK_SOCKET_TIMEOUT)
		close_now(s);
	return false;
}

/*
 * Waits through a connect in progress, then for what want asks, all
 * under one deadline.  A connect that ended in a clean close (data
 * queued before a disconnect, delivered) has met WANT_CLOSED and
 * WANT_WRITTEN already.
 */
static bool
wait_connected_then(wk_socket *s, enum want want, int64_t deadline,
    int msecs, const char *what)
{
	if (s->state == WK_STATE_HOST_LOOKUP || s->state == WK_STATE_CONNECTING) {
		if (!wait_loop(s, WANT_CONNECTED, deadline, msecs, "connect to"))
			return false;
		if (s->state == WK_STATE_UNCONNECTED)
			return want != WANT_READ && s->err.code == WK_NO_ERROR;
	}
	return wait_loop(s, want, deadline, msecs, what);
}

bool
wk_socket_wait_ready_read(wk_socket *s, int msecs)
{
	int64_t deadline;
	size_t before;
	ssize_t got;

	if (!s)
		return false;
	if (msecs == -1 && s->idle_ms > 0)
		msecs = s->idle_ms;
	wk__err_clear(&s->err);
	if (s->type == WK_SOCKET_UDP)
		return wk__udp_wait(s, msecs);
	if (s->state == WK_STATE_UNCONNECTED && s->peer_gone) {
		/* A read saw the end already: say so again, as Qt would. */
		wk__err_set(&s->err, WK_REMOTE_HOST_CLOSED,
		    "wait for data: the remote host closed the connection");
		return false;
	}
	if (s->state == WK_STATE_UNCONNECTED || s->state == WK_STATE_BOUND ||
	    s->state == WK_STATE_LISTENING) {
		wk__err_set(&s->err, WK_OPERATION,
		    "wait for data: the socket is %s", wk_state_name(s->state));
		return false;
	}
	if (s->read_limit && wk__buf_len(&s->rbuf) >= s->read_limit) {
		wk__err_set(&s->err, WK_TEMPORARY,
		    "wait for data from %s: the read buffer is full (%zu bytes)",
		    wk__socket_target(s), s->read_limit);
		return false;
	}
	before = wk__buf_len(&s->rbuf);
	deadline = wk__deadline(msecs);
	if (s->state == WK_STATE_CONNECTED && wk__buf_len(&s->wbuf) == 0) {
		/* Polling once, or a blocking recv() for longer waits. */
		got = msecs == -1 || msecs > WK__RCVTIMEO_SLACK_MS ?
		    fill_wait(s, deadline, msecs) : fill(s);
		if (got != 0)
			return got > 0;
	}
	if (!wait_connected_then(s, WANT_READ, deadline, msecs,
	    "wait for data from"))
		return false;
	return wk__buf_len(&s->rbuf) > before;
}

/* ---------------------------------------------------------------- reading */

static bool
read_args(wk_socket *s, const void *buf, size_t size, const char *what)
{
	if (!s)
		return false;
	wk__err_clear(&s->err);
	if (!buf && size) {
		wk__err_set(&s->err, WK_INVALID_ARGUMENT, "%s: the buffer is NULL",
		    what);
		return false;
	}
	return true;
}

/* Nothing to read: -1 once nothing more can come, else 0 (Qt's rule). */
static ssize_t
nothing_read(wk_socket *s)
{
	if (s->state != WK_STATE_UNCONNECTED)
		return 0;
	if (s->err.code == WK_NO_ERROR)
		wk__err_set(&s->err, WK_OPERATION,
		    "read: the socket is not connected");
	return -1;
}

ssize_t
wk_socket_read(wk_socket *s, void *buf, size_t size)
{
	size_t got;
	ssize_t n;
	int err;

	if (!read_args(s, buf, size, "read"))
		return -1;
	if (s->type == WK_SOCKET_UDP)
		return wk__udp_read(s, buf, size);
	if (size == 0)
		return 0;
	got = wk__buf_take(&s->rbuf, buf, size);
	/* After the peer's end, while the queue goes out, nothing comes. */
	if (got == size || s->fd < 0 || s->state != WK_STATE_CONNECTED ||
	    s->read_eof)
		return got ? (ssize_t)got : nothing_read(s);
	/* The fast path: straight from the kernel into the caller's buffer. */
	n = wk__fd_recv(s->fd, (char *)buf + got, size - got, &err);
	if (n > 0) {
		s->rx_count += (uint64_t)n;
		return (ssize_t)(got + (size_t)n);
	}
	if (n == 0 && !got)
		peer_closed(s);
	else if (n < 0 && err != EAGAIN && err != EWOULDBLOCK && !got)
		io_failed(s, err, "read from");
	return got ? (ssize_t)got : nothing_read(s);
}

ssize_t
wk_socket_peek(wk_socket *s, void *buf, size_t size)
{
	if (!read_args(s, buf, size, "peek"))
		return -1;
	if (wk__buf_len(&s->rbuf) < size)
		fill(s);
	if (wk__buf_len(&s->rbuf) == 0)
		return size ? nothing_read(s) : 0;
	return (ssize_t)wk__buf_peek(&s->rbuf, buf, size);
}

/*
 * The read buffer holds as much as its limit lets it: no more input
 * comes until the program reads, so a line that is still arriving
 * must be handed out in pieces.
 */
static bool
buffer_full(const wk_socket *s)
{
	return s->read_limit && wk__buf_len(&s->rbuf) >= s->read_limit;
}

/*
 * A whole line ('\n' included), or size - 1 bytes of a longer one, or
 * the last bytes before the end of the stream; 0 while a line is still
 * arriving.  The text is always NUL-terminated.
 */
ssize_t
wk_socket_read_line(wk_socket *s, char *buf, size_t size)
{
	ssize_t nl;
	size_t take, len;

	if (!read_args(s, buf, size, "read a line"))
		return -1;
	if (size < 2) {
		wk__err_set(&s->err, WK_INVALID_ARGUMENT,
		    "read a line: a buffer of %zu bytes holds no text", size);
		return -1;
	}
	buf[0] = '\0';
	if ((nl = wk__buf_find(&s->rbuf, '\n', size - 1)) < 0 &&
	    wk__buf_len(&s->rbuf) < size - 1)
		fill(s);
	nl = wk__buf_find(&s->rbuf, '\n', size - 1);
	len = wk__buf_len(&s->rbuf);
	if (nl >= 0)
		take = (size_t)nl + 1;
	else if (len >= size - 1 || (len > 0 && (s->state ==
	    WK_STATE_UNCONNECTED || buffer_full(s))))
		take = len < size - 1 ? len : size - 1;
	else
		return len ? 0 : nothing_read(s);
	wk__buf_take(&s->rbuf, buf, take);
	buf[take] = '\0';
	return (ssize_t)take;
}

ssize_t
wk_socket_read_all(wk_socket *s, void **buf)
{
	size_t len;

	if (!read_args(s, buf, 1, "read all"))
		return -1;
	*buf = NULL;
	while (fill(s) > 0)
		;
	if ((len = wk__buf_len(&s->rbuf)) == 0)
		return nothing_read(s);
	if (!(*buf = malloc(len))) {
		wk__err_set_sys(&s->err, ENOMEM, "read all from %s",
		    wk__socket_target(s));
		return -1;
	}
	wk__buf_take(&s->rbuf, *buf, len);
	return (ssize_t)len;
}

size_t
wk_socket_bytes_available(const wk_socket *s)
{
	return s ? wk__buf_len(&s->rbuf) : 0;
}

bool
wk_socket_can_read_line(const wk_socket *s)
{
	return s && (wk__buf_find(&s->rbuf, '\n', wk__buf_len(&s->rbuf)) >= 0 ||
	    buffer_full(s));
}

bool
wk_socket_at_end(const wk_socket *s)
{
	return !s || wk__buf_len(&s->rbuf) == 0;
}

bool
wk_socket_set_read_buffer_size(wk_socket *s, size_t size)
{
	if (!s)
		return false;
	s->read_limit = size;
	return true;
}

size_t
wk_socket_read_buffer_size(const wk_socket *s)
{
	return s ? s->read_limit : 0;
}

/* ---------------------------------------------------------------- writing */

ssize_t
wk_socket_write(wk_socket *s, const void *buf, size_t size)
{
	ssize_t n = 0;
	int err;

	if (!read_args(s, buf, size, "write"))
		return -1;
	if (s->type == WK_SOCKET_UDP)
		return wk__udp_write(s, buf, size);
	if (s->state != WK_STATE_CONNECTED && s->state != WK_STATE_CONNECTING &&
	    s->state != WK_STATE_HOST_LOOKUP) {
		wk__err_set(&s->err, WK_OPERATION, "write: the socket is %s",
		    wk_state_name(s->state));
		return -1;
	}
	if (s->write_closed) {
		wk__err_set(&s->err, WK_OPERATION,
		    "write: the writing side of the connection is closed");
		return -1;
	}
	/*
	 * Something queued goes first, so that the queue does not grow
	 * behind a kernel that would take it, and a connection that ended
	 * is seen by a program that writes without waiting.
	 */
	if (s->state == WK_STATE_CONNECTED && wk__buf_len(&s->wbuf) > 0 &&
	    (drain(s) < 0 || s->state != WK_STATE_CONNECTED))
		return -1;
	/* The fast path: nothing queued, straight to the kernel. */
	if (s->state == WK_STATE_CONNECTED && wk__buf_len(&s->wbuf) == 0 &&
	    size > 0) {
		n = wk__fd_send(s->fd, buf, size, &err);
		if (n < 0 && err != EAGAIN && err != EWOULDBLOCK) {
			io_failed(s, err, "write to");
			return -1;
		}
		if (n < 0)
			n = 0;
		s->tx_count += (uint64_t)n;
	}
	if (!wk__buf_append(&s->wbuf, (const char *)buf + n, size - (size_t)n)) {
		wk__err_set_sys(&s->err, ENOMEM, "write to %s",
		    wk__socket_target(s));
		return n ? n : -1;
	}
	return (ssize_t)size;
}

size_t
wk_socket_bytes_to_write(const wk_socket *s)
{
	return s ? wk__buf_len(&s->wbuf) : 0;
}

bool
wk_socket_flush(wk_socket *s)
{
	bool wrote;

	if (!s)
		return false;
	wk__err_clear(&s->err);
	if (s->state != WK_STATE_CONNECTED && s->state != WK_STATE_CLOSING)
		return false;
	wrote = drain(s) > 0;
	if (s->state == WK_STATE_CLOSING && wk__buf_len(&s->wbuf) == 0)
		finish_close(s);
	return wrote;
}

bool
wk_socket_wait_bytes_written(wk_socket *s, int msecs)
{
	uint64_t before;

	if (!s)
		return false;
	if (msecs == -1 && s->idle_ms > 0)
		msecs = s->idle_ms;
	wk__err_clear(&s->err);
	if (wk__buf_len(&s->wbuf) == 0) {
		wk__err_set(&s->err, WK_OPERATION,
		    "wait for bytes written: nothing is queued");
		return false;
	}
	if (s->state == WK_STATE_UNCONNECTED) {
		wk__err_set(&s->err, WK_OPERATION,
		    "wait for bytes written: the socket is not connected");
		return false;
	}
	before = s->tx_count;
	if (!wait_connected_then(s, WANT_WRITTEN, wk__deadline(msecs), msecs,
	    "wait for bytes written to"))
		return false;
	/* Bytes went out: true, even if the connection then ended. */
	return s->tx_count != before || s->err.code == WK_NO_ERROR;
}

/* ---------------------------------------------------------------- closing */

void
wk_socket_disconnect(wk_socket *s)
{
	if (!s)
		return;
	wk__err_clear(&s->err);
	switch (s->state) {
	case WK_STATE_HOST_LOOKUP:
	case WK_STATE_CONNECTING:
		/* Qt: queued data is still delivered once connected. */
		if (wk__buf_len(&s->wbuf))
			s->close_after_connect = true;
		else
			close_now(s);
		return;
	case WK_STATE_CONNECTED:
		begin_close(s);
		return;
	case WK_STATE_BOUND:
		close_now(s);
		return;
	default:
		return;
	}
}

bool
wk_socket_close_write(wk_socket *s)
{
	if (!s)
		return false;
	wk__err_clear(&s->err);
	if (s->type != WK_SOCKET_TCP) {
		wk__err_set(&s->err, WK_OPERATION,
		    "close the writing side: not a TCP socket");
		return false;
	}
	if (s->state != WK_STATE_CONNECTED) {
		wk__err_set(&s->err, WK_OPERATION,
		    "close the writing side: the socket is %s",
		    wk_state_name(s->state));
		return false;
	}
	if (s->write_closed)
		return true;
	s->write_closed = true;
	/* What the kernel takes of the queue now; the rest in the waits. */
	if (wk__buf_len(&s->wbuf) > 0)
		return drain(s) >= 0;
	return send_fin(s);
}

bool
wk_socket_wait_disconnected(wk_socket *s, int msecs)
{
	if (!s)
		return false;
	if (msecs == -1 && s->idle_ms > 0)
		msecs = s->idle_ms;
	wk__err_clear(&s->err);
	if (s->state == WK_STATE_UNCONNECTED || s->state == WK_STATE_BOUND) {
		wk__err_set(&s->err, WK_OPERATION,
		    "wait for disconnection: the socket is %s",
		    wk_state_name(s->state));
		return false;
	}
	return wait_connected_then(s, WANT_CLOSED, wk__deadline(msecs), msecs,
	    "wait for disconnection from");
}

void
wk_socket_abort(wk_socket *s)
{
	if (!s)
		return;
	wk__err_clear(&s->err);
	close_now(s);
	wk__buf_clear(&s->rbuf);
}

/* ---------------------------------------------------------------- addresses */

wk_addr
wk_socket_peer_address(const wk_socket *s)
{
	static const wk_addr null_addr;

	if (!s)
		return null_addr;
	load_names(s);
	return s->peer;
}

uint16_t
wk_socket_peer_port(const wk_socket *s)
{
	if (!s)
		return 0;
	load_names(s);
	return s->peer_port;
}

const char *
wk_socket_peer_name(const wk_socket *s)
{
	return s && s->peer_name ? s->peer_name : "";
}

wk_addr
wk_socket_local_address(const wk_socket *s)
{
	static const wk_addr null_addr;

	if (!s)
		return null_addr;
	load_names(s);
	return s->local;
}

uint16_t
wk_socket_local_port(const wk_socket *s)
{
	if (!s)
		return 0;
	load_names(s);
	return s->local_port;
}

/* ---------------------------------------------------------------- descriptors */

/*
 * Takes fd in state.  A descriptor from outside (not fresh) gets
 * blocking mode and close-on-exec; an accepted one has them already.
 */
bool
wk__socket_adopt(wk_socket *s, int fd, wk_state state, bool fresh)
{
	int err;

	if (!fresh && (err = wk__fd_take(fd, true)) != 0) {
		wk__err_set_sys(&s->err, err, "adopt descriptor %d", fd);
		return false;
	}
	s->fd = fd;
	s->blocking = true;
	s->rcv_timeout_ms = fresh ? -1 : -2;
	wk__socket_set_state(s, state);
	return true;
}

bool
wk_socket_set_descriptor(wk_socket *s, int fd, wk_state state)
{
	int type;

	if (!s)
		return false;
	wk__err_clear(&s->err);
	if (fd < 0) {
		wk__err_set(&s->err, WK_UNSUPPORTED_OPERATION,
		    "set descriptor: %d is not a descriptor", fd);
		return false;
	}
	if (state != WK_STATE_UNCONNECTED && state != WK_STATE_BOUND &&
	    state != WK_STATE_CONNECTED) {
		wk__err_set(&s->err, WK_INVALID_ARGUMENT,
		    "set descriptor %d: the state must be UNCONNECTED, BOUND "
		    "or CONNECTED, not %s", fd, wk_state_name(state));
		return false;
	}
	if (wk__fd_type(fd, &type) != 0 || type != (s->type == WK_SOCKET_UDP ?
	    SOCK_DGRAM : SOCK_STREAM)) {
		wk__err_set(&s->err, WK_UNSUPPORTED_OPERATION,
		    "set descriptor: %d is not a %s socket", fd,
		    s->type == WK_SOCKET_UDP ? "UDP" : "TCP");
		return false;
	}
	close_now(s);
	wk__buf_clear(&s->rbuf);
	free(s->peer_name);
	s->peer_name = NULL;
	if (!wk__socket_adopt(s, fd, state, false))
		return false;
	wk__socket_apply_options(s, fd, wk__socket_family(s));
	return true;
}

int
wk_socket_descriptor(const wk_socket *s)
{
	return s ? s->fd : -1;
}

bool
wk_socket_bind(wk_socket *s, const wk_addr *addr, uint16_t port,
    unsigned flags)
{
	wk_addr any = wk_addr_special(WK_ADDR_ANY_IPV6);
	const wk_addr *a = addr && addr->family != WK_FAMILY_ANY ? addr : &any;
	int fd, err;

	if (!s)
		return false;
	wk__err_clear(&s->err);
	if (s->state != WK_STATE_UNCONNECTED) {
		wk__err_set(&s->err, WK_OPERATION, "bind: the socket is %s",
		    wk_state_name(s->state));
		return false;
	}
	if (addr && addr->family == WK_FAMILY_NONE) {
		wk__err_set(&s->err, WK_INVALID_ARGUMENT,
		    "bind: the address is the null address");
		return false;
	}
	err = wk__fd_socket(a->family == WK_FAMILY_IPV4 ? AF_INET : AF_INET6,
	    s->type, &fd);
	if (!err && a == &any)
		wk__fd_set_v6only(fd, false);	/* dual stack */
	if (!err && s->type == WK_SOCKET_UDP)
		wk__fd_set_broadcast(fd);	/* every UDP socket, as Qt */
	if (!err && (err = wk__fd_bind(fd, a, port, flags)) != 0)
		wk__fd_close(fd);
	if (err) {
		char text[WK_ADDR_STRLEN];

		wk_addr_format(a, text, sizeof(text));
		wk__err_set_sys(&s->err, err, "bind to %s port %u", text,
		    (unsigned)port);
		return false;
	}
	wk__socket_apply_options(s, fd, a->family == WK_FAMILY_IPV4 ?
	    AF_INET : AF_INET6);
	wk__fd_set_blocking(fd, true);
	if (!wk__socket_adopt(s, fd, WK_STATE_BOUND, true))
		return false;
	s->af = a->family == WK_FAMILY_IPV4 ? AF_INET : AF_INET6;
	return true;
}
