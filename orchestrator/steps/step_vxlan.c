/* vxlan devices, as flannel's vxlan backend makes them: VNI 1 on Linux's
 * default port 8472, the node's underlay address as the local end, no
 * learning (every remote end is written into the FDB in advance), and a
 * fixed MAC so that the other nodes' entries can name it. */
#define _GNU_SOURCE
#include <net/if.h>
#include <stdio.h>

#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/vxlan.h>

#include "steps/netlink.h"
#include "steps/step.h"

static int apply(struct exec_ctx *ctx, const struct step *s, struct tb_err *e)
{
	const struct step_vxlan *v = &s->u.vxlan;
	struct nl_sock *sk = exec_sock(ctx, s->machine, e);
	if (!sk)
		return -1;
	int dev = nl_need_ifindex(sk, v->dev, e);
	if (dev < 0)
		return tb_context(e, "%s: creating %s", ctx->plan->machines[s->machine].name, v->name);
	autolink link = rtnl_link_vxlan_alloc();
	autonladdr local = nl_addr_v4(v->local, 32);
	autonladdr mac = NULL;
	if (!link || !local || nl_addr_parse(v->mac, AF_LLC, &mac) < 0)
		return tb_fail(e, "creating %s: out of memory or bad MAC %s", v->name, v->mac);
	rtnl_link_set_name(link, v->name);
	rtnl_link_set_addr(link, mac);
	rtnl_link_set_mtu(link, (unsigned)v->mtu);
	rtnl_link_set_flags(link, IFF_UP);
	rtnl_link_vxlan_set_id(link, v->vni);
	rtnl_link_vxlan_set_port(link, v->port);
	rtnl_link_vxlan_set_local(link, local);
	rtnl_link_vxlan_set_link(link, (uint32_t)dev);
	rtnl_link_vxlan_set_learning(link, 0);
	int rc = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
	if (rc < 0)
		return tb_fail_errno(e, nl_errno(rc), "%s: creating vxlan %s: %s", ctx->plan->machines[s->machine].name, v->name,
			       nl_geterror(rc));
	return 0;
}

static void render(const struct render_ctx *r, const struct step *s)
{
	const struct step_vxlan *v = &s->u.vxlan;
	const char *ns = render_ns(r, s->machine);
	char local[IPV4_PREFIX_STRLEN], mtu[16], vni[16], port[16];
	snprintf(mtu, sizeof(mtu), "%d", v->mtu);
	snprintf(vni, sizeof(vni), "%u", v->vni);
	snprintf(port, sizeof(port), "%u", v->port);
	render_cmd(r, "ip", "-n", ns, "link", "add", "name", v->name, "address", v->mac, "mtu", mtu, "type", "vxlan", "id",
		   vni, "local", ipv4_addr_format(v->local, local), "dev", v->dev, "dstport", port, "nolearning", NULL);
	render_cmd(r, "ip", "-n", ns, "link", "set", "dev", v->name, "up", NULL);
}

static void to_json(const struct plan *p, const struct step *s, cJSON *o)
{
	(void)p;
	const struct step_vxlan *v = &s->u.vxlan;
	json_put_str(o, "name", v->name);
	cJSON_AddNumberToObject(o, "vni", v->vni);
	cJSON_AddNumberToObject(o, "port", v->port);
	json_put_addr(o, "local", v->local);
	json_put_str(o, "dev", v->dev);
	json_put_str(o, "mac", v->mac);
	cJSON_AddNumberToObject(o, "mtu", v->mtu);
}

static int from_json(const struct plan *p, const cJSON *o, struct step *s, struct tb_err *e)
{
	(void)p;
	struct step_vxlan *v = &s->u.vxlan;
	long vni = 0, port = 0, mtu = 0;
	if (json_get_ifname(o, "name", v->name, true, e) < 0 ||
	    json_get_int(o, "vni", 0, 16777215, &vni, true, e) < 0 || json_get_int(o, "port", 1, 65535, &port, true, e) < 0 ||
	    json_get_addr(o, "local", &v->local, true, e) < 0 || json_get_ifname(o, "dev", v->dev, true, e) < 0 ||
	    json_get_mac(o, "mac", v->mac, true, e) < 0 ||
	    json_get_int(o, "mtu", 68, 65535, &mtu, true, e) < 0)
		return -1;
	v->vni = (uint32_t)vni;
	v->port = (uint16_t)port;
	v->mtu = (int)mtu;
	return 0;
}

const struct step_ops step_vxlan_ops = {
	.name = "vxlan",
	.apply = apply,
	.render = render,
	.to_json = to_json,
	.from_json = from_json,
};
