/* The compiler: a validated topology to a plan (plan_compile.c and its
 * passes, which share plan_passes.h). Pure: no system calls. */
#ifndef TESTBED_PLAN_COMPILE_H
#define TESTBED_PLAN_COMPILE_H

#include "model/topology.h"
#include "plan/plan.h"
#include "util/util.h"

/* Compile T, read from SOURCE (the topology file's absolute path, for
 * the record; may be NULL). Fails (with a message) only for features not
 * built yet. */
int plan_build(const struct tb_topology *t, const char *source, struct plan *p, struct tb_err *e);

#endif
