/*
 * serve.c - a server's own thread: it accepts and either hands each
 * connection to a callback there (wk_server_start) or runs a blocking
 * handler for it on a new thread (wk_server_serve)
 *
 * The accept thread owns the server while it runs.  It sleeps in poll()
 * on the listener and an eventfd; the eventfd is how wk_server_stop()
 * (async-signal-safe: an atomic store and a write()) and finished
 * handlers wake it.  At the connection limit it polls the eventfd alone,
 * so the clients wait in the kernel's backlog.  When accept() runs out
 * of descriptors or memory it waits for a handler to finish, or 100 ms,
 * instead of spinning on a listener that stays readable.
 *
 * Each connection of a serving server has a record in a list under the
 * lock; the socket's close hook clears the record's descriptor under
 * the same lock, so that a drain shuts down only descriptors still
 * open, never a number the kernel has given to something else.
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <wirekit/thread.h>

#include "clock.h"
#include "engine.h"
#include "server-private.h"
#include "socket-private.h"

#define DEFAULT_MAX_CONNECTIONS 1024
#define DEFAULT_STACK_SIZE (64 * 1024)
/* Sanitizers' instrumentation needs far more stack than the code does. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MIN_STACK_SIZE (1024 * 1024)
#else
#define MIN_STACK_SIZE 0
#endif
/* The least listen() backlog of a serving server. */
#define SERVE_BACKLOG 1024
/* After accept() ran out of descriptors or memory, the longest pause. */
#define BACKOFF_MS 100

struct conn {
	struct conn *prev, *next;
	struct wk__srvthread *st;
	wk_socket *s;
	int fd;				/* -1 once the handler closed it */
};

struct wk__srvthread {
	wk_server *srv;
	bool serve;			/* a thread per connection */
	wk_connection_fn fn;
	void *arg;
	unsigned max;
	size_t stack;
	int idle_ms;
	pthread_t tid;
	int efd;
	atomic_bool stopping;
	pthread_mutex_t lock;
	pthread_cond_t changed;		/* a handler or the thread ended */
	/* under lock */
	bool running, exited, reaping;
	struct conn *conns;
	wk_serve_stats stats;
};

/* ---------------------------------------------------------------- connections */

/* The socket's descriptor is about to close: a drain must not touch it. */
static void
conn_closing(wk_socket *s)
{
	struct conn *c = s->hook_ctx;

	pthread_mutex_lock(&c->st->lock);
	c->fd = -1;
	pthread_mutex_unlock(&c->st->lock);
}

static void *
conn_run(void *arg)
{
	struct conn *c = arg;
	struct wk__srvthread *st = c->st;
	wk_socket *s = c->s;

	st->fn(s, st->arg);
	pthread_mutex_lock(&st->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		st->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&st->lock);
	/* Unlisted first: the close hook must not look for the record. */
	s->close_hook = NULL;
	s->hook_ctx = NULL;
	wk_socket_free(s);
	free(c);
	/*
	 * The last touch of st, under its lock: once active reaches 0 a
	 * join may return and the record be freed.
	 */
	pthread_mutex_lock(&st->lock);
	st->stats.active--;
	pthread_cond_broadcast(&st->changed);
	wk__event_signal(st->efd);
	pthread_mutex_unlock(&st->lock);
	return NULL;
}

/*
 * A thread for s; false when none can be had now (the socket is kept
 * for another try).
 */
static bool
conn_start(struct wk__srvthread *st, wk_socket *s)
{
	struct conn *c = calloc(1, sizeof(*c));
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	if (!c)
		return false;
	c->st = st;
	c->s = s;
	c->fd = s->fd;
	s->idle_ms = st->idle_ms;
	s->close_hook = conn_closing;
	s->hook_ctx = c;
	pthread_mutex_lock(&st->lock);
	c->next = st->conns;
	if (c->next)
		c->next->prev = c;
	st->conns = c;
	st->stats.accepted++;
	if (++st->stats.active > st->stats.peak_active)
		st->stats.peak_active = st->stats.active;
	/* The limit reached: accepting pauses until a handler ends. */
	if (st->stats.active == st->max)
		st->stats.refused_by_limit++;
	pthread_mutex_unlock(&st->lock);
	rc = pthread_attr_init(&attr);
	if (rc == 0) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&attr, st->stack);
		rc = pthread_create(&t, &attr, conn_run, c);
		pthread_attr_destroy(&attr);
	}
	pthread_mutex_lock(&st->lock);
	if (rc == 0) {
		pthread_mutex_unlock(&st->lock);
		return true;
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		st->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	st->stats.active--;
	st->stats.accepted--;	/* it will be counted when it starts */
	st->stats.thread_failures++;
	pthread_mutex_unlock(&st->lock);
	s->close_hook = NULL;
	s->hook_ctx = NULL;
	free(c);
	return false;
}

/* ---------------------------------------------------------------- accepting */

static unsigned
active(struct wk__srvthread *st)
{
	unsigned n;

	pthread_mutex_lock(&st->lock);
	n = st->stats.active;
	pthread_mutex_unlock(&st->lock);
	return n;
}

/* Sleeps on the eventfd (and the listener when listen is set). */
static bool
sleep_on(struct wk__srvthread *st, bool listen, int msecs)
{
	struct pollfd fds[2] = {
		{ .fd = st->efd, .events = POLLIN },
		{ .fd = listen ? st->srv->fd : -1, .events = POLLIN },
	};
	int ready;

	if (wk__fd_poll(fds, 2, wk__deadline(msecs), &ready) != 0)
		return false;
	if (fds[0].revents & POLLIN)
		wk__event_clear(st->efd);
	return (fds[1].revents & POLLIN) != 0;
}

static void *
accept_run(void *arg)
{
	struct wk__srvthread *st = arg;
	wk_server *srv = st->srv;
	wk_socket *s = NULL;

	pthread_setname_np(pthread_self(), st->serve ? "wk-serve" :
	    "wk-server");
	while (!atomic_load(&st->stopping)) {
		if (st->serve && active(st) >= st->max) {
			/* At the limit: clients wait in the backlog. */
			sleep_on(st, false, -1);
			continue;
		}
		if (!s && !(s = wk_server_next_pending(srv))) {
			if (srv->err.code != WK_NO_ERROR && srv->fd >= 0) {
				/* Out of descriptors or memory: not a spin. */
				sleep_on(st, false, BACKOFF_MS);
				continue;
			}
			if (srv->fd < 0)
				break;
			sleep_on(st, true, -1);
			continue;
		}
		if (!st->serve) {
			pthread_mutex_lock(&st->lock);
			st->stats.accepted++;
			pthread_mutex_unlock(&st->lock);
			st->fn(s, st->arg);
			s = NULL;
			continue;
		}
		if (conn_start(st, s)) {
			s = NULL;
			continue;
		}
		/* No thread now: try again when a handler ends, or soon. */
		sleep_on(st, false, BACKOFF_MS);
	}
	wk_socket_free(s);	/* accepted during the stop: closed */
	pthread_mutex_lock(&st->lock);
	st->exited = true;
	pthread_cond_broadcast(&st->changed);
	pthread_mutex_unlock(&st->lock);
	return NULL;
}

/* ---------------------------------------------------------------- joining */

/* Until the thread exited and no handler runs, or the deadline. */
static bool
join(struct wk__srvthread *st, int64_t deadline)
{
	struct timespec ts;
	bool reap;

	pthread_mutex_lock(&st->lock);
	while (!st->exited || st->stats.active) {
		if (deadline == WK__FOREVER) {
			pthread_cond_wait(&st->changed, &st->lock);
			continue;
		}
		if (wk__now_ns() >= deadline)
			break;
		ts.tv_sec = (time_t)(deadline / 1000000000LL);
		ts.tv_nsec = (long)(deadline % 1000000000LL);
		pthread_cond_timedwait(&st->changed, &st->lock, &ts);
	}
	if (!st->exited || st->stats.active) {
		pthread_mutex_unlock(&st->lock);
		return false;
	}
	reap = st->running && !st->reaping;
	if (reap)
		st->reaping = true;
	pthread_mutex_unlock(&st->lock);
	if (reap) {
		pthread_join(st->tid, NULL);
		pthread_mutex_lock(&st->lock);
		st->running = false;
		st->reaping = false;
		pthread_mutex_unlock(&st->lock);
	}
	return true;
}

/* Shuts down every connection still open: their handlers' calls fail. */
static void
abort_all(struct wk__srvthread *st)
{
	pthread_mutex_lock(&st->lock);
	for (struct conn *c = st->conns; c; c = c->next)
		if (c->fd >= 0)
			wk__fd_shutdown(c->fd);
	pthread_mutex_unlock(&st->lock);
}

static bool
drain(struct wk__srvthread *st, int grace_msecs)
{
	atomic_store(&st->stopping, true);
	wk__event_signal(st->efd);
	if (join(st, wk__deadline(grace_msecs)))
		return true;
	abort_all(st);
	join(st, WK__FOREVER);
	return false;
}

static void
destroy(struct wk__srvthread *st)
{
	wk__fd_close(st->efd);
	pthread_cond_destroy(&st->changed);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

static void
free_hook(wk_server *srv)
{
	struct wk__srvthread *st = srv->thread;

	if (st->running)
		drain(st, 0);
	srv->thread = NULL;
	srv->free_hook = NULL;
	destroy(st);
}

/* ---------------------------------------------------------------- API */

static bool
begin(wk_server *srv, bool serve, wk_connection_fn fn, void *arg,
    const wk_serve_options *opt)
{
	const char *what = serve ? "serve" : "start";
	struct wk__srvthread *st;
	pthread_condattr_t cattr;
	sigset_t all, old;
	size_t stack;
	int rc;

	if (!srv)
		return false;
	wk__err_clear(&srv->err);
	if (!fn) {
		wk__err_set(&srv->err, WK_INVALID_ARGUMENT,
		    "%s: the handler is NULL", what);
		return false;
	}
	if (opt && opt->stack_size && opt->stack_size < (size_t)PTHREAD_STACK_MIN) {
		wk__err_set(&srv->err, WK_INVALID_ARGUMENT, "%s: a stack of "
		    "%zu bytes is below PTHREAD_STACK_MIN (%zu)", what,
		    opt->stack_size, (size_t)PTHREAD_STACK_MIN);
		return false;
	}
	if (opt && opt->idle_timeout_ms < 0) {
		wk__err_set(&srv->err, WK_INVALID_ARGUMENT,
		    "%s: idle timeout %d ms", what, opt->idle_timeout_ms);
		return false;
	}
	if (srv->fd < 0) {
		wk__err_set(&srv->err, WK_OPERATION,
		    "%s: the server is not listening", what);
		return false;
	}
	/* A thread that was stopped but not joined is collected first. */
	if (srv->thread && srv->thread->running &&
	    !join(srv->thread, wk__deadline(0))) {
		wk__err_set(&srv->err, WK_OPERATION,
		    "%s: the server is running already", what);
		return false;
	}
	if (!(st = srv->thread)) {
		if (!(st = calloc(1, sizeof(*st)))) {
			wk__err_set_sys(&srv->err, ENOMEM, "%s", what);
			return false;
		}
		if ((rc = wk__event_new(&st->efd)) != 0) {
			free(st);
			wk__err_set_sys(&srv->err, rc, "%s", what);
			return false;
		}
		pthread_mutex_init(&st->lock, NULL);
		pthread_condattr_init(&cattr);
		pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
		pthread_cond_init(&st->changed, &cattr);
		pthread_condattr_destroy(&cattr);
		st->srv = srv;
		srv->thread = st;
		srv->free_hook = free_hook;
	}
	stack = opt && opt->stack_size ? opt->stack_size : DEFAULT_STACK_SIZE;
	st->serve = serve;
	st->fn = fn;
	st->arg = arg;
	st->max = opt && opt->max_connections ? opt->max_connections :
	    DEFAULT_MAX_CONNECTIONS;
#if MIN_STACK_SIZE > 0
	if (stack < MIN_STACK_SIZE)
		stack = MIN_STACK_SIZE;
#endif
	st->stack = stack;
	st->idle_ms = opt ? opt->idle_timeout_ms : 0;
	/*
	 * Clients wait in the backlog at the limit: a thread-per-connection
	 * server wants a longer one than Qt's 50 (the kernel caps it at
	 * net.core.somaxconn).
	 */
	if (serve)
		(void)wk__fd_listen(srv->fd, st->max > SERVE_BACKLOG ?
		    (int)(st->max > INT_MAX ? INT_MAX : st->max) : SERVE_BACKLOG);
	atomic_store(&st->stopping, false);
	st->exited = false;
	wk__event_clear(st->efd);
	st->running = true;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&st->tid, NULL, accept_run, st);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		st->running = false;
		wk__err_set(&srv->err, WK_SOCKET_RESOURCE,
		    "%s: no thread for the server: %s", what, strerror(rc));
		return false;
	}
	return true;
}

bool
wk_server_start(wk_server *srv, wk_connection_fn on_new_connection, void *arg)
{
	return begin(srv, false, on_new_connection, arg, NULL);
}

bool
wk_server_serve(wk_server *srv, wk_connection_fn handler, void *arg,
    const wk_serve_options *options)
{
	return begin(srv, true, handler, arg, options);
}

void
wk_server_stop(wk_server *srv)
{
	struct wk__srvthread *st;

	if (!srv || !(st = srv->thread))
		return;
	atomic_store(&st->stopping, true);
	wk__event_signal(st->efd);
}

bool
wk_server_join(wk_server *srv, int msecs)
{
	if (!srv)
		return false;
	if (!srv->thread)
		return true;
	return join(srv->thread, wk__deadline(msecs));
}

bool
wk_server_drain(wk_server *srv, int grace_msecs)
{
	if (!srv)
		return false;
	if (!srv->thread)
		return true;
	return drain(srv->thread, grace_msecs);
}

bool
wk_server_stats(const wk_server *srv, wk_serve_stats *stats)
{
	struct wk__srvthread *st;

	if (!srv || !stats)
		return false;
	if (!(st = srv->thread)) {
		*stats = (wk_serve_stats){ 0 };
		return true;
	}
	pthread_mutex_lock(&st->lock);
	*stats = st->stats;
	pthread_mutex_unlock(&st->lock);
	return true;
}
