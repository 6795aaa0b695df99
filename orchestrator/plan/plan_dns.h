/* Cluster DNS in the plan (plan_dns.c): what the kubelet writes into each
 * pod's /etc/resolv.conf, and the DNS server's configuration, generated
 * from the plan's services and pods only, by the Kubernetes DNS
 * specification (github.com/kubernetes/dns docs/specification.md) for
 * Debian's dnsmasq. Pure: unit-tested. */
#ifndef TESTBED_PLAN_DNS_H
#define TESTBED_PLAN_DNS_H

#include <stdbool.h>
#include <stdint.h>

#include "model/topology.h"
#include "plan/plan.h"

/* The DNS schema version the records follow (its TXT record). */
#define PLAN_DNS_SCHEMA "1.0.1"
#define PLAN_DNS_TTL 30 /* seconds: kubeadm's CoreDNS "ttl 30" */

/* The pod's /etc/resolv.conf as the kubelet makes it (malloc'd; "" for no
 * setting at all): DNS_ADDRESS 0 means the cluster runs no DNS. Nodes have
 * no resolver of their own here: what a pod takes from its node (dnsPolicy
 * Default) is nothing. */
char *plan_dns_resolv_conf(const char *namespace, bool host_network, enum tb_dns_policy policy,
			   const struct tb_dns_config *config, const char *domain, uint32_t dns_address);

/* The pod's /etc/hosts as the kubelet manages it (malloc'd), or NULL where
 * the one up writes for every machine (localhost, its address and name)
 * says the same: a pod without hostname, subdomain or hostAliases. A pod
 * on its node's network takes the node's (NODE, at the pod's address) and
 * its aliases. */
char *plan_dns_etc_hosts(const struct tb_pod *pod, const char *node, const char *domain);

/* The DNS server's files for plan P (p->cluster_domain set): dnsmasq's
 * configuration, listening on LISTEN, and its hosts file (the A and PTR
 * records), which the configuration names as HOSTS_PATH. Malloc'd. */
char *plan_dns_dnsmasq_conf(const struct plan *p, uint32_t listen, const char *hosts_path);
char *plan_dns_hosts(const struct plan *p);

#endif
