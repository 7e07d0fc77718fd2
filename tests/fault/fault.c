/*
 * fault.c - a test-only interposition library (LD_PRELOAD) that fails the
 * system calls, getaddrinfo(), pthread_create() and the allocator as
 * libwirekit calls them, by the rules in WK_FAULT
 *
 * Only calls made from libwirekit's own code are touched: a wrapper looks
 * at its return address and injects nothing unless that lies in the
 * executable segments of the loaded libwirekit.so (or, in a program
 * linked with the static core library, in the functions of lib/ found in
 * its symbol table).  The tests' raw-socket helpers, their DNS server,
 * Check, libc's internals (getaddrinfo's own sockets, strdup's malloc)
 * all pass straight through.  read() and write() are not wrapped:
 * libwirekit uses them only on its eventfds.
 *
 * WK_FAULT is a list of rules separated by ';', each a list of key=value
 * separated by ',':
 *
 *   call=NAME   a wrapped function: socket connect accept accept4 send
 *               sendmsg sendto recv recvmsg recvfrom poll getaddrinfo
 *               pthread_create malloc calloc realloc strdup strndup; or a
 *               group: io (send*, recv*), alloc (malloc calloc realloc
 *               strdup strndup), all (everything but the alloc group).
 *               Several names: call=send|recv.
 *   err=E       the call fails with E (a name as in errno.h, EAI_* for
 *               getaddrinfo, or a number) without the real call being
 *               made: -1 and errno for the system calls, the error number
 *               for pthread_create, NULL and ENOMEM for the allocator, and
 *               for getaddrinfo EAGAIN -> EAI_AGAIN, ENOMEM -> EAI_MEMORY,
 *               anything else -> EAI_SYSTEM with errno set.
 *               EINTR is only ever injected where the kernel can return
 *               it (connect, accept*, send*, recv*, poll); a rule for
 *               "all" skips the other calls.  An interrupted connect is
 *               one that started: the real connect() runs, and if it
 *               came back EINPROGRESS (or 0) the caller sees EINTR, as
 *               after a signal (POSIX: the connect goes on).
 *   short=N     send and recv calls on a stream socket: the real call
 *               with the length cut to 1 byte (N=1) or to 1..N bytes.
 *               Datagram sockets are left alone (a datagram cannot be
 *               short).
 *   delay=MS    sleep MS milliseconds before the real call.
 *   type=T      only calls on sockets of type T, stream or dgram (found
 *               with getsockopt(SO_TYPE); for socket() its argument).
 *   rate=P      fire on a matching call with probability P (0..1).
 *   nth=N       fire on the Nth matching call only (1-based).
 *   from=N,to=M fire on the matching calls N..M.
 *   seed=S      the seed of the rule's generator (default 1).
 *   scope=S     what the call numbers count: process (the default) or
 *               run, the process and the children it forks after
 *               starting (a shared page): nth=N then fails one call of
 *               a whole Check run instead of one in every forked test.
 *
 * Each rule counts its matching calls with an atomic counter and decides
 * from a hash of (seed, call number), so a run with the same call order
 * reproduces.  With scope=process the counters live in the process: a
 * forked test (Check's fork mode) starts from the count its parent had,
 * so nth=N hits the Nth call in every test.
 *
 * WK_FAULT_VERBOSE=1 prints one line per rule at exit (exit() or _exit(),
 * which Check's forked tests end with on failure): calls matched and
 * faults injected.  WK_FAULT_VERBOSE=2 also prints each injection with
 * its caller (an offset for addr2line), and 3 every call a rule counts.
 *
 * Nothing here takes a lock or allocates on the call path: the rules are
 * parsed into static storage by a constructor, the allocator wrappers call
 * glibc's __libc_malloc and friends, and the others find the next
 * definition with dlsym() once.
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define _GNU_SOURCE

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define CALLER() ((uintptr_t)__builtin_return_address(0))

/* ---------------------------------------------------------------- calls */

enum call {
	C_SOCKET, C_CONNECT, C_ACCEPT, C_ACCEPT4,
	C_SEND, C_SENDMSG, C_SENDTO, C_RECV, C_RECVMSG, C_RECVFROM,
	C_POLL, C_GETADDRINFO, C_PTHREAD_CREATE,
	C_MALLOC, C_CALLOC, C_REALLOC, C_STRDUP, C_STRNDUP,
	C_COUNT
};

static const char *const call_names[C_COUNT] = {
	"socket", "connect", "accept", "accept4",
	"send", "sendmsg", "sendto", "recv", "recvmsg", "recvfrom",
	"poll", "getaddrinfo", "pthread_create",
	"malloc", "calloc", "realloc", "strdup", "strndup",
};

#define BIT(c) (UINT32_C(1) << (c))
#define M_IO (BIT(C_SEND) | BIT(C_SENDMSG) | BIT(C_SENDTO) | BIT(C_RECV) | \
	BIT(C_RECVMSG) | BIT(C_RECVFROM))
#define M_ALLOC (BIT(C_MALLOC) | BIT(C_CALLOC) | BIT(C_REALLOC) | \
	BIT(C_STRDUP) | BIT(C_STRNDUP))
#define M_ALL ((BIT(C_COUNT) - 1) & ~M_ALLOC)
/* The calls the kernel can interrupt: the only ones EINTR is injected in. */
#define M_EINTR (M_IO | BIT(C_CONNECT) | BIT(C_ACCEPT) | BIT(C_ACCEPT4) | \
	BIT(C_POLL))

/* ---------------------------------------------------------------- rules */

#define MAX_RULES 16
#define RULE_TEXT 96

struct rule {
	uint32_t calls;		/* mask of enum call */
	int err;		/* errno to fail with, 0: none */
	int eai;		/* getaddrinfo's result for it */
	int type;		/* SOCK_STREAM, SOCK_DGRAM, 0: any */
	unsigned short_max;	/* 0: no short I/O */
	unsigned delay_ms;
	uint64_t threshold;	/* fire when hash < threshold (2^53 = always) */
	uint64_t from, to;	/* the window of call numbers */
	uint64_t seed;
	bool run_scope;		/* counted across fork()s */
	atomic_uint_fast64_t matched, injected;	/* in this process */
	char text[RULE_TEXT];
};

static struct rule rules[MAX_RULES];
/* The counters of scope=run rules: a page shared with forked children. */
static atomic_uint_fast64_t *run_matched;
static int nrules;
static int verbose;

/* What the rules that fired on one call ask for. */
struct action {
	int fd;			/* the call's socket, -1: none */
	int type;		/* its SOCK_ type, 0 until asked */
	int err, eai;
	unsigned short_max, delay_ms;
	uint64_t rnd;
	bool fired;
};

#define ALWAYS (UINT64_C(1) << 53)

static uint64_t
mix(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

/* ---------------------------------------------------------------- libwirekit's text */

/*
 * The code that counts as libwirekit's, as sorted, disjoint intervals:
 * the executable segments of libwirekit.so when it is loaded; otherwise
 * (a test linked with the static core library, as check_lookup is) the
 * functions of the executable that came from lib/: the local functions
 * of a lib/ source file (STT_FILE in .symtab) and those named wk_ or
 * wk__ (not wk_test_).  The file names are those of WK_FAULT_SOURCES
 * (space-separated, as matrix.sh passes them from lib/) or else a
 * built-in list.
 */
#define MAX_RANGES 4096

static uintptr_t range_lo[MAX_RANGES], range_hi[MAX_RANGES];
static int nranges;
static const char *text_from = "nothing";
/* For messages: the object the ranges are in, and its load address. */
static const char *text_file = "?";
static uintptr_t text_base;
static atomic_bool ready;	/* ranges and rules are set */
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static const char default_sources[] = "addr.c buffer.c engine.c error.c "
    "idn.c iface.c lookup.c resolver.c serve.c server.c socket.c tcp.c "
    "thread.c udp.c version.c";

static void
add_range(uintptr_t lo, uintptr_t hi)
{
	if (nranges < MAX_RANGES && lo < hi) {
		range_lo[nranges] = lo;
		range_hi[nranges] = hi;
		nranges++;
	}
}

static int
find_so(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	(void)arg;
	if (!info->dlpi_name || !strstr(info->dlpi_name, "libwirekit.so"))
		return 0;
	text_file = info->dlpi_name;
	text_base = info->dlpi_addr;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X))
			add_range(info->dlpi_addr + ph->p_vaddr,
			    info->dlpi_addr + ph->p_vaddr + ph->p_memsz);
	}
	return 0;
}

static int
find_exe_bias(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	*(uintptr_t *)arg = info->dlpi_addr;
	return 1;		/* the program comes first */
}

/* Whether name (a STT_FILE symbol) is one of the words of list. */
static bool
in_list(const char *list, const char *name)
{
	const char *base = strrchr(name, '/');
	size_t len;

	base = base ? base + 1 : name;
	len = strlen(base);
	if (len == 0)
		return false;
	for (const char *p = list; (p = strstr(p, base)); p += len)
		if ((p == list || p[-1] == ' ') && (p[len] == ' ' ||
		    p[len] == '\0'))
			return true;
	return false;
}

/* Sorts and merges the intervals (insertion sort: a few hundred). */
static void
sort_ranges(void)
{
	int i, j, out;

	for (i = 1; i < nranges; i++) {
		uintptr_t lo = range_lo[i], hi = range_hi[i];

		for (j = i; j > 0 && range_lo[j - 1] > lo; j--) {
			range_lo[j] = range_lo[j - 1];
			range_hi[j] = range_hi[j - 1];
		}
		range_lo[j] = lo;
		range_hi[j] = hi;
	}
	for (i = 1, out = 0; i < nranges; i++) {
		if (range_lo[i] <= range_hi[out]) {
			if (range_hi[i] > range_hi[out])
				range_hi[out] = range_hi[i];
		} else {
			out++;
			range_lo[out] = range_lo[i];
			range_hi[out] = range_hi[i];
		}
	}
	if (nranges)
		nranges = out + 1;
}

/* The functions of lib/ linked into the executable, from its .symtab. */
static void
find_exe(void)
{
	const char *sources = getenv("WK_FAULT_SOURCES");
	const ElfW(Ehdr) *eh;
	const ElfW(Shdr) *sh;
	const unsigned char *map;
	uintptr_t bias = 0;
	struct stat st;
	bool lib_file = false;
	int fd;

	if (!sources || !*sources)
		sources = default_sources;
	dl_iterate_phdr(find_exe_bias, &bias);
	if ((fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)) < 0)
		return;
	if (fstat(fd, &st) != 0 || (size_t)st.st_size < sizeof(*eh) ||
	    (map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd,
	    0)) == MAP_FAILED) {
		close(fd);
		return;
	}
	close(fd);
	eh = (const ElfW(Ehdr) *)map;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_shoff == 0 ||
	    eh->e_shoff + (size_t)eh->e_shnum * sizeof(*sh) > (size_t)st.st_size)
		goto out;
	sh = (const ElfW(Shdr) *)(map + eh->e_shoff);
	for (int i = 0; i < eh->e_shnum; i++) {
		const ElfW(Sym) *sym;
		const char *str;
		size_t count;

		if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum ||
		    sh[i].sh_offset + sh[i].sh_size > (size_t)st.st_size ||
		    sh[sh[i].sh_link].sh_offset + sh[sh[i].sh_link].sh_size >
		    (size_t)st.st_size)
			continue;
		sym = (const ElfW(Sym) *)(map + sh[i].sh_offset);
		count = sh[i].sh_size / sizeof(*sym);
		str = (const char *)map + sh[sh[i].sh_link].sh_offset;
		for (size_t k = 0; k < count; k++) {
			const char *name;

			if (sym[k].st_name >= sh[sh[i].sh_link].sh_size)
				continue;
			name = str + sym[k].st_name;
			if ((sym[k].st_info & 0xf) == STT_FILE) {
				lib_file = in_list(sources, name);
				continue;
			}
			if ((sym[k].st_info & 0xf) != STT_FUNC ||
			    sym[k].st_shndx == SHN_UNDEF || sym[k].st_size == 0)
				continue;
			if (((sym[k].st_info >> 4) == STB_LOCAL &&
			    lib_file) || (strncmp(name, "wk_", 3) == 0 &&
			    strncmp(name, "wk_test_", 8) != 0))
				add_range(bias + sym[k].st_value,
				    bias + sym[k].st_value + sym[k].st_size);
		}
	}
	if (nranges) {
		text_from = "the executable's own copy of lib/";
		text_file = program_invocation_name;
		text_base = bias;
	}
out:
	munmap((void *)map, (size_t)st.st_size);
}

static void
find_text(void)
{
	dl_iterate_phdr(find_so, NULL);
	if (nranges)
		text_from = "libwirekit.so";
	else
		find_exe();
	sort_ranges();
}

static bool
from_lib(uintptr_t pc)
{
	int lo = 0, hi = nranges;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (pc < range_lo[mid])
			hi = mid;
		else if (pc >= range_hi[mid])
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/* ---------------------------------------------------------------- output */

/* stderr without stdio: one write(), no allocation, no lock. */
static void
say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
say(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

/* ---------------------------------------------------------------- parsing */

struct name_value {
	const char *name;
	int value;
};

static const struct name_value errnos[] = {
	{ "EINTR", EINTR }, { "EAGAIN", EAGAIN }, { "EWOULDBLOCK", EWOULDBLOCK },
	{ "ENOBUFS", ENOBUFS }, { "ENOMEM", ENOMEM }, { "EMFILE", EMFILE },
	{ "ENFILE", ENFILE }, { "ECONNRESET", ECONNRESET },
	{ "ECONNREFUSED", ECONNREFUSED }, { "ECONNABORTED", ECONNABORTED },
	{ "ETIMEDOUT", ETIMEDOUT }, { "ENETUNREACH", ENETUNREACH },
	{ "EHOSTUNREACH", EHOSTUNREACH }, { "ENETDOWN", ENETDOWN },
	{ "EPIPE", EPIPE }, { "EIO", EIO }, { "EACCES", EACCES },
	{ "EPERM", EPERM }, { "EADDRINUSE", EADDRINUSE },
	{ "EADDRNOTAVAIL", EADDRNOTAVAIL }, { "EAFNOSUPPORT", EAFNOSUPPORT },
	{ "EPROTO", EPROTO }, { "EINVAL", EINVAL }, { "ENOTCONN", ENOTCONN },
	{ "EPROTONOSUPPORT", EPROTONOSUPPORT }, { NULL, 0 }
};

static const struct name_value eais[] = {
	{ "EAI_AGAIN", EAI_AGAIN }, { "EAI_MEMORY", EAI_MEMORY },
	{ "EAI_SYSTEM", EAI_SYSTEM }, { "EAI_FAIL", EAI_FAIL },
	{ "EAI_NONAME", EAI_NONAME }, { "EAI_NODATA", EAI_NODATA },
	{ "EAI_FAMILY", EAI_FAMILY }, { "EAI_SERVICE", EAI_SERVICE },
	{ "EAI_ADDRFAMILY", EAI_ADDRFAMILY }, { NULL, 0 }
};

static int
lookup(const struct name_value *t, const char *name, int *value)
{
	for (; t->name; t++)
		if (strcmp(t->name, name) == 0) {
			*value = t->value;
			return 0;
		}
	return -1;
}

static int
parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return *s && !*end && !errno ? 0 : -1;
}

static int
parse_calls(char *s, uint32_t *mask)
{
	char *save, *name;

	*mask = 0;
	for (name = strtok_r(s, "|", &save); name;
	    name = strtok_r(NULL, "|", &save)) {
		int c;

		if (strcmp(name, "io") == 0)
			*mask |= M_IO;
		else if (strcmp(name, "alloc") == 0)
			*mask |= M_ALLOC;
		else if (strcmp(name, "all") == 0)
			*mask |= M_ALL;
		else {
			for (c = 0; c < C_COUNT; c++)
				if (strcmp(name, call_names[c]) == 0)
					break;
			if (c == C_COUNT)
				return -1;
			*mask |= BIT(c);
		}
	}
	return *mask ? 0 : -1;
}

static int
parse_err(const char *s, struct rule *r)
{
	uint64_t n;

	if (lookup(eais, s, &r->eai) == 0) {
		r->err = r->eai == EAI_AGAIN ? EAGAIN : r->eai == EAI_MEMORY ?
		    ENOMEM : EIO;
		return 0;
	}
	if (lookup(errnos, s, &r->err) != 0) {
		if (parse_u64(s, &n) != 0 || n == 0 || n > 4095)
			return -1;
		r->err = (int)n;
	}
	r->eai = r->err == EAGAIN ? EAI_AGAIN : r->err == ENOMEM ? EAI_MEMORY :
	    EAI_SYSTEM;
	return 0;
}

/* Parses one rule (modified in place); 0, or -1 with *why set. */
static int
parse_rule(char *text, struct rule *r, const char **why)
{
	char *save, *kv;
	bool have_nth = false, have_window = false;
	uint64_t n;

	memset(r, 0, sizeof(*r));
	r->threshold = ALWAYS;
	r->from = 1;
	r->to = UINT64_MAX;
	r->seed = 1;
	snprintf(r->text, sizeof(r->text), "%s", text);
	for (kv = strtok_r(text, ",", &save); kv;
	    kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '='), *key = kv, *val;

		while (*key == ' ')
			key++;
		if (!eq) {
			*why = "no '=' in a key=value";
			return -1;
		}
		*eq = '\0';
		val = eq + 1;
		if (strcmp(key, "call") == 0) {
			if (parse_calls(val, &r->calls) != 0) {
				*why = "unknown call";
				return -1;
			}
		} else if (strcmp(key, "err") == 0) {
			if (parse_err(val, r) != 0) {
				*why = "unknown err";
				return -1;
			}
		} else if (strcmp(key, "type") == 0) {
			if (strcmp(val, "stream") == 0)
				r->type = SOCK_STREAM;
			else if (strcmp(val, "dgram") == 0)
				r->type = SOCK_DGRAM;
			else {
				*why = "type wants stream or dgram";
				return -1;
			}
		} else if (strcmp(key, "short") == 0) {
			if (parse_u64(val, &n) != 0 || n == 0 || n > 1u << 30) {
				*why = "short wants a count of bytes >= 1";
				return -1;
			}
			r->short_max = (unsigned)n;
		} else if (strcmp(key, "delay") == 0) {
			if (parse_u64(val, &n) != 0 || n > 600000) {
				*why = "delay wants milliseconds";
				return -1;
			}
			r->delay_ms = (unsigned)n;
		} else if (strcmp(key, "rate") == 0) {
			char *end;
			double p = strtod(val, &end);

			if (*end || !(p >= 0 && p <= 1)) {
				*why = "rate wants 0..1";
				return -1;
			}
			r->threshold = (uint64_t)(p * (double)ALWAYS);
		} else if (strcmp(key, "nth") == 0) {
			if (parse_u64(val, &n) != 0 || n == 0) {
				*why = "nth wants a number >= 1";
				return -1;
			}
			r->from = r->to = n;
			have_nth = true;
		} else if (strcmp(key, "from") == 0) {
			if (parse_u64(val, &r->from) != 0 || r->from == 0) {
				*why = "from wants a number >= 1";
				return -1;
			}
			have_window = true;
		} else if (strcmp(key, "to") == 0) {
			if (parse_u64(val, &r->to) != 0) {
				*why = "to wants a number";
				return -1;
			}
			have_window = true;
		} else if (strcmp(key, "scope") == 0) {
			if (strcmp(val, "run") == 0)
				r->run_scope = true;
			else if (strcmp(val, "process") == 0)
				r->run_scope = false;
			else {
				*why = "scope wants process or run";
				return -1;
			}
		} else if (strcmp(key, "seed") == 0) {
			if (parse_u64(val, &r->seed) != 0) {
				*why = "seed wants a number";
				return -1;
			}
		} else {
			*why = "unknown key";
			return -1;
		}
	}
	if (!r->calls) {
		*why = "no call=";
		return -1;
	}
	if (!r->err && !r->short_max && !r->delay_ms) {
		*why = "nothing to do: no err=, short= or delay=";
		return -1;
	}
	if (have_nth && have_window) {
		*why = "nth= and from=/to= together";
		return -1;
	}
	if (r->from > r->to) {
		*why = "from= after to=";
		return -1;
	}
	/* An EINTR is only believable where the kernel can interrupt. */
	if (r->err == EINTR && !(r->calls &= M_EINTR)) {
		*why = "EINTR for calls that cannot be interrupted";
		return -1;
	}
	return 0;
}

static void
parse_rules(const char *env)
{
	static char buf[2048];
	char *save, *one;
	const char *why = NULL;

	if (strlen(env) >= sizeof(buf)) {
		say("wkfault: WK_FAULT is too long\n");
		_exit(99);
	}
	strcpy(buf, env);
	for (one = strtok_r(buf, ";", &save); one;
	    one = strtok_r(NULL, ";", &save)) {
		char copy[RULE_TEXT * 4];

		if (strspn(one, " \t\n") == strlen(one))
			continue;
		if (nrules == MAX_RULES) {
			say("wkfault: more than %d rules\n", MAX_RULES);
			_exit(99);
		}
		snprintf(copy, sizeof(copy), "%s", one);
		if (parse_rule(one, &rules[nrules], &why) != 0) {
			say("wkfault: bad rule \"%s\": %s\n", copy, why);
			_exit(99);
		}
		nrules++;
	}
}

/* ---------------------------------------------------------------- the next definitions */

static int (*real_socket)(int, int, int);
static int (*real_connect)(int, __CONST_SOCKADDR_ARG, socklen_t);
static int (*real_accept)(int, __SOCKADDR_ARG, socklen_t *);
static int (*real_accept4)(int, __SOCKADDR_ARG, socklen_t *, int);
static ssize_t (*real_send)(int, const void *, size_t, int);
static ssize_t (*real_sendmsg)(int, const struct msghdr *, int);
static ssize_t (*real_sendto)(int, const void *, size_t, int,
    __CONST_SOCKADDR_ARG, socklen_t);
static ssize_t (*real_recv)(int, void *, size_t, int);
static ssize_t (*real_recvmsg)(int, struct msghdr *, int);
static ssize_t (*real_recvfrom)(int, void *, size_t, int, __SOCKADDR_ARG,
    socklen_t *);
static int (*real_poll)(struct pollfd *, nfds_t, int);
static int (*real_getaddrinfo)(const char *, const char *,
    const struct addrinfo *, struct addrinfo **);
static int (*real_pthread_create)(pthread_t *, const pthread_attr_t *,
    void *(*)(void *), void *);

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);

#define RESOLVE(name) do { \
	if (!real_##name) \
		*(void **)&real_##name = dlsym(RTLD_NEXT, #name); \
	} while (0)

static void
resolve_all(void)
{
	RESOLVE(socket);
	RESOLVE(connect);
	RESOLVE(accept);
	RESOLVE(accept4);
	RESOLVE(send);
	RESOLVE(sendmsg);
	RESOLVE(sendto);
	RESOLVE(recv);
	RESOLVE(recvmsg);
	RESOLVE(recvfrom);
	RESOLVE(poll);
	RESOLVE(getaddrinfo);
	RESOLVE(pthread_create);
}

static void
init(void)
{
	const char *env = getenv("WK_FAULT");
	const char *v = getenv("WK_FAULT_VERBOSE");

	resolve_all();
	verbose = v ? atoi(v) : 0;
	if (env)
		parse_rules(env);
	for (int i = 0; i < nrules; i++)
		if (rules[i].run_scope && !run_matched) {
			void *p = mmap(NULL, MAX_RULES * sizeof(*run_matched),
			    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			    -1, 0);

			if (p == MAP_FAILED) {
				say("wkfault: no shared page for scope=run\n");
				_exit(99);
			}
			run_matched = p;
		}
	find_text();
	if (verbose >= 2 || (verbose && nrules && !nranges))
		say("wkfault[%ld] %s: libwirekit's code: %s (%d ranges)\n",
		    (long)getpid(), program_invocation_short_name, text_from,
		    nranges);
	atomic_store(&ready, true);
}

/*
 * Every shared object the program needs is mapped before any constructor
 * runs, so libwirekit is found here.  A wrapper called earlier (from
 * another library's constructor) initialises through the same once.
 */
__attribute__((constructor)) static void
wkfault_init(void)
{
	pthread_once(&init_once, init);
}

/* The summary, once per process. */
static void
summarize(void)
{
	static atomic_flag done = ATOMIC_FLAG_INIT;

	if (!verbose || !atomic_load(&ready) || atomic_flag_test_and_set(&done))
		return;
	for (int i = 0; i < nrules; i++)
		say("wkfault[%ld] %s: rule %d \"%s\": %llu calls matched, "
		    "%llu injected\n", (long)getpid(),
		    program_invocation_short_name, i + 1, rules[i].text,
		    (unsigned long long)atomic_load(&rules[i].matched),
		    (unsigned long long)atomic_load(&rules[i].injected));
}

__attribute__((destructor)) static void
wkfault_fini(void)
{
	summarize();
}

/*
 * Check ends a forked test that failed with _exit(), past the destructors:
 * the summary is written on the way out there too.
 */
EXPORT void
_exit(int status)
{
	summarize();
	syscall(SYS_exit_group, status);
	for (;;)
		syscall(SYS_exit, status);
}

/* ---------------------------------------------------------------- deciding */

/* The type of the call's socket (SOCK_STREAM, SOCK_DGRAM), -1 if none. */
static int
sock_type(struct action *a)
{
	int type = 0, saved = errno;
	socklen_t len = sizeof(type);

	if (a->type)
		return a->type;
	if (a->fd < 0 || getsockopt(a->fd, SOL_SOCKET, SO_TYPE, &type,
	    &len) != 0)
		type = -1;
	errno = saved;
	return a->type = type;
}

/*
 * The rules' verdict on call c made from pc.  Counting and deciding take
 * no lock: the call number comes from an atomic counter and the coin from
 * a hash of the seed and that number.
 */
static bool
decide(enum call c, uintptr_t pc, int fd, int type, struct action *a)
{
	memset(a, 0, sizeof(*a));
	a->fd = fd;
	a->type = type;
	if (!atomic_load_explicit(&ready, memory_order_acquire)) {
		/* Not for the allocator: pthread_once may not be reentrant. */
		if (c >= C_MALLOC)
			return false;
		pthread_once(&init_once, init);
	}
	if (!nrules || !from_lib(pc))
		return false;
	for (int i = 0; i < nrules; i++) {
		struct rule *r = &rules[i];
		uint64_t n, h;

		if (!(r->calls & BIT(c)))
			continue;
		if (r->type && sock_type(a) != r->type)
			continue;
		n = atomic_fetch_add(&r->matched, 1) + 1;
		if (r->run_scope)
			n = atomic_fetch_add(&run_matched[i], 1) + 1;
		h = mix(r->seed * UINT64_C(0x100000001b3) ^ mix(n));
		if (n < r->from || n > r->to || (r->threshold < ALWAYS &&
		    (h >> 11) >= r->threshold)) {
			if (verbose >= 3)
				say("wkfault[%ld]: rule %d passes %s call %llu "
				    "from %s+0x%lx\n", (long)getpid(), i + 1,
				    call_names[c], (unsigned long long)n,
				    text_file, (unsigned long)(pc - text_base));
			continue;
		}
		atomic_fetch_add(&r->injected, 1);
		if (r->err && !a->err) {
			a->err = r->err;
			a->eai = r->eai;
		}
		if (r->short_max && (!a->short_max || r->short_max < a->short_max))
			a->short_max = r->short_max;
		a->delay_ms += r->delay_ms;
		a->rnd = mix(h);
		a->fired = true;
		if (verbose >= 2)
			say("wkfault[%ld]: rule %d fires on %s call %llu "
			    "from %s+0x%lx\n", (long)getpid(), i + 1,
			    call_names[c], (unsigned long long)n, text_file,
			    (unsigned long)(pc - text_base));
	}
	return a->fired;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Sleeps as asked; true when the call is to fail with a->err. */
static bool
act(const struct action *a)
{
	if (a->delay_ms) {
		int saved = errno;

		sleep_ms(a->delay_ms);
		errno = saved;
	}
	return a->err != 0;
}

/* The length a short transfer may move, or len when it may not be cut. */
static size_t
clip(size_t len, struct action *a)
{
	size_t max;

	if (!a->short_max || len <= 1 || sock_type(a) != SOCK_STREAM)
		return len;
	max = a->short_max == 1 ? 1 : 1 + (size_t)(a->rnd % a->short_max);
	return len < max ? len : max;
}

#define FAIL(a, rv) do { errno = (a).err; return (rv); } while (0)

/* ---------------------------------------------------------------- sockets */

EXPORT int
socket(int domain, int type, int protocol)
{
	struct action a;

	if (decide(C_SOCKET, CALLER(), -1, type & 0xf, &a) && act(&a))
		FAIL(a, -1);
	RESOLVE(socket);
	return real_socket(domain, type, protocol);
}

EXPORT int
connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
	struct action a;
	int rc;

	RESOLVE(connect);
	if (!decide(C_CONNECT, CALLER(), fd, 0, &a) || !act(&a))
		return real_connect(fd, addr, len);
	if (a.err != EINTR)
		FAIL(a, -1);
	/* Interrupted after it started: it goes on in the background. */
	rc = real_connect(fd, addr, len);
	if (rc == 0 || errno == EINPROGRESS)
		FAIL(a, -1);
	return rc;
}

EXPORT int
accept(int fd, __SOCKADDR_ARG addr, socklen_t *len)
{
	struct action a;

	if (decide(C_ACCEPT, CALLER(), fd, 0, &a) && act(&a))
		FAIL(a, -1);
	RESOLVE(accept);
	return real_accept(fd, addr, len);
}

EXPORT int
accept4(int fd, __SOCKADDR_ARG addr, socklen_t *len, int flags)
{
	struct action a;

	if (decide(C_ACCEPT4, CALLER(), fd, 0, &a) && act(&a))
		FAIL(a, -1);
	RESOLVE(accept4);
	return real_accept4(fd, addr, len, flags);
}

EXPORT ssize_t
send(int fd, const void *buf, size_t len, int flags)
{
	struct action a;

	RESOLVE(send);
	if (decide(C_SEND, CALLER(), fd, 0, &a)) {
		if (act(&a))
			FAIL(a, -1);
		len = clip(len, &a);
	}
	return real_send(fd, buf, len, flags);
}

EXPORT ssize_t
sendto(int fd, const void *buf, size_t len, int flags,
    __CONST_SOCKADDR_ARG to, socklen_t tolen)
{
	struct action a;

	RESOLVE(sendto);
	if (decide(C_SENDTO, CALLER(), fd, 0, &a)) {
		if (act(&a))
			FAIL(a, -1);
		len = clip(len, &a);
	}
	return real_sendto(fd, buf, len, flags, to, tolen);
}

EXPORT ssize_t
recv(int fd, void *buf, size_t len, int flags)
{
	struct action a;

	RESOLVE(recv);
	if (decide(C_RECV, CALLER(), fd, 0, &a)) {
		if (act(&a))
			FAIL(a, -1);
		len = clip(len, &a);
	}
	return real_recv(fd, buf, len, flags);
}

EXPORT ssize_t
recvfrom(int fd, void *buf, size_t len, int flags, __SOCKADDR_ARG from,
    socklen_t *fromlen)
{
	struct action a;

	RESOLVE(recvfrom);
	if (decide(C_RECVFROM, CALLER(), fd, 0, &a)) {
		if (act(&a))
			FAIL(a, -1);
		len = clip(len, &a);
	}
	return real_recvfrom(fd, buf, len, flags, from, fromlen);
}

/*
 * A message cut short: the same header over the first non-empty iovec,
 * itself cut; the caller's structures are not changed.
 */
static void
clip_msg(const struct msghdr *msg, struct msghdr *out, struct iovec *iov,
    struct action *a)
{
	size_t total = 0, i;

	*out = *msg;
	for (i = 0; i < msg->msg_iovlen; i++)
		total += msg->msg_iov[i].iov_len;
	if (clip(total, a) == total)
		return;
	for (i = 0; i < msg->msg_iovlen; i++)
		if (msg->msg_iov[i].iov_len)
			break;
	*iov = msg->msg_iov[i];
	iov->iov_len = clip(iov->iov_len, a);
	out->msg_iov = iov;
	out->msg_iovlen = 1;
}

EXPORT ssize_t
sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct action a;
	struct msghdr m;
	struct iovec iov;

	RESOLVE(sendmsg);
	if (decide(C_SENDMSG, CALLER(), fd, 0, &a)) {
		if (act(&a))
			FAIL(a, -1);
		if (msg) {
			clip_msg(msg, &m, &iov, &a);
			return real_sendmsg(fd, &m, flags);
		}
	}
	return real_sendmsg(fd, msg, flags);
}

EXPORT ssize_t
recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct action a;
	struct msghdr m;
	struct iovec iov;
	ssize_t n;

	RESOLVE(recvmsg);
	if (decide(C_RECVMSG, CALLER(), fd, 0, &a)) {
		if (act(&a))
			FAIL(a, -1);
		if (msg) {
			clip_msg(msg, &m, &iov, &a);
			n = real_recvmsg(fd, &m, flags);
			/* What the kernel wrote back into the header. */
			msg->msg_namelen = m.msg_namelen;
			msg->msg_controllen = m.msg_controllen;
			msg->msg_flags = m.msg_flags;
			return n;
		}
	}
	return real_recvmsg(fd, msg, flags);
}

EXPORT int
poll(struct pollfd *fds, nfds_t n, int timeout)
{
	struct action a;

	if (decide(C_POLL, CALLER(), -1, -1, &a) && act(&a))
		FAIL(a, -1);
	RESOLVE(poll);
	return real_poll(fds, n, timeout);
}

/* ---------------------------------------------------------------- lookups and threads */

EXPORT int
getaddrinfo(const char *node, const char *service,
    const struct addrinfo *hints, struct addrinfo **res)
{
	struct action a;

	if (decide(C_GETADDRINFO, CALLER(), -1, -1, &a) && act(&a)) {
		errno = a.err;
		return a.eai;
	}
	RESOLVE(getaddrinfo);
	return real_getaddrinfo(node, service, hints, res);
}

EXPORT int
pthread_create(pthread_t *t, const pthread_attr_t *attr,
    void *(*fn)(void *), void *arg)
{
	struct action a;

	if (decide(C_PTHREAD_CREATE, CALLER(), -1, -1, &a) && act(&a))
		return a.err;
	RESOLVE(pthread_create);
	return real_pthread_create(t, attr, fn, arg);
}

/* ---------------------------------------------------------------- the allocator */

/*
 * glibc's own entry points: no dlsym(), which itself allocates.  The
 * allocator is the same one free() returns memory to.
 */
static bool
alloc_fails(enum call c, uintptr_t pc)
{
	struct action a;

	if (!atomic_load_explicit(&ready, memory_order_acquire))
		return false;
	if (decide(c, pc, -1, -1, &a) && act(&a)) {
		errno = ENOMEM;
		return true;
	}
	return false;
}

EXPORT void *
malloc(size_t size)
{
	if (alloc_fails(C_MALLOC, CALLER()))
		return NULL;
	return __libc_malloc(size);
}

EXPORT void *
calloc(size_t n, size_t size)
{
	if (alloc_fails(C_CALLOC, CALLER()))
		return NULL;
	return __libc_calloc(n, size);
}

EXPORT void *
realloc(void *p, size_t size)
{
	/* realloc(p, 0) frees: no failure to inject. */
	if ((size || !p) && alloc_fails(C_REALLOC, CALLER()))
		return NULL;
	return __libc_realloc(p, size);
}

EXPORT char *
strdup(const char *s)
{
	size_t len;
	char *p;

	if (alloc_fails(C_STRDUP, CALLER()))
		return NULL;
	len = strlen(s) + 1;
	if ((p = __libc_malloc(len)))
		memcpy(p, s, len);
	return p;
}

EXPORT char *
strndup(const char *s, size_t max)
{
	size_t len;
	char *p;

	if (alloc_fails(C_STRNDUP, CALLER()))
		return NULL;
	len = strnlen(s, max);
	if ((p = __libc_malloc(len + 1))) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}
