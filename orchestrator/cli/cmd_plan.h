/* cmd_plan.c: the plan behind FILE|NAME, for the commands that show a lab without
 * probing it (plan, graph): a running lab's saved plan, or a topology
 * file compiled on the spot. */
#ifndef TESTBED_CMD_PLAN_H
#define TESTBED_CMD_PLAN_H

#include <stdbool.h>

#include "cli/commands.h"
#include "plan/plan.h"

/* Fills P; *SAVED says whether it is a running lab's. Returns TB_EXIT_OK
 * or an exit code after printing why. */
int plan_for_arg(const struct command *cmd, const char *arg, const char *state_dir, struct plan *p, bool *saved);

#endif
