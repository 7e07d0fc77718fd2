/*
 * threaded-fortune-server - Qt's threaded fortune server, in C with
 * wirekit: each client is served on a thread of its own
 *
 * usage: threaded-fortune-server [-a ADDRESS] [-p PORT] [-n COUNT]
 *
 * Does what fortune-server does, as Qt's Threaded Fortune Server does
 * it: wk_server_serve() accepts on a thread of its own and runs serve()
 * for each client on a new thread, where plain blocking calls write the
 * fortune and wait for the client to hang up, as FortuneThread::run()
 * does.  A client slow to hang up holds its own thread, not the others.
 *
 * Listens on ADDRESS (127.0.0.1 by default) and PORT (0: the system
 * picks one) and prints "listening on ADDRESS port N".  With -n it
 * exits after COUNT clients; otherwise it runs until SIGINT or SIGTERM.
 * Speaks to Qt's fortune clients, blocking-fortune-client and
 * fortune-client.
 *
 * This example is in the public domain.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <wirekit.h>

#include "fortune.h"

/* How long a client gets to hang up after its fortune. */
#define HANGUP_MS 5000
/*
 * A handler thread has a 64 KiB stack: the block is sized for these
 * fortunes (6 + 2 bytes a character), not for the largest block.
 */
#define BLOCK_BYTES 512

static const char *const fortunes[] = {
	"You've been leading a dog's life. Stay off the furniture.",
	"You've got to think about tomorrow.",
	"You will be surprised by a loud noise.",
	"You will feel hungry again in another hour.",
	"You might have mail.",
	"You cannot kill time without injuring eternity.",
	"Computers are not intelligent. They only think they are.",
};
#define NFORTUNES (sizeof(fortunes) / sizeof(fortunes[0]))

/* What the handlers share: they run at once, on threads of their own. */
struct fortune_server {
	wk_server *srv;
	long count;		/* clients to serve; -1: no end */
	unsigned seed;		/* rand() is not thread-safe: rand_r() */
	atomic_long clients;	/* handlers started so far */
};

static wk_server *volatile signalled;

static void
on_signal(int sig)
{
	(void)sig;
	wk_server_stop(signalled);	/* async-signal-safe */
}

static void
catch_signals(wk_server *srv)
{
	struct sigaction sa;

	signalled = srv;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static void
usage(void)
{
	fprintf(stderr, "usage: threaded-fortune-server [-a ADDRESS] "
	    "[-p PORT] [-n COUNT]\n");
	exit(2);
}

static long
number(const char *text, long max)
{
	char *end;
	long v = strtol(text, &end, 10);

	if (!*text || *end || v < 0 || v > max)
		usage();
	return v;
}

/*
 * One client, on a thread of its own: a fortune, then the end of the
 * connection.  wirekit frees the socket when this returns.
 */
static void
serve(wk_socket *client, void *arg)
{
	struct fortune_server *fs = arg;
	unsigned char block[BLOCK_BYTES];
	long n = atomic_fetch_add(&fs->clients, 1) + 1;
	unsigned seed = fs->seed + (unsigned)n;
	size_t len;

	/* The last client: accept no more, serve this one. */
	if (n == fs->count)
		wk_server_stop(fs->srv);
	len = fortune_encode(fortunes[(unsigned)rand_r(&seed) % NFORTUNES],
	    block, sizeof(block));
	if (wk_socket_write(client, block, len) < 0) {
		fprintf(stderr, "threaded-fortune-server: %s\n",
		    wk_socket_error_string(client));
		return;
	}
	wk_socket_disconnect(client);
	if (wk_socket_state(client) != WK_STATE_UNCONNECTED &&
	    !wk_socket_wait_disconnected(client, HANGUP_MS))
		fprintf(stderr, "threaded-fortune-server: %s\n",
		    wk_socket_error_string(client));
}

int
main(int argc, char **argv)
{
	struct fortune_server fs = { .count = -1 };
	const char *host = "127.0.0.1";
	char text[WK_ADDR_STRLEN];
	wk_serve_stats st;
	wk_addr addr;
	long port = 0;
	int opt;

	while ((opt = getopt(argc, argv, "a:p:n:")) != -1) {
		switch (opt) {
		case 'a': host = optarg; break;
		case 'p': port = number(optarg, 65535); break;
		case 'n': fs.count = number(optarg, 1000000000L); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (!wk_addr_parse(&addr, host)) {
		fprintf(stderr, "threaded-fortune-server: %s: not an address\n",
		    host);
		return 1;
	}
	fs.seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	if (!(fs.srv = wk_server_new()) ||
	    !wk_server_listen(fs.srv, &addr, (uint16_t)port) ||
	    (fs.count != 0 && !wk_server_serve(fs.srv, serve, &fs, NULL))) {
		fprintf(stderr, "threaded-fortune-server: %s\n", fs.srv ?
		    wk_server_error_string(fs.srv) : "out of memory");
		wk_server_free(fs.srv);
		return 1;
	}
	catch_signals(fs.srv);
	wk_addr_format(&addr, text, sizeof(text));
	printf("listening on %s port %u\n", text,
	    (unsigned)wk_server_port(fs.srv));
	fflush(stdout);
	/* Until the last client or a signal stops it, and every handler ends. */
	if (fs.count != 0)
		wk_server_join(fs.srv, -1);
	if (wk_server_stats(fs.srv, &st) && st.thread_failures > 0)
		fprintf(stderr, "threaded-fortune-server: %llu clients found "
		    "no thread\n", (unsigned long long)st.thread_failures);
	wk_server_free(fs.srv);
	return 0;
}
