/* The probe engine. One thread, one epoll loop, no process per probe:
 * each TCP or UDP probe's socket is made inside its source's network
 * namespace (sockets keep the namespace they were made in), pings go out
 * through one raw ICMP socket per source namespace, and replies are
 * matched by the probe index carried in the echo payload. */
#define _GNU_SOURCE
#include "check/probe.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "steps/netlink.h"
#include "check/dns.h"
#include "check/probe_batch.h"

/* ---- probe_run ---- */

#define RESPONSE_MAX 4096
#define PINGER_TAG (1ULL << 63)
/* A lab answers a SYN or an echo request within a millisecond or two; one
 * unanswered for this long was most likely dropped (a full accept queue, a
 * neighbour entry the kernel could not make), and TCP would wait a whole
 * second before sending the SYN again. So the engine sends it again itself,
 * sooner, doubling the wait each time, within the attempt's timeout. */
#define RESEND_FIRST_MS 100

enum phase {
	PHASE_FREE,       /* no probe */
	PHASE_SOCKET,     /* waiting for a socket made in its source's namespace */
	PHASE_CONNECTING, /* SYN sent */
	PHASE_READING,    /* request sent */
	PHASE_PINGING,    /* echo request sent */
	PHASE_DATAGRAM,   /* udp: a request datagram sent, its answer awaited */
	PHASE_NEXT,       /* between two requests of a probe made several times */
	PHASE_RESOLVING,  /* a query sent to a nameserver, its answer awaited */
};

/* A name being resolved, as the probing machine's resolver (glibc's)
 * would: each name of the search list in turn, each asked of the
 * nameservers in turn, "attempts" rounds of them. */
struct lookup {
	const struct dns_resolver *r;
	char **names; /* dns_search_names' */
	size_t n_names, name;
	size_t server, round; /* the nameserver asked, and the round of them */
	size_t first, tried;  /* where this name's round starts (options rotate), how many of it are asked */
	uint16_t id;
	uint8_t query[DNS_UDP_MAX];
	int query_len;
	double try_deadline;
	bool got_nodata, got_servfail; /* some name had no record / a SERVFAIL (the search went on) */
	int rcode;        /* this name's last error answer (SERVFAIL, REFUSED); -1: none */
	size_t nodata_name; /* the first name with no record (got_nodata) */
	bool unreachable; /* this name's last try met a port unreachable */
};

/* A probe in flight. There are only --parallel of them, so a run's memory
 * does not grow with its probes beyond their compact records. */
struct slot {
	uint32_t probe;
	uint8_t phase;
	uint8_t http;    /* http: REQUEST_HOSTNAME or REQUEST_BOTH */
	uint8_t asked;   /* udp: ASK_HOSTNAME, then ASK_CLIENT for client_ip */
	uint32_t request; /* of the probe's requests, from 0 */
	bool dropped;     /* taken from the pool of probes expected to be dropped */
	bool sent;        /* this request's first packet went out: its deadline runs */
	int fd;
	double started;   /* this attempt */
	double deadline;  /* of this attempt */
	double resend_at; /* 0: nothing to send again */
	int resend_ms;
	char *response; /* RESPONSE_MAX + 1, allocated once per slot */
	size_t len;
	bool resolving;         /* the socket wanted is for a lookup */
	struct lookup *lookup;  /* allocated on a slot's first lookup */
};

/* The payload of our echo requests: which probe, slot and attempt it belongs to. */
struct echo_payload {
	uint32_t token;
	uint32_t probe;
	uint32_t slot;
	uint32_t attempt;
	uint32_t request;
};

struct engine {
	struct check_run *run;
	const int *netns; /* per machine */
	const struct probe_options *o;
	int home_netns;
	int epoll;
	struct slot *slots;
	size_t n_slots;
	uint32_t *free_slots;
	size_t n_free;
	uint32_t *want; /* slots in PHASE_SOCKET, in the order they asked */
	size_t n_want;
	uint32_t *next_request; /* slots in PHASE_NEXT */
	size_t n_next_request;
	uint32_t *retry; /* failed probes waiting for another attempt */
	size_t n_retry, cap_retry;
	/* Two pools of slots (see probe_dropped): the probes of each start in
	 * the run's order, from their own cursor, within their own limit. */
	size_t next, next_dropped; /* next probe of each kind never started */
	size_t in_flight, in_flight_dropped;
	size_t limit, limit_dropped;
	size_t done;
	int *pinger; /* per machine: its raw ICMP socket, -1 until needed */
	uint32_t token;
	uint16_t ident;
	uint16_t dns_id; /* the next query's id */
	size_t dns_rotate; /* options rotate: the next query's first nameserver */
	double now; /* the loop's clock, read once per turn */
	uint16_t udp_port; /* the next datagram probe's source port */
};

/* Datagram probes take their source ports in turn from a random start
 * rather than the kernel's random pick each: a UDP conntrack entry lives
 * on for 30 s or more after its exchange, so a new probe that happened
 * on an earlier one's port (to the same target) would ride that entry
 * ("ct state established") past rules that now deny it; a NetworkPolicy
 * check right after a change would see a pass that no policy gave. In
 * turn, no port repeats within a run. Linux's default ephemeral range. */
#define UDP_PORT_FIRST 32768
#define UDP_PORT_LAST 60999

static void bind_next_port(struct engine *g, int fd)
{
	for (int tries = 0; tries < 64; tries++) {
		uint16_t port = g->udp_port;
		g->udp_port = port >= UDP_PORT_LAST ? UDP_PORT_FIRST : (uint16_t)(port + 1);
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno != EADDRINUSE)
			return; /* unbound, connect picks one as before */
	}
}

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

/* How an error a socket reports failed the probe: a reset or an ICMP error
 * (what a REJECT sends) is a refusal; the source's own rules dropping the
 * packet is what a DROP does, as is silence. */
static enum check_failure failure_of(int err)
{
	switch (err) {
	case ECONNREFUSED:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ENONET:
	case ENOPROTOOPT:
		return CHECK_FAILED_REFUSED;
	case ETIMEDOUT:
	case EACCES:
	case EPERM:
		return CHECK_FAILED_TIMEOUT;
	}
	return CHECK_FAILED_ERROR;
}

/* Worth sending again rather than failing: the kernel ran short for a moment. */
static bool transient(int err)
{
	return err == EAGAIN || err == ENOBUFS || err == EADDRNOTAVAIL || err == ENOMEM;
}

static struct check_probe *probe_of(struct engine *g, const struct slot *s)
{
	return &g->run->probes[s->probe];
}

static void close_slot(struct slot *s)
{
	if (s->fd >= 0) {
		/* Closed with a reset, which leaves no TIME_WAIT socket on
		 * either end: a 1000-pod mesh makes two million connections,
		 * and a minute's worth of them would lengthen every lookup in
		 * the kernel's connection table. */
		static const struct linger abort_on_close = {.l_onoff = 1, .l_linger = 0};
		setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof(abort_on_close));
		close(s->fd); /* also leaves the epoll set */
	}
	s->fd = -1;
	s->len = 0;
}

/* Whether a probe repeated has settled its outcome with this request:
 * one expected to pass fails with any request that fails; one expected
 * to fail passes with any request that passes, or fails the other way. */
static bool request_decides(const struct check_probe *p, enum probe_outcome outcome)
{
	if (p->expect_pass)
		return outcome == PROBE_FAIL;
	if (p->expect_status)
		return outcome == PROBE_PASS || p->status != p->expect_status;
	return outcome == PROBE_PASS || (p->expect_failure && p->failed != p->expect_failure);
}

static void finish(struct engine *g, struct slot *s, enum probe_outcome outcome)
{
	struct check_probe *p = probe_of(g, s);
	const struct check_rule *rule = check_rule_of(g->run, p);
	close_slot(s);
	if (outcome == PROBE_PASS)
		p->failed = CHECK_FAILED_NOT;
	if (rule && rule->count)
		check_probe_request_made(g->run, s->probe);
	if (rule && ++s->request < rule->requests && !request_decides(p, outcome)) {
		/* Begun by the loop, not from here: a request that fails at
		 * once would otherwise recurse, as deep as there are requests. */
		check_probe_next_request(g->run, s->probe);
		s->phase = PHASE_NEXT;
		g->next_request[g->n_next_request++] = (uint32_t)(s - g->slots);
		return;
	}
	/* Every answerer answeredBy names must have answered, some time. */
	autofree char *missing = outcome == PROBE_PASS ? check_probe_missing_answerer(g->run, s->probe) : NULL;
	if (missing) {
		autofree char *error = xasprintf("%s never answered in %u requests", missing, s->request);
		check_probe_set_error(g->run, s->probe, error);
		outcome = PROBE_FAIL;
		p->failed = CHECK_FAILED_ERROR;
	}
	p->outcome = outcome;
	double ms = clock_ms() - s->started;
	p->latency_us = ms <= 0 ? 0 : ms * 1000 >= UINT32_MAX ? UINT32_MAX : (uint32_t)(ms * 1000);
	s->phase = PHASE_FREE;
	g->free_slots[g->n_free++] = (uint32_t)(s - g->slots);
	if (s->dropped)
		g->in_flight_dropped--;
	else
		g->in_flight--;
	if (outcome == PROBE_FAIL && p->attempts <= g->o->retries) {
		grow_array((void **)&g->retry, &g->cap_retry, g->n_retry + 1, sizeof(*g->retry));
		g->retry[g->n_retry++] = s->probe;
		return;
	}
	g->done++;
}

static void fail_as(struct engine *g, struct slot *s, enum check_failure how, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void fail_as(struct engine *g, struct slot *s, enum check_failure how, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	autofree char *error = xvasprintf(fmt, ap); /* check_probe_set_error cuts it */
	va_end(ap);
	check_probe_set_error(g->run, s->probe, error);
	probe_of(g, s)->failed = how;
	finish(g, s, PROBE_FAIL);
}

/* An answer that is not the one expected, or a failure of the engine's own. */
#define fail(g, s, ...) fail_as((g), (s), CHECK_FAILED_ERROR, __VA_ARGS__)
/* What a socket's error ERR says, as failure_of classes it. */
#define fail_errno(g, s, err, ...) fail_as((g), (s), failure_of(err), __VA_ARGS__)

static void pass(struct engine *g, struct slot *s)
{
	finish(g, s, PROBE_PASS);
}

static const struct check_target *target_of(const struct engine *g, const struct check_probe *p)
{
	return check_target_of(g->run, p);
}

static uint32_t target_address(const struct engine *g, const struct check_probe *p)
{
	return target_of(g, p)->address;
}

/* S needs a socket from its source's namespace: made with others in a batch. */
static void want_socket(struct engine *g, struct slot *s)
{
	s->phase = PHASE_SOCKET;
	g->want[g->n_want++] = (uint32_t)(s - g->slots);
}

/* ---- tcp and http ---- */

/* What an http probe asks. A probe that checks the client address asks
 * GET /, whose JSON carries both the server's name and the client it saw:
 * one connection instead of two (/hostname, then /clientip), which halves
 * what a full mesh costs the servers. */
enum { REQUEST_HOSTNAME, REQUEST_BOTH };
static const char *const request_paths[] = {"/hostname", "/"};

static void send_request(struct engine *g, struct slot *s)
{
	const struct check_probe *p = probe_of(g, s);
	char addr[16];
	char req[2048];
	const struct check_target *t = target_of(g, p);
	probe_of(g, s)->status = 0;
	int len;
	if (t->request) {
		/* An ingress: target's own Host and path: they choose the backend. */
		const struct check_http_request *r = &g->run->http_requests[t->request - 1];
		len = snprintf(req, sizeof(req),
			       "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: testbed-check\r\nConnection: close\r\n\r\n",
			       r->path, r->host);
	} else {
		len = snprintf(req, sizeof(req),
			       "GET %s HTTP/1.0\r\nHost: %s:%u\r\nUser-Agent: testbed-check\r\nConnection: close\r\n\r\n",
			       request_paths[s->http], ipv4_addr_format(target_address(g, p), addr), t->port);
	}
	if (len < 0 || (size_t)len >= sizeof(req)) {
		fail(g, s, "the request is longer than %zu bytes", sizeof(req));
		return;
	}
	/* A fresh connection's send buffer takes a request this small at once. */
	if (send(s->fd, req, (size_t)len, MSG_NOSIGNAL) != len) {
		int err = errno;
		fail_errno(g, s, err, "sending the request: %s", errno_text(err));
		return;
	}
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = (uint64_t)(s - g->slots)};
	epoll_ctl(g->epoll, EPOLL_CTL_MOD, s->fd, &ev);
	s->phase = PHASE_READING;
	s->resend_at = 0;
	s->len = 0;
}

static void on_connected(struct engine *g, struct slot *s)
{
	if (target_of(g, probe_of(g, s))->proto == TB_PROTO_TCP)
		pass(g, s);
	else
		send_request(g, s);
}

/* S's socket, just made in its source's namespace: connect it. */
static void start_connect(struct engine *g, struct slot *s, int fd)
{
	const struct check_probe *p = probe_of(g, s);
	s->fd = fd;
	s->phase = PHASE_CONNECTING;
	s->resend_at = g->now + s->resend_ms;
	struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = (uint64_t)(s - g->slots)};
	if (epoll_ctl(g->epoll, EPOLL_CTL_ADD, s->fd, &ev) < 0) {
		fail(g, s, "epoll: %s", strerror(errno));
		return;
	}
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(target_of(g, p)->port),
				 .sin_addr.s_addr = htonl(target_address(g, p))};
	if (connect(s->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		on_connected(g, s);
	else if (errno == EINPROGRESS)
		return;
	else if (transient(errno))
		close_slot(s); /* resend_at makes a new socket and tries again */
	else
		fail_errno(g, s, errno, "%s", errno_text(errno));
}

/* The body of a complete HTTP/1.x response with status 200, trimmed of
 * trailing whitespace; NULL after failing the probe otherwise. */
static char *http_body(struct engine *g, struct slot *s)
{
	s->response[s->len] = '\0';
	int status;
	if (sscanf(s->response, "HTTP/1.%*d %d", &status) != 1) {
		fail(g, s, s->len ? "the answer is not HTTP" : "connection closed without an answer");
		return NULL;
	}
	char *body = strstr(s->response, "\r\n\r\n");
	struct check_probe *p = probe_of(g, s);
	p->status = status >= 100 && status <= 599 ? (uint16_t)status : 0;
	if (status != 200) {
		fail(g, s, "HTTP status %d", status);
		return NULL;
	}
	if (!body) {
		fail(g, s, "the HTTP answer has no body");
		return NULL;
	}
	body += 4;
	size_t n = strlen(body);
	while (n && isspace((unsigned char)body[n - 1]))
		body[--n] = '\0';
	return body;
}

/* Who may answer probe P, for messages: the target's name, or "one of
 * service:web's endpoints (web-a, web-b)" (malloc'd). */
static char *wanted_answerers(const struct engine *g, const struct check_probe *p)
{
	const struct check_run *run = g->run;
	const struct check_target *t = target_of(g, p);
	const struct check_rule *rule = check_rule_of(run, p);
	bool own = rule && rule->has_answerers;
	uint32_t first = own ? rule->answerers : t->answerers, n = own ? rule->n_answerers : t->n_answerers;
	if (!own && t->end < run->n_machines && n == 1 && run->answerers[first] == t->end)
		return xstrdup(run->machines[t->end].name);
	char *list = xstrdup("");
	for (uint32_t k = 0; k < n && k < 8; k++) {
		char *more = xasprintf("%s%s%s", list, k ? ", " : "", run->machines[run->answerers[first + k]].name);
		free(list);
		list = more;
	}
	char *text = xasprintf("one of %s%s (%s%s)", own ? "answeredBy" : check_end_name(run, t->end),
			       own ? "" : t->end < run->n_machines ? "'s servers" : "'s endpoints", list,
			       n > 8 ? ", ..." : "");
	free(list);
	return text;
}

/* Is the answerer one of the probe's (its answeredBy, else its target's)?
 * Counts the answer where its expectation counts them; fails the probe
 * otherwise. */
static bool check_answerer(struct engine *g, struct slot *s, const char *text)
{
	const struct check_probe *p = probe_of(g, s);
	const struct check_rule *rule = check_rule_of(g->run, p);
	char answered_by[CHECK_NAME_MAX];
	snprintf(answered_by, sizeof(answered_by), "%.*s",
		 (int)utf8_cut(text, strcspn(text, "\r\n"), sizeof(answered_by) - 1), text);
	check_probe_set_answer(g->run, s->probe, answered_by);
	if (rule && rule->count)
		check_probe_count_answer(g->run, s->probe, answered_by);
	if (check_probe_answered_by(g->run, s->probe, text))
		return true;
	autofree char *wanted = wanted_answerers(g, p);
	fail(g, s, "answered by \"%s\", not %s", answered_by, wanted);
	return false;
}

/* Passes or fails the probe by the client address the server saw. */
static void check_client(struct engine *g, struct slot *s, const char *text)
{
	const struct check_probe *p = probe_of(g, s);
	char client[32];
	snprintf(client, sizeof(client), "%.*s", (int)utf8_cut(text, strcspn(text, "\r\n"), sizeof(client) - 1),
		 text);
	check_probe_set_client(g->run, s->probe, client);
	/* The address this connection left with, as the kernel chose it (a
	 * node has several); whatever the server saw instead was rewritten. */
	char own[16];
	struct sockaddr_in local;
	socklen_t local_len = sizeof(local);
	if (getsockname(s->fd, (struct sockaddr *)&local, &local_len) < 0)
		ipv4_addr_format(g->run->machines[p->from].address, own);
	else
		ipv4_addr_format(ntohl(local.sin_addr.s_addr), own);
	size_t host_len = strcspn(client, ":");
	bool same = strlen(own) == host_len && strncmp(own, client, host_len) == 0;
	if (p->client_ip == TB_CLIENT_IP_PRESERVED && !same) {
		fail(g, s, "the server saw the client as %s, not %s: the source address was rewritten", client, own);
	} else if (p->client_ip == TB_CLIENT_IP_REWRITTEN && same) {
		fail(g, s, "the server saw the client's own address %s: the source address was not rewritten",
		     client);
	} else if (p->client_ip == TB_CLIENT_IP_NAMED || p->client_ip == TB_CLIENT_IP_SOURCE_NODE) {
		uint32_t own_addr = 0;
		ipv4_addr_parse(own, &own_addr);
		if (p->has_client && check_probe_client_ok(g->run, s->probe, p->client_addr, own_addr)) {
			pass(g, s);
		} else {
			autofree char *wanted = check_probe_client_wanted(g->run, s->probe);
			fail(g, s, "the server saw the client as %s, not %s", client, wanted);
		}
	} else {
		pass(g, s);
	}
}

static void on_response(struct engine *g, struct slot *s)
{
	char *body = http_body(g, s);
	if (!body)
		return;
	if (s->http == REQUEST_BOTH) {
		cJSON *doc = cJSON_ParseWithLength(body, strlen(body));
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "name"));
		const char *client = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "client"));
		if (!name || !client)
			fail(g, s, "GET / did not answer JSON with the server's name and the client");
		else if (check_answerer(g, s, name))
			check_client(g, s, client);
		cJSON_Delete(doc);
		return;
	}
	/* Through an ingress the pod is asked the path the user gave: "/" is
	 * the pod server's JSON, which names it too. */
	if (target_of(g, probe_of(g, s))->request && body[0] == '{') {
		cJSON *doc = cJSON_ParseWithLength(body, strlen(body));
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "name"));
		if (!name)
			fail(g, s, "the answer is JSON without the server's name");
		else if (check_answerer(g, s, name))
			pass(g, s);
		cJSON_Delete(doc);
		return;
	}
	if (check_answerer(g, s, body))
		pass(g, s);
}

/* ---- udp ---- */

/* What a udp probe asks the pod server, one datagram each (agnhost
 * netexec's commands): its name, then, when the expectation checks the
 * client's address, the address it saw. */
enum { ASK_HOSTNAME, ASK_CLIENT };
static const char *const udp_requests[] = {"hostname", "clientip"};

/* A connected UDP socket hears of an ICMP port unreachable as ECONNREFUSED. */
static const char *datagram_error(int err)
{
	return err == ECONNREFUSED ? "port unreachable" : errno_text(err);
}

/* Sends S's request (again: a datagram, or its answer, may be lost). */
static void send_datagram(struct engine *g, struct slot *s)
{
	const char *request = udp_requests[s->asked];
	s->phase = PHASE_DATAGRAM;
	s->resend_at = g->now + s->resend_ms;
	if (send(s->fd, request, strlen(request), MSG_NOSIGNAL) < 0 && !transient(errno))
		fail_errno(g, s, errno, "%s", datagram_error(errno));
}

/* S's socket, just made in its source's namespace: connect it to the
 * target, so that only the target's answers reach it, and ask. */
static void start_datagram(struct engine *g, struct slot *s, int fd)
{
	const struct check_probe *p = probe_of(g, s);
	s->fd = fd;
	s->asked = ASK_HOSTNAME;
	/* Every ICMP error about our datagrams, not only those the kernel
	 * deems final (a host unreachable is not): a REJECT's answer, told
	 * apart from silence. */
	int on = 1;
	setsockopt(s->fd, IPPROTO_IP, IP_RECVERR, &on, sizeof(on));
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)(s - g->slots)};
	if (epoll_ctl(g->epoll, EPOLL_CTL_ADD, s->fd, &ev) < 0) {
		fail(g, s, "epoll: %s", strerror(errno));
		return;
	}
	bind_next_port(g, s->fd);
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(target_of(g, p)->port),
				 .sin_addr.s_addr = htonl(target_address(g, p))};
	if (connect(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		fail_errno(g, s, errno, "%s", datagram_error(errno));
	else
		send_datagram(g, s);
}

/* The answers waiting on S's socket: the target's name, then the client
 * it saw. */
static void on_datagram(struct engine *g, struct slot *s)
{
	for (;;) {
		ssize_t n = recv(s->fd, s->response, RESPONSE_MAX, 0);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				fail_errno(g, s, errno, "%s", datagram_error(errno));
			return;
		}
		s->response[n] = '\0';
		const struct check_probe *p = probe_of(g, s);
		if (s->asked == ASK_HOSTNAME) {
			if (!check_answerer(g, s, s->response))
				return;
			if (p->client_ip == TB_CLIENT_IP_ANY) {
				pass(g, s);
				return;
			}
			s->asked = ASK_CLIENT;
			s->resend_ms = RESEND_FIRST_MS;
			send_datagram(g, s);
			if (s->phase != PHASE_DATAGRAM)
				return;
			continue;
		}
		/* A second answer to "hostname", sent again before the first
		 * answer came: not the client's address. */
		if (check_probe_answered_by(g->run, s->probe, s->response))
			continue;
		check_client(g, s, s->response);
		return;
	}
}

/* ---- names: resolved before a probe goes to them, or a dns probe's own ---- */

static void lookup_clear(struct lookup *l)
{
	strv_free(l->names);
	l->names = NULL;
	l->n_names = 0;
}

static const char *lookup_server(const struct lookup *l, char *buf)
{
	return ipv4_addr_format(l->r->nameservers[l->server], buf);
}

static enum dns_type lookup_type(struct engine *g, const struct slot *s)
{
	const struct check_target *t = target_of(g, probe_of(g, s));
	return t->proto == TB_PROTO_DNS && t->dns_type == TB_DNS_SRV ? DNS_TYPE_SRV : DNS_TYPE_A;
}

static void ask_name(struct engine *g, struct slot *s);
static void send_ping(struct engine *g, struct slot *s);
static void next_try(struct engine *g, struct slot *s);

/* Sends this try's query (again: a datagram, or its answer, may be lost;
 * the same id, so either answer counts). */
static void resend_query(struct engine *g, struct slot *s)
{
	struct lookup *l = s->lookup;
	s->resend_at = g->now + s->resend_ms;
	if (send(s->fd, l->query, (size_t)l->query_len, MSG_NOSIGNAL) >= 0 || transient(errno))
		return;
	if (errno == ECONNREFUSED) {
		l->unreachable = true;
		next_try(g, s);
		return;
	}
	char ns[16];
	fail_errno(g, s, errno, "asking nameserver %s: %s", lookup_server(l, ns), errno_text(errno));
}

/* A try: the query to the current nameserver, which has the resolver's
 * timeout (options timeout:N, 5 s by default) to answer, within the
 * probe's own. */
static void send_query(struct engine *g, struct slot *s)
{
	struct lookup *l = s->lookup;
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(DNS_PORT),
				 .sin_addr.s_addr = htonl(l->r->nameservers[l->server])};
	s->phase = PHASE_RESOLVING;
	s->resend_ms = RESEND_FIRST_MS;
	l->try_deadline = g->now + (l->r->timeout_s > 0 ? l->r->timeout_s : 1) * 1000.0;
	/* Connected, as glibc's is: only that server's answers reach it, and
	 * a port unreachable is told as ECONNREFUSED. */
	if (connect(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		char ns[16];
		fail_errno(g, s, errno, "nameserver %s: %s", lookup_server(l, ns), errno_text(errno));
		return;
	}
	resend_query(g, s);
}

/* The search list is spent without an address. */
static void lookup_no_answer(struct engine *g, struct slot *s)
{
	struct lookup *l = s->lookup;
	const struct check_probe *p = probe_of(g, s);
	const struct check_rule *rule = check_rule_of(g->run, p);
	const char *type = lookup_type(g, s) == DNS_TYPE_SRV ? "SRV" : "A";
	autofree char *asked = xstrdup("");
	for (size_t k = 0; k < l->n_names; k++) {
		char *more = xasprintf("%s%s%s", asked, k ? ", " : "", l->names[k]);
		free(asked);
		asked = more;
	}
	/* A dns probe whose expectation says the name has no record. */
	if (l->got_nodata && rule && rule->has_answers && !rule->n_answers && !rule->n_records) {
		struct dns_answer none = {.name = l->names[l->nodata_name]};
		check_probe_set_dns(g->run, s->probe, &none);
		pass(g, s);
		return;
	}
	if (l->got_nodata)
		fail_as(g, s, CHECK_FAILED_NXDOMAIN, "%s has no %s record (asked %s)", l->names[l->nodata_name], type,
			asked);
	else if (l->got_servfail)
		fail_as(g, s, CHECK_FAILED_SERVFAIL, "SERVFAIL, no address (asked %s)", asked);
	else
		fail_as(g, s, CHECK_FAILED_NXDOMAIN, "NXDOMAIN: no such name (asked %s)", asked);
}

static void next_name(struct engine *g, struct slot *s)
{
	struct lookup *l = s->lookup;
	if (++l->name < l->n_names)
		ask_name(g, s);
	else
		lookup_no_answer(g, s);
}

/* The next nameserver, then the next round of them ("attempts"); once
 * spent, the name failed as its last try did: a SERVFAIL goes on to the
 * next name, as glibc's res_nsearch does; a refusal, silence or another
 * error ends the lookup. */
static void next_try(struct engine *g, struct slot *s)
{
	struct lookup *l = s->lookup;
	if (++l->tried == l->r->n_nameservers) {
		l->tried = 0;
		l->round++;
	}
	l->server = (l->first + l->tried) % l->r->n_nameservers;
	if (l->round < (size_t)l->r->attempts) {
		send_query(g, s);
		return;
	}
	char ns[16], rcode[16];
	const char *name = l->names[l->name];
	if (l->rcode == ns_r_servfail) {
		l->got_servfail = true;
		next_name(g, s);
	} else if (l->rcode >= 0) {
		fail_as(g, s, CHECK_FAILED_SERVFAIL, "nameserver %s answered %s for %s", lookup_server(l, ns),
			dns_rcode_name(l->rcode, rcode, sizeof(rcode)), name);
	} else if (l->unreachable) {
		fail_as(g, s, CHECK_FAILED_REFUSED, "nameserver %s: port unreachable (asking %s)", lookup_server(l, ns),
			name);
	} else {
		fail_as(g, s, CHECK_FAILED_TIMEOUT, "no answer from nameserver %s for %s (%zu tries of %d s)",
			lookup_server(l, ns), name, (size_t)l->r->attempts * l->r->n_nameservers, l->r->timeout_s);
	}
}

/* The current name of the search list, asked of the first nameserver. */
static void ask_name(struct engine *g, struct slot *s)
{
	struct lookup *l = s->lookup;
	/* Under options rotate each query starts at the next nameserver. */
	l->first = l->r->rotate ? g->dns_rotate++ % l->r->n_nameservers : 0;
	l->server = l->first;
	l->tried = 0;
	l->round = 0;
	l->rcode = -1;
	l->unreachable = false;
	l->id = g->dns_id++;
	l->query_len = dns_query_build(l->names[l->name], lookup_type(g, s), l->id, l->query, sizeof(l->query));
	/* A name made too long by its search domain: glibc skips it too. */
	if (l->query_len < 0) {
		next_name(g, s);
		return;
	}
	if (l->r->attempts <= 0) {
		fail_as(g, s, CHECK_FAILED_TIMEOUT, "options attempts:0: the resolver asks no nameserver");
		return;
	}
	send_query(g, s);
}

/* An answer with records: a dns probe compares them; a probe to a name
 * goes on to the first address, as a client connecting to it would. */
static void lookup_answered(struct engine *g, struct slot *s, const struct dns_answer *a)
{
	struct check_probe *p = probe_of(g, s);
	check_probe_set_dns(g->run, s->probe, a);
	close_slot(s);
	if (target_of(g, p)->proto == TB_PROTO_DNS) {
		char *why = NULL;
		if (check_probe_dns_ok(g->run, s->probe, a, &why))
			pass(g, s);
		else
			fail(g, s, "%s", why);
		free(why);
		return;
	}
	p->to = check_target_resolved(g->run, p->to, a->addresses[0]);
	s->deadline = g->now + g->o->timeout_ms; /* the connection's own */
	s->resend_ms = RESEND_FIRST_MS;
	s->resend_at = 0;
	if (target_of(g, p)->proto == TB_PROTO_PING && g->pinger[p->from] >= 0)
		send_ping(g, s);
	else
		want_socket(g, s);
}

static void on_answer(struct engine *g, struct slot *s, const struct dns_answer *a)
{
	struct lookup *l = s->lookup;
	if (a->truncated) {
		fail(g, s, "the answer for %s is truncated, and asking again over TCP is not implemented",
		     l->names[l->name]);
		return;
	}
	if (a->rcode == ns_r_noerror) {
		if (lookup_type(g, s) == DNS_TYPE_SRV ? a->n_srv : a->n_addresses) {
			lookup_answered(g, s, a);
			return;
		}
		if (!l->got_nodata)
			l->nodata_name = l->name;
		l->got_nodata = true;
		next_name(g, s);
	} else if (a->rcode == ns_r_nxdomain) {
		next_name(g, s);
	} else {
		/* SERVFAIL, REFUSED, NOTIMP: glibc asks the next server. */
		l->rcode = a->rcode;
		next_try(g, s);
	}
}

/* Answers waiting on a lookup's socket: strays (another id, another
 * question) are ignored. */
static void on_lookup_event(struct engine *g, struct slot *s)
{
	struct lookup *l = s->lookup;
	for (;;) {
		ssize_t n = recv(s->fd, s->response, RESPONSE_MAX, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			if (errno == ECONNREFUSED) {
				l->unreachable = true;
				next_try(g, s);
				return;
			}
			char ns[16];
			fail_errno(g, s, errno, "nameserver %s: %s", lookup_server(l, ns), errno_text(errno));
			return;
		}
		const uint8_t *msg = (const uint8_t *)s->response;
		if (!dns_answer_matches(msg, (size_t)n, l->id, l->names[l->name], lookup_type(g, s)))
			continue;
		struct dns_answer a;
		char *why = NULL;
		if (!dns_answer_parse(msg, (size_t)n, lookup_type(g, s), &a, &why)) {
			char ns[16];
			fail(g, s, "nameserver %s: %s", lookup_server(l, ns), why);
			free(why);
			return;
		}
		on_answer(g, s, &a);
		dns_answer_free(&a);
		return;
	}
}

/* Resolving S's name begins: the probing machine's resolv.conf, its
 * search list, a socket from its namespace. */
static void begin_lookup(struct engine *g, struct slot *s)
{
	const struct check_probe *p = probe_of(g, s);
	const char *name = check_target_name(g->run, target_of(g, p));
	const char *why = NULL;
	const struct dns_resolver *r = check_resolver(g->run, p->from, &why);
	if (!r) {
		fail(g, s, "%s cannot resolve %s: %s", g->run->machines[p->from].name, name, why);
		return;
	}
	if (!r->n_nameservers) {
		fail(g, s, "%s cannot resolve %s: its nameservers are IPv6, and the lab has no IPv6",
		     g->run->machines[p->from].name, name);
		return;
	}
	if (r->use_vc) {
		fail(g, s, "not implemented: %s's resolv.conf has options use-vc (queries over TCP); checks ask over UDP",
		     g->run->machines[p->from].name);
		return;
	}
	if (!s->lookup)
		s->lookup = xcalloc(1, sizeof(*s->lookup));
	lookup_clear(s->lookup);
	*s->lookup = (struct lookup){.r = r, .rcode = -1};
	s->lookup->names = dns_search_names(r, name, &s->lookup->n_names);
	s->resolving = true;
	want_socket(g, s);
}

static void start_lookup(struct engine *g, struct slot *s, int fd)
{
	s->fd = fd;
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)(s - g->slots)};
	if (epoll_ctl(g->epoll, EPOLL_CTL_ADD, s->fd, &ev) < 0) {
		fail(g, s, "epoll: %s", strerror(errno));
		return;
	}
	bind_next_port(g, s->fd);
	ask_name(g, s);
}

/* ---- events on a probe's socket ---- */

static void on_socket_event(struct engine *g, struct slot *s, uint32_t events)
{
	if (s->phase == PHASE_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);
		getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err)
			fail_errno(g, s, err, "%s", errno_text(err));
		else if (events & EPOLLOUT)
			on_connected(g, s);
		return;
	}
	if (s->phase == PHASE_DATAGRAM) {
		on_datagram(g, s);
		return;
	}
	if (s->phase == PHASE_RESOLVING) {
		on_lookup_event(g, s);
		return;
	}
	if (s->phase != PHASE_READING)
		return;
	for (;;) {
		ssize_t n = recv(s->fd, s->response + s->len, RESPONSE_MAX - s->len, 0);
		if (n > 0) {
			s->len += (size_t)n;
			if (s->len == RESPONSE_MAX) {
				on_response(g, s);
				return;
			}
			continue;
		}
		if (n == 0) {
			on_response(g, s);
			return;
		}
		if (errno == EAGAIN || errno == EINTR)
			return;
		fail(g, s, "reading the answer: %s", errno_text(errno));
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

/* A raw ICMP socket just made in MACHINE's namespace becomes its pinger. */
static int adopt_pinger(struct engine *g, uint32_t machine, int fd, struct tb_err *e)
{
	/* Only what answers a ping: replies, unreachables, TTL exceeded. */
	struct icmp_filter filter = {
		.data = ~((1U << ICMP_ECHOREPLY) | (1U << ICMP_DEST_UNREACH) | (1U << ICMP_TIME_EXCEEDED))};
	setsockopt(fd, SOL_RAW, ICMP_FILTER, &filter, sizeof(filter));
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = PINGER_TAG | machine};
	if (epoll_ctl(g->epoll, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		return tb_fail(e, "epoll: %s", strerror(errno));
	}
	g->pinger[machine] = fd;
	return 0;
}

static void send_ping(struct engine *g, struct slot *s)
{
	const struct check_probe *p = probe_of(g, s);
	struct {
		struct icmphdr h;
		struct echo_payload payload;
	} packet = {
		.h = {.type = ICMP_ECHO, .un.echo = {.id = htons(g->ident), .sequence = htons((uint16_t)s->probe)}},
		.payload = {.token = g->token,
			    .probe = s->probe,
			    .slot = (uint32_t)(s - g->slots),
			    .attempt = p->attempts,
			    .request = s->request},
	};
	packet.h.checksum = icmp_checksum(&packet, sizeof(packet));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(target_address(g, p))};
	s->phase = PHASE_PINGING;
	s->resend_at = g->now + s->resend_ms;
	if (sendto(g->pinger[p->from], &packet, sizeof(packet), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
	    !transient(errno))
		fail_errno(g, s, errno, "%s", errno_text(errno));
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

/* The slot of a probe of ours that PAYLOAD (LEN bytes, possibly cut short)
 * names, still waiting for its echo; NULL if none. */
static struct slot *pinged_slot(struct engine *g, const uint8_t *payload, size_t len)
{
	struct echo_payload ep;
	if (len < sizeof(ep))
		return NULL;
	memcpy(&ep, payload, sizeof(ep));
	if (ep.token != g->token || ep.slot >= g->n_slots)
		return NULL;
	struct slot *s = &g->slots[ep.slot];
	if (s->phase != PHASE_PINGING || s->probe != ep.probe || probe_of(g, s)->attempts != ep.attempt ||
	    s->request != ep.request)
		return NULL;
	return s;
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
		struct slot *s = pinged_slot(g, rest, rest_len);
		if (s && ntohl(ip->saddr) == target_address(g, probe_of(g, s)))
			pass(g, s);
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
	struct slot *s = pinged_slot(g, rest + inner_ihl + sizeof(*orig), rest_len - inner_ihl - sizeof(*orig));
	if (!s || ntohl(inner->daddr) != target_address(g, probe_of(g, s)))
		return;
	char from[16];
	/* An unreachable is a refusal; a TTL exceeded, a routing loop. */
	fail_as(g, s, icmp->type == ICMP_DEST_UNREACH ? CHECK_FAILED_REFUSED : CHECK_FAILED_ERROR, "%s (ICMP from %s)",
		unreachable_text(icmp->type, icmp->code), ipv4_addr_format(ntohl(ip->saddr), from));
}

static void on_pinger_event(struct engine *g, uint32_t machine)
{
	uint8_t buf[1500];
	for (;;) {
		ssize_t n = recv(g->pinger[machine], buf, sizeof(buf), 0);
		if (n < 0)
			return;
		on_icmp(g, buf, (size_t)n);
	}
}

/* ---- sockets, made in batches ---- */

/* Makes the sockets the waiting slots need, visiting each source's
 * namespace once for all of them (two setns() calls a visit), then
 * connects them or sends their pings. */
static int make_sockets(struct engine *g, struct tb_err *e)
{
	size_t n = g->n_want;
	if (n == 0)
		return 0;
	autofree int *keys = xcalloc(n, sizeof(*keys));
	autofree int *fds = xcalloc(n, sizeof(*fds));
	autofree int *errs = xcalloc(n, sizeof(*errs));
	autofree uint32_t *order = xcalloc(n, sizeof(*order));
	for (size_t k = 0; k < n; k++)
		keys[k] = g->netns[probe_of(g, &g->slots[g->want[k]])->from];
	probe_batch_order(keys, n, order);
	for (size_t k = 0; k < n;) {
		int netns = keys[order[k]];
		if (netns_visit(netns, e) < 0)
			return -1;
		for (; k < n && keys[order[k]] == netns; k++) {
			struct slot *s = &g->slots[g->want[order[k]]];
			const struct check_probe *p = probe_of(g, s);
			fds[order[k]] = -1;
			bool ping = !s->resolving && target_of(g, p)->proto == TB_PROTO_PING;
			int type = s->resolving || target_of(g, p)->proto == TB_PROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;
			if (!ping)
				fds[order[k]] = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
			else if (g->pinger[p->from] < 0)
				fds[order[k]] = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
			errs[order[k]] = errno;
			/* The first ping of a source made its pinger; the others share it. */
			if (ping && fds[order[k]] >= 0 && adopt_pinger(g, p->from, fds[order[k]], e) < 0) {
				netns_return(g->home_netns);
				return -1;
			}
		}
		netns_return(g->home_netns);
	}
	/* In the order they asked, now that every one has its socket. A
	 * request's deadline runs from its first packet: making a batch of
	 * thousands of sockets, on a loaded machine, may take a while that
	 * is no part of any probe's wait. */
	for (size_t k = 0; k < n; k++) {
		struct slot *s = &g->slots[g->want[k]];
		const struct check_probe *p = probe_of(g, s);
		g->now = clock_ms();
		if (!s->sent) {
			s->deadline = g->now + g->o->timeout_ms;
			s->sent = true;
		}
		bool resolving = s->resolving;
		bool ping = !resolving && target_of(g, p)->proto == TB_PROTO_PING;
		s->resolving = false;
		if (ping ? g->pinger[p->from] < 0 : fds[k] < 0)
			fail(g, s, "making a socket in %s's namespace: %s", g->run->machines[p->from].name,
			     strerror(errs[k]));
		else if (resolving)
			start_lookup(g, s, fds[k]);
		else if (ping)
			send_ping(g, s);
		else if (target_of(g, p)->proto == TB_PROTO_UDP)
			start_datagram(g, s, fds[k]);
		else
			start_connect(g, s, fds[k]);
	}
	g->n_want = 0;
	return 0;
}

/* ---- the loop ---- */

/* One request of S's probe: its packets go out afresh, with a deadline
 * of their own. */
static void begin_request(struct engine *g, struct slot *s)
{
	struct check_probe *p = probe_of(g, s);
	s->phase = PHASE_FREE;
	s->resend_ms = RESEND_FIRST_MS;
	s->resend_at = 0;
	s->asked = ASK_HOSTNAME;
	s->deadline = g->now + g->o->timeout_ms;
	s->sent = false;
	if (g->netns[p->from] < 0)
		fail(g, s, "%s is not running", g->run->machines[p->from].name);
	else if (target_of(g, p)->resolve)
		begin_lookup(g, s);
	else if (target_address(g, p) == 0)
		fail(g, s, "%s has no address to reach it by", check_end_name(g->run, target_of(g, p)->end));
	else if (target_of(g, p)->proto == TB_PROTO_PING && g->pinger[p->from] >= 0)
		send_ping(g, s);
	else
		want_socket(g, s);
}

/* Whether PROBE is expected to fail without reaching any server: its packets
 * are to be dropped or refused on the way (a NetworkPolicy's deny), so that
 * it costs no server anything and its wait is a timeout spent idle. Those
 * run from a pool of their own, much larger than --parallel, so that a
 * mesh's denied cells wait out their timeouts side by side instead of
 * taking the servers' turns. Not those whose target is a name (a lookup
 * asks a nameserver) nor those judged by an HTTP status (a server answers). */
static bool probe_dropped(const struct check_run *run, const struct check_probe *p)
{
	const struct check_target *t = check_target_of(run, p);
	return !p->expect_pass && !p->expect_status && !t->resolve && t->proto != TB_PROTO_DNS;
}

/* The next probe of the kind starting from *CURSOR, or N when none is left. */
static size_t next_of_kind(const struct engine *g, size_t *cursor, bool dropped)
{
	size_t n = g->run->n_probes;
	while (*cursor < n && probe_dropped(g->run, &g->run->probes[*cursor]) != dropped)
		(*cursor)++;
	return *cursor;
}

/* The next probe to start, from the retries or either pool's cursor,
 * within that pool's limit; false when none may start now. */
static bool next_to_start(struct engine *g, uint32_t *probe, bool *dropped)
{
	if (!g->n_free)
		return false;
	size_t n = g->run->n_probes;
	for (size_t k = g->n_retry; k-- > 0;) {
		bool d = probe_dropped(g->run, &g->run->probes[g->retry[k]]);
		if (d ? g->in_flight_dropped < g->limit_dropped : g->in_flight < g->limit) {
			*probe = g->retry[k];
			*dropped = d;
			g->retry[k] = g->retry[--g->n_retry];
			return true;
		}
	}
	if (g->in_flight < g->limit && next_of_kind(g, &g->next, false) < n) {
		*probe = (uint32_t)g->next++;
		*dropped = false;
		return true;
	}
	if (g->in_flight_dropped < g->limit_dropped && next_of_kind(g, &g->next_dropped, true) < n) {
		*probe = (uint32_t)g->next_dropped++;
		*dropped = true;
		return true;
	}
	return false;
}

/* Whether a probe may start now (next_to_start, without taking it). */
static bool may_start(struct engine *g)
{
	if (!g->n_free)
		return false;
	size_t n = g->run->n_probes;
	for (size_t k = 0; k < g->n_retry; k++)
		if (probe_dropped(g->run, &g->run->probes[g->retry[k]]) ? g->in_flight_dropped < g->limit_dropped
								    : g->in_flight < g->limit)
			return true;
	return (g->in_flight < g->limit && next_of_kind(g, &g->next, false) < n) ||
	       (g->in_flight_dropped < g->limit_dropped && next_of_kind(g, &g->next_dropped, true) < n);
}

static void start(struct engine *g, uint32_t probe, bool dropped)
{
	struct slot *s = &g->slots[g->free_slots[--g->n_free]];
	struct check_probe *p = &g->run->probes[probe];
	if (dropped)
		g->in_flight_dropped++;
	else
		g->in_flight++;
	/* A name is resolved afresh each attempt. */
	if (g->run->targets[p->to].name_of)
		p->to = g->run->targets[p->to].name_of - 1;
	*s = (struct slot){.probe = probe,
			   .fd = -1,
			   .response = s->response,
			   .lookup = s->lookup,
			   .resend_ms = RESEND_FIRST_MS,
			   .request = 0,
			   .dropped = dropped,
			   .http = p->client_ip == TB_CLIENT_IP_ANY ? REQUEST_HOSTNAME : REQUEST_BOTH};
	p->attempts++;
	check_probe_clear_results(g->run, probe);
	s->started = g->now;
	begin_request(g, s);
}

/* Deadlines and early resends; the next time something is due. */
static double timers(struct engine *g)
{
	double next = g->now + 100;
	int ms = g->o->timeout_ms;
	for (size_t k = 0; k < g->n_slots; k++) {
		struct slot *s = &g->slots[k];
		if (s->phase == PHASE_FREE || s->phase == PHASE_SOCKET || s->phase == PHASE_NEXT)
			continue;
		if (g->now >= s->deadline) {
			enum check_failure t = CHECK_FAILED_TIMEOUT;
			if (s->phase == PHASE_PINGING)
				fail_as(g, s, t, "no echo reply within %d ms", ms);
			else if (s->phase == PHASE_DATAGRAM)
				fail_as(g, s, t, "no answer within %d ms", ms);
			else if (s->phase == PHASE_READING)
				fail_as(g, s, t, "connected, but no complete answer within %d ms", ms);
			else if (s->phase == PHASE_RESOLVING)
				fail_as(g, s, t, "no answer from nameserver %s for %s within %d ms",
					lookup_server(s->lookup, (char[16]){0}), s->lookup->names[s->lookup->name], ms);
			else
				fail_as(g, s, t, "no answer to the connection request within %d ms", ms);
			continue;
		}
		if (s->phase == PHASE_RESOLVING && g->now >= s->lookup->try_deadline) {
			next_try(g, s);
			if (s->phase != PHASE_RESOLVING)
				continue;
		}
		if (s->resend_at && g->now >= s->resend_at) {
			s->resend_ms *= 2;
			if (s->phase == PHASE_RESOLVING) {
				resend_query(g, s);
			} else if (s->phase == PHASE_PINGING) {
				send_ping(g, s);
			} else if (s->phase == PHASE_DATAGRAM) {
				send_datagram(g, s);
			} else if (s->phase == PHASE_CONNECTING) {
				close_slot(s);
				want_socket(g, s);
				s->resend_at = 0;
				continue;
			}
		}
		if (s->phase == PHASE_FREE)
			continue;
		if (s->deadline < next)
			next = s->deadline;
		if (s->resend_at && s->resend_at < next)
			next = s->resend_at;
		if (s->phase == PHASE_RESOLVING && s->lookup->try_deadline < next)
			next = s->lookup->try_deadline;
	}
	return next;
}

/* The events epoll_wait gave, each to its socket's slot or pinger. */
static void dispatch(struct engine *g, const struct epoll_event *events, int n)
{
	for (int k = 0; k < n; k++) {
		uint64_t tag = events[k].data.u64;
		if (tag & PINGER_TAG)
			on_pinger_event(g, (uint32_t)(tag & ~PINGER_TAG));
		else
			on_socket_event(g, &g->slots[tag], events[k].events);
	}
}

/* One fd per probe in flight and one per source pinging: ask for them. */
static size_t fit_open_files(size_t slots, size_t machines)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return slots;
	rlim_t need = (rlim_t)(slots + machines + 64);
	if (rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur >= need)
		return slots;
	size_t room = rl.rlim_cur > machines + 64 ? (size_t)(rl.rlim_cur - machines - 64) : 1;
	return room < slots ? room : slots;
}

int probe_run(struct check_run *run, const int *netns, const struct probe_options *o, volatile const int *stop,
	      struct tb_err *e)
{
	size_t n = run->n_probes;
	/* Each pool as large as its probes need, within its limit; when open
	 * files run short, the dropped probes' pool gives way first. */
	size_t n_dropped = 0;
	for (size_t i = 0; i < n; i++)
		n_dropped += probe_dropped(run, &run->probes[i]);
	size_t per = o->max_in_flight > 0 ? (size_t)o->max_in_flight : 1;
	size_t limit, limit_dropped;
	probe_pools(n - n_dropped, n_dropped, per, SIZE_MAX, &limit, &limit_dropped);
	size_t fit = fit_open_files(limit + limit_dropped, run->n_machines);
	probe_pools(n - n_dropped, n_dropped, per, fit, &limit, &limit_dropped);
	size_t slots = limit + limit_dropped;
	struct engine g = {
		.run = run,
		.netns = netns,
		.o = o,
		.limit = limit,
		.limit_dropped = limit_dropped,
		.n_slots = slots,
		.slots = xcalloc(slots, sizeof(*g.slots)),
		.free_slots = xcalloc(slots, sizeof(*g.free_slots)),
		.want = xcalloc(slots, sizeof(*g.want)),
		/* A slot whose request is begun may queue its next before the round ends. */
		.next_request = xcalloc(2 * slots, sizeof(*g.next_request)),
		.pinger = xcalloc(run->n_machines ? run->n_machines : 1, sizeof(*g.pinger)),
	};
	int rc = 0;
	for (size_t k = 0; k < g.n_slots; k++) {
		g.slots[k].fd = -1;
		g.slots[k].response = xmalloc(RESPONSE_MAX + 1);
		g.free_slots[g.n_free++] = (uint32_t)(g.n_slots - 1 - k);
	}
	for (size_t m = 0; m < run->n_machines; m++)
		g.pinger[m] = -1;
	g.home_netns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	g.epoll = epoll_create1(EPOLL_CLOEXEC);
	if (g.home_netns < 0 || g.epoll < 0) {
		rc = tb_fail(e, "setting up the probes: %s", strerror(errno));
		goto out;
	}
	if (getrandom(&g.token, sizeof(g.token), 0) != sizeof(g.token))
		g.token = (uint32_t)getpid() ^ (uint32_t)now_ms();
	g.ident = (uint16_t)(g.token >> 16);
	g.dns_id = (uint16_t)g.token;
	g.udp_port = (uint16_t)(UDP_PORT_FIRST + (g.token >> 8) % (UDP_PORT_LAST - UDP_PORT_FIRST + 1));
	if (o->udp_port_next && *o->udp_port_next >= UDP_PORT_FIRST && *o->udp_port_next <= UDP_PORT_LAST)
		g.udp_port = *o->udp_port_next;
	for (size_t i = 0; i < n; i++) {
		run->probes[i].outcome = PROBE_NOT_RUN;
		run->probes[i].attempts = 0;
	}
	double began = clock_ms();
	struct epoll_event events[256];
	while (g.done < n) {
		if (stop && *stop) {
			rc = tb_fail(e, "interrupted");
			goto out;
		}
		g.now = clock_ms();
		uint32_t probe;
		bool dropped;
		while (next_to_start(&g, &probe, &dropped))
			start(&g, probe, dropped);
		/* Requests begun may end at once and queue their next: taken
		 * in turns, one round a turn. */
		size_t waiting = g.n_next_request;
		for (size_t k = 0; k < waiting; k++)
			begin_request(&g, &g.slots[g.next_request[k]]);
		memmove(g.next_request, g.next_request + waiting, (g.n_next_request - waiting) * sizeof(*g.next_request));
		g.n_next_request -= waiting;
		if (make_sockets(&g, e) < 0) {
			rc = -1;
			goto out;
		}
		/* What arrived while sockets were being made is taken before any
		 * deadline is judged: an answer waiting unread is no timeout. */
		for (int r; (r = epoll_wait(g.epoll, events, ARRAY_SIZE(events), 0)) > 0;) {
			g.now = clock_ms();
			dispatch(&g, events, r);
			if (r < (int)ARRAY_SIZE(events))
				break;
		}
		g.now = clock_ms();
		double due = timers(&g);
		if (g.n_want || g.n_next_request || may_start(&g))
			continue; /* timers freed slots or asked for sockets */
		double wait = due - clock_ms();
		int r = epoll_wait(g.epoll, events, ARRAY_SIZE(events), wait > 0 ? (int)wait + 1 : 0);
		if (r < 0 && errno != EINTR) {
			rc = tb_fail(e, "epoll_wait: %s", strerror(errno));
			goto out;
		}
		g.now = clock_ms();
		dispatch(&g, events, r);
	}
	run->duration_ms = clock_ms() - began;
	run->timeout_ms = o->timeout_ms;
out:
	for (size_t k = 0; k < g.n_slots; k++) {
		close_slot(&g.slots[k]);
		free(g.slots[k].response);
		if (g.slots[k].lookup)
			lookup_clear(g.slots[k].lookup);
		free(g.slots[k].lookup);
	}
	for (size_t m = 0; m < run->n_machines; m++)
		if (g.pinger[m] >= 0)
			close(g.pinger[m]);
	if (g.epoll >= 0)
		close(g.epoll);
	if (g.home_netns >= 0)
		close(g.home_netns);
	free(g.slots);
	free(g.free_slots);
	free(g.want);
	free(g.next_request);
	free(g.retry);
	free(g.pinger);
	if (o->udp_port_next)
		*o->udp_port_next = g.udp_port;
	return rc;
}
