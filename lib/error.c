/*
 * error.c - error codes, state names, and the per-object error record
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <netdb.h>

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error-private.h"

struct error_entry {
	const char *name;
	const char *message;
};

static const struct error_entry error_table[] = {
#define ENTRY(name, value, msg) [value] = { #name, msg },
	WK_ERROR_TABLE(ENTRY)
#undef ENTRY
};

static const char *const state_table[] = {
#define ENTRY(name, value) [value] = #name,
	WK_STATE_TABLE(ENTRY)
#undef ENTRY
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const struct error_entry *
error_lookup(wk_error code)
{
	/* Compare as unsigned so a negative code is out of range too. */
	if ((unsigned)code >= COUNT(error_table) || !error_table[code].name)
		return NULL;
	return &error_table[code];
}

const char *
wk_error_name(wk_error code)
{
	const struct error_entry *e = error_lookup(code);

	return e ? e->name : "WK_UNKNOWN_ERROR_CODE";
}

const char *
wk_error_message(wk_error code)
{
	const struct error_entry *e = error_lookup(code);

	return e ? e->message : "Unknown error code";
}

const char *
wk_state_name(wk_state state)
{
	if ((unsigned)state >= COUNT(state_table) || !state_table[state])
		return "WK_STATE_INVALID";
	return state_table[state];
}

wk_error
wk__error_from_errno(int errnum)
{
	switch (errnum) {
	case 0:
		return WK_NO_ERROR;
	case ECONNREFUSED:
		return WK_CONNECTION_REFUSED;
	case ETIMEDOUT:
		return WK_SOCKET_TIMEOUT;
	case EMFILE: case ENFILE: case ENOBUFS: case ENOMEM:
		return WK_SOCKET_RESOURCE;
	case EACCES: case EPERM:
		return WK_SOCKET_ACCESS;
	case EADDRINUSE:
		return WK_ADDRESS_IN_USE;
	case EADDRNOTAVAIL:
		return WK_ADDRESS_NOT_AVAILABLE;
	case ENETUNREACH: case EHOSTUNREACH: case ENETDOWN:
		return WK_NETWORK;
	case EMSGSIZE:
		return WK_DATAGRAM_TOO_LARGE;
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
	case EAGAIN:
		return WK_TEMPORARY;
	case ECONNRESET: case EPIPE:
		return WK_REMOTE_HOST_CLOSED;
	case EAFNOSUPPORT: case EPROTONOSUPPORT: case EOPNOTSUPP:
		return WK_UNSUPPORTED_OPERATION;
	case EINPROGRESS: case EALREADY:
		return WK_UNFINISHED_OPERATION;
	case EINVAL:
		return WK_INVALID_ARGUMENT;
	default:
		return WK_UNKNOWN;
	}
}

wk_error
wk__error_from_gai(int eai, int errnum)
{
	switch (eai) {
	case 0:
		return WK_NO_ERROR;
	case EAI_NONAME:
		/*
		 * glibc says "no such name" when it could not even read its
		 * configuration for want of descriptors or memory.
		 */
		if (errnum == EMFILE || errnum == ENFILE || errnum == ENOMEM ||
		    errnum == ENOBUFS)
			return WK_SOCKET_RESOURCE;
		return WK_HOST_NOT_FOUND;
#ifdef EAI_NODATA
	case EAI_NODATA:
#endif
	case EAI_FAIL:
		return WK_HOST_NOT_FOUND;
	case EAI_MEMORY:
		return WK_SOCKET_RESOURCE;
	case EAI_SYSTEM:
		/* The real cause is in errno; keep it when it names one. */
		return errnum ? wk__error_from_errno(errnum) : WK_UNKNOWN;
	default:
		return WK_UNKNOWN;
	}
}

void
wk__err_reset(wk__err *e)
{
	free(e->message);
	e->message = NULL;
	e->fixed = NULL;
	e->code = WK_NO_ERROR;
	e->sys_errno = 0;
}

/*
 * Formats fmt and, when reason is not NULL, appends ": reason".  When
 * memory runs out the message stays NULL and wk__err_string() falls back
 * to the code's fixed message, so an error is never lost.
 */
static void
err_store(wk__err *e, wk_error code, int errnum, const char *reason,
    const char *fmt, va_list ap)
{
	char *head = NULL, *msg = NULL;

	free(e->message);
	e->message = NULL;
	e->fixed = NULL;
	e->code = code;
	e->sys_errno = errnum;
	/* A message without arguments needs no copy: errors in hot loops
	 * (nothing to read yet) then cost no allocation. */
	if (!reason && !strchr(fmt, '%')) {
		e->fixed = fmt;
		return;
	}
	if (vasprintf(&head, fmt, ap) < 0)
		return;
	if (!reason) {
		e->message = head;
		return;
	}
	if (asprintf(&msg, "%s: %s", head, reason) < 0)
		msg = NULL;
	free(head);
	e->message = msg;
}

void
wk__err_set(wk__err *e, wk_error code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_store(e, code, 0, NULL, fmt, ap);
	va_end(ap);
}

void
wk__err_set_sys(wk__err *e, int errnum, const char *fmt, ...)
{
	char buf[128];
	va_list ap;

	va_start(ap, fmt);
	err_store(e, wk__error_from_errno(errnum), errnum,
	    strerror_r(errnum, buf, sizeof(buf)), fmt, ap);
	va_end(ap);
}

void
wk__err_set_gai(wk__err *e, int eai, int errnum, const char *fmt, ...)
{
	char buf[128];
	const char *reason;
	va_list ap;

	wk_error code = wk__error_from_gai(eai, errnum);
	bool from_errno = eai == EAI_SYSTEM ||
	    (eai == EAI_NONAME && code == WK_SOCKET_RESOURCE);

	if (from_errno && errnum)
		reason = strerror_r(errnum, buf, sizeof(buf));
	else
		reason = gai_strerror(eai);
	va_start(ap, fmt);
	err_store(e, code, from_errno ? errnum : 0, reason, fmt, ap);
	va_end(ap);
}

const char *
wk__err_string(const wk__err *e)
{
	if (e->message)
		return e->message;
	return e->fixed ? e->fixed : wk_error_message(e->code);
}
