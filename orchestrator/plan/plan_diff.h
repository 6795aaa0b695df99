/* What `apply` may change in a running lab, found by comparing the plan the
 * lab was brought up from with the plan of its edited objects: nftables
 * rule sets (kube-proxy, NetworkPolicy, egress), the Services, namespaces
 * and policies the plan carries, and pods' labels. Anything else (a pod
 * added or removed, an address, a link, a route, a file in a machine's
 * root such as cluster DNS's configuration) needs the lab brought down
 * and up, and is an error naming the first such difference. Pure data. */
#ifndef TESTBED_PLAN_DIFF_H
#define TESTBED_PLAN_DIFF_H

#include "plan/plan.h"
#include "util/util.h"

/* One table to load into a machine: its new rule set, or NULL where the
 * new plan has no such table (it is deleted). */
struct plan_nft_change {
	size_t machine; /* in both plans: their machines are the same */
	const char *table;   /* "ip testbed-netpol": borrowed from a plan */
	const char *ruleset; /* borrowed from NEW; NULL: delete the table */
};

/* 0 with the tables that change (*CHANGES, malloc'd, *N of them, by
 * machine then table), or -1 with E naming what apply cannot change. */
int plan_diff(const struct plan *old, const struct plan *new, struct plan_nft_change **changes, size_t *n,
	      struct tb_err *e);

#endif
