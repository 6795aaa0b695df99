/* A running lab, opened for looking into it (check, trace): its records,
 * the topology it was brought up with, the plan compiled from that, and
 * each machine's network namespace. The lab's directory stays locked while
 * open, so up and down wait until the look is over. */
#ifndef TESTBED_LIVE_H
#define TESTBED_LIVE_H

#include "plan.h"
#include "state.h"
#include "topology.h"
#include "util.h"

struct live_lab {
	struct lab_dir dir;
	struct lab_record record;
	struct tb_topology *topology; /* the recorded copy */
	struct plan plan;
	int *netns; /* per plan machine; -1 when it does not run */
};

/* Opens lab NAME. Returns TB_EXIT_OK, or TB_EXIT_USAGE when the lab is not
 * up, or TB_EXIT_SYSTEM; E says why. */
int live_open(const char *name, const char *state_dir, struct live_lab *l, struct tb_err *e);
void live_close(struct live_lab *l);

/* A lab named directly, or by its topology file (read only for its name).
 * NULL after printing why, prefixed with "testbed CMD: ". */
char *lab_name_from_arg(const char *arg, const char *cmd);

#endif
