/*
 * thread.c - the callback layer: a socket on a thread of its own, which
 * sleeps in poll() on the socket and an eventfd and calls the program's
 * handlers (Qt's signals) there
 *
 * The socket thread owns the socket while it runs.  Other threads reach
 * it only through the post queue, the timer list and the write queue,
 * all under the thread's lock, and wake it through the eventfd.  Events
 * are found by looking, after every step and every handler: the state
 * changes socket.c logged, and its byte counters.  Nothing is called
 * from inside another wirekit call, so handlers may call anything.
 *
 * The record (struct wk__sthread) lives from the first start until the
 * socket is freed, so that posts after a stop fail cleanly instead of
 * touching freed memory.
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <wirekit/thread.h>

#include "clock.h"
#include "engine.h"
#include "socket-private.h"

/*
 * A posted function, or (fn NULL) bytes of wk_socket_write_async(): one
 * queue for both, so that bytes written after a post are appended after
 * the posted function ran, as in Qt's one event queue.
 */
struct post {
	struct post *next;
	wk_socket_fn fn;
	void *arg;
	int64_t due;			/* timers: when */
	size_t len;
	char data[];
};

struct wk__sthread {
	wk_socket *s;
	wk_socket_handlers h;
	void *arg;
	pthread_t tid;
	int efd;			/* wakes the thread */
	int epfd;			/* UDP: new datagrams, edge-triggered */
	int ep_fd;			/* the descriptor epfd watches */
	pthread_mutex_t lock;
	pthread_cond_t done;		/* the thread is exiting */
	/* under lock */
	struct post *posts, **posts_tail;
	struct post *timers;		/* by due time, then post order */
	bool running;			/* started and not yet joined */
	bool stopping;
	bool exited;			/* the thread is past its last handler */
	bool reaping;			/* a join is collecting the thread */
	/* the socket thread's own */
	bool free_on_exit;		/* freed from a handler */
	bool edge;			/* UDP: epoll saw new datagrams */
	bool refire;			/* ready_read again: input remains */
	uint64_t rx_seen, tx_seen;
	wk_error error_sent;		/* last error handed to the handler */
};

/* ---------------------------------------------------------------- helpers */

/* The socket thread's own record, on that thread; NULL elsewhere. */
static _Thread_local struct wk__sthread *current;

static bool
on_own_thread(const struct wk__sthread *t)
{
	return t && current == t;
}

static bool
stopping(struct wk__sthread *t)
{
	bool stop;

	pthread_mutex_lock(&t->lock);
	stop = t->stopping;
	pthread_mutex_unlock(&t->lock);
	return stop;
}

static void
drop_queues(struct wk__sthread *t)
{
	struct post *p;

	while ((p = t->posts)) {
		t->posts = p->next;
		free(p);
	}
	t->posts_tail = &t->posts;
	while ((p = t->timers)) {
		t->timers = p->next;
		free(p);
	}
}

static void
destroy(struct wk__sthread *t)
{
	drop_queues(t);
	wk__fd_close(t->efd);
	if (t->epfd >= 0)
		wk__fd_close(t->epfd);
	pthread_cond_destroy(&t->done);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* ---------------------------------------------------------------- events */

static bool
is_connection(wk_state state)
{
	return state == WK_STATE_CONNECTED || state == WK_STATE_CLOSING;
}

static void
send_error(struct wk__sthread *t, wk_error code)
{
	t->error_sent = code;
	if (t->h.error)
		t->h.error(t->s, code, t->arg);
}

/* TCP: unread bytes; UDP: a datagram held or (after an edge) waiting. */
static bool
input_waits(struct wk__sthread *t)
{
	wk_socket *s = t->s;
	size_t size;

	if (s->type == WK_SOCKET_TCP)
		return wk__buf_len(&s->rbuf) > 0;
	return s->held || (s->fd >= 0 && wk__fd_peek_datagram(s->fd,
	    &size) == 0);
}

/*
 * ready_read when new input came, or when the last call took some and
 * more is left: one that takes nothing is called again only for new
 * input, as Qt.  Never re-entered: a handler's own waits add input that
 * is seen here, after it returns.
 */
static void
ready_read(struct wk__sthread *t)
{
	wk_socket *s = t->s;
	uint64_t before, taken;
	bool fresh;

	if (!t->h.ready_read)
		return;
	for (;;) {
		if (s->type == WK_SOCKET_TCP)
			fresh = s->rx_count != t->rx_seen;
		else
			fresh = t->edge;
		if (!(fresh || t->refire) || stopping(t) || !input_waits(t)) {
			t->refire = false;
			t->edge = false;
			t->rx_seen = s->rx_count;
			return;
		}
		t->edge = false;
		t->rx_seen = s->rx_count;
		before = s->type == WK_SOCKET_TCP ? s->rx_count -
		    wk__buf_len(&s->rbuf) : s->rx_count;
		t->h.ready_read(s, t->arg);
		taken = s->type == WK_SOCKET_TCP ? s->rx_count -
		    wk__buf_len(&s->rbuf) : s->rx_count;
		t->refire = taken != before;
	}
}

static void
bytes_written(struct wk__sthread *t)
{
	uint64_t n = t->s->tx_count - t->tx_seen;

	if (n == 0)
		return;
	t->tx_seen = t->s->tx_count;
	if (t->h.bytes_written && !stopping(t))
		t->h.bytes_written(t->s, (size_t)n, t->arg);
}

/*
 * Everything that happened since the last look, in Qt's order: a
 * connection's input and output are reported before it ends, an error
 * before the state it caused, host_found after CONNECTING, connected
 * after CONNECTED, disconnected after UNCONNECTED.
 */
static void
dispatch(struct wk__sthread *t)
{
	struct wk__state_change c;
	wk_socket *s = t->s;

	while (!stopping(t) && wk__socket_next_change(s, &c)) {
		if (c.to == WK_STATE_CLOSING || c.to == WK_STATE_UNCONNECTED) {
			ready_read(t);
			bytes_written(t);
			if (stopping(t))
				break;
			if (c.error != WK_NO_ERROR && c.error != t->error_sent &&
			    c.from != WK_STATE_UNCONNECTED &&
			    c.from != WK_STATE_BOUND)
				send_error(t, c.error);
		} else if (c.to == WK_STATE_HOST_LOOKUP ||
		    c.to == WK_STATE_CONNECTING || c.to == WK_STATE_CONNECTED) {
			t->error_sent = WK_NO_ERROR;
		}
		if (t->h.state_changed)
			t->h.state_changed(s, c.to, t->arg);
		if (stopping(t))
			break;
		if (c.to == WK_STATE_CONNECTING && t->h.host_found)
			t->h.host_found(s, t->arg);
		else if (c.to == WK_STATE_CONNECTED && t->h.connected)
			t->h.connected(s, t->arg);
		else if (c.to == WK_STATE_UNCONNECTED && is_connection(c.from) &&
		    t->h.disconnected)
			t->h.disconnected(s, t->arg);
	}
	if (!stopping(t)) {
		ready_read(t);
		bytes_written(t);
	}
}

/* ---------------------------------------------------------------- work */

/* Runs what was posted by now, each followed by the events it caused. */
static void
run_posts(struct wk__sthread *t)
{
	struct post *list, *p;
	int64_t now = 0;

	pthread_mutex_lock(&t->lock);
	list = t->posts;
	t->posts = NULL;
	t->posts_tail = &t->posts;
	pthread_mutex_unlock(&t->lock);
	/* Then the timers that are due, in due order. */
	for (;;) {
		if (!list) {
			pthread_mutex_lock(&t->lock);
			if (t->timers && !t->stopping) {
				if (!now)
					now = wk__now_ns();
				if (t->timers->due <= now) {
					list = t->timers;
					t->timers = list->next;
					list->next = NULL;
				}
			}
			pthread_mutex_unlock(&t->lock);
			if (!list)
				return;
		}
		p = list;
		list = p->next;
		if (!stopping(t)) {
			if (p->fn)
				p->fn(t->s, p->arg);
			else if (wk_socket_write(t->s, p->data, p->len) < 0)
				send_error(t, wk_socket_error(t->s));
			dispatch(t);
		}
		free(p);
	}
}

/* When the next timer is due; WK__FOREVER without one. */
static int64_t
next_timer(struct wk__sthread *t)
{
	int64_t due;

	pthread_mutex_lock(&t->lock);
	due = t->timers ? t->timers->due : WK__FOREVER;
	pthread_mutex_unlock(&t->lock);
	return due;
}

/*
 * One sleep: poll() on the eventfd and on what the socket needs (the
 * connect's descriptors, the connection's, or for a datagram socket the
 * epoll set that hears of new datagrams), until the earliest of the
 * next timer and the connect's next step.
 */
static void
sleep_once(struct wk__sthread *t)
{
	struct pollfd fds[WK__MAX_ATTEMPTS + 2];
	wk_socket *s = t->s;
	int64_t wake = next_timer(t);
	unsigned n = 0;
	bool datagrams = s->type == WK_SOCKET_UDP &&
	    s->state != WK_STATE_HOST_LOOKUP && s->state != WK_STATE_CONNECTING;
	int ready;

	fds[0] = (struct pollfd){ .fd = t->efd, .events = POLLIN };
	if (datagrams && s->fd >= 0) {
		if (t->ep_fd != s->fd && (t->epfd >= 0 ||
		    wk__edge_new(&t->epfd) == 0) &&
		    wk__edge_watch(t->epfd, t->ep_fd, s->fd) == 0)
			t->ep_fd = s->fd;
		if (t->ep_fd == s->fd) {
			fds[1] = (struct pollfd){ .fd = t->epfd, .events = POLLIN };
			n = 1;
		}
	} else if (!datagrams && s->state != WK_STATE_UNCONNECTED &&
	    s->state != WK_STATE_BOUND && s->state != WK_STATE_LISTENING) {
		n = wk__socket_pollfds(s, fds + 1, &wake);
		/* Nothing wanted (a full read buffer): not a hang-up spin. */
		if (n == 1 && fds[1].fd == s->fd && fds[1].events == 0)
			fds[1].fd = -1;
	}
	if (wk__fd_poll(fds, n + 1, wake, &ready) != 0)
		ready = 0;
	if (fds[0].revents & POLLIN)
		wk__event_clear(t->efd);
	if (datagrams) {
		if (n && (fds[1].revents & POLLIN) && wk__edge_take(t->epfd))
			t->edge = true;
	} else if (n && (ready > 0 || wake != WK__FOREVER)) {
		/* The thread's own step: its errors are its own. */
		wk__err_clear(&s->err);
		wk__socket_step(s, fds + 1, n);
	}
}

static void *
run(void *arg)
{
	struct wk__sthread *t = arg;
	wk_socket *s = t->s;
	bool free_it;

	current = t;
	pthread_setname_np(pthread_self(), "wk-socket");
	/* Input already buffered counts as new. */
	t->rx_seen = s->type == WK_SOCKET_TCP && wk__buf_len(&s->rbuf) ?
	    s->rx_count - 1 : s->rx_count;
	t->tx_seen = s->tx_count;
	t->edge = s->type == WK_SOCKET_UDP;
	dispatch(t);
	while (!stopping(t)) {
		run_posts(t);
		dispatch(t);
		if (stopping(t))
			break;
		sleep_once(t);
		dispatch(t);
	}
	if (t->h.stopped)
		t->h.stopped(s, t->arg);
	s->log_states = false;
	s->log_count = 0;
	pthread_mutex_lock(&t->lock);
	drop_queues(t);
	free_it = t->free_on_exit;
	t->exited = true;
	pthread_cond_broadcast(&t->done);
	pthread_mutex_unlock(&t->lock);
	if (free_it) {
		/* Freed from a handler: nobody joins; the thread cleans up. */
		pthread_detach(pthread_self());
		pthread_mutex_lock(&t->lock);
		t->running = false;
		pthread_mutex_unlock(&t->lock);
		current = NULL;
		wk_socket_free(s);
	}
	current = NULL;
	return NULL;
}

/* ---------------------------------------------------------------- joining */

/* Waits for the thread to exit and collects it; false on timeout. */
static bool
join(struct wk__sthread *t, int msecs)
{
	int64_t deadline = wk__deadline(msecs);
	struct timespec ts;
	bool reap;

	pthread_mutex_lock(&t->lock);
	while (!t->exited) {
		if (deadline == WK__FOREVER) {
			pthread_cond_wait(&t->done, &t->lock);
			continue;
		}
		if (wk__now_ns() >= deadline)
			break;
		ts.tv_sec = (time_t)(deadline / 1000000000LL);
		ts.tv_nsec = (long)(deadline % 1000000000LL);
		pthread_cond_timedwait(&t->done, &t->lock, &ts);
	}
	if (!t->exited) {
		pthread_mutex_unlock(&t->lock);
		return false;
	}
	reap = t->running && !t->reaping;
	if (reap)
		t->reaping = true;
	pthread_mutex_unlock(&t->lock);
	if (reap) {
		pthread_join(t->tid, NULL);
		pthread_mutex_lock(&t->lock);
		t->running = false;
		t->reaping = false;
		pthread_mutex_unlock(&t->lock);
	}
	return true;
}

static void
stop(struct wk__sthread *t)
{
	pthread_mutex_lock(&t->lock);
	t->stopping = true;
	pthread_mutex_unlock(&t->lock);
	wk__event_signal(t->efd);
}

/* wk_socket_free()'s first step on a socket that was ever started. */
static bool
free_hook(wk_socket *s)
{
	struct wk__sthread *t = s->thread;

	if (on_own_thread(t)) {
		/* From a handler: the thread frees it once the handler returns. */
		t->free_on_exit = true;
		stop(t);
		return false;
	}
	if (t->running && !t->free_on_exit) {
		stop(t);
		join(t, -1);
	}
	s->thread = NULL;
	s->free_hook = NULL;
	destroy(t);
	return true;
}

/* ---------------------------------------------------------------- API */

static struct wk__sthread *
record_new(wk_socket *s)
{
	struct wk__sthread *t = calloc(1, sizeof(*t));
	pthread_condattr_t attr;

	if (!t)
		return NULL;
	if (wk__event_new(&t->efd) != 0) {
		free(t);
		return NULL;
	}
	pthread_mutex_init(&t->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&t->done, &attr);
	pthread_condattr_destroy(&attr);
	t->epfd = t->ep_fd = -1;
	t->posts_tail = &t->posts;
	t->s = s;
	return t;
}

bool
wk_socket_start(wk_socket *s, const wk_socket_handlers *handlers, void *arg)
{
	struct wk__sthread *t;
	sigset_t all, old;
	int rc;

	if (!s)
		return false;
	wk__err_clear(&s->err);
	/* A thread that stopped by itself is collected first. */
	if (s->thread && s->thread->running && !on_own_thread(s->thread))
		join(s->thread, 0);
	if (s->thread && s->thread->running) {
		wk__err_set(&s->err, WK_OPERATION, "start: the socket %s",
		    on_own_thread(s->thread) ? "is running on this thread" :
		    "is started already");
		return false;
	}
	if (!s->thread && !(s->thread = record_new(s))) {
		wk__err_set_sys(&s->err, ENOMEM, "start");
		return false;
	}
	t = s->thread;
	s->free_hook = free_hook;
	t->h = handlers ? *handlers : (wk_socket_handlers){ 0 };
	t->arg = arg;
	t->stopping = t->exited = t->free_on_exit = false;
	t->refire = t->edge = false;
	t->error_sent = WK_NO_ERROR;
	wk__event_clear(t->efd);
	s->log_states = true;
	s->log_count = 0;
	/* Running before the thread exists: a stop right after start works. */
	t->running = true;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&t->tid, NULL, run, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		t->running = false;
		s->log_states = false;
		wk__err_set(&s->err, WK_SOCKET_RESOURCE,
		    "start: no thread for the socket: %s", strerror(rc));
		return false;
	}
	return true;
}

bool
wk_socket_is_started(const wk_socket *s)
{
	struct wk__sthread *t;
	bool started;

	if (!s || !(t = s->thread))
		return false;
	pthread_mutex_lock(&t->lock);
	started = t->running && !t->exited;
	pthread_mutex_unlock(&t->lock);
	return started;
}

/* Queues p (a post, or a timer when timer is true); false if stopped. */
static bool
enqueue(wk_socket *s, struct post *p, bool timer)
{
	struct wk__sthread *t;
	struct post **at;

	if (!s || !(t = s->thread)) {
		free(p);
		return false;
	}
	pthread_mutex_lock(&t->lock);
	if (!t->running || t->stopping || t->exited) {
		pthread_mutex_unlock(&t->lock);
		free(p);
		return false;
	}
	if (timer) {
		/* After every timer due no later: equal times keep post order. */
		for (at = &t->timers; *at && (*at)->due <= p->due;
		    at = &(*at)->next)
			;
		p->next = *at;
		*at = p;
	} else {
		*t->posts_tail = p;
		t->posts_tail = &p->next;
	}
	pthread_mutex_unlock(&t->lock);
	wk__event_signal(t->efd);
	return true;
}

bool
wk_socket_post(wk_socket *s, wk_socket_fn fn, void *arg)
{
	struct post *p;

	if (!s || !fn || !(p = malloc(sizeof(*p))))
		return false;
	*p = (struct post){ .fn = fn, .arg = arg };
	return enqueue(s, p, false);
}

bool
wk_socket_post_delayed(wk_socket *s, int msecs, wk_socket_fn fn, void *arg)
{
	struct post *p;

	if (!s || !fn || !(p = malloc(sizeof(*p))))
		return false;
	*p = (struct post){ .fn = fn, .arg = arg,
	    .due = wk__deadline(msecs < 0 ? 0 : msecs) };
	return enqueue(s, p, true);
}

bool
wk_socket_write_async(wk_socket *s, const void *buf, size_t size)
{
	struct wk__sthread *t;
	struct post *p;
	bool open;

	if (!s || (!buf && size) || !(t = s->thread))
		return false;
	if (size == 0) {
		/* Nothing to queue; true when it could have been queued. */
		pthread_mutex_lock(&t->lock);
		open = t->running && !t->stopping && !t->exited;
		pthread_mutex_unlock(&t->lock);
		return open;
	}
	if (size > SIZE_MAX - sizeof(*p) || !(p = malloc(sizeof(*p) + size)))
		return false;
	*p = (struct post){ .len = size };
	memcpy(p->data, buf, size);
	return enqueue(s, p, false);
}

void
wk_socket_stop(wk_socket *s)
{
	if (s && s->thread)
		stop(s->thread);
}

bool
wk_socket_join(wk_socket *s, int msecs)
{
	struct wk__sthread *t;

	if (!s || !(t = s->thread))
		return s != NULL;
	if (on_own_thread(t) && !t->exited)
		return false;	/* a thread cannot wait for itself */
	return join(t, msecs);
}
