/*
 * bench_serve.c - a thread per connection at scale: wk_server_serve()
 * against an epoll echo server written plainly in C, in one run, with
 * the load in a process of its own
 *
 * usage: bench_serve       the table (BENCH_QUICK=1: 100 and 1,000
 *                          connections, 1 s runs; BENCH_ROUNDS=N: best
 *                          of N, not 2)
 *        bench_serve --only=SIDE [N [MSECS]]
 *                          one run, for strace -c or perf: SIDE is
 *                          wirekit, epoll or threads, N 1000, MSECS 4000
 *
 * For 100, 1,000 and 10,000 connections held open at once, a load
 * generator keeps one 32-byte message in flight on every connection
 * and counts the echoes that come back in a fixed time.  The wirekit
 * server runs a blocking handler on a thread of its own for each
 * connection (wk_server_serve() with its default 64 KiB stacks); the
 * second server is one thread with level-triggered epoll, the best
 * single-threaded design; the third is a thread per connection in
 * plain C, the model of the first with nothing of wirekit.  The load generator is forked at the start,
 * before this process has any other thread, and is driven through a
 * pipe: the peak RSS (VmHWM, reset before each run through
 * /proc/self/clear_refs) and the thread count are the servers' alone.
 *
 * Last, 1,000 connected sockets started with wk_socket_start() and left
 * idle must use no CPU: getrusage() of the process over 5 s.
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define _GNU_SOURCE		/* accept4(), RUSAGE_THREAD */

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <wirekit.h>

#include "bench.h"

#define MSG_SIZE 32
#define ECHO_BUF 4096		/* both servers read this much at a time */
/*
 * Connections the generator has open but not yet answered while it
 * sets up: below the listen backlog (50, as Qt), for a full accept
 * queue drops the SYN and the retry comes a second later.
 */
#define CONNECT_WINDOW 32
#define RUN_MS 4000		/* the measured time of one run */
#define QUICK_RUN_MS 1000
#define SERVE_ROUNDS 2		/* best of, per side and size */
#define SETUP_MS 60000		/* connecting N, at most */
#define DRAIN_MS 5000		/* the last echoes, at most */
#define JOIN_MS 30000		/* the handlers' ends after the load */
#define SAMPLE_MS 100		/* /proc/self/status while a run goes */
#define FD_SLACK 64		/* descriptors beyond the connections */
#define IDLE_SOCKETS 1000
#define IDLE_MS 5000
#define QUICK_IDLE_MS 2000
#define RATIO_TARGET 0.80	/* wirekit / epoll at 1,000 connections */
#define RSS_TARGET_KB (1024L * 1024)	/* 1 GiB at 10,000 connections */

static const char message[MSG_SIZE] = "0123456789abcdef0123456789abcdef";

static void
die(const char *what, const char *why)
{
	fprintf(stderr, "bench_serve: %s: %s\n", what, why);
	exit(1);
}

static void
sys_check(bool ok, const char *what)
{
	if (!ok)
		die(what, strerror(errno));
}

static void
nodelay(int fd)
{
	int on = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

static void
nonblocking(int fd)
{
	sys_check(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0,
	    "fcntl");
}

/* ---------------------------------------------------------------- load */

/* One connection of the load generator. */
struct peer {
	int fd;
	unsigned got;			/* bytes of the echo so far */
	unsigned char buf[MSG_SIZE];
};

struct load {
	struct peer *peers;
	int n, ep;
	long trips;			/* echoes counted */
	int in_flight;			/* messages sent, echo not yet whole */
	char why[160];			/* the failure, for the parent */
};

static bool
load_fail(struct load *l, const char *what, int err)
{
	snprintf(l->why, sizeof(l->why), "%s: %s", what, strerror(err));
	return false;
}

/* One message in flight at a time: the send buffer is always empty. */
static bool
load_send(struct load *l, struct peer *p)
{
	if (send(p->fd, message, MSG_SIZE, MSG_NOSIGNAL) != MSG_SIZE)
		return load_fail(l, "send", errno);
	p->got = 0;
	l->in_flight++;
	return true;
}

/* Reads what came; 1 when the echo is whole, 0 for more, -1 on failure. */
static int
load_receive(struct load *l, struct peer *p)
{
	ssize_t n = recv(p->fd, p->buf + p->got, MSG_SIZE - p->got, 0);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n <= 0) {
		load_fail(l, n == 0 ? "a server hung up" : "recv",
		    n == 0 ? ECONNRESET : errno);
		return -1;
	}
	if ((p->got += (unsigned)n) < MSG_SIZE)
		return 0;
	if (memcmp(p->buf, message, MSG_SIZE) != 0) {
		snprintf(l->why, sizeof(l->why), "an echo came back changed");
		return -1;
	}
	l->in_flight--;
	return 1;
}

/*
 * Waits up to msecs for echoes; each whole one is counted and, while
 * again says so, answered with the next message.  false on failure.
 */
static bool
load_pump(struct load *l, int msecs, bool again, bool count)
{
	struct epoll_event ev[512];
	int k, r;

	if ((k = epoll_wait(l->ep, ev, 512, msecs)) < 0)
		return errno == EINTR || load_fail(l, "epoll_wait", errno);
	for (int i = 0; i < k; i++) {
		struct peer *p = ev[i].data.ptr;

		if ((r = load_receive(l, p)) < 0)
			return false;
		if (r == 0)
			continue;
		l->trips += count;
		if (again && !load_send(l, p))
			return false;
	}
	return true;
}

static bool
load_dial(struct load *l, struct peer *p, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = p };

	if ((p->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return load_fail(l, "socket", errno);
	nodelay(p->fd);
	if (connect(p->fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
		return load_fail(l, "connect", errno);
	nonblocking(p->fd);
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, p->fd, &ev) != 0)
		return load_fail(l, "epoll_ctl", errno);
	return true;
}

/*
 * Connects n, each answered once before more than CONNECT_WINDOW wait,
 * then counts round trips for msecs with every connection busy, then
 * takes the last echoes and closes.
 */
static bool
load_run(struct load *l, uint16_t port, int msecs, double *secs,
    double *setup)
{
	double t = bench_now(), end;
	int opened = 0;

	while (opened < l->n || l->in_flight > 0) {
		if (bench_now() - t > SETUP_MS / 1e3) {
			snprintf(l->why, sizeof(l->why), "connecting %d took "
			    "over %d ms (%d open)", l->n, SETUP_MS, opened);
			return false;
		}
		if (opened < l->n && l->in_flight < CONNECT_WINDOW) {
			if (!load_dial(l, &l->peers[opened], port) ||
			    !load_send(l, &l->peers[opened]))
				return false;
			opened++;
		} else if (!load_pump(l, 1000, false, false)) {
			return false;
		}
	}
	*setup = bench_now() - t;
	t = bench_now();
	for (int i = 0; i < l->n; i++)
		if (!load_send(l, &l->peers[i]))
			return false;
	for (end = t + msecs / 1e3; (*secs = bench_now()) < end;)
		if (!load_pump(l, (int)((end - *secs) * 1e3) + 1, true, true))
			return false;
	*secs -= t;
	/* The last echoes, so that every connection closes clean. */
	for (end = bench_now() + DRAIN_MS / 1e3;
	    l->in_flight > 0 && bench_now() < end;)
		if (!load_pump(l, 100, false, false))
			return false;
	return true;
}

/* One "run PORT N MSECS" command: its answer line to out. */
static void
load_command(int out, uint16_t port, int n, int msecs)
{
	struct load l = { .n = n };
	double secs = 0, setup = 0;
	bool ok;

	if (!(l.peers = calloc((size_t)n, sizeof(*l.peers))) ||
	    (l.ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("load", "out of memory");
	for (int i = 0; i < n; i++)
		l.peers[i].fd = -1;
	ok = load_run(&l, port, msecs, &secs, &setup);
	for (int i = 0; i < n; i++)
		if (l.peers[i].fd >= 0)
			close(l.peers[i].fd);
	close(l.ep);
	free(l.peers);
	if (ok)
		dprintf(out, "ok %ld %.6f %.6f\n", l.trips, secs, setup);
	else
		dprintf(out, "error %s\n", l.why);
}

/* The generator process: commands on in, answers on out, until EOF. */
static void
load_main(int in, int out)
{
	FILE *f = fdopen(in, "r");
	char line[128];
	unsigned port;
	int n, msecs;

	if (!f)
		_exit(1);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "run %u %d %d", &port, &n, &msecs) != 3 ||
		    port == 0 || port > 65535 || n <= 0)
			break;
		load_command(out, (uint16_t)port, n, msecs);
	}
	_exit(0);
}

/* The generator, forked while this process has one thread. */
static struct {
	pid_t pid;
	int to, from;
} load;

static void
load_fork(void)
{
	int cmd[2], ans[2];

	sys_check(pipe(cmd) == 0 && pipe(ans) == 0, "pipe");
	fflush(stdout);
	sys_check((load.pid = fork()) >= 0, "fork");
	if (load.pid == 0) {
		close(cmd[1]);
		close(ans[0]);
		load_main(cmd[0], ans[1]);
	}
	close(cmd[0]);
	close(ans[1]);
	load.to = cmd[1];
	load.from = ans[0];
}

static void
load_end(void)
{
	int status;

	close(load.to);
	close(load.from);
	waitpid(load.pid, &status, 0);
}

/* ---------------------------------------------------------------- /proc */

/* What /proc/self/status says now: the peak and current RSS, threads. */
struct usage {
	long hwm_kb, rss_kb;
	int threads;
};

static void
usage_now(struct usage *u)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "VmHWM: %ld", &u->hwm_kb);
		sscanf(line, "VmRSS: %ld", &u->rss_kb);
		sscanf(line, "Threads: %d", &u->threads);
	}
	fclose(f);
}

/* VmHWM starts again from the RSS of now (Linux 4.0 and later). */
static bool
reset_peak(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	bool ok = fd >= 0 && write(fd, "5", 1) == 1;

	if (fd >= 0)
		close(fd);
	return ok;
}

/* ---------------------------------------------------------------- servers */

/* wirekit's handler: plain blocking code on a thread of its own. */
static void
wk_echo(wk_socket *s, void *arg)
{
	char buf[ECHO_BUF];
	size_t n;

	(void)arg;
	wk_socket_set_option(s, WK_OPT_LOW_DELAY, 1);
	/*
	 * A wait for input is one blocking recv() into the socket's buffer;
	 * taking just what it holds spares the read a recv() that would
	 * find nothing.
	 */
	while (wk_socket_wait_ready_read(s, -1))
		while ((n = wk_socket_bytes_available(s)) > 0) {
			if (n > sizeof(buf))
				n = sizeof(buf);
			if (wk_socket_read(s, buf, n) != (ssize_t)n ||
			    wk_socket_write(s, buf, n) != (ssize_t)n)
				return;
		}
}

/* A connection of the epoll server: what is still to be echoed. */
struct ep_conn {
	int fd;
	size_t len, off;
	char buf[ECHO_BUF];
};

struct ep_server {
	int lfd, ep, stop;		/* listener, epoll, eventfd */
	struct ep_conn **conns;		/* by descriptor */
	size_t nconns;
	pthread_t thread;
};

static void
ep_close(struct ep_server *e, struct ep_conn *c)
{
	e->conns[c->fd] = NULL;
	close(c->fd);
	free(c);
}

static void
ep_interest(struct ep_server *e, struct ep_conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	epoll_ctl(e->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Sends what is left; while the kernel refuses, waits for EPOLLOUT. */
static void
ep_flush(struct ep_server *e, struct ep_conn *c, bool waiting)
{
	ssize_t n;

	while (c->off < c->len) {
		n = send(c->fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!waiting)
				ep_interest(e, c, EPOLLOUT);
			return;
		}
		if (n < 0) {
			ep_close(e, c);
			return;
		}
		c->off += (size_t)n;
	}
	if (waiting)
		ep_interest(e, c, EPOLLIN);
}

static void
ep_ready(struct ep_server *e, struct ep_conn *c, uint32_t events)
{
	ssize_t n;

	if (c->off < c->len) {
		ep_flush(e, c, true);
		return;
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	n = recv(c->fd, c->buf, sizeof(c->buf), 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		ep_close(e, c);
		return;
	}
	c->len = (size_t)n;
	c->off = 0;
	ep_flush(e, c, false);
}

static void
ep_accept(struct ep_server *e)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct ep_conn *c;
	int fd;

	while ((fd = accept4(e->lfd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) >= 0) {
		if ((size_t)fd >= e->nconns || !(c = calloc(1, sizeof(*c)))) {
			close(fd);
			continue;
		}
		nodelay(fd);
		c->fd = fd;
		e->conns[fd] = c;
		ev.data.ptr = c;
		epoll_ctl(e->ep, EPOLL_CTL_ADD, fd, &ev);
	}
}

static void *
ep_main(void *arg)
{
	struct ep_server *e = arg;
	struct epoll_event ev[512];
	int k;

	for (;;) {
		if ((k = epoll_wait(e->ep, ev, 512, -1)) < 0 && errno != EINTR)
			die("epoll_wait", strerror(errno));
		for (int i = 0; i < k; i++) {
			if (ev[i].data.ptr == &e->lfd)
				ep_accept(e);
			else if (ev[i].data.ptr == &e->stop)
				return NULL;
			else
				ep_ready(e, ev[i].data.ptr, ev[i].events);
		}
	}
}

/*
 * The same model as wk_server_serve() with nothing of wirekit: an
 * accepting thread and a detached thread with a 64 KiB stack for each
 * connection, blocking recv() and send().  What it gets is what a
 * thread per connection can get on this machine.
 */
struct th_server {
	int lfd;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t gone;
	int active;
	bool stopping;
};

struct th_conn {
	struct th_server *t;
	int fd;
};

static void *
th_echo(void *arg)
{
	struct th_conn *c = arg;
	struct th_server *t = c->t;
	char buf[ECHO_BUF];
	ssize_t n;

	nodelay(c->fd);
	while ((n = recv(c->fd, buf, sizeof(buf), 0)) > 0 ||
	    (n < 0 && errno == EINTR))
		if (n > 0 && send(c->fd, buf, (size_t)n, MSG_NOSIGNAL) != n)
			break;
	close(c->fd);
	free(c);
	pthread_mutex_lock(&t->lock);
	if (--t->active == 0)
		pthread_cond_signal(&t->gone);
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

static void *
th_main(void *arg)
{
	struct th_server *t = arg;
	pthread_attr_t attr;
	struct th_conn *c;
	pthread_t id;
	int fd;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (;;) {
		if ((fd = accept4(t->lfd, NULL, NULL, SOCK_CLOEXEC)) < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			break;		/* shut down: the run is over */
		}
		sys_check((c = malloc(sizeof(*c))) != NULL, "malloc");
		c->t = t;
		c->fd = fd;
		pthread_mutex_lock(&t->lock);
		t->active++;
		pthread_mutex_unlock(&t->lock);
		if (pthread_create(&id, &attr, th_echo, c) != 0)
			die("pthread_create", "failed");
	}
	pthread_attr_destroy(&attr);
	return NULL;
}

/* ---------------------------------------------------------------- runs */

/* One server under load: what it did and what it took. */
struct run {
	double rate;			/* round trips a second */
	double setup;			/* seconds to connect them all */
	long peak_kb;
	long base_kb;			/* the RSS just before the run */
	int threads;
	uint64_t thread_failures;
};

/* The server is listening on port: sends the load, samples till done. */
static void
drive(uint16_t port, int n, int msecs, struct run *r)
{
	bool exact = reset_peak();
	struct usage u = { 0, 0, 0 };
	struct pollfd pfd = { .fd = load.from, .events = POLLIN };
	char line[256];
	size_t len = 0;
	ssize_t got;
	long trips;
	double secs;

	usage_now(&u);
	r->base_kb = r->peak_kb = u.rss_kb;
	r->threads = 0;
	dprintf(load.to, "run %u %d %d\n", (unsigned)port, n, msecs);
	while (len == 0 || line[len - 1] != '\n') {
		if (poll(&pfd, 1, SAMPLE_MS) > 0) {
			got = read(load.from, line + len, sizeof(line) - 1 - len);
			if (got <= 0)
				die("load generator", "gone");
			len += (size_t)got;
		}
		usage_now(&u);
		if (u.rss_kb > r->peak_kb)
			r->peak_kb = u.rss_kb;
		if (u.threads > r->threads)
			r->threads = u.threads;
		if (len == sizeof(line) - 1)
			die("load generator", "answer too long");
	}
	line[len] = '\0';
	if (exact && u.hwm_kb > r->peak_kb)
		r->peak_kb = u.hwm_kb;
	if (sscanf(line, "ok %ld %lf %lf", &trips, &secs, &r->setup) != 3)
		die("load generator", line);
	r->rate = (double)trips / secs;
}

static void
run_wirekit(int n, int msecs, struct run *r)
{
	wk_addr lo = wk_addr_special(WK_ADDR_LOCALHOST);
	wk_serve_options options = {
		.max_connections = (unsigned)n + CONNECT_WINDOW,
	};
	wk_serve_stats st;
	wk_server *srv = wk_server_new();

	if (!srv)
		die("wk_server_new", "out of memory");
	if (!wk_server_listen(srv, &lo, 0) ||
	    !wk_server_serve(srv, wk_echo, NULL, &options))
		die("wk_server_serve", wk_server_error_string(srv));
	drive(wk_server_port(srv), n, msecs, r);
	/* The generator has closed every connection: the handlers end. */
	wk_server_stop(srv);
	if (!wk_server_join(srv, JOIN_MS))
		die("wk_server_join", "handlers still running after the load");
	wk_server_stats(srv, &st);
	r->thread_failures = st.thread_failures;
	wk_server_free(srv);
}

static void
run_epoll(int n, int msecs, struct run *r)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct epoll_event lev = { .events = EPOLLIN };
	struct epoll_event sev = { .events = EPOLLIN };
	struct rlimit rl;
	socklen_t len = sizeof(sin);
	struct ep_server e;
	uint64_t one = 1;
	int on = 1;

	getrlimit(RLIMIT_NOFILE, &rl);
	e.nconns = rl.rlim_cur;
	sys_check((e.conns = calloc(e.nconns, sizeof(*e.conns))) != NULL,
	    "calloc");
	sys_check((e.lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) >= 0, "socket");
	setsockopt(e.lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	sys_check(bind(e.lfd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    listen(e.lfd, 50) == 0 &&
	    getsockname(e.lfd, (struct sockaddr *)&sin, &len) == 0, "listen");
	sys_check((e.ep = epoll_create1(EPOLL_CLOEXEC)) >= 0 &&
	    (e.stop = eventfd(0, EFD_CLOEXEC)) >= 0, "epoll");
	lev.data.ptr = &e.lfd;
	sev.data.ptr = &e.stop;
	sys_check(epoll_ctl(e.ep, EPOLL_CTL_ADD, e.lfd, &lev) == 0 &&
	    epoll_ctl(e.ep, EPOLL_CTL_ADD, e.stop, &sev) == 0, "epoll_ctl");
	if (pthread_create(&e.thread, NULL, ep_main, &e) != 0)
		die("pthread_create", "failed");
	drive(ntohs(sin.sin_port), n, msecs, r);
	sys_check(write(e.stop, &one, sizeof(one)) == sizeof(one), "eventfd");
	pthread_join(e.thread, NULL);
	for (size_t fd = 0; fd < e.nconns; fd++)
		if (e.conns[fd])
			ep_close(&e, e.conns[fd]);
	free(e.conns);
	close(e.stop);
	close(e.ep);
	close(e.lfd);
	r->thread_failures = 0;
}

static void
run_threads(int n, int msecs, struct run *r)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	struct th_server t = { .active = 0 };
	int on = 1;

	pthread_mutex_init(&t.lock, NULL);
	pthread_cond_init(&t.gone, NULL);
	sys_check((t.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0,
	    "socket");
	setsockopt(t.lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	sys_check(bind(t.lfd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    listen(t.lfd, 1024) == 0 &&
	    getsockname(t.lfd, (struct sockaddr *)&sin, &len) == 0, "listen");
	if (pthread_create(&t.thread, NULL, th_main, &t) != 0)
		die("pthread_create", "failed");
	drive(ntohs(sin.sin_port), n, msecs, r);
	/* The generator has closed every connection: the handlers end. */
	shutdown(t.lfd, SHUT_RDWR);
	pthread_join(t.thread, NULL);
	pthread_mutex_lock(&t.lock);
	while (t.active > 0)
		pthread_cond_wait(&t.gone, &t.lock);
	pthread_mutex_unlock(&t.lock);
	close(t.lfd);
	pthread_mutex_destroy(&t.lock);
	pthread_cond_destroy(&t.gone);
	r->thread_failures = 0;
}

/* ---------------------------------------------------------------- idle */

static void
idle_read(wk_socket *s, void *arg)
{
	char buf[256];

	(void)arg;
	while (wk_socket_read(s, buf, sizeof(buf)) > 0)
		;
}

/* CPU seconds of who (RUSAGE_SELF: every thread), and context switches. */
static double
cpu_now(int who, long *switches)
{
	struct rusage ru;

	getrusage(who, &ru);
	*switches = ru.ru_nvcsw + ru.ru_nivcsw;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int
raw_dial(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd;

	sys_check((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0,
	    "socket");
	sys_check(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0,
	    "connect");
	return fd;
}

/*
 * n accepted sockets, each started on a thread of its own, and their
 * peers silent: what the process uses in msecs, from every thread but
 * this one, which sleeps.
 */
static void
idle_cost(int n, int msecs)
{
	static const wk_socket_handlers handlers = { .ready_read = idle_read };
	struct timespec nap = { msecs / 1000, msecs % 1000 * 1000000L };
	struct timespec settle = { 0, 500 * 1000000L };
	wk_addr lo = wk_addr_special(WK_ADDR_LOCALHOST);
	wk_server *srv = wk_server_new();
	wk_socket **socks = calloc((size_t)n, sizeof(*socks));
	int *peers = calloc((size_t)n, sizeof(*peers));
	long cs0, cs1, me0, me1;
	double cpu, mine, pct;
	struct usage u = { 0, 0, 0 };

	if (!srv || !socks || !peers)
		die("idle", "out of memory");
	if (!wk_server_listen(srv, &lo, 0))
		die("listen", wk_server_error_string(srv));
	for (int i = 0; i < n; i++) {
		peers[i] = raw_dial(wk_server_port(srv));
		if (!wk_server_wait_new_connection(srv, 5000, NULL) ||
		    !(socks[i] = wk_server_next_pending(srv)))
			die("accept", wk_server_error_string(srv));
		if (!wk_socket_start(socks[i], &handlers, NULL))
			die("wk_socket_start", wk_socket_error_string(socks[i]));
	}
	nanosleep(&settle, NULL);	/* every thread parked in poll() */
	cpu = cpu_now(RUSAGE_SELF, &cs0);
	mine = cpu_now(RUSAGE_THREAD, &me0);
	nanosleep(&nap, NULL);
	cpu = cpu_now(RUSAGE_SELF, &cs1) - cpu;
	mine = cpu_now(RUSAGE_THREAD, &me1) - mine;
	usage_now(&u);
	for (int i = 0; i < n; i++) {
		wk_socket_free(socks[i]);
		close(peers[i]);
	}
	wk_server_free(srv);
	free(socks);
	free(peers);
	/* The two clocks are read apart: a tick may fall between them. */
	if ((cpu -= mine) < 0)
		cpu = 0;
	pct = cpu / (msecs / 1e3) * 100;
	printf("idle: %d started sockets (%d threads), %.1f s: %.3f s CPU "
	    "(%.2f %%), %ld context switches; target 0 %%  %s\n", n,
	    u.threads, msecs / 1e3, cpu, pct, (cs1 - cs0) - (me1 - me0),
	    pct < 0.005 ? "met" : "MISSED");
}

/* ---------------------------------------------------------------- table */

static int rounds = SERVE_ROUNDS;

static void
row(int n, int msecs)
{
	struct run best[3], r;
	char target[32] = "";
	double ratio, per[3] = { 0, 0, 0 };
	bool met;

	memset(best, 0, sizeof(best));
	/* Take the sides in turn, so a slow moment hits all alike. */
	for (int i = 0; i < rounds; i++)
		for (int side = 0; side < 3; side++) {
			if (side == 0)
				run_wirekit(n, msecs, &r);
			else if (side == 1)
				run_epoll(n, msecs, &r);
			else
				run_threads(n, msecs, &r);
			if (r.rate > best[side].rate)
				best[side].rate = r.rate;
			if (r.peak_kb > best[side].peak_kb)
				best[side].peak_kb = r.peak_kb;
			if ((double)(r.peak_kb - r.base_kb) / n > per[side])
				per[side] = (double)(r.peak_kb - r.base_kb) / n;
			if (r.threads > best[side].threads)
				best[side].threads = r.threads;
			best[side].thread_failures += r.thread_failures;
		}
	ratio = best[0].rate / best[1].rate;
	if (n == 1000) {
		met = ratio >= RATIO_TARGET;
		snprintf(target, sizeof(target), ">= %.2f %s", RATIO_TARGET,
		    met ? "met" : "MISSED");
	} else if (n == 10000) {
		met = best[0].peak_kb < RSS_TARGET_KB;
		snprintf(target, sizeof(target), "RSS < 1 GiB %s",
		    met ? "met" : "MISSED");
	}
	printf("%11d %15.0f %13.0f %6.3f  %-17s %14.0f %6.3f %10.1f MiB "
	    "%7d %8.1f %8.1f\n", n, best[0].rate, best[1].rate, ratio, target,
	    best[2].rate, best[0].rate / best[2].rate,
	    best[0].peak_kb / 1024.0, best[0].threads, per[0], per[1]);
	if (best[0].thread_failures > 0)
		printf("%11s %llu handler threads could not start\n", "",
		    (unsigned long long)best[0].thread_failures);
	fflush(stdout);
}

/*
 * This process holds a descriptor per connection, and so does the
 * generator, which inherits the limit; the idle test holds three per
 * socket here (both ends and the socket thread's eventfd).  The soft
 * limit goes up to the hard one, and the hard one up to need when it
 * is lower and this process may raise it (root).  Returns the limit.
 */
static long
raise_nofile(long need)
{
	struct rlimit rl;

	sys_check(getrlimit(RLIMIT_NOFILE, &rl) == 0, "getrlimit");
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < (rlim_t)need) {
		struct rlimit more = { (rlim_t)need, (rlim_t)need };

		if (setrlimit(RLIMIT_NOFILE, &more) == 0)
			return need;
	}
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? (rlim_t)need : rl.rlim_max;
	sys_check(setrlimit(RLIMIT_NOFILE, &rl) == 0, "setrlimit");
	return (long)rl.rlim_cur;
}

/* --only=SIDE N [MSECS]: one run of one side, for strace -c or perf. */
static int
only(const char *side, const char *count, const char *ms)
{
	int n = count ? atoi(count) : 1000, msecs = ms ? atoi(ms) : RUN_MS;
	struct run r;

	if (n <= 0 || msecs <= 0 || raise_nofile(n + FD_SLACK) < n + FD_SLACK)
		die(count ? count : "1000", "not a count there is room for");
	load_fork();
	if (strcmp(side, "wirekit") == 0)
		run_wirekit(n, msecs, &r);
	else if (strcmp(side, "epoll") == 0)
		run_epoll(n, msecs, &r);
	else if (strcmp(side, "threads") == 0)
		run_threads(n, msecs, &r);
	else
		die(side, "not wirekit, epoll or threads");
	load_end();
	printf("%s %d connections: %.0f trips/s, peak RSS %.1f MiB, %d "
	    "threads, set up in %.3f s\n", side, n, r.rate, r.peak_kb / 1024.0,
	    r.threads, r.setup);
	return EXIT_SUCCESS;
}

int
main(int argc, char **argv)
{
	const char *quick_env = getenv("BENCH_QUICK");
	const char *r = getenv("BENCH_ROUNDS");
	bool quick = quick_env && *quick_env && strcmp(quick_env, "0") != 0;
	int sizes[] = { 100, 1000, 10000 }, nsizes = quick ? 2 : 3;
	int msecs = quick ? QUICK_RUN_MS : RUN_MS, idle = IDLE_SOCKETS;
	long fds;

	signal(SIGPIPE, SIG_IGN);
	if (argc > 1 && strncmp(argv[1], "--only=", 7) == 0)
		return only(argv[1] + 7, argc > 2 ? argv[2] : NULL,
		    argc > 3 ? argv[3] : NULL);
	if (argc > 1) {
		fprintf(stderr, "usage: bench_serve [--only=SIDE [N [MSECS]]]\n");
		return 2;
	}
	rounds = quick ? 1 : SERVE_ROUNDS;
	if (r && atoi(r) > 0)
		rounds = atoi(r);
	fds = raise_nofile(sizes[nsizes - 1] > 3 * idle ?
	    sizes[nsizes - 1] + FD_SLACK : 3 * idle + FD_SLACK);
	if (fds - FD_SLACK < sizes[nsizes - 1]) {
		printf("RLIMIT_NOFILE is %ld: the last row has %ld connections, "
		    "not %d\n", fds, fds - FD_SLACK, sizes[nsizes - 1]);
		sizes[nsizes - 1] = (int)(fds - FD_SLACK);
	}
	if (fds - FD_SLACK < 3 * idle) {
		idle = (int)((fds - FD_SLACK) / 3);
		printf("RLIMIT_NOFILE is %ld: the idle test has %d sockets, not "
		    "%d\n", fds, idle, IDLE_SOCKETS);
	}
	load_fork();
	printf("Echo, 32-byte messages over 127.0.0.1, one in flight per "
	    "connection: wk_server_serve\n(a thread per connection, 64 KiB "
	    "stacks) against one epoll thread; %.0f s a run, best of %d%s\n",
	    msecs / 1e3, rounds, quick ? " (BENCH_QUICK)" : "");
	printf("%11s %15s %13s %6s  %-17s %14s %6s %14s %7s %17s\n",
	    "connections", "wirekit trips/s", "epoll trips/s", "ratio",
	    "target", "raw thr trips/s", "ratio", "wirekit RSS", "threads",
	    "KiB/conn wk epoll");
	for (int i = 0; i < nsizes; i++)
		row(sizes[i], msecs);
	printf("wirekit RSS = peak resident set of the server process, threads = "
	    "its threads at the peak\n(the load generator is another process); "
	    "KiB/conn = (peak RSS - RSS before the run) / connections;\n"
	    "raw thr = a thread per connection in plain C (pthread_create, "
	    "64 KiB stacks,\nblocking recv and send), ratio = wirekit / raw "
	    "threads\n");
	fflush(stdout);
	load_end();
	idle_cost(idle, quick ? QUICK_IDLE_MS : IDLE_MS);
	return EXIT_SUCCESS;
}
