/*
 * buffer.h - a byte queue for socket input and output
 *
 * Bytes are appended at the tail and taken from the head of one
 * contiguous allocation; the space before the head is reclaimed by a
 * move when more room is needed, so no byte is ever copied twice in a
 * row and a whole line is always contiguous for read_line.
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef WIREKIT_BUFFER_H
#define WIREKIT_BUFFER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct wk__buf {
	char *data;
	size_t head, tail, cap;
} wk__buf;

static inline size_t
wk__buf_len(const wk__buf *b)
{
	return b->tail - b->head;
}

static inline const char *
wk__buf_head(const wk__buf *b)
{
	return b->data + b->head;
}

char *wk__buf_grow(wk__buf *b, size_t want);

/*
 * Room for want more bytes at the tail, or NULL when memory runs out
 * (the buffer is unchanged then).  Inline for the case of every receive:
 * the room is there already.
 */
static inline char *
wk__buf_space(wk__buf *b, size_t want)
{
	if (b->data && b->cap - b->tail >= want)
		return b->data + b->tail;
	return wk__buf_grow(b, want);
}

/* Counts n bytes written at the room wk__buf_space() gave as queued. */
static inline void
wk__buf_commit(wk__buf *b, size_t n)
{
	b->tail += n;
}

/* Drops every queued byte; the allocation stays. */
static inline void
wk__buf_clear(wk__buf *b)
{
	b->head = b->tail = 0;
}

bool wk__buf_append(wk__buf *b, const void *data, size_t n);
size_t wk__buf_peek(const wk__buf *b, void *out, size_t n);
size_t wk__buf_take(wk__buf *b, void *out, size_t n);
void wk__buf_drop(wk__buf *b, size_t n);
ssize_t wk__buf_find(const wk__buf *b, char c, size_t limit);
void wk__buf_free(wk__buf *b);

#endif /* WIREKIT_BUFFER_H */
