/*
 * peer.h - what every peer program of bench/peers shares: the
 * workloads, the command line, the one line of numbers each run prints,
 * and (for the C peers) the two-thread TCP harness
 *
 * A peer program does one library's share of the work on demand of the
 * driver (bench_peers.c), in a process of its own:
 *
 *	PEER tcp WORK COUNT	one TCP run; prints "tcp RATE CPU"
 *	PEER dns N		three lookup phases of N names each (see
 *				enum peer_phase); after each prints "dns
 *				PHASE MS RIGHT DONE" and waits for a line
 *				on stdin, so that the driver can read and
 *				reset the DNS server's query counts
 *
 * This header is C and C++: the Qt peer includes it too.
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef WIREKIT_BENCH_PEER_H
#define WIREKIT_BENCH_PEER_H

#include <sys/resource.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PEER_PING_SIZE 32
#define PEER_BULK_READ (64 * 1024)	/* every receiver asks for this much */
/*
 * Connections the client may have ahead of the server's accepts: below
 * the listen backlog of 50 (Qt's), for a full accept queue drops the SYN
 * and the client's retry comes a whole second later.
 */
#define PEER_CONNECT_WINDOW 32
#define PEER_BACKLOG 50

#define PEER_ZONE "wirekit.test"
/* The same-name phase asks for a name the distinct phases do not. */
#define PEER_SAME_INDEX 200000

enum peer_work { PEER_BULK_64K, PEER_BULK_1K, PEER_PINGPONG, PEER_CONNECT,
	PEER_WORK_COUNT };

static const char *const peer_work_names[PEER_WORK_COUNT] = {
	"bulk64k", "bulk1k", "pingpong", "connect"
};

enum peer_phase { PEER_DISTINCT, PEER_SAME, PEER_CACHE, PEER_PHASE_COUNT };

static const char *const peer_phase_names[PEER_PHASE_COUNT] = {
	"distinct", "same", "cache"
};

static inline double
peer_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds used so far by the process, every thread, user and system. */
static inline double
peer_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static inline void
peer_die(const char *what, const char *why)
{
	fprintf(stderr, "peer: %s: %s\n", what, why ? why : "failed");
	exit(1);
}

static inline size_t
peer_chunk(enum peer_work w)
{
	return w == PEER_BULK_1K ? 1024 : 64 * 1024;
}

/* Rate in the work's unit: MiB/s for bulk, per second otherwise. */
static inline void
peer_tcp_report(enum peer_work w, long count, double secs, double cpu)
{
	double rate = (double)count / secs;

	if (w == PEER_BULK_64K || w == PEER_BULK_1K)
		rate /= 1024.0 * 1024.0;
	printf("tcp %.3f %.4f\n", rate, cpu);
	fflush(stdout);
}

/* "tcp WORK COUNT": the work, or -1 (with a message) for a bad line. */
static inline int
peer_parse_tcp(int argc, char **argv, long *count)
{
	if (argc != 4 || strcmp(argv[1], "tcp") != 0)
		return -1;
	*count = atol(argv[3]);
	for (int w = 0; w < PEER_WORK_COUNT; w++)
		if (strcmp(argv[2], peer_work_names[w]) == 0 && *count > 0) {
			/* Whole writes. */
			if (w == PEER_BULK_64K || w == PEER_BULK_1K)
				*count -= *count % (long)peer_chunk(
				    (enum peer_work)w);
			return w;
		}
	fprintf(stderr, "peer: %s %s: no such workload\n", argv[2], argv[3]);
	return -1;
}

/* "dns N": how many lookups each phase does, or -1. */
static inline int
peer_parse_dns(int argc, char **argv)
{
	int n;

	if (argc != 3 || strcmp(argv[1], "dns") != 0)
		return -1;
	n = atoi(argv[2]);
	return n > 0 && n < PEER_SAME_INDEX ? n : -1;
}

/* Lookup i of a phase: its name and the only address it may answer. */
static inline void
peer_dns_name(enum peer_phase p, int i, char *name, size_t size,
    char *addr, size_t addr_size)
{
	unsigned n = p == PEER_SAME ? PEER_SAME_INDEX : (unsigned)i;

	snprintf(name, size, "h%u." PEER_ZONE, n);
	/* tests/dnsd.h: h<N> is 10.x.y.z, the low 24 bits of N. */
	snprintf(addr, addr_size, "10.%u.%u.%u", n >> 16 & 255, n >> 8 & 255,
	    n & 255);
}

/*
 * The phase's line, then a line from the driver before going on (after
 * the last phase, the driver's line or end of file ends the program).
 */
static inline void
peer_dns_report(enum peer_phase p, double secs, int right, int done)
{
	char line[16];

	printf("dns %s %.1f %d %d\n", peer_phase_names[p], secs * 1000, right,
	    done);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin) && p != PEER_CACHE)
		exit(1);
}

#ifndef __cplusplus

#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>

/* One TCP run: the workload, how much of it, the listener of the side. */
struct peer_run {
	enum peer_work work;
	long count;		/* bytes, round trips or connections */
	uint16_t port;
	void *listener;
	int lfd;
	sem_t window;		/* PEER_CONNECT_WINDOW */
};

/* A C peer's TCP code: the listener, the server thread, the client. */
struct peer_tcp_side {
	void (*listen)(struct peer_run *);
	void *(*server)(void *);
	void (*client)(struct peer_run *);
	void (*unlisten)(struct peer_run *);
};

/*
 * The clock covers the client's work and the server's end (joined);
 * listening, thread start and the connect of a transfer are outside,
 * as in bench_tcp.
 */
static inline void
peer_tcp_run(const struct peer_tcp_side *side, enum peer_work w, long count)
{
	struct peer_run r;
	pthread_t t;
	double start, cpu;

	memset(&r, 0, sizeof(r));
	r.work = w;
	r.count = count;
	r.lfd = -1;
	sem_init(&r.window, 0, PEER_CONNECT_WINDOW);
	side->listen(&r);
	if (pthread_create(&t, NULL, side->server, &r) != 0)
		peer_die("pthread_create", NULL);
	cpu = peer_cpu();
	start = peer_now();
	side->client(&r);
	pthread_join(t, NULL);
	start = peer_now() - start;
	cpu = peer_cpu() - cpu;
	side->unlisten(&r);
	sem_destroy(&r.window);
	peer_tcp_report(w, count, start, cpu);
}

#endif /* !__cplusplus */

#endif /* WIREKIT_BENCH_PEER_H */
