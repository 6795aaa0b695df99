/* testbed graph: the lab as a picture, drawn from its plan alone.
 *
 * Machines are boxes. A machine that holds anything (bridges, vxlan
 * devices, or nested machines: a node's pods) gets a group around it, a
 * mermaid subgraph or a Graphviz cluster, so a node shows with its cbr0
 * and its pods, and the lab namespace with the underlay switch. Where the
 * lab has pods outside "default", a node's pods are grouped again by
 * namespace, a group inside the node's for each. Edges come
 * in three kinds, written in this order:
 *   links    every veth pair, from the bridge its end is a port of (or its
 *            machine) to the peer machine, labelled with both interface
 *            names and their addresses (solid);
 *   tunnels  pairs of vxlan devices with FDB entries for each other (dashed);
 *   paths    the routes that carry pod CIDRs from one machine to another,
 *            as the routing mode sets them up (dotted, directed).
 * Ids come from names, made safe for mermaid and unique; every label goes
 * through put_text, which escapes it for the format at hand. */
#define _GNU_SOURCE
#include "plan/graph.h"

#include <search.h>
#include <string.h>

#include "util/util.h"

enum edge_kind { EDGE_LINK, EDGE_TUNNEL, EDGE_PATH };

struct shape {
	const char *open, *close, *mermaid_class; /* mermaid: id OPEN"label"CLOSE:::CLASS */
	const char *dot;                          /* Graphviz attributes */
};

static const struct shape machine_shape = {"[", "]", NULL, "shape=box"};
static const struct shape bridge_shape = {"{{", "}}", "bridge", "shape=hexagon, style=filled, fillcolor=\"#e8f0fe\""};
static const struct shape vtep_shape = {"([", "])", "vtep", "shape=ellipse, style=dashed"};

struct graph {
	FILE *out;
	enum graph_format f;
	const struct plan *p;
	void *ids; /* every id handed out (struct id, a tsearch tree): they own the strings below */
	const char **machine_id, **group_id; /* per machine */
	const char **step_id;                /* per step: bridges and vxlan devices, else NULL */
	int indent; /* of nodes: deeper inside a group */
	/* mermaid styles edges by their position, so it counts them */
	size_t n_edges, first_tunnel, first_path;
};

/* ---- ids and text ---- */

static bool id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* An id, and the suffix to try next when its name comes again. */
struct id {
	unsigned next;
	char text[];
};

static int by_text(const void *a, const void *b)
{
	return strcmp(((const struct id *)a)->text, ((const struct id *)b)->text);
}

/* The id TEXT, added unless it was there: *ADDED says which. A tree, not
 * hsearch_r: glibc's hash keeps only the first few characters, which ids
 * share ("b_lab_..."). */
static struct id *id_add(struct graph *g, const char *text, bool *added)
{
	size_t len = strlen(text) + 1;
	struct id *id = xmalloc(sizeof(*id) + len);
	id->next = 2;
	memcpy(id->text, text, len);
	struct id **node = tsearch(id, &g->ids, by_text);
	if (!node)
		out_of_memory();
	*added = *node == id;
	if (!*added)
		free(id);
	return *node;
}

/* PREFIX, A and B joined by '_', with every character mermaid would not
 * take in an id turned into '_': "pod-a" gives m_pod_a. Names that only
 * differ there ("br-0", "br.0") would meet, so a taken id gets the
 * smallest free _2, _3... The plain id keeps the next suffix to try: the
 * ones below were taken, and ids stay taken. Trying each from _2 again,
 * through a list of every id, made n names that meet take n^3 steps; now
 * each id is stepped past at most once. */
static const char *make_id(struct graph *g, const char *prefix, const char *a, const char *b)
{
	autofree char *base = xasprintf("%s%s%s%s", prefix, a, b ? "_" : "", b ? b : "");
	for (char *c = base + strlen(prefix); *c; c++)
		if (!id_char(*c))
			*c = '_';
	bool added;
	struct id *plain = id_add(g, base, &added), *id = plain;
	while (!added) {
		autofree char *suffixed = xasprintf("%s_%u", base, plain->next++);
		id = id_add(g, suffixed, &added);
	}
	return id->text;
}

/* What C becomes inside a quoted label, or NULL: itself. '\n' breaks the
 * line. Mermaid: its entity codes for what would end the label or be read
 * as HTML or markdown. Graphviz: a backslash before '"' and '\' (a lone
 * one starts an escape such as \N), and '&' as an entity, since Graphviz
 * decodes entities even in plain labels. */
static const char *escape(enum graph_format f, char c)
{
	if (f == GRAPH_MERMAID) {
		switch (c) {
		case '\n': return "<br/>";
		case '"': return "#quot;";
		case '#': return "#35;";
		case '&': return "#amp;";
		case '<': return "#lt;";
		case '>': return "#gt;";
		case '|': return "#124;";
		case '`': return "#96;";
		}
		return NULL;
	}
	switch (c) {
	case '\n': return "\\n";
	case '"': return "\\\"";
	case '\\': return "\\\\";
	case '&': return "&amp;";
	}
	return NULL;
}

/* S inside a quoted label. Other control characters would break either
 * format: spaces. */
static void put_text(const struct graph *g, const char *s)
{
	for (; *s; s++) {
		const char *e = escape(g->f, *s);
		if (e)
			fputs(e, g->out);
		else
			fputc((unsigned char)*s < ' ' || *s == 0x7f ? ' ' : *s, g->out);
	}
}

/* " 10.0.1.2/24" for each address the plan puts on IFNAME in MACHINE. */
static char *addresses(const struct plan *p, size_t machine, const char *ifname)
{
	char *s = xstrdup("");
	for (const struct step *a = plan_next(p, NULL, STEP_ADDRESS); a; a = plan_next(p, a, STEP_ADDRESS)) {
		if (a->machine != machine || strcmp(a->u.address.ifname, ifname) != 0)
			continue;
		char buf[IPV4_PREFIX_STRLEN];
		char *more = xasprintf("%s %s", s, ipv4_prefix_format(a->u.address.prefix, buf));
		free(s);
		s = more;
	}
	return s;
}

/* ---- nodes and edges in either format ---- */

static void put_node(struct graph *g, const char *id, const struct shape *sh, const char *label)
{
	if (g->f == GRAPH_MERMAID) {
		fprintf(g->out, "%*s%s%s\"", g->indent, "", id, sh->open);
		put_text(g, label);
		fprintf(g->out, "\"%s%s%s\n", sh->close, sh->mermaid_class ? ":::" : "",
			sh->mermaid_class ? sh->mermaid_class : "");
	} else {
		fprintf(g->out, "%*s\"%s\" [%s, label=\"", g->indent, "", id, sh->dot);
		put_text(g, label);
		fputs("\"];\n", g->out);
	}
}

static void put_edge(struct graph *g, enum edge_kind k, const char *from, const char *to, const char *label)
{
	static const char *const mermaid[] = {[EDGE_LINK] = "---", [EDGE_TUNNEL] = "-.-", [EDGE_PATH] = "-.->"};
	/* Tunnels and paths stay out of the ranking, so that the layout
	 * follows the wires. */
	static const char *const dot[] = {
		[EDGE_LINK] = "dir=none",
		[EDGE_TUNNEL] = "dir=none, style=dashed, color=\"#1f6fb4\", fontcolor=\"#1f6fb4\", constraint=false",
		[EDGE_PATH] = "style=dotted, penwidth=1.5, color=\"#c0392b\", fontcolor=\"#c0392b\", constraint=false",
	};
	if (g->f == GRAPH_MERMAID) {
		fprintf(g->out, "  %s %s|\"", from, mermaid[k]);
		put_text(g, label);
		fprintf(g->out, "\"| %s\n", to);
	} else {
		fprintf(g->out, "  \"%s\" -> \"%s\" [%s, label=\"", from, to, dot[k]);
		put_text(g, label);
		fputs("\"];\n", g->out);
	}
	g->n_edges++;
}

/* ---- one function per element kind ---- */

static void machine_node(struct graph *g, size_t m)
{
	const struct plan_machine *pm = &g->p->machines[m];
	char buf[IPV4_PREFIX_STRLEN];
	autofree char *label = xasprintf("%s\n%s%s%s", pm->name, machine_kind_name(pm->kind), pm->address ? " " : "",
					 pm->address ? ipv4_addr_format(pm->address, buf) : "");
	put_node(g, g->machine_id[m], &machine_shape, label);
}

static void bridge_node(struct graph *g, const struct step *s)
{
	autofree char *addrs = addresses(g->p, s->machine, s->u.bridge.name);
	autofree char *label = xasprintf("%s\nbridge%s", s->u.bridge.name, addrs);
	put_node(g, g->step_id[s - g->p->steps], &bridge_shape, label);
}

static void vxlan_node(struct graph *g, const struct step *s)
{
	autofree char *addrs = addresses(g->p, s->machine, s->u.vxlan.name);
	autofree char *label = xasprintf("%s\nvxlan%s", s->u.vxlan.name, addrs);
	put_node(g, g->step_id[s - g->p->steps], &vtep_shape, label);
}

/* A machine's box followed by its bridges and vxlan devices. */
static void machine_members(struct graph *g, size_t m)
{
	machine_node(g, m);
	for (size_t i = 0; i < g->p->n_steps; i++) {
		const struct step *s = &g->p->steps[i];
		if (s->machine == m && s->kind == STEP_BRIDGE)
			bridge_node(g, s);
		else if (s->machine == m && s->kind == STEP_VXLAN)
			vxlan_node(g, s);
	}
}

static bool has_parent(const struct plan *p, size_t m)
{
	return p->machines[m].parent < p->n_machines && p->machines[m].parent != m;
}

/* Drawn inside its parent's group: one level deep (a node's pods), so
 * that a saved plan with longer chains or cycles still shows every
 * machine exactly once. */
static bool nested(const struct plan *p, size_t m)
{
	return has_parent(p, m) && !has_parent(p, p->machines[m].parent);
}

static bool has_contents(const struct graph *g, size_t m)
{
	for (size_t i = 0; i < g->p->n_steps; i++)
		if (g->p->steps[i].machine == m && (g->p->steps[i].kind == STEP_BRIDGE || g->p->steps[i].kind == STEP_VXLAN))
			return true;
	for (size_t i = 0; i < g->p->n_machines; i++)
		if (nested(g->p, i) && g->p->machines[i].parent == m)
			return true;
	return false;
}

/* Opens a group called LABEL with id ID, at the current indent. */
static void group_open(struct graph *g, const char *id, const char *label)
{
	if (g->f == GRAPH_MERMAID) {
		fprintf(g->out, "%*ssubgraph %s[\"", g->indent, "", id);
		put_text(g, label);
		fputs("\"]\n", g->out);
	} else {
		fprintf(g->out, "%*ssubgraph \"cluster_%s\" {\n%*slabel=\"", g->indent, "", id, g->indent + 2, "");
		put_text(g, label);
		fputs("\"; style=rounded; color=\"#888888\";\n", g->out);
	}
	g->indent += 2;
}

static void group_close(struct graph *g)
{
	g->indent -= 2;
	fprintf(g->out, "%*s%s\n", g->indent, "", g->f == GRAPH_MERMAID ? "end" : "}");
}

/* Does the lab have pods outside "default"? Then pods are drawn in a
 * group per namespace; a lab with none looks as it always did. */
static bool namespaced(const struct plan *p)
{
	for (size_t i = 0; i < p->n_machines; i++)
		if (p->machines[i].namespace && strcmp(p->machines[i].namespace, TB_DEFAULT_NAMESPACE) != 0)
			return true;
	return false;
}

/* Node M's pods of namespace NS (first appearing at pod FIRST), in a
 * group of their own. */
static void namespace_group(struct graph *g, size_t m, size_t first, const char *ns)
{
	const char *id = make_id(g, "ns_", g->p->machines[m].name, ns);
	group_open(g, id, ns);
	for (size_t i = first; i < g->p->n_machines; i++) {
		const struct plan_machine *pod = &g->p->machines[i];
		if (nested(g->p, i) && pod->parent == m && pod->namespace && strcmp(pod->namespace, ns) == 0)
			machine_members(g, i);
	}
	group_close(g);
}

/* A machine with its contents and its nested machines, as one group. */
static void group(struct graph *g, size_t m)
{
	group_open(g, g->group_id[m], g->p->machines[m].name);
	machine_members(g, m);
	bool by_namespace = namespaced(g->p);
	for (size_t i = 0; i < g->p->n_machines; i++) {
		const struct plan_machine *pod = &g->p->machines[i];
		if (!nested(g->p, i) || pod->parent != m)
			continue;
		if (!by_namespace || !pod->namespace) {
			machine_members(g, i);
			continue;
		}
		/* Each namespace once, where its first pod comes. */
		bool seen = false;
		for (size_t k = 0; k < i && !seen; k++)
			seen = nested(g->p, k) && g->p->machines[k].parent == m && g->p->machines[k].namespace &&
			       strcmp(g->p->machines[k].namespace, pod->namespace) == 0;
		if (!seen)
			namespace_group(g, m, i, pod->namespace);
	}
	group_close(g);
}

/* The bridge called NAME in MACHINE, else the machine itself. */
static const char *port_id(const struct graph *g, size_t machine, const char *name)
{
	for (size_t i = 0; name[0] && i < g->p->n_steps; i++) {
		const struct step *s = &g->p->steps[i];
		if (s->kind == STEP_BRIDGE && s->machine == machine && strcmp(s->u.bridge.name, name) == 0)
			return g->step_id[i];
	}
	return g->machine_id[machine];
}

static void veth_edge(struct graph *g, const struct step *s)
{
	const struct step_veth *v = &s->u.veth;
	if (v->peer_machine >= g->p->n_machines)
		return;
	autofree char *here = addresses(g->p, s->machine, v->name);
	autofree char *there = addresses(g->p, v->peer_machine, v->peer_name);
	autofree char *label = xasprintf("%s%s — %s%s", v->name, here, v->peer_name, there);
	put_edge(g, EDGE_LINK, port_id(g, s->machine, v->master), g->machine_id[v->peer_machine], label);
}

/* Does A's machine send frames for B's tunnel end to B's underlay address? */
static bool fdb_reaches(const struct plan *p, const struct step *a, const struct step *b)
{
	for (const struct step *f = plan_next(p, NULL, STEP_FDB); f; f = plan_next(p, f, STEP_FDB))
		if (f->machine == a->machine && strcmp(f->u.fdb.dev, a->u.vxlan.name) == 0 &&
		    f->u.fdb.dst == b->u.vxlan.local)
			return true;
	return false;
}

/* One edge per pair of vxlan devices that reach each other both ways. */
static void vxlan_edges(struct graph *g)
{
	const struct plan *p = g->p;
	for (const struct step *a = plan_next(p, NULL, STEP_VXLAN); a; a = plan_next(p, a, STEP_VXLAN))
		for (const struct step *b = plan_next(p, a, STEP_VXLAN); b; b = plan_next(p, b, STEP_VXLAN)) {
			if (a->machine == b->machine || !fdb_reaches(p, a, b) || !fdb_reaches(p, b, a))
				continue;
			autofree char *label =
				xasprintf("vxlan VNI %u udp/%u", (unsigned)a->u.vxlan.vni, (unsigned)a->u.vxlan.port);
			put_edge(g, EDGE_TUNNEL, g->step_id[a - p->steps], g->step_id[b - p->steps], label);
		}
}

/* The machine that holds ADDR on one of its interfaces, or PLAN_NONE. */
static size_t address_owner(const struct plan *p, uint32_t addr)
{
	for (const struct step *a = plan_next(p, NULL, STEP_ADDRESS); a; a = plan_next(p, a, STEP_ADDRESS))
		if (a->u.address.prefix.addr == addr)
			return a->machine;
	return PLAN_NONE;
}

/* A route to a pod CIDR whose next hop is another machine of the lab: the
 * routing mode's way between nodes. Default routes are left out. */
/* The Service whose load-balancer or external IP ADDR is, or NULL. */
static const struct plan_service *service_outside_at(const struct plan *p, uint32_t addr)
{
	for (size_t i = 0; i < p->n_services; i++) {
		const struct plan_service *sv = &p->services[i];
		for (size_t k = 0; k < sv->n_load_balancer_ips; k++)
			if (sv->load_balancer_ips[k] == addr)
				return sv;
		for (size_t k = 0; k < sv->n_external_ips; k++)
			if (sv->external_ips[k] == addr)
				return sv;
	}
	return NULL;
}

/* The gateway's routes to a Service's address from outside: one path to
 * each node that announces it (equal-cost next hops). */
static void service_route_edges(struct graph *g, const struct step *s, const struct plan_service *sv)
{
	const struct step_route *r = &s->u.route;
	char dst[IPV4_PREFIX_STRLEN];
	autofree char *label = xasprintf("%s %s/%s", ipv4_addr_format(r->dst.addr, dst), sv->namespace, sv->name);
	for (size_t i = 0; i <= r->n_also_via; i++) {
		size_t to = address_owner(g->p, i ? r->also_via[i - 1] : r->via);
		if (to != PLAN_NONE && to != s->machine)
			put_edge(g, EDGE_PATH, g->machine_id[s->machine], g->machine_id[to], label);
	}
}

static void route_edge(struct graph *g, const struct step *s)
{
	const struct step_route *r = &s->u.route;
	const struct plan_service *sv = r->dst.len == 32 && r->via ? service_outside_at(g->p, r->dst.addr) : NULL;
	if (sv) {
		service_route_edges(g, s, sv);
		return;
	}
	if (r->dst.len == 0 || !r->via || !ipv4_prefix_within(r->dst, g->p->pod_cidr))
		return;
	size_t to = address_owner(g->p, r->via);
	if (to == PLAN_NONE || to == s->machine)
		return;
	char dst[IPV4_PREFIX_STRLEN], via[IPV4_PREFIX_STRLEN];
	ipv4_prefix_format(r->dst, dst);
	ipv4_addr_format(r->via, via);
	autofree char *label = NULL;
	switch (g->p->routing) {
	case TB_ROUTING_GATEWAY: /* the gateway's table: the CIDR is the whole story */
		label = xstrdup(dst);
		break;
	case TB_ROUTING_HOST_GW:
		label = xasprintf("%s via %s", dst, via);
		break;
	case TB_ROUTING_VXLAN:
		label = xasprintf("%s via %s", dst, r->dev[0] ? r->dev : via);
		break;
	}
	put_edge(g, EDGE_PATH, g->machine_id[s->machine], g->machine_id[to], label ? label : dst);
}

/* ---- the whole picture ---- */

static void header(struct graph *g)
{
	const char *routing = tb_routing_name(g->p->routing);
	if (g->f == GRAPH_MERMAID) {
		fputs("flowchart LR\n%% testbed graph: lab ", g->out);
		put_text(g, g->p->lab);
		fprintf(g->out, ", routing %s\n", routing);
		fputs("  classDef bridge fill:#e8f0fe,stroke:#4a6fa5\n"
		      "  classDef vtep fill:#fff,stroke:#1f6fb4,stroke-dasharray:4 3\n",
		      g->out);
	} else {
		fputs("// testbed graph: lab ", g->out);
		put_text(g, g->p->lab);
		fprintf(g->out, ", routing %s\ndigraph \"", routing);
		put_text(g, g->p->lab);
		fputs("\" {\n  label=\"lab ", g->out);
		put_text(g, g->p->lab);
		fprintf(g->out, " (routing: %s)\"; labelloc=t; rankdir=LR;\n", routing);
	}
}

/* Mermaid styles edges by index: tunnels and paths come last, in runs. */
static void footer(struct graph *g)
{
	if (g->f == GRAPH_DOT) {
		fputs("}\n", g->out);
		return;
	}
	static const char *const style[] = {"stroke:#1f6fb4,color:#1f6fb4", "stroke:#c0392b,color:#c0392b"};
	size_t start[] = {g->first_tunnel, g->first_path}, end[] = {g->first_path, g->n_edges};
	for (size_t k = 0; k < 2; k++) {
		if (start[k] == end[k])
			continue;
		fputs("  linkStyle ", g->out);
		for (size_t i = start[k]; i < end[k]; i++)
			fprintf(g->out, "%s%zu", i > start[k] ? "," : "", i);
		fprintf(g->out, " %s\n", style[k]);
	}
}

/* Ids in a fixed order, machines first, so that they keep the plainest
 * forms when names meet. */
static void assign_ids(struct graph *g)
{
	const struct plan *p = g->p;
	g->machine_id = xcalloc(p->n_machines + 1, sizeof(*g->machine_id));
	g->group_id = xcalloc(p->n_machines + 1, sizeof(*g->group_id));
	g->step_id = xcalloc(p->n_steps + 1, sizeof(*g->step_id));
	for (size_t i = 0; i < p->n_machines; i++)
		g->machine_id[i] = make_id(g, "m_", p->machines[i].name, NULL);
	for (size_t i = 0; i < p->n_machines; i++)
		g->group_id[i] = make_id(g, "g_", p->machines[i].name, NULL);
	for (size_t i = 0; i < p->n_steps; i++) {
		const struct step *s = &p->steps[i];
		if (s->kind == STEP_BRIDGE)
			g->step_id[i] = make_id(g, "b_", p->machines[s->machine].name, s->u.bridge.name);
		else if (s->kind == STEP_VXLAN)
			g->step_id[i] = make_id(g, "v_", p->machines[s->machine].name, s->u.vxlan.name);
	}
}

void graph_write(FILE *out, enum graph_format f, const struct plan *p)
{
	struct graph g = {.out = out, .f = f, .p = p, .indent = 2};
	assign_ids(&g);
	header(&g);
	for (size_t m = 0; m < p->n_machines; m++) {
		if (nested(p, m))
			continue;
		if (has_contents(&g, m))
			group(&g, m);
		else
			machine_node(&g, m);
	}
	for (const struct step *s = plan_next(p, NULL, STEP_VETH); s; s = plan_next(p, s, STEP_VETH))
		veth_edge(&g, s);
	g.first_tunnel = g.n_edges;
	vxlan_edges(&g);
	g.first_path = g.n_edges;
	for (const struct step *s = plan_next(p, NULL, STEP_ROUTE); s; s = plan_next(p, s, STEP_ROUTE))
		route_edge(&g, s);
	footer(&g);
	tdestroy(g.ids, free);
	free(g.machine_id);
	free(g.group_id);
	free(g.step_id);
}
