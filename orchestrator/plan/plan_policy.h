/* NetworkPolicies as the plan carries them (issue #27): the objects as
 * written, after validation and the API server's defaulting, with nothing
 * computed from them. Three readers use this data and share no code with
 * each other's interpretation of it:
 *   - the rule builder (plan/netpol_nft.c): each node's nft table;
 *   - the evaluator (check/policy_eval.c): the Kubernetes semantics, for
 *     the conformance check's expected truth table and --explain;
 *   - the saved plan (plan_policy_json.c), which apply rewrites.
 * Namespaces' labels are here too: namespaceSelector matches them.
 *
 * Meaning of the shapes, as the API has it:
 *   - a rule's peers: none (n_peers 0) matches every peer; so do an omitted
 *     and an empty from/to, which are the same thing once parsed;
 *   - a rule's ports: none matches every port and protocol;
 *   - a direction's rules: none (with the direction in policyTypes) allows
 *     nothing: `ingress: []` isolates, `ingress: [{}]` allows everything;
 *   - a peer with both selectors: pods matching pod_selector in namespaces
 *     matching namespace_selector (AND); only pod_selector: pods of the
 *     policy's own namespace; only namespace_selector: every pod of those
 *     namespaces; ip_block: addresses in cidr and in no except. */
#ifndef TESTBED_PLAN_POLICY_H
#define TESTBED_PLAN_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/ports.h"
#include "model/selector.h"
#include "model/topology.h"
#include "util/ipv4.h"

struct plan_namespace {
	char *name;
	struct tb_label *labels; /* kubernetes.io/metadata.name included, as the API server adds it */
	size_t n_labels;
};

enum plan_peer_kind { PLAN_PEER_PODS, PLAN_PEER_IP_BLOCK };

struct plan_policy_peer {
	enum plan_peer_kind kind;
	/* PLAN_PEER_PODS: at least one of the two is given. */
	bool has_pod_selector, has_namespace_selector;
	struct label_selector pod_selector;       /* {} (no requirements): every pod */
	struct label_selector namespace_selector; /* {} : every namespace */
	/* PLAN_PEER_IP_BLOCK */
	struct ipv4_prefix cidr;
	struct ipv4_prefix *except;
	size_t n_except;
};

struct plan_policy_port {
	enum tb_protocol protocol; /* TCP when not given */
	bool any_port;             /* only a protocol: every port of it */
	uint16_t port;             /* by number (any_port false, name NULL) */
	uint16_t end_port;         /* 0: just port; else port..end_port */
	char *name;                /* a named port: resolved per destination pod (its container port of that name and protocol) */
};

struct plan_policy_rule {
	struct plan_policy_peer *peers; /* from (ingress) or to (egress) */
	size_t n_peers;
	struct plan_policy_port *ports;
	size_t n_ports;
};

struct plan_policy {
	char *namespace, *name;
	struct label_selector pod_selector; /* {}: every pod of the namespace */
	bool ingress, egress;               /* policyTypes, defaulted as the API server does */
	struct plan_policy_rule *ingress_rules, *egress_rules;
	size_t n_ingress_rules, n_egress_rules;
	char *where; /* "FILE:LINE" of the object, for messages and --explain */
};

void plan_policy_free(struct plan_policy *p);
void plan_namespace_free(struct plan_namespace *n);

#endif
