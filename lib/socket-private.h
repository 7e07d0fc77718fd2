/*
 * socket-private.h - the socket object, shared by socket.c (state,
 * buffers, waits), tcp.c (connecting) and server.c (accepting)
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef WIREKIT_SOCKET_PRIVATE_H
#define WIREKIT_SOCKET_PRIVATE_H

#include <poll.h>
#include <stdint.h>

#include <wirekit/lookup.h>
#include <wirekit/socket.h>

#include "buffer.h"
#include "engine.h"
#include "error-private.h"

/* RFC 8305's Connection Attempt Delay. */
#define WK__ATTEMPT_DELAY_MS 250
/*
 * SO_RCVTIMEO counts in jiffies and may end a wait this much late; a
 * blocking recv() is given the wait's time less this, and poll() the rest.
 */
#define WK__RCVTIMEO_SLACK_MS 20
/* At most this many connection attempts are in flight at once. */
#define WK__MAX_ATTEMPTS 8
/* Qt's default connect timeout. */
#define WK__CONNECT_TIMEOUT_MS 30000

struct wk__lookup_link;
struct wk__sthread;

/*
 * A state change as the callback layer sees it: the state left and the
 * one entered, and the error the socket held at that moment.
 */
struct wk__state_change {
	wk_state from, to;
	wk_error error;
};
#define WK__STATE_LOG 32	/* changes kept between two looks */

/* One connection attempt of a Happy Eyeballs race. */
struct wk__attempt {
	int fd;
	wk_addr addr;
	int64_t deadline;	/* the connect timeout of this attempt */
};

/* Options set before a descriptor exists, applied when one does. */
#define WK__OPTION_COUNT (WK_OPT_PATH_MTU + 1)

/*
 * The fields every read, write and wait touches come first, so that a
 * datagram or a read costs two cache lines of this; the connecting state
 * and the callback layer's fields follow.
 */
struct wk_socket {
	wk_socket_type type;
	wk_state state;
	int fd;
	wk__err err;
	bool blocking;			/* the descriptor is in blocking mode */
	bool held;			/* UDP: a datagram a wait received, in
					   rbuf, until it is read */
	int af;				/* its AF_INET / AF_INET6; 0 unknown */
	int rcv_timeout_ms;		/* SO_RCVTIMEO held: -1 none, -2 unknown */
	int idle_ms;			/* > 0: what a wait given -1 waits */
	/* counted always, read by the callback layer */
	uint64_t rx_count;		/* bytes (TCP) received from the kernel,
					   datagrams (UDP) handed to the caller */
	uint64_t tx_count;		/* bytes given to the kernel */
	/* buffers */
	wk__buf rbuf, wbuf;
	size_t read_limit;		/* 0: unlimited */
	wk__sender held_from;		/* the held datagram's sender, as the
					   kernel gave it */
	/* connecting */
	wk_family family;		/* preference: any, IPv4 or IPv6 only */
	int connect_timeout_ms;
	char *peer_name;		/* the host as given to connect */
	uint16_t connect_port;
	struct wk__lookup_link *lookup;
	wk_addr *targets;		/* addresses in the order to try them */
	size_t target_count, next_target;
	struct wk__attempt attempts[WK__MAX_ATTEMPTS];
	unsigned attempt_count;
	int64_t next_attempt_at;	/* when the next attempt may start */
	char *failures;			/* "addr: reason; ..." of attempts */
	unsigned nfailures;		/* attempts failed, listed or not */
	wk_error last_failure;
	bool close_after_connect;	/* disconnect() while connecting */
	bool peer_gone;			/* the last connection ended by the peer */
	bool read_eof;			/* the peer's end seen, the queue going out */
	bool write_closed;		/* close_write(): no more writes */
	bool fin_sent;			/* ... and the queue out, SHUT_WR done */
	/* addresses, read from the kernel only when asked for */
	wk_addr peer, local;
	uint16_t peer_port, local_port;
	bool peer_known, local_known;
	/* options */
	int options[WK__OPTION_COUNT];
	bool option_set[WK__OPTION_COUNT];
	/* the callback layer (thread.c, serve.c), above this file */
	struct wk__sthread *thread;
	bool (*free_hook)(wk_socket *s);	/* false: the free is deferred */
	void (*close_hook)(wk_socket *s);	/* before the descriptor goes */
	void *hook_ctx;
	bool log_states;
	struct wk__state_change state_log[WK__STATE_LOG];
	unsigned log_head, log_count;
};

/* socket.c */
wk_socket *wk__socket_new(wk_socket_type type);
bool wk__socket_adopt(wk_socket *s, int fd, wk_state state, bool fresh);
void wk__socket_set_state(wk_socket *s, wk_state state);
void wk__socket_connected(wk_socket *s, int fd, const wk_addr *peer);
void wk__socket_close_fd(wk_socket *s);
void wk__socket_apply_options(wk_socket *s, int fd, int family);
const char *wk__socket_target(wk_socket *s);
int wk__socket_family(wk_socket *s);
unsigned wk__socket_pollfds(wk_socket *s, struct pollfd *fds, int64_t *wake);
void wk__socket_step(wk_socket *s, const struct pollfd *fds, unsigned n);
bool wk__socket_next_change(wk_socket *s, struct wk__state_change *c);

/* udp.c */
ssize_t wk__udp_read(wk_socket *s, void *buf, size_t size);
ssize_t wk__udp_write(wk_socket *s, const void *buf, size_t size);
bool wk__udp_wait(wk_socket *s, int msecs);

/* tcp.c */
bool wk__tcp_start(wk_socket *s, const char *host, const wk_addr *addr);
void wk__tcp_cancel(wk_socket *s);
unsigned wk__tcp_pollfds(wk_socket *s, struct pollfd *fds, int64_t *wake);
void wk__tcp_progress(wk_socket *s, const struct pollfd *fds, unsigned n);

#endif /* WIREKIT_SOCKET_PRIVATE_H */
