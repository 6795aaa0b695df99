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

int steps_apply(struct exec_ctx *ctx, const struct steps_walk *walk, struct tb_err *e)
{
	const struct plan *p = ctx->plan;
	for (size_t i = 0; i < p->n_steps; i++) {
		const struct step *s = &p->steps[i];
		if (walk->kinds && !walk->kinds[s->kind])
			continue;
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
