/* Services and what lies outside the cluster: passes of the compiler.
 *   - Services as kube-proxy sees them (struct plan_service): endpoints
 *     from the selector as the EndpointSlice controller computes them
 *     (pods of the Service's namespace whose labels hold the selector, a
 *     named target port resolved per pod), or from EndpointSlice objects;
 *     then each node's kube-proxy table (kubeproxy.c).
 *   - External machines behind the gateway, each on a link of its own (an
 *     address of any range, reached by a host route), and the gateway's
 *     routes to load-balancer and external IPs: equal-cost over the nodes
 *     that announce them, as a BGP-speaking load balancer has them.
 *   - Egress: each node masquerades its pods' traffic to anywhere but the
 *     pod, service and node ranges, as kubenet's ip-masq does, so that the
 *     outside sees node addresses and pods see each other's own. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "model/selector.h"
#include "plan/kubeproxy.h"
#include "plan/plan_passes.h"
#include "util/ipv4.h"
#include "util/util.h"

#define EGRESS_TABLE "testbed-egress"
#define KUBE_PROXY_TABLE "kube-proxy"

static bool labels_hold(const struct tb_label *want, size_t n_want, const struct tb_label *have, size_t n_have)
{
	for (size_t i = 0; i < n_want; i++) {
		bool found = false;
		for (size_t k = 0; k < n_have && !found; k++)
			found = strcmp(want[i].key, have[k].key) == 0 && strcmp(want[i].value, have[k].value) == 0;
		if (!found)
			return false;
	}
	return true;
}

/* The port POD serves service port SP on: a number is itself, a name the
 * pod's port of that name and protocol (0: it has none). */
static uint16_t target_port(const struct tb_service_port *sp, const struct plan_machine *pod)
{
	if (!sp->target_port_name)
		return (uint16_t)sp->target_port;
	for (size_t i = 0; i < pod->n_ports; i++)
		if (pod->ports[i].protocol == sp->protocol && strcmp(pod->ports[i].name, sp->target_port_name) == 0)
			return (uint16_t)pod->ports[i].port;
	return 0;
}

static void add_endpoint(struct plan_service *ps, const struct plan_endpoint *e)
{
	ps->endpoints = xrealloc(ps->endpoints, (ps->n_endpoints + 1) * sizeof(*ps->endpoints));
	ps->endpoints[ps->n_endpoints++] = *e;
}

/* The EndpointSlice controller's endpoints: every pod of the namespace the
 * selector selects, ready (a stand-in server is up when up returns). */
static void selected_endpoints(const struct tb_service *s, struct plan *p, struct plan_service *ps)
{
	for (size_t m = 0; m < p->n_machines; m++) {
		const struct plan_machine *pod = &p->machines[m];
		if (pod->kind != MACHINE_POD || strcmp(pod->namespace, s->namespace) != 0 ||
		    !labels_hold(s->selector, s->n_selector, pod->labels, pod->n_labels))
			continue;
		struct plan_endpoint e = {.machine = m,
					  .address = pod->address,
					  .node = pod->parent,
					  .ports = xcalloc(s->n_ports + 1, sizeof(*e.ports)),
					  .ready = true,
					  .serving = true};
		for (size_t k = 0; k < s->n_ports; k++)
			e.ports[k] = target_port(&s->ports[k], pod);
		/* As the EndpointSlice controller names it: the pod's
		 * hostname, when its subdomain is this Service. */
		if (pod->hostname && pod->subdomain && strcmp(pod->subdomain, s->name) == 0)
			e.hostname = xstrdup(pod->hostname);
		add_endpoint(ps, &e);
	}
}

/* The endpoints S's EndpointSlices give (all of a Service without a
 * selector; those another controller than the EndpointSlice controller
 * made, beside a selector's), a slice's port matched to a service port
 * by name and protocol. */
static void sliced_endpoints(const struct tb_topology *t, const struct tb_service *s, struct plan *p,
			     struct plan_service *ps, const struct cluster_plan *c)
{
	for (size_t i = 0; i < t->n_slices; i++) {
		const struct tb_endpoint_slice *es = &t->slices[i];
		if (!es->service || strcmp(es->service, s->name) != 0 || strcmp(es->namespace, s->namespace) != 0 ||
		    (s->has_selector && es->controller_managed))
			continue;
		for (size_t k = 0; k < es->n_endpoints; k++) {
			const struct tb_slice_endpoint *se = &es->endpoints[k];
			if (!se->n_addresses)
				continue;
			struct plan_endpoint e = {.machine = PLAN_NONE,
						  .address = se->addresses[0],
						  .node = PLAN_NONE,
						  .ports = xcalloc(s->n_ports + 1, sizeof(*e.ports)),
						  .ready = se->ready,
						  .serving = se->serving,
						  .terminating = se->terminating,
						  .hostname = se->hostname ? xstrdup(se->hostname) : NULL};
			for (size_t m = 0; m < p->n_machines && e.machine == PLAN_NONE; m++)
				if (p->machines[m].kind == MACHINE_POD && p->machines[m].address == e.address)
					e.machine = m;
			/* kube-proxy knows an endpoint's node by nodeName alone: one
			 * without it is local to no node, wherever its address is
			 * (upstream's proxier tests rely on it). */
			for (size_t n = 0; se->node_name && n < t->n_nodes; n++)
				if (strcmp(t->nodes[n].name, se->node_name) == 0)
					e.node = c->first_node + n;
			for (size_t sp = 0; sp < s->n_ports; sp++)
				for (size_t q = 0; q < es->n_ports; q++)
					if (es->ports[q].protocol == s->ports[sp].protocol &&
					    strcmp(es->ports[q].name, s->ports[sp].name) == 0)
						e.ports[sp] = (uint16_t)es->ports[q].port;
			add_endpoint(ps, &e);
		}
	}
}

static void copy_kube_proxy(const struct tb_kube_proxy *k, struct plan_kube_proxy *pk)
{
	*pk = (struct plan_kube_proxy){
		.masquerade_all = k->masquerade_all,
		.has_cluster_cidr = k->has_cluster_cidr,
		.cluster_cidr = k->cluster_cidr,
		.n_node_port_addresses = k->n_node_port_addresses,
	};
	if (k->n_node_port_addresses) {
		pk->node_port_addresses = xcalloc(k->n_node_port_addresses, sizeof(*pk->node_port_addresses));
		memcpy(pk->node_port_addresses, k->node_port_addresses,
		       k->n_node_port_addresses * sizeof(*pk->node_port_addresses));
	}
}

static uint32_t *copy_addresses(const uint32_t *a, size_t n)
{
	uint32_t *c = n ? xcalloc(n, sizeof(*c)) : NULL;
	if (n)
		memcpy(c, a, n * sizeof(*c));
	return c;
}

void plan_cluster_services(const struct tb_topology *t, struct plan *p, const struct cluster_plan *c)
{
	copy_kube_proxy(&t->cluster.kube_proxy, &p->kube_proxy);
	p->services = t->n_services_objects ? xcalloc(t->n_services_objects, sizeof(*p->services)) : NULL;
	for (size_t i = 0; i < t->n_services_objects; i++) {
		const struct tb_service *s = &t->services[i];
		struct plan_service *ps = &p->services[p->n_services++];
		*ps = (struct plan_service){
			.namespace = xstrdup(s->namespace),
			.name = xstrdup(s->name),
			.type = (enum plan_service_type)s->type,
			.cluster_ip = s->headless ? 0 : s->cluster_ip,
			.ports = xcalloc(s->n_ports + 1, sizeof(*ps->ports)),
			.n_ports = s->n_ports,
			.external_ips = copy_addresses(s->external_ips, s->n_external_ips),
			.n_external_ips = s->n_external_ips,
			.load_balancer_ips = copy_addresses(s->load_balancer_ips, s->n_load_balancer_ips),
			.n_load_balancer_ips = s->n_load_balancer_ips,
			.n_source_ranges = s->n_source_ranges,
			.affinity = s->affinity,
			.affinity_timeout = s->affinity_timeout,
			.external_local = s->external_local,
			.internal_local = s->internal_local,
			.publish_not_ready = s->publish_not_ready,
		};
		if (s->n_source_ranges) {
			ps->source_ranges = xcalloc(s->n_source_ranges, sizeof(*ps->source_ranges));
			memcpy(ps->source_ranges, s->source_ranges, s->n_source_ranges * sizeof(*ps->source_ranges));
		}
		for (size_t k = 0; k < s->n_ports; k++)
			ps->ports[k] = (struct plan_service_port){xstrdup(s->ports[k].name), s->ports[k].protocol,
								  (uint16_t)s->ports[k].port, (uint16_t)s->ports[k].node_port};
		/* kube-proxy and the EndpointSlice controller skip an
		 * ExternalName Service: it is a name in cluster DNS only. */
		if (s->type == TB_SERVICE_EXTERNAL_NAME) {
			ps->external_name = xstrdup(s->external_name ? s->external_name : "");
			ps->cluster_ip = 0;
			continue;
		}
		if (s->has_selector)
			selected_endpoints(s, p, ps);
		sliced_endpoints(t, s, p, ps, c);
	}
}

/* Every node's kube-proxy table, when the lab has services. */
void plan_cluster_kube_proxy(const struct tb_topology *t, struct plan *p, const struct cluster_plan *c)
{
	if (!p->n_services)
		return;
	for (size_t i = 0; i < t->n_nodes; i++) {
		size_t node = c->first_node + i;
		/* A pod's reply to a pod of its bridge that reached it through a
		 * Service is bridged: it must pass the node's nftables to be
		 * un-DNATed, as kubenet requires of every node. */
		build_sysctl(p, node, "net/bridge/bridge-nf-call-iptables", "1",
			     "kube-proxy: bridged traffic passes the node's rules (br_netfilter), as kubenet requires");
		/* A NodePort's packet forwarded out of the interface it came in
		 * on would make an ICMP redirect, whose rate limit a REJECT's
		 * answer shares: the client would wait instead of being refused. */
		build_sysctl(p, node, "net/ipv4/conf/all/send_redirects", "0",
			     "kube-proxy: no ICMP redirects for NodePort traffic that leaves as it came");
		build_sysctl(p, node, "net/ipv4/conf/eth0/send_redirects", "0",
			     "kube-proxy: no ICMP redirects for NodePort traffic that leaves as it came");
		/* A node answers at most 6 REJECTs a second to any one client
		 * (icmp_ratelimit's token bucket for destination unreachable):
		 * past that, a client of a Service without endpoints would wait
		 * out its timeout as for a DROP, and whether a probe is refused
		 * would hang on how many were before it. */
		build_sysctl(p, node, "net/ipv4/icmp_ratelimit", "0",
			     "kube-proxy: every REJECT answered at once, however many come in a second");
		char *ruleset = kubeproxy_ruleset(p, node);
		if (!ruleset)
			continue;
		struct step *s = plan_add_step(p, STEP_NFT, node,
					       "kube-proxy (nftables mode): each node DNATs service addresses to endpoints");
		s->u.nft.table = xstrdup("ip " KUBE_PROXY_TABLE);
		s->u.nft.ruleset = ruleset;
	}
}

void plan_cluster_externals(const struct tb_topology *t, struct plan *p, struct cluster_plan *c)
{
	c->first_external = p->n_machines;
	for (size_t i = 0; i < t->n_externals; i++) {
		const struct tb_external *x = &t->externals[i];
		struct tb_port http = {TB_HTTP_PORT_NAME, TB_DEFAULT_HTTP_PORT, TB_PROTOCOL_TCP};
		struct plan_machine m = {
			.kind = MACHINE_EXTERNAL,
			.name = x->name,
			.parent = PLAN_NONE,
			.image = build_image(t, p, "pod"),
			.ports = &http,
			.n_ports = 1,
			.pod_server = true,
			.address = x->address,
			.disk = TB_DEFAULT_DISK,
		};
		build_machine(p, &m, build_workload(x->name, "", &http, 1, NULL, 0),
			      "outside the cluster: a machine behind the gateway, the lab's own internet");
	}
}

void plan_cluster_external_network(const struct tb_topology *t, struct plan *p, const struct cluster_plan *c)
{
	for (size_t i = 0; i < t->n_externals; i++) {
		size_t m = c->first_external + i;
		uint32_t addr = t->externals[i].address;
		char gw_end[PLAN_IFNAME];
		snprintf(gw_end, sizeof(gw_end), "x%u", (unsigned)i);
		build_veth(p, c->gateway, gw_end, NULL, false, m, "eth0", 0,
			   "outside: each external machine on a link of its own to the gateway");
		build_address(p, m, "eth0", addr, 32, "outside: the external machine's address, of any range");
		/* The gateway's underlay address on this link too: the external
		 * machine's next hop is then a member of its own segment. */
		build_address(p, c->gateway, gw_end, t->cluster.gateway_address, 32,
			      "outside: the gateway's address on each external link");
		build_route(p, c->gateway, (struct ipv4_prefix){addr, 32}, 0, gw_end,
			    "outside: the gateway reaches each external machine on its link");
		struct step *r = build_route(p, m, (struct ipv4_prefix){0, 0}, t->cluster.gateway_address, "eth0",
					     "outside: everything through the gateway");
		r->u.route.onlink = true;
	}
}

/* The nodes that announce ADDRESS of S: all of them, or under Local those
 * with a ready endpoint of their own (a load balancer's health check
 * leaves the others out). */
static void announce(struct plan *p, const struct cluster_plan *c, size_t n_nodes, const struct plan_service *s,
		     uint32_t address, const char *note)
{
	autofree uint32_t *via = xcalloc(n_nodes + 1, sizeof(*via));
	size_t n = 0;
	for (size_t i = 0; i < n_nodes; i++) {
		size_t node = c->first_node + i;
		bool local = false;
		for (size_t k = 0; k < s->n_endpoints && !local; k++)
			local = s->endpoints[k].node == node && s->endpoints[k].ready;
		if (!s->external_local || local)
			via[n++] = p->machines[node].address;
	}
	if (!n)
		return;
	struct step *r = build_route(p, c->gateway, (struct ipv4_prefix){address, 32}, via[0], NULL, note);
	if (n > 1) {
		r->u.route.also_via = copy_addresses(via + 1, n - 1);
		r->u.route.n_also_via = n - 1;
	}
}

void plan_cluster_service_routes(const struct tb_topology *t, struct plan *p, const struct cluster_plan *c)
{
	bool any = false;
	for (size_t i = 0; i < p->n_services && !any; i++)
		any = p->services[i].n_load_balancer_ips + p->services[i].n_external_ips > 0;
	/* Equal-cost next hops chosen per connection (addresses and ports),
	 * as a load balancer spreads its clients; by addresses alone, the
	 * kernel's default, one client would always reach one node. */
	if (any)
		build_sysctl(p, c->gateway, "net/ipv4/fib_multipath_hash_policy", "1",
			     "LoadBalancer and externalIPs: the gateway spreads connections over the nodes by their ports too");
	/* One route per address, whichever services share it. */
	uint32_t *done = xcalloc(1, sizeof(*done));
	size_t n_done = 0;
	for (size_t i = 0; i < p->n_services; i++) {
		const struct plan_service *s = &p->services[i];
		for (size_t k = 0; k < s->n_load_balancer_ips + s->n_external_ips; k++) {
			bool lb = k < s->n_load_balancer_ips;
			uint32_t a = lb ? s->load_balancer_ips[k] : s->external_ips[k - s->n_load_balancer_ips];
			bool seen = false;
			for (size_t j = 0; j < n_done && !seen; j++)
				seen = done[j] == a;
			if (seen)
				continue;
			done = xrealloc(done, (n_done + 1) * sizeof(*done));
			done[n_done++] = a;
			announce(p, c, t->n_nodes, s, a,
				 lb ? "LoadBalancer: the gateway routes the load balancer's address to the nodes, equal-cost"
				    : "externalIPs: the gateway routes the service's external address to the nodes, equal-cost");
		}
	}
	free(done);
}

void plan_cluster_egress(const struct tb_topology *t, struct plan *p, const struct cluster_plan *c)
{
	char pods[IPV4_PREFIX_STRLEN], services[IPV4_PREFIX_STRLEN], underlay[IPV4_PREFIX_STRLEN],
		node_pods[IPV4_PREFIX_STRLEN];
	ipv4_network_format(t->cluster.pod_cidr, pods);
	ipv4_network_format(t->cluster.service_cidr, services);
	ipv4_network_format(t->cluster.underlay, underlay);
	for (size_t i = 0; i < t->n_nodes; i++) {
		ipv4_network_format(t->nodes[i].pod_cidr, node_pods);
		struct step *s = plan_add_step(p, STEP_NFT, c->first_node + i,
					       "egress: pods' traffic leaving the cluster's ranges leaves with the node's "
					       "address (kubenet's ip-masq)");
		s->u.nft.table = xstrdup("ip " EGRESS_TABLE);
		s->u.nft.ruleset = xasprintf("table ip " EGRESS_TABLE " {\n"
					     "\tchain postrouting {\n"
					     "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
					     "\t\tip saddr %s ip daddr != { %s, %s, %s } masquerade\n"
					     "\t}\n"
					     "}\n",
					     node_pods, pods, services, underlay);
	}
}
