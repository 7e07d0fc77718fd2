/*
 * dnsd.c - a small authoritative DNS server for the tests, on a thread
 *
 * One thread serves one UDP socket.  Answers wait in a queue until they
 * are due, so a latency delays each answer without serialising them.
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "dnsd.h"

#define ZONE "wirekit.test"
#define TTL 60
/* Without EDNS a UDP message is at most 512 bytes (RFC 1035 4.2.1). */
#define MAX_MSG 512
/* A wire name is at most 255 bytes; shown with \DDD escapes, 4 each. */
#define MAX_TEXT 1024
/* Distinct (name, type) pairs counted; more are only totalled. */
#define MAX_COUNTS 128

#define FLAG_QR 0x8000u
#define FLAG_AA 0x0400u
#define FLAG_RD 0x0100u
#define OPCODE_MASK 0x7800u
#define CLASS_IN 1
#define TYPE_SOA 6

enum rcode {
	RCODE_OK = 0, RCODE_FORMERR = 1, RCODE_NXDOMAIN = 3,
	RCODE_NOTIMP = 4, RCODE_REFUSED = 5
};

static const struct rr {
	const char *name;
	int type;
	const char *data;
} zone[] = {
	{ "a." ZONE, DNSD_TYPE_A, "192.0.2.10" },
	{ "aaaa." ZONE, DNSD_TYPE_AAAA, "2001:db8::10" },
	{ "both." ZONE, DNSD_TYPE_A, "192.0.2.11" },
	{ "both." ZONE, DNSD_TYPE_AAAA, "2001:db8::11" },
	{ "multi." ZONE, DNSD_TYPE_A, "192.0.2.1" },
	{ "multi." ZONE, DNSD_TYPE_A, "192.0.2.2" },
	{ "multi." ZONE, DNSD_TYPE_A, "192.0.2.3" },
	{ "xn--bcher-kva." ZONE, DNSD_TYPE_A, "192.0.2.12" },
	{ "coalesce." ZONE, DNSD_TYPE_A, "192.0.2.13" },
	{ "coalesce." ZONE, DNSD_TYPE_AAAA, "2001:db8::13" },
};

/* Queries for these names are dropped: see is_silent(). */
static const char silent_prefix[] = "silent";

struct count {
	char name[MAX_TEXT];
	int type;
	unsigned n;
};

/* An answer waiting for its time; only the server thread sees these. */
struct delayed {
	struct delayed *next;
	struct timespec due;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	size_t len;
	unsigned char msg[MAX_MSG];
};

struct dnsd {
	int fd;
	int wake[2];		/* written once by dnsd_stop() */
	uint16_t port;
	pthread_t thread;
	struct delayed *queue;
	pthread_mutex_t lock;	/* guards the fields below */
	int latency_ms;
	size_t ncounts;
	unsigned uncounted;
	struct count counts[MAX_COUNTS];
};

struct query {
	unsigned id, flags, type, class;
	size_t end;		/* offset just past the question */
	char name[MAX_TEXT];
};

struct out {
	unsigned char b[MAX_MSG];
	size_t len;
	bool full;
};

static unsigned
get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static void
put(struct out *o, const void *p, size_t n)
{
	if (o->full || n > sizeof(o->b) - o->len) {
		o->full = true;
		return;
	}
	memcpy(o->b + o->len, p, n);
	o->len += n;
}

static void
put16(struct out *o, unsigned v)
{
	unsigned char b[2] = { v >> 8 & 0xff, v & 0xff };

	put(o, b, sizeof(b));
}

static void
put32(struct out *o, uint32_t v)
{
	put16(o, v >> 16);
	put16(o, v & 0xffff);
}

static void
patch16(struct out *o, size_t at, unsigned v)
{
	if (at + 2 <= o->len) {
		o->b[at] = v >> 8 & 0xff;
		o->b[at + 1] = v & 0xff;
	}
}

/* A dotted name of our own (plain labels, no escapes) in wire form. */
static void
put_name(struct out *o, const char *name)
{
	const char *dot;
	size_t len;

	for (; *name != '\0'; name = *dot ? dot + 1 : dot) {
		dot = strchrnul(name, '.');
		len = (size_t)(dot - name);
		put(o, &(unsigned char){ len }, 1);
		put(o, name, len);
	}
	put(o, "", 1);
}

/* One label's bytes as text; '.', '\\' and unprintables escaped. */
static size_t
label_text(const unsigned char *p, size_t len, char *out)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		if (p[i] == '.' || p[i] == '\\')
			n += (size_t)sprintf(out + n, "\\%c", p[i]);
		else if (p[i] <= ' ' || p[i] >= 0x7f)
			n += (size_t)sprintf(out + n, "\\%03u", p[i]);
		else
			out[n++] = (char)p[i];
	}
	return n;
}

/*
 * The question's name at *off as text.  Every byte is checked against
 * len; compression pointers (never needed in a question) are refused.
 */
static int
parse_name(const unsigned char *msg, size_t len, size_t *off, char *out)
{
	size_t o = *off, n = 0, wire = 1, l;

	for (;;) {
		if (o >= len)
			return -1;
		l = msg[o++];
		if (l == 0)
			break;
		if (l > 63 || l > len - o || (wire += l + 1) > 255)
			return -1;
		if (n > 0)
			out[n++] = '.';
		n += label_text(msg + o, l, out + n);
		o += l;
	}
	out[n] = '\0';
	*off = o;
	return 0;
}

/* 0 for a query to answer, an rcode for a header-only error, -1 to drop. */
static int
parse_query(const unsigned char *msg, size_t len, struct query *q)
{
	size_t off = 12;

	if (len < 12)
		return -1;
	q->id = get16(msg);
	q->flags = get16(msg + 2);
	if (q->flags & FLAG_QR)
		return -1;	/* a response: answering could loop */
	if (q->flags & OPCODE_MASK)
		return RCODE_NOTIMP;
	if (get16(msg + 4) != 1 || parse_name(msg, len, &off, q->name) < 0 ||
	    len - off < 4)
		return RCODE_FORMERR;
	q->type = get16(msg + off);
	q->class = get16(msg + off + 2);
	q->end = off + 4;
	return RCODE_OK;
}

static bool
in_zone(const char *name)
{
	size_t n = strlen(name), z = strlen(ZONE);

	if (n == z)
		return strcasecmp(name, ZONE) == 0;
	return n > z && name[n - z - 1] == '.' &&
	    strcasecmp(name + n - z, ZONE) == 0;
}

/* "silent" or "silent-*", one label under the zone. */
static bool
is_silent(const char *name)
{
	const char *dot = strchr(name, '.');
	size_t n = strlen(silent_prefix);

	return dot != NULL && strcasecmp(dot + 1, ZONE) == 0 &&
	    strncasecmp(name, silent_prefix, n) == 0 &&
	    (name[n] == '.' || name[n] == '-');
}

static bool
name_exists(const char *name)
{
	size_t i;

	if (strcasecmp(name, ZONE) == 0)
		return true;
	for (i = 0; i < sizeof(zone) / sizeof(zone[0]); i++)
		if (strcasecmp(name, zone[i].name) == 0)
			return true;
	return false;
}

static void
put_header(struct out *o, const struct query *q, int rcode)
{
	put16(o, q->id);
	put16(o, FLAG_QR | FLAG_AA | (q->flags & (OPCODE_MASK | FLAG_RD)) |
	    (unsigned)rcode);
	put16(o, 0);		/* counts are patched in at the end */
	put16(o, 0);
	put16(o, 0);
	put16(o, 0);
}

static void
put_answer(struct out *o, const struct rr *rr)
{
	unsigned char addr[16];
	size_t len = rr->type == DNSD_TYPE_A ? 4 : 16;

	inet_pton(rr->type == DNSD_TYPE_A ? AF_INET : AF_INET6, rr->data, addr);
	put16(o, 0xc000 | 12);	/* the name in the question */
	put16(o, rr->type);
	put16(o, CLASS_IN);
	put32(o, TTL);
	put16(o, len);
	put(o, addr, len);
}

/* RFC 2308: a negative answer carries the SOA, so it can be cached. */
static void
put_soa(struct out *o)
{
	size_t rdlen_at;

	put_name(o, ZONE);
	put16(o, TYPE_SOA);
	put16(o, CLASS_IN);
	put32(o, TTL);
	rdlen_at = o->len;
	put16(o, 0);
	put_name(o, "ns." ZONE);
	put_name(o, "hostmaster." ZONE);
	put32(o, 1);		/* serial */
	put32(o, 3600);		/* refresh */
	put32(o, 600);		/* retry */
	put32(o, 86400);	/* expire */
	put32(o, TTL);		/* minimum: the negative TTL */
	patch16(o, rdlen_at, o->len - rdlen_at - 2);
}

/* The records for the question, after it; the header's counts set. */
static void
put_records(struct out *o, const struct query *q)
{
	unsigned ancount = 0, i;
	int rcode = RCODE_OK;

	for (i = 0; q->class == CLASS_IN && i < sizeof(zone) / sizeof(zone[0]);
	    i++) {
		if ((int)q->type == zone[i].type &&
		    strcasecmp(q->name, zone[i].name) == 0) {
			put_answer(o, &zone[i]);
			ancount++;
		}
	}
	if (q->class != CLASS_IN)
		rcode = RCODE_REFUSED;
	else if (!name_exists(q->name))
		rcode = RCODE_NXDOMAIN;
	if (rcode != RCODE_REFUSED && ancount == 0)
		put_soa(o);
	patch16(o, 2, get16(o->b + 2) | (unsigned)rcode);
	patch16(o, 6, ancount);
	patch16(o, 8, rcode != RCODE_REFUSED && ancount == 0);
}

static void
record(struct dnsd *d, const char *name, int type)
{
	size_t i;

	pthread_mutex_lock(&d->lock);
	for (i = 0; i < d->ncounts; i++)
		if (d->counts[i].type == type &&
		    strcasecmp(d->counts[i].name, name) == 0)
			break;
	if (i == d->ncounts && i < MAX_COUNTS) {
		snprintf(d->counts[i].name, sizeof(d->counts[i].name), "%s",
		    name);
		d->counts[i].type = type;
		d->counts[i].n = 0;
		d->ncounts++;
	}
	if (i < d->ncounts)
		d->counts[i].n++;
	else
		d->uncounted++;
	pthread_mutex_unlock(&d->lock);
}

/* The answer to msg in o; false when there is none to send. */
static bool
respond(struct dnsd *d, const unsigned char *msg, size_t len, struct out *o)
{
	struct query q;
	int rcode = parse_query(msg, len, &q);

	if (rcode < 0)
		return false;
	put_header(o, &q, rcode);
	if (rcode != RCODE_OK)
		return true;
	record(d, q.name, (int)q.type);
	if (is_silent(q.name))
		return false;
	put(o, msg + 12, q.end - 12);
	patch16(o, 4, 1);
	if (!in_zone(q.name))
		patch16(o, 2, get16(o->b + 2) | RCODE_REFUSED);
	else
		put_records(o, &q);
	/* Cannot happen with this zone; a short answer would mislead. */
	return !o->full;
}

static void
add_ms(struct timespec *t, int ms)
{
	t->tv_sec += ms / 1000;
	t->tv_nsec += (long)(ms % 1000) * 1000000;
	if (t->tv_nsec >= 1000000000) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000;
	}
}

/* Milliseconds until t, rounded up so that poll never wakes too early. */
static long
ms_until(const struct timespec *t)
{
	struct timespec now;
	long long ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (long long)(t->tv_sec - now.tv_sec) * 1000000000 +
	    (t->tv_nsec - now.tv_nsec);
	return ns <= 0 ? 0 : (long)((ns + 999999) / 1000000);
}

static void
enqueue(struct dnsd *d, const struct out *o, int latency_ms,
    const struct sockaddr_storage *peer, socklen_t peerlen)
{
	struct delayed *e = calloc(1, sizeof(*e)), **tail;

	if (e == NULL)
		return;		/* a lost answer: the client retries */
	clock_gettime(CLOCK_MONOTONIC, &e->due);
	add_ms(&e->due, latency_ms);
	e->peer = *peer;
	e->peerlen = peerlen;
	e->len = o->len;
	memcpy(e->msg, o->b, o->len);
	for (tail = &d->queue; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = e;
}

static void
receive(struct dnsd *d)
{
	unsigned char msg[MAX_MSG];
	struct sockaddr_storage peer;
	socklen_t peerlen;
	struct out o;
	ssize_t n;
	int latency;

	for (;;) {
		peerlen = sizeof(peer);
		n = recvfrom(d->fd, msg, sizeof(msg), MSG_TRUNC,
		    (struct sockaddr *)&peer, &peerlen);
		if (n < 0)
			return;
		memset(&o, 0, sizeof(o));
		/* Only the header of a larger query is read: FORMERR. */
		if (!respond(d, msg, n > MAX_MSG ? 12 : (size_t)n, &o))
			continue;
		pthread_mutex_lock(&d->lock);
		latency = d->latency_ms;
		pthread_mutex_unlock(&d->lock);
		if (latency > 0)
			enqueue(d, &o, latency, &peer, peerlen);
		else
			sendto(d->fd, o.b, o.len, 0, (struct sockaddr *)&peer,
			    peerlen);
	}
}

/* Send the due answers; the poll timeout until the next, or -1. */
static int
send_due(struct dnsd *d)
{
	struct delayed **p = &d->queue, *e;
	long next = -1, ms;

	while ((e = *p) != NULL) {
		ms = ms_until(&e->due);
		if (ms == 0) {
			sendto(d->fd, e->msg, e->len, 0,
			    (struct sockaddr *)&e->peer, e->peerlen);
			*p = e->next;
			free(e);
			continue;
		}
		if (next < 0 || ms < next)
			next = ms;
		p = &e->next;
	}
	return (int)next;
}

static void *
serve(void *arg)
{
	struct dnsd *d = arg;
	struct pollfd pfd[2] = {
		{ .fd = d->fd, .events = POLLIN },
		{ .fd = d->wake[0], .events = POLLIN },
	};
	int timeout = -1;

	for (;;) {
		if (poll(pfd, 2, timeout) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents != 0)
			break;
		if (pfd[0].revents & POLLIN)
			receive(d);
		timeout = send_due(d);
	}
	return NULL;
}

static int
open_socket(struct dnsd *d, const char *addr, uint16_t port)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len = sizeof(*sin);
	int on = 1;

	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		len = sizeof(*sin6);
	} else {
		errno = EINVAL;
		return -1;
	}
	d->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (d->fd < 0)
		return -1;
	setsockopt(d->fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(d->fd, (struct sockaddr *)&ss, len) < 0 ||
	    getsockname(d->fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	d->port = ntohs(ss.ss_family == AF_INET ? sin->sin_port :
	    sin6->sin6_port);
	return 0;
}

struct dnsd *
dnsd_start(const char *addr, uint16_t port, int latency_ms)
{
	struct dnsd *d = calloc(1, sizeof(*d));
	int saved;

	if (d == NULL)
		return NULL;
	d->fd = d->wake[0] = d->wake[1] = -1;
	d->latency_ms = latency_ms;
	pthread_mutex_init(&d->lock, NULL);
	if (open_socket(d, addr, port) < 0 || pipe2(d->wake, O_CLOEXEC) < 0)
		goto err;
	errno = pthread_create(&d->thread, NULL, serve, d);
	if (errno != 0)
		goto err;
	pthread_setname_np(d->thread, "dnsd");
	return d;
err:
	saved = errno;
	close(d->fd);
	close(d->wake[0]);
	close(d->wake[1]);
	pthread_mutex_destroy(&d->lock);
	free(d);
	errno = saved;
	return NULL;
}

void
dnsd_stop(struct dnsd *d)
{
	struct delayed *e;

	if (d == NULL)
		return;
	while (write(d->wake[1], "", 1) < 0 && errno == EINTR)
		;
	pthread_join(d->thread, NULL);
	while ((e = d->queue) != NULL) {
		d->queue = e->next;
		free(e);
	}
	close(d->fd);
	close(d->wake[0]);
	close(d->wake[1]);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

uint16_t
dnsd_port(const struct dnsd *d)
{
	return d->port;
}

void
dnsd_set_latency(struct dnsd *d, int latency_ms)
{
	pthread_mutex_lock(&d->lock);
	d->latency_ms = latency_ms;
	pthread_mutex_unlock(&d->lock);
}

unsigned
dnsd_count(struct dnsd *d, const char *qname, int qtype)
{
	char name[MAX_TEXT] = "";
	size_t i, len;
	unsigned n = 0;

	if (qname != NULL) {
		len = strlen(qname);
		if (len > 1 && qname[len - 1] == '.')
			len--;
		snprintf(name, sizeof(name), "%.*s", (int)len, qname);
	}
	pthread_mutex_lock(&d->lock);
	for (i = 0; i < d->ncounts; i++)
		if ((qname == NULL || strcasecmp(d->counts[i].name, name) == 0) &&
		    (qtype == DNSD_TYPE_ANY || d->counts[i].type == qtype))
			n += d->counts[i].n;
	if (qname == NULL && qtype == DNSD_TYPE_ANY)
		n += d->uncounted;
	pthread_mutex_unlock(&d->lock);
	return n;
}

bool
dnsd_seen(struct dnsd *d, const char *qname)
{
	return dnsd_count(d, qname, DNSD_TYPE_ANY) > 0;
}

void
dnsd_reset_counts(struct dnsd *d)
{
	pthread_mutex_lock(&d->lock);
	d->ncounts = 0;
	d->uncounted = 0;
	pthread_mutex_unlock(&d->lock);
}
