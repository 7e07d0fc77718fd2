/*
 * multicast-receiver - Qt's multicast receiver, in C with wirekit
 *
 * usage: multicast-receiver [-I IFACE] [-p PORT] [-n COUNT]
 *
 * Binds PORT (45454 by default) on every address, IPv4 and IPv6 in one
 * socket, sharing it with other programs (WK_SHARE_ADDRESS), joins the
 * groups 239.255.43.21 and ff12::2115 (on IFACE when given, else where
 * the system chooses), prints "listening on port N", then
 * "Received IPv4 datagram: "..."" or "Received IPv6 datagram: "...""
 * for each datagram that arrives, as Qt's example shows it.  With -n
 * it exits after COUNT datagrams; otherwise it runs until SIGINT or
 * SIGTERM.  A group that cannot be joined (no IPv6, say) is reported
 * and left out; the program fails only when neither can be.
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
#define GROUP4 "239.255.43.21"
#define GROUP6 "ff12::2115"
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
	fprintf(stderr, "usage: multicast-receiver [-I IFACE] [-p PORT] "
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

/* The datagram in quotes; bytes that are not printable as \xHH. */
static void
print_datagram(const wk_addr *from, const unsigned char *data, size_t n)
{
	printf("Received IPv%c datagram: \"", wk_addr_is_ipv4(from) ? '4' : '6');
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

static int
join(wk_socket *s, const char *text, const wk_iface *iface)
{
	wk_addr group;

	wk_addr_parse(&group, text);
	if (wk_udp_join_group(s, &group, iface))
		return 1;
	fprintf(stderr, "multicast-receiver: %s\n", wk_socket_error_string(s));
	return 0;
}

int
main(int argc, char **argv)
{
	static unsigned char data[65536];
	const char *ifname = NULL;
	long port = PORT, count = -1, got = 0;
	wk_iface *iface = NULL;
	wk_socket *s;
	wk_addr from;
	ssize_t n;
	int opt, status = 0, joined;

	while ((opt = getopt(argc, argv, "I:p:n:")) != -1) {
		switch (opt) {
		case 'I': ifname = optarg; break;
		case 'p': port = number(optarg, 65535); break;
		case 'n': count = number(optarg, 1000000000L); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (ifname && !(iface = wk_iface_by_name(ifname))) {
		fprintf(stderr, "multicast-receiver: %s: no such interface\n",
		    ifname);
		return 1;
	}
	catch_signals();
	if (!(s = wk_udp_socket()) ||
	    !wk_socket_bind(s, NULL, (uint16_t)port, WK_SHARE_ADDRESS)) {
		fprintf(stderr, "multicast-receiver: %s\n", s ?
		    wk_socket_error_string(s) : "out of memory");
		wk_socket_free(s);
		wk_iface_free(iface);
		return 1;
	}
	joined = join(s, GROUP4, iface) + join(s, GROUP6, iface);
	wk_iface_free(iface);
	if (!joined) {
		wk_socket_free(s);
		return 1;
	}
	printf("listening on port %u\n", (unsigned)wk_socket_local_port(s));
	fflush(stdout);
	while (!stop && (count < 0 || got < count)) {
		if (!wk_socket_wait_ready_read(s, TICK_MS)) {
			if (wk_socket_error(s) == WK_SOCKET_TIMEOUT)
				continue;
			fprintf(stderr, "multicast-receiver: %s\n",
			    wk_socket_error_string(s));
			status = 1;
			break;
		}
		while (wk_udp_has_pending_datagrams(s) &&
		    (count < 0 || got < count)) {
			if ((n = wk_udp_read_datagram(s, data, sizeof(data),
			    &from, NULL)) < 0) {
				fprintf(stderr, "multicast-receiver: %s\n",
				    wk_socket_error_string(s));
				status = 1;
				break;
			}
			print_datagram(&from, data, (size_t)n);
			got++;
		}
		if (status)
			break;
	}
	wk_socket_free(s);
	return status;
}
