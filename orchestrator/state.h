/* Lab state: STATE_ROOT/NAME/ (default /run/testbed, or --state-dir, or
 * TESTBED_STATE_DIR) holds
 *   lab.json        the lab: name, topology file, phase ("starting", "up")
 *   plan.json       the plan up built it from (docs/plan.md), written before
 *                   the first change to the kernel
 *   machines.jsonl  one line per machine, appended just after it is spawned
 *   logs/NAME.log   each machine's init and workload output
 *   mnt/            an empty directory where machines mount their tmpfs
 * The lab directory itself is flock()ed while up or down work on it, so
 * concurrent commands on one lab are serialized. */
#ifndef TESTBED_STATE_H
#define TESTBED_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "plan.h"
#include "util.h"

#define TB_DEFAULT_STATE_DIR "/run/testbed"
#define TB_DEFAULT_CACHE_DIR "/var/cache/testbed/images"

struct lab_dir {
	char *root;
	char *path;
	int fd; /* open and locked */
};

struct machine_record {
	char *kind;
	char *name;
	char *node;    /* pods: their node; else "" */
	char *address; /* "" when none */
	int http_port;
	pid_t pid;
	unsigned long long start_time; /* guards against PID reuse */
};

struct lab_record {
	char *name;
	char *topology;
	char *phase;
	struct machine_record *machines;
	size_t n_machines, cap_machines;
};

const char *state_root(const char *option);
/* Refuses a state root up cannot build labs under: the machines' overlay
 * layers live below it, and overlayfs mount options are split at ',' with
 * no way to quote one. Returns -1 with E set. */
int state_root_check(const char *root, struct tb_err *e);
const char *cache_dir(void);

/* Locks the lab's directory, creating it (and the root) if CREATE. Returns
 * 1 when locked, 0 when the lab has no directory (and !CREATE), -1 on error. */
int lab_dir_lock(const char *root, const char *name, bool create, struct lab_dir *d, struct tb_err *e);
/* Removes the lab's directory and, if it is then empty, the state root. */
int lab_dir_remove(struct lab_dir *d, struct tb_err *e);
void lab_dir_close(struct lab_dir *d);
/* NAME inside the lab's directory (malloc'd). */
char *lab_path(const struct lab_dir *d, const char *name);

int lab_write(const struct lab_dir *d, const char *name, const char *topology, const char *phase,
	      struct tb_err *e);
int lab_append_machine(const struct lab_dir *d, const struct machine_record *m, struct tb_err *e);
/* The saved plan: written atomically; read back, refusing another format. */
int lab_save_plan(const struct lab_dir *d, const struct plan *p, struct tb_err *e);
int lab_load_plan(const char *lab_path, struct plan *p, struct tb_err *e);
/* Reads a lab's records; 0 on success, -1 when missing or unreadable. */
int lab_read(const char *lab_path, struct lab_record *r, struct tb_err *e);
void lab_record_free(struct lab_record *r);

/* Field 22 of /proc/PID/stat; 0 when the process does not exist. */
unsigned long long proc_start_time(pid_t pid);
/* Does the recorded process still run (same PID and start time)? */
bool machine_record_alive(const struct machine_record *m);

#endif
