/*
 * check_iface.c - network interfaces: the list, lookups by name and by
 * index, the addresses, and a veth pair of known values inside the
 * program's own network namespace (root only; skipped otherwise)
 *
 * Nothing here sends a packet.
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <net/if.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wirekit/addr.h>
#include <wirekit/iface.h>

#include "netns.h"

/* The veth made inside the namespace, and what it is given. */
#define VETH "wki0"
#define VETH_PEER "wki1"
#define VETH_MAC "02:00:5e:10:99:01"
#define VETH_MTU 1400
#define VETH_V4 "10.99.7.1"
#define VETH_V4_PREFIX 24
#define VETH_V4_BRD "10.99.7.255"
#define VETH_V6 "fd99:7::1"
#define VETH_V6_PREFIX 64

/* Set in main(): the program runs in a namespace of its own. */
static bool in_netns;
/* Set in main(): the veth was made. */
static bool veth_ready;

/* ---------------------------------------------------------------- helpers */

static wk_addr
addr_of(const char *text)
{
	wk_addr a;

	ck_assert_msg(wk_addr_parse(&a, text), "parse %s", text);
	return a;
}

/* The entry of ifc with address text, or NULL. */
static const wk_iface_addr *
find_addr(const wk_iface *ifc, const char *text)
{
	wk_addr want = addr_of(text);

	for (size_t i = 0; i < ifc->addr_count; i++)
		if (wk_addr_equal(&ifc->addrs[i].addr, &want,
		    WK_ADDR_CMP_STRICT))
			return &ifc->addrs[i];
	return NULL;
}

static const wk_iface *
find_iface(const wk_iface *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].name, name) == 0)
			return &list[i];
	return NULL;
}

static void
assert_entry(const wk_iface *ifc, const char *text, int prefix)
{
	const wk_iface_addr *e = find_addr(ifc, text);

	ck_assert_msg(e != NULL, "%s has no %s", ifc->name, text);
	ck_assert_msg(e->prefix == prefix, "%s %s: prefix %d, want %d",
	    ifc->name, text, e->prefix, prefix);
}

/* Two descriptions of one interface agree. */
static void
assert_same(const wk_iface *a, const wk_iface *b)
{
	ck_assert_str_eq(a->name, b->name);
	ck_assert_uint_eq(a->index, b->index);
	ck_assert_uint_eq(a->flags, b->flags);
	ck_assert_int_eq(a->mtu, b->mtu);
	ck_assert_str_eq(a->hwaddr, b->hwaddr);
	ck_assert_uint_eq(a->addr_count, b->addr_count);
	for (size_t i = 0; i < a->addr_count; i++) {
		ck_assert(wk_addr_equal(&a->addrs[i].addr, &b->addrs[i].addr,
		    WK_ADDR_CMP_STRICT));
		ck_assert_int_eq(a->addrs[i].prefix, b->addrs[i].prefix);
	}
}

/* ---------------------------------------------------------------- tests */

START_TEST(test_loopback)
{
	size_t n = 0;
	wk_iface *list = wk_iface_list(&n);
	const wk_iface *lo;

	ck_assert_ptr_nonnull(list);
	ck_assert_uint_gt(n, 0);
	lo = find_iface(list, n, "lo");
	ck_assert_msg(lo != NULL, "no lo among %zu interfaces", n);
	ck_assert_uint_eq(lo->index, if_nametoindex("lo"));
	ck_assert_msg((lo->flags & (WK_IFACE_UP | WK_IFACE_LOOPBACK)) ==
	    (WK_IFACE_UP | WK_IFACE_LOOPBACK), "lo flags %#x", lo->flags);
	ck_assert(!(lo->flags & WK_IFACE_BROADCAST));
	ck_assert_int_gt(lo->mtu, 0);
	assert_entry(lo, "127.0.0.1", 8);
	/* ::1 only where IPv6 is on; a namespace has it. */
	if (in_netns || find_addr(lo, "::1"))
		assert_entry(lo, "::1", 128);
	/* lo has no broadcast address. */
	for (size_t i = 0; i < lo->addr_count; i++)
		ck_assert(wk_addr_is_null(&lo->addrs[i].broadcast));
	wk_iface_free(list);
}
END_TEST

START_TEST(test_indexes)
{
	size_t n = 0;
	wk_iface *list = wk_iface_list(&n);

	ck_assert_ptr_nonnull(list);
	for (size_t i = 0; i < n; i++) {
		ck_assert_msg(list[i].name[0] != '\0', "entry %zu has no name",
		    i);
		ck_assert_msg(list[i].index == if_nametoindex(list[i].name),
		    "%s: index %u, if_nametoindex %u", list[i].name,
		    list[i].index, if_nametoindex(list[i].name));
		/* Each name once. */
		for (size_t j = i + 1; j < n; j++)
			ck_assert_str_ne(list[i].name, list[j].name);
		for (size_t j = 0; j < list[i].addr_count; j++) {
			const wk_iface_addr *e = &list[i].addrs[j];

			ck_assert(wk_addr_is_ipv4(&e->addr) ||
			    wk_addr_is_ipv6(&e->addr));
			ck_assert_int_ge(e->prefix, 0);
			ck_assert_int_le(e->prefix,
			    wk_addr_is_ipv4(&e->addr) ? 32 : 128);
		}
	}
	wk_iface_free(list);
}
END_TEST

START_TEST(test_by_name_and_index)
{
	size_t n = 0;
	wk_iface *list = wk_iface_list(&n);

	ck_assert_ptr_nonnull(list);
	for (size_t i = 0; i < n; i++) {
		wk_iface *by_name = wk_iface_by_name(list[i].name);
		wk_iface *by_index = wk_iface_by_index(list[i].index);

		ck_assert_msg(by_name != NULL, "by_name %s", list[i].name);
		ck_assert_msg(by_index != NULL, "by_index %u", list[i].index);
		assert_same(by_name, &list[i]);
		assert_same(by_index, &list[i]);
		wk_iface_free(by_name);
		wk_iface_free(by_index);
	}
	wk_iface_free(list);
	ck_assert_ptr_null(wk_iface_by_name("no-such-iface0"));
	ck_assert_ptr_null(wk_iface_by_name(""));
	ck_assert_ptr_null(wk_iface_by_name(NULL));
	ck_assert_ptr_null(wk_iface_by_index(0));
	ck_assert_ptr_null(wk_iface_by_index(0x7fffffffu));
	wk_iface_free(NULL);
}
END_TEST

START_TEST(test_all_addresses)
{
	size_t n = 0, count = 0, sum = 0;
	wk_iface *list = wk_iface_list(&n);
	wk_addr *all = wk_iface_all_addresses(&count);
	wk_addr lo4 = addr_of("127.0.0.1");
	bool found = false;

	ck_assert_ptr_nonnull(list);
	ck_assert_ptr_nonnull(all);
	for (size_t i = 0; i < n; i++)
		sum += list[i].addr_count;
	ck_assert_uint_eq(count, sum);
	for (size_t i = 0; i < count; i++)
		found = found || wk_addr_equal(&all[i], &lo4,
		    WK_ADDR_CMP_STRICT);
	ck_assert(found);
	free(all);
	wk_iface_free(list);
	/* NULL count pointers are accepted. */
	all = wk_iface_all_addresses(NULL);
	ck_assert_ptr_nonnull(all);
	free(all);
	list = wk_iface_list(NULL);
	ck_assert_ptr_nonnull(list);
	wk_iface_free(list);
}
END_TEST

/* addr | ~mask for an IPv4 address and prefix. */
static wk_addr
broadcast_of(const wk_addr *a, int prefix)
{
	uint32_t ip = wk_addr_to_ipv4(a, NULL);
	uint32_t mask = prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);

	return wk_addr_from_ipv4(ip | ~mask);
}

START_TEST(test_broadcast_addresses)
{
	size_t n = 0, checked = 0;
	wk_iface *list = wk_iface_list(&n);

	ck_assert_ptr_nonnull(list);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < list[i].addr_count; j++) {
			const wk_iface_addr *e = &list[i].addrs[j];
			wk_addr want;
			char got[WK_ADDR_STRLEN], text[WK_ADDR_STRLEN];

			if (!wk_addr_is_ipv4(&e->addr)) {
				ck_assert(wk_addr_is_null(&e->broadcast));
				continue;
			}
			if (!(list[i].flags & WK_IFACE_BROADCAST) ||
			    e->prefix >= 31)
				continue;
			want = broadcast_of(&e->addr, e->prefix);
			wk_addr_format(&e->broadcast, got, sizeof(got));
			wk_addr_format(&want, text, sizeof(text));
			ck_assert_msg(wk_addr_equal(&e->broadcast, &want,
			    WK_ADDR_CMP_STRICT), "%s: broadcast %s, want %s",
			    list[i].name, got, text);
			checked++;
		}
	}
	if (checked == 0)
		fprintf(stderr, "note: no IPv4 address with a broadcast "
		    "address here\n");
	if (veth_ready)
		ck_assert_uint_gt(checked, 0);
	wk_iface_free(list);
}
END_TEST

START_TEST(test_veth)
{
	wk_iface *v, *peer;
	const wk_iface_addr *e;
	int mtu;

	if (!in_netns || !veth_ready) {
		fprintf(stderr, "skip: the veth test needs the test's network "
		    "namespace (run as root)\n");
		return;
	}
	v = wk_iface_by_name(VETH);
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v->name, VETH);
	ck_assert_uint_eq(v->index, if_nametoindex(VETH));
	ck_assert_str_eq(v->hwaddr, VETH_MAC);
	ck_assert_msg((v->flags & (WK_IFACE_UP | WK_IFACE_BROADCAST |
	    WK_IFACE_MULTICAST)) == (WK_IFACE_UP | WK_IFACE_BROADCAST |
	    WK_IFACE_MULTICAST), "flags %#x", v->flags);
	ck_assert(!(v->flags & (WK_IFACE_LOOPBACK | WK_IFACE_POINT_TO_POINT)));
	ck_assert_uint_eq(v->addr_count, 2);
	assert_entry(v, VETH_V4, VETH_V4_PREFIX);
	e = find_addr(v, VETH_V4);
	ck_assert(wk_addr_equal(&e->broadcast, &(wk_addr[1]){
	    addr_of(VETH_V4_BRD) }[0], WK_ADDR_CMP_STRICT));
	assert_entry(v, VETH_V6, VETH_V6_PREFIX);
	ck_assert(wk_addr_is_null(&find_addr(v, VETH_V6)->broadcast));
	/* The peer: down, no address, a MAC of its own. */
	peer = wk_iface_by_name(VETH_PEER);
	ck_assert_ptr_nonnull(peer);
	ck_assert(!(peer->flags & WK_IFACE_UP));
	ck_assert(!(peer->flags & WK_IFACE_RUNNING));
	ck_assert_uint_eq(peer->addr_count, 0);
	ck_assert_uint_eq(strlen(peer->hwaddr), 17);
	ck_assert_str_ne(peer->hwaddr, VETH_MAC);
	/* Its peer is down: no carrier. */
	ck_assert(!(v->flags & WK_IFACE_RUNNING));
	/*
	 * Last, so that the rest is checked first: the MTU is this
	 * namespace's.  (lib/iface.c reads /sys/class/net, which shows the
	 * namespace of whoever mounted /sys, not the caller's.)
	 */
	mtu = v->mtu;
	wk_iface_free(v);
	wk_iface_free(peer);
	ck_assert_int_eq(mtu, VETH_MTU);
}
END_TEST

/* ---------------------------------------------------------------- main */

/* A veth pair of known values; only the first end is up. */
static bool
set_up_veth(void)
{
	return system("ip link add " VETH " address " VETH_MAC " mtu 1400 "
	    "type veth peer name " VETH_PEER " && "
	    "ip link set " VETH " addrgenmode none && "
	    "ip addr add " VETH_V4 "/24 brd " VETH_V4_BRD " dev " VETH " && "
	    "ip -6 addr add " VETH_V6 "/64 dev " VETH " nodad && "
	    "ip link set " VETH " up") == 0;
}

int
main(void)
{
	Suite *s = suite_create("iface");
	TCase *tc = tcase_create("iface");
	SRunner *sr;
	int failed;

	failed = wk_test_enter_netns("nameserver 127.0.0.1\n");
	if (failed == WK_TEST_HARD_ERROR)
		return failed;
	in_netns = failed == 0;
	if (in_netns)
		veth_ready = set_up_veth();
	if (in_netns && !veth_ready)
		fprintf(stderr, "note: the veth pair could not be made\n");

	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	tcase_add_test(tc, test_loopback);
	tcase_add_test(tc, test_indexes);
	tcase_add_test(tc, test_by_name_and_index);
	tcase_add_test(tc, test_all_addresses);
	tcase_add_test(tc, test_broadcast_addresses);
	tcase_add_test(tc, test_veth);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
