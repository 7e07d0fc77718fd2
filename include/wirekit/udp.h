/*
 * wirekit/udp.h - UDP datagrams, broadcast and multicast
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef WIREKIT_UDP_H
#define WIREKIT_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <wirekit/addr.h>
#include <wirekit/common.h>
#include <wirekit/iface.h>
#include <wirekit/socket.h>

WK_BEGIN_DECLS

WK_API wk_socket *wk_udp_socket(void);
WK_API ssize_t wk_udp_write_datagram(wk_socket *s, const void *buf,
    size_t size, const wk_addr *to, uint16_t port);
WK_API bool wk_udp_has_pending_datagrams(wk_socket *s);
WK_API ssize_t wk_udp_pending_datagram_size(wk_socket *s);
WK_API ssize_t wk_udp_read_datagram(wk_socket *s, void *buf, size_t size,
    wk_addr *from, uint16_t *port);
WK_API bool wk_udp_join_group(wk_socket *s, const wk_addr *group,
    const wk_iface *iface);
WK_API bool wk_udp_leave_group(wk_socket *s, const wk_addr *group,
    const wk_iface *iface);
WK_API bool wk_udp_join_source_group(wk_socket *s, const wk_addr *group,
    const wk_addr *source, const wk_iface *iface);
WK_API bool wk_udp_leave_source_group(wk_socket *s, const wk_addr *group,
    const wk_addr *source, const wk_iface *iface);
WK_API bool wk_udp_set_multicast_interface(wk_socket *s,
    const wk_iface *iface);

WK_END_DECLS

#endif /* WIREKIT_UDP_H */
