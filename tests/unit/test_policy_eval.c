/* The NetworkPolicy evaluator against the Kubernetes documentation's
 * examples and the API's rules: each test builds a small cluster of pods,
 * namespaces and policies by hand (the plan's data, plan/plan_policy.h)
 * and a table of connections with the verdict Kubernetes gives them. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "check/policy_eval.h"
#include "check/check.h"
#include "check/report.h"
#include "fixtures.h"
#include "util/diag.h"
#include "harness.h"
#include "model/selector.h"
#include "util/ipv4.h"
#include "util/util.h"

#define MAX 24

/* A cluster built by hand. Everything allocated is kept in POOL and freed
 * at the end, so that the tests own no plan code's free functions. */
struct world {
	struct plan_machine m[MAX];
	size_t nm;
	struct plan_namespace ns[MAX];
	size_t nns;
	struct plan_policy pol[MAX];
	size_t npol;
	struct label_selector sels[4 * MAX];
	size_t nsels;
	void *pool[16 * MAX];
	size_t npool;
};

static void *keep(struct world *w, void *p)
{
	if (w->npool == sizeof w->pool / sizeof *w->pool)
		abort();
	w->pool[w->npool++] = p;
	return p;
}

static char *kstr(struct world *w, const char *s)
{
	return keep(w, xstrdup(s));
}

static void world_free(struct world *w)
{
	for (size_t i = 0; i < w->nsels; i++)
		label_selector_free(&w->sels[i]);
	for (size_t i = 0; i < w->npool; i++)
		free(w->pool[i]);
}

static struct policy_world view(const struct world *w)
{
	return (struct policy_world){.machines = w->m, .n_machines = w->nm, .namespaces = w->ns,
				     .n_namespaces = w->nns, .policies = w->pol, .n_policies = w->npol};
}

/* "k=v,k2=v2" as labels. */
static struct tb_label *labels(struct world *w, const char *text, size_t *n)
{
	struct tb_label *l = keep(w, xcalloc(8, sizeof *l));
	*n = 0;
	char *copy = kstr(w, text), *save = NULL;
	for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		*eq = 0;
		l[*n].key = kv;
		l[*n].value = eq + 1;
		(*n)++;
	}
	return l;
}

static uint32_t addr(const char *s)
{
	uint32_t a = 0;
	if (!ipv4_addr_parse(s, &a))
		abort();
	return a;
}

static size_t machine(struct world *w, enum machine_kind kind, const char *name, const char *address)
{
	struct plan_machine *m = &w->m[w->nm];
	*m = (struct plan_machine){.kind = kind, .name = kstr(w, name), .parent = PLAN_NONE, .image = PLAN_NONE,
				   .address = address ? addr(address) : 0};
	return w->nm++;
}

/* A pod of NS on NODE; PORTS "name:80/TCP,dns:53/UDP" (name may be empty). */
static size_t pod(struct world *w, const char *ns, const char *name, size_t node, const char *address,
		  const char *lbls, const char *ports)
{
	char full[128];
	snprintf(full, sizeof full, "%s/%s", ns, name);
	size_t i = machine(w, MACHINE_POD, full, address);
	struct plan_machine *m = &w->m[i];
	m->namespace = kstr(w, ns);
	m->parent = node;
	m->labels = labels(w, lbls, &m->n_labels);
	m->ports = keep(w, xcalloc(8, sizeof *m->ports));
	char *copy = kstr(w, ports), *save = NULL;
	for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(p, ':'), *slash = strchr(p, '/');
		*colon = *slash = 0;
		struct tb_port *tp = &m->ports[m->n_ports++];
		tp->name = p;
		tp->port = atoi(colon + 1);
		if (!tb_protocol_parse(slash + 1, &tp->protocol))
			abort();
	}
	return i;
}

static void namespace(struct world *w, const char *name, const char *lbls)
{
	struct plan_namespace *n = &w->ns[w->nns++];
	n->name = kstr(w, name);
	char all[256];
	snprintf(all, sizeof all, "kubernetes.io/metadata.name=%s%s%s", name, *lbls ? "," : "", lbls);
	n->labels = labels(w, all, &n->n_labels);
}

/* kubectl's -l syntax, for brevity: matchLabels and matchExpressions are
 * the same requirements. */
static struct label_selector selector(struct world *w, const char *text)
{
	char *why = NULL;
	struct label_selector *s = &w->sels[w->nsels++];
	if (!label_selector_parse(text, s, &why))
		abort();
	return *s;
}

static struct plan_policy *policy(struct world *w, const char *ns, const char *name, const char *pod_selector,
				  bool ingress, bool egress)
{
	struct plan_policy *p = &w->pol[w->npol++];
	*p = (struct plan_policy){.namespace = kstr(w, ns), .name = kstr(w, name),
				  .pod_selector = selector(w, pod_selector), .ingress = ingress, .egress = egress};
	p->ingress_rules = keep(w, xcalloc(8, sizeof *p->ingress_rules));
	p->egress_rules = keep(w, xcalloc(8, sizeof *p->egress_rules));
	return p;
}

static struct plan_policy_rule *rule(struct world *w, struct plan_policy *p, bool ingress)
{
	struct plan_policy_rule *r = ingress ? &p->ingress_rules[p->n_ingress_rules++] : &p->egress_rules[p->n_egress_rules++];
	r->peers = keep(w, xcalloc(8, sizeof *r->peers));
	r->ports = keep(w, xcalloc(8, sizeof *r->ports));
	return r;
}

/* A pod peer: NULL leaves a selector out, "" is {}. */
static void peer_pods(struct world *w, struct plan_policy_rule *r, const char *pods, const char *namespaces)
{
	struct plan_policy_peer *p = &r->peers[r->n_peers++];
	*p = (struct plan_policy_peer){.kind = PLAN_PEER_PODS};
	if (pods) {
		p->has_pod_selector = true;
		p->pod_selector = selector(w, pods);
	}
	if (namespaces) {
		p->has_namespace_selector = true;
		p->namespace_selector = selector(w, namespaces);
	}
}

static struct ipv4_prefix prefix(const char *s)
{
	struct ipv4_prefix p;
	const char *why;
	if (!ipv4_prefix_parse(s, &p, &why))
		abort();
	return p;
}

/* An ipBlock: CIDR, then its excepts, NULL-terminated. */
static void peer_block(struct world *w, struct plan_policy_rule *r, const char *cidr, ...)
{
	struct plan_policy_peer *p = &r->peers[r->n_peers++];
	*p = (struct plan_policy_peer){.kind = PLAN_PEER_IP_BLOCK};
	p->cidr = prefix(cidr);
	p->except = keep(w, xcalloc(8, sizeof *p->except));
	va_list ap;
	va_start(ap, cidr);
	for (const char *e; (e = va_arg(ap, const char *));)
		p->except[p->n_except++] = prefix(e);
	va_end(ap);
}

static void port_num(struct plan_policy_rule *r, enum tb_protocol proto, uint16_t port, uint16_t end)
{
	r->ports[r->n_ports++] = (struct plan_policy_port){.protocol = proto, .port = port, .end_port = end};
}

static void port_named(struct world *w, struct plan_policy_rule *r, enum tb_protocol proto, const char *name)
{
	r->ports[r->n_ports++] = (struct plan_policy_port){.protocol = proto, .name = kstr(w, name)};
}

static void port_any(struct plan_policy_rule *r, enum tb_protocol proto)
{
	r->ports[r->n_ports++] = (struct plan_policy_port){.protocol = proto, .any_port = true};
}

#define TCP TB_PROTOCOL_TCP
#define UDP TB_PROTOCOL_UDP
#define SCTP TB_PROTOCOL_SCTP

struct row {
	const char *from, *to; /* machine names, or an address */
	uint16_t port;
	enum tb_protocol proto;
	bool allowed;
};

static struct policy_end end_of(const struct world *w, const char *name)
{
	for (size_t i = 0; i < w->nm; i++)
		if (strcmp(w->m[i].name, name) == 0)
			return (struct policy_end){.machine = i};
	return (struct policy_end){.machine = PLAN_NONE, .address = addr(name)};
}

static char *explained(const struct world *w, const struct policy_verdict *v)
{
	struct policy_world pw = view(w);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	policy_verdict_explain(f, &pw, v, "  ");
	fclose(f);
	return text;
}

static void table(const char *file, int line, const struct world *w, const struct row *rows, size_t n)
{
	struct policy_world pw = view(w);
	for (size_t i = 0; i < n; i++) {
		struct policy_verdict v;
		policy_eval(&pw, end_of(w, rows[i].from), end_of(w, rows[i].to), rows[i].port, rows[i].proto, &v);
		if (v.allowed != rows[i].allowed) {
			char *why = explained(w, &v);
			harness_fail(file, line, "row %zu: %s -> %s %u/%s: %s, want %s\n%s", i, rows[i].from, rows[i].to,
				     rows[i].port, tb_protocol_name(rows[i].proto), v.allowed ? "allowed" : "denied",
				     rows[i].allowed ? "allowed" : "denied", why);
			free(why);
		}
		policy_verdict_free(&v);
	}
}
#define TABLE(w, rows) table(__FILE__, __LINE__, w, rows, sizeof rows / sizeof *rows)

/* Two nodes, namespaces default (no labels), myproject (project=myproject)
 * and other, a few pods and three machines outside. */
static void cluster(struct world *w)
{
	*w = (struct world){0};
	size_t n1 = machine(w, MACHINE_NODE, "node1", "192.168.0.11");
	size_t n2 = machine(w, MACHINE_NODE, "node2", "192.168.0.12");
	namespace(w, "default", "");
	namespace(w, "myproject", "project=myproject");
	namespace(w, "other", "");
	pod(w, "default", "db", n1, "10.244.1.10", "role=db", "redis:6379/TCP");
	pod(w, "default", "frontend", n1, "10.244.1.11", "role=frontend", "http:80/TCP");
	pod(w, "default", "misc", n2, "10.244.2.12", "role=misc", "http:80/TCP");
	pod(w, "myproject", "client", n2, "10.244.2.20", "app=client", "http:80/TCP");
	pod(w, "other", "client", n2, "10.244.2.21", "app=client", "http:80/TCP");
	machine(w, MACHINE_EXTERNAL, "inside", "172.17.0.5");
	machine(w, MACHINE_EXTERNAL, "excepted", "172.17.1.5");
	machine(w, MACHINE_EXTERNAL, "backend", "10.0.0.5");
}

TEST(policy_eval_the_documentations_test_network_policy)
{
	struct world w;
	cluster(&w);
	struct plan_policy *p = policy(&w, "default", "test-network-policy", "role=db", true, true);
	struct plan_policy_rule *in = rule(&w, p, true);
	peer_block(&w, in, "172.17.0.0/16", "172.17.1.0/24", NULL);
	peer_pods(&w, in, NULL, "project=myproject");
	peer_pods(&w, in, "role=frontend", NULL);
	port_num(in, TCP, 6379, 0);
	struct plan_policy_rule *out = rule(&w, p, false);
	peer_block(&w, out, "10.0.0.0/24", NULL);
	port_num(out, TCP, 5978, 0);
	static const struct row rows[] = {
		{"default/frontend", "default/db", 6379, TCP, true},
		{"default/frontend", "default/db", 6380, TCP, false},
		{"default/frontend", "default/db", 6379, UDP, false},
		{"default/misc", "default/db", 6379, TCP, false},
		{"myproject/client", "default/db", 6379, TCP, true},
		{"other/client", "default/db", 6379, TCP, false},
		{"inside", "default/db", 6379, TCP, true},
		{"excepted", "default/db", 6379, TCP, false},
		{"backend", "default/db", 6379, TCP, false},
		{"default/db", "backend", 5978, TCP, true},
		{"default/db", "backend", 5979, TCP, false},
		{"default/db", "10.0.0.200", 5978, TCP, true},
		{"default/db", "10.0.1.1", 5978, TCP, false},
		/* db is isolated for egress: even a pod of its own namespace. */
		{"default/db", "default/frontend", 80, TCP, false},
		/* Pods no policy selects are open both ways. */
		{"default/frontend", "default/misc", 80, TCP, true},
		{"other/client", "default/frontend", 80, TCP, true},
		{"default/frontend", "backend", 443, TCP, true},
	};
	TABLE(&w, rows);
	world_free(&w);
}

/* matchExpressions as the API reference defines them: NotIn and
 * DoesNotExist also match objects without the key, In and Exists never. */
TEST(policy_eval_match_expressions_notin_and_doesnotexist_match_what_lacks_the_key)
{
	struct world w;
	cluster(&w);
	pod(&w, "default", "bare", 1, "10.244.2.40", "tier=x", "http:80/TCP");
	struct plan_policy *notin = policy(&w, "default", "notin", "role=db", true, false);
	peer_pods(&w, rule(&w, notin, true), "role notin (frontend,misc)", NULL);
	struct plan_policy *absent = policy(&w, "default", "absent", "role=frontend", true, false);
	peer_pods(&w, rule(&w, absent, true), "", "!project");
	struct plan_policy *in = policy(&w, "default", "in", "role=misc", true, false);
	peer_pods(&w, rule(&w, in, true), "role in (frontend,db)", NULL);
	struct plan_policy *exists = policy(&w, "default", "exists", "tier=x", true, false);
	peer_pods(&w, rule(&w, exists, true), "", "project");
	static const struct row rows[] = {
		/* NotIn: db's peers are pods of default whose role is neither, the bare one included. */
		{"default/bare", "default/db", 6379, TCP, true},
		{"default/frontend", "default/db", 6379, TCP, false},
		{"default/misc", "default/db", 6379, TCP, false},
		{"myproject/client", "default/db", 6379, TCP, false},
		/* DoesNotExist on namespaces: default and other have no project label. */
		{"other/client", "default/frontend", 80, TCP, true},
		{"default/misc", "default/frontend", 80, TCP, true},
		{"myproject/client", "default/frontend", 80, TCP, false},
		/* In: a pod without the key never matches. */
		{"default/db", "default/misc", 80, TCP, true},
		{"default/bare", "default/misc", 80, TCP, false},
		/* Exists on namespaces: only myproject carries project. */
		{"myproject/client", "default/bare", 80, TCP, true},
		{"other/client", "default/bare", 80, TCP, false},
	};
	TABLE(&w, rows);
	world_free(&w);
}

TEST(policy_eval_default_deny_and_allow_all_per_direction)
{
	struct world w;
	cluster(&w);
	/* default-deny-ingress in default: podSelector {}, ingress: [] */
	policy(&w, "default", "default-deny-ingress", "", true, false);
	/* allow-all-ingress in myproject: ingress: [{}] */
	struct plan_policy *all = policy(&w, "myproject", "allow-all-ingress", "", true, false);
	rule(&w, all, true);
	/* default-deny-egress in other: policyTypes [Egress], no rules */
	policy(&w, "other", "default-deny-egress", "", false, true);
	static const struct row rows[] = {
		{"myproject/client", "default/db", 6379, TCP, false},
		{"default/frontend", "default/db", 6379, TCP, false},
		{"inside", "default/misc", 80, TCP, false},
		{"default/db", "myproject/client", 80, TCP, true},
		{"inside", "myproject/client", 80, UDP, true},
		{"other/client", "myproject/client", 80, TCP, false},
		{"other/client", "backend", 80, TCP, false},
		{"myproject/client", "other/client", 80, TCP, true},
		/* default's pods are not isolated for egress. */
		{"default/db", "backend", 80, TCP, true},
	};
	TABLE(&w, rows);
	world_free(&w);

	cluster(&w);
	/* allow-all-egress beside a default deny of both directions: egress
	 * open, ingress shut. */
	policy(&w, "default", "default-deny-all", "", true, true);
	struct plan_policy *eg = policy(&w, "default", "allow-all-egress", "", false, true);
	rule(&w, eg, false);
	static const struct row rows2[] = {
		{"default/db", "backend", 80, TCP, true},
		{"default/db", "other/client", 80, UDP, true},
		{"default/db", "default/frontend", 80, TCP, false},
		{"other/client", "default/db", 6379, TCP, false},
	};
	TABLE(&w, rows2);
	world_free(&w);
}

TEST(policy_eval_one_peer_with_both_selectors_is_and_two_peers_are_or)
{
	struct world w;
	cluster(&w);
	namespace(&w, "alice", "user=alice");
	pod(&w, "alice", "client", 1, "10.244.2.30", "role=client", "");
	pod(&w, "alice", "misc", 1, "10.244.2.31", "role=misc", "");
	pod(&w, "default", "client", 0, "10.244.1.32", "role=client", "");
	/* - namespaceSelector: {user: alice}
	 *   podSelector: {role: client} */
	struct plan_policy *and = policy(&w, "default", "and", "role=db", true, false);
	peer_pods(&w, rule(&w, and, true), "role=client", "user=alice");
	static const struct row rows[] = {
		{"alice/client", "default/db", 6379, TCP, true},
		{"alice/misc", "default/db", 6379, TCP, false},
		{"default/client", "default/db", 6379, TCP, false},
		{"myproject/client", "default/db", 6379, TCP, false},
	};
	TABLE(&w, rows);
	/* - namespaceSelector: {user: alice}
	 * - podSelector: {role: client}      (of the policy's namespace) */
	struct plan_policy_rule *r = &and->ingress_rules[0];
	r->n_peers = 0;
	peer_pods(&w, r, NULL, "user=alice");
	peer_pods(&w, r, "role=client", NULL);
	static const struct row rows2[] = {
		{"alice/client", "default/db", 6379, TCP, true},
		{"alice/misc", "default/db", 6379, TCP, true},
		{"default/client", "default/db", 6379, TCP, true},
		{"default/frontend", "default/db", 6379, TCP, false},
		{"myproject/client", "default/db", 6379, TCP, false},
	};
	TABLE(&w, rows2);
	/* namespaceSelector {} alone: every pod of every namespace, but no
	 * address outside (only ipBlock matches those). */
	r->n_peers = 0;
	peer_pods(&w, r, NULL, "");
	static const struct row rows3[] = {
		{"alice/misc", "default/db", 6379, TCP, true},
		{"other/client", "default/db", 6379, TCP, true},
		{"inside", "default/db", 6379, TCP, false},
		{"node2", "default/db", 6379, TCP, false},
	};
	TABLE(&w, rows3);
	/* A namespaceSelector on the API server's own label. */
	r->n_peers = 0;
	peer_pods(&w, r, NULL, "kubernetes.io/metadata.name in (other)");
	static const struct row rows4[] = {
		{"other/client", "default/db", 6379, TCP, true},
		{"myproject/client", "default/db", 6379, TCP, false},
	};
	TABLE(&w, rows4);
	world_free(&w);
}

TEST(policy_eval_port_ranges_protocols_and_named_ports)
{
	struct world w;
	cluster(&w);
	/* egress to 10.0.0.0/24 on TCP 32000-32768 (endPort) */
	struct plan_policy *p = policy(&w, "default", "multi-port-egress", "role=db", false, true);
	struct plan_policy_rule *r = rule(&w, p, false);
	peer_block(&w, r, "10.0.0.0/24", NULL);
	port_num(r, TCP, 32000, 32768);
	/* every UDP port anywhere: a port entry with only a protocol */
	port_any(rule(&w, p, false), UDP);
	static const struct row rows[] = {
		{"default/db", "backend", 32000, TCP, true},
		{"default/db", "backend", 32768, TCP, true},
		{"default/db", "backend", 32500, TCP, true},
		{"default/db", "backend", 31999, TCP, false},
		{"default/db", "backend", 32769, TCP, false},
		{"default/db", "backend", 32000, SCTP, false},
		{"default/db", "backend", 53, UDP, true},
		{"default/db", "default/frontend", 9999, UDP, true},
		{"default/db", "default/frontend", 80, TCP, false},
	};
	TABLE(&w, rows);
	world_free(&w);

	/* A named port is each destination pod's own: web is 80 on a, 8080 on b. */
	cluster(&w);
	pod(&w, "default", "a", 0, "10.244.1.40", "app=web", "web:80/TCP,dns:53/UDP");
	pod(&w, "default", "b", 1, "10.244.2.41", "app=web", "web:8080/TCP");
	struct plan_policy *in = policy(&w, "default", "web-by-name", "app=web", true, false);
	struct plan_policy_rule *ir = rule(&w, in, true);
	port_named(&w, ir, TCP, "web");
	port_named(&w, ir, TCP, "dns"); /* a's dns is UDP: no TCP port of that name */
	struct plan_policy *out = policy(&w, "default", "to-web-by-name", "role=frontend", false, true);
	struct plan_policy_rule *orl = rule(&w, out, false);
	peer_block(&w, orl, "0.0.0.0/0", NULL);
	port_named(&w, orl, TCP, "web");
	static const struct row rows2[] = {
		{"default/misc", "default/a", 80, TCP, true},
		{"default/misc", "default/a", 8080, TCP, false},
		{"default/misc", "default/b", 8080, TCP, true},
		{"default/misc", "default/b", 80, TCP, false},
		{"default/misc", "default/a", 53, TCP, false},
		{"default/misc", "default/a", 53, UDP, false},
		/* egress: the name is resolved against the destination */
		{"default/frontend", "default/a", 80, TCP, true},
		{"default/frontend", "default/b", 8080, TCP, true},
		{"default/frontend", "default/b", 80, TCP, false},
		/* frontend's own port http:80 is no destination's "web" */
		{"default/frontend", "default/misc", 80, TCP, false},
		/* an address outside has no named ports */
		{"default/frontend", "backend", 80, TCP, false},
	};
	TABLE(&w, rows2);
	world_free(&w);
}

TEST(policy_eval_host_network_pods_and_nodes)
{
	struct world w;
	cluster(&w);
	size_t hn = pod(&w, "default", "hostnet", 1, "192.168.0.12", "role=db", "http:80/TCP");
	w.m[hn].host_network = true;
	/* Every pod of default shut for ingress, save from pods of default. */
	struct plan_policy *p = policy(&w, "default", "from-default-pods", "", true, false);
	peer_pods(&w, rule(&w, p, true), "", NULL);
	static const struct row rows[] = {
		/* a hostNetwork pod is never selected */
		{"other/client", "default/hostnet", 80, TCP, true},
		{"inside", "default/hostnet", 80, TCP, true},
		/* from a hostNetwork pod: the node's address, which no podSelector matches */
		{"default/hostnet", "default/db", 6379, TCP, false},
		{"node2", "default/db", 6379, TCP, false},
		{"default/frontend", "default/db", 6379, TCP, true},
		/* a pod's own node, and a hostNetwork pod on it, always reach it */
		{"default/hostnet", "default/misc", 80, TCP, true},
		{"node2", "default/misc", 80, TCP, true},
		{"192.168.0.12", "default/misc", 80, TCP, true},
		/* pods of other namespaces: no */
		{"other/client", "default/db", 6379, TCP, false},
	};
	TABLE(&w, rows);
	/* ipBlock is what matches nodes: node2's address. */
	peer_block(&w, &p->ingress_rules[0], "192.168.0.12/32", NULL);
	static const struct row rows2[] = {
		{"default/hostnet", "default/db", 6379, TCP, true},
		{"node2", "default/db", 6379, TCP, true},
		{"node1", "default/misc", 80, TCP, false},
	};
	TABLE(&w, rows2);
	world_free(&w);

	cluster(&w);
	policy(&w, "default", "deny-all", "", true, true);
	static const struct row rows3[] = {
		{"default/db", "default/db", 6379, TCP, true},
		{"default/db", "default/frontend", 80, TCP, false},
		{"default/db", "node1", 10250, TCP, true},
		{"default/db", "node2", 10250, TCP, false},
	};
	TABLE(&w, rows3);
	world_free(&w);
}

/* NodePort traffic kube-proxy masquerades on the endpoint's own node
 * arrives from that node's cbr0 address. It is the client's traffic, not
 * the node's own (which never crosses the forward hook the rules sit on):
 * judged as that address, by ipBlock alone, as plan/netpol_nft.c's
 * ingress-NS/NAME/masqueraded chain judges it; the node's own address
 * stays exempt. The NetworkPolicy documentation leaves open whether
 * ipBlock sees a source before or after such rewriting; the builder and
 * the evaluator must say the same. */
TEST(policy_eval_masqueraded_nodeport_traffic_is_judged_by_its_address)
{
	struct world w;
	cluster(&w);
	/* node2's pods are in 10.244.2.0/24: cbr0 holds 10.244.2.1. */
	struct plan_policy *p = policy(&w, "default", "from-outside", "role=misc", true, false);
	peer_block(&w, rule(&w, p, true), "172.17.0.0/16", NULL);
	static const struct row rows[] = {
		{"10.244.2.1", "default/misc", 80, TCP, false},
		{"inside", "default/misc", 80, TCP, true},
		/* the node itself, by machine or by its own address */
		{"node2", "default/misc", 80, TCP, true},
		{"192.168.0.12", "default/misc", 80, TCP, true},
	};
	TABLE(&w, rows);
	/* An ipBlock holding cbr0's address lets masqueraded traffic in. */
	peer_block(&w, &p->ingress_rules[0], "10.244.2.1/32", NULL);
	static const struct row rows2[] = {
		{"10.244.2.1", "default/misc", 80, TCP, true},
		{"10.244.1.1", "default/misc", 80, TCP, false},
	};
	TABLE(&w, rows2);
	world_free(&w);
}

TEST(policy_eval_ip_blocks_match_pod_addresses_too)
{
	struct world w;
	cluster(&w);
	/* As the upstream e2e tests expect: an ipBlock of pod addresses. */
	struct plan_policy *p = policy(&w, "default", "from-node1-pods", "role=db", true, false);
	peer_block(&w, rule(&w, p, true), "10.244.0.0/16", "10.244.2.0/24", NULL);
	static const struct row rows[] = {
		{"default/frontend", "default/db", 6379, TCP, true},
		{"default/misc", "default/db", 6379, TCP, false},
		{"other/client", "default/db", 6379, TCP, false},
		{"inside", "default/db", 6379, TCP, false},
	};
	TABLE(&w, rows);
	world_free(&w);
}

TEST(policy_eval_policy_types_decide_isolation_not_the_rules)
{
	struct world w;
	cluster(&w);
	/* policyTypes [Ingress, Egress] with egress rules only: ingress is shut. */
	struct plan_policy *p = policy(&w, "default", "egress-only-rules", "role=db", true, true);
	rule(&w, p, false);
	/* policyTypes [Egress] although an ingress section is written: that
	 * section does nothing and misc is not isolated for ingress. */
	struct plan_policy *q = policy(&w, "default", "egress-type", "role=misc", false, true);
	peer_pods(&w, rule(&w, q, true), "role=nobody", NULL);
	/* Defaulted policyTypes with no egress section: [Ingress] alone. */
	struct plan_policy *d = policy(&w, "default", "ingress-default", "role=frontend", true, false);
	peer_pods(&w, rule(&w, d, true), "role=db", NULL);
	static const struct row rows[] = {
		{"default/frontend", "default/db", 6379, TCP, false},
		{"default/db", "backend", 80, TCP, true},
		{"default/frontend", "default/misc", 80, TCP, true},
		{"default/misc", "backend", 80, TCP, false},
		{"default/db", "default/frontend", 80, TCP, true},
		{"default/misc", "default/frontend", 80, TCP, false},
		{"default/frontend", "backend", 80, TCP, true},
	};
	TABLE(&w, rows);
	world_free(&w);
}

TEST(policy_eval_policies_add_up)
{
	struct world w;
	cluster(&w);
	struct plan_policy *a = policy(&w, "default", "frontend-redis", "role=db", true, false);
	struct plan_policy_rule *ra = rule(&w, a, true);
	peer_pods(&w, ra, "role=frontend", NULL);
	port_num(ra, TCP, 6379, 0);
	struct plan_policy *b = policy(&w, "default", "misc-postgres", "", true, false);
	struct plan_policy_rule *rb = rule(&w, b, true);
	peer_pods(&w, rb, "role=misc", NULL);
	port_num(rb, TCP, 5432, 0);
	static const struct row rows[] = {
		{"default/frontend", "default/db", 6379, TCP, true},
		{"default/misc", "default/db", 5432, TCP, true},
		{"default/frontend", "default/db", 5432, TCP, false},
		{"default/misc", "default/db", 6379, TCP, false},
		/* b alone selects frontend */
		{"default/misc", "default/frontend", 5432, TCP, true},
		{"default/db", "default/frontend", 6379, TCP, false},
	};
	TABLE(&w, rows);
	/* A third that allows everything to db: the union is everything. */
	rule(&w, policy(&w, "default", "db-open", "role=db", true, false), true);
	static const struct row rows2[] = {
		{"default/misc", "default/db", 6379, TCP, true},
		{"inside", "default/db", 1, UDP, true},
		{"default/db", "default/frontend", 6379, TCP, false},
	};
	TABLE(&w, rows2);
	world_free(&w);
}

TEST(policy_eval_a_connection_needs_egress_and_ingress)
{
	struct world w;
	cluster(&w);
	namespace(&w, "a", "team=a");
	namespace(&w, "b", "team=b");
	pod(&w, "a", "client", 0, "10.244.1.50", "app=client", "");
	pod(&w, "a", "shut", 0, "10.244.1.51", "app=shut", "");
	pod(&w, "b", "server", 1, "10.244.2.50", "app=server", "http:80/TCP");
	struct plan_policy *out = policy(&w, "a", "client-to-b", "app=client", false, true);
	peer_pods(&w, rule(&w, out, false), NULL, "team=b");
	policy(&w, "a", "shut-egress", "app=shut", false, true);
	struct plan_policy *in = policy(&w, "b", "server-from-a", "app=server", true, false);
	struct plan_policy_rule *r = rule(&w, in, true);
	peer_pods(&w, r, "", "team=a");
	port_num(r, TCP, 80, 0);
	static const struct row rows[] = {
		{"a/client", "b/server", 80, TCP, true},
		{"a/client", "b/server", 81, TCP, false},
		/* ingress allows, the source's egress does not */
		{"a/shut", "b/server", 80, TCP, false},
		/* egress allows, the destination's ingress does not */
		{"a/client", "b/server", 80, UDP, false},
		{"default/frontend", "b/server", 80, TCP, false},
		/* client's egress reaches only namespace b */
		{"a/client", "default/frontend", 80, TCP, false},
	};
	TABLE(&w, rows);
	world_free(&w);
}

TEST(policy_eval_explains_which_policy_and_rule)
{
	struct world w;
	cluster(&w);
	struct plan_policy *p = policy(&w, "default", "test-network-policy", "role=db", true, true);
	p->where = kstr(&w, "np.yaml:1");
	struct plan_policy_rule *in = rule(&w, p, true);
	peer_block(&w, in, "172.17.0.0/16", "172.17.1.0/24", NULL);
	peer_pods(&w, in, "role=frontend", NULL);
	port_num(in, TCP, 6379, 0);
	struct policy_world pw = view(&w);
	struct policy_verdict v;
	policy_eval(&pw, end_of(&w, "default/frontend"), end_of(&w, "default/db"), 6379, TCP, &v);
	CHECK(v.allowed);
	CHECK_INT(v.ingress.n_allowed_by, 1);
	CHECK_INT(v.ingress.allowed_by[0].rule, 0);
	CHECK_INT(v.ingress.allowed_by[0].peer, 1);
	CHECK_INT(v.ingress.allowed_by[0].port, 0);
	char *text = explained(&w, &v);
	CHECK_STR(text, "  egress of default/frontend: allowed (no policy selects it for Egress)\n"
			"  ingress of default/db: allowed; isolated by default/test-network-policy (np.yaml:1)\n"
			"    allowed by default/test-network-policy ingress[0]: from[1] podSelector, ports[0] TCP 6379\n");
	free(text);
	policy_verdict_free(&v);

	policy_eval(&pw, end_of(&w, "excepted"), end_of(&w, "default/db"), 6379, TCP, &v);
	CHECK(!v.allowed);
	text = explained(&w, &v);
	CHECK_STR(text, "  egress of excepted: allowed (not a pod policies select)\n"
			"  ingress of default/db: DENIED; isolated by default/test-network-policy (np.yaml:1)\n"
			"    no rule of those policies matches this peer and port\n");
	free(text);
	policy_verdict_free(&v);

	policy_eval(&pw, end_of(&w, "default/db"), end_of(&w, "backend"), 80, TCP, &v);
	CHECK(!v.allowed);
	CHECK(v.egress.isolated && !v.egress.allowed && v.egress.n_isolating == 1);
	CHECK(!v.ingress.isolated);
	policy_verdict_free(&v);
	world_free(&w);
}

/* From objects as users write them, through the model and the compiler:
 * the plan's policies and namespaces are what the evaluator reads. */
static char *quoted(const char *text)
{
	char *s = xstrdup(text);
	for (char *c = s; *c; c++)
		if (*c == '\'')
			*c = '"';
	return s;
}

#define POD(ns, name, node, labels, ports)                                                                         \
	"{'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {'name': '" name "', 'namespace': '" ns "', 'labels': "    \
	labels "}, 'spec': {'nodeName': '" node "', 'containers': [{'name': 'c', 'image': 'x', 'ports': " ports "}]}}"

#define NP_LAB \
		"{'name': 'np', 'images': {'pod': 'img.tar', 'node': 'img.tar'}, " \
		"'nodes': [{'name': 'node1'}, {'name': 'node2'}], 'objects': [" \
		"{'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'myproject', 'labels': {'project': 'myproject'}}}, " \
		"{'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'other'}}, " \
		POD("default", "db", "node1", "{'role': 'db'}", "[{'name': 'redis', 'containerPort': 6379}]") ", " \
		POD("default", "frontend", "node2", "{'role': 'frontend'}", "[{'name': 'http', 'containerPort': 80}]") ", " \
		POD("myproject", "client", "node2", "{'app': 'client'}", "[{'name': 'http', 'containerPort': 80}]") ", " \
		POD("other", "client", "node2", "{'app': 'client'}", "[{'name': 'http', 'containerPort': 80}]") ", " \
		"{'apiVersion': 'networking.k8s.io/v1', 'kind': 'NetworkPolicy', 'metadata': {'name': 'test-network-policy', " \
		"'namespace': 'default'}, 'spec': {'podSelector': {'matchLabels': {'role': 'db'}}, " \
		"'ingress': [{'from': [{'namespaceSelector': {'matchExpressions': [{'key': 'project', 'operator': 'In', " \
		"'values': ['myproject']}]}}, {'podSelector': {'matchLabels': {'role': 'frontend'}}}], " \
		"'ports': [{'protocol': 'TCP', 'port': 'redis'}]}], " \
		"'egress': [{'to': [{'ipBlock': {'cidr': '10.0.0.0/24'}}], 'ports': [{'port': 5978}]}]}}" \
		"]}"

TEST(policy_eval_reads_the_compiled_plan)
{
	autofree char *json = quoted(NP_LAB);
	struct plan p = {0};
	if (!fixture_plan(json, &p)) {
		harness_fail(__FILE__, __LINE__, "the lab does not compile");
		return;
	}
	struct policy_world w;
	policy_world_of(&p, &w);
	CHECK_INT(w.n_policies, 1);
	const struct {
		const char *from, *to;
		uint16_t port;
		bool allowed;
	} rows[] = {
		{"frontend", "db", 6379, true},   {"myproject/client", "db", 6379, true},
		{"other/client", "db", 6379, false}, {"frontend", "db", 80, false},
		/* defaulted policyTypes: egress given, so Egress too */
		{"db", "frontend", 80, false},    {"frontend", "myproject/client", 80, true},
	};
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		struct policy_end src = {.machine = plan_find(&p, rows[i].from)}, dst = {.machine = plan_find(&p, rows[i].to)};
		CHECK(src.machine != PLAN_NONE && dst.machine != PLAN_NONE);
		if (src.machine == PLAN_NONE || dst.machine == PLAN_NONE)
			continue;
		struct policy_verdict v;
		policy_eval(&w, src, dst, rows[i].port, TCP, &v);
		if (v.allowed != rows[i].allowed)
			harness_fail(__FILE__, __LINE__, "%s -> %s %u: %d, want %d", rows[i].from, rows[i].to, rows[i].port,
				     v.allowed, rows[i].allowed);
		policy_verdict_free(&v);
	}
	plan_free(&p);
}

/* The probe of RUN from FROM to TO on PORT over PROTO, or NULL. */
static const struct check_probe *probe_of(const struct check_run *run, const char *from, const char *to, uint16_t port,
					  enum tb_proto proto)
{
	for (size_t i = 0; i < run->n_probes; i++) {
		const struct check_probe *p = &run->probes[i];
		const struct check_target *t = check_target_of(run, p);
		if (strcmp(run->machines[p->from].name, from) == 0 && strcmp(check_end_name(run, t->end), to) == 0 &&
		    t->port == port && t->proto == proto)
			return p;
	}
	return NULL;
}

TEST(policy_eval_derives_the_checks_truth_table)
{
	autofree char *json = quoted(NP_LAB);
	struct plan p = {0};
	if (!fixture_plan(json, &p)) {
		harness_fail(__FILE__, __LINE__, "the lab does not compile");
		return;
	}
	CHECK(!p.has_expect);
	struct check_run run;
	struct diag d;
	diag_init(&d, "t.json");
	CHECK(check_compile(&p, &run, &d));
	diag_free(&d);
	const struct {
		const char *from, *to;
		uint16_t port;
		enum tb_proto proto;
		int want; /* 1 pass, 0 fail, -1 no probe */
	} cells[] = {
		{"frontend", "db", 6379, TB_PROTO_HTTP, 1},
		{"myproject/client", "db", 6379, TB_PROTO_HTTP, 1},
		{"other/client", "db", 6379, TB_PROTO_HTTP, 0},
		/* db is isolated for egress (to 10.0.0.0/24 on 5978 only) */
		{"db", "frontend", 80, TB_PROTO_HTTP, 0},
		{"db", "myproject/client", 80, TB_PROTO_HTTP, 0},
		{"frontend", "myproject/client", 80, TB_PROTO_HTTP, 1},
		{"other/client", "frontend", 80, TB_PROTO_HTTP, 1},
		/* ping only where no policy isolates either end */
		{"frontend", "db", 0, TB_PROTO_PING, -1},
		{"db", "frontend", 0, TB_PROTO_PING, -1},
		{"frontend", "myproject/client", 0, TB_PROTO_PING, 1},
	};
	for (size_t i = 0; i < sizeof cells / sizeof *cells; i++) {
		const struct check_probe *pr = probe_of(&run, cells[i].from, cells[i].to, cells[i].port, cells[i].proto);
		int got = pr ? pr->expect_pass : -1;
		if (got != cells[i].want)
			harness_fail(__FILE__, __LINE__, "%s -> %s %s:%u: %d, want %d", cells[i].from, cells[i].to,
				     tb_proto_name(cells[i].proto), cells[i].port, got, cells[i].want);
	}
	/* An allowed pod-server cell still asks for the source's own address. */
	const struct check_probe *pr = probe_of(&run, "frontend", "db", 6379, TB_PROTO_HTTP);
	CHECK(pr && pr->client_ip == TB_CLIENT_IP_PRESERVED);
	/* A cell that disagrees names the policies: other/client reached db. */
	struct check_probe *bad = (struct check_probe *)probe_of(&run, "other/client", "db", 6379, TB_PROTO_HTTP);
	struct check_probe *good = (struct check_probe *)probe_of(&run, "frontend", "db", 6379, TB_PROTO_HTTP);
	if (bad && good) {
		bad->outcome = PROBE_PASS;
		good->outcome = PROBE_PASS;
		CHECK(!check_probe_ok(bad));
		check_policy_notes(&run);
		struct check_view v;
		check_view(&run, (size_t)(bad - run.probes), &v);
		CHECK_STR(v.path_note, "NetworkPolicies: denied\n"
				       "  egress of other/client: allowed (no policy selects it for Egress)\n"
				       "  ingress of db: DENIED; isolated by default/test-network-policy (topology:1)\n"
				       "    no rule of those policies matches this peer and port");
		check_view(&run, (size_t)(good - run.probes), &v);
		CHECK(v.path_note == NULL);
	}
	/* The report: a truth table per port and protocol, expected denials
	 * marked x apart from ., the disagreeing cell P. */
	for (size_t i = 0; i < run.n_probes; i++) {
		struct check_probe *q = &run.probes[i];
		if (q == bad)
			continue;
		q->outcome = q->expect_pass ? PROBE_PASS : PROBE_FAIL;
		q->failed = q->expect_pass ? CHECK_FAILED_NOT : CHECK_FAILED_TIMEOUT;
	}
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct report_style style = {0};
	report_write(f, REPORT_TEXT, &run, &style);
	fclose(f);
	const char *want6379 = "\nhttp:6379         db\n"
			       "frontend          .\n"
			       "myproject/client  .\n"
			       "other/client      P\n";
	if (!strstr(text, want6379))
		harness_fail(__FILE__, __LINE__, "no http:6379 table as wanted in:\n%s", text);
	/* db may reach the internet only at 10.0.0.0/24 on 5978 */
	CHECK(strstr(text, "\nhttp:8000         internet\ndb                x\n") != NULL);
	CHECK(strstr(text, "  other/client -> db http:6379: expected fail, got pass") != NULL);
	CHECK(strstr(text, "        no rule of those policies matches this peer and port\n") != NULL);
	CHECK(strstr(text, "\nhttp:80 ") != NULL);
	CHECK(strstr(text, "\nhttp ") == NULL);
	free(text);
	check_run_free(&run);
	plan_free(&p);
}

/* What RUN's report in format F says, every probe as its expectation
 * says (OTHER excepted: it passed where it should not). */
static char *report_of(struct check_run *run, enum report_format f)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	struct report_style style = {0};
	report_write(out, f, run, &style);
	fclose(out);
	return text;
}

TEST(policy_reports_mark_expected_denials_apart_in_every_format)
{
	autofree char *json = quoted(NP_LAB);
	struct plan p = {0};
	if (!fixture_plan(json, &p)) {
		harness_fail(__FILE__, __LINE__, "the lab does not compile");
		return;
	}
	struct check_run run;
	struct diag d;
	diag_init(&d, "t.json");
	CHECK(check_compile(&p, &run, &d));
	diag_free(&d);
	struct check_probe *bad = (struct check_probe *)probe_of(&run, "other/client", "db", 6379, TB_PROTO_HTTP);
	for (size_t i = 0; i < run.n_probes; i++) {
		struct check_probe *q = &run.probes[i];
		q->outcome = q->expect_pass != (q == bad) ? PROBE_PASS : PROBE_FAIL;
		q->failed = q->outcome == PROBE_PASS ? CHECK_FAILED_NOT : CHECK_FAILED_TIMEOUT;
		q->attempts = 1;
	}
	/* json: the text report's tables, per port and protocol, each cell
	 * named; rows are sources, columns targets, in the topology's order. */
	char *text = report_of(&run, REPORT_JSON);
	cJSON *root = cJSON_Parse(text);
	CHECK(root != NULL);
	cJSON *tables = cJSON_GetObjectItem(root, "truthTables");
	CHECK(cJSON_IsArray(tables));
	cJSON *t6379 = NULL, *t80 = NULL;
	cJSON *t;
	cJSON_ArrayForEach(t, tables)
	{
		const char *title = cJSON_GetStringValue(cJSON_GetObjectItem(t, "title"));
		if (title && strcmp(title, "http:6379") == 0)
			t6379 = t;
		if (title && strcmp(title, "http:80") == 0)
			t80 = t;
	}
	CHECK(t6379 && t80);
	if (t6379) {
		CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(t6379, "proto")), "http");
		CHECK_INT(cJSON_GetObjectItem(t6379, "port")->valuedouble, 6379);
		CHECK_INT(cJSON_GetObjectItem(t6379, "notAsExpected")->valuedouble, 1);
		autofree char *rows = cJSON_PrintUnformatted(cJSON_GetObjectItem(t6379, "rows"));
		autofree char *cols = cJSON_PrintUnformatted(cJSON_GetObjectItem(t6379, "columns"));
		autofree char *cells = cJSON_PrintUnformatted(cJSON_GetObjectItem(t6379, "cells"));
		CHECK_STR(rows, "[\"frontend\",\"myproject/client\",\"other/client\"]");
		CHECK_STR(cols, "[\"db\"]");
		CHECK_STR(cells, "[[\"allowed\"],[\"allowed\"],[\"unexpectedly-allowed\"]]");
	}
	if (t80) {
		/* db's egress is denied everywhere but 10.0.0.0/24:5978; no pod to itself */
		cJSON *rows = cJSON_GetObjectItem(t80, "rows"), *cols = cJSON_GetObjectItem(t80, "columns");
		cJSON *cells = cJSON_GetObjectItem(t80, "cells");
		CHECK_INT(cJSON_GetArraySize(cells), cJSON_GetArraySize(rows));
		size_t db = SIZE_MAX, front = SIZE_MAX, self = SIZE_MAX;
		for (int r = 0; r < cJSON_GetArraySize(rows); r++)
			if (strcmp(cJSON_GetArrayItem(rows, r)->valuestring, "db") == 0)
				db = (size_t)r;
		for (int c = 0; c < cJSON_GetArraySize(cols); c++) {
			if (strcmp(cJSON_GetArrayItem(cols, c)->valuestring, "frontend") == 0)
				front = (size_t)c;
			if (strcmp(cJSON_GetArrayItem(cols, c)->valuestring, "db") == 0)
				self = (size_t)c;
		}
		CHECK(db != SIZE_MAX && front != SIZE_MAX);
		if (db != SIZE_MAX && front != SIZE_MAX) {
			cJSON *row = cJSON_GetArrayItem(cells, (int)db);
			CHECK_INT(cJSON_GetArraySize(row), cJSON_GetArraySize(cols));
			CHECK_STR(cJSON_GetArrayItem(row, (int)front)->valuestring, "expected-denied");
			if (self != SIZE_MAX)
				CHECK(cJSON_IsNull(cJSON_GetArrayItem(row, (int)self)));
		}
	}
	cJSON_Delete(root);
	free(text);
	/* junit: the denial expected, and which policies isolate the end that
	 * denies, apart from the failure of the cell that disagrees. */
	text = report_of(&run, REPORT_JUNIT);
	CHECK(strstr(text, "name=\"other/client -&gt; db http:6379 expected fail (denied by NetworkPolicy)\"") != NULL);
	CHECK(strstr(text, "name=\"db -&gt; frontend http:80 expected fail (denied by NetworkPolicy)\" time=\"0.000\">\n"
			   "      <properties>\n"
			   "      <property name=\"testbed.expectedDenial\" "
			   "value=\"egress of db isolated by default/test-network-policy\"/>\n"
			   "      </properties>\n    </testcase>\n") != NULL);
	CHECK(strstr(text, "value=\"ingress of db isolated by default/test-network-policy\"/>\n      </properties>\n"
			   "      <failure message=\"expected fail, got pass") != NULL);
	CHECK(strstr(text, "name=\"frontend -&gt; db http:6379 (client IP preserved) expected pass\" time=\"0.000\"/>\n") !=
	      NULL);
	free(text);
	/* tap: the same, on the test's line. */
	text = report_of(&run, REPORT_TAP);
	CHECK(strstr(text, " - db -> frontend http:80 expected fail (denied by NetworkPolicy: egress of db isolated by "
			   "default/test-network-policy)\n") != NULL);
	CHECK(strstr(text, "not ok ") != NULL);
	CHECK(strstr(text, " - other/client -> db http:6379 expected fail (denied by NetworkPolicy: ingress of db "
			   "isolated by default/test-network-policy)\n  ---\n") != NULL);
	CHECK(strstr(text, "ok 1 - frontend -> db http:6379 (client IP preserved) expected pass\n") != NULL);
	free(text);
	check_run_free(&run);
	plan_free(&p);
}
