/* Expectations about Services, NodePorts, addresses and the outside:
 * parsing, their targets found in a plan (addresses, ports, the endpoints
 * that may answer), what they ask beyond pass or fail (answeredBy,
 * requests, clientIP, failure) judged on results, the default model's
 * egress and service probes, the saved plan, and the reports. */
#define _GNU_SOURCE
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

#define IMAGES "\"images\": {\"pod\": \"img.tar\", \"node\": \"img.tar\"}"
#define WEB_PORTS                                                                                              \
	"\"ports\": [{\"name\": \"http\", \"containerPort\": 8080}, {\"name\": \"dns\", \"containerPort\": 5353, " \
	"\"protocol\": \"UDP\"}]"
#define SERVICE(name, spec)                                                                                    \
	"{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"" name "\"}, \"spec\": " spec "}"
/* client and web-a on n1, web-b and web-c on n2, far on n3; the
 * Services select app=web (the three web pods) or nothing, or take an
 * EndpointSlice to the lab's internet; two machines outside. */
#define LAB                                                                                                    \
	"\"name\": \"s\", " IMAGES ", "                                                                         \
	"\"external\": [{\"name\": \"internet\", \"address\": \"203.0.113.2\"}, {\"name\": \"outsider\", "      \
	"\"address\": \"203.0.113.3\"}], "                                                                       \
	"\"nodes\": [{\"name\": \"n1\", \"pods\": [{\"name\": \"client\"}, {\"name\": \"web-a\", \"labels\": "     \
	"{\"app\": \"web\"}, " WEB_PORTS "}]}, "                                                                \
	"{\"name\": \"n2\", \"pods\": [{\"name\": \"web-b\", \"labels\": {\"app\": \"web\"}, " WEB_PORTS "}, "    \
	"{\"name\": \"web-c\", \"labels\": {\"app\": \"web\"}, " WEB_PORTS "}]}, "                              \
	"{\"name\": \"n3\", \"pods\": [{\"name\": \"far\"}]}], "                                                 \
	"\"objects\": ["                                                                                          \
	SERVICE("web", "{\"selector\": {\"app\": \"web\"}, \"ports\": [{\"name\": \"http\", \"port\": 80, "       \
		       "\"targetPort\": \"http\"}, {\"name\": \"dns\", \"port\": 53, \"protocol\": \"UDP\", "     \
		       "\"targetPort\": \"dns\"}]}") ", "                                                      \
	SERVICE("np", "{\"type\": \"NodePort\", \"selector\": {\"app\": \"web\"}, \"ports\": [{\"port\": 80, "    \
		      "\"targetPort\": 8080, \"nodePort\": 30080}]}") ", "                                      \
	SERVICE("local", "{\"type\": \"NodePort\", \"externalTrafficPolicy\": \"Local\", \"selector\": "          \
			 "{\"app\": \"web\"}, \"ports\": [{\"port\": 80, \"targetPort\": 8080, \"nodePort\": 30081}]}") ", " \
	"{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"lb\"}, \"spec\": {\"type\": "  \
	"\"LoadBalancer\", \"selector\": {\"app\": \"web\"}, \"ports\": [{\"port\": 80, \"targetPort\": 8080, "   \
	"\"nodePort\": 30082}]}, \"status\": {\"loadBalancer\": {\"ingress\": [{\"ip\": \"198.51.100.10\"}]}}}, " \
	SERVICE("empty", "{\"selector\": {\"app\": \"none\"}, \"ports\": [{\"port\": 80}]}") ", "                  \
	SERVICE("headless", "{\"clusterIP\": \"None\", \"selector\": {\"app\": \"web\"}, \"ports\": [{\"port\": 80}]}") ", " \
	SERVICE("near", "{\"internalTrafficPolicy\": \"Local\", \"selector\": {\"app\": \"web\"}, \"ports\": "    \
			"[{\"port\": 80, \"targetPort\": 8080}]}") ", "                                         \
	SERVICE("outside", "{\"ports\": [{\"name\": \"http\", \"port\": 80}]}") ", "                               \
	"{\"apiVersion\": \"discovery.k8s.io/v1\", \"kind\": \"EndpointSlice\", \"metadata\": {\"name\": "      \
	"\"outside-1\", \"labels\": {\"kubernetes.io/service-name\": \"outside\"}}, \"addressType\": \"IPv4\", " \
	"\"ports\": [{\"name\": \"http\", \"port\": 8000}], \"endpoints\": [{\"addresses\": [\"203.0.113.2\"]}]}]"

/* The plan of LAB with EXPECT (a JSON list, or NULL for none); NULL after
 * the parse's messages went into D. */
static struct plan *load(const char *expect, struct diag *d)
{
	autofree char *text = expect ? xasprintf("{" LAB ", \"expect\": %s}", expect) : xasprintf("{" LAB "}");
	return fixture_load(text, d);
}

/* The messages of compiling EXPECT's expectations: the parse's, or,
 * when it has none, the check's (malloc'd). */
static char *errors_of(const char *expect)
{
	struct diag d;
	struct plan *p = load(expect, &d);
	if (p && d.count == 0) {
		struct check_run r;
		check_compile(p, &r, &d);
		check_run_free(&r);
	}
	char *got = fixture_messages(&d);
	diag_free(&d);
	fixture_plan_free(p);
	return got;
}

/* The machines whose answer passes probe P's target, by name, joined by ' '. */
static char *answerers_of(const struct check_run *r, const struct check_probe *p)
{
	const struct check_target *t = check_target_of(r, p);
	char *s = xstrdup("");
	for (uint32_t k = 0; k < t->n_answerers; k++) {
		char *more = xasprintf("%s%s%s", s, k ? " " : "", r->machines[r->answerers[t->answerers + k]].name);
		free(s);
		s = more;
	}
	return s;
}

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

/* Checks that X was found, and says whether it was. */
static bool found(const void *x, int line)
{
	if (!x)
		harness_fail(__FILE__, line, "probe not found");
	return x != NULL;
}

static size_t index_of(const struct check_run *r, const struct check_probe *p)
{
	return (size_t)(p - r->probes);
}

TEST(check_services_targets_and_fields_parse_with_their_errors)
{
	autofree char *got = errors_of(
		"[{\"from\": \"service:web\", \"to\": \"client\"},\n"
		"{\"from\": \"client\", \"to\": \"service:Web\"},\n"
		"{\"from\": \"client\", \"to\": \"nodeport:n1\"},\n"
		"{\"from\": \"client\", \"to\": \"ip:10.96.0.300:80\"},\n"
		"{\"from\": \"client\", \"to\": \"nodeport:n1:30080\", \"port\": 80},\n"
		"{\"from\": \"client\", \"to\": \"ip:10.96.0.2\"},\n"
		"{\"from\": \"client\", \"to\": \"ip:10.96.0.2:80\", \"proto\": \"ping\"},\n"
		"{\"from\": \"client\", \"to\": \"service:web\", \"result\": \"pass\", \"failure\": \"refused\"},\n"
		"{\"from\": \"client\", \"to\": \"service:web\", \"failure\": \"reset\"},\n"
		"{\"from\": \"client\", \"to\": \"service:web\", \"proto\": \"tcp\", \"answeredBy\": \"web-a\"},\n"
		"{\"from\": \"client\", \"to\": \"service:web\", \"answeredBy\": []},\n"
		"{\"from\": \"client\", \"to\": \"service:web\", \"answeredBy\": [\"web-a\", \"default/app in (\"]},\n"
		"{\"from\": \"client\", \"to\": \"service:web\", \"requests\": 0},\n"
		"{\"from\": \"client\", \"to\": \"service:web\", \"clientIP\": \"10.0.0.256\"},\n"
		"{\"from\": \"client\", \"to\": \"service:web\", \"failure\": \"timeout\", \"clientIP\": \"client\"},\n"
		"{\"from\": \"client\", \"to\": \"10.96.0.2\"},\n"
		"{\"from\": \"client\", \"to\": \"ingress:Shop_x/cart\"},\n"
		"{\"from\": \"client\", \"to\": \"ingress:shop.example.com/\", \"proto\": \"tcp\"},\n"
		"{\"from\": \"client\", \"to\": \"service:web\", \"status\": 404, \"result\": \"pass\"},\n"
		"{\"from\": \"client\", \"to\": \"service:web\", \"proto\": \"tcp\", \"status\": 200},\n"
		"{\"from\": \"client\", \"to\": \"service:web\", \"answeredBy\": \"web-a\", \"status\": 503}]");
	CHECK_STR(got,
		  "t.json:1: expect[0].from: \"service:web\": a probe starts from a machine: name a pod, node, host or "
		  "external machine\n"
		  "t.json:2: expect[1].to: \"service:Web\": expected service:NAMESPACE/NAME, or service:NAME in namespace "
		  "default\n"
		  "t.json:3: expect[2].to: \"nodeport:n1\": expected nodeport:NODE:PORT, a node's name and a port from 1 "
		  "to 65535\n"
		  "t.json:4: expect[3].to: \"ip:10.96.0.300:80\": expected ip:ADDRESS:PORT (ip:ADDRESS for ping), an IPv4 "
		  "address and a port from 1 to 65535\n"
		  "t.json:5: expect[4].port: the port is part of the target, \"nodeport:n1:30080\"\n"
		  "t.json:6: expect[5].to: http probes need a port: write ip:10.96.0.2:PORT\n"
		  "t.json:7: expect[6].to: ping has no port: write ip:ADDRESS\n"
		  "t.json:8: expect[7].failure: says how a probe fails, and \"result\" is \"pass\": say \"result\": "
		  "\"fail\", or leave \"result\" out\n"
		  "t.json:9: expect[8].failure: \"reset\": expected \"refused\", \"timeout\", \"nxdomain\" or \"servfail\"\n"
		  "t.json:10: expect[9].answeredBy: only http and udp probes learn who answered\n"
		  "t.json:11: expect[10].answeredBy: an empty list: name the pods that must answer\n"
		  "t.json:12: expect[11].answeredBy[1]: \"default/app in (\": expected \",\" or \")\" in the values of "
		  "\"app\", found the end\n"
		  "t.json:13: expect[12].requests: 0 is not a number of requests: expected a whole number from 1 to "
		  "10000\n"
		  "t.json:14: expect[13].clientIP: \"10.0.0.256\": expected \"preserved\", \"rewritten\", a machine's "
		  "name or an IPv4 address\n"
		  "t.json:15: expect[14].clientIP: a probe expected to fail has no server to see the client\n"
		  "t.json:16: expect[15].to: \"10.96.0.2\" is not a target: write an address as ip:ADDRESS:PORT "
		  "(\"ip:10.96.0.2:8000\"), or ip:ADDRESS for ping, or name the machine that has it\n"
		  "t.json:17: expect[16].to: \"ingress:Shop_x/cart\": expected ingress:HOST/PATH, a host's DNS name and an "
		  "absolute path (ingress:shop.example.com/cart)\n"
		  "t.json:18: expect[17].proto: an ingress: target is asked over http (its Host and path choose the "
		  "backend)\n"
		  "t.json:19: expect[18].status: status 404 is a failed request, and \"result\" says \"pass\"\n"
		  "t.json:20: expect[19].status: only http probes have a status\n"
		  "t.json:21: expect[20].status: status 503 is a failed request: it has no answerer or client to check\n");
}

TEST(check_services_targets_found_in_the_plan_with_their_errors)
{
	autofree char *got = errors_of(
		"[{\"from\": \"client\", \"to\": \"service:nope\"},\n"
		"{\"from\": \"client\", \"to\": \"service:shop/web\"},\n"
		"{\"from\": \"client\", \"to\": \"service:headless\"},\n"
		"{\"from\": \"client\", \"to\": \"service:web\", \"proto\": \"udp\"},\n"
		"{\"from\": \"client\", \"to\": \"service:web\", \"port\": 53},\n"
		"{\"from\": \"client\", \"to\": \"service:web\", \"port\": \"metrics\"},\n"
		"{\"from\": \"client\", \"to\": \"service:web\", \"port\": 81},\n"
		"{\"from\": \"client\", \"to\": \"service:empty\"},\n"
		"{\"from\": \"client\", \"to\": \"nodeport:web-a:30080\"},\n"
		"{\"from\": \"client\", \"to\": \"nodeport:n1:30099\"},\n"
		"{\"from\": \"client\", \"to\": \"nodeport:n1:30080\", \"proto\": \"udp\"},\n"
		"{\"from\": \"internet\", \"to\": \"nodeport:n3:30081\"},\n"
		"{\"from\": \"client\", \"to\": \"ip:192.0.2.1:80\"},\n"
		"{\"from\": \"client\", \"to\": \"service:web\", \"answeredBy\": [\"web-a\", \"nobody\"]},\n"
		"{\"from\": \"client\", \"to\": \"service:web\", \"answeredBy\": \"default/app=web\", \"requests\": 2},\n"
		"{\"from\": \"client\", \"to\": \"internet\", \"clientIP\": \"nobody\"}]");
	CHECK_STR(got,
		  "t.json:1: expect[0].to: no Service \"nope\" in namespace default\n"
		  "t.json:2: expect[1].to: no Service \"web\" in namespace shop (there is default/web)\n"
		  "t.json:3: expect[2].to: service default/headless is headless (clusterIP None): it has no address of "
		  "its own; probe its pods\n"
		  "t.json:4: expect[3].to: port 80 of service default/web is TCP; udp probes need a UDP port\n"
		  "t.json:5: expect[4].port: port 53 of service default/web is UDP; http probes need a TCP port\n"
		  "t.json:6: expect[5].port: service default/web has no port named \"metrics\" (its ports: 80/TCP "
		  "\"http\", 53/UDP \"dns\")\n"
		  "t.json:7: expect[6].port: service default/web has no port 81 (its ports: 80/TCP \"http\", 53/UDP "
		  "\"dns\")\n"
		  "t.json:8: expect[7].to: service default/empty has no ready endpoint in the lab for port 80: nothing "
		  "can answer (expect \"failure\": \"refused\", as kube-proxy rejects it)\n"
		  "t.json:9: expect[8].to: web-a is a pod, not a node: NodePorts are nodes'\n"
		  "t.json:10: expect[9].to: no service has node port 30099/TCP, so nothing answers there\n"
		  "t.json:11: expect[10].to: nodeport:n1:30080 is a TCP port of service default/np; udp probes need a "
		  "UDP port\n"
		  "t.json:12: expect[11].to: service default/local has externalTrafficPolicy Local and no ready endpoint "
		  "on n3: kube-proxy drops it there (expect \"failure\": \"timeout\")\n"
		  "t.json:13: expect[12].to: nothing in the lab serves ip:192.0.2.1:80 over TCP: name who answers with "
		  "\"answeredBy\"\n"
		  "t.json:14: expect[13].answeredBy: no pod, node, host or external machine is named \"nobody\"\n"
		  "t.json:15: expect[14].requests: 2 requests cannot each reach the 3 pods answeredBy names: ask at "
		  "least 3\n"
		  "t.json:16: expect[15].clientIP: no pod, node, host or external machine is named \"nobody\"\n");
}

TEST(check_services_targets_take_addresses_ports_and_endpoints)
{
	struct diag d;
	struct plan *p = load("[{\"from\": \"client\", \"to\": \"service:web\", \"requests\": 300, \"answeredBy\": "
			      "\"default/app=web\"},"
			      "{\"from\": \"client\", \"to\": \"service:default/web\", \"proto\": \"udp\", \"port\": \"dns\"},"
			      "{\"from\": \"internet\", \"to\": \"nodeport:n1:30081\", \"clientIP\": \"internet\"},"
			      "{\"from\": \"internet\", \"to\": \"nodeport:n3:30080\", \"clientIP\": \"rewritten\"},"
			      "{\"from\": \"internet\", \"to\": \"nodeport:n3:30081\", \"failure\": \"timeout\"},"
			      "{\"from\": \"outsider\", \"to\": \"ip:198.51.100.10:80\"},"
			      "{\"from\": \"client\", \"to\": \"ip:10.244.1.2:8080\"},"
			      "{\"from\": \"client\", \"to\": \"service:empty\", \"failure\": \"refused\"},"
			      "{\"from\": \"client\", \"to\": \"service:outside\", \"clientIP\": \"n1\"},"
			      "{\"from\": \"client\", \"to\": \"internet\", \"clientIP\": \"203.0.113.9\"},"
			      "{\"from\": \"client\", \"to\": \"ip:10.96.0.1\", \"proto\": \"ping\", \"failure\": \"timeout\"}]",
			      &d);
	CHECK(p && d.count == 0);
	if (!p)
		return;
	struct check_run r;
	CHECK(check_compile(p, &r, &d));
	autofree char *said = fixture_messages(&d);
	CHECK_STR(said, "");
	CHECK_INT(r.n_probes, 11);
	const struct check_probe *x = find(&r, "client", "service:web", TB_PROTO_HTTP);
	CHECK(x != NULL);
	if (x) {
		const struct check_target *t = check_target_of(&r, x);
		const struct check_rule *rule = check_rule_of(&r, x);
		char a[16];
		CHECK_STR(ipv4_addr_format(t->address, a), "10.96.0.2");
		CHECK_INT(t->port, 80);
		autofree char *who = answerers_of(&r, x);
		CHECK_STR(who, "web-a web-b web-c");
		CHECK(rule && rule->requests == 300 && rule->count && rule->every_answerer && rule->n_answerers == 3);
		autofree char *label = check_probe_label(&r, x);
		CHECK_STR(label, "client -> service:web http:80 x300");
	}
	x = find(&r, "client", "service:default/web", TB_PROTO_UDP);
	CHECK(x && check_target_of(&r, x)->port == 53);
	/* Local: only n1's endpoint answers at n1's NodePort, and keeps the client's address. */
	x = find(&r, "internet", "nodeport:n1:30081", TB_PROTO_HTTP);
	if (found(x, __LINE__)) {
		char a[16];
		CHECK_STR(ipv4_addr_format(check_target_of(&r, x)->address, a), "10.10.0.2");
		autofree char *who = answerers_of(&r, x);
		CHECK_STR(who, "web-a");
		CHECK(x->client_ip == TB_CLIENT_IP_NAMED);
		CHECK(check_probe_client_ok(&r, index_of(&r, x), 0xcb007102, 0xcb007102));
		CHECK(!check_probe_client_ok(&r, index_of(&r, x), 0x0a0a0002, 0xcb007102));
		autofree char *wanted = check_probe_client_wanted(&r, index_of(&r, x));
		CHECK_STR(wanted, "internet's address (203.0.113.2)");
	}
	/* Cluster: any endpoint, from any node. */
	x = find(&r, "internet", "nodeport:n3:30080", TB_PROTO_HTTP);
	if (found(x, __LINE__)) {
		autofree char *who = answerers_of(&r, x);
		CHECK_STR(who, "web-a web-b web-c");
	}
	x = find(&r, "internet", "nodeport:n3:30081", TB_PROTO_HTTP);
	CHECK(x && !x->expect_pass && x->expect_failure == TB_FAILURE_TIMEOUT);
	x = find(&r, "outsider", "ip:198.51.100.10:80", TB_PROTO_HTTP);
	if (found(x, __LINE__)) {
		autofree char *who = answerers_of(&r, x);
		CHECK_STR(who, "web-a web-b web-c");
	}
	/* An address of a pod: the pod itself. */
	x = find(&r, "client", "ip:10.244.1.2:8080", TB_PROTO_HTTP);
	if (found(x, __LINE__)) {
		autofree char *who = answerers_of(&r, x);
		CHECK_STR(who, "web-b");
	}
	x = find(&r, "client", "service:empty", TB_PROTO_HTTP);
	CHECK(x && x->expect_failure == TB_FAILURE_REFUSED && check_target_of(&r, x)->n_answerers == 0);
	/* An EndpointSlice's address outside the cluster: that machine answers. */
	x = find(&r, "client", "service:outside", TB_PROTO_HTTP);
	if (found(x, __LINE__)) {
		autofree char *who = answerers_of(&r, x);
		CHECK_STR(who, "internet");
		autofree char *wanted = check_probe_client_wanted(&r, index_of(&r, x));
		CHECK_STR(wanted, "n1's addresses (10.10.0.2, 10.244.0.1)");
	}
	x = find(&r, "client", "internet", TB_PROTO_HTTP);
	if (found(x, __LINE__)) {
		autofree char *wanted = check_probe_client_wanted(&r, index_of(&r, x));
		CHECK_STR(wanted, "203.0.113.9");
		autofree char *label = check_probe_label(&r, x);
		CHECK_STR(label, "client -> internet http:8000 (client IP 203.0.113.9)");
	}
	x = find(&r, "client", "ip:10.96.0.1", TB_PROTO_PING);
	CHECK(x && check_target_of(&r, x)->port == 0);
	check_run_free(&r);
	fixture_plan_free(p);
	diag_free(&d);
}

/* Overlapping expectations must agree on what they ask beyond pass or fail. */
TEST(check_services_expectations_that_ask_differently_contradict)
{
	autofree char *got = errors_of("[{\"from\": \"client\", \"to\": \"service:web\", \"requests\": 30},\n"
				       "{\"from\": \"client\", \"to\": \"service:web\", \"requests\": 15},\n"
				       "{\"from\": \"client\", \"to\": \"service:empty\", \"failure\": \"refused\"},\n"
				       "{\"from\": \"client\", \"to\": \"service:empty\", \"failure\": \"timeout\"},\n"
				       "{\"from\": \"default/\", \"to\": \"service:web\", \"answeredBy\": \"web-a\"}]");
	CHECK_STR(got, "t.json:2: expect[1]: contradicts expect[0] for client -> service:web http:80 x15\n"
		       "t.json:4: expect[3]: contradicts expect[2] for client -> service:empty http:80\n");
}

TEST(check_services_failures_must_be_the_kind_expected)
{
	struct check_probe p = {.expect_pass = 0, .outcome = PROBE_FAIL, .expect_failure = TB_FAILURE_REFUSED,
				.failed = CHECK_FAILED_REFUSED};
	CHECK(check_probe_ok(&p));
	p.failed = CHECK_FAILED_TIMEOUT;
	CHECK(!check_probe_ok(&p));
	p.expect_failure = TB_FAILURE_TIMEOUT;
	CHECK(check_probe_ok(&p));
	p.failed = CHECK_FAILED_ERROR;
	CHECK(!check_probe_ok(&p));
	/* Any failure, when the expectation does not say how. */
	p.expect_failure = TB_FAILURE_ANY;
	CHECK(check_probe_ok(&p));
	p.outcome = PROBE_PASS;
	CHECK(!check_probe_ok(&p));
	/* How a pass fails does not come into it. */
	struct check_probe q = {.expect_pass = 1, .outcome = PROBE_PASS};
	CHECK(check_probe_ok(&q));
}

/* The engine counts answers and asks who never answered; a name that is
 * not an answeredBy fails the probe. */
TEST(check_services_answers_are_counted_and_every_answerer_must_answer)
{
	struct diag d;
	struct plan *p = load("[{\"from\": \"client\", \"to\": \"service:web\", \"requests\": 300, \"answeredBy\": "
			      "[\"web-a\", \"default/web-b\", \"web-c\"]},"
			      "{\"from\": \"far\", \"to\": \"service:web\", \"requests\": 15},"
			      "{\"from\": \"client\", \"to\": \"service:np\", \"answeredBy\": \"web-b\"}]",
			      &d);
	CHECK(p && d.count == 0);
	if (!p)
		return;
	struct check_run r;
	CHECK(check_compile(p, &r, &d));
	const struct check_probe *spread = find(&r, "client", "service:web", TB_PROTO_HTTP);
	const struct check_probe *sticky = find(&r, "far", "service:web", TB_PROTO_HTTP);
	const struct check_probe *one = find(&r, "client", "service:np", TB_PROTO_HTTP);
	CHECK(spread && sticky && one);
	if (spread && sticky && one) {
		size_t i = index_of(&r, spread), k = index_of(&r, sticky), o = index_of(&r, one);
		CHECK(check_probe_answered_by(&r, i, "web-b"));
		CHECK(!check_probe_answered_by(&r, i, "client"));
		/* answeredBy narrows the endpoints: web-a answers np, but is not web-b. */
		CHECK(check_probe_answered_by(&r, o, "web-b"));
		CHECK(!check_probe_answered_by(&r, o, "web-a"));
		for (int n = 0; n < 150; n++)
			check_probe_count_answer(&r, i, n % 2 ? "web-a" : "web-c");
		char *missing = check_probe_missing_answerer(&r, i);
		CHECK_STR(missing, "web-b");
		free(missing);
		check_probe_count_answer(&r, i, "web-b");
		CHECK(check_probe_missing_answerer(&r, i) == NULL);
		/* Without answeredBy nobody is missing; the counts say who answered. */
		for (int n = 0; n < 15; n++)
			check_probe_count_answer(&r, k, "web-c");
		CHECK(check_probe_missing_answerer(&r, k) == NULL);
		struct check_view v;
		check_view(&r, k, &v);
		CHECK(v.n_counts == 1 && v.counts[0].n == 15 && strcmp(v.counts[0].name, "web-c") == 0);
		check_view(&r, i, &v);
		CHECK(v.n_counts == 3 && v.requests == 300);
		CHECK(v.counts[0].n == 75 && strcmp(v.counts[0].name, "web-c") == 0);
		/* Servers naming themselves anew each time: their counts go together. */
		for (int n = 0; n < 100; n++) {
			char name[24];
			snprintf(name, sizeof(name), "liar-%d", n);
			check_probe_count_answer(&r, k, name);
		}
		check_view(&r, k, &v);
		CHECK_INT(v.n_counts, CHECK_COUNTS_MAX);
		CHECK_STR(v.counts[v.n_counts - 1].name, CHECK_OTHERS);
		/* A new request forgets the last answer, not the counts. */
		check_probe_set_answer(&r, k, "web-c");
		check_probe_next_request(&r, k);
		check_view(&r, k, &v);
		CHECK_STR(v.answered_by, "");
		CHECK_INT(v.n_counts, CHECK_COUNTS_MAX);
		/* A new attempt forgets them too. */
		check_probe_clear_results(&r, k);
		check_view(&r, k, &v);
		CHECK_INT(v.n_counts, 0);
	}
	check_run_free(&r);
	fixture_plan_free(p);
	diag_free(&d);
}

/* Without expectations: each pod reaches the outside (seen as its node)
 * and each service port with endpoints (answered by one of them); under
 * internalTrafficPolicy Local only from the nodes that have one. */
TEST(check_services_default_model_probes_egress_and_services)
{
	struct diag d;
	struct plan *p = load(NULL, &d);
	CHECK(p != NULL);
	if (!p)
		return;
	struct check_run r;
	CHECK(check_compile(p, &r, &d));
	const struct check_probe *x = find(&r, "far", "internet", TB_PROTO_HTTP);
	CHECK(x && x->client_ip == TB_CLIENT_IP_SOURCE_NODE && x->expect == CHECK_DEFAULT_MODEL);
	if (x) {
		autofree char *label = check_probe_label(&r, x);
		CHECK_STR(label, "far -> internet http:8000 (client IP n3)");
		CHECK(check_probe_client_ok(&r, index_of(&r, x), 0x0a0a0004, 0x0af40202));
		CHECK(!check_probe_client_ok(&r, index_of(&r, x), 0x0a0a0002, 0x0af40202));
	}
	CHECK(find(&r, "far", "outsider", TB_PROTO_PING) != NULL);
	x = find(&r, "client", "service:default/web", TB_PROTO_HTTP);
	if (found(x, __LINE__)) {
		autofree char *who = answerers_of(&r, x);
		CHECK_STR(who, "web-a web-b web-c");
		CHECK(x->client_ip == TB_CLIENT_IP_ANY);
	}
	x = find(&r, "web-a", "service:default/web", TB_PROTO_UDP);
	CHECK(x && check_target_of(&r, x)->port == 53);
	CHECK(find(&r, "client", "service:default/outside", TB_PROTO_HTTP) != NULL);
	/* No endpoint, or no address of its own: no probe. */
	CHECK(find(&r, "client", "service:default/empty", TB_PROTO_HTTP) == NULL);
	CHECK(find(&r, "client", "service:default/headless", TB_PROTO_HTTP) == NULL);
	/* near is Local inside the cluster: from n1 and n2, whose pods have one; not from n3. */
	CHECK(find(&r, "client", "service:default/near", TB_PROTO_HTTP) != NULL);
	CHECK(find(&r, "web-c", "service:default/near", TB_PROTO_HTTP) != NULL);
	CHECK(find(&r, "far", "service:default/near", TB_PROTO_HTTP) == NULL);
	/* Cluster DNS (the lab has Services): its pod, coredns on n1, is
	 * reached over TCP on port 53 (dnsmasq's own answer nobody models:
	 * no http, no udp), as is its Service from every pod. */
	x = find(&r, "client", "coredns", TB_PROTO_TCP);
	CHECK(x && check_target_of(&r, x)->port == 53);
	CHECK(find(&r, "client", "coredns", TB_PROTO_HTTP) == NULL);
	CHECK(find(&r, "client", "coredns", TB_PROTO_UDP) == NULL);
	x = find(&r, "far", "service:kube-system/kube-dns", TB_PROTO_TCP);
	CHECK(x && check_target_of(&r, x)->port == 53);
	CHECK(find(&r, "far", "service:kube-system/kube-dns", TB_PROTO_UDP) == NULL);
	/* 6 pods (5 and coredns): the mesh (30 pairs, http or tcp and ping;
	 * udp to the 3 with a UDP port from the 5 others), egress to two
	 * machines (http and ping), the services: web (http and udp), np,
	 * local, lb, outside and kube-dns (tcp) from the 6 pods, near from
	 * the 5 on n1 and n2. */
	/* And one dns probe a namespace, from its first pod whose resolver
	 * asks the cluster's DNS: default's client (coredns's own resolver is
	 * the node's, dnsPolicy Default). */
	x = find(&r, "client", "kube-dns.kube-system.svc.cluster.local.", TB_PROTO_DNS);
	CHECK(x && check_target_of(&r, x)->resolve && check_target_of(&r, x)->port == 0);
	CHECK(find(&r, "coredns", "kube-dns.kube-system.svc.cluster.local.", TB_PROTO_DNS) == NULL);
	size_t mesh = 2 * 30 + 3 * 5, egress = 6 * 4, services = 7 * 6 + 5, dns = 1;
	CHECK_INT(r.n_probes, mesh + egress + services + dns);
	check_run_free(&r);
	fixture_plan_free(p);
	diag_free(&d);
}

/* What check reads back from a lab's saved plan is what the topology said. */
TEST(check_services_expectations_survive_the_saved_plan)
{
	struct diag d;
	struct plan *p = load("[{\"from\": \"client\", \"to\": \"service:web\", \"port\": \"http\", \"requests\": 30, "
			      "\"answeredBy\": [\"web-a\", \"default/app=web\"], \"clientIP\": \"client\"},"
			      "{\"from\": \"internet\", \"to\": \"nodeport:n3:30081\", \"failure\": \"timeout\"}]",
			      &d);
	CHECK(p && d.count == 0);
	if (!p)
		return;
	autofree char *json = plan_to_json(p, true);
	struct plan back = {0};
	struct tb_err e;
	CHECK_INT(plan_from_json(json, &back, &e), 0);
	CHECK_INT(back.n_expects, 2);
	if (back.n_expects == 2) {
		const struct plan_expect *x = &back.expects[0];
		CHECK_STR(x->to, "service:web");
		CHECK_STR(x->port_name, "http");
		CHECK(x->requests == 30 && x->has_answered_by && x->n_answered_by == 2);
		CHECK_STR(x->answered_by[1], "default/app=web");
		CHECK(x->client_ip == TB_CLIENT_IP_NAMED);
		CHECK_STR(x->client_name, "client");
		CHECK(!back.expects[1].expect_pass && back.expects[1].failure == TB_FAILURE_TIMEOUT);
	}
	autofree char *again = plan_to_json(&back, true);
	CHECK_STR(again, json);
	plan_free(&back);
	fixture_plan_free(p);
	diag_free(&d);
}

static char *render(enum report_format f, const struct check_run *run, bool verbose)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct report_style s = {.verbose = verbose};
	CHECK_INT(report_write(out, f, run, &s), 0);
	fclose(out);
	return buf;
}

/* A run as the engine leaves it: 300 requests answered by three pods,
 * a refusal that was expected, a timeout where a refusal was, and an
 * answer from the wrong pod. */
static void results(struct check_run *r)
{
	for (size_t i = 0; i < r->n_probes; i++) {
		struct check_probe *p = &r->probes[i];
		const char *to = check_end_name(r, check_target_of(r, p)->end);
		p->attempts = 1;
		p->latency_us = 2000;
		if (strcmp(to, "service:web") == 0) {
			p->outcome = PROBE_PASS;
			for (int n = 0; n < 300; n++) {
				check_probe_request_made(r, i);
				check_probe_count_answer(r, i, n % 3 == 0 ? "web-a" : n % 3 == 1 ? "web-b" : "web-c");
			}
			check_probe_set_answer(r, i, "web-c");
		} else if (strcmp(to, "service:empty") == 0) {
			p->outcome = PROBE_FAIL;
			p->failed = CHECK_FAILED_REFUSED;
			check_probe_set_error(r, i, "connection refused");
		} else if (strcmp(to, "nodeport:n3:30081") == 0) {
			p->outcome = PROBE_FAIL;
			p->failed = CHECK_FAILED_TIMEOUT;
			check_probe_set_error(r, i, "no answer to the connection request within 1000 ms");
		} else {
			p->outcome = PROBE_FAIL;
			p->failed = CHECK_FAILED_ERROR;
			check_probe_set_answer(r, i, "far");
			check_probe_set_error(r, i, "answered by \"far\", not one of answeredBy (web-b)");
		}
	}
}

TEST(check_services_reports_show_targets_answers_and_failures)
{
	struct diag d;
	struct plan *p = load("[{\"from\": \"client\", \"to\": \"service:web\", \"requests\": 300, \"answeredBy\": "
			      "\"default/app=web\"},"
			      "{\"from\": \"client\", \"to\": \"service:empty\", \"failure\": \"refused\"},"
			      "{\"from\": \"internet\", \"to\": \"nodeport:n3:30081\", \"failure\": \"refused\"},"
			      "{\"from\": \"client\", \"to\": \"service:np\", \"answeredBy\": \"web-b\"}]",
			      &d);
	CHECK(p && d.count == 0);
	if (!p)
		return;
	struct check_run r;
	CHECK(check_compile(p, &r, &d));
	results(&r);
	r.duration_ms = 12;
	r.timeout_ms = 1000;
	r.plan = NULL;
	autofree char *text = render(REPORT_TEXT, &r, false);
	CHECK_STR(text, "testbed check s: 4 probes, 12 ms\n"
			"\n"
			"http      service:web  service:empty  nodeport:n3:30081  service:np\n"
			"client    .            x              -                  F\n"
			"internet  -            -              !                  -\n"
			"\n"
			". passed as expected   x blocked as expected   F failed, expected to pass   P passed, expected to "
			"fail   ! failed, not the way expected   - not probed\n"
			"\n"
			"answers:\n"
			"  client -> service:web http:80 x300: web-a 100, web-b 100, web-c 100\n"
			"\n"
			"failures:\n"
			"  internet -> nodeport:n3:30081 http:30081: expected fail (refused), got fail (timeout): no answer "
			"to the connection request within 1000 ms (2.0 ms)\n"
			"  client -> service:np http:80: expected pass, got fail: answered by \"far\", not one of answeredBy "
			"(web-b) (2.0 ms)\n"
			"\n"
			"2 passed, 2 failed\n");
	autofree char *json = render(REPORT_JSON, &r, false);
	cJSON *doc = cJSON_Parse(json);
	CHECK(doc != NULL);
	const cJSON *probes = cJSON_GetObjectItem(doc, "probes");
	CHECK_INT(cJSON_GetArraySize(probes), 4);
	const cJSON *spread = cJSON_GetArrayItem(probes, 0);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(spread, "to")), "service:web");
	CHECK_INT(cJSON_GetObjectItem(spread, "requests")->valuedouble, 300);
	CHECK_INT(cJSON_GetObjectItem(spread, "requestsMade")->valuedouble, 300);
	CHECK_INT(cJSON_GetObjectItem(cJSON_GetObjectItem(spread, "answers"), "web-b")->valuedouble, 100);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(spread, "answeredBy")), "web-c");
	const cJSON *drop = cJSON_GetArrayItem(probes, 2);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(drop, "failure")), "refused");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(drop, "failed")), "timeout");
	CHECK(cJSON_IsFalse(cJSON_GetObjectItem(drop, "ok")));
	const cJSON *refused = cJSON_GetArrayItem(probes, 1);
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(refused, "ok")));
	CHECK(cJSON_GetObjectItem(refused, "answers") == NULL);
	cJSON_Delete(doc);
	autofree char *tap = render(REPORT_TAP, &r, false);
	CHECK(strstr(tap, "not ok 3 - internet -> nodeport:n3:30081 http:30081 expected fail\n") != NULL);
	CHECK(strstr(tap, "  failure: refused\n  failed: timeout\n") != NULL);
	autofree char *junit = render(REPORT_JUNIT, &r, false);
	CHECK(strstr(junit, "name=\"client -&gt; service:web http:80 x300 expected pass\"") != NULL);
	autofree char *markdown = render(REPORT_MARKDOWN, &r, false);
	CHECK(strstr(markdown, "#### Answers\n\n- `client -> service:web http:80 x300`: web-a 100, web-b 100, web-c "
			       "100\n") != NULL);
	CHECK(strstr(markdown, "❗ failed, not the way expected") != NULL);
	check_run_free(&r);
	fixture_plan_free(p);
	diag_free(&d);
}
