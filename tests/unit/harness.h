/* A minimal unit-test harness: TEST(name) { ... } registers a test; CHECK
 * and friends record failures and go on. The runner prints one line per
 * failure and a closing "unit: N passed, M failed" line. */
#ifndef TESTBED_HARNESS_H
#define TESTBED_HARNESS_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

typedef void (*test_fn)(void);
void harness_register(const char *name, test_fn fn);
void harness_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define TEST(name)                                                                                    \
	static void test_##name(void);                                                                \
	__attribute__((constructor)) static void register_##name(void)                               \
	{                                                                                             \
		harness_register(#name, test_##name);                                                 \
	}                                                                                             \
	static void test_##name(void)

#define CHECK(cond)                                                                                   \
	do {                                                                                          \
		if (!(cond))                                                                          \
			harness_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                         \
	} while (0)

#define CHECK_INT(got, want)                                                                          \
	do {                                                                                          \
		long long got_ = (long long)(got), want_ = (long long)(want);                         \
		if (got_ != want_)                                                                    \
			harness_fail(__FILE__, __LINE__, "%s == %lld, want %lld", #got, got_, want_);  \
	} while (0)

#define CHECK_STR(got, want)                                                                          \
	do {                                                                                          \
		const char *got_ = (got), *want_ = (want);                                            \
		if (!got_ || !want_ || strcmp(got_, want_) != 0)                                      \
			harness_fail(__FILE__, __LINE__, "%s == \"%s\", want \"%s\"", #got,            \
				     got_ ? got_ : "(null)", want_ ? want_ : "(null)");               \
	} while (0)

#endif
