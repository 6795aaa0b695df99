/* The plan: what `up` builds, compiled from a validated topology. Pure data,
 * no system calls, so it is unit-tested and can be printed.
 *
 * A lab is a set of machines (each a group of namespaces held by a small
 * init), bridges inside machines, veth pairs between machines, addresses,
 * routes and sysctls. Executors apply them in that order. Routing modes add
 * their own machines and routes (plan_routing_gateway), so host-gw and
 * vxlan plug in beside it. */
#ifndef TESTBED_PLAN_H
#define TESTBED_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "ipv4.h"
#include "topology.h"
#include "util.h"

#define PLAN_NONE SIZE_MAX
#define PLAN_IFNAME 16 /* IFNAMSIZ */

enum machine_kind {
	MACHINE_LAB,     /* the lab namespace: plays the article's host */
	MACHINE_GATEWAY, /* the default gateway on the underlay */
	MACHINE_NODE,
	MACHINE_HOST, /* the article's plain namespaces (section 1) */
	MACHINE_POD,
};

struct plan_machine {
	enum machine_kind kind;
	const char *name;
	size_t parent;          /* pods: their node; PLAN_NONE otherwise */
	const char *image;      /* resolved tarball path; NULL: the host's files */
	int http_port;          /* 0: nothing to wait for */
	char **argv;            /* the workload; NULL: none (owned, NULL-terminated) */
	uint32_t address;       /* the address to show and to reach it by; 0: none */
};

struct plan_bridge {
	size_t machine;
	char name[PLAN_IFNAME];
};

struct plan_veth {
	size_t machine[2];
	char name[2][PLAN_IFNAME];
	char master[PLAN_IFNAME]; /* bridge for end 0; "" for none */
	int hairpin;              /* set hairpin mode on end 0's bridge port */
};

struct plan_address {
	size_t machine;
	char ifname[PLAN_IFNAME];
	struct ipv4_prefix prefix;
};

struct plan_route {
	size_t machine;
	struct ipv4_prefix dst;
	uint32_t via;
};

struct plan_sysctl {
	size_t machine;
	const char *key; /* under /proc/sys, e.g. "net/ipv4/ip_forward" */
	const char *value;
};

struct plan {
	struct plan_machine *machines;
	size_t n_machines, cap_machines;
	struct plan_bridge *bridges;
	size_t n_bridges, cap_bridges;
	struct plan_veth *veths;
	size_t n_veths, cap_veths;
	struct plan_address *addresses;
	size_t n_addresses, cap_addresses;
	struct plan_route *routes;
	size_t n_routes, cap_routes;
	struct plan_sysctl *sysctls;
	size_t n_sysctls, cap_sysctls;
};

/* Compile T. Fails (with a message) only for features not built yet. */
int plan_build(const struct tb_topology *t, struct plan *p, struct tb_err *e);
void plan_free(struct plan *p);

const char *machine_kind_name(enum machine_kind kind);
/* Index of the machine called NAME, or PLAN_NONE. */
size_t plan_find(const struct plan *p, const char *name);

#endif
