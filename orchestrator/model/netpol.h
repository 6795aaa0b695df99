/* NetworkPolicies as the model holds them (k8s_netpol.c reads them): the
 * objects as written, validated as the API server validates them and
 * defaulted as it defaults them. The compiler copies them into the plan
 * (plan/plan_policy.h, which says what each shape means); nothing here is
 * computed from them. */
#ifndef TESTBED_NETPOL_H
#define TESTBED_NETPOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/ports.h"
#include "model/selector.h"
#include "model/topology.h"
#include "util/ipv4.h"

enum tb_peer_kind { TB_PEER_PODS, TB_PEER_IP_BLOCK };

struct tb_policy_peer {
	enum tb_peer_kind kind;
	bool has_pod_selector, has_namespace_selector; /* TB_PEER_PODS: one at least */
	struct label_selector pod_selector, namespace_selector;
	struct ipv4_prefix cidr; /* TB_PEER_IP_BLOCK: the network (host bits cleared) */
	struct ipv4_prefix *except;
	size_t n_except;
};

struct tb_policy_port {
	enum tb_protocol protocol; /* TCP when not given */
	bool any_port;             /* no port: every port of the protocol */
	uint16_t port, end_port;   /* by number; end_port 0: just port */
	char *name;                /* by name (a container port's) */
};

struct tb_policy_rule {
	struct tb_policy_peer *peers;
	size_t n_peers;
	struct tb_policy_port *ports;
	size_t n_ports;
};

struct tb_policy {
	char *namespace, *name;
	struct label_selector pod_selector;
	bool ingress, egress; /* policyTypes, defaulted */
	struct tb_policy_rule *ingress_rules, *egress_rules;
	size_t n_ingress_rules, n_egress_rules;
	struct tb_origin origin;
};

/* Said by validate and up while no rules enforce policies. */
#define TB_POLICIES_NOT_ENFORCED                                                                                    \
	"NetworkPolicies are parsed, checked and saved in the plan, but not enforced yet: traffic flows as if there "  \
	"were none"

void tb_policy_free(struct tb_policy *p);

#endif
