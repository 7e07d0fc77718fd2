/*
 * check_resolver_dns.c - lookups end to end: the public lookup API, the
 * system's getaddrinfo() and a real DNS server (tests/dnsd.c) answering
 * on 127.0.0.1:53 inside a network namespace of the test's own
 *
 * Needs root (skipped otherwise).  No packet leaves the namespace, and
 * the host's resolv.conf, hosts and nsswitch.conf are replaced for this
 * process only (tests/netns.c).
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <sys/socket.h>

#include <netdb.h>

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <wirekit/lookup.h>

#include "dnsd.h"
#include "netns.h"

/*
 * One server, no retries, and a timeout well above the latency the
 * coalescing tests use and the 500 ms the timeout tests wait: a lookup
 * of the silent name ends on wirekit's deadline, not glibc's.
 */
#define RESOLV_CONF \
	"nameserver 127.0.0.1\n" \
	"options timeout:2 attempts:1\n"

/* resolv.conf cannot name a port; the namespace makes 53 ours alone. */
#define SERVER_ADDR "127.0.0.1"
#define SERVER_PORT 53

/* Long enough for any answer here; below the test case's 60 s. */
#define LOOKUP_MSECS 30000
#define SILENT_MSECS 500
#define LATENCY_MS 300
#define COALESCE_STARTS 200
#define COALESCE_THREADS 16

#define ZONE "wirekit.test"
#define NX_NAME "nx." ZONE
/* Never answered; one name per test, as an unanswered query lives on. */
#define SILENT_NAME "silent." ZONE
#define SILENT_WAIT_NAME "silent-wait." ZONE
#define SILENT_CALLBACK_NAME "silent-callback." ZONE
#define COALESCE_NAME "coalesce." ZONE
#define IDN_NAME "b\xc3\xbc" "cher." ZONE	/* "bücher", UTF-8 */
#define IDN_ACE "xn--bcher-kva." ZONE

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static struct dnsd *server;

/* Each way to ask: the twins run every test that fits them. */
enum mode { BLOCKING, CALLBACK, WAIT, MODES };

static const char *const mode_names[MODES] = {
	"blocking", "callback", "wait"
};

/* ---------------------------------------------------------------- fixture */

/*
 * A server per test, started in the test's own process: in fork mode a
 * server started in main() would count queries in the parent's memory.
 */
static void
setup(void)
{
	server = dnsd_start(SERVER_ADDR, SERVER_PORT, 0);
	ck_assert_msg(server != NULL, "dnsd on %s:%d: %s", SERVER_ADDR,
	    SERVER_PORT, strerror(errno));
	/* With CK_FORK=no every test shares one cache. */
	wk_resolver_clear_cache();
}

static void
teardown(void)
{
	dnsd_stop(server);
	server = NULL;
}

static void
pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * Waits for a query to arrive.  Bounded here, as Check's timeout does
 * not run with CK_FORK=no.
 */
static void
wait_seen(const char *name)
{
	int waited;

	for (waited = 0; !dnsd_seen(server, name); waited += 10) {
		ck_assert_msg(waited < LOOKUP_MSECS, "no query for %s", name);
		pause_ms(10);
	}
}

/* Waits for every lookup thread to be back from getaddrinfo(). */
static void
wait_resolver_idle(void)
{
	wk_resolver_stats st;
	int waited;

	for (waited = 0;; waited += 10) {
		wk_resolver_get_stats(&st);
		if (st.running == 0 && st.abandoned == 0)
			break;
		ck_assert_msg(waited < LOOKUP_MSECS, "%u running, %u abandoned",
		    st.running, st.abandoned);
		pause_ms(10);
	}
}

/* ---------------------------------------------------------------- lookups */

static int64_t
start(const char *name, wk_family family, wk_lookup_fn done, void *arg)
{
	if (family == WK_FAMILY_ANY)
		return wk_lookup_start(name, done, arg);
	return wk_lookup_start_family(name, family, done, arg);
}

/*
 * What one callback left.  Static, not on the stack: done may still be
 * unlocking it after the waiter has seen the result.
 */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	wk_hostinfo *info;
	unsigned calls;
} one = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0 };

static void
one_done(const wk_hostinfo *info, void *arg)
{
	/* info is the library's once done returns. */
	wk_hostinfo *copy = wk_hostinfo_dup(info);

	(void)arg;
	pthread_mutex_lock(&one.lock);
	if (one.calls++ == 0)
		one.info = copy;
	else
		wk_hostinfo_free(copy);
	pthread_cond_signal(&one.cond);
	pthread_mutex_unlock(&one.lock);
}

static unsigned
one_calls(void)
{
	unsigned n;

	pthread_mutex_lock(&one.lock);
	n = one.calls;
	pthread_mutex_unlock(&one.lock);
	return n;
}

static int64_t
one_start(const char *name, wk_family family)
{
	pthread_mutex_lock(&one.lock);
	one.info = NULL;
	one.calls = 0;
	pthread_mutex_unlock(&one.lock);
	return start(name, family, one_done, NULL);
}

static wk_hostinfo *
one_wait(void)
{
	wk_hostinfo *info;

	pthread_mutex_lock(&one.lock);
	while (one.calls == 0)
		pthread_cond_wait(&one.cond, &one.lock);
	info = one.info;
	one.info = NULL;
	pthread_mutex_unlock(&one.lock);
	return info;
}

/* Looks name up the way mode says; the result is the caller's. */
static wk_hostinfo *
resolve(const char *name, wk_family family, enum mode mode, int msecs)
{
	wk_hostinfo *info;
	int64_t id = 0;

	if (mode == BLOCKING) {
		info = family == WK_FAMILY_ANY ? wk_lookup(name, msecs) :
		    wk_lookup_family(name, family, msecs);
	} else if (mode == CALLBACK) {
		id = one_start(name, family);
		ck_assert_msg(id > 0, "start %s: id %lld", name, (long long)id);
		info = one_wait();
		ck_assert_uint_eq(one_calls(), 1);
	} else {
		id = start(name, family, NULL, NULL);
		ck_assert_msg(id > 0, "start %s: id %lld", name, (long long)id);
		info = wk_lookup_wait(id, msecs);
	}
	ck_assert_msg(info != NULL, "%s lookup of %s: NULL", mode_names[mode],
	    name);
	if (id > 0)
		ck_assert_int_eq(wk_hostinfo_id(info), id);
	return info;
}

/* ---------------------------------------------------------------- checks */

static void
format_addrs(const wk_hostinfo *info, char *buf, size_t size)
{
	char text[WK_ADDR_STRLEN];
	size_t i, len = 0;
	wk_addr a;

	buf[0] = '\0';
	for (i = 0; i < wk_hostinfo_count(info) && len < size; i++) {
		a = wk_hostinfo_addr(info, i);
		wk_addr_format(&a, text, sizeof(text));
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
		    i ? " " : "", text);
	}
}

/* A successful result for name holding want[0..n-1], in any order. */
static void
assert_answer(const wk_hostinfo *info, const char *name,
    const char *const *want, size_t n)
{
	char got[512], text[WK_ADDR_STRLEN];
	size_t i, j, found;
	wk_addr a;

	format_addrs(info, got, sizeof(got));
	ck_assert_msg(wk_hostinfo_error(info) == WK_NO_ERROR,
	    "%s: %s (%s)", name, wk_error_name(wk_hostinfo_error(info)),
	    wk_hostinfo_error_string(info));
	ck_assert_str_eq(wk_hostinfo_name(info), name);
	ck_assert_msg(wk_hostinfo_count(info) == n, "%s: [%s], want %zu "
	    "addresses", name, got, n);
	ck_assert_ptr_nonnull(wk_hostinfo_addrs(info));
	for (i = 0; i < n; i++) {
		for (j = 0, found = 0; j < n; j++) {
			a = wk_hostinfo_addr(info, j);
			wk_addr_format(&a, text, sizeof(text));
			found += strcmp(text, want[i]) == 0;
		}
		ck_assert_msg(found == 1, "%s: [%s], want %s once", name, got,
		    want[i]);
	}
}

static void
assert_failure(const wk_hostinfo *info, const char *name, wk_error want)
{
	ck_assert_msg(wk_hostinfo_error(info) == want, "%s: %s (%s), want %s",
	    name, wk_error_name(wk_hostinfo_error(info)),
	    wk_hostinfo_error_string(info), wk_error_name(want));
	ck_assert_str_eq(wk_hostinfo_name(info), name);
	ck_assert_uint_eq(wk_hostinfo_count(info), 0);
	ck_assert_ptr_null(wk_hostinfo_addrs(info));
	ck_assert_ptr_nonnull(wk_hostinfo_error_string(info));
}

static void
check_answer(enum mode mode, const char *name, wk_family family,
    const char *const *want, size_t n)
{
	wk_hostinfo *info = resolve(name, family, mode, LOOKUP_MSECS);

	assert_answer(info, name, want, n);
	wk_hostinfo_free(info);
}

/* ---------------------------------------------------------------- answers */

static const char *const a_addrs[] = { "192.0.2.10" };
static const char *const aaaa_addrs[] = { "2001:db8::10" };
static const char *const both_addrs[] = { "192.0.2.11", "2001:db8::11" };
static const char *const both_v4[] = { "192.0.2.11" };
static const char *const both_v6[] = { "2001:db8::11" };
static const char *const multi_addrs[] = {
	"192.0.2.1", "192.0.2.2", "192.0.2.3"
};
static const char *const idn_addrs[] = { "192.0.2.12" };
static const char *const coalesce_addrs[] = {
	"192.0.2.13", "2001:db8::13"
};

START_TEST(test_a)
{
	check_answer(_i, "a." ZONE, WK_FAMILY_ANY, a_addrs, COUNT(a_addrs));
	ck_assert_uint_ge(dnsd_count(server, "a." ZONE, DNSD_TYPE_A), 1);
	check_answer(_i, "a." ZONE, WK_FAMILY_IPV4, a_addrs, COUNT(a_addrs));
}
END_TEST

START_TEST(test_aaaa)
{
	check_answer(_i, "aaaa." ZONE, WK_FAMILY_IPV6, aaaa_addrs,
	    COUNT(aaaa_addrs));
	ck_assert_uint_eq(dnsd_count(server, "aaaa." ZONE, DNSD_TYPE_AAAA), 1);
	check_answer(_i, "aaaa." ZONE, WK_FAMILY_ANY, aaaa_addrs,
	    COUNT(aaaa_addrs));
}
END_TEST

/* Room for every address of every name in the zone. */
#define MAX_ADDRS 8

/*
 * getaddrinfo()'s own order for name, each address once, as text: the
 * order wirekit promises to keep.
 */
static void
libc_order(const char *name, char *buf, size_t size)
{
	struct addrinfo hints = { 0 }, *res, *ai;
	wk_addr addrs[MAX_ADDRS];
	char text[WK_ADDR_STRLEN];
	size_t i, n = 0, len = 0;
	int rc;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	rc = getaddrinfo(name, NULL, &hints, &res);
	ck_assert_msg(rc == 0, "getaddrinfo %s: %s", name, gai_strerror(rc));
	for (ai = res; ai && n < MAX_ADDRS; ai = ai->ai_next) {
		if (!wk_addr_from_sockaddr(&addrs[n], NULL, ai->ai_addr,
		    ai->ai_addrlen))
			continue;
		for (i = 0; i < n; i++)
			if (wk_addr_equal(&addrs[i], &addrs[n],
			    WK_ADDR_CMP_STRICT))
				break;
		n += i == n;
	}
	freeaddrinfo(res);
	buf[0] = '\0';
	for (i = 0; i < n && len < size; i++) {
		wk_addr_format(&addrs[i], text, sizeof(text));
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
		    i ? " " : "", text);
	}
}

START_TEST(test_both)
{
	wk_hostinfo *info = resolve("both." ZONE, WK_FAMILY_ANY, _i,
	    LOOKUP_MSECS);
	char got[512], want[512];

	assert_answer(info, "both." ZONE, both_addrs, COUNT(both_addrs));
	ck_assert_uint_eq(dnsd_count(server, "both." ZONE, DNSD_TYPE_A), 1);
	ck_assert_uint_eq(dnsd_count(server, "both." ZONE, DNSD_TYPE_AAAA), 1);
	format_addrs(info, got, sizeof(got));
	libc_order("both." ZONE, want, sizeof(want));
	ck_assert_str_eq(got, want);
	wk_hostinfo_free(info);
}
END_TEST

START_TEST(test_both_family)
{
	check_answer(_i, "both." ZONE, WK_FAMILY_IPV4, both_v4, COUNT(both_v4));
	check_answer(_i, "both." ZONE, WK_FAMILY_IPV6, both_v6, COUNT(both_v6));
}
END_TEST

START_TEST(test_multi)
{
	check_answer(_i, "multi." ZONE, WK_FAMILY_ANY, multi_addrs,
	    COUNT(multi_addrs));
	check_answer(_i, "multi." ZONE, WK_FAMILY_IPV4, multi_addrs,
	    COUNT(multi_addrs));
}
END_TEST

/* The query goes out in ACE form; the result keeps the caller's form. */
START_TEST(test_idn)
{
	check_answer(_i, IDN_NAME, WK_FAMILY_ANY, idn_addrs, COUNT(idn_addrs));
	ck_assert_msg(dnsd_seen(server, IDN_ACE), "no query for %s", IDN_ACE);
	ck_assert_uint_eq(dnsd_count(server, NULL, DNSD_TYPE_ANY),
	    dnsd_count(server, IDN_ACE, DNSD_TYPE_ANY));
}
END_TEST

/* ---------------------------------------------------------------- errors */

START_TEST(test_nxdomain)
{
	wk_hostinfo *info = resolve(NX_NAME, WK_FAMILY_ANY, _i, LOOKUP_MSECS);

	assert_failure(info, NX_NAME, WK_HOST_NOT_FOUND);
	wk_hostinfo_free(info);
	/* The answer came from the server, not from a file. */
	ck_assert(dnsd_seen(server, NX_NAME));
	info = resolve("other.nx." ZONE, WK_FAMILY_IPV4, _i, LOOKUP_MSECS);
	assert_failure(info, "other.nx." ZONE, WK_HOST_NOT_FOUND);
	wk_hostinfo_free(info);
}
END_TEST

/* The name exists, the family asked for does not: NODATA. */
START_TEST(test_nodata)
{
	wk_hostinfo *info = resolve("aaaa." ZONE, WK_FAMILY_IPV4, _i,
	    LOOKUP_MSECS);

	assert_failure(info, "aaaa." ZONE, WK_HOST_NOT_FOUND);
	wk_hostinfo_free(info);
	ck_assert_uint_eq(dnsd_count(server, "aaaa." ZONE, DNSD_TYPE_A), 1);
	info = resolve("a." ZONE, WK_FAMILY_IPV6, _i, LOOKUP_MSECS);
	assert_failure(info, "a." ZONE, WK_HOST_NOT_FOUND);
	wk_hostinfo_free(info);
}
END_TEST

/* A server that never answers: the caller's deadline ends the wait. */
START_TEST(test_silent_blocking)
{
	wk_hostinfo *info = wk_lookup(SILENT_NAME, SILENT_MSECS);

	ck_assert_ptr_nonnull(info);
	assert_failure(info, SILENT_NAME, WK_SOCKET_TIMEOUT);
	wk_hostinfo_free(info);
	wait_seen(SILENT_NAME);
	info = wk_lookup_family(SILENT_NAME, WK_FAMILY_IPV4, SILENT_MSECS);
	ck_assert_ptr_nonnull(info);
	assert_failure(info, SILENT_NAME, WK_SOCKET_TIMEOUT);
	wk_hostinfo_free(info);
}
END_TEST

/* wk_lookup_wait() times out; the lookup stays pending until aborted. */
START_TEST(test_silent_wait)
{
	int64_t id = wk_lookup_start(SILENT_WAIT_NAME, NULL, NULL);
	wk_hostinfo *info;

	ck_assert_int_gt(id, 0);
	info = wk_lookup_wait(id, SILENT_MSECS);
	ck_assert_ptr_nonnull(info);
	ck_assert_int_eq(wk_hostinfo_id(info), id);
	assert_failure(info, SILENT_WAIT_NAME, WK_SOCKET_TIMEOUT);
	wk_hostinfo_free(info);
	ck_assert(wk_lookup_abort(id));
	ck_assert(!wk_lookup_abort(id));
}
END_TEST

/*
 * A callback lookup has no deadline: aborted while the server stays
 * silent, its callback must never run, even after getaddrinfo() gives up.
 */
START_TEST(test_silent_callback)
{
	int64_t id = one_start(SILENT_CALLBACK_NAME, WK_FAMILY_ANY);

	ck_assert_int_gt(id, 0);
	wait_seen(SILENT_CALLBACK_NAME);
	ck_assert(wk_lookup_abort(id));
	wait_resolver_idle();
	/* Room for a wrong delivery, which would follow the count. */
	pause_ms(100);
	ck_assert_uint_eq(one_calls(), 0);
}
END_TEST

/* ---------------------------------------------------------------- coalesce */

/* What the callbacks of the coalesced lookups saw. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int64_t ids[COALESCE_STARTS];
	unsigned calls, failures;
	char failure[256];
} many = { .lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER };

/* Check's asserts belong in the test's thread: note, and check later. */
static void
note_result(const wk_hostinfo *info)
{
	char got[128];

	format_addrs(info, got, sizeof(got));
	if (wk_hostinfo_error(info) == WK_NO_ERROR &&
	    wk_hostinfo_count(info) == COUNT(coalesce_addrs) &&
	    strcmp(wk_hostinfo_name(info), COALESCE_NAME) == 0)
		return;
	if (many.failures++ == 0)
		snprintf(many.failure, sizeof(many.failure), "id %lld: %s [%s]",
		    (long long)wk_hostinfo_id(info),
		    wk_hostinfo_error_string(info), got);
}

static void
many_done(const wk_hostinfo *info, void *arg)
{
	(void)arg;
	pthread_mutex_lock(&many.lock);
	if (many.calls < COALESCE_STARTS)
		many.ids[many.calls] = wk_hostinfo_id(info);
	many.calls++;
	note_result(info);
	pthread_cond_signal(&many.cond);
	pthread_mutex_unlock(&many.lock);
}

static int
cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The ids the callbacks saw are exactly the ones the starts returned. */
static void
assert_same_ids(int64_t *started, size_t n)
{
	size_t i;

	qsort(started, n, sizeof(*started), cmp_id);
	qsort(many.ids, n, sizeof(many.ids[0]), cmp_id);
	for (i = 0; i < n; i++) {
		ck_assert_int_gt(started[i], 0);
		ck_assert_msg(i == 0 || started[i] != started[i - 1],
		    "id %lld twice", (long long)started[i]);
		ck_assert_int_eq(many.ids[i], started[i]);
	}
}

static void
coalesce_callbacks(void)
{
	static int64_t ids[COALESCE_STARTS];
	size_t i, started = 0;

	pthread_mutex_lock(&many.lock);
	many.calls = many.failures = 0;
	pthread_mutex_unlock(&many.lock);
	for (i = 0; i < COALESCE_STARTS; i++) {
		ids[i] = wk_lookup_start(COALESCE_NAME, many_done, NULL);
		started += ids[i] > 0;
	}
	/* Only the lookups that started can call back. */
	pthread_mutex_lock(&many.lock);
	while (many.calls < started)
		pthread_cond_wait(&many.cond, &many.lock);
	pthread_mutex_unlock(&many.lock);
	ck_assert_uint_eq(started, COALESCE_STARTS);
	ck_assert_msg(many.failures == 0, "%u failed, first %s",
	    many.failures, many.failure);
	ck_assert_uint_eq(many.calls, COALESCE_STARTS);
	assert_same_ids(ids, COALESCE_STARTS);
}

static void
coalesce_waits(void)
{
	int64_t ids[COALESCE_STARTS];
	wk_hostinfo *info;
	size_t i;

	for (i = 0; i < COALESCE_STARTS; i++) {
		ids[i] = wk_lookup_start(COALESCE_NAME, NULL, NULL);
		ck_assert_int_gt(ids[i], 0);
	}
	for (i = 0; i < COALESCE_STARTS; i++) {
		info = wk_lookup_wait(ids[i], LOOKUP_MSECS);
		ck_assert_ptr_nonnull(info);
		ck_assert_int_eq(wk_hostinfo_id(info), ids[i]);
		assert_answer(info, COALESCE_NAME, coalesce_addrs,
		    COUNT(coalesce_addrs));
		wk_hostinfo_free(info);
	}
}

static void *
blocking_thread(void *arg)
{
	(void)arg;
	return wk_lookup(COALESCE_NAME, LOOKUP_MSECS);
}

static void
coalesce_threads(void)
{
	pthread_t t[COALESCE_THREADS];
	void *info;
	size_t i;

	for (i = 0; i < COALESCE_THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, blocking_thread,
		    NULL), 0);
	for (i = 0; i < COALESCE_THREADS; i++) {
		ck_assert_int_eq(pthread_join(t[i], &info), 0);
		ck_assert_ptr_nonnull(info);
		assert_answer(info, COALESCE_NAME, coalesce_addrs,
		    COUNT(coalesce_addrs));
		wk_hostinfo_free(info);
	}
}

/*
 * Lookups of one name started while its query is out share it: the
 * server's latency keeps the first query open while the rest start, and
 * the cache catches any that start after it is answered.
 */
START_TEST(test_coalesce)
{
	wk_resolver_stats before, after;

	ck_assert(wk_resolver_set_cache(128, 60000, 5000));
	wk_resolver_clear_cache();
	dnsd_set_latency(server, LATENCY_MS);
	dnsd_reset_counts(server);
	wk_resolver_get_stats(&before);
	if (_i == CALLBACK)
		coalesce_callbacks();
	else if (_i == WAIT)
		coalesce_waits();
	else
		coalesce_threads();
	wk_resolver_get_stats(&after);
	ck_assert_uint_eq(dnsd_count(server, COALESCE_NAME, DNSD_TYPE_A), 1);
	ck_assert_uint_eq(dnsd_count(server, COALESCE_NAME, DNSD_TYPE_AAAA), 1);
	ck_assert_uint_eq(dnsd_count(server, NULL, DNSD_TYPE_ANY), 2);
	ck_assert_uint_eq(after.backend_calls - before.backend_calls, 1);
	ck_assert_uint_eq(after.started - before.started,
	    _i == BLOCKING ? COALESCE_THREADS : COALESCE_STARTS);
}
END_TEST

/* ---------------------------------------------------------------- main */

static TCase *
tcase(Suite *s, const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return tc;
}

int
main(void)
{
	Suite *s = suite_create("resolver_dns");
	TCase *tc;
	SRunner *sr;
	int failed;

	failed = wk_test_enter_netns(RESOLV_CONF);
	if (failed != 0)
		return failed;
	tc = tcase(s, "answers");
	tcase_add_loop_test(tc, test_a, 0, MODES);
	tcase_add_loop_test(tc, test_aaaa, 0, MODES);
	tcase_add_loop_test(tc, test_both, 0, MODES);
	tcase_add_loop_test(tc, test_both_family, 0, MODES);
	tcase_add_loop_test(tc, test_multi, 0, MODES);
	tcase_add_loop_test(tc, test_idn, 0, MODES);
	tc = tcase(s, "errors");
	tcase_add_loop_test(tc, test_nxdomain, 0, MODES);
	tcase_add_loop_test(tc, test_nodata, 0, MODES);
	tcase_add_test(tc, test_silent_blocking);
	tcase_add_test(tc, test_silent_wait);
	tcase_add_test(tc, test_silent_callback);
	tc = tcase(s, "coalescing");
	tcase_add_loop_test(tc, test_coalesce, 0, MODES);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	/*
	 * With CK_FORK=no the pool ran here: its threads hold glibc's
	 * resolver state, which valgrind reports lost if they outlive main.
	 */
	wk_resolver_shutdown();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
