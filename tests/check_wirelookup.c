/*
 * check_wirelookup.c - the wirelookup program, run as a child process
 * against a real DNS server (tests/dnsd.c) on 192.0.2.1:53 inside a
 * network namespace of the test's own
 *
 * Each test spawns "$top_builddir/tools/wirelookup" (the libtool wrapper
 * in a build tree), feeds it names on its arguments, a file or its
 * standard input, and checks what it prints on standard output and
 * standard error and its exit status.  Standard error is a pipe, or a
 * pseudo-terminal for the progress bar.  Nothing here is timed: the bulk
 * run prints how long it took, for people to read.
 *
 * Needs root (skipped otherwise).  No packet leaves the namespace.
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dnsd.h"
#include "netns.h"

/*
 * One server and no retries.  glibc gives up on a silent name after 5
 * seconds, well after the -t of the tests, so that -t is what ends it;
 * no test waits for glibc.
 */
#define RESOLV_CONF \
	"nameserver 192.0.2.1\n" \
	"options timeout:5 attempts:1\n"
#define SERVER_ADDR "192.0.2.1"
#define SERVER_PORT 53

#define ZONE "wirekit.test"
#define IDN_NAME "b\xc3\xbc" "cher." ZONE	/* "bücher", UTF-8 */
/*
 * -t: below resolv.conf's 5 seconds, so that it ends the silent lookups,
 * and far above what the others take, even under sanitizers.
 */
#define TIMEOUT_ARG "2000"
/* Latency that makes the order of completion differ from the input's. */
#define LATENCY_MS 100
#define PROGRESS_NAMES 150
#define COALESCE_COPIES 50
#define BULK_NAMES 1000
#define BULK_JOBS "50"

static struct dnsd *server;
static char tool[4096];

struct result {
	char *out, *err;	/* NUL-terminated */
	size_t out_len, err_len;
	int status;		/* exit status, or -1 when killed */
};

/* ---------------------------------------------------------------- fixture */

/* A server per test, so that its counts are the test's own. */
static void
setup(void)
{
	server = dnsd_start(SERVER_ADDR, SERVER_PORT, 0);
	ck_assert_msg(server != NULL, "dnsd on %s:%d: %s", SERVER_ADDR,
	    SERVER_PORT, strerror(errno));
}

static void
teardown(void)
{
	dnsd_stop(server);
	server = NULL;
}

/* ---------------------------------------------------------------- running */

static void
append(char **buf, size_t *len, const char *data, size_t n)
{
	*buf = realloc(*buf, *len + n + 1);
	ck_assert(*buf != NULL);
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
}

/* Reads what fd has: 1 with data, 0 at its end, -1 when none is ready. */
static int
drain(int fd, char **buf, size_t *len)
{
	char chunk[4096];
	ssize_t n;

	n = read(fd, chunk, sizeof(chunk));
	if (n > 0) {
		append(buf, len, chunk, (size_t)n);
		return 1;
	}
	return n < 0 && (errno == EINTR || errno == EAGAIN) ? -1 : 0;
}

/* A file with text in it, for -f or standard input; the caller unlinks. */
static char *
temp_file(const char *text)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	size_t len = strlen(text);
	int fd;

	ck_assert(asprintf(&path, "%s/wirelookup.XXXXXX",
	    dir && *dir ? dir : "/tmp") > 0);
	fd = mkstemp(path);
	ck_assert_msg(fd >= 0, "mkstemp: %s", strerror(errno));
	ck_assert(write(fd, text, len) == (ssize_t)len);
	close(fd);
	return path;
}

/*
 * Opens a pseudo-terminal for the child's standard error.  The parent
 * keeps the slave open too, so that reading the master never fails with
 * EIO while output is still buffered.
 */
static void
open_pty(int *master, int *slave)
{
	const char *name;

	*master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	ck_assert_msg(*master >= 0, "posix_openpt: %s", strerror(errno));
	ck_assert(grantpt(*master) == 0 && unlockpt(*master) == 0);
	ck_assert((name = ptsname(*master)) != NULL);
	*slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	ck_assert_msg(*slave >= 0, "%s: %s", name, strerror(errno));
	ck_assert(fcntl(*master, F_SETFL, O_NONBLOCK) == 0);
}

/*
 * Collects both outputs until the child is gone and its output read.
 * A terminal has no end while the parent holds its slave: once the
 * child is reaped and its standard output closed, what the master still
 * has is the rest.
 */
static void
collect(pid_t pid, int out_fd, int err_fd, bool tty, struct result *r)
{
	bool out_open = true, err_open = true, reaped = false;
	struct pollfd pfd[2];
	int st;

	while (out_open || err_open || !reaped) {
		pfd[0].fd = out_open ? out_fd : -1;
		pfd[1].fd = err_open ? err_fd : -1;
		pfd[0].events = pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		poll(pfd, 2, 50);
		if (out_open && pfd[0].revents)
			out_open = drain(out_fd, &r->out, &r->out_len) != 0;
		if (err_open && pfd[1].revents)
			err_open = drain(err_fd, &r->err, &r->err_len) != 0 ||
			    tty;
		if (!reaped && waitpid(pid, &st, WNOHANG) == pid) {
			reaped = true;
			r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		}
		if (reaped && tty && !out_open && err_open) {
			while (drain(err_fd, &r->err, &r->err_len) > 0)
				;
			err_open = false;
		}
	}
}

/*
 * Runs the tool with args (count n), input on standard input (or
 * /dev/null when NULL), standard error on a pipe or on a terminal.
 */
static void
run_argv(struct result *r, const char *input, bool tty,
    const char *const *args, size_t n)
{
	posix_spawn_file_actions_t fa;
	const char **argv;
	int out[2], err[2], rc;
	char *in_path = input ? temp_file(input) : NULL;
	pid_t pid;
	size_t i;

	memset(r, 0, sizeof(*r));
	append(&r->out, &r->out_len, "", 0);
	append(&r->err, &r->err_len, "", 0);
	argv = calloc(n + 2, sizeof(*argv));
	ck_assert(argv != NULL);
	argv[0] = tool;
	for (i = 0; i < n; i++)
		argv[i + 1] = args[i];
	ck_assert(pipe2(out, O_CLOEXEC) == 0);
	if (tty)
		open_pty(&err[0], &err[1]);
	else
		ck_assert(pipe2(err, O_CLOEXEC) == 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, in_path ? in_path :
	    "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
	rc = posix_spawn(&pid, tool, &fa, NULL, (char *const *)argv, environ);
	ck_assert_msg(rc == 0, "spawn %s: %s", tool, strerror(rc));
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	if (!tty)
		close(err[1]);
	collect(pid, out[0], err[0], tty, r);
	close(out[0]);
	close(err[0]);
	if (tty)
		close(err[1]);
	if (in_path) {
		unlink(in_path);
		free(in_path);
	}
	free(argv);
}

/* The same with the arguments listed, NULL last. */
static void
run(struct result *r, const char *input, bool tty, ...)
{
	const char *args[64];
	size_t n = 0;
	va_list ap;

	va_start(ap, tty);
	while ((args[n] = va_arg(ap, const char *)) != NULL)
		ck_assert(++n < sizeof(args) / sizeof(args[0]));
	va_end(ap);
	run_argv(r, input, tty, args, n);
}

static void
result_free(struct result *r)
{
	free(r->out);
	free(r->err);
}

/* ---------------------------------------------------------------- checks */

static bool
starts_with(const char *text, const char *prefix)
{
	return strncmp(text, prefix, strlen(prefix)) == 0;
}

/* Splits text into lines in place; the count. */
static size_t
split_lines(char *text, char **lines, size_t max)
{
	size_t n = 0;
	char *p = text, *nl;

	while (*p != '\0') {
		ck_assert_msg(n < max, "more than %zu lines", max);
		lines[n++] = p;
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	return n;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * "name<TAB>a,b,c" with the addresses in any order: the system sorts
 * them (RFC 6724), which is not the tool's business.
 */
static void
check_addrs(const char *line, const char *name, const char *addrs)
{
	char *want = strdup(addrs), *got, *w[8], *g[8], *save;
	size_t nw = 0, ng = 0, len = strlen(name), i;

	ck_assert_msg(strncmp(line, name, len) == 0 && line[len] == '\t',
	    "line \"%s\": not for %s", line, name);
	got = strdup(line + len + 1);
	for (char *t = strtok_r(want, ",", &save); t && nw < 8;
	    t = strtok_r(NULL, ",", &save))
		w[nw++] = t;
	for (char *t = strtok_r(got, ",", &save); t && ng < 8;
	    t = strtok_r(NULL, ",", &save))
		g[ng++] = t;
	qsort(w, nw, sizeof(w[0]), cmp_str);
	qsort(g, ng, sizeof(g[0]), cmp_str);
	ck_assert_msg(nw == ng, "line \"%s\": want %s", line, addrs);
	for (i = 0; i < nw; i++)
		ck_assert_msg(strcmp(w[i], g[i]) == 0, "line \"%s\": want %s",
		    line, addrs);
	free(want);
	free(got);
}

/* "name<TAB>ERROR<TAB>message", message not empty and without a tab. */
static void
check_error(const char *line, const char *name, const char *message)
{
	size_t len = strlen(name);
	const char *msg;

	ck_assert_msg(strncmp(line, name, len) == 0 &&
	    starts_with(line + len, "\tERROR\t"),
	    "line \"%s\": not an error line for %s", line, name);
	msg = line + len + strlen("\tERROR\t");
	ck_assert_msg(*msg != '\0' && strchr(msg, '\t') == NULL,
	    "line \"%s\": bad message", line);
	if (message)
		ck_assert_str_eq(msg, message);
}

struct summary {
	unsigned long names, resolved, failed, timed_out, cache_hits,
	    coalesced;
};

/* The figures of the summary line on standard error. */
static struct summary
parse_summary(const char *err)
{
	struct summary s;
	const char *p = strstr(err, "wirelookup: ");
	int n;

	for (; p; p = strstr(p + 1, "wirelookup: ")) {
		n = sscanf(p, "wirelookup: %lu names, %lu resolved, %lu failed, "
		    "%lu timed out, %lu cache hits, %lu coalesced", &s.names,
		    &s.resolved, &s.failed, &s.timed_out, &s.cache_hits,
		    &s.coalesced);
		if (n == 6)
			return s;
	}
	ck_abort_msg("no summary in \"%s\"", err);
	return s;
}

/* ---------------------------------------------------------------- JSON */

/*
 * A strict RFC 8259 checker, enough to tell valid JSON text: each
 * function takes a value and returns the text after it, or NULL.
 */
static const char *json_value(const char *p, int depth);

static const char *
json_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static const char *
json_string(const char *p)
{
	const unsigned char *u;
	int i;

	if (*p++ != '"')
		return NULL;
	for (;;) {
		u = (const unsigned char *)p;
		if (*u == '"')
			return p + 1;
		if (*u < 0x20)
			return NULL;
		if (*u == '\\') {
			p++;
			if (*p == 'u') {
				for (i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF",
					    p[i]) || p[i] == '\0')
						return NULL;
				p += 5;
			} else if (*p && strchr("\"\\/bfnrt", *p))
				p++;
			else
				return NULL;
			continue;
		}
		/* UTF-8: a lead byte and its continuation bytes. */
		if (*u < 0x80)
			i = 0;
		else if (*u >= 0xc2 && *u <= 0xdf)
			i = 1;
		else if (*u >= 0xe0 && *u <= 0xef)
			i = 2;
		else if (*u >= 0xf0 && *u <= 0xf4)
			i = 3;
		else
			return NULL;
		for (p++; i > 0; i--, p++)
			if (((unsigned char)*p & 0xc0) != 0x80)
				return NULL;
	}
}

static const char *
json_number(const char *p)
{
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return NULL;
	if (*p == '.') {
		if (*++p < '0' || *p > '9')
			return NULL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		if (*++p == '+' || *p == '-')
			p++;
		if (*p < '0' || *p > '9')
			return NULL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return p;
}

/* Members of an object (close '}') or elements of an array (']'). */
static const char *
json_items(const char *p, char close, int depth)
{
	p = json_ws(p);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (close == '}') {
			if ((p = json_string(json_ws(p))) == NULL)
				return NULL;
			p = json_ws(p);
			if (*p++ != ':')
				return NULL;
		}
		if ((p = json_value(p, depth + 1)) == NULL)
			return NULL;
		p = json_ws(p);
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

static const char *
json_value(const char *p, int depth)
{
	if (depth > 32)
		return NULL;
	p = json_ws(p);
	switch (*p) {
	case '{':
	case '[':
		p = json_items(p + 1, *p == '{' ? '}' : ']', depth);
		break;
	case '"':
		p = json_string(p);
		break;
	case 't':
		p = strncmp(p, "true", 4) == 0 ? p + 4 : NULL;
		break;
	case 'f':
		p = strncmp(p, "false", 5) == 0 ? p + 5 : NULL;
		break;
	case 'n':
		p = strncmp(p, "null", 4) == 0 ? p + 4 : NULL;
		break;
	default:
		p = json_number(p);
		break;
	}
	return p ? json_ws(p) : NULL;
}

static bool
json_valid(const char *text)
{
	const char *end = json_value(text, 0);

	return end != NULL && *end == '\0';
}

/* ---------------------------------------------------------------- tests */

/* Names whose lookups end in a different order than they are listed. */
static const char *const mixed[] = {
	"a." ZONE, "nx." ZONE, "bad..name", "both." ZONE, "multi." ZONE,
	IDN_NAME, "localhost", "h7." ZONE, "a." ZONE, "nx2." ZONE,
};

static void
check_mixed(char **lines, size_t n)
{
	ck_assert_uint_eq(n, 10);
	check_addrs(lines[0], "a." ZONE, "192.0.2.10");
	check_error(lines[1], "nx." ZONE, NULL);
	check_error(lines[2], "bad..name", NULL);
	check_addrs(lines[3], "both." ZONE, "192.0.2.11,2001:db8::11");
	check_addrs(lines[4], "multi." ZONE, "192.0.2.1,192.0.2.2,192.0.2.3");
	check_addrs(lines[5], IDN_NAME, "192.0.2.12");
	check_addrs(lines[6], "localhost", "127.0.0.1,::1");
	check_addrs(lines[7], "h7." ZONE, "10.0.0.7");
	check_addrs(lines[8], "a." ZONE, "192.0.2.10");
	check_error(lines[9], "nx2." ZONE, NULL);
}

START_TEST(test_ordered)
{
	const char *args[2 + 10] = { "-j", "4" };
	struct result r;
	char *lines[32];

	dnsd_set_latency(server, LATENCY_MS);
	memcpy(args + 2, mixed, sizeof(mixed));
	run_argv(&r, NULL, false, args, 12);
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.err, "");
	check_mixed(lines, split_lines(r.out, lines, 32));
	result_free(&r);
}
END_TEST

START_TEST(test_unordered)
{
	const char *args[3 + 10] = { "-j", "4", "--unordered" };
	struct result ordered, unordered;
	char *a[32], *b[32];
	size_t na, nb, i;

	dnsd_set_latency(server, LATENCY_MS);
	memcpy(args + 3, mixed, sizeof(mixed));
	run_argv(&unordered, NULL, false, args, 13);
	/* The same less --unordered. */
	args[1] = "-j";
	args[2] = "4";
	run_argv(&ordered, NULL, false, args + 1, 12);
	ck_assert_int_eq(unordered.status, 1);
	ck_assert_str_eq(unordered.err, "");
	na = split_lines(ordered.out, a, 32);
	nb = split_lines(unordered.out, b, 32);
	ck_assert_uint_eq(na, nb);
	qsort(a, na, sizeof(a[0]), cmp_str);
	qsort(b, nb, sizeof(b[0]), cmp_str);
	for (i = 0; i < na; i++)
		ck_assert_str_eq(a[i], b[i]);
	result_free(&ordered);
	result_free(&unordered);
}
END_TEST

/* Comments, blank lines and blanks around names, on standard input. */
static const char input_text[] =
    "# a list of names\n"
    "\n"
    "   a." ZONE "  \n"
    "\tnx." ZONE "\t# not there\n"
    "   # indented comment\n"
    "h42." ZONE "\r\n"
    "\n"
    "multi." ZONE;		/* no final newline */

static void
check_input_text(struct result *r)
{
	char *lines[16];
	size_t n = split_lines(r->out, lines, 16);

	ck_assert_int_eq(r->status, 1);
	ck_assert_str_eq(r->err, "");
	ck_assert_uint_eq(n, 4);
	check_addrs(lines[0], "a." ZONE, "192.0.2.10");
	check_error(lines[1], "nx." ZONE, NULL);
	check_addrs(lines[2], "h42." ZONE, "10.0.0.42");
	check_addrs(lines[3], "multi." ZONE, "192.0.2.1,192.0.2.2,192.0.2.3");
}

START_TEST(test_stdin)
{
	struct result r;

	run(&r, input_text, false, NULL);
	check_input_text(&r);
	result_free(&r);
	run(&r, input_text, false, "-f", "-", NULL);
	check_input_text(&r);
	result_free(&r);
}
END_TEST

START_TEST(test_file)
{
	char *path = temp_file(input_text);
	struct result r;

	/* Standard input is ignored when a file is named. */
	run(&r, "b." ZONE "\n", false, "-f", path, NULL);
	check_input_text(&r);
	result_free(&r);
	unlink(path);
	run(&r, NULL, false, "-f", path, NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_str_eq(r.out, "");
	ck_assert_msg(starts_with(r.err, "wirelookup: ") &&
	    strstr(r.err, path) != NULL, "stderr \"%s\"", r.err);
	result_free(&r);
	free(path);
}
END_TEST

START_TEST(test_arguments)
{
	struct result r;
	char *lines[8];

	/* Arguments are names as given: no comments, no trimming. */
	run(&r, "nx." ZONE "\n", false, "a." ZONE, "h3." ZONE, NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.err, "");
	ck_assert_str_eq(r.out, "a." ZONE "\t192.0.2.10\n"
	    "h3." ZONE "\t10.0.0.3\n");
	result_free(&r);
	/* With -f too: the arguments first. */
	run(&r, NULL, false, "-f", "/dev/null", "h4." ZONE, NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "h4." ZONE "\t10.0.0.4\n");
	result_free(&r);
	/* Nothing to do is success. */
	run(&r, "# nothing\n\n", false, NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "");
	ck_assert_str_eq(r.err, "");
	result_free(&r);
	run(&r, NULL, false, " a." ZONE, NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_uint_eq(split_lines(r.out, lines, 8), 1);
	check_error(lines[0], " a." ZONE, NULL);
	result_free(&r);
}
END_TEST

START_TEST(test_usage)
{
	static const char *const bad[][3] = {
		{ "-j", "0", NULL }, { "-j", "4097", NULL },
		{ "-j", "x", NULL }, { "-t", "-1", NULL },
		{ "-4", "-6", NULL }, { "--no-such-option", NULL, NULL },
		{ "-q", NULL, NULL }, { "-f", NULL, NULL },
	};
	struct result r;
	size_t i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (n = 0; n < 3 && bad[i][n]; n++)
			;
		run_argv(&r, NULL, false, bad[i], n);
		ck_assert_msg(r.status == 2, "%s: exit %d", bad[i][0],
		    r.status);
		ck_assert_str_eq(r.out, "");
		ck_assert_msg(strstr(r.err, "wirelookup: ") ||
		    strstr(r.err, "usage: "), "%s: stderr \"%s\"", bad[i][0],
		    r.err);
		result_free(&r);
	}
	run(&r, NULL, false, "-h", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert(starts_with(r.out, "usage: wirelookup"));
	result_free(&r);
}
END_TEST

START_TEST(test_family)
{
	struct result r;

	run(&r, NULL, false, "-4", "both." ZONE, NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "both." ZONE "\t192.0.2.11\n");
	result_free(&r);
	run(&r, NULL, false, "-6", "both." ZONE, "a." ZONE, NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(starts_with(r.out, "both." ZONE "\t2001:db8::11\n"
	    "a." ZONE "\tERROR\t"), "stdout \"%s\"", r.out);
	result_free(&r);
	ck_assert_uint_eq(dnsd_count(server, "both." ZONE, DNSD_TYPE_A), 1);
	ck_assert_uint_eq(dnsd_count(server, "both." ZONE, DNSD_TYPE_AAAA), 1);
}
END_TEST

START_TEST(test_reverse)
{
	struct result r;
	char *lines[8];

	run(&r, NULL, false, "-x", "127.0.0.1", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "127.0.0.1\tlocalhost\n");
	result_free(&r);
	/* dnsd refuses the PTR query; a name is no address. */
	run(&r, NULL, false, "-x", "192.0.2.10", "::1", "a." ZONE,
	    "127.0.0.1", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_uint_eq(split_lines(r.out, lines, 8), 4);
	check_error(lines[0], "192.0.2.10", "no name found");
	ck_assert_str_eq(lines[1], "::1\tlocalhost");
	check_error(lines[2], "a." ZONE, "not an IP address");
	ck_assert_str_eq(lines[3], "127.0.0.1\tlocalhost");
	result_free(&r);
	ck_assert_uint_eq(dnsd_count(server, "a." ZONE, DNSD_TYPE_ANY), 0);
	run(&r, NULL, false, "-x", "--json", "127.0.0.1", NULL);
	ck_assert_str_eq(r.out, "{\"name\":\"127.0.0.1\",\"status\":\"ok\","
	    "\"names\":[\"localhost\"]}\n");
	result_free(&r);
}
END_TEST

START_TEST(test_json)
{
	struct result r;
	char *lines[16];
	size_t n, i;

	run(&r, NULL, false, "--json", "-t", TIMEOUT_ARG, "a." ZONE,
	    "multi." ZONE, "nx." ZONE, "qu\"ote\\back\tslash\x01.", IDN_NAME,
	    "bad\xff" "byte", "silent-json." ZONE, NULL);
	ck_assert_int_eq(r.status, 1);
	n = split_lines(r.out, lines, 16);
	ck_assert_uint_eq(n, 7);
	for (i = 0; i < n; i++) {
		ck_assert_msg(json_valid(lines[i]), "not JSON: %s", lines[i]);
		ck_assert_msg(starts_with(lines[i], "{\"name\":\""),
		    "line %s", lines[i]);
	}
	ck_assert_str_eq(lines[0], "{\"name\":\"a." ZONE "\",\"status\":\"ok\","
	    "\"addresses\":[\"192.0.2.10\"]}");
	ck_assert(strstr(lines[1], "\"status\":\"ok\",\"addresses\":[\"192.0.2."));
	ck_assert(starts_with(lines[2], "{\"name\":\"nx." ZONE "\",\"status\":"
	    "\"error\",\"error\":\"lookup of nx." ZONE));
	ck_assert_msg(starts_with(lines[3], "{\"name\":\"qu\\\"ote\\\\back"
	    "\\u0009slash\\u0001.\",\"status\":\"error\""), "%s", lines[3]);
	ck_assert(starts_with(lines[4], "{\"name\":\"" IDN_NAME "\",\"status\":"
	    "\"ok\""));
	ck_assert_msg(starts_with(lines[5], "{\"name\":\"bad\\ufffdbyte\","),
	    "%s", lines[5]);
	ck_assert_str_eq(lines[6], "{\"name\":\"silent-json." ZONE "\","
	    "\"status\":\"timeout\",\"error\":\"timed out\"}");
	/* The checker itself. */
	ck_assert(json_valid("{\"a\":[1,-2.5e3,true,null,\"\\u00e9\"]}"));
	ck_assert(!json_valid("{\"a\":1,}"));
	ck_assert(!json_valid("{\"a\":\"\t\"}"));
	ck_assert(!json_valid("{\"a\":\"\xff\"}"));
	ck_assert(!json_valid("{\"a\":01}"));
	ck_assert(!json_valid("{\"a\":1} x"));
	result_free(&r);
}
END_TEST

/* h0 to h<count - 1> under the zone, one a line. */
static char *
gen_names(unsigned count)
{
	char *text = NULL, line[64];
	size_t len = 0;
	unsigned i;

	append(&text, &len, "", 0);
	for (i = 0; i < count; i++) {
		snprintf(line, sizeof(line), "h%u." ZONE "\n", i);
		append(&text, &len, line, strlen(line));
	}
	return text;
}

START_TEST(test_progress)
{
	char *text = gen_names(PROGRESS_NAMES), *few = gen_names(100);
	char *lines[PROGRESS_NAMES + 1];
	struct result r;
	struct summary s;

	/* Enough latency for the bar to be drawn before the end. */
	dnsd_set_latency(server, LATENCY_MS);
	run(&r, text, true, "-j", "10", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strstr(r.err, "ETA") && strstr(r.err, "/150") &&
	    strstr(r.err, "/s"), "no progress bar in \"%s\"", r.err);
	/* A terminal gets the summary without -s. */
	s = parse_summary(r.err);
	ck_assert_uint_eq(s.names, PROGRESS_NAMES);
	ck_assert_uint_eq(s.resolved, PROGRESS_NAMES);
	ck_assert_uint_eq(split_lines(r.out, lines, PROGRESS_NAMES + 1),
	    PROGRESS_NAMES);
	result_free(&r);
	/* Not on a pipe, even with -s... */
	run(&r, text, false, "-j", "10", "-s", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strstr(r.err, "ETA") == NULL, "stderr \"%s\"", r.err);
	ck_assert_uint_eq(parse_summary(r.err).resolved, PROGRESS_NAMES);
	result_free(&r);
	/* ... and a pipe gets no summary without it... */
	run(&r, text, false, "-j", "10", NULL);
	ck_assert_str_eq(r.err, "");
	result_free(&r);
	/* ... and a terminal no bar for 100 names. */
	run(&r, few, true, "-j", "10", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strstr(r.err, "ETA") == NULL, "stderr \"%s\"", r.err);
	ck_assert_uint_eq(parse_summary(r.err).resolved, 100);
	result_free(&r);
	free(text);
	free(few);
}
END_TEST

START_TEST(test_summary)
{
	struct result r;
	struct summary s;
	char *lines[16];

	run(&r, NULL, false, "-s", "-t", TIMEOUT_ARG, "a." ZONE, "nx." ZONE,
	    "silent-summary." ZONE, "h1." ZONE, "bad..name", "h2." ZONE,
	    NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_uint_eq(split_lines(r.out, lines, 16), 6);
	check_error(lines[2], "silent-summary." ZONE, "timed out");
	s = parse_summary(r.err);
	ck_assert_uint_eq(s.names, 6);
	ck_assert_uint_eq(s.resolved, 3);
	ck_assert_uint_eq(s.failed, 2);
	ck_assert_uint_eq(s.timed_out, 1);
	ck_assert_uint_eq(s.cache_hits, 0);
	ck_assert_uint_eq(s.coalesced, 0);
	ck_assert(starts_with(r.err, "wirelookup: 6 names, "));
	result_free(&r);
}
END_TEST

START_TEST(test_timeout)
{
	struct result r;

	run(&r, NULL, false, "-t", TIMEOUT_ARG, "silent-timeout." ZONE, NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.out, "silent-timeout." ZONE "\tERROR\ttimed out\n");
	ck_assert_str_eq(r.err, "");
	result_free(&r);
}
END_TEST

/*
 * A silent name at the head, in order, with a window (4 x 2 slots)
 * smaller than the list: the rest waits for its timeout, then flows.
 */
START_TEST(test_window)
{
	char *text = gen_names(20), *input = NULL, *lines[32];
	size_t len = 0, n, i;
	struct result r;
	char want[64], addr[32];

	append(&input, &len, "silent-window." ZONE "\n",
	    strlen("silent-window." ZONE "\n"));
	append(&input, &len, text, strlen(text));
	run(&r, input, false, "-j", "2", "-t", TIMEOUT_ARG, NULL);
	ck_assert_int_eq(r.status, 1);
	n = split_lines(r.out, lines, 32);
	ck_assert_uint_eq(n, 21);
	check_error(lines[0], "silent-window." ZONE, "timed out");
	for (i = 1; i < n; i++) {
		dnsd_gen_addr((unsigned)i - 1, addr, sizeof(addr));
		snprintf(want, sizeof(want), "h%zu." ZONE "\t%s", i - 1, addr);
		ck_assert_str_eq(lines[i], want);
	}
	result_free(&r);
	free(text);
	free(input);
}
END_TEST

START_TEST(test_coalesce)
{
	const char *args[4 + COALESCE_COPIES] = { "-s", "-j", "10", "-u" };
	struct result r;
	struct summary s;
	char *lines[COALESCE_COPIES + 1];
	size_t i, n;

	/* Ten lookups start before the first can be answered. */
	dnsd_set_latency(server, 2 * LATENCY_MS);
	for (i = 0; i < COALESCE_COPIES; i++)
		args[4 + i] = "coalesce." ZONE;
	run_argv(&r, NULL, false, args, 4 + COALESCE_COPIES);
	ck_assert_int_eq(r.status, 0);
	n = split_lines(r.out, lines, COALESCE_COPIES + 1);
	ck_assert_uint_eq(n, COALESCE_COPIES);
	for (i = 0; i < n; i++)
		check_addrs(lines[i], "coalesce." ZONE,
		    "192.0.2.13,2001:db8::13");
	s = parse_summary(r.err);
	ck_assert_uint_eq(s.resolved, COALESCE_COPIES);
	ck_assert_uint_gt(s.coalesced, 0);
	ck_assert_uint_gt(s.cache_hits, 0);
	ck_assert_uint_eq(s.coalesced + s.cache_hits, COALESCE_COPIES - 1);
	ck_assert_uint_le(dnsd_count(server, "coalesce." ZONE, DNSD_TYPE_A), 2);
	ck_assert_uint_le(dnsd_count(server, "coalesce." ZONE,
	    DNSD_TYPE_AAAA), 2);
	result_free(&r);
}
END_TEST

START_TEST(test_bulk)
{
	char *text = gen_names(BULK_NAMES), *lines[BULK_NAMES + 1];
	char want[64], addr[32];
	struct timespec t0, t1;
	struct result r;
	struct summary s;
	size_t n, i;

	dnsd_set_latency(server, LATENCY_MS);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	run(&r, text, false, "-s", "-j", BULK_JOBS, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_int_eq(r.status, 0);
	n = split_lines(r.out, lines, BULK_NAMES + 1);
	ck_assert_uint_eq(n, BULK_NAMES);
	for (i = 0; i < n; i++) {
		dnsd_gen_addr((unsigned)i, addr, sizeof(addr));
		snprintf(want, sizeof(want), "h%zu." ZONE "\t%s", i, addr);
		ck_assert_str_eq(lines[i], want);
	}
	s = parse_summary(r.err);
	ck_assert_uint_eq(s.names, BULK_NAMES);
	ck_assert_uint_eq(s.resolved, BULK_NAMES);
	ck_assert_uint_eq(s.failed + s.timed_out, 0);
	/* For the record only; expected about 1000 / 50 x 100 ms = 2 s. */
	fprintf(stderr, "check_wirelookup: %d names, -j %s, %d ms latency: "
	    "%.2f s; the tool's summary: %s", BULK_NAMES, BULK_JOBS, LATENCY_MS,
	    (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
	    r.err);
	result_free(&r);
	free(text);
}
END_TEST

/* ---------------------------------------------------------------- main */

static TCase *
tcase(Suite *s, const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return tc;
}

int
main(void)
{
	const char *builddir = getenv("top_builddir");
	Suite *s = suite_create("wirelookup");
	TCase *tc;
	SRunner *sr;
	int failed;

	snprintf(tool, sizeof(tool), "%s/tools/wirelookup",
	    builddir && *builddir ? builddir : ".");
	if (access(tool, X_OK) != 0) {
		fprintf(stderr, "check_wirelookup: %s: %s\n", tool,
		    strerror(errno));
		return WK_TEST_HARD_ERROR;
	}
	failed = wk_test_enter_netns(RESOLV_CONF);
	if (failed != 0)
		return failed;
	tc = tcase(s, "output");
	tcase_add_test(tc, test_ordered);
	tcase_add_test(tc, test_unordered);
	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_reverse);
	tcase_add_test(tc, test_family);
	tc = tcase(s, "input");
	tcase_add_test(tc, test_stdin);
	tcase_add_test(tc, test_file);
	tcase_add_test(tc, test_arguments);
	tcase_add_test(tc, test_usage);
	tc = tcase(s, "run");
	tcase_add_test(tc, test_progress);
	tcase_add_test(tc, test_summary);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_window);
	tcase_add_test(tc, test_coalesce);
	tcase_add_test(tc, test_bulk);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
