/* Netlink plumbing shared by the step executors (step_*.c) and by trace:
 * sockets bound to a namespace, link lookups, route and neighbour queries.
 *
 * ifindexes are per namespace, and an address sent through a socket of
 * another namespace silently lands on whatever link has that index there.
 * So every call takes a socket bound to the namespace it acts on: open one
 * per namespace with nl_open_in(). */
#ifndef TESTBED_NETLINK_H
#define TESTBED_NETLINK_H

#include <stdbool.h>
#include <stdint.h>

#include "util/ipv4.h"
#include "util/util.h"

struct nl_sock;

/* A NETLINK_ROUTE socket in the network namespace NETNS_FD (-1: the
 * caller's own). */
struct nl_sock *nl_open_in(int netns_fd, struct tb_err *e);
/* The errno a libnl error code (negative or not) stands for: NLE_EXIST is
 * EEXIST, NLE_OBJ_NOTFOUND ENOENT...; EIO when it names none. */
int nl_errno(int nl_error);
void nl_close(struct nl_sock *sk);

/* 0 when there is no such link. */
int nl_ifindex(struct nl_sock *sk, const char *name);
/* The same, failing with "no interface NAME". */
int nl_need_ifindex(struct nl_sock *sk, const char *name, struct tb_err *e);
int nl_link_up(struct nl_sock *sk, const char *name, struct tb_err *e);

/* For the step executors (step_*.c), which build libnl objects. */
struct rtnl_link;
struct nl_addr;
void nl_put_link(struct rtnl_link **l);
void nl_put_addr(struct nl_addr **a);
#define autolink __attribute__((cleanup(nl_put_link))) struct rtnl_link *
#define autonladdr __attribute__((cleanup(nl_put_addr))) struct nl_addr *
/* ADDR/LEN as a libnl address (NULL when out of memory). */
struct nl_addr *nl_addr_v4(uint32_t addr, unsigned len);

/* Lookups, for tracing what the kernel would do. Sockets for them come
 * from nl_open_in() too. */
struct nl_route_answer {
	int error;          /* the kernel's answer when it has no route: ENETUNREACH, ... */
	int type;           /* RTN_UNICAST, RTN_LOCAL, RTN_UNREACHABLE, ... */
	struct ipv4_prefix matched; /* the FIB entry that matched: 0.0.0.0/0 for the default */
	int ifindex;
	uint32_t gateway;   /* 0: directly connected */
	uint32_t prefsrc;
};
/* Which route the kernel picks for a packet to DST sent from here. */
int nl_route_lookup(struct nl_sock *sk, uint32_t dst, struct nl_route_answer *a, struct tb_err *e);
/* The same for a packet from SRC arriving on IIF (an interface's name;
 * "": sent from here): where the route has equal-cost next hops, ifindex
 * and gateway are the one the kernel picks for that packet. */
int nl_route_lookup_from(struct nl_sock *sk, uint32_t dst, uint32_t src, const char *iif, struct nl_route_answer *a,
			 struct tb_err *e);
/* The name of link IFINDEX (into NAME, IFNAMSIZ bytes). */
int nl_ifname(struct nl_sock *sk, int ifindex, char *name, struct tb_err *e);

struct nl_neighbour {
	bool found;
	bool resolved;  /* has a usable MAC: reachable, stale, delay, probe, permanent */
	char mac[18];
	char state[32]; /* REACHABLE, STALE, FAILED, INCOMPLETE, ... */
};
/* The neighbour (ARP) entry for ADDR on IFINDEX, if the kernel has one. */
int nl_neighbour_lookup(struct nl_sock *sk, int ifindex, uint32_t addr, struct nl_neighbour *n, struct tb_err *e);

/* Enters NETNS_FD with the calling thread; *SELF keeps the way back for
 * netns_leave(), which aborts rather than go on in the wrong namespace. */
int netns_enter(int netns_fd, int *self, struct tb_err *e);
void netns_leave(int *self);
/* Writes VALUE to /proc/sys/KEY as seen from the network namespace
 * NETNS_FD: /proc/sys/net follows the netns of whoever opens it. */
int netns_sysctl(int netns_fd, const char *key, const char *value, struct tb_err *e);
/* Runs with the calling thread in NETNS_FD: socket() there, then back. */
int netns_socket(int netns_fd, int domain, int type, struct tb_err *e);
/* Many sockets in one visit: netns_visit() enters NETNS_FD (this thread
 * only), netns_return() goes back to HOME_FD, aborting like netns_leave()
 * if it cannot. */
int netns_visit(int netns_fd, struct tb_err *e);
void netns_return(int home_fd);

#endif
