/*
 * wirekit/server.h - the TCP server: listen, accept, pending connections
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef WIREKIT_SERVER_H
#define WIREKIT_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include <wirekit/addr.h>
#include <wirekit/common.h>
#include <wirekit/error.h>
#include <wirekit/socket.h>

WK_BEGIN_DECLS

/* A listening TCP socket, as Qt's QTcpServer: opaque, one owner. */
typedef struct wk_server wk_server;

WK_API wk_server *wk_server_new(void);
WK_API void wk_server_free(wk_server *srv);
WK_API bool wk_server_listen(wk_server *srv, const wk_addr *addr,
    uint16_t port);
WK_API bool wk_server_is_listening(const wk_server *srv);
WK_API void wk_server_close(wk_server *srv);
WK_API bool wk_server_wait_new_connection(wk_server *srv, int msecs,
    bool *timed_out);
WK_API bool wk_server_has_pending(wk_server *srv);
WK_API wk_socket *wk_server_next_pending(wk_server *srv);
WK_API bool wk_server_set_max_pending(wk_server *srv, int count);
WK_API int wk_server_max_pending(const wk_server *srv);
WK_API void wk_server_pause_accepting(wk_server *srv);
WK_API void wk_server_resume_accepting(wk_server *srv);
WK_API bool wk_server_set_descriptor(wk_server *srv, int fd);
WK_API int wk_server_descriptor(const wk_server *srv);
WK_API uint16_t wk_server_port(const wk_server *srv);
WK_API wk_addr wk_server_address(const wk_server *srv);
WK_API wk_error wk_server_error(const wk_server *srv);
WK_API const char *wk_server_error_string(const wk_server *srv);

WK_END_DECLS

#endif /* WIREKIT_SERVER_H */
