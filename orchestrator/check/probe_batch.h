/* Batching the probe engine's socket creation by namespace: entering a
 * network namespace costs two setns() calls, so sockets wanted from the
 * same source are made in one visit. Pure, so unit-tested. */
#ifndef TESTBED_PROBE_BATCH_H
#define TESTBED_PROBE_BATCH_H

#include <stddef.h>
#include <stdint.h>

/* Fills ORDER (N entries) with 0..N-1 arranged so that equal KEYS are
 * adjacent, each group keeping the order its members came in. Returns the
 * number of groups: the namespace visits the batch needs. */
size_t probe_batch_order(const int *keys, size_t n, uint32_t *order);

#endif
