/*
 * server-private.h - the server object, shared by server.c (listening,
 * accepting) and serve.c (the server's own thread)
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef WIREKIT_SERVER_PRIVATE_H
#define WIREKIT_SERVER_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include <wirekit/server.h>

#include "error-private.h"

struct wk__srvthread;

struct wk_server {
	int fd;
	wk__err err;
	wk_addr addr;
	uint16_t port;
	bool paused;
	bool adopted;		/* the listener came from outside */
	int max_pending;
	wk_socket **pending;	/* a ring of max_pending slots */
	size_t head, count;
	/* the callback layer (serve.c), above this file */
	struct wk__srvthread *thread;
	void (*free_hook)(wk_server *srv);
};

#endif /* WIREKIT_SERVER_PRIVATE_H */
