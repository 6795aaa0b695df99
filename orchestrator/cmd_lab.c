/* testbed up | down | status | exec: option parsing; the work is in lab.c. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "lab.h"
#include "util.h"

enum { OPT_STATE_DIR = 256, OPT_TIMEOUT, OPT_JSON, OPT_QUIET };

/* Parses the options of every lab command; returns the index of the first
 * operand, -1 after --help, -2 on a usage error. */
static int parse_options(const struct command *cmd, int argc, char **argv, struct lab_options *o)
{
	static const struct option options[] = {
		{"help", no_argument, NULL, 'h'},
		{"state-dir", required_argument, NULL, OPT_STATE_DIR},
		{"timeout", required_argument, NULL, OPT_TIMEOUT},
		{"json", no_argument, NULL, OPT_JSON},
		{"quiet", no_argument, NULL, OPT_QUIET},
		{0},
	};
	*o = (struct lab_options){.timeout_s = 30};
	optind = 1;
	opterr = 0;
	int c;
	/* '+': stop at the first operand, so exec's command keeps its options. */
	while ((c = getopt_long(argc, argv, "+hq", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			command_usage(cmd, stdout);
			return -1;
		case OPT_STATE_DIR:
			o->state_dir = optarg;
			break;
		case OPT_TIMEOUT: {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 3600) {
				fprintf(stderr, "testbed %s: --timeout: expected seconds from 1 to 3600\n", cmd->name);
				return -2;
			}
			o->timeout_s = (int)v;
			break;
		}
		case OPT_JSON:
			o->json = true;
			break;
		case 'q':
		case OPT_QUIET:
			o->quiet = true;
			break;
		default:
			command_unknown_option(cmd, argv);
			return -2;
		}
	}
	return optind;
}

static int usage_error(const struct command *cmd, const char *what)
{
	fprintf(stderr, "testbed %s: %s\n", cmd->name, what);
	fprintf(stderr, "Usage: testbed %s [--help] %s\n", cmd->name, cmd->args);
	return TB_EXIT_USAGE;
}

int cmd_up(const struct command *cmd, int argc, char **argv)
{
	struct lab_options o;
	int first = parse_options(cmd, argc, argv, &o);
	if (first < 0)
		return first == -1 ? TB_EXIT_OK : TB_EXIT_USAGE;
	if (o.json)
		return usage_error(cmd, "--json is an option of status");
	if (argc - first != 1)
		return usage_error(cmd, "expected one topology FILE");
	return lab_up(argv[first], &o);
}

int cmd_down(const struct command *cmd, int argc, char **argv)
{
	struct lab_options o;
	int first = parse_options(cmd, argc, argv, &o);
	if (first < 0)
		return first == -1 ? TB_EXIT_OK : TB_EXIT_USAGE;
	if (argc - first != 1)
		return usage_error(cmd, "expected a lab NAME or its topology FILE");
	return lab_down(argv[first], &o);
}

int cmd_status(const struct command *cmd, int argc, char **argv)
{
	struct lab_options o;
	int first = parse_options(cmd, argc, argv, &o);
	if (first < 0)
		return first == -1 ? TB_EXIT_OK : TB_EXIT_USAGE;
	if (argc - first > 1)
		return usage_error(cmd, "expected at most one lab NAME");
	return lab_status(argc - first == 1 ? argv[first] : NULL, &o);
}

int cmd_exec(const struct command *cmd, int argc, char **argv)
{
	struct lab_options o;
	int first = parse_options(cmd, argc, argv, &o);
	if (first < 0)
		return first == -1 ? TB_EXIT_OK : TB_EXIT_USAGE;
	if (argc - first < 2)
		return usage_error(cmd, "expected a lab NAME and a TARGET");
	char **command = argv + first + 2;
	if (command[0] && strcmp(command[0], "--") == 0)
		command++;
	return lab_exec(argv[first], argv[first + 1], command, &o);
}
