/* nftables rule sets, one table each (services, policy and egress each get
 * their own, as kube-proxy keeps its table apart from other components).
 * Applied through libnftables from inside the machine's namespace: the
 * context binds its netlink socket where it is created, and a buffer is
 * one transaction, so a rule set is applied whole or not at all. By hand:
 * `ip netns exec NS nft -f - <<EOF`. Rule sets of different machines load
 * side by side on the walk's worker threads (steps/step.h): a node's
 * kube-proxy table of 1000 services costs about 0.4 s of CPU, parsing in
 * libnftables and checking in the kernel. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <nftables/libnftables.h>

#include "steps/netlink.h"
#include "steps/step.h"

/* nft_ctx_new's first call sets libnftables' process-wide state up (its
 * once-only init is no lock-guarded): contexts are made one at a time, then
 * each is used by one thread only. */
static pthread_mutex_t new_lock = PTHREAD_MUTEX_INITIALIZER;

/* Applies S's rule set from inside its machine's namespace, entered by
 * this thread alone, and hands back the context: the socket it opened
 * there is the caller's to close (see finish). */
static int load(const struct exec_ctx *ctx, const struct step *s, struct nft_ctx **out, struct tb_err *e)
{
	const struct step_nft *n = &s->u.nft;
	const char *machine = ctx->plan->machines[s->machine].name;
	int self;
	*out = NULL;
	if (netns_enter(ctx->netns[s->machine], &self, e) < 0)
		return tb_context(e, "%s", machine);
	/* The context's socket, opened here, below FD_SETSIZE, which
	 * libnftables' select() needs; the reserve is shared, hence the lock. */
	pthread_mutex_lock(&new_lock);
	fd_low_release();
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	fd_low_restore();
	pthread_mutex_unlock(&new_lock);
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
			nft_ctx_free(nft);
		} else {
			*out = nft;
		}
	}
	netns_leave(&self);
	return rc;
}

static int apply(struct exec_ctx *ctx, const struct step *s, struct tb_err *e)
{
	struct nft_ctx *nft;
	int rc = load(ctx, s, &nft, e);
	if (nft)
		nft_ctx_free(nft);
	return rc;
}

static int apply_apart(const struct exec_ctx *ctx, const struct step *s, void **later, struct tb_err *e)
{
	struct nft_ctx *nft;
	int rc = load(ctx, s, &nft, e);
	*later = nft;
	return rc;
}

/* Closing an nftables socket waits for the kernel to free what the
 * machine's recent transactions replaced, after an RCU grace period (a
 * rule set that deletes its table first, to replace it whole, leaves such
 * a thing: 10-15 ms a close): the walk closes them while the workers go on. */
static void finish(void *later)
{
	nft_ctx_free(later);
	/* Its socket's low descriptor is free again: back to the reserve. */
	pthread_mutex_lock(&new_lock);
	fd_low_restore();
	pthread_mutex_unlock(&new_lock);
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
	.apply_apart = apply_apart,
	.finish = finish,
};
