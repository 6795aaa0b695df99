/* The start of each pod server, in C: loaded by the server pool
 * (testbed-http --pool) through ctypes, it forks a batch of servers and
 * takes each one into its machine, listening, before the server runs any
 * Python.
 *
 * Why C: a server is a fork of the pool's interpreter, and every page the
 * fork writes first costs it a copy-on-write fault (20-30 µs each on the
 * VMs testbed is measured on). Python writes to every object it touches:
 * forked with os.fork() and taken into its machine with ctypes calls, a
 * server wrote about 260 pages before it was ready, and the pool, which
 * wrote between forks, paid again for each. Here the forks of a batch
 * follow each other with nothing written between them, and the child runs
 * no Python until it is inside its machine with its sockets open and the
 * interpreter's after-fork work done; what is left (about 170 pages) is
 * what the interpreter writes as the server starts.
 *
 * Built into the pod image by images/extract-hook.sh; libc only, through
 * calls every glibc since 2.17 has, so that it loads in any image of the
 * release it was built for. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

/* One server to start, as testbed-http's StartJob declares it. */
struct start_job {
	int pidfd;  /* the machine's init: the namespaces to enter */
	int log_fd; /* becomes the server's stdout and stderr */
	int n_tcp;
	int n_udp;
	const uint16_t *ports; /* n_tcp TCP ports, then n_udp UDP ports */
	int *listen_fds;       /* out, in the server: a socket per port, in order */
	uint64_t drop;         /* bounding-set capabilities to drop */
	const void *cap_header; /* capset()'s arguments: the capabilities kept */
	const void *cap_data;
	void *title_at; /* the pool's argument area, which ps shows */
	const char *title;
	size_t title_len;
	const char *failed; /* "failed ID ", before the reason, to the pool's reply socket */
	const char *describe; /* the first line of the server's log */
	size_t describe_len;
	int pid; /* out, in the pool: the server's PID, or -errno */
};

/* The interpreter's fork hooks (PyOS_BeforeFork and the two after it),
 * which the pool passes: called from here, the server's first calls cost
 * no Python. */
struct fork_hooks {
	void (*before)(void);
	void (*after_in_parent)(void);
	void (*after_in_child)(void);
};

#define LISTEN_BACKLOG 1024 /* a full mesh opens many connections at once */

static void __attribute__((noreturn)) fail(const struct start_job *job, int reply_fd, const char *what)
{
	char msg[512];
	int n = snprintf(msg, sizeof(msg), "%s%s: %s", job->failed, what, strerror(errno));
	if (n > (int)sizeof(msg) - 1)
		n = (int)sizeof(msg) - 1;
	send(reply_fd, msg, (size_t)n, MSG_NOSIGNAL);
	_exit(1);
}

/* Closes every descriptor from FIRST up but the two kept. */
static void close_others(int first, int keep_a, int keep_b)
{
	int lo = keep_a < keep_b ? keep_a : keep_b, hi = keep_a < keep_b ? keep_b : keep_a;
	int bounds[][2] = {{first, lo - 1}, {lo + 1, hi - 1}, {hi + 1, -1}};
	for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
		unsigned int from = (unsigned int)bounds[i][0];
		unsigned int to = bounds[i][1] < 0 ? ~0U : (unsigned int)bounds[i][1];
		if (bounds[i][1] >= 0 && bounds[i][1] < bounds[i][0])
			continue;
		if (syscall(SYS_close_range, from, to, 0) < 0)
			for (unsigned int fd = from; fd <= to && fd < 65536; fd++)
				if (fd != (unsigned int)keep_a && fd != (unsigned int)keep_b)
					close((int)fd);
	}
}

static int open_port(int type, uint16_t port)
{
	int s = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	int one = 1;
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = INADDR_ANY};
	/* accept() then returns once the request has come: most connections
	 * are answered at once, without a turn through epoll. */
	if (type == SOCK_STREAM && (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
				    setsockopt(s, IPPROTO_TCP, TCP_DEFER_ACCEPT, &one, sizeof(one)) < 0))
		return -1;
	if (bind(s, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return -1;
	if (type == SOCK_STREAM && listen(s, LISTEN_BACKLOG) < 0)
		return -1;
	return s;
}

/* In the new server: into the machine, down to its capabilities, its
 * ports open. Fails by reporting and exiting. */
static void become_server(const struct start_job *job, int reply_fd)
{
	if (dup2(job->log_fd, 1) < 0 || dup2(job->log_fd, 2) < 0)
		fail(job, reply_fd, "taking its log");
	/* Other machines' pidfds would let this server signal their inits,
	 * and the pool's descriptors are the pool's. */
	close_others(3, job->pidfd, reply_fd);
	if (setns(job->pidfd, CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC) < 0)
		fail(job, reply_fd, "entering the machine's namespaces");
	close(job->pidfd);
	if (chdir("/") < 0)
		fail(job, reply_fd, "chdir /");
	setsid();
	for (int cap = 0; cap < 64; cap++)
		if ((job->drop >> cap & 1) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			fail(job, reply_fd, "dropping a capability from the bounding set");
	if (syscall(SYS_capset, job->cap_header, job->cap_data) < 0)
		fail(job, reply_fd, "setting capabilities");
	/* Bound with the machine's own capabilities, as its server would. */
	for (int i = 0; i < job->n_tcp + job->n_udp; i++) {
		bool tcp = i < job->n_tcp;
		job->listen_fds[i] = open_port(tcp ? SOCK_STREAM : SOCK_DGRAM, job->ports[i]);
		if (job->listen_fds[i] < 0) {
			char what[64];
			snprintf(what, sizeof(what), "listening on %u/%s", job->ports[i], tcp ? "tcp" : "udp");
			fail(job, reply_fd, what);
		}
	}
	if (job->title_len)
		memcpy(job->title_at, job->title, job->title_len);
	if (write(2, job->describe, job->describe_len) < 0) {
		/* the log is gone: the server still serves */
	}
}

/* Forks a server per job, each into its machine's PID namespace as this
 * process's child. In the pool, returns -1 with each job's pid set; in a
 * server, returns its job's index once it is inside its machine with its
 * sockets open and the interpreter's after-fork work done, for the Python
 * server to take over and report ready. */
int tb_start_servers(struct start_job *jobs, int n, int reply_fd, const struct fork_hooks *hooks)
{
	hooks->before();
	for (int i = 0; i < n; i++) {
		struct start_job *job = &jobs[i];
		/* Only our children's PID namespace changes: the fork below is
		 * born in the machine's, as our child, so we reap it. */
		if (setns(job->pidfd, CLONE_NEWPID) < 0) {
			job->pid = -errno;
			continue;
		}
		pid_t pid = fork();
		if (pid == 0) {
			become_server(job, reply_fd);
			hooks->after_in_child();
			return i;
		}
		job->pid = pid < 0 ? -errno : pid;
	}
	hooks->after_in_parent();
	return -1;
}
