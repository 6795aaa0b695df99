/* What `apply` and `delete` keep in a running lab's state and change in its
 * kernel (cli/cmd_apply.c decides what; this does it). */
#ifndef TESTBED_LAB_APPLY_H
#define TESTBED_LAB_APPLY_H

#include <cjson/cJSON.h>

#include "lab/live.h"
#include "plan/plan_diff.h"
#include "util/util.h"

struct diag;

/* The lab's object set, {"source": a topology document whose "objects"
 * are the lab's Kubernetes objects, "where": "FILE:LINE" of each, "dir":
 * the folder its relative paths resolve against}: as up kept it and the
 * last apply saved it (objects.json in the lab's state), else (a lab an
 * older testbed brought up) read from the topology file and manifests the
 * lab was brought up from. NULL after reporting through D. */
cJSON *lab_objects_load(const struct live_lab *l, struct diag *d);
/* The set of SOURCE and WHERE (taken over), whose relative paths resolve
 * against DIR, as JSON text (malloc'd): what up keeps for apply. */
char *lab_objects_text(cJSON *source, cJSON *where, const char *dir);
/* Saves TEXT (the set, as JSON) atomically for the next apply. */
int lab_objects_save(const struct live_lab *l, const char *text, struct tb_err *e);
int lab_objects_write(const struct lab_dir *d, const char *text, struct tb_err *e);
/* Applies C to the running lab: the sysctl settings, then each machine's
 * changed tables in one nftables transaction, machines side by side, then
 * the gateway's routes to Services' addresses. */
int lab_apply_changes(struct live_lab *l, const struct plan_changes *c, struct tb_err *e);

/* After a failure: the tables C changed back to the saved plan's (L's),
 * each replaced whole, and its routes as that plan has them, so that the
 * lab stays as that plan says; what
 * fails here is said on stderr, prefixed by WHO. The settings C added
 * stay: they only let bridged traffic reach the rules. */
void lab_apply_undo(struct live_lab *l, const struct plan_changes *c, const char *who);

#endif
