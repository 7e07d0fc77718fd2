/*
 * wirekit/addr.h - IPv4 and IPv6 addresses as values
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef WIREKIT_ADDR_H
#define WIREKIT_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <wirekit/common.h>

WK_BEGIN_DECLS

struct sockaddr;

/*
 * Longest text wk_addr_format() writes, with its NUL: 45 characters for
 * "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", '%', an interface name
 * of up to 15 characters (IF_NAMESIZE - 1) or a 10-digit scope number.
 */
#define WK_ADDR_STRLEN 64

/* Values of wk_addr.family. */
typedef enum wk_family {
	WK_FAMILY_NONE = 0,	/* the null address */
	WK_FAMILY_IPV4 = 4,
	WK_FAMILY_IPV6 = 6,
	WK_FAMILY_ANY = 46	/* dual-stack "any": only WK_ADDR_ANY has it */
} wk_family;

/*
 * An address: a small value, copied by assignment.  bytes holds the
 * address in network order (4 bytes for IPv4, 16 for IPv6, the rest
 * zero); scope_id is the IPv6 zone (an interface index), 0 for none.
 * All-zero is the null address.
 */
typedef struct wk_addr {
	uint8_t family;
	uint8_t bytes[16];
	uint32_t scope_id;
} wk_addr;

/* The special addresses of wk_addr_special(), as Qt's SpecialAddress. */
typedef enum wk_special {
	WK_ADDR_NULL = 0,	/* no address */
	WK_ADDR_BROADCAST,	/* 255.255.255.255 */
	WK_ADDR_LOCALHOST,	/* 127.0.0.1 */
	WK_ADDR_LOCALHOST_IPV6,	/* ::1 */
	WK_ADDR_ANY,		/* dual stack: both 0.0.0.0 and :: */
	WK_ADDR_ANY_IPV6,	/* :: */
	WK_ADDR_ANY_IPV4	/* 0.0.0.0 */
} wk_special;

/* Flags for wk_addr_equal(), as Qt's QHostAddress::ConversionMode. */
#define WK_ADDR_CMP_STRICT 0x00u	/* family, bytes and scope all equal */
#define WK_ADDR_CMP_V4_MAPPED 0x01u	/* ::ffff:a.b.c.d equals a.b.c.d */
#define WK_ADDR_CMP_V4_COMPAT 0x02u	/* ::a.b.c.d equals a.b.c.d */
#define WK_ADDR_CMP_UNSPECIFIED 0x04u	/* any, 0.0.0.0 and :: are equal */
#define WK_ADDR_CMP_LOCALHOST 0x08u	/* 127.0.0.1 equals ::1 */
#define WK_ADDR_CMP_TOLERANT 0xffu	/* all of the above */

/* Parsing and formatting. */
WK_API bool wk_addr_parse(wk_addr *out, const char *text);
WK_API bool wk_addr_parse_n(wk_addr *out, const char *text, size_t len);
WK_API size_t wk_addr_format(const wk_addr *a, char *buf, size_t size);

/* Special addresses. */
WK_API wk_addr wk_addr_special(wk_special which);

/* Classification. */
WK_API bool wk_addr_is_null(const wk_addr *a);
WK_API bool wk_addr_is_ipv4(const wk_addr *a);
WK_API bool wk_addr_is_ipv6(const wk_addr *a);
WK_API bool wk_addr_is_loopback(const wk_addr *a);
WK_API bool wk_addr_is_multicast(const wk_addr *a);
WK_API bool wk_addr_is_link_local(const wk_addr *a);
WK_API bool wk_addr_is_site_local(const wk_addr *a);
WK_API bool wk_addr_is_unique_local(const wk_addr *a);
WK_API bool wk_addr_is_broadcast(const wk_addr *a);
WK_API bool wk_addr_is_private_use(const wk_addr *a);
WK_API bool wk_addr_is_global(const wk_addr *a);

/* Subnets. */
WK_API bool wk_addr_in_subnet(const wk_addr *a, const wk_addr *net,
    int prefix);
WK_API bool wk_addr_parse_subnet(const char *text, wk_addr *net,
    int *prefix);

/* Comparison. */
WK_API bool wk_addr_equal(const wk_addr *a, const wk_addr *b,
    unsigned mode);
WK_API uint32_t wk_addr_hash(const wk_addr *a, uint32_t seed);

/* Conversions. */
WK_API bool wk_addr_from_sockaddr(wk_addr *out, uint16_t *port,
    const struct sockaddr *sa, size_t len);
WK_API size_t wk_addr_to_sockaddr(const wk_addr *a, uint16_t port,
    struct sockaddr *sa, size_t size);
WK_API wk_addr wk_addr_from_ipv4(uint32_t ip);
WK_API uint32_t wk_addr_to_ipv4(const wk_addr *a, bool *ok);
WK_API wk_addr wk_addr_from_ipv6(const uint8_t bytes[16], uint32_t scope_id);
WK_API bool wk_addr_to_ipv6(const wk_addr *a, uint8_t bytes[16]);
WK_API wk_addr wk_addr_map_ipv4(const wk_addr *a);
WK_API wk_addr wk_addr_unmap_ipv4(const wk_addr *a);

WK_END_DECLS

#endif /* WIREKIT_ADDR_H */
