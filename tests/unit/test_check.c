/* Expectations: parsing, validation and their expansion into probes. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <unistd.h>

#include "check/check.h"
#include "util/diag.h"
#include "fixtures.h"
#include "harness.h"
#include "model/compile.h"
#include "model/expect.h"
#include "model/jsondoc.h"
#include "plan/plan.h"
#include "plan/plan_compile.h"
#include "check/probe_batch.h"
#include "model/topology.h"

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

static const struct check_probe *find(const struct check_run *r, const char *from, const char *to, enum tb_proto proto)
{
	for (size_t i = 0; i < r->n_probes; i++) {
		const struct check_target *t = check_target_of(r, &r->probes[i]);
		if (strcmp(r->machines[r->probes[i].from].name, from) == 0 && strcmp(check_end_name(r, t->end), to) == 0 &&
		    t->proto == proto)
			return &r->probes[i];
	}
	return NULL;
}

/* What a probe's target is: its port, and the machine it names. */
#define PORT(p) (check_target_of(&r, (p))->port)
#define TO(p) (check_target_of(&r, (p))->end)

TEST(check_default_model_is_every_pod_to_every_other_pod)
{
	struct diag d;
	struct plan *t = fixture_load("{" LAB "}", &d);
	CHECK(t != NULL);
	if (!t)
		return;
	struct check_run r;
	CHECK(check_compile(t, &r, &d));
	CHECK(r.default_model);
	/* 4 pods: 12 ordered pairs; ping to all; http to a and b; tcp to d; c has no server.
	 * Then egress: each pod to the lab's internet, over http and ping. */
	CHECK_INT(r.n_probes, 12 + 3 * 2 + 3 + 4 * 2);
	const struct check_probe *p = find(&r, "a", "b", TB_PROTO_HTTP);
	CHECK(p && PORT(p) == 8080 && p->expect_pass && p->client_ip == TB_CLIENT_IP_PRESERVED);
	CHECK(p && p->from == plan_find(t, "a") && TO(p) == plan_find(t, "b"));
	CHECK(find(&r, "a", "c", TB_PROTO_HTTP) == NULL);
	CHECK(find(&r, "a", "c", TB_PROTO_PING) != NULL);
	p = find(&r, "a", "d", TB_PROTO_TCP);
	CHECK(p && PORT(p) == 7000 && p->client_ip == TB_CLIENT_IP_ANY);
	CHECK(find(&r, "a", "a", TB_PROTO_PING) == NULL);
	CHECK(find(&r, "h", "a", TB_PROTO_PING) == NULL);
	/* The internet sees the pod's node: egress is masqueraded. */
	p = find(&r, "c", "internet", TB_PROTO_HTTP);
	CHECK(p && PORT(p) == 8000 && p->client_ip == TB_CLIENT_IP_SOURCE_NODE);
	autofree char *label = p ? check_probe_label(&r, p) : NULL;
	CHECK_STR(label, "c -> internet http:8000 (client IP n2)");
	CHECK(find(&r, "c", "internet", TB_PROTO_PING) != NULL);
	check_run_free(&r);
	fixture_plan_free(t);
	diag_free(&d);
}

TEST(check_expectations_expand_and_default_their_ports)
{
	struct diag d;
	struct plan *t = fixture_load("{" LAB ", \"expect\": ["
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
	CHECK(p && PORT(p) == 8080 && p->expect == 0);
	CHECK(find(&r, "b", "b", TB_PROTO_TCP) == NULL);
	p = find(&r, "h", "gateway", TB_PROTO_PING);
	CHECK(p && !p->expect_pass && PORT(p) == 0 && TO(p) == plan_find(t, "gateway"));
	p = find(&r, "a", "h", TB_PROTO_HTTP);
	CHECK(p && PORT(p) == 9000 && TO(p) == plan_find(t, "h"));
	p = find(&r, "n1", "c", TB_PROTO_HTTP);
	CHECK(p && PORT(p) == 81 && p->from == plan_find(t, "n1"));
	check_run_free(&r);
	fixture_plan_free(t);
	diag_free(&d);
}

TEST(check_the_more_specific_expectation_wins)
{
	struct diag d;
	struct plan *t = fixture_load("{" LAB ", \"expect\": ["
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
	CHECK(p && p->expect_pass && p->expect == 1 && PORT(p) == 8000);
	check_run_free(&r);
	fixture_plan_free(t);
	diag_free(&d);
}

TEST(check_an_empty_expect_list_checks_nothing)
{
	struct diag d;
	struct plan *t = fixture_load("{" LAB ", \"expect\": []}", &d);
	CHECK(t != NULL);
	if (!t)
		return;
	struct check_run r;
	CHECK(check_compile(t, &r, &d));
	CHECK(!r.default_model);
	CHECK_INT(r.n_probes, 0);
	check_run_free(&r);
	fixture_plan_free(t);
	diag_free(&d);
}

/* N_NODES nodes of PODS pods each, with EXPECT (may be empty) (malloc'd). */
static char *mesh_topology(int n_nodes, int pods, const char *expect)
{
	char *text = xstrdup("{\"name\": \"big\", " IMAGES ", \"nodes\": [");
	for (int n = 0; n < n_nodes; n++) {
		char *more = xasprintf("%s%s{\"name\": \"n%d\", \"pods\": [", text, n ? ", " : "", n);
		free(text);
		text = more;
		for (int p = 0; p < pods; p++) {
			more = xasprintf("%s%s{\"name\": \"p%d-%d\"}", text, p ? ", " : "", n, p);
			free(text);
			text = more;
		}
		more = xasprintf("%s]}", text);
		free(text);
		text = more;
	}
	char *full = xasprintf("%s]%s}", text, expect);
	free(text);
	return full;
}

/* The mesh's schedule: every ordered pair once, an http then a ping; a
 * group of sources probes one target after another, so that a server takes
 * a group's connections in one burst; the probes in flight at once come
 * from at most a group's sources. */
TEST(check_the_mesh_schedule_takes_each_target_in_one_burst_per_group)
{
	enum { PODS = 150 };
	char *text = mesh_topology(10, PODS / 10, "");
	struct diag d;
	struct plan *t = fixture_load(text, &d);
	CHECK(t != NULL);
	if (!t) {
		free(text);
		return;
	}
	struct check_run r;
	CHECK(check_compile(t, &r, &d));
	/* The mesh, then each pod's egress to the internet (http and ping). */
	enum { MESH = PODS * (PODS - 1) * 2 };
	CHECK_INT(r.n_probes, MESH + PODS * 2);
	/* Machines are numbered with the nodes among them: pods by name. */
	size_t *pod = xcalloc(r.n_machines, sizeof(*pod));
	for (size_t m = 0; m < r.n_machines; m++) {
		int node = -1, index = -1;
		pod[m] = sscanf(r.machines[m].name, "p%d-%d", &node, &index) == 2 ? (size_t)(node * 15 + index) : PODS;
	}
	static unsigned char seen[PODS][PODS];
	memset(seen, 0, sizeof(seen));
	size_t target_changes = 0;
	for (size_t i = 0; i < MESH; i += 2) {
		const struct check_probe *http = &r.probes[i], *ping = &r.probes[i + 1];
		CHECK(check_target_of(&r, http)->proto == TB_PROTO_HTTP && check_target_of(&r, ping)->proto == TB_PROTO_PING);
		CHECK(http->from == ping->from && TO(http) == TO(ping) && http->from != TO(http));
		size_t a = pod[http->from], b = pod[TO(http)];
		CHECK(a < PODS && b < PODS);
		if (a < PODS && b < PODS)
			seen[a][b]++;
		target_changes += i > 0 && TO(http) != TO(&r.probes[i - 2]);
	}
	free(pod);
	size_t pairs = 0;
	for (size_t a = 0; a < PODS; a++)
		for (size_t b = 0; b < PODS; b++)
			pairs += seen[a][b] == 1;
	CHECK_INT(pairs, PODS * (PODS - 1));
	/* A burst per target and group: the number of groups times the targets. */
	size_t groups = (PODS + CHECK_MESH_GROUP - 1) / CHECK_MESH_GROUP;
	CHECK_INT(target_changes + 1, groups * PODS);
	/* The first group starts with the second pod, probed by the others of
	 * the group; the last group's sources come last. */
	CHECK_STR(r.machines[r.probes[0].from].name, "p0-1");
	CHECK_STR(r.machines[TO(&r.probes[0])].name, "p0-0");
	CHECK_STR(r.machines[r.probes[MESH - 1].from].name, "p9-14");
	/* Any window of probes in schedule order, as many as run at once, comes
	 * from at most a group's sources: in the mesh, and in the egress that
	 * follows it, which goes group by group too. */
	enum { WINDOW = 128 };
	for (size_t start = 0; start + WINDOW <= r.n_probes; start += WINDOW / 2) {
		if (start < MESH && start + WINDOW > MESH)
			continue;
		unsigned char from[PODS + 16] = {0};
		size_t sources = 0;
		CHECK(r.n_machines <= PODS + 16);
		for (size_t i = start; i < start + WINDOW && r.n_machines <= PODS + 16; i++)
			sources += from[r.probes[i].from]++ == 0;
		CHECK(sources <= CHECK_MESH_GROUP);
	}
	check_run_free(&r);
	fixture_plan_free(t);
	diag_free(&d);
	free(text);
}

/* A probe is 32 bytes, results included: a 2-million-probe mesh needs 64 MB,
 * and only probes with something to say (a failure) carry texts. */
TEST(check_probes_are_compact)
{
	CHECK(sizeof(struct check_probe) <= 32);
	struct plan_machine machines[2] = {{.name = "a", .address = 0x0a000001}, {.name = "b", .address = 0x0a000002}};
	struct check_probe probes[2] = {
		{.from = 0, .to = 1, .expect_pass = 1, .outcome = PROBE_PASS, .client_ip = TB_CLIENT_IP_PRESERVED},
		{.from = 1, .to = 0, .expect_pass = 1, .outcome = PROBE_FAIL},
	};
	struct check_target targets[2] = {
		{.end = 0, .address = 0x0a000001, .port = 80, .proto = TB_PROTO_HTTP, .answerers = 0, .n_answerers = 1},
		{.end = 1, .address = 0x0a000002, .port = 80, .proto = TB_PROTO_HTTP, .answerers = 1, .n_answerers = 1},
	};
	uint32_t answerers[2] = {0, 1};
	struct check_run r = {.machines = machines, .n_machines = 2, .targets = targets, .n_targets = 2,
			      .answerers = answerers, .n_answerers = 2, .probes = probes, .n_probes = 2};
	/* The usual results are numbers: the answerer is the target, the client ADDRESS:PORT. */
	check_probe_set_answer(&r, 0, "b");
	check_probe_set_client(&r, 0, "10.0.0.1:41234");
	probes[0].latency_us = 1250;
	CHECK_INT(r.n_details, 0);
	struct check_view v;
	check_view(&r, 0, &v);
	CHECK_STR(v.from_name, "a");
	CHECK_STR(v.to_name, "b");
	CHECK_STR(v.answered_by, "b");
	CHECK_STR(v.client, "10.0.0.1:41234");
	CHECK_STR(v.error, "");
	CHECK(v.path_note == NULL && v.latency_ms == 1.25);
	/* Anything else is kept as text, in a detail of its own. */
	check_probe_set_answer(&r, 1, "someone-else");
	check_probe_set_client(&r, 1, "10.0.0.01:5");
	check_probe_set_error(&r, 1, "answered by \"someone-else\", not a");
	CHECK_INT(r.n_details, 1);
	check_view(&r, 1, &v);
	CHECK_STR(v.answered_by, "someone-else");
	CHECK_STR(v.client, "10.0.0.01:5");
	CHECK_STR(v.error, "answered by \"someone-else\", not a");
	/* A new attempt forgets the last one's results. */
	check_probe_clear_results(&r, 1);
	check_view(&r, 1, &v);
	CHECK_STR(v.error, "");
	CHECK_STR(v.client, "");
	/* The detail is reused, not a second one. */
	check_probe_set_error(&r, 1, "timed out");
	CHECK_INT(r.n_details, 1);
	r.probes = NULL; /* on the stack */
	r.n_probes = 0;
	r.targets = NULL;
	r.answerers = NULL;
	check_run_free(&r);
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
	struct plan *t = fixture_load(full, &d);
	CHECK(t != NULL);
	if (t) {
		struct check_run r;
		CHECK(check_compile(t, &r, &d));
		CHECK_INT(r.n_probes, 300 * 299);
		check_run_free(&r);
		/* The default model's mesh: http and ping, 32 bytes a probe all told. */
		size_t n_expects = t->n_expects;
		t->has_expect = false;
		t->n_expects = 0;
		CHECK(check_compile(t, &r, &d));
		CHECK_INT(r.n_probes, 2 * 300 * 299 + 2 * 300);
		CHECK(r.cap_probes * sizeof(*r.probes) <= 2 * r.n_probes * 32);
		check_run_free(&r);
		t->has_expect = true;
		t->n_expects = n_expects;
	}
	/* Generous: a linear search per probe would take minutes. */
	CHECK(now_ms() - start < 20000);
	fixture_plan_free(t);
	diag_free(&d);
	free(full);
}

/* Loading a topology leaves contradictions to check_validate, which finds
 * the expectation's line in the model. */
TEST(check_validate_reports_contradictions_on_a_loaded_model)
{
	struct diag d;
	struct plan *t = fixture_load("{" LAB ", \"expect\": [\n"
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
	fixture_plan_free(t);
	diag_free(&d);
}

/* Sockets wanted from one namespace are made in one visit: equal keys end
 * up together, each group in the order its members asked. */
TEST(check_socket_batches_group_by_namespace)
{
	const int keys[] = {7, 3, 7, 7, 3, 9};
	uint32_t order[6];
	CHECK_INT(probe_batch_order(keys, 6, order), 3);
	const uint32_t want[] = {1, 4, 0, 2, 3, 5};
	for (size_t i = 0; i < 6; i++)
		CHECK_INT(order[i], want[i]);
	/* A source-by-source schedule: one visit however many sockets. */
	int same[100];
	uint32_t order100[100];
	for (size_t i = 0; i < 100; i++)
		same[i] = 42;
	CHECK_INT(probe_batch_order(same, 100, order100), 1);
	for (size_t i = 0; i < 100; i++)
		CHECK_INT(order100[i], i);
	CHECK_INT(probe_batch_order(keys, 0, order), 0);
}

/* The engine's pools: --parallel for probes that reach servers, 32 times
 * as many (at most 4096) for those expected to be dropped, each no larger
 * than its probes, within the open files there is room for. */
TEST(check_probe_pools_split_the_slots)
{
	size_t pass, dropped;
	probe_pools(17500, 22100, 128, SIZE_MAX, &pass, &dropped);
	CHECK_INT(pass, 128);
	CHECK_INT(dropped, 4096);
	probe_pools(17500, 22100, 4096, SIZE_MAX, &pass, &dropped);
	CHECK_INT(dropped, 4096);
	probe_pools(5, 3, 128, SIZE_MAX, &pass, &dropped);
	CHECK_INT(pass, 5);
	CHECK_INT(dropped, 3);
	probe_pools(100, 100, 1, SIZE_MAX, &pass, &dropped);
	CHECK_INT(pass, 1);
	CHECK_INT(dropped, 32);
	probe_pools(0, 0, 128, SIZE_MAX, &pass, &dropped);
	CHECK_INT(pass + dropped, 1);
	/* Short of open files, the dropped pool gives way first... */
	probe_pools(17500, 22100, 128, 1000, &pass, &dropped);
	CHECK_INT(pass, 128);
	CHECK_INT(dropped, 872);
	/* ...but each kind with probes keeps a slot. */
	probe_pools(17500, 22100, 128, 100, &pass, &dropped);
	CHECK_INT(pass, 99);
	CHECK_INT(dropped, 1);
	probe_pools(0, 22100, 128, 100, &pass, &dropped);
	CHECK_INT(pass, 0);
	CHECK_INT(dropped, 100);
	probe_pools(500, 0, 128, 100, &pass, &dropped);
	CHECK_INT(pass, 100);
	CHECK_INT(dropped, 0);
}

/* A target is an address, a port and the machines whose answer passes: a
 * Service's address answered by any of its endpoints fits the table as a
 * pod's own address does. */
TEST(check_a_target_passes_any_of_its_answerers)
{
	struct plan_machine machines[3] = {{.name = "client"}, {.name = "web-0"}, {.name = "web-1"}};
	uint32_t answerers[2] = {1, 2};
	struct check_target service = {.end = 1, .address = 0x0a600001, .port = 80, .proto = TB_PROTO_HTTP,
				       .answerers = 0, .n_answerers = 2};
	struct check_run r = {.machines = machines, .n_machines = 3, .targets = &service, .n_targets = 1,
			      .answerers = answerers, .n_answerers = 2};
	CHECK(check_target_answered_by(&r, &service, "web-0"));
	CHECK(check_target_answered_by(&r, &service, "web-1"));
	CHECK(!check_target_answered_by(&r, &service, "client"));
	CHECK(!check_target_answered_by(&r, &service, "web-"));
}

/* Replaces P's expectations with the N in XS (their strings copied, as a
 * saved plan's reader makes them). */
static void set_expects(struct plan *p, const struct plan_expect *xs, size_t n)
{
	for (size_t i = 0; i < p->n_expects; i++) {
		free(p->expects[i].from);
		free(p->expects[i].to);
		free(p->expects[i].port_name);
	}
	free(p->expects);
	p->expects = xcalloc(n + 1, sizeof(*p->expects));
	for (size_t i = 0; i < n; i++) {
		p->expects[i] = xs[i];
		p->expects[i].from = xstrdup(xs[i].from);
		p->expects[i].to = xstrdup(xs[i].to);
		p->expects[i].port_name = xs[i].port_name ? xstrdup(xs[i].port_name) : NULL;
	}
	p->n_expects = n;
	p->has_expect = true;
}

/* Three pods with labels and ports on two nodes; web serves http and a
 * UDP port named dns. */
#define LABELLED                                                                                              \
	"{\"name\": \"k\", " IMAGES ", \"nodes\": ["                                                            \
	"{\"name\": \"n1\", \"pods\": [{\"name\": \"web\", \"labels\": {\"app\": \"web\", \"tier\": \"front\"}, " \
	"\"ports\": [{\"name\": \"http\", \"containerPort\": 8080}, {\"name\": \"metrics\", \"containerPort\": 9100}, " \
	"{\"name\": \"dns\", \"containerPort\": 5353, \"protocol\": \"UDP\"}]}, "                              \
	"{\"name\": \"api\", \"labels\": {\"app\": \"api\", \"tier\": \"front\"}, \"ports\": [{\"name\": \"metrics\", " \
	"\"containerPort\": 9200}]}]}, "                                                                         \
	"{\"name\": \"n2\", \"pods\": [{\"name\": \"db\", \"labels\": {\"app\": \"db\"}}]}]"

TEST(check_selectors_pick_pods_by_their_labels_and_never_pair_a_pod_with_itself)
{
	struct diag d;
	struct plan *t = fixture_load(LABELLED ", \"expect\": ["
				  "{\"from\": \"default/tier=front\", \"to\": \"*/tier=front\", \"proto\": \"ping\"},"
				  "{\"from\": \"db\", \"to\": \"default/app in (web, api)\", \"proto\": \"tcp\", \"port\": \"metrics\"},"
				  "{\"from\": \"*/!tier\", \"to\": \"default/web\", \"result\": \"fail\"}]}",
			      &d);
	for (size_t i = 0; i < d.count; i++)
		fprintf(stderr, "  unexpected: %s\n", d.messages[i]);
	CHECK(t != NULL);
	if (!t)
		return;
	struct check_run r;
	CHECK(check_compile(t, &r, &d));
	/* web <-> api ping; db -> web and api on their own metrics ports; db -> web http. */
	CHECK_INT(r.n_probes, 2 + 2 + 1);
	CHECK(find(&r, "web", "api", TB_PROTO_PING) && find(&r, "api", "web", TB_PROTO_PING));
	CHECK(!find(&r, "web", "web", TB_PROTO_PING));
	const struct check_probe *p = find(&r, "db", "web", TB_PROTO_TCP);
	CHECK(p && PORT(p) == 9100);
	p = find(&r, "db", "api", TB_PROTO_TCP);
	CHECK(p && PORT(p) == 9200);
	p = find(&r, "db", "web", TB_PROTO_HTTP);
	CHECK(p && PORT(p) == 8080 && !p->expect_pass && p->expect == 2);
	check_run_free(&r);
	fixture_plan_free(t);
	diag_free(&d);
}

/* A selector beats "*", a name beats a selector. */
TEST(check_a_name_is_more_specific_than_a_selector_and_a_selector_than_star)
{
	struct diag d;
	struct plan *t = fixture_load(LABELLED ", \"expect\": ["
				  "{\"from\": \"*\", \"to\": \"*\", \"proto\": \"ping\"},"
				  "{\"from\": \"*\", \"to\": \"*/app=db\", \"proto\": \"ping\", \"result\": \"fail\"},"
				  "{\"from\": \"web\", \"to\": \"*/app=db\", \"proto\": \"ping\"},"
				  "{\"from\": \"default/app=api\", \"to\": \"default/app=web\", \"proto\": \"ping\", \"result\": \"fail\"},"
				  "{\"from\": \"*\", \"to\": \"web\", \"proto\": \"ping\"}]}",
			      &d);
	CHECK(t != NULL);
	if (!t)
		return;
	struct check_run r;
	CHECK(!check_compile(t, &r, &d));
	CHECK_INT(r.n_probes, 6);
	const struct check_probe *p = find(&r, "api", "db", TB_PROTO_PING);
	CHECK(p && !p->expect_pass && p->expect == 1);
	p = find(&r, "web", "db", TB_PROTO_PING);
	CHECK(p && p->expect_pass && p->expect == 2);
	p = find(&r, "db", "api", TB_PROTO_PING);
	CHECK(p && p->expect_pass && p->expect == 0);
	/* A selector on both ends and a name with "*" say as much: they disagree. */
	CHECK_INT(d.count, 1);
	if (d.count)
		CHECK_STR(d.messages[0], "t.json:1: expect[4]: contradicts expect[3] for api -> web ping");
	check_run_free(&r);
	fixture_plan_free(t);
	diag_free(&d);
}

/* What a running lab's plan cannot give an expectation, said at its line:
 * names, selectors and ports are checked when the check compiles, as they
 * are for `check NAME --expect FILE`. */
TEST(check_compile_reports_what_expectations_name_that_the_plan_lacks)
{
	struct diag d;
	struct plan *t = fixture_load(LABELLED "}", &d);
	CHECK(t != NULL);
	if (!t)
		return;
	/* Two pods called web, in two namespaces, as Namespace objects make them. */
	size_t web = plan_find(t, "web"), api = plan_find(t, "api");
	free(t->machines[web].name);
	t->machines[web].name = xstrdup("default/web");
	free(t->machines[api].name);
	t->machines[api].name = xstrdup("shop/web");
	free(t->machines[api].namespace);
	t->machines[api].namespace = xstrdup("shop");
	const struct plan_expect xs[] = {
		{.from = "db", .to = "web", .line = 3},
		{.from = "db", .to = "shop/web", .line = 4},
		{.from = "db", .to = "default/web", .proto = TB_PROTO_TCP, .port_name = "dns", .line = 5, .port_line = 6},
		{.from = "shop/web", .to = "nope", .line = 7, .to_line = 8},
		{.from = "*/app=none", .to = "db", .line = 9},
		{.from = "lab", .to = "db", .line = 10},
		{.from = "db", .to = "gateway", .proto = TB_PROTO_PING, .line = 11},
		{.from = "db", .to = "shop/app in (", .line = 12},
		{.from = "db", .to = "shop/web", .port_name = "web", .line = 13},
	};
	set_expects(t, xs, ARRAY_SIZE(xs));
	struct check_run r;
	CHECK(!check_compile(t, &r, &d));
	autofree char *got = fixture_messages(&d);
	CHECK_STR(got,
		  "t.json:3: expect[0].to: \"web\" is ambiguous: pods default/web and shop/web have that name; say which, "
		  "as NAMESPACE/NAME\n"
		  "t.json:6: expect[2].port: port \"dns\" of default/web is 5353/UDP; tcp probes need a TCP port\n"
		  "t.json:8: expect[3].to: no pod, node, host or external machine is named \"nope\"\n"
		  "t.json:9: expect[4].from: \"*/app=none\" matches no pod\n"
		  "t.json:10: expect[5].from: no pod, node, host or external machine is named \"lab\"\n"
		  "t.json:12: expect[7].to: \"shop/app in (\": expected \",\" or \")\" in the values of \"app\", found the end\n"
		  "t.json:13: expect[8].port: shop/web has no port named \"web\"\n");
	/* expect[1] resolved, and the gateway is there. */
	CHECK(find(&r, "db", "shop/web", TB_PROTO_HTTP) != NULL);
	CHECK(find(&r, "db", "gateway", TB_PROTO_PING) != NULL);
	check_run_free(&r);
	fixture_plan_free(t);
	diag_free(&d);
}

/* Named ports reach the saved plan and come back. */
TEST(check_saved_plans_keep_selectors_and_port_names)
{
	struct diag d;
	struct plan *t = fixture_load(LABELLED ", \"expect\": [{\"from\": \"default/app=web\", \"to\": \"*/tier\", \"port\": \"metrics\", "
				  "\"proto\": \"tcp\"}]}",
			      &d);
	CHECK(t != NULL);
	if (!t)
		return;
	autofree char *json = plan_to_json(t, true);
	struct plan back;
	struct tb_err e;
	CHECK(plan_from_json(json, &back, &e) == 0);
	CHECK_INT(back.n_expects, 1);
	if (back.n_expects) {
		CHECK_STR(back.expects[0].from, "default/app=web");
		CHECK_STR(back.expects[0].to, "*/tier");
		CHECK_STR(back.expects[0].port_name, "metrics");
		CHECK_INT(back.expects[0].port, 0);
	}
	struct check_run r;
	CHECK(check_compile(&back, &r, &d));
	const struct check_probe *p = find(&r, "web", "api", TB_PROTO_TCP);
	CHECK(p && PORT(p) == 9200);
	check_run_free(&r);
	plan_free(&back);
	fixture_plan_free(t);
	diag_free(&d);
}

/* udp: the first UDP port by default, a named one of UDP, and in the
 * Kubernetes model every pod server with a UDP port. */
TEST(check_udp_probes_take_udp_ports)
{
	struct diag d;
	struct plan *t = fixture_load(LABELLED ", \"expect\": ["
				  "{\"from\": \"db\", \"to\": \"web\", \"proto\": \"udp\"},"
				  "{\"from\": \"api\", \"to\": \"web\", \"proto\": \"udp\", \"port\": \"dns\", \"clientIP\": \"preserved\"},"
				  "{\"from\": \"web\", \"to\": \"db\", \"proto\": \"udp\", \"port\": 9999, \"result\": \"fail\"}]}",
			      &d);
	for (size_t i = 0; i < d.count; i++)
		fprintf(stderr, "  unexpected: %s\n", d.messages[i]);
	CHECK(t != NULL);
	if (!t)
		return;
	struct check_run r;
	CHECK(check_compile(t, &r, &d));
	CHECK_INT(r.n_probes, 3);
	const struct check_probe *p = find(&r, "db", "web", TB_PROTO_UDP);
	CHECK(p && PORT(p) == 5353 && p->client_ip == TB_CLIENT_IP_ANY);
	p = find(&r, "api", "web", TB_PROTO_UDP);
	CHECK(p && PORT(p) == 5353 && p->client_ip == TB_CLIENT_IP_PRESERVED);
	autofree char *label = p ? check_probe_label(&r, p) : NULL;
	CHECK_STR(label, "api -> web udp:5353 (client IP preserved)");
	p = find(&r, "web", "db", TB_PROTO_UDP);
	CHECK(p && PORT(p) == 9999 && !p->expect_pass);
	check_run_free(&r);
	/* A udp target with no UDP port, and a TCP port named for udp. */
	const struct plan_expect xs[] = {
		{.from = "web", .to = "db", .proto = TB_PROTO_UDP, .line = 2},
		{.from = "web", .to = "api", .proto = TB_PROTO_UDP, .port_name = "metrics", .line = 3},
	};
	set_expects(t, xs, ARRAY_SIZE(xs));
	CHECK(!check_compile(t, &r, &d));
	autofree char *got = fixture_messages(&d);
	CHECK_STR(got, "t.json:2: expect[0]: db has no UDP port to probe: give \"port\"\n"
		       "t.json:3: expect[1].port: port \"metrics\" of api is 9200/TCP; udp probes need a UDP port\n");
	check_run_free(&r);
	/* The model: web serves UDP, so every other pod probes it there. */
	t->has_expect = false;
	set_expects(t, NULL, 0);
	t->has_expect = false;
	CHECK(check_compile(t, &r, &d));
	CHECK_INT(r.n_probes, 6 * 2 + 2 * 1 + 3 * 2);
	p = find(&r, "api", "web", TB_PROTO_UDP);
	CHECK(p && PORT(p) == 5353 && p->expect == CHECK_DEFAULT_MODEL && p->expect_pass);
	CHECK(find(&r, "db", "web", TB_PROTO_UDP) != NULL);
	CHECK(find(&r, "web", "api", TB_PROTO_UDP) == NULL);
	check_run_free(&r);
	fixture_plan_free(t);
	diag_free(&d);
}

/* check --expect FILE: a JSON list read as "expect" is, its messages
 * naming FILE and its lines; then compiled against the running lab's plan. */
TEST(check_expectations_from_a_file_of_their_own)
{
	char path[] = "/tmp/testbed-expect-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	const char *bad = "[\n  {\"from\": \"web\", \"to\": \"db\", \"proto\": \"smtp\"},\n  {\"from\": \"web\"}\n]\n";
	CHECK(write(fd, bad, strlen(bad)) == (ssize_t)strlen(bad));
	close(fd);
	struct diag d;
	diag_init(&d, "unused");
	struct tb_expect *xs;
	size_t n;
	CHECK(!expect_load_file(path, &d, &xs, &n));
	CHECK(xs == NULL && n == 0);
	autofree char *got = fixture_messages(&d);
	autofree char *want = xasprintf("%s:2: expect[0].proto: \"smtp\": expected \"http\", \"tcp\", \"ping\", \"udp\" or \"dns\"\n"
					"%s:3: expect[1]: missing required key \"to\"\n",
					path, path);
	CHECK_STR(got, want);
	CHECK_STR(d.file, "unused");
	diag_free(&d);

	const char *good = "[{\"from\": \"db\", \"to\": \"default/app=web\", \"proto\": \"udp\", \"port\": \"dns\"},\n"
			   " {\"from\": \"web\",\n  \"to\": \"nope\"}]";
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fputs(good, f);
	fclose(f);
	struct plan *t = fixture_load(LABELLED "}", &d);
	CHECK(t != NULL && !t->has_expect);
	diag_free(&d);
	diag_init(&d, path);
	CHECK(t && expect_load_file(path, &d, &xs, &n));
	CHECK_INT(n, 2);
	if (t && n == 2) {
		plan_set_expects(t, xs, n);
		CHECK(t->has_expect && t->n_expects == 2);
		struct check_run r;
		CHECK(!check_compile(t, &r, &d));
		autofree char *said = fixture_messages(&d);
		autofree char *expected = xasprintf("%s:3: expect[1].to: no pod, node, host or external machine is named \"nope\"\n", path);
		CHECK_STR(said, expected);
		/* The first one compiled. */
		CHECK(find(&r, "db", "web", TB_PROTO_UDP) != NULL);
		check_run_free(&r);
	}
	expect_free(xs, n);
	fixture_plan_free(t);
	diag_free(&d);
	unlink(path);
}

/* A lab of hosts alone: no pod for "*", no gateway, said as validate says
 * it, for expectations that come from a file. */
TEST(check_compile_knows_a_lab_without_pods_or_gateway)
{
	struct diag d;
	struct plan *t = fixture_load("{\"name\": \"k\", " IMAGES ", \"hosts\": [{\"name\": \"h\"}]}", &d);
	CHECK(t != NULL);
	if (!t)
		return;
	const struct plan_expect xs[] = {
		{.from = "h", .to = "*", .proto = TB_PROTO_PING, .line = 2},
		{.from = "gateway", .to = "h", .proto = TB_PROTO_PING, .line = 3},
	};
	set_expects(t, xs, ARRAY_SIZE(xs));
	struct check_run r;
	CHECK(!check_compile(t, &r, &d));
	autofree char *got = fixture_messages(&d);
	CHECK_STR(got, "t.json:2: expect[0].to: \"*\" means every pod, and the lab has none\n"
		       "t.json:3: expect[1].from: the lab has no nodes, so no gateway\n");
	check_run_free(&r);
	fixture_plan_free(t);
	diag_free(&d);
}

/* A saved plan's expectation names a port by number or by a port's name. */
TEST(check_a_saved_plan_with_a_bad_port_name_is_refused)
{
	struct diag d;
	struct plan *t = fixture_load(LABELLED ", \"expect\": [{\"from\": \"web\", \"to\": \"api\", \"port\": \"metrics\"}]}", &d);
	CHECK(t != NULL);
	if (!t)
		return;
	char *json = plan_to_json(t, true);
	char *expect = strstr(json, "\"expect\"");
	char *at = expect ? strstr(expect, "\"metrics\"") : NULL;
	CHECK(at != NULL);
	if (at)
		at[1] = 'M';
	struct plan back;
	struct tb_err e;
	if (plan_from_json(json, &back, &e) == 0) {
		harness_fail(__FILE__, __LINE__, "the plan was read");
		plan_free(&back);
	} else {
		CHECK_STR(e.msg, "expect[0].port: expected a port's number or name");
	}
	free(json);
	fixture_plan_free(t);
	diag_free(&d);
}
