/* Services and EndpointSlices as objects (k8s_object.h): the fields
 * kube-proxy acts on are used, checked as the API server checks them;
 * the others are stood in for or refused, naming them. */
#define _GNU_SOURCE
#include <string.h>

#include "model/k8s_object.h"
#include "model/ports.h"
#include "util/diag.h"
#include "util/ipv4.h"
#include "util/util.h"

static const char *const service_used[] = {"selector", "ports", "type", "clusterIP", "clusterIPs", "externalIPs",
					   "sessionAffinity", "sessionAffinityConfig", "externalTrafficPolicy",
					   "internalTrafficPolicy", "loadBalancerSourceRanges", "publishNotReadyAddresses",
					   "allocateLoadBalancerNodePorts", "ipFamilies", "ipFamilyPolicy", "externalName", NULL};
static const char *const service_stood_in[] = {"healthCheckNodePort", "loadBalancerClass", NULL};
static const struct refused service_refused[] = {
	{"loadBalancerIP", "deprecated by Kubernetes: give the address in status.loadBalancer.ingress"},
	{"trafficDistribution", "topology-aware routing is not built"},
	{NULL, NULL},
};
static const struct fields service_fields = {service_used, service_stood_in, service_refused};

static const char *const service_port_used[] = {"name", "protocol", "port", "targetPort", "nodePort", NULL};
static const char *const service_port_stood_in[] = {"appProtocol", NULL};
static const struct fields service_port_fields = {service_port_used, service_port_stood_in, NULL};

static const char *const slice_endpoint_used[] = {"addresses", "conditions", "nodeName", "hostname", NULL};
static const char *const slice_endpoint_stood_in[] = {"zone", "hints", "targetRef", "deprecatedTopology", NULL};
static const struct fields slice_endpoint_fields = {slice_endpoint_used, slice_endpoint_stood_in, NULL};
static const char *const conditions_used[] = {"ready", "serving", "terminating", NULL};
static const struct fields conditions_fields = {conditions_used, NULL, NULL};
static const char *const slice_port_used[] = {"name", "protocol", "port", NULL};
static const char *const slice_port_stood_in[] = {"appProtocol", NULL};
static const struct fields slice_port_fields = {slice_port_used, slice_port_stood_in, NULL};

#define SLICE_MANAGED_BY "endpointslice.kubernetes.io/managed-by"
#define SLICE_CONTROLLER "endpointslice-controller.k8s.io"
#define DEFAULT_AFFINITY_TIMEOUT 10800 /* seconds: three hours, Kubernetes' default */

static bool read_address(struct object *x, const cJSON *item, const char *path, uint32_t *addr)
{
	const char *text = docwalk_string(x->w, item, path, "an IPv4 address");
	if (!text)
		return false;
	if (!ipv4_addr_parse(text, addr)) {
		docwalk_error(x->w, item, path, "\"%s\" is not an IPv4 address (testbed's labs are IPv4)", text);
		return false;
	}
	return true;
}

static void read_addresses(struct object *x, const cJSON *list, const char *path, uint32_t **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!docwalk_array(x->w, list, path, "an array of IPv4 addresses"))
		return;
	*out = xcalloc((size_t)cJSON_GetArraySize(list) + 1, sizeof(**out));
	size_t i = 0;
	for (const cJSON *a = list->child; a; a = a->next, i++) {
		autofree char *at = docwalk_path_index(path, i);
		if (read_address(x, a, at, &(*out)[*n]))
			(*n)++;
	}
}

/* A port's protocol: TCP by default; SCTP refused (no SCTP in this kernel). */
static enum tb_protocol read_protocol(struct object *x, const cJSON *obj, const char *path, int port)
{
	const cJSON *item = k8s_field(obj, "protocol");
	enum tb_protocol p = TB_PROTOCOL_TCP;
	if (!item)
		return p;
	autofree char *at = k8s_path(path, "protocol");
	const char *text = docwalk_string(x->w, item, at, "\"TCP\", \"UDP\" or \"SCTP\"");
	if (text && !tb_protocol_parse(text, &p))
		docwalk_error(x->w, item, at, "\"%s\" is not TCP, UDP or SCTP", text);
	else if (text && p == TB_PROTOCOL_SCTP)
		docwalk_error(x->w, item, at, "port %d/SCTP: this machine's kernel has no SCTP, so no packet of it can pass",
			      port);
	return p;
}

static void read_service_ports(struct object *x, const cJSON *spec, struct tb_service *s)
{
	const cJSON *ports = k8s_field(spec, "ports");
	if (!ports) {
		if (!s->headless && s->type != TB_SERVICE_EXTERNAL_NAME)
			docwalk_error(x->w, spec, "spec.ports", "a Service needs at least one port (a headless or ExternalName one may have none)");
		return;
	}
	if (!docwalk_array(x->w, ports, "spec.ports", "an array of ports"))
		return;
	size_t n = (size_t)cJSON_GetArraySize(ports), i = 0;
	s->ports = xcalloc(n + 1, sizeof(*s->ports));
	for (const cJSON *p = ports->child; p; p = p->next, i++) {
		autofree char *at = docwalk_path_index("spec.ports", i);
		if (!docwalk_object(x->w, p, at, "a port ({name, protocol, port, targetPort, nodePort})"))
			continue;
		k8s_check_fields(x, p, at, &service_port_fields);
		struct tb_service_port sp = {0};
		const cJSON *port = docwalk_member(x->w, p, at, "port", true);
		autofree char *port_at = k8s_path(at, "port");
		if (port)
			docwalk_int(x->w, port, port_at, 1, 65535, "a port number", "a port", &sp.port);
		sp.protocol = read_protocol(x, p, at, sp.port);
		const cJSON *name = k8s_field(p, "name");
		autofree char *name_at = k8s_path(at, "name");
		const char *text = name ? docwalk_string(x->w, name, name_at, "a port name") : NULL;
		/* A Service's port name is a DNS label (ValidateDNS1123Label), not
		 * a container port's IANA name: upstream's own e2e model names
		 * them service-port-tcp-80. */
		if (text && !docwalk_is_dns_label(text))
			docwalk_error(x->w, name, name_at,
				      "\"%s\" is not a Service port name: a DNS label, 1-63 of a-z, 0-9 and '-', "
				      "a letter or digit at both ends",
				      text);
		sp.name = xstrdup(text ? text : "");
		if (n > 1 && !sp.name[0])
			docwalk_error(x->w, p, at, "a Service of several ports names each of them");
		const cJSON *target = k8s_field(p, "targetPort");
		autofree char *target_at = k8s_path(at, "targetPort");
		sp.target_port = sp.port;
		if (target && cJSON_IsString(target)) {
			/* A number in a string is the number, as intstr parses it. */
			char *end;
			long number = strtol(target->valuestring, &end, 10);
			if (*target->valuestring && !*end && number >= 1 && number <= 65535) {
				sp.target_port = (int)number;
			} else if (ports_is_name(target->valuestring)) {
				sp.target_port = 0;
				sp.target_port_name = xstrdup(target->valuestring);
			} else {
				docwalk_error(x->w, target, target_at, "\"%s\" is neither a port number nor a port's name",
					      target->valuestring);
			}
		} else if (target) {
			docwalk_int(x->w, target, target_at, 1, 65535, "a port number or a port's name", "a port",
				    &sp.target_port);
		}
		const cJSON *node_port = k8s_field(p, "nodePort");
		if (node_port) {
			autofree char *np_at = k8s_path(at, "nodePort");
			if (s->type == TB_SERVICE_CLUSTER_IP)
				docwalk_error(x->w, node_port, np_at, "only a NodePort or LoadBalancer Service has node ports");
			else
				docwalk_int(x->w, node_port, np_at, 1, 65535, "a port number", "a port", &sp.node_port);
		}
		for (size_t k = 0; k < s->n_ports; k++) {
			if (s->ports[k].port == sp.port && s->ports[k].protocol == sp.protocol)
				docwalk_error(x->w, p, at, "port %d/%s is given twice", sp.port, tb_protocol_name(sp.protocol));
			else if (sp.name[0] && strcmp(s->ports[k].name, sp.name) == 0)
				docwalk_error(x->w, p, at, "port name \"%s\" is given twice", sp.name);
		}
		s->ports[s->n_ports++] = sp;
	}
}

static int read_choice(struct object *x, const cJSON *spec, const char *key, const char *const *choices, int fallback)
{
	const cJSON *item = k8s_field(spec, key);
	if (!item)
		return fallback;
	autofree char *at = k8s_path("spec", key);
	int i = docwalk_choice(x->w, item, at, choices);
	return i < 0 ? fallback : i;
}

void k8s_read_service(struct object *x, const cJSON *spec, const char *namespace, const char *name)
{
	struct tb_topology *t = x->o->t;
	struct tb_service s = {
		.name = xstrdup(name),
		.namespace = xstrdup(namespace),
		.affinity_timeout = DEFAULT_AFFINITY_TIMEOUT,
		.allocate_node_ports = true,
		.origin = {.file = x->file,
			   .line = docwalk_line(x->w, x->item),
			   .column = docwalk_column(x->w, x->item),
			   .what = xstrdup(x->what)},
	};
	if (!spec) {
		docwalk_error(x->w, x->item, "spec", "a Service needs a spec (ports, selector)");
		goto add;
	}
	k8s_check_fields(x, spec, "spec", &service_fields);
	static const char *const types[] = {"ClusterIP", "NodePort", "LoadBalancer", "ExternalName", NULL};
	int type = read_choice(x, spec, "type", types, 0);
	s.type = (enum tb_service_type)type;
	/* ExternalName: a name in cluster DNS (a CNAME), as the API server
	 * validates it: required, a DNS subdomain (a trailing dot allowed),
	 * without a cluster IP; only that type has one. */
	const cJSON *external_name = k8s_field(spec, "externalName");
	const char *target = external_name ? docwalk_string(x->w, external_name, "spec.externalName", "a DNS name") : NULL;
	if (type == TB_SERVICE_EXTERNAL_NAME && !external_name)
		docwalk_error(x->w, spec, "spec.externalName", "type ExternalName needs the name it stands for");
	else if (external_name && type != TB_SERVICE_EXTERNAL_NAME)
		docwalk_error(x->w, external_name, "spec.externalName", "only a Service of type ExternalName has one");
	else if (target) {
		autofree char *bare = xstrdup(target);
		size_t n = strlen(bare);
		if (n > 1 && bare[n - 1] == '.')
			bare[n - 1] = '\0';
		if (!topology_is_dns_subdomain(bare))
			docwalk_error(x->w, external_name, "spec.externalName",
				      "\"%s\" is not a DNS name (lowercase labels joined by dots)", target);
		else
			s.external_name = xstrdup(target);
	}
	const cJSON *cluster_ip = k8s_field(spec, "clusterIP");
	if (type == TB_SERVICE_EXTERNAL_NAME && (cluster_ip || k8s_field(spec, "clusterIPs")) &&
	    !(cJSON_IsString(cluster_ip) && !*cluster_ip->valuestring))
		docwalk_error(x->w, cluster_ip ? cluster_ip : k8s_field(spec, "clusterIPs"), "spec.clusterIP",
			      "an ExternalName Service has no cluster IP");
	if (cluster_ip) {
		if (cJSON_IsString(cluster_ip) && strcmp(cluster_ip->valuestring, "None") == 0)
			s.headless = true;
		else if (cJSON_IsString(cluster_ip) && !*cluster_ip->valuestring)
			; /* "": allocate one, as the API server does */
		else
			s.cluster_ip_given = read_address(x, cluster_ip, "spec.clusterIP", &s.cluster_ip);
	}
	const cJSON *cluster_ips = k8s_field(spec, "clusterIPs");
	if (cluster_ips && docwalk_array(x->w, cluster_ips, "spec.clusterIPs", "an array of addresses")) {
		/* IPv4 single stack: the one address, the same as clusterIP. */
		const cJSON *first = cluster_ips->child;
		const char *given = cluster_ip && cJSON_IsString(cluster_ip) ? cluster_ip->valuestring : NULL;
		if (cJSON_GetArraySize(cluster_ips) > 1 || (first && !cJSON_IsString(first)) ||
		    (first && given && strcmp(first->valuestring, given) != 0))
			docwalk_error(x->w, cluster_ips, "spec.clusterIPs",
				      "testbed's services are IPv4 only: one address, the same as spec.clusterIP");
		else if (first && !given) {
			if (strcmp(first->valuestring, "None") == 0)
				s.headless = true;
			else
				s.cluster_ip_given = read_address(x, first, "spec.clusterIPs[0]", &s.cluster_ip);
		}
	}
	if (s.headless && s.type != TB_SERVICE_CLUSTER_IP && s.type != TB_SERVICE_EXTERNAL_NAME)
		docwalk_error(x->w, cluster_ip, "spec.clusterIP", "a headless Service (clusterIP None) is of type ClusterIP");
	const cJSON *families = k8s_field(spec, "ipFamilies");
	if (families && docwalk_array(x->w, families, "spec.ipFamilies", "an array of IP families"))
		for (const cJSON *f = families->child; f; f = f->next)
			if (!cJSON_IsString(f) || strcmp(f->valuestring, "IPv4") != 0)
				docwalk_error(x->w, f, "spec.ipFamilies", "not implemented: testbed's labs are IPv4 only");
	static const char *const policies[] = {"SingleStack", "PreferDualStack", "RequireDualStack", NULL};
	if (read_choice(x, spec, "ipFamilyPolicy", policies, 0) == 2)
		docwalk_error(x->w, k8s_field(spec, "ipFamilyPolicy"), "spec.ipFamilyPolicy",
			      "not implemented: testbed's labs are IPv4 only");
	const cJSON *selector = k8s_field(spec, "selector");
	if (selector) {
		k8s_read_labels(x, selector, "spec.selector", &s.selector, &s.n_selector);
		/* The API server stores an empty selector as none: such a
		 * Service takes its endpoints from EndpointSlices, not every pod. */
		s.has_selector = s.n_selector > 0;
	}
	read_service_ports(x, spec, &s);
	const cJSON *external = k8s_field(spec, "externalIPs");
	if (external)
		read_addresses(x, external, "spec.externalIPs", &s.external_ips, &s.n_external_ips);
	static const char *const affinities[] = {"None", "ClientIP", NULL};
	s.affinity = read_choice(x, spec, "sessionAffinity", affinities, 0) == 1;
	const cJSON *config = k8s_field(spec, "sessionAffinityConfig");
	if (config && docwalk_object(x->w, config, "spec.sessionAffinityConfig", "an object ({clientIP})")) {
		static const char *const config_keys[] = {"clientIP", NULL};
		docwalk_check_keys(x->w, config, "spec.sessionAffinityConfig", config_keys);
		const cJSON *client = k8s_field(config, "clientIP");
		if (client && docwalk_object(x->w, client, "spec.sessionAffinityConfig.clientIP",
					     "an object ({timeoutSeconds})")) {
			static const char *const client_keys[] = {"timeoutSeconds", NULL};
			docwalk_check_keys(x->w, client, "spec.sessionAffinityConfig.clientIP", client_keys);
			const cJSON *timeout = k8s_field(client, "timeoutSeconds");
			if (timeout)
				docwalk_int(x->w, timeout, "spec.sessionAffinityConfig.clientIP.timeoutSeconds", 1, 86400,
					    "a number of seconds", "a timeout (1 to 86400 seconds)", &s.affinity_timeout);
		}
	}
	static const char *const traffic[] = {"Cluster", "Local", NULL};
	s.external_local = read_choice(x, spec, "externalTrafficPolicy", traffic, 0) == 1;
	if (k8s_field(spec, "externalTrafficPolicy") && s.type == TB_SERVICE_CLUSTER_IP && !s.n_external_ips)
		docwalk_error(x->w, k8s_field(spec, "externalTrafficPolicy"), "spec.externalTrafficPolicy",
			      "only a NodePort or LoadBalancer Service, or one with externalIPs, has external traffic");
	s.internal_local = read_choice(x, spec, "internalTrafficPolicy", traffic, 0) == 1;
	const cJSON *ranges = k8s_field(spec, "loadBalancerSourceRanges");
	if (ranges && docwalk_array(x->w, ranges, "spec.loadBalancerSourceRanges", "an array of CIDRs")) {
		s.source_ranges = xcalloc((size_t)cJSON_GetArraySize(ranges) + 1, sizeof(*s.source_ranges));
		size_t i = 0;
		for (const cJSON *r = ranges->child; r; r = r->next, i++) {
			autofree char *at = docwalk_path_index("spec.loadBalancerSourceRanges", i);
			const char *given = docwalk_string(x->w, r, at, "a CIDR");
			/* The API server takes these space-padded (strings.TrimSpace,
			 * a leftover of the annotation they replaced), and kube-proxy
			 * uses them trimmed. */
			autofree char *text = NULL;
			if (given) {
				size_t start = strspn(given, " \t\n\v\f\r"), end = strlen(given);
				while (end > start && strchr(" \t\n\v\f\r", given[end - 1]))
					end--;
				text = xasprintf("%.*s", (int)(end - start), given + start);
			}
			const char *why = NULL;
			struct ipv4_prefix prefix;
			if (text && (!strchr(text, '/') || !ipv4_prefix_parse(text, &prefix, &why)))
				docwalk_error(x->w, r, at, "\"%s\" is not an IPv4 CIDR%s%s", given, why ? ": " : "",
					      why ? why : "");
			else if (text)
				s.source_ranges[s.n_source_ranges++] = prefix;
		}
	}
	const cJSON *publish = k8s_field(spec, "publishNotReadyAddresses");
	if (publish)
		docwalk_bool(x->w, publish, "spec.publishNotReadyAddresses", &s.publish_not_ready);
	const cJSON *allocate = k8s_field(spec, "allocateLoadBalancerNodePorts");
	if (allocate)
		docwalk_bool(x->w, allocate, "spec.allocateLoadBalancerNodePorts", &s.allocate_node_ports);
	/* The load balancer's address, as the cloud's controller writes it back. */
	const cJSON *status = k8s_field(x->item, "status");
	const cJSON *lb = status ? k8s_field(status, "loadBalancer") : NULL;
	const cJSON *ingress = lb ? k8s_field(lb, "ingress") : NULL;
	if (ingress && docwalk_array(x->w, ingress, "status.loadBalancer.ingress", "an array of {ip}")) {
		s.load_balancer_ips = xcalloc((size_t)cJSON_GetArraySize(ingress) + 1, sizeof(*s.load_balancer_ips));
		size_t i = 0;
		for (const cJSON *in = ingress->child; in; in = in->next, i++) {
			autofree char *at = docwalk_path_index("status.loadBalancer.ingress", i);
			if (!docwalk_object(x->w, in, at, "an object ({ip})"))
				continue;
			static const char *const ingress_keys[] = {"ip", "ipMode", "hostname", "ports", NULL};
			docwalk_check_keys(x->w, in, at, ingress_keys);
			if (k8s_field(in, "hostname")) {
				autofree char *h_at = k8s_path(at, "hostname");
				docwalk_error(x->w, k8s_field(in, "hostname"), h_at,
					      "not implemented: a load balancer by name needs DNS; give its ip");
			}
			const cJSON *mode = k8s_field(in, "ipMode");
			if (mode && (!cJSON_IsString(mode) || strcmp(mode->valuestring, "VIP") != 0)) {
				autofree char *m_at = k8s_path(at, "ipMode");
				docwalk_error(x->w, mode, m_at,
					      "not implemented: only ipMode VIP (kube-proxy takes the address itself)");
			}
			const cJSON *ip = k8s_field(in, "ip");
			autofree char *ip_at = k8s_path(at, "ip");
			if (ip && read_address(x, ip, ip_at, &s.load_balancer_ips[s.n_load_balancer_ips]))
				s.n_load_balancer_ips++;
		}
		if (s.n_load_balancer_ips && s.type != TB_SERVICE_LOAD_BALANCER)
			docwalk_error(x->w, ingress, "status.loadBalancer.ingress", "only a LoadBalancer Service has one");
	}
add:
	t->services = xrealloc(t->services, (t->n_services_objects + 1) * sizeof(*t->services));
	t->services[t->n_services_objects++] = s;
}

/* ---- EndpointSlice ---- */

static bool read_condition(struct object *x, const cJSON *conditions, const char *path, const char *key, bool fallback)
{
	const cJSON *item = k8s_field(conditions, key);
	bool v = fallback;
	if (item) {
		autofree char *at = k8s_path(path, key);
		docwalk_bool(x->w, item, at, &v);
	}
	return v;
}

void k8s_read_endpoint_slice(struct object *x, const cJSON *spec, const char *namespace, const char *name)
{
	(void)spec;
	struct tb_topology *t = x->o->t;
	const cJSON *obj = x->item;
	struct tb_endpoint_slice es = {
		.name = xstrdup(name),
		.namespace = xstrdup(namespace),
		.origin = {.file = x->file,
			   .line = docwalk_line(x->w, obj),
			   .column = docwalk_column(x->w, obj),
			   .what = xstrdup(x->what)},
	};
	/* The slice's fields are at its top level, beside metadata. */
	const cJSON *meta = k8s_field(obj, "metadata");
	const cJSON *labels = meta ? k8s_field(meta, "labels") : NULL;
	const cJSON *service = labels ? k8s_field(labels, "kubernetes.io/service-name") : NULL;
	if (!service || !cJSON_IsString(service))
		docwalk_error(x->w, meta, "metadata.labels",
			      "an EndpointSlice names its Service in the label kubernetes.io/service-name");
	else
		es.service = xstrdup(service->valuestring);
	const cJSON *managed_by = labels ? k8s_field(labels, SLICE_MANAGED_BY) : NULL;
	es.controller_managed = cJSON_IsString(managed_by) && strcmp(managed_by->valuestring, SLICE_CONTROLLER) == 0;
	const cJSON *type = docwalk_member(x->w, obj, "", "addressType", true);
	if (type && (!cJSON_IsString(type) || strcmp(type->valuestring, "IPv4") != 0))
		docwalk_error(x->w, type, "addressType", "not implemented: testbed's labs are IPv4 only");
	const cJSON *ports = k8s_field(obj, "ports");
	if (ports && docwalk_array(x->w, ports, "ports", "an array of ports")) {
		es.ports = xcalloc((size_t)cJSON_GetArraySize(ports) + 1, sizeof(*es.ports));
		size_t i = 0;
		for (const cJSON *p = ports->child; p; p = p->next, i++) {
			autofree char *at = docwalk_path_index("ports", i);
			if (!docwalk_object(x->w, p, at, "a port ({name, protocol, port})"))
				continue;
			k8s_check_fields(x, p, at, &slice_port_fields);
			struct tb_slice_port sp = {0};
			const cJSON *port = k8s_field(p, "port");
			autofree char *port_at = k8s_path(at, "port");
			if (port)
				docwalk_int(x->w, port, port_at, 1, 65535, "a port number", "a port", &sp.port);
			sp.protocol = read_protocol(x, p, at, sp.port);
			const cJSON *pname = k8s_field(p, "name");
			autofree char *name_at = k8s_path(at, "name");
			const char *text = pname ? docwalk_string(x->w, pname, name_at, "a port name") : NULL;
			sp.name = xstrdup(text ? text : "");
			es.ports[es.n_ports++] = sp;
		}
	}
	const cJSON *endpoints = docwalk_member(x->w, obj, "", "endpoints", true);
	if (endpoints && docwalk_array(x->w, endpoints, "endpoints", "an array of endpoints")) {
		es.endpoints = xcalloc((size_t)cJSON_GetArraySize(endpoints) + 1, sizeof(*es.endpoints));
		size_t i = 0;
		for (const cJSON *e = endpoints->child; e; e = e->next, i++) {
			autofree char *at = docwalk_path_index("endpoints", i);
			if (!docwalk_object(x->w, e, at, "an endpoint ({addresses, conditions, nodeName})"))
				continue;
			k8s_check_fields(x, e, at, &slice_endpoint_fields);
			/* A condition not given is ready and serving, as consumers of
			 * EndpointSlices read an unknown one, and not terminating. */
			struct tb_slice_endpoint ep = {.ready = true, .serving = true};
			const cJSON *addresses = docwalk_member(x->w, e, at, "addresses", true);
			autofree char *addresses_at = k8s_path(at, "addresses");
			if (addresses)
				read_addresses(x, addresses, addresses_at, &ep.addresses, &ep.n_addresses);
			if (addresses && cJSON_IsArray(addresses) && cJSON_GetArraySize(addresses) != 1)
				docwalk_error(x->w, addresses, addresses_at, "an endpoint has exactly one address");
			const cJSON *conditions = k8s_field(e, "conditions");
			autofree char *cond_at = k8s_path(at, "conditions");
			if (conditions && docwalk_object(x->w, conditions, cond_at, "an object ({ready, serving, terminating})")) {
				k8s_check_fields(x, conditions, cond_at, &conditions_fields);
				ep.ready = read_condition(x, conditions, cond_at, "ready", true);
				ep.serving = read_condition(x, conditions, cond_at, "serving", ep.ready);
				ep.terminating = read_condition(x, conditions, cond_at, "terminating", false);
			}
			const cJSON *node = k8s_field(e, "nodeName");
			if (node) {
				autofree char *node_at = k8s_path(at, "nodeName");
				const char *text = docwalk_string(x->w, node, node_at, "a node's name");
				if (text)
					ep.node_name = xstrdup(text);
			}
			/* Its name in cluster DNS under a headless Service:
			 * HOSTNAME.SERVICE.NAMESPACE.svc.DOMAIN. */
			const cJSON *hostname = k8s_field(e, "hostname");
			if (hostname) {
				autofree char *host_at = k8s_path(at, "hostname");
				const char *text = docwalk_string(x->w, hostname, host_at, "a DNS label");
				if (text && !docwalk_is_dns_label(text))
					docwalk_error(x->w, hostname, host_at, "\"%s\" is not a DNS label", text);
				else if (text)
					ep.hostname = xstrdup(text);
			}
			es.endpoints[es.n_endpoints++] = ep;
		}
	}
	t->slices = xrealloc(t->slices, (t->n_slices + 1) * sizeof(*t->slices));
	t->slices[t->n_slices++] = es;
}
