#include "harness.h"
#include "util/ipv4.h"

static struct ipv4_prefix P(const char *s)
{
	struct ipv4_prefix p = {0};
	const char *why = NULL;
	if (!ipv4_prefix_parse(s, &p, &why))
		harness_fail(__FILE__, __LINE__, "cannot parse %s: %s", s, why);
	return p;
}

TEST(ipv4_parse_accepts_cidrs)
{
	struct ipv4_prefix p = P("10.0.1.2/24");
	CHECK_INT(p.addr, 0x0A000102);
	CHECK_INT(p.len, 24);
	CHECK_INT(P("0.0.0.0/0").len, 0);
	CHECK_INT(P("255.255.255.255/32").addr, 0xFFFFFFFFu);
}

TEST(ipv4_parse_rejects_malformed)
{
	const char *bad[] = {"10.0.1.2", "10.0.1.2/", "10.0.1.2/33", "10.0.1/24", "10.0.1.256/24",
			     "/24",      "a.b.c.d/8", "10.0.1.2/2x", "10.0.1.2/-1", "10.0.1.2/024",
			     "10.0.1.2/24 ", " 10.0.1.2/24", "", "fd00::1/64"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ipv4_prefix p;
		const char *why = NULL;
		if (ipv4_prefix_parse(bad[i], &p, &why))
			harness_fail(__FILE__, __LINE__, "accepted \"%s\"", bad[i]);
		else
			CHECK(why != NULL);
	}
}

TEST(ipv4_network_broadcast_and_masks)
{
	struct ipv4_prefix p = P("10.0.1.7/24");
	char buf[IPV4_PREFIX_STRLEN];
	CHECK_STR(ipv4_addr_format(ipv4_network(p), buf), "10.0.1.0");
	CHECK_STR(ipv4_addr_format(ipv4_broadcast(p), buf), "10.0.1.255");
	CHECK_STR(ipv4_network_format(p, buf), "10.0.1.0/24");
	CHECK_STR(ipv4_prefix_format(p, buf), "10.0.1.7/24");
	CHECK_STR(ipv4_prefix_format(P("255.255.255.255/32"), buf), "255.255.255.255/32");
	CHECK_INT(ipv4_mask(0), 0);
	CHECK_INT(ipv4_mask(32), 0xFFFFFFFFu);
	CHECK(!ipv4_is_network(p));
	CHECK(ipv4_is_network(P("10.0.0.0/8")));
	CHECK(ipv4_is_network(P("0.0.0.0/0")));
}

TEST(ipv4_containment_and_overlap)
{
	CHECK(ipv4_contains(P("10.244.0.0/16"), 0x0AF40105));
	CHECK(!ipv4_contains(P("10.244.0.0/16"), 0x0AF50000));
	CHECK(ipv4_prefix_within(P("10.244.1.0/24"), P("10.244.0.0/16")));
	CHECK(!ipv4_prefix_within(P("10.244.0.0/16"), P("10.244.1.0/24")));
	CHECK(!ipv4_prefix_within(P("10.245.0.0/24"), P("10.244.0.0/16")));
	CHECK(ipv4_overlaps(P("10.244.0.0/16"), P("10.244.9.0/24")));
	CHECK(ipv4_overlaps(P("10.244.9.0/24"), P("10.244.0.0/16")));
	CHECK(!ipv4_overlaps(P("10.244.0.0/24"), P("10.244.1.0/24")));
	CHECK(ipv4_overlaps(P("0.0.0.0/0"), P("192.168.0.0/16")));
}

TEST(ipv4_usable_addresses)
{
	CHECK_INT(ipv4_usable_count(P("10.0.1.0/24")), 254);
	CHECK_INT(ipv4_usable_count(P("10.0.1.0/30")), 2);
	CHECK_INT(ipv4_usable_count(P("10.0.1.0/31")), 2);
	CHECK_INT(ipv4_usable_count(P("10.0.1.1/32")), 1);
	CHECK_INT(ipv4_usable_count(P("0.0.0.0/0")), 4294967294LL);
	char buf[IPV4_PREFIX_STRLEN];
	CHECK_STR(ipv4_addr_format(ipv4_usable_nth(P("10.0.1.0/24"), 0), buf), "10.0.1.1");
	CHECK_STR(ipv4_addr_format(ipv4_usable_nth(P("10.0.1.0/24"), 253), buf), "10.0.1.254");
	CHECK_STR(ipv4_addr_format(ipv4_usable_nth(P("10.0.1.0/31"), 0), buf), "10.0.1.0");
	CHECK(ipv4_is_usable_host(P("10.0.1.2/24")));
	CHECK(!ipv4_is_usable_host(P("10.0.1.0/24")));
	CHECK(!ipv4_is_usable_host(P("10.0.1.255/24")));
	CHECK(ipv4_is_usable_host(P("10.0.1.0/31")));
}
