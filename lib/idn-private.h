/*
 * idn-private.h - host name checks and conversion for the lookup module
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef WIREKIT_IDN_PRIVATE_H
#define WIREKIT_IDN_PRIVATE_H

#include <stddef.h>

#include <wirekit/error.h>

/*
 * Checks a host name for lookup and converts it to the lower-case ASCII
 * form used as the DNS query and as the cache key.
 *
 * A name of ASCII bytes only never reaches libidn2: its labels and length
 * are checked and A-Z is folded to a-z, nothing else, so "xn--" labels,
 * underscores and hyphens anywhere pass through for getaddrinfo() to
 * judge.  A name with a byte >= 0x80 must be well-formed UTF-8 and goes
 * through UTS 46 non-transitional processing (idn2_to_ascii_8z() with
 * NFC input), and the result gets the same checks.
 *
 * The checks: the name is not empty; no label is empty, except that one
 * trailing dot (a fully qualified name) is allowed and kept; no label is
 * over 63 bytes; the name without its trailing dot is at most 253 bytes.
 *
 * On success returns WK_NO_ERROR, stores a string allocated with
 * malloc(3) in *ace and makes why the empty string.  On failure sets
 * *ace to NULL (when ace is not NULL), returns WK_HOST_NOT_FOUND,
 * WK_SOCKET_RESOURCE when memory runs out, or WK_INVALID_ARGUMENT when
 * name or ace is NULL, and writes a short reason to why, cut to fit and
 * always NUL-terminated.  Nothing is written to why when why_size is 0,
 * and why may then be NULL.  Byte offsets in reasons count from 0.
 */
wk_error wk__host_to_ace(const char *name, char **ace, char *why,
    size_t why_size);

#endif /* WIREKIT_IDN_PRIVATE_H */
