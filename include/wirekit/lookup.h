/*
 * wirekit/lookup.h - host name lookups on a pool of worker threads
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef WIREKIT_LOOKUP_H
#define WIREKIT_LOOKUP_H

#include <stddef.h>
#include <stdint.h>

#include <wirekit/addr.h>
#include <wirekit/common.h>
#include <wirekit/error.h>

WK_BEGIN_DECLS

struct addrinfo;

/* The result of a lookup: one allocation, freed with wk_hostinfo_free(). */
typedef struct wk_hostinfo wk_hostinfo;

/* Called once on a pool thread with the result, unless aborted first. */
typedef void (*wk_lookup_fn)(const wk_hostinfo *info, void *arg);

/* Blocking lookups; never NULL unless memory runs out. */
WK_API wk_hostinfo *wk_lookup(const char *name, int msecs);
WK_API wk_hostinfo *wk_lookup_family(const char *name, wk_family family,
    int msecs);

/*
 * Lookups in the background: an id > 0 that never repeats, or -1 when
 * name is NULL, family is not one of WK_FAMILY_ANY (or WK_FAMILY_NONE),
 * WK_FAMILY_IPV4, WK_FAMILY_IPV6, or memory or threads run out.  Every
 * other failure arrives as the result's error.
 */
WK_API int64_t wk_lookup_start(const char *name, wk_lookup_fn done,
    void *arg);
WK_API int64_t wk_lookup_start_family(const char *name, wk_family family,
    wk_lookup_fn done, void *arg);
WK_API wk_hostinfo *wk_lookup_wait(int64_t id, int msecs);
WK_API bool wk_lookup_abort(int64_t id);

/* The result. */
WK_API const char *wk_hostinfo_name(const wk_hostinfo *info);
WK_API const char *wk_hostinfo_canonical_name(const wk_hostinfo *info);
WK_API size_t wk_hostinfo_count(const wk_hostinfo *info);
WK_API wk_addr wk_hostinfo_addr(const wk_hostinfo *info, size_t i);
WK_API const wk_addr *wk_hostinfo_addrs(const wk_hostinfo *info);
WK_API wk_error wk_hostinfo_error(const wk_hostinfo *info);
WK_API const char *wk_hostinfo_error_string(const wk_hostinfo *info);
WK_API int64_t wk_hostinfo_id(const wk_hostinfo *info);
WK_API wk_hostinfo *wk_hostinfo_dup(const wk_hostinfo *info);
WK_API void wk_hostinfo_free(wk_hostinfo *info);

/* This host's names; the caller frees them.  NULL when memory runs out. */
WK_API char *wk_local_host_name(void);
WK_API char *wk_local_domain_name(void);

/* The resolver pool. */
typedef struct wk_resolver_stats {
	uint64_t started;	/* lookups started */
	uint64_t cache_hits;	/* answered from the cache */
	uint64_t coalesced;	/* joined a lookup of the same name */
	uint64_t backend_calls;	/* getaddrinfo() (or backend) calls made */
	unsigned queued;	/* names waiting for a thread now */
	unsigned running;	/* names being resolved now */
	unsigned abandoned;	/* threads stuck in a lookup nobody waits for */
	unsigned threads;	/* pool threads alive now */
} wk_resolver_stats;

/* getaddrinfo()'s contract, with the arg given to wk_resolver_set_backend(). */
typedef int (*wk_resolver_getaddrinfo_fn)(const char *node,
    const char *service, const struct addrinfo *hints,
    struct addrinfo **res, void *arg);
typedef void (*wk_resolver_freeaddrinfo_fn)(struct addrinfo *res, void *arg);

WK_API bool wk_resolver_set_max_threads(int count);
WK_API bool wk_resolver_set_max_abandoned(int count);
WK_API bool wk_resolver_set_idle_time(int msecs);
WK_API bool wk_resolver_set_cache(int entries, int ttl_msecs,
    int negative_ttl_msecs);
WK_API void wk_resolver_clear_cache(void);
WK_API void wk_resolver_set_backend(wk_resolver_getaddrinfo_fn fn,
    wk_resolver_freeaddrinfo_fn free_fn, void *arg);
WK_API void wk_resolver_get_stats(wk_resolver_stats *stats);
WK_API void wk_resolver_shutdown(void);

WK_END_DECLS

#endif /* WIREKIT_LOOKUP_H */
