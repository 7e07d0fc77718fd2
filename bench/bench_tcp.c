/*
 * bench_tcp.c - TCP over loopback: wirekit's blocking waits against a
 * raw POSIX program doing the same work with blocking system calls, in
 * one run, each end in a thread of its own
 *
 * usage: bench_tcp                      the table (BENCH_QUICK=1: small counts;
 *                                        BENCH_ROUNDS=N: best of N, not 3)
 *        bench_tcp --only=SIDE-WORK [N]  one run, for strace -c
 *
 * SIDE is wirekit or raw; WORK is bulk64k, bulk1k, pingpong or connect.
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <sys/resource.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <wirekit.h>

#include "bench.h"

#define TCP_ROUNDS 3			/* best of, per workload and side */
#define BULK_BYTES (1L << 30)		/* 1 GiB */
#define BULK_READ (64 * 1024)		/* both receivers ask for this much */
#define PING_SIZE 32
#define PING_TRIPS 100000L
#define CONNECTIONS 10000L
#define QUICK_DIVISOR 16		/* BENCH_QUICK=1 */
/*
 * Connections the client may have ahead of the server's accepts: below
 * the listen backlog (50, as Qt), for a full accept queue drops the SYN
 * and the client's retry comes a whole second later.
 */
#define CONNECT_WINDOW 32

enum work { BULK_64K, BULK_1K, PINGPONG, CONNECT, WORK_COUNT };

static const struct {
	const char *name;	/* for --only */
	const char *unit;
	double target;		/* wirekit / raw, at least */
} works[WORK_COUNT] = {
	[BULK_64K] = { "bulk64k", "MB/s", 0.97 },
	[BULK_1K] = { "bulk1k", "MB/s", 0.97 },
	[PINGPONG] = { "pingpong", "trips/s", 0.95 },
	[CONNECT] = { "connect", "conn/s", 0.90 },
};

/* One run: the workload, how much of it, and the listener's port. */
struct run {
	enum work work;
	long count;		/* bytes, round trips or connections */
	uint16_t port;
	wk_server *srv;		/* wirekit's listener */
	int lfd;		/* raw's listener */
	sem_t window;		/* CONNECT_WINDOW: connects not yet accepted */
};

static void
die(const char *what, const char *why)
{
	fprintf(stderr, "bench_tcp: %s: %s\n", what, why);
	exit(1);
}

static size_t
chunk_of(enum work w)
{
	return w == BULK_1K ? 1024 : 64 * 1024;
}

static void
wk_check(wk_socket *s, bool ok, const char *what)
{
	if (!ok)
		die(what, wk_socket_error_string(s));
}

/* ---------------------------------------------------------------- wirekit */

/* Waits until n bytes are buffered, then takes them: Qt's idiom. */
static void
wk_read_exactly(wk_socket *s, void *buf, size_t n)
{
	while (wk_socket_bytes_available(s) < n)
		wk_check(s, wk_socket_wait_ready_read(s, -1), "wait_ready_read");
	wk_check(s, wk_socket_read(s, buf, n) == (ssize_t)n, "read");
}

/* write() queues what the kernel does not take: wait for it as send(2). */
static void
wk_write_all(wk_socket *s, const void *buf, size_t n)
{
	wk_check(s, wk_socket_write(s, buf, n) == (ssize_t)n, "write");
	while (wk_socket_bytes_to_write(s) > 0)
		wk_check(s, wk_socket_wait_bytes_written(s, -1),
		    "wait_bytes_written");
}

/*
 * Waits only when nothing is buffered: the wait's blocking recv() is
 * then the one system call per arrival, as for raw's recv().  (Reading
 * first and waiting on 0 costs a failed recv() per arrival more.)
 */
static void
wk_receive(wk_socket *s, long total)
{
	static char buf[BULK_READ];
	ssize_t n;

	while (total > 0) {
		if (wk_socket_bytes_available(s) == 0)
			wk_check(s, wk_socket_wait_ready_read(s, -1),
			    "wait_ready_read");
		wk_check(s, (n = wk_socket_read(s, buf, sizeof(buf))) > 0,
		    "read");
		total -= n;
	}
}

static void
wk_echo(wk_socket *s, long trips)
{
	char msg[PING_SIZE];

	for (long i = 0; i < trips; i++) {
		wk_read_exactly(s, msg, sizeof(msg));
		wk_write_all(s, msg, sizeof(msg));
	}
}

static void *
wk_server_side(void *arg)
{
	struct run *r = arg;
	wk_socket *c;
	long n = r->work == CONNECT ? r->count : 1;

	for (long i = 0; i < n; i++) {
		if (!wk_server_wait_new_connection(r->srv, -1, NULL))
			die("wait_new_connection", wk_server_error_string(r->srv));
		c = wk_server_next_pending(r->srv);
		sem_post(&r->window);
		if (r->work == PINGPONG) {
			wk_socket_set_option(c, WK_OPT_LOW_DELAY, 1);
			wk_echo(c, r->count);
		} else if (r->work != CONNECT) {
			wk_receive(c, r->count);
		}
		wk_socket_free(c);
	}
	return NULL;
}

static wk_socket *
wk_dial(wk_socket *s, uint16_t port)
{
	wk_check(s, wk_socket_connect(s, "127.0.0.1", port), "connect");
	wk_check(s, wk_socket_wait_connected(s, -1), "wait_connected");
	return s;
}

static void
wk_client_side(struct run *r)
{
	static char data[64 * 1024];
	wk_socket *s = wk_tcp_socket();
	char msg[PING_SIZE] = "ping";

	if (!s)
		die("wk_tcp_socket", "out of memory");
	if (r->work == CONNECT) {
		for (long i = 0; i < r->count; i++) {
			sem_wait(&r->window);
			wk_socket_disconnect(wk_dial(s, r->port));
		}
	} else if (r->work == PINGPONG) {
		wk_socket_set_option(s, WK_OPT_LOW_DELAY, 1);
		wk_dial(s, r->port);
		for (long i = 0; i < r->count; i++) {
			wk_write_all(s, msg, sizeof(msg));
			wk_read_exactly(s, msg, sizeof(msg));
		}
	} else {
		size_t chunk = chunk_of(r->work);

		wk_dial(s, r->port);
		for (long left = r->count; left > 0; left -= (long)chunk)
			wk_write_all(s, data, chunk);
	}
	wk_socket_free(s);
}

static void
wk_listen(struct run *r)
{
	wk_addr lo = wk_addr_special(WK_ADDR_LOCALHOST);

	if (!(r->srv = wk_server_new()))
		die("wk_server_new", "out of memory");
	if (!wk_server_listen(r->srv, &lo, 0))
		die("listen", wk_server_error_string(r->srv));
	r->port = wk_server_port(r->srv);
}

/* ---------------------------------------------------------------- raw POSIX */

static void
sys_check(bool ok, const char *what)
{
	if (!ok)
		die(what, strerror(errno));
}

static void
raw_read_exactly(int fd, void *buf, size_t n)
{
	ssize_t got;

	for (size_t done = 0; done < n; done += (size_t)got)
		sys_check((got = recv(fd, (char *)buf + done, n - done, 0)) > 0,
		    "recv");
}

static void
raw_write_all(int fd, const void *buf, size_t n)
{
	ssize_t put;

	for (size_t done = 0; done < n; done += (size_t)put)
		sys_check((put = send(fd, (const char *)buf + done, n - done,
		    MSG_NOSIGNAL)) > 0, "send");
}

static void
raw_receive(int fd, long total)
{
	static char buf[BULK_READ];
	ssize_t n;

	while (total > 0) {
		sys_check((n = recv(fd, buf, sizeof(buf), 0)) > 0, "recv");
		total -= n;
	}
}

static void
raw_nodelay(int fd)
{
	int on = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

static void *
raw_server_side(void *arg)
{
	struct run *r = arg;
	char msg[PING_SIZE];
	long n = r->work == CONNECT ? r->count : 1;
	int c;

	for (long i = 0; i < n; i++) {
		sys_check((c = accept(r->lfd, NULL, NULL)) >= 0, "accept");
		sem_post(&r->window);
		if (r->work == PINGPONG) {
			raw_nodelay(c);
			for (long t = 0; t < r->count; t++) {
				raw_read_exactly(c, msg, sizeof(msg));
				raw_write_all(c, msg, sizeof(msg));
			}
		} else if (r->work != CONNECT) {
			raw_receive(c, r->count);
		}
		close(c);
	}
	return NULL;
}

static int
raw_dial(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd;

	sys_check((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0, "socket");
	sys_check(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0,
	    "connect");
	return fd;
}

static void
raw_client_side(struct run *r)
{
	static char data[64 * 1024];
	char msg[PING_SIZE] = "ping";
	int fd;

	if (r->work == CONNECT) {
		for (long i = 0; i < r->count; i++) {
			sem_wait(&r->window);
			close(raw_dial(r->port));
		}
		return;
	}
	fd = raw_dial(r->port);
	if (r->work == PINGPONG) {
		raw_nodelay(fd);
		for (long i = 0; i < r->count; i++) {
			raw_write_all(fd, msg, sizeof(msg));
			raw_read_exactly(fd, msg, sizeof(msg));
		}
	} else {
		size_t chunk = chunk_of(r->work);

		for (long left = r->count; left > 0; left -= (long)chunk)
			raw_write_all(fd, data, chunk);
	}
	close(fd);
}

static void
raw_listen(struct run *r)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int on = 1;

	sys_check((r->lfd = socket(AF_INET, SOCK_STREAM, 0)) >= 0, "socket");
	setsockopt(r->lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	sys_check(bind(r->lfd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    listen(r->lfd, 50) == 0 &&
	    getsockname(r->lfd, (struct sockaddr *)&sin, &len) == 0, "listen");
	r->port = ntohs(sin.sin_port);
}

/* ---------------------------------------------------------------- runs */

/* CPU seconds used so far by the process, every thread, user and system. */
static double
cpu_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/*
 * One run of work on one side; returns its rate in the work's unit, and
 * in *cpu the CPU seconds both ends used.  The clock covers the client's
 * work and the server's (joined) end; listening, thread start and the
 * connect of a transfer are outside.
 */
static double
run_once(bool wirekit, enum work work, long count, double *cpu)
{
	struct run r = { .work = work, .count = count, .lfd = -1 };
	pthread_t t;
	double start;

	sem_init(&r.window, 0, CONNECT_WINDOW);
	if (wirekit)
		wk_listen(&r);
	else
		raw_listen(&r);
	if (pthread_create(&t, NULL, wirekit ? wk_server_side :
	    raw_server_side, &r) != 0)
		die("pthread_create", "failed");
	*cpu = cpu_now();
	start = bench_now();
	if (wirekit)
		wk_client_side(&r);
	else
		raw_client_side(&r);
	pthread_join(t, NULL);
	start = bench_now() - start;
	*cpu = cpu_now() - *cpu;
	wk_server_free(r.srv);
	if (r.lfd >= 0)
		close(r.lfd);
	sem_destroy(&r.window);
	if (work == BULK_64K || work == BULK_1K)
		return (double)count / 1e6 / start;
	return (double)count / start;
}

static int rounds = TCP_ROUNDS;

/*
 * Best rate and least CPU time of each side over the rounds.  The CPU
 * time is steadier than the clock on a shared machine: it says what
 * each side costs, where the rate also says how the threads were
 * scheduled.
 */
static void
row(enum work work, long count, const char *label)
{
	double best[2] = { 0, 0 }, cpu[2] = { 0, 0 }, ratio;

	/* Alternate the sides, so a slow moment hits both alike. */
	for (int i = 0; i < rounds; i++)
		for (int side = 0; side < 2; side++) {
			double c, rate = run_once(side == 0, work, count, &c);

			if (rate > best[side])
				best[side] = rate;
			if (i == 0 || c < cpu[side])
				cpu[side] = c;
		}
	ratio = best[0] / best[1];
	printf("%-32s %10.0f %10.0f %-8s %6.3f %6.2f  %-6s %8.3f\n", label,
	    best[0], best[1], works[work].unit, ratio, works[work].target,
	    ratio >= works[work].target ? "met" : "MISSED", cpu[0] / cpu[1]);
	fflush(stdout);
}

static void
table(bool quick)
{
	long div = quick ? QUICK_DIVISOR : 1;
	char label[64];

	printf("TCP over 127.0.0.1: wirekit against raw blocking POSIX calls, "
	    "best of %d%s\n", rounds, quick ? " (BENCH_QUICK: 1/16 counts)" :
	    "");
	printf("%-32s %10s %10s %-8s %6s %6s  %-6s %8s\n", "workload", "wirekit",
	    "raw", "unit", "ratio", "target", "", "cpu w/r");
	snprintf(label, sizeof(label), "bulk %ld MiB, 64 KiB writes",
	    BULK_BYTES / div >> 20);
	row(BULK_64K, BULK_BYTES / div, label);
	snprintf(label, sizeof(label), "bulk %ld MiB, 1 KiB writes",
	    BULK_BYTES / div >> 20);
	row(BULK_1K, BULK_BYTES / div, label);
	snprintf(label, sizeof(label), "ping-pong 32 B, %ld trips",
	    PING_TRIPS / div);
	row(PINGPONG, PING_TRIPS / div, label);
	snprintf(label, sizeof(label), "connect+accept+close, %ld",
	    CONNECTIONS / div);
	row(CONNECT, CONNECTIONS / div, label);
	printf("ratio = wirekit rate / raw rate (the target is the least "
	    "wanted);\ncpu w/r = wirekit CPU time / raw CPU time, both ends, "
	    "least of the rounds\n");
}

/* --only=SIDE-WORK [N]: one run of one side, for strace -c. */
static int
only(const char *what, const char *count)
{
	bool wirekit = strncmp(what, "wirekit-", 8) == 0;
	const char *name = what + (wirekit ? 8 : 4);
	double rate, cpu;
	long n;

	if (!wirekit && strncmp(what, "raw-", 4) != 0)
		die(what, "not wirekit-WORK or raw-WORK");
	for (int w = 0; w < WORK_COUNT; w++) {
		if (strcmp(name, works[w].name) != 0)
			continue;
		n = count ? atol(count) : w == PINGPONG ? PING_TRIPS :
		    w == CONNECT ? CONNECTIONS : BULK_BYTES;
		if (n < 0)
			die(count, "not a count");
		if (w == BULK_64K || w == BULK_1K)	/* whole writes */
			n = (n + (long)chunk_of(w) - 1) / (long)chunk_of(w) *
			    (long)chunk_of(w);
		/* N = 0 does the setup alone: a baseline for strace. */
		rate = run_once(wirekit, (enum work)w, n, &cpu);
		printf("%s %ld: %.0f %s, %.3f s CPU\n", what, n, rate,
		    works[w].unit, cpu);
		return EXIT_SUCCESS;
	}
	die(name, "no such workload (bulk64k, bulk1k, pingpong, connect)");
	return EXIT_FAILURE;
}

int
main(int argc, char **argv)
{
	const char *quick = getenv("BENCH_QUICK"), *r = getenv("BENCH_ROUNDS");

	if (argc > 1 && strncmp(argv[1], "--only=", 7) == 0)
		return only(argv[1] + 7, argc > 2 ? argv[2] : NULL);
	if (argc > 1) {
		fprintf(stderr, "usage: bench_tcp [--only=SIDE-WORK [N]]\n");
		return 2;
	}
	if (r && atoi(r) > 0)
		rounds = atoi(r);
	table(quick && *quick && strcmp(quick, "0") != 0);
	return EXIT_SUCCESS;
}
