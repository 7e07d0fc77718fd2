/*
 * wirekit/idn.h - internationalized domain names (IDNA2008, UTS 46)
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef WIREKIT_IDN_H
#define WIREKIT_IDN_H

#include <wirekit/common.h>
#include <wirekit/error.h>

WK_BEGIN_DECLS

/*
 * Convert a host name between its Unicode form (UTF-8) and its ASCII
 * form ("xn--" labels), with UTS 46 non-transitional processing.  The
 * returned string is the caller's, freed with free(3); NULL on error,
 * with *err (when err is not NULL) set to WK_HOST_NOT_FOUND for a name
 * that cannot be converted, WK_INVALID_ARGUMENT for NULL, or
 * WK_SOCKET_RESOURCE when memory runs out.
 */
WK_API char *wk_idn_to_ace(const char *utf8, wk_error *err);
WK_API char *wk_idn_to_unicode(const char *ace, wk_error *err);

WK_END_DECLS

#endif /* WIREKIT_IDN_H */
