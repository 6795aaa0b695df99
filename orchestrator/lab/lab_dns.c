/* Cluster DNS of a running lab: see lab_dns.h. */
#define _GNU_SOURCE
#include "lab/lab_dns.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab/cgroup.h"
#include "lab/lab.h"
#include "lab/machine.h"
#include "model/cluster_dns.h"
#include "util/outfile.h"

#define DNS_END_TIMEOUT_MS 5000

/* The record of L's machine I, checked to be the lab's own running
 * process (as exec checks it), with *PIDFD open on it. */
static const struct machine_record *running(struct live_lab *l, size_t i, int *pidfd, struct tb_err *e)
{
	const char *name = l->plan.machines[i].name;
	const struct machine_record *m = NULL;
	for (size_t k = 0; k < l->record.n_machines; k++)
		if (strcmp(l->record.machines[k].name, name) == 0)
			m = &l->record.machines[k];
	if (!m) {
		tb_fail(e, "pod %s has no record in the lab's state", name);
		return NULL;
	}
	struct lab_cgroup cg;
	if (lab_cgroup_open(l->record.name, l->dir.root, false, &cg, e) < 0)
		return NULL;
	*pidfd = pidfd_open_pid(m->pid);
	bool ok = *pidfd >= 0 && machine_record_in_lab(m, &cg);
	lab_cgroup_close(&cg);
	if (!ok) {
		close_fd(pidfd);
		tb_fail(e, "pod %s is not running", name);
		return NULL;
	}
	return m;
}

pid_t lab_dns_server_pid(struct live_lab *l, size_t machine, struct tb_err *e)
{
	const struct plan_machine *pm = &l->plan.machines[machine];
	int pidfd = -1;
	const struct machine_record *m = running(l, machine, &pidfd, e);
	if (!m)
		return 0;
	close_fd(&pidfd);
	/* The workload is the init's child running the pod's command (exec
	 * sessions are children of testbed exec, not of the init). */
	autofree char *path = xasprintf("/proc/%d/task/%d/children", m->pid, m->pid);
	autofree char *children = read_file(path, NULL);
	autofree char *command = xstrdup(pm->argv && pm->argv[0] ? pm->argv[0] : "");
	const char *want = basename(command);
	for (char *save = NULL, *tok = children ? strtok_r(children, " \n", &save) : NULL; tok;
	     tok = strtok_r(NULL, " \n", &save)) {
		pid_t pid = (pid_t)atoi(tok);
		autofree char *comm_path = xasprintf("/proc/%d/comm", pid);
		autofree char *comm = read_file(comm_path, NULL);
		if (!comm)
			continue;
		comm[strcspn(comm, "\n")] = '\0';
		/* comm holds at most 15 characters of the name. */
		if (comm[0] && strncmp(comm, want, 15) == 0)
			return pid;
	}
	tb_fail(e, "cluster DNS's %s does not run in pod %s (see its log: %s/logs/%s.log)", want, pm->name,
		l->dir.path, pm->name);
	return 0;
}

/* C's files written into the root of the pod whose init is PID (PIDFD),
 * from inside its mount namespace and with no more rights than the pod
 * has: what the root holds (a link where a file was) cannot lead the
 * writing outside it. */
static int write_files(pid_t pid, int pidfd, const struct plan_dns_change *c, struct tb_err *e)
{
	char root_path[64];
	snprintf(root_path, sizeof(root_path), "/proc/%d/root", pid);
	autoclose int root = open(root_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int pipefd[2];
	if (root < 0 || pipe2(pipefd, O_CLOEXEC) < 0)
		return tb_fail(e, "opening %s: %s", root_path, strerror(errno));
	pid_t child = fork();
	if (child < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return tb_fail(e, "fork: %s", strerror(errno));
	}
	if (child == 0) {
		close(pipefd[0]);
		struct tb_err why;
		if (setns(pidfd, CLONE_NEWNS) < 0 || fchdir(root) < 0 || chroot(".") < 0 || chdir("/") < 0) {
			dprintf(pipefd[1], "entering its root: %s", strerror(errno));
			_exit(1);
		}
		if (drop_privileges(lab_machine_caps(MACHINE_POD), &why) < 0 ||
		    (c->hosts && write_file_atomic(TB_DNS_HOSTS, c->hosts, strlen(c->hosts), &why) < 0) ||
		    (c->config && write_file_atomic(TB_DNS_CONFIG, c->config, strlen(c->config), &why) < 0)) {
			dprintf(pipefd[1], "%s", why.msg);
			_exit(1);
		}
		_exit(0);
	}
	close(pipefd[1]);
	char why[sizeof(e->msg)] = "";
	size_t used = 0;
	ssize_t n;
	while (used + 1 < sizeof(why) &&
	       ((n = read(pipefd[0], why + used, sizeof(why) - 1 - used)) > 0 || (n < 0 && errno == EINTR)))
		used += n > 0 ? (size_t)n : 0;
	why[used] = '\0';
	close(pipefd[0]);
	int status;
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return tb_fail(e, "%s", why[0] ? why : "the writer ended");
	return 0;
}

int lab_dns_update(struct live_lab *l, const struct plan_dns_change *c, pid_t *old_pid, pid_t *new_pid,
		   struct tb_err *e)
{
	*old_pid = *new_pid = 0;
	const char *name = l->plan.machines[c->machine].name;
	autoclose int init_fd = -1;
	const struct machine_record *m = running(l, c->machine, &init_fd, e);
	pid_t server = m ? lab_dns_server_pid(l, c->machine, e) : 0;
	if (!server)
		return tb_context(e, "cluster DNS");
	if (write_files(m->pid, init_fd, c, e) < 0)
		return tb_context(e, "writing cluster DNS's records into pod %s", name);
	autoclose int server_fd = pidfd_open_pid(server);
	if (server_fd < 0)
		return tb_fail(e, "cluster DNS: dnsmasq (PID %d) in pod %s: %s", server, name, strerror(errno));
	*old_pid = server;
	if (!c->restart) {
		/* dnsmasq reads its hosts files again on SIGHUP. */
		if (pidfd_kill(server_fd, SIGHUP) < 0)
			return tb_fail(e, "cluster DNS: signalling dnsmasq (PID %d) in pod %s: %s", server, name,
				       strerror(errno));
		*new_pid = server;
		return 0;
	}
	/* Records only its configuration can give (SRV, CNAME): the pod's
	 * init ends dnsmasq and starts it again. */
	if (pidfd_kill(init_fd, SIGUSR1) < 0)
		return tb_fail(e, "cluster DNS: asking pod %s's init to restart dnsmasq: %s", name, strerror(errno));
	if (!pidfd_wait_exit(server_fd, DNS_END_TIMEOUT_MS))
		return tb_fail(e, "cluster DNS: dnsmasq (PID %d) in pod %s did not end within %d ms of its restart", server,
			       name, DNS_END_TIMEOUT_MS);
	return 0;
}
