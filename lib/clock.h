/*
 * clock.h - monotonic time and deadlines, shared by every wait
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef WIREKIT_CLOCK_H
#define WIREKIT_CLOCK_H

#include <stdint.h>
#include <time.h>

#define WK__NS_PER_MS 1000000LL
#define WK__FOREVER INT64_MAX

static inline int64_t
wk__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* msecs as every wait takes it: -1 forever, below -1 the same as 0. */
static inline int64_t
wk__deadline(int msecs)
{
	if (msecs == -1)
		return WK__FOREVER;
	return wk__now_ns() + (msecs < 0 ? 0 : msecs) * WK__NS_PER_MS;
}

/* Milliseconds left until deadline, rounded up, for poll(). */
static inline int
wk__ms_left(int64_t deadline)
{
	int64_t left;

	if (deadline == WK__FOREVER)
		return -1;
	left = deadline - wk__now_ns();
	if (left <= 0)
		return 0;
	left = (left + WK__NS_PER_MS - 1) / WK__NS_PER_MS;
	return left > INT32_MAX ? INT32_MAX : (int)left;
}

#endif /* WIREKIT_CLOCK_H */
