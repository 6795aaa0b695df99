/* Compiling expectations into probes. */
#define _GNU_SOURCE
#include "check.h"

#include <stdio.h>
#include <string.h>

#include "diag.h"

const char *tb_proto_name(enum tb_proto p)
{
	switch (p) {
	case TB_PROTO_HTTP:
		return "http";
	case TB_PROTO_TCP:
		return "tcp";
	case TB_PROTO_PING:
		return "ping";
	}
	return "?";
}

size_t check_count_ok(const struct check_run *run)
{
	size_t ok = 0;
	for (size_t i = 0; i < run->n_probes; i++)
		ok += check_probe_ok(&run->probes[i]);
	return ok;
}

void check_run_free(struct check_run *run)
{
	for (size_t i = 0; i < run->n_probes; i++)
		free(run->probes[i].path_note);
	free(run->probes);
	run->probes = NULL;
	run->n_probes = 0;
}

/* One end of a probe, resolved from a target. */
struct end {
	const char *name;
	uint32_t address;
	int http_port;      /* 0: no server */
	bool testbed_http;  /* runs the pod HTTP server (answers /hostname) */
};

/* The ends TARGET stands for, appended to *ENDS. */
static size_t expand_target(const struct tb_topology *t, const struct tb_target *target, struct end **ends)
{
	size_t n = 0;
	switch (target->kind) {
	case TB_KIND_ALL_PODS:
		*ends = xcalloc(t->n_pods ? t->n_pods : 1, sizeof(**ends));
		for (size_t i = 0; i < t->n_nodes; i++)
			for (size_t j = 0; j < t->nodes[i].n_pods; j++) {
				const struct tb_pod *pod = &t->nodes[i].pods[j];
				(*ends)[n++] = (struct end){pod->name, pod->address, pod->http_port, !pod->command};
			}
		return n;
	case TB_KIND_POD: {
		const struct tb_pod *pod = topology_find_pod(t, target->name, NULL);
		if (!pod)
			return 0;
		*ends = xcalloc(1, sizeof(**ends));
		(*ends)[0] = (struct end){pod->name, pod->address, pod->http_port, !pod->command};
		return 1;
	}
	case TB_KIND_NODE: {
		const struct tb_node *node = topology_find_node(t, target->name);
		if (!node)
			return 0;
		*ends = xcalloc(1, sizeof(**ends));
		(*ends)[0] = (struct end){node->name, node->underlay_address, 0, false};
		return 1;
	}
	case TB_KIND_HOST: {
		const struct tb_host *host = topology_find_host(t, target->name);
		if (!host)
			return 0;
		*ends = xcalloc(1, sizeof(**ends));
		(*ends)[0] = (struct end){host->name, host->n_ifaces ? host->ifaces[0].address.addr : 0,
					  host->http_port, host->http_port > 0};
		return 1;
	}
	case TB_KIND_GATEWAY:
		*ends = xcalloc(1, sizeof(**ends));
		(*ends)[0] = (struct end){TB_TARGET_GATEWAY, t->cluster.gateway_address, 0, false};
		return 1;
	}
	return 0;
}

/* Probes by (from, to, proto, port), so that overlapping expectations
 * meet in constant time even when "*" expands to a full mesh. */
struct compiler {
	struct check_run *run;
	size_t cap;
	int *specificity; /* per probe */
	size_t cap_specificity;
	size_t *table; /* open addressing: probe index + 1; 0 is empty */
	size_t table_size; /* a power of two, at least twice the probes */
};

static size_t probe_hash(const struct check_probe *p)
{
	/* Names come from the topology's entities, so one name is one pointer. */
	uint64_t h = (uint64_t)(uintptr_t)p->from_name * 0x9E3779B97F4A7C15ULL;
	h ^= (uint64_t)(uintptr_t)p->to_name * 0xC2B2AE3D27D4EB4FULL;
	h ^= ((uint64_t)p->proto << 16 | p->port) * 0x165667B19E3779F9ULL;
	return (size_t)(h ^ (h >> 29));
}

static bool same_probe(const struct check_probe *a, const struct check_probe *b)
{
	return a->from_name == b->from_name && a->to_name == b->to_name && a->proto == b->proto && a->port == b->port;
}

static size_t *table_slot(const struct compiler *c, const struct check_probe *p)
{
	size_t mask = c->table_size - 1;
	for (size_t k = probe_hash(p) & mask;; k = (k + 1) & mask)
		if (!c->table[k] || same_probe(&c->run->probes[c->table[k] - 1], p))
			return &c->table[k];
}

static void table_grow(struct compiler *c)
{
	size_t old_size = c->table_size;
	size_t *old = c->table;
	c->table_size = old_size ? old_size * 2 : 64;
	c->table = xcalloc(c->table_size, sizeof(*c->table));
	for (size_t k = 0; k < old_size; k++)
		if (old[k])
			*table_slot(c, &c->run->probes[old[k] - 1]) = old[k];
	free(old);
}

char *check_probe_label(const struct check_probe *p)
{
	const char *client = p->client_ip == TB_CLIENT_IP_PRESERVED   ? " (client IP preserved)"
			     : p->client_ip == TB_CLIENT_IP_REWRITTEN ? " (client IP rewritten)"
								      : "";
	if (p->proto == TB_PROTO_PING)
		return xasprintf("%s -> %s ping%s", p->from_name, p->to_name, client);
	return xasprintf("%s -> %s %s:%u%s", p->from_name, p->to_name, tb_proto_name(p->proto), p->port, client);
}

/* Adds P, or lets it override (or be overridden by) an earlier probe for
 * the same ends, protocol and port. */
static bool add_probe(struct compiler *c, const struct tb_topology *t, struct diag *d, struct check_probe p,
		      int specificity)
{
	struct check_run *run = c->run;
	if (2 * (run->n_probes + 1) > c->table_size)
		table_grow(c);
	size_t *slot = table_slot(c, &p);
	struct check_probe *old = *slot ? &run->probes[*slot - 1] : NULL;
	if (old) {
		int old_specificity = c->specificity[old - run->probes];
		if (old_specificity > specificity)
			return true;
		if (old_specificity < specificity) {
			old->expect = p.expect;
			old->expect_pass = p.expect_pass;
			old->client_ip = p.client_ip;
			c->specificity[old - run->probes] = specificity;
			return true;
		}
		if (old->expect_pass == p.expect_pass && old->client_ip == p.client_ip)
			return true;
		autofree char *label = check_probe_label(&p);
		autofree char *path = xasprintf("expect[%zu]", p.expect);
		diag_error(d, t->expects[p.expect].line, path, "contradicts expect[%zu] for %s", old->expect, label);
		return false;
	}
	grow_array((void **)&run->probes, &c->cap, run->n_probes + 1, sizeof(*run->probes));
	grow_array((void **)&c->specificity, &c->cap_specificity, run->n_probes + 1, sizeof(*c->specificity));
	c->specificity[run->n_probes] = specificity;
	run->probes[run->n_probes++] = p;
	*slot = run->n_probes;
	return true;
}

static struct check_probe new_probe(size_t expect, const struct end *from, const struct end *to, enum tb_proto proto,
				    int port)
{
	if (proto != TB_PROTO_PING && port == 0)
		port = to->http_port ? to->http_port : TB_DEFAULT_HTTP_PORT;
	return (struct check_probe){
		.expect = expect,
		.from = SIZE_MAX,
		.to = SIZE_MAX,
		.from_name = from->name,
		.to_name = to->name,
		.proto = proto,
		.port = proto == TB_PROTO_PING ? 0 : (uint16_t)port,
		.expect_pass = true,
		.from_address = from->address,
		.to_address = to->address,
	};
}

/* Kubernetes' networking model: every pod reaches every other pod, and
 * sees its real address. Pods running their own command get tcp instead
 * of http, as nobody knows what they answer. */
static void compile_default_model(struct compiler *c, const struct tb_topology *t)
{
	struct tb_target all = {.kind = TB_KIND_ALL_PODS};
	autofree struct end *pods = NULL;
	size_t n = expand_target(t, &all, &pods);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			if (i == j)
				continue;
			if (pods[j].http_port) {
				struct check_probe p = new_probe(SIZE_MAX, &pods[i], &pods[j],
								 pods[j].testbed_http ? TB_PROTO_HTTP : TB_PROTO_TCP, 0);
				if (pods[j].testbed_http)
					p.client_ip = TB_CLIENT_IP_PRESERVED;
				add_probe(c, t, NULL, p, 0);
			}
			add_probe(c, t, NULL, new_probe(SIZE_MAX, &pods[i], &pods[j], TB_PROTO_PING, 0), 0);
		}
}

bool check_compile(const struct tb_topology *t, struct check_run *run, struct diag *d)
{
	*run = (struct check_run){.lab = t->name, .default_model = !t->has_expect};
	struct compiler c = {.run = run};
	bool ok = true;
	if (!t->has_expect)
		compile_default_model(&c, t);
	for (size_t i = 0; i < t->n_expects; i++) {
		const struct tb_expect *x = &t->expects[i];
		autofree struct end *froms = NULL, *tos = NULL;
		size_t n_from = expand_target(t, &x->from, &froms), n_to = expand_target(t, &x->to, &tos);
		bool wildcard = x->from.kind == TB_KIND_ALL_PODS || x->to.kind == TB_KIND_ALL_PODS;
		int specificity = (x->from.kind != TB_KIND_ALL_PODS) + (x->to.kind != TB_KIND_ALL_PODS);
		for (size_t a = 0; a < n_from; a++)
			for (size_t b = 0; b < n_to; b++) {
				if (wildcard && froms[a].name == tos[b].name)
					continue;
				struct check_probe p = new_probe(i, &froms[a], &tos[b], x->proto, x->port);
				p.expect_pass = x->expect_pass;
				p.client_ip = x->client_ip;
				if (!add_probe(&c, t, d, p, specificity)) {
					ok = false;
					a = n_from; /* one message per expectation is enough */
					break;
				}
			}
	}
	free(c.specificity);
	free(c.table);
	return ok;
}

bool check_validate(const struct tb_topology *t, struct diag *d)
{
	if (!t->has_expect)
		return true; /* the default model cannot contradict itself */
	struct check_run run;
	bool ok = check_compile(t, &run, d);
	check_run_free(&run);
	return ok;
}
