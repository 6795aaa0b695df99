/* The table of step kinds, and what their files share. */
#define _GNU_SOURCE
#include "steps/step.h"

#include <errno.h>
#include <string.h>

#include "steps/netlink.h"

static const struct step_ops *const table[STEP_KIND_COUNT] = {
	[STEP_MACHINE] = &step_machine_ops, [STEP_BRIDGE] = &step_bridge_ops, [STEP_VETH] = &step_veth_ops,
	[STEP_VXLAN] = &step_vxlan_ops,     [STEP_ADDRESS] = &step_address_ops, [STEP_ROUTE] = &step_route_ops,
	[STEP_NEIGH] = &step_neigh_ops,     [STEP_FDB] = &step_fdb_ops,         [STEP_SYSCTL] = &step_sysctl_ops,
	[STEP_NFT] = &step_nft_ops,
};

const struct step_ops *step_ops(enum step_kind kind)
{
	return (size_t)kind < STEP_KIND_COUNT ? table[kind] : NULL;
}

enum step_kind step_kind_parse(const char *name)
{
	for (size_t i = 0; i < STEP_KIND_COUNT; i++)
		if (strcmp(table[i]->name, name) == 0)
			return (enum step_kind)i;
	return STEP_KIND_COUNT;
}

void exec_ctx_init(struct exec_ctx *ctx, const struct plan *plan, const int *netns)
{
	*ctx = (struct exec_ctx){
		.plan = plan,
		.netns = netns,
		.socks = xcalloc(plan->n_machines ? plan->n_machines : 1, sizeof(*ctx->socks)),
	};
}

void exec_ctx_close(struct exec_ctx *ctx)
{
	for (size_t i = 0; ctx->socks && i < ctx->plan->n_machines; i++)
		nl_close(ctx->socks[i]);
	free(ctx->socks);
	ctx->socks = NULL;
}

struct nl_sock *exec_sock(struct exec_ctx *ctx, size_t machine, struct tb_err *e)
{
	if (ctx->netns[machine] < 0) {
		tb_fail_errno(e, ESRCH, "%s: not running", ctx->plan->machines[machine].name);
		return NULL;
	}
	if (!ctx->socks[machine] && !(ctx->socks[machine] = nl_open_in(ctx->netns[machine], e)))
		tb_context(e, "%s", ctx->plan->machines[machine].name);
	return ctx->socks[machine];
}

/* A run's kind and context, for its worker threads: apply_apart only
 * reads the context. */
struct run_arg {
	const struct exec_ctx *ctx;
	const struct step_ops *ops;
};

static int run_apply(void *arg, const struct step *s, void **later, struct tb_err *e)
{
	const struct run_arg *r = arg;
	return r->ops->apply_apart(r->ctx, s, later, e);
}

static void run_finish(void *arg, void *later)
{
	const struct run_arg *r = arg;
	r->ops->finish(later);
}

/* Applies side by side the run of steps of FIRST's kind from FIRST on
 * (skipping those WALK leaves out; the compiler orders steps by kind);
 * *END is where the run ends. */
static int apply_run(struct exec_ctx *ctx, const struct steps_walk *walk, size_t first, size_t *end,
		     struct tb_err *e)
{
	const struct plan *p = ctx->plan;
	enum step_kind kind = p->steps[first].kind;
	autofree size_t *run = xcalloc(p->n_steps - first, sizeof(*run));
	size_t n = 0, i = first;
	for (; i < p->n_steps; i++) {
		const struct step *s = &p->steps[i];
		if (walk->kinds && !walk->kinds[s->kind])
			continue;
		if (s->kind != kind)
			break;
		run[n++] = i;
	}
	*end = i;
	struct run_arg r = {.ctx = ctx, .ops = step_ops(kind)};
	struct apart_ops ops = {.apply = run_apply, .finish = r.ops->finish ? run_finish : NULL, .arg = &r};
	return apart_apply(p, run, n, walk->threads, &ops, walk, e);
}

int steps_apply(struct exec_ctx *ctx, const struct steps_walk *walk, struct tb_err *e)
{
	const struct plan *p = ctx->plan;
	for (size_t i = 0; i < p->n_steps; i++) {
		const struct step *s = &p->steps[i];
		if (walk->kinds && !walk->kinds[s->kind])
			continue;
		if (walk->threads && step_ops(s->kind)->apply_apart) {
			size_t end;
			if (apply_run(ctx, walk, i, &end, e) < 0)
				return -1;
			i = end - 1;
			continue;
		}
		if (walk->before && walk->before(walk->arg, e) < 0)
			return -1;
		if (s->kind == STEP_MACHINE && !ctx->spawn)
			return tb_fail(e, "%s: machines cannot be added to a running lab", p->machines[s->machine].name);
		long long start = now_ms();
		if (step_ops(s->kind)->apply(ctx, s, e) < 0)
			return -1;
		if (walk->after)
			walk->after(walk->arg, s, (double)(now_ms() - start));
	}
	return 0;
}
