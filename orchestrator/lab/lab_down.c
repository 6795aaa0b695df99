/* `down`: ends every process of a lab, by its cgroup (else by its
 * records), waits until each has exited, and removes its state. */
#define _GNU_SOURCE
#include "lab/lab.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lab/cgroup.h"
#include "lab/machine.h"

/* Ends the recorded machines that still run, pools (POOLS) or the others,
 * checking PID and start time so that a reused PID is never hit, and with
 * a cgroup CG only those in it; waits for each to exit. */
static int kill_records(const struct lab_record *r, bool pools, const struct lab_cgroup *cg, struct tb_err *e)
{
	int *pidfds = xcalloc(r->n_machines, sizeof(*pidfds));
	int rc = 0;
	for (size_t i = 0; i < r->n_machines; i++) {
		pidfds[i] = -1;
		const struct machine_record *m = &r->machines[i];
		if (m->pid <= 0 || (strcmp(m->kind, "pool") == 0) != pools)
			continue;
		int fd = pidfd_open_pid(m->pid);
		/* Checked after opening the pidfd: from here the PID cannot be reused. */
		if (fd < 0 || !machine_record_alive(m) || (cg && !machine_record_in_lab(m, cg))) {
			close_fd(&fd);
			continue;
		}
		pidfd_kill(fd, SIGKILL);
		pidfds[i] = fd;
	}
	long long deadline = now_ms() + 10000;
	for (size_t i = 0; i < r->n_machines; i++) {
		if (pidfds[i] < 0)
			continue;
		const struct machine_record *m = &r->machines[i];
		long long left = deadline - now_ms();
		if (!pidfd_wait_exit(pidfds[i], left > 0 ? (int)left : 0) && rc == 0)
			rc = tb_fail(e, "%s (pid %d) did not exit", m->name, m->pid);
		close(pidfds[i]);
	}
	free(pidfds);
	return rc;
}

/* Machines before pools: a pod's init ends only once every process of its
 * PID namespace is reaped, its server included, which is the pool's child.
 * Killed together, the servers would be orphans that the host's init
 * reaps in its own time (some VMs' init every two seconds), and the inits
 * would wait for that. */
static int kill_machines(const struct lab_record *r, const struct lab_cgroup *cg, struct tb_err *e)
{
	int rc = kill_records(r, false, cg, e);
	struct tb_err pools_err;
	if (kill_records(r, true, cg, &pools_err) < 0 && rc == 0)
		rc = tb_fail(e, "%s", pools_err.msg);
	return rc;
}

/* Now, in the clock ticks since boot that /proc/PID/stat gives start times in. */
static unsigned long long boot_ticks(void)
{
	struct timespec ts;
	long hz = sysconf(_SC_CLK_TCK);
	if (clock_gettime(CLOCK_BOOTTIME, &ts) < 0 || hz <= 0)
		return ~0ULL; /* then every PID counts as ours: a longer wait at worst */
	return (unsigned long long)ts.tv_sec * (unsigned long long)hz +
	       (unsigned long long)ts.tv_nsec / (1000000000ULL / (unsigned long long)hz);
}

/* Ends the lab's processes: every process of its cgroup when it has one
 * (whatever the state files say, exec sessions too, and nothing outside
 * the lab), else the recorded machines, checked by pidfd and start time. */
static int end_lab(const char *name, const char *state_dir, const struct lab_record *r, bool *by_cgroup,
		   struct tb_err *e)
{
	struct lab_cgroup cg;
	int has = lab_cgroup_open(name, state_root(state_dir), false, &cg, e);
	if (has < 0)
		return -1;
	*by_cgroup = has > 0;
	if (!has)
		return kill_machines(r, NULL, e);
	/* The recorded machines first (kill_machines says why), then whatever
	 * else the cgroup holds: pools, exec sessions. */
	struct tb_err ignored;
	kill_records(r, false, &cg, &ignored);
	unsigned long long listed_at = boot_ticks();
	pid_t *pids = NULL;
	size_t n = 0;
	lab_cgroup_pids(&cg, &pids, &n);
	int rc = lab_cgroup_kill(&cg, 10000, e);
	lab_cgroup_close(&cg);
	/* An empty cgroup is not yet every process ended: a PID namespace's
	 * init leaves it before it waits for the rest of its namespace. Down is
	 * done when each has exited, and with it its namespaces, mounts and
	 * memory. Its process entry (a zombie, the machines' inits being
	 * orphans) may stay a moment longer, for the host's init to reap: that
	 * is that init's business (docs/performance.md). A PID of ours reused
	 * since started after the listing. */
	long long deadline = now_ms() + 10000;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (kill(pids[i], 0) < 0 && errno == ESRCH)
			continue;
		unsigned long long start = proc_start_time(pids[i]);
		if (!start || start > listed_at)
			continue;
		while (proc_start_time(pids[i]) == start && !proc_is_zombie(pids[i]) && now_ms() < deadline)
			usleep(2000);
	}
	free(pids);
	/* Machines that ended themselves before down (their up died) left
	 * the cgroup already; their records say whom to wait for, but only
	 * machines still on their way out: a record may name anyone. */
	for (size_t i = 0; rc == 0 && i < r->n_machines; i++)
		while (machine_record_ending(&r->machines[i]) && now_ms() < deadline)
			usleep(2000);
	return rc;
}

int lab_down(const char *name, const char *state_dir, struct down_result *res, struct tb_err *e)
{
	struct lab_dir dir;
	*res = (struct down_result){0};
	int locked = lab_dir_lock(state_root(state_dir), name, false, &dir, e);
	if (locked < 0)
		return TB_EXIT_SYSTEM;
	struct lab_record r = {0};
	struct tb_err ignored;
	if (locked) {
		/* Only a fallback without cgroup2: whatever machines were
		 * recorded are in r even when reading failed halfway. */
		lab_read(dir.path, &r, &ignored);
	}
	/* A lab without state may still have processes: its cgroup says. */
	bool by_cgroup = false;
	int rc = TB_EXIT_OK;
	if (end_lab(name, state_dir, &r, &by_cgroup, e) < 0)
		rc = TB_EXIT_SYSTEM;
	res->was_up = locked || by_cgroup;
	res->by_cgroup = by_cgroup;
	lab_record_free(&r);
	if (locked) {
		lab_forget_failed(&dir);
		if (rc == TB_EXIT_OK && lab_dir_remove(&dir, e) < 0)
			rc = TB_EXIT_SYSTEM;
		lab_dir_close(&dir);
	} else {
		/* What a failed up kept goes too: down leaves no trace. */
		struct lab_dir gone = {.root = (char *)state_root(state_dir),
				       .path = xasprintf("%s/%s", state_root(state_dir), name)};
		lab_forget_failed(&gone);
		free(gone.path);
		rmdir(state_root(state_dir));
	}
	return rc;
}
