/* Expectations: what `testbed check` probes, as a topology's "expect"
 * lists them (docs/topology.md#expectations). Parsed here, their shape and
 * their targets' syntax checked; which machines the targets name is
 * validate.c's (in a topology) or check.c's (against a running lab's
 * plan). */
#ifndef TESTBED_EXPECT_H
#define TESTBED_EXPECT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "model/docwalk.h"
#include "model/topology.h"

struct diag;

/* Appends the expectations the array ARR at PATH ("expect") lists to
 * *EXPECTS (*N of them), leaving out each that is wrong after reporting
 * why through W. */
void expect_parse(struct docwalk *w, const cJSON *arr, const char *path, struct tb_expect **expects, size_t *n);
void expect_free(struct tb_expect *expects, size_t n);
/* The expectations FILE ("-": standard input) holds: a JSON list, as
 * "expect" is, read and parsed as a topology is (jsondoc.h), messages
 * naming FILE and its lines. False after reporting every error through D;
 * then *EXPECTS is NULL. */
bool expect_load_file(const char *file, struct diag *d, struct tb_expect **expects, size_t *n);

#endif
