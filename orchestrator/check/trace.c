/* Packet traces from the kernel's own tables. */
#define _GNU_SOURCE
#include "check/trace.h"

#include <linux/rtnetlink.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "steps/step.h"
#include "util/util.h"

/* The veth step with an end called IFNAME in MACHINE, and which end (0:
 * the step's own machine, 1: its peer). */
static const struct step *find_veth(const struct plan *p, size_t machine, const char *ifname, int *end)
{
	for (const struct step *s = plan_next(p, NULL, STEP_VETH); s; s = plan_next(p, s, STEP_VETH)) {
		if (s->machine == machine && strcmp(s->u.veth.name, ifname) == 0) {
			*end = 0;
			return s;
		}
		if (s->u.veth.peer_machine == machine && strcmp(s->u.veth.peer_name, ifname) == 0) {
			*end = 1;
			return s;
		}
	}
	return NULL;
}

static bool is_bridge(const struct plan *p, size_t machine, const char *name)
{
	for (const struct step *s = plan_next(p, NULL, STEP_BRIDGE); s; s = plan_next(p, s, STEP_BRIDGE))
		if (s->machine == machine && strcmp(s->u.bridge.name, name) == 0)
			return true;
	return false;
}

static const struct step *find_vxlan(const struct plan *p, size_t machine, const char *name)
{
	for (const struct step *s = plan_next(p, NULL, STEP_VXLAN); s; s = plan_next(p, s, STEP_VXLAN))
		if (s->machine == machine && strcmp(s->u.vxlan.name, name) == 0)
			return s;
	return NULL;
}

/* The machine holding ADDR on IFNAME ("" for any interface), or PLAN_NONE. */
static size_t owner_of(const struct plan *p, uint32_t addr, size_t machine_only, const char *ifname)
{
	for (const struct step *s = plan_next(p, NULL, STEP_ADDRESS); s; s = plan_next(p, s, STEP_ADDRESS)) {
		const struct step_address *a = &s->u.address;
		if (a->prefix.addr == addr && (machine_only == PLAN_NONE || s->machine == machine_only) &&
		    (!*ifname || strcmp(a->ifname, ifname) == 0))
			return s->machine;
	}
	return PLAN_NONE;
}

static void append(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

/* From the bridge BRIDGE in MACHINE, where does a frame for NEXT_HOP go?
 * To the bridge's own namespace when the bridge holds that address, else
 * out of the port whose far end holds it. Appends the way to PATH. */
static size_t through_bridge(const struct plan *p, size_t machine, const char *bridge, uint32_t next_hop, char *path,
			     size_t size)
{
	append(path, size, " -> bridge %s (%s)", bridge, p->machines[machine].name);
	if (owner_of(p, next_hop, machine, bridge) != PLAN_NONE)
		return machine;
	for (const struct step *s = plan_next(p, NULL, STEP_VETH); s; s = plan_next(p, s, STEP_VETH)) {
		const struct step_veth *v = &s->u.veth;
		if (s->machine != machine || strcmp(v->master, bridge) != 0)
			continue;
		if (owner_of(p, next_hop, v->peer_machine, v->peer_name) == PLAN_NONE)
			continue;
		append(path, size, " -> %s %s -> %s %s", p->machines[machine].name, v->name,
		       p->machines[v->peer_machine].name, v->peer_name);
		return v->peer_machine;
	}
	return PLAN_NONE;
}

/* Through the vxlan device DEV in MACHINE towards NEXT_HOP: the tunnel end's
 * MAC from the neighbour table (as the kernel resolved it, HOP), the FDB
 * entry that sends that MAC to a node's underlay address, and that node. */
static size_t through_vxlan(const struct plan *p, size_t machine, const struct step *vx, const struct trace_hop *hop,
			    struct trace_hop *wire)
{
	const char *mac = hop->neighbour.resolved ? hop->neighbour.mac : NULL;
	for (const struct step *s = plan_next(p, NULL, STEP_NEIGH); !mac && s; s = plan_next(p, s, STEP_NEIGH))
		if (s->machine == machine && strcmp(s->u.neigh.dev, vx->u.vxlan.name) == 0)
			for (size_t i = 0; !mac && i < s->u.neigh.n_entries; i++)
				if (s->u.neigh.entries[i].address == hop->next_hop)
					mac = s->u.neigh.entries[i].mac;
	for (const struct step *s = plan_next(p, NULL, STEP_FDB); mac && s; s = plan_next(p, s, STEP_FDB)) {
		if (s->machine != machine || strcmp(s->u.fdb.dev, vx->u.vxlan.name) != 0 || strcasecmp(s->u.fdb.mac, mac) != 0)
			continue;
		for (const struct step *r = plan_next(p, NULL, STEP_VXLAN); r; r = plan_next(p, r, STEP_VXLAN)) {
			if (r->u.vxlan.local != s->u.fdb.dst || r->u.vxlan.vni != vx->u.vxlan.vni)
				continue;
			char src[IPV4_PREFIX_STRLEN], dst[IPV4_PREFIX_STRLEN];
			wire->vxlan = true;
			wire->vni = vx->u.vxlan.vni;
			wire->port = vx->u.vxlan.port;
			wire->outer_src = vx->u.vxlan.local;
			wire->outer_dst = s->u.fdb.dst;
			append(wire->path, sizeof(wire->path), " -> vxlan %u: UDP %s -> %s:%u over %s -> %s %s", wire->vni,
			       ipv4_addr_format(wire->outer_src, src), ipv4_addr_format(wire->outer_dst, dst), wire->port,
			       vx->u.vxlan.dev, p->machines[r->machine].name, r->u.vxlan.name);
			return r->machine;
		}
	}
	return PLAN_NONE;
}

/* Across the wire out of HOP's device towards its next hop: the namespace
 * that receives the packet, or PLAN_NONE. */
static size_t across(const struct plan *p, size_t machine, const struct trace_hop *hop, struct trace_hop *wire)
{
	char *path = wire->path;
	size_t size = sizeof(wire->path);
	const char *dev = hop->dev;
	path[0] = '\0';
	if (is_bridge(p, machine, dev)) {
		append(path, size, "%s", p->machines[machine].name);
		return through_bridge(p, machine, dev, hop->next_hop, path, size);
	}
	const struct step *vx = find_vxlan(p, machine, dev);
	if (vx) {
		append(path, size, "%s %s", p->machines[machine].name, dev);
		return through_vxlan(p, machine, vx, hop, wire);
	}
	int end;
	const struct step *s = find_veth(p, machine, dev, &end);
	if (!s)
		return PLAN_NONE;
	const struct step_veth *v = &s->u.veth;
	size_t peer = end == 0 ? v->peer_machine : s->machine;
	append(path, size, "%s %s -> %s %s", p->machines[machine].name, dev, p->machines[peer].name,
	       end == 0 ? v->peer_name : v->name);
	/* Bridge ports are always the step's own end of their pair. */
	if (end == 1 && v->master[0])
		return through_bridge(p, peer, v->master, hop->next_hop, path, size);
	return peer;
}

int trace_run(const struct live_lab *l, size_t from, uint32_t dst, struct trace *t, struct tb_err *e)
{
	*t = (struct trace){.from = from, .dst = dst};
	const struct plan *p = &l->plan;
	size_t cur = from;
	while (t->n_hops + 2 <= TRACE_MAX_HOPS) {
		struct trace_hop *hop = &t->hops[t->n_hops++];
		*hop = (struct trace_hop){.machine = cur};
		if (l->netns[cur] < 0) {
			hop->kind = HOP_DROP;
			snprintf(hop->reason, sizeof(hop->reason), "%s is not running", p->machines[cur].name);
			return 0;
		}
		/* The route lookup gets a socket of its own: libnl's request and
		 * answer bookkeeping differs between it and the cache queries. */
		struct nl_sock *sk = nl_open_in(l->netns[cur], e);
		if (!sk)
			return tb_context(e, "%s", p->machines[cur].name);
		struct nl_route_answer a;
		int rc = nl_route_lookup(sk, dst, &a, e);
		nl_close(sk);
		if (rc == 0 && !a.error && a.type == RTN_UNICAST) {
			sk = nl_open_in(l->netns[cur], e);
			rc = sk ? nl_ifname(sk, a.ifindex, hop->dev, e) : -1;
			hop->next_hop = a.gateway ? a.gateway : dst;
			if (rc == 0)
				rc = nl_neighbour_lookup(sk, a.ifindex, hop->next_hop, &hop->neighbour, e);
			if (sk)
				nl_close(sk);
		}
		if (rc < 0)
			return tb_context(e, "%s", p->machines[cur].name);
		if (a.error || (a.type != RTN_UNICAST && a.type != RTN_LOCAL)) {
			hop->kind = HOP_DROP;
			snprintf(hop->reason, sizeof(hop->reason), "%s",
				 a.error ? strerror(a.error)
				 : a.type == RTN_BLACKHOLE ? "blackhole route"
				 : a.type == RTN_PROHIBIT  ? "prohibit route"
							   : "unreachable route");
			return 0;
		}
		if (a.type == RTN_LOCAL) {
			hop->kind = HOP_DELIVER;
			t->delivered = true;
			return 0;
		}
		hop->kind = HOP_ROUTE;
		hop->route = a.matched;
		hop->via = a.gateway;
		struct trace_hop *wire = &t->hops[t->n_hops++];
		*wire = (struct trace_hop){.kind = HOP_WIRE, .machine = cur};
		size_t next = across(p, cur, hop, wire);
		if (next == PLAN_NONE) {
			char why[sizeof(wire->reason)], a_buf[16];
			snprintf(why, sizeof(why), "nobody on %s's %s holds %s", p->machines[cur].name, hop->dev,
				 ipv4_addr_format(hop->next_hop, a_buf));
			*wire = (struct trace_hop){.kind = HOP_DROP, .machine = cur};
			memcpy(wire->reason, why, sizeof(why));
			return 0;
		}
		cur = next;
	}
	struct trace_hop *hop = &t->hops[t->n_hops++];
	*hop = (struct trace_hop){.kind = HOP_DROP, .machine = cur};
	snprintf(hop->reason, sizeof(hop->reason), "more than %d hops: a routing loop?", TRACE_MAX_HOPS / 2);
	return 0;
}

static void format_route(const struct trace_hop *h, char *buf, size_t size)
{
	char pfx[IPV4_PREFIX_STRLEN];
	if (h->route.len == 0)
		snprintf(buf, size, "default");
	else
		snprintf(buf, size, "%s", ipv4_prefix_format(h->route, pfx));
}

static void format_neighbour(const struct trace_hop *h, char *buf, size_t size)
{
	const struct nl_neighbour *n = &h->neighbour;
	if (n->resolved)
		snprintf(buf, size, "%s %s", n->mac, n->state);
	else if (n->found)
		snprintf(buf, size, "ARP needed (entry %s)", n->state);
	else
		snprintf(buf, size, "ARP needed");
}

static uint32_t source_address(const struct live_lab *l, size_t from)
{
	return l->plan.machines[from].address;
}

/* One line of the text output, escaped whole: names come from the saved
 * plan (a state file someone may edit) and device names from inside the
 * lab's namespaces, where a pod's root may name a device anything. */
static void put_line(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put_line(FILE *out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	autofree char *line = xvasprintf(fmt, ap);
	va_end(ap);
	autofree char *safe = str_escape(line);
	fprintf(out, "%s\n", safe);
}

void trace_print_text(FILE *out, const struct live_lab *l, const struct trace *t, const char *to_name)
{
	const struct plan *p = &l->plan;
	char src[16], dst[16];
	put_line(out, "trace %s: %s (%s) -> %s (%s)", l->record.name, p->machines[t->from].name,
		 ipv4_addr_format(source_address(l, t->from), src), to_name, ipv4_addr_format(t->dst, dst));
	for (size_t i = 0; i < t->n_hops; i++) {
		const struct trace_hop *h = &t->hops[i];
		const char *m = p->machines[h->machine].name;
		size_t step = i + 1;
		switch (h->kind) {
		case HOP_ROUTE: {
			char route[IPV4_PREFIX_STRLEN + 8], neigh[96], nh[16];
			format_route(h, route, sizeof(route));
			format_neighbour(h, neigh, sizeof(neigh));
			ipv4_addr_format(h->next_hop, nh);
			if (h->via)
				put_line(out, "%2zu. %s: route %s via %s dev %s", step, m, route, nh, h->dev);
			else
				put_line(out, "%2zu. %s: route %s dev %s (directly connected)", step, m, route, h->dev);
			put_line(out, "      neighbour %s on %s: %s", nh, h->dev, neigh);
			break;
		}
		case HOP_WIRE:
			put_line(out, "%2zu. %s", step, h->path);
			break;
		case HOP_DELIVER:
			put_line(out, "%2zu. %s: %s is local: delivered", step, m, dst);
			break;
		case HOP_DROP:
			put_line(out, "%2zu. %s: dropped: %s", step, m, h->reason);
			break;
		}
	}
}

void trace_print_json(FILE *out, const struct live_lab *l, const struct trace *t, const char *to_name)
{
	const struct plan *p = &l->plan;
	char buf[32];
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "lab", l->record.name);
	cJSON_AddStringToObject(root, "from", p->machines[t->from].name);
	cJSON_AddStringToObject(root, "to", to_name);
	cJSON_AddStringToObject(root, "source", ipv4_addr_format(source_address(l, t->from), buf));
	cJSON_AddStringToObject(root, "destination", ipv4_addr_format(t->dst, buf));
	cJSON_AddBoolToObject(root, "delivered", t->delivered);
	cJSON *hops = cJSON_AddArrayToObject(root, "hops");
	static const char *const kinds[] = {[HOP_ROUTE] = "route", [HOP_WIRE] = "wire", [HOP_DELIVER] = "deliver",
					    [HOP_DROP] = "drop"};
	for (size_t i = 0; i < t->n_hops; i++) {
		const struct trace_hop *h = &t->hops[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "step", (double)(i + 1));
		cJSON_AddStringToObject(o, "kind", kinds[h->kind]);
		cJSON_AddStringToObject(o, "machine", p->machines[h->machine].name);
		if (h->kind == HOP_ROUTE) {
			format_route(h, buf, sizeof(buf));
			cJSON_AddStringToObject(o, "route", buf);
			cJSON_AddStringToObject(o, "dev", h->dev);
			if (h->via)
				cJSON_AddStringToObject(o, "via", ipv4_addr_format(h->via, buf));
			else
				cJSON_AddNullToObject(o, "via");
			cJSON *n = cJSON_AddObjectToObject(o, "neighbour");
			cJSON_AddStringToObject(n, "address", ipv4_addr_format(h->next_hop, buf));
			if (h->neighbour.resolved)
				cJSON_AddStringToObject(n, "mac", h->neighbour.mac);
			else
				cJSON_AddNullToObject(n, "mac");
			if (h->neighbour.found)
				cJSON_AddStringToObject(n, "state", h->neighbour.state);
			else
				cJSON_AddNullToObject(n, "state");
			cJSON_AddBoolToObject(n, "resolved", h->neighbour.resolved);
		} else if (h->kind == HOP_WIRE) {
			cJSON_AddStringToObject(o, "path", h->path);
			if (h->vxlan) {
				cJSON *v = cJSON_AddObjectToObject(o, "vxlan");
				cJSON_AddNumberToObject(v, "vni", h->vni);
				cJSON_AddNumberToObject(v, "port", h->port);
				cJSON_AddStringToObject(v, "outerSource", ipv4_addr_format(h->outer_src, buf));
				cJSON_AddStringToObject(v, "outerDestination", ipv4_addr_format(h->outer_dst, buf));
			}
		} else if (h->kind == HOP_DROP) {
			cJSON_AddStringToObject(o, "reason", h->reason);
		}
		cJSON_AddItemToArray(hops, o);
	}
	char *text = cJSON_Print(root);
	fprintf(out, "%s\n", text);
	free(text);
	cJSON_Delete(root);
}

char *trace_neighbour_note(const struct live_lab *l, size_t from, uint32_t dst)
{
	struct trace *t = xmalloc(sizeof(*t));
	struct tb_err e;
	if (trace_run(l, from, dst, t, &e) < 0) {
		free(t);
		return NULL;
	}
	char *note = xstrdup("");
	for (size_t i = 0; i < t->n_hops; i++) {
		const struct trace_hop *h = &t->hops[i];
		char *line = NULL;
		const char *m = l->plan.machines[h->machine].name;
		if (h->kind == HOP_ROUTE) {
			char nh[16], neigh[96];
			format_neighbour(h, neigh, sizeof(neigh));
			line = xasprintf("%s %s -> %s: %s", m, h->dev, ipv4_addr_format(h->next_hop, nh), neigh);
		} else if (h->kind == HOP_DROP) {
			line = xasprintf("%s: dropped: %s", m, h->reason);
		}
		if (line) {
			char *more = xasprintf("%s%s%s", note, *note ? "\n" : "", line);
			free(note);
			free(line);
			note = more;
		}
	}
	free(t);
	return note;
}
