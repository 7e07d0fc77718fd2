/*
 * echo-server - a thread for each client, with plain blocking code in it
 *
 * usage: echo-server [-a ADDRESS] [-p PORT]
 *
 * Listens on ADDRESS (127.0.0.1 by default) and PORT (0: the system
 * picks one), prints "listening on ADDRESS port N", and sends each
 * client back every byte it sends.  wk_server_serve() accepts on a
 * thread of its own and runs echo() for each client on a new thread.
 * A client silent for a minute is dropped.  SIGINT or SIGTERM stops
 * the accepting; clients then have two seconds before they are cut off.
 *
 * This example is in the public domain.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <wirekit.h>

#define IDLE_MS 60000		/* a silent client is dropped after this */
#define GRACE_MS 2000		/* what clients have left after a signal */

static wk_server *srv;
static volatile sig_atomic_t stopping;

/* One client, on a thread of its own: all it sends comes back. */
static void
echo(wk_socket *client, void *arg)
{
	char buf[4096];
	ssize_t n;

	(void)arg;
	/* A client that sends and never reads fills no memory here. */
	wk_socket_set_read_buffer_size(client, sizeof(buf));
	while (wk_socket_wait_ready_read(client, -1)) {
		while ((n = wk_socket_read(client, buf, sizeof(buf))) > 0) {
			wk_socket_write(client, buf, (size_t)n);
			while (wk_socket_bytes_to_write(client) > 0)
				if (!wk_socket_wait_bytes_written(client, -1))
					return;
		}
	}
}

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
	wk_server_stop(srv);		/* async-signal-safe */
}

static void
usage(void)
{
	fprintf(stderr, "usage: echo-server [-a ADDRESS] [-p PORT]\n");
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

int
main(int argc, char **argv)
{
	wk_serve_options options = { .idle_timeout_ms = IDLE_MS };
	struct sigaction sa = { .sa_handler = on_signal };
	const char *host = "127.0.0.1";
	char text[WK_ADDR_STRLEN];
	sigset_t stops, others;
	long port = 0;
	wk_addr addr;
	int opt;

	while ((opt = getopt(argc, argv, "a:p:")) != -1) {
		switch (opt) {
		case 'a': host = optarg; break;
		case 'p': port = number(optarg, 65535); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (!wk_addr_parse(&addr, host)) {
		fprintf(stderr, "echo-server: %s: not an address\n", host);
		return 1;
	}
	/*
	 * The signals are blocked before any thread starts, so every thread
	 * inherits the mask: they arrive only in sigsuspend() below.
	 */
	sigemptyset(&stops);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGTERM);
	sigprocmask(SIG_BLOCK, &stops, &others);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (!(srv = wk_server_new()) ||
	    !wk_server_listen(srv, &addr, (uint16_t)port) ||
	    !wk_server_serve(srv, echo, NULL, &options)) {
		fprintf(stderr, "echo-server: %s\n", srv ?
		    wk_server_error_string(srv) : "out of memory");
		wk_server_free(srv);
		return 1;
	}
	wk_addr_format(&addr, text, sizeof(text));
	printf("listening on %s port %u\n", text, (unsigned)wk_server_port(srv));
	fflush(stdout);
	while (!stopping)
		sigsuspend(&others);
	wk_server_drain(srv, GRACE_MS);
	wk_server_free(srv);
	return 0;
}
