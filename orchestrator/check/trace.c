/* Packet traces from the kernel's own tables. */
#define _GNU_SOURCE
#include "check/trace.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "plan/ingress_nginx.h"
#include "steps/netfilter.h"
#include "steps/step.h"
#include "util/util.h"

/* The veth step with an end called IFNAME in MACHINE, and which end (0:
 * the step's own machine, 1: its peer). */
static const struct step *find_veth(const struct plan *p, size_t machine, const char *ifname, int *end)
{
	for (const struct step *s = plan_next(p, NULL, STEP_VETH); s; s = plan_next(p, s, STEP_VETH)) {
		if (s->machine == machine && strcmp(s->u.veth.name, ifname) == 0) {
			*end = 0;
			return s;
		}
		if (s->u.veth.peer_machine == machine && strcmp(s->u.veth.peer_name, ifname) == 0) {
			*end = 1;
			return s;
		}
	}
	return NULL;
}

static bool is_bridge(const struct plan *p, size_t machine, const char *name)
{
	for (const struct step *s = plan_next(p, NULL, STEP_BRIDGE); s; s = plan_next(p, s, STEP_BRIDGE))
		if (s->machine == machine && strcmp(s->u.bridge.name, name) == 0)
			return true;
	return false;
}

static const struct step *find_vxlan(const struct plan *p, size_t machine, const char *name)
{
	for (const struct step *s = plan_next(p, NULL, STEP_VXLAN); s; s = plan_next(p, s, STEP_VXLAN))
		if (s->machine == machine && strcmp(s->u.vxlan.name, name) == 0)
			return s;
	return NULL;
}

/* The machine holding ADDR on IFNAME ("" for any interface), or PLAN_NONE. */
static size_t owner_of(const struct plan *p, uint32_t addr, size_t machine_only, const char *ifname)
{
	for (const struct step *s = plan_next(p, NULL, STEP_ADDRESS); s; s = plan_next(p, s, STEP_ADDRESS)) {
		const struct step_address *a = &s->u.address;
		if (a->prefix.addr == addr && (machine_only == PLAN_NONE || s->machine == machine_only) &&
		    (!*ifname || strcmp(a->ifname, ifname) == 0))
			return s->machine;
	}
	return PLAN_NONE;
}

static void append(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

/* From the bridge BRIDGE in MACHINE, where does a frame for NEXT_HOP go?
 * To the bridge's own namespace when the bridge holds that address, else
 * out of the port whose far end holds it. Appends the way to PATH; the
 * interface the packet arrives on goes into IN_DEV. */
static size_t through_bridge(const struct plan *p, size_t machine, const char *bridge, uint32_t next_hop, char *path,
			     size_t size, char in_dev[PLAN_IFNAME])
{
	append(path, size, " -> bridge %s (%s)", bridge, p->machines[machine].name);
	if (owner_of(p, next_hop, machine, bridge) != PLAN_NONE) {
		snprintf(in_dev, PLAN_IFNAME, "%s", bridge);
		return machine;
	}
	for (const struct step *s = plan_next(p, NULL, STEP_VETH); s; s = plan_next(p, s, STEP_VETH)) {
		const struct step_veth *v = &s->u.veth;
		if (s->machine != machine || strcmp(v->master, bridge) != 0)
			continue;
		if (owner_of(p, next_hop, v->peer_machine, v->peer_name) == PLAN_NONE)
			continue;
		append(path, size, " -> %s %s -> %s %s", p->machines[machine].name, v->name,
		       p->machines[v->peer_machine].name, v->peer_name);
		snprintf(in_dev, PLAN_IFNAME, "%s", v->peer_name);
		return v->peer_machine;
	}
	return PLAN_NONE;
}

/* Through the vxlan device DEV in MACHINE towards NEXT_HOP: the tunnel end's
 * MAC from the neighbour table (as the kernel resolved it, HOP), the FDB
 * entry that sends that MAC to a node's underlay address, and that node. */
static size_t through_vxlan(const struct plan *p, size_t machine, const struct step *vx, const struct trace_hop *hop,
			    struct trace_hop *wire, char in_dev[PLAN_IFNAME])
{
	const char *mac = hop->neighbour.resolved ? hop->neighbour.mac : NULL;
	for (const struct step *s = plan_next(p, NULL, STEP_NEIGH); !mac && s; s = plan_next(p, s, STEP_NEIGH))
		if (s->machine == machine && strcmp(s->u.neigh.dev, vx->u.vxlan.name) == 0)
			for (size_t i = 0; !mac && i < s->u.neigh.n_entries; i++)
				if (s->u.neigh.entries[i].address == hop->next_hop)
					mac = s->u.neigh.entries[i].mac;
	for (const struct step *s = plan_next(p, NULL, STEP_FDB); mac && s; s = plan_next(p, s, STEP_FDB)) {
		if (s->machine != machine || strcmp(s->u.fdb.dev, vx->u.vxlan.name) != 0 || strcasecmp(s->u.fdb.mac, mac) != 0)
			continue;
		for (const struct step *r = plan_next(p, NULL, STEP_VXLAN); r; r = plan_next(p, r, STEP_VXLAN)) {
			if (r->u.vxlan.local != s->u.fdb.dst || r->u.vxlan.vni != vx->u.vxlan.vni)
				continue;
			char src[IPV4_PREFIX_STRLEN], dst[IPV4_PREFIX_STRLEN];
			wire->vxlan = true;
			wire->vni = vx->u.vxlan.vni;
			wire->port = vx->u.vxlan.port;
			wire->outer_src = vx->u.vxlan.local;
			wire->outer_dst = s->u.fdb.dst;
			append(wire->path, sizeof(wire->path), " -> vxlan %u: UDP %s -> %s:%u over %s -> %s %s", wire->vni,
			       ipv4_addr_format(wire->outer_src, src), ipv4_addr_format(wire->outer_dst, dst), wire->port,
			       vx->u.vxlan.dev, p->machines[r->machine].name, r->u.vxlan.name);
			snprintf(in_dev, PLAN_IFNAME, "%s", r->u.vxlan.name);
			return r->machine;
		}
	}
	return PLAN_NONE;
}

/* Across the wire out of HOP's device towards its next hop: the namespace
 * that receives the packet, or PLAN_NONE; the interface it arrives on
 * goes into IN_DEV. */
static size_t across(const struct plan *p, size_t machine, const struct trace_hop *hop, struct trace_hop *wire,
		     char in_dev[PLAN_IFNAME], size_t *bridged)
{
	*bridged = PLAN_NONE;
	char *path = wire->path;
	size_t size = sizeof(wire->path);
	const char *dev = hop->dev;
	path[0] = '\0';
	if (is_bridge(p, machine, dev)) {
		append(path, size, "%s", p->machines[machine].name);
		return through_bridge(p, machine, dev, hop->next_hop, path, size, in_dev);
	}
	const struct step *vx = find_vxlan(p, machine, dev);
	if (vx) {
		append(path, size, "%s %s", p->machines[machine].name, dev);
		return through_vxlan(p, machine, vx, hop, wire, in_dev);
	}
	int end;
	const struct step *s = find_veth(p, machine, dev, &end);
	if (!s)
		return PLAN_NONE;
	const struct step_veth *v = &s->u.veth;
	size_t peer = end == 0 ? v->peer_machine : s->machine;
	append(path, size, "%s %s -> %s %s", p->machines[machine].name, dev, p->machines[peer].name,
	       end == 0 ? v->peer_name : v->name);
	/* Bridge ports are always the step's own end of their pair. */
	if (end == 1 && v->master[0]) {
		size_t next = through_bridge(p, peer, v->master, hop->next_hop, path, size, in_dev);
		/* Bridged by PEER, not routed: its forward hook sees it all the same (br_netfilter). */
		if (next != peer)
			*bridged = peer;
		return next;
	}
	snprintf(in_dev, PLAN_IFNAME, "%s", end == 0 ? v->peer_name : v->name);
	return peer;
}

/* The addresses a machine's steps give it, and the one it is reached by
 * (fib's "type local" for its rules), in *OUT (malloc'd). */
static size_t local_addresses(const struct plan *p, size_t machine, uint32_t **out)
{
	size_t n = 0;
	*out = xcalloc(p->n_steps + 2, sizeof(**out));
	if (p->machines[machine].address)
		(*out)[n++] = p->machines[machine].address;
	for (const struct step *s = plan_next(p, NULL, STEP_ADDRESS); s; s = plan_next(p, s, STEP_ADDRESS))
		if (s->machine == machine)
			(*out)[n++] = s->u.address.prefix.addr;
	return n;
}

/* A connection the walk follows: its packet as it is at each step. */
struct follow {
	struct nf_tuple pkt; /* sport 0: any (a proxy's connection) */
	bool failed; /* not answered: a rule on the way may say why */
	uint32_t reply_src; /* a proxy's connection: the endpoint that answered; 0: not known */
};

static struct trace_hop *add_hop(struct trace *t, enum trace_hop_kind kind, size_t machine)
{
	struct trace_hop *hop = &t->hops[t->n_hops++];
	*hop = (struct trace_hop){.kind = kind, .machine = machine};
	return hop;
}

/* MACHINE's live ruleset, parsed; NULL when it has none or cannot be read. */
static struct nft_ruleset *ruleset_of(const struct live_lab *l, size_t machine)
{
	struct tb_err e;
	autofree char *text = nf_list_ruleset(l->netns[machine], &e);
	return text ? nft_ruleset_parse(text) : NULL;
}

/* The NetworkPolicy drop that stopped P in a machine with RULES: as P
 * is, or, to a Service's address, as the DNAT the machine did before
 * dropping it (whose conntrack entry went with the packet) would have
 * made it: the first of the Service's endpoints for which a drop is found. */
static bool policy_drop(const struct plan *p, const struct nft_ruleset *rules, const struct nft_packet *np,
			struct nft_quotes *why)
{
	if (nft_explain_policy(rules, np, true, why))
		return true;
	for (size_t k = 0; k < p->n_services; k++) {
		const struct plan_service *s = &p->services[k];
		if (s->cluster_ip != np->daddr)
			continue;
		for (size_t i = 0; i < s->n_ports; i++) {
			if (s->ports[i].port != np->dport)
				continue;
			for (size_t e = 0; e < s->n_endpoints; e++) {
				struct nft_packet to = *np;
				to.daddr = s->endpoints[e].address;
				to.dport = s->endpoints[e].ports[i];
				if (to.dport && nft_explain_policy(rules, &to, true, why))
					return true;
			}
		}
	}
	return false;
}

/* What NAT did to the followed connection in MACHINE, from its conntrack
 * entry: a DNAT hop now, an SNAT to add after the route (SNAT set). Or,
 * for a connection that was not answered, the rule that rejected or
 * dropped it there: a drop hop, and *STOPPED. */
static int nat_at(const struct live_lab *l, size_t machine, struct follow *f, struct trace *t, bool *snat,
		  struct trace_end *snat_to, struct nft_quotes *marks, bool *stopped, struct tb_err *e)
{
	*snat = *stopped = false;
	struct nf_conntrack ct;
	int found = nf_conntrack_find_reply(l->netns[machine], &f->pkt, f->reply_src, &ct, e);
	if (found < 0)
		return tb_context(e, "%s", l->plan.machines[machine].name);
	/* A proxy's connection, found by its other ends: its port from now on. */
	if (found && !f->pkt.sport)
		f->pkt.sport = ct.orig.sport;
	autofree uint32_t *local = NULL;
	size_t n_local = local_addresses(&l->plan, machine, &local);
	struct nft_packet np = {f->pkt.l4, f->pkt.src, f->pkt.dst, f->pkt.sport, f->pkt.dport, local, n_local};
	if (!found) {
		if (!f->failed)
			return 0;
		struct nft_ruleset *rules = ruleset_of(l, machine);
		struct nft_quotes why;
		bool rejected;
		if (rules && nft_explain_filter(rules, &np, &why, &rejected)) {
			struct trace_hop *hop = add_hop(t, HOP_DROP, machine);
			snprintf(hop->reason, sizeof(hop->reason), "%s by a rule of %s", rejected ? "rejected" : "dropped",
				 why.items[why.n - 1].table);
			hop->rules = why;
			*stopped = true;
		} else if (rules && policy_drop(&l->plan, rules, &np, &why)) {
			struct trace_hop *hop = add_hop(t, HOP_DROP, machine);
			snprintf(hop->reason, sizeof(hop->reason), "dropped by NetworkPolicy (a rule of %s)",
				 why.items[why.n - 1].table);
			hop->rules = why;
			*stopped = true;
		}
		nft_ruleset_free(rules);
		return 0;
	}
	bool dnat = ct.reply.src != f->pkt.dst || ct.reply.sport != f->pkt.dport;
	*snat = ct.reply.dst != f->pkt.src || ct.reply.dport != f->pkt.sport;
	/* Nodes hold NetworkPolicy's table: read theirs even without NAT. */
	bool node = l->plan.machines[machine].kind == MACHINE_NODE;
	if (!dnat && !*snat && !node)
		return 0;
	struct nft_ruleset *rules = ruleset_of(l, machine);
	if (dnat) {
		struct trace_hop *hop = add_hop(t, HOP_DNAT, machine);
		hop->before = (struct trace_end){f->pkt.dst, f->pkt.dport};
		hop->after = (struct trace_end){ct.reply.src, ct.reply.sport};
		if (rules)
			nft_explain_dnat(rules, &np, hop->after.addr, hop->after.port, &hop->rules, marks);
		f->pkt.dst = ct.reply.src;
		f->pkt.dport = ct.reply.sport;
	}
	/* The connection went on from here: the policy rules that let it
	 * through, as the forward hook saw it (after the DNAT, before a
	 * masquerade). */
	struct nft_packet forwarded = {f->pkt.l4, f->pkt.src, f->pkt.dst, f->pkt.sport, f->pkt.dport, local, n_local};
	struct nft_quotes let;
	if (rules && nft_explain_policy(rules, &forwarded, false, &let)) {
		struct trace_hop *hop = add_hop(t, HOP_POLICY, machine);
		hop->rules = let;
	}
	*snat_to = (struct trace_end){ct.reply.dst, ct.reply.dport};
	nft_ruleset_free(rules);
	return 0;
}

/* The walk: from FROM towards DST (or, following a connection, wherever
 * its packet is sent as NAT rewrites it), a route and a wire hop per
 * namespace, until it is delivered or dropped. */
static int walk(const struct live_lab *l, size_t from, uint32_t dst, struct follow *f, struct trace *t,
		struct tb_err *e)
{
	const struct plan *p = &l->plan;
	size_t cur = from;
	char in_dev[PLAN_IFNAME] = ""; /* where the packet arrived in CUR; "": sent from there */
	for (size_t pairs = 0; pairs < TRACE_MAX_HOPS / 2; pairs++) {
		if (l->netns[cur] < 0) {
			struct trace_hop *hop = add_hop(t, HOP_DROP, cur);
			snprintf(hop->reason, sizeof(hop->reason), "%s is not running", p->machines[cur].name);
			return 0;
		}
		bool snat = false, stopped = false;
		struct trace_end snat_to = {0};
		struct nft_quotes marks = {0};
		if (f && nat_at(l, cur, f, t, &snat, &snat_to, &marks, &stopped, e) < 0)
			return -1;
		if (stopped) {
			nft_quotes_free(&marks);
			return 0;
		}
		uint32_t to = f ? f->pkt.dst : dst;
		struct trace_hop *hop = add_hop(t, HOP_ROUTE, cur);
		/* The route lookup gets a socket of its own: libnl's request and
		 * answer bookkeeping differs between it and the cache queries. */
		struct nl_sock *sk = nl_open_in(l->netns[cur], e);
		if (!sk) {
			nft_quotes_free(&marks);
			return tb_context(e, "%s", p->machines[cur].name);
		}
		struct nl_route_answer a;
		uint32_t src = f ? f->pkt.src : p->machines[from].address;
		int rc = nl_route_lookup_from(sk, to, src, in_dev, &a, e);
		nl_close(sk);
		if (rc == 0 && !a.error && a.type == RTN_UNICAST) {
			sk = nl_open_in(l->netns[cur], e);
			rc = sk ? nl_ifname(sk, a.ifindex, hop->dev, e) : -1;
			hop->next_hop = a.gateway ? a.gateway : to;
			if (rc == 0)
				rc = nl_neighbour_lookup(sk, a.ifindex, hop->next_hop, &hop->neighbour, e);
			if (sk)
				nl_close(sk);
		}
		if (rc < 0) {
			nft_quotes_free(&marks);
			return tb_context(e, "%s", p->machines[cur].name);
		}
		if (a.error || (a.type != RTN_UNICAST && a.type != RTN_LOCAL)) {
			hop->kind = HOP_DROP;
			snprintf(hop->reason, sizeof(hop->reason), "%s",
				 a.error ? strerror(a.error)
				 : a.type == RTN_BLACKHOLE ? "blackhole route"
				 : a.type == RTN_PROHIBIT  ? "prohibit route"
							   : "unreachable route");
			nft_quotes_free(&marks);
			return 0;
		}
		if (a.type == RTN_LOCAL) {
			hop->kind = HOP_DELIVER;
			t->delivered = true;
			nft_quotes_free(&marks);
			return 0;
		}
		hop->kind = HOP_ROUTE;
		hop->route = a.matched;
		hop->via = a.gateway;
		/* A masquerade happens as the packet leaves, after its route. */
		if (snat) {
			struct trace_hop *nat = add_hop(t, HOP_SNAT, cur);
			nat->before = (struct trace_end){f->pkt.src, f->pkt.sport};
			nat->after = snat_to;
			struct nft_ruleset *rules = ruleset_of(l, cur);
			autofree uint32_t *local = NULL;
			size_t n_local = local_addresses(p, cur, &local);
			struct nft_packet np = {f->pkt.l4, f->pkt.src, f->pkt.dst, f->pkt.sport, f->pkt.dport, local, n_local};
			if (rules)
				nft_explain_masquerade(rules, &np, &marks, &nat->rules);
			nft_ruleset_free(rules);
			f->pkt.src = snat_to.addr;
			f->pkt.sport = snat_to.port;
		}
		nft_quotes_free(&marks);
		struct trace_hop *route = hop; /* for across(), which reads its device and neighbour */
		struct trace_hop crossed = {.kind = HOP_WIRE, .machine = cur};
		size_t bridged;
		size_t next = across(p, cur, route, &crossed, in_dev, &bridged);
		/* A node's bridge between two of its pods: NetworkPolicy's table
		 * has its say there, before the packet goes on. */
		if (f && next != PLAN_NONE && bridged != PLAN_NONE && l->netns[bridged] >= 0 &&
		    p->machines[bridged].kind == MACHINE_NODE) {
			bool bridge_snat, bridge_stopped;
			struct trace_end bridge_snat_to;
			struct nft_quotes bridge_marks = {0};
			int bridge_rc = nat_at(l, bridged, f, t, &bridge_snat, &bridge_snat_to, &bridge_marks, &bridge_stopped, e);
			nft_quotes_free(&bridge_marks);
			if (bridge_rc < 0)
				return -1;
			if (bridge_stopped)
				return 0;
		}
		struct trace_hop *wire = add_hop(t, HOP_WIRE, cur);
		*wire = crossed;
		if (next == PLAN_NONE) {
			char why[sizeof(wire->reason)], a_buf[16];
			snprintf(why, sizeof(why), "nobody on %s's %s holds %s", p->machines[cur].name, route->dev,
				 ipv4_addr_format(route->next_hop, a_buf));
			*wire = (struct trace_hop){.kind = HOP_DROP, .machine = cur};
			memcpy(wire->reason, why, sizeof(why));
			return 0;
		}
		cur = next;
	}
	struct trace_hop *hop = add_hop(t, HOP_DROP, cur);
	snprintf(hop->reason, sizeof(hop->reason), "more than %d hops: a routing loop?", TRACE_MAX_HOPS / 2);
	return 0;
}

int trace_run(const struct live_lab *l, size_t from, uint32_t dst, struct trace *t, struct tb_err *e)
{
	*t = (struct trace){.from = from, .dst = dst};
	return walk(l, from, dst, NULL, t, e);
}

void trace_free(struct trace *t)
{
	for (size_t i = 0; i < t->n_hops; i++)
		nft_quotes_free(&t->hops[i].rules);
	t->n_hops = 0;
}

/* ---- what a trace goes to ---- */

/* PORT (a number or a name) of service S for a trace, or its only port,
 * or its port named http; -1 after setting *WHY. */
static int trace_service_port(const struct plan_service *s, const char *port, char **why)
{
	for (size_t k = 0; port && k < s->n_ports; k++)
		if (strcmp(s->ports[k].name, port) == 0 || (unsigned long)s->ports[k].port == strtoul(port, NULL, 10))
			return (int)k;
	if (!port && s->n_ports == 1)
		return 0;
	for (size_t k = 0; !port && k < s->n_ports; k++)
		if (strcmp(s->ports[k].name, "http") == 0)
			return (int)k;
	char *list = xstrdup("");
	for (size_t k = 0; k < s->n_ports; k++) {
		char *more = xasprintf("%s%s%u/%s%s%s", list, k ? ", " : "", s->ports[k].port,
				       tb_protocol_name(s->ports[k].protocol), *s->ports[k].name ? " " : "", s->ports[k].name);
		free(list);
		list = more;
	}
	*why = port ? xasprintf("service %s/%s has no port %s (its ports: %s)", s->namespace, s->name, port, list)
		    : xasprintf("service %s/%s has %zu ports: say which, as service:%s/%s:PORT (its ports: %s)",
				s->namespace, s->name, s->n_ports, s->namespace, s->name, list);
	free(list);
	return -1;
}

/* The protocol of whatever port a Service has at ADDRESS:PORT (a
 * NodePort of a node, a cluster, external or load-balancer IP): UDP only
 * when that is all there is there. */
static uint8_t protocol_at(const struct plan *p, uint32_t address, uint16_t port, bool node)
{
	bool tcp = false, udp = false;
	for (size_t k = 0; k < p->n_services; k++) {
		const struct plan_service *s = &p->services[k];
		for (size_t i = 0; i < s->n_ports; i++) {
			const struct plan_service_port *sp = &s->ports[i];
			bool hit = node && sp->node_port == port;
			hit |= sp->port == port && s->cluster_ip == address;
			for (size_t a = 0; a < s->n_external_ips; a++)
				hit |= sp->port == port && s->external_ips[a] == address;
			for (size_t a = 0; a < s->n_load_balancer_ips; a++)
				hit |= sp->port == port && s->load_balancer_ips[a] == address;
			tcp |= hit && sp->protocol == TB_PROTOCOL_TCP;
			udp |= hit && sp->protocol == TB_PROTOCOL_UDP;
		}
	}
	return udp && !tcp ? IPPROTO_UDP : IPPROTO_TCP;
}

bool trace_target_resolve(const struct plan *p, size_t from, const char *text, struct trace_target *out, char **why)
{
	*out = (struct trace_target){.l4 = IPPROTO_TCP};
	snprintf(out->name, sizeof(out->name), "%s", text);
	*why = NULL;
	if (str_has_prefix(text, "service:")) {
		const char *rest = text + strlen("service:");
		size_t len = strcspn(rest, ":");
		autofree char *ref = xasprintf("%.*s", (int)len, rest);
		const char *port = rest[len] == ':' ? rest + len + 1 : NULL;
		const char *slash = strchr(ref, '/');
		autofree char *ns = slash ? xasprintf("%.*s", (int)(slash - ref), ref) : xstrdup(TB_DEFAULT_NAMESPACE);
		const char *name = slash ? slash + 1 : ref;
		const struct plan_service *s = NULL;
		for (size_t k = 0; k < p->n_services && !s; k++)
			if (strcmp(p->services[k].namespace, ns) == 0 && strcmp(p->services[k].name, name) == 0)
				s = &p->services[k];
		if (!s) {
			*why = xasprintf("lab %s has no Service \"%s\" in namespace %s", p->lab, name, ns);
			return false;
		}
		if (s->external_name) {
			*why = xasprintf("lab %s: service %s/%s is ExternalName (a name in cluster DNS for %s): it has no "
					 "address", p->lab, ns, name, s->external_name);
			return false;
		}
		if (!s->cluster_ip) {
			*why = xasprintf("lab %s: service %s/%s is headless (clusterIP None): trace to one of its pods",
					 p->lab, ns, name);
			return false;
		}
		int pi = trace_service_port(s, port, why);
		if (pi < 0) {
			char *more = xasprintf("lab %s: %s", p->lab, *why);
			free(*why);
			*why = more;
			return false;
		}
		out->address = s->cluster_ip;
		out->port = s->ports[pi].port;
		out->l4 = s->ports[pi].protocol == TB_PROTOCOL_UDP ? IPPROTO_UDP : IPPROTO_TCP;
		out->connect = true;
		snprintf(out->name, sizeof(out->name), "service:%s/%s:%u", ns, name, out->port);
		return true;
	}
	if (str_has_prefix(text, "ingress:")) {
		const struct plan_ingress *in = &p->ingress;
		if (!in->n_servers) {
			*why = xasprintf("lab %s runs no ingress controller: it serves no Ingress", p->lab);
			return false;
		}
		const char *rest = text + strlen("ingress:");
		size_t len = strcspn(rest, "/");
		if (!len || len >= sizeof(out->host) || strlen(rest + len) >= sizeof(out->path)) {
			*why = xasprintf("lab %s: \"%s\": expected ingress:HOST/PATH", p->lab, text);
			return false;
		}
		snprintf(out->host, sizeof(out->host), "%.*s", (int)len, rest);
		snprintf(out->path, sizeof(out->path), "%s", rest[len] ? rest + len : "/");
		/* The controller's Service, as FROM reaches it (check.c's way). */
		const struct plan_service *s = &p->services[in->service];
		out->address = s->cluster_ip;
		out->port = s->ports[0].port;
		/* The gateway routes no service address: it comes in as the outside does. */
		bool outside = p->machines[from].kind == MACHINE_EXTERNAL || p->machines[from].kind == MACHINE_GATEWAY;
		if (outside && s->n_load_balancer_ips) {
			out->address = s->load_balancer_ips[0];
		} else if (outside) {
			for (size_t m = 0; m < p->n_machines; m++)
				if (p->machines[m].kind == MACHINE_NODE) {
					out->address = p->machines[m].address;
					break;
				}
			out->port = s->ports[0].node_port;
		}
		out->ingress = out->connect = true;
		return true;
	}
	bool nodeport = str_has_prefix(text, "nodeport:"), address = str_has_prefix(text, "ip:");
	if (nodeport || address) {
		const char *rest = text + (nodeport ? strlen("nodeport:") : strlen("ip:"));
		size_t len = strcspn(rest, ":");
		autofree char *host = xasprintf("%.*s", (int)len, rest);
		char *end = NULL;
		unsigned long port = rest[len] == ':' ? strtoul(rest + len + 1, &end, 10) : 0;
		if (rest[len] == ':' && (!*(rest + len + 1) || *end || port == 0 || port > 65535)) {
			*why = xasprintf("lab %s: \"%s\": the port is a number from 1 to 65535", p->lab, text);
			return false;
		}
		if (nodeport) {
			size_t m;
			autofree char *ambiguous = NULL;
			if (plan_resolve(p, host, &m, &ambiguous) != NAME_FOUND || p->machines[m].kind != MACHINE_NODE) {
				*why = xasprintf("lab %s: \"%s\": expected nodeport:NODE:PORT, NODE one of its nodes",
						 p->lab, text);
				return false;
			}
			if (!port) {
				*why = xasprintf("lab %s: \"%s\": give the port, nodeport:%s:PORT", p->lab, text, host);
				return false;
			}
			out->address = p->machines[m].address;
		} else if (!ipv4_addr_parse(host, &out->address)) {
			*why = xasprintf("lab %s: \"%s\": expected ip:ADDRESS:PORT or ip:ADDRESS", p->lab, text);
			return false;
		}
		out->port = (uint16_t)port;
		out->connect = port != 0;
		out->l4 = protocol_at(p, out->address, out->port, nodeport);
		return true;
	}
	size_t m;
	autofree char *ambiguous = NULL;
	enum name_found found = plan_resolve(p, text, &m, &ambiguous);
	if (found == NAME_AMBIGUOUS) {
		*why = xasprintf("lab %s: %s", p->lab, ambiguous);
		return false;
	}
	if (found == NAME_UNKNOWN || p->machines[m].kind == MACHINE_LAB) {
		*why = xasprintf("lab %s has no pod, node, host, external machine or gateway \"%s\" (a Service, NodePort "
				 "or address is written service:NAME, nodeport:NODE:PORT, ip:ADDRESS:PORT)",
				 p->lab, text);
		return false;
	}
	out->address = p->machines[m].address;
	snprintf(out->name, sizeof(out->name), "%s", p->machines[m].name);
	/* Outside the cluster, traffic is masqueraded on its way out, and
	 * NetworkPolicies judge connections by port: follow a connection to
	 * the target's http port, which is what a check of it probes. */
	int http = plan_machine_http_port(&p->machines[m]);
	bool outside = p->machines[m].kind == MACHINE_EXTERNAL || p->machines[from].kind == MACHINE_EXTERNAL;
	if ((outside || p->n_policies) && http && p->machines[m].pod_server) {
		out->port = (uint16_t)http;
		out->connect = true;
	}
	return true;
}

bool trace_target_address(const struct plan *p, size_t from, const char *name, uint32_t address, const char *port,
			  struct trace_target *out, char **why)
{
	char addr[16];
	ipv4_addr_format(address, addr);
	autofree char *text = NULL;
	for (size_t k = 0; k < p->n_services && !text; k++)
		if (p->services[k].cluster_ip == address)
			text = xasprintf("service:%s/%s%s%s", p->services[k].namespace, p->services[k].name, port ? ":" : "",
					 port ? port : "");
	for (size_t m = 0; m < p->n_machines && !text; m++)
		if (p->machines[m].address == address && p->machines[m].kind != MACHINE_LAB && !port)
			text = xstrdup(p->machines[m].name);
	if (!text)
		text = xasprintf("ip:%s%s%s", addr, port ? ":" : "", port ? port : "");
	if (!trace_target_resolve(p, from, text, out, why))
		return false;
	/* Named as written, with the port it goes to. */
	if (out->port)
		snprintf(out->name, sizeof(out->name), "%s:%u", name, out->port);
	else
		snprintf(out->name, sizeof(out->name), "%s", name);
	return true;
}

/* ---- the connection a trace follows ---- */

#define TRACE_WAIT_MS 1000

/* Waits until FD has EVENTS, at most TRACE_WAIT_MS; false on a timeout. */
static bool wait_for(int fd, short events)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int r;
	while ((r = poll(&pfd, 1, TRACE_WAIT_MS)) < 0 && errno == EINTR)
		;
	return r > 0;
}

static const char *failure_of(int err)
{
	switch (err) {
	case ECONNREFUSED:
	case EHOSTUNREACH:
	case ENETUNREACH:
		return "refused";
	case ETIMEDOUT:
	case EPERM:
	case EACCES:
		return "timeout";
	}
	return "error";
}

/* What the server answered: "NAME" over udp, GET /'s JSON over http. */
static void read_answer(struct trace_connection *c, const char *text, bool http)
{
	if (!http) {
		snprintf(c->answered_by, sizeof(c->answered_by), "%.*s",
			 (int)utf8_cut(text, strcspn(text, "\r\n"), sizeof(c->answered_by) - 1), text);
		c->answered = true;
		return;
	}
	const char *body = strstr(text, "\r\n\r\n");
	cJSON *doc = body ? cJSON_Parse(body + 4) : NULL;
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "name"));
	const char *client = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "client"));
	if (name) {
		snprintf(c->answered_by, sizeof(c->answered_by), "%.*s",
			 (int)utf8_cut(name, strlen(name), sizeof(c->answered_by) - 1), name);
		snprintf(c->client, sizeof(c->client), "%.*s",
			 (int)utf8_cut(client ? client : "", client ? strlen(client) : 0, sizeof(c->client) - 1),
			 client ? client : "");
		c->answered = true;
	} else {
		snprintf(c->error, sizeof(c->error), "the answer is not the pod server's");
		c->failure = "error";
	}
	cJSON_Delete(doc);
}

/* What an ingress answered: a pod server's name (its own line, or the
 * JSON of "/"), or a status nginx or the pod gave instead. */
static void read_ingress_answer(struct trace_connection *c, const char *text)
{
	int status = 0;
	const char *body = strstr(text, "\r\n\r\n");
	if (sscanf(text, "HTTP/1.%*d %d", &status) != 1 || !body) {
		snprintf(c->error, sizeof(c->error), "the answer is not HTTP");
		c->failure = "error";
		return;
	}
	body += 4;
	if (status != 200) {
		snprintf(c->error, sizeof(c->error), "HTTP status %d", status);
		c->failure = "error";
		return;
	}
	cJSON *doc = body[0] == '{' ? cJSON_Parse(body) : NULL;
	const char *name = doc ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "name")) : body;
	size_t n = name ? strcspn(name, "\r\n") : 0;
	if (n) {
		snprintf(c->answered_by, sizeof(c->answered_by), "%.*s",
			 (int)utf8_cut(name, n, sizeof(c->answered_by) - 1), name);
		c->answered = true;
	} else {
		snprintf(c->error, sizeof(c->error), "the answer is not the pod server's");
		c->failure = "error";
	}
	cJSON_Delete(doc);
}

/* Sends the connection from FROM's namespace: TCP (GET / over http) or a
 * UDP datagram ("hostname", then "clientip"), answered or not. *FD keeps
 * the socket open, so that its conntrack entry stays while it is read. */
static int connect_once(const struct live_lab *l, size_t from, const struct trace_target *to,
			struct trace_connection *c, int *fd, struct tb_err *e)
{
	*c = (struct trace_connection){.made = true, .l4 = to->l4, .destination = {to->address, to->port}};
	bool udp = to->l4 == IPPROTO_UDP;
	*fd = netns_socket(l->netns[from], AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK, e);
	if (*fd < 0)
		return tb_context(e, "%s", l->plan.machines[from].name);
	int on = 1;
	if (udp)
		setsockopt(*fd, IPPROTO_IP, IP_RECVERR, &on, sizeof(on));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(to->port), .sin_addr.s_addr = htonl(to->address)};
	int err = 0;
	if (connect(*fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno != EINPROGRESS)
			err = errno;
		else if (!wait_for(*fd, POLLOUT))
			err = ETIMEDOUT;
		else {
			socklen_t len = sizeof(err);
			getsockopt(*fd, SOL_SOCKET, SO_ERROR, &err, &len);
		}
	}
	struct sockaddr_in local;
	socklen_t local_len = sizeof(local);
	if (getsockname(*fd, (struct sockaddr *)&local, &local_len) == 0)
		c->source = (struct trace_end){ntohl(local.sin_addr.s_addr), ntohs(local.sin_port)};
	char buf[4096];
	size_t n = 0;
	if (!err) {
		autofree char *ask =
			udp	      ? xstrdup("hostname")
			: to->ingress ? xasprintf("GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: testbed-trace\r\n\r\n",
						  to->path, to->host)
				      : xstrdup("GET / HTTP/1.0\r\nUser-Agent: testbed-trace\r\n\r\n");
		if (send(*fd, ask, strlen(ask), MSG_NOSIGNAL) < 0)
			err = errno;
	}
	while (!err && n + 1 < sizeof(buf)) {
		if (!wait_for(*fd, POLLIN)) {
			err = n ? 0 : ETIMEDOUT;
			break;
		}
		ssize_t got = recv(*fd, buf + n, sizeof(buf) - 1 - n, 0);
		if (got < 0) {
			err = errno == EAGAIN ? 0 : errno;
			if (!err)
				continue;
			break;
		}
		n += (size_t)got;
		if (got == 0 || udp)
			break;
	}
	buf[n] = '\0';
	if (err) {
		snprintf(c->error, sizeof(c->error), "%s",
			 err == ETIMEDOUT		? "no answer within 1000 ms"
			 : err == ECONNREFUSED && udp	? "port unreachable"
			 : err == ECONNREFUSED		? "connection refused"
			 : err == EHOSTUNREACH		? "no route to host"
			 : err == ENETUNREACH		? "network unreachable"
			 : err == EPERM || err == EACCES ? "sending refused by the source's own rules"
							 : strerror(err));
		c->failure = failure_of(err);
		return 0;
	}
	if (to->ingress) {
		read_ingress_answer(c, buf);
		return 0;
	}
	read_answer(c, buf, !udp);
	if (udp && c->answered && send(*fd, "clientip", 8, MSG_NOSIGNAL) == 8 && wait_for(*fd, POLLIN)) {
		ssize_t got = recv(*fd, buf, sizeof(buf) - 1, 0);
		if (got > 0) {
			buf[got] = '\0';
			snprintf(c->client, sizeof(c->client), "%.*s",
				 (int)utf8_cut(buf, strcspn(buf, "\r\n"), sizeof(c->client) - 1), buf);
		}
	}
	return 0;
}

/* Past the ingress controller, once the request reached it: the server
 * and location nginx chose for its Host and path (the saved plan's, as
 * its nginx.conf has them), then the proxy's own connection to the
 * Service's cluster IP, followed as any other: the node's conntrack entry
 * gives the endpoint kube-proxy chose (the one that answered). */
static int past_proxy(const struct live_lab *l, const struct trace_target *to, struct trace *t, struct tb_err *e)
{
	const struct plan *p = &l->plan;
	const struct plan_ingress *in = &p->ingress;
	if (!t->delivered || !t->n_hops || t->hops[t->n_hops - 1].machine != in->controller)
		return 0;
	const struct plan_ingress_server *server = NULL;
	const struct plan_location *loc = ingress_nginx_route(in, to->host, to->path, &server);
	if (!loc)
		return 0;
	struct trace_hop *hop = add_hop(t, HOP_PROXY, in->controller);
	snprintf(hop->path, sizeof(hop->path), "server %s, location %s%s", server->host,
		 loc->match == PLAN_MATCH_EXACT ? "= " : "", loc->path);
	if (loc->status) {
		snprintf(hop->reason, sizeof(hop->reason), "answers %d itself (%s)", loc->status,
			 loc->status == 404		? "the default backend: no rule matches"
			 : loc->backend == PLAN_NONE	? "its Service does not exist"
							: "no ready endpoint behind its Service");
		return 0;
	}
	autofree char *upstream = ingress_nginx_upstream_name(loc);
	snprintf(hop->reason, sizeof(hop->reason), "%s", upstream);
	const struct plan_service *s = &p->services[loc->backend];
	hop->before = (struct trace_end){p->machines[in->controller].address, 0};
	hop->after = (struct trace_end){s->cluster_ip, loc->service_port};
	uint32_t answered = 0;
	if (t->connection.answered)
		for (size_t m = 0; m < p->n_machines && !answered; m++)
			if (p->machines[m].kind == MACHINE_POD &&
			    strcmp(plan_machine_object_name(&p->machines[m]), t->connection.answered_by) == 0)
				answered = p->machines[m].address;
	struct follow f = {
		.pkt = {IPPROTO_TCP, p->machines[in->controller].address, s->cluster_ip, 0, loc->service_port},
		.failed = !t->connection.answered,
		.reply_src = answered,
	};
	t->delivered = false;
	return walk(l, in->controller, s->cluster_ip, &f, t, e);
}

int trace_run_connection(const struct live_lab *l, size_t from, const struct trace_target *to, struct trace *t,
			 struct tb_err *e)
{
	*t = (struct trace){.from = from, .dst = to->address};
	if (l->netns[from] < 0)
		return walk(l, from, to->address, NULL, t, e);
	int fd = -1;
	if (connect_once(l, from, to, &t->connection, &fd, e) < 0)
		return -1;
	struct follow f = {
		.pkt = {to->l4, t->connection.source.addr, to->address, t->connection.source.port, to->port},
		.failed = !t->connection.answered,
	};
	int rc = walk(l, from, to->address, &f, t, e);
	if (rc == 0 && to->ingress)
		rc = past_proxy(l, to, t, e);
	close_fd(&fd);
	return rc;
}

static void format_route(const struct trace_hop *h, char *buf, size_t size)
{
	char pfx[IPV4_PREFIX_STRLEN];
	if (h->route.len == 0)
		snprintf(buf, size, "default");
	else
		snprintf(buf, size, "%s", ipv4_prefix_format(h->route, pfx));
}

static void format_neighbour(const struct trace_hop *h, char *buf, size_t size)
{
	const struct nl_neighbour *n = &h->neighbour;
	if (n->resolved)
		snprintf(buf, size, "%s %s", n->mac, n->state);
	else if (n->found)
		snprintf(buf, size, "ARP needed (entry %s)", n->state);
	else
		snprintf(buf, size, "ARP needed");
}

static uint32_t source_address(const struct live_lab *l, size_t from)
{
	return l->plan.machines[from].address;
}

/* One line of the text output, escaped whole: names come from the saved
 * plan (a state file someone may edit) and device names from inside the
 * lab's namespaces, where a pod's root may name a device anything. */
static void put_line(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put_line(FILE *out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	autofree char *line = xvasprintf(fmt, ap);
	va_end(ap);
	autofree char *safe = str_escape(line);
	fprintf(out, "%s\n", safe);
}

static const char *l4_word(uint8_t l4)
{
	return l4 == IPPROTO_UDP ? "udp" : "tcp";
}

/* "10.96.0.2:80" into BUF (22 bytes). */
static char *end_text(struct trace_end e, char *buf)
{
	char a[16];
	snprintf(buf, 22, "%s:%u", ipv4_addr_format(e.addr, a), e.port);
	return buf;
}

/* What came of the connection: "answered by web-1, which saw the client
 * as 10.244.0.2:40384", "refused: connection refused" (malloc'd). */
static char *connection_outcome(const struct trace_connection *c)
{
	if (c->answered)
		return *c->client ? xasprintf("answered by %s, which saw the client as %s", c->answered_by, c->client)
				  : xasprintf("answered by %s", c->answered_by);
	return xasprintf("%s: %s", c->failure ? c->failure : "error", c->error);
}

static void print_rules(FILE *out, const struct nft_quotes *q)
{
	for (size_t k = 0; k < q->n; k++) {
		autofree char *text = nft_quote_text(&q->items[k]);
		put_line(out, "      %s", text);
	}
}

void trace_print_text(FILE *out, const struct live_lab *l, const struct trace *t, const char *to_name)
{
	const struct plan *p = &l->plan;
	char src[16], dst[16];
	const struct trace_connection *c = &t->connection;
	if (c->made) {
		char a[22], b[22];
		put_line(out, "trace %s: %s (%s) -> %s (%s:%u/%s)", l->record.name, p->machines[t->from].name,
			 ipv4_addr_format(source_address(l, t->from), src), to_name, ipv4_addr_format(t->dst, dst),
			 c->destination.port, l4_word(c->l4));
		autofree char *outcome = connection_outcome(c);
		put_line(out, "    sent %s %s -> %s: %s", l4_word(c->l4), end_text(c->source, a), end_text(c->destination, b),
			 outcome);
	} else {
		put_line(out, "trace %s: %s (%s) -> %s (%s)", l->record.name, p->machines[t->from].name,
			 ipv4_addr_format(source_address(l, t->from), src), to_name, ipv4_addr_format(t->dst, dst));
	}
	if (*t->resolved)
		put_line(out, "    resolved by %s's resolver: %s", p->machines[t->from].name, t->resolved);
	/* Where the packet goes, as NAT and a proxy change it. */
	uint32_t to = t->dst;
	for (size_t i = 0; i < t->n_hops; i++) {
		const struct trace_hop *h = &t->hops[i];
		const char *m = p->machines[h->machine].name;
		size_t step = i + 1;
		if (h->kind == HOP_DNAT || (h->kind == HOP_PROXY && h->after.addr))
			to = h->after.addr;
		ipv4_addr_format(to, dst);
		switch (h->kind) {
		case HOP_ROUTE: {
			char route[IPV4_PREFIX_STRLEN + 8], neigh[96], nh[16];
			format_route(h, route, sizeof(route));
			format_neighbour(h, neigh, sizeof(neigh));
			ipv4_addr_format(h->next_hop, nh);
			if (h->via)
				put_line(out, "%2zu. %s: route %s via %s dev %s", step, m, route, nh, h->dev);
			else
				put_line(out, "%2zu. %s: route %s dev %s (directly connected)", step, m, route, h->dev);
			put_line(out, "      neighbour %s on %s: %s", nh, h->dev, neigh);
			break;
		}
		case HOP_WIRE:
			put_line(out, "%2zu. %s", step, h->path);
			break;
		case HOP_DELIVER:
			put_line(out, "%2zu. %s: %s is local: delivered", step, m, dst);
			break;
		case HOP_DROP:
			/* A rule's drop says itself what it did: "rejected by ...". */
			put_line(out, "%2zu. %s: %s%s", step, m, h->rules.n ? "" : "dropped: ", h->reason);
			print_rules(out, &h->rules);
			break;
		case HOP_PROXY: {
			char a[22];
			if (h->after.addr)
				put_line(out, "%2zu. %s: proxy (nginx): %s -> upstream %s (%s): a connection of its own", step,
					 m, h->path, h->reason, end_text(h->after, a));
			else
				put_line(out, "%2zu. %s: proxy (nginx): %s %s", step, m, h->path, h->reason);
			break;
		}
		case HOP_POLICY:
			put_line(out, "%2zu. %s: let through by NetworkPolicy (%s)", step, m,
				 h->rules.n ? h->rules.items[0].table : "");
			print_rules(out, &h->rules);
			break;
		case HOP_DNAT:
		case HOP_SNAT: {
			char a[22], b[22];
			put_line(out, "%2zu. %s: %s %s -> %s (conntrack)%s", step, m,
				 h->kind == HOP_DNAT ? "dnat: destination" : "snat: source", end_text(h->before, a),
				 end_text(h->after, b), h->rules.n ? "" : "; no rule of its ruleset explains it");
			print_rules(out, &h->rules);
			break;
		}
		}
	}
}

/* A hop's rules in JSON: each rule's table, chain, text and handle, each
 * element's table, map and text. */
static void json_rules(cJSON *o, const struct nft_quotes *q)
{
	cJSON *rules = cJSON_AddArrayToObject(o, "rules");
	for (size_t k = 0; k < q->n; k++) {
		const struct nft_quote *x = &q->items[k];
		cJSON *r = cJSON_CreateObject();
		autofree char *table = str_escape(x->table);
		autofree char *where = str_escape(x->map ? x->map : x->chain);
		autofree char *text = str_escape(x->text);
		cJSON_AddStringToObject(r, "table", table);
		cJSON_AddStringToObject(r, x->map ? "map" : "chain", where);
		cJSON_AddStringToObject(r, x->map ? "element" : "rule", text);
		if (!x->map)
			cJSON_AddNumberToObject(r, "handle", x->handle);
		cJSON_AddItemToArray(rules, r);
	}
}

void trace_print_json(FILE *out, const struct live_lab *l, const struct trace *t, const char *to_name)
{
	const struct plan *p = &l->plan;
	char buf[32];
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "lab", l->record.name);
	cJSON_AddStringToObject(root, "from", p->machines[t->from].name);
	cJSON_AddStringToObject(root, "to", to_name);
	cJSON_AddStringToObject(root, "source", ipv4_addr_format(source_address(l, t->from), buf));
	cJSON_AddStringToObject(root, "destination", ipv4_addr_format(t->dst, buf));
	cJSON_AddBoolToObject(root, "delivered", t->delivered);
	if (*t->resolved)
		cJSON_AddStringToObject(root, "resolved", t->resolved);
	const struct trace_connection *c = &t->connection;
	if (c->made) {
		char a[22];
		cJSON *conn = cJSON_AddObjectToObject(root, "connection");
		cJSON_AddStringToObject(conn, "protocol", l4_word(c->l4));
		cJSON_AddStringToObject(conn, "source", end_text(c->source, a));
		cJSON_AddStringToObject(conn, "destination", end_text(c->destination, a));
		cJSON_AddBoolToObject(conn, "answered", c->answered);
		autofree char *by = str_escape(c->answered_by), *client = str_escape(c->client), *error = str_escape(c->error);
		if (c->answered)
			cJSON_AddStringToObject(conn, "answeredBy", by);
		else
			cJSON_AddNullToObject(conn, "answeredBy");
		if (*c->client)
			cJSON_AddStringToObject(conn, "client", client);
		else
			cJSON_AddNullToObject(conn, "client");
		if (c->answered) {
			cJSON_AddNullToObject(conn, "failure");
			cJSON_AddNullToObject(conn, "error");
		} else {
			cJSON_AddStringToObject(conn, "failure", c->failure ? c->failure : "error");
			cJSON_AddStringToObject(conn, "error", error);
		}
	}
	cJSON *hops = cJSON_AddArrayToObject(root, "hops");
	static const char *const kinds[] = {[HOP_ROUTE] = "route", [HOP_WIRE] = "wire", [HOP_DELIVER] = "deliver",
					    [HOP_DROP] = "drop",   [HOP_DNAT] = "dnat", [HOP_SNAT] = "snat",
					    [HOP_PROXY] = "proxy", [HOP_POLICY] = "policy"};
	for (size_t i = 0; i < t->n_hops; i++) {
		const struct trace_hop *h = &t->hops[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "step", (double)(i + 1));
		cJSON_AddStringToObject(o, "kind", kinds[h->kind]);
		cJSON_AddStringToObject(o, "machine", p->machines[h->machine].name);
		if (h->kind == HOP_ROUTE) {
			format_route(h, buf, sizeof(buf));
			cJSON_AddStringToObject(o, "route", buf);
			cJSON_AddStringToObject(o, "dev", h->dev);
			if (h->via)
				cJSON_AddStringToObject(o, "via", ipv4_addr_format(h->via, buf));
			else
				cJSON_AddNullToObject(o, "via");
			cJSON *n = cJSON_AddObjectToObject(o, "neighbour");
			cJSON_AddStringToObject(n, "address", ipv4_addr_format(h->next_hop, buf));
			if (h->neighbour.resolved)
				cJSON_AddStringToObject(n, "mac", h->neighbour.mac);
			else
				cJSON_AddNullToObject(n, "mac");
			if (h->neighbour.found)
				cJSON_AddStringToObject(n, "state", h->neighbour.state);
			else
				cJSON_AddNullToObject(n, "state");
			cJSON_AddBoolToObject(n, "resolved", h->neighbour.resolved);
		} else if (h->kind == HOP_WIRE) {
			cJSON_AddStringToObject(o, "path", h->path);
			if (h->vxlan) {
				cJSON *v = cJSON_AddObjectToObject(o, "vxlan");
				cJSON_AddNumberToObject(v, "vni", h->vni);
				cJSON_AddNumberToObject(v, "port", h->port);
				cJSON_AddStringToObject(v, "outerSource", ipv4_addr_format(h->outer_src, buf));
				cJSON_AddStringToObject(v, "outerDestination", ipv4_addr_format(h->outer_dst, buf));
			}
		} else if (h->kind == HOP_DROP) {
			cJSON_AddStringToObject(o, "reason", h->reason);
			if (h->rules.n)
				json_rules(o, &h->rules);
		} else if (h->kind == HOP_POLICY) {
			json_rules(o, &h->rules);
		} else if (h->kind == HOP_PROXY) {
			char a[22];
			cJSON_AddStringToObject(o, "location", h->path);
			if (h->after.addr) {
				cJSON_AddStringToObject(o, "upstream", h->reason);
				cJSON_AddStringToObject(o, "upstreamAddress", end_text(h->after, a));
				cJSON_AddNullToObject(o, "answer");
			} else {
				cJSON_AddNullToObject(o, "upstream");
				cJSON_AddNullToObject(o, "upstreamAddress");
				cJSON_AddStringToObject(o, "answer", h->reason);
			}
		} else if (h->kind == HOP_DNAT || h->kind == HOP_SNAT) {
			char a[22];
			cJSON_AddStringToObject(o, "protocol", l4_word(c->l4));
			cJSON_AddStringToObject(o, "original", end_text(h->before, a));
			cJSON_AddStringToObject(o, "translated", end_text(h->after, a));
			json_rules(o, &h->rules);
		}
		cJSON_AddItemToArray(hops, o);
	}
	char *text = cJSON_Print(root);
	fprintf(out, "%s\n", text);
	free(text);
	cJSON_Delete(root);
}

char *trace_neighbour_note(const struct live_lab *l, size_t from, uint32_t dst)
{
	struct trace *t = xmalloc(sizeof(*t));
	struct tb_err e;
	if (trace_run(l, from, dst, t, &e) < 0) {
		trace_free(t);
		free(t);
		return NULL;
	}
	char *note = xstrdup("");
	for (size_t i = 0; i < t->n_hops; i++) {
		const struct trace_hop *h = &t->hops[i];
		char *line = NULL;
		const char *m = l->plan.machines[h->machine].name;
		if (h->kind == HOP_ROUTE) {
			char nh[16], neigh[96];
			format_neighbour(h, neigh, sizeof(neigh));
			line = xasprintf("%s %s -> %s: %s", m, h->dev, ipv4_addr_format(h->next_hop, nh), neigh);
		} else if (h->kind == HOP_DROP) {
			line = xasprintf("%s: dropped: %s", m, h->reason);
		}
		if (line) {
			char *more = xasprintf("%s%s%s", note, *note ? "\n" : "", line);
			free(note);
			free(line);
			note = more;
		}
	}
	trace_free(t);
	free(t);
	return note;
}
