/*
 * wirekit/common.h - definitions shared by every wirekit header
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef WIREKIT_COMMON_H
#define WIREKIT_COMMON_H

/*
 * WK_API marks every public declaration.  The library is built with
 * -fvisibility=hidden, so only what carries this marker (and is listed in
 * the version script) is exported.
 */
#if defined(WK_BUILDING_LIBRARY) && defined(__GNUC__)
#define WK_API __attribute__((visibility("default")))
#else
#define WK_API
#endif

#ifdef __cplusplus
#define WK_BEGIN_DECLS extern "C" {
#define WK_END_DECLS }
#else
#define WK_BEGIN_DECLS
#define WK_END_DECLS
#endif

#endif /* WIREKIT_COMMON_H */
