/* Lab lifecycle: up, down, status, exec. Library code: each returns an exit
 * category (enum tb_exit) and says why through a tb_err; the cmd_* files
 * print and choose what the user sees. */
#ifndef TESTBED_LAB_H
#define TESTBED_LAB_H

#include <stdbool.h>
#include <sys/types.h>

#include "plan.h"
#include "state.h"
#include "util.h"

/* Brings up the lab PLAN describes (compiled and validated): saves the
 * plan in the lab's state under STATE_DIR, walks its steps, starts the
 * workloads and waits up to TIMEOUT_S for every HTTP server. Fills in the
 * plan's image hashes and timings, and PIDS (per plan machine, malloc'd).
 * On failure removes all it made. */
int lab_up(struct plan *p, const char *state_dir, int timeout_s, pid_t **pids, struct tb_err *e);

/* Ends every process of lab NAME and removes its state. *WAS_UP says
 * whether there was anything to do. */
int lab_down(const char *name, const char *state_dir, bool *was_up, struct tb_err *e);

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

#endif
