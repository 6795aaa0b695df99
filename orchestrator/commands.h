/* The CLI's command table entries and what they share. */
#ifndef TESTBED_COMMANDS_H
#define TESTBED_COMMANDS_H

#include <stdio.h>

struct command {
	const char *name;
	const char *args;
	const char *summary;
	const char *help;
	/* argv[0] is the command's name; returns the exit code. */
	int (*run)(const struct command *cmd, int argc, char **argv);
};

void command_usage(const struct command *cmd, FILE *out);
int command_parse_common(const struct command *cmd, int argc, char **argv);
/* After getopt_long returned '?': names the option and shows the usage line. */
void command_unknown_option(const struct command *cmd, char **argv);

int cmd_validate(const struct command *cmd, int argc, char **argv);
int cmd_up(const struct command *cmd, int argc, char **argv);
int cmd_down(const struct command *cmd, int argc, char **argv);
int cmd_status(const struct command *cmd, int argc, char **argv);
int cmd_exec(const struct command *cmd, int argc, char **argv);
int cmd_check(const struct command *cmd, int argc, char **argv);
int cmd_trace(const struct command *cmd, int argc, char **argv);

#endif
