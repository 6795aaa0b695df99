#include "harness.h"

#include <stdarg.h>
#include <stdlib.h>

struct test {
	const char *name;
	test_fn fn;
};

static struct test tests[512];
static size_t n_tests;
static bool current_failed;
static const char *current_name;

void harness_register(const char *name, test_fn fn)
{
	if (n_tests == sizeof(tests) / sizeof(tests[0])) {
		fprintf(stderr, "harness: too many tests\n");
		exit(2);
	}
	tests[n_tests++] = (struct test){name, fn};
}

void harness_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "FAIL %s (%s:%d): ", current_name, file, line);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	current_failed = true;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct test *)a)->name, ((const struct test *)b)->name);
}

int main(int argc, char **argv)
{
	/* Optional filter: run only tests whose name contains argv[1]. */
	const char *filter = argc > 1 ? argv[1] : NULL;
	qsort(tests, n_tests, sizeof(tests[0]), by_name);
	size_t passed = 0, failed = 0;
	for (size_t i = 0; i < n_tests; i++) {
		if (filter && !strstr(tests[i].name, filter))
			continue;
		current_name = tests[i].name;
		current_failed = false;
		tests[i].fn();
		if (current_failed)
			failed++;
		else
			passed++;
	}
	printf("unit: %zu passed, %zu failed\n", passed, failed);
	return failed ? 1 : 0;
}
