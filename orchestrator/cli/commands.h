/* The CLI's command table entries and what they share: one option table for
 * every command, parsed once (commands.c); each command names the options
 * it takes. Only the cmd_* files print and choose exit codes. */
#ifndef TESTBED_COMMANDS_H
#define TESTBED_COMMANDS_H

#include <stdbool.h>
#include <stdio.h>

#include "util/util.h"

enum cli_option {
	CLI_STATE_DIR = 1 << 0,
	CLI_TIMEOUT = 1 << 1,
	CLI_JSON = 1 << 2,
	CLI_QUIET = 1 << 3,
	CLI_FORMAT = 1 << 4,
	CLI_OUTPUT = 1 << 5,
	CLI_RETRIES = 1 << 6,
	CLI_PARALLEL = 1 << 7,
	CLI_VERBOSE = 1 << 8,
	CLI_ALL = 1 << 9,
	CLI_DRY_RUN = 1 << 10,
	CLI_EXPECT = 1 << 11,
	CLI_EXPLAIN = 1 << 12,
};

/* Values as given; each command reads what its options mean. */
struct cli_options {
	const char *state_dir, *timeout, *format, *output, *retries, *parallel, *expect;
	bool json, quiet, verbose, all, dry_run, explain;
};

struct command {
	const char *name;
	const char *args;
	const char *summary;
	const char *help;
	unsigned options;     /* enum cli_option bits */
	bool stop_at_operand; /* exec: what follows NAME TARGET is the command's own */
	/* OPERANDS are what follows the options; returns the exit code. */
	int (*run)(const struct command *cmd, const struct cli_options *o, int n, char **operands);
};

void command_usage(const struct command *cmd, FILE *out);
/* Parses ARGV (argv[0] is the command's name) and runs the command. */
int command_run(const struct command *cmd, int argc, char **argv);
/* Prints "testbed CMD: WHAT" and the usage line; returns TB_EXIT_USAGE. */
int command_usage_error(const struct command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
struct plan;
/* The validated plan of topology FILE, or TB_EXIT_USAGE after printing
 * every error found in it. */
int command_compile(const char *file, struct plan *p);
/* The same, writing the notes the input earns (the fields of Kubernetes
 * objects the pod server stands in for) to NOTES, one "note: " line each. */
int command_compile_noting(const char *file, struct plan *p, FILE *notes);
/* Prints "testbed CMD: MESSAGE" for a failure; returns RC. */
int command_fail(const struct command *cmd, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

int cmd_validate(const struct command *cmd, const struct cli_options *o, int n, char **operands);
int cmd_up(const struct command *cmd, const struct cli_options *o, int n, char **operands);
int cmd_down(const struct command *cmd, const struct cli_options *o, int n, char **operands);
int cmd_gc(const struct command *cmd, const struct cli_options *o, int n, char **operands);
int cmd_status(const struct command *cmd, const struct cli_options *o, int n, char **operands);
int cmd_exec(const struct command *cmd, const struct cli_options *o, int n, char **operands);
int cmd_check(const struct command *cmd, const struct cli_options *o, int n, char **operands);
int cmd_apply(const struct command *cmd, const struct cli_options *o, int n, char **operands);
int cmd_delete(const struct command *cmd, const struct cli_options *o, int n, char **operands);
int cmd_trace(const struct command *cmd, const struct cli_options *o, int n, char **operands);
int cmd_plan(const struct command *cmd, const struct cli_options *o, int n, char **operands);
int cmd_images(const struct command *cmd, const struct cli_options *o, int n, char **operands);
int cmd_prune(const struct command *cmd, const struct cli_options *o, int n, char **operands);
int cmd_graph(const struct command *cmd, const struct cli_options *o, int n, char **operands);

#endif
