/* What every command shares: one option table, usage lines, messages. */
#define _GNU_SOURCE
#include "cli/commands.h"

#include "cli/compile.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>

enum { OPT_HELP = 'h', OPT_QUIET = 'q', OPT_VERBOSE = 'v', OPT_LONG = 256 };

static const struct {
	struct option opt;
	unsigned bit; /* 0: every command has it */
} table[] = {
	{{"help", no_argument, NULL, OPT_HELP}, 0},
	{{"state-dir", required_argument, NULL, OPT_LONG + 0}, CLI_STATE_DIR},
	{{"timeout", required_argument, NULL, OPT_LONG + 1}, CLI_TIMEOUT},
	{{"json", no_argument, NULL, OPT_LONG + 2}, CLI_JSON},
	{{"quiet", no_argument, NULL, OPT_QUIET}, CLI_QUIET},
	{{"format", required_argument, NULL, OPT_LONG + 4}, CLI_FORMAT},
	{{"output", required_argument, NULL, OPT_LONG + 5}, CLI_OUTPUT},
	{{"retries", required_argument, NULL, OPT_LONG + 6}, CLI_RETRIES},
	{{"parallel", required_argument, NULL, OPT_LONG + 7}, CLI_PARALLEL},
	{{"verbose", no_argument, NULL, OPT_VERBOSE}, CLI_VERBOSE},
	{{"all", no_argument, NULL, OPT_LONG + 9}, CLI_ALL},
	{{"dry-run", no_argument, NULL, OPT_LONG + 10}, CLI_DRY_RUN},
	{{"expect", required_argument, NULL, OPT_LONG + 11}, CLI_EXPECT},
	{{"explain", no_argument, NULL, OPT_LONG + 12}, CLI_EXPLAIN},
};

void command_usage(const struct command *cmd, FILE *out)
{
	fprintf(out, "Usage: testbed %s [--help] %s\n\n%s", cmd->name, cmd->args, cmd->help);
}

int command_usage_error(const struct command *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "testbed %s: ", cmd->name);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nUsage: testbed %s [--help] %s\n", cmd->name, cmd->args);
	return TB_EXIT_USAGE;
}

int command_fail(const struct command *cmd, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	autofree char *message = xvasprintf(fmt, ap);
	va_end(ap);
	/* Failures quote names, paths and records (a state file someone may
	 * have edited, an image's contents): escaped, one line. */
	autofree char *safe = str_escape(message);
	fprintf(stderr, "testbed %s: %s\n", cmd->name, safe);
	return rc;
}

int command_compile_noting(const char *file, struct plan *p, FILE *notes)
{
	struct diag d;
	diag_init(&d, file);
	int rc = compile_topology_file(file, p, &d) < 0 ? TB_EXIT_USAGE : TB_EXIT_OK;
	diag_print(&d, stderr);
	for (size_t i = 0; notes && rc == TB_EXIT_OK && i < d.n_notes; i++)
		fprintf(notes, "note: %s\n", d.notes[i]);
	diag_free(&d);
	return rc;
}

int command_compile(const char *file, struct plan *p)
{
	return command_compile_noting(file, p, NULL);
}

static int unknown_option(const struct command *cmd, const char *arg)
{
	return command_usage_error(cmd, "unknown option '%s'", arg);
}

int command_run(const struct command *cmd, int argc, char **argv)
{
	struct option options[ARRAY_SIZE(table) + 1] = {0};
	size_t n = 0;
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)
		if (!table[i].bit || (cmd->options & table[i].bit))
			options[n++] = table[i].opt;
	char shorts[8] = "+h", *sp = shorts + 2;
	if (cmd->options & CLI_QUIET)
		*sp++ = 'q';
	if (cmd->options & CLI_VERBOSE)
		*sp++ = 'v';
	struct cli_options o = {0};
	optind = 1;
	opterr = 0;
	int c;
	/* Options may follow operands, except for exec, whose command keeps
	 * its own options. */
	while ((c = getopt_long(argc, argv, cmd->stop_at_operand ? shorts : shorts + 1, options, NULL)) != -1) {
		switch (c) {
		case OPT_HELP:
			command_usage(cmd, stdout);
			return TB_EXIT_OK;
		case OPT_LONG + 0:
			o.state_dir = optarg;
			break;
		case OPT_LONG + 1:
			o.timeout = optarg;
			break;
		case OPT_LONG + 2:
			o.json = true;
			break;
		case OPT_QUIET:
			o.quiet = true;
			break;
		case OPT_LONG + 4:
			o.format = optarg;
			break;
		case OPT_LONG + 5:
			o.output = optarg;
			break;
		case OPT_LONG + 6:
			o.retries = optarg;
			break;
		case OPT_LONG + 7:
			o.parallel = optarg;
			break;
		case OPT_VERBOSE:
			o.verbose = true;
			break;
		case OPT_LONG + 9:
			o.all = true;
			break;
		case OPT_LONG + 10:
			o.dry_run = true;
			break;
		case OPT_LONG + 11:
			o.expect = optarg;
			break;
		case OPT_LONG + 12:
			o.explain = true;
			break;
		default:
			return unknown_option(cmd, argv[optind - 1]);
		}
	}
	return cmd->run(cmd, &o, argc - optind, argv + optind);
}
