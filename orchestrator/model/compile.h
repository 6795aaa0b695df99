/* From a topology file to a validated plan: parse and validate the model
 * (topology.c, validate.c, ipam.c), compile it (plan.c), and check that its
 * expectations do not contradict each other (check.c). What validate, up,
 * plan, graph and `check FILE` share; nothing here touches the system. */
#ifndef TESTBED_COMPILE_H
#define TESTBED_COMPILE_H

#include "util/diag.h"
#include "plan/plan.h"

/* 0, or -1 after reporting every error found through D. */
int compile_topology_file(const char *file, struct plan *p, struct diag *d);

#endif
