/* Tracing a packet through a running lab, hop by hop, by asking each
 * namespace on the way what its kernel would do: the route it picks, the
 * interface and next hop, and that hop's neighbour (ARP) entry. The wires
 * between namespaces (veth pairs, bridge ports, vxlan tunnels) are the lab's
 * saved plan, which `up` built them from.
 *
 * To a Service, a NodePort or an address (and from or to a machine outside
 * the cluster), where NAT rewrites the packet on its way, a trace sends a
 * real connection first, then reads what the kernel did with it: each
 * namespace's conntrack entry for it gives the endpoint its destination
 * was rewritten to (DNAT) and the address its source was (masquerade),
 * and that namespace's live ruleset the rules that did it
 * (check/nft_rules.h). The walk then follows the rewritten packet. */
#ifndef TESTBED_TRACE_H
#define TESTBED_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "check/nft_rules.h"
#include "lab/live.h"
#include "steps/netlink.h"

/* Route and wire hops, in pairs; a NAT hop or two may come between. */
#define TRACE_MAX_HOPS 32
/* Two walks at most: to an ingress controller, then from its proxy on;
 * each pair of route and wire hops may come with a DNAT, an SNAT and
 * NetworkPolicy's verdicts, routed and bridged. */
#define TRACE_HOPS_ROOM (2 * (3 * TRACE_MAX_HOPS + 1))

enum trace_hop_kind {
	HOP_ROUTE,   /* a namespace's routing decision */
	HOP_WIRE,    /* across veth pairs and bridges to the next namespace */
	HOP_DELIVER, /* the destination is local here */
	HOP_DROP,    /* the kernel has no way on, or a rule dropped or rejected it */
	HOP_DNAT,    /* the destination rewritten (a Service's address to an endpoint) */
	HOP_SNAT,    /* the source rewritten (a masquerade) */
	HOP_PROXY,   /* the ingress controller's nginx: the server and location it chose, the upstream it opens */
	HOP_POLICY,  /* NetworkPolicy's table let the connection through: the rules that did (a pod's chain's return) */
};

/* An address and port of a connection. */
struct trace_end {
	uint32_t addr;
	uint16_t port;
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
	/* HOP_PROXY: "server shop.example.com, location /cart/", in path;
	 * the upstream's name in reason ("shop-cart-9000", or what nginx
	 * answers itself: "404 (the default backend)"), its address in after */
	/* HOP_DNAT, HOP_SNAT: the address and port before and after (the
	 * destination's, the source's), from the conntrack entry */
	struct trace_end before, after;
	/* HOP_DNAT, HOP_SNAT, HOP_POLICY, and a HOP_DROP by a rule: the rules that did it (owned) */
	struct nft_quotes rules;
};

/* The connection a trace sends to see what NAT does to it. */
struct trace_connection {
	bool made;   /* a real connection was sent (the walk follows its conntrack entries) */
	uint8_t l4;  /* IPPROTO_TCP or IPPROTO_UDP */
	struct trace_end source, destination; /* as it left */
	bool answered;
	char answered_by[64]; /* who answered, as its server says */
	char client[32];      /* the client address its server saw */
	char error[128];      /* why it was not answered */
	const char *failure;  /* "refused", "timeout" or "error"; NULL when answered */
};

struct trace {
	size_t from;
	uint32_t dst;
	/* + 1: a trace that used them all still ends in a drop (a routing loop). */
	struct trace_hop hops[TRACE_HOPS_ROOM];
	size_t n_hops;
	bool delivered;
	struct trace_connection connection;
	/* To a DNS name: what it resolved to, from where ("web.shop.svc.cluster.local:
	 * 10.96.0.2", escaped); "" otherwise. Set by the caller. */
	char resolved[192];
};

/* Where a trace goes: a machine's address, or a Service's, a NodePort, an
 * address, with a port and protocol. */
struct trace_target {
	char name[160];      /* as written: "service:default/web:80", or the machine's name */
	uint32_t address;
	uint16_t port;       /* 0: no connection, a packet to the address */
	uint8_t l4;          /* IPPROTO_TCP or IPPROTO_UDP */
	bool connect;        /* send a real connection and follow it */
	bool ingress;        /* ingress:HOST/PATH: an HTTP request with that Host and path, followed past the proxy */
	char host[254];
	char path[1024];
};

/* What TEXT names in lab L, as `trace` takes it: a machine (by the rule of
 * model/names.h), service:NAME or service:NAMESPACE/NAME with an optional
 * :PORT (number or name; else its only port, or the one named http),
 * nodeport:NODE:PORT, ip:ADDRESS:PORT or ip:ADDRESS. FROM is where the
 * trace starts: a machine outside the cluster at either end makes a
 * connection to follow too. False with *WHY (malloc'd) when it names
 * nothing. */
bool trace_target_resolve(const struct plan *p, size_t from, const char *text, struct trace_target *out, char **why);
/* Where a DNS name that resolved to ADDRESS goes, named NAME (as written):
 * a Service's cluster IP as its service: target (PORT, a number or a
 * name, else its only port or the one named http), a machine's address as
 * that machine's, any other as ip:ADDRESS[:PORT]. PORT may be NULL. */
bool trace_target_address(const struct plan *p, size_t from, const char *name, uint32_t address, const char *port,
			  struct trace_target *out, char **why);

/* Follows a packet from plan machine FROM to DST. A packet the kernel
 * would drop is a trace too (its last hop says why); -1 only when looking
 * failed. */
int trace_run(const struct live_lab *l, size_t from, uint32_t dst, struct trace *t, struct tb_err *e);
/* Sends a connection from FROM to TO (a trace_target that connects) and
 * follows it as the kernel handled it: DNAT and masquerade from each
 * namespace's conntrack table, the rules that did them from its ruleset. */
int trace_run_connection(const struct live_lab *l, size_t from, const struct trace_target *to, struct trace *t,
			 struct tb_err *e);
/* Frees what T's hops own (their rules); T itself is the caller's. */
void trace_free(struct trace *t);
void trace_print_text(FILE *out, const struct live_lab *l, const struct trace *t, const char *to_name);
void trace_print_json(FILE *out, const struct live_lab *l, const struct trace *t, const char *to_name);

/* For `check --verbose`: the neighbour entries the path from FROM to DST
 * needs and whether each is resolved, one a line (malloc'd; NULL on error). */
char *trace_neighbour_note(const struct live_lab *l, size_t from, uint32_t dst);

#endif
