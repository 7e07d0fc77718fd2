/*
 * check_hostile.c - wirekit when the machine, the network and the peer
 * misbehave: descriptors run out, a storm of signals, floods, a DNS
 * server that answers badly, and peers that reset, half close or never
 * read
 *
 * When run as root the whole program runs in a network namespace of its
 * own (tests/netns.h), where tests/dnsd.c answers on 127.0.0.1:53 over
 * UDP and TCP and the DNS tests run; without one they are skipped (a
 * "skip:" line says so) and the rest runs on loopback.  No name outside
 * the test zone is ever resolved.
 *
 * No test asserts an elapsed time, with one exception: while accept()
 * fails with EMFILE the serving process must stay far from busy (its CPU
 * time is under 30% of the wall time of one second: a spin takes 100%).
 * Every wait has a give-up limit.  WK_TEST_SMALL=1 (valgrind) scales
 * the work down, WK_TEST_BIG=1 makes the newline-less flood 1 GiB.
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <wirekit/addr.h>
#include <wirekit/lookup.h>
#include <wirekit/server.h>
#include <wirekit/socket.h>
#include <wirekit/thread.h>
#include <wirekit/udp.h>

#include "dnsd.h"
#include "netns.h"
#include "tcp_helpers.h"

#define KIB 1024
#define MIB (1024 * 1024)
#define CHUNK (64 * KIB)
#define LINE_LEN 64

/*
 * One server, no retries: glibc gives up on a silent server after 2 s,
 * far below LOOKUP_MSECS, so a lookup that outlives the server's answer
 * ends with glibc's verdict, not wirekit's deadline.
 */
#define RESOLV_CONF \
	"nameserver 127.0.0.1\n" \
	"options timeout:2 attempts:1\n"
#define DNS_ADDR "127.0.0.1"
#define DNS_PORT 53
#define ZONE "wirekit.test"
#define LOOKUP_MSECS 30000
/* A lookup deadline far below dnsd's DNSD_SLOW_MS (and glibc's 2 s). */
#define SHORT_LOOKUP_MSECS 1000

/* Set in main(): the program runs in a namespace of its own. */
static bool in_netns;
/* The DNS server of a DNS test, started in the test's own process. */
static struct dnsd *dns;

/* ---------------------------------------------------------------- helpers */

static wk_socket *
new_socket(void)
{
	wk_socket *s = wk_tcp_socket();

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(wk_socket_state(s), WK_STATE_UNCONNECTED);
	return s;
}

#define assert_error(s, code) \
	ck_assert_msg(wk_socket_error(s) == (code), \
	    "error %s (\"%s\"), want %s", wk_error_name(wk_socket_error(s)), \
	    wk_socket_error_string(s), wk_error_name(code))

#define assert_state(s, want) \
	ck_assert_msg(wk_socket_state(s) == (want), "state %s, want %s", \
	    wk_state_name(wk_socket_state(s)), wk_state_name(want))

static void
connect_ok(wk_socket *s, const char *host, uint16_t port)
{
	ck_assert_msg(wk_socket_connect(s, host, port), "connect to %s: %s",
	    host, wk_socket_error_string(s));
	ck_assert_msg(wk_socket_wait_connected(s, TH_WAIT_MSECS),
	    "wait_connected: %s (%s)", wk_error_name(wk_socket_error(s)),
	    wk_socket_error_string(s));
	assert_state(s, WK_STATE_CONNECTED);
}

static int
listen_on(const char *text, uint16_t *port)
{
	int fd = th_listen(text, port, 64);

	ck_assert_msg(fd >= 0, "listen on %s: %s", text, strerror(errno));
	return fd;
}

static void
start_peer(th_peer *p, int lfd, const char *(*fn)(th_peer *p))
{
	th_peer_init(p, lfd);
	ck_assert(th_peer_start(p, fn));
}

static void
join_peer(th_peer *p)
{
	const char *why = th_peer_join(p);

	ck_assert_msg(why == NULL, "%s", why);
}

static void
disconnect_ok(wk_socket *s)
{
	wk_socket_disconnect(s);
	if (wk_socket_state(s) != WK_STATE_UNCONNECTED)
		ck_assert_msg(wk_socket_wait_disconnected(s, TH_WAIT_MSECS),
		    "wait_disconnected: %s", wk_socket_error_string(s));
	assert_state(s, WK_STATE_UNCONNECTED);
}

static bool
skip_unless_netns(const char *what)
{
	if (in_netns)
		return false;
	fprintf(stderr, "skip: %s needs the test's network namespace "
	    "(run as root)\n", what);
	return true;
}

/* Resident set size from /proc/self/status (VmRSS), in bytes; -1. */
static long
vm_rss(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb * 1024;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Until *v >= n; false after msecs. */
static bool
wait_atomic(atomic_int *v, int n, int msecs)
{
	for (int waited = 0; atomic_load(v) < n; waited += 5) {
		if (waited >= msecs)
			return false;
		th_sleep_ms(5);
	}
	return true;
}

/* A small kernel buffer on fd, so that a few MiB are far more than fits. */
static void
small_buffers(int fd)
{
	int size = 64 * KIB;

	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

/* A SIGPIPE kills the test: wirekit must never raise one. */
static struct sigaction saved_sigpipe;
static bool sigpipe_set;

static void
sigpipe_kills(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGPIPE, &sa, &saved_sigpipe), 0);
	sigpipe_set = true;
}

static void
sigpipe_restore(void)
{
	if (sigpipe_set)
		sigaction(SIGPIPE, &saved_sigpipe, NULL);
	sigpipe_set = false;
}

/* ---------------------------------------------------------------- servers */

/*
 * What the handlers of a serving server did.  Atomics: the test polls
 * them with a give-up limit.
 */
struct hctx {
	atomic_int entered, finished;
	atomic_int lines;	/* lines answered */
	atomic_int timeouts;	/* waits that ended with WK_SOCKET_TIMEOUT */
	atomic_int closed;	/* the client ended the stream */
	atomic_int errors;	/* anything else */
};

static void
hctx_init(struct hctx *c)
{
	atomic_init(&c->entered, 0);
	atomic_init(&c->finished, 0);
	atomic_init(&c->lines, 0);
	atomic_init(&c->timeouts, 0);
	atomic_init(&c->closed, 0);
	atomic_init(&c->errors, 0);
}

/*
 * Answers each line "q ..." with "a ...", in plain blocking style with
 * waits of -1 (which a server's idle_timeout_ms ends), until the client
 * closes or falls silent.
 */
static void
line_handler(wk_socket *s, void *arg)
{
	struct hctx *c = arg;
	char line[LINE_LEN];
	ssize_t n;

	atomic_fetch_add(&c->entered, 1);
	for (;;) {
		n = wk_socket_read_line(s, line, sizeof(line));
		if (n > 0 && line[n - 1] == '\n' && line[0] == 'q') {
			line[0] = 'a';
			if (wk_socket_write(s, line, (size_t)n) != n) {
				atomic_fetch_add(&c->errors, 1);
				break;
			}
			atomic_fetch_add(&c->lines, 1);
			continue;
		}
		if (n != 0) {
			/* The end, or the last piece of a stream: no newline. */
			atomic_fetch_add(&c->closed, 1);
			break;
		}
		if (!wk_socket_wait_ready_read(s, -1)) {
			wk_error e = wk_socket_error(s);

			if (e == WK_REMOTE_HOST_CLOSED)
				continue;	/* read what is left */
			atomic_fetch_add(e == WK_SOCKET_TIMEOUT ? &c->timeouts :
			    &c->errors, 1);
			break;
		}
	}
	atomic_fetch_add(&c->finished, 1);
}

static wk_server *
listening_server(uint16_t *port)
{
	wk_server *srv = wk_server_new();
	wk_addr lo;

	ck_assert_ptr_nonnull(srv);
	ck_assert(wk_addr_parse(&lo, "127.0.0.1"));
	ck_assert_msg(wk_server_listen(srv, &lo, 0), "listen: %s",
	    wk_server_error_string(srv));
	*port = wk_server_port(srv);
	ck_assert_uint_ne(*port, 0);
	return srv;
}

static void
serve_ok(wk_server *srv, struct hctx *c, const wk_serve_options *opt)
{
	ck_assert_msg(wk_server_serve(srv, line_handler, c, opt), "serve: %s",
	    wk_server_error_string(srv));
}

static void
stop_join(wk_server *srv)
{
	wk_server_stop(srv);
	ck_assert_msg(wk_server_join(srv, TH_WAIT_MSECS),
	    "wk_server_join gave up");
}

static wk_serve_stats
stats_of(wk_server *srv)
{
	wk_serve_stats st;

	memset(&st, 0xa5, sizeof(st));
	ck_assert(wk_server_stats(srv, &st));
	return st;
}

/* One request and its answer on a raw client; NULL or what failed. */
static const char *
ask(int fd, int seq)
{
	char q[LINE_LEN], want[LINE_LEN], got[LINE_LEN];
	int n = snprintf(q, sizeof(q), "q %d\n", seq);

	snprintf(want, sizeof(want), "a %d\n", seq);
	if (th_write_all(fd, q, (size_t)n) != 0)
		return "client: send failed";
	if (th_read_exact(fd, got, (size_t)n) != 0)
		return "client: no answer";
	if (memcmp(got, want, (size_t)n) != 0)
		return "client: a wrong answer";
	return NULL;
}

/* The same through a wirekit socket. */
static void
assert_ask(wk_socket *s, int seq)
{
	char q[LINE_LEN], want[LINE_LEN], got[LINE_LEN];
	int n = snprintf(q, sizeof(q), "q %d\n", seq);
	ssize_t r;

	snprintf(want, sizeof(want), "a %d\n", seq);
	ck_assert_int_eq(wk_socket_write(s, q, (size_t)n), n);
	while ((r = wk_socket_read_line(s, got, sizeof(got))) == 0)
		ck_assert_msg(wk_socket_wait_ready_read(s, TH_WAIT_MSECS),
		    "round %d: wait: %s (%s)", seq,
		    wk_error_name(wk_socket_error(s)),
		    wk_socket_error_string(s));
	ck_assert_msg(r == n && strcmp(got, want) == 0,
	    "round %d: got \"%s\" (%zd), want \"%s\"", seq, r > 0 ? got : "",
	    r, want);
}

/* ---------------------------------------------------------------- signal storm */

static atomic_long storm_hits;

static void
on_storm(int sig)
{
	(void)sig;
	atomic_fetch_add_explicit(&storm_hits, 1, memory_order_relaxed);
}

/* A thread that sends SIGUSR1 to one thread every 100 µs. */
static struct {
	pthread_t target, thread;
	atomic_int stop;
	bool running;
	struct sigaction old;
	long sent;
} storm;

static void *
storm_main(void *arg)
{
	struct timespec gap = { 0, 100 * 1000 };

	(void)arg;
	while (!atomic_load(&storm.stop)) {
		if (pthread_kill(storm.target, SIGUSR1) == 0)
			storm.sent++;
		nanosleep(&gap, NULL);
	}
	return NULL;
}

static void
storm_start(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_storm;
	sa.sa_flags = 0;		/* no SA_RESTART: calls fail with EINTR */
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGUSR1, &sa, &storm.old), 0);
	atomic_store(&storm_hits, 0);
	atomic_store(&storm.stop, 0);
	storm.sent = 0;
	storm.target = pthread_self();
	ck_assert_int_eq(pthread_create(&storm.thread, NULL, storm_main, NULL),
	    0);
	storm.running = true;
}

/* Idempotent: the teardown calls it too. */
static void
storm_stop(void)
{
	if (!storm.running)
		return;
	atomic_store(&storm.stop, 1);
	pthread_join(storm.thread, NULL);
	storm.running = false;
	sigaction(SIGUSR1, &storm.old, NULL);
}

/* ---------------------------------------------------------------- fixtures */

static void
teardown(void)
{
	storm_stop();
	sigpipe_restore();
	th_fd_restore();
	th_fake_uninstall();
	if (dns) {
		dnsd_stop(dns);
		dns = NULL;
	}
}

/* ================================================================ descriptors */

/*
 * Out of descriptors (RLIMIT_NOFILE lowered and filled): connects, a
 * bind, a listen and lookups fail with WK_SOCKET_RESOURCE; once the
 * descriptors are back the same objects work, and no failure was cached.
 */
START_TEST(test_exhausted_connect_lookup)
{
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket(), *u = wk_udp_socket(), *n = new_socket();
	wk_server *srv = wk_server_new();
	wk_hostinfo *info;
	char buf[32];
	wk_addr lo;
	int64_t id;
	th_peer p;

	ck_assert_ptr_nonnull(u);
	ck_assert_ptr_nonnull(srv);
	ck_assert(wk_addr_parse(&lo, "127.0.0.1"));
	if (in_netns) {
		dns = dnsd_start(DNS_ADDR, DNS_PORT, 0);
		ck_assert_msg(dns != NULL, "dnsd: %s", strerror(errno));
		wk_resolver_clear_cache();
		/*
		 * A daemon that has run a while: glibc has read its NSS
		 * configuration.  (Before that, out of descriptors, glibc
		 * answers EAI_NONAME: see test_exhausted_cold_lookup.)
		 */
		info = wk_lookup("a." ZONE, LOOKUP_MSECS);
		ck_assert_ptr_nonnull(info);
		ck_assert_msg(wk_hostinfo_error(info) == WK_NO_ERROR,
		    "warm-up lookup: %s", wk_hostinfo_error_string(info));
		wk_hostinfo_free(info);
	}
	ck_assert_int_eq(th_fd_exhaust(), 0);

	/* A connect to a literal address. */
	if (wk_socket_connect(s, "127.0.0.1", port))
		ck_assert(!wk_socket_wait_connected(s, TH_WAIT_MSECS));
	assert_error(s, WK_SOCKET_RESOURCE);
	assert_state(s, WK_STATE_UNCONNECTED);
	/* A UDP bind, a listen. */
	ck_assert(!wk_socket_bind(u, &lo, 0, WK_DEFAULT_FOR_PLATFORM));
	assert_error(u, WK_SOCKET_RESOURCE);
	ck_assert(!wk_server_listen(srv, &lo, 0));
	ck_assert_msg(wk_server_error(srv) == WK_SOCKET_RESOURCE,
	    "listen: %s", wk_server_error_string(srv));
	ck_assert(!wk_server_is_listening(srv));
	if (in_netns) {
		/* A connect to a name: the lookup or the socket fails. */
		if (wk_socket_connect(n, "both." ZONE, port))
			ck_assert(!wk_socket_wait_connected(n, TH_WAIT_MSECS));
		assert_error(n, WK_SOCKET_RESOURCE);
		assert_state(n, WK_STATE_UNCONNECTED);
		/* Lookups: glibc cannot open a socket (EAI_SYSTEM, EMFILE). */
		info = wk_lookup("both." ZONE, LOOKUP_MSECS);
		ck_assert_ptr_nonnull(info);
		ck_assert_msg(wk_hostinfo_error(info) == WK_SOCKET_RESOURCE,
		    "lookup out of descriptors: %s (%s), want "
		    "WK_SOCKET_RESOURCE", wk_error_name(wk_hostinfo_error(info)),
		    wk_hostinfo_error_string(info));
		ck_assert_uint_eq(wk_hostinfo_count(info), 0);
		wk_hostinfo_free(info);
		id = wk_lookup_start("multi." ZONE, NULL, NULL);
		ck_assert_int_gt(id, 0);
		info = wk_lookup_wait(id, LOOKUP_MSECS);
		ck_assert_ptr_nonnull(info);
		ck_assert_msg(wk_hostinfo_error(info) == WK_SOCKET_RESOURCE,
		    "background lookup out of descriptors: %s (%s)",
		    wk_error_name(wk_hostinfo_error(info)),
		    wk_hostinfo_error_string(info));
		wk_hostinfo_free(info);
	}
	th_fd_restore();

	/* Descriptors back: the same objects work. */
	start_peer(&p, lfd, th_peer_echo);
	connect_ok(s, "127.0.0.1", port);
	ck_assert_int_eq(wk_socket_write(s, "again\n", 6), 6);
	while (wk_socket_bytes_available(s) < 6)
		ck_assert_msg(wk_socket_wait_ready_read(s, TH_WAIT_MSECS),
		    "echo: %s", wk_socket_error_string(s));
	ck_assert_int_eq(wk_socket_read(s, buf, sizeof(buf)), 6);
	ck_assert_mem_eq(buf, "again\n", 6);
	disconnect_ok(s);
	join_peer(&p);
	ck_assert_msg(wk_socket_bind(u, &lo, 0, WK_DEFAULT_FOR_PLATFORM),
	    "bind: %s", wk_socket_error_string(u));
	ck_assert_msg(wk_server_listen(srv, &lo, 0), "listen: %s",
	    wk_server_error_string(srv));
	if (in_netns) {
		/* WK_SOCKET_RESOURCE is not cached: the name resolves now. */
		info = wk_lookup("both." ZONE, LOOKUP_MSECS);
		ck_assert_ptr_nonnull(info);
		ck_assert_msg(wk_hostinfo_error(info) == WK_NO_ERROR,
		    "lookup after the descriptors came back: %s",
		    wk_hostinfo_error_string(info));
		ck_assert_uint_eq(wk_hostinfo_count(info), 2);
		wk_hostinfo_free(info);
		dnsd_stop(dns);
		dns = NULL;
	}
	wk_socket_free(s);
	wk_socket_free(n);
	wk_socket_free(u);
	wk_server_free(srv);
	close(lfd);
}
END_TEST

/*
 * The process of test_exhausted_cold_lookup (this program again, run by
 * main() for "--cold-lookup NAME FD"): a fresh process whose resolver
 * has never run, out of descriptors, looks NAME up; then with its
 * descriptors back, again.  Writes both codes to FD.
 */
static int
cold_lookup_main(char **argv)
{
	int codes[2] = { -1, -1 }, fd = atoi(argv[3]);
	wk_hostinfo *info;

	if (th_fd_exhaust() == 0) {
		info = wk_lookup(argv[2], LOOKUP_MSECS);
		codes[0] = info ? (int)wk_hostinfo_error(info) : -1;
		wk_hostinfo_free(info);
		th_fd_restore();
		info = wk_lookup(argv[2], LOOKUP_MSECS);
		codes[1] = info ? (int)wk_hostinfo_error(info) : -1;
		wk_hostinfo_free(info);
	}
	wk_resolver_shutdown();
	return write(fd, codes, sizeof(codes)) == (ssize_t)sizeof(codes) ?
	    EXIT_SUCCESS : EXIT_FAILURE;
}

/* Runs this program again with args (after argv[0]); its pid. */
static pid_t
run_self(char **args, int keep_fd)
{
	static char exe[4096];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	pid_t pid;

	ck_assert_int_gt(len, 0);
	exe[len] = '\0';
	args[0] = exe;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* Async-signal-safe calls only, up to the exec. */
		fcntl(keep_fd, F_SETFD, 0);
		execv(exe, args);
		_exit(127);
	}
	return pid;
}

/* Reads size bytes from fd within msecs; false when they did not come. */
static bool
read_within(int fd, void *buf, size_t size, int msecs)
{
	size_t got = 0;
	ssize_t n;

	while (got < size) {
		if (!(th_poll(fd, POLLIN, msecs) & (POLLIN | POLLHUP)))
			return false;
		n = read(fd, (char *)buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	return true;
}

/*
 * Out of descriptors before the first lookup of a process (glibc has
 * not read nsswitch.conf yet): the lookup fails with WK_SOCKET_RESOURCE,
 * and once the descriptors are back the name resolves; a failure for
 * want of descriptors must not be cached as "host not found".
 */
START_TEST(test_exhausted_cold_lookup)
{
	char arg_fd[16], name[] = "a." ZONE;
	char *args[] = { NULL, "--cold-lookup", name, arg_fd, NULL };
	int pipefd[2], codes[2] = { -1, -1 }, status = 0;
	unsigned asked;
	bool ok;
	pid_t pid;

	if (skip_unless_netns("a lookup out of descriptors"))
		return;
	dns = dnsd_start(DNS_ADDR, DNS_PORT, 0);
	ck_assert_msg(dns != NULL, "dnsd: %s", strerror(errno));
	ck_assert_int_eq(pipe2(pipefd, O_CLOEXEC), 0);
	snprintf(arg_fd, sizeof(arg_fd), "%d", pipefd[1]);
	pid = run_self(args, pipefd[1]);
	close(pipefd[1]);
	ok = read_within(pipefd[0], codes, sizeof(codes), 2 * LOOKUP_MSECS +
	    TH_WAIT_MSECS);
	if (!ok)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	close(pipefd[0]);
	asked = dnsd_count(dns, name, DNSD_TYPE_ANY);
	ck_assert_msg(ok && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the lookup process failed");
	ck_assert_msg(codes[0] >= 0 && codes[1] >= 0, "the lookup process "
	    "could not run out of descriptors");
	ck_assert_msg(codes[0] == WK_SOCKET_RESOURCE &&
	    codes[1] == WK_NO_ERROR, "a fresh process out of descriptors: "
	    "%s, want WK_SOCKET_RESOURCE; with descriptors back: %s, want "
	    "WK_NO_ERROR (%u queries reached the server)",
	    wk_error_name((wk_error)codes[0]), wk_error_name((wk_error)codes[1]),
	    asked);
	ck_assert_uint_gt(asked, 0);
}
END_TEST

/* A raw socket whose connect starts now; the descriptor exists already. */
static void
connect_fd(int fd, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons(port) };
	int err = 0;
	socklen_t len = sizeof(err);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_msg(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 ||
	    errno == EINPROGRESS, "connect: %s", strerror(errno));
	ck_assert(th_poll(fd, POLLOUT, TH_WAIT_MSECS) & POLLOUT);
	ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	ck_assert_msg(err == 0, "connect: %s", strerror(err));
	/* Blocking from here on, with timeouts, for ask(). */
	ck_assert_int_eq(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK),
	    0);
	th_set_timeouts(fd, TH_PEER_MSECS);
}

/*
 * wk_server_serve() whose accept() fails with EMFILE: clients wait in
 * the backlog, the server does not spin (CPU far below busy over a
 * second), keeps its listener, and accepts them once descriptors are
 * free again.
 */
START_TEST(test_exhausted_serve)
{
	enum { WAITING = 4 };
	int waiting[WAITING], fd, lfd, listening = 0;
	socklen_t len = sizeof(listening);
	struct rusage r0, r1;
	struct hctx c;
	wk_serve_stats st;
	wk_server *srv;
	double t0, t1, cpu, wall;
	uint16_t port;

	/*
	 * valgrind enforces its own copy of the limit by closing what the
	 * kernel returned: an accepted connection would be lost.
	 */
	if (th_valgrind()) {
		fprintf(stderr, "skip: accept out of descriptors under "
		    "valgrind\n");
		return;
	}
	hctx_init(&c);
	srv = listening_server(&port);
	lfd = wk_server_descriptor(srv);
	serve_ok(srv, &c, NULL);
	fd = th_connect("127.0.0.1", port);
	ck_assert_int_ge(fd, 0);
	ck_assert_ptr_null(ask(fd, 1));
	/* The clients' own descriptors, made while there are some. */
	for (int i = 0; i < WAITING; i++) {
		waiting[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		ck_assert_int_ge(waiting[i], 0);
	}
	ck_assert_int_eq(th_fd_exhaust(), 0);
	/* They connect: the kernel queues them, accept() gets EMFILE. */
	for (int i = 0; i < WAITING; i++)
		connect_fd(waiting[i], port);

	ck_assert_int_eq(getrusage(RUSAGE_SELF, &r0), 0);
	t0 = now_s();
	th_sleep_ms(1000);
	ck_assert_int_eq(getrusage(RUSAGE_SELF, &r1), 0);
	t1 = now_s();
	cpu = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) +
	    (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec) / 1e6 +
	    (double)(r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) +
	    (double)(r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) / 1e6;
	wall = t1 - t0;
	ck_assert_msg(cpu < 0.3 * wall, "while accept() failed with EMFILE "
	    "the process used %.0f ms of CPU in %.0f ms: a spin", cpu * 1e3,
	    wall * 1e3);
	/* The listener is still there, still listening. */
	ck_assert_int_eq(getsockopt(lfd, SOL_SOCKET, SO_ACCEPTCONN, &listening,
	    &len), 0);
	ck_assert_int_eq(listening, 1);
	ck_assert_uint_eq(stats_of(srv).accepted, 1);
	th_fd_restore();

	/* Room again: the clients that waited are accepted and served. */
	for (int i = 0; i < WAITING; i++) {
		const char *why = ask(waiting[i], 10 + i);

		ck_assert_msg(why == NULL, "waiting client %d: %s", i, why);
	}
	ck_assert_ptr_null(ask(fd, 2));
	close(fd);
	fd = th_connect("127.0.0.1", port);
	ck_assert_int_ge(fd, 0);
	ck_assert_ptr_null(ask(fd, 3));
	close(fd);
	for (int i = 0; i < WAITING; i++)
		close(waiting[i]);
	ck_assert_msg(wait_atomic(&c.finished, WAITING + 2, TH_WAIT_MSECS),
	    "%d handlers of %d finished", atomic_load(&c.finished),
	    WAITING + 2);
	stop_join(srv);
	st = stats_of(srv);
	ck_assert_uint_eq(st.accepted, WAITING + 2);
	ck_assert_uint_eq(st.active, 0);
	ck_assert_int_eq(atomic_load(&c.lines), WAITING + 3);
	ck_assert_int_eq(atomic_load(&c.errors), 0);
	ck_assert(wk_server_is_listening(srv));
	ck_assert_int_eq(wk_server_descriptor(srv), lfd);
	wk_server_free(srv);
}
END_TEST

/* ================================================================ signals */

/*
 * Sends and receives size bytes through the echo peer at once, checking
 * every byte that comes back; sum carried on over what came back.
 */
static uint64_t
transfer_echo(wk_socket *s, size_t size, uint32_t seed, uint64_t sum)
{
	char *out = malloc(CHUNK), *in = malloc(CHUNK);
	size_t sent = 0, got = 0;
	ssize_t n;

	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_nonnull(in);
	while (got < size) {
		if (sent < size && wk_socket_bytes_to_write(s) < MIB) {
			size_t k = size - sent < CHUNK ? size - sent : CHUNK;

			th_pattern(out, k, sent, seed);
			ck_assert_int_eq(wk_socket_write(s, out, k), (ssize_t)k);
			sent += k;
			continue;
		}
		n = wk_socket_read(s, in, CHUNK);
		ck_assert_msg(n >= 0, "read after %zu bytes: %s", got,
		    wk_socket_error_string(s));
		if (n > 0) {
			int64_t bad = th_pattern_check(in, (size_t)n, got, seed);

			ck_assert_msg(bad < 0, "byte %lld is wrong", (long long)bad);
			sum = th_sum(sum, in, (size_t)n);
			got += (size_t)n;
			ck_assert_uint_le(got, sent);
			continue;
		}
		/* Both waits move the queue and take input. */
		if (wk_socket_bytes_to_write(s) >= MIB)
			ck_assert_msg(wk_socket_wait_bytes_written(s,
			    TH_WAIT_MSECS), "wait_bytes_written after %zu of "
			    "%zu bytes: %s (%s)", got, size,
			    wk_error_name(wk_socket_error(s)),
			    wk_socket_error_string(s));
		else
			ck_assert_msg(wk_socket_wait_ready_read(s,
			    TH_WAIT_MSECS), "wait_ready_read after %zu of %zu "
			    "bytes: %s (%s)", got, size,
			    wk_error_name(wk_socket_error(s)),
			    wk_socket_error_string(s));
	}
	ck_assert_uint_eq(wk_socket_bytes_to_write(s), 0);
	free(out);
	free(in);
	return sum;
}

/*
 * A signal whose handler has no SA_RESTART hits the waiting thread every
 * 100 µs: every wait keeps its result (one that must time out still
 * does, with WK_SOCKET_TIMEOUT; one for data that comes returns true)
 * and a bulk transfer through wirekit arrives intact.
 */
START_TEST(test_signal_storm)
{
	const size_t size = th_size(64 * MIB, 4 * MIB);
	const uint32_t seed = 0x5160;
	const char *const lo[] = { "127.0.0.1" };
	uint16_t port = 0, sport;
	int lfd = listen_on("127.0.0.1", &port), cfd;
	wk_socket *s = new_socket(), *a;
	wk_server *srv;
	wk_hostinfo *info;
	bool timed_out = false;
	char line[LINE_LEN];
	uint64_t sum;
	th_peer p;

	srv = listening_server(&sport);
	start_peer(&p, lfd, th_peer_echo);
	storm_start();

	/* A connect. */
	connect_ok(s, "127.0.0.1", port);
	/* Nothing comes: the timeout, not EINTR, ends the wait. */
	ck_assert(!wk_socket_wait_ready_read(s, 300));
	assert_error(s, WK_SOCKET_TIMEOUT);
	assert_state(s, WK_STATE_CONNECTED);
	ck_assert(!wk_socket_wait_ready_read(s, 20));
	assert_error(s, WK_SOCKET_TIMEOUT);
	ck_assert(!wk_socket_wait_disconnected(s, 200));
	assert_error(s, WK_SOCKET_TIMEOUT);
	assert_state(s, WK_STATE_CONNECTED);
	/* Data that comes: the wait returns true. */
	ck_assert_int_eq(wk_socket_write(s, "ping\n", 5), 5);
	while (!wk_socket_can_read_line(s))
		ck_assert_msg(wk_socket_wait_ready_read(s, TH_WAIT_MSECS),
		    "wait for the echo: %s (%s)",
		    wk_error_name(wk_socket_error(s)),
		    wk_socket_error_string(s));
	ck_assert_int_eq(wk_socket_read_line(s, line, sizeof(line)), 5);
	ck_assert_str_eq(line, "ping\n");

	/* A server's waits. */
	ck_assert(!wk_server_wait_new_connection(srv, 300, &timed_out));
	ck_assert(timed_out);
	cfd = th_connect("127.0.0.1", sport);
	ck_assert_int_ge(cfd, 0);
	ck_assert_msg(wk_server_wait_new_connection(srv, TH_WAIT_MSECS,
	    &timed_out), "wait_new_connection: %s",
	    wk_server_error_string(srv));
	ck_assert(!timed_out);
	a = wk_server_next_pending(srv);
	ck_assert_ptr_nonnull(a);
	ck_assert(!wk_socket_wait_ready_read(a, 200));
	assert_error(a, WK_SOCKET_TIMEOUT);
	ck_assert_int_eq(th_write_all(cfd, "late\n", 5), 0);
	ck_assert_msg(wk_socket_wait_ready_read(a, TH_WAIT_MSECS), "wait: %s",
	    wk_socket_error_string(a));
	ck_assert_int_eq(wk_socket_read_line(a, line, sizeof(line)), 5);
	ck_assert_str_eq(line, "late\n");
	close(cfd);
	ck_assert(!wk_socket_wait_ready_read(a, TH_WAIT_MSECS));
	assert_error(a, WK_REMOTE_HOST_CLOSED);
	wk_socket_free(a);

	/* The bulk, both ways at once (after the ping). */
	sum = transfer_echo(s, size, seed, th_sum(TH_SUM_INIT, "ping\n", 5));
	disconnect_ok(s);
	join_peer(&p);
	ck_assert_uint_eq(p.received, size + 5);
	ck_assert(p.sum == sum);

	/* Lookups: a deadline kept, and an answer that comes. */
	th_fake_install("storm-slow.test", lo, 1, TH_PEER_MSECS);
	info = wk_lookup("storm-slow.test", 300);
	ck_assert_ptr_nonnull(info);
	ck_assert_msg(wk_hostinfo_error(info) == WK_SOCKET_TIMEOUT,
	    "lookup: %s", wk_hostinfo_error_string(info));
	wk_hostinfo_free(info);
	th_fake_uninstall();
	th_fake_install("storm-fast.test", lo, 1, 50);
	info = wk_lookup("storm-fast.test", TH_WAIT_MSECS);
	ck_assert_ptr_nonnull(info);
	ck_assert_msg(wk_hostinfo_error(info) == WK_NO_ERROR, "lookup: %s",
	    wk_hostinfo_error_string(info));
	ck_assert_uint_eq(wk_hostinfo_count(info), 1);
	wk_hostinfo_free(info);
	th_fake_uninstall();

	storm_stop();
	fprintf(stderr, "note: signal storm: %ld signals sent, %ld handled\n",
	    storm.sent, atomic_load(&storm_hits));
	ck_assert_int_gt(atomic_load(&storm_hits), 0);
	wk_socket_free(s);
	wk_server_free(srv);
	close(lfd);
}
END_TEST

/* ================================================================ floods */

/* Text without a newline, a function of the offset alone. */
static void
fill_text(char *buf, size_t len, uint64_t off)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)('a' + (off + i) % 26);
}

static int64_t
check_text(const char *buf, size_t len, uint64_t off)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != (char)('a' + (off + i) % 26))
			return (int64_t)(off + i);
	return -1;
}

/* Sends p->size bytes of text without a newline, then closes. */
static const char *
peer_no_newlines(th_peer *p)
{
	char *buf = malloc(CHUNK);
	size_t off = 0;

	if (!buf)
		return "peer: out of memory";
	if ((p->fd = th_accept(p->lfd, TH_PEER_MSECS)) < 0) {
		free(buf);
		return "peer: accept failed";
	}
	while (off < p->size) {
		size_t n = p->size - off < CHUNK ? p->size - off : CHUNK;

		fill_text(buf, n, off);
		if (th_write_all(p->fd, buf, n) != 0) {
			free(buf);
			return "peer: send failed or timed out";
		}
		off += n;
	}
	free(buf);
	return NULL;
}

/*
 * A peer sends a flood without a newline against wk_socket_read_line()
 * with a read buffer limit.  With a line buffer beyond the limit, the
 * flood comes in pieces of the limit (the buffer full at its limit is
 * handed out); with a line buffer within the limit, in pieces of the
 * line buffer.  The read buffer never holds more than its limit, and
 * the process's RSS grows by less than 64 MiB.
 */
START_TEST(test_flood_no_newline)
{
	const size_t size = th_big() ? 1024 * (size_t)MIB :
	    th_size(64 * MIB, 8 * MIB);
	const size_t small_limit = 4 * KIB, limit = MIB, line_size = 64 * KIB;
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	char *line = malloc(line_size);
	size_t got = 0, max_avail = 0, iter = 0, pieces = 0;
	long rss0, rss, grown = 0;
	ssize_t n;
	th_peer p;

	ck_assert_ptr_nonnull(line);
	ck_assert(wk_socket_set_read_buffer_size(s, small_limit));
	th_peer_init(&p, lfd);
	p.size = size;
	ck_assert(th_peer_start(&p, peer_no_newlines));
	connect_ok(s, "127.0.0.1", port);
	rss0 = vm_rss();
	ck_assert_int_gt(rss0, 0);

	/*
	 * A line buffer beyond the limit: the buffer fills to the limit and
	 * no more comes until the program reads, so read_line hands out
	 * what it holds, pieces of at most the limit.
	 */
	while (got < 16 * small_limit) {
		n = wk_socket_read_line(s, line, line_size);
		ck_assert_uint_le(wk_socket_bytes_available(s), small_limit);
		if (n == 0) {
			ck_assert(!wk_socket_can_read_line(s));
			ck_assert_msg(wk_socket_wait_ready_read(s, TH_WAIT_MSECS),
			    "wait after %zu bytes: %s", got,
			    wk_socket_error_string(s));
			continue;
		}
		ck_assert_int_gt(n, 0);
		ck_assert_int_le(n, (ssize_t)small_limit);
		ck_assert_msg(check_text(line, (size_t)n, got) < 0,
		    "a wrong byte after %zu", got);
		ck_assert_ptr_null(memchr(line, '\n', (size_t)n));
		got += (size_t)n;
		pieces++;
	}
	assert_state(s, WK_STATE_CONNECTED);

	/* A line buffer within the limit: the flood comes in pieces. */
	ck_assert(wk_socket_set_read_buffer_size(s, limit));
	for (;;) {
		size_t avail;

		n = wk_socket_read_line(s, line, line_size);
		avail = wk_socket_bytes_available(s);
		ck_assert_msg(avail <= limit, "%zu bytes buffered, limit %zu",
		    avail, limit);
		if (avail > max_avail)
			max_avail = avail;
		if (++iter % 64 == 0 && (rss = vm_rss()) - rss0 > grown)
			grown = rss - rss0;
		if (n > 0) {
			int64_t bad = check_text(line, (size_t)n, got);

			ck_assert_msg(bad < 0, "byte %lld is wrong",
			    (long long)bad);
			ck_assert_uint_eq(strlen(line), (size_t)n);
			ck_assert_ptr_null(memchr(line, '\n', (size_t)n));
			got += (size_t)n;
			pieces++;
			ck_assert_uint_le(got, size);
			continue;
		}
		if (n < 0)
			break;
		if (!wk_socket_wait_ready_read(s, TH_WAIT_MSECS))
			ck_assert_msg(wk_socket_error(s) == WK_REMOTE_HOST_CLOSED,
			    "wait after %zu bytes: %s (%s)", got,
			    wk_error_name(wk_socket_error(s)),
			    wk_socket_error_string(s));
	}
	if ((rss = vm_rss()) - rss0 > grown)
		grown = rss - rss0;
	ck_assert_uint_eq(got, size);
	ck_assert_uint_ge(pieces, size / line_size);
	assert_state(s, WK_STATE_UNCONNECTED);
	ck_assert(wk_socket_at_end(s));
	ck_assert_msg(grown < 64L * MIB, "RSS grew by %ld bytes", grown);
	fprintf(stderr, "note: newline-less flood: %zu MiB in %zu pieces, "
	    "at most %zu bytes buffered, RSS grew by %ld KiB\n", size / MIB,
	    pieces, max_avail, grown / KIB);
	wk_socket_free(s);
	join_peer(&p);
	free(line);
	close(lfd);
}
END_TEST

/* A thread that sends UDP datagrams to a port as fast as it can. */
struct flood {
	pthread_t thread;
	int fd;
	uint16_t port;
	atomic_int stop;
	atomic_long sent;
};

#define DATAGRAM 1024

static void *
flood_main(void *arg)
{
	struct flood *f = arg;
	struct sockaddr_in to = { .sin_family = AF_INET,
	    .sin_port = htons(f->port) };
	char buf[DATAGRAM];

	memset(buf, 'u', sizeof(buf));
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* A flood never waits: when the buffers are full it tries again. */
	while (!atomic_load(&f->stop))
		if (sendto(f->fd, buf, sizeof(buf), MSG_DONTWAIT,
		    (struct sockaddr *)&to, sizeof(to)) == (ssize_t)sizeof(buf))
			atomic_fetch_add(&f->sent, 1);
	return NULL;
}

/* What the flooded UDP socket's thread took. */
struct sink {
	atomic_long received;
	atomic_int bad;
};

/* At most 64 datagrams a call: the thread calls again at once. */
static void
sink_ready_read(wk_socket *s, void *arg)
{
	struct sink *k = arg;
	char buf[2 * DATAGRAM];
	ssize_t n;

	for (int i = 0; i < 64; i++) {
		n = wk_udp_read_datagram(s, buf, sizeof(buf), NULL, NULL);
		if (n < 0) {
			if (wk_socket_error(s) != WK_TEMPORARY)
				atomic_fetch_add(&k->bad, 1);
			return;
		}
		if (n != DATAGRAM || buf[0] != 'u')
			atomic_fetch_add(&k->bad, 1);
		atomic_fetch_add(&k->received, 1);
	}
}

/*
 * A UDP flood on a wirekit UDP socket (on its own thread through the
 * callback layer) does not starve a TCP ping-pong in the same program:
 * the conversation completes every round while the flood runs.
 */
START_TEST(test_udp_flood_tcp)
{
	const int rounds = (int)th_size(20000, 1000);
	const wk_socket_handlers h = { .ready_read = sink_ready_read };
	struct flood f = { .fd = -1 };
	struct sink k;
	struct hctx c;
	wk_socket *u = wk_udp_socket(), *s = new_socket();
	wk_server *srv;
	long r0, r1, f0, f1;
	double t0, t1;
	uint16_t port;
	wk_addr lo;

	ck_assert_ptr_nonnull(u);
	atomic_init(&k.received, 0);
	atomic_init(&k.bad, 0);
	atomic_init(&f.stop, 0);
	atomic_init(&f.sent, 0);
	hctx_init(&c);
	ck_assert(wk_addr_parse(&lo, "127.0.0.1"));
	ck_assert_msg(wk_socket_bind(u, &lo, 0, WK_DEFAULT_FOR_PLATFORM),
	    "bind: %s", wk_socket_error_string(u));
	f.port = wk_socket_local_port(u);
	ck_assert_msg(wk_socket_start(u, &h, &k), "start: %s",
	    wk_socket_error_string(u));
	f.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(f.fd, 0);
	ck_assert_int_eq(pthread_create(&f.thread, NULL, flood_main, &f), 0);
	for (int waited = 0; atomic_load(&k.received) == 0; waited += 5) {
		ck_assert_msg(waited < TH_WAIT_MSECS, "no datagram arrived");
		th_sleep_ms(5);
	}

	srv = listening_server(&port);
	serve_ok(srv, &c, NULL);
	connect_ok(s, "127.0.0.1", port);
	r0 = atomic_load(&k.received);
	f0 = atomic_load(&f.sent);
	t0 = now_s();
	for (int i = 0; i < rounds; i++)
		assert_ask(s, i);
	t1 = now_s();
	r1 = atomic_load(&k.received);
	f1 = atomic_load(&f.sent);
	atomic_store(&f.stop, 1);
	pthread_join(f.thread, NULL);
	close(f.fd);
	disconnect_ok(s);
	ck_assert(wait_atomic(&c.finished, 1, TH_WAIT_MSECS));
	stop_join(srv);
	wk_socket_free(u);	/* stops and joins its thread */
	fprintf(stderr, "note: UDP flood: %ld datagrams sent, %ld received "
	    "during %d TCP rounds (%.0f ms)\n", f1 - f0, r1 - r0, rounds,
	    (t1 - t0) * 1e3);
	/* The flood ran, and was being received, the whole time. */
	ck_assert_int_gt(f1, f0);
	ck_assert_int_gt(r1, r0);
	ck_assert_int_eq(atomic_load(&k.bad), 0);
	ck_assert_int_eq(atomic_load(&c.lines), rounds);
	ck_assert_int_eq(atomic_load(&c.errors), 0);
	wk_socket_free(s);
	wk_server_free(srv);
}
END_TEST

/* What the client process of test_reap_half_open saw. */
struct reap_report {
	int connected, failed;
	int closed;		/* saw EOF or a reset */
	int unexpected;		/* got bytes, or another error */
};

#define REAP_BATCH 256
#define REAP_GIVE_UP_S 120

static bool
reap_write(int fd, const struct reap_report *r)
{
	return write(fd, r, sizeof(*r)) == (ssize_t)sizeof(*r);
}

/*
 * The client process (this program again, run by main() for
 * "--reap-clients N PORT FD"): N connections, in batches; each
 * misbehaves at once by its number (i % 3): 0 silent, 1 half a line, 2
 * half a line and shutdown(SHUT_WR).  Reports on FD, then waits for the
 * server to close every one of them and reports again.
 */
static int
reap_clients_main(char **argv)
{
	int n = atoi(argv[2]), wfd = atoi(argv[4]);
	uint16_t port = (uint16_t)atoi(argv[3]);
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons(port) };
	struct reap_report r = { 0 };
	double give_up = now_s() + REAP_GIVE_UP_S;
	int *fds = calloc((size_t)n, sizeof(*fds));
	struct pollfd *pfd = calloc((size_t)n, sizeof(*pfd));
	char buf[64];

	if (n <= 0 || !fds || !pfd)
		return EXIT_FAILURE;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < n; i += REAP_BATCH) {
		int m = n - i < REAP_BATCH ? n - i : REAP_BATCH, left = 0;

		for (int j = i; j < i + m; j++) {
			fds[j] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK,
			    0);
			if (fds[j] >= 0 && connect(fds[j],
			    (struct sockaddr *)&sin, sizeof(sin)) != 0 &&
			    errno != EINPROGRESS) {
				close(fds[j]);
				fds[j] = -1;
			}
			if (fds[j] < 0)
				r.failed++;
			else
				left++;
			pfd[j] = (struct pollfd){ .fd = fds[j],
			    .events = POLLOUT };
		}
		while (left > 0 && now_s() < give_up) {
			if (poll(pfd + i, (nfds_t)m, 1000) < 0 && errno != EINTR)
				break;
			for (int j = i; j < i + m; j++) {
				int err = 0;
				socklen_t len = sizeof(err);

				if (pfd[j].fd < 0 || !pfd[j].revents)
					continue;
				pfd[j].fd = -1;
				left--;
				if (getsockopt(fds[j], SOL_SOCKET, SO_ERROR, &err,
				    &len) != 0 || err != 0) {
					close(fds[j]);
					fds[j] = -1;
					r.failed++;
					continue;
				}
				r.connected++;
				if (j % 3 >= 1)
					(void)send(fds[j], "q 1 2", 5,
					    MSG_NOSIGNAL | MSG_DONTWAIT);
				if (j % 3 == 2)
					shutdown(fds[j], SHUT_WR);
			}
		}
		r.failed += left;
	}
	if (!reap_write(wfd, &r))
		return EXIT_FAILURE;
	for (int i = 0; i < n; i++)
		pfd[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	while (r.closed + r.unexpected < r.connected && now_s() < give_up) {
		if (poll(pfd, (nfds_t)n, 1000) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			ssize_t got;

			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			got = recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT);
			if (got < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (got == 0 || (got < 0 && errno == ECONNRESET))
				r.closed++;
			else
				r.unexpected++;
			close(fds[i]);
			pfd[i].fd = -1;
		}
	}
	free(fds);
	free(pfd);
	return reap_write(wfd, &r) ? EXIT_SUCCESS : EXIT_FAILURE;
}

/*
 * 10,000 connections (1,000 small) left silent or half open against
 * wk_server_serve() with idle_timeout_ms: every one is reaped (active
 * back to 0, each client sees EOF or a reset).  The clients run in a
 * child process, so that each side needs one descriptor a connection.
 * Silent and half-line clients are cut off by the idle timeout, the
 * half-closed ones at their EOF.
 */
START_TEST(test_reap_half_open)
{
	int n = (int)th_size(10000, 1000), pipefd[2], status = 0;
	wk_serve_options opt = { 0 };
	struct reap_report first = { 0 }, last = { 0 };
	char arg_n[16], arg_port[16], arg_fd[16];
	char *args[] = { NULL, "--reap-clients", arg_n, arg_port, arg_fd, NULL };
	struct rlimit rl;
	struct hctx c;
	wk_serve_stats st;
	wk_server *srv;
	uint16_t port;
	bool ok;
	pid_t pid;

	/* One descriptor a connection in each process, and some to spare. */
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}
	if ((long)rl.rlim_cur < (long)n + 256) {
		int fit = (int)rl.rlim_cur - 256;

		fprintf(stderr, "note: RLIMIT_NOFILE %ld: %d connections, "
		    "not %d\n", (long)rl.rlim_cur, fit, n);
		ck_assert_int_ge(fit, 100);
		n = fit;
	}
	hctx_init(&c);
	/*
	 * A handler for every connection at once: none waits to be
	 * accepted.  valgrind runs at most 500 threads (--max-threads):
	 * there the handlers take the connections in waves of 256, the
	 * others waiting in the backlog (1,024) until a handler ends.
	 */
	opt.max_connections = th_valgrind() ? 256 : (unsigned)n + 16;
	opt.idle_timeout_ms = th_small() ? 4000 : 2000;
	srv = listening_server(&port);
	serve_ok(srv, &c, &opt);
	/*
	 * The clients are this program again, exec'd: nothing of this
	 * process's threads in the child (and valgrind, which does not
	 * trace children, takes none of the parent's memory for leaks).
	 */
	ck_assert_int_eq(pipe2(pipefd, O_CLOEXEC), 0);
	snprintf(arg_n, sizeof(arg_n), "%d", n);
	snprintf(arg_port, sizeof(arg_port), "%u", port);
	snprintf(arg_fd, sizeof(arg_fd), "%d", pipefd[1]);
	pid = run_self(args, pipefd[1]);
	close(pipefd[1]);
	ok = read_within(pipefd[0], &first, sizeof(first),
	    (REAP_GIVE_UP_S + 30) * 1000);
	if (ok) {
		/* Every handler ends: by its idle timeout, or at the EOF. */
		for (int waited = 0;; waited += 10) {
			st = stats_of(srv);
			if (st.active == 0 && st.accepted >= (uint64_t)first.connected)
				break;
			if (waited > REAP_GIVE_UP_S * 1000) {
				ok = false;
				break;
			}
			th_sleep_ms(10);
		}
	}
	ok = ok && read_within(pipefd[0], &last, sizeof(last),
	    (REAP_GIVE_UP_S + 30) * 1000);
	if (!ok)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	close(pipefd[0]);
	st = stats_of(srv);
	ck_assert_msg(ok, "gave up: %llu accepted, %u active; the client "
	    "process connected %d", (unsigned long long)st.accepted, st.active,
	    first.connected);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the client process failed");
	fprintf(stderr, "note: reaping: %d connections, %d handlers timed "
	    "out, %d saw the client's EOF, %llu thread failures, peak %u\n",
	    last.connected, atomic_load(&c.timeouts), atomic_load(&c.closed),
	    (unsigned long long)st.thread_failures, st.peak_active);
	ck_assert_int_eq(first.failed, 0);
	ck_assert_int_eq(first.connected, n);
	ck_assert_uint_eq(st.accepted, (uint64_t)n);
	ck_assert_uint_eq(st.active, 0);
	/* Every client saw the server close its connection. */
	ck_assert_int_eq(last.unexpected, 0);
	ck_assert_int_eq(last.closed, n);
	/* Silent and half-line clients by the timeout, half-closed at EOF. */
	ck_assert_int_eq(atomic_load(&c.finished), n);
	ck_assert_int_eq(atomic_load(&c.errors), 0);
	ck_assert_int_eq(atomic_load(&c.lines), 0);
	ck_assert_int_eq(atomic_load(&c.timeouts), n - n / 3);
	ck_assert_int_eq(atomic_load(&c.closed), n / 3);
	stop_join(srv);
	wk_server_free(srv);
}
END_TEST

/* ================================================================ DNS */

static void
dns_setup(void)
{
	if (!in_netns)
		return;
	dns = dnsd_start(DNS_ADDR, DNS_PORT, 0);
	ck_assert_msg(dns != NULL, "dnsd on %s:%d: %s", DNS_ADDR, DNS_PORT,
	    strerror(errno));
	ck_assert_msg(dnsd_has_tcp(dns), "dnsd has no TCP listener");
	wk_resolver_clear_cache();
}

/* No assertion here: only what must be undone. */
static void
dns_teardown(void)
{
	wk_resolver_stats st;

	/* An abandoned getaddrinfo() ends with glibc's 2 s timeout. */
	for (int waited = 0; waited < LOOKUP_MSECS; waited += 10) {
		wk_resolver_get_stats(&st);
		if (st.running == 0 && st.abandoned == 0)
			break;
		th_sleep_ms(10);
	}
	teardown();
}

/* wirekit's documented code for getaddrinfo()'s (man/wk_lookup.3). */
static wk_error
documented(int eai, int err)
{
	switch (eai) {
	case 0:
		return WK_NO_ERROR;
	case EAI_NONAME:
#ifdef EAI_NODATA
	case EAI_NODATA:
#endif
	case EAI_FAIL:
		return WK_HOST_NOT_FOUND;
	case EAI_MEMORY:
		return WK_SOCKET_RESOURCE;
	case EAI_SYSTEM:
		return err == ETIMEDOUT ? WK_SOCKET_TIMEOUT :
		    err == EMFILE || err == ENFILE || err == ENOMEM ||
		    err == ENOBUFS ? WK_SOCKET_RESOURCE : WK_UNKNOWN;
	default:
		return WK_UNKNOWN;	/* EAI_AGAIN among them */
	}
}

/* What getaddrinfo() itself says of name, as wirekit asks it. */
static int
raw_lookup(const char *name, int *err)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	int rc;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG | AI_CANONNAME;
	errno = 0;
	rc = getaddrinfo(name, NULL, &hints, &res);
	*err = errno;
	if (res)
		freeaddrinfo(res);
	return rc;
}

/*
 * A failed lookup of name: the documented code for what getaddrinfo()
 * answers (want, as glibc answers it here), no address, and a message.
 */
static void
assert_lookup_fails(const char *name, wk_error want)
{
	wk_hostinfo *info = wk_lookup(name, LOOKUP_MSECS);
	int err, rc;

	ck_assert_ptr_nonnull(info);
	ck_assert_msg(wk_hostinfo_error(info) != WK_NO_ERROR,
	    "%s: no error, %zu addresses", name, wk_hostinfo_count(info));
	ck_assert_uint_eq(wk_hostinfo_count(info), 0);
	ck_assert_ptr_null(wk_hostinfo_addrs(info));
	ck_assert_ptr_nonnull(wk_hostinfo_error_string(info));
	ck_assert_str_eq(wk_hostinfo_name(info), name);
	rc = raw_lookup(name, &err);
	ck_assert_msg(wk_hostinfo_error(info) == documented(rc, err),
	    "%s: %s (%s), but getaddrinfo() says %d (%s), which is "
	    "documented as %s", name, wk_error_name(wk_hostinfo_error(info)),
	    wk_hostinfo_error_string(info), rc, gai_strerror(rc),
	    wk_error_name(documented(rc, err)));
	ck_assert_msg(wk_hostinfo_error(info) == want, "%s: %s (%s), want %s",
	    name, wk_error_name(wk_hostinfo_error(info)),
	    wk_hostinfo_error_string(info), wk_error_name(want));
	wk_hostinfo_free(info);
}

/* A successful lookup of name with exactly the address want. */
static void
assert_lookup_only(const char *name, const char *want)
{
	wk_hostinfo *info = wk_lookup(name, LOOKUP_MSECS);
	char text[WK_ADDR_STRLEN];
	wk_addr a;

	ck_assert_ptr_nonnull(info);
	ck_assert_msg(wk_hostinfo_error(info) == WK_NO_ERROR, "%s: %s (%s)",
	    name, wk_error_name(wk_hostinfo_error(info)),
	    wk_hostinfo_error_string(info));
	ck_assert_str_eq(wk_hostinfo_name(info), name);
	ck_assert_uint_eq(wk_hostinfo_count(info), 1);
	a = wk_hostinfo_addr(info, 0);
	wk_addr_format(&a, text, sizeof(text));
	ck_assert_str_eq(text, want);
	wk_hostinfo_free(info);
}

/* SERVFAIL: glibc's EAI_AGAIN, documented as WK_UNKNOWN; never cached. */
START_TEST(test_dns_servfail)
{
	unsigned before;

	if (skip_unless_netns("SERVFAIL"))
		return;
	assert_lookup_fails("servfail." ZONE, WK_UNKNOWN);
	ck_assert(dnsd_seen(dns, "servfail." ZONE));
	/* Not cached: the next lookup asks the server again. */
	before = dnsd_count(dns, "servfail." ZONE, DNSD_TYPE_A);
	assert_lookup_fails("servfail." ZONE, WK_UNKNOWN);
	ck_assert_uint_gt(dnsd_count(dns, "servfail." ZONE, DNSD_TYPE_A),
	    before);
	/* The server is fine otherwise. */
	assert_lookup_only("a." ZONE, "192.0.2.10");
}
END_TEST

/*
 * A truncated UDP answer (TC, no records) sends the resolver to TCP: the
 * answer there is the result; a TCP server that hangs up gives the
 * documented failure.
 */
START_TEST(test_dns_truncated)
{
	if (skip_unless_netns("truncated answers"))
		return;
	assert_lookup_only("tc." ZONE, "192.0.2.15");
	ck_assert_uint_gt(dnsd_tcp_count(dns), 0);
	dnsd_reset_counts(dns);
	assert_lookup_fails("tcfail." ZONE, WK_UNKNOWN);
	ck_assert_uint_gt(dnsd_tcp_count(dns), 0);
}
END_TEST

/*
 * Garbage: random bytes with a wrong ID, a forged answer with a wrong ID
 * (its address must not appear), a reply shorter than a header, and
 * garbage alone.  The garbage is ignored when the real answer follows;
 * otherwise the documented failure.
 */
START_TEST(test_dns_garbage)
{
	if (skip_unless_netns("garbage answers"))
		return;
	assert_lookup_only("garbage." ZONE, "192.0.2.16");
	assert_lookup_only("forged." ZONE, "192.0.2.17");
	assert_lookup_fails("runt." ZONE, WK_UNKNOWN);
	/* Nothing but garbage: glibc waits out its timeout (2 s). */
	assert_lookup_fails("junk." ZONE, WK_UNKNOWN);
	ck_assert(dnsd_seen(dns, "junk." ZONE));
}
END_TEST

/*
 * An answer after 10 s: a lookup with a shorter deadline ends with
 * WK_SOCKET_TIMEOUT, blocking or waited for; one with a longer deadline
 * ends when glibc gives up (2 s), with the documented code.
 */
START_TEST(test_dns_slow)
{
	wk_hostinfo *info;
	int64_t id;

	if (skip_unless_netns("a slow answer"))
		return;
	info = wk_lookup("slow-1." ZONE, SHORT_LOOKUP_MSECS);
	ck_assert_ptr_nonnull(info);
	ck_assert_msg(wk_hostinfo_error(info) == WK_SOCKET_TIMEOUT,
	    "slow-1: %s (%s)", wk_error_name(wk_hostinfo_error(info)),
	    wk_hostinfo_error_string(info));
	ck_assert_uint_eq(wk_hostinfo_count(info), 0);
	wk_hostinfo_free(info);
	id = wk_lookup_start("slow-2." ZONE, NULL, NULL);
	ck_assert_int_gt(id, 0);
	info = wk_lookup_wait(id, SHORT_LOOKUP_MSECS);
	ck_assert_ptr_nonnull(info);
	ck_assert_msg(wk_hostinfo_error(info) == WK_SOCKET_TIMEOUT,
	    "slow-2: %s (%s)", wk_error_name(wk_hostinfo_error(info)),
	    wk_hostinfo_error_string(info));
	wk_hostinfo_free(info);
	ck_assert(wk_lookup_abort(id));
	ck_assert(dnsd_seen(dns, "slow-1." ZONE));
	ck_assert(dnsd_seen(dns, "slow-2." ZONE));
	assert_lookup_fails("slow-3." ZONE, WK_UNKNOWN);
}
END_TEST

/* The addresses of a many.wirekit.test result: each of dnsd's once. */
static void
assert_many(const wk_hostinfo *info, const char *name)
{
	static bool seen[DNSD_MANY];
	char text[WK_ADDR_STRLEN], want[WK_ADDR_STRLEN];
	unsigned hi, lo, idx;
	wk_addr a;

	ck_assert_msg(wk_hostinfo_error(info) == WK_NO_ERROR, "%s: %s (%s)",
	    name, wk_error_name(wk_hostinfo_error(info)),
	    wk_hostinfo_error_string(info));
	ck_assert_uint_eq(wk_hostinfo_count(info), DNSD_MANY);
	ck_assert_ptr_nonnull(wk_hostinfo_addrs(info));
	memset(seen, 0, sizeof(seen));
	for (size_t i = 0; i < DNSD_MANY; i++) {
		a = wk_hostinfo_addr(info, i);
		wk_addr_format(&a, text, sizeof(text));
		ck_assert_msg(sscanf(text, "198.18.%u.%u", &hi, &lo) == 2,
		    "%s: address %zu is %s", name, i, text);
		idx = hi * 256 + lo - 1;
		ck_assert_msg(idx < DNSD_MANY && !seen[idx],
		    "%s: %s is not one of the zone's, or twice", name, text);
		dnsd_many_addr(idx, want, sizeof(want));
		ck_assert_str_eq(text, want);
		seen[idx] = true;
	}
}

/*
 * A name with 1,000 addresses: too many for a UDP answer (512 bytes
 * hold about 30), so dnsd truncates and glibc asks again over TCP.  A
 * connect to it tries them all (none is reachable in the namespace).
 */
START_TEST(test_dns_many)
{
	wk_socket *s;
	wk_hostinfo *info;
	int64_t id;

	if (skip_unless_netns("a name with 1,000 addresses"))
		return;
	info = wk_lookup("many." ZONE, LOOKUP_MSECS);
	ck_assert_ptr_nonnull(info);
	assert_many(info, "many." ZONE);
	wk_hostinfo_free(info);
	ck_assert_uint_gt(dnsd_tcp_count(dns), 0);
	/* The same from the cache, and in the background. */
	info = wk_lookup("many." ZONE, LOOKUP_MSECS);
	ck_assert_ptr_nonnull(info);
	assert_many(info, "many." ZONE);
	wk_hostinfo_free(info);
	id = wk_lookup_start_family("many-2." ZONE, WK_FAMILY_IPV4, NULL, NULL);
	ck_assert_int_gt(id, 0);
	info = wk_lookup_wait(id, LOOKUP_MSECS);
	ck_assert_ptr_nonnull(info);
	assert_many(info, "many-2." ZONE);
	wk_hostinfo_free(info);
	/* 198.18.0.0/15 has no route here: ENETUNREACH, nothing is sent. */
	s = new_socket();
	if (wk_socket_connect(s, "many." ZONE, 9))
		ck_assert(!wk_socket_wait_connected(s, TH_WAIT_MSECS));
	assert_error(s, WK_NETWORK);
	assert_state(s, WK_STATE_UNCONNECTED);
	/* Eight reasons listed, the rest counted. */
	ck_assert_uint_lt(strlen(wk_socket_error_string(s)), 1024);
	ck_assert_ptr_nonnull(strstr(wk_socket_error_string(s),
	    "; and 992 more addresses"));
	wk_socket_free(s);
}
END_TEST

/* ================================================================ peers */

/*
 * Reads p->size bytes, then resets the connection (SO_LINGER 0) while
 * the client still writes.
 */
static const char *
peer_read_then_reset(th_peer *p)
{
	struct linger lg = { 1, 0 };
	char *buf = malloc(CHUNK);
	size_t left = p->size;
	ssize_t n;

	if (!buf)
		return "peer: out of memory";
	if ((p->fd = th_accept(p->lfd, TH_PEER_MSECS)) < 0) {
		free(buf);
		return "peer: accept failed";
	}
	while (left > 0) {
		n = recv(p->fd, buf, left < CHUNK ? left : CHUNK, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return "peer: recv failed";
		}
		left -= (size_t)n;
		p->received += (size_t)n;
	}
	free(buf);
	setsockopt(p->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	return NULL;	/* peer_main's close sends the RST */
}

/*
 * RST while the client writes a large buffer: the wait reports
 * WK_REMOTE_HOST_CLOSED, the socket is unconnected with its queue
 * dropped, and no SIGPIPE kills the program.
 */
START_TEST(test_peer_rst_mid_write)
{
	const size_t size = th_size(64 * MIB, 8 * MIB);
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port), waits = 0;
	wk_socket *s = new_socket();
	char *big = calloc(1, size);
	bool failed = false;
	th_peer p;

	ck_assert_ptr_nonnull(big);
	sigpipe_kills();
	small_buffers(lfd);
	th_peer_init(&p, lfd);
	p.size = 256 * KIB;
	ck_assert(th_peer_start(&p, peer_read_then_reset));
	connect_ok(s, "127.0.0.1", port);
	ck_assert(wk_socket_set_option(s, WK_OPT_SEND_BUFFER_SIZE, 64 * KIB));
	ck_assert_int_eq(wk_socket_write(s, big, size), (ssize_t)size);
	while (wk_socket_bytes_to_write(s) > 0) {
		ck_assert_msg(++waits < 1000000, "no end of the queue");
		if (!wk_socket_wait_bytes_written(s, TH_WAIT_MSECS)) {
			failed = true;
			break;
		}
	}
	ck_assert_msg(failed, "all %zu bytes went out to a peer that reset "
	    "after %zu", size, p.size);
	assert_error(s, WK_REMOTE_HOST_CLOSED);
	assert_state(s, WK_STATE_UNCONNECTED);
	ck_assert_uint_eq(wk_socket_bytes_to_write(s), 0);
	ck_assert_int_eq(wk_socket_descriptor(s), -1);
	ck_assert_int_eq(wk_socket_write(s, "x", 1), -1);
	assert_error(s, WK_OPERATION);
	join_peer(&p);
	ck_assert_uint_eq(p.received, 256 * KIB);
	sigpipe_restore();
	wk_socket_free(s);
	free(big);
	close(lfd);
}
END_TEST

/*
 * Streams the pattern of p->seed until the client signals, then resets
 * at once, with data still in flight.
 */
static const char *
peer_stream_then_reset(th_peer *p)
{
	struct linger lg = { 1, 0 };
	char *buf = malloc(CHUNK);
	size_t off = 0;

	if (!buf)
		return "peer: out of memory";
	if ((p->fd = th_accept(p->lfd, TH_PEER_MSECS)) < 0) {
		free(buf);
		return "peer: accept failed";
	}
	while (!th_peer_wait_signal(p, 1, 0)) {
		if (off >= 1024 * (size_t)MIB) {
			free(buf);
			return "peer: no signal from the client";
		}
		th_pattern(buf, CHUNK, off, p->seed);
		if (th_write_all(p->fd, buf, CHUNK) != 0) {
			free(buf);
			return "peer: send failed";
		}
		off += CHUNK;
	}
	free(buf);
	p->size = off;
	setsockopt(p->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	return NULL;
}

/*
 * RST while the client reads: every byte read is right, the first
 * failure is WK_REMOTE_HOST_CLOSED, and the stream ends with -1.
 */
START_TEST(test_peer_rst_mid_read)
{
	const uint32_t seed = 0x857;
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	char *buf = malloc(CHUNK);
	wk_error first = WK_NO_ERROR;
	size_t got = 0;
	bool signalled = false;
	ssize_t n;
	th_peer p;

	ck_assert_ptr_nonnull(buf);
	sigpipe_kills();
	small_buffers(lfd);
	th_peer_init(&p, lfd);
	p.seed = seed;
	ck_assert(th_peer_start(&p, peer_stream_then_reset));
	ck_assert(wk_socket_set_read_buffer_size(s, 256 * KIB));
	connect_ok(s, "127.0.0.1", port);
	for (;;) {
		n = wk_socket_read(s, buf, 4 * KIB);
		if (first == WK_NO_ERROR && wk_socket_error(s) != WK_NO_ERROR)
			first = wk_socket_error(s);
		if (n < 0)
			break;
		if (n > 0) {
			int64_t bad = th_pattern_check(buf, (size_t)n, got, seed);

			ck_assert_msg(bad < 0, "byte %lld is wrong",
			    (long long)bad);
			got += (size_t)n;
			if (!signalled && got >= MIB) {
				th_peer_signal(&p);	/* reset now */
				signalled = true;
			}
			continue;
		}
		if (!wk_socket_wait_ready_read(s, TH_WAIT_MSECS)) {
			if (first == WK_NO_ERROR)
				first = wk_socket_error(s);
			ck_assert_msg(wk_socket_error(s) != WK_SOCKET_TIMEOUT,
			    "the reset was not seen after %zu bytes", got);
		}
	}
	ck_assert(signalled);
	ck_assert_msg(first == WK_REMOTE_HOST_CLOSED, "first error %s, want "
	    "WK_REMOTE_HOST_CLOSED", wk_error_name(first));
	assert_state(s, WK_STATE_UNCONNECTED);
	ck_assert_int_eq(wk_socket_descriptor(s), -1);
	ck_assert(wk_socket_at_end(s));
	ck_assert_int_eq(wk_socket_read(s, buf, CHUNK), -1);
	join_peer(&p);
	ck_assert_uint_le(got, p.size);
	sigpipe_restore();
	wk_socket_free(s);
	free(buf);
	close(lfd);
}
END_TEST

/*
 * Sends a request, shuts down its writing half, and reads everything
 * the client sends until it closes.
 */
static const char *
peer_half_close(th_peer *p)
{
	if ((p->fd = th_accept(p->lfd, TH_PEER_MSECS)) < 0)
		return "peer: accept failed";
	if (th_write_all(p->fd, "request\n", 8) != 0)
		return "peer: send failed";
	if (shutdown(p->fd, SHUT_WR) != 0)
		return "peer: shutdown failed";
	return th_peer_read_to_eof(p);
}

/*
 * Half close: the peer shuts down its writing half but goes on reading.
 * The answer written after that arrives whole; the client sees the end
 * of the stream as the documentation says (WK_REMOTE_HOST_CLOSED, then
 * unconnected and at the end).
 */
START_TEST(test_peer_half_close)
{
	const size_t size = th_size(16 * MIB, 4 * MIB);
	const uint32_t seed = 0x4a1f;
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	char *data = malloc(size), line[LINE_LEN];
	wk_error werr = WK_NO_ERROR;
	const char *why;
	size_t left = 0;
	bool intact;
	th_peer p;

	ck_assert_ptr_nonnull(data);
	sigpipe_kills();
	small_buffers(lfd);
	th_pattern(data, size, 0, seed);
	start_peer(&p, lfd, peer_half_close);
	connect_ok(s, "127.0.0.1", port);
	ck_assert(wk_socket_set_option(s, WK_OPT_SEND_BUFFER_SIZE, 64 * KIB));
	while (!wk_socket_can_read_line(s))
		ck_assert_msg(wk_socket_wait_ready_read(s, TH_WAIT_MSECS),
		    "wait for the request: %s", wk_socket_error_string(s));
	ck_assert_int_eq(wk_socket_read_line(s, line, sizeof(line)), 8);
	ck_assert_str_eq(line, "request\n");
	/* The answer, after the peer's FIN: more than the buffers hold. */
	ck_assert_int_eq(wk_socket_write(s, data, size), (ssize_t)size);
	while ((left = wk_socket_bytes_to_write(s)) > 0) {
		if (!wk_socket_wait_bytes_written(s, TH_WAIT_MSECS)) {
			werr = wk_socket_error(s);
			break;
		}
	}
	/* The end of the stream: seen now if not before. */
	if (wk_socket_state(s) == WK_STATE_CONNECTED)
		ck_assert(!wk_socket_wait_ready_read(s, TH_WAIT_MSECS));
	ck_assert_msg(werr == WK_NO_ERROR || werr == WK_REMOTE_HOST_CLOSED,
	    "wait_bytes_written: %s", wk_error_name(werr));
	assert_state(s, WK_STATE_UNCONNECTED);
	ck_assert(wk_socket_at_end(s));
	ck_assert_int_eq(wk_socket_read(s, line, sizeof(line)), -1);
	why = th_peer_join(&p);
	intact = p.sum == th_sum(TH_SUM_INIT, data, size);
	/* Freed first: a failure here leaks nothing under CK_FORK=no. */
	sigpipe_restore();
	wk_socket_free(s);
	free(data);
	close(lfd);
	ck_assert_msg(werr == WK_NO_ERROR && left == 0 && p.received == size,
	    "a half-closed peer that still reads got %zu of %zu bytes (%s): "
	    "the client's wait_bytes_written ended with %s with %zu bytes "
	    "still queued, which were dropped", p.received, size,
	    why ? why : "then EOF", wk_error_name(werr), left);
	ck_assert_msg(why == NULL, "%s", why);
	ck_assert(intact);
}
END_TEST

/* Reads nothing until the client signals, then everything to EOF. */
static const char *
peer_read_later(th_peer *p)
{
	if ((p->fd = th_accept(p->lfd, TH_PEER_MSECS)) < 0)
		return "peer: accept failed";
	if (!th_peer_wait_signal(p, 1, TH_PEER_MSECS))
		return "peer: no signal from the client";
	return th_peer_read_to_eof(p);
}

/*
 * A zero-window peer (it never reads): wait_bytes_written times out with
 * WK_SOCKET_TIMEOUT and the connection stays; the queue is intact; once
 * the peer reads, everything arrives, byte for byte.
 */
START_TEST(test_peer_zero_window)
{
	const size_t size = th_size(16 * MIB, 4 * MIB);
	const uint32_t seed = 0x2e80;
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port), timeouts = 0, waits = 0;
	wk_socket *s = new_socket();
	char *data = malloc(size);
	size_t queued;
	th_peer p;

	ck_assert_ptr_nonnull(data);
	sigpipe_kills();
	small_buffers(lfd);
	th_pattern(data, size, 0, seed);
	start_peer(&p, lfd, peer_read_later);
	connect_ok(s, "127.0.0.1", port);
	ck_assert(wk_socket_set_option(s, WK_OPT_SEND_BUFFER_SIZE, 64 * KIB));
	ck_assert_int_eq(wk_socket_write(s, data, size), (ssize_t)size);
	/* The kernel's buffers fill, then every wait times out. */
	while (timeouts < 3) {
		ck_assert_msg(++waits < 100000, "the peer's window never "
		    "closed");
		queued = wk_socket_bytes_to_write(s);
		ck_assert_uint_gt(queued, 0);
		if (wk_socket_wait_bytes_written(s, 200)) {
			timeouts = 0;	/* the kernel took some still */
			continue;
		}
		timeouts++;
		assert_error(s, WK_SOCKET_TIMEOUT);
		assert_state(s, WK_STATE_CONNECTED);
		ck_assert_uint_eq(wk_socket_bytes_to_write(s), queued);
	}
	ck_assert_uint_gt(queued, size / 2);
	/* The peer reads: the connection recovers, the queue goes out. */
	th_peer_signal(&p);
	while (wk_socket_bytes_to_write(s) > 0)
		ck_assert_msg(wk_socket_wait_bytes_written(s, TH_WAIT_MSECS),
		    "wait_bytes_written once the peer reads: %s (%s)",
		    wk_error_name(wk_socket_error(s)),
		    wk_socket_error_string(s));
	disconnect_ok(s);
	join_peer(&p);
	ck_assert_uint_eq(p.received, size);
	ck_assert(p.sum == th_sum(TH_SUM_INIT, data, size));
	sigpipe_restore();
	wk_socket_free(s);
	free(data);
	close(lfd);
}
END_TEST

/* ---------------------------------------------------------------- main */

static TCase *
tcase(Suite *s, const char *name, int timeout)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, timeout);
	tcase_add_checked_fixture(tc, NULL, teardown);
	suite_add_tcase(s, tc);
	return tc;
}

int
main(int argc, char **argv)
{
	Suite *s;
	struct rlimit rl;
	TCase *tc;
	SRunner *sr;
	int failed;

	/* The other processes of test_reap_half_open and the cold lookup. */
	if (argc == 5 && strcmp(argv[1], "--reap-clients") == 0)
		return reap_clients_main(argv);
	if (argc == 4 && strcmp(argv[1], "--cold-lookup") == 0)
		return cold_lookup_main(argv);
	s = suite_create("hostile");

	/* Everything runs in the namespace when it can be had. */
	failed = wk_test_enter_netns(RESOLV_CONF);
	if (failed == WK_TEST_HARD_ERROR)
		return failed;
	in_netns = failed == 0;
	if (!in_netns)
		fprintf(stderr, "note: no network namespace: the DNS tests "
		    "are skipped\n");
	/* The reaping test needs a descriptor a connection. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	tc = tcase(s, "descriptors", 120);
	tcase_add_test(tc, test_exhausted_connect_lookup);
	tcase_add_test(tc, test_exhausted_cold_lookup);
	tcase_add_test(tc, test_exhausted_serve);
	tc = tcase(s, "signals", 300);
	tcase_add_test(tc, test_signal_storm);
	tc = tcase(s, "floods", 600);
	tcase_add_test(tc, test_flood_no_newline);
	tcase_add_test(tc, test_udp_flood_tcp);
	tcase_add_test(tc, test_reap_half_open);
	tc = tcase_create("dns");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, dns_setup, dns_teardown);
	suite_add_tcase(s, tc);
	tcase_add_test(tc, test_dns_servfail);
	tcase_add_test(tc, test_dns_truncated);
	tcase_add_test(tc, test_dns_garbage);
	tcase_add_test(tc, test_dns_slow);
	tcase_add_test(tc, test_dns_many);
	tc = tcase(s, "peers", 120);
	tcase_add_test(tc, test_peer_rst_mid_write);
	tcase_add_test(tc, test_peer_rst_mid_read);
	tcase_add_test(tc, test_peer_half_close);
	tcase_add_test(tc, test_peer_zero_window);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	/* With CK_FORK=no the pool ran here; let valgrind see it gone. */
	wk_resolver_shutdown();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
