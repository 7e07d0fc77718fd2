/*
 * wirecat - a netcat built on wirekit
 *
 * usage: wirecat [-46dhkluvz] [-w secs] host port
 *        wirecat -l [-46dkuv] [-w secs] [address] port
 *
 * Copies standard input to a TCP connection or to UDP datagrams, and
 * what comes back to standard output.  Names are looked up on wirekit's
 * pool; the addresses are tried in a Happy Eyeballs race (RFC 8305) that
 * this program runs itself, one started socket per attempt, so that -v
 * can tell how each attempt went.  See wirecat(1).
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <wirekit.h>

/* The exit statuses, as wirecat(1) lists them. */
#define EXIT_OK 0
#define EXIT_OTHER 1
#define EXIT_USAGE 2
#define EXIT_NOT_FOUND 3
#define EXIT_REFUSED 4
#define EXIT_TIMEOUT 5

/* RFC 8305's Connection Attempt Delay, and wirekit's own bound. */
#define ATTEMPT_DELAY_MS 250
#define MAX_RUNNING 8

/* One read or write of a stream; a TCP copy moves this much at a time. */
#define CHUNK 65536
/* The largest UDP payload (IPv6, 65535 - 8); a datagram always fits. */
#define DATAGRAM_MAX 65527
/* Standard input goes out as datagrams of at most this, as nc's do. */
#define UDP_CHUNK 16384
/* What -k's handlers read at a time: their stacks are 64 KiB. */
#define SERVE_CHUNK 16384
/* After SIGINT or SIGTERM, -k's clients get this long to finish. */
#define GRACE_MS 1000

#define FOREVER INT64_MAX

struct opts {
	wk_family family;	/* WK_FAMILY_ANY, or -4/-6 */
	bool no_stdin;		/* -d */
	bool keep;		/* -k */
	bool listen;		/* -l */
	bool udp;		/* -u */
	bool verbose;		/* -v */
	bool zero;		/* -z */
	int wait_ms;		/* -w; -1 without it */
	const char *host;	/* the host, or -l's address (NULL: any) */
	uint16_t port;
};

/* ---------------------------------------------------------------- output */

/* -k's handlers write standard output from many threads. */
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void __attribute__((format(printf, 1, 2)))
diag(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	/* One fprintf, so that lines of different threads do not mix. */
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "wirecat: %s\n", line);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What is left of deadline, as a wirekit msecs: -1 for none. */
static int
remaining(int64_t deadline)
{
	int64_t left;

	if (deadline == FOREVER)
		return -1;
	left = deadline - now_ms();
	return left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

static const char *
family_name(const wk_addr *a)
{
	return a->family == WK_FAMILY_IPV4 ? "IPv4" : "IPv6";
}

static int
status_of(wk_error code)
{
	switch (code) {
	case WK_HOST_NOT_FOUND:
		return EXIT_NOT_FOUND;
	case WK_CONNECTION_REFUSED:
		return EXIT_REFUSED;
	case WK_SOCKET_TIMEOUT:
		return EXIT_TIMEOUT;
	default:
		return EXIT_OTHER;
	}
}

/*
 * Writes all of buf to standard output; false when that failed.  A
 * reader that went away (EPIPE, SIGPIPE being ignored) ends wirecat
 * quietly, as a killed cat would.
 */
static bool
write_out(const char *buf, size_t size)
{
	struct pollfd p = { .fd = STDOUT_FILENO, .events = POLLOUT };
	ssize_t n;

	while (size > 0) {
		if ((n = write(STDOUT_FILENO, buf, size)) >= 0) {
			buf += n;
			size -= (size_t)n;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			/* An inherited non-blocking descriptor. */
			(void)poll(&p, 1, -1);
		} else if (errno != EINTR) {
			if (errno != EPIPE)
				diag("write to standard output: %s",
				    strerror(errno));
			return false;
		}
	}
	return true;
}

/* ---------------------------------------------------------------- lookup */

/*
 * RFC 8305 section 4: the resolver's first address first, then the
 * families take turns, each in the resolver's order.
 */
static size_t
order_addrs(const wk_addr *in, size_t n, wk_addr *out)
{
	size_t count = 0, next[2] = { 0, 0 };
	int turn = n > 0 && in[0].family == WK_FAMILY_IPV6;

	while (next[0] < n || next[1] < n) {
		wk_family fam = turn ? WK_FAMILY_IPV6 : WK_FAMILY_IPV4;
		size_t *i = &next[turn];

		while (*i < n && in[*i].family != fam)
			(*i)++;
		if (*i < n)
			out[count++] = in[(*i)++];
		turn = !turn;
	}
	return count;
}

static void
print_lookup(const char *host, const wk_addr *addrs, size_t n, int64_t ms)
{
	char list[1024], text[WK_ADDR_STRLEN];
	size_t len = 0;

	list[0] = '\0';
	for (size_t i = 0; i < n && len < sizeof(list) - 1; i++) {
		wk_addr_format(&addrs[i], text, sizeof(text));
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
		    i ? " " : "", text);
	}
	diag("lookup %s: %zu address%s in %lld ms: %s", host, n,
	    n == 1 ? "" : "es", (long long)ms, list);
}

/*
 * The addresses of host, in the order to try them, in *addrs (freed by
 * the caller).  An address literal is taken as it is: a lookup would
 * make a reverse one.  Returns 0 or the exit status.
 */
static int
resolve(const struct opts *o, const char *host, int64_t deadline,
    wk_addr **addrs, size_t *count)
{
	int64_t start = now_ms();
	wk_hostinfo *info;
	wk_addr lit;
	size_t n;

	if (wk_addr_parse(&lit, host)) {
		if (o->family != WK_FAMILY_ANY && lit.family != o->family) {
			diag("%s is an IPv%d address, and -%d was given",
			    host, lit.family, o->family);
			return EXIT_USAGE;
		}
		if (!(*addrs = malloc(sizeof(lit))))
			goto nomem;
		**addrs = lit;
		*count = 1;
		return 0;
	}
	if (!(info = wk_lookup_family(host, o->family, remaining(deadline))))
		goto nomem;
	if ((n = wk_hostinfo_count(info)) == 0) {
		wk_error code = wk_hostinfo_error(info);

		if (o->verbose)
			diag("lookup %s: failed after %lld ms: %s", host,
			    (long long)(now_ms() - start),
			    wk_hostinfo_error_string(info));
		else
			diag("%s", wk_hostinfo_error_string(info));
		wk_hostinfo_free(info);
		/* Every way a name fails to resolve is "not found" here. */
		return code == WK_SOCKET_TIMEOUT ? EXIT_TIMEOUT :
		    code == WK_SOCKET_RESOURCE ? EXIT_OTHER : EXIT_NOT_FOUND;
	}
	if (o->verbose)
		print_lookup(host, wk_hostinfo_addrs(info), n,
		    now_ms() - start);
	if (!(*addrs = malloc(n * sizeof(**addrs)))) {
		wk_hostinfo_free(info);
		goto nomem;
	}
	*count = order_addrs(wk_hostinfo_addrs(info), n, *addrs);
	wk_hostinfo_free(info);
	return 0;
nomem:
	diag("out of memory");
	return EXIT_OTHER;
}

/* ---------------------------------------------------------------- race */

/*
 * The Happy Eyeballs race.  Each attempt is a socket started on a thread
 * of its own (wk_socket_start()), so that the attempts run at once and
 * one that does not answer can be given up at any time: the main thread
 * only starts them, sleeps on the condition until one is done or the
 * next is due, and joins those that are done.
 */
struct race {
	pthread_mutex_t lock;
	pthread_cond_t done;	/* an attempt has finished */
	unsigned finished;	/* attempts finished and not yet joined */
};

enum phase { IDLE, RUNNING, FINISHED, JOINED };

struct attempt {
	struct race *race;
	wk_socket *s;
	wk_addr addr;
	uint16_t port;
	int64_t started, ended;	/* ms; ended is set under race->lock */
	enum phase phase;	/* under race->lock while RUNNING */
};

/* On the attempt's thread: it connected or failed; the race is told. */
static void
attempt_finish(wk_socket *s, struct attempt *a)
{
	pthread_mutex_lock(&a->race->lock);
	if (a->phase == RUNNING) {
		a->phase = FINISHED;
		a->ended = now_ms();
		a->race->finished++;
		pthread_cond_signal(&a->race->done);
	}
	pthread_mutex_unlock(&a->race->lock);
	/* No handler runs after this: the socket waits as it is. */
	wk_socket_stop(s);
}

static void
attempt_state(wk_socket *s, wk_state state, void *arg)
{
	if (state == WK_STATE_CONNECTED || state == WK_STATE_UNCONNECTED)
		attempt_finish(s, arg);
}

/* Posted: the first thing the attempt's thread does. */
static void
attempt_connect(wk_socket *s, void *arg)
{
	struct attempt *a = arg;

	if (!wk_socket_connect_addr(s, &a->addr, a->port))
		attempt_finish(s, a);
}

static bool
attempt_start(struct attempt *a, const struct opts *o)
{
	static const wk_socket_handlers handlers = {
		.state_changed = attempt_state,
	};

	a->started = now_ms();
	if (!(a->s = wk_tcp_socket()))
		return false;
	if (o->wait_ms >= 0)
		wk_socket_set_connect_timeout(a->s, o->wait_ms);
	a->phase = RUNNING;
	if (wk_socket_start(a->s, &handlers, a) &&
	    wk_socket_post(a->s, attempt_connect, a))
		return true;
	wk_socket_free(a->s);	/* stops and joins a started one */
	a->s = NULL;
	a->phase = IDLE;
	return false;
}

static void
attempt_say(const struct attempt *a, int64_t end, const char *what,
    const char *why)
{
	char text[WK_ADDR_STRLEN];

	wk_addr_format(&a->addr, text, sizeof(text));
	diag("connect to %s port %u (%s): %s %lld ms%s%s", text,
	    (unsigned)a->port, family_name(&a->addr), what,
	    (long long)(end - a->started), why ? ": " : "", why ? why : "");
}

/* Gives up every attempt still running, saying what for -v. */
static void
race_abandon(struct attempt *at, size_t n, const struct opts *o,
    const char *what)
{
	int64_t end = now_ms();

	for (size_t i = 0; i < n; i++) {
		enum phase phase;

		if (!at[i].s)
			continue;
		pthread_mutex_lock(&at[i].race->lock);
		phase = at[i].phase;
		pthread_mutex_unlock(&at[i].race->lock);
		if (o->verbose && phase == RUNNING)
			attempt_say(&at[i], end, what, NULL);
		wk_socket_free(at[i].s);
		at[i].s = NULL;
	}
}

/*
 * Joins the attempts that finished.  Returns the index of one that
 * connected, or -1; *last is the error of the latest failure.
 */
static ssize_t
race_reap(struct race *r, struct attempt *at, size_t n,
    const struct opts *o, unsigned *running, wk_error *last)
{
	for (size_t i = 0; i < n; i++) {
		enum phase phase;

		pthread_mutex_lock(&r->lock);
		phase = at[i].phase;
		if (phase == FINISHED) {
			at[i].phase = JOINED;
			r->finished--;
		}
		pthread_mutex_unlock(&r->lock);
		if (phase != FINISHED)
			continue;
		wk_socket_join(at[i].s, -1);
		(*running)--;
		if (wk_socket_state(at[i].s) == WK_STATE_CONNECTED) {
			if (o->verbose)
				attempt_say(&at[i], at[i].ended,
				    "connected in", NULL);
			return (ssize_t)i;
		}
		*last = wk_socket_error(at[i].s);
		if (o->verbose)
			attempt_say(&at[i], at[i].ended, "failed after",
			    wk_socket_error_string(at[i].s));
		else
			diag("%s", wk_socket_error_string(at[i].s));
		wk_socket_free(at[i].s);
		at[i].s = NULL;
	}
	return -1;
}

/* Sleeps until an attempt finishes or the time wake (ms) comes. */
static void
race_sleep(struct race *r, int64_t wake)
{
	struct timespec ts;

	pthread_mutex_lock(&r->lock);
	if (wake == FOREVER) {
		while (r->finished == 0)
			pthread_cond_wait(&r->done, &r->lock);
	} else {
		ts.tv_sec = (time_t)(wake / 1000);
		ts.tv_nsec = (long)(wake % 1000) * 1000000;
		while (r->finished == 0 && now_ms() < wake)
			if (pthread_cond_timedwait(&r->done, &r->lock,
			    &ts) == ETIMEDOUT)
				break;
	}
	pthread_mutex_unlock(&r->lock);
}

static int64_t
race_wake(int64_t deadline, bool more, int64_t next_at)
{
	return more && next_at < deadline ? next_at : deadline;
}

/* Runs the race over at[0..n); the connected socket, or NULL. */
static wk_socket *
race_run(struct race *r, struct attempt *at, size_t n, const struct opts *o,
    int64_t deadline, int *status)
{
	wk_error last = WK_HOST_NOT_FOUND;
	unsigned running = 0;
	int64_t next_at = 0, now;
	size_t next = 0;
	ssize_t won;

	for (;;) {
		now = now_ms();
		/* RFC 8305: the next one 250 ms on, or now when none runs. */
		while (next < n && running < MAX_RUNNING &&
		    (running == 0 || now >= next_at)) {
			next_at = now + ATTEMPT_DELAY_MS;
			if (attempt_start(&at[next++], o)) {
				running++;
			} else {
				diag("connect: out of memory or threads");
				last = WK_SOCKET_RESOURCE;
			}
		}
		if (running == 0) {
			*status = status_of(last);
			return NULL;
		}
		/* At MAX_RUNNING, the next start waits for an end. */
		race_sleep(r, race_wake(deadline, next < n &&
		    running < MAX_RUNNING, next_at));
		if ((won = race_reap(r, at, n, o, &running, &last)) >= 0) {
			wk_socket *s = at[won].s;

			at[won].s = NULL;
			race_abandon(at, n, o, "abandoned after");
			return s;
		}
		if (now_ms() >= deadline && running > 0) {
			race_abandon(at, n, o, "timed out after");
			if (!o->verbose)
				diag("connect to %s port %u: timed out "
				    "after %d ms", o->host, (unsigned)o->port,
				    o->wait_ms);
			*status = EXIT_TIMEOUT;
			return NULL;
		}
	}
}

/* A TCP connection to one of addrs, or NULL with *status set. */
static wk_socket *
race_connect(const wk_addr *addrs, size_t n, const struct opts *o,
    int64_t deadline, int *status)
{
	struct attempt *at = calloc(n ? n : 1, sizeof(*at));
	pthread_condattr_t attr;
	struct race r;
	wk_socket *s;

	if (!at) {
		diag("out of memory");
		*status = EXIT_OTHER;
		return NULL;
	}
	pthread_mutex_init(&r.lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&r.done, &attr);
	pthread_condattr_destroy(&attr);
	r.finished = 0;
	for (size_t i = 0; i < n; i++) {
		at[i].race = &r;
		at[i].addr = addrs[i];
		at[i].port = o->port;
	}
	s = race_run(&r, at, n, o, deadline, status);
	race_abandon(at, n, o, "abandoned after");
	pthread_cond_destroy(&r.done);
	pthread_mutex_destroy(&r.lock);
	free(at);
	return s;
}

/* ---------------------------------------------------------------- TCP copy */

/*
 * The two directions of a TCP connection, in one thread with poll():
 * the socket's descriptor and standard input.  wirekit buffers reads,
 * so its buffer is emptied before poll() is asked about the descriptor;
 * and standard input is read only while nothing is queued for the
 * socket, which keeps memory bounded when the peer is slow.
 */
struct pump {
	wk_socket *s;
	char *buf;
	bool stdin_open;	/* standard input is read */
	bool shut_due;		/* it ended: half-close once the queue is out */
	bool hold_read;		/* the peer ended while output was queued */
	bool queued, ready;	/* as pump_wait() found them */
	struct pollfd fds[2];	/* the socket and standard input, or fewer */
	int sock, in;		/* their indexes in fds, or -1 */
	int status;
};

/* The connection ended, or failed: what the exit status becomes. */
static int
pump_ended(struct pump *p)
{
	wk_error code = wk_socket_error(p->s);

	if (code != WK_NO_ERROR && code != WK_REMOTE_HOST_CLOSED &&
	    code != WK_OPERATION) {
		diag("%s", wk_socket_error_string(p->s));
		return status_of(code);	/* a keep-alive timeout is 5 */
	}
	return p->status;
}

/* Input from the peer; 1 to go on, 0 at its end, -1 on failure. */
static int
pump_socket(struct pump *p)
{
	ssize_t n = wk_socket_read(p->s, p->buf, CHUNK);

	if (n > 0)
		return write_out(p->buf, (size_t)n) ? 1 : -1;
	if (n < 0)
		return 0;
	/*
	 * Readable, yet nothing: the peer's end came while bytes were
	 * queued, and wirekit closes once they are out.  Until then the
	 * descriptor stays readable, so poll() must not ask.
	 */
	if (wk_socket_bytes_to_write(p->s) > 0)
		p->hold_read = true;
	return 1;
}

static void
pump_stdin(struct pump *p)
{
	ssize_t n = read(STDIN_FILENO, p->buf, CHUNK);

	if (n > 0) {
		if (wk_socket_write(p->s, p->buf, (size_t)n) < 0) {
			diag("%s", wk_socket_error_string(p->s));
			p->status = EXIT_OTHER;
			p->stdin_open = false;
		}
		return;
	}
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n < 0)
		diag("read from standard input: %s", strerror(errno));
	p->stdin_open = false;
	p->shut_due = true;
}

/* Sends what is queued; false when the connection failed doing it. */
static bool
pump_flush(struct pump *p)
{
	wk_socket_flush(p->s);
	if (wk_socket_state(p->s) == WK_STATE_UNCONNECTED &&
	    wk_socket_error(p->s) != WK_NO_ERROR &&
	    wk_socket_error(p->s) != WK_REMOTE_HOST_CLOSED) {
		diag("%s", wk_socket_error_string(p->s));
		p->status = EXIT_OTHER;
		return false;
	}
	if (wk_socket_bytes_to_write(p->s) == 0)
		p->hold_read = false;
	return true;
}

/*
 * The end of standard input: once everything is with the kernel, close
 * the sending side (a half-close), so that the peer reads the end and
 * can answer it, while the connection stays open for its answer.
 */
static void
pump_half_close(struct pump *p)
{
	if (!p->shut_due || wk_socket_bytes_to_write(p->s) > 0)
		return;
	p->shut_due = false;
	/* A connection that ended already has nothing to close. */
	if (!wk_socket_close_write(p->s) &&
	    wk_socket_state(p->s) == WK_STATE_CONNECTED)
		diag("%s", wk_socket_error_string(p->s));
}

/* Waits for something to do: poll()'s result. */
static int
pump_wait(struct pump *p, int idle_ms)
{
	int fd = wk_socket_descriptor(p->s);
	nfds_t nfds = 0;
	short events;

	p->queued = wk_socket_bytes_to_write(p->s) > 0;
	/* Unread bytes, or an end to collect: no waiting now. */
	p->ready = wk_socket_bytes_available(p->s) > 0 || fd < 0;
	events = (short)((p->ready || p->hold_read ? 0 : POLLIN) |
	    (p->queued ? POLLOUT : 0));
	p->sock = p->in = -1;
	if (fd >= 0 && events) {
		p->fds[nfds] = (struct pollfd){ .fd = fd, .events = events };
		p->sock = (int)nfds++;
	}
	if (p->stdin_open && !p->queued) {
		p->fds[nfds] = (struct pollfd){ .fd = STDIN_FILENO,
		    .events = POLLIN };
		p->in = (int)nfds++;
	}
	return poll(p->fds, nfds, p->ready ? 0 : idle_ms);
}

/* Does what poll() found to do: 1 to go on, 0 at the end, -1 on failure. */
static int
pump_step(struct pump *p)
{
	short revents = p->sock >= 0 ? p->fds[p->sock].revents : 0;
	int r;

	if (p->queued && (revents & (POLLOUT | POLLERR | POLLHUP)) &&
	    !pump_flush(p))
		return 1;	/* the next read collects the end */
	if (p->ready || (!p->hold_read &&
	    (revents & (POLLIN | POLLERR | POLLHUP)))) {
		if ((r = pump_socket(p)) <= 0)
			return r;
	}
	if (p->in >= 0 && p->fds[p->in].revents)
		pump_stdin(p);
	pump_half_close(p);
	return 1;
}

/* Returns the exit status once the peer has ended the connection. */
static int
copy_tcp(wk_socket *s, const struct opts *o)
{
	struct pump p = { .s = s, .stdin_open = !o->no_stdin };
	int status, n;

	if (!(p.buf = malloc(CHUNK))) {
		diag("out of memory");
		return EXIT_OTHER;
	}
	for (;;) {
		if ((n = pump_wait(&p, o->wait_ms)) < 0) {
			if (errno == EINTR)
				continue;
			diag("poll: %s", strerror(errno));
			status = EXIT_OTHER;
			break;
		}
		if (n == 0 && !p.ready) {
			diag("no data for %d ms: giving up", o->wait_ms);
			status = EXIT_TIMEOUT;
			break;
		}
		if ((n = pump_step(&p)) <= 0) {
			status = n < 0 ? EXIT_OTHER : pump_ended(&p);
			break;
		}
	}
	free(p.buf);
	return status;
}

/* ---------------------------------------------------------------- UDP */

/*
 * A UDP exchange, in one thread with poll(): datagrams received go to
 * standard output, and standard input goes out in datagrams of at most
 * UDP_CHUNK bytes, one for each read(2), to the connected peer (client)
 * or to the last sender (-l).  A chunk the system cannot take now waits
 * for room, and standard input waits with it.
 */
struct udp {
	wk_socket *s;
	const struct opts *o;
	bool connected;		/* a client: wk_socket_read()/write() */
	bool have_peer;		/* -l: someone has sent */
	wk_addr peer;
	uint16_t peer_port;
	char *in;		/* a datagram to send */
	size_t in_len;
	bool in_pending;
	char *out;		/* a datagram received */
};

static void
udp_new_peer(struct udp *u, const wk_addr *from, uint16_t port)
{
	char text[WK_ADDR_STRLEN];

	if (u->have_peer && wk_addr_equal(&u->peer, from, 0) &&
	    u->peer_port == port)
		return;
	u->have_peer = true;
	u->peer = *from;
	u->peer_port = port;
	if (u->o->verbose) {
		wk_addr_format(from, text, sizeof(text));
		diag("datagrams from %s port %u", text, (unsigned)port);
	}
}

/*
 * Every datagram waiting; the exit status on failure, or 0.  No peek
 * first: a peek would take the error of an ICMP "port unreachable" and
 * the read would never see it.  A client's wk_socket_read() returns 0
 * both for none waiting and for an empty datagram; after an empty one
 * poll() reports the rest.
 */
static int
udp_receive(struct udp *u)
{
	for (;;) {
		wk_addr from;
		uint16_t port;
		ssize_t n;

		if (u->connected)
			n = wk_socket_read(u->s, u->out, DATAGRAM_MAX);
		else
			n = wk_udp_read_datagram(u->s, u->out, DATAGRAM_MAX,
			    &from, &port);
		if (n < 0) {
			if (wk_socket_error(u->s) == WK_TEMPORARY)
				return 0;
			diag("%s", wk_socket_error_string(u->s));
			return status_of(wk_socket_error(u->s));
		}
		if (!u->connected)
			udp_new_peer(u, &from, port);
		else if (n == 0)
			return 0;
		if (n > 0 && !write_out(u->out, (size_t)n))
			return EXIT_OTHER;
	}
}

/* Sends the pending chunk; the exit status on failure, or 0. */
static int
udp_send(struct udp *u)
{
	ssize_t n;

	if (u->connected)
		n = wk_socket_write(u->s, u->in, u->in_len);
	else
		n = wk_udp_write_datagram(u->s, u->in, u->in_len, &u->peer,
		    u->peer_port);
	if (n >= 0) {
		u->in_pending = false;
		return 0;
	}
	if (wk_socket_error(u->s) == WK_TEMPORARY)
		return 0;	/* no room now: poll() says when */
	diag("%s", wk_socket_error_string(u->s));
	return status_of(wk_socket_error(u->s));
}

static int
udp_loop(struct udp *u)
{
	bool stdin_open = !u->o->no_stdin;
	int status = 0;

	while (status == 0) {
		struct pollfd fds[2] = {
			{ .fd = wk_socket_descriptor(u->s), .events = POLLIN },
		};
		bool want_in = stdin_open && !u->in_pending &&
		    (u->connected || u->have_peer);
		int n;

		if (u->in_pending)
			fds[0].events |= POLLOUT;
		fds[1] = (struct pollfd){ .fd = want_in ? STDIN_FILENO : -1,
		    .events = POLLIN };
		if ((n = poll(fds, 2, u->o->wait_ms)) < 0) {
			if (errno == EINTR)
				continue;
			diag("poll: %s", strerror(errno));
			return EXIT_OTHER;
		}
		if (n == 0)
			return 0;	/* -w: the end of a UDP exchange */
		if (fds[0].revents & (POLLIN | POLLERR))
			status = udp_receive(u);
		if (status == 0 && u->in_pending && (fds[0].revents & POLLOUT))
			status = udp_send(u);
		if (status == 0 && fds[1].revents) {
			ssize_t got = read(STDIN_FILENO, u->in, UDP_CHUNK);

			if (got > 0) {
				u->in_len = (size_t)got;
				u->in_pending = true;
				status = udp_send(u);
			} else if (got == 0 || (errno != EINTR &&
			    errno != EAGAIN)) {
				stdin_open = false;
			}
		}
	}
	return status;
}

static int
udp_run(wk_socket *s, const struct opts *o, bool connected)
{
	struct udp u = { .s = s, .o = o, .connected = connected };
	int status;

	u.in = malloc(UDP_CHUNK);
	u.out = malloc(DATAGRAM_MAX);
	if (!u.in || !u.out) {
		diag("out of memory");
		status = EXIT_OTHER;
	} else {
		status = udp_loop(&u);
	}
	free(u.in);
	free(u.out);
	return status;
}

static int
udp_client(const struct opts *o)
{
	int64_t deadline = o->wait_ms >= 0 ? now_ms() + o->wait_ms : FOREVER;
	char text[WK_ADDR_STRLEN];
	wk_addr *addrs = NULL;
	size_t n = 0;
	wk_socket *s;
	int status;

	if ((status = resolve(o, o->host, deadline, &addrs, &n)) != 0)
		return status;
	/* UDP has no handshake to race: the first address it is. */
	if (!(s = wk_udp_socket()) ||
	    !wk_socket_connect_addr(s, &addrs[0], o->port) ||
	    !wk_socket_wait_connected(s, remaining(deadline))) {
		diag("%s", s ? wk_socket_error_string(s) : "out of memory");
		status = s ? status_of(wk_socket_error(s)) : EXIT_OTHER;
	} else {
		if (o->verbose) {
			wk_addr_format(&addrs[0], text, sizeof(text));
			diag("sending to %s port %u (%s, UDP)", text,
			    (unsigned)o->port, family_name(&addrs[0]));
		}
		status = udp_run(s, o, true);
	}
	free(addrs);
	wk_socket_free(s);
	return status;
}

/* ---------------------------------------------------------------- listen */

/* -l's address: NULL for any (of -4/-6's family), or the first found. */
static int
listen_addr(const struct opts *o, wk_addr *addr, const wk_addr **out)
{
	int64_t deadline = o->wait_ms >= 0 ? now_ms() + o->wait_ms : FOREVER;
	wk_addr *addrs;
	size_t n;
	int status;

	*out = addr;
	if (!o->host) {
		if (o->family == WK_FAMILY_ANY)
			*out = NULL;
		else
			*addr = wk_addr_special(o->family == WK_FAMILY_IPV4 ?
			    WK_ADDR_ANY_IPV4 : WK_ADDR_ANY_IPV6);
		return 0;
	}
	if ((status = resolve(o, o->host, deadline, &addrs, &n)) != 0)
		return status;
	*addr = addrs[0];
	free(addrs);
	return 0;
}

static void
say_listening(const wk_addr *addr, uint16_t port, const char *what)
{
	char text[WK_ADDR_STRLEN];

	/* The dual-stack any address has no text form of its own. */
	if (addr->family == WK_FAMILY_ANY)
		snprintf(text, sizeof(text), ":: and 0.0.0.0");
	else
		wk_addr_format(addr, text, sizeof(text));
	diag("listening on %s port %u%s", text, (unsigned)port, what);
}

/* "ADDR port P" of a connection's peer, kept for after its end. */
static void
peer_text(wk_socket *s, char *buf, size_t size)
{
	char text[WK_ADDR_STRLEN];
	wk_addr peer = wk_socket_peer_address(s);

	wk_addr_format(&peer, text, sizeof(text));
	snprintf(buf, size, "%s port %u", text,
	    (unsigned)wk_socket_peer_port(s));
}

static int
udp_listen(const struct opts *o)
{
	const wk_addr *where;
	wk_addr addr;
	wk_socket *s;
	int status;

	if ((status = listen_addr(o, &addr, &where)) != 0)
		return status;
	if (!(s = wk_udp_socket()) ||
	    !wk_socket_bind(s, where, o->port, WK_DONT_SHARE_ADDRESS)) {
		diag("%s", s ? wk_socket_error_string(s) : "out of memory");
		wk_socket_free(s);
		return EXIT_OTHER;
	}
	if (o->verbose) {
		addr = wk_socket_local_address(s);
		say_listening(&addr, wk_socket_local_port(s), " (UDP)");
	}
	status = udp_run(s, o, false);
	wk_socket_free(s);
	return status;
}

static wk_server *
server_open(const struct opts *o, int *status)
{
	const wk_addr *where;
	wk_server *srv;
	wk_addr addr;

	if ((*status = listen_addr(o, &addr, &where)) != 0)
		return NULL;
	if (!(srv = wk_server_new()) || !wk_server_listen(srv, where,
	    o->port)) {
		diag("%s", srv ? wk_server_error_string(srv) :
		    "out of memory");
		wk_server_free(srv);
		*status = EXIT_OTHER;
		return NULL;
	}
	if (o->verbose) {
		addr = wk_server_address(srv);
		say_listening(&addr, wk_server_port(srv), "");
	}
	return srv;
}

/* -l: one connection, then the same copy as a client's. */
static int
tcp_listen(const struct opts *o)
{
	wk_server *srv;
	wk_socket *s;
	bool timed_out;
	int status;

	if (!(srv = server_open(o, &status)))
		return status;
	if (!wk_server_wait_new_connection(srv, o->wait_ms, &timed_out) ||
	    !(s = wk_server_next_pending(srv))) {
		if (timed_out)
			diag("no connection within %d ms", o->wait_ms);
		else
			diag("%s", wk_server_error_string(srv));
		wk_server_free(srv);
		return timed_out ? EXIT_TIMEOUT : EXIT_OTHER;
	}
	wk_server_free(srv);	/* nc takes one client only */
	if (o->verbose) {
		char peer[WK_ADDR_STRLEN + 16];

		peer_text(s, peer, sizeof(peer));
		diag("connection from %s", peer);
	}
	status = copy_tcp(s, o);
	wk_socket_free(s);
	return status;
}

/* -k: standard output failed in a handler; main exits with this. */
static int keep_status;

/* -k: each client on a thread of its own, its bytes to standard output. */
static void
serve_one(wk_socket *s, void *arg)
{
	const struct opts *o = arg;
	char *buf = malloc(SERVE_CHUNK), peer[WK_ADDR_STRLEN + 16];
	ssize_t n;
	bool ok;

	peer_text(s, peer, sizeof(peer));
	if (o->verbose)
		diag("connection from %s", peer);
	while (buf) {
		if ((n = wk_socket_read(s, buf, SERVE_CHUNK)) < 0)
			break;
		if (n > 0) {
			/* Whole chunks: clients interleave, never mix. */
			pthread_mutex_lock(&out_lock);
			if (!(ok = write_out(buf, (size_t)n)))
				keep_status = EXIT_OTHER;
			pthread_mutex_unlock(&out_lock);
			if (!ok) {
				kill(getpid(), SIGTERM);	/* main ends */
				break;
			}
		} else if (!wk_socket_wait_ready_read(s, -1) &&
		    wk_socket_error(s) != WK_REMOTE_HOST_CLOSED) {
			diag("%s", wk_socket_error_string(s));
			break;
		}
	}
	if (!buf)
		diag("out of memory");
	if (o->verbose)
		diag("connection from %s closed", peer);
	free(buf);
}

static int
tcp_serve(const struct opts *o)
{
	wk_serve_options options = { .idle_timeout_ms = o->wait_ms > 0 ?
	    o->wait_ms : 0 };
	sigset_t stops;
	wk_server *srv;
	int status, sig;

	/*
	 * Blocked before any thread starts, so that every thread inherits
	 * the mask, and the signals come to sigwait() below only.
	 */
	sigemptyset(&stops);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stops, NULL);
	if (!(srv = server_open(o, &status)))
		return status;
	if (!wk_server_serve(srv, serve_one, (void *)o, &options)) {
		diag("%s", wk_server_error_string(srv));
		wk_server_free(srv);
		return EXIT_OTHER;
	}
	while (sigwait(&stops, &sig) != 0)
		continue;
	wk_server_drain(srv, GRACE_MS);
	wk_server_free(srv);
	pthread_mutex_lock(&out_lock);
	status = keep_status;
	pthread_mutex_unlock(&out_lock);
	return status;
}

/* ---------------------------------------------------------------- main */

static const char usage_text[] =
    "usage: wirecat [-46dhkluvz] [-w secs] host port\n"
    "       wirecat -l [-46dkuv] [-w secs] [address] port\n";

static void
usage(void)
{
	fputs(usage_text, stderr);
	exit(EXIT_USAGE);
}

/* -h: asked for, so on standard output, with the options. */
static void
help(void)
{
	fputs(usage_text, stdout);
	fputs("  -4, -6   IPv4 or IPv6 only\n"
	    "  -d       do not read standard input (a receiver)\n"
	    "  -k       with -l: serve any number of clients at once\n"
	    "  -l       listen instead of connecting\n"
	    "  -u       UDP\n"
	    "  -v       tell the lookup and each connection attempt\n"
	    "  -w secs  give up a connect, or a connection idle that long\n"
	    "  -z       only check that the port accepts a connection\n"
	    "exit status: 0 ok, 1 error, 2 usage, 3 host not found, "
	    "4 refused, 5 timeout\n", stdout);
	exit(fflush(stdout) == 0 ? EXIT_OK : EXIT_OTHER);
}

static uint16_t
parse_port(const char *text, bool zero_ok)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (!*text || *end || errno || v < (zero_ok ? 0 : 1) || v > 65535) {
		diag("%s: not a port number", text);
		usage();
	}
	return (uint16_t)v;
}

/* -w: seconds, with a fraction if wanted, to milliseconds. */
static int
parse_secs(const char *text)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (!*text || *end || errno || !(v > 0) || v > INT_MAX / 1000) {
		diag("%s: not a number of seconds", text);
		usage();
	}
	return v * 1000 < 1 ? 1 : (int)(v * 1000);
}

static void
parse_args(int argc, char *argv[], struct opts *o)
{
	int c, operands;

	*o = (struct opts){ .family = WK_FAMILY_ANY, .wait_ms = -1 };
	opterr = 0;	/* its messages lack the "wirecat: " */
	while ((c = getopt(argc, argv, ":46dhkluvw:z")) != -1) {
		switch (c) {
		case '4':
		case '6':
			if (o->family != WK_FAMILY_ANY)
				usage();	/* one of the two */
			o->family = c == '4' ? WK_FAMILY_IPV4 :
			    WK_FAMILY_IPV6;
			break;
		case 'd': o->no_stdin = true; break;
		case 'h': help(); break;
		case 'k': o->keep = true; break;
		case 'l': o->listen = true; break;
		case 'u': o->udp = true; break;
		case 'v': o->verbose = true; break;
		case 'w': o->wait_ms = parse_secs(optarg); break;
		case 'z': o->zero = true; break;
		case ':':
			diag("option -%c needs an argument", optopt);
			usage();
			break;
		default:
			diag("unknown option -%c", optopt);
			usage();
		}
	}
	operands = argc - optind;
	if ((o->keep && (!o->listen || o->udp)) ||
	    (o->zero && (o->listen || o->udp)))
		usage();
	if (o->listen && (operands == 1 || operands == 2)) {
		o->host = operands == 2 ? argv[optind] : NULL;
		o->port = parse_port(argv[argc - 1], true);
	} else if (!o->listen && operands == 2) {
		o->host = argv[optind];
		o->port = parse_port(argv[optind + 1], false);
	} else {
		usage();
	}
}

static int
tcp_client(const struct opts *o)
{
	int64_t deadline = o->wait_ms >= 0 ? now_ms() + o->wait_ms : FOREVER;
	wk_addr *addrs = NULL;
	size_t n = 0;
	wk_socket *s;
	int status;

	if ((status = resolve(o, o->host, deadline, &addrs, &n)) != 0)
		return status;
	s = race_connect(addrs, n, o, deadline, &status);
	free(addrs);
	if (!s)
		return status;
	status = o->zero ? EXIT_OK : copy_tcp(s, o);
	wk_socket_free(s);
	return status;
}

/*
 * A closed standard descriptor would be reused by the first socket, and
 * wirecat would then read its own connection as its input.
 */
static void
open_standard_fds(void)
{
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF &&
		    open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			exit(EXIT_OTHER);
}

int
main(int argc, char *argv[])
{
	struct opts o;

	open_standard_fds();
	parse_args(argc, argv, &o);
	/* A reader of standard output that goes away is an EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	if (o.listen && o.udp)
		return udp_listen(&o);
	if (o.listen)
		return o.keep ? tcp_serve(&o) : tcp_listen(&o);
	return o.udp ? udp_client(&o) : tcp_client(&o);
}
