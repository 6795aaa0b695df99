/* Compiling a topology into a plan. Names chosen here are what users see in
 * `ip link` inside the lab: pods' eth0, nodes' eth0 and cbr0 as in kubenet,
 * veth<N> for a node's end of its Nth pod, and tb-* in the lab namespace
 * (bridge names may not start with tb-, so they never clash). */
#define _GNU_SOURCE
#include "plan.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

#define UNDERLAY_BRIDGE "tb-underlay"
#define POD_SERVER "/usr/local/bin/testbed-http"

static size_t add_machine(struct plan *p, struct plan_machine m)
{
	grow_array((void **)&p->machines, &p->cap_machines, p->n_machines + 1, sizeof(*p->machines));
	p->machines[p->n_machines] = m;
	return p->n_machines++;
}

static void add_bridge(struct plan *p, size_t machine, const char *name)
{
	grow_array((void **)&p->bridges, &p->cap_bridges, p->n_bridges + 1, sizeof(*p->bridges));
	struct plan_bridge *b = &p->bridges[p->n_bridges++];
	*b = (struct plan_bridge){.machine = machine};
	snprintf(b->name, sizeof(b->name), "%s", name);
}

static void add_veth(struct plan *p, size_t m0, const char *name0, const char *master, int hairpin, size_t m1,
		     const char *name1)
{
	grow_array((void **)&p->veths, &p->cap_veths, p->n_veths + 1, sizeof(*p->veths));
	struct plan_veth *v = &p->veths[p->n_veths++];
	*v = (struct plan_veth){.machine = {m0, m1}, .hairpin = hairpin};
	snprintf(v->name[0], sizeof(v->name[0]), "%s", name0);
	snprintf(v->name[1], sizeof(v->name[1]), "%s", name1);
	snprintf(v->master, sizeof(v->master), "%s", master ? master : "");
}

static void add_address(struct plan *p, size_t machine, const char *ifname, uint32_t addr, uint8_t len)
{
	grow_array((void **)&p->addresses, &p->cap_addresses, p->n_addresses + 1, sizeof(*p->addresses));
	struct plan_address *a = &p->addresses[p->n_addresses++];
	*a = (struct plan_address){.machine = machine, .prefix = {.addr = addr, .len = len}};
	snprintf(a->ifname, sizeof(a->ifname), "%s", ifname);
}

static void add_route(struct plan *p, size_t machine, struct ipv4_prefix dst, uint32_t via)
{
	grow_array((void **)&p->routes, &p->cap_routes, p->n_routes + 1, sizeof(*p->routes));
	p->routes[p->n_routes++] = (struct plan_route){.machine = machine, .dst = dst, .via = via};
}

static void add_sysctl(struct plan *p, size_t machine, const char *key, const char *value)
{
	grow_array((void **)&p->sysctls, &p->cap_sysctls, p->n_sysctls + 1, sizeof(*p->sysctls));
	p->sysctls[p->n_sysctls++] = (struct plan_sysctl){.machine = machine, .key = key, .value = value};
}

static const char *image_path(const struct tb_topology *t, const char *name)
{
	const struct tb_image *img = topology_find_image(t, name);
	return img ? img->resolved : NULL;
}

/* The pod HTTP server, or the pod's own command. */
static char **workload(const char *name, const char *node, int http_port, char *const *command, size_t n_command)
{
	if (command) {
		char **argv = xcalloc(n_command + 1, sizeof(*argv));
		for (size_t i = 0; i < n_command; i++)
			argv[i] = xstrdup(command[i]);
		return argv;
	}
	if (!http_port)
		return NULL;
	char **argv = xcalloc(8, sizeof(*argv));
	argv[0] = xstrdup(POD_SERVER);
	argv[1] = xstrdup("--port");
	argv[2] = xasprintf("%d", http_port);
	argv[3] = xstrdup("--name");
	argv[4] = xstrdup(name);
	argv[5] = xstrdup("--node");
	argv[6] = xstrdup(node);
	return argv;
}

static void plan_hosts(const struct tb_topology *t, struct plan *p, size_t lab)
{
	for (size_t i = 0; i < t->n_bridges; i++) {
		add_bridge(p, lab, t->bridges[i].name);
		if (t->bridges[i].has_address)
			add_address(p, lab, t->bridges[i].name, t->bridges[i].address.addr, t->bridges[i].address.len);
	}
	size_t first_host = p->n_machines;
	for (size_t i = 0; i < t->n_hosts; i++) {
		const struct tb_host *h = &t->hosts[i];
		add_machine(p, (struct plan_machine){
				       .kind = MACHINE_HOST,
				       .name = h->name,
				       .parent = PLAN_NONE,
				       .image = image_path(t, h->image),
				       .http_port = h->http_port,
				       .argv = workload(h->name, "", h->http_port, NULL, 0),
				       .address = h->n_ifaces ? h->ifaces[0].address.addr : 0,
			       });
	}
	for (size_t i = 0; i < t->n_links; i++) {
		const struct tb_link *l = &t->links[i];
		const struct tb_endpoint *a = &l->ends[0], *b = &l->ends[1];
		if (a->kind == TB_ENDPOINT_BRIDGE) {
			const struct tb_endpoint *tmp = a;
			a = b;
			b = tmp;
		}
		if (b->kind == TB_ENDPOINT_BRIDGE) {
			/* Section 1.3: the lab's end joins the bridge. */
			char lab_end[PLAN_IFNAME];
			snprintf(lab_end, sizeof(lab_end), "tb-l%u", (unsigned)i);
			add_veth(p, lab, lab_end, t->bridges[b->index].name, 0, first_host + a->index, a->ifname);
		} else {
			/* Section 1.2: a pair straight between two hosts. */
			add_veth(p, first_host + a->index, a->ifname, NULL, 0, first_host + b->index, b->ifname);
		}
	}
	for (size_t i = 0; i < t->n_hosts; i++)
		for (size_t j = 0; j < t->hosts[i].n_ifaces; j++) {
			const struct tb_iface *f = &t->hosts[i].ifaces[j];
			add_address(p, first_host + i, f->name, f->address.addr, f->address.len);
		}
}

/* Nodes, their cbr0 and pods: the part every routing mode shares. Returns
 * the index of the first node machine. */
static size_t plan_nodes(const struct tb_topology *t, struct plan *p, size_t lab)
{
	const struct tb_cluster *c = &t->cluster;
	add_bridge(p, lab, UNDERLAY_BRIDGE);
	size_t first_node = p->n_machines;
	for (size_t i = 0; i < t->n_nodes; i++) {
		const struct tb_node *n = &t->nodes[i];
		add_machine(p, (struct plan_machine){
				       .kind = MACHINE_NODE,
				       .name = n->name,
				       .parent = PLAN_NONE,
				       .image = image_path(t, n->image),
				       .address = n->underlay_address,
			       });
	}
	for (size_t i = 0; i < t->n_nodes; i++) {
		const struct tb_node *n = &t->nodes[i];
		size_t node = first_node + i;
		char lab_end[PLAN_IFNAME];
		snprintf(lab_end, sizeof(lab_end), "tb-n%u", (unsigned)i);
		add_veth(p, lab, lab_end, UNDERLAY_BRIDGE, 0, node, "eth0");
		add_address(p, node, "eth0", n->underlay_address, c->underlay.len);
		add_bridge(p, node, "cbr0");
		add_address(p, node, "cbr0", n->bridge_address, n->pod_cidr.len);
		add_sysctl(p, node, "net/ipv4/ip_forward", "1");
		for (size_t j = 0; j < n->n_pods; j++) {
			const struct tb_pod *pod = &n->pods[j];
			size_t m = add_machine(p, (struct plan_machine){
							  .kind = MACHINE_POD,
							  .name = pod->name,
							  .parent = node,
							  .image = image_path(t, pod->image),
							  .http_port = pod->http_port,
							  .argv = workload(pod->name, n->name, pod->http_port,
									   pod->command, pod->n_command),
							  .address = pod->address,
						  });
			/* kubenet: the node's end joins cbr0 with hairpin on, the
			 * pod's end is its eth0, default route via cbr0. */
			char node_end[PLAN_IFNAME];
			snprintf(node_end, sizeof(node_end), "veth%u", (unsigned)j);
			add_veth(p, node, node_end, "cbr0", 1, m, "eth0");
			add_address(p, m, "eth0", pod->address, n->pod_cidr.len);
			add_route(p, m, (struct ipv4_prefix){0, 0}, n->bridge_address);
		}
	}
	return first_node;
}

/* The article's figure 3.3: a default gateway on the underlay knows which
 * node holds each pod CIDR; nodes send everything else to it. */
static void plan_routing_gateway(const struct tb_topology *t, struct plan *p, size_t lab, size_t first_node)
{
	const struct tb_cluster *c = &t->cluster;
	size_t gw = add_machine(p, (struct plan_machine){
					   .kind = MACHINE_GATEWAY,
					   .name = TB_TARGET_GATEWAY,
					   .parent = PLAN_NONE,
					   .image = image_path(t, t->nodes[0].image),
					   .address = c->gateway_address,
				   });
	add_veth(p, lab, "tb-gw", UNDERLAY_BRIDGE, 0, gw, "eth0");
	add_address(p, gw, "eth0", c->gateway_address, c->underlay.len);
	add_sysctl(p, gw, "net/ipv4/ip_forward", "1");
	/* The gateway forwards out of the interface a packet came in on; an
	 * ICMP redirect would teach nodes to bypass it, unlike the article. */
	add_sysctl(p, gw, "net/ipv4/conf/all/send_redirects", "0");
	add_sysctl(p, gw, "net/ipv4/conf/eth0/send_redirects", "0");
	for (size_t i = 0; i < t->n_nodes; i++) {
		add_route(p, gw, t->nodes[i].pod_cidr, t->nodes[i].underlay_address);
		add_route(p, first_node + i, (struct ipv4_prefix){0, 0}, c->gateway_address);
	}
}

int plan_build(const struct tb_topology *t, struct plan *p, struct tb_err *e)
{
	*p = (struct plan){0};
	size_t lab = add_machine(p, (struct plan_machine){
					    .kind = MACHINE_LAB,
					    .name = TB_TARGET_LAB,
					    .parent = PLAN_NONE,
				    });
	plan_hosts(t, p, lab);
	if (t->n_nodes == 0)
		return 0;
	switch (t->cluster.routing) {
	case TB_ROUTING_GATEWAY:
		plan_routing_gateway(t, p, lab, plan_nodes(t, p, lab));
		return 0;
	case TB_ROUTING_HOST_GW:
	case TB_ROUTING_VXLAN:
		break;
	}
	plan_free(p);
	return tb_fail(e, "cluster.routing \"%s\" is not implemented yet; use \"gateway\"",
		       tb_routing_name(t->cluster.routing));
}

void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->n_machines; i++) {
		for (char **a = p->machines[i].argv; a && *a; a++)
			free(*a);
		free(p->machines[i].argv);
	}
	free(p->machines);
	free(p->bridges);
	free(p->veths);
	free(p->addresses);
	free(p->routes);
	free(p->sysctls);
	*p = (struct plan){0};
}

const char *machine_kind_name(enum machine_kind kind)
{
	switch (kind) {
	case MACHINE_LAB:
		return "lab";
	case MACHINE_GATEWAY:
		return "gateway";
	case MACHINE_NODE:
		return "node";
	case MACHINE_HOST:
		return "host";
	case MACHINE_POD:
		return "pod";
	}
	return "?";
}

size_t plan_find(const struct plan *p, const char *name)
{
	for (size_t i = 0; i < p->n_machines; i++)
		if (strcmp(p->machines[i].name, name) == 0)
			return i;
	return PLAN_NONE;
}
