#define _GNU_SOURCE
/* NetworkPolicy rules (plan/netpol_nft.c) on hand-built plans: which pods
 * are isolated, the forward chain's dispatch per node, and each pod
 * chain's rules as nft text: peers from selectors over pods and namespace
 * labels, ipBlock with except, named ports per destination pod, endPort,
 * protocols, the masqueraded-source rules and the drop's comment.
 *
 * With NETPOL_OUT set to a directory, the scenarios write their rule sets
 * there as NAME.nft, for tests/bats/netpol.bats to load with nft itself. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "model/selector.h"
#include "plan/netpol_nft.h"
#include "plan/plan.h"
#include "util/ipv4.h"
#include "util/util.h"

static uint32_t ip_of(const char *s)
{
	uint32_t a = 0;
	if (!ipv4_addr_parse(s, &a))
		harness_fail(__FILE__, __LINE__, "bad address %s", s);
	return a;
}

static struct ipv4_prefix cidr_of(const char *s)
{
	struct ipv4_prefix p = {0};
	const char *why = NULL;
	if (!ipv4_prefix_parse(s, &p, &why))
		harness_fail(__FILE__, __LINE__, "bad prefix %s", s);
	return p;
}

static void dump(const char *name, const char *text)
{
	const char *dir = getenv("NETPOL_OUT");
	if (!dir || !text)
		return;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		harness_fail(__FILE__, __LINE__, "mkdir %s", dir);
	autofree char *path = xasprintf("%s/%s.nft", dir, name);
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		harness_fail(__FILE__, __LINE__, "cannot write %s", path);
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *s = text; s && *s;) {
		while (*s == '\t')
			s++;
		if (strncmp(s, line, n) == 0 && (s[n] == '\n' || s[n] == '\0'))
			return true;
		s = strchr(s, '\n');
		if (s)
			s++;
	}
	return false;
}

#define CHECK_LINE(text, line)                                                                             \
	do {                                                                                               \
		if (!has_line((text), (line)))                                                             \
			harness_fail(__FILE__, __LINE__, "no line\n  %s\nin\n%s", (line), (text));          \
	} while (0)

/* ------------------------------------------------------------ the lab */

enum { LAB, NODE1, NODE2, WEB, DB, HOSTNET, CLIENT, OTHER };

static size_t pod(struct plan *p, const char *ns, const char *name, size_t node, const char *addr,
		  const char *app, const struct tb_port *ports, size_t n_ports, bool host_network)
{
	struct tb_label l = {(char *)"app", (char *)app};
	struct plan_machine m = {.kind = MACHINE_POD,
				 .name = (char *)name,
				 .namespace = (char *)ns,
				 .parent = node,
				 .image = PLAN_NONE,
				 .address = ip_of(addr),
				 .labels = &l,
				 .n_labels = 1,
				 .ports = (struct tb_port *)ports,
				 .n_ports = n_ports,
				 .host_network = host_network};
	return plan_add_machine(p, &m);
}

/* Two nodes; shop/web, shop/db and a hostNetwork pod of shop on node1,
 * other/client and other/other on node2. */
static void lab(struct plan *p)
{
	*p = (struct plan){0};
	struct plan_machine m = {.kind = MACHINE_LAB, .name = (char *)"lab", .parent = PLAN_NONE, .image = PLAN_NONE};
	plan_add_machine(p, &m);
	m.kind = MACHINE_NODE;
	m.name = (char *)"node1";
	m.address = ip_of("192.168.0.2");
	plan_add_machine(p, &m);
	m.name = (char *)"node2";
	m.address = ip_of("192.168.0.3");
	plan_add_machine(p, &m);
	struct step *s = plan_add_step(p, STEP_ADDRESS, NODE1, NULL);
	snprintf(s->u.address.ifname, sizeof(s->u.address.ifname), "cbr0");
	s->u.address.prefix = cidr_of("10.244.1.1/24");
	static const struct tb_port web_ports[] = {{(char *)"http", 8080, TB_PROTOCOL_TCP},
						   {(char *)"metrics", 9090, TB_PROTOCOL_TCP}};
	static const struct tb_port db_ports[] = {{(char *)"http", 5432, TB_PROTOCOL_TCP}};
	static const struct tb_port dns_ports[] = {{(char *)"dns", 53, TB_PROTOCOL_UDP}};
	pod(p, "shop", "web", NODE1, "10.244.1.2", "web", web_ports, 2, false);
	pod(p, "shop", "db", NODE1, "10.244.1.3", "db", db_ports, 1, false);
	pod(p, "shop", "hostnet", NODE1, "192.168.0.2", "web", NULL, 0, true);
	pod(p, "other", "client", NODE2, "10.244.2.2", "client", dns_ports, 1, false);
	pod(p, "other", "other", NODE2, "10.244.2.3", "web", NULL, 0, false);
}

static struct label_selector sel(const char *text)
{
	struct label_selector s = {0};
	autofree char *why = NULL;
	if (!label_selector_parse(text, &s, &why))
		harness_fail(__FILE__, __LINE__, "selector %s: %s", text, why);
	return s;
}

/* The namespaces: shop (team=a), other (team=b). */
static struct tb_label shop_labels[] = {{(char *)"kubernetes.io/metadata.name", (char *)"shop"},
					{(char *)"team", (char *)"a"}};
static struct tb_label other_labels[] = {{(char *)"kubernetes.io/metadata.name", (char *)"other"},
					 {(char *)"team", (char *)"b"}};
static struct plan_namespace namespaces[] = {{(char *)"shop", shop_labels, 2}, {(char *)"other", other_labels, 2}};

static void free_policy(struct plan_policy *pol)
{
	label_selector_free(&pol->pod_selector);
	for (int d = 0; d < 2; d++) {
		struct plan_policy_rule *rules = d ? pol->egress_rules : pol->ingress_rules;
		size_t n = d ? pol->n_egress_rules : pol->n_ingress_rules;
		for (size_t i = 0; i < n; i++)
			for (size_t k = 0; k < rules[i].n_peers; k++) {
				label_selector_free(&rules[i].peers[k].pod_selector);
				label_selector_free(&rules[i].peers[k].namespace_selector);
			}
	}
}

/* ------------------------------------------------------------ tests */

TEST(netpol_default_deny_isolates_without_rules)
{
	struct plan p;
	lab(&p);
	struct plan_policy deny = {.namespace = (char *)"shop", .name = (char *)"deny", .pod_selector = sel(""),
				   .ingress = true};
	struct netpol_input in = {&deny, 1, namespaces, 2};
	CHECK(netpol_isolated(&in, &p.machines[WEB], true));
	CHECK(netpol_isolated(&in, &p.machines[DB], true));
	CHECK(!netpol_isolated(&in, &p.machines[WEB], false));
	CHECK(!netpol_isolated(&in, &p.machines[HOSTNET], true));
	CHECK(!netpol_isolated(&in, &p.machines[CLIENT], true));
	autofree char *t = netpol_ruleset(&p, &in, NODE1);
	dump("default-deny", t);
	CHECK_LINE(t, "type filter hook forward priority filter; policy accept;");
	CHECK_LINE(t, "ct state established,related accept comment \"replies of allowed connections always pass\"");
	CHECK_LINE(t, "ip daddr vmap { 10.244.1.2 : jump ingress-shop/web, 10.244.1.3 : jump ingress-shop/db } "
		      "comment \"ingress-isolated pods of this node, by destination (after DNAT)\"");
	CHECK(strstr(t, "ip saddr vmap") == NULL);
	CHECK_LINE(t, "chain ingress-shop/web {");
	CHECK_LINE(t, "ip saddr 10.244.1.2 return comment \"a pod cannot block access to itself (its own Service: hairpin)\"");
	CHECK_LINE(t, "counter drop comment \"isolated for ingress by shop/deny\"");
	/* No Services: no masquerade mark to read. */
	CHECK(strstr(t, "meta mark") == NULL);
	/* node2's pods are not isolated: the table is there, dispatching none. */
	autofree char *t2 = netpol_ruleset(&p, &in, NODE2);
	CHECK(strstr(t2, "vmap") == NULL);
	CHECK(strstr(t2, "chain forward {") != NULL);
	free_policy(&deny);
	plan_free(&p);
}

TEST(netpol_ingress_peers_ports_and_ip_block)
{
	struct plan p;
	lab(&p);
	/* from: namespaceSelector team=b AND podSelector app=client, on the
	 * named port http; or from 192.0.2.0/24 except 192.0.2.128/25 on
	 * 8000-8010; and a rule of every peer on UDP any port and SCTP 9. */
	struct plan_policy_peer peers1[] = {{.kind = PLAN_PEER_PODS,
					     .has_pod_selector = true,
					     .has_namespace_selector = true,
					     .pod_selector = sel("app=client"),
					     .namespace_selector = sel("team=b")},
					    {.kind = PLAN_PEER_IP_BLOCK}};
	struct ipv4_prefix except[] = {cidr_of("192.0.2.128/25")};
	peers1[1].cidr = cidr_of("192.0.2.0/24");
	peers1[1].except = except;
	peers1[1].n_except = 1;
	struct plan_policy_port ports1[] = {{.protocol = TB_PROTOCOL_TCP, .name = (char *)"http"},
					    {.protocol = TB_PROTOCOL_TCP, .port = 8000, .end_port = 8010}};
	struct plan_policy_port ports2[] = {{.protocol = TB_PROTOCOL_UDP, .any_port = true},
					    {.protocol = TB_PROTOCOL_SCTP, .port = 9}};
	struct plan_policy_rule rules[] = {{peers1, 2, ports1, 2}, {NULL, 0, ports2, 2}};
	struct plan_policy allow = {.namespace = (char *)"shop",
				    .name = (char *)"allow-web",
				    .pod_selector = sel("app=web"),
				    .ingress = true,
				    .ingress_rules = rules,
				    .n_ingress_rules = 2};
	struct netpol_input in = {&allow, 1, namespaces, 2};
	autofree char *t = netpol_ruleset(&p, &in, NODE1);
	dump("ingress-peers", t);
	/* The pod peer: other/client only (other/other is app=web). The named
	 * port is web's http, 8080. */
	CHECK_LINE(t, "ip saddr 10.244.2.2 tcp dport 8080 return comment \"shop/allow-web ingress[0]\"");
	CHECK_LINE(t, "ip saddr 10.244.2.2 tcp dport 8000-8010 return comment \"shop/allow-web ingress[0]\"");
	CHECK_LINE(t, "ip saddr 192.0.2.0/24 ip saddr != { 192.0.2.128/25 } tcp dport 8080 return comment "
		      "\"shop/allow-web ingress[0]\"");
	CHECK_LINE(t, "meta l4proto udp return comment \"shop/allow-web ingress[1]\"");
	CHECK_LINE(t, "sctp dport 9 return comment \"shop/allow-web ingress[1]\"");
	CHECK_LINE(t, "counter drop comment \"isolated for ingress by shop/allow-web\"");
	/* db is not selected: no chain. */
	CHECK(strstr(t, "ingress-shop/db") == NULL);

	/* Without the namespace selector, the pod selector looks in the
	 * policy's own namespace, where no pod is app=client: no pod rule. */
	peers1[0].has_namespace_selector = false;
	autofree char *t2 = netpol_ruleset(&p, &in, NODE1);
	CHECK(strstr(t2, "ip saddr 10.244.2.2") == NULL);
	CHECK_LINE(t2, "ip saddr 192.0.2.0/24 ip saddr != { 192.0.2.128/25 } tcp dport 8080 return comment "
		       "\"shop/allow-web ingress[0]\"");
	/* A namespace selector alone: every pod of team=b, hostNetwork pods never. */
	peers1[0].has_namespace_selector = true;
	peers1[0].has_pod_selector = false;
	autofree char *t3 = netpol_ruleset(&p, &in, NODE1);
	CHECK_LINE(t3, "ip saddr { 10.244.2.2, 10.244.2.3 } tcp dport 8080 return comment \"shop/allow-web ingress[0]\"");
	free_policy(&allow);
	plan_free(&p);
}

TEST(netpol_masqueraded_sources_are_judged_as_the_node)
{
	struct plan p;
	lab(&p);
	p.services = xcalloc(1, sizeof(*p.services));
	p.n_services = 1;
	p.services[0] = (struct plan_service){.namespace = xstrdup("shop"), .name = xstrdup("web")};
	/* ipBlock 10.244.1.0/24 holds cbr0's 10.244.1.1; 203.0.113.0/24 does not. */
	struct plan_policy_peer peers[] = {{.kind = PLAN_PEER_IP_BLOCK}, {.kind = PLAN_PEER_IP_BLOCK}};
	peers[0].cidr = cidr_of("10.244.1.0/24");
	peers[1].cidr = cidr_of("203.0.113.0/24");
	struct plan_policy_port ports[] = {{.protocol = TB_PROTOCOL_TCP, .port = 80}};
	struct plan_policy_rule rules[] = {{peers, 1, ports, 1}, {peers + 1, 1, NULL, 0}};
	struct plan_policy pol = {.namespace = (char *)"shop",
				  .name = (char *)"nodeport",
				  .pod_selector = sel("app=db"),
				  .ingress = true,
				  .ingress_rules = rules,
				  .n_ingress_rules = 2};
	struct netpol_input in = {&pol, 1, namespaces, 2};
	autofree char *t = netpol_ruleset(&p, &in, NODE1);
	dump("masqueraded", t);
	CHECK_LINE(t, "meta mark & 0x00004000 == 0x00004000 goto ingress-shop/db/masqueraded comment "
		      "\"kube-proxy masquerades it: it arrives from 10.244.1.1\"");
	CHECK_LINE(t, "ct status snat goto ingress-shop/db/masqueraded comment \"masqueraded: it arrives from 10.244.1.1\"");
	CHECK_LINE(t, "chain ingress-shop/db/masqueraded {");
	const char *masq = strstr(t, "chain ingress-shop/db/masqueraded {");
	CHECK(masq && strstr(masq, "tcp dport 80 return comment \"shop/nodeport ingress[0]: from 10.244.1.1\"\n"));
	CHECK(masq && !strstr(masq, "ingress[1]"));
	CHECK_LINE(t, "counter drop comment \"from 10.244.1.1: isolated for ingress by shop/nodeport\"");
	CHECK_LINE(t, "ip saddr 203.0.113.0/24 return comment \"shop/nodeport ingress[1]\"");
	CHECK_LINE(t, "ip saddr 10.244.1.0/24 tcp dport 80 return comment \"shop/nodeport ingress[0]\"");
	/* The diversion comes before the rules that read the source. */
	CHECK(strstr(t, "goto ingress-shop/db/masqueraded") < strstr(t, "ip saddr 10.244.1.0/24"));
	free_policy(&pol);
	plan_free(&p);
}

TEST(netpol_egress_dns_named_ports_per_destination)
{
	struct plan p;
	lab(&p);
	/* db: egress to UDP and TCP 53 anywhere; to pods app=web of every
	 * namespace on their port named http. */
	struct plan_policy_port dns[] = {{.protocol = TB_PROTOCOL_UDP, .port = 53},
					 {.protocol = TB_PROTOCOL_TCP, .port = 53}};
	struct plan_policy_peer web[] = {{.kind = PLAN_PEER_PODS,
					  .has_pod_selector = true,
					  .has_namespace_selector = true,
					  .pod_selector = sel("app=web"),
					  .namespace_selector = sel("")}};
	struct plan_policy_port http[] = {{.protocol = TB_PROTOCOL_TCP, .name = (char *)"http"}};
	struct plan_policy_rule rules[] = {{NULL, 0, dns, 2}, {web, 1, http, 1}};
	struct plan_policy pol = {.namespace = (char *)"shop",
				  .name = (char *)"db-egress",
				  .pod_selector = sel("app=db"),
				  .egress = true,
				  .egress_rules = rules,
				  .n_egress_rules = 2};
	struct netpol_input in = {&pol, 1, namespaces, 2};
	CHECK(netpol_isolated(&in, &p.machines[DB], false));
	CHECK(!netpol_isolated(&in, &p.machines[DB], true));
	autofree char *t = netpol_ruleset(&p, &in, NODE1);
	dump("egress", t);
	CHECK_LINE(t, "ip saddr vmap { 10.244.1.3 : jump egress-shop/db } comment \"egress-isolated pods of this node, by source\"");
	CHECK_LINE(t, "ip daddr 10.244.1.3 return comment \"a pod cannot block access to itself (its own Service: hairpin)\"");
	CHECK_LINE(t, "udp dport 53 return comment \"shop/db-egress egress[0]\"");
	CHECK_LINE(t, "tcp dport 53 return comment \"shop/db-egress egress[0]\"");
	/* web names http 8080; other/other (app=web) has no port of that name;
	 * the hostNetwork pod is no peer. */
	CHECK_LINE(t, "ip daddr . tcp dport { 10.244.1.2 . 8080 } return comment \"shop/db-egress egress[1]: port http\"");
	CHECK_LINE(t, "counter drop comment \"isolated for egress by shop/db-egress\"");
	/* node2 holds none of db's rules: egress is judged on the source's node. */
	autofree char *t2 = netpol_ruleset(&p, &in, NODE2);
	CHECK(strstr(t2, "egress-shop/db") == NULL);
	free_policy(&pol);
	plan_free(&p);
}

TEST(netpol_add_steps_per_node_with_br_netfilter)
{
	struct plan p;
	lab(&p);
	struct plan_policy deny = {.namespace = (char *)"other", .name = (char *)"deny", .pod_selector = sel(""),
				   .ingress = true, .egress = true};
	struct netpol_input none = {NULL, 0, namespaces, 2};
	netpol_add_steps(&p, &none);
	CHECK(plan_next(&p, NULL, STEP_NFT) == NULL);
	struct netpol_input in = {&deny, 1, namespaces, 2};
	netpol_add_steps(&p, &in);
	size_t nft = 0, sysctl = 0;
	for (const struct step *s = plan_next(&p, NULL, STEP_NFT); s; s = plan_next(&p, s, STEP_NFT)) {
		CHECK_STR(s->u.nft.table, "ip testbed-netpol");
		CHECK(s->machine == NODE1 || s->machine == NODE2);
		nft++;
	}
	for (const struct step *s = plan_next(&p, NULL, STEP_SYSCTL); s; s = plan_next(&p, s, STEP_SYSCTL)) {
		CHECK_STR(s->u.sysctl.key, "net/bridge/bridge-nf-call-iptables");
		CHECK_STR(s->u.sysctl.value, "1");
		sysctl++;
	}
	CHECK_INT(nft, 2);
	CHECK_INT(sysctl, 2);
	autofree char *t = netpol_ruleset(&p, &in, NODE2);
	dump("both-directions", t);
	CHECK_LINE(t, "chain egress-other/client {");
	CHECK_LINE(t, "chain ingress-other/other {");
	CHECK_LINE(t, "counter drop comment \"isolated for egress by other/deny\"");
	free_policy(&deny);
	plan_free(&p);
}
