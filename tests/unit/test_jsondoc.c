#include "diag.h"
#include "harness.h"
#include "jsondoc.h"

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
		CHECK_STR(d.messages[0], ".: cannot read: Is a directory");
	diag_free(&d);
}
