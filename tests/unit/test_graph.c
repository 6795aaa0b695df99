/* testbed graph: every machine, bridge and veth of a plan shows up in both
 * formats, in the right group; tunnels and routing paths as each routing
 * mode has them; ids and labels quoted for names with '-', '.' or worse. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include "plan/graph.h"
#include "fixtures.h"
#include "harness.h"
#include "plan/plan.h"
#include "model/topology.h"

#define IMAGES "\"images\": {\"pod\": \"img.tar\", \"node\": \"img.tar\"}"
/* Two nodes, one pod name with a dash on each, in routing mode %s. */
#define CLUSTER                                                                                              \
	"{\"name\": \"k\", " IMAGES ", \"cluster\": {\"podCIDR\": \"10.0.0.0/16\", \"routing\": \"%s\"}, "  \
	"\"nodes\": [{\"name\": \"node1\", \"podCIDR\": \"10.0.1.0/24\", \"pods\": [{\"name\": \"pod-a\"}, " \
	"{\"name\": \"b\"}]}, {\"name\": \"node2\", \"podCIDR\": \"10.0.2.0/24\", \"pods\": [{\"name\": \"pod-c\"}]}]}"

static bool build_cluster(const char *routing, struct plan *p)
{
	autofree char *text = xasprintf(CLUSTER, routing);
	return fixture_plan(text, p);
}

/* Not inlined: GCC then takes the memstream's hold on &text for a pointer
 * to a dead local (-Wdangling-pointer), though fclose drops it. */
__attribute__((noinline)) static char *render(const struct plan *p, enum graph_format f)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	graph_write(out, f, p);
	fclose(out);
	return text;
}

/* The id the graph gives a name when no other name meets it. */
static char *id_of(const char *prefix, const char *a, const char *b)
{
	char *id = xasprintf("%s%s%s%s", prefix, a, b ? "_" : "", b ? b : "");
	for (char *c = id + strlen(prefix); *c; c++)
		if (*c == '-' || *c == '.')
			*c = '_';
	return id;
}

/* Is there a line in TEXT that holds A, then B, then C? */
static bool has_line(const char *text, const char *a, const char *b, const char *c)
{
	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		autofree char *l = end ? strndup(line, (size_t)(end - line)) : strdup(line);
		const char *x = strstr(l, a), *y = x ? strstr(x + strlen(a), b) : NULL;
		if (y && strstr(y + strlen(b), c))
			return true;
		line = end ? end + 1 : NULL;
	}
	return false;
}

static size_t count(const char *text, const char *needle)
{
	size_t n = 0;
	for (const char *s = strstr(text, needle); s; s = strstr(s + 1, needle))
		n++;
	return n;
}

/* The text of the group (subgraph or cluster) GROUP_ID opens. */
static char *group_text(const char *text, enum graph_format f, const char *group_id)
{
	autofree char *open = f == GRAPH_MERMAID ? xasprintf("subgraph %s[", group_id)
						 : xasprintf("subgraph \"cluster_%s\" {", group_id);
	const char *start = strstr(text, open);
	if (!start)
		return xstrdup("");
	const char *end = strstr(start, f == GRAPH_MERMAID ? "\n  end\n" : "\n  }\n");
	return end ? strndup(start, (size_t)(end - start)) : xstrdup("");
}

/* Node definitions: `id[` / `id{{` / `id([` in mermaid, `"id" [` in dot,
 * each followed by a label starting with the element's name. */
static void check_node(const char *text, enum graph_format f, const char *id, const char *open, const char *name)
{
	autofree char *def = f == GRAPH_MERMAID ? xasprintf("%s%s\"%s<br/>", id, open, name)
						: xasprintf("\"%s\" [", id);
	autofree char *label = xasprintf("label=\"%s\\n", name);
	if (f == GRAPH_MERMAID ? !strstr(text, def) : !has_line(text, def, label, "];"))
		harness_fail(__FILE__, __LINE__, "%s: no node %s labelled %s",
			     f == GRAPH_MERMAID ? "mermaid" : "dot", id, name);
}

/* Every machine, bridge and veth of P, in format F. */
static void check_elements(const struct plan *p, enum graph_format f, const char *text)
{
	for (size_t i = 0; i < p->n_machines; i++) {
		autofree char *id = id_of("m_", p->machines[i].name, NULL);
		check_node(text, f, id, "[", p->machines[i].name);
		/* a pod sits in its node's group */
		if (p->machines[i].kind == MACHINE_POD) {
			autofree char *gid = id_of("g_", p->machines[p->machines[i].parent].name, NULL);
			autofree char *group = group_text(text, f, gid);
			autofree char *member = f == GRAPH_MERMAID ? xasprintf("%s[", id) : xasprintf("\"%s\" [", id);
			if (!strstr(group, member))
				harness_fail(__FILE__, __LINE__, "%s not in group %s", id, gid);
		}
	}
	for (const struct step *s = plan_next(p, NULL, STEP_BRIDGE); s; s = plan_next(p, s, STEP_BRIDGE)) {
		autofree char *id = id_of("b_", p->machines[s->machine].name, s->u.bridge.name);
		check_node(text, f, id, "{{", s->u.bridge.name);
		autofree char *gid = id_of("g_", p->machines[s->machine].name, NULL);
		autofree char *group = group_text(text, f, gid);
		if (!strstr(group, id))
			harness_fail(__FILE__, __LINE__, "bridge %s not in group %s", id, gid);
	}
	for (const struct step *s = plan_next(p, NULL, STEP_VETH); s; s = plan_next(p, s, STEP_VETH)) {
		const struct step_veth *v = &s->u.veth;
		autofree char *from = v->master[0] ? id_of("b_", p->machines[s->machine].name, v->master)
						   : id_of("m_", p->machines[s->machine].name, NULL);
		autofree char *to = id_of("m_", p->machines[v->peer_machine].name, NULL);
		autofree char *a = f == GRAPH_MERMAID ? xasprintf("%s ---|\"%s", from, v->name)
						      : xasprintf("\"%s\" -> \"%s\" [dir=none, label=\"%s", from, to, v->name);
		autofree char *b = xasprintf(" — %s", v->peer_name);
		autofree char *c = f == GRAPH_MERMAID ? xasprintf("\"| %s", to) : xstrdup("\"];");
		if (!has_line(text, a, b, c))
			harness_fail(__FILE__, __LINE__, "no link %s — %s from %s to %s", v->name, v->peer_name, from, to);
	}
}

static void check_both(const struct plan *p)
{
	autofree char *m = render(p, GRAPH_MERMAID);
	autofree char *d = render(p, GRAPH_DOT);
	CHECK(strncmp(m, "flowchart LR\n", 13) == 0);
	CHECK(strstr(d, "digraph \"k\" {") != NULL);
	check_elements(p, GRAPH_MERMAID, m);
	check_elements(p, GRAPH_DOT, d);
}

TEST(graph_gateway_mode_routes_pod_cidrs_from_the_gateway)
{
	struct plan p;
	CHECK(build_cluster("gateway", &p));
	check_both(&p);
	autofree char *m = render(&p, GRAPH_MERMAID);
	autofree char *d = render(&p, GRAPH_DOT);
	CHECK(strstr(m, "%% testbed graph: lab k, routing gateway\n") != NULL);
	CHECK(strstr(d, "label=\"lab k (routing: gateway)\"") != NULL);
	/* the article's figure 3.3, with addresses on both ends of each link */
	CHECK(has_line(m, "b_node1_cbr0 ---|\"veth0 — eth0 10.0.1.2/24\"| m_pod_a", "", ""));
	CHECK(has_line(m, "b_lab_tb_underlay ---|\"tb-gw — eth0 10.10.0.1/24\"| m_gateway", "", ""));
	CHECK(has_line(m, "m_gateway -.->|\"10.0.1.0/24\"| m_node1", "", ""));
	CHECK(has_line(m, "m_gateway -.->|\"10.0.2.0/24\"| m_node2", "", ""));
	CHECK(has_line(d, "\"m_gateway\" -> \"m_node2\" [style=dotted", "label=\"10.0.2.0/24\"", ""));
	CHECK_INT(count(m, "-.->"), 2); /* default routes are not drawn */
	/* the lab's internet hangs off the gateway: seven links, then the two paths */
	CHECK(has_line(m, "m_gateway ---|\"x0 10.10.0.1/32 — eth0 203.0.113.2/32\"| m_internet", "", ""));
	CHECK(strstr(m, "linkStyle 7,8 ") != NULL);
	CHECK(strstr(m, "vxlan") == NULL);
	CHECK(strstr(d, "vxlan") == NULL);
	plan_free(&p);
}

TEST(graph_host_gw_mode_routes_pod_cidrs_between_nodes)
{
	struct plan p;
	CHECK(build_cluster("host-gw", &p));
	check_both(&p);
	autofree char *m = render(&p, GRAPH_MERMAID);
	autofree char *d = render(&p, GRAPH_DOT);
	CHECK(has_line(m, "m_node1 -.->|\"10.0.2.0/24 via 10.10.0.3\"| m_node2", "", ""));
	CHECK(has_line(m, "m_node2 -.->|\"10.0.1.0/24 via 10.10.0.2\"| m_node1", "", ""));
	CHECK(has_line(d, "\"m_node1\" -> \"m_node2\" [style=dotted", "label=\"10.0.2.0/24 via 10.10.0.3\"", ""));
	CHECK_INT(count(m, "-.->"), 2);
	CHECK(strstr(m, "m_gateway -.->") == NULL);
	CHECK(strstr(m, "vxlan") == NULL);
	CHECK(strstr(d, "vxlan") == NULL);
	plan_free(&p);
}

TEST(graph_vxlan_mode_shows_tunnel_ends_and_the_tunnel)
{
	struct plan p;
	CHECK(build_cluster("vxlan", &p));
	check_both(&p);
	autofree char *m = render(&p, GRAPH_MERMAID);
	autofree char *d = render(&p, GRAPH_DOT);
	/* flannel.1 inside its node's group, with the VTEP address */
	autofree char *g1 = group_text(m, GRAPH_MERMAID, "g_node1");
	CHECK(strstr(g1, "v_node1_flannel_1([\"flannel.1<br/>vxlan 10.0.1.0/32\"])") != NULL);
	autofree char *c2 = group_text(d, GRAPH_DOT, "g_node2");
	CHECK(strstr(c2, "\"v_node2_flannel_1\" [") != NULL);
	/* one tunnel for the one pair of nodes, dashed */
	CHECK(has_line(m, "v_node1_flannel_1 -.-|\"vxlan VNI 1 udp/8472\"| v_node2_flannel_1", "", ""));
	CHECK_INT(count(m, "vxlan VNI 1 udp/8472"), 1);
	CHECK(has_line(d, "\"v_node1_flannel_1\" -> \"v_node2_flannel_1\" [dir=none, style=dashed",
		       "label=\"vxlan VNI 1 udp/8472\"", ""));
	CHECK(has_line(m, "m_node1 -.->|\"10.0.2.0/24 via flannel.1\"| m_node2", "", ""));
	CHECK(has_line(m, "m_node2 -.->|\"10.0.1.0/24 via flannel.1\"| m_node1", "", ""));
	CHECK(has_line(d, "\"m_node2\" -> \"m_node1\" [style=dotted", "label=\"10.0.1.0/24 via flannel.1\"", ""));
	/* seven links (the internet's among them), then the tunnel, then the two paths */
	CHECK(strstr(m, "linkStyle 7 ") != NULL);
	CHECK(strstr(m, "linkStyle 8,9 ") != NULL);
	plan_free(&p);
}

TEST(graph_vxlan_tunnels_join_every_pair_of_nodes_with_fdb_entries)
{
	struct plan p;
	CHECK(fixture_plan("{\"name\": \"k\", " IMAGES ", \"cluster\": {\"routing\": \"vxlan\"}, \"nodes\": [{\"name\": "
		    "\"n1\"}, {\"name\": \"n2\"}, {\"name\": \"n3\"}]}",
		    &p));
	autofree char *m = render(&p, GRAPH_MERMAID);
	CHECK_INT(count(m, "vxlan VNI 1 udp/8472"), 3);
	CHECK(strstr(m, "v_n1_flannel_1 -.-|\"vxlan VNI 1 udp/8472\"| v_n3_flannel_1") != NULL);
	CHECK(strstr(m, "v_n2_flannel_1 -.-|\"vxlan VNI 1 udp/8472\"| v_n3_flannel_1") != NULL);
	/* without n3's entry for n1 only that tunnel goes */
	for (size_t i = 0; i < p.n_steps; i++)
		if (p.steps[i].kind == STEP_FDB && p.steps[i].machine == plan_find(&p, "n3") &&
		    p.steps[i].u.fdb.dst == p.machines[plan_find(&p, "n1")].address)
			p.steps[i].u.fdb.dst = 0;
	autofree char *m2 = render(&p, GRAPH_MERMAID);
	CHECK_INT(count(m2, "vxlan VNI 1 udp/8472"), 2);
	CHECK(strstr(m2, "v_n1_flannel_1 -.-|\"vxlan VNI 1 udp/8472\"| v_n3_flannel_1") == NULL);
	plan_free(&p);
}

TEST(graph_hosts_bridges_and_veth_pairs)
{
	struct plan p;
	CHECK(fixture_plan("{\"name\": \"k\", " IMAGES ", \"bridges\": [{\"name\": \"br0\"}], \"hosts\": [{\"name\": "
		    "\"net0\", \"interfaces\": {\"eth0\": \"10.0.1.2/24\"}}, {\"name\": \"net1\", \"interfaces\": "
		    "{\"veth1\": \"10.0.2.3/24\"}}, {\"name\": \"net2\", \"interfaces\": {\"veth2\": \"10.0.2.4/24\"}}], "
		    "\"links\": [[\"br0\", \"net0:eth0\"], [\"net1:veth1\", \"net2:veth2\"]]}",
		    &p));
	check_both(&p);
	autofree char *m = render(&p, GRAPH_MERMAID);
	autofree char *d = render(&p, GRAPH_DOT);
	/* the lab namespace groups its bridge; hosts stand alone */
	autofree char *lab = group_text(m, GRAPH_MERMAID, "g_lab");
	CHECK(strstr(lab, "m_lab[\"lab<br/>lab\"]") != NULL);
	CHECK(strstr(lab, "b_lab_br0{{\"br0<br/>bridge\"}}") != NULL);
	CHECK(strstr(lab, "m_net0") == NULL);
	CHECK(strstr(m, "subgraph g_net0") == NULL);
	CHECK(strstr(m, "m_net0[\"net0<br/>host 10.0.1.2\"]") != NULL);
	CHECK(has_line(m, "b_lab_br0 ---|\"tb-l0 — eth0 10.0.1.2/24\"| m_net0", "", ""));
	/* a pair straight between two namespaces: addresses on both ends */
	CHECK(has_line(m, "m_net1 ---|\"veth1 10.0.2.3/24 — veth2 10.0.2.4/24\"| m_net2", "", ""));
	CHECK(has_line(d, "\"m_net1\" -> \"m_net2\" [dir=none, label=\"veth1 10.0.2.3/24 — veth2 10.0.2.4/24\"];", "",
		       ""));
	CHECK(strstr(m, "-.-") == NULL); /* no routes, no tunnels */
	CHECK(strstr(m, "linkStyle") == NULL);
	plan_free(&p);
}

TEST(graph_quotes_names_with_dashes)
{
	struct plan p;
	CHECK(build_cluster("gateway", &p));
	autofree char *m = render(&p, GRAPH_MERMAID);
	autofree char *d = render(&p, GRAPH_DOT);
	CHECK(strstr(m, "\n    m_pod_a[\"pod-a<br/>pod 10.0.1.2\"]\n") != NULL);
	CHECK(strstr(m, "b_lab_tb_underlay{{\"tb-underlay<br/>bridge\"}}") != NULL);
	CHECK(strstr(d, "\n    \"m_pod_a\" [shape=box, label=\"pod-a\\npod 10.0.1.2\"];\n") != NULL);
	CHECK(strstr(d, "\"b_lab_tb_underlay\" [") != NULL);
	CHECK(strstr(m, "pod-a[") == NULL && strstr(m, "tb-underlay{") == NULL); /* never a raw name as an id */
	CHECK(strstr(d, " pod-a ") == NULL && strstr(d, "\"pod-a\" [") == NULL);
	plan_free(&p);
}

/* Names no topology would pass, in a plan as a saved one could hold
 * them: every id stays a plain identifier, unique, and labels escaped. */
TEST(graph_ids_are_unique_and_labels_escaped_for_any_name)
{
	struct plan p = {.lab = xstrdup("q\"x")};
	size_t lab = plan_add_machine(&p, &(struct plan_machine){.kind = MACHINE_LAB, .name = "lab", .parent = PLAN_NONE});
	size_t h = plan_add_machine(&p, &(struct plan_machine){.kind = MACHINE_HOST, .name = "h.1", .parent = PLAN_NONE});
	const char *bridges[] = {"br-0", "br.0", "br_0", "b\"<x>#|&`\\"};
	for (size_t i = 0; i < ARRAY_SIZE(bridges); i++)
		snprintf(plan_add_step(&p, STEP_BRIDGE, lab, NULL)->u.bridge.name, PLAN_IFNAME, "%s", bridges[i]);
	struct step *s = plan_add_step(&p, STEP_VETH, lab, NULL);
	snprintf(s->u.veth.name, PLAN_IFNAME, "l\"0");
	snprintf(s->u.veth.master, PLAN_IFNAME, "%s", bridges[3]);
	snprintf(s->u.veth.peer_name, PLAN_IFNAME, "e<0>");
	s->u.veth.peer_machine = h;

	autofree char *m = render(&p, GRAPH_MERMAID);
	autofree char *d = render(&p, GRAPH_DOT);
	CHECK(strstr(m, "b_lab_br_0{{\"br-0<br/>bridge\"}}") != NULL);
	CHECK(strstr(m, "b_lab_br_0_2{{\"br.0<br/>bridge\"}}") != NULL);
	CHECK(strstr(m, "b_lab_br_0_3{{\"br_0<br/>bridge\"}}") != NULL);
	CHECK(strstr(m, "b_lab_b__x______{{\"b#quot;#lt;x#gt;#35;#124;#amp;#96;\\<br/>bridge\"}}") != NULL);
	CHECK(strstr(m, "m_h_1[\"h.1<br/>host\"]") != NULL);
	CHECK(strstr(m, "b_lab_b__x______ ---|\"l#quot;0 — e#lt;0#gt;\"| m_h_1") != NULL);
	CHECK(strstr(m, "%% testbed graph: lab q#quot;x, routing gateway\n") != NULL);
	CHECK(strstr(d, "\"b_lab_br_0_2\" [shape=hexagon") != NULL);
	CHECK(strstr(d, "label=\"b\\\"<x>#|&amp;`\\\\\\nbridge\"") != NULL);
	CHECK(strstr(d, "\"b_lab_b__x______\" -> \"m_h_1\" [dir=none, label=\"l\\\"0 — e<0>\"];") != NULL);
	CHECK(strstr(d, "digraph \"q\\\"x\" {") != NULL);
	/* In mermaid, a '"' only ever opens or closes a label: two per line
	 * that has one, never three. */
	for (const char *line = m; *line;) {
		const char *end = strchr(line, '\n');
		size_t quotes = 0;
		for (const char *c = line; c < end; c++)
			quotes += *c == '"';
		if (quotes != 0 && quotes != 2)
			harness_fail(__FILE__, __LINE__, "%zu quotes in: %.*s", quotes, (int)(end - line), line);
		line = end + 1;
	}
	plan_free(&p);
}

/* make test-asan runs these tests too, two or three times slower: time
 * bounds stretch by this much there (gcc says ASan one way, clang another). */
#if defined(__SANITIZE_ADDRESS__)
#define SLOWDOWN 5
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLOWDOWN 5
#endif
#endif
#ifndef SLOWDOWN
#define SLOWDOWN 1
#endif

static int by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The ids of every node and group a mermaid graph defines: the word that
 * starts a line (after "subgraph ") and is followed by its shape. Edges,
 * keywords and styles have a space or nothing there instead. */
static char **mermaid_ids(const char *text, size_t *n)
{
	char **ids = NULL;
	size_t cap = 0;
	*n = 0;
	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n'), *s = line + strspn(line, " ");
		if (str_has_prefix(s, "subgraph "))
			s += strlen("subgraph ");
		size_t len = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
		if (len && strchr("[{(", s[len])) {
			grow_array((void **)&ids, &cap, *n + 1, sizeof(*ids));
			ids[(*n)++] = strndup(s, len);
		}
		line = end ? end + 1 : NULL;
	}
	return ids;
}

/* Names that only differ in what an id cannot hold, or that look like an
 * id's _N suffix, met each other in a scan of every id for every suffix
 * tried: 8,000 bridges took minutes. Now 10,000 names (bridges and
 * machines) take under a tenth of a second per format, and keep the
 * scheme: the plain id for the first name, then the smallest free _N, in
 * the order ids are made. The bound is the issue's: under a second. */
TEST(graph_ids_for_10000_colliding_names_are_distinct_and_fast)
{
	enum { LOOKALIKES = 2500, VARIANTS = 6500, HOSTS = 1000 };
	static const char sep[] = ".-_";
	struct plan p = {.lab = xstrdup("k")};
	plan_add_machine(&p, &(struct plan_machine){.kind = MACHINE_LAB, .name = "lab", .parent = PLAN_NONE});
	/* h then 7 separators: all m_h_______ */
	for (unsigned i = 0; i < HOSTS; i++) {
		char name[9] = "h";
		for (unsigned k = 0, v = i; k < 7; k++, v /= 3)
			name[1 + k] = sep[v % 3];
		plan_add_machine(&p, &(struct plan_machine){.kind = MACHINE_HOST, .name = name, .parent = PLAN_NONE});
	}
	/* x_________2 ... x_________2501 take b_lab_x________'s suffixed ids
	 * first; then x and 8 separators, all b_lab_x________ */
	for (unsigned i = 0; i < LOOKALIKES; i++)
		snprintf(plan_add_step(&p, STEP_BRIDGE, 0, NULL)->u.bridge.name, PLAN_IFNAME, "x_________%u", i + 2);
	for (unsigned i = 0; i < VARIANTS; i++) {
		char *name = plan_add_step(&p, STEP_BRIDGE, 0, NULL)->u.bridge.name;
		name[0] = 'x';
		for (unsigned k = 0, v = i; k < 8; k++, v /= 3)
			name[1 + k] = sep[v % 3];
		name[9] = '\0';
	}
	/* an earlier name already took this one's plain id */
	snprintf(plan_add_step(&p, STEP_BRIDGE, 0, NULL)->u.bridge.name, PLAN_IFNAME, "x_________3");

	long long start = now_ms();
	autofree char *m = render(&p, GRAPH_MERMAID);
	long long took_mermaid = now_ms() - start;
	start = now_ms();
	autofree char *d = render(&p, GRAPH_DOT);
	long long took_dot = now_ms() - start;
	CHECK(took_mermaid < 1000 * SLOWDOWN);
	CHECK(took_dot < 1000 * SLOWDOWN);

	/* every machine, group and bridge, each its own id */
	size_t n;
	char **ids = mermaid_ids(m, &n);
	CHECK_INT(n, 1 + HOSTS + 1 + LOOKALIKES + VARIANTS + 1);
	if (n)
		qsort(ids, n, sizeof(*ids), by_string);
	for (size_t i = 1; i < n; i++)
		if (strcmp(ids[i - 1], ids[i]) == 0)
			harness_fail(__FILE__, __LINE__, "id %s twice", ids[i]);
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);

	/* the same ids each time, in both formats, as the scheme gives them */
	autofree char *again = render(&p, GRAPH_MERMAID);
	CHECK_STR(again, m);
	CHECK(strstr(m, "\n  m_h_______[\"h.......<br/>host\"]\n") != NULL);
	CHECK(strstr(m, "\n  m_h________2[\"h-......<br/>host\"]\n") != NULL);
	CHECK(strstr(m, "\n  m_h________1000[\"") != NULL);
	CHECK(strstr(m, "\n  subgraph g_lab[\"lab\"]\n") != NULL);
	CHECK(strstr(m, "\n    b_lab_x_________2{{\"x_________2<br/>bridge\"}}") != NULL);
	CHECK(strstr(m, "\n    b_lab_x_________2501{{\"x_________2501<br/>bridge\"}}") != NULL);
	CHECK(strstr(m, "\n    b_lab_x________{{\"x........<br/>bridge\"}}") != NULL);
	CHECK(strstr(m, "\n    b_lab_x_________2502{{\"x-.......<br/>bridge\"}}") != NULL);
	CHECK(strstr(m, "\n    b_lab_x_________9000{{\"") != NULL);
	CHECK(strstr(m, "\n    b_lab_x_________3_2{{\"x_________3<br/>bridge\"}}") != NULL);
	CHECK(strstr(d, "\n    \"b_lab_x_________9000\" [shape=hexagon") != NULL);
	CHECK(strstr(d, "\n    \"b_lab_x_________3_2\" [shape=hexagon") != NULL);
	plan_free(&p);
}

/* Pods outside "default": a group per namespace inside each node's. */
TEST(graph_groups_pods_by_namespace_when_the_lab_has_namespaces)
{
	struct plan p;
	CHECK(build_cluster("gateway", &p));
	/* pod-a and pod-c in namespace shop, b in default, as Namespace objects make them. */
	for (size_t i = 0; i < p.n_machines; i++)
		if (p.machines[i].kind == MACHINE_POD && strcmp(p.machines[i].name, "b") != 0) {
			free(p.machines[i].namespace);
			p.machines[i].namespace = xstrdup("shop");
		}
	autofree char *m = render(&p, GRAPH_MERMAID);
	autofree char *d = render(&p, GRAPH_DOT);
	CHECK(strstr(m, "  subgraph g_node1[\"node1\"]\n"
			"    m_node1[\"node1<br/>node 10.10.0.2\"]\n"
			"    b_node1_cbr0{{\"cbr0<br/>bridge 10.0.1.1/24\"}}:::bridge\n"
			"    subgraph ns_node1_shop[\"shop\"]\n"
			"      m_pod_a[\"pod-a<br/>pod 10.0.1.2\"]\n"
			"    end\n"
			"    subgraph ns_node1_default[\"default\"]\n"
			"      m_b[\"b<br/>pod 10.0.1.3\"]\n"
			"    end\n"
			"  end\n") != NULL);
	CHECK(strstr(m, "    subgraph ns_node2_shop[\"shop\"]\n      m_pod_c[") != NULL);
	CHECK(strstr(d, "    subgraph \"cluster_ns_node1_shop\" {\n      label=\"shop\"; style=rounded; color=\"#888888\";\n"
			"      \"m_pod_a\" [shape=box, label=\"pod-a\\npod 10.0.1.2\"];\n    }\n") != NULL);
	/* Edges still reach the pods themselves. */
	CHECK(has_line(m, "b_node1_cbr0 ---|", "| m_pod_a", ""));
	plan_free(&p);
	/* Only "default": no namespace groups, as before. */
	CHECK(build_cluster("gateway", &p));
	autofree char *plain = render(&p, GRAPH_MERMAID);
	CHECK(strstr(plain, "subgraph ns_") == NULL);
	plan_free(&p);
}

TEST(graph_draws_the_gateway_s_routes_to_a_service_s_addresses_to_every_node_announcing_them)
{
	struct plan p;
	CHECK(fixture_plan(
		"{\"name\": \"k\", " IMAGES ", \"nodes\": [{\"name\": \"node1\"}, {\"name\": \"node2\"}], \"objects\": ["
		"{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"web\", \"labels\": {\"app\": \"web\"}}, "
		"\"spec\": {\"nodeName\": \"node2\", \"containers\": [{\"name\": \"c\", \"image\": \"x\", \"ports\": "
		"[{\"containerPort\": 80}]}]}}, "
		"{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"lb\"}, \"spec\": {\"type\": "
		"\"LoadBalancer\", \"selector\": {\"app\": \"web\"}, \"ports\": [{\"port\": 80}], \"externalIPs\": "
		"[\"198.51.100.9\"]}, \"status\": {\"loadBalancer\": {\"ingress\": [{\"ip\": \"192.0.2.10\"}]}}}, "
		"{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"local\"}, \"spec\": {\"type\": "
		"\"LoadBalancer\", \"externalTrafficPolicy\": \"Local\", \"selector\": {\"app\": \"web\"}, \"ports\": "
		"[{\"port\": 80}]}, \"status\": {\"loadBalancer\": {\"ingress\": [{\"ip\": \"192.0.2.11\"}]}}}]}",
		&p));
	check_both(&p);
	autofree char *m = render(&p, GRAPH_MERMAID);
	CHECK(has_line(m, "m_gateway -.->|\"192.0.2.10 default/lb\"| m_node1", "", ""));
	CHECK(has_line(m, "m_gateway -.->|\"192.0.2.10 default/lb\"| m_node2", "", ""));
	CHECK(has_line(m, "m_gateway -.->|\"198.51.100.9 default/lb\"| m_node2", "", ""));
	/* Local: only node2 has an endpoint of its own. */
	CHECK(has_line(m, "m_gateway -.->|\"192.0.2.11 default/local\"| m_node2", "", ""));
	CHECK_INT(count(m, "192.0.2.11"), 1);
	plan_free(&p);
}
