/* Each lab's machines live in one cgroup v2 of the lab's own,
 * CGROUP2/testbed/NAME-HASH (HASH: of the state root, so that labs of the
 * same name under two state roots stay apart). Ending a lab is then
 * cgroup.kill and waiting for the cgroup to empty: it works whatever the
 * state files say, reaches `exec` sessions too, and can never touch a
 * process outside the lab. The cgroup2 hierarchy is found in
 * /proc/self/mountinfo: /sys/fs/cgroup on unified hosts,
 * /sys/fs/cgroup/unified on hybrid ones. */
#ifndef TESTBED_CGROUP_H
#define TESTBED_CGROUP_H

#include <stdbool.h>
#include <sys/types.h>

#include "util/util.h"

struct lab_cgroup {
	char *path; /* absolute path of the lab's cgroup directory */
	int dir;    /* O_PATH|O_DIRECTORY of it; -1 when closed */
	int procs;  /* its cgroup.procs, open for writing: moving a process in */
};

#define LAB_CGROUP_INIT {.path = NULL, .dir = -1, .procs = -1}

/* Creates (or opens, if CREATE is false) the lab's cgroup. Returns 1 when
 * open, 0 when it does not exist (!CREATE) or no cgroup2 is mounted, -1 on
 * error. */
int lab_cgroup_open(const char *lab, const char *state_root, bool create, struct lab_cgroup *cg, struct tb_err *e);
void lab_cgroup_close(struct lab_cgroup *cg);

/* Moves the calling process into the cgroup whose cgroup.procs is PROCS_FD. */
int cgroup_enter(int procs_fd);
/* Is process PID in the cgroup? (read from /proc/PID/cgroup) */
bool lab_cgroup_holds(const struct lab_cgroup *cg, pid_t pid);
/* How many processes the cgroup holds (-1: cannot tell). */
long lab_cgroup_count(const struct lab_cgroup *cg);
/* The PIDs it holds now (malloc'd). */
int lab_cgroup_pids(const struct lab_cgroup *cg, pid_t **pids, size_t *n);
/* Kills every process of the cgroup, waits up to TIMEOUT_MS until it is
 * empty, and removes it. */
int lab_cgroup_kill(struct lab_cgroup *cg, int timeout_ms, struct tb_err *e);

/* Every lab cgroup of STATE_ROOT: names "NAME-HASH" (malloc'd array of
 * malloc'd lab NAMEs). */
int lab_cgroups_list(const char *state_root, char ***names, size_t *n, struct tb_err *e);

#endif
