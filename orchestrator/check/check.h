/* Checks: a lab's expectations compiled into probes, run, and judged.
 *
 * check_compile() turns a plan's `expect` list (or, without one, the
 * Kubernetes networking model: every pod reaches every other pod over http
 * and ping, with its own source address, and over udp where it serves a
 * UDP port) into a flat list of probes, one per (from, to, proto, port),
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

/* Where probes go: an address, a port and protocol, and the machines whose
 * answer passes an http or udp probe there. A machine's own address and port
 * today: one answerer, itself; a Service's address and its endpoints, or
 * the pods a selector picks, fit the same table. */
struct check_target {
	uint32_t machine;     /* the plan machine it names in reports (run->machines) */
	uint32_t address;     /* 0: that machine has none */
	uint16_t port;        /* 0 for ping */
	uint8_t proto;        /* enum tb_proto */
	uint32_t answerers;   /* index into run->answerers... */
	uint32_t n_answerers; /* ...of this many plan machines */
};

/* One probe, compact: a full mesh of 1000 pods is 2 million of them, so a
 * probe names its source by plan machine index and its target by index in
 * the run's table, and keeps what every probe has in fixed fields; texts
 * only some have (errors, an unexpected answerer, path notes) live in
 * run->details. */
struct check_probe {
	uint32_t from;        /* plan machine (run->machines) */
	uint32_t to;          /* target (run->targets) */
	uint32_t expect;      /* index into plan.expects; CHECK_DEFAULT_MODEL */
	uint32_t detail;      /* 1 + index into run->details; 0: none */
	uint32_t latency_us;  /* from the first packet to the verdict */
	uint32_t client_addr; /* http or udp + client_ip: what the server said it saw, as address... */
	uint16_t client_port; /* ...and port (has_client) */
	uint8_t attempts;
	unsigned outcome : 2;     /* enum probe_outcome */
	unsigned expect_pass : 1; /* "result": "pass" */
	unsigned client_ip : 2;   /* enum tb_client_ip: what the server must see */
	unsigned has_client : 1;  /* client_addr/port hold what /clientip said */
};

/* The texts of a probe that has any; each NULL when absent (malloc'd). */
struct check_detail {
	char *error;       /* why it failed: "connection refused", ... */
	char *answered_by; /* http, udp: the name answered, when it is not the target's */
	char *client;      /* http, udp: the client the server saw, when it is not ADDRESS:PORT */
	char *path_note;   /* verbose: the neighbour entries its path needs */
};

/* Did the probe find what its expectation says? */
static inline bool check_probe_ok(const struct check_probe *p)
{
	return p->outcome == (p->expect_pass ? PROBE_PASS : PROBE_FAIL);
}

struct check_run {
	const char *lab;
	const struct plan *plan; /* the lab's: its version, images and timings go into reports; may be NULL */
	const struct plan_machine *machines; /* what probes' from and to index: names, addresses */
	size_t n_machines;
	bool default_model; /* no `expect` in the topology: the Kubernetes model */
	struct check_target *targets;
	size_t n_targets, cap_targets;
	uint32_t *answerers; /* plan machines, in runs the targets index */
	size_t n_answerers, cap_answerers;
	struct check_probe *probes;
	size_t n_probes, cap_probes;
	struct check_detail *details;
	size_t n_details, cap_details;
	double duration_ms; /* the whole run */
	int timeout_ms;     /* per probe */
};

/* A probe as reports show it: names and texts resolved. Pointers are into
 * the run (or V itself) and stay valid until the run changes. */
struct check_view {
	const struct check_probe *p;
	const struct check_target *target;
	const char *from_name, *to_name;
	uint32_t from_address, to_address; /* 0: none */
	const char *error, *answered_by, *client; /* "" when absent */
	const char *path_note;                    /* NULL when absent */
	double latency_ms;
	char client_text[24];
};

void check_view(const struct check_run *run, size_t i, struct check_view *v);

static inline const struct check_target *check_target_of(const struct check_run *run, const struct check_probe *p)
{
	return &run->targets[p->to];
}
/* Does an http or udp answer from the machine called NAME pass a probe to T? */
bool check_target_answered_by(const struct check_run *run, const struct check_target *t, const char *name);

/* Results, as the probe engine records them. set_error, set_answer and
 * set_client keep a copy of TEXT (truncated like before: CHECK_ERROR_MAX,
 * CHECK_NAME_MAX, 32 bytes, between characters); set_answer keeps nothing
 * when TEXT is the target's own name, set_client nothing more than two
 * numbers when TEXT is ADDRESS:PORT. clear_results forgets all but the path
 * note (a new attempt). */
void check_probe_clear_results(struct check_run *run, size_t i);
void check_probe_set_error(struct check_run *run, size_t i, const char *text);
void check_probe_set_answer(struct check_run *run, size_t i, const char *text);
void check_probe_set_client(struct check_run *run, size_t i, const char *text);
void check_probe_set_path_note(struct check_run *run, size_t i, char *note); /* takes NOTE */

/* Expands P's expectations into RUN's probes between P's machines.
 * Reports contradictions through D (at the expectations' lines) and
 * returns false. */
bool check_compile(const struct plan *p, struct check_run *run, struct diag *d);
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

/* "pod-a -> pod-c http:8000 (client IP preserved)", "pod-a -> pod-c ping" (malloc'd). */
char *check_probe_label(const struct check_run *run, const struct check_probe *p);

#endif
