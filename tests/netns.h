/*
 * netns.h - run a test in a network namespace of its own, with a private
 * resolver configuration
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef WIREKIT_TEST_NETNS_H
#define WIREKIT_TEST_NETNS_H

/* The exit statuses automake gives a meaning. */
#define WK_TEST_SKIP 77
#define WK_TEST_HARD_ERROR 99

/*
 * Move the calling process into new network, mount and UTS namespaces:
 * loopback up with 192.0.2.1/32 and 2001:db8::1/128 added (AI_ADDRCONFIG
 * ignores 127.0.0.1 and ::1), the host name "wirekit-test" (no dot, so
 * the resolver derives no search domain), and private copies of
 * /etc/resolv.conf (resolv_conf_text), /etc/hosts (localhost only) and
 * /etc/nsswitch.conf ("hosts: files dns").  Nothing reaches the host's
 * network or its files.
 *
 * Call it first in main(): unshare(CLONE_NEWNS) fails once a thread
 * exists, and glibc reads resolv.conf at its first lookup.  Children
 * forked later (Check's fork mode) inherit the namespaces.
 *
 * Returns 0, WK_TEST_SKIP when not root or namespaces are not allowed
 * here, or WK_TEST_HARD_ERROR; a message on stderr says why.
 */
int wk_test_enter_netns(const char *resolv_conf_text);

#endif /* WIREKIT_TEST_NETNS_H */
