/*
 * wirelookup - resolve many host names at once on the wirekit lookup pool
 *
 * usage: wirelookup [-46hsux] [-f file] [-j jobs] [-t msecs] [--json]
 *        [--unordered] [--summary] [name ...]
 *
 * The names come from the arguments, from a file or from standard input;
 * the answers go to standard output, one line a name.  The main thread
 * keeps jobs lookups started with wk_lookup_start() at all times; their
 * callbacks park each result in a slot and wake it, and it prints the
 * slots in input order (or as they complete), aborts the lookups that
 * ran out of time and starts the next names.  A window of 4 x jobs
 * slots bounds how far ahead of the oldest unprinted name it may go, so
 * memory does not grow with a stuck name at the head.
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <wirekit.h>

#define PROG "wirelookup"

#define EXIT_ALL_RESOLVED 0
#define EXIT_SOME_FAILED 1
#define EXIT_USAGE 2

/* wk_resolver_set_max_threads() takes 1 to 4096. */
#define DEFAULT_JOBS 20
#define MAX_JOBS 4096
/* Slots per job: enough that a slow head rarely stalls the others. */
#define WINDOW_FACTOR 4
/* The progress bar is for runs long enough to watch. */
#define PROGRESS_MIN_NAMES 100
#define PROGRESS_INTERVAL_MS 200
#define PROGRESS_WIDTH 20

enum state { SLOT_FREE, SLOT_PENDING, SLOT_DONE };
enum outcome { RESOLVED, FAILED, TIMED_OUT };

/*
 * One name on its way.  A callback touches a PENDING slot only, under
 * run.lock; a DONE slot belongs to the main thread alone, which can
 * print it without the lock.
 */
struct slot {
	size_t seq;			/* the name's index in the input */
	int64_t id;			/* the lookup, while PENDING */
	enum state state;
	bool abort_failed;		/* its callback runs: just wait */
	int64_t deadline;		/* ms on the monotonic clock */
	wk_hostinfo *info;		/* the answer, or NULL and message */
	const char *message;		/* our own error */
	enum outcome outcome;
	struct slot *prev, *next;	/* outstanding, in order of start */
	struct slot *next_done;		/* unordered: the done queue */
	struct slot *next_free;		/* unordered: the free list */
};

static struct {
	wk_family family;
	bool reverse;
	bool unordered;
	bool json;
	bool summary;
	int jobs;
	int timeout;			/* ms; 0: none */
} opt = { WK_FAMILY_ANY, false, false, false, false, DEFAULT_JOBS, 0 };

static struct {
	char **v;
	size_t n, cap;
} names;

/* The state the callbacks share with the main thread. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct slot *slots;
	size_t nslots;
	struct slot *out_head, *out_tail;	/* outstanding lookups */
	size_t noutstanding;
	struct slot *done_head, *done_tail;	/* unordered mode */
	struct slot *free_list;			/* unordered mode */
	size_t completed;
} run = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* What the main thread alone keeps. */
static struct {
	size_t started, printed;
	size_t resolved, failed, timed_out;
	int64_t t0, next_tick;
	bool progress;
	bool stdout_tty;
	bool bar_shown;
	char bar[128];			/* the last bar shown, with its \r */
} main_st;

static void
diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
diag(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
usage(FILE *fp)
{
	fputs("usage: " PROG " [-46hsux] [-f file] [-j jobs] [-t msecs] "
	    "[--json]\n"
	    "                  [--unordered] [--summary] [name ...]\n", fp);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- input */

static bool
add_name(const char *name)
{
	char *copy;

	if (names.n == names.cap) {
		size_t cap = names.cap ? names.cap * 2 : 64;
		char **v = realloc(names.v, cap * sizeof(*v));

		if (v == NULL)
			return false;
		names.v = v;
		names.cap = cap;
	}
	if ((copy = strdup(name)) == NULL)
		return false;
	names.v[names.n++] = copy;
	return true;
}

/* A line less its comment and surrounding blanks; "" when none is left. */
static char *
trim_line(char *line)
{
	char *end;

	line[strcspn(line, "#\r\n")] = '\0';
	while (isspace((unsigned char)*line))
		line++;
	end = line + strlen(line);
	while (end > line && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return line;
}

static bool
read_names(FILE *fp, const char *path)
{
	char *line = NULL, *name;
	size_t size = 0;
	bool ok = true;

	while (ok && getline(&line, &size, fp) != -1) {
		name = trim_line(line);
		if (*name != '\0' && !add_name(name)) {
			diag("out of memory");
			ok = false;
		}
	}
	if (ok && ferror(fp)) {
		diag("%s: %s", path, strerror(errno));
		ok = false;
	}
	free(line);
	return ok;
}

static bool
read_file(const char *path)
{
	FILE *fp;
	bool ok;

	if (strcmp(path, "-") == 0)
		return read_names(stdin, "standard input");
	if ((fp = fopen(path, "r")) == NULL) {
		diag("%s: %s", path, strerror(errno));
		return false;
	}
	ok = read_names(fp, path);
	fclose(fp);
	return ok;
}

/* ---------------------------------------------------------------- slots */

static void
out_unlink(struct slot *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		run.out_head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		run.out_tail = s->prev;
	s->prev = s->next = NULL;
	run.noutstanding--;
}

static void
out_append(struct slot *s)
{
	s->prev = run.out_tail;
	s->next = NULL;
	if (run.out_tail)
		run.out_tail->next = s;
	else
		run.out_head = s;
	run.out_tail = s;
	run.noutstanding++;
}

/* Under run.lock: s is done, with an answer or with our own message. */
static void
finish(struct slot *s, wk_hostinfo *info, const char *message,
    enum outcome outcome)
{
	if (s->state == SLOT_PENDING && s->id > 0)
		out_unlink(s);
	s->info = info;
	s->message = message;
	s->outcome = outcome;
	s->state = SLOT_DONE;
	run.completed++;
	if (opt.unordered) {
		s->next_done = NULL;
		if (run.done_tail)
			run.done_tail->next_done = s;
		else
			run.done_head = s;
		run.done_tail = s;
	}
}

/* On a pool thread: keep a copy, since info is freed when we return. */
static void
lookup_done(const wk_hostinfo *info, void *arg)
{
	struct slot *s = arg;
	wk_hostinfo *copy = wk_hostinfo_dup(info);

	pthread_mutex_lock(&run.lock);
	finish(s, copy, copy ? NULL : "out of memory", copy ? RESOLVED : FAILED);
	pthread_cond_signal(&run.cond);
	pthread_mutex_unlock(&run.lock);
}

static bool
window_has_room(void)
{
	if (opt.unordered)
		return run.free_list != NULL;
	return main_st.started - main_st.printed < run.nslots;
}

static struct slot *
slot_take(size_t seq)
{
	struct slot *s;

	if (opt.unordered) {
		s = run.free_list;
		run.free_list = s->next_free;
	} else
		s = &run.slots[seq % run.nslots];
	memset(s, 0, sizeof(*s));
	s->seq = seq;
	s->state = SLOT_PENDING;
	return s;
}

static void
slot_release(struct slot *s)
{
	wk_hostinfo_free(s->info);
	s->info = NULL;
	s->state = SLOT_FREE;
	if (opt.unordered) {
		s->next_free = run.free_list;
		run.free_list = s;
	}
}

/*
 * Under run.lock, which the callback waits for: the id is stored before
 * it can run (wk_lookup_start() never calls it itself).
 */
static void
start_one(size_t seq)
{
	const char *name = names.v[seq];
	struct slot *s = slot_take(seq);
	wk_addr addr;

	if (opt.reverse && !wk_addr_parse(&addr, name)) {
		finish(s, NULL, "not an IP address", FAILED);
		return;
	}
	s->deadline = opt.timeout > 0 ? now_ms() + opt.timeout : INT64_MAX;
	s->id = wk_lookup_start_family(name, opt.family, lookup_done, s);
	if (s->id == -1) {
		finish(s, NULL, "out of memory or threads", FAILED);
		return;
	}
	out_append(s);
}

/*
 * No more than jobs lookups at once, so that each has a pool thread from
 * its start and its timeout measures the lookup, not the queue.
 */
static void
start_more(void)
{
	while (main_st.started < names.n &&
	    run.noutstanding < (size_t)opt.jobs && window_has_room())
		start_one(main_st.started++);
}

/* Under run.lock: aborts what ran out of time; the next deadline. */
static int64_t
expire(int64_t now)
{
	struct slot *s, *next;

	for (s = run.out_head; s; s = next) {
		next = s->next;
		if (s->abort_failed)
			continue;
		if (s->deadline > now)
			return s->deadline;
		/* false: the answer is being handed over; take that. */
		if (wk_lookup_abort(s->id))
			finish(s, NULL, "timed out", TIMED_OUT);
		else
			s->abort_failed = true;
	}
	return INT64_MAX;
}

/* Under run.lock: the slots ready to print, in the order to print. */
static size_t
take_ready(struct slot **batch)
{
	size_t n = 0;
	struct slot *s;

	if (opt.unordered) {
		while ((s = run.done_head) != NULL) {
			run.done_head = s->next_done;
			batch[n++] = s;
		}
		run.done_tail = NULL;
		return n;
	}
	while (main_st.printed + n < main_st.started) {
		s = &run.slots[(main_st.printed + n) % run.nslots];
		if (s->state != SLOT_DONE)
			break;
		batch[n++] = s;
	}
	return n;
}

/* ---------------------------------------------------------------- output */

/*
 * A JSON string: escapes what RFC 8259 requires, and replaces bytes that
 * are not UTF-8 with U+FFFD, as JSON text must be Unicode.
 */
static void
json_string(const char *str, FILE *fp)
{
	const unsigned char *p = (const unsigned char *)str;
	size_t len, i;

	putc('"', fp);
	while (*p) {
		if (*p == '"' || *p == '\\') {
			putc('\\', fp);
			putc(*p++, fp);
			continue;
		}
		if (*p < 0x20) {
			fprintf(fp, "\\u%04x", *p++);
			continue;
		}
		if (*p < 0x80) {
			putc(*p++, fp);
			continue;
		}
		len = *p >= 0xf0 && *p <= 0xf4 ? 4 : *p >= 0xe0 ? 3 :
		    *p >= 0xc2 && *p <= 0xdf ? 2 : 0;
		for (i = 1; i < len && (p[i] & 0xc0) == 0x80; i++)
			;
		/* Overlong forms, surrogates and values past U+10FFFF. */
		if (len == 0 || i < len ||
		    (len == 3 && p[0] == 0xe0 && p[1] < 0xa0) ||
		    (len == 3 && p[0] == 0xed && p[1] >= 0xa0) ||
		    (len == 4 && p[0] == 0xf0 && p[1] < 0x90) ||
		    (len == 4 && p[0] == 0xf4 && p[1] >= 0x90)) {
			fputs("\\ufffd", fp);
			p++;
			continue;
		}
		fwrite(p, 1, len, fp);
		p += len;
	}
	putc('"', fp);
}

/*
 * The verdict on a slot.  A reverse lookup that found no name is not an
 * error for wirekit, which names the result after the address then.
 */
static enum outcome
judge(const struct slot *s, const char **message)
{
	const wk_hostinfo *info = s->info;
	char text[WK_ADDR_STRLEN];
	wk_addr a;

	*message = s->message;
	if (info == NULL)
		return s->outcome;
	if (wk_hostinfo_error(info) != WK_NO_ERROR) {
		*message = wk_hostinfo_error_string(info);
		return FAILED;
	}
	if (opt.reverse) {
		a = wk_hostinfo_addr(info, 0);
		wk_addr_format(&a, text, sizeof(text));
		if (strcmp(text, wk_hostinfo_name(info)) == 0) {
			*message = "no name found";
			return FAILED;
		}
	}
	return RESOLVED;
}

static void
print_plain(const struct slot *s, enum outcome outcome, const char *message)
{
	const wk_hostinfo *info = s->info;
	char text[WK_ADDR_STRLEN];
	size_t i;

	fputs(names.v[s->seq], stdout);
	if (outcome != RESOLVED) {
		printf("\tERROR\t%s\n", message);
		return;
	}
	if (opt.reverse) {
		printf("\t%s\n", wk_hostinfo_name(info));
		return;
	}
	for (i = 0; i < wk_hostinfo_count(info); i++) {
		wk_addr a = wk_hostinfo_addr(info, i);

		wk_addr_format(&a, text, sizeof(text));
		putchar(i == 0 ? '\t' : ',');
		fputs(text, stdout);
	}
	putchar('\n');
}

static void
print_json(const struct slot *s, enum outcome outcome, const char *message)
{
	static const char *const status[] = { "ok", "error", "timeout" };
	const wk_hostinfo *info = s->info;
	char text[WK_ADDR_STRLEN];
	size_t i;

	fputs("{\"name\":", stdout);
	json_string(names.v[s->seq], stdout);
	printf(",\"status\":\"%s\",", status[outcome]);
	if (outcome != RESOLVED) {
		fputs("\"error\":", stdout);
		json_string(message, stdout);
	} else if (opt.reverse) {
		fputs("\"names\":[", stdout);
		json_string(wk_hostinfo_name(info), stdout);
		putchar(']');
	} else {
		fputs("\"addresses\":[", stdout);
		for (i = 0; i < wk_hostinfo_count(info); i++) {
			wk_addr a = wk_hostinfo_addr(info, i);

			wk_addr_format(&a, text, sizeof(text));
			if (i > 0)
				putchar(',');
			json_string(text, stdout);
		}
		putchar(']');
	}
	fputs("}\n", stdout);
}

static void
print_slot(const struct slot *s)
{
	const char *message;
	enum outcome outcome = judge(s, &message);

	if (outcome == RESOLVED)
		main_st.resolved++;
	else if (outcome == TIMED_OUT)
		main_st.timed_out++;
	else
		main_st.failed++;
	if (opt.json)
		print_json(s, outcome, message);
	else
		print_plain(s, outcome, message);
}

static void
progress_clear(void)
{
	if (main_st.bar_shown)
		fprintf(stderr, "\r%*s\r", (int)strlen(main_st.bar), "");
	main_st.bar_shown = false;
}

/*
 * When the results go to the terminal that shows the bar, the bar is
 * taken down for them and put back below.
 */
static void
print_batch(struct slot *const *batch, size_t n)
{
	bool shared = main_st.bar_shown && main_st.stdout_tty;
	size_t i;

	if (shared)
		progress_clear();
	for (i = 0; i < n; i++)
		print_slot(batch[i]);
	if (shared) {
		fflush(stdout);
		fputs(main_st.bar, stderr);
		fflush(stderr);
		main_st.bar_shown = true;
	}
}

/* "wirelookup: [#######.......]  45%  4500/10000  812.3/s  ETA 0:07" */
static void
progress_show(size_t done, int64_t now)
{
	double secs = (now - main_st.t0) / 1000.0;
	double rate = secs > 0 ? done / secs : 0;
	size_t total = names.n, fill = done * PROGRESS_WIDTH / total;
	char bar[PROGRESS_WIDTH + 1], eta[32];
	long left;

	memset(bar, '#', fill);
	memset(bar + fill, '.', PROGRESS_WIDTH - fill);
	bar[PROGRESS_WIDTH] = '\0';
	if (rate > 0) {
		left = (long)((total - done) / rate + 0.5);
		snprintf(eta, sizeof(eta), "%ld:%02ld", left / 60, left % 60);
	} else
		snprintf(eta, sizeof(eta), "-:--");
	snprintf(main_st.bar, sizeof(main_st.bar),
	    "\r" PROG ": [%s] %3zu%% %zu/%zu %.1f/s ETA %s ", bar,
	    done * 100 / total, done, total, rate, eta);
	fputs(main_st.bar, stderr);
	fflush(stderr);
	main_st.bar_shown = true;
}

/* ---------------------------------------------------------------- the run */

static void
wait_until(int64_t deadline)
{
	struct timespec ts;

	if (deadline == INT64_MAX) {
		pthread_cond_wait(&run.cond, &run.lock);
		return;
	}
	ts.tv_sec = deadline / 1000;
	ts.tv_nsec = deadline % 1000 * 1000000;
	pthread_cond_timedwait(&run.cond, &run.lock, &ts);
}

static void
run_all(struct slot **batch)
{
	int64_t now, wake;
	size_t i, n, done;

	pthread_mutex_lock(&run.lock);
	while (main_st.printed < names.n) {
		start_more();
		now = now_ms();
		wake = expire(now);
		if (main_st.progress && now >= main_st.next_tick) {
			done = run.completed;
			pthread_mutex_unlock(&run.lock);
			progress_show(done, now);
			pthread_mutex_lock(&run.lock);
			main_st.next_tick = now + PROGRESS_INTERVAL_MS;
		}
		if ((n = take_ready(batch)) > 0) {
			/* Printing may block on a pipe: not under the lock. */
			pthread_mutex_unlock(&run.lock);
			print_batch(batch, n);
			pthread_mutex_lock(&run.lock);
			for (i = 0; i < n; i++)
				slot_release(batch[i]);
			main_st.printed += n;
			continue;
		}
		if (main_st.progress && main_st.next_tick < wake)
			wake = main_st.next_tick;
		wait_until(wake);
	}
	pthread_mutex_unlock(&run.lock);
	progress_clear();
}

static bool
setup_run(void)
{
	pthread_condattr_t attr;
	size_t i;

	if (pthread_condattr_init(&attr) != 0 ||
	    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&run.cond, &attr) != 0)
		return false;
	pthread_condattr_destroy(&attr);
	run.nslots = (size_t)opt.jobs * WINDOW_FACTOR;
	if ((run.slots = calloc(run.nslots, sizeof(*run.slots))) == NULL)
		return false;
	for (i = run.nslots; i-- > 0;) {
		run.slots[i].next_free = run.free_list;
		run.free_list = &run.slots[i];
	}
	return true;
}

static void
print_summary(const wk_resolver_stats *before, int64_t elapsed_ms)
{
	wk_resolver_stats after;
	double secs = elapsed_ms / 1000.0;

	wk_resolver_get_stats(&after);
	fprintf(stderr, PROG ": %zu names, %zu resolved, %zu failed, "
	    "%zu timed out, %" PRIu64 " cache hits, %" PRIu64 " coalesced, "
	    "%.3f s, %.1f lookups/s\n", names.n, main_st.resolved,
	    main_st.failed, main_st.timed_out,
	    after.cache_hits - before->cache_hits,
	    after.coalesced - before->coalesced, secs,
	    secs > 0 ? names.n / secs : 0.0);
}

/* ---------------------------------------------------------------- options */

static bool
parse_int(const char *text, int min, int max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < min || v > max)
		return false;
	*out = (int)v;
	return true;
}

enum { OPT_JSON = 256 };

static const struct option long_options[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "unordered", no_argument, NULL, 'u' },
	{ "summary", no_argument, NULL, 's' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* The options, then the names; false after a usage message. */
static bool
parse_args(int argc, char **argv)
{
	const char *file = NULL;
	int c, i;

	while ((c = getopt_long(argc, argv, "46f:hj:st:ux", long_options,
	    NULL)) != -1) {
		switch (c) {
		case '4':
		case '6':
			if (opt.family != WK_FAMILY_ANY) {
				diag("-4 and -6 exclude each other");
				return false;
			}
			opt.family = c == '4' ? WK_FAMILY_IPV4 : WK_FAMILY_IPV6;
			break;
		case 'f':
			file = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_ALL_RESOLVED);
		case 'j':
			if (!parse_int(optarg, 1, MAX_JOBS, &opt.jobs)) {
				diag("-j %s: not a number from 1 to %d",
				    optarg, MAX_JOBS);
				return false;
			}
			break;
		case 's':
			opt.summary = true;
			break;
		case 't':
			if (!parse_int(optarg, 0, INT_MAX, &opt.timeout)) {
				diag("-t %s: not a number of milliseconds",
				    optarg);
				return false;
			}
			break;
		case 'u':
			opt.unordered = true;
			break;
		case 'x':
			opt.reverse = true;
			break;
		case OPT_JSON:
			opt.json = true;
			break;
		default:
			usage(stderr);
			return false;
		}
	}
	for (i = optind; i < argc; i++)
		if (!add_name(argv[i])) {
			diag("out of memory");
			return false;
		}
	if (file != NULL)
		return read_file(file);
	if (optind == argc)
		return read_names(stdin, "standard input");
	return true;
}

static void
free_names(void)
{
	size_t i;

	for (i = 0; i < names.n; i++)
		free(names.v[i]);
	free(names.v);
}

int
main(int argc, char **argv)
{
	wk_resolver_stats before;
	struct slot **batch = NULL;
	int status = EXIT_USAGE;
	bool tty = isatty(STDERR_FILENO);

	if (!parse_args(argc, argv))
		goto out;
	if (!wk_resolver_set_max_threads(opt.jobs) || !setup_run() ||
	    (batch = calloc(run.nslots, sizeof(*batch))) == NULL) {
		diag("out of memory");
		goto out;
	}
	main_st.progress = tty && names.n > PROGRESS_MIN_NAMES;
	main_st.stdout_tty = isatty(STDOUT_FILENO);
	wk_resolver_get_stats(&before);
	main_st.t0 = now_ms();
	run_all(batch);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		diag("standard output: %s", strerror(errno));
		goto out;
	}
	if (opt.summary || tty)
		print_summary(&before, now_ms() - main_st.t0);
	status = main_st.resolved == names.n ? EXIT_ALL_RESOLVED :
	    EXIT_SOME_FAILED;
out:
	/* Drops what is pending (a usage error leaves nothing). */
	wk_resolver_shutdown();
	free(batch);
	free(run.slots);
	free_names();
	return status;
}
