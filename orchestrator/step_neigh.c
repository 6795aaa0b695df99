/* Permanent neighbour (ARP) entries: `ip neigh add ADDR lladdr MAC dev DEV
 * nud permanent`. vxlan needs them for the other nodes' tunnel ends;
 * permanent entries are also not counted against the neighbour table's
 * limit, which all namespaces share. */
#define _GNU_SOURCE
#include <linux/neighbour.h>
#include <stdio.h>

#include <netlink/netlink.h>
#include <netlink/route/neighbour.h>

#include "netlink.h"
#include "step.h"

static int apply(struct exec_ctx *ctx, const struct step *s, struct tb_err *e)
{
	const struct step_neigh *n = &s->u.neigh;
	const char *machine = ctx->plan->machines[s->machine].name;
	char a[IPV4_PREFIX_STRLEN];
	struct nl_sock *sk = exec_sock(ctx, s->machine, e);
	if (!sk)
		return -1;
	int ifindex = nl_need_ifindex(sk, n->dev, e);
	if (ifindex < 0)
		return tb_context(e, "%s: neighbour %s", machine, ipv4_addr_format(n->address, a));
	struct rtnl_neigh *neigh = rtnl_neigh_alloc();
	autonladdr dst = nl_addr_v4(n->address, 32);
	autonladdr mac = NULL;
	int rc = -NLE_NOMEM;
	if (neigh && dst && nl_addr_parse(n->mac, AF_LLC, &mac) == 0) {
		rtnl_neigh_set_ifindex(neigh, ifindex);
		rtnl_neigh_set_dst(neigh, dst);
		rtnl_neigh_set_lladdr(neigh, mac);
		rtnl_neigh_set_state(neigh, NUD_PERMANENT);
		rc = rtnl_neigh_add(sk, neigh, NLM_F_CREATE | NLM_F_EXCL);
	}
	if (neigh)
		rtnl_neigh_put(neigh);
	if (rc < 0)
		return tb_fail(e, "%s: adding neighbour %s lladdr %s dev %s: %s", machine, ipv4_addr_format(n->address, a),
			       n->mac, n->dev, nl_geterror(rc));
	return 0;
}

static void render(const struct render_ctx *r, const struct step *s)
{
	const struct step_neigh *n = &s->u.neigh;
	char a[IPV4_PREFIX_STRLEN];
	fprintf(r->out, "ip -n %s neigh add %s lladdr %s dev %s nud permanent\n", render_ns(r, s->machine),
		ipv4_addr_format(n->address, a), n->mac, n->dev);
}

static void to_json(const struct plan *p, const struct step *s, cJSON *o)
{
	(void)p;
	json_put_str(o, "dev", s->u.neigh.dev);
	json_put_addr(o, "address", s->u.neigh.address);
	json_put_str(o, "mac", s->u.neigh.mac);
}

static int from_json(const struct plan *p, const cJSON *o, struct step *s, struct tb_err *e)
{
	(void)p;
	struct step_neigh *n = &s->u.neigh;
	return json_get_str(o, "dev", n->dev, PLAN_IFNAME, true, e) < 0 ||
			       json_get_addr(o, "address", &n->address, true, e) < 0 ||
			       json_get_str(o, "mac", n->mac, sizeof(n->mac), true, e) < 0
		       ? -1
		       : 0;
}

const struct step_ops step_neigh_ops = {
	.name = "neigh",
	.apply = apply,
	.render = render,
	.to_json = to_json,
	.from_json = from_json,
};
