/* Forwarding database entries on a vxlan device: `bridge fdb append MAC
 * dev DEV dst REMOTE`, so that frames for the other node's tunnel MAC go in
 * UDP to that node's underlay address. Added as bridge(8) adds them: on
 * the device itself (self), permanent. */
#define _GNU_SOURCE
#include <linux/neighbour.h>
#include <stdio.h>

#include <netlink/netlink.h>
#include <netlink/route/neighbour.h>

#include "steps/netlink.h"
#include "steps/step.h"

static int apply(struct exec_ctx *ctx, const struct step *s, struct tb_err *e)
{
	const struct step_fdb *f = &s->u.fdb;
	const char *machine = ctx->plan->machines[s->machine].name;
	char a[IPV4_PREFIX_STRLEN];
	struct nl_sock *sk = exec_sock(ctx, s->machine, e);
	if (!sk)
		return -1;
	int ifindex = nl_need_ifindex(sk, f->dev, e);
	if (ifindex < 0)
		return tb_context(e, "%s: fdb entry %s", machine, f->mac);
	struct rtnl_neigh *neigh = rtnl_neigh_alloc();
	autonladdr dst = nl_addr_v4(f->dst, 32);
	autonladdr mac = NULL;
	int rc = -NLE_NOMEM;
	if (neigh && dst && nl_addr_parse(f->mac, AF_LLC, &mac) == 0) {
		/* The remote is an IPv4 address in a bridge-family entry: libnl
		 * refuses a destination of another family than the entry's, so
		 * the family is set after it. */
		rtnl_neigh_set_ifindex(neigh, ifindex);
		rtnl_neigh_set_lladdr(neigh, mac);
		rtnl_neigh_set_dst(neigh, dst);
		rtnl_neigh_set_family(neigh, AF_BRIDGE);
		rtnl_neigh_set_flags(neigh, NTF_SELF);
		rtnl_neigh_set_state(neigh, NUD_NOARP | NUD_PERMANENT);
		rc = rtnl_neigh_add(sk, neigh, NLM_F_CREATE | NLM_F_APPEND);
	}
	if (neigh)
		rtnl_neigh_put(neigh);
	if (rc < 0)
		return tb_fail_errno(e, nl_errno(rc), "%s: adding fdb entry %s dev %s dst %s: %s", machine, f->mac, f->dev,
			       ipv4_addr_format(f->dst, a), nl_geterror(rc));
	return 0;
}

static void render(const struct render_ctx *r, const struct step *s)
{
	const struct step_fdb *f = &s->u.fdb;
	char a[IPV4_PREFIX_STRLEN];
	render_cmd(r, "bridge", "-n", render_ns(r, s->machine), "fdb", "append", f->mac, "dev", f->dev, "dst",
		   ipv4_addr_format(f->dst, a), NULL);
}

static void to_json(const struct plan *p, const struct step *s, cJSON *o)
{
	(void)p;
	json_put_str(o, "dev", s->u.fdb.dev);
	json_put_str(o, "mac", s->u.fdb.mac);
	json_put_addr(o, "dst", s->u.fdb.dst);
}

static int from_json(const struct plan *p, const cJSON *o, struct step *s, struct tb_err *e)
{
	(void)p;
	struct step_fdb *f = &s->u.fdb;
	return json_get_ifname(o, "dev", f->dev, true, e) < 0 ||
			       json_get_mac(o, "mac", f->mac, true, e) < 0 ||
			       json_get_addr(o, "dst", &f->dst, true, e) < 0
		       ? -1
		       : 0;
}

const struct step_ops step_fdb_ops = {
	.name = "fdb",
	.apply = apply,
	.render = render,
	.to_json = to_json,
	.from_json = from_json,
};
