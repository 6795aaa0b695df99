/* The NetworkPolicy evaluator: the Kubernetes semantics of policy_eval.h,
 * apart from the rule builder. Everything here reads the plan's data only. */
#include "check/policy_eval.h"

#include <stdlib.h>
#include <string.h>

#include "util/ipv4.h"
#include "util/util.h"

void policy_world_of(const struct plan *p, struct policy_world *w)
{
	*w = (struct policy_world){.machines = p->machines, .n_machines = p->n_machines,
				   .namespaces = p->namespaces, .n_namespaces = p->n_namespaces,
				   .policies = p->policies, .n_policies = p->n_policies};
}

/* Label selectors, as k8s.io/apimachinery has them: every requirement
 * holds; NotIn and DoesNotExist hold for a missing key. Our own reading,
 * not model/selector.c's: the evaluator is the independent one. */
static const char *label_of(const struct tb_label *labels, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(labels[i].key, key) == 0)
			return labels[i].value;
	return NULL;
}

static bool value_listed(const struct selector_requirement *r, const char *value)
{
	for (size_t i = 0; i < r->n_values; i++)
		if (strcmp(r->values[i], value) == 0)
			return true;
	return false;
}

static bool selects(const struct label_selector *s, const struct tb_label *labels, size_t n)
{
	for (size_t i = 0; i < s->n_reqs; i++) {
		const struct selector_requirement *r = &s->reqs[i];
		const char *v = label_of(labels, n, r->key);
		bool ok;
		switch (r->op) {
		case SELECTOR_IN:
			ok = v && value_listed(r, v);
			break;
		case SELECTOR_NOT_IN:
			ok = !v || !value_listed(r, v);
			break;
		case SELECTOR_EXISTS:
			ok = v != NULL;
			break;
		case SELECTOR_DOES_NOT_EXIST:
			ok = v == NULL;
			break;
		default:
			ok = false;
		}
		if (!ok)
			return false;
	}
	return true;
}

/* A pod policies can select or name as a pod peer: hostNetwork pods are
 * the node as far as policies go. */
static bool is_policy_pod(const struct policy_world *w, size_t m)
{
	return m != PLAN_NONE && m < w->n_machines && w->machines[m].kind == MACHINE_POD &&
	       !w->machines[m].host_network && w->machines[m].namespace;
}

/* A namespace's labels. One the plan does not list has the label the API
 * server gives every namespace, kubernetes.io/metadata.name, alone. */
static bool namespace_selected(const struct policy_world *w, const struct label_selector *s, const char *ns)
{
	for (size_t i = 0; i < w->n_namespaces; i++)
		if (strcmp(w->namespaces[i].name, ns) == 0)
			return selects(s, w->namespaces[i].labels, w->namespaces[i].n_labels);
	struct tb_label own = {.key = (char *)"kubernetes.io/metadata.name", .value = (char *)ns};
	return selects(s, &own, 1);
}

static bool policy_selects(const struct policy_world *w, const struct plan_policy *p, size_t m)
{
	if (!is_policy_pod(w, m))
		return false;
	const struct plan_machine *pod = &w->machines[m];
	return strcmp(pod->namespace, p->namespace) == 0 && selects(&p->pod_selector, pod->labels, pod->n_labels);
}

/* The node a machine stands for as a policy peer: a node itself, or a
 * hostNetwork pod's node. PLAN_NONE for anything else. */
static size_t node_of(const struct policy_world *w, size_t m)
{
	if (m == PLAN_NONE || m >= w->n_machines)
		return PLAN_NONE;
	const struct plan_machine *x = &w->machines[m];
	if (x->kind == MACHINE_NODE)
		return m;
	if (x->kind == MACHINE_POD && x->host_network)
		return x->parent;
	return PLAN_NONE;
}

size_t policy_machine_at(const struct policy_world *w, uint32_t address)
{
	size_t any = PLAN_NONE;
	for (size_t i = 0; i < w->n_machines; i++) {
		if (w->machines[i].address != address)
			continue;
		if (is_policy_pod(w, i))
			return i;
		if (any == PLAN_NONE || w->machines[i].kind == MACHINE_NODE)
			any = i;
	}
	return any;
}

/* The address an end has on the wire: a hostNetwork pod its node's. */
static uint32_t address_of(const struct policy_world *w, struct policy_end e)
{
	if (e.address)
		return e.address;
	if (e.machine == PLAN_NONE || e.machine >= w->n_machines)
		return 0;
	size_t node = node_of(w, e.machine);
	if (node != PLAN_NONE && node < w->n_machines && w->machines[node].address)
		return w->machines[node].address;
	return w->machines[e.machine].address;
}

/* PEER of a policy of namespace NS against the other end M (PLAN_NONE:
 * no machine) at ADDRESS. */
static bool peer_matches(const struct policy_world *w, const char *ns, const struct plan_policy_peer *peer, size_t m,
			 uint32_t address)
{
	if (peer->kind == PLAN_PEER_IP_BLOCK) {
		if (!ipv4_contains(peer->cidr, address))
			return false;
		for (size_t i = 0; i < peer->n_except; i++)
			if (ipv4_contains(peer->except[i], address))
				return false;
		return true;
	}
	if (!is_policy_pod(w, m))
		return false;
	const struct plan_machine *pod = &w->machines[m];
	if (peer->has_namespace_selector) {
		if (!namespace_selected(w, &peer->namespace_selector, pod->namespace))
			return false;
	} else if (strcmp(pod->namespace, ns) != 0) {
		return false;
	}
	return !peer->has_pod_selector || selects(&peer->pod_selector, pod->labels, pod->n_labels);
}

/* A port entry against PORT/PROTOCOL at the destination machine DST
 * (PLAN_NONE: an address only, where names resolve to nothing). */
static bool port_matches(const struct policy_world *w, const struct plan_policy_port *pp, size_t dst, uint16_t port,
			 enum tb_protocol protocol)
{
	if (pp->protocol != protocol)
		return false;
	if (pp->any_port)
		return true;
	if (pp->name) {
		if (dst == PLAN_NONE || dst >= w->n_machines || w->machines[dst].kind != MACHINE_POD)
			return false;
		const struct plan_machine *d = &w->machines[dst];
		for (size_t i = 0; i < d->n_ports; i++)
			if (d->ports[i].name && strcmp(d->ports[i].name, pp->name) == 0 &&
			    d->ports[i].protocol == protocol && d->ports[i].port == port)
				return true;
		return false;
	}
	if (pp->end_port)
		return port >= pp->port && port <= pp->end_port;
	return port == pp->port;
}

static void add_isolating(struct policy_side *s, size_t policy)
{
	s->isolating = xrealloc(s->isolating, (s->n_isolating + 1) * sizeof *s->isolating);
	s->isolating[s->n_isolating++] = policy;
}

static void add_match(struct policy_side *s, struct policy_match m)
{
	s->allowed_by = xrealloc(s->allowed_by, (s->n_allowed_by + 1) * sizeof *s->allowed_by);
	s->allowed_by[s->n_allowed_by++] = m;
}

/* One side: POD's egress (INGRESS false; OTHER the destination) or
 * ingress (OTHER the source). DST is the connection's destination, where
 * named ports resolve. */
static void judge_side(const struct policy_world *w, struct policy_side *s, bool ingress, size_t pod, size_t other,
		       uint32_t other_address, size_t dst, uint16_t port, enum tb_protocol protocol)
{
	*s = (struct policy_side){.pod = PLAN_NONE, .allowed = true};
	if (!is_policy_pod(w, pod))
		return;
	s->pod = pod;
	for (size_t p = 0; p < w->n_policies; p++) {
		const struct plan_policy *pol = &w->policies[p];
		if (!(ingress ? pol->ingress : pol->egress) || !policy_selects(w, pol, pod))
			continue;
		add_isolating(s, p);
		size_t n_rules = ingress ? pol->n_ingress_rules : pol->n_egress_rules;
		const struct plan_policy_rule *rules = ingress ? pol->ingress_rules : pol->egress_rules;
		for (size_t r = 0; r < n_rules; r++) {
			const struct plan_policy_rule *rule = &rules[r];
			size_t peer = POLICY_ALL, pt = POLICY_ALL;
			if (rule->n_peers) {
				for (peer = 0; peer < rule->n_peers; peer++)
					if (peer_matches(w, pol->namespace, &rule->peers[peer], other, other_address))
						break;
				if (peer == rule->n_peers)
					continue;
			}
			if (rule->n_ports) {
				for (pt = 0; pt < rule->n_ports; pt++)
					if (port_matches(w, &rule->ports[pt], dst, port, protocol))
						break;
				if (pt == rule->n_ports)
					continue;
			}
			add_match(s, (struct policy_match){.policy = p, .rule = r, .peer = peer, .port = pt});
		}
	}
	s->isolated = s->n_isolating > 0;
	if (!s->isolated)
		return;
	/* A pod cannot block itself; a pod and its own node always talk. */
	if (other == pod)
		s->exempt = POLICY_EXEMPT_SELF;
	else if (node_of(w, other) != PLAN_NONE && node_of(w, other) == w->machines[pod].parent)
		s->exempt = POLICY_EXEMPT_OWN_NODE;
	s->allowed = s->exempt != POLICY_EXEMPT_NONE || s->n_allowed_by > 0;
}

void policy_eval(const struct policy_world *w, struct policy_end src, struct policy_end dst, uint16_t port,
		 enum tb_protocol protocol, struct policy_verdict *v)
{
	*v = (struct policy_verdict){0};
	v->src_address = address_of(w, src);
	v->dst_address = address_of(w, dst);
	v->src = src.machine != PLAN_NONE ? src.machine : policy_machine_at(w, src.address);
	v->dst = dst.machine != PLAN_NONE ? dst.machine : policy_machine_at(w, dst.address);
	judge_side(w, &v->egress, false, v->src, v->dst, v->dst_address, v->dst, port, protocol);
	judge_side(w, &v->ingress, true, v->dst, v->src, v->src_address, v->dst, port, protocol);
	v->allowed = v->egress.allowed && v->ingress.allowed;
}

void policy_verdict_free(struct policy_verdict *v)
{
	free(v->egress.isolating);
	free(v->egress.allowed_by);
	free(v->ingress.isolating);
	free(v->ingress.allowed_by);
	*v = (struct policy_verdict){0};
}

static void write_peer(FILE *out, const struct plan_policy_peer *peer)
{
	char buf[IPV4_PREFIX_STRLEN];
	if (peer->kind == PLAN_PEER_IP_BLOCK) {
		fprintf(out, "ipBlock %s", ipv4_prefix_format(peer->cidr, buf));
		for (size_t i = 0; i < peer->n_except; i++)
			fprintf(out, "%s%s", i ? "," : " except ", ipv4_prefix_format(peer->except[i], buf));
		return;
	}
	if (peer->has_namespace_selector)
		fputs(peer->has_pod_selector ? "namespaceSelector+podSelector" : "namespaceSelector", out);
	else
		fputs("podSelector", out);
}

static void write_port(FILE *out, const struct plan_policy_port *pp)
{
	fputs(tb_protocol_name(pp->protocol), out);
	if (pp->any_port)
		fputs(" every port", out);
	else if (pp->name)
		fprintf(out, " %s", pp->name);
	else if (pp->end_port)
		fprintf(out, " %u-%u", pp->port, pp->end_port);
	else
		fprintf(out, " %u", pp->port);
}

static void write_policy(FILE *out, const struct plan_policy *p)
{
	fprintf(out, "%s/%s", p->namespace, p->name);
	if (p->where)
		fprintf(out, " (%s)", p->where);
}

static const char *end_name(const struct policy_world *w, size_t m, uint32_t address, char *buf)
{
	if (m != PLAN_NONE && m < w->n_machines)
		return w->machines[m].name;
	return ipv4_addr_format(address, buf);
}

static void explain_side(FILE *out, const struct policy_world *w, const struct policy_verdict *v, bool ingress,
			 const char *indent)
{
	const struct policy_side *s = ingress ? &v->ingress : &v->egress;
	const char *dir = ingress ? "ingress" : "egress";
	char buf[IPV4_PREFIX_STRLEN];
	size_t me = ingress ? v->dst : v->src;
	uint32_t my_address = ingress ? v->dst_address : v->src_address;
	fprintf(out, "%s%s of %s: ", indent, dir, end_name(w, me, my_address, buf));
	if (s->pod == PLAN_NONE) {
		fputs("allowed (not a pod policies select", out);
		if (me != PLAN_NONE && me < w->n_machines && w->machines[me].kind == MACHINE_POD)
			fputs(": hostNetwork", out);
		fputs(")\n", out);
		return;
	}
	if (!s->isolated) {
		fprintf(out, "allowed (no policy selects it for %s)\n", ingress ? "Ingress" : "Egress");
		return;
	}
	fprintf(out, "%s; isolated by ", s->allowed ? "allowed" : "DENIED");
	for (size_t i = 0; i < s->n_isolating; i++) {
		fputs(i ? ", " : "", out);
		write_policy(out, &w->policies[s->isolating[i]]);
	}
	fputc('\n', out);
	if (s->exempt == POLICY_EXEMPT_SELF)
		fprintf(out, "%s  a pod cannot block itself\n", indent);
	else if (s->exempt == POLICY_EXEMPT_OWN_NODE)
		fprintf(out, "%s  traffic between a pod and its own node always passes\n", indent);
	for (size_t i = 0; i < s->n_allowed_by; i++) {
		const struct policy_match *m = &s->allowed_by[i];
		const struct plan_policy *p = &w->policies[m->policy];
		const struct plan_policy_rule *rule = ingress ? &p->ingress_rules[m->rule] : &p->egress_rules[m->rule];
		fprintf(out, "%s  allowed by %s/%s %s[%zu]: ", indent, p->namespace, p->name, dir, m->rule);
		if (m->peer == POLICY_ALL) {
			fprintf(out, "every peer (no %s)", ingress ? "from" : "to");
		} else {
			fprintf(out, "%s[%zu] ", ingress ? "from" : "to", m->peer);
			write_peer(out, &rule->peers[m->peer]);
		}
		if (m->port == POLICY_ALL) {
			fputs(", every port (no ports)", out);
		} else {
			fprintf(out, ", ports[%zu] ", m->port);
			write_port(out, &rule->ports[m->port]);
		}
		fputc('\n', out);
	}
	if (!s->allowed)
		fprintf(out, "%s  no rule of those policies matches this peer and port\n", indent);
}

void policy_verdict_explain(FILE *out, const struct policy_world *w, const struct policy_verdict *v, const char *indent)
{
	explain_side(out, w, v, false, indent);
	explain_side(out, w, v, true, indent);
}
