/*
 * dnsd.h - a small authoritative DNS server for the tests, on a thread
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef WIREKIT_TEST_DNSD_H
#define WIREKIT_TEST_DNSD_H

#include <stdbool.h>
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
 *
 * A name of the zone without the type asked for gets NODATA (NOERROR,
 * no answer); any other name under wirekit.test gets NXDOMAIN, both with
 * the zone's SOA in the authority section (RFC 2308).  Names outside the
 * zone are REFUSED.
 */
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

#endif /* WIREKIT_TEST_DNSD_H */
