/* Checks: a lab's expectations compiled into probes, run, and judged.
 *
 * check_compile() turns a plan's `expect` list (or, without one, the
 * Kubernetes networking model: every pod reaches every other pod over http
 * and ping, with its own source address, and over udp where it serves a
 * UDP port, then egress, Services and, once a namespace, cluster DNS)
 * into a flat list of probes, one per (from, to, proto, port),
 * between the plan's machines. It is pure, so
 * it is unit-tested, and `validate` runs it too. probe_run() (probe.c) fills
 * in the results from inside the lab's namespaces; report.c writes them out.
 *
 * "*" expands to every pod, a selector to the pods it matches (a pod is
 * not its own peer there), a name to the machine it means (model/names.h).
 * When several expectations cover one probe, the more specific wins: each
 * end counts, a name 2, a selector 1, "*" nothing. Equally specific ones
 * that disagree are an error. */
#ifndef TESTBED_CHECK_H
#define TESTBED_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check/dns.h"
#include "plan/plan.h"
#include "model/topology.h"
#include "util/util.h"

struct diag;

#define CHECK_NAME_MAX 64  /* a DNS label and its NUL */
#define CHECK_ERROR_MAX 160
#define CHECK_DEFAULT_MODEL UINT32_MAX /* a probe's expect: none, the Kubernetes model */

/* What a probe found. */
enum probe_outcome {
	PROBE_NOT_RUN,  /* not (yet) run */
	PROBE_PASS,     /* connected / answered by the right target / echo reply */
	PROBE_FAIL,     /* ran and did not pass: error says why */
};

/* How a probe that did not pass failed (enum tb_failure's first three,
 * and the rest). */
enum check_failure {
	CHECK_FAILED_NOT = 0,                    /* it did not fail */
	CHECK_FAILED_REFUSED = TB_FAILURE_REFUSED, /* a reset or an ICMP error came back at once */
	CHECK_FAILED_TIMEOUT = TB_FAILURE_TIMEOUT, /* nothing came back (or the source's own rules dropped it) */
	CHECK_FAILED_NXDOMAIN = TB_FAILURE_NXDOMAIN, /* the name resolved to no address */
	CHECK_FAILED_SERVFAIL = TB_FAILURE_SERVFAIL, /* the nameserver could not answer */
	CHECK_FAILED_ERROR,                      /* an answer came, not the one expected */
};

/* Where probes go: an address, a port and protocol, and the machines whose
 * answer passes an http or udp probe there: a machine's own address and
 * port (itself, or the pods serving a node's host port), a Service's
 * address and port (its endpoints), a NodePort, any address. */
struct check_target {
	uint32_t end;         /* what reports name: a plan machine, or a target as written (check_end_name) */
	uint32_t address;     /* 0: that machine has none, or a name not resolved yet */
	uint16_t port;        /* 0 for ping and dns */
	uint8_t proto;        /* enum tb_proto */
	uint8_t resolve;      /* the end is a DNS name the probing machine resolves first (check_target_name) */
	uint8_t dns_type;     /* proto dns: enum tb_dns_type */
	uint32_t name_of;     /* what a name resolved to: 1 + the name's target; 0: none */
	uint32_t answerers;   /* index into run->answerers... */
	uint32_t n_answerers; /* ...of this many plan machines */
	uint32_t request;     /* http: 1 + index into run->http_requests (ingress: a Host and path); 0: GET /hostname */
};

/* What an http probe to an ingress: target asks: its Host header and path. */
struct check_http_request {
	char *host, *path;
};

/* One probe, compact: a full mesh of 1000 pods is 2 million of them, so a
 * probe names its source by plan machine index and its target by index in
 * the run's table, and keeps what every probe has in fixed fields; texts
 * only some have (errors, an unexpected answerer, path notes) live in
 * run->details, and what an expectation asks beyond pass or fail in
 * run->rules. */
struct check_probe {
	uint32_t from;        /* plan machine (run->machines) */
	uint32_t to;          /* target (run->targets) */
	uint32_t expect;      /* index into plan.expects and run->rules; CHECK_DEFAULT_MODEL */
	uint32_t detail;      /* 1 + index into run->details; 0: none */
	uint32_t latency_us;  /* from the first packet to the verdict */
	uint32_t client_addr; /* http or udp + client_ip: what the server said it saw, as address... */
	uint16_t client_port; /* ...and port (has_client) */
	uint8_t attempts;
	unsigned outcome : 2;        /* enum probe_outcome */
	unsigned expect_pass : 1;    /* "result": "pass" */
	unsigned client_ip : 3;      /* enum tb_client_ip: what the server must see */
	unsigned has_client : 1;     /* client_addr/port hold what /clientip said */
	unsigned expect_failure : 3; /* enum tb_failure: how it must fail (expect_pass 0) */
	unsigned failed : 3;         /* enum check_failure: how it failed */
	unsigned expect_status : 10; /* http: the status the answer must have ("status"); 0: 200 */
	unsigned status : 10;        /* http: the status the last answer had; 0: none */
};

/* Answers per answerer, for probes repeated ("requests"). */
struct check_count {
	char *name; /* as the server answered (cut like an answer) */
	uint32_t n;
};
/* Past this many answerers, the rest count together under CHECK_OTHERS. */
#define CHECK_COUNTS_MAX 64
#define CHECK_OTHERS "(others)"

/* The texts of a probe that has any; each NULL when absent (malloc'd). */
struct check_detail {
	char *error;       /* why it failed: "connection refused", ... */
	char *answered_by; /* http, udp: the name answered, when it is not the target's */
	char *client;      /* http, udp: the client the server saw, when it is not ADDRESS:PORT */
	char *path_note;   /* verbose: the neighbour entries its path needs */
	struct check_count *counts; /* requests: who answered how often, in the order first seen */
	size_t n_counts;
	uint32_t requests; /* requests made (the last one included) */
	char *dns_name;    /* a name resolved: the name the answer is for (after the search list and CNAMEs) */
	char **dns_answer; /* ...and what it holds: addresses, or SRV TARGET:PORT (NULL-terminated) */
	size_t n_dns_answer;
};

/* What an expectation asks beyond pass or fail, found in the lab: how
 * often, who must answer, what the server must see. One per expectation. */
struct check_rule {
	uint32_t requests;       /* the probe is made this many times (1 unless "requests") */
	bool count;              /* "requests" given: answers are counted per answerer */
	bool every_answerer;     /* with answeredBy: each must answer at least once */
	bool has_answerers;      /* answeredBy: these, not the target's, may answer */
	uint32_t answerers, n_answerers; /* into run->answerers */
	uint32_t clients, n_clients;     /* TB_CLIENT_IP_NAMED: what the server may see, into run->addresses */
	char *client_text;       /* the clientIP as written (NAMED), for reports */
	bool has_answers;        /* dns: the answer must hold exactly... */
	uint32_t answers, n_answers; /* ...these addresses (type A), into run->addresses... */
	char **records;          /* ...or these SRV TARGET:PORT, lower case (NULL-terminated) */
	size_t n_records;
};

/* Did the probe find what its expectation says? A failure expected to be
 * refused, or to time out, must have failed that way. */
static inline bool check_probe_ok(const struct check_probe *p)
{
	if (p->outcome != (p->expect_pass ? PROBE_PASS : PROBE_FAIL))
		return false;
	if (p->expect_status && p->expect_status != 200)
		return p->status == p->expect_status;
	return p->expect_pass || !p->expect_failure || p->failed == p->expect_failure;
}

/* A machine's addresses: run->addresses[first..first+n). */
struct check_span {
	uint32_t first, n;
};

struct check_run {
	const char *lab;
	const struct plan *plan; /* the lab's: its version, images and timings go into reports; may be NULL */
	const struct plan_machine *machines; /* what probes' from and to index: names, addresses */
	size_t n_machines;
	bool default_model; /* no `expect` in the topology: the Kubernetes model */
	/* Targets that are no machine, as written ("service:default/web",
	 * "nodeport:node1:30080"): end n_machines + k is end_names[k]. */
	char **end_names;
	size_t n_end_names, cap_end_names;
	struct check_target *targets;
	size_t n_targets, cap_targets;
	struct check_http_request *http_requests; /* targets' */
	size_t n_http_requests, cap_http_requests;
	uint32_t *answerers; /* plan machines, in runs the targets index */
	size_t n_answerers, cap_answerers;
	struct check_probe *probes;
	size_t n_probes, cap_probes;
	struct check_detail *details;
	size_t n_details, cap_details;
	struct check_rule *rules; /* per expectation */
	size_t n_rules;
	uint32_t *addresses; /* runs the rules and machine_addresses index */
	size_t n_addresses, cap_addresses;
	struct check_span *machine_addresses; /* per machine: every address its steps give it */
	/* Per machine: its /etc/resolv.conf, read when a probe from it first
	 * resolves a name (check_resolver); NULL until then. */
	struct dns_resolver **resolvers;
	size_t compiled_targets; /* targets past these are names' answers, added as probes resolve them */
	double duration_ms; /* the whole run */
	int timeout_ms;     /* per probe */
};

/* A probe as reports show it: names and texts resolved. Pointers are into
 * the run (or V itself) and stay valid until the run changes. */
struct check_view {
	const struct check_probe *p;
	const struct check_target *target;
	const struct check_rule *rule; /* NULL: the default model's */
	const char *from_name, *to_name;
	uint32_t from_address, to_address; /* 0: none */
	const char *error, *answered_by, *client; /* "" when absent */
	const char *path_note;                    /* NULL when absent */
	const char *dns_name;                     /* a name resolved: the name answered; NULL when none */
	char *const *dns_answer;                  /* ...and its records */
	size_t n_dns_answer;
	const struct check_count *counts;         /* requests: answers per answerer */
	size_t n_counts;
	uint32_t requests;   /* asked (1 unless "requests") */
	uint32_t requests_made;
	const char *client_ip; /* the expectation's clientIP as reports show it; NULL: not checked */
	double latency_ms;
	char client_text[24];
	char client_ip_text[80];
};

void check_view(const struct check_run *run, size_t i, struct check_view *v);

static inline const struct check_target *check_target_of(const struct check_run *run, const struct check_probe *p)
{
	return &run->targets[p->to];
}
/* The expectation's rule of P; NULL for the default model's probes. */
static inline const struct check_rule *check_rule_of(const struct check_run *run, const struct check_probe *p)
{
	return p->expect == CHECK_DEFAULT_MODEL || p->expect >= run->n_rules ? NULL : &run->rules[p->expect];
}
/* What end E is called: a machine's name or a target as written. */
const char *check_end_name(const struct check_run *run, uint32_t end);
/* The DNS name target T resolves: its end as written, without "dns:". */
const char *check_target_name(const struct check_run *run, const struct check_target *t);
/* MACHINE's resolver, its /etc/resolv.conf as the plan writes it (read on
 * first use); NULL with *WHY (static) when it has none. */
const struct dns_resolver *check_resolver(struct check_run *run, uint32_t machine, const char **why);
/* The target name target NAME resolved to ADDRESS is: its port and
 * protocol at that address, answered by what the lab has there (a
 * Service's endpoints, a pod); added on first use. */
uint32_t check_target_resolved(struct check_run *run, uint32_t name, uint32_t address);
/* Records the answer probe I's name got (A: the addresses, SRV: its records). */
void check_probe_set_dns(struct check_run *run, size_t i, const struct dns_answer *a);
/* Whether a dns probe's answer A is what its expectation says (any
 * record, or exactly its addresses or records); false with *WHY
 * (malloc'd) when not. */
bool check_probe_dns_ok(const struct check_run *run, size_t i, const struct dns_answer *a, char **why);
/* Does an http or udp answer from the machine called NAME pass a probe to T? */
bool check_target_answered_by(const struct check_run *run, const struct check_target *t, const char *name);
/* Does it pass probe I: one of its expectation's answeredBy, or of its target's? */
bool check_probe_answered_by(const struct check_run *run, size_t i, const char *name);

/* Which endpoints of Service S's port PI kube-proxy may pick for a
 * connection to its cluster IP from machine SRC of plan P (its
 * CategorizeEndpoints): the ready ones, or, when none is, the serving and
 * terminating ones; under internalTrafficPolicy Local only those on SRC's
 * node. Sets USABLE[e] for each of S's endpoints; returns how many. */
size_t check_service_endpoints(const struct plan *p, const struct plan_service *s, size_t pi, size_t src,
			       bool *usable);
/* Whether the client address ADDR the server saw is what probe I's
 * clientIP asks, for the addresses it names (NAMED, SOURCE_NODE); OWN is
 * the address the connection left with. */
bool check_probe_client_ok(const struct check_run *run, size_t i, uint32_t addr, uint32_t own);
/* What probe I's clientIP allows, for messages: "node1's addresses
 * (10.10.0.2, 10.0.1.1)", "203.0.113.2" (malloc'd). */
char *check_probe_client_wanted(const struct check_run *run, size_t i);

/* Results, as the probe engine records them. set_error, set_answer and
 * set_client keep a copy of TEXT (truncated like before: CHECK_ERROR_MAX,
 * CHECK_NAME_MAX, 32 bytes, between characters); set_answer keeps nothing
 * when TEXT is the target's own name, set_client nothing more than two
 * numbers when TEXT is ADDRESS:PORT. clear_results forgets all but the path
 * note (a new attempt); next_request forgets the last request's answer,
 * client and error, keeping the counts. */
void check_probe_clear_results(struct check_run *run, size_t i);
void check_probe_next_request(struct check_run *run, size_t i);
void check_probe_set_error(struct check_run *run, size_t i, const char *text);
void check_probe_set_answer(struct check_run *run, size_t i, const char *text);
void check_probe_set_client(struct check_run *run, size_t i, const char *text);
void check_probe_set_path_note(struct check_run *run, size_t i, char *note); /* takes NOTE */
/* Counts an answer of NAME for a probe whose answers are counted. */
void check_probe_count_answer(struct check_run *run, size_t i, const char *name);
/* Counts a request of probe I made (reports say how many of how many). */
void check_probe_request_made(struct check_run *run, size_t i);
/* A probe whose rule wants every answerer of its answeredBy: the first
 * that never answered (malloc'd "web-2"), or NULL when each did. */
char *check_probe_missing_answerer(const struct check_run *run, size_t i);

/* Expands P's expectations into RUN's probes between P's machines.
 * Reports contradictions through D (at the expectations' lines) and
 * returns false. */
bool check_compile(const struct plan *p, struct check_run *run, struct diag *d);
/* After the probes ran, under NetworkPolicies: each failing probe to a
 * machine gets the evaluator's verdict and reasons as its note (the
 * policies and rules involved), so that a disagreeing cell names them. */
void check_policy_notes(struct check_run *run);
void check_run_free(struct check_run *run);
/* Part of validating a topology: do its expectations contradict each other? */
bool check_validate(const struct plan *p, struct diag *d);

size_t check_count_ok(const struct check_run *run);

/* The mesh's schedule, which the probe engine keeps: sources in groups of
 * CHECK_MESH_GROUP, each group probing every target in turn, the whole
 * group one target after the other (targets start at the group's first
 * source). A server then takes a group's connections in one burst, on one
 * wakeup, rather than one connection per wakeup as the sources sweep past
 * it: every wakeup of another process costs its caches and page tables,
 * and on two cores a 300-pod mesh ran 1.6 times as fast. The probes in
 * flight (128 by default) come from at most a group's sources, whose
 * sockets are made in one visit to each namespace, and no server takes
 * more than a group's connections at once. */
#define CHECK_MESH_GROUP 64

/* "pod-a -> pod-c http:8000 (client IP preserved)", "pod-a -> pod-c ping",
 * "pod-a -> service:web http:80 x300" (malloc'd). */
char *check_probe_label(const struct check_run *run, const struct check_probe *p);

#endif
