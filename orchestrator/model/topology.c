/* Parsing a topology document into the model, the first of compile.c's
 * passes: the topology's own schema, which keys each object has and what
 * their values mean. The checks every schema shares (paths, unknown and
 * repeated keys, types, names, labels) are docwalk.c's; what spans several
 * entities (unique names, references, overlaps) is validate.c's pass, and
 * addresses are ipam.c's. */
#define _GNU_SOURCE
#include "model/topology.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "model/docwalk.h"
#include "model/jsondoc.h"
#include "model/ports.h"
#include "util/diag.h"
#include "util/util.h"

struct parser {
	struct docwalk w;
	struct tb_topology *t;
};

static const char *const top_keys[] = {"$schema", "description", "name",     "images",  "hosts", "bridges",
				       "links",   "cluster",     "neighbours", "nodes",    "services", "ingress", "policies",
				       "objects", "manifests",   "external",   "expect",     NULL};
static const char *const host_keys[] = {"name", "image", "http", "disk", "interfaces", NULL};
static const char *const bridge_keys[] = {"name", "address", NULL};
static const char *const cluster_keys[] = {"podCIDR", "serviceCIDR", "underlay", "routing", "nodePortRange",
					   "kubeProxy", "dns", "clusterDomain", "ingress", NULL};
static const char *const kube_proxy_keys[] = {"masqueradeAll", "nodePortAddresses", "clusterCIDR", NULL};
static const char *const ingress_keys[] = {"service", "nodePort", "loadBalancerIP", NULL};
static const char *const external_keys[] = {"name", "address", NULL};
static const char *const node_keys[] = {"name", "image", "labels", "disk", "podCIDR", "pods", NULL};
static const char *const pod_keys[] = {"name", "namespace", "image", "labels", "http", "ports", "disk", "command", NULL};

/* Machine names are DNS labels, as Kubernetes names pods and nodes. */
bool topology_is_dns_label(const char *s)
{
	return docwalk_is_dns_label(s);
}

bool topology_is_dns_subdomain(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 253)
		return false;
	for (const char *label = s;;) {
		size_t len = strcspn(label, ".");
		char part[64];
		if (len == 0 || len > 63)
			return false;
		memcpy(part, label, len);
		part[len] = '\0';
		if (!docwalk_is_dns_label(part))
			return false;
		if (!label[len])
			return true;
		label += len + 1;
	}
}

bool topology_is_dns_name(const char *s)
{
	size_t len = strlen(s);
	if (len && s[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return false;
	size_t label = 0;
	for (size_t k = 0; k < len; k++) {
		char c = s[k];
		if (c == '.') {
			if (!label)
				return false;
			label = 0;
			continue;
		}
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
		if (!ok || ++label > 63)
			return false;
	}
	return label > 0;
}

bool topology_is_lab_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > TB_LAB_NAME_MAX || !islower((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
			return false;
	return true;
}

static char *parse_name(struct parser *p, const cJSON *obj, const char *path)
{
	const char *name = docwalk_name(&p->w, obj, path);
	return name ? xstrdup(name) : NULL;
}

/* "image": a name from the images object; DEFAULT when absent. */
static char *parse_image_ref(struct parser *p, const cJSON *obj, const char *path, const char *fallback)
{
	const cJSON *item = docwalk_member(&p->w, obj, path, "image", false);
	if (!item)
		return xstrdup(fallback);
	autofree char *where = docwalk_path_key(path, "image");
	const char *image = docwalk_string(&p->w, item, where, "a string naming an entry of \"images\"");
	return image ? xstrdup(image) : NULL;
}

/* "http": a port, or false for no server. */
/* "http": the short form of one port, "http" over TCP (none for false). */
static void parse_http(struct parser *p, const cJSON *obj, const char *path, int fallback, struct tb_port **ports,
		       size_t *n_ports)
{
	const cJSON *item = docwalk_member(&p->w, obj, path, "http", false);
	int port = fallback;
	if (item) {
		autofree char *where = docwalk_path_key(path, "http");
		port = 0;
		if (!cJSON_IsFalse(item))
			docwalk_int(&p->w, item, where, 1, 65535, "a port number or false", "a port", &port);
	}
	*ports = NULL;
	*n_ports = 0;
	if (port > 0) {
		*ports = xcalloc(1, sizeof(**ports));
		(*ports)[(*n_ports)++] = (struct tb_port){xstrdup(TB_HTTP_PORT_NAME), port, TB_PROTOCOL_TCP};
	}
}

static void free_ports(struct tb_port *ports, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ports[i].name);
	free(ports);
}

/* "disk": the size of the machine's writable layer, as Kubernetes writes
 * quantities: a whole number with Ki, Mi or Gi (or k, M, G). */
static unsigned long long parse_disk(struct parser *p, const cJSON *obj, const char *path)
{
	const cJSON *item = docwalk_member(&p->w, obj, path, "disk", false);
	if (!item)
		return TB_DEFAULT_DISK;
	autofree char *where = docwalk_path_key(path, "disk");
	static const struct {
		const char *suffix;
		unsigned long long unit;
	} units[] = {{"Ki", 1ULL << 10}, {"Mi", 1ULL << 20}, {"Gi", 1ULL << 30},
		     {"k", 1000ULL},      {"M", 1000000ULL},  {"G", 1000000000ULL}};
	const char *s = cJSON_IsString(item) ? item->valuestring : "";
	char *end = NULL;
	unsigned long long n = (*s >= '0' && *s <= '9') ? strtoull(s, &end, 10) : 0;
	unsigned long long bytes = 0;
	for (size_t i = 0; end && i < ARRAY_SIZE(units); i++)
		if (strcmp(end, units[i].suffix) == 0 && n <= TB_MAX_DISK / units[i].unit)
			bytes = n * units[i].unit;
	if (!cJSON_IsString(item) || !bytes) {
		docwalk_error(&p->w, item, where,
			      "%s%s%s is not a size: expected a whole number with Ki, Mi or Gi, like \"256Mi\"",
			      cJSON_IsString(item) ? "\"" : "", cJSON_IsString(item) ? s : json_type_name(item),
			      cJSON_IsString(item) ? "\"" : "");
		return TB_DEFAULT_DISK;
	}
	if (bytes < TB_MIN_DISK || bytes > TB_MAX_DISK) {
		docwalk_error(&p->w, item, where, "\"%s\" is out of range: from 4Mi to 64Gi", s);
		return TB_DEFAULT_DISK;
	}
	return bytes;
}

/* A CIDR value. NETWORK: it names a network, so host bits must be clear;
 * otherwise it is an interface address, which must be usable. */
static bool parse_cidr(struct parser *p, const cJSON *item, const char *path, bool network,
		       struct ipv4_prefix *out)
{
	if (!docwalk_string(&p->w, item, path, "a string with a CIDR like 10.0.1.0/24"))
		return false;
	const char *why;
	if (!ipv4_prefix_parse(item->valuestring, out, &why)) {
		docwalk_error(&p->w, item, path, "\"%s\": %s", item->valuestring, why);
		return false;
	}
	char buf[IPV4_PREFIX_STRLEN];
	if (network && !ipv4_is_network(*out)) {
		docwalk_error(&p->w, item, path, "\"%s\" has host bits set (did you mean %s?)", item->valuestring,
			      ipv4_network_format(*out, buf));
		return false;
	}
	if (!network && out->len == 0) {
		docwalk_error(&p->w, item, path, "\"%s\": an interface address needs a prefix length from 1 to 32",
			      item->valuestring);
		return false;
	}
	if (!network && !ipv4_is_usable_host(*out)) {
		bool is_net = out->addr == ipv4_network(*out);
		docwalk_error(&p->w, item, path, "\"%s\" is the %s address of %s, not usable by an interface",
			      item->valuestring, is_net ? "network" : "broadcast", ipv4_network_format(*out, buf));
		return false;
	}
	return true;
}

static void parse_images(struct parser *p, const cJSON *obj)
{
	if (!docwalk_object(&p->w, obj, "images", "an object mapping image names to tarball paths"))
		return;
	struct tb_topology *t = p->t;
	size_t n = (size_t)cJSON_GetArraySize(obj);
	t->images = xcalloc(n, sizeof(*t->images));
	for (const cJSON *c = obj->child; c; c = c->next) {
		autofree char *where = docwalk_path_key("images", c->string);
		if (!topology_is_dns_label(c->string)) {
			docwalk_error(&p->w, c, where,
				      "\"%s\" is not a valid image name: 1-63 characters of a-z, 0-9 and '-'",
				      c->string);
			continue;
		}
		if (!docwalk_string(&p->w, c, where, "a string with the path of a rootfs tarball"))
			continue;
		if (!*c->valuestring) {
			docwalk_error(&p->w, c, where, "the path is empty");
			continue;
		}
		struct tb_image *img = &t->images[t->n_images++];
		img->name = xstrdup(c->string);
		img->path = xstrdup(c->valuestring);
		img->line = docwalk_line(&p->w, c);
		img->resolved = c->valuestring[0] == '/' ? xstrdup(c->valuestring)
							  : xasprintf("%s/%s", t->dir, c->valuestring);
	}
}

static void parse_interfaces(struct parser *p, struct tb_host *h, const cJSON *obj, const char *path)
{
	if (!docwalk_object(&p->w, obj, path, "an object mapping interface names to addresses"))
		return;
	h->ifaces = xcalloc((size_t)cJSON_GetArraySize(obj), sizeof(*h->ifaces));
	for (const cJSON *c = obj->child; c; c = c->next) {
		autofree char *where = docwalk_path_key(path, c->string);
		const char *problem = ifname_problem(c->string);
		if (problem) {
			docwalk_error(&p->w, c, where, "interface name \"%s\" %s", c->string, problem);
			continue;
		}
		if (strcmp(c->string, "lo") == 0) {
			docwalk_error(&p->w, c, where,
				      "\"lo\" is the loopback interface, which every host has already");
			continue;
		}
		struct tb_iface iface = {.line = docwalk_line(&p->w, c)};
		if (!parse_cidr(p, c, where, false, &iface.address))
			continue;
		iface.name = xstrdup(c->string);
		h->ifaces[h->n_ifaces++] = iface;
	}
}

static void parse_hosts(struct parser *p, const cJSON *arr)
{
	if (!docwalk_array(&p->w, arr, "hosts", "an array of hosts"))
		return;
	struct tb_topology *t = p->t;
	t->hosts = xcalloc((size_t)cJSON_GetArraySize(arr), sizeof(*t->hosts));
	size_t i = 0;
	for (const cJSON *obj = arr->child; obj; obj = obj->next, i++) {
		autofree char *path = docwalk_path_index("hosts", i);
		if (!docwalk_object(&p->w, obj, path, "an object"))
			continue;
		docwalk_check_keys(&p->w, obj, path, host_keys);
		struct tb_host *h = &t->hosts[t->n_hosts++];
		h->line = docwalk_line(&p->w, obj);
		h->name_line = docwalk_key_line(&p->w, obj, "name");
		h->image_line = docwalk_key_line(&p->w, obj, "image");
		h->name = parse_name(p, obj, path);
		h->image = parse_image_ref(p, obj, path, "pod");
		parse_http(p, obj, path, TB_DEFAULT_HTTP_PORT, &h->ports, &h->n_ports);
		h->disk = parse_disk(p, obj, path);
		const cJSON *ifs = docwalk_member(&p->w, obj, path, "interfaces", false);
		if (ifs) {
			autofree char *where = docwalk_path_key(path, "interfaces");
			parse_interfaces(p, h, ifs, where);
		}
	}
}

static void parse_bridges(struct parser *p, const cJSON *arr)
{
	if (!docwalk_array(&p->w, arr, "bridges", "an array of bridges"))
		return;
	struct tb_topology *t = p->t;
	t->bridges = xcalloc((size_t)cJSON_GetArraySize(arr), sizeof(*t->bridges));
	size_t i = 0;
	for (const cJSON *obj = arr->child; obj; obj = obj->next, i++) {
		autofree char *path = docwalk_path_index("bridges", i);
		if (!docwalk_object(&p->w, obj, path, "an object"))
			continue;
		docwalk_check_keys(&p->w, obj, path, bridge_keys);
		struct tb_bridge *b = &t->bridges[t->n_bridges++];
		b->line = docwalk_line(&p->w, obj);
		b->name_line = docwalk_key_line(&p->w, obj, "name");
		b->address_line = docwalk_key_line(&p->w, obj, "address");
		const cJSON *name = docwalk_member(&p->w, obj, path, "name", true);
		autofree char *name_path = docwalk_path_key(path, "name");
		if (name && docwalk_string(&p->w, name, name_path, "a string")) {
			const char *problem = ifname_problem(name->valuestring);
			if (problem)
				docwalk_error(&p->w, name, name_path, "bridge name \"%s\" %s", name->valuestring,
					      problem);
			else if (str_has_prefix(name->valuestring, TB_RESERVED_IFNAME_PREFIX) ||
				 strcmp(name->valuestring, "lo") == 0)
				docwalk_error(&p->w, name, name_path,
					      "\"%s\" is reserved: testbed names its own interfaces \"lo\" and "
					      "\"" TB_RESERVED_IFNAME_PREFIX "*\"",
					      name->valuestring);
			else
				b->name = xstrdup(name->valuestring);
		}
		const cJSON *addr = docwalk_member(&p->w, obj, path, "address", false);
		if (addr) {
			autofree char *where = docwalk_path_key(path, "address");
			b->has_address = parse_cidr(p, addr, where, false, &b->address);
		}
	}
}

static void parse_links(struct parser *p, const cJSON *arr)
{
	if (!docwalk_array(&p->w, arr, "links", "an array of links"))
		return;
	struct tb_topology *t = p->t;
	t->links = xcalloc((size_t)cJSON_GetArraySize(arr), sizeof(*t->links));
	size_t i = 0;
	for (const cJSON *l = arr->child; l; l = l->next, i++) {
		autofree char *path = docwalk_path_index("links", i);
		if (!cJSON_IsArray(l) || cJSON_GetArraySize(l) != 2) {
			docwalk_error(&p->w, l, path,
				      "expected a pair of endpoints like [\"net0:eth0\", \"net1:eth0\"] or "
				      "[\"net0:eth0\", \"br0\"]");
			continue;
		}
		struct tb_link link = {.line = docwalk_line(&p->w, l)};
		bool ok = true;
		size_t j = 0;
		for (const cJSON *e = l->child; e; e = e->next, j++) {
			autofree char *where = docwalk_path_index(path, j);
			if (!docwalk_string(&p->w, e, where, "a string: \"host:interface\" or \"bridge\"")) {
				ok = false;
				continue;
			}
			/* Resolved to an index by validation, which names it by its text. */
			struct tb_endpoint *end = &link.ends[j];
			end->text = xstrdup(e->valuestring);
			end->line = docwalk_line(&p->w, e);
			const char *colon = strchr(end->text, ':');
			end->kind = colon ? TB_ENDPOINT_HOST : TB_ENDPOINT_BRIDGE;
			end->ifname = colon ? colon + 1 : NULL;
			if (colon && (colon == end->text || !colon[1])) {
				docwalk_error(&p->w, e, where,
					      "\"%s\": expected \"host:interface\", like \"net0:eth0\"",
					      e->valuestring);
				ok = false;
			} else if (colon && ifname_problem(colon + 1)) {
				docwalk_error(&p->w, e, where, "\"%s\": interface name \"%s\" %s", e->valuestring,
					      colon + 1, ifname_problem(colon + 1));
				ok = false;
			}
		}
		if (ok) {
			t->links[t->n_links++] = link;
		} else {
			free(link.ends[0].text);
			free(link.ends[1].text);
		}
	}
}

/* cluster.ingress: how the ingress controller's Service is exposed (its
 * type, its nodePort, a LoadBalancer's address, which the gateway routes
 * to the nodes as it does a LoadBalancer Service's). */
static void parse_ingress_settings(struct parser *p, const cJSON *obj, struct tb_ingress_settings *in)
{
	if (!docwalk_object(&p->w, obj, "cluster.ingress", "an object (service, nodePort, loadBalancerIP)"))
		return;
	in->line = docwalk_line(&p->w, obj);
	docwalk_check_keys(&p->w, obj, "cluster.ingress", ingress_keys);
	const cJSON *type = docwalk_member(&p->w, obj, "cluster.ingress", "service", false);
	if (type) {
		static const char *const types[] = {"NodePort", "LoadBalancer", NULL};
		int which = docwalk_choice(&p->w, type, "cluster.ingress.service", types);
		if (which >= 0)
			in->type = which == 0 ? TB_SERVICE_NODE_PORT : TB_SERVICE_LOAD_BALANCER;
	}
	const cJSON *port = docwalk_member(&p->w, obj, "cluster.ingress", "nodePort", false);
	if (port)
		docwalk_int(&p->w, port, "cluster.ingress.nodePort", 1, 65535, "a port number", "a port", &in->node_port);
	const cJSON *ip = docwalk_member(&p->w, obj, "cluster.ingress", "loadBalancerIP", false);
	if (ip) {
		const char *text = docwalk_string(&p->w, ip, "cluster.ingress.loadBalancerIP", "an IPv4 address");
		if (text && !ipv4_addr_parse(text, &in->load_balancer_ip))
			docwalk_error(&p->w, ip, "cluster.ingress.loadBalancerIP", "\"%s\" is not an IPv4 address", text);
		if (in->type != TB_SERVICE_LOAD_BALANCER)
			docwalk_error(&p->w, ip, "cluster.ingress.loadBalancerIP",
				      "only with \"service\": \"LoadBalancer\" (the controller's Service is a NodePort)");
	} else if (in->type == TB_SERVICE_LOAD_BALANCER) {
		docwalk_error(&p->w, obj, "cluster.ingress.loadBalancerIP",
			      "a LoadBalancer controller needs its address: the gateway routes it to the nodes");
	}
}

static void parse_cluster(struct parser *p, const cJSON *obj)
{
	struct tb_cluster *c = &p->t->cluster;
	if (!docwalk_object(&p->w, obj, "cluster", "an object"))
		return;
	c->line = docwalk_line(&p->w, obj);
	c->pod_cidr_line = docwalk_key_line(&p->w, obj, "podCIDR");
	c->service_cidr_line = docwalk_key_line(&p->w, obj, "serviceCIDR");
	c->underlay_line = docwalk_key_line(&p->w, obj, "underlay");
	docwalk_check_keys(&p->w, obj, "cluster", cluster_keys);
	static const struct {
		const char *key;
		size_t offset;
	} cidrs[] = {
		{"podCIDR", offsetof(struct tb_cluster, pod_cidr)},
		{"serviceCIDR", offsetof(struct tb_cluster, service_cidr)},
		{"underlay", offsetof(struct tb_cluster, underlay)},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cidrs); i++) {
		const cJSON *item = docwalk_member(&p->w, obj, "cluster", cidrs[i].key, false);
		if (!item)
			continue;
		autofree char *where = docwalk_path_key("cluster", cidrs[i].key);
		struct ipv4_prefix *dst = (struct ipv4_prefix *)((char *)c + cidrs[i].offset);
		struct ipv4_prefix v;
		if (parse_cidr(p, item, where, true, &v))
			*dst = v;
	}
	const cJSON *range = docwalk_member(&p->w, obj, "cluster", "nodePortRange", false);
	if (range) {
		const char *text = docwalk_string(&p->w, range, "cluster.nodePortRange", "a range, as \"30000-32767\"");
		int lo, hi, used = 0;
		if (text && (sscanf(text, "%d-%d%n", &lo, &hi, &used) != 2 || text[used] || lo < 1 || hi > 65535 || lo > hi))
			docwalk_error(&p->w, range, "cluster.nodePortRange",
				      "\"%s\" is not a port range: FIRST-LAST, from 1 to 65535", text);
		else if (text) {
			c->node_port_min = lo;
			c->node_port_max = hi;
		}
	}
	const cJSON *kp = docwalk_member(&p->w, obj, "cluster", "kubeProxy", false);
	if (kp && docwalk_object(&p->w, kp, "cluster.kubeProxy", "an object (KubeProxyConfiguration's masqueradeAll, "
							      "nodePortAddresses, clusterCIDR)")) {
		docwalk_check_keys(&p->w, kp, "cluster.kubeProxy", kube_proxy_keys);
		const cJSON *all = docwalk_member(&p->w, kp, "cluster.kubeProxy", "masqueradeAll", false);
		if (all)
			docwalk_bool(&p->w, all, "cluster.kubeProxy.masqueradeAll", &c->kube_proxy.masquerade_all);
		const cJSON *cidr = docwalk_member(&p->w, kp, "cluster.kubeProxy", "clusterCIDR", false);
		if (cidr && cJSON_IsString(cidr) && !*cidr->valuestring)
			c->kube_proxy.has_cluster_cidr = false; /* "": no local-traffic detector */
		else if (cidr)
			c->kube_proxy.has_cluster_cidr =
				parse_cidr(p, cidr, "cluster.kubeProxy.clusterCIDR", true, &c->kube_proxy.cluster_cidr);
		c->kube_proxy_cidr_given = cidr != NULL;
		const cJSON *addrs = docwalk_member(&p->w, kp, "cluster.kubeProxy", "nodePortAddresses", false);
		if (addrs && docwalk_array(&p->w, addrs, "cluster.kubeProxy.nodePortAddresses",
					   "an array of CIDRs, or [\"primary\"]")) {
			struct tb_kube_proxy *k = &c->kube_proxy;
			k->node_port_addresses = xcalloc((size_t)cJSON_GetArraySize(addrs) + 1, sizeof(*k->node_port_addresses));
			size_t i = 0;
			for (const cJSON *a = addrs->child; a; a = a->next, i++) {
				autofree char *where = docwalk_path_index("cluster.kubeProxy.nodePortAddresses", i);
				/* "primary" is the default: each node's own address; as
				 * kube-proxy's validation has it, it stands alone. */
				if (cJSON_IsString(a) && strcmp(a->valuestring, "primary") == 0) {
					if (cJSON_GetArraySize(addrs) > 1)
						docwalk_error(&p->w, a, where, "\"primary\" stands alone, without CIDRs");
					continue;
				}
				if (parse_cidr(p, a, where, true, &k->node_port_addresses[k->n_node_port_addresses]))
					k->n_node_port_addresses++;
			}
		}
	}
	const cJSON *dns = docwalk_member(&p->w, obj, "cluster", "dns", false);
	bool on = false;
	if (dns && docwalk_bool(&p->w, dns, "cluster.dns", &on)) {
		c->dns = on ? TB_CLUSTER_DNS_ON : TB_CLUSTER_DNS_OFF;
		c->dns_line = docwalk_line(&p->w, dns);
	}
	/* The kubelet's clusterDomain: a DNS subdomain, written without the
	 * root's dot, as kubeadm writes it. */
	const cJSON *domain = docwalk_member(&p->w, obj, "cluster", "clusterDomain", false);
	const char *text = domain ? docwalk_string(&p->w, domain, "cluster.clusterDomain", "a domain, as \"cluster.local\"")
				  : NULL;
	if (text && (!topology_is_dns_subdomain(text) || strlen(text) > 200))
		docwalk_error(&p->w, domain, "cluster.clusterDomain",
			      "\"%s\" is not a domain: lowercase DNS labels joined by dots, as \"cluster.local\", at most "
			      "200 characters", text);
	else if (text) {
		snprintf(c->cluster_domain, sizeof(c->cluster_domain), "%s", text);
		c->cluster_domain_line = docwalk_line(&p->w, domain);
	}
	const cJSON *ingress = docwalk_member(&p->w, obj, "cluster", "ingress", false);
	if (ingress)
		parse_ingress_settings(p, ingress, &c->ingress);
	const cJSON *routing = docwalk_member(&p->w, obj, "cluster", "routing", false);
	if (routing && docwalk_string(&p->w, routing, "cluster.routing", "a string")) {
		const char *r = routing->valuestring;
		if (strcmp(r, "gateway") == 0)
			c->routing = TB_ROUTING_GATEWAY;
		else if (strcmp(r, "host-gw") == 0)
			c->routing = TB_ROUTING_HOST_GW;
		else if (strcmp(r, "vxlan") == 0)
			c->routing = TB_ROUTING_VXLAN;
		else
			docwalk_error(&p->w, routing, "cluster.routing",
				      "\"%s\" is not a routing mode: expected \"gateway\", \"host-gw\" or \"vxlan\"",
				      r);
	}
}

static void parse_labels(struct parser *p, struct tb_label **labels, size_t *n, const cJSON *obj, const char *path)
{
	if (!docwalk_object(&p->w, obj, path, "an object of string labels"))
		return;
	/* One more: a node's own hostname label follows. */
	*labels = xcalloc((size_t)cJSON_GetArraySize(obj) + 1, sizeof(**labels));
	for (const cJSON *c = obj->child; c; c = c->next)
		if (docwalk_label(&p->w, c, path))
			(*labels)[(*n)++] = (struct tb_label){.key = xstrdup(c->string), .value = xstrdup(c->valuestring)};
}

static void free_labels(struct tb_label *labels, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(labels[i].key);
		free(labels[i].value);
	}
	free(labels);
}

/* The kubelet labels its node kubernetes.io/hostname=NAME; a node's own
 * labels may say the same, nothing else. */
static void label_node(struct parser *p, struct tb_node *n, const cJSON *labels, const char *path)
{
	for (size_t i = 0; i < n->n_labels; i++)
		if (strcmp(n->labels[i].key, TB_LABEL_HOSTNAME) == 0) {
			if (n->name && strcmp(n->labels[i].value, n->name) != 0) {
				autofree char *where = docwalk_path_key(path, TB_LABEL_HOSTNAME);
				docwalk_error(&p->w, cJSON_GetObjectItemCaseSensitive(labels, TB_LABEL_HOSTNAME), where,
					      "\"%s\" is not the node's name: the kubelet sets " TB_LABEL_HOSTNAME
					      " to it",
					      n->labels[i].value);
			}
			return;
		}
	if (!n->labels)
		n->labels = xcalloc(1, sizeof(*n->labels));
	if (n->name)
		n->labels[n->n_labels++] = (struct tb_label){xstrdup(TB_LABEL_HOSTNAME), xstrdup(n->name)};
}

/* A NULL-terminated array of strings, and the strings. */
static void free_strv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static void parse_command(struct parser *p, struct tb_pod *pod, const cJSON *arr, const char *path)
{
	if (!docwalk_array(&p->w, arr, path, "an array of strings (the program and its arguments)"))
		return;
	if (cJSON_GetArraySize(arr) == 0) {
		docwalk_error(&p->w, arr, path,
			      "is empty: give the program and its arguments, or leave \"command\" out");
		return;
	}
	size_t n = (size_t)cJSON_GetArraySize(arr), i = 0;
	char **argv = xcalloc(n + 1, sizeof(*argv));
	for (const cJSON *c = arr->child; c; c = c->next, i++) {
		autofree char *where = docwalk_path_index(path, i);
		if (!docwalk_string(&p->w, c, where, "a string")) {
			free_strv(argv);
			return;
		}
		argv[i] = xstrdup(c->valuestring);
	}
	if (!*argv[0]) {
		autofree char *where = docwalk_path_index(path, 0);
		docwalk_error(&p->w, arr->child, where, "the program name is empty");
		free_strv(argv);
		return;
	}
	pod->command = argv;
	pod->n_command = n;
}

static void parse_pods(struct parser *p, struct tb_node *node, const cJSON *arr, const char *path)
{
	if (!docwalk_array(&p->w, arr, path, "an array of pods"))
		return;
	node->pods = xcalloc((size_t)cJSON_GetArraySize(arr), sizeof(*node->pods));
	size_t i = 0;
	for (const cJSON *obj = arr->child; obj; obj = obj->next, i++) {
		autofree char *pod_path = docwalk_path_index(path, i);
		if (!docwalk_object(&p->w, obj, pod_path, "an object"))
			continue;
		docwalk_check_keys(&p->w, obj, pod_path, pod_keys);
		struct tb_pod *pod = &node->pods[node->n_pods++];
		pod->line = docwalk_line(&p->w, obj);
		pod->name_line = docwalk_key_line(&p->w, obj, "name");
		pod->image_line = docwalk_key_line(&p->w, obj, "image");
		pod->name = parse_name(p, obj, pod_path);
		pod->image = parse_image_ref(p, obj, pod_path, "pod");
		const cJSON *ns = docwalk_member(&p->w, obj, pod_path, "namespace", false);
		pod->namespace_line = docwalk_key_line(&p->w, obj, "namespace");
		if (ns) {
			autofree char *where = docwalk_path_key(pod_path, "namespace");
			const char *text = docwalk_string(&p->w, ns, where, "a namespace's name");
			if (text && !docwalk_is_dns_label(text))
				docwalk_error(&p->w, ns, where,
					      "\"%s\" is not a namespace name: 1-63 of a-z, 0-9 and '-', a letter or digit "
					      "at both ends",
					      text);
			else if (text)
				pod->namespace = xstrdup(text);
		}
		if (!pod->namespace)
			pod->namespace = xstrdup(TB_DEFAULT_NAMESPACE);
		const cJSON *labels = docwalk_member(&p->w, obj, pod_path, "labels", false);
		if (labels) {
			autofree char *where = docwalk_path_key(pod_path, "labels");
			parse_labels(p, &pod->labels, &pod->n_labels, labels, where);
		}
		const cJSON *command = docwalk_member(&p->w, obj, pod_path, "command", false);
		if (command) {
			autofree char *where = docwalk_path_key(pod_path, "command");
			parse_command(p, pod, command, where);
		}
		/* With "ports", the pod serves exactly those; else "http" is the
		 * short form of one. A custom command serves nothing testbed knows
		 * of unless one of them says which port it listens on. */
		const cJSON *ports = docwalk_member(&p->w, obj, pod_path, "ports", false);
		pod->ports_line = docwalk_key_line(&p->w, obj, "ports");
		if (ports && cJSON_GetObjectItemCaseSensitive(obj, "http")) {
			autofree char *where = docwalk_path_key(pod_path, "http");
			docwalk_error(&p->w, cJSON_GetObjectItemCaseSensitive(obj, "http"), where,
				      "give \"ports\" or its short form \"http\", not both");
		} else if (ports) {
			autofree char *where = docwalk_path_key(pod_path, "ports");
			const struct tb_port_list l = {&pod->ports, &pod->n_ports, NULL, NULL};
			ports_parse(&p->w, ports, where, &l);
		} else {
			parse_http(p, obj, pod_path, command ? 0 : TB_DEFAULT_HTTP_PORT, &pod->ports, &pod->n_ports);
		}
		pod->disk = parse_disk(p, obj, pod_path);
	}
	p->t->n_pods += node->n_pods;
}

static void parse_nodes(struct parser *p, const cJSON *arr)
{
	if (!docwalk_array(&p->w, arr, "nodes", "an array of nodes"))
		return;
	struct tb_topology *t = p->t;
	t->nodes = xcalloc((size_t)cJSON_GetArraySize(arr), sizeof(*t->nodes));
	size_t i = 0;
	for (const cJSON *obj = arr->child; obj; obj = obj->next, i++) {
		autofree char *path = docwalk_path_index("nodes", i);
		if (!docwalk_object(&p->w, obj, path, "an object"))
			continue;
		docwalk_check_keys(&p->w, obj, path, node_keys);
		struct tb_node *n = &t->nodes[t->n_nodes++];
		n->line = docwalk_line(&p->w, obj);
		n->name_line = docwalk_key_line(&p->w, obj, "name");
		n->image_line = docwalk_key_line(&p->w, obj, "image");
		n->pod_cidr_line = docwalk_key_line(&p->w, obj, "podCIDR");
		n->pods_line = docwalk_key_line(&p->w, obj, "pods");
		n->name = parse_name(p, obj, path);
		n->image = parse_image_ref(p, obj, path, "node");
		const cJSON *labels = docwalk_member(&p->w, obj, path, "labels", false);
		autofree char *labels_path = docwalk_path_key(path, "labels");
		if (labels)
			parse_labels(p, &n->labels, &n->n_labels, labels, labels_path);
		label_node(p, n, labels, labels_path);
		n->disk = parse_disk(p, obj, path);
		const cJSON *cidr = docwalk_member(&p->w, obj, path, "podCIDR", false);
		if (cidr) {
			autofree char *where = docwalk_path_key(path, "podCIDR");
			n->pod_cidr_given = parse_cidr(p, cidr, where, true, &n->pod_cidr);
		}
		const cJSON *pods = docwalk_member(&p->w, obj, path, "pods", false);
		if (pods) {
			autofree char *where = docwalk_path_key(path, "pods");
			parse_pods(p, n, pods, where);
		}
	}
}

/* services, ingress, policies: sections kept from before Kubernetes
 * objects, when they were to hold their own forms. An empty one is
 * nothing; anything in one would be skipped, so it is refused, saying
 * where such things go. Returns how many. */
static size_t parse_reserved(struct parser *p, const cJSON *root, const char *key, const char *why)
{
	const cJSON *arr = docwalk_member(&p->w, root, "", key, false);
	if (!arr)
		return 0;
	if (!docwalk_array(&p->w, arr, key, "an empty array (a reserved section)"))
		return 0;
	if (arr->child) {
		autofree char *where = docwalk_path_index(key, 0);
		docwalk_error(&p->w, arr->child, where, "%s", why);
	}
	return (size_t)cJSON_GetArraySize(arr);
}

static void parse_externals(struct parser *p, const cJSON *arr)
{
	if (!docwalk_array(&p->w, arr, "external", "an array of machines outside the cluster ({name, address})"))
		return;
	struct tb_topology *t = p->t;
	t->externals = xcalloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*t->externals));
	t->externals_given = true;
	size_t i = 0;
	for (const cJSON *obj = arr->child; obj; obj = obj->next, i++) {
		autofree char *path = docwalk_path_index("external", i);
		if (!docwalk_object(&p->w, obj, path, "an object ({name, address})"))
			continue;
		docwalk_check_keys(&p->w, obj, path, external_keys);
		struct tb_external *x = &t->externals[t->n_externals++];
		x->line = docwalk_line(&p->w, obj);
		x->name = parse_name(p, obj, path);
		const cJSON *addr = docwalk_member(&p->w, obj, path, "address", false);
		if (addr) {
			autofree char *where = docwalk_path_key(path, "address");
			const char *text = docwalk_string(&p->w, addr, where, "an IPv4 address");
			if (text && !ipv4_addr_parse(text, &x->address))
				docwalk_error(&p->w, addr, where, "\"%s\" is not an IPv4 address", text);
			x->address_given = text != NULL;
		}
	}
}

static void parse_top(struct parser *p, const cJSON *root)
{
	struct tb_topology *t = p->t;
	if (!docwalk_object(&p->w, root, "", "a JSON object at the top level"))
		return;
	docwalk_check_duplicate_keys(&p->w, root, "");
	docwalk_check_keys(&p->w, root, "", top_keys);

	const cJSON *name = docwalk_member(&p->w, root, "", "name", true);
	if (name && docwalk_string(&p->w, name, "name", "a string")) {
		if (topology_is_lab_name(name->valuestring))
			t->name = xstrdup(name->valuestring);
		else
			docwalk_error(&p->w, name, "name",
				      "\"%s\" is not a valid lab name: 1-12 characters of a-z, 0-9 and '-', "
				      "starting with a letter",
				      name->valuestring);
	}
	const cJSON *desc = docwalk_member(&p->w, root, "", "description", false);
	if (desc)
		docwalk_string(&p->w, desc, "description", "a string");
	const cJSON *schema = docwalk_member(&p->w, root, "", "$schema", false);
	if (schema)
		docwalk_string(&p->w, schema, "$schema", "a string");

	const cJSON *item;
	if ((item = docwalk_member(&p->w, root, "", "images", false)))
		parse_images(p, item);
	if ((item = docwalk_member(&p->w, root, "", "hosts", false)))
		parse_hosts(p, item);
	if ((item = docwalk_member(&p->w, root, "", "bridges", false)))
		parse_bridges(p, item);
	if ((item = docwalk_member(&p->w, root, "", "links", false)))
		parse_links(p, item);
	if ((item = docwalk_member(&p->w, root, "", "cluster", false)))
		parse_cluster(p, item);
	if ((item = docwalk_member(&p->w, root, "", "nodes", false)))
		parse_nodes(p, item);
	if ((item = docwalk_member(&p->w, root, "", "neighbours", false)) &&
	    docwalk_string(&p->w, item, "neighbours", "a string")) {
		t->neighbours_line = docwalk_line(&p->w, item);
		if (!tb_neighbours_parse(item->valuestring, &t->neighbours))
			docwalk_error(&p->w, item, "neighbours",
				      "\"%s\" is not a neighbour design: expected \"auto\", \"learned\" or \"static\"",
				      item->valuestring);
	}
	/* "objects" are Kubernetes', which compile.c has k8s.c read. */
	if ((item = docwalk_member(&p->w, root, "", "external", false)))
		parse_externals(p, item);
	t->n_services = parse_reserved(p, root, "services",
				       "Services are Kubernetes objects: write them as kind: Service (v1) in \"objects\" or "
				       "\"manifests\"");
	t->n_ingress = parse_reserved(p, root, "ingress",
				      "not implemented: Ingress is not built yet (it will come as kind: Ingress objects in "
				      "\"objects\" or \"manifests\")");
	t->n_policies = parse_reserved(p, root, "policies",
				       "NetworkPolicies are Kubernetes objects: write them as kind: NetworkPolicy "
				       "(networking.k8s.io/v1) in \"objects\" or \"manifests\"");
	/* "expect" is expect.c's, which compile.c runs beside this parse. */
}

static void cluster_defaults(struct tb_cluster *c)
{
	ipv4_prefix_parse("10.244.0.0/16", &c->pod_cidr, &(const char *){NULL});
	ipv4_prefix_parse("10.96.0.0/16", &c->service_cidr, &(const char *){NULL});
	ipv4_prefix_parse("10.10.0.0/24", &c->underlay, &(const char *){NULL});
	c->routing = TB_ROUTING_GATEWAY;
	ipv4_prefix_parse("203.0.113.0/24", &c->external_cidr, &(const char *){NULL});
	c->node_port_min = 30000;
	c->node_port_max = 32767;
	snprintf(c->cluster_domain, sizeof(c->cluster_domain), "%s", TB_DEFAULT_CLUSTER_DOMAIN);
	c->ingress.type = TB_SERVICE_NODE_PORT;
}

static void strv_free_n(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void tb_pod_free(struct tb_pod *pod)
{
	free_labels(pod->labels, pod->n_labels);
	free_ports(pod->ports, pod->n_ports);
	free(pod->host_ports);
	free(pod->namespace);
	free_strv(pod->command);
	free(pod->name);
	free(pod->image);
	free(pod->origin.what);
	free(pod->hostname);
	free(pod->subdomain);
	tb_dns_config_free(&pod->dns_config);
	tb_host_aliases_free(pod->host_aliases, pod->n_host_aliases);
}

void tb_host_aliases_free(struct tb_host_alias *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a[i].ip);
		strv_free_n(a[i].hostnames, a[i].n_hostnames);
	}
	free(a);
}

void tb_dns_config_free(struct tb_dns_config *c)
{
	strv_free_n(c->nameservers, c->n_nameservers);
	strv_free_n(c->searches, c->n_searches);
	for (size_t i = 0; i < c->n_options; i++) {
		free(c->options[i].name);
		free(c->options[i].value);
	}
	free(c->options);
	*c = (struct tb_dns_config){0};
}

static char **strv_copy_n(char *const *v, size_t n)
{
	char **c = n ? xcalloc(n, sizeof(*c)) : NULL;
	for (size_t i = 0; i < n; i++)
		c[i] = xstrdup(v[i]);
	return c;
}

struct tb_host_alias *tb_host_aliases_copy(const struct tb_host_alias *a, size_t n)
{
	struct tb_host_alias *c = n ? xcalloc(n, sizeof(*c)) : NULL;
	for (size_t i = 0; i < n; i++)
		c[i] = (struct tb_host_alias){xstrdup(a[i].ip), strv_copy_n(a[i].hostnames, a[i].n_hostnames),
					      a[i].n_hostnames};
	return c;
}

void tb_dns_config_copy(struct tb_dns_config *dst, const struct tb_dns_config *src)
{
	dst->nameservers = strv_copy_n(src->nameservers, src->n_nameservers);
	dst->n_nameservers = src->n_nameservers;
	dst->searches = strv_copy_n(src->searches, src->n_searches);
	dst->n_searches = src->n_searches;
	dst->options = src->n_options ? xcalloc(src->n_options, sizeof(*dst->options)) : NULL;
	for (size_t i = 0; i < src->n_options; i++)
		dst->options[i] = (struct tb_dns_option){xstrdup(src->options[i].name),
							 src->options[i].value ? xstrdup(src->options[i].value) : NULL};
	dst->n_options = src->n_options;
}

static void service_free(struct tb_service *s)
{
	free(s->external_name);
	free(s->name);
	free(s->namespace);
	free_labels(s->selector, s->n_selector);
	for (size_t i = 0; i < s->n_ports; i++) {
		free(s->ports[i].name);
		free(s->ports[i].target_port_name);
	}
	free(s->ports);
	free(s->external_ips);
	free(s->load_balancer_ips);
	free(s->source_ranges);
	free(s->origin.what);
}

static void slice_free(struct tb_endpoint_slice *es)
{
	free(es->name);
	free(es->namespace);
	free(es->service);
	for (size_t i = 0; i < es->n_ports; i++)
		free(es->ports[i].name);
	free(es->ports);
	for (size_t i = 0; i < es->n_endpoints; i++) {
		free(es->endpoints[i].addresses);
		free(es->endpoints[i].node_name);
		free(es->endpoints[i].hostname);
	}
	free(es->endpoints);
	free(es->origin.what);
}

static void backend_free(struct tb_ingress_backend *b)
{
	free(b->service);
	free(b->port_name);
}

static void ingress_free(struct tb_ingress *in)
{
	free(in->name);
	free(in->namespace);
	free(in->class_name);
	free(in->created);
	backend_free(&in->default_backend);
	for (size_t i = 0; i < in->n_rules; i++) {
		for (size_t k = 0; k < in->rules[i].n_paths; k++) {
			free(in->rules[i].paths[k].path);
			backend_free(&in->rules[i].paths[k].backend);
		}
		free(in->rules[i].paths);
		free(in->rules[i].host);
	}
	free(in->rules);
	free(in->origin.what);
}

static void workload_free(struct tb_workload *wl)
{
	free(wl->name);
	free(wl->template_hash);
	free(wl->service_name);
	free(wl->node_name);
	free_labels(wl->node_selector, wl->n_node_selector);
	tb_pod_free(&wl->pod);
}

struct tb_topology *topology_parse(const struct json_doc *doc, const char *dir, struct diag *d)
{
	struct tb_topology *t = xcalloc(1, sizeof(*t));
	t->text = xstrdup(doc->text);
	/* Absolute, so that resolved image paths do not depend on the working
	 * directory of whoever uses the model later. */
	t->dir = realpath(dir, NULL);
	if (!t->dir)
		t->dir = xstrdup(dir);
	cluster_defaults(&t->cluster);
	/* "default" exists in every cluster, as the API server makes it. */
	t->namespaces = xcalloc(1, sizeof(*t->namespaces));
	t->namespaces[t->n_namespaces++] = (struct tb_namespace){
		.name = xstrdup(TB_DEFAULT_NAMESPACE),
		.labels = xmalloc(sizeof(struct tb_label)),
		.n_labels = 1,
	};
	t->namespaces[0].labels[0] = (struct tb_label){xstrdup(TB_LABEL_NAMESPACE_NAME), xstrdup(TB_DEFAULT_NAMESPACE)};
	size_t errors = d->count;
	struct parser p = {.w = {.doc = doc, .d = d}, .t = t};
	parse_top(&p, doc->root);
	/* A cluster has its internet, unless "external" says what is outside. */
	if (t->n_nodes && !t->externals_given) {
		t->externals = xcalloc(1, sizeof(*t->externals));
		t->externals[t->n_externals++] = (struct tb_external){.name = xstrdup(TB_DEFAULT_EXTERNAL)};
	}
	if (d->count != errors) {
		topology_free(t);
		return NULL;
	}
	return t;
}

/* Frees what parsing got to: entities are counted before they are filled,
 * so any of their strings may still be NULL. */
void topology_free(struct tb_topology *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_images; i++) {
		free(t->images[i].name);
		free(t->images[i].path);
		free(t->images[i].resolved);
	}
	free(t->images);
	for (size_t i = 0; i < t->n_hosts; i++) {
		struct tb_host *h = &t->hosts[i];
		for (size_t j = 0; j < h->n_ifaces; j++)
			free(h->ifaces[j].name);
		free(h->ifaces);
		free_ports(h->ports, h->n_ports);
		free(h->name);
		free(h->image);
	}
	free(t->hosts);
	for (size_t i = 0; i < t->n_namespaces; i++) {
		free(t->namespaces[i].name);
		free_labels(t->namespaces[i].labels, t->namespaces[i].n_labels);
	}
	free(t->namespaces);
	for (size_t i = 0; i < t->n_workloads; i++)
		workload_free(&t->workloads[i]);
	free(t->workloads);
	for (size_t i = 0; i < t->n_services_objects; i++)
		service_free(&t->services[i]);
	free(t->services);
	for (size_t i = 0; i < t->n_slices; i++)
		slice_free(&t->slices[i]);
	free(t->slices);
	for (size_t i = 0; i < t->n_ingresses; i++)
		ingress_free(&t->ingresses[i]);
	free(t->ingresses);
	for (size_t i = 0; i < t->n_ingress_classes; i++) {
		free(t->ingress_classes[i].name);
		free(t->ingress_classes[i].controller);
		free(t->ingress_classes[i].origin.what);
	}
	free(t->ingress_classes);
	tb_policies_free(t->policies, t->n_policy_objects);
	for (size_t i = 0; i < t->n_externals; i++)
		free(t->externals[i].name);
	free(t->externals);
	free(t->cluster.kube_proxy.node_port_addresses);
	strv_free_n(t->files, t->n_files);
	strv_free_n(t->notes, t->n_notes);
	for (size_t i = 0; i < t->n_bridges; i++)
		free(t->bridges[i].name);
	free(t->bridges);
	for (size_t i = 0; i < t->n_links; i++) {
		free(t->links[i].ends[0].text);
		free(t->links[i].ends[1].text);
	}
	free(t->links);
	for (size_t i = 0; i < t->n_nodes; i++) {
		struct tb_node *n = &t->nodes[i];
		for (size_t j = 0; j < n->n_pods; j++)
			tb_pod_free(&n->pods[j]);
		free(n->pods);
		free_labels(n->labels, n->n_labels);
		free(n->name);
		free(n->image);
	}
	free(t->nodes);
	for (size_t i = 0; i < t->n_expects; i++) {
		struct tb_expect *x = &t->expects[i];
		free(x->from.name);
		free(x->to.name);
		free(x->port_name);
		free(x->client_name);
		for (size_t k = 0; k < x->n_answered_by; k++)
			free(x->answered_by[k]);
		free(x->answered_by);
		for (size_t k = 0; k < x->n_answers; k++)
			free(x->answers[k]);
		free(x->answers);
	}
	free(t->expects);
	free(t->name);
	free(t->dir);
	free(t->text);
	free(t);
}

const char *tb_routing_name(enum tb_routing r)
{
	switch (r) {
	case TB_ROUTING_GATEWAY:
		return "gateway";
	case TB_ROUTING_HOST_GW:
		return "host-gw";
	case TB_ROUTING_VXLAN:
		return "vxlan";
	}
	return "?";
}

const char *tb_failure_name(enum tb_failure f)
{
	switch (f) {
	case TB_FAILURE_ANY:
		return "";
	case TB_FAILURE_REFUSED:
		return "refused";
	case TB_FAILURE_TIMEOUT:
		return "timeout";
	case TB_FAILURE_NXDOMAIN:
		return "nxdomain";
	case TB_FAILURE_SERVFAIL:
		return "servfail";
	}
	return "?";
}

const char *tb_proto_name(enum tb_proto p)
{
	switch (p) {
	case TB_PROTO_HTTP:
		return "http";
	case TB_PROTO_TCP:
		return "tcp";
	case TB_PROTO_PING:
		return "ping";
	case TB_PROTO_UDP:
		return "udp";
	case TB_PROTO_DNS:
		return "dns";
	}
	return "?";
}

static const char *const neighbours_names[] = {
	[TB_NEIGH_AUTO] = "auto", [TB_NEIGH_LEARNED] = "learned", [TB_NEIGH_STATIC] = "static"};

const struct tb_namespace *topology_find_namespace(const struct tb_topology *t, const char *name)
{
	for (size_t i = 0; i < t->n_namespaces; i++)
		if (strcmp(t->namespaces[i].name, name) == 0)
			return &t->namespaces[i];
	return NULL;
}

const char *tb_neighbours_name(enum tb_neighbours n)
{
	return (size_t)n < ARRAY_SIZE(neighbours_names) ? neighbours_names[n] : "?";
}

bool tb_neighbours_parse(const char *name, enum tb_neighbours *n)
{
	for (size_t i = 0; i < ARRAY_SIZE(neighbours_names); i++)
		if (strcmp(neighbours_names[i], name) == 0) {
			*n = (enum tb_neighbours)i;
			return true;
		}
	return false;
}

const struct tb_image *topology_find_image(const struct tb_topology *t, const char *name)
{
	for (size_t i = 0; i < t->n_images; i++)
		if (strcmp(t->images[i].name, name) == 0)
			return &t->images[i];
	return NULL;
}



