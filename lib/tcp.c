/*
 * tcp.c - connecting a TCP socket: the name lookup on the pool, then a
 * Happy Eyeballs race (RFC 8305) over every address it gave
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "engine.h"
#include "socket-private.h"

/*
 * What the socket and its lookup's done callback share.  The callback
 * runs on a pool thread and may outlive the socket (or the reverse), so
 * each holds a reference and the last one out frees it; the eventfd
 * wakes the socket's poll() when the answer is in.
 */
struct wk__lookup_link {
	pthread_mutex_t lock;
	int refs;
	int efd;
	int64_t id;
	bool delivered;
	wk_hostinfo *result;	/* NULL when delivered: out of memory */
};

static void
link_unref(struct wk__lookup_link *k)
{
	int refs;

	pthread_mutex_lock(&k->lock);
	refs = --k->refs;
	pthread_mutex_unlock(&k->lock);
	if (refs > 0)
		return;
	wk__fd_close(k->efd);
	wk_hostinfo_free(k->result);
	pthread_mutex_destroy(&k->lock);
	free(k);
}

static void
on_lookup(const wk_hostinfo *info, void *arg)
{
	struct wk__lookup_link *k = arg;
	wk_hostinfo *copy = wk_hostinfo_dup(info);

	pthread_mutex_lock(&k->lock);
	k->result = copy;
	k->delivered = true;
	pthread_mutex_unlock(&k->lock);
	wk__event_signal(k->efd);
	link_unref(k);
}

static bool
lookup_begin(wk_socket *s, const char *host)
{
	struct wk__lookup_link *k = calloc(1, sizeof(*k));
	int err = ENOMEM;

	if (!k || (err = wk__event_new(&k->efd)) != 0) {
		free(k);
		wk__err_set_sys(&s->err, err, "connect to %s", host);
		return false;
	}
	pthread_mutex_init(&k->lock, NULL);
	k->refs = 2;	/* the socket and the callback */
	k->id = wk_lookup_start_family(host, s->family, on_lookup, k);
	if (k->id < 0) {
		k->refs = 1;
		link_unref(k);
		wk__err_set(&s->err, WK_SOCKET_RESOURCE,
		    "connect to %s: the lookup could not be started", host);
		return false;
	}
	s->lookup = k;
	return true;
}

static void
lookup_end(wk_socket *s)
{
	struct wk__lookup_link *k = s->lookup;

	if (!k)
		return;
	s->lookup = NULL;
	if (wk_lookup_abort(k->id))
		link_unref(k);	/* the callback will never run */
	link_unref(k);
}

/* ---------------------------------------------------------------- attempts */

static void
close_attempts(wk_socket *s, int keep)
{
	for (unsigned i = 0; i < s->attempt_count; i++)
		if (s->attempts[i].fd != keep)
			wk__fd_close(s->attempts[i].fd);
	s->attempt_count = 0;
}

/* Attempt fd to peer won: the race is over, its records go. */
static void
connect_won(wk_socket *s, int fd, const wk_addr *peer)
{
	wk_addr addr = *peer;

	close_attempts(s, fd);
	free(s->targets);
	s->targets = NULL;
	s->target_count = s->next_target = 0;
	free(s->failures);
	s->failures = NULL;
	s->nfailures = 0;
	wk__socket_connected(s, fd, &addr);
}

void
wk__tcp_cancel(wk_socket *s)
{
	lookup_end(s);
	close_attempts(s, -1);
	free(s->targets);
	s->targets = NULL;
	s->target_count = s->next_target = 0;
	free(s->failures);
	s->failures = NULL;
	s->nfailures = 0;
	s->close_after_connect = false;
}

/* The attempts whose reasons the error string lists; the rest are counted. */
#define LISTED_FAILURES 8

/* Notes why an attempt failed, for the error string of a failed connect. */
static void
note_failure(wk_socket *s, const wk_addr *addr, int err)
{
	char text[WK_ADDR_STRLEN], *joined = NULL;

	s->last_failure = err == ETIMEDOUT ? WK_SOCKET_TIMEOUT :
	    wk__error_from_errno(err);
	if (s->nfailures++ >= LISTED_FAILURES)
		return;
	wk_addr_format(addr, text, sizeof(text));
	/* A literal's one address is in the message already. */
	if (s->peer_name && strcmp(s->peer_name, text) == 0)
		text[0] = '\0';
	if (asprintf(&joined, "%s%s%s%s%s", s->failures ? s->failures : "",
	    s->failures ? "; " : "", text, text[0] ? ": " : "",
	    strerror(err)) < 0)
		return;
	free(s->failures);
	s->failures = joined;
}

/* Every address failed: the socket is unconnected, with every reason. */
static void
connect_failed(wk_socket *s)
{
	char *why = s->failures;
	unsigned more = s->nfailures > LISTED_FAILURES ?
	    s->nfailures - LISTED_FAILURES : 0;

	s->failures = NULL;
	wk__err_set(&s->err, s->last_failure, "connect to %s: %s%s%.0u%s",
	    wk__socket_target(s), why ? why : "no address to connect to",
	    more ? "; and " : "", more, more ? " more addresses" : "");
	free(why);
	wk__tcp_cancel(s);
	wk__socket_close_fd(s);
	wk__buf_clear(&s->wbuf);
	wk__socket_set_state(s, WK_STATE_UNCONNECTED);
}

static int
addr_family(const wk_addr *a)
{
	return a->family == WK_FAMILY_IPV4 ? AF_INET : AF_INET6;
}

/*
 * Starts a connection to the next address.  Returns false only when
 * the system is out of descriptors or memory: no other address would
 * fare better, so the connect fails at once (and may be retried).
 */
static bool
start_attempt(wk_socket *s, int64_t now)
{
	const wk_addr *addr = &s->targets[s->next_target++];
	struct wk__attempt *a;
	wk_addr mapped;
	int fd, err, family;

	s->next_attempt_at = now + WK__ATTEMPT_DELAY_MS * WK__NS_PER_MS;
	if (s->fd >= 0) {		/* bound first: that socket connects */
		fd = s->fd;
		s->fd = -1;
		wk__fd_set_blocking(fd, false);
		/* A dual-stack socket reaches IPv4 through a mapped address. */
		if (wk__fd_family(fd, &family) == 0 && family == AF_INET6 &&
		    addr->family == WK_FAMILY_IPV4) {
			mapped = wk_addr_map_ipv4(addr);
			addr = &mapped;
		}
	} else if ((err = wk__fd_socket(addr_family(addr), s->type,
	    &fd)) != 0) {
		note_failure(s, addr, err);
		return wk__error_from_errno(err) != WK_SOCKET_RESOURCE;
	} else {
		if (s->type == WK_SOCKET_UDP)
			wk__fd_set_broadcast(fd);
		wk__socket_apply_options(s, fd, addr_family(addr));
	}
	err = wk__fd_connect(fd, addr, s->connect_port);
	if (err == 0) {
		connect_won(s, fd, addr);
		return true;
	}
	if (err != EINPROGRESS) {
		note_failure(s, addr, err);
		wk__fd_close(fd);
		return true;
	}
	a = &s->attempts[s->attempt_count++];
	a->fd = fd;
	a->addr = *addr;
	a->deadline = s->connect_timeout_ms < 0 ? WK__FOREVER :
	    now + s->connect_timeout_ms * WK__NS_PER_MS;
	return true;
}

/* Starts what is due: the first attempt, or the next one 250 ms later. */
static void
start_due(wk_socket *s, int64_t now)
{
	while (s->state == WK_STATE_CONNECTING &&
	    s->next_target < s->target_count &&
	    s->attempt_count < WK__MAX_ATTEMPTS &&
	    (s->attempt_count == 0 || now >= s->next_attempt_at)) {
		if (!start_attempt(s, now)) {
			connect_failed(s);
			return;
		}
	}
	if (s->state == WK_STATE_CONNECTING && s->attempt_count == 0 &&
	    s->next_target >= s->target_count)
		connect_failed(s);
}

static void
drop_attempt(wk_socket *s, unsigned i)
{
	wk__fd_close(s->attempts[i].fd);
	s->attempts[i] = s->attempts[--s->attempt_count];
}

/* Looks at attempt i, which poll() reported or whose time is up. */
static bool
check_attempt(wk_socket *s, unsigned i, short revents, int64_t now)
{
	struct wk__attempt *a = &s->attempts[i];
	int err;

	if (!revents) {
		if (now < a->deadline)
			return false;
		note_failure(s, &a->addr, ETIMEDOUT);
		drop_attempt(s, i);
		s->next_attempt_at = now;	/* RFC 8305: the next one now */
		return true;
	}
	/*
	 * Writable and nothing else is a connection; else ask why not.  A
	 * reset (not a refusal) means the connection was made and the peer
	 * has already dropped it: connected, and the reads will tell.
	 */
	if (revents == POLLOUT || (err = wk__fd_connect_result(a->fd)) == 0 ||
	    err == ECONNRESET || err == EPIPE) {
		connect_won(s, a->fd, &a->addr);
		return true;
	}
	note_failure(s, &a->addr, err);
	drop_attempt(s, i);
	s->next_attempt_at = now;
	return true;
}

/* ---------------------------------------------------------------- lookup */

/*
 * RFC 8305 section 4: the resolver's first address first, then the
 * families alternate, each in the resolver's order.  The family
 * preference leaves out the other family.
 */
static size_t
order_targets(const wk_hostinfo *info, wk_family only, wk_addr *out)
{
	size_t n = wk_hostinfo_count(info), count = 0, next[2] = { 0, 0 };
	const wk_addr *addrs = wk_hostinfo_addrs(info);
	int turn = n ? addrs[0].family == WK_FAMILY_IPV6 : 0;

	for (;;) {
		wk_family fam = turn ? WK_FAMILY_IPV6 : WK_FAMILY_IPV4;
		size_t *i = &next[turn];

		while (*i < n && addrs[*i].family != fam)
			(*i)++;
		if (*i < n) {
			if (only == WK_FAMILY_ANY || only == fam)
				out[count++] = addrs[*i];
			(*i)++;
		} else if (next[!turn] >= n) {
			return count;
		}
		turn = !turn;
	}
}

static void
lookup_finished(wk_socket *s, wk_hostinfo *info)
{
	size_t n = wk_hostinfo_count(info);

	if (!info || wk_hostinfo_error(info) != WK_NO_ERROR) {
		wk__err_set(&s->err, info ? wk_hostinfo_error(info) :
		    WK_SOCKET_RESOURCE, "connect to %s: %s",
		    wk__socket_target(s), info ? wk_hostinfo_error_string(info) :
		    "out of memory");
		wk_hostinfo_free(info);
		wk__tcp_cancel(s);
		wk__socket_close_fd(s);
		wk__buf_clear(&s->wbuf);
		wk__socket_set_state(s, WK_STATE_UNCONNECTED);
		return;
	}
	s->targets = malloc((n ? n : 1) * sizeof(*s->targets));
	s->target_count = s->targets ? order_targets(info, s->family,
	    s->targets) : 0;
	s->next_target = 0;
	s->last_failure = s->targets ? WK_HOST_NOT_FOUND : WK_SOCKET_RESOURCE;
	wk_hostinfo_free(info);
	wk__socket_set_state(s, WK_STATE_CONNECTING);
	start_due(s, wk__now_ns());
}

/* Takes the lookup's answer when it is in; true when it was. */
static bool
take_lookup(wk_socket *s)
{
	struct wk__lookup_link *k = s->lookup;
	wk_hostinfo *info;
	bool delivered;

	pthread_mutex_lock(&k->lock);
	delivered = k->delivered;
	info = k->result;
	k->result = NULL;
	pthread_mutex_unlock(&k->lock);
	if (!delivered)
		return false;
	s->lookup = NULL;
	link_unref(k);
	lookup_finished(s, info);
	return true;
}

/* ---------------------------------------------------------------- driving */

bool
wk__tcp_start(wk_socket *s, const char *host, const wk_addr *addr)
{
	wk__tcp_cancel(s);
	s->last_failure = WK_CONNECTION_REFUSED;
	if (!addr) {
		if (!lookup_begin(s, host))
			return false;
		wk__socket_set_state(s, WK_STATE_HOST_LOOKUP);
		return true;
	}
	if (s->family != WK_FAMILY_ANY && s->family != addr->family) {
		wk__err_set(&s->err, WK_UNSUPPORTED_OPERATION,
		    "connect to %s: an IPv%d address, and the socket is set "
		    "to IPv%d only", host, addr->family,
		    addr->family == WK_FAMILY_IPV4 ? 6 : 4);
		return false;
	}
	if (!(s->targets = malloc(sizeof(*s->targets)))) {
		wk__err_set_sys(&s->err, ENOMEM, "connect to %s", host);
		return false;
	}
	s->targets[0] = *addr;
	s->target_count = 1;
	s->next_target = 0;
	wk__socket_set_state(s, WK_STATE_CONNECTING);
	start_due(s, wk__now_ns());
	return s->state != WK_STATE_UNCONNECTED;
}

/*
 * The descriptors to poll while connecting, and in *wake the time by
 * which the connect must be looked at again even if none is ready.
 */
unsigned
wk__tcp_pollfds(wk_socket *s, struct pollfd *fds, int64_t *wake)
{
	unsigned n = 0;

	if (s->state == WK_STATE_HOST_LOOKUP && s->lookup) {
		fds[n++] = (struct pollfd){ .fd = s->lookup->efd,
		    .events = POLLIN };
		return n;
	}
	if (s->state != WK_STATE_CONNECTING)
		return 0;
	if (s->next_target < s->target_count && s->next_attempt_at < *wake)
		*wake = s->next_attempt_at;
	for (unsigned i = 0; i < s->attempt_count; i++) {
		fds[n++] = (struct pollfd){ .fd = s->attempts[i].fd,
		    .events = POLLOUT };
		if (s->attempts[i].deadline < *wake)
			*wake = s->attempts[i].deadline;
	}
	return n;
}

/* One step of the connect, after poll() filled in fds. */
void
wk__tcp_progress(wk_socket *s, const struct pollfd *fds, unsigned n)
{
	int64_t now = wk__now_ns();

	if (s->state == WK_STATE_HOST_LOOKUP && s->lookup) {
		if (n > 0 && fds[0].revents)
			wk__event_clear(s->lookup->efd);
		take_lookup(s);
		return;
	}
	if (s->state != WK_STATE_CONNECTING)
		return;
	/* Backwards, as a dropped attempt is replaced by the last one. */
	for (unsigned i = s->attempt_count; i-- > 0;) {
		short revents = i < n && fds[i].fd == s->attempts[i].fd ?
		    fds[i].revents : 0;

		check_attempt(s, i, revents, now);
		if (s->state != WK_STATE_CONNECTING)
			return;
	}
	start_due(s, now);
}
