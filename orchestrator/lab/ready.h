/* Readiness: `up` waits until every server of the lab accepts connections,
 * and fails at once when a machine's workload exits meanwhile. */
#ifndef TESTBED_READY_H
#define TESTBED_READY_H

#include <stdbool.h>
#include <stdint.h>

#include "util/util.h"

struct listen_wait {
	const char *name; /* for messages */
	int netns;        /* where to connect from */
	uint32_t addr;
	uint16_t port;
	/* results */
	bool ready;
	int last_errno;
};

/* A machine whose workload must not exit while we wait: FD becomes
 * readable with the machine's report ("workload exited with status 1"). */
struct exit_watch {
	const char *name;
	int fd;
	const char *log; /* the machine's log; NULL: none */
};

/* A watched machine said something (its workload ended): fails with what
 * it said, or that its init exited, and the workload's own last line in
 * its log (dnsmasq's "failed to ..."). */
int exit_watch_report(const struct exit_watch *w, struct tb_err *e);

/* Waits until every target accepts TCP connections, retrying refused or
 * unreachable ones, for at most TIMEOUT_MS in all. On timeout names the
 * targets still not ready; fails at once when a watched machine reports
 * that its workload exited. STOP, when it becomes true, aborts the wait. */
int wait_listening(struct listen_wait *targets, size_t n, const struct exit_watch *watches, size_t n_watches,
		   int timeout_ms, volatile const int *stop, struct tb_err *e);

#endif
