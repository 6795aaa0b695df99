/* testbed graph FILE|NAME [--format mermaid|dot] */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "plan/graph.h"
#include "cli/cmd_plan.h"
#include "util/util.h"

int cmd_graph(const struct command *cmd, const struct cli_options *o, int n, char **operands)
{
	if (n != 1)
		return command_usage_error(cmd, "expected a lab NAME or a topology FILE");
	const char *format = o->format ? o->format : "mermaid";
	enum graph_format f;
	if (strcmp(format, "mermaid") == 0)
		f = GRAPH_MERMAID;
	else if (strcmp(format, "dot") == 0)
		f = GRAPH_DOT;
	else
		return command_usage_error(cmd, "--format: \"%s\": expected mermaid or dot", format);
	struct plan p;
	bool saved;
	int rc = plan_for_arg(cmd, operands[0], o->state_dir, &p, &saved);
	if (rc != TB_EXIT_OK)
		return rc;
	graph_write(stdout, f, &p);
	plan_free(&p);
	return fflush(stdout) == 0 ? TB_EXIT_OK : command_fail(cmd, TB_EXIT_SYSTEM, "writing: %m");
}
