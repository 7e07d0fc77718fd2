/*
 * bench_addr.c - address parsing and formatting: wirekit against
 * inet_pton(3) and inet_ntop(3), in one run
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <sys/socket.h>

#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>

#include <wirekit.h>

#include "bench.h"

#define ITERATIONS 2000000L

static const char *const v4_texts[] = {
	"127.0.0.1", "10.1.2.3", "192.168.100.200", "8.8.4.4",
};
static const char *const v6_texts[] = {
	"::1", "2001:db8::1", "fe80::1234:5678:9abc:def0",
	"2001:db8:85a3:0:0:8a2e:370:7334",
};
#define NTEXTS 4

static const char *const *texts;
static int family;
static volatile unsigned sink;

static void
parse_wk(long n)
{
	wk_addr a;

	for (long i = 0; i < n; i++) {
		wk_addr_parse(&a, texts[i % NTEXTS]);
		sink += a.bytes[3];
	}
}

static void
parse_posix(long n)
{
	unsigned char buf[16];

	for (long i = 0; i < n; i++) {
		inet_pton(family, texts[i % NTEXTS], buf);
		sink += buf[3];
	}
}

static wk_addr addrs[NTEXTS];
static unsigned char raw[NTEXTS][16];

static void
format_wk(long n)
{
	char buf[WK_ADDR_STRLEN];

	for (long i = 0; i < n; i++) {
		wk_addr_format(&addrs[i % NTEXTS], buf, sizeof(buf));
		sink += (unsigned char)buf[1];
	}
}

static void
format_posix(long n)
{
	char buf[INET6_ADDRSTRLEN];

	for (long i = 0; i < n; i++) {
		inet_ntop(family, raw[i % NTEXTS], buf, sizeof(buf));
		sink += (unsigned char)buf[1];
	}
}

static void
run(const char *name, const char *const *set, int af)
{
	char label[64];

	texts = set;
	family = af;
	for (int i = 0; i < NTEXTS; i++) {
		wk_addr_parse(&addrs[i], set[i]);
		inet_pton(af, set[i], raw[i]);
	}
	snprintf(label, sizeof(label), "parse %s", name);
	bench_row(label, bench_best(parse_wk, ITERATIONS),
	    bench_best(parse_posix, ITERATIONS));
	snprintf(label, sizeof(label), "format %s", name);
	bench_row(label, bench_best(format_wk, ITERATIONS),
	    bench_best(format_posix, ITERATIONS));
}

int
main(void)
{
	bench_header("addresses: wk_addr_parse/format vs inet_pton/inet_ntop");
	run("IPv4", v4_texts, AF_INET);
	run("IPv6", v6_texts, AF_INET6);
	return EXIT_SUCCESS;
}
