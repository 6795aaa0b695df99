/* Label selectors: kubectl's -l syntax, its errors, and matching. */
#include <stdlib.h>

#include "harness.h"
#include "model/selector.h"
#include "util/util.h"

static const struct tb_label web[] = {{"app", "web"}, {"tier", "front"}, {"example.com/team", "blue"}};
static const struct tb_label db[] = {{"app", "db"}, {"tier", ""}};

/* Whether TEXT parses and matches the web and db label sets as WANT_WEB and WANT_DB say. */
static void matches(const char *text, bool want_web, bool want_db)
{
	struct label_selector s;
	char *why = NULL;
	if (!label_selector_parse(text, &s, &why)) {
		harness_fail(__FILE__, __LINE__, "\"%s\" refused: %s", text, why);
		free(why);
		return;
	}
	if (label_selector_matches(&s, web, 3) != want_web || label_selector_matches(&s, db, 2) != want_db)
		harness_fail(__FILE__, __LINE__, "\"%s\": web %d, db %d; want %d, %d", text,
			     label_selector_matches(&s, web, 3), label_selector_matches(&s, db, 2), want_web, want_db);
	label_selector_free(&s);
}

TEST(selector_equality_sets_and_existence_as_kubectl_reads_them)
{
	matches("app=web", true, false);
	matches("app==web", true, false);
	matches(" app = web ", true, false);
	matches("app!=web", false, true);
	matches("app!=web,tier", false, true);
	matches("app in (web, db)", true, true);
	matches("app in (db)", false, true);
	matches("app notin (db,cache)", true, false);
	matches("team", false, false);
	matches("example.com/team", true, false);
	matches("example.com/team=blue,tier=front", true, false);
	matches("!example.com/team", false, true);
	/* The empty value: db's tier is "", and k= asks for it. */
	matches("tier=", false, true);
	matches("tier in (front,)", true, true);
	/* A key a pod lacks: != and notin hold, as in Kubernetes. */
	matches("zone!=a", true, true);
	matches("zone notin (a)", true, true);
	/* No requirement: every pod. */
	matches("", true, true);
	matches("  ", true, true);
	/* in and notin are words only after a key. */
	matches("in", false, false);
	matches("in=x", false, false);
}

static void refused(const char *text, const char *want)
{
	struct label_selector s;
	char *why = NULL;
	if (label_selector_parse(text, &s, &why)) {
		harness_fail(__FILE__, __LINE__, "\"%s\" accepted", text);
		label_selector_free(&s);
		return;
	}
	if (!why || strcmp(why, want) != 0)
		harness_fail(__FILE__, __LINE__, "\"%s\": %s, want %s", text, why ? why : "(none)", want);
	free(why);
}

TEST(selector_syntax_errors_say_what_and_where)
{
	refused("app=web,", "a requirement is missing after the last \",\"");
	refused(",app", "expected a label key, found \",\"");
	refused("=web", "expected a label key, found \"=\"");
	refused("!", "expected a label key after \"!\", found the end");
	refused("!app=web", "expected \",\" between requirements, found \"=\"");
	refused("app web", "expected \"=\", \"==\", \"!=\", \"in\" or \"notin\" after \"app\", found \"web\"");
	refused("app > 3", "expected \"=\", \"==\", \"!=\", \"in\" or \"notin\" after \"app\", found \">\"");
	refused("app in web", "expected \"(\" and values after \"app in\", found \"web\"");
	refused("app notin (a b)", "expected \",\" or \")\" in the values of \"app\", found \"b\"");
	refused("app in (a", "expected \",\" or \")\" in the values of \"app\", found the end");
	refused("app=web tier=db", "expected \",\" between requirements, found \"tier\"");
	refused("-app=x", "\"-app\" is not a label key: an optional DNS prefix and '/', then up to 63 of a-z, A-Z, 0-9, "
		"'-', '_', '.', alphanumeric at both ends");
	refused("app=we$b", "\"we$b\" (a value of \"app\") is not a label value: up to 63 of a-z, A-Z, 0-9, '-', '_', "
		"'.', alphanumeric at both ends");
	refused("app in (ok,-no)", "\"-no\" (a value of \"app\") is not a label value: up to 63 of a-z, A-Z, 0-9, '-', "
		"'_', '.', alphanumeric at both ends");
}

/* What matchExpressions will build: the same requirements, matched alike. */
TEST(selector_requirements_built_as_objects_match_as_parsed_ones)
{
	struct label_selector s = {0};
	const char *values[] = {"web", "cache"};
	label_selector_add(&s, "app", SELECTOR_IN, values, 2);
	label_selector_add(&s, "example.com/team", SELECTOR_EXISTS, NULL, 0);
	CHECK(label_selector_matches(&s, web, 3));
	CHECK(!label_selector_matches(&s, db, 2));
	label_selector_free(&s);
	CHECK(s.n_reqs == 0 && s.reqs == NULL);
}

TEST(selector_with_a_namespace)
{
	CHECK(pod_selector_is_written("shop/app=web"));
	CHECK(pod_selector_is_written("*/app"));
	CHECK(pod_selector_is_written("shop/!app"));
	CHECK(pod_selector_is_written("shop/app in (a)"));
	CHECK(pod_selector_is_written("shop/"));
	CHECK(!pod_selector_is_written("*"));
	CHECK(!pod_selector_is_written("shop/web"));
	CHECK(!pod_selector_is_written("web"));
	struct pod_selector s;
	char *why = NULL;
	CHECK(pod_selector_parse("shop/app=web,tier!=db", &s, &why));
	CHECK_STR(s.namespace, "shop");
	CHECK(pod_selector_matches(&s, "shop", web, 3));
	CHECK(!pod_selector_matches(&s, "default", web, 3));
	CHECK(!pod_selector_matches(&s, NULL, web, 3));
	pod_selector_free(&s);
	CHECK(pod_selector_parse("*/app", &s, &why));
	CHECK(s.namespace == NULL);
	CHECK(pod_selector_matches(&s, "default", db, 2) && pod_selector_matches(&s, "shop", web, 3));
	pod_selector_free(&s);
	/* An empty selector: every pod of the namespace. */
	CHECK(pod_selector_parse("shop/", &s, &why));
	CHECK(pod_selector_matches(&s, "shop", db, 2) && !pod_selector_matches(&s, "other", db, 2));
	pod_selector_free(&s);
	CHECK(!pod_selector_parse("Shop/app", &s, &why));
	CHECK_STR(why, "\"Shop\" is not a namespace: 1-63 of a-z, 0-9 and '-', a letter or digit at both ends, or \"*\" "
		  "for every namespace");
	free(why);
	why = NULL;
	CHECK(pod_selector_parse("shop/app=", &s, &why));
	pod_selector_free(&s);
	CHECK(!pod_selector_parse("app=web", &s, &why));
	CHECK_STR(why, "a selector starts with its namespace: NAMESPACE/ or */ for every namespace");
	free(why);
	why = NULL;
	CHECK(!pod_selector_parse("shop/app in", &s, &why));
	CHECK_STR(why, "expected \"(\" and values after \"app in\", found the end");
	free(why);
}
