/* The saved plan's "services" and "kubeProxy" (plan_services_json.c). */
#ifndef TESTBED_PLAN_SERVICES_JSON_H
#define TESTBED_PLAN_SERVICES_JSON_H

#include <cjson/cJSON.h>

#include "plan/plan.h"
#include "util/util.h"

/* Adds them to ROOT when P has services. */
void plan_services_to_json(const struct plan *p, cJSON *root);
/* Reads them (after the machines, which endpoints name) into P. */
int plan_services_from_json(struct plan *p, const cJSON *root, struct tb_err *e);

#endif
