/* The plan's data: appending machines, images and steps (by the compiler,
 * plan_compile.c, and by the saved plan's reader, plan_json.c), finding
 * and iterating them, and freeing a plan. */
#define _GNU_SOURCE
#include "plan/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

size_t plan_add_machine(struct plan *p, const struct plan_machine *m)
{
	grow_array((void **)&p->machines, &p->cap_machines, p->n_machines + 1, sizeof(*p->machines));
	struct plan_machine *c = &p->machines[p->n_machines];
	*c = *m;
	c->name = xstrdup(m->name);
	c->namespace = m->namespace ? xstrdup(m->namespace) : NULL;
	c->hostname = m->hostname ? xstrdup(m->hostname) : NULL;
	c->subdomain = m->subdomain ? xstrdup(m->subdomain) : NULL;
	c->ports = m->n_ports ? xcalloc(m->n_ports, sizeof(*c->ports)) : NULL;
	for (size_t i = 0; i < m->n_ports; i++)
		c->ports[i] = (struct tb_port){xstrdup(m->ports[i].name), m->ports[i].port, m->ports[i].protocol};
	c->host_ports = m->n_host_ports ? xcalloc(m->n_host_ports, sizeof(*c->host_ports)) : NULL;
	for (size_t i = 0; i < m->n_host_ports; i++)
		c->host_ports[i] = m->host_ports[i];
	c->labels = m->n_labels ? xcalloc(m->n_labels, sizeof(*c->labels)) : NULL;
	for (size_t i = 0; i < m->n_labels; i++)
		c->labels[i] = (struct tb_label){xstrdup(m->labels[i].key), xstrdup(m->labels[i].value)};
	c->files = m->n_files ? xcalloc(m->n_files, sizeof(*c->files)) : NULL;
	for (size_t i = 0; i < m->n_files; i++)
		c->files[i] = (struct plan_file){xstrdup(m->files[i].path), xstrdup(m->files[i].content),
						 m->files[i].mode};
	if (m->argv) {
		size_t n = 0;
		while (m->argv[n])
			n++;
		c->argv = xcalloc(n + 1, sizeof(*c->argv));
		for (size_t i = 0; i < n; i++)
			c->argv[i] = xstrdup(m->argv[i]);
	}
	return p->n_machines++;
}

void plan_machine_add_file(struct plan_machine *m, const char *path, const char *content, unsigned mode)
{
	for (size_t i = 0; i < m->n_files; i++)
		if (strcmp(m->files[i].path, path) == 0) {
			free(m->files[i].content);
			m->files[i].content = xstrdup(content);
			m->files[i].mode = mode;
			return;
		}
	m->files = xrealloc(m->files, (m->n_files + 1) * sizeof(*m->files));
	m->files[m->n_files++] = (struct plan_file){xstrdup(path), xstrdup(content), mode};
}

const char *plan_file_path_problem(const char *path)
{
	if (path[0] != '/')
		return "is not an absolute path";
	if (strlen(path) > 4095)
		return "longer than 4095 bytes";
	for (const unsigned char *c = (const unsigned char *)path; *c; c++)
		if (*c < ' ' || *c == 0x7f)
			return "holds a control character";
	for (const char *c = path; *c;) {
		c++; /* past '/' */
		size_t n = strcspn(c, "/");
		if (n == 0)
			return "has an empty component";
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return "has a \".\" or \"..\" component";
		c += n;
	}
	static const char *const kernel[] = {"/proc", "/sys", "/dev"};
	for (size_t i = 0; i < ARRAY_SIZE(kernel); i++) {
		size_t n = strlen(kernel[i]);
		if (strncmp(path, kernel[i], n) == 0 && (path[n] == '/' || path[n] == '\0'))
			return "is under /proc, /sys or /dev, which the kernel's file systems cover";
	}
	return NULL;
}

struct step *plan_add_step(struct plan *p, enum step_kind kind, size_t machine, const char *note)
{
	grow_array((void **)&p->steps, &p->cap_steps, p->n_steps + 1, sizeof(*p->steps));
	struct step *s = &p->steps[p->n_steps++];
	*s = (struct step){.kind = kind, .machine = machine, .note = note ? xstrdup(note) : NULL};
	return s;
}

size_t plan_add_image(struct plan *p, const char *name, const char *path)
{
	for (size_t i = 0; i < p->n_images; i++)
		if (strcmp(p->images[i].name, name) == 0)
			return i;
	grow_array((void **)&p->images, &p->cap_images, p->n_images + 1, sizeof(*p->images));
	p->images[p->n_images] = (struct plan_image){.name = xstrdup(name), .path = xstrdup(path)};
	return p->n_images++;
}

void plan_neigh_append(struct step_neigh *n, uint32_t address, const char *mac)
{
	grow_array((void **)&n->entries, &n->cap_entries, n->n_entries + 1, sizeof(*n->entries));
	struct neigh_entry *x = &n->entries[n->n_entries++];
	x->address = address;
	snprintf(x->mac, sizeof(x->mac), "%s", mac);
}

const struct step *plan_next(const struct plan *p, const struct step *after, enum step_kind kind)
{
	const struct step *s = after ? after + 1 : p->steps;
	for (; s < p->steps + p->n_steps; s++)
		if (s->kind == kind)
			return s;
	return NULL;
}

static void free_expects(struct plan *p)
{
	for (size_t i = 0; i < p->n_expects; i++) {
		free(p->expects[i].from);
		free(p->expects[i].to);
		free(p->expects[i].port_name);
		free(p->expects[i].client_name);
		for (size_t k = 0; k < p->expects[i].n_answered_by; k++)
			free(p->expects[i].answered_by[k]);
		free(p->expects[i].answered_by);
		strv_free(p->expects[i].answers);
	}
	free(p->expects);
	p->expects = NULL;
	p->n_expects = 0;
}

void plan_set_expects(struct plan *p, const struct tb_expect *expects, size_t n)
{
	free_expects(p);
	p->has_expect = true;
	p->expects = xcalloc(n ? n : 1, sizeof(*p->expects));
	for (size_t i = 0; i < n; i++) {
		const struct tb_expect *x = &expects[i];
		p->expects[p->n_expects++] = (struct plan_expect){
			.from = xstrdup(x->from.kind == TB_KIND_ALL_PODS ? "*" : x->from.name),
			.to = xstrdup(x->to.kind == TB_KIND_ALL_PODS ? "*" : x->to.name),
			.proto = x->proto,
			.port = x->port,
			.port_name = x->port_name ? xstrdup(x->port_name) : NULL,
			.expect_pass = x->expect_pass,
			.client_ip = x->client_ip,
			.client_name = x->client_name ? xstrdup(x->client_name) : NULL,
			.failure = x->failure,
			.has_answered_by = x->has_answered_by,
			.requests = x->requests,
			.status = x->status,
			.dns_type = x->dns_type,
			.has_answers = x->has_answers,
			.line = x->line,
			.from_line = x->from.line,
			.to_line = x->to.line,
			.port_line = x->port_line,
			.client_line = x->client_line,
			.answered_by_line = x->answered_by_line,
			.requests_line = x->requests_line,
			.status_line = x->status_line,
			.answers_line = x->answers_line,
		};
		struct plan_expect *px = &p->expects[p->n_expects - 1];
		px->answered_by = x->n_answered_by ? xcalloc(x->n_answered_by, sizeof(*px->answered_by)) : NULL;
		for (size_t k = 0; k < x->n_answered_by; k++)
			px->answered_by[px->n_answered_by++] = xstrdup(x->answered_by[k]);
		px->answers = x->has_answers ? xcalloc(x->n_answers + 1, sizeof(*px->answers)) : NULL;
		for (size_t k = 0; k < x->n_answers; k++)
			px->answers[px->n_answers++] = xstrdup(x->answers[k]);
	}
}

void plan_service_free(struct plan_service *s)
{
	free(s->namespace);
	free(s->name);
	free(s->external_name);
	for (size_t i = 0; i < s->n_ports; i++)
		free(s->ports[i].name);
	free(s->ports);
	free(s->external_ips);
	free(s->load_balancer_ips);
	free(s->source_ranges);
	for (size_t i = 0; i < s->n_endpoints; i++) {
		free(s->endpoints[i].ports);
		free(s->endpoints[i].hostname);
	}
	free(s->endpoints);
	*s = (struct plan_service){0};
}

void plan_ingress_free(struct plan_ingress *in)
{
	for (size_t i = 0; i < in->n_servers; i++) {
		struct plan_ingress_server *s = &in->servers[i];
		for (size_t k = 0; k < s->n_locations; k++) {
			free(s->locations[k].path);
			free(s->locations[k].ingress);
			free(s->locations[k].service);
			free(s->locations[k].port);
		}
		free(s->locations);
		free(s->host);
	}
	free(in->servers);
	*in = (struct plan_ingress){0};
}

static void policy_rules_free(struct plan_policy_rule *rules, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < rules[i].n_peers; k++) {
			label_selector_free(&rules[i].peers[k].pod_selector);
			label_selector_free(&rules[i].peers[k].namespace_selector);
			free(rules[i].peers[k].except);
		}
		free(rules[i].peers);
		for (size_t k = 0; k < rules[i].n_ports; k++)
			free(rules[i].ports[k].name);
		free(rules[i].ports);
	}
	free(rules);
}

void plan_policy_free(struct plan_policy *p)
{
	free(p->namespace);
	free(p->name);
	label_selector_free(&p->pod_selector);
	policy_rules_free(p->ingress_rules, p->n_ingress_rules);
	policy_rules_free(p->egress_rules, p->n_egress_rules);
	free(p->where);
	*p = (struct plan_policy){0};
}

void plan_namespace_free(struct plan_namespace *n)
{
	free(n->name);
	for (size_t i = 0; i < n->n_labels; i++) {
		free(n->labels[i].key);
		free(n->labels[i].value);
	}
	free(n->labels);
	*n = (struct plan_namespace){0};
}

void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->n_policies; i++)
		plan_policy_free(&p->policies[i]);
	free(p->policies);
	for (size_t i = 0; i < p->n_namespaces; i++)
		plan_namespace_free(&p->namespaces[i]);
	free(p->namespaces);
	plan_ingress_free(&p->ingress);
	for (size_t i = 0; i < p->n_machines; i++) {
		struct plan_machine *m = &p->machines[i];
		strv_free(m->argv);
		for (size_t k = 0; k < m->n_ports; k++)
			free(m->ports[k].name);
		free(m->ports);
		for (size_t k = 0; k < m->n_labels; k++) {
			free(m->labels[k].key);
			free(m->labels[k].value);
		}
		free(m->labels);
		free(m->host_ports);
		for (size_t k = 0; k < m->n_files; k++) {
			free(m->files[k].path);
			free(m->files[k].content);
		}
		free(m->files);
		free(m->hostname);
		free(m->subdomain);
		free(m->name);
		free(m->namespace);
	}
	for (size_t i = 0; i < p->n_steps; i++) {
		struct step *s = &p->steps[i];
		if (s->kind == STEP_SYSCTL) {
			free(s->u.sysctl.key);
			free(s->u.sysctl.value);
		} else if (s->kind == STEP_NFT) {
			free(s->u.nft.table);
			free(s->u.nft.ruleset);
		} else if (s->kind == STEP_NEIGH) {
			free(s->u.neigh.entries);
		} else if (s->kind == STEP_ROUTE) {
			free(s->u.route.also_via);
		}
		free(s->note);
	}
	for (size_t i = 0; i < p->n_images; i++) {
		free(p->images[i].name);
		free(p->images[i].path);
	}
	free_expects(p);
	for (size_t i = 0; i < p->n_services; i++)
		plan_service_free(&p->services[i]);
	free(p->services);
	free(p->kube_proxy.node_port_addresses);
	free(p->images);
	free(p->machines);
	free(p->steps);
	free(p->lab);
	free(p->cluster_domain);
	free(p->topology);
	free(p->version);
	*p = (struct plan){0};
}

static const char *const kind_names[] = {
	[MACHINE_LAB] = "lab",   [MACHINE_GATEWAY] = "gateway", [MACHINE_NODE] = "node",
	[MACHINE_HOST] = "host", [MACHINE_POD] = "pod",         [MACHINE_EXTERNAL] = "external",
};

const char *machine_kind_name(enum machine_kind kind)
{
	return (size_t)kind < ARRAY_SIZE(kind_names) ? kind_names[kind] : "?";
}

bool machine_kind_parse(const char *name, enum machine_kind *kind)
{
	for (size_t i = 0; i < ARRAY_SIZE(kind_names); i++)
		if (strcmp(kind_names[i], name) == 0) {
			*kind = (enum machine_kind)i;
			return true;
		}
	return false;
}

int plan_machine_http_port(const struct plan_machine *m)
{
	return tb_http_port(m->ports, m->n_ports);
}

const char *plan_machine_object_name(const struct plan_machine *m)
{
	const char *slash = strchr(m->name, '/');
	return slash ? slash + 1 : m->name;
}

char *plan_machine_file_name(const struct plan_machine *m)
{
	char *name = xstrdup(m->name);
	for (char *c = name; *c; c++)
		if (*c == '/')
			*c = '_';
	return name;
}

size_t plan_find(const struct plan *p, const char *name)
{
	for (size_t i = 0; i < p->n_machines; i++)
		if (strcmp(p->machines[i].name, name) == 0)
			return i;
	return PLAN_NONE;
}

enum name_found plan_resolve(const struct plan *p, const char *name, size_t *machine, char **why)
{
	/* The name the lab shows first: every machine has one, unique. */
	size_t exact = plan_find(p, name);
	if (exact != PLAN_NONE) {
		*machine = exact;
		return NAME_FOUND;
	}
	struct name_entry *entries = xcalloc(p->n_machines ? p->n_machines : 1, sizeof(*entries));
	for (size_t i = 0; i < p->n_machines; i++)
		entries[i] = (struct name_entry){plan_machine_object_name(&p->machines[i]), p->machines[i].namespace};
	enum name_found found = name_resolve(entries, p->n_machines, name, machine, why);
	free(entries);
	return found;
}
