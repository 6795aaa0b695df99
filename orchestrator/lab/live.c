/* Opening a running lab for a look inside. */
#define _GNU_SOURCE
#include "lab/live.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "lab/cgroup.h"
#include "model/jsondoc.h"
#include "lab/machine.h"
#include "model/topology.h"

int live_open(const char *name, const char *state_dir, bool netns, struct live_lab *l, struct tb_err *e)
{
	*l = (struct live_lab){.dir = {.fd = -1}};
	int locked = lab_dir_lock(state_root(state_dir), name, false, &l->dir, e);
	if (locked < 0)
		return TB_EXIT_SYSTEM;
	if (locked == 0) {
		tb_fail(e, "lab %s is not up", name);
		return TB_EXIT_USAGE;
	}
	if (lab_read(l->dir.path, &l->record, e) < 0 || strcmp(l->record.phase, "up") != 0) {
		tb_fail(e, "lab %s is not up (its state says it was interrupted; testbed down %s cleans up)", name,
			name);
		live_close(l);
		return TB_EXIT_USAGE;
	}
	if (lab_load_plan(l->dir.path, &l->plan, e) < 0) {
		tb_context(e, "lab %s", name);
		live_close(l);
		return TB_EXIT_USAGE;
	}
	if (!netns)
		return TB_EXIT_OK;
	struct lab_cgroup cg;
	if (lab_cgroup_open(name, state_root(state_dir), false, &cg, e) < 0) {
		live_close(l);
		return TB_EXIT_SYSTEM;
	}
	l->netns = xcalloc(l->plan.n_machines, sizeof(*l->netns));
	for (size_t i = 0; i < l->plan.n_machines; i++) {
		l->netns[i] = -1;
		const struct machine_record *m = NULL;
		for (size_t k = 0; k < l->record.n_machines; k++)
			if (strcmp(l->record.machines[k].name, l->plan.machines[i].name) == 0)
				m = &l->record.machines[k];
		if (!m)
			continue;
		/* Through a pidfd checked after opening, so a reused PID is never
		 * entered, and against the lab's cgroup, so a record cannot point
		 * outside the lab. */
		autoclose int pidfd = pidfd_open_pid(m->pid);
		if (pidfd < 0 || !machine_record_in_lab(m, &cg))
			continue;
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/net", m->pid);
		l->netns[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (l->netns[i] >= 0 && !machine_record_in_lab(m, &cg))
			close_fd(&l->netns[i]);
	}
	lab_cgroup_close(&cg);
	return TB_EXIT_OK;
}

void live_close(struct live_lab *l)
{
	if (l->netns)
		for (size_t i = 0; i < l->plan.n_machines; i++)
			close_fd(&l->netns[i]);
	free(l->netns);
	l->netns = NULL;
	plan_free(&l->plan);
	lab_record_free(&l->record);
	if (l->dir.fd >= 0)
		lab_dir_close(&l->dir);
}

char *lab_name_from_arg(const char *arg, struct tb_err *e)
{
	if (topology_is_lab_name(arg))
		return xstrdup(arg);
	/* The file is read again later (check compares it with the lab), and
	 * standard input can be read only once. */
	if (strcmp(arg, JSON_DOC_STDIN) == 0) {
		tb_fail(e, "\"-\": name the lab or its topology file; standard input is read only by validate, "
			   "up, plan and graph");
		return NULL;
	}
	if (strchr(arg, '/') || strstr(arg, ".json")) {
		struct tb_err why;
		autofree char *text = json_doc_read(arg, NULL, &why);
		if (!text) {
			tb_fail(e, "%s: %s", arg, why.msg);
			return NULL;
		}
		cJSON *doc = cJSON_Parse(text);
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(doc, "name");
		char *result = NULL;
		if (cJSON_IsString(name) && topology_is_lab_name(name->valuestring))
			result = xstrdup(name->valuestring);
		else
			tb_fail(e, "%s: no valid lab \"name\"", arg);
		cJSON_Delete(doc);
		return result;
	}
	tb_fail(e, "\"%s\" is neither a lab name nor a topology file", arg);
	return NULL;
}
