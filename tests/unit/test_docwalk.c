/* The document walker on its own, with a schema of the tests' making: what
 * it reports, where, and what its getters hand back. */
#include "harness.h"
#include "model/docwalk.h"
#include "model/jsondoc.h"
#include "util/diag.h"
#include "util/util.h"

/* A walk over TEXT, read as t.json; NULL (and a failed check) when TEXT is
 * not JSON. */
static struct json_doc *walk(const char *text, struct docwalk *w, struct diag *d)
{
	diag_init(d, "t.json");
	struct json_doc *doc = json_doc_parse("t.json", text, d);
	CHECK(doc != NULL);
	*w = (struct docwalk){.doc = doc, .d = d};
	return doc;
}

/* Whether D holds exactly the messages in WANT (NULL-terminated), in order. */
static bool reported(const struct diag *d, const char *const *want)
{
	size_t n = 0;
	while (want[n])
		n++;
	bool same = d->count == n;
	for (size_t i = 0; i < d->count; i++)
		if (i >= n || strcmp(d->messages[i], want[i]) != 0) {
			fprintf(stderr, "  got: %s\n", d->messages[i]);
			same = false;
		}
	return same;
}

#define REPORTED(d, ...) CHECK(reported(d, (const char *const[]){__VA_ARGS__, NULL}))

TEST(docwalk_builds_paths_from_keys_and_indexes)
{
	autofree char *top = docwalk_path_key("", "name");
	autofree char *nested = docwalk_path_key("nodes[1]", "name");
	autofree char *element = docwalk_path_index("nodes", 1);
	autofree char *deeper = docwalk_path_index("nodes[1].pods", 0);
	CHECK_STR(top, "name");
	CHECK_STR(nested, "nodes[1].name");
	CHECK_STR(element, "nodes[1]");
	CHECK_STR(deeper, "nodes[1].pods[0]");
}

TEST(docwalk_finds_the_line_of_items_and_keys)
{
	struct docwalk w;
	struct diag d;
	struct json_doc *doc = walk("{\n\"a\": 1,\n\n\"b\": {\"c\": true}\n}", &w, &d);
	if (!doc)
		return;
	CHECK_INT(docwalk_line(&w, doc->root), 1);
	CHECK_INT(docwalk_key_line(&w, doc->root, "a"), 2);
	CHECK_INT(docwalk_key_line(&w, doc->root, "b"), 4);
	CHECK_INT(docwalk_key_line(&w, doc->root, "none"), 0);
	CHECK_INT(docwalk_line(&w, NULL), 0);
	docwalk_error(&w, cJSON_GetObjectItem(doc->root, "b"), "b", "is %s", "wrong");
	docwalk_error(&w, NULL, "b.c", "has no line");
	REPORTED(&d, "t.json:4: b: is wrong", "t.json: b.c: has no line");
	json_doc_free(doc);
	diag_free(&d);
}

TEST(docwalk_suggests_the_key_a_typo_meant)
{
	static const char *const allowed[] = {"$schema", "podCIDR", "pods", "name", NULL};
	struct docwalk w;
	struct diag d;
	struct json_doc *doc = walk("{\"node\": {\n\"podCidr\": 1,\n\"name\": 2,\n\"colour\": 3}}", &w, &d);
	if (!doc)
		return;
	docwalk_check_keys(&w, cJSON_GetObjectItem(doc->root, "node"), "node", allowed);
	/* Close keys are suggested; case counts for little. "$schema" is for
	 * editors, so no list names it. */
	REPORTED(&d, "t.json:2: node.podCidr: unknown key (did you mean \"podCIDR\"?)",
		 "t.json:4: node.colour: unknown key (expected one of: podCIDR, pods, name)");
	json_doc_free(doc);
	diag_free(&d);
}

TEST(docwalk_reports_repeated_keys_at_any_depth)
{
	struct docwalk w;
	struct diag d;
	struct json_doc *doc = walk("{\"a\": 1,\n"
				    "\"list\": [{\"k\": 1,\n"
				    "\"k\": 2}],\n"
				    "\"a\": 3,\n"
				    "\"o\": {\"x\": {\"y\": 1,\n"
				    "\"y\": 2, \"y\": 3}}}",
				    &w, &d);
	if (!doc)
		return;
	docwalk_check_duplicate_keys(&w, doc->root, "");
	REPORTED(&d, "t.json:3: list[0].k: duplicate key (first on line 2)",
		 "t.json:4: a: duplicate key (first on line 1)",
		 "t.json:6: o.x.y: duplicate key (first on line 5)",
		 "t.json:6: o.x.y: duplicate key (first on line 5)");
	json_doc_free(doc);
	diag_free(&d);
}

TEST(docwalk_reports_missing_members_on_their_object)
{
	struct docwalk w;
	struct diag d;
	struct json_doc *doc = walk("{\"hosts\": [\n{\"image\": \"pod\"}]}", &w, &d);
	if (!doc)
		return;
	const cJSON *host = cJSON_GetArrayItem(cJSON_GetObjectItem(doc->root, "hosts"), 0);
	CHECK(docwalk_member(&w, host, "hosts[0]", "image", true) != NULL);
	CHECK(docwalk_member(&w, host, "hosts[0]", "http", false) == NULL);
	CHECK(docwalk_member(&w, host, "hosts[0]", "name", true) == NULL);
	CHECK(docwalk_name(&w, host, "hosts[0]") == NULL);
	REPORTED(&d, "t.json:2: hosts[0]: missing required key \"name\"",
		 "t.json:2: hosts[0]: missing required key \"name\"");
	json_doc_free(doc);
	diag_free(&d);
}

TEST(docwalk_getters_say_what_they_expected_and_what_they_got)
{
	struct docwalk w;
	struct diag d;
	struct json_doc *doc =
		walk("{\"s\": \"text\", \"n\": 7, \"b\": true, \"z\": null, \"o\": {}, \"a\": []}", &w, &d);
	if (!doc)
		return;
	const cJSON *root = doc->root;
	const cJSON *s = cJSON_GetObjectItem(root, "s"), *n = cJSON_GetObjectItem(root, "n");
	const cJSON *b = cJSON_GetObjectItem(root, "b"), *z = cJSON_GetObjectItem(root, "z");
	const cJSON *o = cJSON_GetObjectItem(root, "o"), *a = cJSON_GetObjectItem(root, "a");
	CHECK_STR(docwalk_string(&w, s, "s", "a string"), "text");
	CHECK(docwalk_object(&w, o, "o", "an object"));
	CHECK(docwalk_array(&w, a, "a", "an array of pods"));
	bool truth = false;
	CHECK(docwalk_bool(&w, b, "b", &truth) && truth);
	CHECK_INT(d.count, 0);

	CHECK(docwalk_string(&w, n, "n", "a string naming an image") == NULL);
	CHECK(!docwalk_object(&w, a, "a", "an object"));
	CHECK(!docwalk_array(&w, o, "o", "an array of pods"));
	CHECK(!docwalk_bool(&w, z, "z", &truth));
	CHECK(!docwalk_want(&w, b, "b", false, "a port number or false"));
	REPORTED(&d, "t.json:1: n: expected a string naming an image, got a number",
		 "t.json:1: a: expected an object, got an array",
		 "t.json:1: o: expected an array of pods, got an object",
		 "t.json:1: z: expected true or false, got null",
		 "t.json:1: b: expected a port number or false, got a boolean");
	json_doc_free(doc);
	diag_free(&d);
}

TEST(docwalk_takes_whole_numbers_in_range)
{
	struct docwalk w;
	struct diag d;
	struct json_doc *doc =
		walk("{\"ok\": 8080,\n\"big\": 70000,\n\"half\": 1.5,\n\"text\": \"80\",\n\"low\": 1}", &w, &d);
	if (!doc)
		return;
	const cJSON *root = doc->root;
	int port = 0;
	CHECK(docwalk_int(&w, cJSON_GetObjectItem(root, "ok"), "ok", 1, 65535, "a port", "a port", &port));
	CHECK_INT(port, 8080);
	CHECK(docwalk_int(&w, cJSON_GetObjectItem(root, "low"), "low", 1, 65535, "a port", "a port", &port));
	CHECK_INT(port, 1);
	CHECK(docwalk_is_int(cJSON_GetObjectItem(root, "ok"), 1, 65535));
	CHECK(!docwalk_is_int(cJSON_GetObjectItem(root, "text"), 1, 65535));
	CHECK_INT(d.count, 0);

	port = -1;
	CHECK(!docwalk_int(&w, cJSON_GetObjectItem(root, "big"), "big", 1, 65535, "a port", "a port", &port));
	CHECK(!docwalk_int(&w, cJSON_GetObjectItem(root, "half"), "half", 1, 65535, "a port", "a port", &port));
	CHECK(!docwalk_int(&w, cJSON_GetObjectItem(root, "text"), "text", 1, 65535, "a port number or false",
			   "a port", &port));
	CHECK_INT(port, -1);
	REPORTED(&d, "t.json:2: big: 70000 is not a port: expected a whole number from 1 to 65535",
		 "t.json:3: half: 1.5 is not a port: expected a whole number from 1 to 65535",
		 "t.json:4: text: expected a port number or false, got a string");
	json_doc_free(doc);
	diag_free(&d);
}

TEST(docwalk_choice_lists_the_choices)
{
	static const char *const protos[] = {"http", "tcp", "ping", NULL};
	static const char *const results[] = {"pass", "fail", NULL};
	struct docwalk w;
	struct diag d;
	struct json_doc *doc = walk("{\"p\": \"ping\", \"q\": \"udp\", \"r\": 1, \"s\": \"maybe\"}", &w, &d);
	if (!doc)
		return;
	const cJSON *root = doc->root;
	CHECK_INT(docwalk_choice(&w, cJSON_GetObjectItem(root, "p"), "p", protos), 2);
	CHECK_INT(docwalk_choice(&w, cJSON_GetObjectItem(root, "q"), "q", protos), -1);
	CHECK_INT(docwalk_choice(&w, cJSON_GetObjectItem(root, "r"), "r", protos), -1);
	CHECK_INT(docwalk_choice(&w, cJSON_GetObjectItem(root, "s"), "s", results), -1);
	REPORTED(&d, "t.json:1: q: \"udp\": expected \"http\", \"tcp\" or \"ping\"",
		 "t.json:1: r: expected \"http\", \"tcp\" or \"ping\", got a number",
		 "t.json:1: s: \"maybe\": expected \"pass\" or \"fail\"");
	json_doc_free(doc);
	diag_free(&d);
}

TEST(docwalk_names_are_dns_labels)
{
	CHECK(docwalk_is_dns_label("a"));
	CHECK(docwalk_is_dns_label("web-1"));
	CHECK(docwalk_is_dns_label("0web"));
	CHECK(!docwalk_is_dns_label(""));
	CHECK(!docwalk_is_dns_label("-web"));
	CHECK(!docwalk_is_dns_label("web-"));
	CHECK(!docwalk_is_dns_label("Web"));
	CHECK(!docwalk_is_dns_label("web.1"));
	char longest[DOCWALK_DNS_LABEL_MAX + 2];
	memset(longest, 'a', sizeof(longest) - 1);
	longest[DOCWALK_DNS_LABEL_MAX] = '\0';
	CHECK(docwalk_is_dns_label(longest));
	longest[DOCWALK_DNS_LABEL_MAX] = 'a';
	longest[DOCWALK_DNS_LABEL_MAX + 1] = '\0';
	CHECK(!docwalk_is_dns_label(longest));

	struct docwalk w;
	struct diag d;
	struct json_doc *doc = walk("[{\"name\": \"web\"},\n{\"name\": \"Web\"},\n{\"name\": 3}]", &w, &d);
	if (!doc)
		return;
	CHECK_STR(docwalk_name(&w, cJSON_GetArrayItem(doc->root, 0), "pods[0]"), "web");
	CHECK(docwalk_name(&w, cJSON_GetArrayItem(doc->root, 1), "pods[1]") == NULL);
	CHECK(docwalk_name(&w, cJSON_GetArrayItem(doc->root, 2), "pods[2]") == NULL);
	REPORTED(&d,
		 "t.json:2: pods[1].name: \"Web\" is not a valid name: 1-63 characters of a-z, 0-9 and '-', starting "
		 "and ending with a letter or digit",
		 "t.json:3: pods[2].name: expected a string, got a number");
	json_doc_free(doc);
	diag_free(&d);
}

TEST(docwalk_checks_kubernetes_label_keys_and_values)
{
	CHECK(docwalk_is_label_key("app"));
	CHECK(docwalk_is_label_key("App.Name_1"));
	CHECK(docwalk_is_label_key("example.com/app"));
	CHECK(docwalk_is_label_key("k8s.io/part-of"));
	CHECK(!docwalk_is_label_key(""));
	CHECK(!docwalk_is_label_key("-app"));
	CHECK(!docwalk_is_label_key("app_"));
	CHECK(!docwalk_is_label_key("/app"));
	CHECK(!docwalk_is_label_key("Example.com/app")); /* the prefix is a DNS subdomain: lower case */
	CHECK(!docwalk_is_label_key("example.com/"));
	CHECK(!docwalk_is_label_key("a/b/c"));
	CHECK(docwalk_is_label_value(""));
	CHECK(docwalk_is_label_value("v1.2_rc-3"));
	CHECK(!docwalk_is_label_value("v1 "));
	CHECK(!docwalk_is_label_value("a/b"));

	struct docwalk w;
	struct diag d;
	struct json_doc *doc = walk("{\"labels\": {\"app\": \"web\",\n\"tier\": \"\",\n\"-x\": \"y\",\n\"n\": 1,\n"
				    "\"v\": \"-bad\"}}",
				    &w, &d);
	if (!doc)
		return;
	const cJSON *labels = cJSON_GetObjectItem(doc->root, "labels");
	bool good[5], want[5] = {true, true, false, false, false};
	size_t i = 0;
	for (const cJSON *c = labels->child; c && i < 5; c = c->next, i++)
		good[i] = docwalk_label(&w, c, "pod.labels");
	CHECK_INT(i, 5);
	for (size_t j = 0; j < i; j++)
		CHECK(good[j] == want[j]);
	REPORTED(&d,
		 "t.json:3: pod.labels.-x: \"-x\" is not a valid label key: an optional DNS prefix and '/', then up to "
		 "63 of a-z, A-Z, 0-9, '-', '_', '.', alphanumeric at both ends",
		 "t.json:4: pod.labels.n: expected a string, got a number",
		 "t.json:5: pod.labels.v: \"-bad\" is not a valid label value: up to 63 of a-z, A-Z, 0-9, '-', '_', "
		 "'.', alphanumeric at both ends");
	json_doc_free(doc);
	diag_free(&d);
}

/* A manifest's walk: messages name the document's own file (not D's), the
 * column, and the object before the path. Off, the topology's form. */
TEST(docwalk_names_the_documents_file_the_column_and_the_object)
{
	struct diag d;
	diag_init(&d, "lab.json");
	struct json_doc *doc =
	    json_doc_parse("k8s/web.json", "{\"spec\": {\n  \"replicas\": \"two\",\n  \"a\": 1, \"a\": 2}}", &d);
	CHECK(doc != NULL);
	if (!doc)
		return;
	const cJSON *spec = cJSON_GetObjectItem(doc->root, "spec");
	const cJSON *replicas = cJSON_GetObjectItem(spec, "replicas");
	int n;
	struct docwalk w = {.doc = doc, .d = &d, .columns = true, .prefix = "Deployment shop/web"};
	CHECK_INT(docwalk_column(&w, replicas), 15);
	CHECK_INT(docwalk_column(&w, NULL), 0);
	CHECK(!docwalk_int(&w, replicas, "spec.replicas", 0, 10, "a number", "a count", &n));
	docwalk_check_duplicate_keys(&w, doc->root, "");
	docwalk_error(&w, NULL, "", "no position, no path");
	/* Either alone. */
	w = (struct docwalk){.doc = doc, .d = &d, .columns = true};
	docwalk_error(&w, replicas, "spec.replicas", "columns");
	w = (struct docwalk){.doc = doc, .d = &d, .prefix = "Deployment shop/web"};
	docwalk_error(&w, replicas, "spec.replicas", "a prefix");
	docwalk_check_duplicate_keys(&w, doc->root, "");
	REPORTED(&d, "k8s/web.json:2:15: Deployment shop/web: spec.replicas: expected a number, got a string",
		 "k8s/web.json:3:16: Deployment shop/web: spec.a: duplicate key (first on line 3, column 8)",
		 "k8s/web.json: Deployment shop/web: no position, no path", "k8s/web.json:2:15: spec.replicas: columns",
		 "lab.json:2: Deployment shop/web: spec.replicas: a prefix",
		 "lab.json:3: Deployment shop/web: spec.a: duplicate key (first on line 3)");
	json_doc_free(doc);
	diag_free(&d);
}
