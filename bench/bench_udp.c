/*
 * bench_udp.c - UDP datagrams over loopback: wirekit's datagram calls
 * against a raw POSIX program doing the same work with blocking
 * sendto(2) and recvfrom(2), in one run, sender and receiver each in a
 * thread of its own
 *
 * usage: bench_udp                        both tables (BENCH_QUICK=1: 1/16
 *                                          counts; BENCH_ROUNDS=N: N rounds;
 *                                          BENCH_VERBOSE=1: each round)
 *        bench_udp --calls                 the calls table alone
 *        bench_udp --only=SIDE-SIZE [N]    one stream run, for strace -c
 *
 * SIDE is wirekit or raw; SIZE is 64 or 1400 (bytes per datagram).
 *
 * The stream table: the sender sends as fast as it can, without pacing;
 * UDP may drop what the receiver does not take in time, so the rate is
 * the datagrams RECEIVED per second, from the sender's start to the last
 * arrival.  Both receivers ask for a 4 MiB SO_RCVBUF (the kernel caps it
 * at net.core.rmem_max) and read into a 64 KiB buffer.  On a small VM one
 * run of this differs from the next by up to a quarter (it depends on how
 * often the receiver sleeps and must be woken), so the sides alternate
 * over many short rounds and the table gives the median of the rounds'
 * ratios beside the ratio of the best rates.
 *
 * The calls table takes the scheduler out: one thread sends a burst of
 * datagrams to its own socket, then waits for and reads each of them,
 * so it measures what each side's calls cost per datagram; the two
 * sides take turns burst by burst and each figure is a median.
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <sys/resource.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <wirekit.h>

#include "bench.h"

#define UDP_ROUNDS 100			/* per size and side, alternated */
#define DATAGRAMS 50000L		/* per stream round */
#define BURST 1000			/* datagrams a calls burst sends first, at most */
#define BURSTS 2000			/* bursts of the calls table, a side */
#define QUICK_DIVISOR 16		/* BENCH_QUICK=1 */
#define RCVBUF (4 * 1024 * 1024)
#define READ_SIZE (64 * 1024)
/* The receiver gives up this long after the sender's end with nothing new. */
#define IDLE_MS 100
#define TARGET 0.95

/* One run: what the sender sends, what the receiver counted. */
struct run {
	size_t size;
	long count;
	uint16_t port;
	wk_socket *rs;			/* wirekit's receiver */
	int rfd;			/* raw's receiver */
	sem_t ready;
	atomic_bool sent_all;
	long received;
	long retries;			/* sends the kernel refused for now */
	int rcvbuf;			/* SO_RCVBUF as the kernel holds it */
	double last;			/* bench_now() of the last arrival */
};

static void
die(const char *what, const char *why)
{
	fprintf(stderr, "bench_udp: %s: %s\n", what, why);
	exit(1);
}

static void
wk_check(wk_socket *s, bool ok, const char *what)
{
	if (!ok)
		die(what, wk_socket_error_string(s));
}

static void
sys_check(bool ok, const char *what)
{
	if (!ok)
		die(what, strerror(errno));
}

/* ---------------------------------------------------------------- wirekit */

static void
wk_setup(struct run *r)
{
	wk_addr lo = wk_addr_special(WK_ADDR_LOCALHOST);

	if (!(r->rs = wk_udp_socket()))
		die("wk_udp_socket", "out of memory");
	wk_check(r->rs, wk_socket_bind(r->rs, &lo, 0, WK_DEFAULT_FOR_PLATFORM),
	    "bind");
	wk_check(r->rs, wk_socket_set_option(r->rs, WK_OPT_RECEIVE_BUFFER_SIZE,
	    RCVBUF), "set SO_RCVBUF");
	wk_check(r->rs, wk_socket_get_option(r->rs, WK_OPT_RECEIVE_BUFFER_SIZE,
	    &r->rcvbuf), "get SO_RCVBUF");
	r->port = wk_socket_local_port(r->rs);
}

/*
 * The plain blocking pattern: wait, then read.  The wait receives the
 * datagram with one blocking recvfrom() and holds it; the read hands it
 * over without a system call, so the pair costs what raw's recvfrom does.
 */
static void *
wk_receiver(void *arg)
{
	static char buf[READ_SIZE];
	struct run *r = arg;
	wk_socket *s = r->rs;

	sem_post(&r->ready);
	for (;;) {
		if (wk_socket_wait_ready_read(s, IDLE_MS)) {
			wk_check(s, wk_udp_read_datagram(s, buf, sizeof(buf), NULL,
			    NULL) >= 0, "read_datagram");
			r->received++;
			r->last = bench_now();
			continue;
		}
		wk_check(s, wk_socket_error(s) == WK_SOCKET_TIMEOUT,
		    "wait_ready_read");
		if (atomic_load(&r->sent_all))
			break;
	}
	return NULL;
}

static void
wk_sender(struct run *r)
{
	static char data[READ_SIZE];
	wk_addr lo = wk_addr_special(WK_ADDR_LOCALHOST);
	wk_socket *s = wk_udp_socket();

	if (!s)
		die("wk_udp_socket", "out of memory");
	wk_check(s, wk_socket_bind(s, &lo, 0, WK_DEFAULT_FOR_PLATFORM), "bind");
	for (long i = 0; i < r->count; i++) {
		while (wk_udp_write_datagram(s, data, r->size, &lo, r->port) !=
		    (ssize_t)r->size) {
			/* Not on loopback in practice: counted if it happens. */
			wk_check(s, wk_socket_error(s) == WK_TEMPORARY,
			    "write_datagram");
			r->retries++;
			sched_yield();
		}
	}
	wk_socket_free(s);
}

/* ---------------------------------------------------------------- raw POSIX */

static int
raw_socket(struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	int fd;

	sys_check((fd = socket(AF_INET, SOCK_DGRAM, 0)) >= 0, "socket");
	sys_check(bind(fd, (struct sockaddr *)sin, sizeof(*sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)sin, &len) == 0, "bind");
	return fd;
}

static void
raw_setup(struct run *r)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { 0, IDLE_MS * 1000 };
	socklen_t len = sizeof(r->rcvbuf);
	int size = RCVBUF;

	r->rfd = raw_socket(&sin);
	sys_check(setsockopt(r->rfd, SOL_SOCKET, SO_RCVBUF, &size,
	    sizeof(size)) == 0 && getsockopt(r->rfd, SOL_SOCKET, SO_RCVBUF,
	    &r->rcvbuf, &len) == 0, "SO_RCVBUF");
	sys_check(setsockopt(r->rfd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)) == 0, "SO_RCVTIMEO");
	r->port = ntohs(sin.sin_port);
}

/* Blocking recvfrom(), the sender's address taken as wirekit's is. */
static void *
raw_receiver(void *arg)
{
	static char buf[READ_SIZE];
	struct run *r = arg;
	struct sockaddr_storage from;
	socklen_t len;

	sem_post(&r->ready);
	for (;;) {
		len = sizeof(from);
		if (recvfrom(r->rfd, buf, sizeof(buf), 0,
		    (struct sockaddr *)&from, &len) >= 0) {
			r->received++;
			r->last = bench_now();
			continue;
		}
		sys_check(errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR, "recvfrom");
		if (errno != EINTR && atomic_load(&r->sent_all))
			break;
	}
	return NULL;
}

static void
raw_sender(struct run *r)
{
	static char data[READ_SIZE];
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in to = sin;
	int fd = raw_socket(&sin);

	to.sin_port = htons(r->port);
	for (long i = 0; i < r->count; i++)
		while (sendto(fd, data, r->size, 0, (struct sockaddr *)&to,
		    sizeof(to)) != (ssize_t)r->size) {
			sys_check(errno == EAGAIN || errno == ENOBUFS ||
			    errno == EINTR, "sendto");
			r->retries++;
			sched_yield();
		}
	close(fd);
}

/* ---------------------------------------------------------------- runs */

static double
cpu_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/*
 * One run on one side: the rate in datagrams received per second; in
 * *cpu the CPU seconds both ends used, in *got the share received.
 */
static double
run_once(bool wirekit, size_t size, long count, double *cpu, double *got,
    int *rcvbuf)
{
	struct run r = { .size = size, .count = count, .rfd = -1 };
	pthread_t t;
	double start;

	sem_init(&r.ready, 0, 0);
	atomic_init(&r.sent_all, false);
	if (wirekit)
		wk_setup(&r);
	else
		raw_setup(&r);
	if (pthread_create(&t, NULL, wirekit ? wk_receiver : raw_receiver,
	    &r) != 0)
		die("pthread_create", "failed");
	sem_wait(&r.ready);
	*cpu = cpu_now();
	start = r.last = bench_now();
	if (wirekit)
		wk_sender(&r);
	else
		raw_sender(&r);
	atomic_store(&r.sent_all, true);
	pthread_join(t, NULL);
	*cpu = cpu_now() - *cpu;
	wk_socket_free(r.rs);
	if (r.rfd >= 0)
		close(r.rfd);
	sem_destroy(&r.ready);
	if (r.retries)
		fprintf(stderr, "bench_udp: %s sender: %ld sends retried\n",
		    wirekit ? "wirekit" : "raw", r.retries);
	*got = count ? (double)r.received / (double)count : 0;
	*rcvbuf = r.rcvbuf;
	return r.last > start ? (double)r.received / (r.last - start) : 0;
}

static int rounds = UDP_ROUNDS;
static bool verbose;		/* BENCH_VERBOSE=1: each round on stderr */

static int
by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), by_value);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void
row(size_t size, long count)
{
	double best[2] = { 0, 0 }, cpu[2] = { 0, 0 }, got[2] = { 0, 0 };
	double *ratios = calloc((size_t)rounds, sizeof(*ratios)), mid;
	char label[64];
	int rcvbuf = 0;

	if (!ratios)
		die("calloc", "out of memory");
	/* Alternate the sides, so a slow moment hits both alike. */
	for (int i = 0; i < rounds; i++) {
		double rate[2];

		for (int side = 0; side < 2; side++) {
			double c, g;

			rate[side] = run_once(side == 0, size, count, &c, &g,
			    &rcvbuf);
			if (rate[side] > best[side]) {
				best[side] = rate[side];
				got[side] = g;
			}
			if (i == 0 || c < cpu[side])
				cpu[side] = c;
		}
		ratios[i] = rate[1] > 0 ? rate[0] / rate[1] : 0;
		if (verbose)
			fprintf(stderr, "bench_udp: %zu B round %d: wirekit %.0f/s, "
			    "raw %.0f/s, ratio %.3f\n", size, i + 1, rate[0],
			    rate[1], ratios[i]);
	}
	mid = median(ratios, rounds);
	free(ratios);
	snprintf(label, sizeof(label), "%zu B x %ld", size, count);
	printf("%-18s %10.0f %10.0f %6.1f%% %6.1f%% %6.3f %6.3f %6.2f  %-6s "
	    "%7.3f\n", label, best[0], best[1], got[0] * 100, got[1] * 100,
	    best[0] / best[1], mid, TARGET, mid >= TARGET ? "met" : "MISSED",
	    cpu[0] / cpu[1]);
	fflush(stdout);
}

/*
 * A burst the receive buffer holds whole (a datagram of size bytes takes
 * about size + 700 bytes of it), so that no datagram of it is dropped.
 */
static int
burst_for(int rcvbuf, size_t size)
{
	long n = rcvbuf / (long)(size + 1024);

	return n > BURST ? BURST : n < 1 ? 1 : (int)n;
}

/* The sockets of the calls table: a sender and a receiver per side. */
struct calls {
	size_t size;
	int burst;
	wk_socket *ws;			/* wirekit's sender; receiver in wk.rs */
	struct run wk;
	int rs;				/* raw's sender; receiver in raw.rfd */
	struct sockaddr_in to;
	struct run raw;
};

/* One burst of wirekit: ns per datagram sending into t[0], receiving t[1]. */
static void
burst_wirekit(struct calls *c, double t[2])
{
	static char data[READ_SIZE], buf[READ_SIZE];
	wk_addr lo = wk_addr_special(WK_ADDR_LOCALHOST);
	double start = bench_now(), sent;

	for (int i = 0; i < c->burst; i++)
		wk_check(c->ws, wk_udp_write_datagram(c->ws, data, c->size, &lo,
		    c->wk.port) == (ssize_t)c->size, "write_datagram");
	sent = bench_now();
	for (int i = 0; i < c->burst; i++) {
		wk_check(c->wk.rs, wk_socket_wait_ready_read(c->wk.rs, IDLE_MS),
		    "wait_ready_read");
		wk_check(c->wk.rs, wk_udp_read_datagram(c->wk.rs, buf,
		    sizeof(buf), NULL, NULL) == (ssize_t)c->size,
		    "read_datagram");
	}
	t[0] = (sent - start) * 1e9 / c->burst;
	t[1] = (bench_now() - sent) * 1e9 / c->burst;
}

static void
burst_raw(struct calls *c, double t[2])
{
	static char data[READ_SIZE], buf[READ_SIZE];
	double start = bench_now(), sent;

	for (int i = 0; i < c->burst; i++)
		sys_check(sendto(c->rs, data, c->size, 0,
		    (struct sockaddr *)&c->to, sizeof(c->to)) ==
		    (ssize_t)c->size, "sendto");
	sent = bench_now();
	for (int i = 0; i < c->burst; i++) {
		struct sockaddr_storage from;
		socklen_t len = sizeof(from);

		sys_check(recvfrom(c->raw.rfd, buf, sizeof(buf), 0,
		    (struct sockaddr *)&from, &len) == (ssize_t)c->size,
		    "recvfrom");
	}
	t[0] = (sent - start) * 1e9 / c->burst;
	t[1] = (bench_now() - sent) * 1e9 / c->burst;
}

/*
 * n bursts a side, wirekit's and raw's taking turns; each figure is the
 * median over the bursts, so a burst the machine slowed counts little.
 */
static void
calls_row(size_t size, int n)
{
	wk_addr lo = wk_addr_special(WK_ADDR_LOCALHOST);
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct calls c = { .size = size, .wk.rfd = -1 };
	double *v = calloc((size_t)n * 4, sizeof(*v)), per[4], ratio;

	if (!v || !(c.ws = wk_udp_socket()))
		die("calls", "out of memory");
	wk_setup(&c.wk);
	wk_check(c.ws, wk_socket_bind(c.ws, &lo, 0, WK_DEFAULT_FOR_PLATFORM),
	    "bind");
	raw_setup(&c.raw);
	c.rs = raw_socket(&sin);
	c.to = sin;
	c.to.sin_port = htons(c.raw.port);
	c.burst = burst_for(c.wk.rcvbuf < c.raw.rcvbuf ? c.wk.rcvbuf :
	    c.raw.rcvbuf, size);
	for (int i = 0; i < n; i++) {
		double t[2];

		burst_wirekit(&c, t);
		v[i] = t[0];
		v[n + i] = t[1];
		burst_raw(&c, t);
		v[2 * n + i] = t[0];
		v[3 * n + i] = t[1];
	}
	for (int k = 0; k < 4; k++)
		per[k] = median(v + (size_t)k * n, n);
	free(v);
	wk_socket_free(c.ws);
	wk_socket_free(c.wk.rs);
	close(c.rs);
	close(c.raw.rfd);
	/* Datagrams per second of one thread doing both: raw time / wirekit's. */
	ratio = (per[2] + per[3]) / (per[0] + per[1]);
	printf("%-6zu %5d %8.0f %8.0f %8.0f %8.0f %10.0f %10.0f %6.3f\n", size,
	    c.burst, per[0], per[1], per[2], per[3], 1e9 / (per[0] + per[1]),
	    1e9 / (per[2] + per[3]), ratio);
	fflush(stdout);
}

static void
calls_table(bool quick)
{
	int calls = quick ? BURSTS / QUICK_DIVISOR : BURSTS;

	printf("UDP over 127.0.0.1, calls: one thread sends a burst of "
	    "datagrams, then waits\nfor and reads each; %d bursts a side, "
	    "wirekit's and raw's taking turns\n", calls);
	printf("%-6s %5s %8s %8s %8s %8s %10s %10s %6s\n", "bytes", "burst",
	    "wk send", "wk recv", "raw send", "raw recv", "wirekit/s", "raw/s",
	    "ratio");
	calls_row(64, calls);
	calls_row(1400, calls);
	printf("send, recv = ns per datagram, median of the bursts; wirekit "
	    "waits\n(wk_socket_wait_ready_read) then reads "
	    "(wk_udp_read_datagram), raw calls\nrecvfrom; ratio = wirekit/s / "
	    "raw/s: what the library's own code costs,\nwith no scheduler in "
	    "it (the target is the stream table's)\n");
}


static void
table(bool quick)
{
	long count = DATAGRAMS / (quick ? QUICK_DIVISOR : 1);

	printf("UDP over 127.0.0.1, stream: wirekit against raw blocking "
	    "sendto/recvfrom,\n%d rounds of each side, alternated%s\n",
	    rounds, quick ? " (BENCH_QUICK: 1/16 counts)" : "");
	printf("%-18s %10s %10s %7s %7s %6s %6s %6s  %-6s %7s\n", "datagrams",
	    "wirekit/s", "raw/s", "wk got", "raw got", "best", "median",
	    "target", "", "cpu w/r");
	row(64, count);
	row(1400, count);
	printf("rate = datagrams received per second in the best round (the "
	    "sender is not\npaced; \"got\" = share received in that round); "
	    "best = ratio of the best\nrates, median = median of the rounds' "
	    "ratios (wirekit / raw; the target\napplies to it); cpu w/r = CPU "
	    "time of both ends, least of the rounds\n\n");
	calls_table(quick);
}

/* --only=SIDE-SIZE [N]: one run of one side, for strace -c. */
static int
only(const char *what, const char *n)
{
	bool wirekit = strncmp(what, "wirekit-", 8) == 0;
	const char *size = what + (wirekit ? 8 : 4);
	long count = n ? atol(n) : DATAGRAMS;
	double rate, cpu, got;
	int rcvbuf;

	if (!wirekit && strncmp(what, "raw-", 4) != 0)
		die(what, "not wirekit-SIZE or raw-SIZE");
	if (strcmp(size, "64") != 0 && strcmp(size, "1400") != 0)
		die(size, "not 64 or 1400");
	if (count < 0)
		die(n, "not a count");
	rate = run_once(wirekit, (size_t)atoi(size), count, &cpu, &got, &rcvbuf);
	printf("%s %ld: %.0f datagrams/s, %.1f%% received, %.3f s CPU, "
	    "SO_RCVBUF %d\n", what, count, rate, got * 100, cpu, rcvbuf);
	return EXIT_SUCCESS;
}

int
main(int argc, char **argv)
{
	const char *quick = getenv("BENCH_QUICK"), *r = getenv("BENCH_ROUNDS");

	bool is_quick = quick && *quick && strcmp(quick, "0") != 0;

	if (argc > 1 && strncmp(argv[1], "--only=", 7) == 0)
		return only(argv[1] + 7, argc > 2 ? argv[2] : NULL);
	if (argc == 2 && strcmp(argv[1], "--calls") == 0) {
		calls_table(is_quick);
		return EXIT_SUCCESS;
	}
	if (argc > 1) {
		fprintf(stderr, "usage: bench_udp [--calls | --only=SIDE-SIZE "
		    "[N]]\n");
		return 2;
	}
	if (r && atoi(r) > 0)
		rounds = atoi(r);
	verbose = getenv("BENCH_VERBOSE") && atoi(getenv("BENCH_VERBOSE")) > 0;
	table(is_quick);
	return EXIT_SUCCESS;
}
