/* Compiling expectations into probes. */
#define _GNU_SOURCE
#include "check/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/selector.h"
#include "util/diag.h"
#include "util/ipv4.h"

size_t check_count_ok(const struct check_run *run)
{
	size_t ok = 0;
	for (size_t i = 0; i < run->n_probes; i++)
		ok += check_probe_ok(&run->probes[i]);
	return ok;
}

static void detail_clear(struct check_detail *d, bool path_note_too)
{
	free(d->error);
	free(d->answered_by);
	free(d->client);
	d->error = d->answered_by = d->client = NULL;
	if (path_note_too) {
		free(d->path_note);
		d->path_note = NULL;
	}
}

void check_run_free(struct check_run *run)
{
	for (size_t i = 0; i < run->n_details; i++)
		detail_clear(&run->details[i], true);
	free(run->details);
	free(run->probes);
	free(run->targets);
	free(run->answerers);
	run->details = NULL;
	run->probes = NULL;
	run->targets = NULL;
	run->answerers = NULL;
	run->n_probes = run->cap_probes = run->n_details = run->cap_details = 0;
	run->n_targets = run->cap_targets = run->n_answerers = run->cap_answerers = 0;
}

void check_view(const struct check_run *run, size_t i, struct check_view *v)
{
	const struct check_probe *p = &run->probes[i];
	const struct check_target *target = check_target_of(run, p);
	const struct plan_machine *from = &run->machines[p->from], *to = &run->machines[target->machine];
	const struct check_detail *d = p->detail ? &run->details[p->detail - 1] : NULL;
	*v = (struct check_view){
		.p = p,
		.target = target,
		.from_name = from->name,
		.to_name = to->name,
		.from_address = from->address,
		.to_address = target->address,
		.error = d && d->error ? d->error : "",
		.answered_by = d && d->answered_by ? d->answered_by : "",
		.client = d && d->client ? d->client : "",
		.path_note = d ? d->path_note : NULL,
		.latency_ms = p->latency_us / 1000.0,
	};
	/* An http or udp probe that passed was answered by its target: only
	 * other answerers are stored. */
	if (!*v->answered_by && (target->proto == TB_PROTO_HTTP || target->proto == TB_PROTO_UDP) &&
	    p->outcome == PROBE_PASS)
		v->answered_by = to->name;
	if (p->has_client) {
		char addr[16];
		snprintf(v->client_text, sizeof(v->client_text), "%s:%u", ipv4_addr_format(p->client_addr, addr),
			 p->client_port);
		v->client = v->client_text;
	}
}

static struct check_detail *detail_of(struct check_run *run, size_t i)
{
	struct check_probe *p = &run->probes[i];
	if (!p->detail) {
		grow_array((void **)&run->details, &run->cap_details, run->n_details + 1, sizeof(*run->details));
		run->details[run->n_details] = (struct check_detail){0};
		p->detail = (uint32_t)++run->n_details;
	}
	return &run->details[p->detail - 1];
}

void check_probe_clear_results(struct check_run *run, size_t i)
{
	struct check_probe *p = &run->probes[i];
	p->has_client = 0;
	p->client_addr = 0;
	p->client_port = 0;
	if (p->detail)
		detail_clear(&run->details[p->detail - 1], false);
}

/* Keeps at most MAX - 1 bytes of TEXT, never half a character. */
static void set_text(char **slot, const char *text, size_t max)
{
	free(*slot);
	*slot = xasprintf("%.*s", (int)utf8_cut(text, strlen(text), max - 1), text);
}

void check_probe_set_error(struct check_run *run, size_t i, const char *text)
{
	set_text(&detail_of(run, i)->error, text, CHECK_ERROR_MAX);
}

bool check_target_answered_by(const struct check_run *run, const struct check_target *t, const char *name)
{
	for (uint32_t k = 0; k < t->n_answerers; k++)
		if (strcmp(name, plan_machine_object_name(&run->machines[run->answerers[t->answerers + k]])) == 0)
			return true;
	return false;
}

void check_probe_set_answer(struct check_run *run, size_t i, const char *text)
{
	const struct check_probe *p = &run->probes[i];
	if (strcmp(text, plan_machine_object_name(&run->machines[check_target_of(run, p)->machine])) == 0) {
		if (p->detail) {
			free(run->details[p->detail - 1].answered_by);
			run->details[p->detail - 1].answered_by = NULL;
		}
		return;
	}
	set_text(&detail_of(run, i)->answered_by, text, CHECK_NAME_MAX);
}

void check_probe_set_client(struct check_run *run, size_t i, const char *text)
{
	struct check_probe *p = &run->probes[i];
	/* The usual answer, ADDRESS:PORT, is two numbers; anything else is kept as text. */
	char host[16];
	size_t host_len = strcspn(text, ":");
	uint32_t addr;
	char *end;
	if (host_len < sizeof(host) && text[host_len] == ':' && text[host_len + 1] >= '0' && text[host_len + 1] <= '9') {
		memcpy(host, text, host_len);
		host[host_len] = '\0';
		unsigned long port = strtoul(text + host_len + 1, &end, 10);
		char again[16];
		if (*end == '\0' && port <= 65535 && ipv4_addr_parse(host, &addr) &&
		    strcmp(ipv4_addr_format(addr, again), host) == 0 &&
		    (text[host_len + 1] != '0' || text[host_len + 2] == '\0')) {
			p->client_addr = addr;
			p->client_port = (uint16_t)port;
			p->has_client = 1;
			if (p->detail) {
				free(run->details[p->detail - 1].client);
				run->details[p->detail - 1].client = NULL;
			}
			return;
		}
	}
	p->has_client = 0;
	set_text(&detail_of(run, i)->client, text, 32);
}

void check_probe_set_path_note(struct check_run *run, size_t i, char *note)
{
	struct check_detail *d = detail_of(run, i);
	free(d->path_note);
	d->path_note = note;
}

/* One end of a probe: a plan machine. */
struct end {
	size_t machine;
	const char *name;
	uint32_t address;
	int http_port;   /* 0: no server */
	int udp_port;    /* the first UDP port; 0: none */
	bool pod_server; /* answers /hostname over HTTP, "hostname" over UDP */
};

/* The port udp probes take by default: the first UDP port, as http takes
 * the one named http (or the first TCP port); 0 when there is none. */
static int first_udp_port(const struct plan_machine *m)
{
	for (size_t i = 0; i < m->n_ports; i++)
		if (m->ports[i].protocol == TB_PROTOCOL_UDP)
			return m->ports[i].port;
	return 0;
}

static struct end end_of(const struct plan *p, size_t m)
{
	const struct plan_machine *pm = &p->machines[m];
	return (struct end){m, pm->name, pm->address, plan_machine_http_port(pm), first_udp_port(pm), pm->pod_server};
}

/* Every pod, in *ENDS (malloc'd). */
static size_t all_pods(const struct plan *p, struct end **ends)
{
	size_t n = 0;
	*ends = xcalloc(p->n_machines ? p->n_machines : 1, sizeof(**ends));
	for (size_t i = 0; i < p->n_machines; i++)
		if (p->machines[i].kind == MACHINE_POD)
			(*ends)[n++] = end_of(p, i);
	return n;
}

/* How much an end says, for the more specific expectation to win: a
 * machine named beats a selector, which beats "*". */
enum { END_ALL = 0, END_SELECTED = 1, END_NAMED = 2 };

/* The ends of expectation I's KEY ("from" or "to"), TARGET as written on
 * LINE: "*" every pod, a selector the pods it matches, else the machine
 * its name means (model/names.h). Sets *N and *SAYS (END_*); false after
 * reporting through D why it stands for nothing. */
static bool expand_target(const struct plan *p, struct diag *d, size_t i, const char *key, const char *target,
			  int line, struct end **ends, size_t *n, int *says)
{
	autofree char *path = xasprintf("expect[%zu].%s", i, key);
	*ends = NULL;
	*n = 0;
	if (strcmp(target, "*") == 0) {
		*says = END_ALL;
		*n = all_pods(p, ends);
		if (*n == 0)
			diag_error(d, line, path, "\"*\" means every pod, and the lab has none");
		return *n > 0;
	}
	if (pod_selector_is_written(target)) {
		*says = END_SELECTED;
		struct pod_selector selector;
		autofree char *why = NULL;
		if (!pod_selector_parse(target, &selector, &why)) {
			diag_error(d, line, path, "\"%s\": %s", target, why);
			return false;
		}
		*ends = xcalloc(p->n_machines ? p->n_machines : 1, sizeof(**ends));
		for (size_t m = 0; m < p->n_machines; m++) {
			const struct plan_machine *pm = &p->machines[m];
			if (pm->kind == MACHINE_POD &&
			    pod_selector_matches(&selector, pm->namespace, pm->labels, pm->n_labels))
				(*ends)[(*n)++] = end_of(p, m);
		}
		bool namespace_empty = selector.namespace != NULL;
		for (size_t m = 0; namespace_empty && m < p->n_machines; m++)
			namespace_empty = !p->machines[m].namespace ||
					  strcmp(p->machines[m].namespace, selector.namespace) != 0;
		pod_selector_free(&selector);
		if (*n == 0)
			diag_error(d, line, path, "\"%s\" matches no pod%s", target,
				   namespace_empty ? ": no pod is in its namespace" : "");
		return *n > 0;
	}
	*says = END_NAMED;
	size_t m;
	autofree char *why = NULL;
	enum name_found found = plan_resolve(p, target, &m, &why);
	if (found == NAME_AMBIGUOUS) {
		diag_error(d, line, path, "%s", why);
		return false;
	}
	/* The lab namespace is no end: it has no address of its own. */
	if (found == NAME_UNKNOWN || p->machines[m].kind == MACHINE_LAB) {
		if (strcmp(target, TB_TARGET_GATEWAY) == 0)
			diag_error(d, line, path, "the lab has no nodes, so no gateway");
		else
			diag_error(d, line, path, "no pod, node or host is named \"%s\"", target);
		return false;
	}
	*ends = xcalloc(1, sizeof(**ends));
	(*ends)[(*n)++] = end_of(p, m);
	return true;
}

/* The run's targets, found again by machine: each machine's few targets
 * (a protocol and port each) in a chain. */
struct target_index {
	uint32_t *head; /* per plan machine: 1 + its latest target; 0: none */
	uint32_t *next; /* per target: 1 + the machine's one before; 0: none */
	size_t cap_next;
};

/* Probes by (from, target), so that overlapping expectations
 * meet in constant time even when "*" expands to a full mesh. The default
 * model alone never overlaps itself and needs no table. */
struct compiler {
	struct check_run *run;
	uint8_t *specificity; /* per probe */
	size_t cap_specificity;
	uint32_t *table;   /* open addressing: probe index + 1; 0 is empty */
	size_t table_size; /* a power of two, at least twice the probes */
	struct target_index targets;
};

static size_t probe_hash(const struct check_probe *p)
{
	uint64_t h = (uint64_t)p->from * 0x9E3779B97F4A7C15ULL;
	h ^= (uint64_t)p->to * 0xC2B2AE3D27D4EB4FULL;
	return (size_t)(h ^ (h >> 29));
}

static bool same_probe(const struct check_probe *a, const struct check_probe *b)
{
	return a->from == b->from && a->to == b->to; /* a target is an address, port and protocol */
}

static uint32_t *table_slot(const struct compiler *c, const struct check_probe *p)
{
	size_t mask = c->table_size - 1;
	for (size_t k = probe_hash(p) & mask;; k = (k + 1) & mask)
		if (!c->table[k] || same_probe(&c->run->probes[c->table[k] - 1], p))
			return &c->table[k];
}

static void table_grow(struct compiler *c)
{
	size_t old_size = c->table_size;
	uint32_t *old = c->table;
	c->table_size = old_size ? old_size * 2 : 64;
	c->table = xcalloc(c->table_size, sizeof(*c->table));
	for (size_t k = 0; k < old_size; k++)
		if (old[k])
			*table_slot(c, &c->run->probes[old[k] - 1]) = old[k];
	free(old);
}

char *check_probe_label(const struct check_run *run, const struct check_probe *p)
{
	const char *client = p->client_ip == TB_CLIENT_IP_PRESERVED   ? " (client IP preserved)"
			     : p->client_ip == TB_CLIENT_IP_REWRITTEN ? " (client IP rewritten)"
								      : "";
	const struct check_target *t = check_target_of(run, p);
	const char *from = run->machines[p->from].name, *to = run->machines[t->machine].name;
	if (t->proto == TB_PROTO_PING)
		return xasprintf("%s -> %s ping%s", from, to, client);
	return xasprintf("%s -> %s %s:%u%s", from, to, tb_proto_name((enum tb_proto)t->proto), t->port, client);
}

static void append_probe(struct check_run *run, const struct check_probe *p)
{
	grow_array((void **)&run->probes, &run->cap_probes, run->n_probes + 1, sizeof(*run->probes));
	run->probes[run->n_probes++] = *p;
}

/* Adds P, or lets it override (or be overridden by) an earlier probe for
 * the same ends, protocol and port. */
static bool add_probe(struct compiler *c, const struct plan *plan, struct diag *d, struct check_probe p,
		      int specificity)
{
	struct check_run *run = c->run;
	if (run->n_probes >= UINT32_MAX - 1) {
		diag_error_at(d, plan->expects[p.expect].line, 0, "expect[%u]: more than %u probes", p.expect,
			      UINT32_MAX - 1);
		return false;
	}
	if (2 * (run->n_probes + 1) > c->table_size)
		table_grow(c);
	uint32_t *slot = table_slot(c, &p);
	struct check_probe *old = *slot ? &run->probes[*slot - 1] : NULL;
	if (old) {
		int old_specificity = c->specificity[old - run->probes];
		if (old_specificity > specificity)
			return true;
		if (old_specificity < specificity) {
			old->expect = p.expect;
			old->expect_pass = p.expect_pass;
			old->client_ip = p.client_ip;
			c->specificity[old - run->probes] = (uint8_t)specificity;
			return true;
		}
		if (old->expect_pass == p.expect_pass && old->client_ip == p.client_ip)
			return true;
		autofree char *label = check_probe_label(run, &p);
		diag_error_at(d, plan->expects[p.expect].line, 0, "expect[%u]: contradicts expect[%u] for %s", p.expect,
			      old->expect, label);
		return false;
	}
	grow_array((void **)&c->specificity, &c->cap_specificity, run->n_probes + 1, sizeof(*c->specificity));
	c->specificity[run->n_probes] = (uint8_t)specificity;
	append_probe(run, &p);
	*slot = (uint32_t)run->n_probes;
	return true;
}

/* The target that is machine TO on PROTO and PORT, added on first use. */
/* A node's port may be a pod's: a hostPort mapped there, or a pod on the
 * node's own network listening on it. Those pods answer for the node;
 * appended to the run's answerers from FIRST, how many. */
static uint32_t served_on_node(struct check_run *run, size_t node, enum tb_proto proto, uint16_t port, uint32_t first)
{
	const struct plan_machine *m = &run->machines[node];
	if (m->kind != MACHINE_NODE || proto == TB_PROTO_PING)
		return 0;
	enum tb_protocol l4 = proto == TB_PROTO_UDP ? TB_PROTOCOL_UDP : TB_PROTOCOL_TCP;
	uint32_t n = 0;
	for (size_t i = 0; i < run->n_machines; i++) {
		const struct plan_machine *pod = &run->machines[i];
		if (pod->kind != MACHINE_POD || pod->parent != node)
			continue;
		bool serves = false;
		for (size_t k = 0; !serves && k < pod->n_host_ports; k++)
			serves = pod->host_ports[k].host_port == port && pod->host_ports[k].protocol == l4 &&
				 (!pod->host_ports[k].host_ip || pod->host_ports[k].host_ip == m->address);
		for (size_t k = 0; !serves && pod->host_network && k < pod->n_ports; k++)
			serves = pod->ports[k].port == port && pod->ports[k].protocol == l4;
		if (serves) {
			grow_array((void **)&run->answerers, &run->cap_answerers, first + n + 1, sizeof(*run->answerers));
			run->answerers[first + n++] = (uint32_t)i;
			run->n_answerers = first + n;
		}
	}
	return n;
}

static uint32_t target_of(struct check_run *run, struct target_index *ti, const struct end *to, enum tb_proto proto,
			  uint16_t port)
{
	for (uint32_t k = ti->head[to->machine]; k; k = ti->next[k - 1]) {
		const struct check_target *t = &run->targets[k - 1];
		if (t->proto == proto && t->port == port)
			return k - 1;
	}
	uint32_t first = (uint32_t)run->n_answerers, n = served_on_node(run, to->machine, proto, port, first);
	if (!n) {
		grow_array((void **)&run->answerers, &run->cap_answerers, run->n_answerers + 1, sizeof(*run->answerers));
		run->answerers[run->n_answerers++] = (uint32_t)to->machine;
		n = 1;
	}
	grow_array((void **)&run->targets, &run->cap_targets, run->n_targets + 1, sizeof(*run->targets));
	run->targets[run->n_targets] = (struct check_target){
		.machine = (uint32_t)to->machine,
		.address = to->address,
		.port = port,
		.proto = (uint8_t)proto,
		.answerers = first,
		.n_answerers = n,
	};
	grow_array((void **)&ti->next, &ti->cap_next, run->n_targets + 1, sizeof(*ti->next));
	ti->next[run->n_targets] = ti->head[to->machine];
	ti->head[to->machine] = (uint32_t)++run->n_targets;
	return (uint32_t)run->n_targets - 1;
}

/* A probe from FROM to TO on PROTO and PORT (0: TO's HTTP port, else the
 * default one). */
static struct check_probe new_probe(struct check_run *run, struct target_index *ti, uint32_t expect,
				    const struct end *from, const struct end *to, enum tb_proto proto, int port)
{
	if (proto != TB_PROTO_PING && port == 0)
		port = to->http_port ? to->http_port : TB_DEFAULT_HTTP_PORT;
	return (struct check_probe){
		.expect = expect,
		.from = (uint32_t)from->machine,
		.to = target_of(run, ti, to, proto, proto == TB_PROTO_PING ? 0 : (uint16_t)port),
		.expect_pass = 1,
	};
}

/* The protocol a probe of PROTO speaks. */
static enum tb_protocol transport(enum tb_proto proto)
{
	return proto == TB_PROTO_UDP ? TB_PROTOCOL_UDP : TB_PROTOCOL_TCP;
}

/* The port expectation I probes on TO: its number, the number of TO's
 * port of its name, or 0 for the default (new_probe). -1 after reporting
 * through D that TO has no such port, or that it is of another protocol. */
static int expect_port(const struct plan *t, struct diag *d, size_t i, const struct end *to)
{
	const struct plan_expect *x = &t->expects[i];
	if (!x->port_name && !x->port && x->proto == TB_PROTO_UDP && !to->udp_port) {
		autofree char *path = xasprintf("expect[%zu]", i);
		diag_error(d, x->line, path, "%s has no UDP port to probe: give \"port\"", to->name);
		return -1;
	}
	if (!x->port_name)
		return x->port ? x->port : x->proto == TB_PROTO_UDP ? to->udp_port : 0;
	const struct plan_machine *m = &t->machines[to->machine];
	autofree char *path = xasprintf("expect[%zu].port", i);
	int line = x->port_line ? x->port_line : x->line;
	for (size_t k = 0; k < m->n_ports; k++) {
		const struct tb_port *port = &m->ports[k];
		if (strcmp(port->name, x->port_name) != 0)
			continue;
		if (port->protocol != transport(x->proto)) {
			diag_error(d, line, path, "port \"%s\" of %s is %d/%s; %s probes need a %s port", x->port_name,
				   m->name, port->port, tb_protocol_name(port->protocol), tb_proto_name(x->proto),
				   tb_protocol_name(transport(x->proto)));
			return -1;
		}
		return port->port;
	}
	diag_error(d, line, path, "%s has no port named \"%s\"", m->name, x->port_name);
	return -1;
}

/* Where a walk of the mesh's schedule is. */
struct check_mesh {
	size_t n;
	bool skip_self;
	size_t group, target, source; /* where the walk is */
};

static void check_mesh_begin(struct check_mesh *m, size_t n, bool skip_self)
{
	*m = (struct check_mesh){.n = n, .skip_self = skip_self};
}

/* The next pair (index of the source, index of the target) among the N
 * ends; false once every pair has come. */
static bool check_mesh_next(struct check_mesh *m, size_t *from, size_t *to)
{
	while (m->group < m->n) {
		size_t end = m->group + CHECK_MESH_GROUP < m->n ? m->group + CHECK_MESH_GROUP : m->n;
		if (m->target == m->n) {
			m->group = end;
			m->target = 0;
			m->source = 0;
			continue;
		}
		if (m->group + m->source == end) {
			m->target++;
			m->source = 0;
			continue;
		}
		size_t a = m->group + m->source++;
		size_t b = (m->group + m->target) % m->n;
		if (m->skip_self && a == b)
			continue;
		*from = a;
		*to = b;
		return true;
	}
	return false;
}

/* Kubernetes' networking model: every pod reaches every other pod, and
 * sees its real address. Pods running their own command get tcp instead
 * of http, as nobody knows what they answer; pod servers with a UDP port
 * get a udp probe on the first one as well. */
static void compile_default_model(struct check_run *run, struct target_index *ti, const struct plan *t)
{
	autofree struct end *pods = NULL;
	size_t n = all_pods(t, &pods);
	struct check_mesh mesh;
	check_mesh_begin(&mesh, n, true);
	for (size_t i, k; check_mesh_next(&mesh, &i, &k);) {
		const struct end *to = &pods[k];
		if (to->http_port) {
			struct check_probe p = new_probe(run, ti, CHECK_DEFAULT_MODEL, &pods[i], to,
							 to->pod_server ? TB_PROTO_HTTP : TB_PROTO_TCP, 0);
			if (to->pod_server)
				p.client_ip = TB_CLIENT_IP_PRESERVED;
			append_probe(run, &p);
		}
		/* The pod server answers "hostname" on its UDP ports too; what
		 * a command of its own answers nobody knows. */
		if (to->pod_server && to->udp_port) {
			struct check_probe udp =
				new_probe(run, ti, CHECK_DEFAULT_MODEL, &pods[i], to, TB_PROTO_UDP, to->udp_port);
			append_probe(run, &udp);
		}
		struct check_probe ping = new_probe(run, ti, CHECK_DEFAULT_MODEL, &pods[i], to, TB_PROTO_PING, 0);
		append_probe(run, &ping);
	}
}

/* The probe of expectation I from FROM to TO; false, with D told why,
 * when it cannot be added. */
static bool add_expected(struct compiler *c, const struct plan *t, struct diag *d, size_t i, const struct end *from,
			 const struct end *to, int specificity)
{
	const struct plan_expect *x = &t->expects[i];
	int port = expect_port(t, d, i, to);
	if (port < 0)
		return false;
	struct check_probe p = new_probe(c->run, &c->targets, (uint32_t)i, from, to, x->proto, port);
	p.expect_pass = x->expect_pass;
	p.client_ip = x->client_ip;
	return add_probe(c, t, d, p, specificity);
}

/* Expectation I's probes; false after reporting through D why it cannot
 * be probed (one message an expectation is enough). */
static bool compile_expectation(struct compiler *c, const struct plan *t, struct diag *d, size_t i)
{
	const struct plan_expect *x = &t->expects[i];
	autofree struct end *froms = NULL, *tos = NULL;
	size_t n_from, n_to;
	int from_says, to_says;
	if (!expand_target(t, d, i, "from", x->from, x->from_line ? x->from_line : x->line, &froms, &n_from,
			   &from_says) ||
	    !expand_target(t, d, i, "to", x->to, x->to_line ? x->to_line : x->line, &tos, &n_to, &to_says))
		return false;
	int specificity = from_says + to_says;
	bool added = true;
	if (from_says == END_ALL && to_says == END_ALL) {
		/* The same ends, in the default model's order. */
		struct check_mesh mesh;
		check_mesh_begin(&mesh, n_from, true);
		for (size_t a, b; added && check_mesh_next(&mesh, &a, &b);)
			added = add_expected(c, t, d, i, &froms[a], &tos[b], specificity);
		return added;
	}
	/* Where either end is a set of pods, a pod is not its own peer. */
	bool sets = from_says != END_NAMED || to_says != END_NAMED;
	for (size_t a = 0; added && a < n_from; a++)
		for (size_t b = 0; added && b < n_to; b++)
			if (!(sets && froms[a].machine == tos[b].machine))
				added = add_expected(c, t, d, i, &froms[a], &tos[b], specificity);
	return added;
}

bool check_compile(const struct plan *t, struct check_run *run, struct diag *d)
{
	*run = (struct check_run){.lab = t->lab,
				  .plan = t,
				  .machines = t->machines,
				  .n_machines = t->n_machines,
				  .default_model = !t->has_expect};
	struct compiler c = {.run = run};
	c.targets.head = xcalloc(t->n_machines ? t->n_machines : 1, sizeof(*c.targets.head));
	bool ok = true;
	if (!t->has_expect)
		compile_default_model(run, &c.targets, t);
	for (size_t i = 0; i < t->n_expects; i++)
		ok &= compile_expectation(&c, t, d, i);
	free(c.specificity);
	free(c.table);
	free(c.targets.head);
	free(c.targets.next);
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
