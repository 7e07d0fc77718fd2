/*
 * engine.c - the native socket layer: every socket system call wirekit
 * makes is in this file
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr-private.h"
#include "clock.h"
#include "engine.h"

static int
sys_error(void)
{
	return errno ? errno : EIO;
}

int
wk__fd_socket(int family, wk_socket_type type, int *fd)
{
	int kind = type == WK_SOCKET_UDP ? SOCK_DGRAM : SOCK_STREAM;

	*fd = socket(family, kind | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	return *fd < 0 ? sys_error() : 0;
}

/* Fills a sockaddr for addr and port; 0 when addr has no usable family. */
static inline socklen_t
to_sockaddr(const wk_addr *addr, uint16_t port, struct sockaddr_storage *ss)
{
	return (socklen_t)wk__addr_to_sockaddr(addr, port,
	    (struct sockaddr *)ss, sizeof(*ss));
}

/* 0 when connected at once, EINPROGRESS while under way, else errno. */
int
wk__fd_connect(int fd, const wk_addr *addr, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = to_sockaddr(addr, port, &ss);

	if (len == 0)
		return EAFNOSUPPORT;
	if (connect(fd, (struct sockaddr *)&ss, len) == 0)
		return 0;
	/* An interrupted connect goes on in the background (POSIX). */
	return errno == EINTR ? EINPROGRESS : sys_error();
}

int
wk__fd_connect_result(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		return sys_error();
	return err;
}

int
wk__fd_bind(int fd, const wk_addr *addr, uint16_t port, unsigned flags)
{
	struct sockaddr_storage ss;
	socklen_t len = to_sockaddr(addr, port, &ss);
	int on = 1;

	if (len == 0)
		return EAFNOSUPPORT;
	/*
	 * Qt's Unix mapping: sharing and the reuse hint both mean
	 * SO_REUSEADDR; DontShareAddress alone means neither.
	 */
	if (!(flags & WK_DONT_SHARE_ADDRESS) || (flags & (WK_SHARE_ADDRESS |
	    WK_REUSE_ADDRESS_HINT)))
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)))
			return sys_error();
	return bind(fd, (struct sockaddr *)&ss, len) == 0 ? 0 : sys_error();
}

int
wk__fd_listen(int fd, int backlog)
{
	return listen(fd, backlog) == 0 ? 0 : sys_error();
}

/* The connection comes in blocking mode, with the peer's address. */
int
wk__fd_accept(int fd, int *conn, wk_addr *peer, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len;

	do {
		len = sizeof(ss);
		*conn = accept4(fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
	} while (*conn < 0 && errno == EINTR);
	if (*conn < 0)
		return sys_error();
	wk_addr_from_sockaddr(peer, port, (struct sockaddr *)&ss, len);
	return 0;
}

void
wk__fd_close(int fd)
{
	/* Linux frees the descriptor even when close() is interrupted. */
	if (fd >= 0)
		close(fd);
}

ssize_t
wk__fd_recv(int fd, void *buf, size_t size, int *err)
{
	ssize_t n;

	do {
		n = recv(fd, buf, size, MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	*err = n < 0 ? sys_error() : 0;
	return n;
}

ssize_t
wk__fd_send(int fd, const void *buf, size_t size, int *err)
{
	ssize_t n;

	do {
		n = send(fd, buf, size, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	*err = n < 0 ? sys_error() : 0;
	return n;
}

ssize_t
wk__fd_sendto(int fd, const void *buf, size_t size, const wk_addr *to,
    uint16_t port, int *err)
{
	struct sockaddr_storage ss;
	socklen_t len = to_sockaddr(to, port, &ss);
	ssize_t n;

	if (len == 0) {
		*err = EAFNOSUPPORT;
		return -1;
	}
	do {
		n = sendto(fd, buf, size, MSG_DONTWAIT | MSG_NOSIGNAL,
		    (struct sockaddr *)&ss, len);
	} while (n < 0 && errno == EINTR);
	*err = n < 0 ? sys_error() : 0;
	return n;
}

ssize_t
wk__fd_recvfrom(int fd, void *buf, size_t size, wk__sender *from, int *err)
{
	ssize_t n;

	do {
		from->len = sizeof(from->u);
		n = recvfrom(fd, buf, size, MSG_DONTWAIT, &from->u.sa,
		    &from->len);
	} while (n < 0 && errno == EINTR);
	*err = n < 0 ? sys_error() : 0;
	return n;
}

void
wk__sender_addr(const wk__sender *from, wk_addr *addr, uint16_t *port)
{
	wk__addr_from_sockaddr(addr, port, &from->u.sa, from->len, true);
}

/* The size of the next datagram, 0 for an empty one, without taking it. */
int
wk__fd_peek_datagram(int fd, size_t *size)
{
	ssize_t n;

	do {
		n = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return sys_error();
	*size = (size_t)n;
	return 0;
}

int
wk__fd_set_broadcast(int fd)
{
	int on = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof(on)) != 0)
		return sys_error();
	return 0;
}

/*
 * Joins or leaves group, or only its traffic from source (SSM), with the
 * protocol-independent calls of RFC 3678; an IPv4 group on a dual-stack
 * socket goes through the IPv4 level, which Linux passes on.
 */
int
wk__fd_membership(int fd, bool join, const wk_addr *group,
    const wk_addr *source, unsigned ifindex)
{
	int level = group->family == WK_FAMILY_IPV4 ? IPPROTO_IP : IPPROTO_IPV6;
	struct group_source_req gsr = { .gsr_interface = ifindex };
	struct group_req gr = { .gr_interface = ifindex };
	int rc;

	if (source) {
		if (!wk_addr_to_sockaddr(group, 0, (struct sockaddr *)&gsr.gsr_group,
		    sizeof(gsr.gsr_group)) || !wk_addr_to_sockaddr(source, 0,
		    (struct sockaddr *)&gsr.gsr_source, sizeof(gsr.gsr_source)))
			return EAFNOSUPPORT;
		rc = setsockopt(fd, level, join ? MCAST_JOIN_SOURCE_GROUP :
		    MCAST_LEAVE_SOURCE_GROUP, &gsr, sizeof(gsr));
	} else {
		if (!wk_addr_to_sockaddr(group, 0, (struct sockaddr *)&gr.gr_group,
		    sizeof(gr.gr_group)))
			return EAFNOSUPPORT;
		rc = setsockopt(fd, level, join ? MCAST_JOIN_GROUP :
		    MCAST_LEAVE_GROUP, &gr, sizeof(gr));
	}
	return rc == 0 ? 0 : sys_error();
}

/* The interface multicast goes out of: IPv4, and IPv6 on an IPv6 socket. */
int
wk__fd_multicast_if(int fd, int family, unsigned ifindex)
{
	struct ip_mreqn mreq = { .imr_ifindex = (int)ifindex };
	int index = (int)ifindex;
	int rc4, rc6 = 0;

	rc4 = setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof(mreq));
	if (family == AF_INET6)
		rc6 = setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &index,
		    sizeof(index));
	if (family == AF_INET6 ? rc6 != 0 : rc4 != 0)
		return sys_error();
	return 0;
}

/*
 * Sets the socket's receive timeout for a wait of left ms (-1: none)
 * unless it has it.  The kernel's timer wheel may end a timeout of more
 * than 64 ticks up to an eighth late (a 3 s wait took 3.14 s), so the
 * socket is given 8/9 of left: it ends before the deadline, and poll(),
 * whose timers are exact, waits out the rest.
 */
static int
set_rcvtimeo(int fd, int left, int *timeout_ms)
{
	struct timeval tv = { 0, 0 };
	int kernel_ms;

	if (left == *timeout_ms)
		return 0;
	if (left > 0) {
		kernel_ms = left - left / 9;
		tv.tv_sec = kernel_ms / 1000;
		tv.tv_usec = (kernel_ms % 1000) * 1000;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0)
		return sys_error();
	*timeout_ms = left;
	return 0;
}

/*
 * A receive that blocks until data arrives, the peer closes, or the
 * deadline passes (-1 with EAGAIN).  The socket's receive timeout does
 * the waiting, so a wait costs one system call where poll() and recv()
 * would cost two; *timeout_ms caches the timeout the socket holds, and
 * a caller waiting with the same msecs again sets nothing.
 */
ssize_t
wk__fd_recv_wait(int fd, void *buf, size_t size, int64_t deadline, int left,
    int *timeout_ms, int *err)
{
	return wk__fd_recvfrom_wait(fd, buf, size, deadline, left, timeout_ms,
	    NULL, err);
}

/*
 * The same, for a datagram and its sender (from may be NULL).  left is
 * the first try's timeout as the caller took it from the same deadline
 * (saving a clock read per wait); WK__LEFT_UNKNOWN computes it.
 */
ssize_t
wk__fd_recvfrom_wait(int fd, void *buf, size_t size, int64_t deadline,
    int left, int *timeout_ms, wk__sender *from, int *err)
{
	ssize_t n;

	for (;; left = WK__LEFT_UNKNOWN) {
		if (left == WK__LEFT_UNKNOWN)
			left = wk__ms_left(deadline);
		if (left == 0) {
			*err = EAGAIN;
			return -1;
		}
		if ((*err = set_rcvtimeo(fd, left, timeout_ms)) != 0)
			return -1;
		if (from)
			from->len = sizeof(from->u);
		n = recvfrom(fd, buf, size, 0, from ? &from->u.sa : NULL,
		    from ? &from->len : NULL);
		if (n >= 0) {
			*err = 0;
			return n;
		}
		if (errno != EINTR)
			break;
	}
	*err = sys_error();
	return -1;
}

/*
 * poll() until something is ready or the deadline passes; an interrupted
 * poll() goes on with the time that is left.  *ready is 0 on timeout.
 */
int
wk__fd_poll(struct pollfd *fds, unsigned n, int64_t deadline, int *ready)
{
	for (;;) {
		*ready = poll(fds, n, wk__ms_left(deadline));
		if (*ready >= 0)
			return 0;
		if (errno != EINTR)
			return sys_error();
		if (deadline != WK__FOREVER && wk__now_ns() >= deadline) {
			*ready = 0;
			return 0;
		}
	}
}

int
wk__fd_wait(int fd, short events, int64_t deadline, short *revents)
{
	struct pollfd p = { .fd = fd, .events = events };
	int ready, err;

	err = wk__fd_poll(&p, 1, deadline, &ready);
	*revents = ready > 0 ? p.revents : 0;
	return err;
}

int
wk__fd_name(int fd, bool peer, wk_addr *addr, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int rc;

	rc = peer ? getpeername(fd, (struct sockaddr *)&ss, &len) :
	    getsockname(fd, (struct sockaddr *)&ss, &len);
	if (rc != 0)
		return sys_error();
	wk_addr_from_sockaddr(addr, port, (struct sockaddr *)&ss, len);
	return 0;
}

static int
get_int(int fd, int level, int name, int *value)
{
	socklen_t len = sizeof(*value);

	return getsockopt(fd, level, name, value, &len) == 0 ? 0 : sys_error();
}

int
wk__fd_family(int fd, int *family)
{
	return get_int(fd, SOL_SOCKET, SO_DOMAIN, family);
}

int
wk__fd_type(int fd, int *type)
{
	return get_int(fd, SOL_SOCKET, SO_TYPE, type);
}

int
wk__fd_listening(int fd, int *listening)
{
	return get_int(fd, SOL_SOCKET, SO_ACCEPTCONN, listening);
}

/*
 * A connected socket is left in blocking mode: its non-blocking calls
 * pass MSG_DONTWAIT, and a wait can then block in recv() itself.  For
 * wirekit's own sockets, whose other flags are known, one fcntl() does.
 */
int
wk__fd_set_blocking(int fd, bool blocking)
{
	if (fcntl(fd, F_SETFL, O_RDWR | (blocking ? 0 : O_NONBLOCK)) < 0)
		return sys_error();
	return 0;
}

/* The same for a descriptor from outside: its flags kept, close-on-exec set. */
int
wk__fd_take(int fd, bool blocking)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0)
		return sys_error();
	flags = blocking ? flags & ~O_NONBLOCK : flags | O_NONBLOCK;
	if (fcntl(fd, F_SETFL, flags) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return sys_error();
	return 0;
}

/* The level and name of an option for a socket of family. */
static bool
option_key(int family, wk_socket_option option, int *level, int *name)
{
	bool v6 = family == AF_INET6;

	switch (option) {
	case WK_OPT_LOW_DELAY:
		*level = IPPROTO_TCP, *name = TCP_NODELAY;
		return true;
	case WK_OPT_KEEP_ALIVE:
		*level = SOL_SOCKET, *name = SO_KEEPALIVE;
		return true;
	case WK_OPT_SEND_BUFFER_SIZE:
		*level = SOL_SOCKET, *name = SO_SNDBUF;
		return true;
	case WK_OPT_RECEIVE_BUFFER_SIZE:
		*level = SOL_SOCKET, *name = SO_RCVBUF;
		return true;
	case WK_OPT_TYPE_OF_SERVICE:
		*level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
		*name = v6 ? IPV6_TCLASS : IP_TOS;
		return true;
	case WK_OPT_MULTICAST_TTL:
		*level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
		*name = v6 ? IPV6_MULTICAST_HOPS : IP_MULTICAST_TTL;
		return true;
	case WK_OPT_MULTICAST_LOOPBACK:
		*level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
		*name = v6 ? IPV6_MULTICAST_LOOP : IP_MULTICAST_LOOP;
		return true;
	case WK_OPT_PATH_MTU:
		*level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
		*name = v6 ? IPV6_MTU : IP_MTU;
		return true;
	default:
		return false;
	}
}

int
wk__fd_set_option(int fd, int family, wk_socket_option option, int value)
{
	int level, name;

	if (option == WK_OPT_PATH_MTU || !option_key(family, option, &level,
	    &name))
		return ENOPROTOOPT;
	if (option == WK_OPT_MULTICAST_LOOPBACK)
		value = value != 0;	/* IPv6 takes only 0 and 1 */
	if (setsockopt(fd, level, name, &value, sizeof(value)) != 0)
		return sys_error();
	/* A dual-stack socket sends IPv4 multicast too: same setting. */
	if (family == AF_INET6 && (option == WK_OPT_MULTICAST_TTL ||
	    option == WK_OPT_MULTICAST_LOOPBACK) && option_key(AF_INET,
	    option, &level, &name))
		setsockopt(fd, level, name, &value, sizeof(value));
	return 0;
}

int
wk__fd_get_option(int fd, int family, wk_socket_option option, int *value)
{
	int level, name;

	if (!option_key(family, option, &level, &name))
		return ENOPROTOOPT;
	return get_int(fd, level, name, value);
}

int
wk__fd_set_v6only(int fd, bool on)
{
	int v = on;

	if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof(v)) != 0)
		return sys_error();
	return 0;
}

/* Bytes the kernel holds for reading (for UDP: the next datagram's size). */
int
wk__fd_pending(int fd, size_t *bytes)
{
	int n = 0;

	if (ioctl(fd, FIONREAD, &n) != 0)
		return sys_error();
	*bytes = n < 0 ? 0 : (size_t)n;
	return 0;
}

/* An interface's MTU, asked through any socket of this namespace. */
int
wk__fd_iface_mtu(int fd, const char *name, int *mtu)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFMTU, &ifr) != 0)
		return sys_error();
	*mtu = ifr.ifr_mtu;
	return 0;
}

int
wk__event_new(int *fd)
{
	*fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return *fd < 0 ? sys_error() : 0;
}

void
wk__event_signal(int fd)
{
	uint64_t one = 1;

	/* A full counter (EAGAIN) still wakes the poller: nothing to do. */
	while (write(fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

void
wk__event_clear(int fd)
{
	uint64_t count;

	while (read(fd, &count, sizeof(count)) < 0 && errno == EINTR)
		;
}

/*
 * An epoll set watching one descriptor for input, edge-triggered: the
 * callback layer's way to hear of new datagrams without taking them.
 */
int
wk__edge_new(int *epfd)
{
	*epfd = epoll_create1(EPOLL_CLOEXEC);
	return *epfd < 0 ? sys_error() : 0;
}

/* Watches fd in epfd instead of whatever it watched before. */
int
wk__edge_watch(int epfd, int old_fd, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.fd = fd };

	if (old_fd >= 0 && old_fd != fd)
		(void)epoll_ctl(epfd, EPOLL_CTL_DEL, old_fd, NULL);
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0)
		return 0;
	if (errno == EEXIST && epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) == 0)
		return 0;
	return sys_error();
}

/* Takes the edges epfd has seen; true when there was one. */
bool
wk__edge_take(int epfd)
{
	struct epoll_event ev[4];
	int n;

	while ((n = epoll_wait(epfd, ev, 4, 0)) < 0 && errno == EINTR)
		;
	return n > 0;
}

/* Sends the end of the stream on fd, which stays open for reading. */
int
wk__fd_shutdown_write(int fd)
{
	return shutdown(fd, SHUT_WR) == 0 ? 0 : sys_error();
}

/* Ends both directions of fd, waking a thread blocked on it. */
void
wk__fd_shutdown(int fd)
{
	(void)shutdown(fd, SHUT_RDWR);
}
