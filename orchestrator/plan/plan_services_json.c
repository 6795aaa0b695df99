/* The saved plan's services and kube-proxy settings: what `check` and
 * `trace` read back to resolve service targets and tell which pods may
 * answer (the rules themselves are steps, saved as every step is). Names
 * follow the Service object's own fields, so a reader of the plan meets
 * the words of their YAML. */
#define _GNU_SOURCE
#include "plan/plan_services_json.h"

#include <string.h>

#include "model/docwalk.h"
#include "model/ports.h"
#include "plan/plan_fields.h"

static const char *const type_names[] = {[PLAN_SERVICE_CLUSTER_IP] = "ClusterIP",
					 [PLAN_SERVICE_NODE_PORT] = "NodePort",
					 [PLAN_SERVICE_LOAD_BALANCER] = "LoadBalancer",
					 [PLAN_SERVICE_EXTERNAL_NAME] = "ExternalName"};

static void put_addresses(cJSON *o, const char *key, const uint32_t *a, size_t n)
{
	if (!n)
		return;
	char buf[IPV4_PREFIX_STRLEN];
	cJSON *list = cJSON_AddArrayToObject(o, key);
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(list, cJSON_CreateString(ipv4_addr_format(a[i], buf)));
}

static void put_prefixes(cJSON *o, const char *key, const struct ipv4_prefix *a, size_t n)
{
	if (!n)
		return;
	char buf[IPV4_PREFIX_STRLEN];
	cJSON *list = cJSON_AddArrayToObject(o, key);
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(list, cJSON_CreateString(ipv4_prefix_format(a[i], buf)));
}

static void plan_ingress_to_json(const struct plan *p, cJSON *root);

static cJSON *endpoint_json(const struct plan *p, const struct plan_service *s, const struct plan_endpoint *ep)
{
	cJSON *o = cJSON_CreateObject();
	if (ep->machine != PLAN_NONE)
		json_put_str(o, "pod", p->machines[ep->machine].name);
	json_put_addr(o, "address", ep->address);
	if (ep->node != PLAN_NONE)
		json_put_str(o, "node", p->machines[ep->node].name);
	cJSON *ports = cJSON_AddArrayToObject(o, "ports");
	for (size_t i = 0; i < s->n_ports; i++)
		cJSON_AddItemToArray(ports, cJSON_CreateNumber(ep->ports[i]));
	cJSON *conditions = cJSON_AddObjectToObject(o, "conditions");
	cJSON_AddBoolToObject(conditions, "ready", ep->ready);
	cJSON_AddBoolToObject(conditions, "serving", ep->serving);
	cJSON_AddBoolToObject(conditions, "terminating", ep->terminating);
	if (ep->hostname)
		json_put_str(o, "hostname", ep->hostname);
	return o;
}

static cJSON *service_json(const struct plan *p, const struct plan_service *s)
{
	cJSON *o = cJSON_CreateObject();
	json_put_str(o, "namespace", s->namespace);
	json_put_str(o, "name", s->name);
	json_put_str(o, "type", type_names[s->type]);
	if (s->external_name)
		json_put_str(o, "externalName", s->external_name);
	else if (s->cluster_ip)
		json_put_addr(o, "clusterIP", s->cluster_ip);
	else
		json_put_str(o, "clusterIP", "None");
	cJSON *ports = cJSON_AddArrayToObject(o, "ports");
	for (size_t i = 0; i < s->n_ports; i++) {
		const struct plan_service_port *sp = &s->ports[i];
		cJSON *x = cJSON_CreateObject();
		if (sp->name[0])
			json_put_str(x, "name", sp->name);
		json_put_str(x, "protocol", tb_protocol_name(sp->protocol));
		cJSON_AddNumberToObject(x, "port", sp->port);
		if (sp->node_port)
			cJSON_AddNumberToObject(x, "nodePort", sp->node_port);
		cJSON_AddItemToArray(ports, x);
	}
	put_addresses(o, "externalIPs", s->external_ips, s->n_external_ips);
	put_addresses(o, "loadBalancerIPs", s->load_balancer_ips, s->n_load_balancer_ips);
	put_prefixes(o, "loadBalancerSourceRanges", s->source_ranges, s->n_source_ranges);
	json_put_str(o, "sessionAffinity", s->affinity ? "ClientIP" : "None");
	if (s->affinity)
		cJSON_AddNumberToObject(o, "sessionAffinityTimeout", s->affinity_timeout);
	json_put_str(o, "externalTrafficPolicy", s->external_local ? "Local" : "Cluster");
	json_put_str(o, "internalTrafficPolicy", s->internal_local ? "Local" : "Cluster");
	if (s->publish_not_ready)
		cJSON_AddTrueToObject(o, "publishNotReadyAddresses");
	cJSON *endpoints = cJSON_AddArrayToObject(o, "endpoints");
	for (size_t i = 0; i < s->n_endpoints; i++)
		cJSON_AddItemToArray(endpoints, endpoint_json(p, s, &s->endpoints[i]));
	return o;
}

void plan_services_to_json(const struct plan *p, cJSON *root)
{
	if (!p->n_services)
		return;
	cJSON *list = cJSON_AddArrayToObject(root, "services");
	for (size_t i = 0; i < p->n_services; i++)
		cJSON_AddItemToArray(list, service_json(p, &p->services[i]));
	cJSON *k = cJSON_AddObjectToObject(root, "kubeProxy");
	cJSON_AddBoolToObject(k, "masqueradeAll", p->kube_proxy.masquerade_all);
	if (p->kube_proxy.has_cluster_cidr)
		json_put_prefix(k, "clusterCIDR", p->kube_proxy.cluster_cidr);
	else
		json_put_str(k, "clusterCIDR", "");
	put_prefixes(k, "nodePortAddresses", p->kube_proxy.node_port_addresses, p->kube_proxy.n_node_port_addresses);
	plan_ingress_to_json(p, root);
}

/* "ingress": the controller's pod and Service, and its servers' locations
 * as nginx.conf has them (the file itself is the pod's). */
static void plan_ingress_to_json(const struct plan *p, cJSON *root)
{
	const struct plan_ingress *in = &p->ingress;
	if (!in->n_servers)
		return;
	cJSON *o = cJSON_AddObjectToObject(root, "ingress");
	json_put_str(o, "controller", p->machines[in->controller].name);
	autofree char *service = xasprintf("%s/%s", p->services[in->service].namespace, p->services[in->service].name);
	json_put_str(o, "service", service);
	cJSON *servers = cJSON_AddArrayToObject(o, "servers");
	for (size_t i = 0; i < in->n_servers; i++) {
		const struct plan_ingress_server *s = &in->servers[i];
		cJSON *so = cJSON_CreateObject();
		json_put_str(so, "host", s->host);
		cJSON *locations = cJSON_AddArrayToObject(so, "locations");
		for (size_t k = 0; k < s->n_locations; k++) {
			const struct plan_location *l = &s->locations[k];
			cJSON *lo = cJSON_CreateObject();
			json_put_str(lo, "path", l->path);
			json_put_str(lo, "match", l->match == PLAN_MATCH_EXACT ? "Exact" : "Prefix");
			json_put_str(lo, "ingress", l->ingress);
			json_put_str(lo, "service", l->service);
			json_put_str(lo, "port", l->port);
			if (l->service_port)
				cJSON_AddNumberToObject(lo, "servicePort", l->service_port);
			cJSON_AddNumberToObject(lo, "status", l->status);
			cJSON_AddItemToArray(locations, lo);
		}
		cJSON_AddItemToArray(servers, so);
	}
}

/* ---- reading ---- */

static int read_addresses(const cJSON *o, const char *key, uint32_t **out, size_t *n, struct tb_err *e)
{
	*out = NULL;
	*n = 0;
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!list)
		return 0;
	if (!cJSON_IsArray(list))
		return tb_fail(e, "\"%s\": expected an array of IPv4 addresses", key);
	*out = xcalloc((size_t)cJSON_GetArraySize(list) + 1, sizeof(**out));
	for (const cJSON *x = list->child; x; x = x->next, (*n)++)
		if (!cJSON_IsString(x) || !ipv4_addr_parse(x->valuestring, &(*out)[*n]))
			return tb_fail(e, "%s[%zu]: expected an IPv4 address", key, *n);
	return 0;
}

static int read_prefixes(const cJSON *o, const char *key, struct ipv4_prefix **out, size_t *n, struct tb_err *e)
{
	*out = NULL;
	*n = 0;
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!list)
		return 0;
	if (!cJSON_IsArray(list))
		return tb_fail(e, "\"%s\": expected an array of IPv4 prefixes", key);
	*out = xcalloc((size_t)cJSON_GetArraySize(list) + 1, sizeof(**out));
	const char *why;
	for (const cJSON *x = list->child; x; x = x->next, (*n)++)
		if (!cJSON_IsString(x) || !strchr(x->valuestring, '/') ||
		    !ipv4_prefix_parse(x->valuestring, &(*out)[*n], &why))
			return tb_fail(e, "%s[%zu]: expected an IPv4 prefix", key, *n);
	return 0;
}

/* KEY holds one of the two words; *ON is whether it is the second. */
static int read_choice(const cJSON *o, const char *key, const char *off, const char *on, bool *value, struct tb_err *e)
{
	char buf[16];
	if (json_get_str(o, key, buf, sizeof(buf), false, e) < 0)
		return -1;
	if (buf[0] && strcmp(buf, off) != 0 && strcmp(buf, on) != 0)
		return tb_fail(e, "\"%s\": expected \"%s\" or \"%s\"", key, off, on);
	*value = strcmp(buf, on) == 0;
	return 0;
}

static int read_machine_of(const struct plan *p, const cJSON *o, const char *key, enum machine_kind kind,
			   size_t *machine, struct tb_err *e)
{
	*machine = PLAN_NONE;
	if (!cJSON_GetObjectItemCaseSensitive(o, key))
		return 0;
	if (json_get_machine(p, o, key, machine, e) < 0)
		return -1;
	if (p->machines[*machine].kind != kind)
		return tb_fail(e, "\"%s\": \"%s\" is no %s", key, p->machines[*machine].name, machine_kind_name(kind));
	return 0;
}

static int read_endpoint(const struct plan *p, const cJSON *o, struct plan_service *s, struct tb_err *e)
{
	struct plan_endpoint *ep = &s->endpoints[s->n_endpoints];
	*ep = (struct plan_endpoint){.ports = xcalloc(s->n_ports + 1, sizeof(*ep->ports))};
	s->n_endpoints++;
	if (json_get_addr(o, "address", &ep->address, true, e) < 0 ||
	    read_machine_of(p, o, "pod", MACHINE_POD, &ep->machine, e) < 0 ||
	    read_machine_of(p, o, "node", MACHINE_NODE, &ep->node, e) < 0)
		return -1;
	const cJSON *ports = cJSON_GetObjectItemCaseSensitive(o, "ports");
	if (!cJSON_IsArray(ports) || (size_t)cJSON_GetArraySize(ports) != s->n_ports)
		return tb_fail(e, "\"ports\": expected one port per service port (%zu), 0 where it has none", s->n_ports);
	size_t i = 0;
	for (const cJSON *x = ports->child; x; x = x->next, i++) {
		if (!cJSON_IsNumber(x) || x->valuedouble < 0 || x->valuedouble > 65535 ||
		    x->valuedouble != (double)(long)x->valuedouble)
			return tb_fail(e, "ports[%zu]: expected a port number (0: none)", i);
		ep->ports[i] = (uint16_t)x->valuedouble;
	}
	const cJSON *conditions = cJSON_GetObjectItemCaseSensitive(o, "conditions");
	if (!cJSON_IsObject(conditions))
		return tb_fail(e, "\"conditions\": expected an object (ready, serving, terminating)");
	if (json_get_bool(conditions, "ready", &ep->ready, e) < 0 ||
	    json_get_bool(conditions, "serving", &ep->serving, e) < 0 ||
	    json_get_bool(conditions, "terminating", &ep->terminating, e) < 0)
		return tb_context(e, "conditions");
	const cJSON *hostname = cJSON_GetObjectItemCaseSensitive(o, "hostname");
	if (hostname && (!cJSON_IsString(hostname) || !topology_is_dns_label(hostname->valuestring)))
		return tb_fail(e, "\"hostname\": expected a DNS label");
	ep->hostname = hostname ? xstrdup(hostname->valuestring) : NULL;
	return 0;
}

static int read_service_ports(const cJSON *o, struct plan_service *s, struct tb_err *e)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(o, "ports");
	if (!cJSON_IsArray(list))
		return tb_fail(e, "\"ports\": expected an array");
	s->ports = xcalloc((size_t)cJSON_GetArraySize(list) + 1, sizeof(*s->ports));
	for (const cJSON *x = list->child; x; x = x->next) {
		struct plan_service_port *sp = &s->ports[s->n_ports];
		char name[DOCWALK_DNS_LABEL_MAX + 1], protocol[8];
		long port = 0, node_port = 0;
		size_t i = s->n_ports++;
		sp->name = xstrdup("");
		if (json_get_str(x, "name", name, sizeof(name), false, e) < 0 ||
		    json_get_str(x, "protocol", protocol, sizeof(protocol), true, e) < 0 ||
		    json_get_int(x, "port", 1, 65535, &port, true, e) < 0 ||
		    json_get_int(x, "nodePort", 1, 65535, &node_port, false, e) < 0)
			return tb_context(e, "ports[%zu]", i);
		if (name[0] && !docwalk_is_dns_label(name))
			return tb_fail(e, "ports[%zu].name: expected a Service port name (a DNS label)", i);
		if (!tb_protocol_parse(protocol, &sp->protocol))
			return tb_fail(e, "ports[%zu].protocol: \"%s\" is not TCP, UDP or SCTP", i, protocol);
		free(sp->name);
		sp->name = xstrdup(name);
		sp->port = (uint16_t)port;
		sp->node_port = (uint16_t)node_port;
	}
	return 0;
}

static int read_service(struct plan *p, const cJSON *o, struct plan_service *s, struct tb_err *e)
{
	char type[16], cluster_ip[IPV4_PREFIX_STRLEN];
	long timeout = 10800;
	if (!(s->namespace = json_get_strdup(o, "namespace", e)) || !(s->name = json_get_strdup(o, "name", e)))
		return -1;
	if (!topology_is_dns_label(s->namespace) || !topology_is_dns_label(s->name))
		return tb_fail(e, "\"name\": a service's namespace and name are DNS labels");
	if (json_get_str(o, "type", type, sizeof(type), true, e) < 0)
		return -1;
	bool external = strcmp(type, "ExternalName") == 0;
	if (json_get_str(o, "clusterIP", cluster_ip, sizeof(cluster_ip), !external, e) < 0)
		return -1;
	if (external) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "externalName");
		char bare[256] = "";
		if (cJSON_IsString(name) && strlen(name->valuestring) < sizeof(bare))
			snprintf(bare, sizeof(bare), "%s", name->valuestring);
		size_t n = strlen(bare);
		if (n > 1 && bare[n - 1] == '.')
			bare[n - 1] = '\0';
		if (cluster_ip[0] || !topology_is_dns_subdomain(bare))
			return tb_fail(e, "\"externalName\": an ExternalName Service has a DNS name (and no clusterIP)");
		s->external_name = xstrdup(name->valuestring);
		strcpy(cluster_ip, "None");
	}
	bool known = false;
	for (size_t i = 0; i < ARRAY_SIZE(type_names) && !known; i++)
		if (strcmp(type, type_names[i]) == 0) {
			s->type = (enum plan_service_type)i;
			known = true;
		}
	if (!known)
		return tb_fail(e, "\"type\": unknown service type \"%s\"", type);
	if (strcmp(cluster_ip, "None") != 0 && !ipv4_addr_parse(cluster_ip, &s->cluster_ip))
		return tb_fail(e, "\"clusterIP\": expected an IPv4 address or \"None\"");
	if (read_service_ports(o, s, e) < 0 ||
	    read_addresses(o, "externalIPs", &s->external_ips, &s->n_external_ips, e) < 0 ||
	    read_addresses(o, "loadBalancerIPs", &s->load_balancer_ips, &s->n_load_balancer_ips, e) < 0 ||
	    read_prefixes(o, "loadBalancerSourceRanges", &s->source_ranges, &s->n_source_ranges, e) < 0 ||
	    read_choice(o, "sessionAffinity", "None", "ClientIP", &s->affinity, e) < 0 ||
	    json_get_int(o, "sessionAffinityTimeout", 1, 86400, &timeout, false, e) < 0 ||
	    read_choice(o, "externalTrafficPolicy", "Cluster", "Local", &s->external_local, e) < 0 ||
	    read_choice(o, "internalTrafficPolicy", "Cluster", "Local", &s->internal_local, e) < 0 ||
	    json_get_bool(o, "publishNotReadyAddresses", &s->publish_not_ready, e) < 0)
		return -1;
	s->affinity_timeout = (int)timeout;
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(o, "endpoints");
	if (!cJSON_IsArray(list))
		return tb_fail(e, "\"endpoints\": expected an array");
	s->endpoints = xcalloc((size_t)cJSON_GetArraySize(list) + 1, sizeof(*s->endpoints));
	for (const cJSON *x = list->child; x; x = x->next)
		if (read_endpoint(p, x, s, e) < 0)
			return tb_context(e, "endpoints[%zu]", s->n_endpoints - 1);
	return 0;
}

static size_t service_named(const struct plan *p, const char *ns_name)
{
	const char *slash = strchr(ns_name, '/');
	for (size_t i = 0; slash && i < p->n_services; i++)
		if (strncmp(p->services[i].namespace, ns_name, (size_t)(slash - ns_name)) == 0 &&
		    !p->services[i].namespace[slash - ns_name] && strcmp(p->services[i].name, slash + 1) == 0)
			return i;
	return PLAN_NONE;
}

static int read_location(const struct plan *p, const cJSON *o, struct plan_location *l, struct tb_err *e)
{
	char match[16];
	long port = 0, status = 0;
	if (!(l->path = json_get_strdup(o, "path", e)) || !(l->ingress = json_get_strdup(o, "ingress", e)) ||
	    !(l->service = json_get_strdup(o, "service", e)) || !(l->port = json_get_strdup(o, "port", e)) ||
	    json_get_str(o, "match", match, sizeof(match), true, e) < 0 ||
	    json_get_int(o, "servicePort", 1, 65535, &port, false, e) < 0 ||
	    json_get_int(o, "status", 0, 599, &status, true, e) < 0)
		return -1;
	if (l->path[0] != '/')
		return tb_fail(e, "\"path\": expected an absolute path");
	if (strcmp(match, "Exact") != 0 && strcmp(match, "Prefix") != 0)
		return tb_fail(e, "\"match\": expected Exact or Prefix");
	l->match = strcmp(match, "Exact") == 0 ? PLAN_MATCH_EXACT : PLAN_MATCH_PREFIX;
	l->service_port = (uint16_t)port;
	l->status = (int)status;
	l->backend = *l->service ? service_named(p, l->service) : PLAN_NONE;
	if (!l->status && (l->backend == PLAN_NONE || !l->service_port))
		return tb_fail(e, "a proxied location names a Service of the plan and its port");
	return 0;
}

static int plan_ingress_from_json(struct plan *p, const cJSON *root, struct tb_err *e)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, "ingress");
	if (!o)
		return 0;
	struct plan_ingress *in = &p->ingress;
	char service[300];
	if (json_get_machine(p, o, "controller", &in->controller, e) < 0 ||
	    json_get_str(o, "service", service, sizeof(service), true, e) < 0)
		return tb_context(e, "ingress");
	if (p->machines[in->controller].kind != MACHINE_POD)
		return tb_fail(e, "ingress.controller: \"%s\" is not a pod", p->machines[in->controller].name);
	if ((in->service = service_named(p, service)) == PLAN_NONE)
		return tb_fail(e, "ingress.service: no service \"%s\"", service);
	const cJSON *servers = cJSON_GetObjectItemCaseSensitive(o, "servers");
	if (!cJSON_IsArray(servers) || !cJSON_GetArraySize(servers))
		return tb_fail(e, "ingress.servers: expected a non-empty array");
	in->servers = xcalloc((size_t)cJSON_GetArraySize(servers), sizeof(*in->servers));
	for (const cJSON *so = servers->child; so; so = so->next) {
		size_t i = in->n_servers++;
		struct plan_ingress_server *s = &in->servers[i];
		if (!(s->host = json_get_strdup(so, "host", e)))
			return tb_context(e, "ingress.servers[%zu]", i);
		const cJSON *list = cJSON_GetObjectItemCaseSensitive(so, "locations");
		if (!cJSON_IsArray(list) || !cJSON_GetArraySize(list))
			return tb_fail(e, "ingress.servers[%zu].locations: expected a non-empty array", i);
		s->locations = xcalloc((size_t)cJSON_GetArraySize(list), sizeof(*s->locations));
		for (const cJSON *lo = list->child; lo; lo = lo->next) {
			size_t k = s->n_locations++;
			s->locations[k].backend = PLAN_NONE;
			if (read_location(p, lo, &s->locations[k], e) < 0)
				return tb_context(e, "ingress.servers[%zu].locations[%zu]", i, k);
		}
	}
	return 0;
}

int plan_services_from_json(struct plan *p, const cJSON *root, struct tb_err *e)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "services");
	if (!list)
		return 0;
	if (!cJSON_IsArray(list))
		return tb_fail(e, "services: expected an array");
	p->services = xcalloc((size_t)cJSON_GetArraySize(list) + 1, sizeof(*p->services));
	for (const cJSON *x = list->child; x; x = x->next) {
		size_t i = p->n_services++;
		if (read_service(p, x, &p->services[i], e) < 0)
			return tb_context(e, "services[%zu]", i);
	}
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(root, "kubeProxy");
	if (!cJSON_IsObject(k))
		return tb_fail(e, "kubeProxy: expected an object beside services");
	char cidr[IPV4_PREFIX_STRLEN];
	const char *why;
	struct plan_kube_proxy *kp = &p->kube_proxy;
	if (json_get_bool(k, "masqueradeAll", &kp->masquerade_all, e) < 0 ||
	    json_get_str(k, "clusterCIDR", cidr, sizeof(cidr), true, e) < 0 ||
	    read_prefixes(k, "nodePortAddresses", &kp->node_port_addresses, &kp->n_node_port_addresses, e) < 0)
		return tb_context(e, "kubeProxy");
	kp->has_cluster_cidr = cidr[0] != '\0';
	if (kp->has_cluster_cidr && !ipv4_prefix_parse(cidr, &kp->cluster_cidr, &why))
		return tb_fail(e, "kubeProxy.clusterCIDR: expected an IPv4 prefix or \"\"");
	return plan_ingress_from_json(p, root, e);
}
