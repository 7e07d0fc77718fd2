/*
 * addrinfo - parse, format and classify addresses and subnets
 *
 * usage: addrinfo [ADDRESS | SUBNET ...]
 *
 * Without arguments it shows a few examples.  Nothing is resolved: this
 * is the address module alone.  Exit status 1 when an argument is
 * neither an address nor a subnet.
 *
 * This example is in the public domain.
 */
#include <stdio.h>

#include <wirekit.h>

static const char *const samples[] = {
	"127.0.0.1", "10.1.2.3", "8.8.8.8", "169.254.0.7", "224.0.0.251",
	"255.255.255.255", "0.0.0.0", "::1", "::", "fe80::1%1",
	"2001:0DB8:0000:0000:0001:0000:0000:0001", "fd12:3456::42",
	"::ffff:192.0.2.1", "ff02::fb", "192.168.0.0/16", "2001:db8::/32",
	"10.0.0.0/255.0.0.0", "0x7f.1", "1.2.3.4.5", "::1::",
};

static void
print_classes(const wk_addr *a)
{
	static const struct {
		bool (*test)(const wk_addr *);
		const char *name;
	} classes[] = {
		{ wk_addr_is_loopback, "loopback" },
		{ wk_addr_is_multicast, "multicast" },
		{ wk_addr_is_link_local, "link-local" },
		{ wk_addr_is_site_local, "site-local" },
		{ wk_addr_is_unique_local, "unique-local" },
		{ wk_addr_is_broadcast, "broadcast" },
		{ wk_addr_is_private_use, "private" },
		{ wk_addr_is_global, "global" },
	};

	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		if (classes[i].test(a))
			printf(" %s", classes[i].name);
}

static bool
show(const char *text)
{
	char buf[WK_ADDR_STRLEN], net[WK_ADDR_STRLEN + 4];
	wk_addr a;
	int prefix;

	if (wk_addr_parse(&a, text)) {
		wk_addr_format(&a, buf, sizeof(buf));
		printf("%-40s %s", buf, wk_addr_is_ipv4(&a) ? "IPv4" : "IPv6");
		print_classes(&a);
		printf("\n");
		return true;
	}
	if (wk_addr_parse_subnet(text, &a, &prefix)) {
		wk_addr_format(&a, buf, sizeof(buf));
		snprintf(net, sizeof(net), "%s/%d", buf, prefix);
		printf("%-40s %s subnet\n", net,
		    wk_addr_is_ipv4(&a) ? "IPv4" : "IPv6");
		return true;
	}
	printf("%s: not an address\n", text);
	return false;
}

int
main(int argc, char **argv)
{
	bool ok = true;

	printf("wirekit %s\n", wk_version());
	if (argc < 2)
		for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
			show(samples[i]);
	for (int i = 1; i < argc; i++)
		ok &= show(argv[i]);
	return ok ? 0 : 1;
}
