/* The probe engine. One thread, one epoll loop, no process per probe:
 * each TCP probe's socket is made inside its source's network namespace
 * (sockets keep the namespace they were made in), pings go out through one
 * raw ICMP socket per source namespace, and replies are matched by the
 * probe index carried in the echo payload. */
#define _GNU_SOURCE
#include "probe.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/icmp.h>
#include <linux/ip.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "netlink.h"

#define RETRY_MS 20
#define MAX_IN_FLIGHT 256

static int start_listen_probe(struct listen_wait *t, struct tb_err *e)
{
	int fd = netns_socket(t->netns, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, e);
	if (fd < 0)
		return -1;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(t->port), .sin_addr.s_addr = htonl(t->addr)};
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		t->ready = true;
		close(fd);
		return -2;
	}
	if (errno != EINPROGRESS) {
		t->last_errno = errno;
		close(fd);
		return -2;
	}
	return fd;
}

/* A watched machine said something: its workload ended. */
static int watched_exit(const struct exit_watch *w, struct tb_err *e)
{
	char msg[256];
	ssize_t len = read(w->fd, msg, sizeof(msg) - 1);
	if (len <= 0)
		return tb_fail(e, "%s: its init exited", w->name);
	msg[len] = '\0';
	msg[strcspn(msg, "\n")] = '\0';
	return tb_fail(e, "%s: %s", w->name, msg);
}

int wait_listening(struct listen_wait *targets, size_t n, const struct exit_watch *watches, size_t n_watches,
		   int timeout_ms, volatile const int *stop, struct tb_err *e)
{
	long long deadline = now_ms() + timeout_ms;
	int *fds = xcalloc(n, sizeof(*fds));
	long long *next_try = xcalloc(n, sizeof(*next_try));
	struct pollfd *pfds = xcalloc(n + n_watches, sizeof(*pfds));
	size_t *owner = xcalloc(n + n_watches, sizeof(*owner));
	int rc = 0;
	for (size_t i = 0; i < n; i++)
		fds[i] = -1;

	for (;;) {
		size_t pending = 0, in_flight = 0;
		long long now = now_ms();
		for (size_t i = 0; i < n; i++) {
			if (targets[i].ready)
				continue;
			pending++;
			if (fds[i] >= 0) {
				in_flight++;
				continue;
			}
			if (in_flight >= MAX_IN_FLIGHT || now < next_try[i])
				continue;
			int fd = start_listen_probe(&targets[i], e);
			if (fd == -1) {
				rc = -1;
				goto out;
			}
			if (fd >= 0) {
				fds[i] = fd;
				in_flight++;
			} else {
				next_try[i] = now + RETRY_MS;
			}
		}
		if (pending == 0)
			break;
		if (stop && *stop) {
			rc = tb_fail(e, "interrupted");
			goto out;
		}
		if (now >= deadline) {
			char names[512] = "";
			size_t shown = 0;
			for (size_t i = 0; i < n; i++)
				if (!targets[i].ready && shown++ < 5) {
					char addr[16];
					size_t len = strlen(names);
					snprintf(names + len, sizeof(names) - len, "%s%s (%s:%u: %s)", len ? ", " : "",
						 targets[i].name, ipv4_addr_format(targets[i].addr, addr),
						 targets[i].port,
						 targets[i].last_errno ? strerror(targets[i].last_errno) : "no answer");
				}
			rc = tb_fail(e, "%zu server%s not accepting connections after %d s: %s%s", pending,
				     pending == 1 ? "" : "s", timeout_ms / 1000, names, pending > 5 ? ", ..." : "");
			goto out;
		}
		size_t np = 0;
		for (size_t i = 0; i < n; i++)
			if (fds[i] >= 0) {
				pfds[np] = (struct pollfd){.fd = fds[i], .events = POLLOUT};
				owner[np++] = i;
			}
		size_t first_watch = np;
		for (size_t i = 0; i < n_watches; i++)
			pfds[np++] = (struct pollfd){.fd = watches[i].fd, .events = POLLIN};
		int r = poll(pfds, np, RETRY_MS);
		if (r < 0 && errno != EINTR) {
			rc = tb_fail(e, "poll: %s", strerror(errno));
			goto out;
		}
		for (size_t k = first_watch; r > 0 && k < np; k++)
			if (pfds[k].revents) {
				rc = watched_exit(&watches[k - first_watch], e);
				goto out;
			}
		for (size_t k = 0; r > 0 && k < first_watch; k++) {
			if (!pfds[k].revents)
				continue;
			size_t i = owner[k];
			int err = 0;
			socklen_t len = sizeof(err);
			getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err, &len);
			if (err == 0) {
				targets[i].ready = true;
			} else {
				targets[i].last_errno = err;
				next_try[i] = now_ms() + RETRY_MS;
			}
			close(fds[i]);
			fds[i] = -1;
		}
	}
out:
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	free(next_try);
	free(pfds);
	free(owner);
	return rc;
}

/* ---- probe_run ---- */

#define RESPONSE_MAX 4096
#define PINGER_TAG (1ULL << 63)

enum phase { PHASE_QUEUED, PHASE_CONNECTING, PHASE_READING, PHASE_PINGING, PHASE_DONE };

struct slot {
	enum phase phase;
	int fd;
	int request; /* http: 0 GET /hostname, 1 GET /clientip */
	int attempt;
	double started;
	double deadline;
	char *response;
	size_t len;
};

struct pinger {
	int netns;
	int fd;
};

/* The payload of our echo requests: which probe and attempt it belongs to. */
struct echo_payload {
	uint32_t token;
	uint32_t probe;
	uint32_t attempt;
};

struct engine {
	struct check_run *run;
	const int *from_netns;
	const struct probe_options *o;
	int home_netns;
	int epoll;
	struct slot *slots;
	size_t *active; /* indices of probes in flight */
	size_t n_active;
	size_t *retry;  /* failed probes waiting for another attempt */
	size_t n_retry;
	size_t next;    /* next probe never started */
	size_t done;
	struct pinger *pingers;
	size_t n_pingers, cap_pingers;
	uint32_t token;
	uint16_t ident;
};

static double clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static const char *errno_text(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return "connection refused";
	case EHOSTUNREACH:
		return "no route to host";
	case ENETUNREACH:
		return "network unreachable";
	case ECONNRESET:
		return "connection reset";
	case ETIMEDOUT:
		return "timed out";
	case EACCES:
	case EPERM:
		return "sending refused by the source's own rules";
	}
	return strerror(err);
}

static void deactivate(struct engine *g, size_t i)
{
	for (size_t k = 0; k < g->n_active; k++)
		if (g->active[k] == i) {
			g->active[k] = g->active[--g->n_active];
			return;
		}
}

static void close_slot(struct slot *s)
{
	if (s->fd >= 0)
		close(s->fd); /* also leaves the epoll set */
	s->fd = -1;
	free(s->response);
	s->response = NULL;
	s->len = 0;
}

static void finish(struct engine *g, size_t i, enum probe_outcome outcome)
{
	struct slot *s = &g->slots[i];
	struct check_probe *p = &g->run->probes[i];
	close_slot(s);
	deactivate(g, i);
	p->outcome = outcome;
	p->latency_ms = clock_ms() - s->started;
	p->attempts = s->attempt;
	if (outcome == PROBE_FAIL && s->attempt <= g->o->retries) {
		s->phase = PHASE_QUEUED;
		g->retry[g->n_retry++] = i;
		return;
	}
	s->phase = PHASE_DONE;
	g->done++;
}

static void fail(struct engine *g, size_t i, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(struct engine *g, size_t i, const char *fmt, ...)
{
	struct check_probe *p = &g->run->probes[i];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->error, sizeof(p->error), fmt, ap);
	va_end(ap);
	finish(g, i, PROBE_FAIL);
}

static void pass(struct engine *g, size_t i)
{
	g->run->probes[i].error[0] = '\0';
	finish(g, i, PROBE_PASS);
}

/* ---- tcp and http ---- */

static void send_request(struct engine *g, size_t i)
{
	struct slot *s = &g->slots[i];
	const struct check_probe *p = &g->run->probes[i];
	char addr[16];
	char req[256];
	int len = snprintf(req, sizeof(req),
			   "GET %s HTTP/1.0\r\nHost: %s:%u\r\nUser-Agent: testbed-check\r\nConnection: close\r\n\r\n",
			   s->request == 0 ? "/hostname" : "/clientip", ipv4_addr_format(p->to_address, addr),
			   p->port);
	/* A fresh connection's send buffer takes a request this small at once. */
	if (send(s->fd, req, (size_t)len, MSG_NOSIGNAL) != len) {
		fail(g, i, "sending the request: %s", errno_text(errno));
		return;
	}
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = i};
	epoll_ctl(g->epoll, EPOLL_CTL_MOD, s->fd, &ev);
	s->phase = PHASE_READING;
	s->response = xmalloc(RESPONSE_MAX + 1);
	s->len = 0;
}

static void on_connected(struct engine *g, size_t i)
{
	if (g->run->probes[i].proto == TB_PROTO_TCP)
		pass(g, i);
	else
		send_request(g, i);
}

static void start_connect(struct engine *g, size_t i)
{
	struct slot *s = &g->slots[i];
	const struct check_probe *p = &g->run->probes[i];
	struct tb_err e;
	s->fd = netns_socket_from(g->home_netns, g->from_netns[i], AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0, &e);
	if (s->fd < 0) {
		fail(g, i, "%s", e.msg);
		return;
	}
	s->phase = PHASE_CONNECTING;
	struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = i};
	if (epoll_ctl(g->epoll, EPOLL_CTL_ADD, s->fd, &ev) < 0) {
		fail(g, i, "epoll: %s", strerror(errno));
		return;
	}
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(p->port), .sin_addr.s_addr = htonl(p->to_address)};
	if (connect(s->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		on_connected(g, i);
	else if (errno != EINPROGRESS)
		fail(g, i, "%s", errno_text(errno));
}

/* The body of a complete HTTP/1.x response with status 200, trimmed of
 * trailing whitespace; NULL after failing the probe otherwise. */
static char *http_body(struct engine *g, size_t i)
{
	struct slot *s = &g->slots[i];
	s->response[s->len] = '\0';
	int status;
	if (sscanf(s->response, "HTTP/1.%*d %d", &status) != 1) {
		fail(g, i, s->len ? "the answer is not HTTP" : "connection closed without an answer");
		return NULL;
	}
	char *body = strstr(s->response, "\r\n\r\n");
	if (status != 200) {
		fail(g, i, "HTTP status %d", status);
		return NULL;
	}
	if (!body) {
		fail(g, i, "the HTTP answer has no body");
		return NULL;
	}
	body += 4;
	size_t n = strlen(body);
	while (n && isspace((unsigned char)body[n - 1]))
		body[--n] = '\0';
	return body;
}

static void on_response(struct engine *g, size_t i)
{
	struct slot *s = &g->slots[i];
	struct check_probe *p = &g->run->probes[i];
	char *body = http_body(g, i);
	if (!body)
		return;
	if (s->request == 0) {
		snprintf(p->answered_by, sizeof(p->answered_by), "%.*s", (int)strcspn(body, "\r\n"), body);
		if (strcmp(body, p->to_name) != 0) {
			fail(g, i, "answered by \"%s\", not %s", p->answered_by, p->to_name);
			return;
		}
		if (p->client_ip == TB_CLIENT_IP_ANY) {
			pass(g, i);
			return;
		}
		/* The same probe goes on with a second connection. */
		close_slot(s);
		s->request = 1;
		start_connect(g, i);
		return;
	}
	snprintf(p->client, sizeof(p->client), "%.*s", (int)strcspn(body, "\r\n"), body);
	/* The address this connection left with, as the kernel chose it (a
	 * node has several); whatever the server saw instead was rewritten. */
	char own[16];
	struct sockaddr_in local;
	socklen_t local_len = sizeof(local);
	if (getsockname(s->fd, (struct sockaddr *)&local, &local_len) < 0)
		ipv4_addr_format(p->from_address, own);
	else
		ipv4_addr_format(ntohl(local.sin_addr.s_addr), own);
	size_t host_len = strcspn(p->client, ":");
	bool same = strlen(own) == host_len && strncmp(own, p->client, host_len) == 0;
	if (p->client_ip == TB_CLIENT_IP_PRESERVED && !same)
		fail(g, i, "the server saw the client as %s, not %s: the source address was rewritten", p->client,
		     own);
	else if (p->client_ip == TB_CLIENT_IP_REWRITTEN && same)
		fail(g, i, "the server saw the client's own address %s: the source address was not rewritten",
		     p->client);
	else
		pass(g, i);
}

static void on_socket_event(struct engine *g, size_t i, uint32_t events)
{
	struct slot *s = &g->slots[i];
	if (s->phase == PHASE_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);
		getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err)
			fail(g, i, "%s", errno_text(err));
		else if (events & EPOLLOUT)
			on_connected(g, i);
		return;
	}
	if (s->phase != PHASE_READING)
		return;
	for (;;) {
		ssize_t n = recv(s->fd, s->response + s->len, RESPONSE_MAX - s->len, 0);
		if (n > 0) {
			s->len += (size_t)n;
			if (s->len == RESPONSE_MAX) {
				on_response(g, i);
				return;
			}
			continue;
		}
		if (n == 0) {
			on_response(g, i);
			return;
		}
		if (errno == EAGAIN || errno == EINTR)
			return;
		fail(g, i, "reading the answer: %s", errno_text(errno));
		return;
	}
}

/* ---- ping ---- */

static uint16_t icmp_checksum(const void *data, size_t len)
{
	const uint8_t *b = data;
	uint32_t sum = 0;
	for (size_t k = 0; k + 1 < len; k += 2)
		sum += (uint32_t)b[k] << 8 | b[k + 1];
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static int pinger_for(struct engine *g, int netns, struct tb_err *e)
{
	for (size_t k = 0; k < g->n_pingers; k++)
		if (g->pingers[k].netns == netns)
			return g->pingers[k].fd;
	int fd = netns_socket_from(g->home_netns, netns, AF_INET, SOCK_RAW | SOCK_NONBLOCK, IPPROTO_ICMP, e);
	if (fd < 0)
		return -1;
	/* Only what answers a ping: replies, unreachables, TTL exceeded. */
	struct icmp_filter filter = {
		.data = ~((1U << ICMP_ECHOREPLY) | (1U << ICMP_DEST_UNREACH) | (1U << ICMP_TIME_EXCEEDED))};
	setsockopt(fd, SOL_RAW, ICMP_FILTER, &filter, sizeof(filter));
	grow_array((void **)&g->pingers, &g->cap_pingers, g->n_pingers + 1, sizeof(*g->pingers));
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = PINGER_TAG | g->n_pingers};
	if (epoll_ctl(g->epoll, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		return tb_fail(e, "epoll: %s", strerror(errno));
	}
	g->pingers[g->n_pingers++] = (struct pinger){.netns = netns, .fd = fd};
	return fd;
}

static void start_ping(struct engine *g, size_t i)
{
	struct slot *s = &g->slots[i];
	const struct check_probe *p = &g->run->probes[i];
	struct tb_err e;
	int fd = pinger_for(g, g->from_netns[i], &e);
	if (fd < 0) {
		fail(g, i, "%s", e.msg);
		return;
	}
	struct {
		struct icmphdr h;
		struct echo_payload payload;
	} packet = {
		.h = {.type = ICMP_ECHO, .un.echo = {.id = htons(g->ident), .sequence = htons((uint16_t)i)}},
		.payload = {.token = g->token, .probe = (uint32_t)i, .attempt = (uint32_t)s->attempt},
	};
	packet.h.checksum = icmp_checksum(&packet, sizeof(packet));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(p->to_address)};
	s->phase = PHASE_PINGING;
	if (sendto(fd, &packet, sizeof(packet), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		fail(g, i, "%s", errno_text(errno));
}

static const char *unreachable_text(int type, int code)
{
	if (type == ICMP_TIME_EXCEEDED)
		return "time to live exceeded (a routing loop?)";
	switch (code) {
	case ICMP_NET_UNREACH:
		return "network unreachable";
	case ICMP_HOST_UNREACH:
		return "host unreachable";
	case ICMP_PORT_UNREACH:
		return "port unreachable";
	case ICMP_NET_ANO:
	case ICMP_HOST_ANO:
	case ICMP_PKT_FILTERED:
		return "administratively prohibited";
	}
	return "destination unreachable";
}

/* A probe of ours that PAYLOAD (LEN bytes, possibly cut short) names, still
 * waiting for its echo; SIZE_MAX if none. */
static size_t pinged_probe(const struct engine *g, const uint8_t *payload, size_t len)
{
	struct echo_payload ep;
	if (len < sizeof(ep))
		return SIZE_MAX;
	memcpy(&ep, payload, sizeof(ep));
	if (ep.token != g->token || ep.probe >= g->run->n_probes)
		return SIZE_MAX;
	const struct slot *s = &g->slots[ep.probe];
	if (s->phase != PHASE_PINGING || (uint32_t)s->attempt != ep.attempt)
		return SIZE_MAX;
	return ep.probe;
}

static void on_icmp(struct engine *g, const uint8_t *pkt, size_t len)
{
	if (len < sizeof(struct iphdr))
		return;
	const struct iphdr *ip = (const struct iphdr *)pkt;
	size_t ihl = (size_t)ip->ihl * 4;
	if (len < ihl + sizeof(struct icmphdr))
		return;
	const struct icmphdr *icmp = (const struct icmphdr *)(pkt + ihl);
	const uint8_t *rest = pkt + ihl + sizeof(*icmp);
	size_t rest_len = len - ihl - sizeof(*icmp);
	if (icmp->type == ICMP_ECHOREPLY) {
		if (ntohs(icmp->un.echo.id) != g->ident)
			return;
		size_t i = pinged_probe(g, rest, rest_len);
		if (i != SIZE_MAX && ntohl(ip->saddr) == g->run->probes[i].to_address)
			pass(g, i);
		return;
	}
	/* An error about one of our echo requests: the original IP header and
	 * ICMP header follow, then as much of our payload as the router kept. */
	if (rest_len < sizeof(struct iphdr))
		return;
	const struct iphdr *inner = (const struct iphdr *)rest;
	size_t inner_ihl = (size_t)inner->ihl * 4;
	if (inner->protocol != IPPROTO_ICMP || rest_len < inner_ihl + sizeof(struct icmphdr))
		return;
	const struct icmphdr *orig = (const struct icmphdr *)(rest + inner_ihl);
	if (orig->type != ICMP_ECHO || ntohs(orig->un.echo.id) != g->ident)
		return;
	size_t i = pinged_probe(g, rest + inner_ihl + sizeof(*orig), rest_len - inner_ihl - sizeof(*orig));
	if (i == SIZE_MAX || ntohl(inner->daddr) != g->run->probes[i].to_address)
		return;
	char from[16];
	fail(g, i, "%s (ICMP from %s)", unreachable_text(icmp->type, icmp->code), ipv4_addr_format(ntohl(ip->saddr), from));
}

static void on_pinger_event(struct engine *g, size_t k)
{
	uint8_t buf[1500];
	for (;;) {
		ssize_t n = recv(g->pingers[k].fd, buf, sizeof(buf), 0);
		if (n < 0)
			return;
		on_icmp(g, buf, (size_t)n);
	}
}

/* ---- the loop ---- */

static void start(struct engine *g, size_t i)
{
	struct slot *s = &g->slots[i];
	struct check_probe *p = &g->run->probes[i];
	s->attempt++;
	s->started = clock_ms();
	s->deadline = s->started + g->o->timeout_ms;
	s->request = 0;
	p->answered_by[0] = p->client[0] = p->error[0] = '\0';
	g->active[g->n_active++] = i;
	if (g->from_netns[i] < 0)
		fail(g, i, "%s is not running", p->from_name);
	else if (p->to_address == 0)
		fail(g, i, "%s has no address to reach it by", p->to_name);
	else if (p->proto == TB_PROTO_PING)
		start_ping(g, i);
	else
		start_connect(g, i);
}

static void expire(struct engine *g, double now)
{
	for (size_t k = 0; k < g->n_active;) {
		size_t i = g->active[k];
		const struct slot *s = &g->slots[i];
		if (now < s->deadline) {
			k++;
			continue;
		}
		int ms = g->o->timeout_ms;
		switch (s->phase) {
		case PHASE_PINGING:
			fail(g, i, "no echo reply within %d ms", ms);
			break;
		case PHASE_READING:
			fail(g, i, "connected, but no complete answer within %d ms", ms);
			break;
		default:
			fail(g, i, "no answer to the connection request within %d ms", ms);
			break;
		}
		/* fail() swapped another probe into position k. */
	}
}

int probe_run(struct check_run *run, const int *from_netns, const struct probe_options *o, volatile const int *stop,
	      struct tb_err *e)
{
	size_t n = run->n_probes;
	struct engine g = {
		.run = run,
		.from_netns = from_netns,
		.o = o,
		.slots = xcalloc(n ? n : 1, sizeof(*g.slots)),
		.active = xcalloc(n ? n : 1, sizeof(*g.active)),
		.retry = xcalloc(n ? n : 1, sizeof(*g.retry)),
	};
	int rc = 0;
	g.home_netns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	g.epoll = epoll_create1(EPOLL_CLOEXEC);
	if (g.home_netns < 0 || g.epoll < 0) {
		rc = tb_fail(e, "setting up the probes: %s", strerror(errno));
		goto out;
	}
	if (getrandom(&g.token, sizeof(g.token), 0) != sizeof(g.token))
		g.token = (uint32_t)getpid() ^ (uint32_t)now_ms();
	g.ident = (uint16_t)(g.token >> 16);
	for (size_t i = 0; i < n; i++) {
		g.slots[i].fd = -1;
		run->probes[i].outcome = PROBE_NOT_RUN;
	}
	size_t limit = o->max_in_flight > 0 ? (size_t)o->max_in_flight : 1;
	double began = clock_ms();
	struct epoll_event events[64];
	while (g.done < n) {
		if (stop && *stop) {
			rc = tb_fail(e, "interrupted");
			goto out;
		}
		while (g.n_active < limit && (g.n_retry || g.next < n))
			start(&g, g.n_retry ? g.retry[--g.n_retry] : g.next++);
		double wait = 100;
		double now = clock_ms();
		for (size_t k = 0; k < g.n_active; k++)
			if (g.slots[g.active[k]].deadline - now < wait)
				wait = g.slots[g.active[k]].deadline - now;
		int r = epoll_wait(g.epoll, events, ARRAY_SIZE(events), g.n_active ? (wait > 0 ? (int)wait + 1 : 0) : 0);
		if (r < 0 && errno != EINTR) {
			rc = tb_fail(e, "epoll_wait: %s", strerror(errno));
			goto out;
		}
		for (int k = 0; k < r; k++) {
			uint64_t tag = events[k].data.u64;
			if (tag & PINGER_TAG)
				on_pinger_event(&g, (size_t)(tag & ~PINGER_TAG));
			else if (g.slots[tag].phase == PHASE_CONNECTING || g.slots[tag].phase == PHASE_READING)
				on_socket_event(&g, (size_t)tag, events[k].events);
		}
		expire(&g, clock_ms());
	}
	run->duration_ms = clock_ms() - began;
	run->timeout_ms = o->timeout_ms;
out:
	for (size_t i = 0; i < n; i++)
		close_slot(&g.slots[i]);
	for (size_t k = 0; k < g.n_pingers; k++)
		close(g.pingers[k].fd);
	free(g.pingers);
	if (g.epoll >= 0)
		close(g.epoll);
	if (g.home_netns >= 0)
		close(g.home_netns);
	free(g.slots);
	free(g.active);
	free(g.retry);
	return rc;
}
