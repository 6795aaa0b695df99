/* Compiling expectations into probes. */
#define _GNU_SOURCE
#include "check/check.h"
#include "check/policy_eval.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/cluster_dns.h"
#include "model/selector.h"
#include "plan/ingress_nginx.h"
#include "util/diag.h"
#include "util/ipv4.h"

size_t check_count_ok(const struct check_run *run)
{
	size_t ok = 0;
	for (size_t i = 0; i < run->n_probes; i++)
		ok += check_probe_ok(&run->probes[i]);
	return ok;
}

static void counts_free(struct check_detail *d)
{
	for (size_t k = 0; k < d->n_counts; k++)
		free(d->counts[k].name);
	free(d->counts);
	d->counts = NULL;
	d->n_counts = 0;
	d->requests = 0;
}

static void detail_clear(struct check_detail *d, bool path_note_too)
{
	free(d->error);
	free(d->answered_by);
	free(d->client);
	d->error = d->answered_by = d->client = NULL;
	counts_free(d);
	free(d->dns_name);
	strv_free(d->dns_answer);
	d->dns_name = NULL;
	d->dns_answer = NULL;
	d->n_dns_answer = 0;
	if (path_note_too) {
		free(d->path_note);
		d->path_note = NULL;
	}
}

void check_run_free(struct check_run *run)
{
	for (size_t i = 0; i < run->n_details; i++)
		detail_clear(&run->details[i], true);
	for (size_t i = 0; i < run->n_end_names; i++)
		free(run->end_names[i]);
	for (size_t i = 0; i < run->n_rules; i++) {
		free(run->rules[i].client_text);
		strv_free(run->rules[i].records);
	}
	for (size_t m = 0; run->resolvers && m < run->n_machines; m++)
		if (run->resolvers[m]) {
			dns_resolver_free(run->resolvers[m]);
			free(run->resolvers[m]);
		}
	free(run->resolvers);
	run->resolvers = NULL;
	for (size_t i = 0; i < run->n_http_requests; i++) {
		free(run->http_requests[i].host);
		free(run->http_requests[i].path);
	}
	free(run->http_requests);
	run->http_requests = NULL;
	run->n_http_requests = run->cap_http_requests = 0;
	free(run->end_names);
	free(run->details);
	free(run->probes);
	free(run->targets);
	free(run->answerers);
	free(run->rules);
	free(run->addresses);
	free(run->machine_addresses);
	run->end_names = NULL;
	run->details = NULL;
	run->probes = NULL;
	run->targets = NULL;
	run->answerers = NULL;
	run->rules = NULL;
	run->addresses = NULL;
	run->machine_addresses = NULL;
	run->n_probes = run->cap_probes = run->n_details = run->cap_details = 0;
	run->n_targets = run->cap_targets = run->n_answerers = run->cap_answerers = 0;
	run->n_end_names = run->cap_end_names = run->n_rules = run->n_addresses = run->cap_addresses = 0;
}

const char *check_end_name(const struct check_run *run, uint32_t end)
{
	if (end < run->n_machines)
		return run->machines[end].name;
	if (end - run->n_machines < run->n_end_names)
		return run->end_names[end - run->n_machines];
	return "?";
}

/* The target's machine, or NULL for a target that names none. */
static const struct plan_machine *target_machine(const struct check_run *run, const struct check_target *t)
{
	return t->end < run->n_machines ? &run->machines[t->end] : NULL;
}

/* The machines whose answer passes probe P: its expectation's answeredBy,
 * else its target's. */
static void allowed_answerers(const struct check_run *run, const struct check_probe *p, uint32_t *first, uint32_t *n)
{
	const struct check_rule *rule = check_rule_of(run, p);
	if (rule && rule->has_answerers) {
		*first = rule->answerers;
		*n = rule->n_answerers;
	} else {
		*first = check_target_of(run, p)->answerers;
		*n = check_target_of(run, p)->n_answerers;
	}
}

/* "clientIP" as reports show it, into BUF: preserved, rewritten, what it
 * names, or the source's node; NULL when not checked. */
static const char *client_ip_text(const struct check_run *run, const struct check_probe *p, char *buf, size_t size)
{
	const struct check_rule *rule = check_rule_of(run, p);
	switch ((enum tb_client_ip)p->client_ip) {
	case TB_CLIENT_IP_ANY:
		return NULL;
	case TB_CLIENT_IP_PRESERVED:
		return "preserved";
	case TB_CLIENT_IP_REWRITTEN:
		return "rewritten";
	case TB_CLIENT_IP_NAMED:
		return rule && rule->client_text ? rule->client_text : "?";
	case TB_CLIENT_IP_SOURCE_NODE: {
		const struct plan_machine *from = &run->machines[p->from];
		snprintf(buf, size, "%s",
			 from->parent != PLAN_NONE && from->parent < run->n_machines ? run->machines[from->parent].name
										  : from->name);
		return buf;
	}
	}
	return NULL;
}

void check_view(const struct check_run *run, size_t i, struct check_view *v)
{
	const struct check_probe *p = &run->probes[i];
	const struct check_target *target = check_target_of(run, p);
	const struct plan_machine *from = &run->machines[p->from];
	const struct check_detail *d = p->detail ? &run->details[p->detail - 1] : NULL;
	const struct check_rule *rule = check_rule_of(run, p);
	*v = (struct check_view){
		.p = p,
		.target = target,
		.rule = rule,
		.from_name = from->name,
		.to_name = check_end_name(run, target->end),
		.from_address = from->address,
		.to_address = target->address,
		.error = d && d->error ? d->error : "",
		.answered_by = d && d->answered_by ? d->answered_by : "",
		.client = d && d->client ? d->client : "",
		.path_note = d ? d->path_note : NULL,
		.dns_name = d ? d->dns_name : NULL,
		.dns_answer = d ? d->dns_answer : NULL,
		.n_dns_answer = d ? d->n_dns_answer : 0,
		.counts = d ? d->counts : NULL,
		.n_counts = d ? d->n_counts : 0,
		.requests = rule ? rule->requests : 1,
		.requests_made = d && d->requests ? d->requests : p->outcome != PROBE_NOT_RUN,
		.latency_ms = p->latency_us / 1000.0,
	};
	v->client_ip = client_ip_text(run, p, v->client_ip_text, sizeof(v->client_ip_text));
	/* An http or udp probe to a machine that passed was answered by it:
	 * only other answerers are stored. */
	if (!*v->answered_by && (target->proto == TB_PROTO_HTTP || target->proto == TB_PROTO_UDP) &&
	    p->outcome == PROBE_PASS && target_machine(run, target))
		v->answered_by = v->to_name;
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
	p->failed = CHECK_FAILED_NOT;
	if (p->detail)
		detail_clear(&run->details[p->detail - 1], false);
}

void check_probe_next_request(struct check_run *run, size_t i)
{
	struct check_probe *p = &run->probes[i];
	p->has_client = 0;
	p->client_addr = 0;
	p->client_port = 0;
	p->failed = CHECK_FAILED_NOT;
	if (!p->detail)
		return;
	struct check_detail *d = &run->details[p->detail - 1];
	free(d->error);
	free(d->answered_by);
	free(d->client);
	d->error = d->answered_by = d->client = NULL;
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

static bool answerers_hold(const struct check_run *run, uint32_t first, uint32_t n, const char *name)
{
	for (uint32_t k = 0; k < n; k++)
		if (strcmp(name, plan_machine_object_name(&run->machines[run->answerers[first + k]])) == 0)
			return true;
	return false;
}

bool check_target_answered_by(const struct check_run *run, const struct check_target *t, const char *name)
{
	return answerers_hold(run, t->answerers, t->n_answerers, name);
}

size_t check_service_endpoints(const struct plan *p, const struct plan_service *s, size_t pi, size_t src,
			       bool *usable)
{
	size_t node = p->machines[src].kind == MACHINE_POD ? p->machines[src].parent : src;
	bool any_ready = false;
	for (size_t e = 0; e < s->n_endpoints; e++) {
		const struct plan_endpoint *ep = &s->endpoints[e];
		usable[e] = ep->ports[pi] && (!s->internal_local || ep->node == node);
		any_ready |= usable[e] && ep->ready;
	}
	size_t n = 0;
	for (size_t e = 0; e < s->n_endpoints; e++) {
		const struct plan_endpoint *ep = &s->endpoints[e];
		usable[e] = usable[e] && (any_ready ? ep->ready : ep->serving && ep->terminating);
		n += usable[e];
	}
	return n;
}

bool check_probe_answered_by(const struct check_run *run, size_t i, const char *name)
{
	uint32_t first, n;
	allowed_answerers(run, &run->probes[i], &first, &n);
	return answerers_hold(run, first, n, name);
}

void check_probe_set_answer(struct check_run *run, size_t i, const char *text)
{
	const struct check_probe *p = &run->probes[i];
	const struct plan_machine *to = target_machine(run, check_target_of(run, p));
	if (to && strcmp(text, plan_machine_object_name(to)) == 0) {
		if (p->detail) {
			free(run->details[p->detail - 1].answered_by);
			run->details[p->detail - 1].answered_by = NULL;
		}
		return;
	}
	set_text(&detail_of(run, i)->answered_by, text, CHECK_NAME_MAX);
}

void check_probe_count_answer(struct check_run *run, size_t i, const char *name)
{
	struct check_detail *d = detail_of(run, i);
	char cut[CHECK_NAME_MAX];
	snprintf(cut, sizeof(cut), "%.*s", (int)utf8_cut(name, strlen(name), sizeof(cut) - 1), name);
	for (size_t k = 0; k < d->n_counts; k++)
		if (strcmp(d->counts[k].name, cut) == 0) {
			d->counts[k].n++;
			return;
		}
	/* Answers are untrusted: a server naming itself anew each time adds
	 * to the others' count past a bound, not to memory. */
	const char *name_kept = d->n_counts + 1 < CHECK_COUNTS_MAX ? cut : CHECK_OTHERS;
	for (size_t k = 0; k < d->n_counts && name_kept != cut; k++)
		if (strcmp(d->counts[k].name, name_kept) == 0) {
			d->counts[k].n++;
			return;
		}
	d->counts = xrealloc(d->counts, (d->n_counts + 1) * sizeof(*d->counts));
	d->counts[d->n_counts++] = (struct check_count){xstrdup(name_kept), 1};
}

void check_probe_request_made(struct check_run *run, size_t i)
{
	detail_of(run, i)->requests++;
}

char *check_probe_missing_answerer(const struct check_run *run, size_t i)
{
	const struct check_probe *p = &run->probes[i];
	const struct check_rule *rule = check_rule_of(run, p);
	if (!rule || !rule->every_answerer)
		return NULL;
	const struct check_detail *d = p->detail ? &run->details[p->detail - 1] : NULL;
	for (uint32_t k = 0; k < rule->n_answerers; k++) {
		const char *name = plan_machine_object_name(&run->machines[run->answerers[rule->answerers + k]]);
		bool seen = false;
		for (size_t c = 0; d && c < d->n_counts && !seen; c++)
			seen = strcmp(d->counts[c].name, name) == 0;
		if (!seen)
			return xstrdup(run->machines[run->answerers[rule->answerers + k]].name);
	}
	return NULL;
}

/* The addresses probe P's clientIP allows (NAMED, SOURCE_NODE). */
static struct check_span client_span(const struct check_run *run, const struct check_probe *p)
{
	const struct check_rule *rule = check_rule_of(run, p);
	if (p->client_ip == TB_CLIENT_IP_NAMED && rule)
		return (struct check_span){rule->clients, rule->n_clients};
	if (p->client_ip == TB_CLIENT_IP_SOURCE_NODE && run->machine_addresses) {
		size_t node = run->machines[p->from].parent;
		if (node == PLAN_NONE || node >= run->n_machines)
			node = p->from;
		return run->machine_addresses[node];
	}
	return (struct check_span){0, 0};
}

bool check_probe_client_ok(const struct check_run *run, size_t i, uint32_t addr, uint32_t own)
{
	const struct check_probe *p = &run->probes[i];
	switch ((enum tb_client_ip)p->client_ip) {
	case TB_CLIENT_IP_ANY:
		return true;
	case TB_CLIENT_IP_PRESERVED:
		return addr == own;
	case TB_CLIENT_IP_REWRITTEN:
		return addr != own;
	case TB_CLIENT_IP_NAMED:
	case TB_CLIENT_IP_SOURCE_NODE:
		break;
	}
	struct check_span span = client_span(run, p);
	for (uint32_t k = 0; k < span.n; k++)
		if (run->addresses[span.first + k] == addr)
			return true;
	return false;
}

char *check_probe_client_wanted(const struct check_run *run, size_t i)
{
	const struct check_probe *p = &run->probes[i];
	struct check_span span = client_span(run, p);
	char buf[80];
	const char *what = client_ip_text(run, p, buf, sizeof(buf));
	char *list = xstrdup("");
	for (uint32_t k = 0; k < span.n; k++) {
		char a[16];
		char *more = xasprintf("%s%s%s", list, k ? ", " : "", ipv4_addr_format(run->addresses[span.first + k], a));
		free(list);
		list = more;
	}
	uint32_t only;
	char *out;
	/* An address names itself; a machine is shown with its addresses. */
	if (span.n == 1 && what && ipv4_addr_parse(what, &only))
		out = xasprintf("%s", what);
	else
		out = xasprintf("%s's address%s (%s)", what ? what : "?", span.n == 1 ? "" : "es", list);
	free(list);
	return out;
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

/* One end of a probe: a plan machine, or (as "to" only) a target that
 * names an address and port rather than a machine. */
struct end {
	size_t machine; /* the plan machine; for a named target, its end (check_end_name) */
	const char *name;
	uint32_t address;
	int http_port;   /* 0: no server */
	int udp_port;    /* the first UDP port; 0: none */
	bool pod_server; /* answers /hostname over HTTP, "hostname" over UDP */
	/* A named target (service:, nodeport:, ip:): its port (0 for ping)
	 * and the machines whose answer passes, into run->answerers. */
	bool named;
	uint16_t port;
	uint32_t answerers, n_answerers;
	uint32_t request; /* ingress: 1 + index into run->http_requests */
	bool resolve;          /* a DNS name: the probing machine resolves it first */
	enum tb_dns_type dns_type; /* proto dns: what it asks */
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
	return (struct end){.machine = m,
			    .name = pm->name,
			    .address = pm->address,
			    .http_port = plan_machine_http_port(pm),
			    .udp_port = first_udp_port(pm),
			    .pod_server = pm->pod_server};
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

/* The pods SELECTOR (as written: NAMESPACE/SELECTOR) matches, appended to
 * *ENDS (N of them, room for every machine); false after reporting through
 * D at PATH why it matches none, or is no selector. */
static bool select_pods(const struct plan *p, struct diag *d, const char *path, int line, const char *target,
			struct end *ends, size_t *n)
{
	struct pod_selector selector;
	autofree char *why = NULL;
	if (!pod_selector_parse(target, &selector, &why)) {
		diag_error(d, line, path, "\"%s\": %s", target, why);
		return false;
	}
	size_t before = *n;
	for (size_t m = 0; m < p->n_machines; m++) {
		const struct plan_machine *pm = &p->machines[m];
		if (pm->kind == MACHINE_POD && pod_selector_matches(&selector, pm->namespace, pm->labels, pm->n_labels))
			ends[(*n)++] = end_of(p, m);
	}
	bool namespace_empty = selector.namespace != NULL;
	for (size_t m = 0; namespace_empty && m < p->n_machines; m++)
		namespace_empty = !p->machines[m].namespace || strcmp(p->machines[m].namespace, selector.namespace) != 0;
	pod_selector_free(&selector);
	if (*n == before)
		diag_error(d, line, path, "\"%s\" matches no pod%s", target,
			   namespace_empty ? ": no pod is in its namespace" : "");
	return *n > before;
}

/* The machine NAME means, or false after reporting through D why none. */
static bool find_machine(const struct plan *p, struct diag *d, const char *path, int line, const char *name,
			 size_t *m)
{
	autofree char *why = NULL;
	enum name_found found = plan_resolve(p, name, m, &why);
	if (found == NAME_AMBIGUOUS) {
		diag_error(d, line, path, "%s", why);
		return false;
	}
	/* The lab namespace is no end: it has no address of its own. */
	if (found == NAME_UNKNOWN || p->machines[*m].kind == MACHINE_LAB) {
		if (strcmp(name, TB_TARGET_GATEWAY) == 0)
			diag_error(d, line, path, "the lab has no nodes, so no gateway");
		else
			diag_error(d, line, path, "no pod, node, host or external machine is named \"%s\"", name);
		return false;
	}
	return true;
}

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
		*ends = xcalloc(p->n_machines ? p->n_machines : 1, sizeof(**ends));
		return select_pods(p, d, path, line, target, *ends, n);
	}
	*says = END_NAMED;
	size_t m;
	if (!find_machine(p, d, path, line, target, &m))
		return false;
	*ends = xcalloc(1, sizeof(**ends));
	(*ends)[(*n)++] = end_of(p, m);
	return true;
}

/* The run's targets, found again by end: each end's few targets (a
 * protocol and port each) in a chain. */
struct target_index {
	uint32_t *head; /* per end: 1 + its latest target; 0: none */
	size_t cap_head;
	uint32_t *next; /* per target: 1 + the end's one before; 0: none */
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

/* The end a named target (as written) is, added on first use. */
static size_t end_named(struct check_run *run, struct target_index *ti, const char *name)
{
	for (size_t k = 0; k < run->n_end_names; k++)
		if (strcmp(run->end_names[k], name) == 0)
			return run->n_machines + k;
	grow_array((void **)&run->end_names, &run->cap_end_names, run->n_end_names + 1, sizeof(*run->end_names));
	run->end_names[run->n_end_names++] = xstrdup(name);
	size_t before = ti->cap_head;
	grow_array((void **)&ti->head, &ti->cap_head, run->n_machines + run->n_end_names, sizeof(*ti->head));
	memset(ti->head + before, 0, (ti->cap_head - before) * sizeof(*ti->head));
	return run->n_machines + run->n_end_names - 1;
}

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
	char buf[80];
	const char *client_ip = client_ip_text(run, p, buf, sizeof(buf));
	autofree char *client = client_ip ? xasprintf(" (client IP %s)", client_ip) : xstrdup("");
	const struct check_rule *rule = check_rule_of(run, p);
	autofree char *times = rule && rule->requests > 1 ? xasprintf(" x%u", rule->requests) : xstrdup("");
	const struct check_target *t = check_target_of(run, p);
	const char *from = run->machines[p->from].name, *to = check_end_name(run, t->end);
	if (t->proto == TB_PROTO_PING)
		return xasprintf("%s -> %s ping%s%s", from, to, times, client);
	if (t->proto == TB_PROTO_DNS)
		return xasprintf("%s -> %s dns %s%s", from, to, t->dns_type == TB_DNS_SRV ? "SRV" : "A", times);
	return xasprintf("%s -> %s %s:%u%s%s", from, to, tb_proto_name((enum tb_proto)t->proto), t->port, times,
			 client);
}

static void append_probe(struct check_run *run, const struct check_probe *p)
{
	grow_array((void **)&run->probes, &run->cap_probes, run->n_probes + 1, sizeof(*run->probes));
	run->probes[run->n_probes++] = *p;
}

static bool spans_equal(const struct check_run *run, uint32_t a, uint32_t na, uint32_t b, uint32_t nb,
			const uint32_t *items)
{
	(void)run;
	return na == nb && (na == 0 || memcmp(items + a, items + b, na * sizeof(*items)) == 0);
}

static bool records_equal(const struct check_rule *x, const struct check_rule *y)
{
	if (x->n_records != y->n_records)
		return false;
	for (size_t k = 0; k < x->n_records; k++)
		if (strcmp(x->records[k], y->records[k]) != 0)
			return false;
	return true;
}

/* Do expectations A and B ask the same beyond pass or fail? */
static bool rules_agree(const struct check_run *run, uint32_t a, uint32_t b)
{
	const struct check_rule *x = &run->rules[a], *y = &run->rules[b];
	return x->requests == y->requests && x->count == y->count && x->every_answerer == y->every_answerer &&
	       x->has_answerers == y->has_answerers &&
	       spans_equal(run, x->answerers, x->n_answerers, y->answerers, y->n_answerers, run->answerers) &&
	       spans_equal(run, x->clients, x->n_clients, y->clients, y->n_clients, run->addresses) &&
	       x->has_answers == y->has_answers &&
	       spans_equal(run, x->answers, x->n_answers, y->answers, y->n_answers, run->addresses) &&
	       records_equal(x, y);
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
			old->expect_failure = p.expect_failure;
			c->specificity[old - run->probes] = (uint8_t)specificity;
			return true;
		}
		if (old->expect_pass == p.expect_pass && old->client_ip == p.client_ip &&
		    old->expect_failure == p.expect_failure && rules_agree(run, old->expect, p.expect))
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

static void add_answerer(struct check_run *run, uint32_t machine)
{
	grow_array((void **)&run->answerers, &run->cap_answerers, run->n_answerers + 1, sizeof(*run->answerers));
	run->answerers[run->n_answerers++] = machine;
}

/* A node's port may be a pod's: a hostPort mapped there, or a pod on the
 * node's own network listening on it. Those pods answer for the node;
 * appended to the run's answerers, how many. */
static uint32_t served_on_node(struct check_run *run, size_t node, uint32_t node_address, enum tb_proto proto,
			       uint16_t port)
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
				 (!pod->host_ports[k].host_ip || pod->host_ports[k].host_ip == node_address);
		for (size_t k = 0; !serves && pod->host_network && k < pod->n_ports; k++)
			serves = pod->ports[k].port == port && pod->ports[k].protocol == l4;
		if (serves) {
			add_answerer(run, (uint32_t)i);
			n++;
		}
	}
	return n;
}

/* The target that is end TO on PROTO and PORT, added on first use. */
static uint32_t target_of(struct check_run *run, struct target_index *ti, const struct end *to, enum tb_proto proto,
			  uint16_t port)
{
	for (uint32_t k = ti->head[to->machine]; k; k = ti->next[k - 1]) {
		const struct check_target *t = &run->targets[k - 1];
		/* An ingress: target is reached at one address from outside the
		 * cluster and at another from inside. */
		if (t->proto == proto && t->port == port && t->dns_type == to->dns_type &&
		    (!to->named || t->address == to->address))
			return k - 1;
	}
	uint32_t first = (uint32_t)run->n_answerers, n;
	if (to->named) {
		first = to->answerers;
		n = to->n_answerers;
	} else if (!(n = served_on_node(run, to->machine, to->address, proto, port))) {
		add_answerer(run, (uint32_t)to->machine);
		n = 1;
	}
	grow_array((void **)&run->targets, &run->cap_targets, run->n_targets + 1, sizeof(*run->targets));
	run->targets[run->n_targets] = (struct check_target){
		.end = (uint32_t)to->machine,
		.address = to->address,
		.port = port,
		.proto = (uint8_t)proto,
		.resolve = to->resolve,
		.dns_type = (uint8_t)to->dns_type,
		.answerers = first,
		.n_answerers = n,
		.request = to->request,
	};
	grow_array((void **)&ti->next, &ti->cap_next, run->n_targets + 1, sizeof(*ti->next));
	ti->next[run->n_targets] = ti->head[to->machine];
	ti->head[to->machine] = (uint32_t)++run->n_targets;
	return (uint32_t)run->n_targets - 1;
}

/* A probe from FROM to TO on PROTO and PORT (0: TO's HTTP port, else the
 * default one; a named target's own port). */
static struct check_probe new_probe(struct check_run *run, struct target_index *ti, uint32_t expect,
				    const struct end *from, const struct end *to, enum tb_proto proto, int port)
{
	if (to->named)
		port = to->port;
	else if (proto != TB_PROTO_PING && port == 0)
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
	if (to->named)
		return to->port;
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

/* ---- targets that name an address: services, NodePorts, addresses ---- */

/* Every address each machine has: the one it is reached by, then those
 * its steps give its interfaces, once each. */
static void find_machine_addresses(const struct plan *p, struct check_run *run)
{
	run->machine_addresses = xcalloc(p->n_machines ? p->n_machines : 1, sizeof(*run->machine_addresses));
	autofree uint32_t **lists = xcalloc(p->n_machines ? p->n_machines : 1, sizeof(*lists));
	autofree size_t *counts = xcalloc(p->n_machines ? p->n_machines : 1, sizeof(*counts));
	autofree size_t *caps = xcalloc(p->n_machines ? p->n_machines : 1, sizeof(*caps));
	for (size_t m = 0; m < p->n_machines; m++)
		if (p->machines[m].address) {
			grow_array((void **)&lists[m], &caps[m], 1, sizeof(**lists));
			lists[m][counts[m]++] = p->machines[m].address;
		}
	for (const struct step *s = plan_next(p, NULL, STEP_ADDRESS); s; s = plan_next(p, s, STEP_ADDRESS)) {
		size_t m = s->machine;
		uint32_t a = s->u.address.prefix.addr;
		bool seen = m >= p->n_machines;
		for (size_t k = 0; !seen && k < counts[m]; k++)
			seen = lists[m][k] == a;
		if (seen)
			continue;
		grow_array((void **)&lists[m], &caps[m], counts[m] + 1, sizeof(**lists));
		lists[m][counts[m]++] = a;
	}
	for (size_t m = 0; m < p->n_machines; m++) {
		run->machine_addresses[m] = (struct check_span){(uint32_t)run->n_addresses, (uint32_t)counts[m]};
		grow_array((void **)&run->addresses, &run->cap_addresses, run->n_addresses + counts[m] + 1,
			   sizeof(*run->addresses));
		for (size_t k = 0; k < counts[m]; k++)
			run->addresses[run->n_addresses++] = lists[m][k];
		free(lists[m]);
	}
}

/* The machine holding address A (a pod before any other), or PLAN_NONE. */
static size_t machine_at(const struct check_run *run, uint32_t a)
{
	size_t found = PLAN_NONE;
	for (size_t m = 0; m < run->n_machines && a; m++) {
		if (run->machines[m].kind == MACHINE_LAB)
			continue;
		const struct check_span *sp = &run->machine_addresses[m];
		for (uint32_t k = 0; k < sp->n; k++)
			if (run->addresses[sp->first + k] == a) {
				if (run->machines[m].kind == MACHINE_POD && !run->machines[m].host_network)
					return m;
				if (found == PLAN_NONE)
					found = m;
			}
	}
	return found;
}

/* The machine that answers for endpoint E: its pod, or whichever machine
 * holds its address (an EndpointSlice may name any); PLAN_NONE: none of
 * the lab's. */
static size_t endpoint_machine(const struct check_run *run, const struct plan_endpoint *e)
{
	if (e->machine != PLAN_NONE && e->machine < run->n_machines)
		return e->machine;
	return machine_at(run, e->address);
}

/* Which endpoints kube-proxy sends a service port's traffic to. */
enum endpoint_scope {
	SCOPE_CLUSTER, /* every usable endpoint */
	SCOPE_NODE,    /* those on one node (externalTrafficPolicy Local at a NodePort) */
	SCOPE_LOCAL,   /* those on their own node, any node (Local at a load balancer's address) */
};

/* Appends the machines of port PI of S's endpoints kube-proxy would use
 * (ready ones; serving and terminating ones when none is ready), within
 * SCOPE (NODE: on node NODE); how many. */
static uint32_t add_endpoints(struct check_run *run, const struct plan_service *s, size_t pi, enum endpoint_scope scope,
			      size_t node)
{
	uint32_t n = 0;
	for (int fallback = 0; fallback < 2 && n == 0; fallback++)
		for (size_t k = 0; k < s->n_endpoints; k++) {
			const struct plan_endpoint *e = &s->endpoints[k];
			bool usable = fallback ? e->serving && e->terminating : e->ready;
			if (!usable || !e->ports || !e->ports[pi])
				continue;
			if ((scope == SCOPE_NODE && e->node != node) || (scope == SCOPE_LOCAL && e->node == PLAN_NONE))
				continue;
			size_t m = endpoint_machine(run, e);
			if (m == PLAN_NONE)
				continue;
			bool seen = false;
			for (uint32_t j = run->n_answerers - n; j < run->n_answerers && !seen; j++)
				seen = run->answerers[j] == m;
			if (!seen) {
				add_answerer(run, (uint32_t)m);
				n++;
			}
		}
	return n;
}

/* "80/TCP \"http\", 53/UDP \"dns\"": S's ports, for messages (malloc'd). */
static char *service_ports_text(const struct plan_service *s)
{
	char *text = xstrdup("");
	for (size_t k = 0; k < s->n_ports; k++) {
		const struct plan_service_port *sp = &s->ports[k];
		char *more = *sp->name ? xasprintf("%s%s%u/%s \"%s\"", text, k ? ", " : "", sp->port,
						   tb_protocol_name(sp->protocol), sp->name)
				       : xasprintf("%s%s%u/%s", text, k ? ", " : "", sp->port, tb_protocol_name(sp->protocol));
		free(text);
		text = more;
	}
	return text;
}

/* Service port of S that expectation X probes (its "port" by name or
 * number, else the only one or the one named http); -1 after reporting. */
static int service_port(const struct plan_service *s, const struct plan_expect *x, struct diag *d, size_t i)
{
	autofree char *path = xasprintf("expect[%zu].%s", i, x->port_name || x->port ? "port" : "to");
	int line = x->port_name || x->port ? (x->port_line ? x->port_line : x->line) : (x->to_line ? x->to_line : x->line);
	autofree char *ports = service_ports_text(s);
	int found = -1;
	if (x->port_name) {
		for (size_t k = 0; k < s->n_ports && found < 0; k++)
			if (strcmp(s->ports[k].name, x->port_name) == 0)
				found = (int)k;
		if (found < 0) {
			diag_error(d, line, path, "service %s/%s has no port named \"%s\" (its ports: %s)", s->namespace,
				   s->name, x->port_name, ports);
			return -1;
		}
	} else if (x->port) {
		/* A number may be a TCP and a UDP port at once: the probe's first. */
		for (size_t k = 0; k < s->n_ports && found < 0; k++)
			if (s->ports[k].port == x->port && s->ports[k].protocol == transport(x->proto))
				found = (int)k;
		for (size_t k = 0; k < s->n_ports && found < 0; k++)
			if (s->ports[k].port == x->port)
				found = (int)k;
		if (found < 0) {
			diag_error(d, line, path, "service %s/%s has no port %d (its ports: %s)", s->namespace, s->name,
				   x->port, ports);
			return -1;
		}
	} else if (s->n_ports == 1) {
		found = 0;
	} else {
		for (size_t k = 0; k < s->n_ports && found < 0; k++)
			if (strcmp(s->ports[k].name, "http") == 0)
				found = (int)k;
		if (found < 0) {
			diag_error(d, line, path, "service %s/%s has %zu ports and none named http: say which with "
						  "\"port\" (its ports: %s)",
				   s->namespace, s->name, s->n_ports, ports);
			return -1;
		}
	}
	const struct plan_service_port *sp = &s->ports[found];
	if (x->proto != TB_PROTO_PING && sp->protocol != transport(x->proto)) {
		diag_error(d, line, path, "port %u of service %s/%s is %s; %s probes need a %s port", sp->port,
			   s->namespace, s->name, tb_protocol_name(sp->protocol), tb_proto_name(x->proto),
			   tb_protocol_name(transport(x->proto)));
		return -1;
	}
	return found;
}

/* Whether expectation X must be judged by who answers: an http or udp
 * probe expected to pass, with no answeredBy of its own. */
static bool needs_answerers(const struct plan_expect *x)
{
	return (x->proto == TB_PROTO_HTTP || x->proto == TB_PROTO_UDP) && x->expect_pass && !x->has_answered_by;
}

/* "service:NAMESPACE/NAME" or "service:NAME" (namespace default). */
static bool resolve_service(const struct plan *p, struct check_run *run, struct diag *d, size_t i, const char *path,
			    int line, struct end *end)
{
	const struct plan_expect *x = &p->expects[i];
	const char *rest = x->to + strlen("service:");
	const char *slash = strchr(rest, '/');
	autofree char *namespace = slash ? xasprintf("%.*s", (int)(slash - rest), rest) : xstrdup(TB_DEFAULT_NAMESPACE);
	const char *name = slash ? slash + 1 : rest;
	const struct plan_service *s = NULL;
	for (size_t k = 0; k < p->n_services && !s; k++)
		if (strcmp(p->services[k].namespace, namespace) == 0 && strcmp(p->services[k].name, name) == 0)
			s = &p->services[k];
	if (!s) {
		autofree char *elsewhere = xstrdup("");
		for (size_t k = 0; k < p->n_services; k++)
			if (strcmp(p->services[k].name, name) == 0) {
				char *more = xasprintf("%s%s%s/%s", elsewhere, *elsewhere ? ", " : "",
						       p->services[k].namespace, name);
				free(elsewhere);
				elsewhere = more;
			}
		diag_error(d, line, path, "no Service \"%s\" in namespace %s%s%s%s", name, namespace,
			   *elsewhere ? " (there is " : "", elsewhere, *elsewhere ? ")" : "");
		return false;
	}
	if (s->external_name) {
		diag_error(d, line, path, "service %s/%s is ExternalName (a name in cluster DNS for %s): it has no address",
			   s->namespace, s->name, s->external_name);
		return false;
	}
	if (!s->cluster_ip) {
		diag_error(d, line, path,
			   "service %s/%s is headless (clusterIP None): it has no address of its own; probe its pods",
			   s->namespace, s->name);
		return false;
	}
	int pi = service_port(s, x, d, i);
	if (pi < 0)
		return false;
	end->address = s->cluster_ip;
	end->port = x->proto == TB_PROTO_PING ? 0 : s->ports[pi].port;
	end->answerers = (uint32_t)run->n_answerers;
	end->n_answerers = x->proto == TB_PROTO_PING ? 0 : add_endpoints(run, s, (size_t)pi, SCOPE_CLUSTER, PLAN_NONE);
	if (!end->n_answerers && needs_answerers(x)) {
		diag_error(d, line, path,
			   "service %s/%s has no ready endpoint in the lab for port %u: nothing can answer (expect "
			   "\"failure\": \"refused\", as kube-proxy rejects it)",
			   s->namespace, s->name, s->ports[pi].port);
		return false;
	}
	return true;
}

/* The services' endpoints for traffic to ADDRESS:PORT over L4 arriving
 * at a node: a NodePort (NODE the node it reaches), a cluster IP, an
 * external or load-balancer IP; appended to the run's answerers. Sets
 * *MATCHED when some service has the address and port, *OTHER_PROTOCOL
 * when only with another protocol; *LOCAL_NONE names a Local service with
 * no endpoint where the traffic lands. */
static uint32_t service_answerers(const struct plan *p, struct check_run *run, uint32_t address, uint16_t port,
				  enum tb_protocol l4, size_t node, bool *matched, const struct plan_service **other,
				  const struct plan_service **local_none)
{
	uint32_t n = 0;
	for (size_t k = 0; k < p->n_services; k++) {
		const struct plan_service *s = &p->services[k];
		for (size_t pi = 0; pi < s->n_ports; pi++) {
			const struct plan_service_port *sp = &s->ports[pi];
			bool external = false, hit = false;
			if (node != PLAN_NONE && sp->node_port == port) {
				hit = external = true;
			} else if (sp->port == port) {
				hit = s->cluster_ip && s->cluster_ip == address;
				for (size_t a = 0; !hit && a < s->n_external_ips; a++)
					hit = external = s->external_ips[a] == address;
				for (size_t a = 0; !hit && a < s->n_load_balancer_ips; a++)
					hit = external = s->load_balancer_ips[a] == address;
			}
			if (!hit)
				continue;
			if (sp->protocol != l4) {
				*other = s;
				continue;
			}
			*matched = true;
			enum endpoint_scope scope = !external || !s->external_local ? SCOPE_CLUSTER
						    : node != PLAN_NONE		     ? SCOPE_NODE
										     : SCOPE_LOCAL;
			uint32_t got = add_endpoints(run, s, pi, scope, node);
			if (!got && scope != SCOPE_CLUSTER)
				*local_none = s;
			n += got;
		}
	}
	return n;
}

/* "nodeport:NODE:PORT" and "ip:ADDRESS:PORT": what answers there, a
 * service's endpoints first, else a machine's own server. */
static bool resolve_address(const struct plan *p, struct check_run *run, struct diag *d, size_t i, const char *path,
			    int line, struct end *end)
{
	const struct plan_expect *x = &p->expects[i];
	bool nodeport = str_has_prefix(x->to, "nodeport:");
	const char *rest = x->to + (nodeport ? strlen("nodeport:") : strlen("ip:"));
	size_t len = strcspn(rest, ":");
	autofree char *host = xasprintf("%.*s", (int)len, rest);
	end->port = rest[len] == ':' ? (uint16_t)strtoul(rest + len + 1, NULL, 10) : 0;
	size_t node = PLAN_NONE;
	if (nodeport) {
		if (!find_machine(p, d, path, line, host, &node))
			return false;
		if (p->machines[node].kind != MACHINE_NODE) {
			diag_error(d, line, path, "%s is a %s, not a node: NodePorts are nodes'", p->machines[node].name,
				   machine_kind_name(p->machines[node].kind));
			return false;
		}
		end->address = p->machines[node].address;
	} else {
		ipv4_addr_parse(host, &end->address);
		size_t m = machine_at(run, end->address);
		if (m != PLAN_NONE && run->machines[m].kind == MACHINE_NODE)
			node = m;
	}
	end->answerers = (uint32_t)run->n_answerers;
	if (x->proto == TB_PROTO_PING)
		return true;
	enum tb_protocol l4 = transport(x->proto);
	bool matched = false;
	const struct plan_service *other = NULL, *local_none = NULL;
	end->n_answerers = service_answerers(p, run, end->address, end->port, l4, node, &matched, &other, &local_none);
	size_t m = machine_at(run, end->address);
	if (!matched && m != PLAN_NONE) {
		/* The machine's own server, or the pods serving a node's host port. */
		uint32_t hosted = node != PLAN_NONE ? served_on_node(run, node, end->address, x->proto, end->port) : 0;
		const struct plan_machine *pm = &run->machines[m];
		bool serves = false;
		for (size_t k = 0; k < pm->n_ports && !serves; k++)
			serves = pm->ports[k].port == end->port && pm->ports[k].protocol == l4;
		if (!hosted && (serves || !nodeport))
			add_answerer(run, (uint32_t)m);
		end->n_answerers = hosted ? hosted : serves || !nodeport ? 1 : 0;
	}
	if (!matched && other && needs_answerers(x)) {
		diag_error(d, line, path, "%s is a %s port of service %s/%s; %s probes need a %s port", x->to,
			   tb_protocol_name(l4 == TB_PROTOCOL_TCP ? TB_PROTOCOL_UDP : TB_PROTOCOL_TCP), other->namespace,
			   other->name, tb_proto_name(x->proto), tb_protocol_name(l4));
		return false;
	}
	if (!end->n_answerers && needs_answerers(x)) {
		if (local_none)
			diag_error(d, line, path,
				   "service %s/%s has externalTrafficPolicy Local and no ready endpoint %s%s: kube-proxy "
				   "drops it there (expect \"failure\": \"timeout\")",
				   local_none->namespace, local_none->name, node != PLAN_NONE ? "on " : "anywhere",
				   node != PLAN_NONE ? p->machines[node].name : "");
		else if (nodeport)
			diag_error(d, line, path, "no service has node port %u/%s, so nothing answers there", end->port,
				   tb_protocol_name(l4));
		else
			diag_error(d, line, path,
				   "nothing in the lab serves %s over %s: name who answers with \"answeredBy\"", x->to,
				   tb_protocol_name(l4));
		return false;
	}
	return true;
}

/* Whether M reaches the cluster from outside: an external machine, or the
 * gateway, which routes no service address. */
static bool outside_cluster(const struct plan_machine *m)
{
	return m->kind == MACHINE_EXTERNAL || m->kind == MACHINE_GATEWAY;
}

/* "ingress:HOST/PATH": the controller's Service as the source reaches it
 * (OUTSIDE: from a machine outside the cluster, its load balancer's
 * address or the first node's NodePort; else its cluster IP), asked with
 * that Host and path; what may answer: the endpoints of the Service of the
 * location nginx picks for them (none where nginx answers itself). */
static bool resolve_ingress(const struct plan *p, struct check_run *run, struct diag *d, size_t i, const char *path,
			    int line, bool outside, struct end *end)
{
	const struct plan_expect *x = &p->expects[i];
	const struct plan_ingress *in = &p->ingress;
	if (!in->n_servers) {
		diag_error(d, line, path, "\"%s\": the lab runs no ingress controller (it serves no Ingress)", x->to);
		return false;
	}
	const char *rest = x->to + strlen("ingress:");
	size_t len = strcspn(rest, "/");
	autofree char *host = xasprintf("%.*s", (int)len, rest);
	const char *want = rest[len] ? rest + len : "/";
	const struct plan_service *s = &p->services[in->service];
	end->port = s->ports[0].port;
	end->address = s->cluster_ip;
	if (outside && s->n_load_balancer_ips) {
		end->address = s->load_balancer_ips[0];
	} else if (outside) {
		for (size_t m = 0; m < p->n_machines; m++)
			if (p->machines[m].kind == MACHINE_NODE) {
				end->address = p->machines[m].address;
				break;
			}
		end->port = s->ports[0].node_port;
	}
	grow_array((void **)&run->http_requests, &run->cap_http_requests, run->n_http_requests + 1,
		   sizeof(*run->http_requests));
	run->http_requests[run->n_http_requests++] = (struct check_http_request){xstrdup(host), xstrdup(want)};
	end->request = (uint32_t)run->n_http_requests;
	const struct plan_ingress_server *server = NULL;
	const struct plan_location *l = ingress_nginx_route(in, host, want, &server);
	end->answerers = (uint32_t)run->n_answerers;
	end->n_answerers = 0;
	bool local_none = false;
	if (l && !l->status) {
		/* The proxy's connection leaves from the controller's node: under
		 * internalTrafficPolicy Local, only that node's endpoints. */
		const struct plan_service *b = &p->services[l->backend];
		size_t node = p->machines[in->controller].parent;
		for (size_t pi = 0; pi < b->n_ports; pi++)
			if (b->ports[pi].port == l->service_port && b->ports[pi].protocol == TB_PROTOCOL_TCP)
				end->n_answerers = add_endpoints(run, b, pi, b->internal_local ? SCOPE_NODE : SCOPE_CLUSTER,
								 node);
		local_none = b->internal_local && !end->n_answerers;
	}
	if (needs_answerers(x) && local_none) {
		diag_error(d, line, path,
			   "\"%s\": Service %s has internalTrafficPolicy Local and no ready endpoint on %s, the ingress "
			   "controller's node: kube-proxy drops the proxy's connection there",
			   x->to, l->service, p->machines[p->machines[in->controller].parent].name);
		return false;
	}
	if (needs_answerers(x) && (!x->status || x->status == 200) && (!l || l->status)) {
		diag_error(d, line, path,
			   "\"%s\": ingress-nginx answers %d itself (server %s, location %s%s: %s): expect \"status\": %d",
			   x->to, l ? l->status : 404, server ? server->host : "_",
			   l && l->match == PLAN_MATCH_EXACT ? "= " : "", l ? l->path : "/",
			   !l || l->status == 404 ? "no Ingress rule matches, the default backend"
			   : l->backend == PLAN_NONE ? "its Service does not exist"
						     : "its Service has no ready endpoint on that port",
			   l ? l->status : 404);
		return false;
	}
	return true;
}

/* Whether X's "to" is a DNS name the probing machine resolves: any "to"
 * of a dns probe, "dns:NAME", or a name with a dot (machines' names have
 * none: expect.c). */
static bool expect_resolves(const struct plan_expect *x)
{
	return x->proto == TB_PROTO_DNS || str_has_prefix(x->to, "dns:") ||
	       (strchr(x->to, '.') && topology_is_dns_name(x->to));
}

/* A DNS name: no address until the probing machine resolves it, then the
 * expectation's port there (http's 80 by default: expect.c); nothing
 * known answers yet (check_target_resolved). */
static bool resolve_dns_target(struct diag *d, size_t i, const struct plan_expect *x, const char *path, int line,
			       struct end *end)
{
	const char *name = str_has_prefix(x->to, "dns:") ? x->to + strlen("dns:") : x->to;
	if (!topology_is_dns_name(name)) {
		diag_error(d, line, path, "\"%s\" is no DNS name", x->to);
		return false;
	}
	if (x->proto != TB_PROTO_PING && x->proto != TB_PROTO_DNS && !x->port) {
		diag_error(d, line, path, "%s probes to a name need a port: give \"port\"", tb_proto_name(x->proto));
		return false;
	}
	(void)i;
	end->resolve = true;
	end->dns_type = x->dns_type;
	end->port = x->proto == TB_PROTO_PING || x->proto == TB_PROTO_DNS ? 0 : (uint16_t)x->port;
	return true;
}

/* Expectation I's "to" when it names an address rather than a machine:
 * the end, its address, port and answerers. */
static bool resolve_named_target(const struct plan *p, struct compiler *c, struct diag *d, size_t i,
				 struct end *end)
{
	const struct plan_expect *x = &p->expects[i];
	autofree char *path = xasprintf("expect[%zu].to", i);
	int line = x->to_line ? x->to_line : x->line;
	*end = (struct end){.named = true, .name = x->to};
	bool ok = expect_resolves(x)		      ? resolve_dns_target(d, i, x, path, line, end)
		  : str_has_prefix(x->to, "service:") ? resolve_service(p, c->run, d, i, path, line, end)
		  : str_has_prefix(x->to, "ingress:") ? resolve_ingress(p, c->run, d, i, path, line, false, end)
						      : resolve_address(p, c->run, d, i, path, line, end);
	if (ok)
		end->machine = end_named(c->run, &c->targets, x->to);
	return ok;
}

/* ---- names, as probes resolve them ---- */

const char *check_target_name(const struct check_run *run, const struct check_target *t)
{
	const char *name = check_end_name(run, t->end);
	return str_has_prefix(name, "dns:") ? name + strlen("dns:") : name;
}

const struct dns_resolver *check_resolver(struct check_run *run, uint32_t machine, const char **why)
{
	if (!run->resolvers)
		run->resolvers = xcalloc(run->n_machines ? run->n_machines : 1, sizeof(*run->resolvers));
	if (run->resolvers[machine])
		return run->resolvers[machine];
	const struct plan_machine *m = &run->machines[machine];
	for (size_t k = 0; k < m->n_files; k++)
		if (strcmp(m->files[k].path, "/etc/resolv.conf") == 0) {
			run->resolvers[machine] = xcalloc(1, sizeof(**run->resolvers));
			dns_resolver_parse(m->files[k].content, run->resolvers[machine]);
			return run->resolvers[machine];
		}
	*why = m->image == PLAN_NONE ? "it has no image, so the lab writes it no /etc/resolv.conf"
				     : "the lab writes it no /etc/resolv.conf (the lab has no cluster DNS?)";
	return NULL;
}

/* What answers a probe of PROTO to ADDRESS and PORT, as an ip: target's:
 * a Service's endpoints there, the pods serving a node's port, else the
 * machine that has the address; appended to the run's answerers, how many. */
static uint32_t answerers_at(struct check_run *run, uint32_t address, uint16_t port, enum tb_proto proto)
{
	if (proto == TB_PROTO_PING || proto == TB_PROTO_DNS || !run->plan)
		return 0;
	size_t m = machine_at(run, address);
	size_t node = m != PLAN_NONE && run->machines[m].kind == MACHINE_NODE ? m : PLAN_NONE;
	bool matched = false;
	const struct plan_service *other = NULL, *local_none = NULL;
	uint32_t n = service_answerers(run->plan, run, address, port, transport(proto), node, &matched, &other,
				       &local_none);
	if (matched || m == PLAN_NONE)
		return n;
	uint32_t hosted = node != PLAN_NONE ? served_on_node(run, node, address, proto, port) : 0;
	if (hosted)
		return hosted;
	add_answerer(run, (uint32_t)m);
	return 1;
}

uint32_t check_target_resolved(struct check_run *run, uint32_t name, uint32_t address)
{
	for (size_t k = run->compiled_targets; k < run->n_targets; k++)
		if (run->targets[k].name_of == name + 1 && run->targets[k].address == address)
			return (uint32_t)k;
	struct check_target t = run->targets[name];
	t.address = address;
	t.resolve = 0;
	t.name_of = name + 1;
	t.answerers = (uint32_t)run->n_answerers;
	t.n_answerers = answerers_at(run, address, t.port, (enum tb_proto)t.proto);
	grow_array((void **)&run->targets, &run->cap_targets, run->n_targets + 1, sizeof(*run->targets));
	run->targets[run->n_targets] = t;
	return (uint32_t)run->n_targets++;
}

/* "10.96.0.12" or "web-0.web.shop.svc.cluster.local:80": record K of A (malloc'd). */
static char *record_text(const struct dns_answer *a, size_t k, bool srv)
{
	char addr[16];
	return srv ? xasprintf("%s:%u", a->srv[k].target, a->srv[k].port)
		   : xstrdup(ipv4_addr_format(a->addresses[k], addr));
}

/* Past this many records, an answer's are not all kept. */
#define CHECK_DNS_RECORDS_MAX 64

void check_probe_set_dns(struct check_run *run, size_t i, const struct dns_answer *a)
{
	struct check_detail *d = detail_of(run, i);
	bool srv = check_target_of(run, &run->probes[i])->dns_type == TB_DNS_SRV;
	size_t n = srv ? a->n_srv : a->n_addresses;
	if (n > CHECK_DNS_RECORDS_MAX)
		n = CHECK_DNS_RECORDS_MAX;
	set_text(&d->dns_name, a->name ? a->name : "", DNS_NAME_MAX);
	strv_free(d->dns_answer);
	d->dns_answer = xcalloc(n + 1, sizeof(*d->dns_answer));
	for (d->n_dns_answer = 0; d->n_dns_answer < n; d->n_dns_answer++)
		d->dns_answer[d->n_dns_answer] = record_text(a, d->n_dns_answer, srv);
}

/* "10.96.0.12, 10.96.0.13" (malloc'd). */
static char *join(char *const *items, size_t n)
{
	char *text = xstrdup("");
	for (size_t k = 0; k < n; k++) {
		char *more = xasprintf("%s%s%s", text, k ? ", " : "", items[k]);
		free(text);
		text = more;
	}
	return text;
}

bool check_probe_dns_ok(const struct check_run *run, size_t i, const struct dns_answer *a, char **why)
{
	const struct check_probe *p = &run->probes[i];
	const struct check_rule *rule = check_rule_of(run, p);
	bool srv = check_target_of(run, p)->dns_type == TB_DNS_SRV;
	size_t n = srv ? a->n_srv : a->n_addresses;
	if (!rule || !rule->has_answers)
		return true;
	size_t n_want = srv ? rule->n_records : rule->n_answers;
	char **got = xcalloc(n + 1, sizeof(*got)), **want = xcalloc(n_want + 1, sizeof(*want));
	for (size_t k = 0; k < n; k++) {
		got[k] = record_text(a, k, srv);
		for (char *c = got[k]; *c; c++)
			*c = (char)tolower((unsigned char)*c);
	}
	for (size_t k = 0; k < n_want; k++) {
		char addr[16];
		want[k] = xstrdup(srv ? rule->records[k] : ipv4_addr_format(run->addresses[rule->answers + k], addr));
	}
	/* The same set: each record of one is in the other. */
	bool same = true;
	for (size_t k = 0; k < n && same; k++) {
		bool in = false;
		for (size_t j = 0; j < n_want && !in; j++)
			in = strcmp(got[k], want[j]) == 0;
		same = in;
	}
	for (size_t j = 0; j < n_want && same; j++) {
		bool in = false;
		for (size_t k = 0; k < n && !in; k++)
			in = strcmp(got[k], want[j]) == 0;
		same = in;
	}
	if (!same) {
		autofree char *g = join(got, n), *w = join(want, n_want);
		*why = xasprintf("%s answered %s; expected %s", a->name, n ? g : "no record", n_want ? w : "no record");
	}
	strv_free(got);
	strv_free(want);
	return same;
}

/* ---- what an expectation asks beyond pass or fail ---- */

/* A dns expectation's "addresses" (into run->addresses) or "records"
 * (TARGET:PORT, lower case, without a trailing dot): the set its answer
 * must be. False after reporting one that is neither. */
static bool compile_answers(struct check_run *run, struct diag *d, size_t i, const struct plan_expect *x,
			    struct check_rule *rule)
{
	autofree char *path = xasprintf("expect[%zu].%s", i, x->dns_type == TB_DNS_SRV ? "records" : "addresses");
	int line = x->answers_line ? x->answers_line : x->line;
	rule->has_answers = true;
	rule->answers = (uint32_t)run->n_addresses;
	rule->records = xcalloc(x->n_answers + 1, sizeof(*rule->records));
	for (size_t k = 0; k < x->n_answers; k++) {
		const char *a = x->answers[k];
		if (x->dns_type == TB_DNS_A) {
			uint32_t addr;
			if (!ipv4_addr_parse(a, &addr)) {
				diag_error(d, line, path, "\"%s\" is no IPv4 address", a);
				return false;
			}
			grow_array((void **)&run->addresses, &run->cap_addresses, run->n_addresses + 1,
				   sizeof(*run->addresses));
			run->addresses[run->n_addresses++] = addr;
			continue;
		}
		const char *colon = strrchr(a, ':');
		size_t len = colon ? (size_t)(colon - a) : 0;
		len -= len && a[len - 1] == '.';
		char *record = colon ? xasprintf("%.*s:%s", (int)len, a, colon + 1) : NULL;
		if (!record || !len) {
			free(record);
			diag_error(d, line, path, "\"%s\" is no SRV record's TARGET:PORT", a);
			return false;
		}
		for (char *c = record; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		rule->records[rule->n_records++] = record;
	}
	rule->n_answers = (uint32_t)run->n_addresses - rule->answers;
	return true;
}

/* Expectation I's rule: its requests, answeredBy and clientIP found in
 * the lab; false after reporting through D what they name that it lacks. */
static bool compile_rule(const struct plan *p, struct check_run *run, struct diag *d, size_t i)
{
	const struct plan_expect *x = &p->expects[i];
	struct check_rule *rule = &run->rules[i];
	*rule = (struct check_rule){.requests = x->requests ? (uint32_t)x->requests : 1, .count = x->requests > 0};
	bool ok = true;
	if (x->has_answered_by) {
		autofree char *path = xasprintf("expect[%zu].answeredBy", i);
		int line = x->answered_by_line ? x->answered_by_line : x->line;
		autofree struct end *ends = xcalloc(p->n_machines + 1, sizeof(*ends));
		size_t n = 0;
		for (size_t k = 0; k < x->n_answered_by; k++) {
			const char *name = x->answered_by[k];
			size_t m;
			if (pod_selector_is_written(name))
				ok &= select_pods(p, d, path, line, name, ends, &n);
			else if (find_machine(p, d, path, line, name, &m))
				ends[n++] = end_of(p, m);
			else
				ok = false;
		}
		rule->has_answerers = true;
		rule->answerers = (uint32_t)run->n_answerers;
		for (size_t k = 0; k < n; k++) {
			bool seen = false;
			for (uint32_t j = rule->answerers; j < run->n_answerers && !seen; j++)
				seen = run->answerers[j] == ends[k].machine;
			if (!seen)
				add_answerer(run, (uint32_t)ends[k].machine);
		}
		rule->n_answerers = (uint32_t)run->n_answerers - rule->answerers;
		rule->every_answerer = x->requests > 0;
		if (ok && rule->every_answerer && rule->n_answerers > rule->requests) {
			autofree char *at = xasprintf("expect[%zu].requests", i);
			diag_error(d, x->requests_line ? x->requests_line : x->line, at,
				   "%u requests cannot each reach the %u pods answeredBy names: ask at least %u",
				   rule->requests, rule->n_answerers, rule->n_answerers);
			ok = false;
		}
	}
	if (x->has_answers && !compile_answers(run, d, i, x, rule))
		ok = false;
	if (x->client_ip == TB_CLIENT_IP_NAMED && x->client_name) {
		autofree char *path = xasprintf("expect[%zu].clientIP", i);
		int line = x->client_line ? x->client_line : x->line;
		rule->client_text = xstrdup(x->client_name);
		uint32_t a;
		size_t m;
		rule->clients = (uint32_t)run->n_addresses;
		if (ipv4_addr_parse(x->client_name, &a)) {
			grow_array((void **)&run->addresses, &run->cap_addresses, run->n_addresses + 1,
				   sizeof(*run->addresses));
			run->addresses[run->n_addresses++] = a;
			rule->n_clients = 1;
		} else if (find_machine(p, d, path, line, x->client_name, &m)) {
			/* The machine's span, copied: rules compare their own. */
			struct check_span sp = run->machine_addresses[m];
			grow_array((void **)&run->addresses, &run->cap_addresses, run->n_addresses + sp.n + 1,
				   sizeof(*run->addresses));
			for (uint32_t k = 0; k < sp.n; k++)
				run->addresses[run->n_addresses++] = run->addresses[sp.first + k];
			rule->n_clients = sp.n;
			if (!sp.n) {
				diag_error(d, line, path, "%s has no address for a server to see", p->machines[m].name);
				ok = false;
			}
		} else {
			ok = false;
		}
	}
	return ok;
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

/* Whether every machine of the run's answerers FIRST..FIRST+N runs the
 * pod server (which answers /hostname and "hostname"). */
static bool all_pod_servers(const struct check_run *run, uint32_t first, uint32_t n)
{
	for (uint32_t k = 0; k < n; k++)
		if (!run->machines[run->answerers[first + k]].pod_server)
			return false;
	return true;
}

/* A target of the model beyond the mesh: where, how, and from which
 * nodes' pods (NULL: every pod's). */
struct model_target {
	struct end to;
	enum tb_proto proto;
	enum tb_client_ip client_ip;
	bool *from_node; /* per machine: its pods probe this target */
};

/* What the NetworkPolicies say of FROM reaching service S's port PI,
 * judged at each endpoint after DNAT (its own port): every endpoint
 * allowed, every one denied, or some of each (a probe answered by one of
 * them then proves nothing either way). */
enum policy_say { POLICY_SAYS_ALLOWED, POLICY_SAYS_DENIED, POLICY_SAYS_MIXED };

static enum policy_say service_policy(const struct policy_world *w, size_t from, const struct plan_service *s, size_t pi)
{
	size_t allowed = 0, denied = 0;
	for (size_t e = 0; e < s->n_endpoints; e++) {
		const struct plan_endpoint *ep = &s->endpoints[e];
		if (!ep->ports[pi] || !ep->ready)
			continue;
		struct policy_verdict v;
		policy_eval(w, (struct policy_end){.machine = from},
			    (struct policy_end){.machine = ep->machine, .address = ep->machine == PLAN_NONE ? ep->address : 0},
			    ep->ports[pi], s->ports[pi].protocol, &v);
		allowed += v.allowed;
		denied += !v.allowed;
		policy_verdict_free(&v);
	}
	return denied == 0 ? POLICY_SAYS_ALLOWED : allowed == 0 ? POLICY_SAYS_DENIED : POLICY_SAYS_MIXED;
}

/* Is FROM or TO isolated by some policy in the direction that matters?
 * Ping (ICMP) is not a protocol policies name: where either end is
 * isolated, what passes depends on the implementation, so no ping probe. */
static bool policy_isolates(const struct policy_world *w, size_t from, size_t to)
{
	struct policy_verdict v;
	policy_eval(w, (struct policy_end){.machine = from}, (struct policy_end){.machine = to}, 1, TB_PROTOCOL_TCP, &v);
	bool isolated = v.egress.isolated || v.ingress.isolated;
	policy_verdict_free(&v);
	return isolated;
}

/* The Kubernetes model under NetworkPolicies: the cells of the mesh come
 * from the evaluator. Every pod to every other pod on each TCP port the
 * target declares (and each UDP port of a pod server, whose answer is
 * known), expected to pass where the policies allow and to fail where they
 * deny; ping only between pods no policy isolates. */
static void compile_policy_mesh(struct check_run *run, struct target_index *ti, const struct plan *t,
				const struct end *pods, size_t n)
{
	struct policy_world w;
	policy_world_of(t, &w);
	struct check_mesh mesh;
	check_mesh_begin(&mesh, n, true);
	for (size_t i, k; check_mesh_next(&mesh, &i, &k);) {
		const struct end *to = &pods[k];
		const struct plan_machine *m = &t->machines[to->machine];
		for (size_t pi = 0; pi < m->n_ports; pi++) {
			const struct tb_port *port = &m->ports[pi];
			bool udp = port->protocol == TB_PROTOCOL_UDP;
			if (port->protocol == TB_PROTOCOL_SCTP || (udp && !to->pod_server) ||
			    (!udp && !to->pod_server && port->port != to->http_port))
				continue; /* SCTP is not carried; what a command of its own serves nobody knows */
			struct policy_verdict v;
			policy_eval(&w, (struct policy_end){.machine = pods[i].machine},
				    (struct policy_end){.machine = to->machine}, (uint16_t)port->port, port->protocol, &v);
			enum tb_proto proto = udp ? TB_PROTO_UDP : to->pod_server ? TB_PROTO_HTTP : TB_PROTO_TCP;
			struct check_probe p = new_probe(run, ti, CHECK_DEFAULT_MODEL, &pods[i], to, proto, port->port);
			p.expect_pass = v.allowed;
			if (v.allowed && proto == TB_PROTO_HTTP)
				p.client_ip = TB_CLIENT_IP_PRESERVED;
			append_probe(run, &p);
			policy_verdict_free(&v);
		}
		if (!policy_isolates(&w, pods[i].machine, to->machine)) {
			struct check_probe ping = new_probe(run, ti, CHECK_DEFAULT_MODEL, &pods[i], to, TB_PROTO_PING, 0);
			append_probe(run, &ping);
		}
	}
}

/* Sets P's expectation from the policies for a probe from FROM to MT (an
 * external machine or a Service port); false when they give none (ping
 * from an isolated pod, endpoints the policies treat apart). */
static bool policy_says(const struct policy_world *w, const struct plan *t, const struct end *from,
			const struct model_target *mt, struct check_probe *p)
{
	if (!mt->to.named) {
		if (mt->proto == TB_PROTO_PING)
			return !policy_isolates(w, from->machine, mt->to.machine);
		struct policy_verdict v;
		policy_eval(w, (struct policy_end){.machine = from->machine}, (struct policy_end){.machine = mt->to.machine},
			    (uint16_t)mt->to.http_port, TB_PROTOCOL_TCP, &v);
		p->expect_pass = v.allowed;
		if (!v.allowed)
			p->client_ip = TB_CLIENT_IP_ANY;
		policy_verdict_free(&v);
		return true;
	}
	for (size_t k = 0; k < t->n_services; k++) {
		const struct plan_service *s = &t->services[k];
		for (size_t pi = 0; pi < s->n_ports; pi++)
			if (s->cluster_ip == mt->to.address && s->ports[pi].port == mt->to.port &&
			    s->ports[pi].protocol == (mt->proto == TB_PROTO_UDP ? TB_PROTOCOL_UDP : TB_PROTOCOL_TCP)) {
				enum policy_say say = service_policy(w, from->machine, s, pi);
				p->expect_pass = say == POLICY_SAYS_ALLOWED;
				return say != POLICY_SAYS_MIXED;
			}
	}
	return true;
}

/* The model's probes from every pod to what lies outside the cluster and
 * to every service: egress reaches each external machine, which sees the
 * pod's node's address (the masquerade); each service port with ready
 * endpoints is answered by one of them (under internalTrafficPolicy
 * Local, only from the pods of a node that has one, since kube-proxy
 * drops the others'). As the mesh does, sources go in groups, each group
 * probing every target in turn. */
static void compile_default_services(struct check_run *run, struct target_index *ti, const struct plan *t,
				     const struct end *pods, size_t n_pods)
{
	struct policy_world w;
	policy_world_of(t, &w);
	struct model_target *targets = NULL;
	size_t n = 0, cap = 0;
	for (size_t m = 0; m < t->n_machines; m++) {
		const struct plan_machine *x = &t->machines[m];
		if (x->kind != MACHINE_EXTERNAL || !x->address)
			continue;
		struct end to = end_of(t, m);
		grow_array((void **)&targets, &cap, n + 2, sizeof(*targets));
		if (to.http_port)
			targets[n++] = (struct model_target){to, to.pod_server ? TB_PROTO_HTTP : TB_PROTO_TCP,
							     to.pod_server ? TB_CLIENT_IP_SOURCE_NODE : TB_CLIENT_IP_ANY, NULL};
		targets[n++] = (struct model_target){to, TB_PROTO_PING, TB_CLIENT_IP_ANY, NULL};
	}
	for (size_t k = 0; k < t->n_services; k++) {
		const struct plan_service *s = &t->services[k];
		if (!s->cluster_ip)
			continue;
		autofree char *name = xasprintf("service:%s/%s", s->namespace, s->name);
		size_t end = PLAN_NONE;
		for (size_t pi = 0; pi < s->n_ports; pi++) {
			const struct plan_service_port *sp = &s->ports[pi];
			if (sp->protocol != TB_PROTOCOL_TCP && sp->protocol != TB_PROTOCOL_UDP)
				continue;
			struct end to = {.named = true, .address = s->cluster_ip, .port = sp->port};
			to.answerers = (uint32_t)run->n_answerers;
			to.n_answerers = add_endpoints(run, s, pi, SCOPE_CLUSTER, PLAN_NONE);
			if (!to.n_answerers)
				continue;
			bool servers = all_pod_servers(run, to.answerers, to.n_answerers);
			if (sp->protocol == TB_PROTOCOL_UDP && !servers)
				continue; /* what a command of its own answers nobody knows */
			if (end == PLAN_NONE)
				end = end_named(run, ti, name);
			to.machine = end;
			to.name = run->end_names[end - run->n_machines];
			bool *from_node = NULL;
			if (s->internal_local) {
				from_node = xcalloc(t->n_machines + 1, sizeof(*from_node));
				for (size_t e = 0; e < s->n_endpoints; e++)
					for (uint32_t a = 0; a < to.n_answerers; a++)
						if (s->endpoints[e].node < t->n_machines &&
						    endpoint_machine(run, &s->endpoints[e]) == run->answerers[to.answerers + a])
							from_node[s->endpoints[e].node] = true;
			}
			grow_array((void **)&targets, &cap, n + 1, sizeof(*targets));
			targets[n++] = (struct model_target){to,
							     sp->protocol == TB_PROTOCOL_UDP ? TB_PROTO_UDP
							     : servers			    ? TB_PROTO_HTTP
											    : TB_PROTO_TCP,
							     TB_CLIENT_IP_ANY, from_node};
		}
	}
	/* A machine's probes (http and ping) go together, pod by pod, as the
	 * mesh's do. */
	for (size_t group = 0; group < n_pods; group += CHECK_MESH_GROUP)
		for (size_t k = 0, last; k < n; k = last + 1) {
			for (last = k; last + 1 < n && !targets[k].to.named && targets[last + 1].to.machine == targets[k].to.machine;)
				last++;
			for (size_t i = group; i < n_pods && i < group + CHECK_MESH_GROUP; i++)
				for (size_t j = k; j <= last; j++) {
					const struct model_target *mt = &targets[j];
					size_t node = t->machines[pods[i].machine].parent;
					if (mt->from_node && (node == PLAN_NONE || !mt->from_node[node]))
						continue;
					struct check_probe p =
						new_probe(run, ti, CHECK_DEFAULT_MODEL, &pods[i], &mt->to, mt->proto, 0);
					p.client_ip = mt->client_ip;
					/* Under NetworkPolicies: what they say of this pod and
					 * that machine, or of the Service's endpoints. */
					if (w.n_policies && !policy_says(&w, t, &pods[i], mt, &p))
						continue;
					append_probe(run, &p);
				}
		}
	for (size_t k = 0; k < n; k++)
		free(targets[k].from_node);
	free(targets);
}

/* Do the NetworkPolicies let pod FROM ask cluster DNS over UDP, at
 * every endpoint of the kube-dns Service? */
static bool dns_allowed(const struct plan *t, size_t from)
{
	if (!t->n_policies)
		return true;
	struct policy_world w;
	policy_world_of(t, &w);
	for (size_t k = 0; k < t->n_services; k++) {
		const struct plan_service *s = &t->services[k];
		if (s->cluster_ip != t->dns_address)
			continue;
		for (size_t pi = 0; pi < s->n_ports; pi++)
			if (s->ports[pi].protocol == TB_PROTOCOL_UDP)
				return service_policy(&w, from, s, pi) == POLICY_SAYS_ALLOWED;
	}
	return true;
}

/* Cluster DNS, once a namespace: from its first pod whose resolver asks
 * the cluster's DNS first (the kubelet's ClusterFirst resolv.conf; not a
 * hostNetwork or dnsPolicy Default pod's), the kube-dns Service's own
 * name, absolute so that no search list changes it, must resolve. */
static void compile_default_dns(struct check_run *run, struct target_index *ti, const struct plan *t,
				const struct end *pods, size_t n_pods)
{
	if (!t->dns_address || !t->cluster_domain)
		return;
	autofree char *name = xasprintf("%s.%s.svc.%s.", TB_DNS_SERVICE, TB_DNS_NAMESPACE, t->cluster_domain);
	struct end to = {.named = true, .resolve = true, .dns_type = TB_DNS_A};
	autofree const char **done = xcalloc(n_pods + 1, sizeof(*done));
	size_t n_done = 0;
	for (size_t i = 0; i < n_pods; i++) {
		const struct plan_machine *m = &t->machines[pods[i].machine];
		bool seen = !m->namespace;
		for (size_t k = 0; k < n_done && !seen; k++)
			seen = strcmp(done[k], m->namespace) == 0;
		const char *why = NULL;
		const struct dns_resolver *r = seen ? NULL : check_resolver(run, (uint32_t)pods[i].machine, &why);
		if (!r || !r->n_nameservers || r->nameservers[0] != t->dns_address)
			continue;
		if (!dns_allowed(t, pods[i].machine))
			continue; /* the policies keep this pod from cluster DNS: another of its namespace may ask */
		done[n_done++] = m->namespace;
		if (to.machine == 0 && !to.name) {
			to.machine = end_named(run, ti, name);
			to.name = run->end_names[to.machine - run->n_machines];
		}
		struct check_probe p = new_probe(run, ti, CHECK_DEFAULT_MODEL, &pods[i], &to, TB_PROTO_DNS, 0);
		append_probe(run, &p);
	}
}

/* Kubernetes' networking model: every pod reaches every other pod, and
 * sees its real address. Pods running their own command get tcp instead
 * of http, as nobody knows what they answer; pod servers with a UDP port
 * get a udp probe on the first one as well. Then egress and services. */
static void compile_default_model(struct check_run *run, struct target_index *ti, const struct plan *t)
{
	autofree struct end *pods = NULL;
	size_t n = all_pods(t, &pods);
	if (t->n_policies) {
		compile_policy_mesh(run, ti, t, pods, n);
		compile_default_services(run, ti, t, pods, n);
		compile_default_dns(run, ti, t, pods, n);
		return;
	}
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
	compile_default_services(run, ti, t, pods, n);
	compile_default_dns(run, ti, t, pods, n);
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
	p.expect_failure = x->expect_pass ? TB_FAILURE_ANY : x->failure;
	p.expect_status = (uint16_t)x->status;
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
	bool named = str_has_prefix(x->to, "service:") || str_has_prefix(x->to, "nodeport:") ||
		     str_has_prefix(x->to, "ip:") || str_has_prefix(x->to, "ingress:") || expect_resolves(x);
	if (!expand_target(t, d, i, "from", x->from, x->from_line ? x->from_line : x->line, &froms, &n_from,
			   &from_says))
		return false;
	if (named) {
		to_says = END_NAMED;
		n_to = 1;
		tos = xcalloc(1, sizeof(*tos));
		if (!resolve_named_target(t, c, d, i, tos))
			return false;
	} else if (!expand_target(t, d, i, "to", x->to, x->to_line ? x->to_line : x->line, &tos, &n_to, &to_says)) {
		return false;
	}
	if (!compile_rule(t, c->run, d, i))
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
	/* An ingress is reached from outside the cluster at another address. */
	struct end outside = {0};
	bool has_outside = false;
	for (size_t a = 0; named && str_has_prefix(x->to, "ingress:") && a < n_from && !has_outside; a++)
		if (outside_cluster(&t->machines[froms[a].machine])) {
			autofree char *path = xasprintf("expect[%zu].to", i);
			outside = (struct end){.named = true, .name = x->to, .machine = tos[0].machine};
			if (!resolve_ingress(t, c->run, d, i, path, x->to_line ? x->to_line : x->line, true, &outside))
				return false;
			has_outside = true;
		}
	/* Where either end is a set of pods, a pod is not its own peer. */
	bool sets = from_says != END_NAMED || to_says != END_NAMED;
	for (size_t a = 0; added && a < n_from; a++)
		for (size_t b = 0; added && b < n_to; b++) {
			const struct end *to =
				has_outside && outside_cluster(&t->machines[froms[a].machine]) ? &outside : &tos[b];
			if (!(sets && !to->named && froms[a].machine == to->machine))
				added = add_expected(c, t, d, i, &froms[a], to, specificity);
		}
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
	grow_array((void **)&c.targets.head, &c.targets.cap_head, t->n_machines + 1, sizeof(*c.targets.head));
	memset(c.targets.head, 0, c.targets.cap_head * sizeof(*c.targets.head));
	find_machine_addresses(t, run);
	run->rules = xcalloc(t->n_expects + 1, sizeof(*run->rules));
	run->n_rules = t->n_expects;
	bool ok = true;
	if (!t->has_expect)
		compile_default_model(run, &c.targets, t);
	for (size_t i = 0; i < t->n_expects; i++)
		ok &= compile_expectation(&c, t, d, i);
	run->compiled_targets = run->n_targets;
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

void check_policy_notes(struct check_run *run)
{
	const struct plan *t = run->plan;
	if (!t || !t->n_policies)
		return;
	struct policy_world w;
	policy_world_of(t, &w);
	for (size_t i = 0; i < run->n_probes; i++) {
		const struct check_probe *p = &run->probes[i];
		const struct check_target *to = check_target_of(run, p);
		if (check_probe_ok(p) || to->end >= run->n_machines || to->proto == TB_PROTO_PING ||
		    to->proto == TB_PROTO_DNS)
			continue;
		struct policy_verdict v;
		policy_eval(&w, (struct policy_end){.machine = p->from}, (struct policy_end){.machine = to->end}, to->port,
			    to->proto == TB_PROTO_UDP ? TB_PROTOCOL_UDP : TB_PROTOCOL_TCP, &v);
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		if (f) {
			fprintf(f, "NetworkPolicies: %s\n", v.allowed ? "allowed" : "denied");
			policy_verdict_explain(f, &w, &v, "  ");
			fclose(f);
			/* Beside what verbose put there already. */
			const struct check_detail *d = p->detail ? &run->details[p->detail - 1] : NULL;
			if (d && d->path_note) {
				char *both = xasprintf("%s\n%s", d->path_note, text);
				free(text);
				text = both;
			}
			size_t n = strlen(text);
			if (n && text[n - 1] == '\n')
				text[n - 1] = 0;
			check_probe_set_path_note(run, i, text);
		}
		policy_verdict_free(&v);
	}
}
