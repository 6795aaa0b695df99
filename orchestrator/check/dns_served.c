/* Cluster DNS serving what apply changed: see dns_served.h. */
#define _GNU_SOURCE
#include "check/dns_served.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check/dns.h"
#include "steps/netlink.h"
#include "util/ipv4.h"

#define RETRY_MS 50

/* What one answer says: 1 as wanted, 0 not yet, with *SAID what it was. */
static int judge(const uint8_t *msg, size_t len, const struct plan_dns_change *c, char *said, size_t size)
{
	struct dns_answer a = {0};
	char *why = NULL;
	if (!dns_answer_parse(msg, len, DNS_TYPE_A, &a, &why)) {
		snprintf(said, size, "an answer that does not parse: %s", why);
		free(why);
		return 0;
	}
	int ok = 1;
	if (c->probe_address) {
		bool has = false;
		for (size_t i = 0; i < a.n_addresses; i++)
			has = has || a.addresses[i] == c->probe_address;
		ok = has == c->probe_present;
		char buf[16], addr[IPV4_PREFIX_STRLEN];
		snprintf(said, size, "%s, %s %s", dns_rcode_name(a.rcode, buf, sizeof(buf)),
			 has ? "with" : "without", ipv4_addr_format(c->probe_address, addr));
	}
	dns_answer_free(&a);
	return ok;
}

int dns_wait_served(int netns, uint32_t server, const struct plan_dns_change *c, const char *fallback,
		    int timeout_ms, struct tb_err *e)
{
	const char *name = c->probe_address ? c->probe_name : fallback;
	autoclose int fd = netns_socket(netns, AF_INET, SOCK_DGRAM, e);
	if (fd < 0)
		return tb_context(e, "cluster DNS");
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(DNS_PORT), .sin_addr.s_addr = htonl(server)};
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0)
		return tb_fail(e, "cluster DNS: connecting to port %d: %s", DNS_PORT, strerror(errno));
	char said[128] = "no answer";
	long long deadline = now_ms() + timeout_ms;
	while (now_ms() < deadline) {
		uint16_t id;
		uint8_t query[DNS_UDP_MAX], msg[DNS_UDP_MAX];
		if (getrandom(&id, sizeof(id), 0) != sizeof(id))
			id = (uint16_t)now_ms();
		int len = dns_query_build(name, DNS_TYPE_A, id, query, sizeof(query));
		if (len < 0)
			return tb_fail(e, "cluster DNS: %s: not a name a query can ask", name);
		if (send(fd, query, (size_t)len, 0) < 0) {
			/* Refused (nothing listens yet, during a restart): again. */
			snprintf(said, sizeof(said), "%s", strerror(errno));
			usleep(RETRY_MS * 1000);
			continue;
		}
		long long until = now_ms() + RETRY_MS * 2;
		for (long long left; (left = until - now_ms()) > 0;) {
			struct pollfd p = {.fd = fd, .events = POLLIN};
			if (poll(&p, 1, (int)left) <= 0)
				break;
			ssize_t n = recv(fd, msg, sizeof(msg), 0);
			if (n < 0) {
				snprintf(said, sizeof(said), "%s", strerror(errno));
				usleep(RETRY_MS * 1000);
				break;
			}
			if (!dns_answer_matches(msg, (size_t)n, id, name, DNS_TYPE_A))
				continue;
			if (judge(msg, (size_t)n, c, said, sizeof(said)))
				return 0;
			usleep(RETRY_MS * 1000 / 5);
			break;
		}
	}
	char addr[IPV4_PREFIX_STRLEN];
	return tb_fail(e, "cluster DNS (%s) did not serve the new records within %d ms: %s: %s", ipv4_addr_format(server, addr),
		       timeout_ms, name, said);
}
