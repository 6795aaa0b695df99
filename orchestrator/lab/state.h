/* Lab state: STATE_ROOT/NAME/ (default /run/testbed, or --state-dir, or
 * TESTBED_STATE_DIR) holds
 *   lab.json        the lab: name, topology file, phase ("starting", "up")
 *   plan.json       the plan up built it from (docs/plan.md), written before
 *                   the first change to the kernel
 *   machines.jsonl  one line per machine, appended just after it is spawned
 *   objects.json    after an apply or delete: the lab's Kubernetes objects as
 *                   they now are (lab/lab_apply.h); plan.json is their plan
 *   logs/NAME.log   each machine's init and workload output
 *   mnt/            an empty directory where machines mount their tmpfs
 * and STATE_ROOT/.failed-NAME/ the logs of NAME's last failed up, until the
 * next up of NAME succeeds or `down NAME`.
 * The lab directory itself is flock()ed while up or down work on it, so
 * concurrent commands on one lab are serialized. */
#ifndef TESTBED_STATE_H
#define TESTBED_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "plan/plan.h"
#include "util/util.h"

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
	pid_t writer; /* the up that wrote it */
	struct machine_record *machines;
	size_t n_machines, cap_machines;
};

const char *state_root(const char *option);
/* Is the state root, if it exists, testbed's user's alone (owner, no
 * group or other write, not a link)? 1 yes, 0 it does not exist, -1 no. */
int state_root_check(const char *root, struct tb_err *e);
/* Refuses a state root up cannot build labs under: the machines' overlay
 * layers live below it, and overlayfs mount options are split at ',' with
 * no way to quote one. Returns -1 with E set. */
int state_root_mountable(const char *root, struct tb_err *e);
const char *cache_dir(void);

/* Locks the lab's directory, creating it (and the root) if CREATE. Returns
 * 1 when locked, 0 when the lab has no directory (and !CREATE), -1 on error. */
int lab_dir_lock(const char *root, const char *name, bool create, struct lab_dir *d, struct tb_err *e);
/* Removes the lab's directory and, if it is then empty, the state root. */
int lab_dir_remove(struct lab_dir *d, struct tb_err *e);
void lab_dir_close(struct lab_dir *d);
/* A failed up's evidence: moves the lab's logs/ to STATE_ROOT/.failed-NAME
 * (replacing an older one) and returns that path (malloc'd), or NULL. */
char *lab_keep_logs(const struct lab_dir *d, struct tb_err *e);
/* Removes what a failed up kept, once the lab is up or down. */
void lab_forget_failed(const struct lab_dir *d);
/* NAME inside the lab's directory (malloc'd). */
char *lab_path(const struct lab_dir *d, const char *name);

int lab_write(const struct lab_dir *d, const char *name, const char *topology, const char *phase,
	      struct tb_err *e);
int lab_append_machine(const struct lab_dir *d, const struct machine_record *m, struct tb_err *e);
/* The saved plan: written atomically; read back, refusing another format. */
int lab_save_plan(const struct lab_dir *d, const struct plan *p, struct tb_err *e);
int lab_load_plan(const char *lab_path, struct plan *p, struct tb_err *e);
/* Reads a lab's records, the machines in the order they were made, then
 * the server pools; 0 on success, -1 when missing or unreadable. */
int lab_read(const char *lab_path, struct lab_record *r, struct tb_err *e);
void lab_record_free(struct lab_record *r);

/* Field 22 of /proc/PID/stat; 0 when the process does not exist. */
unsigned long long proc_start_time(pid_t pid);
/* Has process PID exited, waiting to be reaped? */
bool proc_is_zombie(pid_t pid);
/* Is the recorded machine still there and not yet exited (its init by
 * title, or exiting)? An exited one (a zombie) is not: it holds nothing but
 * its process entry. A record naming another process is not either. */
bool machine_record_ending(const struct machine_record *m);
/* Does the recorded process still run (same PID and start time)? */
bool machine_record_alive(const struct machine_record *m);
struct lab_cgroup;
/* Is the recorded process alive and really the lab's: in its cgroup CG, or
 * without cgroup2 (CG NULL or closed) a testbed machine's init of that
 * name? A record edited to name another process fails this. */
bool machine_record_in_lab(const struct machine_record *m, const struct lab_cgroup *cg);

#endif
