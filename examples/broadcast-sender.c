/*
 * broadcast-sender - Qt 4's broadcast sender, in C with wirekit
 *
 * usage: broadcast-sender [-a ADDRESS] [-p PORT] [-n COUNT] [-i MSECS]
 *
 * Sends "Broadcast message N" (N = 1, 2, ...) to ADDRESS
 * (255.255.255.255 by default) and PORT (45454) every MSECS
 * milliseconds (1000), and prints "Now broadcasting datagram N" for
 * each.  With -n it exits after COUNT datagrams; otherwise it runs
 * until SIGINT or SIGTERM.  broadcast-receiver prints what arrives.
 *
 * Broadcast reaches every host of the local network: try it where that
 * is wanted (in a network namespace of your own, for example).
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

#define PORT 45454

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
	fprintf(stderr, "usage: broadcast-sender [-a ADDRESS] [-p PORT] "
	    "[-n COUNT] [-i MSECS]\n");
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

/* Sleeps msecs, or less when a signal comes. */
static void
pause_ms(long msecs)
{
	struct timespec ts = { msecs / 1000, (msecs % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int
main(int argc, char **argv)
{
	const char *host = "255.255.255.255";
	long port = PORT, count = -1, interval = 1000;
	char msg[64];
	wk_socket *s;
	wk_addr to;
	int opt, n;

	while ((opt = getopt(argc, argv, "a:p:n:i:")) != -1) {
		switch (opt) {
		case 'a': host = optarg; break;
		case 'p': port = number(optarg, 65535); break;
		case 'n': count = number(optarg, 1000000000L); break;
		case 'i': interval = number(optarg, 86400000L); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (!wk_addr_parse(&to, host)) {
		fprintf(stderr, "broadcast-sender: %s: not an address\n", host);
		return 1;
	}
	catch_signals();
	if (!(s = wk_udp_socket())) {
		fprintf(stderr, "broadcast-sender: out of memory\n");
		return 1;
	}
	/* The first datagram binds the socket; SO_BROADCAST is always on. */
	for (long sent = 0; !stop && (count < 0 || sent < count); sent++) {
		if (sent > 0)
			pause_ms(interval);
		if (stop)
			break;
		n = snprintf(msg, sizeof(msg), "Broadcast message %ld", sent + 1);
		if (wk_udp_write_datagram(s, msg, (size_t)n, &to,
		    (uint16_t)port) < 0) {
			fprintf(stderr, "broadcast-sender: %s\n",
			    wk_socket_error_string(s));
			wk_socket_free(s);
			return 1;
		}
		printf("Now broadcasting datagram %ld\n", sent + 1);
		fflush(stdout);
	}
	wk_socket_free(s);
	return 0;
}
