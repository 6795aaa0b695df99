/* Lab lifecycle, a file per command: lab_up.c, lab_down.c, lab_status.c
 * (status and gc), lab_exec.c. Library code: each returns an exit
 * category (enum tb_exit) and says why through a tb_err; the cmd_* files
 * print and choose what the user sees. */
#ifndef TESTBED_LAB_H
#define TESTBED_LAB_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "plan/plan.h"
#include "util/progress.h"
#include "lab/state.h"
#include "util/util.h"

/* Brings up the lab PLAN describes (compiled and validated): saves the
 * plan in the lab's state under STATE_DIR, walks its steps, starts the
 * workloads and waits up to TIMEOUT_S for every HTTP server. Fills in the
 * plan's image hashes and timings, and PIDS (per plan machine, malloc'd).
 * Reports each phase's progress to PROGRESS (NULL: none), and leaves its
 * line on screen for the caller to clear. On failure removes all it made.
 * OBJECTS (NULL: none) is the lab's object set as lab/lab_apply.h keeps it,
 * saved with the plan for `apply`. */
int lab_up(struct plan *p, const char *objects, const char *state_dir, int timeout_s, struct progress *progress,
	   pid_t **pids, struct tb_err *e);

struct down_result {
	bool was_up;    /* there was anything to do */
	bool by_cgroup; /* ended by its cgroup; else by its recorded PIDs (no cgroup2) */
};
/* Ends every process of lab NAME and removes its state. */
int lab_down(const char *name, const char *state_dir, struct down_result *res, struct tb_err *e);

/* The labs under STATE_DIR that `down --all` (ALL) or `gc` removes: every
 * lab with state or a cgroup, or only those whose up died (a lab not "up"
 * whose up process is gone, or a cgroup with no lab state). Malloc'd names. */
int lab_list_removable(const char *state_dir, bool all, char ***names, size_t *n, struct tb_err *e);

/* A lab as status shows it: its records, and its saved plan when this
 * testbed can read it (else PLAN_ERROR says why). */
struct lab_status {
	struct lab_record record;
	bool has_plan;
	struct plan plan;
	char plan_error[sizeof(((struct tb_err *)0)->msg)];
};
/* Lab NAME (TB_EXIT_USAGE when not up), or every lab (names sorted). */
int lab_status_read(const char *name, const char *state_dir, struct lab_status **labs, size_t *n, struct tb_err *e);
void lab_status_free(struct lab_status *labs, size_t n);

/* Runs ARGV (a shell when empty) in TARGET of lab NAME, with all its
 * namespaces and root; returns the command's exit code, or a tb_exit
 * value with E set when it could not be started. */
int lab_exec(const char *name, const char *target, char **argv, const char *state_dir, struct tb_err *e);

/* The capabilities each kind of machine keeps (docs/security.md), for its
 * init and for what exec runs in it. */
uint64_t lab_machine_caps(enum machine_kind kind);

#endif
