/* Resolving a machine's name (names.h). */
#define _GNU_SOURCE
#include "model/names.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

/* Does ENTRY match QUERY: NAME, or NAMESPACE/NAME (SLASH: its '/')? */
static bool matches(const struct name_entry *entry, const char *query, const char *slash)
{
	if (!entry->name)
		return false;
	if (!slash)
		return strcmp(entry->name, query) == 0;
	size_t ns_len = (size_t)(slash - query);
	return entry->namespace && strlen(entry->namespace) == ns_len && strncmp(entry->namespace, query, ns_len) == 0 &&
	       strcmp(entry->name, slash + 1) == 0;
}

enum name_found name_resolve(const struct name_entry *entries, size_t n, const char *query, size_t *index,
			     char **why)
{
	const char *slash = strchr(query, '/');
	size_t found = 0, first = 0;
	for (size_t i = 0; i < n; i++)
		if (matches(&entries[i], query, slash) && found++ == 0)
			first = i;
	if (found == 0)
		return NAME_UNKNOWN;
	if (found == 1) {
		*index = first;
		return NAME_FOUND;
	}
	/* Only pods share a name (validation keeps every other name unique),
	 * one per namespace: each candidate as NAMESPACE/NAME. */
	char *list = xstrdup("");
	for (size_t i = first, k = 0; i < n; i++) {
		if (!matches(&entries[i], query, slash))
			continue;
		k++;
		char *more = xasprintf("%s%s%s/%s", list, k == 1 ? "" : k == found ? " and " : ", ",
				       entries[i].namespace ? entries[i].namespace : "", entries[i].name);
		free(list);
		list = more;
	}
	*why = xasprintf("\"%s\" is ambiguous: pods %s have that name; say which, as NAMESPACE/NAME", query, list);
	free(list);
	return NAME_AMBIGUOUS;
}
