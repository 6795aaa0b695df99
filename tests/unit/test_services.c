/* Services from objects to the plan: endpoints as the EndpointSlice
 * controller computes them, EndpointSlices as given, cluster IPs and node
 * ports as the API server allocates them, the gateway's routes to
 * load-balancer addresses, egress, and the saved form. */
#define _GNU_SOURCE
#include <string.h>

#include "fixtures.h"
#include "harness.h"
#include "plan/kubeproxy.h"
#include "plan/plan.h"
#include "util/ipv4.h"
#include "util/util.h"

/* Topologies are written with ' for " here, to stay readable. */
static char *q(const char *text)
{
	char *s = xstrdup(text);
	for (char *c = s; *c; c++)
		if (*c == '\'')
			*c = '"';
	return s;
}

#define IMAGES "'images': {'pod': 'img.tar', 'node': 'img.tar'}"
#define NAMESPACE_SHOP "{'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'shop'}}"
/* web: 3 pods in shop serving "http" on 8080; a pod of another namespace
 * with the same labels, which no Service of shop selects. */
#define WEB                                                                                                      \
	"{'apiVersion': 'apps/v1', 'kind': 'Deployment', 'metadata': {'name': 'web', 'namespace': 'shop'},"        \
	" 'spec': {'replicas': 3, 'selector': {'matchLabels': {'app': 'web'}}, 'template': {'metadata': "          \
	"{'labels': {'app': 'web'}}, 'spec': {'containers': [{'name': 'c', 'image': 'x', 'ports': "                \
	"[{'name': 'http', 'containerPort': 8080}, {'name': 'dns', 'containerPort': 53, 'protocol': 'UDP'}]}]}}}}," \
	"{'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {'name': 'stray', 'labels': {'app': 'web'}},"            \
	" 'spec': {'containers': [{'name': 'c', 'image': 'x', 'ports': [{'containerPort': 8080}]}]}}"
#define LAB(objects)                                                                                             \
	"{'name': 'svc', " IMAGES ", 'nodes': [{'name': 'node1'}, {'name': 'node2'}, {'name': 'node3'}], "         \
	"'objects': [" NAMESPACE_SHOP ", " WEB ", " objects "]}"
#define SERVICE(name, spec) \
	"{'apiVersion': 'v1', 'kind': 'Service', 'metadata': {'name': '" name "', 'namespace': 'shop'}, 'spec': " spec "}"
/* A LoadBalancer's address, as the cloud's controller writes it back. */
#define LB_SERVICE(name, spec, ip)                                                                        \
	"{'apiVersion': 'v1', 'kind': 'Service', 'metadata': {'name': '" name "', 'namespace': 'shop'}, 'spec': " spec \
	", 'status': {'loadBalancer': {'ingress': [{'ip': '" ip "'}]}}}"

static bool build(const char *text, struct plan *p)
{
	autofree char *json = q(text);
	return fixture_plan(json, p);
}

static const struct plan_service *service(const struct plan *p, const char *name)
{
	for (size_t i = 0; i < p->n_services; i++)
		if (strcmp(p->services[i].name, name) == 0)
			return &p->services[i];
	return NULL;
}

static uint32_t addr(const char *text)
{
	uint32_t a = 0;
	ipv4_addr_parse(text, &a);
	return a;
}

TEST(services_endpoints_are_the_selected_pods_of_the_namespace_with_named_ports_resolved)
{
	struct plan p;
	CHECK(build(LAB(SERVICE("web", "{'selector': {'app': 'web'}, 'ports': [{'name': 'http', 'port': 80, "
					"'targetPort': 'http'}, {'name': 'dns', 'port': 53, 'protocol': 'UDP', "
					"'targetPort': 'dns'}, {'name': 'other', 'port': 81, 'targetPort': 'nope'}]}")),
		    &p));
	const struct plan_service *s = service(&p, "web");
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_STR(s->namespace, "shop");
	CHECK_INT(s->type, PLAN_SERVICE_CLUSTER_IP);
	/* The range's first address is the API's: the first Service takes the second. */
	CHECK_INT(s->cluster_ip, addr("10.96.0.2"));
	CHECK_INT(s->n_endpoints, 3);
	for (size_t i = 0; i < s->n_endpoints; i++) {
		const struct plan_endpoint *e = &s->endpoints[i];
		CHECK(e->machine != PLAN_NONE);
		CHECK_STR(p.machines[e->machine].namespace, "shop");
		CHECK_INT(e->address, p.machines[e->machine].address);
		CHECK_INT(e->node, p.machines[e->machine].parent);
		CHECK_INT(e->ports[0], 8080);
		CHECK_INT(e->ports[1], 53);
		CHECK_INT(e->ports[2], 0); /* no port of that name: no endpoint of that port */
		CHECK(e->ready && e->serving && !e->terminating);
	}
	/* Spread over the three nodes, one each. */
	CHECK(s->endpoints[0].node != s->endpoints[1].node && s->endpoints[1].node != s->endpoints[2].node &&
	      s->endpoints[0].node != s->endpoints[2].node);
	plan_free(&p);
}

TEST(services_cluster_ips_skip_the_api_s_and_dns_s_and_given_ones)
{
	struct plan p;
	/* Ten Services: the second to the eleventh addresses, less the tenth
	 * (10.96.0.10, cluster DNS's) and the one given (10.96.0.3). */
	CHECK(build(LAB(SERVICE("given", "{'clusterIP': '10.96.0.3', 'ports': [{'port': 1}]}") ", "
		       SERVICE("s1", "{'ports': [{'port': 1}]}") ", " SERVICE("s2", "{'ports': [{'port': 1}]}") ", "
		       SERVICE("s3", "{'ports': [{'port': 1}]}") ", " SERVICE("s4", "{'ports': [{'port': 1}]}") ", "
		       SERVICE("s5", "{'ports': [{'port': 1}]}") ", " SERVICE("s6", "{'ports': [{'port': 1}]}") ", "
		       SERVICE("s7", "{'ports': [{'port': 1}]}") ", " SERVICE("s8", "{'ports': [{'port': 1}]}") ", "
		       SERVICE("none", "{'clusterIP': 'None', 'selector': {'app': 'web'}}")),
		    &p));
	const char *want[][2] = {{"given", "10.96.0.3"}, {"s1", "10.96.0.2"}, {"s2", "10.96.0.4"},
				 {"s3", "10.96.0.5"},	 {"s4", "10.96.0.6"}, {"s5", "10.96.0.7"},
				 {"s6", "10.96.0.8"},	 {"s7", "10.96.0.9"}, {"s8", "10.96.0.11"}};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		const struct plan_service *s = service(&p, want[i][0]);
		CHECK(s && s->cluster_ip == addr(want[i][1]));
	}
	/* Headless: no address, its endpoints all the same. */
	const struct plan_service *none = service(&p, "none");
	CHECK(none && none->cluster_ip == 0 && none->n_endpoints == 3);
	plan_free(&p);
}

TEST(services_node_ports_are_one_range_shared_by_a_service_s_tcp_and_udp_of_one_number)
{
	struct plan p;
	CHECK(build(LAB(SERVICE("dns", "{'type': 'NodePort', 'ports': [{'name': 'a', 'port': 53, 'protocol': 'UDP'}, "
				       "{'name': 'b', 'port': 53}, {'name': 'c', 'port': 54, 'nodePort': 30001}]}") ", "
		       SERVICE("lb", "{'type': 'LoadBalancer', 'ports': [{'port': 80}]}") ", "
		       SERVICE("bare", "{'type': 'LoadBalancer', 'allocateLoadBalancerNodePorts': false, "
				       "'ports': [{'port': 80}]}")),
		    &p));
	const struct plan_service *dns = service(&p, "dns"), *lb = service(&p, "lb"), *bare = service(&p, "bare");
	CHECK(dns && lb && bare);
	if (!dns || !lb || !bare)
		return;
	CHECK_INT(dns->ports[0].node_port, 30000);
	CHECK_INT(dns->ports[1].node_port, 30000); /* 53/TCP shares 53/UDP's */
	CHECK_INT(dns->ports[2].node_port, 30001);
	CHECK_INT(lb->ports[0].node_port, 30002);
	CHECK_INT(bare->ports[0].node_port, 0);
	plan_free(&p);
}

/* The gateway's route to an address: its next hops (the first, then the others). */
static size_t gateway_route(const struct plan *p, uint32_t to, uint32_t *via, size_t max)
{
	size_t gw = plan_find(p, "gateway");
	for (const struct step *s = plan_next(p, NULL, STEP_ROUTE); s; s = plan_next(p, s, STEP_ROUTE)) {
		const struct step_route *r = &s->u.route;
		if (s->machine != gw || r->dst.addr != to || r->dst.len != 32)
			continue;
		size_t n = 0;
		via[n++] = r->via;
		for (size_t i = 0; i < r->n_also_via && n < max; i++)
			via[n++] = r->also_via[i];
		return n;
	}
	return 0;
}

TEST(services_load_balancer_and_external_ips_are_routed_by_the_gateway_to_every_node_or_the_local_ones)
{
	struct plan p;
	CHECK(build(LAB(LB_SERVICE("lb", "{'type': 'LoadBalancer', 'selector': {'app': 'web'}, 'ports': [{'port': 80, "
					 "'targetPort': 8080}], 'externalIPs': ['192.0.2.7']}", "192.0.2.10") ", "
		       LB_SERVICE("local", "{'type': 'LoadBalancer', 'externalTrafficPolicy': 'Local', 'selector': "
					   "{'app': 'web', 'pod-template-hash': 'none'}, 'ports': [{'port': 80}]}", "192.0.2.11")),
		    &p));
	uint32_t via[8];
	uint32_t nodes[3] = {addr("10.10.0.2"), addr("10.10.0.3"), addr("10.10.0.4")};
	CHECK_INT(gateway_route(&p, addr("192.0.2.10"), via, 8), 3);
	CHECK(memcmp(via, nodes, sizeof(nodes)) == 0);
	CHECK_INT(gateway_route(&p, addr("192.0.2.7"), via, 8), 3);
	/* Local without a ready endpoint anywhere: no node announces it. */
	CHECK_INT(gateway_route(&p, addr("192.0.2.11"), via, 8), 0);
	/* The service range is not routed from outside. */
	CHECK_INT(gateway_route(&p, service(&p, "lb")->cluster_ip, via, 8), 0);
	plan_free(&p);
}

#define SLICE(name, service, extra, endpoints)                                                                    \
	"{'apiVersion': 'discovery.k8s.io/v1', 'kind': 'EndpointSlice', 'metadata': {'name': '" name "', "        \
	"'namespace': 'shop', 'labels': {'kubernetes.io/service-name': '" service "'" extra "}}, 'addressType': " \
	"'IPv4', 'ports': [{'name': 'http', 'port': 8080}], 'endpoints': " endpoints "}"

TEST(services_without_a_selector_take_their_endpoint_slices_as_given)
{
	struct plan p;
	CHECK(build(LAB(SERVICE("db", "{'ports': [{'name': 'http', 'port': 80}]}") ", "
		       SLICE("db-1", "db", "",
			     "[{'addresses': ['10.244.0.2'], 'nodeName': 'node1'}, "
			     "{'addresses': ['192.0.2.50'], 'conditions': {'ready': false, 'serving': true, "
			     "'terminating': true}}]")),
		    &p));
	const struct plan_service *db = service(&p, "db");
	CHECK(db && db->n_endpoints == 2);
	if (!db || db->n_endpoints != 2)
		return;
	const struct plan_endpoint *a = &db->endpoints[0], *b = &db->endpoints[1];
	CHECK_INT(a->address, addr("10.244.0.2"));
	CHECK(a->machine != PLAN_NONE); /* a pod's address: that pod */
	CHECK_INT(a->node, plan_find(&p, "node1"));
	CHECK_INT(a->ports[0], 8080);
	CHECK(a->ready && a->serving && !a->terminating);
	CHECK_INT(b->machine, PLAN_NONE);
	CHECK_INT(b->node, PLAN_NONE);
	CHECK(!b->ready && b->serving && b->terminating);
	plan_free(&p);
}

TEST(services_with_a_selector_add_other_controllers_slices_but_not_a_copy_of_the_controller_s)
{
	struct tb_topology *t = NULL;
	struct plan p;
	const char *text = LAB(
		SERVICE("web", "{'selector': {'app': 'web'}, 'ports': [{'name': 'http', 'port': 80, 'targetPort': 8080}]}") ", " SLICE(
			"web-abcde", "web", ", 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io'",
			"[{'addresses': ['10.244.9.9']}]") ", " SLICE("web-extra", "web",
								      ", 'endpointslice.kubernetes.io/managed-by': 'me'",
								      "[{'addresses': ['192.0.2.60']}]"));
	autofree char *json = q(text);
	t = fixture_topology(json);
	CHECK(t != NULL);
	if (!t)
		return;
	/* One note for the copy (the others are the pod server's stand-ins). */
	size_t noted = 0;
	for (size_t i = 0; i < t->n_notes; i++)
		if (strstr(t->notes[i], "EndpointSlice"))
			noted += strstr(t->notes[i], "EndpointSlice shop/web-abcde: made by the EndpointSlice controller "
						     "for Service shop/web, which has a selector") != NULL;
	CHECK_INT(noted, 1);
	topology_free(t);
	CHECK(build(text, &p));
	const struct plan_service *web = service(&p, "web");
	CHECK(web && web->n_endpoints == 4);
	CHECK(web && web->n_endpoints == 4 && web->endpoints[3].address == addr("192.0.2.60"));
	plan_free(&p);
}

TEST(services_are_saved_and_read_back_unchanged)
{
	struct plan p, back;
	CHECK(build(LAB(LB_SERVICE("web", "{'type': 'LoadBalancer', 'selector': {'app': 'web'}, 'sessionAffinity': "
					  "'ClientIP', 'sessionAffinityConfig': {'clientIP': {'timeoutSeconds': 60}}, "
					  "'externalTrafficPolicy': 'Local', 'internalTrafficPolicy': 'Local', "
					  "'loadBalancerSourceRanges': ['203.0.113.0/28'], 'externalIPs': ['192.0.2.7'], "
					  "'ports': [{'name': 'http', 'port': 80, 'targetPort': 'http'}]}", "192.0.2.10") ", "
		       SERVICE("db", "{'clusterIP': 'None', 'ports': [{'name': 'http', 'port': 80}]}") ", "
		       SLICE("db-1", "db", "", "[{'addresses': ['192.0.2.50'], 'conditions': {'ready': false}}]")),
		    &p));
	autofree char *text = plan_to_json(&p, true), *shape = plan_shape(&p);
	CHECK(strstr(shape, "\"sessionAffinity\":\"ClientIP\",\"sessionAffinityTimeout\":60") != NULL);
	CHECK(strstr(shape, "\"loadBalancerSourceRanges\":[\"203.0.113.0/28\"]") != NULL);
	struct tb_err e;
	CHECK_INT(plan_from_json(text, &back, &e), 0);
	autofree char *again = plan_to_json(&back, true);
	CHECK_STR(again, text);
	const struct plan_service *web = service(&back, "web");
	if (!web)
		return;
	CHECK(web && web->affinity && web->affinity_timeout == 60 && web->external_local && web->internal_local);
	CHECK(web && web->n_endpoints == 3 && web->endpoints[0].machine != PLAN_NONE);
	plan_free(&p);
	plan_free(&back);
}

TEST(services_saved_wrong_are_refused_naming_the_field)
{
	struct plan p;
	CHECK(build(LAB(SERVICE("web", "{'selector': {'app': 'web'}, 'ports': [{'name': 'http', 'port': 80}]}")), &p));
	/* The saved form without spaces, to change one field of it. */
	autofree char *text = plan_shape(&p);
	plan_free(&p);
	struct {
		const char *from, *to, *error;
	} cases[] = {
		{"\"ports\":[80]", "\"ports\":[80,81]",
		 "services[0]: endpoints[0]: \"ports\": expected one port per service port (1), 0 where it has none"},
		{"\"type\":\"ClusterIP\"", "\"type\":\"ExternalNames\"",
		 "services[0]: \"type\": unknown service type \"ExternalNames\""},
		/* An ExternalName Service has a name, and no address. */
		{"\"type\":\"ClusterIP\"", "\"type\":\"ExternalName\"",
		 "services[0]: \"externalName\": an ExternalName Service has a DNS name (and no clusterIP)"},
		{"\"clusterIP\":\"10.96.0.2\"", "\"clusterIP\":\"10.96.0.2; reboot\"",
		 "services[0]: \"clusterIP\": expected an IPv4 address or \"None\""},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *at = strstr(text, cases[i].from);
		CHECK(at != NULL);
		if (!at)
			continue;
		autofree char *bad = xasprintf("%.*s%s%s", (int)(at - text), text, cases[i].to, at + strlen(cases[i].from));
		struct tb_err e;
		CHECK_INT(plan_from_json(bad, &p, &e), -1);
		CHECK_STR(e.msg, cases[i].error);
	}
}

TEST(services_source_ranges_may_be_space_padded_as_the_api_server_allows)
{
	/* kube-proxy's own test gives " 203.0.113.0/25": the API server
	 * validates loadBalancerSourceRanges trimmed and stores them as given. */
	struct plan p;
	CHECK(build(LAB(LB_SERVICE("web", "{'type': 'LoadBalancer', 'selector': {'app': 'web'}, "
					  "'loadBalancerSourceRanges': [' 203.0.113.0/25', '10.10.0.0/24\\t '], "
					  "'ports': [{'name': 'http', 'port': 80, 'targetPort': 'http'}]}", "192.0.2.10")),
		    &p));
	const struct plan_service *web = service(&p, "web");
	CHECK(web != NULL);
	if (web) {
		CHECK_INT(web->n_source_ranges, 2);
		CHECK_INT(web->source_ranges[0].addr, addr("203.0.113.0"));
		CHECK_INT(web->source_ranges[0].len, 25);
		CHECK_INT(web->source_ranges[1].addr, addr("10.10.0.0"));
	}
	plan_free(&p);
}

TEST(services_nodes_answer_every_reject_without_a_rate_limit)
{
	/* Only a lab with Services changes the nodes' ICMP rate limit, on
	 * every node, so that a REJECT is told at once however many come. */
	struct plan p;
	CHECK(build(LAB(SERVICE("web", "{'selector': {'app': 'web'}, 'ports': [{'name': 'http', 'port': 80}]}")), &p));
	size_t n = 0;
	for (const struct step *s = plan_next(&p, NULL, STEP_SYSCTL); s; s = plan_next(&p, s, STEP_SYSCTL))
		if (strcmp(s->u.sysctl.key, "net/ipv4/icmp_ratelimit") == 0) {
			CHECK_STR(s->u.sysctl.value, "0");
			CHECK_INT(p.machines[s->machine].kind, MACHINE_NODE);
			n++;
		}
	CHECK_INT(n, 3);
	plan_free(&p);
	CHECK(build(LAB("{'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'other'}}"), &p));
	for (const struct step *s = plan_next(&p, NULL, STEP_SYSCTL); s; s = plan_next(&p, s, STEP_SYSCTL))
		CHECK(strcmp(s->u.sysctl.key, "net/ipv4/icmp_ratelimit") != 0);
	plan_free(&p);
}

TEST(services_slice_endpoints_without_node_name_are_local_to_no_node)
{
	/* kube-proxy's endpoint-slice cache: local only by nodeName, not by
	 * where the address is; upstream's TestNodePorts and
	 * TestExternalTrafficPolicyLocal give such an endpoint and expect
	 * external traffic under Local never to reach it. */
	struct plan p;
	CHECK(build(LAB(SERVICE("db", "{'type': 'NodePort', 'externalTrafficPolicy': 'Local', "
				      "'ports': [{'name': 'http', 'port': 80}]}") ", "
		       SLICE("db-1", "db", "",
			     "[{'addresses': ['10.244.0.2']}, {'addresses': ['10.244.1.2'], 'nodeName': 'node2'}]")),
		    &p));
	const struct plan_service *db = service(&p, "db");
	CHECK(db && db->n_endpoints == 2);
	if (!db || db->n_endpoints != 2)
		return;
	CHECK(db->endpoints[0].machine != PLAN_NONE && p.machines[db->endpoints[0].machine].parent == plan_find(&p, "node1"));
	CHECK_INT(db->endpoints[0].node, PLAN_NONE);
	CHECK_INT(db->endpoints[1].node, plan_find(&p, "node2"));
	/* node1's kube-proxy has no local endpoint for external traffic: it drops it. */
	autofree char *rules = kubeproxy_ruleset(&p, plan_find(&p, "node1"));
	CHECK(rules && strstr(rules, "comment \"shop/db:http\" : drop") != NULL);
	plan_free(&p);
}
