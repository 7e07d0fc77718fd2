/*
 * fuzz_fortune.c - libFuzzer harness for the fortune protocol's block
 * decoder and encoder (examples/fortune.h)
 *
 * The first input byte chooses the mode and a buffer size; the rest is
 * either a block's payload (what follows the quint16 block size), fed to
 * fortune_decode(), or, with the mode's top bit set, UTF-8 text fed to
 * fortune_encode().
 *
 * Invariants checked on every input:
 *  - fortune_decode() agrees with a reference decoder written from the
 *    format (quint32 byte length or 0xFFFFFFFF, UTF-16BE, surrogate pairs
 *    whole): it succeeds exactly when the payload is one QString whose
 *    UTF-8 and NUL fit the output, with the same bytes and is_null, and
 *    never writes past the output (each buffer is allocated to its size);
 *  - success gives well-formed UTF-8, NUL-terminated, and the examples'
 *    text buffer (FORTUNE_MAX_BLOCK * 3 / 2) holds any block;
 *  - fortune_encode() of the decoded text gives back the very block
 *    (when the text holds no U+0000, which a C string cannot carry) and
 *    re-decodes to the same text; it refuses an output one byte short;
 *  - fortune_encode() of arbitrary text succeeds exactly for well-formed
 *    UTF-8 that fits, and its block decodes back to the text.
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

#include "fortune.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The text buffer of the example clients. */
#define CLIENT_TEXT (FORTUNE_MAX_BLOCK * 3 / 2)

static void
require(bool cond)
{
	if (!cond)
		__builtin_trap();
}

/* Well-formed UTF-8 over n bytes, NULs allowed (Unicode table 3-7). */
static bool
valid_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], k;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			k = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3, cp = c & 0x07;
		else
			return false;
		for (unsigned j = 1; j <= k; j++) {
			if (i + j >= n || (s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

static size_t
put_utf8(uint32_t c, unsigned char *out)
{
	if (c < 0x80) {
		out[0] = (unsigned char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (unsigned char)(0xc0 | c >> 6);
		out[1] = (unsigned char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (unsigned char)(0xe0 | c >> 12);
		out[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
		out[2] = (unsigned char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (unsigned char)(0xf0 | c >> 18);
	out[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3f));
	out[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
	out[3] = (unsigned char)(0x80 | (c & 0x3f));
	return 4;
}

/*
 * The reference: the payload's text as UTF-8 in out (room for 3 bytes a
 * payload byte), its length in *n, whether it holds U+0000 in *has_nul.
 * False when the payload is not exactly one well-formed QString.
 */
static bool
ref_decode(const unsigned char *p, size_t len, unsigned char *out, size_t *n,
    bool *is_null, bool *has_nul)
{
	uint32_t bytes;

	*n = 0;
	*is_null = *has_nul = false;
	if (len < 4)
		return false;
	bytes = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
	if (bytes == 0xffffffffu) {
		*is_null = true;
		return len == 4;
	}
	if ((uint64_t)bytes + 4 != len || bytes % 2)
		return false;
	for (size_t i = 4; i < len; i += 2) {
		uint32_t u = (uint32_t)p[i] << 8 | p[i + 1];

		if (u >= 0xdc00 && u <= 0xdfff)
			return false;
		if (u >= 0xd800 && u <= 0xdbff) {
			uint32_t lo;

			if (i + 4 > len)
				return false;
			lo = (uint32_t)p[i + 2] << 8 | p[i + 3];
			if (lo < 0xdc00 || lo > 0xdfff)
				return false;
			u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
			i += 2;
		}
		if (u == 0)
			*has_nul = true;
		*n += put_utf8(u, out + *n);
	}
	return true;
}

/* The large buffers, static: big allocations make ASan slow. */
static char client_text[CLIENT_TEXT];
static unsigned char block_buf[FORTUNE_MAX_BLOCK];

/*
 * fortune_decode() into a buffer of exactly size bytes (the clients'
 * static buffer for CLIENT_TEXT, when the text is not kept).
 */
static bool
decode_sized(const unsigned char *p, size_t len, size_t size, char **text,
    bool *is_null)
{
	char *out;
	bool ok;

	if (size == CLIENT_TEXT && !text) {
		*is_null = false;
		return fortune_decode(p, len, client_text, size, is_null);
	}
	out = malloc(size ? size : 1);
	require(out != NULL);
	*is_null = false;
	ok = fortune_decode(p, len, out, size, is_null);
	if (text)
		*text = out;
	else
		free(out);
	return ok;
}

/*
 * Encodes text into block_buf and checks that one byte less of room is
 * refused.
 */
static size_t
encode_checked(const char *text, unsigned char **block)
{
	unsigned char *b = block_buf, *s;
	size_t n;

	n = fortune_encode(text, b, sizeof block_buf);
	if (n) {
		require(n >= FORTUNE_SIZE_BYTES + 4 && n <= FORTUNE_MAX_BLOCK);
		require(fortune_get16(b) == n - FORTUNE_SIZE_BYTES);
		s = malloc(n - 1);
		require(s != NULL);
		require(fortune_encode(text, s, n - 1) == 0);
		free(s);
	}
	*block = b;
	return n;
}

static void
check_decode(const unsigned char *p, size_t len, unsigned sel)
{
	size_t n, m, sizes[4];
	unsigned char *ref = malloc(len * 2 + 1), *block;
	bool ref_ok, ref_null, has_nul, is_null, ok;
	char *text;

	require(ref != NULL);
	ref_ok = ref_decode(p, len, ref, &n, &ref_null, &has_nul);
	ref[n] = '\0';
	if (ref_ok && len <= 65535)
		require(n + 1 <= CLIENT_TEXT);

	/* exactly enough, one short, the input's choice, the clients' size */
	sizes[0] = n + 1;
	sizes[1] = n;
	sizes[2] = sel % 64;
	sizes[3] = CLIENT_TEXT;
	for (int i = 0; i < 4; i++) {
		ok = decode_sized(p, len, sizes[i], NULL, &is_null);
		require(ok == (ref_ok && sizes[i] >= n + 1));
	}

	ok = decode_sized(p, len, n + 1, &text, &is_null);
	if (!ok) {
		free(text);
		free(ref);
		return;
	}
	require(is_null == ref_null);
	require(memcmp(text, ref, n + 1) == 0);
	require(valid_utf8((const unsigned char *)text, n));
	if (is_null)
		require(n == 0);

	/* encode what was decoded */
	n = encode_checked(is_null ? NULL : text, &block);
	require(n != 0);
	if (!has_nul) {
		require(n == FORTUNE_SIZE_BYTES + len);
		require(memcmp(block + FORTUNE_SIZE_BYTES, p, len) == 0);
	}
	/* it decodes to the text up to its first NUL, exactly fitting */
	m = strlen(text);
	free(text);
	ok = decode_sized(block + FORTUNE_SIZE_BYTES, n - FORTUNE_SIZE_BYTES,
	    m + 1, &text, &is_null);
	require(ok && is_null == ref_null);
	require(strcmp(text, (const char *)ref) == 0);
	free(text);
	free(ref);
}

static void
check_encode(const unsigned char *p, size_t len)
{
	char *text = malloc(len + 1), *back;
	unsigned char *block;
	size_t n, units = 0, i;
	bool ok, is_null;

	require(text != NULL);
	memcpy(text, p, len);
	text[len] = '\0';
	len = strlen(text);
	ok = valid_utf8((const unsigned char *)text, len);
	/* UTF-16 units: 2 for 4-byte sequences, 1 for every other lead */
	for (i = 0; ok && i < len; i++)
		if (((unsigned char)text[i] & 0xc0) != 0x80)
			units += (unsigned char)text[i] >= 0xf0 ? 2 : 1;
	if (ok && FORTUNE_SIZE_BYTES + 4 + 2 * units > FORTUNE_MAX_BLOCK)
		ok = false;

	n = encode_checked(text, &block);
	require((n != 0) == ok);
	if (ok) {
		require(n == FORTUNE_SIZE_BYTES + 4 + 2 * units);
		require(decode_sized(block + FORTUNE_SIZE_BYTES,
		    n - FORTUNE_SIZE_BYTES, len + 1, &back, &is_null));
		require(!is_null && strcmp(back, text) == 0);
		free(back);
	}
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0) {
		/* the null QString */
		unsigned char *block;

		require(encode_checked(NULL, &block) == 6);
		require(memcmp(block, "\0\4\377\377\377\377", 6) == 0);
		return 0;
	}
	if (data[0] & 0x80)
		check_encode(data + 1, size - 1);
	else
		check_decode(data + 1, size - 1, data[0]);
	return 0;
}
