/* NetworkPolicy enforcement as a CNI plugin does it, as a pure rule
 * builder: from the plan's policies and namespaces (plan/plan_policy.h)
 * and its pods, the nft rule set one node holds, table `ip testbed-netpol`.
 * A pass of the compiler: no system calls, so unit tests read the text
 * and `testbed plan` prints it. docs/topology.md (NetworkPolicy) says what
 * the rules mean; netpol_nft.c how they are laid out. */
#ifndef TESTBED_NETPOL_NFT_H
#define TESTBED_NETPOL_NFT_H

#include <stdbool.h>
#include <stddef.h>

#include "plan/plan.h"
#include "plan/plan_policy.h"

/* The lab is IPv4 only, as kube-proxy's table is. */
#define NETPOL_FAMILY "ip"
#define NETPOL_TABLE "testbed-netpol"

/* What the rules are built from: the lab's policies and namespaces. */
struct netpol_input {
	const struct plan_policy *policies;
	size_t n_policies;
	const struct plan_namespace *namespaces;
	size_t n_namespaces;
};

/* Is POD (a plan machine) isolated for ingress (INGRESS) or egress: does
 * some policy of its namespace select it for that direction? hostNetwork
 * pods never are. */
bool netpol_isolated(const struct netpol_input *in, const struct plan_machine *pod, bool ingress);

/* Does a peer of POLICY select POD (a plan machine) by its labels and its
 * namespace's? hostNetwork pods never match a pod peer. */
bool netpol_peer_selects(const struct netpol_input *in, const struct plan_policy *policy,
			 const struct plan_policy_peer *peer, const struct plan_machine *pod);

/* The nft rule set for NODE (a MACHINE_NODE of P): one transaction for
 * `nft -f` that replaces the table an earlier one left (malloc'd). */
char *netpol_ruleset(const struct plan *p, const struct netpol_input *in, size_t node);

/* Appends, for every node of P, the STEP_NFT that applies its rule set,
 * and bridge-nf-call-iptables=1 where kube-proxy's pass has not set it:
 * nothing when IN has no policies. */
void netpol_add_steps(struct plan *p, const struct netpol_input *in);

#endif
