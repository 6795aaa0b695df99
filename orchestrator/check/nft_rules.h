/* A node's live nftables ruleset, read back (`nft -a list ruleset`, through
 * steps/netfilter.h) and walked for one packet, so that a trace can quote
 * the rules that chose what the kernel did: the verdict map element and
 * the service chain's rule that sent a connection to its endpoint, the
 * endpoint chain's `dnat to`, the rules that marked it for masquerade and
 * the one that masqueraded it, or the map element and rule that rejected
 * or dropped it. The kernel's conntrack table says what happened; this
 * says which rules, by evaluating the few matches kube-proxy's and
 * testbed's tables use (addresses, prefixes and sets, protocols, ports,
 * fib local, numgen verdict maps, concatenated map lookups). A match it
 * does not know counts as "may hold", so a rule is never left out for
 * want of understanding it. Pure: unit-tested on listings. */
#ifndef TESTBED_NFT_RULES_H
#define TESTBED_NFT_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nft_ruleset;

/* The ruleset TEXT lists (nft's -a output: every rule with "# handle N"). */
struct nft_ruleset *nft_ruleset_parse(const char *text);
void nft_ruleset_free(struct nft_ruleset *r);
/* Whether the ruleset has table FAMILY NAME. */
bool nft_ruleset_has_table(const struct nft_ruleset *r, const char *family, const char *name);

/* A packet as a machine's rules see it. */
struct nft_packet {
	uint8_t l4; /* IPPROTO_TCP, IPPROTO_UDP */
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	const uint32_t *local; /* the machine's own addresses (fib ... type local) */
	size_t n_local;
};

/* A rule, or an element of a verdict map, as the listing shows it. */
struct nft_quote {
	char *table;  /* "ip kube-proxy" */
	char *chain;  /* the chain holding the rule; NULL for an element */
	char *map;    /* the map holding the element; NULL for a rule */
	char *text;   /* the rule or element, without its handle */
	int handle;   /* the rule's; -1 for an element */
};

struct nft_quotes {
	struct nft_quote *items;
	size_t n;
};
void nft_quotes_free(struct nft_quotes *q);
/* "ip kube-proxy chain NAME: RULE (handle N)", "ip kube-proxy map NAME: ELEMENT" (malloc'd). */
char *nft_quote_text(const struct nft_quote *q);

/* How packet P came to be DNATed to TO:TO_PORT: the verdict map element
 * that took it (or, with none, the chain rule), each rule on the way to
 * the one that rewrote it, in order, into PATH; the rules on that way
 * that marked it for masquerade (kube-proxy's mark-for-masquerade), into
 * MARKS. False when no rule DNATs it there. */
bool nft_explain_dnat(const struct nft_ruleset *r, const struct nft_packet *p, uint32_t to, uint16_t to_port,
		      struct nft_quotes *path, struct nft_quotes *marks);
/* How P (its destination already rewritten, if it was) came to be
 * masqueraded: when MARKS holds rules that marked it, those and the rule
 * masquerading marked packets; else the masquerade rules whose matches
 * hold for P (an egress table's). False when none is found. */
bool nft_explain_masquerade(const struct nft_ruleset *r, const struct nft_packet *p, const struct nft_quotes *marks,
			    struct nft_quotes *out);
/* Why P was rejected or dropped before any NAT: a verdict map element for
 * its destination that rejects or drops it (a service without endpoints,
 * a NodePort without a local endpoint under policy Local), or leads to a
 * chain that does (loadBalancerSourceRanges' firewall). *REJECTED says
 * which. False when none is found. */
bool nft_explain_filter(const struct nft_ruleset *r, const struct nft_packet *p, struct nft_quotes *out,
			bool *rejected);

/* testbed's NetworkPolicy table (plan/netpol_nft.c), family ip. */
#define NFT_NETPOL_TABLE "testbed-netpol"

/* How P (its destination already rewritten by a Service's DNAT, as the
 * forward hook sees it) fared in the NetworkPolicy table: the forward
 * chain's rule that sent it into a pod's chain (egress of its source,
 * ingress of its destination) and, in each, the rule that let it on (a
 * return commented with the policy and its rule's index: "x/allow
 * ingress[0]") or the counted drop that stopped it (commented with the
 * policies isolating that pod). DROPPED says what happened to it (a
 * conntrack entry past this machine, or none): of the rules that may
 * hold, the walk takes those that lead there. False when no pod's chain
 * of the table holds P (neither end isolated here, or no table). */
bool nft_explain_policy(const struct nft_ruleset *r, const struct nft_packet *p, bool dropped, struct nft_quotes *out);

#endif
