/* From a topology file to a validated plan: the validated model
 * (model/compile.h), its plan (plan.c), and expectations that do not
 * contradict each other (check.c). What validate, up, plan, graph and
 * `check FILE` share; nothing here touches the system. */
#ifndef TESTBED_CLI_COMPILE_H
#define TESTBED_CLI_COMPILE_H

#include "plan/plan.h"
#include "util/diag.h"

/* 0, or -1 after reporting every error found through D. */
int compile_topology_file(const char *file, struct plan *p, struct diag *d);

/* The same, reading FILE once, with the Kubernetes objects it declares
 * (model/compile.h's compile_source_of: *SOURCE and *WHERE) and the folder
 * its relative paths resolve against, absolute (*DIR, malloc'd): what up
 * keeps for apply, standard input's too. */
#include <cjson/cJSON.h>
int compile_topology_file_source(const char *file, struct plan *p, cJSON **source, cJSON **where, char **dir,
				 struct diag *d);

struct json_doc;
/* The same for DOC, which this takes over: DIR resolves its relative paths,
 * TOPOLOGY is the file the plan names (apply's edited object set, compiled
 * as the lab's own topology). */
int compile_topology_doc(struct json_doc *doc, const char *dir, const char *topology, struct plan *p,
			 struct diag *d);

#endif
