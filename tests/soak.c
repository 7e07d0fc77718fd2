/*
 * soak.c - "make soak": a bounded mixed workload for a fixed time, which
 * fails when descriptors, threads or memory grow without bound, or when a
 * byte is lost or changed
 *
 * One process: a wk_server_serve() server on 127.0.0.1, with a connection
 * limit and an idle timeout, and worker threads that use it until the
 * time is up:
 *
 *	bulk	  transfers of up to 8 MiB both ways, a data pattern checked
 *		  byte by byte at the receiver and a checksum the client
 *		  compares;
 *	pingpong  rounds of small requests, up to 8 in flight, each answer
 *		  compared with its request;
 *	churn	  short connections, connections cut off in the middle of a
 *		  request or an answer, and sockets of the callback layer
 *		  (wk_socket_start, post, post_delayed, write_async, stop,
 *		  join, free), whole sessions and ones stopped half-way;
 *	idle	  connections left silent, or stalled in the middle of a
 *		  request, for the server's idle timeout to reap;
 *	lookup	  lookups through a fake resolver backend (never DNS) with a
 *		  small random latency, blocking, with callbacks and waited
 *		  for, a part of them aborted; connects by name use it too;
 *	udp	  bursts of sequenced datagrams echoed on loopback.
 *
 * Every 10 s it prints the descriptors, threads and resident memory of
 * the process, and what the workers and the server did.  At the end the
 * workers stop, the server drains, the lookups finish and the resolver
 * shuts down.  The run fails (exit 1) when a byte sent over TCP is lost
 * or changed, a call fails that should not, a callback is missed or
 * repeated, the server's idle timeout reaps a connection it should not
 * (or misses one), UDP loses more than 1% of its datagrams, the second
 * half of the run needs more descriptors, threads or memory than the
 * first (beyond a margin of what the workload's concurrency explains),
 * or descriptors and threads are not back where they started.
 *
 * Memory is judged by RSS and by what malloc has in use (glibc), which
 * tells a leak from a heap that only fragments; under ASan, TSan or
 * valgrind, whose own memory grows RSS by design, the leak checks are
 * theirs.  UDP is judged by loss: a burst never holds more than 64 KiB,
 * far below a receive buffer, so loopback should lose none; a datagram
 * not echoed within a second counts as lost, and more than 1% lost
 * fails.  Every datagram that comes back must be intact, of its burst
 * and not seen before.
 *
 * Usage: tests/soak [SECONDS]	(default 120).  SOAK_SEED=n repeats a
 * run's random choices (not its timing).
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <wirekit/addr.h>
#include <wirekit/error.h>
#include <wirekit/lookup.h>
#include <wirekit/server.h>
#include <wirekit/socket.h>
#include <wirekit/thread.h>
#include <wirekit/udp.h>

#define DEFAULT_SECS 120
#define SAMPLE_SECS 10
#define WAIT_MS 30000		/* a wait for what must come */
#define IDLE_MS 2000		/* the server's idle timeout */
#define IDLE_SLACK_MS 20	/* reaped this much early is still fine */
#define MAX_CONNECTIONS 16	/* the server's limit */
#define HANDLER_STACK (256 * 1024)
#define CHUNK 65536
#define HIGH_WATER (256 * 1024)	/* bytes a writer lets queue */
#define READ_LIMIT (256 * 1024)	/* the read buffer of bulk clients */
#define LINE_SIZE 192
#define BULK_MAX (8ull << 20)
#define REQUEST_MAX (64ull << 20)
#define SERVER_NAME "server.soak.test"
#define NAME_SPACE 1024		/* h0 .. h1023 */
#define LOOKUP_BATCH 16
#define LOOKUP_INFLIGHT_MAX 512
#define RESOLVER_THREADS 8
#define RESOLVER_ABANDONED 8
#define UDP_BURST 32		/* at most; the bits of a uint32_t */
#define UDP_BURST_BYTES 65536	/* well below a socket's receive buffer */
#define UDP_BODY_MAX 8192
#define UDP_HDR 24
#define UDP_MAGIC 0x534f414bu
#define UDP_LOSS_PERCENT 1
#define MAX_REPORTS 25
/*
 * What the second half may need beyond the first: the swing that the
 * workload's concurrency explains (handlers, clients, resolver threads
 * that come and go), far below what a leak per operation adds.
 */
#define FD_MARGIN (3 * MAX_CONNECTIONS)
#define THREAD_MARGIN (MAX_CONNECTIONS + RESOLVER_THREADS + RESOLVER_ABANDONED)
#define RSS_MARGIN_KB (16 * 1024)
#define RSS_MARGIN_PERCENT 20
/* Descriptors and threads at the end against the start. */
#define END_MARGIN 2
/*
 * ASan's quarantine and TSan's shadow grow RSS by design, and neither
 * heap is malloc's: the memory checks are theirs (and LSan's) then.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif
#define FNV_INIT 0xcbf29ce484222325ull

typedef atomic_ullong counter;

static atomic_bool stopping;
static atomic_bool udp_done;		/* the UDP client has exited */
static atomic_ulong failures;
static uint64_t base_seed;
static uint16_t server_port;
static wk_addr udp_echo_addr;
static uint16_t udp_echo_port;

/* What the workers did. */
static struct {
	counter connects;		/* blocking clients connected */
	counter bulk_bytes, bulk_ops;
	counter pings, ping_conns;
	counter churn, cut;
	counter cb_sessions, cb_cut, cb_connected;
	counter idle_conns, stall_conns;
	counter lookups, lookup_aborts, lookup_timeouts;
	counter lookup_cb_started, lookup_cb_done, lookup_cb_aborted;
	atomic_llong lookups_inflight;	/* callbacks still to come */
	counter udp_sent, udp_back, udp_lost, udp_late, udp_echo_drops;
} ops;

/* How the server's handlers ended. */
static struct {
	counter handlers;
	counter requests;
	counter closed;			/* the client closed between requests */
	counter reaped;			/* ... stayed silent: idle timeout */
	counter cut;			/* the client closed in a request */
	counter cut_timeout;		/* ... stalled in one: idle timeout */
} served;

static struct {
	counter calls;
	counter bad;			/* names it was not meant to see */
} fake;

/* ---------------------------------------------------------------- basics */

static void
add(counter *c, unsigned long long n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static unsigned long long
get(counter *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static bool
stopped(void)
{
	return atomic_load(&stopping);
}

static void __attribute__((format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	unsigned long n = atomic_fetch_add(&failures, 1) + 1;
	char msg[512];
	va_list ap;

	if (n > MAX_REPORTS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "soak: FAIL: %s%s\n", msg, n == MAX_REPORTS ?
	    " (later failures are counted, not shown)" : "");
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int64_t msecs)
{
	struct timespec ts;

	if (msecs <= 0)
		return;
	ts.tv_sec = (time_t)(msecs / 1000);
	ts.tv_nsec = (long)(msecs % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Sleeps up to msecs, less when the run is stopping. */
static void
nap(int64_t msecs)
{
	while (msecs > 0 && !stopped()) {
		int64_t step = msecs < 50 ? msecs : 50;

		sleep_ms(step);
		msecs -= step;
	}
}

/* splitmix64: the finalizer, and a generator over it. */
static uint64_t
mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t
rnd(uint64_t *state)
{
	*state += 0x9e3779b97f4a7c15ull;
	return mix64(*state);
}

/* 0 .. n - 1 (0 for n 0). */
static uint64_t
below(uint64_t *state, uint64_t n)
{
	return n ? rnd(state) % n : 0;
}

/* ---------------------------------------------------------------- data */

/*
 * A stream that depends on the offset and the seed alone, so that the
 * receiver checks any byte of it without a copy.
 */
static void
pattern(void *buf, size_t len, uint64_t offset, uint64_t seed)
{
	uint8_t *p = buf;
	uint64_t word = UINT64_MAX, x = 0;

	for (size_t i = 0; i < len; i++) {
		uint64_t off = offset + i;

		if (off >> 3 != word)
			x = mix64((word = off >> 3) ^ mix64(seed));
		p[i] = (uint8_t)(x >> (8 * (off & 7)));
	}
}

/* The offset of the first byte that is not the pattern, or -1. */
static int64_t
pattern_bad(const void *buf, size_t len, uint64_t offset, uint64_t seed)
{
	const uint8_t *p = buf;
	uint64_t word = UINT64_MAX, x = 0;

	for (size_t i = 0; i < len; i++) {
		uint64_t off = offset + i;

		if (off >> 3 != word)
			x = mix64((word = off >> 3) ^ mix64(seed));
		if (p[i] != (uint8_t)(x >> (8 * (off & 7))))
			return (int64_t)off;
	}
	return -1;
}

/* FNV-1a, 64 bits. */
static uint64_t
fnv(uint64_t sum, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		sum ^= p[i];
		sum *= 0x100000001b3ull;
	}
	return sum;
}

/* ---------------------------------------------------------------- process */

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own descriptor */
}

/* A number field of /proc/self/status ("Threads", "VmRSS"...), or -1. */
static long
status_field(const char *key)
{
	FILE *f = fopen("/proc/self/status", "re");
	size_t klen = strlen(key);
	char line[256];
	long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

struct sample {
	long long secs;			/* since the start */
	int fds, threads;
	long rss_kb;
	long heap_kb;			/* malloc's bytes in use; -1: unknown */
};

/*
 * What malloc has handed out and not had back (every arena, and the
 * large blocks it maps): it tells a leak, which grows it, from a heap
 * that only fragments, which grows RSS alone.
 */
static long
heap_kb(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33) && \
    !SANITIZED
	struct mallinfo2 mi = mallinfo2();

	return (long)((mi.uordblks + mi.hblkhd) / 1024);
#else
	return -1;
#endif
}

static struct sample
take_sample(int64_t t0)
{
	struct sample s;

	s.secs = (long long)((now_ms() - t0 + 500) / 1000);
	s.fds = count_fds();
	s.threads = (int)status_field("Threads");
	s.rss_kb = status_field("VmRSS");
	s.heap_kb = heap_kb();
	return s;
}

/* ---------------------------------------------------------------- lines */

/*
 * Waits for a whole line and reads it into buf (newline kept): its
 * length; 0 when the wait failed (wk_socket_error() says how) with no
 * byte of a line received; -1 when it failed with part of one; -2 for a
 * line that does not fit.
 */
static ssize_t
get_line(wk_socket *s, char *buf, size_t size, int msecs)
{
	ssize_t n;

	for (;;) {
		if (wk_socket_can_read_line(s)) {
			n = wk_socket_read_line(s, buf, size);
			if (n > 0 && buf[n - 1] != '\n')
				return -2;
			return n > 0 ? n : -1;
		}
		if (wk_socket_bytes_available(s) >= size - 1)
			return -2;
		if (!wk_socket_wait_ready_read(s, msecs))
			return wk_socket_bytes_available(s) ? -1 : 0;
	}
}

/* The ping of a session: "PING seq token\n", the token from seed and seq. */
static int
ping_line(char *buf, size_t size, uint64_t seed, uint64_t seq)
{
	return snprintf(buf, size, "PING %" PRIu64 " %016" PRIx64 "\n", seq,
	    mix64(seed + seq));
}

/* ---------------------------------------------------------------- server */

/*
 * The protocol, one request line at a time:
 *	PING anything\n		the same line back
 *	PUT size seed\n	+ data	"SUM size fnv\n" once size bytes came,
 *				each checked against the pattern
 *	GET size seed\n		size bytes of the pattern
 *	BYE\n			"BYE\n", and the server closes
 */

/* Counts how a handler's connection ended; a failure unless expected. */
static void
serve_end(wk_socket *s, bool mid, const char *what)
{
	wk_error e = wk_socket_error(s);

	if (e == WK_REMOTE_HOST_CLOSED)
		add(mid ? &served.cut : &served.closed, 1);
	else if (e == WK_SOCKET_TIMEOUT)
		add(mid ? &served.cut_timeout : &served.reaped, 1);
	else
		fail("server: %s: %s (%s, state %s)", what,
		    wk_socket_error_string(s), wk_error_name(e),
		    wk_state_name(wk_socket_state(s)));
}

static bool
serve_reply(wk_socket *s, const char *buf, size_t len, const char *what)
{
	if (wk_socket_write(s, buf, len) == (ssize_t)len)
		return true;
	serve_end(s, true, what);
	return false;
}

static bool
serve_put(wk_socket *s, uint64_t size, uint64_t seed, unsigned char *buf)
{
	uint64_t off = 0, sum = FNV_INIT;
	char reply[LINE_SIZE];
	int64_t bad;
	ssize_t n;
	int len;

	while (off < size) {
		size_t want = size - off < CHUNK ? (size_t)(size - off) : CHUNK;

		n = wk_socket_read(s, buf, want);
		if (n > 0) {
			bad = pattern_bad(buf, (size_t)n, off, seed);
			if (bad >= 0) {
				fail("server: PUT of %" PRIu64 " bytes, seed "
				    "%" PRIu64 ": byte %" PRId64 " is wrong",
				    size, seed, bad);
				return false;
			}
			sum = fnv(sum, buf, (size_t)n);
			off += (uint64_t)n;
			continue;
		}
		if (n < 0 || !wk_socket_wait_ready_read(s, -1)) {
			serve_end(s, true, "read the data of a PUT");
			return false;
		}
	}
	len = snprintf(reply, sizeof(reply), "SUM %" PRIu64 " %016" PRIx64
	    "\n", off, sum);
	return serve_reply(s, reply, (size_t)len, "answer a PUT");
}

static bool
serve_get(wk_socket *s, uint64_t size, uint64_t seed, unsigned char *buf)
{
	uint64_t off = 0;

	while (off < size) {
		size_t want = size - off < CHUNK ? (size_t)(size - off) : CHUNK;

		pattern(buf, want, off, seed);
		if (wk_socket_write(s, buf, want) != (ssize_t)want) {
			serve_end(s, true, "write the data of a GET");
			return false;
		}
		off += want;
		/* The rest goes out in the wait for the next request. */
		while (wk_socket_bytes_to_write(s) > HIGH_WATER)
			if (!wk_socket_wait_bytes_written(s, -1)) {
				serve_end(s, true, "send the data of a GET");
				return false;
			}
	}
	return true;
}

/* One request; false when the connection is over. */
static bool
serve_request(wk_socket *s, const char *line, size_t len,
    unsigned char **buf)
{
	unsigned long long size, seed;
	int used = -1;

	if (strncmp(line, "PING ", 5) == 0)
		return serve_reply(s, line, len, "echo a PING");
	if (strcmp(line, "BYE\n") == 0) {
		if (!serve_reply(s, "BYE\n", 4, "answer BYE"))
			return false;
		wk_socket_disconnect(s);
		if (wk_socket_state(s) != WK_STATE_UNCONNECTED &&
		    !wk_socket_wait_disconnected(s, WAIT_MS))
			serve_end(s, true, "close after BYE");
		return false;
	}
	if (strncmp(line, "PUT ", 4) == 0 || strncmp(line, "GET ", 4) == 0) {
		if (sscanf(line + 4, "%llu %llu%n", &size, &seed, &used) != 2 ||
		    used < 0 || line[4 + used] != '\n' || size > REQUEST_MAX) {
			fail("server: a bad request: %.*s", (int)len - 1, line);
			return false;
		}
		if (!*buf && !(*buf = malloc(CHUNK))) {
			fail("server: out of memory");
			return false;
		}
		return line[0] == 'P' ? serve_put(s, size, seed, *buf) :
		    serve_get(s, size, seed, *buf);
	}
	fail("server: an unknown request: %.*s", (int)len - 1, line);
	return false;
}

/* wk_server_serve()'s handler: requests until the client goes. */
static void
serve_one(wk_socket *s, void *arg)
{
	unsigned char *buf = NULL;
	char line[LINE_SIZE];
	ssize_t n;

	(void)arg;
	add(&served.handlers, 1);
	for (;;) {
		n = get_line(s, line, sizeof(line), -1);
		if (n == 0) {
			serve_end(s, false, "wait for a request");
			break;
		}
		if (n == -1) {
			serve_end(s, true, "read a request line");
			break;
		}
		if (n < 0) {
			fail("server: a request line of over %d bytes",
			    LINE_SIZE - 2);
			break;
		}
		add(&served.requests, 1);
		if (!serve_request(s, line, (size_t)n, &buf))
			break;
	}
	free(buf);
}

/* ---------------------------------------------------------------- clients */

struct worker {
	pthread_t thread;
	const char *name;
	void *(*run)(void *);
	uint64_t rng;
	bool started;
};

/* A host for a connect: the literal mostly, the fake name at times. */
static const char *
server_host(uint64_t *rng)
{
	return below(rng, 4) == 0 ? SERVER_NAME : "127.0.0.1";
}

static wk_socket *
client_open(uint64_t *rng, const char *who)
{
	const char *host = server_host(rng);
	wk_socket *s = wk_tcp_socket();

	if (!s) {
		fail("%s: no socket", who);
		return NULL;
	}
	if (!wk_socket_connect(s, host, server_port) ||
	    !wk_socket_wait_connected(s, WAIT_MS)) {
		fail("%s: %s", who, wk_socket_error_string(s));
		wk_socket_free(s);
		return NULL;
	}
	add(&ops.connects, 1);
	return s;
}

/* Writes, keeping the queue below HIGH_WATER. */
static bool
client_write(wk_socket *s, const void *buf, size_t len, const char *who)
{
	if (wk_socket_write(s, buf, len) != (ssize_t)len) {
		fail("%s: write: %s", who, wk_socket_error_string(s));
		return false;
	}
	while (wk_socket_bytes_to_write(s) > HIGH_WATER)
		if (!wk_socket_wait_bytes_written(s, WAIT_MS)) {
			fail("%s: send: %s", who, wk_socket_error_string(s));
			return false;
		}
	return true;
}

static bool
client_flush(wk_socket *s, const char *who)
{
	while (wk_socket_bytes_to_write(s) > 0)
		if (!wk_socket_wait_bytes_written(s, WAIT_MS)) {
			fail("%s: send: %s", who, wk_socket_error_string(s));
			return false;
		}
	return true;
}

static bool
client_line(wk_socket *s, char *buf, size_t size, const char *who,
    const char *what)
{
	ssize_t n = get_line(s, buf, size, WAIT_MS);

	if (n > 0)
		return true;
	fail("%s: %s: %s", who, what, n == -2 ? "a line too long" :
	    wk_socket_error_string(s));
	return false;
}

/* Waits for the peer's close, which may have been seen already. */
static bool
client_wait_closed(wk_socket *s, int msecs, const char *who)
{
	if (wk_socket_state(s) == WK_STATE_UNCONNECTED)
		return true;
	if (wk_socket_wait_disconnected(s, msecs) &&
	    wk_socket_error(s) == WK_REMOTE_HOST_CLOSED)
		return true;
	fail("%s: wait for the server to close: %s (%s)", who,
	    wk_socket_error_string(s), wk_state_name(wk_socket_state(s)));
	return false;
}

/* Ends a connection: BYE and the server closes, or the client does. */
static void
client_close(wk_socket *s, uint64_t *rng, const char *who)
{
	char line[LINE_SIZE];

	if (below(rng, 2)) {
		if (!client_write(s, "BYE\n", 4, who) ||
		    !client_line(s, line, sizeof(line), who, "wait for BYE"))
			return;
		if (strcmp(line, "BYE\n") != 0) {
			fail("%s: BYE answered with %s", who, line);
			return;
		}
		client_wait_closed(s, WAIT_MS, who);
		return;
	}
	wk_socket_disconnect(s);
	if (wk_socket_state(s) != WK_STATE_UNCONNECTED &&
	    !wk_socket_wait_disconnected(s, WAIT_MS))
		fail("%s: disconnect: %s", who, wk_socket_error_string(s));
}

/* ---------------------------------------------------------------- bulk */

static bool
bulk_put(wk_socket *s, uint64_t size, uint64_t seed, unsigned char *buf)
{
	unsigned long long got_size, got_sum;
	char line[LINE_SIZE];
	uint64_t off = 0, sum = FNV_INIT;
	int len;

	len = snprintf(line, sizeof(line), "PUT %" PRIu64 " %" PRIu64 "\n",
	    size, seed);
	if (!client_write(s, line, (size_t)len, "bulk"))
		return false;
	while (off < size) {
		size_t want = size - off < CHUNK ? (size_t)(size - off) : CHUNK;

		pattern(buf, want, off, seed);
		sum = fnv(sum, buf, want);
		if (!client_write(s, buf, want, "bulk"))
			return false;
		off += want;
	}
	if (!client_line(s, line, sizeof(line), "bulk", "wait for SUM"))
		return false;
	if (sscanf(line, "SUM %llu %llx", &got_size, &got_sum) != 2 ||
	    got_size != size || got_sum != sum) {
		fail("bulk: PUT of %" PRIu64 " bytes (sum %016" PRIx64 ") "
		    "answered with %s", size, sum, line);
		return false;
	}
	add(&ops.bulk_bytes, size);
	add(&ops.bulk_ops, 1);
	return true;
}

static bool
bulk_get(wk_socket *s, uint64_t size, uint64_t seed, unsigned char *buf)
{
	char line[LINE_SIZE];
	uint64_t off = 0;
	int64_t bad;
	ssize_t n;
	int len;

	len = snprintf(line, sizeof(line), "GET %" PRIu64 " %" PRIu64 "\n",
	    size, seed);
	if (!client_write(s, line, (size_t)len, "bulk"))
		return false;
	while (off < size) {
		size_t want = size - off < CHUNK ? (size_t)(size - off) : CHUNK;

		n = wk_socket_read(s, buf, want);
		if (n > 0) {
			bad = pattern_bad(buf, (size_t)n, off, seed);
			if (bad >= 0) {
				fail("bulk: GET of %" PRIu64 " bytes: byte "
				    "%" PRId64 " is wrong", size, bad);
				return false;
			}
			off += (uint64_t)n;
			continue;
		}
		if (n < 0 || !wk_socket_wait_ready_read(s, WAIT_MS)) {
			fail("bulk: GET of %" PRIu64 " bytes: %" PRIu64
			    " came: %s", size, off, wk_socket_error_string(s));
			return false;
		}
	}
	add(&ops.bulk_bytes, size);
	add(&ops.bulk_ops, 1);
	return true;
}

static void *
bulk_run(void *arg)
{
	struct worker *w = arg;
	unsigned char *buf = malloc(CHUNK);

	if (!buf) {
		fail("bulk: out of memory");
		return NULL;
	}
	while (!stopped()) {
		wk_socket *s = client_open(&w->rng, "bulk");
		bool ok = true;

		if (!s) {
			nap(100);
			continue;
		}
		wk_socket_set_read_buffer_size(s, READ_LIMIT);
		for (int r = 1 + (int)below(&w->rng, 4); ok && r > 0 &&
		    !stopped(); r--) {
			uint64_t size = below(&w->rng, 2) ?
			    1 + below(&w->rng, 2 * CHUNK) :
			    1 + below(&w->rng, BULK_MAX);
			uint64_t seed = rnd(&w->rng);

			ok = below(&w->rng, 2) ? bulk_put(s, size, seed, buf) :
			    bulk_get(s, size, seed, buf);
		}
		if (ok)
			client_close(s, &w->rng, "bulk");
		wk_socket_free(s);
	}
	free(buf);
	return NULL;
}

/* ---------------------------------------------------------------- ping-pong */

static void *
ping_run(void *arg)
{
	struct worker *w = arg;
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	char sent[8][LINE_SIZE], line[LINE_SIZE];
	uint64_t seq = 0;

	while (!stopped()) {
		wk_socket *s = client_open(&w->rng, "pingpong");
		int rounds = 100 + (int)below(&w->rng, 1000);
		bool ok = true;

		if (!s) {
			nap(100);
			continue;
		}
		wk_socket_set_option(s, WK_OPT_LOW_DELAY, 1);
		while (ok && rounds > 0 && !stopped()) {
			int depth = 1 + (int)below(&w->rng, 8);

			for (int d = 0; ok && d < depth; d++) {
				int tlen = (int)below(&w->rng, 100);
				int len = snprintf(sent[d], LINE_SIZE,
				    "PING %" PRIu64 " ", seq++);

				for (int i = 0; i < tlen; i++)
					sent[d][len++] = alnum[below(&w->rng,
					    sizeof(alnum) - 1)];
				sent[d][len++] = '\n';
				sent[d][len] = '\0';
				ok = client_write(s, sent[d], (size_t)len,
				    "pingpong");
			}
			for (int d = 0; ok && d < depth; d++) {
				ok = client_line(s, line, sizeof(line),
				    "pingpong", "wait for an echo");
				if (ok && strcmp(line, sent[d]) != 0) {
					fail("pingpong: sent %s got %s",
					    sent[d], line);
					ok = false;
				}
			}
			if (ok)
				add(&ops.pings, (unsigned long long)depth);
			rounds--;
		}
		if (ok)
			client_close(s, &w->rng, "pingpong");
		wk_socket_free(s);
		add(&ops.ping_conns, 1);
	}
	return NULL;
}

/* ---------------------------------------------------------------- callbacks */

/* One callback-layer session; the handlers own it until the join. */
struct cb {
	/* set before the start */
	const char *host;
	uint64_t seed;
	int pings;
	bool cut;			/* stopped half-way: no checks */
	atomic_bool connect_ran;	/* cb_connect() is done */
	/* the handlers' */
	int ticks, connected, disconnected, stopped, guard;
	int echoes;
	bool bye;
	uint64_t written;
	char why[256];			/* the first thing that went wrong */
};

static void
cb_note(struct cb *c, const char *fmt, ...)
{
	va_list ap;

	if (c->cut || c->why[0])
		return;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
}

static void
cb_tick(wk_socket *s, void *arg)
{
	struct cb *c = arg;

	(void)s;
	c->ticks++;
}

static void
cb_connect(wk_socket *s, void *arg)
{
	struct cb *c = arg;

	if (!wk_socket_connect(s, c->host, server_port)) {
		cb_note(c, "%s", wk_socket_error_string(s));
		wk_socket_stop(s);
	}
	atomic_store(&c->connect_ran, true);
}

/*
 * Waits until the posted connect has run.  Bytes of write_async are
 * appended by the rules of the state the socket is in then, and posted
 * functions and bytes travel apart: bytes written right after a post
 * of the connect can reach an UNCONNECTED socket (and be refused with
 * WK_OPERATION) when the thread is busy in an earlier posted function.
 */
static bool
cb_wait_connect(struct cb *c)
{
	int64_t until = now_ms() + WAIT_MS;

	while (!atomic_load(&c->connect_ran))
		if (now_ms() >= until)
			return false;
		else
			sleep_ms(1);
	return true;
}

/* Posted with WAIT_MS: a session that hangs ends here. */
static void
cb_guard(wk_socket *s, void *arg)
{
	struct cb *c = arg;

	c->guard++;
	cb_note(c, "no end after %d ms (%s)", WAIT_MS,
	    wk_state_name(wk_socket_state(s)));
	wk_socket_abort(s);
	wk_socket_stop(s);
}

static void
cb_connected(wk_socket *s, void *arg)
{
	struct cb *c = arg;

	(void)s;
	c->connected++;
}

static void
cb_ready_read(wk_socket *s, void *arg)
{
	struct cb *c = arg;
	char line[LINE_SIZE], want[LINE_SIZE];

	while (wk_socket_read_line(s, line, sizeof(line)) > 0) {
		if (c->bye)
			cb_note(c, "%s after BYE", line);
		else if (strcmp(line, "BYE\n") == 0)
			c->bye = true;
		else {
			ping_line(want, sizeof(want), c->seed,
			    (uint64_t)c->echoes);
			if (strcmp(line, want) != 0)
				cb_note(c, "sent %s got %s", want, line);
			c->echoes++;
		}
	}
}

static void
cb_bytes_written(wk_socket *s, size_t bytes, void *arg)
{
	struct cb *c = arg;

	(void)s;
	c->written += bytes;
}

static void
cb_error(wk_socket *s, wk_error code, void *arg)
{
	struct cb *c = arg;

	if (code != WK_REMOTE_HOST_CLOSED || !c->bye)
		cb_note(c, "error %s: %s", wk_error_name(code),
		    wk_socket_error_string(s));
}

/*
 * The stop: on disconnected for a connection, which comes after
 * state_changed (no handler runs once a stop is asked for), and here for
 * a connect that failed, which has no disconnected.
 */
static void
cb_state_changed(wk_socket *s, wk_state state, void *arg)
{
	struct cb *c = arg;

	if (state == WK_STATE_UNCONNECTED && !c->connected)
		wk_socket_stop(s);
}

static void
cb_disconnected(wk_socket *s, void *arg)
{
	struct cb *c = arg;

	c->disconnected++;
	wk_socket_stop(s);
}

static void
cb_stopped(wk_socket *s, void *arg)
{
	struct cb *c = arg;

	(void)s;
	c->stopped++;
}

static const wk_socket_handlers cb_handlers = {
	.connected = cb_connected,
	.ready_read = cb_ready_read,
	.bytes_written = cb_bytes_written,
	.disconnected = cb_disconnected,
	.error = cb_error,
	.state_changed = cb_state_changed,
	.stopped = cb_stopped,
};

/*
 * A session: ticks posted, the connect posted after them (so the ticks
 * have all run by then), pings and BYE written from this thread with
 * write_async once the connect ran, the echoes checked by ready_read,
 * the stop by disconnected.  cut: a PUT cut off by a stop at a random
 * moment, the connection closed by wk_socket_free().
 */
static void
cb_session(struct worker *w, bool cut)
{
	struct cb c = { 0 };
	char line[LINE_SIZE];
	uint64_t total = 0;
	int ticks = (int)below(&w->rng, 4);
	unsigned char *part = NULL;
	wk_socket *s;
	bool ok = true;
	int len;

	atomic_init(&c.connect_ran, false);
	c.host = server_host(&w->rng);
	c.seed = rnd(&w->rng);
	c.pings = 1 + (int)below(&w->rng, 64);
	c.cut = cut;
	if (!(s = wk_tcp_socket()) || !wk_socket_start(s, &cb_handlers, &c)) {
		fail("cb: start: %s", wk_socket_error_string(s));
		wk_socket_free(s);
		return;
	}
	for (int i = 0; i < ticks; i++)
		ok = ok && wk_socket_post(s, cb_tick, &c);
	ok = ok && wk_socket_post(s, cb_connect, &c) &&
	    wk_socket_post_delayed(s, WAIT_MS, cb_guard, &c);
	if (!ok) {
		fail("cb: a post was refused");
		wk_socket_free(s);
		return;
	}
	if (!cb_wait_connect(&c)) {
		fail("cb: the posted connect did not run in %d ms", WAIT_MS);
		wk_socket_free(s);
		return;
	}
	if (cut) {
		/* Less than size: the server must see the PUT cut off. */
		uint64_t size = 4 * CHUNK + below(&w->rng, BULK_MAX);
		size_t some = (size_t)below(&w->rng, 4 * CHUNK);

		len = snprintf(line, sizeof(line), "PUT %" PRIu64 " %" PRIu64
		    "\n", size, c.seed);
		if ((part = malloc(some ? some : 1)) == NULL) {
			fail("cb: out of memory");
			wk_socket_free(s);
			return;
		}
		pattern(part, some, 0, c.seed);
		if (!wk_socket_write_async(s, line, (size_t)len) ||
		    !wk_socket_write_async(s, part, some))
			fail("cb: write_async refused");
		free(part);
		sleep_ms((int64_t)below(&w->rng, 4));
		wk_socket_stop(s);
		if (!wk_socket_join(s, WAIT_MS))
			fail("cb: a stopped socket's thread still runs after "
			    "%d ms", WAIT_MS);
		else if (c.stopped != 1 || c.ticks != ticks)
			fail("cb: stopped ran %d times, %d of %d ticks ran",
			    c.stopped, c.ticks, ticks);
		if (c.connected)
			add(&ops.cb_connected, 1);
		wk_socket_free(s);
		add(&ops.cb_cut, 1);
		return;
	}
	for (int i = 0; i < c.pings; ) {
		/* Several pings in one call at times: whole calls only. */
		char batch[4 * LINE_SIZE];
		int blen = 0, n = 1 + (int)below(&w->rng, 4);

		for (; n > 0 && i < c.pings; n--, i++)
			blen += ping_line(batch + blen, sizeof(batch) -
			    (size_t)blen, c.seed, (uint64_t)i);
		if (!wk_socket_write_async(s, batch, (size_t)blen)) {
			fail("cb: write_async refused");
			break;
		}
		total += (uint64_t)blen;
	}
	if (wk_socket_write_async(s, "BYE\n", 4))
		total += 4;
	else
		fail("cb: write_async refused");
	if (!wk_socket_join(s, WAIT_MS + 5000)) {
		fail("cb: the session did not end in %d ms", WAIT_MS + 5000);
		wk_socket_free(s);	/* stops and joins */
		return;
	}
	if (c.connected)
		add(&ops.cb_connected, 1);
	if (c.why[0])
		fail("cb: session to %s: %s", c.host, c.why);
	else if (c.ticks != ticks || c.connected != 1 || c.echoes != c.pings ||
	    !c.bye || c.disconnected != 1 || c.stopped != 1 || c.guard ||
	    c.written != total ||
	    wk_socket_state(s) != WK_STATE_UNCONNECTED)
		fail("cb: session to %s: ticks %d/%d, connected %d, echoes "
		    "%d/%d, bye %d, disconnected %d, stopped %d, guard %d, "
		    "bytes written %" PRIu64 "/%" PRIu64 ", state %s", c.host,
		    c.ticks, ticks, c.connected, c.echoes, c.pings, c.bye,
		    c.disconnected, c.stopped, c.guard, c.written, total,
		    wk_state_name(wk_socket_state(s)));
	wk_socket_free(s);
	add(&ops.cb_sessions, 1);
}

/* ---------------------------------------------------------------- churn */

/* A request answered, then closed by either side. */
static void
churn_quick(struct worker *w)
{
	char line[LINE_SIZE];
	wk_socket *s = client_open(&w->rng, "churn");

	if (!s)
		return;
	if (client_write(s, "PING 0 quick\n", 13, "churn") &&
	    client_line(s, line, sizeof(line), "churn", "wait for an echo")) {
		if (strcmp(line, "PING 0 quick\n") != 0)
			fail("churn: sent PING 0 quick, got %s", line);
		else
			client_close(s, &w->rng, "churn");
	}
	wk_socket_free(s);
}

/* Cut off after a part of a PUT's data, aborted or closed. */
static void
churn_cut_put(struct worker *w, unsigned char *buf)
{
	uint64_t size = 2 * CHUNK + below(&w->rng, BULK_MAX);
	uint64_t seed = rnd(&w->rng), off = 0;
	uint64_t some = below(&w->rng, size < 16 * CHUNK ? size : 16 * CHUNK);
	char line[LINE_SIZE];
	wk_socket *s = client_open(&w->rng, "churn");
	bool ok;
	int len;

	if (!s)
		return;
	len = snprintf(line, sizeof(line), "PUT %" PRIu64 " %" PRIu64 "\n",
	    size, seed);
	ok = client_write(s, line, (size_t)len, "churn");
	while (ok && off < some) {
		size_t want = some - off < CHUNK ? (size_t)(some - off) : CHUNK;

		pattern(buf, want, off, seed);
		ok = client_write(s, buf, want, "churn");
		off += want;
	}
	if (ok && below(&w->rng, 2)) {
		wk_socket_disconnect(s);
		if (wk_socket_state(s) != WK_STATE_UNCONNECTED &&
		    !wk_socket_wait_disconnected(s, WAIT_MS))
			fail("churn: disconnect: %s",
			    wk_socket_error_string(s));
	}
	wk_socket_free(s);
	add(&ops.cut, 1);
}

/* Cut off after a part of a GET's answer. */
static void
churn_cut_get(struct worker *w, unsigned char *buf)
{
	uint64_t size = 2 * CHUNK + below(&w->rng, BULK_MAX);
	uint64_t seed = rnd(&w->rng), some = below(&w->rng, size), off = 0;
	char line[LINE_SIZE];
	wk_socket *s = client_open(&w->rng, "churn");
	int64_t bad;
	ssize_t n;
	int len;

	if (!s)
		return;
	len = snprintf(line, sizeof(line), "GET %" PRIu64 " %" PRIu64 "\n",
	    size, seed);
	if (!client_write(s, line, (size_t)len, "churn")) {
		wk_socket_free(s);
		return;
	}
	while (off < some) {
		n = wk_socket_read(s, buf, some - off < CHUNK ?
		    (size_t)(some - off) : CHUNK);
		if (n > 0) {
			bad = pattern_bad(buf, (size_t)n, off, seed);
			if (bad >= 0) {
				fail("churn: GET of %" PRIu64 " bytes: byte "
				    "%" PRId64 " is wrong", size, bad);
				break;
			}
			off += (uint64_t)n;
			continue;
		}
		if (n < 0 || !wk_socket_wait_ready_read(s, WAIT_MS)) {
			fail("churn: GET of %" PRIu64 " bytes: %" PRIu64
			    " came: %s", size, off, wk_socket_error_string(s));
			break;
		}
	}
	wk_socket_free(s);	/* unread data: a reset */
	add(&ops.cut, 1);
}

static void *
churn_run(void *arg)
{
	struct worker *w = arg;
	unsigned char *buf = malloc(CHUNK);
	wk_socket *s;

	if (!buf) {
		fail("churn: out of memory");
		return NULL;
	}
	while (!stopped()) {
		switch (below(&w->rng, 9)) {
		case 0:
		case 1:
			churn_quick(w);
			break;
		case 2:
			/* Connected, and closed at once. */
			if ((s = client_open(&w->rng, "churn")) != NULL)
				wk_socket_free(s);
			break;
		case 3:
			churn_cut_put(w, buf);
			break;
		case 4:
			churn_cut_get(w, buf);
			break;
		case 5:
			/* Half a request line, then the end. */
			if ((s = client_open(&w->rng, "churn")) != NULL) {
				if (client_write(s, "PUT 12", 6, "churn"))
					client_flush(s, "churn");
				wk_socket_free(s);
				add(&ops.cut, 1);
			}
			break;
		case 6:
		case 7:
			cb_session(w, false);
			break;
		default:
			cb_session(w, true);
			break;
		}
		add(&ops.churn, 1);
	}
	free(buf);
	return NULL;
}

/* ---------------------------------------------------------------- idle */

#define IDLE_SILENT 3		/* connections that send nothing */
#define IDLE_CONNS (IDLE_SILENT + 1)	/* and one that stalls in a PUT */

/*
 * Connections that the server's idle timeout must reap, each after no
 * less than IDLE_MS: the server must count exactly these.
 */
static void *
idle_run(void *arg)
{
	struct worker *w = arg;
	unsigned char part[1000];
	char line[LINE_SIZE];

	while (!stopped()) {
		wk_socket *s[IDLE_CONNS];
		int64_t t0[IDLE_CONNS];

		for (int i = 0; i < IDLE_CONNS; i++) {
			if ((s[i] = client_open(&w->rng, "idle")) == NULL)
				continue;
			t0[i] = now_ms();
			if (i < IDLE_SILENT)
				continue;
			/* A PUT that stops after 1000 of its bytes. */
			uint64_t seed = rnd(&w->rng);
			int len = snprintf(line, sizeof(line), "PUT 100000 %"
			    PRIu64 "\n", seed);

			pattern(part, sizeof(part), 0, seed);
			if (!client_write(s[i], line, (size_t)len, "idle") ||
			    !client_write(s[i], part, sizeof(part), "idle") ||
			    !client_flush(s[i], "idle")) {
				wk_socket_free(s[i]);
				s[i] = NULL;
			}
		}
		for (int i = 0; i < IDLE_CONNS; i++) {
			int64_t took;

			if (!s[i])
				continue;
			if (client_wait_closed(s[i], IDLE_MS + WAIT_MS,
			    "idle")) {
				took = now_ms() - t0[i];
				if (took < IDLE_MS - IDLE_SLACK_MS)
					fail("idle: the server closed a %s "
					    "connection after %" PRId64 " ms; "
					    "its idle timeout is %d ms",
					    i < IDLE_SILENT ? "silent" :
					    "stalled", took, IDLE_MS);
				add(i < IDLE_SILENT ? &ops.idle_conns :
				    &ops.stall_conns, 1);
			}
			wk_socket_free(s[i]);
		}
		nap((int64_t)below(&w->rng, 2000));
	}
	return NULL;
}

/* ---------------------------------------------------------------- resolver */

enum { LK_FOUND, LK_MISSING, LK_SLOW, LK_SERVER };

static const char *const lk_prefix[] = { "h", "nx", "slow" };

/* The addresses of name n: 10.0.x.y and fd00::n. */
static void
lk_addr_text(char *buf, size_t size, unsigned n, bool v6)
{
	if (v6)
		snprintf(buf, size, "fd00::%x", n);
	else
		snprintf(buf, size, "10.0.%u.%u", n >> 8, n & 255);
}

/* "h12.soak.test" and the like, exactly (lower case): the kind, or -1. */
static int
lk_parse(const char *node, unsigned *n)
{
	static const char tail[] = ".soak.test";
	const char *p;
	char *end;
	unsigned long v;

	if (strcmp(node, SERVER_NAME) == 0)
		return LK_SERVER;
	for (int kind = LK_FOUND; kind <= LK_SLOW; kind++) {
		size_t plen = strlen(lk_prefix[kind]);

		if (strncmp(node, lk_prefix[kind], plen) != 0)
			continue;
		p = node + plen;
		if (!isdigit((unsigned char)*p))
			continue;
		v = strtoul(p, &end, 10);
		if (v >= NAME_SPACE || strcmp(end, tail) != 0)
			continue;
		*n = (unsigned)v;
		return kind;
	}
	return -1;
}

/* One allocation per answer: the addrinfo and its address. */
struct fake_ai {
	struct addrinfo ai;
	struct sockaddr_storage ss;
};

static void
fake_free(struct addrinfo *res, void *arg)
{
	(void)arg;
	while (res) {
		struct addrinfo *next = res->ai_next;

		free(res);	/* the struct fake_ai it starts */
		res = next;
	}
}

static bool
fake_append(struct addrinfo ***tail, const char *text)
{
	struct fake_ai *f = calloc(1, sizeof(*f));
	wk_addr a;
	size_t len;

	if (!f)
		return false;
	if (!wk_addr_parse(&a, text) || (len = wk_addr_to_sockaddr(&a, 0,
	    (struct sockaddr *)&f->ss, sizeof(f->ss))) == 0) {
		free(f);
		return false;
	}
	f->ai.ai_family = f->ss.ss_family;
	f->ai.ai_socktype = SOCK_STREAM;
	f->ai.ai_protocol = IPPROTO_TCP;
	f->ai.ai_addrlen = (socklen_t)len;
	f->ai.ai_addr = (struct sockaddr *)&f->ss;
	**tail = &f->ai;
	*tail = &f->ai.ai_next;
	return true;
}

/*
 * The backend: the names of lk_parse() after a small random delay (a
 * longer one for "slow" names), never DNS.  Static code and no state
 * that the end frees: an abandoned call may still run after the
 * resolver shut down.
 */
static int
fake_getaddrinfo(const char *node, const char *service,
    const struct addrinfo *hints, struct addrinfo **res, void *arg)
{
	static _Thread_local uint64_t rng;
	struct addrinfo *head = NULL, **tail = &head;
	int family = hints ? hints->ai_family : AF_UNSPEC;
	char text[64];
	unsigned n = 0;
	int kind;

	(void)arg;
	*res = NULL;
	add(&fake.calls, 1);
	if (!rng)
		rng = mix64(base_seed ^ (uint64_t)(uintptr_t)&rng);
	if (!node || service || (kind = lk_parse(node, &n)) < 0) {
		if (get(&fake.bad) == 0)
			fail("resolver: the backend was asked for \"%s\"",
			    node ? node : "(null)");
		add(&fake.bad, 1);
		return EAI_NONAME;
	}
	sleep_ms(kind == LK_SLOW ? 20 + (int64_t)below(&rng, 80) :
	    (int64_t)below(&rng, 4));
	switch (kind) {
	case LK_MISSING:
		return EAI_NONAME;
	case LK_SERVER:
		if (family != AF_INET6 && !fake_append(&tail, "127.0.0.1"))
			goto nomem;
		break;
	default:
		lk_addr_text(text, sizeof(text), n, false);
		if (family != AF_INET6 && !fake_append(&tail, text))
			goto nomem;
		lk_addr_text(text, sizeof(text), n, true);
		if (family != AF_INET && !fake_append(&tail, text))
			goto nomem;
		break;
	}
	if (!head)
		return EAI_NONAME;
	*res = head;
	return 0;
nomem:
	fake_free(head, NULL);
	return EAI_MEMORY;
}

struct lk {
	char name[64];			/* as written: mixed case */
	unsigned n;
	int kind;
	wk_family family;
};

static void
lk_make(struct lk *l, uint64_t *rng)
{
	unsigned r = (unsigned)below(rng, 100);

	l->n = (unsigned)below(rng, NAME_SPACE);
	l->kind = r < 70 ? LK_FOUND : r < 85 ? LK_MISSING : LK_SLOW;
	snprintf(l->name, sizeof(l->name), "%s%u.soak.test",
	    lk_prefix[l->kind], l->n);
	for (char *p = l->name; *p; p++)
		if (islower((unsigned char)*p) && below(rng, 4) == 0)
			*p = (char)toupper((unsigned char)*p);
	l->family = (wk_family[]){ WK_FAMILY_ANY, WK_FAMILY_IPV4,
	    WK_FAMILY_IPV6 }[below(rng, 3)];
}

/* Checks a result against what the backend answers for the name. */
static void
lk_check(const struct lk *l, const wk_hostinfo *info, const char *how,
    bool may_time_out)
{
	wk_error e = wk_hostinfo_error(info);
	size_t want = l->family == WK_FAMILY_ANY ? 2 : 1;
	char text[64];

	if (!info) {
		fail("lookup: %s %s: no result", how, l->name);
		return;
	}
	if (strcmp(wk_hostinfo_name(info), l->name) != 0) {
		fail("lookup: %s %s: the result names %s", how, l->name,
		    wk_hostinfo_name(info));
		return;
	}
	if (e == WK_SOCKET_TIMEOUT && may_time_out) {
		add(&ops.lookup_timeouts, 1);
		return;
	}
	if (l->kind == LK_MISSING) {
		if (e != WK_HOST_NOT_FOUND || wk_hostinfo_count(info) != 0)
			fail("lookup: %s %s: %s, %zu address(es); wanted "
			    "WK_HOST_NOT_FOUND", how, l->name,
			    wk_hostinfo_error_string(info),
			    wk_hostinfo_count(info));
		return;
	}
	if (e != WK_NO_ERROR || wk_hostinfo_count(info) != want) {
		fail("lookup: %s %s (IPv%d): %s, %zu address(es); wanted %zu",
		    how, l->name, l->family, wk_hostinfo_error_string(info),
		    wk_hostinfo_count(info), want);
		return;
	}
	for (size_t i = 0; i < want; i++) {
		bool v6 = l->family == WK_FAMILY_IPV6 || i == 1;
		wk_addr a, got = wk_hostinfo_addr(info, i);

		lk_addr_text(text, sizeof(text), l->n, v6);
		if (!wk_addr_parse(&a, text) ||
		    !wk_addr_equal(&a, &got, WK_ADDR_CMP_STRICT)) {
			char gtext[WK_ADDR_STRLEN];

			wk_addr_format(&got, gtext, sizeof(gtext));
			fail("lookup: %s %s: address %zu is %s, not %s", how,
			    l->name, i, gtext, text);
			return;
		}
	}
}

static void
lk_done(const wk_hostinfo *info, void *arg)
{
	struct lk *l = arg;

	lk_check(l, info, "callback", false);
	free(l);
	add(&ops.lookups, 1);
	add(&ops.lookup_cb_done, 1);
	atomic_fetch_sub(&ops.lookups_inflight, 1);
}

enum { LK_CALLBACK, LK_WAIT, LK_BLOCKING };

/*
 * Batches of lookups: with a callback, waited for, or blocking (a slow
 * one with a timeout that it may run out of); about a third of those
 * started in the background are aborted.
 */
static void *
lookup_run(void *arg)
{
	struct worker *w = arg;
	struct {
		int64_t id;
		struct lk *l;
		int mode;
	} p[LOOKUP_BATCH];

	while (!stopped()) {
		int batch = 1 + (int)below(&w->rng, LOOKUP_BATCH);

		for (int i = 0; i < batch; i++) {
			struct lk *l = malloc(sizeof(*l));
			unsigned r = (unsigned)below(&w->rng, 10);

			p[i].id = 0;
			p[i].l = l;
			if (!l) {
				fail("lookup: out of memory");
				continue;
			}
			lk_make(l, &w->rng);
			p[i].mode = r < 6 ? LK_CALLBACK : r < 9 ? LK_WAIT :
			    LK_BLOCKING;
			if (p[i].mode == LK_BLOCKING) {
				int msecs = l->kind == LK_SLOW &&
				    below(&w->rng, 2) ?
				    1 + (int)below(&w->rng, 40) : WAIT_MS;
				wk_hostinfo *info = wk_lookup_family(l->name,
				    l->family, msecs);

				lk_check(l, info, "blocking", msecs < WAIT_MS);
				wk_hostinfo_free(info);
				free(l);
				p[i].l = NULL;
				add(&ops.lookups, 1);
				continue;
			}
			if (p[i].mode == LK_CALLBACK) {
				/* l is the callback's from here on. */
				atomic_fetch_add(&ops.lookups_inflight, 1);
				add(&ops.lookup_cb_started, 1);
				p[i].id = wk_lookup_start_family(l->name,
				    l->family, lk_done, l);
				if (p[i].id <= 0) {
					fail("lookup: start %s: %" PRId64,
					    l->name, p[i].id);
					atomic_fetch_sub(&ops.lookups_inflight,
					    1);
					add(&ops.lookup_cb_aborted, 1);
					free(l);
					p[i].l = NULL;
				}
				continue;
			}
			p[i].id = wk_lookup_start_family(l->name, l->family,
			    NULL, NULL);
			if (p[i].id <= 0) {
				fail("lookup: start %s: %" PRId64, l->name,
				    p[i].id);
				free(l);
				p[i].l = NULL;
			}
		}
		for (int i = 0; i < batch; i++) {
			bool abort_it = below(&w->rng, 3) == 0;
			wk_hostinfo *info;
			struct lk *l = p[i].l;

			if (!l || p[i].mode == LK_BLOCKING)
				continue;
			if (p[i].mode == LK_CALLBACK) {
				/* Only an abort that wins gives l back. */
				if (abort_it && wk_lookup_abort(p[i].id)) {
					free(l);
					add(&ops.lookups, 1);
					add(&ops.lookup_aborts, 1);
					add(&ops.lookup_cb_aborted, 1);
					atomic_fetch_sub(&ops.lookups_inflight,
					    1);
				}
				continue;
			}
			if (abort_it && wk_lookup_abort(p[i].id)) {
				/* Forgotten: a wait finds no such lookup. */
				info = wk_lookup_wait(p[i].id, 0);
				if (wk_hostinfo_error(info) !=
				    WK_INVALID_ARGUMENT)
					fail("lookup: wait for aborted %s: %s",
					    l->name,
					    wk_hostinfo_error_string(info));
				add(&ops.lookup_aborts, 1);
			} else {
				/* A lost abort: the result is there. */
				info = wk_lookup_wait(p[i].id, WAIT_MS);
				lk_check(l, info, "wait", false);
				if (info && wk_hostinfo_id(info) != p[i].id)
					fail("lookup: wait for %" PRId64
					    " gave the result of %" PRId64,
					    p[i].id, wk_hostinfo_id(info));
			}
			wk_hostinfo_free(info);
			free(l);
			add(&ops.lookups, 1);
		}
		if (below(&w->rng, 200) == 0)
			wk_resolver_clear_cache();
		while (atomic_load(&ops.lookups_inflight) >
		    LOOKUP_INFLIGHT_MAX && !stopped())
			sleep_ms(1);
		sleep_ms((int64_t)below(&w->rng, 3));
	}
	return NULL;
}

/* ---------------------------------------------------------------- UDP */

/* magic, body length, seq, FNV of the body; then the body, a pattern. */
static size_t
udp_build(unsigned char *buf, uint64_t seq, size_t body)
{
	uint32_t magic = UDP_MAGIC, len = (uint32_t)body;
	uint64_t sum;

	pattern(buf + UDP_HDR, body, 0, seq ^ base_seed);
	sum = fnv(FNV_INIT, buf + UDP_HDR, body);
	memcpy(buf, &magic, 4);
	memcpy(buf + 4, &len, 4);
	memcpy(buf + 8, &seq, 8);
	memcpy(buf + 16, &sum, 8);
	return UDP_HDR + body;
}

static bool
udp_valid(const unsigned char *buf, size_t n, uint64_t *seq)
{
	uint32_t magic, len;
	uint64_t sum;

	if (n < UDP_HDR)
		return false;
	memcpy(&magic, buf, 4);
	memcpy(&len, buf + 4, 4);
	memcpy(seq, buf + 8, 8);
	memcpy(&sum, buf + 16, 8);
	return magic == UDP_MAGIC && len == n - UDP_HDR &&
	    fnv(FNV_INIT, buf + UDP_HDR, len) == sum &&
	    pattern_bad(buf + UDP_HDR, len, 0, *seq ^ base_seed) < 0;
}

struct udp_worker {
	struct worker w;
	wk_socket *s;
};

/* Echoes every datagram that comes to its sender. */
static void *
udp_echo_run(void *arg)
{
	struct udp_worker *u = arg;
	unsigned char *buf = malloc(65536);
	wk_addr from;
	uint16_t port;
	uint64_t seq;
	ssize_t n;

	if (!buf) {
		fail("udp: out of memory");
		return NULL;
	}
	/* Until the client is done, so that its last burst comes back. */
	while (!atomic_load(&udp_done)) {
		if (!wk_socket_wait_ready_read(u->s, 100)) {
			if (wk_socket_error(u->s) != WK_SOCKET_TIMEOUT) {
				fail("udp: echo: wait: %s",
				    wk_socket_error_string(u->s));
				nap(100);
			}
			continue;
		}
		while ((n = wk_udp_read_datagram(u->s, buf, 65536, &from,
		    &port)) >= 0) {
			if (!udp_valid(buf, (size_t)n, &seq)) {
				fail("udp: echo: a datagram of %zd bytes is "
				    "damaged", n);
				continue;
			}
			if (wk_udp_write_datagram(u->s, buf, (size_t)n, &from,
			    port) != n) {
				if (wk_socket_error(u->s) != WK_TEMPORARY)
					fail("udp: echo: send: %s",
					    wk_socket_error_string(u->s));
				add(&ops.udp_echo_drops, 1);
			}
		}
		if (wk_socket_error(u->s) != WK_TEMPORARY)
			fail("udp: echo: read: %s",
			    wk_socket_error_string(u->s));
	}
	free(buf);
	return NULL;
}

/*
 * Bursts of up to UDP_BURST datagrams (and UDP_BURST_BYTES) to the echo,
 * then their echoes: every one intact, from the echo, of this burst and
 * not seen before.  One that does not come back within a second is
 * lost; one that comes back later is late (it was counted lost).
 */
static void *
udp_run(void *arg)
{
	struct udp_worker *u = arg;
	struct worker *w = &u->w;
	unsigned char *buf = malloc(65536);
	uint64_t seq = 0;
	wk_addr from;
	uint16_t port;
	ssize_t n;

	if (!buf) {
		fail("udp: out of memory");
		return NULL;
	}
	while (!stopped()) {
		uint64_t start = seq, got = 0, k, s;
		uint32_t seen = 0;
		size_t bytes = 0;

		for (int i = 1 + (int)below(&w->rng, UDP_BURST); i > 0 &&
		    bytes < UDP_BURST_BYTES; i--) {
			size_t body = below(&w->rng, 8) == 0 ?
			    (size_t)below(&w->rng, UDP_BODY_MAX + 1) :
			    (size_t)below(&w->rng, 1400);
			size_t len = udp_build(buf, seq, body);

			n = wk_udp_write_datagram(u->s, buf, len,
			    &udp_echo_addr, udp_echo_port);
			if (n != (ssize_t)len &&
			    wk_socket_error(u->s) != WK_TEMPORARY) {
				fail("udp: send: %s",
				    wk_socket_error_string(u->s));
				break;
			}
			seq++;		/* a refused one counts as lost */
			bytes += len;
			add(&ops.udp_sent, 1);
		}
		k = seq - start;
		while (got < k) {
			if (!wk_socket_wait_ready_read(u->s, 1000)) {
				if (wk_socket_error(u->s) != WK_SOCKET_TIMEOUT)
					fail("udp: wait: %s",
					    wk_socket_error_string(u->s));
				add(&ops.udp_lost, k - got);
				break;
			}
			while ((n = wk_udp_read_datagram(u->s, buf, 65536,
			    &from, &port)) >= 0) {
				if (!udp_valid(buf, (size_t)n, &s))
					fail("udp: an echo of %zd bytes is "
					    "damaged", n);
				else if (port != udp_echo_port ||
				    !wk_addr_equal(&from, &udp_echo_addr,
				    WK_ADDR_CMP_TOLERANT))
					fail("udp: a datagram from port %u",
					    port);
				else if (s < start)
					add(&ops.udp_late, 1);
				else if (s >= seq)
					fail("udp: echo of %" PRIu64 ", only %"
					    PRIu64 " sent", s, seq);
				else if (seen & (1u << (s - start)))
					fail("udp: echo of %" PRIu64 " twice",
					    s);
				else {
					seen |= 1u << (s - start);
					got++;
					add(&ops.udp_back, 1);
				}
			}
			if (wk_socket_error(u->s) != WK_TEMPORARY) {
				fail("udp: read: %s",
				    wk_socket_error_string(u->s));
				break;
			}
		}
	}
	free(buf);
	atomic_store(&udp_done, true);
	return NULL;
}

static wk_socket *
udp_open(const char *who)
{
	wk_addr lo = wk_addr_special(WK_ADDR_LOCALHOST);
	wk_socket *s = wk_udp_socket();

	if (!s || !wk_socket_bind(s, &lo, 0, WK_DEFAULT_FOR_PLATFORM)) {
		fprintf(stderr, "soak: %s: bind: %s\n", who,
		    wk_socket_error_string(s));
		wk_socket_free(s);
		return NULL;
	}
	/* As much as the system allows (net.core.rmem_max). */
	wk_socket_set_option(s, WK_OPT_RECEIVE_BUFFER_SIZE, 1 << 20);
	return s;
}

/* ---------------------------------------------------------------- main */

/* True under valgrind, which preloads its vgpreload_*.so. */
static bool
under_valgrind(void)
{
	const char *preload = getenv("LD_PRELOAD");

	return preload && strstr(preload, "vgpreload");
}

static void
print_sample(const struct sample *sm, wk_server *srv)
{
	wk_serve_stats st = { 0 };
	wk_resolver_stats rs = { 0 };

	wk_server_stats(srv, &st);
	wk_resolver_get_stats(&rs);
	printf("soak: %4llds  fds %3d  threads %3d  rss %5.1f MiB  heap %5.1f "
	    "MiB | bulk %llu MiB/%llu, pings %llu, churn %llu (cb %llu+%llu), "
	    "idle %llu+%llu, lookups %llu (%llu aborted), udp %llu (%llu "
	    "lost), served %llu (active %u, peak %u, limit %llu), resolver "
	    "threads %u\n",
	    sm->secs, sm->fds, sm->threads, sm->rss_kb / 1024.0,
	    sm->heap_kb / 1024.0,
	    get(&ops.bulk_bytes) >> 20, get(&ops.bulk_ops), get(&ops.pings),
	    get(&ops.churn), get(&ops.cb_sessions), get(&ops.cb_cut),
	    get(&ops.idle_conns), get(&ops.stall_conns), get(&ops.lookups),
	    get(&ops.lookup_aborts), get(&ops.udp_sent), get(&ops.udp_lost),
	    (unsigned long long)st.accepted, st.active, st.peak_active,
	    (unsigned long long)st.refused_by_limit, rs.threads);
	fflush(stdout);
}

/* Waits up to msecs for the process to have at most fds and threads. */
static struct sample
settle(int64_t t0, int fds, int threads, int msecs)
{
	int64_t until = now_ms() + msecs;
	struct sample s;

	for (;;) {
		s = take_sample(t0);
		if ((s.fds <= fds && s.threads <= threads) || now_ms() >= until)
			return s;
		sleep_ms(20);
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: soak [SECONDS]  (default %d)\n", DEFAULT_SECS);
	exit(2);
}

int
main(int argc, char *argv[])
{
	static struct worker plain[] = {
		{ .name = "bulk", .run = bulk_run },
		{ .name = "bulk", .run = bulk_run },
		{ .name = "pingpong", .run = ping_run },
		{ .name = "pingpong", .run = ping_run },
		{ .name = "churn", .run = churn_run },
		{ .name = "churn", .run = churn_run },
		{ .name = "churn", .run = churn_run },
		{ .name = "idle", .run = idle_run },
		{ .name = "lookup", .run = lookup_run },
		{ .name = "lookup", .run = lookup_run },
	};
	static struct udp_worker udp[] = {
		{ .w = { .name = "udp-echo", .run = udp_echo_run } },
		{ .w = { .name = "udp", .run = udp_run } },
	};
	enum { NPLAIN = sizeof(plain) / sizeof(plain[0]), NUDP = 2 };
	struct worker *all[NPLAIN + NUDP];
	wk_serve_options opt = {
		.max_connections = MAX_CONNECTIONS,
		.stack_size = HANDLER_STACK,
		.idle_timeout_ms = IDLE_MS,
	};
	wk_addr lo = wk_addr_special(WK_ADDR_LOCALHOST);
	struct sample start, end, *samples;
	size_t nsamples = 0, maxsamples;
	wk_resolver_stats rs = { 0 };
	wk_serve_stats st;
	long secs = DEFAULT_SECS, peak_kb;
	int64_t t0, deadline, next, t;
	unsigned long long known, total;
	const char *env;
	wk_server *srv;
	char *endp;
	int rcvbuf = 0;
	bool ok = true;

	if (argc > 2)
		usage();
	if (argc == 2) {
		errno = 0;
		secs = strtol(argv[1], &endp, 10);
		if (errno || *endp || endp == argv[1] || secs < 1 ||
		    secs > 30L * 24 * 3600)
			usage();
	}
	if ((env = getenv("SOAK_SEED")) != NULL && *env)
		base_seed = strtoull(env, NULL, 0);
	else
		base_seed = mix64((uint64_t)time(NULL) ^
		    ((uint64_t)getpid() << 32));
	setvbuf(stdout, NULL, _IOLBF, 0);

	t0 = now_ms();
	start = take_sample(t0);
	if (start.fds < 0 || start.threads < 0 || start.rss_kb < 0) {
		fprintf(stderr, "soak: /proc/self cannot be read\n");
		return 2;
	}

	/* The resolver: small, so that its threads come and go. */
	if (!wk_resolver_set_max_threads(RESOLVER_THREADS) ||
	    !wk_resolver_set_max_abandoned(RESOLVER_ABANDONED) ||
	    !wk_resolver_set_idle_time(1000) ||
	    !wk_resolver_set_cache(64, 2000, 1000)) {
		fprintf(stderr, "soak: the resolver refused its settings\n");
		return 1;
	}
	wk_resolver_set_backend(fake_getaddrinfo, fake_free, NULL);

	if (!(srv = wk_server_new()) || !wk_server_listen(srv, &lo, 0) ||
	    !wk_server_serve(srv, serve_one, NULL, &opt)) {
		fprintf(stderr, "soak: server: %s\n",
		    wk_server_error_string(srv));
		return 1;
	}
	server_port = wk_server_port(srv);

	if (!(udp[0].s = udp_open("udp-echo")) ||
	    !(udp[1].s = udp_open("udp"))) {
		wk_server_free(srv);
		return 1;
	}
	udp_echo_addr = lo;
	udp_echo_port = wk_socket_local_port(udp[0].s);
	wk_socket_get_option(udp[0].s, WK_OPT_RECEIVE_BUFFER_SIZE, &rcvbuf);

	printf("soak: %ld s, seed %#" PRIx64 ", server 127.0.0.1:%u (at most "
	    "%d connections, idle timeout %d ms), UDP receive buffer %d "
	    "bytes; start: fds %d, threads %d, rss %.1f MiB\n", secs,
	    base_seed, server_port, MAX_CONNECTIONS, IDLE_MS, rcvbuf,
	    start.fds, start.threads, start.rss_kb / 1024.0);

	for (size_t i = 0; i < NPLAIN; i++)
		all[i] = &plain[i];
	for (size_t i = 0; i < NUDP; i++)
		all[NPLAIN + i] = &udp[i].w;
	for (size_t i = 0; i < NPLAIN + NUDP; i++) {
		struct worker *w = all[i];
		int rc;

		w->rng = mix64(base_seed + i);
		if ((rc = pthread_create(&w->thread, NULL, w->run, w)) != 0) {
			fail("no thread for %s: %s", w->name, strerror(rc));
			atomic_store(&stopping, true);
			atomic_store(&udp_done, true);
			break;
		}
		w->started = true;
	}

	/* A sample every SAMPLE_SECS, and one at the end. */
	maxsamples = (size_t)(secs / SAMPLE_SECS) + 2;
	if (!(samples = calloc(maxsamples, sizeof(*samples)))) {
		fail("out of memory");
		atomic_store(&stopping, true);
	}
	deadline = t0 + secs * 1000;
	next = t0 + SAMPLE_SECS * 1000;
	while (!stopped() && (t = now_ms()) < deadline) {
		sleep_ms((next < deadline ? next : deadline) - t);
		if (now_ms() >= next || now_ms() >= deadline) {
			struct sample sm = take_sample(t0);

			if (nsamples < maxsamples)
				samples[nsamples++] = sm;
			print_sample(&sm, srv);
			next += SAMPLE_SECS * 1000;
		}
	}

	/* Quiesce: the workers, the callbacks, the server, the resolver. */
	atomic_store(&stopping, true);
	t = now_ms();
	for (size_t i = 0; i < NPLAIN + NUDP; i++)
		if (all[i]->started)
			pthread_join(all[i]->thread, NULL);
	printf("soak: the workers stopped in %" PRId64 " ms\n", now_ms() - t);
	for (t = now_ms(); atomic_load(&ops.lookups_inflight) > 0 &&
	    now_ms() - t < WAIT_MS; )
		sleep_ms(10);
	if (atomic_load(&ops.lookups_inflight) != 0)
		fail("lookup: %lld callback(s) never came in %d ms",
		    (long long)atomic_load(&ops.lookups_inflight), WAIT_MS);
	if (!wk_server_drain(srv, WAIT_MS))
		fail("server: handlers still ran %d ms after the last client "
		    "was done", WAIT_MS);
	wk_server_stats(srv, &st);
	wk_server_free(srv);
	wk_socket_free(udp[0].s);
	wk_socket_free(udp[1].s);
	wk_resolver_shutdown();
	for (t = now_ms(); now_ms() - t < WAIT_MS; sleep_ms(10)) {
		wk_resolver_get_stats(&rs);
		if (rs.threads == 0)
			break;
	}
	if (rs.threads != 0)
		fail("resolver: %u thread(s) left %d ms after the shutdown",
		    rs.threads, WAIT_MS);
	/*
	 * Detached handler threads finish exiting after they said so: give
	 * them a moment to be back at the start, then allow END_MARGIN.
	 */
	end = settle(t0, start.fds, start.threads, 5000);
	peak_kb = status_field("VmHWM");

	/* What the server saw against what the clients did. */
	known = get(&ops.connects) + get(&ops.cb_connected);
	if (st.active != 0 || st.thread_failures != 0 ||
	    st.accepted < known || get(&served.handlers) != st.accepted) {
		fail("server: accepted %llu (clients know of %llu), handlers "
		    "%llu, active %u, thread failures %llu",
		    (unsigned long long)st.accepted, known,
		    get(&served.handlers), st.active,
		    (unsigned long long)st.thread_failures);
	}
	if (get(&served.reaped) != get(&ops.idle_conns) ||
	    get(&served.cut_timeout) != get(&ops.stall_conns))
		fail("server: the idle timeout reaped %llu silent and %llu "
		    "stalled connection(s); the clients left %llu and %llu",
		    get(&served.reaped), get(&served.cut_timeout),
		    get(&ops.idle_conns), get(&ops.stall_conns));
	if (get(&ops.lookup_cb_started) != get(&ops.lookup_cb_done) +
	    get(&ops.lookup_cb_aborted))
		fail("lookup: %llu callback lookup(s) started, %llu "
		    "callback(s) ran, %llu aborted",
		    get(&ops.lookup_cb_started), get(&ops.lookup_cb_done),
		    get(&ops.lookup_cb_aborted));
	if (get(&fake.bad))
		fail("resolver: the backend got %llu name(s) it should not "
		    "have", get(&fake.bad));
	if (get(&ops.udp_lost) * 100 > get(&ops.udp_sent) * UDP_LOSS_PERCENT)
		fail("udp: %llu of %llu datagrams lost, over %d%%",
		    get(&ops.udp_lost), get(&ops.udp_sent), UDP_LOSS_PERCENT);

	/* Growth: the second half against the first, warm-up (10 s) done. */
	{
		struct sample a = { .fds = -1, .threads = -1, .rss_kb = -1,
		    .heap_kb = -1 };
		struct sample b = a;
		size_t na = 0, nb = 0;

		for (size_t i = 0; i < nsamples; i++) {
			bool first = samples[i].secs * 2 <= secs;
			struct sample *h = first ? &a : &b;

			*(first ? &na : &nb) += 1;
			if (samples[i].fds > h->fds)
				h->fds = samples[i].fds;
			if (samples[i].threads > h->threads)
				h->threads = samples[i].threads;
			if (samples[i].rss_kb > h->rss_kb)
				h->rss_kb = samples[i].rss_kb;
			if (samples[i].heap_kb > h->heap_kb)
				h->heap_kb = samples[i].heap_kb;
		}
		if (na == 0 || nb == 0)
			printf("soak: too short for a growth check (%zu "
			    "sample(s) in the first half, %zu in the second)"
			    "\n", na, nb);
		else {
			long rss_margin = a.rss_kb * RSS_MARGIN_PERCENT / 100;

			if (rss_margin < RSS_MARGIN_KB)
				rss_margin = RSS_MARGIN_KB;
			if (b.fds > a.fds + FD_MARGIN)
				fail("descriptors grew: at most %d in the "
				    "first half, %d in the second", a.fds,
				    b.fds);
			if (b.threads > a.threads + THREAD_MARGIN)
				fail("threads grew: at most %d in the first "
				    "half, %d in the second", a.threads,
				    b.threads);
			if (SANITIZED || under_valgrind())
				printf("soak: under a sanitizer or valgrind: "
				    "memory is theirs to check, not RSS's\n");
			else if (b.rss_kb > a.rss_kb + rss_margin)
				fail("memory grew: at most %.1f MiB resident "
				    "in the first half, %.1f MiB in the "
				    "second", a.rss_kb / 1024.0,
				    b.rss_kb / 1024.0);
			/* The sharper test of a leak, where malloc tells. */
			if (a.heap_kb >= 0 && b.heap_kb > a.heap_kb +
			    (a.heap_kb * RSS_MARGIN_PERCENT / 100 >
			    RSS_MARGIN_KB ? a.heap_kb * RSS_MARGIN_PERCENT /
			    100 : RSS_MARGIN_KB))
				fail("the heap grew: at most %.1f MiB in use "
				    "in the first half, %.1f MiB in the "
				    "second", a.heap_kb / 1024.0,
				    b.heap_kb / 1024.0);
		}
	}
	if (end.fds > start.fds + END_MARGIN ||
	    end.fds < start.fds - END_MARGIN)
		fail("descriptors: %d at the start, %d at the end", start.fds,
		    end.fds);
	if (end.threads > start.threads + END_MARGIN)
		fail("threads: %d at the start, %d at the end", start.threads,
		    end.threads);

	total = get(&ops.bulk_ops) + get(&ops.pings) + get(&ops.churn) +
	    get(&ops.idle_conns) + get(&ops.stall_conns) + get(&ops.lookups) +
	    get(&ops.udp_sent);
	printf("soak: served %llu connection(s): %llu request(s); closed "
	    "%llu, reaped %llu, cut %llu, stalled %llu; limit pauses %llu, "
	    "peak %u\n", (unsigned long long)st.accepted, get(&served.requests),
	    get(&served.closed), get(&served.reaped), get(&served.cut),
	    get(&served.cut_timeout), (unsigned long long)st.refused_by_limit,
	    st.peak_active);
	printf("soak: lookups %llu: %llu aborted, %llu timed out, %llu "
	    "backend call(s); udp %llu sent, %llu echoed, %llu lost, %llu "
	    "late, %llu echo drop(s)\n", get(&ops.lookups),
	    get(&ops.lookup_aborts), get(&ops.lookup_timeouts),
	    get(&fake.calls), get(&ops.udp_sent), get(&ops.udp_back),
	    get(&ops.udp_lost), get(&ops.udp_late), get(&ops.udp_echo_drops));
	ok = atomic_load(&failures) == 0;
	printf("soak: %ld s, %llu ops (bulk %llu MiB in %llu, pings %llu, "
	    "churn %llu, idle %llu, lookups %llu, datagrams %llu), fds %d/%d, "
	    "threads %d/%d, RSS %.1f/%.1f/%.1f MiB: %s\n", secs, total,
	    get(&ops.bulk_bytes) >> 20, get(&ops.bulk_ops), get(&ops.pings),
	    get(&ops.churn), get(&ops.idle_conns) + get(&ops.stall_conns),
	    get(&ops.lookups), get(&ops.udp_sent), start.fds, end.fds,
	    start.threads, end.threads, start.rss_kb / 1024.0,
	    peak_kb / 1024.0, end.rss_kb / 1024.0, ok ? "OK" : "FAILED");
	if (!ok)
		printf("soak: %lu failure(s); seed %#" PRIx64 "\n",
		    atomic_load(&failures), base_seed);
	free(samples);
	return ok ? 0 : 1;
}
