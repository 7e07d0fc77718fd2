/*
 * fuzz_addr.c - libFuzzer harness for wirekit's address parser and formatter
 *
 * Invariants checked on every input:
 *  - whatever wk_addr_parse_n() accepts formats to text that parses back to
 *    the same address (strict) and formats to the same text again;
 *  - whatever wk_addr_parse_subnet() accepts has a prefix within the
 *    family's width, no host bits set, and contains itself;
 *  - any address value format can be given (raw bytes, family forced
 *    valid) formats to text that parses back equal.
 * A broken invariant is a __builtin_trap(), which libFuzzer reports.
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <wirekit/addr.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
require(bool cond)
{
	if (!cond)
		__builtin_trap();
}

/* format -> parse -> equal -> format again gives the same text */
static void
check_round_trip(const wk_addr *a)
{
	char t1[WK_ADDR_STRLEN], t2[WK_ADDR_STRLEN];
	size_t n;
	wk_addr b;

	n = wk_addr_format(a, t1, sizeof t1);
	require(n < sizeof t1 && n == strlen(t1));
	require(wk_addr_parse(&b, t1));
	require(wk_addr_equal(a, &b, WK_ADDR_CMP_STRICT));
	require(wk_addr_hash(a, 1) == wk_addr_hash(&b, 1));
	require(wk_addr_format(&b, t2, sizeof t2) == n);
	require(strcmp(t1, t2) == 0);
}

static void
check_parse(const uint8_t *data, size_t size)
{
	wk_addr a;

	if (!wk_addr_parse_n(&a, (const char *)data, size)) {
		require(a.family == WK_FAMILY_NONE && a.scope_id == 0);
		return;
	}
	require(a.family == WK_FAMILY_IPV4 || a.family == WK_FAMILY_IPV6);
	check_round_trip(&a);
}

/* Bits past the prefix must be clear in a parsed network. */
static void
check_host_bits(const wk_addr *net, int prefix, int width)
{
	int bit;

	for (bit = prefix; bit < width; bit++)
		require((net->bytes[bit / 8] & (0x80u >> (bit % 8))) == 0);
}

static void
check_subnet(const char *text)
{
	wk_addr net;
	int prefix, width;

	if (!wk_addr_parse_subnet(text, &net, &prefix)) {
		require(net.family == WK_FAMILY_NONE && prefix == -1);
		return;
	}
	require(net.family == WK_FAMILY_IPV4 || net.family == WK_FAMILY_IPV6);
	width = net.family == WK_FAMILY_IPV4 ? 32 : 128;
	require(prefix >= 0 && prefix <= width);
	require(net.scope_id == 0);
	require(wk_addr_in_subnet(&net, &net, prefix));
	check_host_bits(&net, prefix, width);
	check_round_trip(&net);
}

/*
 * The input's first bytes read as an address value.  IPv4 keeps whatever
 * sits in bytes[4..15] (ignored by contract) but gets scope 0, which
 * strict equality compares.
 */
static void
check_format_raw(const uint8_t *data, size_t size)
{
	static const uint8_t families[] = { WK_FAMILY_NONE, WK_FAMILY_IPV4,
	    WK_FAMILY_IPV6, WK_FAMILY_ANY };
	char text[WK_ADDR_STRLEN];
	wk_addr a;

	if (size < 1 + 16 + 4)
		return;
	memset(&a, 0, sizeof a);
	a.family = families[data[0] % 4];
	memcpy(a.bytes, data + 1, 16);
	memcpy(&a.scope_id, data + 17, 4);
	if (a.family == WK_FAMILY_NONE) {
		require(wk_addr_format(&a, text, sizeof text) == 0);
		require(text[0] == '\0');
		return;
	}
	if (a.family == WK_FAMILY_ANY) {
		require(wk_addr_format(&a, text, sizeof text) == 7);
		require(strcmp(text, "0.0.0.0") == 0);
		return;
	}
	if (a.family == WK_FAMILY_IPV4)
		a.scope_id = 0;
	check_round_trip(&a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy;

	check_parse(data, size);
	/* parse_subnet takes a C string: stop at the first NUL */
	copy = malloc(size + 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	check_subnet(copy);
	free(copy);
	check_format_raw(data, size);
	return 0;
}
