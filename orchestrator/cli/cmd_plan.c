/* testbed plan FILE|NAME [--format sh|json], and what plan and graph share:
 * the plan of a running lab, or of a topology file. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "plan/plan.h"
#include "cli/cmd_plan.h"
#include "lab/live.h"
#include "plan/plan_render.h"
#include "model/topology.h"
#include "util/util.h"

int plan_for_arg(const struct command *cmd, const char *arg, const char *state_dir, struct plan *p, bool *saved)
{
	*saved = topology_is_lab_name(arg);
	if (*saved) {
		struct live_lab l;
		struct tb_err e;
		int rc = live_open(arg, state_dir, false, &l, &e);
		if (rc != TB_EXIT_OK)
			return command_fail(cmd, rc, "%s", e.msg);
		*p = l.plan;
		l.plan = (struct plan){0};
		live_close(&l);
		return TB_EXIT_OK;
	}
	return command_compile(arg, p);
}

int cmd_plan(const struct command *cmd, const struct cli_options *o, int n, char **operands)
{
	if (n != 1)
		return command_usage_error(cmd, "expected a lab NAME or a topology FILE");
	const char *format = o->format ? o->format : "sh";
	if (strcmp(format, "sh") != 0 && strcmp(format, "json") != 0)
		return command_usage_error(cmd, "--format: \"%s\": expected sh or json", format);
	struct plan p;
	bool saved;
	int rc = plan_for_arg(cmd, operands[0], o->state_dir, &p, &saved);
	if (rc != TB_EXIT_OK)
		return rc;
	if (strcmp(format, "json") == 0) {
		autofree char *text = plan_to_json(&p, saved);
		printf("%s\n", text);
	} else {
		plan_render_sh(&p, stdout);
	}
	plan_free(&p);
	return fflush(stdout) == 0 ? TB_EXIT_OK : command_fail(cmd, TB_EXIT_SYSTEM, "writing: %m");
}
