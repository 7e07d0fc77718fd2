/*
 * fuzz_subnet.c - libFuzzer harness for wk_addr_parse_subnet() and
 * wk_addr_in_subnet()
 *
 * The input is the subnet text up to its first NUL; what follows the NUL,
 * if anything, is a second address, tested against the subnet.
 *
 * Invariants checked on every input:
 *  - parse_subnet agrees with an independent reading of the forms that
 *    wk_addr_in_subnet(3) documents: address/length, IPv4 address/netmask,
 *    a lone address, and Qt's truncated IPv4 networks ("10", "192.168/16",
 *    "10."), white space around the text ignored;
 *  - failure leaves the null address and -1;
 *  - success gives an IPv4 or IPv6 network, scope 0, a prefix within the
 *    family's width, no host bits, a network inside its own subnet, and
 *    the text "network/prefix" (and "network/netmask" for IPv4) parses
 *    back to the same subnet;
 *  - wk_addr_in_subnet() of the second address agrees with a bit-by-bit
 *    comparison, for the prefix itself and for prefixes out of range.
 * A broken invariant is a __builtin_trap(), which libFuzzer reports.
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wirekit/addr.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The library refuses longer texts (after trimming); no reference then. */
#define TEXT_MAX 255

static void
require(bool cond)
{
	if (!cond)
		__builtin_trap();
}

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
width_of(const wk_addr *a)
{
	return a->family == WK_FAMILY_IPV4 ? 32 : 128;
}

static bool
bit(const uint8_t *b, int i)
{
	return (b[i / 8] & (0x80u >> (i % 8))) != 0;
}

/*
 * One IPv4 part as documented: decimal, 0 to 255, no sign, no leading
 * zero.  Returns the bytes it used, 0 when there is no valid part.
 */
static size_t
ref_octet(const char *p, const char *end, uint8_t *out)
{
	size_t n = 0;
	unsigned v = 0;

	while (p + n < end && is_digit(p[n])) {
		v = v * 10 + (unsigned)(p[n] - '0');
		if (++n > 3)
			return 0;
	}
	if (n == 0 || v > 255 || (n > 1 && p[0] == '0'))
		return 0;
	*out = (uint8_t)v;
	return n;
}

/*
 * 1 to 4 parts separated by dots; a trailing dot only after fewer than 4
 * parts.  Returns the number of parts, or -1.
 */
static int
ref_ipv4_network(const char *p, const char *end, uint8_t out[4])
{
	int parts = 0;
	size_t n;

	memset(out, 0, 4);
	if (p == end)
		return -1;
	for (;;) {
		if (parts == 4 || !(n = ref_octet(p, end, &out[parts])))
			return -1;
		parts++;
		p += n;
		if (p == end)
			return parts;
		if (*p++ != '.')
			return -1;
		if (p == end)
			return parts < 4 ? parts : -1;
	}
}

/* A full dotted-quad netmask: the prefix it stands for, or -1. */
static int
ref_netmask(const char *p, const char *end)
{
	uint8_t m[4];
	int i, prefix = 0;

	if (ref_ipv4_network(p, end, m) != 4 || end[-1] == '.')
		return -1;
	for (i = 0; i < 32 && bit(m, i); i++)
		prefix++;
	for (; i < 32; i++)
		if (bit(m, i))
			return -1;
	return prefix;
}

/*
 * The prefix after the slash: "one to three decimal digits, at most 32
 * for IPv4 and 128 for IPv6".  A leading zero ("/08", Qt's toUInt()) is
 * read as the library does: at most one is skipped, and the rest must not
 * start with another.
 */
static int
ref_length(const char *p, const char *end, int width)
{
	size_t n = (size_t)(end - p);
	int v = 0;

	if (n > 1 && p[0] == '0') {
		p++;
		n--;
		if (n > 1 && p[0] == '0')
			return -1;
	}
	if (n == 0 || n > 3)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(p[i]))
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v <= width ? v : -1;
}

/*
 * The documented reading of a subnet text, independent of the library
 * except that an IPv6 address is read by wk_addr_parse_n() (checked
 * against its own invariants by fuzz_addr).  Returns false when the text
 * is no subnet; *known is false when the text is too long to judge.
 */
static bool
ref_parse_subnet(const char *text, wk_addr *net, int *prefix, bool *known)
{
	const char *p = text, *end = text + strlen(text), *slash;
	int width, parts = 4;

	*known = true;
	memset(net, 0, sizeof(*net));
	while (p < end && is_space(*p))
		p++;
	while (end > p && is_space(end[-1]))
		end--;
	if (end - p > TEXT_MAX) {
		*known = false;
		return false;
	}
	if (p == end)
		return false;
	slash = memchr(p, '/', (size_t)(end - p));
	if (!slash)
		slash = end;
	if (memchr(p, ':', (size_t)(slash - p))) {
		if (memchr(p, '%', (size_t)(slash - p)) ||
		    !wk_addr_parse_n(net, p, (size_t)(slash - p)) ||
		    net->family != WK_FAMILY_IPV6)
			return false;
		width = 128;
	} else {
		net->family = WK_FAMILY_IPV4;
		if ((parts = ref_ipv4_network(p, slash, net->bytes)) < 0)
			return false;
		width = 32;
	}
	if (slash == end)
		*prefix = width == 32 ? 8 * parts : 128;
	else if (width == 32 &&
	    memchr(slash + 1, '.', (size_t)(end - slash - 1)))
		*prefix = ref_netmask(slash + 1, end);
	else
		*prefix = ref_length(slash + 1, end, width);
	if (*prefix < 0)
		return false;
	for (int i = *prefix; i < width; i++)
		net->bytes[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
	net->scope_id = 0;
	return true;
}

/* Reference for wk_addr_in_subnet(). */
static bool
ref_in_subnet(const wk_addr *a, const wk_addr *net, int prefix)
{
	int width;

	if (prefix < 0 || a->family != net->family ||
	    (a->family != WK_FAMILY_IPV4 && a->family != WK_FAMILY_IPV6))
		return false;
	width = width_of(a);
	if (prefix > width)
		prefix = width;
	for (int i = 0; i < prefix; i++)
		if (bit(a->bytes, i) != bit(net->bytes, i))
			return false;
	return true;
}

static void
check_reparse(const char *text, const wk_addr *net, int prefix)
{
	wk_addr back;
	int p2;

	require(wk_addr_parse_subnet(text, &back, &p2));
	require(p2 == prefix);
	require(wk_addr_equal(&back, net, WK_ADDR_CMP_STRICT));
}

static void
check_accepted(const wk_addr *net, int prefix)
{
	char t[WK_ADDR_STRLEN], text[2 * WK_ADDR_STRLEN];
	int width, i;

	require(net->family == WK_FAMILY_IPV4 || net->family == WK_FAMILY_IPV6);
	width = width_of(net);
	require(prefix >= 0 && prefix <= width);
	require(net->scope_id == 0);
	for (i = prefix; i < width; i++)
		require(!bit(net->bytes, i));
	for (i = width / 8; i < 16; i++)
		require(net->bytes[i] == 0);
	require(wk_addr_in_subnet(net, net, prefix));

	/* network/prefix, and network/netmask for IPv4, read back */
	require(wk_addr_format(net, t, sizeof t) > 0);
	snprintf(text, sizeof text, "%s/%d", t, prefix);
	check_reparse(text, net, prefix);
	snprintf(text, sizeof text, " %s/%d\n", t, prefix);
	check_reparse(text, net, prefix);
	if (net->family == WK_FAMILY_IPV4) {
		uint32_t m = prefix ? ~(uint32_t)0 << (32 - prefix) : 0;

		snprintf(text, sizeof text, "%s/%u.%u.%u.%u", t, m >> 24,
		    (m >> 16) & 0xff, (m >> 8) & 0xff, m & 0xff);
		check_reparse(text, net, prefix);
	}
	if (prefix == width)
		check_reparse(t, net, prefix);
}

static void
check_member(const wk_addr *a, const wk_addr *net, int prefix)
{
	static const int deltas[] = { 0, -1, 1, 200, -1000 };
	wk_addr u;

	for (size_t i = 0; i < sizeof deltas / sizeof deltas[0]; i++) {
		int p = prefix + deltas[i];

		require(wk_addr_in_subnet(a, net, p) ==
		    ref_in_subnet(a, net, p));
	}
	/* the scope is ignored */
	u = *a;
	u.scope_id ^= 0x5a5a;
	require(wk_addr_in_subnet(&u, net, prefix) ==
	    wk_addr_in_subnet(a, net, prefix));
	/* a mapped IPv4 address is IPv6, in no IPv4 subnet */
	if (a->family == WK_FAMILY_IPV4) {
		u = wk_addr_map_ipv4(a);
		require(u.family == WK_FAMILY_IPV6);
		if (net->family == WK_FAMILY_IPV4)
			require(!wk_addr_in_subnet(&u, net, prefix));
	}
	require(!wk_addr_in_subnet(a, NULL, prefix));
	require(!wk_addr_in_subnet(NULL, net, prefix));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	wk_addr net, ref, a, any;
	int prefix, ref_prefix;
	bool ok, ref_ok, known;
	char *text;

	if (!(text = malloc(size + 1)))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	ok = wk_addr_parse_subnet(text, &net, &prefix);
	ref_ok = ref_parse_subnet(text, &ref, &ref_prefix, &known);
	if (known) {
		require(ok == ref_ok);
		if (ok) {
			require(prefix == ref_prefix);
			require(wk_addr_equal(&net, &ref, WK_ADDR_CMP_STRICT));
		}
	}
	if (!ok) {
		require(net.family == WK_FAMILY_NONE && prefix == -1);
		require(wk_addr_is_null(&net));
	} else {
		check_accepted(&net, prefix);
	}

	/* the second address, after the NUL */
	if (nul && wk_addr_parse_n(&a, (const char *)nul + 1,
	    size - (size_t)(nul + 1 - data))) {
		if (ok)
			check_member(&a, &net, prefix);
		/* the null and the any address lie in no subnet */
		any = wk_addr_special(WK_ADDR_ANY);
		require(!wk_addr_in_subnet(&any, &a, 0));
		memset(&any, 0, sizeof any);
		require(!wk_addr_in_subnet(&any, &a, 0));
		/* an address lies in its own /width and every shorter prefix */
		require(wk_addr_in_subnet(&a, &a, width_of(&a)));
		require(wk_addr_in_subnet(&a, &a, 0));
		require(!wk_addr_in_subnet(&a, &a, -1));
	}
	free(text);
	return 0;
}
