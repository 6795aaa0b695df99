/* Batching the probe engine's socket creation by namespace: entering a
 * network namespace costs two setns() calls, so sockets wanted from the
 * same source are made in one visit; and the sizes of its pools. Pure, so
 * unit-tested. */
#ifndef TESTBED_PROBE_BATCH_H
#define TESTBED_PROBE_BATCH_H

#include <stddef.h>
#include <stdint.h>

/* Fills ORDER (N entries) with 0..N-1 arranged so that equal KEYS are
 * adjacent, each group keeping the order its members came in. Returns the
 * number of groups: the namespace visits the batch needs. */
size_t probe_batch_order(const int *keys, size_t n, uint32_t *order);

/* The pool of probes expected to be dropped (check/probe.c): this many
 * times --parallel, at most PROBE_DROPPED_MAX sockets. */
#define PROBE_DROPPED_FACTOR 32
#define PROBE_DROPPED_MAX 4096

/* The slots of the engine's two pools, for N_PASS probes that may reach a
 * server (at most PER, --parallel, in flight) and N_DROPPED expected to be
 * dropped on the way (PER x PROBE_DROPPED_FACTOR, at most
 * PROBE_DROPPED_MAX): each as large as its probes need, and together at
 * most FIT (the open files there is room for), the dropped pool giving way
 * first; each kind that has probes keeps a slot at least. */
void probe_pools(size_t n_pass, size_t n_dropped, size_t per, size_t fit, size_t *limit, size_t *limit_dropped);

#endif
