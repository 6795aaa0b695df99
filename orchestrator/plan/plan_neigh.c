/* Neighbour designs (docs/neighbours.md). The plan's L2 segments are read
 * from its own steps: each bridge with the far ends of the veths that are
 * its ports, and each veth pair that joins no bridge. That covers cbr0 of
 * every node with its pods, the underlay switch with the nodes and the
 * gateway, and the topology's bridges and links of hosts, whatever adds
 * them later.
 *
 * `learned` leaves the plan as it is: ARP, as the article shows it.
 * `static` fixes the MAC of every interface on a segment (set when the
 * link is made) and gives every addressed member a permanent entry for
 * every other addressed member of its segment. Every next hop a route of
 * the lab names is such a member (pods' cbr0, nodes' gateway, the gateway's
 * and host-gw's nodes), and vxlan's tunnel ends already have entries. */
#define _GNU_SOURCE
#include "plan/plan_neigh.h"

#include "plan/plan_passes.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util/util.h"

/* A link on a segment, by the step that creates it: steps move as steps
 * are appended, indexes do not. */
struct seg_iface {
	size_t step;
	bool peer; /* the veth's far end */
	bool member; /* has an address on the segment; a bridge port is only a wire */
	uint32_t address; /* 0: none */
};

struct segment {
	size_t first, n; /* in ifaces */
};

struct segments {
	struct seg_iface *ifaces;
	size_t n, cap;
	struct segment *segs;
	size_t n_segs, cap_segs;
};

static uint32_t address_of(const struct plan *p, size_t machine, const char *ifname)
{
	for (const struct step *s = plan_next(p, NULL, STEP_ADDRESS); s; s = plan_next(p, s, STEP_ADDRESS))
		if (s->machine == machine && strcmp(s->u.address.ifname, ifname) == 0)
			return s->u.address.prefix.addr;
	return 0;
}

static size_t iface_machine(const struct plan *p, const struct seg_iface *f)
{
	const struct step *s = &p->steps[f->step];
	return f->peer ? s->u.veth.peer_machine : s->machine;
}

static const char *iface_name(const struct plan *p, const struct seg_iface *f)
{
	const struct step *s = &p->steps[f->step];
	return s->kind == STEP_BRIDGE ? s->u.bridge.name : f->peer ? s->u.veth.peer_name : s->u.veth.name;
}

static char *iface_mac(struct plan *p, const struct seg_iface *f)
{
	struct step *s = &p->steps[f->step];
	return s->kind == STEP_BRIDGE ? s->u.bridge.mac : f->peer ? s->u.veth.peer_mac : s->u.veth.mac;
}

static void add_iface(struct segments *g, const struct plan *p, size_t step, bool peer, bool wire)
{
	grow_array((void **)&g->ifaces, &g->cap, g->n + 1, sizeof(*g->ifaces));
	struct seg_iface *f = &g->ifaces[g->n++];
	*f = (struct seg_iface){.step = step, .peer = peer};
	if (!wire)
		f->address = address_of(p, iface_machine(p, f), iface_name(p, f));
	f->member = f->address != 0;
	g->segs[g->n_segs - 1].n++;
}

static void new_segment(struct segments *g)
{
	grow_array((void **)&g->segs, &g->cap_segs, g->n_segs + 1, sizeof(*g->segs));
	g->segs[g->n_segs++] = (struct segment){.first = g->n};
}

/* Each bridge with the far ends of its ports, then each veth pair that
 * joins no bridge. */
static void find_segments(const struct plan *p, struct segments *g)
{
	for (size_t i = 0; i < p->n_steps; i++) {
		const struct step *b = &p->steps[i];
		if (b->kind != STEP_BRIDGE)
			continue;
		new_segment(g);
		add_iface(g, p, i, false, false);
		for (size_t k = 0; k < p->n_steps; k++) {
			const struct step *v = &p->steps[k];
			if (v->kind != STEP_VETH || v->machine != b->machine || strcmp(v->u.veth.master, b->u.bridge.name) != 0)
				continue;
			add_iface(g, p, k, false, true);
			add_iface(g, p, k, true, false);
		}
	}
	for (size_t i = 0; i < p->n_steps; i++) {
		const struct step *v = &p->steps[i];
		if (v->kind != STEP_VETH || v->u.veth.master[0])
			continue;
		new_segment(g);
		add_iface(g, p, i, false, false);
		add_iface(g, p, i, true, false);
	}
}

static size_t members(const struct segments *g, const struct segment *s)
{
	size_t k = 0;
	for (size_t i = s->first; i < s->first + s->n; i++)
		k += g->ifaces[i].member;
	return k;
}

static void add_entries(struct plan *p, const struct segments *g, const struct segment *seg)
{
	if (members(g, seg) < 2)
		return;
	for (size_t i = seg->first; i < seg->first + seg->n; i++) {
		const struct seg_iface *x = &g->ifaces[i];
		if (!x->member)
			continue;
		char dev[PLAN_IFNAME];
		snprintf(dev, sizeof(dev), "%s", iface_name(p, x));
		struct step *s = plan_add_step(p, STEP_NEIGH, iface_machine(p, x),
					       "static neighbours: every other member of the segment, before any traffic");
		struct step_neigh *n = &s->u.neigh;
		memcpy(n->dev, dev, sizeof(dev));
		for (size_t j = seg->first; j < seg->first + seg->n; j++) {
			const struct seg_iface *y = &g->ifaces[j];
			if (j != i && y->member)
				plan_neigh_append(n, y->address, iface_mac(p, y));
		}
	}
}

void plan_neigh_mac(uint32_t address, uint32_t seq, char mac[PLAN_MAC])
{
	/* 0x0a: locally administered, unicast. 0a:58 is CNI's (and the vxlan
	 * devices'); 0a:74 ("t") + the address, 0a:75 + a number for links
	 * without one, so the two never meet. */
	uint32_t v = address ? address : seq;
	snprintf(mac, PLAN_MAC, "0a:%02x:%02x:%02x:%02x:%02x", address ? 0x74u : 0x75u, v >> 24, (v >> 16) & 0xff,
		 (v >> 8) & 0xff, v & 0xff);
}

void plan_neighbours(struct plan *p, enum tb_neighbours asked)
{
	struct segments g = {0};
	find_segments(p, &g);
	size_t mesh = 0;
	for (size_t i = 0; i < g.n_segs; i++) {
		size_t k = members(&g, &g.segs[i]);
		mesh += k * (k ? k - 1 : 0);
	}
	p->neighbours = (struct plan_neighbours){.asked = asked, .full_mesh = mesh};
	if (asked == TB_NEIGH_AUTO)
		p->neighbours.design = mesh > PLAN_NEIGH_AUTO_LIMIT ? TB_NEIGH_STATIC : TB_NEIGH_LEARNED;
	else
		p->neighbours.design = asked;
	if (p->neighbours.design == TB_NEIGH_STATIC) {
		/* A link belongs to one segment only, so each gets one MAC;
		 * links without an address of their own are numbered in plan
		 * order (the gateway has its address on each external link). */
		uint32_t seq = 0;
		for (size_t i = 0; i < g.n; i++) {
			uint32_t a = g.ifaces[i].address;
			for (size_t k = 0; a && k < i; k++)
				if (g.ifaces[k].address == a)
					a = 0;
			plan_neigh_mac(a, a ? 0 : ++seq, iface_mac(p, &g.ifaces[i]));
		}
		for (size_t i = 0; i < g.n_segs; i++)
			add_entries(p, &g, &g.segs[i]);
	}
	free(g.ifaces);
	free(g.segs);
}

/* 5106 -> "5,106" */
static char *thousands(size_t n, char buf[32])
{
	char digits[24];
	int len = snprintf(digits, sizeof(digits), "%zu", n);
	size_t o = 0;
	for (int i = 0; i < len; i++) {
		if (i && (len - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
	return buf;
}

char *plan_neighbours_explain(const struct plan *p)
{
	const struct plan_neighbours *n = &p->neighbours;
	char mesh[32], table[32], limit[32];
	thousands(n->full_mesh, mesh);
	thousands(PLAN_NEIGH_TABLE, table);
	thousands(PLAN_NEIGH_AUTO_LIMIT, limit);
	const char *design = tb_neighbours_name(n->design);
	if (n->asked == TB_NEIGH_AUTO && n->design == TB_NEIGH_STATIC)
		return xasprintf("neighbours: static (a full mesh could need %s learned entries; the kernel's shared "
				 "table holds %s, and auto keeps ARP up to %s)",
				 mesh, table, limit);
	if (n->asked == TB_NEIGH_AUTO)
		return xasprintf("neighbours: learned (a full mesh needs at most %s learned entries, within auto's %s "
				 "of the kernel's shared %s)",
				 mesh, limit, table);
	if (n->design == TB_NEIGH_LEARNED && n->full_mesh > PLAN_NEIGH_TABLE)
		return xasprintf("neighbours: learned, as the topology asks (a full mesh could need %s learned entries, "
				 "more than the kernel's shared table holds, %s: expect \"neighbor table overflow\")",
				 mesh, table);
	return xasprintf("neighbours: %s, as the topology asks (a full mesh could need %s learned entries)", design,
			 mesh);
}
