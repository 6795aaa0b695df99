/* Compiling a topology into a plan. Names chosen here are what users see in
 * `ip link` inside the lab: pods' eth0, nodes' eth0 and cbr0 as in kubenet,
 * veth<N> for a node's end of its Nth pod, flannel.1 for vxlan, and tb-* in
 * the lab namespace (bridge names may not start with tb-, so they never
 * clash). Steps are appended in the order up applies them (step kinds in
 * enum order), each with the article's section where one applies. */
#define _GNU_SOURCE
#include "plan/plan.h"

#include <stdio.h>
#include <string.h>

#include "util/util.h"

#define UNDERLAY_BRIDGE "tb-underlay"
/* POD_SERVER_PATH: plan.h */

#ifndef TESTBED_VERSION
#define TESTBED_VERSION "unknown"
#endif

size_t plan_add_machine(struct plan *p, const struct plan_machine *m)
{
	grow_array((void **)&p->machines, &p->cap_machines, p->n_machines + 1, sizeof(*p->machines));
	struct plan_machine *c = &p->machines[p->n_machines];
	*c = *m;
	c->name = xstrdup(m->name);
	if (m->argv) {
		size_t n = 0;
		while (m->argv[n])
			n++;
		c->argv = xcalloc(n + 1, sizeof(*c->argv));
		for (size_t i = 0; i < n; i++)
			c->argv[i] = xstrdup(m->argv[i]);
	}
	return p->n_machines++;
}

struct step *plan_add_step(struct plan *p, enum step_kind kind, size_t machine, const char *note)
{
	grow_array((void **)&p->steps, &p->cap_steps, p->n_steps + 1, sizeof(*p->steps));
	struct step *s = &p->steps[p->n_steps++];
	*s = (struct step){.kind = kind, .machine = machine, .note = note ? xstrdup(note) : NULL};
	return s;
}

size_t plan_add_image(struct plan *p, const char *name, const char *path)
{
	for (size_t i = 0; i < p->n_images; i++)
		if (strcmp(p->images[i].name, name) == 0)
			return i;
	grow_array((void **)&p->images, &p->cap_images, p->n_images + 1, sizeof(*p->images));
	p->images[p->n_images] = (struct plan_image){.name = xstrdup(name), .path = xstrdup(path)};
	return p->n_images++;
}

void plan_neigh_append(struct step_neigh *n, uint32_t address, const char *mac)
{
	grow_array((void **)&n->entries, &n->cap_entries, n->n_entries + 1, sizeof(*n->entries));
	struct neigh_entry *x = &n->entries[n->n_entries++];
	x->address = address;
	snprintf(x->mac, sizeof(x->mac), "%s", mac);
}

const struct step *plan_next(const struct plan *p, const struct step *after, enum step_kind kind)
{
	const struct step *s = after ? after + 1 : p->steps;
	for (; s < p->steps + p->n_steps; s++)
		if (s->kind == kind)
			return s;
	return NULL;
}

static void set_name(char dst[PLAN_IFNAME], const char *src)
{
	snprintf(dst, PLAN_IFNAME, "%s", src);
}

static size_t image_of(const struct tb_topology *t, struct plan *p, const char *name)
{
	const struct tb_image *img = name ? topology_find_image(t, name) : NULL;
	return img ? plan_add_image(p, img->name, img->resolved) : PLAN_NONE;
}

static void free_argv(char **argv)
{
	for (char **a = argv; a && *a; a++)
		free(*a);
	free(argv);
}

/* The pod HTTP server, or the pod's own command (malloc'd). */
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
	argv[0] = xstrdup(POD_SERVER_PATH);
	argv[1] = xstrdup("--port");
	argv[2] = xasprintf("%d", http_port);
	argv[3] = xstrdup("--name");
	argv[4] = xstrdup(name);
	argv[5] = xstrdup("--node");
	argv[6] = xstrdup(node);
	return argv;
}

static size_t add_machine(struct plan *p, enum machine_kind kind, const char *name, size_t parent, size_t image,
			  int http_port, char **argv, bool pod_server, uint32_t address, unsigned long long disk,
			  const char *note)
{
	struct plan_machine m = {
		.disk = image != PLAN_NONE ? disk : 0,
		.kind = kind,
		.name = (char *)name,
		.parent = parent,
		.image = image,
		.argv = argv,
		.http_port = http_port,
		.pod_server = pod_server,
		.address = address,
	};
	size_t i = plan_add_machine(p, &m);
	free_argv(argv);
	plan_add_step(p, STEP_MACHINE, i, note);
	return i;
}

static void add_bridge(struct plan *p, size_t machine, const char *name, int mtu, const char *note)
{
	struct step *s = plan_add_step(p, STEP_BRIDGE, machine, note);
	set_name(s->u.bridge.name, name);
	s->u.bridge.mtu = mtu;
}

static void add_veth(struct plan *p, size_t m0, const char *name0, const char *master, bool hairpin, size_t m1,
		     const char *name1, int mtu, const char *note)
{
	struct step *s = plan_add_step(p, STEP_VETH, m0, note);
	struct step_veth *v = &s->u.veth;
	set_name(v->name, name0);
	v->peer_machine = m1;
	set_name(v->peer_name, name1);
	set_name(v->master, master ? master : "");
	v->hairpin = hairpin;
	v->mtu = mtu;
}

static void add_address(struct plan *p, size_t machine, const char *ifname, uint32_t addr, uint8_t len,
			const char *note)
{
	struct step *s = plan_add_step(p, STEP_ADDRESS, machine, note);
	set_name(s->u.address.ifname, ifname);
	s->u.address.prefix = (struct ipv4_prefix){.addr = addr, .len = len};
}

static struct step *add_route(struct plan *p, size_t machine, struct ipv4_prefix dst, uint32_t via, const char *dev,
			      const char *note)
{
	struct step *s = plan_add_step(p, STEP_ROUTE, machine, note);
	struct step_route *r = &s->u.route;
	r->table = 254;
	r->dst = dst;
	r->via = via;
	set_name(r->dev, dev ? dev : "");
	r->scope = via ? ROUTE_SCOPE_UNIVERSE : ROUTE_SCOPE_LINK;
	return s;
}

static void add_sysctl(struct plan *p, size_t machine, const char *key, const char *value, const char *note)
{
	struct step *s = plan_add_step(p, STEP_SYSCTL, machine, note);
	s->u.sysctl.key = xstrdup(key);
	s->u.sysctl.value = xstrdup(value);
}

static const struct ipv4_prefix default_route = {0, 0};

/* ---- the article's section 1: hosts, bridges and links ---- */

static void plan_host_machines(const struct tb_topology *t, struct plan *p)
{
	for (size_t i = 0; i < t->n_hosts; i++) {
		const struct tb_host *h = &t->hosts[i];
		add_machine(p, MACHINE_HOST, h->name, PLAN_NONE, image_of(t, p, h->image), h->http_port,
			    workload(h->name, "", h->http_port, NULL, 0), h->http_port > 0,
			    h->n_ifaces ? h->ifaces[0].address.addr : 0, h->disk, "Section 1.1: a network namespace");
	}
}

static void plan_host_network(const struct tb_topology *t, struct plan *p, size_t lab, size_t first_host)
{
	for (size_t i = 0; i < t->n_bridges; i++)
		add_bridge(p, lab, t->bridges[i].name, 0, "Section 1.3: a bridge connects the namespaces' veths");
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
			add_veth(p, lab, lab_end, t->bridges[b->index].name, false, first_host + a->index, a->ifname, 0,
				 "Section 1.3: a veth pair; one end joins the bridge, the other goes to the namespace");
		} else {
			add_veth(p, first_host + a->index, a->ifname, NULL, false, first_host + b->index, b->ifname, 0,
				 "Section 1.2: a veth pair straight between two namespaces");
		}
	}
	for (size_t i = 0; i < t->n_bridges; i++)
		if (t->bridges[i].has_address)
			add_address(p, lab, t->bridges[i].name, t->bridges[i].address.addr, t->bridges[i].address.len,
				    "Section 1.3: the bridge's own address");
	for (size_t i = 0; i < t->n_hosts; i++)
		for (size_t j = 0; j < t->hosts[i].n_ifaces; j++) {
			const struct tb_iface *f = &t->hosts[i].ifaces[j];
			add_address(p, first_host + i, f->name, f->address.addr, f->address.len,
				    "Section 1.2: addresses on the namespaces' ends");
		}
}

/* ---- sections 3.1-3.3: nodes, pods, and how pod CIDRs are routed ---- */

struct cluster_plan {
	size_t lab, first_node, gateway;
	size_t *first_pod; /* per node */
	int pod_mtu;       /* 0: default; vxlan lowers it */
};

static void plan_cluster_machines(const struct tb_topology *t, struct plan *p, struct cluster_plan *c)
{
	c->first_node = p->n_machines;
	for (size_t i = 0; i < t->n_nodes; i++) {
		const struct tb_node *n = &t->nodes[i];
		add_machine(p, MACHINE_NODE, n->name, PLAN_NONE, image_of(t, p, n->image), 0, NULL, false,
			    n->underlay_address, n->disk, "Section 3.2: a node, with a network namespace of its own");
	}
	/* The gateway sits on the underlay in every mode: the article's
	 * router, and the way out of the cluster. */
	c->gateway = add_machine(p, MACHINE_GATEWAY, TB_TARGET_GATEWAY, PLAN_NONE,
				 image_of(t, p, t->nodes[0].image), 0, NULL, false, t->cluster.gateway_address,
				 TB_DEFAULT_DISK, "Section 3.3: the default gateway on the underlay");
	c->first_pod = xcalloc(t->n_nodes, sizeof(*c->first_pod));
	for (size_t i = 0; i < t->n_nodes; i++) {
		const struct tb_node *n = &t->nodes[i];
		c->first_pod[i] = p->n_machines;
		for (size_t j = 0; j < n->n_pods; j++) {
			const struct tb_pod *pod = &n->pods[j];
			add_machine(p, MACHINE_POD, pod->name, c->first_node + i, image_of(t, p, pod->image),
				    pod->http_port,
				    workload(pod->name, n->name, pod->http_port, (char *const *)pod->command,
					     pod->n_command),
				    !pod->command && pod->http_port > 0, pod->address, pod->disk,
				    "Section 3.1: a pod is a network namespace on its node");
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

static void plan_cluster_links(const struct tb_topology *t, struct plan *p, const struct cluster_plan *c)
{
	add_bridge(p, c->lab, UNDERLAY_BRIDGE, 0, "the underlay: one switch in the lab namespace for every node");
	for (size_t i = 0; i < t->n_nodes; i++) {
		char lab_end[PLAN_IFNAME];
		snprintf(lab_end, sizeof(lab_end), "tb-n%u", (unsigned)i);
		add_veth(p, c->lab, lab_end, UNDERLAY_BRIDGE, false, c->first_node + i, "eth0", 0,
			 "Section 3.2: each node's eth0 on the underlay");
	}
	add_veth(p, c->lab, "tb-gw", UNDERLAY_BRIDGE, false, c->gateway, "eth0", 0,
		 "Section 3.3: the gateway's eth0 on the underlay");
	for (size_t i = 0; i < t->n_nodes; i++)
		add_bridge(p, c->first_node + i, "cbr0", c->pod_mtu, "Section 3.1: cbr0, the node's pod bridge (kubenet)");
	for (size_t i = 0; i < t->n_nodes; i++)
		for (size_t j = 0; j < t->nodes[i].n_pods; j++) {
			char node_end[PLAN_IFNAME];
			snprintf(node_end, sizeof(node_end), "veth%u", (unsigned)j);
			add_veth(p, c->first_node + i, node_end, "cbr0", true, c->first_pod[i] + j, "eth0", c->pod_mtu,
				 "Section 3.1: the pod's eth0; the node's end joins cbr0 in hairpin mode (kubenet)");
		}
	if (t->cluster.routing != TB_ROUTING_VXLAN)
		return;
	for (size_t i = 0; i < t->n_nodes; i++) {
		const struct tb_node *n = &t->nodes[i];
		struct step *s = plan_add_step(p, STEP_VXLAN, c->first_node + i,
					       "vxlan: the node's tunnel end on the underlay (flannel's vxlan backend)");
		struct step_vxlan *v = &s->u.vxlan;
		set_name(v->name, PLAN_VXLAN_DEVICE);
		v->vni = PLAN_VXLAN_VNI;
		v->port = PLAN_VXLAN_PORT;
		v->local = n->underlay_address;
		set_name(v->dev, "eth0");
		vxlan_mac(n->underlay_address, v->mac);
		v->mtu = PLAN_UNDERLAY_MTU - PLAN_VXLAN_OVERHEAD;
	}
}

static void plan_cluster_addresses(const struct tb_topology *t, struct plan *p, const struct cluster_plan *c)
{
	const struct tb_cluster *cl = &t->cluster;
	for (size_t i = 0; i < t->n_nodes; i++) {
		const struct tb_node *n = &t->nodes[i];
		size_t node = c->first_node + i;
		add_address(p, node, "eth0", n->underlay_address, cl->underlay.len, "Section 3.2: the node's underlay address");
		add_address(p, node, "cbr0", n->bridge_address, n->pod_cidr.len,
			    "Section 3.1: cbr0 holds the first address of the node's pod CIDR");
		if (cl->routing == TB_ROUTING_VXLAN)
			add_address(p, node, PLAN_VXLAN_DEVICE, ipv4_network(n->pod_cidr), 32,
				    "vxlan: the tunnel end's address is the pod CIDR's network address (the VTEP)");
	}
	add_address(p, c->gateway, "eth0", cl->gateway_address, cl->underlay.len, "Section 3.3: the gateway's address");
	for (size_t i = 0; i < t->n_nodes; i++)
		for (size_t j = 0; j < t->nodes[i].n_pods; j++)
			add_address(p, c->first_pod[i] + j, "eth0", t->nodes[i].pods[j].address, t->nodes[i].pod_cidr.len,
				    "Section 3.1: the pod's address, from its node's pod CIDR");
}

static void plan_cluster_routes(const struct tb_topology *t, struct plan *p, const struct cluster_plan *c)
{
	const struct tb_cluster *cl = &t->cluster;
	for (size_t i = 0; i < t->n_nodes; i++)
		for (size_t j = 0; j < t->nodes[i].n_pods; j++)
			add_route(p, c->first_pod[i] + j, default_route, t->nodes[i].bridge_address, NULL,
				  "Section 3.1: pods send everything through cbr0");
	for (size_t i = 0; i < t->n_nodes; i++)
		add_route(p, c->first_node + i, default_route, cl->gateway_address, NULL,
			  cl->routing == TB_ROUTING_GATEWAY ? "Section 3.3: nodes send what is not theirs to the default gateway"
							    : "the default gateway: the way out of the cluster");
	switch (cl->routing) {
	case TB_ROUTING_GATEWAY:
		for (size_t i = 0; i < t->n_nodes; i++)
			add_route(p, c->gateway, t->nodes[i].pod_cidr, t->nodes[i].underlay_address, NULL,
				  "Section 3.3: the gateway routes each node's pod CIDR to that node");
		break;
	case TB_ROUTING_HOST_GW:
		for (size_t i = 0; i < t->n_nodes; i++)
			for (size_t j = 0; j < t->n_nodes; j++)
				if (j != i)
					add_route(p, c->first_node + i, t->nodes[j].pod_cidr, t->nodes[j].underlay_address,
						  "eth0", "host-gw: every other node's pod CIDR via that node's underlay address");
		break;
	case TB_ROUTING_VXLAN:
		for (size_t i = 0; i < t->n_nodes; i++)
			for (size_t j = 0; j < t->n_nodes; j++) {
				if (j == i)
					continue;
				const struct tb_node *other = &t->nodes[j];
				struct step *s = add_route(p, c->first_node + i, other->pod_cidr, ipv4_network(other->pod_cidr),
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
				set_name(s->u.neigh.dev, PLAN_VXLAN_DEVICE);
				vxlan_mac(t->nodes[j].underlay_address, mac);
				plan_neigh_append(&s->u.neigh, ipv4_network(t->nodes[j].pod_cidr), mac);
			}
		for (size_t i = 0; i < t->n_nodes; i++)
			for (size_t j = 0; j < t->n_nodes; j++) {
				if (j == i)
					continue;
				struct step *s = plan_add_step(p, STEP_FDB, c->first_node + i,
							       "vxlan: frames for that MAC go in UDP to that node's underlay address");
				set_name(s->u.fdb.dev, PLAN_VXLAN_DEVICE);
				vxlan_mac(t->nodes[j].underlay_address, s->u.fdb.mac);
				s->u.fdb.dst = t->nodes[j].underlay_address;
			}
		break;
	}
}

static void plan_cluster_sysctls(const struct tb_topology *t, struct plan *p, const struct cluster_plan *c)
{
	for (size_t i = 0; i < t->n_nodes; i++)
		add_sysctl(p, c->first_node + i, "net/ipv4/ip_forward", "1", "Section 3.1: nodes forward their pods' traffic");
	add_sysctl(p, c->gateway, "net/ipv4/ip_forward", "1", "Section 3.3: the gateway is a router");
	/* It forwards out of the interface a packet came in on; an ICMP
	 * redirect would teach nodes to bypass it, unlike the article. */
	add_sysctl(p, c->gateway, "net/ipv4/conf/all/send_redirects", "0",
		   "Section 3.3: no ICMP redirects, so that nodes keep using the gateway");
	add_sysctl(p, c->gateway, "net/ipv4/conf/eth0/send_redirects", "0", NULL);
}

static void plan_expectations(const struct tb_topology *t, struct plan *p)
{
	p->has_expect = t->has_expect;
	p->expects = xcalloc(t->n_expects ? t->n_expects : 1, sizeof(*p->expects));
	for (size_t i = 0; i < t->n_expects; i++) {
		const struct tb_expect *x = &t->expects[i];
		const char *from = x->from.kind == TB_KIND_ALL_PODS ? "*" : x->from.name;
		const char *to = x->to.kind == TB_KIND_ALL_PODS ? "*" : x->to.name;
		p->expects[p->n_expects++] = (struct plan_expect){
			.from = xstrdup(from),
			.to = xstrdup(to),
			.proto = x->proto,
			.port = x->port,
			.expect_pass = x->expect_pass,
			.client_ip = x->client_ip,
			.line = x->line,
		};
	}
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
		.timings = {-1, -1, -1, -1, -1},
	};
	/* Machines first, in the order they are spawned: a node before its
	 * pods (they are created inside its PID namespace). */
	size_t lab = add_machine(p, MACHINE_LAB, TB_TARGET_LAB, PLAN_NONE, PLAN_NONE, 0, NULL, false, 0, 0,
				 "the lab's own namespace: it plays the host and holds the switches");
	size_t first_host = p->n_machines;
	plan_host_machines(t, p);
	struct cluster_plan c = {.lab = lab};
	if (t->n_nodes) {
		if (t->cluster.routing == TB_ROUTING_VXLAN)
			c.pod_mtu = PLAN_UNDERLAY_MTU - PLAN_VXLAN_OVERHEAD;
		plan_cluster_machines(t, p, &c);
	}
	plan_host_network(t, p, lab, first_host);
	if (t->n_nodes) {
		plan_cluster_links(t, p, &c);
		plan_cluster_addresses(t, p, &c);
		plan_cluster_routes(t, p, &c);
		plan_cluster_sysctls(t, p, &c);
	}
	free(c.first_pod);
	plan_neighbours(p, t->neighbours);
	order_steps(p);
	plan_expectations(t, p);
	return 0;
}

void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->n_machines; i++) {
		free_argv(p->machines[i].argv);
		free(p->machines[i].name);
	}
	for (size_t i = 0; i < p->n_steps; i++) {
		struct step *s = &p->steps[i];
		if (s->kind == STEP_SYSCTL) {
			free(s->u.sysctl.key);
			free(s->u.sysctl.value);
		} else if (s->kind == STEP_NFT) {
			free(s->u.nft.table);
			free(s->u.nft.ruleset);
		} else if (s->kind == STEP_NEIGH) {
			free(s->u.neigh.entries);
		}
		free(s->note);
	}
	for (size_t i = 0; i < p->n_images; i++) {
		free(p->images[i].name);
		free(p->images[i].path);
	}
	for (size_t i = 0; i < p->n_expects; i++) {
		free(p->expects[i].from);
		free(p->expects[i].to);
	}
	free(p->expects);
	free(p->images);
	free(p->machines);
	free(p->steps);
	free(p->lab);
	free(p->topology);
	free(p->version);
	*p = (struct plan){0};
}

static const char *const kind_names[] = {
	[MACHINE_LAB] = "lab", [MACHINE_GATEWAY] = "gateway", [MACHINE_NODE] = "node",
	[MACHINE_HOST] = "host", [MACHINE_POD] = "pod",
};

const char *machine_kind_name(enum machine_kind kind)
{
	return (size_t)kind < ARRAY_SIZE(kind_names) ? kind_names[kind] : "?";
}

bool machine_kind_parse(const char *name, enum machine_kind *kind)
{
	for (size_t i = 0; i < ARRAY_SIZE(kind_names); i++)
		if (strcmp(kind_names[i], name) == 0) {
			*kind = (enum machine_kind)i;
			return true;
		}
	return false;
}

size_t plan_find(const struct plan *p, const char *name)
{
	for (size_t i = 0; i < p->n_machines; i++)
		if (strcmp(p->machines[i].name, name) == 0)
			return i;
	return PLAN_NONE;
}
