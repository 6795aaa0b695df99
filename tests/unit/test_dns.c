/* Cluster DNS: pods' resolv.conf as the kubelet writes it, the DNS server's
 * records from the plan (the Kubernetes DNS specification), the model's
 * DNS objects and pod fields, and their saved form. */
#define _GNU_SOURCE
#include <string.h>

#include "fixtures.h"
#include "harness.h"
#include "plan/plan.h"
#include "plan/plan_dns.h"
#include "util/ipv4.h"
#include "util/util.h"

/* Topologies are written with ' for " here, to stay readable. */
static char *q(const char *text)
{
	char *s = xstrdup(text);
	for (char *c = s; *c; c++)
		if (*c == '\'')
			*c = '"';
	return s;
}

static bool build(const char *text, struct plan *p)
{
	autofree char *json = q(text);
	return fixture_plan(json, p);
}

static uint32_t addr(const char *text)
{
	uint32_t a = 0;
	ipv4_addr_parse(text, &a);
	return a;
}

TEST(dns_resolv_conf_follows_the_kubelet_for_each_policy_and_dns_config)
{
	char *ns3[] = {"10.0.0.53", "10.96.0.10", "1.1.1.1", "8.8.8.8"};
	char *search[] = {"svc.cluster.local", "example.com"};
	char *one_ns[] = {"1.1.1.1"};
	char *one_search[] = {"corp.example"};
	struct tb_dns_option five[] = {{"ndots", "2"}, {"edns0", NULL}};
	struct tb_dns_option one[] = {{"timeout", "1"}};
	static const struct tb_dns_config none = {0};
	const struct tb_dns_config merged = {ns3, 4, search, 2, five, 2};
	const struct tb_dns_config own = {one_ns, 1, one_search, 1, one, 1};
	const struct {
		const char *what;
		bool host_network;
		enum tb_dns_policy policy;
		const struct tb_dns_config *config;
		const char *domain;
		const char *dns;
		const char *want;
	} cases[] = {
		{"ClusterFirst", false, TB_DNS_CLUSTER_FIRST, &none, "cluster.local", "10.96.0.10",
		 "search shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"},
		{"another clusterDomain", false, TB_DNS_CLUSTER_FIRST, &none, "k8s.example.org", "10.100.0.10",
		 "search shop.svc.k8s.example.org svc.k8s.example.org k8s.example.org\nnameserver 10.100.0.10\n"
		 "options ndots:5\n"},
		/* On the host's network, ClusterFirst is Default: the node's,
		 * which has no resolver here. */
		{"ClusterFirst, hostNetwork", true, TB_DNS_CLUSTER_FIRST, &none, "cluster.local", "10.96.0.10", ""},
		{"ClusterFirstWithHostNet, hostNetwork", true, TB_DNS_CLUSTER_FIRST_WITH_HOST_NET, &none, "cluster.local",
		 "10.96.0.10",
		 "search shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"},
		{"Default", false, TB_DNS_DEFAULT, &none, "cluster.local", "10.96.0.10", ""},
		{"Default with dnsConfig", false, TB_DNS_DEFAULT, &own, "cluster.local", "10.96.0.10",
		 "search corp.example\nnameserver 1.1.1.1\noptions timeout:1\n"},
		{"None", false, TB_DNS_NONE, &own, "cluster.local", "10.96.0.10",
		 "search corp.example\nnameserver 1.1.1.1\noptions timeout:1\n"},
		/* Merged: duplicates once, in order; at most 3 nameservers;
		 * an option of the same name takes the later value. */
		{"ClusterFirst with dnsConfig", false, TB_DNS_CLUSTER_FIRST, &merged, "cluster.local", "10.96.0.10",
		 "search shop.svc.cluster.local svc.cluster.local cluster.local example.com\nnameserver 10.96.0.10\n"
		 "nameserver 10.0.0.53\nnameserver 1.1.1.1\noptions ndots:2 edns0\n"},
		/* No cluster DNS: ClusterFirst falls back to Default. */
		{"ClusterFirst without cluster DNS", false, TB_DNS_CLUSTER_FIRST, &none, "cluster.local", "0.0.0.0", ""},
		{"ClusterFirst without cluster DNS, dnsConfig", false, TB_DNS_CLUSTER_FIRST, &own, "cluster.local",
		 "0.0.0.0", "search corp.example\nnameserver 1.1.1.1\noptions timeout:1\n"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		autofree char *got = plan_dns_resolv_conf("shop", cases[i].host_network, cases[i].policy, cases[i].config,
							  cases[i].domain, addr(cases[i].dns));
		if (strcmp(got, cases[i].want) != 0)
			harness_fail(__FILE__, __LINE__, "%s: got\n%s\nwant\n%s", cases[i].what, got, cases[i].want);
	}
}

/* The kubelet's limits: 32 search domains, 2048 characters of them. */
TEST(dns_resolv_conf_keeps_the_kubelets_search_limits)
{
	char *many[40];
	char names[40][64];
	for (int i = 0; i < 40; i++) {
		snprintf(names[i], sizeof(names[i]), "d%02d.%s", i, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
		many[i] = names[i];
	}
	const struct tb_dns_config c = {.searches = many, .n_searches = 40};
	autofree char *got = plan_dns_resolv_conf("shop", false, TB_DNS_DEFAULT, &c, "cluster.local", 0);
	size_t words = 0;
	for (const char *s = strchr(got, ' '); s && s < strchr(got, '\n'); s = strchr(s + 1, ' '))
		words++;
	/* 54 characters each and a space: 37 would pass 2048, 32 is the cap. */
	CHECK_INT(words, 32);
	char *wide[40];
	char wide_names[40][128];
	for (int i = 0; i < 40; i++) {
		snprintf(wide_names[i], sizeof(wide_names[i]), "w%02d.%s.%s", i,
			 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
			 "cccccccccccccccccccccccccccccccccccc");
		wide[i] = wide_names[i];
	}
	const struct tb_dns_config w = {.searches = wide, .n_searches = 40};
	autofree char *got2 = plan_dns_resolv_conf("shop", false, TB_DNS_DEFAULT, &w, "cluster.local", 0);
	/* 101 characters each: 20 make 2039 with their spaces, 21 pass 2048. */
	words = 0;
	for (const char *s = strchr(got2, ' '); s && s < strchr(got2, '\n'); s = strchr(s + 1, ' '))
		words++;
	CHECK_INT(words, 20);
}

#define IMAGES "'images': {'pod': 'img.tar', 'node': 'img.tar'}"
#define NS(name) "{'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': '" name "'}}"
/* A StatefulSet of 2 under headless db (a port its pods serve, one they
 * do not), ClusterIP web over
 * a Deployment of 2, headless ext over an EndpointSlice (a hostname, one
 * endpoint not ready) and headless all, which publishes not-ready ones. */
#define DNS_LAB(cluster)                                                                                          \
	"{'name': 'd', " IMAGES ", " cluster "'nodes': [{'name': 'node1'}, {'name': 'node2'}], 'objects': ["         \
	NS("data") ", "                                                                                              \
	"{'apiVersion': 'v1', 'kind': 'Service', 'metadata': {'name': 'db', 'namespace': 'data'}, 'spec': "          \
	"{'clusterIP': 'None', 'selector': {'app': 'db'}, 'ports': [{'name': 'pg', 'port': 5432, 'targetPort': "    \
	"'pg'}, {'name': 'metrics', 'port': 9000, 'targetPort': 'metrics'}]}}, "                                                                                 \
	"{'apiVersion': 'apps/v1', 'kind': 'StatefulSet', 'metadata': {'name': 'db', 'namespace': 'data'}, 'spec': " \
	"{'serviceName': 'db', 'replicas': 2, 'selector': {'matchLabels': {'app': 'db'}}, 'template': {'metadata': " \
	"{'labels': {'app': 'db'}}, 'spec': {'hostname': 'ignored', 'containers': [{'name': 'c', 'image': 'x', "     \
	"'ports': [{'name': 'pg', 'containerPort': 15432}]}]}}}}, "                                                  \
	"{'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {'name': 'solo', 'namespace': 'data', 'labels': {'app': "   \
	"'solo'}}, 'spec': {'hostname': 'alone', 'subdomain': 'db', 'containers': [{'name': 'c', 'image': 'x'}]}}, " \
	"{'apiVersion': 'v1', 'kind': 'Service', 'metadata': {'name': 'web'}, 'spec': {'selector': {'app': 'web'}, " \
	"'ports': [{'name': 'http', 'port': 80, 'targetPort': 8080}, {'name': 'q', 'port': 53, 'protocol': 'UDP', " \
	"'targetPort': 53}]}}, "                                                                                     \
	"{'apiVersion': 'apps/v1', 'kind': 'Deployment', 'metadata': {'name': 'web'}, 'spec': {'replicas': 2, "      \
	"'selector': {'matchLabels': {'app': 'web'}}, 'template': {'metadata': {'labels': {'app': 'web'}}, 'spec': " \
	"{'containers': [{'name': 'c', 'image': 'x', 'ports': [{'containerPort': 8080}]}]}}}}, "                    \
	"{'apiVersion': 'v1', 'kind': 'Service', 'metadata': {'name': 'away'}, 'spec': {'type': 'ExternalName', "    \
	"'externalName': 'db.example.org.', 'ports': [{'name': 'h', 'port': 80}]}}, "                               \
	"{'apiVersion': 'v1', 'kind': 'Service', 'metadata': {'name': 'ext'}, 'spec': {'clusterIP': 'None', "       \
	"'ports': [{'name': 'h', 'port': 80}]}}, "                                                                   \
	"{'apiVersion': 'v1', 'kind': 'Service', 'metadata': {'name': 'all'}, 'spec': {'clusterIP': 'None', "       \
	"'publishNotReadyAddresses': true, 'ports': [{'name': 'h', 'port': 80}]}}, "                                \
	"{'apiVersion': 'discovery.k8s.io/v1', 'kind': 'EndpointSlice', 'metadata': {'name': 'ext-1', 'labels': "   \
	"{'kubernetes.io/service-name': 'ext'}}, 'addressType': 'IPv4', 'ports': [{'name': 'h', 'port': 8080}], "   \
	"'endpoints': [{'addresses': ['192.0.2.7'], 'hostname': 'seven'}, {'addresses': ['192.0.2.8'], "            \
	"'conditions': {'ready': false}}, {'addresses': ['192.0.2.9']}]}, "                                          \
	"{'apiVersion': 'discovery.k8s.io/v1', 'kind': 'EndpointSlice', 'metadata': {'name': 'all-1', 'labels': "   \
	"{'kubernetes.io/service-name': 'all'}}, 'addressType': 'IPv4', 'ports': [{'name': 'h', 'port': 8080}], "   \
	"'endpoints': [{'addresses': ['192.0.2.8'], 'conditions': {'ready': false}}]}]}"

static const struct plan_machine *machine(const struct plan *p, const char *name)
{
	size_t i = plan_find(p, name);
	return i == PLAN_NONE ? NULL : &p->machines[i];
}

static const struct plan_file *file_of(const struct plan_machine *m, const char *path)
{
	for (size_t i = 0; m && i < m->n_files; i++)
		if (strcmp(m->files[i].path, path) == 0)
			return &m->files[i];
	return NULL;
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *s = text; s; s = strchr(s, '\n'), s = s ? s + 1 : NULL)
		if (strncmp(s, line, n) == 0 && (s[n] == '\n' || s[n] == '\0'))
			return true;
	return false;
}

#define CHECK_LINE(text, line, want)                                                                           \
	do {                                                                                                   \
		if (has_line(text, line) != (want))                                                            \
			harness_fail(__FILE__, __LINE__, "%s the line \"%s\" in:\n%s", (want) ? "missing" : "unwanted", \
				     line, text);                                                              \
	} while (0)

TEST(dns_records_follow_the_specification_from_the_plan)
{
	struct plan p;
	if (!build(DNS_LAB(""), &p)) {
		CHECK(!"built");
		return;
	}
	CHECK_STR(p.cluster_domain, "cluster.local");
	CHECK_INT(p.dns_address, addr("10.96.0.10"));
	const struct plan_machine *dns = machine(&p, "coredns");
	CHECK(dns != NULL);
	const struct plan_file *hosts = file_of(dns, "/etc/dnsmasq.hosts");
	const struct plan_file *conf = file_of(dns, "/etc/dnsmasq.conf");
	CHECK(hosts && conf);
	if (!dns || !hosts || !conf) {
		plan_free(&p);
		return;
	}
	char a[IPV4_PREFIX_STRLEN];
	const struct plan_machine *db0 = machine(&p, "db-0"), *db1 = machine(&p, "db-1"), *solo = machine(&p, "solo");
	CHECK(db0 && db1 && solo);
	if (!db0 || !db1 || !solo) {
		plan_free(&p);
		return;
	}
	/* The StatefulSet controller's hostnames and subdomain, not the template's. */
	CHECK_STR(db0->hostname, "db-0");
	CHECK_STR(db0->subdomain, "db");
	CHECK_STR(solo->hostname, "alone");
	/* Headless db: each pod by its hostname, then the Service's name. solo
	 * names db as its subdomain but db does not select it: no record. */
	autofree char *l1 = xasprintf("%s db-0.db.data.svc.cluster.local", ipv4_addr_format(db0->address, a));
	autofree char *l2 = xasprintf("%s db.data.svc.cluster.local", a);
	autofree char *l3 = xasprintf("%s db-1.db.data.svc.cluster.local", ipv4_addr_format(db1->address, a));
	autofree char *l4 = xasprintf("%s alone.db.data.svc.cluster.local", ipv4_addr_format(solo->address, a));
	autofree char *pod = xasprintf("%s %u-%u-%u-%u.data.pod.cluster.local", a, solo->address >> 24,
				       (solo->address >> 16) & 0xff, (solo->address >> 8) & 0xff, solo->address & 0xff);
	CHECK_LINE(hosts->content, l1, true);
	CHECK_LINE(hosts->content, l2, true);
	CHECK_LINE(hosts->content, l3, true);
	CHECK_LINE(hosts->content, l4, false);
	CHECK_LINE(hosts->content, pod, true);
	/* The endpoint's own line first: it gives the address's PTR. */
	CHECK(strstr(hosts->content, l1) < strstr(hosts->content, l2));
	/* ClusterIP web; kube-dns itself. */
	CHECK_LINE(hosts->content, "10.96.0.10 kube-dns.kube-system.svc.cluster.local", true);
	CHECK(strstr(hosts->content, " web.default.svc.cluster.local\n") != NULL);
	/* ext: ready endpoints only, by hostname or dashed address. */
	CHECK_LINE(hosts->content, "192.0.2.7 seven.ext.default.svc.cluster.local", true);
	CHECK_LINE(hosts->content, "192.0.2.7 ext.default.svc.cluster.local", true);
	CHECK_LINE(hosts->content, "192.0.2.9 192-0-2-9.ext.default.svc.cluster.local", true);
	CHECK_LINE(hosts->content, "192.0.2.8 ext.default.svc.cluster.local", false);
	/* all publishes not-ready addresses. */
	CHECK_LINE(hosts->content, "192.0.2.8 all.default.svc.cluster.local", true);

	/* SRV: named ports only; ClusterIP to the Service, headless to each
	 * endpoint on its own port. */
	CHECK_LINE(conf->content,
		   "srv-host=_http._tcp.web.default.svc.cluster.local,web.default.svc.cluster.local,80,10,100", true);
	CHECK_LINE(conf->content, "srv-host=_q._udp.web.default.svc.cluster.local,web.default.svc.cluster.local,53,10,100",
		   true);
	CHECK_LINE(conf->content,
		   "srv-host=_pg._tcp.db.data.svc.cluster.local,db-0.db.data.svc.cluster.local,15432,10,100", true);
	CHECK_LINE(conf->content,
		   "srv-host=_pg._tcp.db.data.svc.cluster.local,db-1.db.data.svc.cluster.local,15432,10,100", true);
	/* No pod serves db's port metrics: no endpoint of it, no SRV. */
	CHECK(strstr(conf->content, "_metrics.") == NULL);
	CHECK_LINE(conf->content,
		   "srv-host=_h._tcp.ext.default.svc.cluster.local,192-0-2-9.ext.default.svc.cluster.local,8080,10,100",
		   true);
	CHECK(strstr(conf->content, "192-0-2-8.ext") == NULL);
	/* ExternalName away: a CNAME (without the root's dot), no A or SRV
	 * record, no rules in kube-proxy's table. */
	CHECK_LINE(conf->content, "cname=away.default.svc.cluster.local,db.example.org", true);
	CHECK(strstr(hosts->content, "away.") == NULL && strstr(conf->content, "_h._tcp.away") == NULL);
	for (const struct step *s = plan_next(&p, NULL, STEP_NFT); s; s = plan_next(&p, s, STEP_NFT))
		CHECK(strstr(s->u.nft.ruleset, "default/away") == NULL);
	/* Listening on the pod's address; nothing but the cluster's names. */
	autofree char *listen = xasprintf("listen-address=%s", ipv4_addr_format(dns->address, a));
	CHECK_LINE(conf->content, listen, true);
	CHECK_LINE(conf->content, "local=/cluster.local/", true);
	CHECK_LINE(conf->content, "no-resolv", true);
	CHECK_LINE(conf->content, "addn-hosts=/etc/dnsmasq.hosts", true);
	CHECK_LINE(conf->content, "txt-record=dns-version.cluster.local,\"1.0.1\"", true);
	plan_free(&p);
}

/* The DNS pod comes after every other pod of the first node: no user pod's
 * address moves when DNS is on; its Service is the range's tenth address,
 * with kube-dns's ports, selecting it; the saved plan keeps it all. */
TEST(dns_pod_and_service_take_no_user_address_and_survive_the_saved_plan)
{
	struct plan on, off;
	if (!build(DNS_LAB("'cluster': {'clusterDomain': 'k8s.test', 'serviceCIDR': '10.100.0.0/24'}, "), &on) ||
	    !build(DNS_LAB("'cluster': {'dns': false, 'serviceCIDR': '10.100.0.0/24'}, "), &off)) {
		CHECK(!"built");
		return;
	}
	CHECK(plan_find(&off, "coredns") == PLAN_NONE);
	CHECK_INT(off.dns_address, 0);
	for (size_t i = 0; i < off.n_machines; i++) {
		const struct plan_machine *m = machine(&on, off.machines[i].name);
		CHECK(m && m->address == off.machines[i].address);
		/* Without DNS, ClusterFirst is Default: no server named. */
		const struct plan_file *f = file_of(&off.machines[i], "/etc/resolv.conf");
		CHECK(off.machines[i].kind != MACHINE_POD || (f && !f->content[0]));
	}
	const struct plan_machine *dns = machine(&on, "coredns");
	CHECK(dns && strcmp(dns->namespace, "kube-system") == 0 && dns->parent == plan_find(&on, "node1"));
	for (size_t i = 0; dns && i < on.n_machines; i++)
		if (on.machines[i].kind == MACHINE_POD && on.machines[i].parent == dns->parent)
			CHECK(on.machines[i].address <= dns->address);
	CHECK_INT(on.dns_address, addr("10.100.0.10"));
	const struct plan_service *s = NULL;
	for (size_t i = 0; i < on.n_services; i++)
		if (strcmp(on.services[i].name, "kube-dns") == 0)
			s = &on.services[i];
	CHECK(s && strcmp(s->namespace, "kube-system") == 0 && s->cluster_ip == addr("10.100.0.10"));
	if (s && s->n_ports == 2 && s->n_endpoints == 1) {
		CHECK_STR(s->ports[0].name, "dns");
		CHECK_INT(s->ports[0].protocol, TB_PROTOCOL_UDP);
		CHECK_STR(s->ports[1].name, "dns-tcp");
		CHECK_INT(s->ports[1].protocol, TB_PROTOCOL_TCP);
		CHECK(dns && s->endpoints[0].machine == (size_t)(dns - on.machines));
	} else {
		CHECK(!"kube-dns has 2 ports and 1 endpoint");
	}
	const struct plan_file *r = file_of(machine(&on, "db-0"), "/etc/resolv.conf");
	CHECK(r && strcmp(r->content, "search data.svc.k8s.test svc.k8s.test k8s.test\nnameserver 10.100.0.10\n"
				      "options ndots:5\n") == 0);
	/* Saved and read back. */
	autofree char *text = plan_to_json(&on, true);
	struct plan back;
	struct tb_err e;
	CHECK_INT(plan_from_json(text, &back, &e), 0);
	autofree char *again = plan_to_json(&back, true);
	CHECK_STR(again, text);
	CHECK_STR(back.cluster_domain, "k8s.test");
	CHECK_INT(back.dns_address, addr("10.100.0.10"));
	CHECK(strstr(text, "\"hostname\":\t\"seven\"") != NULL);
	CHECK(strstr(text, "\"publishNotReadyAddresses\":\ttrue") != NULL);
	plan_free(&back);
	plan_free(&on);
	plan_free(&off);
}

/* DNS runs when the lab declares a Service, or when told; not otherwise. */
TEST(dns_runs_with_services_or_when_asked)
{
	static const struct {
		const char *lab;
		bool on;
	} cases[] = {
		{"{'name': 'd', " IMAGES ", 'nodes': [{'name': 'n1', 'pods': [{'name': 'a'}]}]}", false},
		{"{'name': 'd', " IMAGES ", 'cluster': {'dns': true}, 'nodes': [{'name': 'n1', 'pods': [{'name': 'a'}]}]}",
		 true},
		{"{'name': 'd', " IMAGES ", 'nodes': [{'name': 'n1'}], 'objects': [{'apiVersion': 'v1', 'kind': "
		 "'Service', 'metadata': {'name': 's'}, 'spec': {'ports': [{'port': 80}]}}]}",
		 true},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct plan p;
		if (!build(cases[i].lab, &p)) {
			CHECK(!"built");
			continue;
		}
		CHECK_INT(plan_find(&p, "coredns") != PLAN_NONE, cases[i].on);
		CHECK_INT(p.dns_address != 0, cases[i].on);
		const struct plan_file *f = file_of(machine(&p, "a"), "/etc/resolv.conf");
		CHECK(!machine(&p, "a") || (f && (f->content[0] != '\0') == cases[i].on));
		plan_free(&p);
	}
}

/* /etc/hosts as the kubelet manages it: only where it differs from up's
 * own (a hostname, a subdomain, host aliases); on the node's network, the
 * node's file and the aliases. */
TEST(dns_etc_hosts_follows_the_kubelet)
{
	char *names[] = {"legacy.example", "legacy"};
	struct tb_host_alias alias = {"192.0.2.10", names, 2};
	struct tb_pod plain = {.name = "web", .namespace = "shop", .address = addr("10.244.0.5")};
	struct tb_pod sts = plain, named = plain, aliased = plain, host = plain, host_aliased = plain;
	sts.name = "db-0";
	sts.hostname = "db-0";
	sts.subdomain = "db";
	named.hostname = "front";
	aliased.host_aliases = &alias;
	aliased.n_host_aliases = 1;
	host.host_network = true;
	host.hostname = "ignored";
	host.address = addr("10.10.0.2");
	host_aliased = host;
	host_aliased.host_aliases = &alias;
	host_aliased.n_host_aliases = 1;
	const char *head = "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
			   "fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n";
	autofree char *want_sts = xasprintf("%s10.244.0.5\tdb-0.db.shop.svc.cluster.local\tdb-0\n", head);
	autofree char *want_named = xasprintf("%s10.244.0.5\tfront\n", head);
	autofree char *want_aliased =
		xasprintf("%s10.244.0.5\tweb\n\n# Entries added by HostAliases.\n192.0.2.10\tlegacy.example\tlegacy\n", head);
	const struct {
		const struct tb_pod *pod;
		const char *want; /* NULL: up's own file stays */
	} cases[] = {
		{&plain, NULL},
		{&sts, want_sts},
		{&named, want_named},
		{&aliased, want_aliased},
		{&host, NULL},
		{&host_aliased, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10.10.0.2\tnode1\n\n"
				"# Entries added by HostAliases.\n192.0.2.10\tlegacy.example\tlegacy\n"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		autofree char *got = plan_dns_etc_hosts(cases[i].pod, "node1", "cluster.local");
		if (!cases[i].want)
			CHECK(got == NULL);
		else
			CHECK_STR(got, cases[i].want);
	}
}
