/*
 * fortune-server - Qt's fortune server, in C with wirekit
 *
 * usage: fortune-server [-a ADDRESS] [-p PORT] [-n COUNT]
 *
 * Listens on ADDRESS (127.0.0.1 by default) and PORT (0: the system
 * picks one), prints "listening on ADDRESS port N", and gives each
 * client one fortune in the Qt 4 fortune protocol, then hangs up.
 * With -n it exits after COUNT clients; otherwise it runs until
 * SIGINT or SIGTERM.  Speaks to Qt's fortune clients and to
 * blocking-fortune-client.
 *
 * This example is in the public domain.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <wirekit.h>

#include "fortune.h"

/* How long a client gets to hang up after its fortune. */
#define HANGUP_MS 5000
/* A signal is noticed within this long: waits retry EINTR on their own. */
#define TICK_MS 200

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

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static void
usage(void)
{
	fprintf(stderr, "usage: fortune-server [-a ADDRESS] [-p PORT] "
	    "[-n COUNT]\n");
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

/* One client: a fortune, then the end of the connection. */
static void
serve(wk_socket *client)
{
	unsigned char block[FORTUNE_MAX_BLOCK];
	size_t len = fortune_encode(fortunes[rand() % (int)NFORTUNES], block,
	    sizeof(block));

	if (wk_socket_write(client, block, len) < 0) {
		fprintf(stderr, "fortune-server: %s\n",
		    wk_socket_error_string(client));
		return;
	}
	/* Closes at once when the kernel took it all, as it usually does. */
	wk_socket_disconnect(client);
	if (wk_socket_state(client) != WK_STATE_UNCONNECTED &&
	    !wk_socket_wait_disconnected(client, HANGUP_MS))
		fprintf(stderr, "fortune-server: %s\n",
		    wk_socket_error_string(client));
}

/* Waits for the next client until a signal asks to stop; NULL then. */
static wk_socket *
next_client(wk_server *srv)
{
	bool timed_out;

	while (!stop) {
		if (wk_server_wait_new_connection(srv, TICK_MS, &timed_out))
			return wk_server_next_pending(srv);
		if (!timed_out) {
			fprintf(stderr, "fortune-server: %s\n",
			    wk_server_error_string(srv));
			return NULL;
		}
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	const char *host = "127.0.0.1";
	char text[WK_ADDR_STRLEN];
	long port = 0, count = -1;
	wk_server *srv;
	wk_socket *client;
	wk_addr addr;
	int opt, status = 0;

	while ((opt = getopt(argc, argv, "a:p:n:")) != -1) {
		switch (opt) {
		case 'a': host = optarg; break;
		case 'p': port = number(optarg, 65535); break;
		case 'n': count = number(optarg, 1000000000L); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (!wk_addr_parse(&addr, host)) {
		fprintf(stderr, "fortune-server: %s: not an address\n", host);
		return 1;
	}
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	catch_signals();
	if (!(srv = wk_server_new()) ||
	    !wk_server_listen(srv, &addr, (uint16_t)port)) {
		fprintf(stderr, "fortune-server: %s\n", srv ?
		    wk_server_error_string(srv) : "out of memory");
		wk_server_free(srv);
		return 1;
	}
	wk_addr_format(&addr, text, sizeof(text));
	printf("listening on %s port %u\n", text, (unsigned)wk_server_port(srv));
	fflush(stdout);
	for (long served = 0; count < 0 || served < count; served++) {
		if (!(client = next_client(srv))) {
			status = stop ? 0 : 1;	/* a signal is a clean exit */
			break;
		}
		serve(client);
		wk_socket_free(client);
	}
	wk_server_free(srv);
	return status;
}
