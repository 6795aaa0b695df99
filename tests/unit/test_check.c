/* Expectations: parsing, validation and their expansion into probes. */
#include "check.h"
#include "diag.h"
#include "harness.h"
#include "jsondoc.h"
#include "plan.h"
#include "topology.h"

#define IMAGES "\"images\": {\"pod\": \"img.tar\", \"node\": \"img.tar\"}"
/* Two nodes: a and b on n1, c (no server) and d (its own command) on n2;
 * a host h on a bridge. */
#define LAB                                                                                                   \
	"\"name\": \"k\", " IMAGES ", "                                                                        \
	"\"bridges\": [{\"name\": \"br0\"}], \"hosts\": [{\"name\": \"h\", \"image\": \"pod\", \"http\": 9000, " \
	"\"interfaces\": {\"eth0\": \"192.168.5.2/24\"}}], \"links\": [[\"h:eth0\", \"br0\"]], "                \
	"\"nodes\": [{\"name\": \"n1\", \"pods\": [{\"name\": \"a\"}, {\"name\": \"b\", \"http\": 8080}]}, "     \
	"{\"name\": \"n2\", \"pods\": [{\"name\": \"c\", \"http\": false}, {\"name\": \"d\", \"http\": 7000, \"command\": "     \
	"[\"/bin/sleep\", \"1d\"]}]}]"

static void free_plan(struct plan *p)
{
	if (p)
		plan_free(p);
	free(p);
}

/* Parses TEXT and compiles its plan, where expectations are checked. */
static struct plan *load(const char *text, struct diag *d)
{
	diag_init(d, "t.json");
	struct json_doc *doc = json_doc_parse("t.json", text, d);
	struct tb_topology *t = doc ? topology_from_doc(doc, "../bad", d) : NULL;
	if (!t)
		return NULL;
	struct plan *p = xcalloc(1, sizeof(*p));
	struct tb_err e;
	if (plan_build(t, "t.json", p, &e) < 0) {
		harness_fail(__FILE__, __LINE__, "plan_build: %s", e.msg);
		free(p);
		p = NULL;
	}
	topology_free(t);
	return p;
}

static const struct check_probe *find(const struct check_run *r, const char *from, const char *to, enum tb_proto proto)
{
	for (size_t i = 0; i < r->n_probes; i++)
		if (strcmp(r->probes[i].from_name, from) == 0 && strcmp(r->probes[i].to_name, to) == 0 &&
		    r->probes[i].proto == proto)
			return &r->probes[i];
	return NULL;
}

TEST(check_default_model_is_every_pod_to_every_other_pod)
{
	struct diag d;
	struct plan *t = load("{" LAB "}", &d);
	CHECK(t != NULL);
	if (!t)
		return;
	struct check_run r;
	CHECK(check_compile(t, &r, &d));
	CHECK(r.default_model);
	/* 4 pods: 12 ordered pairs; ping to all; http to a and b; tcp to d; c has no server. */
	CHECK_INT(r.n_probes, 12 + 3 * 2 + 3);
	const struct check_probe *p = find(&r, "a", "b", TB_PROTO_HTTP);
	CHECK(p && p->port == 8080 && p->expect_pass && p->client_ip == TB_CLIENT_IP_PRESERVED);
	CHECK(p && p->from_address == t->machines[plan_find(t, "a")].address && p->to_address == t->machines[plan_find(t, "b")].address);
	CHECK(find(&r, "a", "c", TB_PROTO_HTTP) == NULL);
	CHECK(find(&r, "a", "c", TB_PROTO_PING) != NULL);
	p = find(&r, "a", "d", TB_PROTO_TCP);
	CHECK(p && p->port == 7000 && p->client_ip == TB_CLIENT_IP_ANY);
	CHECK(find(&r, "a", "a", TB_PROTO_PING) == NULL);
	CHECK(find(&r, "h", "a", TB_PROTO_PING) == NULL);
	check_run_free(&r);
	free_plan(t);
	diag_free(&d);
}

TEST(check_expectations_expand_and_default_their_ports)
{
	struct diag d;
	struct plan *t = load("{" LAB ", \"expect\": ["
				     "{\"from\": \"*\", \"to\": \"b\", \"proto\": \"tcp\"},"
				     "{\"from\": \"h\", \"to\": \"gateway\", \"proto\": \"ping\", \"result\": \"fail\"},"
				     "{\"from\": \"a\", \"to\": \"h\"},"
				     "{\"from\": \"n1\", \"to\": \"c\", \"port\": 81, \"result\": \"fail\"}]}",
				     &d);
	for (size_t i = 0; i < d.count; i++)
		fprintf(stderr, "  unexpected: %s\n", d.messages[i]);
	CHECK(t != NULL);
	if (!t)
		return;
	struct check_run r;
	CHECK(check_compile(t, &r, &d));
	CHECK(!r.default_model);
	CHECK_INT(r.n_probes, 3 + 1 + 1 + 1);
	const struct check_probe *p = find(&r, "a", "b", TB_PROTO_TCP);
	CHECK(p && p->port == 8080 && p->expect == 0);
	CHECK(find(&r, "b", "b", TB_PROTO_TCP) == NULL);
	p = find(&r, "h", "gateway", TB_PROTO_PING);
	CHECK(p && !p->expect_pass && p->port == 0 && p->to_address == t->machines[plan_find(t, "gateway")].address);
	p = find(&r, "a", "h", TB_PROTO_HTTP);
	CHECK(p && p->port == 9000 && p->to_address == t->machines[plan_find(t, "h")].address);
	p = find(&r, "n1", "c", TB_PROTO_HTTP);
	CHECK(p && p->port == 81 && p->from_address == t->machines[plan_find(t, "n1")].address);
	check_run_free(&r);
	free_plan(t);
	diag_free(&d);
}

TEST(check_the_more_specific_expectation_wins)
{
	struct diag d;
	struct plan *t = load("{" LAB ", \"expect\": ["
				     "{\"from\": \"a\", \"to\": \"b\", \"result\": \"fail\"},"
				     "{\"from\": \"*\", \"to\": \"*\", \"result\": \"pass\"},"
				     "{\"from\": \"*\", \"to\": \"a\", \"result\": \"fail\"}]}",
				     &d);
	for (size_t i = 0; i < d.count; i++)
		fprintf(stderr, "  unexpected: %s\n", d.messages[i]);
	CHECK(t != NULL);
	if (!t)
		return;
	struct check_run r;
	CHECK(check_compile(t, &r, &d));
	CHECK_INT(r.n_probes, 12);
	const struct check_probe *p = find(&r, "a", "b", TB_PROTO_HTTP);
	CHECK(p && !p->expect_pass && p->expect == 0);
	p = find(&r, "b", "a", TB_PROTO_HTTP);
	CHECK(p && !p->expect_pass && p->expect == 2);
	p = find(&r, "b", "c", TB_PROTO_HTTP);
	CHECK(p && p->expect_pass && p->expect == 1 && p->port == 8000);
	check_run_free(&r);
	free_plan(t);
	diag_free(&d);
}

TEST(check_an_empty_expect_list_checks_nothing)
{
	struct diag d;
	struct plan *t = load("{" LAB ", \"expect\": []}", &d);
	CHECK(t != NULL);
	if (!t)
		return;
	struct check_run r;
	CHECK(check_compile(t, &r, &d));
	CHECK(!r.default_model);
	CHECK_INT(r.n_probes, 0);
	check_run_free(&r);
	free_plan(t);
	diag_free(&d);
}

TEST(check_a_full_mesh_of_many_pods_compiles_quickly)
{
	/* 300 pods on 3 nodes: 89,700 ordered pairs each way through the hash. */
	char *text = xstrdup("{\"name\": \"big\", " IMAGES ", \"nodes\": [");
	for (int n = 0; n < 3; n++) {
		char *more = xasprintf("%s%s{\"name\": \"n%d\", \"pods\": [", text, n ? ", " : "", n);
		free(text);
		text = more;
		for (int p = 0; p < 100; p++) {
			more = xasprintf("%s%s{\"name\": \"p%d-%d\"}", text, p ? ", " : "", n, p);
			free(text);
			text = more;
		}
		more = xasprintf("%s]}", text);
		free(text);
		text = more;
	}
	char *full = xasprintf("%s], \"expect\": [{\"from\": \"*\", \"to\": \"*\", \"proto\": \"ping\"}]}", text);
	free(text);
	struct diag d;
	long long start = now_ms();
	struct plan *t = load(full, &d);
	CHECK(t != NULL);
	if (t) {
		struct check_run r;
		CHECK(check_compile(t, &r, &d));
		CHECK_INT(r.n_probes, 300 * 299);
		check_run_free(&r);
	}
	/* Generous: a linear search per probe would take minutes. */
	CHECK(now_ms() - start < 20000);
	free_plan(t);
	diag_free(&d);
	free(full);
}

/* Loading a topology leaves contradictions to check_validate, which finds
 * the expectation's line in the model. */
TEST(check_validate_reports_contradictions_on_a_loaded_model)
{
	struct diag d;
	struct plan *t = load("{" LAB ", \"expect\": [\n"
				     "{\"from\": \"*\", \"to\": \"b\", \"result\": \"pass\"},\n"
				     "{\"from\": \"a\", \"to\": \"*\", \"result\": \"fail\"}]}",
				     &d);
	CHECK(t != NULL);
	if (!t)
		return;
	CHECK(!check_validate(t, &d));
	CHECK_INT(d.count, 1);
	if (d.count)
		CHECK_STR(d.messages[0], "t.json:3: expect[1]: contradicts expect[0] for a -> b http:8080");
	free_plan(t);
	diag_free(&d);
}
