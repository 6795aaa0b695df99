/* testbed up | down | status | exec: what the user sees; the work is in lab.c. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/commands.h"
#include "cli/compile.h"
#include "util/diag.h"
#include "model/jsondoc.h"
#include "lab/lab_apply.h"
#include "plan/plan.h"
#include "lab/lab.h"
#include "lab/machine.h"
#include "lab/live.h"
#include "util/progress.h"
#include "model/topology.h"
#include "util/util.h"

static void print_table(const struct plan *p, const pid_t *pids)
{
	int wname = 4, wkind = 4;
	for (size_t i = 0; i < p->n_machines; i++) {
		if ((int)strlen(p->machines[i].name) > wname)
			wname = (int)strlen(p->machines[i].name);
		if ((int)strlen(machine_kind_name(p->machines[i].kind)) > wkind)
			wkind = (int)strlen(machine_kind_name(p->machines[i].kind));
	}
	printf("%-*s  %-*s  %-*s  %-15s  %s\n", wname, "NAME", wkind, "KIND", wname, "NODE", "ADDRESS", "PID");
	for (size_t i = 0; i < p->n_machines; i++) {
		const struct plan_machine *pm = &p->machines[i];
		char addr[IPV4_PREFIX_STRLEN] = "-";
		if (pm->address)
			ipv4_addr_format(pm->address, addr);
		printf("%-*s  %-*s  %-*s  %-15s  %d\n", wname, pm->name, wkind, machine_kind_name(pm->kind), wname,
		       pm->parent != PLAN_NONE ? p->machines[pm->parent].name : "-", addr, pids[i]);
	}
}

int cmd_up(const struct command *cmd, const struct cli_options *o, int n, char **operands)
{
	if (n != 1)
		return command_usage_error(cmd, "expected one topology FILE");
	int timeout_s = 30;
	if (o->timeout) {
		char *end;
		long v = strtol(o->timeout, &end, 10);
		if (*end || end == o->timeout || v < 1 || v > 3600)
			return command_usage_error(cmd, "--timeout: expected seconds from 1 to 3600");
		timeout_s = (int)v;
	}
	/* Before anything else: a state root up cannot use fails nothing half-made. */
	struct tb_err e;
	if (state_root_mountable(state_root(o->state_dir), &e) < 0)
		return command_fail(cmd, TB_EXIT_USAGE, "%s", e.msg);
	/* Before the topology is read: every machine is a copy of the spawner
	 * (machine.c), and what a copy costs grows with the memory copied. */
	if (geteuid() == 0 && machine_spawner_start(&e) < 0)
		return command_fail(cmd, TB_EXIT_SYSTEM, "%s", e.msg);
	/* The plan, and the objects as read now for `apply` later: from one
	 * reading of the file (standard input cannot be read twice). */
	struct plan p;
	struct diag d;
	diag_init(&d, operands[0]);
	cJSON *source, *where;
	autofree char *dir = NULL;
	bool failed = compile_topology_file_source(operands[0], &p, &source, &where, &dir, &d) < 0;
	diag_print(&d, stderr);
	diag_free(&d);
	if (failed) {
		machine_spawner_stop();
		return TB_EXIT_USAGE;
	}
	autofree char *objects = lab_objects_text(source, where, dir);
	if (geteuid() != 0) {
		plan_free(&p);
		return command_fail(cmd, TB_EXIT_USAGE, "needs root: it creates namespaces, links and mounts");
	}
	pid_t *pids;
	struct progress progress;
	progress_init_for_terminal(&progress, stderr, o->quiet);
	int rc = lab_up(&p, objects, o->state_dir, timeout_s, &progress, &pids, &e);
	/* The table or the error starts on a clean line. */
	progress_clear(&progress);
	machine_spawner_stop();
	if (rc != TB_EXIT_OK)
		command_fail(cmd, rc, "%s", e.msg);
	else if (!o->quiet)
		print_table(&p, pids);
	free(pids);
	plan_free(&p);
	return rc;
}

static int down_one(const struct command *cmd, const char *name, const char *state_dir)
{
	struct down_result res;
	struct tb_err e;
	int rc = lab_down(name, state_dir, &res, &e);
	if (rc != TB_EXIT_OK)
		return command_fail(cmd, rc, "%s: %s", name, e.msg);
	if (!res.was_up)
		printf("lab %s is not up: nothing to do\n", name);
	else if (res.by_cgroup)
		printf("lab %s is down\n", name);
	else
		printf("lab %s is down (no cgroup2 here: its recorded machines were ended by PID)\n", name);
	return TB_EXIT_OK;
}

/* down --all and gc: every lab, or those whose up died, from their state
 * and their cgroups alone. */
static int down_many(const struct command *cmd, const char *state_dir, bool all)
{
	char **names;
	size_t n;
	struct tb_err e;
	int rc = lab_list_removable(state_dir, all, &names, &n, &e);
	if (rc != TB_EXIT_OK)
		return command_fail(cmd, rc, "%s", e.msg);
	if (n == 0)
		printf("%s\n", all ? "no labs are up: nothing to do" : "no lab to collect");
	for (size_t i = 0; i < n; i++) {
		int one = down_one(cmd, names[i], state_dir);
		if (one != TB_EXIT_OK)
			rc = one;
		free(names[i]);
	}
	free(names);
	return rc;
}

int cmd_down(const struct command *cmd, const struct cli_options *o, int n, char **operands)
{
	if (o->all) {
		if (n != 0)
			return command_usage_error(cmd, "--all takes no lab NAME");
		return down_many(cmd, o->state_dir, true);
	}
	if (n != 1)
		return command_usage_error(cmd, "expected a lab NAME or its topology FILE");
	struct tb_err e;
	autofree char *name = lab_name_from_arg(operands[0], &e);
	if (!name)
		return command_fail(cmd, TB_EXIT_USAGE, "%s", e.msg);
	return down_one(cmd, name, o->state_dir);
}

int cmd_gc(const struct command *cmd, const struct cli_options *o, int n, char **operands)
{
	(void)operands;
	if (n != 0)
		return command_usage_error(cmd, "expected no operands");
	return down_many(cmd, o->state_dir, false);
}

/* What the saved plan tells of how the lab was built, for status --json
 * and check reports: testbed's version, each image's sha256, the phases' times. */
static cJSON *plan_summary_json(const struct lab_status *s)
{
	cJSON *o = cJSON_CreateObject();
	if (!s->has_plan) {
		cJSON_AddStringToObject(o, "error", s->plan_error);
		return o;
	}
	autofree char *text = plan_to_json(&s->plan, true);
	cJSON *full = cJSON_Parse(text);
	const char *keep[] = {"format", "testbed", "routing", "images", "timings"};
	for (size_t i = 0; i < ARRAY_SIZE(keep); i++) {
		cJSON *item = cJSON_DetachItemFromObjectCaseSensitive(full, keep[i]);
		if (item)
			cJSON_AddItemToObject(o, keep[i], item);
	}
	cJSON_Delete(full);
	return o;
}

static void status_json_lab(cJSON *labs, const struct lab_status *s)
{
	const struct lab_record *r = &s->record;
	cJSON *lab = cJSON_CreateObject();
	cJSON_AddStringToObject(lab, "name", r->name);
	cJSON_AddStringToObject(lab, "phase", r->phase);
	cJSON_AddStringToObject(lab, "topology", r->topology);
	cJSON_AddItemToObject(lab, "plan", plan_summary_json(s));
	cJSON *machines = cJSON_AddArrayToObject(lab, "machines");
	for (size_t i = 0; i < r->n_machines; i++) {
		const struct machine_record *m = &r->machines[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", m->name);
		cJSON_AddStringToObject(o, "kind", m->kind);
		if (*m->node)
			cJSON_AddStringToObject(o, "node", m->node);
		else
			cJSON_AddNullToObject(o, "node");
		if (*m->address)
			cJSON_AddStringToObject(o, "address", m->address);
		else
			cJSON_AddNullToObject(o, "address");
		if (m->http_port)
			cJSON_AddNumberToObject(o, "http", m->http_port);
		else
			cJSON_AddFalseToObject(o, "http");
		cJSON_AddNumberToObject(o, "pid", m->pid);
		cJSON_AddBoolToObject(o, "running", machine_record_alive(m));
		cJSON_AddItemToArray(machines, o);
	}
	cJSON_AddItemToArray(labs, lab);
}

/* The records are files under the state directory that someone may have
 * edited: every field is escaped before it reaches the terminal. */
struct shown_machine {
	char *name, *kind, *node, *address;
};

static void status_text_lab(const struct lab_status *s)
{
	const struct lab_record *r = &s->record;
	autofree char *lab = str_escape(r->name), *phase = str_escape(r->phase), *topology = str_escape(r->topology);
	printf("lab %s: %s (%s)\n", lab, phase, topology);
	if (!s->has_plan) {
		autofree char *why = str_escape(s->plan_error);
		printf("  plan: %s\n", why);
	}
	autofree struct shown_machine *shown = xcalloc(r->n_machines, sizeof(*shown));
	int wname = 4, wkind = 4;
	for (size_t i = 0; i < r->n_machines; i++) {
		const struct machine_record *m = &r->machines[i];
		shown[i] = (struct shown_machine){str_escape(m->name), str_escape(m->kind),
						  str_escape(*m->node ? m->node : "-"),
						  str_escape(*m->address ? m->address : "-")};
		if ((int)strlen(shown[i].name) > wname)
			wname = (int)strlen(shown[i].name);
		if ((int)strlen(shown[i].kind) > wkind)
			wkind = (int)strlen(shown[i].kind);
	}
	printf("  %-*s  %-*s  %-*s  %-15s  %-5s  %-7s  %s\n", wname, "NAME", wkind, "KIND", wname, "NODE", "ADDRESS",
	       "HTTP", "PID", "STATE");
	for (size_t i = 0; i < r->n_machines; i++) {
		const struct machine_record *m = &r->machines[i];
		struct shown_machine *sh = &shown[i];
		char http[8] = "-";
		if (m->http_port)
			snprintf(http, sizeof(http), "%d", m->http_port);
		printf("  %-*s  %-*s  %-*s  %-15s  %-5s  %-7d  %s\n", wname, sh->name, wkind, sh->kind, wname, sh->node,
		       sh->address, http, m->pid, machine_record_alive(m) ? "running" : "dead");
		free(sh->name);
		free(sh->kind);
		free(sh->node);
		free(sh->address);
	}
}

int cmd_status(const struct command *cmd, const struct cli_options *o, int n, char **operands)
{
	if (n > 1)
		return command_usage_error(cmd, "expected at most one lab NAME");
	const char *name = n == 1 ? operands[0] : NULL;
	if (name && !topology_is_lab_name(name))
		return command_fail(cmd, TB_EXIT_USAGE, "\"%s\" is not a lab name", name);
	struct lab_status *labs;
	size_t count;
	struct tb_err e;
	int rc = lab_status_read(name, o->state_dir, &labs, &count, &e);
	if (rc != TB_EXIT_OK) {
		lab_status_free(labs, count);
		return command_fail(cmd, rc, "%s", e.msg);
	}
	/* A named lab saved by an incompatible testbed is refused, naming both. */
	if (name && count == 1 && !labs[0].has_plan && strcmp(labs[0].record.phase, "up") == 0) {
		command_fail(cmd, TB_EXIT_USAGE, "lab %s: %s", name, labs[0].plan_error);
		lab_status_free(labs, count);
		return TB_EXIT_USAGE;
	}
	if (o->json) {
		cJSON *doc = cJSON_CreateObject();
		cJSON *list = cJSON_AddArrayToObject(doc, "labs");
		for (size_t i = 0; i < count; i++)
			status_json_lab(list, &labs[i]);
		char *text = cJSON_Print(doc);
		printf("%s\n", text);
		cJSON_free(text);
		cJSON_Delete(doc);
	} else {
		for (size_t i = 0; i < count; i++)
			status_text_lab(&labs[i]);
		if (count == 0)
			printf("no labs are up\n");
	}
	lab_status_free(labs, count);
	return TB_EXIT_OK;
}

int cmd_exec(const struct command *cmd, const struct cli_options *o, int n, char **operands)
{
	if (n < 2)
		return command_usage_error(cmd, "expected a lab NAME and a TARGET");
	char **command = operands + 2;
	if (command[0] && strcmp(command[0], "--") == 0)
		command++;
	struct tb_err e = {.msg = ""};
	int rc = lab_exec(operands[0], operands[1], command, o->state_dir, &e);
	if (e.msg[0])
		command_fail(cmd, rc, "%s", e.msg);
	return rc;
}
