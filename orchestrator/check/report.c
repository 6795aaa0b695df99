/* Report writers. Each is a pure function of a check run, so the unit
 * tests pin their exact output.
 *
 * Names come from the lab's plan (a state file someone may edit), answers,
 * client addresses and errors from the pods' servers: every format prints
 * them through str_escape, so that none can send a terminal escape
 * sequence or split a line, and every report is well-formed UTF-8, XML and
 * YAML whatever a pod answers (json too: a consumer such as jq -r then
 * prints them as safely as the text report does); markdown also escapes
 * what would change its tables or formatting, or make a link. */
#define _GNU_SOURCE
#include "check/report.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "check/policy_eval.h"
#include "util/util.h"

#define WIDE_TABLE 120 /* wider than this, column names are printed vertically */

static const char *const format_names[] = {
	[REPORT_TEXT] = "text", [REPORT_JSON] = "json", [REPORT_JUNIT] = "junit",
	[REPORT_TAP] = "tap",   [REPORT_MARKDOWN] = "markdown",
};

bool report_format_parse(const char *name, enum report_format *f)
{
	for (size_t i = 0; i < ARRAY_SIZE(format_names); i++)
		if (strcmp(name, format_names[i]) == 0) {
			*f = (enum report_format)i;
			return true;
		}
	return false;
}

const char *report_format_name(enum report_format f)
{
	return (size_t)f < ARRAY_SIZE(format_names) ? format_names[f] : "?";
}

/* ---- what every format says about a probe ---- */

static const char *expected_word(const struct check_probe *p)
{
	return p->expect_pass ? "pass" : "fail";
}

static const char *got_word(const struct check_probe *p)
{
	switch (p->outcome) {
	case PROBE_PASS:
		return "pass";
	case PROBE_FAIL:
		return "fail";
	case PROBE_NOT_RUN:
		break;
	}
	return "not run";
}

static const char *const failure_words[] = {[CHECK_FAILED_NOT] = NULL,
					    [CHECK_FAILED_REFUSED] = "refused",
					    [CHECK_FAILED_TIMEOUT] = "timeout",
					    [CHECK_FAILED_NXDOMAIN] = "nxdomain",
					    [CHECK_FAILED_SERVFAIL] = "servfail",
					    [CHECK_FAILED_ERROR] = "error",
					    [7] = NULL};

/* How the probe failed ("refused", "timeout", "error"); NULL when it did not. */
static const char *failed_word(const struct check_probe *p)
{
	return p->outcome == PROBE_FAIL ? failure_words[p->failed] : NULL;
}

/* How the expectation says it fails; NULL when it does not say. */
static const char *failure_word(const struct check_probe *p)
{
	return p->expect_pass ? NULL : failure_words[p->expect_failure];
}

/* What a probe's name resolved to, escaped: "web.shop.svc.cluster.local:
 * 10.96.0.12" (a dns probe's whole answer; "no record" for none); NULL
 * when it resolved nothing (malloc'd). */
static char *dns_text(const struct check_view *v)
{
	if (!v->dns_name)
		return NULL;
	char *records = xstrdup("");
	for (size_t k = 0; k < v->n_dns_answer; k++) {
		char *more = xasprintf("%s%s%s", records, k ? ", " : "", v->dns_answer[k]);
		free(records);
		records = more;
	}
	char *text = xasprintf("%s: %s", v->dns_name, *records ? records : "no record");
	free(records);
	char *safe = str_escape(text);
	free(text);
	return safe;
}

/* "web-a 101, web-b 99": answers per answerer, escaped (malloc'd). */
static char *counts_text(const struct check_view *v)
{
	char *text = xstrdup("");
	for (size_t k = 0; k < v->n_counts; k++) {
		autofree char *name = str_escape(v->counts[k].name);
		char *more = xasprintf("%s%s%s %u", text, k ? ", " : "", name, v->counts[k].n);
		free(text);
		text = more;
	}
	return text;
}

/* "expected pass, got fail: connection refused" and the like, escaped:
 * with the way it failed when the expectation says how it must, and the
 * request and the answers so far for a probe made several times. */
static char *probe_reason(const struct check_view *v)
{
	const struct check_probe *p = v->p;
	const char *want = failure_word(p), *seen = want ? failed_word(p) : NULL;
	/* "status": the status asked and the one answered. */
	char want_status[16], seen_status[16];
	if (p->expect_status && p->expect_status != 200) {
		snprintf(want_status, sizeof(want_status), "status %u", (unsigned)p->expect_status);
		want = want_status;
		seen = NULL;
		if (p->status) {
			snprintf(seen_status, sizeof(seen_status), "status %u", (unsigned)p->status);
			seen = seen_status;
		}
	}
	char *s = xasprintf("expected %s%s%s%s, got %s%s%s%s", expected_word(p), want ? " (" : "", want ? want : "",
			    want ? ")" : "", got_word(p), seen ? " (" : "", seen ? seen : "", seen ? ")" : "");
	char *more;
	if (v->requests > 1 && p->outcome != PROBE_NOT_RUN && !check_probe_ok(p) && v->requests_made < v->requests) {
		more = xasprintf("%s at request %u of %u", s, v->requests_made, v->requests);
		free(s);
		s = more;
	}
	if (*v->error) {
		more = xasprintf("%s: %s", s, v->error);
		free(s);
		s = more;
	} else if (*v->answered_by && p->outcome == PROBE_PASS && !v->n_counts) {
		more = xasprintf("%s (answered by %s)", s, v->answered_by);
		free(s);
		s = more;
	}
	char *safe = str_escape(s);
	free(s);
	autofree char *dns = v->target->proto != TB_PROTO_DNS ? dns_text(v) : NULL;
	if (dns) {
		more = xasprintf("%s (resolved %s)", safe, dns);
		free(safe);
		safe = more;
	}
	if (v->n_counts) {
		autofree char *counts = counts_text(v);
		more = xasprintf("%s (answers: %s)", safe, counts);
		free(safe);
		safe = more;
	}
	return safe;
}

/* "a -> b http:80", escaped. */
static char *probe_label(const struct check_run *run, const struct check_probe *p)
{
	autofree char *label = check_probe_label(run, p);
	return str_escape(label);
}

/* Appends to *TEXT what denies verdict V: "egress of x/b isolated by
 * x/deny" and "ingress of x/a isolated by x/deny-all, x/allow-y", each
 * side once however many endpoints repeat it. */
static void append_denial(char **text, const struct policy_world *w, const struct policy_verdict *v)
{
	const struct policy_side *sides[] = {&v->egress, &v->ingress};
	const char *words[] = {"egress", "ingress"};
	for (size_t k = 0; k < ARRAY_SIZE(sides); k++) {
		const struct policy_side *side = sides[k];
		if (side->allowed)
			continue;
		const char *who = side->pod < w->n_machines ? w->machines[side->pod].name : "?";
		autofree char *part = xasprintf("%s of %s isolated by", words[k], who);
		for (size_t j = 0; j < side->n_isolating; j++) {
			const struct plan_policy *pol = &w->policies[side->isolating[j]];
			char *more = xasprintf("%s%s %s/%s", part, j ? "," : "", pol->namespace, pol->name);
			free(part);
			part = more;
		}
		if (strstr(*text, part))
			continue;
		char *more = xasprintf("%s%s%s", *text, **text ? "; " : "", part);
		free(*text);
		*text = more;
	}
}

/* The Service whose cluster IP and port TO is, and that port's index. */
static const struct plan_service *service_of(const struct plan *p, const struct check_target *to, size_t *pi)
{
	for (size_t k = 0; to->address && k < p->n_services; k++) {
		const struct plan_service *s = &p->services[k];
		if (s->cluster_ip != to->address)
			continue;
		for (size_t i = 0; i < s->n_ports; i++)
			if (s->ports[i].port == to->port &&
			    (s->ports[i].protocol == TB_PROTOCOL_UDP) == (to->proto == TB_PROTO_UDP)) {
				*pi = i;
				return s;
			}
	}
	return NULL;
}

/* For a probe expected to fail that the lab's NetworkPolicies deny (as the
 * evaluator, check/policy_eval.c, judges its connection), which policies
 * deny it: "ingress of x/a isolated by x/deny-all, x/allow-y" (and the
 * egress side's, where it denies too), escaped; NULL for any other probe.
 * A probe to a Service's cluster IP is denied when every endpoint
 * kube-proxy may pick is, each judged after the DNAT at its target port.
 * junit and tap mark expected denials apart with it. */
static char *expected_denial(const struct check_run *run, const struct policy_world *w, const struct check_probe *p)
{
	if (!w || p->expect_pass)
		return NULL;
	const struct check_target *to = check_target_of(run, p);
	if (p->from >= run->n_machines ||
	    (to->proto != TB_PROTO_HTTP && to->proto != TB_PROTO_TCP && to->proto != TB_PROTO_UDP))
		return NULL;
	enum tb_protocol protocol = to->proto == TB_PROTO_UDP ? TB_PROTOCOL_UDP : TB_PROTOCOL_TCP;
	autofree char *text = xstrdup("");
	bool denied = true;
	if (to->end < run->n_machines) {
		struct policy_verdict v;
		policy_eval(w, (struct policy_end){.machine = p->from}, (struct policy_end){.machine = to->end},
			    to->port, protocol, &v);
		denied = !v.allowed;
		if (denied)
			append_denial(&text, w, &v);
		policy_verdict_free(&v);
	} else {
		size_t pi = 0;
		const struct plan_service *s = run->plan ? service_of(run->plan, to, &pi) : NULL;
		if (!s || !s->n_endpoints)
			return NULL;
		autofree bool *usable = xcalloc(s->n_endpoints, sizeof(*usable));
		if (!check_service_endpoints(run->plan, s, pi, p->from, usable))
			return NULL; /* kube-proxy rejects it: no policy's doing */
		for (size_t e = 0; e < s->n_endpoints && denied; e++) {
			if (!usable[e])
				continue;
			const struct plan_endpoint *ep = &s->endpoints[e];
			struct policy_verdict v;
			policy_eval(w, (struct policy_end){.machine = p->from},
				    (struct policy_end){.machine = ep->machine, .address = ep->address}, ep->ports[pi],
				    protocol, &v);
			denied = !v.allowed;
			if (denied)
				append_denial(&text, w, &v);
			policy_verdict_free(&v);
		}
	}
	return denied ? str_escape(text) : NULL;
}

/* The world expected_denial reads, when RUN's lab has policies. */
static const struct policy_world *denial_world(const struct check_run *run, struct policy_world *w)
{
	if (!run->plan || !run->plan->n_policies)
		return NULL;
	policy_world_of(run->plan, w);
	return w;
}

/* Past these, a text or markdown report summarises rather than lists: a
 * 1000-pod mesh would otherwise print a million-cell table per protocol
 * and, if a node is down, a hundred thousand failure lines. json, junit
 * and tap still list every probe. */
#define TABLE_MAX 128   /* rows or columns of a truth table */
/* json carries its tables' cells up to this many rows or columns (a
 * 1000-pod mesh's a million each), past it their names and counts only. */
#define JSON_TABLE_MAX 2048
#define FAILURES_SHOWN 200

static const char *const more_failures =
	"every probe is in --format json, junit or tap; -v lists them all here";

/* A multi-line note (a path note): each line escaped, the line breaks kept. */
static char *escape_lines(const char *text)
{
	char *out = xstrdup("");
	for (const char *line = text; *line;) {
		size_t len = strcspn(line, "\n");
		autofree char *safe = str_escape_n(line, len);
		char *more = xasprintf("%s%s%s", out, *out ? "\n" : "", safe);
		free(out);
		out = more;
		line += len;
		if (*line == '\n')
			line++;
	}
	return out;
}

/* ---- truth tables ---- */

enum mark { MARK_NONE, MARK_PASS, MARK_BLOCKED, MARK_UNEXPECTED_FAIL, MARK_UNEXPECTED_PASS, MARK_OTHER_FAILURE };

static enum mark probe_mark(const struct check_probe *p)
{
	if (check_probe_ok(p))
		return p->expect_pass ? MARK_PASS : MARK_BLOCKED;
	if (!p->expect_pass && p->outcome == PROBE_FAIL)
		return MARK_OTHER_FAILURE; /* failed, not the way expected */
	return p->expect_pass ? MARK_UNEXPECTED_FAIL : MARK_UNEXPECTED_PASS;
}

static bool mark_is_bad(enum mark m)
{
	return m == MARK_UNEXPECTED_FAIL || m == MARK_UNEXPECTED_PASS || m == MARK_OTHER_FAILURE;
}

static const char text_marks[] = {[MARK_NONE] = '-',
				  [MARK_PASS] = '.',
				  [MARK_BLOCKED] = 'x',
				  [MARK_UNEXPECTED_FAIL] = 'F',
				  [MARK_UNEXPECTED_PASS] = 'P',
				  [MARK_OTHER_FAILURE] = '!'};

/* Whether any probe failed, but not the way its expectation says: the
 * legends explain their mark only then. */
static bool any_other_failure(const struct check_run *run)
{
	for (size_t i = 0; i < run->n_probes; i++)
		if (probe_mark(&run->probes[i]) == MARK_OTHER_FAILURE)
			return true;
	return false;
}

/* A truth table: rows are sources, columns targets, both plan machines. */
struct table {
	enum tb_proto proto;
	uint16_t port;                  /* 0: every port of PROTO */
	char title[32];                 /* "http", or "http:6379" for one port */
	size_t n_probes, n_bad;         /* of this protocol */
	size_t *rows, *cols;            /* machine indices (rows), ends (columns), in the order shown */
	size_t n_rows, n_cols;
	char **row_text, **col_text;    /* the names, escaped for printing; NULL when too big */
	enum mark *cells;               /* rows x cols; NULL when too big */
};

static char **escape_names(const struct check_run *run, const size_t *ends, size_t count)
{
	char **text = xcalloc(count ? count : 1, sizeof(*text));
	for (size_t i = 0; i < count; i++)
		text[i] = str_escape(check_end_name(run, (uint32_t)ends[i]));
	return text;
}

static void free_names(char **text, size_t count)
{
	for (size_t i = 0; text && i < count; i++)
		free(text[i]);
	free(text);
}

static const enum tb_proto table_order[] = {TB_PROTO_HTTP, TB_PROTO_TCP, TB_PROTO_UDP, TB_PROTO_PING, TB_PROTO_DNS};

/* Which tables a report shows, in order: one per protocol; under
 * NetworkPolicies without expectations (the conformance check), one per
 * port and protocol, as the upstream truth tables are. */
struct table_key {
	enum tb_proto proto;
	uint16_t port;
};

static int cmp_port(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static size_t table_keys(const struct check_run *run, struct table_key **keys)
{
	bool per_port = run->default_model && run->plan && run->plan->n_policies;
	size_t n = 0, cap = 0;
	*keys = NULL;
	autofree uint16_t *ports = NULL;
	size_t cap_ports = 0;
	for (size_t i = 0; i < ARRAY_SIZE(table_order); i++) {
		enum tb_proto proto = table_order[i];
		size_t n_ports = 0;
		if (per_port && proto != TB_PROTO_PING && proto != TB_PROTO_DNS)
			for (size_t k = 0; k < run->n_probes; k++) {
				const struct check_target *to = check_target_of(run, &run->probes[k]);
				if (to->proto != proto)
					continue;
				bool seen = false;
				for (size_t j = 0; j < n_ports && !seen; j++)
					seen = ports[j] == to->port;
				if (!seen) {
					grow_array((void **)&ports, &cap_ports, n_ports + 1, sizeof(*ports));
					ports[n_ports++] = to->port;
				}
			}
		if (n_ports > 1)
			qsort(ports, n_ports, sizeof(*ports), cmp_port);
		grow_array((void **)keys, &cap, n + (n_ports ? n_ports : 1), sizeof(**keys));
		if (n_ports < 2)
			(*keys)[n++] = (struct table_key){proto, 0};
		else
			for (size_t j = 0; j < n_ports; j++)
				(*keys)[n++] = (struct table_key){proto, ports[j]};
	}
	return n;
}

/* The table of RUN's probes of PROTO (of PORT alone, unless 0); false when
 * there are none. Tables past MAX rows or columns keep only their rows,
 * columns and counts. */
static bool table_build(const struct check_run *run, enum tb_proto proto, uint16_t port, size_t max, struct table *t)
{
	*t = (struct table){.proto = proto, .port = port};
	if (port)
		snprintf(t->title, sizeof t->title, "%s:%u", tb_proto_name(proto), port);
	else
		snprintf(t->title, sizeof t->title, "%s", tb_proto_name(proto));
	size_t m = run->n_machines + run->n_end_names; /* rows are machines, columns ends */
	autofree size_t *row_of = xcalloc(m ? m : 1, sizeof(*row_of)); /* index + 1 */
	autofree size_t *col_of = xcalloc(m ? m : 1, sizeof(*col_of));
	autofree bool *source = xcalloc(m ? m : 1, sizeof(*source));
	autofree bool *target = xcalloc(m ? m : 1, sizeof(*target));
	t->rows = xcalloc(m ? m : 1, sizeof(*t->rows));
	t->cols = xcalloc(m ? m : 1, sizeof(*t->cols));
	for (size_t i = 0; i < run->n_probes; i++) {
		const struct check_probe *p = &run->probes[i];
		const struct check_target *to = check_target_of(run, p);
		if (to->proto != proto || (port && to->port != port))
			continue;
		t->n_probes++;
		t->n_bad += !check_probe_ok(p);
		source[p->from] = true;
		target[to->end] = true;
	}
	/* In the topology's order, whatever order the probes ran in. */
	for (size_t k = 0; k < m; k++)
		if (source[k]) {
			t->rows[t->n_rows++] = k;
			row_of[k] = t->n_rows;
		}
	if (t->n_rows == 0)
		return false;
	/* Columns that are rows too come first, in the rows' order, so a mesh
	 * reads as a square with its diagonal where one expects it. */
	for (size_t r = 0; r < t->n_rows; r++)
		if (target[t->rows[r]]) {
			t->cols[t->n_cols++] = t->rows[r];
			col_of[t->rows[r]] = t->n_cols;
		}
	for (size_t k = 0; k < m; k++)
		if (target[k] && !col_of[k]) {
			t->cols[t->n_cols++] = k;
			col_of[k] = t->n_cols;
		}
	if (t->n_rows > max || t->n_cols > max)
		return true;
	t->cells = xcalloc(t->n_rows * t->n_cols, sizeof(*t->cells));
	for (size_t i = 0; i < run->n_probes; i++) {
		const struct check_probe *p = &run->probes[i];
		const struct check_target *to = check_target_of(run, p);
		if (to->proto != proto || (port && to->port != port))
			continue;
		enum mark *cell = &t->cells[(row_of[p->from] - 1) * t->n_cols + col_of[to->end] - 1];
		enum mark mk = probe_mark(p);
		/* Several probes in one cell (two ports, say): the worst shows. */
		if (*cell == MARK_NONE || (mark_is_bad(mk) && !mark_is_bad(*cell)))
			*cell = mk;
	}
	t->row_text = escape_names(run, t->rows, t->n_rows);
	t->col_text = escape_names(run, t->cols, t->n_cols);
	return true;
}

/* "http: 998,000 probes from 1000 sources to 1000 targets, 0 not as expected (too big for a table)" */
static char *table_summary(const struct table *t)
{
	return xasprintf("%s: %zu probe%s from %zu source%s to %zu target%s, %zu not as expected (no table past %d "
			 "rows or columns)",
			 t->title, t->n_probes, t->n_probes == 1 ? "" : "s", t->n_rows,
			 t->n_rows == 1 ? "" : "s", t->n_cols, t->n_cols == 1 ? "" : "s", t->n_bad, TABLE_MAX);
}

static void table_free(struct table *t)
{
	free_names(t->row_text, t->cells ? t->n_rows : 0);
	free_names(t->col_text, t->cells ? t->n_cols : 0);
	free(t->rows);
	free(t->cols);
	free(t->cells);
}

static size_t longest(char *const *text, size_t count)
{
	size_t n = 0;
	for (size_t i = 0; i < count; i++)
		if (strlen(text[i]) > n)
			n = strlen(text[i]);
	return n;
}

/* ---- text ---- */

#define BOLD "\033[1m"
#define RED "\033[31m"
#define GREEN "\033[32m"
#define RESET "\033[0m"

static const char *colour_of(enum mark m, const struct report_style *s)
{
	if (!s->colour || m == MARK_NONE)
		return "";
	return mark_is_bad(m) ? RED : GREEN;
}

static void text_table(FILE *out, const struct table *t, const struct report_style *s)
{
	size_t label = longest(t->row_text, t->n_rows);
	if (label < strlen(t->title))
		label = strlen(t->title);
	size_t wide = label;
	for (size_t c = 0; c < t->n_cols; c++)
		wide += 2 + strlen(t->col_text[c]);
	bool vertical = wide > WIDE_TABLE;
	const char *bold = s->colour ? BOLD : "", *reset = s->colour ? RESET : "";
	if (vertical) {
		size_t height = longest(t->col_text, t->n_cols);
		for (size_t line = 0; line < height; line++) {
			fprintf(out, "%s%-*s%s", bold, (int)label, line + 1 == height ? t->title : "",
				reset);
			for (size_t c = 0; c < t->n_cols; c++) {
				const char *name = t->col_text[c];
				size_t len = strlen(name);
				/* Bottom-aligned, so every name ends on the row above the marks. */
				fprintf(out, " %c", line + len >= height ? name[line + len - height] : ' ');
			}
			fputc('\n', out);
		}
	} else {
		fprintf(out, "%s%-*s%s", bold, (int)label, t->title, reset);
		for (size_t c = 0; c < t->n_cols; c++)
			fprintf(out, "  %s", t->col_text[c]);
		fputc('\n', out);
	}
	for (size_t r = 0; r < t->n_rows; r++) {
		fprintf(out, "%-*s", (int)label, t->row_text[r]);
		for (size_t c = 0; c < t->n_cols; c++) {
			enum mark m = t->cells[r * t->n_cols + c];
			bool last = c + 1 == t->n_cols;
			int pad = vertical || last ? 0 : (int)strlen(t->col_text[c]) - 1;
			fprintf(out, vertical ? " " : "  ");
			fprintf(out, "%s%c%s%*s", colour_of(m, s), text_marks[m], *colour_of(m, s) ? RESET : "", pad, "");
		}
		fputc('\n', out);
	}
}

static void print_indented(FILE *out, const char *text, const char *indent)
{
	const char *line = text;
	while (*line) {
		size_t len = strcspn(line, "\n");
		autofree char *safe = str_escape_n(line, len);
		fprintf(out, "%s%s\n", indent, safe);
		line += len;
		if (*line == '\n')
			line++;
	}
}

/* ---- how the lab was built: from the saved plan, so runs can be compared ---- */

/* "testbed 0.2.0, routing vxlan; up took 1.23 s (images 0.05, machines 0.23, network 0.20, servers 0.74)".
 * Not escaped: the version comes from the saved plan, so callers escape it. */
static char *build_summary(const struct plan *p)
{
	const struct plan_timings *t = &p->timings;
	if (t->total < 0)
		return xasprintf("testbed %s, routing %s", p->version, tb_routing_name(p->routing));
	return xasprintf("testbed %s, routing %s; up took %.2f s (images %.2f, machines %.2f, network %.2f, servers "
			 "%.2f)",
			 p->version, tb_routing_name(p->routing), t->total / 1000, t->images / 1000, t->machines / 1000,
			 t->network / 1000, t->servers / 1000);
}

static char *safe_summary(const struct plan *p)
{
	autofree char *summary = build_summary(p);
	return str_escape(summary);
}

static void text_build(FILE *out, const struct plan *p)
{
	if (!p)
		return;
	autofree char *summary = safe_summary(p);
	fprintf(out, "built by %s\n", summary);
	for (size_t i = 0; i < p->n_images; i++) {
		autofree char *name = str_escape(p->images[i].name);
		autofree char *sha = str_escape(p->images[i].sha256[0] ? p->images[i].sha256 : "?");
		fprintf(out, "image %s sha256:%s\n", name, sha);
	}
}

/* What a run without expectations checks: the Kubernetes model, whose
 * cells NetworkPolicies decide where the lab has any. */
static const char *model_words(const struct check_run *run)
{
	if (!run->default_model)
		return "";
	if (run->plan && run->plan->n_policies)
		return " (Kubernetes model under the lab's NetworkPolicies: each cell as the evaluator decides it)";
	return " (Kubernetes model: every pod reaches every other pod, no NAT)";
}

static void text_report(FILE *out, const struct check_run *run, const struct report_style *s)
{
	const char *bold = s->colour ? BOLD : "", *reset = s->colour ? RESET : "";
	autofree char *lab = str_escape(run->lab);
	fprintf(out, "%stestbed check %s%s: %zu probe%s%s, %.0f ms\n", bold, lab, reset, run->n_probes,
		run->n_probes == 1 ? "" : "s",
		model_words(run), run->duration_ms);
	text_build(out, run->plan);
	bool any_table = false;
	autofree struct table_key *keys = NULL;
	size_t n_keys = table_keys(run, &keys);
	for (size_t i = 0; i < n_keys; i++) {
		struct table t;
		if (table_build(run, keys[i].proto, keys[i].port, TABLE_MAX, &t)) {
			fputc('\n', out);
			if (t.cells) {
				text_table(out, &t, s);
				any_table = true;
			} else {
				autofree char *summary = table_summary(&t);
				fprintf(out, "%s\n", summary);
			}
		}
		table_free(&t);
	}
	if (any_table)
		fprintf(out, "\n. passed as expected   x blocked as expected   F failed, expected to pass   "
			     "P passed, expected to fail   %s- not probed\n",
			any_other_failure(run) ? "! failed, not the way expected   " : "");
	/* Probes made several times: who answered how often. */
	bool any_counts = false;
	for (size_t i = 0; i < run->n_probes; i++) {
		struct check_view v;
		check_view(run, i, &v);
		if (!v.n_counts)
			continue;
		if (!any_counts)
			fprintf(out, "\n%sanswers:%s\n", bold, reset);
		any_counts = true;
		autofree char *label = probe_label(run, v.p);
		autofree char *counts = counts_text(&v);
		fprintf(out, "  %s: %s\n", label, counts);
	}
	/* Names resolved: what each answer held. */
	size_t names = 0;
	for (size_t i = 0; i < run->n_probes; i++) {
		struct check_view v;
		check_view(run, i, &v);
		autofree char *dns = dns_text(&v);
		if (!dns)
			continue;
		if (!names)
			fprintf(out, "\n%snames:%s\n", bold, reset);
		if (!s->verbose && names == FAILURES_SHOWN) {
			fprintf(out, "  ... (%s)\n", more_failures);
			break;
		}
		names++;
		autofree char *label = probe_label(run, v.p);
		fprintf(out, "  %s: %s\n", label, dns);
	}
	if (s->verbose && run->n_probes) {
		fprintf(out, "\n%sprobes:%s\n", bold, reset);
		for (size_t i = 0; i < run->n_probes; i++) {
			struct check_view v;
			check_view(run, i, &v);
			const struct check_probe *p = v.p;
			enum mark m = probe_mark(p);
			autofree char *label = probe_label(run, p);
			autofree char *answered_by = str_escape(v.answered_by);
			autofree char *client = str_escape(v.client);
			autofree char *error = str_escape(v.error);
			fprintf(out, "  %s%c%s %s: %s, %.2f ms", colour_of(m, s), text_marks[m], *colour_of(m, s) ? RESET : "",
				label, got_word(p), v.latency_ms);
			if (*answered_by)
				fprintf(out, ", answered by %s", answered_by);
			if (*client)
				fprintf(out, ", client %s", client);
			if (*error)
				fprintf(out, ": %s", error);
			fputc('\n', out);
		}
	}
	size_t ok = check_count_ok(run);
	if (ok != run->n_probes) {
		fprintf(out, "\n%s%sfailures:%s\n", bold, s->colour ? RED : "", reset);
		size_t shown = 0, bad = run->n_probes - ok;
		for (size_t i = 0; i < run->n_probes; i++) {
			const struct check_probe *p = &run->probes[i];
			if (check_probe_ok(p))
				continue;
			if (!s->verbose && shown == FAILURES_SHOWN) {
				fprintf(out, "  ... and %zu more (%s)\n", bad - shown, more_failures);
				break;
			}
			shown++;
			struct check_view v;
			check_view(run, i, &v);
			autofree char *label = probe_label(run, p);
			autofree char *reason = probe_reason(&v);
			fprintf(out, "  %s: %s", label, reason);
			if (p->outcome != PROBE_NOT_RUN)
				fprintf(out, " (%.1f ms)", v.latency_ms);
			fputc('\n', out);
			if (v.path_note)
				print_indented(out, v.path_note, "    ");
		}
	}
	const char *tone = !s->colour ? "" : ok == run->n_probes ? GREEN : RED;
	fprintf(out, "\n%s%zu passed, %zu failed%s\n", tone, ok, run->n_probes - ok, s->colour ? RESET : "");
}

/* ---- json ---- */

/* Untrusted text as every other format shows it (str_escape's). */
static void json_add_text(cJSON *o, const char *key, const char *value)
{
	autofree char *safe = str_escape(value);
	cJSON_AddStringToObject(o, key, safe);
}

static double round2(double v)
{
	return (double)(long long)(v * 100 + (v >= 0 ? 0.5 : -0.5)) / 100;
}

/* A JSON string as cJSON writes one: quotes, backslashes and control
 * characters escaped, other bytes as they are. Callers pass escaped text
 * (a path note keeps its line breaks), so the bytes are UTF-8. */
static void json_string(FILE *out, const char *v)
{
	if (!v || !*v) {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
		switch (*c) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		default:
			if (*c < 0x20)
				fprintf(out, "\\u%04x", *c);
			else
				fputc(*c, out);
		}
	}
	fputc('"', out);
}

/* Untrusted text, escaped; null when there is none. */
static void json_text(FILE *out, const char *v)
{
	if (!v || !*v) {
		fputs("null", out);
		return;
	}
	autofree char *safe = str_escape(v);
	json_string(out, safe);
}

static void json_number(FILE *out, double v)
{
	fprintf(out, "%.15g", v);
}

/* A truth table's cells in json: what each cell's probes found against
 * what was expected, as the text report's marks say it. */
static const char *const json_marks[] = {[MARK_NONE] = NULL,
					 [MARK_PASS] = "allowed",
					 [MARK_BLOCKED] = "expected-denied",
					 [MARK_UNEXPECTED_FAIL] = "denied",
					 [MARK_UNEXPECTED_PASS] = "unexpectedly-allowed",
					 [MARK_OTHER_FAILURE] = "failed"};

/* "truthTables": the text report's tables (one per protocol, or per port
 * and protocol under NetworkPolicies), each with its rows (sources),
 * columns (targets) and cells, a row per source; NAMES are the ends'
 * names, escaped. */
static void json_tables(FILE *out, const struct check_run *run, char *const *names)
{
	fputs("\t\"truthTables\": [", out);
	autofree struct table_key *keys = NULL;
	size_t n_keys = table_keys(run, &keys), shown = 0;
	for (size_t i = 0; i < n_keys; i++) {
		struct table t;
		if (!table_build(run, keys[i].proto, keys[i].port, JSON_TABLE_MAX, &t)) {
			table_free(&t);
			continue;
		}
		fprintf(out, "%s\n\t\t{\"title\": \"%s\", \"proto\": \"%s\", \"port\": ", shown++ ? "," : "", t.title,
			tb_proto_name(t.proto));
		if (t.port)
			fprintf(out, "%u", t.port);
		else
			fputs("null", out);
		fprintf(out, ", \"probes\": %zu, \"notAsExpected\": %zu,\n\t\t \"rows\": [", t.n_probes, t.n_bad);
		for (size_t r = 0; r < t.n_rows; r++) {
			fputs(r ? ", " : "", out);
			json_string(out, names[t.rows[r]]);
		}
		fputs("],\n\t\t \"columns\": [", out);
		for (size_t c = 0; c < t.n_cols; c++) {
			fputs(c ? ", " : "", out);
			json_string(out, names[t.cols[c]]);
		}
		fputs("],\n\t\t \"cells\": ", out);
		if (!t.cells)
			fputs("null", out);
		for (size_t r = 0; t.cells && r < t.n_rows; r++) {
			fputs(r ? ",\n\t\t\t[" : "[\n\t\t\t[", out);
			for (size_t c = 0; c < t.n_cols; c++) {
				fputs(c ? ", " : "", out);
				json_string(out, json_marks[t.cells[r * t.n_cols + c]]);
			}
			fputc(']', out);
		}
		if (t.cells)
			fputs("]", out);
		fputc('}', out);
		table_free(&t);
	}
	fputs(shown ? "\n\t],\n" : "],\n", out);
}

/* The header is a small cJSON tree; the probes, possibly millions, are
 * streamed one line each rather than built into a tree first. */
static void json_report(FILE *out, const struct check_run *run)
{
	cJSON *root = cJSON_CreateObject();
	json_add_text(root, "lab", run->lab);
	cJSON_AddStringToObject(root, "model", run->default_model ? "kubernetes" : "expect");
	cJSON_AddNumberToObject(root, "timeoutMs", run->timeout_ms);
	cJSON_AddNumberToObject(root, "durationMs", round2(run->duration_ms));
	size_t ok = check_count_ok(run);
	cJSON *summary = cJSON_AddObjectToObject(root, "summary");
	cJSON_AddNumberToObject(summary, "total", (double)run->n_probes);
	cJSON_AddNumberToObject(summary, "passed", (double)ok);
	cJSON_AddNumberToObject(summary, "failed", (double)(run->n_probes - ok));
	if (run->plan) {
		const struct plan *pl = run->plan;
		cJSON *build = cJSON_AddObjectToObject(root, "build");
		json_add_text(build, "testbed", pl->version);
		cJSON_AddNumberToObject(build, "planFormat", PLAN_FORMAT);
		cJSON_AddStringToObject(build, "routing", tb_routing_name(pl->routing));
		cJSON *images = cJSON_AddArrayToObject(build, "images");
		for (size_t i = 0; i < pl->n_images; i++) {
			cJSON *img = cJSON_CreateObject();
			json_add_text(img, "name", pl->images[i].name);
			json_add_text(img, "path", pl->images[i].path);
			if (*pl->images[i].sha256)
				json_add_text(img, "sha256", pl->images[i].sha256);
			else
				cJSON_AddNullToObject(img, "sha256");
			cJSON_AddItemToArray(images, img);
		}
		cJSON *timings = cJSON_AddObjectToObject(build, "timingsMs");
		const double values[] = {pl->timings.images, pl->timings.machines, pl->timings.network,
					 pl->timings.servers, pl->timings.total};
		const char *names[] = {"images", "machines", "network", "servers", "total"};
		for (size_t i = 0; i < ARRAY_SIZE(values); i++)
			if (values[i] >= 0)
				cJSON_AddNumberToObject(timings, names[i], round2(values[i]));
	}
	char *text = cJSON_Print(root);
	cJSON_Delete(root);
	/* cJSON_Print ends an object with its closing brace: the probes go before it. */
	size_t len = strlen(text);
	while (len && text[len - 1] != '}')
		len--;
	if (len)
		len--;
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\t'))
		len--;
	fprintf(out, "%.*s,\n", (int)len, text);
	free(text);
	/* Each machine's name escaped once, not once per probe: a mesh has millions. */
	size_t n_ends = run->n_machines + run->n_end_names;
	char **names = xcalloc(n_ends ? n_ends : 1, sizeof(*names));
	for (size_t k = 0; k < n_ends; k++)
		names[k] = str_escape(check_end_name(run, (uint32_t)k));
	json_tables(out, run, names);
	fputs("\t\"probes\": [", out);
	for (size_t i = 0; i < run->n_probes; i++) {
		struct check_view v;
		check_view(run, i, &v);
		const struct check_probe *p = v.p;
		fputs(i ? ",\n\t\t{\"from\": " : "\n\t\t{\"from\": ", out);
		json_string(out, names[p->from]);
		fputs(", \"to\": ", out);
		json_string(out, names[v.target->end]);
		fprintf(out, ", \"proto\": \"%s\", \"port\": ", tb_proto_name((enum tb_proto)v.target->proto));
		if (v.target->proto == TB_PROTO_PING || v.target->proto == TB_PROTO_DNS)
			fputs("null", out);
		else
			fprintf(out, "%u", v.target->port);
		fprintf(out, ", \"expected\": \"%s\", \"got\": \"%s\", \"ok\": %s, \"latencyMs\": ", expected_word(p),
			got_word(p), check_probe_ok(p) ? "true" : "false");
		json_number(out, round2(v.latency_ms));
		fprintf(out, ", \"attempts\": %u, \"error\": ", p->attempts);
		json_text(out, v.error);
		fputs(", \"answeredBy\": ", out);
		/* A passing http probe's answerer is its target, whose name is escaped already. */
		if (v.answered_by == v.to_name)
			json_string(out, names[v.target->end]);
		else
			json_text(out, v.answered_by);
		fputs(", \"clientIP\": ", out);
		json_text(out, v.client_ip);
		fputs(", \"client\": ", out);
		json_text(out, v.client);
		fputs(", \"failure\": ", out);
		json_string(out, failure_word(p));
		fputs(", \"failed\": ", out);
		json_string(out, failed_word(p));
		if (p->expect_status)
			fprintf(out, ", \"status\": %u", (unsigned)p->expect_status);
		if (p->status)
			fprintf(out, ", \"httpStatus\": %u", (unsigned)p->status);
		fprintf(out, ", \"requests\": %u", v.requests);
		if (v.n_counts || (v.rule && v.rule->count)) {
			fprintf(out, ", \"requestsMade\": %u, \"answers\": {", v.requests_made);
			for (size_t k = 0; k < v.n_counts; k++) {
				fputs(k ? ", " : "", out);
				json_text(out, v.counts[k].name);
				fprintf(out, ": %u", v.counts[k].n);
			}
			fputc('}', out);
		}
		if (v.target->resolve || v.target->name_of || v.target->proto == TB_PROTO_DNS) {
			char addr[16];
			fputs(", \"dns\": {\"type\": ", out);
			json_string(out, v.target->dns_type == TB_DNS_SRV ? "SRV" : "A");
			fputs(", \"name\": ", out);
			json_text(out, v.dns_name);
			fputs(", \"answer\": ", out);
			if (!v.dns_name)
				fputs("null", out);
			for (size_t k = 0; v.dns_name && k <= v.n_dns_answer; k++) {
				fputs(k == v.n_dns_answer ? "]" : k ? ", " : "[", out);
				if (k < v.n_dns_answer)
					json_text(out, v.dns_answer[k]);
			}
			fputs(", \"address\": ", out);
			json_string(out, v.target->name_of ? ipv4_addr_format(v.target->address, addr) : NULL);
			fputc('}', out);
		}
		if (v.path_note) {
			fputs(", \"path\": ", out);
			autofree char *note = escape_lines(v.path_note);
			json_string(out, note);
		}
		fputc('}', out);
	}
	free_names(names, n_ends);
	fputs(run->n_probes ? "\n\t]\n}\n" : "]\n}\n", out);
}

/* ---- junit ---- */

/* Markup. Callers pass text str_escape has made printable (a path note
 * keeps its line breaks), so the control-character case is a safety net. */
static void xml_escaped(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&apos;", out);
			break;
		default:
			/* XML 1.0 has no place for other control characters. */
			if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
				fputc(' ', out);
			else
				fputc(*s, out);
		}
	}
}

static void junit_property(FILE *out, const char *name, const char *value)
{
	autofree char *safe_name = str_escape(name);
	fprintf(out, "      <property name=\"");
	xml_escaped(out, safe_name);
	fprintf(out, "\" value=\"");
	autofree char *safe_value = str_escape(value);
	xml_escaped(out, safe_value);
	fprintf(out, "\"/>\n");
}

static void junit_properties(FILE *out, const struct plan *p)
{
	if (!p)
		return;
	fprintf(out, "    <properties>\n");
	junit_property(out, "testbed.version", p->version);
	junit_property(out, "testbed.routing", tb_routing_name(p->routing));
	for (size_t i = 0; i < p->n_images; i++) {
		autofree char *name = xasprintf("image.%s.sha256", p->images[i].name);
		junit_property(out, name, p->images[i].sha256);
	}
	autofree char *summary = build_summary(p);
	junit_property(out, "testbed.build", summary);
	fprintf(out, "    </properties>\n");
}

static void junit_report(FILE *out, const struct check_run *run)
{
	size_t ok = check_count_ok(run);
	autofree char *lab = str_escape(run->lab);
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(out, "<testsuites name=\"testbed check ");
	xml_escaped(out, lab);
	fprintf(out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" time=\"%.3f\">\n", run->n_probes,
		run->n_probes - ok, run->duration_ms / 1000);
	fprintf(out, "  <testsuite name=\"");
	xml_escaped(out, lab);
	fprintf(out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\" time=\"%.3f\">\n", run->n_probes,
		run->n_probes - ok, run->duration_ms / 1000);
	junit_properties(out, run->plan);
	struct policy_world world;
	const struct policy_world *w = denial_world(run, &world);
	for (size_t i = 0; i < run->n_probes; i++) {
		struct check_view v;
		check_view(run, i, &v);
		const struct check_probe *p = v.p;
		autofree char *label = probe_label(run, p);
		autofree char *denial = expected_denial(run, w, p);
		fprintf(out, "    <testcase classname=\"testbed.");
		xml_escaped(out, lab);
		fprintf(out, ".%s\" name=\"", tb_proto_name((enum tb_proto)v.target->proto));
		xml_escaped(out, label);
		fprintf(out, " expected %s%s\" time=\"%.3f\"", expected_word(p),
			denial ? " (denied by NetworkPolicy)" : "", v.latency_ms / 1000);
		autofree char *dns = dns_text(&v);
		if (denial) {
			/* Which policies the denial was expected of, apart from the name. */
			fprintf(out, ">\n      <properties>\n");
			junit_property(out, "testbed.expectedDenial", denial);
			fprintf(out, "      </properties>");
		}
		if (check_probe_ok(p)) {
			if (denial) {
				if (dns) {
					fprintf(out, "\n      <system-out>resolved ");
					xml_escaped(out, dns);
					fprintf(out, "</system-out>");
				}
				fprintf(out, "\n    </testcase>\n");
			} else if (dns) {
				fprintf(out, ">\n      <system-out>resolved ");
				xml_escaped(out, dns);
				fprintf(out, "</system-out>\n    </testcase>\n");
			} else {
				fprintf(out, "/>\n");
			}
			continue;
		}
		autofree char *reason = probe_reason(&v);
		fprintf(out, "%s      <failure message=\"", denial ? "\n" : ">\n");
		xml_escaped(out, reason);
		fprintf(out, "\" type=\"%s\">",
			p->expect_pass			? "unexpected fail"
			: p->outcome == PROBE_FAIL	? "other failure"
							: "unexpected pass");
		xml_escaped(out, label);
		fprintf(out, ": ");
		xml_escaped(out, reason);
		if (v.path_note) {
			autofree char *note = escape_lines(v.path_note);
			fputc('\n', out);
			xml_escaped(out, note);
		}
		fprintf(out, "</failure>\n");
		if (dns) {
			fprintf(out, "      <system-out>resolved ");
			xml_escaped(out, dns);
			fprintf(out, "</system-out>\n");
		}
		fprintf(out, "    </testcase>\n");
	}
	fprintf(out, "  </testsuite>\n</testsuites>\n");
}

/* ---- tap ---- */

/* A YAML single-quoted scalar: quotes doubled, one line. */
static void yaml_quoted(FILE *out, const char *s)
{
	fputc('\'', out);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("''", out);
		else if (*s == '\n')
			fputc(' ', out);
		else
			fputc(*s, out);
	}
	fputc('\'', out);
}

static void tap_report(FILE *out, const struct check_run *run)
{
	fprintf(out, "TAP version 13\n1..%zu\n", run->n_probes);
	if (run->plan) {
		autofree char *summary = safe_summary(run->plan);
		fprintf(out, "# built by %s\n", summary);
		for (size_t i = 0; i < run->plan->n_images; i++) {
			autofree char *name = str_escape(run->plan->images[i].name);
			autofree char *sha = str_escape(run->plan->images[i].sha256);
			fprintf(out, "# image %s sha256:%s\n", name, sha);
		}
	}
	struct policy_world world;
	const struct policy_world *w = denial_world(run, &world);
	for (size_t i = 0; i < run->n_probes; i++) {
		struct check_view v;
		check_view(run, i, &v);
		const struct check_probe *p = v.p;
		autofree char *label = probe_label(run, p);
		autofree char *denial = expected_denial(run, w, p);
		bool ok = check_probe_ok(p);
		/* '#' would start a TAP directive; names, ports and policy names
		 * (DNS labels) never hold one. */
		fprintf(out, "%s %zu - %s expected %s", ok ? "ok" : "not ok", i + 1, label, expected_word(p));
		if (denial)
			fprintf(out, " (denied by NetworkPolicy: %s)", denial);
		fputc('\n', out);
		autofree char *dns = dns_text(&v);
		if (ok) {
			if (dns)
				fprintf(out, "# resolved %s\n", dns);
			continue;
		}
		autofree char *reason = probe_reason(&v);
		fprintf(out, "  ---\n  message: ");
		yaml_quoted(out, reason);
		fprintf(out, "\n  expected: %s\n  got: %s\n", expected_word(p), got_word(p));
		if (*v.answered_by) {
			autofree char *answered_by = str_escape(v.answered_by);
			fprintf(out, "  answered_by: ");
			yaml_quoted(out, answered_by);
			fputc('\n', out);
		}
		if (failure_word(p))
			fprintf(out, "  failure: %s\n  failed: %s\n", failure_word(p), failed_word(p) ? failed_word(p) : "~");
		else if (failed_word(p))
			fprintf(out, "  failed: %s\n", failed_word(p));
		if (dns) {
			fprintf(out, "  resolved: ");
			yaml_quoted(out, dns);
			fputc('\n', out);
		}
		if (v.n_counts) {
			fprintf(out, "  answers:\n");
			for (size_t k = 0; k < v.n_counts; k++) {
				autofree char *name = str_escape(v.counts[k].name);
				fprintf(out, "    ");
				yaml_quoted(out, name);
				fprintf(out, ": %u\n", v.counts[k].n);
			}
		}
		fprintf(out, "  latency_ms: %.2f\n  ...\n", v.latency_ms);
	}
}

/* ---- markdown ---- */

static const char *const markdown_marks[] = {[MARK_NONE] = "–",
					     [MARK_PASS] = "✅",
					     [MARK_BLOCKED] = "🚫",
					     [MARK_UNEXPECTED_FAIL] = "❌",
					     [MARK_UNEXPECTED_PASS] = "⚠️",
					     [MARK_OTHER_FAILURE] = "❗"};

/* GitHub makes links of text that merely looks like one: GFM's autolinks
 * (www.example.com, http:// and https:// URLs, mailto: and the like,
 * user@example.com) and, in the rendered text, @mentions (which notify),
 * :emoji: codes and #123 references. A zero-width space after the '@',
 * ':' or '#', or before the dot of "www.", breaks each without changing
 * what one reads. Backslash escapes would not: they are gone by the time
 * GitHub looks for mentions, emoji and references. As an entity, so that
 * the Markdown source shows it. */
#define MD_NO_LINK "&#8203;"

/* Whether the ':' before AFTER starts "://" (a URL) or an emoji code such
 * as ":+1:"; an address's port ("10.0.0.1:80,") and "fail: refused" are
 * left as they are. (mailto: and xmpp: links need an '@', broken anyway.) */
static bool md_colon_links(const char *after)
{
	if (*after == '/')
		return true;
	const char *c = after;
	while ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' ||
	       *c == '+' || *c == '-')
		c++;
	return c != after && *c == ':';
}

/* Escaped text (str_escape's) as Markdown text: what would end a table cell,
 * start a code span, emphasis, a link or HTML is escaped, backslashes too,
 * and what GitHub would make a link of is broken up (above), so that the
 * page shows the escaped text as it is. */
static void md_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '&':
			fputs("&amp;", out);
			break;
		case '\\':
		case '|':
		case '`':
		case '*':
		case '_':
		case '[':
		case ']':
		case '~':
			fputc('\\', out);
			fputc(*s, out);
			break;
		case '@':
			fputs("@" MD_NO_LINK, out);
			break;
		case ':':
			fputs(md_colon_links(s + 1) ? ":" MD_NO_LINK : ":", out);
			break;
		case '#':
			fputs(s[1] >= '0' && s[1] <= '9' ? "#" MD_NO_LINK : "#", out);
			break;
		case 'w':
		case 'W':
			if (strncasecmp(s, "www.", 4) == 0) {
				fwrite(s, 1, 3, out);
				fputs(MD_NO_LINK, out);
				s += 2;
				break;
			}
			/* fall through */
		default:
			fputc(*s, out);
		}
	}
}

/* Escaped text as a code span: nothing inside one is markup, and only a
 * backtick could end it, so the fence is longer than any run of them
 * (CommonMark; the spaces keep a backtick at either end off the fence). */
static void md_code(FILE *out, const char *s)
{
	size_t longest_run = 0, run = 0;
	for (const char *c = s; *c; c++) {
		run = *c == '`' ? run + 1 : 0;
		if (run > longest_run)
			longest_run = run;
	}
	if (longest_run == 0) {
		fprintf(out, "`%s`", s);
		return;
	}
	for (size_t i = 0; i <= longest_run; i++)
		fputc('`', out);
	fprintf(out, " %s ", s);
	for (size_t i = 0; i <= longest_run; i++)
		fputc('`', out);
}

static void markdown_report(FILE *out, const struct check_run *run)
{
	size_t ok = check_count_ok(run);
	autofree char *lab = str_escape(run->lab);
	fprintf(out, "### testbed check ");
	md_text(out, lab);
	fprintf(out, "\n\n%s **%zu passed, %zu failed** of %zu probe%s%s\n", ok == run->n_probes ? "✅" : "❌", ok,
		run->n_probes - ok, run->n_probes, run->n_probes == 1 ? "" : "s",
		model_words(run));
	if (run->plan) {
		autofree char *summary = safe_summary(run->plan);
		fprintf(out, "\nBuilt by ");
		md_text(out, summary);
		fprintf(out, "; images:");
		for (size_t i = 0; i < run->plan->n_images; i++) {
			autofree char *name = str_escape(run->plan->images[i].name);
			autofree char *sha = xasprintf("sha256:%s", run->plan->images[i].sha256);
			autofree char *safe_sha = str_escape(sha);
			fprintf(out, "%s ", i ? "," : "");
			md_code(out, name);
			fputc(' ', out);
			md_code(out, safe_sha);
		}
		fputc('\n', out);
	}
	bool any_table = false;
	autofree struct table_key *keys = NULL;
	size_t n_keys = table_keys(run, &keys);
	for (size_t i = 0; i < n_keys; i++) {
		struct table t;
		if (table_build(run, keys[i].proto, keys[i].port, TABLE_MAX, &t) && !t.cells) {
			autofree char *summary = table_summary(&t);
			fprintf(out, "\n");
			md_text(out, summary);
			fputc('\n', out);
		} else if (t.cells) {
			fprintf(out, "\n**%s**\n\n| from \\\\ to |", t.title);
			for (size_t c = 0; c < t.n_cols; c++) {
				fputc(' ', out);
				md_text(out, t.col_text[c]);
				fprintf(out, " |");
			}
			fprintf(out, "\n|---|");
			for (size_t c = 0; c < t.n_cols; c++)
				fprintf(out, ":---:|");
			fputc('\n', out);
			for (size_t r = 0; r < t.n_rows; r++) {
				fprintf(out, "| ");
				md_text(out, t.row_text[r]);
				fprintf(out, " |");
				for (size_t c = 0; c < t.n_cols; c++)
					fprintf(out, " %s |", markdown_marks[t.cells[r * t.n_cols + c]]);
				fputc('\n', out);
			}
			any_table = true;
		}
		table_free(&t);
	}
	if (any_table)
		fprintf(out, "\n✅ passed as expected · 🚫 blocked as expected · ❌ failed, expected to pass · "
			     "⚠️ passed, expected to fail · %s– not probed\n",
			any_other_failure(run) ? "❗ failed, not the way expected · " : "");
	bool any_counts = false;
	for (size_t i = 0; i < run->n_probes; i++) {
		struct check_view v;
		check_view(run, i, &v);
		if (!v.n_counts)
			continue;
		if (!any_counts)
			fprintf(out, "\n#### Answers\n\n");
		any_counts = true;
		autofree char *label = probe_label(run, v.p);
		autofree char *counts = counts_text(&v);
		fprintf(out, "- ");
		md_code(out, label);
		fprintf(out, ": ");
		md_text(out, counts);
		fputc('\n', out);
	}
	size_t names = 0;
	for (size_t i = 0; i < run->n_probes && names <= FAILURES_SHOWN; i++) {
		struct check_view v;
		check_view(run, i, &v);
		autofree char *dns = dns_text(&v);
		if (!dns)
			continue;
		if (!names)
			fprintf(out, "\n#### Names\n\n");
		if (names++ == FAILURES_SHOWN) {
			fprintf(out, "- ... (");
			md_text(out, more_failures);
			fprintf(out, ")\n");
			break;
		}
		autofree char *label = probe_label(run, v.p);
		fprintf(out, "- ");
		md_code(out, label);
		fprintf(out, ": ");
		md_text(out, dns);
		fputc('\n', out);
	}
	if (ok != run->n_probes) {
		fprintf(out, "\n#### Failures\n\n");
		size_t shown = 0, bad = run->n_probes - ok;
		for (size_t i = 0; i < run->n_probes; i++) {
			const struct check_probe *p = &run->probes[i];
			if (check_probe_ok(p))
				continue;
			if (shown++ == FAILURES_SHOWN) {
				fprintf(out, "- ... and %zu more (", bad - FAILURES_SHOWN);
				md_text(out, more_failures);
				fprintf(out, ")\n");
				break;
			}
			struct check_view v;
			check_view(run, i, &v);
			autofree char *label = probe_label(run, p);
			autofree char *reason = probe_reason(&v);
			fprintf(out, "- ");
			md_code(out, label);
			fprintf(out, ": ");
			md_text(out, reason);
			fputc('\n', out);
		}
	}
}

int report_write(FILE *out, enum report_format f, const struct check_run *run, const struct report_style *s)
{
	switch (f) {
	case REPORT_TEXT:
		text_report(out, run, s);
		break;
	case REPORT_JSON:
		json_report(out, run);
		break;
	case REPORT_JUNIT:
		junit_report(out, run);
		break;
	case REPORT_TAP:
		tap_report(out, run);
		break;
	case REPORT_MARKDOWN:
		markdown_report(out, run);
		break;
	}
	if (fflush(out) != 0 || ferror(out)) {
		if (!errno)
			errno = EIO;
		return -1;
	}
	return 0;
}
