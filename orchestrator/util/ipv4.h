/* IPv4 addresses and prefixes as plain values (host byte order), with the
 * arithmetic that IPAM and validation need. */
#ifndef TESTBED_IPV4_H
#define TESTBED_IPV4_H

#include <stdbool.h>
#include <stdint.h>

/* "255.255.255.255/32" plus NUL */
#define IPV4_PREFIX_STRLEN 19

struct ipv4_prefix {
	uint32_t addr; /* may have host bits set: an interface address */
	uint8_t len;
};

/* Parse "a.b.c.d". */
bool ipv4_addr_parse(const char *s, uint32_t *addr);
/* Parse "a.b.c.d/len". On failure *why says what is wrong. */
bool ipv4_prefix_parse(const char *s, struct ipv4_prefix *out, const char **why);

uint32_t ipv4_mask(uint8_t len);
uint32_t ipv4_network(struct ipv4_prefix p);
uint32_t ipv4_broadcast(struct ipv4_prefix p);
/* True when the address has no host bits set. */
bool ipv4_is_network(struct ipv4_prefix p);
bool ipv4_contains(struct ipv4_prefix p, uint32_t addr);
/* Is INNER wholly inside OUTER? */
bool ipv4_prefix_within(struct ipv4_prefix inner, struct ipv4_prefix outer);
bool ipv4_overlaps(struct ipv4_prefix a, struct ipv4_prefix b);
/* Addresses usable by interfaces: all but network and broadcast, except on
 * /31 and /32 where every address is usable (RFC 3021). */
uint64_t ipv4_usable_count(struct ipv4_prefix p);
/* The Nth usable address (0-based); only valid for n < usable count. */
uint32_t ipv4_usable_nth(struct ipv4_prefix p, uint64_t n);
/* Is ADDR a usable interface address within its own prefix? */
bool ipv4_is_usable_host(struct ipv4_prefix p);

/* Formatting into caller buffers of IPV4_PREFIX_STRLEN bytes. */
char *ipv4_addr_format(uint32_t addr, char *buf);
char *ipv4_prefix_format(struct ipv4_prefix p, char *buf);
/* The network of P, formatted ("10.0.1.0/24" for 10.0.1.7/24). */
char *ipv4_network_format(struct ipv4_prefix p, char *buf);

#endif
