#define _GNU_SOURCE
/* Neighbour designs (plan_neigh.c): which one auto picks, the MACs and the
 * permanent entries of the static design, what validate says about it. */
#include <stdlib.h>

#include "fixtures.h"
#include "harness.h"
#include "plan/plan.h"
#include "plan/plan_compile.h"
#include "plan/plan_neigh.h"
#include "steps/step.h"
#include "model/topology.h"
#include "util/util.h"

/* NODES nodes of PODS pods each, neighbours DESIGN ("" for none). */
static char *cluster(size_t nodes, size_t pods, const char *design, const char *routing)
{
	char *text = xasprintf("{\"name\": \"n\", \"images\": {\"pod\": \"img.tar\", \"node\": \"img.tar\"}, "
			       "\"cluster\": {\"routing\": \"%s\"}%s%s%s, \"nodes\": [",
			       routing, design[0] ? ", \"neighbours\": \"" : "", design, design[0] ? "\"" : "");
	for (size_t n = 0; n < nodes; n++) {
		char *more = xasprintf("%s%s{\"name\": \"node%zu\", \"pods\": [", text, n ? ", " : "", n + 1);
		free(text);
		text = more;
		for (size_t i = 0; i < pods; i++) {
			more = xasprintf("%s%s{\"name\": \"p%zu-%zu\"}", text, i ? ", " : "", n + 1, i + 1);
			free(text);
			text = more;
		}
		more = xasprintf("%s]}", text);
		free(text);
		text = more;
	}
	char *done = xasprintf("%s]}", text);
	free(text);
	return done;
}

/* Hosts on a bridge with an address, and a veth pair between two hosts. */
static const char *const HOSTS =
	"{\"name\": \"h\", \"images\": {\"pod\": \"img.tar\"}, \"neighbours\": \"static\","
	"\"hosts\": [{\"name\": \"a\", \"interfaces\": {\"eth0\": \"10.0.1.2/24\", \"eth1\": \"10.0.2.1/24\"}},"
	"{\"name\": \"b\", \"interfaces\": {\"eth0\": \"10.0.1.3/24\"}},"
	"{\"name\": \"c\", \"interfaces\": {\"eth0\": \"10.0.2.2/24\"}}],"
	"\"bridges\": [{\"name\": \"br0\", \"address\": \"10.0.1.1/24\"}],"
	"\"links\": [[\"a:eth0\", \"br0\"], [\"b:eth0\", \"br0\"], [\"a:eth1\", \"c:eth0\"]]}";

static const struct step_neigh *neigh_of(const struct plan *p, const char *machine, const char *dev)
{
	size_t m = plan_find(p, machine);
	for (const struct step *s = plan_next(p, NULL, STEP_NEIGH); s; s = plan_next(p, s, STEP_NEIGH))
		if (s->machine == m && strcmp(s->u.neigh.dev, dev) == 0)
			return &s->u.neigh;
	return NULL;
}

static const char *mac_for(const struct step_neigh *n, uint32_t address)
{
	for (size_t i = 0; n && i < n->n_entries; i++)
		if (n->entries[i].address == address)
			return n->entries[i].mac;
	return NULL;
}

/* The MAC the plan gives link IFNAME of MACHINE, "" for a random one. */
static const char *link_mac(const struct plan *p, const char *machine, const char *ifname)
{
	size_t m = plan_find(p, machine);
	for (size_t i = 0; i < p->n_steps; i++) {
		const struct step *s = &p->steps[i];
		if (s->kind == STEP_BRIDGE && s->machine == m && strcmp(s->u.bridge.name, ifname) == 0)
			return s->u.bridge.mac;
		if (s->kind == STEP_VETH && s->machine == m && strcmp(s->u.veth.name, ifname) == 0)
			return s->u.veth.mac;
		if (s->kind == STEP_VETH && s->u.veth.peer_machine == m && strcmp(s->u.veth.peer_name, ifname) == 0)
			return s->u.veth.peer_mac;
	}
	return NULL;
}

static size_t count_entries(const struct plan *p)
{
	size_t n = 0;
	for (const struct step *s = plan_next(p, NULL, STEP_NEIGH); s; s = plan_next(p, s, STEP_NEIGH))
		n += s->u.neigh.n_entries;
	return n;
}

TEST(neigh_auto_keeps_arp_up_to_half_the_table_and_goes_static_above)
{
	/* One node of K pods: cbr0's segment is (K+1)K, the underlay's 2
	 * (node and gateway), the internet's link 2 (gateway and internet).
	 * 22 pods: 510 <= 512; 23 pods: 556. */
	struct plan p;
	autofree char *small = cluster(1, 22, "", "gateway");
	CHECK(fixture_plan(small, &p));
	CHECK_INT(p.neighbours.full_mesh, 510);
	CHECK_INT(p.neighbours.asked, TB_NEIGH_AUTO);
	CHECK_INT(p.neighbours.design, TB_NEIGH_LEARNED);
	CHECK_INT(count_entries(&p), 0);
	CHECK_STR(link_mac(&p, "p1-1", "eth0"), "");
	plan_free(&p);
	autofree char *big = cluster(1, 23, "", "gateway");
	CHECK(fixture_plan(big, &p));
	CHECK_INT(p.neighbours.full_mesh, 556);
	CHECK_INT(p.neighbours.design, TB_NEIGH_STATIC);
	/* Static: as many permanent entries as a full mesh would learn. */
	CHECK_INT(count_entries(&p), 556);
	plan_free(&p);
	/* An explicit choice wins either way. */
	autofree char *forced = cluster(1, 23, "learned", "gateway");
	CHECK(fixture_plan(forced, &p));
	CHECK_INT(p.neighbours.design, TB_NEIGH_LEARNED);
	CHECK_INT(count_entries(&p), 0);
	plan_free(&p);
	autofree char *tiny = cluster(1, 2, "static", "gateway");
	CHECK(fixture_plan(tiny, &p));
	CHECK_INT(p.neighbours.design, TB_NEIGH_STATIC);
	CHECK_INT(count_entries(&p), 3 * 2 + 2 + 2);
	plan_free(&p);
}

TEST(neigh_static_entries_cover_each_segment_and_nothing_else)
{
	struct plan p;
	autofree char *text = cluster(2, 3, "static", "gateway");
	CHECK(fixture_plan(text, &p));
	/* node1: pod CIDR 10.244.0.0/24, cbr0 .1, pods .2-.4; node2 10.244.1.0/24. */
	const struct step_neigh *pod = neigh_of(&p, "p1-1", "eth0");
	CHECK(pod != NULL);
	CHECK_INT(pod ? pod->n_entries : 0, 3); /* cbr0 and the two other pods */
	CHECK_STR(mac_for(pod, 0x0AF40001), link_mac(&p, "node1", "cbr0"));
	CHECK_STR(mac_for(pod, 0x0AF40003), link_mac(&p, "p1-2", "eth0"));
	CHECK(mac_for(pod, 0x0AF40002) == NULL); /* not itself */
	CHECK(mac_for(pod, 0x0AF40102) == NULL); /* not a pod of the other node */
	const struct step_neigh *cbr0 = neigh_of(&p, "node1", "cbr0");
	CHECK_INT(cbr0 ? cbr0->n_entries : 0, 3);
	CHECK_STR(mac_for(cbr0, 0x0AF40004), link_mac(&p, "p1-3", "eth0"));
	/* The underlay: gateway 10.10.0.1, nodes .2 and .3. */
	const struct step_neigh *gw = neigh_of(&p, "gateway", "eth0");
	CHECK_INT(gw ? gw->n_entries : 0, 2);
	CHECK_STR(mac_for(gw, 0x0A0A0003), link_mac(&p, "node2", "eth0"));
	const struct step_neigh *n1 = neigh_of(&p, "node1", "eth0");
	CHECK_STR(mac_for(n1, 0x0A0A0001), link_mac(&p, "gateway", "eth0"));
	/* The lab namespace's switch has no address: no entries there. */
	CHECK(neigh_of(&p, "lab", "tb-underlay") == NULL);
	/* The internet's link: the gateway's x0 (its underlay address) and the internet. */
	const struct step_neigh *net = neigh_of(&p, "internet", "eth0");
	CHECK_INT(net ? net->n_entries : 0, 1);
	CHECK_STR(mac_for(net, 0x0A0A0001), link_mac(&p, "gateway", "x0"));
	const struct step_neigh *x0 = neigh_of(&p, "gateway", "x0");
	CHECK_STR(mac_for(x0, 0xCB007102), link_mac(&p, "internet", "eth0"));
	CHECK_INT(count_entries(&p), 2 * (4 * 3) + 3 * 2 + 2);
	plan_free(&p);
}

/* Every next hop a route names has a permanent entry in its machine, in
 * every routing mode: a static lab never needs to ARP. */
TEST(neigh_static_covers_every_next_hop)
{
	const char *modes[] = {"gateway", "host-gw", "vxlan"};
	for (size_t m = 0; m < ARRAY_SIZE(modes); m++) {
		struct plan p;
		autofree char *text = cluster(3, 2, "static", modes[m]);
		CHECK(fixture_plan(text, &p));
		size_t routes = 0;
		for (const struct step *r = plan_next(&p, NULL, STEP_ROUTE); r; r = plan_next(&p, r, STEP_ROUTE)) {
			if (!r->u.route.via)
				continue;
			routes++;
			bool found = false;
			for (const struct step *s = plan_next(&p, NULL, STEP_NEIGH); s; s = plan_next(&p, s, STEP_NEIGH))
				found = found || (s->machine == r->machine && mac_for(&s->u.neigh, r->u.route.via));
			if (!found)
				fprintf(stderr, "  %s: %s has no entry for its next hop %08x\n", modes[m],
					p.machines[r->machine].name, r->u.route.via);
			CHECK(found);
		}
		CHECK(routes >= 3 * 2 + 3);
		plan_free(&p);
	}
}

TEST(neigh_static_macs_are_deterministic_unique_and_local)
{
	const char *labs[2] = {HOSTS, NULL};
	autofree char *nodes = cluster(3, 4, "static", "vxlan");
	labs[1] = nodes;
	for (size_t l = 0; l < 2; l++) {
		struct plan p, q;
		CHECK(fixture_plan(labs[l], &p));
		CHECK(fixture_plan(labs[l], &q));
		autofree char *a = plan_shape(&p), *b = plan_shape(&q);
		CHECK_STR(a, b);
		/* Every bridge and veth end has one; no two are the same. */
		const char **macs = xcalloc(2 * p.n_steps + 1, sizeof(*macs));
		size_t n = 0;
		for (size_t i = 0; i < p.n_steps; i++) {
			const struct step *s = &p.steps[i];
			if (s->kind == STEP_BRIDGE)
				macs[n++] = s->u.bridge.mac;
			else if (s->kind == STEP_VETH) {
				macs[n++] = s->u.veth.mac;
				macs[n++] = s->u.veth.peer_mac;
			} else if (s->kind == STEP_VXLAN)
				macs[n++] = s->u.vxlan.mac;
		}
		CHECK(n >= 7);
		for (size_t i = 0; i < n; i++) {
			unsigned first = 0;
			CHECK_INT(strlen(macs[i]), 17);
			CHECK(sscanf(macs[i], "%2x", &first) == 1 && (first & 3) == 2); /* local, unicast */
			for (size_t j = 0; j < i; j++)
				if (strcmp(macs[i], macs[j]) == 0) {
					fprintf(stderr, "  %s twice\n", macs[i]);
					CHECK(!"unique");
				}
		}
		free(macs);
		plan_free(&p);
		plan_free(&q);
	}
	char mac[PLAN_MAC];
	plan_neigh_mac(0x0AF40002, 0, mac);
	CHECK_STR(mac, "0a:74:0a:f4:00:02");
	plan_neigh_mac(0, 258, mac);
	CHECK_STR(mac, "0a:75:00:00:01:02");
}

TEST(neigh_static_hosts_bridge_and_veth_pair)
{
	struct plan p;
	CHECK(fixture_plan(HOSTS, &p));
	/* br0 (10.0.1.1) with a and b; a:eth1 - c:eth0 on their own. */
	const struct step_neigh *a0 = neigh_of(&p, "a", "eth0"), *a1 = neigh_of(&p, "a", "eth1");
	CHECK_INT(a0 ? a0->n_entries : 0, 2);
	CHECK_STR(mac_for(a0, 0x0A000101), link_mac(&p, "lab", "br0"));
	CHECK_STR(mac_for(a0, 0x0A000103), link_mac(&p, "b", "eth0"));
	CHECK_INT(a1 ? a1->n_entries : 0, 1);
	CHECK_STR(mac_for(a1, 0x0A000202), link_mac(&p, "c", "eth0"));
	const struct step_neigh *br = neigh_of(&p, "lab", "br0");
	CHECK_INT(br ? br->n_entries : 0, 2);
	CHECK_STR(link_mac(&p, "lab", "br0"), "0a:74:0a:00:01:01");
	/* The bridge's ports are wires: a MAC of their own, no entry. */
	CHECK(strncmp(link_mac(&p, "lab", "tb-l0"), "0a:75:", 6) == 0);
	CHECK(neigh_of(&p, "lab", "tb-l0") == NULL);
	CHECK_INT(p.neighbours.full_mesh, 3 * 2 + 2);
	plan_free(&p);
}

TEST(neigh_validate_explains_the_design)
{
	struct plan p;
	autofree char *big = cluster(2, 50, "", "gateway");
	CHECK(fixture_plan(big, &p));
	autofree char *why = plan_neighbours_explain(&p);
	CHECK_STR(why, "neighbours: static (a full mesh could need 5,108 learned entries; the kernel's shared table "
		       "holds 1,024, and auto keeps ARP up to 512)");
	plan_free(&p);
	autofree char *small = cluster(1, 3, "", "gateway");
	CHECK(fixture_plan(small, &p));
	autofree char *why2 = plan_neighbours_explain(&p);
	CHECK_STR(why2, "neighbours: learned (a full mesh needs at most 16 learned entries, within auto's 512 of the "
			"kernel's shared 1,024)");
	plan_free(&p);
	autofree char *forced = cluster(1, 3, "static", "gateway");
	CHECK(fixture_plan(forced, &p));
	autofree char *why3 = plan_neighbours_explain(&p);
	CHECK_STR(why3, "neighbours: static, as the topology asks (a full mesh could need 16 learned entries)");
	plan_free(&p);
	autofree char *over = cluster(2, 50, "learned", "gateway");
	CHECK(fixture_plan(over, &p));
	autofree char *why4 = plan_neighbours_explain(&p);
	CHECK_STR(why4, "neighbours: learned, as the topology asks (a full mesh could need 5,108 learned entries, more "
			"than the kernel's shared table holds, 1,024: expect \"neighbor table overflow\")");
	plan_free(&p);
}

/* The saved plan keeps the design, the MACs and every entry. */
TEST(neigh_static_plan_json_round_trip)
{
	struct plan p, q;
	autofree char *text = cluster(2, 3, "", "vxlan");
	/* 3 pods a node is learned under auto: ask for static. */
	autofree char *forced = cluster(2, 3, "static", "vxlan");
	CHECK(fixture_plan(forced, &p));
	autofree char *json = plan_to_json(&p, true);
	struct tb_err e;
	CHECK_INT(plan_from_json(json, &q, &e), 0);
	autofree char *again = plan_to_json(&q, true);
	CHECK_STR(again, json);
	CHECK_INT(q.neighbours.design, TB_NEIGH_STATIC);
	CHECK_INT(q.neighbours.asked, TB_NEIGH_STATIC);
	CHECK_INT(count_entries(&q), count_entries(&p));
	CHECK_STR(link_mac(&q, "node1", "cbr0"), link_mac(&p, "node1", "cbr0"));
	plan_free(&p);
	plan_free(&q);
	/* A plan saved before the field existed learned its neighbours. */
	CHECK(fixture_plan(text, &p));
	autofree char *old = plan_to_json(&p, true);
	char *field = strstr(old, "\"neighbours\":");
	CHECK(field != NULL);
	if (field) {
		char *end = strchr(field, '}');
		memmove(field, end + 2, strlen(end + 2) + 1); /* drop the object and its comma */
		CHECK_INT(plan_from_json(old, &q, &e), 0);
		CHECK_INT(q.neighbours.design, TB_NEIGH_LEARNED);
		plan_free(&q);
	}
	plan_free(&p);
}
