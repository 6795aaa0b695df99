/* The plan compiled from topologies: machines, links, addresses, routes. */
#include "diag.h"
#include "harness.h"
#include "jsondoc.h"
#include "plan.h"
#include "topology.h"

static struct tb_topology *load(const char *text)
{
	struct diag d;
	diag_init(&d, "t.json");
	struct json_doc *doc = json_doc_parse("t.json", text, &d);
	struct tb_topology *t = doc ? topology_from_doc(doc, "../bad", &d) : NULL;
	for (size_t i = 0; i < d.count; i++)
		fprintf(stderr, "  unexpected: %s\n", d.messages[i]);
	diag_free(&d);
	return t;
}

static const char *fmt(struct ipv4_prefix p)
{
	static char buf[8][IPV4_PREFIX_STRLEN];
	static int i;
	return ipv4_prefix_format(p, buf[i++ % 8]);
}

static const struct plan_route *route_of(const struct plan *p, size_t machine, const char *dst)
{
	for (size_t i = 0; i < p->n_routes; i++)
		if (p->routes[i].machine == machine && strcmp(fmt(p->routes[i].dst), dst) == 0)
			return &p->routes[i];
	return NULL;
}

static const struct plan_address *address_of(const struct plan *p, size_t machine, const char *ifname)
{
	for (size_t i = 0; i < p->n_addresses; i++)
		if (p->addresses[i].machine == machine && strcmp(p->addresses[i].ifname, ifname) == 0)
			return &p->addresses[i];
	return NULL;
}

TEST(plan_two_nodes_behind_a_default_gateway)
{
	struct tb_topology *t = load(
		"{\"name\": \"k\", \"images\": {\"pod\": \"img.tar\", \"node\": \"img.tar\"},"
		"\"cluster\": {\"podCIDR\": \"10.0.0.0/16\"}, \"nodes\": ["
		"{\"name\": \"node1\", \"podCIDR\": \"10.0.1.0/24\", \"pods\": [{\"name\": \"a\"}, {\"name\": \"b\"}]},"
		"{\"name\": \"node2\", \"podCIDR\": \"10.0.2.0/24\", \"pods\": [{\"name\": \"c\", \"http\": false}]}]}");
	CHECK(t != NULL);
	if (!t)
		return;
	struct plan p;
	struct tb_err e;
	CHECK_INT(plan_build(t, &p, &e), 0);
	/* lab, two nodes, three pods, the gateway */
	CHECK_INT(p.n_machines, 7);
	size_t lab = plan_find(&p, "lab"), n1 = plan_find(&p, "node1"), a = plan_find(&p, "a"),
	       c = plan_find(&p, "c"), gw = plan_find(&p, "gateway");
	CHECK(lab == 0 && n1 != PLAN_NONE && a != PLAN_NONE && gw != PLAN_NONE);
	CHECK_INT(p.machines[a].kind, MACHINE_POD);
	CHECK_INT(p.machines[a].parent, n1);
	CHECK(n1 < a); /* a node exists before its pods */
	CHECK_STR(p.machines[a].argv[0], "/usr/local/bin/testbed-http");
	CHECK_STR(p.machines[a].argv[4], "a");
	CHECK_STR(p.machines[a].argv[6], "node1");
	CHECK(p.machines[c].argv == NULL);
	CHECK_INT(p.machines[c].http_port, 0);

	/* kubenet: pod eth0 from the node's CIDR, default via cbr0 */
	CHECK_STR(fmt(address_of(&p, a, "eth0")->prefix), "10.0.1.2/24");
	CHECK_STR(fmt(address_of(&p, n1, "cbr0")->prefix), "10.0.1.1/24");
	CHECK_STR(fmt(address_of(&p, n1, "eth0")->prefix), "10.10.0.2/24");
	CHECK_STR(fmt(address_of(&p, gw, "eth0")->prefix), "10.10.0.1/24");
	const struct plan_route *r = route_of(&p, a, "0.0.0.0/0");
	CHECK(r && r->via == 0x0A000101);
	r = route_of(&p, n1, "0.0.0.0/0");
	CHECK(r && r->via == 0x0A0A0001);
	/* figure 3.3: the gateway routes each node's pod CIDR to that node */
	r = route_of(&p, gw, "10.0.2.0/24");
	CHECK(r && r->via == 0x0A0A0003);
	r = route_of(&p, gw, "10.0.1.0/24");
	CHECK(r && r->via == 0x0A0A0002);

	bool pod_veth = false, node_veth = false;
	for (size_t i = 0; i < p.n_veths; i++) {
		const struct plan_veth *v = &p.veths[i];
		if (v->machine[1] == a) {
			pod_veth = v->machine[0] == n1 && strcmp(v->name[1], "eth0") == 0 &&
				   strcmp(v->master, "cbr0") == 0 && v->hairpin;
		}
		if (v->machine[1] == n1)
			node_veth = v->machine[0] == lab && strcmp(v->master, "tb-underlay") == 0;
	}
	CHECK(pod_veth);
	CHECK(node_veth);
	bool forwarding = false;
	for (size_t i = 0; i < p.n_sysctls; i++)
		if (p.sysctls[i].machine == n1 && strcmp(p.sysctls[i].key, "net/ipv4/ip_forward") == 0)
			forwarding = strcmp(p.sysctls[i].value, "1") == 0;
	CHECK(forwarding);
	plan_free(&p);
	topology_free(t);
}

TEST(plan_hosts_veth_pairs_and_bridges)
{
	struct tb_topology *t = load("{\"name\": \"h\", \"images\": {\"pod\": \"img.tar\"}, \"bridges\": [{\"name\": "
				     "\"br0\"}], \"hosts\": [{\"name\": \"net0\", \"interfaces\": {\"eth0\": "
				     "\"10.0.1.2/24\"}}, {\"name\": \"net1\", \"interfaces\": {\"veth1\": "
				     "\"10.0.2.3/24\"}}, {\"name\": \"net2\", \"http\": false}], \"links\": [[\"br0\", "
				     "\"net0:eth0\"], [\"net1:veth1\", \"net2:veth2\"]]}");
	CHECK(t != NULL);
	if (!t)
		return;
	struct plan p;
	struct tb_err e;
	CHECK_INT(plan_build(t, &p, &e), 0);
	CHECK_INT(p.n_machines, 4);
	CHECK_INT(p.n_bridges, 1);
	CHECK_INT(p.n_veths, 2);
	size_t lab = plan_find(&p, "lab"), net0 = plan_find(&p, "net0"), net1 = plan_find(&p, "net1"),
	       net2 = plan_find(&p, "net2");
	/* bridge link: the lab's end is enslaved to br0 */
	CHECK_INT(p.veths[0].machine[0], lab);
	CHECK_STR(p.veths[0].master, "br0");
	CHECK_INT(p.veths[0].machine[1], net0);
	CHECK_STR(p.veths[0].name[1], "eth0");
	/* direct pair between two hosts, as in section 1.2 */
	CHECK_INT(p.veths[1].machine[0], net1);
	CHECK_STR(p.veths[1].name[0], "veth1");
	CHECK_INT(p.veths[1].machine[1], net2);
	CHECK_STR(p.veths[1].name[1], "veth2");
	CHECK_STR(p.veths[1].master, "");
	CHECK_STR(fmt(address_of(&p, net1, "veth1")->prefix), "10.0.2.3/24");
	CHECK(address_of(&p, net2, "veth2") == NULL);
	CHECK_INT(p.n_routes, 0);
	CHECK_INT(p.machines[net0].http_port, 8000);
	CHECK(p.machines[net2].argv == NULL);
	plan_free(&p);
	topology_free(t);
}

TEST(plan_refuses_routing_modes_not_built_yet)
{
	struct tb_topology *t = load("{\"name\": \"v\", \"images\": {\"pod\": \"img.tar\", \"node\": \"img.tar\"},"
				     "\"cluster\": {\"routing\": \"vxlan\"}, \"nodes\": [{\"name\": \"n1\"}]}");
	CHECK(t != NULL);
	if (!t)
		return;
	struct plan p;
	struct tb_err e;
	CHECK_INT(plan_build(t, &p, &e), -1);
	CHECK_STR(e.msg, "cluster.routing \"vxlan\" is not implemented yet; use \"gateway\"");
	topology_free(t);
}
