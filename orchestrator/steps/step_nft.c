/* nftables rule sets, one table each (services, policy and egress each get
 * their own, as kube-proxy keeps its table apart from other components).
 * Applied through libnftables from inside the machine's namespace: the
 * context binds its netlink socket where it is created, and a buffer is
 * one transaction, so a rule set is applied whole or not at all. By hand:
 * `ip netns exec NS nft -f - <<EOF`. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include <nftables/libnftables.h>

#include "steps/netlink.h"
#include "steps/step.h"

static int apply(struct exec_ctx *ctx, const struct step *s, struct tb_err *e)
{
	const struct step_nft *n = &s->u.nft;
	const char *machine = ctx->plan->machines[s->machine].name;
	int self;
	if (netns_enter(ctx->netns[s->machine], &self, e) < 0)
		return tb_context(e, "%s", machine);
	/* Its socket below FD_SETSIZE, which libnftables' select() needs. */
	fd_low_release();
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	int rc = 0;
	if (!nft) {
		rc = tb_fail(e, "%s: nft table %s: cannot create an nftables context", machine, n->table);
	} else {
		nft_ctx_buffer_output(nft);
		nft_ctx_buffer_error(nft);
		if (nft_run_cmd_from_buffer(nft, n->ruleset) != 0) {
			const char *why = nft_ctx_get_error_buffer(nft);
			rc = tb_fail(e, "%s: nft table %s: %.*s", machine, n->table,
				     (int)strcspn(why ? why : "rejected", "\n"), why ? why : "rejected");
		}
		nft_ctx_free(nft);
	}
	fd_low_restore();
	netns_leave(&self);
	return rc;
}

static void render(const struct render_ctx *r, const struct step *s)
{
	const struct step_nft *n = &s->u.nft;
	struct render_argv a = {.n = 0};
	render_push(&a, "ip", "netns", "exec", render_ns(r, s->machine), "nft", "-f", "-", NULL);
	render_heredoc(r, &a, n->ruleset);
}

static void to_json(const struct plan *p, const struct step *s, cJSON *o)
{
	(void)p;
	json_put_str(o, "table", s->u.nft.table);
	json_put_str(o, "ruleset", s->u.nft.ruleset);
}

static int from_json(const struct plan *p, const cJSON *o, struct step *s, struct tb_err *e)
{
	(void)p;
	struct step_nft *n = &s->u.nft;
	if (!(n->table = json_get_strdup(o, "table", e)) || !(n->ruleset = json_get_strdup(o, "ruleset", e)))
		return -1;
	/* Rule sets are text, and the script shows them as they are. */
	for (const char *c = n->ruleset; *c; c++)
		if ((unsigned char)*c < ' ' && *c != '\n' && *c != '\t')
			return tb_fail(e, "\"ruleset\": a control character (\\x%02x) at byte %zu", (unsigned char)*c,
				       (size_t)(c - n->ruleset));
	return 0;
}

const struct step_ops step_nft_ops = {
	.name = "nft",
	.apply = apply,
	.render = render,
	.to_json = to_json,
	.from_json = from_json,
};
