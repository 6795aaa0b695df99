#define _GNU_SOURCE
/* kube-proxy's nftables mode (plan/kubeproxy.c) on hand-built plans: the
 * table's structure and names against kube-proxy's own expected output
 * (pkg/proxy/nftables/proxier_test.go), and the packet-flow tables of its
 * tests (runPacketFlowTests) run through a tracer of our own that reads the
 * generated rule set: for a packet's source, destination and port, which
 * endpoints it may reach, whether it is masqueraded, dropped or rejected.
 *
 * With KUBEPROXY_OUT set to a directory, the tests that build a scenario
 * write its rule set there as NAME.nft, for tests/bats/kubeproxy.bats to
 * check with nft itself and to load into scratch namespaces. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "harness.h"
#include "plan/kubeproxy.h"
#include "plan/plan.h"
#include "util/ipv4.h"
#include "util/util.h"

/* ------------------------------------------------------------ building */

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

static size_t add_machine(struct plan *p, enum machine_kind kind, const char *name, const char *addr)
{
	struct plan_machine m = {.kind = kind, .name = (char *)name, .parent = PLAN_NONE, .image = PLAN_NONE};
	m.address = addr ? ip_of(addr) : 0;
	return plan_add_machine(p, &m);
}

static void add_address(struct plan *p, size_t machine, const char *ifname, const char *cidr)
{
	struct step *s = plan_add_step(p, STEP_ADDRESS, machine, NULL);
	snprintf(s->u.address.ifname, sizeof(s->u.address.ifname), "%s", ifname);
	s->u.address.prefix = cidr_of(cidr);
}

/* Machines of the labs below, after kube-proxy's test conventions: pods in
 * 10.0.0.0/8, ClusterIPs in 172.30.0.0/16, this node 192.168.0.2 (with
 * 192.168.1.2 and the external IP 192.168.99.11 on its eth0 too), another
 * node, and clients at 203.0.113.0/24. */
enum { LAB, NODE, NODE2 };
#define NODE_NONE PLAN_NONE

/* The upstream suites' NewFakeProxier, as a plan: the detector on the pod
 * CIDR, NodePorts on 192.168.0.2/32. */
static void lab_init(struct plan *p)
{
	*p = (struct plan){0};
	add_machine(p, MACHINE_LAB, "lab", NULL);
	add_machine(p, MACHINE_NODE, "test-node", "192.168.0.2");
	add_machine(p, MACHINE_NODE, "node2", "192.168.0.3");
	add_address(p, NODE, "eth0", "192.168.0.2/24");
	add_address(p, NODE, "eth0", "192.168.1.2/24");
	add_address(p, NODE, "eth0", "192.168.99.11/24");
	add_address(p, NODE, "cbr0", "10.0.0.1/24");
	add_address(p, NODE2, "eth0", "192.168.0.3/24");
	p->pod_cidr = cidr_of("10.0.0.0/8");
	p->service_cidr = cidr_of("172.30.0.0/16");
	p->kube_proxy.has_cluster_cidr = true;
	p->kube_proxy.cluster_cidr = p->pod_cidr;
	p->kube_proxy.node_port_addresses = xcalloc(1, sizeof(struct ipv4_prefix));
	p->kube_proxy.node_port_addresses[0] = cidr_of("192.168.0.2/32");
	p->kube_proxy.n_node_port_addresses = 1;
}

static struct plan_service *svc(struct plan *p, const char *ns, const char *name, enum plan_service_type type,
				const char *cluster_ip)
{
	p->services = xrealloc(p->services, (p->n_services + 1) * sizeof(*p->services));
	struct plan_service *s = &p->services[p->n_services++];
	*s = (struct plan_service){.namespace = xstrdup(ns), .name = xstrdup(name), .type = type};
	s->cluster_ip = cluster_ip ? ip_of(cluster_ip) : 0;
	return s;
}

/* Ports first, endpoints after: an endpoint has a target port per port. */
static void port(struct plan_service *s, const char *name, enum tb_protocol proto, uint16_t number, uint16_t node_port)
{
	s->ports = xrealloc(s->ports, (s->n_ports + 1) * sizeof(*s->ports));
	s->ports[s->n_ports++] = (struct plan_service_port){xstrdup(name), proto, number, node_port};
}

static void add_ip(uint32_t **list, size_t *n, const char *ip)
{
	*list = xrealloc(*list, (*n + 1) * sizeof(**list));
	(*list)[(*n)++] = ip_of(ip);
}

static void source_range(struct plan_service *s, const char *cidr)
{
	s->source_ranges = xrealloc(s->source_ranges, (s->n_source_ranges + 1) * sizeof(*s->source_ranges));
	s->source_ranges[s->n_source_ranges++] = cidr_of(cidr);
}

/* A ready endpoint serving TARGET on every port of S (0: the port's own). */
static struct plan_endpoint *ep(struct plan_service *s, const char *addr, size_t node, uint16_t target)
{
	s->endpoints = xrealloc(s->endpoints, (s->n_endpoints + 1) * sizeof(*s->endpoints));
	struct plan_endpoint *e = &s->endpoints[s->n_endpoints++];
	*e = (struct plan_endpoint){.machine = PLAN_NONE, .address = ip_of(addr), .node = node, .ready = true, .serving = true};
	e->ports = xcalloc(s->n_ports ? s->n_ports : 1, sizeof(*e->ports));
	for (size_t i = 0; i < s->n_ports; i++)
		e->ports[i] = target ? target : s->ports[i].port;
	return e;
}

static struct plan_endpoint *ep_cond(struct plan_service *s, const char *addr, size_t node, bool ready, bool serving,
				     bool terminating)
{
	struct plan_endpoint *e = ep(s, addr, node, 0);
	e->ready = ready, e->serving = serving, e->terminating = terminating;
	return e;
}

/* Writes TEXT as KUBEPROXY_OUT/NAME.nft when KUBEPROXY_OUT is set. */
static void dump(const char *name, const char *text)
{
	const char *dir = getenv("KUBEPROXY_OUT");
	if (!dir || !text)
		return;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		harness_fail(__FILE__, __LINE__, "mkdir %s", dir);
	autofree char *path = xasprintf("%s/%s.nft", dir, name);
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		harness_fail(__FILE__, __LINE__, "cannot write %s", path);
}

/* Whether TEXT has LINE as a whole line. */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *s = text; s && *s;) {
		const char *end = strchr(s, '\n');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		if (len == n && memcmp(s, line, n) == 0)
			return true;
		s = end ? end + 1 : NULL;
	}
	return false;
}

/* How many times NEEDLE occurs in TEXT; by hand, since the sanitizers'
 * strstr measures the whole haystack on every call. */
static size_t count_substr(const char *text, const char *needle)
{
	size_t n = 0, len = strlen(needle);
	for (const char *s = text; *s; s++) {
		size_t i = 0;
		while (i < len && s[i] == needle[i])
			i++;
		n += i == len;
	}
	return n;
}

#define CHECK_LINE(text, line)                                                                        \
	do {                                                                                          \
		if (!has_line((text), (line)))                                                        \
			harness_fail(__FILE__, __LINE__, "no line \"%s\"", (line));                   \
	} while (0)
#define CHECK_NO_LINE(text, line)                                                                     \
	do {                                                                                          \
		if (has_line((text), (line)))                                                         \
			harness_fail(__FILE__, __LINE__, "a line \"%s\"", (line));                    \
	} while (0)

/* ------------------------------------------------------------- tracing */

/* The rule set read back: chains with their rules, and the elements of
 * every set and map ("KEY" or "KEY : VERDICT", the key's parts joined with
 * " . " as written). */
struct tchain {
	char *name;
	char **rules;
	size_t n;
};
struct telem {
	char *set, *key, *verdict;
};
struct tracer {
	struct tchain *chains;
	size_t n_chains;
	struct telem *elems;
	size_t n_elems;
	const uint32_t *local; /* the node's addresses, for fib ... type local */
	size_t n_local;
	char out[4096];
	bool masq, terminal;
	int depth;
};

static const char *word_end(const char *s)
{
	while (*s && *s != ' ')
		s++;
	return s;
}

static char *dup_word(const char *s)
{
	return strndup(s, (size_t)(word_end(s) - s));
}

static struct tchain *find_chain(struct tracer *t, const char *name, size_t len)
{
	for (size_t i = 0; i < t->n_chains; i++)
		if (strlen(t->chains[i].name) == len && memcmp(t->chains[i].name, name, len) == 0)
			return &t->chains[i];
	return NULL;
}

#define PREFIX "ip kube-proxy "

static void tracer_load(struct tracer *t, const char *text)
{
	*t = (struct tracer){0};
	autofree char *copy = xstrdup(text);
	for (char *line = strtok(copy, "\n"); line; line = strtok(NULL, "\n")) {
		if (str_has_prefix(line, "add chain " PREFIX)) {
			const char *name = line + strlen("add chain " PREFIX);
			t->chains = xrealloc(t->chains, (t->n_chains + 1) * sizeof(*t->chains));
			t->chains[t->n_chains++] = (struct tchain){.name = dup_word(name)};
		} else if (str_has_prefix(line, "add rule " PREFIX)) {
			const char *name = line + strlen("add rule " PREFIX), *end = word_end(name);
			struct tchain *c = find_chain(t, name, (size_t)(end - name));
			if (!c) {
				harness_fail(__FILE__, __LINE__, "a rule in no chain: %s", line);
				continue;
			}
			c->rules = xrealloc(c->rules, (c->n + 1) * sizeof(*c->rules));
			c->rules[c->n++] = xstrdup(end + 1);
		} else if (str_has_prefix(line, "add element " PREFIX)) {
			const char *name = line + strlen("add element " PREFIX);
			const char *open = strstr(name, " { "), *close = strrchr(name, '}');
			char *body = strndup(open + 3, (size_t)(close - open - 4));
			char *colon = strstr(body, " : "), *comment = strstr(body, " comment \"");
			struct telem e = {.set = dup_word(name)};
			if (colon)
				e.verdict = xstrdup(colon + 3), *colon = '\0';
			if (comment)
				*comment = '\0';
			e.key = body;
			t->elems = xrealloc(t->elems, (t->n_elems + 1) * sizeof(*t->elems));
			t->elems[t->n_elems++] = e;
		}
	}
}

static void tracer_free(struct tracer *t)
{
	for (size_t i = 0; i < t->n_chains; i++) {
		for (size_t j = 0; j < t->chains[i].n; j++)
			free(t->chains[i].rules[j]);
		free(t->chains[i].rules);
		free(t->chains[i].name);
	}
	for (size_t i = 0; i < t->n_elems; i++)
		free(t->elems[i].set), free(t->elems[i].key), free(t->elems[i].verdict);
	free(t->chains);
	free(t->elems);
}

static const struct telem *lookup(struct tracer *t, const char *set, size_t set_len, const char *key)
{
	for (size_t i = 0; i < t->n_elems; i++)
		if (strlen(t->elems[i].set) == set_len && memcmp(t->elems[i].set, set, set_len) == 0 &&
		    strcmp(t->elems[i].key, key) == 0)
			return &t->elems[i];
	return NULL;
}

struct packet {
	uint32_t src, dst;
	const char *proto;
	unsigned port;
};

static bool is_local(const struct tracer *t, uint32_t a)
{
	for (size_t i = 0; i < t->n_local; i++)
		if (t->local[i] == a)
			return true;
	return false;
}

/* ADDR against "a.b.c.d" or "a.b.c.d/len". */
static bool addr_matches(uint32_t addr, const char *word, size_t len)
{
	autofree char *w = strndup(word, len);
	if (strchr(w, '/')) {
		struct ipv4_prefix p;
		const char *why;
		if (!ipv4_prefix_parse(w, &p, &why)) {
			harness_fail(__FILE__, __LINE__, "bad prefix in a rule: %s", w);
			return false;
		}
		return ipv4_contains(p, addr);
	}
	uint32_t a = 0;
	if (!ipv4_addr_parse(w, &a))
		harness_fail(__FILE__, __LINE__, "bad address in a rule: %s", w);
	return a == addr;
}

static void output(struct tracer *t, const char *what)
{
	size_t n = strlen(t->out);
	snprintf(t->out + n, sizeof(t->out) - n, "%s%s", n ? ", " : "", what);
}

enum verdict { V_NEXT, V_RETURN, V_TERMINAL };
static bool run_chain(struct tracer *t, const char *name, size_t len, const struct packet *k);

/* jump, goto, drop, reject: what a rule or a verdict map says. */
static enum verdict verdict(struct tracer *t, const char *v, const struct packet *k)
{
	bool go = str_has_prefix(v, "goto ");
	if (go || str_has_prefix(v, "jump ")) {
		const char *chain = v + 5;
		size_t len = (size_t)(word_end(chain) - chain);
		if (len == strlen("mark-for-masquerade") && memcmp(chain, "mark-for-masquerade", len) == 0) {
			/* As upstream's tracer: the jump is the mark. */
			t->masq = true;
			return go ? V_RETURN : V_NEXT;
		}
		if (run_chain(t, chain, len, k))
			return V_TERMINAL;
		return go ? V_RETURN : V_NEXT;
	}
	if (str_has_prefix(v, "drop") || str_has_prefix(v, "reject")) {
		output(t, v[0] == 'd' ? "DROP" : "REJECT");
		return V_TERMINAL;
	}
	harness_fail(__FILE__, __LINE__, "unknown verdict: %s", v);
	return V_TERMINAL;
}

/* Whether ADDR is in the anonymous set at *S ("{ a , b/24 }"), *S moved past it. */
static bool in_anonymous_set(const char **s, uint32_t addr)
{
	const char *p = *s + 2, *close = strchr(p, '}');
	bool found = false;
	while (p < close) {
		const char *w = p, *e = word_end(p);
		if (*w != ',' && w < close)
			found |= addr_matches(addr, w, (size_t)(e - w));
		p = e + 1;
	}
	*s = close + 1;
	return found;
}

/* One rule: each match in turn; a failed one ends it (V_NEXT). */
static enum verdict run_rule(struct tracer *t, const char *rule, const struct packet *k)
{
	autofree char *copy = xstrdup(rule);
	char *comment = strstr(copy, " comment \"");
	if (comment)
		*comment = '\0';
	const char *s = copy;
	char key[128];
	char a[IPV4_PREFIX_STRLEN];
	while (*s == ' ')
		s++;
	while (*s) {
		if (str_has_prefix(s, "ct state new")) {
			s += strlen("ct state new");
		} else if (str_has_prefix(s, "ip daddr . meta l4proto . th dport vmap @") ||
			   str_has_prefix(s, "meta l4proto . th dport vmap @")) {
			bool with_addr = s[0] == 'i';
			const char *map = strchr(s, '@') + 1;
			if (with_addr)
				snprintf(key, sizeof(key), "%s . %s . %u", ipv4_addr_format(k->dst, a), k->proto, k->port);
			else
				snprintf(key, sizeof(key), "%s . %u", k->proto, k->port);
			const struct telem *e = lookup(t, map, (size_t)(word_end(map) - map), key);
			return e ? verdict(t, e->verdict, k) : V_NEXT;
		} else if (str_has_prefix(s, "ip daddr @") || str_has_prefix(s, "ip saddr @")) {
			const char *set = s + strlen("ip daddr @");
			const char *end = word_end(set);
			/* Affinity sets start empty: a first packet. */
			if (!lookup(t, set, (size_t)(end - set), ipv4_addr_format(s[3] == 'd' ? k->dst : k->src, a)))
				return V_NEXT;
			s = end;
		} else if (str_has_prefix(s, "ip daddr ") || str_has_prefix(s, "ip saddr ")) {
			uint32_t addr = s[3] == 'd' ? k->dst : k->src;
			s += strlen("ip daddr ");
			bool negate = str_has_prefix(s, "!= ");
			if (negate)
				s += 3;
			bool match;
			if (*s == '{') {
				match = in_anonymous_set(&s, addr);
			} else {
				const char *e = word_end(s);
				match = addr_matches(addr, s, (size_t)(e - s));
				s = e;
			}
			if (match == negate)
				return V_NEXT;
		} else if (str_has_prefix(s, "fib daddr type local") || str_has_prefix(s, "fib saddr type local")) {
			if (!is_local(t, s[4] == 'd' ? k->dst : k->src))
				return V_NEXT;
			s += strlen("fib daddr type local");
		} else if (str_has_prefix(s, "tcp dport ") || str_has_prefix(s, "udp dport ") ||
			   str_has_prefix(s, "sctp dport ")) {
			const char *e = word_end(s);
			if ((size_t)(e - s) != strlen(k->proto) || memcmp(s, k->proto, (size_t)(e - s)) != 0)
				return V_NEXT;
			s = e + strlen(" dport ");
			if ((unsigned)strtoul(s, NULL, 10) != k->port)
				return V_NEXT;
			s = word_end(s);
		} else if (str_has_prefix(s, "numgen random mod ")) {
			/* For the trace, every endpoint the packet may get. */
			const char *p = strchr(s, '{');
			while ((p = strstr(p, " : goto "))) {
				p += strlen(" : goto ");
				run_chain(t, p, (size_t)(word_end(p) - p), k);
			}
			return V_TERMINAL;
		} else if (str_has_prefix(s, "meta l4proto ")) {
			s += strlen("meta l4proto ");
			const char *e = word_end(s);
			if ((size_t)(e - s) != strlen(k->proto) || memcmp(s, k->proto, (size_t)(e - s)) != 0)
				return V_NEXT;
			s = e;
			while (*s == ' ')
				s++;
			if (!str_has_prefix(s, "dnat to ")) {
				harness_fail(__FILE__, __LINE__, "unknown rule: %s", rule);
				return V_TERMINAL;
			}
			output(t, s + strlen("dnat to "));
			return V_TERMINAL;
		} else if (str_has_prefix(s, "update @")) {
			s = strchr(s, '}') + 1;
		} else if (str_has_prefix(s, "return")) {
			return V_RETURN;
		} else if (str_has_prefix(s, "jump ") || str_has_prefix(s, "goto ") || str_has_prefix(s, "drop") ||
			   str_has_prefix(s, "reject")) {
			enum verdict v = verdict(t, s, k);
			if (v != V_NEXT)
				return v;
			s = word_end(word_end(s) + 1);
		} else {
			harness_fail(__FILE__, __LINE__, "unknown rule: %s", rule);
			return V_TERMINAL;
		}
		while (*s == ' ')
			s++;
	}
	return V_NEXT;
}

/* True when the chain ended the packet's way (DNAT, drop, reject). */
static bool run_chain(struct tracer *t, const char *name, size_t len, const struct packet *k)
{
	struct tchain *c = find_chain(t, name, len);
	if (!c) {
		harness_fail(__FILE__, __LINE__, "no chain %.*s", (int)len, name);
		return true;
	}
	if (++t->depth > 32) {
		harness_fail(__FILE__, __LINE__, "chains loop at %s", c->name);
		return true;
	}
	bool done = false;
	for (size_t i = 0; i < c->n && !done; i++) {
		enum verdict v = run_rule(t, c->rules[i], k);
		if (v == V_TERMINAL)
			done = true;
		else if (v == V_RETURN)
			break;
	}
	t->depth--;
	return done;
}

static bool run(struct tracer *t, const char *chain, const struct packet *k)
{
	return run_chain(t, chain, strlen(chain), k);
}

/* A new connection's first packet: from a node address through output
 * (filter before DNAT, nat, filter after), from anywhere else through
 * prerouting (filter, nat) and then input or forward by where the DNATed
 * packet goes. Returns the endpoints it may reach or DROP/REJECT ("" when
 * nothing of kube-proxy's touched it), and whether it is masqueraded. */
static const char *trace(struct tracer *t, const char *src, const char *proto, const char *dst, unsigned dport,
			 bool *masq)
{
	struct packet k = {ip_of(src), ip_of(dst), proto, dport};
	t->out[0] = '\0';
	t->masq = false;
	bool local = is_local(t, k.src);
	if (run(t, local ? "filter-output" : "filter-prerouting", &k))
		goto done;
	run(t, local ? "nat-output" : "nat-prerouting", &k);
	if (t->out[0]) {
		char first[32];
		size_t len = strcspn(t->out, ":,");
		if (len < sizeof(first)) {
			memcpy(first, t->out, len);
			first[len] = '\0';
			k.dst = ip_of(first);
		}
	}
	if (local && run(t, "filter-output-post-dnat", &k))
		goto done;
	if (!local || is_local(t, k.dst))
		run(t, is_local(t, k.dst) ? "filter-input" : "filter-forward", &k);
done:
	*masq = t->masq;
	return t->out;
}

struct flow {
	const char *name, *src, *proto, *dst;
	unsigned port;
	const char *output;
	bool masq;
};

static const uint32_t *test_node_ips(size_t *n)
{
	static uint32_t ips[3];
	ips[0] = ip_of("192.168.0.2");
	ips[1] = ip_of("192.168.1.2");
	ips[2] = ip_of("192.168.99.11");
	*n = 3;
	return ips;
}

/* Runs FLOWS through NODE's rule set of P (upstream's runPacketFlowTests). */
static void run_flows(const struct plan *p, size_t node, const struct flow *flows, size_t n, const char *where)
{
	autofree char *text = kubeproxy_ruleset(p, node);
	if (!text) {
		harness_fail(__FILE__, __LINE__, "%s: no rule set", where);
		return;
	}
	struct tracer t;
	tracer_load(&t, text);
	t.local = test_node_ips(&t.n_local);
	for (size_t i = 0; i < n; i++) {
		const struct flow *f = &flows[i];
		bool masq = false;
		const char *got = trace(&t, f->src, f->proto ? f->proto : "tcp", f->dst, f->port, &masq);
		if (strcmp(got, f->output) != 0 || masq != f->masq)
			harness_fail(__FILE__, __LINE__, "%s: \"%s\" (%s -> %s:%u): got \"%s\"%s, want \"%s\"%s", where,
				     f->name, f->src, f->dst, f->port, got, masq ? " masqueraded" : "", f->output,
				     f->masq ? " masqueraded" : "");
	}
	tracer_free(&t);
}

#define RUN_FLOWS(p, flows) run_flows((p), NODE, (flows), ARRAY_SIZE(flows), __func__)

/* --------------------------------------------------------------- names */

TEST(kubeproxy_names_are_kube_proxys)
{
	/* From proxier_test.go's TestOverallNFTablesRules expected output:
	 * "add chain ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80", "add chain
	 * ip kube-proxy endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80", "add
	 * set ip kube-proxy affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 ..."
	 * and TestSyncProxyRulesRepeated's "service-MHHHYRWA-ns2/svc2/tcp/p8080". */
	autofree char *a = kubeproxy_service_base("ns1", "svc1", TB_PROTOCOL_TCP, "p80");
	CHECK_STR(a, "ULMVA6XW-ns1/svc1/tcp/p80");
	autofree char *b = kubeproxy_endpoint_base("ns1", "svc1", TB_PROTOCOL_TCP, "p80", ip_of("10.180.0.1"), 80);
	CHECK_STR(b, "5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80");
	autofree char *c = kubeproxy_endpoint_base("ns5", "svc5", TB_PROTOCOL_TCP, "p80", ip_of("10.180.0.3"), 80);
	CHECK_STR(c, "GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80");
	autofree char *d = kubeproxy_service_base("ns2", "svc2", TB_PROTOCOL_TCP, "p8080");
	CHECK_STR(d, "MHHHYRWA-ns2/svc2/tcp/p8080");
	autofree char *e = kubeproxy_endpoint_base("ns2", "svc2", TB_PROTOCOL_TCP, "p8080", ip_of("10.0.2.1"), 8080);
	CHECK_STR(e, "7RVP4LUQ-ns2/svc2/tcp/p8080__10.0.2.1/8080");
	/* Unnamed ports end the base with "/". */
	autofree char *f = kubeproxy_service_base("ns1", "svc1", TB_PROTOCOL_UDP, "");
	CHECK(str_has_prefix(f + 8, "-ns1/svc1/udp/") && strlen(f) == strlen("XXXXXXXX-ns1/svc1/udp/"));
}

TEST(kubeproxy_long_names_are_cut_behind_the_hash)
{
	char ns[64], name[64], portname[16];
	memset(ns, 'n', 63), ns[63] = '\0';
	memset(name, 's', 63), name[63] = '\0';
	memset(portname, 'p', 15), portname[15] = '\0';
	/* 8 + 1 + 63 + 1 + 63 + 1 + 4 + 1 + 15: under 240, whole. */
	autofree char *a = kubeproxy_service_base(ns, name, TB_PROTOCOL_SCTP, portname);
	CHECK_INT(strlen(a), 157);
	CHECK(strstr(a, "/sctp/ppppppppppppppp") != NULL);
}

/* --------------------------------------------------------- the table */

TEST(kubeproxy_no_services_no_rule_set)
{
	struct plan p;
	lab_init(&p);
	CHECK(kubeproxy_ruleset(&p, NODE) == NULL);
	kubeproxy_add_steps(&p);
	CHECK_INT(p.n_steps, 5);
	svc(&p, "ns1", "svc1", PLAN_SERVICE_CLUSTER_IP, "172.30.0.41");
	CHECK(kubeproxy_ruleset(&p, LAB) == NULL); /* not a node */
	CHECK(kubeproxy_ruleset(&p, 99) == NULL);
	plan_free(&p);
}

TEST(kubeproxy_base_chains_sets_and_maps)
{
	struct plan p;
	lab_init(&p);
	struct plan_service *s = svc(&p, "ns1", "svc1", PLAN_SERVICE_CLUSTER_IP, "172.30.0.41");
	port(s, "p80", TB_PROTOCOL_TCP, 80, 0);
	autofree char *t = kubeproxy_ruleset(&p, NODE);
	dump("base", t);
	/* setupNFTables, as kube-proxy writes it (the releases with
	 * filter-output-post-dnat): hooks and priorities, the jumps, the
	 * masquerade machinery, the sets and maps. */
	static const char *const lines[] = {
		"add table ip kube-proxy { comment \"rules for kube-proxy\" ; }",
		"add chain ip kube-proxy filter-prerouting { type filter hook prerouting priority -110 ; }",
		"add chain ip kube-proxy filter-input { type filter hook input priority -110 ; }",
		"add chain ip kube-proxy filter-forward { type filter hook forward priority -110 ; }",
		"add chain ip kube-proxy filter-output { type filter hook output priority -110 ; }",
		"add chain ip kube-proxy filter-output-post-dnat { type filter hook output priority -90 ; }",
		"add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority -100 ; }",
		"add chain ip kube-proxy nat-output { type nat hook output priority -100 ; }",
		"add chain ip kube-proxy nat-postrouting { type nat hook postrouting priority 100 ; }",
		"add rule ip kube-proxy filter-input ct state new jump nodeport-endpoints-check",
		"add rule ip kube-proxy filter-input ct state new jump service-endpoints-check",
		"add rule ip kube-proxy filter-forward ct state new jump service-endpoints-check",
		"add rule ip kube-proxy filter-output ct state new jump service-endpoints-check",
		"add rule ip kube-proxy filter-prerouting ct state new jump firewall-check",
		"add rule ip kube-proxy filter-output ct state new jump firewall-check",
		"add rule ip kube-proxy nat-output jump services",
		"add rule ip kube-proxy nat-prerouting jump services",
		"add rule ip kube-proxy nat-postrouting jump masquerading",
		"add rule ip kube-proxy filter-forward ct state new jump cluster-ips-check",
		"add rule ip kube-proxy filter-output-post-dnat ct state new jump cluster-ips-check",
		"add rule ip kube-proxy mark-for-masquerade mark set mark or 0x4000",
		"add rule ip kube-proxy masquerading mark and 0x4000 == 0 return",
		"add rule ip kube-proxy masquerading mark set mark xor 0x4000",
		"add rule ip kube-proxy masquerading masquerade fully-random",
		"add set ip kube-proxy cluster-ips { type ipv4_addr ; comment \"Active ClusterIPs\" ; }",
		"add rule ip kube-proxy cluster-ips-check ip daddr @cluster-ips reject comment \"Reject traffic to invalid ports of ClusterIPs\"",
		"add rule ip kube-proxy cluster-ips-check ip daddr { 172.30.0.0/16 } drop comment \"Drop traffic to unallocated ClusterIPs\"",
		"add set ip kube-proxy nodeport-ips { type ipv4_addr ; comment \"IPs that accept NodePort traffic\" ; }",
		"add element ip kube-proxy nodeport-ips { 192.168.0.2 }",
		"add map ip kube-proxy no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict ; comment \"vmap to drop or reject packets to services with no endpoints\" ; }",
		"add map ip kube-proxy no-endpoint-nodeports { type inet_proto . inet_service : verdict ; comment \"vmap to drop or reject packets to service nodeports with no endpoints\" ; }",
		"add chain ip kube-proxy reject-chain { comment \"helper for @no-endpoint-services / @no-endpoint-nodeports\" ; }",
		"add rule ip kube-proxy reject-chain reject",
		"add rule ip kube-proxy service-endpoints-check ip daddr . meta l4proto . th dport vmap @no-endpoint-services",
		"add rule ip kube-proxy nodeport-endpoints-check ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports",
		"add map ip kube-proxy firewall-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment \"destinations that are subject to LoadBalancerSourceRanges\" ; }",
		"add rule ip kube-proxy firewall-check ip daddr . meta l4proto . th dport vmap @firewall-ips",
		"add map ip kube-proxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment \"ClusterIP, ExternalIP and LoadBalancer IP traffic\" ; }",
		"add map ip kube-proxy service-nodeports { type inet_proto . inet_service : verdict ; comment \"NodePort traffic\" ; }",
		"add rule ip kube-proxy services ip daddr . meta l4proto . th dport vmap @service-ips",
		"add rule ip kube-proxy services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports",
	};
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++)
		CHECK_LINE(t, lines[i]);
	/* No endpoints: rejected, before and after DNAT had its chance. */
	CHECK_LINE(t, "add element ip kube-proxy cluster-ips { 172.30.0.41 }");
	CHECK_LINE(t, "add element ip kube-proxy no-endpoint-services { 172.30.0.41 . tcp . 80 comment \"ns1/svc1:p80\" : goto reject-chain }");
	autofree char *base = kubeproxy_service_base("ns1", "svc1", TB_PROTOCOL_TCP, "p80");
	CHECK(strstr(t, base) == NULL);
	plan_free(&p);
}

/* TestOverallNFTablesRules' services and endpoints, and its expected
 * per-service lines (proxier_test.go), in the form of the proxier whose
 * ClusterIP masquerade rule names the service port ("tcp dport 80"). */
static const char *const overall_expected[] = {
	"add chain ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80",
	"add rule ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80 ip daddr 172.30.0.41 tcp dport 80 ip saddr != 10.0.0.0/8 jump mark-for-masquerade",
	"add rule ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80 numgen random mod 1 vmap { 0 : goto endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80 }",
	"add chain ip kube-proxy endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80",
	"add rule ip kube-proxy endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80 ip saddr 10.180.0.1 jump mark-for-masquerade",
	"add rule ip kube-proxy endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80 meta l4proto tcp dnat to 10.180.0.1:80",
	"add element ip kube-proxy cluster-ips { 172.30.0.41 }",
	"add element ip kube-proxy service-ips { 172.30.0.41 . tcp . 80 : goto service-ULMVA6XW-ns1/svc1/tcp/p80 }",

	"add chain ip kube-proxy service-42NFTM6N-ns2/svc2/tcp/p80",
	"add rule ip kube-proxy service-42NFTM6N-ns2/svc2/tcp/p80 ip daddr 172.30.0.42 tcp dport 80 ip saddr != 10.0.0.0/8 jump mark-for-masquerade",
	"add rule ip kube-proxy service-42NFTM6N-ns2/svc2/tcp/p80 numgen random mod 1 vmap { 0 : goto endpoint-SGOXE6O3-ns2/svc2/tcp/p80__10.180.0.2/80 }",
	"add chain ip kube-proxy external-42NFTM6N-ns2/svc2/tcp/p80",
	"add rule ip kube-proxy external-42NFTM6N-ns2/svc2/tcp/p80 ip saddr 10.0.0.0/8 goto service-42NFTM6N-ns2/svc2/tcp/p80 comment \"short-circuit pod traffic\"",
	"add rule ip kube-proxy external-42NFTM6N-ns2/svc2/tcp/p80 fib saddr type local jump mark-for-masquerade comment \"masquerade local traffic\"",
	"add rule ip kube-proxy external-42NFTM6N-ns2/svc2/tcp/p80 fib saddr type local goto service-42NFTM6N-ns2/svc2/tcp/p80 comment \"short-circuit local traffic\"",
	"add chain ip kube-proxy endpoint-SGOXE6O3-ns2/svc2/tcp/p80__10.180.0.2/80",
	"add rule ip kube-proxy endpoint-SGOXE6O3-ns2/svc2/tcp/p80__10.180.0.2/80 ip saddr 10.180.0.2 jump mark-for-masquerade",
	"add rule ip kube-proxy endpoint-SGOXE6O3-ns2/svc2/tcp/p80__10.180.0.2/80 meta l4proto tcp dnat to 10.180.0.2:80",
	"add element ip kube-proxy cluster-ips { 172.30.0.42 }",
	"add element ip kube-proxy service-ips { 172.30.0.42 . tcp . 80 : goto service-42NFTM6N-ns2/svc2/tcp/p80 }",
	"add element ip kube-proxy service-ips { 192.168.99.22 . tcp . 80 : goto external-42NFTM6N-ns2/svc2/tcp/p80 }",
	"add element ip kube-proxy service-ips { 1.2.3.4 . tcp . 80 : goto external-42NFTM6N-ns2/svc2/tcp/p80 }",
	"add element ip kube-proxy service-nodeports { tcp . 3001 : goto external-42NFTM6N-ns2/svc2/tcp/p80 }",
	"add element ip kube-proxy no-endpoint-nodeports { tcp . 3001 comment \"ns2/svc2:p80\" : drop }",
	"add element ip kube-proxy no-endpoint-services { 1.2.3.4 . tcp . 80 comment \"ns2/svc2:p80\" : drop }",
	"add element ip kube-proxy no-endpoint-services { 192.168.99.22 . tcp . 80 comment \"ns2/svc2:p80\" : drop }",

	"add chain ip kube-proxy service-4AT6LBPK-ns3/svc3/tcp/p80",
	"add rule ip kube-proxy service-4AT6LBPK-ns3/svc3/tcp/p80 ip daddr 172.30.0.43 tcp dport 80 ip saddr != 10.0.0.0/8 jump mark-for-masquerade",
	"add rule ip kube-proxy service-4AT6LBPK-ns3/svc3/tcp/p80 numgen random mod 1 vmap { 0 : goto endpoint-UEIP74TE-ns3/svc3/tcp/p80__10.180.0.3/80 }",
	"add chain ip kube-proxy external-4AT6LBPK-ns3/svc3/tcp/p80",
	"add rule ip kube-proxy external-4AT6LBPK-ns3/svc3/tcp/p80 jump mark-for-masquerade",
	"add rule ip kube-proxy external-4AT6LBPK-ns3/svc3/tcp/p80 goto service-4AT6LBPK-ns3/svc3/tcp/p80",
	"add chain ip kube-proxy endpoint-UEIP74TE-ns3/svc3/tcp/p80__10.180.0.3/80",
	"add rule ip kube-proxy endpoint-UEIP74TE-ns3/svc3/tcp/p80__10.180.0.3/80 ip saddr 10.180.0.3 jump mark-for-masquerade",
	"add rule ip kube-proxy endpoint-UEIP74TE-ns3/svc3/tcp/p80__10.180.0.3/80 meta l4proto tcp dnat to 10.180.0.3:80",
	"add element ip kube-proxy cluster-ips { 172.30.0.43 }",
	"add element ip kube-proxy service-ips { 172.30.0.43 . tcp . 80 : goto service-4AT6LBPK-ns3/svc3/tcp/p80 }",
	"add element ip kube-proxy service-nodeports { tcp . 3003 : goto external-4AT6LBPK-ns3/svc3/tcp/p80 }",

	"add chain ip kube-proxy service-LAUZTJTB-ns4/svc4/tcp/p80",
	"add rule ip kube-proxy service-LAUZTJTB-ns4/svc4/tcp/p80 ip daddr 172.30.0.44 tcp dport 80 ip saddr != 10.0.0.0/8 jump mark-for-masquerade",
	"add rule ip kube-proxy service-LAUZTJTB-ns4/svc4/tcp/p80 numgen random mod 2 vmap { 0 : goto endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80 , 1 : goto endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80 }",
	"add chain ip kube-proxy external-LAUZTJTB-ns4/svc4/tcp/p80",
	"add rule ip kube-proxy external-LAUZTJTB-ns4/svc4/tcp/p80 jump mark-for-masquerade",
	"add rule ip kube-proxy external-LAUZTJTB-ns4/svc4/tcp/p80 goto service-LAUZTJTB-ns4/svc4/tcp/p80",
	"add chain ip kube-proxy endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80",
	"add rule ip kube-proxy endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80 ip saddr 10.180.0.5 jump mark-for-masquerade",
	"add rule ip kube-proxy endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80 meta l4proto tcp dnat to 10.180.0.5:80",
	"add chain ip kube-proxy endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80",
	"add rule ip kube-proxy endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80 ip saddr 10.180.0.4 jump mark-for-masquerade",
	"add rule ip kube-proxy endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80 meta l4proto tcp dnat to 10.180.0.4:80",
	"add element ip kube-proxy cluster-ips { 172.30.0.44 }",
	"add element ip kube-proxy service-ips { 172.30.0.44 . tcp . 80 : goto service-LAUZTJTB-ns4/svc4/tcp/p80 }",
	"add element ip kube-proxy service-ips { 192.168.99.33 . tcp . 80 : goto external-LAUZTJTB-ns4/svc4/tcp/p80 }",

	"add set ip kube-proxy affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 { type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ; }",
	"add chain ip kube-proxy service-HVFWP5L3-ns5/svc5/tcp/p80",
	"add rule ip kube-proxy service-HVFWP5L3-ns5/svc5/tcp/p80 ip daddr 172.30.0.45 tcp dport 80 ip saddr != 10.0.0.0/8 jump mark-for-masquerade",
	"add rule ip kube-proxy service-HVFWP5L3-ns5/svc5/tcp/p80 ip saddr @affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 goto endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80",
	"add rule ip kube-proxy service-HVFWP5L3-ns5/svc5/tcp/p80 numgen random mod 1 vmap { 0 : goto endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 }",
	"add chain ip kube-proxy external-HVFWP5L3-ns5/svc5/tcp/p80",
	"add rule ip kube-proxy external-HVFWP5L3-ns5/svc5/tcp/p80 jump mark-for-masquerade",
	"add rule ip kube-proxy external-HVFWP5L3-ns5/svc5/tcp/p80 goto service-HVFWP5L3-ns5/svc5/tcp/p80",
	"add chain ip kube-proxy endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80",
	"add rule ip kube-proxy endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 ip saddr 10.180.0.3 jump mark-for-masquerade",
	"add rule ip kube-proxy endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 update @affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 { ip saddr }",
	"add rule ip kube-proxy endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 meta l4proto tcp dnat to 10.180.0.3:80",
	"add chain ip kube-proxy firewall-HVFWP5L3-ns5/svc5/tcp/p80",
	"add rule ip kube-proxy firewall-HVFWP5L3-ns5/svc5/tcp/p80 ip saddr != { 203.0.113.0/25 } drop",
	"add element ip kube-proxy cluster-ips { 172.30.0.45 }",
	"add element ip kube-proxy service-ips { 172.30.0.45 . tcp . 80 : goto service-HVFWP5L3-ns5/svc5/tcp/p80 }",
	"add element ip kube-proxy service-ips { 5.6.7.8 . tcp . 80 : goto external-HVFWP5L3-ns5/svc5/tcp/p80 }",
	"add element ip kube-proxy service-nodeports { tcp . 3002 : goto external-HVFWP5L3-ns5/svc5/tcp/p80 }",
	"add element ip kube-proxy firewall-ips { 5.6.7.8 . tcp . 80 : goto firewall-HVFWP5L3-ns5/svc5/tcp/p80 }",

	"add element ip kube-proxy cluster-ips { 172.30.0.46 }",
	"add element ip kube-proxy no-endpoint-services { 172.30.0.46 . tcp . 80 comment \"ns6/svc6:p80\" : goto reject-chain }",
};

static void overall_services(struct plan *p)
{
	struct plan_service *s = svc(p, "ns1", "svc1", PLAN_SERVICE_CLUSTER_IP, "172.30.0.41");
	port(s, "p80", TB_PROTOCOL_TCP, 80, 0);
	ep(s, "10.180.0.1", NODE_NONE, 80);

	/* LoadBalancer, externalTrafficPolicy Local; its endpoint has no node,
	 * so none is local. */
	s = svc(p, "ns2", "svc2", PLAN_SERVICE_LOAD_BALANCER, "172.30.0.42");
	port(s, "p80", TB_PROTOCOL_TCP, 80, 3001);
	add_ip(&s->load_balancer_ips, &s->n_load_balancer_ips, "1.2.3.4");
	add_ip(&s->external_ips, &s->n_external_ips, "192.168.99.22");
	s->external_local = true;
	ep(s, "10.180.0.2", NODE_NONE, 80);

	s = svc(p, "ns3", "svc3", PLAN_SERVICE_NODE_PORT, "172.30.0.43");
	port(s, "p80", TB_PROTOCOL_TCP, 80, 3003);
	ep(s, "10.180.0.3", NODE_NONE, 80);

	s = svc(p, "ns4", "svc4", PLAN_SERVICE_NODE_PORT, "172.30.0.44");
	port(s, "p80", TB_PROTOCOL_TCP, 80, 0);
	add_ip(&s->external_ips, &s->n_external_ips, "192.168.99.33");
	ep(s, "10.180.0.4", NODE_NONE, 80);
	ep(s, "10.180.0.5", NODE, 80);

	/* LoadBalancer, Cluster, source ranges and ClientIP affinity. */
	s = svc(p, "ns5", "svc5", PLAN_SERVICE_LOAD_BALANCER, "172.30.0.45");
	port(s, "p80", TB_PROTOCOL_TCP, 80, 3002);
	add_ip(&s->load_balancer_ips, &s->n_load_balancer_ips, "5.6.7.8");
	source_range(s, "203.0.113.0/25");
	s->affinity = true;
	s->affinity_timeout = 10800;
	ep(s, "10.180.0.3", NODE_NONE, 80);

	s = svc(p, "ns6", "svc6", PLAN_SERVICE_CLUSTER_IP, "172.30.0.46");
	port(s, "p80", TB_PROTOCOL_TCP, 80, 0);
}

TEST(kubeproxy_overall_rules_are_kube_proxys)
{
	struct plan p;
	lab_init(&p);
	overall_services(&p);
	autofree char *t = kubeproxy_ruleset(&p, NODE);
	dump("overall", t);
	for (size_t i = 0; i < ARRAY_SIZE(overall_expected); i++)
		CHECK_LINE(t, overall_expected[i]);
	/* And nothing else for the services: every "add" line after the
	 * first service's heading is one of the expected. */
	const char *svcs = strstr(t, "\n# ns1/svc1:p80");
	CHECK(svcs != NULL);
	size_t extra = 0, n = 0;
	autofree char *copy = xstrdup(svcs ? svcs : "");
	for (char *line = strtok(copy, "\n"); line; line = strtok(NULL, "\n")) {
		if (line[0] == '#')
			continue;
		n++;
		bool known = false;
		for (size_t i = 0; i < ARRAY_SIZE(overall_expected) && !known; i++)
			known = strcmp(line, overall_expected[i]) == 0;
		if (!known) {
			harness_fail(__FILE__, __LINE__, "unexpected line: %s", line);
			extra++;
		}
	}
	CHECK_INT(n, ARRAY_SIZE(overall_expected));
	CHECK_INT(extra, 0);
	plan_free(&p);
}

TEST(kubeproxy_output_is_deterministic_and_per_node)
{
	struct plan p;
	lab_init(&p);
	overall_services(&p);
	autofree char *a = kubeproxy_ruleset(&p, NODE);
	autofree char *b = kubeproxy_ruleset(&p, NODE);
	CHECK_STR(a, b);
	/* The other node: the same services, its own address for NodePorts
	 * (nodePortAddresses' default); 10.180.0.5 is not local there, which
	 * Cluster policies ignore. */
	p.kube_proxy.n_node_port_addresses = 0;
	autofree char *c = kubeproxy_ruleset(&p, NODE2);
	CHECK(c && strcmp(a, c) != 0);
	CHECK_LINE(c, "add element ip kube-proxy nodeport-ips { 192.168.0.3 }");
	CHECK(c && strstr(c, "service-LAUZTJTB-ns4/svc4/tcp/p80 numgen random mod 2") != NULL);
	plan_free(&p);
}

/* ---------------------------------------------------------- packet flows */

TEST(kubeproxy_flows_no_endpoints_reject)
{
	struct plan p;
	lab_init(&p);
	struct plan_service *s = svc(&p, "ns1", "svc1", PLAN_SERVICE_LOAD_BALANCER, "172.30.0.41");
	port(s, "p80", TB_PROTOCOL_TCP, 80, 3001);
	add_ip(&s->external_ips, &s->n_external_ips, "192.168.99.11");
	add_ip(&s->load_balancer_ips, &s->n_load_balancer_ips, "1.2.3.4");
	static const struct flow flows[] = {
		{"pod to cluster IP with no endpoints", "10.0.0.2", NULL, "172.30.0.41", 80, "REJECT", false},
		{"external to external IP with no endpoints", "203.0.113.2", NULL, "192.168.99.11", 80, "REJECT", false},
		{"pod to NodePort with no endpoints", "10.0.0.2", NULL, "192.168.0.2", 3001, "REJECT", false},
		{"external to NodePort with no endpoints", "203.0.113.2", NULL, "192.168.0.2", 3001, "REJECT", false},
		{"pod to LoadBalancer IP with no endpoints", "10.0.0.2", NULL, "1.2.3.4", 80, "REJECT", false},
		{"external to LoadBalancer IP with no endpoints", "203.0.113.2", NULL, "1.2.3.4", 80, "REJECT", false},
		{"node to cluster IP with no endpoints", "192.168.0.2", NULL, "172.30.0.41", 80, "REJECT", false},
	};
	RUN_FLOWS(&p, flows);
	autofree char *t = kubeproxy_ruleset(&p, NODE);
	dump("no-endpoints", t);
	plan_free(&p);
}

TEST(kubeproxy_flows_cluster_ip)
{
	struct plan p;
	lab_init(&p);
	struct plan_service *s = svc(&p, "ns1", "svc1", PLAN_SERVICE_CLUSTER_IP, "172.30.0.41");
	port(s, "http", TB_PROTOCOL_TCP, 80, 0);
	ep(s, "10.180.0.1", NODE, 80);
	s = svc(&p, "ns2", "svc2", PLAN_SERVICE_CLUSTER_IP, "172.30.0.42");
	port(s, "http", TB_PROTOCOL_TCP, 80, 0);
	port(s, "https", TB_PROTOCOL_TCP, 443, 0);
	port(s, "dns-udp", TB_PROTOCOL_UDP, 53, 0);
	port(s, "dns-tcp", TB_PROTOCOL_TCP, 53, 0);
	port(s, "dns-sctp", TB_PROTOCOL_SCTP, 53, 0);
	ep(s, "10.180.0.1", NODE, 0);
	ep(s, "10.180.2.1", NODE2, 0);
	struct plan_endpoint *e1 = &s->endpoints[0], *e2 = &s->endpoints[1];
	e1->ports[1] = e2->ports[1] = 8443;
	e1->ports[3] = e2->ports[3] = 5353;
	static const struct flow flows[] = {
		{"simple clusterIP", "10.180.0.2", NULL, "172.30.0.41", 80, "10.180.0.1:80", false},
		{"hairpin to cluster IP", "10.180.0.1", NULL, "172.30.0.41", 80, "10.180.0.1:80", true},
		{"clusterIP with multiple endpoints", "10.180.0.2", NULL, "172.30.0.42", 80, "10.180.0.1:80, 10.180.2.1:80", false},
		{"clusterIP with TargetPort", "10.180.0.2", NULL, "172.30.0.42", 443, "10.180.0.1:8443, 10.180.2.1:8443", false},
		{"clusterIP with TCP, UDP, and SCTP on same port (TCP)", "10.180.0.2", "tcp", "172.30.0.42", 53, "10.180.0.1:5353, 10.180.2.1:5353", false},
		{"clusterIP with TCP, UDP, and SCTP on same port (UDP)", "10.180.0.2", "udp", "172.30.0.42", 53, "10.180.0.1:53, 10.180.2.1:53", false},
		{"clusterIP with TCP, UDP, and SCTP on same port (SCTP)", "10.180.0.2", "sctp", "172.30.0.42", 53, "10.180.0.1:53, 10.180.2.1:53", false},
		{"TCP-only port does not match UDP traffic", "10.180.0.2", "udp", "172.30.0.42", 80, "REJECT", false},
		{"svc1 does not accept svc2's ports", "10.180.0.2", NULL, "172.30.0.41", 443, "REJECT", false},
		{"packet to unallocated cluster ip", "10.180.0.2", NULL, "172.30.0.50", 80, "DROP", false},
		{"node to clusterIP", "192.168.0.2", NULL, "172.30.0.41", 80, "10.180.0.1:80", true},
		{"external to clusterIP", "203.0.113.2", NULL, "172.30.0.41", 80, "10.180.0.1:80", true},
		{"node to an unknown port of a clusterIP", "192.168.0.2", NULL, "172.30.0.41", 81, "REJECT", false},
	};
	RUN_FLOWS(&p, flows);
	autofree char *t = kubeproxy_ruleset(&p, NODE);
	dump("cluster-ip", t);
	plan_free(&p);
}

TEST(kubeproxy_flows_load_balancer_source_ranges)
{
	struct plan p;
	lab_init(&p);
	struct plan_service *s = svc(&p, "ns1", "svc1", PLAN_SERVICE_LOAD_BALANCER, "172.30.0.41");
	port(s, "p80", TB_PROTOCOL_TCP, 80, 3001);
	add_ip(&s->load_balancer_ips, &s->n_load_balancer_ips, "1.2.3.4");
	add_ip(&s->load_balancer_ips, &s->n_load_balancer_ips, "5.6.7.8");
	source_range(s, "192.168.0.0/24");
	source_range(s, "203.0.113.0/25");
	ep(s, "10.180.0.1", NODE_NONE, 80);
	static const struct flow flows[] = {
		{"pod to cluster IP", "10.0.0.2", NULL, "172.30.0.41", 80, "10.180.0.1:80", false},
		{"external to nodePort", "203.0.113.2", NULL, "192.168.0.2", 3001, "10.180.0.1:80", true},
		{"nodePort bypasses LoadBalancerSourceRanges", "203.0.113.130", NULL, "192.168.0.2", 3001, "10.180.0.1:80", true},
		{"accepted external to LB1", "203.0.113.2", NULL, "1.2.3.4", 80, "10.180.0.1:80", true},
		{"accepted external to LB2", "203.0.113.2", NULL, "5.6.7.8", 80, "10.180.0.1:80", true},
		{"blocked external to LB1", "203.0.113.130", NULL, "1.2.3.4", 80, "DROP", false},
		{"blocked external to LB2", "203.0.113.130", NULL, "5.6.7.8", 80, "DROP", false},
		{"pod to LB1 (blocked by LoadBalancerSourceRanges)", "10.0.0.2", NULL, "1.2.3.4", 80, "DROP", false},
		{"pod to LB2 (blocked by LoadBalancerSourceRanges)", "10.0.0.2", NULL, "5.6.7.8", 80, "DROP", false},
		{"node to LB1 (allowed by LoadBalancerSourceRanges)", "192.168.0.2", NULL, "1.2.3.4", 80, "10.180.0.1:80", true},
		{"node to LB2 (allowed by LoadBalancerSourceRanges)", "192.168.0.2", NULL, "5.6.7.8", 80, "10.180.0.1:80", true},
		{"same node to LB1, SNATted to LB1 (implicitly allowed)", "1.2.3.4", NULL, "1.2.3.4", 80, "10.180.0.1:80", true},
		{"same node to LB2, SNATted to LB2 (implicitly allowed)", "5.6.7.8", NULL, "5.6.7.8", 80, "10.180.0.1:80", true},
	};
	RUN_FLOWS(&p, flows);
	autofree char *t = kubeproxy_ruleset(&p, NODE);
	/* The node's own address is in a range: the load-balancer IPs too. */
	autofree char *base = kubeproxy_service_base("ns1", "svc1", TB_PROTOCOL_TCP, "p80");
	autofree char *fw = xasprintf("add rule ip kube-proxy firewall-%s ip saddr != { 192.168.0.0/24 , 203.0.113.0/25 , 1.2.3.4 , 5.6.7.8 } drop", base);
	CHECK_LINE(t, fw);
	dump("load-balancer", t);
	plan_free(&p);
}

static void nodeport_service(struct plan *p)
{
	struct plan_service *s = svc(p, "ns1", "svc1", PLAN_SERVICE_NODE_PORT, "172.30.0.41");
	port(s, "p80", TB_PROTOCOL_TCP, 80, 3001);
	ep(s, "10.180.0.1", NODE_NONE, 80);
	ep(s, "10.180.2.1", NODE, 80);
}

TEST(kubeproxy_flows_node_ports)
{
	/* nodePortAddresses of the fake proxier: 192.168.0.2/32. */
	struct plan p;
	lab_init(&p);
	nodeport_service(&p);
	static const struct flow flows[] = {
		{"pod to cluster IP", "10.0.0.2", NULL, "172.30.0.41", 80, "10.180.0.1:80, 10.180.2.1:80", false},
		{"external to nodePort", "203.0.113.2", NULL, "192.168.0.2", 3001, "10.180.0.1:80, 10.180.2.1:80", true},
		{"node to nodePort", "192.168.0.2", NULL, "192.168.0.2", 3001, "10.180.0.1:80, 10.180.2.1:80", true},
		{"secondary nodeIP ignores NodePorts", "203.0.113.2", NULL, "192.168.1.2", 3001, "", false},
	};
	RUN_FLOWS(&p, flows);

	/* Two CIDRs: both of the node's addresses in them take NodePorts. */
	p.kube_proxy.node_port_addresses = xrealloc(p.kube_proxy.node_port_addresses, 2 * sizeof(struct ipv4_prefix));
	p.kube_proxy.node_port_addresses[0] = cidr_of("192.168.0.0/24");
	p.kube_proxy.node_port_addresses[1] = cidr_of("192.168.1.0/24");
	p.kube_proxy.n_node_port_addresses = 2;
	static const struct flow alt[] = {
		{"external to nodePort", "203.0.113.2", NULL, "192.168.0.2", 3001, "10.180.0.1:80, 10.180.2.1:80", true},
		{"external to nodePort on secondary IP", "203.0.113.2", NULL, "192.168.1.2", 3001, "10.180.0.1:80, 10.180.2.1:80", true},
		{"the external IP is no NodePort address", "203.0.113.2", NULL, "192.168.99.11", 3001, "", false},
	};
	RUN_FLOWS(&p, alt);
	autofree char *t = kubeproxy_ruleset(&p, NODE);
	CHECK_LINE(t, "add element ip kube-proxy nodeport-ips { 192.168.0.2 }");
	CHECK_LINE(t, "add element ip kube-proxy nodeport-ips { 192.168.1.2 }");
	CHECK_NO_LINE(t, "add element ip kube-proxy nodeport-ips { 192.168.99.11 }");

	/* None given: the nftables mode's default, the node's primary address. */
	free(p.kube_proxy.node_port_addresses);
	p.kube_proxy.node_port_addresses = NULL;
	p.kube_proxy.n_node_port_addresses = 0;
	RUN_FLOWS(&p, flows);
	autofree char *d = kubeproxy_ruleset(&p, NODE);
	CHECK_LINE(d, "add element ip kube-proxy nodeport-ips { 192.168.0.2 }");
	CHECK_INT(count_substr(d, "add element ip kube-proxy nodeport-ips"), 1);
	plan_free(&p);
}

TEST(kubeproxy_node_ports_on_every_address)
{
	/* 0.0.0.0/0: no nodeport-ips set; fib says which addresses are the
	 * node's, loopback excepted. */
	struct plan p;
	lab_init(&p);
	nodeport_service(&p);
	p.kube_proxy.node_port_addresses[0] = cidr_of("0.0.0.0/0");
	autofree char *t = kubeproxy_ruleset(&p, NODE);
	dump("nodeports-everywhere", t);
	CHECK(strstr(t, "nodeport-ips") == NULL);
	CHECK_LINE(t, "add rule ip kube-proxy services fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports");
	CHECK_LINE(t, "add rule ip kube-proxy nodeport-endpoints-check ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @no-endpoint-nodeports");
	static const struct flow flows[] = {
		{"external to nodePort", "203.0.113.2", NULL, "192.168.0.2", 3001, "10.180.0.1:80, 10.180.2.1:80", true},
		{"external to nodePort on secondary IP", "203.0.113.2", NULL, "192.168.1.2", 3001, "10.180.0.1:80, 10.180.2.1:80", true},
		{"external to nodePort on the external IP", "203.0.113.2", NULL, "192.168.99.11", 3001, "10.180.0.1:80, 10.180.2.1:80", true},
	};
	RUN_FLOWS(&p, flows);
	plan_free(&p);
}

/* A LoadBalancer with an externalIP, one endpoint elsewhere and one here. */
static void external_service(struct plan *p, bool local)
{
	struct plan_service *s = svc(p, "ns1", "svc1", PLAN_SERVICE_LOAD_BALANCER, "172.30.0.41");
	port(s, "p80", TB_PROTOCOL_TCP, 80, 3001);
	add_ip(&s->external_ips, &s->n_external_ips, "192.168.99.11");
	add_ip(&s->load_balancer_ips, &s->n_load_balancer_ips, "1.2.3.4");
	s->external_local = local;
	ep(s, "10.180.0.1", NODE_NONE, 80);
	ep(s, "10.180.2.1", NODE, 80);
}

TEST(kubeproxy_flows_external_traffic_policy_local)
{
	struct plan p;
	lab_init(&p);
	external_service(&p, true);
	static const struct flow flows[] = {
		{"pod to cluster IP hits both endpoints, unmasqueraded", "10.0.0.2", NULL, "172.30.0.41", 80, "10.180.0.1:80, 10.180.2.1:80", false},
		{"pod to external IP hits both endpoints, unmasqueraded", "10.0.0.2", NULL, "192.168.99.11", 80, "10.180.0.1:80, 10.180.2.1:80", false},
		{"external to external IP hits only local endpoint, unmasqueraded", "203.0.113.2", NULL, "192.168.99.11", 80, "10.180.2.1:80", false},
		{"pod to LB IP hits only both endpoints, unmasqueraded", "10.0.0.2", NULL, "1.2.3.4", 80, "10.180.0.1:80, 10.180.2.1:80", false},
		{"external to LB IP hits only local endpoint, unmasqueraded", "203.0.113.2", NULL, "1.2.3.4", 80, "10.180.2.1:80", false},
		{"pod to NodePort hits both endpoints, unmasqueraded", "10.0.0.2", NULL, "192.168.0.2", 3001, "10.180.0.1:80, 10.180.2.1:80", false},
		{"external to NodePort hits only local endpoint, unmasqueraded", "203.0.113.2", NULL, "192.168.0.2", 3001, "10.180.2.1:80", false},
		{"node to LB IP: any endpoint, masqueraded", "192.168.0.2", NULL, "1.2.3.4", 80, "10.180.0.1:80, 10.180.2.1:80", true},
	};
	RUN_FLOWS(&p, flows);
	autofree char *t = kubeproxy_ruleset(&p, NODE);
	dump("external-local", t);
	CHECK(strstr(t, "add chain ip kube-proxy local-") != NULL);

	/* The other node has no endpoint of its own: outside clients are
	 * dropped there, the cluster's own traffic short-circuits. */
	static const struct flow other[] = {
		{"external to LB IP, no local endpoint", "203.0.113.2", NULL, "1.2.3.4", 80, "DROP", false},
		{"external to NodePort, no local endpoint", "203.0.113.2", NULL, "192.168.0.3", 3001, "DROP", false},
		{"pod to LB IP, short-circuited", "10.0.0.2", NULL, "1.2.3.4", 80, "10.180.0.1:80, 10.180.2.1:80", false},
		{"pod to NodePort, short-circuited", "10.0.0.2", NULL, "192.168.0.3", 3001, "10.180.0.1:80, 10.180.2.1:80", false},
	};
	p.kube_proxy.n_node_port_addresses = 0; /* node2's own address */
	autofree char *o = kubeproxy_ruleset(&p, NODE2);
	CHECK_LINE(o, "add element ip kube-proxy no-endpoint-nodeports { tcp . 3001 comment \"ns1/svc1:p80\" : drop }");
	CHECK(strstr(o, "add chain ip kube-proxy local-") == NULL);
	{
		struct tracer tr;
		tracer_load(&tr, o);
		uint32_t node2 = ip_of("192.168.0.3");
		tr.local = &node2;
		tr.n_local = 1;
		for (size_t i = 0; i < ARRAY_SIZE(other); i++) {
			bool masq;
			const char *got = trace(&tr, other[i].src, "tcp", other[i].dst, other[i].port, &masq);
			if (strcmp(got, other[i].output) || masq != other[i].masq)
				harness_fail(__FILE__, __LINE__, "%s: got \"%s\"%s", other[i].name, got,
					     masq ? " masqueraded" : "");
		}
		tracer_free(&tr);
	}
	plan_free(&p);
}

TEST(kubeproxy_flows_external_traffic_policy_cluster)
{
	struct plan p;
	lab_init(&p);
	external_service(&p, false);
	static const struct flow flows[] = {
		{"pod to cluster IP hits both endpoints, unmasqueraded", "10.0.0.2", NULL, "172.30.0.41", 80, "10.180.0.1:80, 10.180.2.1:80", false},
		{"pod to external IP hits both endpoints, masqueraded", "10.0.0.2", NULL, "192.168.99.11", 80, "10.180.0.1:80, 10.180.2.1:80", true},
		{"external to external IP hits both endpoints, masqueraded", "203.0.113.2", NULL, "192.168.99.11", 80, "10.180.0.1:80, 10.180.2.1:80", true},
		{"pod to LB IP hits both endpoints, masqueraded", "10.0.0.2", NULL, "1.2.3.4", 80, "10.180.0.1:80, 10.180.2.1:80", true},
		{"external to LB IP hits both endpoints, masqueraded", "203.0.113.2", NULL, "1.2.3.4", 80, "10.180.0.1:80, 10.180.2.1:80", true},
		{"pod to NodePort hits both endpoints, masqueraded", "10.0.0.2", NULL, "192.168.0.2", 3001, "10.180.0.1:80, 10.180.2.1:80", true},
		{"external to NodePort hits both endpoints, masqueraded", "203.0.113.2", NULL, "192.168.0.2", 3001, "10.180.0.1:80, 10.180.2.1:80", true},
	};
	RUN_FLOWS(&p, flows);
	plan_free(&p);
}

/* TestTerminatingEndpointsTrafficPolicyLocal and ...Cluster: a
 * LoadBalancer (172.30.1.1, 1.2.3.4) whose endpoints' conditions vary. */
struct cond_ep {
	const char *addr;
	bool here, ready, serving, terminating;
};

static void terminating_case(bool local, const struct cond_ep *eps, size_t n, const struct flow *flows, size_t n_flows,
			     const char *where)
{
	struct plan p;
	lab_init(&p);
	struct plan_service *s = svc(&p, "ns1", "svc1", PLAN_SERVICE_LOAD_BALANCER, "172.30.1.1");
	port(s, "", TB_PROTOCOL_TCP, 80, 0);
	add_ip(&s->load_balancer_ips, &s->n_load_balancer_ips, "1.2.3.4");
	s->external_local = local;
	for (size_t i = 0; i < n; i++)
		ep_cond(s, eps[i].addr, eps[i].here ? NODE : NODE2, eps[i].ready, eps[i].serving, eps[i].terminating);
	run_flows(&p, NODE, flows, n_flows, where);
	plan_free(&p);
}

#define TERMINATING(local, eps, flows) terminating_case((local), (eps), ARRAY_SIZE(eps), (flows), ARRAY_SIZE(flows), #eps)

static const struct cond_ep ready_exist[] = {
	{"10.0.1.1", true, true, true, false},   {"10.0.1.2", true, true, true, false},
	{"10.0.1.3", true, false, true, true},   {"10.0.1.4", true, false, false, true},
	{"10.0.1.5", false, true, true, false},
};
static const struct cond_ep only_terminating[] = {
	{"10.0.1.2", true, false, true, true},
	{"10.0.1.3", true, false, true, true},
	{"10.0.1.4", true, false, false, true},
	{"10.0.1.5", false, true, true, false},
};
static const struct cond_ep remote_terminating[] = {{"10.0.1.5", false, false, true, true}};
static const struct cond_ep none_usable[] = {{"10.0.1.5", true, false, false, true}, {"10.0.1.5", false, false, false, true}};

TEST(kubeproxy_flows_terminating_endpoints_policy_local)
{
	static const struct flow ready[] = {
		{"pod to clusterIP", "10.0.0.2", NULL, "172.30.1.1", 80, "10.0.1.1:80, 10.0.1.2:80, 10.0.1.5:80", false},
		{"external to LB", "203.0.113.2", NULL, "1.2.3.4", 80, "10.0.1.1:80, 10.0.1.2:80", false},
	};
	TERMINATING(true, ready_exist, ready);
	static const struct flow only[] = {
		{"pod to clusterIP", "10.0.0.2", NULL, "172.30.1.1", 80, "10.0.1.5:80", false},
		{"external to LB", "203.0.113.2", NULL, "1.2.3.4", 80, "10.0.1.2:80, 10.0.1.3:80", false},
	};
	TERMINATING(true, only_terminating, only);
	static const struct flow remote[] = {
		{"pod to clusterIP", "10.0.0.2", NULL, "172.30.1.1", 80, "10.0.1.5:80", false},
		{"external to LB, no locally-usable endpoints", "203.0.113.2", NULL, "1.2.3.4", 80, "DROP", false},
	};
	TERMINATING(true, remote_terminating, remote);
	static const struct flow none[] = {
		{"pod to clusterIP, no usable endpoints", "10.0.0.2", NULL, "172.30.1.1", 80, "REJECT", false},
		{"external to LB, no usable endpoints", "203.0.113.2", NULL, "1.2.3.4", 80, "REJECT", false},
	};
	TERMINATING(true, none_usable, none);
	static const struct cond_ep no_endpoints[1];
	terminating_case(true, no_endpoints, 0, none, ARRAY_SIZE(none), "deleted");
}

TEST(kubeproxy_flows_terminating_endpoints_policy_cluster)
{
	static const struct cond_ep ready_cluster[] = {
		{"10.0.1.1", true, true, true, false},   {"10.0.1.2", true, true, true, false},
		{"10.0.1.3", false, false, true, true},  {"10.0.1.4", false, false, false, true},
		{"10.0.1.5", false, true, true, false},
	};
	static const struct flow ready[] = {
		{"pod to clusterIP", "10.0.0.2", NULL, "172.30.1.1", 80, "10.0.1.1:80, 10.0.1.2:80, 10.0.1.5:80", false},
		{"external to LB", "203.0.113.2", NULL, "1.2.3.4", 80, "10.0.1.1:80, 10.0.1.2:80, 10.0.1.5:80", true},
	};
	TERMINATING(false, ready_cluster, ready);
	static const struct cond_ep only_cluster[] = {
		{"10.0.1.2", true, false, true, true},
		{"10.0.1.3", true, false, true, true},
		{"10.0.1.4", false, false, false, true},
		{"10.0.1.5", false, false, true, true},
	};
	static const struct flow only[] = {
		{"pod to clusterIP", "10.0.0.2", NULL, "172.30.1.1", 80, "10.0.1.2:80, 10.0.1.3:80, 10.0.1.5:80", false},
		{"external to LB", "203.0.113.2", NULL, "1.2.3.4", 80, "10.0.1.2:80, 10.0.1.3:80, 10.0.1.5:80", true},
	};
	TERMINATING(false, only_cluster, only);
	static const struct flow remote[] = {
		{"pod to clusterIP", "10.0.0.2", NULL, "172.30.1.1", 80, "10.0.1.5:80", false},
		{"external to LB", "203.0.113.2", NULL, "1.2.3.4", 80, "10.0.1.5:80", true},
	};
	TERMINATING(false, remote_terminating, remote);
	static const struct flow none[] = {
		{"pod to clusterIP", "10.0.0.2", NULL, "172.30.1.1", 80, "REJECT", false},
		{"external to LB", "203.0.113.2", NULL, "1.2.3.4", 80, "REJECT", false},
	};
	TERMINATING(false, none_usable, none);
}

/* TestInternalExternalMasquerade: three LoadBalancers (Cluster; external
 * Local; internal Local), each with an endpoint here and one elsewhere,
 * under the four combinations of masqueradeAll and a local detector. */
static void masquerade_services(struct plan *p)
{
	static const char *const ns[] = {"ns1", "ns2", "ns3"}, *const name[] = {"svc1", "svc2", "svc3"};
	static const char *const cip[] = {"172.30.0.41", "172.30.0.42", "172.30.0.43"};
	static const char *const lb[] = {"1.2.3.4", "5.6.7.8", "9.10.11.12"};
	static const char *const here[] = {"10.180.0.1", "10.180.0.2", "10.180.0.3"};
	static const char *const there[] = {"10.180.1.1", "10.180.1.2", "10.180.1.3"};
	for (int i = 0; i < 3; i++) {
		struct plan_service *s = svc(p, ns[i], name[i], PLAN_SERVICE_LOAD_BALANCER, cip[i]);
		port(s, "p80", TB_PROTOCOL_TCP, 80, (uint16_t)(3001 + i));
		add_ip(&s->load_balancer_ips, &s->n_load_balancer_ips, lb[i]);
		s->external_local = i == 1;
		s->internal_local = i == 2;
		ep(s, here[i], NODE, 80);
		ep(s, there[i], NODE2, 80);
	}
}

struct masq_flow {
	const char *name, *src, *dst;
	unsigned port;
	const char *output;
	bool masq;
};

static const struct masq_flow masq_flows[] = {
	{"pod to ClusterIP", "10.0.0.2", "172.30.0.41", 80, "10.180.0.1:80, 10.180.1.1:80", false},
	{"pod to NodePort", "10.0.0.2", "192.168.0.2", 3001, "10.180.0.1:80, 10.180.1.1:80", true},
	{"pod to LB", "10.0.0.2", "1.2.3.4", 80, "10.180.0.1:80, 10.180.1.1:80", true},
	{"node to ClusterIP", "192.168.0.2", "172.30.0.41", 80, "10.180.0.1:80, 10.180.1.1:80", true},
	{"node to NodePort", "192.168.0.2", "192.168.0.2", 3001, "10.180.0.1:80, 10.180.1.1:80", true},
	{"node to LB", "192.168.0.2", "1.2.3.4", 80, "10.180.0.1:80, 10.180.1.1:80", true},
	{"external to ClusterIP", "203.0.113.2", "172.30.0.41", 80, "10.180.0.1:80, 10.180.1.1:80", true},
	{"external to NodePort", "203.0.113.2", "192.168.0.2", 3001, "10.180.0.1:80, 10.180.1.1:80", true},
	{"external to LB", "203.0.113.2", "1.2.3.4", 80, "10.180.0.1:80, 10.180.1.1:80", true},
	{"pod to ClusterIP with eTP:Local", "10.0.0.2", "172.30.0.42", 80, "10.180.0.2:80, 10.180.1.2:80", false},
	{"pod to NodePort with eTP:Local", "10.0.0.2", "192.168.0.2", 3002, "10.180.0.2:80, 10.180.1.2:80", false},
	{"pod to LB with eTP:Local", "10.0.0.2", "5.6.7.8", 80, "10.180.0.2:80, 10.180.1.2:80", false},
	{"node to ClusterIP with eTP:Local", "192.168.0.2", "172.30.0.42", 80, "10.180.0.2:80, 10.180.1.2:80", true},
	{"node to NodePort with eTP:Local", "192.168.0.2", "192.168.0.2", 3002, "10.180.0.2:80, 10.180.1.2:80", true},
	{"node to LB with eTP:Local", "192.168.0.2", "5.6.7.8", 80, "10.180.0.2:80, 10.180.1.2:80", true},
	{"external to ClusterIP with eTP:Local", "203.0.113.2", "172.30.0.42", 80, "10.180.0.2:80, 10.180.1.2:80", true},
	{"external to NodePort with eTP:Local", "203.0.113.2", "192.168.0.2", 3002, "10.180.0.2:80", false},
	{"external to LB with eTP:Local", "203.0.113.2", "5.6.7.8", 80, "10.180.0.2:80", false},
	{"pod to ClusterIP with iTP:Local", "10.0.0.2", "172.30.0.43", 80, "10.180.0.3:80", false},
	{"pod to NodePort with iTP:Local", "10.0.0.2", "192.168.0.2", 3003, "10.180.0.3:80, 10.180.1.3:80", true},
	{"pod to LB with iTP:Local", "10.0.0.2", "9.10.11.12", 80, "10.180.0.3:80, 10.180.1.3:80", true},
	{"node to ClusterIP with iTP:Local", "192.168.0.2", "172.30.0.43", 80, "10.180.0.3:80", true},
	{"node to NodePort with iTP:Local", "192.168.0.2", "192.168.0.2", 3003, "10.180.0.3:80, 10.180.1.3:80", true},
	{"node to LB with iTP:Local", "192.168.0.2", "9.10.11.12", 80, "10.180.0.3:80, 10.180.1.3:80", true},
	{"external to ClusterIP with iTP:Local", "203.0.113.2", "172.30.0.43", 80, "10.180.0.3:80", true},
	{"external to NodePort with iTP:Local", "203.0.113.2", "192.168.0.2", 3003, "10.180.0.3:80, 10.180.1.3:80", true},
	{"external to LB with iTP:Local", "203.0.113.2", "9.10.11.12", 80, "10.180.0.3:80, 10.180.1.3:80", true},
};

struct masq_override {
	const char *name, *output;
	int masq; /* -1: as the base case */
};

static void masquerade_case(bool masquerade_all, bool detector, const struct masq_override *over, size_t n_over)
{
	struct plan p;
	lab_init(&p);
	p.kube_proxy.masquerade_all = masquerade_all;
	p.kube_proxy.has_cluster_cidr = detector;
	masquerade_services(&p);
	struct flow flows[ARRAY_SIZE(masq_flows)];
	size_t used = 0;
	for (size_t i = 0; i < ARRAY_SIZE(masq_flows); i++) {
		const struct masq_flow *m = &masq_flows[i];
		flows[i] = (struct flow){m->name, m->src, NULL, m->dst, m->port, m->output, m->masq};
		for (size_t j = 0; j < n_over; j++)
			if (strcmp(over[j].name, m->name) == 0) {
				used++;
				if (over[j].output)
					flows[i].output = over[j].output;
				if (over[j].masq >= 0)
					flows[i].masq = over[j].masq;
			}
	}
	CHECK_INT(used, n_over);
	autofree char *where = xasprintf("masqueradeAll %d, detector %d", masquerade_all, detector);
	run_flows(&p, NODE, flows, ARRAY_SIZE(flows), where);
	autofree char *t = kubeproxy_ruleset(&p, NODE);
	autofree char *name = xasprintf("masquerade-%d-%d", masquerade_all, detector);
	dump(name, t);
	plan_free(&p);
}

TEST(kubeproxy_flows_internal_external_masquerade)
{
	masquerade_case(false, true, NULL, 0);
	/* Without a detector, ClusterIP traffic is taken for the cluster's
	 * own (no masquerade), and pods get no short-circuit. */
	static const struct masq_override no_detector[] = {
		{"node to ClusterIP", NULL, 0},
		{"node to ClusterIP with eTP:Local", NULL, 0},
		{"node to ClusterIP with iTP:Local", NULL, 0},
		{"external to ClusterIP", NULL, 0},
		{"external to ClusterIP with eTP:Local", NULL, 0},
		{"external to ClusterIP with iTP:Local", NULL, 0},
		{"pod to NodePort with eTP:Local", "10.180.0.2:80", -1},
		{"pod to LB with eTP:Local", "10.180.0.2:80", -1},
	};
	masquerade_case(false, false, no_detector, ARRAY_SIZE(no_detector));
	static const struct masq_override all[] = {
		{"pod to ClusterIP", NULL, 1},
		{"pod to ClusterIP with eTP:Local", NULL, 1},
		{"pod to ClusterIP with iTP:Local", NULL, 1},
	};
	masquerade_case(true, true, all, ARRAY_SIZE(all));
	static const struct masq_override all_no_detector[] = {
		{"pod to ClusterIP", NULL, 1},
		{"pod to ClusterIP with eTP:Local", NULL, 1},
		{"pod to ClusterIP with iTP:Local", NULL, 1},
		{"pod to NodePort with eTP:Local", "10.180.0.2:80", -1},
		{"pod to LB with eTP:Local", "10.180.0.2:80", -1},
	};
	masquerade_case(true, false, all_no_detector, ARRAY_SIZE(all_no_detector));
}

TEST(kubeproxy_flows_internal_traffic_policy)
{
	static const struct {
		bool local;
		size_t nodes[3];
		const char *output;
	} cases[] = {
		{false, {NODE, NODE2, NODE2}, "10.0.1.1:80, 10.0.1.2:80, 10.0.1.3:80"},
		{true, {NODE, NODE2, NODE2}, "10.0.1.1:80"},
		{true, {NODE, NODE, NODE2}, "10.0.1.1:80, 10.0.1.2:80"},
		{true, {NODE2, NODE2, NODE2}, "DROP"},
	};
	static const char *const addrs[] = {"10.0.1.1", "10.0.1.2", "10.0.1.3"};
	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		struct plan p;
		lab_init(&p);
		struct plan_service *s = svc(&p, "ns1", "svc1", PLAN_SERVICE_CLUSTER_IP, "172.30.1.1");
		port(s, "", TB_PROTOCOL_TCP, 80, 0);
		s->internal_local = cases[c].local;
		for (int i = 0; i < 3; i++)
			ep(s, addrs[i], cases[c].nodes[i], 80);
		struct flow f[] = {{"pod to ClusterIP", "10.0.0.2", NULL, "172.30.1.1", 80, cases[c].output, false}};
		autofree char *where = xasprintf("case %zu", c);
		run_flows(&p, NODE, f, 1, where);
		/* Endpoints deleted: rejected. */
		for (size_t i = 0; i < s->n_endpoints; i++)
			free(s->endpoints[i].ports);
		s->n_endpoints = 0;
		struct flow g[] = {{"endpoints deleted", "10.0.0.2", NULL, "172.30.1.1", 80, "REJECT", false}};
		run_flows(&p, NODE, g, 1, where);
		plan_free(&p);
	}
}

/* ------------------------------------------------------- more semantics */

TEST(kubeproxy_session_affinity)
{
	struct plan p;
	lab_init(&p);
	struct plan_service *s = svc(&p, "default", "web", PLAN_SERVICE_NODE_PORT, "172.30.0.10");
	port(s, "http", TB_PROTOCOL_TCP, 80, 30080);
	s->affinity = true;
	s->affinity_timeout = 600;
	s->external_local = true;
	ep(s, "10.0.0.5", NODE, 8080);
	ep(s, "10.0.2.5", NODE2, 8080);
	autofree char *t = kubeproxy_ruleset(&p, NODE);
	dump("affinity", t);
	autofree char *b1 = kubeproxy_endpoint_base("default", "web", TB_PROTOCOL_TCP, "http", ip_of("10.0.0.5"), 8080);
	autofree char *b2 = kubeproxy_endpoint_base("default", "web", TB_PROTOCOL_TCP, "http", ip_of("10.0.2.5"), 8080);
	autofree char *sb = kubeproxy_service_base("default", "web", TB_PROTOCOL_TCP, "http");
	/* A set per reachable endpoint, with the service's timeout ... */
	autofree char *set1 = xasprintf("add set ip kube-proxy affinity-%s { type ipv4_addr ; flags dynamic,timeout ; timeout 600s ; }", b1);
	autofree char *set2 = xasprintf("add set ip kube-proxy affinity-%s { type ipv4_addr ; flags dynamic,timeout ; timeout 600s ; }", b2);
	CHECK_LINE(t, set1);
	CHECK_LINE(t, set2);
	/* ... filled by the endpoint chain before its DNAT ... */
	autofree char *upd = xasprintf("add rule ip kube-proxy endpoint-%s update @affinity-%s { ip saddr }", b1, b1);
	CHECK_LINE(t, upd);
	/* ... and read in both policy chains before the random pick. */
	autofree char *svc_pin = xasprintf("add rule ip kube-proxy service-%s ip saddr @affinity-%s goto endpoint-%s", sb, b2, b2);
	autofree char *local_pin = xasprintf("add rule ip kube-proxy local-%s ip saddr @affinity-%s goto endpoint-%s", sb, b1, b1);
	autofree char *local_pick = xasprintf("add rule ip kube-proxy local-%s numgen random mod 1 vmap { 0 : goto endpoint-%s }", sb, b1);
	CHECK_LINE(t, svc_pin);
	CHECK_LINE(t, local_pin);
	CHECK_LINE(t, local_pick);
	CHECK(strstr(t, svc_pin) < strstr(t, "numgen random mod 2"));
	/* The default timeout: 10800 s. */
	p.services[0].affinity_timeout = 0;
	autofree char *d = kubeproxy_ruleset(&p, NODE);
	CHECK(strstr(d, "timeout 10800s ;") != NULL);
	plan_free(&p);
}

TEST(kubeproxy_masquerade_all_and_no_detector_rules)
{
	struct plan p;
	lab_init(&p);
	struct plan_service *s = svc(&p, "ns1", "svc1", PLAN_SERVICE_CLUSTER_IP, "172.30.0.41");
	port(s, "dns", TB_PROTOCOL_UDP, 53, 0);
	ep(s, "10.180.0.1", NODE, 53);
	autofree char *base = kubeproxy_service_base("ns1", "svc1", TB_PROTOCOL_UDP, "dns");
	autofree char *t = kubeproxy_ruleset(&p, NODE);
	autofree char *detected = xasprintf("add rule ip kube-proxy service-%s ip daddr 172.30.0.41 udp dport 53 ip saddr != 10.0.0.0/8 jump mark-for-masquerade", base);
	CHECK_LINE(t, detected);
	p.kube_proxy.masquerade_all = true;
	autofree char *a = kubeproxy_ruleset(&p, NODE);
	autofree char *all = xasprintf("add rule ip kube-proxy service-%s ip daddr 172.30.0.41 udp dport 53 jump mark-for-masquerade", base);
	CHECK_LINE(a, all);
	CHECK_NO_LINE(a, detected);
	p.kube_proxy.masquerade_all = false;
	p.kube_proxy.has_cluster_cidr = false;
	autofree char *n = kubeproxy_ruleset(&p, NODE);
	CHECK(strstr(n, "mark-for-masquerade\n") && !strstr(n, "ip saddr != 10.0.0.0/8"));
	/* The detector's CIDR is written as a network. */
	p.kube_proxy.has_cluster_cidr = true;
	p.kube_proxy.cluster_cidr = cidr_of("10.244.3.7/16");
	autofree char *c = kubeproxy_ruleset(&p, NODE);
	CHECK(strstr(c, "ip saddr != 10.244.0.0/16 jump") != NULL);
	plan_free(&p);
}

TEST(kubeproxy_headless_odd_names_and_shared_addresses)
{
	struct plan p;
	lab_init(&p);
	/* Headless: no rules at all. */
	struct plan_service *s = svc(&p, "ns1", "headless", PLAN_SERVICE_CLUSTER_IP, NULL);
	port(s, "p80", TB_PROTOCOL_TCP, 80, 0);
	ep(s, "10.180.0.1", NODE, 80);
	/* A name nft would read as syntax is left out. */
	s = svc(&p, "ns1", "bad name;", PLAN_SERVICE_CLUSTER_IP, "172.30.0.9");
	port(s, "p80", TB_PROTOCOL_TCP, 80, 0);
	/* One externalIP listed twice, and claimed by a second service. */
	s = svc(&p, "ns1", "a", PLAN_SERVICE_CLUSTER_IP, "172.30.0.10");
	port(s, "p80", TB_PROTOCOL_TCP, 80, 0);
	add_ip(&s->external_ips, &s->n_external_ips, "192.168.99.50");
	add_ip(&s->external_ips, &s->n_external_ips, "192.168.99.50");
	ep(s, "10.180.0.1", NODE, 80);
	ep(s, "10.180.0.1", NODE2, 80); /* the same endpoint twice: once, the local one */
	s = svc(&p, "ns1", "b", PLAN_SERVICE_CLUSTER_IP, "172.30.0.11");
	port(s, "p80", TB_PROTOCOL_TCP, 80, 0);
	add_ip(&s->external_ips, &s->n_external_ips, "192.168.99.50");
	ep(s, "10.180.0.2", NODE, 80);
	/* An endpoint by its pod: the machine's address. */
	size_t pod = add_machine(&p, MACHINE_POD, "pod-c", "10.180.0.3");
	s = svc(&p, "ns1", "c", PLAN_SERVICE_CLUSTER_IP, "172.30.0.12");
	port(s, "p80", TB_PROTOCOL_TCP, 80, 0);
	struct plan_endpoint *e = ep(s, "0.0.0.0", NODE, 8080);
	e->address = 0;
	e->machine = pod;
	autofree char *t = kubeproxy_ruleset(&p, NODE);
	dump("odd", t);
	CHECK(strstr(t, "headless") == NULL);
	CHECK(strstr(t, "bad name") == NULL && strstr(t, "172.30.0.9") == NULL);
	CHECK_INT(count_substr(t, "add element ip kube-proxy service-ips { 192.168.99.50 . tcp . 80 :"), 1);
	CHECK_INT(count_substr(t, "dnat to 10.180.0.1:80\n"), 1);
	CHECK(strstr(t, "dnat to 10.180.0.3:8080\n") != NULL);
	plan_free(&p);
}

TEST(kubeproxy_add_steps_one_per_node)
{
	struct plan p;
	lab_init(&p);
	overall_services(&p);
	size_t before = p.n_steps;
	kubeproxy_add_steps(&p);
	CHECK_INT(p.n_steps, before + 2);
	const struct step *s = &p.steps[before];
	CHECK_INT(s->kind, STEP_NFT);
	CHECK_INT(s->machine, NODE);
	CHECK_STR(s->u.nft.table, "ip kube-proxy");
	autofree char *t = kubeproxy_ruleset(&p, NODE);
	CHECK_STR(s->u.nft.ruleset, t);
	CHECK_INT(p.steps[before + 1].machine, NODE2);
	plan_free(&p);
}

/* ------------------------------------------------------------ the lab */

/* For kubeproxy.bats' packet test: a node (192.168.0.2 on its eth0 to an
 * outside client) with two pods behind point-to-point links, a third
 * endpoint on another node; a ClusterIP service over the pods, a NodePort
 * one (Cluster), one with externalTrafficPolicy Local whose only endpoint
 * is elsewhere, and one without endpoints. */
TEST(kubeproxy_packet_lab_rule_set)
{
	struct plan p = {0};
	add_machine(&p, MACHINE_LAB, "lab", NULL);
	add_machine(&p, MACHINE_NODE, "node1", "192.168.0.2");
	add_machine(&p, MACHINE_NODE, "node2", "192.168.0.3");
	add_address(&p, NODE, "eth0", "192.168.0.2/24");
	p.pod_cidr = cidr_of("10.0.0.0/16");
	p.service_cidr = cidr_of("10.96.0.0/16");
	p.kube_proxy.has_cluster_cidr = true;
	p.kube_proxy.cluster_cidr = p.pod_cidr;
	struct plan_service *s = svc(&p, "default", "web", PLAN_SERVICE_NODE_PORT, "10.96.0.10");
	port(&p.services[0], "http", TB_PROTOCOL_TCP, 80, 30080);
	ep(s, "10.0.1.2", NODE, 8080);
	ep(s, "10.0.1.3", NODE, 8080);
	s = svc(&p, "default", "local", PLAN_SERVICE_NODE_PORT, "10.96.0.11");
	port(s, "http", TB_PROTOCOL_TCP, 80, 30081);
	s->external_local = true;
	ep(s, "10.0.2.2", NODE2, 8080);
	s = svc(&p, "default", "empty", PLAN_SERVICE_CLUSTER_IP, "10.96.0.12");
	port(s, "http", TB_PROTOCOL_TCP, 80, 0);
	s = svc(&p, "default", "sticky", PLAN_SERVICE_CLUSTER_IP, "10.96.0.13");
	port(s, "http", TB_PROTOCOL_TCP, 80, 0);
	s->affinity = true;
	s->affinity_timeout = 60;
	ep(s, "10.0.1.2", NODE, 8080);
	ep(s, "10.0.1.3", NODE, 8080);
	autofree char *t = kubeproxy_ruleset(&p, NODE);
	CHECK(t != NULL);
	dump("packet-lab", t);
	plan_free(&p);
}

/* ---------------------------------------------------------------- speed */

TEST(kubeproxy_thousand_services_twenty_nodes_fast)
{
	struct plan p = {0};
	add_machine(&p, MACHINE_LAB, "lab", NULL);
	size_t first = p.n_machines;
	for (int i = 0; i < 20; i++) {
		char name[32], addr[32];
		snprintf(name, sizeof(name), "node%d", i + 1);
		snprintf(addr, sizeof(addr), "10.10.0.%d", i + 2);
		add_machine(&p, MACHINE_NODE, name, addr);
	}
	p.pod_cidr = cidr_of("10.0.0.0/16");
	p.service_cidr = cidr_of("10.96.0.0/16");
	p.kube_proxy.has_cluster_cidr = true;
	p.kube_proxy.cluster_cidr = p.pod_cidr;
	for (int i = 0; i < 1000; i++) {
		char name[32], cip[32];
		snprintf(name, sizeof(name), "svc-%d", i);
		snprintf(cip, sizeof(cip), "10.96.%d.%d", i / 250, i % 250 + 1);
		struct plan_service *s = svc(&p, "default", name, i % 4 ? PLAN_SERVICE_CLUSTER_IP : PLAN_SERVICE_NODE_PORT, cip);
		port(s, "http", TB_PROTOCOL_TCP, 80, i % 4 ? 0 : (uint16_t)(30000 + i));
		s->affinity = i % 10 == 0;
		for (int j = 0; j < 3; j++) {
			char addr[32];
			int node = (i + j) % 20;
			snprintf(addr, sizeof(addr), "10.0.%d.%d", node + 1, (i % 250) + 2);
			ep(s, addr, first + (size_t)node, 8080);
		}
	}
	char *rulesets[20];
	long long start = now_ms();
	for (int n = 0; n < 20; n++)
		rulesets[n] = kubeproxy_ruleset(&p, first + (size_t)n);
	long long ms = now_ms() - start;
	size_t bytes = 0, chains = count_substr(rulesets[0], "add chain ");
	dump("thousand-node1", rulesets[0]);
	for (int n = 0; n < 20; n++) {
		bytes += strlen(rulesets[n]);
		free(rulesets[n]);
	}
	/* 1000 service chains, 3000 endpoint chains, 250 external chains and
	 * the 16 of the base on every node. */
	CHECK_INT(chains, 1000 + 3000 + 250 + 16);
	fprintf(stderr, "kubeproxy: 1000 services x 3 endpoints, 20 nodes: %lld ms, %zu bytes of rules\n", ms, bytes);
	/* Well under a second (some 100 ms on two cores); generous for the
	 * sanitizer build, several times slower, on a loaded machine. */
#ifdef __SANITIZE_ADDRESS__
	CHECK(ms < 3000);
#else
	CHECK(ms < 1000);
#endif
	plan_free(&p);
}

TEST(kubeproxy_flows_cluster_ip_with_external_ips_under_local)
{
	/* A ClusterIP service with externalIPs is externally accessible: its
	 * externalTrafficPolicy Local holds for them. */
	struct plan p;
	lab_init(&p);
	struct plan_service *s = svc(&p, "ns1", "svc1", PLAN_SERVICE_CLUSTER_IP, "172.30.0.41");
	port(s, "p80", TB_PROTOCOL_TCP, 80, 0);
	add_ip(&s->external_ips, &s->n_external_ips, "192.168.99.11");
	s->external_local = true;
	ep(s, "10.180.0.1", NODE_NONE, 80);
	ep(s, "10.180.2.1", NODE, 80);
	static const struct flow flows[] = {
		{"external to external IP: the local endpoint, unmasqueraded", "203.0.113.2", NULL, "192.168.99.11", 80, "10.180.2.1:80", false},
		{"pod to external IP: any endpoint", "10.0.0.2", NULL, "192.168.99.11", 80, "10.180.0.1:80, 10.180.2.1:80", false},
		{"pod to cluster IP: any endpoint", "10.0.0.2", NULL, "172.30.0.41", 80, "10.180.0.1:80, 10.180.2.1:80", false},
	};
	RUN_FLOWS(&p, flows);
	/* Without externalIPs the policy means nothing: no local- chain. */
	s = &p.services[0];
	free(s->external_ips);
	s->external_ips = NULL;
	s->n_external_ips = 0;
	autofree char *t = kubeproxy_ruleset(&p, NODE);
	CHECK(strstr(t, "add chain ip kube-proxy local-") == NULL);
	plan_free(&p);
}
