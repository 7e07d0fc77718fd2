/*
 * check_addr.c - tests of wirekit/addr.h
 *
 * The expectations follow the address contract (notes/addr-spec.md).  Rows
 * adapted from Qt's tst_qhostaddress.cpp say so; where Qt and the contract
 * disagree the contract wins and the row carries a comment.
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <arpa/inet.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <check.h>

#include <wirekit/addr.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Markers for rows that need an address no text can produce. */
#define NULL_ADDR "<null>"
#define ANY_ADDR "<any>"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/*
 * Rows hold control characters and bytes above 0x7f; print them escaped so
 * a failure message names the row unambiguously.  A small ring of buffers
 * lets one message show several strings.
 */
static const char *
show(const char *s)
{
	static char ring[4][600];
	static unsigned slot;
	char *out = ring[slot++ % ARRAY_SIZE(ring)];
	size_t n = 0;

	if (s == NULL)
		return "(NULL)";
	for (; *s != '\0' && n + 6 < sizeof ring[0]; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[n++] = (char)c;
		else
			n += (size_t)snprintf(out + n, sizeof ring[0] - n,
			    "\\x%02x", c);
	}
	out[n] = '\0';
	return out;
}

static bool
addr_is_all_zero(const wk_addr *a)
{
	static const uint8_t zero[16];

	return a->family == 0 && memcmp(a->bytes, zero, 16) == 0 &&
	    a->scope_id == 0;
}

static void
assert_null_addr(const wk_addr *a, const char *what)
{
	ck_assert_msg(addr_is_all_zero(a),
	    "%s: expected the null address, got family %u scope %u",
	    show(what), (unsigned)a->family, (unsigned)a->scope_id);
}

/* The contract promises zero in the bytes an IPv4 address does not use. */
static void
assert_clean(const wk_addr *a, const char *what)
{
	size_t i;

	ck_assert_msg(a->family == WK_FAMILY_IPV4 ||
	    a->family == WK_FAMILY_IPV6, "%s: family %u", show(what),
	    (unsigned)a->family);
	if (a->family != WK_FAMILY_IPV4)
		return;
	for (i = 4; i < 16; i++)
		ck_assert_msg(a->bytes[i] == 0, "%s: IPv4 byte %zu is %u",
		    show(what), i, (unsigned)a->bytes[i]);
	ck_assert_msg(a->scope_id == 0, "%s: IPv4 scope %u", show(what),
	    (unsigned)a->scope_id);
}

/* An address a row names: a marker or a text that must parse. */
static wk_addr
addr_of(const char *text)
{
	wk_addr a;

	if (strcmp(text, NULL_ADDR) == 0)
		return wk_addr_special(WK_ADDR_NULL);
	if (strcmp(text, ANY_ADDR) == 0)
		return wk_addr_special(WK_ADDR_ANY);
	ck_assert_msg(wk_addr_parse(&a, text), "helper: parse(\"%s\") failed",
	    show(text));
	return a;
}

/* Formats into a caller buffer of WK_ADDR_STRLEN and checks the length. */
static const char *
fmt(const wk_addr *a, char *buf)
{
	size_t n = wk_addr_format(a, buf, WK_ADDR_STRLEN);

	ck_assert_msg(n < WK_ADDR_STRLEN, "format length %zu too long", n);
	ck_assert_msg(strlen(buf) == n, "format returned %zu for \"%s\"", n,
	    buf);
	return buf;
}

static unsigned
lo_index(void)
{
	unsigned idx = if_nametoindex("lo");

	ck_assert_msg(idx != 0, "the loopback interface \"lo\" is missing");
	return idx;
}

/* The zone text format must write for an index: a name if it has one. */
static void
zone_text(unsigned idx, char *out, size_t size)
{
	char name[IF_NAMESIZE];

	if (if_indextoname(idx, name) != NULL)
		snprintf(out, size, "%%%s", name);
	else
		snprintf(out, size, "%%%u", idx);
}

static TCase *
new_tcase(Suite *s, const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return tc;
}

/* ------------------------------------------------------------------ */
/* Parse and format table                                              */
/* ------------------------------------------------------------------ */

struct parse_row {
	const char *in;
	bool ok;
	const char *out;	/* formatted text when ok */
};

#define GOOD(in, out) { (in), true, (out) }
#define BAD(in) { (in), false, NULL }

static const struct parse_row parse_rows[] = {
	/* IPv4, accepted */
	GOOD("0.0.0.0", "0.0.0.0"),
	GOOD("0.0.0.1", "0.0.0.1"),
	GOOD("1.0.0.0", "1.0.0.0"),
	GOOD("1.2.3.4", "1.2.3.4"),
	GOOD("10.0.0.255", "10.0.0.255"),
	GOOD("100.200.250.9", "100.200.250.9"),
	GOOD("192.168.100.200", "192.168.100.200"),
	GOOD("249.250.251.252", "249.250.251.252"),
	GOOD("255.255.255.255", "255.255.255.255"),
	GOOD("9.99.199.255", "9.99.199.255"),
	/* white space around is ignored, every kind of it */
	GOOD(" 1.2.3.4", "1.2.3.4"),
	GOOD("1.2.3.4 ", "1.2.3.4"),
	GOOD("\t1.2.3.4\n", "1.2.3.4"),
	GOOD("\r\n 1.2.3.4 \f\v", "1.2.3.4"),
	GOOD("\v\f\t\r\n 10.20.30.40", "10.20.30.40"),
	/* Qt setAddress_QString ip4_* */
	GOOD("127.0.0.1", "127.0.0.1"),
	GOOD("255.3.2.1", "255.3.2.1"),
	GOOD(" 255.3.2.1", "255.3.2.1"),
	GOOD("255.3.2.1\r ", "255.3.2.1"),
	BAD("123.0.0"),		/* Qt accepts; rejected by design */
	/* IPv4, rejected: leading zeros and octal */
	BAD("01.2.3.4"),
	BAD("1.02.3.4"),
	BAD("1.2.03.4"),
	BAD("1.2.3.04"),
	BAD("00.0.0.0"),
	BAD("0.0.0.00"),
	BAD("000.000.000.000"),
	BAD("010.1.1.1"),
	BAD("0377.0.0.1"),
	/* short forms and single numbers */
	BAD("1.2.3"),		/* Qt accepts; rejected by design */
	BAD("127.1"),		/* Qt accepts; rejected by design */
	BAD("10.1"),		/* Qt accepts; rejected by design */
	BAD("1"),
	BAD("2130706433"),
	/* hex */
	BAD("0x7f.0.0.1"),
	BAD("0X7F.0.0.1"),
	BAD("0x7f000001"),
	BAD("1.2.3.0x4"),
	BAD("1.2.3.a"),
	/* out of range */
	BAD("256.0.0.0"),
	BAD("1.2.3.256"),
	BAD("1.2.300.4"),
	BAD("999.1.1.1"),
	BAD("1.2.3.1000"),
	BAD("4294967297.0.0.0"),
	BAD("99999999999999999999.1.1.1"),
	/* signs */
	BAD("+1.2.3.4"),
	BAD("1.+2.3.4"),
	BAD("-1.2.3.4"),
	BAD("1.2.3.-4"),
	/* empty parts, extra parts, dots */
	BAD("1..3.4"),
	BAD(".1.2.3.4"),
	BAD("1.2.3.4."),
	BAD("1.2.3."),
	BAD("1.2.3.4.5"),
	BAD("1.2.3.4.5.6"),
	BAD("..."),
	BAD("."),
	/* white space inside, junk */
	BAD("1.2. 3.4"),
	BAD("1 .2.3.4"),
	BAD("1.2.3.4 5"),
	BAD("1.2.3.\t4"),
	BAD("1.2.3.4a"),
	BAD("a1.2.3.4"),
	BAD("1,2,3,4"),
	BAD("1.2.3.4/24"),
	BAD("1.2.3.4:80"),
	BAD("[1.2.3.4]"),
	BAD("1.2.3.4\x80"),
	BAD("\xef\xbc\x91.2.3.4"),	/* full-width digit one */
	/* zones belong to IPv6 only */
	BAD("1.2.3.4%lo"),
	BAD("1.2.3.4%1"),
	BAD("1.2.3.4%"),
	/* Qt setAddress_QString error_* and error_ip4_* */
	BAD("foobarcom"),
	BAD("foo.bar.com"),
	BAD(""),
	BAD(NULL),
	BAD(" \t\r"),
	BAD("256.9.9.9"),
	BAD("-1.9.9.9"),
	BAD("123.0.0."),
	BAD("123.0.0.0.0"),
	BAD("255.2 3.2.1"),
	/* white space only */
	BAD(" "),
	BAD("\t\n\r\f\v "),

	/* IPv6: the unspecified and loopback addresses */
	GOOD("::", "::"),
	GOOD("::1", "::1"),
	GOOD("1::", "1::"),
	GOOD("::0", "::"),
	GOOD("0::0", "::"),
	GOOD("0:0:0:0:0:0:0:0", "::"),
	GOOD("0000:0000:0000:0000:0000:0000:0000:0000", "::"),
	GOOD("0:0:0:0:0:0:0:1", "::1"),
	GOOD("1:0:0:0:0:0:0:0", "1::"),
	/* 8 groups; "::" standing for exactly one group */
	GOOD("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
	GOOD("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),
	GOOD("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"),
	GOOD("1::3:4:5:6:7:8", "1:0:3:4:5:6:7:8"),
	GOOD("1:2:3:4::6:7:8", "1:2:3:4:0:6:7:8"),
	GOOD("1:2:3:4:5:6::8", "1:2:3:4:5:6:0:8"),
	/* compression anywhere */
	GOOD("1:2:3:4:5::", "1:2:3:4:5::"),
	GOOD("1:2:3:4:5:6::", "1:2:3:4:5:6::"),
	GOOD("::3:4:5:6:7:8", "::3:4:5:6:7:8"),
	GOOD("1::8", "1::8"),
	GOOD("1:2::7:8", "1:2::7:8"),
	GOOD("0:0:1:2:3:4:5:6", "::1:2:3:4:5:6"),
	GOOD("1:2:3:4:5:6:0:0", "1:2:3:4:5:6::"),
	/* the longest run is compressed, the first one on a tie */
	GOOD("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
	GOOD("1:0:0:0:2:0:0:3", "1::2:0:0:3"),
	GOOD("1:0:0:2:0:0:3:4", "1::2:0:0:3:4"),
	GOOD("0:0:1:0:0:1:0:0", "::1:0:0:1:0:0"),
	GOOD("1:0:0:1:0:0:0:0", "1:0:0:1::"),
	GOOD("0:0:1:0:0:0:1:0", "0:0:1::1:0"),
	GOOD("1:2:0:0:5:6:0:0", "1:2::5:6:0:0"),
	GOOD("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
	/* a single zero group is written "0" */
	GOOD("1:0:1:0:1:0:1:0", "1:0:1:0:1:0:1:0"),
	GOOD("0:1:0:1:0:1:0:1", "0:1:0:1:0:1:0:1"),
	GOOD("1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7"),
	GOOD("0:1:2:3:4:5:6:7", "0:1:2:3:4:5:6:7"),
	GOOD("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
	/* leading zeros dropped, upper case in, lower case out */
	GOOD("01:002:0003:0004::", "1:2:3:4::"),
	GOOD("2001:0db8:0000:0000:0000:0000:0002:0001", "2001:db8::2:1"),
	GOOD("2001:db8:aaaa:bbbb:cccc:dddd:eeee:0001",
	    "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1"),
	GOOD("ABCD:EF01:2345:6789:ABCD:EF01:2345:6789",
	    "abcd:ef01:2345:6789:abcd:ef01:2345:6789"),
	GOOD("2001:DB8::1", "2001:db8::1"),
	GOOD("2001:Db8:0:0:0:0:0:Ff", "2001:db8::ff"),
	GOOD("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
	GOOD("FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
	GOOD("fe80::1", "fe80::1"),
	GOOD("ff02::1", "ff02::1"),
	GOOD("\t::1 ", "::1"),
	GOOD("\f::1\r\n", "::1"),
	/* IPv4-mapped: always dotted */
	GOOD("::ffff:1.2.3.4", "::ffff:1.2.3.4"),
	GOOD("::FFFF:1.2.3.4", "::ffff:1.2.3.4"),
	GOOD("0:0:0:0:0:ffff:1.2.3.4", "::ffff:1.2.3.4"),
	GOOD("::ffff:102:304", "::ffff:1.2.3.4"),
	GOOD("::ffff:0.0.0.0", "::ffff:0.0.0.0"),
	GOOD("::ffff:0:0", "::ffff:0.0.0.0"),
	GOOD("0:0:0:0:0:ffff::", "::ffff:0.0.0.0"),
	GOOD("::ffff:255.255.255.255", "::ffff:255.255.255.255"),
	/* IPv4-compatible: dotted when one of bytes 12-14 is non-zero */
	GOOD("::1.2.3.4", "::1.2.3.4"),
	GOOD("::255.255.255.255", "::255.255.255.255"),
	GOOD("::0.0.0.0", "::"),
	GOOD("::0.0.0.1", "::1"),
	GOOD("::0.0.0.255", "::ff"),
	GOOD("::ff", "::ff"),
	GOOD("::0.0.1.0", "::0.0.1.0"),
	GOOD("::100", "::0.0.1.0"),
	GOOD("::ffff", "::0.0.255.255"),
	GOOD("::1:2", "::0.1.0.2"),
	/* neither mapped nor compatible: hex */
	GOOD("::1:0:0", "::1:0:0"),
	GOOD("::fffe:1.2.3.4", "::fffe:102:304"),
	GOOD("::1:ffff:1.2.3.4", "::1:ffff:102:304"),
	GOOD("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"),
	GOOD("1::1.2.3.4", "1::102:304"),
	GOOD("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
	/* zones */
	GOOD("fe80::1%lo", "fe80::1%lo"),
	GOOD("::%lo", "::%lo"),
	GOOD("::1%lo", "::1%lo"),
	GOOD("FE80::ABCD%lo", "fe80::abcd%lo"),
	GOOD("::ffff:1.2.3.4%lo", "::ffff:1.2.3.4%lo"),
	GOOD("1:2:3:4:5:6:7:8%lo", "1:2:3:4:5:6:7:8%lo"),
	GOOD(" fe80::1%lo\t", "fe80::1%lo"),
	GOOD("fe80::1%99999", "fe80::1%99999"),
	GOOD("fe80::1%4294967295", "fe80::1%4294967295"),
	/* zone 0 is a number that fits; index 0 means "no zone" */
	GOOD("fe80::1%0", "fe80::1"),
	/* Qt scopeId(), with lo for eth0 */
	GOOD("fe80::2e0:4cff:fefb:662a%lo", "fe80::2e0:4cff:fefb:662a%lo"),
	BAD("fe80::1%"),
	BAD("fe80::1%nosuchif0"),
	BAD("fe80::1%LO"),
	BAD("fe80::1%4294967296"),
	BAD("fe80::1%99999999999"),
	BAD("fe80::1%-1"),
	BAD("fe80::1%+1"),
	BAD("fe80::1%0x1"),
	BAD("fe80::1%lo%lo"),
	BAD("fe80::1%%lo"),
	BAD("fe80::1 %lo"),
	BAD("fe80::1% lo"),
	BAD("fe80::1%lo x"),
	BAD("fe80::1%abcdefghijklmnop"),	/* 16 characters */
	BAD("fe80::1%1234567890123456"),	/* 16 digits */
	BAD("%lo"),
	BAD("%1"),
	/* IPv6, rejected: colons */
	BAD(":"),
	BAD(":::"),
	BAD("::::"),
	BAD("1:::2"),
	BAD(":::1"),
	BAD("1:::"),
	BAD("1::2::3"),
	BAD("::1::"),
	BAD("1::2:"),
	BAD(":1::2"),
	BAD("1:"),
	BAD(":1"),
	BAD("1:2:3:4:5:6:7:8:"),
	BAD(":1:2:3:4:5:6:7:8"),
	/* group counts */
	BAD("1:2:3:4:5:6:7:8:9"),
	BAD("1:2:3:4:5:6:7"),
	BAD("1:2:3:4:5:6:7::8"),
	BAD("1::2:3:4:5:6:7:8"),
	BAD("1:2:3:4::5:6:7:8"),
	BAD("1:2:3:4:5:6:7:8::"),
	BAD("::1:2:3:4:5:6:7:8"),
	/* group contents */
	BAD("12345::"),
	BAD("00000::"),
	BAD("::12345"),
	BAD("1:2:3:4:5:6:7:00000"),
	BAD("g::"),
	BAD("::g"),
	BAD("0x1::"),
	BAD("-1::"),
	BAD("+1::"),
	BAD("::+1"),
	/* white space inside, brackets, junk */
	BAD("1 ::2"),
	BAD(":: 1"),
	BAD("1: :2"),
	BAD("[::1]"),
	BAD("[::1]:80"),
	BAD("::1]"),
	BAD("[::1"),
	BAD("::1x"),
	BAD("::1/128"),
	BAD("::1 1"),
	BAD("::1\x01"),
	/* embedded IPv4 */
	BAD("1.2.3.4::"),
	BAD("::ffff:1.2.3"),
	BAD("::1.2.3.4.5"),
	BAD("::1.2.3"),
	BAD("::ffff:01.2.3.4"),
	BAD("::ffff:1.2.3.256"),
	BAD("::ffff:0x1.2.3.4"),
	BAD("::1.2.3.4:5"),
	BAD("::1.2.3.4:5:6"),
	BAD("1:2:3:4:5:6:7:1.2.3.4"),
	BAD("1:2:3:4:5:1.2.3.4"),
	BAD("::1.2.3.4::"),
	BAD("::ffff:1.2.3.4."),
	BAD("::.1.2.3"),
	BAD("::ffff:1..2.3"),
	/* Qt setAddress_QString ip6_* */
	GOOD("FEDC:BA98:7654:3210:FEDC:BA98:7654:3210",
	    "fedc:ba98:7654:3210:fedc:ba98:7654:3210"),
	GOOD("1080:0000:0000:0000:0008:0800:200C:417A",
	    "1080::8:800:200c:417a"),
	GOOD("1080:0:0:0:8:800:200C:417A", "1080::8:800:200c:417a"),
	GOOD("1080::8:800:200C:417A", "1080::8:800:200c:417a"),
	GOOD("FF01::43", "ff01::43"),
	GOOD("0:0:0:0:0:0:13.1.68.3", "::13.1.68.3"),
	GOOD("::13.1.68.3", "::13.1.68.3"),
	GOOD("0:0:0:0:0:FFFF:129.144.52.38", "::ffff:129.144.52.38"),
	GOOD("::FFFF:129.144.52.38", "::ffff:129.144.52.38"),
	GOOD("1::FFFF:129.144.52.38", "1::ffff:8190:3426"),
	GOOD("A:B::D:E", "a:b::d:e"),
	GOOD("1080:0:1:0:8:800:200C:417A", "1080:0:1:0:8:800:200c:417a"),
	GOOD("1080:0:1:0:8:800:200C:0", "1080:0:1:0:8:800:200c:0"),
	GOOD("1080:0:1:0:8:800:0:0", "1080:0:1:0:8:800::"),
	GOOD("1080:0:0:8:800:0:0:0", "1080:0:0:8:800::"),
	GOOD("1080:0:0:0:8:0:0:0", "1080::8:0:0:0"),
	GOOD("0:1:1:1:8:800:0:0", "0:1:1:1:8:800::"),
	GOOD("0:1:1:1:8:800:0:1", "0:1:1:1:8:800:0:1"),
	/* Qt setAddress_QString error_ip6_* */
	BAD("::AAAA:"),
	BAD(":AAAA::"),
	BAD("FFFF:::129.144.52.38"),
	BAD("FEDC:BA98:7654:3210:FEDC:BA98:7654:3210:1234"),
	BAD("129.144.52.38::"),
	BAD("::129.144.52.38:129.144.52.38"),
	BAD(":::129.144.52.38"),
	BAD("1FEDC:BA98:7654:3210:FEDC:BA98:7654:3210"),
	BAD("::FFFFFFFF"),
	BAD("::EFGH"),
	BAD("ABCD:ABCD:ABCD"),
	BAD("::ABCD:ABCD::"),
	BAD("1:2:::"),
	BAD(":::1:2"),
	BAD("FEDC::7654:3210:FEDC:BA98::3210"),
	BAD("ABCD:ABCD:ABCD:1.2.3.4"),
	BAD("ABCD::ABCD::ABCD:1.2.3.4"),
};

START_TEST(test_parse_table)
{
	const struct parse_row *r = &parse_rows[_i];
	char buf[WK_ADDR_STRLEN];
	wk_addr a;
	bool ok;

	memset(&a, 0xa5, sizeof a);
	ok = wk_addr_parse(&a, r->in);
	ck_assert_msg(ok == r->ok, "row %d: parse(\"%s\") returned %s, "
	    "expected %s", _i, show(r->in), ok ? "true" : "false",
	    r->ok ? "true" : "false");
	if (!ok) {
		assert_null_addr(&a, r->in);
		return;
	}
	assert_clean(&a, r->in);
	fmt(&a, buf);
	ck_assert_msg(strcmp(buf, r->out) == 0,
	    "row %d: parse(\"%s\") formats as \"%s\", expected \"%s\"", _i,
	    show(r->in), buf, r->out);
}
END_TEST

/* The same rows through parse_n with the exact length agree with parse. */
START_TEST(test_parse_n_table)
{
	const struct parse_row *r = &parse_rows[_i];
	wk_addr a, b;
	bool ok;

	if (r->in == NULL)
		return;
	ok = wk_addr_parse_n(&a, r->in, strlen(r->in));
	ck_assert_msg(ok == r->ok, "row %d: parse_n(\"%s\") returned %d",
	    _i, show(r->in), ok);
	if (ok) {
		ck_assert(wk_addr_parse(&b, r->in));
		ck_assert_msg(wk_addr_equal(&a, &b, WK_ADDR_CMP_STRICT),
		    "row %d: parse_n and parse differ on \"%s\"", _i,
		    show(r->in));
	}
}
END_TEST

/* Numeric zones are written back by name when the index has one. */
START_TEST(test_parse_numeric_zone)
{
	static const unsigned idx[] = { 1, 2, 3, 4, 5, 99999, 4294967295u };
	char in[64], want[64], zone[IF_NAMESIZE + 16], buf[WK_ADDR_STRLEN];
	wk_addr a;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(idx); i++) {
		snprintf(in, sizeof in, "fe80::1%%%u", idx[i]);
		zone_text(idx[i], zone, sizeof zone);
		snprintf(want, sizeof want, "fe80::1%s", zone);
		ck_assert_msg(wk_addr_parse(&a, in), "parse(\"%s\")", in);
		ck_assert_msg(a.scope_id == idx[i], "\"%s\": scope %u", in,
		    (unsigned)a.scope_id);
		ck_assert_msg(strcmp(fmt(&a, buf), want) == 0,
		    "\"%s\" formats as \"%s\", expected \"%s\"", in, buf, want);
	}
}
END_TEST

START_TEST(test_parse_named_zone)
{
	unsigned lo = lo_index();
	char in[64];
	wk_addr a, b;

	ck_assert(wk_addr_parse(&a, "fe80::2e0:4cff:fefb:662a%lo"));
	ck_assert_uint_eq(a.scope_id, lo);
	snprintf(in, sizeof in, "fe80::2e0:4cff:fefb:662a%%%u", lo);
	ck_assert_msg(wk_addr_parse(&b, in), "parse(\"%s\")", in);
	ck_assert(wk_addr_equal(&a, &b, WK_ADDR_CMP_STRICT));
	ck_assert(wk_addr_parse(&b, "fe80::2e0:4cff:fefb:662a"));
	ck_assert_uint_eq(b.scope_id, 0);
	ck_assert(!wk_addr_equal(&a, &b, WK_ADDR_CMP_STRICT));
}
END_TEST

START_TEST(test_parse_null_args)
{
	wk_addr a;

	ck_assert(!wk_addr_parse(NULL, "1.2.3.4"));
	ck_assert(!wk_addr_parse_n(NULL, "1.2.3.4", 7));
	memset(&a, 0x5a, sizeof a);
	ck_assert(!wk_addr_parse(&a, NULL));
	assert_null_addr(&a, "parse(NULL)");
	memset(&a, 0x5a, sizeof a);
	ck_assert(!wk_addr_parse_n(&a, NULL, 0));
	assert_null_addr(&a, "parse_n(NULL, 0)");
	memset(&a, 0x5a, sizeof a);
	ck_assert(!wk_addr_parse_n(&a, NULL, 7));
	assert_null_addr(&a, "parse_n(NULL, 7)");
}
END_TEST

/* Too long after trimming is rejected; white space is trimmed first. */
START_TEST(test_parse_long)
{
	char text[1024];
	wk_addr a;

	memset(text, '1', 300);
	text[300] = '\0';
	ck_assert(!wk_addr_parse(&a, text));
	assert_null_addr(&a, "300 digits");

	memset(text, '0', 300);
	memcpy(text + 296, "::1", 4);
	ck_assert_msg(!wk_addr_parse(&a, text), "296 zeros then ::1");

	/* 600 bytes, but "::1" once trimmed */
	memset(text, ' ', 600);
	memcpy(text + 300, "::1", 3);
	text[600] = '\0';
	ck_assert_msg(wk_addr_parse(&a, text), "::1 in 600 bytes of space");
	ck_assert(wk_addr_equal(&a, &(wk_addr){ .family = WK_FAMILY_IPV6,
	    .bytes = { [15] = 1 } }, WK_ADDR_CMP_STRICT));

	/* a 256-byte interface name */
	strcpy(text, "fe80::1%");
	memset(text + 8, 'x', 256);
	text[264] = '\0';
	ck_assert(!wk_addr_parse(&a, text));

	/* 255 bytes after trimming and invalid, and 256 */
	memset(text, 'f', 255);
	text[255] = '\0';
	ck_assert(!wk_addr_parse(&a, text));
	memset(text, ':', 256);
	text[256] = '\0';
	ck_assert(!wk_addr_parse(&a, text));
}
END_TEST

/* parse_n reads len bytes and no more: the rest of the buffer is junk. */
START_TEST(test_parse_n_unterminated)
{
	static const struct {
		const char *buf;
		size_t len;
		const char *want;
	} rows[] = {
		{ "1.2.3.4XYZ", 7, "1.2.3.4" },
		{ "1.2.3.45", 7, "1.2.3.4" },
		{ "1.2.3.4.5", 7, "1.2.3.4" },
		{ "::1ffff", 3, "::1" },
		{ "::ffff:1.2.3.45", 14, "::ffff:1.2.3.4" },
		{ "fe80::1%lo0", 10, "fe80::1%lo" },
		{ "fe80::1%loopback", 10, "fe80::1%lo" },
		{ "fe80::1%999999", 11, "fe80::1%999" },
		{ " 1.2.3.4 junk", 9, "1.2.3.4" },
		{ "1:2:3:4:5:6:7:8:9", 15, "1:2:3:4:5:6:7:8" },
	};
	char buf[WK_ADDR_STRLEN], zone[IF_NAMESIZE + 2], want[64];
	size_t i;
	wk_addr a;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		/* an exact-size heap copy: no terminator for anyone to find */
		char *copy = malloc(rows[i].len);

		ck_assert_ptr_nonnull(copy);
		memcpy(copy, rows[i].buf, rows[i].len);
		ck_assert_msg(wk_addr_parse_n(&a, copy, rows[i].len),
		    "parse_n(\"%s\", %zu)", rows[i].buf, rows[i].len);
		free(copy);
		strcpy(want, rows[i].want);
		if (strcmp(want, "fe80::1%999") == 0) {
			zone_text(999, zone, sizeof zone);
			snprintf(want, sizeof want, "fe80::1%s", zone);
		}
		ck_assert_msg(strcmp(fmt(&a, buf), want) == 0,
		    "parse_n(\"%s\", %zu) gave \"%s\", expected \"%s\"",
		    rows[i].buf, rows[i].len, buf, want);
	}
}
END_TEST

START_TEST(test_parse_n_short)
{
	static const struct {
		const char *buf;
		size_t len;
	} rows[] = {
		{ "1.2.3.4", 5 },	/* "1.2.3" */
		{ "1.2.3.4", 6 },	/* "1.2.3." */
		{ "fe80::1%lo", 8 },	/* empty zone */
		{ "1:2:3:4:5:6:7:8", 14 },	/* trailing colon */
		{ "1.2.3.4", 0 },
		{ "", 0 },
	};
	size_t i;
	wk_addr a;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		memset(&a, 0x77, sizeof a);
		ck_assert_msg(!wk_addr_parse_n(&a, rows[i].buf, rows[i].len),
		    "parse_n(\"%s\", %zu) accepted", rows[i].buf, rows[i].len);
		assert_null_addr(&a, rows[i].buf);
	}
}
END_TEST

START_TEST(test_parse_n_embedded_nul)
{
	static const struct {
		const char *buf;
		size_t len;
	} rows[] = {
		{ "1.2.3.4\0", 8 },
		{ "1.2\0.3.4", 8 },
		{ "\0" "1.2.3.4", 8 },
		{ "::1\0", 4 },
		{ "::1\0%lo", 7 },
		{ "fe80::1%lo\0", 11 },
		{ "fe80::1%l\0o", 11 },
		{ "1.2.3.4 \0 ", 10 },
		{ "\0", 1 },
	};
	size_t i;
	wk_addr a;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		memset(&a, 0x77, sizeof a);
		ck_assert_msg(!wk_addr_parse_n(&a, rows[i].buf, rows[i].len),
		    "row %zu: parse_n with a NUL inside len accepted \"%s\"",
		    i, show(rows[i].buf));
		assert_null_addr(&a, rows[i].buf);
	}
}
END_TEST

/* ------------------------------------------------------------------ */
/* Formatting                                                          */
/* ------------------------------------------------------------------ */

/* snprintf-like: full length back, as much as fits, NUL, nothing more. */
static void
check_truncation(const char *text)
{
	char full[WK_ADDR_STRLEN], buf[WK_ADDR_STRLEN + 8];
	size_t len, size, n, kept;
	wk_addr a = addr_of(text);

	len = wk_addr_format(&a, full, sizeof full);
	for (size = 1; size <= len + 2; size++) {
		memset(buf, 'X', sizeof buf);
		n = wk_addr_format(&a, buf, size);
		ck_assert_msg(n == len, "%s: size %zu returned %zu, not %zu",
		    text, size, n, len);
		kept = size - 1 < len ? size - 1 : len;
		ck_assert_msg(buf[kept] == '\0' && memcmp(buf, full, kept) == 0,
		    "%s: size %zu wrote \"%.*s\"", text, size, (int)kept, buf);
		ck_assert_msg(buf[size] == 'X',
		    "%s: size %zu wrote past the buffer", text, size);
	}
	ck_assert_uint_eq(wk_addr_format(&a, NULL, 0), len);
	memset(buf, 'X', sizeof buf);
	ck_assert_uint_eq(wk_addr_format(&a, buf, 0), len);
	ck_assert_msg(buf[0] == 'X', "%s: size 0 wrote into buf", text);
}

START_TEST(test_format_truncation)
{
	check_truncation("255.255.255.255");
	check_truncation("1.2.3.4");
	check_truncation("2001:db8::1");
	check_truncation("::ffff:192.168.100.200");
	check_truncation("fe80::1%lo");
	check_truncation("fe80::1%99999");
	check_truncation("::");
}
END_TEST

START_TEST(test_format_degenerate)
{
	wk_addr null = wk_addr_special(WK_ADDR_NULL);
	wk_addr any = wk_addr_special(WK_ADDR_ANY);
	char buf[WK_ADDR_STRLEN];

	memset(buf, 'X', sizeof buf);
	ck_assert_uint_eq(wk_addr_format(NULL, buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "");
	ck_assert_uint_eq(wk_addr_format(NULL, NULL, 0), 0);
	memset(buf, 'X', sizeof buf);
	ck_assert_uint_eq(wk_addr_format(&null, buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "");
	ck_assert_uint_eq(wk_addr_format(&null, NULL, 0), 0);
	memset(buf, 'X', sizeof buf);
	ck_assert_uint_eq(wk_addr_format(&any, buf, sizeof buf), 7);
	ck_assert_str_eq(buf, "0.0.0.0");
	ck_assert_uint_eq(wk_addr_format(&any, NULL, 0), 7);
}
END_TEST

/* The longest texts format can write fit in WK_ADDR_STRLEN. */
START_TEST(test_format_longest)
{
	static const char *const texts[] = {
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		"::ffff:255.255.255.255",
		"::255.255.255.255",
		"1111:2222:3333:4444:5555:6666:7777:8888",
	};
	char buf[WK_ADDR_STRLEN + 16], zone[IF_NAMESIZE + 16];
	struct if_nameindex *ifs, *p;
	size_t i, n;
	wk_addr a;

	ifs = if_nameindex();
	ck_assert_ptr_nonnull(ifs);
	for (i = 0; i < ARRAY_SIZE(texts); i++) {
		a = addr_of(texts[i]);
		a.scope_id = 4294967295u;
		zone_text(a.scope_id, zone, sizeof zone);
		n = wk_addr_format(&a, buf, sizeof buf);
		ck_assert_uint_eq(n, strlen(texts[i]) + strlen(zone));
		ck_assert_uint_lt(n, WK_ADDR_STRLEN);
		/* and every interface this host has, by name */
		for (p = ifs; p->if_index != 0; p++) {
			a.scope_id = p->if_index;
			n = wk_addr_format(&a, buf, sizeof buf);
			ck_assert_uint_eq(n, strlen(texts[i]) + 1 +
			    strlen(p->if_name));
			ck_assert_uint_lt(n, WK_ADDR_STRLEN);
		}
	}
	if_freenameindex(ifs);
	/* the worst case the header names, 45 + 1 + 15 characters */
	ck_assert_int_ge(WK_ADDR_STRLEN, 45 + 1 + IF_NAMESIZE);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Special addresses                                                   */
/* ------------------------------------------------------------------ */

static const struct special_row {
	wk_special which;
	unsigned family;
	uint8_t bytes[16];
	const char *text;
} special_rows[] = {
	{ WK_ADDR_NULL, WK_FAMILY_NONE, { 0 }, "" },
	{ WK_ADDR_BROADCAST, WK_FAMILY_IPV4, { 255, 255, 255, 255 },
	    "255.255.255.255" },
	{ WK_ADDR_LOCALHOST, WK_FAMILY_IPV4, { 127, 0, 0, 1 }, "127.0.0.1" },
	{ WK_ADDR_LOCALHOST_IPV6, WK_FAMILY_IPV6, { [15] = 1 }, "::1" },
	{ WK_ADDR_ANY, WK_FAMILY_ANY, { 0 }, "0.0.0.0" },
	{ WK_ADDR_ANY_IPV6, WK_FAMILY_IPV6, { 0 }, "::" },
	{ WK_ADDR_ANY_IPV4, WK_FAMILY_IPV4, { 0 }, "0.0.0.0" },
	/* unknown values give the null address */
	{ (wk_special)7, WK_FAMILY_NONE, { 0 }, "" },
	{ (wk_special)100, WK_FAMILY_NONE, { 0 }, "" },
	{ (wk_special)-1, WK_FAMILY_NONE, { 0 }, "" },
};

START_TEST(test_special)
{
	const struct special_row *r = &special_rows[_i];
	wk_addr a = wk_addr_special(r->which);
	char buf[WK_ADDR_STRLEN];

	ck_assert_msg(a.family == r->family, "special %d: family %u, not %u",
	    (int)r->which, (unsigned)a.family, r->family);
	ck_assert_msg(memcmp(a.bytes, r->bytes, 16) == 0,
	    "special %d: wrong bytes", (int)r->which);
	ck_assert_uint_eq(a.scope_id, 0);
	ck_assert_msg(strcmp(fmt(&a, buf), r->text) == 0,
	    "special %d formats as \"%s\", not \"%s\"", (int)r->which, buf,
	    r->text);
	ck_assert(wk_addr_equal(&a, &a, WK_ADDR_CMP_STRICT));
}
END_TEST

/* Qt specialAddresses(): a parsed text against a special address. */
static const struct {
	const char *text;
	wk_special which;
	bool equal;
} special_cmp_rows[] = {
	{ "127.0.0.1", WK_ADDR_LOCALHOST, true },
	{ "127.0.0.2", WK_ADDR_LOCALHOST, false },
	{ "127.0.0.2", WK_ADDR_LOCALHOST_IPV6, false },
	{ "::1", WK_ADDR_LOCALHOST_IPV6, true },
	{ "::2", WK_ADDR_LOCALHOST_IPV6, false },
	{ "::1", WK_ADDR_LOCALHOST, false },
	{ "", WK_ADDR_NULL, true },
	{ "bjarne", WK_ADDR_NULL, true },
	{ "", WK_ADDR_BROADCAST, false },
	{ "255.255.255.255", WK_ADDR_ANY, false },
	{ "255.255.255.255", WK_ADDR_BROADCAST, true },
	{ "::", WK_ADDR_ANY_IPV6, true },
	{ "0.0.0.0", WK_ADDR_ANY_IPV4, true },
	{ "::", WK_ADDR_ANY, false },
	{ "0.0.0.0", WK_ADDR_ANY, false },
};

START_TEST(test_special_compare)
{
	wk_addr a, s = wk_addr_special(special_cmp_rows[_i].which);

	wk_addr_parse(&a, special_cmp_rows[_i].text);
	ck_assert_msg(wk_addr_equal(&a, &s, WK_ADDR_CMP_STRICT) ==
	    special_cmp_rows[_i].equal, "\"%s\" == special %d should be %d",
	    special_cmp_rows[_i].text, (int)special_cmp_rows[_i].which,
	    special_cmp_rows[_i].equal);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Classification                                                      */
/* ------------------------------------------------------------------ */

enum cls {
	C_UNKNOWN,
	C_LOCALNET,
	C_LOOPBACK,
	C_MULTICAST,
	C_LINKLOCAL,
	C_SITELOCAL,
	C_UNIQUELOCAL,
	C_BROADCAST,
	C_PRIVATE,
	C_GLOBAL
};

static const struct {
	const char *name;
	bool (*fn)(const wk_addr *);
} predicates[] = {
	{ "is_loopback", wk_addr_is_loopback },
	{ "is_multicast", wk_addr_is_multicast },
	{ "is_link_local", wk_addr_is_link_local },
	{ "is_site_local", wk_addr_is_site_local },
	{ "is_unique_local", wk_addr_is_unique_local },
	{ "is_broadcast", wk_addr_is_broadcast },
	{ "is_private_use", wk_addr_is_private_use },
	{ "is_global", wk_addr_is_global },
};

/* What each predicate above says for a class, in the same order. */
static void
class_expect(enum cls c, bool want[8])
{
	want[0] = c == C_LOOPBACK;
	want[1] = c == C_MULTICAST;
	want[2] = c == C_LINKLOCAL;
	want[3] = c == C_SITELOCAL;
	want[4] = c == C_UNIQUELOCAL;
	want[5] = c == C_BROADCAST;
	want[6] = c == C_PRIVATE || c == C_UNIQUELOCAL;
	/* Qt's classify() & GlobalAddress */
	want[7] = c == C_GLOBAL || c == C_PRIVATE || c == C_UNIQUELOCAL ||
	    c == C_SITELOCAL;
}

static const struct {
	const char *text;
	enum cls cls;
} class_rows[] = {
	/* Qt classification() */
	{ NULL_ADDR, C_UNKNOWN },
	{ ANY_ADDR, C_LOCALNET },
	{ "::", C_LOCALNET },
	{ "::1", C_LOOPBACK },
	{ "::2", C_GLOBAL },
	{ "2000::", C_GLOBAL },
	{ "3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", C_GLOBAL },
	{ "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", C_GLOBAL },
	{ "fc00::", C_UNIQUELOCAL },
	{ "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", C_UNIQUELOCAL },
	{ "fe00::", C_UNKNOWN },
	{ "fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", C_UNKNOWN },
	{ "fe80::", C_LINKLOCAL },
	{ "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", C_LINKLOCAL },
	{ "fec0::", C_SITELOCAL },
	{ "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", C_SITELOCAL },
	{ "ff00::", C_MULTICAST },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", C_MULTICAST },
	{ "0.0.0.0", C_LOCALNET },
	{ "::ffff:0.0.0.0", C_LOCALNET },
	{ "0.0.0.1", C_LOCALNET },
	{ "::ffff:0.0.0.1", C_LOCALNET },
	{ "0.255.255.255", C_LOCALNET },
	{ "::ffff:0.255.255.255", C_LOCALNET },
	{ "1.0.0.0", C_GLOBAL },
	{ "::ffff:1.0.0.0", C_GLOBAL },
	{ "1.2.3.4", C_GLOBAL },
	{ "::ffff:1.2.3.4", C_GLOBAL },
	{ "10.0.0.4", C_PRIVATE },
	{ "::ffff:10.0.0.4", C_PRIVATE },
	{ "127.0.0.1", C_LOOPBACK },
	{ "::ffff:127.0.0.1", C_LOOPBACK },
	{ "127.0.0.2", C_LOOPBACK },
	{ "::ffff:127.0.0.2", C_LOOPBACK },
	{ "127.255.255.255", C_LOOPBACK },
	{ "::ffff:127.255.255.255", C_LOOPBACK },
	{ "192.168.3.4", C_PRIVATE },
	{ "::ffff:192.168.3.4", C_PRIVATE },
	{ "223.255.255.255", C_GLOBAL },
	{ "::ffff:223.255.255.255", C_GLOBAL },
	{ "224.0.0.0", C_MULTICAST },
	{ "::ffff:224.0.0.0", C_MULTICAST },
	{ "239.255.255.255", C_MULTICAST },
	{ "::ffff:239.255.255.255", C_MULTICAST },
	{ "240.0.0.0", C_UNKNOWN },
	{ "::ffff:240.0.0.0", C_UNKNOWN },
	{ "255.255.255.254", C_UNKNOWN },
	{ "::ffff:255.255.255.254", C_UNKNOWN },
	{ "255.255.255.255", C_BROADCAST },
	{ "::ffff:255.255.255.255", C_BROADCAST },
	/* IPv4 boundaries */
	{ "126.255.255.255", C_GLOBAL },
	{ "128.0.0.0", C_GLOBAL },
	{ "9.255.255.255", C_GLOBAL },
	{ "10.255.255.255", C_PRIVATE },
	{ "11.0.0.0", C_GLOBAL },
	{ "172.15.255.255", C_GLOBAL },
	{ "172.16.0.0", C_PRIVATE },
	{ "172.31.255.255", C_PRIVATE },
	{ "172.32.0.0", C_GLOBAL },
	{ "192.167.255.255", C_GLOBAL },
	{ "192.168.0.0", C_PRIVATE },
	{ "192.168.255.255", C_PRIVATE },
	{ "192.169.0.0", C_GLOBAL },
	{ "169.253.255.255", C_GLOBAL },
	{ "169.254.0.0", C_LINKLOCAL },
	{ "169.254.255.255", C_LINKLOCAL },
	{ "::ffff:169.254.1.1", C_LINKLOCAL },
	{ "169.255.0.0", C_GLOBAL },
	{ "100.64.0.1", C_GLOBAL },
	{ "240.0.0.1", C_UNKNOWN },
	{ "::ffff:172.16.5.4", C_PRIVATE },
	/* IPv6: first 64 bits zero */
	{ "::1.2.3.4", C_GLOBAL },
	{ "::127.0.0.1", C_GLOBAL },
	{ "::fffe:1.2.3.4", C_GLOBAL },
	{ "::1:0:0:0", C_GLOBAL },
	{ "::ff", C_GLOBAL },
	{ "::1%lo", C_LOOPBACK },
	{ "::ffff:0.0.0.0%lo", C_LOCALNET },
	/* IPv6: first 64 bits not zero */
	{ "0:0:0:1::", C_GLOBAL },
	{ "::1:0:0:0:0", C_GLOBAL },
	{ "2001:db8::1", C_GLOBAL },
	{ "64:ff9b::1.2.3.4", C_GLOBAL },
	{ "fc00::1", C_UNIQUELOCAL },
	{ "fd12:3456::1", C_UNIQUELOCAL },
	{ "fe80::1", C_LINKLOCAL },
	{ "fe80::1%lo", C_LINKLOCAL },
	{ "fec0::1", C_SITELOCAL },
	{ "ff02::1", C_MULTICAST },
	{ "ff05::1:3", C_MULTICAST },
	{ "fe7f::1", C_UNKNOWN },
	{ "fe00::1", C_UNKNOWN },
};

START_TEST(test_classification)
{
	wk_addr a = addr_of(class_rows[_i].text);
	bool want[8], got;
	size_t i;

	class_expect(class_rows[_i].cls, want);
	for (i = 0; i < ARRAY_SIZE(predicates); i++) {
		got = predicates[i].fn(&a);
		ck_assert_msg(got == want[i], "%s(\"%s\") is %s, expected %s",
		    predicates[i].name, class_rows[_i].text,
		    got ? "true" : "false", want[i] ? "true" : "false");
	}
	ck_assert(wk_addr_is_null(&a) == (a.family == WK_FAMILY_NONE));
	ck_assert(wk_addr_is_ipv4(&a) == (a.family == WK_FAMILY_IPV4));
	ck_assert(wk_addr_is_ipv6(&a) == (a.family == WK_FAMILY_IPV6));
}
END_TEST

START_TEST(test_predicates_null_pointer)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(predicates); i++)
		ck_assert_msg(!predicates[i].fn(NULL), "%s(NULL) is true",
		    predicates[i].name);
	ck_assert(!wk_addr_is_null(NULL));
	ck_assert(!wk_addr_is_ipv4(NULL));
	ck_assert(!wk_addr_is_ipv6(NULL));
}
END_TEST

START_TEST(test_family_predicates)
{
	wk_addr null = wk_addr_special(WK_ADDR_NULL);
	wk_addr any = wk_addr_special(WK_ADDR_ANY);
	wk_addr v4 = addr_of("1.2.3.4"), v6 = addr_of("::ffff:1.2.3.4");

	ck_assert(wk_addr_is_null(&null));
	ck_assert(!wk_addr_is_ipv4(&null) && !wk_addr_is_ipv6(&null));
	ck_assert(!wk_addr_is_null(&any));
	ck_assert(!wk_addr_is_ipv4(&any) && !wk_addr_is_ipv6(&any));
	ck_assert(wk_addr_is_ipv4(&v4) && !wk_addr_is_ipv6(&v4));
	ck_assert(!wk_addr_is_null(&v4));
	ck_assert(wk_addr_is_ipv6(&v6) && !wk_addr_is_ipv4(&v6));
	ck_assert(!wk_addr_is_null(&v6));
}
END_TEST

/* ------------------------------------------------------------------ */
/* Subnets                                                             */
/* ------------------------------------------------------------------ */

static const struct {
	const char *addr;
	const char *net;
	int prefix;
	bool in;
} subnet_rows[] = {
	/* Qt isInSubnet(): invalid addresses are in no subnet */
	{ NULL_ADDR, NULL_ADDR, 32, false },
	{ NULL_ADDR, "0.0.0.0", 32, false },
	{ NULL_ADDR, "0.0.0.0", 8, false },
	{ NULL_ADDR, "0.0.0.0", 0, false },
	{ NULL_ADDR, "255.255.255.0", 24, false },
	{ NULL_ADDR, "::", 0, false },
	{ NULL_ADDR, "::", 32, false },
	{ NULL_ADDR, "::", 128, false },
	{ "0.0.0.0", NULL_ADDR, 16, false },
	{ "::", NULL_ADDR, 16, false },
	{ "127.0.0.1", NULL_ADDR, 16, false },
	{ "::1", NULL_ADDR, 16, false },
	{ "0.0.0.0", ANY_ADDR, -1, false },
	{ "::", "::", -1, false },
	{ "127.0.0.1", "::", 0, false },
	{ "::1", ANY_ADDR, 0, false },
	{ "127.0.0.1", "ffff:ffff:ffff:ffff:ffff:ffff:255.0.0.0", 113, false },
	{ "127.0.0.1", "::ffff:255.0.0.0", 113, false },
	{ "127.0.0.1", "0.0.0.0", 0, true },
	{ "127.0.0.1", "255.255.0.0", 0, true },
	{ "127.0.0.1", "1.2.3.4", 0, true },
	{ "127.0.0.1", "0.0.0.0", 1, true },
	{ "127.0.0.1", "128.0.0.0", 1, false },
	{ "224.0.0.1", "128.0.0.0", 1, true },
	{ "224.0.0.1", "0.0.0.0", 1, false },
	{ "127.0.0.1", "127.0.0.0", 8, true },
	{ "127.0.0.1", "126.0.0.0", 8, false },
	{ "10.0.1.255", "10.0.0.0", 15, true },
	{ "172.16.0.1", "172.16.0.0", 16, true },
	{ "127.0.0.1", "127.0.0.1", 1, true },
	{ "127.0.0.1", "127.0.0.1", 7, true },
	{ "127.0.0.1", "127.0.0.1", 8, true },
	{ "127.0.0.1", "127.0.0.1", 23, true },
	{ "127.0.0.1", "127.0.0.1", 31, true },
	{ "127.0.0.1", "127.0.0.1", 32, true },
	{ "::1", "::", 0, true },
	{ "::1", "::1", 0, true },
	{ "::1", "ffff::", 0, true },
	{ "::1", "::", 1, true },
	{ "fec0::1", "8000::", 1, true },
	{ "::1", "8000::", 1, false },
	{ "fec0::1", "::", 1, false },
	{ "2:3:5::1", "2:3:4::", 47, true },
	{ "2:3:4::1", "2:3:4::", 48, true },
	{ "2:3:5::1", "2:3:4::", 48, false },
	{ "2:3:4:5::1", "2:3:4:5::", 127, true },
	{ "2:3:4:5::1", "2:3:4:5::1", 128, true },
	{ "2:3:4:5::1", "2:3:4:5::0", 128, false },
	/* prefix beyond the width is the full width */
	{ "1.2.3.4", "1.2.3.4", 33, true },
	{ "1.2.3.4", "1.2.3.4", 1000, true },
	{ "1.2.3.4", "1.2.3.4", INT_MAX, true },
	{ "1.2.3.5", "1.2.3.4", 33, false },
	{ "1.2.3.5", "1.2.3.4", INT_MAX, false },
	{ "1.2.3.5", "1.2.3.4", 31, true },
	{ "::1", "::1", 129, true },
	{ "::2", "::1", 200, false },
	{ "::2", "::1", INT_MAX, false },
	{ "::2", "::1", 126, true },
	/* negative prefixes */
	{ "1.2.3.4", "1.2.3.4", -1, false },
	{ "1.2.3.4", "0.0.0.0", INT_MIN, false },
	{ "::1", "::1", -5, false },
	/* bit boundaries; host bits of the net do not matter */
	{ "10.0.1.255", "10.0.0.0", 23, true },
	{ "10.0.1.255", "10.0.0.0", 24, false },
	{ "10.1.2.3", "10.9.9.9", 8, true },
	{ "2001:db8:8000::", "2001:db8::", 32, true },
	{ "2001:db8:8000::", "2001:db8::", 33, false },
	{ "2001:db8::ffff", "2001:db8::fffe", 127, true },
	/* families: mapped is IPv6, ANY is neither */
	{ "::ffff:10.1.2.3", "10.0.0.0", 8, false },
	{ "10.1.2.3", "::ffff:10.0.0.0", 104, false },
	{ "::ffff:10.1.2.3", "::ffff:10.0.0.0", 104, true },
	{ ANY_ADDR, ANY_ADDR, 0, false },
	{ "0.0.0.0", ANY_ADDR, 0, false },
	{ ANY_ADDR, "0.0.0.0", 0, false },
	{ ANY_ADDR, "::", 0, false },
	/* scope ignored */
	{ "fe80::1%lo", "fe80::", 10, true },
	{ "fe80::1", "fe80::1%lo", 128, true },
	{ "fe80::1%lo", "fe80::1%99999", 128, true },
};

START_TEST(test_in_subnet)
{
	wk_addr a = addr_of(subnet_rows[_i].addr);
	wk_addr net = addr_of(subnet_rows[_i].net);
	bool got = wk_addr_in_subnet(&a, &net, subnet_rows[_i].prefix);

	ck_assert_msg(got == subnet_rows[_i].in,
	    "in_subnet(%s, %s, %d) is %s", subnet_rows[_i].addr,
	    subnet_rows[_i].net, subnet_rows[_i].prefix,
	    got ? "true" : "false");
}
END_TEST

START_TEST(test_in_subnet_null)
{
	wk_addr a = addr_of("1.2.3.4");

	ck_assert(!wk_addr_in_subnet(NULL, &a, 0));
	ck_assert(!wk_addr_in_subnet(&a, NULL, 0));
	ck_assert(!wk_addr_in_subnet(NULL, NULL, 0));
	ck_assert(wk_addr_in_subnet(&a, &a, 0));
}
END_TEST

static const struct {
	const char *text;
	bool ok;
	const char *net;
	int prefix;
} parse_subnet_rows[] = {
	/* Qt parseSubnet() invalid_* */
	{ "foobar", false, NULL, -1 },
	{ "   ", false, NULL, -1 },
	{ "1.2.3.a", false, NULL, -1 },
	{ "1.2.3.4.5", false, NULL, -1 },
	{ "1.2.3.4:80", false, NULL, -1 },
	{ "1.2.3.4/33", false, NULL, -1 },
	{ "1.2.3.4/-1", false, NULL, -1 },
	{ "1.2.3.4/256.0.0.0", false, NULL, -1 },
	{ "1.2.3.4/255.253.0.0", false, NULL, -1 },
	{ "1.2.3.4/255.0.0.255", false, NULL, -1 },
	{ "1.2.3.4.", false, NULL, -1 },
	{ "ffff::/-1", false, NULL, -1 },
	{ "ffff::/129", false, NULL, -1 },
	{ "ffff::/255.255.0.0", false, NULL, -1 },
	{ "ffff::/ff00::", false, NULL, -1 },
	/* Qt netmask_* */
	{ "0.0.0.0/0.0.0.0", true, "0.0.0.0", 0 },
	{ "0.0.0.0/255.128.0.0", true, "0.0.0.0", 9 },
	{ "0.0.0.0/255.192.0.0", true, "0.0.0.0", 10 },
	{ "0.0.0.0/255.224.0.0", true, "0.0.0.0", 11 },
	{ "0.0.0.0/255.240.0.0", true, "0.0.0.0", 12 },
	{ "0.0.0.0/255.248.0.0", true, "0.0.0.0", 13 },
	{ "0.0.0.0/255.252.0.0", true, "0.0.0.0", 14 },
	{ "0.0.0.0/255.254.0.0", true, "0.0.0.0", 15 },
	{ "0.0.0.0/255.255.0.0", true, "0.0.0.0", 16 },
	{ "0.0.0.0/255.255.255.0", true, "0.0.0.0", 24 },
	{ "0.0.0.0/255.255.255.254", true, "0.0.0.0", 31 },
	{ "0.0.0.0/255.255.255.255", true, "0.0.0.0", 32 },
	/* Qt prefix_* */
	{ "0.0.0.0/0", true, "0.0.0.0", 0 },
	{ "0.0.0.0/1", true, "0.0.0.0", 1 },
	{ "0.0.0.0/9", true, "0.0.0.0", 9 },
	{ "0.0.0.0/31", true, "0.0.0.0", 31 },
	{ "0.0.0.0/32", true, "0.0.0.0", 32 },
	/* Qt class* and full-ipv4 */
	{ "10", true, "10.0.0.0", 8 },
	{ "10.", true, "10.0.0.0", 8 },
	{ "172.16", true, "172.16.0.0", 16 },
	{ "172.16.", true, "172.16.0.0", 16 },
	{ "192.168.0", true, "192.168.0.0", 24 },
	{ "192.168.0.", true, "192.168.0.0", 24 },
	{ "192.168.0.1", true, "192.168.0.1", 32 },
	/* Qt ipv6_* */
	{ "::/0", true, "::", 0 },
	{ "::/3", true, "::", 3 },
	{ "::/16", true, "::", 16 },
	{ "::/48", true, "::", 48 },
	{ "::/127", true, "::", 127 },
	{ "::/128", true, "::", 128 },
	/* Qt clear_*: host bits cleared */
	{ "255.255.255.255/31", true, "255.255.255.254", 31 },
	{ "255.255.255.255/24", true, "255.255.255.0", 24 },
	{ "255.255.255.255/23", true, "255.255.254.0", 23 },
	{ "255.255.255.255/22", true, "255.255.252.0", 22 },
	{ "255.255.255.255/21", true, "255.255.248.0", 21 },
	{ "255.255.255.255/20", true, "255.255.240.0", 20 },
	{ "255.255.255.255/19", true, "255.255.224.0", 19 },
	{ "255.255.255.255/18", true, "255.255.192.0", 18 },
	{ "255.255.255.255/17", true, "255.255.128.0", 17 },
	{ "255.255.255.255/16", true, "255.255.0.0", 16 },
	{ "255.255.255.255/8", true, "255.0.0.0", 8 },
	{ "255.255.255.255/1", true, "128.0.0.0", 1 },
	{ "255.255.255.255/0", true, "0.0.0.0", 0 },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/127", true,
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 127 },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/121", true,
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff80", 121 },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/120", true,
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00", 120 },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/112", true,
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:0", 112 },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/48", true,
	    "ffff:ffff:ffff::", 48 },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/47", true,
	    "ffff:ffff:fffe::", 47 },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/46", true,
	    "ffff:ffff:fffc::", 46 },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/45", true,
	    "ffff:ffff:fff8::", 45 },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/44", true,
	    "ffff:ffff:fff0::", 44 },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/43", true,
	    "ffff:ffff:ffe0::", 43 },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/42", true,
	    "ffff:ffff:ffc0::", 42 },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/41", true,
	    "ffff:ffff:ff80::", 41 },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/40", true,
	    "ffff:ffff:ff00::", 40 },
	{ "3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/3", true, "2000::", 3 },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/1", true, "8000::", 1 },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/0", true, "::", 0 },
	/* the contract's own examples and more accepted forms */
	{ "10.1.2.3/8", true, "10.0.0.0", 8 },
	{ "2001:db8::1/32", true, "2001:db8::", 32 },
	{ "10/8", true, "10.0.0.0", 8 },
	{ "192.168/16", true, "192.168.0.0", 16 },
	{ "10.1.2/24", true, "10.1.2.0", 24 },
	{ "10.1.2/8", true, "10.0.0.0", 8 },
	{ "10.1.2.3/255.255.0.0", true, "10.1.0.0", 16 },
	{ "10.0.0.0/255.0.0.0", true, "10.0.0.0", 8 },
	{ "1.2.3.4/0.0.0.0", true, "0.0.0.0", 0 },
	{ "  10.0.0.0/8\t", true, "10.0.0.0", 8 },
	{ "\n192.168 ", true, "192.168.0.0", 16 },
	{ "0", true, "0.0.0.0", 8 },
	{ "255.255.255.255/32", true, "255.255.255.255", 32 },
	{ "::1", true, "::1", 128 },
	{ "fe80::1", true, "fe80::1", 128 },
	{ "::ffff:1.2.3.4/104", true, "::ffff:1.0.0.0", 104 },
	{ "2001:db8::/48", true, "2001:db8::", 48 },
	{ "fe80::1/10", true, "fe80::", 10 },
	{ "2001:db8:1234::/33", true, "2001:db8::", 33 },
	/* rejected */
	{ "", false, NULL, -1 },
	{ "/8", false, NULL, -1 },
	{ "/", false, NULL, -1 },
	{ "1.2.3.4/", false, NULL, -1 },
	{ "1.2.3.4/0032", false, NULL, -1 },
	{ "1.2.3.4/+8", false, NULL, -1 },
	{ "1.2.3.4/ 8", false, NULL, -1 },
	{ "1.2.3.4 /8", false, NULL, -1 },
	{ "1.2.3.4/8 8", false, NULL, -1 },
	{ "1.2.3.4/8x", false, NULL, -1 },
	{ "1.2.3.4/0x8", false, NULL, -1 },
	{ "1.2.3.4/32/32", false, NULL, -1 },
	{ "1.2.3.4/255.0.255.0", false, NULL, -1 },
	{ "1.2.3.4/255.255.255", false, NULL, -1 },
	{ "1.2.3.4/255.255.255.0.", false, NULL, -1 },
	{ "1.2.3.4/128.0.0.1", false, NULL, -1 },
	{ "1.2.3.4/::", false, NULL, -1 },
	{ "010/8", false, NULL, -1 },
	{ "01.2.3.4/8", false, NULL, -1 },
	{ "256/8", false, NULL, -1 },
	{ "256", false, NULL, -1 },
	{ "1..2/16", false, NULL, -1 },
	{ ".1/8", false, NULL, -1 },
	{ "10..", false, NULL, -1 },
	{ "0x0a/8", false, NULL, -1 },
	{ "-10/8", false, NULL, -1 },
	{ "::/1000", false, NULL, -1 },
	{ "::/0129", false, NULL, -1 },
	{ "::1/", false, NULL, -1 },
	{ "fe80::1%lo", false, NULL, -1 },
	{ "fe80::1%lo/64", false, NULL, -1 },
	{ "fe80::/64%lo", false, NULL, -1 },
	{ "1.2.3.4%lo/32", false, NULL, -1 },
	{ "[::1]/128", false, NULL, -1 },
	{ ":::/8", false, NULL, -1 },
	{ "1:2:3/48", false, NULL, -1 },
};

START_TEST(test_parse_subnet)
{
	const char *text = parse_subnet_rows[_i].text;
	char buf[WK_ADDR_STRLEN];
	wk_addr net, want;
	int prefix = 12345;
	bool ok;

	memset(&net, 0x3c, sizeof net);
	ok = wk_addr_parse_subnet(text, &net, &prefix);
	ck_assert_msg(ok == parse_subnet_rows[_i].ok,
	    "parse_subnet(\"%s\") returned %s", show(text),
	    ok ? "true" : "false");
	if (!ok) {
		assert_null_addr(&net, text);
		ck_assert_msg(prefix == -1, "parse_subnet(\"%s\") failed "
		    "with prefix %d", show(text), prefix);
		return;
	}
	want = addr_of(parse_subnet_rows[_i].net);
	ck_assert_msg(wk_addr_equal(&net, &want, WK_ADDR_CMP_STRICT),
	    "parse_subnet(\"%s\") gave net %s, expected %s", show(text),
	    fmt(&net, buf), parse_subnet_rows[_i].net);
	ck_assert_msg(prefix == parse_subnet_rows[_i].prefix,
	    "parse_subnet(\"%s\") gave prefix %d, expected %d", show(text),
	    prefix, parse_subnet_rows[_i].prefix);
	ck_assert(wk_addr_in_subnet(&net, &net, prefix));
	assert_clean(&net, text);
}
END_TEST

START_TEST(test_parse_subnet_null)
{
	wk_addr net;
	int prefix;

	memset(&net, 0x3c, sizeof net);
	prefix = 7;
	ck_assert(!wk_addr_parse_subnet(NULL, &net, &prefix));
	assert_null_addr(&net, "parse_subnet(NULL)");
	ck_assert_int_eq(prefix, -1);
	prefix = 7;
	ck_assert(!wk_addr_parse_subnet("10.0.0.0/8", NULL, &prefix));
	ck_assert_int_eq(prefix, -1);
	memset(&net, 0x3c, sizeof net);
	ck_assert(!wk_addr_parse_subnet("10.0.0.0/8", &net, NULL));
	assert_null_addr(&net, "parse_subnet(prefix NULL)");
	ck_assert(!wk_addr_parse_subnet(NULL, NULL, NULL));
}
END_TEST

/* ------------------------------------------------------------------ */
/* Equality and hash                                                   */
/* ------------------------------------------------------------------ */

#define M_STRICT WK_ADDR_CMP_STRICT
#define M_MAPPED WK_ADDR_CMP_V4_MAPPED
#define M_COMPAT WK_ADDR_CMP_V4_COMPAT
#define M_UNSPEC WK_ADDR_CMP_UNSPECIFIED
#define M_LOCAL WK_ADDR_CMP_LOCALHOST
#define M_TOLERANT WK_ADDR_CMP_TOLERANT

static const struct {
	const char *a;
	const char *b;
	unsigned mode;
	bool equal;
} equal_rows[] = {
	/* Qt compare() */
	{ NULL_ADDR, NULL_ADDR, M_STRICT, true },
	{ ANY_ADDR, ANY_ADDR, M_STRICT, true },
	{ "::", "::", M_STRICT, true },
	{ "255.255.255.255", "255.255.255.255", M_STRICT, true },
	{ "127.0.0.1", "255.255.255.255", M_STRICT, false },
	{ "127.0.0.1", "::1", M_STRICT, false },
	{ NULL_ADDR, "::1", M_STRICT, false },
	{ "0.0.0.0", "::", M_STRICT, false },
	{ "127.0.0.1", "::ffff:127.0.0.1", M_STRICT, false },
	/* Qt isEqual() */
	{ "127.0.0.1", "::1", M_LOCAL, true },
	{ "127.0.0.1", "::1", M_COMPAT, false },
	{ "127.0.0.1", "::1", M_MAPPED, false },
	{ "127.0.0.1", "::1", M_UNSPEC, false },
	{ "0.0.0.1", "::1", M_LOCAL, false },
	{ "192.168.1.1", "::192.168.1.1", M_LOCAL, false },
	{ "192.168.1.1", "::ffff:192.168.1.1", M_LOCAL, false },
	{ "0.0.0.1", "::1", M_UNSPEC, false },
	{ "192.168.1.1", "::192.168.1.1", M_UNSPEC, false },
	{ "192.168.1.1", "::ffff:192.168.1.1", M_UNSPEC, false },
	{ "0.0.0.1", "::1", M_COMPAT, false },
	{ "192.168.1.1", "::192.168.1.1", M_COMPAT, true },
	{ "192.168.1.1", "::ffff:192.168.1.1", M_COMPAT, false },
	{ "0.0.0.1", "::1", M_MAPPED, false },
	{ "192.168.1.1", "::192.168.1.1", M_MAPPED, false },
	{ "192.168.1.1", "::FFFF:192.168.1.1", M_MAPPED, true },
	{ NULL_ADDR, ANY_ADDR, M_LOCAL, false },
	{ NULL_ADDR, ANY_ADDR, M_UNSPEC, false },
	/* Qt says true; the contract excludes 0.0.0.0 from V4_COMPAT */
	{ "::", "0.0.0.0", M_COMPAT, false },
	{ "::", "0.0.0.0", M_MAPPED, false },
	{ "::", "0.0.0.0", M_UNSPEC, true },
	{ ANY_ADDR, "0.0.0.0", M_UNSPEC, true },
	{ ANY_ADDR, "::", M_UNSPEC, true },
	{ "::", "0.0.0.0", M_LOCAL, false },
	{ ANY_ADDR, "0.0.0.0", M_LOCAL, false },
	{ ANY_ADDR, "::", M_LOCAL, false },
	{ "::1", ANY_ADDR, M_TOLERANT, false },
	{ "127.0.0.1", ANY_ADDR, M_TOLERANT, false },
	{ "::1", "::", M_TOLERANT, false },
	{ "127.0.0.1", "::", M_TOLERANT, false },
	{ "::1", "0.0.0.0", M_TOLERANT, false },
	{ "127.0.0.1", "0.0.0.0", M_TOLERANT, false },
	/* strict */
	{ "1080:0:0:0:8:800:200C:417A", "1080::8:800:200c:417a", M_STRICT,
	    true },
	{ "fe80::1%lo", "fe80::1", M_STRICT, false },
	{ "fe80::1%lo", "fe80::1%lo", M_STRICT, true },
	{ "fe80::1%99999", "fe80::1%lo", M_STRICT, false },
	{ ANY_ADDR, "0.0.0.0", M_STRICT, false },
	{ ANY_ADDR, "::", M_STRICT, false },
	{ ANY_ADDR, NULL_ADDR, M_STRICT, false },
	{ "1.2.3.4", "1.2.3.5", M_TOLERANT, false },
	{ "1.2.3.4", "1.2.3.4", M_TOLERANT, true },
	{ "::ffff:1.2.3.4", "::1.2.3.4", M_TOLERANT, false },
	/* the cross-family modes, one by one and combined */
	{ "1.2.3.4", "::ffff:1.2.3.4", M_MAPPED, true },
	{ "1.2.3.4", "::ffff:1.2.3.4", M_TOLERANT, true },
	{ "1.2.3.4", "::ffff:1.2.3.5", M_MAPPED, false },
	{ "0.0.0.0", "::ffff:0.0.0.0", M_MAPPED, true },
	{ "1.2.3.4", "::1.2.3.4", M_COMPAT, true },
	{ "1.2.3.4", "::1.2.3.4", M_TOLERANT, true },
	{ "1.2.3.4", "::1.2.3.4", M_MAPPED | M_LOCAL, false },
	{ "0.0.0.2", "::2", M_COMPAT, true },
	{ "0.0.0.1", "::1", M_TOLERANT, false },
	{ "127.0.0.1", "::1", M_TOLERANT, true },
	{ "127.0.0.2", "::1", M_LOCAL, false },
	{ "127.0.0.1", "::2", M_LOCAL, false },
	{ "127.0.0.1", "::127.0.0.1", M_LOCAL, false },
	{ "0.0.0.0", "::", M_TOLERANT, true },
	{ ANY_ADDR, "::1", M_UNSPEC, false },
	{ ANY_ADDR, "0.0.0.1", M_UNSPEC, false },
	{ NULL_ADDR, "0.0.0.0", M_TOLERANT, false },
	{ NULL_ADDR, "::", M_TOLERANT, false },
	/* the IPv6 side of a cross-family match must have no scope */
	{ "1.2.3.4", "::ffff:1.2.3.4%lo", M_MAPPED, false },
	{ "1.2.3.4", "::1.2.3.4%lo", M_COMPAT, false },
	{ "127.0.0.1", "::1%lo", M_LOCAL, false },
	{ "0.0.0.0", "::%lo", M_UNSPEC, false },
	{ ANY_ADDR, "::%lo", M_UNSPEC, false },
};

START_TEST(test_equal)
{
	wk_addr a = addr_of(equal_rows[_i].a), b = addr_of(equal_rows[_i].b);
	unsigned mode = equal_rows[_i].mode;
	bool ab = wk_addr_equal(&a, &b, mode), ba = wk_addr_equal(&b, &a, mode);

	ck_assert_msg(ab == equal_rows[_i].equal,
	    "equal(%s, %s, 0x%x) is %s", equal_rows[_i].a, equal_rows[_i].b,
	    mode, ab ? "true" : "false");
	ck_assert_msg(ba == equal_rows[_i].equal,
	    "equal(%s, %s, 0x%x) is %s", equal_rows[_i].b, equal_rows[_i].a,
	    mode, ba ? "true" : "false");
	if (ab && mode == WK_ADDR_CMP_STRICT)
		ck_assert_msg(wk_addr_hash(&a, 0) == wk_addr_hash(&b, 0) &&
		    wk_addr_hash(&a, 99) == wk_addr_hash(&b, 99),
		    "%s and %s are equal but hash apart", equal_rows[_i].a,
		    equal_rows[_i].b);
}
END_TEST

START_TEST(test_equal_null_pointers)
{
	wk_addr a = addr_of("1.2.3.4"), n = wk_addr_special(WK_ADDR_NULL);
	unsigned modes[] = { M_STRICT, M_MAPPED, M_TOLERANT };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		ck_assert(wk_addr_equal(NULL, NULL, modes[i]));
		ck_assert(!wk_addr_equal(&a, NULL, modes[i]));
		ck_assert(!wk_addr_equal(NULL, &a, modes[i]));
		ck_assert(!wk_addr_equal(&n, NULL, modes[i]));
		ck_assert(!wk_addr_equal(NULL, &n, modes[i]));
	}
}
END_TEST

/* Texts naming the same address hash alike, whatever the seed. */
START_TEST(test_hash_equal_texts)
{
	static const char *const pairs[][2] = {
		{ "1.2.3.4", " 1.2.3.4\t" },
		{ "::", "0:0:0:0:0:0:0:0" },
		{ "::ffff:1.2.3.4", "::ffff:102:304" },
		{ "2001:DB8::1", "2001:db8:0:0:0:0:0:1" },
		{ "fe80::1%lo", "FE80:0::1%lo" },
		{ "::1.2.3.4", "::102:304" },
	};
	static const uint32_t seeds[] = { 0, 1, 0x9e3779b9u, 0xffffffffu };
	size_t i, j;
	wk_addr a, b;

	for (i = 0; i < ARRAY_SIZE(pairs); i++) {
		a = addr_of(pairs[i][0]);
		b = addr_of(pairs[i][1]);
		ck_assert(wk_addr_equal(&a, &b, WK_ADDR_CMP_STRICT));
		for (j = 0; j < ARRAY_SIZE(seeds); j++)
			ck_assert_msg(wk_addr_hash(&a, seeds[j]) ==
			    wk_addr_hash(&b, seeds[j]), "%s / %s seed %u",
			    pairs[i][0], show(pairs[i][1]),
			    (unsigned)seeds[j]);
	}
}
END_TEST

/* Bytes past an IPv4 address take no part in equality or hash. */
START_TEST(test_hash_ipv4_junk)
{
	wk_addr clean = addr_of("192.0.2.1"), junk = clean;
	wk_addr scoped = clean;
	char buf[WK_ADDR_STRLEN];
	size_t i;

	for (i = 4; i < 16; i++)
		junk.bytes[i] = (uint8_t)(0x11 * i + 3);
	ck_assert(wk_addr_equal(&clean, &junk, WK_ADDR_CMP_STRICT));
	ck_assert(wk_addr_equal(&junk, &clean, WK_ADDR_CMP_STRICT));
	ck_assert_uint_eq(wk_addr_hash(&clean, 0), wk_addr_hash(&junk, 0));
	ck_assert_uint_eq(wk_addr_hash(&clean, 77), wk_addr_hash(&junk, 77));
	ck_assert_str_eq(fmt(&junk, buf), "192.0.2.1");
	/* the hash ignores the scope of an IPv4 address too */
	scoped.scope_id = 42;
	ck_assert_uint_eq(wk_addr_hash(&clean, 5), wk_addr_hash(&scoped, 5));
}
END_TEST

START_TEST(test_hash_misc)
{
	wk_addr n1 = wk_addr_special(WK_ADDR_NULL), n2;
	wk_addr any1 = wk_addr_special(WK_ADDR_ANY), any2 = any1;

	ck_assert_uint_eq(wk_addr_hash(NULL, 3), wk_addr_hash(NULL, 3));
	ck_assert_uint_eq(wk_addr_hash(NULL, 0), wk_addr_hash(NULL, 0));
	wk_addr_parse(&n2, "junk");
	ck_assert_uint_eq(wk_addr_hash(&n1, 9), wk_addr_hash(&n2, 9));
	ck_assert_uint_eq(wk_addr_hash(&any1, 9), wk_addr_hash(&any2, 9));
}
END_TEST

/* ------------------------------------------------------------------ */
/* Conversions                                                         */
/* ------------------------------------------------------------------ */

START_TEST(test_from_sockaddr_in)
{
	struct sockaddr_in sin;
	char buf[WK_ADDR_STRLEN];
	uint16_t port = 1;
	wk_addr a;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(8080);
	sin.sin_addr.s_addr = htonl(0xc0000201);
	ck_assert(wk_addr_from_sockaddr(&a, &port, (struct sockaddr *)&sin,
	    sizeof sin));
	ck_assert_uint_eq(port, 8080);
	ck_assert_str_eq(fmt(&a, buf), "192.0.2.1");
	assert_clean(&a, "from sockaddr_in");
	ck_assert(wk_addr_from_sockaddr(&a, NULL, (struct sockaddr *)&sin,
	    sizeof sin));
	ck_assert_str_eq(fmt(&a, buf), "192.0.2.1");

	/* one byte short */
	port = 1;
	ck_assert(!wk_addr_from_sockaddr(&a, &port, (struct sockaddr *)&sin,
	    sizeof sin - 1));
	assert_null_addr(&a, "short sockaddr_in");
	ck_assert_uint_eq(port, 0);
}
END_TEST

/*
 * Found by fuzz_resolver: a socket address shorter than its sa_family
 * field (an ai_addrlen of 0 or 1) must not be read past its end.  Each
 * is allocated to its exact length, so that ASan and valgrind see it.
 */
START_TEST(test_from_sockaddr_runt)
{
	uint16_t port = 1;
	wk_addr a;

	for (size_t len = 0; len < 2; len++) {
		unsigned char *p = malloc(len ? len : 1);

		ck_assert_ptr_nonnull(p);
		p[0] = AF_INET;
		ck_assert(!wk_addr_from_sockaddr(&a, &port,
		    (struct sockaddr *)p, len));
		assert_null_addr(&a, "runt sockaddr");
		ck_assert_uint_eq(port, 0);
		free(p);
	}
}
END_TEST

START_TEST(test_from_sockaddr_in6)
{
	struct sockaddr_in6 sin6;
	struct sockaddr_storage ss;
	char buf[WK_ADDR_STRLEN];
	uint16_t port = 1;
	wk_addr a;

	memset(&sin6, 0, sizeof sin6);
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(0x1234);
	sin6.sin6_scope_id = 99999;
	ck_assert_int_eq(inet_pton(AF_INET6, "fe80::abcd", &sin6.sin6_addr), 1);
	ck_assert(wk_addr_from_sockaddr(&a, &port, (struct sockaddr *)&sin6,
	    sizeof sin6));
	ck_assert_uint_eq(port, 0x1234);
	ck_assert_uint_eq(a.scope_id, 99999);
	ck_assert_str_eq(fmt(&a, buf), "fe80::abcd%99999");

	/* a larger buffer is fine */
	memset(&ss, 0, sizeof ss);
	memcpy(&ss, &sin6, sizeof sin6);
	ck_assert(wk_addr_from_sockaddr(&a, &port, (struct sockaddr *)&ss,
	    sizeof ss));
	ck_assert_str_eq(fmt(&a, buf), "fe80::abcd%99999");

	/* short, even if long enough for a sockaddr_in */
	port = 1;
	ck_assert(!wk_addr_from_sockaddr(&a, &port, (struct sockaddr *)&sin6,
	    sizeof sin6 - 1));
	assert_null_addr(&a, "short sockaddr_in6");
	ck_assert_uint_eq(port, 0);
}
END_TEST

START_TEST(test_from_sockaddr_bad)
{
	struct sockaddr_storage ss;
	uint16_t port = 1;
	wk_addr a;

	memset(&ss, 0, sizeof ss);
	ss.ss_family = AF_UNIX;
	memset(&a, 0x11, sizeof a);
	ck_assert(!wk_addr_from_sockaddr(&a, &port, (struct sockaddr *)&ss,
	    sizeof ss));
	assert_null_addr(&a, "AF_UNIX");
	ck_assert_uint_eq(port, 0);

	ss.ss_family = AF_UNSPEC;
	port = 1;
	ck_assert(!wk_addr_from_sockaddr(&a, &port, (struct sockaddr *)&ss,
	    sizeof ss));
	ck_assert_uint_eq(port, 0);

	port = 1;
	memset(&a, 0x11, sizeof a);
	ck_assert(!wk_addr_from_sockaddr(&a, &port, NULL, sizeof ss));
	assert_null_addr(&a, "NULL sockaddr");
	ck_assert_uint_eq(port, 0);

	ss.ss_family = AF_INET;
	port = 1;
	ck_assert(!wk_addr_from_sockaddr(&a, &port, (struct sockaddr *)&ss,
	    0));
	ck_assert_uint_eq(port, 0);
}
END_TEST

START_TEST(test_to_sockaddr_in)
{
	struct sockaddr_in sin, want;
	wk_addr a = addr_of("192.0.2.1");

	memset(&want, 0, sizeof want);
	want.sin_family = AF_INET;
	want.sin_port = htons(0xabcd);
	want.sin_addr.s_addr = htonl(0xc0000201);
	memset(&sin, 0xaa, sizeof sin);
	ck_assert_uint_eq(wk_addr_to_sockaddr(&a, 0xabcd,
	    (struct sockaddr *)&sin, sizeof sin), sizeof sin);
	ck_assert_msg(memcmp(&sin, &want, sizeof sin) == 0,
	    "sockaddr_in not zeroed or wrong");

	/* too small: nothing written */
	memset(&sin, 0xaa, sizeof sin);
	ck_assert_uint_eq(wk_addr_to_sockaddr(&a, 1, (struct sockaddr *)&sin,
	    sizeof sin - 1), 0);
	ck_assert_uint_eq(((unsigned char *)&sin)[0], 0xaa);
	ck_assert_uint_eq(sin.sin_family, 0xaaaa);
}
END_TEST

START_TEST(test_to_sockaddr_in6)
{
	struct sockaddr_in6 sin6, want;
	unsigned char raw[sizeof(struct sockaddr_in6)];
	wk_addr a = addr_of("fe80::1%lo");
	size_t i;

	memset(&want, 0, sizeof want);
	want.sin6_family = AF_INET6;
	want.sin6_port = htons(443);
	want.sin6_scope_id = lo_index();
	inet_pton(AF_INET6, "fe80::1", &want.sin6_addr);
	memset(&sin6, 0xaa, sizeof sin6);
	ck_assert_uint_eq(wk_addr_to_sockaddr(&a, 443,
	    (struct sockaddr *)&sin6, sizeof sin6), sizeof sin6);
	ck_assert_msg(memcmp(&sin6, &want, sizeof sin6) == 0,
	    "sockaddr_in6 not zeroed or wrong");

	/* room for a sockaddr_in is not room for a sockaddr_in6 */
	memset(raw, 0xaa, sizeof raw);
	ck_assert_uint_eq(wk_addr_to_sockaddr(&a, 443, (struct sockaddr *)raw,
	    sizeof(struct sockaddr_in)), 0);
	for (i = 0; i < sizeof raw; i++)
		ck_assert_uint_eq(raw[i], 0xaa);
}
END_TEST

/* The dual-stack ANY becomes an IPv6 "::" socket address. */
START_TEST(test_to_sockaddr_any)
{
	struct sockaddr_in6 sin6, want;
	unsigned char raw[sizeof(struct sockaddr_in6)];
	wk_addr any = wk_addr_special(WK_ADDR_ANY);
	size_t i;

	memset(&want, 0, sizeof want);
	want.sin6_family = AF_INET6;
	want.sin6_port = htons(80);
	want.sin6_addr = in6addr_any;
	memset(&sin6, 0xaa, sizeof sin6);
	ck_assert_uint_eq(wk_addr_to_sockaddr(&any, 80,
	    (struct sockaddr *)&sin6, sizeof sin6), sizeof sin6);
	ck_assert(memcmp(&sin6, &want, sizeof sin6) == 0);

	memset(raw, 0xaa, sizeof raw);
	ck_assert_uint_eq(wk_addr_to_sockaddr(&any, 80, (struct sockaddr *)raw,
	    sizeof(struct sockaddr_in)), 0);
	for (i = 0; i < sizeof raw; i++)
		ck_assert_uint_eq(raw[i], 0xaa);
}
END_TEST

START_TEST(test_to_sockaddr_bad)
{
	struct sockaddr_storage ss;
	unsigned char *raw = (unsigned char *)&ss;
	wk_addr null = wk_addr_special(WK_ADDR_NULL), a = addr_of("::1");
	size_t i;

	memset(&ss, 0xaa, sizeof ss);
	ck_assert_uint_eq(wk_addr_to_sockaddr(&null, 1, (struct sockaddr *)&ss,
	    sizeof ss), 0);
	ck_assert_uint_eq(wk_addr_to_sockaddr(NULL, 1, (struct sockaddr *)&ss,
	    sizeof ss), 0);
	ck_assert_uint_eq(wk_addr_to_sockaddr(&a, 1, (struct sockaddr *)&ss,
	    0), 0);
	for (i = 0; i < sizeof ss; i++)
		ck_assert_uint_eq(raw[i], 0xaa);
	ck_assert_uint_eq(wk_addr_to_sockaddr(&a, 1, NULL, sizeof ss), 0);
	ck_assert_uint_eq(wk_addr_to_sockaddr(&a, 1, NULL, 0), 0);
}
END_TEST

/* to_sockaddr then from_sockaddr gives the address and port back. */
START_TEST(test_sockaddr_round_trip)
{
	static const char *const texts[] = {
		"0.0.0.0", "255.255.255.255", "10.1.2.3", "::", "::1",
		"fe80::1%lo", "fe80::1%4000000000", "::ffff:1.2.3.4",
		"2001:db8:85a3::8a2e:370:7334",
	};
	static const uint16_t ports[] = { 0, 1, 0x00ff, 0xff00, 65535 };
	struct sockaddr_storage ss;
	size_t i, j, len;
	uint16_t port;
	wk_addr a, b;

	for (i = 0; i < ARRAY_SIZE(texts); i++) {
		a = addr_of(texts[i]);
		for (j = 0; j < ARRAY_SIZE(ports); j++) {
			len = wk_addr_to_sockaddr(&a, ports[j],
			    (struct sockaddr *)&ss, sizeof ss);
			ck_assert_msg(len != 0, "%s", texts[i]);
			ck_assert(wk_addr_from_sockaddr(&b, &port,
			    (struct sockaddr *)&ss, len));
			ck_assert_msg(wk_addr_equal(&a, &b, M_STRICT) &&
			    port == ports[j], "%s port %u", texts[i],
			    (unsigned)ports[j]);
		}
	}
}
END_TEST

START_TEST(test_ipv4_conversions)
{
	wk_addr a = wk_addr_from_ipv4(0xc0000201), b;
	char buf[WK_ADDR_STRLEN];
	bool ok;

	ck_assert_uint_eq(a.family, WK_FAMILY_IPV4);
	ck_assert_uint_eq(a.bytes[0], 192);
	ck_assert_uint_eq(a.bytes[3], 1);
	assert_clean(&a, "from_ipv4");
	ck_assert_str_eq(fmt(&a, buf), "192.0.2.1");
	ok = false;
	ck_assert_uint_eq(wk_addr_to_ipv4(&a, &ok), 0xc0000201);
	ck_assert(ok);
	ck_assert_uint_eq(wk_addr_to_ipv4(&a, NULL), 0xc0000201);
	b = wk_addr_from_ipv4(0);
	ck_assert_str_eq(fmt(&b, buf), "0.0.0.0");
	b = wk_addr_from_ipv4(0xffffffffu);
	ck_assert_str_eq(fmt(&b, buf), "255.255.255.255");
	b = wk_addr_from_ipv4(0x7f000001);
	ck_assert(wk_addr_equal(&b, &(wk_addr){ WK_FAMILY_IPV4,
	    { 127, 0, 0, 1 }, 0 }, M_STRICT));
}
END_TEST

/* to_ipv4 on everything that is not plain IPv4; Qt convertv4v6(). */
static const struct {
	const char *text;
	bool ok;
	uint32_t value;
} to_ipv4_rows[] = {
	{ ANY_ADDR, true, 0 },
	{ "::ffff:192.0.2.1", true, 0xc0000201 },
	{ "::ffff:127.0.0.1", true, 0x7f000001 },
	{ "::ffff:0.0.0.0", true, 0 },
	{ "127.0.0.1", true, 0x7f000001 },
	{ "::1", false, 0 },
	{ "::192.0.2.1", false, 0 },
	{ "::127.0.0.1", false, 0 },
	{ "2001:db8::1", false, 0 },
	{ "ff02::1", false, 0 },
	/* Qt gives 0.0.0.0 for "::"; the contract gives ok false */
	{ "::", false, 0 },
	{ NULL_ADDR, false, 0 },
};

START_TEST(test_to_ipv4)
{
	wk_addr a = addr_of(to_ipv4_rows[_i].text);
	bool ok = !to_ipv4_rows[_i].ok;
	uint32_t v = wk_addr_to_ipv4(&a, &ok);

	ck_assert_msg(ok == to_ipv4_rows[_i].ok && v == to_ipv4_rows[_i].value,
	    "to_ipv4(%s) gave 0x%08x ok %d", to_ipv4_rows[_i].text,
	    (unsigned)v, ok);
	ck_assert_uint_eq(wk_addr_to_ipv4(&a, NULL), to_ipv4_rows[_i].value);
}
END_TEST

START_TEST(test_to_ipv4_null_pointer)
{
	bool ok = true;

	ck_assert_uint_eq(wk_addr_to_ipv4(NULL, &ok), 0);
	ck_assert(!ok);
	ck_assert_uint_eq(wk_addr_to_ipv4(NULL, NULL), 0);
}
END_TEST

START_TEST(test_ipv6_conversions)
{
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 7 };
	static const uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff, 192, 0,
	    2, 1 };
	static const uint8_t zero[16];
	char buf[WK_ADDR_STRLEN];
	uint8_t out[16];
	wk_addr a, b;

	a = wk_addr_from_ipv6(v6, 0);
	ck_assert_uint_eq(a.family, WK_FAMILY_IPV6);
	ck_assert_str_eq(fmt(&a, buf), "2001:db8::7");
	a = wk_addr_from_ipv6(v6, 4000000000u);
	ck_assert_uint_eq(a.scope_id, 4000000000u);
	memset(out, 0x55, sizeof out);
	ck_assert(wk_addr_to_ipv6(&a, out));
	ck_assert(memcmp(out, v6, 16) == 0);
	b = wk_addr_from_ipv6(NULL, 5);
	assert_null_addr(&b, "from_ipv6(NULL)");

	a = addr_of("192.0.2.1");
	ck_assert(wk_addr_to_ipv6(&a, out));
	ck_assert(memcmp(out, mapped, 16) == 0);
	/* Qt anyv4-to-v6 gives "::"; the contract maps 0.0.0.0 */
	a = addr_of("0.0.0.0");
	ck_assert(wk_addr_to_ipv6(&a, out));
	ck_assert(memcmp(out, (uint8_t[16]){ [10] = 0xff, [11] = 0xff }, 16)
	    == 0);
	a = wk_addr_special(WK_ADDR_ANY);
	memset(out, 0x55, sizeof out);
	ck_assert(wk_addr_to_ipv6(&a, out));
	ck_assert(memcmp(out, zero, 16) == 0);
	a = wk_addr_special(WK_ADDR_NULL);
	ck_assert(!wk_addr_to_ipv6(&a, out));
	ck_assert(!wk_addr_to_ipv6(NULL, out));
}
END_TEST

static const struct {
	const char *in;
	const char *mapped;
	const char *unmapped;
} map_rows[] = {
	{ "192.0.2.1", "::ffff:192.0.2.1", "192.0.2.1" },
	{ "127.0.0.1", "::ffff:127.0.0.1", "127.0.0.1" },
	{ "0.0.0.0", "::ffff:0.0.0.0", "0.0.0.0" },
	{ "::ffff:192.0.2.1", "::ffff:192.0.2.1", "192.0.2.1" },
	{ "::ffff:0.0.0.0", "::ffff:0.0.0.0", "0.0.0.0" },
	{ "::ffff:1.2.3.4%lo", "::ffff:1.2.3.4%lo", "::ffff:1.2.3.4%lo" },
	{ "::1.2.3.4", "::1.2.3.4", "::1.2.3.4" },
	{ "::1", "::1", "::1" },
	{ "::", "::", "::" },
	{ "2001:db8::1", "2001:db8::1", "2001:db8::1" },
	{ "1::ffff:1.2.3.4", "1::ffff:1.2.3.4", "1::ffff:1.2.3.4" },
	{ ANY_ADDR, ANY_ADDR, ANY_ADDR },
	{ NULL_ADDR, NULL_ADDR, NULL_ADDR },
};

START_TEST(test_map_unmap)
{
	wk_addr a = addr_of(map_rows[_i].in);
	wk_addr want_m = addr_of(map_rows[_i].mapped);
	wk_addr want_u = addr_of(map_rows[_i].unmapped);
	wk_addr m = wk_addr_map_ipv4(&a), u = wk_addr_unmap_ipv4(&a);
	char b1[WK_ADDR_STRLEN];

	ck_assert_msg(wk_addr_equal(&m, &want_m, M_STRICT),
	    "map(%s) = %s", map_rows[_i].in, fmt(&m, b1));
	ck_assert_msg(wk_addr_equal(&u, &want_u, M_STRICT),
	    "unmap(%s) = %s", map_rows[_i].in, fmt(&u, b1));
	if (u.family == WK_FAMILY_IPV4)
		assert_clean(&u, map_rows[_i].in);
}
END_TEST

START_TEST(test_map_unmap_null_pointer)
{
	wk_addr m = wk_addr_map_ipv4(NULL), u = wk_addr_unmap_ipv4(NULL);

	assert_null_addr(&m, "map(NULL)");
	assert_null_addr(&u, "unmap(NULL)");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Random round trips, checked against glibc                          */
/* ------------------------------------------------------------------ */

#define ROUND_TRIP_ITERATIONS 10
#define ROUND_TRIPS_PER_ITERATION 10000

/* A fixed-seed generator of our own, so every run sees the same inputs. */
static uint64_t
xorshift64(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

static void
random_ipv4(uint64_t *st, wk_addr *a)
{
	uint64_t r = xorshift64(st);
	int i;

	a->family = WK_FAMILY_IPV4;
	for (i = 0; i < 4; i++) {
		/* favour 0 and 255 so the edge parts come up often */
		switch ((r >> (8 * i + 32)) & 7) {
		case 0:
			a->bytes[i] = 0;
			break;
		case 1:
			a->bytes[i] = 255;
			break;
		default:
			a->bytes[i] = (uint8_t)(r >> (8 * i));
		}
	}
}

/* Groups are zero half the time, so runs of every length and place come up. */
static void
random_groups(uint64_t *st, wk_addr *a)
{
	static const uint16_t masks[] = { 0xf, 0xff, 0xfff, 0xffff };
	uint64_t r = xorshift64(st), v = xorshift64(st);
	uint16_t g;
	int i;

	for (i = 0; i < 8; i++) {
		g = 0;
		if ((r >> i) & 1)
			g = (uint16_t)((v >> (8 * i)) * 0x0101 &
			    masks[(r >> (8 + 2 * i)) & 3]);
		if (((r >> (24 + i)) & 7) == 0)
			g = 0xffff;
		a->bytes[2 * i] = (uint8_t)(g >> 8);
		a->bytes[2 * i + 1] = (uint8_t)g;
	}
}

static void
random_ipv6(uint64_t *st, wk_addr *a, unsigned lo)
{
	uint64_t r = xorshift64(st);
	int i;

	a->family = WK_FAMILY_IPV6;
	switch (r % 8) {
	case 0:	/* mapped */
	case 1:	/* compatible */
		random_ipv4(st, a);
		a->family = WK_FAMILY_IPV6;
		memmove(a->bytes + 12, a->bytes, 4);
		memset(a->bytes, 0, 12);
		if (r % 8 == 0)
			a->bytes[10] = a->bytes[11] = 0xff;
		break;
	case 2:	/* anything */
		for (i = 0; i < 16; i += 8) {
			uint64_t v = xorshift64(st);

			memcpy(a->bytes + i, &v, 8);
		}
		break;
	default:
		random_groups(st, a);
	}
	if (((r >> 8) & 7) == 0)
		a->scope_id = ((r >> 11) & 1) ? lo : (uint32_t)(r >> 32) | 1;
}

/* Texts where glibc's inet_ntop differs from RFC 5952 / Qt on purpose. */
static bool
ipv6_v4_form(const uint8_t *b)
{
	static const uint8_t zero[10];

	return memcmp(b, zero, 10) == 0 && ((b[10] == 0 && b[11] == 0) ||
	    (b[10] == 0xff && b[11] == 0xff));
}

static void
check_against_glibc(const wk_addr *a, const char *text)
{
	char sys[INET6_ADDRSTRLEN], plain[WK_ADDR_STRLEN];
	unsigned char bin[16];
	int af = a->family == WK_FAMILY_IPV4 ? AF_INET : AF_INET6;
	const char *pct = strchr(text, '%');

	snprintf(plain, sizeof plain, "%.*s",
	    (int)(pct ? (size_t)(pct - text) : strlen(text)), text);
	ck_assert_msg(inet_pton(af, plain, bin) == 1,
	    "inet_pton rejects \"%s\"", plain);
	ck_assert_msg(memcmp(bin, a->bytes, af == AF_INET ? 4 : 16) == 0,
	    "inet_pton reads \"%s\" differently", plain);
	if (af == AF_INET6 && ipv6_v4_form(a->bytes))
		return;
	ck_assert_ptr_nonnull(inet_ntop(af, a->bytes, sys, sizeof sys));
	ck_assert_msg(strcmp(sys, plain) == 0,
	    "format gives \"%s\", inet_ntop \"%s\"", plain, sys);
}

START_TEST(test_round_trip)
{
	uint64_t st = 0x9e3779b97f4a7c15ull ^ ((uint64_t)_i << 32);
	char t1[WK_ADDR_STRLEN], t2[WK_ADDR_STRLEN];
	unsigned lo = lo_index();
	size_t n;
	wk_addr a, b;
	int k;

	for (k = 0; k < ROUND_TRIPS_PER_ITERATION; k++) {
		memset(&a, 0, sizeof a);
		if (xorshift64(&st) % 3 == 0)
			random_ipv4(&st, &a);
		else
			random_ipv6(&st, &a, lo);
		n = wk_addr_format(&a, t1, sizeof t1);
		ck_assert_msg(n < WK_ADDR_STRLEN && n == strlen(t1),
		    "format length %zu for \"%s\"", n, t1);
		ck_assert_msg(wk_addr_parse(&b, t1), "\"%s\" does not parse",
		    t1);
		ck_assert_msg(wk_addr_equal(&a, &b, WK_ADDR_CMP_STRICT),
		    "\"%s\" parses to a different address", t1);
		wk_addr_format(&b, t2, sizeof t2);
		ck_assert_msg(strcmp(t1, t2) == 0, "\"%s\" formats again as "
		    "\"%s\"", t1, t2);
		check_against_glibc(&a, t1);
	}
}
END_TEST

/*
 * Random strings of address fragments, parsed by us and by inet_pton:
 * with no white space, zone or brackets the two must agree.
 */
static void
random_text(uint64_t *st, char *out, size_t size)
{
	static const char *const tokens[] = {
		"0", "1", "9", "00", "01", "255", "256", "1234", "12345",
		"ffff", "FfFf", "abc", "g", ":", "::", ":", "::", ".", ".",
		"1.2.3.4", "0.0.0.0", "255.255.255.255", "1.2.3", "0:0",
		"1:2:3:4", "::ffff:",
	};
	uint64_t r = xorshift64(st);
	size_t n = 1 + r % 10, len = 0, i;
	const char *t;

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		t = tokens[xorshift64(st) % ARRAY_SIZE(tokens)];
		if (len + strlen(t) + 1 > size)
			break;
		strcpy(out + len, t);
		len += strlen(t);
	}
}

START_TEST(test_parse_vs_inet_pton)
{
	uint64_t st = 0x243f6a8885a308d3ull ^ ((uint64_t)_i << 40);
	unsigned char bin[16];
	char text[64];
	bool ours, theirs;
	int af, k;
	wk_addr a;

	for (k = 0; k < 20000; k++) {
		random_text(&st, text, sizeof text);
		af = strchr(text, ':') ? AF_INET6 : AF_INET;
		ours = wk_addr_parse(&a, text);
		theirs = inet_pton(af, text, bin) == 1;
		ck_assert_msg(ours == theirs, "\"%s\": wk_addr_parse %d, "
		    "inet_pton %d", text, ours, theirs);
		if (ours)
			ck_assert_msg(memcmp(a.bytes, bin,
			    af == AF_INET ? 4 : 16) == 0 &&
			    a.family == (af == AF_INET ? WK_FAMILY_IPV4 :
			    WK_FAMILY_IPV6), "\"%s\": different address", text);
	}
}
END_TEST

/* ------------------------------------------------------------------ */
/* Suite                                                               */
/* ------------------------------------------------------------------ */

static Suite *
addr_suite(void)
{
	Suite *s = suite_create("addr");
	TCase *tc;

	tc = new_tcase(s, "parse");
	tcase_add_loop_test(tc, test_parse_table, 0,
	    (int)ARRAY_SIZE(parse_rows));
	tcase_add_loop_test(tc, test_parse_n_table, 0,
	    (int)ARRAY_SIZE(parse_rows));
	tcase_add_test(tc, test_parse_numeric_zone);
	tcase_add_test(tc, test_parse_named_zone);
	tcase_add_test(tc, test_parse_null_args);
	tcase_add_test(tc, test_parse_long);
	tcase_add_test(tc, test_parse_n_unterminated);
	tcase_add_test(tc, test_parse_n_short);
	tcase_add_test(tc, test_parse_n_embedded_nul);

	tc = new_tcase(s, "format");
	tcase_add_test(tc, test_format_truncation);
	tcase_add_test(tc, test_format_degenerate);
	tcase_add_test(tc, test_format_longest);

	tc = new_tcase(s, "special");
	tcase_add_loop_test(tc, test_special, 0, (int)ARRAY_SIZE(special_rows));
	tcase_add_loop_test(tc, test_special_compare, 0,
	    (int)ARRAY_SIZE(special_cmp_rows));

	tc = new_tcase(s, "classify");
	tcase_add_loop_test(tc, test_classification, 0,
	    (int)ARRAY_SIZE(class_rows));
	tcase_add_test(tc, test_predicates_null_pointer);
	tcase_add_test(tc, test_family_predicates);

	tc = new_tcase(s, "subnet");
	tcase_add_loop_test(tc, test_in_subnet, 0, (int)ARRAY_SIZE(subnet_rows));
	tcase_add_test(tc, test_in_subnet_null);
	tcase_add_loop_test(tc, test_parse_subnet, 0,
	    (int)ARRAY_SIZE(parse_subnet_rows));
	tcase_add_test(tc, test_parse_subnet_null);

	tc = new_tcase(s, "equal");
	tcase_add_loop_test(tc, test_equal, 0, (int)ARRAY_SIZE(equal_rows));
	tcase_add_test(tc, test_equal_null_pointers);
	tcase_add_test(tc, test_hash_equal_texts);
	tcase_add_test(tc, test_hash_ipv4_junk);
	tcase_add_test(tc, test_hash_misc);

	tc = new_tcase(s, "convert");
	tcase_add_test(tc, test_from_sockaddr_in);
	tcase_add_test(tc, test_from_sockaddr_in6);
	tcase_add_test(tc, test_from_sockaddr_bad);
	tcase_add_test(tc, test_to_sockaddr_in);
	tcase_add_test(tc, test_to_sockaddr_in6);
	tcase_add_test(tc, test_to_sockaddr_any);
	tcase_add_test(tc, test_to_sockaddr_bad);
	tcase_add_test(tc, test_sockaddr_round_trip);
	tcase_add_test(tc, test_from_sockaddr_runt);
	tcase_add_test(tc, test_ipv4_conversions);
	tcase_add_loop_test(tc, test_to_ipv4, 0, (int)ARRAY_SIZE(to_ipv4_rows));
	tcase_add_test(tc, test_to_ipv4_null_pointer);
	tcase_add_test(tc, test_ipv6_conversions);
	tcase_add_loop_test(tc, test_map_unmap, 0, (int)ARRAY_SIZE(map_rows));
	tcase_add_test(tc, test_map_unmap_null_pointer);

	tc = new_tcase(s, "round-trip");
	tcase_add_loop_test(tc, test_round_trip, 0, ROUND_TRIP_ITERATIONS);
	tcase_add_loop_test(tc, test_parse_vs_inet_pton, 0, 10);

	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(addr_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
