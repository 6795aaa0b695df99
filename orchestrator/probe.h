/* Probes from inside lab namespaces, with no process per probe: each
 * socket is created in its source's network namespace (a socket keeps the
 * namespace it was made in) and one poll loop drives them all. */
#ifndef TESTBED_PROBE_H
#define TESTBED_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "ipv4.h"
#include "util.h"

struct listen_wait {
	const char *name; /* for messages */
	int netns;        /* where to connect from */
	uint32_t addr;
	uint16_t port;
	/* results */
	bool ready;
	int last_errno;
};

/* Waits until every target accepts TCP connections, retrying refused or
 * unreachable ones, for at most TIMEOUT_MS in all. On timeout names the
 * targets still not ready. STOP, when it becomes true, aborts the wait. */
int wait_listening(struct listen_wait *targets, size_t n, int timeout_ms, volatile const int *stop,
		   struct tb_err *e);

#endif
