/*
 * check_serve.c - the callback layer's servers (wirekit/thread.h):
 * wk_server_serve() with a thread per connection, wk_server_start(),
 * stop, join, drain and the counters; real listeners on loopback, raw
 * POSIX clients in threads (a poll loop each for the many-client test)
 *
 * Handlers count themselves with atomics (how many run, the most that
 * ran at once, how their waits ended); the test waits for what must come
 * with a give-up limit and never asserts an elapsed time.
 * WK_TEST_SMALL=1 (valgrind) scales the big test down.
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <wirekit/addr.h>
#include <wirekit/server.h>
#include <wirekit/socket.h>
#include <wirekit/thread.h>

#include "tcp_helpers.h"

#define LINE_MAX_LEN 64
#define SEEN_MAX 64

/* ---------------------------------------------------------------- handlers */

/*
 * What the handlers of one server share.  Counters are atomics; the
 * lock and cond let the test wait for them (an update takes the lock
 * before it broadcasts, so no wake-up is lost).
 */
struct ctx {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t test_thread;
	int wait_msecs;			/* what a handler's wait is given */
	atomic_int active, max_active;	/* handlers inside, the most at once */
	atomic_int entered, finished;
	atomic_long lines;		/* lines answered */
	atomic_int idle_timeouts;	/* waits that timed out before a line */
	atomic_int late_timeouts;	/* ... after a line */
	atomic_int wait_errors;		/* waits that failed otherwise */
	atomic_int bad;			/* something a handler must not see */
	atomic_int on_test_thread;
	/* a gate for blocked handlers */
	bool release;
	/* the waits of blocked handlers: how they ended */
	int ended;
	bool wait_result[SEEN_MAX];
	wk_error wait_error[SEEN_MAX];
	/* wk_server_start(): what the callback saw */
	int calls;
	wk_state states[SEEN_MAX];
	uint16_t peer_ports[SEEN_MAX];
	bool peer_loopback[SEEN_MAX];
	wk_socket *started[SEEN_MAX];
	int nstarted;
};

static void
ctx_init(struct ctx *c, int wait_msecs)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	c->test_thread = pthread_self();
	c->wait_msecs = wait_msecs;
	atomic_init(&c->active, 0);
	atomic_init(&c->max_active, 0);
	atomic_init(&c->entered, 0);
	atomic_init(&c->finished, 0);
	atomic_init(&c->lines, 0);
	atomic_init(&c->idle_timeouts, 0);
	atomic_init(&c->late_timeouts, 0);
	atomic_init(&c->wait_errors, 0);
	atomic_init(&c->bad, 0);
	atomic_init(&c->on_test_thread, 0);
}

static void
ctx_destroy(struct ctx *c)
{
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
}

static void
ctx_signal(struct ctx *c)
{
	pthread_mutex_lock(&c->lock);
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

/* Waits until *counter >= n, with a give-up limit. */
static bool
ctx_wait(struct ctx *c, atomic_int *counter, int n)
{
	struct timespec until;
	int rc = 0;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += TH_WAIT_MSECS / 1000;
	pthread_mutex_lock(&c->lock);
	while (atomic_load(counter) < n && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&c->cond, &c->lock, &until);
	ok = atomic_load(counter) >= n;
	pthread_mutex_unlock(&c->lock);
	return ok;
}

/* A handler begins: counts itself in, notes the most at once. */
static void
handler_enter(struct ctx *c, wk_socket *s)
{
	int now = atomic_fetch_add(&c->active, 1) + 1;
	int max = atomic_load(&c->max_active);

	while (now > max &&
	    !atomic_compare_exchange_weak(&c->max_active, &max, now))
		;
	if (pthread_equal(pthread_self(), c->test_thread))
		atomic_fetch_add(&c->on_test_thread, 1);
	if (wk_socket_state(s) != WK_STATE_CONNECTED)
		atomic_fetch_add(&c->bad, 1);
	atomic_fetch_add(&c->entered, 1);
	ctx_signal(c);
}

static void
handler_leave(struct ctx *c)
{
	atomic_fetch_sub(&c->active, 1);
	atomic_fetch_add(&c->finished, 1);
	ctx_signal(c);
}

/*
 * Answers each line "q ..." with "a ..." until the client closes, in
 * plain blocking style; each wait is given c->wait_msecs.
 */
static void
serve_lines(struct ctx *c, wk_socket *s)
{
	char line[LINE_MAX_LEN];
	long lines = 0;
	ssize_t n;

	for (;;) {
		n = wk_socket_read_line(s, line, sizeof(line));
		if (n > 0) {
			if (line[n - 1] != '\n' || line[0] != 'q') {
				/* Half a line at the end: a slow client. */
				break;
			}
			line[0] = 'a';
			if (wk_socket_write(s, line, (size_t)n) != n) {
				atomic_fetch_add(&c->bad, 1);
				break;
			}
			lines++;
			continue;
		}
		if (n < 0)
			break;
		if (!wk_socket_wait_ready_read(s, c->wait_msecs)) {
			wk_error e = wk_socket_error(s);

			if (e == WK_REMOTE_HOST_CLOSED)
				continue;	/* read what is left */
			if (e == WK_SOCKET_TIMEOUT)
				atomic_fetch_add(lines ? &c->late_timeouts :
				    &c->idle_timeouts, 1);
			else
				atomic_fetch_add(&c->wait_errors, 1);
			break;
		}
	}
	atomic_fetch_add(&c->lines, lines);
}

static void
lines_handler(wk_socket *s, void *arg)
{
	struct ctx *c = arg;

	handler_enter(c, s);
	serve_lines(c, s);
	handler_leave(c);
}

/* Waits on its socket (c->wait_msecs) for what never comes. */
static void
waiting_handler(wk_socket *s, void *arg)
{
	struct ctx *c = arg;
	bool ok;
	wk_error e;

	handler_enter(c, s);
	ok = wk_socket_wait_ready_read(s, c->wait_msecs);
	e = wk_socket_error(s);
	pthread_mutex_lock(&c->lock);
	if (c->ended < SEEN_MAX) {
		c->wait_result[c->ended] = ok;
		c->wait_error[c->ended] = e;
	}
	c->ended++;
	pthread_mutex_unlock(&c->lock);
	handler_leave(c);
}

/* Blocks until c->release, not on its socket (give-up limit). */
static void
gated_handler(wk_socket *s, void *arg)
{
	struct ctx *c = arg;
	struct timespec until;
	int rc = 0;

	handler_enter(c, s);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += TH_PEER_MSECS / 1000;
	pthread_mutex_lock(&c->lock);
	while (!c->release && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&c->cond, &c->lock, &until);
	if (!c->release)
		atomic_fetch_add(&c->bad, 1);
	pthread_mutex_unlock(&c->lock);
	serve_lines(c, s);
	handler_leave(c);
}

static void
ctx_release(struct ctx *c)
{
	pthread_mutex_lock(&c->lock);
	c->release = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

static void
assert_handlers_clean(struct ctx *c)
{
	ck_assert_msg(atomic_load(&c->bad) == 0,
	    "%d handlers saw something wrong", atomic_load(&c->bad));
	ck_assert_msg(atomic_load(&c->on_test_thread) == 0,
	    "%d handlers ran on the test's thread",
	    atomic_load(&c->on_test_thread));
}

/* ---------------------------------------------------------------- helpers */

#define assert_srv_error(srv, code) \
	ck_assert_msg(wk_server_error(srv) == (code), \
	    "error %s (\"%s\"), want %s", \
	    wk_error_name(wk_server_error(srv)), \
	    wk_server_error_string(srv), wk_error_name(code))

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
serve_ok(wk_server *srv, wk_connection_fn fn, struct ctx *c,
    const wk_serve_options *opt)
{
	ck_assert_msg(wk_server_serve(srv, fn, c, opt), "serve: %s",
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
ask(int fd, int a, int b, int seq)
{
	char q[LINE_MAX_LEN], want[LINE_MAX_LEN], got[LINE_MAX_LEN];
	int n = snprintf(q, sizeof(q), "q %d %d %d\n", a, b, seq);

	snprintf(want, sizeof(want), "a %d %d %d\n", a, b, seq);
	if (th_write_all(fd, q, (size_t)n) != 0)
		return "client: send failed";
	if (th_read_exact(fd, got, (size_t)n) != 0)
		return "client: no answer";
	if (memcmp(got, want, (size_t)n) != 0)
		return "client: a wrong answer";
	return NULL;
}

/* The peer closed fd (EOF or reset) within the give-up limit. */
static bool
sees_close(int fd)
{
	char c;
	ssize_t n;

	if (!(th_poll(fd, POLLIN, TH_WAIT_MSECS) & (POLLIN | POLLHUP |
	    POLLERR)))
		return false;
	n = recv(fd, &c, 1, MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno == ECONNRESET);
}

static int
connect_ok(uint16_t port)
{
	int fd = th_connect("127.0.0.1", port);

	ck_assert_msg(fd >= 0, "connect: %s", strerror(errno));
	return fd;
}

/* A client thread: p->count rounds of ask() on one connection. */
static const char *
client_rounds(th_peer *p)
{
	const char *why;

	if ((p->fd = th_connect("127.0.0.1", p->port)) < 0)
		return "client: connect failed";
	for (int i = 0; i < p->count; i++) {
		if ((why = ask(p->fd, (int)p->seed, 0, i)))
			return why;
		p->received++;
	}
	return NULL;	/* peer_main closes */
}

static void
start_client(th_peer *p, uint16_t port, int id, int rounds)
{
	th_peer_init(p, -1);
	p->port = port;
	p->seed = (uint32_t)id;
	p->count = rounds;
	ck_assert(th_peer_start(p, client_rounds));
}

static void
join_client(th_peer *p)
{
	const char *why = th_peer_join(p);

	ck_assert_msg(why == NULL, "%s", why);
}

static void
teardown(void)
{
	th_fd_restore();
}

/* ---------------------------------------------------------------- many clients */

/* A gate all client threads pass together (with a give-up limit). */
struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int parties, arrived;
};

static bool
gate_pass(struct gate *g)
{
	struct timespec until;
	int rc = 0;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += TH_PEER_MSECS / 1000;
	pthread_mutex_lock(&g->lock);
	if (++g->arrived >= g->parties)
		pthread_cond_broadcast(&g->cond);
	while (g->arrived < g->parties && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&g->cond, &g->lock, &until);
	ok = g->arrived >= g->parties;
	pthread_mutex_unlock(&g->lock);
	return ok;
}

struct conn {
	int fd;
	int done;		/* answers received */
	bool waiting;		/* a request is out */
	char buf[LINE_MAX_LEN];
	size_t len;
};

struct mclient {
	pthread_t thread;
	uint16_t port;
	int id, nconn, rounds;
	struct gate *gate;
	const char *failure;
	long answered;
};

/*
 * Drives every connection of a client thread with poll() until each has
 * target answers: one request out per connection at a time.
 */
static const char *
run_rounds(struct mclient *m, struct conn *cs, struct pollfd *pfd, int *idx,
    int target)
{
	for (;;) {
		int np = 0, rc;

		for (int i = 0; i < m->nconn; i++) {
			struct conn *c = &cs[i];

			if (c->done >= target)
				continue;
			if (!c->waiting) {
				char q[LINE_MAX_LEN];
				int n = snprintf(q, sizeof(q), "q %d %d %d\n",
				    m->id, i, c->done);

				if (th_write_all(c->fd, q, (size_t)n) != 0)
					return "client: send failed";
				c->waiting = true;
				c->len = 0;
			}
			pfd[np] = (struct pollfd){ .fd = c->fd,
			    .events = POLLIN };
			idx[np++] = i;
		}
		if (np == 0)
			return NULL;
		do {
			rc = poll(pfd, (nfds_t)np, TH_PEER_MSECS);
		} while (rc < 0 && errno == EINTR);
		if (rc <= 0)
			return "client: no answer within the give-up limit";
		for (int k = 0; k < np; k++) {
			struct conn *c = &cs[idx[k]];
			char want[LINE_MAX_LEN];
			ssize_t n;

			if (!pfd[k].revents)
				continue;
			n = recv(c->fd, c->buf + c->len,
			    sizeof(c->buf) - 1 - c->len, MSG_DONTWAIT);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (n == 0)
				return "client: the server closed";
			if (n < 0)
				return "client: recv failed";
			c->len += (size_t)n;
			if (c->len == 0 || c->buf[c->len - 1] != '\n') {
				if (c->len >= sizeof(c->buf) - 1)
					return "client: an answer too long";
				continue;
			}
			c->buf[c->len] = '\0';
			snprintf(want, sizeof(want), "a %d %d %d\n", m->id,
			    idx[k], c->done);
			if (strcmp(c->buf, want) != 0)
				return "client: a wrong answer";
			c->done++;
			c->waiting = false;
			m->answered++;
		}
	}
}

/*
 * Connects nconn times; one round each; waits at the gate for every
 * other client thread (so every connection is open and answered at
 * once); then the other rounds; then closes.
 */
static void *
mclient_main(void *arg)
{
	struct mclient *m = arg;
	struct conn *cs = calloc((size_t)m->nconn, sizeof(*cs));
	struct pollfd *pfd = calloc((size_t)m->nconn, sizeof(*pfd));
	int *idx = calloc((size_t)m->nconn, sizeof(*idx));
	bool passed = false;

	if (!cs || !pfd || !idx) {
		m->failure = "client: out of memory";
		goto out;
	}
	for (int i = 0; i < m->nconn; i++)
		cs[i].fd = -1;
	for (int i = 0; i < m->nconn; i++)
		if ((cs[i].fd = th_connect("127.0.0.1", m->port)) < 0) {
			m->failure = "client: connect failed";
			goto out;
		}
	if ((m->failure = run_rounds(m, cs, pfd, idx, 1)))
		goto out;
	passed = true;
	if (!gate_pass(m->gate)) {
		m->failure = "client: the others did not reach the gate";
		goto out;
	}
	m->failure = run_rounds(m, cs, pfd, idx, m->rounds);
out:
	if (!passed)
		gate_pass(m->gate);	/* let the others on */
	for (int i = 0; cs && i < m->nconn; i++)
		if (cs[i].fd >= 0)
			close(cs[i].fd);
	free(cs);
	free(pfd);
	free(idx);
	return NULL;
}

/*
 * Many clients at once, each doing many requests: all answered, and at
 * the gate every connection had its own handler running.
 */
START_TEST(test_many_clients)
{
	enum { THREADS = 5 };
	int clients = (int)th_size(1000, 50);
	int rounds = (int)th_size(100, 20);
	struct rlimit rl;
	struct gate gate = { .lock = PTHREAD_MUTEX_INITIALIZER,
	    .cond = PTHREAD_COND_INITIALIZER, .parties = THREADS };
	struct mclient m[THREADS];
	struct ctx c;
	wk_serve_stats st;
	wk_server *srv;
	uint16_t port;
	long answered = 0;

	/* Two descriptors a client (both ends here), and some to spare. */
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if ((long)rl.rlim_cur < 2L * clients + 100) {
		int fit = ((int)rl.rlim_cur - 100) / 2 / THREADS * THREADS;

		fprintf(stderr, "note: RLIMIT_NOFILE %ld: %d clients, not %d\n",
		    (long)rl.rlim_cur, fit, clients);
		ck_assert_int_ge(fit, THREADS);
		clients = fit;
	}
	clients = clients / THREADS * THREADS;
	ctx_init(&c, TH_PEER_MSECS);
	srv = listening_server(&port);
	serve_ok(srv, lines_handler, &c, NULL);
	for (int t = 0; t < THREADS; t++) {
		m[t] = (struct mclient){ .port = port, .id = t,
		    .nconn = clients / THREADS, .rounds = rounds,
		    .gate = &gate };
		ck_assert_int_eq(pthread_create(&m[t].thread, NULL,
		    mclient_main, &m[t]), 0);
	}
	for (int t = 0; t < THREADS; t++)
		pthread_join(m[t].thread, NULL);
	for (int t = 0; t < THREADS; t++) {
		ck_assert_msg(m[t].failure == NULL, "client thread %d: %s", t,
		    m[t].failure);
		answered += m[t].answered;
	}
	ck_assert_int_eq(answered, (long)clients * rounds);
	/* Every handler sees its client close and returns. */
	ck_assert(ctx_wait(&c, &c.finished, clients));
	stop_join(srv);
	st = stats_of(srv);
	assert_handlers_clean(&c);
	ck_assert_int_eq(atomic_load(&c.lines), (long)clients * rounds);
	ck_assert_int_eq(atomic_load(&c.idle_timeouts), 0);
	ck_assert_int_eq(atomic_load(&c.late_timeouts), 0);
	ck_assert_int_eq(atomic_load(&c.wait_errors), 0);
	ck_assert_int_eq(atomic_load(&c.max_active), clients);
	ck_assert_uint_eq(st.accepted, (uint64_t)clients);
	ck_assert_uint_eq(st.active, 0);
	ck_assert_uint_eq(st.peak_active, (unsigned)clients);
	ck_assert_uint_eq(st.thread_failures, 0);
	ck_assert_uint_eq(st.refused_by_limit, 0);
	ck_assert(wk_server_is_listening(srv));
	wk_server_free(srv);
	ctx_destroy(&c);
}
END_TEST

/* ---------------------------------------------------------------- limit */

/*
 * max_connections 4, 20 clients connected at once, each with its
 * request sent.  A handler answers and then waits for its client to
 * close; the clients close only in fours (or the last ones together),
 * so four handlers must run at once and a fifth never may.
 */
START_TEST(test_max_connections)
{
	enum { CLIENTS = 20, LIMIT = 4 };
	wk_serve_options opt = { .max_connections = LIMIT };
	int fds[CLIENTS], open_count = CLIENTS, answered = 0;
	bool done[CLIENTS] = { false };
	unsigned max_seen = 0;
	struct ctx c;
	wk_serve_stats st;
	wk_server *srv;
	uint16_t port;

	ctx_init(&c, TH_PEER_MSECS);
	srv = listening_server(&port);
	serve_ok(srv, lines_handler, &c, &opt);
	for (int i = 0; i < CLIENTS; i++) {
		char q[LINE_MAX_LEN];
		int n = snprintf(q, sizeof(q), "q 9 %d 0\n", i);

		fds[i] = connect_ok(port);
		ck_assert_int_eq(th_write_all(fds[i], q, (size_t)n), 0);
	}
	while (open_count > 0) {
		struct pollfd pfd[CLIENTS];
		int idx[CLIENTS], np = 0, waiting_close = 0;

		for (int i = 0; i < CLIENTS; i++) {
			if (fds[i] < 0)
				continue;
			if (done[i]) {
				waiting_close++;
				continue;
			}
			pfd[np] = (struct pollfd){ .fd = fds[i],
			    .events = POLLIN };
			idx[np++] = i;
		}
		/* Close in fours, or all that are left. */
		if (waiting_close == LIMIT || waiting_close == open_count) {
			for (int i = 0; i < CLIENTS; i++)
				if (fds[i] >= 0 && done[i]) {
					close(fds[i]);
					fds[i] = -1;
					open_count--;
				}
			continue;
		}
		st = stats_of(srv);
		if (st.active > max_seen)
			max_seen = st.active;
		ck_assert_msg(poll(pfd, (nfds_t)np, TH_WAIT_MSECS) > 0,
		    "no answer: %d answered, %d waiting "
		    "for their close; the limit lets fewer than %d run?",
		    answered, waiting_close, LIMIT);
		for (int k = 0; k < np; k++) {
			char got[LINE_MAX_LEN], want[LINE_MAX_LEN];
			int i = idx[k];
			int n = snprintf(want, sizeof(want), "a 9 %d 0\n", i);

			if (!pfd[k].revents)
				continue;
			ck_assert_msg(th_read_exact(fds[i], got, (size_t)n) ==
			    0, "client %d: no answer", i);
			ck_assert_mem_eq(got, want, (size_t)n);
			done[i] = true;
			answered++;
		}
	}
	ck_assert_int_eq(answered, CLIENTS);
	ck_assert(ctx_wait(&c, &c.finished, CLIENTS));
	stop_join(srv);
	st = stats_of(srv);
	assert_handlers_clean(&c);
	ck_assert_int_eq(atomic_load(&c.max_active), LIMIT);
	ck_assert_uint_le(max_seen, LIMIT);
	ck_assert_uint_eq(st.accepted, CLIENTS);
	ck_assert_uint_eq(st.peak_active, LIMIT);
	ck_assert_uint_eq(st.active, 0);
	ck_assert_uint_ge(st.refused_by_limit, 1);
	ck_assert_uint_eq(st.thread_failures, 0);
	ck_assert_int_eq(atomic_load(&c.lines), CLIENTS);
	wk_server_free(srv);
	ctx_destroy(&c);
}
END_TEST

/* ---------------------------------------------------------------- slowloris */

/*
 * Ten slow clients (five send nothing, five half a line) connect first
 * and take all eight handler slots; with idle_timeout_ms their handlers'
 * waits of -1 end with WK_SOCKET_TIMEOUT, and every good client behind
 * them gets its answers.
 */
START_TEST(test_slowloris)
{
	enum { SLOW = 10, GOOD = 12, ROUNDS = 3 };
	wk_serve_options opt = { .max_connections = 8,
	    .idle_timeout_ms = th_small() ? 3000 : 1500 };
	int slow[SLOW];
	th_peer good[GOOD];
	struct ctx c;
	wk_serve_stats st;
	wk_server *srv;
	uint16_t port;

	ctx_init(&c, -1);
	srv = listening_server(&port);
	serve_ok(srv, lines_handler, &c, &opt);
	for (int i = 0; i < SLOW; i++) {
		slow[i] = connect_ok(port);
		if (i % 2)
			ck_assert_int_eq(th_write_all(slow[i], "q 1 2", 5), 0);
	}
	/* The slow ones are ahead in the accept queue. */
	ck_assert(ctx_wait(&c, &c.entered, 8));
	for (int i = 0; i < GOOD; i++)
		start_client(&good[i], port, 100 + i, ROUNDS);
	for (int i = 0; i < GOOD; i++) {
		join_client(&good[i]);
		ck_assert_uint_eq(good[i].received, ROUNDS);
	}
	/* Each slow client was cut off by its handler's timeout. */
	ck_assert(ctx_wait(&c, &c.idle_timeouts, SLOW));
	for (int i = 0; i < SLOW; i++) {
		ck_assert_msg(sees_close(slow[i]), "slow client %d not closed",
		    i);
		close(slow[i]);
	}
	ck_assert(ctx_wait(&c, &c.finished, SLOW + GOOD));
	stop_join(srv);
	st = stats_of(srv);
	assert_handlers_clean(&c);
	ck_assert_int_eq(atomic_load(&c.idle_timeouts), SLOW);
	ck_assert_int_eq(atomic_load(&c.late_timeouts), 0);
	ck_assert_int_eq(atomic_load(&c.wait_errors), 0);
	ck_assert_int_eq(atomic_load(&c.lines), GOOD * ROUNDS);
	ck_assert_int_le(atomic_load(&c.max_active), 8);
	ck_assert_uint_eq(st.accepted, SLOW + GOOD);
	ck_assert_uint_le(st.peak_active, 8);
	ck_assert_uint_eq(st.active, 0);
	wk_server_free(srv);
	ctx_destroy(&c);
}
END_TEST

/*
 * Waits given a time of their own first (which idle_timeout_ms must not
 * shorten), then serves lines with waits of -1 (which it does end).
 */
static void
explicit_wait_handler(wk_socket *s, void *arg)
{
	struct ctx *c = arg;
	bool ok;
	wk_error e;

	handler_enter(c, s);
	ok = wk_socket_wait_ready_read(s, TH_PEER_MSECS);
	e = wk_socket_error(s);
	pthread_mutex_lock(&c->lock);
	if (c->ended < SEEN_MAX) {
		c->wait_result[c->ended] = ok;
		c->wait_error[c->ended] = e;
	}
	c->ended++;
	pthread_mutex_unlock(&c->lock);
	serve_lines(c, s);
	handler_leave(c);
}

/*
 * idle_timeout_ms ends only the waits given -1: a client that speaks
 * after several idle periods is still heard by an explicit wait, and is
 * cut off after it falls silent.
 */
START_TEST(test_idle_timeout_explicit_wait)
{
	wk_serve_options opt = { .idle_timeout_ms = 200 };
	struct ctx c;
	wk_server *srv;
	uint16_t port;
	int fd;

	ctx_init(&c, -1);
	srv = listening_server(&port);
	serve_ok(srv, explicit_wait_handler, &c, &opt);
	fd = connect_ok(port);
	ck_assert(ctx_wait(&c, &c.entered, 1));
	/* Silent for five idle periods (the explicit wait goes on). */
	th_sleep_ms(5 * opt.idle_timeout_ms);
	ck_assert_ptr_null(ask(fd, 12, 0, 0));
	/* Silent now: the handler's wait of -1 ends, and it closes. */
	ck_assert_msg(sees_close(fd), "the idle client was not cut off");
	close(fd);
	ck_assert(ctx_wait(&c, &c.finished, 1));
	stop_join(srv);
	pthread_mutex_lock(&c.lock);
	ck_assert_int_eq(c.ended, 1);
	ck_assert_msg(c.wait_result[0], "an explicit wait ended with %s",
	    wk_error_name(c.wait_error[0]));
	pthread_mutex_unlock(&c.lock);
	ck_assert_int_eq(atomic_load(&c.lines), 1);
	ck_assert_int_eq(atomic_load(&c.late_timeouts), 1);
	ck_assert_int_eq(atomic_load(&c.wait_errors), 0);
	assert_handlers_clean(&c);
	wk_server_free(srv);
	ctx_destroy(&c);
}
END_TEST

/* ---------------------------------------------------------------- drain */

/*
 * Handlers blocked in waits on silent clients: drain with a short grace
 * aborts their sockets (the waits fail, not by timeout) and says false.
 * The server then serves again, and a drain of quick work says true.
 */
START_TEST(test_drain_aborts_blocked)
{
	enum { BLOCKED = 3 };
	int fds[BLOCKED], fd;
	struct ctx c, q;
	wk_serve_stats st;
	wk_server *srv;
	uint16_t port;

	ctx_init(&c, TH_PEER_MSECS);
	srv = listening_server(&port);
	serve_ok(srv, waiting_handler, &c, NULL);
	for (int i = 0; i < BLOCKED; i++)
		fds[i] = connect_ok(port);
	ck_assert(ctx_wait(&c, &c.entered, BLOCKED));
	ck_assert(!wk_server_drain(srv, 100));
	/* drain returned: every handler had returned. */
	ck_assert_int_eq(atomic_load(&c.finished), BLOCKED);
	pthread_mutex_lock(&c.lock);
	ck_assert_int_eq(c.ended, BLOCKED);
	for (int i = 0; i < BLOCKED; i++) {
		ck_assert(!c.wait_result[i]);
		ck_assert_msg(c.wait_error[i] != WK_SOCKET_TIMEOUT &&
		    c.wait_error[i] != WK_NO_ERROR,
		    "an aborted wait ended with %s",
		    wk_error_name(c.wait_error[i]));
	}
	pthread_mutex_unlock(&c.lock);
	st = stats_of(srv);
	ck_assert_uint_eq(st.active, 0);
	ck_assert_uint_eq(st.accepted, BLOCKED);
	for (int i = 0; i < BLOCKED; i++) {
		ck_assert_msg(sees_close(fds[i]), "client %d not closed", i);
		close(fds[i]);
	}
	assert_handlers_clean(&c);
	/* An ordinary listening server again: it serves anew. */
	ck_assert(wk_server_is_listening(srv));
	ctx_init(&q, TH_PEER_MSECS);
	serve_ok(srv, lines_handler, &q, NULL);
	fd = connect_ok(port);
	ck_assert_ptr_null(ask(fd, 1, 1, 1));
	close(fd);
	ck_assert(ctx_wait(&q, &q.finished, 1));
	ck_assert(wk_server_drain(srv, TH_WAIT_MSECS));
	assert_handlers_clean(&q);
	wk_server_free(srv);
	ctx_destroy(&c);
	ctx_destroy(&q);
}
END_TEST

struct drainer {
	pthread_t thread;
	wk_server *srv;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done, result;
};

static void *
drain_in_thread(void *arg)
{
	struct drainer *d = arg;
	bool ok = wk_server_drain(d->srv, TH_WAIT_MSECS);

	pthread_mutex_lock(&d->lock);
	d->result = ok;
	d->done = true;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

/*
 * Quick handlers: drain says true.  One of them is still running when
 * the drain begins (it is let go at about the same time), and it
 * finishes well within the grace.
 */
START_TEST(test_drain_quick)
{
	struct drainer d = { .lock = PTHREAD_MUTEX_INITIALIZER,
	    .cond = PTHREAD_COND_INITIALIZER };
	struct timespec until;
	struct ctx c;
	wk_server *srv;
	uint16_t port;
	int fd, rc = 0;

	ctx_init(&c, TH_PEER_MSECS);
	srv = listening_server(&port);
	serve_ok(srv, lines_handler, &c, NULL);
	for (int i = 0; i < 5; i++) {
		fd = connect_ok(port);
		ck_assert_ptr_null(ask(fd, 2, i, 0));
		close(fd);
	}
	ck_assert(ctx_wait(&c, &c.finished, 5));
	ck_assert(wk_server_drain(srv, TH_WAIT_MSECS));
	ck_assert(wk_server_drain(srv, 0));	/* nothing runs: true */
	assert_handlers_clean(&c);
	ctx_destroy(&c);

	/* A handler still running as the drain begins. */
	ctx_init(&c, TH_PEER_MSECS);
	serve_ok(srv, gated_handler, &c, NULL);
	fd = connect_ok(port);
	ck_assert(ctx_wait(&c, &c.entered, 1));
	d.srv = srv;
	ck_assert_int_eq(pthread_create(&d.thread, NULL, drain_in_thread, &d),
	    0);
	ctx_release(&c);
	ck_assert_ptr_null(ask(fd, 3, 0, 0));
	close(fd);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += TH_WAIT_MSECS / 1000 + 10;
	pthread_mutex_lock(&d.lock);
	while (!d.done && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&d.cond, &d.lock, &until);
	pthread_mutex_unlock(&d.lock);
	ck_assert_msg(d.done, "wk_server_drain did not return");
	pthread_join(d.thread, NULL);
	ck_assert(d.result);
	ck_assert_int_eq(atomic_load(&c.finished), 1);
	ck_assert_int_eq(atomic_load(&c.lines), 1);
	assert_handlers_clean(&c);
	ck_assert_uint_eq(stats_of(srv).active, 0);
	wk_server_free(srv);
	ctx_destroy(&c);
}
END_TEST

/* ---------------------------------------------------------------- stop, join */

static wk_server *signal_server;

static void
on_sigusr1(int sig)
{
	(void)sig;
	wk_server_stop(signal_server);
}

/* Raises SIGUSR1, whose handler stops srv. */
static void
stop_from_signal(wk_server *srv)
{
	struct sigaction sa, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigusr1;
	sigemptyset(&sa.sa_mask);
	signal_server = srv;
	ck_assert_int_eq(sigaction(SIGUSR1, &sa, &old), 0);
	ck_assert_int_eq(raise(SIGUSR1), 0);
	sigaction(SIGUSR1, &old, NULL);
	signal_server = NULL;
}

START_TEST(test_stop_join)
{
	struct ctx c;
	wk_serve_stats st;
	wk_server *srv;
	wk_socket *s;
	uint16_t port, cport;
	char text[64], line[LINE_MAX_LEN];
	bool timed_out = true;
	int fd;

	ctx_init(&c, TH_PEER_MSECS);
	srv = listening_server(&port);
	/* Before any serve: stop does nothing, join has nothing to wait. */
	wk_server_stop(srv);
	ck_assert(wk_server_join(srv, 0));
	serve_ok(srv, lines_handler, &c, NULL);
	fd = connect_ok(port);
	ck_assert_ptr_null(ask(fd, 4, 0, 0));
	close(fd);
	wk_server_stop(srv);
	wk_server_stop(srv);	/* idempotent */
	ck_assert(wk_server_join(srv, TH_WAIT_MSECS));
	ck_assert(wk_server_join(srv, 0));
	st = stats_of(srv);
	ck_assert_uint_eq(st.accepted, 1);
	ck_assert_uint_eq(st.active, 0);
	ck_assert_int_eq(atomic_load(&c.finished), 1);
	/*
	 * Stopped and joined: nobody accepts any more, the listener stays
	 * open, and the server is an ordinary one for blocking use.
	 */
	ck_assert(wk_server_is_listening(srv));
	fd = connect_ok(port);
	ck_assert(th_sock_name(fd, false, text, sizeof(text), &cport));
	ck_assert_msg(wk_server_wait_new_connection(srv, TH_WAIT_MSECS,
	    &timed_out), "wait_new_connection: %s",
	    wk_server_error_string(srv));
	s = wk_server_next_pending(srv);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(wk_socket_peer_port(s), cport);
	ck_assert_int_eq(th_write_all(fd, "q 5\n", 4), 0);
	while (wk_socket_read_line(s, line, sizeof(line)) == 0)
		ck_assert(wk_socket_wait_ready_read(s, TH_WAIT_MSECS));
	ck_assert_str_eq(line, "q 5\n");
	wk_socket_free(s);
	close(fd);
	ck_assert_uint_eq(stats_of(srv).accepted, 1);
	ck_assert_int_eq(atomic_load(&c.entered), 1);
	assert_handlers_clean(&c);
	ctx_destroy(&c);

	/* wk_server_stop from a signal handler. */
	ctx_init(&c, TH_PEER_MSECS);
	serve_ok(srv, lines_handler, &c, NULL);
	fd = connect_ok(port);
	ck_assert_ptr_null(ask(fd, 5, 1, 0));
	close(fd);
	stop_from_signal(srv);
	ck_assert_msg(wk_server_join(srv, TH_WAIT_MSECS),
	    "a stop from a signal handler did not stop the server");
	/* Whether counters restart with a serve is not said: 1 or 2. */
	ck_assert_uint_ge(stats_of(srv).accepted, 1);
	ck_assert_uint_le(stats_of(srv).accepted, 2);
	assert_handlers_clean(&c);
	ctx_destroy(&c);

	/* join waits for running handlers too, not just the thread. */
	ctx_init(&c, TH_PEER_MSECS);
	serve_ok(srv, gated_handler, &c, NULL);
	fd = connect_ok(port);
	ck_assert(ctx_wait(&c, &c.entered, 1));
	wk_server_stop(srv);
	ck_assert(!wk_server_join(srv, 0));
	ck_assert(!wk_server_join(srv, 50));
	ck_assert_uint_eq(stats_of(srv).active, 1);
	ctx_release(&c);
	ck_assert_ptr_null(ask(fd, 6, 0, 0));
	close(fd);
	ck_assert(wk_server_join(srv, TH_WAIT_MSECS));
	ck_assert_uint_eq(stats_of(srv).active, 0);
	assert_handlers_clean(&c);
	wk_server_free(srv);
	ctx_destroy(&c);
}
END_TEST

/* ---------------------------------------------------------------- start */

static void
echo_lines_ready_read(wk_socket *s, void *arg)
{
	struct ctx *c = arg;
	char line[LINE_MAX_LEN];
	ssize_t n;

	while ((n = wk_socket_read_line(s, line, sizeof(line))) > 0) {
		/* Counted before the answer goes: the client may look. */
		atomic_fetch_add(&c->lines, 1);
		line[0] = 'a';
		if (wk_socket_write(s, line, (size_t)n) != n)
			atomic_fetch_add(&c->bad, 1);
	}
}

static const wk_socket_handlers echo_handlers = {
	.ready_read = echo_lines_ready_read,
};

/*
 * wk_server_start(): the callback gets each connection on the server's
 * thread, CONNECTED, from the client.  The first two it serves inline
 * and frees; the others it hands to a socket thread of their own.
 */
static void
on_new_connection(wk_socket *s, void *arg)
{
	struct ctx *c = arg;
	wk_addr peer = wk_socket_peer_address(s);
	int i;

	if (pthread_equal(pthread_self(), c->test_thread))
		atomic_fetch_add(&c->on_test_thread, 1);
	pthread_mutex_lock(&c->lock);
	i = c->calls++;
	if (i < SEEN_MAX) {
		c->states[i] = wk_socket_state(s);
		c->peer_ports[i] = wk_socket_peer_port(s);
		c->peer_loopback[i] = wk_addr_is_loopback(&peer);
	}
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	if (i < 2) {
		handler_enter(c, s);
		serve_lines(c, s);
		handler_leave(c);
		wk_socket_free(s);
		return;
	}
	if (!wk_socket_start(s, &echo_handlers, c)) {
		atomic_fetch_add(&c->bad, 1);
		wk_socket_free(s);
		return;
	}
	pthread_mutex_lock(&c->lock);
	if (c->nstarted < SEEN_MAX)
		c->started[c->nstarted++] = s;
	pthread_mutex_unlock(&c->lock);
}

START_TEST(test_start_callback)
{
	enum { CLIENTS = 4 };
	uint16_t port, cports[CLIENTS];
	char text[64];
	struct ctx c;
	wk_server *srv;
	int fd;

	ctx_init(&c, TH_PEER_MSECS);
	srv = listening_server(&port);
	ck_assert_msg(wk_server_start(srv, on_new_connection, &c),
	    "start: %s", wk_server_error_string(srv));
	for (int i = 0; i < CLIENTS; i++) {
		fd = connect_ok(port);
		ck_assert(th_sock_name(fd, false, text, sizeof(text),
		    &cports[i]));
		ck_assert_ptr_null(ask(fd, 7, i, 0));
		ck_assert_ptr_null(ask(fd, 7, i, 1));
		close(fd);
		if (i < 2)	/* served inline: its end is seen */
			ck_assert(ctx_wait(&c, &c.finished, i + 1));
	}
	stop_join(srv);
	assert_handlers_clean(&c);
	ck_assert_int_eq(c.calls, CLIENTS);
	for (int i = 0; i < CLIENTS; i++) {
		ck_assert_msg(c.states[i] == WK_STATE_CONNECTED,
		    "connection %d: %s", i, wk_state_name(c.states[i]));
		ck_assert_uint_eq(c.peer_ports[i], cports[i]);
		ck_assert(c.peer_loopback[i]);
	}
	ck_assert_int_eq(c.nstarted, CLIENTS - 2);
	for (int i = 0; i < c.nstarted; i++)
		wk_socket_free(c.started[i]);	/* stop, join, free */
	ck_assert_int_eq(atomic_load(&c.lines), CLIENTS * 2);
	ck_assert_uint_eq(stats_of(srv).accepted, CLIENTS);
	wk_server_free(srv);
	ctx_destroy(&c);
}
END_TEST

/* ---------------------------------------------------------------- arguments */

START_TEST(test_bad_arguments)
{
	wk_serve_options opt = { 0 };
	wk_server *srv = wk_server_new(), *idle;
	wk_serve_stats st;
	struct ctx c;
	uint16_t port;
	int fd;

	ck_assert_ptr_nonnull(srv);
	ctx_init(&c, TH_PEER_MSECS);
	/* NULL server. */
	ck_assert(!wk_server_serve(NULL, lines_handler, &c, NULL));
	ck_assert(!wk_server_start(NULL, on_new_connection, &c));
	ck_assert(!wk_server_stats(NULL, &st));
	wk_server_stop(NULL);
	(void)wk_server_join(NULL, 0);
	(void)wk_server_drain(NULL, 0);
	/* Not listening. */
	ck_assert(!wk_server_serve(srv, lines_handler, &c, NULL));
	assert_srv_error(srv, WK_OPERATION);
	ck_assert(!wk_server_start(srv, on_new_connection, &c));
	assert_srv_error(srv, WK_OPERATION);
	wk_server_free(srv);
	/* A stack below PTHREAD_STACK_MIN. */
	srv = listening_server(&port);
	opt.stack_size = (size_t)PTHREAD_STACK_MIN - 1;
	ck_assert(!wk_server_serve(srv, lines_handler, &c, &opt));
	assert_srv_error(srv, WK_INVALID_ARGUMENT);
	opt.stack_size = 1;
	ck_assert(!wk_server_serve(srv, lines_handler, &c, &opt));
	assert_srv_error(srv, WK_INVALID_ARGUMENT);
	ck_assert(wk_server_is_listening(srv));
	/* The minimum itself is taken. */
	opt.stack_size = (size_t)PTHREAD_STACK_MIN;
	serve_ok(srv, lines_handler, &c, &opt);
	stop_join(srv);
	/* A stack of our choosing, serving. */
	opt.stack_size = 256 * 1024;
	serve_ok(srv, lines_handler, &c, &opt);
	fd = connect_ok(port);
	ck_assert_ptr_null(ask(fd, 8, 0, 0));
	close(fd);
	ck_assert(ctx_wait(&c, &c.finished, 1));
	stop_join(srv);
	assert_handlers_clean(&c);
	wk_server_free(srv);
	/* A listening server that never served: all counters zero. */
	idle = listening_server(&port);
	st = stats_of(idle);
	ck_assert_uint_eq(st.accepted, 0);
	ck_assert_uint_eq(st.refused_by_limit, 0);
	ck_assert_uint_eq(st.thread_failures, 0);
	ck_assert_uint_eq(st.active, 0);
	ck_assert_uint_eq(st.peak_active, 0);
	ck_assert(wk_server_join(idle, 0));
	wk_server_free(idle);
	ctx_destroy(&c);
}
END_TEST

/* ---------------------------------------------------------------- stats */

START_TEST(test_stats)
{
	enum { CLIENTS = 5, ROUNDS = 2 };
	struct ctx c;
	wk_serve_stats st;
	wk_server *srv;
	uint16_t port;

	ctx_init(&c, TH_PEER_MSECS);
	srv = listening_server(&port);
	serve_ok(srv, lines_handler, &c, NULL);
	for (int i = 0; i < CLIENTS; i++) {
		int fd = connect_ok(port);

		for (int r = 0; r < ROUNDS; r++)
			ck_assert_ptr_null(ask(fd, 10, i, r));
		/*
		 * This client's handler has answered it, so the connection
		 * was accepted: the counter must say so (and active, which
		 * counts that handler, must not run ahead of accepted).
		 */
		st = stats_of(srv);
		ck_assert_msg(st.accepted == (uint64_t)i + 1,
		    "client %d was answered by its handler, yet accepted is "
		    "%llu (active %u)", i + 1,
		    (unsigned long long)st.accepted, st.active);
		ck_assert_uint_ge(st.active, 1);
		ck_assert_uint_le(st.active, (unsigned)i + 1);
		close(fd);
		ck_assert(ctx_wait(&c, &c.finished, i + 1));
	}
	stop_join(srv);
	st = stats_of(srv);
	ck_assert_uint_eq(st.accepted, CLIENTS);
	ck_assert_uint_eq(st.active, 0);
	ck_assert_uint_ge(st.peak_active, 1);
	ck_assert_uint_le(st.peak_active, CLIENTS);
	ck_assert_uint_eq(st.refused_by_limit, 0);
	ck_assert_uint_eq(st.thread_failures, 0);
	ck_assert_int_eq(atomic_load(&c.lines), CLIENTS * ROUNDS);
	assert_handlers_clean(&c);
	/* Another serve (whether counters restart then is not said). */
	serve_ok(srv, lines_handler, &c, NULL);
	{
		int fd = connect_ok(port);

		ck_assert_ptr_null(ask(fd, 11, 0, 0));
		close(fd);
	}
	ck_assert(ctx_wait(&c, &c.finished, CLIENTS + 1));
	stop_join(srv);
	st = stats_of(srv);
	ck_assert(st.accepted == CLIENTS + 1 || st.accepted == 1);
	ck_assert_uint_eq(st.active, 0);
	wk_server_free(srv);
	ctx_destroy(&c);
}
END_TEST

/* ---------------------------------------------------------------- free */

/* Free of a serving server with blocked handlers: no hang, no leak. */
START_TEST(test_free_serving)
{
	enum { BLOCKED = 3 };
	int before = th_count_fds(), fds[BLOCKED];
	struct ctx c;
	wk_server *srv;
	uint16_t port;

	ck_assert_int_ge(before, 0);
	ctx_init(&c, TH_PEER_MSECS);
	srv = listening_server(&port);
	serve_ok(srv, waiting_handler, &c, NULL);
	for (int i = 0; i < BLOCKED; i++)
		fds[i] = connect_ok(port);
	ck_assert(ctx_wait(&c, &c.entered, BLOCKED));
	wk_server_free(srv);
	/* free drained with grace 0: the handlers returned before it did. */
	ck_assert_int_eq(atomic_load(&c.finished), BLOCKED);
	for (int i = 0; i < BLOCKED; i++) {
		ck_assert_msg(sees_close(fds[i]), "client %d not closed", i);
		close(fds[i]);
	}
	ck_assert_int_eq(th_count_fds(), before);
	assert_handlers_clean(&c);
	ctx_destroy(&c);

	/* And a serving server with nothing running. */
	ctx_init(&c, TH_PEER_MSECS);
	srv = listening_server(&port);
	serve_ok(srv, lines_handler, &c, NULL);
	wk_server_free(srv);
	ck_assert_int_eq(th_count_fds(), before);
	ctx_destroy(&c);
}
END_TEST

/* ---------------------------------------------------------------- main */

static TCase *
tcase(Suite *s, const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, 180);
	tcase_add_checked_fixture(tc, NULL, teardown);
	suite_add_tcase(s, tc);
	return tc;
}

int
main(void)
{
	Suite *s = suite_create("serve");
	struct rlimit rl;
	TCase *tc;
	SRunner *sr;
	int failed;

	/* The many-client test needs two descriptors a client. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	tc = tcase(s, "serve");
	tcase_add_test(tc, test_many_clients);
	tcase_add_test(tc, test_max_connections);
	tcase_add_test(tc, test_slowloris);
	tcase_add_test(tc, test_idle_timeout_explicit_wait);
	tcase_add_test(tc, test_stats);
	tc = tcase(s, "life");
	tcase_add_test(tc, test_drain_aborts_blocked);
	tcase_add_test(tc, test_drain_quick);
	tcase_add_test(tc, test_stop_join);
	tcase_add_test(tc, test_free_serving);
	tc = tcase(s, "start");
	tcase_add_test(tc, test_start_callback);
	tc = tcase(s, "api");
	tcase_add_test(tc, test_bad_arguments);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
