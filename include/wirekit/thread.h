/*
 * wirekit/thread.h - the optional callback layer: a socket on a thread of
 * its own that calls handlers there, and servers that accept on a thread
 * of their own, one of them serving each connection on a new thread
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef WIREKIT_THREAD_H
#define WIREKIT_THREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <wirekit/common.h>
#include <wirekit/error.h>
#include <wirekit/server.h>
#include <wirekit/socket.h>

WK_BEGIN_DECLS

/*
 * Qt's signals of QAbstractSocket, called on the socket's thread; any may
 * be NULL.  arg is the one given to wk_socket_start().
 */
typedef struct wk_socket_handlers {
	/* The lookup is done and the state is WK_STATE_CONNECTING. */
	void (*host_found)(wk_socket *s, void *arg);
	void (*connected)(wk_socket *s, void *arg);
	/* New input waits: bytes (TCP) or datagrams (UDP).  Never re-entered. */
	void (*ready_read)(wk_socket *s, void *arg);
	/* bytes more went to the kernel since the last call. */
	void (*bytes_written)(wk_socket *s, size_t bytes, void *arg);
	/* A connection ended: CONNECTED or CLOSING became UNCONNECTED. */
	void (*disconnected)(wk_socket *s, void *arg);
	/* A failure the thread saw; wk_socket_error_string() says more. */
	void (*error)(wk_socket *s, wk_error code, void *arg);
	void (*state_changed)(wk_socket *s, wk_state state, void *arg);
	/* The last call on the thread, as it exits (beyond Qt). */
	void (*stopped)(wk_socket *s, void *arg);
} wk_socket_handlers;

/* A function run on a socket's thread by wk_socket_post(). */
typedef void (*wk_socket_fn)(wk_socket *s, void *arg);

WK_API bool wk_socket_start(wk_socket *s, const wk_socket_handlers *handlers,
    void *arg);
WK_API bool wk_socket_is_started(const wk_socket *s);
/* From any thread. */
WK_API bool wk_socket_post(wk_socket *s, wk_socket_fn fn, void *arg);
WK_API bool wk_socket_post_delayed(wk_socket *s, int msecs, wk_socket_fn fn,
    void *arg);
WK_API bool wk_socket_write_async(wk_socket *s, const void *buf, size_t size);
WK_API void wk_socket_stop(wk_socket *s);
WK_API bool wk_socket_join(wk_socket *s, int msecs);

/* A server's own thread calls this with each connection it accepts. */
typedef void (*wk_connection_fn)(wk_socket *s, void *arg);

/* wk_server_serve()'s options; all-zero (or NULL) means the defaults. */
typedef struct wk_serve_options {
	/* Handlers alive at once; 0: 1,024.  At the limit accepting pauses. */
	unsigned max_connections;
	/* Each handler thread's stack; 0: 64 KiB. */
	size_t stack_size;
	/* A wait given -1 ends after this long instead; 0: no limit. */
	int idle_timeout_ms;
} wk_serve_options;

/* What a server's thread has done; wk_server_stats() fills it in. */
typedef struct wk_serve_stats {
	uint64_t accepted;		/* connections accepted */
	uint64_t refused_by_limit;	/* times accepting paused at the limit */
	uint64_t thread_failures;	/* handler threads that could not start */
	unsigned active;		/* handlers running now */
	unsigned peak_active;		/* the most that ever ran at once */
} wk_serve_stats;

WK_API bool wk_server_start(wk_server *srv, wk_connection_fn on_new_connection,
    void *arg);
WK_API bool wk_server_serve(wk_server *srv, wk_connection_fn handler, void *arg,
    const wk_serve_options *options);
/* From any thread, and from a signal handler. */
WK_API void wk_server_stop(wk_server *srv);
WK_API bool wk_server_join(wk_server *srv, int msecs);
WK_API bool wk_server_drain(wk_server *srv, int grace_msecs);
/* From any thread. */
WK_API bool wk_server_stats(const wk_server *srv, wk_serve_stats *stats);

WK_END_DECLS

#endif /* WIREKIT_THREAD_H */
