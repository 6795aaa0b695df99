#define _GNU_SOURCE
#include "lab/server_pool.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "lab/cgroup.h"
#include "lab/machine.h"
#include "image/rootfs.h"

#define POOL_FD 3
/* The pool writes nothing but its interpreter's caches: a small tmpfs. */
#define POOL_DISK (64ULL << 20)
#define POOL_HOSTNAME "testbed-servers"

/* The capabilities the pool keeps: entering a machine's namespaces needs
 * SYS_ADMIN and SYS_CHROOT, dropping the bounding set SETPCAP; the rest
 * are what the machines' servers may keep. */
static uint64_t server_pool_caps(void)
{
	int caps[] = {CAP_SYS_ADMIN, CAP_SYS_CHROOT, CAP_SETPCAP, CAP_NET_RAW, CAP_NET_BIND_SERVICE,
		      CAP_NET_ADMIN, CAP_SETUID, CAP_SETGID};
	uint64_t mask = 0;
	for (size_t i = 0; i < ARRAY_SIZE(caps); i++)
		mask |= 1ULL << caps[i];
	return mask;
}

/* The forked pool, before it becomes the image's python. Errors go to
 * its log, which up names when the pool is gone. */
static void __attribute__((noreturn)) pool_child(const struct server_pool_spec *s, int sock)
{
	int cgroup_errno = s->cgroup_procs >= 0 && cgroup_enter(s->cgroup_procs) < 0 ? errno : 0;
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int in = fcntl(null, F_DUPFD_CLOEXEC, 100);
	int out = fcntl(s->log_fd >= 0 ? s->log_fd : null, F_DUPFD_CLOEXEC, 100);
	int req = fcntl(sock, F_DUPFD_CLOEXEC, 100);
	/* dup2 leaves the copies inheritable: exactly 0-2 and the request socket. */
	if (null < 0 || in < 0 || out < 0 || req < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0 ||
	    dup2(req, POOL_FD) < 0)
		_exit(126);
	close_range(POOL_FD + 1, ~0U, 0);
	setsid();
	prctl(PR_SET_NAME, "testbed-pool");
	if (cgroup_errno) {
		fprintf(stderr, "testbed pool: joining the lab's cgroup: %s\n", strerror(cgroup_errno));
		_exit(1);
	}
	struct tb_err e;
	if (unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC) < 0) {
		fprintf(stderr, "testbed pool: unshare: %s\n", strerror(errno));
		_exit(1);
	}
	if (sethostname(POOL_HOSTNAME, strlen(POOL_HOSTNAME)) < 0 ||
	    rootfs_enter(s->rootfs, s->scratch, POOL_DISK, POOL_HOSTNAME, NULL, &e) < 0) {
		fprintf(stderr, "testbed pool: %s\n", errno ? strerror(errno) : e.msg);
		_exit(1);
	}
	if (drop_privileges(server_pool_caps(), &e) < 0) {
		fprintf(stderr, "testbed pool: %s\n", e.msg);
		_exit(1);
	}
	char fd_text[16];
	snprintf(fd_text, sizeof(fd_text), "%d", POOL_FD);
	/* Room for each server's own command line, which it writes over the
	 * pool's (ps in a pod shows whose server it is). */
	char room[161];
	memset(room, ' ', sizeof(room) - 1);
	room[sizeof(room) - 1] = '\0';
	char *argv[] = {(char *)s->program, "--pool", fd_text, "--title-room", room, NULL};
	char *envp[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root",
			"LANG=C.UTF-8", "PYTHONUNBUFFERED=1", "PYTHONDONTWRITEBYTECODE=1", NULL};
	execve(s->program, argv, envp);
	fprintf(stderr, "testbed pool: cannot run %s: %s\n", s->program, strerror(errno));
	_exit(127);
}

int server_pool_start(const struct server_pool_spec *spec, struct server_pool *sp, struct tb_err *e)
{
	*sp = (struct server_pool)SERVER_POOL_INIT;
	int pair[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
		return tb_fail(e, "creating the server pool's socket: %s", strerror(errno));
	pid_t pid = fork();
	if (pid == 0)
		pool_child(spec, pair[1]);
	int fork_errno = errno;
	close(pair[1]);
	if (pid < 0) {
		close(pair[0]);
		return tb_fail(e, "starting %s: fork: %s", spec->name, strerror(fork_errno));
	}
	sp->pid = pid;
	sp->sock = pair[0];
	snprintf(sp->name, sizeof(sp->name), "%s", spec->name);
	sp->pidfd = pidfd_open_pid(pid);
	if (sp->pidfd < 0) {
		int err = errno;
		server_pool_kill(sp);
		return tb_fail(e, "starting %s: pidfd_open: %s", spec->name, strerror(err));
	}
	return 0;
}

static int pool_gone(struct server_pool *sp, struct tb_err *e);

/* One request: the machine in JSON, its init's pidfd and its log attached. */
static int send_request(struct server_pool *sp, struct served_machine *m, size_t id, struct tb_err *e)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)id);
	cJSON_AddStringToObject(o, "name", m->hostname);
	cJSON_AddStringToObject(o, "node", m->node ? m->node : "");
	cJSON_AddNumberToObject(o, "caps", (double)m->caps);
	cJSON *tcp = cJSON_AddArrayToObject(o, "tcp"), *udp = cJSON_AddArrayToObject(o, "udp");
	for (size_t i = 0; i < m->n_ports; i++) {
		const struct tb_port *port = &m->ports[i];
		if (port->protocol == TB_PROTOCOL_SCTP) {
			cJSON_Delete(o);
			return tb_fail(e, "%s: port %d/SCTP: this kernel has no SCTP", m->name, port->port);
		}
		cJSON_AddItemToArray(port->protocol == TB_PROTOCOL_TCP ? tcp : udp, cJSON_CreateNumber(port->port));
	}
	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	autoclose int log = open(m->log, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (log < 0) {
		free(text);
		return tb_fail(e, "%s: opening %s: %s", m->name, m->log, strerror(errno));
	}
	int fds[2] = {m->pidfd, log};
	char control[CMSG_SPACE(sizeof(fds))] = {0};
	struct iovec iov = {.iov_base = text, .iov_len = strlen(text)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof(control)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	ssize_t n = sendmsg(sp->sock, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	int err = errno;
	free(text);
	if (n < 0 && (err == EAGAIN || err == EWOULDBLOCK))
		return 1;
	/* A pool that exited before reading: how it ended says why. */
	if (n < 0 && (err == EPIPE || err == ECONNRESET))
		return pool_gone(sp, e);
	if (n < 0)
		return tb_fail(e, "%s: asking the server pool: %s", m->name, strerror(err));
	m->sent = true;
	return 0;
}

/* "ready ID", "failed ID WHY" or "exited ID WHY". */
static int on_reply(struct served_machine *machines, size_t n, const char *msg, size_t *n_ready, struct tb_err *e)
{
	char word[16];
	unsigned long id;
	int used = 0;
	if (sscanf(msg, "%15s %lu %n", word, &id, &used) < 2 || id >= n)
		return tb_fail(e, "the server pool said something unexpected: %.200s", msg);
	struct served_machine *m = &machines[id];
	const char *why = msg + used;
	if (strcmp(word, "ready") == 0) {
		if (!m->ready)
			(*n_ready)++;
		m->ready = true;
		return 0;
	}
	if (strcmp(word, "exited") == 0)
		return tb_fail(e, "%s: its server %s (see its log)", m->name, why);
	return tb_fail(e, "%s: starting its server: %s", m->name, why);
}

static int pool_gone(struct server_pool *sp, struct tb_err *e)
{
	int status = 0;
	/* Its socket closes as it exits: give the exit a moment to complete,
	 * so that the message can say how it ended. */
	if (sp->pidfd >= 0)
		pidfd_wait_exit(sp->pidfd, 1000);
	if (waitpid(sp->pid, &status, WNOHANG) == sp->pid) {
		sp->pid = -1;
		if (WIFEXITED(status))
			return tb_fail(e, "%s exited with status %d (see its log)", sp->name, WEXITSTATUS(status));
		return tb_fail(e, "%s was killed by signal %d", sp->name, WTERMSIG(status));
	}
	return tb_fail(e, "%s closed its socket", sp->name);
}

int server_pools_serve(struct server_pool *pools, size_t n_pools, struct served_machine *machines, size_t n,
		       const struct exit_watch *watches, size_t n_watches, int timeout_ms, volatile const int *stop,
		       struct progress *progress, struct tb_err *e)
{
	size_t *next = xcalloc(n_pools ? n_pools : 1, sizeof(*next)); /* per pool: the next machine to send */
	struct pollfd *p = xcalloc(2 * n_pools + n_watches + 1, sizeof(*p));
	size_t n_ready = 0;
	long long deadline = now_ms() + timeout_ms;
	int rc = 0;
	while (n_ready < n) {
		/* The elapsed time moves on while the servers start. */
		progress_tick(progress);
		if (stop && *stop) {
			rc = tb_fail(e, "interrupted by signal %d", *stop);
			break;
		}
		size_t np = 0;
		for (size_t k = 0; k < n_pools; k++) {
			while (next[k] < n && machines[next[k]].pool != k)
				next[k]++;
			p[np++] = (struct pollfd){.fd = pools[k].sock, .events = POLLIN | (next[k] < n ? POLLOUT : 0)};
			p[np++] = (struct pollfd){.fd = pools[k].pidfd, .events = POLLIN};
		}
		for (size_t w = 0; w < n_watches; w++)
			p[np++] = (struct pollfd){.fd = watches[w].fd, .events = POLLIN};
		long long left = deadline - now_ms();
		if (left <= 0) {
			size_t late = 0;
			const char *first = NULL;
			for (size_t i = 0; i < n; i++)
				if (!machines[i].ready && late++ == 0)
					first = machines[i].name;
			rc = tb_fail(e, "%zu servers not listening after %d s (%s%s)", late, timeout_ms / 1000, first,
				     late > 1 ? " and others" : "");
			break;
		}
		if (poll(p, np, left > 1000 ? 1000 : (int)left) < 0) {
			if (errno == EINTR)
				continue;
			rc = tb_fail(e, "poll: %s", strerror(errno));
			break;
		}
		for (size_t k = 0; rc == 0 && k < n_pools; k++) {
			struct pollfd *sock = &p[2 * k];
			if (sock->revents & POLLOUT) {
				while (rc == 0 && next[k] < n) {
					struct served_machine *m = &machines[next[k]];
					if (m->pool != k) {
						next[k]++;
						continue;
					}
					int sent = send_request(&pools[k], m, next[k], e);
					if (sent < 0)
						rc = -1;
					if (sent != 0)
						break;
					next[k]++;
				}
			}
			if (rc == 0 && (sock->revents & (POLLIN | POLLHUP | POLLERR))) {
				for (;;) {
					char msg[4096];
					ssize_t r = recv(pools[k].sock, msg, sizeof(msg) - 1, MSG_DONTWAIT);
					if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
						break;
					if (r <= 0) {
						rc = pool_gone(&pools[k], e);
						break;
					}
					msg[r] = '\0';
					size_t was_ready = n_ready;
					if (on_reply(machines, n, msg, &n_ready, e) < 0) {
						rc = -1;
						break;
					}
					progress_advance(progress, PROGRESS_SERVERS, n_ready - was_ready);
				}
			}
			if (rc == 0 && (p[2 * k + 1].revents & POLLIN))
				rc = pool_gone(&pools[k], e);
		}
		for (size_t w = 0; rc == 0 && w < n_watches; w++)
			if (p[2 * n_pools + w].revents)
				rc = exit_watch_report(&watches[w], e);
		if (rc < 0)
			break;
	}
	free(next);
	free(p);
	return rc;
}

void server_pool_release(struct server_pool *sp)
{
	close_fd(&sp->sock);
	close_fd(&sp->pidfd);
	sp->sock = sp->pidfd = -1;
}

void server_pool_kill(struct server_pool *sp)
{
	if (sp->pid > 0) {
		if (sp->pidfd >= 0)
			pidfd_kill(sp->pidfd, SIGKILL);
		else
			kill(sp->pid, SIGKILL);
		while (waitpid(sp->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	sp->pid = -1;
	server_pool_release(sp);
}
