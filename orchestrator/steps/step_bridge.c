/* Bridges: cbr0 in each node (kubenet), the underlay switch and the
 * topology's own bridges in the lab namespace. `ip link add NAME type bridge`. */
#define _GNU_SOURCE
#include <net/if.h>
#include <stdio.h>

#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>

#include "steps/netlink.h"
#include "steps/step.h"

static int apply(struct exec_ctx *ctx, const struct step *s, struct tb_err *e)
{
	const struct step_bridge *b = &s->u.bridge;
	struct nl_sock *sk = exec_sock(ctx, s->machine, e);
	if (!sk)
		return -1;
	autolink link = rtnl_link_bridge_alloc();
	if (!link)
		return tb_fail(e, "creating bridge %s: out of memory", b->name);
	rtnl_link_set_name(link, b->name);
	rtnl_link_set_flags(link, IFF_UP);
	if (b->mtu)
		rtnl_link_set_mtu(link, (unsigned)b->mtu);
	/* A MAC given at creation stays: the kernel then no longer gives the
	 * bridge its lowest port's MAC as ports come and go. */
	autonladdr mac = NULL;
	if (b->mac[0]) {
		if (nl_addr_parse(b->mac, AF_LLC, &mac) < 0)
			return tb_fail(e, "creating bridge %s: \"%s\" is not a MAC address", b->name, b->mac);
		rtnl_link_set_addr(link, mac);
	}
	int rc = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
	if (rc < 0)
		return tb_fail_errno(e, nl_errno(rc), "%s: creating bridge %s: %s", ctx->plan->machines[s->machine].name, b->name,
			       nl_geterror(rc));
	return 0;
}

static void render(const struct render_ctx *r, const struct step *s)
{
	const struct step_bridge *b = &s->u.bridge;
	const char *ns = render_ns(r, s->machine);
	char mtu[16];
	snprintf(mtu, sizeof(mtu), "%d", b->mtu);
	struct render_argv a = {.n = 0};
	render_push(&a, "ip", "-n", ns, "link", "add", "name", b->name, NULL);
	if (b->mtu)
		render_push(&a, "mtu", mtu, NULL);
	if (b->mac[0])
		render_push(&a, "address", b->mac, NULL);
	render_push(&a, "type", "bridge", NULL);
	render_argv(r, &a);
	render_cmd(r, "ip", "-n", ns, "link", "set", "dev", b->name, "up", NULL);
}

static void to_json(const struct plan *p, const struct step *s, cJSON *o)
{
	(void)p;
	json_put_str(o, "name", s->u.bridge.name);
	if (s->u.bridge.mtu)
		cJSON_AddNumberToObject(o, "mtu", s->u.bridge.mtu);
	if (s->u.bridge.mac[0])
		json_put_str(o, "mac", s->u.bridge.mac);
}

static int from_json(const struct plan *p, const cJSON *o, struct step *s, struct tb_err *e)
{
	(void)p;
	long mtu = 0;
	if (json_get_ifname(o, "name", s->u.bridge.name, true, e) < 0 ||
	    json_get_int(o, "mtu", 68, 65535, &mtu, false, e) < 0 ||
	    json_get_mac(o, "mac", s->u.bridge.mac, false, e) < 0)
		return -1;
	s->u.bridge.mtu = (int)mtu;
	return 0;
}

const struct step_ops step_bridge_ops = {
	.name = "bridge",
	.apply = apply,
	.render = render,
	.to_json = to_json,
	.from_json = from_json,
};
