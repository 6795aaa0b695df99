/* DNS as a pod's own resolver does it: glibc's stub resolver, its
 * resolv.conf (nameservers, search list, ndots, timeout, attempts) and the
 * order it tries names in; queries built and answers parsed with glibc's
 * libresolv (res_mkquery, ns_initparse, ns_parserr, dn_expand). Pure, so
 * unit-tested; the probe engine (probe.c) sends the queries and reads the
 * answers inside the probing machine's namespace, beside its other probes. */
#ifndef TESTBED_DNS_H
#define TESTBED_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* glibc's limits and defaults (resolv.h): MAXNS, RES_TIMEOUT, RES_DFLRETRY,
 * RES_MAXNDOTS, RES_MAXRETRANS, RES_MAXRETRY. */
#define DNS_MAX_NAMESERVERS 3
#define DNS_DEFAULT_TIMEOUT_S 5
#define DNS_DEFAULT_ATTEMPTS 2
#define DNS_MAX_NDOTS 15
#define DNS_MAX_TIMEOUT_S 30
#define DNS_MAX_ATTEMPTS 5
#define DNS_PORT 53
/* A name as text: 253 characters, a trailing dot and the NUL, with room. */
#define DNS_NAME_MAX 256
/* What a UDP answer may hold without EDNS (RFC 1035). */
#define DNS_UDP_MAX 512

/* The record types a check asks. */
enum dns_type { DNS_TYPE_A = 1, DNS_TYPE_SRV = 33 };

/* A resolv.conf, as glibc's res_init reads it. */
struct dns_resolver {
	uint32_t nameservers[DNS_MAX_NAMESERVERS]; /* IPv4, in order; none written: 127.0.0.1 */
	size_t n_nameservers;
	char **search; /* "search" (or "domain"), in order; NULL-terminated */
	size_t n_search;
	int ndots;     /* options ndots:N, default 1 */
	int timeout_s; /* options timeout:N, default 5 */
	int attempts;  /* options attempts:N, default 2 */
	size_t ipv6_nameservers; /* written but not used: the lab has no IPv6 */
	bool rotate;        /* options rotate: each query starts at the next nameserver */
	bool no_tld_query;  /* options no-tld-query: a name without dots is never asked as it is */
	bool use_vc;        /* options use-vc: queries over TCP (not implemented by checks) */
};

/* Reads TEXT (a resolv.conf) into R as glibc does: comments (';' or '#'
 * first on a line), "nameserver" (the first three), "search" and
 * "domain" (the later line wins), "options" ndots, timeout and attempts
 * (capped as glibc caps them), rotate, no-tld-query and use-vc; other
 * lines and options have no effect on an A or SRV query over UDP. */
void dns_resolver_parse(const char *text, struct dns_resolver *r);
void dns_resolver_free(struct dns_resolver *r);

/* The names glibc's res_nsearch asks for NAME, in order: one with at least
 * ndots dots as it is first, then with each search domain; one with
 * fewer, with each search domain, then as it is; one ending in '.' only as
 * it is. Each without a trailing dot. NULL-terminated (malloc'd); the
 * count in *N. */
char **dns_search_names(const struct dns_resolver *r, const char *name, size_t *n);

/* Whether NAME is a name a query can ask: labels of 1-63 letters, digits,
 * '-' or '_', at most 253 characters, an optional trailing dot. */
bool dns_name_is_valid(const char *name);

/* A query for NAME of TYPE with id ID (recursion desired) into BUF; its
 * length, or -1 when NAME does not fit. */
int dns_query_build(const char *name, enum dns_type type, uint16_t id, uint8_t *buf, size_t size);

/* An SRV record's target and port. */
struct dns_srv {
	char *target; /* without a trailing dot */
	uint16_t port, priority, weight;
};

/* What an answer says. */
struct dns_answer {
	int rcode;          /* ns_r_noerror, ns_r_nxdomain, ns_r_servfail, ... */
	bool truncated;
	char *name;         /* the name the records are for: the question's, or the end of its CNAME chain */
	uint32_t *addresses; /* A records of NAME, in the answer's order */
	size_t n_addresses;
	struct dns_srv *srv; /* SRV records of NAME */
	size_t n_srv;
	size_t n_cnames;    /* CNAMEs followed */
};

/* Whether MSG (LEN bytes) answers the query ID for QNAME (any case, no
 * trailing dot needed) of TYPE: a response with that id and question.
 * False for anything else, which the engine ignores as a stray. */
bool dns_answer_matches(const uint8_t *msg, size_t len, uint16_t id, const char *qname, enum dns_type type);

/* Reads MSG's answer into A: its rcode, and the records of TYPE for the
 * question's name, following CNAMEs from it in the answer. False with
 * *WHY (malloc'd) when MSG does not parse. */
bool dns_answer_parse(const uint8_t *msg, size_t len, enum dns_type type, struct dns_answer *a, char **why);
void dns_answer_free(struct dns_answer *a);

/* "NXDOMAIN", "SERVFAIL", "rcode 9" (static, or BUF). */
const char *dns_rcode_name(int rcode, char *buf, size_t size);

#endif
