/* The scheduler: workloads (k8s.c) become pods on nodes, named as their
 * controllers name them, in an order that does not change between runs.
 * docs/topology.md ("Scheduling") says the rules; in short:
 *   - a Pod is one pod; a StatefulSet's are NAME-0, NAME-1...; a
 *     Deployment's NAME-HASH-XXXXX (HASH its pod-template-hash); a
 *     ReplicaSet's NAME-XXXXX; a DaemonSet's NAME-XXXXX, one per node;
 *     XXXXX is five letters of Kubernetes' alphabet, from the workload's
 *     name and the replica's number (a DaemonSet's: its node's name);
 *   - nodeName picks the node; nodeSelector leaves the nodes whose labels
 *     hold it; a node whose host ports a pod needs are taken is left out;
 *   - among the nodes left, a pod goes to the one with the fewest pods so
 *     far, the first in the topology's order on a tie; workloads in the
 *     order they were written, replicas in order. */
#define _GNU_SOURCE
#include "model/schedule.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/diag.h"
#include "util/util.h"

static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";

static uint32_t fnv1a(const char *s, uint32_t h)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Five letters from NAME and KEY, as a controller's random suffix looks. */
static void suffix(const char *name, const char *key, char out[6])
{
	uint32_t h = fnv1a(key, fnv1a("/", fnv1a(name, 2166136261u)));
	for (int i = 0; i < 5; i++) {
		out[i] = alphabet[h % (sizeof(alphabet) - 1)];
		h = h / (sizeof(alphabet) - 1) ^ (h << 7) * 2654435761u;
	}
	out[5] = '\0';
}

static const char *label_value(const struct tb_label *labels, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(labels[i].key, key) == 0)
			return labels[i].value;
	return NULL;
}

/* Ports a node gives away to its pods: hostNetwork pods' ports and
 * hostPort mappings (one listener each, on the node's addresses). */
static bool takes_port(const struct tb_pod *pod, int port, enum tb_protocol protocol)
{
	if (pod->host_network) {
		for (size_t i = 0; i < pod->n_ports; i++)
			if (pod->ports[i].port == port && pod->ports[i].protocol == protocol)
				return true;
		return false;
	}
	for (size_t i = 0; i < pod->n_host_ports; i++)
		if (pod->host_ports[i].host_port == port && pod->host_ports[i].protocol == protocol)
			return true;
	return false;
}

/* Would POD's host ports clash with a pod already on N? */
static bool ports_free(const struct tb_node *n, const struct tb_pod *pod)
{
	for (size_t j = 0; j < n->n_pods; j++) {
		if (pod->host_network)
			for (size_t k = 0; k < pod->n_ports; k++)
				if (takes_port(&n->pods[j], pod->ports[k].port, pod->ports[k].protocol))
					return false;
		for (size_t k = 0; k < pod->n_host_ports; k++)
			if (takes_port(&n->pods[j], pod->host_ports[k].host_port, pod->host_ports[k].protocol))
				return false;
	}
	return true;
}

static bool selects(const struct tb_workload *wl, const struct tb_node *n)
{
	if (wl->node_name && strcmp(wl->node_name, n->name) != 0)
		return false;
	for (size_t i = 0; i < wl->n_node_selector; i++) {
		const char *v = label_value(n->labels, n->n_labels, wl->node_selector[i].key);
		if (!v || strcmp(v, wl->node_selector[i].value) != 0)
			return false;
	}
	return true;
}

static struct tb_label *copy_labels(const struct tb_label *labels, size_t n)
{
	struct tb_label *c = n ? xcalloc(n, sizeof(*c)) : NULL;
	for (size_t i = 0; i < n; i++)
		c[i] = (struct tb_label){xstrdup(labels[i].key), xstrdup(labels[i].value)};
	return c;
}

/* A pod of WL called NAME, on node N. */
static void place(struct tb_topology *t, struct tb_node *n, const struct tb_workload *wl, char *name)
{
	const struct tb_pod *tmpl = &wl->pod;
	n->pods = xrealloc(n->pods, (n->n_pods + 1) * sizeof(*n->pods));
	struct tb_pod *pod = &n->pods[n->n_pods++];
	*pod = (struct tb_pod){
		.name = name,
		.namespace = xstrdup(tmpl->namespace),
		.image = xstrdup("pod"),
		.labels = copy_labels(tmpl->labels, tmpl->n_labels),
		.n_labels = tmpl->n_labels,
		.n_ports = tmpl->n_ports,
		.disk = TB_DEFAULT_DISK,
		.host_network = tmpl->host_network,
		.n_host_ports = tmpl->n_host_ports,
		.dns_policy = tmpl->dns_policy,
		.origin = {tmpl->origin.file, tmpl->origin.line, tmpl->origin.column, xstrdup(tmpl->origin.what)},
		.line = tmpl->line,
		.name_line = tmpl->name_line,
	};
	pod->ports = tmpl->n_ports ? xcalloc(tmpl->n_ports, sizeof(*pod->ports)) : NULL;
	for (size_t i = 0; i < tmpl->n_ports; i++)
		pod->ports[i] = (struct tb_port){xstrdup(tmpl->ports[i].name), tmpl->ports[i].port, tmpl->ports[i].protocol};
	pod->host_ports = tmpl->n_host_ports ? xcalloc(tmpl->n_host_ports, sizeof(*pod->host_ports)) : NULL;
	for (size_t i = 0; i < tmpl->n_host_ports; i++)
		pod->host_ports[i] = tmpl->host_ports[i];
	tb_dns_config_copy(&pod->dns_config, &tmpl->dns_config);
	pod->host_aliases = tb_host_aliases_copy(tmpl->host_aliases, tmpl->n_host_aliases);
	pod->n_host_aliases = tmpl->n_host_aliases;
	/* The StatefulSet controller gives each pod its own name as hostname
	 * and the set's serviceName as subdomain, whatever the template says. */
	if (wl->kind == TB_WORKLOAD_STATEFULSET) {
		pod->hostname = xstrdup(name);
		pod->subdomain = wl->service_name ? xstrdup(wl->service_name) : NULL;
	} else {
		pod->hostname = tmpl->hostname ? xstrdup(tmpl->hostname) : NULL;
		pod->subdomain = tmpl->subdomain ? xstrdup(tmpl->subdomain) : NULL;
	}
	t->n_pods++;
}

static char *pod_name(const struct tb_workload *wl, size_t replica, const struct tb_node *n)
{
	char key[32], tail[6];
	switch (wl->kind) {
	case TB_WORKLOAD_POD:
		return xstrdup(wl->name);
	case TB_WORKLOAD_STATEFULSET:
		return xasprintf("%s-%zu", wl->name, (size_t)wl->ordinal_start + replica);
	case TB_WORKLOAD_DEPLOYMENT:
		snprintf(key, sizeof(key), "%zu", replica);
		suffix(wl->template_hash ? wl->template_hash : "", key, tail);
		return xasprintf("%s-%s-%s", wl->name, wl->template_hash ? wl->template_hash : "", tail);
	case TB_WORKLOAD_REPLICASET:
		snprintf(key, sizeof(key), "%zu", replica);
		suffix(wl->name, key, tail);
		return xasprintf("%s-%s", wl->name, tail);
	case TB_WORKLOAD_DAEMONSET:
		suffix(wl->name, n->name, tail);
		return xasprintf("%s-%s", wl->name, tail);
	}
	return xstrdup(wl->name);
}

/* Reports a workload that cannot be placed, at its object. */
static void unplaced(struct diag *d, const struct tb_workload *wl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void unplaced(struct diag *d, const struct tb_workload *wl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	autofree char *why = xvasprintf(fmt, ap);
	va_end(ap);
	diag_error_in(d, wl->pod.origin.file, wl->pod.origin.line, wl->pod.origin.column, wl->pod.origin.what, "%s", why);
}

/* The node a pod of WL goes to, or NULL. */
static struct tb_node *pick(struct tb_topology *t, const struct tb_workload *wl)
{
	struct tb_node *best = NULL;
	for (size_t i = 0; i < t->n_nodes; i++) {
		struct tb_node *n = &t->nodes[i];
		if (selects(wl, n) && ports_free(n, &wl->pod) && (!best || n->n_pods < best->n_pods))
			best = n;
	}
	return best;
}

/* Why no node takes WL's pod: the first rule that leaves none. */
static void explain(struct diag *d, const struct tb_topology *t, const struct tb_workload *wl)
{
	if (wl->node_name) {
		bool exists = false;
		for (size_t i = 0; i < t->n_nodes; i++)
			exists |= strcmp(t->nodes[i].name, wl->node_name) == 0;
		if (!exists) {
			unplaced(d, wl, "spec.nodeName: the lab has no node \"%s\"", wl->node_name);
			return;
		}
	}
	size_t selected = 0;
	for (size_t i = 0; i < t->n_nodes; i++)
		selected += selects(wl, &t->nodes[i]);
	if (!selected)
		unplaced(d, wl, "spec.nodeSelector: no node has every label it asks for");
	else
		unplaced(d, wl, "every node it may run on has a host port it needs taken (hostNetwork or hostPort)");
}

bool schedule_workloads(struct tb_topology *t, struct diag *d)
{
	size_t errors = d->count;
	for (size_t w = 0; w < t->n_workloads; w++) {
		const struct tb_workload *wl = &t->workloads[w];
		if (t->n_nodes == 0) {
			unplaced(d, wl, "the lab has no nodes to run its pods on");
			continue;
		}
		if (wl->kind == TB_WORKLOAD_DAEMONSET) {
			/* One pod per node it selects; a node without room for its
			 * host ports leaves it pending, which testbed refuses. */
			size_t placed = 0;
			for (size_t i = 0; i < t->n_nodes; i++) {
				struct tb_node *n = &t->nodes[i];
				if (!selects(wl, n))
					continue;
				if (!ports_free(n, &wl->pod)) {
					unplaced(d, wl, "node %s: a host port it needs is taken (hostNetwork or hostPort)",
						 n->name);
					continue;
				}
				place(t, n, wl, pod_name(wl, placed++, n));
			}
			continue;
		}
		size_t replicas = wl->kind == TB_WORKLOAD_POD ? 1 : (size_t)wl->replicas;
		for (size_t r = 0; r < replicas; r++) {
			struct tb_node *n = pick(t, wl);
			if (!n) {
				explain(d, t, wl);
				break;
			}
			place(t, n, wl, pod_name(wl, r, n));
		}
	}
	return d->count == errors;
}
