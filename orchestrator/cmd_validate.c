/* testbed validate FILE */
#include <stdio.h>

#include "commands.h"
#include "diag.h"
#include "topology.h"
#include "util.h"

int cmd_validate(const struct command *cmd, int argc, char **argv)
{
	int first = command_parse_common(cmd, argc, argv);
	if (first == -1)
		return TB_EXIT_OK;
	if (first < 0)
		return TB_EXIT_USAGE;
	if (argc - first != 1) {
		fprintf(stderr, "testbed validate: expected one topology FILE\n");
		fprintf(stderr, "Usage: testbed %s [--help] %s\n", cmd->name, cmd->args);
		return TB_EXIT_USAGE;
	}
	struct diag d;
	diag_init(&d, argv[first]);
	struct tb_topology *t = topology_load(argv[first], &d);
	if (!t) {
		diag_print(&d, stderr);
		diag_free(&d);
		return TB_EXIT_USAGE;
	}
	/* A fixed shape, always plural: scripts read this line. */
	printf("ok: %zu nodes, %zu pods, %zu hosts\n", t->n_nodes, t->n_pods, t->n_hosts);
	topology_free(t);
	diag_free(&d);
	return TB_EXIT_OK;
}
