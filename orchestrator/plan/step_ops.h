/* What each kind of step does, as the plan layer sees it: the interface
 * the steps layer implements (steps/step_KIND.c, tabled in steps/step.c),
 * so that the plan's JSON and shell forms dispatch on a step's kind while
 * the plan stays below the executors. Applying takes an execution context
 * only the steps layer defines (steps/step.h). */
#ifndef TESTBED_STEP_OPS_H
#define TESTBED_STEP_OPS_H

#include <cjson/cJSON.h>

#include "plan/plan.h"
#include "util/util.h"

struct exec_ctx;
struct render_ctx;

struct step_ops {
	const char *name; /* in saved plans: "veth", "route", ... */
	/* do it to the kernel (netlink through libnl-route-3, rule sets
	 * through libnftables inside the target namespace) */
	int (*apply)(struct exec_ctx *ctx, const struct step *s, struct tb_err *e);
	/* the equivalent command line, for `testbed plan --format sh` */
	void (*render)(const struct render_ctx *r, const struct step *s);
	/* its fields in the saved plan */
	void (*to_json)(const struct plan *p, const struct step *s, cJSON *o);
	/* Fills S from O; reports what is missing or malformed through E. */
	int (*from_json)(const struct plan *p, const cJSON *o, struct step *s, struct tb_err *e);
	/* Optional, for kinds whose steps may be applied side by side on
	 * worker threads (steps_walk.threads), each machine's by one thread:
	 * applies S touching nothing of CTX but its plan and namespaces, and
	 * may leave in *LATER what FINISH releases later from the walk's own
	 * thread (what would keep the worker waiting, such as an nftables
	 * socket's close). */
	int (*apply_apart)(const struct exec_ctx *ctx, const struct step *s, void **later, struct tb_err *e);
	void (*finish)(void *later);
};

/* Defined by the steps layer (steps/step.c). */
const struct step_ops *step_ops(enum step_kind kind);
/* The kind called NAME, or STEP_KIND_COUNT. */
enum step_kind step_kind_parse(const char *name);

#endif
