/*
 * error-private.h - the error record every wirekit object keeps
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef WIREKIT_ERROR_PRIVATE_H
#define WIREKIT_ERROR_PRIVATE_H

#include <wirekit/error.h>

/*
 * The last error of an object: its code, the errno value behind it (0
 * when there was none) and a message with context, allocated.  A record
 * that is all zero means "no error".
 */
typedef struct wk__err {
	wk_error code;
	int sys_errno;
	char *message;		/* allocated, or NULL */
	const char *fixed;	/* a constant message, used when message is NULL */
} wk__err;

wk_error wk__error_from_errno(int errnum);
wk_error wk__error_from_gai(int eai, int errnum);

void wk__err_reset(wk__err *e);

/* Every call clears its object's error first: nothing to do when clear. */
static inline void
wk__err_clear(wk__err *e)
{
	if (e->code != WK_NO_ERROR || e->message || e->fixed)
		wk__err_reset(e);
}
void wk__err_set(wk__err *e, wk_error code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void wk__err_set_sys(wk__err *e, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void wk__err_set_gai(wk__err *e, int eai, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
const char *wk__err_string(const wk__err *e);

#endif /* WIREKIT_ERROR_PRIVATE_H */
