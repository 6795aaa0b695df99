/* From a topology file to a validated plan. First the validated model, in
 * three passes that know nothing of each other: parse (topology.c),
 * validate (validate.c) and assign addresses (ipam.c), each run only when
 * those before it found no error: cross-entity checks on a half-parsed
 * file would mostly repeat its errors, and addresses are only assigned on
 * a valid model. Then its plan (plan.c), and a check that its expectations
 * do not contradict each other (check.c). What validate, up, plan, graph
 * and `check FILE` share; nothing here touches the system. */
#ifndef TESTBED_COMPILE_H
#define TESTBED_COMPILE_H

#include "util/diag.h"
#include "plan/plan.h"

struct json_doc;
struct tb_topology;

/* The model of DOC, which this takes over and frees. DIR resolves relative
 * image paths. NULL after reporting every error found through D; the
 * messages name DOC's file. */
struct tb_topology *compile_model_doc(struct json_doc *doc, const char *dir, struct diag *d);
/* The same for FILE ("-": standard input), read and parsed first; relative
 * image paths resolve against FILE's folder. */
struct tb_topology *compile_model_file(const char *file, struct diag *d);

/* The plan of FILE: 0, or -1 after reporting every error found through D. */
int compile_topology_file(const char *file, struct plan *p, struct diag *d);

#endif
