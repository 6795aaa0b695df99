/* Address assignment for the cluster part of a lab, the way kubenet and the
 * node IPAM controller do it:
 *   - the underlay's first usable address is the default gateway, nodes
 *     take the next ones in order;
 *   - each node without an explicit podCIDR gets the lowest free /24 of
 *     cluster.podCIDR;
 *   - in a node's pod CIDR the first usable address is cbr0's, pods take
 *     the next ones in order.
 * Deterministic: the same file always yields the same addresses. */
#include "model/ipam.h"

#include <stdarg.h>
#include <string.h>

#include "model/topology.h"
#include "util/diag.h"
#include "util/util.h"

#define NODE_DEFAULT_PREFIX 24

static bool assign_underlay(struct tb_topology *t, struct diag *d)
{
	struct tb_cluster *c = &t->cluster;
	uint64_t usable = ipv4_usable_count(c->underlay);
	if (t->n_nodes == 0)
		return true;
	char buf[IPV4_PREFIX_STRLEN];
	if (usable < 1 + (uint64_t)t->n_nodes) {
		/* Where the underlay is given, else the cluster that defaults it. */
		diag_error(d, c->underlay_line ? c->underlay_line : c->line, "cluster.underlay",
			   "%s has room for %llu node(s) besides the gateway; the lab has %zu",
			   ipv4_prefix_format(c->underlay, buf), (unsigned long long)(usable ? usable - 1 : 0),
			   t->n_nodes);
		return false;
	}
	c->gateway_address = ipv4_usable_nth(c->underlay, 0);
	for (size_t i = 0; i < t->n_nodes; i++)
		t->nodes[i].underlay_address = ipv4_usable_nth(c->underlay, 1 + i);
	return true;
}

/* Does P overlap the pod CIDR of any node before LIMIT that has one? */
static ssize_t overlapping_node(const struct tb_topology *t, struct ipv4_prefix p, const bool *has, size_t skip)
{
	for (size_t i = 0; i < t->n_nodes; i++)
		if (i != skip && has[i] && ipv4_overlaps(p, t->nodes[i].pod_cidr))
			return (ssize_t)i;
	return -1;
}

static bool assign_pod_cidrs(struct tb_topology *t, struct diag *d)
{
	const struct ipv4_prefix cluster = t->cluster.pod_cidr;
	char a[IPV4_PREFIX_STRLEN], b[IPV4_PREFIX_STRLEN];
	bool ok = true;
	autofree bool *has = xcalloc(t->n_nodes, sizeof(*has));

	/* Explicit CIDRs first: defaults fill the gaps around them. */
	for (size_t i = 0; i < t->n_nodes; i++) {
		struct tb_node *n = &t->nodes[i];
		if (!n->pod_cidr_given)
			continue;
		autofree char *path = xasprintf("nodes[%zu].podCIDR", i);
		if (!ipv4_prefix_within(n->pod_cidr, cluster)) {
			diag_error(d, n->pod_cidr_line, path, "%s is not inside cluster.podCIDR %s",
				   ipv4_prefix_format(n->pod_cidr, a), ipv4_prefix_format(cluster, b));
			ok = false;
			continue;
		}
		if (n->pod_cidr.len > 30) {
			diag_error(d, n->pod_cidr_line, path,
				   "%s is too small: a node's pod CIDR holds cbr0 and at least one pod (/30 or larger)",
				   ipv4_prefix_format(n->pod_cidr, a));
			ok = false;
			continue;
		}
		ssize_t other = overlapping_node(t, n->pod_cidr, has, i);
		if (other >= 0) {
			diag_error(d, n->pod_cidr_line, path, "%s overlaps nodes[%zd].podCIDR %s",
				   ipv4_prefix_format(n->pod_cidr, a), other,
				   ipv4_prefix_format(t->nodes[other].pod_cidr, b));
			ok = false;
			continue;
		}
		has[i] = true;
	}
	if (!ok)
		return false;

	uint32_t next = ipv4_network(cluster);
	uint32_t last = ipv4_broadcast(cluster);
	for (size_t i = 0; i < t->n_nodes; i++) {
		struct tb_node *n = &t->nodes[i];
		if (n->pod_cidr_given)
			continue;
		autofree char *path = xasprintf("nodes[%zu]", i);
		if (cluster.len > NODE_DEFAULT_PREFIX) {
			diag_error(d, n->line, path,
				   "cluster.podCIDR %s is smaller than the /%d a node gets by default; give the node "
				   "a \"podCIDR\"",
				   ipv4_prefix_format(cluster, a), NODE_DEFAULT_PREFIX);
			return false;
		}
		bool found = false;
		/* next <= last guards the wrap past 255.255.255.255 too. */
		while (!found && next >= ipv4_network(cluster) && next <= last) {
			struct ipv4_prefix candidate = {.addr = next, .len = NODE_DEFAULT_PREFIX};
			next += 1u << (32 - NODE_DEFAULT_PREFIX);
			if (overlapping_node(t, candidate, has, i) < 0) {
				n->pod_cidr = candidate;
				has[i] = true;
				found = true;
			}
			if (next == 0)
				break;
		}
		if (!found) {
			diag_error(d, n->line, path, "no free /%d left in cluster.podCIDR %s for this node",
				   NODE_DEFAULT_PREFIX, ipv4_prefix_format(cluster, a));
			return false;
		}
	}
	return true;
}

static bool assign_pods(struct tb_topology *t, struct diag *d)
{
	bool ok = true;
	char a[IPV4_PREFIX_STRLEN];
	for (size_t i = 0; i < t->n_nodes; i++) {
		struct tb_node *n = &t->nodes[i];
		uint64_t room = ipv4_usable_count(n->pod_cidr) - 1; /* cbr0 takes one */
		/* Pods on the host's network have the node's address. */
		size_t own = 0;
		for (size_t j = 0; j < n->n_pods; j++)
			own += !n->pods[j].host_network;
		if (own > room) {
			autofree char *path = xasprintf("nodes[%zu].pods", i);
			diag_error(d, n->pods_line, path,
				   "%zu pods do not fit in %s, which holds at most %llu (cbr0 takes the first address%s)",
				   own, ipv4_prefix_format(n->pod_cidr, a), (unsigned long long)room,
				   i == 0 && t->dns_address ? "; cluster DNS's pod, kube-system/coredns, is one of them" : "");
			ok = false;
			continue;
		}
		n->bridge_address = ipv4_usable_nth(n->pod_cidr, 0);
		for (size_t j = 0, k = 0; j < n->n_pods; j++)
			n->pods[j].address = n->pods[j].host_network ? n->underlay_address
								     : ipv4_usable_nth(n->pod_cidr, 1 + k++);
	}
	return ok;
}

/* The service range's first address is the kubernetes API's, by
 * convention, and its tenth cluster DNS's: neither is handed out. */
static bool reserved_service_address(const struct tb_cluster *c, uint32_t a)
{
	return a == ipv4_usable_nth(c->service_cidr, 0) || a == ipv4_usable_nth(c->service_cidr, 9);
}

static bool cluster_ip_taken(const struct tb_topology *t, size_t upto, uint32_t a)
{
	for (size_t i = 0; i < t->n_services_objects; i++)
		if (i != upto && t->services[i].cluster_ip == a && (i < upto || t->services[i].cluster_ip_given))
			return true;
	return false;
}

static void service_error(struct diag *d, const struct tb_service *s, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void service_error(struct diag *d, const struct tb_service *s, const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	autofree char *why = xvasprintf(fmt, ap);
	va_end(ap);
	autofree char *where = xasprintf("%s: %s", s->origin.what, path);
	diag_error_in(d, s->origin.file, s->origin.line, s->origin.column, where, "%s", why);
}

/* Cluster IPs as the API server gives them, but in order (it picks at
 * random): the lowest free address of cluster.serviceCIDR, past the two
 * reserved; given ones must lie in the range, once each. */
static bool assign_cluster_ips(struct tb_topology *t, struct diag *d)
{
	const struct tb_cluster *c = &t->cluster;
	size_t errors = d->count;
	char a[IPV4_PREFIX_STRLEN], r[IPV4_PREFIX_STRLEN];
	for (size_t i = 0; i < t->n_services_objects; i++) {
		struct tb_service *s = &t->services[i];
		if (!s->cluster_ip_given)
			continue;
		if (!ipv4_contains(c->service_cidr, s->cluster_ip) || s->cluster_ip == ipv4_network(c->service_cidr) ||
		    s->cluster_ip == ipv4_broadcast(c->service_cidr))
			service_error(d, s, "spec.clusterIP", "%s is not an address of cluster.serviceCIDR %s",
				      ipv4_addr_format(s->cluster_ip, a), ipv4_prefix_format(c->service_cidr, r));
		else
			for (size_t k = 0; k < i; k++)
				if (t->services[k].cluster_ip_given && t->services[k].cluster_ip == s->cluster_ip) {
					service_error(d, s, "spec.clusterIP", "%s is Service %s/%s's already",
						      ipv4_addr_format(s->cluster_ip, a), t->services[k].namespace,
						      t->services[k].name);
					break;
				}
	}
	uint64_t usable = ipv4_usable_count(c->service_cidr), next = 1;
	for (size_t i = 0; i < t->n_services_objects; i++) {
		struct tb_service *s = &t->services[i];
		if (s->cluster_ip_given || s->headless || s->type == TB_SERVICE_EXTERNAL_NAME)
			continue;
		while (next < usable && (reserved_service_address(c, ipv4_usable_nth(c->service_cidr, next)) ||
					 cluster_ip_taken(t, i, ipv4_usable_nth(c->service_cidr, next))))
			next++;
		if (next >= usable) {
			service_error(d, s, "spec.clusterIP", "cluster.serviceCIDR %s has no address left",
				      ipv4_prefix_format(c->service_cidr, r));
			continue;
		}
		s->cluster_ip = ipv4_usable_nth(c->service_cidr, next++);
	}
	return d->count == errors;
}

/* The API server keeps one range of node ports for every protocol: a
 * number is another Service's whatever its protocol, while one Service
 * may give the same number to a TCP and a UDP port (not to two of one
 * protocol). */
static bool node_port_taken(const struct tb_topology *t, int port, const struct tb_service *self,
			    const struct tb_service_port *self_port)
{
	for (size_t i = 0; i < t->n_services_objects; i++) {
		const struct tb_service *s = &t->services[i];
		for (size_t k = 0; k < s->n_ports; k++) {
			const struct tb_service_port *sp = &s->ports[k];
			if (sp == self_port || sp->node_port != port)
				continue;
			if (s != self || sp->protocol == self_port->protocol)
				return true;
		}
	}
	return false;
}

/* Port K of service I gives a node port an earlier port has: the first
 * keeps it, as the API server refuses the later one. */
static void given_node_port_taken(const struct tb_topology *t, struct diag *d, size_t i, size_t k)
{
	const struct tb_service *s = &t->services[i];
	const struct tb_service_port *sp = &s->ports[k];
	for (size_t j = 0; j <= i; j++) {
		const struct tb_service *o = &t->services[j];
		for (size_t m = 0; m < (j == i ? k : o->n_ports); m++) {
			const struct tb_service_port *op = &o->ports[m];
			if (op->node_port != sp->node_port || (j == i && op->protocol != sp->protocol))
				continue;
			autofree char *at = xasprintf("spec.ports[%zu].nodePort", k);
			if (j == i)
				service_error(d, s, at, "%d/%s is spec.ports[%zu]'s already", sp->node_port,
					      tb_protocol_name(sp->protocol), m);
			else
				service_error(d, s, at,
					      "%d is Service %s/%s's already (node ports are one range for every protocol)",
					      sp->node_port, o->namespace, o->name);
			return;
		}
	}
}

/* Node ports in cluster.nodePortRange, given or the lowest free; a port
 * whose number another port of its Service has under the other protocol
 * shares that one's node port, as the API server allocates them. */
static bool assign_node_ports(struct tb_topology *t, struct diag *d)
{
	const struct tb_cluster *c = &t->cluster;
	size_t errors = d->count;
	for (size_t i = 0; i < t->n_services_objects; i++)
		for (size_t k = 0; k < t->services[i].n_ports; k++) {
			struct tb_service *s = &t->services[i];
			struct tb_service_port *sp = &s->ports[k];
			autofree char *at = xasprintf("spec.ports[%zu].nodePort", k);
			if (!sp->node_port)
				continue;
			if (sp->node_port < c->node_port_min || sp->node_port > c->node_port_max)
				service_error(d, s, at, "%d is outside cluster.nodePortRange %d-%d", sp->node_port,
					      c->node_port_min, c->node_port_max);
			else
				given_node_port_taken(t, d, i, k);
		}
	int next = c->node_port_min;
	for (size_t i = 0; i < t->n_services_objects; i++) {
		struct tb_service *s = &t->services[i];
		bool wants = s->type == TB_SERVICE_NODE_PORT || (s->type == TB_SERVICE_LOAD_BALANCER && s->allocate_node_ports);
		for (size_t k = 0; wants && k < s->n_ports; k++) {
			struct tb_service_port *sp = &s->ports[k];
			if (sp->node_port)
				continue;
			for (size_t j = 0; j < s->n_ports && !sp->node_port; j++)
				if (j != k && s->ports[j].port == sp->port && s->ports[j].protocol != sp->protocol &&
				    s->ports[j].node_port && !node_port_taken(t, s->ports[j].node_port, s, sp))
					sp->node_port = s->ports[j].node_port;
			if (sp->node_port)
				continue;
			while (next <= c->node_port_max && node_port_taken(t, next, NULL, sp))
				next++;
			if (next > c->node_port_max) {
				autofree char *at = xasprintf("spec.ports[%zu].nodePort", k);
				service_error(d, s, at, "cluster.nodePortRange %d-%d has no port left", c->node_port_min,
					      c->node_port_max);
				continue;
			}
			sp->node_port = next++;
		}
	}
	return d->count == errors;
}

/* Given to an external machine, or a Service's external or load-balancer IP. */
static bool external_address_taken(const struct tb_topology *t, uint32_t a)
{
	for (size_t k = 0; k < t->n_externals; k++)
		if (t->externals[k].address_given && t->externals[k].address == a)
			return true;
	for (size_t i = 0; i < t->n_services_objects; i++) {
		const struct tb_service *s = &t->services[i];
		for (size_t k = 0; k < s->n_external_ips; k++)
			if (s->external_ips[k] == a)
				return true;
		for (size_t k = 0; k < s->n_load_balancer_ips; k++)
			if (s->load_balancer_ips[k] == a)
				return true;
	}
	return false;
}

/* Outside the cluster: "internet" at 203.0.113.2 unless "external" lists
 * machines; those without an address take the lowest free of the range
 * past the first (the gateway's side of it, by convention). */
static bool assign_externals(struct tb_topology *t, struct diag *d)
{
	uint64_t next = 1, usable = ipv4_usable_count(t->cluster.external_cidr);
	char r[IPV4_PREFIX_STRLEN];
	for (size_t i = 0; i < t->n_externals; i++) {
		struct tb_external *x = &t->externals[i];
		if (x->address_given)
			continue;
		while (next < usable && external_address_taken(t, ipv4_usable_nth(t->cluster.external_cidr, next)))
			next++;
		if (next >= usable) {
			diag_error(d, x->line, "external", "%s has no address left for %s: give it one",
				   ipv4_prefix_format(t->cluster.external_cidr, r), x->name);
			return false;
		}
		x->address = ipv4_usable_nth(t->cluster.external_cidr, next++);
	}
	return true;
}

bool ipam_assign(struct tb_topology *t, struct diag *d)
{
	if (!assign_underlay(t, d))
		return false;
	if (!assign_pod_cidrs(t, d))
		return false;
	if (!t->cluster.kube_proxy_cidr_given) {
		t->cluster.kube_proxy.has_cluster_cidr = true;
		t->cluster.kube_proxy.cluster_cidr = t->cluster.pod_cidr;
	}
	return assign_pods(t, d) && assign_cluster_ips(t, d) && assign_node_ports(t, d) && assign_externals(t, d);
}
