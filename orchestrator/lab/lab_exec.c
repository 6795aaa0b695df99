/* `exec`: a command in a machine of a running lab, with all its
 * namespaces, its root and no more rights than the machine has. */
#define _GNU_SOURCE
#include "lab/lab.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab/cgroup.h"
#include "lab/machine.h"
#include "model/topology.h"

/* The record of the machine TARGET means: a record's own name (the pool's
 * too), else what the saved plan resolves TARGET to (model/names.h). NULL
 * when none; *WHY (malloc'd) when TARGET is ambiguous. */
static const struct machine_record *find_record(const struct lab_record *r, const char *path, const char *target,
						char **why)
{
	for (size_t i = 0; i < r->n_machines; i++)
		if (strcmp(r->machines[i].name, target) == 0)
			return &r->machines[i];
	/* Without a readable plan (an older testbed's lab), names are exact. */
	struct plan p;
	struct tb_err ignored;
	if (lab_load_plan(path, &p, &ignored) < 0)
		return NULL;
	const struct machine_record *m = NULL;
	size_t k;
	if (plan_resolve(&p, target, &k, why) == NAME_FOUND)
		for (size_t i = 0; i < r->n_machines; i++)
			if (strcmp(r->machines[i].name, p.machines[k].name) == 0)
				m = &r->machines[i];
	plan_free(&p);
	return m;
}

int lab_exec(const char *name, const char *target, char **argv, const char *state_dir, struct tb_err *e)
{
	if (!topology_is_lab_name(name)) {
		tb_fail(e, "\"%s\" is not a lab name", name);
		return TB_EXIT_USAGE;
	}
	autofree char *path = xasprintf("%s/%s", state_root(state_dir), name);
	struct lab_record r;
	if (lab_read(path, &r, e) < 0) {
		tb_fail(e, "lab %s is not up", name);
		lab_record_free(&r);
		return TB_EXIT_USAGE;
	}
	autofree char *ambiguous = NULL;
	const struct machine_record *m = find_record(&r, path, target, &ambiguous);
	if (ambiguous) {
		tb_fail(e, "lab %s: %s", name, ambiguous);
		lab_record_free(&r);
		return TB_EXIT_USAGE;
	}
	if (m && strcmp(m->kind, "pool") == 0) {
		tb_fail(e, "%s in lab %s is the pool its pod servers are forked from, not a machine", target, name);
		lab_record_free(&r);
		return TB_EXIT_USAGE;
	}
	if (!m) {
		tb_fail(e, "lab %s has no pod, node or host \"%s\"", name, target);
		lab_record_free(&r);
		return TB_EXIT_USAGE;
	}
	struct lab_cgroup cg;
	if (lab_cgroup_open(name, state_root(state_dir), false, &cg, e) < 0) {
		lab_record_free(&r);
		return TB_EXIT_SYSTEM;
	}
	/* Checked after opening the pidfd, so the PID cannot be reused, and
	 * against the lab's cgroup, so that a record cannot point outside. */
	int pidfd = pidfd_open_pid(m->pid);
	if (pidfd < 0 || !machine_record_in_lab(m, &cg)) {
		if (pidfd >= 0 && machine_record_alive(m))
			tb_fail(e, "%s in lab %s: its record names process %d, which is not the lab's", target, name, m->pid);
		else
			tb_fail(e, "%s in lab %s is not running", target, name);
		close_fd(&pidfd);
		lab_cgroup_close(&cg);
		lab_record_free(&r);
		return TB_EXIT_SYSTEM;
	}
	bool is_lab = strcmp(m->kind, "lab") == 0;
	char root_path[64];
	snprintf(root_path, sizeof(root_path), "/proc/%d/root", m->pid);
	int root = is_lab ? -1 : open(root_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int flags = is_lab ? CLONE_NEWNET : CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID;
	/* All namespaces at once, through the pidfd; PID applies to children. */
	if ((!is_lab && root < 0) || setns(pidfd, flags) < 0) {
		tb_fail(e, "entering %s: %s", target, strerror(errno));
		close_fd(&root);
		close(pidfd);
		lab_record_free(&r);
		return TB_EXIT_SYSTEM;
	}
	close(pidfd);
	char *shell[] = {"/bin/sh", NULL};
	char **cmd = argv && argv[0] ? argv : shell;
	/* The terminal's signals go to the command; we only wait for it. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	enum machine_kind kind = MACHINE_POD;
	machine_kind_parse(m->kind, &kind);
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		/* Into the lab's cgroup: down ends exec sessions too. */
		if (cg.procs >= 0 && cgroup_enter(cg.procs) < 0) {
			fprintf(stderr, "testbed exec: joining the lab's cgroup: %s\n", strerror(errno));
			_exit(126);
		}
		if (is_lab) {
			execvp(cmd[0], cmd);
		} else {
			struct tb_err why;
			if (fchdir(root) < 0 || chroot(".") < 0 || chdir("/") < 0) {
				fprintf(stderr, "testbed exec: entering the root of %s: %s\n", target, strerror(errno));
				_exit(126);
			}
			/* What runs in a machine has no more rights than the machine. */
			if (drop_privileges(lab_machine_caps(kind), &why) < 0) {
				fprintf(stderr, "testbed exec: %s: %s\n", target, why.msg);
				_exit(126);
			}
			const char *term = getenv("TERM");
			char term_var[128];
			snprintf(term_var, sizeof(term_var), "TERM=%s", term ? term : "dumb");
			char host_var[128];
			/* A pod's own name, as its hostname is, however it was named here. */
			const char *slash = strchr(m->name, '/');
			snprintf(host_var, sizeof(host_var), "HOSTNAME=%s", slash ? slash + 1 : m->name);
			char *envp[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
					"HOME=/root", "LANG=C.UTF-8", term_var, host_var, NULL};
			execvpe(cmd[0], cmd, envp);
		}
		/* The child has nobody to return an error to. */
		fprintf(stderr, "testbed exec: %s: %s\n", cmd[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	close_fd(&root);
	lab_cgroup_close(&cg);
	lab_record_free(&r);
	if (pid < 0) {
		tb_fail(e, "fork: %s", strerror(errno));
		return TB_EXIT_SYSTEM;
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			tb_fail(e, "waiting for %s: %s", cmd[0], strerror(errno));
			return TB_EXIT_SYSTEM;
		}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}
