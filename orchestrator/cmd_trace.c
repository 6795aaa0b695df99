/* testbed trace NAME FROM TO */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "live.h"
#include "trace.h"
#include "util.h"

enum { OPT_STATE_DIR = 256, OPT_JSON };

int cmd_trace(const struct command *cmd, int argc, char **argv)
{
	static const struct option options[] = {
		{"help", no_argument, NULL, 'h'},
		{"state-dir", required_argument, NULL, OPT_STATE_DIR},
		{"json", no_argument, NULL, OPT_JSON},
		{0},
	};
	const char *state_dir = NULL;
	bool json = false;
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			command_usage(cmd, stdout);
			return TB_EXIT_OK;
		case OPT_STATE_DIR:
			state_dir = optarg;
			break;
		case OPT_JSON:
			json = true;
			break;
		default:
			command_unknown_option(cmd, argv);
			return TB_EXIT_USAGE;
		}
	}
	if (argc - optind != 3) {
		fprintf(stderr, "testbed trace: expected a lab NAME, FROM and TO\n");
		fprintf(stderr, "Usage: testbed %s [--help] %s\n", cmd->name, cmd->args);
		return TB_EXIT_USAGE;
	}
	const char *name = argv[optind], *from_name = argv[optind + 1], *to_name = argv[optind + 2];
	if (!topology_is_lab_name(name)) {
		fprintf(stderr, "testbed trace: \"%s\" is not a lab name\n", name);
		return TB_EXIT_USAGE;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "testbed trace: needs root: it looks into the lab's namespaces\n");
		return TB_EXIT_USAGE;
	}
	struct live_lab l;
	struct tb_err e;
	int rc = live_open(name, state_dir, &l, &e);
	if (rc != TB_EXIT_OK) {
		fprintf(stderr, "testbed trace: %s\n", e.msg);
		return rc;
	}
	size_t from = plan_find(&l.plan, from_name), to = plan_find(&l.plan, to_name);
	const char *unknown = from == PLAN_NONE ? from_name : to == PLAN_NONE ? to_name : NULL;
	if (unknown || strcmp(from_name, "lab") == 0 || strcmp(to_name, "lab") == 0) {
		fprintf(stderr, "testbed trace: lab %s has no pod, node, host or gateway \"%s\"\n", name,
			unknown ? unknown : "lab");
		live_close(&l);
		return TB_EXIT_USAGE;
	}
	uint32_t dst = l.plan.machines[to].address;
	if (!dst) {
		fprintf(stderr, "testbed trace: %s has no address to trace a packet to\n", to_name);
		live_close(&l);
		return TB_EXIT_USAGE;
	}
	struct trace *t = xmalloc(sizeof(*t));
	if (trace_run(&l, from, dst, t, &e) < 0) {
		fprintf(stderr, "testbed trace: %s: %s\n", name, e.msg);
		rc = TB_EXIT_SYSTEM;
	} else if (json) {
		trace_print_json(stdout, &l, t, to_name);
	} else {
		trace_print_text(stdout, &l, t, to_name);
	}
	free(t);
	live_close(&l);
	return rc;
}
