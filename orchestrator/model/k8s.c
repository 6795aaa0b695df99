/* Kubernetes objects (k8s.h): the table of kinds, what every object has
 * (apiVersion, kind, metadata), its identity, and each kind's own fields.
 * Field lists follow the Kubernetes API reference (v1.31): every field an
 * object may carry is known here, as used, stood in for or refused. */
#define _GNU_SOURCE
#include "model/k8s.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "model/k8s_object.h"
#include "model/ports.h"
#include "model/selector.h"
#include "util/diag.h"
#include "util/ipv4.h"
#include "util/util.h"

/* An object's identity and where it was first written. */
struct seen {
	char *kind, *namespace, *name;
	char *where; /* "FILE:LINE" */
};


/* ---- fields every object has ---- */

static const char *const object_used[] = {"apiVersion", "kind", "metadata", "spec", NULL};
/* kubectl get -o json prints an object's status; it is the cluster's
 * account of it, not what the user asks for. */
static const char *const object_stood_in[] = {"status", NULL};

static const char *const meta_used[] = {"name", "namespace", "labels", NULL};
/* generateName only counts without a name (kubectl get prints pods of a
 * ReplicaSet with both): read_object refuses it alone. */
static const char *const meta_stood_in[] = {"annotations", "uid", "resourceVersion", "creationTimestamp",
					    "generation", "managedFields", "ownerReferences", "finalizers",
					    "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds",
					    "generateName", NULL};
static const struct fields meta_fields = {meta_used, meta_stood_in, NULL};

/* ---- PodSpec, container ---- */

static const char *const pod_spec_used[] = {"containers", "nodeName",  "nodeSelector", "hostNetwork",
					    "hostname",   "subdomain", "dnsPolicy",    "dnsConfig",   "hostAliases",
					    NULL};
static const char *const pod_spec_stood_in[] = {
	"activeDeadlineSeconds", "automountServiceAccountToken", "enableServiceLinks",
	"ephemeralContainers", "hostIPC", "hostPID", "hostUsers", "imagePullSecrets", "initContainers", "os",
	"overhead", "preemptionPolicy", "priority", "priorityClassName", "readinessGates", "resourceClaims",
	"resources", "restartPolicy", "runtimeClassName", "schedulerName", "securityContext", "serviceAccount",
	"serviceAccountName", "shareProcessNamespace", "terminationGracePeriodSeconds", "tolerations", "volumes",
	NULL};
static const struct refused pod_spec_refused[] = {
	{"affinity", "testbed places pods by nodeName and nodeSelector, not by affinity"},
	{"topologySpreadConstraints", "testbed spreads pods in its own order (docs/topology.md), not by constraints"},
	{"schedulingGates", "testbed schedules every pod at once"},
	{"setHostnameAsFQDN", "a pod's kernel hostname is its name in testbed, never its FQDN"},
	{NULL, NULL},
};
static const struct fields pod_spec_fields = {pod_spec_used, pod_spec_stood_in, pod_spec_refused};

static const char *const container_used[] = {"name", "ports", NULL};
static const char *const container_stood_in[] = {
	"args", "command", "env", "envFrom", "image", "imagePullPolicy", "lifecycle", "livenessProbe",
	"readinessProbe", "resizePolicy", "resources", "restartPolicy", "securityContext", "startupProbe", "stdin",
	"stdinOnce", "terminationMessagePath", "terminationMessagePolicy", "tty", "volumeDevices", "volumeMounts",
	"workingDir", NULL};
static const struct fields container_fields = {container_used, container_stood_in, NULL};

static const char *const template_used[] = {"metadata", "spec", NULL};
static const struct fields template_fields = {template_used, NULL, NULL};

static const char *const template_meta_used[] = {"labels", NULL};
static const char *const template_meta_stood_in[] = {"annotations", "creationTimestamp", "name", "namespace",
						     NULL};
static const struct fields template_meta_fields = {template_meta_used, template_meta_stood_in, NULL};

/* ---- workload specs ---- */

static const char *const deployment_used[] = {"replicas", "selector", "template", NULL};
static const char *const deployment_stood_in[] = {"strategy", "minReadySeconds", "revisionHistoryLimit",
						  "progressDeadlineSeconds", "paused", NULL};
static const struct fields deployment_fields = {deployment_used, deployment_stood_in, NULL};

static const char *const replicaset_used[] = {"replicas", "selector", "template", NULL};
static const char *const replicaset_stood_in[] = {"minReadySeconds", NULL};
static const struct fields replicaset_fields = {replicaset_used, replicaset_stood_in, NULL};

static const char *const statefulset_used[] = {"replicas", "selector", "template", "serviceName", "ordinals", NULL};
static const char *const statefulset_stood_in[] = {"podManagementPolicy", "updateStrategy", "revisionHistoryLimit",
						   "volumeClaimTemplates", "minReadySeconds",
						   "persistentVolumeClaimRetentionPolicy", NULL};
static const struct fields statefulset_fields = {statefulset_used, statefulset_stood_in, NULL};

static const char *const daemonset_used[] = {"selector", "template", NULL};
static const char *const daemonset_stood_in[] = {"updateStrategy", "minReadySeconds", "revisionHistoryLimit", NULL};
static const struct fields daemonset_fields = {daemonset_used, daemonset_stood_in, NULL};

static const char *const namespace_stood_in[] = {"spec", NULL}; /* finalizers */
static const char *const service_top[] = {"apiVersion", "kind", "metadata", "spec", "status", NULL};
/* An EndpointSlice has no spec: its fields sit beside its metadata. */
static const char *const slice_top[] = {"apiVersion", "kind", "metadata", "addressType", "endpoints", "ports", NULL};

static const char *const selector_used[] = {"matchLabels", "matchExpressions", NULL};
static const struct fields selector_fields = {selector_used, NULL, NULL};
static const char *const requirement_used[] = {"key", "operator", "values", NULL};
static const struct fields requirement_fields = {requirement_used, NULL, NULL};

/* ---- reporting ---- */

char *k8s_path(const char *path, const char *key)
{
	return docwalk_path_key(path, key);
}

/* A member that is there and not null: kubectl prints empty fields as
 * null ("creationTimestamp": null), which means absent. */
const cJSON *k8s_field(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return v && !cJSON_IsNull(v) ? v : NULL;
}

static bool listed(const char *const *keys, const char *key)
{
	for (size_t i = 0; keys && keys[i]; i++)
		if (strcmp(keys[i], key) == 0)
			return true;
	return false;
}

/* Checks OBJ's keys against F: unknown ones are errors (with the key a
 * typo meant), refused ones errors naming why, stood-in ones noted. */
void k8s_check_fields(struct object *x, const cJSON *obj, const char *path, const struct fields *f)
{
	size_t n = 0;
	for (size_t i = 0; f->used && f->used[i]; i++)
		n++;
	for (size_t i = 0; f->stood_in && f->stood_in[i]; i++)
		n++;
	for (size_t i = 0; f->refused && f->refused[i].key; i++)
		n++;
	autofree const char **allowed = xcalloc(n + 1, sizeof(*allowed));
	n = 0;
	for (size_t i = 0; f->used && f->used[i]; i++)
		allowed[n++] = f->used[i];
	for (size_t i = 0; f->stood_in && f->stood_in[i]; i++)
		allowed[n++] = f->stood_in[i];
	for (size_t i = 0; f->refused && f->refused[i].key; i++)
		allowed[n++] = f->refused[i].key;
	docwalk_check_keys(x->w, obj, path, allowed);
	for (size_t i = 0; f->refused && f->refused[i].key; i++) {
		const cJSON *v = k8s_field(obj, f->refused[i].key);
		if (v) {
			autofree char *where = k8s_path(path, f->refused[i].key);
			docwalk_error(x->w, v, where, "not implemented: %s", f->refused[i].why);
		}
	}
	for (const cJSON *c = obj->child; c; c = c->next)
		if (!cJSON_IsNull(c) && listed(f->stood_in, c->string)) {
			grow_array((void **)&x->stood_in, &x->cap_stood_in, x->n_stood_in + 1, sizeof(*x->stood_in));
			x->stood_in[x->n_stood_in++] = k8s_path(path, c->string);
		}
}

/* ---- names, labels, selectors ---- */

static bool is_subdomain(const char *s)
{
	return topology_is_dns_subdomain(s);
}

/* A labels object into *LABELS (checked by the walker). */
void k8s_read_labels(struct object *x, const cJSON *obj, const char *path, struct tb_label **labels, size_t *n)
{
	*labels = NULL;
	*n = 0;
	if (!docwalk_object(x->w, obj, path, "an object of string labels"))
		return;
	*labels = xcalloc((size_t)cJSON_GetArraySize(obj) + 1, sizeof(**labels));
	for (const cJSON *c = obj->child; c; c = c->next)
		if (docwalk_label(x->w, c, path))
			(*labels)[(*n)++] = (struct tb_label){xstrdup(c->string), xstrdup(c->valuestring)};
}

void k8s_free_labels(struct tb_label *labels, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(labels[i].key);
		free(labels[i].value);
	}
	free(labels);
}

const char *k8s_label_value(const struct tb_label *labels, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(labels[i].key, key) == 0)
			return labels[i].value;
	return NULL;
}

/* A LabelSelector: matchLabels, each key=value an In of one value, and
 * matchExpressions. False (after reporting) when malformed. */
bool k8s_read_selector(struct object *x, const cJSON *obj, const char *path, struct label_selector *s)
{
	*s = (struct label_selector){0};
	if (!docwalk_object(x->w, obj, path, "a label selector (matchLabels, matchExpressions)"))
		return false;
	size_t errors = x->w->d->count;
	k8s_check_fields(x, obj, path, &selector_fields);
	const cJSON *labels = k8s_field(obj, "matchLabels");
	if (labels) {
		autofree char *where = k8s_path(path, "matchLabels");
		if (docwalk_object(x->w, labels, where, "an object of string labels"))
			for (const cJSON *c = labels->child; c; c = c->next)
				if (docwalk_label(x->w, c, where))
					label_selector_add(s, c->string, SELECTOR_IN, (const char *const *)&c->valuestring, 1);
	}
	const cJSON *exprs = k8s_field(obj, "matchExpressions");
	if (exprs) {
		autofree char *where = k8s_path(path, "matchExpressions");
		size_t i = 0;
		static const char *const ops[] = {"In", "NotIn", "Exists", "DoesNotExist", NULL};
		for (const cJSON *e = docwalk_array(x->w, exprs, where, "an array of requirements") ? exprs->child : NULL;
		     e; e = e->next, i++) {
			autofree char *at = docwalk_path_index(where, i);
			if (!docwalk_object(x->w, e, at, "a requirement ({key, operator, values})"))
				continue;
			k8s_check_fields(x, e, at, &requirement_fields);
			const cJSON *key = docwalk_member(x->w, e, at, "key", true);
			const cJSON *op = docwalk_member(x->w, e, at, "operator", true);
			autofree char *key_at = k8s_path(at, "key"), *op_at = k8s_path(at, "operator"),
				      *values_at = k8s_path(at, "values");
			const char *k = key ? docwalk_string(x->w, key, key_at, "a label key") : NULL;
			if (k && !docwalk_is_label_key(k)) {
				docwalk_error(x->w, key, key_at, "\"%s\" is not a label key", k);
				k = NULL;
			}
			int which = op ? docwalk_choice(x->w, op, op_at, ops) : -1;
			const cJSON *values = k8s_field(e, "values");
			bool needs_values = which == SELECTOR_IN || which == SELECTOR_NOT_IN;
			size_t n_values = values && cJSON_IsArray(values) ? (size_t)cJSON_GetArraySize(values) : 0;
			if (which >= 0 && needs_values && n_values == 0) {
				docwalk_error(x->w, e, values_at, "%s needs a non-empty list of values", ops[which]);
				continue;
			}
			if (which >= 0 && !needs_values && values && n_values) {
				docwalk_error(x->w, values, values_at, "%s takes no values", ops[which]);
				continue;
			}
			char **vals = xcalloc(n_values + 1, sizeof(*vals));
			size_t n = 0, j = 0;
			for (const cJSON *v = values && cJSON_IsArray(values) ? values->child : NULL; v; v = v->next, j++) {
				autofree char *v_at = docwalk_path_index(values_at, j);
				const char *text = docwalk_string(x->w, v, v_at, "a label value");
				if (text && !docwalk_is_label_value(text))
					docwalk_error(x->w, v, v_at, "\"%s\" is not a label value", text);
				else if (text)
					vals[n++] = xstrdup(text);
			}
			if (k && which >= 0)
				label_selector_add(s, k, (enum selector_op)which, (const char *const *)vals, n);
			strv_free(vals);
		}
	}
	if (x->w->d->count != errors) {
		label_selector_free(s);
		return false;
	}
	return true;
}

/* ---- PodSpec ---- */

/* spec.hostAliases, as the API server validates them: an IP (IPv4 here)
 * and DNS subdomains. */
static void read_host_aliases(struct object *x, const cJSON *list, const char *path, struct tb_pod *pod)
{
	if (!docwalk_array(x->w, list, path, "an array of {ip, hostnames}"))
		return;
	pod->host_aliases = xcalloc((size_t)cJSON_GetArraySize(list) + 1, sizeof(*pod->host_aliases));
	size_t i = 0;
	for (const cJSON *a = list->child; a; a = a->next, i++) {
		autofree char *at = docwalk_path_index(path, i);
		if (!docwalk_object(x->w, a, at, "a host alias ({ip, hostnames})"))
			continue;
		static const char *const keys[] = {"ip", "hostnames", NULL};
		docwalk_check_keys(x->w, a, at, keys);
		const cJSON *ip = docwalk_member(x->w, a, at, "ip", true);
		autofree char *ip_at = k8s_path(at, "ip");
		const char *text = ip ? docwalk_string(x->w, ip, ip_at, "an IPv4 address") : NULL;
		uint32_t addr;
		if (text && !ipv4_addr_parse(text, &addr)) {
			docwalk_error(x->w, ip, ip_at, "\"%s\": not implemented: an address other than IPv4 (testbed's labs "
						      "are IPv4 only)", text);
			text = NULL;
		}
		const cJSON *names = k8s_field(a, "hostnames");
		autofree char *names_at = k8s_path(at, "hostnames");
		struct tb_host_alias alias = {0};
		if (names && docwalk_array(x->w, names, names_at, "an array of host names")) {
			alias.hostnames = xcalloc((size_t)cJSON_GetArraySize(names) + 1, sizeof(*alias.hostnames));
			size_t k = 0;
			for (const cJSON *n = names->child; n; n = n->next, k++) {
				autofree char *n_at = docwalk_path_index(names_at, k);
				const char *name = docwalk_string(x->w, n, n_at, "a host name");
				if (name && !topology_is_dns_subdomain(name))
					docwalk_error(x->w, n, n_at, "\"%s\" is not a host name (a DNS subdomain)", name);
				else if (name)
					alias.hostnames[alias.n_hostnames++] = xstrdup(name);
			}
		}
		if (text) {
			alias.ip = xstrdup(text);
			pod->host_aliases[pod->n_host_aliases++] = alias;
		} else {
			for (size_t k = 0; k < alias.n_hostnames; k++)
				free(alias.hostnames[k]);
			free(alias.hostnames);
		}
	}
}

/* spec.dnsConfig, as the API server validates it: at most 3 nameservers
 * (IPv4 here), at most 32 search domains of at most 2048 characters in
 * all, options with a name. */
static void read_dns_config(struct object *x, const cJSON *config, const char *path, struct tb_dns_config *c)
{
	if (!docwalk_object(x->w, config, path, "a PodDNSConfig (nameservers, searches, options)"))
		return;
	static const char *const keys[] = {"nameservers", "searches", "options", NULL};
	docwalk_check_keys(x->w, config, path, keys);
	const cJSON *list = k8s_field(config, "nameservers");
	autofree char *ns_at = k8s_path(path, "nameservers");
	if (list && docwalk_array(x->w, list, ns_at, "an array of addresses")) {
		if (cJSON_GetArraySize(list) > 3)
			docwalk_error(x->w, list, ns_at, "at most 3 nameservers (%d here)", cJSON_GetArraySize(list));
		c->nameservers = xcalloc((size_t)cJSON_GetArraySize(list) + 1, sizeof(*c->nameservers));
		size_t i = 0;
		for (const cJSON *a = list->child; a; a = a->next, i++) {
			autofree char *at = docwalk_path_index(ns_at, i);
			const char *text = docwalk_string(x->w, a, at, "an IPv4 address");
			uint32_t addr;
			if (text && !ipv4_addr_parse(text, &addr))
				docwalk_error(x->w, a, at, "\"%s\": not implemented: a nameserver other than an IPv4 address "
							  "(testbed's labs are IPv4 only)", text);
			else if (text)
				c->nameservers[c->n_nameservers++] = xstrdup(text);
		}
	}
	list = k8s_field(config, "searches");
	autofree char *search_at = k8s_path(path, "searches");
	if (list && docwalk_array(x->w, list, search_at, "an array of domains")) {
		if (cJSON_GetArraySize(list) > 32)
			docwalk_error(x->w, list, search_at, "at most 32 search domains (%d here)", cJSON_GetArraySize(list));
		c->searches = xcalloc((size_t)cJSON_GetArraySize(list) + 1, sizeof(*c->searches));
		size_t i = 0, total = 0;
		for (const cJSON *a = list->child; a; a = a->next, i++) {
			autofree char *at = docwalk_path_index(search_at, i);
			const char *text = docwalk_string(x->w, a, at, "a domain");
			if (!text)
				continue;
			/* A trailing dot (a rooted name) is allowed, as the API server allows it. */
			autofree char *bare = xstrdup(text);
			size_t n = strlen(bare);
			if (n > 1 && bare[n - 1] == '.')
				bare[n - 1] = '\0';
			if (!topology_is_dns_subdomain(bare))
				docwalk_error(x->w, a, at, "\"%s\" is not a domain (a DNS subdomain)", text);
			else
				c->searches[c->n_searches++] = xstrdup(text);
			total += strlen(text) + (i > 0);
		}
		if (total > 2048)
			docwalk_error(x->w, list, search_at, "%zu characters in all, more than 2048", total);
	}
	list = k8s_field(config, "options");
	autofree char *opt_at = k8s_path(path, "options");
	if (list && docwalk_array(x->w, list, opt_at, "an array of {name, value}")) {
		c->options = xcalloc((size_t)cJSON_GetArraySize(list) + 1, sizeof(*c->options));
		size_t i = 0;
		for (const cJSON *o = list->child; o; o = o->next, i++) {
			autofree char *at = docwalk_path_index(opt_at, i);
			if (!docwalk_object(x->w, o, at, "an option ({name, value})"))
				continue;
			static const char *const option_keys[] = {"name", "value", NULL};
			docwalk_check_keys(x->w, o, at, option_keys);
			const cJSON *name = docwalk_member(x->w, o, at, "name", true);
			const cJSON *value = k8s_field(o, "value");
			autofree char *name_at = k8s_path(at, "name");
			autofree char *value_at = k8s_path(at, "value");
			const char *n = name ? docwalk_string(x->w, name, name_at, "an option's name") : NULL;
			const char *v = value ? docwalk_string(x->w, value, value_at, "an option's value") : NULL;
			/* resolv.conf reads words: a space or line break would make another. */
			if (n && (!*n || strpbrk(n, " \t\n\r:")))
				docwalk_error(x->w, name, name_at, "\"%s\" is not an option's name (one word, no ':')", n);
			else if (v && strpbrk(v, " \t\n\r"))
				docwalk_error(x->w, value, value_at, "\"%s\" is not an option's value (one word)", v);
			else if (n)
				c->options[c->n_options++] = (struct tb_dns_option){xstrdup(n), v ? xstrdup(v) : NULL};
		}
	}
}

/* A pod template's spec into W (its pod, placement). */
static void read_pod_spec(struct object *x, const cJSON *spec, const char *path, struct tb_workload *wl)
{
	if (!docwalk_object(x->w, spec, path, "a PodSpec"))
		return;
	k8s_check_fields(x, spec, path, &pod_spec_fields);
	struct tb_pod *pod = &wl->pod;
	const cJSON *containers = docwalk_member(x->w, spec, path, "containers", true);
	autofree char *containers_at = k8s_path(path, "containers");
	if (containers && docwalk_array(x->w, containers, containers_at, "an array of containers")) {
		if (cJSON_GetArraySize(containers) == 0)
			docwalk_error(x->w, containers, containers_at, "a pod needs at least one container");
		size_t i = 0;
		const char **names = xcalloc((size_t)cJSON_GetArraySize(containers) + 1, sizeof(*names));
		for (const cJSON *c = containers->child; c; c = c->next, i++) {
			autofree char *at = docwalk_path_index(containers_at, i);
			if (!docwalk_object(x->w, c, at, "a container"))
				continue;
			k8s_check_fields(x, c, at, &container_fields);
			const cJSON *name = docwalk_member(x->w, c, at, "name", true);
			autofree char *name_at = k8s_path(at, "name");
			const char *text = name ? docwalk_string(x->w, name, name_at, "a container name") : NULL;
			if (text && !docwalk_is_dns_label(text))
				docwalk_error(x->w, name, name_at, "\"%s\" is not a container name (a DNS label)", text);
			for (size_t k = 0; text && k < i; k++)
				if (names[k] && strcmp(names[k], text) == 0)
					docwalk_error(x->w, name, name_at, "a second container named \"%s\"", text);
			names[i] = text;
			const cJSON *ports = k8s_field(c, "ports");
			if (ports) {
				autofree char *ports_at = k8s_path(at, "ports");
				const struct tb_port_list l = {&pod->ports, &pod->n_ports, &pod->host_ports,
							       &pod->n_host_ports};
				ports_parse(x->w, ports, ports_at, &l);
			}
		}
		free(names);
	}
	const cJSON *host_network = k8s_field(spec, "hostNetwork");
	if (host_network) {
		autofree char *at = k8s_path(path, "hostNetwork");
		docwalk_bool(x->w, host_network, at, &pod->host_network);
	}
	/* On the host's network, a container port is the node's port: hostPort
	 * is that port or nothing (the API server requires them equal). */
	for (size_t i = 0; pod->host_network && i < pod->n_host_ports; i++)
		if (pod->host_ports[i].host_port != pod->host_ports[i].container_port) {
			autofree char *at = k8s_path(path, "hostNetwork");
			docwalk_error(x->w, host_network, at,
				      "hostPort %d differs from its containerPort %d: on the host's network they are one "
				      "port",
				      pod->host_ports[i].host_port, pod->host_ports[i].container_port);
		}
	if (pod->host_network) {
		free(pod->host_ports);
		pod->host_ports = NULL;
		pod->n_host_ports = 0;
	}
	const cJSON *node_name = k8s_field(spec, "nodeName");
	if (node_name) {
		autofree char *at = k8s_path(path, "nodeName");
		const char *text = docwalk_string(x->w, node_name, at, "a node's name");
		if (text)
			wl->node_name = xstrdup(text);
	}
	const cJSON *selector = k8s_field(spec, "nodeSelector");
	if (selector) {
		autofree char *at = k8s_path(path, "nodeSelector");
		k8s_read_labels(x, selector, at, &wl->node_selector, &wl->n_node_selector);
	}
	/* spec.hostname and spec.subdomain name the pod in cluster DNS
	 * (HOSTNAME.SUBDOMAIN.NAMESPACE.svc.DOMAIN, under a headless Service
	 * called SUBDOMAIN that selects it). The kernel hostname stays the
	 * pod's name: it is what the pod server answers to /hostname, by
	 * which checks know which pod answered. */
	static const struct {
		const char *key;
		size_t offset;
	} labels[] = {{"hostname", offsetof(struct tb_pod, hostname)}, {"subdomain", offsetof(struct tb_pod, subdomain)}};
	for (size_t i = 0; i < ARRAY_SIZE(labels); i++) {
		const cJSON *item = k8s_field(spec, labels[i].key);
		if (!item)
			continue;
		autofree char *at = k8s_path(path, labels[i].key);
		const char *text = docwalk_string(x->w, item, at, "a DNS label");
		if (text && !docwalk_is_dns_label(text))
			docwalk_error(x->w, item, at, "\"%s\" is not a DNS label (lowercase letters, digits and '-', at most "
						     "63)", text);
		else if (text && *text)
			*(char **)((char *)pod + labels[i].offset) = xstrdup(text);
	}
	const cJSON *dns = k8s_field(spec, "dnsPolicy");
	if (dns) {
		autofree char *at = k8s_path(path, "dnsPolicy");
		static const char *const policies[] = {"ClusterFirst", "ClusterFirstWithHostNet", "Default", "None", NULL};
		int choice = docwalk_choice(x->w, dns, at, policies);
		if (choice >= 0)
			pod->dns_policy = (enum tb_dns_policy)choice;
	}
	const cJSON *aliases = k8s_field(spec, "hostAliases");
	if (aliases) {
		autofree char *at = k8s_path(path, "hostAliases");
		read_host_aliases(x, aliases, at, pod);
	}
	const cJSON *config = k8s_field(spec, "dnsConfig");
	autofree char *config_at = k8s_path(path, "dnsConfig");
	if (config)
		read_dns_config(x, config, config_at, &pod->dns_config);
	/* The API server's rule: None takes everything from dnsConfig. */
	if (pod->dns_policy == TB_DNS_NONE && !config) {
		autofree char *at = k8s_path(path, "dnsPolicy");
		docwalk_error(x->w, dns, at, "None takes every setting from dnsConfig, which this pod does not have");
	}
	else if (pod->dns_policy == TB_DNS_NONE && pod->dns_config.n_nameservers == 0)
		docwalk_error(x->w, config, config_at, "dnsPolicy None needs at least one nameserver in dnsConfig");
}

/* A PodTemplateSpec: its labels and its spec. */
static void read_template(struct object *x, const cJSON *spec, const char *path, struct tb_workload *wl)
{
	const cJSON *tmpl = docwalk_member(x->w, spec, path, "template", true);
	autofree char *at = k8s_path(path, "template");
	if (!tmpl || !docwalk_object(x->w, tmpl, at, "a pod template (metadata, spec)"))
		return;
	k8s_check_fields(x, tmpl, at, &template_fields);
	const cJSON *meta = k8s_field(tmpl, "metadata");
	autofree char *meta_at = k8s_path(at, "metadata");
	if (meta && docwalk_object(x->w, meta, meta_at, "an object")) {
		k8s_check_fields(x, meta, meta_at, &template_meta_fields);
		const cJSON *labels = k8s_field(meta, "labels");
		if (labels) {
			autofree char *labels_at = k8s_path(meta_at, "labels");
			k8s_read_labels(x, labels, labels_at, &wl->pod.labels, &wl->pod.n_labels);
		}
	}
	const cJSON *pod_spec = docwalk_member(x->w, tmpl, at, "spec", true);
	autofree char *spec_at = k8s_path(at, "spec");
	if (pod_spec)
		read_pod_spec(x, pod_spec, spec_at, wl);
}

/* spec.selector, which must select the template's labels: the API server
 * refuses a workload whose pods its own selector would not find. */
static void read_workload_selector(struct object *x, const cJSON *spec, const char *path, struct tb_workload *wl)
{
	const cJSON *sel = docwalk_member(x->w, spec, path, "selector", true);
	autofree char *at = k8s_path(path, "selector");
	struct label_selector s;
	if (!sel || !k8s_read_selector(x, sel, at, &s))
		return;
	if (s.n_reqs == 0)
		docwalk_error(x->w, sel, at, "an empty selector would select every pod: give matchLabels or "
					    "matchExpressions");
	else if (!label_selector_matches(&s, wl->pod.labels, wl->pod.n_labels))
		docwalk_error(x->w, sel, at, "does not match the template's labels (spec.template.metadata.labels)");
	label_selector_free(&s);
}

static int read_replicas(struct object *x, const cJSON *spec, const char *path)
{
	const cJSON *replicas = k8s_field(spec, "replicas");
	int n = 1;
	if (replicas) {
		autofree char *at = k8s_path(path, "replicas");
		docwalk_int(x->w, replicas, at, 0, 100000, "a number of replicas", "a number of replicas", &n);
	}
	return n;
}

/* The pod-template-hash a Deployment's controller labels its pods with:
 * FNV-1a of the template, as Kubernetes' controller hashes it, spelt in
 * its alphabet (no vowels, no look-alike digits). Ours hashes the template
 * as written, so the value is stable for a file, not equal to a cluster's. */
static const char k8s_alphabet[] = "bcdfghjklmnpqrstvwxz2456789";

static uint32_t fnv1a(const char *s, uint32_t h)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static char *template_hash(const cJSON *tmpl)
{
	autofree char *text = cJSON_PrintUnformatted(tmpl);
	char digits[16];
	snprintf(digits, sizeof(digits), "%u", fnv1a(text ? text : "", 2166136261u));
	for (char *c = digits; *c; c++)
		*c = k8s_alphabet[(unsigned char)*c % (sizeof(k8s_alphabet) - 1)];
	return xstrdup(digits);
}

/* ---- kinds ---- */

typedef void (*kind_reader)(struct object *x, const cJSON *spec, const char *namespace, const char *name);

static struct tb_workload *new_workload(struct object *x, enum tb_workload_kind kind, const char *namespace,
					const char *name)
{
	struct tb_topology *t = x->o->t;
	t->workloads = xrealloc(t->workloads, (t->n_workloads + 1) * sizeof(*t->workloads));
	struct tb_workload *wl = &t->workloads[t->n_workloads++];
	*wl = (struct tb_workload){.kind = kind, .name = xstrdup(name), .replicas = 1};
	wl->pod.namespace = xstrdup(namespace);
	wl->pod.origin = (struct tb_origin){.file = x->file,
					    .line = docwalk_line(x->w, x->item),
					    .column = docwalk_column(x->w, x->item),
					    .what = xstrdup(x->what)};
	wl->pod.line = wl->pod.origin.line;
	wl->pod.name_line = wl->pod.origin.line;
	return wl;
}

static void read_namespace(struct object *x, const cJSON *spec, const char *namespace, const char *name)
{
	(void)namespace;
	(void)spec;
	struct tb_topology *t = x->o->t;
	const cJSON *meta = k8s_field(x->item, "metadata");
	struct tb_namespace ns = {.name = xstrdup(name), .line = docwalk_line(x->w, x->item)};
	const cJSON *labels = meta ? k8s_field(meta, "labels") : NULL;
	if (labels) {
		autofree char *at = xstrdup("metadata.labels");
		k8s_read_labels(x, labels, at, &ns.labels, &ns.n_labels);
	}
	/* The API server labels every namespace with its own name. */
	const char *given = k8s_label_value(ns.labels, ns.n_labels, TB_LABEL_NAMESPACE_NAME);
	if (given && strcmp(given, name) != 0) {
		docwalk_error(x->w, k8s_field(labels, TB_LABEL_NAMESPACE_NAME), "metadata.labels." TB_LABEL_NAMESPACE_NAME,
			      "\"%s\" is not the namespace's name: the API server sets it", given);
	} else if (!given) {
		ns.labels = xrealloc(ns.labels, (ns.n_labels + 1) * sizeof(*ns.labels));
		ns.labels[ns.n_labels++] = (struct tb_label){xstrdup(TB_LABEL_NAMESPACE_NAME), xstrdup(name)};
	}
	/* "default" exists already: declaring it adds its labels. */
	for (size_t i = 0; i < t->n_namespaces; i++)
		if (strcmp(t->namespaces[i].name, name) == 0) {
			k8s_free_labels(t->namespaces[i].labels, t->namespaces[i].n_labels);
			t->namespaces[i].labels = ns.labels;
			t->namespaces[i].n_labels = ns.n_labels;
			t->namespaces[i].line = ns.line;
			free(ns.name);
			return;
		}
	t->namespaces = xrealloc(t->namespaces, (t->n_namespaces + 1) * sizeof(*t->namespaces));
	t->namespaces[t->n_namespaces++] = ns;
}

static void read_pod(struct object *x, const cJSON *spec, const char *namespace, const char *name)
{
	struct tb_workload *wl = new_workload(x, TB_WORKLOAD_POD, namespace, name);
	const cJSON *meta = k8s_field(x->item, "metadata");
	const cJSON *labels = meta ? k8s_field(meta, "labels") : NULL;
	if (labels)
		k8s_read_labels(x, labels, "metadata.labels", &wl->pod.labels, &wl->pod.n_labels);
	if (spec)
		read_pod_spec(x, spec, "spec", wl);
}

static void read_deployment(struct object *x, const cJSON *spec, const char *namespace, const char *name)
{
	struct tb_workload *wl = new_workload(x, TB_WORKLOAD_DEPLOYMENT, namespace, name);
	if (!spec)
		return;
	k8s_check_fields(x, spec, "spec", &deployment_fields);
	wl->replicas = read_replicas(x, spec, "spec");
	read_template(x, spec, "spec", wl);
	read_workload_selector(x, spec, "spec", wl);
	const cJSON *tmpl = k8s_field(spec, "template");
	wl->template_hash = template_hash(tmpl);
	/* Its pods carry the hash, as the controller labels them. */
	wl->pod.labels = xrealloc(wl->pod.labels, (wl->pod.n_labels + 1) * sizeof(*wl->pod.labels));
	wl->pod.labels[wl->pod.n_labels++] = (struct tb_label){xstrdup("pod-template-hash"), xstrdup(wl->template_hash)};
}

static void read_replicaset(struct object *x, const cJSON *spec, const char *namespace, const char *name)
{
	struct tb_workload *wl = new_workload(x, TB_WORKLOAD_REPLICASET, namespace, name);
	if (!spec)
		return;
	k8s_check_fields(x, spec, "spec", &replicaset_fields);
	wl->replicas = read_replicas(x, spec, "spec");
	read_template(x, spec, "spec", wl);
	read_workload_selector(x, spec, "spec", wl);
}

static void read_statefulset(struct object *x, const cJSON *spec, const char *namespace, const char *name)
{
	struct tb_workload *wl = new_workload(x, TB_WORKLOAD_STATEFULSET, namespace, name);
	if (!spec)
		return;
	k8s_check_fields(x, spec, "spec", &statefulset_fields);
	wl->replicas = read_replicas(x, spec, "spec");
	const cJSON *ordinals = k8s_field(spec, "ordinals");
	if (ordinals && docwalk_object(x->w, ordinals, "spec.ordinals", "an object ({start})")) {
		static const char *const ordinal_keys[] = {"start", NULL};
		docwalk_check_keys(x->w, ordinals, "spec.ordinals", ordinal_keys);
		const cJSON *start = k8s_field(ordinals, "start");
		if (start)
			docwalk_int(x->w, start, "spec.ordinals.start", 0, 1000000, "a number", "an ordinal",
				    &wl->ordinal_start);
	}
	/* Its pods' subdomain (the StatefulSet controller sets each pod's
	 * hostname to its name and subdomain to this). */
	const cJSON *service = k8s_field(spec, "serviceName");
	const char *service_name = service ? docwalk_string(x->w, service, "spec.serviceName", "a service's name") : NULL;
	if (service_name && *service_name && !docwalk_is_dns_label(service_name))
		docwalk_error(x->w, service, "spec.serviceName", "\"%s\" is not a Service's name (a DNS label)", service_name);
	else if (service_name && *service_name)
		wl->service_name = xstrdup(service_name);
	read_template(x, spec, "spec", wl);
	read_workload_selector(x, spec, "spec", wl);
}

static void read_daemonset(struct object *x, const cJSON *spec, const char *namespace, const char *name)
{
	struct tb_workload *wl = new_workload(x, TB_WORKLOAD_DAEMONSET, namespace, name);
	if (!spec)
		return;
	k8s_check_fields(x, spec, "spec", &daemonset_fields);
	read_template(x, spec, "spec", wl);
	read_workload_selector(x, spec, "spec", wl);
}

/* The kinds testbed knows. */
static const struct kind {
	const char *kind, *api_version;
	bool namespaced;
	bool name_is_label; /* its name becomes a hostname prefix: a DNS label */
	kind_reader read;
	const char *const *stood_in; /* of its own top-level fields, besides status */
	const char *const *top;      /* its top-level fields; NULL: apiVersion, kind, metadata, spec, status */
	bool reads_status;           /* its status says something used (a load balancer's address) */
} kinds[] = {
	{"Namespace", "v1", false, true, read_namespace, namespace_stood_in, NULL, false},
	{"Pod", "v1", true, false, read_pod, NULL, NULL, false},
	{"Deployment", "apps/v1", true, false, read_deployment, NULL, NULL, false},
	{"ReplicaSet", "apps/v1", true, false, read_replicaset, NULL, NULL, false},
	{"StatefulSet", "apps/v1", true, true, read_statefulset, NULL, NULL, false},
	{"DaemonSet", "apps/v1", true, false, read_daemonset, NULL, NULL, false},
	{"Service", "v1", true, true, k8s_read_service, NULL, service_top, true},
	{"EndpointSlice", "discovery.k8s.io/v1", true, false, k8s_read_endpoint_slice, NULL, slice_top, false},
	{"Ingress", "networking.k8s.io/v1", true, false, k8s_read_ingress, NULL, NULL, false},
	{"IngressClass", "networking.k8s.io/v1", false, false, k8s_read_ingress_class, NULL, NULL, false},
	{"NetworkPolicy", "networking.k8s.io/v1", true, false, k8s_read_network_policy, NULL, NULL, false},
};

static const struct kind *find_kind(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (strcmp(kinds[i].kind, name) == 0)
			return &kinds[i];
	return NULL;
}

static char *known_kinds(void)
{
	char *list = xstrdup("");
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		char *next = xasprintf("%s%s%s", list, i ? ", " : "", kinds[i].kind);
		free(list);
		list = next;
	}
	return list;
}

/* Records the object's identity; a repeat is an error naming both places. */
static bool first_time(struct object *x, const char *kind, const char *namespace, const char *name)
{
	struct k8s_objects *o = x->o;
	int line = docwalk_line(x->w, x->item), column = docwalk_column(x->w, x->item);
	const char *file = x->file ? x->file : (x->w->d->file ? x->w->d->file : "topology");
	for (size_t i = 0; i < o->n_seen; i++) {
		const struct seen *s = &o->seen[i];
		if (strcmp(s->kind, kind) == 0 && strcmp(s->name, name) == 0 &&
		    strcmp(s->namespace, namespace ? namespace : "") == 0) {
			docwalk_error(x->w, x->item, "", "given twice: first at %s, again here", s->where);
			return false;
		}
	}
	grow_array((void **)&o->seen, &o->cap_seen, o->n_seen + 1, sizeof(*o->seen));
	o->seen[o->n_seen++] = (struct seen){xstrdup(kind), xstrdup(namespace ? namespace : ""), xstrdup(name),
					     xasprintf("%s:%d:%d", file, line, column)};
	return true;
}

/* One object (not a List) at PATH. */
static void read_object(struct k8s_objects *o, struct docwalk *w, const cJSON *obj, const char *path,
			const char *file)
{
	struct object x = {.o = o, .w = w, .file = file, .item = obj};
	if (!docwalk_object(w, obj, path, "a Kubernetes object (apiVersion, kind, metadata, ...)"))
		return;
	const cJSON *kind_item = docwalk_member(w, obj, path, "kind", true);
	autofree char *kind_at = k8s_path(path, "kind");
	const char *kind_name = kind_item ? docwalk_string(w, kind_item, kind_at, "a kind") : NULL;
	if (!kind_name)
		return;
	const struct kind *k = find_kind(kind_name);
	if (!k) {
		autofree char *list = known_kinds();
		docwalk_error(w, kind_item, kind_at, "kind \"%s\" is not one testbed builds (it builds: %s)", kind_name,
			      list);
		return;
	}
	const cJSON *meta = docwalk_member(w, obj, path, "metadata", true);
	autofree char *meta_at = k8s_path(path, "metadata");
	if (!meta || !docwalk_object(w, meta, meta_at, "an object (name, namespace, labels, ...)"))
		return;
	const cJSON *name_item = k8s_field(meta, "name");
	autofree char *name_at = k8s_path(meta_at, "name");
	if (!name_item) {
		if (k8s_field(meta, "generateName"))
			docwalk_error(w, k8s_field(meta, "generateName"), "metadata.generateName",
				      "not implemented: testbed names objects as they are written: give metadata.name");
		else
			docwalk_error(w, meta, meta_at, "%s without metadata.name", kind_name);
		return;
	}
	const char *name = docwalk_string(w, name_item, name_at, "a name");
	if (!name)
		return;
	if (k->name_is_label ? !docwalk_is_dns_label(name) : !is_subdomain(name)) {
		docwalk_error(w, name_item, name_at, "\"%s\" is not a %s name: %s", name, kind_name,
			      k->name_is_label ? "1-63 of a-z, 0-9 and '-', a letter or digit at both ends"
					       : "DNS labels joined by '.', at most 253 in all");
		return;
	}
	const cJSON *ns_item = k8s_field(meta, "namespace");
	autofree char *ns_at = k8s_path(meta_at, "namespace");
	const char *namespace = k->namespaced ? TB_DEFAULT_NAMESPACE : NULL;
	if (ns_item) {
		const char *text = docwalk_string(w, ns_item, ns_at, "a namespace's name");
		if (!text)
			return;
		if (!k->namespaced) {
			docwalk_error(w, ns_item, ns_at, "a %s belongs to no namespace", kind_name);
			return;
		}
		if (!docwalk_is_dns_label(text)) {
			docwalk_error(w, ns_item, ns_at, "\"%s\" is not a namespace name", text);
			return;
		}
		namespace = text;
	}
	x.what = namespace ? xasprintf("%s %s/%s", kind_name, namespace, name) : xasprintf("%s %s", kind_name, name);
	/* From here every message names the object. */
	const char *outer_prefix = w->prefix;
	w->prefix = x.what;
	const cJSON *api = docwalk_member(w, obj, "", "apiVersion", true);
	const char *api_version = api ? docwalk_string(w, api, "apiVersion", "an API version") : NULL;
	if (api_version && strcmp(api_version, k->api_version) != 0)
		docwalk_error(w, api, "apiVersion", "\"%s\": a %s is %s", api_version, kind_name, k->api_version);
	/* A status is the cluster's account of an object, which kubectl prints:
	 * stood in for, unless the kind reads it (a load balancer's address). */
	const struct fields top = {k->top ? k->top : object_used, k->reads_status ? NULL : object_stood_in, NULL};
	k8s_check_fields(&x, obj, "", &top);
	if (k->stood_in)
		for (size_t i = 0; k->stood_in[i]; i++)
			if (k8s_field(obj, k->stood_in[i])) {
				grow_array((void **)&x.stood_in, &x.cap_stood_in, x.n_stood_in + 1, sizeof(*x.stood_in));
				x.stood_in[x.n_stood_in++] = xstrdup(k->stood_in[i]);
			}
	k8s_check_fields(&x, meta, "metadata", &meta_fields);
	const cJSON *spec = k8s_field(obj, "spec");
	if (spec && k->read != read_namespace && !docwalk_object(w, spec, "spec", "an object"))
		spec = NULL;
	if (first_time(&x, kind_name, namespace, name))
		k->read(&x, spec, namespace, name);
	w->prefix = outer_prefix;
	if (x.n_stood_in) {
		size_t len = 0;
		for (size_t i = 0; i < x.n_stood_in; i++)
			len += strlen(x.stood_in[i]) + 2;
		autofree char *fields = xcalloc(len + 1, 1);
		for (size_t i = 0; i < x.n_stood_in; i++) {
			if (i)
				strcat(fields, ", ");
			strcat(fields, x.stood_in[i]);
		}
		struct tb_topology *t = o->t;
		const char *shown = file ? file : (w->d->file ? w->d->file : "topology");
		t->notes = xrealloc(t->notes, (t->n_notes + 1) * sizeof(*t->notes));
		/* Workloads' fields are the pod server's to stand in for; a
		 * Service's or a Namespace's are simply not needed. */
		bool workload = k->read != read_namespace && k->read != k8s_read_service &&
				k->read != k8s_read_endpoint_slice && k->read != k8s_read_ingress &&
				k->read != k8s_read_ingress_class && k->read != k8s_read_network_policy;
		t->notes[t->n_notes++] = xasprintf(workload ? "%s:%d:%d: %s: the pod server stands in for %s (they do not "
							      "change the network)"
							    : "%s:%d:%d: %s: not used: %s (they do not change the network)",
						   shown, docwalk_line(w, obj), docwalk_column(w, obj), x.what, fields);
	}
	for (size_t i = 0; i < x.n_stood_in; i++)
		free(x.stood_in[i]);
	free(x.stood_in);
	free(x.what);
}

/* OBJ at PATH: an object, or a kind: List of them. */
static void read_object_or_list(struct k8s_objects *o, struct docwalk *w, const cJSON *obj, const char *path,
				const char *file)
{
	const cJSON *kind = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, "kind") : NULL;
	/* kind: List, as kubectl get -o json prints several objects. */
	if (cJSON_IsString(kind) && strcmp(kind->valuestring, "List") == 0) {
		static const char *const list_keys[] = {"apiVersion", "kind", "items", "metadata", NULL};
		docwalk_check_keys(w, obj, path, list_keys);
		const cJSON *items = docwalk_member(w, obj, path, "items", true);
		autofree char *items_at = k8s_path(path, "items");
		if (items)
			k8s_read_objects(o, w, items, items_at, file);
		return;
	}
	read_object(o, w, obj, path, file);
}

void k8s_read_documents(struct k8s_objects *o, struct docwalk *w, const cJSON *documents, const char *file)
{
	for (const cJSON *doc = documents->child; doc; doc = doc->next)
		read_object_or_list(o, w, doc, "", file);
}

void k8s_read_objects(struct k8s_objects *o, struct docwalk *w, const cJSON *arr, const char *path, const char *file)
{
	if (!docwalk_array(w, arr, path, "an array of Kubernetes objects"))
		return;
	size_t i = 0;
	for (const cJSON *obj = arr->child; obj; obj = obj->next, i++) {
		autofree char *at = docwalk_path_index(path, i);
		read_object_or_list(o, w, obj, at, file);
	}
}

struct k8s_objects *k8s_objects_new(struct tb_topology *t)
{
	struct k8s_objects *o = xcalloc(1, sizeof(*o));
	o->t = t;
	return o;
}

void k8s_objects_done(struct k8s_objects *o)
{
	for (size_t i = 0; i < o->n_seen; i++) {
		free(o->seen[i].kind);
		free(o->seen[i].namespace);
		free(o->seen[i].name);
		free(o->seen[i].where);
	}
	free(o->seen);
	free(o);
}
