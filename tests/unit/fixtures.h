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

struct diag;

/* The plan (malloc'd) of TEXT, read as t.json, with the parse's messages in
 * D (which it initialises); NULL when TEXT is not valid. A plan that cannot
 * be built fails the calling test. Free it with fixture_plan_free. */
struct plan *fixture_load(const char *text, struct diag *d);
void fixture_plan_free(struct plan *p);

/* Every message D holds, one a line (malloc'd). */
char *fixture_messages(const struct diag *d);

/* Every error compiling TEXT gives, and each note KEEP_NOTE keeps as
 * "note: ...", one a line; the columns of the one-line document left out
 * ("t.json:1:2129:" is "t.json:1:"), as they say little (malloc'd). */
char *fixture_compile_messages(const char *text, bool (*keep_note)(const char *note));

#endif
