/*
 * dnsd.c - a small authoritative DNS server for the tests, on a thread
 *
 * One thread serves one UDP socket and a TCP listener on the same port.
 * Answers wait in a queue until they are due, so a latency delays each
 * answer without serialising them.  TCP connections are driven by the
 * same poll() loop, never blocking it.
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
/* A TCP message has a two-byte length (RFC 1035 4.2.2). */
#define MAX_TCP_MSG 65535
/* TCP connections served at once; more are closed at once. */
#define MAX_CONNS 8
/* Packets one query may get: the misbehaviours send up to two first. */
#define MAX_REPLIES 3
/* A wire name is at most 255 bytes; shown with \DDD escapes, 4 each. */
#define MAX_TEXT 1024
/* Distinct (name, type) pairs counted; more are only totalled. */
#define MAX_COUNTS 128

#define FLAG_QR 0x8000u
#define FLAG_AA 0x0400u
#define FLAG_TC 0x0200u
#define FLAG_RD 0x0100u
#define OPCODE_MASK 0x7800u
#define CLASS_IN 1
#define TYPE_SOA 6

enum rcode {
	RCODE_OK = 0, RCODE_FORMERR = 1, RCODE_SERVFAIL = 2,
	RCODE_NXDOMAIN = 3, RCODE_NOTIMP = 4, RCODE_REFUSED = 5
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
	/* The misbehaving names that answer at last (see dnsd.h). */
	{ "tc." ZONE, DNSD_TYPE_A, "192.0.2.15" },
	{ "garbage." ZONE, DNSD_TYPE_A, "192.0.2.16" },
	{ "forged." ZONE, DNSD_TYPE_A, "192.0.2.17" },
	{ "slow." ZONE, DNSD_TYPE_A, "192.0.2.18" },
};

/* What a forged answer (with a wrong ID) claims. */
static const struct rr forged_rrs[] = {
	{ "forged." ZONE, DNSD_TYPE_A, "192.0.2.66" },
	{ "forged." ZONE, DNSD_TYPE_AAAA, "2001:db8::66" },
};

/* Queries for these names are dropped: see label_is(). */
static const char silent_prefix[] = "silent";

enum misbehaviour {
	MB_NONE, MB_SILENT, MB_SERVFAIL, MB_TC, MB_TCFAIL, MB_MANY, MB_JUNK,
	MB_GARBAGE, MB_FORGED, MB_RUNT, MB_SLOW
};

static const struct {
	const char *label;
	enum misbehaviour mb;
} misbehaviours[] = {
	{ silent_prefix, MB_SILENT },
	{ "servfail", MB_SERVFAIL },
	{ "tc", MB_TC },
	{ "tcfail", MB_TCFAIL },
	{ "many", MB_MANY },
	{ "junk", MB_JUNK },
	{ "garbage", MB_GARBAGE },
	{ "forged", MB_FORGED },
	{ "runt", MB_RUNT },
	{ "slow", MB_SLOW },
};

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

struct out {
	unsigned char b[MAX_TCP_MSG];
	size_t len;
	size_t max;		/* MAX_MSG over UDP, MAX_TCP_MSG over TCP */
	bool full;
};

/* A TCP connection; only the server thread sees these. */
struct conn {
	int fd;			/* -1: the slot is free */
	size_t inlen;
	unsigned char in[2 + MAX_TCP_MSG];
	unsigned char *out;	/* answers not sent yet, with their lengths */
	size_t outlen, outoff;
};

struct dnsd {
	int fd;
	int tcp_fd;		/* the TCP listener, -1 without */
	int wake[2];		/* written once by dnsd_stop() */
	uint16_t port;
	pthread_t thread;
	struct delayed *queue;
	/* the server thread's own */
	struct out *replies;	/* MAX_REPLIES of them */
	struct conn *conns;	/* MAX_CONNS of them */
	pthread_mutex_t lock;	/* guards the fields below */
	int latency_ms;
	size_t ncounts;
	unsigned uncounted;
	unsigned tcp_queries;
	struct count counts[MAX_COUNTS];
};

struct query {
	unsigned id, flags, type, class;
	size_t end;		/* offset just past the question */
	char name[MAX_TEXT];
};

static unsigned
get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static void
put(struct out *o, const void *p, size_t n)
{
	if (o->full || n > o->max - o->len) {
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

/* "label" or "label-*", one label under the zone. */
static bool
label_is(const char *name, const char *label)
{
	const char *dot = strchr(name, '.');
	size_t n = strlen(label);

	return dot != NULL && strcasecmp(dot + 1, ZONE) == 0 &&
	    strncasecmp(name, label, n) == 0 &&
	    (name[n] == '.' || name[n] == '-');
}

/* How name misbehaves; *base is the name its records are under. */
static enum misbehaviour
misbehaviour_of(const char *name, char *base, size_t size)
{
	size_t i;

	for (i = 0; i < sizeof(misbehaviours) / sizeof(misbehaviours[0]);
	    i++) {
		if (label_is(name, misbehaviours[i].label)) {
			snprintf(base, size, "%s.%s", misbehaviours[i].label,
			    ZONE);
			return misbehaviours[i].mb;
		}
	}
	snprintf(base, size, "%s", name);
	return MB_NONE;
}

/*
 * "h<N>.wirekit.test", N from 0 to 999999 in decimal without leading
 * zeros: a generated name for bulk tests; *n gets N.
 */
static bool
generated(const char *name, unsigned *n)
{
	const char *p = name + 1;
	unsigned v = 0;

	if (name[0] != 'h' && name[0] != 'H')
		return false;
	if (*p < '0' || *p > '9' || (*p == '0' && p[1] != '.'))
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > DNSD_GEN_MAX)
			return false;
	}
	if (*p != '.' || strcasecmp(p + 1, ZONE) != 0)
		return false;
	*n = v;
	return true;
}

void
dnsd_gen_addr(unsigned n, char *buf, size_t size)
{
	snprintf(buf, size, "10.%u.%u.%u", n >> 16 & 0xff, n >> 8 & 0xff,
	    n & 0xff);
}

static bool
name_exists(const char *name)
{
	size_t i;
	unsigned n;

	if (strcasecmp(name, ZONE) == 0 || strcasecmp(name, "many." ZONE) == 0)
		return true;
	if (generated(name, &n))
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

void
dnsd_many_addr(unsigned i, char *buf, size_t size)
{
	unsigned n = i + 1;	/* no address ending in .0 */

	snprintf(buf, size, "198.18.%u.%u", n >> 8 & 0xff, n & 0xff);
}

/* The A records of many.wirekit.test; their count. */
static unsigned
put_many(struct out *o)
{
	char text[INET_ADDRSTRLEN];
	struct rr rr = { "many." ZONE, DNSD_TYPE_A, text };
	unsigned i;

	for (i = 0; i < DNSD_MANY; i++) {
		dnsd_many_addr(i, text, sizeof(text));
		put_answer(o, &rr);
	}
	return DNSD_MANY;
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

/*
 * The records of name (the question's, or the one a misbehaving name
 * answers for) after the question; the header's counts set.
 */
static void
put_records(struct out *o, const struct query *q, const char *name,
    const struct rr *rrs, size_t nrrs)
{
	unsigned ancount = 0, i, gen;
	int rcode = RCODE_OK;

	for (i = 0; q->class == CLASS_IN && i < nrrs; i++) {
		if ((int)q->type == rrs[i].type &&
		    strcasecmp(name, rrs[i].name) == 0) {
			put_answer(o, &rrs[i]);
			ancount++;
		}
	}
	if (q->class == CLASS_IN && q->type == DNSD_TYPE_A &&
	    strcasecmp(name, "many." ZONE) == 0)
		ancount += put_many(o);
	if (q->class == CLASS_IN && q->type == DNSD_TYPE_A &&
	    generated(name, &gen)) {
		char text[INET_ADDRSTRLEN];
		struct rr rr = { name, DNSD_TYPE_A, text };

		dnsd_gen_addr(gen, text, sizeof(text));
		put_answer(o, &rr);
		ancount++;
	}
	if (q->class != CLASS_IN)
		rcode = RCODE_REFUSED;
	else if (!name_exists(name))
		rcode = RCODE_NXDOMAIN;
	if (rcode != RCODE_REFUSED && ancount == 0)
		put_soa(o);
	patch16(o, 2, get16(o->b + 2) | (unsigned)rcode);
	patch16(o, 6, ancount);
	patch16(o, 8, rcode != RCODE_REFUSED && ancount == 0);
}

static void
record(struct dnsd *d, const char *name, int type, bool tcp)
{
	size_t i;

	pthread_mutex_lock(&d->lock);
	if (tcp)
		d->tcp_queries++;
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

/* The header and question alone, with TC: "ask again over TCP". */
static void
truncate_answer(struct out *o, const unsigned char *msg,
    const struct query *q)
{
	o->len = 0;
	o->full = false;
	put_header(o, q, RCODE_OK);
	patch16(o, 2, get16(o->b + 2) | FLAG_TC);
	put(o, msg + 12, q->end - 12);
	patch16(o, 4, 1);
}

/* A deterministic PRNG (xorshift32) for the garbage. */
static uint32_t
next_random(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* Random bytes whose first two, the ID, are never q's. */
static void
put_garbage(struct out *o, const struct query *q)
{
	uint32_t x = 0x9e3779b9u ^ q->id;
	size_t i;

	o->len = 0;
	for (i = 0; i < 48; i++)
		o->b[o->len++] = (unsigned char)next_random(&x);
	patch16(o, 0, q->id ^ 0x5a5a);
}

/* A well-formed answer to q, but for another ID, with forged records. */
static void
put_forged(struct out *o, const unsigned char *msg, const struct query *q)
{
	struct query other = *q;

	other.id = (q->id + 1) & 0xffff;
	put_header(o, &other, RCODE_OK);
	put(o, msg + 12, q->end - 12);
	patch16(o, 4, 1);
	put_records(o, q, "forged." ZONE, forged_rrs,
	    sizeof(forged_rrs) / sizeof(forged_rrs[0]));
}

/*
 * The packets that answer msg, in order, in d->replies: their count (0
 * when nothing is sent), or -1 when a TCP connection is to be closed.
 * *delay_ms is set for an answer held back whatever the latency.
 */
static int
respond(struct dnsd *d, const unsigned char *msg, size_t len, bool tcp,
    int *delay_ms)
{
	struct out *o = d->replies;
	size_t max = tcp ? MAX_TCP_MSG : MAX_MSG;
	char base[MAX_TEXT + sizeof(ZONE) + 2];
	enum misbehaviour mb;
	struct query q;
	int rcode = parse_query(msg, len, &q), n = 0, i;

	*delay_ms = -1;
	for (i = 0; i < MAX_REPLIES; i++) {
		d->replies[i].len = 0;
		d->replies[i].max = max;
		d->replies[i].full = false;
	}
	if (rcode < 0)
		return 0;
	if (rcode != RCODE_OK) {
		put_header(o, &q, rcode);
		return 1;
	}
	record(d, q.name, (int)q.type, tcp);
	mb = misbehaviour_of(q.name, base, sizeof(base));
	if (mb == MB_SILENT)
		return 0;
	if (mb == MB_TCFAIL && tcp)
		return -1;
	if (!tcp) {
		switch (mb) {
		case MB_TC:
		case MB_TCFAIL:
			truncate_answer(o, msg, &q);
			return 1;
		case MB_JUNK:
			put_garbage(o, &q);
			return 1;
		case MB_GARBAGE:
			put_garbage(&d->replies[n++], &q);
			break;
		case MB_FORGED:
			put_forged(&d->replies[n++], msg, &q);
			break;
		case MB_RUNT:
			o->len = 4;
			memcpy(o->b, msg, 4);
			o->b[2] |= FLAG_QR >> 8;
			return 1;
		case MB_SERVFAIL:
			break;
		case MB_SLOW:
			*delay_ms = DNSD_SLOW_MS;
			break;
		default:
			break;
		}
	}
	o = &d->replies[n++];
	if (mb == MB_SERVFAIL) {
		put_header(o, &q, RCODE_SERVFAIL);
		put(o, msg + 12, q.end - 12);
		patch16(o, 4, 1);
		return n;
	}
	put_header(o, &q, RCODE_OK);
	put(o, msg + 12, q.end - 12);
	patch16(o, 4, 1);
	if (!in_zone(q.name))
		patch16(o, 2, get16(o->b + 2) | RCODE_REFUSED);
	else
		put_records(o, &q, base, zone, sizeof(zone) / sizeof(zone[0]));
	/* Too long for UDP: truncated, so that the client asks over TCP. */
	if (o->full && !tcp)
		truncate_answer(o, msg, &q);
	return o->full ? n - 1 : n;
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
	struct delayed *e, **tail;

	if (o->len > sizeof(e->msg))
		return;		/* only UDP answers wait, and they fit */
	e = calloc(1, sizeof(*e));
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
	ssize_t n;
	int latency, delay, count, i;

	for (;;) {
		peerlen = sizeof(peer);
		n = recvfrom(d->fd, msg, sizeof(msg), MSG_TRUNC,
		    (struct sockaddr *)&peer, &peerlen);
		if (n < 0)
			return;
		/* Only the header of a larger query is read: FORMERR. */
		count = respond(d, msg, n > MAX_MSG ? 12 : (size_t)n, false,
		    &delay);
		pthread_mutex_lock(&d->lock);
		latency = d->latency_ms;
		pthread_mutex_unlock(&d->lock);
		if (delay >= 0)
			latency = delay;
		for (i = 0; i < count; i++) {
			const struct out *o = &d->replies[i];

			if (latency > 0)
				enqueue(d, o, latency, &peer, peerlen);
			else
				sendto(d->fd, o->b, o->len, 0,
				    (struct sockaddr *)&peer, peerlen);
		}
	}
}

/* ---------------------------------------------------------------- TCP */

static void
conn_close(struct conn *c)
{
	close(c->fd);
	c->fd = -1;
	c->inlen = 0;
	free(c->out);
	c->out = NULL;
	c->outlen = c->outoff = 0;
}

/* Queues an answer with its length; false when memory runs out. */
static bool
conn_queue(struct conn *c, const struct out *o)
{
	unsigned char *p = realloc(c->out, c->outlen + 2 + o->len);

	if (p == NULL)
		return false;
	c->out = p;
	p[c->outlen] = o->len >> 8 & 0xff;
	p[c->outlen + 1] = o->len & 0xff;
	memcpy(p + c->outlen + 2, o->b, o->len);
	c->outlen += 2 + o->len;
	return true;
}

/* Sends what it can of the queue, without waiting. */
static bool
conn_flush(struct conn *c)
{
	ssize_t n;

	while (c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK;
		c->outoff += (size_t)n;
	}
	free(c->out);
	c->out = NULL;
	c->outlen = c->outoff = 0;
	return true;
}

/* Reads what came and answers every whole message; false to close. */
static bool
conn_read(struct dnsd *d, struct conn *c)
{
	size_t len;
	ssize_t n;
	int count, delay, i;

	n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen,
	    MSG_DONTWAIT);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ||
		    errno == EWOULDBLOCK;
	if (n == 0)
		return false;	/* the client is done: answers are out */
	c->inlen += (size_t)n;
	while (c->inlen >= 2 && c->inlen >= 2 + (len = get16(c->in))) {
		count = respond(d, c->in + 2, len, true, &delay);
		if (count < 0)
			return false;
		for (i = 0; i < count; i++)
			if (!conn_queue(c, &d->replies[i]))
				return false;
		memmove(c->in, c->in + 2 + len, c->inlen - 2 - len);
		c->inlen -= 2 + len;
	}
	return conn_flush(c);
}

static void
conn_accept(struct dnsd *d)
{
	int fd, i;

	for (;;) {
		fd = accept4(d->tcp_fd, NULL, NULL, SOCK_NONBLOCK |
		    SOCK_CLOEXEC);
		if (fd < 0)
			return;
		for (i = 0; i < MAX_CONNS && d->conns[i].fd >= 0; i++)
			;
		if (i == MAX_CONNS) {
			close(fd);
			continue;
		}
		d->conns[i].fd = fd;
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
	struct pollfd pfd[3 + MAX_CONNS] = {
		{ .fd = d->fd, .events = POLLIN },
		{ .fd = d->wake[0], .events = POLLIN },
		{ .fd = d->tcp_fd, .events = POLLIN },
	};
	struct conn *c;
	int timeout = -1, i;

	for (;;) {
		for (i = 0; i < MAX_CONNS; i++) {
			c = &d->conns[i];
			pfd[3 + i].fd = c->fd;
			pfd[3 + i].events = POLLIN |
			    (c->outoff < c->outlen ? POLLOUT : 0);
			pfd[3 + i].revents = 0;
		}
		if (poll(pfd, 3 + MAX_CONNS, timeout) < 0) {
			if (errno != EINTR)
				break;
			for (i = 0; i < 3 + MAX_CONNS; i++)
				pfd[i].revents = 0;
		}
		if (pfd[1].revents != 0)
			break;
		if (pfd[0].revents & POLLIN)
			receive(d);
		if (pfd[2].revents & POLLIN)
			conn_accept(d);
		for (i = 0; i < MAX_CONNS; i++) {
			c = &d->conns[i];
			if (c->fd < 0 || pfd[3 + i].fd != c->fd ||
			    pfd[3 + i].revents == 0)
				continue;
			if (((pfd[3 + i].revents & POLLOUT) && !conn_flush(c)) ||
			    ((pfd[3 + i].revents & (POLLIN | POLLHUP |
			    POLLERR)) && !conn_read(d, c)))
				conn_close(c);
		}
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
	/*
	 * TCP on the same port, for the answers that do not fit in UDP.
	 * Without it (the port taken) the UDP server works as before.
	 */
	d->tcp_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (d->tcp_fd >= 0) {
		setsockopt(d->tcp_fd, SOL_SOCKET, SO_REUSEADDR, &on,
		    sizeof(on));
		if (bind(d->tcp_fd, (struct sockaddr *)&ss, len) < 0 ||
		    listen(d->tcp_fd, 16) < 0) {
			close(d->tcp_fd);
			d->tcp_fd = -1;
		}
	}
	return 0;
}

struct dnsd *
dnsd_start(const char *addr, uint16_t port, int latency_ms)
{
	struct dnsd *d = calloc(1, sizeof(*d));
	int saved;

	if (d == NULL)
		return NULL;
	d->fd = d->tcp_fd = d->wake[0] = d->wake[1] = -1;
	d->latency_ms = latency_ms;
	pthread_mutex_init(&d->lock, NULL);
	d->replies = calloc(MAX_REPLIES, sizeof(*d->replies));
	d->conns = calloc(MAX_CONNS, sizeof(*d->conns));
	if (d->replies == NULL || d->conns == NULL) {
		errno = ENOMEM;
		goto err;
	}
	for (int i = 0; i < MAX_CONNS; i++)
		d->conns[i].fd = -1;
	if (open_socket(d, addr, port) < 0 || pipe2(d->wake, O_CLOEXEC) < 0)
		goto err;
	errno = pthread_create(&d->thread, NULL, serve, d);
	if (errno != 0)
		goto err;
	pthread_setname_np(d->thread, "dnsd");
	return d;
err:
	saved = errno;
	if (d->fd >= 0)
		close(d->fd);
	if (d->tcp_fd >= 0)
		close(d->tcp_fd);
	if (d->wake[0] >= 0)
		close(d->wake[0]);
	if (d->wake[1] >= 0)
		close(d->wake[1]);
	pthread_mutex_destroy(&d->lock);
	free(d->replies);
	free(d->conns);
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
	for (int i = 0; i < MAX_CONNS; i++)
		if (d->conns[i].fd >= 0)
			conn_close(&d->conns[i]);
	close(d->fd);
	if (d->tcp_fd >= 0)
		close(d->tcp_fd);
	close(d->wake[0]);
	close(d->wake[1]);
	pthread_mutex_destroy(&d->lock);
	free(d->replies);
	free(d->conns);
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
	d->tcp_queries = 0;
	pthread_mutex_unlock(&d->lock);
}

unsigned
dnsd_tcp_count(struct dnsd *d)
{
	unsigned n;

	pthread_mutex_lock(&d->lock);
	n = d->tcp_queries;
	pthread_mutex_unlock(&d->lock);
	return n;
}

bool
dnsd_has_tcp(const struct dnsd *d)
{
	return d->tcp_fd >= 0;
}
