/*
 * peer_uv.c - libuv's share of bench/peers: lookups only, each an
 * uv_getaddrinfo() on the default loop (its thread pool, 4 threads
 * unless UV_THREADPOOL_SIZE says otherwise)
 *
 * usage: peer_uv dns N   (see peer.h)
 *
 * Built only by "make bench-peers", when pkg-config knows libuv.
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <sys/socket.h>

#include <netdb.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "peer.h"

struct lookup {
	uv_getaddrinfo_t req;
	char name[64];
	char want[16];
};

static int done_count, right_count;

/* In the loop: right when every address is the one expected. */
static void
on_done(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	const struct lookup *l = req->data;
	char text[64];
	bool right = status == 0 && res != NULL;

	for (struct addrinfo *ai = res; ai && right; ai = ai->ai_next) {
		right = uv_ip_name(ai->ai_addr, text, sizeof(text)) == 0 &&
		    strcmp(text, l->want) == 0;
	}
	uv_freeaddrinfo(res);
	right_count += right;
	done_count++;
}

static void
dns(int n)
{
	/* The hints wirekit's pool gives getaddrinfo(). */
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
	    .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
	struct lookup *l = calloc((size_t)n, sizeof(*l));
	uv_loop_t *loop = uv_default_loop();
	double t;
	int rc;

	if (!l)
		peer_die("calloc", "out of memory");
	for (int p = 0; p < PEER_PHASE_COUNT; p++) {
		for (int i = 0; i < n; i++) {
			peer_dns_name((enum peer_phase)p, i, l[i].name,
			    sizeof(l[i].name), l[i].want, sizeof(l[i].want));
			l[i].req.data = &l[i];
		}
		done_count = right_count = 0;
		t = peer_now();
		for (int i = 0; i < n; i++)
			if ((rc = uv_getaddrinfo(loop, &l[i].req, on_done,
			    l[i].name, NULL, &hints)) != 0)
				peer_die("uv_getaddrinfo", uv_strerror(rc));
		/* Returns when no request is left. */
		uv_run(loop, UV_RUN_DEFAULT);
		if (done_count != n)
			peer_die("uv_run", "returned early");
		peer_dns_report((enum peer_phase)p, peer_now() - t, right_count,
		    n);
	}
	uv_loop_close(loop);
	free(l);
}

int
main(int argc, char **argv)
{
	int n;

	if ((n = peer_parse_dns(argc, argv)) > 0)
		dns(n);
	else {
		fprintf(stderr, "usage: peer_uv dns N\n");
		return 2;
	}
	return 0;
}
