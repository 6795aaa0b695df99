/* Sections 3.1-3.3 of the article: nodes and their pods on cbr0 (kubenet),
 * the underlay joining nodes and the default gateway, and how each node's
 * pod CIDR is reached in each routing mode (the article's gateway,
 * flannel's host-gw and vxlan). Passes of the compiler (plan_compile.c). */
#define _GNU_SOURCE
#include "plan/plan_passes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

#define UNDERLAY_BRIDGE "tb-underlay"

static const struct ipv4_prefix default_route = {0, 0};

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every pod's name, sorted: a pod is shown as NAME unless another pod, in
 * another namespace, has it too (validation keeps host and node names
 * apart from pods'). */
static const char **pod_names_sorted(const struct tb_topology *t)
{
	const char **names = xcalloc(t->n_pods ? t->n_pods : 1, sizeof(*names));
	size_t n = 0;
	for (size_t i = 0; i < t->n_nodes; i++)
		for (size_t j = 0; j < t->nodes[i].n_pods; j++)
			names[n++] = t->nodes[i].pods[j].name;
	if (n > 1)
		qsort(names, n, sizeof(*names), by_name);
	return names;
}

static bool name_taken_twice(const char **names, size_t n, const char *name)
{
	const char **at = n ? bsearch(&name, names, n, sizeof(*names), by_name) : NULL;
	if (!at)
		return false;
	return (at > names && strcmp(at[-1], name) == 0) || (at + 1 < names + n && strcmp(at[1], name) == 0);
}

void plan_cluster_machines(const struct tb_topology *t, struct plan *p, struct cluster_plan *c)
{
	c->first_node = p->n_machines;
	for (size_t i = 0; i < t->n_nodes; i++) {
		const struct tb_node *n = &t->nodes[i];
		struct plan_machine m = {
			.kind = MACHINE_NODE,
			.name = n->name,
			.parent = PLAN_NONE,
			.image = build_image(t, p, n->image),
			.address = n->underlay_address,
			.disk = n->disk,
		};
		build_machine(p, &m, NULL, "Section 3.2: a node, with a network namespace of its own");
	}
	/* The gateway sits on the underlay in every mode: the article's
	 * router, and the way out of the cluster. */
	const struct plan_machine gateway = {
		.kind = MACHINE_GATEWAY,
		.name = TB_TARGET_GATEWAY,
		.parent = PLAN_NONE,
		.image = build_image(t, p, t->nodes[0].image),
		.address = t->cluster.gateway_address,
		.disk = TB_DEFAULT_DISK,
	};
	c->gateway = build_machine(p, &gateway, NULL, "Section 3.3: the default gateway on the underlay");
	c->first_pod = xcalloc(t->n_nodes, sizeof(*c->first_pod));
	autofree const char **names = pod_names_sorted(t);
	for (size_t i = 0; i < t->n_nodes; i++) {
		const struct tb_node *n = &t->nodes[i];
		c->first_pod[i] = p->n_machines;
		for (size_t j = 0; j < n->n_pods; j++) {
			const struct tb_pod *pod = &n->pods[j];
			autofree char *name = name_taken_twice(names, t->n_pods, pod->name)
						      ? xasprintf("%s/%s", pod->namespace, pod->name)
						      : xstrdup(pod->name);
			struct plan_machine m = {
				.kind = MACHINE_POD,
				.name = name,
				.namespace = pod->namespace,
				.parent = c->first_node + i,
				.image = build_image(t, p, pod->image),
				.ports = pod->ports,
				.n_ports = pod->n_ports,
				.labels = pod->labels,
				.n_labels = pod->n_labels,
				.pod_server = !pod->command && pod->n_ports > 0,
				.host_network = pod->host_network,
				.hostname = pod->hostname,
				.subdomain = pod->subdomain,
				.host_ports = pod->host_ports,
				.n_host_ports = pod->n_host_ports,
				.address = pod->address,
				.disk = pod->disk,
			};
			build_machine(p, &m,
				      build_workload(pod->name, n->name, pod->ports, pod->n_ports,
						     (char *const *)pod->command, pod->n_command),
				      pod->host_network ? "hostNetwork: a pod in its node's own network namespace"
							: "Section 3.1: a pod is a network namespace on its node");
		}
	}
}

/* 0a:58 and the IPv4 address, as CNI plugins derive pod MACs: fixed, so
 * that other nodes' neighbour and FDB entries can name it in advance. */
static void vxlan_mac(uint32_t addr, char mac[18])
{
	snprintf(mac, 18, "0a:58:%02x:%02x:%02x:%02x", addr >> 24, (addr >> 16) & 0xff, (addr >> 8) & 0xff,
		 addr & 0xff);
}

void plan_cluster_links(const struct tb_topology *t, struct plan *p, const struct cluster_plan *c)
{
	build_bridge(p, c->lab, UNDERLAY_BRIDGE, 0, "the underlay: one switch in the lab namespace for every node");
	for (size_t i = 0; i < t->n_nodes; i++) {
		char lab_end[PLAN_IFNAME];
		snprintf(lab_end, sizeof(lab_end), "tb-n%u", (unsigned)i);
		build_veth(p, c->lab, lab_end, UNDERLAY_BRIDGE, false, c->first_node + i, "eth0", 0,
			 "Section 3.2: each node's eth0 on the underlay");
	}
	build_veth(p, c->lab, "tb-gw", UNDERLAY_BRIDGE, false, c->gateway, "eth0", 0,
		 "Section 3.3: the gateway's eth0 on the underlay");
	for (size_t i = 0; i < t->n_nodes; i++)
		build_bridge(p, c->first_node + i, "cbr0", c->pod_mtu, "Section 3.1: cbr0, the node's pod bridge (kubenet)");
	for (size_t i = 0; i < t->n_nodes; i++)
		for (size_t j = 0; j < t->nodes[i].n_pods; j++) {
			if (t->nodes[i].pods[j].host_network)
				continue; /* the node's own network: no link of its own */
			char node_end[PLAN_IFNAME];
			snprintf(node_end, sizeof(node_end), "veth%u", (unsigned)j);
			build_veth(p, c->first_node + i, node_end, "cbr0", true, c->first_pod[i] + j, "eth0", c->pod_mtu,
				 "Section 3.1: the pod's eth0; the node's end joins cbr0 in hairpin mode (kubenet)");
		}
	if (t->cluster.routing != TB_ROUTING_VXLAN)
		return;
	for (size_t i = 0; i < t->n_nodes; i++) {
		const struct tb_node *n = &t->nodes[i];
		struct step *s = plan_add_step(p, STEP_VXLAN, c->first_node + i,
					       "vxlan: the node's tunnel end on the underlay (flannel's vxlan backend)");
		struct step_vxlan *v = &s->u.vxlan;
		build_name(v->name, PLAN_VXLAN_DEVICE);
		v->vni = PLAN_VXLAN_VNI;
		v->port = PLAN_VXLAN_PORT;
		v->local = n->underlay_address;
		build_name(v->dev, "eth0");
		vxlan_mac(n->underlay_address, v->mac);
		v->mtu = PLAN_UNDERLAY_MTU - PLAN_VXLAN_OVERHEAD;
	}
}

void plan_cluster_addresses(const struct tb_topology *t, struct plan *p, const struct cluster_plan *c)
{
	const struct tb_cluster *cl = &t->cluster;
	for (size_t i = 0; i < t->n_nodes; i++) {
		const struct tb_node *n = &t->nodes[i];
		size_t node = c->first_node + i;
		build_address(p, node, "eth0", n->underlay_address, cl->underlay.len, "Section 3.2: the node's underlay address");
		build_address(p, node, "cbr0", n->bridge_address, n->pod_cidr.len,
			    "Section 3.1: cbr0 holds the first address of the node's pod CIDR");
		if (cl->routing == TB_ROUTING_VXLAN)
			build_address(p, node, PLAN_VXLAN_DEVICE, ipv4_network(n->pod_cidr), 32,
				    "vxlan: the tunnel end's address is the pod CIDR's network address (the VTEP)");
	}
	build_address(p, c->gateway, "eth0", cl->gateway_address, cl->underlay.len, "Section 3.3: the gateway's address");
	for (size_t i = 0; i < t->n_nodes; i++)
		for (size_t j = 0; j < t->nodes[i].n_pods; j++)
			if (!t->nodes[i].pods[j].host_network)
				build_address(p, c->first_pod[i] + j, "eth0", t->nodes[i].pods[j].address, t->nodes[i].pod_cidr.len,
				    "Section 3.1: the pod's address, from its node's pod CIDR");
}

void plan_cluster_routes(const struct tb_topology *t, struct plan *p, const struct cluster_plan *c)
{
	const struct tb_cluster *cl = &t->cluster;
	for (size_t i = 0; i < t->n_nodes; i++)
		for (size_t j = 0; j < t->nodes[i].n_pods; j++)
			if (!t->nodes[i].pods[j].host_network)
				build_route(p, c->first_pod[i] + j, default_route, t->nodes[i].bridge_address, NULL,
				  "Section 3.1: pods send everything through cbr0");
	for (size_t i = 0; i < t->n_nodes; i++)
		build_route(p, c->first_node + i, default_route, cl->gateway_address, NULL,
			  cl->routing == TB_ROUTING_GATEWAY ? "Section 3.3: nodes send what is not theirs to the default gateway"
							    : "the default gateway: the way out of the cluster");
	switch (cl->routing) {
	case TB_ROUTING_GATEWAY:
		for (size_t i = 0; i < t->n_nodes; i++)
			build_route(p, c->gateway, t->nodes[i].pod_cidr, t->nodes[i].underlay_address, NULL,
				  "Section 3.3: the gateway routes each node's pod CIDR to that node");
		break;
	case TB_ROUTING_HOST_GW:
		for (size_t i = 0; i < t->n_nodes; i++)
			for (size_t j = 0; j < t->n_nodes; j++)
				if (j != i)
					build_route(p, c->first_node + i, t->nodes[j].pod_cidr, t->nodes[j].underlay_address,
						  "eth0", "host-gw: every other node's pod CIDR via that node's underlay address");
		break;
	case TB_ROUTING_VXLAN:
		for (size_t i = 0; i < t->n_nodes; i++)
			for (size_t j = 0; j < t->n_nodes; j++) {
				if (j == i)
					continue;
				const struct tb_node *other = &t->nodes[j];
				struct step *s = build_route(p, c->first_node + i, other->pod_cidr, ipv4_network(other->pod_cidr),
							   PLAN_VXLAN_DEVICE,
							   "vxlan: every other node's pod CIDR via its tunnel end (onlink)");
				s->u.route.onlink = true;
			}
		for (size_t i = 0; i < t->n_nodes; i++)
			for (size_t j = 0; j < t->n_nodes; j++) {
				if (j == i)
					continue;
				struct step *s = plan_add_step(p, STEP_NEIGH, c->first_node + i,
							       "vxlan: the other tunnel end's MAC, known in advance");
				char mac[PLAN_MAC];
				build_name(s->u.neigh.dev, PLAN_VXLAN_DEVICE);
				vxlan_mac(t->nodes[j].underlay_address, mac);
				plan_neigh_append(&s->u.neigh, ipv4_network(t->nodes[j].pod_cidr), mac);
			}
		for (size_t i = 0; i < t->n_nodes; i++)
			for (size_t j = 0; j < t->n_nodes; j++) {
				if (j == i)
					continue;
				struct step *s = plan_add_step(p, STEP_FDB, c->first_node + i,
							       "vxlan: frames for that MAC go in UDP to that node's underlay address");
				build_name(s->u.fdb.dev, PLAN_VXLAN_DEVICE);
				vxlan_mac(t->nodes[j].underlay_address, s->u.fdb.mac);
				s->u.fdb.dst = t->nodes[j].underlay_address;
			}
		break;
	}
}

void plan_cluster_sysctls(const struct tb_topology *t, struct plan *p, const struct cluster_plan *c)
{
	for (size_t i = 0; i < t->n_nodes; i++)
		build_sysctl(p, c->first_node + i, "net/ipv4/ip_forward", "1", "Section 3.1: nodes forward their pods' traffic");
	build_sysctl(p, c->gateway, "net/ipv4/ip_forward", "1", "Section 3.3: the gateway is a router");
	/* It forwards out of the interface a packet came in on; an ICMP
	 * redirect would teach nodes to bypass it, unlike the article. */
	build_sysctl(p, c->gateway, "net/ipv4/conf/all/send_redirects", "0",
		   "Section 3.3: no ICMP redirects, so that nodes keep using the gateway");
	build_sysctl(p, c->gateway, "net/ipv4/conf/eth0/send_redirects", "0", NULL);
}

