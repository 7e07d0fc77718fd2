/*
 * lookup-private.h - what lookup.c and resolver.c share
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef WIREKIT_LOOKUP_PRIVATE_H
#define WIREKIT_LOOKUP_PRIVATE_H

#include <wirekit/lookup.h>

/*
 * A result is one allocation: this header, the addresses, then the
 * strings, which the pointers below point into.
 */
struct wk_hostinfo {
	int64_t id;
	wk_error error;
	const char *name;		/* as asked, or the reverse name */
	const char *canonical;		/* NULL when there is none */
	const char *error_string;	/* never NULL */
	size_t count;
	wk_addr addrs[];
};

wk_hostinfo *wk__hostinfo_new(int64_t id, const char *name,
    const char *canonical, const wk_addr *addrs, size_t count,
    wk_error error, const char *error_string);
wk_hostinfo *wk__hostinfo_error(int64_t id, const char *name,
    wk_error error, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
wk_hostinfo *wk__hostinfo_copy(const wk_hostinfo *src, int64_t id,
    const char *name);

/*
 * One lookup request for the resolver.  key is the lower-case ACE name
 * or, for a literal, the address's text; asked is the name as the
 * caller wrote it.  A request with ready set is born complete (a name
 * refused before reaching the pool) and only delivered.
 */
struct wk__request {
	const char *asked;
	const char *key;
	wk_family family;
	bool literal;
	wk_addr literal_addr;
	wk_hostinfo *ready;
};

int64_t wk__resolver_start(const struct wk__request *req, wk_lookup_fn done,
    void *arg);
wk_hostinfo *wk__resolver_lookup(const struct wk__request *req, int msecs);
wk_hostinfo *wk__resolver_wait(int64_t id, int msecs);
bool wk__resolver_abort(int64_t id);

/* For tests: the files whose change flushes the cache. */
void wk__resolver_set_watch_files(const char *resolv_conf, const char *hosts);

#endif /* WIREKIT_LOOKUP_PRIVATE_H */
