/* The command-line interface: one table of commands, each with its help,
 * and the dispatch. Commands live in their own files; this one only holds
 * what every command shares. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "util.h"

#ifndef TESTBED_VERSION
#define TESTBED_VERSION "unknown"
#endif

static const struct command commands[] = {
	{
		.name = "validate",
		.args = "FILE",
		.summary = "check a topology file; touches nothing, needs no root",
		.help = "Parse and validate the topology FILE and assign its addresses, as `up` would,\n"
			"without touching the system. Prints `ok: N nodes, M pods, K hosts` on success;\n"
			"otherwise every error found, one a line, as FILE:LINE: PATH: MESSAGE.\n",
		.run = cmd_validate,
	},
};

static void print_usage(FILE *out)
{
	fprintf(out,
		"Usage: testbed [--help] [--version] COMMAND [ARGS]\n"
		"\n"
		"testbed builds Kubernetes-style network labs out of Linux namespaces\n"
		"and proves what can reach what.\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-10s %-6s %s\n", commands[i].name, commands[i].args, commands[i].summary);
	fprintf(out,
		"\n"
		"Run `testbed COMMAND --help` for a command's options.\n"
		"Exit codes: 0 ok, 1 expectations failed, 2 bad input or usage, 3 system failure.\n"
		"The topology format is described in docs/topology.md.\n");
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		print_usage(stderr);
		return TB_EXIT_USAGE;
	}
	const char *first = argv[1];
	if (strcmp(first, "--help") == 0 || strcmp(first, "-h") == 0) {
		print_usage(stdout);
		return TB_EXIT_OK;
	}
	if (strcmp(first, "--version") == 0 || strcmp(first, "-V") == 0) {
		printf("testbed %s\n", TESTBED_VERSION);
		return TB_EXIT_OK;
	}
	if (strcmp(first, "help") == 0) {
		if (argc < 3) {
			print_usage(stdout);
			return TB_EXIT_OK;
		}
		const struct command *cmd = find_command(argv[2]);
		if (!cmd) {
			fprintf(stderr, "testbed: unknown command '%s'; see testbed --help\n", argv[2]);
			return TB_EXIT_USAGE;
		}
		command_usage(cmd, stdout);
		return TB_EXIT_OK;
	}
	const struct command *cmd = find_command(first);
	if (!cmd) {
		fprintf(stderr, "testbed: unknown %s '%s'; see testbed --help\n", first[0] == '-' ? "option" : "command",
			first);
		return TB_EXIT_USAGE;
	}
	return cmd->run(cmd, argc - 1, argv + 1);
}
