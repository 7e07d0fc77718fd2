/*
 * wirekit/iface.h - network interfaces and their addresses
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef WIREKIT_IFACE_H
#define WIREKIT_IFACE_H

#include <stddef.h>

#include <wirekit/addr.h>
#include <wirekit/common.h>

WK_BEGIN_DECLS

/* Flags of wk_iface.flags, as Qt's QNetworkInterface::InterfaceFlag. */
#define WK_IFACE_UP 0x01u
#define WK_IFACE_RUNNING 0x02u
#define WK_IFACE_BROADCAST 0x04u
#define WK_IFACE_LOOPBACK 0x08u
#define WK_IFACE_POINT_TO_POINT 0x10u
#define WK_IFACE_MULTICAST 0x20u

/* Longest hardware address text: 32 bytes as "xx:" each. */
#define WK_IFACE_HWADDR_STRLEN 96
#define WK_IFACE_NAME_MAX 16

/* One address of an interface: the address, its prefix, its broadcast. */
typedef struct wk_iface_addr {
	wk_addr addr;
	int prefix;		/* netmask length; -1 when unknown */
	wk_addr broadcast;	/* null when the interface has none */
} wk_iface_addr;

typedef struct wk_iface {
	char name[WK_IFACE_NAME_MAX];
	unsigned index;
	unsigned flags;
	int mtu;		/* 0 when unknown */
	char hwaddr[WK_IFACE_HWADDR_STRLEN];	/* "" when none */
	size_t addr_count;
	wk_iface_addr *addrs;
} wk_iface;

WK_API wk_iface *wk_iface_list(size_t *count);
WK_API wk_iface *wk_iface_by_name(const char *name);
WK_API wk_iface *wk_iface_by_index(unsigned index);
WK_API wk_addr *wk_iface_all_addresses(size_t *count);
WK_API void wk_iface_free(wk_iface *list);

WK_END_DECLS

#endif /* WIREKIT_IFACE_H */
