/* A running pod of a lab, for apply: see lab_pod.h. */
#define _GNU_SOURCE
#include "lab/lab_pod.h"

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
#include "util/outfile.h"

#define RESTART_END_TIMEOUT_MS 5000

const struct machine_record *lab_pod_running(struct live_lab *l, size_t i, int *pidfd, struct tb_err *e)
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

pid_t lab_pod_workload_pid(struct live_lab *l, size_t machine, struct tb_err *e)
{
	const struct plan_machine *pm = &l->plan.machines[machine];
	int pidfd = -1;
	const struct machine_record *m = lab_pod_running(l, machine, &pidfd, e);
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
	tb_fail(e, "%s does not run in pod %s (see its log: %s/logs/%s.log)", want, pm->name, l->dir.path, pm->name);
	return 0;
}

int lab_pod_write_files(pid_t pid, int pidfd, const struct plan_file *files, size_t n, struct tb_err *e)
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
		if (drop_privileges(lab_machine_caps(MACHINE_POD), &why) < 0) {
			dprintf(pipefd[1], "%s", why.msg);
			_exit(1);
		}
		for (size_t i = 0; i < n; i++)
			if (write_file_atomic(files[i].path, files[i].content, strlen(files[i].content), &why) < 0) {
				dprintf(pipefd[1], "%s", why.msg);
				_exit(1);
			}
		_exit(0);
	}
	close(pipefd[1]);
	char why[sizeof(e->msg)] = "";
	size_t used = 0;
	ssize_t got;
	while (used + 1 < sizeof(why) &&
	       ((got = read(pipefd[0], why + used, sizeof(why) - 1 - used)) > 0 || (got < 0 && errno == EINTR)))
		used += got > 0 ? (size_t)got : 0;
	why[used] = '\0';
	close(pipefd[0]);
	int status;
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return tb_fail(e, "%s", why[0] ? why : "the writer ended");
	return 0;
}


int lab_pod_restart_workload(int init_fd, pid_t workload, const char *name, struct tb_err *e)
{
	autoclose int fd = pidfd_open_pid(workload);
	if (fd < 0)
		return tb_fail(e, "pod %s: its workload (PID %d): %s", name, workload, strerror(errno));
	if (pidfd_kill(init_fd, SIGUSR1) < 0)
		return tb_fail(e, "asking pod %s's init to restart its workload: %s", name, strerror(errno));
	if (!pidfd_wait_exit(fd, RESTART_END_TIMEOUT_MS))
		return tb_fail(e, "pod %s: its workload (PID %d) did not end within %d ms of its restart", name, workload,
			       RESTART_END_TIMEOUT_MS);
	return 0;
}
