/* Conntrack entries and live rulesets, read from inside a namespace. */
#define _GNU_SOURCE
#include "steps/netfilter.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <netlink/netfilter/ct.h>
#include <netlink/netfilter/nfnl.h>
#include <netlink/netlink.h>
#include <nftables/libnftables.h>

#include "steps/netlink.h"

/* An address of a conntrack tuple as a host-order IPv4 address; 0 when it
 * is none. */
static uint32_t tuple_addr(struct nl_addr *a)
{
	if (!a || nl_addr_get_family(a) != AF_INET || nl_addr_get_len(a) != 4)
		return 0;
	uint32_t be;
	memcpy(&be, nl_addr_get_binary_addr(a), 4);
	return ntohl(be);
}

static void read_tuple(const struct nfnl_ct *ct, int repl, struct nf_tuple *t)
{
	*t = (struct nf_tuple){
		.l4 = nfnl_ct_get_proto(ct),
		.src = tuple_addr(nfnl_ct_get_src(ct, repl)),
		.dst = tuple_addr(nfnl_ct_get_dst(ct, repl)),
		.sport = nfnl_ct_get_src_port(ct, repl),
		.dport = nfnl_ct_get_dst_port(ct, repl),
	};
}

int nf_conntrack_find(int netns_fd, const struct nf_tuple *orig, struct nf_conntrack *out, struct tb_err *e)
{
	return nf_conntrack_find_reply(netns_fd, orig, 0, out, e);
}

int nf_conntrack_find_reply(int netns_fd, const struct nf_tuple *orig, uint32_t reply_src, struct nf_conntrack *out,
			    struct tb_err *e)
{
	int self;
	if (netns_enter(netns_fd, &self, e) < 0)
		return -1;
	/* The socket is bound to the namespace it is made in; the dump of a
	 * lab machine's table is small, and a trace asks rarely. */
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_cache *cache = NULL;
	int rc = 0, err = sk ? nfnl_connect(sk) : -NLE_NOMEM;
	if (err >= 0)
		err = nfnl_ct_alloc_cache(sk, &cache);
	netns_leave(&self);
	if (err < 0) {
		rc = tb_fail_errno(e, nl_errno(err), "reading conntrack entries: %s", nl_geterror(err));
	} else {
		/* TENTATIVE: an entry of any port found, not (yet) from REPLY_SRC. */
		bool tentative = false;
		for (struct nl_object *o = nl_cache_get_first(cache); o && (!rc || tentative); o = nl_cache_get_next(o)) {
			const struct nfnl_ct *ct = (const struct nfnl_ct *)o;
			if (nfnl_ct_get_family(ct) != AF_INET)
				continue;
			struct nf_conntrack c;
			read_tuple(ct, 0, &c.orig);
			read_tuple(ct, 1, &c.reply);
			bool wanted = reply_src && c.reply.src == reply_src;
			if (c.orig.l4 == orig->l4 && c.orig.src == orig->src && c.orig.dst == orig->dst &&
			    (c.orig.sport == orig->sport || !orig->sport) && c.orig.dport == orig->dport &&
			    (!rc || wanted)) {
				*out = c;
				rc = 1;
				/* An exact port settles it; any port, the reply's source. */
				tentative = !orig->sport && !wanted && reply_src;
			}
		}
	}
	if (cache)
		nl_cache_free(cache);
	if (sk)
		nl_socket_free(sk);
	return rc;
}

char *nf_list_ruleset(int netns_fd, struct tb_err *e)
{
	int self;
	if (netns_enter(netns_fd, &self, e) < 0)
		return NULL;
	/* The context binds its netlink socket where it is created, below
	 * FD_SETSIZE, which libnftables' select() needs. */
	fd_low_release();
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	char *text = NULL;
	if (!nft) {
		tb_fail(e, "cannot create an nftables context");
	} else {
		nft_ctx_output_set_flags(nft, nft_ctx_output_get_flags(nft) | NFT_CTX_OUTPUT_HANDLE);
		nft_ctx_buffer_output(nft);
		nft_ctx_buffer_error(nft);
		if (nft_run_cmd_from_buffer(nft, "list ruleset") != 0) {
			const char *why = nft_ctx_get_error_buffer(nft);
			tb_fail(e, "listing the ruleset: %.*s", (int)strcspn(why ? why : "failed", "\n"),
				why ? why : "failed");
		} else {
			const char *out = nft_ctx_get_output_buffer(nft);
			text = xstrdup(out ? out : "");
		}
		nft_ctx_free(nft);
	}
	fd_low_restore();
	netns_leave(&self);
	return text;
}
