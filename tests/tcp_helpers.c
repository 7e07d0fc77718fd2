/*
 * tcp_helpers.c - what check_tcp and check_server share: raw POSIX
 * listeners and clients on loopback, peer threads, a data pattern with a
 * checksum, descriptor and memory counts, and a fake resolver backend
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <wirekit/lookup.h>

#include "tcp_helpers.h"

/* ---------------------------------------------------------------- sizes */

static bool
env_on(const char *name)
{
	const char *v = getenv(name);

	return v && *v && strcmp(v, "0") != 0;
}

bool
th_small(void)
{
	return env_on("WK_TEST_SMALL");
}

bool
th_big(void)
{
	return env_on("WK_TEST_BIG") && !th_small();
}

size_t
th_size(size_t normal, size_t small)
{
	return th_small() ? small : normal;
}

/* ---------------------------------------------------------------- raw sockets */

/* text:port as a sockaddr; its length, or 0 when text is no literal. */
static socklen_t
to_sockaddr(const char *text, uint16_t port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		return sizeof(*sin);
	}
	if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		return sizeof(*sin6);
	}
	errno = EINVAL;
	return 0;
}

static int
local_port(int fd, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	*port = ntohs(ss.ss_family == AF_INET ?
	    ((struct sockaddr_in *)&ss)->sin_port :
	    ((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

int
th_listen(const char *text, uint16_t *port, int backlog)
{
	struct sockaddr_storage ss;
	socklen_t len = to_sockaddr(text, *port, &ss);
	int fd, on = 1, v6only = strcmp(text, "::") != 0;
	int saved;

	if (len == 0)
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &v6only, sizeof(v6only)) != 0)
		goto err;
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 ||
	    listen(fd, backlog) != 0 || local_port(fd, port) != 0)
		goto err;
	return fd;
err:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int
th_connect_start(const char *text, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = to_sockaddr(text, port, &ss);
	int fd;

	if (len == 0)
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, len) != 0 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

int
th_connect(const char *text, uint16_t port)
{
	int fd = th_connect_start(text, port), err = 0;
	socklen_t len = sizeof(err);

	if (fd < 0)
		return -1;
	if (!(th_poll(fd, POLLOUT, TH_PEER_MSECS) & (POLLOUT | POLLERR |
	    POLLHUP)) || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 ||
	    err != 0) {
		close(fd);
		errno = err ? err : ETIMEDOUT;
		return -1;
	}
	/* Blocking from here on, with timeouts: a peer never hangs. */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
		close(fd);
		return -1;
	}
	th_set_timeouts(fd, TH_PEER_MSECS);
	return fd;
}

int
th_accept(int lfd, int msecs)
{
	int fd;

	if (!(th_poll(lfd, POLLIN, msecs) & POLLIN))
		return -1;
	do {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	} while (fd < 0 && errno == EINTR);
	if (fd >= 0)
		th_set_timeouts(fd, TH_PEER_MSECS);
	return fd;
}

short
th_poll(int fd, short events, int msecs)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;

	do {
		n = poll(&p, 1, msecs);
	} while (n < 0 && errno == EINTR);
	return n > 0 ? p.revents : 0;
}

void
th_set_timeouts(int fd, int msecs)
{
	struct timeval tv = { msecs / 1000, (msecs % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

int
th_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
th_read_exact(int fd, void *buf, size_t len)
{
	char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = recv(fd, p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

bool
th_sock_name(int fd, bool peer, char *text, size_t size, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	const void *src;
	int rc;

	rc = peer ? getpeername(fd, (struct sockaddr *)&ss, &len) :
	    getsockname(fd, (struct sockaddr *)&ss, &len);
	if (rc != 0)
		return false;
	if (ss.ss_family == AF_INET) {
		src = &((struct sockaddr_in *)&ss)->sin_addr;
		*port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	} else {
		src = &((struct sockaddr_in6 *)&ss)->sin6_addr;
		*port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	return inet_ntop(ss.ss_family, src, text, (socklen_t)size) != NULL;
}

bool
th_ipv6_loopback(void)
{
	uint16_t port = 0;
	int fd = th_listen("::1", &port, 1);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

uint16_t
th_dead_port(const char *text)
{
	uint16_t port = 0;
	int fd = th_listen(text, &port, 1);

	if (fd < 0)
		return 0;
	close(fd);
	return port;
}

int
th_full_listener(const char *text, uint16_t *port, int *filler)
{
	int lfd = th_listen(text, port, 0);

	*filler = -1;
	if (lfd < 0)
		return -1;
	/* Linux queues backlog + 1 connections: with 0, this one. */
	*filler = th_connect(text, *port);
	if (*filler < 0) {
		close(lfd);
		return -1;
	}
	return lfd;
}

/* ---------------------------------------------------------------- data */

/* The 8 pattern bytes of word w (offset / 8) of stream seed. */
static inline uint64_t
pattern_word(uint64_t w, uint32_t seed)
{
	uint64_t x = w * 0x9e3779b97f4a7c15ull + seed;

	return x ^ (x >> 29);
}

void
th_pattern(void *buf, size_t len, uint64_t offset, uint32_t seed)
{
	uint8_t *p = buf;
	uint64_t word = UINT64_MAX, x = 0;

	for (size_t i = 0; i < len; i++) {
		uint64_t off = offset + i;

		if (off >> 3 != word)
			x = pattern_word(word = off >> 3, seed);
		p[i] = (uint8_t)(x >> (8 * (off & 7)));
	}
}

int64_t
th_pattern_check(const void *buf, size_t len, uint64_t offset,
    uint32_t seed)
{
	const uint8_t *p = buf;
	uint64_t word = UINT64_MAX, x = 0;

	for (size_t i = 0; i < len; i++) {
		uint64_t off = offset + i;

		if (off >> 3 != word)
			x = pattern_word(word = off >> 3, seed);
		if (p[i] != (uint8_t)(x >> (8 * (off & 7))))
			return (int64_t)off;
	}
	return -1;
}

uint64_t
th_sum(uint64_t sum, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		sum ^= p[i];
		sum *= 0x100000001b3ull;
	}
	return sum;
}

uint64_t
th_pattern_sum(uint64_t len, uint32_t seed)
{
	uint8_t chunk[65536];
	uint64_t sum = TH_SUM_INIT, off = 0;

	while (off < len) {
		size_t n = len - off < sizeof(chunk) ? (size_t)(len - off) :
		    sizeof(chunk);

		th_pattern(chunk, n, off, seed);
		sum = th_sum(sum, chunk, n);
		off += n;
	}
	return sum;
}

/* ---------------------------------------------------------------- process */

int
th_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own descriptor */
}

long
th_rss(void)
{
	FILE *f = fopen("/proc/self/statm", "re");
	long size, resident;

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &resident) != 2)
		resident = -1;
	fclose(f);
	return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

/* Lines of one /proc/net/tcp* table that match; -1 when unreadable. */
static int
count_tcp_table(const char *path, uint16_t port, int state)
{
	FILE *f = fopen(path, "re");
	char line[512], remote[64];
	unsigned rport, st;
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *colon;

		/* "sl local rem st ...": rem is HEXADDR:HEXPORT. */
		if (sscanf(line, "%*s %*s %63s %x", remote, &st) != 2 ||
		    !(colon = strrchr(remote, ':')) ||
		    sscanf(colon + 1, "%x", &rport) != 1)
			continue;
		if (rport == port && (int)st == state)
			n++;
	}
	fclose(f);
	return n;
}

int
th_count_tcp(uint16_t port, int state)
{
	int v4 = count_tcp_table("/proc/net/tcp", port, state);
	int v6 = count_tcp_table("/proc/net/tcp6", port, state);

	if (v4 < 0 && v6 < 0)
		return -1;
	return (v4 > 0 ? v4 : 0) + (v6 > 0 ? v6 : 0);
}

#define FILL_MAX 64

static struct {
	bool lowered;
	struct rlimit old;
	int fds[FILL_MAX];
	int count;
} fill;

int
th_fd_exhaust(void)
{
	struct rlimit low;
	int open_now = th_count_fds();

	if (fill.lowered || open_now < 0 ||
	    getrlimit(RLIMIT_NOFILE, &fill.old) != 0)
		return -1;
	low = fill.old;
	low.rlim_cur = (rlim_t)open_now + FILL_MAX / 2;
	if (low.rlim_cur > fill.old.rlim_cur ||
	    setrlimit(RLIMIT_NOFILE, &low) != 0)
		return -1;
	fill.lowered = true;
	while (fill.count < FILL_MAX && (fill.fds[fill.count] =
	    open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
		fill.count++;
	if (fill.count < FILL_MAX && errno == EMFILE)
		return 0;
	th_fd_restore();
	return -1;
}

void
th_fd_restore(void)
{
	while (fill.count > 0)
		close(fill.fds[--fill.count]);
	if (fill.lowered)
		setrlimit(RLIMIT_NOFILE, &fill.old);
	fill.lowered = false;
}

bool
th_valgrind(void)
{
	const char *preload = getenv("LD_PRELOAD");

	/* valgrind preloads its vgpreload_*.so into the program it runs. */
	return preload && strstr(preload, "vgpreload");
}

void
th_sleep_ms(int msecs)
{
	struct timespec ts = { msecs / 1000, (msecs % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---------------------------------------------------------------- threads */

void
th_peer_init(th_peer *p, int lfd)
{
	memset(p, 0, sizeof(*p));
	p->lfd = lfd;
	p->fd = -1;
	p->count = 1;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
}

static void *
peer_main(void *arg)
{
	th_peer *p = arg;

	p->failure = p->fn(p);
	if (p->fd >= 0) {
		close(p->fd);
		p->fd = -1;
	}
	return NULL;
}

bool
th_peer_start(th_peer *p, const char *(*fn)(th_peer *p))
{
	p->fn = fn;
	p->started = pthread_create(&p->thread, NULL, peer_main, p) == 0;
	return p->started;
}

const char *
th_peer_join(th_peer *p)
{
	if (!p->started)
		return "the peer thread did not start";
	pthread_join(p->thread, NULL);
	p->started = false;
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	return p->failure;
}

void
th_peer_signal(th_peer *p)
{
	pthread_mutex_lock(&p->lock);
	p->signals++;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

bool
th_peer_wait_signal(th_peer *p, int nth, int msecs)
{
	struct timespec until;
	int rc = 0;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += msecs / 1000;
	until.tv_nsec += (msecs % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&p->lock);
	while (p->signals < nth && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&p->cond, &p->lock, &until);
	ok = p->signals >= nth;
	pthread_mutex_unlock(&p->lock);
	return ok;
}

/* Accepts the peer's connection and notes the client's address. */
static const char *
peer_accept(th_peer *p)
{
	if ((p->fd = th_accept(p->lfd, TH_PEER_MSECS)) < 0)
		return "peer: accept failed or timed out";
	if (!th_sock_name(p->fd, true, p->peer_addr, sizeof(p->peer_addr),
	    &p->peer_port))
		return "peer: getpeername failed";
	return NULL;
}

#define PEER_CHUNK 65536

/* Echoes p->fd to EOF. */
static const char *
echo_to_eof(th_peer *p)
{
	char *chunk;
	ssize_t n;

	if (!(chunk = malloc(PEER_CHUNK)))
		return "peer: out of memory";
	for (;;) {
		n = recv(p->fd, chunk, PEER_CHUNK, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			break;
		if (n < 0) {
			free(chunk);
			return "peer: recv failed or timed out while echoing";
		}
		p->received += (size_t)n;
		p->sum = th_sum(p->sum, chunk, (size_t)n);
		if (th_write_all(p->fd, chunk, (size_t)n) != 0) {
			free(chunk);
			return "peer: send failed or timed out while echoing";
		}
	}
	free(chunk);
	return NULL;
}

const char *
th_peer_echo(th_peer *p)
{
	const char *why;

	p->sum = TH_SUM_INIT;
	if ((why = peer_accept(p)) != NULL)
		return why;
	return echo_to_eof(p);
}

const char *
th_peer_echo_many(th_peer *p)
{
	const char *why;

	p->sum = TH_SUM_INIT;
	for (int i = 0; i < p->count; i++) {
		if ((why = peer_accept(p)) != NULL)
			return why;
		why = echo_to_eof(p);
		close(p->fd);
		p->fd = -1;
		if (why)
			return why;
	}
	return NULL;
}

/* Reads fd to EOF into p->received and p->sum; NULL or a failure. */
static const char *
read_to_eof(th_peer *p, int fd)
{
	char *buf = malloc(PEER_CHUNK);
	ssize_t n;

	if (!buf)
		return "peer: out of memory";
	for (;;) {
		n = recv(fd, buf, PEER_CHUNK, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		p->received += (size_t)n;
		p->sum = th_sum(p->sum, buf, (size_t)n);
	}
	free(buf);
	return n == 0 ? NULL : "peer: recv failed or timed out before EOF";
}

const char *
th_peer_read_to_eof(th_peer *p)
{
	p->sum = TH_SUM_INIT;
	return read_to_eof(p, p->fd);
}

const char *
th_peer_sink(th_peer *p)
{
	const char *why;

	p->sum = TH_SUM_INIT;
	if ((why = peer_accept(p)) != NULL)
		return why;
	return read_to_eof(p, p->fd);
}

const char *
th_peer_sink_many(th_peer *p)
{
	const char *why;

	p->sum = TH_SUM_INIT;
	for (int i = 0; i < p->count; i++) {
		if ((why = peer_accept(p)) != NULL)
			return why;
		why = read_to_eof(p, p->fd);
		close(p->fd);
		p->fd = -1;
		if (why)
			return why;
	}
	return NULL;
}

/* ---------------------------------------------------------------- resolver */

#define FAKE_MAX_ADDRS 8

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char name[256];
	char addrs[FAKE_MAX_ADDRS][64];
	size_t count;
	int delay_ms;
	int calls;
	unsigned generation;	/* bumped by th_fake_uninstall() */
} fake = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

/* One allocation per answer: the addrinfo and its sockaddr. */
struct fake_ai {
	struct addrinfo ai;
	struct sockaddr_storage ss;
};

static void
fake_free(struct addrinfo *res, void *arg)
{
	(void)arg;
	while (res) {
		struct addrinfo *next = res->ai_next;

		free(res);	/* the struct fake_ai it starts */
		res = next;
	}
}

/* Waits delay_ms, or less when released; under fake.lock. */
static void
fake_delay(int delay_ms)
{
	unsigned gen = fake.generation;
	struct timespec until;
	int rc = 0;

	if (delay_ms <= 0)
		return;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += delay_ms / 1000;
	until.tv_nsec += (delay_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (gen == fake.generation && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&fake.cond, &fake.lock, &until);
}

static int
fake_getaddrinfo(const char *node, const char *service,
    const struct addrinfo *hints, struct addrinfo **res, void *arg)
{
	struct addrinfo *head = NULL, **tail = &head;
	int family = hints ? hints->ai_family : AF_UNSPEC;

	(void)service;
	(void)arg;
	*res = NULL;
	pthread_mutex_lock(&fake.lock);
	if (!node || strcmp(node, fake.name) != 0) {
		pthread_mutex_unlock(&fake.lock);
		return EAI_NONAME;
	}
	fake.calls++;
	fake_delay(fake.delay_ms);
	for (size_t i = 0; i < fake.count; i++) {
		struct fake_ai *f = calloc(1, sizeof(*f));
		socklen_t len;

		if (!f) {
			pthread_mutex_unlock(&fake.lock);
			fake_free(head, NULL);
			return EAI_MEMORY;
		}
		len = to_sockaddr(fake.addrs[i], 0, &f->ss);
		if (len == 0 || (family != AF_UNSPEC &&
		    f->ss.ss_family != family)) {
			free(f);
			continue;
		}
		f->ai.ai_family = f->ss.ss_family;
		f->ai.ai_socktype = SOCK_STREAM;
		f->ai.ai_protocol = IPPROTO_TCP;
		f->ai.ai_addrlen = len;
		f->ai.ai_addr = (struct sockaddr *)&f->ss;
		*tail = &f->ai;
		tail = &f->ai.ai_next;
	}
	pthread_mutex_unlock(&fake.lock);
	if (!head)
		return EAI_NONAME;
	*res = head;
	return 0;
}

void
th_fake_install(const char *name, const char *const *addrs, size_t n,
    int delay_ms)
{
	pthread_mutex_lock(&fake.lock);
	snprintf(fake.name, sizeof(fake.name), "%s", name);
	fake.count = n < FAKE_MAX_ADDRS ? n : FAKE_MAX_ADDRS;
	for (size_t i = 0; i < fake.count; i++)
		snprintf(fake.addrs[i], sizeof(fake.addrs[i]), "%s", addrs[i]);
	fake.delay_ms = delay_ms;
	fake.calls = 0;
	pthread_mutex_unlock(&fake.lock);
	/* This also empties the resolver's cache. */
	wk_resolver_set_backend(fake_getaddrinfo, fake_free, NULL);
}

void
th_fake_uninstall(void)
{
	pthread_mutex_lock(&fake.lock);
	fake.generation++;
	fake.name[0] = '\0';
	fake.count = 0;
	pthread_cond_broadcast(&fake.cond);
	pthread_mutex_unlock(&fake.lock);
	wk_resolver_set_backend(NULL, NULL, NULL);
}

int
th_fake_calls(void)
{
	int n;

	pthread_mutex_lock(&fake.lock);
	n = fake.calls;
	pthread_mutex_unlock(&fake.lock);
	return n;
}
