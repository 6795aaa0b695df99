/* testbed check: expectations in, probes through the lab, reports out. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ctype.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check/check.h"
#include "check/policy_eval.h"
#include "cli/commands.h"
#include "plan/plan.h"
#include "util/diag.h"
#include "lab/live.h"
#include "check/probe.h"
#include "check/report.h"
#include "model/expect.h"
#include "model/jsondoc.h"
#include "model/topology.h"
#include "check/trace.h"
#include "util/outfile.h"
#include "util/util.h"

static volatile int interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

static bool parse_count(const char *s, int min, int max, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*out = (int)v;
	return true;
}

struct check_options {
	enum report_format format;
	struct probe_options probe;
};

static int parse_options(const struct command *cmd, const struct cli_options *o, struct check_options *c)
{
	*c = (struct check_options){.format = REPORT_TEXT,
				    .probe = {.timeout_ms = 1000, .retries = 0, .max_in_flight = 128}};
	if (o->format && !report_format_parse(o->format, &c->format))
		return command_fail(cmd, -1, "--format: \"%s\": expected text, json, junit, tap or markdown", o->format);
	if (o->timeout) {
		char *end;
		errno = 0;
		double v = strtod(o->timeout, &end);
		if (errno || end == o->timeout || *end || !(v >= 0.01 && v <= 600))
			return command_fail(cmd, -1, "--timeout: expected seconds from 0.01 to 600");
		c->probe.timeout_ms = (int)lround(v * 1000);
	}
	if (o->retries && !parse_count(o->retries, 0, 100, &c->probe.retries))
		return command_fail(cmd, -1, "--retries: expected a number from 0 to 100");
	if (o->parallel && !parse_count(o->parallel, 1, 4096, &c->probe.max_in_flight))
		return command_fail(cmd, -1, "--parallel: expected a number from 1 to 4096");
	return 0;
}

/* FILE's expectations may be checked against a running lab only if FILE
 * builds that very lab: equal plans but for the expectations. */
static bool same_lab(const struct command *cmd, const char *arg, const struct plan *given, const struct live_lab *l)
{
	autofree char *mine = plan_shape(given), *theirs = plan_shape(&l->plan);
	if (strcmp(mine, theirs) == 0)
		return true;
	command_fail(cmd, -1,
		     "%s describes a different lab than the running %s (only \"expect\" may change); "
		     "bring it down and up again, or check by name: testbed check %s",
		     arg, l->plan.lab, l->plan.lab);
	return false;
}

static bool use_colour(void)
{
	const char *no_colour = getenv("NO_COLOR");
	return isatty(STDOUT_FILENO) && !(no_colour && *no_colour);
}

struct report_job {
	enum report_format format;
	const struct check_run *run;
	const struct report_style *style;
};

/* Streams the report into FD: a 2-million-probe json report never sits in memory whole. */
static int stream_report(int fd, void *ctx)
{
	const struct report_job *job = ctx;
	int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	FILE *out = copy >= 0 ? fdopen(copy, "w") : NULL;
	if (!out) {
		int err = errno;
		if (copy >= 0)
			close(copy);
		errno = err;
		return -1;
	}
	int rc = report_write(out, job->format, job->run, job->style);
	int err = errno;
	if (fclose(out) != 0 && rc == 0) {
		rc = -1;
		err = errno;
	}
	errno = err;
	return rc;
}

static int write_report_file(const struct command *cmd, const char *path, enum report_format f,
			     const struct check_run *run, const struct report_style *s)
{
	struct report_job job = {.format = f, .run = run, .style = s};
	struct tb_err e;
	int rc = write_output_stream(path, stream_report, &job, &e);
	if (rc < 0)
		command_fail(cmd, -1, "%s", e.msg);
	return rc;
}

/* Runs the probes from the sources' namespaces; fills RUN. */
static int run_probes(const struct command *cmd, struct live_lab *l, struct check_run *run, const struct probe_options *po,
		      bool verbose)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	struct tb_err e;
	/* Datagram probes take source ports in turn (check/probe.c), and the
	 * lab's checks one after another go on with the turn: a probe that
	 * landed on a port an earlier check used to the same target would
	 * ride that check's UDP conntrack entry (30 s) past rules that now
	 * deny it, as right after an apply. */
	autofree char *ports_path = xasprintf("%s/probe-udp-port", l->dir.path);
	autofree char *saved = read_file(ports_path, NULL);
	uint16_t next_port = saved ? (uint16_t)strtoul(saved, NULL, 10) : 0;
	struct probe_options with_port = *po;
	with_port.udp_port_next = &next_port;
	int rc = probe_run(run, l->netns, &with_port, &interrupted, &e);
	if (rc < 0)
		return command_fail(cmd, TB_EXIT_SYSTEM, "%s: %s", run->lab, e.msg);
	char text[8];
	int len = snprintf(text, sizeof(text), "%u\n", next_port);
	if (write_file_atomic(ports_path, text, (size_t)len, &e) < 0)
		return command_fail(cmd, TB_EXIT_SYSTEM, "%s: %s", run->lab, e.msg);
	/* Verbose: what the failing paths need from the neighbour tables. A
	 * Service's, NodePort's or address's path depends on the NAT on the
	 * way, which only `testbed trace` (a connection of its own) shows. */
	if (verbose)
		for (size_t i = 0; i < run->n_probes; i++) {
			const struct check_probe *p = &run->probes[i];
			uint32_t to_address = check_target_of(run, p)->address;
			bool machine = check_target_of(run, p)->end < run->n_machines;
			if (!check_probe_ok(p) && to_address && machine && l->netns[p->from] >= 0)
				check_probe_set_path_note(run, i, trace_neighbour_note(l, p->from, to_address));
		}
	return TB_EXIT_OK;
}

/* P's expectations become FILE's; false after reporting through D why
 * FILE holds none that can be checked. Which machines they name is found
 * when the check compiles them against P, the running lab's machines. */
static bool load_expectations(const char *file, struct plan *p, struct diag *d)
{
	struct tb_expect *expects;
	size_t n;
	if (!expect_load_file(file, d, &expects, &n))
		return false;
	plan_set_expects(p, expects, n);
	expect_free(expects, n);
	return true;
}


/* PORT or PORT/PROTO (TCP, UDP, SCTP, any case); PROTO alone is refused. */
static bool parse_port_proto(const char *s, uint16_t *port, enum tb_protocol *proto)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || v < 1 || v > 65535 || (*end && *end != '/'))
		return false;
	*port = (uint16_t)v;
	*proto = TB_PROTOCOL_TCP;
	if (!*end)
		return true;
	char up[8];
	size_t n = strlen(end + 1);
	if (n == 0 || n >= sizeof up)
		return false;
	for (size_t i = 0; i <= n; i++)
		up[i] = (char)toupper((unsigned char)end[1 + i]);
	return tb_protocol_parse(up, proto);
}

/* Probes FROM -> TO once, as an expectation of VERDICT's outcome; *PASSED
 * is what the probe saw, *WHY (malloc'd) its error when it failed. */
static int explain_probe(const struct command *cmd, struct live_lab *l, const char *from, const char *to,
			 uint16_t port, enum tb_protocol protocol, const struct check_options *c, bool *passed,
			 char **why, char **answered_by)
{
	/* To a Service, TCP as an HTTP request: the pod server's answer names
	 * the endpoint that took it (a datagram's answer does anyway). */
	bool service = str_has_prefix(to, "service:");
	struct tb_expect x = {.from = {.kind = TB_KIND_POD, .name = (char *)from},
			      .proto = protocol == TB_PROTOCOL_UDP ? TB_PROTO_UDP
				       : service		   ? TB_PROTO_HTTP
								   : TB_PROTO_TCP,
			      .expect_pass = true};
	autofree char *target = NULL;
	uint32_t a;
	if (ipv4_addr_parse(to, &a)) {
		target = xasprintf("ip:%s:%u", to, port);
		x.to = (struct tb_target){.kind = TB_KIND_ADDRESS, .name = target};
	} else {
		x.to = (struct tb_target){.kind = service ? TB_KIND_SERVICE : TB_KIND_POD, .name = (char *)to};
		x.port = port;
	}
	plan_set_expects(&l->plan, &x, 1);
	struct check_run run;
	struct diag d;
	diag_init(&d, "--explain");
	if (!check_compile(&l->plan, &run, &d)) {
		diag_print(&d, stderr);
		diag_free(&d);
		check_run_free(&run);
		return TB_EXIT_USAGE;
	}
	diag_free(&d);
	run.lab = l->plan.lab;
	run.plan = &l->plan;
	run.machines = l->plan.machines;
	run.n_machines = l->plan.n_machines;
	int rc = run_probes(cmd, l, &run, &c->probe, false);
	if (rc == TB_EXIT_OK && run.n_probes != 1)
		rc = command_fail(cmd, TB_EXIT_SYSTEM, "%s -> %s: %zu probes, expected one", from, to, run.n_probes);
	if (rc == TB_EXIT_OK) {
		const struct check_probe *p = &run.probes[0];
		*passed = p->outcome == PROBE_PASS;
		const struct check_detail *det = p->detail ? &run.details[p->detail - 1] : NULL;
		*why = xstrdup(det && det->error ? det->error : *passed ? "" : "failed");
		if (answered_by)
			*answered_by = det && det->answered_by ? xstrdup(det->answered_by) : NULL;
	}
	check_run_free(&run);
	return rc;
}

/* check --explain NAME FROM service:[NS/]NAME[:PORT]: the evaluator's
 * verdict for each endpoint kube-proxy may pick (policies judge the
 * connection after its DNAT, at the endpoint pod and its target port),
 * beside one probe of the Service. Where the endpoints' verdicts differ,
 * the probe agrees when the pod that answered is one the policies allow,
 * or when it failed and some endpoint is denied. */
static int explain_service(const struct command *cmd, struct live_lab *l, const char *from, struct policy_end src,
			   const char *to, uint16_t port, bool has_port, const struct check_options *c)
{
	const struct plan *p = &l->plan;
	const char *rest = to + strlen("service:");
	if (has_port && strchr(rest, ':'))
		return command_usage_error(cmd, "--explain: %s names its port already: leave out PORT/PROTO", to);
	autofree char *text = has_port ? xasprintf("%s:%u", to, port) : xstrdup(to);
	struct trace_target tt;
	autofree char *why = NULL;
	if (!trace_target_resolve(p, src.machine, text, &tt, &why))
		return command_fail(cmd, TB_EXIT_USAGE, "TO: %s", why);
	const struct plan_service *s = NULL;
	size_t pi = 0;
	for (size_t k = 0; k < p->n_services && !s; k++) {
		if (p->services[k].cluster_ip != tt.address)
			continue;
		for (size_t i = 0; i < p->services[k].n_ports && !s; i++)
			if (p->services[k].ports[i].port == tt.port) {
				s = &p->services[k];
				pi = i;
			}
	}
	if (!s)
		return command_fail(cmd, TB_EXIT_SYSTEM, "TO: %s: no Service port at %u", to, tt.port);
	enum tb_protocol protocol = s->ports[pi].protocol;
	autofree bool *usable = xcalloc(s->n_endpoints ? s->n_endpoints : 1, sizeof(*usable));
	size_t n_usable = check_service_endpoints(p, s, pi, src.machine, usable);
	printf("%s -> service:%s/%s %u/%s\n", from, s->namespace, s->name, tt.port, tb_protocol_name(protocol));
	struct policy_world w;
	policy_world_of(p, &w);
	size_t n_allowed = 0;
	autofree bool *allowed = xcalloc(s->n_endpoints ? s->n_endpoints : 1, sizeof(*allowed));
	for (size_t e = 0; e < s->n_endpoints; e++) {
		if (!usable[e])
			continue;
		const struct plan_endpoint *ep = &s->endpoints[e];
		struct policy_end dst = {.machine = ep->machine, .address = ep->address};
		struct policy_verdict v;
		policy_eval(&w, src, dst, ep->ports[pi], protocol, &v);
		char addr[16];
		ipv4_addr_format(ep->address, addr);
		printf("endpoint %s (%s:%u): policies: %s\n",
		       ep->machine != PLAN_NONE ? p->machines[ep->machine].name : addr, addr, ep->ports[pi],
		       v.allowed ? "allowed" : "denied");
		policy_verdict_explain(stdout, &w, &v, "  ");
		allowed[e] = v.allowed;
		n_allowed += v.allowed;
		policy_verdict_free(&v);
	}
	if (!n_usable)
		printf("no endpoint kube-proxy may pick: it rejects the connection\n");
	printf("policies: %s\n", !n_usable ? "no endpoint" : n_allowed == n_usable ? "allowed" : !n_allowed ? "denied"
		: "allowed to some endpoints only: the verdict depends on the one kube-proxy picks");
	if (protocol == TB_PROTOCOL_SCTP) {
		printf("probe: none: testbed's probes carry TCP and UDP, not SCTP\n");
		fflush(stdout);
		return command_fail(cmd, TB_EXIT_USAGE, "--explain: %u/SCTP can be explained, not probed", tt.port);
	}
	fflush(stdout);
	autofree char *service = xasprintf("service:%s/%s", s->namespace, s->name);
	autofree char *answered_by = NULL;
	bool passed = false;
	free(why);
	why = NULL;
	int rc = explain_probe(cmd, l, from, service, tt.port, protocol, c, &passed, &why, &answered_by);
	if (rc != TB_EXIT_OK)
		return rc;
	/* Which endpoint answered: its pod's name (the server says it; the
	 * probe leaves it out when it is the one pod the Service leads to). */
	bool answerer_allowed = false;
	const char *answerer = answered_by;
	for (size_t e = 0; e < s->n_endpoints && passed && !answerer && n_usable == 1; e++)
		if (usable[e] && s->endpoints[e].machine != PLAN_NONE)
			answerer = plan_machine_object_name(&p->machines[s->endpoints[e].machine]);
	for (size_t e = 0; e < s->n_endpoints && passed && answerer; e++) {
		const struct plan_endpoint *ep = &s->endpoints[e];
		if (usable[e] && ep->machine != PLAN_NONE &&
		    strcmp(plan_machine_object_name(&p->machines[ep->machine]), answerer) == 0)
			answerer_allowed |= allowed[e];
	}
	if (passed)
		printf("probe: passed (%s%s)\n", answerer ? "answered by " : "answered", answerer ? answerer : "");
	else
		printf("probe: failed: %s\n", why);
	bool agree = passed ? answerer_allowed || (!answerer && n_allowed == n_usable && n_usable)
			    : n_allowed < n_usable || !n_usable;
	printf("%s\n", agree ? "agree" : "DISAGREE: the lab does not do what the policies say");
	return agree ? TB_EXIT_OK : TB_EXIT_EXPECTATIONS;
}

/* check --explain NAME FROM TO [PORT/PROTO]: the evaluator's verdict and
 * its reasons beside what a real probe sees; 0 when they agree. */
static int check_explain(const struct command *cmd, const struct cli_options *o, const struct check_options *c, int n,
			 char **operands)
{
	if (n != 3 && n != 4)
		return command_usage_error(cmd, "--explain: expected NAME FROM TO [PORT/PROTO]");
	if (o->expect || o->output || o->format)
		return command_usage_error(cmd, "--explain takes no --expect, --output or --format");
	const char *name = operands[0], *from = operands[1], *to = operands[2];
	uint16_t port = 0;
	enum tb_protocol protocol = TB_PROTOCOL_TCP;
	if (n == 4 && !parse_port_proto(operands[3], &port, &protocol))
		return command_usage_error(cmd, "--explain: \"%s\": expected PORT or PORT/PROTO (TCP, UDP or SCTP), "
						"PORT 1 to 65535", operands[3]);
	if (!topology_is_lab_name(name))
		return command_usage_error(cmd, "--explain: \"%s\": expected the name of a running lab", name);
	if (geteuid() != 0)
		return command_fail(cmd, TB_EXIT_USAGE, "needs root: it probes from inside the lab's namespaces");
	struct live_lab l;
	struct tb_err e;
	int rc = live_open(name, o->state_dir, true, &l, &e);
	if (rc != TB_EXIT_OK)
		return command_fail(cmd, rc, "%s", e.msg);
	struct policy_end src = {.machine = PLAN_NONE}, dst = {.machine = PLAN_NONE};
	autofree char *why = NULL;
	if (plan_resolve(&l.plan, from, &src.machine, &why) != NAME_FOUND) {
		if (why)
			rc = command_fail(cmd, TB_EXIT_USAGE, "FROM: %s", why);
		else
			rc = command_fail(cmd, TB_EXIT_USAGE, "FROM: no machine \"%s\" in lab %s", from, name);
		goto done;
	}
	free(why);
	why = NULL;
	if (str_has_prefix(to, "service:")) {
		rc = explain_service(cmd, &l, from, src, to, port, n == 4, c);
		goto done;
	}
	if (!ipv4_addr_parse(to, &dst.address) && plan_resolve(&l.plan, to, &dst.machine, &why) != NAME_FOUND) {
		if (why)
			rc = command_fail(cmd, TB_EXIT_USAGE, "TO: %s", why);
		else
			rc = command_fail(cmd, TB_EXIT_USAGE, "TO: no machine \"%s\" in lab %s, nor an IPv4 address", to,
					  name);
		goto done;
	}
	if (!port) {
		int http = dst.machine != PLAN_NONE ? plan_machine_http_port(&l.plan.machines[dst.machine]) : 0;
		if (!http) {
			rc = command_usage_error(cmd, "--explain: %s serves no TCP port to default to: give PORT/PROTO", to);
			goto done;
		}
		port = (uint16_t)http;
	}
	struct policy_world w;
	policy_world_of(&l.plan, &w);
	struct policy_verdict v;
	policy_eval(&w, src, dst, port, protocol, &v);
	printf("%s -> %s %u/%s\n", from, to, port, tb_protocol_name(protocol));
	printf("policies: %s\n", v.allowed ? "allowed" : "denied");
	policy_verdict_explain(stdout, &w, &v, "  ");
	bool expected = v.allowed;
	policy_verdict_free(&v);
	if (protocol == TB_PROTOCOL_SCTP) {
		printf("probe: none: testbed's probes carry TCP and UDP, not SCTP\n");
		fflush(stdout);
		rc = command_fail(cmd, TB_EXIT_USAGE, "--explain: %u/SCTP can be explained, not probed", port);
		goto done;
	}
	fflush(stdout);
	bool passed = false;
	free(why);
	why = NULL;
	rc = explain_probe(cmd, &l, from, to, port, protocol, c, &passed, &why, NULL);
	if (rc != TB_EXIT_OK)
		goto done;
	if (passed)
		printf("probe: passed (%s)\n", protocol == TB_PROTOCOL_UDP ? "answered" : "connected");
	else
		printf("probe: failed: %s\n", why);
	printf("%s\n", passed == expected ? "agree" : "DISAGREE: the lab does not do what the policies say");
	rc = passed == expected ? TB_EXIT_OK : TB_EXIT_EXPECTATIONS;
done:
	live_close(&l);
	return rc;
}

int cmd_check(const struct command *cmd, const struct cli_options *o, int n, char **operands)
{
	struct check_options c;
	if (parse_options(cmd, o, &c) < 0)
		return TB_EXIT_USAGE;
	if (o->explain)
		return check_explain(cmd, o, &c, n, operands);
	if (n != 1)
		return command_usage_error(cmd, "expected one lab name or topology file");
	const char *arg = operands[0];
	/* The expectations: a FILE's (read once, so a pipe works too), else
	 * the running lab's saved plan's. */
	bool source = !topology_is_lab_name(arg);
	struct plan given = {0};
	if (source && command_compile(arg, &given) != TB_EXIT_OK)
		return TB_EXIT_USAGE;
	autofree char *name = xstrdup(source ? given.lab : arg);
	if (geteuid() != 0) {
		if (source)
			plan_free(&given);
		return command_fail(cmd, TB_EXIT_USAGE, "needs root: it probes from inside the lab's namespaces");
	}
	struct live_lab l;
	struct tb_err e;
	int rc = live_open(name, o->state_dir, true, &l, &e);
	if (rc != TB_EXIT_OK || (source && !same_lab(cmd, arg, &given, &l))) {
		if (rc != TB_EXIT_OK)
			command_fail(cmd, rc, "%s", e.msg);
		else
			live_close(&l);
		if (source)
			plan_free(&given);
		return rc != TB_EXIT_OK ? rc : TB_EXIT_USAGE;
	}
	struct plan *expectations = source ? &given : &l.plan;
	struct check_run run;
	struct diag d;
	diag_init(&d, o->expect ? json_doc_file_name(o->expect) : source ? arg : l.plan.topology);
	/* --expect FILE: its expectations, asked of the lab as it runs. */
	if (o->expect && !load_expectations(o->expect, expectations, &d)) {
		diag_print(&d, stderr);
		diag_free(&d);
		if (source)
			plan_free(&given);
		live_close(&l);
		return TB_EXIT_USAGE;
	}
	if (!check_compile(expectations, &run, &d)) {
		diag_print(&d, stderr);
		diag_free(&d);
		check_run_free(&run);
		if (source)
			plan_free(&given);
		live_close(&l);
		return TB_EXIT_USAGE;
	}
	diag_free(&d);
	run.lab = name;
	run.plan = &l.plan;
	/* The same machines as the expectations' plan (same_lab), in the same order. */
	run.machines = l.plan.machines;
	run.n_machines = l.plan.n_machines;
	rc = run_probes(cmd, &l, &run, &c.probe, o->verbose);
	if (rc == TB_EXIT_OK)
		check_policy_notes(&run);
	if (rc == TB_EXIT_OK) {
		struct report_style text_style = {.colour = use_colour(), .verbose = o->verbose};
		struct report_style file_style = {.verbose = o->verbose};
		if (o->output) {
			if (write_report_file(cmd, o->output, c.format, &run, &file_style) < 0)
				rc = TB_EXIT_SYSTEM;
			else if (!o->quiet && report_write(stdout, REPORT_TEXT, &run, &text_style) < 0)
				rc = TB_EXIT_SYSTEM;
		} else if (report_write(stdout, c.format, &run, c.format == REPORT_TEXT ? &text_style : &file_style) < 0) {
			rc = TB_EXIT_SYSTEM;
		}
		if (rc == TB_EXIT_OK && check_count_ok(&run) != run.n_probes)
			rc = TB_EXIT_EXPECTATIONS;
	}
	check_run_free(&run);
	if (source)
		plan_free(&given);
	live_close(&l);
	return rc;
}
