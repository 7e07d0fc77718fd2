/*
 * bench_lookup.c - the lookup pool against a sequential getaddrinfo()
 * loop and a thread-per-lookup loop, in one run, with a backend that
 * answers every name after a fixed latency (as a slow DNS server would)
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <sys/socket.h>

#include <netdb.h>
#include <netinet/in.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <wirekit.h>

#include "bench.h"

#define LATENCY_MS 100
#define SEQUENTIAL_SAMPLE 10	/* the sequential loop is timed on a few names */
#define HITS 1000000L

struct fake_ai {
	struct addrinfo ai;
	struct sockaddr_in sin;
};

static pthread_mutex_t stuck_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stuck_cond = PTHREAD_COND_INITIALIZER;
static bool stuck_released;

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

/* getaddrinfo()'s contract: every name answers 192.0.2.1 after the latency. */
static int
fake_getaddrinfo(const char *node, const char *service,
    const struct addrinfo *hints, struct addrinfo **res, void *arg)
{
	struct fake_ai *f;

	(void)service;
	(void)hints;
	(void)arg;
	if (strncmp(node, "stuck", 5) == 0) {
		pthread_mutex_lock(&stuck_lock);
		while (!stuck_released)
			pthread_cond_wait(&stuck_cond, &stuck_lock);
		pthread_mutex_unlock(&stuck_lock);
	} else {
		sleep_ms(LATENCY_MS);
	}
	if (!(f = calloc(1, sizeof(*f))))
		return EAI_MEMORY;
	f->sin.sin_family = AF_INET;
	f->sin.sin_addr.s_addr = htonl(0xc0000201);
	f->ai.ai_family = AF_INET;
	f->ai.ai_socktype = SOCK_STREAM;
	f->ai.ai_addr = (struct sockaddr *)&f->sin;
	f->ai.ai_addrlen = sizeof(f->sin);
	*res = &f->ai;
	return 0;
}

static void
fake_freeaddrinfo(struct addrinfo *res, void *arg)
{
	(void)arg;
	free(res);
}

/* ---------------------------------------------------------------- wirekit */

static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static long done_count;

static void
on_done(const wk_hostinfo *info, void *arg)
{
	(void)info;
	(void)arg;
	pthread_mutex_lock(&done_lock);
	done_count++;
	pthread_cond_signal(&done_cond);
	pthread_mutex_unlock(&done_lock);
}

/* Starts n lookups (distinct names, or one name n times); waits for all. */
static double
run_wirekit(int n, bool distinct)
{
	char name[64];
	double t = bench_now();

	done_count = 0;
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "host%d.bench.test", distinct ? i : 0);
		if (wk_lookup_start(name, on_done, NULL) < 0)
			exit(1);
	}
	pthread_mutex_lock(&done_lock);
	while (done_count < n)
		pthread_cond_wait(&done_cond, &done_lock);
	pthread_mutex_unlock(&done_lock);
	t = bench_now() - t;
	wk_resolver_clear_cache();
	return t * 1000;
}

/* ---------------------------------------------------------------- the others */

static void *
one_lookup(void *arg)
{
	struct addrinfo *res = NULL;

	if (fake_getaddrinfo(arg, NULL, NULL, &res, NULL) == 0)
		fake_freeaddrinfo(res, NULL);
	return NULL;
}

/* One thread per lookup, as a program without a pool would do it. */
static double
run_thread_per_lookup(int n)
{
	pthread_t *t = calloc((size_t)n, sizeof(*t));
	double start = bench_now();

	for (int i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, one_lookup, "host.bench.test") != 0)
			exit(1);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	free(t);
	return (bench_now() - start) * 1000;
}

/* A sequential loop, timed on a sample and scaled to n names. */
static double
run_sequential(int n)
{
	double start = bench_now();

	for (int i = 0; i < SEQUENTIAL_SAMPLE; i++)
		one_lookup("host.bench.test");
	return (bench_now() - start) * 1000 / SEQUENTIAL_SAMPLE * n;
}

static void
row_ms(const char *name, double wk, double other, const char *versus)
{
	printf("%-34s %10.0f ms %10.0f ms %7.3f  (vs %s)\n", name, wk, other,
	    wk / other, versus);
}

static void
distinct_names(int n)
{
	char label[64];
	double wk = run_wirekit(n, true);

	snprintf(label, sizeof(label), "%d distinct names", n);
	row_ms(label, wk, run_sequential(n), "sequential getaddrinfo");
	row_ms(label, wk, run_thread_per_lookup(n), "a thread per lookup");
	printf("%-34s target %.0f ms: %s\n", "",
	    1.2 * ((n + 19) / 20) * LATENCY_MS,
	    wk <= 1.2 * ((n + 19) / 20) * LATENCY_MS ? "met" : "MISSED");
}

static void
cache_hits(void)
{
	wk_hostinfo *info = wk_lookup("hit.bench.test", -1);
	double t;

	wk_hostinfo_free(info);
	t = bench_now();
	for (long i = 0; i < HITS; i++)
		wk_hostinfo_free(wk_lookup("hit.bench.test", -1));
	t = (bench_now() - t) * 1e9 / HITS;
	printf("%-34s %10.0f ns per lookup, %.1f M lookups/s (target <= 1000 ns)\n",
	    "blocking cache hit", t, 1e3 / t);
}

static void
abort_latency(void)
{
	double worst = 0, t;
	int64_t id;

	for (int i = 0; i < 100; i++) {
		char name[32];

		snprintf(name, sizeof(name), "stuck%d.bench.test", i);
		if ((id = wk_lookup_start(name, on_done, NULL)) < 0)
			exit(1);
		t = bench_now();
		wk_lookup_abort(id);
		t = (bench_now() - t) * 1e6;
		if (t > worst)
			worst = t;
	}
	printf("%-34s %10.1f us worst of 100 (target <= 1000 us)\n",
	    "abort while getaddrinfo is stuck", worst);
	pthread_mutex_lock(&stuck_lock);
	stuck_released = true;
	pthread_cond_broadcast(&stuck_cond);
	pthread_mutex_unlock(&stuck_lock);
}

int
main(void)
{
	wk_resolver_set_backend(fake_getaddrinfo, fake_freeaddrinfo, NULL);
	printf("lookups: every name answered after %d ms; pool of 20 threads\n",
	    LATENCY_MS);
	printf("%-34s %13s %13s %7s\n", "workload", "wirekit", "other", "ratio");
	distinct_names(200);
	distinct_names(1000);
	row_ms("1000 lookups of one name", run_wirekit(1000, false),
	    run_thread_per_lookup(1000), "a thread per lookup");
	cache_hits();
	abort_latency();
	wk_resolver_shutdown();
	return EXIT_SUCCESS;
}
