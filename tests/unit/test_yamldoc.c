/* The YAML front end: streams of documents, scalars resolved as kubectl
 * resolves them (sigs.k8s.io/yaml: go-yaml v2's resolve.go, then JSON),
 * keys, anchors, aliases and merge keys, the errors it names with file,
 * line and column, the bounds it keeps against hostile input, and the
 * positions docwalk reports manifests' errors at. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "model/docwalk.h"
#include "model/jsondoc.h"
#include "model/yamldoc.h"
#include "util/diag.h"
#include "util/util.h"

/* What TEXT, read as t.yaml, comes to: the root array as compact JSON, or
 * "error: " and the messages, one per line. Malloc'd. */
static char *outcome(const char *text)
{
	struct diag d;
	diag_init(&d, "topology.json");
	struct json_doc *doc = json_doc_parse_yaml("t.yaml", text, &d);
	char *out;
	if (doc) {
		out = cJSON_PrintUnformatted(doc->root);
		if (d.count)
			harness_fail(__FILE__, __LINE__, "accepted with a message: %s", d.messages[0]);
	} else {
		out = xstrdup("error:");
		for (size_t i = 0; i < d.count; i++) {
			char *longer = xasprintf("%s%s%s", out, i ? "\n" : " ", d.messages[i]);
			free(out);
			out = longer;
		}
	}
	json_doc_free(doc);
	diag_free(&d);
	return out;
}

#define CHECK_YAML(text, want)                                                                                   \
	do {                                                                                                     \
		autofree char *got__ = outcome(text);                                                            \
		CHECK_STR(got__, want);                                                                          \
	} while (0)

TEST(yamldoc_reads_a_stream_of_documents_leaving_out_empty_and_null_ones)
{
	CHECK_YAML("a: 1\n"
		   "---\n"
		   "b: 2\n"
		   "...\n"
		   "---\n"
		   "# nothing but a comment\n"
		   "---\n"
		   "~\n"
		   "--- null\n"
		   "---\n"
		   "- c\n"
		   "--- !!null\n"
		   "--- \"\"\n",
		   "[{\"a\":1},{\"b\":2},[\"c\"],\"\"]");
	CHECK_YAML("", "[]");
	CHECK_YAML("# a comment\n\n", "[]");
	CHECK_YAML("---\n---\n...\n", "[]");
	CHECK_YAML("--- text\n", "[\"text\"]");
	/* A byte order mark is no content. */
	CHECK_YAML("\xEF\xBB\xBFkind: Pod\n", "[{\"kind\":\"Pod\"}]");
}

/* One value V, as "v: V", against what kubectl would send as JSON. */
static void check_value(const char *v, const char *want, int line)
{
	autofree char *text = xasprintf("v: %s\n", v);
	autofree char *expected = xasprintf("[{\"v\":%s}]", want);
	autofree char *got = outcome(text);
	if (strcmp(got, expected) != 0)
		harness_fail(__FILE__, line, "v: %s gave %s, want %s", v, got, expected);
}

#define CHECK_VALUE(v, want) check_value(v, want, __LINE__)

TEST(yamldoc_resolves_plain_scalars_as_go_yaml_v2_does)
{
	/* Booleans, YAML 1.1's, as go-yaml v2 knows them; other spellings are strings. */
	static const char *const yes[] = {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"};
	static const char *const no[] = {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"};
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++)
		CHECK_VALUE(yes[i], "true");
	for (size_t i = 0; i < ARRAY_SIZE(no); i++)
		CHECK_VALUE(no[i], "false");
	CHECK_VALUE("tRUE", "\"tRUE\"");
	CHECK_VALUE("oN", "\"oN\"");
	CHECK_VALUE("yes please", "\"yes please\"");
	/* Null. */
	CHECK_VALUE("~", "null");
	CHECK_VALUE("null", "null");
	CHECK_VALUE("Null", "null");
	CHECK_VALUE("NULL", "null");
	CHECK_VALUE("", "null");
	CHECK_VALUE("nULL", "\"nULL\"");
	/* Integers: strconv.ParseInt(s, 0, 64) without the underscores. */
	CHECK_VALUE("0", "0");
	CHECK_VALUE("-0", "0");
	CHECK_VALUE("42", "42");
	CHECK_VALUE("+7", "7");
	CHECK_VALUE("-12", "-12");
	CHECK_VALUE("0x1F", "31");
	CHECK_VALUE("0X1f", "31");
	CHECK_VALUE("-0x10", "-16");
	CHECK_VALUE("+0x1F", "31");
	CHECK_VALUE("012", "10");
	CHECK_VALUE("-012", "-10");
	CHECK_VALUE("0o17", "15");
	CHECK_VALUE("0b101", "5");
	CHECK_VALUE("0B101", "5");
	CHECK_VALUE("1_000", "1000");
	CHECK_VALUE("1__000_", "1000");
	CHECK_VALUE("0x_1F", "31");
	/* cJSON holds numbers as doubles, and prints them so. */
	CHECK_VALUE("9223372036854775807", "9.2233720368547758e+18");
	CHECK_VALUE("-9223372036854775808", "-9.2233720368547758e+18");
	/* Past int64: uint64, then a float, then (hex, octal, binary) a big integer. */
	CHECK_VALUE("18446744073709551615", "1.8446744073709552e+19");
	CHECK_VALUE("99999999999999999999", "1e+20");
	CHECK_VALUE("0x1000000000000000000", "4.7223664828696452e+21");
	CHECK_VALUE("-0x1000000000000000000", "\"-0x1000000000000000000\"");
	/* Floats. */
	CHECK_VALUE(".5", "0.5");
	CHECK_VALUE("-.5", "-0.5");
	CHECK_VALUE("+.5", "0.5");
	CHECK_VALUE("1.5", "1.5");
	CHECK_VALUE("1.", "1");
	CHECK_VALUE("1e3", "1000");
	CHECK_VALUE("1E3", "1000");
	CHECK_VALUE("1.5e-3", "0.0015");
	CHECK_VALUE("1_000.5", "1000.5");
	CHECK_VALUE(".5_5", "0.55");
	CHECK_VALUE("08", "8"); /* no octal digit: read as a float */
	CHECK_VALUE("09.5", "9.5");
	CHECK_VALUE("1e999", "\"1e999\""); /* past a double: the text */
	/* Strings: everything else. */
	CHECK_VALUE("0x", "\"0x\"");
	CHECK_VALUE("0b", "\"0b\"");
	CHECK_VALUE("+", "\"+\"");
	CHECK_VALUE("-x", "\"-x\"");
	CHECK_VALUE(".", "\".\"");
	CHECK_VALUE("._5", "\"._5\"");
	CHECK_VALUE("12abc", "\"12abc\"");
	CHECK_VALUE("1.2.3", "\"1.2.3\"");
	CHECK_VALUE("2001-12-14", "\"2001-12-14\"");
	CHECK_VALUE("2001-12-14T21:59:43.10Z", "\"2001-12-14T21:59:43.10Z\"");
	CHECK_VALUE("nan", "\"nan\"");
	CHECK_VALUE("inf", "\"inf\"");
	CHECK_VALUE("_1", "\"_1\"");
	CHECK_VALUE("1:2", "\"1:2\"");
	CHECK_VALUE("http://x", "\"http://x\"");
	CHECK_VALUE("caf\xc3\xa9", "\"caf\xc3\xa9\"");
}

TEST(yamldoc_keeps_quoted_and_block_scalars_as_strings)
{
	CHECK_VALUE("\"on\"", "\"on\"");
	CHECK_VALUE("'yes'", "\"yes\"");
	CHECK_VALUE("\"0x1F\"", "\"0x1F\"");
	CHECK_VALUE("\"\"", "\"\"");
	CHECK_VALUE("'~'", "\"~\"");
	CHECK_VALUE("\"caf\\u00e9\\t\"", "\"caf\xc3\xa9\\t\"");
	CHECK_YAML("v: |\n  on\n  12\nw: >\n  1\n  2\n", "[{\"v\":\"on\\n12\\n\",\"w\":\"1 2\\n\"}]");
}

TEST(yamldoc_honours_explicit_tags)
{
	CHECK_VALUE("!!str 12", "\"12\"");
	CHECK_VALUE("!!str on", "\"on\"");
	CHECK_VALUE("!!str", "\"\"");
	CHECK_VALUE("! 12", "\"12\""); /* the non-specific tag */
	CHECK_VALUE("!!int \"12\"", "12");
	CHECK_VALUE("!!int 0x1F", "31");
	CHECK_VALUE("!!float 3", "3");
	CHECK_VALUE("!!float '1.5'", "1.5");
	CHECK_VALUE("!!bool \"yes\"", "true");
	CHECK_VALUE("!!null ''", "null");
	CHECK_VALUE("!!null ~", "null");
	CHECK_VALUE("!!seq [1]", "[1]");
	CHECK_VALUE("!!map {a: 1}", "{\"a\":1}");
	CHECK_VALUE("!<tag:yaml.org,2002:int> '7'", "7");
	CHECK_YAML("v: !!int x\n", "error: t.yaml:1:4: v: !!int \"x\": expected an integer");
	CHECK_YAML("v: !!int 1.5\n", "error: t.yaml:1:4: v: !!int \"1.5\": expected an integer");
	CHECK_YAML("v: !!bool 1\n", "error: t.yaml:1:4: v: !!bool \"1\": expected true or false");
	CHECK_YAML("v: !!null 0\n", "error: t.yaml:1:4: v: !!null \"0\": expected null, ~ or nothing");
	CHECK_YAML("v: !!float x\n", "error: t.yaml:1:4: v: !!float \"x\": expected a number");
	CHECK_YAML("v: !!map [1]\n", "error: t.yaml:1:4: v: tag !!map on a sequence: expected !!seq");
	CHECK_YAML("v: !!str {}\n", "error: t.yaml:1:4: v: tag !!str on a mapping: expected !!map");
}

TEST(yamldoc_refuses_tags_it_does_not_know_naming_them)
{
	static const char *const expected = ": expected !!str, !!int, !!float, !!bool, !!null, !!seq or !!map";
	static const struct {
		const char *text, *tag;
	} cases[] = {
		{"v: !foo x\n", "!foo"},
		{"v: !!binary aGk=\n", "!!binary"},
		{"v: !!timestamp 2001-12-14\n", "!!timestamp"},
		{"v: !!set {a}\n", "!!set"},
		{"%TAG !e! tag:example.com,2000:\n---\nv: !e!thing x\n", "tag:example.com,2000:thing"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int line = i == ARRAY_SIZE(cases) - 1 ? 3 : 1;
		autofree char *want = xasprintf("error: t.yaml:%d:4: v: tag %s is not supported%s", line, cases[i].tag, expected);
		CHECK_YAML(cases[i].text, want);
	}
}

TEST(yamldoc_turns_keys_into_strings_as_sigs_k8s_io_yaml_does)
{
	CHECK_YAML("80: a\n\"81\": b\n0x10: c\ntrue: d\noff: e\n1.5: f\n1e6: g\n0.1: h\n1e-5: i\n.inf: j\n-.inf: k\n",
		   "[{\"80\":\"a\",\"81\":\"b\",\"16\":\"c\",\"true\":\"d\",\"false\":\"e\",\"1.5\":\"f\",\"1e+06\":\"g\","
		   "\"0.1\":\"h\",\"1e-05\":\"i\",\".inf\":\"j\",\"-.inf\":\"k\"}]");
	/* Past a float32's range, an infinity. */
	CHECK_YAML("1e39: a\n-1e39: b\n3.4028235e38: c\n", "[{\".inf\":\"a\",\"-.inf\":\"b\",\"3.4028235e+38\":\"c\"}]");
	/* y is true, as kubectl reads it. */
	CHECK_YAML("y: 1\n", "[{\"true\":1}]");
	CHECK_YAML("~: 1\n", "error: t.yaml:1:1: a mapping key must not be null");
	CHECK_YAML("a:\n  ? [x]\n  : 1\n", "error: t.yaml:2:5: a: a mapping key must be a scalar, not a sequence");
	CHECK_YAML("{a: 1}: 2\n", "error: t.yaml:1:1: a mapping key must be a scalar, not a mapping");
	CHECK_YAML("18446744073709551615: 1\n",
		   "error: t.yaml:1:1: a mapping key must not be an integer past 64 bits: 18446744073709551615");
}

TEST(yamldoc_refuses_a_key_repeated_in_a_mapping_naming_both_places)
{
	CHECK_YAML("metadata:\n  name: a\n  labels: {}\n  name: b\n",
		   "error: t.yaml:4:3: metadata.name: duplicate key (first on line 2, column 3)");
	/* Keys repeat once they are strings: 80 and "80", true and on. */
	CHECK_YAML("ports:\n- {80: a, \"80\": b}\n",
		   "error: t.yaml:2:11: ports[0].80: duplicate key (first on line 2, column 4)");
	CHECK_YAML("true: 1\non: 2\n", "error: t.yaml:2:1: true: duplicate key (first on line 1, column 1)");
	/* Every one is reported. */
	CHECK_YAML("a: 1\nb: 2\na: 3\nb: 4\n", "error: t.yaml:3:1: a: duplicate key (first on line 1, column 1)\n"
					       "t.yaml:4:1: b: duplicate key (first on line 2, column 1)");
	/* The same key in two mappings is no repeat. */
	CHECK_YAML("a: {k: 1}\nb: {k: 2}\n", "[{\"a\":{\"k\":1},\"b\":{\"k\":2}}]");
}

TEST(yamldoc_expands_aliases_to_copies_of_their_anchors)
{
	CHECK_YAML("labels: &l {app: web, tier: front}\n"
		   "selector: *l\n"
		   "list: [&one 1, *one, *l]\n",
		   "[{\"labels\":{\"app\":\"web\",\"tier\":\"front\"},\"selector\":{\"app\":\"web\",\"tier\":\"front\"},"
		   "\"list\":[1,1,{\"app\":\"web\",\"tier\":\"front\"}]}]");
	/* An anchor defined again names its latest node, as in go-yaml. */
	CHECK_YAML("a: &x 1\nb: &x 2\nc: *x\n", "[{\"a\":1,\"b\":2,\"c\":2}]");
	/* Anchors are a document's own. */
	CHECK_YAML("a: &x 1\n---\nb: *x\n",
		   "error: t.yaml:3:4: unknown anchor: no &x before *x in its document");
	CHECK_YAML("a: &x [1, *x]\n", "error: t.yaml:1:11: *x is inside the node it names (&x on line 1, column 4)");
	/* An anchored key, used as a key again. */
	CHECK_YAML("&k 80: a\nb: {*k : c}\n", "[{\"80\":\"a\",\"b\":{\"80\":\"c\"}}]");
}

/* Each copy an alias makes carries the anchored node's positions. */
TEST(yamldoc_gives_copies_the_positions_of_the_anchored_node)
{
	struct diag d;
	diag_init(&d, "t.yaml");
	struct json_doc *doc = json_doc_parse_yaml("t.yaml", "a: &l\n  app: web\nb: *l\n", &d);
	CHECK(doc != NULL);
	if (!doc)
		return;
	const cJSON *top = cJSON_GetArrayItem(doc->root, 0);
	const cJSON *a = cJSON_GetObjectItem(top, "a"), *b = cJSON_GetObjectItem(top, "b");
	CHECK(a != b);
	CHECK_INT(json_doc_line(doc, a), 1);
	CHECK_INT(json_doc_column(doc, a), 4);
	CHECK_INT(json_doc_line(doc, b), 1);
	CHECK_INT(json_doc_column(doc, b), 4);
	CHECK_INT(json_doc_line(doc, cJSON_GetObjectItem(b, "app")), 2);
	CHECK_INT(json_doc_column(doc, cJSON_GetObjectItem(b, "app")), 8);
	json_doc_free(doc);
	diag_free(&d);
}

TEST(yamldoc_merges_mappings_under_merge_keys)
{
	/* Explicit keys win, wherever "<<" stands. */
	CHECK_YAML("base: &b {a: 1, b: 2}\n"
		   "x:\n  <<: *b\n  b: 3\n"
		   "z:\n  b: 3\n  <<: *b\n",
		   "[{\"base\":{\"a\":1,\"b\":2},\"x\":{\"a\":1,\"b\":3},\"z\":{\"b\":3,\"a\":1}}]");
	/* A sequence of mappings: the earlier win. */
	CHECK_YAML("- &p {a: 1, b: 1}\n- &q {b: 2, c: 2}\n- {<<: [*p, *q], d: 3}\n- {<<: [*q, *p]}\n",
		   "[[{\"a\":1,\"b\":1},{\"b\":2,\"c\":2},{\"a\":1,\"b\":1,\"c\":2,\"d\":3},{\"b\":2,\"c\":2,\"a\":1}]]");
	/* An inline mapping, one with merges of its own, and !!merge. */
	CHECK_YAML("a: &a {x: 1}\nb: &b {<<: *a, w: 2}\nc: {<<: {z: 3}}\nd: {!!merge <<: *b}\n",
		   "[{\"a\":{\"x\":1},\"b\":{\"x\":1,\"w\":2},\"c\":{\"z\":3},\"d\":{\"x\":1,\"w\":2}}]");
	/* A quoted "<<" is a key like any other. */
	CHECK_YAML("\"<<\": {a: 1}\n", "[{\"<<\":{\"a\":1}}]");
	CHECK_YAML("a: {<<: 1}\n",
		   "error: t.yaml:1:9: a.<<: expected a mapping or a sequence of mappings to merge, got a scalar");
	CHECK_YAML("s: &s [1]\na: {<<: *s}\n",
		   "error: t.yaml:2:9: a.<<: expected a mapping or a sequence of mappings to merge, got a sequence");
	CHECK_YAML("a: {<<: [{x: 1}, 2]}\n", "error: t.yaml:1:18: a.<<[1]: expected a mapping to merge, got a scalar");
	CHECK_YAML("a: {<<: {x: 1}, <<: {y: 1}}\n",
		   "error: t.yaml:1:17: a: duplicate merge key << (first on line 1, column 5)");
}

TEST(yamldoc_refuses_what_json_cannot_hold)
{
	CHECK_YAML("v: .inf\n", "error: t.yaml:1:4: v: .inf is no number JSON can hold");
	CHECK_YAML("v: [-.Inf]\n", "error: t.yaml:1:5: v[0]: -.Inf is no number JSON can hold");
	CHECK_YAML("v: .nan\n", "error: t.yaml:1:4: v: .nan is no number JSON can hold");
	CHECK_YAML("v: \"a\\0b\"\n", "error: t.yaml:1:4: v: contains a NUL character (U+0000)");
	CHECK_YAML("\"a\\0\": 1\n", "error: t.yaml:1:1: the key contains a NUL character (U+0000)");
}

/* A billion laughs: nine aliases of nine, nine levels deep, would make
 * 9^9 values from 342 bytes. The budget stops it at once. */
TEST(yamldoc_refuses_an_alias_bomb_quickly)
{
	autofree char *bomb = xstrdup("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
	for (char c = 'b'; c <= 'i'; c++) {
		char *longer = xasprintf("%s%c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n", bomb, c, c, c - 1, c - 1,
					 c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1);
		free(bomb);
		bomb = longer;
	}
	long long start = now_ms();
	autofree char *want = xasprintf("error: t.yaml:3:14: too much aliasing: expanding *b takes the stream past %zu "
					"values, the limit for %zu bytes of YAML",
					YAML_DOC_VALUES_BASE + strlen(bomb), strlen(bomb));
	CHECK_YAML(bomb, want);
	CHECK(now_ms() - start < 2000);

	/* The same with merge keys, each level merging the one below 8 times. */
	autofree char *merges = xstrdup("a: &a {k: 1}\n");
	for (char c = 'b'; c <= 'z'; c++) {
		char *longer = xasprintf("%s%c: &%c {<<: [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]}\n", merges, c, c,
					 c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1);
		free(merges);
		merges = longer;
	}
	start = now_ms();
	autofree char *got = outcome(merges);
	CHECK(str_has_prefix(got, "error: t.yaml:"));
	CHECK(strstr(got, ": too much aliasing: expanding *") != NULL);
	CHECK(now_ms() - start < 2000);

	/* Aliases within the budget are fine: 2000 copies of a small block. */
	autofree char *many = xstrdup("base: &b {app: web, tier: front, port: 80}\nlist:\n");
	for (int i = 0; i < 2000; i++) {
		char *longer = xasprintf("%s- *b\n", many);
		free(many);
		many = longer;
	}
	struct diag d;
	diag_init(&d, "t.yaml");
	struct json_doc *doc = json_doc_parse_yaml("t.yaml", many, &d);
	CHECK(doc != NULL);
	if (doc)
		CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetArrayItem(doc->root, 0), "list")), 2000);
	json_doc_free(doc);
	diag_free(&d);
}

static char *nested(size_t depth)
{
	char *text = xcalloc(1, 2 * depth + 1);
	memset(text, '[', depth);
	memset(text + depth, ']', depth);
	return text;
}

TEST(yamldoc_says_when_nesting_is_too_deep)
{
	autofree char *limit = nested(CJSON_NESTING_LIMIT);
	autofree char *fine = outcome(limit);
	CHECK(str_has_prefix(fine, "[[[["));
	autofree char *deep = nested(CJSON_NESTING_LIMIT + 1);
	CHECK_YAML(deep, "error: t.yaml:1:1001: nested too deeply: more than 1000 levels of sequences and mappings");
	/* Within the limit as written, past it once an alias is expanded. */
	autofree char *inner = nested(990);
	autofree char *text = xasprintf("a: &a %s\nb: [[[[[[[[[[*a]]]]]]]]]]\n", inner);
	CHECK_YAML(text, "error: t.yaml:2:14: nested too deeply: expanding *a makes more than 1000 levels of sequences "
			 "and mappings");
}

TEST(yamldoc_reports_syntax_errors_with_file_line_and_column)
{
	CHECK_YAML("a: [1, 2\n",
		   "error: t.yaml:2:1: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence at line "
		   "1, column 4)");
	CHECK_YAML("a: 1\n b: 2\n", "error: t.yaml:2:3: invalid YAML: mapping values are not allowed in this context");
	CHECK_YAML("kind: Pod\n\tname: x\n",
		   "error: t.yaml:2:1: invalid YAML: found a tab character that violates indentation (while scanning a "
		   "plain scalar at line 1, column 7)");
	CHECK_YAML("a: \"x\n", "error: t.yaml:2:1: invalid YAML: found unexpected end of stream (while scanning a quoted "
			       "scalar at line 1, column 4)");
	/* libyaml's reader knows the character, and the byte where it is. */
	CHECK_YAML("a: b\nc: d\x01\n", "error: t.yaml:2:5: invalid YAML: control characters are not allowed (U+0001)");
	/* Bytes that are not UTF-8, said as jsondoc.c says it. */
	CHECK_YAML("a: b\nname: caf\xe9\n",
		   "error: t.yaml:2:10: not UTF-8: byte 0xe9 starts no valid UTF-8 character; a YAML file must be UTF-8 "
		   "text");
	CHECK_YAML("\xff\xfe" "a\0", "error: t.yaml:1:1: not UTF-8: byte 0xff starts no valid UTF-8 character; a YAML "
				  "file must be UTF-8 text");
}

/* Lines and columns (characters, from 1) of nested values, as libyaml
 * reports them: block and flow collections, quoted scalars, multibyte
 * characters, and the brief's own message, as an object parser makes it
 * with docwalk in its manifest mode. */
TEST(yamldoc_records_where_each_value_starts)
{
	static const char text[] = "apiVersion: apps/v1\n"
				   "kind: Deployment\n"
				   "metadata:\n"
				   "  name: web\n"
				   "  namespace: shop\n"
				   "  labels: {caf\xc3\xa9: \"cr\xc3\xa8me\", b: [1, 'x']}\n"
				   "spec:\n"
				   "  template:\n"
				   "    spec:\n"
				   "      containers:\n"
				   "      - name: web\n"
				   "        ports:\n"
				   "        - containerPort: 80\n"
				   "        - containerPort: 443\n"
				   "          protocol: HTTP\n";
	struct diag d;
	diag_init(&d, "topology.json");
	struct json_doc *doc = json_doc_parse_yaml("k8s/web.yaml", text, &d);
	CHECK(doc != NULL);
	if (!doc)
		return;
	const cJSON *top = cJSON_GetArrayItem(doc->root, 0);
	const cJSON *labels = cJSON_GetObjectItem(cJSON_GetObjectItem(top, "metadata"), "labels");
	const cJSON *b = cJSON_GetObjectItem(labels, "b");
	const cJSON *containers = cJSON_GetObjectItem(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(top, "spec"), "template"), "spec"), "containers");
	const cJSON *ports = cJSON_GetObjectItem(cJSON_GetArrayItem(containers, 0), "ports");
	const cJSON *protocol = cJSON_GetObjectItem(cJSON_GetArrayItem(ports, 1), "protocol");
	static const struct {
		int line, column;
	} want[] = {{1, 1}, {6, 11}, {6, 18}, {6, 30}, {6, 31}, {6, 34}, {11, 7}, {11, 9}, {13, 9}, {14, 11}, {15, 21}};
	const cJSON *items[] = {top,
				labels,
				cJSON_GetObjectItem(labels, "caf\xc3\xa9"),
				b,
				cJSON_GetArrayItem(b, 0),
				cJSON_GetArrayItem(b, 1),
				containers,
				cJSON_GetArrayItem(containers, 0),
				ports,
				cJSON_GetArrayItem(ports, 1),
				protocol};
	for (size_t i = 0; i < ARRAY_SIZE(items); i++) {
		CHECK(items[i] != NULL);
		if (json_doc_line(doc, items[i]) != want[i].line || json_doc_column(doc, items[i]) != want[i].column)
			harness_fail(__FILE__, __LINE__, "item %zu at %d:%d, want %d:%d", i, json_doc_line(doc, items[i]),
				     json_doc_column(doc, items[i]), want[i].line, want[i].column);
	}

	struct docwalk w = {.doc = doc, .d = &d, .columns = true, .prefix = "Deployment shop/web"};
	docwalk_error(&w, protocol, "spec.template.spec.containers[0].ports[1].protocol", "\"%s\" is not TCP, UDP or SCTP",
		      protocol->valuestring);
	CHECK_INT(d.count, 1);
	if (d.count)
		CHECK_STR(d.messages[0], "k8s/web.yaml:15:21: Deployment shop/web: "
					 "spec.template.spec.containers[0].ports[1].protocol: \"HTTP\" is not TCP, UDP or SCTP");
	json_doc_free(doc);
	diag_free(&d);
}

/* A scratch file NAME holding TEXT (LEN bytes); its path, malloc'd. */
static char *scratch_file(const char *dir, const char *name, const char *text, size_t len)
{
	char *path = xasprintf("%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK(write_all(fd, text, len) == 0);
		close(fd);
	}
	return path;
}

TEST(yamldoc_loads_manifest_files_of_either_syntax_in_one_shape)
{
	char dir[] = "/tmp/testbed-unit.XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	autofree char *yaml = scratch_file(dir, "a.yaml", "kind: Pod\n---\nkind: Service\n", 28);
	autofree char *json = scratch_file(dir, "b.json", "{\n  \"kind\": \"Pod\"\n}\n", 20);
	autofree char *null = scratch_file(dir, "c.json", "null", 4);
	autofree char *twice = scratch_file(dir, "d.json", "{\"kind\": \"Pod\",\n \"kind\": \"Service\"}", 35);
	autofree char *nul = scratch_file(dir, "e.yml", "kind: Pod\nx: a\0b\n", 17);

	struct diag d;
	diag_init(&d, "topology.json");
	struct json_doc *doc = json_doc_load_manifest(yaml, &d);
	CHECK(doc != NULL);
	if (doc) {
		CHECK_INT(cJSON_GetArraySize(doc->root), 2);
		CHECK_STR(doc->file, yaml);
	}
	json_doc_free(doc);

	/* A JSON file's document is the root array's one element, its positions kept. */
	doc = json_doc_load_manifest(json, &d);
	CHECK(doc != NULL);
	if (doc) {
		CHECK(cJSON_IsArray(doc->root));
		CHECK_INT(cJSON_GetArraySize(doc->root), 1);
		const cJSON *kind = cJSON_GetObjectItem(cJSON_GetArrayItem(doc->root, 0), "kind");
		CHECK_STR(cJSON_GetStringValue(kind), "Pod");
		CHECK_INT(json_doc_line(doc, kind), 2);
		CHECK_INT(json_doc_column(doc, kind), 11);
	}
	json_doc_free(doc);

	doc = json_doc_load_manifest(null, &d);
	CHECK(doc != NULL);
	if (doc)
		CHECK_INT(cJSON_GetArraySize(doc->root), 0);
	json_doc_free(doc);
	CHECK_INT(d.count, 0);

	/* Repeated keys are refused in JSON as in YAML; a NUL byte is no text. */
	CHECK(json_doc_load_manifest(twice, &d) == NULL);
	CHECK(json_doc_load_yaml(nul, &d) == NULL);
	CHECK(json_doc_load_yaml(dir, &d) == NULL);
	CHECK_INT(d.count, 3);
	if (d.count == 3) {
		autofree char *want0 = xasprintf("%s:2:10: kind: duplicate key (first on line 1, column 10)", twice);
		autofree char *want1 = xasprintf("%s:2:5: not a YAML text file: it contains a NUL byte", nul);
		autofree char *want2 = xasprintf("%s: is a directory, not a topology file", dir);
		CHECK_STR(d.messages[0], want0);
		CHECK_STR(d.messages[1], want1);
		CHECK_STR(d.messages[2], want2);
	}
	diag_free(&d);
	unlink(yaml);
	unlink(json);
	unlink(null);
	unlink(twice);
	unlink(nul);
	rmdir(dir);
}
