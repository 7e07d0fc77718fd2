/*
 * fuzz_resolver.c - libFuzzer harness for the resolver's result builder,
 * fed arbitrary addrinfo lists through wk_resolver_set_backend()
 *
 * The input describes what the backend answers: an EAI_* error (with
 * errno), or a list of entries with arbitrary ai_family and sa_family
 * values (AF_INET, AF_INET6, AF_UNIX, 0, 12345, ...), ai_addr NULL,
 * ai_addrlen shorter or longer than the socket address, duplicates,
 * IPv4-mapped addresses, scopes, ai_canonname NULL, empty or odd, and,
 * when asked, the entries repeated to a list of up to 256.  Each input
 * makes one blocking lookup of "fuzz.test" (or an upper-case, fully
 * qualified or internationalized variant) of a family of its choosing;
 * the cache is off, so every input reaches the backend, and no lookup
 * ever reaches the real DNS.  Every socket address is allocated to
 * exactly its ai_addrlen bytes (one byte for a length of 0), so that
 * ASan reports any read past it.
 *
 * Invariants checked on every input (wk_lookup(3),
 * wk_resolver_set_max_threads(3)):
 *  - the backend is called with the name in its looked-up form (lower
 *    case, ACE, trailing dot kept), a NULL service, the hints documented
 *    for the family, and once more with AI_CANONNAME alone after
 *    EAI_BADFLAGS;
 *  - the list it returned is passed to its free function exactly once,
 *    and nothing is passed when it returned an error or no list;
 *  - the result's addresses are those of the entries that
 *    wk_addr_from_sockaddr() can read (sa_family AF_INET or AF_INET6 and
 *    a long enough ai_addrlen; ai_family is not looked at), in the
 *    backend's order, each once, all IPv4 or IPv6, never more than the
 *    entries; its canonical name is the first non-empty ai_canonname;
 *  - the error is WK_NO_ERROR exactly when there is an address:
 *    WK_HOST_NOT_FOUND for a list without a usable one, the mapping of
 *    wk_error_name(3) for an EAI_* code;
 *  - the name is the one asked, and the accessors agree with the result.
 * Once, at start, a list of 10,000 distinct addresses and one of 10,000
 * copies of one address are checked the same way.
 * A broken invariant is a __builtin_trap(), which libFuzzer reports.
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define _GNU_SOURCE	/* EAI_NODATA, EAI_ADDRFAMILY */

#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>

#include <errno.h>
#include <netdb.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <wirekit/addr.h>
#include <wirekit/lookup.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The most entries one input describes, the most an input's list repeats
 * them to, and the length of the lists checked at start.
 */
#define MAX_SPECS 24
#define MAX_REPEAT 256
#define MAX_WORK 512	/* entries times specs, for a repeated list */
#define MAX_ENTRIES 10000

static void
require(bool cond)
{
	if (!cond)
		__builtin_trap();
}

/* ------------------------------------------------------------ the answer */

/* One described entry; a long list repeats them, sharing their memory. */
struct spec {
	int ai_family;
	struct sockaddr *addr;	/* NULL, or ai_addrlen bytes exactly */
	socklen_t addrlen;
	char *canon;		/* NULL, or a string of its own */
	bool usable;		/* what wk_addr_from_sockaddr() reads */
	wk_addr a;
};

static struct answer {
	/* what the backend answers */
	int rc;			/* 0, or the EAI_* code */
	int err;		/* errno with EAI_SYSTEM */
	bool badflags_first;	/* EAI_BADFLAGS, then the answer */
	bool null_list;		/* 0 and no list */
	struct spec specs[MAX_SPECS];
	size_t nspecs, nentries;
	/* what the lookup must ask */
	const char *node;
	int family;		/* AF_UNSPEC, AF_INET, AF_INET6 */
	/* what happened */
	struct addrinfo *list;	/* as returned, NULL once freed */
	int calls, frees;
} ans;

static void
free_answer(struct answer *a)
{
	for (size_t i = 0; i < a->nspecs; i++) {
		free(a->specs[i].addr);
		free(a->specs[i].canon);
	}
	a->nspecs = 0;
}

static int
backend(const char *node, const char *service, const struct addrinfo *hints,
    struct addrinfo **res, void *arg)
{
	struct answer *a = arg;
	struct addrinfo *list;
	int flags = AI_ADDRCONFIG | AI_CANONNAME;

	require(a == &ans);
	require(node && strcmp(node, a->node) == 0);
	require(service == NULL);
	require(hints && res);
	if (a->calls == 1)
		flags = AI_CANONNAME;	/* the retry after EAI_BADFLAGS */
	require(a->calls < 2);
	require(hints->ai_family == a->family);
	require(hints->ai_socktype == SOCK_STREAM);
	require(hints->ai_protocol == 0);
	require(hints->ai_flags == flags);
	a->calls++;
	if (a->badflags_first && a->calls == 1)
		return EAI_BADFLAGS;
	if (a->rc) {
		errno = a->err;
		return a->rc;
	}
	if (a->null_list || a->nentries == 0) {
		*res = NULL;
		return 0;
	}
	require((list = calloc(a->nentries, sizeof(*list))) != NULL);
	for (size_t i = 0; i < a->nentries; i++) {
		const struct spec *s = &a->specs[i % a->nspecs];

		list[i].ai_family = s->ai_family;
		list[i].ai_socktype = SOCK_STREAM;
		list[i].ai_protocol = IPPROTO_TCP;
		list[i].ai_addr = s->addr;
		list[i].ai_addrlen = s->addrlen;
		list[i].ai_canonname = s->canon;
		list[i].ai_next = i + 1 < a->nentries ? &list[i + 1] : NULL;
	}
	a->list = list;
	*res = list;
	return 0;
}

/* The list goes back whole, once; the specs' memory is the answer's. */
static void
backend_free(struct addrinfo *res, void *arg)
{
	struct answer *a = arg;

	require(a == &ans);
	require(res != NULL && res == a->list);
	a->frees++;
	free(res);
	a->list = NULL;
}

/* ---------------------------------------------------------------- the input */

struct reader {
	const uint8_t *p, *end;
};

static unsigned
next8(struct reader *r)
{
	return r->p < r->end ? *r->p++ : 0;
}

/* The sockaddr of a spec, and what wk_addr_from_sockaddr() makes of it. */
static void
make_addr(struct spec *s, int sa_family, unsigned len_sel, unsigned index,
    unsigned scope)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	size_t full;

	memset(&ss, 0, sizeof ss);
	memset(&s->a, 0, sizeof s->a);
	ss.ss_family = (sa_family_t)sa_family;
	if (sa_family == AF_INET) {
		full = sizeof(*sin);
		sin->sin_port = htons(80);
		sin->sin_addr.s_addr = htonl(0xc0000200u | (index & 0xff));
		s->a.family = WK_FAMILY_IPV4;
		memcpy(s->a.bytes, &sin->sin_addr, 4);
	} else if (sa_family == AF_INET6) {
		full = sizeof(*sin6);
		sin6->sin6_port = htons(80);
		if (index >= 0xf0) {
			/* ::ffff:192.0.2.x, which stays IPv6 */
			sin6->sin6_addr.s6_addr[10] = 0xff;
			sin6->sin6_addr.s6_addr[11] = 0xff;
			sin6->sin6_addr.s6_addr[12] = 192;
			sin6->sin6_addr.s6_addr[14] = 2;
			sin6->sin6_addr.s6_addr[15] = (uint8_t)(index & 0x0f);
		} else {
			sin6->sin6_addr.s6_addr[0] = 0x20;
			sin6->sin6_addr.s6_addr[1] = 0x01;
			sin6->sin6_addr.s6_addr[2] = 0x0d;
			sin6->sin6_addr.s6_addr[3] = 0xb8;
			sin6->sin6_addr.s6_addr[15] = (uint8_t)index;
		}
		sin6->sin6_scope_id = scope;
		s->a.family = WK_FAMILY_IPV6;
		memcpy(s->a.bytes, &sin6->sin6_addr, 16);
		s->a.scope_id = scope;
	} else if (sa_family == AF_UNIX) {
		struct sockaddr_un *sun = (struct sockaddr_un *)&ss;

		full = sizeof(*sun);
		memcpy(sun->sun_path, "/tmp/fuzz", 10);
	} else {
		full = sizeof(struct sockaddr);
		memset(ss.__ss_padding, (int)index, 8);
	}

	switch (len_sel % 8) {
	case 0: case 1: case 2:
		s->addrlen = (socklen_t)full;
		break;
	case 3:
		s->addrlen = (socklen_t)full - 1;
		break;
	case 4:
		s->addrlen = (socklen_t)(index % (full + 1));
		break;
	case 5:
		s->addrlen = sizeof ss;
		break;
	case 6:
		s->addrlen = (socklen_t)full + 1 + index % 8;
		break;
	case 7:
		s->addrlen = 0;
		break;
	}
	/* Exactly addrlen bytes (one for 0), so ASan sees any read past. */
	s->addr = malloc(s->addrlen ? s->addrlen : 1);
	require(s->addr != NULL);
	memcpy(s->addr, &ss, s->addrlen < sizeof ss ? s->addrlen : sizeof ss);
	if (s->addrlen > sizeof ss)
		memset((char *)s->addr + sizeof ss, 0, s->addrlen - sizeof ss);
	s->usable = (sa_family == AF_INET || sa_family == AF_INET6) &&
	    s->addrlen >= full;
}

static void
read_spec(struct reader *r, struct spec *s)
{
	static const int families[8] = { AF_INET, AF_INET6, AF_UNIX,
	    AF_UNSPEC, 12345, AF_INET6, AF_INET, AF_PACKET };
	static const int ai_families[8] = { -2, AF_INET, AF_INET6, AF_UNIX,
	    AF_UNSPEC, 12345, -1, AF_INET6 };
	static const char *const canons[4] = { NULL, "", "canonical.fuzz.test",
	    "x" };
	unsigned e0 = next8(r), e1 = next8(r), index = next8(r);
	int sa_family = families[e0 & 7];

	memset(s, 0, sizeof(*s));
	s->ai_family = ai_families[(e0 >> 3) & 7];
	if (s->ai_family == -2)
		s->ai_family = sa_family;
	if (e1 & 0x08) {
		/* ai_addr NULL, whatever its length says */
		s->addrlen = (socklen_t)(e1 >> 4);
		s->addr = NULL;
		s->usable = false;
	} else {
		make_addr(s, sa_family, e1 & 7, index, (e1 >> 4) & 3);
	}
	switch (e0 >> 6) {
	case 0: case 1: case 2:
		s->canon = canons[(e0 >> 6) + (e1 >> 7)] ?
		    strdup(canons[(e0 >> 6) + (e1 >> 7)]) : NULL;
		break;
	case 3: {	/* bytes of the input, to a NUL or their count */
		size_t n = next8(r) % 40;

		require((s->canon = malloc(n + 1)) != NULL);
		for (size_t i = 0; i < n; i++)
			s->canon[i] = (char)next8(r);
		s->canon[n] = '\0';
		break;
	}
	}
	if ((e0 >> 6) < 3 && canons[(e0 >> 6) + (e1 >> 7)])
		require(s->canon != NULL);
}

/* ---------------------------------------------------------------- checks */

/* The addresses the result must hold, in order, each once. */
static size_t
expected(const struct answer *a, wk_addr *out, const char **canonical)
{
	size_t n = 0;

	*canonical = NULL;
	if (a->null_list)
		return 0;
	for (size_t i = 0; i < a->nentries; i++) {
		const struct spec *s = &a->specs[i % a->nspecs];
		size_t j;

		if (!*canonical && s->canon && *s->canon)
			*canonical = s->canon;
		if (!s->usable)
			continue;
		/* a repeating list has no new address after its specs */
		if (i >= a->nspecs)
			continue;
		for (j = 0; j < n; j++)
			if (wk_addr_equal(&out[j], &s->a, WK_ADDR_CMP_STRICT))
				break;
		if (j == n)
			out[n++] = s->a;
	}
	return n;
}

static wk_error
expected_error(int rc, int err)
{
	switch (rc) {
	case EAI_NONAME:
		return err == EMFILE || err == ENFILE || err == ENOMEM ||
		    err == ENOBUFS ? WK_SOCKET_RESOURCE : WK_HOST_NOT_FOUND;
	case EAI_NODATA:
	case EAI_FAIL:
		return WK_HOST_NOT_FOUND;
	case EAI_MEMORY:
		return WK_SOCKET_RESOURCE;
	case EAI_SYSTEM:
		switch (err) {
		case 0:
			return WK_UNKNOWN;
		case EMFILE:
		case ENOMEM:
			return WK_SOCKET_RESOURCE;
		case EAGAIN:
			return WK_TEMPORARY;
		case EINVAL:
			return WK_INVALID_ARGUMENT;
		case ETIMEDOUT:
			return WK_SOCKET_TIMEOUT;
		case ECONNREFUSED:
			return WK_CONNECTION_REFUSED;
		default:
			return WK_UNKNOWN;
		}
	default:
		return WK_UNKNOWN;
	}
}

static void
check_result(const wk_hostinfo *info, const char *asked, wk_addr *want,
    size_t total)
{
	const char *canonical;
	const wk_addr *addrs;
	wk_hostinfo *dup;
	wk_addr null_addr;
	size_t n, count;
	wk_error err;

	require(info != NULL);
	require(strcmp(wk_hostinfo_name(info), asked) == 0);
	require(wk_hostinfo_error_string(info) != NULL);
	require(wk_hostinfo_id(info) > 0);
	count = wk_hostinfo_count(info);
	addrs = wk_hostinfo_addrs(info);
	err = wk_hostinfo_error(info);
	memset(&null_addr, 0, sizeof null_addr);

	require(ans.calls ==
	    (ans.badflags_first || ans.rc == EAI_BADFLAGS ? 2 : 1));
	if (ans.rc || ans.null_list || ans.nentries == 0) {
		/* no list: nothing to free */
		require(ans.frees == 0);
	} else {
		require(ans.frees == 1 && ans.list == NULL);
	}

	/* an address exactly when no error */
	require((err == WK_NO_ERROR) == (count > 0));
	require((addrs != NULL) == (count > 0));
	require(count <= total);
	if (ans.rc) {
		require(err == expected_error(ans.rc, ans.err));
		require(wk_hostinfo_canonical_name(info) == NULL);
		return;
	}
	n = expected(&ans, want, &canonical);
	require(count == n);
	if (n == 0) {
		require(err == WK_HOST_NOT_FOUND);
		require(wk_hostinfo_canonical_name(info) == NULL);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		wk_addr a = wk_hostinfo_addr(info, i);

		require(a.family == WK_FAMILY_IPV4 ||
		    a.family == WK_FAMILY_IPV6);
		require(wk_addr_equal(&a, &want[i], WK_ADDR_CMP_STRICT));
		require(wk_addr_equal(&addrs[i], &want[i], WK_ADDR_CMP_STRICT));
	}
	{
		wk_addr past = wk_hostinfo_addr(info, n);

		require(memcmp(&past, &null_addr, sizeof past) == 0);
	}
	if (canonical)
		require(wk_hostinfo_canonical_name(info) &&
		    strcmp(wk_hostinfo_canonical_name(info), canonical) == 0);
	else
		require(wk_hostinfo_canonical_name(info) == NULL);
	require((dup = wk_hostinfo_dup(info)) != NULL);
	require(wk_hostinfo_count(dup) == n && wk_hostinfo_id(dup) ==
	    wk_hostinfo_id(info));
	require(memcmp(wk_hostinfo_addrs(dup), addrs,
	    n * sizeof(wk_addr)) == 0);
	wk_hostinfo_free(dup);
}

/* One lookup with the answer as set up; checks it and clears up. */
static void
run_lookup(const char *asked, wk_family family)
{
	static wk_addr want[MAX_SPECS];
	wk_resolver_stats before, after;
	wk_hostinfo *info;

	ans.calls = ans.frees = 0;
	ans.list = NULL;
	wk_resolver_get_stats(&before);
	info = wk_lookup_family(asked, family, -1);
	/*
	 * The pool thread frees its copy of the result after handing ours
	 * over; on our one CPU, yielding lets it finish, so that libFuzzer
	 * sees as many frees as mallocs and does not rerun the input to
	 * look for a leak.
	 */
	sched_yield();
	wk_resolver_get_stats(&after);
	require(after.backend_calls - before.backend_calls ==
	    (uint64_t)ans.calls);
	require(after.cache_hits == before.cache_hits);
	check_result(info, asked, want, ans.null_list ? 0 : ans.nentries);
	wk_hostinfo_free(info);
	free_answer(&ans);
}

/* ---------------------------------------------------------------- 10,000 */

/* 10,000 copies of one address, through the backend of the inputs. */
static void
check_copies(void)
{
	/* AF_INET6, full length, 2001:db8::7 */
	static const uint8_t one[3] = { 0x01, 0x00, 0x07 };
	struct reader r = { one, one + sizeof one };

	memset(&ans, 0, sizeof ans);
	ans.node = "fuzz.test";
	ans.family = AF_UNSPEC;
	read_spec(&r, &ans.specs[0]);
	require(ans.specs[0].usable);
	ans.nspecs = 1;
	ans.nentries = MAX_ENTRIES;
	run_lookup("fuzz.test", WK_FAMILY_ANY);
}

/* A backend that answers 10,000 distinct addresses. */
static struct addrinfo *distinct_list;
static struct sockaddr_in6 *distinct_addrs;

static int
distinct_backend(const char *node, const char *service,
    const struct addrinfo *hints, struct addrinfo **res, void *arg)
{
	(void)node, (void)service, (void)hints, (void)arg;
	*res = distinct_list;
	return 0;
}

static void
distinct_free(struct addrinfo *res, void *arg)
{
	(void)arg;
	require(res == distinct_list);
	free(distinct_list);
	free(distinct_addrs);
	distinct_list = NULL;
	distinct_addrs = NULL;
}

static void
check_distinct(void)
{
	wk_hostinfo *info;
	size_t i;

	require((distinct_list = calloc(MAX_ENTRIES, sizeof(*distinct_list))));
	require((distinct_addrs = calloc(MAX_ENTRIES,
	    sizeof(*distinct_addrs))));
	for (i = 0; i < MAX_ENTRIES; i++) {
		struct sockaddr_in6 *sin6 = &distinct_addrs[i];

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr.s6_addr[0] = 0x20;
		sin6->sin6_addr.s6_addr[1] = 0x01;
		sin6->sin6_addr.s6_addr[2] = 0x0d;
		sin6->sin6_addr.s6_addr[3] = 0xb8;
		sin6->sin6_addr.s6_addr[14] = (uint8_t)(i >> 8);
		sin6->sin6_addr.s6_addr[15] = (uint8_t)i;
		distinct_list[i].ai_family = AF_INET6;
		distinct_list[i].ai_addr = (struct sockaddr *)sin6;
		distinct_list[i].ai_addrlen = sizeof(*sin6);
		distinct_list[i].ai_next = i + 1 < MAX_ENTRIES ?
		    &distinct_list[i + 1] : NULL;
	}
	distinct_list[MAX_ENTRIES / 2].ai_canonname = "half.fuzz.test";
	wk_resolver_set_backend(distinct_backend, distinct_free, NULL);
	info = wk_lookup("fuzz.test", -1);
	require(distinct_list == NULL);
	require(wk_hostinfo_error(info) == WK_NO_ERROR);
	require(wk_hostinfo_count(info) == MAX_ENTRIES);
	for (i = 0; i < MAX_ENTRIES; i++) {
		wk_addr a = wk_hostinfo_addr(info, i);

		require(a.family == WK_FAMILY_IPV6);
		require(a.bytes[14] == (uint8_t)(i >> 8) &&
		    a.bytes[15] == (uint8_t)i);
	}
	require(strcmp(wk_hostinfo_canonical_name(info),
	    "half.fuzz.test") == 0);
	wk_hostinfo_free(info);
}

/* ---------------------------------------------------------------- entry */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	cpu_set_t one;
	int cpu = sched_getcpu();

	(void)argc, (void)argv;
	/*
	 * Each input hands a lookup to a pool thread and waits for it: on
	 * one CPU that is a context switch, across two it is a wake-up of
	 * another CPU, which costs several times more on a virtual machine.
	 * The pool threads inherit this.
	 */
	CPU_ZERO(&one);
	CPU_SET(cpu >= 0 ? cpu : 0, &one);
	(void)sched_setaffinity(0, sizeof one, &one);
	/* every input reaches the backend: no cache, positive or negative */
	require(wk_resolver_set_cache(0, 0, 0));
	check_distinct();
	wk_resolver_set_backend(backend, backend_free, &ans);
	check_copies();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[4][2] = {
		{ "fuzz.test", "fuzz.test" },
		{ "FUZZ.Test.", "fuzz.test." },
		{ "b\xc3\xbc" "cher.test", "xn--bcher-kva.test" },
		{ "fuzz.test", "fuzz.test" },
	};
	static const wk_family families[4] = { WK_FAMILY_ANY, WK_FAMILY_IPV4,
	    WK_FAMILY_IPV6, WK_FAMILY_NONE };
	static const int eai[16] = { EAI_NONAME, EAI_AGAIN, EAI_FAIL,
	    EAI_MEMORY, EAI_SYSTEM, EAI_FAMILY, EAI_SERVICE, EAI_BADFLAGS,
	    EAI_OVERFLOW, EAI_NODATA, EAI_ADDRFAMILY, EAI_SOCKTYPE, 12345,
	    -99999, EAI_SYSTEM, EAI_NONAME };
	static const int errnos[8] = { 0, EMFILE, ENOMEM, EAGAIN, EINVAL,
	    ETIMEDOUT, ECONNREFUSED, 9999 };
	struct reader r = { data, data + size };
	unsigned flags = next8(&r);
	wk_family family = families[(flags >> 2) & 3];

	memset(&ans, 0, sizeof ans);
	ans.node = names[flags & 3][1];
	ans.family = family == WK_FAMILY_IPV4 ? AF_INET :
	    family == WK_FAMILY_IPV6 ? AF_INET6 : AF_UNSPEC;
	ans.badflags_first = flags & 0x20;
	ans.null_list = flags & 0x40;
	if (flags & 0x10) {
		unsigned e = next8(&r);

		ans.rc = eai[e & 15];
		ans.err = errnos[(e >> 4) & 7];
	}
	if (flags & 0x80) {
		/*
		 * The entries repeated, to as many as 256 in all (fewer for
		 * many entries: the builder compares each entry with every
		 * address kept, so a long list costs its length times its
		 * distinct addresses); lists of 10,000 are checked once, at
		 * start.
		 */
		unsigned n = next8(&r) << 8;

		n |= next8(&r);
		ans.nentries = 1 + n % MAX_REPEAT;
	}
	while (r.p < r.end && ans.nspecs < MAX_SPECS)
		read_spec(&r, &ans.specs[ans.nspecs++]);
	if (!(flags & 0x80) || ans.nspecs == 0)
		ans.nentries = ans.nspecs;
	else if (ans.nentries * ans.nspecs > MAX_WORK)
		ans.nentries = MAX_WORK / ans.nspecs;
	run_lookup(names[flags & 3][0], family);
	return 0;
}
