/*
 * buffer.c - the byte queue behind socket input and output
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buffer.h"

/* The first allocation; a socket that never buffers never allocates. */
#define MIN_CAPACITY 4096

/*
 * wk__buf_space() when the tail has no room for want more bytes (it
 * checked): moves the bytes down or grows.
 */
char *
wk__buf_grow(wk__buf *b, size_t want)
{
	size_t len = wk__buf_len(b), cap;
	char *data;

	if (b->head > 0 && b->cap - len >= want) {
		memmove(b->data, b->data + b->head, len);
		b->head = 0;
		b->tail = len;
		return b->data + b->tail;
	}
	if (want > SIZE_MAX - len)
		return NULL;
	for (cap = b->cap ? b->cap : MIN_CAPACITY; cap - len < want; cap *= 2)
		if (cap > SIZE_MAX / 2)
			return NULL;
	if (!(data = malloc(cap)))
		return NULL;
	if (len)
		memcpy(data, b->data + b->head, len);
	free(b->data);
	b->data = data;
	b->cap = cap;
	b->head = 0;
	b->tail = len;
	return data + len;
}

bool
wk__buf_append(wk__buf *b, const void *data, size_t n)
{
	char *p;

	if (n == 0)
		return true;
	if (!(p = wk__buf_space(b, n)))
		return false;
	memcpy(p, data, n);
	b->tail += n;
	return true;
}

size_t
wk__buf_peek(const wk__buf *b, void *out, size_t n)
{
	size_t len = wk__buf_len(b);

	if (n > len)
		n = len;
	if (n)
		memcpy(out, b->data + b->head, n);
	return n;
}

/* Removes n bytes from the head; an emptied buffer starts over at 0. */
void
wk__buf_drop(wk__buf *b, size_t n)
{
	b->head += n;
	if (b->head == b->tail)
		b->head = b->tail = 0;
}

size_t
wk__buf_take(wk__buf *b, void *out, size_t n)
{
	n = wk__buf_peek(b, out, n);
	wk__buf_drop(b, n);
	return n;
}

/* Index of the first c within the first limit bytes, or -1. */
ssize_t
wk__buf_find(const wk__buf *b, char c, size_t limit)
{
	size_t len = wk__buf_len(b);
	const char *p;

	if (limit > len)
		limit = len;
	if (limit == 0 || !(p = memchr(b->data + b->head, c, limit)))
		return -1;
	return p - (b->data + b->head);
}

void
wk__buf_free(wk__buf *b)
{
	free(b->data);
	b->data = NULL;
	b->head = b->tail = b->cap = 0;
}
