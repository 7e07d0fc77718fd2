/*
 * check_thread.c - the callback layer's socket threads (wirekit/thread.h):
 * real sockets on loopback, real threads, the peer a raw POSIX thread
 *
 * Every handler records what it saw under a lock (struct rec); the test
 * waits for what must come with a give-up limit (TH_WAIT_MSECS) and then
 * compares the whole record: the order of the events, their arguments,
 * the thread they ran on, that none was entered while another ran (an
 * atomic depth count) and that none came after stopped.  Names other
 * than literals go to the fake resolver backend (tests/tcp_helpers.h).
 *
 * No test asserts an elapsed time.  WK_TEST_SMALL=1 (valgrind) scales
 * the counts down.
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <wirekit/addr.h>
#include <wirekit/lookup.h>
#include <wirekit/socket.h>
#include <wirekit/thread.h>
#include <wirekit/udp.h>

#include "tcp_helpers.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- recorder */

enum ev_kind {
	EV_POST,		/* a posted function (value: its tag) */
	EV_HOST_FOUND,		/* value: the state inside the handler */
	EV_CONNECTED,		/* value: the state inside the handler */
	EV_READY_READ,		/* value: bytes available on entry */
	EV_BYTES_WRITTEN,	/* value: the bytes argument */
	EV_DISCONNECTED,
	EV_ERROR,		/* value: the code */
	EV_STATE,		/* value: the state argument */
	EV_STOPPED,
	EV_KINDS
};

struct ev {
	enum ev_kind kind;
	long value;
};

#define REC_MAX 4096
#define MARKS 64
#define PRODUCERS_MAX 16

struct rec;
typedef void (*rec_hook)(struct rec *r, wk_socket *s);

/*
 * What the handlers of one socket saw.  The socket's thread writes it
 * under lock, the test reads it under lock (or after a join).
 */
struct rec {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	wk_socket *s;			/* the socket the handlers must get */
	pthread_t test_thread;
	pthread_t thread;		/* the socket's thread, once seen */
	bool thread_known;
	struct ev ev[REC_MAX];
	size_t n;
	bool overflow;			/* more than REC_MAX events */
	enum ev_kind last;		/* the kind of the last event */
	unsigned long counts[EV_KINDS];
	uint64_t written;		/* the sum of bytes_written */
	/* what must never happen */
	int wrong_socket, wrong_thread, on_test_thread, after_stopped;
	atomic_int depth, reentered;
	/* stopped ran and returned: the thread no longer touches us */
	bool stopped, stopped_done;
	/* bytes the handlers read (TCP) */
	char *data;
	size_t data_len, data_cap;
	/* posted barriers that ran */
	int barriers;
	/* a connect by post */
	char host[64];
	uint16_t port;
	int connect_result;		/* -1 until the post ran */
	wk_error connect_error;
	wk_state connect_state;
	/* per-test behaviour */
	rec_hook on_connected, on_ready_read, on_stopped;
	/* per-test scratch, under lock */
	int calls;
	long marks[MARKS];
	int nmarks;
	int flag;
	bool release;			/* lets a blocked handler go */
	long next_seq[PRODUCERS_MAX];
	long order_errors, posts_run, posts_target;
	int bad;			/* a handler saw something wrong */
	char why[256];			/* what it was */
};

static struct rec *
rec_new(wk_socket *s)
{
	struct rec *r = calloc(1, sizeof(*r));

	ck_assert_ptr_nonnull(r);
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	r->s = s;
	r->test_thread = pthread_self();
	r->connect_result = -1;
	atomic_init(&r->depth, 0);
	atomic_init(&r->reentered, 0);
	return r;
}

static void
rec_free(struct rec *r)
{
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	free(r->data);
	free(r);
}

/* Before a second start of the same socket: a new thread, a new end. */
static void
rec_new_run(struct rec *r)
{
	pthread_mutex_lock(&r->lock);
	r->thread_known = false;
	r->stopped = r->stopped_done = false;
	pthread_mutex_unlock(&r->lock);
}

/* Notes a failure a handler saw (under lock). */
static void
rec_bad(struct rec *r, const char *what)
{
	if (r->bad++ == 0)
		snprintf(r->why, sizeof(r->why), "%s", what);
}

/* The checks of every call on the socket's thread (under lock). */
static void
rec_check_call(struct rec *r, wk_socket *s)
{
	if (s != r->s)
		r->wrong_socket++;
	if (pthread_equal(pthread_self(), r->test_thread))
		r->on_test_thread++;
	if (!r->thread_known) {
		r->thread = pthread_self();
		r->thread_known = true;
	} else if (!pthread_equal(r->thread, pthread_self())) {
		r->wrong_thread++;
	}
	if (r->stopped)
		r->after_stopped++;
}

/* A handler or posted function begins: checks, and records the event. */
static void
rec_enter(struct rec *r, wk_socket *s, enum ev_kind kind, long value)
{
	if (atomic_fetch_add(&r->depth, 1) != 0)
		atomic_fetch_add(&r->reentered, 1);
	pthread_mutex_lock(&r->lock);
	rec_check_call(r, s);
	if (r->n < REC_MAX)
		r->ev[r->n++] = (struct ev){ kind, value };
	else
		r->overflow = true;
	r->counts[kind]++;
	r->last = kind;
	if (kind == EV_BYTES_WRITTEN)
		r->written += (uint64_t)value;
	if (kind == EV_STOPPED)
		r->stopped = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

/* The same checks without an event (for thousands of posts). */
static void
rec_enter_quiet(struct rec *r, wk_socket *s)
{
	if (atomic_fetch_add(&r->depth, 1) != 0)
		atomic_fetch_add(&r->reentered, 1);
	pthread_mutex_lock(&r->lock);
	rec_check_call(r, s);
	pthread_mutex_unlock(&r->lock);
}

static void
rec_leave(struct rec *r)
{
	atomic_fetch_sub(&r->depth, 1);
}

static void
rec_append(struct rec *r, const void *buf, size_t len)
{
	pthread_mutex_lock(&r->lock);
	if (r->data_len + len + 1 > r->data_cap) {
		size_t cap = r->data_cap ? r->data_cap : 4096;
		char *p;

		while (r->data_len + len + 1 > cap)
			cap *= 2;
		if (!(p = realloc(r->data, cap))) {
			rec_bad(r, "out of memory for the data read");
			pthread_mutex_unlock(&r->lock);
			return;
		}
		r->data = p;
		r->data_cap = cap;
	}
	memcpy(r->data + r->data_len, buf, len);
	r->data_len += len;
	r->data[r->data_len] = '\0';
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

static void
rec_mark(struct rec *r, long value)
{
	pthread_mutex_lock(&r->lock);
	if (r->nmarks < MARKS)
		r->marks[r->nmarks++] = value;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

/* Reads everything there is into r->data. */
static void
rec_read_all(struct rec *r, wk_socket *s)
{
	char buf[4096];
	ssize_t n;

	while ((n = wk_socket_read(s, buf, sizeof(buf))) > 0)
		rec_append(r, buf, (size_t)n);
}

/* ---------------------------------------------------------------- handlers */

static void
h_host_found(wk_socket *s, void *arg)
{
	struct rec *r = arg;

	rec_enter(r, s, EV_HOST_FOUND, (long)wk_socket_state(s));
	rec_leave(r);
}

static void
h_connected(wk_socket *s, void *arg)
{
	struct rec *r = arg;

	rec_enter(r, s, EV_CONNECTED, (long)wk_socket_state(s));
	if (r->on_connected)
		r->on_connected(r, s);
	rec_leave(r);
}

static void
h_ready_read(wk_socket *s, void *arg)
{
	struct rec *r = arg;

	rec_enter(r, s, EV_READY_READ, (long)wk_socket_bytes_available(s));
	if (r->on_ready_read)
		r->on_ready_read(r, s);
	else
		rec_read_all(r, s);
	rec_leave(r);
}

static void
h_bytes_written(wk_socket *s, size_t bytes, void *arg)
{
	struct rec *r = arg;

	rec_enter(r, s, EV_BYTES_WRITTEN, (long)bytes);
	rec_leave(r);
}

static void
h_disconnected(wk_socket *s, void *arg)
{
	struct rec *r = arg;

	rec_enter(r, s, EV_DISCONNECTED, 0);
	rec_leave(r);
}

static void
h_error(wk_socket *s, wk_error code, void *arg)
{
	struct rec *r = arg;

	rec_enter(r, s, EV_ERROR, (long)code);
	rec_leave(r);
}

static void
h_state_changed(wk_socket *s, wk_state state, void *arg)
{
	struct rec *r = arg;

	rec_enter(r, s, EV_STATE, (long)state);
	rec_leave(r);
}

/*
 * The last call: stopped_done is set as the very last touch of r, so
 * that a test may free r once it sees it (even when it cannot join).
 */
static void
h_stopped(wk_socket *s, void *arg)
{
	struct rec *r = arg;

	rec_enter(r, s, EV_STOPPED, 0);
	if (r->on_stopped)
		r->on_stopped(r, s);
	rec_leave(r);
	pthread_mutex_lock(&r->lock);
	r->stopped_done = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

static const wk_socket_handlers all_handlers = {
	.host_found = h_host_found,
	.connected = h_connected,
	.ready_read = h_ready_read,
	.bytes_written = h_bytes_written,
	.disconnected = h_disconnected,
	.error = h_error,
	.state_changed = h_state_changed,
	.stopped = h_stopped,
};

/* ---------------------------------------------------------------- posts */

static void
post_noop(wk_socket *s, void *arg)
{
	struct rec *r = arg;

	rec_enter(r, s, EV_POST, 'N');
	rec_leave(r);
}

static void
post_barrier(wk_socket *s, void *arg)
{
	struct rec *r = arg;

	rec_enter(r, s, EV_POST, 'B');
	pthread_mutex_lock(&r->lock);
	r->barriers++;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	rec_leave(r);
}

static void
post_connect(wk_socket *s, void *arg)
{
	struct rec *r = arg;
	bool ok;

	rec_enter(r, s, EV_POST, 'C');
	ok = wk_socket_connect(s, r->host, r->port);
	pthread_mutex_lock(&r->lock);
	r->connect_result = ok;
	r->connect_error = wk_socket_error(s);
	r->connect_state = wk_socket_state(s);
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	rec_leave(r);
}

/* ---------------------------------------------------------------- waiting */

typedef bool (*rec_pred)(struct rec *r, long a, long b);

/* Waits (with a give-up limit) until pred holds; under r->lock. */
static bool
rec_wait(struct rec *r, rec_pred pred, long a, long b)
{
	struct timespec until;
	int rc = 0;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += TH_WAIT_MSECS / 1000;
	pthread_mutex_lock(&r->lock);
	while (!pred(r, a, b) && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&r->cond, &r->lock, &until);
	ok = pred(r, a, b);
	pthread_mutex_unlock(&r->lock);
	return ok;
}

static bool
pred_count(struct rec *r, long kind, long n)
{
	return r->counts[kind] >= (unsigned long)n;
}

static bool
pred_event(struct rec *r, long kind, long value)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->ev[i].kind == (enum ev_kind)kind &&
		    r->ev[i].value == value)
			return true;
	return false;
}

static bool
pred_data(struct rec *r, long len, long unused)
{
	(void)unused;
	return r->data_len >= (size_t)len;
}

static bool
pred_written(struct rec *r, long total, long unused)
{
	(void)unused;
	return r->written >= (uint64_t)total;
}

static bool
pred_barriers(struct rec *r, long n, long unused)
{
	(void)unused;
	return r->barriers >= n;
}

static bool
pred_stopped_done(struct rec *r, long unused1, long unused2)
{
	(void)unused1;
	(void)unused2;
	return r->stopped_done;
}

static bool
pred_connect_ran(struct rec *r, long unused1, long unused2)
{
	(void)unused1;
	(void)unused2;
	return r->connect_result >= 0;
}

static bool
pred_calls(struct rec *r, long n, long unused)
{
	(void)unused;
	return r->calls >= n;
}

static bool
pred_marks(struct rec *r, long n, long unused)
{
	(void)unused;
	return r->nmarks >= n;
}

static bool
pred_posts(struct rec *r, long n, long unused)
{
	(void)unused;
	return r->posts_run >= n;
}

/* ---------------------------------------------------------------- formatting */

static const char *
strip(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(name, prefix, n) == 0 ? name + n : name;
}

/*
 * The events as text, under lock; all: with posts, ready_read and
 * bytes_written too (the milestones are the rest).
 */
static void
rec_format(struct rec *r, bool all, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < r->n && len + 1 < size; i++) {
		const struct ev *e = &r->ev[i];
		char one[64];

		switch (e->kind) {
		case EV_POST:
			if (!all)
				continue;
			snprintf(one, sizeof(one), "post(%c)", (int)e->value);
			break;
		case EV_HOST_FOUND:
			snprintf(one, sizeof(one), "host_found");
			break;
		case EV_CONNECTED:
			snprintf(one, sizeof(one), "connected");
			break;
		case EV_READY_READ:
			if (!all)
				continue;
			snprintf(one, sizeof(one), "ready_read(%ld)", e->value);
			break;
		case EV_BYTES_WRITTEN:
			if (!all)
				continue;
			snprintf(one, sizeof(one), "bytes_written(%ld)",
			    e->value);
			break;
		case EV_DISCONNECTED:
			snprintf(one, sizeof(one), "disconnected");
			break;
		case EV_ERROR:
			snprintf(one, sizeof(one), "error(%s)",
			    strip(wk_error_name((wk_error)e->value), "WK_"));
			break;
		case EV_STATE:
			snprintf(one, sizeof(one), "state(%s)",
			    strip(wk_state_name((wk_state)e->value),
			    "WK_STATE_"));
			break;
		case EV_STOPPED:
			snprintf(one, sizeof(one), "stopped");
			break;
		default:
			snprintf(one, sizeof(one), "?");
			break;
		}
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
		    len ? " " : "", one);
	}
	if (len >= size)
		buf[size - 1] = '\0';
}

#define TEXT_MAX 8192

/* The milestones are one of the alternatives (NULL-terminated). */
static void
assert_milestones_v(struct rec *r, const char *const *alts)
{
	static char got[TEXT_MAX], all[TEXT_MAX];
	bool ok = false;

	pthread_mutex_lock(&r->lock);
	rec_format(r, false, got, sizeof(got));
	rec_format(r, true, all, sizeof(all));
	pthread_mutex_unlock(&r->lock);
	for (size_t i = 0; alts[i]; i++)
		if (strcmp(got, alts[i]) == 0)
			ok = true;
	ck_assert_msg(ok, "events \"%s\", want \"%s\"%s%s (all: %s)", got,
	    alts[0], alts[1] ? " or \"" : "", alts[1] ? alts[1] : "", all);
}

#define assert_milestones(r, ...) \
	do { \
		const char *const alts_[] = { __VA_ARGS__, NULL }; \
		assert_milestones_v((r), alts_); \
	} while (0)

/* Nothing a handler must never do happened. */
static void
assert_clean(struct rec *r)
{
	pthread_mutex_lock(&r->lock);
	ck_assert_msg(r->bad == 0, "a handler saw: %s", r->why);
	ck_assert_msg(r->wrong_socket == 0, "%d calls with another socket",
	    r->wrong_socket);
	ck_assert_msg(r->on_test_thread == 0, "%d calls on the test's thread",
	    r->on_test_thread);
	ck_assert_msg(r->wrong_thread == 0, "%d calls on another thread",
	    r->wrong_thread);
	ck_assert_msg(r->after_stopped == 0, "%d calls after stopped",
	    r->after_stopped);
	ck_assert_msg(atomic_load(&r->reentered) == 0,
	    "%d calls while another handler ran", atomic_load(&r->reentered));
	pthread_mutex_unlock(&r->lock);
}

/* The index of the first (or last) event of kind, -1 if none. */
static long
rec_find(struct rec *r, enum ev_kind kind, bool last)
{
	long found = -1;

	for (size_t i = 0; i < r->n; i++)
		if (r->ev[i].kind == kind) {
			found = (long)i;
			if (!last)
				break;
		}
	return found;
}

static long
rec_find_event(struct rec *r, enum ev_kind kind, long value)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->ev[i].kind == kind && r->ev[i].value == value)
			return (long)i;
	return -1;
}

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
start_ok(wk_socket *s, struct rec *r)
{
	ck_assert_msg(wk_socket_start(s, &all_handlers, r), "start: %s",
	    wk_socket_error_string(s));
	ck_assert(wk_socket_is_started(s));
}

/* Posts a connect to host:port. */
static void
post_connect_to(struct rec *r, const char *host, uint16_t port)
{
	pthread_mutex_lock(&r->lock);
	snprintf(r->host, sizeof(r->host), "%s", host);
	r->port = port;
	pthread_mutex_unlock(&r->lock);
	ck_assert(wk_socket_post(r->s, post_connect, r));
}

/* A posted function has run on the socket's thread after all before it. */
static void
sync_thread(struct rec *r)
{
	int want;

	pthread_mutex_lock(&r->lock);
	want = r->barriers + 1;
	pthread_mutex_unlock(&r->lock);
	ck_assert(wk_socket_post(r->s, post_barrier, r));
	ck_assert_msg(rec_wait(r, pred_barriers, want, 0),
	    "a posted function did not run");
}

static void
wait_count(struct rec *r, enum ev_kind kind, long n)
{
	static char all[TEXT_MAX];

	if (rec_wait(r, pred_count, kind, n))
		return;
	pthread_mutex_lock(&r->lock);
	rec_format(r, true, all, sizeof(all));
	pthread_mutex_unlock(&r->lock);
	ck_abort_msg("waited for %ld events of kind %d; events: %s", n,
	    (int)kind, all);
}

static void
wait_event(struct rec *r, enum ev_kind kind, long value)
{
	static char all[TEXT_MAX];

	if (rec_wait(r, pred_event, kind, value))
		return;
	pthread_mutex_lock(&r->lock);
	rec_format(r, true, all, sizeof(all));
	pthread_mutex_unlock(&r->lock);
	ck_abort_msg("waited for event %d (%ld); events: %s", (int)kind, value,
	    all);
}

/* Connects by post and waits for connected. */
static void
connect_by_post(struct rec *r, const char *host, uint16_t port)
{
	post_connect_to(r, host, port);
	wait_count(r, EV_CONNECTED, 1);
}

/* Stops from this thread, and joins: stopped ran once, last. */
static void
stop_join(wk_socket *s, struct rec *r)
{
	wk_socket_stop(s);
	ck_assert_msg(wk_socket_join(s, TH_WAIT_MSECS),
	    "the socket's thread did not exit");
	ck_assert(!wk_socket_is_started(s));
	ck_assert(rec_wait(r, pred_stopped_done, 0, 0));
	pthread_mutex_lock(&r->lock);
	ck_assert(r->n > 0 && r->last == EV_STOPPED);
	pthread_mutex_unlock(&r->lock);
}

/* Reads exactly len bytes through wirekit (blocking style). */
static bool
wk_read_exact(wk_socket *s, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = wk_socket_read(s, p + got, len - got);
		if (n < 0)
			return false;
		if (n == 0 && !wk_socket_wait_ready_read(s, TH_WAIT_MSECS))
			return false;
		got += (size_t)n;
	}
	return true;
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

static void
teardown(void)
{
	th_fake_uninstall();
	th_fd_restore();
}

/* ---------------------------------------------------------------- peers */

static const char *
peer_accept(th_peer *p)
{
	if ((p->fd = th_accept(p->lfd, TH_PEER_MSECS)) < 0)
		return "peer: accept failed or timed out";
	if (!th_sock_name(p->fd, true, p->peer_addr, sizeof(p->peer_addr),
	    &p->peer_port))
		return "peer: getpeername failed";
	return NULL;
}

/* Reads to EOF; fails if more than p->size bytes come (p->received). */
static const char *
peer_expect_eof(th_peer *p)
{
	char buf[4096];
	ssize_t n;

	for (;;) {
		n = recv(p->fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			return NULL;
		if (n < 0)
			return "peer: no EOF (recv failed or timed out)";
		p->received += (size_t)n;
		if (p->received > p->size)
			return "peer: more bytes than expected before EOF";
	}
}

static const char *
peer_read_is(th_peer *p, const char *want)
{
	char buf[64];
	size_t len = strlen(want);

	if (len >= sizeof(buf) || th_read_exact(p->fd, buf, len) != 0)
		return "peer: read failed";
	if (memcmp(buf, want, len) != 0)
		return "peer: read the wrong bytes";
	return NULL;
}

/* hello -> world, then EOF from the client. */
static const char *
peer_hello(th_peer *p)
{
	const char *why;

	if ((why = peer_accept(p)) || (why = peer_read_is(p, "hello\n")))
		return why;
	if (th_write_all(p->fd, "world\n", 6) != 0)
		return "peer: send failed";
	p->size = 0;
	return peer_expect_eof(p);
}

/* ping -> pong, then the peer closes. */
static const char *
peer_ping_close(th_peer *p)
{
	const char *why;

	if ((why = peer_accept(p)) || (why = peer_read_is(p, "ping\n")))
		return why;
	if (th_write_all(p->fd, "pong\n", 5) != 0)
		return "peer: send failed";
	return NULL;	/* peer_main closes p->fd */
}

/* Accepts and reads to EOF, p->size bytes at most. */
static const char *
peer_sink(th_peer *p)
{
	const char *why;

	if ((why = peer_accept(p)))
		return why;
	return peer_expect_eof(p);
}

/* ---------------------------------------------------------------- conversation */

static void
conv_connected(struct rec *r, wk_socket *s)
{
	rec_mark(r, (long)wk_socket_write(s, "hello\n", 6));
}

/* Reads; once the whole answer is in, disconnects. */
static void
conv_ready_read(struct rec *r, wk_socket *s)
{
	bool done;

	rec_read_all(r, s);
	pthread_mutex_lock(&r->lock);
	done = r->data_len >= 6 && !r->flag;
	if (done)
		r->flag = 1;
	pthread_mutex_unlock(&r->lock);
	if (done)
		wk_socket_disconnect(s);
}

/*
 * A whole conversation, the connect posted: connect, request, answer,
 * disconnect by the client.  by_name: host goes through the fake
 * resolver (HOST_LOOKUP first).
 */
static void
conversation(const char *listen_text, const char *host, bool by_name)
{
	uint16_t port = 0;
	int lfd = listen_on(listen_text, &port);
	wk_socket *s = new_socket();
	struct rec *r = rec_new(s);
	long co, bw, rr, rr_last, un;
	th_peer p;

	if (by_name) {
		const char *addrs[] = { listen_text };

		th_fake_install(host, addrs, 1, 0);
	}
	start_peer(&p, lfd, peer_hello);
	r->on_connected = conv_connected;
	r->on_ready_read = conv_ready_read;
	start_ok(s, r);
	post_connect_to(r, host, port);
	wait_count(r, EV_DISCONNECTED, 1);
	join_peer(&p);
	stop_join(s, r);

	ck_assert_int_eq(r->connect_result, 1);
	ck_assert_msg(r->connect_state == (by_name ? WK_STATE_HOST_LOOKUP :
	    WK_STATE_CONNECTING), "state after connect: %s",
	    wk_state_name(r->connect_state));
	ck_assert_int_eq(r->ev[0].kind, EV_POST);
	ck_assert_int_eq(r->ev[0].value, 'C');
	/* A plain disconnect always passes CLOSING, as Qt's does. */
	if (by_name)
		assert_milestones(r,
		    "state(HOST_LOOKUP) state(CONNECTING) host_found "
		    "state(CONNECTED) connected state(CLOSING) "
		    "state(UNCONNECTED) disconnected stopped");
	else
		assert_milestones(r,
		    "state(CONNECTING) host_found state(CONNECTED) connected "
		    "state(CLOSING) state(UNCONNECTED) disconnected stopped");
	assert_clean(r);
	/* Arguments: the states inside host_found and connected. */
	ck_assert_int_eq(r->ev[rec_find(r, EV_HOST_FOUND, false)].value,
	    WK_STATE_CONNECTING);
	ck_assert_int_eq(r->ev[rec_find(r, EV_CONNECTED, false)].value,
	    WK_STATE_CONNECTED);
	/* The request went out whole, and was reported after connected. */
	ck_assert_int_eq(r->nmarks, 1);
	ck_assert_int_eq(r->marks[0], 6);
	ck_assert_uint_eq(r->written, 6);
	co = rec_find(r, EV_CONNECTED, false);
	bw = rec_find(r, EV_BYTES_WRITTEN, false);
	rr = rec_find(r, EV_READY_READ, false);
	rr_last = rec_find(r, EV_READY_READ, true);
	un = rec_find_event(r, EV_STATE, WK_STATE_UNCONNECTED);
	ck_assert_msg(co < bw && bw < rr && rr_last < un,
	    "order: connected %ld, bytes_written %ld, ready_read %ld..%ld, "
	    "unconnected %ld", co, bw, rr, rr_last, un);
	ck_assert_uint_eq(r->counts[EV_ERROR], 0);
	ck_assert_uint_eq(r->data_len, 6);
	ck_assert_str_eq(r->data, "world\n");
	/* An ordinary socket again. */
	assert_state(s, WK_STATE_UNCONNECTED);
	wk_socket_free(s);
	rec_free(r);
	close(lfd);
}

START_TEST(test_conversation_ipv4_literal)
{
	conversation("127.0.0.1", "127.0.0.1", false);
}
END_TEST

START_TEST(test_conversation_ipv6_literal)
{
	if (!th_ipv6_loopback()) {
		fprintf(stderr, "skip: no IPv6 loopback here\n");
		return;
	}
	conversation("::1", "::1", false);
}
END_TEST

START_TEST(test_conversation_by_name)
{
	conversation("127.0.0.1", "conv.test", true);
}
END_TEST

static void
ping_connected(struct rec *r, wk_socket *s)
{
	rec_mark(r, (long)wk_socket_write(s, "ping\n", 5));
}

/* The peer answers and closes: error(REMOTE_HOST_CLOSED) first. */
START_TEST(test_conversation_peer_closes)
{
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	struct rec *r = rec_new(s);
	long rr_last, err;
	th_peer p;

	start_peer(&p, lfd, peer_ping_close);
	r->on_connected = ping_connected;
	start_ok(s, r);
	post_connect_to(r, "127.0.0.1", port);
	wait_count(r, EV_DISCONNECTED, 1);
	join_peer(&p);
	stop_join(s, r);
	assert_milestones(r,
	    "state(CONNECTING) host_found state(CONNECTED) connected "
	    "error(REMOTE_HOST_CLOSED) state(UNCONNECTED) disconnected stopped",
	    "state(CONNECTING) host_found state(CONNECTED) connected "
	    "error(REMOTE_HOST_CLOSED) state(CLOSING) state(UNCONNECTED) "
	    "disconnected stopped");
	assert_clean(r);
	ck_assert_int_eq(r->marks[0], 5);
	ck_assert_uint_eq(r->written, 5);
	/* The answer was handed over before the close was reported. */
	rr_last = rec_find(r, EV_READY_READ, true);
	err = rec_find(r, EV_ERROR, false);
	ck_assert_msg(rr_last >= 0 && rr_last < err,
	    "ready_read at %ld, error at %ld", rr_last, err);
	ck_assert_str_eq(r->data ? r->data : "", "pong\n");
	assert_state(s, WK_STATE_UNCONNECTED);
	wk_socket_free(s);
	rec_free(r);
	close(lfd);
}
END_TEST

/* An accepted (CONNECTED) socket: no connect events, then an echo. */
static void
echo_ready_read(struct rec *r, wk_socket *s)
{
	char buf[4096];
	ssize_t n;

	while ((n = wk_socket_read(s, buf, sizeof(buf))) > 0) {
		rec_append(r, buf, (size_t)n);
		if (wk_socket_write(s, buf, (size_t)n) != n) {
			pthread_mutex_lock(&r->lock);
			rec_bad(r, "echo: write failed");
			pthread_mutex_unlock(&r->lock);
		}
	}
}

/*
 * An accepted (CONNECTED) socket with input already buffered: no
 * connect events; ready_read at once for what waits, then an echo.
 */
START_TEST(test_start_accepted)
{
	wk_server *srv = wk_server_new();
	wk_addr lo;
	wk_socket *s;
	struct rec *r;
	char buf[16];
	bool timed_out = true;
	int fd;

	ck_assert_ptr_nonnull(srv);
	ck_assert(wk_addr_parse(&lo, "127.0.0.1"));
	ck_assert(wk_server_listen(srv, &lo, 0));
	fd = th_connect("127.0.0.1", wk_server_port(srv));
	ck_assert_int_ge(fd, 0);
	ck_assert(wk_server_wait_new_connection(srv, TH_WAIT_MSECS,
	    &timed_out));
	s = wk_server_next_pending(srv);
	ck_assert_ptr_nonnull(s);
	assert_state(s, WK_STATE_CONNECTED);
	/* Blocking use first: a line read, the rest left buffered. */
	ck_assert_int_eq(th_write_all(fd, "first\nsecond", 12), 0);
	while (wk_socket_bytes_available(s) < 12)
		ck_assert_msg(wk_socket_wait_ready_read(s, TH_WAIT_MSECS),
		    "wait_ready_read: %s", wk_socket_error_string(s));
	ck_assert_int_eq(wk_socket_read_line(s, buf, sizeof(buf)), 6);
	ck_assert_str_eq(buf, "first\n");
	ck_assert_uint_eq(wk_socket_bytes_available(s), 6);
	r = rec_new(s);
	r->on_ready_read = echo_ready_read;
	start_ok(s, r);
	/* What was buffered is new input to the thread. */
	ck_assert_int_eq(th_read_exact(fd, buf, 6), 0);
	ck_assert_mem_eq(buf, "second", 6);
	ck_assert_int_eq(th_write_all(fd, "echo me\n", 8), 0);
	ck_assert_int_eq(th_read_exact(fd, buf, 8), 0);
	ck_assert_mem_eq(buf, "echo me\n", 8);
	ck_assert(rec_wait(r, pred_written, 14, 0));
	close(fd);
	wait_count(r, EV_DISCONNECTED, 1);
	stop_join(s, r);
	assert_milestones(r,
	    "error(REMOTE_HOST_CLOSED) state(UNCONNECTED) disconnected stopped",
	    "error(REMOTE_HOST_CLOSED) state(CLOSING) state(UNCONNECTED) "
	    "disconnected stopped");
	assert_clean(r);
	ck_assert_int_eq(r->ev[0].kind, EV_READY_READ);
	ck_assert_int_eq(r->ev[0].value, 6);
	ck_assert_uint_eq(r->written, 14);
	ck_assert_str_eq(r->data, "secondecho me\n");
	wk_socket_free(s);
	rec_free(r);
	wk_server_free(srv);
}
END_TEST

/* ---------------------------------------------------------------- failures */

/* A closed port by literal: error(CONNECTION_REFUSED), then UNCONNECTED. */
START_TEST(test_refused_literal)
{
	uint16_t port = th_dead_port("127.0.0.1");
	wk_socket *s = new_socket();
	struct rec *r = rec_new(s);

	ck_assert_uint_ne(port, 0);
	start_ok(s, r);
	post_connect_to(r, "127.0.0.1", port);
	ck_assert(rec_wait(r, pred_connect_ran, 0, 0));
	if (r->connect_result)
		wait_event(r, EV_STATE, WK_STATE_UNCONNECTED);
	else
		sync_thread(r);
	stop_join(s, r);
	if (r->connect_result) {
		assert_milestones(r,
		    "state(CONNECTING) host_found error(CONNECTION_REFUSED) "
		    "state(UNCONNECTED) stopped");
		/* Inside host_found the state is CONNECTING (the header). */
		ck_assert_int_eq(r->ev[rec_find(r, EV_HOST_FOUND, false)].value,
		    WK_STATE_CONNECTING);
	} else {
		/* Refused inside connect(): the call says so itself. */
		static char got[TEXT_MAX];
		const char *tail = "error(CONNECTION_REFUSED) "
		    "state(UNCONNECTED) stopped";

		ck_assert_int_eq(r->connect_error, WK_CONNECTION_REFUSED);
		rec_format(r, false, got, sizeof(got));
		ck_assert_msg(strlen(got) >= strlen(tail) && strcmp(got +
		    strlen(got) - strlen(tail), tail) == 0,
		    "events \"%s\" do not end in \"%s\"", got, tail);
	}
	ck_assert_uint_eq(r->counts[EV_CONNECTED], 0);
	ck_assert_uint_eq(r->counts[EV_DISCONNECTED], 0);
	assert_clean(r);
	assert_state(s, WK_STATE_UNCONNECTED);
	wk_socket_free(s);
	rec_free(r);
}
END_TEST

/* The same by name: the refusal comes after the lookup, never inline. */
START_TEST(test_refused_by_name)
{
	uint16_t port = th_dead_port("127.0.0.1");
	const char *addrs[] = { "127.0.0.1" };
	wk_socket *s = new_socket();
	struct rec *r = rec_new(s);

	ck_assert_uint_ne(port, 0);
	th_fake_install("refused.test", addrs, 1, 0);
	start_ok(s, r);
	post_connect_to(r, "refused.test", port);
	wait_event(r, EV_STATE, WK_STATE_UNCONNECTED);
	stop_join(s, r);
	ck_assert_int_eq(r->connect_result, 1);
	assert_milestones(r,
	    "state(HOST_LOOKUP) state(CONNECTING) host_found "
	    "error(CONNECTION_REFUSED) state(UNCONNECTED) stopped");
	ck_assert_int_eq(r->ev[rec_find(r, EV_HOST_FOUND, false)].value,
	    WK_STATE_CONNECTING);
	assert_clean(r);
	assert_state(s, WK_STATE_UNCONNECTED);
	assert_error(s, WK_CONNECTION_REFUSED);
	wk_socket_free(s);
	rec_free(r);
}
END_TEST

START_TEST(test_host_not_found)
{
	const char *addrs[] = { "127.0.0.1" };
	wk_socket *s = new_socket();
	struct rec *r = rec_new(s);

	/* The fake backend answers only its own name. */
	th_fake_install("known.test", addrs, 1, 0);
	start_ok(s, r);
	post_connect_to(r, "unknown.test", 1);
	wait_event(r, EV_STATE, WK_STATE_UNCONNECTED);
	stop_join(s, r);
	ck_assert_int_eq(r->connect_result, 1);
	assert_milestones(r,
	    "state(HOST_LOOKUP) error(HOST_NOT_FOUND) state(UNCONNECTED) "
	    "stopped");
	assert_clean(r);
	assert_error(s, WK_HOST_NOT_FOUND);
	wk_socket_free(s);
	rec_free(r);
}
END_TEST

/* ---------------------------------------------------------------- ready_read */

/* Sends p->size bytes of the pattern in uneven pieces, then closes. */
static const char *
peer_send_pattern(th_peer *p)
{
	const char *why;
	char *buf;
	size_t off = 0, piece = 1;

	if ((why = peer_accept(p)))
		return why;
	if (!(buf = malloc(4096)))
		return "peer: out of memory";
	while (off < p->size) {
		size_t n = piece % 4096 + 1;

		if (n > p->size - off)
			n = p->size - off;
		th_pattern(buf, n, off, p->seed);
		if (th_write_all(p->fd, buf, n) != 0) {
			free(buf);
			return "peer: send failed";
		}
		off += n;
		piece = piece * 7 + 13;
	}
	free(buf);
	return NULL;
}

/* Reads a part only: the handler is called again while data remains. */
static void
partial_ready_read(struct rec *r, wk_socket *s)
{
	char buf[777];
	ssize_t n = wk_socket_read(s, buf, sizeof(buf));
	int calls;

	if (n > 0)
		rec_append(r, buf, (size_t)n);
	pthread_mutex_lock(&r->lock);
	calls = ++r->calls;
	pthread_mutex_unlock(&r->lock);
	/* A wider window for a second call to come in while in here. */
	if (calls % 16 == 0)
		sched_yield();
}

START_TEST(test_ready_read_partial_reads)
{
	size_t total = th_size(1024 * 1024, 128 * 1024);
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	struct rec *r = rec_new(s);
	int64_t bad;
	th_peer p;

	th_peer_init(&p, lfd);
	p.size = total;
	p.seed = 77;
	ck_assert(th_peer_start(&p, peer_send_pattern));
	r->on_ready_read = partial_ready_read;
	start_ok(s, r);
	connect_by_post(r, "127.0.0.1", port);
	ck_assert_msg(rec_wait(r, pred_data, (long)total, 0),
	    "read %zu of %zu bytes", r->data_len, total);
	wait_count(r, EV_DISCONNECTED, 1);
	join_peer(&p);
	stop_join(s, r);
	assert_clean(r);
	ck_assert_uint_eq(r->data_len, total);
	bad = th_pattern_check(r->data, r->data_len, 0, 77);
	ck_assert_msg(bad < 0, "byte %lld is wrong", (long long)bad);
	/* Each call read at most 777 bytes, so there were many. */
	ck_assert_int_ge(r->calls, (int)(total / 777));
	wk_socket_free(s);
	rec_free(r);
	close(lfd);
}
END_TEST

#define LIMIT_BYTES 1024
#define LIMIT_STEP 300

static void assert_calls_stay(struct rec *r, int want);

/* Reads at most n bytes into r->data; the bytes read. */
static ssize_t
rec_read_n(struct rec *r, wk_socket *s, size_t n)
{
	char buf[LIMIT_STEP];
	ssize_t got = wk_socket_read(s, buf, n < sizeof(buf) ? n : sizeof(buf));

	if (got > 0)
		rec_append(r, buf, (size_t)got);
	return got;
}

/*
 * With a read buffer limit: marks[0] the most bytes ever available.
 * Until r->flag is set it reads nothing (the buffer fills and stays
 * full); then LIMIT_STEP bytes a call.
 */
static void
limit_ready_read(struct rec *r, wk_socket *s)
{
	size_t avail = wk_socket_bytes_available(s);
	bool reading;

	pthread_mutex_lock(&r->lock);
	r->calls++;
	if (r->nmarks == 0)
		r->marks[r->nmarks++] = 0;
	if ((long)avail > r->marks[0])
		r->marks[0] = (long)avail;
	reading = r->flag;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	if (reading)
		rec_read_n(r, s, LIMIT_STEP);
}

static void
post_read_step(wk_socket *s, void *arg)
{
	struct rec *r = arg;

	rec_enter(r, s, EV_POST, 'R');
	rec_read_n(r, s, LIMIT_STEP);
	rec_leave(r);
}

static bool
pred_full(struct rec *r, long limit, long unused)
{
	(void)unused;
	return r->nmarks > 0 && r->marks[0] >= limit;
}

/*
 * The read buffer limit holds: the thread stops reading from the kernel
 * while the buffer is full (a handler that takes nothing is then not
 * called again), and goes on once something is taken.
 */
START_TEST(test_ready_read_buffer_limit)
{
	size_t total = th_size(256 * 1024, 32 * 1024);
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	struct rec *r = rec_new(s);
	int calls;
	int64_t bad;
	th_peer p;

	th_peer_init(&p, lfd);
	p.size = total;
	p.seed = 5;
	ck_assert(th_peer_start(&p, peer_send_pattern));
	ck_assert(wk_socket_set_read_buffer_size(s, LIMIT_BYTES));
	r->on_ready_read = limit_ready_read;
	start_ok(s, r);
	connect_by_post(r, "127.0.0.1", port);
	ck_assert_msg(rec_wait(r, pred_full, LIMIT_BYTES, 0),
	    "the buffer never filled to its limit");
	/* Full, nothing taken: no more calls. */
	pthread_mutex_lock(&r->lock);
	calls = r->calls;
	pthread_mutex_unlock(&r->lock);
	assert_calls_stay(r, calls);
	/* Something taken by a posted function: reading goes on. */
	pthread_mutex_lock(&r->lock);
	r->flag = 1;
	pthread_mutex_unlock(&r->lock);
	ck_assert(wk_socket_post(s, post_read_step, r));
	ck_assert_msg(rec_wait(r, pred_data, (long)total, 0),
	    "read %zu of %zu bytes", r->data_len, total);
	wait_count(r, EV_DISCONNECTED, 1);
	join_peer(&p);
	stop_join(s, r);
	assert_clean(r);
	ck_assert_msg(r->marks[0] == LIMIT_BYTES, "%ld bytes available at "
	    "once, the limit is %d", r->marks[0], LIMIT_BYTES);
	ck_assert_uint_eq(r->data_len, total);
	bad = th_pattern_check(r->data, r->data_len, 0, 5);
	ck_assert_msg(bad < 0, "byte %lld is wrong", (long long)bad);
	wk_socket_free(s);
	rec_free(r);
	close(lfd);
}
END_TEST

/* Sends "A", "B", "C" and closes, each on the test's signal. */
static const char *
peer_abc(th_peer *p)
{
	const char *why;

	if ((why = peer_accept(p)))
		return why;
	for (int i = 0; i < 3; i++) {
		if (!th_peer_wait_signal(p, i + 1, TH_PEER_MSECS))
			return "peer: no signal from the test";
		if (th_write_all(p->fd, &"ABC"[i], 1) != 0)
			return "peer: send failed";
	}
	if (!th_peer_wait_signal(p, 4, TH_PEER_MSECS))
		return "peer: no signal from the test";
	return NULL;
}

/*
 * The re-fire rule: call 1 sees "A" and reads nothing; call 2 (after
 * "B" came) sees 2 and reads 1; call 3 comes at once (it consumed, data
 * remains), sees 1 and reads nothing; call 4 (after "C") sees 2, reads 2.
 * marks: the bytes available in each call.
 */
static void
refire_ready_read(struct rec *r, wk_socket *s)
{
	size_t avail = wk_socket_bytes_available(s);
	char buf[4];
	int call;

	pthread_mutex_lock(&r->lock);
	call = ++r->calls;
	if (r->nmarks < MARKS)
		r->marks[r->nmarks++] = (long)avail;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	if (call == 2 && wk_socket_read(s, buf, 1) == 1)
		rec_append(r, buf, 1);
	if (call == 4 && wk_socket_read(s, buf, 2) == 2)
		rec_append(r, buf, 2);
}

/* No more calls come: a few round trips through the thread, a pause. */
static void
assert_calls_stay(struct rec *r, int want)
{
	for (int i = 0; i < 3; i++)
		sync_thread(r);
	th_sleep_ms(100);
	sync_thread(r);
	pthread_mutex_lock(&r->lock);
	ck_assert_msg(r->calls == want, "ready_read called %d times, want %d",
	    r->calls, want);
	pthread_mutex_unlock(&r->lock);
}

START_TEST(test_ready_read_refire_rule)
{
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	struct rec *r = rec_new(s);
	th_peer p;

	start_peer(&p, lfd, peer_abc);
	r->on_ready_read = refire_ready_read;
	start_ok(s, r);
	connect_by_post(r, "127.0.0.1", port);
	th_peer_signal(&p);			/* "A" */
	ck_assert(rec_wait(r, pred_calls, 1, 0));
	assert_calls_stay(r, 1);		/* it read nothing */
	th_peer_signal(&p);			/* "B" */
	ck_assert_msg(rec_wait(r, pred_calls, 3, 0),
	    "ready_read not called again after a partial read (%d calls)",
	    r->calls);
	assert_calls_stay(r, 3);
	th_peer_signal(&p);			/* "C" */
	ck_assert(rec_wait(r, pred_calls, 4, 0));
	assert_calls_stay(r, 4);		/* it read everything */
	th_peer_signal(&p);			/* close */
	join_peer(&p);
	wait_count(r, EV_DISCONNECTED, 1);
	stop_join(s, r);
	assert_clean(r);
	ck_assert_int_eq(r->calls, 4);
	ck_assert_int_eq(r->nmarks, 4);
	ck_assert_int_eq(r->marks[0], 1);
	ck_assert_int_eq(r->marks[1], 2);
	ck_assert_int_eq(r->marks[2], 1);
	ck_assert_int_eq(r->marks[3], 2);
	ck_assert_str_eq(r->data, "ABC");
	wk_socket_free(s);
	rec_free(r);
	close(lfd);
}
END_TEST

/* Q1 -> A1, Q2 -> A2, Q3 -> A3, then EOF from the client. */
static const char *
peer_questions(th_peer *p)
{
	const char *why;
	char q[4], a[4];

	if ((why = peer_accept(p)))
		return why;
	for (int i = 1; i <= 3; i++) {
		snprintf(q, sizeof(q), "Q%d\n", i);
		snprintf(a, sizeof(a), "A%d\n", i);
		if (th_write_all(p->fd, q, 3) != 0)
			return "peer: send failed";
		if ((why = peer_read_is(p, a)))
			return why;
	}
	p->size = 0;
	return peer_expect_eof(p);
}

/*
 * Answers each line; after Q1 it waits for Q2 with the blocking
 * wk_socket_wait_ready_read() inside the handler (Qt's waitForReadyRead
 * in a slot).  marks: [0] the wait's result, [1] its error; after Q3 it
 * disconnects.
 */
static void
questions_ready_read(struct rec *r, wk_socket *s)
{
	char line[16], answer[4];
	ssize_t n;

	while ((n = wk_socket_read_line(s, line, sizeof(line))) > 0) {
		if (n != 3 || line[0] != 'Q') {
			pthread_mutex_lock(&r->lock);
			rec_bad(r, "a line that is no question");
			pthread_mutex_unlock(&r->lock);
			return;
		}
		snprintf(answer, sizeof(answer), "A%c\n", line[1]);
		if (wk_socket_write(s, answer, 3) != 3) {
			pthread_mutex_lock(&r->lock);
			rec_bad(r, "write of an answer failed");
			pthread_mutex_unlock(&r->lock);
		}
		if (line[1] == '1') {
			bool ok = wk_socket_wait_ready_read(s, TH_WAIT_MSECS);

			rec_mark(r, ok);
			rec_mark(r, (long)wk_socket_error(s));
		}
		if (line[1] == '3')
			wk_socket_disconnect(s);
	}
}

START_TEST(test_wait_inside_ready_read)
{
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	struct rec *r = rec_new(s);
	th_peer p;

	start_peer(&p, lfd, peer_questions);
	r->on_ready_read = questions_ready_read;
	start_ok(s, r);
	post_connect_to(r, "127.0.0.1", port);
	wait_count(r, EV_DISCONNECTED, 1);
	join_peer(&p);
	stop_join(s, r);
	assert_clean(r);
	ck_assert_int_eq(r->nmarks, 2);
	ck_assert_msg(r->marks[0] == 1, "the wait inside ready_read: %s",
	    wk_error_name((wk_error)r->marks[1]));
	ck_assert_uint_eq(r->written, 9);
	ck_assert_uint_eq(r->counts[EV_ERROR], 0);
	assert_milestones(r,
	    "state(CONNECTING) host_found state(CONNECTED) connected "
	    "state(CLOSING) state(UNCONNECTED) disconnected stopped");
	wk_socket_free(s);
	rec_free(r);
	close(lfd);
}
END_TEST

/* ---------------------------------------------------------------- UDP */

struct dgram_seen {
	int seq;
	uint16_t port;
	bool from_ok;
};

/* Reads every datagram there is; marks: the sequence numbers. */
static void
udp_ready_read(struct rec *r, wk_socket *s)
{
	char buf[128];
	wk_addr from, lo;
	uint16_t port;
	ssize_t n;

	wk_addr_parse(&lo, "127.0.0.1");
	for (;;) {
		int seq;

		n = wk_udp_read_datagram(s, buf, sizeof(buf) - 1, &from, &port);
		if (n < 0) {
			if (wk_socket_error(s) != WK_TEMPORARY) {
				pthread_mutex_lock(&r->lock);
				rec_bad(r, "read_datagram failed, not WK_TEMPORARY");
				pthread_mutex_unlock(&r->lock);
			}
			break;
		}
		buf[n] = '\0';
		pthread_mutex_lock(&r->lock);
		if (sscanf(buf, "dgram %d", &seq) != 1)
			rec_bad(r, "a datagram that is not ours");
		else if (seq != r->calls)
			rec_bad(r, "a datagram out of order or lost");
		if (!wk_addr_equal(&from, &lo, WK_ADDR_CMP_STRICT) ||
		    port != r->port)
			rec_bad(r, "a datagram from the wrong sender");
		r->calls++;
		pthread_cond_broadcast(&r->cond);
		pthread_mutex_unlock(&r->lock);
	}
}

START_TEST(test_udp_ready_read)
{
	int total = (int)th_size(400, 60), batch = 10, fd;
	wk_socket *u = wk_udp_socket();
	struct sockaddr_in to = { .sin_family = AF_INET }, me = to;
	socklen_t len = sizeof(me);
	struct rec *r;
	wk_addr lo;

	ck_assert_ptr_nonnull(u);
	ck_assert(wk_addr_parse(&lo, "127.0.0.1"));
	ck_assert_msg(wk_socket_bind(u, &lo, 0, WK_DEFAULT_FOR_PLATFORM),
	    "bind: %s", wk_socket_error_string(u));
	assert_state(u, WK_STATE_BOUND);
	/* The sender: a raw socket on 127.0.0.1 with a known port. */
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&me, sizeof(me)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&me, &len), 0);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	to.sin_port = htons(wk_socket_local_port(u));
	r = rec_new(u);
	r->port = ntohs(me.sin_port);
	r->on_ready_read = udp_ready_read;
	start_ok(u, r);
	/* In batches, so that the receive buffer never overflows. */
	for (int sent = 0; sent < total;) {
		for (int i = 0; i < batch && sent < total; i++, sent++) {
			char msg[32];
			int n = snprintf(msg, sizeof(msg), "dgram %d", sent);

			ck_assert_int_eq(sendto(fd, msg, (size_t)n, 0,
			    (struct sockaddr *)&to, sizeof(to)), n);
		}
		ck_assert_msg(rec_wait(r, pred_calls, sent, 0),
		    "%d of %d datagrams read", r->calls, sent);
	}
	stop_join(u, r);
	assert_clean(r);
	/* BOUND all along: no state events. */
	assert_milestones(r, "stopped");
	ck_assert_int_eq(r->calls, total);
	ck_assert_uint_ge(r->counts[EV_READY_READ], 1);
	ck_assert_uint_eq(r->counts[EV_ERROR], 0);
	assert_state(u, WK_STATE_BOUND);
	close(fd);
	wk_socket_free(u);
	rec_free(r);
}
END_TEST

/* ---------------------------------------------------------------- posts */

struct post_item {
	struct rec *r;
	int producer;
	long seq;
};

static void
post_seq(wk_socket *s, void *arg)
{
	struct post_item *it = arg;
	struct rec *r = it->r;

	rec_enter_quiet(r, s);
	pthread_mutex_lock(&r->lock);
	if (it->seq != r->next_seq[it->producer])
		r->order_errors++;
	r->next_seq[it->producer] = it->seq + 1;
	if (++r->posts_run >= r->posts_target)
		pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	rec_leave(r);
}

struct producer {
	pthread_t thread;
	wk_socket *s;
	struct post_item *items;
	long count;
	long failures;
	pthread_barrier_t *go;
};

static void *
post_producer(void *arg)
{
	struct producer *p = arg;

	pthread_barrier_wait(p->go);
	for (long i = 0; i < p->count; i++)
		if (!wk_socket_post(p->s, post_seq, &p->items[i]))
			p->failures++;
	return NULL;
}

/* 10,000 posts from 4 threads: each thread's run in its order. */
START_TEST(test_post_order)
{
	enum { THREADS = 4 };
	long per = (long)th_size(2500, 250);
	wk_socket *s = new_socket();
	struct rec *r = rec_new(s);
	struct producer prod[THREADS];
	struct post_item *items = calloc((size_t)(THREADS * per),
	    sizeof(*items));
	pthread_barrier_t go;

	ck_assert_ptr_nonnull(items);
	r->posts_target = THREADS * per;
	start_ok(s, r);
	pthread_barrier_init(&go, NULL, THREADS);
	for (int t = 0; t < THREADS; t++) {
		prod[t] = (struct producer){ .s = s, .items = items + t * per,
		    .count = per, .go = &go };
		for (long i = 0; i < per; i++)
			prod[t].items[i] = (struct post_item){ r, t, i };
		ck_assert_int_eq(pthread_create(&prod[t].thread, NULL,
		    post_producer, &prod[t]), 0);
	}
	for (int t = 0; t < THREADS; t++) {
		pthread_join(prod[t].thread, NULL);
		ck_assert_int_eq(prod[t].failures, 0);
	}
	pthread_barrier_destroy(&go);
	ck_assert_msg(rec_wait(r, pred_posts, THREADS * per, 0),
	    "%ld of %ld posts ran", r->posts_run, THREADS * per);
	stop_join(s, r);
	assert_clean(r);
	ck_assert_int_eq(r->posts_run, THREADS * per);
	ck_assert_int_eq(r->order_errors, 0);
	for (int t = 0; t < THREADS; t++)
		ck_assert_int_eq(r->next_seq[t], per);
	wk_socket_free(s);
	rec_free(r);
	free(items);
}
END_TEST

struct tagged {
	struct rec *r;
	long tag;
};

static void
post_tag(wk_socket *s, void *arg)
{
	struct tagged *t = arg;

	rec_enter(t->r, s, EV_POST, 'T');
	rec_mark(t->r, t->tag);
	rec_leave(t->r);
}

/* Delayed posts run in deadline order; no time is asserted. */
START_TEST(test_post_delayed_order)
{
	static const long delays[] = { 300, 100, 200, 0 };
	wk_socket *s = new_socket();
	struct rec *r = rec_new(s);
	struct tagged t[16];
	int k = 0;

	start_ok(s, r);
	for (size_t i = 0; i < COUNT(delays); i++, k++) {
		t[k] = (struct tagged){ r, delays[i] };
		ck_assert(wk_socket_post_delayed(s, (int)delays[i], post_tag,
		    &t[k]));
	}
	ck_assert_msg(rec_wait(r, pred_marks, 4, 0), "%d of 4 ran",
	    r->nmarks);
	ck_assert_int_eq(r->marks[0], 0);
	ck_assert_int_eq(r->marks[1], 100);
	ck_assert_int_eq(r->marks[2], 200);
	ck_assert_int_eq(r->marks[3], 300);
	/* Equal delays: post order.  A negative delay is 0. */
	for (int i = 1; i <= 5; i++, k++) {
		t[k] = (struct tagged){ r, 1000 + i };
		ck_assert(wk_socket_post_delayed(s, 50, post_tag, &t[k]));
	}
	ck_assert_msg(rec_wait(r, pred_marks, 9, 0), "%d of 9 ran",
	    r->nmarks);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(r->marks[4 + i], 1001 + i);
	t[k] = (struct tagged){ r, -5 };
	ck_assert(wk_socket_post_delayed(s, -5, post_tag, &t[k++]));
	ck_assert(rec_wait(r, pred_marks, 10, 0));
	ck_assert_int_eq(r->marks[9], -5);
	/*
	 * A post far in the future is dropped when the thread stops, and
	 * the join does not wait for it.
	 */
	t[k] = (struct tagged){ r, 9999 };
	ck_assert(wk_socket_post_delayed(s, 600000, post_tag, &t[k++]));
	stop_join(s, r);
	assert_clean(r);
	ck_assert_int_eq(r->nmarks, 10);
	wk_socket_free(s);
	rec_free(r);
}
END_TEST

/* ---------------------------------------------------------------- write_async */

#define CHUNK_MAGIC 0x574b4348u	/* "WKCH" */
#define CHUNK_HEADER 24
#define CHUNK_PAYLOAD_MAX 2000

/* Chunk header: magic u32, producer u16, len u16, seq u32, pad, sum u64. */
static size_t
chunk_make(uint8_t *buf, unsigned producer, uint32_t seq)
{
	uint16_t len = (uint16_t)(1 + (seq * 7919u + producer * 31u) %
	    CHUNK_PAYLOAD_MAX), prod16 = (uint16_t)producer;
	uint32_t magic = CHUNK_MAGIC, pad = 0;
	uint64_t sum;

	th_pattern(buf + CHUNK_HEADER, len, (uint64_t)seq * CHUNK_PAYLOAD_MAX,
	    producer + 1);
	sum = th_sum(TH_SUM_INIT, buf + CHUNK_HEADER, len);
	memcpy(buf, &magic, 4);
	memcpy(buf + 4, &prod16, 2);
	memcpy(buf + 6, &len, 2);
	memcpy(buf + 8, &seq, 4);
	memcpy(buf + 12, &pad, 4);
	memcpy(buf + 16, &sum, 8);
	return CHUNK_HEADER + len;
}

struct chunk_check {
	unsigned producers;
	uint32_t per;
	uint32_t next[PRODUCERS_MAX];
	uint64_t bytes;
};

/* Reads every chunk, checks each and the order per producer. */
static const char *
peer_chunks(th_peer *p)
{
	struct chunk_check *cc = p->arg;
	uint8_t *buf = malloc(CHUNK_HEADER + CHUNK_PAYLOAD_MAX);
	uint64_t want = (uint64_t)cc->producers * cc->per;
	const char *why;

	if (!buf)
		return "peer: out of memory";
	if ((why = peer_accept(p))) {
		free(buf);
		return why;
	}
	for (uint64_t got = 0; got < want; got++) {
		uint32_t magic, seq;
		uint16_t prod, len;
		uint64_t sum;

		if (th_read_exact(p->fd, buf, CHUNK_HEADER) != 0) {
			why = "peer: a chunk header did not come";
			break;
		}
		memcpy(&magic, buf, 4);
		memcpy(&prod, buf + 4, 2);
		memcpy(&len, buf + 6, 2);
		memcpy(&seq, buf + 8, 4);
		memcpy(&sum, buf + 16, 8);
		if (magic != CHUNK_MAGIC || prod >= cc->producers ||
		    len == 0 || len > CHUNK_PAYLOAD_MAX) {
			why = "peer: a broken chunk header (interleaved?)";
			break;
		}
		if (seq != cc->next[prod]) {
			why = "peer: a producer's chunks out of order";
			break;
		}
		if (th_read_exact(p->fd, buf + CHUNK_HEADER, len) != 0) {
			why = "peer: a chunk's payload did not come";
			break;
		}
		if (th_sum(TH_SUM_INIT, buf + CHUNK_HEADER, len) != sum ||
		    th_pattern_check(buf + CHUNK_HEADER, len,
		    (uint64_t)seq * CHUNK_PAYLOAD_MAX, prod + 1u) >= 0) {
			why = "peer: a chunk's payload is wrong";
			break;
		}
		cc->next[prod]++;
		cc->bytes += CHUNK_HEADER + len;
	}
	free(buf);
	return why;	/* peer_main closes the connection */
}

struct writer {
	pthread_t thread;
	wk_socket *s;
	unsigned id;
	uint32_t count;
	long failures;
	pthread_barrier_t *go;
};

static void *
async_writer(void *arg)
{
	struct writer *w = arg;
	uint8_t *buf = malloc(CHUNK_HEADER + CHUNK_PAYLOAD_MAX);

	if (!buf) {
		w->failures = -1;
		return NULL;
	}
	pthread_barrier_wait(w->go);
	for (uint32_t seq = 0; seq < w->count; seq++) {
		size_t n = chunk_make(buf, w->id, seq);

		if (!wk_socket_write_async(w->s, buf, n))
			w->failures++;
		/* The buffer is copied: scribbling on it changes nothing. */
		memset(buf, 0xee, n);
		if (seq % 97 == 0 && !wk_socket_write_async(w->s, buf, 0))
			w->failures++;
	}
	free(buf);
	return NULL;
}

START_TEST(test_write_async_many_threads)
{
	enum { WRITERS = 8 };
	uint32_t per = (uint32_t)th_size(2000, 100);
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	struct rec *r = rec_new(s);
	struct writer w[WRITERS];
	struct chunk_check cc = { .producers = WRITERS, .per = per };
	uint64_t total = 0;
	uint8_t *buf = malloc(CHUNK_HEADER + CHUNK_PAYLOAD_MAX);
	pthread_barrier_t go;
	th_peer p;

	ck_assert_ptr_nonnull(buf);
	for (unsigned i = 0; i < WRITERS; i++)
		for (uint32_t seq = 0; seq < per; seq++)
			total += chunk_make(buf, i, seq);
	free(buf);
	th_peer_init(&p, lfd);
	p.arg = &cc;
	ck_assert(th_peer_start(&p, peer_chunks));
	start_ok(s, r);
	connect_by_post(r, "127.0.0.1", port);
	pthread_barrier_init(&go, NULL, WRITERS);
	for (unsigned i = 0; i < WRITERS; i++) {
		w[i] = (struct writer){ .s = s, .id = i, .count = per,
		    .go = &go };
		ck_assert_int_eq(pthread_create(&w[i].thread, NULL,
		    async_writer, &w[i]), 0);
	}
	for (unsigned i = 0; i < WRITERS; i++) {
		pthread_join(w[i].thread, NULL);
		ck_assert_int_eq(w[i].failures, 0);
	}
	pthread_barrier_destroy(&go);
	join_peer(&p);
	ck_assert_uint_eq(cc.bytes, total);
	for (unsigned i = 0; i < WRITERS; i++)
		ck_assert_uint_eq(cc.next[i], per);
	/* Every byte was reported by bytes_written. */
	ck_assert_msg(rec_wait(r, pred_written, (long)total, 0),
	    "bytes_written reported %llu of %llu",
	    (unsigned long long)r->written, (unsigned long long)total);
	stop_join(s, r);
	assert_clean(r);
	ck_assert_uint_eq(r->written, total);
	wk_socket_free(s);
	rec_free(r);
	close(lfd);
}
END_TEST

/* ---------------------------------------------------------------- stop */

/* Sends "x", expects "y\n", answers "z\n", then expects EOF. */
static const char *
peer_xyz(th_peer *p)
{
	const char *why;

	if ((why = peer_accept(p)))
		return why;
	if (th_write_all(p->fd, "x", 1) != 0)
		return "peer: send failed";
	if ((why = peer_read_is(p, "y\n")))
		return why;
	if (th_write_all(p->fd, "z\n", 2) != 0)
		return "peer: send failed";
	p->size = 0;
	return peer_expect_eof(p);
}

/* Stops from inside; marks: [0] a post after stop, [1] the index. */
static void
stop_ready_read(struct rec *r, wk_socket *s)
{
	bool first;

	rec_read_all(r, s);
	pthread_mutex_lock(&r->lock);
	first = !r->flag;
	r->flag = 1;
	pthread_mutex_unlock(&r->lock);
	if (!first)
		return;
	wk_socket_stop(s);
	wk_socket_stop(s);	/* idempotent */
	rec_mark(r, wk_socket_post(s, post_noop, r));
	pthread_mutex_lock(&r->lock);
	if (r->nmarks < MARKS)
		r->marks[r->nmarks++] = (long)r->n;	/* the next event */
	pthread_mutex_unlock(&r->lock);
}

START_TEST(test_stop_from_handler)
{
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	struct rec *r = rec_new(s);
	char buf[2];
	th_peer p;

	start_peer(&p, lfd, peer_xyz);
	r->on_ready_read = stop_ready_read;
	start_ok(s, r);
	post_connect_to(r, "127.0.0.1", port);
	ck_assert(rec_wait(r, pred_stopped_done, 0, 0));
	ck_assert(wk_socket_join(s, TH_WAIT_MSECS));
	ck_assert(!wk_socket_is_started(s));
	assert_clean(r);
	ck_assert_int_eq(r->nmarks, 2);
	ck_assert_msg(r->marks[0] == 0, "a post after stop was taken");
	/* stopped came right after the handler that stopped. */
	ck_assert_int_eq(r->marks[1], (long)r->n - 1);
	ck_assert_int_eq(r->ev[r->n - 1].kind, EV_STOPPED);
	ck_assert_int_eq(r->ev[r->n - 2].kind, EV_READY_READ);
	ck_assert_uint_eq(r->counts[EV_STOPPED], 1);
	ck_assert_str_eq(r->data, "x");
	/* Plain blocking calls work again. */
	assert_state(s, WK_STATE_CONNECTED);
	ck_assert(!wk_socket_post(s, post_noop, r));
	ck_assert_int_eq(wk_socket_write(s, "y\n", 2), 2);
	ck_assert_msg(wk_read_exact(s, buf, 2), "read after join: %s",
	    wk_socket_error_string(s));
	ck_assert_mem_eq(buf, "z\n", 2);
	disconnect_ok(s);
	join_peer(&p);
	wk_socket_free(s);
	rec_free(r);
	close(lfd);
}
END_TEST

START_TEST(test_stop_from_outside)
{
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	struct rec *r = rec_new(s);
	th_peer p;

	th_peer_init(&p, lfd);
	p.size = 3;
	ck_assert(th_peer_start(&p, peer_sink));
	start_ok(s, r);
	connect_by_post(r, "127.0.0.1", port);
	sync_thread(r);
	wk_socket_stop(s);
	wk_socket_stop(s);
	ck_assert(wk_socket_join(s, TH_WAIT_MSECS));
	ck_assert(wk_socket_join(s, TH_WAIT_MSECS));
	ck_assert(wk_socket_join(s, 0));
	ck_assert(!wk_socket_is_started(s));
	ck_assert(rec_wait(r, pred_stopped_done, 0, 0));
	/* Stopped: nothing is taken any more. */
	ck_assert(!wk_socket_post(s, post_noop, r));
	ck_assert(!wk_socket_post_delayed(s, 0, post_noop, r));
	ck_assert(!wk_socket_write_async(s, "abc", 3));
	wk_socket_stop(s);
	assert_clean(r);
	assert_milestones(r, "state(CONNECTING) host_found state(CONNECTED) "
	    "connected stopped");
	ck_assert_uint_eq(r->counts[EV_STOPPED], 1);
	/* The connection is still there, for blocking use. */
	assert_state(s, WK_STATE_CONNECTED);
	ck_assert_int_eq(wk_socket_write(s, "abc", 3), 3);
	disconnect_ok(s);
	join_peer(&p);
	ck_assert_uint_eq(p.received, 3);
	wk_socket_free(s);
	rec_free(r);
	close(lfd);
}
END_TEST

/* Blocks until r->release (with a give-up limit); marks: released. */
static void
blocking_ready_read(struct rec *r, wk_socket *s)
{
	struct timespec until;
	int rc = 0;

	rec_read_all(r, s);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += TH_WAIT_MSECS / 1000;
	pthread_mutex_lock(&r->lock);
	while (!r->release && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&r->cond, &r->lock, &until);
	if (r->nmarks < MARKS)
		r->marks[r->nmarks++] = r->release;
	pthread_mutex_unlock(&r->lock);
}

static void
release_handler(struct rec *r)
{
	pthread_mutex_lock(&r->lock);
	r->release = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

/* Sends "x" and reads to EOF. */
static const char *
peer_x_then_sink(th_peer *p)
{
	const char *why;

	if ((why = peer_accept(p)))
		return why;
	if (th_write_all(p->fd, "x", 1) != 0)
		return "peer: send failed";
	return peer_expect_eof(p);
}

/* A stop while a handler runs: the handler finishes, then stopped. */
START_TEST(test_stop_while_handler_runs)
{
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	struct rec *r = rec_new(s);
	th_peer p;

	start_peer(&p, lfd, peer_x_then_sink);
	r->on_ready_read = blocking_ready_read;
	start_ok(s, r);
	post_connect_to(r, "127.0.0.1", port);
	wait_count(r, EV_READY_READ, 1);
	wk_socket_stop(s);
	/* Not exited: the handler is still in there. */
	ck_assert(!wk_socket_join(s, 0));
	release_handler(r);
	ck_assert(wk_socket_join(s, TH_WAIT_MSECS));
	ck_assert(rec_wait(r, pred_stopped_done, 0, 0));
	assert_clean(r);
	ck_assert_int_eq(r->nmarks, 1);
	ck_assert_int_eq(r->marks[0], 1);
	ck_assert_int_eq(r->ev[r->n - 1].kind, EV_STOPPED);
	ck_assert_int_eq(r->ev[r->n - 2].kind, EV_READY_READ);
	disconnect_ok(s);
	join_peer(&p);
	wk_socket_free(s);
	rec_free(r);
	close(lfd);
}
END_TEST

/* ---------------------------------------------------------------- join */

START_TEST(test_join_semantics)
{
	wk_socket *s = new_socket();
	struct rec *r = rec_new(s);

	/* Never started: true at once. */
	ck_assert(wk_socket_join(s, 0));
	ck_assert(wk_socket_join(s, TH_WAIT_MSECS));
	start_ok(s, r);
	sync_thread(r);
	/* Running and not stopped: the join gives up. */
	ck_assert(!wk_socket_join(s, 0));
	ck_assert(!wk_socket_join(s, 50));
	ck_assert(wk_socket_is_started(s));
	sync_thread(r);		/* still running: posts run */
	stop_join(s, r);
	ck_assert(wk_socket_join(s, 0));
	ck_assert_uint_eq(r->counts[EV_STOPPED], 1);
	/* The same socket starts again, on a new thread. */
	rec_new_run(r);
	start_ok(s, r);
	sync_thread(r);
	stop_join(s, r);
	ck_assert_uint_eq(r->counts[EV_STOPPED], 2);
	ck_assert_int_eq(r->barriers, 3);
	ck_assert_uint_eq(r->counts[EV_POST], 3);
	assert_clean(r);
	wk_socket_free(s);
	rec_free(r);
}
END_TEST

/* ---------------------------------------------------------------- free */

/* Free of a running socket from another thread: stop, join, free. */
START_TEST(test_free_from_other_thread)
{
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	struct rec *r = rec_new(s);
	th_peer p;

	start_peer(&p, lfd, peer_sink);
	start_ok(s, r);
	connect_by_post(r, "127.0.0.1", port);
	sync_thread(r);
	wk_socket_free(s);
	/* stopped ran before the free returned; the peer sees the close. */
	pthread_mutex_lock(&r->lock);
	ck_assert(r->stopped_done);
	pthread_mutex_unlock(&r->lock);
	join_peer(&p);
	assert_clean(r);
	ck_assert_int_eq(r->ev[r->n - 1].kind, EV_STOPPED);
	ck_assert_uint_eq(r->counts[EV_DISCONNECTED], 0);
	rec_free(r);
	close(lfd);
}
END_TEST

struct freer {
	pthread_t thread;
	wk_socket *s;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
};

static void *
free_in_thread(void *arg)
{
	struct freer *f = arg;

	wk_socket_free(f->s);
	pthread_mutex_lock(&f->lock);
	f->done = true;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

/* Free from another thread while a handler runs: it waits for it. */
START_TEST(test_free_while_handler_runs)
{
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	struct rec *r = rec_new(s);
	struct freer f = { .s = s, .lock = PTHREAD_MUTEX_INITIALIZER,
	    .cond = PTHREAD_COND_INITIALIZER };
	struct timespec until;
	int rc = 0;
	th_peer p;

	start_peer(&p, lfd, peer_x_then_sink);
	r->on_ready_read = blocking_ready_read;
	start_ok(s, r);
	post_connect_to(r, "127.0.0.1", port);
	wait_count(r, EV_READY_READ, 1);
	ck_assert_int_eq(pthread_create(&f.thread, NULL, free_in_thread, &f),
	    0);
	release_handler(r);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += TH_WAIT_MSECS / 1000;
	pthread_mutex_lock(&f.lock);
	while (!f.done && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&f.cond, &f.lock, &until);
	pthread_mutex_unlock(&f.lock);
	ck_assert_msg(f.done, "wk_socket_free did not return");
	pthread_join(f.thread, NULL);
	join_peer(&p);
	assert_clean(r);
	ck_assert(r->stopped_done);
	ck_assert_int_eq(r->marks[0], 1);
	ck_assert_int_eq(r->ev[r->n - 1].kind, EV_STOPPED);
	rec_free(r);
	close(lfd);
}
END_TEST

/* Frees its own socket; marks: [0] the code after the free ran. */
static void
free_ready_read(struct rec *r, wk_socket *s)
{
	rec_read_all(r, s);
	wk_socket_free(s);
	/* The socket lives until this returns; the handler goes on. */
	rec_mark(r, 1);
}

START_TEST(test_free_from_handler)
{
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.1", &port);
	wk_socket *s = new_socket();
	struct rec *r = rec_new(s);
	th_peer p;

	start_peer(&p, lfd, peer_x_then_sink);
	r->on_ready_read = free_ready_read;
	start_ok(s, r);
	post_connect_to(r, "127.0.0.1", port);
	ck_assert(rec_wait(r, pred_stopped_done, 0, 0));
	/* The socket is freed: its connection closes. */
	join_peer(&p);
	assert_clean(r);
	ck_assert_int_eq(r->nmarks, 1);
	ck_assert_int_eq(r->ev[r->n - 1].kind, EV_STOPPED);
	ck_assert_int_eq(r->ev[r->n - 2].kind, EV_READY_READ);
	ck_assert_uint_eq(r->counts[EV_STOPPED], 1);
	ck_assert_uint_eq(r->counts[EV_DISCONNECTED], 0);
	ck_assert_str_eq(r->data, "x");
	rec_free(r);
	close(lfd);
}
END_TEST

/* ---------------------------------------------------------------- api */

/* Starts the socket again from its own thread; marks: result, error. */
static void
post_start_again(wk_socket *s, void *arg)
{
	struct rec *r = arg;
	bool ok;

	rec_enter(r, s, EV_POST, 'S');
	ok = wk_socket_start(s, &all_handlers, r);
	rec_mark(r, ok);
	rec_mark(r, (long)wk_socket_error(s));
	rec_leave(r);
}

START_TEST(test_bad_input)
{
	wk_socket *s = new_socket();
	struct rec *r = rec_new(s);
	char byte = 'x';

	/* NULL socket. */
	ck_assert(!wk_socket_start(NULL, &all_handlers, r));
	ck_assert(!wk_socket_is_started(NULL));
	ck_assert(!wk_socket_post(NULL, post_noop, r));
	ck_assert(!wk_socket_post_delayed(NULL, 0, post_noop, r));
	ck_assert(!wk_socket_write_async(NULL, &byte, 1));
	wk_socket_stop(NULL);
	(void)wk_socket_join(NULL, 0);
	/* Never started: nothing is taken, stop and join are no-ops. */
	ck_assert(!wk_socket_is_started(s));
	ck_assert(!wk_socket_post(s, post_noop, r));
	ck_assert(!wk_socket_post_delayed(s, 10, post_noop, r));
	ck_assert(!wk_socket_write_async(s, &byte, 1));
	wk_socket_stop(s);
	ck_assert(wk_socket_join(s, 0));
	/* Started. */
	start_ok(s, r);
	/*
	 * Started twice: asked on the socket's own thread (another thread
	 * may not call wk_socket_start on a started socket at all).
	 */
	ck_assert(!wk_socket_write_async(s, NULL, 5));
	ck_assert(wk_socket_write_async(s, &byte, 0));
	ck_assert(wk_socket_post(s, post_start_again, r));
	ck_assert(rec_wait(r, pred_marks, 2, 0));
	ck_assert_int_eq(r->marks[0], 0);
	ck_assert_msg(r->marks[1] == WK_OPERATION, "start twice: %s",
	    wk_error_name((wk_error)r->marks[1]));
	stop_join(s, r);
	/* Nothing was queued or connected: no events but stopped. */
	assert_milestones(r, "stopped");
	ck_assert_uint_eq(r->counts[EV_BYTES_WRITTEN], 0);
	assert_clean(r);
	assert_state(s, WK_STATE_UNCONNECTED);
	ck_assert_int_eq(wk_socket_bytes_to_write(s), 0);
	/* handlers may be NULL: posts still run. */
	rec_new_run(r);
	ck_assert(wk_socket_start(s, NULL, NULL));
	sync_thread(r);
	wk_socket_stop(s);
	ck_assert(wk_socket_join(s, TH_WAIT_MSECS));
	ck_assert(!wk_socket_is_started(s));
	wk_socket_free(s);
	rec_free(r);
}
END_TEST

/* ---------------------------------------------------------------- main */

static TCase *
tcase(Suite *s, const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, NULL, teardown);
	suite_add_tcase(s, tc);
	return tc;
}

int
main(void)
{
	Suite *s = suite_create("thread");
	TCase *tc;
	SRunner *sr;
	int failed;

	tc = tcase(s, "events");
	tcase_add_test(tc, test_conversation_ipv4_literal);
	tcase_add_test(tc, test_conversation_ipv6_literal);
	tcase_add_test(tc, test_conversation_by_name);
	tcase_add_test(tc, test_conversation_peer_closes);
	tcase_add_test(tc, test_start_accepted);
	tcase_add_test(tc, test_refused_literal);
	tcase_add_test(tc, test_refused_by_name);
	tcase_add_test(tc, test_host_not_found);
	tc = tcase(s, "ready_read");
	tcase_add_test(tc, test_ready_read_partial_reads);
	tcase_add_test(tc, test_ready_read_refire_rule);
	tcase_add_test(tc, test_ready_read_buffer_limit);
	tcase_add_test(tc, test_wait_inside_ready_read);
	tcase_add_test(tc, test_udp_ready_read);
	tc = tcase(s, "posts");
	tcase_add_test(tc, test_post_order);
	tcase_add_test(tc, test_post_delayed_order);
	tcase_add_test(tc, test_write_async_many_threads);
	tc = tcase(s, "life");
	tcase_add_test(tc, test_stop_from_handler);
	tcase_add_test(tc, test_stop_from_outside);
	tcase_add_test(tc, test_stop_while_handler_runs);
	tcase_add_test(tc, test_join_semantics);
	tcase_add_test(tc, test_free_from_other_thread);
	tcase_add_test(tc, test_free_while_handler_runs);
	tcase_add_test(tc, test_free_from_handler);
	tcase_add_test(tc, test_bad_input);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	/* With CK_FORK=no the resolver pool ran here; let valgrind see it go. */
	wk_resolver_shutdown();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
