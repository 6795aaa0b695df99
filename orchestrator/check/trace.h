/* Tracing a packet through a running lab, hop by hop, by asking each
 * namespace on the way what its kernel would do: the route it picks, the
 * interface and next hop, and that hop's neighbour (ARP) entry. The wires
 * between namespaces (veth pairs, bridge ports, vxlan tunnels) are the lab's
 * saved plan, which `up` built them from. */
#ifndef TESTBED_TRACE_H
#define TESTBED_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lab/live.h"
#include "steps/netlink.h"

#define TRACE_MAX_HOPS 32

enum trace_hop_kind {
	HOP_ROUTE,   /* a namespace's routing decision */
	HOP_WIRE,    /* across veth pairs and bridges to the next namespace */
	HOP_DELIVER, /* the destination is local here */
	HOP_DROP,    /* the kernel has no way on */
};

struct trace_hop {
	enum trace_hop_kind kind;
	size_t machine;
	/* HOP_ROUTE */
	struct ipv4_prefix route; /* the route that matched */
	char dev[16];
	uint32_t via;      /* 0: directly connected */
	uint32_t next_hop; /* via, or the destination itself */
	struct nl_neighbour neighbour;
	/* HOP_WIRE: "pod-a eth0 -> node1 veth0 -> bridge cbr0 (node1)" */
	char path[256];
	bool vxlan; /* the wire is a vxlan tunnel: these are its outer packet's */
	uint32_t vni, outer_src, outer_dst;
	uint16_t port;
	/* HOP_DROP */
	char reason[128];
};

struct trace {
	size_t from;
	uint32_t dst;
	/* + 1: a trace that used them all still ends in a drop (a routing loop). */
	struct trace_hop hops[TRACE_MAX_HOPS + 1];
	size_t n_hops;
	bool delivered;
};

/* Follows a packet from plan machine FROM to DST. A packet the kernel
 * would drop is a trace too (its last hop says why); -1 only when looking
 * failed. */
int trace_run(const struct live_lab *l, size_t from, uint32_t dst, struct trace *t, struct tb_err *e);
void trace_print_text(FILE *out, const struct live_lab *l, const struct trace *t, const char *to_name);
void trace_print_json(FILE *out, const struct live_lab *l, const struct trace *t, const char *to_name);

/* For `check --verbose`: the neighbour entries the path from FROM to DST
 * needs and whether each is resolved, one a line (malloc'd; NULL on error). */
char *trace_neighbour_note(const struct live_lab *l, size_t from, uint32_t dst);

#endif
