/* Bringing labs up and down, and looking into them. `up` walks the plan
 * through the executors: images, machines, netlink, sysctls, then waits for
 * the servers; any failure removes everything it made. */
#define _GNU_SOURCE
#include "lab.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "diag.h"
#include "jsondoc.h"
#include "live.h"
#include "machine.h"
#include "netlink.h"
#include "plan.h"
#include "probe.h"
#include "rootfs.h"
#include "state.h"
#include "topology.h"
#include "util.h"

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
}

struct up {
	const struct tb_topology *t;
	const char *file;
	struct plan plan;
	struct lab_dir dir;
	struct machine *machines; /* parallel to plan.machines */
	struct nl_sock **socks;
	char **rootfs; /* per machine: the unpacked image, or NULL */
	size_t n_spawned;
};

static int check_interrupted(struct tb_err *e)
{
	return interrupted ? tb_fail(e, "interrupted by signal %d", interrupted) : 0;
}

static int unpack_images(struct up *u, struct tb_err *e)
{
	const struct plan *p = &u->plan;
	for (size_t i = 0; i < p->n_machines; i++) {
		const char *image = p->machines[i].image;
		if (!image)
			continue;
		/* Machines sharing an image share its unpacked tree. */
		for (size_t j = 0; j < i; j++)
			if (p->machines[j].image && strcmp(p->machines[j].image, image) == 0) {
				u->rootfs[i] = xstrdup(u->rootfs[j]);
				break;
			}
		if (!u->rootfs[i] && !(u->rootfs[i] = image_unpack(cache_dir(), image, e)))
			return -1;
	}
	return 0;
}

static int spawn_machines(struct up *u, struct tb_err *e)
{
	const struct plan *p = &u->plan;
	autofree char *scratch = lab_path(&u->dir, "mnt");
	for (size_t i = 0; i < p->n_machines; i++) {
		const struct plan_machine *pm = &p->machines[i];
		if (check_interrupted(e) < 0)
			return -1;
		autofree char *log_path = xasprintf("%s/logs/%s.log", u->dir.path, pm->name);
		autoclose int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (log < 0)
			return tb_fail(e, "%s: creating %s: %s", pm->name, log_path, strerror(errno));
		char address[IPV4_PREFIX_STRLEN] = "";
		if (pm->address)
			ipv4_addr_format(pm->address, address);
		const char *node = pm->parent != PLAN_NONE ? p->machines[pm->parent].name : "";
		struct machine_spec spec = {
			.name = pm->name,
			/* The lab namespace plays the host: only its network is its own. */
			.clone_flags = pm->kind == MACHINE_LAB ? CLONE_NEWNET
							       : CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC,
			.rootfs = u->rootfs[i],
			.scratch = scratch,
			.address = pm->address ? address : NULL,
			.argv = pm->argv,
			.node = node,
			.log_fd = log,
			.pid_ns_fd = pm->parent != PLAN_NONE ? u->machines[pm->parent].pidns : -1,
		};
		if (machine_spawn(&spec, &u->machines[i], e) < 0)
			return tb_context(e, "%s", pm->name);
		u->n_spawned = i + 1;
		/* Recorded at once, so that down finds it even if up dies now. */
		struct machine_record rec = {
			.kind = (char *)machine_kind_name(pm->kind),
			.name = (char *)pm->name,
			.node = (char *)node,
			.address = address,
			.http_port = pm->http_port,
			.pid = u->machines[i].pid,
			.start_time = proc_start_time(u->machines[i].pid),
		};
		if (lab_append_machine(&u->dir, &rec, e) < 0)
			return -1;
	}
	return 0;
}

static int wire_network(struct up *u, struct tb_err *e)
{
	const struct plan *p = &u->plan;
	for (size_t i = 0; i < p->n_machines; i++) {
		if (!(u->socks[i] = nl_open_in(u->machines[i].netns, e)))
			return tb_context(e, "%s", p->machines[i].name);
		if (nl_link_up(u->socks[i], "lo", e) < 0)
			return tb_context(e, "%s", p->machines[i].name);
	}
	for (size_t i = 0; i < p->n_bridges; i++) {
		const struct plan_bridge *b = &p->bridges[i];
		if (nl_bridge_create(u->socks[b->machine], b->name, e) < 0)
			return tb_context(e, "%s", p->machines[b->machine].name);
	}
	for (size_t i = 0; i < p->n_veths; i++) {
		const struct plan_veth *v = &p->veths[i];
		size_t a = v->machine[0], b = v->machine[1];
		if (check_interrupted(e) < 0)
			return -1;
		if (nl_veth_create(u->socks[a], v->name[0], v->master[0] ? v->master : NULL, v->name[1],
				   u->machines[b].netns, e) < 0)
			return tb_context(e, "%s to %s", p->machines[a].name, p->machines[b].name);
		if (nl_link_up(u->socks[b], v->name[1], e) < 0)
			return tb_context(e, "%s", p->machines[b].name);
		if (v->hairpin && nl_bridge_port_hairpin(u->socks[a], v->name[0], e) < 0)
			return tb_context(e, "%s", p->machines[a].name);
	}
	for (size_t i = 0; i < p->n_addresses; i++) {
		const struct plan_address *a = &p->addresses[i];
		if (nl_addr_add(u->socks[a->machine], a->ifname, a->prefix, e) < 0)
			return tb_context(e, "%s", p->machines[a->machine].name);
	}
	for (size_t i = 0; i < p->n_routes; i++) {
		const struct plan_route *r = &p->routes[i];
		if (nl_route_add(u->socks[r->machine], r->dst, r->via, NULL, e) < 0)
			return tb_context(e, "%s", p->machines[r->machine].name);
	}
	for (size_t i = 0; i < p->n_sysctls; i++) {
		const struct plan_sysctl *s = &p->sysctls[i];
		if (netns_sysctl(u->machines[s->machine].netns, s->key, s->value, e) < 0)
			return tb_context(e, "%s", p->machines[s->machine].name);
	}
	return 0;
}

static int start_workloads(struct up *u, int timeout_s, struct tb_err *e)
{
	const struct plan *p = &u->plan;
	for (size_t i = 0; i < p->n_machines; i++) {
		if (machine_wait_ready(&u->machines[i], SETUP_TIMEOUT_MS, e) < 0)
			return tb_context(e, "%s", p->machines[i].name);
		if (machine_start(&u->machines[i], e) < 0)
			return tb_context(e, "%s", p->machines[i].name);
	}
	/* Every HTTP server must accept connections before up returns: pods
	 * reached from their node, across cbr0; hosts on their own loopback,
	 * since a host may have no interface. */
	struct listen_wait *w = xcalloc(p->n_machines, sizeof(*w));
	size_t n = 0;
	for (size_t i = 0; i < p->n_machines; i++) {
		const struct plan_machine *pm = &p->machines[i];
		if (!pm->http_port)
			continue;
		bool pod = pm->kind == MACHINE_POD;
		w[n++] = (struct listen_wait){
			.name = pm->name,
			.netns = pod ? u->machines[pm->parent].netns : u->machines[i].netns,
			.addr = pod ? pm->address : 0x7F000001,
			.port = (uint16_t)pm->http_port,
		};
	}
	int rc = wait_listening(w, n, timeout_s * 1000, &interrupted, e);
	free(w);
	if (rc < 0)
		tb_context(e, "waiting for the HTTP servers (their output is in %s/logs/)", u->dir.path);
	return rc;
}

static void print_table(const struct up *u)
{
	const struct plan *p = &u->plan;
	int wname = 4, wkind = 7;
	for (size_t i = 0; i < p->n_machines; i++)
		if ((int)strlen(p->machines[i].name) > wname)
			wname = (int)strlen(p->machines[i].name);
	printf("%-*s  %-*s  %-*s  %-15s  %s\n", wname, "NAME", wkind, "KIND", wname, "NODE", "ADDRESS", "PID");
	for (size_t i = 0; i < p->n_machines; i++) {
		const struct plan_machine *pm = &p->machines[i];
		char addr[IPV4_PREFIX_STRLEN] = "-";
		if (pm->address)
			ipv4_addr_format(pm->address, addr);
		printf("%-*s  %-*s  %-*s  %-15s  %d\n", wname, pm->name, wkind, machine_kind_name(pm->kind), wname,
		       pm->parent != PLAN_NONE ? p->machines[pm->parent].name : "-", addr, u->machines[i].pid);
	}
}

static void up_release(struct up *u, bool kill_machines)
{
	for (size_t i = 0; i < u->plan.n_machines; i++) {
		if (u->socks)
			nl_close(u->socks[i]);
		if (u->rootfs)
			free(u->rootfs[i]);
	}
	/* Pods before their nodes: each is our child and must be reaped. */
	for (size_t i = u->n_spawned; kill_machines && i-- > 0;)
		machine_kill(&u->machines[i]);
	free(u->machines);
	free(u->socks);
	free(u->rootfs);
	plan_free(&u->plan);
}

static int make_lab_dirs(const struct lab_dir *d, const char *topology_text, struct tb_err *e)
{
	const char *dirs[] = {"logs", "mnt"};
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		autofree char *path = lab_path(d, dirs[i]);
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return tb_fail(e, "creating %s: %s", path, strerror(errno));
	}
	autofree char *copy = lab_path(d, "topology.json");
	return write_file_atomic(copy, topology_text, strlen(topology_text), e);
}

int lab_up(const char *file, const struct lab_options *o)
{
	struct diag d;
	diag_init(&d, file);
	struct tb_topology *t = topology_load(file, &d);
	if (!t) {
		diag_print(&d, stderr);
		diag_free(&d);
		return TB_EXIT_USAGE;
	}
	diag_free(&d);
	struct up u = {.t = t, .file = file};
	struct tb_err e;
	int rc = TB_EXIT_OK;
	if (geteuid() != 0) {
		fprintf(stderr, "testbed up: needs root: it creates namespaces, links and mounts\n");
		topology_free(t);
		return TB_EXIT_USAGE;
	}
	if (plan_build(t, &u.plan, &e) < 0) {
		fprintf(stderr, "%s: %s\n", file, e.msg);
		topology_free(t);
		return TB_EXIT_USAGE;
	}
	const char *root = state_root(o->state_dir);
	if (lab_dir_lock(root, t->name, true, &u.dir, &e) < 0) {
		fprintf(stderr, "testbed up: %s\n", e.msg);
		up_release(&u, false);
		topology_free(t);
		return TB_EXIT_SYSTEM;
	}
	struct lab_record existing;
	if (lab_read(u.dir.path, &existing, &e) == 0) {
		if (strcmp(existing.phase, "up") == 0)
			fprintf(stderr, "testbed up: lab %s is already up (from %s); testbed down %s first\n", t->name,
				existing.topology, t->name);
		else
			fprintf(stderr,
				"testbed up: lab %s has leftovers of an interrupted up; remove them with: testbed down "
				"%s\n",
				t->name, t->name);
		lab_record_free(&existing);
		lab_dir_close(&u.dir);
		up_release(&u, false);
		topology_free(t);
		return TB_EXIT_USAGE;
	}
	catch_signals();
	u.machines = xcalloc(u.plan.n_machines, sizeof(*u.machines));
	u.socks = xcalloc(u.plan.n_machines, sizeof(*u.socks));
	u.rootfs = xcalloc(u.plan.n_machines, sizeof(*u.rootfs));
	char abs[PATH_MAX];
	if (!realpath(file, abs))
		snprintf(abs, sizeof(abs), "%s", file);

	if (lab_write(&u.dir, t->name, abs, "starting", &e) < 0 || make_lab_dirs(&u.dir, t->text, &e) < 0 ||
	    unpack_images(&u, &e) < 0 || spawn_machines(&u, &e) < 0 || wire_network(&u, &e) < 0 ||
	    start_workloads(&u, o->timeout_s, &e) < 0 || check_interrupted(&e) < 0 ||
	    lab_write(&u.dir, t->name, abs, "up", &e) < 0) {
		fprintf(stderr, "testbed up: %s: %s\n", t->name, e.msg);
		up_release(&u, true);
		struct tb_err e2;
		if (lab_dir_remove(&u.dir, &e2) < 0)
			fprintf(stderr, "testbed up: %s\n", e2.msg);
		rc = TB_EXIT_SYSTEM;
	} else {
		for (size_t i = 0; i < u.plan.n_machines; i++)
			machine_commit(&u.machines[i]);
		if (!o->quiet)
			print_table(&u);
		up_release(&u, false);
	}
	lab_dir_close(&u.dir);
	topology_free(t);
	return rc;
}

/* Ends every recorded machine that still runs (checking PID and start
 * time, so a reused PID is never hit) and waits for them to be gone. */
static int kill_machines(const struct lab_record *r, struct tb_err *e)
{
	int *pidfds = xcalloc(r->n_machines, sizeof(*pidfds));
	int rc = 0;
	for (size_t i = 0; i < r->n_machines; i++) {
		pidfds[i] = -1;
		const struct machine_record *m = &r->machines[i];
		if (m->pid <= 0)
			continue;
		int fd = pidfd_open_pid(m->pid);
		/* Checked after opening the pidfd: from here the PID cannot be reused. */
		if (fd < 0 || !machine_record_alive(m)) {
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
		/* Exited is not yet gone: the orphaned init is reaped by the host's
		 * init, so wait until its process entry has disappeared too. */
		while (machine_record_alive(m) && now_ms() < deadline)
			usleep(2000);
		close(pidfds[i]);
	}
	free(pidfds);
	return rc;
}

int lab_down(const char *arg, const struct lab_options *o)
{
	autofree char *name = lab_name_from_arg(arg, "down");
	if (!name)
		return TB_EXIT_USAGE;
	struct lab_dir dir;
	struct tb_err e;
	int locked = lab_dir_lock(state_root(o->state_dir), name, false, &dir, &e);
	if (locked < 0) {
		fprintf(stderr, "testbed down: %s\n", e.msg);
		return TB_EXIT_SYSTEM;
	}
	if (locked == 0) {
		printf("lab %s is not up: nothing to do\n", name);
		return TB_EXIT_OK;
	}
	struct lab_record r;
	if (lab_read(dir.path, &r, &e) < 0) {
		/* Whatever machines were recorded are still in r. */
		fprintf(stderr, "testbed down: %s (removing what is recorded)\n", e.msg);
	}
	int rc = TB_EXIT_OK;
	if (kill_machines(&r, &e) < 0 || lab_dir_remove(&dir, &e) < 0) {
		fprintf(stderr, "testbed down: %s: %s\n", name, e.msg);
		rc = TB_EXIT_SYSTEM;
	} else {
		printf("lab %s is down\n", name);
	}
	lab_record_free(&r);
	lab_dir_close(&dir);
	return rc;
}

static void status_json_lab(cJSON *labs, const struct lab_record *r)
{
	cJSON *lab = cJSON_CreateObject();
	cJSON_AddStringToObject(lab, "name", r->name);
	cJSON_AddStringToObject(lab, "phase", r->phase);
	cJSON_AddStringToObject(lab, "topology", r->topology);
	cJSON *machines = cJSON_AddArrayToObject(lab, "machines");
	for (size_t i = 0; i < r->n_machines; i++) {
		const struct machine_record *m = &r->machines[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", m->name);
		cJSON_AddStringToObject(o, "kind", m->kind);
		if (*m->node)
			cJSON_AddStringToObject(o, "node", m->node);
		else
			cJSON_AddNullToObject(o, "node");
		if (*m->address)
			cJSON_AddStringToObject(o, "address", m->address);
		else
			cJSON_AddNullToObject(o, "address");
		if (m->http_port)
			cJSON_AddNumberToObject(o, "http", m->http_port);
		else
			cJSON_AddFalseToObject(o, "http");
		cJSON_AddNumberToObject(o, "pid", m->pid);
		cJSON_AddBoolToObject(o, "running", machine_record_alive(m));
		cJSON_AddItemToArray(machines, o);
	}
	cJSON_AddItemToArray(labs, lab);
}

static void status_text_lab(const struct lab_record *r)
{
	printf("lab %s: %s (%s)\n", r->name, r->phase, r->topology);
	int wname = 4;
	for (size_t i = 0; i < r->n_machines; i++)
		if ((int)strlen(r->machines[i].name) > wname)
			wname = (int)strlen(r->machines[i].name);
	printf("  %-*s  %-7s  %-*s  %-15s  %-5s  %-7s  %s\n", wname, "NAME", "KIND", wname, "NODE", "ADDRESS", "HTTP",
	       "PID", "STATE");
	for (size_t i = 0; i < r->n_machines; i++) {
		const struct machine_record *m = &r->machines[i];
		char http[8] = "-";
		if (m->http_port)
			snprintf(http, sizeof(http), "%d", m->http_port);
		printf("  %-*s  %-7s  %-*s  %-15s  %-5s  %-7d  %s\n", wname, m->name, m->kind, wname,
		       *m->node ? m->node : "-", *m->address ? m->address : "-", http, m->pid,
		       machine_record_alive(m) ? "running" : "dead");
	}
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int lab_status(const char *name, const struct lab_options *o)
{
	const char *root = state_root(o->state_dir);
	char **names = NULL;
	size_t n = 0, cap = 0;
	if (name) {
		if (!topology_is_lab_name(name)) {
			fprintf(stderr, "testbed status: \"%s\" is not a lab name\n", name);
			return TB_EXIT_USAGE;
		}
		grow_array((void **)&names, &cap, 1, sizeof(*names));
		names[n++] = xstrdup(name);
	} else {
		DIR *dir = opendir(root);
		for (struct dirent *de; dir && (de = readdir(dir));)
			if (de->d_name[0] != '.' && topology_is_lab_name(de->d_name)) {
				grow_array((void **)&names, &cap, n + 1, sizeof(*names));
				names[n++] = xstrdup(de->d_name);
			}
		if (dir)
			closedir(dir);
		qsort(names, n, sizeof(*names), by_string);
	}
	int rc = TB_EXIT_OK;
	cJSON *doc = cJSON_CreateObject();
	cJSON *labs = cJSON_AddArrayToObject(doc, "labs");
	size_t shown = 0;
	for (size_t i = 0; i < n; i++) {
		autofree char *path = xasprintf("%s/%s", root, names[i]);
		struct lab_record r;
		struct tb_err e;
		if (lab_read(path, &r, &e) < 0) {
			if (name) {
				fprintf(stderr, "testbed status: lab %s is not up\n", name);
				rc = TB_EXIT_USAGE;
			}
			lab_record_free(&r);
			free(names[i]);
			continue;
		}
		if (o->json)
			status_json_lab(labs, &r);
		else
			status_text_lab(&r);
		shown++;
		lab_record_free(&r);
		free(names[i]);
	}
	free(names);
	if (o->json && rc == TB_EXIT_OK) {
		char *text = cJSON_Print(doc);
		printf("%s\n", text);
		cJSON_free(text);
	} else if (!o->json && shown == 0 && !name) {
		printf("no labs are up\n");
	}
	cJSON_Delete(doc);
	return rc;
}

int lab_exec(const char *name, const char *target, char **argv, const struct lab_options *o)
{
	if (!topology_is_lab_name(name)) {
		fprintf(stderr, "testbed exec: \"%s\" is not a lab name\n", name);
		return TB_EXIT_USAGE;
	}
	autofree char *path = xasprintf("%s/%s", state_root(o->state_dir), name);
	struct lab_record r;
	struct tb_err e;
	if (lab_read(path, &r, &e) < 0) {
		fprintf(stderr, "testbed exec: lab %s is not up\n", name);
		lab_record_free(&r);
		return TB_EXIT_USAGE;
	}
	const struct machine_record *m = NULL;
	for (size_t i = 0; i < r.n_machines; i++)
		if (strcmp(r.machines[i].name, target) == 0)
			m = &r.machines[i];
	if (!m) {
		fprintf(stderr, "testbed exec: lab %s has no pod, node or host \"%s\"\n", name, target);
		lab_record_free(&r);
		return TB_EXIT_USAGE;
	}
	int pidfd = pidfd_open_pid(m->pid);
	if (pidfd < 0 || !machine_record_alive(m)) {
		fprintf(stderr, "testbed exec: %s in lab %s is not running\n", target, name);
		close_fd(&pidfd);
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
		fprintf(stderr, "testbed exec: entering %s: %s\n", target, strerror(errno));
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
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		if (is_lab) {
			execvp(cmd[0], cmd);
		} else {
			if (fchdir(root) < 0 || chroot(".") < 0 || chdir("/") < 0) {
				fprintf(stderr, "testbed exec: entering the root of %s: %s\n", target, strerror(errno));
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
		fprintf(stderr, "testbed exec: %s: %s\n", cmd[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	close_fd(&root);
	lab_record_free(&r);
	if (pid < 0) {
		fprintf(stderr, "testbed exec: fork: %s\n", strerror(errno));
		return TB_EXIT_SYSTEM;
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return TB_EXIT_SYSTEM;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}
