/* Checks: a lab's expectations compiled into probes, run, and judged.
 *
 * check_compile() turns a plan's `expect` list (or, without one, the
 * Kubernetes networking model: every pod reaches every other pod over http
 * and ping, with its own source address) into a flat list of probes, one
 * per (from, to, proto, port), between the plan's machines. It is pure, so
 * it is unit-tested, and `validate` runs it too. probe_run() (probe.c) fills
 * in the results from inside the lab's namespaces; report.c writes them out.
 *
 * "*" expands to every pod (a pod is not its own peer there). When several
 * expectations cover one probe, the more specific wins: naming both ends
 * beats naming one, which beats "*" on both. Equally specific ones that
 * disagree are an error. */
#ifndef TESTBED_CHECK_H
#define TESTBED_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan.h"
#include "topology.h"
#include "util.h"

struct diag;

#define CHECK_NAME_MAX 64  /* a DNS label and its NUL */
#define CHECK_ERROR_MAX 160

/* What a probe found. */
enum probe_outcome {
	PROBE_NOT_RUN,  /* not (yet) run */
	PROBE_PASS,     /* connected / answered by the right target / echo reply */
	PROBE_FAIL,     /* ran and did not pass: error says why */
};

struct check_probe {
	size_t expect;   /* index into plan.expects; SIZE_MAX: the default model */
	size_t from, to; /* plan machines */
	const char *from_name, *to_name;
	enum tb_proto proto;
	uint16_t port;              /* 0 for ping */
	bool expect_pass;           /* "result": "pass" */
	enum tb_client_ip client_ip; /* http: what the server must see as the client */
	uint32_t from_address;      /* the source's own address, for client_ip; 0: none */
	uint32_t to_address;        /* 0: the target has no address */

	/* Filled in by probe_run(). */
	enum probe_outcome outcome;
	double latency_ms;             /* from the first packet to the verdict */
	int attempts;
	char answered_by[CHECK_NAME_MAX]; /* http: the name in the /hostname body */
	char client[32];                  /* http + client_ip: what /clientip said */
	char error[CHECK_ERROR_MAX];      /* why it failed: "connection refused", ... */
	char *path_note; /* verbose: the neighbour entries its path needs (malloc'd; may be NULL) */
};

/* Did the probe find what its expectation says? */
static inline bool check_probe_ok(const struct check_probe *p)
{
	return p->outcome == (p->expect_pass ? PROBE_PASS : PROBE_FAIL);
}

struct check_run {
	const char *lab;
	const struct plan *plan; /* the lab's: its version, images and timings go into reports */
	bool default_model; /* no `expect` in the topology: the Kubernetes model */
	struct check_probe *probes;
	size_t n_probes;
	double duration_ms; /* the whole run */
	int timeout_ms;     /* per probe */
};

/* Expands P's expectations into RUN's probes between P's machines.
 * Reports contradictions through D (at the expectations' lines) and
 * returns false. */
bool check_compile(const struct plan *p, struct check_run *run, struct diag *d);
void check_run_free(struct check_run *run);
/* Part of validating a topology: do its expectations contradict each other? */
bool check_validate(const struct plan *p, struct diag *d);

size_t check_count_ok(const struct check_run *run);

/* "pod-a -> pod-c http:8000 (client IP preserved)", "pod-a -> pod-c ping" (malloc'd). */
char *check_probe_label(const struct check_probe *p);

#endif
