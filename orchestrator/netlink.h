/* The netlink executor: links, addresses and routes through libnl-route-3.
 *
 * ifindexes are per namespace, and an address sent through a socket of
 * another namespace silently lands on whatever link has that index there.
 * So every call takes a socket bound to the namespace it acts on: open one
 * per namespace with nl_open_in(). */
#ifndef TESTBED_NETLINK_H
#define TESTBED_NETLINK_H

#include <stdbool.h>
#include <stdint.h>

#include "ipv4.h"
#include "util.h"

struct nl_sock;

/* A NETLINK_ROUTE socket in the network namespace NETNS_FD (-1: the
 * caller's own). */
struct nl_sock *nl_open_in(int netns_fd, struct tb_err *e);
void nl_close(struct nl_sock *sk);

/* 0 when there is no such link. */
int nl_ifindex(struct nl_sock *sk, const char *name);
int nl_link_up(struct nl_sock *sk, const char *name, struct tb_err *e);
int nl_bridge_create(struct nl_sock *sk, const char *name, struct tb_err *e);
/* One request creates the pair: NAME here (up, enslaved to MASTER unless
 * NULL) and PEER_NAME directly in the namespace PEER_NETNS_FD (up). */
int nl_veth_create(struct nl_sock *sk, const char *name, const char *master, const char *peer_name,
		   int peer_netns_fd, struct tb_err *e);
/* Hairpin mode on a bridge port, as kubenet sets it on cbr0's ports. */
int nl_bridge_port_hairpin(struct nl_sock *sk, const char *port, struct tb_err *e);
int nl_addr_add(struct nl_sock *sk, const char *ifname, struct ipv4_prefix address, struct tb_err *e);
/* A route to DST via the gateway VIA (0: directly connected on IFNAME). */
int nl_route_add(struct nl_sock *sk, struct ipv4_prefix dst, uint32_t via, const char *ifname, struct tb_err *e);

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

/* Writes VALUE to /proc/sys/KEY as seen from the network namespace
 * NETNS_FD: /proc/sys/net follows the netns of whoever opens it. */
int netns_sysctl(int netns_fd, const char *key, const char *value, struct tb_err *e);
/* Runs with the calling thread in NETNS_FD: socket() there, then back. */
int netns_socket(int netns_fd, int domain, int type, struct tb_err *e);
/* The same for callers making many sockets: HOME_FD is the caller's own
 * network namespace, opened once. */
int netns_socket_from(int home_fd, int netns_fd, int domain, int type, int protocol, struct tb_err *e);

#endif
