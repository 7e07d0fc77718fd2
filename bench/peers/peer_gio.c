/*
 * peer_gio.c - GIO's share of bench/peers: GSocket in blocking mode for
 * TCP, g_resolver_lookup_by_name_async() on a GMainLoop for lookups
 *
 * usage: peer_gio tcp WORK COUNT | dns N   (see peer.h)
 *
 * Built only by "make bench-peers", when pkg-config knows gio-2.0.
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>

#include "peer.h"

static void
check(bool ok, const char *what, GError *err)
{
	if (!ok)
		peer_die(what, err ? err->message : NULL);
}

/* ---------------------------------------------------------------- TCP */

static void
read_exactly(GSocket *s, void *buf, size_t n)
{
	GError *err = NULL;
	gssize got;

	for (size_t done = 0; done < n; done += (size_t)got)
		check((got = g_socket_receive(s, (char *)buf + done, n - done,
		    NULL, &err)) > 0, "g_socket_receive", err);
}

/* g_socket_send() may take part of it, as send(2). */
static void
write_all(GSocket *s, const void *buf, size_t n)
{
	GError *err = NULL;
	gssize put;

	for (size_t done = 0; done < n; done += (size_t)put)
		check((put = g_socket_send(s, (const char *)buf + done,
		    n - done, NULL, &err)) > 0, "g_socket_send", err);
}

static void
nodelay(GSocket *s)
{
	g_socket_set_option(s, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
}

static void *
server_side(void *arg)
{
	static char buf[PEER_BULK_READ];
	struct peer_run *r = arg;
	char msg[PEER_PING_SIZE];
	long n = r->work == PEER_CONNECT ? r->count : 1;
	GError *err = NULL;
	GSocket *c;
	gssize got;

	for (long i = 0; i < n; i++) {
		check((c = g_socket_accept(r->listener, NULL, &err)) != NULL,
		    "g_socket_accept", err);
		sem_post(&r->window);
		if (r->work == PEER_PINGPONG) {
			nodelay(c);
			for (long t = 0; t < r->count; t++) {
				read_exactly(c, msg, sizeof(msg));
				write_all(c, msg, sizeof(msg));
			}
		} else if (r->work != PEER_CONNECT) {
			for (long left = r->count; left > 0; left -= got)
				check((got = g_socket_receive(c, buf,
				    sizeof(buf), NULL, &err)) > 0,
				    "g_socket_receive", err);
		}
		g_object_unref(c);	/* closes it */
	}
	return NULL;
}

/* A GSocket connects once: a new one for every connection. */
static GSocket *
dial(uint16_t port)
{
	GSocketAddress *sa = g_inet_socket_address_new_from_string(
	    "127.0.0.1", port);
	GError *err = NULL;
	GSocket *s;

	check((s = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
	    G_SOCKET_PROTOCOL_TCP, &err)) != NULL, "g_socket_new", err);
	check(g_socket_connect(s, sa, NULL, &err), "g_socket_connect", err);
	g_object_unref(sa);
	return s;
}

static void
client_side(struct peer_run *r)
{
	static char data[64 * 1024];
	char msg[PEER_PING_SIZE] = "ping";
	GSocket *s;

	if (r->work == PEER_CONNECT) {
		for (long i = 0; i < r->count; i++) {
			sem_wait(&r->window);
			g_object_unref(dial(r->port));
		}
		return;
	}
	s = dial(r->port);
	if (r->work == PEER_PINGPONG) {
		nodelay(s);
		for (long i = 0; i < r->count; i++) {
			write_all(s, msg, sizeof(msg));
			read_exactly(s, msg, sizeof(msg));
		}
	} else {
		size_t chunk = peer_chunk(r->work);

		for (long left = r->count; left > 0; left -= (long)chunk)
			write_all(s, data, chunk);
	}
	g_object_unref(s);
}

static void
listen_side(struct peer_run *r)
{
	GSocketAddress *sa = g_inet_socket_address_new_from_string(
	    "127.0.0.1", 0);
	GError *err = NULL;
	GSocket *l;

	check((l = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
	    G_SOCKET_PROTOCOL_TCP, &err)) != NULL, "g_socket_new", err);
	/* GIO's default backlog is 10: Qt's and the others' is 50. */
	g_socket_set_listen_backlog(l, PEER_BACKLOG);
	check(g_socket_bind(l, sa, TRUE, &err) && g_socket_listen(l, &err),
	    "listen", err);
	g_object_unref(sa);
	check((sa = g_socket_get_local_address(l, &err)) != NULL,
	    "g_socket_get_local_address", err);
	r->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(sa));
	g_object_unref(sa);
	r->listener = l;
}

static void
unlisten_side(struct peer_run *r)
{
	g_object_unref(r->listener);
}

static const struct peer_tcp_side tcp_side = {
	listen_side, server_side, client_side, unlisten_side
};

/* ---------------------------------------------------------------- DNS */

struct lookup {
	char name[64];
	char want[16];
};

static GMainLoop *loop;
static int done_count, right_count, lookups;

/* In the main loop: right when every address is the one expected. */
static void
on_done(GObject *resolver, GAsyncResult *res, gpointer arg)
{
	const struct lookup *l = arg;
	GList *addrs = g_resolver_lookup_by_name_finish(G_RESOLVER(resolver),
	    res, NULL);
	bool right = addrs != NULL;

	for (GList *a = addrs; a && right; a = a->next) {
		char *text = g_inet_address_to_string(a->data);

		right = strcmp(text, l->want) == 0;
		g_free(text);
	}
	g_resolver_free_addresses(addrs);
	right_count += right;
	if (++done_count == lookups)
		g_main_loop_quit(loop);
}

static void
dns(int n)
{
	struct lookup *l = g_new0(struct lookup, n);
	GResolver *resolver = g_resolver_get_default();
	double t;

	loop = g_main_loop_new(NULL, FALSE);
	lookups = n;
	for (int p = 0; p < PEER_PHASE_COUNT; p++) {
		for (int i = 0; i < n; i++)
			peer_dns_name((enum peer_phase)p, i, l[i].name,
			    sizeof(l[i].name), l[i].want, sizeof(l[i].want));
		done_count = right_count = 0;
		t = peer_now();
		for (int i = 0; i < n; i++)
			g_resolver_lookup_by_name_async(resolver, l[i].name,
			    NULL, on_done, &l[i]);
		g_main_loop_run(loop);
		peer_dns_report((enum peer_phase)p, peer_now() - t, right_count,
		    n);
	}
	g_main_loop_unref(loop);
	g_object_unref(resolver);
	g_free(l);
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
		fprintf(stderr, "usage: peer_gio tcp WORK COUNT | dns N\n");
		return 2;
	}
	return 0;
}
