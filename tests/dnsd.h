/*
 * dnsd.h - a small authoritative DNS server for the tests, on a thread
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef WIREKIT_TEST_DNSD_H
#define WIREKIT_TEST_DNSD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The zone wirekit.test (RFC 2606 reserves .test), served over UDP with
 * TTL 60 and the AA flag:
 *
 *	a.wirekit.test			A 192.0.2.10
 *	aaaa.wirekit.test		AAAA 2001:db8::10
 *	both.wirekit.test		A 192.0.2.11, AAAA 2001:db8::11
 *	multi.wirekit.test		A 192.0.2.1, 192.0.2.2, 192.0.2.3
 *	xn--bcher-kva.wirekit.test	A 192.0.2.12 ("bücher")
 *	coalesce.wirekit.test		A 192.0.2.13, AAAA 2001:db8::13
 *	silent.wirekit.test		never answered, nor is
 *	silent-*.wirekit.test		(one label: a name for each test)
 *	h<N>.wirekit.test		A dnsd_gen_addr(N), N from 0 to
 *					DNSD_GEN_MAX in decimal, no leading
 *					zero (bulk tests and benchmarks)
 *
 * A name of the zone without the type asked for gets NODATA (NOERROR,
 * no answer); any other name under wirekit.test gets NXDOMAIN, both with
 * the zone's SOA in the authority section (RFC 2308).  Names outside the
 * zone are REFUSED.
 *
 * The same zone is served over TCP on the same address and port (RFC
 * 1035 4.2.2: each message after a two-byte length), several queries a
 * connection, for resolvers that retry there after a truncated answer.
 * A UDP answer that would pass 512 bytes is sent truncated instead: the
 * header and question with the TC bit.
 *
 * Misbehaving names, for the hostile tests.  Like silent, each also
 * answers as "NAME-*.wirekit.test" (one label), so that a test can have a
 * name of its own:
 *
 *	servfail.wirekit.test	SERVFAIL, no records
 *	tc.wirekit.test		UDP: TC and no answer; TCP: A 192.0.2.15
 *	tcfail.wirekit.test	UDP: TC and no answer; TCP: the connection
 *				is closed without an answer
 *	many.wirekit.test	DNSD_MANY A records (dnsd_many_addr()): too
 *				many for UDP (TC), all of them over TCP
 *	junk.wirekit.test	UDP: random bytes with a wrong ID, nothing else
 *	garbage.wirekit.test	UDP: random bytes with a wrong ID, then the
 *				answer A 192.0.2.16
 *	forged.wirekit.test	UDP: a well-formed answer with a wrong ID (A
 *				192.0.2.66, AAAA 2001:db8::66), then the real
 *				answer A 192.0.2.17
 *	runt.wirekit.test	UDP: 4 bytes, shorter than a DNS header
 *	slow.wirekit.test	A 192.0.2.18, each answer held back
 *				DNSD_SLOW_MS whatever the latency
 *
 * Over TCP every name but tcfail and silent is answered normally.
 */
#define DNSD_MANY 1000
#define DNSD_GEN_MAX 999999
#define DNSD_SLOW_MS 10000
#define DNSD_TYPE_A 1
#define DNSD_TYPE_AAAA 28
#define DNSD_TYPE_ANY 0		/* dnsd_count(): every type */

struct dnsd;

/*
 * Serve on addr (IPv4 or IPv6 text) and port (0: any, see dnsd_port()),
 * each answer held back latency_ms without delaying other queries.
 * NULL on failure, with errno set.
 */
struct dnsd *dnsd_start(const char *addr, uint16_t port, int latency_ms);
void dnsd_stop(struct dnsd *d);

uint16_t dnsd_port(const struct dnsd *d);
void dnsd_set_latency(struct dnsd *d, int latency_ms);

/*
 * Queries that arrived for qname (as on the wire, "xn--..." for an IDN,
 * compared without case, a final dot ignored; NULL for every name) and
 * qtype (DNSD_TYPE_ANY for every type), since the start or the last
 * dnsd_reset_counts().
 */
unsigned dnsd_count(struct dnsd *d, const char *qname, int qtype);
bool dnsd_seen(struct dnsd *d, const char *qname);
void dnsd_reset_counts(struct dnsd *d);

/*
 * Queries that arrived over TCP (every name and type), since the start
 * or the last dnsd_reset_counts(); dnsd_count() counts them too.
 */
unsigned dnsd_tcp_count(struct dnsd *d);
/* True when the TCP listener is up (false when its port was taken). */
bool dnsd_has_tcp(const struct dnsd *d);

/* The i-th (from 0) address of many.wirekit.test: 198.18.x.y, as text. */
void dnsd_many_addr(unsigned i, char *buf, size_t size);

/* The address of h<n>.wirekit.test: 10.x.y.z, the low 24 bits of n. */
void dnsd_gen_addr(unsigned n, char *buf, size_t size);

#endif /* WIREKIT_TEST_DNSD_H */
