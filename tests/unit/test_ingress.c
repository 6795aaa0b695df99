/* Ingress: the objects as the API server checks them, which Ingresses the
 * lab's ingress-nginx serves, its pod and Service, the servers and
 * locations ingress-nginx makes of them (table-driven: a Host and a path,
 * the location nginx picks), the nginx.conf they become, the saved form,
 * and the ingress: check target. */
#define _GNU_SOURCE
#include <string.h>

#include "check/check.h"
#include "fixtures.h"
#include "harness.h"
#include "model/compile.h"
#include "model/ingress.h"
#include "model/jsondoc.h"
#include "plan/ingress_nginx.h"
#include "plan/plan.h"
#include "util/diag.h"
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
#define NS "{'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'shop'}}"
#define DEPLOY(name, replicas, port)                                                                              \
	"{'apiVersion': 'apps/v1', 'kind': 'Deployment', 'metadata': {'name': '" name "', 'namespace': 'shop'},"     \
	" 'spec': {'replicas': " #replicas ", 'selector': {'matchLabels': {'app': '" name "'}}, 'template': "        \
	"{'metadata': {'labels': {'app': '" name "'}}, 'spec': {'containers': [{'name': 'c', 'image': 'x', 'ports': " \
	"[{'name': 'http', 'containerPort': " #port "}]}]}}}}"
#define SERVICE(name, port, selector)                                                                          \
	"{'apiVersion': 'v1', 'kind': 'Service', 'metadata': {'name': '" name "', 'namespace': 'shop'}, 'spec': " \
	"{'selector': {'app': '" selector "'}, 'ports': [{'name': 'web', 'port': " #port                           \
	", 'targetPort': 'http'}]}}"
#define APPS                                                                                                    \
	NS ", " DEPLOY("web", 2, 8080) ", " DEPLOY("cart", 2, 9000) ", " DEPLOY("fallback", 1, 8080) ", " SERVICE( \
		"web", 80, "web") ", " SERVICE("cart", 9000, "cart") ", " SERVICE("fallback", 80, "fallback") ", " SERVICE("idle", 80, "nobody")
#define INGRESS(name, spec)                                                                                       \
	"{'apiVersion': 'networking.k8s.io/v1', 'kind': 'Ingress', 'metadata': {'name': '" name "', 'namespace': " \
	"'shop'}, 'spec': " spec "}"
#define PATH(path, type, service, port) \
	"{'path': '" path "', 'pathType': '" type "', 'backend': {'service': {'name': '" service "', 'port': " port "}}}"
#define LAB(extra, objects)                                                                                   \
	"{'name': 'ing', " IMAGES ", 'cluster': {" extra "}, 'nodes': [{'name': 'node1'}, {'name': 'node2'}], " \
	"'objects': [" APPS ", " objects "]}"

/* The shop's Ingress (as examples/ingress has it) and a second one that
 * adds to one of its hosts, a wildcard host, and paths of every type. */
#define SHOP                                                                                                       \
	INGRESS("shop", "{'ingressClassName': 'nginx', 'defaultBackend': {'service': {'name': 'fallback', 'port': "      \
			"{'number': 80}}}, 'rules': [{'host': 'shop.example.com', 'http': {'paths': ["                   \
			PATH("/cart", "Prefix", "cart", "{'name': 'web'}") ", " PATH("/status", "Exact", "web",           \
										     "{'number': 80}") ", " PATH( \
				"/", "Prefix", "web", "{'number': 80}") "]}}, {'host': 'api.example.com', 'http': "        \
			"{'paths': [" PATH("/v1", "Prefix", "cart", "{'number': 9000}") "]}}]}")
#define MORE                                                                                                     \
	INGRESS("more", "{'ingressClassName': 'nginx', 'rules': [{'host': 'api.example.com', 'http': {'paths': ["       \
			PATH("/v1", "Prefix", "web", "{'number': 80}") ", " PATH("/legacy", "ImplementationSpecific", "web", \
										  "{'number': 80}") ", " PATH(   \
				"/v1/", "Exact", "fallback", "{'number': 80}") ", " PATH("/aaa/bbb/", "Prefix", "cart", "{'number': 9000}") ", " PATH("/idle", "Prefix", "idle",       \
											 "{'number': 80}") ", " PATH( \
				"/gone", "Prefix", "missing", "{'number': 80}") ", " PATH("/odd \\\"path\\\";{x}",        \
										"ImplementationSpecific", "web",   \
										"{'number': 80}") "]}}, {'host': '*.example.com', 'http': " \
			"{'paths': [" PATH("/", "Prefix", "fallback", "{'number': 80}") "]}}]}")

/* Machine M's file at PATH, or NULL. */
static const char *file_of(const struct plan_machine *m, const char *path)
{
	for (size_t i = 0; i < m->n_files; i++)
		if (strcmp(m->files[i].path, path) == 0)
			return m->files[i].content;
	return NULL;
}

static bool build(const char *text, struct plan *p)
{
	autofree char *json = q(text);
	return fixture_plan(json, p);
}

/* The notes about Ingresses worth comparing (not "not used:" ones). */
static bool ingress_note(const char *note)
{
	return strstr(note, "Ingress") && !strstr(note, "not used:");
}

/* Every message compiling TEXT gives, errors and notes, one a line. */
static char *messages_of(const char *text)
{
	autofree char *json = q(text);
	return fixture_compile_messages(json, ingress_note);
}

TEST(ingress_objects_are_checked_as_the_api_server_checks_them_and_refused_by_name)
{
	autofree char *got = messages_of(LAB(
		"",
		INGRESS("tls", "{'tls': [{'hosts': ['a.example.com'], 'secretName': 's'}], 'rules': [{'host': "
			       "'a.example.com', 'http': {'paths': [" PATH("/", "Prefix", "web", "{'number': 80}") "]}}]}") ", "
		"{'apiVersion': 'networking.k8s.io/v1', 'kind': 'Ingress', 'metadata': {'name': 'rw', 'namespace': 'shop', "
		"'annotations': {'nginx.ingress.kubernetes.io/rewrite-target': '/', 'team': 'a'}}, 'spec': "
		"{'defaultBackend': {'service': {'name': 'web', 'port': {'number': 80}}}}}, " INGRESS(
			"res", "{'defaultBackend': {'resource': {'apiGroup': 'k8s.example.com', 'kind': 'Bucket', "
			       "'name': 'b'}}}") ", " INGRESS("paths", "{'rules': [{'host': '10.0.0.1'}, {'host': "
								      "'a.*.example.com'}, {'host': 'x.example.com', "
								      "'http': {'paths': [{'path': '/a', 'backend': "
								      "{'service': {'name': 'web', 'port': {'number': "
								      "80}}}}, " PATH("/a//b", "Prefix", "web",
										      "{'number': 80}") ", " PATH("a", "Exact", "web", "{'number': 80}") ", " PATH("/p", "Prefix", "web", "{'number': 80, 'name': 'web'}") "]}}]}") ", " INGRESS("empty",
																																				      "{}")));
	CHECK_STR(got,
		  "t.json:1: Ingress shop/tls: spec.tls: not implemented: TLS: the lab's controller serves plain HTTP on "
		  "port 80\n"
		  "t.json:1: Ingress shop/rw: metadata.annotations.nginx.ingress.kubernetes.io/rewrite-target: not "
		  "implemented: ingress-nginx's annotation nginx.ingress.kubernetes.io/rewrite-target changes how the "
		  "controller answers; testbed's controller does not build it\n"
		  "t.json:1: Ingress shop/res: spec.defaultBackend.resource: not implemented: a resource backend (an "
		  "object of another API group): ingress-nginx proxies to Services only\n"
		  "t.json:1: Ingress shop/paths: spec.rules[0].host: \"10.0.0.1\" must be a DNS name, not an IP "
		  "address\n"
		  "t.json:1: Ingress shop/paths: spec.rules[1].host: \"a.*.example.com\" is not a host: a DNS name "
		  "(lowercase labels joined by '.'), or \"*.\" and one\n"
		  "t.json:1: Ingress shop/paths: spec.rules[2].http.paths[0].pathType: pathType must be specified "
		  "(Exact, Prefix or ImplementationSpecific)\n"
		  "t.json:1: Ingress shop/paths: spec.rules[2].http.paths[1].path: \"/a//b\" must not contain '//'\n"
		  "t.json:1: Ingress shop/paths: spec.rules[2].http.paths[2].path: \"a\" must be an absolute path "
		  "(starting with '/')\n"
		  "t.json:1: Ingress shop/paths: spec.rules[2].http.paths[3].backend.service.port: a port is given by "
		  "number or by name, not both\n"
		  "t.json:1: Ingress shop/empty: spec: either defaultBackend or rules must be specified\n");
}

TEST(ingress_classes_decide_what_the_controller_serves_and_the_rest_is_noted)
{
	autofree char *got = messages_of(LAB(
		"",
		"{'apiVersion': 'networking.k8s.io/v1', 'kind': 'IngressClass', 'metadata': {'name': 'other'}, 'spec': "
		"{'controller': 'example.com/other'}}, " INGRESS("theirs", "{'ingressClassName': 'other', "
									   "'defaultBackend': {'service': {'name': 'web', "
									   "'port': {'number': 80}}}}") ", " INGRESS("none", "{'defaultBackend': {'service': {'name': 'web', 'port': {'number': 80}}}}")));
	CHECK_STR(got,
		  "note: t.json:1: Ingress shop/theirs: served by no controller of the lab: its class \"other\" is "
		  "another controller's\n"
		  "note: t.json:1: Ingress shop/none: not served: it names no class and no IngressClass is the default "
		  "(ingressclass.kubernetes.io/is-default-class: \"true\"); give spec.ingressClassName: nginx\n");
	/* No Ingress served: no controller. */
	struct plan p;
	CHECK(build(LAB("", INGRESS("none", "{'defaultBackend': {'service': {'name': 'web', 'port': {'number': 80}}}}")),
		    &p));
	CHECK_INT(p.ingress.n_servers, 0);
	CHECK(plan_find(&p, TB_INGRESS_CONTROLLER) == PLAN_NONE);
	plan_free(&p);
	/* A default IngressClass of ingress-nginx's takes the classless one;
	 * the legacy annotation names a class too. */
	CHECK(build(LAB("", "{'apiVersion': 'networking.k8s.io/v1', 'kind': 'IngressClass', 'metadata': {'name': "
			    "'public', 'annotations': {'ingressclass.kubernetes.io/is-default-class': 'true'}}, 'spec': "
			    "{'controller': 'k8s.io/ingress-nginx'}}, " INGRESS("none", "{'rules': [{'host': 'a.example.com', 'http': {'paths': [" PATH("/", "Prefix", "web", "{'number': 80}") "]}}]}") ", "
			    "{'apiVersion': 'networking.k8s.io/v1', 'kind': 'Ingress', 'metadata': {'name': 'legacy', "
			    "'namespace': 'shop', 'annotations': {'kubernetes.io/ingress.class': 'nginx'}}, 'spec': "
			    "{'rules': [{'host': 'b.example.com', 'http': {'paths': [" PATH("/", "Prefix", "cart", "{'number': 9000}") "]}}]}}"),
		    &p));
	CHECK_INT(p.ingress.n_servers, 3);
	plan_free(&p);
	/* The controller's names are the lab's. */
	autofree char *taken = messages_of(LAB(
		"", SHOP ", {'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'ingress-nginx'}}, {'apiVersion': "
		    "'v1', 'kind': 'Service', 'metadata': {'name': 'ingress-nginx-controller', 'namespace': "
		    "'ingress-nginx'}, 'spec': {'ports': [{'port': 80}]}}"));
	CHECK(strstr(taken, "Service ingress-nginx/ingress-nginx-controller: metadata.name: Service "
			    "ingress-nginx/ingress-nginx-controller is the lab's ingress controller's") != NULL);
	/* A pod its Service would select is refused too. */
	autofree char *selected = messages_of(LAB(
		"", SHOP ", {'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'ingress-nginx'}}, {'apiVersion': "
		    "'v1', 'kind': 'Pod', 'metadata': {'name': 'fake', 'namespace': 'ingress-nginx', 'labels': "
		    "{'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/instance': 'ingress-nginx', "
		    "'app.kubernetes.io/component': 'controller'}}, 'spec': {'containers': [{'name': 'c', 'image': 'x'}]}}"));
	CHECK(strstr(selected, "Pod ingress-nginx/fake: metadata.labels: pod ingress-nginx/fake has the ingress "
			       "controller's labels") != NULL);
	/* Two default classes: the API server refuses a classless Ingress. */
	autofree char *two = messages_of(LAB(
		"", "{'apiVersion': 'networking.k8s.io/v1', 'kind': 'IngressClass', 'metadata': {'name': 'a', 'annotations': "
		    "{'ingressclass.kubernetes.io/is-default-class': 'true'}}, 'spec': {'controller': 'k8s.io/ingress-nginx'}}, "
		    "{'apiVersion': 'networking.k8s.io/v1', 'kind': 'IngressClass', 'metadata': {'name': 'b', 'annotations': "
		    "{'ingressclass.kubernetes.io/is-default-class': 'true'}}, 'spec': {'controller': 'k8s.io/ingress-nginx'}}, "
		    INGRESS("none", "{'defaultBackend': {'service': {'name': 'web', 'port': {'number': 80}}}}")));
	CHECK_STR(two, "note: t.json:1: Ingress shop/none: not served: it names no class and 2 IngressClasses are marked "
		       "the default, so the API server refuses it without spec.ingressClassName\n");
}

TEST(ingress_backends_without_a_service_or_port_are_noted_as_ingress_nginx_s_503)
{
	autofree char *got = messages_of(LAB(
		"", INGRESS("a", "{'ingressClassName': 'nginx', 'defaultBackend': {'service': {'name': 'gone', 'port': "
				 "{'number': 80}}}, 'rules': [{'host': 'a.example.com', 'http': {'paths': [" PATH(
					 "/", "Prefix", "web", "{'name': 'https'}") ", " PATH("/x", "Prefix", "web",
											     "{'number': 81}") "]}}]}")));
	CHECK_STR(got,
		  "note: t.json:1: Ingress shop/a: spec.defaultBackend.service.name: no Service \"gone\" in namespace "
		  "shop: ingress-nginx answers 503 there\n"
		  "note: t.json:1: Ingress shop/a: spec.rules[0].http.paths[0].backend.service.port.name: Service "
		  "shop/web has no TCP port named \"https\": ingress-nginx answers 503 there\n"
		  "note: t.json:1: Ingress shop/a: spec.rules[0].http.paths[1].backend.service.port.number: Service "
		  "shop/web has no TCP port 81: ingress-nginx answers 503 there\n");
}

TEST(ingress_controller_is_a_pod_after_every_user_pod_and_a_node_port_service)
{
	struct plan p;
	CHECK(build(LAB("", SHOP), &p));
	size_t c = plan_find(&p, TB_INGRESS_CONTROLLER);
	CHECK(c != PLAN_NONE);
	if (c == PLAN_NONE)
		return;
	const struct plan_machine *m = &p.machines[c];
	CHECK_STR(m->namespace, TB_INGRESS_NAMESPACE);
	CHECK_STR(p.machines[m->parent].name, "node1");
	CHECK(!m->pod_server && m->argv && strcmp(m->argv[0], INGRESS_NGINX_BINARY) == 0);
	CHECK(file_of(m, INGRESS_NGINX_CONF) != NULL);
	for (size_t i = 0; i < p.n_machines; i++)
		if (i != c && p.machines[i].kind == MACHINE_POD && p.machines[i].parent == m->parent)
			CHECK(p.machines[i].address < m->address);
	const struct plan_service *s = &p.services[p.ingress.service];
	CHECK_STR(s->name, TB_INGRESS_CONTROLLER);
	CHECK_INT(s->type, PLAN_SERVICE_NODE_PORT);
	CHECK_INT(s->ports[0].port, 80);
	CHECK_INT(s->ports[0].node_port, TB_INGRESS_DEFAULT_NODE_PORT);
	CHECK(s->n_endpoints == 1 && s->endpoints[0].machine == c);
	plan_free(&p);
	/* The default node port yields to a user's Service that asks for it. */
	CHECK(build(LAB("", SHOP ", {'apiVersion': 'v1', 'kind': 'Service', 'metadata': {'name': 'np', 'namespace': "
			    "'shop'}, 'spec': {'type': 'NodePort', 'selector': {'app': 'web'}, 'ports': [{'port': 80, "
			    "'nodePort': 30080}]}}"),
		    &p));
	s = &p.services[p.ingress.service];
	CHECK(s->ports[0].node_port && s->ports[0].node_port != TB_INGRESS_DEFAULT_NODE_PORT);
	plan_free(&p);
	/* LoadBalancer: its address is routed by the gateway, as a Service's. */
	CHECK(build(LAB("'ingress': {'service': 'LoadBalancer', 'loadBalancerIP': '192.0.2.80'}", SHOP), &p));
	s = &p.services[p.ingress.service];
	uint32_t lb;
	ipv4_addr_parse("192.0.2.80", &lb);
	CHECK(s->type == PLAN_SERVICE_LOAD_BALANCER && s->n_load_balancer_ips == 1 && s->load_balancer_ips[0] == lb);
	bool routed = false;
	for (const struct step *st = plan_next(&p, NULL, STEP_ROUTE); st; st = plan_next(&p, st, STEP_ROUTE))
		routed |= st->u.route.dst.addr == lb && st->u.route.dst.len == 32;
	CHECK(routed);
	plan_free(&p);
	autofree char *got = messages_of(LAB("'ingress': {'service': 'LoadBalancer'}", SHOP));
	CHECK_STR(got, "t.json:1: cluster.ingress.loadBalancerIP: a LoadBalancer controller needs its address: the "
		       "gateway routes it to the nodes\n");
}

TEST(ingress_nginx_routes_each_host_and_path_as_ingress_nginx_does)
{
	struct plan p;
	CHECK(build(LAB("", SHOP ", " MORE), &p));
	static const struct {
		const char *host, *path;
		const char *server, *location; /* "= /x" for an exact one */
		const char *service;           /* "": nginx answers STATUS itself */
		int status;
	} cases[] = {
		/* Prefix is element-wise: /cart and /cart/..., not /cartography. */
		{"shop.example.com", "/cart", "shop.example.com", "= /cart", "shop/cart", 0},
		{"shop.example.com", "/cart/checkout?x=1", "shop.example.com", "/cart/", "shop/cart", 0},
		{"shop.example.com", "/cartography", "shop.example.com", "/", "shop/web", 0},
		/* Exact is that path only. */
		{"shop.example.com", "/status", "shop.example.com", "= /status", "shop/web", 0},
		{"shop.example.com", "/status/x", "shop.example.com", "/", "shop/web", 0},
		/* Host names match whatever their case and port. */
		{"SHOP.example.com:30080", "/cart", "shop.example.com", "= /cart", "shop/cart", 0},
		/* Two Ingresses for one host merge; the same path and type stays
		 * the first's by name order ("more" < "shop"): /v1 is web's. */
		{"api.example.com", "/v1", "api.example.com", "= /v1", "shop/web", 0},
		{"api.example.com", "/v1/", "api.example.com", "= /v1/", "shop/fallback", 0},
		{"api.example.com", "/v1/orders", "api.example.com", "/v1/", "shop/web", 0},
		/* A Prefix path's trailing slash is ignored, as the Ingress API
		 * defines it (the conformance suite's /aaa/bbb/ case). */
		{"api.example.com", "/aaa/bbb", "api.example.com", "= /aaa/bbb", "shop/cart", 0},
		{"api.example.com", "/aaa/bbb/ccc", "api.example.com", "/aaa/bbb/", "shop/cart", 0},
		{"api.example.com", "/aaa/bbbccc", "api.example.com", "/", "", 404},
		/* ImplementationSpecific is nginx's own prefix. */
		{"api.example.com", "/legacyx", "api.example.com", "/legacy", "shop/web", 0},
		{"api.example.com", "/odd \"path\";{x}/y", "api.example.com", "/odd \"path\";{x}", "shop/web", 0},
		/* The host's "/" is the default backend of the Ingress that made
		 * the server first ("more", which has none): 404. */
		{"api.example.com", "/other", "api.example.com", "/", "", 404},
		/* No endpoint, no Service: 503. */
		{"api.example.com", "/idle", "api.example.com", "= /idle", "shop/idle", 503},
		{"api.example.com", "/gone/x", "api.example.com", "/gone/", "shop/missing", 503},
		/* A wildcard is one label. */
		{"m.example.com", "/x", "*.example.com", "/", "shop/fallback", 0},
		{"a.m.example.com", "/x", "_", "/", "", 404},
		/* An unknown host: the default backend's 404 (the shop's
		 * defaultBackend is its hosts', not the catch-all's: it has rules). */
		{"unknown.test", "/", "_", "/", "", 404},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct plan_ingress_server *s = NULL;
		const struct plan_location *l = ingress_nginx_route(&p.ingress, cases[i].host, cases[i].path, &s);
		CHECK(l != NULL && s != NULL);
		if (!l || !s)
			continue;
		autofree char *where = xasprintf("%s%s", l->match == PLAN_MATCH_EXACT ? "= " : "", l->path);
		autofree char *what = xasprintf("%s%s -> %s %s %s %d", cases[i].host, cases[i].path, s->host, where,
						l->service, l->status);
		autofree char *want = xasprintf("%s%s -> %s %s %s %d", cases[i].host, cases[i].path, cases[i].server,
						cases[i].location, cases[i].service, cases[i].status);
		CHECK_STR(what, want);
	}
	plan_free(&p);
	/* An Ingress of a defaultBackend alone is the catch-all's. */
	CHECK(build(LAB("", INGRESS("all", "{'ingressClassName': 'nginx', 'defaultBackend': {'service': {'name': "
					   "'fallback', 'port': {'number': 80}}}}")),
		    &p));
	const struct plan_ingress_server *s = NULL;
	const struct plan_location *l = ingress_nginx_route(&p.ingress, "anything.test", "/x", &s);
	CHECK(l && strcmp(l->service, "shop/fallback") == 0 && l->status == 0);
	plan_free(&p);
}

TEST(ingress_nginx_conf_is_generated_from_the_objects)
{
	struct plan p;
	CHECK(build(LAB("", SHOP ", " MORE), &p));
	size_t c = plan_find(&p, TB_INGRESS_CONTROLLER);
	CHECK(c != PLAN_NONE);
	if (c == PLAN_NONE)
		return;
	const char *conf = file_of(&p.machines[c], INGRESS_NGINX_CONF);
	CHECK(conf != NULL);
	if (!conf)
		return;
	char cart[16];
	ipv4_addr_format(p.services[1].cluster_ip, cart);
	CHECK_STR(p.services[1].name, "cart");
	autofree char *proxy = xasprintf("proxy_pass http://%s:9000;", cart);
	static const char *const wanted[] = {
		"server_name _;\n\t\tlisten 80 default_server",
		"server_name shop.example.com;",
		"server_name ~^(?<subdomain>[\\w-]+)\\.example\\.com$;",
		"location = /cart {",
		"location /cart/ {",
		"set $proxy_upstream_name \"shop-cart-web\";",
		"location /legacy {",
		"location \"/odd \\\"path\\\";{x}\" {",
		"# the default backend: no Ingress rule matches\n\t\t\treturn 404;",
		"# no such Service: ingress-nginx has no upstream for it\n\t\t\treturn 503;",
		"# no ready endpoint (or no cluster IP) behind the Service\n\t\t\treturn 503;",
		"proxy_set_header X-Forwarded-For $remote_addr;",
		"proxy_set_header Host $best_http_host;",
		"access_log /var/log/nginx/ingress-access.log upstreaminfo;",
	};
	for (size_t i = 0; i < ARRAY_SIZE(wanted); i++)
		if (!strstr(conf, wanted[i])) {
			CHECK_STR(wanted[i], "(in nginx.conf)");
		}
	CHECK(strstr(conf, proxy) != NULL);
	/* The conf is the plan's servers: regenerated, the same text. */
	autofree char *again = ingress_nginx_conf(&p);
	CHECK_STR(again, conf);
	plan_free(&p);
}

TEST(ingress_servers_are_saved_and_read_back_unchanged)
{
	struct plan p, back;
	CHECK(build(LAB("", SHOP ", " MORE), &p));
	autofree char *text = plan_to_json(&p, true);
	struct tb_err e;
	CHECK_INT(plan_from_json(text, &back, &e), 0);
	autofree char *again = plan_to_json(&back, true);
	CHECK_STR(again, text);
	CHECK_INT(back.ingress.n_servers, p.ingress.n_servers);
	const struct plan_ingress_server *s = NULL;
	const struct plan_location *l = ingress_nginx_route(&back.ingress, "shop.example.com", "/cart/x", &s);
	CHECK(l && l->backend != PLAN_NONE && strcmp(back.services[l->backend].name, "cart") == 0);
	plan_free(&p);
	plan_free(&back);
}

/* The answerers of expectation 0's probe from FROM. */
static char *ingress_answerers(const struct plan *p, const struct check_run *r, const char *from)
{
	char *s = xstrdup("");
	for (size_t i = 0; i < r->n_probes; i++) {
		if (strcmp(p->machines[r->probes[i].from].name, from) != 0)
			continue;
		const struct check_target *t = check_target_of(r, &r->probes[i]);
		char a[16];
		char *more = xasprintf("%s%s:%u", s, ipv4_addr_format(t->address, a), t->port);
		free(s);
		s = more;
		for (uint32_t k = 0; k < t->n_answerers; k++) {
			more = xasprintf("%s %s", s, r->machines[r->answerers[t->answerers + k]].name);
			free(s);
			s = more;
		}
	}
	return s;
}

TEST(ingress_targets_reach_the_controller_as_the_source_does_and_name_the_backend_s_pods)
{
	struct plan p;
	CHECK(build(LAB("", SHOP ", " MORE) , &p));
	struct tb_expect x[] = {
		{.from = {.kind = TB_KIND_SELECTOR, .name = "shop/app=fallback"},
		 .to = {.kind = TB_KIND_INGRESS, .name = "ingress:shop.example.com/cart/x"},
		 .proto = TB_PROTO_HTTP,
		 .expect_pass = true},
		{.from = {.kind = TB_KIND_EXTERNAL, .name = "internet"},
		 .to = {.kind = TB_KIND_INGRESS, .name = "ingress:shop.example.com/cart/x"},
		 .proto = TB_PROTO_HTTP,
		 .expect_pass = true},
	};
	plan_set_expects(&p, x, ARRAY_SIZE(x));
	p.has_expect = true;
	struct diag d;
	diag_init(&d, "t.json");
	struct check_run r;
	CHECK(check_compile(&p, &r, &d));
	const struct plan_service *s = &p.services[p.ingress.service];
	char ip[16], node[16];
	ipv4_addr_format(s->cluster_ip, ip);
	ipv4_addr_format(p.machines[plan_find(&p, "node1")].address, node);
	autofree char *inside = ingress_answerers(&p, &r, p.machines[plan_find(&p, "internet") - 0].name);
	autofree char *want_outside = xasprintf("%s:30080", node);
	CHECK(strncmp(inside, want_outside, strlen(want_outside)) == 0);
	CHECK(strstr(inside, "cart-") != NULL && !strstr(inside, "web-"));
	size_t fb = PLAN_NONE;
	for (size_t m = 0; m < p.n_machines && fb == PLAN_NONE; m++)
		if (p.machines[m].kind == MACHINE_POD && strncmp(p.machines[m].name, "fallback-", 9) == 0)
			fb = m;
	autofree char *from_pod = ingress_answerers(&p, &r, p.machines[fb].name);
	autofree char *want_inside = xasprintf("%s:80", ip);
	CHECK(strncmp(from_pod, want_inside, strlen(want_inside)) == 0);
	const struct check_target *t = check_target_of(&r, &r.probes[0]);
	CHECK(t->request && strcmp(r.http_requests[t->request - 1].path, "/cart/x") == 0 &&
	      strcmp(r.http_requests[t->request - 1].host, "shop.example.com") == 0);
	check_run_free(&r);
	diag_free(&d);
	/* A request nginx answers itself says so, and which status to expect. */
	struct tb_expect unknown = {.from = {.kind = TB_KIND_EXTERNAL, .name = "internet"},
				    .to = {.kind = TB_KIND_INGRESS, .name = "ingress:nope.test/"},
				    .proto = TB_PROTO_HTTP,
				    .expect_pass = true,
				    .line = 3};
	plan_set_expects(&p, &unknown, 1);
	diag_init(&d, "t.json");
	CHECK(!check_compile(&p, &r, &d));
	CHECK(d.count == 1 && strcmp(d.messages[0], "t.json:3: expect[0].to: \"ingress:nope.test/\": ingress-nginx "
						    "answers 404 itself (server _, location /: no Ingress rule matches, "
						    "the default backend): expect \"status\": 404") == 0);
	check_run_free(&r);
	diag_free(&d);
	unknown.status = 404;
	unknown.expect_pass = false;
	plan_set_expects(&p, &unknown, 1);
	diag_init(&d, "t.json");
	CHECK(check_compile(&p, &r, &d));
	CHECK(r.n_probes == 1 && r.probes[0].expect_status == 404 && !r.probes[0].expect_pass);
	/* Judged by the status: 404 passes, a pod's 200 or a 503 does not. */
	r.probes[0].outcome = PROBE_FAIL;
	r.probes[0].status = 404;
	CHECK(check_probe_ok(&r.probes[0]));
	r.probes[0].status = 503;
	CHECK(!check_probe_ok(&r.probes[0]));
	r.probes[0].outcome = PROBE_PASS;
	r.probes[0].status = 200;
	CHECK(!check_probe_ok(&r.probes[0]));
	check_run_free(&r);
	diag_free(&d);
	plan_free(&p);
	/* Under internalTrafficPolicy Local, only the controller's node's
	 * endpoints take the proxy's connection: none there is an error. */
	CHECK(build(LAB("", "{'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {'name': 'far', 'namespace': 'shop', 'labels': "
			    "{'app': 'far'}}, 'spec': {'nodeName': 'node2', 'containers': [{'name': 'c', 'image': 'x', "
			    "'ports': [{'name': 'http', 'containerPort': 8080}]}]}}, {'apiVersion': 'v1', 'kind': 'Service', "
			    "'metadata': {'name': 'far', 'namespace': 'shop'}, 'spec': {'internalTrafficPolicy': 'Local', "
			    "'selector': {'app': 'far'}, 'ports': [{'port': 80, 'targetPort': 'http'}]}}, " INGRESS(
				    "far", "{'ingressClassName': 'nginx', 'rules': [{'host': 'far.example.com', 'http': "
					   "{'paths': [" PATH("/", "Prefix", "far", "{'number': 80}") "]}}]}")),
		    &p));
	struct tb_expect far = {.from = {.kind = TB_KIND_EXTERNAL, .name = "internet"},
				.to = {.kind = TB_KIND_INGRESS, .name = "ingress:far.example.com/"},
				.proto = TB_PROTO_HTTP,
				.expect_pass = true,
				.line = 4};
	plan_set_expects(&p, &far, 1);
	p.has_expect = true;
	diag_init(&d, "t.json");
	CHECK(!check_compile(&p, &r, &d));
	CHECK(d.count == 1 && strcmp(d.messages[0], "t.json:4: expect[0].to: \"ingress:far.example.com/\": Service "
						    "shop/far has internalTrafficPolicy Local and no ready endpoint on "
						    "node1, the ingress controller's node: kube-proxy drops the proxy's "
						    "connection there") == 0);
	check_run_free(&r);
	diag_free(&d);
	plan_free(&p);
}
