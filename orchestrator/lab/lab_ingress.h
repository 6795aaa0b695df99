/* The ingress controller of a running lab, for apply (plan/plan_diff.h's
 * plan_ingress_change): its nginx.conf written again in the controller
 * pod's root, and nginx restarted by the pod's init (it runs as one
 * process, which cannot reconfigure itself; a new PID, the pod's stays).
 * Waiting until it serves the new file is check/served.h's. */
#ifndef TESTBED_LAB_INGRESS_H
#define TESTBED_LAB_INGRESS_H

#include <sys/types.h>

#include "lab/live.h"
#include "plan/plan_diff.h"
#include "util/util.h"

/* Writes C's nginx.conf into L's controller pod and restarts nginx,
 * returning once the old one (*PID) has ended. */
int lab_ingress_update(struct live_lab *l, const struct plan_ingress_change *c, pid_t *pid, struct tb_err *e);

#endif
