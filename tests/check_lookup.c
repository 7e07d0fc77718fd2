/*
 * check_lookup.c - tests of wirekit/lookup.h: blocking and background
 * lookups, the resolver pool (bounds, coalescing, abort, abandoned
 * threads, idle exit, shutdown, fork), the cache, and the results
 *
 * The expectations follow the lookup contract (notes/lookup-spec.md).
 * Nearly every test runs against a fake getaddrinfo() installed with
 * wk_resolver_set_backend(): it answers made-up names, can hold a call
 * until the test lets it go, and counts what it was asked.  The real
 * getaddrinfo() is only used for names in /etc/hosts: "localhost"
 * anywhere, and address literals (whose reverse lookups are not hooked
 * and may reach DNS) or other names only inside the private network
 * namespace of netns.h, entered first thing in main() when root.
 *
 * No assertion is about how long something took: only that a call
 * returned and with what.  Waits for the pool are bounded by a safety
 * limit (WAIT_LIMIT_MS) so that a broken pool fails a test instead of
 * hanging it when Check's timeouts are off (CK_FORK=no, under valgrind).
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <wirekit/lookup.h>

#include "lookup-private.h"
#include "netns.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The longest any wait for the pool may take before the test gives up
 * and fails; far above what a working pool needs even under valgrind.
 */
#define WAIT_LIMIT_MS 60000
#define POLL_MS 2

/* The library's defaults, restored after every test. */
#define DEFAULT_MAX_THREADS 20
#define DEFAULT_MAX_ABANDONED (4 * DEFAULT_MAX_THREADS)
#define DEFAULT_IDLE_MS 10000
#define DEFAULT_CACHE_ENTRIES 128
#define DEFAULT_TTL_MS 60000
#define DEFAULT_NEGATIVE_TTL_MS 5000

/* What a held ("stuck*.test") name answers once it is let go. */
#define RELEASED_ADDR "198.51.100.1"

/* The resolver configuration inside the namespace: DNS fails at once. */
#define NETNS_RESOLV_CONF \
	"nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"

static bool in_netns;

/*
 * ThreadSanitizer refuses to start threads in the child of a threaded
 * fork() unless told otherwise, and test_fork does exactly that.
 */
#if defined(__SANITIZE_THREAD__)
#define WK_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define WK_TSAN 1
#endif
#endif
#ifdef WK_TSAN
const char *__tsan_default_options(void);

const char *
__tsan_default_options(void)
{
	return "die_after_fork=0";
}
#endif

/* ---------------------------------------------------------------- time */

static struct timespec
deadline_after(int msecs)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += msecs / 1000;
	ts.tv_nsec += (long)(msecs % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

static bool
passed(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline->tv_sec ||
	    (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

static void
sleep_ms(int msecs)
{
	struct timespec ts = { msecs / 1000, (long)(msecs % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void
cond_init_monotonic(pthread_cond_t *c)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(c, &attr);
	pthread_condattr_destroy(&attr);
}

/* Polls pred until it holds or WAIT_LIMIT_MS passed; false then. */
static bool
poll_until(bool (*pred)(void *), void *arg, int limit_ms)
{
	struct timespec deadline = deadline_after(limit_ms);

	while (!pred(arg)) {
		if (passed(&deadline))
			return false;
		sleep_ms(POLL_MS);
	}
	return true;
}

/* ---------------------------------------------------------------- fake */

#define FAKE_NAMES 1024
#define FAKE_RELEASED 32

/* What the fake backend saw for one name. */
struct fake_name {
	char name[256];
	unsigned calls;
	int first_flags, last_flags;	/* hints->ai_flags */
	int family;			/* hints->ai_family, last call */
	int socktype;
};

/*
 * The fake getaddrinfo().  Everything is guarded by lock; cond is
 * broadcast whenever a call starts, ends, or names are let go.
 */
static struct fake {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int latency_ms;			/* every call sleeps this long */
	bool release_all;
	char released[FAKE_RELEASED][256];
	size_t nreleased;
	char hold[256];			/* held besides "stuck*.test" */
	unsigned current, peak;		/* calls in progress */
	unsigned held;			/* of which held */
	unsigned long total;		/* calls made */
	unsigned long bad;		/* calls breaking the backend contract */
	struct fake_name names[FAKE_NAMES];
	size_t nnames;
} fake = { .lock = PTHREAD_MUTEX_INITIALIZER };

static struct addrinfo *
ai_new(int family, const char *text, const char *canon)
{
	struct addrinfo *ai = calloc(1, sizeof(*ai));
	struct sockaddr_storage *ss = calloc(1, sizeof(*ss));
	socklen_t len = 0;

	if (!ai || !ss)
		goto err;
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		if (inet_pton(AF_INET, text, &sin->sin_addr) != 1)
			goto err;
		len = sizeof(*sin);
	} else if (family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, text, &sin6->sin6_addr) != 1)
			goto err;
		len = sizeof(*sin6);
	} else if (family == AF_UNIX) {
		struct sockaddr_un *sun = (struct sockaddr_un *)ss;

		sun->sun_family = AF_UNIX;
		snprintf(sun->sun_path, sizeof(sun->sun_path), "%s", text);
		len = sizeof(*sun);
	} else {
		free(ss);		/* a node without an address */
		ss = NULL;
	}
	if (canon && !(ai->ai_canonname = strdup(canon)))
		goto err;
	ai->ai_family = family;
	ai->ai_socktype = SOCK_STREAM;
	ai->ai_protocol = IPPROTO_TCP;
	ai->ai_addr = (struct sockaddr *)ss;
	ai->ai_addrlen = len;
	return ai;
err:
	free(ss);
	free(ai);
	return NULL;
}

static void
fake_freeaddrinfo(struct addrinfo *res, void *arg)
{
	struct addrinfo *next;

	(void)arg;
	for (; res; res = next) {
		next = res->ai_next;
		free(res->ai_addr);
		free(res->ai_canonname);
		free(res);
	}
}

/* Appends a node unless hints->ai_family rules its family out. */
static bool
add(struct addrinfo ***tail, const struct addrinfo *hints, int family,
    const char *text, const char *canon)
{
	struct addrinfo *ai;

	if ((family == AF_INET || family == AF_INET6) &&
	    hints->ai_family != AF_UNSPEC && hints->ai_family != family)
		return true;
	if (!(ai = ai_new(family, text, canon)))
		return false;
	**tail = ai;
	*tail = &ai->ai_next;
	return true;
}

/* "hostN.test" with N a plain decimal number; -1 for anything else. */
static long
host_number(const char *node)
{
	char *end;
	long n;

	if (strncmp(node, "host", 4) != 0 || node[4] < '0' || node[4] > '9')
		return -1;
	n = strtol(node + 4, &end, 10);
	return strcmp(end, ".test") == 0 ? n : -1;
}

/* "stuck*.test": held until the test lets it go. */
static bool
is_stuck(const char *node)
{
	size_t len = strlen(node);

	return strncmp(node, "stuck", 5) == 0 && len >= 10 &&
	    strcmp(node + len - 5, ".test") == 0;
}

static bool
is_held(const char *node)
{
	return is_stuck(node) || (fake.hold[0] && strcmp(node, fake.hold) == 0);
}

static bool
is_released(const char *node)
{
	if (fake.release_all)
		return true;
	for (size_t i = 0; i < fake.nreleased; i++)
		if (strcmp(fake.released[i], node) == 0)
			return true;
	return false;
}

/* Under the lock: the record of a name, made on first sight. */
static struct fake_name *
fake_record(const char *node)
{
	struct fake_name *f;

	for (size_t i = 0; i < fake.nnames; i++)
		if (strcmp(fake.names[i].name, node) == 0)
			return &fake.names[i];
	if (fake.nnames == FAKE_NAMES || strlen(node) >= sizeof(f->name))
		return NULL;
	f = &fake.names[fake.nnames++];
	memset(f, 0, sizeof(*f));
	strcpy(f->name, node);
	return f;
}

/* The answers: made-up names under .test, as the tests need them. */
static int
fake_answer(const char *node, const struct addrinfo *hints,
    struct addrinfo **res)
{
	struct addrinfo *head = NULL, **tail = &head;
	long n = host_number(node);
	char text[32];
	bool ok = true;
	int rc = 0;

	if (n >= 0) {
		snprintf(text, sizeof(text), "192.0.2.%ld", n % 250);
		ok = add(&tail, hints, AF_INET, text, NULL);
	} else if (is_stuck(node) || strcmp(node, "fast.test") == 0 ||
	    strcmp(node, "fastc.test") == 0) {
		ok = add(&tail, hints, AF_INET, RELEASED_ADDR, NULL);
	} else if (strcmp(node, "v6.test") == 0) {
		ok = add(&tail, hints, AF_INET6, "2001:db8::1", NULL);
	} else if (strcmp(node, "dual.test") == 0) {
		ok = add(&tail, hints, AF_INET, "192.0.2.10", NULL) &&
		    add(&tail, hints, AF_INET6, "2001:db8::10", NULL);
	} else if (strcmp(node, "dup.test") == 0) {
		ok = add(&tail, hints, AF_INET, "192.0.2.1", NULL) &&
		    add(&tail, hints, AF_INET, "192.0.2.2", NULL) &&
		    add(&tail, hints, AF_INET, "192.0.2.1", NULL) &&
		    add(&tail, hints, AF_INET, "192.0.2.3", NULL);
	} else if (strcmp(node, "canon.test") == 0) {
		ok = add(&tail, hints, AF_INET, "192.0.2.4", "") &&
		    add(&tail, hints, AF_INET, "192.0.2.14",
		    "canonical.example.test") &&
		    add(&tail, hints, AF_INET, "192.0.2.24", "other.test");
	} else if (strcmp(node, "empty.test") == 0) {
		rc = 0;			/* success without a single node */
	} else if (strcmp(node, "unix.test") == 0) {
		ok = add(&tail, hints, AF_UNIX, "/tmp/wk-unix", NULL) &&
		    add(&tail, hints, AF_UNSPEC, "", NULL);
	} else if (strcmp(node, "mixed.test") == 0) {
		ok = add(&tail, hints, AF_UNIX, "/tmp/wk-unix", NULL) &&
		    add(&tail, hints, AF_UNSPEC, "", NULL) &&
		    add(&tail, hints, AF_INET, "192.0.2.5", NULL);
	} else if (strcmp(node, "badflags.test") == 0) {
		if (hints->ai_flags & AI_ADDRCONFIG)
			rc = EAI_BADFLAGS;
		else
			ok = add(&tail, hints, AF_INET, "192.0.2.6", NULL);
	} else if (strcmp(node, "xn--bcher-kva.test") == 0) {
		ok = add(&tail, hints, AF_INET, "192.0.2.8", NULL);
	} else if (strcmp(node, "nodata.test") == 0) {
		rc = EAI_NODATA;
	} else if (strcmp(node, "fail.test") == 0) {
		rc = EAI_FAIL;
	} else if (strcmp(node, "again.test") == 0) {
		rc = EAI_AGAIN;
	} else if (strcmp(node, "memory.test") == 0) {
		rc = EAI_MEMORY;
	} else if (strcmp(node, "system.test") == 0) {
		rc = EAI_SYSTEM;
	} else {
		rc = EAI_NONAME;	/* nx.test and everything else */
	}
	if (!ok) {
		fake_freeaddrinfo(head, NULL);
		return EAI_MEMORY;
	}
	if (rc == 0 && head == NULL && strcmp(node, "empty.test") != 0)
		rc = EAI_NONAME;	/* the family filter left nothing */
	*res = rc == 0 ? head : NULL;
	if (rc != 0)
		fake_freeaddrinfo(head, NULL);
	return rc;
}

static int
fake_getaddrinfo(const char *node, const char *service,
    const struct addrinfo *hints, struct addrinfo **res, void *arg)
{
	struct fake_name *f;
	bool held;
	int rc, latency;

	pthread_mutex_lock(&fake.lock);
	if (arg != &fake || service != NULL || !node || !hints || !res)
		fake.bad++;
	fake.total++;
	if ((f = fake_record(node))) {
		if (f->calls++ == 0)
			f->first_flags = hints->ai_flags;
		f->last_flags = hints->ai_flags;
		f->family = hints->ai_family;
		f->socktype = hints->ai_socktype;
	} else {
		fake.bad++;
	}
	if (++fake.current > fake.peak)
		fake.peak = fake.current;
	latency = fake.latency_ms;
	held = is_held(node);
	if (held) {
		fake.held++;
		pthread_cond_broadcast(&fake.cond);
		while (!is_released(node))
			pthread_cond_wait(&fake.cond, &fake.lock);
		fake.held--;
	}
	pthread_cond_broadcast(&fake.cond);
	pthread_mutex_unlock(&fake.lock);

	if (latency > 0)
		sleep_ms(latency);	/* a slow server, simulated */
	rc = fake_answer(node, hints, res);

	pthread_mutex_lock(&fake.lock);
	fake.current--;
	pthread_cond_broadcast(&fake.cond);
	pthread_mutex_unlock(&fake.lock);
	if (rc == EAI_SYSTEM)
		errno = ECONNREFUSED;
	return rc;
}

/* Forgets everything; only called while no call is in progress. */
static void
fake_reset(void)
{
	pthread_mutex_lock(&fake.lock);
	fake.latency_ms = 0;
	fake.release_all = false;
	fake.nreleased = 0;
	fake.hold[0] = '\0';
	fake.peak = fake.current;
	fake.total = 0;
	fake.bad = 0;
	fake.nnames = 0;
	pthread_mutex_unlock(&fake.lock);
}

static void
fake_set_latency(int msecs)
{
	pthread_mutex_lock(&fake.lock);
	fake.latency_ms = msecs;
	pthread_mutex_unlock(&fake.lock);
}

static void
fake_set_hold(const char *name)
{
	pthread_mutex_lock(&fake.lock);
	snprintf(fake.hold, sizeof(fake.hold), "%s", name);
	pthread_mutex_unlock(&fake.lock);
}

static void
fake_release(const char *name)
{
	pthread_mutex_lock(&fake.lock);
	if (fake.nreleased < FAKE_RELEASED)
		snprintf(fake.released[fake.nreleased++], sizeof(fake.released[0]),
		    "%s", name);
	else
		fake.release_all = true;
	pthread_cond_broadcast(&fake.cond);
	pthread_mutex_unlock(&fake.lock);
}

static void
fake_release_all(void)
{
	pthread_mutex_lock(&fake.lock);
	fake.release_all = true;
	pthread_cond_broadcast(&fake.cond);
	pthread_mutex_unlock(&fake.lock);
}

/* Waits until at least n calls are held; false after limit_ms. */
static bool
fake_wait_held_for(unsigned n, int limit_ms)
{
	struct timespec deadline = deadline_after(limit_ms);
	bool ok;

	pthread_mutex_lock(&fake.lock);
	while (fake.held < n &&
	    pthread_cond_timedwait(&fake.cond, &fake.lock, &deadline) == 0)
		;
	ok = fake.held >= n;
	pthread_mutex_unlock(&fake.lock);
	return ok;
}

static bool
fake_wait_held(unsigned n)
{
	return fake_wait_held_for(n, WAIT_LIMIT_MS);
}

static unsigned
fake_calls(const char *name)
{
	unsigned calls = 0;

	pthread_mutex_lock(&fake.lock);
	for (size_t i = 0; i < fake.nnames; i++)
		if (strcmp(fake.names[i].name, name) == 0)
			calls = fake.names[i].calls;
	pthread_mutex_unlock(&fake.lock);
	return calls;
}

/* A copy of what the fake saw for name (calls 0 when never asked). */
static struct fake_name
fake_seen(const char *name)
{
	struct fake_name f = { .calls = 0 };

	pthread_mutex_lock(&fake.lock);
	for (size_t i = 0; i < fake.nnames; i++)
		if (strcmp(fake.names[i].name, name) == 0)
			f = fake.names[i];
	pthread_mutex_unlock(&fake.lock);
	return f;
}

#define FAKE_GET(field) ({						\
	__typeof__(fake.field) v_;					\
	pthread_mutex_lock(&fake.lock);					\
	v_ = fake.field;						\
	pthread_mutex_unlock(&fake.lock);				\
	v_;								\
})

/* ---------------------------------------------------------------- done */

/* Results delivered to on_done(), kept as copies for the test to read. */
struct rec {
	wk_hostinfo *info;
	intptr_t tag;
	pthread_t thread;
};

static struct collector {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct rec *recs;
	size_t count, cap;
	unsigned long lost;		/* copies that failed */
} col = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void
on_done(const wk_hostinfo *info, void *arg)
{
	struct rec r = { wk_hostinfo_dup(info), (intptr_t)arg,
	    pthread_self() };

	pthread_mutex_lock(&col.lock);
	if (col.count == col.cap) {
		size_t cap = col.cap ? col.cap * 2 : 64;
		struct rec *p = realloc(col.recs, cap * sizeof(*p));

		if (p) {
			col.recs = p;
			col.cap = cap;
		}
	}
	if (col.count < col.cap && r.info)
		col.recs[col.count++] = r;
	else
		col.lost++;
	pthread_cond_broadcast(&col.cond);
	pthread_mutex_unlock(&col.lock);
}

static unsigned long
col_lost(void)
{
	unsigned long n;

	pthread_mutex_lock(&col.lock);
	n = col.lost;
	pthread_mutex_unlock(&col.lock);
	return n;
}

static size_t
col_count(void)
{
	size_t n;

	pthread_mutex_lock(&col.lock);
	n = col.count + col.lost;
	pthread_mutex_unlock(&col.lock);
	return n;
}

/* Waits until n results arrived; false at the safety limit. */
static bool
col_wait(size_t n)
{
	struct timespec deadline = deadline_after(WAIT_LIMIT_MS);
	bool ok;

	pthread_mutex_lock(&col.lock);
	while (col.count + col.lost < n &&
	    pthread_cond_timedwait(&col.cond, &col.lock, &deadline) == 0)
		;
	ok = col.count + col.lost >= n;
	pthread_mutex_unlock(&col.lock);
	return ok;
}

/* The result delivered with tag, or NULL; valid until col_reset(). */
static const struct rec *
col_find(intptr_t tag)
{
	const struct rec *r = NULL;

	pthread_mutex_lock(&col.lock);
	for (size_t i = 0; i < col.count; i++)
		if (col.recs[i].tag == tag)
			r = &col.recs[i];
	pthread_mutex_unlock(&col.lock);
	return r;
}

static unsigned
col_tagged(intptr_t tag)
{
	unsigned n = 0;

	pthread_mutex_lock(&col.lock);
	for (size_t i = 0; i < col.count; i++)
		n += col.recs[i].tag == tag;
	pthread_mutex_unlock(&col.lock);
	return n;
}

static void
col_reset(void)
{
	pthread_mutex_lock(&col.lock);
	for (size_t i = 0; i < col.count; i++)
		wk_hostinfo_free(col.recs[i].info);
	free(col.recs);
	col.recs = NULL;
	col.count = col.cap = 0;
	col.lost = 0;
	pthread_mutex_unlock(&col.lock);
}

/* ---------------------------------------------------------------- helpers */

static wk_resolver_stats
stats(void)
{
	wk_resolver_stats st;

	memset(&st, 0xa5, sizeof(st));
	wk_resolver_get_stats(&st);
	return st;
}

/* Counters at the start of the test: stats are never reset. */
static wk_resolver_stats base;

#define DELTA(field) (stats().field - base.field)

/* An address as text; a small ring per thread lets one message show several. */
static const char *
fmt_addr(wk_addr a)
{
	static _Thread_local char ring[4][WK_ADDR_STRLEN];
	static _Thread_local unsigned slot;
	char *buf = ring[slot++ % ARRAY_SIZE(ring)];

	if (wk_addr_is_null(&a))
		return "<null>";
	wk_addr_format(&a, buf, WK_ADDR_STRLEN);
	return buf;
}

static bool
has_addr(const wk_hostinfo *info, const char *text)
{
	for (size_t i = 0; i < wk_hostinfo_count(info); i++)
		if (strcmp(fmt_addr(wk_hostinfo_addr(info, i)), text) == 0)
			return true;
	return false;
}

/* A successful result with exactly one address, text. */
#define ck_assert_one_addr(info, text) do {				\
	const wk_hostinfo *i_ = (info);					\
	ck_assert_ptr_nonnull(i_);					\
	ck_assert_msg(wk_hostinfo_error(i_) == WK_NO_ERROR,		\
	    "lookup of %s: %s", wk_hostinfo_name(i_),			\
	    wk_hostinfo_error_string(i_));				\
	ck_assert_uint_eq(wk_hostinfo_count(i_), 1);			\
	ck_assert_str_eq(fmt_addr(wk_hostinfo_addr(i_, 0)), (text));	\
} while (0)

#define ck_assert_code(info, code) do {					\
	const wk_hostinfo *i_ = (info);					\
	ck_assert_ptr_nonnull(i_);					\
	ck_assert_msg(wk_hostinfo_error(i_) == (code),			\
	    "lookup of \"%s\": got %s (%s), want %s",			\
	    wk_hostinfo_name(i_), wk_error_name(wk_hostinfo_error(i_)),	\
	    wk_hostinfo_error_string(i_), wk_error_name(code));		\
} while (0)

static void
lookup_ok(const char *name)
{
	wk_hostinfo *r = wk_lookup(name, WAIT_LIMIT_MS);

	ck_assert_code(r, WK_NO_ERROR);
	wk_hostinfo_free(r);
}

static bool
pred_settled(void *unused)
{
	wk_resolver_stats st = stats();

	(void)unused;
	return FAKE_GET(current) == 0 && st.queued == 0 && st.running == 0 &&
	    st.abandoned == 0;
}

static bool
pred_no_threads(void *unused)
{
	(void)unused;
	return stats().threads == 0;
}

/* The copies of resolv.conf and hosts of test_cache_watch_files. */
static char watch_dir[64], watch_resolv[128], watch_hosts[128];

static void
watch_files_done(void)
{
	if (!watch_dir[0])
		return;
	unlink(watch_hosts);
	unlink(watch_resolv);
	rmdir(watch_dir);
	watch_dir[0] = '\0';
}

/*
 * Whether a test set max_abandoned.  Until somebody does, the library
 * keeps it at 4 x max_threads, which test_pool_abandoned_default checks;
 * so it is only put back when a test changed it.
 */
static bool abandoned_set;

static bool
set_max_abandoned(int count)
{
	abandoned_set = true;
	return wk_resolver_set_max_abandoned(count);
}

static void
restore_settings(void)
{
	wk_resolver_set_max_threads(DEFAULT_MAX_THREADS);
	if (abandoned_set)
		wk_resolver_set_max_abandoned(DEFAULT_MAX_ABANDONED);
	wk_resolver_set_idle_time(DEFAULT_IDLE_MS);
	wk_resolver_set_cache(DEFAULT_CACHE_ENTRIES, DEFAULT_TTL_MS,
	    DEFAULT_NEGATIVE_TTL_MS);
}

/*
 * Fixtures.  Check forks every test by default, but valgrind runs use
 * CK_FORK=no, so each test leaves the pool as it found it: held calls
 * let go, the pool idle and shut down, the settings and backend back to
 * their defaults.
 */
static void
setup_fake(void)
{
	fake_reset();
	col_reset();
	restore_settings();
	wk_resolver_set_backend(fake_getaddrinfo, fake_freeaddrinfo, &fake);
	base = stats();
}

static void
setup_real(void)
{
	fake_reset();
	col_reset();
	restore_settings();
	wk_resolver_set_backend(NULL, NULL, NULL);
	base = stats();
}

static void
teardown(void)
{
	fake_release_all();
	poll_until(pred_settled, NULL, WAIT_LIMIT_MS);
	wk_resolver_shutdown();
	restore_settings();
	wk_resolver_set_backend(NULL, NULL, NULL);
	wk__resolver_set_watch_files(NULL, NULL);
	watch_files_done();
	col_reset();
}

/* ---------------------------------------------------------------- real */

/* "localhost" is in every /etc/hosts: safe outside the namespace. */
START_TEST(test_real_localhost_blocking)
{
	wk_hostinfo *r = wk_lookup("localhost", -1);

	ck_assert_code(r, WK_NO_ERROR);
	ck_assert_str_eq(wk_hostinfo_name(r), "localhost");
	ck_assert_msg(has_addr(r, "127.0.0.1"), "127.0.0.1 not among %zu",
	    wk_hostinfo_count(r));
	ck_assert_int_gt(wk_hostinfo_id(r), 0);
	wk_hostinfo_free(r);
}
END_TEST

START_TEST(test_real_localhost_callback)
{
	pthread_t self = pthread_self();
	const struct rec *rec;
	int64_t id = wk_lookup_start("localhost", on_done, (void *)1);

	ck_assert_int_gt(id, 0);
	ck_assert(col_wait(1));
	ck_assert_ptr_nonnull(rec = col_find(1));
	ck_assert_code(rec->info, WK_NO_ERROR);
	ck_assert_int_eq(wk_hostinfo_id(rec->info), id);
	ck_assert_str_eq(wk_hostinfo_name(rec->info), "localhost");
	ck_assert(has_addr(rec->info, "127.0.0.1"));
	ck_assert(!pthread_equal(rec->thread, self));
}
END_TEST

/*
 * A backend whose results come from getaddrinfo() itself and a NULL
 * free_fn: the pool frees them with freeaddrinfo() (valgrind checks).
 * Only "localhost" is passed on, so that nothing reaches DNS.
 */
static int
localhost_only(const char *node, const char *service,
    const struct addrinfo *hints, struct addrinfo **res, void *arg)
{
	(void)arg;
	if (strcmp(node, "localhost") != 0)
		return EAI_NONAME;
	return getaddrinfo(node, service, hints, res);
}

START_TEST(test_real_backend_null_free)
{
	wk_hostinfo *r;

	wk_resolver_set_backend(localhost_only, NULL, NULL);
	r = wk_lookup("localhost", -1);
	ck_assert_code(r, WK_NO_ERROR);
	ck_assert(has_addr(r, "127.0.0.1"));
	wk_hostinfo_free(r);
	r = wk_lookup("nx.test", -1);
	ck_assert_code(r, WK_HOST_NOT_FOUND);
	wk_hostinfo_free(r);
}
END_TEST

/* ---------------------------------------------------------------- netns */

/*
 * Literals: no getaddrinfo() call (the fake backend is installed to
 * prove it), one address, and the name from a reverse lookup that the
 * namespace's /etc/hosts answers.
 */
static const struct {
	const char *literal, *addr, *name;
} literals[] = {
	{ "127.0.0.1", "127.0.0.1", "localhost" },
	{ "::1", "::1", "localhost" },
	{ "0:0::1", "::1", "localhost" },
};

START_TEST(test_netns_literal_blocking)
{
	wk_hostinfo *r = wk_lookup(literals[_i].literal, -1);

	ck_assert_code(r, WK_NO_ERROR);
	ck_assert_uint_eq(wk_hostinfo_count(r), 1);
	ck_assert_str_eq(fmt_addr(wk_hostinfo_addr(r, 0)), literals[_i].addr);
	ck_assert_str_eq(wk_hostinfo_name(r), literals[_i].name);
	ck_assert_uint_eq(FAKE_GET(total), 0);
	wk_hostinfo_free(r);
	/* Again: the same answer, the reverse name kept. */
	r = wk_lookup(literals[_i].literal, -1);
	ck_assert_code(r, WK_NO_ERROR);
	ck_assert_str_eq(wk_hostinfo_name(r), literals[_i].name);
	wk_hostinfo_free(r);
	ck_assert_uint_eq(FAKE_GET(total), 0);
}
END_TEST

START_TEST(test_netns_literal_callback)
{
	const struct rec *rec;
	int64_t id;

	id = wk_lookup_start(literals[_i].literal, on_done, (void *)7);
	ck_assert_int_gt(id, 0);
	ck_assert(col_wait(1));
	ck_assert_ptr_nonnull(rec = col_find(7));
	ck_assert_code(rec->info, WK_NO_ERROR);
	ck_assert_int_eq(wk_hostinfo_id(rec->info), id);
	ck_assert_uint_eq(wk_hostinfo_count(rec->info), 1);
	ck_assert_str_eq(fmt_addr(wk_hostinfo_addr(rec->info, 0)),
	    literals[_i].addr);
	ck_assert_str_eq(wk_hostinfo_name(rec->info), literals[_i].name);
	ck_assert(!pthread_equal(rec->thread, pthread_self()));
	ck_assert_uint_eq(FAKE_GET(total), 0);
}
END_TEST

/*
 * A literal nobody has a name for: the reverse lookup fails (here at
 * once, against the namespace's empty 127.0.0.1) and the name is the
 * literal's formatted text, which is not an error.
 */
START_TEST(test_netns_literal_no_reverse)
{
	static const char *const texts[] = {
		"192.0.2.1", "2001:DB8::1", "fe80::1%lo", "::ffff:192.0.2.33"
	};

	for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
		wk_addr a;
		wk_hostinfo *r;

		ck_assert(wk_addr_parse(&a, texts[i]));
		r = wk_lookup(texts[i], -1);
		ck_assert_code(r, WK_NO_ERROR);
		ck_assert_uint_eq(wk_hostinfo_count(r), 1);
		ck_assert_msg(wk_addr_equal(&a, &wk_hostinfo_addrs(r)[0],
		    WK_ADDR_CMP_STRICT), "%s: got %s", texts[i],
		    fmt_addr(wk_hostinfo_addr(r, 0)));
		ck_assert_str_eq(wk_hostinfo_name(r), fmt_addr(a));
		wk_hostinfo_free(r);
	}
	ck_assert_uint_eq(FAKE_GET(total), 0);
}
END_TEST

/* A literal of the other family than asked for is no answer. */
START_TEST(test_netns_literal_family)
{
	const struct rec *rec;
	wk_hostinfo *r;

	r = wk_lookup_family("127.0.0.1", WK_FAMILY_IPV6, -1);
	ck_assert_code(r, WK_HOST_NOT_FOUND);
	ck_assert_uint_eq(wk_hostinfo_count(r), 0);
	ck_assert_str_eq(wk_hostinfo_name(r), "127.0.0.1");
	ck_assert(strncmp(wk_hostinfo_error_string(r), "lookup of 127.0.0.1: ",
	    21) == 0);
	wk_hostinfo_free(r);
	r = wk_lookup_family("::1", WK_FAMILY_IPV4, 0);
	ck_assert_code(r, WK_HOST_NOT_FOUND);
	wk_hostinfo_free(r);
	r = wk_lookup_family("127.0.0.1", WK_FAMILY_IPV4, -1);
	ck_assert_one_addr(r, "127.0.0.1");
	wk_hostinfo_free(r);
	ck_assert_int_gt(wk_lookup_start_family("::1", WK_FAMILY_IPV4, on_done,
	    (void *)3), 0);
	ck_assert(col_wait(1));
	ck_assert_ptr_nonnull(rec = col_find(3));
	ck_assert_code(rec->info, WK_HOST_NOT_FOUND);
	ck_assert_uint_eq(FAKE_GET(total), 0);
}
END_TEST

/* The last name of the last line of /etc/hosts, and its address. */
static bool
hosts_name(char *name, size_t name_size, char *addr, size_t addr_size)
{
	FILE *f = fopen("/etc/hosts", "re");
	char line[512];
	bool found = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *save, *a, *w, *last = NULL;

		if ((w = strchr(line, '#')))
			*w = '\0';
		if (!(a = strtok_r(line, " \t\r\n", &save)))
			continue;
		while ((w = strtok_r(NULL, " \t\r\n", &save)))
			last = w;
		if (!last)
			continue;
		snprintf(name, name_size, "%s", last);
		snprintf(addr, addr_size, "%s", a);
		found = true;
	}
	fclose(f);
	return found;
}

START_TEST(test_netns_hosts_name)
{
	char name[256], addr[64];
	const struct rec *rec;
	wk_addr want;
	wk_hostinfo *r;

	ck_assert(hosts_name(name, sizeof(name), addr, sizeof(addr)));
	ck_assert(wk_addr_parse(&want, addr));
	r = wk_lookup(name, -1);
	ck_assert_code(r, WK_NO_ERROR);
	ck_assert_str_eq(wk_hostinfo_name(r), name);
	ck_assert_msg(has_addr(r, fmt_addr(want)), "%s: %s not in the result",
	    name, addr);
	wk_hostinfo_free(r);
	ck_assert_int_gt(wk_lookup_start(name, on_done, (void *)5), 0);
	ck_assert(col_wait(1));
	ck_assert_ptr_nonnull(rec = col_find(5));
	ck_assert_code(rec->info, WK_NO_ERROR);
	ck_assert(has_addr(rec->info, fmt_addr(want)));
}
END_TEST

/* A name in no hosts file: the namespace's DNS fails; an error returns. */
START_TEST(test_netns_unknown_name)
{
	wk_hostinfo *r = wk_lookup("nowhere.invalid", -1);

	ck_assert_ptr_nonnull(r);
	ck_assert_int_ne(wk_hostinfo_error(r), WK_NO_ERROR);
	ck_assert_uint_eq(wk_hostinfo_count(r), 0);
	ck_assert(strncmp(wk_hostinfo_error_string(r),
	    "lookup of nowhere.invalid: ", 27) == 0);
	wk_hostinfo_free(r);
}
END_TEST

/* ---------------------------------------------------------------- pool */

/* 200 names, 20 threads: never more than 20 calls at once, 20 at the peak. */
START_TEST(test_pool_bound)
{
	enum { NAMES = 200, THREADS = 20 };
	char name[32];

	ck_assert(wk_resolver_set_max_threads(THREADS));
	fake_set_latency(50);
	for (int i = 0; i < NAMES; i++) {
		snprintf(name, sizeof(name), "host%d.test", i);
		ck_assert_int_gt(wk_lookup_start(name, on_done,
		    (void *)(intptr_t)i), 0);
	}
	ck_assert(col_wait(NAMES));
	ck_assert_uint_eq(col_lost(), 0);
	ck_assert_uint_eq(FAKE_GET(peak), THREADS);
	ck_assert_uint_eq(FAKE_GET(total), NAMES);
	ck_assert_uint_eq(FAKE_GET(bad), 0);
	ck_assert_uint_eq(DELTA(backend_calls), NAMES);
	ck_assert_uint_eq(DELTA(coalesced), 0);
	ck_assert_uint_eq(DELTA(started), NAMES);
	ck_assert_uint_le(stats().threads, THREADS);
	for (int i = 0; i < NAMES; i++) {
		const struct rec *rec = col_find(i);
		char want[32];

		ck_assert_msg(rec != NULL, "no result for host%d.test", i);
		ck_assert_uint_eq(col_tagged(i), 1);
		snprintf(name, sizeof(name), "host%d.test", i);
		snprintf(want, sizeof(want), "192.0.2.%d", i % 250);
		ck_assert_str_eq(wk_hostinfo_name(rec->info), name);
		ck_assert_one_addr(rec->info, want);
	}
}
END_TEST

static int
cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* 200 lookups of one name: one backend call, 200 results, 200 ids. */
START_TEST(test_pool_coalesce)
{
	enum { N = 200 };
	int64_t ids[N], got[N];

	for (int i = 0; i < N; i++) {
		ids[i] = wk_lookup_start("stuckone.test", on_done,
		    (void *)(intptr_t)i);
		ck_assert_int_gt(ids[i], 0);
		if (i > 0)
			ck_assert_int_gt(ids[i], ids[i - 1]);
	}
	ck_assert(fake_wait_held(1));
	ck_assert_uint_eq(DELTA(coalesced), N - 1);
	ck_assert_uint_eq(stats().queued + stats().running, 1);
	fake_release("stuckone.test");
	ck_assert(col_wait(N));
	ck_assert_uint_eq(col_lost(), 0);
	ck_assert_uint_eq(fake_calls("stuckone.test"), 1);
	ck_assert_uint_eq(FAKE_GET(total), 1);
	ck_assert_uint_eq(DELTA(backend_calls), 1);
	ck_assert_uint_eq(DELTA(coalesced), N - 1);
	for (int i = 0; i < N; i++) {
		const struct rec *rec = col_find(i);

		ck_assert_ptr_nonnull(rec);
		ck_assert_uint_eq(col_tagged(i), 1);
		ck_assert_int_eq(wk_hostinfo_id(rec->info), ids[i]);
		ck_assert_one_addr(rec->info, RELEASED_ADDR);
		got[i] = wk_hostinfo_id(rec->info);
	}
	qsort(got, N, sizeof(got[0]), cmp_id);
	for (int i = 1; i < N; i++)
		ck_assert_int_ne(got[i], got[i - 1]);
}
END_TEST

/* Blocking lookups of one name from many threads share one call too. */
struct blocker_arg {
	const char *name;
	wk_hostinfo *result;
};

static void *
blocking_lookup_thread(void *p)
{
	struct blocker_arg *a = p;

	a->result = wk_lookup(a->name, -1);
	return NULL;
}

static bool
pred_coalesced(void *n)
{
	return DELTA(coalesced) >= (uint64_t)(intptr_t)n;
}

START_TEST(test_pool_coalesce_blocking)
{
	enum { N = 8 };
	static struct blocker_arg args[N];	/* outlives a failed test */
	pthread_t t[N];
	int64_t id = wk_lookup_start("stucktwo.test", on_done, (void *)99);

	ck_assert_int_gt(id, 0);
	ck_assert(fake_wait_held(1));
	for (int i = 0; i < N; i++) {
		args[i] = (struct blocker_arg){ "stucktwo.test", NULL };
		ck_assert_int_eq(pthread_create(&t[i], NULL,
		    blocking_lookup_thread, &args[i]), 0);
	}
	/* Each blocking lookup joins the held call before it is let go. */
	ck_assert(poll_until(pred_coalesced, (void *)(intptr_t)N,
	    WAIT_LIMIT_MS));
	fake_release("stucktwo.test");
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	for (int i = 0; i < N; i++) {
		ck_assert_one_addr(args[i].result, RELEASED_ADDR);
		ck_assert_str_eq(wk_hostinfo_name(args[i].result),
		    "stucktwo.test");
		wk_hostinfo_free(args[i].result);
	}
	ck_assert(col_wait(1));
	ck_assert_uint_eq(fake_calls("stucktwo.test"), 1);
}
END_TEST

/*
 * Unless set, max_abandoned follows max_threads (4 x): with one thread
 * allowed, five threads at most, so a name started after five stuck
 * ones were abandoned waits.  CK_FORK=no runs it before any test sets
 * max_abandoned (it is the first in its case).
 */
START_TEST(test_pool_abandoned_default)
{
	wk_resolver_stats st;
	char name[32];
	int64_t id;

	ck_assert(wk_resolver_set_max_threads(1));
	for (unsigned i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "stuck%u.test", i);
		ck_assert_int_gt(id = wk_lookup_start(name, on_done, NULL), 0);
		ck_assert(fake_wait_held(i + 1));
		ck_assert(wk_lookup_abort(id));
	}
	st = stats();
	ck_assert_uint_eq(st.abandoned, 5);
	ck_assert_uint_eq(st.threads, 5);
	ck_assert_int_gt(wk_lookup_start("host1.test", on_done, (void *)1), 0);
	st = stats();
	ck_assert_uint_eq(st.queued, 1);
	ck_assert_uint_eq(st.threads, 5);
	fake_release_all();
	ck_assert(col_wait(1));
	ck_assert_one_addr(col_find(1)->info, "192.0.2.1");
	ck_assert_uint_eq(col_count(), 1);
}
END_TEST

/* 20 names stuck forever do not keep a 21st from resolving. */
START_TEST(test_pool_stuck_aborted)
{
	enum { THREADS = 20, EXTRA = 4, MORE = 10 };
	int64_t ids[THREADS], more[MORE];
	wk_resolver_stats st;
	unsigned ran = 0;
	char name[32];
	wk_hostinfo *r;

	ck_assert(wk_resolver_set_max_threads(THREADS));
	ck_assert(set_max_abandoned(EXTRA));
	for (int i = 0; i < THREADS; i++) {
		snprintf(name, sizeof(name), "stuck%d.test", i);
		ck_assert_int_gt(ids[i] = wk_lookup_start(name, on_done,
		    (void *)(intptr_t)i), 0);
	}
	ck_assert(fake_wait_held(THREADS));
	for (int i = 0; i < THREADS; i++)
		ck_assert_msg(wk_lookup_abort(ids[i]), "abort %d", i);
	st = stats();
	ck_assert_uint_eq(st.abandoned, THREADS);
	ck_assert_uint_eq(st.running, 0);
	ck_assert_uint_eq(st.queued, 0);

	r = wk_lookup("host21.test", WAIT_LIMIT_MS);
	ck_assert_one_addr(r, "192.0.2.21");
	wk_hostinfo_free(r);
	st = stats();
	ck_assert_uint_eq(st.abandoned, THREADS);
	ck_assert_uint_le(st.threads, THREADS + EXTRA);

	/* max_abandoned bounds the threads: 4 more run, the rest wait. */
	for (int i = 0; i < MORE; i++) {
		snprintf(name, sizeof(name), "stuckb%d.test", i);
		ck_assert_int_gt(more[i] = wk_lookup_start(name, on_done,
		    (void *)(intptr_t)(100 + i)), 0);
	}
	ck_assert(fake_wait_held(THREADS + EXTRA));
	st = stats();
	ck_assert_uint_eq(st.threads, THREADS + EXTRA);
	ck_assert_uint_eq(st.running, EXTRA);
	ck_assert_uint_eq(st.queued, MORE - EXTRA);
	ck_assert_uint_eq(FAKE_GET(held), THREADS + EXTRA);
	for (int i = 0; i < MORE; i++)
		ck_assert_msg(wk_lookup_abort(more[i]), "abort b%d", i);
	st = stats();
	ck_assert_uint_eq(st.abandoned, THREADS + EXTRA);
	ck_assert_uint_eq(st.queued, 0);
	ck_assert_uint_le(st.threads, THREADS + EXTRA);
	for (int i = 0; i < MORE; i++) {
		snprintf(name, sizeof(name), "stuckb%d.test", i);
		ran += fake_calls(name) > 0;
	}
	ck_assert_uint_eq(ran, EXTRA);

	/* Let go: the aborted lookups' done never runs. */
	fake_release_all();
	ck_assert(poll_until(pred_settled, NULL, WAIT_LIMIT_MS));
	ck_assert_uint_eq(col_count(), 0);
}
END_TEST

/* The same with blocking lookups abandoned on timeout. */
static bool
pred_all_in_backend(void *unused)
{
	wk_resolver_stats st = stats();

	(void)unused;
	return st.queued == 0 && st.backend_calls - base.backend_calls ==
	    FAKE_GET(total);
}

START_TEST(test_pool_stuck_timeout)
{
	enum { THREADS = 20, EXTRA = 20 };
	wk_resolver_stats st;
	char name[32];
	wk_hostinfo *r;

	ck_assert(wk_resolver_set_max_threads(THREADS));
	ck_assert(set_max_abandoned(EXTRA));
	for (int i = 0; i < THREADS; i++) {
		snprintf(name, sizeof(name), "stuck%d.test", i);
		r = wk_lookup(name, 100);
		ck_assert_code(r, WK_SOCKET_TIMEOUT);
		wk_hostinfo_free(r);
	}
	ck_assert(poll_until(pred_all_in_backend, NULL, WAIT_LIMIT_MS));
	st = stats();
	ck_assert_uint_gt(st.abandoned, 0);
	ck_assert_uint_eq(st.abandoned, FAKE_GET(held));
	ck_assert_uint_eq(st.running, 0);
	r = wk_lookup("host21.test", WAIT_LIMIT_MS);
	ck_assert_one_addr(r, "192.0.2.21");
	wk_hostinfo_free(r);
	st = stats();
	ck_assert_uint_le(st.threads, THREADS + EXTRA);
	ck_assert_uint_eq(st.abandoned, FAKE_GET(held));
}
END_TEST

/* A blocking lookup of a name stuck forever returns: a timeout. */
START_TEST(test_pool_timeout)
{
	wk_hostinfo *r = wk_lookup("stuck.test", 100);

	ck_assert_code(r, WK_SOCKET_TIMEOUT);
	ck_assert_str_eq(wk_hostinfo_name(r), "stuck.test");
	ck_assert_str_eq(wk_hostinfo_error_string(r),
	    "lookup of stuck.test: timed out");
	ck_assert_uint_eq(wk_hostinfo_count(r), 0);
	wk_hostinfo_free(r);
	/* 0 and below -1: only a cache hit could answer. */
	r = wk_lookup("stuck.test", 0);
	ck_assert_code(r, WK_SOCKET_TIMEOUT);
	wk_hostinfo_free(r);
	r = wk_lookup("Stuck.test", -7);
	ck_assert_code(r, WK_SOCKET_TIMEOUT);
	ck_assert_str_eq(wk_hostinfo_name(r), "Stuck.test");
	wk_hostinfo_free(r);
	ck_assert_uint_le(fake_calls("stuck.test"), 1);
}
END_TEST

/* Threads with nothing to do exit after the idle time. */
START_TEST(test_pool_idle_exit)
{
	char name[32];

	ck_assert(wk_resolver_set_idle_time(100));
	ck_assert(!wk_resolver_set_idle_time(-1));
	ck_assert_uint_eq(stats().threads, 0);	/* started lazily */
	fake_set_latency(20);
	for (int i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "host%d.test", i);
		ck_assert_int_gt(wk_lookup_start(name, on_done, NULL), 0);
	}
	ck_assert(col_wait(8));
	ck_assert_msg(poll_until(pred_no_threads, NULL, 30000),
	    "%u threads still alive", stats().threads);
	/* The pool starts again. */
	ck_assert_int_gt(wk_lookup_start("host9.test", on_done, NULL), 0);
	ck_assert(col_wait(9));
}
END_TEST

/*
 * Whether thread tid of this process sleeps (state S in /proc), and
 * when name is given, only if it has that name (else true).  A few
 * tests wait for a thread to block in the library before acting, so
 * that they catch what happens to a thread already waiting; the
 * assertions hold either way, and true is returned when /proc cannot
 * tell.
 */
static bool
task_sleeping(const char *tid, const char *name)
{
	char path[64], buf[256], *state;
	bool sleeping = true;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%.16s/stat", tid);
	if (!(f = fopen(path, "re")))
		return true;
	if (fgets(buf, sizeof(buf), f) && (!name || strstr(buf, name)) &&
	    (state = strrchr(buf, ')')) && state[1] == ' ')
		sleeping = state[2] == 'S';
	fclose(f);
	return sleeping;
}

/* Every "wk-resolve" thread sleeps: after its last done, it waits for work. */
static bool
pred_pool_sleeping(void *unused)
{
	struct dirent *d;
	bool sleeping = true;
	DIR *dir;

	(void)unused;
	if (!(dir = opendir("/proc/self/task")))
		return true;
	while ((d = readdir(dir)) && sleeping)
		if (d->d_name[0] != '.')
			sleeping = task_sleeping(d->d_name, "(wk-resolve)");
	closedir(dir);
	return sleeping;
}

/* A new idle time reaches the threads already idle ("look again"). */
START_TEST(test_pool_idle_change)
{
	ck_assert(wk_resolver_set_idle_time(3600000));
	ck_assert_int_gt(wk_lookup_start("host1.test", on_done, NULL), 0);
	ck_assert(col_wait(1));
	poll_until(pred_pool_sleeping, NULL, 5000);
	ck_assert(wk_resolver_set_idle_time(0));
	ck_assert_msg(poll_until(pred_no_threads, NULL, 10000),
	    "%u threads still alive with idle time 0", stats().threads);
}
END_TEST

/* Pool threads: named "wk-resolve", every signal blocked, small stacks. */
static struct {
	pthread_mutex_t lock;
	char name[32];
	int unblocked;			/* signals found unblocked */
	size_t stack;
} props = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void
props_done(const wk_hostinfo *info, void *arg)
{
	static const int sigs[] = {
		SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGALRM, SIGCHLD, SIGUSR1,
		SIGUSR2, SIGQUIT, SIGWINCH
	};
	pthread_attr_t attr;
	sigset_t set;

	pthread_mutex_lock(&props.lock);
	props.stack = 0;
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		pthread_attr_getstacksize(&attr, &props.stack);
		pthread_attr_destroy(&attr);
	}
	if (pthread_getname_np(pthread_self(), props.name,
	    sizeof(props.name)) != 0)
		props.name[0] = '\0';
	pthread_sigmask(SIG_BLOCK, NULL, &set);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		props.unblocked += !sigismember(&set, sigs[i]);
	for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
		props.unblocked += !sigismember(&set, sig);
	pthread_mutex_unlock(&props.lock);
	on_done(info, arg);
}

START_TEST(test_pool_thread_properties)
{
	ck_assert_int_gt(wk_lookup_start("host1.test", props_done, NULL), 0);
	ck_assert(col_wait(1));
	pthread_mutex_lock(&props.lock);
	ck_assert_str_eq(props.name, "wk-resolve");
	ck_assert_int_eq(props.unblocked, 0);
#if defined(__SANITIZE_ADDRESS__) || defined(WK_TSAN)
	ck_assert_uint_ge(props.stack, 256 * 1024);	/* sanitizers need more */
#else
	ck_assert_uint_eq(props.stack, 256 * 1024);
#endif
	pthread_mutex_unlock(&props.lock);
}
END_TEST

/* Raising max_threads puts the queued names to work at once. */
START_TEST(test_pool_raise_max_threads)
{
	enum { N = 6 };
	char name[32];

	ck_assert(wk_resolver_set_max_threads(1));
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "stuck%d.test", i);
		ck_assert_int_gt(wk_lookup_start(name, on_done,
		    (void *)(intptr_t)i), 0);
	}
	ck_assert(fake_wait_held(1));
	ck_assert_uint_eq(stats().queued, N - 1);
	ck_assert(wk_resolver_set_max_threads(N));
	ck_assert_msg(fake_wait_held_for(N, 10000), "%u of %d names in the "
	    "backend, %u queued, %u threads", FAKE_GET(held), N, stats().queued,
	    stats().threads);
	fake_release_all();
	ck_assert(col_wait(N));
}
END_TEST

/* Lowering it: threads over the bound take no new work. */
static struct {
	pthread_mutex_t lock;
	pthread_t threads[64];
	int count;
} workers = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void
count_thread_done(const wk_hostinfo *info, void *arg)
{
	pthread_t self = pthread_self();
	bool seen = false;

	pthread_mutex_lock(&workers.lock);
	for (int i = 0; i < workers.count; i++)
		seen |= pthread_equal(workers.threads[i], self);
	if (!seen && workers.count < (int)ARRAY_SIZE(workers.threads))
		workers.threads[workers.count++] = self;
	pthread_mutex_unlock(&workers.lock);
	on_done(info, arg);
}

START_TEST(test_pool_lower_max_threads)
{
	enum { HELD = 10, QUEUED = 30, LOW = 2 };
	char name[32];

	workers.count = 0;
	ck_assert(wk_resolver_set_max_threads(HELD));
	for (int i = 0; i < HELD; i++) {
		snprintf(name, sizeof(name), "stuck%d.test", i);
		ck_assert_int_gt(wk_lookup_start(name, on_done,
		    (void *)(intptr_t)i), 0);
	}
	ck_assert(fake_wait_held(HELD));
	for (int i = 0; i < QUEUED; i++) {
		snprintf(name, sizeof(name), "host%d.test", i);
		ck_assert_int_gt(wk_lookup_start(name, count_thread_done,
		    (void *)(intptr_t)(100 + i)), 0);
	}
	ck_assert(wk_resolver_set_max_threads(LOW));
	fake_set_latency(5);		/* every thread is back for more */
	fake_release_all();
	ck_assert(col_wait(HELD + QUEUED));
	pthread_mutex_lock(&workers.lock);
	ck_assert_msg(workers.count <= LOW, "%d threads resolved the names "
	    "queued after max_threads went down to %d", workers.count, LOW);
	pthread_mutex_unlock(&workers.lock);
}
END_TEST

START_TEST(test_pool_settings)
{
	ck_assert(!wk_resolver_set_max_threads(0));
	ck_assert(!wk_resolver_set_max_threads(-1));
	ck_assert(!wk_resolver_set_max_threads(4097));
	ck_assert(wk_resolver_set_max_threads(1));
	ck_assert(wk_resolver_set_max_threads(4096));
	ck_assert(!set_max_abandoned(-1));
	ck_assert(set_max_abandoned(0));
	ck_assert(wk_resolver_set_idle_time(0));
	ck_assert(!wk_resolver_set_cache(-1, 1, 1));
	ck_assert(!wk_resolver_set_cache(1, -1, 1));
	ck_assert(!wk_resolver_set_cache(1, 1, -1));
	wk_resolver_get_stats(NULL);	/* ignored */
}
END_TEST

/*
 * Shutdown drops queued lookups: max_threads 1 and the one thread kept
 * busy in a done callback, so that the others stay queued.
 */
static struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool entered, open;
} gate = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false };

static void
gate_done(const wk_hostinfo *info, void *arg)
{
	on_done(info, arg);
	pthread_mutex_lock(&gate.lock);
	gate.entered = true;
	pthread_cond_broadcast(&gate.cond);
	while (!gate.open)
		pthread_cond_wait(&gate.cond, &gate.lock);
	pthread_mutex_unlock(&gate.lock);
}

static void
gate_set(bool is_entered, bool is_open)
{
	pthread_mutex_lock(&gate.lock);
	gate.entered = is_entered;
	gate.open = is_open;
	pthread_cond_broadcast(&gate.cond);
	pthread_mutex_unlock(&gate.lock);
}

static void
gate_wait_entered(void)
{
	pthread_mutex_lock(&gate.lock);
	while (!gate.entered)
		pthread_cond_wait(&gate.cond, &gate.lock);
	pthread_mutex_unlock(&gate.lock);
}

static bool
pred_nothing_queued(void *unused)
{
	(void)unused;
	return stats().queued == 0;
}

/* Opens the gate once shutdown has dropped the queued lookups. */
static void *
gate_opener(void *unused)
{
	(void)unused;
	poll_until(pred_nothing_queued, NULL, WAIT_LIMIT_MS);
	gate_set(true, true);
	return NULL;
}

START_TEST(test_shutdown_queued)
{
	enum { QUEUED = 5 };
	int64_t waited;
	pthread_t opener;
	wk_hostinfo *r;
	char name[32];

	gate_set(false, false);
	ck_assert(wk_resolver_set_max_threads(1));
	ck_assert_int_gt(wk_lookup_start("host1.test", gate_done, (void *)1),
	    0);
	gate_wait_entered();
	for (int i = 0; i < QUEUED; i++) {
		snprintf(name, sizeof(name), "host%d.test", 10 + i);
		ck_assert_int_gt(wk_lookup_start(name, on_done,
		    (void *)(intptr_t)(10 + i)), 0);
	}
	ck_assert_int_gt(waited = wk_lookup_start("host20.test", NULL, NULL),
	    0);
	ck_assert_uint_eq(stats().queued, QUEUED + 1);
	ck_assert_int_eq(pthread_create(&opener, NULL, gate_opener, NULL), 0);
	wk_resolver_shutdown();
	ck_assert_int_eq(pthread_join(opener, NULL), 0);

	ck_assert_uint_eq(stats().threads, 0);
	ck_assert_uint_eq(stats().queued, 0);
	ck_assert_uint_eq(col_count(), 1);	/* only the gate's own */
	for (int i = 0; i < QUEUED; i++) {
		snprintf(name, sizeof(name), "host%d.test", 10 + i);
		ck_assert_uint_eq(fake_calls(name), 0);
	}
	r = wk_lookup_wait(waited, 0);		/* forgotten */
	ck_assert_code(r, WK_INVALID_ARGUMENT);
	wk_hostinfo_free(r);

	/* Lookups work again, both kinds. */
	r = wk_lookup("host30.test", WAIT_LIMIT_MS);
	ck_assert_one_addr(r, "192.0.2.30");
	wk_hostinfo_free(r);
	ck_assert_int_gt(wk_lookup_start("host31.test", on_done, (void *)31),
	    0);
	ck_assert(col_wait(2));
	ck_assert_one_addr(col_find(31)->info, "192.0.2.31");
	ck_assert_uint_eq(col_count(), 2);
}
END_TEST

/* Shutdown with lookups in the backend: abandoned, done never runs. */
START_TEST(test_shutdown_running)
{
	enum { N = 3 };
	wk_resolver_stats st;
	char name[32];
	wk_hostinfo *r;

	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "stuck%d.test", i);
		ck_assert_int_gt(wk_lookup_start(name, on_done,
		    (void *)(intptr_t)i), 0);
	}
	ck_assert(fake_wait_held(N));
	wk_resolver_shutdown();
	st = stats();
	ck_assert_uint_eq(st.abandoned, N);
	ck_assert_uint_eq(st.threads, N);
	ck_assert_uint_eq(st.queued, 0);
	ck_assert_uint_eq(st.running, 0);
	fake_release_all();
	ck_assert(poll_until(pred_settled, NULL, WAIT_LIMIT_MS));
	ck_assert_uint_eq(col_count(), 0);
	wk_resolver_shutdown();
	ck_assert_uint_eq(stats().threads, 0);
	/* Not cached by the orphaned calls either: asked again. */
	r = wk_lookup("stuck0.test", WAIT_LIMIT_MS);
	ck_assert_one_addr(r, RELEASED_ADDR);
	wk_hostinfo_free(r);
	ck_assert_uint_eq(fake_calls("stuck0.test"), 2);
	ck_assert_uint_eq(col_count(), 0);
}
END_TEST

/* Shutdown with callers blocked in wk_lookup() and wk_lookup_wait(). */
struct waiter_arg {
	int64_t id;
	wk_hostinfo *result;
};

static void *
waiter_thread(void *p)
{
	struct waiter_arg *a = p;

	a->result = wk_lookup_wait(a->id, WAIT_LIMIT_MS);
	return NULL;
}

START_TEST(test_shutdown_blocked_callers)
{
	/* Static: the threads may outlive a failed test (CK_FORK=no). */
	static struct blocker_arg blocked;
	static struct waiter_arg waited;
	pthread_t t[2];

	blocked = (struct blocker_arg){ "stuck1.test", NULL };
	waited = (struct waiter_arg){ 0, NULL };
	ck_assert_int_eq(pthread_create(&t[0], NULL, blocking_lookup_thread,
	    &blocked), 0);
	ck_assert(fake_wait_held(1));
	ck_assert_int_gt(waited.id = wk_lookup_start("stuck2.test", NULL,
	    NULL), 0);
	ck_assert(fake_wait_held(2));
	ck_assert_int_eq(pthread_create(&t[1], NULL, waiter_thread, &waited),
	    0);
	wk_resolver_shutdown();
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	ck_assert_ptr_nonnull(blocked.result);
	ck_assert_int_ne(wk_hostinfo_error(blocked.result), WK_NO_ERROR);
	ck_assert_ptr_nonnull(waited.result);
	ck_assert_int_ne(wk_hostinfo_error(waited.result), WK_NO_ERROR);
	wk_hostinfo_free(blocked.result);
	wk_hostinfo_free(waited.result);
	ck_assert_uint_eq(stats().abandoned, 2);
}
END_TEST

/* Shutdown with nothing running: every thread is gone when it returns. */
START_TEST(test_shutdown_idle)
{
	wk_hostinfo *r;

	ck_assert(wk_resolver_set_idle_time(3600000));	/* none exits idle */
	wk_resolver_shutdown();			/* before any lookup */
	ck_assert_uint_eq(stats().threads, 0);
	for (int i = 0; i < 5; i++)
		ck_assert_int_gt(wk_lookup_start("host1.test", on_done, NULL), 0);
	ck_assert(col_wait(5));
	ck_assert_uint_gt(stats().threads, 0);
	wk_resolver_shutdown();
	ck_assert_uint_eq(stats().threads, 0);
	/* The cache went with it. */
	r = wk_lookup("host1.test", WAIT_LIMIT_MS);
	ck_assert_one_addr(r, "192.0.2.1");
	wk_hostinfo_free(r);
	ck_assert_uint_eq(fake_calls("host1.test"), 2);
	wk_resolver_shutdown();
	wk_resolver_shutdown();
	ck_assert_uint_eq(stats().threads, 0);
}
END_TEST

/* ---------------------------------------------------------------- abort */

/* A queued lookup, aborted: no backend call, no done. */
START_TEST(test_abort_queued)
{
	int64_t stuck, queued, after;
	wk_hostinfo *r;

	ck_assert(wk_resolver_set_max_threads(1));
	ck_assert_int_gt(stuck = wk_lookup_start("stuck1.test", on_done,
	    (void *)1), 0);
	ck_assert(fake_wait_held(1));
	ck_assert_int_gt(queued = wk_lookup_start("host2.test", on_done,
	    (void *)2), 0);
	ck_assert_uint_eq(stats().queued, 1);
	ck_assert(wk_lookup_abort(queued));
	ck_assert(!wk_lookup_abort(queued));	/* gone */
	ck_assert_uint_eq(stats().queued, 0);
	ck_assert_int_gt(after = wk_lookup_start("host3.test", on_done,
	    (void *)3), 0);
	fake_release("stuck1.test");
	/* One thread, first in first out: host3 comes after host2 would. */
	ck_assert(col_wait(2));
	ck_assert_ptr_nonnull(col_find(1));
	ck_assert_ptr_nonnull(col_find(3));
	ck_assert_ptr_null(col_find(2));
	ck_assert_uint_eq(fake_calls("host2.test"), 0);
	ck_assert(!wk_lookup_abort(stuck));	/* delivered */
	ck_assert(!wk_lookup_abort(after));
	ck_assert(!wk_lookup_abort(0));
	ck_assert(!wk_lookup_abort(-1));
	ck_assert(!wk_lookup_abort(INT64_MAX));
	/* The name aborted before its call was never cached: asked now. */
	r = wk_lookup("host2.test", WAIT_LIMIT_MS);
	ck_assert_one_addr(r, "192.0.2.2");
	wk_hostinfo_free(r);
	ck_assert_uint_eq(fake_calls("host2.test"), 1);
	ck_assert_uint_eq(col_count(), 2);
}
END_TEST

/* Aborting one of several lookups of a name leaves the others alone. */
START_TEST(test_abort_coalesced)
{
	int64_t a, b, c;

	ck_assert_int_gt(a = wk_lookup_start("stuck1.test", on_done, (void *)1),
	    0);
	ck_assert_int_gt(b = wk_lookup_start("stuck1.test", on_done, (void *)2),
	    0);
	ck_assert_int_gt(c = wk_lookup_start("stuck1.test", on_done, (void *)3),
	    0);
	ck_assert(fake_wait_held(1));
	ck_assert(wk_lookup_abort(b));
	ck_assert_uint_eq(stats().abandoned, 0);
	fake_release_all();
	ck_assert(col_wait(2));
	ck_assert(poll_until(pred_settled, NULL, WAIT_LIMIT_MS));
	ck_assert_ptr_nonnull(col_find(1));
	ck_assert_ptr_null(col_find(2));
	ck_assert_ptr_nonnull(col_find(3));
	ck_assert_int_eq(wk_hostinfo_id(col_find(3)->info), c);
	ck_assert_int_eq(wk_hostinfo_id(col_find(1)->info), a);
	ck_assert_uint_eq(fake_calls("stuck1.test"), 1);
}
END_TEST

/* The same while the name is still queued: it stays queued for the other. */
START_TEST(test_abort_coalesced_queued)
{
	int64_t a, b;

	ck_assert(wk_resolver_set_max_threads(1));
	ck_assert_int_gt(wk_lookup_start("stuck1.test", on_done, (void *)1), 0);
	ck_assert(fake_wait_held(1));
	ck_assert_int_gt(a = wk_lookup_start("host2.test", on_done, (void *)2),
	    0);
	ck_assert_int_gt(b = wk_lookup_start("host2.test", on_done, (void *)3),
	    0);
	ck_assert_uint_eq(stats().queued, 1);
	ck_assert(wk_lookup_abort(a));
	ck_assert_uint_eq(stats().queued, 1);
	fake_release_all();
	ck_assert(col_wait(2));
	ck_assert(poll_until(pred_settled, NULL, WAIT_LIMIT_MS));
	ck_assert_ptr_null(col_find(2));
	ck_assert_ptr_nonnull(col_find(3));
	ck_assert_int_eq(wk_hostinfo_id(col_find(3)->info), b);
	ck_assert_one_addr(col_find(3)->info, "192.0.2.2");
	ck_assert_uint_eq(fake_calls("host2.test"), 1);
}
END_TEST

/*
 * Abort from inside a done callback: a queued lookup, then a running
 * (stuck) one, both still to be delivered, so both aborts return true.
 * The queued one goes first: abandoning the running one lets a new
 * thread start, which would take the queued name.
 */
static struct {
	int64_t targets[2];
	bool results[2];
	atomic_bool ran;
} inner;

static void
abort_from_done(const wk_hostinfo *info, void *arg)
{
	for (int i = 0; i < 2; i++)
		inner.results[i] = wk_lookup_abort(inner.targets[i]);
	atomic_store(&inner.ran, true);
	on_done(info, arg);
}

START_TEST(test_abort_from_done)
{
	wk_resolver_stats st;

	ck_assert(wk_resolver_set_max_threads(2));
	atomic_store(&inner.ran, false);
	ck_assert_int_gt(inner.targets[1] = wk_lookup_start("stuck1.test",
	    on_done, (void *)1), 0);
	ck_assert_int_gt(wk_lookup_start("stuck2.test", abort_from_done,
	    (void *)2), 0);
	ck_assert(fake_wait_held(2));
	ck_assert_int_gt(inner.targets[0] = wk_lookup_start("host5.test",
	    on_done, (void *)5), 0);
	ck_assert_uint_eq(stats().queued, 1);
	fake_release("stuck2.test");
	ck_assert(col_wait(1));
	ck_assert(atomic_load(&inner.ran));
	ck_assert_ptr_nonnull(col_find(2));
	ck_assert_msg(inner.results[0], "abort of the queued lookup");
	ck_assert_msg(inner.results[1], "abort of the running lookup");
	st = stats();
	ck_assert_uint_eq(st.queued, 0);
	ck_assert_uint_eq(st.abandoned, 1);
	fake_release_all();
	ck_assert(poll_until(pred_settled, NULL, WAIT_LIMIT_MS));
	wk_resolver_shutdown();			/* every delivery finished */
	ck_assert_uint_eq(col_count(), 1);
	ck_assert_uint_eq(fake_calls("host5.test"), 0);
	ck_assert_uint_eq(fake_calls("stuck1.test"), 1);
}
END_TEST

/* Inside its own done, a lookup is being delivered: abort says false. */
static atomic_int self_abort = -1;

static void
abort_self_done(const wk_hostinfo *info, void *arg)
{
	atomic_store(&self_abort, wk_lookup_abort(wk_hostinfo_id(info)));
	on_done(info, arg);
}

START_TEST(test_abort_self_from_done)
{
	atomic_store(&self_abort, -1);
	ck_assert_int_gt(wk_lookup_start("host1.test", abort_self_done, NULL),
	    0);
	ck_assert(col_wait(1));
	ck_assert_int_eq(atomic_load(&self_abort), 0);
	/* A cache hit's delivery too. */
	atomic_store(&self_abort, -1);
	ck_assert_int_gt(wk_lookup_start("host1.test", abort_self_done, NULL),
	    0);
	ck_assert(col_wait(2));
	ck_assert_int_eq(atomic_load(&self_abort), 0);
	ck_assert_uint_eq(DELTA(cache_hits), 1);
}
END_TEST

/* A done callback that starts another lookup. */
static void
start_from_done(const wk_hostinfo *info, void *arg)
{
	on_done(info, arg);
	if ((intptr_t)arg == 1)
		wk_lookup_start("host2.test", on_done, (void *)2);
}

START_TEST(test_start_from_done)
{
	ck_assert(wk_resolver_set_max_threads(1));
	ck_assert_int_gt(wk_lookup_start("host1.test", start_from_done,
	    (void *)1), 0);
	ck_assert(col_wait(2));
	ck_assert_one_addr(col_find(2)->info, "192.0.2.2");
}
END_TEST

/* ---------------------------------------------------------------- race */

/*
 * Abort racing delivery: started, then aborted at once from this
 * thread, 10,000 times.  Whenever abort returned true, done must never
 * run; whenever it returned false, done must run exactly once.
 */
#define RACE_ROUNDS 10000

static atomic_int race_ran[RACE_ROUNDS];
static atomic_int race_bad;		/* wrong results delivered */
static atomic_int race_total;
static bool race_aborted[RACE_ROUNDS];

static void
race_done(const wk_hostinfo *info, void *arg)
{
	intptr_t i = (intptr_t)arg;

	if (wk_hostinfo_error(info) != WK_NO_ERROR ||
	    strcmp(fmt_addr(wk_hostinfo_addr(info, 0)), RELEASED_ADDR) != 0)
		atomic_fetch_add(&race_bad, 1);
	if (i >= 0 && i < RACE_ROUNDS)
		atomic_fetch_add(&race_ran[i], 1);
	atomic_fetch_add(&race_total, 1);
}

struct race_want {
	int total;
};

static bool
pred_race_delivered(void *p)
{
	return atomic_load(&race_total) >= ((struct race_want *)p)->total;
}

static void
race_loop(const char *name)
{
	struct race_want want = { 0 };
	int both = 0, twice = 0, missing = 0, aborted = 0;

	atomic_store(&race_bad, 0);
	atomic_store(&race_total, 0);
	for (int i = 0; i < RACE_ROUNDS; i++)
		atomic_store(&race_ran[i], 0);
	for (int i = 0; i < RACE_ROUNDS; i++) {
		int64_t id = wk_lookup_start(name, race_done,
		    (void *)(intptr_t)i);

		ck_assert_int_gt(id, 0);
		race_aborted[i] = wk_lookup_abort(id);
		if (!race_aborted[i])
			want.total++;
	}
	/* Every lookup abort could not stop is delivered; then settle. */
	ck_assert(poll_until(pred_race_delivered, &want, WAIT_LIMIT_MS));
	ck_assert(poll_until(pred_settled, NULL, WAIT_LIMIT_MS));
	wk_resolver_shutdown();		/* no thread is left delivering */
	for (int i = 0; i < RACE_ROUNDS; i++) {
		int ran = atomic_load(&race_ran[i]);

		aborted += race_aborted[i];
		both += race_aborted[i] && ran > 0;
		twice += ran > 1;
		missing += !race_aborted[i] && ran == 0;
	}
	ck_assert_msg(both == 0, "%d of %d lookups: done ran although abort "
	    "returned true", both, aborted);
	ck_assert_msg(twice == 0, "%d lookups: done ran twice", twice);
	ck_assert_msg(missing == 0, "%d lookups: abort returned false but done "
	    "never ran", missing);
	ck_assert_int_eq(atomic_load(&race_bad), 0);
	ck_assert_int_eq(atomic_load(&race_total), RACE_ROUNDS - aborted);
}

/* No cache: every round's lookup is queued, running or delivering. */
START_TEST(test_race_abort_running)
{
	ck_assert(wk_resolver_set_cache(0, 0, 0));
	race_loop("fast.test");
}
END_TEST

/* Cached: every round after the first is a delivery of a cache hit. */
START_TEST(test_race_abort_cached)
{
	race_loop("fastc.test");
	ck_assert_uint_le(fake_calls("fastc.test"), RACE_ROUNDS);
}
END_TEST

/*
 * done == NULL: abort true means wait knows nothing of the id; abort
 * false means the result is (being) delivered and wait collects it.
 */
START_TEST(test_race_abort_waited)
{
	int wrong = 0, aborted = 0;

	ck_assert(wk_resolver_set_cache(0, 0, 0));
	for (int i = 0; i < RACE_ROUNDS; i++) {
		int64_t id = wk_lookup_start("fast.test", NULL, NULL);
		bool ok;
		wk_hostinfo *r;

		ck_assert_int_gt(id, 0);
		ok = wk_lookup_abort(id);
		r = wk_lookup_wait(id, ok ? 0 : WAIT_LIMIT_MS);
		aborted += ok;
		if (ok)
			wrong += wk_hostinfo_error(r) != WK_INVALID_ARGUMENT;
		else
			wrong += wk_hostinfo_error(r) != WK_NO_ERROR ||
			    wk_hostinfo_id(r) != id;
		wk_hostinfo_free(r);
	}
	ck_assert_msg(wrong == 0, "%d of %d rounds (%d aborted) went wrong",
	    wrong, RACE_ROUNDS, aborted);
}
END_TEST

/*
 * A blocking lookup whose deadline passes while its answer is being
 * delivered must neither lose the answer's memory nor touch freed
 * memory (a sanitizer or valgrind build shows the latter).
 */
START_TEST(test_race_blocking_timeout)
{
	int ok = 0, timeout = 0, other = 0;

	ck_assert(wk_resolver_set_cache(0, 0, 0));
	fake_set_latency(1);		/* answers arrive around the deadlines */
	for (int i = 0; i < RACE_ROUNDS / 5; i++) {
		wk_hostinfo *r = wk_lookup("fast.test", i % 3);

		if (wk_hostinfo_error(r) == WK_NO_ERROR)
			ok++;
		else if (wk_hostinfo_error(r) == WK_SOCKET_TIMEOUT)
			timeout++;
		else
			other++;
		wk_hostinfo_free(r);
	}
	ck_assert_int_eq(other, 0);
	ck_assert_int_eq(ok + timeout, RACE_ROUNDS / 5);
}
END_TEST

/*
 * Everything at once from several threads: blocking lookups with short
 * deadlines, callback and waited lookups, aborts, cache clears, over a
 * few names in a two-entry cache whose entries expire within
 * milliseconds.  Each result must be right, each done must run exactly
 * once unless abort returned true, and then never.
 */
#define MIX_THREADS 4
#define MIX_ROUNDS 2000
#define MIX_NAMES 6

struct mix_lookup {
	atomic_int ran;
	atomic_int wrong;
	int name;
	bool aborted;
};

static struct mix_lookup mix[MIX_THREADS][MIX_ROUNDS];
static atomic_int mix_delivered;

static bool
mix_addr_ok(const wk_hostinfo *info, int name)
{
	char want[32];

	snprintf(want, sizeof(want), "192.0.2.%d", name);
	return wk_hostinfo_error(info) == WK_NO_ERROR &&
	    wk_hostinfo_count(info) == 1 &&
	    strcmp(fmt_addr(wk_hostinfo_addr(info, 0)), want) == 0;
}

static void
mix_done(const wk_hostinfo *info, void *arg)
{
	struct mix_lookup *m = arg;

	if (!mix_addr_ok(info, m->name))
		atomic_fetch_add(&m->wrong, 1);
	atomic_fetch_add(&m->ran, 1);
	atomic_fetch_add(&mix_delivered, 1);
}

struct mix_thread {
	int index;
	int errors;		/* wrong blocking or waited results */
	int expected;		/* callbacks that must arrive */
};

static void
mix_one(struct mix_thread *t, int round, unsigned *seed)
{
	struct mix_lookup *m = &mix[t->index][round];
	int op = rand_r(seed) % 10;
	char name[32];
	wk_hostinfo *r;
	int64_t id;

	m->name = rand_r(seed) % MIX_NAMES;
	snprintf(name, sizeof(name), "host%d.test", m->name);
	if (op < 3) {			/* blocking, often timing out */
		r = wk_lookup(name, op == 0 ? -1 : rand_r(seed) % 3);
		if (wk_hostinfo_error(r) != WK_SOCKET_TIMEOUT &&
		    !mix_addr_ok(r, m->name))
			t->errors++;
		wk_hostinfo_free(r);
	} else if (op < 7) {		/* callback, aborted half the time */
		if ((id = wk_lookup_start(name, mix_done, m)) <= 0) {
			t->errors++;
			return;
		}
		m->aborted = (op & 1) && wk_lookup_abort(id);
		t->expected += !m->aborted;
	} else if (op < 9) {		/* collected with wait, or aborted */
		if ((id = wk_lookup_start(name, NULL, NULL)) <= 0) {
			t->errors++;
			return;
		}
		if (op == 8 && wk_lookup_abort(id))
			return;
		r = wk_lookup_wait(id, WAIT_LIMIT_MS);
		if (!mix_addr_ok(r, m->name) || wk_hostinfo_id(r) != id)
			t->errors++;
		wk_hostinfo_free(r);
	} else {
		wk_resolver_clear_cache();
	}
}

static void *
mix_thread(void *p)
{
	struct mix_thread *t = p;
	unsigned seed = 12345u + (unsigned)t->index;

	for (int i = 0; i < MIX_ROUNDS; i++)
		mix_one(t, i, &seed);
	return NULL;
}

static bool
pred_mix_delivered(void *p)
{
	return atomic_load(&mix_delivered) >= *(int *)p;
}

START_TEST(test_race_mixed)
{
	struct mix_thread t[MIX_THREADS];
	pthread_t tid[MIX_THREADS];
	int expected = 0, errors = 0, both = 0, twice = 0, missing = 0;
	int wrong = 0;

	memset(mix, 0, sizeof(mix));
	atomic_store(&mix_delivered, 0);
	ck_assert(wk_resolver_set_cache(2, 2, 2));
	ck_assert(wk_resolver_set_max_threads(4));
	ck_assert(set_max_abandoned(8));
	for (int i = 0; i < MIX_THREADS; i++) {
		t[i] = (struct mix_thread){ i, 0, 0 };
		ck_assert_int_eq(pthread_create(&tid[i], NULL, mix_thread,
		    &t[i]), 0);
	}
	for (int i = 0; i < MIX_THREADS; i++) {
		ck_assert_int_eq(pthread_join(tid[i], NULL), 0);
		expected += t[i].expected;
		errors += t[i].errors;
	}
	ck_assert(poll_until(pred_mix_delivered, &expected, WAIT_LIMIT_MS));
	ck_assert(poll_until(pred_settled, NULL, WAIT_LIMIT_MS));
	wk_resolver_shutdown();
	for (int i = 0; i < MIX_THREADS; i++) {
		for (int j = 0; j < MIX_ROUNDS; j++) {
			int ran = atomic_load(&mix[i][j].ran);

			both += mix[i][j].aborted && ran > 0;
			twice += ran > 1;
			wrong += atomic_load(&mix[i][j].wrong);
		}
	}
	missing = expected - (atomic_load(&mix_delivered) - both);
	ck_assert_msg(errors == 0, "%d wrong blocking or waited results",
	    errors);
	ck_assert_msg(wrong == 0, "%d wrong results delivered", wrong);
	ck_assert_msg(both == 0, "%d aborted lookups delivered", both);
	ck_assert_msg(twice == 0, "%d lookups delivered twice", twice);
	ck_assert_msg(missing == 0, "%d lookups never delivered", missing);
	ck_assert_uint_le(FAKE_GET(peak), 4 + 8);
}
END_TEST

/* ---------------------------------------------------------------- cache */

START_TEST(test_cache_blocking)
{
	wk_hostinfo *a, *b;

	a = wk_lookup("host1.test", WAIT_LIMIT_MS);
	ck_assert_one_addr(a, "192.0.2.1");
	ck_assert_uint_eq(DELTA(cache_hits), 0);
	b = wk_lookup("HOST1.test", 0);		/* a hit needs no time */
	ck_assert_one_addr(b, "192.0.2.1");
	ck_assert_str_eq(wk_hostinfo_name(b), "HOST1.test");
	ck_assert_int_gt(wk_hostinfo_id(b), wk_hostinfo_id(a));
	ck_assert_uint_eq(fake_calls("host1.test"), 1);
	ck_assert_uint_eq(DELTA(cache_hits), 1);
	ck_assert_uint_eq(DELTA(started), 2);
	wk_hostinfo_free(a);
	wk_hostinfo_free(b);
}
END_TEST

/* A blocking cache hit needs no pool thread: answered in the caller's. */
START_TEST(test_cache_hit_busy_pool)
{
	wk_hostinfo *r;

	lookup_ok("host1.test");
	ck_assert(wk_resolver_set_max_threads(1));
	ck_assert_int_gt(wk_lookup_start("stuck1.test", on_done, (void *)1), 0);
	ck_assert(fake_wait_held(1));
	r = wk_lookup("host1.test", 0);
	ck_assert_one_addr(r, "192.0.2.1");
	wk_hostinfo_free(r);
	r = wk_lookup("host1.test", -1);
	ck_assert_one_addr(r, "192.0.2.1");
	wk_hostinfo_free(r);
	ck_assert_uint_eq(DELTA(cache_hits), 2);
	ck_assert_uint_eq(stats().threads, 1);
}
END_TEST

START_TEST(test_cache_callback)
{
	const struct rec *rec;
	int64_t id;

	ck_assert_int_gt(wk_lookup_start("host2.test", on_done, (void *)1), 0);
	ck_assert(col_wait(1));
	ck_assert_int_gt(id = wk_lookup_start("host2.test", on_done, (void *)2),
	    0);
	ck_assert(col_wait(2));
	ck_assert_ptr_nonnull(rec = col_find(2));
	ck_assert_one_addr(rec->info, "192.0.2.2");
	ck_assert_int_eq(wk_hostinfo_id(rec->info), id);
	ck_assert(!pthread_equal(rec->thread, pthread_self()));
	ck_assert_uint_eq(fake_calls("host2.test"), 1);
	ck_assert_uint_eq(DELTA(cache_hits), 1);
	/* A blocking lookup finds what a callback lookup left, and back. */
	wk_hostinfo_free(wk_lookup("host3.test", WAIT_LIMIT_MS));
	ck_assert_int_gt(wk_lookup_start("host3.test", on_done, (void *)3), 0);
	ck_assert(col_wait(3));
	ck_assert_one_addr(col_find(3)->info, "192.0.2.3");
	ck_assert_uint_eq(fake_calls("host3.test"), 1);
	ck_assert_uint_eq(DELTA(cache_hits), 2);
}
END_TEST

/* Positive answers expire after the TTL; blocking and callback lookups. */
START_TEST(test_cache_ttl)
{
	wk_hostinfo *r;

	ck_assert(wk_resolver_set_cache(128, 100, 50));
	r = wk_lookup("host4.test", WAIT_LIMIT_MS);
	ck_assert_one_addr(r, "192.0.2.4");
	wk_hostinfo_free(r);
	sleep_ms(300);				/* past the TTL */
	r = wk_lookup("host4.test", WAIT_LIMIT_MS);
	ck_assert_one_addr(r, "192.0.2.4");
	wk_hostinfo_free(r);
	ck_assert_uint_eq(fake_calls("host4.test"), 2);

	ck_assert_int_gt(wk_lookup_start("host5.test", on_done, (void *)1), 0);
	ck_assert(col_wait(1));
	sleep_ms(300);
	ck_assert_int_gt(wk_lookup_start("host5.test", on_done, (void *)2), 0);
	ck_assert(col_wait(2));
	ck_assert_one_addr(col_find(2)->info, "192.0.2.5");
	ck_assert_uint_eq(fake_calls("host5.test"), 2);
}
END_TEST

/* WK_HOST_NOT_FOUND is cached for the negative TTL; other errors not. */
START_TEST(test_cache_negative)
{
	wk_hostinfo *r;

	ck_assert(wk_resolver_set_cache(128, 60000, 60000));
	for (int i = 0; i < 2; i++) {
		r = wk_lookup("nx.test", WAIT_LIMIT_MS);
		ck_assert_code(r, WK_HOST_NOT_FOUND);
		wk_hostinfo_free(r);
		r = wk_lookup("again.test", WAIT_LIMIT_MS);
		ck_assert_code(r, WK_UNKNOWN);
		wk_hostinfo_free(r);
	}
	ck_assert_uint_eq(fake_calls("nx.test"), 1);
	ck_assert_uint_eq(fake_calls("again.test"), 2);
	ck_assert_uint_eq(DELTA(cache_hits), 1);

	/* A short negative TTL: asked again once it passed. */
	wk_resolver_clear_cache();
	ck_assert(wk_resolver_set_cache(128, 60000, 50));
	r = wk_lookup("nx.test", WAIT_LIMIT_MS);
	ck_assert_code(r, WK_HOST_NOT_FOUND);
	wk_hostinfo_free(r);
	wk_hostinfo_free(wk_lookup("host6.test", WAIT_LIMIT_MS));
	ck_assert_uint_eq(fake_calls("nx.test"), 2);
	sleep_ms(300);				/* past the negative TTL */
	r = wk_lookup("nx.test", WAIT_LIMIT_MS);
	ck_assert_code(r, WK_HOST_NOT_FOUND);
	wk_hostinfo_free(r);
	ck_assert_uint_eq(fake_calls("nx.test"), 3);
	/* The positive answer, same age, is still there. */
	r = wk_lookup("host6.test", 0);
	ck_assert_one_addr(r, "192.0.2.6");
	wk_hostinfo_free(r);
	ck_assert_uint_eq(fake_calls("host6.test"), 1);

	/* Negative TTL 0: not cached. */
	ck_assert(wk_resolver_set_cache(128, 60000, 0));
	wk_hostinfo_free(wk_lookup("fail.test", WAIT_LIMIT_MS));
	wk_hostinfo_free(wk_lookup("fail.test", WAIT_LIMIT_MS));
	ck_assert_uint_eq(fake_calls("fail.test"), 2);
}
END_TEST

START_TEST(test_cache_disabled)
{
	ck_assert(wk_resolver_set_cache(0, 60000, 5000));
	for (int i = 0; i < 3; i++) {
		wk_hostinfo *r = wk_lookup("host7.test", WAIT_LIMIT_MS);

		ck_assert_one_addr(r, "192.0.2.7");
		wk_hostinfo_free(r);
		ck_assert_int_gt(wk_lookup_start("host7.test", on_done, NULL),
		    0);
		ck_assert(col_wait((size_t)i + 1));
	}
	ck_assert_uint_eq(fake_calls("host7.test"), 6);
	ck_assert_uint_eq(DELTA(cache_hits), 0);
	/* Turning it off drops what it held. */
	ck_assert(wk_resolver_set_cache(128, 60000, 5000));
	wk_hostinfo_free(wk_lookup("host8.test", WAIT_LIMIT_MS));
	ck_assert(wk_resolver_set_cache(0, 60000, 5000));
	ck_assert(wk_resolver_set_cache(128, 60000, 5000));
	wk_hostinfo_free(wk_lookup("host8.test", WAIT_LIMIT_MS));
	ck_assert_uint_eq(fake_calls("host8.test"), 2);
}
END_TEST

/* Two entries, three names: the least recently used one goes. */
START_TEST(test_cache_lru)
{
	ck_assert(wk_resolver_set_cache(2, 60000, 5000));
	lookup_ok("host1.test");		/* [1] */
	lookup_ok("host2.test");		/* [1 2] */
	lookup_ok("host1.test");		/* hit: [2 1] */
	lookup_ok("host3.test");		/* [1 3], 2 dropped */
	lookup_ok("host1.test");		/* hit: [3 1] */
	ck_assert_uint_eq(fake_calls("host1.test"), 1);
	lookup_ok("host2.test");		/* miss: [1 2], 3 dropped */
	ck_assert_uint_eq(fake_calls("host2.test"), 2);
	lookup_ok("host1.test");		/* hit */
	ck_assert_uint_eq(fake_calls("host1.test"), 1);
	lookup_ok("host3.test");		/* miss */
	ck_assert_uint_eq(fake_calls("host3.test"), 2);
	ck_assert_uint_eq(DELTA(cache_hits), 3);
	/* Shrinking the cache drops the oldest at once: [1 3] -> [3]. */
	ck_assert(wk_resolver_set_cache(1, 60000, 5000));
	lookup_ok("host3.test");
	lookup_ok("host2.test");
	ck_assert_uint_eq(fake_calls("host3.test"), 2);
	ck_assert_uint_eq(fake_calls("host2.test"), 3);
}
END_TEST

START_TEST(test_cache_clear)
{
	lookup_ok("host1.test");
	lookup_ok("host1.test");
	ck_assert_uint_eq(fake_calls("host1.test"), 1);
	wk_resolver_clear_cache();
	lookup_ok("host1.test");
	ck_assert_uint_eq(fake_calls("host1.test"), 2);
	/* Setting the backend clears it too. */
	wk_resolver_set_backend(fake_getaddrinfo, fake_freeaddrinfo, &fake);
	lookup_ok("host1.test");
	ck_assert_uint_eq(fake_calls("host1.test"), 3);
	wk_resolver_clear_cache();		/* empty: nothing happens */
	wk_resolver_clear_cache();
}
END_TEST

/* ------------------------------------------------- cache: watched files */

static void
write_file(const char *path, const char *text, time_t mtime)
{
	struct timespec times[2] = { { mtime, 0 }, { mtime, 0 } };
	FILE *f = fopen(path, "we");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(utimensat(AT_FDCWD, path, times, 0), 0);
}


START_TEST(test_cache_watch_files)
{
	snprintf(watch_dir, sizeof(watch_dir), "/tmp/wk-lookup-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(watch_dir));
	snprintf(watch_resolv, sizeof(watch_resolv), "%s/resolv.conf",
	    watch_dir);
	snprintf(watch_hosts, sizeof(watch_hosts), "%s/hosts", watch_dir);
	write_file(watch_resolv, "nameserver 127.0.0.1\n", 1000000000);
	write_file(watch_hosts, "127.0.0.1 localhost\n", 1000000000);
	wk__resolver_set_watch_files(watch_resolv, watch_hosts);

	lookup_ok("host1.test");		/* miss */
	lookup_ok("host1.test");		/* hit */
	ck_assert_uint_eq(fake_calls("host1.test"), 1);
	write_file(watch_hosts, "127.0.0.1 localhost\n192.0.2.1 a.test\n",
	    1100000000);
	sleep_ms(1200);				/* files are looked at once a second */
	lookup_ok("host1.test");		/* flushed: asked again */
	ck_assert_uint_eq(fake_calls("host1.test"), 2);
	lookup_ok("host1.test");
	ck_assert_uint_eq(fake_calls("host1.test"), 2);

	/* resolv.conf too, and a callback lookup notices it as well. */
	write_file(watch_resolv, "nameserver 127.0.0.2\n", 1200000000);
	sleep_ms(1200);
	ck_assert_int_gt(wk_lookup_start("host1.test", on_done, NULL), 0);
	ck_assert(col_wait(1));
	ck_assert_uint_eq(fake_calls("host1.test"), 3);

	/* A file that vanishes is a change as well. */
	ck_assert_int_eq(unlink(watch_hosts), 0);
	sleep_ms(1200);
	lookup_ok("host1.test");
	ck_assert_uint_eq(fake_calls("host1.test"), 4);
}
END_TEST

/* ---------------------------------------------------------------- request */

/* Names refused before the pool: never a backend call. */
static char name_254[255], label_64[70], ace_long[200];

static const char *const refused[] = {
	"", name_254, label_64, "a..b", "\xff.test", ".", "..", ".test",
	"a.test..", "\xc3\x28.test", "\xed\xa0\x80.test",
	ace_long,			/* 184 bytes, over 253 as ACE */
	"\xe2\x98\x83.test",		/* U+2603, disallowed by IDNA2008 */
	"a\xe2\x80\x8d" "b.test",		/* U+200D out of its context */
};

static void
make_long_names(void)
{
	/* Four labels: 63 + 1 + 63 + 1 + 63 + 1 + 62 = 254 bytes. */
	memset(name_254, 'a', 254);
	name_254[63] = name_254[127] = name_254[191] = '.';
	name_254[254] = '\0';
	memset(label_64, 'b', 64);
	strcpy(label_64 + 64, ".test");
	/* 60 labels "\xc3\xbc" (u-umlaut), 8 bytes each as "xn--tda.". */
	ace_long[0] = '\0';
	for (int i = 0; i < 60; i++)
		strcat(ace_long, "\xc3\xbc.");
	strcat(ace_long, "test");
}

static void
check_refusal(const wk_hostinfo *r, const char *name)
{
	const char *s = wk_hostinfo_error_string(r), *reason;

	ck_assert_code(r, WK_HOST_NOT_FOUND);
	ck_assert_str_eq(wk_hostinfo_name(r), name);
	ck_assert_uint_eq(wk_hostinfo_count(r), 0);
	ck_assert_ptr_null(wk_hostinfo_addrs(r));
	ck_assert_msg(strncmp(s, "lookup of ", 10) == 0, "%s", s);
	ck_assert_ptr_nonnull(reason = strstr(s, ": "));
	ck_assert_msg(strlen(reason + 2) > 0, "no reason: %s", s);
}

START_TEST(test_request_refused_blocking)
{
	const char *name = refused[_i];
	wk_hostinfo *r;

	make_long_names();
	r = wk_lookup(name, WAIT_LIMIT_MS);
	check_refusal(r, name);
	ck_assert_int_gt(wk_hostinfo_id(r), 0);
	wk_hostinfo_free(r);
	r = wk_lookup(name, 0);			/* refused beats timed out */
	check_refusal(r, name);
	wk_hostinfo_free(r);
	r = wk_lookup_family(name, WK_FAMILY_IPV6, 0);
	check_refusal(r, name);
	wk_hostinfo_free(r);
	ck_assert_uint_eq(FAKE_GET(total), 0);
	ck_assert_uint_eq(DELTA(backend_calls), 0);
}
END_TEST

START_TEST(test_request_refused_callback)
{
	const char *name = refused[_i];
	const struct rec *rec;
	wk_hostinfo *r;
	int64_t id, waited;

	make_long_names();
	ck_assert_int_gt(id = wk_lookup_start(name, on_done, (void *)1), 0);
	ck_assert(col_wait(1));
	ck_assert_ptr_nonnull(rec = col_find(1));
	check_refusal(rec->info, name);
	ck_assert_int_eq(wk_hostinfo_id(rec->info), id);
	ck_assert_msg(!pthread_equal(rec->thread, pthread_self()),
	    "done ran in the caller's thread");
	/* And collected with wait. */
	ck_assert_int_gt(waited = wk_lookup_start(name, NULL, NULL), 0);
	r = wk_lookup_wait(waited, 0);
	check_refusal(r, name);
	ck_assert_int_eq(wk_hostinfo_id(r), waited);
	wk_hostinfo_free(r);
	ck_assert_uint_eq(FAKE_GET(total), 0);
	ck_assert_uint_eq(DELTA(backend_calls), 0);
}
END_TEST

/* The longest accepted names do reach the backend. */
START_TEST(test_request_limits)
{
	char name[300];

	memset(name, 'a', 253);
	name[63] = name[127] = name[191] = '.';
	name[253] = '\0';
	wk_hostinfo_free(wk_lookup(name, WAIT_LIMIT_MS));
	ck_assert_uint_eq(fake_calls(name), 1);
	strcat(name, ".");			/* fully qualified: 254 */
	wk_hostinfo_free(wk_lookup(name, WAIT_LIMIT_MS));
	ck_assert_uint_eq(fake_calls(name), 1);
	memset(name, 'c', 63);
	strcpy(name + 63, ".test");
	wk_hostinfo_free(wk_lookup(name, WAIT_LIMIT_MS));
	ck_assert_uint_eq(fake_calls(name), 1);
	wk_hostinfo_free(wk_lookup("host1.test.", WAIT_LIMIT_MS));
	ck_assert_uint_eq(fake_calls("host1.test."), 1);
	ck_assert_uint_eq(FAKE_GET(total), 4);
}
END_TEST

START_TEST(test_request_invalid)
{
	wk_hostinfo *r;

	r = wk_lookup(NULL, -1);
	ck_assert_code(r, WK_INVALID_ARGUMENT);
	ck_assert_ptr_nonnull(wk_hostinfo_error_string(r));
	ck_assert_uint_eq(wk_hostinfo_count(r), 0);
	wk_hostinfo_free(r);
	r = wk_lookup_family(NULL, WK_FAMILY_IPV4, 0);
	ck_assert_code(r, WK_INVALID_ARGUMENT);
	wk_hostinfo_free(r);
	ck_assert_int_eq(wk_lookup_start(NULL, on_done, NULL), -1);
	ck_assert_int_eq(wk_lookup_start(NULL, NULL, NULL), -1);
	ck_assert_int_eq(wk_lookup_start_family(NULL, WK_FAMILY_ANY, on_done,
	    NULL), -1);
	for (int f = -1; f < 100; f++) {
		if (f == WK_FAMILY_NONE || f == WK_FAMILY_IPV4 ||
		    f == WK_FAMILY_IPV6 || f == WK_FAMILY_ANY)
			continue;
		r = wk_lookup_family("host1.test", (wk_family)f, -1);
		ck_assert_code(r, WK_INVALID_ARGUMENT);
		wk_hostinfo_free(r);
		ck_assert_int_eq(wk_lookup_start_family("host1.test",
		    (wk_family)f, on_done, NULL), -1);
	}
	ck_assert_uint_eq(FAKE_GET(total), 0);
	ck_assert_uint_eq(col_count(), 0);
}
END_TEST

/* The backend sees the family asked for, and the contract's hints. */
static const struct {
	wk_family family;
	int ai_family;
	const char *addrs[3];
} families[] = {
	{ WK_FAMILY_IPV4, AF_INET, { "192.0.2.10", NULL } },
	{ WK_FAMILY_IPV6, AF_INET6, { "2001:db8::10", NULL } },
	{ WK_FAMILY_ANY, AF_UNSPEC, { "192.0.2.10", "2001:db8::10", NULL } },
	{ WK_FAMILY_NONE, AF_UNSPEC, { "192.0.2.10", "2001:db8::10", NULL } },
};

static void
check_family_result(const wk_hostinfo *r, int row)
{
	size_t n = 0;

	ck_assert_code(r, WK_NO_ERROR);
	while (families[row].addrs[n])
		n++;
	ck_assert_uint_eq(wk_hostinfo_count(r), n);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(fmt_addr(wk_hostinfo_addr(r, i)),
		    families[row].addrs[i]);
}

START_TEST(test_request_family_blocking)
{
	struct fake_name seen;
	wk_hostinfo *r;

	r = wk_lookup_family("dual.test", families[_i].family, WAIT_LIMIT_MS);
	check_family_result(r, _i);
	wk_hostinfo_free(r);
	seen = fake_seen("dual.test");
	ck_assert_uint_eq(seen.calls, 1);
	ck_assert_int_eq(seen.family, families[_i].ai_family);
	ck_assert_int_eq(seen.socktype, SOCK_STREAM);
	ck_assert(seen.first_flags & AI_ADDRCONFIG);
	ck_assert(seen.first_flags & AI_CANONNAME);
	ck_assert_uint_eq(FAKE_GET(bad), 0);
}
END_TEST

START_TEST(test_request_family_callback)
{
	struct fake_name seen;

	ck_assert_int_gt(wk_lookup_start_family("dual.test",
	    families[_i].family, on_done, (void *)1), 0);
	ck_assert(col_wait(1));
	check_family_result(col_find(1)->info, _i);
	seen = fake_seen("dual.test");
	ck_assert_uint_eq(seen.calls, 1);
	ck_assert_int_eq(seen.family, families[_i].ai_family);
	ck_assert_uint_eq(FAKE_GET(bad), 0);
}
END_TEST

/* Each family is its own cache entry; NONE and ANY are the same one. */
START_TEST(test_request_family_keys)
{
	wk_hostinfo *r;

	wk_hostinfo_free(wk_lookup_family("dual.test", WK_FAMILY_IPV4, -1));
	wk_hostinfo_free(wk_lookup_family("dual.test", WK_FAMILY_IPV6, -1));
	wk_hostinfo_free(wk_lookup_family("dual.test", WK_FAMILY_ANY, -1));
	ck_assert_uint_eq(fake_calls("dual.test"), 3);
	r = wk_lookup_family("dual.test", WK_FAMILY_NONE, 0);
	check_family_result(r, 3);
	wk_hostinfo_free(r);
	r = wk_lookup_family("dual.test", WK_FAMILY_IPV6, 0);
	check_family_result(r, 1);
	wk_hostinfo_free(r);
	ck_assert_uint_eq(fake_calls("dual.test"), 3);
	r = wk_lookup_family("v6.test", WK_FAMILY_IPV4, -1);
	ck_assert_code(r, WK_HOST_NOT_FOUND);
	wk_hostinfo_free(r);
}
END_TEST

/* EAI_BADFLAGS: asked again without AI_ADDRCONFIG, and that answers. */
START_TEST(test_request_badflags)
{
	struct fake_name seen;
	wk_hostinfo *r;

	r = wk_lookup("badflags.test", WAIT_LIMIT_MS);
	ck_assert_one_addr(r, "192.0.2.6");
	wk_hostinfo_free(r);
	seen = fake_seen("badflags.test");
	ck_assert_uint_eq(seen.calls, 2);
	ck_assert(seen.first_flags & AI_ADDRCONFIG);
	ck_assert(!(seen.last_flags & AI_ADDRCONFIG));
	ck_assert(seen.last_flags & AI_CANONNAME);
	ck_assert_uint_eq(DELTA(backend_calls), 2);
	ck_assert_int_gt(wk_lookup_start_family("badflags.test",
	    WK_FAMILY_IPV4, on_done, (void *)1), 0);
	ck_assert(col_wait(1));
	ck_assert_one_addr(col_find(1)->info, "192.0.2.6");
	ck_assert_uint_eq(fake_calls("badflags.test"), 4);
}
END_TEST

/* EAI_* codes: the error and "lookup of NAME: <gai_strerror text>". */
static const struct {
	const char *name;
	int eai;
	wk_error code;
} gai_errors[] = {
	{ "nx.test", EAI_NONAME, WK_HOST_NOT_FOUND },
	{ "nodata.test", EAI_NODATA, WK_HOST_NOT_FOUND },
	{ "fail.test", EAI_FAIL, WK_HOST_NOT_FOUND },
	{ "again.test", EAI_AGAIN, WK_UNKNOWN },
	{ "memory.test", EAI_MEMORY, WK_SOCKET_RESOURCE },
	{ "system.test", EAI_SYSTEM, WK_CONNECTION_REFUSED },
};

static void
check_gai_error(const wk_hostinfo *r, int row)
{
	char want[256];

	if (gai_errors[row].eai == EAI_SYSTEM)
		snprintf(want, sizeof(want), "lookup of %s: %s",
		    gai_errors[row].name, strerror(ECONNREFUSED));
	else
		snprintf(want, sizeof(want), "lookup of %s: %s",
		    gai_errors[row].name, gai_strerror(gai_errors[row].eai));
	ck_assert_code(r, gai_errors[row].code);
	ck_assert_str_eq(wk_hostinfo_error_string(r), want);
	ck_assert_str_eq(wk_hostinfo_name(r), gai_errors[row].name);
	ck_assert_uint_eq(wk_hostinfo_count(r), 0);
	ck_assert_ptr_null(wk_hostinfo_canonical_name(r));
}

START_TEST(test_request_gai_errors)
{
	wk_hostinfo *r = wk_lookup(gai_errors[_i].name, WAIT_LIMIT_MS);

	check_gai_error(r, _i);
	wk_hostinfo_free(r);
	wk_resolver_clear_cache();
	ck_assert_int_gt(wk_lookup_start(gai_errors[_i].name, on_done,
	    (void *)1), 0);
	ck_assert(col_wait(1));
	check_gai_error(col_find(1)->info, _i);
	ck_assert_uint_eq(fake_calls(gai_errors[_i].name), 2);
}
END_TEST

/* ---------------------------------------------------------------- IDN */

#define BUECHER "b\xc3\xbc" "cher.test"		/* bücher.test */
#define BUECHER_MIXED "B\xc3\xbc" "cher.TEST"	/* Bücher.TEST */
#define BUECHER_UPPER "B\xc3\x9c" "CHER.test"	/* BÜCHER.test */

START_TEST(test_idn)
{
	wk_hostinfo *r;

	fake_set_hold("xn--bcher-kva.test");
	ck_assert_int_gt(wk_lookup_start(BUECHER, on_done, (void *)1), 0);
	ck_assert_int_gt(wk_lookup_start(BUECHER_MIXED, on_done, (void *)2), 0);
	ck_assert(fake_wait_held(1));
	ck_assert_uint_eq(DELTA(coalesced), 1);
	fake_release_all();
	ck_assert(col_wait(2));
	ck_assert_uint_eq(fake_calls("xn--bcher-kva.test"), 1);
	ck_assert_uint_eq(FAKE_GET(total), 1);
	ck_assert_str_eq(wk_hostinfo_name(col_find(1)->info), BUECHER);
	ck_assert_str_eq(wk_hostinfo_name(col_find(2)->info), BUECHER_MIXED);
	ck_assert_one_addr(col_find(1)->info, "192.0.2.8");
	ck_assert_one_addr(col_find(2)->info, "192.0.2.8");
	/* Cache hits under every spelling, each with its own name. */
	r = wk_lookup(BUECHER_UPPER, 0);
	ck_assert_one_addr(r, "192.0.2.8");
	ck_assert_str_eq(wk_hostinfo_name(r), BUECHER_UPPER);
	wk_hostinfo_free(r);
	r = wk_lookup("XN--BCHER-KVA.test", 0);
	ck_assert_one_addr(r, "192.0.2.8");
	ck_assert_str_eq(wk_hostinfo_name(r), "XN--BCHER-KVA.test");
	wk_hostinfo_free(r);
	ck_assert_uint_eq(FAKE_GET(total), 1);
	ck_assert_uint_eq(DELTA(cache_hits), 2);
}
END_TEST

/* ---------------------------------------------------------------- results */

START_TEST(test_result_duplicates)
{
	static const char *const want[] = {
		"192.0.2.1", "192.0.2.2", "192.0.2.3"
	};
	wk_hostinfo *r = wk_lookup("dup.test", WAIT_LIMIT_MS);
	wk_addr out;

	ck_assert_code(r, WK_NO_ERROR);
	ck_assert_uint_eq(wk_hostinfo_count(r), ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		ck_assert_str_eq(fmt_addr(wk_hostinfo_addr(r, i)), want[i]);
	/* Out of range: the null address. */
	out = wk_hostinfo_addr(r, ARRAY_SIZE(want));
	ck_assert(wk_addr_is_null(&out));
	out = wk_hostinfo_addr(r, SIZE_MAX);
	ck_assert(wk_addr_is_null(&out));
	wk_hostinfo_free(r);
}
END_TEST

START_TEST(test_result_canonical)
{
	wk_hostinfo *r = wk_lookup("canon.test", WAIT_LIMIT_MS);

	ck_assert_code(r, WK_NO_ERROR);
	ck_assert_str_eq(wk_hostinfo_name(r), "canon.test");
	ck_assert_pstr_eq(wk_hostinfo_canonical_name(r),
	    "canonical.example.test");
	ck_assert_uint_eq(wk_hostinfo_count(r), 3);
	wk_hostinfo_free(r);
	r = wk_lookup("host1.test", WAIT_LIMIT_MS);
	ck_assert_code(r, WK_NO_ERROR);
	ck_assert_ptr_null(wk_hostinfo_canonical_name(r));
	wk_hostinfo_free(r);
	/* Kept in the cache, and in a callback's result. */
	ck_assert_int_gt(wk_lookup_start("canon.test", on_done, (void *)1), 0);
	ck_assert(col_wait(1));
	ck_assert_pstr_eq(wk_hostinfo_canonical_name(col_find(1)->info),
	    "canonical.example.test");
	ck_assert_uint_eq(fake_calls("canon.test"), 1);
}
END_TEST

/* No usable address: an empty list, or nodes of other families. */
START_TEST(test_result_no_address)
{
	static const char *const names[] = { "empty.test", "unix.test" };
	wk_hostinfo *r;
	char want[128];

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		r = wk_lookup(names[i], WAIT_LIMIT_MS);
		ck_assert_code(r, WK_HOST_NOT_FOUND);
		snprintf(want, sizeof(want), "lookup of %s: no usable address",
		    names[i]);
		ck_assert_str_eq(wk_hostinfo_error_string(r), want);
		ck_assert_uint_eq(wk_hostinfo_count(r), 0);
		ck_assert_ptr_null(wk_hostinfo_addrs(r));
		wk_hostinfo_free(r);
	}
	r = wk_lookup("mixed.test", WAIT_LIMIT_MS);
	ck_assert_one_addr(r, "192.0.2.5");
	wk_hostinfo_free(r);
}
END_TEST

START_TEST(test_result_dup)
{
	wk_hostinfo *a = wk_lookup("canon.test", WAIT_LIMIT_MS), *b;

	ck_assert_code(a, WK_NO_ERROR);
	ck_assert_ptr_nonnull(b = wk_hostinfo_dup(a));
	ck_assert_ptr_ne(a, b);
	ck_assert_int_eq(wk_hostinfo_id(b), wk_hostinfo_id(a));
	ck_assert_int_eq(wk_hostinfo_error(b), wk_hostinfo_error(a));
	ck_assert_str_eq(wk_hostinfo_name(b), wk_hostinfo_name(a));
	ck_assert_str_eq(wk_hostinfo_canonical_name(b),
	    wk_hostinfo_canonical_name(a));
	ck_assert_str_eq(wk_hostinfo_error_string(b),
	    wk_hostinfo_error_string(a));
	ck_assert_uint_eq(wk_hostinfo_count(b), wk_hostinfo_count(a));
	for (size_t i = 0; i < wk_hostinfo_count(a); i++)
		ck_assert(wk_addr_equal(&wk_hostinfo_addrs(a)[i],
		    &wk_hostinfo_addrs(b)[i], WK_ADDR_CMP_STRICT));
	/* The copy stands alone. */
	wk_hostinfo_free(a);
	ck_assert_str_eq(wk_hostinfo_name(b), "canon.test");
	ck_assert_uint_eq(wk_hostinfo_count(b), 3);
	wk_hostinfo_free(b);
	/* An error result too. */
	a = wk_lookup("nx.test", WAIT_LIMIT_MS);
	b = wk_hostinfo_dup(a);
	ck_assert_code(b, WK_HOST_NOT_FOUND);
	ck_assert_str_eq(wk_hostinfo_error_string(b),
	    wk_hostinfo_error_string(a));
	ck_assert_ptr_null(wk_hostinfo_canonical_name(b));
	wk_hostinfo_free(a);
	wk_hostinfo_free(b);
	ck_assert_ptr_null(wk_hostinfo_dup(NULL));
}
END_TEST

START_TEST(test_result_null)
{
	wk_addr a = wk_hostinfo_addr(NULL, 0);

	ck_assert_ptr_nonnull(wk_hostinfo_name(NULL));
	ck_assert_str_eq(wk_hostinfo_name(NULL), "");
	ck_assert_ptr_null(wk_hostinfo_canonical_name(NULL));
	ck_assert_uint_eq(wk_hostinfo_count(NULL), 0);
	ck_assert(wk_addr_is_null(&a));
	ck_assert_ptr_null(wk_hostinfo_addrs(NULL));
	ck_assert_int_eq(wk_hostinfo_error(NULL), WK_INVALID_ARGUMENT);
	ck_assert_ptr_nonnull(wk_hostinfo_error_string(NULL));
	ck_assert_int_eq(wk_hostinfo_id(NULL), -1);
	wk_hostinfo_free(NULL);
}
END_TEST

/* ---------------------------------------------------------------- wait */

START_TEST(test_wait_collect)
{
	enum { N = 20 };
	int64_t ids[N];
	char name[32], want[32];
	wk_hostinfo *r;

	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "host%d.test", i);
		ck_assert_int_gt(ids[i] = wk_lookup_start(name, NULL, NULL), 0);
	}
	for (int i = N - 1; i >= 0; i--) {
		snprintf(name, sizeof(name), "host%d.test", i);
		snprintf(want, sizeof(want), "192.0.2.%d", i);
		r = wk_lookup_wait(ids[i], WAIT_LIMIT_MS);
		ck_assert_one_addr(r, want);
		ck_assert_int_eq(wk_hostinfo_id(r), ids[i]);
		ck_assert_str_eq(wk_hostinfo_name(r), name);
		wk_hostinfo_free(r);
		r = wk_lookup_wait(ids[i], 0);		/* collected */
		ck_assert_code(r, WK_INVALID_ARGUMENT);
		wk_hostinfo_free(r);
	}
	/* A cache hit, ready at once. */
	ck_assert_int_gt(ids[0] = wk_lookup_start("host1.test", NULL, NULL), 0);
	r = wk_lookup_wait(ids[0], 0);
	ck_assert_one_addr(r, "192.0.2.1");
	wk_hostinfo_free(r);
	ck_assert_uint_eq(col_count(), 0);
}
END_TEST

START_TEST(test_wait_invalid)
{
	static const int64_t ids[] = { 0, -1, -2, INT64_MIN, INT64_MAX, 1 << 30 };
	wk_hostinfo *r;
	int64_t id;

	for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
		r = wk_lookup_wait(ids[i], 0);
		ck_assert_code(r, WK_INVALID_ARGUMENT);
		ck_assert_uint_eq(wk_hostinfo_count(r), 0);
		wk_hostinfo_free(r);
		r = wk_lookup_wait(ids[i], -1);		/* no waiting either */
		ck_assert_code(r, WK_INVALID_ARGUMENT);
		wk_hostinfo_free(r);
	}
	/* A lookup with a done callback is not waited for. */
	ck_assert_int_gt(id = wk_lookup_start("stuck1.test", on_done, (void *)1),
	    0);
	r = wk_lookup_wait(id, WAIT_LIMIT_MS);
	ck_assert_code(r, WK_INVALID_ARGUMENT);
	wk_hostinfo_free(r);
	fake_release_all();
	ck_assert(col_wait(1));
	ck_assert_int_eq(wk_hostinfo_id(col_find(1)->info), id);
}
END_TEST

/* A wait that times out leaves the lookup pending. */
START_TEST(test_wait_timeout)
{
	int64_t a, b;
	wk_hostinfo *r;

	ck_assert_int_gt(a = wk_lookup_start("stuck1.test", NULL, NULL), 0);
	ck_assert_int_gt(b = wk_lookup_start("stuck2.test", NULL, NULL), 0);
	ck_assert(fake_wait_held(2));
	r = wk_lookup_wait(a, 0);
	ck_assert_code(r, WK_SOCKET_TIMEOUT);
	ck_assert_int_eq(wk_hostinfo_id(r), a);
	ck_assert_str_eq(wk_hostinfo_name(r), "stuck1.test");
	ck_assert_str_eq(wk_hostinfo_error_string(r),
	    "lookup of stuck1.test: timed out");
	wk_hostinfo_free(r);
	r = wk_lookup_wait(a, 20);
	ck_assert_code(r, WK_SOCKET_TIMEOUT);
	wk_hostinfo_free(r);
	r = wk_lookup_wait(a, -5);		/* below -1: 0 */
	ck_assert_code(r, WK_SOCKET_TIMEOUT);
	wk_hostinfo_free(r);
	r = wk_lookup_wait(b, 0);
	ck_assert_code(r, WK_SOCKET_TIMEOUT);
	wk_hostinfo_free(r);
	ck_assert(wk_lookup_abort(b));		/* still pending: abortable */
	r = wk_lookup_wait(b, 0);
	ck_assert_code(r, WK_INVALID_ARGUMENT);
	wk_hostinfo_free(r);
	fake_release_all();
	r = wk_lookup_wait(a, WAIT_LIMIT_MS);
	ck_assert_one_addr(r, RELEASED_ADDR);
	ck_assert_int_eq(wk_hostinfo_id(r), a);
	wk_hostinfo_free(r);
}
END_TEST

/* Abort of a done == NULL lookup whose result waits to be collected. */
START_TEST(test_wait_abort_ready)
{
	int64_t id;
	wk_hostinfo *r;

	lookup_ok("host1.test");
	ck_assert_int_gt(id = wk_lookup_start("host1.test", NULL, NULL), 0);
	ck_assert(wk_lookup_abort(id));		/* a ready cache hit */
	ck_assert(!wk_lookup_abort(id));
	r = wk_lookup_wait(id, 0);
	ck_assert_code(r, WK_INVALID_ARGUMENT);
	wk_hostinfo_free(r);
	ck_assert_int_gt(id = wk_lookup_start("a..b", NULL, NULL), 0);
	ck_assert(wk_lookup_abort(id));		/* a ready refusal */
	r = wk_lookup_wait(id, 0);
	ck_assert_code(r, WK_INVALID_ARGUMENT);
	wk_hostinfo_free(r);
	/* Uncollected results left to shutdown are freed (valgrind). */
	ck_assert_int_gt(wk_lookup_start("host1.test", NULL, NULL), 0);
	ck_assert_int_gt(wk_lookup_start("host2.test", NULL, NULL), 0);
}
END_TEST

/* A wait in one thread, the abort in another: the wait returns. */
START_TEST(test_wait_aborted_meanwhile)
{
	static struct waiter_arg a;	/* outlives a failed test */
	pthread_t t;

	a = (struct waiter_arg){ 0, NULL };
	ck_assert_int_gt(a.id = wk_lookup_start("stuck1.test", NULL, NULL), 0);
	ck_assert(fake_wait_held(1));
	ck_assert_int_eq(pthread_create(&t, NULL, waiter_thread, &a), 0);
	/* Abort whether or not the waiter is already waiting. */
	ck_assert(wk_lookup_abort(a.id));
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_ptr_nonnull(a.result);
	ck_assert_int_ne(wk_hostinfo_error(a.result), WK_NO_ERROR);
	wk_hostinfo_free(a.result);
}
END_TEST

/*
 * Two threads wait for one id: one gets the result, the other is told
 * the id was collected (whichever way the race between them goes).
 */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int ready;
	char tids[2][16];
} twowait = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, { "" } };

static bool
pred_waiters_sleeping(void *unused)
{
	(void)unused;
	return task_sleeping(twowait.tids[0], NULL) &&
	    task_sleeping(twowait.tids[1], NULL);
}

static void *
twowait_thread(void *p)
{
	struct waiter_arg *a = p;

	pthread_mutex_lock(&twowait.lock);
	snprintf(twowait.tids[twowait.ready], sizeof(twowait.tids[0]), "%ld",
	    (long)gettid());
	twowait.ready++;
	pthread_cond_broadcast(&twowait.cond);
	pthread_mutex_unlock(&twowait.lock);
	a->result = wk_lookup_wait(a->id, WAIT_LIMIT_MS);
	return NULL;
}

START_TEST(test_wait_twice_concurrent)
{
	static struct waiter_arg a[2];	/* outlives a failed test */
	int ok = 0, collected = 0;
	pthread_t t[2];
	int64_t id;

	twowait.ready = 0;
	ck_assert_int_gt(id = wk_lookup_start("stuck1.test", NULL, NULL), 0);
	ck_assert(fake_wait_held(1));
	for (int i = 0; i < 2; i++) {
		a[i] = (struct waiter_arg){ id, NULL };
		ck_assert_int_eq(pthread_create(&t[i], NULL, twowait_thread,
		    &a[i]), 0);
	}
	pthread_mutex_lock(&twowait.lock);
	while (twowait.ready < 2)
		pthread_cond_wait(&twowait.cond, &twowait.lock);
	pthread_mutex_unlock(&twowait.lock);
	poll_until(pred_waiters_sleeping, NULL, 5000);	/* both in wait */
	fake_release_all();
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	for (int i = 0; i < 2; i++) {
		ok += wk_hostinfo_error(a[i].result) == WK_NO_ERROR;
		collected += wk_hostinfo_error(a[i].result) ==
		    WK_INVALID_ARGUMENT;
		ck_assert_msg(wk_hostinfo_error(a[i].result) == WK_NO_ERROR ||
		    wk_hostinfo_error(a[i].result) == WK_INVALID_ARGUMENT,
		    "waiter %d: %s (%s)", i,
		    wk_error_name(wk_hostinfo_error(a[i].result)),
		    wk_hostinfo_error_string(a[i].result));
	}
	ck_assert_int_eq(ok, 1);
	ck_assert_int_eq(collected, 1);
	for (int i = 0; i < 2; i++)
		wk_hostinfo_free(a[i].result);
}
END_TEST

/* ---------------------------------------------------------------- host */

START_TEST(test_local_names)
{
	char want[HOST_NAME_MAX + 1];
	char *host = wk_local_host_name(), *domain = wk_local_domain_name();

	ck_assert_int_eq(gethostname(want, sizeof(want)), 0);
	want[HOST_NAME_MAX] = '\0';
	ck_assert_ptr_nonnull(host);
	ck_assert_str_eq(host, want);
	ck_assert_ptr_nonnull(domain);
	if (in_netns)		/* "wirekit-test", resolv.conf without domain */
		ck_assert_str_eq(domain, "");
	free(host);
	free(domain);
}
END_TEST

/* ---------------------------------------------------------------- fork */

/*
 * In the child: 0, or CHILD_STEP + the number of the step that failed;
 * other statuses come from elsewhere (valgrind's --error-exitcode).
 */
#define CHILD_STEP 40

static int
child_step(int step, wk_hostinfo *r)
{
	if (r)
		fprintf(stderr, "child, step %d: %s: %s\n", step,
		    wk_hostinfo_name(r), wk_hostinfo_error_string(r));
	wk_hostinfo_free(r);
	return CHILD_STEP + step;
}

static int
child_lookups(unsigned host1_calls)
{
	wk_hostinfo *r;
	int64_t id;

	r = wk_lookup("host1.test", WAIT_LIMIT_MS);	/* the parent's cache */
	if (wk_hostinfo_error(r) != WK_NO_ERROR || !has_addr(r, "192.0.2.1"))
		return child_step(1, r);
	wk_hostinfo_free(r);
	if (fake_calls("host1.test") != host1_calls)
		return child_step(2, NULL);
	r = wk_lookup("host2.test", WAIT_LIMIT_MS);	/* queued in the parent */
	if (wk_hostinfo_error(r) != WK_NO_ERROR || !has_addr(r, "192.0.2.2"))
		return child_step(3, r);
	wk_hostinfo_free(r);
	if ((id = wk_lookup_start("host3.test", NULL, NULL)) <= 0)
		return child_step(4, NULL);
	r = wk_lookup_wait(id, WAIT_LIMIT_MS);
	if (wk_hostinfo_error(r) != WK_NO_ERROR || !has_addr(r, "192.0.2.3"))
		return child_step(5, r);
	wk_hostinfo_free(r);
	if (wk_lookup_start("host4.test", on_done, (void *)4) <= 0 ||
	    !col_wait(1))
		return child_step(6, NULL);
	if (stats().threads == 0)
		return child_step(7, NULL);
	wk_resolver_shutdown();
	col_reset();
	return stats().threads == 0 ? 0 : child_step(8, NULL);
}

START_TEST(test_fork)
{
	unsigned host1_calls;
	wk_hostinfo *r;
	pid_t pid;
	int status;

	r = wk_lookup("host1.test", WAIT_LIMIT_MS);
	ck_assert_one_addr(r, "192.0.2.1");
	wk_hostinfo_free(r);
	host1_calls = fake_calls("host1.test");
	/* One thread stuck, one name queued behind it. */
	ck_assert(wk_resolver_set_max_threads(1));
	ck_assert_int_gt(wk_lookup_start("stuck1.test", on_done, (void *)1), 0);
	ck_assert(fake_wait_held(1));
	ck_assert_int_gt(wk_lookup_start("host2.test", on_done, (void *)2), 0);
	ck_assert_uint_eq(stats().queued, 1);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		col_reset();
		_exit(child_lookups(host1_calls));
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "child died: status %#x", status);
	ck_assert_msg(WEXITSTATUS(status) == 0, "child exited with %d%s",
	    WEXITSTATUS(status), WEXITSTATUS(status) > CHILD_STEP ?
	    " (its step number + 40)" : " (not from its own checks)");
	/* The parent's lookups go on. */
	fake_release_all();
	ck_assert(col_wait(2));
	ck_assert_one_addr(col_find(2)->info, "192.0.2.2");
	ck_assert_one_addr(col_find(1)->info, RELEASED_ADDR);
}
END_TEST

/* ---------------------------------------------------------------- main */

static TCase *
tcase(Suite *s, const char *name, int timeout, void (*setup)(void))
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, timeout);
	tcase_add_checked_fixture(tc, setup, teardown);
	suite_add_tcase(s, tc);
	return tc;
}

static Suite *
lookup_suite(void)
{
	Suite *s = suite_create("lookup");
	TCase *tc;

	tc = tcase(s, "real", 60, setup_real);
	tcase_add_test(tc, test_real_localhost_blocking);
	tcase_add_test(tc, test_real_localhost_callback);
	tcase_add_test(tc, test_real_backend_null_free);

	if (in_netns) {
		tc = tcase(s, "netns", 60, setup_fake);
		tcase_add_loop_test(tc, test_netns_literal_blocking, 0,
		    ARRAY_SIZE(literals));
		tcase_add_loop_test(tc, test_netns_literal_callback, 0,
		    ARRAY_SIZE(literals));
		tcase_add_test(tc, test_netns_literal_no_reverse);
		tcase_add_test(tc, test_netns_literal_family);
		tc = tcase(s, "netns-real", 60, setup_real);
		tcase_add_test(tc, test_netns_hosts_name);
		tcase_add_test(tc, test_netns_unknown_name);
	}

	tc = tcase(s, "pool", 120, setup_fake);
	tcase_add_test(tc, test_pool_abandoned_default);
	tcase_add_test(tc, test_pool_bound);
	tcase_add_test(tc, test_pool_coalesce);
	tcase_add_test(tc, test_pool_coalesce_blocking);
	tcase_add_test(tc, test_pool_stuck_aborted);
	tcase_add_test(tc, test_pool_stuck_timeout);
	tcase_add_test(tc, test_pool_timeout);
	tcase_add_test(tc, test_pool_idle_exit);
	tcase_add_test(tc, test_pool_idle_change);
	tcase_add_test(tc, test_pool_raise_max_threads);
	tcase_add_test(tc, test_pool_lower_max_threads);
	tcase_add_test(tc, test_pool_thread_properties);
	tcase_add_test(tc, test_pool_settings);

	tc = tcase(s, "shutdown", 60, setup_fake);
	tcase_add_test(tc, test_shutdown_queued);
	tcase_add_test(tc, test_shutdown_running);
	tcase_add_test(tc, test_shutdown_blocked_callers);
	tcase_add_test(tc, test_shutdown_idle);

	tc = tcase(s, "abort", 60, setup_fake);
	tcase_add_test(tc, test_abort_queued);
	tcase_add_test(tc, test_abort_coalesced);
	tcase_add_test(tc, test_abort_coalesced_queued);
	tcase_add_test(tc, test_abort_from_done);
	tcase_add_test(tc, test_abort_self_from_done);
	tcase_add_test(tc, test_start_from_done);

	tc = tcase(s, "race", 600, setup_fake);
	tcase_add_test(tc, test_race_abort_running);
	tcase_add_test(tc, test_race_abort_cached);
	tcase_add_test(tc, test_race_abort_waited);
	tcase_add_test(tc, test_race_blocking_timeout);
	tcase_add_test(tc, test_race_mixed);

	tc = tcase(s, "cache", 60, setup_fake);
	tcase_add_test(tc, test_cache_blocking);
	tcase_add_test(tc, test_cache_callback);
	tcase_add_test(tc, test_cache_hit_busy_pool);
	tcase_add_test(tc, test_cache_ttl);
	tcase_add_test(tc, test_cache_negative);
	tcase_add_test(tc, test_cache_disabled);
	tcase_add_test(tc, test_cache_lru);
	tcase_add_test(tc, test_cache_clear);
	tcase_add_test(tc, test_cache_watch_files);

	tc = tcase(s, "request", 60, setup_fake);
	tcase_add_loop_test(tc, test_request_refused_blocking, 0,
	    ARRAY_SIZE(refused));
	tcase_add_loop_test(tc, test_request_refused_callback, 0,
	    ARRAY_SIZE(refused));
	tcase_add_test(tc, test_request_limits);
	tcase_add_test(tc, test_request_invalid);
	tcase_add_loop_test(tc, test_request_family_blocking, 0,
	    ARRAY_SIZE(families));
	tcase_add_loop_test(tc, test_request_family_callback, 0,
	    ARRAY_SIZE(families));
	tcase_add_test(tc, test_request_family_keys);
	tcase_add_test(tc, test_request_badflags);
	tcase_add_loop_test(tc, test_request_gai_errors, 0,
	    ARRAY_SIZE(gai_errors));
	tcase_add_test(tc, test_idn);

	tc = tcase(s, "result", 60, setup_fake);
	tcase_add_test(tc, test_result_duplicates);
	tcase_add_test(tc, test_result_canonical);
	tcase_add_test(tc, test_result_no_address);
	tcase_add_test(tc, test_result_dup);
	tcase_add_test(tc, test_result_null);

	tc = tcase(s, "wait", 60, setup_fake);
	tcase_add_test(tc, test_wait_collect);
	tcase_add_test(tc, test_wait_invalid);
	tcase_add_test(tc, test_wait_timeout);
	tcase_add_test(tc, test_wait_abort_ready);
	tcase_add_test(tc, test_wait_aborted_meanwhile);
	tcase_add_test(tc, test_wait_twice_concurrent);

	tc = tcase(s, "host", 60, setup_fake);
	tcase_add_test(tc, test_local_names);

	tc = tcase(s, "fork", 60, setup_fake);
	tcase_add_test(tc, test_fork);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int netns, failed;

	/* First, before any thread exists (see netns.h). */
	netns = wk_test_enter_netns(NETNS_RESOLV_CONF);
	in_netns = netns == 0;
	if (!in_netns)
		fprintf(stderr, "skip: the tests of literals and of names "
		    "other than localhost need the private namespace\n");
	cond_init_monotonic(&fake.cond);
	cond_init_monotonic(&col.cond);
	sr = srunner_create(lookup_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (netns == WK_TEST_HARD_ERROR)
		return WK_TEST_HARD_ERROR;
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
