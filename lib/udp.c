/*
 * udp.c - UDP on the shared socket object: datagrams, connected UDP,
 * broadcast and multicast
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <wirekit/udp.h>

#include "clock.h"
#include "engine.h"
#include "socket-private.h"

wk_socket *
wk_udp_socket(void)
{
	return wk__socket_new(WK_SOCKET_UDP);
}

static bool
is_udp(wk_socket *s, const char *what)
{
	if (!s)
		return false;
	wk__err_clear(&s->err);
	if (s->type == WK_SOCKET_UDP)
		return true;
	wk__err_set(&s->err, WK_UNSUPPORTED_OPERATION, "%s: not a UDP socket",
	    what);
	return false;
}

/* A socket with a descriptor to receive on: bound or connected. */
static bool
has_endpoint(wk_socket *s, const char *what)
{
	if (s->fd >= 0 && (s->state == WK_STATE_BOUND ||
	    s->state == WK_STATE_CONNECTED))
		return true;
	wk__err_set(&s->err, WK_OPERATION, "%s: the socket is %s", what,
	    wk_state_name(s->state));
	return false;
}

/*
 * The largest datagram (IPv6 over loopback may carry 65,527 bytes): a
 * wait that receives one holds it whole until it is read.
 */
#define DATAGRAM_MAX 65536

/* Hands out the datagram a wait received: as recvfrom() would. */
static ssize_t
take_held(wk_socket *s, void *buf, size_t size, wk_addr *from,
    uint16_t *port)
{
	size_t n = wk__buf_len(&s->rbuf);

	if (n > size)
		n = size;	/* the rest of the datagram is lost */
	if (n)
		memcpy(buf, wk__buf_head(&s->rbuf), n);
	wk__buf_clear(&s->rbuf);
	s->held = false;
	s->rx_count++;
	if (from || port)
		wk__sender_addr(&s->held_from, from, port);
	return (ssize_t)n;
}

/* ---------------------------------------------------------------- datagrams */

ssize_t
wk_udp_write_datagram(wk_socket *s, const void *buf, size_t size,
    const wk_addr *to, uint16_t port)
{
	char text[WK_ADDR_STRLEN];
	wk_addr dest;
	ssize_t n;
	int err;

	if (!is_udp(s, "write a datagram"))
		return -1;
	if ((!buf && size) || !to || (to->family != WK_FAMILY_IPV4 &&
	    to->family != WK_FAMILY_IPV6)) {
		wk__err_set(&s->err, WK_INVALID_ARGUMENT,
		    "write a datagram: %s", !to || (buf || !size) ?
		    "the destination is not an IPv4 or IPv6 address" :
		    "the buffer is NULL");
		return -1;
	}
	if (s->state != WK_STATE_UNCONNECTED && s->state != WK_STATE_BOUND) {
		wk__err_set(&s->err, WK_OPERATION, "write a datagram: the "
		    "socket is %s; a connected one takes wk_socket_write",
		    wk_state_name(s->state));
		return -1;
	}
	/* As Qt 5: bound first, so that the receiver sees a real port. */
	if (s->state == WK_STATE_UNCONNECTED &&
	    !wk_socket_bind(s, NULL, 0, WK_DEFAULT_FOR_PLATFORM))
		return -1;
	dest = *to;
	if (to->family == WK_FAMILY_IPV4 && wk__socket_family(s) == AF_INET6)
		dest = wk_addr_map_ipv4(to);
	if ((n = wk__fd_sendto(s->fd, buf, size, &dest, port, &err)) >= 0)
		return n;
	wk_addr_format(to, text, sizeof(text));
	wk__err_set_sys(&s->err, err, "write a datagram of %zu bytes to %s "
	    "port %u", size, text, (unsigned)port);
	return -1;
}

/* An error of a connected datagram socket leaves it connected. */
static ssize_t
connected_error(wk_socket *s, int err, const char *what)
{
	if (err == EAGAIN || err == EWOULDBLOCK)
		return 0;
	wk__err_set_sys(&s->err, err, "%s %s", what, wk__socket_target(s));
	return -1;
}

bool
wk_udp_has_pending_datagrams(wk_socket *s)
{
	size_t size;
	int err;

	if (!s)
		return false;
	wk__err_clear(&s->err);
	if (s->type != WK_SOCKET_UDP || s->fd < 0)
		return false;
	if (s->held || (err = wk__fd_peek_datagram(s->fd, &size)) == 0)
		return true;
	/*
	 * The peek took an ICMP error of a connected socket: it is this
	 * call's to report, as no later call will see it.
	 */
	if (s->state == WK_STATE_CONNECTED)
		connected_error(s, err, "look for a datagram from");
	return false;
}

ssize_t
wk_udp_pending_datagram_size(wk_socket *s)
{
	size_t size;
	int err;

	if (!is_udp(s, "pending datagram size") ||
	    !has_endpoint(s, "pending datagram size"))
		return -1;
	if (s->held)
		return (ssize_t)wk__buf_len(&s->rbuf);
	if ((err = wk__fd_peek_datagram(s->fd, &size)) == 0)
		return (ssize_t)size;
	if (err == EAGAIN || err == EWOULDBLOCK)
		wk__err_set(&s->err, WK_TEMPORARY,
		    "pending datagram size: no datagram is waiting");
	else
		wk__err_set_sys(&s->err, err, "pending datagram size");
	return -1;
}

ssize_t
wk_udp_read_datagram(wk_socket *s, void *buf, size_t size, wk_addr *from,
    uint16_t *port)
{
	wk__sender sender;
	ssize_t n;
	int err;

	if (from)
		*from = (wk_addr){ 0 };
	if (port)
		*port = 0;
	if (!is_udp(s, "read a datagram") || !has_endpoint(s, "read a datagram"))
		return -1;
	if (!buf && size) {
		wk__err_set(&s->err, WK_INVALID_ARGUMENT,
		    "read a datagram: the buffer is NULL");
		return -1;
	}
	if (s->held)
		return take_held(s, buf, size, from, port);
	/* A short buffer takes the start; the rest is lost. */
	if ((n = wk__fd_recvfrom(s->fd, buf, size, &sender, &err)) < 0) {
		if (err == EAGAIN || err == EWOULDBLOCK)
			wk__err_set(&s->err, WK_TEMPORARY,
			    "read a datagram: no datagram is waiting");
		else
			wk__err_set_sys(&s->err, err, "read a datagram");
		return -1;
	}
	s->rx_count++;
	if (from || port)
		wk__sender_addr(&sender, from, port);
	return n;
}

/* ---------------------------------------------------------------- connected */


/* wk_socket_read() on UDP: one datagram, 0 when none waits. */
ssize_t
wk__udp_read(wk_socket *s, void *buf, size_t size)
{
	ssize_t n;
	int err;

	if (s->state != WK_STATE_CONNECTED) {
		wk__err_set(&s->err, WK_OPERATION, "read: the socket is %s; "
		    "use wk_udp_read_datagram", wk_state_name(s->state));
		return -1;
	}
	if (s->held)
		return take_held(s, buf, size, NULL, NULL);
	if ((n = wk__fd_recv(s->fd, buf, size, &err)) >= 0) {
		s->rx_count++;
		return n;
	}
	return connected_error(s, err, "read from");
}

/* wk_socket_write() on UDP: one datagram, sent now or not at all. */
ssize_t
wk__udp_write(wk_socket *s, const void *buf, size_t size)
{
	ssize_t n;
	int err;

	if (s->state != WK_STATE_CONNECTED) {
		wk__err_set(&s->err, WK_OPERATION, "write: the socket is %s; "
		    "use wk_udp_write_datagram", wk_state_name(s->state));
		return -1;
	}
	if ((n = wk__fd_send(s->fd, buf, size, &err)) >= 0)
		return n;
	if (err == EAGAIN || err == EWOULDBLOCK) {
		wk__err_set(&s->err, WK_TEMPORARY, "write to %s: the send "
		    "buffer is full", wk__socket_target(s));
		return -1;
	}
	return connected_error(s, err, "write to");
}

/*
 * The fast wait: one recvfrom() that blocks (SO_RCVTIMEO, less the
 * timer's slack) and holds the datagram for the read that follows, so
 * wait-then-read costs one system call, as a blocking recvfrom() does.
 * 1: a datagram is held; 0: failed, error set; -1: time is left for
 * poll() to wait out.
 */
static int
receive_wait(wk_socket *s, int64_t deadline, int msecs)
{
	ssize_t n;
	char *p;
	int err;

	if (!s->blocking && wk__fd_set_blocking(s->fd, true) == 0)
		s->blocking = true;
	if (!s->blocking || !(p = wk__buf_space(&s->rbuf, DATAGRAM_MAX)))
		return -1;
	if (deadline != WK__FOREVER)
		deadline -= WK__RCVTIMEO_SLACK_MS * WK__NS_PER_MS;
	n = wk__fd_recvfrom_wait(s->fd, p, DATAGRAM_MAX, deadline,
	    msecs == -1 ? -1 : msecs - WK__RCVTIMEO_SLACK_MS,
	    &s->rcv_timeout_ms, &s->held_from, &err);
	if (n >= 0) {
		wk__buf_commit(&s->rbuf, (size_t)n);
		s->held = true;
		return 1;
	}
	if (err == EAGAIN || err == EWOULDBLOCK)
		return -1;
	wk__err_set_sys(&s->err, err, "wait for a datagram");
	return 0;
}

/* wk_socket_wait_ready_read() on UDP: true once a datagram waits. */
bool
wk__udp_wait(wk_socket *s, int msecs)
{
	bool connecting = s->state == WK_STATE_HOST_LOOKUP ||
	    s->state == WK_STATE_CONNECTING;
	int64_t deadline = connecting ? wk__deadline(msecs) : 0;
	short revents;
	int err;

	/* A connect in progress comes first, under the same deadline. */
	if (connecting && !wk_socket_wait_connected(s, msecs))
		return false;
	if (!has_endpoint(s, "wait for a datagram"))
		return false;
	if (s->held)
		return true;
	if (!connecting)
		deadline = wk__deadline(msecs);
	if ((msecs == -1 || msecs > WK__RCVTIMEO_SLACK_MS) &&
	    (err = receive_wait(s, deadline, msecs)) >= 0)
		return err == 1;
	if ((err = wk__fd_wait(s->fd, POLLIN, deadline, &revents)) != 0) {
		wk__err_set_sys(&s->err, err, "wait for a datagram");
		return false;
	}
	if (revents & POLLIN)
		return true;
	if (revents & POLLERR) {	/* an ICMP error on a connected socket */
		size_t size;

		err = wk__fd_peek_datagram(s->fd, &size);
		wk__err_set_sys(&s->err, err ? err : EIO, "wait for a datagram");
		return false;
	}
	wk__err_set(&s->err, WK_SOCKET_TIMEOUT,
	    "wait for a datagram: timed out after %d ms", msecs);
	return false;
}

/* ---------------------------------------------------------------- multicast */

static bool
membership(wk_socket *s, bool join, const wk_addr *group,
    const wk_addr *source, const wk_iface *iface)
{
	const char *what = join ? "join multicast group" :
	    "leave multicast group";
	char text[WK_ADDR_STRLEN];
	int err;

	if (!is_udp(s, what))
		return false;
	if (!group || !wk_addr_is_multicast(group) || (source &&
	    source->family != group->family)) {
		wk__err_set(&s->err, WK_INVALID_ARGUMENT, "%s: %s", what,
		    !group || !wk_addr_is_multicast(group) ?
		    "the group is not a multicast address" :
		    "the source is not of the group's family");
		return false;
	}
	if (s->state != WK_STATE_BOUND) {
		wk__err_set(&s->err, WK_OPERATION, "%s: the socket is %s; bind "
		    "it first", what, wk_state_name(s->state));
		return false;
	}
	err = wk__fd_membership(s->fd, join, group, source,
	    iface ? iface->index : 0);
	if (err) {
		wk_addr_format(group, text, sizeof(text));
		wk__err_set_sys(&s->err, err, "%s %s", what, text);
		return false;
	}
	return true;
}

bool
wk_udp_join_group(wk_socket *s, const wk_addr *group, const wk_iface *iface)
{
	return membership(s, true, group, NULL, iface);
}

bool
wk_udp_leave_group(wk_socket *s, const wk_addr *group, const wk_iface *iface)
{
	return membership(s, false, group, NULL, iface);
}

bool
wk_udp_join_source_group(wk_socket *s, const wk_addr *group,
    const wk_addr *source, const wk_iface *iface)
{
	if (s && !source) {
		wk__err_set(&s->err, WK_INVALID_ARGUMENT,
		    "join source group: the source is NULL");
		return false;
	}
	return membership(s, true, group, source, iface);
}

bool
wk_udp_leave_source_group(wk_socket *s, const wk_addr *group,
    const wk_addr *source, const wk_iface *iface)
{
	if (s && !source) {
		wk__err_set(&s->err, WK_INVALID_ARGUMENT,
		    "leave source group: the source is NULL");
		return false;
	}
	return membership(s, false, group, source, iface);
}

bool
wk_udp_set_multicast_interface(wk_socket *s, const wk_iface *iface)
{
	int err;

	if (!is_udp(s, "set multicast interface") ||
	    !has_endpoint(s, "set multicast interface"))
		return false;
	if ((err = wk__fd_multicast_if(s->fd, wk__socket_family(s),
	    iface ? iface->index : 0)) != 0) {
		wk__err_set_sys(&s->err, err, "set multicast interface %s",
		    iface ? iface->name : "(system's choice)");
		return false;
	}
	return true;
}
