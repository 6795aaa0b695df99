#include "util/ipv4.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool ipv4_addr_parse(const char *s, uint32_t *addr)
{
	struct in_addr in;
	if (inet_pton(AF_INET, s, &in) != 1)
		return false;
	*addr = ntohl(in.s_addr);
	return true;
}

bool ipv4_prefix_parse(const char *s, struct ipv4_prefix *out, const char **why)
{
	const char *slash = strchr(s, '/');
	if (!slash) {
		*why = "missing the prefix length (like /24)";
		return false;
	}
	char addr[16];
	size_t n = (size_t)(slash - s);
	if (n == 0 || n >= sizeof(addr)) {
		*why = "not an IPv4 address with a prefix length (like 10.0.1.2/24)";
		return false;
	}
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (!ipv4_addr_parse(addr, &out->addr)) {
		*why = "not an IPv4 address with a prefix length (like 10.0.1.2/24)";
		return false;
	}
	const char *len = slash + 1;
	if (len[0] < '0' || len[0] > '9' || strlen(len) > 2 || (len[1] && (len[1] < '0' || len[1] > '9')) ||
	    (len[0] == '0' && len[1])) {
		*why = "the prefix length must be a number from 0 to 32";
		return false;
	}
	int l = atoi(len);
	if (l > 32) {
		*why = "the prefix length must be a number from 0 to 32";
		return false;
	}
	out->len = (uint8_t)l;
	return true;
}

uint32_t ipv4_mask(uint8_t len)
{
	return len == 0 ? 0 : (uint32_t)(0xFFFFFFFFu << (32 - len));
}

uint32_t ipv4_network(struct ipv4_prefix p)
{
	return p.addr & ipv4_mask(p.len);
}

uint32_t ipv4_broadcast(struct ipv4_prefix p)
{
	return ipv4_network(p) | ~ipv4_mask(p.len);
}

bool ipv4_is_network(struct ipv4_prefix p)
{
	return p.addr == ipv4_network(p);
}

bool ipv4_contains(struct ipv4_prefix p, uint32_t addr)
{
	return (addr & ipv4_mask(p.len)) == ipv4_network(p);
}

bool ipv4_prefix_within(struct ipv4_prefix inner, struct ipv4_prefix outer)
{
	return inner.len >= outer.len && ipv4_contains(outer, inner.addr);
}

bool ipv4_overlaps(struct ipv4_prefix a, struct ipv4_prefix b)
{
	uint8_t len = a.len < b.len ? a.len : b.len;
	return (a.addr & ipv4_mask(len)) == (b.addr & ipv4_mask(len));
}

uint64_t ipv4_usable_count(struct ipv4_prefix p)
{
	uint64_t size = (uint64_t)1 << (32 - p.len);
	return p.len >= 31 ? size : size - 2;
}

uint32_t ipv4_usable_nth(struct ipv4_prefix p, uint64_t n)
{
	return ipv4_network(p) + (uint32_t)n + (p.len >= 31 ? 0 : 1);
}

bool ipv4_is_usable_host(struct ipv4_prefix p)
{
	if (p.len >= 31)
		return true;
	return p.addr != ipv4_network(p) && p.addr != ipv4_broadcast(p);
}

char *ipv4_addr_format(uint32_t addr, char *buf)
{
	snprintf(buf, IPV4_PREFIX_STRLEN, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xFF, (addr >> 8) & 0xFF,
		 addr & 0xFF);
	return buf;
}

char *ipv4_prefix_format(struct ipv4_prefix p, char *buf)
{
	snprintf(buf, IPV4_PREFIX_STRLEN, "%u.%u.%u.%u/%u", p.addr >> 24, (p.addr >> 16) & 0xFF,
		 (p.addr >> 8) & 0xFF, p.addr & 0xFF, p.len & 0x3F);
	return buf;
}

char *ipv4_network_format(struct ipv4_prefix p, char *buf)
{
	p.addr = ipv4_network(p);
	return ipv4_prefix_format(p, buf);
}
