/*
 * tcp_helpers.h - what check_tcp and check_server share: raw POSIX
 * listeners and clients on loopback, peer threads, a data pattern with a
 * checksum, descriptor and memory counts, and a fake resolver backend
 *
 * Nothing here calls a Check assertion: the helpers run in peer threads
 * too, where a failed assertion would unwind the wrong stack.  They
 * report failure by their return value, and the test asserts.
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef WIREKIT_TEST_TCP_HELPERS_H
#define WIREKIT_TEST_TCP_HELPERS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * How long a peer thread's blocking call may take before the peer gives
 * up: far above anything a loaded machine or valgrind needs, below the
 * test cases' timeouts, so that a broken test fails instead of hanging.
 */
#define TH_PEER_MSECS 60000
/* What a test waits for an event that must come (a connect, data). */
#define TH_WAIT_MSECS 30000

/* ---------------------------------------------------------------- sizes */

/* WK_TEST_SMALL=1 (valgrind runs) scales transfers down; WK_TEST_BIG=1 up. */
bool th_small(void);
bool th_big(void);
/* normal, or small when WK_TEST_SMALL is set. */
size_t th_size(size_t normal, size_t small);

/* ---------------------------------------------------------------- raw sockets */

/*
 * A listening TCP socket on the literal address text ("127.0.0.1",
 * "::1", "::" for dual-stack any, "0.0.0.0") and *port (0 picks; the
 * real port is written back), with backlog; IPv6 sockets are V6ONLY
 * except "::".  Returns the descriptor, or -1 with errno set.
 */
int th_listen(const char *text, uint16_t *port, int backlog);
/* A blocking connect to text:port; the descriptor, or -1. */
int th_connect(const char *text, uint16_t port);
/* Starts a non-blocking connect; the descriptor (still connecting), or -1. */
int th_connect_start(const char *text, uint16_t port);
/* accept() within msecs; the descriptor (blocking), or -1. */
int th_accept(int lfd, int msecs);
/* Waits for events on fd; the revents, 0 on timeout. */
short th_poll(int fd, short events, int msecs);
/* Send and receive timeouts on a blocking descriptor. */
void th_set_timeouts(int fd, int msecs);
/* Blocking I/O on a raw descriptor: 0 when all of it went, -1 if not. */
int th_write_all(int fd, const void *buf, size_t len);
/* Reads exactly len bytes: 0, or -1 on error, timeout or early EOF. */
int th_read_exact(int fd, void *buf, size_t len);
/* An address and port of a raw socket, as wirekit sees them. */
bool th_sock_name(int fd, bool peer, char *text, size_t size, uint16_t *port);
/* True when an IPv6 listener can be made on ::1. */
bool th_ipv6_loopback(void);
/* A port that was free a moment ago on text (bound, then closed). */
uint16_t th_dead_port(const char *text);

/*
 * A listener on text that cannot complete another connection: its
 * accept queue is full (listen(fd, 0) with one connection that is never
 * accepted), so Linux drops further SYNs and a connect hangs in
 * SYN-SENT.  *filler is the connection that fills the queue; accepting
 * it makes room again.  Returns the listener, or -1.
 */
int th_full_listener(const char *text, uint16_t *port, int *filler);

/* ---------------------------------------------------------------- data */

/*
 * A stream of bytes that depends on the offset alone (and a seed), so
 * that either end can check any byte of it without keeping a copy.
 */
void th_pattern(void *buf, size_t len, uint64_t offset, uint32_t seed);
/* The offset of the first byte that is not the pattern, or -1. */
int64_t th_pattern_check(const void *buf, size_t len, uint64_t offset,
    uint32_t seed);

/* FNV-1a, 64 bits, over a stream fed piece by piece. */
#define TH_SUM_INIT 0xcbf29ce484222325ull
uint64_t th_sum(uint64_t sum, const void *buf, size_t len);
/* The sum of len bytes of the pattern of seed. */
uint64_t th_pattern_sum(uint64_t len, uint32_t seed);

/* ---------------------------------------------------------------- process */

/* Entries of /proc/self/fd; -1 when it cannot be read. */
int th_count_fds(void);
/* Resident set size in bytes, from /proc/self/statm; -1 when unknown. */
long th_rss(void);
/*
 * TCP sockets of this network namespace in state (the kernel's number:
 * 2 is SYN-SENT) whose remote port is port, from /proc/net/tcp and
 * /proc/net/tcp6; -1 when neither can be read.
 */
#define TH_TCP_SYN_SENT 2
int th_count_tcp(uint16_t port, int state);
/*
 * Running out of descriptors: th_fd_exhaust() lowers RLIMIT_NOFILE to a
 * little above what is open and opens /dev/null until EMFILE (0, or -1
 * when that did not work); th_fd_restore() closes those and puts the
 * limit back (idempotent: a test's teardown calls it too, as a failed
 * assertion with CK_FORK=no skips the rest of the test).
 */
int th_fd_exhaust(void);
void th_fd_restore(void);
/* True under valgrind, which emulates RLIMIT_NOFILE (see check_server). */
bool th_valgrind(void);
/* Sleeps msecs (retrying on EINTR). */
void th_sleep_ms(int msecs);

/* ---------------------------------------------------------------- threads */

/*
 * A peer: a thread that acts as server or client, with its own result.
 * fn returns NULL on success or a static string saying what went wrong;
 * th_peer_join() gives that back, so the test can assert on it.
 */
typedef struct th_peer {
	pthread_t thread;
	bool started;
	const char *(*fn)(struct th_peer *p);
	const char *failure;
	/* inputs */
	int lfd;			/* a listener to accept from, or -1 */
	int fd;				/* the connection (set by the peer) */
	char addr[64];
	uint16_t port;
	size_t size;			/* how many bytes to move */
	uint32_t seed;
	int count;			/* how many connections to take */
	void *arg;			/* anything else */
	/* outputs */
	size_t received;
	uint64_t sum;
	char peer_addr[64];
	uint16_t peer_port;
	/* a one-shot signal the test gives the peer (or the reverse) */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int signals;
} th_peer;

void th_peer_init(th_peer *p, int lfd);
bool th_peer_start(th_peer *p, const char *(*fn)(th_peer *p));
/* Joins the peer; its failure, NULL when it succeeded. */
const char *th_peer_join(th_peer *p);
void th_peer_signal(th_peer *p);
/* Waits for the nth signal; false after msecs. */
bool th_peer_wait_signal(th_peer *p, int nth, int msecs);

/* Peers for common jobs (p->lfd is the listener). */
/* Accepts one connection and echoes until EOF. */
const char *th_peer_echo(th_peer *p);
/* Accepts one connection, reads to EOF: p->received, p->sum. */
const char *th_peer_sink(th_peer *p);
/* Reads p->fd (accepted already) to EOF: p->received, p->sum. */
const char *th_peer_read_to_eof(th_peer *p);
/* Accepts p->count connections, one after the other, each read to EOF. */
const char *th_peer_sink_many(th_peer *p);
/* Accepts p->count connections, one after the other, each echoed to EOF. */
const char *th_peer_echo_many(th_peer *p);

/* ---------------------------------------------------------------- resolver */

/*
 * A fake resolver backend (wk_resolver_set_backend) for one name: after
 * delay_ms it answers name with the literal addresses given (their
 * family filtered as hints ask), and every other name with EAI_NONAME.
 * A delay ends early when th_fake_release() is called, so that an
 * abandoned lookup never outlives a test by long.
 */
void th_fake_install(const char *name, const char *const *addrs, size_t n,
    int delay_ms);
/* Releases every delayed answer and restores the real getaddrinfo(). */
void th_fake_uninstall(void);
/* Backend calls made for the fake name since th_fake_install(). */
int th_fake_calls(void);

#endif /* WIREKIT_TEST_TCP_HELPERS_H */
