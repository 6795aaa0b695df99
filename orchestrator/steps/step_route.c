/* Routes: `ip route add DST [via GW] [dev DEV] [onlink] [table N]`, or
 * `ip route add DST nexthop via A nexthop via B...` for equal-cost paths. Made
 * with the protocol `ip route` uses by default (boot), so a lab built by
 * hand from `testbed plan` has the very same routes. */
#define _GNU_SOURCE
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>

#include <netlink/netlink.h>
#include <netlink/route/route.h>

#include "steps/netlink.h"
#include "steps/step.h"

/* Adds S's route (FLAGS: NLM_F_EXCL, or NLM_F_REPLACE to replace the
 * route to its destination in its table), or deletes it (DELETE: the
 * route to its destination in its table; a missing one is no error). */
static int change(struct exec_ctx *ctx, const struct step *s, int flags, bool delete, struct tb_err *e)
{
	const struct step_route *r = &s->u.route;
	char d[IPV4_PREFIX_STRLEN], g[IPV4_PREFIX_STRLEN];
	struct nl_sock *sk = exec_sock(ctx, s->machine, e);
	if (!sk)
		return -1;
	struct rtnl_route *route = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	autonladdr dst = nl_addr_v4(ipv4_network(r->dst), r->dst.len);
	autonladdr gw = r->via ? nl_addr_v4(r->via, 32) : NULL;
	int rc = -NLE_NOMEM;
	if (!route || !nh || !dst || (r->via && !gw))
		goto out;
	rtnl_route_set_family(route, AF_INET);
	rtnl_route_set_table(route, r->table);
	rtnl_route_set_protocol(route, RTPROT_BOOT);
	rtnl_route_set_scope(route, r->scope == ROUTE_SCOPE_LINK ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE);
	rtnl_route_set_dst(route, dst);
	if (delete) {
		rc = rtnl_route_delete(sk, route, 0);
		if (rc == -NLE_OBJ_NOTFOUND)
			rc = 0;
		goto out;
	}
	if (gw)
		rtnl_route_nh_set_gateway(nh, gw);
	if (r->dev[0]) {
		int ifindex = nl_ifindex(sk, r->dev);
		if (ifindex <= 0) {
			rc = -NLE_NODEV;
			goto out;
		}
		rtnl_route_nh_set_ifindex(nh, ifindex);
	}
	if (r->onlink)
		rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
	rtnl_route_add_nexthop(route, nh);
	nh = NULL; /* the route owns it now */
	for (size_t i = 0; i < r->n_also_via; i++) {
		struct rtnl_nexthop *more = rtnl_route_nh_alloc();
		autonladdr also = nl_addr_v4(r->also_via[i], 32);
		if (!more || !also) {
			if (more)
				rtnl_route_nh_free(more);
			rc = -NLE_NOMEM;
			goto out;
		}
		rtnl_route_nh_set_gateway(more, also);
		rtnl_route_add_nexthop(route, more);
	}
	rc = rtnl_route_add(sk, route, NLM_F_CREATE | flags);
out:
	if (nh)
		rtnl_route_nh_free(nh);
	if (route)
		rtnl_route_put(route);
	if (rc < 0)
		return tb_fail_errno(e, nl_errno(rc), "%s: %s route %s%s%s%s%s: %s", ctx->plan->machines[s->machine].name,
			       delete ? "deleting" : flags & NLM_F_REPLACE ? "replacing" : "adding",
			       ipv4_prefix_format(r->dst, d), r->via ? " via " : "", r->via ? ipv4_addr_format(r->via, g) : "",
			       r->dev[0] ? " dev " : "", r->dev, nl_geterror(rc));
	return 0;
}

static int apply(struct exec_ctx *ctx, const struct step *s, struct tb_err *e)
{
	return change(ctx, s, NLM_F_EXCL, false, e);
}

int step_route_change(struct exec_ctx *ctx, const struct step *s, bool delete, struct tb_err *e)
{
	return change(ctx, s, NLM_F_REPLACE, delete, e);
}

static void render(const struct render_ctx *r, const struct step *s)
{
	const struct step_route *rt = &s->u.route;
	char d[IPV4_PREFIX_STRLEN], g[IPV4_PREFIX_STRLEN], table[16];
	struct render_argv a = {.n = 0};
	render_push(&a, "ip", "-n", render_ns(r, s->machine), "route", "add",
		    rt->dst.len == 0 ? "default" : ipv4_prefix_format(rt->dst, d), NULL);
	autofree char(*also)[IPV4_PREFIX_STRLEN] = xcalloc(rt->n_also_via + 1, sizeof(*also));
	if (rt->via && rt->n_also_via) {
		render_push(&a, "nexthop", "via", ipv4_addr_format(rt->via, g), NULL);
		for (size_t i = 0; i < rt->n_also_via; i++)
			render_push(&a, "nexthop", "via", ipv4_addr_format(rt->also_via[i], also[i]), NULL);
	} else if (rt->via) {
		render_push(&a, "via", ipv4_addr_format(rt->via, g), NULL);
	}
	if (rt->dev[0])
		render_push(&a, "dev", rt->dev, NULL);
	if (rt->onlink)
		render_push(&a, "onlink", NULL);
	snprintf(table, sizeof(table), "%u", rt->table);
	if (rt->table != 254)
		render_push(&a, "table", table, NULL);
	render_argv(r, &a);
}

static void to_json(const struct plan *p, const struct step *s, cJSON *o)
{
	(void)p;
	const struct step_route *r = &s->u.route;
	json_put_prefix(o, "dst", (struct ipv4_prefix){ipv4_network(r->dst), r->dst.len});
	if (r->via)
		json_put_addr(o, "via", r->via);
	if (r->dev[0])
		json_put_str(o, "dev", r->dev);
	json_put_str(o, "scope", r->scope == ROUTE_SCOPE_LINK ? "link" : "universe");
	if (r->onlink)
		cJSON_AddTrueToObject(o, "onlink");
	cJSON_AddNumberToObject(o, "table", r->table);
	if (r->n_also_via) {
		cJSON *also = cJSON_AddArrayToObject(o, "alsoVia");
		char buf[IPV4_PREFIX_STRLEN];
		for (size_t i = 0; i < r->n_also_via; i++)
			cJSON_AddItemToArray(also, cJSON_CreateString(ipv4_addr_format(r->also_via[i], buf)));
	}
}

static int from_json(const struct plan *p, const cJSON *o, struct step *s, struct tb_err *e)
{
	(void)p;
	struct step_route *r = &s->u.route;
	char scope[16];
	long table = 254;
	if (json_get_prefix(o, "dst", &r->dst, e) < 0 || json_get_addr(o, "via", &r->via, false, e) < 0 ||
	    json_get_ifname(o, "dev", r->dev, false, e) < 0 ||
	    json_get_str(o, "scope", scope, sizeof(scope), true, e) < 0 || json_get_bool(o, "onlink", &r->onlink, e) < 0 ||
	    json_get_int(o, "table", 1, 4294967295L, &table, false, e) < 0)
		return -1;
	if (strcmp(scope, "link") != 0 && strcmp(scope, "universe") != 0)
		return tb_fail(e, "\"scope\": expected \"link\" or \"universe\"");
	r->scope = strcmp(scope, "link") == 0 ? ROUTE_SCOPE_LINK : ROUTE_SCOPE_UNIVERSE;
	r->table = (uint32_t)table;
	const cJSON *also = cJSON_GetObjectItemCaseSensitive(o, "alsoVia");
	if (also) {
		/* The script spells at most 32 paths: a lab has no more nodes to announce one. */
		if (!cJSON_IsArray(also) || !r->via || cJSON_GetArraySize(also) > 31)
			return tb_fail(e, "\"alsoVia\": expected up to 31 addresses besides \"via\"");
		r->also_via = xcalloc((size_t)cJSON_GetArraySize(also) + 1, sizeof(*r->also_via));
		for (const cJSON *a = also->child; a; a = a->next) {
			if (!cJSON_IsString(a) || !ipv4_addr_parse(a->valuestring, &r->also_via[r->n_also_via]))
				return tb_fail(e, "\"alsoVia\": expected IPv4 addresses");
			r->n_also_via++;
		}
	}
	return 0;
}

const struct step_ops step_route_ops = {
	.name = "route",
	.apply = apply,
	.render = render,
	.to_json = to_json,
	.from_json = from_json,
};
