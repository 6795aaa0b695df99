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
 * gets each applied step and the milliseconds it took. Either may be NULL.
 * With THREADS, a run of consecutive steps whose kind allows it (nft rule
 * sets) is applied over that many worker threads, each machine's steps in
 * order by one of them (steps/step.h); the walk goes on once the run is
 * over. Their AFTER comes from the walk's thread as each ends, with the
 * milliseconds since the run's previous report (so that, as for the
 * others, the reports add up to the walk's wall clock), and BEFORE runs
 * between reports. THREADS 0: every step in the walk's thread, in turn. */
struct steps_walk {
	const bool *kinds; /* STEP_KIND_COUNT flags: which kinds to apply; NULL: all */
	int (*before)(void *arg, struct tb_err *e);
	void (*after)(void *arg, const struct step *s, double ms);
	void *arg;
	unsigned threads;
};
/* A running lab's route S (a STEP_ROUTE of CTX's plan, apply's): added or
 * replacing the route to its destination in its table, or with DELETE
 * that route deleted (none there is no error). */
int step_route_change(struct exec_ctx *ctx, const struct step *s, bool delete, struct tb_err *e);

/* Applies CTX's plan's steps, in order, as WALK says. Stops at the first
 * that fails, E naming it; its errno, where the kernel gave one, is kept
 * (tb_err.err: EEXIST, ENOENT...). In a run applied side by side, the
 * steps already running end first, and E is the earliest failure in plan
 * order. */
int steps_apply(struct exec_ctx *ctx, const struct steps_walk *walk, struct tb_err *e);

/* Steps applied side by side: a run of consecutive steps whose kind allows
 * it (step_ops.apply_apart: nft rule sets), spread over worker threads.
 * A machine's steps run one at a time, in plan order, so that a machine
 * ends as a sequential walk leaves it; machines are independent
 * namespaces, and the compiler puts rule sets after every link, address
 * and sysctl (plan_compile.c orders steps by kind), so nothing in a run
 * waits on another machine's steps. The walk's own thread reports each
 * step as it ends (progress, interrupts) and releases what the workers
 * hand back, while they go on.
 *
 * steps_apply uses it for walks with threads (steps/apart.c); which step
 * starts next is pure, for unit tests, and a run takes an apply function
 * of the caller's. */

/* Which step of a run a free worker takes: the first in plan order that
 * no earlier step of its machine waits before, and whose machine has no
 * step running (BUSY, per plan machine). RUN holds the run's steps (N
 * indexes into P's steps, ascending), STARTED which of them have started;
 * WAITING is scratch, a flag per plan machine. Returns the position in
 * RUN, or N when none can start now. Plan order keeps a machine's steps
 * apart in time as well: closing one machine's nftables socket holds that
 * namespace's rule changes until the kernel has freed what the closed one
 * replaced, so the next step of the same machine is best not right behind. */
size_t apart_next(const struct plan *p, const size_t *run, const bool *started, size_t n, const bool *busy,
		  bool *waiting);

/* How a run applies a step, from a worker thread, and releases what the
 * step left, from the walk's thread once the step is reported. */
struct apart_ops {
	int (*apply)(void *arg, const struct step *s, void **later, struct tb_err *e);
	void (*finish)(void *arg, void *later); /* may be NULL */
	void *arg;
};

/* Applies the steps STEPS of P (N indexes, ascending) over at most THREADS
 * worker threads (at least one; no more than there are machines), through
 * OPS. No more leftovers than threads wait for release, so that at most
 * twice as many exist at once, running or waiting (an nftables context
 * holds a socket, a descriptor, and memory). WALK's before runs between
 * reports (a failure stops the run: no step starts after it); its after
 * gets each step as it ends, with the milliseconds since the previous
 * report, so that a run's reports add up to its wall clock. A failed step
 * stops the run too: the steps running end, no other starts, and E is the
 * failure of the earliest failed step in plan order (an interrupt's when
 * none failed). Returns 0 or -1. */
int apart_apply(const struct plan *p, const size_t *steps, size_t n, unsigned threads, const struct apart_ops *ops,
		const struct steps_walk *walk, struct tb_err *e);

/* Worker threads for a machine: the CPUs this process may run on (its
 * affinity, which cgroups' cpusets and taskset narrow), at least one. */
unsigned apart_cpus(void);

extern const struct step_ops step_machine_ops, step_bridge_ops, step_veth_ops, step_vxlan_ops, step_address_ops,
	step_route_ops, step_neigh_ops, step_fdb_ops, step_sysctl_ops, step_nft_ops;

#endif
