/* Machines: groups of namespaces (net, mount, UTS, IPC, PID) held alive by a
 * small init that is PID 1 of the machine's PID namespace, reaps zombies,
 * runs the workload and passes SIGTERM on. Killing that init ends every
 * process of the machine, and of the machines nested in its PID namespace
 * (pods in their node); the kernel then frees the namespaces and their
 * links in batches.
 *
 * The init talks to `up` over two pipes: it reports "ok" once its root
 * filesystem is ready, waits for 'g' to start its workload and for 'c'
 * (commit) to live on its own. If the control pipe closes before the
 * commit, `up` failed or was killed, and the init ends its machine.
 * Once committed, SIGUSR1 makes the init restart its workload: SIGTERM to
 * it, and the same command again once it has ended (apply, after changing
 * what a workload reads only when it starts: cluster DNS's dnsmasq.conf). */
#ifndef TESTBED_MACHINE_H
#define TESTBED_MACHINE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "plan/plan.h"
#include "util/util.h"

struct machine_spec {
	const char *name;    /* hostname, and the name in messages */
	int clone_flags;     /* CLONE_NEW*; CLONE_NEWPID is always added */
	const char *rootfs;  /* image rootfs to overlay; NULL: keep the host's */
	const char *scratch; /* an empty directory for the machine's tmpfs */
	const char *address; /* for /etc/hosts; may be NULL */
	char *const *argv;   /* the workload; NULL: none */
	const char *node;    /* exported as TESTBED_NODE to the workload */
	int log_fd;          /* the init's and workload's output; -1: none */
	int pid_ns_fd;       /* create the machine inside this PID namespace; -1: ours */
	int net_ns_fd;       /* join this network namespace (a hostNetwork pod: its node's); -1: none.
			      * clone_flags then holds no CLONE_NEWNET */
	unsigned long long disk_bytes; /* the size of its writable layer */
	int cgroup_procs;    /* the lab cgroup's cgroup.procs, which it joins first; -1: none */
	bool confine;        /* drop to CAPS with no-new-privs (all but the lab namespace) */
	uint64_t caps;       /* capabilities kept: bits of CAP_* */
	const struct plan_file *files; /* written into its root (needs ROOTFS) before the workload */
	size_t n_files;
};

struct machine {
	pid_t pid;
	bool is_child; /* ours to reap; pods are their node init's */
	int pidfd;
	int ctl;    /* write: 'g' start, 'c' commit */
	int status; /* SEQPACKET: "hello", then "ok" or why setup failed */
	int netns;
	int pidns;
};

#define MACHINE_INIT {.pid = -1, .is_child = false, .pidfd = -1, .ctl = -1, .status = -1, .netns = -1, .pidns = -1}

int machine_spawn(const struct machine_spec *spec, struct machine *m, struct tb_err *e);
/* From start to stop, machine_spawn has a process forked now clone the
 * machines (see machine.c), which then are not our children. Start it
 * early, while testbed is small: every machine is a copy of it. Starting
 * it again while it runs does nothing. */
int machine_spawner_start(struct tb_err *e);
void machine_spawner_stop(void);
/* Waits until the machine's setup is done (up to TIMEOUT_MS). */
int machine_wait_ready(struct machine *m, int timeout_ms, struct tb_err *e);
int machine_start(struct machine *m, struct tb_err *e);
/* The machine lives on after `up` exits (its init stops watching for
 * up's end); it still holds our descriptors until machine_release(). */
int machine_commit(struct machine *m, struct tb_err *e);
void machine_release(struct machine *m);
/* Kills a machine this process spawned and waits until it is gone. */
void machine_kill(struct machine *m);

/* What runs in a machine keeps only CAPS (bits of CAP_*), in every set
 * and the bounding set, with no-new-privs, so that nothing it runs regains
 * more: the machine's init does this once its root is set up, and exec
 * for the commands it runs there. */
int drop_privileges(uint64_t caps, struct tb_err *e);

/* pidfd helpers for processes that are not our children. */
int pidfd_open_pid(pid_t pid);
int pidfd_kill(int pidfd, int sig);
/* Waits until the process behind PIDFD has exited; false on timeout. */
bool pidfd_wait_exit(int pidfd, int timeout_ms);

#endif
