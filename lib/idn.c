/*
 * idn.c - internationalized domain names: UTS 46 conversion through
 * libidn2, and the host name checks done before every lookup
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include <wirekit/idn.h>

#include "idn-private.h"

/*
 * UTS 46 non-transitional processing: "faß" stays "faß" (IDNA2008)
 * rather than becoming "fass" (IDNA2003).  NFC input lets decomposed
 * text ("e" and U+0301) through as its composed form.
 */
#define IDN_FLAGS (IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT)

/*
 * RFC 1035: a label is at most 63 bytes and a name at most 255 on the
 * wire, which leaves 253 for the text form without its trailing dot.
 */
#define LABEL_MAX 63
#define NAME_MAX_ACE 253

/*
 * The longest Unicode text handed to libidn2: four UTF-8 bytes for each
 * byte of the longest ASCII form, so that no valid name is refused while
 * a hostile megabyte cannot keep a caller busy in libidn2.
 */
#define NAME_MAX_UTF8 (4 * (NAME_MAX_ACE + 1))

/* How much of a label too long to quote in a reason; the rest is "...". */
#define QUOTE_MAX 16

/* Both libidn2 conversions have this shape. */
typedef int (*idn2_convert_fn)(const char *in, char **out, int flags);

static wk_error
error_from_idn2(int rc)
{
	if (rc == IDN2_OK)
		return WK_NO_ERROR;
	return rc == IDN2_MALLOC ? WK_SOCKET_RESOURCE : WK_HOST_NOT_FOUND;
}

/*
 * Runs one libidn2 conversion and returns a copy of its result made
 * with malloc(3): the caller frees it with free(3), whatever allocator
 * libidn2 itself uses.
 */
static char *
convert(idn2_convert_fn fn, const char *in, wk_error *err)
{
	char *out = NULL, *copy = NULL;
	wk_error code = WK_INVALID_ARGUMENT;

	if (!in)
		goto err;
	if ((code = error_from_idn2(fn(in, &out, IDN_FLAGS))) != WK_NO_ERROR)
		goto err;
	if (!(copy = strdup(out)))
		code = WK_SOCKET_RESOURCE;
err:
	idn2_free(out);
	if (err)
		*err = code;
	return copy;
}

char *
wk_idn_to_ace(const char *utf8, wk_error *err)
{
	return convert(idn2_to_ascii_8z, utf8, err);
}

char *
wk_idn_to_unicode(const char *ace, wk_error *err)
{
	return convert(idn2_to_unicode_8z8z, ace, err);
}

/* Writes a reason (when there is room) and returns code. */
static wk_error __attribute__((format(printf, 4, 5)))
fail(wk_error code, char *why, size_t why_size, const char *fmt, ...)
{
	va_list ap;

	if (why_size == 0)
		return code;
	va_start(ap, fmt);
	vsnprintf(why, why_size, fmt, ap);
	va_end(ap);
	return code;
}

/*
 * Reports a label over LABEL_MAX bytes, quoting its start with anything
 * but printable ASCII shown as '?', so that the reason is safe to log.
 */
static wk_error
label_too_long(const char *label, size_t len, char *why, size_t why_size)
{
	char quote[QUOTE_MAX + 1];
	size_t i;

	for (i = 0; i < QUOTE_MAX && i < len; i++)
		quote[i] = label[i] > ' ' && label[i] < 0x7f ? label[i] : '?';
	quote[i] = '\0';
	return fail(WK_HOST_NOT_FOUND, why, why_size,
	    "label \"%s%s\" is %zu bytes; the limit is %d", quote,
	    len > QUOTE_MAX ? "..." : "", len, LABEL_MAX);
}

/* The label and length checks on a name in ASCII form. */
static wk_error
check_ascii(const char *name, size_t len, char *why, size_t why_size)
{
	size_t i, start = 0;

	if (len == 0)
		return fail(WK_HOST_NOT_FOUND, why, why_size,
		    "empty host name");
	if (name[len - 1] == '.')
		len--;	/* the root label of a fully qualified name */
	for (i = 0; i <= len; i++) {
		if (i < len && name[i] != '.')
			continue;
		if (i == start)
			return fail(WK_HOST_NOT_FOUND, why, why_size,
			    "empty label");
		if (i - start > LABEL_MAX)
			return label_too_long(name + start, i - start, why,
			    why_size);
		start = i + 1;
	}
	if (len > NAME_MAX_ACE)
		return fail(WK_HOST_NOT_FOUND, why, why_size,
		    "name is %zu bytes in ASCII form; the limit is %d", len,
		    NAME_MAX_ACE);
	return WK_NO_ERROR;
}

/* Checks an ASCII name and stores a lower-case copy in *ace. */
static wk_error
copy_ascii(const char *name, char **ace, char *why, size_t why_size)
{
	size_t i, len = strlen(name);
	wk_error code;
	char *copy;

	if ((code = check_ascii(name, len, why, why_size)) != WK_NO_ERROR)
		return code;
	if (!(copy = malloc(len + 1)))
		return fail(WK_SOCKET_RESOURCE, why, why_size, "out of memory");
	for (i = 0; i <= len; i++)
		copy[i] = name[i] >= 'A' && name[i] <= 'Z' ?
		    (char)(name[i] - 'A' + 'a') : name[i];
	*ace = copy;
	return WK_NO_ERROR;
}

/*
 * Returns the length of the well-formed UTF-8 sequence at s, or 0 when
 * there is none (Unicode, table 3-7): no overlong forms, no surrogates,
 * nothing above U+10FFFF, no lone continuation byte, no sequence cut
 * short (the terminating NUL is never a continuation byte).
 */
static size_t
utf8_sequence(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t i, n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	n = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	for (i = 1; i < n; i++, lo = 0x80, hi = 0xbf)
		if (s[i] < lo || s[i] > hi)
			return 0;
	return n;
}

/* Returns the offset of the first ill-formed sequence, or -1 if none. */
static ptrdiff_t
utf8_error(const char *name)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t i = 0, n;

	while (s[i]) {
		if ((n = utf8_sequence(s + i)) == 0)
			return (ptrdiff_t)i;
		i += n;
	}
	return -1;
}

/*
 * Why libidn2 refused a name.  Its length errors are given in the same
 * words as check_ascii() uses (libidn2's own text for IDN2_TOO_BIG_DOMAIN
 * says 255 where it applies 253).
 */
static wk_error
idn2_failure(int rc, char *why, size_t why_size)
{
	if (rc == IDN2_TOO_BIG_DOMAIN)
		return fail(WK_HOST_NOT_FOUND, why, why_size,
		    "name is over %d bytes in ASCII form", NAME_MAX_ACE);
	if (rc == IDN2_TOO_BIG_LABEL || rc == IDN2_PUNYCODE_BIG_OUTPUT)
		return fail(WK_HOST_NOT_FOUND, why, why_size,
		    "a label is over %d bytes in ASCII form", LABEL_MAX);
	return fail(error_from_idn2(rc), why, why_size,
	    "IDN conversion failed: %s", idn2_strerror(rc));
}

/* Converts a name with non-ASCII bytes, then checks it as ASCII. */
static wk_error
copy_idn(const char *name, char **ace, char *why, size_t why_size)
{
	ptrdiff_t bad = utf8_error(name);
	char *out = NULL;
	wk_error code;
	int rc;

	if (bad >= 0)
		return fail(WK_HOST_NOT_FOUND, why, why_size,
		    "invalid UTF-8 at byte %td", bad);
	if (strlen(name) > NAME_MAX_UTF8)
		return fail(WK_HOST_NOT_FOUND, why, why_size,
		    "name is %zu bytes; the limit is %d", strlen(name),
		    NAME_MAX_UTF8);
	if ((rc = idn2_to_ascii_8z(name, &out, IDN_FLAGS)) != IDN2_OK)
		return idn2_failure(rc, why, why_size);
	code = copy_ascii(out, ace, why, why_size);
	idn2_free(out);
	return code;
}

static bool
is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

wk_error
wk__host_to_ace(const char *name, char **ace, char *why, size_t why_size)
{
	if (why_size > 0)
		why[0] = '\0';
	if (ace)
		*ace = NULL;
	if (!name || !ace)
		return fail(WK_INVALID_ARGUMENT, why, why_size, "%s is NULL",
		    name ? "the result pointer" : "the host name");
	/* The fast path: no libidn2 for the names nearly every lookup uses. */
	if (is_ascii(name))
		return copy_ascii(name, ace, why, why_size);
	return copy_idn(name, ace, why, why_size);
}
