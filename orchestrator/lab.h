/* Lab lifecycle: up, down, status, exec. Each returns an exit code
 * (enum tb_exit) after printing what happened. */
#ifndef TESTBED_LAB_H
#define TESTBED_LAB_H

#include <stdbool.h>

struct lab_options {
	const char *state_dir; /* NULL: TESTBED_STATE_DIR or /run/testbed */
	int timeout_s;         /* up: how long servers may take to listen */
	bool json;             /* status */
	bool quiet;            /* up: no table */
};

int lab_up(const char *file, const struct lab_options *o);
int lab_down(const char *file_or_name, const struct lab_options *o);
int lab_status(const char *name, const struct lab_options *o);
int lab_exec(const char *name, const char *target, char **argv, const struct lab_options *o);

#endif
