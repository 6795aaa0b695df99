/* veth pairs (article sections 1.2, 1.3, 3.1): one request creates both
 * ends, the peer directly in the other machine's namespace, which is much
 * faster than creating it here and moving it. A bridge port may get
 * hairpin mode, as kubenet sets on cbr0's ports. */
#define _GNU_SOURCE
#include <linux/if_bridge.h>
#include <net/if.h>
#include <stdio.h>

#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>

#include "steps/netlink.h"
#include "steps/step.h"

/* A fixed MAC (static neighbours), set in the request that makes the link. */
static int set_mac(struct rtnl_link *link, const char *mac, struct tb_err *e)
{
	if (!mac[0])
		return 0;
	autonladdr a = NULL;
	if (nl_addr_parse(mac, AF_LLC, &a) < 0)
		return tb_fail(e, "\"%s\" is not a MAC address", mac);
	rtnl_link_set_addr(link, a);
	return 0;
}

static int create_pair(struct nl_sock *sk, const struct step_veth *v, int peer_netns, struct tb_err *e)
{
	autolink link = rtnl_link_veth_alloc();
	if (!link)
		return tb_fail(e, "creating veth %s: out of memory", v->name);
	rtnl_link_set_name(link, v->name);
	if (set_mac(link, v->mac, e) < 0)
		return tb_context(e, "creating veth %s", v->name);
	rtnl_link_set_flags(link, IFF_UP);
	if (v->mtu)
		rtnl_link_set_mtu(link, (unsigned)v->mtu);
	if (v->master[0]) {
		int m = nl_need_ifindex(sk, v->master, e);
		if (m < 0)
			return tb_context(e, "creating veth %s", v->name);
		rtnl_link_set_master(link, m);
	}
	struct rtnl_link *peer = rtnl_link_veth_get_peer(link);
	/* The peer is brought up by its own namespace's socket: asking for
	 * IFF_UP here makes the kernel refuse the whole request. */
	rtnl_link_set_name(peer, v->peer_name);
	if (v->mtu)
		rtnl_link_set_mtu(peer, (unsigned)v->mtu);
	rtnl_link_set_ns_fd(peer, peer_netns);
	int bad = set_mac(peer, v->peer_mac, e);
	rtnl_link_put(peer);
	if (bad < 0)
		return tb_context(e, "creating veth %s", v->peer_name);
	int rc = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
	if (rc < 0)
		return tb_fail_errno(e, nl_errno(rc), "creating veth pair %s/%s: %s", v->name, v->peer_name, nl_geterror(rc));
	return 0;
}

/* What `bridge link set dev PORT hairpin on` sends: an AF_BRIDGE
 * RTM_SETLINK with the port flag nested in IFLA_PROTINFO. (libnl's
 * rtnl_link_change asserts when the family differs from the link's.) */
static int set_hairpin(struct nl_sock *sk, const char *port, struct tb_err *e)
{
	int ifindex = nl_need_ifindex(sk, port, e);
	if (ifindex < 0)
		return tb_context(e, "setting hairpin mode");
	struct ifinfomsg ifi = {.ifi_family = AF_BRIDGE, .ifi_index = ifindex};
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK);
	int rc = -NLE_NOMEM;
	if (!msg)
		goto out;
	struct nlattr *info;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    !(info = nla_nest_start(msg, IFLA_PROTINFO | NLA_F_NESTED)) || nla_put_u8(msg, IFLA_BRPORT_MODE, 1) < 0)
		goto out;
	nla_nest_end(msg, info);
	rc = nl_send_auto(sk, msg);
	if (rc >= 0)
		rc = nl_wait_for_ack(sk);
out:
	if (msg)
		nlmsg_free(msg);
	if (rc < 0)
		return tb_fail_errno(e, nl_errno(rc), "setting hairpin mode on %s: %s", port, nl_geterror(rc));
	return 0;
}

static int apply(struct exec_ctx *ctx, const struct step *s, struct tb_err *e)
{
	const struct step_veth *v = &s->u.veth;
	const struct plan *p = ctx->plan;
	struct nl_sock *here = exec_sock(ctx, s->machine, e);
	struct nl_sock *there = here ? exec_sock(ctx, v->peer_machine, e) : NULL;
	if (!there)
		return -1;
	if (create_pair(here, v, ctx->netns[v->peer_machine], e) < 0)
		return tb_context(e, "%s to %s", p->machines[s->machine].name, p->machines[v->peer_machine].name);
	if (nl_link_up(there, v->peer_name, e) < 0)
		return tb_context(e, "%s", p->machines[v->peer_machine].name);
	if (v->hairpin && set_hairpin(here, v->name, e) < 0)
		return tb_context(e, "%s", p->machines[s->machine].name);
	return 0;
}

static void render(const struct render_ctx *r, const struct step *s)
{
	const struct step_veth *v = &s->u.veth;
	const char *ns = render_ns(r, s->machine), *peer = render_ns(r, v->peer_machine);
	char mtu[16];
	snprintf(mtu, sizeof(mtu), "%d", v->mtu);
	struct render_argv a = {.n = 0};
	render_push(&a, "ip", "-n", ns, "link", "add", "name", v->name, NULL);
	if (v->mtu)
		render_push(&a, "mtu", mtu, NULL);
	if (v->mac[0])
		render_push(&a, "address", v->mac, NULL);
	render_push(&a, "type", "veth", "peer", "name", v->peer_name, NULL);
	if (v->mtu)
		render_push(&a, "mtu", mtu, NULL);
	if (v->peer_mac[0])
		render_push(&a, "address", v->peer_mac, NULL);
	render_push(&a, "netns", peer, NULL);
	render_argv(r, &a);
	if (v->master[0])
		render_cmd(r, "ip", "-n", ns, "link", "set", "dev", v->name, "master", v->master, NULL);
	render_cmd(r, "ip", "-n", ns, "link", "set", "dev", v->name, "up", NULL);
	render_cmd(r, "ip", "-n", peer, "link", "set", "dev", v->peer_name, "up", NULL);
	if (v->hairpin)
		render_cmd(r, "bridge", "-n", ns, "link", "set", "dev", v->name, "hairpin", "on", NULL);
}

static void to_json(const struct plan *p, const struct step *s, cJSON *o)
{
	const struct step_veth *v = &s->u.veth;
	json_put_str(o, "name", v->name);
	json_put_str(o, "peerMachine", p->machines[v->peer_machine].name);
	json_put_str(o, "peerName", v->peer_name);
	if (v->master[0])
		json_put_str(o, "master", v->master);
	if (v->hairpin)
		cJSON_AddTrueToObject(o, "hairpin");
	if (v->mtu)
		cJSON_AddNumberToObject(o, "mtu", v->mtu);
	if (v->mac[0])
		json_put_str(o, "mac", v->mac);
	if (v->peer_mac[0])
		json_put_str(o, "peerMac", v->peer_mac);
}

static int from_json(const struct plan *p, const cJSON *o, struct step *s, struct tb_err *e)
{
	struct step_veth *v = &s->u.veth;
	long mtu = 0;
	if (json_get_ifname(o, "name", v->name, true, e) < 0 ||
	    json_get_machine(p, o, "peerMachine", &v->peer_machine, e) < 0 ||
	    json_get_ifname(o, "peerName", v->peer_name, true, e) < 0 ||
	    json_get_ifname(o, "master", v->master, false, e) < 0 ||
	    json_get_bool(o, "hairpin", &v->hairpin, e) < 0 || json_get_int(o, "mtu", 68, 65535, &mtu, false, e) < 0 ||
	    json_get_mac(o, "mac", v->mac, false, e) < 0 ||
	    json_get_mac(o, "peerMac", v->peer_mac, false, e) < 0)
		return -1;
	v->mtu = (int)mtu;
	return 0;
}

const struct step_ops step_veth_ops = {
	.name = "veth",
	.apply = apply,
	.render = render,
	.to_json = to_json,
	.from_json = from_json,
};
