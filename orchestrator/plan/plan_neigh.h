/* The neighbour designs (plan_neigh.c), as `validate` and the tests see
 * them; the compiler runs the design itself through plan_passes.h. */
#ifndef TESTBED_PLAN_NEIGH_H
#define TESTBED_PLAN_NEIGH_H

#include <stdint.h>

#include "plan/plan.h"

/* Neighbour designs (plan_neigh.c). The kernel's neighbour table is one
 * for every namespace on the machine: gc_thresh3, 1024 learned entries by
 * default, settable only from the machine's own namespace. `auto` keeps
 * the article's ARP while a full mesh fits in half of it, since other labs
 * and the machine itself share the table. */
#define PLAN_NEIGH_TABLE 1024
#define PLAN_NEIGH_AUTO_LIMIT (PLAN_NEIGH_TABLE / 2)

/* One line for `validate`: the design and why (malloc'd). */
char *plan_neighbours_explain(const struct plan *p);
/* The MAC the static design gives an interface: from its address when it
 * has one (unique in a lab), else from a running number SEQ. */
void plan_neigh_mac(uint32_t address, uint32_t seq, char mac[PLAN_MAC]);

#endif
