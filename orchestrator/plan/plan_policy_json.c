/* The saved plan's NetworkPolicies and namespaces, in the words of the
 * NetworkPolicy object (podSelector, policyTypes, ingress.from, ipBlock,
 * endPort): the policies as validated and defaulted, each selector as its
 * matchExpressions (matchLabels are In of one value). Reading checks every
 * value as the model would have: a saved plan may have been edited. */
#define _GNU_SOURCE
#include "plan/plan_policy_json.h"

#include <string.h>

#include "model/docwalk.h"
#include "model/ports.h"
#include "plan/plan_fields.h"

static const char *const op_names[] = {[SELECTOR_IN] = "In",
				       [SELECTOR_NOT_IN] = "NotIn",
				       [SELECTOR_EXISTS] = "Exists",
				       [SELECTOR_DOES_NOT_EXIST] = "DoesNotExist"};

/* ---- writing ---- */

static cJSON *selector_json(const struct label_selector *s)
{
	cJSON *o = cJSON_CreateObject();
	if (!s->n_reqs)
		return o;
	cJSON *list = cJSON_AddArrayToObject(o, "matchExpressions");
	for (size_t i = 0; i < s->n_reqs; i++) {
		const struct selector_requirement *r = &s->reqs[i];
		cJSON *x = cJSON_CreateObject();
		json_put_str(x, "key", r->key);
		json_put_str(x, "operator", op_names[r->op]);
		if (r->op == SELECTOR_IN || r->op == SELECTOR_NOT_IN) {
			cJSON *values = cJSON_AddArrayToObject(x, "values");
			for (size_t k = 0; k < r->n_values; k++)
				cJSON_AddItemToArray(values, cJSON_CreateString(r->values[k]));
		}
		cJSON_AddItemToArray(list, x);
	}
	return o;
}

static cJSON *peer_json(const struct plan_policy_peer *peer)
{
	cJSON *o = cJSON_CreateObject();
	if (peer->kind == PLAN_PEER_IP_BLOCK) {
		cJSON *block = cJSON_AddObjectToObject(o, "ipBlock");
		json_put_prefix(block, "cidr", peer->cidr);
		if (peer->n_except) {
			char buf[IPV4_PREFIX_STRLEN];
			cJSON *list = cJSON_AddArrayToObject(block, "except");
			for (size_t i = 0; i < peer->n_except; i++)
				cJSON_AddItemToArray(list, cJSON_CreateString(ipv4_prefix_format(peer->except[i], buf)));
		}
		return o;
	}
	if (peer->has_pod_selector)
		cJSON_AddItemToObject(o, "podSelector", selector_json(&peer->pod_selector));
	if (peer->has_namespace_selector)
		cJSON_AddItemToObject(o, "namespaceSelector", selector_json(&peer->namespace_selector));
	return o;
}

static cJSON *port_json(const struct plan_policy_port *port)
{
	cJSON *o = cJSON_CreateObject();
	json_put_str(o, "protocol", tb_protocol_name(port->protocol));
	if (port->name)
		json_put_str(o, "port", port->name);
	else if (!port->any_port)
		cJSON_AddNumberToObject(o, "port", port->port);
	if (port->end_port)
		cJSON_AddNumberToObject(o, "endPort", port->end_port);
	return o;
}

static cJSON *rules_json(const struct plan_policy_rule *rules, size_t n, const char *peers_key)
{
	cJSON *list = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++) {
		cJSON *r = cJSON_CreateObject();
		if (rules[i].n_peers) {
			cJSON *peers = cJSON_AddArrayToObject(r, peers_key);
			for (size_t k = 0; k < rules[i].n_peers; k++)
				cJSON_AddItemToArray(peers, peer_json(&rules[i].peers[k]));
		}
		if (rules[i].n_ports) {
			cJSON *ports = cJSON_AddArrayToObject(r, "ports");
			for (size_t k = 0; k < rules[i].n_ports; k++)
				cJSON_AddItemToArray(ports, port_json(&rules[i].ports[k]));
		}
		cJSON_AddItemToArray(list, r);
	}
	return list;
}

static cJSON *policy_json(const struct plan_policy *p)
{
	cJSON *o = cJSON_CreateObject();
	json_put_str(o, "namespace", p->namespace);
	json_put_str(o, "name", p->name);
	json_put_str(o, "where", p->where);
	cJSON_AddItemToObject(o, "podSelector", selector_json(&p->pod_selector));
	cJSON *types = cJSON_AddArrayToObject(o, "policyTypes");
	if (p->ingress)
		cJSON_AddItemToArray(types, cJSON_CreateString("Ingress"));
	if (p->egress)
		cJSON_AddItemToArray(types, cJSON_CreateString("Egress"));
	/* Rules are kept even for a direction policyTypes leaves out (as the
	 * API server keeps them): readers look at policyTypes first. */
	if (p->n_ingress_rules)
		cJSON_AddItemToObject(o, "ingress", rules_json(p->ingress_rules, p->n_ingress_rules, "from"));
	if (p->n_egress_rules)
		cJSON_AddItemToObject(o, "egress", rules_json(p->egress_rules, p->n_egress_rules, "to"));
	return o;
}

void plan_policies_to_json(const struct plan *p, cJSON *root)
{
	if (p->n_namespaces) {
		cJSON *list = cJSON_AddArrayToObject(root, "namespaces");
		for (size_t i = 0; i < p->n_namespaces; i++) {
			const struct plan_namespace *ns = &p->namespaces[i];
			cJSON *o = cJSON_CreateObject();
			json_put_str(o, "name", ns->name);
			cJSON *labels = cJSON_AddObjectToObject(o, "labels");
			for (size_t k = 0; k < ns->n_labels; k++)
				json_put_str(labels, ns->labels[k].key, ns->labels[k].value);
			cJSON_AddItemToArray(list, o);
		}
	}
	if (p->n_policies) {
		cJSON *list = cJSON_AddArrayToObject(root, "policies");
		for (size_t i = 0; i < p->n_policies; i++)
			cJSON_AddItemToArray(list, policy_json(&p->policies[i]));
	}
}

/* ---- reading ---- */

static const cJSON *get_array(const cJSON *o, const char *key, bool required, struct tb_err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v && !required)
		return NULL;
	if (!cJSON_IsArray(v)) {
		tb_fail(e, "%s: expected an array", key);
		return NULL;
	}
	return v;
}

static int read_selector(const cJSON *o, const char *key, struct label_selector *s, struct tb_err *e)
{
	*s = (struct label_selector){0};
	const cJSON *sel = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsObject(sel))
		return tb_fail(e, "%s: expected a label selector ({matchExpressions})", key);
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(sel, "matchExpressions");
	if (list && !cJSON_IsArray(list))
		return tb_fail(e, "%s.matchExpressions: expected an array", key);
	size_t i = 0;
	for (const cJSON *r = list ? list->child : NULL; r; r = r->next, i++) {
		char k[320], op[16];
		if (json_get_str(r, "key", k, sizeof(k), true, e) < 0 ||
		    json_get_str(r, "operator", op, sizeof(op), true, e) < 0)
			return tb_context(e, "%s.matchExpressions[%zu]", key, i);
		if (!docwalk_is_label_key(k))
			return tb_fail(e, "%s.matchExpressions[%zu].key: \"%s\" is not a label key", key, i, k);
		int which = -1;
		for (int n = 0; n < (int)ARRAY_SIZE(op_names); n++)
			if (strcmp(op, op_names[n]) == 0)
				which = n;
		if (which < 0)
			return tb_fail(e, "%s.matchExpressions[%zu].operator: \"%s\" is not In, NotIn, Exists or DoesNotExist",
				       key, i, op);
		const cJSON *values = cJSON_GetObjectItemCaseSensitive(r, "values");
		bool needs = which == SELECTOR_IN || which == SELECTOR_NOT_IN;
		size_t n = cJSON_IsArray(values) ? (size_t)cJSON_GetArraySize(values) : 0;
		if ((values && !cJSON_IsArray(values)) || (needs && !n) || (!needs && n))
			return tb_fail(e, "%s.matchExpressions[%zu].values: %s", key, i,
				       needs ? "In and NotIn need a non-empty array of values" : "Exists and DoesNotExist take none");
		autofree const char **vals = xcalloc(n + 1, sizeof(*vals));
		size_t j = 0;
		for (const cJSON *v = n ? values->child : NULL; v; v = v->next, j++) {
			if (!cJSON_IsString(v) || !docwalk_is_label_value(v->valuestring))
				return tb_fail(e, "%s.matchExpressions[%zu].values[%zu]: expected a label value", key, i, j);
			vals[j] = v->valuestring;
		}
		label_selector_add(s, k, (enum selector_op)which, vals, n);
	}
	return 0;
}

static int read_prefix(const cJSON *v, struct ipv4_prefix *out, struct tb_err *e)
{
	const char *why = "expected a string";
	if (!cJSON_IsString(v) || !ipv4_prefix_parse(v->valuestring, out, &why))
		return tb_fail(e, "expected an IPv4 CIDR: %s", why);
	if (!ipv4_is_network(*out))
		return tb_fail(e, "\"%s\" has host bits set (the plan saves networks)", v->valuestring);
	return 0;
}

static int read_peer(const cJSON *o, struct plan_policy_peer *peer, struct tb_err *e)
{
	*peer = (struct plan_policy_peer){.kind = PLAN_PEER_PODS};
	if (!cJSON_IsObject(o))
		return tb_fail(e, "expected an object");
	const cJSON *block = cJSON_GetObjectItemCaseSensitive(o, "ipBlock");
	peer->has_pod_selector = cJSON_GetObjectItemCaseSensitive(o, "podSelector") != NULL;
	peer->has_namespace_selector = cJSON_GetObjectItemCaseSensitive(o, "namespaceSelector") != NULL;
	if (block && (peer->has_pod_selector || peer->has_namespace_selector))
		return tb_fail(e, "ipBlock beside a selector");
	if (!block && !peer->has_pod_selector && !peer->has_namespace_selector)
		return tb_fail(e, "expected podSelector, namespaceSelector or ipBlock");
	if (peer->has_pod_selector && read_selector(o, "podSelector", &peer->pod_selector, e) < 0)
		return -1;
	if (peer->has_namespace_selector && read_selector(o, "namespaceSelector", &peer->namespace_selector, e) < 0)
		return -1;
	if (!block)
		return 0;
	peer->kind = PLAN_PEER_IP_BLOCK;
	if (!cJSON_IsObject(block))
		return tb_fail(e, "ipBlock: expected an object");
	if (read_prefix(cJSON_GetObjectItemCaseSensitive(block, "cidr"), &peer->cidr, e) < 0)
		return tb_context(e, "ipBlock.cidr");
	const cJSON *except = get_array(block, "except", false, e);
	if (!except && cJSON_GetObjectItemCaseSensitive(block, "except"))
		return tb_context(e, "ipBlock");
	peer->except = xcalloc(except ? (size_t)cJSON_GetArraySize(except) + 1 : 1, sizeof(*peer->except));
	for (const cJSON *x = except ? except->child : NULL; x; x = x->next) {
		size_t i = peer->n_except;
		struct ipv4_prefix *p = &peer->except[i];
		if (read_prefix(x, p, e) < 0)
			return tb_context(e, "ipBlock.except[%zu]", i);
		if (!ipv4_contains(peer->cidr, p->addr) || p->len <= peer->cidr.len)
			return tb_fail(e, "ipBlock.except[%zu]: not a strict subset of cidr", i);
		peer->n_except++;
	}
	return 0;
}

static int read_port(const cJSON *o, struct plan_policy_port *port, struct tb_err *e)
{
	*port = (struct plan_policy_port){0};
	char protocol[8];
	if (!cJSON_IsObject(o))
		return tb_fail(e, "expected an object");
	if (json_get_str(o, "protocol", protocol, sizeof(protocol), true, e) < 0)
		return -1;
	if (!tb_protocol_parse(protocol, &port->protocol))
		return tb_fail(e, "protocol: \"%s\" is not TCP, UDP or SCTP", protocol);
	const cJSON *number = cJSON_GetObjectItemCaseSensitive(o, "port");
	long end = 0;
	if (json_get_int(o, "endPort", 1, 65535, &end, false, e) < 0)
		return -1;
	if (!number) {
		port->any_port = true;
	} else if (cJSON_IsString(number)) {
		if (!ports_is_name(number->valuestring))
			return tb_fail(e, "port: \"%s\" is not a port name", number->valuestring);
		port->name = xstrdup(number->valuestring);
	} else {
		long n;
		if (json_get_int(o, "port", 1, 65535, &n, true, e) < 0)
			return -1;
		port->port = (uint16_t)n;
	}
	if (end && (port->any_port || port->name || end < port->port))
		return tb_fail(e, "endPort: %ld needs a numeric port not above it", end);
	port->end_port = (uint16_t)end;
	return 0;
}

static int read_rules(const cJSON *o, const char *key, const char *peers_key, struct plan_policy_rule **rules,
		      size_t *n, struct tb_err *e)
{
	const cJSON *list = get_array(o, key, false, e);
	if (!list && cJSON_GetObjectItemCaseSensitive(o, key))
		return -1;
	*rules = xcalloc(list ? (size_t)cJSON_GetArraySize(list) + 1 : 1, sizeof(**rules));
	size_t i = 0;
	for (const cJSON *r = list ? list->child : NULL; r; r = r->next, i++) {
		struct plan_policy_rule *rule = &(*rules)[(*n)++];
		if (!cJSON_IsObject(r))
			return tb_fail(e, "%s[%zu]: expected an object", key, i);
		const cJSON *peers = get_array(r, peers_key, false, e);
		if (!peers && cJSON_GetObjectItemCaseSensitive(r, peers_key))
			return tb_context(e, "%s[%zu]", key, i);
		rule->peers = xcalloc(peers ? (size_t)cJSON_GetArraySize(peers) + 1 : 1, sizeof(*rule->peers));
		for (const cJSON *x = peers ? peers->child : NULL; x; x = x->next) {
			size_t k = rule->n_peers++;
			if (read_peer(x, &rule->peers[k], e) < 0)
				return tb_context(e, "%s[%zu].%s[%zu]", key, i, peers_key, k);
		}
		const cJSON *ports = get_array(r, "ports", false, e);
		if (!ports && cJSON_GetObjectItemCaseSensitive(r, "ports"))
			return tb_context(e, "%s[%zu]", key, i);
		rule->ports = xcalloc(ports ? (size_t)cJSON_GetArraySize(ports) + 1 : 1, sizeof(*rule->ports));
		for (const cJSON *x = ports ? ports->child : NULL; x; x = x->next) {
			size_t k = rule->n_ports++;
			if (read_port(x, &rule->ports[k], e) < 0)
				return tb_context(e, "%s[%zu].ports[%zu]", key, i, k);
		}
	}
	return 0;
}

static int read_policy(const cJSON *o, struct plan_policy *p, struct tb_err *e)
{
	if (!cJSON_IsObject(o))
		return tb_fail(e, "expected an object");
	char namespace[64], name[254];
	if (json_get_str(o, "namespace", namespace, sizeof(namespace), true, e) < 0 ||
	    json_get_str(o, "name", name, sizeof(name), true, e) < 0)
		return -1;
	if (!docwalk_is_dns_label(namespace))
		return tb_fail(e, "namespace: \"%s\" is not a namespace's name", namespace);
	if (!topology_is_dns_subdomain(name))
		return tb_fail(e, "name: \"%s\" is not a NetworkPolicy's name", name);
	p->namespace = xstrdup(namespace);
	p->name = xstrdup(name);
	p->where = json_get_strdup(o, "where", e);
	if (!p->where)
		return -1;
	if (read_selector(o, "podSelector", &p->pod_selector, e) < 0)
		return -1;
	const cJSON *types = get_array(o, "policyTypes", true, e);
	if (!types)
		return -1;
	for (const cJSON *t = types->child; t; t = t->next) {
		if (cJSON_IsString(t) && strcmp(t->valuestring, "Ingress") == 0)
			p->ingress = true;
		else if (cJSON_IsString(t) && strcmp(t->valuestring, "Egress") == 0)
			p->egress = true;
		else
			return tb_fail(e, "policyTypes: expected \"Ingress\" and \"Egress\"");
	}
	if (read_rules(o, "ingress", "from", &p->ingress_rules, &p->n_ingress_rules, e) < 0 ||
	    read_rules(o, "egress", "to", &p->egress_rules, &p->n_egress_rules, e) < 0)
		return -1;
	return 0;
}

static int read_namespace(const cJSON *o, struct plan_namespace *ns, struct tb_err *e)
{
	char name[64];
	if (!cJSON_IsObject(o) || json_get_str(o, "name", name, sizeof(name), true, e) < 0)
		return cJSON_IsObject(o) ? -1 : tb_fail(e, "expected an object");
	if (!docwalk_is_dns_label(name))
		return tb_fail(e, "name: \"%s\" is not a namespace's name", name);
	ns->name = xstrdup(name);
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(o, "labels");
	if (!cJSON_IsObject(labels))
		return tb_fail(e, "labels: expected an object");
	ns->labels = xcalloc((size_t)cJSON_GetArraySize(labels) + 1, sizeof(*ns->labels));
	for (const cJSON *l = labels->child; l; l = l->next) {
		if (!docwalk_is_label_key(l->string) || !cJSON_IsString(l) || !docwalk_is_label_value(l->valuestring))
			return tb_fail(e, "labels: \"%s\" is not a label", l->string);
		ns->labels[ns->n_labels++] = (struct tb_label){xstrdup(l->string), xstrdup(l->valuestring)};
	}
	return 0;
}

int plan_policies_from_json(struct plan *p, const cJSON *root, struct tb_err *e)
{
	const cJSON *list = get_array(root, "namespaces", false, e);
	if (!list && cJSON_GetObjectItemCaseSensitive(root, "namespaces"))
		return -1;
	p->namespaces = xcalloc(list ? (size_t)cJSON_GetArraySize(list) + 1 : 1, sizeof(*p->namespaces));
	for (const cJSON *x = list ? list->child : NULL; x; x = x->next) {
		size_t i = p->n_namespaces++;
		if (read_namespace(x, &p->namespaces[i], e) < 0)
			return tb_context(e, "namespaces[%zu]", i);
		for (size_t k = 0; k < i; k++)
			if (strcmp(p->namespaces[k].name, p->namespaces[i].name) == 0)
				return tb_fail(e, "namespaces[%zu]: \"%s\" is given twice", i, p->namespaces[i].name);
	}
	list = get_array(root, "policies", false, e);
	if (!list && cJSON_GetObjectItemCaseSensitive(root, "policies"))
		return -1;
	p->policies = xcalloc(list ? (size_t)cJSON_GetArraySize(list) + 1 : 1, sizeof(*p->policies));
	for (const cJSON *x = list ? list->child : NULL; x; x = x->next) {
		size_t i = p->n_policies++;
		if (read_policy(x, &p->policies[i], e) < 0)
			return tb_context(e, "policies[%zu]", i);
		bool known = false;
		for (size_t k = 0; k < p->n_namespaces; k++)
			known |= strcmp(p->namespaces[k].name, p->policies[i].namespace) == 0;
		if (!known)
			return tb_fail(e, "policies[%zu]: namespace \"%s\" is not among the plan's namespaces", i,
				       p->policies[i].namespace);
	}
	return 0;
}
