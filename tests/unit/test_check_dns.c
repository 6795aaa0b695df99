/* Expectations that resolve names: DNS-name targets and proto dns, parsed
 * with their errors, compiled into targets the engine resolves, the
 * probing pod's resolver read from its plan files, a name's answer turned
 * into a target with what the lab has at that address, a dns probe's
 * answer compared, the saved plan, and the reports. */
#define _GNU_SOURCE
#include <arpa/nameser.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "check/check.h"
#include "check/report.h"
#include "fixtures.h"
#include "harness.h"
#include "model/compile.h"
#include "model/jsondoc.h"
#include "plan/plan.h"
#include "plan/plan_compile.h"
#include "util/diag.h"
#include "util/util.h"

/* client in namespace default, web-a and web-b (app=web) in shop; a
 * Service shop/web and a headless shop/db over them. */
#define LAB                                                                                                     \
	"\"name\": \"d\", \"images\": {\"pod\": \"img.tar\", \"node\": \"img.tar\"}, "                           \
	"\"nodes\": [{\"name\": \"n1\", \"pods\": [{\"name\": \"client\"}, {\"name\": \"web-a\", \"namespace\": " \
	"\"shop\", \"labels\": {\"app\": \"web\"}}]}, {\"name\": \"n2\", \"pods\": [{\"name\": \"web-b\", "        \
	"\"namespace\": \"shop\", \"labels\": {\"app\": \"web\"}}]}], "                                             \
	"\"objects\": [{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"shop\"}}, "    \
	"{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"web\", "                      \
	"\"namespace\": \"shop\"}, \"spec\": {\"selector\": {\"app\": \"web\"}, \"ports\": [{\"port\": 80, "      \
	"\"targetPort\": 8000}]}}, {\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": "     \
	"\"db\", \"namespace\": \"shop\"}, \"spec\": {\"clusterIP\": \"None\", \"selector\": {\"app\": \"web\"}, " \
	"\"ports\": [{\"port\": 8000}]}}]"

static struct plan *load(const char *expect, struct diag *d)
{
	autofree char *text = xasprintf("{" LAB ", \"expect\": %s}", expect);
	return fixture_load(text, d);
}

TEST(check_dns_fields_parse_with_their_errors)
{
	struct diag d;
	struct plan *p = load("[{\"from\": \"client\", \"to\": \"web.shop\", \"addresses\": [\"10.0.0.1\"]},\n"
			      "{\"from\": \"client\", \"to\": \"web.shop\", \"proto\": \"tcp\"},\n"
			      "{\"from\": \"client\", \"to\": \"service:shop/web\", \"failure\": \"nxdomain\"},\n"
			      "{\"from\": \"client\", \"to\": \"web\", \"proto\": \"dns\", \"port\": 53},\n"
			      "{\"from\": \"client\", \"to\": \"service:shop/web\", \"proto\": \"dns\"},\n"
			      "{\"from\": \"client\", \"to\": \"web\", \"proto\": \"dns\", \"type\": \"SRV\", \"addresses\": "
			      "[\"10.0.0.1\"]},\n"
			      "{\"from\": \"client\", \"to\": \"web\", \"proto\": \"dns\", \"addresses\": [\"10.0.0.300\"]},\n"
			      "{\"from\": \"client\", \"to\": \"web.shop\", \"type\": \"A\"},\n"
			      "{\"from\": \"web.shop\", \"to\": \"client\"},\n"
			      "{\"from\": \"client\", \"to\": \"dns:a..b\"},\n"
			      "{\"from\": \"client\", \"to\": \"web\", \"proto\": \"dns\", \"result\": \"fail\", "
			      "\"addresses\": []},\n"
			      "{\"from\": \"client\", \"to\": \"web\", \"proto\": \"dns\", \"type\": \"SRV\", \"records\": "
			      "[\"web.shop\"]},\n"
			      "{\"from\": \"client\", \"to\": \"web.shop\", \"port\": \"http\"}]",
			      &d);
	autofree char *got = fixture_messages(&d);
	CHECK_STR(got,
		  "t.json:1: expect[0].addresses: only dns probes have an answer to compare; proto is http\n"
		  "t.json:2: expect[1].to: tcp probes to a name need a port: give \"port\"\n"
		  "t.json:3: expect[2].failure: only a probe that resolves a name (proto dns, or a DNS name as \"to\") "
		  "fails with nxdomain\n"
		  "t.json:4: expect[3].port: a dns probe asks the nameservers of the pod's /etc/resolv.conf: it has no "
		  "port\n"
		  "t.json:5: expect[4].to: \"service:shop/web\": a dns probe asks a name: write it as the pod would "
		  "(\"web\", \"web.shop\", \"web.shop.svc.cluster.local.\") or as dns:NAME\n"
		  "t.json:6: expect[5].addresses: \"addresses\" is what A records hold; this probe asks SRV records (say "
		  "\"type\": \"SRV\", with \"records\")\n"
		  "t.json:7: expect[6].addresses[0]: \"10.0.0.300\": expected an IPv4 address\n"
		  "t.json:8: expect[7].type: only dns probes ask a record type; proto is http\n"
		  "t.json:9: expect[8].from: \"web.shop\": a probe starts from a machine, not a DNS name: name a pod, "
		  "node, host or external machine\n"
		  "t.json:10: expect[9].to: \"dns:a..b\": expected dns:NAME, a DNS name (\"dns:web.shop\", "
		  "\"dns:web.shop.svc.cluster.local.\")\n"
		  "t.json:11: expect[10].addresses: a probe expected to fail has no answer to compare\n"
		  "t.json:12: expect[11].records[0]: \"web.shop\": expected an SRV record's TARGET:PORT "
		  "(\"web-0.web.shop.svc.cluster.local:80\")\n"
		  "t.json:13: expect[12].port: a name's port is a number: its address has no port names\n");
	diag_free(&d);
	fixture_plan_free(p);
}

static const struct check_probe *find(const struct check_run *r, const char *to, enum tb_proto proto)
{
	for (size_t i = 0; i < r->n_probes; i++) {
		const struct check_target *t = check_target_of(r, &r->probes[i]);
		if (strcmp(check_end_name(r, t->end), to) == 0 && t->proto == proto)
			return &r->probes[i];
	}
	harness_fail(__FILE__, __LINE__, "no probe to %s", to);
	return NULL;
}

static size_t machine_named(const struct plan *p, const char *name)
{
	for (size_t m = 0; m < p->n_machines; m++)
		if (strcmp(p->machines[m].name, name) == 0)
			return m;
	return PLAN_NONE;
}

TEST(check_dns_targets_compile_to_names_the_engine_resolves)
{
	struct diag d;
	struct plan *p = load("[{\"from\": \"client\", \"to\": \"web.shop\"},"
			      "{\"from\": \"client\", \"to\": \"dns:web\", \"proto\": \"tcp\", \"port\": 8000},"
			      "{\"from\": \"client\", \"to\": \"db.shop.svc.cluster.local.\", \"proto\": \"ping\"},"
			      "{\"from\": \"client\", \"to\": \"web.shop\", \"proto\": \"dns\", \"addresses\": "
			      "[\"10.96.0.99\"]},"
			      "{\"from\": \"client\", \"to\": \"db.shop\", \"proto\": \"dns\", \"type\": \"SRV\", "
			      "\"records\": [\"Web-A.db.shop.svc.cluster.local.:8000\"]},"
			      "{\"from\": \"client\", \"to\": \"web.default\", \"proto\": \"dns\", \"failure\": "
			      "\"nxdomain\"}]",
			      &d);
	CHECK(p && d.count == 0);
	if (!p)
		return;
	struct check_run r;
	CHECK(check_compile(p, &r, &d));
	CHECK_INT(r.n_probes, 6);
	const struct check_probe *http = find(&r, "web.shop", TB_PROTO_HTTP);
	const struct check_probe *tcp = find(&r, "dns:web", TB_PROTO_TCP);
	const struct check_probe *ping = find(&r, "db.shop.svc.cluster.local.", TB_PROTO_PING);
	const struct check_probe *dns = find(&r, "web.shop", TB_PROTO_DNS);
	const struct check_probe *srv = find(&r, "db.shop", TB_PROTO_DNS);
	const struct check_probe *nx = find(&r, "web.default", TB_PROTO_DNS);
	if (!http || !tcp || !ping || !dns || !srv || !nx)
		return;
	const struct check_target *t = check_target_of(&r, http);
	/* No address until resolved; http's port 80, as a URL's. */
	CHECK(t->resolve && t->address == 0 && t->port == 80 && t->n_answerers == 0);
	CHECK_STR(check_target_name(&r, check_target_of(&r, tcp)), "web");
	CHECK_INT(check_target_of(&r, tcp)->port, 8000);
	CHECK_INT(check_target_of(&r, ping)->port, 0);
	CHECK(check_target_of(&r, dns)->dns_type == TB_DNS_A && check_target_of(&r, srv)->dns_type == TB_DNS_SRV);
	const struct check_rule *rule = check_rule_of(&r, dns);
	CHECK(rule && rule->has_answers && rule->n_answers == 1 && r.addresses[rule->answers] == 0x0a600063);
	rule = check_rule_of(&r, srv);
	CHECK(rule && rule->n_records == 1);
	if (rule && rule->n_records == 1)
		CHECK_STR(rule->records[0], "web-a.db.shop.svc.cluster.local:8000");
	CHECK(!nx->expect_pass && nx->expect_failure == TB_FAILURE_NXDOMAIN);
	autofree char *label = check_probe_label(&r, srv);
	CHECK_STR(label, "client -> db.shop dns SRV");

	/* The probing pod's resolver: its /etc/resolv.conf in the plan, as the
	 * kubelet writes it; a node has none. */
	size_t client = machine_named(p, "client");
	const char *why = NULL;
	const struct dns_resolver *res = check_resolver(&r, (uint32_t)client, &why);
	CHECK(res && res->n_nameservers == 1 && res->nameservers[0] == 0x0a60000a && res->ndots == 5);
	CHECK(res && res->n_search == 3 && strcmp(res->search[0], "default.svc.cluster.local") == 0);
	CHECK(check_resolver(&r, (uint32_t)machine_named(p, "n1"), &why) == NULL);
	CHECK(why != NULL);

	/* A name's answer: the Service's address is answered by its
	 * endpoints, a pod's by the pod; the same answer, the same target. */
	const struct plan_service *web = NULL;
	for (size_t k = 0; k < p->n_services; k++)
		if (strcmp(p->services[k].name, "web") == 0)
			web = &p->services[k];
	CHECK(web && web->cluster_ip);
	if (!web) {
		check_run_free(&r);
		fixture_plan_free(p);
		return;
	}
	uint32_t name = http->to;
	size_t before = r.n_targets;
	uint32_t to_service = check_target_resolved(&r, name, web->cluster_ip);
	CHECK_INT(r.n_targets, before + 1);
	const struct check_target *st = &r.targets[to_service];
	CHECK(st->name_of == name + 1 && st->address == web->cluster_ip && st->port == 80 && !st->resolve);
	CHECK_INT(st->n_answerers, 2);
	CHECK_INT(check_target_resolved(&r, name, web->cluster_ip), to_service);
	uint32_t to_pod = check_target_resolved(&r, tcp->to, p->machines[machine_named(p, "web-b")].address);
	CHECK_INT(r.targets[to_pod].n_answerers, 1);
	CHECK_INT(r.answerers[r.targets[to_pod].answerers], machine_named(p, "web-b"));
	CHECK_STR(check_end_name(&r, r.targets[to_pod].end), "dns:web");

	/* A dns probe's answer: exactly the addresses (or records) it says. */
	size_t i = (size_t)(dns - r.probes);
	uint32_t two[] = {0x0a600063, 0x0a600064};
	struct dns_answer a = {.name = "web.shop.svc.cluster.local", .addresses = two, .n_addresses = 1};
	char *diff = NULL;
	CHECK(check_probe_dns_ok(&r, i, &a, &diff));
	a.n_addresses = 2;
	CHECK(!check_probe_dns_ok(&r, i, &a, &diff));
	CHECK_STR(diff, "web.shop.svc.cluster.local answered 10.96.0.99, 10.96.0.100; expected 10.96.0.99");
	free(diff);
	struct dns_srv records[] = {{.target = "web-a.db.shop.svc.cluster.local", .port = 8000}};
	struct dns_answer s = {.name = "db.shop.svc.cluster.local", .srv = records, .n_srv = 1};
	CHECK(check_probe_dns_ok(&r, (size_t)(srv - r.probes), &s, &diff));
	records[0].port = 80;
	CHECK(!check_probe_dns_ok(&r, (size_t)(srv - r.probes), &s, &diff));
	free(diff);
	check_run_free(&r);
	fixture_plan_free(p);
	diag_free(&d);
}

TEST(check_dns_expectations_survive_the_saved_plan)
{
	struct diag d;
	struct plan *p = load("[{\"from\": \"client\", \"to\": \"db.shop\", \"proto\": \"dns\", \"type\": \"SRV\", "
			      "\"records\": [\"web-a.db.shop.svc.cluster.local:8000\"]},"
			      "{\"from\": \"client\", \"to\": \"web\", \"proto\": \"dns\", \"addresses\": []},"
			      "{\"from\": \"client\", \"to\": \"web.default\", \"failure\": \"servfail\"}]",
			      &d);
	CHECK(p && d.count == 0);
	if (!p)
		return;
	autofree char *json = plan_to_json(p, true);
	struct plan back = {0};
	struct tb_err e;
	CHECK_INT(plan_from_json(json, &back, &e), 0);
	CHECK_INT(back.n_expects, 3);
	if (back.n_expects == 3) {
		CHECK(back.expects[0].proto == TB_PROTO_DNS && back.expects[0].dns_type == TB_DNS_SRV);
		CHECK(back.expects[0].has_answers && back.expects[0].n_answers == 1);
		CHECK(back.expects[1].has_answers && back.expects[1].n_answers == 0);
		CHECK(back.expects[2].failure == TB_FAILURE_SERVFAIL && back.expects[2].port == 80);
	}
	autofree char *again = plan_to_json(&back, true);
	CHECK_STR(again, json);
	plan_free(&back);
	fixture_plan_free(p);
	diag_free(&d);
}

static char *render(enum report_format f, const struct check_run *run)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct report_style s = {0};
	CHECK_INT(report_write(out, f, run, &s), 0);
	fclose(out);
	return buf;
}

TEST(check_dns_reports_show_the_name_and_address)
{
	struct diag d;
	struct plan *p = load("[{\"from\": \"client\", \"to\": \"web.shop\"},"
			      "{\"from\": \"client\", \"to\": \"web\", \"proto\": \"dns\", \"failure\": \"nxdomain\"},"
			      "{\"from\": \"client\", \"to\": \"db.shop\", \"proto\": \"dns\"}]",
			      &d);
	CHECK(p && d.count == 0);
	if (!p)
		return;
	struct check_run r;
	CHECK(check_compile(p, &r, &d));
	r.duration_ms = 5;
	r.timeout_ms = 1000;
	r.plan = NULL;
	/* As the engine leaves them: the name resolved and answered by
	 * web-a; NXDOMAIN where it was expected; a headless answer. */
	uint32_t addrs[] = {0x0a600014, 0x0a000102, 0x0a000202};
	struct dns_answer web = {.name = "web.shop.svc.cluster.local", .addresses = addrs, .n_addresses = 1};
	struct dns_answer db = {.name = "db.shop.svc.cluster.local", .addresses = addrs + 1, .n_addresses = 2};
	for (size_t i = 0; i < r.n_probes; i++) {
		struct check_probe *pr = &r.probes[i];
		pr->attempts = 1;
		pr->latency_us = 1000;
		const struct check_target *t = check_target_of(&r, pr);
		if (t->proto == TB_PROTO_HTTP) {
			check_probe_set_dns(&r, i, &web);
			pr->to = check_target_resolved(&r, pr->to, addrs[0]);
			check_probe_set_answer(&r, i, "web-a");
			pr->outcome = PROBE_PASS;
		} else if (strcmp(check_target_name(&r, t), "web") == 0) {
			pr->outcome = PROBE_FAIL;
			pr->failed = CHECK_FAILED_NXDOMAIN;
			check_probe_set_error(&r, i, "NXDOMAIN: no such name (asked web.default.svc.cluster.local, web)");
		} else {
			check_probe_set_dns(&r, i, &db);
			pr->outcome = PROBE_FAIL;
			pr->failed = CHECK_FAILED_ERROR;
			check_probe_set_error(&r, i, "made up, to show a failure's answer");
		}
	}
	autofree char *text = render(REPORT_TEXT, &r);
	CHECK_STR(text, "testbed check d: 3 probes, 5 ms\n"
			"\n"
			"http    web.shop\n"
			"client  .\n"
			"\n"
			"dns     web  db.shop\n"
			"client  x    F\n"
			"\n"
			". passed as expected   x blocked as expected   F failed, expected to pass   P passed, expected to "
			"fail   - not probed\n"
			"\n"
			"names:\n"
			"  client -> web.shop http:80: web.shop.svc.cluster.local: 10.96.0.20\n"
			"  client -> db.shop dns A: db.shop.svc.cluster.local: 10.0.1.2, 10.0.2.2\n"
			"\n"
			"failures:\n"
			"  client -> db.shop dns A: expected pass, got fail: made up, to show a failure's answer (1.0 ms)\n"
			"\n"
			"2 passed, 1 failed\n");
	autofree char *json = render(REPORT_JSON, &r);
	cJSON *doc = cJSON_Parse(json);
	CHECK(doc != NULL);
	const cJSON *probes = cJSON_GetObjectItem(doc, "probes");
	const cJSON *first = cJSON_GetArrayItem(probes, 0), *dns = cJSON_GetObjectItem(first, "dns");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(first, "to")), "web.shop");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(first, "answeredBy")), "web-a");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(dns, "name")), "web.shop.svc.cluster.local");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(dns, "address")), "10.96.0.20");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(dns, "answer"), 0)), "10.96.0.20");
	const cJSON *nx = cJSON_GetArrayItem(probes, 1);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(nx, "failure")), "nxdomain");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(nx, "failed")), "nxdomain");
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(nx, "dns"), "name")));
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(nx, "ok")));
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(nx, "proto")), "dns");
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(nx, "port")));
	cJSON_Delete(doc);
	autofree char *tap = render(REPORT_TAP, &r);
	CHECK(strstr(tap, "ok 1 - client -> web.shop http:80 expected pass\n"
			  "# resolved web.shop.svc.cluster.local: 10.96.0.20\n") != NULL);
	CHECK(strstr(tap, "  resolved: 'db.shop.svc.cluster.local: 10.0.1.2, 10.0.2.2'\n") != NULL);
	autofree char *junit = render(REPORT_JUNIT, &r);
	CHECK(strstr(junit, "<system-out>resolved web.shop.svc.cluster.local: 10.96.0.20</system-out>") != NULL);
	autofree char *markdown = render(REPORT_MARKDOWN, &r);
	CHECK(strstr(markdown, "#### Names\n\n- `client -> web.shop http:80`: web.shop.svc.cluster.local: 10.96.0.20\n") !=
	      NULL);
	check_run_free(&r);
	fixture_plan_free(p);
	diag_free(&d);
}
