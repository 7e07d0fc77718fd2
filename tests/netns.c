/*
 * netns.c - run a test in a network namespace of its own, with a private
 * resolver configuration
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netns.h"

#define HOSTNAME "wirekit-test"

static const char hosts_text[] =
    "127.0.0.1 localhost\n"
    "::1 localhost ip6-localhost\n";

/* Every database a lookup might touch, so none falls back to a default. */
static const char nsswitch_text[] =
    "passwd: files\n"
    "group: files\n"
    "hosts: files dns\n"
    "networks: files\n"
    "protocols: files\n"
    "services: files\n";

static int __attribute__((format(printf, 2, 3)))
fail(int status, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	fputs(status == WK_TEST_SKIP ? "skip: " : "netns: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(saved));
	return status;
}

static int
link_up(const char *name)
{
	struct ifreq ifr;
	int fd, rc = -1;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		goto err;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		goto err;
	rc = 0;
err:
	close(fd);
	return rc;
}

static void
nl_put_attr(struct nlmsghdr *nh, unsigned short type, const void *data,
    size_t len)
{
	struct rtattr *rta;

	rta = (struct rtattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));
	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

/* The kernel's answer to one request: 0, or -1 with errno set. */
static int
nl_read_ack(int fd)
{
	char buf[1024];
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	struct nlmsgerr *e;
	ssize_t n;

	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0)
		return -1;
	if (!NLMSG_OK(nh, (size_t)n) || nh->nlmsg_type != NLMSG_ERROR ||
	    nh->nlmsg_len < NLMSG_LENGTH(sizeof(*e))) {
		errno = EPROTO;
		return -1;
	}
	e = NLMSG_DATA(nh);
	if (e->error == 0)
		return 0;
	errno = -e->error;
	return -1;
}

/*
 * "ip addr add ADDR/PREFIX dev IFNAME" over rtnetlink, so that the test
 * does not depend on iproute2.
 */
static int
add_addr(const char *ifname, int family, const char *text, int prefix)
{
	struct {
		struct nlmsghdr nh;
		struct ifaddrmsg ifa;
		char attrs[64];
	} req;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	unsigned char addr[16];
	size_t alen = family == AF_INET ? 4 : 16;
	int fd, rc = -1;

	if (inet_pton(family, text, addr) != 1) {
		errno = EINVAL;
		return -1;
	}
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifa));
	req.nh.nlmsg_type = RTM_NEWADDR;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE |
	    NLM_F_EXCL;
	req.nh.nlmsg_seq = 1;
	req.ifa.ifa_family = family;
	req.ifa.ifa_prefixlen = prefix;
	/* No duplicate detection: the address is usable at once. */
	req.ifa.ifa_flags = family == AF_INET6 ? IFA_F_NODAD : 0;
	req.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
	req.ifa.ifa_index = if_nametoindex(ifname);
	if (req.ifa.ifa_index == 0)
		return -1;
	nl_put_attr(&req.nh, IFA_LOCAL, addr, alen);
	nl_put_attr(&req.nh, IFA_ADDRESS, addr, alen);
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -1;
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel,
	    sizeof(kernel)) < 0)
		goto err;
	rc = nl_read_ack(fd);
err:
	close(fd);
	return rc;
}

/* A new namespace may start with IPv6 off on its devices. */
static void
enable_ipv6(const char *ifname)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
	    ifname);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, "0\n", 2) < 0) {
		/* Adding the address reports the real problem. */
	}
	close(fd);
}

static int
write_all(int fd, const char *text)
{
	size_t len = strlen(text);
	ssize_t n;

	while (len > 0) {
		n = write(fd, text, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		text += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Show text at target in this mount namespace only.  The file behind the
 * bind mount is unlinked at once, so nothing is left in /tmp.
 */
static int
overlay_file(const char *target, const char *text)
{
	char path[] = "/tmp/wirekit-netns-XXXXXX";
	int fd, rc = -1;

	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	if (write_all(fd, text) < 0 || fchmod(fd, 0644) < 0)
		goto err;
	if (mount(path, target, "none", MS_BIND, NULL) < 0)
		goto err;
	rc = 0;
err:
	close(fd);
	unlink(path);
	return rc;
}

/* glibc asks a running nscd before NSS: hide its socket. */
static int
hide_nscd(void)
{
	static const char *const dirs[] = { "/run/nscd", "/var/run/nscd" };
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (stat(dirs[i], &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		if (mount("none", dirs[i], "tmpfs", MS_NOSUID | MS_NODEV,
		    "size=4k") < 0)
			return -1;
	}
	return 0;
}

static int
set_up_network(void)
{
	if (link_up("lo") < 0)
		return fail(WK_TEST_HARD_ERROR, "bring lo up");
	if (add_addr("lo", AF_INET, "192.0.2.1", 32) < 0)
		return fail(WK_TEST_HARD_ERROR, "add 192.0.2.1/32 to lo");
	enable_ipv6("lo");
	if (add_addr("lo", AF_INET6, "2001:db8::1", 128) < 0) {
		if (errno == EAFNOSUPPORT || errno == EACCES)
			return fail(WK_TEST_SKIP, "no IPv6 here");
		return fail(WK_TEST_HARD_ERROR, "add 2001:db8::1/128 to lo");
	}
	return 0;
}

static int
set_up_files(const char *resolv_conf_text)
{
	if (overlay_file("/etc/resolv.conf", resolv_conf_text) < 0)
		return fail(errno == ENOENT ? WK_TEST_SKIP : WK_TEST_HARD_ERROR,
		    "mount over /etc/resolv.conf");
	if (overlay_file("/etc/hosts", hosts_text) < 0)
		return fail(errno == ENOENT ? WK_TEST_SKIP : WK_TEST_HARD_ERROR,
		    "mount over /etc/hosts");
	if (overlay_file("/etc/nsswitch.conf", nsswitch_text) < 0)
		return fail(errno == ENOENT ? WK_TEST_SKIP : WK_TEST_HARD_ERROR,
		    "mount over /etc/nsswitch.conf");
	if (hide_nscd() < 0)
		return fail(WK_TEST_HARD_ERROR, "hide nscd");
	return 0;
}

int
wk_test_enter_netns(const char *resolv_conf_text)
{
	int rc;

	if (geteuid() != 0) {
		fprintf(stderr, "skip: network namespaces need root\n");
		return WK_TEST_SKIP;
	}
	if (unshare(CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWUTS) < 0) {
		if (errno == EPERM || errno == EINVAL || errno == ENOSYS)
			return fail(WK_TEST_SKIP, "unshare (threads already "
			    "running, or namespaces not allowed here)");
		return fail(WK_TEST_HARD_ERROR, "unshare");
	}
	/* Without this, the bind mounts below would propagate to the host. */
	if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
		return fail(errno == EPERM ? WK_TEST_SKIP : WK_TEST_HARD_ERROR,
		    "make / private");
	if (sethostname(HOSTNAME, strlen(HOSTNAME)) < 0)
		return fail(WK_TEST_HARD_ERROR, "sethostname");
	/* Resolver settings from the environment would override ours. */
	unsetenv("LOCALDOMAIN");
	unsetenv("RES_OPTIONS");
	unsetenv("HOSTALIASES");
	rc = set_up_network();
	if (rc != 0)
		return rc;
	return set_up_files(resolv_conf_text);
}
