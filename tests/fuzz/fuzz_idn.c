/*
 * fuzz_idn.c - libFuzzer harness for the IDN conversions and the host
 * name checks made before every lookup
 *
 * The input is a name up to its first NUL; the byte after the NUL, if
 * any, is the size of the buffer for the reason wk__host_to_ace() writes
 * (160, lookup.c's size, without one).
 *
 * Invariants checked on every input:
 *  - wk_idn_to_ace() and wk_idn_to_unicode() set *err on every call
 *    (WK_NO_ERROR exactly on success), accept only well-formed UTF-8, and
 *    return well-formed UTF-8;
 *  - an ACE result is ASCII without upper case, its labels at most 63
 *    bytes, the name at most 253 without a trailing dot, and no non-empty
 *    label starts or ends with a hyphen or has "--" in its third and
 *    fourth places unless it is an "xn--" label;
 *  - a name of ASCII letters, digits, hyphens and dots that to_ace
 *    accepts comes back lower-cased, and nothing else; to_unicode copies
 *    an ASCII name without "xn--" labels unchanged;
 *  - to_unicode() takes back every ACE result; to_ace() of that gives the
 *    same ACE result again when the name had no "xn--" label of its own
 *    (see check_conversions() for why), and to_ace() of an ACE result is
 *    the ACE result itself;
 *  - wk__host_to_ace() follows lookup-private.h: success exactly when a
 *    reference check of the ASCII rules passes (for ASCII names), a lower
 *    case ASCII key, the empty reason; on failure a NULL key and a reason
 *    that is printable ASCII, cut to fit its buffer and NUL-terminated;
 *    for a non-ASCII name the key is wk_idn_to_ace()'s result.
 * A broken invariant is a __builtin_trap(), which libFuzzer reports.
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <wirekit/error.h>
#include <wirekit/idn.h>

#include "idn-private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LABEL_MAX 63
#define NAME_MAX_ACE 253
#define WHY_DEFAULT 160
#define ERR_UNSET ((wk_error)-12345)

static void
require(bool cond)
{
	if (!cond)
		__builtin_trap();
}

/* Well-formed UTF-8 (Unicode table 3-7), written apart from the library. */
static bool
valid_utf8(const char *text)
{
	const unsigned char *s = (const unsigned char *)text;

	while (*s) {
		unsigned c = *s, n;
		uint32_t cp;

		if (c < 0x80) {
			s++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return false;
		for (unsigned i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		s += n + 1;
	}
	return true;
}

static bool
is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

static bool
is_ldh_name(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '.'))
			return false;
	return true;
}

static bool
has_upper(const char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			return true;
	return false;
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* a equals b with A-Z of b folded to a-z */
static bool
equals_lowered(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (*a != lower(*b))
			return false;
	return *a == *b;
}

/*
 * The length of the label separator at s, 0 for none: the full stop and
 * the three that IDNA maps to it (U+3002, U+FF0E, U+FF61, RFC 3490 3.1).
 */
static size_t
dot_len(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	if (*u == '.')
		return 1;
	if ((u[0] == 0xe3 && u[1] == 0x80 && u[2] == 0x82) ||
	    (u[0] == 0xef && u[1] == 0xbc && u[2] == 0x8e) ||
	    (u[0] == 0xef && u[1] == 0xbd && u[2] == 0xa1))
		return 3;
	return 0;
}

/* Does any label of the name start with "xn--" in any case? */
static bool
has_xn_label(const char *s)
{
	const char *label = s;
	size_t dot;

	for (;; s++) {
		if ((dot = dot_len(s)) > 0 || *s == '\0') {
			if (s - label >= 4 && lower(label[0]) == 'x' &&
			    lower(label[1]) == 'n' && label[2] == '-' &&
			    label[3] == '-')
				return true;
			if (*s == '\0')
				return false;
			s += dot - 1;
			label = s + 1;
		}
	}
}

/* The checks documented for an ACE result of wk_idn_to_ace(). */
static void
check_ace_form(const char *ace)
{
	size_t len = strlen(ace), start = 0;

	require(is_ascii(ace));
	require(!has_upper(ace));
	if (len && ace[len - 1] == '.')
		len--;
	require(len <= NAME_MAX_ACE);
	for (size_t i = 0; i <= len; i++) {
		size_t n;
		const char *l;

		if (i < len && ace[i] != '.')
			continue;
		n = i - start;
		l = ace + start;
		require(n <= LABEL_MAX);
		if (n > 0) {
			require(l[0] != '-' && l[n - 1] != '-');
			if (n >= 4 && l[2] == '-' && l[3] == '-')
				require(l[0] == 'x' && l[1] == 'n');
		}
		start = i + 1;
	}
}

/* lookup-private.h's rules for an ASCII name; true when it passes. */
static bool
ref_ascii_ok(const char *name)
{
	size_t len = strlen(name), start = 0;

	if (len == 0)
		return false;
	if (name[len - 1] == '.')
		len--;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && name[i] != '.')
			continue;
		if (i == start || i - start > LABEL_MAX)
			return false;
		start = i + 1;
	}
	return len <= NAME_MAX_ACE;
}

static void
check_err(const void *result, wk_error err)
{
	if (result)
		require(err == WK_NO_ERROR);
	else
		require(err == WK_HOST_NOT_FOUND || err == WK_SOCKET_RESOURCE);
}

/* to_ace, to_unicode and back. */
static char *
check_conversions(const char *name)
{
	wk_error e1 = ERR_UNSET, e2 = ERR_UNSET, e3 = ERR_UNSET, e4 = ERR_UNSET;
	char *ace, *uni, *back, *again;

	ace = wk_idn_to_ace(name, &e1);
	check_err(ace, e1);
	if (ace) {
		require(valid_utf8(name));
		check_ace_form(ace);
		if (is_ldh_name(name))
			require(equals_lowered(ace, name));
	}

	uni = wk_idn_to_unicode(name, &e2);
	check_err(uni, e2);
	if (uni) {
		require(valid_utf8(name));
		require(valid_utf8(uni));
		if (is_ascii(name) && !has_xn_label(name))
			require(strcmp(uni, name) == 0);
	}
	free(uni);

	/*
	 * An ACE result without "xn--" labels is its own Unicode form
	 * (checked above for to_unicode() of such names): no round trip.
	 */
	if (!ace || !has_xn_label(ace))
		return ace;
	/* the Unicode form of an ACE result converts back to it */
	back = wk_idn_to_unicode(ace, &e3);
	require(back != NULL && e3 == WK_NO_ERROR);
	require(valid_utf8(back));
	/*
	 * libidn2 checks an "xn--" label of the input less strictly than the
	 * Unicode text it decodes to: "xn--fxexa-hia" (U+00AF) and
	 * "xn--bshle" (U+247C U+2476 U+247D) are accepted and copied,
	 * though UTS 46 refuses or maps those code points when they come as
	 * Unicode.  So the round trip is required only of names whose "xn--"
	 * labels to_ace() made itself.
	 */
	again = wk_idn_to_ace(back, &e4);
	check_err(again, e4);
	if (!has_xn_label(name))
		require(again != NULL && strcmp(again, ace) == 0);
	/* and to_ace of an ACE result is itself */
	free(again);
	again = wk_idn_to_ace(ace, NULL);
	require(again != NULL && strcmp(again, ace) == 0);
	free(again);
	free(back);
	return ace;
}

static bool
printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

static void
check_host_to_ace(const char *name, const char *idn_ace, size_t why_size)
{
	char *why = why_size ? malloc(why_size) : NULL, *key = (char *)1;
	wk_error code;

	if (why_size && !why)
		return;
	if (why)
		memset(why, 'x', why_size);
	code = wk__host_to_ace(name, &key, why, why_size);
	if (code == WK_NO_ERROR) {
		require(key != NULL);
		if (why)
			require(why[0] == '\0');
		require(is_ascii(key) && !has_upper(key));
		require(ref_ascii_ok(key));
		if (is_ascii(name)) {
			require(ref_ascii_ok(name));
			require(equals_lowered(key, name));
		} else {
			require(valid_utf8(name));
			require(idn_ace != NULL && strcmp(key, idn_ace) == 0);
		}
		free(key);
	} else {
		require(code == WK_HOST_NOT_FOUND ||
		    code == WK_SOCKET_RESOURCE);
		require(key == NULL);
		if (is_ascii(name))
			require(!ref_ascii_ok(name));
		if (why) {
			require(memchr(why, '\0', why_size) != NULL);
			require(printable(why));
			/* a reason is given whenever there is room for one */
			if (why_size > 1)
				require(why[0] != '\0');
		}
	}
	free(why);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t len = nul ? (size_t)(nul - data) : size;
	size_t why_size = WHY_DEFAULT;
	char *name, *ace;

	if (nul && len + 1 < size)
		why_size = nul[1];
	if (!(name = malloc(len + 1)))
		return 0;
	memcpy(name, data, len);
	name[len] = '\0';

	ace = check_conversions(name);
	check_host_to_ace(name, ace, why_size);
	free(ace);
	free(name);
	return 0;
}
