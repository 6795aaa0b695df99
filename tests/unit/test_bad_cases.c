/* Every tests/bad/NAME.json must fail validation with exactly the messages
 * in NAME.err, one a line, and nothing may be created on the way. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include "check/check.h"
#include "cli/compile.h"
#include "util/diag.h"
#include "harness.h"
#include "model/topology.h"
#include "util/util.h"

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

TEST(bad_topologies_fail_with_their_documented_errors)
{
	char cwd[4096];
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	if (chdir("../bad") != 0) {
		harness_fail(__FILE__, __LINE__, "cannot enter tests/bad");
		return;
	}
	DIR *dir = opendir(".");
	char **names = NULL;
	size_t count = 0, cap = 0;
	for (struct dirent *e; dir && (e = readdir(dir));) {
		size_t n = strlen(e->d_name);
		if (n > 5 && strcmp(e->d_name + n - 5, ".json") == 0) {
			grow_array((void **)&names, &cap, count + 1, sizeof(*names));
			names[count++] = strndup(e->d_name, n - 5);
		}
	}
	if (dir)
		closedir(dir);
	qsort(names, count, sizeof(*names), by_name);
	CHECK(count >= 40);

	for (size_t i = 0; i < count; i++) {
		autofree char *json = xasprintf("%s.json", names[i]);
		autofree char *err = xasprintf("%s.err", names[i]);
		autofree char *want = read_file(err, NULL);
		if (!want) {
			harness_fail(__FILE__, __LINE__, "%s has no %s", json, err);
			continue;
		}
		struct diag d;
		diag_init(&d, json);
		/* As the commands do: load, plan, and check the expectations. */
		struct plan p;
		bool accepted = compile_topology_file(json, &p, &d) == 0;
		size_t len = 1;
		for (size_t j = 0; j < d.count; j++)
			len += strlen(d.messages[j]) + 1;
		autofree char *got = xcalloc(1, len);
		for (size_t j = 0; j < d.count; j++) {
			strcat(got, d.messages[j]);
			strcat(got, "\n");
		}
		if (accepted)
			harness_fail(__FILE__, __LINE__, "%s was accepted", json);
		else if (strcmp(got, want) != 0)
			harness_fail(__FILE__, __LINE__, "%s:\n got:  %s want: %s", json, got, want);
		if (accepted)
			plan_free(&p);
		diag_free(&d);
		free(names[i]);
	}
	free(names);
	CHECK(chdir(cwd) == 0);
}
