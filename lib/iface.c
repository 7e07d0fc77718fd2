/*
 * iface.c - network interfaces and their addresses, from getifaddrs()
 *
 * A list is one allocation: the interfaces, then every address entry;
 * wk_iface_free() releases it in one call.
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <sys/socket.h>

#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <net/if.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wirekit/iface.h>

#include "engine.h"

/* The interface of name in list, or NULL. */
static wk_iface *
find(wk_iface *list, size_t count, const char *name)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(list[i].name, name) == 0)
			return &list[i];
	return NULL;
}

static unsigned
flags_of(unsigned f)
{
	return (f & IFF_UP ? WK_IFACE_UP : 0) |
	    (f & IFF_RUNNING ? WK_IFACE_RUNNING : 0) |
	    (f & IFF_BROADCAST ? WK_IFACE_BROADCAST : 0) |
	    (f & IFF_LOOPBACK ? WK_IFACE_LOOPBACK : 0) |
	    (f & IFF_POINTOPOINT ? WK_IFACE_POINT_TO_POINT : 0) |
	    (f & IFF_MULTICAST ? WK_IFACE_MULTICAST : 0);
}

static void
format_hwaddr(const struct sockaddr_ll *ll, char *out)
{
	size_t n = ll->sll_halen < sizeof(ll->sll_addr) ? ll->sll_halen :
	    sizeof(ll->sll_addr);
	char *p = out;

	*p = '\0';
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, i ? ":%02x" : "%02x", ll->sll_addr[i]);
}

static size_t
sockaddr_len(const struct sockaddr *sa)
{
	return sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
}

static int
prefix_of(const struct sockaddr *mask)
{
	wk_addr m;
	int bits = 0, width;

	if (!mask || !wk_addr_from_sockaddr(&m, NULL, mask, sockaddr_len(mask)))
		return -1;
	width = m.family == WK_FAMILY_IPV4 ? 4 : 16;
	for (int i = 0; i < width; i++)
		bits += __builtin_popcount(m.bytes[i]);
	return bits;
}

/* First pass: how many interfaces and address entries there are. */
static void
count(const struct ifaddrs *all, size_t *ifaces, size_t *addrs)
{
	*ifaces = *addrs = 0;
	for (const struct ifaddrs *a = all; a; a = a->ifa_next) {
		(*ifaces)++;	/* an upper bound: names repeat */
		if (a->ifa_addr && (a->ifa_addr->sa_family == AF_INET ||
		    a->ifa_addr->sa_family == AF_INET6))
			(*addrs)++;
	}
}

static void
add_entry(wk_iface *ifc, const struct ifaddrs *a, wk_iface_addr *slot)
{
	wk_iface_addr *e = slot;

	*e = (wk_iface_addr){ .prefix = prefix_of(a->ifa_netmask) };
	wk_addr_from_sockaddr(&e->addr, NULL, a->ifa_addr,
	    sockaddr_len(a->ifa_addr));
	if ((a->ifa_flags & IFF_BROADCAST) && a->ifa_broadaddr &&
	    a->ifa_addr->sa_family == AF_INET)
		wk_addr_from_sockaddr(&e->broadcast, NULL, a->ifa_broadaddr,
		    sizeof(struct sockaddr_in));
	if (!ifc->addrs)
		ifc->addrs = slot;
	ifc->addr_count++;
}

/*
 * Builds the list into one block: interfaces first, then the address
 * entries of each interface together (getifaddrs() gives them mixed, so
 * the entries are placed interface by interface).
 */
static wk_iface *
build(const struct ifaddrs *all, size_t *out_count)
{
	size_t max_ifaces, max_addrs, n = 0, used = 0;
	int fd;
	wk_iface *list, *ifc;
	wk_iface_addr *entries;

	/* One socket asks every MTU, in the caller's network namespace. */
	if (wk__fd_socket(AF_INET, WK_SOCKET_UDP, &fd) != 0)
		fd = -1;
	count(all, &max_ifaces, &max_addrs);
	list = calloc(1, (max_ifaces + 1) * sizeof(*list) +
	    (max_addrs + 1) * sizeof(*entries));
	if (!list) {
		wk__fd_close(fd);
		return NULL;
	}
	entries = (wk_iface_addr *)(list + max_ifaces + 1);
	for (const struct ifaddrs *a = all; a; a = a->ifa_next) {
		if (!(ifc = find(list, n, a->ifa_name))) {
			ifc = &list[n++];
			snprintf(ifc->name, sizeof(ifc->name), "%s", a->ifa_name);
			ifc->index = if_nametoindex(a->ifa_name);
			ifc->flags = flags_of(a->ifa_flags);
			if (fd < 0 || wk__fd_iface_mtu(fd, ifc->name,
			    &ifc->mtu) != 0)
				ifc->mtu = 0;
		}
		if (a->ifa_addr && a->ifa_addr->sa_family == AF_PACKET)
			format_hwaddr((const struct sockaddr_ll *)a->ifa_addr,
			    ifc->hwaddr);
	}
	for (size_t i = 0; i < n; i++)
		for (const struct ifaddrs *a = all; a; a = a->ifa_next)
			if (a->ifa_addr && (a->ifa_addr->sa_family == AF_INET ||
			    a->ifa_addr->sa_family == AF_INET6) &&
			    strcmp(a->ifa_name, list[i].name) == 0)
				add_entry(&list[i], a, &entries[used++]);
	wk__fd_close(fd);
	*out_count = n;
	return list;
}

wk_iface *
wk_iface_list(size_t *count_out)
{
	struct ifaddrs *all = NULL;
	wk_iface *list;
	size_t n = 0;

	if (count_out)
		*count_out = 0;
	if (getifaddrs(&all) != 0)
		return NULL;
	list = build(all, &n);
	freeifaddrs(all);
	if (list && count_out)
		*count_out = n;
	return list;
}

/* One interface of the list, moved to the front of its block. */
static wk_iface *
pick(bool (*match)(const wk_iface *, const void *), const void *key)
{
	size_t n;
	wk_iface *list = wk_iface_list(&n);

	if (!list)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (!match(&list[i], key))
			continue;
		if (i)
			list[0] = list[i];
		list[1].name[0] = '\0';	/* the end of a one-entry list */
		return list;
	}
	free(list);
	return NULL;
}

static bool
match_name(const wk_iface *ifc, const void *key)
{
	return strcmp(ifc->name, key) == 0;
}

static bool
match_index(const wk_iface *ifc, const void *key)
{
	return ifc->index == *(const unsigned *)key;
}

wk_iface *
wk_iface_by_name(const char *name)
{
	return name ? pick(match_name, name) : NULL;
}

wk_iface *
wk_iface_by_index(unsigned index)
{
	return index ? pick(match_index, &index) : NULL;
}

wk_addr *
wk_iface_all_addresses(size_t *count_out)
{
	size_t n, total = 0, k = 0;
	wk_iface *list = wk_iface_list(&n);
	wk_addr *out;

	if (count_out)
		*count_out = 0;
	if (!list)
		return NULL;
	for (size_t i = 0; i < n; i++)
		total += list[i].addr_count;
	if ((out = malloc((total ? total : 1) * sizeof(*out)))) {
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < list[i].addr_count; j++)
				out[k++] = list[i].addrs[j].addr;
		if (count_out)
			*count_out = total;
	}
	free(list);
	return out;
}

void
wk_iface_free(wk_iface *list)
{
	free(list);
}
