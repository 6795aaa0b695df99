/* IPv4 addresses on links: `ip addr add ADDR/LEN dev IFNAME`. */
#define _GNU_SOURCE
#include <stdio.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>

#include "steps/netlink.h"
#include "steps/step.h"

static int apply(struct exec_ctx *ctx, const struct step *s, struct tb_err *e)
{
	const struct step_address *a = &s->u.address;
	const char *machine = ctx->plan->machines[s->machine].name;
	char buf[IPV4_PREFIX_STRLEN];
	struct nl_sock *sk = exec_sock(ctx, s->machine, e);
	if (!sk)
		return -1;
	int ifindex = nl_need_ifindex(sk, a->ifname, e);
	if (ifindex < 0)
		return tb_context(e, "%s: adding %s", machine, ipv4_prefix_format(a->prefix, buf));
	struct rtnl_addr *addr = rtnl_addr_alloc();
	autonladdr local = nl_addr_v4(a->prefix.addr, a->prefix.len);
	int rc = -NLE_NOMEM;
	if (addr && local) {
		rtnl_addr_set_ifindex(addr, ifindex);
		rtnl_addr_set_local(addr, local);
		rc = rtnl_addr_add(sk, addr, NLM_F_CREATE | NLM_F_EXCL);
	}
	if (addr)
		rtnl_addr_put(addr);
	if (rc < 0)
		return tb_fail_errno(e, nl_errno(rc), "%s: adding %s to %s: %s", machine, ipv4_prefix_format(a->prefix, buf), a->ifname,
			       nl_geterror(rc));
	return 0;
}

static void render(const struct render_ctx *r, const struct step *s)
{
	char buf[IPV4_PREFIX_STRLEN];
	render_cmd(r, "ip", "-n", render_ns(r, s->machine), "addr", "add", ipv4_prefix_format(s->u.address.prefix, buf),
		   "dev", s->u.address.ifname, NULL);
}

static void to_json(const struct plan *p, const struct step *s, cJSON *o)
{
	(void)p;
	json_put_str(o, "dev", s->u.address.ifname);
	json_put_prefix(o, "address", s->u.address.prefix);
}

static int from_json(const struct plan *p, const cJSON *o, struct step *s, struct tb_err *e)
{
	(void)p;
	return json_get_ifname(o, "dev", s->u.address.ifname, true, e) < 0 ||
			       json_get_prefix(o, "address", &s->u.address.prefix, e) < 0
		       ? -1
		       : 0;
}

const struct step_ops step_address_ops = {
	.name = "address",
	.apply = apply,
	.render = render,
	.to_json = to_json,
	.from_json = from_json,
};
