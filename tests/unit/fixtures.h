/* Topologies and plans made from JSON text, as testbed makes them from a
 * file: shared by the unit tests that need a lab to look at. */
#ifndef TESTBED_FIXTURES_H
#define TESTBED_FIXTURES_H

#include <stdbool.h>

#include "plan/plan.h"
#include "model/topology.h"

/* The topology TEXT describes, read as a file t.json in tests/bad (relative
 * image paths resolve there); NULL when it is not valid, each error printed
 * on stderr so that a failing test says why. */
struct tb_topology *fixture_topology(const char *text);

/* The plan of that topology, in P; false (the reason printed) when either
 * cannot be made. */
bool fixture_plan(const char *text, struct plan *p);

#endif
