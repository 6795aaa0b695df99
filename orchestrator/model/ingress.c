/* Which Ingresses the lab's ingress controller serves, and the controller
 * itself (ingress.h). */
#define _GNU_SOURCE
#include "model/ingress.h"

#include <stdarg.h>
#include <string.h>

#include "util/diag.h"
#include "util/util.h"

static void note(struct tb_topology *t, const char *topology, const struct tb_ingress *in, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void note(struct tb_topology *t, const char *topology, const struct tb_ingress *in, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	autofree char *why = xvasprintf(fmt, ap);
	va_end(ap);
	const char *file = in->origin.file ? in->origin.file : topology ? topology : "topology";
	t->notes = xrealloc(t->notes, (t->n_notes + 1) * sizeof(*t->notes));
	t->notes[t->n_notes++] = xasprintf("%s:%d:%d: %s: %s", file, in->origin.line, in->origin.column,
					   in->origin.what, why);
}

static const struct tb_ingress_class *find_class(const struct tb_topology *t, const char *name)
{
	for (size_t i = 0; i < t->n_ingress_classes; i++)
		if (strcmp(t->ingress_classes[i].name, name) == 0)
			return &t->ingress_classes[i];
	return NULL;
}

/* Is class NAME the lab controller's? A declared IngressClass is when its
 * controller is ingress-nginx's; "nginx", which the upstream manifests
 * install, is unless declared otherwise. */
static bool ours(const struct tb_topology *t, const char *name)
{
	const struct tb_ingress_class *c = find_class(t, name);
	if (c)
		return strcmp(c->controller, TB_INGRESS_CONTROLLER_CLASS) == 0;
	return strcmp(name, TB_INGRESS_DEFAULT_CLASS) == 0;
}

/* The default IngressClass, as the admission plugin finds it. */
static const struct tb_ingress_class *default_class(const struct tb_topology *t)
{
	for (size_t i = 0; i < t->n_ingress_classes; i++)
		if (t->ingress_classes[i].is_default)
			return &t->ingress_classes[i];
	return NULL;
}

/* Marks the Ingresses the controller serves, noting every other one. */
static size_t choose_served(struct tb_topology *t, const char *topology)
{
	size_t n = 0;
	const struct tb_ingress_class *def = default_class(t);
	size_t n_default = 0;
	for (size_t i = 0; i < t->n_ingress_classes; i++)
		n_default += t->ingress_classes[i].is_default;
	for (size_t i = 0; i < t->n_ingresses; i++) {
		struct tb_ingress *in = &t->ingresses[i];
		if (in->class_name) {
			in->served = ours(t, in->class_name);
			if (!in->served)
				note(t, topology, in, "served by no controller of the lab: its class \"%s\" is %s", in->class_name,
				     find_class(t, in->class_name) ? "another controller's" : "not declared");
		} else if (n_default > 1) {
			/* The admission plugin refuses it: which default is unclear. */
			note(t, topology, in, "not served: it names no class and %zu IngressClasses are marked the "
					       "default, so the API server refuses it without spec.ingressClassName",
			     n_default);
		} else if (def) {
			/* The admission plugin gave it the default class. */
			in->served = strcmp(def->controller, TB_INGRESS_CONTROLLER_CLASS) == 0;
			if (!in->served)
				note(t, topology, in, "served by no controller of the lab: it names no class, and the default "
					    "IngressClass %s is another controller's (%s)",
				     def->name, def->controller);
		} else {
			note(t, topology, in, "not served: it names no class and no IngressClass is the default "
				    "(ingressclass.kubernetes.io/is-default-class: \"true\"); give spec.ingressClassName: %s",
			     TB_INGRESS_DEFAULT_CLASS);
		}
		n += in->served;
	}
	return n;
}

/* The labels the upstream manifests give the controller's pod, which its
 * Service selects. */
static const struct {
	const char *key, *value;
} controller_label[] = {
	{"app.kubernetes.io/name", "ingress-nginx"},
	{"app.kubernetes.io/instance", "ingress-nginx"},
	{"app.kubernetes.io/component", "controller"},
};

static bool controller_labels(const struct tb_label *labels, size_t n)
{
	for (size_t i = 0; i < ARRAY_SIZE(controller_label); i++) {
		bool found = false;
		for (size_t k = 0; k < n && !found; k++)
			found = strcmp(labels[k].key, controller_label[i].key) == 0 &&
				strcmp(labels[k].value, controller_label[i].value) == 0;
		if (!found)
			return false;
	}
	return true;
}

/* A backend naming no Service of the lab, or no port of it, is what
 * ingress-nginx answers 503 for: noted, at the backend's path. */
static void note_backend(struct tb_topology *t, const char *topology, const struct tb_ingress *in,
			 const struct tb_ingress_backend *b, const char *path)
{
	if (!b->service)
		return;
	const struct tb_service *s = NULL;
	for (size_t i = 0; i < t->n_services_objects && !s; i++)
		if (strcmp(t->services[i].namespace, in->namespace) == 0 && strcmp(t->services[i].name, b->service) == 0)
			s = &t->services[i];
	if (!s) {
		note(t, topology, in, "%s.service.name: no Service \"%s\" in namespace %s: ingress-nginx answers 503 there",
		     path, b->service, in->namespace);
		return;
	}
	for (size_t k = 0; k < s->n_ports; k++)
		if (s->ports[k].protocol == TB_PROTOCOL_TCP &&
		    (b->port_name ? strcmp(s->ports[k].name, b->port_name) == 0 : s->ports[k].port == b->port))
			return;
	if (b->port_name)
		note(t, topology, in, "%s.service.port.name: Service %s/%s has no TCP port named \"%s\": ingress-nginx "
				      "answers 503 there",
		     path, s->namespace, s->name, b->port_name);
	else
		note(t, topology, in, "%s.service.port.number: Service %s/%s has no TCP port %d: ingress-nginx answers 503 "
				      "there",
		     path, s->namespace, s->name, b->port);
}

static void note_backends(struct tb_topology *t, const char *topology)
{
	for (size_t i = 0; i < t->n_ingresses; i++) {
		const struct tb_ingress *in = &t->ingresses[i];
		if (!in->served)
			continue;
		note_backend(t, topology, in, &in->default_backend, "spec.defaultBackend");
		for (size_t r = 0; r < in->n_rules; r++)
			for (size_t k = 0; k < in->rules[r].n_paths; k++) {
				autofree char *at = xasprintf("spec.rules[%zu].http.paths[%zu].backend", r, k);
				note_backend(t, topology, in, &in->rules[r].paths[k].backend, at);
			}
	}
}

/* The controller's names are the lab's: a user object that takes them is
 * refused, naming it. */
static bool names_free(const struct tb_topology *t, struct diag *d)
{
	bool ok = true;
	for (size_t i = 0; i < t->n_services_objects; i++) {
		const struct tb_service *s = &t->services[i];
		if (strcmp(s->namespace, TB_INGRESS_NAMESPACE) == 0 && strcmp(s->name, TB_INGRESS_CONTROLLER) == 0) {
			autofree char *at = xasprintf("%s: metadata.name", s->origin.what);
			diag_error_in(d, s->origin.file, s->origin.line, s->origin.column, at,
				      "Service " TB_INGRESS_NAMESPACE "/" TB_INGRESS_CONTROLLER " is the lab's ingress "
				      "controller's, which testbed makes itself for the Ingresses it serves: name yours "
				      "otherwise");
			ok = false;
		}
	}
	for (size_t i = 0; i < t->n_slices; i++) {
		const struct tb_endpoint_slice *es = &t->slices[i];
		if (strcmp(es->namespace, TB_INGRESS_NAMESPACE) == 0 && es->service &&
		    strcmp(es->service, TB_INGRESS_CONTROLLER) == 0) {
			autofree char *at = xasprintf("%s: metadata.labels", es->origin.what);
			diag_error_in(d, es->origin.file, es->origin.line, es->origin.column, at,
				      "an EndpointSlice of Service " TB_INGRESS_NAMESPACE "/" TB_INGRESS_CONTROLLER
				      ", the lab's ingress controller's: its endpoint is the controller's pod");
			ok = false;
		}
	}
	for (size_t i = 0; i < t->n_nodes; i++)
		for (size_t j = 0; j < t->nodes[i].n_pods; j++) {
			const struct tb_pod *pod = &t->nodes[i].pods[j];
			if (strcmp(pod->namespace, TB_INGRESS_NAMESPACE) != 0)
				continue;
			const char *what = pod->origin.what ? pod->origin.what : pod->name;
			if (strcmp(pod->name, TB_INGRESS_CONTROLLER) == 0) {
				autofree char *at = xasprintf("%s: metadata.name", what);
				diag_error_in(d, pod->origin.file, pod->origin.line, pod->origin.column, at,
					      "pod " TB_INGRESS_NAMESPACE "/" TB_INGRESS_CONTROLLER " is the lab's ingress "
					      "controller, which testbed runs itself: name yours otherwise");
				ok = false;
			} else if (controller_labels(pod->labels, pod->n_labels)) {
				autofree char *at = xasprintf("%s: metadata.labels", what);
				diag_error_in(d, pod->origin.file, pod->origin.line, pod->origin.column, at,
					      "pod %s/%s has the ingress controller's labels (app.kubernetes.io/name: "
					      "ingress-nginx, app.kubernetes.io/instance: ingress-nginx, "
					      "app.kubernetes.io/component: controller): the controller's Service would send "
					      "requests to it; label it otherwise",
					      pod->namespace, pod->name);
				ok = false;
			}
		}
	return ok;
}

static struct tb_label label(const char *key, const char *value)
{
	return (struct tb_label){xstrdup(key), xstrdup(value)};
}

static void add_namespace(struct tb_topology *t)
{
	if (topology_find_namespace(t, TB_INGRESS_NAMESPACE))
		return;
	t->namespaces = xrealloc(t->namespaces, (t->n_namespaces + 1) * sizeof(*t->namespaces));
	struct tb_namespace *ns = &t->namespaces[t->n_namespaces++];
	*ns = (struct tb_namespace){.name = xstrdup(TB_INGRESS_NAMESPACE), .labels = xcalloc(1, sizeof(*ns->labels)),
				    .n_labels = 1};
	ns->labels[0] = label(TB_LABEL_NAMESPACE_NAME, TB_INGRESS_NAMESPACE);
}

/* The controller's pod, last on the first node: its address comes after
 * every pod of the user's, so adding it moves none. */
static void add_pod(struct tb_topology *t)
{
	struct tb_node *n = &t->nodes[0];
	n->pods = xrealloc(n->pods, (n->n_pods + 1) * sizeof(*n->pods));
	struct tb_pod *pod = &n->pods[n->n_pods++];
	*pod = (struct tb_pod){
		.name = xstrdup(TB_INGRESS_CONTROLLER),
		.namespace = xstrdup(TB_INGRESS_NAMESPACE),
		.image = xstrdup("pod"),
		.labels = xcalloc(3, sizeof(*pod->labels)),
		.n_labels = 3,
		.ports = xcalloc(1, sizeof(*pod->ports)),
		.n_ports = 1,
		.disk = TB_DEFAULT_DISK,
		.command = xcalloc(6, sizeof(*pod->command)),
		.n_command = 5,
		.origin = {.what = xstrdup("the lab's ingress controller (ingress-nginx)")},
	};
	for (size_t i = 0; i < ARRAY_SIZE(controller_label); i++)
		pod->labels[i] = label(controller_label[i].key, controller_label[i].value);
	pod->ports[0] = (struct tb_port){xstrdup(TB_HTTP_PORT_NAME), 80, TB_PROTOCOL_TCP};
	const char *argv[] = {INGRESS_NGINX_BINARY, "-g", "daemon off;", "-c", INGRESS_NGINX_CONF};
	for (size_t i = 0; i < ARRAY_SIZE(argv); i++)
		pod->command[i] = xstrdup(argv[i]);
	t->n_pods++;
}

static void add_service(struct tb_topology *t)
{
	const struct tb_ingress_settings *in = &t->cluster.ingress;
	int node_port = in->node_port;
	if (!node_port)
		node_port = TB_INGRESS_DEFAULT_NODE_PORT >= t->cluster.node_port_min &&
					    TB_INGRESS_DEFAULT_NODE_PORT <= t->cluster.node_port_max
				    ? TB_INGRESS_DEFAULT_NODE_PORT
				    : t->cluster.node_port_min;
	/* The default yields to a user's Service that asks for it: IPAM then
	 * gives the lowest free one. */
	for (size_t i = 0; !in->node_port && i < t->n_services_objects; i++)
		for (size_t k = 0; k < t->services[i].n_ports; k++)
			if (t->services[i].ports[k].node_port == node_port)
				node_port = 0;
	struct tb_service s = {
		.name = xstrdup(TB_INGRESS_CONTROLLER),
		.namespace = xstrdup(TB_INGRESS_NAMESPACE),
		.type = in->type,
		.has_selector = true,
		.selector = xcalloc(3, sizeof(*s.selector)),
		.n_selector = 3,
		.ports = xcalloc(1, sizeof(*s.ports)),
		.n_ports = 1,
		.affinity_timeout = 10800,
		.allocate_node_ports = true,
		.origin = {.line = in->line, .what = xstrdup("Service ingress-nginx/ingress-nginx-controller (cluster.ingress)")},
	};
	for (size_t i = 0; i < ARRAY_SIZE(controller_label); i++)
		s.selector[i] = label(controller_label[i].key, controller_label[i].value);
	s.ports[0] = (struct tb_service_port){.name = xstrdup(TB_HTTP_PORT_NAME),
					      .protocol = TB_PROTOCOL_TCP,
					      .port = 80,
					      .target_port_name = xstrdup(TB_HTTP_PORT_NAME),
					      .node_port = node_port};
	if (in->type == TB_SERVICE_LOAD_BALANCER) {
		s.load_balancer_ips = xcalloc(1, sizeof(*s.load_balancer_ips));
		s.load_balancer_ips[0] = in->load_balancer_ip;
		s.n_load_balancer_ips = 1;
		s.load_balancer_ip_key = "cluster.ingress.loadBalancerIP";
	}
	t->services = xrealloc(t->services, (t->n_services_objects + 1) * sizeof(*t->services));
	t->services[t->n_services_objects++] = s;
}

bool ingress_controller_add(struct tb_topology *t, struct diag *d)
{
	size_t errors = d->count;
	for (size_t i = 0; i < t->n_ingresses; i++) {
		const struct tb_ingress *in = &t->ingresses[i];
		if (!topology_find_namespace(t, in->namespace))
			diag_error_in(d, in->origin.file, in->origin.line, in->origin.column, in->origin.what,
				      "metadata.namespace: namespace \"%s\" is not declared: add a Namespace object for it",
				      in->namespace);
	}
	if (!choose_served(t, d->file)) {
		if (t->cluster.ingress.line)
			diag_note(d, "cluster.ingress: no Ingress is served, so the lab runs no ingress controller");
		return d->count == errors;
	}
	if (!t->n_nodes) {
		for (size_t i = 0; i < t->n_ingresses; i++)
			if (t->ingresses[i].served) {
				const struct tb_origin *o = &t->ingresses[i].origin;
				diag_error_in(d, o->file, o->line, o->column, o->what,
					      "an Ingress needs a cluster: its controller runs on a node");
			}
		return false;
	}
	const struct tb_ingress_settings *set = &t->cluster.ingress;
	if (set->node_port && (set->node_port < t->cluster.node_port_min || set->node_port > t->cluster.node_port_max))
		diag_error(d, set->line, "cluster.ingress.nodePort", "%d is outside cluster.nodePortRange %d-%d",
			   set->node_port, t->cluster.node_port_min, t->cluster.node_port_max);
	for (size_t i = 0; set->node_port && i < t->n_services_objects; i++)
		for (size_t k = 0; k < t->services[i].n_ports; k++)
			if (t->services[i].ports[k].node_port == set->node_port)
				diag_error(d, set->line, "cluster.ingress.nodePort", "%d is Service %s/%s's node port already",
					   set->node_port, t->services[i].namespace, t->services[i].name);
	if (!names_free(t, d) || d->count != errors)
		return false;
	note_backends(t, d->file);
	add_namespace(t);
	add_pod(t);
	add_service(t);
	return true;
}
