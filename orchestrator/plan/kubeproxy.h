/* kube-proxy in nftables mode, as a pure rule builder: from the plan's
 * services (struct plan_service) and kube-proxy's settings (struct
 * plan_kube_proxy), the nft rule set kube-proxy's nftables proxier would
 * hold on one node: table `ip kube-proxy`, its base chains, the
 * `services` dispatch through the `service-ips` and `service-nodeports`
 * verdict maps, per service port `service-`, `local-`, `external-` and
 * `firewall-` chains and per endpoint `endpoint-` chains and `affinity-`
 * sets, named as kube-proxy names them. A pass of the compiler: no system
 * calls, so unit tests read the text and `testbed plan` prints it. */
#ifndef TESTBED_KUBEPROXY_H
#define TESTBED_KUBEPROXY_H

#include <stddef.h>
#include <stdint.h>

#include "model/ports.h"
#include "plan/plan.h"

/* kube-proxy's table, in the ip family (the lab is IPv4 only). */
#define KUBEPROXY_FAMILY "ip"
#define KUBEPROXY_TABLE "kube-proxy"
/* kube-proxy's default masqueradeBit (14): the mark bit that asks the
 * masquerading chain to SNAT a packet. */
#define KUBEPROXY_MASQUERADE_MARK "0x4000"

/* The nft ruleset text for NODE (a plan machine of kind MACHINE_NODE) of
 * plan P, as kube-proxy's nftables mode writes it for that node, or NULL
 * when P has no services (malloc'd). The text is one transaction for
 * `nft -f`: it replaces a kube-proxy table an earlier one left, so it can
 * be applied again to a running lab. */
char *kubeproxy_ruleset(const struct plan *p, size_t node);

/* Appends, for every node of P, the STEP_NFT that applies its
 * kubeproxy_ruleset; nothing when P has no services. */
void kubeproxy_add_steps(struct plan *p);

/* kube-proxy's chain-name bases (its servicePortChainNameBase and
 * servicePortEndpointChainNameBase): "HASH-NS/NAME/PROTO/PORTNAME" and
 * "HASH-NS/NAME/PROTO/PORTNAME__IP/PORT", HASH the first 8 characters of
 * the base32 of the SHA-256 of the rest (malloc'd). The chains are
 * "service-", "local-", "external-", "firewall-" plus the first,
 * "endpoint-" and the set "affinity-" plus the second. */
char *kubeproxy_service_base(const char *ns, const char *name, enum tb_protocol proto, const char *port_name);
char *kubeproxy_endpoint_base(const char *ns, const char *name, enum tb_protocol proto, const char *port_name,
			      uint32_t ip, uint16_t port);

#endif
