/* Cluster DNS in the model (cluster_dns.c): whether the lab runs it, and,
 * when it does, the objects a cluster has for it (kubeadm's names): the
 * namespace kube-system, the pod kube-system/coredns (labels k8s-app:
 * kube-dns; dnsmasq from the pod image on port 53, UDP "dns" and TCP
 * "dns-tcp") on the first node, after every other pod there so that no
 * user pod's address moves, and the Service kube-system/kube-dns at the
 * service range's tenth address. A pass of the model's compile, after the
 * scheduler and before validation and IPAM. */
#ifndef TESTBED_CLUSTER_DNS_H
#define TESTBED_CLUSTER_DNS_H

#include <stdbool.h>

#include "model/topology.h"

struct diag;

#define TB_DNS_NAMESPACE "kube-system"
#define TB_DNS_POD "coredns"
#define TB_DNS_SERVICE "kube-dns"
#define TB_DNS_LABEL_KEY "k8s-app"
#define TB_DNS_LABEL_VALUE "kube-dns"
/* What the DNS pod runs, and where its configuration lives in its root. */
#define TB_DNS_CONFIG "/etc/dnsmasq.conf"
#define TB_DNS_HOSTS "/etc/dnsmasq.hosts"

/* False after reporting through D what clashes with cluster DNS: a user
 * object with its Service's name or address, its pod's name or labels. */
bool cluster_dns_add(struct tb_topology *t, struct diag *d);

#endif
