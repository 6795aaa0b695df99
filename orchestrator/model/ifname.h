/* The one rule for interface names, shared by the topology's validation and
 * the saved plan's reader: what every program that handles them, the
 * kernel, iproute2 in the plan's script and sysctl paths, reads as that
 * name and nothing else. */
#ifndef TESTBED_IFNAME_H
#define TESTBED_IFNAME_H

#include <stddef.h>

#define TB_IFNAME_MAX 15

/* NULL when S is a valid interface name; else why not, as a phrase that
 * follows the name ("is longer than 15 bytes, ..."). */
const char *ifname_problem(const char *s);

/* The words the rule refuses besides "." and "..": ip(8)'s and bridge(8)'s
 * keywords and the sysctl folders "all" and "default" (docs/topology.md
 * and the schema list them too; a unit test keeps the three alike). */
extern const char *const ifname_reserved_words[];
extern const size_t ifname_n_reserved_words;

#endif
