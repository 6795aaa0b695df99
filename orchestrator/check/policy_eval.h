/* The NetworkPolicy evaluator (issue #27): what the Kubernetes semantics
 * say of one connection, read from the plan's data alone. It is written
 * apart from the rule builder (plan/netpol_nft.c) and shares no code with
 * it, not even label matching (model/selector.c): the conformance check
 * compares the two, so a misreading in one shows as a disagreement.
 *
 * The semantics (the NetworkPolicy concept page and API reference):
 *   - a pod is isolated for ingress (egress) when some policy of its
 *     namespace selects it with Ingress (Egress) in its policyTypes;
 *     hostNetwork pods and other machines are never selected;
 *   - a connection from A to B needs A's egress allowed when A is isolated
 *     for egress, and B's ingress allowed when B is isolated for ingress;
 *     policies only allow, and add up; replies of allowed connections pass;
 *   - a pod cannot block access to itself, and traffic between a pod and
 *     its own node (the node's address, hostNetwork pods on it) always
 *     passes;
 *   - a peer is matched as it arrives: a pod (not hostNetwork) by its
 *     namespace and labels, and anything by its address against ipBlocks
 *     (pod addresses too, as the upstream e2e tests expect); a node or a
 *     hostNetwork pod has its node's address, which only ipBlock matches;
 *   - ports: a number, a range (endPort), only a protocol (every port of
 *     it), or a name resolved against the destination pod's ports (the
 *     selected pod for ingress, the peer for egress); a name matches
 *     nothing where the destination is no pod.
 * Service traffic is judged against the endpoint pod, after DNAT: callers
 * pass the endpoint. */
#ifndef TESTBED_POLICY_EVAL_H
#define TESTBED_POLICY_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model/ports.h"
#include "plan/plan.h"
#include "plan/plan_policy.h"

/* What the evaluator reads: the plan's machines, namespaces and policies. */
struct policy_world {
	const struct plan_machine *machines;
	size_t n_machines;
	const struct plan_namespace *namespaces;
	size_t n_namespaces;
	const struct plan_policy *policies;
	size_t n_policies;
};

/* The world of a plan: its machines, namespaces and policies. */
void policy_world_of(const struct plan *p, struct policy_world *w);

/* One end of a connection: a machine of the plan, or an address only
 * (machine PLAN_NONE: a pod's address is taken as that pod, a node's as
 * that node). ADDRESS 0: the machine's own. */
struct policy_end {
	size_t machine;
	uint32_t address;
};

#define POLICY_ALL SIZE_MAX /* a rule with no peers or no ports: it matches every one */

/* A rule that allowed: POLICY's rule RULE (0-based, in ingress or egress),
 * through its peer PEER and its port entry PORT (POLICY_ALL: the rule has
 * none, so every peer or port). */
struct policy_match {
	size_t policy, rule, peer, port;
};

enum policy_exempt {
	POLICY_EXEMPT_NONE,
	POLICY_EXEMPT_SELF,     /* a pod to itself */
	POLICY_EXEMPT_OWN_NODE, /* a pod and its own node */
};

/* One direction: the source's egress or the destination's ingress. */
struct policy_side {
	size_t pod;                 /* the pod whose side it is; PLAN_NONE: no pod (not selectable) */
	bool isolated;              /* some policy selects the pod for this direction */
	size_t *isolating;          /* those policies (indexes), in order */
	size_t n_isolating;
	struct policy_match *allowed_by; /* every rule that allows it */
	size_t n_allowed_by;
	enum policy_exempt exempt;
	bool allowed;               /* not isolated, exempt, or some rule allows */
};

struct policy_verdict {
	bool allowed; /* both sides allow */
	struct policy_side egress, ingress;
	size_t src, dst;              /* the machines, PLAN_NONE: an address only */
	uint32_t src_address, dst_address;
};

/* Judges a connection from SRC to DST on PORT/PROTOCOL. */
void policy_eval(const struct policy_world *w, struct policy_end src, struct policy_end dst, uint16_t port,
		 enum tb_protocol protocol, struct policy_verdict *v);
void policy_verdict_free(struct policy_verdict *v);

/* Writes the verdict's reasons, one line each, indented by INDENT:
 * "ingress: shop/db isolated by shop/test-network-policy (k8s/np.yaml:1);
 * allowed by shop/test-network-policy ingress rule 0 (from[2] podSelector,
 * ports[0] TCP 6379)". */
void policy_verdict_explain(FILE *out, const struct policy_world *w, const struct policy_verdict *v, const char *indent);

/* The pod machine at ADDRESS (not hostNetwork), else any machine there, else PLAN_NONE. */
size_t policy_machine_at(const struct policy_world *w, uint32_t address);

#endif
