/*
 * wirekit/socket.h - the socket: states, buffers, blocking waits, options
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef WIREKIT_SOCKET_H
#define WIREKIT_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <wirekit/addr.h>
#include <wirekit/common.h>
#include <wirekit/error.h>

WK_BEGIN_DECLS

/* A TCP or UDP socket, as Qt's QAbstractSocket: opaque, one owner. */
typedef struct wk_socket wk_socket;

typedef enum wk_socket_type {
	WK_SOCKET_TCP = 1,
	WK_SOCKET_UDP = 2
} wk_socket_type;

/* Flags for wk_socket_bind(), as Qt's QAbstractSocket::BindMode. */
#define WK_DEFAULT_FOR_PLATFORM 0x0u	/* don't share + reuse hint */
#define WK_SHARE_ADDRESS 0x1u		/* SO_REUSEADDR: others may bind too */
#define WK_DONT_SHARE_ADDRESS 0x2u	/* exclusive */
#define WK_REUSE_ADDRESS_HINT 0x4u	/* SO_REUSEADDR: rebind after close */

/* Options for wk_socket_set_option(), as Qt's SocketOption. */
typedef enum wk_socket_option {
	WK_OPT_LOW_DELAY = 0,		/* TCP_NODELAY: 0 or 1 */
	WK_OPT_KEEP_ALIVE,		/* SO_KEEPALIVE: 0 or 1 */
	WK_OPT_MULTICAST_TTL,		/* IP_MULTICAST_TTL / IPV6_MULTICAST_HOPS */
	WK_OPT_MULTICAST_LOOPBACK,	/* IP_MULTICAST_LOOP / IPV6_MULTICAST_LOOP */
	WK_OPT_TYPE_OF_SERVICE,		/* IP_TOS / IPV6_TCLASS */
	WK_OPT_SEND_BUFFER_SIZE,	/* SO_SNDBUF */
	WK_OPT_RECEIVE_BUFFER_SIZE,	/* SO_RCVBUF */
	WK_OPT_PATH_MTU			/* IP_MTU / IPV6_MTU: read only */
} wk_socket_option;

/* Life. */
WK_API wk_socket *wk_tcp_socket(void);
WK_API void wk_socket_free(wk_socket *s);
WK_API wk_socket_type wk_socket_get_type(const wk_socket *s);
WK_API wk_state wk_socket_state(const wk_socket *s);
WK_API wk_error wk_socket_error(const wk_socket *s);
WK_API const char *wk_socket_error_string(const wk_socket *s);

/* Connecting. */
WK_API bool wk_socket_set_family(wk_socket *s, wk_family family);
WK_API bool wk_socket_set_connect_timeout(wk_socket *s, int msecs);
WK_API bool wk_socket_connect(wk_socket *s, const char *host, uint16_t port);
WK_API bool wk_socket_connect_addr(wk_socket *s, const wk_addr *addr,
    uint16_t port);
WK_API bool wk_socket_wait_connected(wk_socket *s, int msecs);

/* Reading. */
WK_API ssize_t wk_socket_read(wk_socket *s, void *buf, size_t size);
WK_API ssize_t wk_socket_read_line(wk_socket *s, char *buf, size_t size);
WK_API ssize_t wk_socket_peek(wk_socket *s, void *buf, size_t size);
WK_API ssize_t wk_socket_read_all(wk_socket *s, void **buf);
WK_API size_t wk_socket_bytes_available(const wk_socket *s);
WK_API bool wk_socket_can_read_line(const wk_socket *s);
WK_API bool wk_socket_at_end(const wk_socket *s);
WK_API bool wk_socket_wait_ready_read(wk_socket *s, int msecs);
WK_API bool wk_socket_set_read_buffer_size(wk_socket *s, size_t size);
WK_API size_t wk_socket_read_buffer_size(const wk_socket *s);

/* Writing. */
WK_API ssize_t wk_socket_write(wk_socket *s, const void *buf, size_t size);
WK_API size_t wk_socket_bytes_to_write(const wk_socket *s);
WK_API bool wk_socket_flush(wk_socket *s);
WK_API bool wk_socket_wait_bytes_written(wk_socket *s, int msecs);

/* Closing. */
WK_API void wk_socket_disconnect(wk_socket *s);
WK_API bool wk_socket_close_write(wk_socket *s);
WK_API bool wk_socket_wait_disconnected(wk_socket *s, int msecs);
WK_API void wk_socket_abort(wk_socket *s);

/* Addresses, options, descriptors. */
WK_API wk_addr wk_socket_peer_address(const wk_socket *s);
WK_API uint16_t wk_socket_peer_port(const wk_socket *s);
WK_API const char *wk_socket_peer_name(const wk_socket *s);
WK_API wk_addr wk_socket_local_address(const wk_socket *s);
WK_API uint16_t wk_socket_local_port(const wk_socket *s);
WK_API bool wk_socket_set_option(wk_socket *s, wk_socket_option option,
    int value);
WK_API bool wk_socket_get_option(wk_socket *s, wk_socket_option option,
    int *value);
WK_API bool wk_socket_bind(wk_socket *s, const wk_addr *addr, uint16_t port,
    unsigned flags);
WK_API bool wk_socket_set_descriptor(wk_socket *s, int fd, wk_state state);
WK_API int wk_socket_descriptor(const wk_socket *s);

WK_END_DECLS

#endif /* WIREKIT_SOCKET_H */
