/* A name resolved once (resolve.h): a run of one dns probe. */
#define _GNU_SOURCE
#include "check/resolve.h"

#include <string.h>

#include "check/check.h"
#include "check/probe.h"
#include "util/ipv4.h"

int check_resolve(const struct plan *p, const int *netns, size_t from, const char *name, int timeout_ms,
		  struct check_resolved *out, char **why, struct tb_err *e)
{
	*out = (struct check_resolved){0};
	*why = NULL;
	struct check_run run = {.lab = p->lab, .plan = p, .machines = p->machines, .n_machines = p->n_machines};
	run.end_names = xcalloc(1, sizeof(*run.end_names));
	run.end_names[0] = xstrdup(name);
	run.n_end_names = run.cap_end_names = 1;
	run.targets = xcalloc(1, sizeof(*run.targets));
	run.targets[0] = (struct check_target){
		.end = (uint32_t)p->n_machines, .proto = TB_PROTO_DNS, .resolve = 1, .dns_type = TB_DNS_A};
	run.n_targets = run.cap_targets = run.compiled_targets = 1;
	run.probes = xcalloc(1, sizeof(*run.probes));
	run.probes[0] = (struct check_probe){.from = (uint32_t)from, .to = 0, .expect = CHECK_DEFAULT_MODEL, .expect_pass = 1};
	run.n_probes = run.cap_probes = 1;
	struct probe_options o = {.timeout_ms = timeout_ms, .retries = 0, .max_in_flight = 1};
	int rc = probe_run(&run, netns, &o, NULL, e);
	if (rc == 0) {
		struct check_view v;
		check_view(&run, 0, &v);
		uint32_t a = 0;
		if (run.probes[0].outcome == PROBE_PASS && v.n_dns_answer && ipv4_addr_parse(v.dns_answer[0], &a)) {
			out->address = a;
			char *records = xstrdup("");
			for (size_t k = 0; k < v.n_dns_answer; k++) {
				char *more = xasprintf("%s%s%s", records, k ? ", " : "", v.dns_answer[k]);
				free(records);
				records = more;
			}
			autofree char *text = xasprintf("%s: %s", v.dns_name, records);
			free(records);
			out->text = str_escape(text);
		} else {
			autofree char *error = str_escape(*v.error ? v.error : "no address");
			*why = xstrdup(error);
			rc = 1;
		}
	}
	check_run_free(&run);
	return rc;
}

void check_resolved_free(struct check_resolved *r)
{
	free(r->text);
	r->text = NULL;
}
