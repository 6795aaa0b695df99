/* Expectations: what `testbed check` probes, as a topology's "expect"
 * lists them (docs/topology.md#expectations). Parsed here, their shape and
 * their targets' syntax checked; which machines the targets name is
 * validate.c's (in a topology) or check.c's (against a running lab's
 * plan). */
#ifndef TESTBED_EXPECT_H
#define TESTBED_EXPECT_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "model/docwalk.h"
#include "model/topology.h"

/* Appends the expectations the array ARR at PATH ("expect") lists to
 * *EXPECTS (*N of them), leaving out each that is wrong after reporting
 * why through W. */
void expect_parse(struct docwalk *w, const cJSON *arr, const char *path, struct tb_expect **expects, size_t *n);
void expect_free(struct tb_expect *expects, size_t n);

#endif
