/* NetworkPolicy: the objects as the API server validates and defaults
 * them (table-driven: a spec, the messages it gets), what the plan
 * carries of them, and the saved plan's round trip and checks. */
#define _GNU_SOURCE
#include <string.h>

#include <cjson/cJSON.h>

#include "fixtures.h"
#include "harness.h"
#include "model/compile.h"
#include "model/jsondoc.h"
#include "plan/plan.h"
#include "util/diag.h"
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

#define POD(name, ns, labels)                                                                                     \
	"{'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {'name': '" name "', 'namespace': '" ns "', 'labels': " labels \
	"}, 'spec': {'containers': [{'name': 'c', 'ports': [{'name': 'http', 'containerPort': 80}]}]}}"
#define POLICY(ns, spec)                                                                                     \
	"{'apiVersion': 'networking.k8s.io/v1', 'kind': 'NetworkPolicy', 'metadata': {'name': 'p', 'namespace': '" ns \
	"'}, 'spec': " spec "}"
#define LAB(objects)                                                                                              \
	"{'name': 'np', 'images': {'pod': 'img.tar', 'node': 'img.tar'}, 'nodes': [{'name': 'node1'}], 'objects': ["   \
	"{'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'shop', 'labels': {'team': 'a'}}}, " POD(      \
		"web", "shop", "{'app': 'web'}") ", " POD("client", "default", "{'app': 'client'}") ", " objects "]}"

static bool policy_note(const char *note)
{
	return strstr(note, "NetworkPolic") != NULL;
}

/* Every error compiling TEXT gives, and the notes about NetworkPolicies,
 * one a line, columns of the one-line document left out. */
static char *messages_of(const char *text)
{
	autofree char *json = q(text);
	return fixture_compile_messages(json, policy_note);
}

#define E "t.json:1: NetworkPolicy shop/p: "
#define E_OTHER "t.json:1: NetworkPolicy other/p: "

/* Each spec with the messages the API server's validation would give it
 * (in testbed's words), naming the field's path. */
static const struct {
	const char *spec, *want;
} refusals[] = {
	{"{'podSelector': {'matchExpressions': [{'key': 'app', 'operator': 'In'}]}}",
	 E "spec.podSelector.matchExpressions[0].values: In needs a non-empty list of values\n"},
	{"{'podSelector': {'matchExpressions': [{'key': 'app', 'operator': 'Exists', 'values': ['x']}]}}",
	 E "spec.podSelector.matchExpressions[0].values: Exists takes no values\n"},
	{"{'podSelector': {'matchExpressions': [{'key': 'app', 'operator': 'Gt', 'values': ['1']}]}}",
	 E "spec.podSelector.matchExpressions[0].operator: \"Gt\": expected \"In\", \"NotIn\", \"Exists\" or \"DoesNotExist\"\n"},
	{"{'podSelector': {'matchLabels': {'app': 'a b'}}}",
	 E "spec.podSelector.matchLabels.app: \"a b\" is not a valid label value: up to 63 of a-z, A-Z, 0-9, '-', '_', '.', alphanumeric at both ends\n"},
	{"{'podSelector': {}, 'policyTypes': ['Ingress', 'Egress', 'Ingress']}",
	 E "spec.policyTypes: may not specify more than two policyTypes\n"},
	{"{'podSelector': {}, 'policyTypes': ['ingress']}",
	 E "spec.policyTypes[0]: \"ingress\": expected \"Ingress\" or \"Egress\"\n"},
	{"{'podSelector': {}, 'ingress': [{'from': [{}]}]}",
	 E "spec.ingress[0].from[0]: must specify a peer: podSelector, namespaceSelector (or both) or ipBlock (an empty peer is refused by the API server; leave from/to out to match every peer)\n"},
	{"{'podSelector': {}, 'ingress': [{'from': [{'podSelector': {}, 'ipBlock': {'cidr': '10.0.0.0/8'}}]}]}",
	 E "spec.ingress[0].from[0]: may not specify both ipBlock and another peer (podSelector)\n"},
	{"{'podSelector': {}, 'egress': [{'to': [{'ipBlock': {'cidr': '10.0.0.0/8', 'except': ['10.0.0.0/8', "
	 "'11.0.0.0/16', '10.1.0.0/16']}}]}]}",
	 E "spec.egress[0].to[0].ipBlock.except[0]: \"10.0.0.0/8\" must be a strict subset of cidr \"10.0.0.0/8\"\n"
	 E "spec.egress[0].to[0].ipBlock.except[1]: \"11.0.0.0/16\" must be a strict subset of cidr \"10.0.0.0/8\"\n"},
	{"{'podSelector': {}, 'egress': [{'to': [{'ipBlock': {'cidr': 'fd00::/64'}}]}]}",
	 E "spec.egress[0].to[0].ipBlock.cidr: \"fd00::/64\": not implemented: an IPv6 CIDR (testbed's labs are IPv4 only)\n"},
	{"{'podSelector': {}, 'egress': [{'to': [{'ipBlock': {'cidr': '10.0.0.0'}}, {'ipBlock': {}}, {'ipBlock': "
	 "{'cidr': '10.0.0.0/33'}}]}]}",
	 E "spec.egress[0].to[0].ipBlock.cidr: \"10.0.0.0\" is not a valid CIDR: missing the prefix length (like /24)\n"
	 E "spec.egress[0].to[1].ipBlock.cidr: required: the block's CIDR\n"
	 E "spec.egress[0].to[2].ipBlock.cidr: \"10.0.0.0/33\" is not a valid CIDR: the prefix length must be a number from 0 to 32\n"},
	{"{'podSelector': {}, 'ingress': [{'ports': [{'port': 0}, {'port': 65536}, {'port': '80'}, {'port': 'HTTP'}]}]}",
	 E "spec.ingress[0].ports[0].port: 0 is not a port: expected a whole number from 1 to 65535\n"
	 E "spec.ingress[0].ports[1].port: 65536 is not a port: expected a whole number from 1 to 65535\n"
	 E "spec.ingress[0].ports[2].port: \"80\" is not a port name: 1-15 of a-z, 0-9 and '-', with a letter, no '-' at an end or twice in a row (a port number is written as a number)\n"
	 E "spec.ingress[0].ports[3].port: \"HTTP\" is not a port name: 1-15 of a-z, 0-9 and '-', with a letter, no '-' at an end or twice in a row (a port number is written as a number)\n"},
	{"{'podSelector': {}, 'ingress': [{'ports': [{'port': 90, 'endPort': 80}, {'port': 'http', 'endPort': 90}, "
	 "{'endPort': 90}]}]}",
	 E "spec.ingress[0].ports[0].endPort: 80 must be greater than or equal to port (90)\n"
	 E "spec.ingress[0].ports[1].endPort: may not be specified when port is non-numeric\n"
	 E "spec.ingress[0].ports[2].endPort: may not be specified when port is not specified\n"},
	{"{'podSelector': {}, 'ingress': [{'ports': [{'protocol': 'ICMP', 'port': 1}]}]}",
	 E "spec.ingress[0].ports[0].protocol: \"ICMP\": supported values: \"TCP\", \"UDP\", \"SCTP\"\n"},
	{"{'podSelector': {}, 'ingres': []}",
	 E "spec.ingres: unknown key (did you mean \"ingress\"?)\n"},
	{"{'podSelector': {}, 'ingress': [{'to': []}], 'egress': [{'from': []}]}",
	 E "spec.ingress[0].to: unknown key (expected one of: ports, from)\n"
	 E "spec.egress[0].from: unknown key (expected one of: ports, to)\n"},
	{"{'podSelector': {}, 'ingress': [{'from': [{'ipBlock': {'cidr': '10.0.0.0/8', 'exclude': []}}], 'ports': "
	 "[{'port': 80, 'name': 'x'}]}]}",
	 E "spec.ingress[0].from[0].ipBlock.exclude: unknown key (expected one of: cidr, except)\n"
	 E "spec.ingress[0].ports[0].name: unknown key (expected one of: protocol, port, endPort)\n"},
};

TEST(network_policies_are_refused_as_the_api_server_refuses_them_naming_the_path)
{
	for (size_t i = 0; i < ARRAY_SIZE(refusals); i++) {
		autofree char *lab = xasprintf(LAB(POLICY("shop", "%s")), refusals[i].spec);
		autofree char *got = messages_of(lab);
		CHECK_STR(got, refusals[i].want);
	}
}

static bool build(const char *text, struct plan *p)
{
	autofree char *json = q(text);
	return fixture_plan(json, p);
}

static bool has_label(const struct plan_namespace *ns, const char *key, const char *value)
{
	for (size_t i = 0; i < ns->n_labels; i++)
		if (strcmp(ns->labels[i].key, key) == 0 && strcmp(ns->labels[i].value, value) == 0)
			return true;
	return false;
}

/* policyTypes as the API server defaults it: Ingress always, Egress when
 * egress rules are given (an empty list is none); as given otherwise. */
static const struct {
	const char *spec;
	bool ingress, egress;
} defaults[] = {
	{"{'podSelector': {}}", true, false},
	{"{}", true, false},
	{"{'podSelector': {}, 'egress': []}", true, false},
	{"{'podSelector': {}, 'egress': [{}]}", true, true},
	{"{'podSelector': {}, 'policyTypes': [], 'egress': [{}]}", true, true},
	{"{'podSelector': {}, 'policyTypes': ['Egress']}", false, true},
	{"{'podSelector': {}, 'policyTypes': ['Egress', 'Ingress']}", true, true},
	{"{'podSelector': {}, 'policyTypes': ['Ingress', 'Ingress']}", true, false},
};

TEST(network_policy_types_are_defaulted_as_the_api_server_defaults_them)
{
	for (size_t i = 0; i < ARRAY_SIZE(defaults); i++) {
		autofree char *lab = xasprintf(LAB(POLICY("shop", "%s")), defaults[i].spec);
		struct plan p;
		if (!build(lab, &p)) {
			harness_fail(__FILE__, __LINE__, "case %zu: no plan", i);
			continue;
		}
		CHECK_INT(p.n_policies, 1);
		if (p.n_policies == 1) {
			CHECK_INT(p.policies[0].ingress, defaults[i].ingress);
			CHECK_INT(p.policies[0].egress, defaults[i].egress);
		}
		plan_free(&p);
	}
}

#define FULL                                                                                                        \
	"{'podSelector': {'matchLabels': {'app': 'web'}, 'matchExpressions': [{'key': 'tier', 'operator': 'NotIn', "     \
	"'values': ['db', 'cache']}, {'key': 'gone', 'operator': 'DoesNotExist'}]}, 'ingress': [{'from': [{'podSelector': " \
	"{'matchLabels': {'app': 'client'}}, 'namespaceSelector': {'matchExpressions': [{'key': 'team', 'operator': "     \
	"'Exists'}]}}, {'namespaceSelector': {}}, {'podSelector': {}}, {'ipBlock': {'cidr': '10.0.0.7/8', 'except': "       \
	"['10.1.0.0/16', '10.2.3.4/24']}}], 'ports': [{'port': 80, 'endPort': 90}, {'protocol': 'UDP', 'port': 'http'}, " \
	"{'protocol': 'SCTP'}, {'port': 443, 'protocol': null}]}, {}], 'egress': [{'to': [{'ipBlock': {'cidr': "           \
	"'0.0.0.0/0'}}]}, {'ports': []}, {'to': []}]}"

TEST(network_policies_reach_the_plan_as_written_with_every_namespace_and_its_labels)
{
	struct plan p;
	CHECK(build(LAB(POLICY("shop", FULL)), &p));
	CHECK_INT(p.n_namespaces, 2);
	CHECK_STR(p.namespaces[0].name, "default");
	CHECK(has_label(&p.namespaces[0], "kubernetes.io/metadata.name", "default"));
	CHECK_STR(p.namespaces[1].name, "shop");
	CHECK(has_label(&p.namespaces[1], "team", "a"));
	CHECK(has_label(&p.namespaces[1], "kubernetes.io/metadata.name", "shop"));
	CHECK_INT(p.n_policies, 1);
	const struct plan_policy *pol = &p.policies[0];
	CHECK_STR(pol->namespace, "shop");
	CHECK_STR(pol->name, "p");
	/* Where it was written: the topology file's line (a fixture has no path). */
	CHECK(strlen(pol->where) > 2 && strcmp(pol->where + strlen(pol->where) - 2, ":1") == 0);
	CHECK(pol->ingress && pol->egress);
	/* The selector matches as Kubernetes matches it. */
	CHECK_INT(pol->pod_selector.n_reqs, 3);
	struct tb_label web[] = {{"app", "web"}}, db[] = {{"app", "web"}, {"tier", "db"}},
			gone[] = {{"app", "web"}, {"gone", ""}};
	CHECK(label_selector_matches(&pol->pod_selector, web, 1));
	CHECK(!label_selector_matches(&pol->pod_selector, db, 2));
	CHECK(!label_selector_matches(&pol->pod_selector, gone, 2));
	CHECK_INT(pol->n_ingress_rules, 2);
	const struct plan_policy_rule *r = &pol->ingress_rules[0];
	CHECK_INT(r->n_peers, 4);
	CHECK(r->peers[0].kind == PLAN_PEER_PODS && r->peers[0].has_pod_selector && r->peers[0].has_namespace_selector);
	CHECK_INT(r->peers[0].namespace_selector.reqs[0].op, SELECTOR_EXISTS);
	CHECK(!r->peers[1].has_pod_selector && r->peers[1].has_namespace_selector);
	CHECK_INT(r->peers[1].namespace_selector.n_reqs, 0);
	CHECK(r->peers[2].has_pod_selector && !r->peers[2].has_namespace_selector);
	CHECK(r->peers[3].kind == PLAN_PEER_IP_BLOCK);
	char buf[IPV4_PREFIX_STRLEN];
	/* The API server reads the cidr sloppily: host bits go. */
	CHECK_STR(ipv4_prefix_format(r->peers[3].cidr, buf), "10.0.0.0/8");
	CHECK_INT(r->peers[3].n_except, 2);
	CHECK_STR(ipv4_prefix_format(r->peers[3].except[1], buf), "10.2.3.0/24");
	CHECK_INT(r->n_ports, 4);
	CHECK(r->ports[0].protocol == TB_PROTOCOL_TCP && r->ports[0].port == 80 && r->ports[0].end_port == 90 &&
	      !r->ports[0].any_port && !r->ports[0].name);
	CHECK(r->ports[1].protocol == TB_PROTOCOL_UDP && r->ports[1].name && strcmp(r->ports[1].name, "http") == 0);
	CHECK(r->ports[2].protocol == TB_PROTOCOL_SCTP && r->ports[2].any_port);
	/* null is absent, as kubectl prints it: TCP. */
	CHECK(r->ports[3].protocol == TB_PROTOCOL_TCP && r->ports[3].port == 443 && r->ports[3].end_port == 0);
	/* {} allows every peer on every port. */
	CHECK_INT(pol->ingress_rules[1].n_peers, 0);
	CHECK_INT(pol->ingress_rules[1].n_ports, 0);
	CHECK_INT(pol->n_egress_rules, 3);
	CHECK_STR(ipv4_prefix_format(pol->egress_rules[0].peers[0].cidr, buf), "0.0.0.0/0");
	/* Empty ports and to are none: every port, every peer. */
	CHECK_INT(pol->egress_rules[1].n_ports, 0);
	CHECK_INT(pol->egress_rules[2].n_peers, 0);
	plan_free(&p);
}

TEST(network_policies_without_effect_are_noted)
{
	autofree char *none = messages_of(LAB(POLICY("shop", "{'podSelector': {'matchLabels': {'app': 'db'}}}")));
	CHECK_STR(none, "note: t.json:1: NetworkPolicy shop/p: spec.podSelector: selects no pod of namespace shop "
			"(hostNetwork pods are never selected): the policy has no effect\n");
	autofree char *types = messages_of(LAB(POLICY(
		"shop", "{'podSelector': {}, 'policyTypes': ['Egress'], 'ingress': [{}], 'egress': []}") ", " POLICY("default", "{'podSelector': {}, 'policyTypes': ['Ingress'], 'egress': [{}]}")));
	CHECK_STR(types, "note: t.json:1: NetworkPolicy shop/p: spec.ingress: has no effect: spec.policyTypes does not "
			 "name Ingress\n"
			 "note: t.json:1: NetworkPolicy default/p: spec.egress: has no effect: spec.policyTypes does not "
			 "name Egress\n");
	autofree char *undeclared = messages_of(LAB(POLICY("shop", "{}") ", " POLICY("other", "{}")));
	CHECK_STR(undeclared, E_OTHER "metadata.namespace: namespace \"other\" is not declared: add a Namespace object for "
				      "it\n");
	/* A repeated policy is refused as any repeated object. */
	autofree char *twice = messages_of(LAB(POLICY("shop", "{}") ", " POLICY("shop", "{}")));
	CHECK(strstr(twice, "NetworkPolicy shop/p: given twice") != NULL);
	/* Status and metadata extras, as kubectl get prints them, are not used. */
	struct plan p;
	CHECK(build(LAB("{'apiVersion': 'networking.k8s.io/v1', 'kind': 'NetworkPolicy', 'metadata': {'name': 'p', "
			"'namespace': 'shop', 'uid': 'u', 'generation': 1, 'annotations': {'a': 'b'}}, 'spec': {}, "
			"'status': {}}"),
		    &p));
	CHECK_INT(p.n_policies, 1);
	plan_free(&p);
	autofree char *version = messages_of(LAB("{'apiVersion': 'extensions/v1beta1', 'kind': 'NetworkPolicy', "
						  "'metadata': {'name': 'p', 'namespace': 'shop'}, 'spec': {}}"));
	CHECK_STR(version, E "apiVersion: \"extensions/v1beta1\": a NetworkPolicy is networking.k8s.io/v1\n");
}

TEST(network_policies_and_namespaces_survive_the_saved_plan)
{
	struct plan p, back;
	CHECK(build(LAB(POLICY("shop", FULL) ", " POLICY("default", "{'podSelector': {}, 'policyTypes': ['Egress'], "
							     "'ingress': [{'from': [{'podSelector': {}}]}]}")),
		    &p));
	autofree char *json = plan_to_json(&p, false);
	struct tb_err e = {0};
	CHECK_INT(plan_from_json(json, &back, &e), 0);
	autofree char *again = plan_to_json(&back, false);
	CHECK_STR(again, json);
	CHECK_INT(back.n_policies, 2);
	CHECK_INT(back.n_namespaces, 2);
	CHECK(!back.policies[1].ingress && back.policies[1].egress);
	CHECK_INT(back.policies[1].n_ingress_rules, 1);
	CHECK(back.policies[0].ingress_rules[0].ports[1].name != NULL);
	plan_free(&back);
	plan_free(&p);
}

/* A saved plan is untrusted: each change below is refused, naming where. */
static const struct {
	const char *from, *to, *want;
} tampered[] = {
	{"\"cidr\":\"10.0.0.0/8\"", "\"cidr\":\"10.0.0.1/8\"",
	 "policies[0]: ingress[0].from[3]: ipBlock.cidr: \"10.0.0.1/8\" has host bits set (the plan saves networks)"},
	{"\"10.1.0.0/16\"", "\"11.1.0.0/16\"", "policies[0]: ingress[0].from[3]: ipBlock.except[0]: not a strict subset of cidr"},
	{"\"endPort\":90", "\"endPort\":70", "policies[0]: ingress[0].ports[0]: endPort: 70 needs a numeric port not above it"},
	{"\"port\":\"http\"", "\"port\":\"HTTP\"", "policies[0]: ingress[0].ports[1]: port: \"HTTP\" is not a port name"},
	{"\"operator\":\"Exists\"", "\"operator\":\"Gt\"",
	 "policies[0]: ingress[0].from[0]: namespaceSelector.matchExpressions[0].operator: \"Gt\" is not In, NotIn, Exists or "
	 "DoesNotExist"},
	{"\"key\":\"tier\"", "\"key\":\"a b\"", "policies[0]: podSelector.matchExpressions[1].key: \"a b\" is not a label key"},
	{"\"protocol\":\"UDP\"", "\"protocol\":\"ICMP\"", "policies[0]: ingress[0].ports[1]: protocol: \"ICMP\" is not TCP, UDP or SCTP"},
	{"\"policyTypes\":[\"Ingress\",\"Egress\"]", "\"policyTypes\":[\"Both\"]",
	 "policies[0]: policyTypes: expected \"Ingress\" and \"Egress\""},
	{"\"namespace\":\"shop\",\"name\":\"p\"", "\"namespace\":\"elsewhere\",\"name\":\"p\"",
	 "policies[0]: namespace \"elsewhere\" is not among the plan's namespaces"},
	{"\"team\":\"a\"", "\"team\":\"a b\"", "namespaces[1]: labels: \"team\" is not a label"},
	{"{\"podSelector\":{}},{\"ipBlock\"", "{},{\"ipBlock\"",
	 "policies[0]: ingress[0].from[2]: expected podSelector, namespaceSelector or ipBlock"},
};

TEST(saved_network_policies_are_checked_when_read_back)
{
	struct plan p;
	CHECK(build(LAB(POLICY("shop", FULL)), &p));
	autofree char *saved = plan_to_json(&p, false);
	plan_free(&p);
	/* Edited in its compact form, where each value is one string. */
	cJSON *root = cJSON_Parse(saved);
	char *compact = cJSON_PrintUnformatted(root);
	autofree char *json = xstrdup(compact);
	cJSON_free(compact);
	cJSON_Delete(root);
	for (size_t i = 0; i < ARRAY_SIZE(tampered); i++) {
		char *at = strstr(json, tampered[i].from);
		if (!at) {
			harness_fail(__FILE__, __LINE__, "case %zu: %s is not in the saved plan", i, tampered[i].from);
			continue;
		}
		autofree char *edited = xasprintf("%.*s%s%s", (int)(at - json), json, tampered[i].to,
						  at + strlen(tampered[i].from));
		struct plan back;
		struct tb_err e = {0};
		CHECK_INT(plan_from_json(edited, &back, &e), -1);
		CHECK_STR(e.msg, tampered[i].want);
	}
}
