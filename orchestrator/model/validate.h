/* The second of compile.h's passes over a topology: what spans entities.
 * Unique names, references that resolve, links that make sense, image
 * files that exist, addresses that do not clash. */
#ifndef TESTBED_VALIDATE_H
#define TESTBED_VALIDATE_H

#include <stdbool.h>

struct diag;
struct tb_topology;

/* Checks T, which parsed without error, resolving its references (link
 * ends, expectation targets) on the way. False after reporting every
 * error found through D. */
bool validate_topology(struct tb_topology *t, struct diag *d);

#endif
