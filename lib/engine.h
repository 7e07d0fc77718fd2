/*
 * engine.h - the native socket layer: the one place that makes socket
 * system calls.  Every descriptor is close-on-exec; every call but
 * wk__fd_recv_wait() is non-blocking (new sockets are, and connected
 * ones get MSG_DONTWAIT); EINTR is retried here; nothing raises SIGPIPE.
 *
 * Functions returning int give 0 or a positive errno value; those
 * returning ssize_t give a count, or -1 with the errno value in *err.
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef WIREKIT_ENGINE_H
#define WIREKIT_ENGINE_H

#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#include <wirekit/addr.h>
#include <wirekit/socket.h>

int wk__fd_socket(int family, wk_socket_type type, int *fd);
int wk__fd_connect(int fd, const wk_addr *addr, uint16_t port);
int wk__fd_connect_result(int fd);
int wk__fd_bind(int fd, const wk_addr *addr, uint16_t port, unsigned flags);
int wk__fd_listen(int fd, int backlog);
int wk__fd_accept(int fd, int *conn, wk_addr *peer, uint16_t *port);
void wk__fd_close(int fd);
ssize_t wk__fd_recv(int fd, void *buf, size_t size, int *err);
ssize_t wk__fd_send(int fd, const void *buf, size_t size, int *err);
#define WK__LEFT_UNKNOWN (-2)	/* the recv waits' left: take it from deadline */
/*
 * A datagram's sender as recvfrom() gave it; wk__sender_addr() turns it
 * into an address (an IPv4-mapped one unmapped) only when one is asked for.
 */
typedef struct wk__sender {
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} u;
	socklen_t len;
} wk__sender;
void wk__sender_addr(const wk__sender *from, wk_addr *addr, uint16_t *port);
ssize_t wk__fd_recv_wait(int fd, void *buf, size_t size, int64_t deadline,
    int left, int *timeout_ms, int *err);
ssize_t wk__fd_recvfrom_wait(int fd, void *buf, size_t size, int64_t deadline,
    int left, int *timeout_ms, wk__sender *from, int *err);
int wk__fd_poll(struct pollfd *fds, unsigned n, int64_t deadline, int *ready);
int wk__fd_wait(int fd, short events, int64_t deadline, short *revents);
int wk__fd_name(int fd, bool peer, wk_addr *addr, uint16_t *port);
int wk__fd_family(int fd, int *family);
int wk__fd_type(int fd, int *type);
int wk__fd_listening(int fd, int *listening);
int wk__fd_set_blocking(int fd, bool blocking);
int wk__fd_take(int fd, bool blocking);
int wk__fd_set_option(int fd, int family, wk_socket_option option, int value);
int wk__fd_get_option(int fd, int family, wk_socket_option option,
    int *value);
int wk__fd_set_v6only(int fd, bool on);
int wk__fd_pending(int fd, size_t *bytes);

/* Datagrams. */
ssize_t wk__fd_sendto(int fd, const void *buf, size_t size, const wk_addr *to,
    uint16_t port, int *err);
ssize_t wk__fd_recvfrom(int fd, void *buf, size_t size, wk__sender *from,
    int *err);
int wk__fd_peek_datagram(int fd, size_t *size);
int wk__fd_set_broadcast(int fd);
int wk__fd_membership(int fd, bool join, const wk_addr *group,
    const wk_addr *source, unsigned ifindex);
int wk__fd_multicast_if(int fd, int family, unsigned ifindex);

int wk__fd_iface_mtu(int fd, const char *name, int *mtu);

/* An eventfd, to wake a poll() from another thread. */
int wk__event_new(int *fd);
void wk__event_signal(int fd);
void wk__event_clear(int fd);

int wk__edge_new(int *epfd);
int wk__edge_watch(int epfd, int old_fd, int fd);
bool wk__edge_take(int epfd);

void wk__fd_shutdown(int fd);
int wk__fd_shutdown_write(int fd);

#endif /* WIREKIT_ENGINE_H */
