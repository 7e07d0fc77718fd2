/*
 * fortune.h - the Qt 4 fortune protocol, byte for byte
 *
 * One block per connection, as Qt's examples/network/fortuneserver
 * writes it with QDataStream (version Qt_4_0, big-endian):
 *
 *	quint16  block size: the bytes that follow
 *	quint32  byte length of the text (0xFFFFFFFF: a null QString)
 *	...      the text in UTF-16BE
 *
 * So a fortune of n UTF-16 code units is a block of 2 + 4 + 2n bytes
 * whose size field says 4 + 2n.  The helpers convert from and to UTF-8
 * (surrogate pairs included) and refuse malformed input either way.
 *
 * This example is in the public domain.
 */
#ifndef FORTUNE_H
#define FORTUNE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FORTUNE_SIZE_BYTES 2		/* the quint16 block size */
#define FORTUNE_NULL_STRING 0xFFFFFFFFu	/* QDataStream's null QString */
/* The largest block: its size must fit the quint16 (65535 bytes). */
#define FORTUNE_MAX_BLOCK (FORTUNE_SIZE_BYTES + 65535)

static inline void
fortune_put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static inline unsigned
fortune_get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static inline uint32_t
fortune_get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/*
 * The code point starting at *s, advancing *s; -1 when the bytes are not
 * UTF-8 (a stray continuation, a truncated or overlong sequence, a
 * surrogate, or a value above U+10FFFF).
 */
static inline int32_t
fortune_utf8_next(const unsigned char **s)
{
	static const uint32_t least[4] = { 0, 0x80, 0x800, 0x10000 };
	const unsigned char *p = *s;
	uint32_t c = *p++;
	int more;

	if (c < 0x80)
		more = 0;
	else if ((c & 0xE0) == 0xC0)
		more = 1, c &= 0x1F;
	else if ((c & 0xF0) == 0xE0)
		more = 2, c &= 0x0F;
	else if ((c & 0xF8) == 0xF0)
		more = 3, c &= 0x07;
	else
		return -1;
	for (int i = 0; i < more; i++, p++) {
		if ((*p & 0xC0) != 0x80)
			return -1;	/* also stops at the NUL */
		c = c << 6 | (*p & 0x3F);
	}
	if (c < least[more] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return -1;
	*s = p;
	return (int32_t)c;
}

/*
 * Encodes the UTF-8 text (NULL: a null QString) as one whole block in
 * out.  Returns the block's length, or 0 when the text is not UTF-8 or
 * the block would not fit out or the quint16 size.
 */
static inline size_t
fortune_encode(const char *text, unsigned char *out, size_t size)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t n = FORTUNE_SIZE_BYTES + 4;
	int32_t c;

	if (size < n)
		return 0;
	if (!text) {
		fortune_put16(out, 4);
		fortune_put16(out + 2, 0xFFFF);
		fortune_put16(out + 4, 0xFFFF);
		return n;
	}
	while (*s) {
		if ((c = fortune_utf8_next(&s)) < 0)
			return 0;
		if (n + (c > 0xFFFF ? 4 : 2) > size ||
		    n + (c > 0xFFFF ? 4 : 2) > FORTUNE_MAX_BLOCK)
			return 0;
		if (c > 0xFFFF) {
			c -= 0x10000;
			fortune_put16(out + n, 0xD800 | (unsigned)(c >> 10));
			fortune_put16(out + n + 2, 0xDC00 | (unsigned)(c & 0x3FF));
			n += 4;
		} else {
			fortune_put16(out + n, (unsigned)c);
			n += 2;
		}
	}
	fortune_put16(out, (unsigned)(n - FORTUNE_SIZE_BYTES));
	fortune_put16(out + 2, (unsigned)((n - 6) >> 16));
	fortune_put16(out + 4, (unsigned)((n - 6) & 0xFFFF));
	return n;
}

/* Appends code point c to out as UTF-8; false when it does not fit. */
static inline bool
fortune_utf8_put(uint32_t c, char *out, size_t size, size_t *len)
{
	unsigned char *p = (unsigned char *)out + *len;
	size_t need = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;

	if (size - *len <= need)	/* room for the NUL too */
		return false;
	if (need == 1) {
		p[0] = (unsigned char)c;
	} else {
		for (size_t i = need - 1; i > 0; i--, c >>= 6)
			p[i] = (unsigned char)(0x80 | (c & 0x3F));
		p[0] = (unsigned char)((0xF00u >> need) | c);
	}
	*len += need;
	return true;
}

/*
 * Decodes a block's payload (what follows the block size, len bytes) to
 * NUL-terminated UTF-8 in out.  *is_null tells a null QString from an
 * empty one.  Returns false when the payload is not exactly one
 * QString, the UTF-16 is malformed (a lone surrogate), or out is small.
 */
static inline bool
fortune_decode(const unsigned char *payload, size_t len, char *out,
    size_t size, bool *is_null)
{
	size_t n = 0;
	uint32_t bytes;

	if (size == 0 || len < 4)
		return false;
	out[0] = '\0';
	bytes = fortune_get32(payload);
	if ((*is_null = bytes == FORTUNE_NULL_STRING))
		return len == 4;
	if (bytes % 2 != 0 || bytes != len - 4)
		return false;
	for (size_t i = 4; i < len; i += 2) {
		uint32_t c = fortune_get16(payload + i);

		if (c >= 0xDC00 && c <= 0xDFFF)
			return false;	/* a low surrogate first */
		if (c >= 0xD800 && c <= 0xDBFF) {
			uint32_t lo;

			if (i + 4 > len)
				return false;
			lo = fortune_get16(payload + i + 2);
			if (lo < 0xDC00 || lo > 0xDFFF)
				return false;
			c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
			i += 2;
		}
		if (!fortune_utf8_put(c, out, size, &n))
			return false;
	}
	out[n] = '\0';
	return true;
}

#endif /* FORTUNE_H */
