/* What the compiler's passes share, and only they (plan_compile.c,
 * plan_cluster.c, plan_neigh.c; the next ones, such as Services, join
 * here): the builders that append a step with its note, the state a
 * cluster's passes hand each other, and the passes themselves, which
 * plan_build runs in turn. */
#ifndef TESTBED_PLAN_PASSES_H
#define TESTBED_PLAN_PASSES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/topology.h"
#include "plan/plan.h"

/* Builders: each appends what it names to P (copying every string). */
void build_name(char dst[PLAN_IFNAME], const char *src);
/* The plan's index of the topology's image NAME (added on first use), or
 * PLAN_NONE for none. */
size_t build_image(const struct tb_topology *t, struct plan *p, const char *name);
/* The pod HTTP server's command line, or COMMAND when given; NULL for
 * neither (malloc'd; build_machine takes it). */
char **build_workload(const char *name, const char *node, const struct tb_port *ports, size_t n_ports,
		      char *const *command, size_t n_command);
/* A copy of M (with ARGV, which it takes) and its STEP_MACHINE. */
size_t build_machine(struct plan *p, const struct plan_machine *m, char **argv, const char *note);
void build_bridge(struct plan *p, size_t machine, const char *name, int mtu, const char *note);
void build_veth(struct plan *p, size_t m0, const char *name0, const char *master, bool hairpin, size_t m1,
		const char *name1, int mtu, const char *note);
void build_address(struct plan *p, size_t machine, const char *ifname, uint32_t addr, uint8_t len,
		   const char *note);
struct step *build_route(struct plan *p, size_t machine, struct ipv4_prefix dst, uint32_t via, const char *dev,
			 const char *note);
void build_sysctl(struct plan *p, size_t machine, const char *key, const char *value, const char *note);

/* Sections 3.1-3.3 (plan_cluster.c): what one pass tells the next. */
struct cluster_plan {
	size_t lab, first_node, gateway, first_external;
	size_t *first_pod; /* per node */
	int pod_mtu;       /* 0: default; vxlan lowers it */
};
void plan_cluster_machines(const struct tb_topology *t, struct plan *p, struct cluster_plan *c);
void plan_cluster_links(const struct tb_topology *t, struct plan *p, const struct cluster_plan *c);
void plan_cluster_addresses(const struct tb_topology *t, struct plan *p, const struct cluster_plan *c);
void plan_cluster_routes(const struct tb_topology *t, struct plan *p, const struct cluster_plan *c);
void plan_cluster_sysctls(const struct tb_topology *t, struct plan *p, const struct cluster_plan *c);
/* Services, the outside and egress (plan_services.c). */
void plan_cluster_services(const struct tb_topology *t, struct plan *p, const struct cluster_plan *c);
void plan_cluster_kube_proxy(const struct tb_topology *t, struct plan *p, const struct cluster_plan *c);
void plan_cluster_externals(const struct tb_topology *t, struct plan *p, struct cluster_plan *c);
void plan_cluster_external_network(const struct tb_topology *t, struct plan *p, const struct cluster_plan *c);
void plan_cluster_service_routes(const struct tb_topology *t, struct plan *p, const struct cluster_plan *c);
void plan_cluster_egress(const struct tb_topology *t, struct plan *p, const struct cluster_plan *c);
/* Cluster DNS (plan_dns.c): every pod's /etc/resolv.conf, the DNS pod's
 * configuration; after the services, whose endpoints it names. */
void plan_cluster_dns(const struct tb_topology *t, struct plan *p, const struct cluster_plan *c);
/* hostPort mappings on each node (plan_portmap.c). */
void plan_cluster_hostports(const struct tb_topology *t, struct plan *p, const struct cluster_plan *c);

/* The neighbour design (plan_neigh.c): resolves ASKED for the plan's
 * segments (from its bridge, veth and address steps) and, for the static
 * design, fixes every segment member's MAC and appends the permanent
 * entries. Runs after every pass that adds links, before the steps are
 * put in order. */
void plan_neighbours(struct plan *p, enum tb_neighbours asked);

#endif
