/* Report writers on hand-built check runs: the exact text, the tables'
 * marks, escaping, and that each format parses back. */
#define _GNU_SOURCE
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "harness.h"
#include "plan/plan.h"
#include "check/report.h"
#include "util/util.h"

/* The machines probes name, shared by every test: found by name, added when new. */
static struct plan_machine machines[512];
static size_t n_machines;

static uint32_t machine(const char *name)
{
	for (size_t i = 0; i < n_machines; i++)
		if (strcmp(machines[i].name, name) == 0)
			return (uint32_t)i;
	machines[n_machines] = (struct plan_machine){.name = (char *)name, .address = 0x0a000001 + (uint32_t)n_machines};
	return (uint32_t)n_machines++;
}

/* Where probes go, shared the same way: machine TO on PROTO and PORT, its
 * own answerer. */
static struct check_target targets[512];
static uint32_t answerers[512];
static size_t n_targets;

static uint32_t target(const char *to, enum tb_proto proto, uint16_t port)
{
	uint32_t m = machine(to);
	for (size_t i = 0; i < n_targets; i++)
		if (targets[i].end == m && targets[i].proto == proto && targets[i].port == port)
			return (uint32_t)i;
	answerers[n_targets] = m;
	targets[n_targets] = (struct check_target){.end = m, .address = machines[m].address, .port = port,
						   .proto = (uint8_t)proto, .answerers = (uint32_t)n_targets, .n_answerers = 1};
	return (uint32_t)n_targets++;
}

/* A probe that ran (its error, if any, is set by run_of). */
static struct check_probe probe(const char *from, const char *to, enum tb_proto proto, uint16_t port, bool expect_pass,
				enum probe_outcome outcome)
{
	return (struct check_probe){.from = machine(from), .to = target(to, proto, port), .expect_pass = expect_pass,
				    .outcome = outcome, .latency_us = 1250, .attempts = 1};
}

/* A run of N PROBES; ERRORS[i], when given and not NULL, is probe i's error. */
static struct check_run run_of(const char *lab, struct check_probe *probes, size_t n, const char *const *errors)
{
	struct check_run run = {.lab = lab, .machines = machines, .n_machines = n_machines, .targets = targets,
				.n_targets = n_targets, .answerers = answerers, .n_answerers = n_targets, .probes = probes,
				.n_probes = n, .duration_ms = 12, .timeout_ms = 1000};
	for (size_t i = 0; errors && i < n; i++)
		if (errors[i])
			check_probe_set_error(&run, i, errors[i]);
	return run;
}

/* Frees what the run's details hold; its probes and targets are the caller's. */
static void run_done(struct check_run *run)
{
	run->probes = NULL;
	run->n_probes = 0;
	run->targets = NULL;
	run->answerers = NULL;
	check_run_free(run);
}

/* a->b http passes; b->a http refused (F); a->c tcp blocked as expected (x);
 * c->a tcp passes though it should not (P); a->b ping passes. */
static struct check_run sample(struct check_probe *probes)
{
	probes[0] = probe("a", "b", TB_PROTO_HTTP, 8000, true, PROBE_PASS);
	probes[1] = probe("b", "a", TB_PROTO_HTTP, 8000, true, PROBE_FAIL);
	probes[2] = probe("a", "c", TB_PROTO_TCP, 81, false, PROBE_FAIL);
	probes[3] = probe("c", "a", TB_PROTO_TCP, 81, false, PROBE_PASS);
	probes[4] = probe("a", "b", TB_PROTO_PING, 0, true, PROBE_PASS);
	static const char *const errors[] = {NULL, "connection refused", "connection refused", NULL, NULL};
	return run_of("lab1", probes, 5, errors);
}

static char *render(enum report_format f, const struct check_run *run, bool colour, bool verbose)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct report_style s = {.colour = colour, .verbose = verbose};
	CHECK_INT(report_write(out, f, run, &s), 0);
	fclose(out);
	return buf;
}

TEST(report_formats_parse_by_name)
{
	enum report_format f;
	CHECK(report_format_parse("junit", &f) && f == REPORT_JUNIT);
	CHECK(report_format_parse("markdown", &f) && f == REPORT_MARKDOWN);
	CHECK(!report_format_parse("yaml", &f));
	CHECK_STR(report_format_name(REPORT_TAP), "tap");
}

TEST(report_text_has_truth_tables_failures_and_a_summary_line)
{
	struct check_probe probes[5];
	struct check_run run = sample(probes);
	char *text = render(REPORT_TEXT, &run, false, false);
	CHECK_STR(text, "testbed check lab1: 5 probes, 12 ms\n"
			"\n"
			"http  a  b\n"
			"a     -  .\n"
			"b     F  -\n"
			"\n"
			"tcp  a  c\n"
			"a    -  x\n"
			"c    P  -\n"
			"\n"
			"ping  b\n"
			"a     .\n"
			"\n"
			". passed as expected   x blocked as expected   F failed, expected to pass   "
			"P passed, expected to fail   - not probed\n"
			"\n"
			"failures:\n"
			"  b -> a http:8000: expected pass, got fail: connection refused (1.2 ms)\n"
			"  c -> a tcp:81: expected fail, got pass (1.2 ms)\n"
			"\n"
			"3 passed, 2 failed\n");
	CHECK(strchr(text, '\033') == NULL);
	free(text);
	run_done(&run);
}

/* The mesh's schedule runs probes in groups, not in the topology's order:
 * the tables still list machines as the topology does. */
TEST(report_tables_follow_the_topology_not_the_schedule)
{
	machine("m1");
	machine("m2");
	machine("m3");
	struct check_probe probes[6] = {
		probe("m2", "m1", TB_PROTO_HTTP, 8000, true, PROBE_PASS),
		probe("m3", "m1", TB_PROTO_HTTP, 8000, true, PROBE_PASS),
		probe("m1", "m2", TB_PROTO_HTTP, 8000, true, PROBE_PASS),
		probe("m3", "m2", TB_PROTO_HTTP, 8000, true, PROBE_FAIL),
		probe("m1", "m3", TB_PROTO_HTTP, 8000, true, PROBE_PASS),
		probe("m2", "m3", TB_PROTO_HTTP, 8000, true, PROBE_PASS),
	};
	struct check_run run = run_of("lab1", probes, 6, NULL);
	char *text = render(REPORT_TEXT, &run, false, false);
	CHECK(strstr(text, "http  m1  m2  m3\n"
			   "m1    -   .   .\n"
			   "m2    .   -   .\n"
			   "m3    .   F   -\n") != NULL);
	free(text);
	run_done(&run);
}

TEST(report_text_colours_only_when_asked)
{
	struct check_probe probes[5];
	struct check_run run = sample(probes);
	char *text = render(REPORT_TEXT, &run, true, false);
	CHECK(strstr(text, "\033[31mF\033[0m") != NULL);
	CHECK(strstr(text, "\033[32m.\033[0m") != NULL);
	free(text);
	run_done(&run);
}

TEST(report_text_worst_mark_wins_in_a_cell)
{
	struct check_probe probes[2] = {probe("a", "b", TB_PROTO_TCP, 80, true, PROBE_PASS),
					probe("a", "b", TB_PROTO_TCP, 81, true, PROBE_FAIL)};
	static const char *const errors[] = {NULL, "connection refused"};
	struct check_run run = run_of("l", probes, 2, errors);
	char *text = render(REPORT_TEXT, &run, false, false);
	CHECK(strstr(text, "tcp  b\na    F\n") != NULL);
	free(text);
	run_done(&run);
}

TEST(report_text_verbose_lists_every_probe_and_path_notes)
{
	struct check_probe probes[5];
	struct check_run run = sample(probes);
	check_probe_set_path_note(&run, 1, xstrdup("b eth0 -> 10.0.0.1: ARP needed\nnode1 eth0 -> 10.10.0.1: REACHABLE"));
	char *text = render(REPORT_TEXT, &run, false, true);
	CHECK(strstr(text, "probes:\n  . a -> b http:8000: pass, 1.25 ms, answered by b\n") != NULL);
	CHECK(strstr(text, "    b eth0 -> 10.0.0.1: ARP needed\n    node1 eth0 -> 10.10.0.1: REACHABLE\n") != NULL);
	free(text);
	run_done(&run);
}

TEST(report_text_prints_wide_tables_with_vertical_names)
{
	enum { N = 60 };
	static char names[N][16];
	static struct check_probe probes[N];
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "pod-%04d", i);
		probes[i] = probe("client", names[i], TB_PROTO_PING, 0, true, PROBE_PASS);
	}
	struct check_run run = run_of("wide", probes, N, NULL);
	char *text = render(REPORT_TEXT, &run, false, false);
	size_t longest = 0;
	for (char *line = text; *line;) {
		size_t len = strcspn(line, "\n");
		if (len > longest)
			longest = len;
		line += len + (line[len] == '\n');
	}
	CHECK(longest <= 130);
	/* The last header line holds each name's last character. */
	CHECK(strstr(text, "ping   0 1 2 3 4 5 6 7 8 9 0 1") != NULL);
	CHECK(strstr(text, "client . . . .") != NULL);
	free(text);
	run_done(&run);
}

TEST(report_json_parses_back_with_every_field)
{
	struct check_probe probes[5];
	struct check_run run = sample(probes);
	char *text = render(REPORT_JSON, &run, false, false);
	cJSON *root = cJSON_Parse(text);
	CHECK(root != NULL);
	if (root) {
		cJSON *summary = cJSON_GetObjectItem(root, "summary");
		CHECK_INT(cJSON_GetObjectItem(summary, "passed")->valuedouble, 3);
		CHECK_INT(cJSON_GetObjectItem(summary, "failed")->valuedouble, 2);
		cJSON *p = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "probes"), 1);
		CHECK_STR(cJSON_GetObjectItem(p, "from")->valuestring, "b");
		CHECK_STR(cJSON_GetObjectItem(p, "got")->valuestring, "fail");
		CHECK_STR(cJSON_GetObjectItem(p, "error")->valuestring, "connection refused");
		CHECK(cJSON_IsFalse(cJSON_GetObjectItem(p, "ok")));
		CHECK_INT(cJSON_GetObjectItem(p, "port")->valuedouble, 8000);
		CHECK(cJSON_IsNull(cJSON_GetObjectItem(p, "answeredBy")));
		p = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "probes"), 4);
		CHECK(cJSON_IsNull(cJSON_GetObjectItem(p, "port")));
		CHECK(cJSON_GetObjectItem(p, "latencyMs")->valuedouble == 1.25);
	}
	cJSON_Delete(root);
	free(text);
	run_done(&run);
}

TEST(report_json_carries_the_truth_tables)
{
	struct check_probe probes[5];
	struct check_run run = sample(probes);
	char *text = render(REPORT_JSON, &run, false, false);
	cJSON *root = cJSON_Parse(text);
	CHECK(root != NULL);
	if (root) {
		/* One table per protocol, as the text report's; cells as its marks. */
		autofree char *tables = cJSON_PrintUnformatted(cJSON_GetObjectItem(root, "truthTables"));
		CHECK_STR(tables, "[{\"title\":\"http\",\"proto\":\"http\",\"port\":null,\"probes\":2,\"notAsExpected\":1,"
				  "\"rows\":[\"a\",\"b\"],\"columns\":[\"a\",\"b\"],\"cells\":[[null,\"allowed\"],[\"denied\",null]]},"
				  "{\"title\":\"tcp\",\"proto\":\"tcp\",\"port\":null,\"probes\":2,\"notAsExpected\":1,"
				  "\"rows\":[\"a\",\"c\"],\"columns\":[\"a\",\"c\"],"
				  "\"cells\":[[null,\"expected-denied\"],[\"unexpectedly-allowed\",null]]},"
				  "{\"title\":\"ping\",\"proto\":\"ping\",\"port\":null,\"probes\":1,\"notAsExpected\":0,"
				  "\"rows\":[\"a\"],\"columns\":[\"b\"],\"cells\":[[\"allowed\"]]}]");
	}
	cJSON_Delete(root);
	free(text);
	run_done(&run);
}

TEST(report_junit_escapes_what_it_quotes)
{
	struct check_probe probes[1] = {probe("a", "b", TB_PROTO_HTTP, 80, true, PROBE_FAIL)};
	static const char *const errors[] = {"<&\"'>"};
	struct check_run run = run_of("l", probes, 1, errors);
	char *xml = render(REPORT_JUNIT, &run, false, false);
	CHECK(strstr(xml, "tests=\"1\" failures=\"1\"") != NULL);
	CHECK(strstr(xml, "message=\"expected pass, got fail: &lt;&amp;&quot;&apos;&gt;\"") != NULL);
	CHECK(strstr(xml, "<&") == NULL);
	CHECK(strstr(xml, "classname=\"testbed.l.http\" name=\"a -&gt; b http:80 expected pass\"") != NULL);
	free(xml);
	run_done(&run);
}

TEST(report_tap_counts_and_explains_failures)
{
	struct check_probe probes[5];
	struct check_run run = sample(probes);
	char *tap = render(REPORT_TAP, &run, false, false);
	CHECK(strncmp(tap, "TAP version 13\n1..5\nok 1 - a -> b http:8000 expected pass\n"
			   "not ok 2 - b -> a http:8000 expected pass\n  ---\n"
			   "  message: 'expected pass, got fail: connection refused'\n",
		      strlen("TAP version 13\n1..5\nok 1 - a -> b http:8000 expected pass\n"
			     "not ok 2 - b -> a http:8000 expected pass\n  ---\n"
			     "  message: 'expected pass, got fail: connection refused'\n")) == 0);
	free(tap);
	run_done(&run);
	struct check_probe quote[1] = {probe("a", "b", TB_PROTO_HTTP, 80, true, PROBE_FAIL)};
	static const char *const errors[] = {"it's"};
	run = run_of("l", quote, 1, errors);
	tap = render(REPORT_TAP, &run, false, false);
	CHECK(strstr(tap, "message: 'expected pass, got fail: it''s'") != NULL);
	free(tap);
	run_done(&run);
}

TEST(report_markdown_tables_have_a_cell_per_column)
{
	struct check_probe probes[5];
	struct check_run run = sample(probes);
	char *md = render(REPORT_MARKDOWN, &run, false, false);
	CHECK(strstr(md, "| from \\\\ to | a | b |\n|---|:---:|:---:|\n| a | – | ✅ |\n| b | ❌ | – |\n") != NULL);
	CHECK(strstr(md, "| a | – | 🚫 |\n| c | ⚠️ | – |\n") != NULL);
	CHECK(strstr(md, "- `b -> a http:8000`: expected pass, got fail: connection refused\n") != NULL);
	free(md);
	run_done(&run);
}

TEST(report_an_empty_run_is_valid_in_every_format)
{
	struct check_run run = {.lab = "empty"};
	for (int f = REPORT_TEXT; f <= REPORT_MARKDOWN; f++) {
		char *out = render((enum report_format)f, &run, false, false);
		CHECK(out && *out);
		if (f == REPORT_TEXT)
			CHECK(strstr(out, "\n0 passed, 0 failed\n") != NULL);
		if (f == REPORT_TAP)
			CHECK_STR(out, "TAP version 13\n1..0\n");
		free(out);
	}
}

/* Every format carries how the lab was built, from its saved plan: testbed's
 * version, each image's sha256 and the phases of up. */
TEST(report_formats_carry_the_build_of_the_lab)
{
	struct plan plan = {.version = "9.8.7", .routing = TB_ROUTING_VXLAN,
			    .timings = {.images = 10, .machines = 20, .network = 30, .servers = 40, .total = 1234}};
	struct plan_image images[] = {{.name = "pod", .path = "/i/pod.tar.zst"}};
	snprintf(images[0].sha256, sizeof(images[0].sha256), "%s",
		 "3211aff5051e8c8869cc172fbe73ca8d5e11a63ae76c678509928ac853b9ef35");
	plan.images = images;
	plan.n_images = 1;
	struct check_probe probes[5];
	struct check_run run = sample(probes);
	run.plan = &plan;
	const char *sha = "3211aff5051e8c8869cc172fbe73ca8d5e11a63ae76c678509928ac853b9ef35";
	const char *summary = "testbed 9.8.7, routing vxlan; up took 1.23 s (images 0.01, machines 0.02, network 0.03, "
			      "servers 0.04)";
	enum report_format formats[] = {REPORT_TEXT, REPORT_JSON, REPORT_JUNIT, REPORT_TAP, REPORT_MARKDOWN};
	for (size_t i = 0; i < ARRAY_SIZE(formats); i++) {
		char *text = render(formats[i], &run, false, false);
		if (!strstr(text, sha))
			harness_fail(__FILE__, __LINE__, "%s: no image sha256", report_format_name(formats[i]));
		if (formats[i] != REPORT_JSON && !strstr(text, summary))
			harness_fail(__FILE__, __LINE__, "%s: no build summary", report_format_name(formats[i]));
		free(text);
	}
	char *json = render(REPORT_JSON, &run, false, false);
	cJSON *root = cJSON_Parse(json);
	const cJSON *build = cJSON_GetObjectItemCaseSensitive(root, "build");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(build, "testbed")), "9.8.7");
	const cJSON *timings = cJSON_GetObjectItemCaseSensitive(build, "timingsMs");
	CHECK(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(timings, "total")) == 1234);
	cJSON_Delete(root);
	free(json);
	char *tap = render(REPORT_TAP, &run, false, false);
	CHECK(strstr(tap, "TAP version 13\n1..5\n# built by testbed 9.8.7") == tap);
	free(tap);
	run_done(&run);
}

/* What a pod's server says (and names from an edited plan) reaches reports
 * escaped: no raw ESC or CR, no line split by it, no table cell or link
 * injected into markdown. */
static const char hostile[] = "\x1b[31mred\r\nINJECTED|cell `code` *b* _i_ [l](http://x) <b>";

static struct check_run hostile_run(struct check_probe *probes)
{
	probes[0] = probe("a", "b", TB_PROTO_HTTP, 80, true, PROBE_FAIL);
	/* A source whose name an edited plan gave a newline, a pipe and ESC. */
	probes[1] = probe("c\nINJECTED|\x1b[1m", "b", TB_PROTO_HTTP, 80, true, PROBE_FAIL);
	static const char *const errors[] = {hostile, "connection refused"};
	struct check_run run = run_of("lab\x1b[2J", probes, 2, errors);
	check_probe_set_answer(&run, 0, "\x1b]0;title\x07x|y\nINJECTED");
	check_probe_set_client(&run, 0, "\r\nINJECTED|\x1b[2J");
	check_probe_set_path_note(&run, 0, xstrdup("a eth0 -> 10.0.0.1: \x1b[5mARP\r needed\nb\xc2\x9b|x\xff"));
	return run;
}

/* The number of unescaped '|' in the line at S. */
static int markdown_cells(const char *s)
{
	int n = 0;
	for (; *s && *s != '\n'; s++) {
		if (*s == '\\' && s[1] && s[1] != '\n')
			s++;
		else if (*s == '|')
			n++;
	}
	return n;
}

TEST(report_escapes_control_characters_in_every_format)
{
	struct check_probe probes[2];
	struct check_run run = hostile_run(probes);
	enum report_format formats[] = {REPORT_TEXT, REPORT_JSON, REPORT_JUNIT, REPORT_TAP, REPORT_MARKDOWN};
	for (size_t i = 0; i < ARRAY_SIZE(formats); i++)
		for (int verbose = 0; verbose <= 1; verbose++) {
			char *out = render(formats[i], &run, false, verbose);
			const char *name = report_format_name(formats[i]);
			if (strchr(out, '\x1b'))
				harness_fail(__FILE__, __LINE__, "%s: a raw ESC", name);
			if (strchr(out, '\r'))
				harness_fail(__FILE__, __LINE__, "%s: a raw CR", name);
			if (strstr(out, "\x07"))
				harness_fail(__FILE__, __LINE__, "%s: a raw BEL", name);
			if (strstr(out, "\xc2\x9b") || strstr(out, "\xff"))
				harness_fail(__FILE__, __LINE__, "%s: a raw C1 control or a byte that is not UTF-8", name);
			if (strstr(out, "\nINJECTED") || strstr(out, "\n  INJECTED") || strstr(out, "\n    INJECTED"))
				harness_fail(__FILE__, __LINE__, "%s: a line split by a server's answer:\n%s", name, out);
			free(out);
		}
	run_done(&run);
}

TEST(report_text_shows_control_characters_escaped)
{
	struct check_probe probes[2];
	struct check_run run = hostile_run(probes);
	char *text = render(REPORT_TEXT, &run, false, true);
	CHECK(strstr(text, "testbed check lab\\x1b[2J: 2 probes") != NULL);
	CHECK(strstr(text, ", answered by \\x1b]0;title\\x07x|y\\x0aINJECTED, client \\x0d\\x0aINJECTED|\\x1b[2J: "
			   "\\x1b[31mred\\x0d\\x0aINJECTED|cell") != NULL);
	CHECK(strstr(text, "    a eth0 -> 10.0.0.1: \\x1b[5mARP\\x0d needed\n    b\\xc2\\x9b|x\\xff\n") != NULL);
	if (!strstr(text, "\nc\\x0aINJECTED|\\x1b[1m  F\n"))
		harness_fail(__FILE__, __LINE__, "no escaped row name:\n%s", text);
	free(text);
	char *tap = render(REPORT_TAP, &run, false, false);
	CHECK(strstr(tap, "  answered_by: '\\x1b]0;title\\x07x|y\\x0aINJECTED'\n") != NULL);
	free(tap);
	run_done(&run);
}

TEST(report_markdown_cannot_be_given_cells_links_or_markup)
{
	struct check_probe probes[2];
	struct check_run run = hostile_run(probes);
	char *md = render(REPORT_MARKDOWN, &run, false, false);
	/* Every table line keeps its columns: from, then a and b's columns... */
	int header = -1;
	for (const char *line = md; *line; line += strcspn(line, "\n") + (line[strcspn(line, "\n")] == '\n')) {
		if (*line != '|')
			continue;
		if (header < 0)
			header = markdown_cells(line);
		else if (markdown_cells(line) != header)
			harness_fail(__FILE__, __LINE__, "a table line with %d cells, not %d: %.*s", markdown_cells(line),
				     header, (int)strcspn(line, "\n"), line);
	}
	CHECK_INT(header, 3); /* "| from \\ to | b |" */
	CHECK(strstr(md, "| c\\\\x0aINJECTED\\|\\\\x1b\\[1m | ❌ |\n") != NULL);
	/* ...and a server's answer opens no code span, emphasis, link or tag. */
	CHECK(strstr(md, "\\\\x1b\\[31mred\\\\x0d\\\\x0aINJECTED\\|cell \\`code\\` \\*b\\* \\_i\\_ \\[l\\](http:&#8203;//x) "
			 "&lt;b&gt;\n") != NULL);
	CHECK(strstr(md, "### testbed check lab\\\\x1b\\[2J\n") != NULL);
	CHECK(strstr(md, "[l]") == NULL && strstr(md, "<b>") == NULL);
	free(md);
	run_done(&run);
}

TEST(report_markdown_code_spans_outlast_backticks_in_names)
{
	struct check_probe probes[1] = {probe("a`b", "c``d", TB_PROTO_TCP, 80, true, PROBE_FAIL)};
	static const char *const errors[] = {"x"};
	struct check_run run = run_of("l", probes, 1, errors);
	char *md = render(REPORT_MARKDOWN, &run, false, false);
	CHECK(strstr(md, "- ``` a`b -> c``d tcp:80 ```: expected pass, got fail: x\n") != NULL);
	free(md);
	run_done(&run);
}

TEST(report_junit_is_valid_xml_with_control_characters_escaped)
{
	struct check_probe probes[2];
	struct check_run run = hostile_run(probes);
	char *xml = render(REPORT_JUNIT, &run, false, false);
	CHECK(strstr(xml, "message=\"expected pass, got fail: \\x1b[31mred\\x0d\\x0aINJECTED|cell `code` *b* _i_ "
			  "[l](http://x) &lt;b&gt;\"") != NULL);
	CHECK(strstr(xml, "\na eth0 -&gt; 10.0.0.1: \\x1b[5mARP\\x0d needed\nb\\xc2\\x9b|x\\xff</failure>") != NULL);
	for (const unsigned char *c = (const unsigned char *)xml; *c; c++)
		if (*c < 0x20 && *c != '\n') {
			harness_fail(__FILE__, __LINE__, "a control character 0x%02x in XML", *c);
			break;
		}
	free(xml);
	run_done(&run);
}

/* Texts are cut to their limits (CHECK_NAME_MAX, CHECK_ERROR_MAX, 32 bytes)
 * between characters, never within one. */
TEST(report_texts_are_cut_between_characters)
{
	struct check_probe probes[1] = {probe("a", "b", TB_PROTO_HTTP, 80, true, PROBE_FAIL)};
	struct check_run run = run_of("l", probes, 1, NULL);
	char text[200];
	memset(text, 'x', sizeof(text));
	/* A euro sign (3 bytes) across each limit: 62 + 3 > 63, 158 + 3 > 159, 30 + 3 > 31. */
	memcpy(text + 62, "\xe2\x82\xac", 3);
	text[65] = '\0';
	check_probe_set_answer(&run, 0, text);
	memset(text, 'x', sizeof(text));
	memcpy(text + 158, "\xe2\x82\xac", 3);
	text[161] = '\0';
	check_probe_set_error(&run, 0, text);
	memcpy(text + 30, "\xe2\x82\xac", 3);
	text[33] = '\0';
	check_probe_set_client(&run, 0, text);
	struct check_view v;
	check_view(&run, 0, &v);
	CHECK_INT(strlen(v.answered_by), 62);
	CHECK_INT(strlen(v.error), 158);
	CHECK_INT(strlen(v.client), 30);
	/* What fits stays whole. */
	check_probe_set_answer(&run, 0, "caf\xc3\xa9");
	check_view(&run, 0, &v);
	CHECK_STR(v.answered_by, "caf\xc3\xa9");
	run_done(&run);
}

/* A pod that answers what no report format may hold raw: U+FFFE, ESC, a
 * line separator, a byte that is not UTF-8, a character the answer's limit
 * cuts through, and what GitHub would link: www. and https:// URLs, an
 * @mention, an :emoji:, an #issue and mail addresses. */
static char *strict_answer(void)
{
	static const char start[] = "\xef\xbf\xbe\x1b[1m www.a.io https://b.io @octo :+1: #12 \xe2\x80\xa8\xff";
	char *answer = xcalloc(1, 66);
	memcpy(answer, start, strlen(start));
	memset(answer + strlen(start), 'x', 62 - strlen(start));
	memcpy(answer + 62, "\xe2\x82\xac", 3); /* bytes 62 to 64: the limit (63) cuts it */
	return answer;
}

/* What str_escape makes of the answer as it was kept (62 bytes). */
#define STRICT_ANSWER "\\xef\\xbf\\xbe\\x1b[1m www.a.io https://b.io @octo :+1: #12 \\xe2\\x80\\xa8\\xffxxxxxxxxxxxxx"

static struct check_run strict_run(struct check_probe *probes)
{
	probes[0] = probe("a", "b", TB_PROTO_HTTP, 80, true, PROBE_FAIL);
	probes[1] = probe("c", "b", TB_PROTO_HTTP, 80, true, PROBE_FAIL);
	struct check_run run = run_of("lab", probes, 2, NULL);
	autofree char *answer = strict_answer();
	check_probe_set_answer(&run, 0, answer);
	struct check_view v;
	check_view(&run, 0, &v);
	/* As the probe engine words it. */
	autofree char *error = xasprintf("answered by \"%s\", not b", v.answered_by);
	check_probe_set_error(&run, 0, error);
	char long_error[200];
	snprintf(long_error, sizeof(long_error), "%-158s\xe2\x82\xac", "mail me@x.io, mailto:me@x.io, WWW.X.IO/y :smile:");
	check_probe_set_error(&run, 1, long_error);
	/* 19 bytes, 11 more, then a euro sign across the limit (31). */
	check_probe_set_client(&run, 1, "\xef\xbf\xbf 10.0.0.1:80\xe2\x80\xa9 xxxxxxxxxxx\xe2\x82\xac");
	return run;
}

TEST(report_every_format_is_well_formed_whatever_a_pod_answers)
{
	struct check_probe probes[2];
	struct check_run run = strict_run(probes);
	enum report_format formats[] = {REPORT_TEXT, REPORT_JSON, REPORT_JUNIT, REPORT_TAP, REPORT_MARKDOWN};
	/* U+FFFE, U+FFFF (XML 1.0 and YAML forbid them), U+2028, U+2029 (line breaks to YAML 1.1), C1. */
	static const char *const banned[] = {"\xef\xbf\xbe", "\xef\xbf\xbf", "\xe2\x80\xa8", "\xe2\x80\xa9", "\xc2\x9b"};
	for (size_t i = 0; i < ARRAY_SIZE(formats); i++)
		for (int verbose = 0; verbose <= 1; verbose++) {
			char *out = render(formats[i], &run, false, verbose);
			const char *name = report_format_name(formats[i]);
			size_t len = strlen(out), valid = utf8_valid_prefix(out, len);
			if (valid != len)
				harness_fail(__FILE__, __LINE__, "%s: not UTF-8 at byte %zu: %.20s", name, valid, out + valid);
			for (size_t k = 0; k < ARRAY_SIZE(banned); k++)
				if (strstr(out, banned[k]))
					harness_fail(__FILE__, __LINE__, "%s: holds a character XML or YAML forbids", name);
			for (const unsigned char *c = (const unsigned char *)out; *c; c++)
				if (*c < 0x20 && *c != '\n' && *c != '\t') {
					harness_fail(__FILE__, __LINE__, "%s: a raw control character 0x%02x", name, *c);
					break;
				}
			free(out);
		}
	run_done(&run);
}

/* json shows texts as every other format does (str_escape's), so that its
 * strings are UTF-8 and jq -r prints them as safely as the text report. */
TEST(report_json_holds_texts_escaped_as_the_other_formats_do)
{
	struct check_probe probes[2];
	struct check_run run = strict_run(probes);
	char *json = render(REPORT_JSON, &run, false, true);
	cJSON *root = cJSON_Parse(json);
	CHECK(root != NULL);
	const cJSON *list = cJSON_GetObjectItem(root, "probes");
	const cJSON *p = cJSON_GetArrayItem(list, 0);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(p, "answeredBy")), STRICT_ANSWER);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(p, "error")), "answered by \"" STRICT_ANSWER "\", not b");
	p = cJSON_GetArrayItem(list, 1);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(p, "client")),
		  "\\xef\\xbf\\xbf 10.0.0.1:80\\xe2\\x80\\xa9 xxxxxxxxxxx");
	const char *error = cJSON_GetStringValue(cJSON_GetObjectItem(p, "error"));
	CHECK(error && strlen(error) == 158 && error[157] == ' ');
	cJSON_Delete(root);
	free(json);
	run_done(&run);
}

TEST(report_junit_and_tap_show_what_xml_and_yaml_forbid_escaped)
{
	struct check_probe probes[2];
	struct check_run run = strict_run(probes);
	char *xml = render(REPORT_JUNIT, &run, false, false);
	CHECK(strstr(xml, "message=\"expected pass, got fail: answered by &quot;" STRICT_ANSWER "&quot;, not b\"") != NULL);
	free(xml);
	char *tap = render(REPORT_TAP, &run, false, false);
	CHECK(strstr(tap, "  message: 'expected pass, got fail: answered by \"" STRICT_ANSWER "\", not b'\n"
			  "  expected: pass\n  got: fail\n  answered_by: '" STRICT_ANSWER "'\n") != NULL);
	free(tap);
	run_done(&run);
}

/* docs/check.md: no answer adds a link (nor a mention, an emoji or a reference). */
TEST(report_markdown_makes_no_link_mention_or_emoji_of_an_answer)
{
	struct check_probe probes[2];
	struct check_run run = strict_run(probes);
	char *md = render(REPORT_MARKDOWN, &run, false, false);
	CHECK(strstr(md, "answered by \"\\\\xef\\\\xbf\\\\xbe\\\\x1b\\[1m www&#8203;.a.io https:&#8203;//b.io @&#8203;octo "
			 ":&#8203;+1: #&#8203;12 \\\\xe2\\\\x80\\\\xa8\\\\xffxxxxxxxxxxxxx\", not b\n") != NULL);
	CHECK(strstr(md, "mail me@&#8203;x.io, mailto:me@&#8203;x.io, WWW&#8203;.X.IO/y :&#8203;smile:") != NULL);
	static const char *const links[] = {"www.", "WWW.", "://", "@o", "@x", ":+1:", ":smile:", "#12"};
	for (size_t i = 0; i < ARRAY_SIZE(links); i++)
		if (strstr(md, links[i]))
			harness_fail(__FILE__, __LINE__, "markdown holds \"%s\":\n%s", links[i], md);
	/* Colons that start neither keep no zero-width space: ours, an address's port. */
	CHECK(strstr(md, "expected pass, got fail: answered by") != NULL);
	free(md);
	run_done(&run);
	struct check_probe port[1] = {probe("a", "b", TB_PROTO_HTTP, 80, true, PROBE_FAIL)};
	static const char *const errors[] = {"the server saw the client as 10.0.0.2:5555, not 10.0.0.1: rewritten"};
	run = run_of("l", port, 1, errors);
	md = render(REPORT_MARKDOWN, &run, false, false);
	CHECK(strstr(md, ": expected pass, got fail: the server saw the client as 10.0.0.2:5555, not 10.0.0.1: "
			 "rewritten\n") != NULL);
	free(md);
	run_done(&run);
}

/* A mesh of 300 sources and targets (89,700 probes), 250 of them failing:
 * text and markdown summarise instead of printing a 300 x 300 table and
 * cap the failures they list; json still lists every probe, parseable. */
TEST(report_large_runs_stay_readable_and_valid)
{
	enum { N = 300, BAD = 250 };
	static char names[N][16];
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "big-%03d", i);
		machine(names[i]);
	}
	size_t n = (size_t)N * (N - 1);
	struct check_probe *probes = xcalloc(n, sizeof(*probes));
	size_t k = 0;
	for (int a = 0; a < N; a++)
		for (int b = 0; b < N; b++)
			if (a != b) {
				probes[k] = probe(names[a], names[b], TB_PROTO_PING, 0, true,
						  k < BAD ? PROBE_FAIL : PROBE_PASS);
				k++;
			}
	struct check_run run = run_of("big", probes, n, NULL);
	for (size_t i = 0; i < BAD; i++)
		check_probe_set_error(&run, i, "no echo reply within 1000 ms");
	char *text = render(REPORT_TEXT, &run, false, false);
	CHECK(strstr(text, "ping: 89700 probes from 300 sources to 300 targets, 250 not as expected (no table past "
			   "128 rows or columns)\n") != NULL);
	CHECK(strstr(text, "\n  ... and 50 more (every probe is in --format json, junit or tap; -v lists them all "
			   "here)\n") != NULL);
	CHECK(strstr(text, "\n89450 passed, 250 failed\n") != NULL);
	size_t lines = 0;
	for (const char *c = text; *c; c++)
		lines += *c == '\n';
	CHECK(lines < 230);
	free(text);
	char *md = render(REPORT_MARKDOWN, &run, false, false);
	CHECK(strstr(md, "| from") == NULL);
	CHECK(strstr(md, "- ... and 50 more (") != NULL);
	free(md);
	char *json = render(REPORT_JSON, &run, false, false);
	cJSON *root = cJSON_Parse(json);
	CHECK(root != NULL);
	const cJSON *list = cJSON_GetObjectItem(root, "probes");
	CHECK_INT(cJSON_GetArraySize(list), n);
	const cJSON *last = cJSON_GetArrayItem(list, (int)n - 1);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(last, "from")), "big-299");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(last, "to")), "big-298");
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(last, "ok")));
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0), "error")),
		  "no echo reply within 1000 ms");
	cJSON_Delete(root);
	free(json);
	run_done(&run);
	free(probes);
}

/* udp: a table of its own between tcp and ping, the port in every format,
 * and who answered, as for http. */
TEST(report_udp_probes_show_like_the_others)
{
	struct check_probe probes[3] = {
		probe("a", "b", TB_PROTO_UDP, 5353, true, PROBE_PASS),
		probe("b", "a", TB_PROTO_UDP, 53, true, PROBE_FAIL),
		probe("a", "b", TB_PROTO_TCP, 80, true, PROBE_PASS),
	};
	static const char *const errors[] = {NULL, "port unreachable", NULL};
	struct check_run run = run_of("lab1", probes, 3, errors);
	char *text = render(REPORT_TEXT, &run, false, true);
	CHECK(strstr(text, "tcp  b\na    .\n\nudp  a  b\na    -  .\nb    F  -\n") != NULL);
	CHECK(strstr(text, "  . a -> b udp:5353: pass, 1.25 ms, answered by b\n") != NULL);
	CHECK(strstr(text, "  F b -> a udp:53: fail, 1.25 ms: port unreachable\n") != NULL);
	free(text);
	text = render(REPORT_JSON, &run, false, false);
	cJSON *root = cJSON_Parse(text);
	cJSON *p = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "probes"), 0);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(p, "proto")), "udp");
	CHECK_INT(cJSON_GetObjectItem(p, "port")->valuedouble, 5353);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(p, "answeredBy")), "b");
	cJSON_Delete(root);
	free(text);
	text = render(REPORT_JUNIT, &run, false, false);
	CHECK(strstr(text, "classname=\"testbed.lab1.udp\" name=\"b -&gt; a udp:53 expected pass\"") != NULL);
	free(text);
	text = render(REPORT_TAP, &run, false, false);
	CHECK(strstr(text, "not ok 2 - b -> a udp:53") != NULL);
	free(text);
	text = render(REPORT_MARKDOWN, &run, false, false);
	CHECK(strstr(text, "**udp**") != NULL);
	free(text);
	run_done(&run);
}
