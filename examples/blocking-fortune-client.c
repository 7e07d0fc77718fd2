/*
 * blocking-fortune-client - Qt's blocking fortune client, in C with
 * wirekit
 *
 * usage: blocking-fortune-client HOST PORT
 *
 * Connects to a fortune server (HOST is a name or an address), reads
 * one fortune in the Qt 4 fortune protocol and prints it.  Every step
 * is a blocking wait of at most five seconds, as in Qt's example.
 * Exit status 1 with wirekit's error string when something fails.
 *
 * This example is in the public domain.
 */
#include <stdio.h>
#include <stdlib.h>

#include <wirekit.h>

#include "fortune.h"

#define TIMEOUT_MS 5000		/* Qt's example: 5 * 1000 */

/* Waits until at least n bytes are buffered (they may come in pieces). */
static bool
wait_for(wk_socket *s, size_t n)
{
	while (wk_socket_bytes_available(s) < n)
		if (!wk_socket_wait_ready_read(s, TIMEOUT_MS))
			return false;
	return true;
}

static int
fail(const char *what)
{
	fprintf(stderr, "blocking-fortune-client: %s\n", what);
	return 1;
}

/* Reads one block and prints its fortune; the socket is connected. */
static int
fetch(wk_socket *s)
{
	unsigned char head[FORTUNE_SIZE_BYTES], block[FORTUNE_MAX_BLOCK];
	char text[FORTUNE_MAX_BLOCK * 3 / 2];	/* UTF-8 of 65535 bytes of UTF-16 */
	size_t size;
	bool is_null;

	if (!wait_for(s, sizeof(head)) ||
	    wk_socket_read(s, head, sizeof(head)) != (ssize_t)sizeof(head))
		return fail(wk_socket_error_string(s));
	size = fortune_get16(head);
	if (!wait_for(s, size) ||
	    wk_socket_read(s, block, size) != (ssize_t)size)
		return fail(wk_socket_error_string(s));
	if (!fortune_decode(block, size, text, sizeof(text), &is_null))
		return fail("the server sent a block that is not a fortune");
	printf("%s\n", is_null ? "(null)" : text);
	return 0;
}

int
main(int argc, char **argv)
{
	wk_socket *s;
	char *end;
	unsigned long port;
	int status;

	if (argc != 3) {
		fprintf(stderr, "usage: blocking-fortune-client HOST PORT\n");
		return 2;
	}
	port = strtoul(argv[2], &end, 10);
	if (!*argv[2] || *end || port == 0 || port > 65535) {
		fprintf(stderr, "blocking-fortune-client: %s: not a port\n",
		    argv[2]);
		return 2;
	}
	if (!(s = wk_tcp_socket()))
		return fail("out of memory");
	if (!wk_socket_connect(s, argv[1], (uint16_t)port) ||
	    !wk_socket_wait_connected(s, TIMEOUT_MS))
		status = fail(wk_socket_error_string(s));
	else
		status = fetch(s);
	wk_socket_free(s);
	return status;
}
