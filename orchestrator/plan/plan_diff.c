#define _GNU_SOURCE
#include "plan/plan_diff.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "model/cluster_dns.h"
#include "model/ingress.h"
#include "plan/ingress_nginx.h"

/* Keys of the plan's JSON shape that apply may change (machines and steps
 * compared below). kubeProxy: KubeProxyConfiguration is no kind apply
 * takes, so only its presence changes, with the lab's first Service. */
static const char *const changeable[] = {"machines", "steps",     "services", "namespaces",
					 "policies", "kubeProxy", "ingress",  NULL};

static bool is_changeable(const char *key)
{
	for (size_t i = 0; changeable[i]; i++)
		if (strcmp(changeable[i], key) == 0)
			return true;
	return false;
}

static cJSON *shape(const struct plan *p)
{
	autofree char *text = plan_shape(p);
	return cJSON_Parse(text);
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : "";
}

/* Is M cluster DNS's server, whose two files (plan_dns.h) apply rewrites? */
static bool is_dns_server(const struct plan *p, const struct plan_machine *m)
{
	return p->dns_address && m->kind == MACHINE_POD && m->namespace &&
	       strcmp(m->namespace, TB_DNS_NAMESPACE) == 0 && strcmp(plan_machine_object_name(m), TB_DNS_POD) == 0;
}

/* Is machine I P's ingress controller, whose nginx.conf apply rewrites? */
static bool is_ingress_controller(const struct plan *p, size_t i)
{
	return p->ingress.n_servers && p->ingress.controller == i;
}

/* FILES (a machine's, as JSON) without those at paths A and B (B may be
 * NULL). */
static void drop_files(cJSON *files, const char *a, const char *b)
{
	for (cJSON *f = files ? files->child : NULL, *next; f; f = next) {
		next = f->next;
		if (strcmp(str(f, "path"), a) == 0 || (b && strcmp(str(f, "path"), b) == 0))
			cJSON_Delete(cJSON_DetachItemViaPointer(files, f));
	}
}

static const char *file_content(const struct plan_machine *m, const char *path)
{
	for (size_t i = 0; i < m->n_files; i++)
		if (strcmp(m->files[i].path, path) == 0)
			return m->files[i].content;
	return NULL;
}

static bool has_line(const char *text, const char *line, size_t len)
{
	for (const char *at = text; *at;) {
		const char *end = strchrnul(at, '\n');
		if ((size_t)(end - at) == len && memcmp(at, line, len) == 0)
			return true;
		at = *end ? end + 1 : end;
	}
	return false;
}

/* The first line of FROM that TO has not, as a probe: "ADDRESS NAME". */
static bool first_missing(const char *from, const char *to, bool present, struct plan_dns_change *c)
{
	for (const char *at = from; *at;) {
		const char *end = strchrnul(at, '\n');
		size_t len = (size_t)(end - at);
		if (len && !has_line(to, at, len)) {
			autofree char *line = xasprintf("%.*s", (int)len, at);
			char *space = strchr(line, ' ');
			uint32_t a;
			if (space && (*space = '\0', ipv4_addr_parse(line, &a)) && strlen(space + 1) < sizeof(c->probe_name)) {
				snprintf(c->probe_name, sizeof(c->probe_name), "%s", space + 1);
				c->probe_address = a;
				c->probe_present = present;
				return true;
			}
		}
		at = *end ? end + 1 : end;
	}
	return false;
}

bool plan_dns_probe(const char *old_hosts, const char *new_hosts, struct plan_dns_change *c)
{
	c->probe_name[0] = '\0';
	c->probe_address = 0;
	return first_missing(new_hosts, old_hosts, true, c) || first_missing(old_hosts, new_hosts, false, c);
}

/* What changes in the DNS server's files (machine I of both plans). */
static void dns_diff(const struct plan *old, const struct plan *new, size_t i, struct plan_dns_change *c)
{
	const struct plan_machine *ma = &old->machines[i], *mb = &new->machines[i];
	const char *conf_a = file_content(ma, TB_DNS_CONFIG), *conf_b = file_content(mb, TB_DNS_CONFIG);
	const char *hosts_a = file_content(ma, TB_DNS_HOSTS), *hosts_b = file_content(mb, TB_DNS_HOSTS);
	if (conf_b && (!conf_a || strcmp(conf_a, conf_b) != 0))
		c->config = conf_b;
	if (hosts_b && (!hosts_a || strcmp(hosts_a, hosts_b) != 0))
		c->hosts = hosts_b;
	if (!c->config && !c->hosts)
		return;
	c->machine = i;
	c->restart = c->config != NULL;
	plan_dns_probe(hosts_a ? hosts_a : "", hosts_b ? hosts_b : "", c);
}

static int machines_diff(const struct plan *old, const struct plan *new, const cJSON *a, const cJSON *b,
			 struct plan_dns_change *dns, struct plan_ingress_change *ingress, struct tb_err *e)
{
	for (size_t i = 0; i < new->n_machines; i++)
		if (plan_find(old, new->machines[i].name) == PLAN_NONE)
			return tb_fail(e, "apply cannot add %s %s to a running lab: bring the lab down and up",
				       machine_kind_name(new->machines[i].kind), new->machines[i].name);
	for (size_t i = 0; i < old->n_machines; i++)
		if (plan_find(new, old->machines[i].name) == PLAN_NONE)
			return tb_fail(e, "apply cannot remove %s %s from a running lab: bring the lab down and up",
				       machine_kind_name(old->machines[i].kind), old->machines[i].name);
	if (old->n_machines != new->n_machines)
		return tb_fail(e, "apply cannot change the lab's machines: bring the lab down and up");
	const cJSON *ma = cJSON_GetObjectItemCaseSensitive(a, "machines")->child;
	const cJSON *mb = cJSON_GetObjectItemCaseSensitive(b, "machines")->child;
	for (size_t i = 0; ma && mb; ma = ma->next, mb = mb->next, i++) {
		const char *name = str(ma, "name");
		if (strcmp(name, str(mb, "name")) != 0)
			return tb_fail(e, "apply cannot reorder the lab's machines (%s is now %s): bring the lab down "
					  "and up", name, str(mb, "name"));
		/* Cluster DNS's records may change (lab/lab_dns.h rewrites
		 * them); every other file stays as up wrote it. */
		bool dns_server = is_dns_server(old, &old->machines[i]) && is_dns_server(new, &new->machines[i]);
		cJSON *ca = cJSON_Duplicate(ma, true), *cb = cJSON_Duplicate(mb, true);
		if (dns_server) {
			drop_files(cJSON_GetObjectItemCaseSensitive(ca, "files"), TB_DNS_CONFIG, TB_DNS_HOSTS);
			drop_files(cJSON_GetObjectItemCaseSensitive(cb, "files"), TB_DNS_CONFIG, TB_DNS_HOSTS);
			dns_diff(old, new, i, dns);
		}
		/* So may the ingress controller's nginx.conf (Ingresses). */
		if (is_ingress_controller(old, i) && is_ingress_controller(new, i)) {
			drop_files(cJSON_GetObjectItemCaseSensitive(ca, "files"), INGRESS_NGINX_CONF, NULL);
			drop_files(cJSON_GetObjectItemCaseSensitive(cb, "files"), INGRESS_NGINX_CONF, NULL);
			const char *was = file_content(&old->machines[i], INGRESS_NGINX_CONF);
			const char *now = file_content(&new->machines[i], INGRESS_NGINX_CONF);
			if (now && (!was || strcmp(was, now) != 0)) {
				ingress->machine = i;
				ingress->config = now;
				if (!ingress_nginx_checksum(now, ingress->checksum))
					ingress->checksum[0] = '\0';
			}
		}
		const cJSON *fa = cJSON_GetObjectItemCaseSensitive(ca, "files");
		const cJSON *fb = cJSON_GetObjectItemCaseSensitive(cb, "files");
		if ((fa || fb) && !cJSON_Compare(fa, fb, true)) {
			cJSON_Delete(ca);
			cJSON_Delete(cb);
			return tb_fail(e, "apply cannot change the files in %s's root: bring the lab down and up", name);
		}
		/* A pod's labels only feed selectors: policies' and Services'. */
		cJSON_DeleteItemFromObjectCaseSensitive(ca, "labels");
		cJSON_DeleteItemFromObjectCaseSensitive(cb, "labels");
		cJSON_DeleteItemFromObjectCaseSensitive(ca, "files");
		cJSON_DeleteItemFromObjectCaseSensitive(cb, "files");
		bool same = cJSON_Compare(ca, cb, true);
		cJSON_Delete(ca);
		cJSON_Delete(cb);
		if (!same)
			return tb_fail(e, "apply cannot change %s %s (only a pod's labels): bring the lab down and up",
				       machine_kind_name(old->machines[i].kind), name);
	}
	return 0;
}

/* Is S the gateway's route to a load balancer's or an external IP's
 * address of P's Services (plan_services.c's announce: a /32 by next
 * hops, no device)? */
static bool service_route(const struct plan *p, const struct step *s)
{
	if (s->kind != STEP_ROUTE || p->machines[s->machine].kind != MACHINE_GATEWAY || s->u.route.dst.len != 32 ||
	    s->u.route.dev[0] || !s->u.route.via)
		return false;
	uint32_t a = s->u.route.dst.addr;
	for (size_t i = 0; i < p->n_services; i++) {
		const struct plan_service *sv = &p->services[i];
		for (size_t k = 0; k < sv->n_load_balancer_ips; k++)
			if (sv->load_balancer_ips[k] == a)
				return true;
		for (size_t k = 0; k < sv->n_external_ips; k++)
			if (sv->external_ips[k] == a)
				return true;
	}
	return false;
}

/* Step I of P (its JSON S) is one apply may change: a rule set, a
 * setting, a Service's route on the gateway. */
static bool changeable_step(const struct plan *p, size_t i, const cJSON *s)
{
	if (strcmp(str(s, "kind"), "nft") == 0 || strcmp(str(s, "kind"), "sysctl") == 0)
		return true;
	return i < p->n_steps && service_route(p, &p->steps[i]);
}

/* The steps other than rule sets, sysctl settings and Services' routes
 * must be the same, in the same order. */
static int steps_diff(const struct plan *old, const struct plan *new, const cJSON *a, const cJSON *b,
		      struct tb_err *e)
{
	const cJSON *la = cJSON_GetObjectItemCaseSensitive(a, "steps");
	const cJSON *lb = cJSON_GetObjectItemCaseSensitive(b, "steps");
	/* The JSON's steps are the plan's, one for one. */
	if ((size_t)cJSON_GetArraySize(la) != old->n_steps || (size_t)cJSON_GetArraySize(lb) != new->n_steps)
		return tb_fail(e, "apply cannot compare the lab's steps: bring the lab down and up");
	const cJSON *sa = la->child, *sb = lb->child;
	size_t ia = 0, ib = 0;
	for (;;) {
		while (sa && changeable_step(old, ia, sa))
			sa = sa->next, ia++;
		while (sb && changeable_step(new, ib, sb))
			sb = sb->next, ib++;
		if (!sa && !sb)
			return 0;
		if (!sa || !sb || !cJSON_Compare(sa, sb, true)) {
			const cJSON *s = sb ? sb : sa;
			return tb_fail(e, "apply cannot change the lab's network (a %s step on %s%s%s): bring the lab "
					  "down and up",
				       str(s, "kind"), str(s, "machine"), str(s, "note")[0] ? ": " : "", str(s, "note"));
		}
		sa = sa->next, ia++;
		sb = sb->next, ib++;
	}
}

static bool same_route(const struct step_route *a, const struct step_route *b)
{
	if (a->via != b->via || a->n_also_via != b->n_also_via || a->table != b->table)
		return false;
	for (size_t i = 0; i < a->n_also_via; i++)
		if (a->also_via[i] != b->also_via[i])
			return false;
	return true;
}

static const struct step *route_to(const struct plan *p, const struct step *like)
{
	for (size_t i = 0; i < p->n_steps; i++) {
		const struct step *s = &p->steps[i];
		if (service_route(p, s) && s->machine == like->machine && s->u.route.dst.addr == like->u.route.dst.addr &&
		    s->u.route.table == like->u.route.table)
			return s;
	}
	return NULL;
}

/* The gateway's routes to Services' addresses: added, replaced where
 * their next hops change, deleted. */
static void routes_diff(const struct plan *old, const struct plan *new, struct plan_changes *c)
{
	for (size_t i = 0; i < new->n_steps; i++) {
		const struct step *s = &new->steps[i];
		if (!service_route(new, s))
			continue;
		const struct step *was = route_to(old, s);
		if (was && same_route(&was->u.route, &s->u.route))
			continue;
		c->routes = xrealloc(c->routes, (c->n_routes + 1) * sizeof(*c->routes));
		c->routes[c->n_routes++] = (struct plan_route_change){was, s};
	}
	for (size_t i = 0; i < old->n_steps; i++) {
		const struct step *s = &old->steps[i];
		if (service_route(old, s) && !route_to(new, s)) {
			c->routes = xrealloc(c->routes, (c->n_routes + 1) * sizeof(*c->routes));
			c->routes[c->n_routes++] = (struct plan_route_change){s, NULL};
		}
	}
}

static const struct step *sysctl_step(const struct plan *p, const char *machine, const struct step_sysctl *want)
{
	for (size_t i = 0; i < p->n_steps; i++) {
		const struct step *s = &p->steps[i];
		if (s->kind == STEP_SYSCTL && strcmp(s->u.sysctl.key, want->key) == 0 &&
		    strcmp(s->u.sysctl.value, want->value) == 0 && strcmp(p->machines[s->machine].name, machine) == 0)
			return s;
	}
	return NULL;
}

/* Settings NEW adds go to C's sysctls, those it drops to C's kept: what a
 * setting was before the lab set it is not known, so it stays. */
static int sysctls_diff(const struct plan *old, const struct plan *new, struct plan_changes *c, struct tb_err *e)
{
	(void)e;
	for (size_t i = 0; i < old->n_steps; i++) {
		const struct step *s = &old->steps[i];
		if (s->kind == STEP_SYSCTL && !sysctl_step(new, old->machines[s->machine].name, &s->u.sysctl)) {
			c->kept = xrealloc(c->kept, (c->n_kept + 1) * sizeof(*c->kept));
			c->kept[c->n_kept++] = s;
		}
	}
	for (size_t i = 0; i < new->n_steps; i++) {
		const struct step *s = &new->steps[i];
		if (s->kind == STEP_SYSCTL && !sysctl_step(old, new->machines[s->machine].name, &s->u.sysctl)) {
			c->sysctls = xrealloc(c->sysctls, (c->n_sysctls + 1) * sizeof(*c->sysctls));
			c->sysctls[c->n_sysctls++] = s;
		}
	}
	return 0;
}

static const struct step *nft_step(const struct plan *p, const char *machine, const char *table)
{
	for (size_t i = 0; i < p->n_steps; i++) {
		const struct step *s = &p->steps[i];
		if (s->kind == STEP_NFT && strcmp(s->u.nft.table, table) == 0 &&
		    strcmp(p->machines[s->machine].name, machine) == 0)
			return s;
	}
	return NULL;
}

static void add(struct plan_nft_change **changes, size_t *n, struct plan_nft_change c)
{
	*changes = xrealloc(*changes, (*n + 1) * sizeof(**changes));
	(*changes)[(*n)++] = c;
}

static int by_machine(const void *x, const void *y)
{
	const struct plan_nft_change *a = x, *b = y;
	if (a->machine != b->machine)
		return a->machine < b->machine ? -1 : 1;
	return strcmp(a->table, b->table);
}

void plan_changes_free(struct plan_changes *c)
{
	free(c->tables);
	free(c->sysctls);
	free(c->kept);
	free(c->routes);
	*c = (struct plan_changes){.dns.machine = PLAN_NONE, .ingress.machine = PLAN_NONE};
}

int plan_diff(const struct plan *old, const struct plan *new, struct plan_changes *c, struct tb_err *e)
{
	*c = (struct plan_changes){.dns.machine = PLAN_NONE, .ingress.machine = PLAN_NONE};
	struct plan_nft_change **changes = &c->tables;
	size_t *n = &c->n_tables;
	cJSON *a = shape(old), *b = shape(new);
	/* Machines first: a new pod changes much else (addresses, routes,
	 * neighbours), and is what to name. */
	int rc = machines_diff(old, new, a, b, &c->dns, &c->ingress, e);
	for (const cJSON *k = a->child; k && rc == 0; k = k->next) {
		if (!is_changeable(k->string) && !cJSON_Compare(k, cJSON_GetObjectItemCaseSensitive(b, k->string), true))
			rc = tb_fail(e, "apply cannot change the lab's \"%s\" (see `testbed plan`): bring the lab down "
					"and up",
				     k->string);
	}
	for (const cJSON *k = b->child; k && rc == 0; k = k->next)
		if (!is_changeable(k->string) && !cJSON_GetObjectItemCaseSensitive(a, k->string))
			rc = tb_fail(e, "apply cannot add \"%s\" to the lab's plan: bring the lab down and up",
				     k->string);
	rc = rc == 0 ? steps_diff(old, new, a, b, e) : rc;
	rc = rc == 0 ? sysctls_diff(old, new, c, e) : rc;
	cJSON_Delete(a);
	cJSON_Delete(b);
	if (rc < 0) {
		plan_changes_free(c);
		return -1;
	}
	for (size_t i = 0; i < new->n_steps; i++) {
		const struct step *s = &new->steps[i];
		if (s->kind != STEP_NFT)
			continue;
		const char *machine = new->machines[s->machine].name;
		const struct step *was = nft_step(old, machine, s->u.nft.table);
		if (!was || strcmp(was->u.nft.ruleset, s->u.nft.ruleset) != 0)
			add(changes, n, (struct plan_nft_change){plan_find(old, machine), s->u.nft.table,
								 s->u.nft.ruleset});
	}
	for (size_t i = 0; i < old->n_steps; i++) {
		const struct step *s = &old->steps[i];
		if (s->kind == STEP_NFT && !nft_step(new, old->machines[s->machine].name, s->u.nft.table))
			add(changes, n, (struct plan_nft_change){s->machine, s->u.nft.table, NULL});
	}
	if (*n > 1)
		qsort(*changes, *n, sizeof(**changes), by_machine);
	routes_diff(old, new, c);
	return 0;
}
