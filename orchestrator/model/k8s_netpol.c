/* NetworkPolicy (networking.k8s.io/v1) as an object (k8s_object.h): every
 * field of its spec is used, validated as the API server's
 * ValidateNetworkPolicy does and defaulted as it defaults policyTypes.
 * What a policy means is the readers' of the plan (plan/plan_policy.h). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <string.h>

#include "model/k8s_object.h"
#include "model/netpol.h"
#include "model/ports.h"
#include "util/diag.h"
#include "util/ipv4.h"
#include "util/util.h"

static const char *const spec_used[] = {"podSelector", "policyTypes", "ingress", "egress", NULL};
static const struct fields spec_fields = {spec_used, NULL, NULL};
static const char *const ingress_used[] = {"ports", "from", NULL};
static const struct fields ingress_fields = {ingress_used, NULL, NULL};
static const char *const egress_used[] = {"ports", "to", NULL};
static const struct fields egress_fields = {egress_used, NULL, NULL};
static const char *const peer_used[] = {"podSelector", "namespaceSelector", "ipBlock", NULL};
static const struct fields peer_fields = {peer_used, NULL, NULL};
static const char *const ip_block_used[] = {"cidr", "except", NULL};
static const struct fields ip_block_fields = {ip_block_used, NULL, NULL};
static const char *const port_used[] = {"protocol", "port", "endPort", NULL};
static const struct fields port_fields = {port_used, NULL, NULL};

static void peer_free(struct tb_policy_peer *p)
{
	label_selector_free(&p->pod_selector);
	label_selector_free(&p->namespace_selector);
	free(p->except);
}

static void rules_free(struct tb_policy_rule *rules, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < rules[i].n_peers; k++)
			peer_free(&rules[i].peers[k]);
		free(rules[i].peers);
		for (size_t k = 0; k < rules[i].n_ports; k++)
			free(rules[i].ports[k].name);
		free(rules[i].ports);
	}
	free(rules);
}

void tb_policy_free(struct tb_policy *p)
{
	free(p->namespace);
	free(p->name);
	label_selector_free(&p->pod_selector);
	rules_free(p->ingress_rules, p->n_ingress_rules);
	rules_free(p->egress_rules, p->n_egress_rules);
	free(p->origin.what);
}

void tb_policies_free(struct tb_policy *policies, size_t n)
{
	for (size_t i = 0; i < n; i++)
		tb_policy_free(&policies[i]);
	free(policies);
}

/* A CIDR of an ipBlock: IPv4, its host bits cleared as the API server's
 * sloppy parse reads them. False after reporting. */
static bool read_cidr(struct object *x, const cJSON *item, const char *path, struct ipv4_prefix *out)
{
	const char *text = docwalk_string(x->w, item, path, "a CIDR (like 10.0.0.0/24)");
	if (!text)
		return false;
	const char *why = NULL;
	if (strchr(text, ':')) {
		docwalk_error(x->w, item, path, "\"%s\": not implemented: an IPv6 CIDR (testbed's labs are IPv4 only)",
			      text);
		return false;
	}
	if (!*text) {
		docwalk_error(x->w, item, path, "required: a CIDR (like 10.0.0.0/24)");
		return false;
	}
	if (!ipv4_prefix_parse(text, out, &why)) {
		docwalk_error(x->w, item, path, "\"%s\" is not a valid CIDR: %s", text, why);
		return false;
	}
	out->addr = ipv4_network(*out);
	return true;
}

static void read_ip_block(struct object *x, const cJSON *block, const char *path, struct tb_policy_peer *peer)
{
	if (!docwalk_object(x->w, block, path, "an ipBlock ({cidr, except})"))
		return;
	k8s_check_fields(x, block, path, &ip_block_fields);
	autofree char *cidr_at = k8s_path(path, "cidr");
	const cJSON *cidr = k8s_field(block, "cidr");
	if (!cidr) {
		docwalk_error(x->w, block, cidr_at, "required: the block's CIDR");
		return;
	}
	bool have_cidr = read_cidr(x, cidr, cidr_at, &peer->cidr);
	const cJSON *except = k8s_field(block, "except");
	autofree char *except_at = k8s_path(path, "except");
	if (!except || !docwalk_array(x->w, except, except_at, "an array of CIDRs"))
		return;
	peer->except = xcalloc((size_t)cJSON_GetArraySize(except) + 1, sizeof(*peer->except));
	size_t i = 0;
	for (const cJSON *e = except->child; e; e = e->next, i++) {
		autofree char *at = docwalk_path_index(except_at, i);
		struct ipv4_prefix p;
		if (!read_cidr(x, e, at, &p) || !have_cidr)
			continue;
		/* As ValidateIPBlock: inside the cidr and longer than it. */
		if (!ipv4_contains(peer->cidr, p.addr) || p.len <= peer->cidr.len) {
			docwalk_error(x->w, e, at, "\"%s\" must be a strict subset of cidr \"%s\"", e->valuestring,
				      cidr->valuestring);
			continue;
		}
		peer->except[peer->n_except++] = p;
	}
}

/* A peer: podSelector and namespaceSelector (either or both, ANDed), or
 * an ipBlock alone, as ValidateNetworkPolicyPeer has it. */
static bool read_peer(struct object *x, const cJSON *obj, const char *path, struct tb_policy_peer *peer)
{
	*peer = (struct tb_policy_peer){.kind = TB_PEER_PODS};
	if (!docwalk_object(x->w, obj, path, "a peer ({podSelector, namespaceSelector} or {ipBlock})"))
		return false;
	size_t errors = x->w->d->count;
	k8s_check_fields(x, obj, path, &peer_fields);
	const cJSON *pods = k8s_field(obj, "podSelector"), *namespaces = k8s_field(obj, "namespaceSelector"),
		    *block = k8s_field(obj, "ipBlock");
	if (!pods && !namespaces && !block) {
		docwalk_error(x->w, obj, path,
			      "must specify a peer: podSelector, namespaceSelector (or both) or ipBlock (an empty peer "
			      "is refused by the API server; leave from/to out to match every peer)");
		return false;
	}
	if (block && (pods || namespaces)) {
		docwalk_error(x->w, obj, path, "may not specify both ipBlock and another peer (%s)",
			      pods ? "podSelector" : "namespaceSelector");
		return false;
	}
	if (pods) {
		autofree char *at = k8s_path(path, "podSelector");
		peer->has_pod_selector = k8s_read_selector(x, pods, at, &peer->pod_selector);
	}
	if (namespaces) {
		autofree char *at = k8s_path(path, "namespaceSelector");
		peer->has_namespace_selector = k8s_read_selector(x, namespaces, at, &peer->namespace_selector);
	}
	if (block) {
		peer->kind = TB_PEER_IP_BLOCK;
		autofree char *at = k8s_path(path, "ipBlock");
		read_ip_block(x, block, at, peer);
	}
	if (x->w->d->count != errors) {
		peer_free(peer);
		return false;
	}
	return true;
}

/* A port, as ValidateNetworkPolicyPort: protocol TCP, UDP or SCTP (TCP by
 * default); port a number (1-65535) or a port name; endPort only after a
 * numeric port, not below it. */
static bool read_port(struct object *x, const cJSON *obj, const char *path, struct tb_policy_port *out)
{
	*out = (struct tb_policy_port){.protocol = TB_PROTOCOL_TCP};
	if (!docwalk_object(x->w, obj, path, "a port ({protocol, port, endPort})"))
		return false;
	size_t errors = x->w->d->count;
	k8s_check_fields(x, obj, path, &port_fields);
	const cJSON *protocol = k8s_field(obj, "protocol");
	if (protocol) {
		autofree char *at = k8s_path(path, "protocol");
		const char *text = docwalk_string(x->w, protocol, at, "\"TCP\", \"UDP\" or \"SCTP\"");
		/* SCTP is written as the others: its rules are made, though this
		 * machine's kernel carries no SCTP packet for them to act on. */
		if (text && !tb_protocol_parse(text, &out->protocol))
			docwalk_error(x->w, protocol, at, "\"%s\": supported values: \"TCP\", \"UDP\", \"SCTP\"", text);
	}
	const cJSON *port = k8s_field(obj, "port"), *end = k8s_field(obj, "endPort");
	autofree char *port_at = k8s_path(path, "port");
	autofree char *end_at = k8s_path(path, "endPort");
	int number = 0, end_number = 0;
	if (!port) {
		out->any_port = true;
		if (end)
			docwalk_error(x->w, end, end_at, "may not be specified when port is not specified");
	} else if (cJSON_IsString(port)) {
		/* intstr: a string is a name, even "80", as the API server reads it. */
		if (!ports_is_name(port->valuestring))
			docwalk_error(x->w, port, port_at,
				      "\"%s\" is not a port name: 1-15 of a-z, 0-9 and '-', with a letter, no '-' at an end "
				      "or twice in a row (a port number is written as a number)",
				      port->valuestring);
		else
			out->name = xstrdup(port->valuestring);
		if (end)
			docwalk_error(x->w, end, end_at, "may not be specified when port is non-numeric");
	} else if (docwalk_int(x->w, port, port_at, 1, 65535, "a port number or a port name", "a port", &number)) {
		out->port = (uint16_t)number;
		if (end && docwalk_int(x->w, end, end_at, 1, 65535, "a port number", "a port", &end_number)) {
			if (end_number < number)
				docwalk_error(x->w, end, end_at, "%d must be greater than or equal to port (%d)", end_number,
					      number);
			else
				out->end_port = (uint16_t)end_number;
		}
	}
	if (x->w->d->count != errors) {
		free(out->name);
		out->name = NULL;
		return false;
	}
	return true;
}

/* spec.ingress or spec.egress: rules of peers (KEY: from or to) and ports. */
static void read_rules(struct object *x, const cJSON *list, const char *path, const char *peers_key,
		       const struct fields *fields, struct tb_policy_rule **rules, size_t *n)
{
	*rules = NULL;
	*n = 0;
	if (!docwalk_array(x->w, list, path, "an array of rules"))
		return;
	*rules = xcalloc((size_t)cJSON_GetArraySize(list) + 1, sizeof(**rules));
	size_t i = 0;
	for (const cJSON *r = list->child; r; r = r->next, i++) {
		autofree char *at = docwalk_path_index(path, i);
		if (!docwalk_object(x->w, r, at, "a rule ({ports, from} or {ports, to})"))
			continue;
		k8s_check_fields(x, r, at, fields);
		struct tb_policy_rule rule = {0};
		const cJSON *peers = k8s_field(r, peers_key);
		autofree char *peers_at = k8s_path(at, peers_key);
		if (peers && docwalk_array(x->w, peers, peers_at, "an array of peers")) {
			rule.peers = xcalloc((size_t)cJSON_GetArraySize(peers) + 1, sizeof(*rule.peers));
			size_t k = 0;
			for (const cJSON *p = peers->child; p; p = p->next, k++) {
				autofree char *p_at = docwalk_path_index(peers_at, k);
				if (read_peer(x, p, p_at, &rule.peers[rule.n_peers]))
					rule.n_peers++;
			}
		}
		const cJSON *ports = k8s_field(r, "ports");
		autofree char *ports_at = k8s_path(at, "ports");
		if (ports && docwalk_array(x->w, ports, ports_at, "an array of ports")) {
			rule.ports = xcalloc((size_t)cJSON_GetArraySize(ports) + 1, sizeof(*rule.ports));
			size_t k = 0;
			for (const cJSON *p = ports->child; p; p = p->next, k++) {
				autofree char *p_at = docwalk_path_index(ports_at, k);
				if (read_port(x, p, p_at, &rule.ports[rule.n_ports]))
					rule.n_ports++;
			}
		}
		(*rules)[(*n)++] = rule;
	}
}

static void add_note(struct object *x, const cJSON *item, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add_note(struct object *x, const cJSON *item, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	autofree char *why = xvasprintf(fmt, ap);
	va_end(ap);
	struct tb_topology *t = x->o->t;
	const char *file = x->file ? x->file : (x->w->d->file ? x->w->d->file : "topology");
	t->notes = xrealloc(t->notes, (t->n_notes + 1) * sizeof(*t->notes));
	t->notes[t->n_notes++] = xasprintf("%s:%d:%d: %s: %s", file, docwalk_line(x->w, item),
					   docwalk_column(x->w, item), x->what, why);
}

/* policyTypes, as given, or defaulted as the API server does: Ingress
 * always, Egress when there are egress rules. */
static void read_policy_types(struct object *x, const cJSON *spec, struct tb_policy *p)
{
	const cJSON *types = k8s_field(spec, "policyTypes");
	const cJSON *egress = k8s_field(spec, "egress");
	if (!types || (cJSON_IsArray(types) && !types->child)) {
		p->ingress = true;
		p->egress = cJSON_IsArray(egress) && egress->child;
		return;
	}
	if (!docwalk_array(x->w, types, "spec.policyTypes", "an array of \"Ingress\" and \"Egress\""))
		return;
	if (cJSON_GetArraySize(types) > 2) {
		docwalk_error(x->w, types, "spec.policyTypes", "may not specify more than two policyTypes");
		return;
	}
	static const char *const names[] = {"Ingress", "Egress", NULL};
	size_t i = 0;
	for (const cJSON *t = types->child; t; t = t->next, i++) {
		autofree char *at = docwalk_path_index("spec.policyTypes", i);
		int which = docwalk_choice(x->w, t, at, names);
		if (which == 0)
			p->ingress = true;
		else if (which == 1)
			p->egress = true;
	}
	/* Rules of a direction the policy does not name are kept by the API
	 * server and act on nothing. */
	const cJSON *ingress = k8s_field(spec, "ingress");
	if (!p->ingress && cJSON_IsArray(ingress) && ingress->child)
		add_note(x, ingress, "spec.ingress: has no effect: spec.policyTypes does not name Ingress");
	if (!p->egress && cJSON_IsArray(egress) && egress->child)
		add_note(x, egress, "spec.egress: has no effect: spec.policyTypes does not name Egress");
}

void k8s_read_network_policy(struct object *x, const cJSON *spec, const char *namespace, const char *name)
{
	struct tb_topology *t = x->o->t;
	struct tb_policy p = {
		.namespace = xstrdup(namespace),
		.name = xstrdup(name),
		.origin = {.file = x->file,
			   .line = docwalk_line(x->w, x->item),
			   .column = docwalk_column(x->w, x->item),
			   .what = xstrdup(x->what)},
	};
	size_t errors = x->w->d->count;
	/* An absent spec or podSelector is the empty one, as the API server
	 * decodes it: every pod of the namespace, isolated for ingress. */
	if (spec) {
		k8s_check_fields(x, spec, "spec", &spec_fields);
		const cJSON *pods = k8s_field(spec, "podSelector");
		if (pods)
			k8s_read_selector(x, pods, "spec.podSelector", &p.pod_selector);
		read_policy_types(x, spec, &p);
		const cJSON *ingress = k8s_field(spec, "ingress");
		if (ingress)
			read_rules(x, ingress, "spec.ingress", "from", &ingress_fields, &p.ingress_rules,
				   &p.n_ingress_rules);
		const cJSON *egress = k8s_field(spec, "egress");
		if (egress)
			read_rules(x, egress, "spec.egress", "to", &egress_fields, &p.egress_rules, &p.n_egress_rules);
	} else {
		p.ingress = true;
	}
	if (x->w->d->count != errors) {
		tb_policy_free(&p);
		return;
	}
	t->policies = xrealloc(t->policies, (t->n_policy_objects + 1) * sizeof(*t->policies));
	t->policies[t->n_policy_objects++] = p;
}
