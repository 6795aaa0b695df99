/* kube-proxy's nftables mode (pkg/proxy/nftables/proxier.go, as of the
 * releases with filter-output-post-dnat and cluster-ips), rewritten as a
 * pure function of the plan: what its syncProxyRules would hold in table
 * `ip kube-proxy` on one node after a full sync, as one `nft -f`
 * transaction, written in kube-proxy's own command form ("add chain ...",
 * "add rule ...", "add element ..."), so that `testbed plan` reads like
 * kube-proxy's transaction and `nft list ruleset` like its table.
 *
 * The packet's path, as kube-proxy builds it:
 *   - nat-prerouting and nat-output (dstnat) jump to `services`, which
 *     looks up daddr . l4proto . dport in `service-ips` (ClusterIPs,
 *     externalIPs, load-balancer IPs) and l4proto . dport in
 *     `service-nodeports` for the node's NodePort addresses;
 *   - a ClusterIP goes to the service port's `service-` chain (or `local-`
 *     under internalTrafficPolicy Local), which picks an endpoint chain at
 *     random (numgen) unless a ClientIP affinity set already pins the
 *     client; external destinations go to its `external-` chain, which
 *     masquerades (policy Cluster) or keeps the source and sends only to
 *     local endpoints (policy Local), after its short-circuits;
 *   - the `endpoint-` chain marks hairpin traffic, records affinity and
 *     DNATs; nat-postrouting's `masquerading` SNATs what was marked;
 *   - filter chains before DNAT drop sources outside
 *     loadBalancerSourceRanges (`firewall-ips`) and reject or drop what
 *     has no endpoints (`no-endpoint-services`, `no-endpoint-nodeports`);
 *     after DNAT, traffic still addressed to a ClusterIP (a port the
 *     service lacks) is rejected and to an unallocated one dropped. */
#define _GNU_SOURCE
#include "plan/kubeproxy.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/ipv4.h"
#include "util/util.h"

#define T KUBEPROXY_FAMILY " " KUBEPROXY_TABLE
#define MASQ_MARK KUBEPROXY_MASQUERADE_MARK
/* nftables names are at most 256 bytes; kube-proxy keeps 16 for its
 * prefixes ("endpoint-", "affinity-"...) and truncates bases past the rest
 * (chainNameBaseLengthMax), ending them with "..." behind the hash that
 * keeps them unique. */
#define NAME_MAX_NFT 256
#define PREFIX_MAX 16
#define BASE_MAX (NAME_MAX_NFT - PREFIX_MAX)
/* sessionAffinityConfig.clientIP.timeoutSeconds' default. */
#define AFFINITY_DEFAULT_TIMEOUT 10800

/* ------------------------------------------------------------- text */

/* The rule set's text, built without stdio's formatting, which is most of
 * the time a thousand services take (and far more under the sanitizers). */
struct text {
	char *p;
	size_t len, cap;
};

static void put_n(struct text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 4096;
		while (t->len + n + 1 > cap)
			cap *= 2;
		t->p = xrealloc(t->p, cap);
		t->cap = cap;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

/* Appends each string up to a NULL. */
static void put_strs(struct text *t, ...)
{
	va_list ap;
	va_start(ap, t);
	for (const char *s; (s = va_arg(ap, const char *));)
		put_n(t, s, strlen(s));
	va_end(ap);
}

#define PUT(t, ...) put_strs((t), __VA_ARGS__, (const char *)NULL)

/* Decimal and dotted-quad forms, into buffers of at least 16 bytes. */
static char *fmt_u(char *buf, unsigned v)
{
	char tmp[12];
	size_t n = 0;
	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	for (size_t i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
	return buf;
}

static char *fmt_ip(char *buf, uint32_t a)
{
	char *b = buf;
	for (int shift = 24; shift >= 0; shift -= 8) {
		fmt_u(b, (a >> shift) & 0xff);
		b += strlen(b);
		if (shift)
			*b++ = '.';
	}
	*b = '\0';
	return buf;
}

/* "a.b.c.d/len" of P's network. */
static char *fmt_cidr(char *buf, struct ipv4_prefix p)
{
	fmt_ip(buf, ipv4_network(p));
	size_t n = strlen(buf);
	buf[n++] = '/';
	fmt_u(buf + n, p.len);
	return buf;
}

/* ---------------------------------------------------------------- names */

static EVP_MD *sha256_fetch(void)
{
	EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!md)
		out_of_memory();
	return md;
}

/* kube-proxy's hashAndTruncate: the first 8 characters of the standard
 * base32 of NAME's SHA-256 (its first 40 bits), "-", NAME; cut to
 * BASE_MAX with "..." when longer. */
static char *hash_and_truncate(const EVP_MD *md, const char *name, size_t len)
{
	static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	if (EVP_Digest(name, len, d, &dlen, md, NULL) != 1 || dlen < 5)
		out_of_memory(); /* a digest over memory fails only for want of it */
	uint64_t bits = (uint64_t)d[0] << 32 | (uint64_t)d[1] << 24 | (uint64_t)d[2] << 16 | (uint64_t)d[3] << 8 | d[4];
	char *s = xmalloc(len + 10);
	for (int i = 0; i < 8; i++)
		s[i] = b32[(bits >> (35 - 5 * i)) & 31];
	s[8] = '-';
	memcpy(s + 9, name, len + 1);
	if (len + 9 > BASE_MAX)
		memcpy(s + BASE_MAX - 3, "...", 4);
	return s;
}

static const char *proto_name(enum tb_protocol p)
{
	return p == TB_PROTOCOL_UDP ? "udp" : p == TB_PROTOCOL_SCTP ? "sctp" : "tcp";
}

/* servicePortChainNameBase: "NS/NAME/PROTO/PORTNAME", "/" being the one
 * character chain names allow that Kubernetes names never hold. */
static char *service_base(const EVP_MD *md, const char *ns, const char *name, enum tb_protocol proto,
			  const char *port_name)
{
	struct text t = {0};
	PUT(&t, ns, "/", name, "/", proto_name(proto), "/", port_name ? port_name : "");
	char *s = hash_and_truncate(md, t.p, t.len);
	free(t.p);
	return s;
}

/* servicePortEndpointChainNameBase: the service port's, "__", IP/PORT. */
static char *endpoint_base(const EVP_MD *md, const char *ns, const char *name, enum tb_protocol proto,
			   const char *port_name, uint32_t ip, uint16_t port)
{
	char a[16], n[16];
	struct text t = {0};
	PUT(&t, ns, "/", name, "/", proto_name(proto), "/", port_name ? port_name : "", "__", fmt_ip(a, ip), "/",
	    fmt_u(n, port));
	char *s = hash_and_truncate(md, t.p, t.len);
	free(t.p);
	return s;
}

char *kubeproxy_service_base(const char *ns, const char *name, enum tb_protocol proto, const char *port_name)
{
	EVP_MD *md = sha256_fetch();
	char *s = service_base(md, ns, name, proto, port_name);
	EVP_MD_free(md);
	return s;
}

char *kubeproxy_endpoint_base(const char *ns, const char *name, enum tb_protocol proto, const char *port_name,
			      uint32_t ip, uint16_t port)
{
	EVP_MD *md = sha256_fetch();
	char *s = endpoint_base(md, ns, name, proto, port_name, ip, port);
	EVP_MD_free(md);
	return s;
}

/* Names go into the rule set unquoted (chains) and quoted (comments):
 * Kubernetes' DNS labels and port names ([a-z0-9-]) are safe in both, and
 * validation lets no other through; a service that somehow has another
 * character is left out rather than written into nft's syntax. */
static bool name_ok(const char *s, bool empty_ok)
{
	if (!s || (!*s && !empty_ok))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '.'))
			return false;
	return true;
}

/* ------------------------------------------------- keys already written */

/* The verdict maps' keys written so far, so that two services claiming one
 * address and port (an externalIP listed twice, or shared) give one
 * element, the first, instead of a transaction nft refuses. Keys pack
 * address, protocol and port into 50 bits; bit 62 marks a used slot. */
struct keyset {
	uint64_t *slots;
	size_t cap, n;
};

#define KEY_USED (1ull << 62)

static uint64_t key_of(uint32_t addr, int proto, uint16_t port)
{
	return KEY_USED | (uint64_t)addr << 18 | (uint64_t)proto << 16 | port;
}

static size_t key_slot(uint64_t key, size_t cap)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdull;
	key ^= key >> 33;
	return (size_t)key & (cap - 1);
}

/* True when KEY was not there yet (and now is). */
static bool keyset_add(struct keyset *s, uint64_t key)
{
	if (2 * (s->n + 1) > s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		uint64_t *slots = xcalloc(cap, sizeof(*slots));
		for (size_t i = 0; i < s->cap; i++)
			if (s->slots[i]) {
				size_t j = key_slot(s->slots[i], cap);
				while (slots[j])
					j = (j + 1) & (cap - 1);
				slots[j] = s->slots[i];
			}
		free(s->slots);
		s->slots = slots;
		s->cap = cap;
	}
	size_t j = key_slot(key, s->cap);
	while (s->slots[j]) {
		if (s->slots[j] == key)
			return false;
		j = (j + 1) & (s->cap - 1);
	}
	s->slots[j] = key;
	s->n++;
	return true;
}

/* -------------------------------------------------------------- the node */

struct kp {
	const struct plan *p;
	size_t node;
	struct text t;
	const EVP_MD *md;
	uint32_t node_ip; /* the node's primary address (its nodeIP) */
	bool masquerade_all;
	/* The local-traffic detector (clusterCIDR): "ip saddr CIDR". */
	bool detector;
	char cluster_cidr[IPV4_PREFIX_STRLEN];
	/* nodePortAddresses holds 0.0.0.0/0: every local address takes
	 * NodePorts, and there is no nodeport-ips set. */
	bool nodeports_everywhere;
	struct keyset cluster_ips, service_ips, nodeports, no_ep_services, no_ep_nodeports, firewall_ips;
};

static bool is_loopback(uint32_t a)
{
	return (a >> 24) == 127;
}

/* The node's addresses: its primary one, then those its steps give its
 * interfaces, once each, without loopback (which kube-proxy refuses for
 * NodePorts). */
static size_t node_addresses(const struct plan *p, size_t node, uint32_t **out)
{
	size_t n = 0, cap = 4;
	uint32_t *a = xcalloc(cap, sizeof(*a));
	uint32_t primary = p->machines[node].address;
	if (primary && !is_loopback(primary))
		a[n++] = primary;
	for (const struct step *s = plan_next(p, NULL, STEP_ADDRESS); s; s = plan_next(p, s, STEP_ADDRESS)) {
		uint32_t addr = s->u.address.prefix.addr;
		if (s->machine != node || !addr || is_loopback(addr))
			continue;
		bool seen = false;
		for (size_t i = 0; i < n && !seen; i++)
			seen = a[i] == addr;
		if (seen)
			continue;
		if (n == cap)
			a = xrealloc(a, (cap *= 2) * sizeof(*a));
		a[n++] = addr;
	}
	*out = a;
	return n;
}

/* setupNFTables: the table, its base chains at kube-proxy's priorities,
 * the top-level chains and the rules that jump to them, the masquerade
 * machinery, and the (still empty) sets and maps the services fill. */
static void write_base(struct kp *k)
{
	struct text *t = &k->t;
	const struct plan *p = k->p;
	PUT(t, "# kube-proxy, nftables mode: this node's table as its full sync writes it.\n"
	       "# Added and deleted first, so that applying this again replaces what is there.\n"
	       "add table " T "\n"
	       "delete table " T "\n"
	       "add table " T " { comment \"rules for kube-proxy\" ; }\n"
	       "\n"
	       /* Filtering runs on the destination before DNAT (dstnat - 10);
		* filter-output-post-dnat after it (dstnat + 10), to catch
		* ClusterIP traffic that no service port DNATed. */
	       "add chain " T " filter-prerouting { type filter hook prerouting priority -110 ; }\n"
	       "add chain " T " filter-input { type filter hook input priority -110 ; }\n"
	       "add chain " T " filter-forward { type filter hook forward priority -110 ; }\n"
	       "add chain " T " filter-output { type filter hook output priority -110 ; }\n"
	       "add chain " T " filter-output-post-dnat { type filter hook output priority -90 ; }\n"
	       "add chain " T " nat-prerouting { type nat hook prerouting priority -100 ; }\n"
	       "add chain " T " nat-output { type nat hook output priority -100 ; }\n"
	       "add chain " T " nat-postrouting { type nat hook postrouting priority 100 ; }\n"
	       "\n"
	       "add chain " T " nodeport-endpoints-check\n"
	       "add chain " T " service-endpoints-check\n"
	       "add chain " T " firewall-check\n"
	       "add chain " T " services\n"
	       "add chain " T " masquerading\n"
	       "add chain " T " cluster-ips-check\n"
	       "add chain " T " mark-for-masquerade\n"
	       "add chain " T " reject-chain { comment \"helper for @no-endpoint-services / @no-endpoint-nodeports\" ; }\n"
	       "\n"
	       /* reject is valid only in input, forward and output (kernels
		* before 5.9), so the no-endpoint checks hang there; the
		* source-range firewall must see the pre-DNAT destination. */
	       "add rule " T " filter-input ct state new jump nodeport-endpoints-check\n"
	       "add rule " T " filter-input ct state new jump service-endpoints-check\n"
	       "add rule " T " filter-forward ct state new jump service-endpoints-check\n"
	       "add rule " T " filter-output ct state new jump service-endpoints-check\n"
	       "add rule " T " filter-prerouting ct state new jump firewall-check\n"
	       "add rule " T " filter-output ct state new jump firewall-check\n"
	       "add rule " T " nat-output jump services\n"
	       "add rule " T " nat-prerouting jump services\n"
	       "add rule " T " nat-postrouting jump masquerading\n"
	       "add rule " T " filter-forward ct state new jump cluster-ips-check\n"
	       "add rule " T " filter-output-post-dnat ct state new jump cluster-ips-check\n"
	       "\n"
	       /* Marked packets are masqueraded in postrouting, once: the mark
		* is cleared so that a packet routed again is not SNATed twice. */
	       "add rule " T " mark-for-masquerade mark set mark or " MASQ_MARK "\n"
	       "add rule " T " masquerading mark and " MASQ_MARK " == 0 return\n"
	       "add rule " T " masquerading mark set mark xor " MASQ_MARK "\n"
	       "add rule " T " masquerading masquerade fully-random\n"
	       "\n"
	       "add set " T " cluster-ips { type ipv4_addr ; comment \"Active ClusterIPs\" ; }\n"
	       "add rule " T " cluster-ips-check ip daddr @cluster-ips reject comment \"Reject traffic to invalid ports of ClusterIPs\"\n");
	if (p->service_cidr.len) {
		char cidr[IPV4_PREFIX_STRLEN];
		PUT(t, "add rule " T " cluster-ips-check ip daddr { ", fmt_cidr(cidr, p->service_cidr),
		    " } drop comment \"Drop traffic to unallocated ClusterIPs\"\n");
	}

	/* nodePortAddresses: a set of the node's addresses it names (the
	 * nftables mode's default, "primary", is the node's own address), or,
	 * with 0.0.0.0/0, every local address but loopback through fib. */
	if (!k->nodeports_everywhere) {
		PUT(t, "\nadd set " T " nodeport-ips { type ipv4_addr ; comment \"IPs that accept NodePort traffic\" ; }\n");
		uint32_t *addrs = NULL;
		size_t n = 0;
		if (!p->kube_proxy.n_node_port_addresses) {
			if (k->node_ip && !is_loopback(k->node_ip)) {
				addrs = xcalloc(1, sizeof(*addrs));
				addrs[n++] = k->node_ip;
			}
		} else {
			size_t all = node_addresses(p, k->node, &addrs);
			for (size_t i = 0; i < all; i++) {
				bool match = false;
				for (size_t c = 0; c < p->kube_proxy.n_node_port_addresses && !match; c++)
					match = ipv4_contains(p->kube_proxy.node_port_addresses[c], addrs[i]);
				if (match)
					addrs[n++] = addrs[i];
			}
		}
		for (size_t i = 0; i < n; i++) {
			char a[16];
			PUT(t, "add element " T " nodeport-ips { ", fmt_ip(a, addrs[i]), " }\n");
		}
		free(addrs);
	}

	PUT(t, "\n"
	       "add map " T " no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict ; comment \"vmap to drop or reject packets to services with no endpoints\" ; }\n"
	       "add map " T " no-endpoint-nodeports { type inet_proto . inet_service : verdict ; comment \"vmap to drop or reject packets to service nodeports with no endpoints\" ; }\n"
	       "add rule " T " reject-chain reject\n"
	       "add rule " T " service-endpoints-check ip daddr . meta l4proto . th dport vmap @no-endpoint-services\n");
	if (k->nodeports_everywhere)
		PUT(t, "add rule " T " nodeport-endpoints-check ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @no-endpoint-nodeports\n");
	else
		PUT(t, "add rule " T " nodeport-endpoints-check ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports\n");
	PUT(t, "\n"
	       "add map " T " firewall-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment \"destinations that are subject to LoadBalancerSourceRanges\" ; }\n"
	       "add rule " T " firewall-check ip daddr . meta l4proto . th dport vmap @firewall-ips\n"
	       "\n"
	       "add map " T " service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment \"ClusterIP, ExternalIP and LoadBalancer IP traffic\" ; }\n"
	       "add map " T " service-nodeports { type inet_proto . inet_service : verdict ; comment \"NodePort traffic\" ; }\n"
	       "add rule " T " services ip daddr . meta l4proto . th dport vmap @service-ips\n");
	if (k->nodeports_everywhere)
		PUT(t, "add rule " T " services fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports\n");
	else
		PUT(t, "add rule " T " services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports\n");
}

/* ------------------------------------------------------- a service port */

/* An endpoint of one service port, as kube-proxy's endpoints map holds it. */
struct ep {
	uint32_t addr;
	uint16_t port;
	size_t order; /* in the service's list, for a stable sort */
	bool ready, serving, terminating, local;
	bool in_cluster, in_local; /* the Cluster and Local policy's endpoints */
	char key[24];              /* "IP:PORT": its String(), what it is sorted by */
	char ip[16];
	char *base; /* its chain-name base, when reachable from here */
};

static int ep_cmp(const void *a, const void *b)
{
	const struct ep *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	return c ? c : (x->order > y->order) - (x->order < y->order);
}

/* The endpoints that serve port PI of S, once per IP:PORT and sorted by
 * that string, as the endpoint-slice cache gives them (a duplicate on this
 * node wins over one elsewhere). */
static size_t port_endpoints(const struct kp *k, const struct plan_service *s, size_t pi, struct ep **out)
{
	const struct plan *p = k->p;
	struct ep *eps = xcalloc(s->n_endpoints + 1, sizeof(*eps));
	size_t n = 0;
	for (size_t i = 0; i < s->n_endpoints; i++) {
		const struct plan_endpoint *e = &s->endpoints[i];
		uint16_t port = e->ports ? e->ports[pi] : 0;
		uint32_t addr = e->address;
		if (!addr && e->machine != PLAN_NONE && e->machine < p->n_machines)
			addr = p->machines[e->machine].address;
		if (!port || !addr)
			continue;
		struct ep *x = &eps[n++];
		*x = (struct ep){.addr = addr,
				 .port = port,
				 .order = i,
				 .ready = e->ready,
				 .serving = e->serving,
				 .terminating = e->terminating,
				 .local = e->node != PLAN_NONE && e->node == k->node};
		fmt_ip(x->ip, addr);
		size_t len = strlen(x->ip);
		memcpy(x->key, x->ip, len);
		x->key[len] = ':';
		fmt_u(x->key + len + 1, port);
	}
	qsort(eps, n, sizeof(*eps), ep_cmp);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (m && strcmp(eps[m - 1].key, eps[i].key) == 0) {
			if (eps[i].local)
				eps[m - 1] = eps[i];
			continue;
		}
		eps[m++] = eps[i];
	}
	*out = eps;
	return m;
}

/* One element of an address-keyed verdict map, unless its key is taken. */
static void ip_element(struct kp *k, struct keyset *set, const char *map, uint32_t ip, enum tb_protocol proto,
		       uint16_t port, const char *comment, const char *verdict)
{
	if (!keyset_add(set, key_of(ip, (int)proto, port)))
		return;
	char a[16], n[16];
	PUT(&k->t, "add element " T " ", map, " { ", fmt_ip(a, ip), " . ", proto_name(proto), " . ", fmt_u(n, port));
	if (comment)
		PUT(&k->t, " comment \"", comment, "\"");
	PUT(&k->t, " : ", verdict, " }\n");
}

/* One element of a NodePort-keyed verdict map, unless its key is taken. */
static void port_element(struct kp *k, struct keyset *set, const char *map, enum tb_protocol proto, uint16_t port,
			 const char *comment, const char *verdict)
{
	if (!keyset_add(set, key_of(0, (int)proto, port)))
		return;
	char n[16];
	PUT(&k->t, "add element " T " ", map, " { ", proto_name(proto), " . ", fmt_u(n, port));
	if (comment)
		PUT(&k->t, " comment \"", comment, "\"");
	PUT(&k->t, " : ", verdict, " }\n");
}

/* writeServiceToEndpointRules: a client the affinity set of one of the
 * endpoints remembers goes back to it; anyone else gets one of the N
 * endpoints uniformly at random (numgen random mod N into a verdict map). */
static void write_balance(struct kp *k, const char *chain, const struct ep *eps, size_t n, bool local, bool affinity)
{
	struct text *t = &k->t;
	size_t count = 0;
	for (size_t i = 0; i < n; i++) {
		if (!(local ? eps[i].in_local : eps[i].in_cluster))
			continue;
		count++;
		if (affinity)
			PUT(t, "add rule " T " ", chain, " ip saddr @affinity-", eps[i].base, " goto endpoint-", eps[i].base,
			    "\n");
	}
	char num[16];
	PUT(t, "add rule " T " ", chain, " numgen random mod ", fmt_u(num, (unsigned)count), " vmap {");
	size_t j = 0;
	for (size_t i = 0; i < n; i++)
		if (local ? eps[i].in_local : eps[i].in_cluster) {
			PUT(t, j ? " , " : " ", fmt_u(num, (unsigned)j), " : goto endpoint-", eps[i].base);
			j++;
		}
	PUT(t, " }\n");
}

static void write_service_port(struct kp *k, const struct plan_service *s, size_t pi)
{
	struct text *t = &k->t;
	const struct plan_service_port *sp = &s->ports[pi];
	const enum tb_protocol protocol = sp->protocol;
	const char *proto = proto_name(protocol);
	char cip[16], port[16];
	fmt_ip(cip, s->cluster_ip);
	fmt_u(port, sp->port);

	struct ep *eps = NULL;
	size_t n = port_endpoints(k, s, pi, &eps);

	/* ServicePort's traffic policies. externalTrafficPolicy only means
	 * something for a NodePort or LoadBalancer service, or a ClusterIP one
	 * with externalIPs (the API's ExternalPolicyLocal); a port is
	 * "external" when a NodePort, an externalIP or a load-balancer IP
	 * reaches it (the proxy's ExternallyAccessible). */
	const bool external = sp->node_port || s->n_external_ips || s->n_load_balancer_ips;
	const bool external_local = s->external_local &&
				    (s->type == PLAN_SERVICE_NODE_PORT || s->type == PLAN_SERVICE_LOAD_BALANCER ||
				     s->n_external_ips);
	const bool internal_local = s->internal_local;
	/* Cluster endpoints serve internalTrafficPolicy Cluster and every
	 * external port, even under Local (its short-circuits need them). */
	const bool uses_cluster = !internal_local || external;
	const bool uses_local = internal_local || (external_local && external);

	/* CategorizeEndpoints: ready endpoints, or, when none is, the serving
	 * and terminating ones; for Local, those on this node, with the same
	 * fallback decided on this node's own. */
	bool has_endpoints = false;
	size_t n_cluster = 0, n_local = 0;
	if (uses_cluster) {
		for (size_t i = 0; i < n; i++)
			n_cluster += eps[i].in_cluster = eps[i].ready;
		if (!n_cluster)
			for (size_t i = 0; i < n; i++)
				n_cluster += eps[i].in_cluster = eps[i].serving && eps[i].terminating;
		has_endpoints = n_cluster > 0;
	}
	if (uses_local) {
		bool local_ready = false, local_terminating = false;
		for (size_t i = 0; i < n; i++) {
			if (eps[i].ready) {
				has_endpoints = true;
				local_ready |= eps[i].local;
			} else if (eps[i].serving && eps[i].terminating) {
				has_endpoints = true;
				local_terminating |= eps[i].local;
			}
		}
		for (size_t i = 0; i < n; i++)
			n_local += eps[i].in_local = eps[i].local && (local_ready ? eps[i].ready
							: local_terminating ? eps[i].serving && eps[i].terminating
									    : false);
	}

	char *base = service_base(k->md, s->namespace, s->name, protocol, sp->name);
	struct text names = {0};
	PUT(&names, "service-", base);
	char *cluster_chain = names.p;
	names = (struct text){0};
	PUT(&names, "local-", base);
	char *local_chain = names.p;
	names = (struct text){0};
	PUT(&names, "goto external-", base);
	char *goto_external = names.p, *external_chain = goto_external + strlen("goto ");
	names = (struct text){0};
	PUT(&names, "goto firewall-", base);
	char *goto_firewall = names.p, *firewall_chain = goto_firewall + strlen("goto ");
	/* ServicePortName.String(): "NS/NAME", ":PORTNAME" when named. */
	names = (struct text){0};
	PUT(&names, s->namespace, "/", s->name, sp->name && *sp->name ? ":" : "", sp->name ? sp->name : "");
	char *spn = names.p;
	for (size_t i = 0; i < n; i++)
		if (eps[i].in_cluster || eps[i].in_local)
			eps[i].base = endpoint_base(k->md, s->namespace, s->name, protocol, sp->name, eps[i].addr,
						    eps[i].port);

	const bool uses_cluster_chain = n_cluster && uses_cluster;
	const bool uses_local_chain = n_local && uses_local;
	/* ClusterIP traffic goes to the policy chain internalTrafficPolicy
	 * names; with Local and nothing here, it has no endpoints at all. */
	const char *internal_chain = internal_local ? local_chain : cluster_chain;
	const bool has_internal = has_endpoints && !(internal_local && !n_local);
	const char *external_policy_chain = external_local ? local_chain : cluster_chain;
	const bool has_external = has_endpoints && !(external_local && !n_local);
	/* Made whenever there are endpoints anywhere: the short-circuits for
	 * traffic from inside the cluster work without local ones. */
	const bool uses_external_chain = has_endpoints && external;
	const bool uses_firewall = s->n_load_balancer_ips && s->n_source_ranges;

	/* No endpoints anywhere: reject (the client learns at once, as from a
	 * closed port). Endpoints, but none for this kind of traffic here
	 * (internal or external policy Local): drop, as kube-proxy does. */
	const char *no_endpoint_verdict = !has_endpoints ? "goto reject-chain" : "drop";

	char num[16];
	PUT(t, "\n# ", spn, ": ", proto, " ", cip, ":", port);
	if (sp->node_port)
		PUT(t, ", NodePort ", fmt_u(num, sp->node_port));
	PUT(t, "; ", fmt_u(num, (unsigned)n), n == 1 ? " endpoint\n" : " endpoints\n");

	const bool affinity = s->affinity;
	char timeout[16];
	fmt_u(timeout, s->affinity_timeout > 0 ? (unsigned)s->affinity_timeout : AFFINITY_DEFAULT_TIMEOUT);
	for (size_t i = 0; affinity && i < n; i++)
		if (eps[i].base)
			/* A client's last endpoint, per service port, whatever
			 * address it used to reach the service. */
			PUT(t, "add set " T " affinity-", eps[i].base, " { type ipv4_addr ; flags dynamic,timeout ; timeout ",
			    timeout, "s ; }\n");
	for (size_t i = 0; i < n; i++)
		if (eps[i].base)
			PUT(t, "add chain " T " endpoint-", eps[i].base, "\n");
	if (uses_cluster_chain)
		PUT(t, "add chain " T " ", cluster_chain, "\n");
	if (uses_local_chain)
		PUT(t, "add chain " T " ", local_chain, "\n");
	if (uses_external_chain)
		PUT(t, "add chain " T " ", external_chain, "\n");
	if (uses_firewall)
		PUT(t, "add chain " T " ", firewall_chain, "\n");

	/* Every ClusterIP is "active", with endpoints or not: traffic to a port
	 * it lacks is rejected after DNAT had its chance (cluster-ips-check). */
	if (keyset_add(&k->cluster_ips, key_of(s->cluster_ip, 3, 0)))
		PUT(t, "add element " T " cluster-ips { ", cip, " }\n");
	if (has_internal) {
		names = (struct text){0};
		PUT(&names, "goto ", internal_chain);
		ip_element(k, &k->service_ips, "service-ips", s->cluster_ip, protocol, sp->port, NULL, names.p);
		free(names.p);
	} else {
		ip_element(k, &k->no_ep_services, "no-endpoint-services", s->cluster_ip, protocol, sp->port, spn,
			   no_endpoint_verdict);
	}
	for (size_t i = 0; i < s->n_external_ips; i++) {
		if (has_endpoints)
			ip_element(k, &k->service_ips, "service-ips", s->external_ips[i], protocol, sp->port, NULL,
				   goto_external);
		if (!has_external)
			ip_element(k, &k->no_ep_services, "no-endpoint-services", s->external_ips[i], protocol,
				   sp->port, spn, no_endpoint_verdict);
	}
	for (size_t i = 0; i < s->n_load_balancer_ips; i++) {
		if (has_endpoints)
			ip_element(k, &k->service_ips, "service-ips", s->load_balancer_ips[i], protocol, sp->port, NULL,
				   goto_external);
		if (uses_firewall)
			ip_element(k, &k->firewall_ips, "firewall-ips", s->load_balancer_ips[i], protocol, sp->port,
				   NULL, goto_firewall);
	}
	for (size_t i = 0; !has_external && i < s->n_load_balancer_ips; i++)
		ip_element(k, &k->no_ep_services, "no-endpoint-services", s->load_balancer_ips[i], protocol, sp->port,
			   spn, no_endpoint_verdict);
	if (sp->node_port) {
		/* NodePorts are not subject to loadBalancerSourceRanges, in
		 * kube-proxy as in this table. */
		if (has_endpoints)
			port_element(k, &k->nodeports, "service-nodeports", protocol, sp->node_port, NULL, goto_external);
		if (!has_external)
			port_element(k, &k->no_ep_nodeports, "no-endpoint-nodeports", protocol, sp->node_port, spn,
				     no_endpoint_verdict);
	}

	if (has_internal) {
		if (k->masquerade_all)
			PUT(t, "add rule " T " ", internal_chain, " ip daddr ", cip, " ", proto, " dport ", port,
			    " jump mark-for-masquerade\n");
		else if (k->detector)
			/* ClusterIP traffic from outside the cluster CIDR (a node,
			 * a host routing the service range through this node) is
			 * masqueraded: its replies must come back through here. */
			PUT(t, "add rule " T " ", internal_chain, " ip daddr ", cip, " ", proto, " dport ", port,
			    " ip saddr != ", k->cluster_cidr, " jump mark-for-masquerade\n");
	}

	if (uses_external_chain) {
		if (!external_local) {
			/* Policy Cluster: the endpoint may be on another node, whose
			 * reply must come back here to be un-DNATed. */
			PUT(t, "add rule " T " ", external_chain, " jump mark-for-masquerade\n");
		} else {
			/* Policy Local keeps the client's address; but a pod of this
			 * cluster reaching an external IP, a load-balancer IP or a
			 * NodePort is treated as if it had gone out to the load
			 * balancer and come back: any endpoint, not masqueraded. */
			if (k->detector)
				PUT(t, "add rule " T " ", external_chain, " ip saddr ", k->cluster_cidr, " goto ", cluster_chain,
				    " comment \"short-circuit pod traffic\"\n");
			/* The node itself: its source would be the very address it
			 * reaches, so it is masqueraded, and it may use any endpoint. */
			PUT(t, "add rule " T " ", external_chain,
			    " fib saddr type local jump mark-for-masquerade comment \"masquerade local traffic\"\n"
			    "add rule " T " ",
			    external_chain, " fib saddr type local goto ", cluster_chain,
			    " comment \"short-circuit local traffic\"\n");
		}
		/* Without a local endpoint under Local, nothing follows: the
		 * packet leaves un-DNATed and no-endpoint-* drops it. */
		if (has_external)
			PUT(t, "add rule " T " ", external_chain, " goto ", external_policy_chain, "\n");
	}

	if (uses_firewall) {
		/* loadBalancerSourceRanges; when they hold the node's own
		 * address, the load-balancer IPs too, which a node's connection
		 * to a VIP it holds may carry as its source. */
		bool allow_node = false;
		PUT(t, "add rule " T " ", firewall_chain, " ip saddr != {");
		for (size_t i = 0; i < s->n_source_ranges; i++) {
			char c[IPV4_PREFIX_STRLEN];
			PUT(t, i ? " , " : " ", fmt_cidr(c, s->source_ranges[i]));
			allow_node |= k->node_ip && ipv4_contains(s->source_ranges[i], k->node_ip);
		}
		for (size_t i = 0; allow_node && i < s->n_load_balancer_ips; i++) {
			char a[16];
			PUT(t, " , ", fmt_ip(a, s->load_balancer_ips[i]));
		}
		PUT(t, " } drop\n");
	}

	if (uses_cluster_chain)
		write_balance(k, cluster_chain, eps, n, false, affinity);
	if (uses_local_chain)
		write_balance(k, local_chain, eps, n, true, affinity);

	for (size_t i = 0; i < n; i++) {
		if (!eps[i].base)
			continue;
		/* Hairpin: a pod reaching itself through its service is
		 * masqueraded, or its reply would skip the un-DNAT. */
		PUT(t, "add rule " T " endpoint-", eps[i].base, " ip saddr ", eps[i].ip, " jump mark-for-masquerade\n");
		if (affinity)
			PUT(t, "add rule " T " endpoint-", eps[i].base, " update @affinity-", eps[i].base, " { ip saddr }\n");
		PUT(t, "add rule " T " endpoint-", eps[i].base, " meta l4proto ", proto, " dnat to ", eps[i].key, "\n");
	}

	for (size_t i = 0; i < n; i++)
		free(eps[i].base);
	free(eps);
	free(base);
	free(cluster_chain);
	free(local_chain);
	free(goto_external);
	free(goto_firewall);
	free(spn);
}

/* ------------------------------------------------------------------ API */

char *kubeproxy_ruleset(const struct plan *p, size_t node)
{
	if (!p->n_services || node >= p->n_machines || p->machines[node].kind != MACHINE_NODE)
		return NULL;
	const struct plan_kube_proxy *kp = &p->kube_proxy;
	EVP_MD *md = sha256_fetch();
	struct kp k = {
		.p = p,
		.node = node,
		.md = md,
		.node_ip = p->machines[node].address,
		.masquerade_all = kp->masquerade_all,
		.detector = kp->has_cluster_cidr,
	};
	if (k.detector)
		fmt_cidr(k.cluster_cidr, kp->cluster_cidr);
	/* Room for what a service port and an endpoint usually take, so that
	 * the text is seldom copied as it grows. */
	size_t guess = 8192;
	for (size_t i = 0; i < p->n_services; i++)
		guess += p->services[i].n_ports * (1024 + 512 * p->services[i].n_endpoints);
	k.t.p = xmalloc(guess);
	k.t.cap = guess;
	k.t.p[0] = '\0';
	for (size_t i = 0; i < kp->n_node_port_addresses; i++)
		k.nodeports_everywhere |= kp->node_port_addresses[i].len == 0;
	write_base(&k);
	for (size_t i = 0; i < p->n_services; i++) {
		const struct plan_service *s = &p->services[i];
		/* Headless services (clusterIP None) are no business of
		 * kube-proxy's: DNS gives their endpoints directly. */
		if (!s->cluster_ip || !name_ok(s->namespace, false) || !name_ok(s->name, false))
			continue;
		for (size_t j = 0; j < s->n_ports; j++)
			if (name_ok(s->ports[j].name, true) && s->ports[j].port)
				write_service_port(&k, s, j);
	}
	struct keyset *sets[] = {&k.cluster_ips,    &k.service_ips,     &k.nodeports,
				 &k.no_ep_services, &k.no_ep_nodeports, &k.firewall_ips};
	for (size_t i = 0; i < ARRAY_SIZE(sets); i++)
		free(sets[i]->slots);
	EVP_MD_free(md);
	return k.t.p;
}

void kubeproxy_add_steps(struct plan *p)
{
	for (size_t i = 0; i < p->n_machines; i++) {
		if (p->machines[i].kind != MACHINE_NODE)
			continue;
		char *ruleset = kubeproxy_ruleset(p, i);
		if (!ruleset)
			return;
		struct step *s = plan_add_step(p, STEP_NFT, i,
					       "Services: kube-proxy's nftables mode on this node (table ip kube-proxy)");
		s->u.nft.table = xstrdup(T);
		s->u.nft.ruleset = ruleset;
	}
}
