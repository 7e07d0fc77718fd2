/*
 * addr-private.h - sockaddr conversions, inline here because the
 * datagram paths make one per call; wk_addr_to_sockaddr() and
 * wk_addr_from_sockaddr() are the public forms
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef WIREKIT_ADDR_PRIVATE_H
#define WIREKIT_ADDR_PRIVATE_H

#include <sys/socket.h>

#include <netinet/in.h>

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <wirekit/addr.h>

/* Fills sa (size bytes) for a and port; 0 when a has no usable family. */
static inline size_t
wk__addr_to_sockaddr(const wk_addr *a, uint16_t port, struct sockaddr *sa,
    size_t size)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	if (!a || !sa)
		return 0;
	if (a->family == WK_FAMILY_IPV4) {
		if (size < sizeof(sin))
			return 0;
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(port);
		memcpy(&sin.sin_addr, a->bytes, 4);
		memcpy(sa, &sin, sizeof(sin));
		return sizeof(sin);
	}
	if (a->family != WK_FAMILY_IPV6 && a->family != WK_FAMILY_ANY)
		return 0;
	if (size < sizeof(sin6))
		return 0;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(port);
	if (a->family == WK_FAMILY_IPV6) {
		memcpy(&sin6.sin6_addr, a->bytes, 16);
		sin6.sin6_scope_id = a->scope_id;
	}
	memcpy(sa, &sin6, sizeof(sin6));
	return sizeof(sin6);
}

/*
 * Reads the address and port of sa (len bytes); with unmap, an
 * IPv4-mapped address without a scope comes out as IPv4, as a datagram
 * to a dual-stack socket should.  False when sa is no IPv4 or IPv6
 * address (out is the null address then).
 */
static inline bool
wk__addr_from_sockaddr(wk_addr *out, uint16_t *port,
    const struct sockaddr *sa, size_t len, bool unmap)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
	wk_addr a = { .family = WK_FAMILY_NONE };
	uint16_t p = 0;

	/* The length first: a shorter one may not even hold sa_family. */
	if (sa && len >= sizeof(*sin) && sa->sa_family == AF_INET) {
		a.family = WK_FAMILY_IPV4;
		memcpy(a.bytes, &sin->sin_addr, 4);
		p = ntohs(sin->sin_port);
	} else if (sa && len >= sizeof(*sin6) && sa->sa_family == AF_INET6) {
		p = ntohs(sin6->sin6_port);
		if (unmap && IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) &&
		    !sin6->sin6_scope_id) {
			a.family = WK_FAMILY_IPV4;
			memcpy(a.bytes, sin6->sin6_addr.s6_addr + 12, 4);
		} else {
			a.family = WK_FAMILY_IPV6;
			memcpy(a.bytes, &sin6->sin6_addr, 16);
			a.scope_id = sin6->sin6_scope_id;
		}
	}
	if (out)
		*out = a;
	if (port)
		*port = p;
	return out && a.family != WK_FAMILY_NONE;
}

#endif /* WIREKIT_ADDR_PRIVATE_H */
