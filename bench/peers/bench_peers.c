/*
 * bench_peers.c - wirekit side by side with raw POSIX, Qt 5, GIO and
 * libuv: the driver of "make bench-peers"
 *
 * usage: bench_peers [DIR]
 *
 * Each library's share is a program of its own in DIR (default: this
 * program's directory), peer_posix, peer_wirekit, peer_qt, peer_gio and
 * peer_uv, which does one run on demand and prints its numbers on one
 * line (peer.h).  A program that is not there (its library was not
 * installed) is shown as "n/a".  This one runs them all and prints one
 * table:
 *
 *  - TCP over loopback: bulk at 64 KiB and 1 KiB writes, ping-pong of a
 *    small message, connect+accept+close; the best of PEERS_ROUNDS
 *    (default 7) runs of each, the peers taking turns, as a ratio to
 *    raw POSIX.
 *  - DNS: 200 distinct names, one name 200 times, the 200 names again,
 *    against tests/dnsd.c answering after 100 ms, in a private network
 *    namespace (tests/netns.c): the wall time as a ratio to wirekit's,
 *    the queries that reached the server, and how many results were
 *    right.  Needs root; skipped otherwise.
 *
 * The namespace is entered first, before any thread exists; the DNS
 * server then runs on a thread here, and every peer, a child process,
 * inherits the namespace (the TCP runs are on its loopback too).
 *
 * PEERS_QUICK=1 divides the TCP counts by 8; PEERS_SEQ=N sets how many
 * names the sequential getaddrinfo() loop is timed on (default 20,
 * scaled to 200: the loop alone would take a minute).
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <sys/utsname.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../tests/dnsd.h"
#include "../../tests/netns.h"
#include "peer.h"

#define DNS_ADDR "192.0.2.1"
#define DNS_PORT 53
#define DNS_LATENCY_MS 100
#define DNS_NAMES 200
#define SEQ_SAMPLE 20
/*
 * One server, no retries, and a timeout well above the latency: every
 * query the server counts is one a resolver chose to send.
 */
#define RESOLV_CONF \
	"nameserver " DNS_ADDR "\n" \
	"options timeout:2 attempts:1\n"

#define TCP_ROUNDS 7
#define BULK_BYTES (256L << 20)
#define PING_TRIPS 20000L
#define CONNECTIONS 2000L
#define QUICK_DIVISOR 8
/* No run here takes a minute; a peer that does is stuck. */
#define CHILD_SECS 120

#define CELL 17

enum peer { POSIX, WIREKIT, QT, GIO, LIBUV, PEER_COUNT };

static const struct {
	const char *program;
	const char *title;
	bool tcp;		/* takes part in the TCP table */
} peers[PEER_COUNT] = {
	[POSIX] = { "peer_posix", "posix", true },
	[WIREKIT] = { "peer_wirekit", "wirekit", true },
	[QT] = { "peer_qt", "Qt 5", true },
	[GIO] = { "peer_gio", "GIO", true },
	[LIBUV] = { "peer_uv", "libuv", false },
};

/* The DNS table's columns: the sequential loop is peer_posix's. */
static const enum peer dns_peers[] = { WIREKIT, QT, GIO, LIBUV, POSIX };
#define DNS_PEER_COUNT (sizeof(dns_peers) / sizeof(dns_peers[0]))

static char dir[4096];
static bool present[PEER_COUNT];

/* ---------------------------------------------------------------- children */

struct child {
	pid_t pid;
	FILE *out;		/* its stdout */
	FILE *in;		/* its stdin */
};

static void
path_of(enum peer p, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", dir, peers[p].program);
}

/* Starts a peer with args; its stderr is ours. */
static bool
child_start(struct child *c, enum peer p, const char *a1, const char *a2,
    const char *a3)
{
	char path[sizeof(dir) + 32];
	int out[2], in[2];

	path_of(p, path, sizeof(path));
	if (pipe(out) != 0 || pipe(in) != 0) {
		perror("bench_peers: pipe");
		return false;
	}
	fflush(NULL);
	if ((c->pid = fork()) < 0) {
		perror("bench_peers: fork");
		return false;
	}
	if (c->pid == 0) {
		dup2(out[1], STDOUT_FILENO);
		dup2(in[0], STDIN_FILENO);
		close(out[0]);
		close(out[1]);
		close(in[0]);
		close(in[1]);
		/* An ignored signal stays ignored across exec(). */
		signal(SIGPIPE, SIG_DFL);
		execl(path, path, a1, a2, a3, (char *)NULL);
		fprintf(stderr, "bench_peers: %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(out[1]);
	close(in[0]);
	fcntl(out[0], F_SETFD, FD_CLOEXEC);
	fcntl(in[1], F_SETFD, FD_CLOEXEC);
	c->out = fdopen(out[0], "r");
	c->in = fdopen(in[1], "w");
	return c->out && c->in;
}

/* The child's next line, or false at its end or after CHILD_SECS. */
static bool
child_line(struct child *c, char *buf, size_t size)
{
	struct pollfd pfd = { .fd = fileno(c->out), .events = POLLIN };

	if (poll(&pfd, 1, CHILD_SECS * 1000) != 1) {
		fprintf(stderr, "bench_peers: pid %ld: no answer in %d s, "
		    "killed\n", (long)c->pid, CHILD_SECS);
		kill(c->pid, SIGKILL);
		return false;
	}
	return fgets(buf, (int)size, c->out) != NULL;
}

/* True when the child exited 0. */
static bool
child_end(struct child *c)
{
	int status;

	if (c->in)
		fclose(c->in);
	if (c->out)
		fclose(c->out);
	while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* ---------------------------------------------------------------- cells */

static void
cell_text(const char *text)
{
	printf("%*s", CELL, text);
}

/* "value (ratio)": ratio < 0 prints the value alone. */
static void
cell(double value, double ratio, const char *mark)
{
	char buf[64];

	if (value < 0)
		snprintf(buf, sizeof(buf), "fail");
	else if (ratio < 0)
		snprintf(buf, sizeof(buf), "%.0f%s", value, mark);
	else
		snprintf(buf, sizeof(buf), "%.0f%s (%.2f)", value, mark, ratio);
	cell_text(buf);
}

/* ---------------------------------------------------------------- TCP */

/* One run of one peer: its rate, or -1 when it failed. */
static double
tcp_once(enum peer p, enum peer_work w, long count, double *cpu)
{
	struct child c;
	char line[128], n[32];
	double rate;
	bool ok;

	snprintf(n, sizeof(n), "%ld", count);
	if (!child_start(&c, p, "tcp", peer_work_names[w], n))
		return -1;
	ok = child_line(&c, line, sizeof(line)) &&
	    sscanf(line, "tcp %lf %lf", &rate, cpu) == 2;
	ok = child_end(&c) && ok;
	return ok ? rate : -1;
}

static int rounds = TCP_ROUNDS;

/* A row of figures, each with its ratio to posix's. */
static void
tcp_cells(const char *label, const char *unit, const double *v,
    const bool *failed)
{
	printf("%-30s %-8s", label, unit);
	for (int p = 0; p < PEER_COUNT; p++) {
		if (!peers[p].tcp)
			continue;
		if (!present[p])
			cell_text("n/a");
		else if (failed[p])
			cell(-1, -1, "");
		else if (p == POSIX || failed[POSIX] || !present[POSIX])
			cell(v[p], -1, "");
		else
			cell(v[p], v[p] / v[POSIX], "");
	}
	printf("\n");
}

/*
 * The best rate of each peer over the rounds, and its least CPU time:
 * steadier than the clock on a shared machine, it says what each peer
 * costs, where the rate also says how the threads were scheduled.
 */
static void
tcp_row(const char *label, const char *unit, enum peer_work w, long count)
{
	double best[PEER_COUNT], cpu[PEER_COUNT];
	bool failed[PEER_COUNT] = { false };

	for (int p = 0; p < PEER_COUNT; p++)
		best[p] = cpu[p] = 0;
	/* The peers take turns, so a slow moment hits them alike. */
	for (int r = 0; r < rounds; r++)
		for (int p = 0; p < PEER_COUNT; p++) {
			double rate, c;

			if (!peers[p].tcp || !present[p] || failed[p])
				continue;
			if ((rate = tcp_once((enum peer)p, w, count, &c)) < 0) {
				failed[p] = true;
				continue;
			}
			if (rate > best[p])
				best[p] = rate;
			if (r == 0 || c * 1000 < cpu[p])
				cpu[p] = c * 1000;
		}
	tcp_cells(label, unit, best, failed);
	tcp_cells("", "CPU ms", cpu, failed);
	fflush(stdout);
}

static void
tcp_table(bool quick)
{
	long div = quick ? QUICK_DIVISOR : 1;
	char label[64];

	printf("TCP over loopback, best of %d%s: figure (ratio to posix)\n",
	    rounds, quick ? " (PEERS_QUICK: 1/8 counts)" : "");
	printf("%-30s %-8s", "workload", "unit");
	for (int p = 0; p < PEER_COUNT; p++)
		if (peers[p].tcp)
			cell_text(peers[p].title);
	printf("\n");
	snprintf(label, sizeof(label), "bulk %ld MiB, 64 KiB writes",
	    BULK_BYTES / div >> 20);
	tcp_row(label, "MiB/s", PEER_BULK_64K, BULK_BYTES / div);
	snprintf(label, sizeof(label), "bulk %ld MiB, 1 KiB writes",
	    BULK_BYTES / div >> 20);
	tcp_row(label, "MiB/s", PEER_BULK_1K, BULK_BYTES / div);
	snprintf(label, sizeof(label), "ping-pong %d B, %ld trips",
	    PEER_PING_SIZE, PING_TRIPS / div);
	tcp_row(label, "trips/s", PEER_PINGPONG, PING_TRIPS / div);
	snprintf(label, sizeof(label), "connect+accept+close, %ld",
	    CONNECTIONS / div);
	tcp_row(label, "conn/s", PEER_CONNECT, CONNECTIONS / div);
	printf("rates: the best of the rounds, above 1.00 is faster than "
	    "posix;\nCPU ms: both ends, the least of the rounds, above 1.00 "
	    "costs more than posix\n");
}

/* ---------------------------------------------------------------- DNS */

struct dns_result {
	bool ok;
	double ms[PEER_PHASE_COUNT];
	unsigned queries[PEER_PHASE_COUNT];
	int right[PEER_PHASE_COUNT];
	int done[PEER_PHASE_COUNT];
};

/* One peer's three phases, n lookups each; counts read between them. */
static void
dns_run(struct dnsd *d, enum peer p, int n, struct dns_result *res)
{
	struct child c;
	char line[128], phase[16], arg[16];

	memset(res, 0, sizeof(*res));
	snprintf(arg, sizeof(arg), "%d", n);
	dnsd_reset_counts(d);
	if (!child_start(&c, p, "dns", arg, NULL))
		return;
	res->ok = true;
	for (int i = 0; i < PEER_PHASE_COUNT && res->ok; i++) {
		res->ok = child_line(&c, line, sizeof(line)) &&
		    sscanf(line, "dns %15s %lf %d %d", phase, &res->ms[i],
		    &res->right[i], &res->done[i]) == 4 &&
		    strcmp(phase, peer_phase_names[i]) == 0;
		res->queries[i] = dnsd_count(d, NULL, DNSD_TYPE_ANY);
		dnsd_reset_counts(d);
		if (res->ok) {
			fputs("\n", c.in);
			fflush(c.in);
		}
	}
	res->ok = child_end(&c) && res->ok;
}

static void
dns_table(struct dnsd *d, int seq)
{
	static const char *const labels[PEER_PHASE_COUNT] = {
		"200 distinct names", "one name 200 times",
		"the 200 names again"
	};
	struct dns_result res[DNS_PEER_COUNT];
	double scale[DNS_PEER_COUNT];

	memset(res, 0, sizeof(res));

	for (size_t i = 0; i < DNS_PEER_COUNT; i++) {
		enum peer p = dns_peers[i];
		int n = p == POSIX ? seq : DNS_NAMES;

		scale[i] = (double)DNS_NAMES / n;
		if (present[p])
			dns_run(d, p, n, &res[i]);
	}
	printf("\nDNS: %d lookups a phase, the server answering after %d ms: "
	    "figure (ratio to wirekit)\n", DNS_NAMES, DNS_LATENCY_MS);
	printf("%-30s %-8s", "workload", "unit");
	for (size_t i = 0; i < DNS_PEER_COUNT; i++)
		cell_text(dns_peers[i] == POSIX ? "getaddrinfo" :
		    peers[dns_peers[i]].title);
	printf("\n");
	for (int ph = 0; ph < PEER_PHASE_COUNT; ph++) {
		printf("%-30s %-8s", labels[ph], "ms");
		for (size_t i = 0; i < DNS_PEER_COUNT; i++) {
			const char *mark = scale[i] != 1 ? "~" : "";
			double ms = res[i].ms[ph] * scale[i];

			if (!present[dns_peers[i]])
				cell_text("n/a");
			else if (!res[i].ok)
				cell(-1, -1, "");
			else if (i == 0 || !res[0].ok || res[0].ms[ph] <= 0)
				cell(ms, -1, mark);
			else
				cell(ms, ms / res[0].ms[ph], mark);
		}
		printf("\n%-30s %-8s", "", "queries");
		for (size_t i = 0; i < DNS_PEER_COUNT; i++) {
			if (!present[dns_peers[i]])
				cell_text("n/a");
			else if (!res[i].ok)
				cell(-1, -1, "");
			else
				cell(res[i].queries[ph] * scale[i], -1,
				    scale[i] != 1 ? "~" : "");
		}
		printf("\n%-30s %-8s", "", "right");
		for (size_t i = 0; i < DNS_PEER_COUNT; i++) {
			char buf[32];

			if (!present[dns_peers[i]] || !res[i].ok)
				cell_text(present[dns_peers[i]] ? "fail" :
				    "n/a");
			else {
				snprintf(buf, sizeof(buf), "%d/%d",
				    res[i].right[ph], res[i].done[ph]);
				cell_text(buf);
			}
		}
		printf("\n");
	}
	printf("ms: wall time from the first start to the last result, above "
	    "1.00 is slower\nthan wirekit; queries: as counted at the server, "
	    "A and AAAA; right: results\nwhose every address is the one "
	    "served\n");
	if (seq != DNS_NAMES)
		printf("~ getaddrinfo: one name after the other, timed on %d "
		    "names and scaled to %d (ms and queries)\n", seq, DNS_NAMES);
}

/* ---------------------------------------------------------------- main */

static void
machine(void)
{
	char line[256], *model = NULL;
	struct utsname u;
	time_t now = time(NULL);
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "model name", 10) == 0 &&
		    (model = strchr(line, ':'))) {
			model += 2;
			model[strcspn(model, "\n")] = '\0';
			break;
		}
	if (f)
		fclose(f);
	uname(&u);
	strftime(line + 128, 128, "%Y-%m-%d %H:%M UTC", gmtime(&now));
	printf("bench-peers %s; %ld CPUs (%s); %s %s\n", line + 128,
	    sysconf(_SC_NPROCESSORS_ONLN), model ? model : "unknown CPU",
	    u.sysname, u.release);
	/* Other work on the machine makes the rates noisy: say how much. */
	if ((f = fopen("/proc/loadavg", "r"))) {
		if (fgets(line, 128, f))
			printf("load average at the start: %.*s\n",
			    (int)strcspn(line, "\n"), line);
		fclose(f);
	}
}

int
main(int argc, char **argv)
{
	const char *quick = getenv("PEERS_QUICK"), *r = getenv("PEERS_ROUNDS");
	const char *s = getenv("PEERS_SEQ");
	char path[sizeof(dir) + 32];
	struct dnsd *d = NULL;
	int netns, seq = SEQ_SAMPLE;

	/* First: unshare() fails once a thread exists. */
	netns = wk_test_enter_netns(RESOLV_CONF);
	if (argc > 2) {
		fprintf(stderr, "usage: bench_peers [DIR]\n");
		return 2;
	}
	if (argc == 2)
		snprintf(dir, sizeof(dir), "%s", argv[1]);
	else {
		char *slash;

		snprintf(dir, sizeof(dir), "%s", argv[0]);
		if ((slash = strrchr(dir, '/')))
			*slash = '\0';
		else
			snprintf(dir, sizeof(dir), ".");
	}
	if (r && atoi(r) > 0)
		rounds = atoi(r);
	if (s && atoi(s) > 0 && atoi(s) <= DNS_NAMES)
		seq = atoi(s);
	for (int p = 0; p < PEER_COUNT; p++) {
		path_of((enum peer)p, path, sizeof(path));
		present[p] = access(path, X_OK) == 0;
	}
	/* A peer that fails says why; the driver goes on. */
	signal(SIGPIPE, SIG_IGN);
	machine();
	if (netns == 0 && !(d = dnsd_start(DNS_ADDR, DNS_PORT,
	    DNS_LATENCY_MS)))
		fprintf(stderr, "bench_peers: dnsd_start: %s\n",
		    strerror(errno));
	printf("%s\n\n", netns == 0 ? "in a private network namespace "
	    "(tests/netns.c)" : "on the host's loopback");
	tcp_table(quick && *quick && strcmp(quick, "0") != 0);
	if (d) {
		dns_table(d, seq);
		dnsd_stop(d);
	} else {
		printf("\nDNS: skipped (%s)\n", netns == 0 ? "no DNS server" :
		    "needs root and network namespaces");
	}
	return 0;
}
