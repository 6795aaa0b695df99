/* NetworkPolicy enforcement, one nft table per node (`ip testbed-netpol`),
 * laid out as a CNI plugin lays its rules out:
 *
 *   chain forward: filter hook forward, priority filter (0), after
 *     kube-proxy's filter chains (-110) and after its DNAT (prerouting),
 *     before masquerade (postrouting). So a packet to a Service is judged
 *     against the endpoint pod it was DNATed to, as Kubernetes specifies:
 *     a pod probed through its Service and at its own address gets the
 *     same verdict. It accepts `ct state established,related` first
 *     (replies of allowed connections always pass; so do their ICMP
 *     errors) and drops `ct state invalid`, as Calico and Cilium do. Then
 *     it jumps, by source address, to the egress chain of each
 *     egress-isolated pod of this node, and by destination address to the
 *     ingress chain of each ingress-isolated pod of this node. Traffic
 *     between two nodes meets the source node's egress rules and the
 *     destination node's ingress rules; between two pods of one node
 *     (bridged: bridge-nf-call-iptables=1 brings it to this hook) both.
 *   chain ingress-NS/NAME, egress-NS/NAME: the union of what the policies
 *     selecting the pod allow, each rule returning (the packet goes on to
 *     the other direction's chain, then the chain's policy accept), then
 *     a counted drop whose comment names the isolating policies. '/'
 *     joins namespace and name because neither may hold it ('-' would make
 *     a-b/c and a/b-c one name); kube-proxy's chain names hold it too.
 *
 * What is not judged, as Kubernetes has it: a pod reaching itself (also
 * through its own Service: hairpin), and traffic between a pod and its
 * own node (the node's own packets take the output and input hooks, never
 * forward). hostNetwork pods are never selected and are no pod peer: they
 * are their node.
 *
 * Sources are judged as they arrive at the pod: kube-proxy masquerades
 * NodePort traffic and the like to the node's address in postrouting,
 * after this hook. Through another node the packet arrives with that
 * node's address, which is what this node's forward hook sees. On the
 * endpoint's own node it is marked for masquerade (kube-proxy's mark
 * 0x4000; later packets of the connection: `ct status snat`) and will
 * leave cbr0 with cbr0's address: such packets go to the pod's chain
 * ingress-NS/NAME/masqueraded, which judges them as from that address
 * (the rules admitting it: no peers, or an ipBlock holding it). */
#define _GNU_SOURCE
#include "plan/netpol_nft.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/selector.h"
#include "plan/plan_passes.h"
#include "util/ipv4.h"
#include "util/util.h"

#define T NETPOL_FAMILY " " NETPOL_TABLE
/* nft chain names are at most 255 bytes; comments at most 128. */
#define CHAIN_MAX 255
#define COMMENT_MAX 127
/* kube-proxy's masquerade mark, as nft lists the match. */
#define MARKED "meta mark & 0x00004000 == 0x00004000"

struct text {
	char *p;
	size_t len;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	autofree char *s = xvasprintf(fmt, ap);
	va_end(ap);
	size_t n = strlen(s);
	t->p = xrealloc(t->p, t->len + n + 1);
	memcpy(t->p + t->len, s, n + 1);
	t->len += n;
}

/* ----------------------------------------------------------- selection */

static const struct plan_namespace *find_namespace(const struct netpol_input *in, const char *name)
{
	for (size_t i = 0; i < in->n_namespaces; i++)
		if (strcmp(in->namespaces[i].name, name) == 0)
			return &in->namespaces[i];
	return NULL;
}

static bool namespace_matches(const struct netpol_input *in, const struct label_selector *s, const char *name)
{
	const struct plan_namespace *ns = find_namespace(in, name);
	if (ns)
		return label_selector_matches(s, ns->labels, ns->n_labels);
	/* A namespace the lab names only through its pods: the API server
	 * would still label it with its name. */
	struct tb_label own = {(char *)"kubernetes.io/metadata.name", (char *)name};
	return label_selector_matches(s, &own, 1);
}

static bool is_pod(const struct plan_machine *m)
{
	return m->kind == MACHINE_POD && !m->host_network && m->address && m->namespace;
}

static bool selects(const struct plan_policy *pol, const struct plan_machine *pod)
{
	return is_pod(pod) && strcmp(pol->namespace, pod->namespace) == 0 &&
	       label_selector_matches(&pol->pod_selector, pod->labels, pod->n_labels);
}

bool netpol_isolated(const struct netpol_input *in, const struct plan_machine *pod, bool ingress)
{
	for (size_t i = 0; i < in->n_policies; i++) {
		const struct plan_policy *pol = &in->policies[i];
		if ((ingress ? pol->ingress : pol->egress) && selects(pol, pod))
			return true;
	}
	return false;
}

bool netpol_peer_selects(const struct netpol_input *in, const struct plan_policy *pol,
			 const struct plan_policy_peer *peer, const struct plan_machine *pod)
{
	if (peer->kind != PLAN_PEER_PODS || !is_pod(pod))
		return false;
	if (peer->has_namespace_selector) {
		if (!namespace_matches(in, &peer->namespace_selector, pod->namespace))
			return false;
	} else if (strcmp(pod->namespace, pol->namespace) != 0) {
		return false;
	}
	return !peer->has_pod_selector || label_selector_matches(&peer->pod_selector, pod->labels, pod->n_labels);
}

static bool in_block(const struct plan_policy_peer *peer, uint32_t a)
{
	if (!ipv4_contains(peer->cidr, a))
		return false;
	for (size_t i = 0; i < peer->n_except; i++)
		if (ipv4_contains(peer->except[i], a))
			return false;
	return true;
}

/* ----------------------------------------------------------- rule text */

static const char *proto_nft(enum tb_protocol p)
{
	return p == TB_PROTOCOL_UDP ? "udp" : p == TB_PROTOCOL_SCTP ? "sctp" : "tcp";
}

/* DST's port named NAME of protocol PROTO, or 0. */
static uint16_t named_port(const struct plan_machine *dst, const char *name, enum tb_protocol proto)
{
	for (size_t i = 0; i < dst->n_ports; i++)
		if (dst->ports[i].protocol == proto && strcmp(dst->ports[i].name, name) == 0)
			return (uint16_t)dst->ports[i].port;
	return 0;
}

/* The match of port entry PT for a known destination DST (ingress): false
 * when it matches nothing there (a name DST has no port of). */
static bool port_match(const struct plan_policy_port *pt, const struct plan_machine *dst, char *buf, size_t n)
{
	const char *pr = proto_nft(pt->protocol);
	if (pt->any_port)
		snprintf(buf, n, "meta l4proto %s", pr);
	else if (pt->name) {
		uint16_t port = named_port(dst, pt->name, pt->protocol);
		if (!port)
			return false;
		snprintf(buf, n, "%s dport %u", pr, port);
	} else if (pt->end_port && pt->end_port != pt->port)
		snprintf(buf, n, "%s dport %u-%u", pr, pt->port, pt->end_port);
	else
		snprintf(buf, n, "%s dport %u", pr, pt->port);
	return true;
}

static void comment(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void comment(struct text *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	autofree char *s = xvasprintf(fmt, ap);
	va_end(ap);
	if (strlen(s) > COMMENT_MAX)
		memcpy(s + COMMENT_MAX - 3, "...", 4);
	put(t, " comment \"%s\"\n", s);
}

/* Addresses as one nft value: "A" or "{ A, B }". */
static void put_addresses(struct text *t, const uint32_t *a, size_t n)
{
	char buf[IPV4_PREFIX_STRLEN];
	if (n == 1) {
		put(t, "%s", ipv4_addr_format(a[0], buf));
		return;
	}
	put(t, "{ ");
	for (size_t i = 0; i < n; i++)
		put(t, "%s%s", i ? ", " : "", ipv4_addr_format(a[i], buf));
	put(t, " }");
}

/* A prefix as nft lists it: a /32 is its address. */
static const char *prefix_nft(struct ipv4_prefix p, char buf[IPV4_PREFIX_STRLEN])
{
	return p.len == 32 ? ipv4_addr_format(p.addr, buf) : ipv4_network_format(p, buf);
}

static void put_block(struct text *t, const char *field, const struct plan_policy_peer *peer)
{
	char buf[IPV4_PREFIX_STRLEN];
	put(t, " ip %s %s", field, prefix_nft(peer->cidr, buf));
	if (!peer->n_except)
		return;
	put(t, " ip %s != { ", field);
	for (size_t i = 0; i < peer->n_except; i++)
		put(t, "%s%s", i ? ", " : "", prefix_nft(peer->except[i], buf));
	put(t, " }");
}

/* Pods (by address) a rule's pod peers select, in plan order, once each. */
static size_t peer_pods(const struct plan *p, const struct netpol_input *in, const struct plan_policy *pol,
			const struct plan_policy_rule *r, uint32_t *out, size_t *machines)
{
	size_t n = 0;
	for (size_t m = 0; m < p->n_machines; m++) {
		bool hit = false;
		for (size_t k = 0; k < r->n_peers && !hit; k++)
			hit = netpol_peer_selects(in, pol, &r->peers[k], &p->machines[m]);
		if (hit) {
			out[n] = p->machines[m].address;
			if (machines)
				machines[n] = m;
			n++;
		}
	}
	return n;
}

struct chain_ctx {
	const struct plan *p;
	const struct netpol_input *in;
	size_t pod;          /* the chain's pod */
	bool ingress;
	uint32_t masq_from;  /* ingress: the address kube-proxy's masquerade gives marked packets; 0: none */
};

/* Ingress rule R of POL for the chain's pod: one nft rule per source
 * clause (the pod peers' addresses together; each ipBlock) and port. */
static void ingress_rule(struct text *t, const struct chain_ctx *c, const struct plan_policy *pol, size_t ri,
			 bool marked)
{
	const struct plan_policy_rule *r = &pol->ingress_rules[ri];
	const struct plan_machine *dst = &c->p->machines[c->pod];
	autofree uint32_t *addrs = xcalloc(c->p->n_machines + 1, sizeof(*addrs));
	/* Source clauses: -1 every source, -2 the pod peers, k the ipBlock k. */
	size_t n_clauses = 0;
	autofree long *clauses = xcalloc(r->n_peers + 2, sizeof(*clauses));
	size_t n_addrs = 0;
	if (!r->n_peers)
		clauses[n_clauses++] = -1;
	else if (marked) {
		/* A masqueraded packet comes from the node: only an ipBlock holding
		 * that address admits it. */
		bool admitted = false;
		for (size_t k = 0; k < r->n_peers && !admitted; k++)
			admitted = r->peers[k].kind == PLAN_PEER_IP_BLOCK && in_block(&r->peers[k], c->masq_from);
		if (admitted)
			clauses[n_clauses++] = -1;
	} else {
		n_addrs = peer_pods(c->p, c->in, pol, r, addrs, NULL);
		if (n_addrs)
			clauses[n_clauses++] = -2;
		for (size_t k = 0; k < r->n_peers; k++)
			if (r->peers[k].kind == PLAN_PEER_IP_BLOCK)
				clauses[n_clauses++] = (long)k;
	}
	char from[IPV4_PREFIX_STRLEN];
	ipv4_addr_format(c->masq_from, from);
	for (size_t ci = 0; ci < n_clauses; ci++) {
		for (size_t pi = 0; pi < (r->n_ports ? r->n_ports : 1); pi++) {
			char pm[64] = "";
			if (r->n_ports && !port_match(&r->ports[pi], dst, pm, sizeof(pm)))
				continue;
			struct text m = {0};
			if (clauses[ci] == -2) {
				put(&m, " ip saddr ");
				put_addresses(&m, addrs, n_addrs);
			} else if (clauses[ci] >= 0)
				put_block(&m, "saddr", &r->peers[clauses[ci]]);
			if (*pm)
				put(&m, " %s", pm);
			put(t, "\t\t%s%sreturn", m.p ? m.p + 1 : "", m.p ? " " : "");
			free(m.p);
			if (marked)
				comment(t, "%s/%s ingress[%zu]: from %s", pol->namespace, pol->name, ri, from);
			else
				comment(t, "%s/%s ingress[%zu]", pol->namespace, pol->name, ri);
		}
	}
}

/* Egress rule R of POL: one nft rule per destination clause and port; a
 * named port is resolved on each destination pod (address . port pairs). */
static void egress_rule(struct text *t, const struct chain_ctx *c, const struct plan_policy *pol, size_t ri)
{
	const struct plan *p = c->p;
	const struct plan_policy_rule *r = &pol->egress_rules[ri];
	autofree uint32_t *addrs = xcalloc(p->n_machines + 1, sizeof(*addrs));
	autofree size_t *machines = xcalloc(p->n_machines + 1, sizeof(*machines));
	size_t n_addrs = peer_pods(p, c->in, pol, r, addrs, machines);
	size_t n_clauses = 0;
	autofree long *clauses = xcalloc(r->n_peers + 2, sizeof(*clauses));
	if (!r->n_peers)
		clauses[n_clauses++] = -1;
	else {
		if (n_addrs)
			clauses[n_clauses++] = -2;
		for (size_t k = 0; k < r->n_peers; k++)
			if (r->peers[k].kind == PLAN_PEER_IP_BLOCK)
				clauses[n_clauses++] = (long)k;
	}
	for (size_t ci = 0; ci < n_clauses; ci++) {
		for (size_t pi = 0; pi < (r->n_ports ? r->n_ports : 1); pi++) {
			const struct plan_policy_port *pt = r->n_ports ? &r->ports[pi] : NULL;
			if (pt && pt->name) {
				/* The pods this clause reaches that name such a port. */
				struct text pairs = {0};
				char buf[IPV4_PREFIX_STRLEN];
				size_t n_pairs = 0;
				for (size_t m = 0; m < p->n_machines; m++) {
					const struct plan_machine *d = &p->machines[m];
					bool in_clause = false;
					if (clauses[ci] == -1)
						in_clause = is_pod(d);
					else if (clauses[ci] == -2)
						for (size_t k = 0; k < n_addrs && !in_clause; k++)
							in_clause = machines[k] == m;
					else
						in_clause = is_pod(d) && in_block(&r->peers[clauses[ci]], d->address);
					uint16_t port = in_clause ? named_port(d, pt->name, pt->protocol) : 0;
					if (!port)
						continue;
					put(&pairs, "%s%s . %u", n_pairs++ ? ", " : "", ipv4_addr_format(d->address, buf),
					    port);
				}
				if (n_pairs)
					put(t, "\t\tip daddr . %s dport { %s } return", proto_nft(pt->protocol), pairs.p);
				free(pairs.p);
				if (n_pairs)
					comment(t, "%s/%s egress[%zu]: port %s", pol->namespace, pol->name, ri, pt->name);
				continue;
			}
			char pm[64] = "";
			if (pt)
				port_match(pt, NULL, pm, sizeof(pm));
			struct text m = {0};
			if (clauses[ci] == -2) {
				put(&m, " ip daddr ");
				put_addresses(&m, addrs, n_addrs);
			} else if (clauses[ci] >= 0) {
				put_block(&m, "daddr", &r->peers[clauses[ci]]);
			}
			if (*pm)
				put(&m, " %s", pm);
			put(t, "\t\t%s%sreturn", m.p ? m.p + 1 : "", m.p ? " " : "");
			free(m.p);
			comment(t, "%s/%s egress[%zu]", pol->namespace, pol->name, ri);
		}
	}
}

/* The chain's name: ingress-NS/NAME or egress-NS/NAME (see the top); past
 * nft's limit, cut and made unique by the pod's index in the plan. */
static char *chain_name(const struct plan *p, size_t pod, bool ingress, const char *suffix)
{
	const struct plan_machine *m = &p->machines[pod];
	char *s = xasprintf("%s-%s/%s", ingress ? "ingress" : "egress", m->namespace, plan_machine_object_name(m));
	size_t room = CHAIN_MAX - strlen(suffix);
	if (strlen(s) > room) {
		char tail[32];
		int n = snprintf(tail, sizeof(tail), "~%zu", pod);
		memcpy(s + room - (size_t)n, tail, (size_t)n + 1);
	}
	char *full = xasprintf("%s%s", s, suffix);
	free(s);
	return full;
}

static void pod_chain(struct text *t, const struct chain_ctx *c)
{
	const struct plan_machine *pod = &c->p->machines[c->pod];
	autofree char *name = chain_name(c->p, c->pod, c->ingress, "");
	autofree char *masq = chain_name(c->p, c->pod, c->ingress, "/masqueraded");
	char self[IPV4_PREFIX_STRLEN];
	ipv4_addr_format(pod->address, self);
	put(t, "\n\tchain %s {\n", name);
	put(t, "\t\tip %s %s return", c->ingress ? "saddr" : "daddr", self);
	comment(t, "a pod cannot block access to itself (its own Service: hairpin)");
	/* The isolating policies, for the drops' comments. */
	struct text by = {0};
	for (size_t i = 0; i < c->in->n_policies; i++) {
		const struct plan_policy *pol = &c->in->policies[i];
		if ((c->ingress ? pol->ingress : pol->egress) && selects(pol, pod))
			put(&by, "%s%s/%s", by.len ? ", " : "", pol->namespace, pol->name);
	}
	char from[IPV4_PREFIX_STRLEN];
	ipv4_addr_format(c->masq_from, from);
	if (c->ingress && c->masq_from) {
		/* The first packet carries kube-proxy's mark; later ones of a
		 * connection not yet answered (UDP) its SNAT in conntrack. */
		put(t, "\t\t" MARKED " goto %s", masq);
		comment(t, "kube-proxy masquerades it: it arrives from %s", from);
		put(t, "\t\tct status snat goto %s", masq);
		comment(t, "masqueraded: it arrives from %s", from);
	}
	for (size_t i = 0; i < c->in->n_policies; i++) {
		const struct plan_policy *pol = &c->in->policies[i];
		if (!(c->ingress ? pol->ingress : pol->egress) || !selects(pol, pod))
			continue;
		size_t n = c->ingress ? pol->n_ingress_rules : pol->n_egress_rules;
		for (size_t r = 0; r < n; r++) {
			if (c->ingress)
				ingress_rule(t, c, pol, r, false);
			else
				egress_rule(t, c, pol, r);
		}
	}
	put(t, "\t\tcounter drop");
	comment(t, "isolated for %s by %s", c->ingress ? "ingress" : "egress", by.p);
	put(t, "\t}\n");
	if (c->ingress && c->masq_from) {
		put(t, "\n\tchain %s {\n", masq);
		for (size_t i = 0; i < c->in->n_policies; i++) {
			const struct plan_policy *pol = &c->in->policies[i];
			if (pol->ingress && selects(pol, pod))
				for (size_t r = 0; r < pol->n_ingress_rules; r++)
					ingress_rule(t, c, pol, r, true);
		}
		put(t, "\t\tcounter drop");
		comment(t, "from %s: isolated for ingress by %s", from, by.p);
		put(t, "\t}\n");
	}
	free(by.p);
}

/* The address cbr0 holds on NODE (what kube-proxy's masquerade gives
 * packets leaving to its pods), or 0. */
static uint32_t bridge_address(const struct plan *p, size_t node)
{
	for (const struct step *s = plan_next(p, NULL, STEP_ADDRESS); s; s = plan_next(p, s, STEP_ADDRESS))
		if (s->machine == node && strcmp(s->u.address.ifname, "cbr0") == 0)
			return s->u.address.prefix.addr;
	return 0;
}

static void dispatch(struct text *t, const struct plan *p, const struct netpol_input *in, size_t node, bool ingress)
{
	size_t n = 0;
	char buf[IPV4_PREFIX_STRLEN];
	for (size_t m = 0; m < p->n_machines; m++) {
		const struct plan_machine *pod = &p->machines[m];
		if (pod->parent != node || !netpol_isolated(in, pod, ingress))
			continue;
		autofree char *name = chain_name(p, m, ingress, "");
		put(t, "%s%s : jump %s", n++ ? ", " : (ingress ? "\t\tip daddr vmap { " : "\t\tip saddr vmap { "),
		    ipv4_addr_format(pod->address, buf), name);
	}
	if (n) {
		put(t, " }");
		comment(t, ingress ? "ingress-isolated pods of this node, by destination (after DNAT)"
				   : "egress-isolated pods of this node, by source");
	}
}

char *netpol_ruleset(const struct plan *p, const struct netpol_input *in, size_t node)
{
	struct text t = {0};
	/* Declaring before deleting: the transaction replaces a table an
	 * earlier one left, and works on a namespace without one. */
	put(&t, "table " T "\ndelete table " T "\n");
	put(&t, "table " T " {\n");
	put(&t, "\tcomment \"NetworkPolicy enforcement for the pods of %s\"\n", p->machines[node].name);
	put(&t, "\tchain forward {\n"
		"\t\ttype filter hook forward priority filter; policy accept;\n"
		"\t\tct state established,related accept");
	comment(&t, "replies of allowed connections always pass");
	put(&t, "\t\tct state invalid drop");
	comment(&t, "as CNI plugins do: no connection, no verdict");
	dispatch(&t, p, in, node, false);
	dispatch(&t, p, in, node, true);
	put(&t, "\t}\n");
	uint32_t masq_from = p->n_services ? bridge_address(p, node) : 0;
	for (int dir = 0; dir < 2; dir++) {
		bool ingress = dir == 0;
		for (size_t m = 0; m < p->n_machines; m++) {
			if (p->machines[m].parent != node || !netpol_isolated(in, &p->machines[m], ingress))
				continue;
			struct chain_ctx c = {p, in, m, ingress, ingress ? masq_from : 0};
			pod_chain(&t, &c);
		}
	}
	put(&t, "}\n");
	return t.p;
}

void netpol_add_steps(struct plan *p, const struct netpol_input *in)
{
	if (!in->n_policies)
		return;
	for (size_t node = 0; node < p->n_machines; node++) {
		if (p->machines[node].kind != MACHINE_NODE)
			continue;
		/* Pods of one node talk over cbr0: bridged, they reach the ip
		 * family's forward hook only through br_netfilter. kube-proxy's
		 * pass sets it when the lab has Services. */
		if (!p->n_services)
			build_sysctl(p, node, "net/bridge/bridge-nf-call-iptables", "1",
				     "NetworkPolicy: bridged traffic passes the node's rules (br_netfilter)");
		struct step *s = plan_add_step(p, STEP_NFT, node,
					       "NetworkPolicy: each node judges its own pods' ingress and egress, as a CNI does");
		s->u.nft.table = xstrdup(T);
		s->u.nft.ruleset = netpol_ruleset(p, in, node);
	}
}
