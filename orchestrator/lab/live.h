/* A running lab, opened for looking into it (check, trace, graph, plan): its
 * records, its saved plan, and each machine's network namespace. The lab's
 * directory stays locked while open, so up and down wait until the look is
 * over. Nothing here reads the topology file. */
#ifndef TESTBED_LIVE_H
#define TESTBED_LIVE_H

#include "plan/plan.h"
#include "lab/state.h"
#include "util/util.h"

struct live_lab {
	struct lab_dir dir;
	struct lab_record record;
	struct plan plan;
	int *netns; /* per plan machine; -1 when it does not run (NULL: not opened) */
};

/* Opens lab NAME; with NETNS, also each machine's network namespace.
 * Returns TB_EXIT_OK, or TB_EXIT_USAGE when the lab is not up or was
 * saved by an incompatible testbed, or TB_EXIT_SYSTEM; E says why. */
int live_open(const char *name, const char *state_dir, bool netns, struct live_lab *l, struct tb_err *e);
void live_close(struct live_lab *l);

/* A lab named directly, or by its topology file (read only for its name).
 * NULL with E set when ARG is neither. */
char *lab_name_from_arg(const char *arg, struct tb_err *e);

#endif
