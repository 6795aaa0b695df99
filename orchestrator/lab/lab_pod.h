/* A running pod of a lab, as apply changes what its workload reads
 * (lab_dns.h, lab_ingress.h): its record checked to be the lab's own, its
 * workload's PID, files written into its root. */
#ifndef TESTBED_LAB_POD_H
#define TESTBED_LAB_POD_H

#include <sys/types.h>

#include "lab/live.h"
#include "plan/plan.h"
#include "util/util.h"

/* The record of L's machine I, checked to be the lab's own running
 * process (as exec checks it), with *PIDFD open on it; NULL with E set. */
const struct machine_record *lab_pod_running(struct live_lab *l, size_t i, int *pidfd, struct tb_err *e);
/* The PID of the workload of L's pod MACHINE (the init's child running
 * the pod's command), or 0 with E set. */
pid_t lab_pod_workload_pid(struct live_lab *l, size_t machine, struct tb_err *e);
/* FILES written, each atomically, into the root of the pod whose init is
 * PID (PIDFD), from inside its mount namespace and with no more rights
 * than the pod has: what the root holds (a link where a file was) cannot
 * lead the writing outside it. */
int lab_pod_write_files(pid_t pid, int pidfd, const struct plan_file *files, size_t n, struct tb_err *e);

/* Has the init (INIT_FD) of pod NAME restart its WORKLOAD (machine.h:
 * SIGUSR1), and returns once WORKLOAD has ended: its successor is then
 * starting, under a new PID. */
int lab_pod_restart_workload(int init_fd, pid_t workload, const char *name, struct tb_err *e);

#endif
