/* The NetworkPolicy evaluator (check/policy_eval.c) against upstream
 * Kubernetes' e2e cases (tests/netpol-upstream/, one folder per ginkgo.It
 * of test/e2e/network/netpol/network_policy.go), without a kernel. Each
 * case's steps edit the lab tests/labs/netpol-upstream's objects as
 * `testbed apply` and `delete` do (model/k8s_apply.c), the result is
 * compiled as the lab's topology, and every probe of the step's
 * expectations (upstream's Reachability written by hand, through each
 * pod's Service) must get the evaluator's verdict at the Service's
 * endpoint, after DNAT, as the expectation says. tests/bats/
 * netpol-upstream.bats asks the same of the kernel's rules. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "check/check.h"
#include "check/policy_eval.h"
#include "cli/compile.h"
#include "harness.h"
#include "model/compile.h"
#include "model/docwalk.h"
#include "model/expect.h"
#include "model/jsondoc.h"
#include "model/k8s_apply.h"
#include "model/yamldoc.h"
#include "plan/plan.h"
#include "util/diag.h"
#include "util/util.h"

#define LAB_DIR "../labs/netpol-upstream"
#define CASES_DIR "../netpol-upstream"

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The case folders, sorted; *N of them. */
static char **case_dirs(size_t *n)
{
	*n = 0;
	DIR *dir = opendir(CASES_DIR);
	if (!dir)
		return NULL;
	char **names = NULL;
	size_t cap = 0;
	for (struct dirent *e; (e = readdir(dir));) {
		if (e->d_name[0] == '.' || e->d_type != DT_DIR)
			continue;
		if (*n == cap)
			names = xrealloc(names, (cap = cap ? 2 * cap : 64) * sizeof(*names));
		names[(*n)++] = xstrdup(e->d_name);
	}
	closedir(dir);
	qsort(names, *n, sizeof(*names), by_name);
	return names;
}

static void print_diag(const char *what, struct diag *d)
{
	for (size_t i = 0; i < d->count; i++)
		fprintf(stderr, "  %s: %s\n", what, d->messages[i]);
}

/* FILE applied (or deleted) to OBJECTS; false (the reasons printed) when refused. */
static bool edit(cJSON *objects, cJSON *where, const char *file, bool delete)
{
	struct diag d;
	diag_init(&d, file);
	struct json_doc *in = json_doc_load_manifest(file, &d);
	bool ok = false;
	if (in) {
		struct docwalk w = {.doc = in, .d = &d, .columns = true};
		ok = k8s_set_edit(objects, where, &w, delete);
		json_doc_free(in);
	}
	print_diag(file, &d);
	diag_free(&d);
	return ok;
}

/* SOURCE (the lab's topology with its objects) compiled into P. */
static bool compile(const cJSON *source, struct plan *p)
{
	struct diag d;
	diag_init(&d, "lab.json");
	char *text = cJSON_PrintUnformatted(source);
	struct json_doc *doc = json_doc_parse("lab.json", text, &d);
	cJSON_free(text);
	bool ok = doc && compile_topology_doc(doc, LAB_DIR, LAB_DIR "/lab.json", p, &d) == 0;
	print_diag("compile", &d);
	diag_free(&d);
	return ok;
}

/* What the evaluator says of probe PR: at a pod, that pod; through a
 * Service, its endpoints after DNAT (1 all allowed, 0 all denied, -1 some
 * of each or none). */
static int evaluate(const struct plan *p, const struct check_run *run, const struct check_probe *pr)
{
	struct policy_world w;
	policy_world_of(p, &w);
	const struct check_target *t = check_target_of(run, pr);
	enum tb_protocol protocol = t->proto == TB_PROTO_UDP ? TB_PROTOCOL_UDP : TB_PROTOCOL_TCP;
	if (t->end < run->n_machines) {
		struct policy_verdict v;
		policy_eval(&w, (struct policy_end){.machine = pr->from}, (struct policy_end){.machine = t->end}, t->port,
			    protocol, &v);
		int allowed = v.allowed;
		policy_verdict_free(&v);
		return allowed;
	}
	size_t allowed = 0, denied = 0;
	for (size_t k = 0; k < p->n_services; k++) {
		const struct plan_service *s = &p->services[k];
		for (size_t pi = 0; pi < s->n_ports; pi++) {
			if (s->cluster_ip != t->address || s->ports[pi].port != t->port || s->ports[pi].protocol != protocol)
				continue;
			for (size_t e = 0; e < s->n_endpoints; e++) {
				const struct plan_endpoint *ep = &s->endpoints[e];
				if (!ep->ready || !ep->ports[pi])
					continue;
				struct policy_verdict v;
				policy_eval(&w, (struct policy_end){.machine = pr->from}, (struct policy_end){.machine = ep->machine},
					    ep->ports[pi], protocol, &v);
				allowed += v.allowed;
				denied += !v.allowed;
				policy_verdict_free(&v);
			}
		}
	}
	return allowed && !denied ? 1 : denied && !allowed ? 0 : -1;
}

/* The probes of EXPECT_FILE against P: how many, and how many the
 * evaluator judges otherwise (each named). */
static void judge(const char *name, int step, const struct plan *p0, const char *expect_file, size_t *n_probes,
		  size_t *wrong)
{
	struct diag d;
	diag_init(&d, expect_file);
	struct tb_expect *expects = NULL;
	size_t n = 0;
	struct plan *p = (struct plan *)p0;
	if (!expect_load_file(expect_file, &d, &expects, &n)) {
		print_diag(expect_file, &d);
		diag_free(&d);
		harness_fail(__FILE__, __LINE__, "%s step %d: %s does not load", name, step, expect_file);
		return;
	}
	plan_set_expects(p, expects, n);
	expect_free(expects, n);
	struct check_run run;
	if (!check_compile(p, &run, &d)) {
		print_diag(expect_file, &d);
		diag_free(&d);
		harness_fail(__FILE__, __LINE__, "%s step %d: %s does not compile against the lab", name, step,
			     expect_file);
		return;
	}
	for (size_t i = 0; i < run.n_probes; i++) {
		const struct check_probe *pr = &run.probes[i];
		const struct check_target *t = check_target_of(&run, pr);
		int got = evaluate(p, &run, pr);
		(*n_probes)++;
		if (got != (int)pr->expect_pass) {
			(*wrong)++;
			harness_fail(__FILE__, __LINE__, "%s step %d: %s -> %s %s:%u: evaluator %s, upstream %s", name, step,
				     run.machines[pr->from].name, check_end_name(&run, t->end), tb_proto_name(t->proto),
				     t->port, got < 0 ? "mixed" : got ? "allows" : "denies",
				     pr->expect_pass ? "allows" : "denies");
		}
	}
	check_run_free(&run);
	diag_free(&d);
}

TEST(netpol_upstream_cases_hold_in_the_evaluator)
{
	size_t n_cases = 0, n_probes = 0, wrong = 0, steps = 0;
	char **cases = case_dirs(&n_cases);
	/* Every ginkgo.It upstream's TCP and UDP contexts have. */
	CHECK(n_cases >= 45);
	for (size_t c = 0; c < n_cases; c++) {
		struct diag d;
		diag_init(&d, LAB_DIR "/lab.json");
		cJSON *where = NULL;
		cJSON *source = compile_source_doc(LAB_DIR "/lab.json", &where, &d);
		print_diag("lab", &d);
		diag_free(&d);
		CHECK(source != NULL);
		if (!source) {
			cJSON_Delete(where);
			break;
		}
		cJSON *objects = cJSON_GetObjectItemCaseSensitive(source, "objects");
		int step = 1;
		for (;; step++) {
			autofree char *apply = xasprintf("%s/%s/%d.apply.yaml", CASES_DIR, cases[c], step);
			autofree char *del = xasprintf("%s/%s/%d.delete.yaml", CASES_DIR, cases[c], step);
			autofree char *expect = xasprintf("%s/%s/%d.expect.json", CASES_DIR, cases[c], step);
			bool is_delete = access(del, F_OK) == 0;
			if (!is_delete && access(apply, F_OK) != 0)
				break;
			if (!edit(objects, where, is_delete ? del : apply, is_delete)) {
				harness_fail(__FILE__, __LINE__, "%s step %d: refused", cases[c], step);
				break;
			}
			struct plan p = {0};
			if (!compile(source, &p)) {
				harness_fail(__FILE__, __LINE__, "%s step %d: the lab does not compile", cases[c], step);
				plan_free(&p);
				break;
			}
			judge(cases[c], step, &p, expect, &n_probes, &wrong);
			plan_free(&p);
			steps++;
		}
		if (step == 1)
			harness_fail(__FILE__, __LINE__, "%s: no steps", cases[c]);
		cJSON_Delete(source);
		cJSON_Delete(where);
		free(cases[c]);
	}
	free(cases);
	/* Not vacuous: both verdicts are asked, many times. */
	CHECK(steps >= n_cases && n_probes > 1000);
	if (wrong)
		fprintf(stderr, "  netpol-upstream: %zu of %zu probes judged otherwise\n", wrong, n_probes);
}
