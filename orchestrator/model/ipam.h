/* The third of compile.h's passes over a topology: the addresses of the
 * cluster part of the lab (the gateway, nodes, node pod CIDRs, cbr0 and
 * pods), as kubenet and the node IPAM controller assign them. */
#ifndef TESTBED_IPAM_H
#define TESTBED_IPAM_H

#include <stdbool.h>

struct diag;
struct tb_topology;

/* Assigns T's addresses; T has been validated. False after reporting
 * through D what does not fit. */
bool ipam_assign(struct tb_topology *t, struct diag *d);

#endif
