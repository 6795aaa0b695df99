/* What every command shares: usage lines and common option parsing. */
#define _GNU_SOURCE
#include "commands.h"

#include <getopt.h>
#include <stdio.h>

void command_usage(const struct command *cmd, FILE *out)
{
	fprintf(out, "Usage: testbed %s [--help] %s\n\n%s", cmd->name, cmd->args, cmd->help);
}

/* Handles the options every command has (--help) and returns the index of
 * the first operand, or -1 after printing help (exit 0), or -2 on a usage
 * error (already reported). Commands with their own options parse them in
 * their own files with the same conventions. */
int command_parse_common(const struct command *cmd, int argc, char **argv)
{
	static const struct option options[] = {
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			command_usage(cmd, stdout);
			return -1;
		default:
			command_unknown_option(cmd, argv);
			return -2;
		}
	}
	return optind;
}

void command_unknown_option(const struct command *cmd, char **argv)
{
	fprintf(stderr, "testbed %s: unknown option '%s'\n", cmd->name, argv[optind - 1]);
	fprintf(stderr, "Usage: testbed %s [--help] %s\n", cmd->name, cmd->args);
}
