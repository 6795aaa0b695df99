/* The pod servers' pool: one pre-loaded Python interpreter per image,
 * which forks each machine's server into that machine's namespaces.
 *
 * Starting a fresh interpreter per pod costs ~200 ms of CPU and ~10 MB of
 * private memory each; a fork of one warm interpreter costs what the pages
 * it writes cost and shares the rest copy-on-write. The pool runs the
 * image's own python (/usr/local/bin/testbed-http --pool 3) in a mount,
 * network, UTS and IPC namespace of its own, rooted in the image, with only
 * the capabilities entering a machine needs; each server drops to its
 * machine's capabilities once inside. docs/performance.md has the design. */
#ifndef TESTBED_SERVER_POOL_H
#define TESTBED_SERVER_POOL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lab/ready.h"
#include "model/topology.h"
#include "util/progress.h"
#include "util/util.h"

struct server_pool {
	pid_t pid;
	int pidfd;
	int sock; /* SOCK_SEQPACKET: requests out, "ready"/"failed"/"exited" back */
	char name[96]; /* for messages: "servers:IMAGE" */
};
#define SERVER_POOL_INIT {.pid = -1, .pidfd = -1, .sock = -1}

struct server_pool_spec {
	const char *name;    /* for messages */
	const char *rootfs;  /* the image's unpacked tree */
	const char *scratch; /* an empty directory for its tmpfs */
	const char *program; /* the server inside the image */
	int log_fd;
	int cgroup_procs; /* the lab's cgroup.procs; -1: none */
};

/* Forks the pool; it joins the lab's cgroup before anything else. */
int server_pool_start(const struct server_pool_spec *spec, struct server_pool *sp, struct tb_err *e);

/* A machine to serve: the pool enters it through its init's PIDFD. */
struct served_machine {
	const char *name;     /* for messages: as the lab names it */
	const char *hostname; /* what its server answers to /hostname: the pod's own name */
	const char *node;
	uint64_t caps;    /* the capabilities its server keeps */
	const struct tb_port *ports; /* TCP and UDP: the server listens on each */
	size_t n_ports;
	int pidfd;        /* its init */
	const char *log;  /* path of the machine's log, which its server appends to */
	size_t pool;      /* index into the pools */
	/* results */
	bool sent;
	bool ready;
};

/* Asks the pools for every machine's server and waits until each one
 * listens, for at most TIMEOUT_MS. Fails at once when a server or a pool
 * exits, a watched machine reports its workload's end, or STOP turns true.
 * Each server ready advances PROGRESS's servers phase (NULL: none). */
int server_pools_serve(struct server_pool *pools, size_t n_pools, struct served_machine *machines, size_t n,
		       const struct exit_watch *watches, size_t n_watches, int timeout_ms, volatile const int *stop,
		       struct progress *progress, struct tb_err *e);

/* The pool lives on after up (it reaps the servers and logs their exits);
 * this only closes our descriptors. */
void server_pool_release(struct server_pool *sp);
/* Kills a pool this process started, and waits for it. */
void server_pool_kill(struct server_pool *sp);


#endif
