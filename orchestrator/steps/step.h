/* Step kinds as a table, the way iproute2 keeps one file per object: each
 * kind lives in its own file, orchestrator/steps/step_KIND.c, and fills in
 * the plan layer's struct step_ops (plan/step_ops.h):
 *   apply    do it to the kernel (netlink through libnl-route-3, rule sets
 *            through libnftables inside the target namespace)
 *   render   the equivalent command line, for `testbed plan --format sh`
 *   to_json / from_json   its fields in the saved plan
 * A new kind of step is a new enum value in plan/plan.h, a new step_KIND.c
 * and a line in step.c's table.
 *
 * Steps apply to machines that already run: an execution context holds
 * each machine's network namespace, from `up` while it builds the lab or
 * from a running lab (lab/live.h), and steps_apply walks a plan's steps
 * through it. */
#ifndef TESTBED_STEP_H
#define TESTBED_STEP_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "plan/plan.h"
#include "plan/plan_fields.h"
#include "plan/plan_render.h"
#include "plan/step_ops.h"
#include "util/util.h"

struct nl_sock;

/* What the executors act on: the plan and its running machines. */
struct exec_ctx {
	const struct plan *plan;
	const int *netns;       /* per plan machine: its network namespace; -1: not running */
	struct nl_sock **socks; /* per plan machine, opened on first use */
	/* STEP_MACHINE: making a machine is up's business (state, logs,
	 * images), so the step calls back; NULL where machines cannot be
	 * added (a running lab). */
	int (*spawn)(struct exec_ctx *ctx, size_t machine, struct tb_err *e);
	void *owner;
};

/* A context over PLAN's machines whose namespaces are NETNS (the caller
 * keeps both alive); exec_ctx_close closes the sockets it opened. */
void exec_ctx_init(struct exec_ctx *ctx, const struct plan *plan, const int *netns);
void exec_ctx_close(struct exec_ctx *ctx);

/* The netlink socket of MACHINE's namespace (opened on first use). */
struct nl_sock *exec_sock(struct exec_ctx *ctx, size_t machine, struct tb_err *e);

/* How a walk reports and may be stopped: BEFORE runs ahead of each step
 * (a negative return, with E set, stops the walk: an interrupt); AFTER
 * gets each applied step and the milliseconds it took. Either may be NULL. */
struct steps_walk {
	const bool *kinds; /* STEP_KIND_COUNT flags: which kinds to apply; NULL: all */
	int (*before)(void *arg, struct tb_err *e);
	void (*after)(void *arg, const struct step *s, double ms);
	void *arg;
};
/* Applies CTX's plan's steps, in order, as WALK says. Stops at the first
 * that fails, E naming it; its errno, where the kernel gave one, is kept
 * (tb_err.err: EEXIST, ENOENT...). */
int steps_apply(struct exec_ctx *ctx, const struct steps_walk *walk, struct tb_err *e);

extern const struct step_ops step_machine_ops, step_bridge_ops, step_veth_ops, step_vxlan_ops, step_address_ops,
	step_route_ops, step_neigh_ops, step_fdb_ops, step_sysctl_ops, step_nft_ops;

#endif
