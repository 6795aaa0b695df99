/* Which machine a name means, by one rule for every command that takes
 * one (exec, trace, check) and for expectations: a pod is NAMESPACE/NAME
 * always, and NAME where no other machine has that name; nodes, hosts,
 * the gateway and the lab are their names. The lab shows a pod as NAME
 * where that is unique, else NAMESPACE/NAME (plan/plan.h), so whatever
 * the lab shows finds its machine too. */
#ifndef TESTBED_NAMES_H
#define TESTBED_NAMES_H

#include <stddef.h>

/* A machine as names find it: its own name (a pod's without its
 * namespace) and a pod's namespace. A NULL name is never found. */
struct name_entry {
	const char *name;
	const char *namespace; /* pods; NULL for every other machine */
};

enum name_found {
	NAME_FOUND,
	NAME_UNKNOWN,
	NAME_AMBIGUOUS, /* pods of several namespaces have the name */
};

/* What QUERY names among the N ENTRIES: with a '/', the pod of that
 * namespace and name; else the one machine of that name. NAME_FOUND sets
 * *INDEX; NAME_AMBIGUOUS sets *WHY (malloc'd) to a message listing the
 * candidates as NAMESPACE/NAME. */
enum name_found name_resolve(const struct name_entry *entries, size_t n, const char *query, size_t *index,
			     char **why);

#endif
