/* Reports of a check run, in the formats people and CI systems read:
 *   text      a reachability truth table per protocol (rows: from, columns:
 *             to), the failures with their reasons, and `N passed, M failed`
 *   json      every probe with its expectation and what it found
 *   junit     one testcase per probe; failures carry the reason
 *   tap       TAP version 13, for bats and prove
 *   markdown  the summary and the tables, for a GitHub Actions job summary
 * Pure functions of a struct check_run: unit-tested without a lab. */
#ifndef TESTBED_REPORT_H
#define TESTBED_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "check/check.h"

enum report_format { REPORT_TEXT, REPORT_JSON, REPORT_JUNIT, REPORT_TAP, REPORT_MARKDOWN };

struct report_style {
	bool colour;  /* text: ANSI colours (a terminal, and no NO_COLOR) */
	bool verbose; /* text: every probe, with latency, answerer and path notes */
};

/* "text", "json", ...; false for anything else. */
bool report_format_parse(const char *name, enum report_format *f);
const char *report_format_name(enum report_format f);

/* Writes RUN to OUT. Returns 0, or -1 when writing failed (errno set). */
int report_write(FILE *out, enum report_format f, const struct check_run *run, const struct report_style *s);

#endif
