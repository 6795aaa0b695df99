#include "fixtures.h"

#include <stdio.h>

#include "plan/plan_compile.h"
#include "util/diag.h"
#include "model/compile.h"
#include "model/jsondoc.h"
#include "util/util.h"

struct tb_topology *fixture_topology(const char *text)
{
	struct diag d;
	diag_init(&d, "t.json");
	struct json_doc *doc = json_doc_parse("t.json", text, &d);
	struct tb_topology *t = doc ? compile_model_doc(doc, "../bad", &d) : NULL;
	for (size_t i = 0; i < d.count; i++)
		fprintf(stderr, "  unexpected: %s\n", d.messages[i]);
	diag_free(&d);
	return t;
}

bool fixture_plan(const char *text, struct plan *p)
{
	struct tb_topology *t = fixture_topology(text);
	struct tb_err e;
	bool ok = t && plan_build(t, NULL, p, &e) == 0;
	if (t && !ok)
		fprintf(stderr, "  plan: %s\n", e.msg);
	if (t)
		topology_free(t);
	return ok;
}
