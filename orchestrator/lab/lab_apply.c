/* apply's changes to a running lab (cli/cmd_apply.c): its object set in
 * its state, and the settings and rule sets a new plan changes, loaded
 * into the running machines' namespaces through the step executors. */
#define _GNU_SOURCE
#include "lab/lab_apply.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/compile.h"
#include "model/jsondoc.h"
#include "steps/step.h"
#include "util/diag.h"
#include "util/outfile.h"
#include "util/util.h"

#define OBJECTS_FILE "objects.json"

/* The lab's object set, as {"source": a topology document, "where": where
 * each object was written}: what the last apply saved, else its topology's
 * and manifests'. */
static cJSON *objects_of_file(const char *file, struct diag *d)
{
	cJSON *where;
	cJSON *source = compile_source_doc(file, &where, d);
	if (!source)
		return NULL;
	cJSON *set = cJSON_CreateObject();
	cJSON_AddItemToObject(set, "source", source);
	cJSON_AddItemToObject(set, "where", where);
	return set;
}

char *lab_objects_text(cJSON *source, cJSON *where, const char *dir)
{
	cJSON *set = cJSON_CreateObject();
	cJSON_AddItemToObject(set, "source", source);
	cJSON_AddItemToObject(set, "where", where);
	cJSON_AddStringToObject(set, "dir", dir);
	char *text = cJSON_PrintUnformatted(set);
	cJSON_Delete(set);
	char *copy = xstrdup(text);
	cJSON_free(text);
	return copy;
}

cJSON *lab_objects_load(const struct live_lab *l, struct diag *d)
{
	autofree char *path = lab_path(&l->dir, OBJECTS_FILE);
	size_t len;
	struct tb_err e;
	autofree char *text = json_doc_read(path, &len, &e);
	if (text) {
		cJSON *set = cJSON_Parse(text);
		if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(set, "source")) ||
		    !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(set, "where"))) {
			diag_error_at(d, 0, 0, "%s: not a lab's object set", path);
			cJSON_Delete(set);
			return NULL;
		}
		return set;
	}
	if (errno != ENOENT) {
		diag_error_at(d, 0, 0, "%s: %s", path, e.msg);
		return NULL;
	}
	/* A lab up kept no objects for (an older testbed's): its topology
	 * file, read again; standard input cannot be. */
	if (strcmp(l->plan.topology, JSON_DOC_STDIN_NAME) == 0) {
		diag_error_at(d, 0, 0, "lab %s was brought up from standard input by a testbed that kept no objects "
				       "for apply (%s): bring it down and up again", l->plan.lab, path);
		return NULL;
	}
	return objects_of_file(l->plan.topology, d);
}

/* The rule sets of one machine as one transaction: each table is replaced
 * whole (added, so that deleting it cannot fail, then deleted), or only
 * deleted where the new plan has none. */
static char *machine_batch(const struct plan_nft_change *c, size_t n)
{
	char *out = xstrdup("");
	for (size_t i = 0; i < n; i++) {
		char *next = xasprintf("%sadd table %s\ndelete table %s\n%s", out, c[i].table, c[i].table,
				       c[i].ruleset ? c[i].ruleset : "");
		free(out);
		out = next;
	}
	return out;
}

/* The new settings first (what the new rules rely on), then per machine
 * its tables in one transaction; machines side by side, as up loads them. */
int lab_apply_changes(struct live_lab *l, const struct plan_changes *pc, struct tb_err *e)
{
	const struct plan_nft_change *c = pc->tables;
	size_t n = pc->n_tables;
	struct step *steps = xcalloc(n + pc->n_sysctls + 1, sizeof(*steps));
	size_t k = 0;
	for (size_t i = 0; i < pc->n_sysctls; i++) {
		steps[k].kind = STEP_SYSCTL;
		steps[k].machine = pc->sysctls[i]->machine; /* the same machine in both plans (plan_diff) */
		steps[k].u.sysctl.key = xstrdup(pc->sysctls[i]->u.sysctl.key);
		steps[k].u.sysctl.value = xstrdup(pc->sysctls[i]->u.sysctl.value);
		k++;
	}
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && c[j].machine == c[i].machine)
			j++;
		steps[k].kind = STEP_NFT;
		steps[k].machine = c[i].machine;
		steps[k].u.nft.table = xstrdup(c[i].table);
		steps[k].u.nft.ruleset = machine_batch(c + i, j - i);
		k++;
		i = j;
	}
	/* The running lab's machines, with these steps alone. */
	struct plan batch = l->plan;
	batch.steps = steps;
	batch.n_steps = k;
	struct exec_ctx ctx;
	exec_ctx_init(&ctx, &batch, l->netns);
	struct steps_walk walk = {.threads = n > 1 ? (unsigned)n : 0};
	int rc = steps_apply(&ctx, &walk, e);
	/* The gateway's routes once the nodes' rules take their addresses. */
	for (size_t i = 0; rc == 0 && i < pc->n_routes; i++) {
		const struct plan_route_change *r = &pc->routes[i];
		rc = step_route_change(&ctx, r->new ? r->new : r->old, !r->new, e);
	}
	exec_ctx_close(&ctx);
	for (size_t i = 0; i < k; i++) {
		if (steps[i].kind == STEP_SYSCTL) {
			free(steps[i].u.sysctl.key);
			free(steps[i].u.sysctl.value);
		} else {
			free(steps[i].u.nft.table);
			free(steps[i].u.nft.ruleset);
		}
	}
	free(steps);
	return rc;
}

int lab_objects_write(const struct lab_dir *d, const char *text, struct tb_err *e)
{
	autofree char *path = lab_path(d, OBJECTS_FILE);
	return write_file_atomic(path, text, strlen(text), e);
}

int lab_objects_save(const struct live_lab *l, const char *text, struct tb_err *e)
{
	return lab_objects_write(&l->dir, text, e);
}

void lab_apply_undo(struct live_lab *l, const struct plan_changes *c, const char *who)
{
	struct plan_changes back = {.tables = xcalloc(c->n_tables + 1, sizeof(*back.tables)), .n_tables = c->n_tables,
				    .routes = xcalloc(c->n_routes + 1, sizeof(*back.routes)), .n_routes = c->n_routes};
	/* Routes back as the saved plan has them: each change reversed,
	 * which holds whether or not it was made (replace; delete of none). */
	for (size_t i = 0; i < c->n_routes; i++)
		back.routes[i] = (struct plan_route_change){c->routes[i].new, c->routes[i].old};
	for (size_t i = 0; i < c->n_tables; i++) {
		back.tables[i] = (struct plan_nft_change){c->tables[i].machine, c->tables[i].table, NULL};
		for (size_t k = 0; k < l->plan.n_steps; k++) {
			const struct step *s = &l->plan.steps[k];
			if (s->kind == STEP_NFT && s->machine == c->tables[i].machine &&
			    strcmp(s->u.nft.table, c->tables[i].table) == 0)
				back.tables[i].ruleset = s->u.nft.ruleset;
		}
	}
	struct tb_err e;
	if (lab_apply_changes(l, &back, &e) < 0)
		fprintf(stderr, "testbed %s: putting the old rules back: %s; bring the lab down and up\n", who, e.msg);
	free(back.tables);
	free(back.routes);
}
