#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "util/diag.h"
#include "harness.h"
#include "model/jsondoc.h"
#include "util/util.h"

TEST(jsondoc_records_the_line_of_every_item)
{
	struct diag d;
	diag_init(&d, "t.json");
	struct json_doc *doc = json_doc_parse("t.json",
					      "{\n"
					      "  \"a\": 1,\n"
					      "  \"b\": [\n"
					      "    {\"c\": \"x\\\"}\"},\n"
					      "\n"
					      "    true\n"
					      "  ],\n"
					      "  \"d\": {\"e\": null}\n"
					      "}\n",
					      &d);
	CHECK(doc != NULL);
	CHECK_INT(d.count, 0);
	if (!doc)
		return;
	const cJSON *root = doc->root;
	CHECK_INT(json_doc_line(doc, root), 1);
	CHECK_INT(json_doc_line(doc, cJSON_GetObjectItem(root, "a")), 2);
	const cJSON *b = cJSON_GetObjectItem(root, "b");
	CHECK_INT(json_doc_line(doc, b), 3);
	CHECK_INT(json_doc_line(doc, cJSON_GetArrayItem(b, 0)), 4);
	CHECK_INT(json_doc_line(doc, cJSON_GetObjectItem(cJSON_GetArrayItem(b, 0), "c")), 4);
	CHECK_INT(json_doc_line(doc, cJSON_GetArrayItem(b, 1)), 6);
	CHECK_INT(json_doc_line(doc, cJSON_GetObjectItem(cJSON_GetObjectItem(root, "d"), "e")), 8);
	json_doc_free(doc);
	diag_free(&d);
}

/* Columns count characters from 1, as libyaml's do: "é" is one, so is a
 * tab, and a byte order mark is none. */
TEST(jsondoc_records_the_column_of_every_item)
{
	struct diag d;
	diag_init(&d, "t.json");
	struct json_doc *doc = json_doc_parse("t.json",
					      "{\n"
					      "  \"a\": 1,\n"
					      "  \"\xc3\xa9\": [\"\xc3\xbc\", {\"b\":\ttrue}],\n"
					      "\t\"c\": null}",
					      &d);
	CHECK(doc != NULL);
	CHECK_INT(d.count, 0);
	if (!doc)
		return;
	const cJSON *root = doc->root;
	const cJSON *array = cJSON_GetObjectItem(root, "\xc3\xa9");
	const cJSON *object = cJSON_GetArrayItem(array, 1);
	CHECK_INT(json_doc_column(doc, root), 1);
	CHECK_INT(json_doc_column(doc, cJSON_GetObjectItem(root, "a")), 8);
	CHECK_INT(json_doc_line(doc, array), 3);
	CHECK_INT(json_doc_column(doc, array), 8);
	CHECK_INT(json_doc_column(doc, cJSON_GetArrayItem(array, 0)), 9);
	CHECK_INT(json_doc_column(doc, object), 14);
	CHECK_INT(json_doc_column(doc, cJSON_GetObjectItem(object, "b")), 20);
	CHECK_INT(json_doc_line(doc, cJSON_GetObjectItem(root, "c")), 4);
	CHECK_INT(json_doc_column(doc, cJSON_GetObjectItem(root, "c")), 7);
	CHECK_INT(json_doc_column(doc, NULL), 0);
	json_doc_free(doc);

	doc = json_doc_parse("t.json", "\xEF\xBB\xBF{\"a\": 1}", &d);
	CHECK(doc != NULL);
	if (doc) {
		CHECK_INT(json_doc_column(doc, doc->root), 1);
		CHECK_INT(json_doc_column(doc, cJSON_GetObjectItem(doc->root, "a")), 7);
	}
	json_doc_free(doc);

	/* A syntax error's column counts the same way. */
	CHECK(json_doc_parse("t.json", "{\"\xc3\xa9\": x}", &d) == NULL);
	CHECK(json_doc_parse("t.json", "\xEF\xBB\xBF{\"a\": x}", &d) == NULL);
	CHECK_INT(d.count, 2);
	if (d.count == 2) {
		CHECK_STR(d.messages[0], "t.json:1:7: invalid JSON near \"x}\"");
		CHECK_STR(d.messages[1], "t.json:1:7: invalid JSON near \"x}\"");
	}
	diag_free(&d);
}

/* Positions set by a front end of another syntax; set again, replaced.
 * Enough items to grow the table several times. */
TEST(jsondoc_keeps_positions_that_front_ends_set)
{
	struct json_doc doc = {0};
	cJSON *array = cJSON_CreateArray();
	for (int i = 0; i < 1000; i++) {
		cJSON *item = cJSON_CreateNumber(i);
		cJSON_AddItemToArray(array, item);
		json_doc_set_position(&doc, item, i + 1, i + 2);
	}
	json_doc_set_position(&doc, array, 1, 1);
	json_doc_set_position(&doc, array, 7, 9);
	CHECK_INT(doc.n_items, 1001);
	bool all = true;
	int i = 0;
	for (const cJSON *item = array->child; item; item = item->next, i++)
		all = all && json_doc_line(&doc, item) == i + 1 && json_doc_column(&doc, item) == i + 2;
	CHECK(all);
	CHECK_INT(json_doc_line(&doc, array), 7);
	CHECK_INT(json_doc_column(&doc, array), 9);
	cJSON_Delete(array);
	free(doc.slots);
}

TEST(jsondoc_reports_syntax_errors_with_line_and_column)
{
	struct diag d;
	diag_init(&d, "t.json");
	CHECK(json_doc_parse("t.json", "{\n  \"a\": 1\n  \"b\": 2\n}\n", &d) == NULL);
	CHECK_INT(d.count, 1);
	if (d.count)
		CHECK_STR(d.messages[0], "t.json:3:3: invalid JSON near \"\"b\": 2\"");
	diag_free(&d);

	diag_init(&d, "t.json");
	CHECK(json_doc_parse("t.json", "{\"a\": [1, 2", &d) == NULL);
	if (d.count)
		CHECK_STR(d.messages[0], "t.json:1:12: invalid JSON: unexpected end of file");
	diag_free(&d);

	diag_init(&d, "t.json");
	CHECK(json_doc_parse("t.json", "{} {}", &d) == NULL);
	if (d.count)
		CHECK_STR(d.messages[0], "t.json:1:4: invalid JSON near \"{}\"");
	diag_free(&d);

	diag_init(&d, "t.json");
	CHECK(json_doc_parse("t.json", " \n\t", &d) == NULL);
	if (d.count)
		CHECK_STR(d.messages[0], "t.json: empty file: expected a JSON object");
	diag_free(&d);
}

TEST(jsondoc_accepts_a_byte_order_mark)
{
	struct diag d;
	diag_init(&d, "t.json");
	struct json_doc *doc = json_doc_parse("t.json", "\xEF\xBB\xBF{\n\"a\": 1}", &d);
	CHECK(doc != NULL);
	if (doc)
		CHECK_INT(json_doc_line(doc, cJSON_GetObjectItem(doc->root, "a")), 2);
	json_doc_free(doc);
	diag_free(&d);
}

/* RFC 8259: JSON text is UTF-8; cJSON alone would keep any byte in a string. */
TEST(jsondoc_refuses_text_that_is_not_utf8_saying_where)
{
	static const struct {
		const char *text, *message;
	} cases[] = {
		/* Latin-1, a lone continuation byte, half a euro sign, a surrogate, an overlong '/'. */
		{"{\"name\": \"caf\xe9\"}", "t.json:1:14: not UTF-8: byte 0xe9 starts no valid UTF-8 character; a JSON "
					   "file must be UTF-8 text (RFC 8259)"},
		{"{\n  \"a\x80\": 1}", "t.json:2:5: not UTF-8: byte 0x80 starts no valid UTF-8 character; a JSON file "
				       "must be UTF-8 text (RFC 8259)"},
		{"{\"a\": \"\xe2\x82\"}", "t.json:1:8: not UTF-8: byte 0xe2 starts no valid UTF-8 character; a JSON "
					 "file must be UTF-8 text (RFC 8259)"},
		{"{\"a\": \"\xed\xa0\x80\"}", "t.json:1:8: not UTF-8: byte 0xed starts no valid UTF-8 character; a "
					     "JSON file must be UTF-8 text (RFC 8259)"},
		{"{\"a\": \"\xc0\xaf\"}", "t.json:1:8: not UTF-8: byte 0xc0 starts no valid UTF-8 character; a JSON "
					 "file must be UTF-8 text (RFC 8259)"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct diag d;
		diag_init(&d, "t.json");
		struct json_doc *doc = json_doc_parse("t.json", cases[i].text, &d);
		CHECK(doc == NULL);
		json_doc_free(doc);
		CHECK_INT(d.count, 1);
		if (d.count)
			CHECK_STR(d.messages[0], cases[i].message);
		diag_free(&d);
	}
	/* Any UTF-8 is taken, text or not (U+FFFE): reports escape what they show. */
	struct diag d;
	diag_init(&d, "t.json");
	struct json_doc *doc = json_doc_parse("t.json", "{\"a\": \"caf\xc3\xa9 \xef\xbf\xbe \xf0\x9f\x9a\xab\"}", &d);
	CHECK(doc != NULL);
	CHECK_INT(d.count, 0);
	json_doc_free(doc);
	diag_free(&d);
}

TEST(jsondoc_load_reports_unreadable_files)
{
	struct diag d;
	diag_init(&d, "x");
	CHECK(json_doc_load("does-not-exist.json", &d) == NULL);
	if (d.count)
		CHECK_STR(d.messages[0], "does-not-exist.json: cannot read: No such file or directory");
	diag_free(&d);
	diag_init(&d, "x");
	CHECK(json_doc_load(".", &d) == NULL);
	if (d.count)
		CHECK_STR(d.messages[0], ".: is a directory, not a topology file");
	diag_free(&d);
}

/* A pipe with TEXT in it and its writing end closed, as <(jq . lab.json) gives. */
static int pipe_with(const char *text)
{
	int fds[2];
	if (pipe(fds) < 0)
		return -1;
	if (write_all(fds[1], text, strlen(text)) < 0) {
		close(fds[0]);
		fds[0] = -1;
	}
	close(fds[1]);
	return fds[0];
}

TEST(jsondoc_load_reads_a_pipe_to_its_end)
{
	autoclose int fd = pipe_with("{\n\"a\": [1,\n2]}\n");
	CHECK(fd >= 0);
	char path[64];
	snprintf(path, sizeof(path), "/dev/fd/%d", fd);
	struct diag d;
	diag_init(&d, path);
	struct json_doc *doc = json_doc_load(path, &d);
	CHECK(doc != NULL);
	CHECK_INT(d.count, 0);
	if (d.count)
		fprintf(stderr, "  unexpected: %s\n", d.messages[0]);
	if (doc)
		CHECK_INT(json_doc_line(doc, cJSON_GetArrayItem(cJSON_GetObjectItem(doc->root, "a"), 1)), 3);
	json_doc_free(doc);
	diag_free(&d);
}

/* Runs json_doc_load("-") with TEXT on standard input. */
static struct json_doc *load_stdin(const char *text, struct diag *d)
{
	autoclose int saved = dup(STDIN_FILENO);
	autoclose int fd = pipe_with(text);
	if (saved < 0 || fd < 0 || dup2(fd, STDIN_FILENO) < 0)
		return NULL;
	struct json_doc *doc = json_doc_load("-", d);
	dup2(saved, STDIN_FILENO);
	return doc;
}

TEST(jsondoc_load_reads_standard_input_as_dash)
{
	struct diag d;
	diag_init(&d, "-");
	struct json_doc *doc = load_stdin("{\"a\": 1}", &d);
	CHECK(doc != NULL);
	if (doc)
		CHECK_STR(doc->file, "<stdin>");
	json_doc_free(doc);
	diag_free(&d);

	diag_init(&d, "-");
	CHECK(load_stdin("{\n\"a\": 1\n\"b\": 2}", &d) == NULL);
	CHECK_INT(d.count, 1);
	if (d.count)
		CHECK_STR(d.messages[0], "<stdin>:3:1: invalid JSON near \"\"b\": 2}\"");
	diag_free(&d);
}

TEST(jsondoc_load_stops_an_endless_file_at_the_size_limit)
{
	struct diag d;
	diag_init(&d, "x");
	long long start = now_ms();
	CHECK(json_doc_load("/dev/zero", &d) == NULL);
	long long took = now_ms() - start;
	CHECK_INT(d.count, 1);
	if (d.count)
		CHECK_STR(d.messages[0], "/dev/zero: is larger than 64 MiB, the limit for a topology file");
	/* 64 MiB of zeros take a fraction of a second, even under ASan. */
	CHECK(took < 5000);
	diag_free(&d);
}

TEST(jsondoc_load_refuses_a_device_by_name)
{
	char dir[] = "/tmp/testbed-unit.XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	autofree char *dev = xasprintf("%s/disk", dir);
	/* A block device node (loop0's numbers), never opened; creating one
	 * needs root, which the suite may lack. */
	if (mknod(dev, S_IFBLK | 0600, makedev(7, 0)) == 0) {
		struct diag d;
		diag_init(&d, "x");
		CHECK(json_doc_load(dev, &d) == NULL);
		autofree char *want = xasprintf("%s: is a device, not a topology file", dev);
		if (d.count)
			CHECK_STR(d.messages[0], want);
		diag_free(&d);
		unlink(dev);
	}
	rmdir(dir);
}

static void check_one_error(const char *text, const char *want)
{
	struct diag d;
	diag_init(&d, "t.json");
	struct json_doc *doc = json_doc_parse("t.json", text, &d);
	CHECK(doc == NULL);
	json_doc_free(doc);
	CHECK_INT(d.count, 1);
	if (d.count)
		CHECK_STR(d.messages[0], want);
	diag_free(&d);
}

TEST(jsondoc_refuses_strings_holding_nul)
{
	check_one_error("{\n\"name\": \"a\\u0000b\"}", "t.json:2: name: contains a NUL character (U+0000)");
	check_one_error("{\"nodes\": [\n  {\"name\": \"x\"},\n  {\"pods\": [{\"labels\": {\"app\": \"\\u0000\"}}]}]}",
			"t.json:3: nodes[1].pods[0].labels.app: contains a NUL character (U+0000)");
	check_one_error("{\"a\": {\n\"k\\u0000\": 1}}", "t.json:2: a.k: the key contains a NUL character (U+0000)");
	check_one_error("[\"\\u0000\"]", "t.json:1: [0]: contains a NUL character (U+0000)");
	check_one_error("\"x\\u0000\"", "t.json:1: contains a NUL character (U+0000)");

	/* An escaped backslash before u0000 is text, not U+0000; other
	 * escapes and a raw "\\u00001" spelled out stay as they are. */
	struct diag d;
	diag_init(&d, "t.json");
	struct json_doc *doc =
		json_doc_parse("t.json", "{\"a\": \"x\\\\u0000y\", \"b\": \"\\u0001\\\"\\\\\", \"c\\\\u0000\": 1}", &d);
	CHECK(doc != NULL);
	CHECK_INT(d.count, 0);
	if (doc)
		CHECK_STR(cJSON_GetObjectItem(doc->root, "a")->valuestring, "x\\u0000y");
	json_doc_free(doc);
	diag_free(&d);
}

static char *nested(size_t depth)
{
	char *text = xcalloc(1, 2 * depth + 4);
	memset(text, '[', depth);
	memset(text + depth, ']', depth);
	return text;
}

TEST(jsondoc_says_when_nesting_is_too_deep)
{
	autofree char *deep = nested(CJSON_NESTING_LIMIT + 1);
	check_one_error(deep, "t.json:1:1001: nested too deeply: more than 1000 levels of arrays and objects, the "
			      "limit of cJSON, testbed's JSON parser");
	/* A bracket in a string opens nothing: 999 levels, then "[" and a
	 * 1000th level are within the limit. */
	autofree char *strings = xcalloc(1, 4096);
	memset(strings, '[', 999);
	strcat(strings, "\"[\", [1, 2, 3]");
	memset(strings + strlen(strings), ']', 999);
	struct diag d0;
	diag_init(&d0, "t.json");
	struct json_doc *ok = json_doc_parse("t.json", strings, &d0);
	CHECK(ok != NULL);
	json_doc_free(ok);
	diag_free(&d0);
	/* One level more in an object is too deep, with a string holding "[". */
	memset(strings, '[', 999);
	strcpy(strings + 999, "\"[\", {\"a\": [1]}");
	check_one_error(strings, "t.json:1:1011: nested too deeply: more than 1000 levels of arrays and objects, the "
				 "limit of cJSON, testbed's JSON parser");
	autofree char *limit = nested(CJSON_NESTING_LIMIT);
	struct diag d;
	diag_init(&d, "t.json");
	struct json_doc *doc = json_doc_parse("t.json", limit, &d);
	CHECK(doc != NULL);
	json_doc_free(doc);
	diag_free(&d);
}
