/* Probes from inside lab namespaces, with no process per probe: each
 * socket is created in its source's network namespace (a socket keeps the
 * namespace it was made in) and one poll loop drives them all. */
#ifndef TESTBED_PROBE_H
#define TESTBED_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "check/check.h"
#include "util/ipv4.h"
#include "util/util.h"

struct probe_options {
	int timeout_ms;    /* per attempt */
	int retries;       /* extra attempts after a failure */
	int max_in_flight; /* probes running at once */
	/* In and out: the first datagram probe's source port (0: one drawn at
	 * random), and after the run the next one, so that the lab's next check
	 * goes on from there rather than land on ports this one just used. */
	uint16_t *udp_port_next;
};

/* Runs every probe of RUN concurrently, at most max_in_flight at a time:
 *   http  GET /hostname; passes on a 200 whose body names the target (and,
 *         with client_ip, GET /clientip shows the expected client address)
 *   tcp   the connection is accepted
 *   udp   a "hostname" datagram is answered with the target's name (and,
 *         with client_ip, "clientip" with the expected client address)
 *   ping  an ICMP echo reply from the target's address
 * in the order of RUN's probes (the schedule check_compile made).
 * NETNS[m] is the network namespace of plan machine m (-1: not running).
 * Sockets are made in batches, one visit to each source's namespace for
 * all the sockets wanted from it at once. A SYN, datagram or echo request
 * unanswered after 100 ms is sent again (then after 200, 400, ...), within
 * the attempt's timeout. Fills in each probe's outcome, latency and error;
 * returns -1 only when probing itself broke (or STOP became true), not
 * when a probe fails. */
int probe_run(struct check_run *run, const int *netns, const struct probe_options *o, volatile const int *stop,
	      struct tb_err *e);

#endif
