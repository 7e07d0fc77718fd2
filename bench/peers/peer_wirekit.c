/*
 * peer_wirekit.c - wirekit's share of bench/peers: TCP through the
 * blocking waits (Qt's waitFor* idiom), lookups through the pool
 *
 * usage: peer_wirekit tcp WORK COUNT | dns N   (see peer.h)
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wirekit.h>

#include "peer.h"

static void
check(wk_socket *s, bool ok, const char *what)
{
	if (!ok)
		peer_die(what, wk_socket_error_string(s));
}

/* ---------------------------------------------------------------- TCP */

/* Waits until n bytes are buffered, then takes them: Qt's idiom. */
static void
read_exactly(wk_socket *s, void *buf, size_t n)
{
	while (wk_socket_bytes_available(s) < n)
		check(s, wk_socket_wait_ready_read(s, -1), "wait_ready_read");
	check(s, wk_socket_read(s, buf, n) == (ssize_t)n, "read");
}

/* write() queues what the kernel does not take: wait for it as send(2). */
static void
write_all(wk_socket *s, const void *buf, size_t n)
{
	check(s, wk_socket_write(s, buf, n) == (ssize_t)n, "write");
	while (wk_socket_bytes_to_write(s) > 0)
		check(s, wk_socket_wait_bytes_written(s, -1),
		    "wait_bytes_written");
}

/* Waits only when nothing is buffered, as bench_tcp does. */
static void
receive(wk_socket *s, long total)
{
	static char buf[PEER_BULK_READ];
	ssize_t n;

	while (total > 0) {
		if (wk_socket_bytes_available(s) == 0)
			check(s, wk_socket_wait_ready_read(s, -1),
			    "wait_ready_read");
		check(s, (n = wk_socket_read(s, buf, sizeof(buf))) > 0, "read");
		total -= n;
	}
}

static void *
server_side(void *arg)
{
	struct peer_run *r = arg;
	wk_server *srv = r->listener;
	char msg[PEER_PING_SIZE];
	long n = r->work == PEER_CONNECT ? r->count : 1;
	wk_socket *c;

	for (long i = 0; i < n; i++) {
		if (!wk_server_wait_new_connection(srv, -1, NULL))
			peer_die("wait_new_connection",
			    wk_server_error_string(srv));
		c = wk_server_next_pending(srv);
		sem_post(&r->window);
		if (r->work == PEER_PINGPONG) {
			wk_socket_set_option(c, WK_OPT_LOW_DELAY, 1);
			for (long t = 0; t < r->count; t++) {
				read_exactly(c, msg, sizeof(msg));
				write_all(c, msg, sizeof(msg));
			}
		} else if (r->work != PEER_CONNECT) {
			receive(c, r->count);
		}
		wk_socket_free(c);
	}
	return NULL;
}

static void
dial(wk_socket *s, uint16_t port)
{
	check(s, wk_socket_connect(s, "127.0.0.1", port), "connect");
	check(s, wk_socket_wait_connected(s, -1), "wait_connected");
}

static void
client_side(struct peer_run *r)
{
	static char data[64 * 1024];
	char msg[PEER_PING_SIZE] = "ping";
	wk_socket *s = wk_tcp_socket();

	if (!s)
		peer_die("wk_tcp_socket", "out of memory");
	if (r->work == PEER_CONNECT) {
		for (long i = 0; i < r->count; i++) {
			sem_wait(&r->window);
			dial(s, r->port);
			wk_socket_disconnect(s);
		}
	} else if (r->work == PEER_PINGPONG) {
		wk_socket_set_option(s, WK_OPT_LOW_DELAY, 1);
		dial(s, r->port);
		for (long i = 0; i < r->count; i++) {
			write_all(s, msg, sizeof(msg));
			read_exactly(s, msg, sizeof(msg));
		}
	} else {
		size_t chunk = peer_chunk(r->work);

		dial(s, r->port);
		for (long left = r->count; left > 0; left -= (long)chunk)
			write_all(s, data, chunk);
	}
	wk_socket_free(s);
}

static void
listen_side(struct peer_run *r)
{
	wk_addr lo = wk_addr_special(WK_ADDR_LOCALHOST);
	wk_server *srv;

	if (!(srv = wk_server_new()))
		peer_die("wk_server_new", "out of memory");
	if (!wk_server_listen(srv, &lo, 0))
		peer_die("listen", wk_server_error_string(srv));
	r->port = wk_server_port(srv);
	r->listener = srv;
}

static void
unlisten_side(struct peer_run *r)
{
	wk_server_free(r->listener);
}

static const struct peer_tcp_side tcp_side = {
	listen_side, server_side, client_side, unlisten_side
};

/* ---------------------------------------------------------------- DNS */

struct lookup {
	char name[64];
	char want[16];
};

static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static int done_count, right_count;

/* On a pool thread: right when every address is the one expected. */
static void
on_done(const wk_hostinfo *info, void *arg)
{
	const struct lookup *l = arg;
	size_t n = wk_hostinfo_count(info);
	bool right = wk_hostinfo_error(info) == WK_NO_ERROR && n > 0;
	char text[64];

	for (size_t i = 0; right && i < n; i++) {
		wk_addr a = wk_hostinfo_addr(info, i);

		wk_addr_format(&a, text, sizeof(text));
		right = strcmp(text, l->want) == 0;
	}
	pthread_mutex_lock(&done_lock);
	done_count++;
	right_count += right;
	pthread_cond_signal(&done_cond);
	pthread_mutex_unlock(&done_lock);
}

/* Starts all n lookups, then waits for the last result. */
static void
dns(int n)
{
	struct lookup *l = calloc((size_t)n, sizeof(*l));
	double t;

	if (!l)
		peer_die("calloc", "out of memory");
	for (int p = 0; p < PEER_PHASE_COUNT; p++) {
		for (int i = 0; i < n; i++)
			peer_dns_name((enum peer_phase)p, i, l[i].name,
			    sizeof(l[i].name), l[i].want, sizeof(l[i].want));
		done_count = right_count = 0;
		t = peer_now();
		for (int i = 0; i < n; i++)
			if (wk_lookup_start(l[i].name, on_done, &l[i]) < 0)
				peer_die("wk_lookup_start", l[i].name);
		pthread_mutex_lock(&done_lock);
		while (done_count < n)
			pthread_cond_wait(&done_cond, &done_lock);
		pthread_mutex_unlock(&done_lock);
		peer_dns_report((enum peer_phase)p, peer_now() - t, right_count,
		    n);
	}
	wk_resolver_shutdown();
	free(l);
}

int
main(int argc, char **argv)
{
	long count;
	int w, n;

	if ((w = peer_parse_tcp(argc, argv, &count)) >= 0)
		peer_tcp_run(&tcp_side, (enum peer_work)w, count);
	else if ((n = peer_parse_dns(argc, argv)) > 0)
		dns(n);
	else {
		fprintf(stderr, "usage: peer_wirekit tcp WORK COUNT | dns N\n");
		return 2;
	}
	return 0;
}
