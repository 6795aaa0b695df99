/* Servers serving what apply changed: see served.h. */
#define _GNU_SOURCE
#include "check/served.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "check/dns.h"
#include "plan/ingress_nginx.h"
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

/* The body of one GET of the checksum, or "" (*SAID: why). */
static void ask_checksum(int netns, char *body, size_t size, char *said, size_t said_size)
{
	body[0] = '\0';
	struct tb_err e;
	autoclose int fd = netns_socket(netns, AF_INET, SOCK_STREAM, &e);
	if (fd < 0) {
		snprintf(said, said_size, "%s", e.msg);
		return;
	}
	struct timeval tv = {.tv_sec = 0, .tv_usec = 500 * 1000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(INGRESS_NGINX_STATUS_PORT),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	static const char request[] = "GET " INGRESS_NGINX_CHECKSUM_PATH " HTTP/1.0\r\nHost: localhost\r\n\r\n";
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0 || write_all(fd, request, sizeof(request) - 1) < 0) {
		snprintf(said, said_size, "%s", strerror(errno));
		return;
	}
	char buf[1024];
	size_t used = 0;
	ssize_t n;
	while (used + 1 < sizeof(buf) && ((n = read(fd, buf + used, sizeof(buf) - 1 - used)) > 0 || (n < 0 && errno == EINTR)))
		used += n > 0 ? (size_t)n : 0;
	buf[used] = '\0';
	const char *at = strstr(buf, "\r\n\r\n");
	if (!at) {
		snprintf(said, said_size, "no HTTP answer");
		return;
	}
	snprintf(body, size, "%s", at + 4);
	snprintf(said, said_size, "checksum %s", body);
}

int ingress_wait_served(int netns, const struct plan_ingress_change *c, int timeout_ms, struct tb_err *e)
{
	char said[sizeof(e->msg)] = "no answer", body[64];
	long long deadline = now_ms() + timeout_ms;
	while (now_ms() < deadline) {
		ask_checksum(netns, body, sizeof(body), said, sizeof(said));
		if (strcmp(body, c->checksum) == 0)
			return 0;
		usleep(RETRY_MS * 1000);
	}
	return tb_fail(e, "the ingress controller did not serve its new nginx.conf (checksum %s) within %d ms: %s "
			  "(see its log)", c->checksum, timeout_ms, said);
}
