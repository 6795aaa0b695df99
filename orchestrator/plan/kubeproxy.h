/* kube-proxy's nftables mode (kubeproxy.c). */
#ifndef TESTBED_KUBEPROXY_H
#define TESTBED_KUBEPROXY_H

#include <stddef.h>

#include "plan/plan.h"

/* The nft ruleset text for NODE of P as kube-proxy writes it, or NULL
 * when P has no services (malloc'd). */
char *kubeproxy_ruleset(const struct plan *p, size_t node);

#endif
