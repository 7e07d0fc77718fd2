/*
 * peer_posix.c - the raw POSIX share of bench/peers: blocking socket
 * calls for TCP, a sequential getaddrinfo() loop for lookups
 *
 * usage: peer_posix tcp WORK COUNT | dns N   (see peer.h)
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "peer.h"

static void
check(bool ok, const char *what)
{
	if (!ok)
		peer_die(what, strerror(errno));
}

/* ---------------------------------------------------------------- TCP */

static void
read_exactly(int fd, void *buf, size_t n)
{
	ssize_t got;

	for (size_t done = 0; done < n; done += (size_t)got)
		check((got = recv(fd, (char *)buf + done, n - done, 0)) > 0,
		    "recv");
}

static void
write_all(int fd, const void *buf, size_t n)
{
	ssize_t put;

	for (size_t done = 0; done < n; done += (size_t)put)
		check((put = send(fd, (const char *)buf + done, n - done,
		    MSG_NOSIGNAL)) > 0, "send");
}

static void
nodelay(int fd)
{
	int on = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

static void *
server_side(void *arg)
{
	static char buf[PEER_BULK_READ];
	struct peer_run *r = arg;
	char msg[PEER_PING_SIZE];
	long n = r->work == PEER_CONNECT ? r->count : 1;
	ssize_t got;
	int c;

	for (long i = 0; i < n; i++) {
		check((c = accept(r->lfd, NULL, NULL)) >= 0, "accept");
		sem_post(&r->window);
		if (r->work == PEER_PINGPONG) {
			nodelay(c);
			for (long t = 0; t < r->count; t++) {
				read_exactly(c, msg, sizeof(msg));
				write_all(c, msg, sizeof(msg));
			}
		} else if (r->work != PEER_CONNECT) {
			for (long left = r->count; left > 0; left -= got)
				check((got = recv(c, buf, sizeof(buf), 0)) > 0,
				    "recv");
		}
		close(c);
	}
	return NULL;
}

static int
dial(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd;

	check((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0, "socket");
	check(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0,
	    "connect");
	return fd;
}

static void
client_side(struct peer_run *r)
{
	static char data[64 * 1024];
	char msg[PEER_PING_SIZE] = "ping";
	int fd;

	if (r->work == PEER_CONNECT) {
		for (long i = 0; i < r->count; i++) {
			sem_wait(&r->window);
			close(dial(r->port));
		}
		return;
	}
	fd = dial(r->port);
	if (r->work == PEER_PINGPONG) {
		nodelay(fd);
		for (long i = 0; i < r->count; i++) {
			write_all(fd, msg, sizeof(msg));
			read_exactly(fd, msg, sizeof(msg));
		}
	} else {
		size_t chunk = peer_chunk(r->work);

		for (long left = r->count; left > 0; left -= (long)chunk)
			write_all(fd, data, chunk);
	}
	close(fd);
}

static void
listen_side(struct peer_run *r)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int on = 1;

	check((r->lfd = socket(AF_INET, SOCK_STREAM, 0)) >= 0, "socket");
	setsockopt(r->lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	check(bind(r->lfd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    listen(r->lfd, PEER_BACKLOG) == 0 &&
	    getsockname(r->lfd, (struct sockaddr *)&sin, &len) == 0, "listen");
	r->port = ntohs(sin.sin_port);
}

static void
unlisten_side(struct peer_run *r)
{
	close(r->lfd);
}

static const struct peer_tcp_side tcp_side = {
	listen_side, server_side, client_side, unlisten_side
};

/* ---------------------------------------------------------------- DNS */

/* The hints wirekit's pool gives getaddrinfo(). */
static bool
lookup(const char *name, const char *want)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
	    .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
	struct addrinfo *res, *ai;
	char text[INET6_ADDRSTRLEN];
	bool right;

	if (getaddrinfo(name, NULL, &hints, &res) != 0)
		return false;
	right = true;
	for (ai = res; ai && right; ai = ai->ai_next) {
		const void *a = ai->ai_family == AF_INET ?
		    (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr :
		    (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;

		right = inet_ntop(ai->ai_family, a, text, sizeof(text)) &&
		    strcmp(text, want) == 0;
	}
	freeaddrinfo(res);
	return right;
}

/* One name after the other: n lookups a phase. */
static void
dns(int n)
{
	char name[64], want[16];
	int right;
	double t;

	for (int p = 0; p < PEER_PHASE_COUNT; p++) {
		right = 0;
		t = peer_now();
		for (int i = 0; i < n; i++) {
			peer_dns_name((enum peer_phase)p, i, name, sizeof(name),
			    want, sizeof(want));
			right += lookup(name, want);
		}
		peer_dns_report((enum peer_phase)p, peer_now() - t, right, n);
	}
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
		fprintf(stderr, "usage: peer_posix tcp WORK COUNT | dns N\n");
		return 2;
	}
	return 0;
}
