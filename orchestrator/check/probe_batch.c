/* Grouping a batch of socket requests by namespace, and the pools' sizes. */
#include "check/probe_batch.h"

#include <stdlib.h>

#include "util/util.h"

struct keyed {
	int key;
	uint32_t index;
};

static int by_key_then_index(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

size_t probe_batch_order(const int *keys, size_t n, uint32_t *order)
{
	if (n == 0)
		return 0;
	struct keyed *k = xcalloc(n, sizeof(*k));
	for (size_t i = 0; i < n; i++)
		k[i] = (struct keyed){keys[i], (uint32_t)i};
	/* The index breaks ties, so qsort's instability cannot reorder a group. */
	qsort(k, n, sizeof(*k), by_key_then_index);
	size_t groups = 0;
	for (size_t i = 0; i < n; i++) {
		order[i] = k[i].index;
		groups += i == 0 || k[i].key != k[i - 1].key;
	}
	free(k);
	return groups;
}

void probe_pools(size_t n_pass, size_t n_dropped, size_t per, size_t fit, size_t *limit, size_t *limit_dropped)
{
	if (per == 0)
		per = 1;
	size_t dropped = per > PROBE_DROPPED_MAX / PROBE_DROPPED_FACTOR ? PROBE_DROPPED_MAX : per * PROBE_DROPPED_FACTOR;
	*limit = per < n_pass ? per : n_pass;
	*limit_dropped = dropped < n_dropped ? dropped : n_dropped;
	if (*limit + *limit_dropped == 0)
		*limit = 1;
	if (fit == 0)
		fit = 1;
	if (fit >= *limit + *limit_dropped)
		return;
	size_t keep = *limit_dropped ? 1 : 0;
	if (*limit && *limit + keep > fit)
		*limit = fit > keep ? fit - keep : 1;
	*limit_dropped = fit > *limit + keep ? fit - *limit : keep;
}
