/* Cluster DNS in the model: see cluster_dns.h. */
#define _GNU_SOURCE
#include "model/cluster_dns.h"

#include <stdio.h>
#include <string.h>

#include "util/diag.h"
#include "util/ipv4.h"
#include "util/util.h"

static const char *label_of(const struct tb_label *labels, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(labels[i].key, key) == 0)
			return labels[i].value;
	return NULL;
}

static void object_error(struct diag *d, const struct tb_origin *o, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void object_error(struct diag *d, const struct tb_origin *o, const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	autofree char *why = xvasprintf(fmt, ap);
	va_end(ap);
	autofree char *where = o->what ? xasprintf("%s: %s", o->what, path) : xstrdup(path);
	diag_error_in(d, o->file, o->line, o->column, where, "%s", why);
}

#define OFF_HINT "; or turn cluster DNS off (\"cluster\": {\"dns\": false})"

/* Nothing the user declared may stand where cluster DNS does. */
static void check_clashes(const struct tb_topology *t, struct diag *d, uint32_t address)
{
	char a[IPV4_PREFIX_STRLEN];
	ipv4_addr_format(address, a);
	for (size_t i = 0; i < t->n_services_objects; i++) {
		const struct tb_service *s = &t->services[i];
		if (strcmp(s->namespace, TB_DNS_NAMESPACE) == 0 && strcmp(s->name, TB_DNS_SERVICE) == 0)
			object_error(d, &s->origin, "metadata.name",
				     "Service " TB_DNS_NAMESPACE "/" TB_DNS_SERVICE " is the lab's cluster DNS, which "
				     "testbed makes itself: name yours otherwise" OFF_HINT);
		else if (s->cluster_ip_given && s->cluster_ip == address)
			object_error(d, &s->origin, "spec.clusterIP",
				     "%s is cluster DNS's (Service " TB_DNS_NAMESPACE "/" TB_DNS_SERVICE ", the tenth "
				     "address of cluster.serviceCIDR): give another" OFF_HINT, a);
	}
	for (size_t i = 0; i < t->n_slices; i++) {
		const struct tb_endpoint_slice *es = &t->slices[i];
		if (strcmp(es->namespace, TB_DNS_NAMESPACE) == 0 && es->service && strcmp(es->service, TB_DNS_SERVICE) == 0)
			object_error(d, &es->origin, "metadata.labels",
				     "an EndpointSlice for Service " TB_DNS_NAMESPACE "/" TB_DNS_SERVICE ", which is the "
				     "lab's cluster DNS: its endpoint is testbed's DNS pod" OFF_HINT);
	}
	for (size_t i = 0; i < t->n_nodes; i++)
		for (size_t j = 0; j < t->nodes[i].n_pods; j++) {
			const struct tb_pod *pod = &t->nodes[i].pods[j];
			if (strcmp(pod->namespace, TB_DNS_NAMESPACE) != 0)
				continue;
			autofree char *inline_path = xasprintf("nodes[%zu].pods[%zu]", i, j);
			struct tb_origin o = pod->origin.what ? pod->origin
							      : (struct tb_origin){NULL, pod->line, 0, inline_path};
			const char *app = label_of(pod->labels, pod->n_labels, TB_DNS_LABEL_KEY);
			if (strcmp(pod->name, TB_DNS_POD) == 0)
				object_error(d, &o, "metadata.name",
					     "pod " TB_DNS_NAMESPACE "/" TB_DNS_POD " is the lab's cluster DNS server, "
					     "which testbed runs itself: name yours otherwise" OFF_HINT);
			else if (app && strcmp(app, TB_DNS_LABEL_VALUE) == 0)
				object_error(d, &o, "metadata.labels",
					     "pod %s/%s has label " TB_DNS_LABEL_KEY ": " TB_DNS_LABEL_VALUE ", so it would "
					     "answer for cluster DNS (Service " TB_DNS_NAMESPACE "/" TB_DNS_SERVICE "): label "
					     "it otherwise" OFF_HINT, pod->namespace, pod->name);
		}
}

static void add_namespace(struct tb_topology *t)
{
	if (topology_find_namespace(t, TB_DNS_NAMESPACE))
		return;
	t->namespaces = xrealloc(t->namespaces, (t->n_namespaces + 1) * sizeof(*t->namespaces));
	struct tb_namespace *ns = &t->namespaces[t->n_namespaces++];
	*ns = (struct tb_namespace){.name = xstrdup(TB_DNS_NAMESPACE), .labels = xcalloc(1, sizeof(*ns->labels)),
				    .n_labels = 1};
	ns->labels[0] = (struct tb_label){xstrdup(TB_LABEL_NAMESPACE_NAME), xstrdup(TB_DNS_NAMESPACE)};
}

static struct tb_port *dns_ports(void)
{
	struct tb_port *ports = xcalloc(2, sizeof(*ports));
	ports[0] = (struct tb_port){xstrdup("dns"), 53, TB_PROTOCOL_UDP};
	ports[1] = (struct tb_port){xstrdup("dns-tcp"), 53, TB_PROTOCOL_TCP};
	return ports;
}

static void add_pod(struct tb_topology *t)
{
	struct tb_node *n = &t->nodes[0];
	n->pods = xrealloc(n->pods, (n->n_pods + 1) * sizeof(*n->pods));
	struct tb_pod *pod = &n->pods[n->n_pods++];
	/* dnsmasq in the foreground (up watches it), with the configuration
	 * plan/plan_dns.c writes into its root. --no-daemon, not
	 * --keep-in-foreground: it also keeps dnsmasq from changing its user
	 * and groups, which a pod, without CAP_SETUID and CAP_SETGID, may not. */
	static const char *const argv[] = {"/usr/sbin/dnsmasq", "--no-daemon", "--conf-file=" TB_DNS_CONFIG};
	char **command = xcalloc(ARRAY_SIZE(argv) + 1, sizeof(*command));
	for (size_t i = 0; i < ARRAY_SIZE(argv); i++)
		command[i] = xstrdup(argv[i]);
	*pod = (struct tb_pod){
		.name = xstrdup(TB_DNS_POD),
		.namespace = xstrdup(TB_DNS_NAMESPACE),
		.image = xstrdup("pod"),
		.labels = xcalloc(1, sizeof(*pod->labels)),
		.n_labels = 1,
		.ports = dns_ports(),
		.n_ports = 2,
		.disk = TB_DEFAULT_DISK,
		.command = command,
		.n_command = ARRAY_SIZE(argv),
		/* kubeadm's CoreDNS runs with dnsPolicy Default: it does not
		 * ask itself. */
		.dns_policy = TB_DNS_DEFAULT,
		.origin = {NULL, t->cluster.line, 0, xstrdup("cluster DNS (pod " TB_DNS_NAMESPACE "/" TB_DNS_POD ")")},
		.line = t->cluster.line,
	};
	pod->labels[0] = (struct tb_label){xstrdup(TB_DNS_LABEL_KEY), xstrdup(TB_DNS_LABEL_VALUE)};
	t->n_pods++;
}

static void add_service(struct tb_topology *t, uint32_t address)
{
	t->services = xrealloc(t->services, (t->n_services_objects + 1) * sizeof(*t->services));
	struct tb_service *s = &t->services[t->n_services_objects++];
	*s = (struct tb_service){
		.name = xstrdup(TB_DNS_SERVICE),
		.namespace = xstrdup(TB_DNS_NAMESPACE),
		.type = TB_SERVICE_CLUSTER_IP,
		.has_selector = true,
		.selector = xcalloc(1, sizeof(*s->selector)),
		.n_selector = 1,
		.cluster_ip = address,
		.cluster_ip_given = true,
		.ports = xcalloc(2, sizeof(*s->ports)),
		.n_ports = 2,
		.affinity_timeout = 10800,
		.origin = {NULL, t->cluster.line, 0, xstrdup("Service " TB_DNS_NAMESPACE "/" TB_DNS_SERVICE)},
	};
	s->selector[0] = (struct tb_label){xstrdup(TB_DNS_LABEL_KEY), xstrdup(TB_DNS_LABEL_VALUE)};
	s->ports[0] = (struct tb_service_port){.name = xstrdup("dns"), .protocol = TB_PROTOCOL_UDP, .port = 53,
					       .target_port = 53};
	s->ports[1] = (struct tb_service_port){.name = xstrdup("dns-tcp"), .protocol = TB_PROTOCOL_TCP, .port = 53,
					       .target_port = 53};
}

bool cluster_dns_add(struct tb_topology *t, struct diag *d)
{
	const struct tb_cluster *c = &t->cluster;
	if (c->dns == TB_CLUSTER_DNS_ON && t->n_nodes == 0) {
		diag_error(d, c->dns_line, "cluster.dns", "cluster DNS runs in a pod: the lab needs nodes");
		return false;
	}
	bool on = t->n_nodes > 0 && (c->dns == TB_CLUSTER_DNS_ON ||
				     (c->dns == TB_CLUSTER_DNS_AUTO && (t->n_services_objects > 0 || t->n_ingresses > 0)));
	if (!on)
		return true;
	size_t errors = d->count;
	char r[IPV4_PREFIX_STRLEN];
	if (ipv4_usable_count(c->service_cidr) < 10) {
		diag_error(d, c->service_cidr_line, "cluster.serviceCIDR",
			   "%s has fewer than 10 addresses: cluster DNS takes the tenth",
			   ipv4_prefix_format(c->service_cidr, r));
		return false;
	}
	uint32_t address = ipv4_usable_nth(c->service_cidr, 9);
	check_clashes(t, d, address);
	if (d->count != errors)
		return false;
	add_namespace(t);
	add_pod(t);
	add_service(t, address);
	t->dns_address = address;
	return true;
}
