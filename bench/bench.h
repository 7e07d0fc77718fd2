/*
 * bench.h - timing helpers shared by the bench/ programs
 *
 * Each program runs the same work with wirekit and with the raw POSIX
 * calls in one run and prints both times and their ratio.  The best of
 * several rounds is kept, so a busy machine shows less noise.
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef WIREKIT_BENCH_H
#define WIREKIT_BENCH_H

#include <stdio.h>
#include <time.h>

#define BENCH_ROUNDS 5

static inline double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs fn(iterations) BENCH_ROUNDS times; returns the best ns per call. */
static inline double
bench_best(void (*fn)(long), long iterations)
{
	double best = 0;

	for (int r = 0; r < BENCH_ROUNDS; r++) {
		double t = bench_now();

		fn(iterations);
		t = (bench_now() - t) * 1e9 / (double)iterations;
		if (r == 0 || t < best)
			best = t;
	}
	return best;
}

static inline void
bench_header(const char *title)
{
	printf("%s\n%-28s %12s %12s %8s\n", title, "workload", "wirekit ns",
	    "POSIX ns", "ratio");
}

/* ratio = wirekit / POSIX: below 1.00 wirekit is faster. */
static inline void
bench_row(const char *name, double wk, double posix)
{
	printf("%-28s %12.1f %12.1f %8.2f\n", name, wk, posix, wk / posix);
}

#endif /* WIREKIT_BENCH_H */
