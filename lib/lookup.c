/*
 * lookup.c - host lookups: requests checked and converted before they
 * reach the pool, the wk_hostinfo result, and this host's names
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <wirekit/idn.h>

#include "idn-private.h"
#include "lookup-private.h"

/* Room for a refusal's reason: the name is quoted only in part. */
#define WHY_MAX 160

/* ---------------------------------------------------------------- results */

wk_hostinfo *
wk__hostinfo_new(int64_t id, const char *name, const char *canonical,
    const wk_addr *addrs, size_t count, wk_error error,
    const char *error_string)
{
	size_t name_len, canon_len, err_len, size;
	wk_hostinfo *info;
	char *p;

	if (!error_string)
		error_string = wk_error_message(error);
	name_len = strlen(name) + 1;
	canon_len = canonical ? strlen(canonical) + 1 : 0;
	err_len = strlen(error_string) + 1;
	size = sizeof(*info) + count * sizeof(wk_addr) + name_len +
	    canon_len + err_len;
	if (!(info = malloc(size)))
		return NULL;
	info->id = id;
	info->error = error;
	info->count = count;
	if (count)
		memcpy(info->addrs, addrs, count * sizeof(wk_addr));
	p = (char *)(info->addrs + count);
	info->name = memcpy(p, name, name_len);
	p += name_len;
	info->canonical = canonical ? memcpy(p, canonical, canon_len) : NULL;
	p += canon_len;
	info->error_string = memcpy(p, error_string, err_len);
	return info;
}

wk_hostinfo *
wk__hostinfo_error(int64_t id, const char *name, wk_error error,
    const char *fmt, ...)
{
	wk_hostinfo *info;
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	info = wk__hostinfo_new(id, name, NULL, NULL, 0, error, msg);
	free(msg);
	return info;
}

wk_hostinfo *
wk__hostinfo_copy(const wk_hostinfo *src, int64_t id, const char *name)
{
	return wk__hostinfo_new(id, name, src->canonical, src->addrs,
	    src->count, src->error, src->error_string);
}

const char *
wk_hostinfo_name(const wk_hostinfo *info)
{
	return info ? info->name : "";
}

const char *
wk_hostinfo_canonical_name(const wk_hostinfo *info)
{
	return info ? info->canonical : NULL;
}

size_t
wk_hostinfo_count(const wk_hostinfo *info)
{
	return info ? info->count : 0;
}

wk_addr
wk_hostinfo_addr(const wk_hostinfo *info, size_t i)
{
	static const wk_addr null_addr;

	return info && i < info->count ? info->addrs[i] : null_addr;
}

const wk_addr *
wk_hostinfo_addrs(const wk_hostinfo *info)
{
	return info && info->count ? info->addrs : NULL;
}

wk_error
wk_hostinfo_error(const wk_hostinfo *info)
{
	return info ? info->error : WK_INVALID_ARGUMENT;
}

const char *
wk_hostinfo_error_string(const wk_hostinfo *info)
{
	return info ? info->error_string : "no lookup result (NULL)";
}

int64_t
wk_hostinfo_id(const wk_hostinfo *info)
{
	return info ? info->id : -1;
}

wk_hostinfo *
wk_hostinfo_dup(const wk_hostinfo *info)
{
	return info ? wk__hostinfo_copy(info, info->id, info->name) : NULL;
}

void
wk_hostinfo_free(wk_hostinfo *info)
{
	free(info);
}

/* ---------------------------------------------------------------- requests */

/* WK_FAMILY_NONE and WK_FAMILY_ANY both mean either family. */
static bool
family_ok(wk_family *family)
{
	switch (*family) {
	case WK_FAMILY_NONE:
	case WK_FAMILY_ANY:
		*family = WK_FAMILY_ANY;
		return true;
	case WK_FAMILY_IPV4:
	case WK_FAMILY_IPV6:
		return true;
	default:
		return false;
	}
}

/*
 * A literal needs no query for its address; one of the other family than
 * asked for cannot be an answer.  False when memory runs out.
 */
static bool
literal_request(struct wk__request *req, const char *name, char *key)
{
	wk_family f = req->literal_addr.family;

	wk_addr_format(&req->literal_addr, key, WK_ADDR_STRLEN);
	req->key = key;
	req->literal = true;
	if (req->family == WK_FAMILY_ANY || req->family == f)
		return true;
	req->ready = wk__hostinfo_error(0, name, WK_HOST_NOT_FOUND,
	    "lookup of %s: an IPv%d address, and only IPv%d was asked for",
	    name, f == WK_FAMILY_IPV4 ? 4 : 6,
	    req->family == WK_FAMILY_IPV4 ? 4 : 6);
	return req->ready != NULL;
}

/*
 * Fills req for name.  A name refused here never reaches the pool: its
 * result is made now (req->ready).  *ace is the caller's to free.
 */
static bool
make_request(struct wk__request *req, const char *name, wk_family family,
    char **ace, char *key)
{
	char why[WHY_MAX];
	wk_error code;

	memset(req, 0, sizeof(*req));
	*ace = NULL;
	req->asked = name;
	req->family = family;
	if (wk_addr_parse(&req->literal_addr, name))
		return literal_request(req, name, key);
	code = wk__host_to_ace(name, ace, why, sizeof(why));
	if (code == WK_NO_ERROR) {
		req->key = *ace;
		return true;
	}
	req->key = "";
	req->ready = wk__hostinfo_error(0, name, code, "lookup of %.64s%s: %s",
	    name, strlen(name) > 64 ? "..." : "", why);
	return req->ready != NULL;
}

static void
request_done(struct wk__request *req, char *ace)
{
	wk_hostinfo_free(req->ready);
	free(ace);
}

wk_hostinfo *
wk_lookup_family(const char *name, wk_family family, int msecs)
{
	struct wk__request req;
	char key[WK_ADDR_STRLEN], *ace;
	wk_hostinfo *r;

	if (!name)
		return wk__hostinfo_error(0, "", WK_INVALID_ARGUMENT,
		    "lookup: the name is NULL");
	if (!family_ok(&family))
		return wk__hostinfo_error(0, name, WK_INVALID_ARGUMENT,
		    "lookup of %s: family %d is not WK_FAMILY_ANY, "
		    "WK_FAMILY_IPV4 or WK_FAMILY_IPV6", name, (int)family);
	if (!make_request(&req, name, family, &ace, key))
		return NULL;
	r = wk__resolver_lookup(&req, msecs);
	request_done(&req, ace);
	return r;
}

wk_hostinfo *
wk_lookup(const char *name, int msecs)
{
	return wk_lookup_family(name, WK_FAMILY_ANY, msecs);
}

int64_t
wk_lookup_start_family(const char *name, wk_family family, wk_lookup_fn done,
    void *arg)
{
	struct wk__request req;
	char key[WK_ADDR_STRLEN], *ace;
	int64_t id;

	if (!name || !family_ok(&family))
		return -1;
	if (!make_request(&req, name, family, &ace, key))
		return -1;
	id = wk__resolver_start(&req, done, arg);
	request_done(&req, ace);
	return id;
}

int64_t
wk_lookup_start(const char *name, wk_lookup_fn done, void *arg)
{
	return wk_lookup_start_family(name, WK_FAMILY_ANY, done, arg);
}

wk_hostinfo *
wk_lookup_wait(int64_t id, int msecs)
{
	return wk__resolver_wait(id, msecs);
}

bool
wk_lookup_abort(int64_t id)
{
	return wk__resolver_abort(id);
}

/* ---------------------------------------------------------------- this host */

char *
wk_local_host_name(void)
{
	char name[HOST_NAME_MAX + 1];

	if (gethostname(name, sizeof(name)) != 0)
		name[0] = '\0';
	name[HOST_NAME_MAX] = '\0';
	return strdup(name);
}

/*
 * The domain from resolv.conf: its last "domain" or "search" line (the
 * first domain of a search list), else what follows the first dot of
 * the host name, as res_init() does and Qt reports.
 */
static char *
resolv_conf_domain(const char *path)
{
	char line[512], *found = NULL, *save;
	FILE *f = fopen(path, "re");

	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		char *word = strtok_r(line, " \t\r\n", &save), *value;

		if (!word || (strcmp(word, "domain") && strcmp(word, "search")))
			continue;
		if ((value = strtok_r(NULL, " \t\r\n", &save))) {
			free(found);
			found = strdup(value);
		}
	}
	fclose(f);
	return found;
}

char *
wk_local_domain_name(void)
{
	char *domain = resolv_conf_domain("/etc/resolv.conf"), *host, *dot;
	char *unicode;

	if (!domain && (host = wk_local_host_name())) {
		dot = strchr(host, '.');
		domain = strdup(dot ? dot + 1 : "");
		free(host);
	}
	if (!domain)
		return NULL;
	if (domain[0] && (unicode = wk_idn_to_unicode(domain, NULL))) {
		free(domain);
		domain = unicode;
	}
	return domain;
}
