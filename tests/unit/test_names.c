/* One rule for names: NAMESPACE/NAME always, NAME where it is unique. */
#include <stdlib.h>

#include "harness.h"
#include "model/names.h"
#include "plan/plan.h"

static const struct name_entry lab[] = {
	{"node1", NULL}, {"web", "default"}, {"web", "shop"}, {"db", "shop"}, {"solo", "default"}, {NULL, NULL},
};

static void found(const char *query, size_t want)
{
	size_t index = SIZE_MAX;
	char *why = NULL;
	enum name_found f = name_resolve(lab, 6, query, &index, &why);
	if (f != NAME_FOUND || index != want)
		harness_fail(__FILE__, __LINE__, "\"%s\": %d, index %zu; want index %zu", query, f, index, want);
	free(why);
}

TEST(names_namespace_slash_name_always_name_where_unique)
{
	found("node1", 0);
	found("db", 3);
	found("shop/db", 3);
	found("solo", 4);
	/* NAMESPACE/NAME also finds a pod the lab shows as NAME. */
	found("default/solo", 4);
	found("default/web", 1);
	found("shop/web", 2);
	size_t index = 99;
	char *why = NULL;
	CHECK_INT(name_resolve(lab, 6, "web", &index, &why), NAME_AMBIGUOUS);
	CHECK_STR(why, "\"web\" is ambiguous: pods default/web and shop/web have that name; say which, as NAMESPACE/NAME");
	free(why);
	why = NULL;
	CHECK_INT(name_resolve(lab, 6, "nope", &index, &why), NAME_UNKNOWN);
	CHECK_INT(name_resolve(lab, 6, "other/db", &index, &why), NAME_UNKNOWN);
	/* Nodes and hosts have no namespace. */
	CHECK_INT(name_resolve(lab, 6, "default/node1", &index, &why), NAME_UNKNOWN);
	CHECK_INT(name_resolve(lab, 6, "/db", &index, &why), NAME_UNKNOWN);
	CHECK(why == NULL && index == 99);
	static const struct name_entry three[] = {{"x", "a"}, {"x", "b"}, {"x", "c"}};
	CHECK_INT(name_resolve(three, 3, "x", &index, &why), NAME_AMBIGUOUS);
	CHECK_STR(why, "\"x\" is ambiguous: pods a/x, b/x and c/x have that name; say which, as NAMESPACE/NAME");
	free(why);
}

/* The plan finds what the lab shows first, then by the rule. */
TEST(names_plan_resolve_takes_the_lab_s_names_and_the_rule)
{
	struct plan p = {0};
	struct plan_machine m = {.kind = MACHINE_NODE, .name = "node1", .parent = PLAN_NONE, .image = PLAN_NONE};
	plan_add_machine(&p, &m);
	m = (struct plan_machine){.kind = MACHINE_POD, .name = "default/web", .namespace = "default", .parent = 0, .image = PLAN_NONE};
	plan_add_machine(&p, &m);
	m.name = "shop/web";
	m.namespace = "shop";
	plan_add_machine(&p, &m);
	m.name = "db";
	plan_add_machine(&p, &m);
	size_t k = 99;
	char *why = NULL;
	CHECK_INT(plan_resolve(&p, "shop/web", &k, &why), NAME_FOUND);
	CHECK_INT(k, 2);
	CHECK_INT(plan_resolve(&p, "shop/db", &k, &why), NAME_FOUND);
	CHECK_INT(k, 3);
	CHECK_INT(plan_resolve(&p, "db", &k, &why), NAME_FOUND);
	CHECK_INT(plan_resolve(&p, "node1", &k, &why), NAME_FOUND);
	CHECK_INT(k, 0);
	CHECK_INT(plan_resolve(&p, "web", &k, &why), NAME_AMBIGUOUS);
	CHECK_STR(why, "\"web\" is ambiguous: pods default/web and shop/web have that name; say which, as NAMESPACE/NAME");
	free(why);
	plan_free(&p);
}
