/* Reading what netfilter did and holds, for traces: a connection's entry
 * in a namespace's conntrack table (ctnetlink, through libnl-nf-3), which
 * says where its packets were NATed to, and a namespace's live nftables
 * ruleset (libnftables), which says which rules did it. Nothing here
 * changes a lab. */
#ifndef TESTBED_NETFILTER_H
#define TESTBED_NETFILTER_H

#include <stdbool.h>
#include <stdint.h>

#include "util/util.h"

/* One direction of a connection: addresses and ports as a packet has them. */
struct nf_tuple {
	uint8_t l4; /* IPPROTO_TCP or IPPROTO_UDP */
	uint32_t src, dst;
	uint16_t sport, dport;
};

/* A conntrack entry: the original direction (the first packet as it
 * arrived) and the reply's. A DNAT shows as a reply from another source
 * than the original's destination; an SNAT, as a reply to another
 * destination than the original's source. */
struct nf_conntrack {
	struct nf_tuple orig, reply;
};

/* The entry in NETNS_FD's conntrack table whose original direction is
 * ORIG: 1 found (into *CT), 0 none, -1 when looking failed (E says why). */
int nf_conntrack_find(int netns_fd, const struct nf_tuple *orig, struct nf_conntrack *ct, struct tb_err *e);
/* The same, ORIG's sport 0 meaning any (a proxy's connection, whose local
 * port the proxy does not tell), preferring an entry whose reply comes
 * from REPLY_SRC (0: any): the endpoint that answered. */
int nf_conntrack_find_reply(int netns_fd, const struct nf_tuple *orig, uint32_t reply_src, struct nf_conntrack *ct,
			    struct tb_err *e);

/* NETNS_FD's whole nftables ruleset as `nft -a list ruleset` prints it,
 * with every rule's handle (malloc'd; "" when it has none); NULL when
 * listing failed (E says why). */
char *nf_list_ruleset(int netns_fd, struct tb_err *e);

#endif
