/*
 * broadcast-receiver - Qt 4's broadcast receiver, in C with wirekit
 *
 * usage: broadcast-receiver [-p PORT] [-n COUNT]
 *
 * Binds PORT (45454 by default) on every address, IPv4 and IPv6,
 * sharing it with other programs (WK_SHARE_ADDRESS), prints
 * "listening on port N", then "Received datagram: "..."" for each
 * datagram that arrives, as Qt's example shows it.  With -n it exits
 * after COUNT datagrams; otherwise it runs until SIGINT or SIGTERM.
 *
 * This example is in the public domain.
 */
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <wirekit.h>

#define PORT 45454
/* A signal is noticed within this long. */
#define TICK_MS 200

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
	fprintf(stderr, "usage: broadcast-receiver [-p PORT] [-n COUNT]\n");
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

/* The datagram in quotes; bytes that are not printable as \xHH. */
static void
print_datagram(const unsigned char *data, size_t n)
{
	fputs("Received datagram: \"", stdout);
	for (size_t i = 0; i < n; i++) {
		if (data[i] == '"' || data[i] == '\\')
			printf("\\%c", data[i]);
		else if (isprint(data[i]))
			putchar(data[i]);
		else
			printf("\\x%02x", data[i]);
	}
	puts("\"");
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	static unsigned char data[65536];
	long port = PORT, count = -1, got = 0;
	wk_socket *s;
	ssize_t n;
	int opt, status = 0;

	while ((opt = getopt(argc, argv, "p:n:")) != -1) {
		switch (opt) {
		case 'p': port = number(optarg, 65535); break;
		case 'n': count = number(optarg, 1000000000L); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	catch_signals();
	if (!(s = wk_udp_socket()) ||
	    !wk_socket_bind(s, NULL, (uint16_t)port, WK_SHARE_ADDRESS)) {
		fprintf(stderr, "broadcast-receiver: %s\n", s ?
		    wk_socket_error_string(s) : "out of memory");
		wk_socket_free(s);
		return 1;
	}
	printf("listening on port %u\n", (unsigned)wk_socket_local_port(s));
	fflush(stdout);
	while (!stop && (count < 0 || got < count)) {
		if (!wk_socket_wait_ready_read(s, TICK_MS)) {
			if (wk_socket_error(s) == WK_SOCKET_TIMEOUT)
				continue;
			fprintf(stderr, "broadcast-receiver: %s\n",
			    wk_socket_error_string(s));
			status = 1;
			break;
		}
		/* Every datagram waiting, each read whole. */
		while (wk_udp_has_pending_datagrams(s) &&
		    (count < 0 || got < count)) {
			if ((n = wk_udp_read_datagram(s, data, sizeof(data),
			    NULL, NULL)) < 0) {
				fprintf(stderr, "broadcast-receiver: %s\n",
				    wk_socket_error_string(s));
				status = 1;
				break;
			}
			print_datagram(data, (size_t)n);
			got++;
		}
		if (status)
			break;
	}
	wk_socket_free(s);
	return status;
}
