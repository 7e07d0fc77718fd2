/*
 * multicast-sender - Qt's multicast sender, in C with wirekit
 *
 * usage: multicast-sender [-4 | -6] [-I IFACE] [-t TTL] [-p PORT]
 *                         [-n COUNT] [-i MSECS]
 *
 * Sends "Multicast message N" (N = 1, 2, ...) to the groups
 * 239.255.43.21 and ff12::2115 (-4 or -6: only one of them) on PORT
 * (45454 by default) every MSECS milliseconds (1000), out of IFACE
 * when given (the system's choice otherwise), with a TTL (hop limit)
 * of TTL (1: the local network only), and prints "Now sending
 * datagram N" for each.  With -n it exits after COUNT rounds;
 * otherwise it runs until SIGINT or SIGTERM.  multicast-receiver
 * prints what arrives.
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
#define GROUP4 "239.255.43.21"
#define GROUP6 "ff12::2115"

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
	fprintf(stderr, "usage: multicast-sender [-4 | -6] [-I IFACE] "
	    "[-t TTL] [-p PORT] [-n COUNT] [-i MSECS]\n");
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

static void
pause_ms(long msecs)
{
	struct timespec ts = { msecs / 1000, (msecs % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int
fail(wk_socket *s, const char *why)
{
	fprintf(stderr, "multicast-sender: %s\n", why);
	wk_socket_free(s);
	return 1;
}

int
main(int argc, char **argv)
{
	bool v4 = true, v6 = true;
	const char *ifname = NULL;
	long port = PORT, count = -1, interval = 1000, ttl = 1;
	wk_addr group4, group6, any;
	wk_iface *iface = NULL;
	wk_socket *s;
	char msg[64];
	int opt, n;

	while ((opt = getopt(argc, argv, "46I:t:p:n:i:")) != -1) {
		switch (opt) {
		case '4': v4 = true, v6 = false; break;
		case '6': v6 = true, v4 = false; break;
		case 'I': ifname = optarg; break;
		case 't': ttl = number(optarg, 255); break;
		case 'p': port = number(optarg, 65535); break;
		case 'n': count = number(optarg, 1000000000L); break;
		case 'i': interval = number(optarg, 86400000L); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	wk_addr_parse(&group4, GROUP4);
	wk_addr_parse(&group6, GROUP6);
	catch_signals();
	if (!(s = wk_udp_socket()))
		return fail(s, "out of memory");
	/* Bound first: the options need the descriptor. */
	any = wk_addr_special(v6 ? (v4 ? WK_ADDR_ANY : WK_ADDR_ANY_IPV6) :
	    WK_ADDR_ANY_IPV4);
	if (!wk_socket_bind(s, &any, 0, WK_DEFAULT_FOR_PLATFORM) ||
	    !wk_socket_set_option(s, WK_OPT_MULTICAST_TTL, (int)ttl))
		return fail(s, wk_socket_error_string(s));
	if (ifname) {
		if (!(iface = wk_iface_by_name(ifname))) {
			fprintf(stderr, "multicast-sender: %s: no such "
			    "interface\n", ifname);
			wk_socket_free(s);
			return 1;
		}
		if (!wk_udp_set_multicast_interface(s, iface)) {
			wk_iface_free(iface);
			return fail(s, wk_socket_error_string(s));
		}
		wk_iface_free(iface);
	}
	for (long sent = 0; !stop && (count < 0 || sent < count); sent++) {
		if (sent > 0)
			pause_ms(interval);
		if (stop)
			break;
		n = snprintf(msg, sizeof(msg), "Multicast message %ld", sent + 1);
		if ((v4 && wk_udp_write_datagram(s, msg, (size_t)n, &group4,
		    (uint16_t)port) < 0) || (v6 && wk_udp_write_datagram(s, msg,
		    (size_t)n, &group6, (uint16_t)port) < 0))
			return fail(s, wk_socket_error_string(s));
		printf("Now sending datagram %ld\n", sent + 1);
		fflush(stdout);
	}
	wk_socket_free(s);
	return 0;
}
