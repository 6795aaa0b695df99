/* apply and delete's pure halves: editing a lab's object set as kubectl
 * apply -f and delete -f do (model/k8s_apply.c), and telling what a
 * running lab may change between two plans (plan/plan_diff.c). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "harness.h"
#include "model/docwalk.h"
#include "model/jsondoc.h"
#include "model/k8s_apply.h"
#include "plan/plan.h"
#include "plan/ingress_nginx.h"
#include "plan/plan_diff.h"
#include "util/diag.h"
#include "util/util.h"

#define SET                                                                                                  \
	"[{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"x\", \"labels\": "      \
	"{\"team\": \"x\"}}},"                                                                                 \
	" {\"apiVersion\": \"networking.k8s.io/v1\", \"kind\": \"NetworkPolicy\", \"metadata\": {\"name\": "  \
	"\"p\", \"namespace\": \"x\"}, \"spec\": {\"podSelector\": {}}},"                                      \
	" {\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"a\", \"namespace\": \"x\", "   \
	"\"labels\": {\"app\": \"a\"}}, \"spec\": {\"containers\": [{\"name\": \"c\", \"image\": \"i\"}]}}]"

struct edit {
	cJSON *objects, *where;
	struct diag d;
	bool ok;
};

/* SET edited by the manifest TEXT (JSON), applied or deleted. */
static void edit(struct edit *x, const char *text, bool delete)
{
	x->objects = cJSON_Parse(SET);
	x->where = cJSON_CreateArray();
	for (int i = 0; i < cJSON_GetArraySize(x->objects); i++)
		cJSON_AddItemToArray(x->where, cJSON_CreateString("lab.json:1"));
	diag_init(&x->d, "in.json");
	struct json_doc *doc = json_doc_parse("in.json", text, &x->d);
	CHECK(doc != NULL);
	if (!doc)
		return;
	struct docwalk w = {.doc = doc, .d = &x->d, .columns = true};
	x->ok = k8s_set_edit(x->objects, x->where, &w, delete);
	json_doc_free(doc);
}

static void edit_free(struct edit *x)
{
	cJSON_Delete(x->objects);
	cJSON_Delete(x->where);
	diag_free(&x->d);
}

static bool said(const struct edit *x, const char *part)
{
	for (size_t i = 0; i < x->d.count; i++)
		if (strstr(x->d.messages[i], part))
			return true;
	harness_fail(__FILE__, __LINE__, "no message says \"%s\" (%zu messages: %s)", part, x->d.count,
		     x->d.count ? x->d.messages[0] : "");
	return false;
}

static const char *label_of(const cJSON *objects, int i, const char *key)
{
	const cJSON *l = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(objects, i), "metadata"), "labels");
	const cJSON *v = cJSON_GetObjectItem(l, key);
	return cJSON_IsString(v) ? v->valuestring : "";
}

TEST(apply_replaces_by_kind_namespace_and_name)
{
	struct edit x;
	edit(&x, "[{\"kind\": \"Namespace\", \"apiVersion\": \"v1\", \"metadata\": {\"name\": \"x\", \"labels\": "
		 "{\"team\": \"q\"}}}]",
	     false);
	CHECK(x.ok);
	CHECK_INT(cJSON_GetArraySize(x.objects), 3);
	CHECK_STR(label_of(x.objects, 0, "team"), "q");
	CHECK_STR(cJSON_GetArrayItem(x.where, 0)->valuestring, "in.json:1");
	CHECK_STR(cJSON_GetArrayItem(x.where, 1)->valuestring, "lab.json:1");
	edit_free(&x);
}

TEST(apply_creates_what_is_new_in_the_default_namespace)
{
	struct edit x;
	/* A policy p without a namespace is default/p, not x/p. */
	edit(&x, "[{\"kind\": \"NetworkPolicy\", \"apiVersion\": \"networking.k8s.io/v1\", \"metadata\": "
		 "{\"name\": \"p\"}, \"spec\": {\"podSelector\": {}}}]",
	     false);
	CHECK(x.ok);
	CHECK_INT(cJSON_GetArraySize(x.objects), 4);
	CHECK_INT(cJSON_GetArraySize(x.where), 4);
	CHECK_STR(k8s_set_where(x.objects, x.where, "NetworkPolicy", "default", "p"), "in.json:1");
	CHECK_STR(k8s_set_where(x.objects, x.where, "NetworkPolicy", "x", "p"), "lab.json:1");
	edit_free(&x);
}

TEST(apply_opens_a_list)
{
	struct edit x;
	edit(&x, "[{\"kind\": \"List\", \"apiVersion\": \"v1\", \"items\": [{\"kind\": \"Namespace\", "
		 "\"apiVersion\": \"v1\", \"metadata\": {\"name\": \"z\"}}, {\"kind\": \"Namespace\", "
		 "\"apiVersion\": \"v1\", \"metadata\": {\"name\": \"x\"}}]}]",
	     false);
	CHECK(x.ok);
	CHECK_INT(cJSON_GetArraySize(x.objects), 4);
	/* x replaced whole: its labels are gone, as kubectl apply of the whole object leaves them. */
	CHECK_STR(label_of(x.objects, 0, "team"), "");
	edit_free(&x);
}

TEST(delete_removes_and_missing_is_not_found)
{
	struct edit x;
	edit(&x, "[{\"kind\": \"NetworkPolicy\", \"apiVersion\": \"networking.k8s.io/v1\", \"metadata\": "
		 "{\"name\": \"p\", \"namespace\": \"x\"}}]",
	     true);
	CHECK(x.ok);
	CHECK_INT(cJSON_GetArraySize(x.objects), 2);
	CHECK_INT(cJSON_GetArraySize(x.where), 2);
	CHECK(!k8s_set_where(x.objects, x.where, "NetworkPolicy", "x", "p"));
	edit_free(&x);

	edit(&x, "[{\"kind\": \"NetworkPolicy\", \"apiVersion\": \"networking.k8s.io/v1\", \"metadata\": "
		 "{\"name\": \"p\", \"namespace\": \"y\"}}]",
	     true);
	CHECK(!x.ok);
	CHECK(said(&x, "NotFound: NetworkPolicy y/p"));
	CHECK_INT(cJSON_GetArraySize(x.objects), 3);
	edit_free(&x);
}

TEST(apply_pod_labels_keep_its_spec_and_refuse_a_new_one)
{
	struct edit x;
	edit(&x, "[{\"kind\": \"Pod\", \"apiVersion\": \"v1\", \"metadata\": {\"name\": \"a\", \"namespace\": "
		 "\"x\", \"labels\": {\"app\": \"b\"}}}]",
	     false);
	CHECK(x.ok);
	CHECK_STR(label_of(x.objects, 2, "app"), "b");
	CHECK(cJSON_GetObjectItem(cJSON_GetArrayItem(x.objects, 2), "spec") != NULL);
	edit_free(&x);

	edit(&x, "[{\"kind\": \"Pod\", \"apiVersion\": \"v1\", \"metadata\": {\"name\": \"a\", \"namespace\": "
		 "\"x\", \"labels\": {\"app\": \"b\"}}, \"spec\": {\"containers\": [{\"name\": \"c\", \"image\": "
		 "\"j\"}]}}]",
	     false);
	CHECK(!x.ok);
	CHECK(said(&x, "a pod's spec cannot change"));
	CHECK(said(&x, "[0].spec"));
	edit_free(&x);

	edit(&x, "[{\"kind\": \"Pod\", \"apiVersion\": \"v1\", \"metadata\": {\"name\": \"b\", \"namespace\": "
		 "\"x\"}}]",
	     false);
	CHECK(!x.ok);
	CHECK(said(&x, "the lab holds no Pod object of that name"));
	edit_free(&x);
}

TEST(apply_refuses_other_kinds_and_nameless_objects)
{
	struct edit x;
	edit(&x, "[{\"kind\": \"ConfigMap\", \"apiVersion\": \"v1\", \"metadata\": {\"name\": \"c\"}}, "
		 "{\"kind\": \"Namespace\", \"apiVersion\": \"v1\", \"metadata\": {}}]",
	     false);
	CHECK(!x.ok);
	CHECK(said(&x, "ConfigMap: not implemented for a running lab"));
	CHECK(said(&x, "needs a kind and a metadata.name"));
	edit_free(&x);
}

TEST(apply_takes_ingress_classes_cluster_scoped)
{
	/* An IngressClass has no namespace: one given is not part of its
	 * name, as a Namespace's is not. */
	struct edit x;
	edit(&x, "[{\"kind\": \"IngressClass\", \"apiVersion\": \"networking.k8s.io/v1\", \"metadata\": "
		 "{\"name\": \"nginx\"}, \"spec\": {\"controller\": \"k8s.io/ingress-nginx\"}}]",
	     false);
	CHECK(x.ok);
	int n = cJSON_GetArraySize(x.objects);
	struct json_doc *doc = json_doc_parse("in.json",
					      "[{\"kind\": \"IngressClass\", \"apiVersion\": \"networking.k8s.io/v1\", "
					      "\"metadata\": {\"name\": \"nginx\", \"namespace\": \"other\"}}]",
					      &x.d);
	struct docwalk w = {.doc = doc, .d = &x.d, .columns = true};
	CHECK(k8s_set_edit(x.objects, x.where, &w, true));
	CHECK_INT(cJSON_GetArraySize(x.objects), n - 1);
	json_doc_free(doc);
	edit_free(&x);
}

/* ---- plan_diff ---- */

#define IMAGES "\"images\": {\"pod\": \"img.tar\", \"node\": \"img.tar\"}"
#define POLICY                                                                                               \
	"{\"apiVersion\": \"networking.k8s.io/v1\", \"kind\": \"NetworkPolicy\", \"metadata\": {\"name\": "   \
	"\"deny\"}, \"spec\": {\"podSelector\": {\"matchLabels\": {\"app\": \"web\"}}, \"policyTypes\": "       \
	"[\"Ingress\"]}}"
#define LAB_WITH(web_labels, extra_pod, objects)                                                             \
	"{\"name\": \"d\", " IMAGES ", \"nodes\": [{\"name\": \"n1\", \"pods\": [{\"name\": \"web\", "         \
	"\"labels\": " web_labels "}" extra_pod "]}, {\"name\": \"n2\", \"pods\": [{\"name\": \"client\"}]}], " \
	"\"objects\": [" objects "]}"

TEST(plan_diff_allows_rules_and_labels)
{
	struct plan a, b;
	CHECK(fixture_plan(LAB_WITH("{\"app\": \"web\"}", "", POLICY), &a));
	CHECK(fixture_plan(LAB_WITH("{\"app\": \"other\"}", "", POLICY), &b));
	struct plan_changes pc;
	struct tb_err e;
	CHECK_INT(plan_diff(&a, &b, &pc, &e), 0);
	/* web no longer selected: n1's policy table changes. */
	bool netpol = false;
	for (size_t i = 0; i < pc.n_tables; i++)
		if (strstr(pc.tables[i].table, "netpol") && strcmp(a.machines[pc.tables[i].machine].name, "n1") == 0)
			netpol = true;
	CHECK(netpol);
	plan_changes_free(&pc);
	/* The same plan: nothing to load. */
	CHECK_INT(plan_diff(&a, &a, &pc, &e), 0);
	CHECK_INT(pc.n_tables, 0);
	CHECK_INT(pc.n_sysctls, 0);
	plan_changes_free(&pc);
	plan_free(&a);
	plan_free(&b);
}

TEST(plan_diff_adds_settings_and_keeps_dropped_ones)
{
	/* The first policy of a lab without Services: its nodes pass bridged
	 * traffic through their rules from then on. */
	struct plan a, b;
	CHECK(fixture_plan(LAB_WITH("{\"app\": \"web\"}", "", ""), &a));
	CHECK(fixture_plan(LAB_WITH("{\"app\": \"web\"}", "", POLICY), &b));
	struct plan_changes pc;
	struct tb_err e;
	if (plan_diff(&a, &b, &pc, &e) < 0)
		harness_fail(__FILE__, __LINE__, "%s", e.msg);
	CHECK(pc.n_sysctls > 0);
	CHECK(pc.n_tables > 0);
	for (size_t i = 0; i < pc.n_sysctls; i++)
		CHECK_STR(pc.sysctls[i]->u.sysctl.key, "net/bridge/bridge-nf-call-iptables");
	plan_changes_free(&pc);
	/* Back: what the setting was before is not known; it stays, and is said. */
	CHECK_INT(plan_diff(&b, &a, &pc, &e), 0);
	CHECK_INT(pc.n_sysctls, 0);
	CHECK(pc.n_kept > 0);
	for (size_t i = 0; i < pc.n_kept; i++)
		CHECK_STR(pc.kept[i]->u.sysctl.key, "net/bridge/bridge-nf-call-iptables");
	plan_changes_free(&pc);
	plan_free(&a);
	plan_free(&b);
}

#define SERVICE                                                                                              \
	"{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"s\"}, \"spec\": "     \
	"{\"selector\": {\"app\": \"web\"}, \"ports\": [{\"port\": 80}]}}"

TEST(plan_diff_deletes_a_table_the_new_plan_has_not)
{
	struct plan a, b;
	CHECK(fixture_plan(LAB_WITH("{\"app\": \"web\"}", "", SERVICE ", " POLICY), &a));
	CHECK(fixture_plan(LAB_WITH("{\"app\": \"web\"}", "", SERVICE), &b));
	struct plan_changes pc;
	struct tb_err e;
	if (plan_diff(&a, &b, &pc, &e) < 0)
		harness_fail(__FILE__, __LINE__, "%s", e.msg);
	bool deleted = false;
	for (size_t i = 0; i < pc.n_tables; i++)
		if (strstr(pc.tables[i].table, "netpol") && !pc.tables[i].ruleset)
			deleted = true;
	CHECK(deleted);
	plan_changes_free(&pc);
	plan_free(&a);
	plan_free(&b);
}

TEST(plan_diff_refuses_a_new_pod_by_name)
{
	struct plan a, b;
	CHECK(fixture_plan(LAB_WITH("{\"app\": \"web\"}", "", POLICY), &a));
	CHECK(fixture_plan(LAB_WITH("{\"app\": \"web\"}", ", {\"name\": \"extra\"}", POLICY), &b));
	struct plan_changes pc;
	struct tb_err e;
	CHECK_INT(plan_diff(&a, &b, &pc, &e), -1);
	CHECK(strstr(e.msg, "apply cannot add pod extra to a running lab") != NULL);
	CHECK_INT(plan_diff(&b, &a, &pc, &e), -1);
	CHECK(strstr(e.msg, "apply cannot remove pod extra") != NULL);
	plan_free(&a);
	plan_free(&b);
}

static const char *file_of(const struct plan_machine *m, const char *path)
{
	for (size_t i = 0; i < m->n_files; i++)
		if (strcmp(m->files[i].path, path) == 0)
			return m->files[i].content;
	return "";
}

#define SERVICE_NAMED(name, port)                                                                            \
	"{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"" name "\"}, \"spec\": " \
	"{\"selector\": {\"app\": \"web\"}, \"ports\": [{" port "\"port\": 80}]}}"

TEST(plan_diff_dns_hosts_change_reloads_with_a_probe)
{
	/* A second Service: a new A record, in the hosts file only. */
	struct plan a, b;
	CHECK(fixture_plan(LAB_WITH("{\"app\": \"web\"}", "", SERVICE), &a));
	CHECK(fixture_plan(LAB_WITH("{\"app\": \"web\"}", "", SERVICE ", " SERVICE_NAMED("t", "")), &b));
	struct plan_changes pc;
	struct tb_err e;
	if (plan_diff(&a, &b, &pc, &e) < 0)
		harness_fail(__FILE__, __LINE__, "%s", e.msg);
	CHECK(pc.dns.machine != PLAN_NONE);
	CHECK_STR(b.machines[pc.dns.machine].name, "coredns");
	CHECK(pc.dns.hosts != NULL);
	CHECK(pc.dns.config == NULL);
	CHECK(!pc.dns.restart);
	CHECK_STR(pc.dns.probe_name, "t.default.svc.cluster.local");
	CHECK(pc.dns.probe_present);
	CHECK(pc.dns.probe_address != 0);
	uint32_t added = pc.dns.probe_address;
	plan_changes_free(&pc);
	/* Back: the record removed, probed as gone. */
	CHECK_INT(plan_diff(&b, &a, &pc, &e), 0);
	CHECK_STR(pc.dns.probe_name, "t.default.svc.cluster.local");
	CHECK(!pc.dns.probe_present);
	CHECK(pc.dns.probe_address == added);
	plan_changes_free(&pc);
	/* The same records: nothing for DNS. */
	CHECK_INT(plan_diff(&a, &a, &pc, &e), 0);
	CHECK(pc.dns.machine == PLAN_NONE);
	plan_changes_free(&pc);
	plan_free(&a);
	plan_free(&b);
}

TEST(plan_diff_dns_named_port_restarts)
{
	/* A named port: an SRV record, which only the configuration gives. */
	struct plan a, b;
	CHECK(fixture_plan(LAB_WITH("{\"app\": \"web\"}", "", SERVICE), &a));
	CHECK(fixture_plan(LAB_WITH("{\"app\": \"web\"}", "", SERVICE_NAMED("s", "\"name\": \"http\", ")), &b));
	struct plan_changes pc;
	struct tb_err e;
	if (plan_diff(&a, &b, &pc, &e) < 0)
		harness_fail(__FILE__, __LINE__, "%s", e.msg);
	CHECK(pc.dns.machine != PLAN_NONE);
	CHECK(pc.dns.config != NULL);
	CHECK(strstr(pc.dns.config, "srv-host=_http._tcp.s.default.svc.cluster.local,") != NULL);
	CHECK(pc.dns.hosts == NULL);
	CHECK(pc.dns.restart);
	CHECK_INT((int)pc.dns.probe_address, 0);
	plan_changes_free(&pc);
	plan_free(&a);
	plan_free(&b);
}

TEST(plan_dns_probe_finds_added_then_removed_lines)
{
	struct plan_dns_change c;
	CHECK(plan_dns_probe("10.0.0.1 a.x\n10.0.0.2 b.x\n", "10.0.0.1 a.x\n10.0.0.3 b.x\n", &c));
	CHECK_STR(c.probe_name, "b.x");
	CHECK(c.probe_present);
	CHECK(c.probe_address == 0x0a000003);
	CHECK(plan_dns_probe("10.0.0.1 a.x\n10.0.0.2 b.x\n", "10.0.0.1 a.x\n", &c));
	CHECK_STR(c.probe_name, "b.x");
	CHECK(!c.probe_present);
	CHECK(!plan_dns_probe("10.0.0.1 a.x\n", "10.0.0.1 a.x\n", &c));
	CHECK_INT((int)c.probe_address, 0);
}

#define LB_SERVICE(ip)                                                                                       \
	"{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"lb\"}, \"spec\": "    \
	"{\"type\": \"LoadBalancer\", \"selector\": {\"app\": \"web\"}, \"ports\": [{\"port\": 80}]}, "        \
	"\"status\": {\"loadBalancer\": {\"ingress\": [{\"ip\": \"" ip "\"}]}}}"

TEST(plan_diff_adds_replaces_and_deletes_load_balancer_routes)
{
	struct plan a, b, c;
	CHECK(fixture_plan(LAB_WITH("{\"app\": \"web\"}", "", SERVICE), &a));
	CHECK(fixture_plan(LAB_WITH("{\"app\": \"web\"}", "", SERVICE ", " LB_SERVICE("192.0.2.20")), &b));
	CHECK(fixture_plan(LAB_WITH("{\"app\": \"web\"}", "", SERVICE ", " LB_SERVICE("192.0.2.21")), &c));
	struct plan_changes pc;
	struct tb_err e;
	if (plan_diff(&a, &b, &pc, &e) < 0)
		harness_fail(__FILE__, __LINE__, "%s", e.msg);
	/* The gateway's route to the new address, equal-cost over both nodes. */
	CHECK_INT(pc.n_routes, 1);
	CHECK(pc.routes[0].old == NULL);
	CHECK(pc.routes[0].new->u.route.dst.addr == 0xc0000214);
	CHECK_INT(pc.routes[0].new->u.route.n_also_via, 1);
	CHECK_STR(b.machines[pc.routes[0].new->machine].name, "gateway");
	/* Its multipath hashing is a setting apply adds. */
	bool hash = false;
	for (size_t i = 0; i < pc.n_sysctls; i++)
		hash = hash || strcmp(pc.sysctls[i]->u.sysctl.key, "net/ipv4/fib_multipath_hash_policy") == 0;
	CHECK(hash);
	plan_changes_free(&pc);
	/* Another address: one route goes, one comes. */
	CHECK_INT(plan_diff(&b, &c, &pc, &e), 0);
	CHECK_INT(pc.n_routes, 2);
	plan_changes_free(&pc);
	/* The Service gone: its route deleted. */
	CHECK_INT(plan_diff(&b, &a, &pc, &e), 0);
	CHECK_INT(pc.n_routes, 1);
	CHECK(pc.routes[0].new == NULL);
	CHECK(pc.routes[0].old->u.route.dst.addr == 0xc0000214);
	plan_changes_free(&pc);
	plan_free(&a);
	plan_free(&b);
	plan_free(&c);
}

#define INGRESS(host)                                                                                        \
	"{\"apiVersion\": \"networking.k8s.io/v1\", \"kind\": \"Ingress\", \"metadata\": {\"name\": \"i\"}, "  \
	"\"spec\": {\"ingressClassName\": \"nginx\", \"rules\": [{\"host\": \"" host "\", \"http\": {\"paths\": " \
	"[{\"path\": \"/\", \"pathType\": \"Prefix\", \"backend\": {\"service\": {\"name\": \"s\", \"port\": "   \
	"{\"number\": 80}}}}]}}]}}"

TEST(plan_diff_ingress_rewrites_nginx_conf_with_its_checksum)
{
	struct plan a, b;
	CHECK(fixture_plan(LAB_WITH("{\"app\": \"web\"}", "", SERVICE ", " INGRESS("a.example.com")), &a));
	CHECK(fixture_plan(LAB_WITH("{\"app\": \"web\"}", "", SERVICE ", " INGRESS("b.example.com")), &b));
	struct plan_changes pc;
	struct tb_err e;
	if (plan_diff(&a, &b, &pc, &e) < 0)
		harness_fail(__FILE__, __LINE__, "%s", e.msg);
	CHECK(pc.ingress.machine == b.ingress.controller);
	CHECK(strstr(pc.ingress.config, "server_name b.example.com") != NULL);
	CHECK_INT((int)strlen(pc.ingress.checksum), 16);
	char other[17];
	CHECK(ingress_nginx_checksum(file_of(&a.machines[a.ingress.controller], "/etc/nginx/ingress-nginx.conf"), other));
	CHECK(strcmp(other, pc.ingress.checksum) != 0);
	CHECK(pc.dns.machine == PLAN_NONE);
	plan_changes_free(&pc);
	CHECK_INT(plan_diff(&a, &a, &pc, &e), 0);
	CHECK(pc.ingress.machine == PLAN_NONE);
	plan_changes_free(&pc);
	plan_free(&a);
	plan_free(&b);
}
