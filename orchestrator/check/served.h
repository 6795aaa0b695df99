/* Servers serving what apply changed: cluster DNS (lab/lab_dns.h wrote
 * its files and told dnsmasq) and the ingress controller (lab/lab_ingress.h):
 * the readiness rule of the project, ready when it answers, with the
 * answer it now must give. */
#ifndef TESTBED_SERVED_H
#define TESTBED_SERVED_H

#include <stdint.h>

#include "plan/plan_diff.h"
#include "util/util.h"

/* Asks the server at SERVER:53, over UDP from network namespace NETNS,
 * until it answers as C's probe says (its name's A records hold the probe
 * address, or no longer do), or, without a probe, answers at all (the A
 * query for FALLBACK); a refused or unanswered query is asked again, for
 * at most TIMEOUT_MS. */
int dns_wait_served(int netns, uint32_t server, const struct plan_dns_change *c, const char *fallback,
		    int timeout_ms, struct tb_err *e);

/* Asks the ingress controller's status server (127.0.0.1, its port, from
 * the controller pod's network namespace NETNS) for its configuration's
 * checksum until it is C's, for at most TIMEOUT_MS. */
int ingress_wait_served(int netns, const struct plan_ingress_change *c, int timeout_ms, struct tb_err *e);

#endif
