/* Ingress and IngressClass (networking.k8s.io/v1) as objects (k8s_object.h):
 * every field as users write it, checked as the API server checks it
 * (ValidateIngressSpec: hosts are DNS names or one leading wildcard label,
 * Exact and Prefix paths absolute and free of "//", "/./" and the like, a
 * pathType on every path, a backend naming a Service and one port); TLS,
 * resource backends and ingress-nginx's own annotations, which change how
 * the proxy answers, are refused by name. Which Ingresses the lab's
 * controller serves is model/ingress.c's. */
#define _GNU_SOURCE
#include <string.h>

#include "model/k8s_object.h"
#include "model/ports.h"
#include "util/diag.h"
#include "util/ipv4.h"
#include "util/util.h"

#define ANNOTATION_CLASS "kubernetes.io/ingress.class"
#define ANNOTATION_DEFAULT_CLASS "ingressclass.kubernetes.io/is-default-class"
#define NGINX_ANNOTATIONS "nginx.ingress.kubernetes.io/"

static const char *const ingress_used[] = {"ingressClassName", "defaultBackend", "rules", NULL};
static const struct refused ingress_refused[] = {
	{"tls", "TLS: the lab's controller serves plain HTTP on port 80"},
	{NULL, NULL},
};
static const struct fields ingress_fields = {ingress_used, NULL, ingress_refused};

static const char *const rule_used[] = {"host", "http", NULL};
static const struct fields rule_fields = {rule_used, NULL, NULL};
static const char *const http_used[] = {"paths", NULL};
static const struct fields http_fields = {http_used, NULL, NULL};
static const char *const path_used[] = {"path", "pathType", "backend", NULL};
static const struct fields path_fields = {path_used, NULL, NULL};
static const char *const backend_used[] = {"service", NULL};
static const struct refused backend_refused[] = {
	{"resource", "a resource backend (an object of another API group): ingress-nginx proxies to Services only"},
	{NULL, NULL},
};
static const struct fields backend_fields = {backend_used, NULL, backend_refused};
static const char *const service_used[] = {"name", "port", NULL};
static const struct fields service_fields = {service_used, NULL, NULL};
static const char *const port_used[] = {"name", "number", NULL};
static const struct fields port_fields = {port_used, NULL, NULL};

static const char *const class_used[] = {"controller", NULL};
static const char *const class_stood_in[] = {"parameters", NULL};
static const struct fields class_fields = {class_used, class_stood_in, NULL};

/* A backend ({service: {name, port: {number | name}}}) into B. */
static void read_backend(struct object *x, const cJSON *obj, const char *path, struct tb_ingress_backend *b)
{
	if (!docwalk_object(x->w, obj, path, "a backend ({service: {name, port}})"))
		return;
	k8s_check_fields(x, obj, path, &backend_fields);
	const cJSON *service = k8s_field(obj, "service");
	autofree char *service_at = k8s_path(path, "service");
	if (!service) {
		if (!k8s_field(obj, "resource"))
			docwalk_error(x->w, obj, service_at, "a backend names a Service");
		return;
	}
	if (!docwalk_object(x->w, service, service_at, "a Service backend ({name, port})"))
		return;
	k8s_check_fields(x, service, service_at, &service_fields);
	const cJSON *name = docwalk_member(x->w, service, service_at, "name", true);
	autofree char *name_at = k8s_path(service_at, "name");
	const char *text = name ? docwalk_string(x->w, name, name_at, "a Service's name") : NULL;
	/* A Service's name is a DNS label (RFC 1035: it starts with a letter). */
	if (text && (!docwalk_is_dns_label(text) || (text[0] >= '0' && text[0] <= '9')))
		docwalk_error(x->w, name, name_at, "\"%s\" is not a Service's name (a DNS label starting with a letter)",
			      text);
	else if (text)
		b->service = xstrdup(text);
	const cJSON *port = docwalk_member(x->w, service, service_at, "port", true);
	autofree char *port_at = k8s_path(service_at, "port");
	if (!port || !docwalk_object(x->w, port, port_at, "a port ({number} or {name})"))
		return;
	k8s_check_fields(x, port, port_at, &port_fields);
	const cJSON *number = k8s_field(port, "number"), *pname = k8s_field(port, "name");
	if (number && pname) {
		docwalk_error(x->w, port, port_at, "a port is given by number or by name, not both");
		return;
	}
	if (!number && !pname) {
		docwalk_error(x->w, port, port_at, "a port needs its number or its name");
		return;
	}
	if (number) {
		autofree char *at = k8s_path(port_at, "number");
		docwalk_int(x->w, number, at, 1, 65535, "a port number", "a port", &b->port);
		return;
	}
	autofree char *at = k8s_path(port_at, "name");
	const char *ptext = docwalk_string(x->w, pname, at, "a port's name");
	if (ptext && !ports_is_name(ptext))
		docwalk_error(x->w, pname, at, "\"%s\" is not a port name: 1-15 of a-z, 0-9 and '-', with a letter", ptext);
	else if (ptext)
		b->port_name = xstrdup(ptext);
}

/* A rule's host: a DNS name, or "*." and one, never an address. */
static bool host_ok(struct object *x, const cJSON *item, const char *path, const char *host)
{
	uint32_t addr;
	if (ipv4_addr_parse(host, &addr)) {
		docwalk_error(x->w, item, path, "\"%s\" must be a DNS name, not an IP address", host);
		return false;
	}
	const char *name = strncmp(host, "*.", 2) == 0 ? host + 2 : host;
	if (!topology_is_dns_subdomain(name) || strchr(name, '*')) {
		docwalk_error(x->w, item, path,
			      "\"%s\" is not a host: a DNS name (lowercase labels joined by '.'), or \"*.\" and one",
			      host);
		return false;
	}
	return true;
}

/* What the API server refuses in an Exact or Prefix path. */
static const char *path_problem(const char *p)
{
	static const char *const sequences[] = {"//", "/./", "/../", "%2f", "%2F"};
	static const char *const suffixes[] = {"/..", "/."};
	static char why[64];
	for (size_t i = 0; i < ARRAY_SIZE(sequences); i++)
		if (strstr(p, sequences[i])) {
			snprintf(why, sizeof(why), "must not contain '%s'", sequences[i]);
			return why;
		}
	size_t n = strlen(p);
	for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
		size_t k = strlen(suffixes[i]);
		if (n >= k && strcmp(p + n - k, suffixes[i]) == 0) {
			snprintf(why, sizeof(why), "cannot end with '%s'", suffixes[i]);
			return why;
		}
	}
	return NULL;
}

static void read_path(struct object *x, const cJSON *obj, const char *path, struct tb_ingress_path *ip)
{
	k8s_check_fields(x, obj, path, &path_fields);
	static const char *const types[] = {"Exact", "Prefix", "ImplementationSpecific", NULL};
	const cJSON *type = k8s_field(obj, "pathType");
	autofree char *type_at = k8s_path(path, "pathType");
	int which = -1;
	if (!type)
		docwalk_error(x->w, obj, type_at, "pathType must be specified (Exact, Prefix or ImplementationSpecific)");
	else
		which = docwalk_choice(x->w, type, type_at, types);
	ip->type = which < 0 ? TB_PATH_PREFIX : (enum tb_path_type)which;
	const cJSON *p = k8s_field(obj, "path");
	autofree char *p_at = k8s_path(path, "path");
	const char *text = p ? docwalk_string(x->w, p, p_at, "a path") : "";
	if (!text)
		text = "";
	bool control = false;
	for (const unsigned char *c = (const unsigned char *)text; *c && !control; c++)
		control = *c < ' ' || *c == 0x7f;
	if (control)
		docwalk_error(x->w, p, p_at, "a path holds no control characters: a request line cannot carry them");
	else if (which >= 0 && (which != TB_PATH_IMPLEMENTATION_SPECIFIC || *text) && text[0] != '/')
		docwalk_error(x->w, p ? p : obj, p_at, "\"%s\" must be an absolute path (starting with '/')", text);
	else if ((which == TB_PATH_EXACT || which == TB_PATH_PREFIX) && path_problem(text))
		docwalk_error(x->w, p, p_at, "\"%s\" %s", text, path_problem(text));
	ip->path = xstrdup(text);
	const cJSON *backend = docwalk_member(x->w, obj, path, "backend", true);
	if (backend) {
		autofree char *at = k8s_path(path, "backend");
		read_backend(x, backend, at, &ip->backend);
	}
}

static void read_rule(struct object *x, const cJSON *obj, const char *path, struct tb_ingress_rule *r)
{
	k8s_check_fields(x, obj, path, &rule_fields);
	const cJSON *host = k8s_field(obj, "host");
	autofree char *host_at = k8s_path(path, "host");
	const char *text = host ? docwalk_string(x->w, host, host_at, "a host name") : NULL;
	if (text && *text && host_ok(x, host, host_at, text))
		r->host = xstrdup(text);
	const cJSON *http = k8s_field(obj, "http");
	if (!http)
		return;
	autofree char *http_at = k8s_path(path, "http");
	if (!docwalk_object(x->w, http, http_at, "an object ({paths})"))
		return;
	k8s_check_fields(x, http, http_at, &http_fields);
	const cJSON *paths = docwalk_member(x->w, http, http_at, "paths", true);
	autofree char *paths_at = k8s_path(http_at, "paths");
	if (!paths || !docwalk_array(x->w, paths, paths_at, "an array of paths"))
		return;
	if (!cJSON_GetArraySize(paths))
		docwalk_error(x->w, paths, paths_at, "http needs at least one path");
	r->paths = xcalloc((size_t)cJSON_GetArraySize(paths) + 1, sizeof(*r->paths));
	size_t i = 0;
	for (const cJSON *p = paths->child; p; p = p->next, i++) {
		autofree char *at = docwalk_path_index(paths_at, i);
		if (docwalk_object(x->w, p, at, "a path ({path, pathType, backend})"))
			read_path(x, p, at, &r->paths[r->n_paths++]);
	}
}

/* metadata.annotations, of which the reader uses those USED says: the
 * generic note ("not used: metadata.annotations") becomes one per
 * annotation that is not. */
static void note_annotations(struct object *x, bool (*used)(const char *key))
{
	const cJSON *meta = k8s_field(x->item, "metadata");
	const cJSON *notes = meta ? k8s_field(meta, "annotations") : NULL;
	if (!notes || !cJSON_IsObject(notes))
		return;
	size_t k = 0;
	for (size_t i = 0; i < x->n_stood_in; i++) {
		if (strcmp(x->stood_in[i], "metadata.annotations") == 0)
			free(x->stood_in[i]);
		else
			x->stood_in[k++] = x->stood_in[i];
	}
	x->n_stood_in = k;
	for (const cJSON *a = notes->child; a; a = a->next)
		if (!used(a->string)) {
			grow_array((void **)&x->stood_in, &x->cap_stood_in, x->n_stood_in + 1, sizeof(*x->stood_in));
			x->stood_in[x->n_stood_in++] = k8s_path("metadata.annotations", a->string);
		}
}

static bool ingress_annotation_used(const char *key)
{
	/* ingress-nginx's own are refused, which is not standing in. */
	return strcmp(key, ANNOTATION_CLASS) == 0 || strncmp(key, NGINX_ANNOTATIONS, strlen(NGINX_ANNOTATIONS)) == 0;
}

static bool class_annotation_used(const char *key)
{
	return strcmp(key, ANNOTATION_DEFAULT_CLASS) == 0;
}

/* metadata.annotations: the legacy class is read; ingress-nginx's own
 * each change what the proxy does, so each is refused by name. */
static void read_annotations(struct object *x, struct tb_ingress *in)
{
	const cJSON *meta = k8s_field(x->item, "metadata");
	const cJSON *notes = meta ? k8s_field(meta, "annotations") : NULL;
	if (!notes || !docwalk_object(x->w, notes, "metadata.annotations", "an object of string annotations"))
		return;
	for (const cJSON *a = notes->child; a; a = a->next) {
		autofree char *at = k8s_path("metadata.annotations", a->string);
		if (strncmp(a->string, NGINX_ANNOTATIONS, strlen(NGINX_ANNOTATIONS)) == 0) {
			docwalk_error(x->w, a, at,
				      "not implemented: ingress-nginx's annotation %s changes how the controller answers; "
				      "testbed's controller does not build it",
				      a->string);
		} else if (strcmp(a->string, ANNOTATION_CLASS) == 0) {
			const char *text = docwalk_string(x->w, a, at, "an ingress class's name");
			if (text && !in->class_name) {
				in->class_name = xstrdup(text);
				in->class_by_annotation = true;
			} else if (text && strcmp(text, in->class_name) != 0) {
				docwalk_error(x->w, a, at, "\"%s\" differs from spec.ingressClassName \"%s\": give one of them",
					      text, in->class_name);
			}
		}
	}
}

void k8s_read_ingress(struct object *x, const cJSON *spec, const char *namespace, const char *name)
{
	struct tb_topology *t = x->o->t;
	struct tb_ingress in = {
		.name = xstrdup(name),
		.namespace = xstrdup(namespace),
		.origin = {.file = x->file,
			   .line = docwalk_line(x->w, x->item),
			   .column = docwalk_column(x->w, x->item),
			   .what = xstrdup(x->what)},
	};
	const cJSON *meta = k8s_field(x->item, "metadata");
	const cJSON *created = meta ? k8s_field(meta, "creationTimestamp") : NULL;
	in.created = xstrdup(cJSON_IsString(created) ? created->valuestring : "");
	if (!spec) {
		docwalk_error(x->w, x->item, "spec", "an Ingress needs a spec (rules or defaultBackend)");
		goto add;
	}
	k8s_check_fields(x, spec, "spec", &ingress_fields);
	const cJSON *cls = k8s_field(spec, "ingressClassName");
	if (cls) {
		const char *text = docwalk_string(x->w, cls, "spec.ingressClassName", "an IngressClass's name");
		if (text && !topology_is_dns_subdomain(text))
			docwalk_error(x->w, cls, "spec.ingressClassName", "\"%s\" is not an IngressClass's name", text);
		else if (text)
			in.class_name = xstrdup(text);
	}
	read_annotations(x, &in);
	note_annotations(x, ingress_annotation_used);
	const cJSON *backend = k8s_field(spec, "defaultBackend");
	if (backend)
		read_backend(x, backend, "spec.defaultBackend", &in.default_backend);
	const cJSON *rules = k8s_field(spec, "rules");
	if (rules && docwalk_array(x->w, rules, "spec.rules", "an array of rules")) {
		in.rules = xcalloc((size_t)cJSON_GetArraySize(rules) + 1, sizeof(*in.rules));
		size_t i = 0;
		for (const cJSON *r = rules->child; r; r = r->next, i++) {
			autofree char *at = docwalk_path_index("spec.rules", i);
			if (docwalk_object(x->w, r, at, "a rule ({host, http})"))
				read_rule(x, r, at, &in.rules[in.n_rules++]);
		}
	}
	if (!backend && (!rules || !cJSON_GetArraySize(rules)))
		docwalk_error(x->w, spec, "spec", "either defaultBackend or rules must be specified");
add:
	t->ingresses = xrealloc(t->ingresses, (t->n_ingresses + 1) * sizeof(*t->ingresses));
	t->ingresses[t->n_ingresses++] = in;
}

void k8s_read_ingress_class(struct object *x, const cJSON *spec, const char *namespace, const char *name)
{
	(void)namespace;
	struct tb_topology *t = x->o->t;
	struct tb_ingress_class c = {
		.name = xstrdup(name),
		.origin = {.file = x->file,
			   .line = docwalk_line(x->w, x->item),
			   .column = docwalk_column(x->w, x->item),
			   .what = xstrdup(x->what)},
	};
	if (!spec)
		docwalk_error(x->w, x->item, "spec.controller", "an IngressClass names its controller");
	if (spec) {
		k8s_check_fields(x, spec, "spec", &class_fields);
		const cJSON *controller = docwalk_member(x->w, spec, "spec", "controller", true);
		const char *text = controller ? docwalk_string(x->w, controller, "spec.controller", "a controller's name")
					      : NULL;
		/* A domain-prefixed path ("k8s.io/ingress-nginx"), as the API server
		 * requires, at most 250 characters. */
		const char *slash = text ? strchr(text, '/') : NULL;
		autofree char *domain = slash ? xasprintf("%.*s", (int)(slash - text), text) : NULL;
		if (text && (!slash || !slash[1] || strlen(text) > 250 || !topology_is_dns_subdomain(domain)))
			docwalk_error(x->w, controller, "spec.controller",
				      "\"%s\" is not a domain-prefixed path (such as \"k8s.io/ingress-nginx\"), at most 250 "
				      "characters",
				      text);
		else if (text)
			c.controller = xstrdup(text);
	}
	if (!c.controller)
		c.controller = xstrdup("");
	const cJSON *meta = k8s_field(x->item, "metadata");
	const cJSON *notes = meta ? k8s_field(meta, "annotations") : NULL;
	const cJSON *def = notes && cJSON_IsObject(notes) ? k8s_field(notes, ANNOTATION_DEFAULT_CLASS) : NULL;
	/* The admission plugin takes only "true" as the default's mark. */
	c.is_default = cJSON_IsString(def) && strcmp(def->valuestring, "true") == 0;
	note_annotations(x, class_annotation_used);
	t->ingress_classes = xrealloc(t->ingress_classes, (t->n_ingress_classes + 1) * sizeof(*t->ingress_classes));
	t->ingress_classes[t->n_ingress_classes++] = c;
}
