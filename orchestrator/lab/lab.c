/* Bringing labs up and down, and looking into them. `up` saves the plan,
 * then walks its steps through the executors (step.h), starts the
 * workloads and waits for the servers; any failure removes everything it
 * made. */
#define _GNU_SOURCE
#include "lab/lab.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lab/cgroup.h"
#include "lab/machine.h"
#include "steps/netlink.h"
#include "check/probe.h"
#include "util/progress.h"
#include "image/image_cache.h"
#include "lab/server_pool.h"
#include "steps/step.h"
#include "model/topology.h"

#define SETUP_TIMEOUT_MS 60000

static volatile int interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

/* SIGINT and friends make `up` clean up and fail instead of dying midway
 * (which would leave a lab directory for `down` to remove). */
static void catch_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* A machine gone before its commit must fail up, not kill it. */
	signal(SIGPIPE, SIG_IGN);
}

struct up {
	struct plan *plan;
	struct lab_dir dir;
	struct exec_ctx ctx;
	struct machine *machines; /* parallel to plan.machines */
	struct nl_sock **socks;
	char **rootfs; /* per image: the unpacked tree */
	char *scratch;
	size_t n_spawned;
	struct lab_cgroup cgroup; /* path NULL: no cgroup2 here */
	struct server_pool *pools; /* per image; pid -1: not started */
	struct progress *progress; /* the status line; off unless on a terminal */
};

/* Machines whose workload is the pod server get theirs from their image's
 * pool (server_pool.h) instead of a fresh interpreter each. */
static bool pooled(const struct plan_machine *pm)
{
	return pm->pod_server && pm->image != PLAN_NONE;
}

/* The capabilities each kind of machine keeps (docs/security.md): pods
 * only ping and bind low ports; nodes, the gateway and the article's hosts
 * also configure their own network, and may drop to another user, as
 * tcpdump does once its capture is open. The lab namespace is testbed's own. */
static uint64_t machine_caps(enum machine_kind kind)
{
	uint64_t pod = 1ULL << CAP_NET_RAW | 1ULL << CAP_NET_BIND_SERVICE;
	return kind == MACHINE_POD ? pod : pod | 1ULL << CAP_NET_ADMIN | 1ULL << CAP_SETUID | 1ULL << CAP_SETGID;
}

static int check_interrupted(struct tb_err *e)
{
	return interrupted ? tb_fail(e, "interrupted by signal %d", interrupted) : 0;
}

static int unpack_images(struct up *u, struct tb_err *e)
{
	struct plan *p = u->plan;
	progress_begin(u->progress, PROGRESS_IMAGES, p->n_images);
	for (size_t i = 0; i < p->n_images; i++) {
		if (!(u->rootfs[i] = image_unpack(cache_dir(), p->images[i].path, p->images[i].sha256, e)))
			return -1;
		progress_advance(u->progress, PROGRESS_IMAGES, 1);
	}
	progress_end(u->progress, PROGRESS_IMAGES);
	return 0;
}

/* STEP_MACHINE's callback: spawn the machine and record it at once, so
 * that down finds it even if up dies right after. */
static int spawn_machine(struct exec_ctx *ctx, size_t i, struct tb_err *e)
{
	struct up *u = ctx->owner;
	const struct plan *p = u->plan;
	const struct plan_machine *pm = &p->machines[i];
	if (check_interrupted(e) < 0)
		return -1;
	autofree char *log_path = xasprintf("%s/logs/%s.log", u->dir.path, pm->name);
	autoclose int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (log < 0)
		return tb_fail(e, "creating %s: %s", log_path, strerror(errno));
	char address[IPV4_PREFIX_STRLEN] = "";
	if (pm->address)
		ipv4_addr_format(pm->address, address);
	const char *node = pm->parent != PLAN_NONE ? p->machines[pm->parent].name : "";
	struct machine_spec spec = {
		.name = pm->name,
		/* The lab namespace plays the host: only its network is its own. */
		.clone_flags = pm->kind == MACHINE_LAB ? CLONE_NEWNET
						       : CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC,
		.rootfs = pm->image != PLAN_NONE ? u->rootfs[pm->image] : NULL,
		.scratch = u->scratch,
		.address = pm->address ? address : NULL,
		.argv = pooled(pm) ? NULL : pm->argv,
		.node = node,
		.log_fd = log,
		.pid_ns_fd = pm->parent != PLAN_NONE ? u->machines[pm->parent].pidns : -1,
		.disk_bytes = pm->disk ? pm->disk : TB_DEFAULT_DISK,
		.cgroup_procs = u->cgroup.procs,
		.confine = pm->kind != MACHINE_LAB,
		.caps = machine_caps(pm->kind),
	};
	if (machine_spawn(&spec, &u->machines[i], e) < 0)
		return -1;
	u->n_spawned = i + 1;
	struct machine_record rec = {
		.kind = (char *)machine_kind_name(pm->kind),
		.name = pm->name,
		.node = (char *)node,
		.address = address,
		.http_port = pm->http_port,
		.pid = u->machines[i].pid,
		.start_time = proc_start_time(u->machines[i].pid),
	};
	return lab_append_machine(&u->dir, &rec, e);
}

/* Walks the plan's steps, in order; times machines and the network apart. */
static int apply_steps(struct up *u, struct tb_err *e)
{
	struct plan *p = u->plan;
	double machines_ms = 0, network_ms = 0;
	/* Machine steps and the others interleave: both phases run together. */
	size_t n_machine_steps = 0;
	for (size_t i = 0; i < p->n_steps; i++)
		n_machine_steps += p->steps[i].kind == STEP_MACHINE;
	progress_begin(u->progress, PROGRESS_MACHINES, n_machine_steps);
	progress_begin(u->progress, PROGRESS_NETWORK, p->n_steps - n_machine_steps);
	for (size_t i = 0; i < p->n_steps; i++) {
		const struct step *s = &p->steps[i];
		if (check_interrupted(e) < 0)
			return -1;
		long long start = now_ms();
		if (step_ops(s->kind)->apply(&u->ctx, s, e) < 0)
			return -1;
		bool machine = s->kind == STEP_MACHINE;
		*(machine ? &machines_ms : &network_ms) += (double)(now_ms() - start);
		progress_advance(u->progress, machine ? PROGRESS_MACHINES : PROGRESS_NETWORK, 1);
	}
	p->timings.machines = machines_ms;
	p->timings.network = network_ms;
	progress_end(u->progress, PROGRESS_MACHINES);
	progress_end(u->progress, PROGRESS_NETWORK);
	return 0;
}

/* "servers:IMAGE", or by index when the image's name is no file name. */
static char *pool_name(const struct plan *p, size_t image)
{
	const char *name = p->images[image].name;
	return topology_is_lab_name(name) ? xasprintf("servers:%s", name) : xasprintf("servers:%zu", image);
}

/* Starts the pool of IMAGE and records it, so that down ends it too. */
static int start_pool(struct up *u, size_t image, struct tb_err *e)
{
	const struct plan *p = u->plan;
	autofree char *name = pool_name(p, image);
	autofree char *log_name = xasprintf("%s/logs/servers-%s.log", u->dir.path, strchr(name, ':') + 1);
	autoclose int log = open(log_name, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (log < 0)
		return tb_fail(e, "creating %s: %s", log_name, strerror(errno));
	struct server_pool_spec spec = {
		.name = name,
		.rootfs = u->rootfs[image],
		.scratch = u->scratch,
		.program = POD_SERVER_PATH,
		.log_fd = log,
		.cgroup_procs = u->cgroup.procs,
	};
	if (server_pool_start(&spec, &u->pools[image], e) < 0)
		return -1;
	struct machine_record rec = {
		.kind = "pool",
		.name = name,
		.node = "",
		.address = "",
		.pid = u->pools[image].pid,
		.start_time = proc_start_time(u->pools[image].pid),
	};
	return lab_append_machine(&u->dir, &rec, e);
}

/* The pools of the images pooled machines use, started before the first
 * machine: each pool's interpreter starts and imports its modules (about
 * 150 ms, most of a small lab's servers phase) while up creates the
 * machines and their network. */
static int start_pools(struct up *u, struct tb_err *e)
{
	const struct plan *p = u->plan;
	for (size_t i = 0; i < p->n_machines; i++) {
		const struct plan_machine *pm = &p->machines[i];
		if (pooled(pm) && u->pools[pm->image].pid < 0 && start_pool(u, pm->image, e) < 0)
			return -1;
	}
	return 0;
}

/* The pod servers, from their images' pools; waits until each listens. */
static int start_pooled_servers(struct up *u, const struct exit_watch *watch, size_t n_watch, int timeout_ms,
				struct tb_err *e)
{
	const struct plan *p = u->plan;
	struct served_machine *served = xcalloc(p->n_machines ? p->n_machines : 1, sizeof(*served));
	char **logs = xcalloc(p->n_machines ? p->n_machines : 1, sizeof(*logs));
	size_t n = 0;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < p->n_machines; i++) {
		const struct plan_machine *pm = &p->machines[i];
		if (!pooled(pm))
			continue;
		if (u->pools[pm->image].pid < 0 && start_pool(u, pm->image, e) < 0) {
			rc = -1;
			break;
		}
		logs[n] = xasprintf("%s/logs/%s.log", u->dir.path, pm->name);
		served[n] = (struct served_machine){
			.name = pm->name,
			.node = pm->parent != PLAN_NONE ? p->machines[pm->parent].name : "",
			.caps = machine_caps(pm->kind),
			.tcp_port = pm->http_port,
			.pidfd = u->machines[i].pidfd,
			.log = logs[n],
			.pool = pm->image,
		};
		n++;
	}
	if (rc == 0 && n > 0)
		rc = server_pools_serve(u->pools, p->n_images, served, n, watch, n_watch, timeout_ms, &interrupted,
					u->progress, e);
	for (size_t i = 0; i < n; i++)
		free(logs[i]);
	free(logs);
	free(served);
	return rc;
}

static int start_workloads(struct up *u, int timeout_s, struct tb_err *e)
{
	const struct plan *p = u->plan;
	size_t n_servers = 0;
	for (size_t i = 0; i < p->n_machines; i++)
		n_servers += pooled(&p->machines[i]) || p->machines[i].http_port;
	progress_begin(u->progress, PROGRESS_SERVERS, n_servers);
	for (size_t i = 0; i < p->n_machines; i++) {
		if (machine_wait_ready(&u->machines[i], SETUP_TIMEOUT_MS, e) < 0)
			return tb_context(e, "%s", p->machines[i].name);
		if (machine_start(&u->machines[i], e) < 0)
			return tb_context(e, "%s", p->machines[i].name);
	}
	/* Every workload must keep running meanwhile: one that exits fails up
	 * at once, not after the timeout. */
	struct exit_watch *watch = xcalloc(p->n_machines ? p->n_machines : 1, sizeof(*watch));
	size_t n_watch = 0;
	for (size_t i = 0; i < p->n_machines; i++)
		if (p->machines[i].argv && !pooled(&p->machines[i]))
			watch[n_watch++] = (struct exit_watch){.name = p->machines[i].name, .fd = u->machines[i].status};
	long long deadline = now_ms() + (long long)timeout_s * 1000;
	int rc = start_pooled_servers(u, watch, n_watch, timeout_s * 1000, e);
	/* Other workloads that serve HTTP must accept connections before up
	 * returns: pods reached from their node, across cbr0; hosts on their
	 * own loopback, since a host may have no interface. */
	struct listen_wait *w = xcalloc(p->n_machines ? p->n_machines : 1, sizeof(*w));
	size_t n = 0;
	for (size_t i = 0; i < p->n_machines; i++) {
		const struct plan_machine *pm = &p->machines[i];
		if (!pm->http_port || pooled(pm))
			continue;
		bool pod = pm->kind == MACHINE_POD;
		w[n++] = (struct listen_wait){
			.name = pm->name,
			.netns = pod ? u->machines[pm->parent].netns : u->machines[i].netns,
			.addr = pod ? pm->address : 0x7F000001,
			.port = (uint16_t)pm->http_port,
		};
	}
	long long left = deadline - now_ms();
	if (rc == 0 && n > 0)
		rc = wait_listening(w, n, watch, n_watch, left > 0 ? (int)left : 1, &interrupted, e);
	/* These are waited for together: counted once all listen. */
	if (rc == 0) {
		progress_advance(u->progress, PROGRESS_SERVERS, n);
		progress_end(u->progress, PROGRESS_SERVERS);
	}
	free(w);
	free(watch);
	if (rc < 0)
		tb_context(e, "waiting for the servers");
	return rc;
}

static void up_release(struct up *u, bool kill)
{
	for (size_t i = 0; u->socks && i < u->plan->n_machines; i++)
		nl_close(u->socks[i]);
	for (size_t i = 0; u->rootfs && i < u->plan->n_images; i++)
		free(u->rootfs[i]);
	/* Pods before their nodes, each reaped the moment it ends: pods by
	 * their node's init, the others by the spawner, still running. The
	 * pools go after the machines: a pod's init ends only once its server
	 * is reaped, which its pool does at once and the host's init, to which
	 * it would fall, in its own time. */
	for (size_t i = u->n_spawned; kill && i-- > 0;)
		machine_kill(&u->machines[i]);
	for (size_t i = 0; u->pools && i < u->plan->n_images; i++) {
		if (kill)
			server_pool_kill(&u->pools[i]);
		else
			server_pool_release(&u->pools[i]);
	}
	free(u->pools);
	/* Only now: the spawner reaps the machines it made as they end. */
	machine_spawner_stop();
	free(u->machines);
	free(u->socks);
	free(u->rootfs);
	free(u->scratch);
}

static int make_lab_dirs(const struct lab_dir *d, struct tb_err *e)
{
	const char *dirs[] = {"logs", "mnt"};
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		autofree char *path = lab_path(d, dirs[i]);
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return tb_fail(e, "creating %s: %s", path, strerror(errno));
	}
	return 0;
}

/* Locks the lab's directory, refusing a lab that is up or left over. */
static int claim_lab(struct up *u, const char *state_dir, struct tb_err *e)
{
	const char *name = u->plan->lab;
	if (lab_dir_lock(state_root(state_dir), name, true, &u->dir, e) < 0)
		return TB_EXIT_SYSTEM;
	struct lab_record existing;
	struct tb_err ignored;
	if (lab_read(u->dir.path, &existing, &ignored) == 0) {
		if (strcmp(existing.phase, "up") == 0)
			tb_fail(e, "lab %s is already up (from %s); testbed down %s first", name, existing.topology, name);
		else
			tb_fail(e, "lab %s has leftovers of an interrupted up; remove them with: testbed down %s", name,
				name);
		lab_record_free(&existing);
		lab_dir_close(&u->dir);
		return TB_EXIT_USAGE;
	}
	lab_record_free(&existing);
	/* The lab's cgroup: every machine joins it as it starts. One that
	 * still holds processes belongs to a lab whose state is gone. */
	int has = lab_cgroup_open(name, state_root(state_dir), true, &u->cgroup, e);
	if (has < 0 || (has && lab_cgroup_count(&u->cgroup) != 0)) {
		if (has > 0)
			tb_fail(e, "lab %s has leftovers: processes in its cgroup %s; remove them with: testbed down %s",
				name, u->cgroup.path, name);
		lab_cgroup_close(&u->cgroup);
		lab_dir_close(&u->dir);
		return has < 0 ? TB_EXIT_SYSTEM : TB_EXIT_USAGE;
	}
	return TB_EXIT_OK;
}

int lab_up(struct plan *p, const char *state_dir, int timeout_s, struct progress *progress, pid_t **pids,
	   struct tb_err *e)
{
	struct up u = {.plan = p, .cgroup = LAB_CGROUP_INIT, .progress = progress};
	*pids = NULL;
	int rc = claim_lab(&u, state_dir, e);
	if (rc != TB_EXIT_OK)
		return rc;
	catch_signals();
	long long start = now_ms();
	u.machines = xcalloc(p->n_machines, sizeof(*u.machines));
	for (size_t i = 0; i < p->n_machines; i++)
		u.machines[i] = (struct machine)MACHINE_INIT;
	u.socks = xcalloc(p->n_machines, sizeof(*u.socks));
	u.rootfs = xcalloc(p->n_images ? p->n_images : 1, sizeof(*u.rootfs));
	u.pools = xcalloc(p->n_images ? p->n_images : 1, sizeof(*u.pools));
	for (size_t i = 0; i < p->n_images; i++)
		u.pools[i] = (struct server_pool)SERVER_POOL_INIT;
	u.scratch = lab_path(&u.dir, "mnt");
	u.ctx = (struct exec_ctx){
		.plan = p, .machines = u.machines, .socks = u.socks, .spawn = spawn_machine, .owner = &u};

	long long phase = now_ms();
	int ok = lab_write(&u.dir, p->lab, p->topology, "starting", e) == 0 && make_lab_dirs(&u.dir, e) == 0 &&
		 unpack_images(&u, e) == 0;
	p->timings.images = (double)(now_ms() - phase);
	/* The contract, saved before the first change to the kernel. */
	ok = ok && lab_save_plan(&u.dir, p, e) == 0 && machine_spawner_start(e) == 0 && start_pools(&u, e) == 0 &&
	     apply_steps(&u, e) == 0;
	phase = now_ms();
	ok = ok && start_workloads(&u, timeout_s, e) == 0 && check_interrupted(e) == 0;
	p->timings.servers = (double)(now_ms() - phase);
	p->timings.total = (double)(now_ms() - start);
	ok = ok && lab_save_plan(&u.dir, p, e) == 0;
	/* "up" is recorded only once every machine is committed; a failed
	 * commit or record fails up. */
	for (size_t i = 0; ok && i < p->n_machines; i++)
		if (machine_commit(&u.machines[i], e) < 0) {
			tb_context(e, "%s", p->machines[i].name);
			ok = 0;
		}
	ok = ok && lab_write(&u.dir, p->lab, p->topology, "up", e) == 0;
	if (!ok) {
		tb_context(e, "%s", p->lab);
		bool had_machines = u.n_spawned > 0;
		up_release(&u, true);
		struct tb_err cg_err;
		if (u.cgroup.path && lab_cgroup_kill(&u.cgroup, 10000, &cg_err) < 0)
			tb_context(e, "%s", cg_err.msg);
		lab_cgroup_close(&u.cgroup);
		/* The evidence outlives the lab: its machines' output is kept,
		 * when there are machines, unless the user stopped up on purpose. */
		struct tb_err e2;
		char why[sizeof(e->msg)];
		memcpy(why, e->msg, sizeof(why));
		autofree char *kept = interrupted || !had_machines ? NULL : lab_keep_logs(&u.dir, &e2);
		if (kept)
			tb_fail(e, "%s (the machines' output is kept in %s)", why, kept);
		memcpy(why, e->msg, sizeof(why));
		if (lab_dir_remove(&u.dir, &e2) < 0)
			tb_fail(e, "%s; and cleaning up: %s", why, e2.msg);
		lab_dir_close(&u.dir);
		return TB_EXIT_SYSTEM;
	}
	lab_forget_failed(&u.dir);
	*pids = xcalloc(p->n_machines, sizeof(**pids));
	for (size_t i = 0; i < p->n_machines; i++) {
		(*pids)[i] = u.machines[i].pid;
		machine_release(&u.machines[i]);
	}
	lab_cgroup_close(&u.cgroup);
	up_release(&u, false);
	lab_dir_close(&u.dir);
	return TB_EXIT_OK;
}

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

static int by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool listed(char **names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* Did the up that wrote this lab's state die before the lab was up? */
static bool up_died(const char *root, const char *name)
{
	autofree char *path = xasprintf("%s/%s", root, name);
	struct lab_record r;
	struct tb_err ignored;
	bool died = true;
	if (lab_read(path, &r, &ignored) == 0)
		died = strcmp(r.phase, "up") != 0 && (r.writer <= 0 || (kill(r.writer, 0) < 0 && errno == ESRCH));
	else if (access(path, F_OK) == 0)
		died = true; /* unreadable state: nothing can use it */
	lab_record_free(&r);
	return died;
}

int lab_list_removable(const char *state_dir, bool all, char ***names, size_t *n, struct tb_err *e)
{
	const char *root = state_root(state_dir);
	char **cgroups = NULL;
	size_t n_cgroups = 0, cap = 0;
	*names = NULL;
	*n = 0;
	if (lab_cgroups_list(root, &cgroups, &n_cgroups, e) < 0)
		return TB_EXIT_SYSTEM;
	DIR *dir = opendir(root);
	for (struct dirent *de; dir && (de = readdir(dir));) {
		if (de->d_name[0] == '.' || !topology_is_lab_name(de->d_name) || (!all && !up_died(root, de->d_name)))
			continue;
		grow_array((void **)names, &cap, *n + 1, sizeof(**names));
		(*names)[(*n)++] = xstrdup(de->d_name);
	}
	if (dir)
		closedir(dir);
	/* A cgroup without a lab directory: its up died before writing any
	 * state, or the state was removed; only the cgroup knows its processes. */
	for (size_t i = 0; i < n_cgroups; i++) {
		autofree char *path = xasprintf("%s/%s", root, cgroups[i]);
		if (topology_is_lab_name(cgroups[i]) && !listed(*names, *n, cgroups[i]) &&
		    (all || access(path, F_OK) < 0)) {
			grow_array((void **)names, &cap, *n + 1, sizeof(**names));
			(*names)[(*n)++] = xstrdup(cgroups[i]);
		}
		free(cgroups[i]);
	}
	free(cgroups);
	/* qsort's array may not be NULL, even for no elements (UBSan). */
	if (*n > 1)
		qsort(*names, *n, sizeof(**names), by_string);
	return TB_EXIT_OK;
}

int lab_status_read(const char *name, const char *state_dir, struct lab_status **labs, size_t *n, struct tb_err *e)
{
	const char *root = state_root(state_dir);
	char **names = NULL;
	size_t n_names = 0, cap = 0;
	*labs = NULL;
	*n = 0;
	if (state_root_check(root, e) < 0)
		return TB_EXIT_SYSTEM;
	if (name) {
		grow_array((void **)&names, &cap, 1, sizeof(*names));
		names[n_names++] = xstrdup(name);
	} else {
		DIR *dir = opendir(root);
		for (struct dirent *de; dir && (de = readdir(dir));)
			if (de->d_name[0] != '.' && topology_is_lab_name(de->d_name)) {
				grow_array((void **)&names, &cap, n_names + 1, sizeof(*names));
				names[n_names++] = xstrdup(de->d_name);
			}
		if (dir)
			closedir(dir);
		if (n_names > 1) /* names is NULL for none, which qsort may not get */
			qsort(names, n_names, sizeof(*names), by_string);
	}
	int rc = TB_EXIT_OK;
	*labs = xcalloc(n_names ? n_names : 1, sizeof(**labs));
	for (size_t i = 0; i < n_names; i++) {
		autofree char *path = xasprintf("%s/%s", root, names[i]);
		struct lab_status *s = &(*labs)[*n];
		struct tb_err why;
		if (lab_read(path, &s->record, &why) < 0) {
			lab_record_free(&s->record);
			if (name) {
				tb_fail(e, "lab %s is not up", name);
				rc = TB_EXIT_USAGE;
			}
			continue;
		}
		s->has_plan = lab_load_plan(path, &s->plan, &why) == 0;
		if (!s->has_plan)
			snprintf(s->plan_error, sizeof(s->plan_error), "%s", why.msg);
		(*n)++;
	}
	for (size_t i = 0; i < n_names; i++)
		free(names[i]);
	free(names);
	return rc;
}

void lab_status_free(struct lab_status *labs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		lab_record_free(&labs[i].record);
		if (labs[i].has_plan)
			plan_free(&labs[i].plan);
	}
	free(labs);
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
	const struct machine_record *m = NULL;
	for (size_t i = 0; i < r.n_machines; i++)
		if (strcmp(r.machines[i].name, target) == 0)
			m = &r.machines[i];
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
			if (drop_privileges(machine_caps(kind), &why) < 0) {
				fprintf(stderr, "testbed exec: %s: %s\n", target, why.msg);
				_exit(126);
			}
			const char *term = getenv("TERM");
			char term_var[128];
			snprintf(term_var, sizeof(term_var), "TERM=%s", term ? term : "dumb");
			char host_var[128];
			snprintf(host_var, sizeof(host_var), "HOSTNAME=%s", target);
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
