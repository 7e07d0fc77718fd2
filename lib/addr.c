/*
 * addr.c - IPv4 and IPv6 addresses as values: parse, format (RFC 5952),
 * classify, subnets, comparison and conversions
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>

#include <wirekit/addr.h>

#include "addr-private.h"

/*
 * The longest text wk_addr_parse() looks at once white space is trimmed.
 * The longest valid text is an IPv6 address with an IPv4 tail and a
 * numeric zone (56 bytes); the bound only keeps hostile input cheap.
 */
#define PARSE_MAX 255

/* An interface name is at most IF_NAMESIZE - 1 bytes. */
#define ZONE_MAX (IF_NAMESIZE - 1)

/* Qt's address classes (QHostAddressPrivate::classify()). */
enum addr_class {
	CLASS_UNKNOWN,
	CLASS_LOOPBACK,
	CLASS_LOCAL_NET,
	CLASS_LINK_LOCAL,
	CLASS_MULTICAST,
	CLASS_BROADCAST,
	CLASS_GLOBAL,
	CLASS_PRIVATE,
	CLASS_UNIQUE_LOCAL,
	CLASS_SITE_LOCAL
};

static const uint8_t mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

static bool
is_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Narrows [*p, *end) to the text without surrounding white space. */
static void
trim(const char **p, const char **end)
{
	while (*p < *end && is_space(**p))
		(*p)++;
	while (*end > *p && is_space((*end)[-1]))
		(*end)--;
}

/*
 * Reads one decimal number of at most max_digits digits, without a
 * leading zero, advancing *p.  Returns -1 when there is none.
 */
static long
read_decimal(const char **p, const char *end, int max_digits)
{
	const char *s = *p;
	long v = 0;

	while (*p < end && is_digit(**p) && *p - s < max_digits)
		v = v * 10 + (*(*p)++ - '0');
	if (*p == s || (*p < end && is_digit(**p)))
		return -1;
	if (*p - s > 1 && *s == '0')
		return -1;
	return v;
}

/*
 * Parses exactly four decimal parts 0-255 filling [p, end).  Short
 * forms, octal and hex are refused: inet_aton(), browsers and other
 * parsers read them differently, which makes them a filter bypass.
 */
static bool
parse_ipv4(const char *p, const char *end, uint8_t out[4])
{
	unsigned v = 0, digits = 0, part = 0;

	for (; p < end; p++) {
		unsigned d = (unsigned)(unsigned char)*p - '0';

		if (d <= 9) {
			if (digits == 1 && v == 0)	/* a leading zero */
				return false;
			if ((v = v * 10 + d) > 255)
				return false;
			digits++;
		} else if (*p == '.' && digits && part < 3) {
			out[part++] = (uint8_t)v;
			v = digits = 0;
		} else {
			return false;
		}
	}
	if (!digits || part != 3)
		return false;
	out[3] = (uint8_t)v;
	return true;
}

/* Reads up to 4 hex digits; returns their count (5 means too many). */
static int
read_hex_group(const char **p, const char *end, unsigned *value)
{
	int n = 0, d;

	*value = 0;
	while (*p < end && n < 5 && (d = hex_value(**p)) >= 0) {
		*value = *value << 4 | (unsigned)d;
		(*p)++;
		n++;
	}
	return n;
}

/* Places the groups read around the "::" gap into out. */
static void
expand_groups(const unsigned *groups, int n, int gap, uint8_t out[16])
{
	int i, pos;

	memset(out, 0, 16);
	for (i = 0; i < n; i++) {
		pos = (gap < 0 || i < gap) ? i : 8 - n + i;
		out[2 * pos] = (uint8_t)(groups[i] >> 8);
		out[2 * pos + 1] = (uint8_t)groups[i];
	}
}

/* Parses an RFC 4291 IPv6 text (no zone) filling [p, end). */
static bool
parse_ipv6(const char *p, const char *end, uint8_t out[16])
{
	unsigned groups[8];
	int n = 0, gap = -1;

	if (p < end && *p == ':') {
		if (end - p < 2 || p[1] != ':')
			return false;
		p += 2;
		gap = 0;
	}
	while (p < end) {
		const char *start = p;
		uint8_t v4[4];
		int digits;

		if (n == 8)
			return false;
		digits = read_hex_group(&p, end, &groups[n]);
		if (p < end && *p == '.') {
			/* An IPv4 tail ends the text and fills two groups. */
			if (n > 6 || !parse_ipv4(start, end, v4))
				return false;
			groups[n++] = (unsigned)v4[0] << 8 | v4[1];
			groups[n++] = (unsigned)v4[2] << 8 | v4[3];
			break;
		}
		if (digits == 0 || digits > 4)
			return false;
		n++;
		if (p == end)
			break;
		if (*p++ != ':' || p == end)
			return false;
		if (*p == ':') {
			if (gap >= 0)
				return false;
			gap = n;
			p++;
		}
	}
	if (gap < 0 ? n != 8 : n > 7)
		return false;
	expand_groups(groups, n, gap, out);
	return true;
}

/* Parses a zone: a decimal interface index, or an interface name. */
static bool
parse_zone(const char *p, const char *end, uint32_t *scope_id)
{
	char name[ZONE_MAX + 1];
	size_t len = (size_t)(end - p);
	unsigned long long v = 0;
	const char *s;

	if (len == 0 || len > ZONE_MAX)
		return false;
	for (s = p; s < end && is_digit(*s); s++)
		v = v * 10 + (unsigned)(*s - '0');
	if (s == end) {
		if (v > UINT32_MAX)
			return false;
		*scope_id = (uint32_t)v;
		return true;
	}
	memcpy(name, p, len);
	name[len] = '\0';
	if (memchr(name, '\0', len))
		return false;
	return (*scope_id = if_nametoindex(name)) != 0;
}

static bool
parse_text(wk_addr *out, const char *p, const char *end)
{
	const char *zone;

	trim(&p, &end);
	if (p == end || end - p > PARSE_MAX)
		return false;
	if (!memchr(p, ':', (size_t)(end - p))) {
		out->family = WK_FAMILY_IPV4;
		return parse_ipv4(p, end, out->bytes);
	}
	out->family = WK_FAMILY_IPV6;
	zone = memchr(p, '%', (size_t)(end - p));
	if (zone && !parse_zone(zone + 1, end, &out->scope_id))
		return false;
	return parse_ipv6(p, zone ? zone : end, out->bytes);
}

/* Parses [text, text + len), which holds no NUL byte. */
static bool
parse_checked(wk_addr *out, const char *text, size_t len)
{
	static const wk_addr null_addr;

	*out = null_addr;
	if (parse_text(out, text, text + len))
		return true;
	*out = null_addr;
	return false;
}

bool
wk_addr_parse_n(wk_addr *out, const char *text, size_t len)
{
	if (!out)
		return false;
	if (!text || memchr(text, '\0', len)) {
		memset(out, 0, sizeof(*out));
		return false;
	}
	return parse_checked(out, text, len);
}

bool
wk_addr_parse(wk_addr *out, const char *text)
{
	if (!out)
		return false;
	if (!text) {
		memset(out, 0, sizeof(*out));
		return false;
	}
	return parse_checked(out, text, strlen(text));
}

/* Writes a decimal number below 1000; returns the new end. */
static char *
put_octet(char *p, unsigned v)
{
	if (v >= 100)
		*p++ = (char)('0' + v / 100);
	if (v >= 10)
		*p++ = (char)('0' + v / 10 % 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

static char *
put_ipv4(char *p, const uint8_t b[4])
{
	for (int i = 0; i < 4; i++) {
		if (i > 0)
			*p++ = '.';
		p = put_octet(p, b[i]);
	}
	return p;
}

static char *
put_hex_group(char *p, unsigned v)
{
	static const char digits[] = "0123456789abcdef";
	int shift = 12;

	while (shift > 0 && !(v >> shift))
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		*p++ = digits[(v >> shift) & 0xf];
	return p;
}

/*
 * The embedded IPv4 forms Qt prints in dotted notation: ::ffff:a.b.c.d
 * always, and ::a.b.c.d unless the address is ::, ::1 or another
 * ::0.0.0.x, which read better in hex.
 */
static bool
has_ipv4_tail(const uint8_t b[16], bool *mapped)
{
	static const uint8_t zero[10];

	if (memcmp(b, zero, 10) != 0)
		return false;
	*mapped = b[10] == 0xff && b[11] == 0xff;
	if (*mapped)
		return true;
	return b[10] == 0 && b[11] == 0 && (b[12] || b[13] || b[14]);
}

/* RFC 5952: compress the longest run (two groups or more, first on a tie). */
static char *
put_ipv6(char *p, const uint8_t b[16])
{
	int best = -1, best_len = 1, run = 0, i;
	bool mapped;

	if (has_ipv4_tail(b, &mapped)) {
		p = stpcpy(p, mapped ? "::ffff:" : "::");
		return put_ipv4(p, b + 12);
	}
	for (i = 0; i < 8; i++) {
		run = (b[2 * i] | b[2 * i + 1]) ? 0 : run + 1;
		if (run > best_len) {
			best_len = run;
			best = i - run + 1;
		}
	}
	for (i = 0; i < 8; i++) {
		if (i == best) {
			*p++ = ':';
			if (i == 0)
				*p++ = ':';
			i += best_len - 1;
			continue;
		}
		p = put_hex_group(p, (unsigned)b[2 * i] << 8 | b[2 * i + 1]);
		if (i < 7)
			*p++ = ':';
	}
	return p;
}

static char *
put_zone(char *p, uint32_t scope_id)
{
	char name[IF_NAMESIZE];

	*p++ = '%';
	if (if_indextoname(scope_id, name))
		return stpcpy(p, name);
	return p + sprintf(p, "%u", (unsigned)scope_id);
}

size_t
wk_addr_format(const wk_addr *a, char *buf, size_t size)
{
	static const uint8_t any4[4];
	char text[WK_ADDR_STRLEN], *end = text;
	size_t len;

	if (a && a->family == WK_FAMILY_IPV4) {
		end = put_ipv4(text, a->bytes);
	} else if (a && a->family == WK_FAMILY_ANY) {
		end = put_ipv4(text, any4);
	} else if (a && a->family == WK_FAMILY_IPV6) {
		end = put_ipv6(text, a->bytes);
		if (a->scope_id)
			end = put_zone(end, a->scope_id);
	}
	len = (size_t)(end - text);
	if (size > 0) {
		size_t n = len < size - 1 ? len : size - 1;

		memcpy(buf, text, n);
		buf[n] = '\0';
	}
	return len;
}

wk_addr
wk_addr_from_ipv4(uint32_t ip)
{
	wk_addr a = { .family = WK_FAMILY_IPV4 };

	a.bytes[0] = (uint8_t)(ip >> 24);
	a.bytes[1] = (uint8_t)(ip >> 16);
	a.bytes[2] = (uint8_t)(ip >> 8);
	a.bytes[3] = (uint8_t)ip;
	return a;
}

wk_addr
wk_addr_special(wk_special which)
{
	wk_addr a = { .family = WK_FAMILY_NONE };

	switch (which) {
	case WK_ADDR_BROADCAST:
		return wk_addr_from_ipv4(UINT32_C(0xffffffff));
	case WK_ADDR_LOCALHOST:
		return wk_addr_from_ipv4(UINT32_C(0x7f000001));
	case WK_ADDR_ANY_IPV4:
		return wk_addr_from_ipv4(0);
	case WK_ADDR_LOCALHOST_IPV6:
		a.bytes[15] = 1;
		/* FALLTHROUGH */
	case WK_ADDR_ANY_IPV6:
		a.family = WK_FAMILY_IPV6;
		return a;
	case WK_ADDR_ANY:
		a.family = WK_FAMILY_ANY;
		return a;
	case WK_ADDR_NULL:
	default:
		return a;
	}
}

static uint32_t
load32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
}

static bool
is_mapped(const wk_addr *a)
{
	return a->family == WK_FAMILY_IPV6 &&
	    memcmp(a->bytes, mapped_prefix, sizeof(mapped_prefix)) == 0;
}

static enum addr_class
classify_ipv4(uint32_t x)
{
	if ((x & 0xff000000u) == 0x7f000000u)	/* 127.0.0.0/8 */
		return CLASS_LOOPBACK;
	if ((x & 0xf0000000u) == 0xe0000000u)	/* 224.0.0.0/4 */
		return CLASS_MULTICAST;
	if ((x & 0xffff0000u) == 0xa9fe0000u)	/* 169.254.0.0/16 */
		return CLASS_LINK_LOCAL;
	if ((x & 0xff000000u) == 0)		/* 0.0.0.0/8 */
		return CLASS_LOCAL_NET;
	if ((x & 0xf0000000u) == 0xf0000000u)	/* 240.0.0.0/4 */
		return x == 0xffffffffu ? CLASS_BROADCAST : CLASS_UNKNOWN;
	if ((x & 0xff000000u) == 0x0a000000u ||	/* 10.0.0.0/8 */
	    (x & 0xfff00000u) == 0xac100000u ||	/* 172.16.0.0/12 */
	    (x & 0xffff0000u) == 0xc0a80000u)	/* 192.168.0.0/16 */
		return CLASS_PRIVATE;
	return CLASS_GLOBAL;
}

static enum addr_class
classify_ipv6(const uint8_t b[16])
{
	uint32_t high = load32(b), low_hi = load32(b + 8), low_lo = load32(b + 12);

	if (high || load32(b + 4)) {
		if (b[0] == 0xff)			/* ff00::/8 */
			return CLASS_MULTICAST;
		if ((high & 0xffc00000u) == 0xfec00000u)	/* fec0::/10 */
			return CLASS_SITE_LOCAL;
		if ((high & 0xffc00000u) == 0xfe800000u)	/* fe80::/10 */
			return CLASS_LINK_LOCAL;
		if (b[0] == 0xfe)			/* rest of fe00::/8 */
			return CLASS_UNKNOWN;
		if ((b[0] & 0xfe) == 0xfc)		/* fc00::/7 */
			return CLASS_UNIQUE_LOCAL;
		return CLASS_GLOBAL;
	}
	if (low_hi == 0 && low_lo == 1)			/* ::1 */
		return CLASS_LOOPBACK;
	if (low_hi == 0xffff)				/* ::ffff:0.0.0.0 */
		return CLASS_LOCAL_NET;
	return (low_hi || low_lo) ? CLASS_GLOBAL : CLASS_LOCAL_NET;
}

/* An IPv4-mapped address (other than ::ffff:0.0.0.0) counts as IPv4. */
static enum addr_class
classify(const wk_addr *a)
{
	if (!a)
		return CLASS_UNKNOWN;
	switch (a->family) {
	case WK_FAMILY_IPV4:
		return classify_ipv4(load32(a->bytes));
	case WK_FAMILY_IPV6:
		if (is_mapped(a) && load32(a->bytes + 12))
			return classify_ipv4(load32(a->bytes + 12));
		return classify_ipv6(a->bytes);
	case WK_FAMILY_ANY:
		return CLASS_LOCAL_NET;
	default:
		return CLASS_UNKNOWN;
	}
}

bool
wk_addr_is_null(const wk_addr *a)
{
	return a && a->family == WK_FAMILY_NONE;
}

bool
wk_addr_is_ipv4(const wk_addr *a)
{
	return a && a->family == WK_FAMILY_IPV4;
}

bool
wk_addr_is_ipv6(const wk_addr *a)
{
	return a && a->family == WK_FAMILY_IPV6;
}

bool
wk_addr_is_loopback(const wk_addr *a)
{
	return classify(a) == CLASS_LOOPBACK;
}

bool
wk_addr_is_multicast(const wk_addr *a)
{
	return classify(a) == CLASS_MULTICAST;
}

bool
wk_addr_is_link_local(const wk_addr *a)
{
	return classify(a) == CLASS_LINK_LOCAL;
}

bool
wk_addr_is_site_local(const wk_addr *a)
{
	return classify(a) == CLASS_SITE_LOCAL;
}

bool
wk_addr_is_unique_local(const wk_addr *a)
{
	return classify(a) == CLASS_UNIQUE_LOCAL;
}

bool
wk_addr_is_broadcast(const wk_addr *a)
{
	return classify(a) == CLASS_BROADCAST;
}

bool
wk_addr_is_private_use(const wk_addr *a)
{
	enum addr_class c = classify(a);

	return c == CLASS_PRIVATE || c == CLASS_UNIQUE_LOCAL;
}

/* Qt 5's meaning: every unicast class reachable beyond the link. */
bool
wk_addr_is_global(const wk_addr *a)
{
	return classify(a) >= CLASS_GLOBAL;
}

static int
family_width(const wk_addr *a)
{
	switch (a->family) {
	case WK_FAMILY_IPV4:
		return 32;
	case WK_FAMILY_IPV6:
		return 128;
	default:
		return 0;
	}
}

/* Clears every bit from bit number prefix on. */
static void
clear_host_bits(uint8_t *b, int prefix, int width)
{
	int i = prefix / 8;

	if (prefix >= width)
		return;
	if (prefix % 8)
		b[i++] &= (uint8_t)(0xff00u >> (prefix % 8));
	memset(b + i, 0, (size_t)(width / 8 - i));
}

bool
wk_addr_in_subnet(const wk_addr *a, const wk_addr *net, int prefix)
{
	uint8_t x[16], y[16];
	int width;

	if (!a || !net || prefix < 0 || a->family != net->family)
		return false;
	if ((width = family_width(a)) == 0)
		return false;
	if (prefix > width)
		prefix = width;
	memcpy(x, a->bytes, 16);
	memcpy(y, net->bytes, 16);
	clear_host_bits(x, prefix, width);
	clear_host_bits(y, prefix, width);
	return memcmp(x, y, (size_t)width / 8) == 0;
}

/* Converts a contiguous IPv4 netmask to its prefix length, or -1. */
static int
netmask_prefix(const char *p, const char *end)
{
	uint8_t m[4];
	uint32_t mask, inv;

	if (!parse_ipv4(p, end, m))
		return -1;
	mask = load32(m);
	inv = ~mask;
	if (inv & (inv + 1))	/* the one bits must all lead */
		return -1;
	return 32 - __builtin_popcount(inv);
}

/* "/nn", "/m.m.m.m" (IPv4 only) or nothing (-2); -1 when malformed. */
static int
parse_prefix(const char *p, const char *end, int width)
{
	long v;

	if (p == end)
		return -2;
	if (*p++ != '/')
		return -1;
	if (width == 32 && memchr(p, '.', (size_t)(end - p)))
		return netmask_prefix(p, end);
	if (p < end && *p == '0' && end - p > 1)
		p++;	/* "/08" reads as 8, as Qt's toUInt() does */
	v = read_decimal(&p, end, 3);
	return (v < 0 || p != end || v > width) ? -1 : (int)v;
}

/*
 * Qt's IPv4 network forms: one to four decimal parts, missing parts
 * zero, a trailing dot allowed when parts are missing ("10." and "10"
 * are 10.0.0.0/8).  Returns the number of parts, or -1.
 */
static int
parse_ipv4_network(const char *p, const char *end, uint8_t out[4])
{
	int parts = 0;

	memset(out, 0, 4);
	while (p < end) {
		long v;

		if (parts == 4 || (v = read_decimal(&p, end, 3)) < 0 || v > 255)
			return -1;
		out[parts++] = (uint8_t)v;
		if (p < end && *p++ != '.')
			return -1;
		if (p == end && p[-1] == '.' && parts == 4)
			return -1;
	}
	return parts > 0 ? parts : -1;
}

static bool
parse_subnet_text(const char *p, const char *end, wk_addr *net, int *prefix)
{
	const char *slash;
	int parts = 4;

	trim(&p, &end);
	if (p == end || end - p > PARSE_MAX)
		return false;
	if (!(slash = memchr(p, '/', (size_t)(end - p))))
		slash = end;
	if (memchr(p, ':', (size_t)(slash - p))) {
		if (memchr(p, '%', (size_t)(slash - p)) ||
		    !parse_text(net, p, slash) || net->family != WK_FAMILY_IPV6)
			return false;
	} else {
		net->family = WK_FAMILY_IPV4;
		if ((parts = parse_ipv4_network(p, slash, net->bytes)) < 0)
			return false;
	}
	*prefix = parse_prefix(slash, end, family_width(net));
	if (*prefix == -2)
		*prefix = net->family == WK_FAMILY_IPV4 ? 8 * parts : 128;
	if (*prefix < 0)
		return false;
	clear_host_bits(net->bytes, *prefix, family_width(net));
	return true;
}

bool
wk_addr_parse_subnet(const char *text, wk_addr *net, int *prefix)
{
	if (!text || !net || !prefix) {
		if (net)
			memset(net, 0, sizeof(*net));
		if (prefix)
			*prefix = -1;
		return false;
	}
	memset(net, 0, sizeof(*net));
	if (parse_subnet_text(text, text + strlen(text), net, prefix))
		return true;
	memset(net, 0, sizeof(*net));
	*prefix = -1;
	return false;
}

/* a as IPv4 (host order) when it is IPv4, or ::ffff:x with mode's leave. */
static bool
as_ipv4(const wk_addr *a, unsigned mode, uint32_t *out)
{
	static const uint8_t zero[12];

	if (a->family == WK_FAMILY_IPV4) {
		*out = load32(a->bytes);
		return true;
	}
	if (a->family != WK_FAMILY_IPV6 || a->scope_id)
		return false;
	*out = load32(a->bytes + 12);
	if ((mode & WK_ADDR_CMP_V4_MAPPED) && is_mapped(a))
		return true;
	return (mode & WK_ADDR_CMP_V4_COMPAT) && *out > 1 &&
	    memcmp(a->bytes, zero, sizeof(zero)) == 0;
}

static bool
is_unspecified(const wk_addr *a)
{
	static const uint8_t zero[16];

	return a->family == WK_FAMILY_ANY ||
	    ((a->family == WK_FAMILY_IPV4 || a->family == WK_FAMILY_IPV6) &&
	    a->scope_id == 0 &&
	    memcmp(a->bytes, zero, (size_t)family_width(a) / 8) == 0);
}

static bool
is_localhost(const wk_addr *a)
{
	static const uint8_t v6[16] = { [15] = 1 };

	if (a->family == WK_FAMILY_IPV4)
		return load32(a->bytes) == 0x7f000001u;
	return a->family == WK_FAMILY_IPV6 && a->scope_id == 0 &&
	    memcmp(a->bytes, v6, 16) == 0;
}

static bool
equal_strict(const wk_addr *a, const wk_addr *b)
{
	if (a->family != b->family)
		return false;
	switch (a->family) {
	case WK_FAMILY_IPV4:
		return memcmp(a->bytes, b->bytes, 4) == 0;
	case WK_FAMILY_IPV6:
		return memcmp(a->bytes, b->bytes, 16) == 0 &&
		    a->scope_id == b->scope_id;
	default:
		return true;
	}
}

bool
wk_addr_equal(const wk_addr *a, const wk_addr *b, unsigned mode)
{
	uint32_t x, y;

	if (!a || !b)
		return a == b;
	if (equal_strict(a, b))
		return true;
	if ((mode & WK_ADDR_CMP_UNSPECIFIED) && is_unspecified(a) &&
	    is_unspecified(b))
		return true;
	if ((mode & WK_ADDR_CMP_LOCALHOST) && is_localhost(a) &&
	    is_localhost(b))
		return true;
	if (a->family == b->family)
		return false;
	return as_ipv4(a, mode, &x) && as_ipv4(b, mode, &y) && x == y;
}

/* The mixing steps of MurmurHash3's 32-bit finalizer. */
static uint32_t
mix(uint32_t h, uint32_t k)
{
	k *= 0xcc9e2d51u;
	k = k << 15 | k >> 17;
	h ^= k * 0x1b873593u;
	h = h << 13 | h >> 19;
	return h * 5 + 0xe6546b64u;
}

uint32_t
wk_addr_hash(const wk_addr *a, uint32_t seed)
{
	uint32_t h = mix(seed, a ? a->family : 0xffu);
	int words;

	if (!a)
		return h;
	words = family_width(a) / 32;
	for (int i = 0; i < words; i++)
		h = mix(h, load32(a->bytes + 4 * i));
	if (a->family == WK_FAMILY_IPV6)
		h = mix(h, a->scope_id);
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	return h ^ (h >> 16);
}

bool
wk_addr_from_sockaddr(wk_addr *out, uint16_t *port, const struct sockaddr *sa,
    size_t len)
{
	return wk__addr_from_sockaddr(out, port, sa, len, false);
}

size_t
wk_addr_to_sockaddr(const wk_addr *a, uint16_t port, struct sockaddr *sa,
    size_t size)
{
	return wk__addr_to_sockaddr(a, port, sa, size);
}

uint32_t
wk_addr_to_ipv4(const wk_addr *a, bool *ok)
{
	uint32_t v = 0;
	bool good = false;

	if (a && a->family == WK_FAMILY_IPV4) {
		v = load32(a->bytes);
		good = true;
	} else if (a && is_mapped(a)) {
		v = load32(a->bytes + 12);
		good = true;
	} else if (a && a->family == WK_FAMILY_ANY) {
		good = true;
	}
	if (ok)
		*ok = good;
	return v;
}

wk_addr
wk_addr_from_ipv6(const uint8_t bytes[16], uint32_t scope_id)
{
	wk_addr a = { .family = WK_FAMILY_NONE };

	if (bytes) {
		a.family = WK_FAMILY_IPV6;
		memcpy(a.bytes, bytes, 16);
		a.scope_id = scope_id;
	}
	return a;
}

bool
wk_addr_to_ipv6(const wk_addr *a, uint8_t bytes[16])
{
	wk_addr m;

	if (!a || !bytes)
		return false;
	switch (a->family) {
	case WK_FAMILY_IPV6:
		memcpy(bytes, a->bytes, 16);
		return true;
	case WK_FAMILY_IPV4:
		m = wk_addr_map_ipv4(a);
		memcpy(bytes, m.bytes, 16);
		return true;
	case WK_FAMILY_ANY:
		memset(bytes, 0, 16);
		return true;
	default:
		return false;
	}
}

wk_addr
wk_addr_map_ipv4(const wk_addr *a)
{
	wk_addr m = { .family = WK_FAMILY_NONE };

	if (!a)
		return m;
	if (a->family != WK_FAMILY_IPV4)
		return *a;
	m.family = WK_FAMILY_IPV6;
	memcpy(m.bytes, mapped_prefix, sizeof(mapped_prefix));
	memcpy(m.bytes + 12, a->bytes, 4);
	return m;
}

wk_addr
wk_addr_unmap_ipv4(const wk_addr *a)
{
	wk_addr v = { .family = WK_FAMILY_NONE };

	if (!a)
		return v;
	if (!is_mapped(a) || a->scope_id)
		return *a;
	v.family = WK_FAMILY_IPV4;
	memcpy(v.bytes, a->bytes + 12, 4);
	return v;
}
