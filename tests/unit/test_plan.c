#define _GNU_SOURCE
/* The plan compiled from topologies: machines, links, addresses, routes. */
#include "fixtures.h"
#include "harness.h"
#include "plan/plan.h"
#include "plan/plan_compile.h"
#include "plan/plan_render.h"
#include "steps/step.h"
#include "util/util.h"
#include "model/topology.h"

#include <cjson/cJSON.h>

static const char *fmt(struct ipv4_prefix p)
{
	static char buf[8][IPV4_PREFIX_STRLEN];
	static int i;
	return ipv4_prefix_format(p, buf[i++ % 8]);
}

static const struct step_route *route_of(const struct plan *p, size_t machine, const char *dst)
{
	for (const struct step *s = plan_next(p, NULL, STEP_ROUTE); s; s = plan_next(p, s, STEP_ROUTE))
		if (s->machine == machine && strcmp(fmt(s->u.route.dst), dst) == 0)
			return &s->u.route;
	return NULL;
}

static size_t count_steps(const struct plan *p, enum step_kind kind, size_t machine)
{
	size_t n = 0;
	for (const struct step *s = plan_next(p, NULL, kind); s; s = plan_next(p, s, kind))
		n += machine == PLAN_NONE || s->machine == machine;
	return n;
}

static const struct step_address *address_of(const struct plan *p, size_t machine, const char *ifname)
{
	for (const struct step *s = plan_next(p, NULL, STEP_ADDRESS); s; s = plan_next(p, s, STEP_ADDRESS))
		if (s->machine == machine && strcmp(s->u.address.ifname, ifname) == 0)
			return &s->u.address;
	return NULL;
}

/* The i-th step of KIND. */
static const struct step *nth(const struct plan *p, enum step_kind kind, size_t i)
{
	const struct step *s = plan_next(p, NULL, kind);
	while (s && i--)
		s = plan_next(p, s, kind);
	return s;
}

TEST(plan_two_nodes_behind_a_default_gateway)
{
	struct tb_topology *t = fixture_topology(
		"{\"name\": \"k\", \"images\": {\"pod\": \"img.tar\", \"node\": \"img.tar\"},"
		"\"cluster\": {\"podCIDR\": \"10.0.0.0/16\"}, \"nodes\": ["
		"{\"name\": \"node1\", \"podCIDR\": \"10.0.1.0/24\", \"pods\": [{\"name\": \"a\"}, {\"name\": \"b\"}]},"
		"{\"name\": \"node2\", \"podCIDR\": \"10.0.2.0/24\", \"pods\": [{\"name\": \"c\", \"http\": false}]}]}");
	CHECK(t != NULL);
	if (!t)
		return;
	struct plan p;
	struct tb_err e;
	CHECK_INT(plan_build(t, NULL, &p, &e), 0);
	/* lab, two nodes, three pods, the gateway, and internet outside */
	CHECK_INT(p.n_machines, 8);
	CHECK_INT(p.machines[plan_find(&p, "internet")].kind, MACHINE_EXTERNAL);
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
	CHECK_INT(plan_machine_http_port(&p.machines[c]), 0);

	/* kubenet: pod eth0 from the node's CIDR, default via cbr0 */
	CHECK_STR(fmt(address_of(&p, a, "eth0")->prefix), "10.0.1.2/24");
	CHECK_STR(fmt(address_of(&p, n1, "cbr0")->prefix), "10.0.1.1/24");
	CHECK_STR(fmt(address_of(&p, n1, "eth0")->prefix), "10.10.0.2/24");
	CHECK_STR(fmt(address_of(&p, gw, "eth0")->prefix), "10.10.0.1/24");
	const struct step_route *r = route_of(&p, a, "0.0.0.0/0");
	CHECK(r && r->via == 0x0A000101);
	r = route_of(&p, n1, "0.0.0.0/0");
	CHECK(r && r->via == 0x0A0A0001);
	/* figure 3.3: the gateway routes each node's pod CIDR to that node */
	r = route_of(&p, gw, "10.0.2.0/24");
	CHECK(r && r->via == 0x0A0A0003);
	r = route_of(&p, gw, "10.0.1.0/24");
	CHECK(r && r->via == 0x0A0A0002);

	bool pod_veth = false, node_veth = false;
	for (const struct step *s = plan_next(&p, NULL, STEP_VETH); s; s = plan_next(&p, s, STEP_VETH)) {
		const struct step_veth *v = &s->u.veth;
		if (v->peer_machine == a) {
			pod_veth = s->machine == n1 && strcmp(v->peer_name, "eth0") == 0 &&
				   strcmp(v->master, "cbr0") == 0 && v->hairpin;
		}
		if (v->peer_machine == n1)
			node_veth = s->machine == lab && strcmp(v->master, "tb-underlay") == 0;
	}
	CHECK(pod_veth);
	CHECK(node_veth);
	bool forwarding = false;
	for (const struct step *s = plan_next(&p, NULL, STEP_SYSCTL); s; s = plan_next(&p, s, STEP_SYSCTL))
		if (s->machine == n1 && strcmp(s->u.sysctl.key, "net/ipv4/ip_forward") == 0)
			forwarding = strcmp(s->u.sysctl.value, "1") == 0;
	CHECK(forwarding);
	/* Steps come in the order of their kinds: a step only depends on earlier ones. */
	for (size_t i = 1; i < p.n_steps; i++)
		CHECK(p.steps[i - 1].kind <= p.steps[i].kind);
	/* Every machine is made by a step. */
	CHECK_INT(count_steps(&p, STEP_MACHINE, PLAN_NONE), p.n_machines);
	plan_free(&p);
	topology_free(t);
}

TEST(plan_hosts_veth_pairs_and_bridges)
{
	struct tb_topology *t = fixture_topology("{\"name\": \"h\", \"images\": {\"pod\": \"img.tar\"}, \"bridges\": [{\"name\": "
				     "\"br0\"}], \"hosts\": [{\"name\": \"net0\", \"interfaces\": {\"eth0\": "
				     "\"10.0.1.2/24\"}}, {\"name\": \"net1\", \"interfaces\": {\"veth1\": "
				     "\"10.0.2.3/24\"}}, {\"name\": \"net2\", \"http\": false}], \"links\": [[\"br0\", "
				     "\"net0:eth0\"], [\"net1:veth1\", \"net2:veth2\"]]}");
	CHECK(t != NULL);
	if (!t)
		return;
	struct plan p;
	struct tb_err e;
	CHECK_INT(plan_build(t, NULL, &p, &e), 0);
	CHECK_INT(p.n_machines, 4);
	CHECK_INT(count_steps(&p, STEP_BRIDGE, PLAN_NONE), 1);
	CHECK_INT(count_steps(&p, STEP_VETH, PLAN_NONE), 2);
	size_t lab = plan_find(&p, "lab"), net0 = plan_find(&p, "net0"), net1 = plan_find(&p, "net1"),
	       net2 = plan_find(&p, "net2");
	/* bridge link: the lab's end is enslaved to br0 */
	const struct step *v0 = nth(&p, STEP_VETH, 0), *v1 = nth(&p, STEP_VETH, 1);
	CHECK_INT(v0->machine, lab);
	CHECK_STR(v0->u.veth.master, "br0");
	CHECK_INT(v0->u.veth.peer_machine, net0);
	CHECK_STR(v0->u.veth.peer_name, "eth0");
	/* direct pair between two hosts, as in section 1.2 */
	CHECK_INT(v1->machine, net1);
	CHECK_STR(v1->u.veth.name, "veth1");
	CHECK_INT(v1->u.veth.peer_machine, net2);
	CHECK_STR(v1->u.veth.peer_name, "veth2");
	CHECK_STR(v1->u.veth.master, "");
	CHECK_STR(fmt(address_of(&p, net1, "veth1")->prefix), "10.0.2.3/24");
	CHECK(address_of(&p, net2, "veth2") == NULL);
	CHECK_INT(count_steps(&p, STEP_ROUTE, PLAN_NONE), 0);
	CHECK_INT(plan_machine_http_port(&p.machines[net0]), 8000);
	CHECK(p.machines[net2].argv == NULL);
	plan_free(&p);
	topology_free(t);
}

#define TWO_NODES(routing)                                                                                   \
	"{\"name\": \"k\", \"images\": {\"pod\": \"img.tar\", \"node\": \"img.tar\"},"                           \
	"\"cluster\": {\"podCIDR\": \"10.0.0.0/16\", \"routing\": \"" routing "\"}, \"nodes\": ["                  \
	"{\"name\": \"node1\", \"podCIDR\": \"10.0.1.0/24\", \"pods\": [{\"name\": \"a\"}]},"                      \
	"{\"name\": \"node2\", \"podCIDR\": \"10.0.2.0/24\", \"pods\": [{\"name\": \"c\"}]},"                      \
	"{\"name\": \"node3\", \"podCIDR\": \"10.0.3.0/24\"}]}"

/* flannel's host-gw: nodes route each other's pod CIDRs over the underlay;
 * the gateway knows none. */
TEST(plan_host_gw_routes_pod_cidrs_between_nodes)
{
	struct plan p;
	if (!fixture_plan(TWO_NODES("host-gw"), &p)) {
		CHECK(!"built");
		return;
	}
	size_t n1 = plan_find(&p, "node1"), gw = plan_find(&p, "gateway");
	const struct step_route *r = route_of(&p, n1, "10.0.2.0/24");
	CHECK(r && r->via == 0x0A0A0003 && strcmp(r->dev, "eth0") == 0 && !r->onlink);
	r = route_of(&p, n1, "10.0.3.0/24");
	CHECK(r && r->via == 0x0A0A0004);
	CHECK(route_of(&p, n1, "10.0.1.0/24") == NULL);
	CHECK(route_of(&p, n1, "0.0.0.0/0") != NULL);
	/* The gateway routes no pod CIDR: only the way to internet. */
	CHECK_INT(count_steps(&p, STEP_ROUTE, gw), 1);
	CHECK(route_of(&p, gw, "203.0.113.2/32") != NULL);
	CHECK_INT(count_steps(&p, STEP_VXLAN, PLAN_NONE), 0);
	plan_free(&p);
}

/* flannel's vxlan: a device per node, the other nodes' VTEPs by route,
 * permanent neighbour entry and FDB entry; pods' MTU lowered by 50. */
TEST(plan_vxlan_tunnels_pod_cidrs_between_nodes)
{
	struct plan p;
	if (!fixture_plan(TWO_NODES("vxlan"), &p)) {
		CHECK(!"built");
		return;
	}
	size_t n1 = plan_find(&p, "node1"), n2 = plan_find(&p, "node2"), gw = plan_find(&p, "gateway");
	CHECK_INT(count_steps(&p, STEP_VXLAN, PLAN_NONE), 3);
	const struct step *v = nth(&p, STEP_VXLAN, 1);
	CHECK_INT(v->machine, n2);
	CHECK_STR(v->u.vxlan.name, "flannel.1");
	CHECK_INT(v->u.vxlan.vni, 1);
	CHECK_INT(v->u.vxlan.port, 8472);
	CHECK_INT(v->u.vxlan.local, 0x0A0A0003);
	CHECK_STR(v->u.vxlan.mac, "0a:58:0a:0a:00:03");
	CHECK_INT(v->u.vxlan.mtu, 1450);
	CHECK_STR(fmt(address_of(&p, n1, "flannel.1")->prefix), "10.0.1.0/32");
	const struct step_route *r = route_of(&p, n1, "10.0.2.0/24");
	CHECK(r && r->via == 0x0A000200 && strcmp(r->dev, "flannel.1") == 0 && r->onlink);
	CHECK_INT(count_steps(&p, STEP_NEIGH, n1), 2);
	CHECK_INT(count_steps(&p, STEP_FDB, n1), 2);
	const struct step *f = nth(&p, STEP_FDB, 0);
	CHECK_INT(f->machine, n1);
	CHECK_STR(f->u.fdb.mac, "0a:58:0a:0a:00:03");
	CHECK_INT(f->u.fdb.dst, 0x0A0A0003);
	const struct step *nb = nth(&p, STEP_NEIGH, 0);
	CHECK_INT(nb->u.neigh.n_entries, 1);
	CHECK_INT(nb->u.neigh.entries[0].address, 0x0A000200);
	CHECK_STR(nb->u.neigh.entries[0].mac, "0a:58:0a:0a:00:03");
	CHECK_INT(count_steps(&p, STEP_ROUTE, gw), 1); /* internet's, no pod CIDR */
	for (const struct step *s = plan_next(&p, NULL, STEP_VETH); s; s = plan_next(&p, s, STEP_VETH))
		if (strcmp(s->u.veth.master, "cbr0") == 0)
			CHECK_INT(s->u.veth.mtu, 1450);
	plan_free(&p);
}

/* The saved form reads back into the same plan, in every routing mode. */
TEST(plan_json_round_trip)
{
	const char *modes[] = {TWO_NODES("gateway"), TWO_NODES("host-gw"), TWO_NODES("vxlan")};
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		struct plan p, q;
		if (!fixture_plan(modes[i], &p)) {
			CHECK(!"built");
			continue;
		}
		snprintf(p.images[0].sha256, sizeof(p.images[0].sha256), "%064d", 7);
		p.timings = (struct plan_timings){1.5, 2, 3, 4, 10.5, 2.5};
		autofree char *text = plan_to_json(&p, true);
		struct tb_err e;
		CHECK_INT(plan_from_json(text, &q, &e), 0);
		autofree char *again = plan_to_json(&q, true);
		CHECK_STR(again, text);
		autofree char *s1 = plan_shape(&p), *s2 = plan_shape(&q);
		CHECK_STR(s1, s2);
		CHECK(q.timings.total == 10.5);
		CHECK(q.timings.rules == 2.5);
		plan_free(&p);
		plan_free(&q);
	}
}

TEST(plan_of_another_format_is_refused_naming_both_versions)
{
	struct plan p;
	struct tb_err e;
	CHECK_INT(plan_from_json("{\"format\": 99, \"testbed\": \"9.9.9\", \"lab\": \"x\"}", &p, &e), -1);
	autofree char *want = xasprintf("it was saved by testbed 9.9.9 in plan format 99; this is testbed %s, which "
					"reads plan format %d",
					TESTBED_VERSION, PLAN_FORMAT);
	CHECK_STR(e.msg, want);
	CHECK_INT(plan_from_json("{\"format\": 1, \"lab\": \"x\", \"routing\": \"gateway\", \"cluster\": {}}", &p, &e), -1);
	CHECK_STR(e.msg, "cluster: \"podCIDR\": expected an IPv4 prefix");
}

/* A saved plan someone edited is read as strictly as a topology file: its
 * texts reach reports and plan --format json, which must be UTF-8. */
TEST(plan_that_is_not_utf8_is_refused)
{
	struct plan p;
	struct tb_err e;
	CHECK_INT(plan_from_json("{\"format\": 1, \"testbed\": \"9.9\xff\", \"lab\": \"x\"}", &p, &e), -1);
	CHECK_STR(e.msg, "not a saved plan: the byte at offset 29 (0xff) starts no valid UTF-8 character");
}

/* The sh rendering: the commands the article types, in order. */
TEST(plan_renders_the_commands_that_build_it_by_hand)
{
	struct plan p;
	if (!fixture_plan(TWO_NODES("vxlan"), &p)) {
		CHECK(!"built");
		return;
	}
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	plan_render_sh(&p, out);
	fclose(out);
	const char *want[] = {
		"ip netns add node1\n",
		"ip -n lab link add name tb-n0 type veth peer name eth0 netns node1\n",
		"ip -n node1 link add name veth0 mtu 1450 type veth peer name eth0 mtu 1450 netns a\n",
		"bridge -n node1 link set dev veth0 hairpin on\n",
		"ip -n node1 link add name flannel.1 address 0a:58:0a:0a:00:02 mtu 1450 type vxlan id 1 local 10.10.0.2 dev "
		"eth0 dstport 8472 nolearning\n",
		"ip -n a addr add 10.0.1.2/24 dev eth0\n",
		"ip -n a route add default via 10.0.1.1\n",
		"ip -n node1 route add 10.0.2.0/24 via 10.0.2.0 dev flannel.1 onlink\n",
		"ip -n node1 neigh add 10.0.2.0 lladdr 0a:58:0a:0a:00:03 dev flannel.1 nud permanent\n",
		"bridge -n node1 fdb append 0a:58:0a:0a:00:03 dev flannel.1 dst 10.10.0.3\n",
		"ip netns exec node1 sysctl -qw net.ipv4.ip_forward=1\n",
		"# Section 3.1: a pod is a network namespace on its node\n",
	};
	const char *at = text;
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		const char *found = strstr(text, want[i]);
		if (!found)
			harness_fail(__FILE__, __LINE__, "missing: %s", want[i]);
		else if (i < ARRAY_SIZE(want) - 1 && found < at)
			harness_fail(__FILE__, __LINE__, "out of order: %s", want[i]);
		else if (i < ARRAY_SIZE(want) - 1)
			at = found;
	}
	free(text);
	plan_free(&p);
}

/* A machine's ports and labels through the saved plan: every protocol and
 * name kept; a plan saved with "http" alone reads as that one port. */
TEST(plan_ports_and_labels_round_trip)
{
	struct plan p;
	if (!fixture_plan("{\"name\": \"k\", \"images\": {\"pod\": \"img.tar\", \"node\": \"img.tar\"}, \"nodes\": "
			  "[{\"name\": \"node1\", \"pods\": [{\"name\": \"a\", \"labels\": {\"app\": \"web\", "
			  "\"example.com/tier\": \"front\"}}]}]}",
			  &p)) {
		CHECK(!"built");
		return;
	}
	size_t a = plan_find(&p, "a");
	CHECK_INT(p.machines[a].n_ports, 1);
	CHECK_INT(plan_machine_http_port(&p.machines[a]), 8000);
	CHECK_INT(p.machines[a].n_labels, 2);
	/* A UDP and an unnamed TCP port besides, as objects will bring them. */
	struct tb_port more[] = {{"http", 8000, TB_PROTOCOL_TCP}, {"dns", 53, TB_PROTOCOL_UDP}, {"", 9000, TB_PROTOCOL_TCP}};
	struct tb_port *old = p.machines[a].ports;
	p.machines[a].ports = more;
	p.machines[a].n_ports = 3;
	autofree char *text = plan_to_json(&p, true);
	p.machines[a].ports = old;
	p.machines[a].n_ports = 1;
	struct plan q;
	struct tb_err e;
	CHECK_INT(plan_from_json(text, &q, &e), 0);
	size_t qa = plan_find(&q, "a");
	CHECK_INT(q.machines[qa].n_ports, 3);
	CHECK_STR(q.machines[qa].ports[1].name, "dns");
	CHECK_INT(q.machines[qa].ports[1].port, 53);
	CHECK_INT(q.machines[qa].ports[1].protocol, TB_PROTOCOL_UDP);
	CHECK_STR(q.machines[qa].ports[2].name, "");
	CHECK_INT(q.machines[qa].n_labels, 2);
	CHECK_STR(q.machines[qa].labels[1].key, "example.com/tier");
	CHECK_STR(q.machines[qa].labels[1].value, "front");
	autofree char *again = plan_to_json(&q, true);
	CHECK_STR(again, text);
	plan_free(&q);
	/* Saved before lists: "http" is the pod server's port. */
	const char *at = strstr(text, "\"ports\":");
	const char *end = at ? strchr(at, ']') : NULL;
	if (!at || !end) {
		CHECK(!"ports in the plan");
	} else {
		autofree char *legacy = xasprintf("%.*s\"http\": 8080%s", (int)(at - text), text, end + 1);
		CHECK_INT(plan_from_json(legacy, &q, &e), 0);
		qa = plan_find(&q, "a");
		CHECK_INT(q.machines[qa].n_ports, 1);
		CHECK_INT(plan_machine_http_port(&q.machines[qa]), 8080);
		plan_free(&q);
		autofree char *bad = xasprintf("%.*s\"ports\": [{\"port\": 80, \"protocol\": \"HTTP\"}]%s", (int)(at - text),
					       text, end + 1);
		CHECK_INT(plan_from_json(bad, &q, &e), -1);
		CHECK_STR(e.msg, "machines[3]: ports[0].protocol: \"HTTP\" is not TCP, UDP or SCTP");
	}
	plan_free(&p);
}

/* A pod's "ports": the pod server answers on every one (its command line
 * lists them: --port for TCP, --udp for UDP); a pod with only UDP ports
 * still runs it; node labels carry kubernetes.io/hostname. */
TEST(plan_pods_serve_their_ports)
{
	struct plan p;
	if (!fixture_plan("{\"name\": \"k\", \"images\": {\"pod\": \"img.tar\", \"node\": \"img.tar\"}, \"nodes\": "
			  "[{\"name\": \"node1\", \"labels\": {\"zone\": \"a\"}, \"pods\": ["
			  "{\"name\": \"a\", \"ports\": [{\"name\": \"web\", \"containerPort\": 80}, "
			  "{\"name\": \"dns\", \"containerPort\": 53, \"protocol\": \"UDP\"}, {\"containerPort\": 8080}]},"
			  "{\"name\": \"b\", \"ports\": [{\"containerPort\": 5353, \"protocol\": \"UDP\"}]}]}]}",
			  &p)) {
		CHECK(!"built");
		return;
	}
	const struct plan_machine *a = &p.machines[plan_find(&p, "a")], *b = &p.machines[plan_find(&p, "b")];
	CHECK_INT(a->n_ports, 3);
	CHECK(a->pod_server);
	CHECK_INT(plan_machine_http_port(a), 80); /* no port named http: the first TCP one */
	autofree char *argv = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&argv, &len);
	for (char **w = a->argv; w && *w; w++)
		fprintf(out, "%s%s", w == a->argv ? "" : " ", *w);
	fclose(out);
	CHECK_STR(argv, POD_SERVER_PATH " --port 80 --udp 53 --port 8080 --name a --node node1");
	CHECK(b->pod_server);
	CHECK_INT(plan_machine_http_port(b), 0);
	CHECK_INT(b->ports[0].protocol, TB_PROTOCOL_UDP);
	CHECK_STR(plan_machine_object_name(a), "a");
	CHECK(a->namespace && strcmp(a->namespace, "default") == 0);
	plan_free(&p);
	struct tb_topology *t = fixture_topology("{\"name\": \"k\", \"images\": {\"pod\": \"img.tar\", \"node\": "
						 "\"img.tar\"}, \"nodes\": [{\"name\": \"node1\", \"labels\": {\"zone\": "
						 "\"a\"}}]}");
	CHECK(t && t->nodes[0].n_labels == 2);
	if (t) {
		CHECK_STR(t->nodes[0].labels[1].key, "kubernetes.io/hostname");
		CHECK_STR(t->nodes[0].labels[1].value, "node1");
		CHECK_INT(t->n_namespaces, 1);
		CHECK_STR(t->namespaces[0].labels[0].key, "kubernetes.io/metadata.name");
		topology_free(t);
	}
}

/* A machine's files: saved and read back as they were (path, mode,
 * content with its line breaks and quotes), shown by the script as
 * comments only, and refused when a saved plan gives one a path outside
 * the rules or a machine without an image. */
TEST(plan_machine_files_round_trip_and_render)
{
	struct plan p, q;
	if (!fixture_plan(TWO_NODES("gateway"), &p)) {
		CHECK(!"built");
		return;
	}
	size_t a = plan_find(&p, "a");
	CHECK(a != PLAN_NONE && p.machines[a].image != PLAN_NONE);
	if (a == PLAN_NONE)
		return;
	plan_machine_add_file(&p.machines[a], "/etc/resolv.conf", "nameserver 10.96.0.10\noptions ndots:5\n", 0644);
	plan_machine_add_file(&p.machines[a], "/etc/dnsmasq.d/x.conf", "a='b' \"c\"\n$(reboot)\n", 0600);
	plan_machine_add_file(&p.machines[a], "/etc/resolv.conf", "nameserver 10.96.0.10\n", 0644);
	CHECK_INT(p.machines[a].n_files, 2);
	autofree char *text = plan_to_json(&p, true);
	CHECK(strstr(text, "\"mode\":\t\"0600\"") != NULL);
	struct tb_err e;
	CHECK_INT(plan_from_json(text, &q, &e), 0);
	autofree char *again = plan_to_json(&q, true);
	CHECK_STR(again, text);
	size_t qa = plan_find(&q, "a");
	CHECK(qa != PLAN_NONE && q.machines[qa].n_files == 2);
	if (qa != PLAN_NONE && q.machines[qa].n_files == 2) {
		CHECK_STR(q.machines[qa].files[0].path, "/etc/resolv.conf");
		CHECK_STR(q.machines[qa].files[0].content, "nameserver 10.96.0.10\n");
		CHECK_INT(q.machines[qa].files[1].mode, 0600);
		CHECK_STR(q.machines[qa].files[1].content, "a='b' \"c\"\n$(reboot)\n");
	}
	plan_free(&q);

	char *script = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&script, &len);
	plan_render_sh(&p, out);
	fclose(out);
	CHECK(strstr(script, "ip netns add a\n# file /etc/resolv.conf (mode 0644), written by testbed up into its "
			     "root:\n#   nameserver 10.96.0.10\n") != NULL);
	CHECK(strstr(script, "\n#   a='b' \"c\"\n#   $(reboot)\nip -n a link set dev lo up\n") != NULL);
	free(script);

	/* Edited saved plans: each bad file named. */
	static const struct {
		const char *from, *to, *want;
	} bad[] = {
		{"\"/etc/resolv.conf\"", "\"etc/resolv.conf\"", "machines[5].files[0].path: \"etc/resolv.conf\" is not an absolute path"},
		{"\"/etc/resolv.conf\"", "\"/etc/../root/x\"", "machines[5].files[0].path: \"/etc/../root/x\" has a \".\" or \"..\" component"},
		{"\"/etc/resolv.conf\"", "\"/etc//x\"", "machines[5].files[0].path: \"/etc//x\" has an empty component"},
		{"\"/etc/resolv.conf\"", "\"/proc/sys/net/ipv4/ip_forward\"",
		 "machines[5].files[0].path: \"/proc/sys/net/ipv4/ip_forward\" is under /proc, /sys or /dev, which the kernel's file systems cover"},
		{"\"/etc/resolv.conf\"", "\"/etc/dnsmasq.d/x.conf\"", "machines[5].files[1].path: \"/etc/dnsmasq.d/x.conf\" appears twice"},
		{"\"0600\"", "\"4755\"", "machines[5].files[1].mode: expected permission bits in octal, as \"0644\""},
		{"\"0600\"", "\"600\"", "machines[5].files[1].mode: expected permission bits in octal, as \"0644\""},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *edited = xstrdup(text);
		char *at = strstr(edited, bad[i].from);
		CHECK(at != NULL);
		if (!at) {
			free(edited);
			continue;
		}
		*at = '\0';
		autofree char *swapped = xasprintf("%s%s%s", edited, bad[i].to, at + strlen(bad[i].from));
		free(edited);
		CHECK_INT(plan_from_json(swapped, &q, &e), -1);
		CHECK_STR(e.msg, bad[i].want);
	}
	/* The lab machine has no image: no files. */
	cJSON *root = cJSON_Parse(text);
	cJSON *machines = cJSON_GetObjectItemCaseSensitive(root, "machines");
	cJSON *files = cJSON_DetachItemFromObjectCaseSensitive(cJSON_GetArrayItem(machines, (int)a), "files");
	cJSON_AddItemToObject(cJSON_GetArrayItem(machines, 0), "files", files);
	char *moved = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	CHECK_INT(plan_from_json(moved, &q, &e), -1);
	CHECK_STR(e.msg, "machines[0].files: only a machine with an image has files");
	cJSON_free(moved);
	plan_free(&p);
}
