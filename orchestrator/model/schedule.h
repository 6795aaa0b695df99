/* The scheduler (schedule.c): places the pods of the topology's workloads
 * (Kubernetes objects) on its nodes, named as their controllers name them.
 * A pass of the model's compile, after parsing and before validation. */
#ifndef TESTBED_SCHEDULE_H
#define TESTBED_SCHEDULE_H

#include <stdbool.h>

#include "model/topology.h"

struct diag;

/* False after reporting through D each workload that cannot be placed. */
bool schedule_workloads(struct tb_topology *t, struct diag *d);

#endif
