/*
 * fortune-client - Qt's fortune client, in C with wirekit's callback
 * layer
 *
 * usage: fortune-client HOST PORT
 *
 * Does what blocking-fortune-client does, in the style of Qt's Fortune
 * Client: the socket runs on a thread of its own and calls handlers
 * there, as Qt calls slots.  A posted function connects; connected
 * starts the clock for the fortune; ready_read takes the block once it
 * is all there (it returns without reading while the block is still
 * arriving, and is called again when more comes); error ends the run.
 * Where Qt's client asks again with QTimer::singleShot(), this one asks
 * again with wk_socket_post_delayed() when the connection was refused
 * (the server may still be starting), a few times.  Each step, the
 * connect and the fortune, has five seconds, as in the blocking client.
 *
 * Prints the fortune, or exits with status 1 and wirekit's error
 * string.
 *
 * This example is in the public domain.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <wirekit.h>

#include "fortune.h"

#define TIMEOUT_MS 5000		/* each step, as the blocking client */
#define TRIES 3			/* connects, when refused */
#define RETRY_MS 250		/* between them */

/* The client's state; only the socket's thread touches it while it runs. */
struct client {
	const char *host;
	uint16_t port;
	int tries;		/* connects started */
	int failed;		/* the last try that failed and was handled */
	long long deadline;	/* of the current step, in ms */
	bool have_size;		/* Qt's blockSize != 0 */
	size_t block_size;
	int status;		/* -1 while running; then the exit status */
	char message[256];	/* why it failed */
	unsigned char block[FORTUNE_MAX_BLOCK];
	char text[FORTUNE_MAX_BLOCK * 3 / 2];	/* UTF-8 of 65535 bytes of UTF-16 */
	bool is_null;
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The end: the thread stops once the handler it is in returns. */
static void
finish(wk_socket *s, struct client *c, int status, const char *message)
{
	if (c->status >= 0)
		return;
	c->status = status;
	if (message)
		snprintf(c->message, sizeof(c->message), "%s", message);
	wk_socket_stop(s);
}

/* A timer armed at each step; a later step moves the deadline on. */
static void
check_time(wk_socket *s, void *arg)
{
	struct client *c = arg;
	char why[160];

	if (now_ms() < c->deadline)
		return;
	snprintf(why, sizeof(why), "fortune from %s port %u: timed out "
	    "after %d ms", c->host, (unsigned)c->port, TIMEOUT_MS);
	finish(s, c, 1, why);
}

static void
start_step(wk_socket *s, struct client *c)
{
	c->deadline = now_ms() + TIMEOUT_MS;
	wk_socket_post_delayed(s, TIMEOUT_MS, check_time, c);
}

static void request(wk_socket *, void *);

/* A connect or a connection failed: ask again if it was refused. */
static void
failed(wk_socket *s, struct client *c, wk_error code)
{
	if (c->failed == c->tries)	/* told twice about one try */
		return;
	c->failed = c->tries;
	if (code == WK_CONNECTION_REFUSED && c->tries < TRIES &&
	    wk_socket_post_delayed(s, RETRY_MS, request, c))
		return;
	finish(s, c, 1, wk_socket_error_string(s));
}

/* Qt's requestNewFortune(). */
static void
request(wk_socket *s, void *arg)
{
	struct client *c = arg;

	c->have_size = false;
	c->tries++;
	wk_socket_abort(s);
	start_step(s, c);
	if (!wk_socket_connect(s, c->host, c->port))
		failed(s, c, wk_socket_error(s));
}

static void
on_connected(wk_socket *s, void *arg)
{
	start_step(s, arg);
}

/* Qt's readFortune(): waits, by returning, until the block is whole. */
static void
on_ready_read(wk_socket *s, void *arg)
{
	struct client *c = arg;
	unsigned char head[FORTUNE_SIZE_BYTES];

	if (!c->have_size) {
		if (wk_socket_bytes_available(s) < sizeof(head))
			return;
		wk_socket_read(s, head, sizeof(head));
		c->block_size = fortune_get16(head);
		c->have_size = true;
	}
	if (wk_socket_bytes_available(s) < c->block_size)
		return;
	if (wk_socket_read(s, c->block, c->block_size) !=
	    (ssize_t)c->block_size)
		finish(s, c, 1, wk_socket_error_string(s));
	else if (!fortune_decode(c->block, c->block_size, c->text,
	    sizeof(c->text), &c->is_null))
		finish(s, c, 1, "the server sent a block that is not a fortune");
	else
		finish(s, c, 0, NULL);
}

static void
on_error(wk_socket *s, wk_error code, void *arg)
{
	struct client *c = arg;

	/* The server hangs up after the fortune: it may be all here. */
	if (code == WK_REMOTE_HOST_CLOSED) {
		on_ready_read(s, c);
		if (c->status >= 0)
			return;
	}
	failed(s, c, code);
}

static int
fail(const char *what)
{
	fprintf(stderr, "fortune-client: %s\n", what);
	return 1;
}

int
main(int argc, char **argv)
{
	static struct client c = { .status = -1 };
	const wk_socket_handlers handlers = {
		.connected = on_connected,
		.ready_read = on_ready_read,
		.error = on_error,
	};
	wk_socket *s;
	char *end;
	unsigned long port;

	if (argc != 3) {
		fprintf(stderr, "usage: fortune-client HOST PORT\n");
		return 2;
	}
	port = strtoul(argv[2], &end, 10);
	if (!*argv[2] || *end || port == 0 || port > 65535) {
		fprintf(stderr, "fortune-client: %s: not a port\n", argv[2]);
		return 2;
	}
	c.host = argv[1];
	c.port = (uint16_t)port;
	if (!(s = wk_tcp_socket()))
		return fail("out of memory");
	if (!wk_socket_start(s, &handlers, &c) ||
	    !wk_socket_post(s, request, &c)) {
		fail(wk_socket_error_string(s));
		wk_socket_free(s);
		return 1;
	}
	/* The handlers do the work; this thread waits for them to end it. */
	wk_socket_join(s, -1);
	wk_socket_free(s);
	if (c.status != 0)
		return fail(c.status < 0 ? "the socket's thread ended early" :
		    c.message);
	printf("%s\n", c.is_null ? "(null)" : c.text);
	return 0;
}
