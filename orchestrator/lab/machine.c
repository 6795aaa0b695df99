#define _GNU_SOURCE
#include "lab/machine.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab/cgroup.h"
#include "image/rootfs.h"

/* Sanitizer builds (gcc says so one way, clang another): see adopt_stack. */
#if defined(__SANITIZE_ADDRESS__)
#define TB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TB_ASAN 1
#endif
#endif
#ifdef TB_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

#define STACK_SIZE (256 * 1024)
#define CTL_FD 3
#define STATUS_FD 4
#define FILES_FD 5 /* the packed files (rootfs_files_pack), while the init sets its root up */
#define FIRST_FREE_FD 6

int pidfd_open_pid(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

int pidfd_kill(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

bool pidfd_wait_exit(int pidfd, int timeout_ms)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	long long deadline = now_ms() + timeout_ms;
	for (;;) {
		long long left = deadline - now_ms();
		int n = poll(&p, 1, left > 0 ? (int)left : 0);
		if (n > 0)
			return true;
		if (n == 0)
			return false;
		if (errno != EINTR)
			return false;
	}
}

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#else
#error "add this architecture's AUDIT_ARCH_* for the seccomp filter"
#endif

/* ioctl(TIOCSTI) pushes input into a terminal, TIOCLINUX can too: a program
 * in an image, run by `testbed exec` on the user's terminal, could type
 * commands into the user's shell once exec returns (bubblewrap's
 * CVE-2017-5226). A seccomp filter refuses both; other architectures'
 * system calls, whose numbers differ, are refused outright. */
static int forbid_terminal_injection(struct tb_err *e)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ioctl, 0, 4),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TIOCSTI, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TIOCLINUX, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = ARRAY_SIZE(filter), .filter = filter};
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
		return tb_fail(e, "installing the seccomp filter: %s", strerror(errno));
	return 0;
}

int drop_privileges(uint64_t caps, struct tb_err *e)
{
	/* The bounding set first: it limits what any later exec can gain. */
	for (int cap = 0; cap < 64; cap++) {
		if ((caps & (1ULL << cap)) || prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
			continue;
		/* Past the kernel's last capability: none follow. */
		if (errno == EINVAL)
			break;
		return tb_fail(e, "dropping capability %d: %s", cap, strerror(errno));
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return tb_fail(e, "setting no-new-privs: %s", strerror(errno));
	struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {
		{.effective = (uint32_t)caps, .permitted = (uint32_t)caps, .inheritable = 0},
		{.effective = (uint32_t)(caps >> 32), .permitted = (uint32_t)(caps >> 32), .inheritable = 0},
	};
	if (syscall(SYS_capset, &header, data) < 0)
		return tb_fail(e, "setting capabilities: %s", strerror(errno));
	return forbid_terminal_injection(e);
}

struct child_args {
	const struct machine_spec *spec;
	int ctl;
	int status;
	int files; /* -1: none */
	void *stack; /* the clone's own stack, STACK_SIZE bytes */
};

/* AddressSanitizer keeps the bounds of each thread's stack, and a clone()
 * child starts on a stack it does not know: at the first noreturn call
 * (_exit) it warns that it cannot unpoison the stack and that false
 * reports may follow, in every machine's log. Telling it, as for a fiber
 * switch, makes the child's stack its own. Nothing in other builds. */
static void adopt_stack(const struct child_args *a)
{
#ifdef TB_ASAN
	void *fake_stack = NULL;
	__sanitizer_start_switch_fiber(&fake_stack, a->stack, STACK_SIZE);
	__sanitizer_finish_switch_fiber(fake_stack, NULL, NULL);
#else
	(void)a;
#endif
}

static void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void report(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		write_all(STATUS_FD, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* Only the init of a PID namespace may signal "every process": elsewhere
 * kill(-1) would reach the whole host. */
static void signal_machine(int sig)
{
	if (getpid() == 1)
		kill(-1, sig);
}

/* Reaps every exited process; the workload's end goes to the log and,
 * while up still waits on us (not COMMITTED), to up, which then fails at
 * once instead of waiting for a server that will never listen. True when
 * the workload was among them. */
static bool reap(pid_t workload, const char *name, bool committed)
{
	int status;
	pid_t pid;
	bool ended = false;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid != workload || workload <= 0)
			continue;
		ended = true;
		char why[64];
		if (WIFEXITED(status))
			snprintf(why, sizeof(why), "workload exited with status %d", WEXITSTATUS(status));
		else
			snprintf(why, sizeof(why), "workload killed by signal %d", WTERMSIG(status));
		fprintf(stderr, "testbed init: %s: %s\n", name, why);
		if (!committed)
			report("%s", why);
	}
	return ended;
}

struct workload_args {
	const struct machine_spec *spec;
	const sigset_t *blocked;
};

/* Runs in a child that shares the init's memory until it execs (see
 * start_workload): only its own stack and system calls, no malloc. */
static int workload_child(void *arg)
{
	const struct workload_args *w = arg;
	const struct machine_spec *s = w->spec;
	sigprocmask(SIG_UNBLOCK, w->blocked, NULL);
	signal(SIGPIPE, SIG_DFL);
	setsid();
	/* Returning ends this child (see pod_helper). */
	if (chdir("/") < 0)
		return 127;
	char node[256];
	snprintf(node, sizeof(node), "TESTBED_NODE=%s", s->node ? s->node : "");
	char host[256];
	snprintf(host, sizeof(host), "HOSTNAME=%s", s->name);
	char *envp[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"HOME=/root",
			"LANG=C.UTF-8",
			"PYTHONUNBUFFERED=1",
			node,
			host,
			NULL};
	execvpe(s->argv[0], s->argv, envp);
	dprintf(2, "testbed init: %s: cannot run %s: %s\n", s->name, s->argv[0], strerror(errno));
	return 127;
}

/* The workload starts as vfork does (shared memory, the init paused until
 * it execs): no copy of the init's page tables and no copy-on-write faults
 * on either side, which cost more than the exec itself in a VM. */
static pid_t start_workload(const struct machine_spec *s, const sigset_t *blocked)
{
	static char stack[64 * 1024] __attribute__((aligned(16)));
	struct workload_args w = {.spec = s, .blocked = blocked};
	return clone(workload_child, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | SIGCHLD, &w);
}

/* Ends the machine: as PID 1, exiting makes the kernel kill every process
 * left in the PID namespace. */
static void shut_down(int sfd, pid_t workload, const char *name)
{
	signal_machine(SIGTERM);
	long long deadline = now_ms() + 1000;
	struct pollfd p = {.fd = sfd, .events = POLLIN};
	while (now_ms() < deadline) {
		if (waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD)
			break;
		struct signalfd_siginfo si;
		if (poll(&p, 1, 50) > 0 && read(sfd, &si, sizeof(si)) < 0)
			break;
		reap(workload, name, true);
	}
	_exit(0);
}

/* "hello" with our pidfd and network and PID namespaces attached; the
 * kernel adds our PID as up sees it (SO_PASSCRED). */
static int send_hello(void)
{
	int fds[3] = {pidfd_open_pid(getpid()), open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC),
		      open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC)};
	if (fds[0] < 0 || fds[1] < 0 || fds[2] < 0)
		return -1;
	char control[CMSG_SPACE(sizeof(fds))] = {0};
	struct iovec iov = {.iov_base = "hello", .iov_len = 5};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof(control)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	ssize_t n = sendmsg(STATUS_FD, &msg, 0);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	return n == 5 ? 0 : -1;
}

static int machine_child(void *arg)
{
	struct child_args *a = arg;
	adopt_stack(a);
	const struct machine_spec *s = a->spec;
	/* The spawner ignores these, and ignored stays ignored across exec:
	 * blocked first (signalfd takes them below), then back to default,
	 * for the init to see its children end and for its workload. */
	sigset_t blocked;
	sigemptyset(&blocked);
	sigaddset(&blocked, SIGCHLD);
	sigaddset(&blocked, SIGTERM);
	sigaddset(&blocked, SIGINT);
	sigaddset(&blocked, SIGHUP);
	sigaddset(&blocked, SIGUSR1);
	sigprocmask(SIG_BLOCK, &blocked, NULL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGUSR1, SIG_DFL);
	/* Into the lab's cgroup first, before anything could fork. */
	int cgroup_errno = s->cgroup_procs >= 0 && cgroup_enter(s->cgroup_procs) < 0 ? errno : 0;
	/* A pod on its node's network joins the node's namespace before its
	 * descriptor goes with the rest below. */
	int netns_errno = s->net_ns_fd >= 0 && setns(s->net_ns_fd, CLONE_NEWNET) < 0 ? errno : 0;

	/* Keep only our own pipes and log, at known numbers: the pipes of other
	 * machines must not stay open here, or their EOF would never come. */
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int log = s->log_fd >= 0 ? s->log_fd : null;
	int ctl = fcntl(a->ctl, F_DUPFD_CLOEXEC, 100);
	int status = fcntl(a->status, F_DUPFD_CLOEXEC, 100);
	int out = fcntl(log, F_DUPFD, 100);
	int in = fcntl(null, F_DUPFD, 100);
	int files = a->files >= 0 ? fcntl(a->files, F_DUPFD_CLOEXEC, 100) : -1;
	if (ctl < 0 || status < 0 || out < 0 || in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0 ||
	    dup3(ctl, CTL_FD, O_CLOEXEC) < 0 || dup3(status, STATUS_FD, O_CLOEXEC) < 0 ||
	    (a->files >= 0 && (files < 0 || dup3(files, FILES_FD, O_CLOEXEC) < 0)))
		_exit(126);
	close_range(FIRST_FREE_FD, ~0U, 0);
	signal(SIGPIPE, SIG_IGN);
	char title[128];
	snprintf(title, sizeof(title), "testbed-init: %s", s->name);
	proc_title_set(title);
	prctl(PR_SET_NAME, "testbed-init");
	/* A session of its own: nothing in the machine can reach the
	 * terminal of whoever ran up. */
	setsid();
	/* With it, our own pidfd and namespaces: up never has to name us by a
	 * PID that could have been reused. */
	if (send_hello() < 0)
		_exit(1);
	if (netns_errno) {
		report("joining its node's network namespace: %s", strerror(netns_errno));
		_exit(126);
	}
	if (cgroup_errno) {
		report("joining the lab's cgroup: %s", strerror(cgroup_errno));
		_exit(1);
	}

	int sfd = signalfd(-1, &blocked, SFD_CLOEXEC);
	if (sfd < 0) {
		report("signalfd: %s", strerror(errno));
		_exit(1);
	}
	if ((s->clone_flags & CLONE_NEWUTS) && sethostname(s->name, strlen(s->name)) < 0) {
		report("sethostname: %s", strerror(errno));
		_exit(1);
	}
	struct tb_err e;
	if (s->rootfs && rootfs_enter(s->rootfs, s->scratch, s->disk_bytes, s->name, s->address, &e) < 0) {
		report("%s", e.msg);
		_exit(1);
	}
	if (a->files >= 0) {
		if (!s->rootfs || rootfs_files_write(FILES_FD, &e) < 0) {
			report("%s", s->rootfs ? e.msg : "files for a machine without an image");
			_exit(1);
		}
		close(FILES_FD);
	}
	if (s->confine && drop_privileges(s->caps, &e) < 0) {
		report("%s", e.msg);
		_exit(1);
	}
	report("ok\n");

	char c = 0;
	ssize_t n;
	while ((n = read(CTL_FD, &c, 1)) < 0 && errno == EINTR)
		;
	if (n != 1 || c != 'g')
		_exit(1); /* up failed or died: nothing to keep */

	pid_t workload = s->argv ? start_workload(s, &blocked) : -1;
	if (workload < 0 && s->argv)
		fprintf(stderr, "testbed init: %s: fork: %s\n", s->name, strerror(errno));

	bool committed = false, restart = false;
	for (;;) {
		struct pollfd p[2] = {{.fd = sfd, .events = POLLIN}, {.fd = committed ? -1 : CTL_FD, .events = POLLIN}};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		if (p[1].revents) {
			n = read(CTL_FD, &c, 1);
			if (n == 1 && c == 'c') {
				committed = true;
				close(CTL_FD);
				close(STATUS_FD);
			} else if (n == 0 || (n < 0 && errno != EINTR)) {
				_exit(1); /* up died before the lab was complete */
			}
		}
		if (p[0].revents) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGUSR1 && committed && s->argv) {
				/* A restart (apply, after changing the configuration
				 * the workload reads only when it starts): the
				 * workload is ended, and started again once reaped. */
				if (workload > 0) {
					restart = true;
					kill(workload, SIGTERM);
				} else {
					workload = start_workload(s, &blocked);
					fprintf(stderr, "testbed init: %s: workload started again\n", s->name);
				}
			} else if (si.ssi_signo == SIGCHLD) {
				if (reap(workload, s->name, committed)) {
					workload = -1;
					if (restart) {
						restart = false;
						workload = start_workload(s, &blocked);
						fprintf(stderr, "testbed init: %s: workload started again\n", s->name);
					}
				}
			} else if (si.ssi_signo != SIGUSR1) {
				shut_down(sfd, workload, s->name);
			}
		}
	}
}

/* Receives the child's "hello" and, with it, its PID in our namespace and
 * its pidfd, network and PID namespaces. */
static int receive_hello(int sock, struct machine *m, struct tb_err *e)
{
	char data[16];
	char control[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(3 * sizeof(int))];
	struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof(control)};
	struct pollfd p = {.fd = sock, .events = POLLIN};
	if (poll(&p, 1, 10000) <= 0)
		return tb_fail(e, "the new machine did not report");
	ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	if (n <= 0)
		return tb_fail(e, "the new machine exited at once");
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
			struct ucred cred;
			memcpy(&cred, CMSG_DATA(c), sizeof(cred));
			m->pid = cred.pid;
		} else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
			   c->cmsg_len == CMSG_LEN(3 * sizeof(int))) {
			int fds[3];
			memcpy(fds, CMSG_DATA(c), sizeof(fds));
			m->pidfd = fds[0];
			m->netns = fds[1];
			m->pidns = fds[2];
		}
	}
	if (m->pid <= 0 || m->pidfd < 0)
		return tb_fail(e, "the new machine did not send its PID and namespaces");
	return 0;
}

/* A machine nested in another's PID namespace (a pod in its node) needs a
 * creator whose own PID namespace is that one: the kernel creates PID
 * namespaces only as children of the creator's active one. This helper is
 * that creator: it shares our memory and we wait while it runs (as
 * vfork), so it costs no copy of our page tables; it clones the machine
 * and exits, and the parent namespace's init (the node) then reaps the
 * machine. */
struct helper_args {
	struct child_args *child;
	void *stack;
	int flags;
	int err; /* written by the helper: clone's errno, 0 on success */
};

static int pod_helper(void *arg)
{
	struct helper_args *h = arg;
	if (clone(machine_child, h->stack, h->flags, h->child) < 0)
		h->err = errno;
	/* Returning makes clone's own code end us: no _exit, which under
	 * AddressSanitizer warns about this stack it does not know. */
	return 0;
}

static char helper_stack[16 * 1024] __attribute__((aligned(16)));

/* Creates the machine's init as SPEC says, with CTL_R and STATUS_W as its
 * ends of the pipes and FILES its packed files (-1: none); *PID is its PID when it is our child, else -1. */
static int clone_machine(const struct machine_spec *s, int ctl_r, int status_w, int files, pid_t *pid,
			 struct tb_err *e)
{
	*pid = -1;
	void *stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED)
		return tb_fail(e, "mmap: %s", strerror(errno));
	/* The child has its own copy of the stack: ours can go once it runs. */
	struct child_args args = {.spec = s, .ctl = ctl_r, .status = status_w, .files = files, .stack = stack};
	int flags = s->clone_flags | CLONE_NEWPID | SIGCHLD;
	int rc = 0;
	if (s->pid_ns_fd < 0) {
		*pid = clone(machine_child, (char *)stack + STACK_SIZE, flags, &args);
		if (*pid < 0)
			rc = tb_fail(e, "clone: %s", strerror(errno));
	} else {
		autoclose int own_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
		if (own_pidns < 0 || setns(s->pid_ns_fd, CLONE_NEWPID) < 0) {
			rc = tb_fail(e, "entering the parent PID namespace: %s", strerror(errno));
			goto out;
		}
		struct helper_args h = {.child = &args, .stack = (char *)stack + STACK_SIZE, .flags = flags, .err = 0};
		pid_t helper = clone(pod_helper, helper_stack + sizeof(helper_stack), CLONE_VM | CLONE_VFORK | SIGCHLD, &h);
		int fork_errno = errno;
		if (setns(own_pidns, CLONE_NEWPID) < 0) {
			fprintf(stderr, "testbed: cannot return to own PID namespace: %s\n", strerror(errno));
			abort();
		}
		/* The spawner ignores SIGCHLD: there the helper is already gone. */
		while (helper > 0 && waitpid(helper, NULL, 0) < 0 && errno == EINTR)
			;
		if (helper < 0 || h.err != 0)
			rc = tb_fail(e, "creating the machine in its parent's PID namespace: %s",
				     strerror(helper < 0 ? fork_errno : h.err));
	}
out:
	munmap(stack, STACK_SIZE);
	return rc;
}

/* The spawner: a process forked from up before its first machine, which
 * clones every machine init on up's request. Each clone write-protects the
 * cloning process's memory, and up, which goes on working between clones,
 * paid a copy-on-write fault for every page it wrote next, for every
 * machine; the spawner writes next to nothing between clones. Each init is
 * a copy of the spawner and tears that copy down when it ends, so up forks
 * the spawner before it reads a topology (at 1000 pods up holds 8 MB, at
 * start 1 MB); requests carry all they need. It ignores SIGCHLD, so that
 * the machines it made are reaped the moment they end. */
static struct {
	pid_t pid;
	int sock;
} spawner = {-1, -1};

/* A request: this header, then the strings (see put_str), and as
 * SCM_RIGHTS the init's ends of its pipes, then its log, the parent's PID
 * namespace and the cgroup's cgroup.procs when the spec has them. */
struct spawn_req {
	int clone_flags;
	int argc; /* -1: no workload */
	unsigned long long disk_bytes;
	uint64_t caps;
	bool confine, has_log, has_pidns, has_netns, has_cgroup, has_files;
};

#define SPAWN_MSG_MAX 65536
#define SPAWN_FDS 7

static bool put_str(char *buf, size_t *used, const char *str)
{
	size_t len = str ? strlen(str) + 1 : 0;
	if (*used + 1 + len > SPAWN_MSG_MAX)
		return false;
	buf[(*used)++] = str ? 1 : 0;
	memcpy(buf + *used, str ? str : "", len);
	*used += len;
	return true;
}

static const char *get_str(const char *buf, size_t n, size_t *at)
{
	if (*at >= n)
		return NULL;
	if (buf[(*at)++] == 0)
		return NULL;
	const char *str = buf + *at;
	const char *nul = memchr(str, '\0', n - *at);
	if (!nul)
		return NULL;
	*at += (size_t)(nul - str) + 1;
	return str;
}

static void spawner_serve(int sock)
{
	static char buf[SPAWN_MSG_MAX];
	char *argv[256];
	for (;;) {
		char control[CMSG_SPACE(SPAWN_FDS * sizeof(int))];
		struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof(control)};
		ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0); /* up is done, or gone */
		int fds[SPAWN_FDS], n_fds = 0;
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			n_fds = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			memcpy(fds, CMSG_DATA(c), (size_t)n_fds * sizeof(int));
		}
		struct tb_err e = {.msg = ""};
		struct spawn_req req;
		struct machine_spec spec = {0};
		size_t at = sizeof(req);
		int want = 2;
		if ((size_t)n < sizeof(req)) {
			tb_fail(&e, "a malformed request");
			goto reply;
		}
		memcpy(&req, buf, sizeof(req));
		want += req.has_log + req.has_pidns + req.has_netns + req.has_cgroup + req.has_files;
		spec = (struct machine_spec){.clone_flags = req.clone_flags, .disk_bytes = req.disk_bytes,
					     .caps = req.caps, .confine = req.confine};
		spec.name = get_str(buf, (size_t)n, &at);
		spec.rootfs = get_str(buf, (size_t)n, &at);
		spec.scratch = get_str(buf, (size_t)n, &at);
		spec.address = get_str(buf, (size_t)n, &at);
		spec.node = get_str(buf, (size_t)n, &at);
		if (n_fds != want || !spec.name || req.argc >= (int)ARRAY_SIZE(argv)) {
			tb_fail(&e, "a malformed request");
			goto reply;
		}
		for (int i = 0; i < req.argc; i++)
			if (!(argv[i] = (char *)get_str(buf, (size_t)n, &at))) {
				tb_fail(&e, "a malformed request");
				goto reply;
			}
		argv[req.argc < 0 ? 0 : req.argc] = NULL;
		spec.argv = req.argc < 0 ? NULL : argv;
		int next = 2;
		spec.log_fd = req.has_log ? fds[next++] : -1;
		spec.pid_ns_fd = req.has_pidns ? fds[next++] : -1;
		spec.net_ns_fd = req.has_netns ? fds[next++] : -1;
		spec.cgroup_procs = req.has_cgroup ? fds[next++] : -1;
		int files = req.has_files ? fds[next++] : -1;
		pid_t pid;
		clone_machine(&spec, fds[0], fds[1], files, &pid, &e);
	reply:
		for (int i = 0; i < n_fds; i++)
			close(fds[i]);
		while (send(sock, e.msg, strlen(e.msg) + 1, MSG_NOSIGNAL) < 0 && errno == EINTR)
			;
	}
}

int machine_spawner_start(struct tb_err *e)
{
	if (spawner.pid > 0)
		return 0;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return tb_fail(e, "creating the spawner's socket: %s", strerror(errno));
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		int err = errno;
		close(sv[0]);
		close(sv[1]);
		return tb_fail(e, "starting the spawner: %s", strerror(err));
	}
	if (pid == 0) {
		close(sv[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		prctl(PR_SET_NAME, "testbed-spawn");
		signal(SIGCHLD, SIG_IGN);
		/* A Ctrl-C reaches the whole process group: the spawner must
		 * outlive up's cleanup, which it reaps for; up's death (above)
		 * or its closing the socket ends it. */
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		spawner_serve(sv[1]);
	}
	close(sv[1]);
	spawner.pid = pid;
	spawner.sock = sv[0];
	return 0;
}

void machine_spawner_stop(void)
{
	if (spawner.pid < 0)
		return;
	close_fd(&spawner.sock);
	spawner.sock = -1;
	while (waitpid(spawner.pid, NULL, 0) < 0 && errno == EINTR)
		;
	spawner.pid = -1;
}

/* Has the spawner clone the machine; fails with its reason. */
static int spawn_remote(const struct machine_spec *s, int ctl_r, int status_w, int files, struct tb_err *e)
{
	static char buf[SPAWN_MSG_MAX];
	struct spawn_req req = {.clone_flags = s->clone_flags, .argc = -1, .disk_bytes = s->disk_bytes,
				.caps = s->caps, .confine = s->confine, .has_log = s->log_fd >= 0,
				.has_pidns = s->pid_ns_fd >= 0, .has_netns = s->net_ns_fd >= 0,
				.has_cgroup = s->cgroup_procs >= 0, .has_files = files >= 0};
	if (s->argv)
		for (req.argc = 0; s->argv[req.argc]; req.argc++)
			;
	memcpy(buf, &req, sizeof(req));
	size_t used = sizeof(req);
	bool fits = put_str(buf, &used, s->name) && put_str(buf, &used, s->rootfs) &&
		    put_str(buf, &used, s->scratch) && put_str(buf, &used, s->address) && put_str(buf, &used, s->node);
	for (int i = 0; fits && i < req.argc; i++)
		fits = put_str(buf, &used, s->argv[i]);
	if (!fits || req.argc >= 255)
		return tb_fail(e, "its workload's command line is too long");
	int fds[SPAWN_FDS] = {ctl_r, status_w};
	int n_fds = 2;
	if (s->log_fd >= 0)
		fds[n_fds++] = s->log_fd;
	if (s->pid_ns_fd >= 0)
		fds[n_fds++] = s->pid_ns_fd;
	if (s->net_ns_fd >= 0)
		fds[n_fds++] = s->net_ns_fd;
	if (s->cgroup_procs >= 0)
		fds[n_fds++] = s->cgroup_procs;
	if (files >= 0)
		fds[n_fds++] = files;
	char control[CMSG_SPACE(SPAWN_FDS * sizeof(int))] = {0};
	struct iovec iov = {.iov_base = buf, .iov_len = used};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
			     .msg_controllen = CMSG_SPACE((size_t)n_fds * sizeof(int))};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN((size_t)n_fds * sizeof(int));
	memcpy(CMSG_DATA(c), fds, (size_t)n_fds * sizeof(int));
	ssize_t n;
	while ((n = sendmsg(spawner.sock, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return tb_fail(e, "asking the spawner: %s", strerror(errno));
	char answer[sizeof(((struct tb_err *)0)->msg)];
	while ((n = recv(spawner.sock, answer, sizeof(answer) - 1, 0)) < 0 && errno == EINTR)
		;
	if (n <= 0)
		return tb_fail(e, "the spawner exited");
	answer[n] = '\0';
	return answer[0] ? tb_fail(e, "%s", answer) : 0;
}

int machine_spawn(const struct machine_spec *s, struct machine *m, struct tb_err *e)
{
	*m = (struct machine)MACHINE_INIT;
	int ctl[2] = {-1, -1}, status[2] = {-1, -1};
	autoclose int files = -1;
	int rc = -1;
	int one = 1;

	if (pipe2(ctl, O_CLOEXEC) < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, status) < 0 ||
	    setsockopt(status[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0) {
		tb_fail(e, "creating the machine's pipes: %s", strerror(errno));
		goto out;
	}
	pid_t spawned = -1; /* ours: to reap if it fails now */
	/* Files travel as one sealed memfd: no size limit on the request, and
	 * the init reads them after it entered its root. */
	if (s->n_files && (files = rootfs_files_pack(s->files, s->n_files, e)) < 0)
		goto out;
	if (spawner.sock >= 0) {
		if (spawn_remote(s, ctl[0], status[1], files, e) < 0)
			goto out;
	} else {
		if (clone_machine(s, ctl[0], status[1], files, &spawned, e) < 0)
			goto out;
		m->is_child = spawned > 0;
	}
	close_fd(&ctl[0]);
	close_fd(&status[1]);
	ctl[0] = status[1] = -1;
	if (receive_hello(status[0], m, e) < 0) {
		m->pid = spawned;
		goto out;
	}
	m->ctl = ctl[1];
	m->status = status[0];
	ctl[1] = status[0] = -1;
	rc = 0;
out:
	for (int i = 0; i < 2; i++) {
		close_fd(&ctl[i]);
		close_fd(&status[i]);
	}
	if (rc < 0 && m->pid > 0)
		machine_kill(m);
	return rc;
}

int machine_wait_ready(struct machine *m, int timeout_ms, struct tb_err *e)
{
	char buf[1024];
	size_t used = 0;
	long long deadline = now_ms() + timeout_ms;
	for (;;) {
		long long left = deadline - now_ms();
		struct pollfd p = {.fd = m->status, .events = POLLIN};
		int n = poll(&p, 1, left > 0 ? (int)left : 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return tb_fail(e, "setup did not finish within %d s", timeout_ms / 1000);
		ssize_t r = read(m->status, buf + used, sizeof(buf) - 1 - used);
		if (r < 0 && errno == EINTR)
			continue;
		if (r > 0)
			used += (size_t)r;
		buf[used] = '\0';
		if (strcmp(buf, "ok\n") == 0)
			return 0;
		if (r <= 0 || used == sizeof(buf) - 1) {
			if (used == 0)
				return tb_fail(e, "the machine's init exited during setup");
			buf[strcspn(buf, "\n")] = '\0';
			return tb_fail(e, "%s", buf);
		}
	}
}

int machine_start(struct machine *m, struct tb_err *e)
{
	if (write_all(m->ctl, "g", 1) < 0)
		return tb_fail(e, "starting: %s", strerror(errno));
	return 0;
}

int machine_commit(struct machine *m, struct tb_err *e)
{
	if (write_all(m->ctl, "c", 1) < 0)
		return tb_fail(e, "committing: %s", strerror(errno));
	return 0;
}

void machine_release(struct machine *m)
{
	int *fds[] = {&m->ctl, &m->status, &m->netns, &m->pidns, &m->pidfd};
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		close_fd(fds[i]);
}

void machine_kill(struct machine *m)
{
	if (m->pid > 0) {
		if (m->pidfd >= 0)
			pidfd_kill(m->pidfd, SIGKILL);
		else if (m->is_child)
			kill(m->pid, SIGKILL);
		if (m->is_child)
			while (waitpid(m->pid, NULL, 0) < 0 && errno == EINTR)
				;
		else if (m->pidfd >= 0)
			pidfd_wait_exit(m->pidfd, 10000);
	}
	int *fds[] = {&m->ctl, &m->status, &m->netns, &m->pidns, &m->pidfd};
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
		close_fd(fds[i]);
		*fds[i] = -1;
	}
	m->pid = -1;
}
