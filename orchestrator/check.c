/* Compiling expectations into probes. */
#define _GNU_SOURCE
#include "check.h"

#include <stdio.h>
#include <string.h>

#include "diag.h"

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

/* One end of a probe: a plan machine. */
struct end {
	size_t machine;
	const char *name;
	uint32_t address;
	int http_port;   /* 0: no server */
	bool pod_server; /* answers /hostname */
};

static struct end end_of(const struct plan *p, size_t m)
{
	const struct plan_machine *pm = &p->machines[m];
	return (struct end){m, pm->name, pm->address, pm->http_port, pm->pod_server};
}

/* The ends TARGET stands for ("*": every pod), in *ENDS (malloc'd). */
static size_t expand_target(const struct plan *p, const char *target, struct end **ends)
{
	size_t n = 0;
	*ends = xcalloc(p->n_machines ? p->n_machines : 1, sizeof(**ends));
	if (strcmp(target, "*") == 0) {
		for (size_t i = 0; i < p->n_machines; i++)
			if (p->machines[i].kind == MACHINE_POD)
				(*ends)[n++] = end_of(p, i);
		return n;
	}
	size_t m = plan_find(p, target);
	if (m != PLAN_NONE)
		(*ends)[n++] = end_of(p, m);
	return n;
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
static bool add_probe(struct compiler *c, const struct plan *plan, struct diag *d, struct check_probe p,
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
		diag_error_at(d, plan->expects[p.expect].line, 0, "expect[%zu]: contradicts expect[%zu] for %s", p.expect,
			      old->expect, label);
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
		.from = from->machine,
		.to = to->machine,
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
static void compile_default_model(struct compiler *c, const struct plan *t)
{
	autofree struct end *pods = NULL;
	size_t n = expand_target(t, "*", &pods);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			if (i == j)
				continue;
			if (pods[j].http_port) {
				struct check_probe p = new_probe(SIZE_MAX, &pods[i], &pods[j],
								 pods[j].pod_server ? TB_PROTO_HTTP : TB_PROTO_TCP, 0);
				if (pods[j].pod_server)
					p.client_ip = TB_CLIENT_IP_PRESERVED;
				add_probe(c, t, NULL, p, 0);
			}
			add_probe(c, t, NULL, new_probe(SIZE_MAX, &pods[i], &pods[j], TB_PROTO_PING, 0), 0);
		}
}

bool check_compile(const struct plan *t, struct check_run *run, struct diag *d)
{
	*run = (struct check_run){.lab = t->lab, .plan = t, .default_model = !t->has_expect};
	struct compiler c = {.run = run};
	bool ok = true;
	if (!t->has_expect)
		compile_default_model(&c, t);
	for (size_t i = 0; i < t->n_expects; i++) {
		const struct plan_expect *x = &t->expects[i];
		autofree struct end *froms = NULL, *tos = NULL;
		size_t n_from = expand_target(t, x->from, &froms), n_to = expand_target(t, x->to, &tos);
		bool from_all = strcmp(x->from, "*") == 0, to_all = strcmp(x->to, "*") == 0;
		int specificity = !from_all + !to_all;
		for (size_t a = 0; a < n_from; a++)
			for (size_t b = 0; b < n_to; b++) {
				if ((from_all || to_all) && froms[a].machine == tos[b].machine)
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

bool check_validate(const struct plan *p, struct diag *d)
{
	if (!p->has_expect)
		return true; /* the default model cannot contradict itself */
	struct check_run run;
	bool ok = check_compile(p, &run, d);
	check_run_free(&run);
	return ok;
}
