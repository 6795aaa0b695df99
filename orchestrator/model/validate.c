/* Checks that span entities: unique names, references that resolve, links
 * that make sense, image files that exist, addresses that do not clash.
 * Runs on a structurally valid model (topology.c). */
#define _GNU_SOURCE
#include "model/validate.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "model/names.h"
#include "model/netpol.h"
#include "model/topology.h"
#include "util/diag.h"
#include "util/util.h"

/* One named thing: hosts and nodes share one name space with every pod;
 * pods are unique within their namespace. */
struct named {
	const char *name;
	const char *namespace; /* pods; NULL for hosts and nodes */
	char *path; /* "nodes[0].pods[2]" */
	const char *kind;
	size_t index; /* into the hosts, nodes or the node's pods */
};

struct names {
	struct named *items;
	size_t count, cap;
};

static const struct named *names_find(const struct names *n, const char *name, size_t len)
{
	for (size_t i = 0; i < n->count; i++)
		if (strlen(n->items[i].name) == len && strncmp(n->items[i].name, name, len) == 0)
			return &n->items[i];
	return NULL;
}

/* A name already taken for NAME in NAMESPACE (NULL: a host or node, which
 * no other machine may share). */
static const struct named *names_clash(const struct names *n, const char *name, const char *namespace)
{
	for (size_t i = 0; i < n->count; i++)
		if (strcmp(n->items[i].name, name) == 0 &&
		    (!namespace || !n->items[i].namespace || strcmp(n->items[i].namespace, namespace) == 0))
			return &n->items[i];
	return NULL;
}

static void names_add(struct names *n, struct diag *d, const char *name, const char *namespace, char *path,
		      const char *kind, size_t index, const struct tb_origin *at)
{
	const char *file = at->file;
	int name_line = at->line, column = at->column;
	/* A pod of an object is named by the object ("StatefulSet shop/db,
	 * pod db-0"); the others by their place in the file. */
	autofree char *name_path = strchr(path, ' ') ? xstrdup(path) : xasprintf("%s.name", path);
	if (strcmp(name, TB_TARGET_LAB) == 0 || strcmp(name, TB_TARGET_GATEWAY) == 0) {
		diag_error_in(d, file, name_line, column, name_path,
			   "\"%s\" is reserved: commands use it for the lab's own %s namespace", name,
			   strcmp(name, TB_TARGET_LAB) == 0 ? "root" : "gateway");
		free(path);
		return;
	}
	const struct named *first = names_clash(n, name, namespace);
	if (first) {
		diag_error_in(d, file, name_line, column, name_path, "duplicate name \"%s\" (first at %s)", name,
			      first->path);
		free(path);
		return;
	}
	grow_array((void **)&n->items, &n->cap, n->count + 1, sizeof(*n->items));
	n->items[n->count++] =
		(struct named){.name = name, .namespace = namespace, .path = path, .kind = kind, .index = index};
}

static void names_free(struct names *n)
{
	for (size_t i = 0; i < n->count; i++)
		free(n->items[i].path);
	free(n->items);
}

/* IMAGE_LINE: where "image" names it; 0: it is the default for the entity on LINE. */
static void check_image_ref(const struct tb_topology *t, struct diag *d, const char *image, int line,
			    int image_line, const char *path)
{
	if (topology_find_image(t, image))
		return;
	autofree char *where = xasprintf("%s.image", path);
	if (image_line)
		diag_error(d, image_line, where, "unknown image \"%s\": add it to \"images\"", image);
	else
		diag_error(d, line, path, "uses the default image \"%s\", which \"images\" does not define", image);
}

static void check_images(const struct tb_topology *t, struct diag *d)
{
	for (size_t i = 0; i < t->n_images; i++) {
		const struct tb_image *img = &t->images[i];
		autofree char *where = xasprintf("images.%s", img->name);
		struct stat st;
		if (stat(img->resolved, &st) < 0) {
			int err = errno;
			/* The bundled images are build outputs, not in the repository. */
			const char *base = strrchr(img->path, '/') ? strrchr(img->path, '/') + 1 : img->path;
			bool bundled = strcmp(base, "pod.tar.zst") == 0 || strcmp(base, "node.tar.zst") == 0;
			diag_error(d, img->line, where, "\"%s\": %s%s", img->path, strerror(err),
				   err == ENOENT && bundled ? " (build the bundled images with `make images`)" : "");
		}
		else if (!S_ISREG(st.st_mode))
			diag_error(d, img->line, where, "\"%s\" is not a regular file", img->path);
	}
	for (size_t i = 0; i < t->n_hosts; i++) {
		autofree char *path = xasprintf("hosts[%zu]", i);
		check_image_ref(t, d, t->hosts[i].image, t->hosts[i].line, t->hosts[i].image_line, path);
	}
	for (size_t i = 0; i < t->n_nodes; i++) {
		const struct tb_node *n = &t->nodes[i];
		autofree char *path = xasprintf("nodes[%zu]", i);
		check_image_ref(t, d, n->image, n->line, n->image_line, path);
		for (size_t j = 0; j < n->n_pods; j++) {
			autofree char *pod_path = xasprintf("nodes[%zu].pods[%zu]", i, j);
			check_image_ref(t, d, n->pods[j].image, n->pods[j].line, n->pods[j].image_line, pod_path);
		}
	}
}

static ssize_t find_bridge(const struct tb_topology *t, const char *name)
{
	for (size_t i = 0; i < t->n_bridges; i++)
		if (strcmp(t->bridges[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

static struct tb_iface *find_iface(struct tb_host *h, const char *name)
{
	for (size_t i = 0; i < h->n_ifaces; i++)
		if (strcmp(h->ifaces[i].name, name) == 0)
			return &h->ifaces[i];
	return NULL;
}

/* Resolve "host:if" or "bridge" to an index. */
static bool resolve_endpoint(struct tb_topology *t, struct diag *d, const struct names *names,
			     struct tb_endpoint *e, const char *path)
{
	const char *text = e->text;
	if (e->kind == TB_ENDPOINT_BRIDGE) {
		ssize_t b = find_bridge(t, text);
		if (b >= 0) {
			e->index = (size_t)b;
			return true;
		}
		const struct named *other = names_find(names, text, strlen(text));
		if (other && strcmp(other->kind, "host") == 0)
			diag_error(d, e->line, path,
				   "\"%s\" is a host: name its interface too, like \"%s:eth0\"", text, text);
		else
			diag_error(d, e->line, path, "unknown bridge \"%s\"", text);
		return false;
	}
	size_t len = (size_t)(e->ifname - 1 - text);
	const struct named *host = names_find(names, text, len);
	if (!host) {
		diag_error(d, e->line, path, "unknown host \"%.*s\"", (int)len, text);
		return false;
	}
	if (strcmp(host->kind, "host") != 0) {
		diag_error(d, e->line, path, "\"%.*s\" is a %s; links connect hosts and bridges", (int)len, text,
			   host->kind);
		return false;
	}
	e->index = host->index;
	return true;
}

static void check_links(struct tb_topology *t, struct diag *d, const struct names *names)
{
	for (size_t i = 0; i < t->n_links; i++) {
		struct tb_link *l = &t->links[i];
		bool ok = true;
		for (size_t j = 0; j < 2; j++) {
			autofree char *path = xasprintf("links[%zu][%zu]", i, j);
			ok &= resolve_endpoint(t, d, names, &l->ends[j], path);
		}
		if (!ok)
			continue;
		autofree char *path = xasprintf("links[%zu]", i);
		if (l->ends[0].kind == TB_ENDPOINT_BRIDGE && l->ends[1].kind == TB_ENDPOINT_BRIDGE) {
			diag_error(d, l->line, path, "links two bridges; a link needs at least one host interface");
			continue;
		}
		if (l->ends[0].kind == TB_ENDPOINT_HOST && l->ends[1].kind == TB_ENDPOINT_HOST &&
		    l->ends[0].index == l->ends[1].index && strcmp(l->ends[0].ifname, l->ends[1].ifname) == 0) {
			diag_error(d, l->line, path, "links \"%s\" to itself", l->ends[0].text);
			continue;
		}
		for (size_t j = 0; j < 2; j++) {
			struct tb_endpoint *e = &l->ends[j];
			if (e->kind != TB_ENDPOINT_HOST)
				continue;
			/* Has an earlier link already created this interface? */
			for (size_t k = 0; k < i; k++)
				for (size_t m = 0; m < 2; m++) {
					const struct tb_endpoint *o = &t->links[k].ends[m];
					if (o->kind == TB_ENDPOINT_HOST && o->index == e->index && o->ifname &&
					    strcmp(o->ifname, e->ifname) == 0) {
						autofree char *ep = xasprintf("links[%zu][%zu]", i, j);
						diag_error(d, e->line, ep,
							   "interface \"%s\" is already linked (at links[%zu])",
							   e->text, k);
						goto next_end;
					}
				}
			struct tb_iface *iface = find_iface(&t->hosts[e->index], e->ifname);
			if (iface)
				iface->linked = true;
		next_end:;
		}
	}
	for (size_t i = 0; i < t->n_hosts; i++)
		for (size_t j = 0; j < t->hosts[i].n_ifaces; j++) {
			const struct tb_iface *iface = &t->hosts[i].ifaces[j];
			if (iface->linked)
				continue;
			autofree char *path = xasprintf("hosts[%zu].interfaces.%s", i, iface->name);
			diag_error(d, iface->line, path,
				   "no link creates this interface (add a link with \"%s:%s\" to \"links\")",
				   t->hosts[i].name, iface->name);
		}
}

static void check_bridge_names(const struct tb_topology *t, struct diag *d)
{
	for (size_t i = 0; i < t->n_bridges; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(t->bridges[i].name, t->bridges[j].name) == 0) {
				autofree char *path = xasprintf("bridges[%zu].name", i);
				diag_error(d, t->bridges[i].name_line, path,
					   "duplicate bridge name \"%s\" (first at bridges[%zu])",
					   t->bridges[i].name, j);
				break;
			}
}

/* An address the file gives an interface, with where it was given. */
struct given_address {
	struct ipv4_prefix prefix;
	char *path;
	int line;
};

static void check_addresses(const struct tb_topology *t, struct diag *d)
{
	struct given_address *list = NULL;
	size_t count = 0, cap = 0;
	for (size_t i = 0; i < t->n_hosts; i++)
		for (size_t j = 0; j < t->hosts[i].n_ifaces; j++) {
			const struct tb_iface *f = &t->hosts[i].ifaces[j];
			grow_array((void **)&list, &cap, count + 1, sizeof(*list));
			list[count++] = (struct given_address){
				f->address, xasprintf("hosts[%zu].interfaces.%s", i, f->name), f->line};
		}
	for (size_t i = 0; i < t->n_bridges; i++)
		if (t->bridges[i].has_address) {
			grow_array((void **)&list, &cap, count + 1, sizeof(*list));
			list[count++] = (struct given_address){
				t->bridges[i].address, xasprintf("bridges[%zu].address", i),
				t->bridges[i].address_line};
		}

	char a[IPV4_PREFIX_STRLEN], b[IPV4_PREFIX_STRLEN];
	for (size_t i = 0; i < count; i++)
		for (size_t j = 0; j < i; j++)
			if (list[i].prefix.addr == list[j].prefix.addr) {
				diag_error(d, list[i].line, list[i].path, "address %s is already used by %s",
					   ipv4_addr_format(list[i].prefix.addr, a), list[j].path);
				break;
			}

	/* The cluster's ranges are routed inside the lab; a host network on top
	 * of them would make routing ambiguous. Only relevant with a cluster. */
	const struct tb_cluster *c = &t->cluster;
	if (t->n_nodes > 0 || c->line) {
		const struct {
			const char *key;
			struct ipv4_prefix prefix;
			int line; /* 0: the default */
		} ranges[] = {{"podCIDR", c->pod_cidr, c->pod_cidr_line},
			      {"serviceCIDR", c->service_cidr, c->service_cidr_line},
			      {"underlay", c->underlay, c->underlay_line}};
		for (size_t i = 0; i < ARRAY_SIZE(ranges); i++) {
			for (size_t j = 0; j < i; j++)
				if (ipv4_overlaps(ranges[i].prefix, ranges[j].prefix)) {
					autofree char *path = xasprintf("cluster.%s", ranges[i].key);
					/* Where the range is given, else the cluster that defaults it. */
					int line = ranges[i].line ? ranges[i].line : c->line;
					diag_error(d, line, path, "%s overlaps cluster.%s %s%s",
						   ipv4_prefix_format(ranges[i].prefix, a), ranges[j].key,
						   ipv4_prefix_format(ranges[j].prefix, b),
						   ranges[j].line ? "" : " (the default)");
				}
			for (size_t k = 0; k < count; k++)
				if (ipv4_overlaps(list[k].prefix, ranges[i].prefix))
					diag_error(d, list[k].line, list[k].path, "%s overlaps cluster.%s %s%s",
						   ipv4_network_format(list[k].prefix, a), ranges[i].key,
						   ipv4_prefix_format(ranges[i].prefix, b),
						   ranges[i].line ? "" : " (the default)");
		}
	}
	for (size_t i = 0; i < count; i++)
		free(list[i].path);
	free(list);
}

/* Settles what X names: a pod (by NAME or NAMESPACE/NAME, model/names.h),
 * node or host; a selector's namespace must exist (its pods are found
 * when the check compiles). ENTRIES are NAMES' (N of them), for
 * name_resolve. */
static void resolve_target(const struct tb_topology *t, struct diag *d, const struct names *names,
			   const struct name_entry *entries, struct tb_target *x, size_t i, const char *key)
{
	autofree char *path = xasprintf("expect[%zu].%s", i, key);
	switch (x->kind) {
	case TB_KIND_ALL_PODS:
		if (t->n_pods == 0)
			diag_error(d, x->line, path, "\"*\" means every pod, and the lab has none");
		return;
	case TB_KIND_GATEWAY:
		if (t->n_nodes == 0)
			diag_error(d, x->line, path, "the lab has no nodes, so no gateway");
		return;
	case TB_KIND_SELECTOR: {
		size_t len = strcspn(x->name, "/");
		autofree char *namespace = xasprintf("%.*s", (int)len, x->name);
		if (strcmp(namespace, "*") != 0 && !topology_find_namespace(t, namespace))
			diag_error(d, x->line, path, "\"%s\": namespace \"%s\" is not declared", x->name, namespace);
		return;
	}
	/* What services, NodePorts and addresses mean is the plan's, which
	 * the check compiles them against. */
	case TB_KIND_SERVICE:
	case TB_KIND_NODEPORT:
	case TB_KIND_ADDRESS:
	/* A name is resolved by the probing pod's resolver, when it probes. */
	case TB_KIND_DNS:
		return;
	case TB_KIND_INGRESS: {
		bool served = false;
		for (size_t k = 0; k < t->n_ingresses && !served; k++)
			served = t->ingresses[k].served;
		if (!served)
			diag_error(d, x->line, path,
				   "\"%s\": the lab runs no ingress controller: no Ingress of class %s (or of the default "
				   "class) is declared",
				   x->name, TB_INGRESS_DEFAULT_CLASS);
		return;
	}
	case TB_KIND_POD:
	case TB_KIND_NODE:
	case TB_KIND_HOST:
	case TB_KIND_EXTERNAL:
		break;
	}
	size_t k;
	autofree char *why = NULL;
	switch (name_resolve(entries, names->count, x->name, &k, &why)) {
	case NAME_AMBIGUOUS:
		diag_error(d, x->line, path, "%s", why);
		return;
	case NAME_UNKNOWN:
		diag_error(d, x->line, path, "no pod, node, host or external machine is named \"%s\"", x->name);
		return;
	case NAME_FOUND:
		break;
	}
	const struct named *n = &names->items[k];
	x->kind = strcmp(n->kind, "pod") == 0		 ? TB_KIND_POD
		  : strcmp(n->kind, "node") == 0	 ? TB_KIND_NODE
		  : strcmp(n->kind, "external") == 0 ? TB_KIND_EXTERNAL
						     : TB_KIND_HOST;
}

static void object_error(struct diag *d, const struct tb_origin *o, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void object_error(struct diag *d, const struct tb_origin *o, const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	autofree char *why = xvasprintf(fmt, ap);
	va_end(ap);
	autofree char *where = xasprintf("%s: %s", o->what, path);
	diag_error_in(d, o->file, o->line, o->column, where, "%s", why);
}

static void add_note(struct tb_topology *t, struct diag *d, const struct tb_origin *o, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void add_note(struct tb_topology *t, struct diag *d, const struct tb_origin *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	autofree char *why = xvasprintf(fmt, ap);
	va_end(ap);
	t->notes = xrealloc(t->notes, (t->n_notes + 1) * sizeof(*t->notes));
	t->notes[t->n_notes++] = xasprintf("%s:%d:%d: %s: %s", o->file ? o->file : (d->file ? d->file : "topology"),
					   o->line, o->column, o->what, why);
}

/* NetworkPolicies: in declared namespaces, in a lab with nodes (they act
 * on pods). One that selects no pod is noted: it isolates nothing.
 * hostNetwork pods are not selected, as Kubernetes has it. */
static void check_policies(struct tb_topology *t, struct diag *d)
{
	for (size_t i = 0; i < t->n_policy_objects; i++) {
		const struct tb_policy *p = &t->policies[i];
		if (!topology_find_namespace(t, p->namespace)) {
			object_error(d, &p->origin, "metadata.namespace",
				     "namespace \"%s\" is not declared: add a Namespace object for it", p->namespace);
			continue;
		}
		if (t->n_nodes == 0) {
			object_error(d, &p->origin, "spec", "a NetworkPolicy needs nodes: the lab has no pods for it to select");
			continue;
		}
		size_t selected = 0;
		for (size_t n = 0; n < t->n_nodes; n++)
			for (size_t k = 0; k < t->nodes[n].n_pods; k++) {
				const struct tb_pod *pod = &t->nodes[n].pods[k];
				if (!pod->host_network && strcmp(pod->namespace, p->namespace) == 0 &&
				    label_selector_matches(&p->pod_selector, pod->labels, pod->n_labels))
					selected++;
			}
		if (!selected)
			add_note(t, d, &p->origin,
				 "spec.podSelector: selects no pod of namespace %s (hostNetwork pods are never selected): "
				 "the policy has no effect",
				 p->namespace);
	}
	/* Until the rule builder lands, say so rather than pretend. */
	if (t->n_policy_objects) {
		t->notes = xrealloc(t->notes, (t->n_notes + 1) * sizeof(*t->notes));
		t->notes[t->n_notes++] = xstrdup(TB_POLICIES_NOT_ENFORCED);
	}
}

/* What an address outside the cluster may not be: 0.0.0.0/8, loopback,
 * link-local, multicast and above; none is a host a route can lead to. */
static const char *not_a_host(uint32_t a)
{
	uint8_t top = (uint8_t)(a >> 24);
	if (top == 0)
		return "in 0.0.0.0/8, which names no host";
	if (top == 127)
		return "a loopback address";
	if ((a >> 16) == 0xA9FE)
		return "link-local (169.254.0.0/16), which no router forwards";
	if (top >= 224)
		return "multicast or reserved (224.0.0.0/3), not one host's";
	return NULL;
}

/* The cluster's ranges and the lab's host networks, where no address
 * outside the cluster may lie: the lab routes those ranges itself. */
static const char *inside_range(const struct tb_topology *t, uint32_t a, struct ipv4_prefix *range)
{
	const struct tb_cluster *c = &t->cluster;
	const struct {
		const char *name;
		struct ipv4_prefix prefix;
	} ranges[] = {{"cluster.podCIDR", c->pod_cidr}, {"cluster.serviceCIDR", c->service_cidr},
		      {"cluster.underlay", c->underlay}};
	for (size_t i = 0; i < ARRAY_SIZE(ranges); i++)
		if (ipv4_contains(ranges[i].prefix, a)) {
			*range = ranges[i].prefix;
			return ranges[i].name;
		}
	for (size_t i = 0; i < t->n_hosts; i++)
		for (size_t j = 0; j < t->hosts[i].n_ifaces; j++)
			if (ipv4_contains(t->hosts[i].ifaces[j].address, a)) {
				*range = t->hosts[i].ifaces[j].address;
				return "a host's network";
			}
	for (size_t i = 0; i < t->n_bridges; i++)
		if (t->bridges[i].has_address && ipv4_contains(t->bridges[i].address, a)) {
			*range = t->bridges[i].address;
			return "a bridge's network";
		}
	return NULL;
}

/* External machines' given addresses, and Services' external and
 * load-balancer IPs (which the gateway routes to the nodes): hosts'
 * addresses, outside every range the lab routes itself, each once. */
static void check_outside_addresses(const struct tb_topology *t, struct diag *d)
{
	char a[IPV4_PREFIX_STRLEN], r[IPV4_PREFIX_STRLEN];
	struct ipv4_prefix range;
	for (size_t i = 0; i < t->n_externals; i++) {
		const struct tb_external *x = &t->externals[i];
		if (!x->address_given)
			continue;
		autofree char *path = xasprintf("external[%zu].address", i);
		const char *why = not_a_host(x->address), *inside = why ? NULL : inside_range(t, x->address, &range);
		if (why)
			diag_error(d, x->line, path, "%s is %s", ipv4_addr_format(x->address, a), why);
		else if (inside)
			diag_error(d, x->line, path, "%s lies in %s %s: outside the cluster means outside its ranges",
				   ipv4_addr_format(x->address, a), inside, ipv4_prefix_format(range, r));
		for (size_t k = 0; k < i; k++)
			if (t->externals[k].address_given && t->externals[k].address == x->address) {
				diag_error(d, x->line, path, "%s is external[%zu]'s already", ipv4_addr_format(x->address, a),
					   k);
				break;
			}
	}
	for (size_t i = 0; i < t->n_services_objects; i++) {
		const struct tb_service *s = &t->services[i];
		for (size_t k = 0; k < s->n_external_ips + s->n_load_balancer_ips; k++) {
			bool lb = k >= s->n_external_ips;
			uint32_t ip = lb ? s->load_balancer_ips[k - s->n_external_ips] : s->external_ips[k];
			autofree char *path = lb ? xasprintf("status.loadBalancer.ingress[%zu].ip", k - s->n_external_ips)
						 : xasprintf("spec.externalIPs[%zu]", k);
			autofree char *why_text = NULL;
			const char *why = not_a_host(ip), *inside = why ? NULL : inside_range(t, ip, &range);
			if (why)
				why_text = xasprintf("%s is %s", ipv4_addr_format(ip, a), why);
			else if (inside)
				why_text = xasprintf("%s lies in %s %s: the gateway routes this address to the nodes, so it must "
						     "lie outside the ranges the lab routes itself",
						     ipv4_addr_format(ip, a), inside, ipv4_prefix_format(range, r));
			for (size_t m = 0; !why && !inside && !why_text && m < t->n_externals; m++)
				if (t->externals[m].address == ip)
					why_text = xasprintf("%s is external machine %s's address", ipv4_addr_format(ip, a),
							     t->externals[m].name);
			/* The ingress controller's address is the topology's own setting. */
			if (why_text && lb && s->load_balancer_ip_key)
				diag_error(d, s->origin.line, s->load_balancer_ip_key, "%s", why_text);
			else if (why_text)
				object_error(d, &s->origin, path, "%s", why_text);
		}
	}
}

/* Services and their EndpointSlices: in declared namespaces, in a lab
 * with nodes; a slice for a Service of its namespace, on a node the lab
 * has. kube-proxy takes every slice of a Service, whoever made it; the
 * EndpointSlice controller's own for a Service with a selector is what
 * testbed computes from the pods, so a copy of one (from a cluster's
 * dump) is noted and not used. */
static void check_services(struct tb_topology *t, struct diag *d)
{
	for (size_t i = 0; i < t->n_services_objects; i++) {
		const struct tb_service *s = &t->services[i];
		if (!topology_find_namespace(t, s->namespace))
			object_error(d, &s->origin, "metadata.namespace",
				     "namespace \"%s\" is not declared: add a Namespace object for it", s->namespace);
		if (t->n_nodes == 0)
			object_error(d, &s->origin, "spec", "a Service needs nodes: the lab has none to run kube-proxy on");
	}
	for (size_t i = 0; i < t->n_slices; i++) {
		const struct tb_endpoint_slice *es = &t->slices[i];
		if (!es->service)
			continue;
		const struct tb_service *s = NULL;
		for (size_t k = 0; k < t->n_services_objects && !s; k++)
			if (strcmp(t->services[k].name, es->service) == 0 &&
			    strcmp(t->services[k].namespace, es->namespace) == 0)
				s = &t->services[k];
		if (!s)
			object_error(d, &es->origin, "metadata.labels.kubernetes.io/service-name",
				     "no Service \"%s\" in namespace %s", es->service, es->namespace);
		else if (s->has_selector && es->controller_managed) {
			t->notes = xrealloc(t->notes, (t->n_notes + 1) * sizeof(*t->notes));
			t->notes[t->n_notes++] = xasprintf(
				"%s:%d:%d: %s: made by the EndpointSlice controller for Service %s/%s, which has a "
				"selector: testbed computes that slice from the selector and the pods, and does not use this "
				"copy",
				es->origin.file ? es->origin.file : (d->file ? d->file : "topology"), es->origin.line,
				es->origin.column,
				es->origin.what, s->namespace, s->name);
		}
		for (size_t k = 0; k < es->n_endpoints; k++) {
			const char *node = es->endpoints[k].node_name;
			bool found = !node;
			for (size_t n = 0; node && n < t->n_nodes; n++)
				found |= strcmp(t->nodes[n].name, node) == 0;
			if (!found) {
				autofree char *at = xasprintf("endpoints[%zu].nodeName", k);
				object_error(d, &es->origin, at, "the lab has no node \"%s\"", node);
			}
		}
	}
}

bool validate_topology(struct tb_topology *t, struct diag *d)
{
	size_t errors = d->count;
	struct names names = {0};
	for (size_t i = 0; i < t->n_hosts; i++)
		names_add(&names, d, t->hosts[i].name, NULL, xasprintf("hosts[%zu]", i), "host", i,
			  &(struct tb_origin){.line = t->hosts[i].name_line});
	for (size_t i = 0; i < t->n_nodes; i++) {
		const struct tb_node *n = &t->nodes[i];
		names_add(&names, d, n->name, NULL, xasprintf("nodes[%zu]", i), "node", i,
			  &(struct tb_origin){.line = n->name_line});
		for (size_t j = 0; j < n->n_pods; j++) {
			const struct tb_pod *pod = &n->pods[j];
			char *pod_path = pod->origin.what ? xasprintf("%s, pod %s", pod->origin.what, pod->name)
							  : xasprintf("nodes[%zu].pods[%zu]", i, j);
			names_add(&names, d, pod->name, pod->namespace, pod_path, "pod", j,
				  pod->origin.what ? &pod->origin : &(struct tb_origin){.line = pod->name_line});
			if (!topology_find_namespace(t, pod->namespace)) {
				autofree char *where = pod->origin.what ? xasprintf("%s: metadata.namespace", pod->origin.what)
									: xasprintf("nodes[%zu].pods[%zu].namespace", i, j);
				diag_error_in(d, pod->origin.file, pod->origin.what ? pod->origin.line : pod->namespace_line,
					      pod->origin.column, where,
					   "namespace \"%s\" is not declared: add a Namespace object for it (\"objects\" or "
					   "\"manifests\")",
					   pod->namespace);
			}
		}
	}
	for (size_t i = 0; i < t->n_externals; i++) {
		const struct named *taken = names_clash(&names, t->externals[i].name, NULL);
		/* The default internet the user did not write: the clash is theirs to see at their machine. */
		if (!t->externals_given && taken) {
			autofree char *at = strchr(taken->path, ' ') ? xstrdup(taken->path)
								      : xasprintf("%s.name", taken->path);
			diag_error(d, 0, at,
				   "\"%s\" is the name of the lab's default external machine (the lab's internet, "
				   "there when \"external\" is not given): rename this one, or list \"external\" yourself",
				   t->externals[i].name);
			continue;
		}
		names_add(&names, d, t->externals[i].name, NULL, xasprintf("external[%zu]", i), "external", i,
			  &(struct tb_origin){.line = t->externals[i].line});
	}
	check_bridge_names(t, d);
	check_images(t, d);
	check_links(t, d, &names);
	check_addresses(t, d);
	check_services(t, d);
	check_policies(t, d);
	check_outside_addresses(t, d);
	struct name_entry *entries = xcalloc(names.count + 1, sizeof(*entries));
	for (size_t i = 0; i < names.count; i++)
		entries[i] = (struct name_entry){names.items[i].name, names.items[i].namespace};
	for (size_t i = 0; i < t->n_expects; i++) {
		struct tb_expect *x = &t->expects[i];
		resolve_target(t, d, &names, entries, &x->from, i, "from");
		resolve_target(t, d, &names, entries, &x->to, i, "to");
	}
	free(entries);
	names_free(&names);
	return d->count == errors;
}
