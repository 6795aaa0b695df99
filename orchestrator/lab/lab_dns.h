/* Cluster DNS of a running lab, for apply (plan/plan_diff.h's
 * plan_dns_change): its server's files written again in the DNS pod's own
 * root, and dnsmasq told: SIGHUP where only its hosts file changed (it
 * reads that file again and keeps its PID), a restart by the pod's init
 * where its configuration did (machine.h: SIGUSR1; a new PID). Waiting
 * until it serves the new records is check/dns_served.h's. */
#ifndef TESTBED_LAB_DNS_H
#define TESTBED_LAB_DNS_H

#include <sys/types.h>

#include "lab/live.h"
#include "plan/plan_diff.h"
#include "util/util.h"

/* Writes C's files into the DNS pod of L and has dnsmasq take them. With
 * a restart, returns once the old dnsmasq has ended (its successor then
 * starts): *OLD_PID and *NEW_PID say which (NEW_PID 0 when not yet
 * seen); with SIGHUP both are the one PID. */
int lab_dns_update(struct live_lab *l, const struct plan_dns_change *c, pid_t *old_pid, pid_t *new_pid,
		   struct tb_err *e);

#endif
