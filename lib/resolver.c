/*
 * resolver.c - the lookup pool: getaddrinfo() on worker threads, with a
 * FIFO queue, coalescing of identical names, a cache, abort, and
 * threads that a dead DNS server cannot use up
 *
 * This is the only file that calls getaddrinfo() and getnameinfo().
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <netdb.h>
#ifdef __GLIBC__
#include <resolv.h>
#endif

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "error-private.h"
#include "lookup-private.h"

/*
 * Locking: one mutex, pool.lock, guards everything below; it is never
 * held while getaddrinfo(), getnameinfo() or a done callback runs, so
 * a callback may start or abort lookups.  There is no other lock.
 *
 * An entry is one name (key and family).  It is queued or running while
 * a thread resolves it, and cached (idle, with a result) afterwards;
 * every lookup of the name waits on the same entry, which is how
 * identical lookups share one getaddrinfo() call.  A running entry whose
 * waiters all went away is abandoned: its thread no longer counts
 * against max_threads, so a DNS server that never answers cannot fill
 * the pool, and max_abandoned bounds how many such threads may exist.
 */

#define DEFAULT_MAX_THREADS 20		/* Qt 5's pool */
#define DEFAULT_IDLE_MSECS 10000
#define DEFAULT_CACHE_ENTRIES 128
#define DEFAULT_TTL_MSECS 60000
#define DEFAULT_NEGATIVE_TTL_MSECS 5000
#define WATCH_INTERVAL_NS 1000000000LL	/* stat the files once a second */
#define MIN_BUCKETS 64

/*
 * getaddrinfo() and the NSS modules under it need more than a few pages
 * of stack, but not the 8 MiB a thread gets by default; sanitizers need
 * more.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define STACK_SIZE (1024 * 1024)
#else
#define STACK_SIZE (256 * 1024)
#endif

enum entry_state { E_IDLE, E_QUEUED, E_RUNNING };

struct lookup;

struct entry {
	struct entry *hnext;			/* name table chain */
	struct entry *prev, *next;		/* run queue or LRU list */
	struct lookup *waiters;			/* lookups waiting for it */
	wk_hostinfo *result;			/* cached answer, id 0 */
	int64_t expires;			/* of result, monotonic ns */
	enum entry_state state;
	bool abandoned;				/* running, nobody waits */
	bool orphan;				/* out of the table, running */
	bool literal;
	wk_family family;
	wk_addr literal_addr;
	uint32_t hash;
	char key[];
};

enum lookup_state {
	L_PENDING,	/* waits for its entry, or in the delivery queue */
	L_DELIVERING,	/* result being built by a pool thread */
	L_READY		/* result kept for wk_lookup_wait() */
};

struct lookup {
	struct lookup *hnext;			/* id table chain */
	struct lookup *prev, *next;		/* entry waiters or delivery */
	struct entry *entry;			/* NULL when in delivery */
	wk_lookup_fn done;
	void *arg;
	wk_hostinfo *result;
	int64_t id;
	enum lookup_state state;
	bool in_table;
	int waiting;				/* threads in wait() on it */
	char name[];				/* as asked */
};

struct list {
	void *head, *tail;
	unsigned count;
};

static struct pool {
	pthread_mutex_t lock;
	pthread_cond_t work;		/* work queued, or shutdown */
	pthread_cond_t ready;		/* a waited-for lookup finished */
	pthread_cond_t gone;		/* a thread exited */
	/* settings */
	int max_threads, max_abandoned, idle_msecs;
	bool max_abandoned_set;
	int cache_entries, ttl_msecs, negative_ttl_msecs;
	wk_resolver_getaddrinfo_fn backend;
	wk_resolver_freeaddrinfo_fn backend_free;
	void *backend_arg;
	/* tables and queues */
	struct entry **names;
	size_t name_buckets, name_count;
	struct lookup **ids;
	size_t id_buckets, id_count;
	struct { struct entry *head, *tail; unsigned count; } runq, lru;
	struct { struct lookup *head, *tail; unsigned count; } deliveries;
	int64_t next_id;
	/* threads */
	unsigned threads, idle, running, abandoned;
	bool shutting_down;
	/* the files whose change flushes the cache */
	char *watch_path[2];
	struct stat watch_stat[2];
	int64_t watch_next;
	wk_resolver_stats stats;
} pool = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.max_threads = DEFAULT_MAX_THREADS,
	.max_abandoned = 4 * DEFAULT_MAX_THREADS,
	.idle_msecs = DEFAULT_IDLE_MSECS,
	.cache_entries = DEFAULT_CACHE_ENTRIES,
	.ttl_msecs = DEFAULT_TTL_MSECS,
	.negative_ttl_msecs = DEFAULT_NEGATIVE_TTL_MSECS,
	.next_id = 1,
};

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void
cond_init(pthread_cond_t *c)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(c, &attr);
	pthread_condattr_destroy(&attr);
}

/* Waits until signalled or the deadline; false when it passed. */
static bool
cond_wait_until(pthread_cond_t *c, int64_t deadline)
{
	struct timespec ts;

	if (deadline == WK__FOREVER) {
		pthread_cond_wait(c, &pool.lock);
		return true;
	}
	ts.tv_sec = deadline / 1000000000LL;
	ts.tv_nsec = deadline % 1000000000LL;
	return pthread_cond_timedwait(c, &pool.lock, &ts) != ETIMEDOUT;
}

/* ---------------------------------------------------------------- lists */

#define LIST_PUSH(l, x) do {						\
	(x)->next = NULL;						\
	(x)->prev = (l).tail;						\
	if ((l).tail)							\
		(l).tail->next = (x);					\
	else								\
		(l).head = (x);						\
	(l).tail = (x);							\
	(l).count++;							\
} while (0)

#define LIST_REMOVE(l, x) do {						\
	if ((x)->prev)							\
		(x)->prev->next = (x)->next;				\
	else								\
		(l).head = (x)->next;					\
	if ((x)->next)							\
		(x)->next->prev = (x)->prev;				\
	else								\
		(l).tail = (x)->prev;					\
	(x)->prev = (x)->next = NULL;					\
	(l).count--;							\
} while (0)

/* An entry's waiters: a doubly linked list without a tail. */
static void
waiter_add(struct entry *e, struct lookup *l)
{
	l->entry = e;
	l->prev = NULL;
	l->next = e->waiters;
	if (e->waiters)
		e->waiters->prev = l;
	e->waiters = l;
}

static void
waiter_remove(struct lookup *l)
{
	if (l->prev)
		l->prev->next = l->next;
	else
		l->entry->waiters = l->next;
	if (l->next)
		l->next->prev = l->prev;
	l->prev = l->next = NULL;
	l->entry = NULL;
}

/* ---------------------------------------------------------------- tables */

static uint32_t
hash_key(const char *key, wk_family family)
{
	uint32_t h = 2166136261u ^ (uint32_t)family;	/* FNV-1a */

	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 16777619u;
	return h;
}

/* Doubles a chained table when it holds twice as many as its buckets. */
static bool
grow(void ***table, size_t *buckets, size_t count, size_t next_offset,
    size_t (*bucket_of)(const void *, size_t))
{
	size_t n = *buckets ? *buckets * 2 : MIN_BUCKETS;
	void **t;

	if (*buckets && count < *buckets * 2)
		return true;
	if (!(t = calloc(n, sizeof(*t))))
		return *buckets != 0;	/* a full table still works */
	for (size_t i = 0; i < *buckets; i++) {
		void *x = (*table)[i], *next;

		for (; x; x = next) {
			size_t b = bucket_of(x, n);

			next = *(void **)((char *)x + next_offset);
			*(void **)((char *)x + next_offset) = t[b];
			t[b] = x;
		}
	}
	free(*table);
	*table = t;
	*buckets = n;
	return true;
}

static size_t
entry_bucket(const void *x, size_t n)
{
	return ((const struct entry *)x)->hash & (n - 1);
}

static size_t
lookup_bucket(const void *x, size_t n)
{
	return (size_t)((const struct lookup *)x)->id & (n - 1);
}

static struct entry *
name_find(const char *key, wk_family family, uint32_t hash)
{
	struct entry *e;

	if (!pool.name_buckets)
		return NULL;
	for (e = pool.names[hash & (pool.name_buckets - 1)]; e; e = e->hnext)
		if (e->hash == hash && e->family == family &&
		    strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

static bool
name_insert(struct entry *e)
{
	size_t b;

	if (!grow((void ***)&pool.names, &pool.name_buckets, pool.name_count,
	    offsetof(struct entry, hnext), entry_bucket))
		return false;
	b = e->hash & (pool.name_buckets - 1);
	e->hnext = pool.names[b];
	pool.names[b] = e;
	pool.name_count++;
	return true;
}

static void
name_remove(struct entry *e)
{
	struct entry **p = &pool.names[e->hash & (pool.name_buckets - 1)];

	while (*p != e)
		p = &(*p)->hnext;
	*p = e->hnext;
	pool.name_count--;
}

static struct lookup *
id_find(int64_t id)
{
	struct lookup *l;

	if (!pool.id_buckets || id <= 0)
		return NULL;
	for (l = pool.ids[(size_t)id & (pool.id_buckets - 1)]; l; l = l->hnext)
		if (l->id == id)
			return l;
	return NULL;
}

static bool
id_insert(struct lookup *l)
{
	size_t b;

	if (!grow((void ***)&pool.ids, &pool.id_buckets, pool.id_count,
	    offsetof(struct lookup, hnext), lookup_bucket))
		return false;
	b = (size_t)l->id & (pool.id_buckets - 1);
	l->hnext = pool.ids[b];
	pool.ids[b] = l;
	l->in_table = true;
	pool.id_count++;
	return true;
}

static void
id_remove(struct lookup *l)
{
	struct lookup **p;

	if (!l->in_table)
		return;
	p = &pool.ids[(size_t)l->id & (pool.id_buckets - 1)];
	while (*p != l)
		p = &(*p)->hnext;
	*p = l->hnext;
	l->in_table = false;
	pool.id_count--;
}

/* ---------------------------------------------------------------- records */

static void
lookup_free(struct lookup *l)
{
	if (!l)
		return;
	wk_hostinfo_free(l->result);
	free(l);
}

static struct lookup *
lookup_new(const char *name, wk_lookup_fn done, void *arg)
{
	size_t len = strlen(name) + 1;
	struct lookup *l = calloc(1, sizeof(*l) + len);

	if (!l)
		return NULL;
	memcpy(l->name, name, len);
	l->done = done;
	l->arg = arg;
	return l;
}

static struct entry *
entry_new(const struct wk__request *req, uint32_t hash)
{
	size_t len = strlen(req->key) + 1;
	struct entry *e = calloc(1, sizeof(*e) + len);

	if (!e)
		return NULL;
	memcpy(e->key, req->key, len);
	e->family = req->family;
	e->literal = req->literal;
	e->literal_addr = req->literal_addr;
	e->hash = hash;
	return e;
}

/* Drops an idle entry's cached answer and the entry itself. */
static void
entry_drop(struct entry *e)
{
	if (e->result)
		LIST_REMOVE(pool.lru, e);
	name_remove(e);
	wk_hostinfo_free(e->result);
	free(e);
}

static void
cache_flush(void)
{
	while (pool.lru.head)
		entry_drop(pool.lru.head);
}

static void
cache_trim(void)
{
	while (pool.lru.count > (unsigned)pool.cache_entries)
		entry_drop(pool.lru.head);
}

/*
 * Flushes the cache when /etc/resolv.conf or /etc/hosts changed: at most
 * one stat() of each a second, so a hit usually makes no system call.
 */
static void
watch_files(void)
{
	static const char *const defaults[2] = {
		"/etc/resolv.conf", "/etc/hosts"
	};
	int64_t now = wk__now_ns();
	bool changed = false;

	if (now < pool.watch_next)
		return;
	pool.watch_next = now + WATCH_INTERVAL_NS;
	for (int i = 0; i < 2; i++) {
		const char *path = pool.watch_path[i] ? pool.watch_path[i] :
		    defaults[i];
		struct stat st;

		if (stat(path, &st) != 0)
			memset(&st, 0, sizeof(st));
		changed |= st.st_mtim.tv_sec != pool.watch_stat[i].st_mtim.tv_sec ||
		    st.st_mtim.tv_nsec != pool.watch_stat[i].st_mtim.tv_nsec ||
		    st.st_ino != pool.watch_stat[i].st_ino ||
		    st.st_size != pool.watch_stat[i].st_size;
		pool.watch_stat[i] = st;
	}
	if (changed)
		cache_flush();
}

/* ---------------------------------------------------------------- threads */

static void *worker(void *unused);

/* Starts one pool thread, with every signal blocked in it. */
static bool
spawn(void)
{
	pthread_attr_t attr;
	sigset_t all, old;
	pthread_t t;
	int rc;

	if (pthread_attr_init(&attr) != 0)
		return false;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, STACK_SIZE);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&t, &attr, worker, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		return false;
	pool.threads++;
	return true;
}

/* Threads that count against max_threads. */
static unsigned
counted_threads(void)
{
	return pool.threads - pool.abandoned;
}

/*
 * Wakes an idle thread for new work, or starts one while the work
 * outnumbers the idle threads and the bounds allow.  False when no
 * thread exists and none could be started.
 */
static bool
wake_worker(void)
{
	unsigned work = pool.runq.count + pool.deliveries.count;

	if (pool.idle > 0)
		pthread_cond_signal(&pool.work);
	if (work > pool.idle &&
	    counted_threads() < (unsigned)pool.max_threads &&
	    pool.threads < (unsigned)(pool.max_threads + pool.max_abandoned))
		spawn();
	return pool.threads > 0;
}

/* ---------------------------------------------------------------- resolving */

static int
call_backend(const char *node, const struct addrinfo *hints,
    struct addrinfo **res, wk_resolver_getaddrinfo_fn fn, void *arg)
{
	pthread_mutex_lock(&pool.lock);
	pool.stats.backend_calls++;
	pthread_mutex_unlock(&pool.lock);
	if (fn)
		return fn(node, NULL, hints, res, arg);
	return getaddrinfo(node, NULL, hints, res);
}

/* Appends a to addrs unless it is there already (getaddrinfo's order kept). */
static size_t
add_unique(wk_addr *addrs, size_t n, const wk_addr *a)
{
	for (size_t i = 0; i < n; i++)
		if (wk_addr_equal(&addrs[i], a, WK_ADDR_CMP_STRICT))
			return n;
	addrs[n] = *a;
	return n + 1;
}

static wk_hostinfo *
build_result(const struct entry *e, const struct addrinfo *res)
{
	const struct addrinfo *ai;
	const char *canonical = NULL;
	wk_hostinfo *info;
	wk_addr *addrs, a;
	size_t n = 0, max = 0;

	for (ai = res; ai; ai = ai->ai_next)
		max++;
	if (!(addrs = malloc((max ? max : 1) * sizeof(*addrs))))
		return NULL;
	for (ai = res; ai; ai = ai->ai_next) {
		if (!canonical && ai->ai_canonname && *ai->ai_canonname)
			canonical = ai->ai_canonname;
		if (ai->ai_addr && wk_addr_from_sockaddr(&a, NULL, ai->ai_addr,
		    ai->ai_addrlen))
			n = add_unique(addrs, n, &a);
	}
	if (n == 0)
		info = wk__hostinfo_error(0, e->key, WK_HOST_NOT_FOUND,
		    "lookup of %s: no usable address", e->key);
	else
		info = wk__hostinfo_new(0, e->key, canonical, addrs, n,
		    WK_NO_ERROR, NULL);
	free(addrs);
	return info;
}

static wk_hostinfo *
resolve_name(const struct entry *e)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	wk_resolver_getaddrinfo_fn fn;
	wk_resolver_freeaddrinfo_fn free_fn;
	wk_hostinfo *info;
	void *arg;
	int rc, err;

	pthread_mutex_lock(&pool.lock);
	fn = pool.backend;
	free_fn = pool.backend_free;
	arg = pool.backend_arg;
	pthread_mutex_unlock(&pool.lock);

	hints.ai_family = e->family == WK_FAMILY_IPV4 ? AF_INET :
	    e->family == WK_FAMILY_IPV6 ? AF_INET6 : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG | AI_CANONNAME;
	rc = call_backend(e->key, &hints, &res, fn, arg);
	if (rc == EAI_BADFLAGS) {
		/* Qt's retry: some resolvers refuse AI_ADDRCONFIG. */
		hints.ai_flags = AI_CANONNAME;
		rc = call_backend(e->key, &hints, &res, fn, arg);
	}
	err = errno;
	if (rc != 0) {
		wk__err rec = { 0 };

		wk__err_set_gai(&rec, rc, err, "lookup of %s", e->key);
		info = wk__hostinfo_error(0, e->key, rec.code, "%s",
		    wk__err_string(&rec));
		wk__err_clear(&rec);
		return info;
	}
	info = build_result(e, res);
	if (res && free_fn)
		free_fn(res, arg);
	else if (res)
		freeaddrinfo(res);
	return info;
}

/*
 * An address literal needs no DNS query for its address; its name comes
 * from a reverse lookup, and a failed one is not an error (as in Qt).
 */
static wk_hostinfo *
resolve_literal(const struct entry *e)
{
	struct sockaddr_storage ss;
	char host[NI_MAXHOST];
	size_t len;

	len = wk_addr_to_sockaddr(&e->literal_addr, 0, (struct sockaddr *)&ss,
	    sizeof(ss));
	if (len == 0 || getnameinfo((struct sockaddr *)&ss, (socklen_t)len,
	    host, sizeof(host), NULL, 0, NI_NAMEREQD) != 0)
		snprintf(host, sizeof(host), "%s", e->key);
	return wk__hostinfo_new(0, host, NULL, &e->literal_addr, 1,
	    WK_NO_ERROR, NULL);
}

static bool
cacheable(const wk_hostinfo *info, int *ttl)
{
	if (pool.cache_entries <= 0 || !info)
		return false;
	if (info->error == WK_NO_ERROR)
		*ttl = pool.ttl_msecs;
	else if (info->error == WK_HOST_NOT_FOUND)
		*ttl = pool.negative_ttl_msecs;
	else
		return false;
	return *ttl > 0;
}

/*
 * Under the lock: the entry's thread is back with its answer.  Caches
 * it (or drops the entry), and hands back the waiters, marked as being
 * delivered so that an abort from now on returns false.
 */
static struct lookup *
entry_finish(struct entry *e, const wk_hostinfo *info)
{
	struct lookup *waiters = e->waiters, *l;
	int ttl;

	pool.running--;
	if (e->abandoned)
		pool.abandoned--;
	e->waiters = NULL;
	for (l = waiters; l; l = l->next) {
		l->state = L_DELIVERING;
		l->entry = NULL;
		if (l->done)
			id_remove(l);
	}
	if (e->orphan) {
		free(e);
	} else if (cacheable(info, &ttl) &&
	    (e->result = wk__hostinfo_copy(info, 0, info->name))) {
		e->state = E_IDLE;
		e->abandoned = false;
		e->expires = wk__now_ns() + (int64_t)ttl * WK__NS_PER_MS;
		LIST_PUSH(pool.lru, e);
		cache_trim();
	} else {
		name_remove(e);
		free(e);
	}
	return waiters;
}

/* The copy of info a lookup receives: its own id, and its name as asked. */
static wk_hostinfo *
result_for(const struct lookup *l, const wk_hostinfo *info, bool literal)
{
	if (!info)
		return wk__hostinfo_error(l->id, l->name, WK_SOCKET_RESOURCE,
		    "lookup of %s: out of memory", l->name);
	return wk__hostinfo_copy(info, l->id, literal ? info->name : l->name);
}

/* What done receives when not even an error result could be allocated. */
static const wk_hostinfo out_of_memory = {
	.error = WK_SOCKET_RESOURCE,
	.name = "",
	.error_string = "lookup: out of memory",
};

/* Outside the lock: gives each waiter its copy of the answer. */
static void
deliver_all(struct lookup *waiters, const wk_hostinfo *info, bool literal)
{
	struct lookup *l, *next;

	for (l = waiters; l; l = next) {
		wk_hostinfo *r = result_for(l, info, literal);

		next = l->next;
		if (l->done) {
			l->done(r ? r : &out_of_memory, l->arg);
			wk_hostinfo_free(r);
			lookup_free(l);
			continue;
		}
		pthread_mutex_lock(&pool.lock);
		l->result = r;
		l->state = L_READY;
		pthread_cond_broadcast(&pool.ready);
		pthread_mutex_unlock(&pool.lock);
	}
}

static void
run_entry(struct entry *e)
{
	wk_hostinfo *info;
	struct lookup *waiters;
	bool literal = e->literal;

	pthread_mutex_unlock(&pool.lock);
	info = literal ? resolve_literal(e) : resolve_name(e);
	pthread_mutex_lock(&pool.lock);
	waiters = entry_finish(e, info);
	pthread_mutex_unlock(&pool.lock);
	deliver_all(waiters, info, literal);
	wk_hostinfo_free(info);
	pthread_mutex_lock(&pool.lock);
}

/* A ready result (cache hit, refused name) handed over on a pool thread. */
static void
run_delivery(struct lookup *l)
{
	l->state = L_DELIVERING;
	id_remove(l);
	pthread_mutex_unlock(&pool.lock);
	l->done(l->result, l->arg);
	lookup_free(l);
	pthread_mutex_lock(&pool.lock);
}

/* Takes the next piece of work, waiting up to the idle time for one. */
static bool
next_work(struct entry **e, struct lookup **l)
{
	int64_t since = wk__now_ns();

	for (;;) {
		int64_t deadline = since + (int64_t)pool.idle_msecs * WK__NS_PER_MS;

		if (counted_threads() > (unsigned)pool.max_threads)
			return false;
		if ((*l = pool.deliveries.head)) {
			LIST_REMOVE(pool.deliveries, *l);
			return true;
		}
		if ((*e = pool.runq.head)) {
			LIST_REMOVE(pool.runq, *e);
			(*e)->state = E_RUNNING;
			pool.running++;
			return true;
		}
		if (pool.shutting_down ||
		    counted_threads() > (unsigned)pool.max_threads)
			return false;
		pool.idle++;
		bool woken = cond_wait_until(&pool.work, deadline);
		pool.idle--;
		if (!woken && !pool.deliveries.head && !pool.runq.head)
			return false;
	}
}

/*
 * What the C library would free as the thread exits, freed now: its
 * copy of the resolver configuration and the name servers' addresses.
 * Freed only at the exit, they would still be held after
 * wk_resolver_shutdown() returned, by a detached thread that has left
 * the pool but not yet finished exiting: a leak to valgrind and
 * LeakSanitizer when the process exits first.  The same steps as
 * glibc's own __res_thread_freeres(); nscount 0 makes that a no-op.
 */
static void
release_resolver_state(void)
{
#ifdef __GLIBC__
	if (_res.nscount == 0)
		return;		/* this thread never used the DNS resolver */
	res_nclose(&_res);
	_res.options = 0;
	_res.nscount = 0;
#endif
}

static void *
worker(void *unused)
{
	struct entry *e;
	struct lookup *l;

	(void)unused;
	pthread_setname_np(pthread_self(), "wk-resolve");
	pthread_mutex_lock(&pool.lock);
	while (next_work(&e, &l)) {
		if (l)
			run_delivery(l);
		else
			run_entry(e);
	}
	release_resolver_state();
	pool.threads--;
	pthread_cond_broadcast(&pool.gone);
	pthread_mutex_unlock(&pool.lock);
	return NULL;
}

/* ---------------------------------------------------------------- set up */

static void
prepare_fork(void)
{
	pthread_mutex_lock(&pool.lock);
}

static void
parent_fork(void)
{
	pthread_mutex_unlock(&pool.lock);
}

/*
 * In the child no pool thread exists: forget every lookup and entry (the
 * child's lookups start a new pool) but keep the settings and the cache.
 */
static void
child_fork(void)
{
	pthread_mutex_init(&pool.lock, NULL);
	cond_init(&pool.work);
	cond_init(&pool.ready);
	cond_init(&pool.gone);
	pool.threads = pool.idle = pool.running = pool.abandoned = 0;
	pool.shutting_down = false;
	for (size_t i = 0; i < pool.id_buckets; i++) {
		struct lookup *l = pool.ids[i], *next;

		for (; l; l = next) {
			next = l->hnext;
			lookup_free(l);
		}
		pool.ids[i] = NULL;
	}
	pool.id_count = 0;
	pool.runq.head = pool.runq.tail = NULL;
	pool.runq.count = 0;
	pool.deliveries.head = pool.deliveries.tail = NULL;
	pool.deliveries.count = 0;
	for (size_t i = 0; i < pool.name_buckets; i++) {
		struct entry **p = &pool.names[i];

		while (*p) {
			if ((*p)->state == E_IDLE) {
				p = &(*p)->hnext;
			} else {
				struct entry *dead = *p;

				*p = dead->hnext;
				pool.name_count--;
				free(dead);
			}
		}
	}
}

static void
pool_init(void)
{
	cond_init(&pool.work);
	cond_init(&pool.ready);
	cond_init(&pool.gone);
	pthread_atfork(prepare_fork, parent_fork, child_fork);
}

static void
pool_lock(void)
{
	pthread_once(&pool_once, pool_init);
	pthread_mutex_lock(&pool.lock);
}

/* ---------------------------------------------------------------- lookups */

/* A fresh cached answer, or NULL; an expired one is dropped (*ep too). */
static struct entry *
cache_hit(struct entry **ep)
{
	struct entry *e = *ep;

	if (!e || e->state != E_IDLE)
		return NULL;
	if (e->expires > wk__now_ns())
		return e;
	entry_drop(e);
	*ep = NULL;
	return NULL;
}

/*
 * The entry a request waits on: e, queued or running, or a new one;
 * NULL when memory ran out.
 */
static struct entry *
entry_for(const struct wk__request *req, struct entry *e, uint32_t hash)
{
	if (e) {
		pool.stats.coalesced++;
		return e;
	}
	if (!(e = entry_new(req, hash)))
		return NULL;
	if (!name_insert(e)) {
		free(e);
		return NULL;
	}
	e->state = E_QUEUED;
	LIST_PUSH(pool.runq, e);
	return e;
}

/* Under the lock: a new lookup waiting on its entry or in delivery. */
static struct lookup *
lookup_begin(const struct wk__request *req, wk_lookup_fn done, void *arg)
{
	uint32_t hash = hash_key(req->key, req->family);
	struct entry *e = NULL, *hit;
	struct lookup *l;

	if (!(l = lookup_new(req->asked, done, arg)))
		return NULL;
	l->id = pool.next_id++;
	pool.stats.started++;
	if (!req->ready) {
		watch_files();
		e = name_find(req->key, req->family, hash);
	}
	if (req->ready) {
		l->result = wk__hostinfo_copy(req->ready, l->id, req->asked);
	} else if ((hit = cache_hit(&e))) {
		pool.stats.cache_hits++;
		LIST_REMOVE(pool.lru, hit);	/* most recently used last */
		LIST_PUSH(pool.lru, hit);
		l->result = result_for(l, hit->result, req->literal);
	} else if ((e = entry_for(req, e, hash))) {
		waiter_add(e, l);
		if (e->abandoned) {		/* somebody waits again */
			e->abandoned = false;
			pool.abandoned--;
		}
	}
	if ((!l->entry && !l->result) || !id_insert(l)) {
		if (l->entry)
			waiter_remove(l);	/* the entry stays queued */
		lookup_free(l);
		return NULL;
	}
	return l;
}

/*
 * Under the lock: takes a lookup out of its entry or the delivery queue.
 * An entry left without waiters is dropped when queued (its name is
 * never resolved) and abandoned when running.
 */
static void
lookup_detach(struct lookup *l)
{
	struct entry *e = l->entry;

	id_remove(l);
	if (!e) {
		if (l->state == L_PENDING && l->done && l->result)
			LIST_REMOVE(pool.deliveries, l);
		return;
	}
	waiter_remove(l);
	if (e->waiters)
		return;
	if (e->state == E_QUEUED) {
		LIST_REMOVE(pool.runq, e);
		name_remove(e);
		free(e);
	} else if (e->state == E_RUNNING && !e->abandoned) {
		e->abandoned = true;
		pool.abandoned++;
		if (pool.runq.count || pool.deliveries.count)
			wake_worker();
	}
}

int64_t
wk__resolver_start(const struct wk__request *req, wk_lookup_fn done,
    void *arg)
{
	struct lookup *l;
	int64_t id = -1;

	pool_lock();
	if (!(l = lookup_begin(req, done, arg)))
		goto out;
	if (l->result && done) {
		LIST_PUSH(pool.deliveries, l);
	} else if (l->result) {
		l->state = L_READY;
		id = l->id;
		goto out;
	}
	if (!wake_worker()) {
		lookup_detach(l);
		lookup_free(l);
		goto out;
	}
	id = l->id;
out:
	pthread_mutex_unlock(&pool.lock);
	return id;
}

/* Under the lock: a lookup that is gone from the table and unwaited. */
static void
lookup_release(struct lookup *l)
{
	if (!l->in_table && !l->waiting)
		lookup_free(l);
}

/*
 * Under the lock: waits for a lookup's result until the deadline; NULL
 * when it passed, or when the lookup was aborted meanwhile.
 */
static wk_hostinfo *
wait_locked(struct lookup *l, int64_t deadline)
{
	wk_hostinfo *r = NULL;

	l->waiting++;
	/* A result being copied is waited for even through a shutdown. */
	while (l->state != L_READY && l->in_table &&
	    (l->state == L_DELIVERING || !pool.shutting_down) &&
	    cond_wait_until(&pool.ready, deadline))
		;
	l->waiting--;
	if (l->state == L_READY && l->in_table) {
		r = l->result ? l->result : wk__hostinfo_error(l->id, l->name,
		    WK_SOCKET_RESOURCE, "lookup of %s: out of memory", l->name);
		l->result = NULL;
		id_remove(l);
	}
	return r;
}

static wk_hostinfo *
timed_out(struct lookup *l)
{
	return wk__hostinfo_error(l->id, l->name, WK_SOCKET_TIMEOUT,
	    "lookup of %s: timed out", l->name);
}

wk_hostinfo *
wk__resolver_wait(int64_t id, int msecs)
{
	int64_t deadline = wk__deadline(msecs);
	struct lookup *l;
	wk_hostinfo *r;

	pool_lock();
	if (!(l = id_find(id)) || l->done) {
		pthread_mutex_unlock(&pool.lock);
		return wk__hostinfo_error(id, "", WK_INVALID_ARGUMENT,
		    "wait for lookup %lld: no such lookup waits to be collected",
		    (long long)id);
	}
	if (!(r = wait_locked(l, deadline)))
		r = l->state == L_READY ? wk__hostinfo_error(id, "",
		    WK_INVALID_ARGUMENT, "wait for lookup %lld: collected "
		    "meanwhile", (long long)id) : timed_out(l);
	lookup_release(l);
	pthread_mutex_unlock(&pool.lock);
	return r;
}

/* Under the lock: a fresh cached answer for a blocking lookup, or NULL. */
static wk_hostinfo *
lookup_cached(const struct wk__request *req)
{
	uint32_t hash = hash_key(req->key, req->family);
	struct entry *e, *hit;

	watch_files();
	e = name_find(req->key, req->family, hash);
	if (!(hit = cache_hit(&e)))
		return NULL;
	pool.stats.started++;
	pool.stats.cache_hits++;
	LIST_REMOVE(pool.lru, hit);
	LIST_PUSH(pool.lru, hit);
	return wk__hostinfo_copy(hit->result, pool.next_id++,
	    req->literal ? hit->result->name : req->asked);
}

/*
 * A blocking lookup: on the pool, so that the caller's deadline holds
 * however long getaddrinfo() takes.  On timeout the lookup is abandoned.
 */
wk_hostinfo *
wk__resolver_lookup(const struct wk__request *req, int msecs)
{
	int64_t deadline = wk__deadline(msecs);
	struct lookup *l;
	wk_hostinfo *r = NULL;

	pool_lock();
	if (!req->ready && (r = lookup_cached(req)))
		goto out;
	if (!(l = lookup_begin(req, NULL, NULL)))
		goto out;
	if (l->result) {
		r = l->result;
		l->result = NULL;
		id_remove(l);
	} else if (!wake_worker()) {
		lookup_detach(l);
		r = wk__hostinfo_error(l->id, l->name, WK_SOCKET_RESOURCE,
		    "lookup of %s: no thread could be started", l->name);
	} else if (!(r = wait_locked(l, deadline)) &&
	    l->state == L_DELIVERING) {
		/* The answer came as the time ran out: it is being copied. */
		r = wait_locked(l, WK__FOREVER);
	}
	if (!r) {
		r = timed_out(l);
		if (l->in_table)
			lookup_detach(l);
	}
	lookup_release(l);
out:
	pthread_mutex_unlock(&pool.lock);
	if (!r)
		r = wk__hostinfo_error(0, req->asked, WK_SOCKET_RESOURCE,
		    "lookup of %s: out of memory or threads", req->asked);
	return r;
}

bool
wk__resolver_abort(int64_t id)
{
	struct lookup *l;
	bool ok = false;

	pool_lock();
	if ((l = id_find(id)) && l->state != L_DELIVERING) {
		lookup_detach(l);
		if (l->waiting)
			pthread_cond_broadcast(&pool.ready);
		lookup_release(l);
		ok = true;
	}
	pthread_mutex_unlock(&pool.lock);
	return ok;
}

/* ---------------------------------------------------------------- settings */

bool
wk_resolver_set_max_threads(int count)
{
	if (count < 1 || count > 4096)
		return false;
	pool_lock();
	pool.max_threads = count;
	if (!pool.max_abandoned_set)
		pool.max_abandoned = 4 * count;
	for (unsigned n = 0; n < pool.runq.count + pool.deliveries.count &&
	    counted_threads() < (unsigned)pool.max_threads &&
	    pool.threads < (unsigned)(pool.max_threads + pool.max_abandoned);
	    n++)
		if (!spawn())
			break;
	pthread_mutex_unlock(&pool.lock);
	return true;
}

bool
wk_resolver_set_max_abandoned(int count)
{
	if (count < 0 || count > 65536)
		return false;
	pool_lock();
	pool.max_abandoned = count;
	pool.max_abandoned_set = true;
	pthread_mutex_unlock(&pool.lock);
	return true;
}

bool
wk_resolver_set_idle_time(int msecs)
{
	if (msecs < 0)
		return false;
	pool_lock();
	pool.idle_msecs = msecs;
	pthread_cond_broadcast(&pool.work);	/* idle threads look again */
	pthread_mutex_unlock(&pool.lock);
	return true;
}

bool
wk_resolver_set_cache(int entries, int ttl_msecs, int negative_ttl_msecs)
{
	if (entries < 0 || ttl_msecs < 0 || negative_ttl_msecs < 0)
		return false;
	pool_lock();
	pool.cache_entries = entries;
	pool.ttl_msecs = ttl_msecs;
	pool.negative_ttl_msecs = negative_ttl_msecs;
	cache_trim();
	pthread_mutex_unlock(&pool.lock);
	return true;
}

void
wk_resolver_clear_cache(void)
{
	pool_lock();
	cache_flush();
	pthread_mutex_unlock(&pool.lock);
}

void
wk_resolver_set_backend(wk_resolver_getaddrinfo_fn fn,
    wk_resolver_freeaddrinfo_fn free_fn, void *arg)
{
	pool_lock();
	pool.backend = fn;
	pool.backend_free = fn ? free_fn : NULL;
	pool.backend_arg = fn ? arg : NULL;
	cache_flush();		/* answers of the old backend */
	pthread_mutex_unlock(&pool.lock);
}

void
wk_resolver_get_stats(wk_resolver_stats *stats)
{
	if (!stats)
		return;
	pool_lock();
	*stats = pool.stats;
	stats->queued = pool.runq.count;
	stats->running = pool.running - pool.abandoned;
	stats->abandoned = pool.abandoned;
	stats->threads = pool.threads;
	pthread_mutex_unlock(&pool.lock);
}

void
wk__resolver_set_watch_files(const char *resolv_conf, const char *hosts)
{
	pool_lock();
	free(pool.watch_path[0]);
	free(pool.watch_path[1]);
	pool.watch_path[0] = resolv_conf ? strdup(resolv_conf) : NULL;
	pool.watch_path[1] = hosts ? strdup(hosts) : NULL;
	memset(pool.watch_stat, 0, sizeof(pool.watch_stat));
	pool.watch_next = 0;
	pthread_mutex_unlock(&pool.lock);
}

/* ---------------------------------------------------------------- shutdown */

/* Under the lock: drops every lookup nobody is delivering to right now. */
static void
drop_lookups(void)
{
	for (size_t i = 0; i < pool.id_buckets; i++) {
		struct lookup *l = pool.ids[i], *next;

		for (; l; l = next) {
			next = l->hnext;
			if (l->state == L_DELIVERING)
				continue;
			lookup_detach(l);
			lookup_release(l);
		}
	}
}

/* Under the lock: entries still running belong to their threads now. */
static void
orphan_entries(void)
{
	for (size_t i = 0; i < pool.name_buckets; i++) {
		struct entry *e = pool.names[i], *next;

		for (; e; e = next) {
			next = e->hnext;
			e->orphan = true;
		}
		pool.names[i] = NULL;
	}
	pool.name_count = 0;
}

void
wk_resolver_shutdown(void)
{
	pool_lock();
	pool.shutting_down = true;
	drop_lookups();
	pthread_cond_broadcast(&pool.work);
	pthread_cond_broadcast(&pool.ready);
	/* Threads stuck in an abandoned getaddrinfo() are not waited for. */
	while (pool.threads > pool.abandoned)
		pthread_cond_wait(&pool.gone, &pool.lock);
	drop_lookups();
	cache_flush();
	orphan_entries();
	if (pool.id_count == 0) {
		free(pool.ids);
		pool.ids = NULL;
		pool.id_buckets = 0;
	}
	free(pool.names);
	pool.names = NULL;
	pool.name_buckets = 0;
	free(pool.watch_path[0]);
	free(pool.watch_path[1]);
	pool.watch_path[0] = pool.watch_path[1] = NULL;
	pool.watch_next = 0;
	pool.shutting_down = false;
	pthread_mutex_unlock(&pool.lock);
}
