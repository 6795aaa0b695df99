/* What `apply` may change in a running lab, found by comparing the plan the
 * lab was brought up from with the plan of its edited objects: nftables
 * rule sets (kube-proxy, NetworkPolicy, egress), sysctl settings,
 * the Services, namespaces and policies the plan carries, pods' labels,
 * the gateway's routes to load balancers' and external IPs' addresses,
 * cluster DNS's records (its server's two files) and the ingress
 * controller's nginx.conf. Anything else (a pod
 * added or removed, an address, a link, a route, another file in a
 * machine's root) needs the lab brought down
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

/* A route the gateway has for a LoadBalancer's or an external IP's
 * address (equal-cost over the nodes announcing it): OLD's, NEW's, or
 * both where its next hops change. Steps borrowed from the plans. */
struct plan_route_change {
	const struct step *old; /* NULL: added */
	const struct step *new; /* NULL: deleted */
};

/* Cluster DNS's records changed: the files of the DNS pod (plan_dns.h)
 * to write again, and how dnsmasq takes them. Its hosts file (A and PTR
 * records) it reads again on SIGHUP; its configuration (SRV, CNAME and
 * TXT records) only when it starts, so a changed configuration restarts
 * it. PROBE says when it serves the new records: NAME's A records hold
 * ADDRESS (PRESENT) or no longer do. */
struct plan_dns_change {
	size_t machine;     /* the DNS pod, in both plans; PLAN_NONE: no change */
	const char *config; /* NEW's dnsmasq.conf; NULL: unchanged */
	const char *hosts;  /* NEW's hosts file; NULL: unchanged */
	bool restart;       /* CONFIG changed */
	char probe_name[256];
	uint32_t probe_address; /* 0: no probe (a restart: any answer will do) */
	bool probe_present;
};

/* The ingress controller's nginx.conf changed (Ingresses, IngressClasses,
 * their Services): written again, and nginx restarted (lab/lab_ingress.h).
 * It serves the new file once its status server answers with CHECKSUM
 * (ingress_nginx.h). */
struct plan_ingress_change {
	size_t machine;     /* the controller pod, in both plans; PLAN_NONE: no change */
	const char *config; /* NEW's nginx.conf */
	char checksum[17];
};

/* What to do to a running lab: the sysctl settings NEW adds (the first
 * NetworkPolicy or Service of a lab makes its nodes pass bridged traffic
 * through their rules), then the tables that change. */
struct plan_changes {
	struct plan_nft_change *tables; /* by machine, then table */
	size_t n_tables;
	const struct step **sysctls; /* NEW's steps, in plan order */
	size_t n_sysctls;
	/* OLD's settings NEW has not (the last policy or Service gone): what
	 * they were before the lab set them is not known, so they stay. */
	const struct step **kept;
	size_t n_kept;
	struct plan_route_change *routes;
	size_t n_routes;
	struct plan_dns_change dns;
	struct plan_ingress_change ingress;
};

/* 0 with the changes in *C (plan_changes_free), or -1 with E naming what
 * apply cannot change. */
int plan_diff(const struct plan *old, const struct plan *new, struct plan_changes *c, struct tb_err *e);
/* The change from OLD_HOSTS to NEW_HOSTS (cluster DNS's hosts files:
 * "ADDRESS NAME" lines) that tells, once served, that the new file is:
 * a line added (its address present), else one removed (absent). False
 * when the two hold the same lines. */
bool plan_dns_probe(const char *old_hosts, const char *new_hosts, struct plan_dns_change *c);
void plan_changes_free(struct plan_changes *c);

#endif
