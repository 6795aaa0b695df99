/* A pod's resolver (check/dns.c): resolv.conf as glibc reads it, the names
 * res_nsearch asks in order (resolv.conf(5): ndots, the search list, a
 * trailing dot), queries built and answers parsed with libresolv on
 * messages the tests build with libresolv too. */
#define _GNU_SOURCE
#include <arpa/nameser.h>
#include <resolv.h>
#include <stdlib.h>

#include "harness.h"
#include "check/dns.h"
#include "util/util.h"

/* The resolv.conf the kubelet writes for a pod of namespace shop under
 * dnsPolicy ClusterFirst. */
static const char *const kubelet_conf = "search shop.svc.cluster.local svc.cluster.local cluster.local\n"
					"nameserver 10.96.0.10\n"
					"options ndots:5\n";

TEST(resolver_resolver_reads_kubelets_file)
{
	struct dns_resolver r;
	dns_resolver_parse(kubelet_conf, &r);
	CHECK_INT(r.n_nameservers, 1);
	CHECK_INT(r.nameservers[0], 0x0a60000a);
	CHECK_INT(r.n_search, 3);
	CHECK_STR(r.search[0], "shop.svc.cluster.local");
	CHECK_STR(r.search[2], "cluster.local");
	CHECK(r.search[3] == NULL);
	CHECK_INT(r.ndots, 5);
	CHECK_INT(r.timeout_s, 5);
	CHECK_INT(r.attempts, 2);
	dns_resolver_free(&r);
}

TEST(resolver_resolver_follows_glibc)
{
	struct dns_resolver r;
	/* No nameserver: the machine's own; defaults. */
	dns_resolver_parse("# nothing\n", &r);
	CHECK_INT(r.n_nameservers, 1);
	CHECK_INT(r.nameservers[0], 0x7f000001);
	CHECK_INT(r.n_search, 0);
	CHECK_INT(r.ndots, 1);
	dns_resolver_free(&r);
	/* Three nameservers at most; the later of search and domain wins;
	 * options capped as glibc caps them; a keyword needs a blank after. */
	dns_resolver_parse("nameserver 10.0.0.1\nnameserver fd00::1\nnameserver 10.0.0.3\nnameserver 10.0.0.4\n"
			   "search a.example b.example\ndomain c.example d.example\n"
			   "options ndots:20 timeout:99 attempts:7 rotate\n; comment\nsearchx e.example\n",
			   &r);
	CHECK_INT(r.n_nameservers, 2);
	CHECK_INT(r.ipv6_nameservers, 1);
	CHECK_INT(r.nameservers[1], 0x0a000003);
	CHECK_INT(r.n_search, 1);
	CHECK_STR(r.search[0], "c.example");
	CHECK(r.search[1] == NULL);
	CHECK_INT(r.ndots, 15);
	CHECK(r.rotate && !r.no_tld_query && !r.use_vc);
	CHECK_INT(r.timeout_s, 30);
	CHECK_INT(r.attempts, 5);
	dns_resolver_free(&r);
	dns_resolver_parse("domain c.example\nsearch x.example\toptions\n", &r);
	CHECK_INT(r.n_search, 2);
	CHECK_STR(r.search[1], "options");
	dns_resolver_free(&r);
}

/* The names asked, joined by spaces. */
static char *search(const char *conf, const char *name)
{
	struct dns_resolver r;
	dns_resolver_parse(conf, &r);
	size_t n;
	char **names = dns_search_names(&r, name, &n);
	char *joined = xstrdup("");
	for (size_t k = 0; k < n; k++) {
		char *more = xasprintf("%s%s%s", joined, k ? " " : "", names[k]);
		free(joined);
		joined = more;
	}
	CHECK(names[n] == NULL);
	strv_free(names);
	dns_resolver_free(&r);
	return joined;
}

TEST(resolver_search_list_and_ndots)
{
	static const struct {
		const char *conf, *name, *want;
	} cases[] = {
		/* ndots 5: fewer dots, the search list first, then as is. */
		{NULL, "web", "web.shop.svc.cluster.local web.svc.cluster.local web.cluster.local web"},
		{NULL, "web.shop",
		 "web.shop.shop.svc.cluster.local web.shop.svc.cluster.local web.shop.cluster.local web.shop"},
		{NULL, "web.shop.svc.cluster.local",
		 "web.shop.svc.cluster.local.shop.svc.cluster.local web.shop.svc.cluster.local.svc.cluster.local "
		 "web.shop.svc.cluster.local.cluster.local web.shop.svc.cluster.local"},
		/* A trailing dot: absolute, asked once. */
		{NULL, "web.shop.svc.cluster.local.", "web.shop.svc.cluster.local"},
		/* As many dots as ndots: as is first, then the search list. */
		{"search a.example\noptions ndots:1\n", "web.shop", "web.shop web.shop.a.example"},
		{"search a.example\n", "web", "web.a.example web"},
		{"search a.example\noptions ndots:0\n", "web", "web web.a.example"},
		/* No search list: only as is. */
		{"nameserver 10.0.0.1\n", "web", "web"},
		/* no-tld-query: a single label searched is never asked as it is. */
		{"search a.example\noptions no-tld-query\n", "web", "web.a.example"},
		{"search a.example\noptions no-tld-query ndots:2\n", "web.shop", "web.shop.a.example web.shop"},
		{"options no-tld-query\n", "web", "web"},
		/* A root domain on the list is the name as is, once. */
		{"search a.example .\n", "web", "web.a.example web"},
		{"search . a.example\noptions ndots:1\n", "x.y", "x.y x.y.a.example"},
	};
	for (size_t k = 0; k < ARRAY_SIZE(cases); k++) {
		char *got = search(cases[k].conf ? cases[k].conf : kubelet_conf, cases[k].name);
		if (strcmp(got, cases[k].want) != 0)
			harness_fail(__FILE__, __LINE__, "%s: \"%s\", want \"%s\"", cases[k].name, got, cases[k].want);
		free(got);
	}
}

TEST(resolver_name_syntax)
{
	CHECK(dns_name_is_valid("web"));
	CHECK(dns_name_is_valid("web.shop.svc.cluster.local."));
	CHECK(dns_name_is_valid("_http._tcp.web.shop"));
	CHECK(!dns_name_is_valid(""));
	CHECK(!dns_name_is_valid("."));
	CHECK(!dns_name_is_valid("a..b"));
	CHECK(!dns_name_is_valid(".a"));
	CHECK(!dns_name_is_valid("a b"));
	char label[70];
	memset(label, 'a', 64);
	label[64] = '\0';
	CHECK(!dns_name_is_valid(label));
}

/* An answer to the query for QNAME of TYPE (id ID) with RCODE, its
 * answer records appended (libresolv's dn_comp, ns_put16, ns_put32). */
struct msg {
	uint8_t buf[DNS_UDP_MAX];
	int len;
	const uint8_t *dnptrs[20];
	int an;
};

static void msg_begin(struct msg *m, const char *qname, int type, uint16_t id, int rcode)
{
	m->len = dns_query_build(qname, (enum dns_type)type, id, m->buf, sizeof(m->buf));
	CHECK(m->len > 0);
	HEADER *h = (HEADER *)m->buf;
	h->qr = 1;
	h->ra = 1;
	h->rcode = (unsigned)rcode & 0xf;
	m->dnptrs[0] = m->buf;
	m->dnptrs[1] = NULL;
	m->an = 0;
}

static uint8_t *msg_rr(struct msg *m, const char *owner, int type, size_t rdlen_hint)
{
	uint8_t *p = m->buf + m->len;
	int n = dn_comp(owner, p, (int)(sizeof(m->buf) - (size_t)m->len), (unsigned char **)m->dnptrs,
			(unsigned char **)&m->dnptrs[19]);
	CHECK(n > 0);
	p += n;
	ns_put16((unsigned)type, p);
	ns_put16(ns_c_in, p + 2);
	ns_put32(30, p + 4);
	m->len += n + 10;
	(void)rdlen_hint;
	HEADER *h = (HEADER *)m->buf;
	h->ancount = htons((uint16_t)++m->an);
	return p + 8; /* rdlength */
}

static void msg_a(struct msg *m, const char *owner, uint32_t addr)
{
	uint8_t *rdlen = msg_rr(m, owner, ns_t_a, 4);
	ns_put16(4, rdlen);
	ns_put32(addr, m->buf + m->len);
	m->len += 4;
}

static void msg_cname(struct msg *m, const char *owner, const char *target)
{
	uint8_t *rdlen = msg_rr(m, owner, ns_t_cname, 0);
	int n = dn_comp(target, m->buf + m->len, (int)(sizeof(m->buf) - (size_t)m->len), (unsigned char **)m->dnptrs,
			(unsigned char **)&m->dnptrs[19]);
	CHECK(n > 0);
	ns_put16((unsigned)n, rdlen);
	m->len += n;
}

static void msg_srv(struct msg *m, const char *owner, uint16_t port, const char *target)
{
	uint8_t *rdlen = msg_rr(m, owner, ns_t_srv, 0);
	uint8_t *d = m->buf + m->len;
	ns_put16(0, d);
	ns_put16(50, d + 2);
	ns_put16(port, d + 4);
	int n = dn_comp(target, d + 6, (int)(sizeof(m->buf) - (size_t)m->len - 6), NULL, NULL);
	CHECK(n > 0);
	ns_put16((unsigned)(n + 6), rdlen);
	m->len += n + 6;
}

TEST(resolver_query_is_a_question)
{
	uint8_t buf[DNS_UDP_MAX];
	int n = dns_query_build("web.shop.svc.cluster.local", DNS_TYPE_A, 0x1234, buf, sizeof(buf));
	CHECK(n > 12);
	ns_msg h;
	CHECK(ns_initparse(buf, n, &h) == 0);
	CHECK_INT(ns_msg_id(h), 0x1234);
	CHECK_INT(ns_msg_getflag(h, ns_f_qr), 0);
	CHECK_INT(ns_msg_getflag(h, ns_f_rd), 1);
	CHECK_INT(ns_msg_count(h, ns_s_qd), 1);
	ns_rr q;
	CHECK(ns_parserr(&h, ns_s_qd, 0, &q) == 0);
	CHECK_STR(ns_rr_name(q), "web.shop.svc.cluster.local");
	CHECK_INT(ns_rr_type(q), ns_t_a);
	CHECK_INT(dns_query_build("a..b", DNS_TYPE_A, 1, buf, sizeof(buf)), -1);
	/* A query is not its own answer. */
	CHECK(!dns_answer_matches(buf, (size_t)n, 0x1234, "web.shop.svc.cluster.local", DNS_TYPE_A));
}

TEST(resolver_answer_a_records_and_matching)
{
	struct msg m;
	msg_begin(&m, "web.shop.svc.cluster.local", ns_t_a, 7, ns_r_noerror);
	msg_a(&m, "web.shop.svc.cluster.local", 0x0a60000c);
	msg_a(&m, "web.shop.svc.cluster.local", 0x0a60000d);
	msg_a(&m, "other.shop.svc.cluster.local", 0x0a600063); /* not the question's: ignored */
	CHECK(dns_answer_matches(m.buf, (size_t)m.len, 7, "WEB.shop.svc.cluster.local.", DNS_TYPE_A));
	CHECK(!dns_answer_matches(m.buf, (size_t)m.len, 8, "web.shop.svc.cluster.local", DNS_TYPE_A));
	CHECK(!dns_answer_matches(m.buf, (size_t)m.len, 7, "web.svc.cluster.local", DNS_TYPE_A));
	CHECK(!dns_answer_matches(m.buf, (size_t)m.len, 7, "web.shop.svc.cluster.local", DNS_TYPE_SRV));
	CHECK(!dns_answer_matches(m.buf, 5, 7, "web.shop.svc.cluster.local", DNS_TYPE_A));
	struct dns_answer a;
	char *why = NULL;
	CHECK(dns_answer_parse(m.buf, (size_t)m.len, DNS_TYPE_A, &a, &why));
	CHECK_INT(a.rcode, ns_r_noerror);
	CHECK_STR(a.name, "web.shop.svc.cluster.local");
	CHECK_INT(a.n_addresses, 2);
	CHECK_INT(a.addresses[0], 0x0a60000c);
	CHECK_INT(a.addresses[1], 0x0a60000d);
	CHECK_INT(a.n_cnames, 0);
	dns_answer_free(&a);
	/* Cut short: does not parse. */
	CHECK(!dns_answer_parse(m.buf, (size_t)m.len - 3, DNS_TYPE_A, &a, &why));
	CHECK(why != NULL);
	free(why);
}

TEST(resolver_answer_follows_cname_chain)
{
	/* An ExternalName service: CNAMEs, listed out of order, then the A. */
	struct msg m;
	msg_begin(&m, "db.shop.svc.cluster.local", ns_t_a, 9, ns_r_noerror);
	msg_cname(&m, "db2.example.org", "db3.example.org");
	msg_cname(&m, "db.shop.svc.cluster.local", "db2.example.org");
	msg_a(&m, "db3.example.org", 0xcb007105);
	msg_a(&m, "db.shop.svc.cluster.local", 0x01020304); /* not at the chain's end */
	struct dns_answer a;
	char *why = NULL;
	CHECK(dns_answer_parse(m.buf, (size_t)m.len, DNS_TYPE_A, &a, &why));
	CHECK_STR(a.name, "db3.example.org");
	CHECK_INT(a.n_cnames, 2);
	CHECK_INT(a.n_addresses, 1);
	CHECK_INT(a.addresses[0], 0xcb007105);
	dns_answer_free(&a);
	/* A loop ends. */
	msg_begin(&m, "a.example", ns_t_a, 9, ns_r_noerror);
	msg_cname(&m, "a.example", "b.example");
	msg_cname(&m, "b.example", "a.example");
	CHECK(dns_answer_parse(m.buf, (size_t)m.len, DNS_TYPE_A, &a, &why));
	CHECK_INT(a.n_addresses, 0);
	dns_answer_free(&a);
}

TEST(resolver_answer_nxdomain_and_srv)
{
	struct msg m;
	msg_begin(&m, "web.svc.cluster.local", ns_t_a, 3, ns_r_nxdomain);
	struct dns_answer a;
	char *why = NULL;
	CHECK(dns_answer_parse(m.buf, (size_t)m.len, DNS_TYPE_A, &a, &why));
	CHECK_INT(a.rcode, ns_r_nxdomain);
	CHECK_INT(a.n_addresses, 0);
	char buf[16];
	CHECK_STR(dns_rcode_name(a.rcode, buf, sizeof(buf)), "NXDOMAIN");
	CHECK_STR(dns_rcode_name(11, buf, sizeof(buf)), "rcode 11");
	dns_answer_free(&a);
	msg_begin(&m, "_http._tcp.web.shop.svc.cluster.local", ns_t_srv, 4, ns_r_noerror);
	msg_srv(&m, "_http._tcp.web.shop.svc.cluster.local", 80, "web-0.web.shop.svc.cluster.local");
	msg_srv(&m, "_http._tcp.web.shop.svc.cluster.local", 80, "web-1.web.shop.svc.cluster.local");
	CHECK(dns_answer_matches(m.buf, (size_t)m.len, 4, "_http._tcp.web.shop.svc.cluster.local", DNS_TYPE_SRV));
	CHECK(dns_answer_parse(m.buf, (size_t)m.len, DNS_TYPE_SRV, &a, &why));
	CHECK_INT(a.n_srv, 2);
	CHECK_STR(a.srv[1].target, "web-1.web.shop.svc.cluster.local");
	CHECK_INT(a.srv[1].port, 80);
	CHECK_INT(a.srv[1].weight, 50);
	dns_answer_free(&a);
}
