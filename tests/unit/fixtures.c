#include "fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

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

struct plan *fixture_load(const char *text, struct diag *d)
{
	diag_init(d, "t.json");
	struct json_doc *doc = json_doc_parse("t.json", text, d);
	struct tb_topology *t = doc ? compile_model_doc(doc, "../bad", d) : NULL;
	if (!t)
		return NULL;
	struct plan *p = xcalloc(1, sizeof(*p));
	struct tb_err e;
	if (plan_build(t, "t.json", p, &e) < 0) {
		harness_fail(__FILE__, __LINE__, "plan_build: %s", e.msg);
		free(p);
		p = NULL;
	}
	topology_free(t);
	return p;
}

void fixture_plan_free(struct plan *p)
{
	if (p)
		plan_free(p);
	free(p);
}

char *fixture_messages(const struct diag *d)
{
	char *all = xstrdup("");
	for (size_t i = 0; i < d->count; i++) {
		char *more = xasprintf("%s%s\n", all, d->messages[i]);
		free(all);
		all = more;
	}
	return all;
}

char *fixture_compile_messages(const char *text, bool (*keep_note)(const char *note))
{
	struct diag d;
	diag_init(&d, "t.json");
	struct json_doc *doc = json_doc_parse("t.json", text, &d);
	struct tb_topology *t = doc ? compile_model_doc(doc, "../bad", &d) : NULL;
	char *got = fixture_messages(&d);
	for (size_t i = 0; i < d.n_notes; i++)
		if (keep_note(d.notes[i])) {
			char *more = xasprintf("%snote: %s\n", got, d.notes[i]);
			free(got);
			got = more;
		}
	for (char *at = strstr(got, ".json:1:"); at; at = strstr(at + 1, ".json:1:")) {
		char *digits = at + strlen(".json:1:");
		size_t n = strspn(digits, "0123456789");
		if (n && digits[n] == ':')
			memmove(digits, digits + n + 1, strlen(digits + n + 1) + 1);
	}
	if (t)
		topology_free(t);
	diag_free(&d);
	return got;
}
