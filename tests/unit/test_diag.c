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
