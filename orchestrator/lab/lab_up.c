/* `up`: saves the plan, then walks its steps through the executors
 * (steps/step.h), starts the workloads and waits for the servers; any
 * failure removes everything it made. */
#define _GNU_SOURCE
#include "lab/lab.h"
#include "lab/lab_apply.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image_cache.h"
#include "lab/cgroup.h"
#include "lab/machine.h"
#include "lab/server_pool.h"
#include "lab/ready.h"
#include "model/topology.h"
#include "steps/netlink.h"
#include "steps/step.h"
#include "util/progress.h"

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
	int *netns;               /* theirs, as each is spawned: what the steps act on */
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
uint64_t lab_machine_caps(enum machine_kind kind)
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

/* A machine's hostname: its own name, cut to 63 bytes and without a '-' or
 * '.' at the end, as the kubelet makes a pod's from a longer name. */
static void machine_hostname(const struct plan_machine *pm, char hostname[64])
{
	snprintf(hostname, 64, "%.63s", plan_machine_object_name(pm));
	for (size_t n = strlen(hostname); n && (hostname[n - 1] == '-' || hostname[n - 1] == '.');)
		hostname[--n] = '\0';
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
	autofree char *file_name = plan_machine_file_name(pm);
	autofree char *log_path = xasprintf("%s/logs/%s.log", u->dir.path, file_name);
	char hostname[64];
	machine_hostname(pm, hostname);
	autoclose int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (log < 0)
		return tb_fail(e, "creating %s: %s", log_path, strerror(errno));
	char address[IPV4_PREFIX_STRLEN] = "";
	if (pm->address)
		ipv4_addr_format(pm->address, address);
	const char *node = pm->parent != PLAN_NONE ? p->machines[pm->parent].name : "";
	struct machine_spec spec = {
		.name = hostname,
		/* The lab namespace plays the host: only its network is its own. */
		.clone_flags = pm->kind == MACHINE_LAB ? CLONE_NEWNET
			       : pm->host_network ? CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC
						  : CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC,
		.rootfs = pm->image != PLAN_NONE ? u->rootfs[pm->image] : NULL,
		.scratch = u->scratch,
		.address = pm->address ? address : NULL,
		.argv = pooled(pm) ? NULL : pm->argv,
		.node = node,
		.log_fd = log,
		.pid_ns_fd = pm->parent != PLAN_NONE ? u->machines[pm->parent].pidns : -1,
		.net_ns_fd = pm->host_network ? u->machines[pm->parent].netns : -1,
		.disk_bytes = pm->disk ? pm->disk : TB_DEFAULT_DISK,
		.cgroup_procs = u->cgroup.procs,
		.confine = pm->kind != MACHINE_LAB,
		.caps = lab_machine_caps(pm->kind),
		.files = pm->files,
		.n_files = pm->n_files,
	};
	if (machine_spawn(&spec, &u->machines[i], e) < 0)
		return -1;
	u->n_spawned = i + 1;
	u->netns[i] = u->machines[i].netns;
	struct machine_record rec = {
		.kind = (char *)machine_kind_name(pm->kind),
		.name = pm->name,
		.node = (char *)node,
		.address = address,
		.http_port = plan_machine_http_port(pm),
		.pid = u->machines[i].pid,
		.start_time = proc_start_time(u->machines[i].pid),
	};
	return lab_append_machine(&u->dir, &rec, e);
}

static int before_step(void *arg, struct tb_err *e)
{
	(void)arg;
	return check_interrupted(e);
}

/* Times machines and the network apart, and shows both advance. */
static void after_step(void *arg, const struct step *s, double ms)
{
	struct up *u = arg;
	bool machine = s->kind == STEP_MACHINE;
	*(machine ? &u->plan->timings.machines : &u->plan->timings.network) += ms;
	if (s->kind == STEP_NFT)
		u->plan->timings.rules += ms;
	progress_advance(u->progress, machine ? PROGRESS_MACHINES : PROGRESS_NETWORK, 1);
}

/* Walks the plan's steps, in order. */
static int apply_steps(struct up *u, struct tb_err *e)
{
	struct plan *p = u->plan;
	/* Machine steps and the others interleave: both phases run together. */
	size_t n_machine_steps = 0;
	for (size_t i = 0; i < p->n_steps; i++)
		n_machine_steps += p->steps[i].kind == STEP_MACHINE;
	progress_begin(u->progress, PROGRESS_MACHINES, n_machine_steps);
	progress_begin(u->progress, PROGRESS_NETWORK, p->n_steps - n_machine_steps);
	p->timings.machines = p->timings.network = p->timings.rules = 0;
	/* Rule sets load side by side, one node per CPU: a 1000-service
	 * kube-proxy table costs a node 0.4 s of CPU (docs/bench.md). */
	struct steps_walk walk = {.before = before_step, .after = after_step, .arg = u, .threads = apart_cpus()};
	if (steps_apply(&u->ctx, &walk, e) < 0)
		return -1;
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
		autofree char *file_name = plan_machine_file_name(pm);
		logs[n] = xasprintf("%s/logs/%s.log", u->dir.path, file_name);
		served[n] = (struct served_machine){
			.name = pm->name,
			.hostname = plan_machine_object_name(pm),
			.node = pm->parent != PLAN_NONE ? p->machines[pm->parent].name : "",
			.caps = lab_machine_caps(pm->kind),
			.ports = pm->ports,
			.n_ports = pm->n_ports,
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

/* The TCP ports a machine's workload listens on: up waits until each
 * accepts connections. (What a command of the user's does with a UDP port
 * nothing tells; the pod server binds its UDP ports before it says ready.) */
static size_t tcp_ports(const struct plan_machine *pm)
{
	size_t n = 0;
	for (size_t k = 0; pm->argv && k < pm->n_ports; k++)
		n += pm->ports[k].protocol == TB_PROTOCOL_TCP;
	return n;
}

static int start_workloads(struct up *u, int timeout_s, struct tb_err *e)
{
	const struct plan *p = u->plan;
	size_t n_servers = 0;
	for (size_t i = 0; i < p->n_machines; i++)
		n_servers += pooled(&p->machines[i]) || tcp_ports(&p->machines[i]);
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
	char **logs = xcalloc(p->n_machines ? p->n_machines : 1, sizeof(*logs));
	size_t n_watch = 0;
	for (size_t i = 0; i < p->n_machines; i++)
		if (p->machines[i].argv && !pooled(&p->machines[i])) {
			autofree char *file_name = plan_machine_file_name(&p->machines[i]);
			logs[n_watch] = xasprintf("%s/logs/%s.log", u->dir.path, file_name);
			watch[n_watch] = (struct exit_watch){.name = p->machines[i].name, .fd = u->machines[i].status,
							     .log = logs[n_watch]};
			n_watch++;
		}
	long long deadline = now_ms() + (long long)timeout_s * 1000;
	int rc = start_pooled_servers(u, watch, n_watch, timeout_s * 1000, e);
	/* Other workloads that serve HTTP must accept connections before up
	 * returns: pods reached from their node, across cbr0; hosts on their
	 * own loopback, since a host may have no interface. */
	size_t n = 0, n_servers_waited = 0;
	for (size_t i = 0; i < p->n_machines; i++)
		n += pooled(&p->machines[i]) ? 0 : tcp_ports(&p->machines[i]);
	struct listen_wait *w = xcalloc(n ? n : 1, sizeof(*w));
	n = 0;
	for (size_t i = 0; i < p->n_machines; i++) {
		const struct plan_machine *pm = &p->machines[i];
		if (pooled(pm) || !tcp_ports(pm))
			continue;
		n_servers_waited++;
		bool pod = pm->kind == MACHINE_POD;
		for (size_t k = 0; k < pm->n_ports; k++)
			if (pm->ports[k].protocol == TB_PROTOCOL_TCP)
				w[n++] = (struct listen_wait){
					.name = pm->name,
					.netns = pod ? u->machines[pm->parent].netns : u->machines[i].netns,
					.addr = pod ? pm->address : 0x7F000001,
					.port = (uint16_t)pm->ports[k].port,
				};
	}
	long long left = deadline - now_ms();
	if (rc == 0 && n > 0)
		rc = wait_listening(w, n, watch, n_watch, left > 0 ? (int)left : 1, &interrupted, e);
	/* These are waited for together: counted once all listen. */
	if (rc == 0) {
		progress_advance(u->progress, PROGRESS_SERVERS, n_servers_waited);
		progress_end(u->progress, PROGRESS_SERVERS);
	}
	free(w);
	free(watch);
	for (size_t i = 0; i < n_watch; i++)
		free(logs[i]);
	free(logs);
	if (rc < 0)
		tb_context(e, "waiting for the servers");
	return rc;
}

static void up_release(struct up *u, bool kill)
{
	exec_ctx_close(&u->ctx);
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
	free(u->netns);
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

int lab_up(struct plan *p, const char *objects, const char *state_dir, int timeout_s, struct progress *progress,
	   pid_t **pids, struct tb_err *e)
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
	u.netns = xcalloc(p->n_machines ? p->n_machines : 1, sizeof(*u.netns));
	for (size_t i = 0; i < p->n_machines; i++)
		u.netns[i] = -1;
	u.rootfs = xcalloc(p->n_images ? p->n_images : 1, sizeof(*u.rootfs));
	u.pools = xcalloc(p->n_images ? p->n_images : 1, sizeof(*u.pools));
	for (size_t i = 0; i < p->n_images; i++)
		u.pools[i] = (struct server_pool)SERVER_POOL_INIT;
	u.scratch = lab_path(&u.dir, "mnt");
	exec_ctx_init(&u.ctx, p, u.netns);
	u.ctx.spawn = spawn_machine;
	u.ctx.owner = &u;

	long long phase = now_ms();
	int ok = lab_write(&u.dir, p->lab, p->topology, "starting", e) == 0 && make_lab_dirs(&u.dir, e) == 0 &&
		 unpack_images(&u, e) == 0;
	p->timings.images = (double)(now_ms() - phase);
	/* The contract, saved before the first change to the kernel. */
	ok = ok && (!objects || lab_objects_write(&u.dir, objects, e) == 0);
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
