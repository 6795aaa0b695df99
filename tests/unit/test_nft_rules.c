/* A live ruleset walked for one packet (check/nft_rules.c): listings as
 * `nft -a list ruleset` prints kube-proxy's and testbed's tables, cut
 * down, and the rules each walk quotes. */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <stdlib.h>

#include "check/nft_rules.h"
#include "harness.h"
#include "util/util.h"

/* node1 of a lab: web (3 endpoints), sticky (ClientIP affinity, the client
 * 10.244.0.2 remembered for 10.244.0.3), a NodePort under policy Cluster,
 * one under Local, a Service without endpoints, a load balancer with
 * source ranges, and the egress table. */
static const char listing[] =
	"table ip kube-proxy { # handle 2\n"
	"\tcomment \"rules for kube-proxy\"\n"
	"\tset nodeport-ips { # handle 35\n"
	"\t\ttype ipv4_addr\n"
	"\t\tcomment \"IPs that accept NodePort traffic\"\n"
	"\t\telements = { 10.10.0.2 }\n"
	"\t}\n"
	"\n"
	"\tmap no-endpoint-services { # handle 36\n"
	"\t\ttype ipv4_addr . inet_proto . inet_service : verdict\n"
	"\t\telements = { 10.96.0.7 . tcp . 80 comment \"default/empty\" : goto reject-chain }\n"
	"\t}\n"
	"\n"
	"\tmap no-endpoint-nodeports { # handle 37\n"
	"\t\ttype inet_proto . inet_service : verdict\n"
	"\t\telements = { tcp . 30081 comment \"default/web-local\" : drop }\n"
	"\t}\n"
	"\n"
	"\tmap firewall-ips { # handle 41\n"
	"\t\ttype ipv4_addr . inet_proto . inet_service : verdict\n"
	"\t\telements = { 198.51.100.10 . tcp . 80 : goto firewall-ZQL5S6L6-default/web-lb/tcp/ }\n"
	"\t}\n"
	"\n"
	"\tmap service-ips { # handle 43\n"
	"\t\ttype ipv4_addr . inet_proto . inet_service : verdict\n"
	"\t\tcomment \"ClusterIP, ExternalIP and LoadBalancer IP traffic\"\n"
	"\t\telements = { 10.96.0.2 . tcp . 80 : goto service-SUSTUHLJ-default/web/tcp/http,\n"
	"\t\t\t     10.96.0.6 . tcp . 80 : goto service-EDE2N7RF-default/sticky/tcp/,\n"
	"\t\t\t     198.51.100.10 . tcp . 80 : goto external-ZQL5S6L6-default/web-lb/tcp/ }\n"
	"\t}\n"
	"\n"
	"\tmap service-nodeports { # handle 44\n"
	"\t\ttype inet_proto . inet_service : verdict\n"
	"\t\telements = { tcp . 30080 : goto external-KOAMWL4R-default/web-np/tcp/ }\n"
	"\t}\n"
	"\n"
	"\tset affinity-HRQDJCHB-default/sticky/tcp/__10.244.0.3/8080 { # handle 128\n"
	"\t\ttype ipv4_addr\n"
	"\t\tsize 65535\n"
	"\t\tflags dynamic,timeout\n"
	"\t\ttimeout 3h\n"
	"\t\telements = { 10.244.0.2 expires 2h59m59s972ms }\n"
	"\t}\n"
	"\n"
	"\tchain services { # handle 12\n"
	"\t\tip daddr . meta l4proto . th dport vmap @service-ips # handle 45\n"
	"\t\tip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports # handle 46\n"
	"\t}\n"
	"\n"
	"\tchain masquerading { # handle 13\n"
	"\t\tmeta mark & 0x00004000 == 0x00000000 return # handle 29\n"
	"\t\tmeta mark set meta mark ^ 0x00004000 # handle 30\n"
	"\t\tmasquerade fully-random # handle 31\n"
	"\t}\n"
	"\n"
	"\tchain mark-for-masquerade { # handle 15\n"
	"\t\tmeta mark set meta mark | 0x00004000 # handle 28\n"
	"\t}\n"
	"\n"
	"\tchain reject-chain { # handle 16\n"
	"\t\tcomment \"helper for @no-endpoint-services / @no-endpoint-nodeports\"\n"
	"\t\treject # handle 38\n"
	"\t}\n"
	"\n"
	"\tchain endpoint-E7CNK33K-default/web/tcp/http__10.244.0.3/8080 { # handle 47\n"
	"\t\tip saddr 10.244.0.3 jump mark-for-masquerade # handle 54\n"
	"\t\tmeta l4proto tcp dnat to 10.244.0.3:8080 # handle 55\n"
	"\t}\n"
	"\n"
	"\tchain endpoint-SVLGPL42-default/web/tcp/http__10.244.1.2/8080 { # handle 48\n"
	"\t\tip saddr 10.244.1.2 jump mark-for-masquerade # handle 56\n"
	"\t\tmeta l4proto tcp dnat to 10.244.1.2:8080 # handle 57\n"
	"\t}\n"
	"\n"
	"\tchain service-SUSTUHLJ-default/web/tcp/http { # handle 50\n"
	"\t\tip daddr 10.96.0.2 tcp dport 80 ip saddr != 10.244.0.0/16 jump mark-for-masquerade # handle 51\n"
	"\t\tnumgen random mod 2 vmap { 0 : goto endpoint-E7CNK33K-default/web/tcp/http__10.244.0.3/8080, 1 : goto "
	"endpoint-SVLGPL42-default/web/tcp/http__10.244.1.2/8080 } # handle 53\n"
	"\t}\n"
	"\n"
	"\tchain endpoint-TTOJKQFF-default/web-np/tcp/__10.244.1.2/8080 { # handle 73\n"
	"\t\tip saddr 10.244.1.2 jump mark-for-masquerade # handle 83\n"
	"\t\tmeta l4proto tcp dnat to 10.244.1.2:8080 # handle 84\n"
	"\t}\n"
	"\n"
	"\tchain service-KOAMWL4R-default/web-np/tcp/ { # handle 76\n"
	"\t\tip daddr 10.96.0.3 tcp dport 80 ip saddr != 10.244.0.0/16 jump mark-for-masquerade # handle 78\n"
	"\t\tnumgen random mod 1 vmap { 0 : goto endpoint-TTOJKQFF-default/web-np/tcp/__10.244.1.2/8080 } # handle 82\n"
	"\t}\n"
	"\n"
	"\tchain external-KOAMWL4R-default/web-np/tcp/ { # handle 77\n"
	"\t\tjump mark-for-masquerade # handle 79\n"
	"\t\tgoto service-KOAMWL4R-default/web-np/tcp/ # handle 80\n"
	"\t}\n"
	"\n"
	"\tchain firewall-ZQL5S6L6-default/web-lb/tcp/ { # handle 115\n"
	"\t\tip saddr != { 203.0.113.2, 192.0.2.0/24 } drop # handle 119\n"
	"\t}\n"
	"\n"
	"\tchain endpoint-HRQDJCHB-default/sticky/tcp/__10.244.0.3/8080 { # handle 131\n"
	"\t\tip saddr 10.244.0.3 jump mark-for-masquerade # handle 141\n"
	"\t\tupdate @affinity-HRQDJCHB-default/sticky/tcp/__10.244.0.3/8080 { ip saddr } # handle 142\n"
	"\t\tmeta l4proto tcp dnat to 10.244.0.3:8080 # handle 143\n"
	"\t}\n"
	"\n"
	"\tchain service-EDE2N7RF-default/sticky/tcp/ { # handle 134\n"
	"\t\tip daddr 10.96.0.6 tcp dport 80 ip saddr != 10.244.0.0/16 jump mark-for-masquerade # handle 135\n"
	"\t\tip saddr @affinity-HRQDJCHB-default/sticky/tcp/__10.244.0.3/8080 goto "
	"endpoint-HRQDJCHB-default/sticky/tcp/__10.244.0.3/8080 # handle 136\n"
	"\t\tnumgen random mod 1 vmap { 0 : goto endpoint-HRQDJCHB-default/sticky/tcp/__10.244.0.3/8080 } # handle 140\n"
	"\t}\n"
	"}\n"
	"table ip testbed-egress { # handle 3\n"
	"\tchain postrouting { # handle 1\n"
	"\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
	"\t\tip saddr 10.244.0.0/24 ip daddr != { 10.10.0.0/24, 10.96.0.0/16, 10.244.0.0/16 } masquerade # handle 3\n"
	"\t}\n"
	"}\n";

static const uint32_t node1[] = {0x0a0a0002, 0x0af40001}; /* 10.10.0.2, 10.244.0.1 */

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static struct nft_packet packet(uint32_t saddr, uint32_t daddr, uint16_t dport)
{
	return (struct nft_packet){IPPROTO_TCP, saddr, daddr, 40000, dport, node1, 2};
}

/* The quotes, one a line (malloc'd). */
static char *lines(const struct nft_quotes *q)
{
	char *all = xstrdup("");
	for (size_t i = 0; i < q->n; i++) {
		autofree char *line = nft_quote_text(&q->items[i]);
		char *more = xasprintf("%s%s\n", all, line);
		free(all);
		all = more;
	}
	return all;
}

TEST(nft_rules_a_listing_is_read_table_by_table)
{
	struct nft_ruleset *r = nft_ruleset_parse(listing);
	CHECK(nft_ruleset_has_table(r, "ip", "kube-proxy"));
	CHECK(nft_ruleset_has_table(r, "ip", "testbed-egress"));
	CHECK(!nft_ruleset_has_table(r, "inet", "kube-proxy"));
	nft_ruleset_free(r);
	/* Nothing, or not a listing: no table, no crash. */
	r = nft_ruleset_parse("");
	CHECK(!nft_ruleset_has_table(r, "ip", "kube-proxy"));
	nft_ruleset_free(r);
	r = nft_ruleset_parse("table ip t {\n\tchain c {\n\t\tgoto\n\t\tdnat to\n\t\tip saddr\n\tmap m {\n\t\telements = { a");
	struct nft_quotes path, marks;
	struct nft_packet p = packet(IP(10, 244, 0, 2), IP(10, 96, 0, 2), 80);
	CHECK(!nft_explain_dnat(r, &p, IP(10, 244, 0, 3), 8080, &path, &marks));
	nft_ruleset_free(r);
}

TEST(nft_rules_a_dnat_is_explained_by_the_map_element_and_the_rules_to_its_endpoint)
{
	struct nft_ruleset *r = nft_ruleset_parse(listing);
	struct nft_quotes path, marks;
	/* A pod to web's cluster IP, DNATed to 10.244.1.2. */
	struct nft_packet p = packet(IP(10, 244, 0, 2), IP(10, 96, 0, 2), 80);
	CHECK(nft_explain_dnat(r, &p, IP(10, 244, 1, 2), 8080, &path, &marks));
	autofree char *got = lines(&path);
	CHECK_STR(got, "ip kube-proxy map service-ips: 10.96.0.2 . tcp . 80 : goto service-SUSTUHLJ-default/web/tcp/http\n"
		       "ip kube-proxy chain service-SUSTUHLJ-default/web/tcp/http: numgen random mod 2 vmap { 0 : goto "
		       "endpoint-E7CNK33K-default/web/tcp/http__10.244.0.3/8080, 1 : goto "
		       "endpoint-SVLGPL42-default/web/tcp/http__10.244.1.2/8080 } (handle 53)\n"
		       "ip kube-proxy chain endpoint-SVLGPL42-default/web/tcp/http__10.244.1.2/8080: meta l4proto tcp dnat to "
		       "10.244.1.2:8080 (handle 57)\n");
	/* From inside the cluster CIDR, and not hairpin: nothing marks it. */
	CHECK_INT(marks.n, 0);
	nft_quotes_free(&path);
	nft_quotes_free(&marks);
	/* Hairpin: the endpoint itself reaches the service and is marked. */
	p = packet(IP(10, 244, 1, 2), IP(10, 96, 0, 2), 80);
	CHECK(nft_explain_dnat(r, &p, IP(10, 244, 1, 2), 8080, &path, &marks));
	autofree char *hairpin = lines(&marks);
	CHECK_STR(hairpin, "ip kube-proxy chain endpoint-SVLGPL42-default/web/tcp/http__10.244.1.2/8080: ip saddr 10.244.1.2 "
			   "jump mark-for-masquerade (handle 56)\n");
	nft_quotes_free(&path);
	nft_quotes_free(&marks);
	/* An endpoint no rule DNATs to: none. */
	p = packet(IP(10, 244, 0, 2), IP(10, 96, 0, 2), 80);
	CHECK(!nft_explain_dnat(r, &p, IP(10, 244, 9, 9), 8080, &path, &marks));
	CHECK_INT(path.n, 0);
	nft_ruleset_free(r);
}

TEST(nft_rules_a_nodeport_goes_through_its_external_chain_and_is_masqueraded)
{
	struct nft_ruleset *r = nft_ruleset_parse(listing);
	struct nft_quotes path, marks, masq;
	/* From the internet to node1's NodePort 30080 (node1's own address). */
	struct nft_packet p = packet(IP(203, 0, 113, 2), IP(10, 10, 0, 2), 30080);
	CHECK(nft_explain_dnat(r, &p, IP(10, 244, 1, 2), 8080, &path, &marks));
	autofree char *got = lines(&path);
	CHECK_STR(got, "ip kube-proxy map service-nodeports: tcp . 30080 : goto external-KOAMWL4R-default/web-np/tcp/\n"
		       "ip kube-proxy chain external-KOAMWL4R-default/web-np/tcp/: goto "
		       "service-KOAMWL4R-default/web-np/tcp/ (handle 80)\n"
		       "ip kube-proxy chain service-KOAMWL4R-default/web-np/tcp/: numgen random mod 1 vmap { 0 : goto "
		       "endpoint-TTOJKQFF-default/web-np/tcp/__10.244.1.2/8080 } (handle 82)\n"
		       "ip kube-proxy chain endpoint-TTOJKQFF-default/web-np/tcp/__10.244.1.2/8080: meta l4proto tcp dnat to "
		       "10.244.1.2:8080 (handle 84)\n");
	/* The external chain marks everything under policy Cluster. */
	p.daddr = IP(10, 244, 1, 2);
	p.dport = 8080;
	CHECK(nft_explain_masquerade(r, &p, &marks, &masq));
	autofree char *why = lines(&masq);
	CHECK_STR(why, "ip kube-proxy chain external-KOAMWL4R-default/web-np/tcp/: jump mark-for-masquerade (handle 79)\n"
		       "ip kube-proxy chain masquerading: masquerade fully-random (handle 31)\n");
	nft_quotes_free(&path);
	nft_quotes_free(&marks);
	nft_quotes_free(&masq);
	/* The same port at an address that is not node1's: no NodePort there. */
	p = packet(IP(203, 0, 113, 2), IP(10, 10, 0, 9), 30080);
	CHECK(!nft_explain_dnat(r, &p, IP(10, 244, 1, 2), 8080, &path, &marks));
	nft_ruleset_free(r);
}

TEST(nft_rules_egress_is_the_egress_tables_masquerade)
{
	struct nft_ruleset *r = nft_ruleset_parse(listing);
	struct nft_quotes masq;
	/* A pod of node1 to the internet: not marked, so kube-proxy's masquerade returns first. */
	struct nft_packet p = packet(IP(10, 244, 0, 2), IP(203, 0, 113, 2), 8000);
	CHECK(nft_explain_masquerade(r, &p, NULL, &masq));
	autofree char *got = lines(&masq);
	CHECK_STR(got, "ip testbed-egress chain postrouting: ip saddr 10.244.0.0/24 ip daddr != { 10.10.0.0/24, "
		       "10.96.0.0/16, 10.244.0.0/16 } masquerade (handle 3)\n");
	nft_quotes_free(&masq);
	/* To another pod: no masquerade holds. */
	p.daddr = IP(10, 244, 1, 2);
	CHECK(!nft_explain_masquerade(r, &p, NULL, &masq));
	nft_quotes_free(&masq);
	nft_ruleset_free(r);
}

TEST(nft_rules_affinity_may_have_chosen_and_so_may_the_random_pick)
{
	struct nft_ruleset *r = nft_ruleset_parse(listing);
	struct nft_quotes path, marks;
	/* The client is in the affinity set, which its own connection may have put it in: both rules. */
	struct nft_packet p = packet(IP(10, 244, 0, 2), IP(10, 96, 0, 6), 80);
	CHECK(nft_explain_dnat(r, &p, IP(10, 244, 0, 3), 8080, &path, &marks));
	autofree char *got = lines(&path);
	CHECK(strstr(got, "ip saddr @affinity-HRQDJCHB-default/sticky/tcp/__10.244.0.3/8080 goto "
			  "endpoint-HRQDJCHB-default/sticky/tcp/__10.244.0.3/8080 (handle 136)\n") != NULL);
	CHECK(strstr(got, "numgen random mod 1 vmap") != NULL);
	CHECK(strstr(got, "dnat to 10.244.0.3:8080 (handle 143)\n") != NULL);
	nft_quotes_free(&path);
	nft_quotes_free(&marks);
	nft_ruleset_free(r);
}

TEST(nft_rules_a_reject_or_a_drop_is_explained_by_its_element_and_rule)
{
	struct nft_ruleset *r = nft_ruleset_parse(listing);
	struct nft_quotes why;
	bool rejected;
	struct nft_packet p = packet(IP(10, 244, 0, 2), IP(10, 96, 0, 7), 80);
	CHECK(nft_explain_filter(r, &p, &why, &rejected) && rejected);
	autofree char *empty = lines(&why);
	CHECK_STR(empty, "ip kube-proxy map no-endpoint-services: 10.96.0.7 . tcp . 80 comment \"default/empty\" : goto "
			 "reject-chain\n"
			 "ip kube-proxy chain reject-chain: reject (handle 38)\n");
	nft_quotes_free(&why);
	/* A Local NodePort without a local endpoint: the element drops it itself. */
	p = packet(IP(203, 0, 113, 2), IP(10, 10, 0, 2), 30081);
	CHECK(nft_explain_filter(r, &p, &why, &rejected) && !rejected);
	autofree char *local = lines(&why);
	CHECK_STR(local, "ip kube-proxy map no-endpoint-nodeports: tcp . 30081 comment \"default/web-local\" : drop\n");
	nft_quotes_free(&why);
	/* loadBalancerSourceRanges: a source outside them is dropped, one inside is not. */
	p = packet(IP(203, 0, 113, 3), IP(198, 51, 100, 10), 80);
	CHECK(nft_explain_filter(r, &p, &why, &rejected) && !rejected);
	autofree char *fw = lines(&why);
	CHECK_STR(fw, "ip kube-proxy map firewall-ips: 198.51.100.10 . tcp . 80 : goto firewall-ZQL5S6L6-default/web-lb/tcp/\n"
		      "ip kube-proxy chain firewall-ZQL5S6L6-default/web-lb/tcp/: ip saddr != { 203.0.113.2, 192.0.2.0/24 } "
		      "drop (handle 119)\n");
	nft_quotes_free(&why);
	p.saddr = IP(192, 0, 2, 77);
	CHECK(!nft_explain_filter(r, &p, &why, &rejected));
	nft_quotes_free(&why);
	/* A Service with endpoints is neither. */
	p = packet(IP(10, 244, 0, 2), IP(10, 96, 0, 2), 80);
	CHECK(!nft_explain_filter(r, &p, &why, &rejected));
	nft_quotes_free(&why);
	nft_ruleset_free(r);
}

TEST(nft_rules_a_host_port_is_explained_from_its_hook)
{
	static const char hostports[] = "table ip testbed-hostports { # handle 4\n"
					"\tchain hostports { # handle 1\n"
					"\t\ttcp dport 8080 dnat to 10.244.0.5:80 # handle 5\n"
					"\t}\n"
					"\tchain prerouting { # handle 2\n"
					"\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
					"\t\tfib daddr type local jump hostports # handle 6\n"
					"\t}\n"
					"}\n";
	struct nft_ruleset *r = nft_ruleset_parse(hostports);
	struct nft_quotes path, marks;
	struct nft_packet p = packet(IP(203, 0, 113, 2), IP(10, 10, 0, 2), 8080);
	CHECK(nft_explain_dnat(r, &p, IP(10, 244, 0, 5), 80, &path, &marks));
	autofree char *got = lines(&path);
	CHECK_STR(got, "ip testbed-hostports chain prerouting: fib daddr type local jump hostports (handle 6)\n"
		       "ip testbed-hostports chain hostports: tcp dport 8080 dnat to 10.244.0.5:80 (handle 5)\n");
	nft_quotes_free(&path);
	nft_quotes_free(&marks);
	/* Not to a local address: the hook's jump does not hold. */
	p.daddr = IP(10, 10, 0, 3);
	CHECK(!nft_explain_dnat(r, &p, IP(10, 244, 0, 5), 80, &path, &marks));
	nft_ruleset_free(r);
}

/* node1's NetworkPolicy table (plan/netpol_nft.c) as `nft -a list ruleset`
 * prints it: web ingress-isolated (a pod, a port range, an ipBlock with an
 * except, UDP, SCTP), db egress-isolated (DNS, a named port's peers), and
 * the masqueraded branch kube-proxy's NodePorts lead to. */
static const char netpol[] =
	"table ip testbed-netpol { # handle 7\n"
	"\tcomment \"NetworkPolicy enforcement for the pods of node1\"\n"
	"\tchain forward { # handle 1\n"
	"\t\ttype filter hook forward priority filter; policy accept;\n"
	"\t\tct state established,related accept comment \"replies of allowed connections always pass\" # handle 4\n"
	"\t\tct state invalid drop comment \"as CNI plugins do: no connection, no verdict\" # handle 5\n"
	"\t\tip saddr vmap { 10.244.1.3 : jump egress-shop/db } comment \"egress-isolated pods of this node, by "
	"source\" # handle 6\n"
	"\t\tip daddr vmap { 10.244.1.2 : jump ingress-shop/web, 10.244.1.3 : jump ingress-shop/db } comment "
	"\"ingress-isolated pods of this node, by destination (after DNAT)\" # handle 7\n"
	"\t}\n"
	"\n"
	"\tchain ingress-shop/web { # handle 2\n"
	"\t\tip saddr 10.244.1.2 return comment \"a pod cannot block access to itself (its own Service: hairpin)\" # "
	"handle 8\n"
	"\t\tsctp dport 9 return comment \"shop/allow-web ingress[1]\" # handle 9\n"
	"\t\tip saddr 10.244.2.2 tcp dport 8080 return comment \"shop/allow-web ingress[0]\" # handle 10\n"
	"\t\tip saddr 10.244.2.2 tcp dport 8000-8010 return comment \"shop/allow-web ingress[0]\" # handle 11\n"
	"\t\tip saddr 192.0.2.0/24 ip saddr != { 192.0.2.128/25 } tcp dport 8080 return comment \"shop/allow-web "
	"ingress[0]\" # handle 12\n"
	"\t\tmeta l4proto udp return comment \"shop/allow-web ingress[1]\" # handle 13\n"
	"\t\tcounter packets 3 bytes 180 drop comment \"isolated for ingress by shop/allow-web\" # handle 14\n"
	"\t}\n"
	"\n"
	"\tchain egress-shop/db { # handle 3\n"
	"\t\tip daddr 10.244.1.3 return comment \"a pod cannot block access to itself (its own Service: hairpin)\" # "
	"handle 15\n"
	"\t\tudp dport 53 return comment \"shop/db-egress egress[0]\" # handle 16\n"
	"\t\ttcp dport 53 return comment \"shop/db-egress egress[0]\" # handle 17\n"
	"\t\tip daddr . tcp dport { 10.244.1.2 . 8080, 10.244.2.5 . 9000 } return comment \"shop/db-egress "
	"egress[1]: port http\" # handle 18\n"
	"\t\tcounter packets 0 bytes 0 drop comment \"isolated for egress by shop/db-egress\" # handle 19\n"
	"\t}\n"
	"\n"
	"\tchain ingress-shop/db { # handle 20\n"
	"\t\tip saddr 10.244.1.3 return comment \"a pod cannot block access to itself (its own Service: hairpin)\" # "
	"handle 21\n"
	"\t\tmeta mark & 0x00004000 == 0x00004000 goto ingress-shop/db/masqueraded comment \"kube-proxy "
	"masquerades it: it arrives from 10.244.1.1\" # handle 22\n"
	"\t\tip saddr 10.244.2.0/24 tcp dport 5432 return comment \"shop/db ingress[0]\" # handle 23\n"
	"\t\tcounter packets 0 bytes 0 drop comment \"isolated for ingress by shop/db\" # handle 24\n"
	"\t}\n"
	"\n"
	"\tchain ingress-shop/db/masqueraded { # handle 25\n"
	"\t\ttcp dport 5432 return comment \"shop/db ingress[0]: from 10.244.1.1\" # handle 26\n"
	"\t\tcounter packets 0 bytes 0 drop comment \"from 10.244.1.1: isolated for ingress by shop/db\" # handle 27\n"
	"\t}\n"
	"}\n";

#define FORWARD_INGRESS                                                                                          \
	"ip testbed-netpol chain forward: ip daddr vmap { 10.244.1.2 : jump ingress-shop/web, 10.244.1.3 : jump " \
	"ingress-shop/db } comment \"ingress-isolated pods of this node, by destination (after DNAT)\" (handle 7)\n"
#define FORWARD_EGRESS                                                                                          \
	"ip testbed-netpol chain forward: ip saddr vmap { 10.244.1.3 : jump egress-shop/db } comment \"egress-isolated " \
	"pods of this node, by source\" (handle 6)\n"

/* The policy walk's quotes for P, expecting it DROPPED or not; NULL when it explains nothing. */
static char *policy_lines(const struct nft_ruleset *r, struct nft_packet p, bool dropped)
{
	struct nft_quotes q;
	if (!nft_explain_policy(r, &p, dropped, &q)) {
		CHECK_INT(q.n, 0);
		return NULL;
	}
	char *all = lines(&q);
	nft_quotes_free(&q);
	return all;
}

TEST(nft_rules_a_connection_a_policy_allows_names_the_policys_rule)
{
	struct nft_ruleset *r = nft_ruleset_parse(netpol);
	CHECK(nft_ruleset_has_table(r, "ip", NFT_NETPOL_TABLE));
	/* A pod peer on the named port's number. */
	autofree char *peer = policy_lines(r, packet(IP(10, 244, 2, 2), IP(10, 244, 1, 2), 8080), false);
	CHECK_STR(peer, FORWARD_INGRESS "ip testbed-netpol chain ingress-shop/web: ip saddr 10.244.2.2 tcp dport 8080 "
				       "return comment \"shop/allow-web ingress[0]\" (handle 10)\n");
	/* endPort: inside the range, at its last port; and past it, the drop. */
	autofree char *range = policy_lines(r, packet(IP(10, 244, 2, 2), IP(10, 244, 1, 2), 8010), false);
	CHECK_STR(range, FORWARD_INGRESS "ip testbed-netpol chain ingress-shop/web: ip saddr 10.244.2.2 tcp dport "
					"8000-8010 return comment \"shop/allow-web ingress[0]\" (handle 11)\n");
	CHECK(policy_lines(r, packet(IP(10, 244, 2, 2), IP(10, 244, 1, 2), 8011), false) == NULL);
	/* ipBlock with except: the block's lower half is let in. */
	autofree char *block = policy_lines(r, packet(IP(192, 0, 2, 5), IP(10, 244, 1, 2), 8080), false);
	CHECK_STR(block, FORWARD_INGRESS "ip testbed-netpol chain ingress-shop/web: ip saddr 192.0.2.0/24 ip saddr != { "
					"192.0.2.128/25 } tcp dport 8080 return comment \"shop/allow-web ingress[0]\" "
					"(handle 12)\n");
	/* Egress to a named port's peer (address and port together), then ingress of the destination. */
	autofree char *named = policy_lines(r, packet(IP(10, 244, 1, 3), IP(10, 244, 1, 2), 8080), false);
	CHECK(named == NULL); /* db's egress lets it out, but web's ingress takes 10.244.2.2 only */
	autofree char *out = policy_lines(r, packet(IP(10, 244, 1, 3), IP(10, 244, 2, 5), 9000), false);
	CHECK_STR(out, FORWARD_EGRESS "ip testbed-netpol chain egress-shop/db: ip daddr . tcp dport { 10.244.1.2 . 8080, "
				     "10.244.2.5 . 9000 } return comment \"shop/db-egress egress[1]: port http\" (handle 18)\n");
	/* A pod no policy isolates: the table has nothing to say. */
	CHECK(policy_lines(r, packet(IP(10, 244, 2, 2), IP(10, 244, 1, 9), 80), false) == NULL);
	CHECK(policy_lines(r, packet(IP(10, 244, 2, 2), IP(10, 244, 1, 9), 80), true) == NULL);
	nft_ruleset_free(r);
}

TEST(nft_rules_a_connection_a_policy_denies_ends_at_the_chains_counted_drop)
{
	struct nft_ruleset *r = nft_ruleset_parse(netpol);
	autofree char *port = policy_lines(r, packet(IP(10, 244, 2, 2), IP(10, 244, 1, 2), 8011), true);
	CHECK_STR(port, FORWARD_INGRESS "ip testbed-netpol chain ingress-shop/web: counter packets 3 bytes 180 drop comment "
				       "\"isolated for ingress by shop/allow-web\" (handle 14)\n");
	/* The block's except. */
	autofree char *except = policy_lines(r, packet(IP(192, 0, 2, 200), IP(10, 244, 1, 2), 8080), true);
	CHECK(except && strstr(except, "drop comment \"isolated for ingress by shop/allow-web\" (handle 14)"));
	/* Out of db: its egress chain's drop, before any ingress chain. */
	autofree char *egress = policy_lines(r, packet(IP(10, 244, 1, 3), IP(10, 244, 2, 5), 8080), true);
	CHECK_STR(egress, FORWARD_EGRESS "ip testbed-netpol chain egress-shop/db: counter packets 0 bytes 0 drop comment "
					"\"isolated for egress by shop/db-egress\" (handle 19)\n");
	/* Let out by db's egress, stopped by web's ingress: both chains quoted. */
	autofree char *both = policy_lines(r, packet(IP(10, 244, 1, 3), IP(10, 244, 1, 2), 8080), true);
	CHECK_STR(both, FORWARD_EGRESS "ip testbed-netpol chain egress-shop/db: ip daddr . tcp dport { 10.244.1.2 . 8080, "
				      "10.244.2.5 . 9000 } return comment \"shop/db-egress egress[1]: port http\" (handle 18)\n"
				      FORWARD_INGRESS "ip testbed-netpol chain ingress-shop/web: counter packets 3 bytes 180 "
				      "drop comment \"isolated for ingress by shop/allow-web\" (handle 14)\n");
	/* An allowed connection walked as dropped: no drop explains it. */
	CHECK(policy_lines(r, packet(IP(10, 244, 2, 2), IP(10, 244, 1, 2), 8080), true) == NULL);
	/* A mark this walk cannot read: the masqueraded branch is taken only
	 * where it leads to what happened and the rest of the chain would
	 * not. Dropped from outside the peers: the main chain's drop, though
	 * the branch would drop it too (on another port). */
	autofree char *db = policy_lines(r, packet(IP(10, 244, 9, 9), IP(10, 244, 1, 3), 5432), true);
	CHECK_STR(db, FORWARD_INGRESS "ip testbed-netpol chain ingress-shop/db: counter packets 0 bytes 0 drop comment "
				     "\"isolated for ingress by shop/db\" (handle 24)\n");
	autofree char *other = policy_lines(r, packet(IP(10, 244, 9, 9), IP(10, 244, 1, 3), 80), true);
	CHECK_STR(other, FORWARD_INGRESS "ip testbed-netpol chain ingress-shop/db: counter packets 0 bytes 0 drop comment "
					"\"isolated for ingress by shop/db\" (handle 24)\n");
	/* Let through from outside the peers on 5432: only the branch explains it. */
	autofree char *marked = policy_lines(r, packet(IP(10, 244, 1, 1), IP(10, 244, 1, 3), 5432), false);
	CHECK_STR(marked, FORWARD_INGRESS "ip testbed-netpol chain ingress-shop/db: meta mark & 0x00004000 == 0x00004000 goto "
					 "ingress-shop/db/masqueraded comment \"kube-proxy masquerades it: it arrives from "
					 "10.244.1.1\" (handle 22)\n"
					 "ip testbed-netpol chain ingress-shop/db/masqueraded: tcp dport 5432 return comment "
					 "\"shop/db ingress[0]: from 10.244.1.1\" (handle 26)\n");
	/* From a peer: the peer's rule, not the branch. */
	autofree char *peer = policy_lines(r, packet(IP(10, 244, 2, 7), IP(10, 244, 1, 3), 5432), false);
	CHECK_STR(peer, FORWARD_INGRESS "ip testbed-netpol chain ingress-shop/db: ip saddr 10.244.2.0/24 tcp dport 5432 "
				       "return comment \"shop/db ingress[0]\" (handle 23)\n");
	nft_ruleset_free(r);
}
