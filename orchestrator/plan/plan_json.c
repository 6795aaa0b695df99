/* The saved plan: JSON, written into the lab's state by `up` and read by
 * every command that looks at a running lab. The format is documented in
 * docs/plan.md; each step kind writes and reads its own fields (step_*.c). */
#define _GNU_SOURCE
#include "plan/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "model/docwalk.h"
#include "model/ports.h"
#include "plan/plan_fields.h"
#include "plan/plan_policy_json.h"
#include "plan/plan_services_json.h"
#include "plan/step_ops.h"

#ifndef TESTBED_VERSION
#define TESTBED_VERSION "unknown"
#endif

static const char *const client_ip_names[] = {[TB_CLIENT_IP_ANY] = "any",
					      [TB_CLIENT_IP_PRESERVED] = "preserved",
					      [TB_CLIENT_IP_REWRITTEN] = "rewritten"};

static void put_timing(cJSON *o, const char *key, double ms)
{
	if (ms >= 0)
		cJSON_AddNumberToObject(o, key, (double)(long long)(ms * 10 + 0.5) / 10);
}

static cJSON *machine_json(const struct plan *p, const struct plan_machine *m)
{
	cJSON *o = cJSON_CreateObject();
	json_put_str(o, "name", m->name);
	json_put_str(o, "kind", machine_kind_name(m->kind));
	if (m->namespace)
		json_put_str(o, "namespace", m->namespace);
	if (m->parent != PLAN_NONE)
		json_put_str(o, "node", p->machines[m->parent].name);
	if (m->image != PLAN_NONE)
		json_put_str(o, "image", p->images[m->image].name);
	if (m->address)
		json_put_addr(o, "address", m->address);
	if (m->n_ports) {
		cJSON *ports = cJSON_AddArrayToObject(o, "ports");
		for (size_t i = 0; i < m->n_ports; i++) {
			cJSON *port = cJSON_CreateObject();
			if (m->ports[i].name[0])
				json_put_str(port, "name", m->ports[i].name);
			cJSON_AddNumberToObject(port, "port", m->ports[i].port);
			json_put_str(port, "protocol", tb_protocol_name(m->ports[i].protocol));
			cJSON_AddItemToArray(ports, port);
		}
	}
	if (m->n_host_ports) {
		cJSON *list = cJSON_AddArrayToObject(o, "hostPorts");
		for (size_t i = 0; i < m->n_host_ports; i++) {
			const struct tb_host_port *hp = &m->host_ports[i];
			cJSON *x = cJSON_CreateObject();
			cJSON_AddNumberToObject(x, "hostPort", hp->host_port);
			cJSON_AddNumberToObject(x, "containerPort", hp->container_port);
			json_put_str(x, "protocol", tb_protocol_name(hp->protocol));
			if (hp->host_ip)
				json_put_addr(x, "hostIP", hp->host_ip);
			cJSON_AddItemToArray(list, x);
		}
	}
	if (m->n_labels) {
		cJSON *labels = cJSON_AddObjectToObject(o, "labels");
		for (size_t i = 0; i < m->n_labels; i++)
			json_put_str(labels, m->labels[i].key, m->labels[i].value);
	}
	if (m->pod_server)
		cJSON_AddTrueToObject(o, "podServer");
	if (m->host_network)
		cJSON_AddTrueToObject(o, "hostNetwork");
	if (m->hostname)
		json_put_str(o, "hostname", m->hostname);
	if (m->subdomain)
		json_put_str(o, "subdomain", m->subdomain);
	if (m->disk)
		cJSON_AddNumberToObject(o, "disk", (double)m->disk);
	if (m->argv) {
		cJSON *argv = cJSON_AddArrayToObject(o, "argv");
		for (char **a = m->argv; *a; a++)
			cJSON_AddItemToArray(argv, cJSON_CreateString(*a));
	}
	if (m->n_files) {
		cJSON *files = cJSON_AddArrayToObject(o, "files");
		for (size_t i = 0; i < m->n_files; i++) {
			cJSON *f = cJSON_CreateObject();
			char mode[8];
			snprintf(mode, sizeof(mode), "%04o", m->files[i].mode);
			json_put_str(f, "path", m->files[i].path);
			json_put_str(f, "mode", mode);
			json_put_str(f, "content", m->files[i].content);
			cJSON_AddItemToArray(files, f);
		}
	}
	return o;
}

static cJSON *expect_json(const struct plan_expect *x)
{
	cJSON *o = cJSON_CreateObject();
	json_put_str(o, "from", x->from);
	json_put_str(o, "to", x->to);
	json_put_str(o, "proto", tb_proto_name(x->proto));
	if (x->port_name)
		json_put_str(o, "port", x->port_name);
	else if (x->port)
		cJSON_AddNumberToObject(o, "port", x->port);
	json_put_str(o, "result", x->expect_pass ? "pass" : "fail");
	if (x->client_ip == TB_CLIENT_IP_NAMED && x->client_name)
		json_put_str(o, "clientIP", x->client_name);
	else if (x->client_ip == TB_CLIENT_IP_PRESERVED || x->client_ip == TB_CLIENT_IP_REWRITTEN)
		json_put_str(o, "clientIP", client_ip_names[x->client_ip]);
	if (x->failure != TB_FAILURE_ANY)
		json_put_str(o, "failure", tb_failure_name(x->failure));
	if (x->proto == TB_PROTO_DNS)
		json_put_str(o, "type", x->dns_type == TB_DNS_SRV ? "SRV" : "A");
	if (x->has_answers) {
		cJSON *a = cJSON_AddArrayToObject(o, x->dns_type == TB_DNS_SRV ? "records" : "addresses");
		for (size_t i = 0; i < x->n_answers; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(x->answers[i]));
	}
	if (x->has_answered_by) {
		cJSON *a = cJSON_AddArrayToObject(o, "answeredBy");
		for (size_t i = 0; i < x->n_answered_by; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(x->answered_by[i]));
	}
	if (x->requests)
		cJSON_AddNumberToObject(o, "requests", x->requests);
	if (x->status)
		cJSON_AddNumberToObject(o, "status", x->status);
	if (x->line)
		cJSON_AddNumberToObject(o, "line", x->line);
	return o;
}

/* WITH_STATE: what up learnt while building (image hashes, timings) and
 * where the plan came from; without it, only what defines the lab. */
static cJSON *plan_json(const struct plan *p, bool with_state, bool with_expect)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddNumberToObject(root, "format", PLAN_FORMAT);
	if (with_state) {
		json_put_str(root, "testbed", p->version);
		json_put_str(root, "topology", p->topology);
	}
	json_put_str(root, "lab", p->lab);
	json_put_str(root, "routing", tb_routing_name(p->routing));
	cJSON *neigh = cJSON_AddObjectToObject(root, "neighbours");
	json_put_str(neigh, "design", tb_neighbours_name(p->neighbours.design));
	json_put_str(neigh, "asked", tb_neighbours_name(p->neighbours.asked));
	cJSON_AddNumberToObject(neigh, "fullMesh", (double)p->neighbours.full_mesh);
	cJSON *cluster = cJSON_AddObjectToObject(root, "cluster");
	json_put_prefix(cluster, "podCIDR", p->pod_cidr);
	json_put_prefix(cluster, "serviceCIDR", p->service_cidr);
	json_put_prefix(cluster, "underlay", p->underlay);
	json_put_str(cluster, "clusterDomain", p->cluster_domain ? p->cluster_domain : TB_DEFAULT_CLUSTER_DOMAIN);
	if (p->dns_address)
		json_put_addr(cluster, "dns", p->dns_address);
	cJSON *images = cJSON_AddArrayToObject(root, "images");
	for (size_t i = 0; i < p->n_images; i++) {
		cJSON *o = cJSON_CreateObject();
		json_put_str(o, "name", p->images[i].name);
		json_put_str(o, "path", p->images[i].path);
		if (with_state && p->images[i].sha256[0])
			json_put_str(o, "sha256", p->images[i].sha256);
		cJSON_AddItemToArray(images, o);
	}
	cJSON *machines = cJSON_AddArrayToObject(root, "machines");
	for (size_t i = 0; i < p->n_machines; i++)
		cJSON_AddItemToArray(machines, machine_json(p, &p->machines[i]));
	cJSON *steps = cJSON_AddArrayToObject(root, "steps");
	for (size_t i = 0; i < p->n_steps; i++) {
		const struct step *s = &p->steps[i];
		const struct step_ops *ops = step_ops(s->kind);
		cJSON *o = cJSON_CreateObject();
		json_put_str(o, "kind", ops->name);
		json_put_str(o, "machine", p->machines[s->machine].name);
		ops->to_json(p, s, o);
		if (s->note)
			json_put_str(o, "note", s->note);
		cJSON_AddItemToArray(steps, o);
	}
	plan_services_to_json(p, root);
	plan_policies_to_json(p, root);
	if (with_expect) {
		if (p->has_expect) {
			cJSON *expect = cJSON_AddArrayToObject(root, "expect");
			for (size_t i = 0; i < p->n_expects; i++)
				cJSON_AddItemToArray(expect, expect_json(&p->expects[i]));
		} else {
			cJSON_AddNullToObject(root, "expect");
		}
	}
	if (with_state) {
		cJSON *t = cJSON_AddObjectToObject(root, "timings");
		put_timing(t, "images", p->timings.images);
		put_timing(t, "machines", p->timings.machines);
		put_timing(t, "network", p->timings.network);
		put_timing(t, "rules", p->timings.rules);
		put_timing(t, "servers", p->timings.servers);
		put_timing(t, "total", p->timings.total);
	}
	return root;
}

char *plan_to_json(const struct plan *p, bool with_state)
{
	cJSON *root = plan_json(p, with_state, true);
	char *text = cJSON_Print(root);
	cJSON_Delete(root);
	char *copy = xstrdup(text);
	cJSON_free(text);
	return copy;
}

char *plan_shape(const struct plan *p)
{
	cJSON *root = plan_json(p, false, false);
	char *text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	char *copy = xstrdup(text);
	cJSON_free(text);
	return copy;
}

/* ---- reading ---- */

/* "ports": [{"name", "port", "protocol"}], or, in plans saved before
 * there were lists, "http": N (the pod server's port). PORTS point into O. */
static int read_ports(const cJSON *o, struct tb_port **ports, size_t *n, struct tb_err *e)
{
	*ports = NULL;
	*n = 0;
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(o, "ports");
	if (!list) {
		long http = 0;
		if (json_get_int(o, "http", 1, 65535, &http, false, e) < 0)
			return -1;
		if (http) {
			*ports = xcalloc(1, sizeof(**ports));
			(*ports)[(*n)++] = (struct tb_port){TB_HTTP_PORT_NAME, (int)http, TB_PROTOCOL_TCP};
		}
		return 0;
	}
	if (!cJSON_IsArray(list))
		return tb_fail(e, "\"ports\": expected an array");
	*ports = xcalloc((size_t)cJSON_GetArraySize(list) + 1, sizeof(**ports));
	for (const cJSON *x = list->child; x; x = x->next, (*n)++) {
		struct tb_port *port = &(*ports)[*n];
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(x, "name");
		char protocol[8];
		long number = 0;
		if (json_get_int(x, "port", 1, 65535, &number, true, e) < 0 ||
		    json_get_str(x, "protocol", protocol, sizeof(protocol), true, e) < 0)
			return tb_context(e, "ports[%zu]", *n);
		/* A port's name is an IANA service name: a DNS label of at most 15. */
		if (name && (!cJSON_IsString(name) || strlen(name->valuestring) > 15 ||
			     !topology_is_dns_label(name->valuestring)))
			return tb_fail(e, "ports[%zu].name: expected a port name (a DNS label of at most 15)", *n);
		if (!tb_protocol_parse(protocol, &port->protocol))
			return tb_fail(e, "ports[%zu].protocol: \"%s\" is not TCP, UDP or SCTP", *n, protocol);
		port->name = name ? name->valuestring : "";
		port->port = (int)number;
	}
	return 0;
}

/* "hostPorts": [{"hostPort", "containerPort", "protocol", "hostIP"}]. */
static int read_host_ports(const cJSON *o, struct tb_host_port **ports, size_t *n, struct tb_err *e)
{
	*ports = NULL;
	*n = 0;
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(o, "hostPorts");
	if (!list)
		return 0;
	if (!cJSON_IsArray(list))
		return tb_fail(e, "\"hostPorts\": expected an array");
	*ports = xcalloc((size_t)cJSON_GetArraySize(list) + 1, sizeof(**ports));
	for (const cJSON *x = list->child; x; x = x->next, (*n)++) {
		struct tb_host_port *hp = &(*ports)[*n];
		long host = 0, container = 0;
		char protocol[8];
		if (json_get_int(x, "hostPort", 1, 65535, &host, true, e) < 0 ||
		    json_get_int(x, "containerPort", 1, 65535, &container, true, e) < 0 ||
		    json_get_str(x, "protocol", protocol, sizeof(protocol), true, e) < 0 ||
		    json_get_addr(x, "hostIP", &hp->host_ip, false, e) < 0)
			return tb_context(e, "hostPorts[%zu]", *n);
		if (!tb_protocol_parse(protocol, &hp->protocol) || hp->protocol == TB_PROTOCOL_SCTP)
			return tb_fail(e, "hostPorts[%zu].protocol: \"%s\" is not TCP or UDP", *n, protocol);
		hp->host_port = (int)host;
		hp->container_port = (int)container;
	}
	return 0;
}

/* "labels": {"key": "value"}, checked as the topology checks them. LABELS
 * point into O. */
static int read_labels(const cJSON *o, struct tb_label **labels, size_t *n, struct tb_err *e)
{
	*labels = NULL;
	*n = 0;
	const cJSON *map = cJSON_GetObjectItemCaseSensitive(o, "labels");
	if (!map)
		return 0;
	if (!cJSON_IsObject(map))
		return tb_fail(e, "\"labels\": expected an object");
	*labels = xcalloc((size_t)cJSON_GetArraySize(map) + 1, sizeof(**labels));
	for (const cJSON *x = map->child; x; x = x->next) {
		if (!docwalk_is_label_key(x->string) || !cJSON_IsString(x) || !docwalk_is_label_value(x->valuestring)) {
			autofree char *shown = str_escape(x->string);
			return tb_fail(e, "labels.%s: not a label: a key with a string value, as Kubernetes writes them",
				       shown);
		}
		(*labels)[(*n)++] = (struct tb_label){x->string, x->valuestring};
	}
	return 0;
}

/* "files": [{"path", "mode": "0644", "content"}]: only for a machine with an
 * image, each path as plan_file_path_problem wants it, each once. */
static int read_files(struct plan_machine *m, const cJSON *o, size_t i, struct tb_err *e)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(o, "files");
	if (!list)
		return 0;
	if (!cJSON_IsArray(list))
		return tb_fail(e, "machines[%zu].files: expected an array", i);
	if (m->image == PLAN_NONE && cJSON_GetArraySize(list) > 0)
		return tb_fail(e, "machines[%zu].files: only a machine with an image has files", i);
	size_t k = 0;
	for (const cJSON *f = list->child; f; f = f->next, k++) {
		const cJSON *path = cJSON_GetObjectItemCaseSensitive(f, "path");
		const cJSON *content = cJSON_GetObjectItemCaseSensitive(f, "content");
		const cJSON *mode = cJSON_GetObjectItemCaseSensitive(f, "mode");
		if (!cJSON_IsString(path))
			return tb_fail(e, "machines[%zu].files[%zu].path: expected a string", i, k);
		const char *why = plan_file_path_problem(path->valuestring);
		if (why) {
			autofree char *shown = str_escape(path->valuestring);
			return tb_fail(e, "machines[%zu].files[%zu].path: \"%s\" %s", i, k, shown, why);
		}
		for (size_t j = 0; j < m->n_files; j++)
			if (strcmp(m->files[j].path, path->valuestring) == 0)
				return tb_fail(e, "machines[%zu].files[%zu].path: \"%s\" appears twice", i, k,
					       path->valuestring);
		if (!cJSON_IsString(content) || strlen(content->valuestring) > PLAN_FILE_MAX_CONTENT)
			return tb_fail(e, "machines[%zu].files[%zu].content: expected a string of at most %u bytes", i, k,
				       PLAN_FILE_MAX_CONTENT);
		bool octal = cJSON_IsString(mode) && strlen(mode->valuestring) == 4 &&
			     strspn(mode->valuestring, "01234567") == 4;
		unsigned long bits = octal ? strtoul(mode->valuestring, NULL, 8) : 0;
		if (!octal || bits > 0777)
			return tb_fail(e, "machines[%zu].files[%zu].mode: expected permission bits in octal, as \"0644\"",
				       i, k);
		plan_machine_add_file(m, path->valuestring, content->valuestring, (unsigned)bits);
	}
	return 0;
}

/* A machine's name as the compiler makes them: DNS labels; a pod's name a
 * DNS subdomain (as Kubernetes allows it), after "NAMESPACE/" when it
 * carries one, and its NAMESPACE a DNS label. */
static bool machine_name_ok(enum machine_kind kind, const char *name, const char *namespace)
{
	if (kind != MACHINE_POD)
		return !namespace[0] && topology_is_dns_label(name);
	if (namespace[0] && !topology_is_dns_label(namespace))
		return false;
	const char *slash = strchr(name, '/');
	if (slash && (!namespace[0] || strncmp(name, namespace, (size_t)(slash - name)) != 0 ||
		      namespace[slash - name] != '\0'))
		return false;
	return topology_is_dns_subdomain(slash ? slash + 1 : name);
}

static int read_machine(struct plan *p, const cJSON *o, size_t i, struct tb_err *e)
{
	char name[320], kind[16], node[256], image[256], namespace[64], hostname[64], subdomain[64];
	struct plan_machine m = {.parent = PLAN_NONE, .image = PLAN_NONE};
	if (json_get_str(o, "name", name, sizeof(name), true, e) < 0 || json_get_str(o, "kind", kind, sizeof(kind), true, e) < 0 ||
	    json_get_str(o, "namespace", namespace, sizeof(namespace), false, e) < 0 ||
	    json_get_str(o, "node", node, sizeof(node), false, e) < 0 ||
	    json_get_str(o, "image", image, sizeof(image), false, e) < 0 ||
	    json_get_addr(o, "address", &m.address, false, e) < 0 ||
	    json_get_bool(o, "podServer", &m.pod_server, e) < 0 || json_get_bool(o, "hostNetwork", &m.host_network, e) < 0 ||
	    json_get_str(o, "hostname", hostname, sizeof(hostname), false, e) < 0 ||
	    json_get_str(o, "subdomain", subdomain, sizeof(subdomain), false, e) < 0)
		return tb_context(e, "machines[%zu]", i);
	if ((hostname[0] && !topology_is_dns_label(hostname)) || (subdomain[0] && !topology_is_dns_label(subdomain)))
		return tb_fail(e, "machines[%zu]: a pod's hostname and subdomain are DNS labels", i);
	m.hostname = hostname[0] ? hostname : NULL;
	m.subdomain = subdomain[0] ? subdomain : NULL;
	if (!machine_kind_parse(kind, &m.kind))
		return tb_fail(e, "machines[%zu].kind: unknown kind \"%s\"", i, kind);
	if (!machine_name_ok(m.kind, name, namespace)) {
		autofree char *shown = str_escape(name);
		return tb_fail(e, "machines[%zu].name: \"%s\" is not a machine name (a DNS label; a pod's may be a DNS "
			       "subdomain, after its NAMESPACE/)", i, shown);
	}
	m.namespace = namespace[0] ? namespace : NULL;
	if (plan_find(p, name) != PLAN_NONE)
		return tb_fail(e, "machines[%zu].name: \"%s\" appears twice", i, name);
	if (node[0] && (m.parent = plan_find(p, node)) == PLAN_NONE)
		return tb_fail(e, "machines[%zu].node: no earlier machine \"%s\"", i, node);
	for (size_t k = 0; image[0] && k < p->n_images && m.image == PLAN_NONE; k++)
		if (strcmp(p->images[k].name, image) == 0)
			m.image = k;
	if (m.host_network && (m.kind != MACHINE_POD || m.parent == PLAN_NONE))
		return tb_fail(e, "machines[%zu].hostNetwork: only a pod, on its node's network, has it", i);
	if (image[0] && m.image == PLAN_NONE)
		return tb_fail(e, "machines[%zu].image: no image \"%s\"", i, image);
	autofree struct tb_port *ports = NULL;
	autofree struct tb_label *labels = NULL;
	autofree struct tb_host_port *host_ports = NULL;
	if (read_ports(o, &ports, &m.n_ports, e) < 0 || read_labels(o, &labels, &m.n_labels, e) < 0 ||
	    read_host_ports(o, &host_ports, &m.n_host_ports, e) < 0)
		return tb_context(e, "machines[%zu]", i);
	m.host_ports = host_ports;
	m.ports = ports;
	m.labels = labels;
	m.name = name;
	long disk = 0;
	if (json_get_int(o, "disk", 0, (long)TB_MAX_DISK, &disk, false, e) < 0)
		return tb_context(e, "machines[%zu]", i);
	m.disk = (unsigned long long)disk;
	const cJSON *argv = cJSON_GetObjectItemCaseSensitive(o, "argv");
	size_t n = argv ? (size_t)cJSON_GetArraySize(argv) : 0;
	autofree char **args = argv ? xcalloc(n + 1, sizeof(*args)) : NULL;
	if (argv && (!cJSON_IsArray(argv) || n == 0))
		return tb_fail(e, "machines[%zu].argv: expected a non-empty array of strings", i);
	size_t k = 0;
	for (const cJSON *a = argv ? argv->child : NULL; a; a = a->next, k++) {
		if (!cJSON_IsString(a))
			return tb_fail(e, "machines[%zu].argv[%zu]: expected a string", i, k);
		args[k] = a->valuestring;
	}
	m.argv = args;
	size_t at = plan_add_machine(p, &m);
	return read_files(&p->machines[at], o, i, e);
}

static int read_step(struct plan *p, const cJSON *o, size_t i, struct tb_err *e)
{
	char kind[32];
	size_t machine;
	if (json_get_str(o, "kind", kind, sizeof(kind), true, e) < 0 || json_get_machine(p, o, "machine", &machine, e) < 0)
		return tb_context(e, "steps[%zu]", i);
	enum step_kind k = step_kind_parse(kind);
	if (k == STEP_KIND_COUNT)
		return tb_fail(e, "steps[%zu].kind: unknown step kind \"%s\"", i, kind);
	const cJSON *note = cJSON_GetObjectItemCaseSensitive(o, "note");
	struct step *s = plan_add_step(p, k, machine, cJSON_IsString(note) ? note->valuestring : NULL);
	if (step_ops(k)->from_json(p, o, s, e) < 0)
		return tb_context(e, "steps[%zu] (%s)", i, kind);
	return 0;
}

/* The saved answeredBy: names and selectors, each at most a selector's
 * length; what they name is found when the check compiles. */
static int read_answered_by(struct plan_expect *x, const cJSON *o, size_t i, struct tb_err *e)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "answeredBy");
	if (!a)
		return 0;
	if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) == 0)
		return tb_fail(e, "expect[%zu].answeredBy: expected a list of names", i);
	x->has_answered_by = true;
	x->answered_by = xcalloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(*x->answered_by));
	for (const cJSON *n = a->child; n; n = n->next) {
		if (!cJSON_IsString(n) || !*n->valuestring || strlen(n->valuestring) > 4096)
			return tb_fail(e, "expect[%zu].answeredBy: expected a list of names", i);
		x->answered_by[x->n_answered_by++] = xstrdup(n->valuestring);
	}
	return 0;
}

/* A dns probe's saved type and answer; what they hold is checked when
 * the check compiles. */
static int read_dns(struct plan_expect *x, const cJSON *o, size_t i, struct tb_err *e)
{
	char type[8];
	if (json_get_str(o, "type", type, sizeof(type), false, e) < 0)
		return tb_context(e, "expect[%zu]", i);
	if (type[0] && strcmp(type, "A") != 0 && strcmp(type, "SRV") != 0)
		return tb_fail(e, "expect[%zu].type: expected \"A\" or \"SRV\"", i);
	x->dns_type = strcmp(type, "SRV") == 0 ? TB_DNS_SRV : TB_DNS_A;
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, x->dns_type == TB_DNS_SRV ? "records" : "addresses");
	if (!a)
		return 0;
	if (!cJSON_IsArray(a))
		return tb_fail(e, "expect[%zu]: expected a list of the answer's records", i);
	x->has_answers = true;
	x->answers = xcalloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(*x->answers));
	for (const cJSON *n = a->child; n; n = n->next) {
		if (!cJSON_IsString(n) || !*n->valuestring || strlen(n->valuestring) > 300)
			return tb_fail(e, "expect[%zu]: expected a list of the answer's records", i);
		x->answers[x->n_answers++] = xstrdup(n->valuestring);
	}
	return 0;
}

static int read_expect(struct plan *p, const cJSON *o, size_t i, struct tb_err *e)
{
	char proto[8], result[8], client[256], failure[16];
	long port = 0, line = 0, requests = 0, status = 0;
	struct plan_expect *x = &p->expects[p->n_expects];
	*x = (struct plan_expect){0};
	if (!(x->from = json_get_strdup(o, "from", e)) || !(x->to = json_get_strdup(o, "to", e)))
		goto fail;
	p->n_expects++;
	/* A port by number, or by a name each target's ports give it. */
	const cJSON *port_name = cJSON_GetObjectItemCaseSensitive(o, "port");
	if (cJSON_IsString(port_name)) {
		bool service = strncmp(x->to, "service:", 8) == 0;
		if (service ? !docwalk_is_dns_label(port_name->valuestring) : !ports_is_name(port_name->valuestring))
			return tb_fail(e, "expect[%zu].port: expected a port's number or name", i);
		x->port_name = xstrdup(port_name->valuestring);
	} else if (json_get_int(o, "port", 1, 65535, &port, false, e) < 0) {
		return tb_context(e, "expect[%zu]", i);
	}
	if (json_get_str(o, "proto", proto, sizeof(proto), true, e) < 0 ||
	    json_get_str(o, "result", result, sizeof(result), true, e) < 0 ||
	    json_get_str(o, "clientIP", client, sizeof(client), false, e) < 0 ||
	    json_get_str(o, "failure", failure, sizeof(failure), false, e) < 0 ||
	    json_get_int(o, "requests", 1, TB_MAX_REQUESTS, &requests, false, e) < 0 ||
	    json_get_int(o, "status", 100, 599, &status, false, e) < 0 ||
	    json_get_int(o, "line", 0, 1L << 30, &line, false, e) < 0)
		return tb_context(e, "expect[%zu]", i);
	if (read_answered_by(x, o, i, e) < 0 || read_dns(x, o, i, e) < 0)
		return -1;
	x->port = (int)port;
	x->line = (int)line;
	x->requests = (int)requests;
	x->status = (int)status;
	x->expect_pass = strcmp(result, "fail") != 0;
	x->failure = TB_FAILURE_ANY;
	for (enum tb_failure f = TB_FAILURE_REFUSED; failure[0] && f <= TB_FAILURE_SERVFAIL; f++)
		if (strcmp(failure, tb_failure_name(f)) == 0)
			x->failure = f;
	if (failure[0] && x->failure == TB_FAILURE_ANY)
		return tb_fail(e, "expect[%zu].failure: expected \"refused\", \"timeout\", \"nxdomain\" or \"servfail\"", i);
	x->proto = strcmp(proto, "tcp") == 0	? TB_PROTO_TCP
		   : strcmp(proto, "ping") == 0 ? TB_PROTO_PING
		   : strcmp(proto, "udp") == 0	? TB_PROTO_UDP
		   : strcmp(proto, "dns") == 0	? TB_PROTO_DNS
						: TB_PROTO_HTTP;
	if (strcmp(proto, tb_proto_name(x->proto)) != 0)
		return tb_fail(e, "expect[%zu].proto: unknown protocol \"%s\"", i, proto);
	x->client_ip = TB_CLIENT_IP_ANY;
	for (size_t c = 0; client[0] && c < ARRAY_SIZE(client_ip_names); c++)
		if (strcmp(client, client_ip_names[c]) == 0)
			x->client_ip = (enum tb_client_ip)c;
	/* Anything else names a machine or an address, found when the check compiles. */
	if (client[0] && x->client_ip == TB_CLIENT_IP_ANY && strcmp(client, "any") != 0) {
		x->client_ip = TB_CLIENT_IP_NAMED;
		x->client_name = xstrdup(client);
	}
	return 0;
fail:
	free(x->from);
	return tb_context(e, "expect[%zu]", i);
}

static double get_timing(const cJSON *t, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(t, key);
	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static int read_plan(const cJSON *root, struct plan *p, struct tb_err *e)
{
	char buf[256];
	if (!(p->lab = json_get_strdup(root, "lab", e)))
		return -1;
	if (!topology_is_lab_name(p->lab)) {
		autofree char *shown = str_escape(p->lab);
		return tb_fail(e, "lab: \"%s\" is not a lab name", shown);
	}
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "testbed");
	p->version = xstrdup(cJSON_IsString(v) ? v->valuestring : "unknown");
	v = cJSON_GetObjectItemCaseSensitive(root, "topology");
	p->topology = xstrdup(cJSON_IsString(v) ? v->valuestring : "");
	if (json_get_str(root, "routing", buf, sizeof(buf), true, e) < 0)
		return -1;
	enum tb_routing modes[] = {TB_ROUTING_GATEWAY, TB_ROUTING_HOST_GW, TB_ROUTING_VXLAN};
	bool known = false;
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++)
		if (strcmp(buf, tb_routing_name(modes[i])) == 0) {
			p->routing = modes[i];
			known = true;
		}
	if (!known)
		return tb_fail(e, "routing: unknown mode \"%s\"", buf);
	/* Plans saved before the field existed learned their neighbours. */
	p->neighbours = (struct plan_neighbours){.design = TB_NEIGH_LEARNED, .asked = TB_NEIGH_AUTO};
	const cJSON *neigh = cJSON_GetObjectItemCaseSensitive(root, "neighbours");
	if (neigh) {
		char design[16], asked[16];
		long mesh = 0;
		if (json_get_str(neigh, "design", design, sizeof(design), true, e) < 0 ||
		    json_get_str(neigh, "asked", asked, sizeof(asked), true, e) < 0 ||
		    json_get_int(neigh, "fullMesh", 0, 1L << 40, &mesh, false, e) < 0)
			return tb_context(e, "neighbours");
		if (!tb_neighbours_parse(design, &p->neighbours.design) || p->neighbours.design == TB_NEIGH_AUTO)
			return tb_fail(e, "neighbours.design: unknown design \"%s\"", design);
		if (!tb_neighbours_parse(asked, &p->neighbours.asked))
			return tb_fail(e, "neighbours.asked: unknown design \"%s\"", asked);
		p->neighbours.full_mesh = (size_t)mesh;
	}
	const cJSON *cluster = cJSON_GetObjectItemCaseSensitive(root, "cluster");
	if (json_get_prefix(cluster, "podCIDR", &p->pod_cidr, e) < 0 ||
	    json_get_prefix(cluster, "serviceCIDR", &p->service_cidr, e) < 0 ||
	    json_get_prefix(cluster, "underlay", &p->underlay, e) < 0 ||
	    json_get_str(cluster, "clusterDomain", buf, sizeof(buf), false, e) < 0 ||
	    json_get_addr(cluster, "dns", &p->dns_address, false, e) < 0)
		return tb_context(e, "cluster");
	/* Plans saved before the field existed: the kubelet's default. */
	if (buf[0] && !topology_is_dns_subdomain(buf))
		return tb_fail(e, "cluster.clusterDomain: \"%s\" is not a domain", buf);
	p->cluster_domain = xstrdup(buf[0] ? buf : TB_DEFAULT_CLUSTER_DOMAIN);
	size_t i = 0;
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "images");
	for (const cJSON *o = cJSON_IsArray(list) ? list->child : NULL; o; o = o->next, i++) {
		char name[256], path[4096];
		if (json_get_str(o, "name", name, sizeof(name), true, e) < 0 ||
		    json_get_str(o, "path", path, sizeof(path), true, e) < 0)
			return tb_context(e, "images[%zu]", i);
		size_t k = plan_add_image(p, name, path);
		json_get_str(o, "sha256", p->images[k].sha256, sizeof(p->images[k].sha256), false, e);
	}
	i = 0;
	list = cJSON_GetObjectItemCaseSensitive(root, "machines");
	if (!cJSON_IsArray(list))
		return tb_fail(e, "machines: expected an array");
	for (const cJSON *o = list->child; o; o = o->next, i++)
		if (read_machine(p, o, i, e) < 0)
			return -1;
	i = 0;
	list = cJSON_GetObjectItemCaseSensitive(root, "steps");
	if (!cJSON_IsArray(list))
		return tb_fail(e, "steps: expected an array");
	for (const cJSON *o = list->child; o; o = o->next, i++)
		if (read_step(p, o, i, e) < 0)
			return -1;
	if (plan_services_from_json(p, root, e) < 0 || plan_policies_from_json(p, root, e) < 0)
		return -1;
	list = cJSON_GetObjectItemCaseSensitive(root, "expect");
	p->has_expect = cJSON_IsArray(list);
	p->expects = xcalloc(p->has_expect ? (size_t)cJSON_GetArraySize(list) + 1 : 1, sizeof(*p->expects));
	i = 0;
	for (const cJSON *o = p->has_expect ? list->child : NULL; o; o = o->next, i++)
		if (read_expect(p, o, i, e) < 0)
			return -1;
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "timings");
	p->timings = (struct plan_timings){get_timing(t, "images"), get_timing(t, "machines"), get_timing(t, "network"),
					   get_timing(t, "servers"), get_timing(t, "total"), get_timing(t, "rules")};
	return 0;
}

int plan_from_json(const char *text, struct plan *p, struct tb_err *e)
{
	*p = (struct plan){0};
	/* As topology files (jsondoc.c): what is not UTF-8 would reach the
	 * reports and plan --format json, which must be UTF-8. testbed never
	 * writes such a plan; someone editing one might. */
	size_t len = strlen(text), valid = utf8_valid_prefix(text, len);
	if (valid != len)
		return tb_fail(e, "not a saved plan: the byte at offset %zu (0x%02x) starts no valid UTF-8 character",
			       valid, (unsigned char)text[valid]);
	cJSON *root = cJSON_Parse(text);
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return tb_fail(e, "not a saved plan (not a JSON object)");
	}
	const cJSON *format = cJSON_GetObjectItemCaseSensitive(root, "format");
	const cJSON *version = cJSON_GetObjectItemCaseSensitive(root, "testbed");
	if (!cJSON_IsNumber(format) || format->valuedouble != PLAN_FORMAT) {
		char saved[32] = "(none)";
		if (cJSON_IsNumber(format))
			snprintf(saved, sizeof(saved), "%g", format->valuedouble);
		tb_fail(e, "it was saved by testbed %s in plan format %s; this is testbed %s, which reads plan format %d",
			cJSON_IsString(version) ? version->valuestring : "(unknown version)", saved, TESTBED_VERSION,
			PLAN_FORMAT);
		cJSON_Delete(root);
		return -1;
	}
	int rc = read_plan(root, p, e);
	cJSON_Delete(root);
	if (rc < 0)
		plan_free(p);
	return rc;
}
