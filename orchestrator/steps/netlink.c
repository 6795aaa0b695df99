#define _GNU_SOURCE
#include "steps/netlink.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_bridge.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>

void nl_put_link(struct rtnl_link **l)
{
	if (*l)
		rtnl_link_put(*l);
}

void nl_put_addr(struct nl_addr **a)
{
	if (*a)
		nl_addr_put(*a);
}

struct nl_addr *nl_addr_v4(uint32_t addr, unsigned len)
{
	uint32_t be = htonl(addr);
	struct nl_addr *a = nl_addr_build(AF_INET, &be, sizeof(be));
	if (a)
		nl_addr_set_prefixlen(a, (int)len);
	return a;
}

int netns_enter(int netns_fd, int *self, struct tb_err *e)
{
	*self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*self < 0)
		return tb_fail_errno(e, errno, "opening own network namespace: %s", strerror(errno));
	if (setns(netns_fd, CLONE_NEWNET) < 0) {
		close_fd(self);
		*self = -1;
		return tb_fail_errno(e, errno, "entering network namespace: %s", strerror(errno));
	}
	return 0;
}

static void return_to_netns(int home_fd)
{
	if (setns(home_fd, CLONE_NEWNET) < 0) {
		/* Acting on a lab namespace as if it were ours would be worse. */
		fprintf(stderr, "testbed: cannot return to own network namespace: %s\n", strerror(errno));
		abort();
	}
}

void netns_leave(int *self)
{
	if (*self < 0)
		return;
	return_to_netns(*self);
	close_fd(self);
	*self = -1;
}

int netns_sysctl(int netns_fd, const char *key, const char *value, struct tb_err *e)
{
	int self;
	if (netns_enter(netns_fd, &self, e) < 0)
		return -1;
	autofree char *path = xasprintf("/proc/sys/%s", key);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int rc = (fd < 0 || write_all(fd, value, strlen(value)) < 0) ? tb_fail_errno(e, errno, "%s: %s", path, strerror(errno)) : 0;
	close_fd(&fd);
	netns_leave(&self);
	return rc;
}

/* netns_socket for callers making many sockets: HOME_FD is the caller's
 * own network namespace, opened once. */
static int netns_socket_from(int home_fd, int netns_fd, int domain, int type, int protocol, struct tb_err *e)
{
	if (setns(netns_fd, CLONE_NEWNET) < 0)
		return tb_fail_errno(e, errno, "entering network namespace: %s", strerror(errno));
	int fd = socket(domain, type | SOCK_CLOEXEC, protocol);
	int err = errno;
	return_to_netns(home_fd);
	if (fd < 0)
		return tb_fail_errno(e, err, "socket: %s", strerror(err));
	return fd;
}

int netns_socket(int netns_fd, int domain, int type, struct tb_err *e)
{
	autoclose int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return tb_fail_errno(e, errno, "opening own network namespace: %s", strerror(errno));
	return netns_socket_from(self, netns_fd, domain, type, 0, e);
}

int netns_visit(int netns_fd, struct tb_err *e)
{
	if (setns(netns_fd, CLONE_NEWNET) < 0)
		return tb_fail_errno(e, errno, "entering network namespace: %s", strerror(errno));
	return 0;
}

void netns_return(int home_fd)
{
	return_to_netns(home_fd);
}

int nl_errno(int nl_error)
{
	static const struct {
		int nl, sys;
	} map[] = {
		{NLE_EXIST, EEXIST},	     {NLE_OBJ_NOTFOUND, ENOENT}, {NLE_NODEV, ENODEV},
		{NLE_PERM, EPERM},	     {NLE_NOACCESS, EACCES},	 {NLE_NOMEM, ENOMEM},
		{NLE_INVAL, EINVAL},	     {NLE_RANGE, ERANGE},	 {NLE_BUSY, EBUSY},
		{NLE_AGAIN, EAGAIN},	     {NLE_OPNOTSUPP, EOPNOTSUPP}, {NLE_AF_NOSUPPORT, EAFNOSUPPORT},
		{NLE_NOADDR, EADDRNOTAVAIL}, {NLE_MSGSIZE, EMSGSIZE},	 {NLE_INTR, EINTR},
	};
	int code = nl_error < 0 ? -nl_error : nl_error;
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (map[i].nl == code)
			return map[i].sys;
	return EIO;
}

struct nl_sock *nl_open_in(int netns_fd, struct tb_err *e)
{
	int self = -1;
	if (netns_fd >= 0 && netns_enter(netns_fd, &self, e) < 0)
		return NULL;
	/* The socket keeps the namespace it was created in. */
	struct nl_sock *sk = nl_socket_alloc();
	int rc = sk ? nl_connect(sk, NETLINK_ROUTE) : -NLE_NOMEM;
	netns_leave(&self);
	if (rc < 0) {
		tb_fail_errno(e, nl_errno(rc), "opening a netlink socket: %s", nl_geterror(rc));
		if (sk)
			nl_socket_free(sk);
		return NULL;
	}
	fcntl(nl_socket_get_fd(sk), F_SETFD, FD_CLOEXEC);
	return sk;
}

void nl_close(struct nl_sock *sk)
{
	if (sk)
		nl_socket_free(sk);
}

int nl_ifindex(struct nl_sock *sk, const char *name)
{
	autolink link = NULL;
	if (rtnl_link_get_kernel(sk, 0, name, &link) < 0)
		return 0;
	return rtnl_link_get_ifindex(link);
}

int nl_need_ifindex(struct nl_sock *sk, const char *name, struct tb_err *e)
{
	int ifindex = nl_ifindex(sk, name);
	if (ifindex <= 0)
		return tb_fail(e, "no interface \"%s\"", name);
	return ifindex;
}

int nl_link_up(struct nl_sock *sk, const char *name, struct tb_err *e)
{
	autolink orig = NULL;
	int rc = rtnl_link_get_kernel(sk, 0, name, &orig);
	if (rc < 0)
		return tb_fail_errno(e, nl_errno(rc), "looking up %s: %s", name, nl_geterror(rc));
	autolink change = rtnl_link_alloc();
	rtnl_link_set_flags(change, IFF_UP);
	rc = rtnl_link_change(sk, orig, change, 0);
	if (rc < 0)
		return tb_fail_errno(e, nl_errno(rc), "setting %s up: %s", name, nl_geterror(rc));
	return 0;
}

/* ---- lookups ---- */

struct route_reply {
	struct nl_route_answer *a;
	bool answered;
};

static int on_route_reply(struct nl_msg *msg, void *arg)
{
	struct route_reply *r = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	if (h->nlmsg_type != RTM_NEWROUTE)
		return NL_SKIP;
	struct rtmsg *rtm = nlmsg_data(h);
	struct nlattr *tb[RTA_MAX + 1];
	if (nlmsg_parse(h, sizeof(*rtm), tb, RTA_MAX, NULL) < 0)
		return NL_SKIP;
	struct nl_route_answer *a = r->a;
	a->type = rtm->rtm_type;
	a->matched.len = rtm->rtm_dst_len;
	a->matched.addr = tb[RTA_DST] ? ntohl(nla_get_u32(tb[RTA_DST])) : 0;
	a->ifindex = tb[RTA_OIF] ? (int)nla_get_u32(tb[RTA_OIF]) : 0;
	a->gateway = tb[RTA_GATEWAY] ? ntohl(nla_get_u32(tb[RTA_GATEWAY])) : 0;
	a->prefsrc = tb[RTA_PREFSRC] ? ntohl(nla_get_u32(tb[RTA_PREFSRC])) : 0;
	r->answered = true;
	return NL_STOP;
}

static int on_route_error(struct sockaddr_nl *nla, struct nlmsgerr *err, void *arg)
{
	(void)nla;
	struct route_reply *r = arg;
	r->a->error = -err->error;
	r->answered = true;
	return NL_STOP;
}

/* One RTM_GETROUTE: for DST, from SRC arriving on IIF (0, 0: sent from
 * here); FIB_MATCH answers with the route that matched rather than the
 * next hop chosen. */
static int route_request(struct nl_sock *sk, uint32_t dst, uint32_t src, int iif, bool fib_match,
			 struct nl_route_answer *a, struct tb_err *e)
{
	*a = (struct nl_route_answer){0};
	struct rtmsg rtm = {.rtm_family = AF_INET, .rtm_dst_len = 32, .rtm_flags = fib_match ? RTM_F_FIB_MATCH : 0};
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETROUTE, NLM_F_REQUEST);
	if (src)
		rtm.rtm_src_len = 32;
	if (!msg || nlmsg_append(msg, &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0 ||
	    nla_put_u32(msg, RTA_DST, htonl(dst)) < 0 || (src && nla_put_u32(msg, RTA_SRC, htonl(src)) < 0) ||
	    (iif && nla_put_u32(msg, RTA_IIF, (uint32_t)iif) < 0)) {
		nlmsg_free(msg);
		return tb_fail(e, "route lookup: out of memory");
	}
	struct route_reply r = {.a = a};
	struct nl_cb *cb = nl_cb_clone(nl_socket_get_cb(sk));
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_route_reply, &r);
	nl_cb_err(cb, NL_CB_CUSTOM, on_route_error, &r);
	/* No ACK after the answer: it would be left to confuse the next request. */
	nl_socket_disable_auto_ack(sk);
	int rc = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	while (rc >= 0 && !r.answered)
		rc = nl_recvmsgs(sk, cb);
	nl_socket_enable_auto_ack(sk);
	nl_cb_put(cb);
	if (rc < 0 && !r.answered)
		return tb_fail_errno(e, nl_errno(rc), "route lookup: %s", nl_geterror(rc));
	return 0;
}

int nl_route_lookup(struct nl_sock *sk, uint32_t dst, struct nl_route_answer *a, struct tb_err *e)
{
	return nl_route_lookup_from(sk, dst, 0, "", a, e);
}

int nl_route_lookup_from(struct nl_sock *sk, uint32_t dst, uint32_t src, const char *iif, struct nl_route_answer *a,
			 struct tb_err *e)
{
	/* RTM_F_FIB_MATCH: answer with the route that matched (its prefix), not
	 * a host route made up for DST. */
	if (route_request(sk, dst, 0, 0, true, a, e) < 0)
		return -1;
	if (a->error || a->type != RTN_UNICAST || a->ifindex)
		return 0;
	/* Equal-cost next hops: the matched route names them all; which one
	 * this packet takes is the kernel's hash of its addresses, so ask
	 * again as the packet would, arriving on IIF from SRC (or, sent from
	 * here, without either). */
	int index = iif && *iif ? nl_ifindex(sk, iif) : 0;
	struct nl_route_answer chosen;
	if (route_request(sk, dst, index ? src : 0, index, false, &chosen, e) < 0)
		return -1;
	if (!chosen.error && chosen.ifindex) {
		a->ifindex = chosen.ifindex;
		a->gateway = chosen.gateway;
	}
	return 0;
}

int nl_ifname(struct nl_sock *sk, int ifindex, char *name, struct tb_err *e)
{
	struct rtnl_link *link = NULL;
	int rc = rtnl_link_get_kernel(sk, ifindex, NULL, &link);
	if (rc < 0)
		return tb_fail_errno(e, nl_errno(rc), "link %d: %s", ifindex, nl_geterror(rc));
	snprintf(name, IFNAMSIZ, "%s", rtnl_link_get_name(link));
	rtnl_link_put(link);
	return 0;
}

int nl_neighbour_lookup(struct nl_sock *sk, int ifindex, uint32_t addr, struct nl_neighbour *n, struct tb_err *e)
{
	*n = (struct nl_neighbour){0};
	struct nl_cache *cache = NULL;
	int rc = rtnl_neigh_alloc_cache(sk, &cache);
	if (rc < 0)
		return tb_fail_errno(e, nl_errno(rc), "reading the neighbour table: %s", nl_geterror(rc));
	uint32_t be = htonl(addr);
	struct nl_addr *a = nl_addr_build(AF_INET, &be, sizeof(be));
	struct rtnl_neigh *neigh = a ? rtnl_neigh_get(cache, ifindex, a) : NULL;
	if (neigh) {
		n->found = true;
		int state = rtnl_neigh_get_state(neigh);
		char buf[64];
		rtnl_neigh_state2str(state, buf, sizeof(buf));
		for (size_t i = 0; buf[i] && i + 1 < sizeof(n->state); i++)
			n->state[i] = (char)toupper((unsigned char)buf[i]);
		n->resolved = state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP);
		struct nl_addr *ll = rtnl_neigh_get_lladdr(neigh);
		if (ll && n->resolved)
			nl_addr2str(ll, n->mac, sizeof(n->mac));
		else
			n->resolved = false;
		rtnl_neigh_put(neigh);
	}
	nl_addr_put(a);
	nl_cache_free(cache);
	return 0;
}
