/* A lab as a picture, from its plan: machines as boxes grouped by node
 * (and a node's pods by namespace, where the lab has more than default),
 * bridges, links labelled with interface names and addresses, and the
 * routing mode's paths. Pure functions of a plan: unit-tested without a lab. */
#ifndef TESTBED_GRAPH_H
#define TESTBED_GRAPH_H

#include <stdio.h>

#include "plan/plan.h"

enum graph_format { GRAPH_MERMAID, GRAPH_DOT };

void graph_write(FILE *out, enum graph_format f, const struct plan *p);

#endif
