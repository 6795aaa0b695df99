/* The saved plan's "namespaces" and "policies" (plan_policy_json.c). */
#ifndef TESTBED_PLAN_POLICY_JSON_H
#define TESTBED_PLAN_POLICY_JSON_H

#include <cjson/cJSON.h>

#include "plan/plan.h"
#include "util/util.h"

/* Adds them to ROOT: namespaces when P has any, policies when it has any. */
void plan_policies_to_json(const struct plan *p, cJSON *root);
/* Reads them into P, checking every value as the model would have (a saved
 * plan is untrusted input). Absent: none (plans saved before them). */
int plan_policies_from_json(struct plan *p, const cJSON *root, struct tb_err *e);

#endif
