/* Diagnostics: file, line where known, JSON path, message. */
#include "util/diag.h"
#include "harness.h"

TEST(diag_names_the_line_only_when_known)
{
	struct diag d;
	diag_init(&d, "lab.json");
	diag_error(&d, 14, "nodes[1].name", "duplicate name \"%s\"", "web");
	diag_error(&d, 0, "nodes", "expected %s", "an array");
	diag_error(&d, 3, NULL, "whole document");
	diag_error(&d, 0, "", "no line, no path");
	CHECK_INT(d.count, 4);
	if (d.count == 4) {
		CHECK_STR(d.messages[0], "lab.json:14: nodes[1].name: duplicate name \"web\"");
		CHECK_STR(d.messages[1], "lab.json: nodes: expected an array");
		CHECK_STR(d.messages[2], "lab.json:3: whole document");
		CHECK_STR(d.messages[3], "lab.json: no line, no path");
	}
	diag_free(&d);
}

/* Keys, values and paths come from the topology: a message is one line
 * whatever they hold, its control characters shown escaped. */
TEST(diag_escapes_control_characters_in_messages)
{
	struct diag d;
	diag_init(&d, "lab\x1b.json");
	diag_error(&d, 2, "hosts[0].\x1b[31mkey", "\"%s\" is not a valid name", "web\nserver\\");
	diag_error_at(&d, 1, 5, "invalid JSON near \"%s\"", "\t\x9b");
	CHECK_INT(d.count, 2);
	if (d.count == 2) {
		CHECK_STR(d.messages[0],
			  "lab\\x1b.json:2: hosts[0].\\x1b[31mkey: \"web\\x0aserver\\\\\" is not a valid name");
		CHECK_STR(d.messages[1], "lab\\x1b.json:1:5: invalid JSON near \"\\x09\\x9b\"");
	}
	diag_free(&d);
}

/* A message can name a file other than D's, and a column: a manifest's,
 * where one diag gathers the messages of many files. */
TEST(diag_names_a_file_and_a_column_of_its_own)
{
	struct diag d;
	diag_init(&d, "lab.json");
	diag_error_in(&d, "k8s/web.yaml", 14, 7, "Deployment shop/web: spec.template.spec.containers[0].ports[1].protocol",
		      "\"%s\" is not TCP, UDP or SCTP", "HTTP");
	diag_error_in(&d, "k8s/web.yaml", 3, 0, "a", "no column");
	diag_error_in(&d, "k8s/web.yaml", 0, 5, NULL, "no line, so no column");
	diag_error_in(&d, NULL, 2, 3, "", "D's file, %s", "a column");
	/* With neither a file nor a column, as diag_error prints. */
	diag_error_in(&d, NULL, 14, 0, "nodes[1].name", "duplicate name \"%s\"", "web");
	diag_error_in(&d, NULL, 0, 0, NULL, "whole document");
	CHECK_INT(d.count, 6);
	if (d.count == 6) {
		CHECK_STR(d.messages[0], "k8s/web.yaml:14:7: Deployment shop/web: "
					 "spec.template.spec.containers[0].ports[1].protocol: \"HTTP\" is not TCP, UDP or SCTP");
		CHECK_STR(d.messages[1], "k8s/web.yaml:3: a: no column");
		CHECK_STR(d.messages[2], "k8s/web.yaml: no line, so no column");
		CHECK_STR(d.messages[3], "lab.json:2:3: D's file, a column");
		CHECK_STR(d.messages[4], "lab.json:14: nodes[1].name: duplicate name \"web\"");
		CHECK_STR(d.messages[5], "lab.json: whole document");
	}
	diag_free(&d);
}
