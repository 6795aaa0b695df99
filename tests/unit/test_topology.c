/* Parsing and address assignment of valid topologies. Relative image paths
 * resolve against tests/bad, which holds a stand-in image file. */
#define _GNU_SOURCE
#include <stdlib.h>

#include "util/diag.h"
#include "harness.h"
#include "model/compile.h"
#include "model/jsondoc.h"
#include "model/topology.h"
#include "util/util.h"

static struct tb_topology *load(const char *text, struct diag *d)
{
	diag_init(d, "t.json");
	struct json_doc *doc = json_doc_parse("t.json", text, d);
	if (!doc)
		return NULL;
	struct tb_topology *t = compile_model_doc(doc, "../bad", d);
	for (size_t i = 0; i < d->count; i++)
		fprintf(stderr, "  unexpected: %s\n", d->messages[i]);
	return t;
}

static const char *addr(uint32_t a)
{
	static char buf[4][IPV4_PREFIX_STRLEN];
	static int i;
	return ipv4_addr_format(a, buf[i++ % 4]);
}

static const char *prefix(struct ipv4_prefix p)
{
	static char buf[4][IPV4_PREFIX_STRLEN];
	static int i;
	return ipv4_prefix_format(p, buf[i++ % 4]);
}

#define IMAGES "\"images\": {\"pod\": \"img.tar\", \"node\": \"img.tar\"}"

TEST(topology_minimal_lab_has_defaults)
{
	struct diag d;
	struct tb_topology *t = load("{\"name\": \"lab1\"}", &d);
	CHECK(t != NULL);
	if (t) {
		CHECK_STR(t->name, "lab1");
		CHECK_INT(t->n_nodes + t->n_hosts + t->n_pods + t->n_links + t->n_bridges, 0);
		CHECK_STR(prefix(t->cluster.pod_cidr), "10.244.0.0/16");
		CHECK_STR(prefix(t->cluster.service_cidr), "10.96.0.0/16");
		CHECK_STR(prefix(t->cluster.underlay), "10.10.0.0/24");
		CHECK_INT(t->cluster.routing, TB_ROUTING_GATEWAY);
		CHECK(!t->has_expect && t->n_expects == 0);
	}
	topology_free(t);
	diag_free(&d);
}

TEST(topology_hosts_bridges_and_links)
{
	struct diag d;
	struct tb_topology *t = load("{\"name\": \"b\", " IMAGES ", \"bridges\": [{\"name\": \"br0\", \"address\": "
				     "\"10.0.1.1/24\"}], \"hosts\": [{\"name\": \"net0\", \"http\": false, "
				     "\"interfaces\": {\"eth0\": \"10.0.1.2/24\"}}, {\"name\": \"net1\", \"image\": "
				     "\"node\", \"http\": 8080, \"interfaces\": {\"eth0\": \"10.0.1.3/24\"}}], "
				     "\"links\": [[\"net0:eth0\", \"br0\"], [\"br0\", \"net1:eth0\"], [\"net0:x\", "
				     "\"net1:y\"]]}",
				     &d);
	CHECK(t != NULL);
	if (!t)
		return;
	CHECK_INT(t->n_hosts, 2);
	CHECK_INT(tb_http_port(t->hosts[0].ports, t->hosts[0].n_ports), 0);
	CHECK_STR(t->hosts[0].image, "pod");
	CHECK_INT(tb_http_port(t->hosts[1].ports, t->hosts[1].n_ports), 8080);
	CHECK_STR(t->hosts[1].image, "node");
	CHECK_STR(prefix(t->hosts[1].ifaces[0].address), "10.0.1.3/24");
	CHECK(t->hosts[1].ifaces[0].linked);
	CHECK_INT(t->n_bridges, 1);
	CHECK(t->bridges[0].has_address);
	CHECK_INT(t->n_links, 3);
	CHECK_INT(t->links[0].ends[0].kind, TB_ENDPOINT_HOST);
	CHECK_INT(t->links[0].ends[0].index, 0);
	CHECK_STR(t->links[0].ends[0].ifname, "eth0");
	CHECK_INT(t->links[0].ends[1].kind, TB_ENDPOINT_BRIDGE);
	CHECK_INT(t->links[1].ends[1].index, 1);
	CHECK_STR(t->links[2].ends[1].ifname, "y");
	topology_free(t);
	diag_free(&d);
}

TEST(ipam_assigns_underlay_node_cidrs_and_pod_addresses)
{
	struct diag d;
	struct tb_topology *t = load("{\"name\": \"k\", " IMAGES ", \"nodes\": ["
				     "{\"name\": \"n1\", \"pods\": [{\"name\": \"a\"}, {\"name\": \"b\"}]},"
				     "{\"name\": \"n2\", \"podCIDR\": \"10.244.1.0/24\", \"pods\": [{\"name\": \"c\"}]},"
				     "{\"name\": \"n3\"}]}",
				     &d);
	CHECK(t != NULL);
	if (!t)
		return;
	CHECK_STR(addr(t->cluster.gateway_address), "10.10.0.1");
	CHECK_STR(addr(t->nodes[0].underlay_address), "10.10.0.2");
	CHECK_STR(addr(t->nodes[1].underlay_address), "10.10.0.3");
	CHECK_STR(addr(t->nodes[2].underlay_address), "10.10.0.4");
	/* The explicit 10.244.1.0/24 is reserved first; defaults fill around it. */
	CHECK_STR(prefix(t->nodes[0].pod_cidr), "10.244.0.0/24");
	CHECK_STR(prefix(t->nodes[1].pod_cidr), "10.244.1.0/24");
	CHECK_STR(prefix(t->nodes[2].pod_cidr), "10.244.2.0/24");
	CHECK_STR(addr(t->nodes[0].bridge_address), "10.244.0.1");
	CHECK_STR(addr(t->nodes[0].pods[0].address), "10.244.0.2");
	CHECK_STR(addr(t->nodes[0].pods[1].address), "10.244.0.3");
	CHECK_STR(addr(t->nodes[1].bridge_address), "10.244.1.1");
	CHECK_STR(addr(t->nodes[1].pods[0].address), "10.244.1.2");
	CHECK_INT(t->n_pods, 3);
	CHECK_STR(t->nodes[0].image, "node");
	CHECK_STR(t->nodes[0].pods[0].image, "pod");
	CHECK_INT(tb_http_port(t->nodes[0].pods[0].ports, t->nodes[0].pods[0].n_ports), TB_DEFAULT_HTTP_PORT);
	topology_free(t);
	diag_free(&d);
}

TEST(ipam_fills_a_full_slash_24_with_253_pods)
{
	/* 253 pods fit: .1 is cbr0, .2 to .254 the pods. */
	char text[20000];
	int n = snprintf(text, sizeof(text), "{\"name\": \"big\", " IMAGES ", \"nodes\": [{\"name\": \"n\", \"pods\": [");
	for (int i = 0; i < 253; i++)
		n += snprintf(text + n, sizeof(text) - (size_t)n, "%s{\"name\": \"p%d\"}", i ? "," : "", i);
	snprintf(text + n, sizeof(text) - (size_t)n, "]}]}");
	struct diag d;
	struct tb_topology *t = load(text, &d);
	CHECK(t != NULL);
	if (t) {
		CHECK_STR(addr(t->nodes[0].pods[252].address), "10.244.0.254");
		CHECK_INT(t->n_pods, 253);
	}
	topology_free(t);
	diag_free(&d);
}

TEST(ipam_explicit_cidr_sizes_and_custom_ranges)
{
	struct diag d;
	struct tb_topology *t = load("{\"name\": \"k\", " IMAGES ", \"cluster\": {\"podCIDR\": \"10.0.0.0/16\", "
				     "\"underlay\": \"192.168.7.0/29\", \"serviceCIDR\": \"10.1.0.0/24\", \"routing\": "
				     "\"vxlan\"}, \"nodes\": [{\"name\": \"n1\", \"podCIDR\": \"10.0.0.0/23\"}, "
				     "{\"name\": \"n2\"}, {\"name\": \"n3\", \"podCIDR\": \"10.0.4.0/30\", \"pods\": "
				     "[{\"name\": \"only\", \"command\": [\"sleep\", \"1\"]}]}]}",
				     &d);
	CHECK(t != NULL);
	if (!t)
		return;
	CHECK_INT(t->cluster.routing, TB_ROUTING_VXLAN);
	CHECK_STR(addr(t->cluster.gateway_address), "192.168.7.1");
	CHECK_STR(addr(t->nodes[2].underlay_address), "192.168.7.4");
	/* 10.0.0.0/23 covers 10.0.1.0/24 too, so the default is 10.0.2.0/24. */
	CHECK_STR(prefix(t->nodes[1].pod_cidr), "10.0.2.0/24");
	CHECK_STR(addr(t->nodes[2].bridge_address), "10.0.4.1");
	CHECK_STR(addr(t->nodes[2].pods[0].address), "10.0.4.2");
	/* A custom command has no HTTP server unless told. */
	CHECK_INT(tb_http_port(t->nodes[2].pods[0].ports, t->nodes[2].pods[0].n_ports), 0);
	CHECK_INT(t->nodes[2].pods[0].n_command, 2);
	CHECK_STR(t->nodes[2].pods[0].command[1], "1");
	CHECK(t->nodes[2].pods[0].command[2] == NULL);
	topology_free(t);
	diag_free(&d);
}

TEST(topology_keeps_labels_and_empty_reserved_sections)
{
	struct diag d;
	struct tb_topology *t = load("{\"name\": \"k\", " IMAGES ", \"nodes\": [{\"name\": \"n1\", \"pods\": "
				     "[{\"name\": \"a\", \"labels\": {\"app\": \"web\", \"example.com/tier\": \"\"}}]}], "
				     "\"services\": [], \"expect\": [], \"policies\": [], "
				     "\"ingress\": []}",
				     &d);
	CHECK(t != NULL);
	if (!t)
		return;
	CHECK_INT(t->nodes[0].pods[0].n_labels, 2);
	CHECK_STR(t->nodes[0].pods[0].labels[1].key, "example.com/tier");
	CHECK_STR(t->nodes[0].pods[0].labels[1].value, "");
	CHECK_INT(t->n_services, 0);
	CHECK_INT(t->n_ingress, 0);
	CHECK_INT(t->n_policies, 0);
	CHECK(t->has_expect && t->n_expects == 0);
	topology_free(t);
	diag_free(&d);
}

/* The model outlives the JSON document: its strings are its own and later
 * stages find an entity's lines in the model itself. */
TEST(topology_keeps_lines_and_owns_its_strings)
{
	struct diag d;
	struct tb_topology *t = load("{\n"
				     "\"name\": \"k\",\n"
				     "\"images\": {\"pod\": \"img.tar\",\n \"node\": \"img.tar\"},\n"
				     "\"bridges\": [{\"name\": \"br0\",\n \"address\": \"10.0.1.1/24\"}],\n"
				     "\"hosts\": [{\"name\": \"h\",\n \"interfaces\": {\"eth0\": \"10.0.1.2/24\"}}],\n"
				     "\"links\": [[\"h:eth0\",\n \"br0\"]],\n"
				     "\"cluster\": {\n \"underlay\": \"10.10.0.0/24\"},\n"
				     "\"nodes\": [\n {\"name\": \"n1\",\n \"podCIDR\": \"10.244.5.0/24\",\n"
				     " \"pods\": [{\"name\": \"a\", \"image\": \"pod\", \"command\": [\"/bin/sleep\", \"1d\"]}]}],\n"
				     "\"expect\": [{\"from\": \"a\",\n \"to\": \"h\"}]\n"
				     "}",
				     &d);
	CHECK(t != NULL);
	if (!t)
		return;
	CHECK_STR(t->images[1].name, "node");
	CHECK_INT(t->images[1].line, 4);
	CHECK_INT(t->bridges[0].name_line, 5);
	CHECK_INT(t->bridges[0].address_line, 6);
	CHECK_INT(t->hosts[0].line, 7);
	CHECK_INT(t->hosts[0].image_line, 0);
	CHECK_INT(t->hosts[0].ifaces[0].line, 8);
	CHECK_STR(t->links[0].ends[0].text, "h:eth0");
	CHECK_INT(t->links[0].ends[0].line, 9);
	CHECK_INT(t->links[0].ends[1].line, 10);
	CHECK_INT(t->cluster.line, 11);
	CHECK_INT(t->cluster.underlay_line, 12);
	CHECK_INT(t->cluster.pod_cidr_line, 0);
	CHECK_INT(t->nodes[0].line, 14);
	CHECK_INT(t->nodes[0].pod_cidr_line, 15);
	CHECK_INT(t->nodes[0].pods_line, 16);
	CHECK_INT(t->nodes[0].pods[0].image_line, 16);
	CHECK_STR(t->nodes[0].pods[0].command[1], "1d");
	CHECK_INT(t->expects[0].from.line, 17);
	CHECK_INT(t->expects[0].to.line, 18);
	CHECK_STR(t->expects[0].to.name, "h");
	CHECK_INT(t->expects[0].to.kind, TB_KIND_HOST);
	topology_free(t);
	diag_free(&d);
}

TEST(topology_resolves_image_paths_against_an_absolute_folder)
{
	struct diag d;
	struct tb_topology *t = load("{\"name\": \"k\", " IMAGES "}", &d);
	CHECK(t != NULL);
	if (!t)
		return;
	autofree char *bad = realpath("../bad", NULL);
	CHECK_STR(t->dir, bad);
	autofree char *img = xasprintf("%s/img.tar", bad);
	CHECK_STR(topology_find_image(t, "pod")->path, "img.tar");
	CHECK_STR(topology_find_image(t, "pod")->resolved, img);
	topology_free(t);
	diag_free(&d);
}

/* {"name": "lab", "k0": 0, ..., "hosts": []}, one member a line, with
 * KEY(i) naming member i. */
static char *many_keys(size_t n, const char *(*key)(size_t i, char *buf))
{
	char *text = xcalloc(1, n * 32 + 64);
	char *p = text + sprintf(text, "{\n\"name\": \"lab\",\n");
	char buf[32];
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "\"%s\": %zu,\n", key(i, buf), i);
	strcpy(p, "\"hosts\": []\n}\n");
	return text;
}

static const char *unknown_key(size_t i, char *buf)
{
	snprintf(buf, 32, "k%zu", i);
	return buf;
}

/* Every third key repeats an earlier one: k0 k1 k0 k3 k4 k3 ... */
static const char *repeated_key(size_t i, char *buf)
{
	snprintf(buf, 32, "k%zu", i % 3 == 2 ? i - 2 : i);
	return buf;
}

/* Checking keys and finding lines compared each item with all others; a
 * file of a million keys took hours. Now 200,000 take well under a
 * second, so the bound holds under ASan on a busy machine. */
TEST(topology_validates_200000_keys_in_linear_time)
{
	const size_t n = 200000;
	autofree char *text = many_keys(n, unknown_key);
	struct diag d;
	diag_init(&d, "t.json");
	long long start = now_ms();
	struct json_doc *doc = json_doc_parse("t.json", text, &d);
	struct tb_topology *t = doc ? compile_model_doc(doc, "../bad", &d) : NULL;
	long long took = now_ms() - start;
	CHECK(t == NULL);
	CHECK_INT(d.count, n);
	if (d.count == n) {
		CHECK_STR(d.messages[0], "t.json:3: k0: unknown key (expected one of: description, name, images, hosts, "
					 "bridges, links, cluster, neighbours, nodes, services, ingress, policies, objects, manifests, external, expect)");
		CHECK_STR(d.messages[n - 1], "t.json:200002: k199999: unknown key (expected one of: description, name, "
					     "images, hosts, bridges, links, cluster, neighbours, nodes, services, ingress, "
					     "policies, objects, manifests, external, expect)");
	}
	CHECK(took < 5000);
	diag_free(&d);
}

TEST(topology_reports_each_repeated_key_with_the_line_of_its_first)
{
	const size_t n = 200000;
	autofree char *text = many_keys(n, repeated_key);
	struct diag d;
	diag_init(&d, "t.json");
	long long start = now_ms();
	struct json_doc *doc = json_doc_parse("t.json", text, &d);
	struct tb_topology *t = doc ? compile_model_doc(doc, "../bad", &d) : NULL;
	long long took = now_ms() - start;
	CHECK(t == NULL);
	/* Each repeat is reported (in file order, before the unknown keys). */
	size_t repeats = n / 3;
	CHECK(d.count > repeats);
	if (d.count > repeats) {
		/* Member i is on line i + 3. */
		CHECK_STR(d.messages[0], "t.json:5: k0: duplicate key (first on line 3)");
		CHECK_STR(d.messages[1], "t.json:8: k3: duplicate key (first on line 6)");
		autofree char *last = xasprintf("t.json:%zu: k%zu: duplicate key (first on line %zu)",
						(repeats - 1) * 3 + 2 + 3, (repeats - 1) * 3, (repeats - 1) * 3 + 3);
		CHECK_STR(d.messages[repeats - 1], last);
		CHECK(strstr(d.messages[repeats], "unknown key") != NULL);
	}
	CHECK(took < 5000);
	diag_free(&d);

	/* The same key three times: both repeats name the first. */
	diag_init(&d, "t.json");
	doc = json_doc_parse("t.json", "{\"name\": \"a\",\n\"hosts\": [],\n\"name\": \"b\",\n\"name\": \"c\"}", &d);
	CHECK(doc != NULL);
	CHECK(doc && compile_model_doc(doc, "../bad", &d) == NULL);
	CHECK_INT(d.count, 2);
	if (d.count == 2) {
		CHECK_STR(d.messages[0], "t.json:3: name: duplicate key (first on line 1)");
		CHECK_STR(d.messages[1], "t.json:4: name: duplicate key (first on line 1)");
	}
	diag_free(&d);
}
