/* A name resolved once from a machine of a running lab, the way check
 * resolves a target's name (the machine's own resolv.conf, its search
 * list, from its namespace, through the probe engine): for trace. */
#ifndef TESTBED_RESOLVE_H
#define TESTBED_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "plan/plan.h"
#include "util/util.h"

struct check_resolved {
	uint32_t address; /* the answer's first address, where a client would connect */
	char *text;       /* "web.shop.svc.cluster.local: 10.96.0.2, ..." (malloc'd, escaped) */
};

/* Resolves NAME (without "dns:") from plan machine FROM of P, whose
 * machines' network namespaces are NETNS, within TIMEOUT_MS. 0 with *OUT
 * filled; 1 when the name does not resolve, with *WHY (malloc'd:
 * "NXDOMAIN: no such name (asked ...)"); -1 when probing broke (E). */
int check_resolve(const struct plan *p, const int *netns, size_t from, const char *name, int timeout_ms,
		  struct check_resolved *out, char **why, struct tb_err *e);
void check_resolved_free(struct check_resolved *r);

#endif
