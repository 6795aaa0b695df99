#define _GNU_SOURCE
#include "plan/plan_diff.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* Keys of the plan's JSON shape that apply may change (machines and steps
 * compared below). kubeProxy: KubeProxyConfiguration is no kind apply
 * takes, so only its presence changes, with the lab's first Service. */
static const char *const changeable[] = {"machines", "steps",    "services",  "namespaces",
					 "policies", "kubeProxy", NULL};

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

static int machines_diff(const struct plan *old, const struct plan *new, const cJSON *a, const cJSON *b,
			 struct tb_err *e)
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
		const cJSON *fa = cJSON_GetObjectItemCaseSensitive(ma, "files");
		const cJSON *fb = cJSON_GetObjectItemCaseSensitive(mb, "files");
		if ((fa || fb) && !cJSON_Compare(fa, fb, true))
			return tb_fail(e,
				       "apply cannot change the files in %s's root%s: bring the lab down and up",
				       name,
				       new->dns_address && strcmp(name, "coredns") == 0
					       ? " (cluster DNS's records: a Service added, removed or renamed)"
					       : "");
		cJSON *ca = cJSON_Duplicate(ma, true), *cb = cJSON_Duplicate(mb, true);
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

static bool changeable_step(const cJSON *s)
{
	return strcmp(str(s, "kind"), "nft") == 0 || strcmp(str(s, "kind"), "sysctl") == 0;
}

/* The steps other than rule sets and sysctl settings must be the same, in
 * the same order. */
static int steps_diff(const cJSON *a, const cJSON *b, struct tb_err *e)
{
	const cJSON *sa = cJSON_GetObjectItemCaseSensitive(a, "steps")->child;
	const cJSON *sb = cJSON_GetObjectItemCaseSensitive(b, "steps")->child;
	for (;;) {
		while (sa && changeable_step(sa))
			sa = sa->next;
		while (sb && changeable_step(sb))
			sb = sb->next;
		if (!sa && !sb)
			return 0;
		if (!sa || !sb || !cJSON_Compare(sa, sb, true)) {
			const cJSON *s = sb ? sb : sa;
			return tb_fail(e, "apply cannot change the lab's network (a %s step on %s%s%s): bring the lab "
					  "down and up",
				       str(s, "kind"), str(s, "machine"), str(s, "note")[0] ? ": " : "", str(s, "note"));
		}
		sa = sa->next;
		sb = sb->next;
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
	*c = (struct plan_changes){0};
}

int plan_diff(const struct plan *old, const struct plan *new, struct plan_changes *c, struct tb_err *e)
{
	*c = (struct plan_changes){0};
	struct plan_nft_change **changes = &c->tables;
	size_t *n = &c->n_tables;
	cJSON *a = shape(old), *b = shape(new);
	/* Machines first: a new pod changes much else (addresses, routes,
	 * neighbours), and is what to name. */
	int rc = machines_diff(old, new, a, b, e);
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
	rc = rc == 0 ? steps_diff(a, b, e) : rc;
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
	return 0;
}
