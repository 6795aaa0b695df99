/* Compiling a topology into a plan: the article's kubenet lab. Names chosen
 * here are what users see in `ip link` inside the lab: pods' eth0, nodes'
 * eth0 and cbr0 as in kubenet, veth<N> for a node's end of its Nth pod,
 * flannel.1 for vxlan, and tb-* in the lab namespace (bridge names may not
 * start with tb-, so they never clash). Steps are appended as each pass
 * goes, then put in the order up applies them (step kinds in enum order),
 * each with the article's section where one applies. This file holds the
 * builders the passes share (plan_passes.h), section 1's hosts and the
 * order of the passes; plan_cluster.c holds sections 3.1-3.3, plan_neigh.c
 * the neighbour design. */
#define _GNU_SOURCE
#include "plan/plan_compile.h"

#include <stdio.h>
#include <string.h>

#include "model/netpol.h"
#include "plan/plan_passes.h"
#include "util/util.h"

#ifndef TESTBED_VERSION
#define TESTBED_VERSION "unknown"
#endif

void build_name(char dst[PLAN_IFNAME], const char *src)
{
	snprintf(dst, PLAN_IFNAME, "%s", src);
}

size_t build_image(const struct tb_topology *t, struct plan *p, const char *name)
{
	const struct tb_image *img = name ? topology_find_image(t, name) : NULL;
	return img ? plan_add_image(p, img->name, img->resolved) : PLAN_NONE;
}

/* The pod HTTP server, or the pod's own command (malloc'd). */
char **build_workload(const char *name, const char *node, const struct tb_port *ports, size_t n_ports,
		      char *const *command, size_t n_command)
{
	if (command) {
		char **argv = xcalloc(n_command + 1, sizeof(*argv));
		for (size_t i = 0; i < n_command; i++)
			argv[i] = xstrdup(command[i]);
		return argv;
	}
	if (!n_ports)
		return NULL;
	/* The server's own words: --port for TCP, --udp for UDP. */
	char **argv = xcalloc(2 * n_ports + 6, sizeof(*argv));
	size_t n = 0;
	argv[n++] = xstrdup(POD_SERVER_PATH);
	for (size_t i = 0; i < n_ports; i++) {
		argv[n++] = xstrdup(ports[i].protocol == TB_PROTOCOL_UDP ? "--udp" : "--port");
		argv[n++] = xasprintf("%d", ports[i].port);
	}
	argv[n++] = xstrdup("--name");
	argv[n++] = xstrdup(name);
	argv[n++] = xstrdup("--node");
	argv[n++] = xstrdup(node);
	return argv;
}

size_t build_machine(struct plan *p, const struct plan_machine *m, char **argv, const char *note)
{
	struct plan_machine copy = *m;
	copy.argv = argv;
	if (copy.image == PLAN_NONE)
		copy.disk = 0;
	size_t i = plan_add_machine(p, &copy);
	strv_free(argv);
	plan_add_step(p, STEP_MACHINE, i, note);
	return i;
}

void build_bridge(struct plan *p, size_t machine, const char *name, int mtu, const char *note)
{
	struct step *s = plan_add_step(p, STEP_BRIDGE, machine, note);
	build_name(s->u.bridge.name, name);
	s->u.bridge.mtu = mtu;
}

void build_veth(struct plan *p, size_t m0, const char *name0, const char *master, bool hairpin, size_t m1,
		     const char *name1, int mtu, const char *note)
{
	struct step *s = plan_add_step(p, STEP_VETH, m0, note);
	struct step_veth *v = &s->u.veth;
	build_name(v->name, name0);
	v->peer_machine = m1;
	build_name(v->peer_name, name1);
	build_name(v->master, master ? master : "");
	v->hairpin = hairpin;
	v->mtu = mtu;
}

void build_address(struct plan *p, size_t machine, const char *ifname, uint32_t addr, uint8_t len,
			const char *note)
{
	struct step *s = plan_add_step(p, STEP_ADDRESS, machine, note);
	build_name(s->u.address.ifname, ifname);
	s->u.address.prefix = (struct ipv4_prefix){.addr = addr, .len = len};
}

struct step *build_route(struct plan *p, size_t machine, struct ipv4_prefix dst, uint32_t via, const char *dev,
			      const char *note)
{
	struct step *s = plan_add_step(p, STEP_ROUTE, machine, note);
	struct step_route *r = &s->u.route;
	r->table = 254;
	r->dst = dst;
	r->via = via;
	build_name(r->dev, dev ? dev : "");
	r->scope = via ? ROUTE_SCOPE_UNIVERSE : ROUTE_SCOPE_LINK;
	return s;
}

void build_sysctl(struct plan *p, size_t machine, const char *key, const char *value, const char *note)
{
	struct step *s = plan_add_step(p, STEP_SYSCTL, machine, note);
	s->u.sysctl.key = xstrdup(key);
	s->u.sysctl.value = xstrdup(value);
}

/* ---- the article's section 1: hosts, bridges and links ---- */

static void plan_host_machines(const struct tb_topology *t, struct plan *p)
{
	for (size_t i = 0; i < t->n_hosts; i++) {
		const struct tb_host *h = &t->hosts[i];
		struct plan_machine m = {
			.kind = MACHINE_HOST,
			.name = h->name,
			.parent = PLAN_NONE,
			.image = build_image(t, p, h->image),
			.ports = h->ports,
			.n_ports = h->n_ports,
			.pod_server = h->n_ports > 0,
			.address = h->n_ifaces ? h->ifaces[0].address.addr : 0,
			.disk = h->disk,
		};
		build_machine(p, &m, build_workload(h->name, "", h->ports, h->n_ports, NULL, 0),
			      "Section 1.1: a network namespace");
	}
}

static void plan_host_network(const struct tb_topology *t, struct plan *p, size_t lab, size_t first_host)
{
	for (size_t i = 0; i < t->n_bridges; i++)
		build_bridge(p, lab, t->bridges[i].name, 0, "Section 1.3: a bridge connects the namespaces' veths");
	for (size_t i = 0; i < t->n_links; i++) {
		const struct tb_link *l = &t->links[i];
		const struct tb_endpoint *a = &l->ends[0], *b = &l->ends[1];
		if (a->kind == TB_ENDPOINT_BRIDGE) {
			const struct tb_endpoint *tmp = a;
			a = b;
			b = tmp;
		}
		if (b->kind == TB_ENDPOINT_BRIDGE) {
			char lab_end[PLAN_IFNAME];
			snprintf(lab_end, sizeof(lab_end), "tb-l%u", (unsigned)i);
			build_veth(p, lab, lab_end, t->bridges[b->index].name, false, first_host + a->index, a->ifname, 0,
				 "Section 1.3: a veth pair; one end joins the bridge, the other goes to the namespace");
		} else {
			build_veth(p, first_host + a->index, a->ifname, NULL, false, first_host + b->index, b->ifname, 0,
				 "Section 1.2: a veth pair straight between two namespaces");
		}
	}
	for (size_t i = 0; i < t->n_bridges; i++)
		if (t->bridges[i].has_address)
			build_address(p, lab, t->bridges[i].name, t->bridges[i].address.addr, t->bridges[i].address.len,
				    "Section 1.3: the bridge's own address");
	for (size_t i = 0; i < t->n_hosts; i++)
		for (size_t j = 0; j < t->hosts[i].n_ifaces; j++) {
			const struct tb_iface *f = &t->hosts[i].ifaces[j];
			build_address(p, first_host + i, f->name, f->address.addr, f->address.len,
				    "Section 1.2: addresses on the namespaces' ends");
		}
}

static struct plan_policy_rule *copy_rules(const struct tb_policy_rule *rules, size_t n)
{
	struct plan_policy_rule *out = xcalloc(n + 1, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		const struct tb_policy_rule *r = &rules[i];
		out[i].peers = xcalloc(r->n_peers + 1, sizeof(*out[i].peers));
		out[i].n_peers = r->n_peers;
		for (size_t k = 0; k < r->n_peers; k++) {
			const struct tb_policy_peer *from = &r->peers[k];
			struct plan_policy_peer *to = &out[i].peers[k];
			*to = (struct plan_policy_peer){
				.kind = from->kind == TB_PEER_IP_BLOCK ? PLAN_PEER_IP_BLOCK : PLAN_PEER_PODS,
				.has_pod_selector = from->has_pod_selector,
				.has_namespace_selector = from->has_namespace_selector,
				.cidr = from->cidr,
				.n_except = from->n_except,
			};
			label_selector_copy(&to->pod_selector, &from->pod_selector);
			label_selector_copy(&to->namespace_selector, &from->namespace_selector);
			to->except = xcalloc(from->n_except + 1, sizeof(*to->except));
			for (size_t e = 0; e < from->n_except; e++)
				to->except[e] = from->except[e];
		}
		out[i].ports = xcalloc(r->n_ports + 1, sizeof(*out[i].ports));
		out[i].n_ports = r->n_ports;
		for (size_t k = 0; k < r->n_ports; k++) {
			const struct tb_policy_port *from = &r->ports[k];
			out[i].ports[k] = (struct plan_policy_port){
				.protocol = from->protocol,
				.any_port = from->any_port,
				.port = from->port,
				.end_port = from->end_port,
				.name = from->name ? xstrdup(from->name) : NULL,
			};
		}
	}
	return out;
}

/* NetworkPolicies as the model read them, and every namespace's labels,
 * which their namespaceSelectors match: the rule builder's and the
 * evaluator's input. */
static void plan_policies(const struct tb_topology *t, const char *source, struct plan *p)
{
	p->namespaces = xcalloc(t->n_namespaces + 1, sizeof(*p->namespaces));
	for (size_t i = 0; i < t->n_namespaces; i++) {
		const struct tb_namespace *ns = &t->namespaces[i];
		struct plan_namespace *to = &p->namespaces[p->n_namespaces++];
		to->name = xstrdup(ns->name);
		to->labels = xcalloc(ns->n_labels + 1, sizeof(*to->labels));
		for (size_t k = 0; k < ns->n_labels; k++)
			to->labels[to->n_labels++] = (struct tb_label){xstrdup(ns->labels[k].key), xstrdup(ns->labels[k].value)};
	}
	p->policies = xcalloc(t->n_policy_objects + 1, sizeof(*p->policies));
	for (size_t i = 0; i < t->n_policy_objects; i++) {
		const struct tb_policy *from = &t->policies[i];
		struct plan_policy *to = &p->policies[p->n_policies++];
		*to = (struct plan_policy){
			.namespace = xstrdup(from->namespace),
			.name = xstrdup(from->name),
			.ingress = from->ingress,
			.egress = from->egress,
			.ingress_rules = copy_rules(from->ingress_rules, from->n_ingress_rules),
			.n_ingress_rules = from->n_ingress_rules,
			.egress_rules = copy_rules(from->egress_rules, from->n_egress_rules),
			.n_egress_rules = from->n_egress_rules,
			.where = xasprintf("%s:%d", from->origin.file ? from->origin.file : (source && *source ? source : "topology"),
					   from->origin.line),
		};
		label_selector_copy(&to->pod_selector, &from->pod_selector);
	}
}

static void plan_expectations(const struct tb_topology *t, struct plan *p)
{
	plan_set_expects(p, t->expects, t->n_expects);
	p->has_expect = t->has_expect;
}

/* Steps in the order of their kinds, keeping the order within a kind:
 * then every step finds what it needs (its machines, links, addresses)
 * made by an earlier one, and `up` can apply one kind at a time. */
static void order_steps(struct plan *p)
{
	struct step *sorted = xcalloc(p->n_steps ? p->n_steps : 1, sizeof(*sorted));
	size_t n = 0;
	for (int kind = 0; kind < STEP_KIND_COUNT; kind++)
		for (size_t i = 0; i < p->n_steps; i++)
			if (p->steps[i].kind == (enum step_kind)kind)
				sorted[n++] = p->steps[i];
	free(p->steps);
	p->steps = sorted;
	p->cap_steps = p->n_steps;
}

int plan_build(const struct tb_topology *t, const char *source, struct plan *p, struct tb_err *e)
{
	(void)e;
	*p = (struct plan){
		.lab = xstrdup(t->name),
		.topology = xstrdup(source ? source : ""),
		.version = xstrdup(TESTBED_VERSION),
		.routing = t->cluster.routing,
		.pod_cidr = t->cluster.pod_cidr,
		.service_cidr = t->cluster.service_cidr,
		.underlay = t->cluster.underlay,
		.timings = {-1, -1, -1, -1, -1, -1},
	};
	/* Machines first, in the order they are spawned: a node before its
	 * pods (they are created inside its PID namespace). */
	const struct plan_machine lab_machine = {.kind = MACHINE_LAB, .name = TB_TARGET_LAB, .parent = PLAN_NONE,
						 .image = PLAN_NONE};
	size_t lab = build_machine(p, &lab_machine, NULL,
				   "the lab's own namespace: it plays the host and holds the switches");
	size_t first_host = p->n_machines;
	plan_host_machines(t, p);
	struct cluster_plan c = {.lab = lab};
	p->cluster_domain = xstrdup(t->cluster.cluster_domain);
	if (t->n_nodes) {
		if (t->cluster.routing == TB_ROUTING_VXLAN)
			c.pod_mtu = PLAN_UNDERLAY_MTU - PLAN_VXLAN_OVERHEAD;
		plan_cluster_machines(t, p, &c);
		plan_cluster_externals(t, p, &c);
	}
	plan_host_network(t, p, lab, first_host);
	if (t->n_nodes) {
		plan_cluster_links(t, p, &c);
		plan_cluster_addresses(t, p, &c);
		plan_cluster_routes(t, p, &c);
		plan_cluster_sysctls(t, p, &c);
		plan_cluster_hostports(t, p, &c);
		plan_cluster_external_network(t, p, &c);
		plan_cluster_services(t, p, &c);
		plan_cluster_dns(t, p, &c);
		plan_cluster_ingress(t, p);
		plan_cluster_service_routes(t, p, &c);
		plan_cluster_kube_proxy(t, p, &c);
		plan_cluster_egress(t, p, &c);
	}
	free(c.first_pod);
	plan_neighbours(p, t->neighbours);
	order_steps(p);
	plan_policies(t, source, p);
	plan_expectations(t, p);
	return 0;
}

