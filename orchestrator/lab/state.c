#define _GNU_SOURCE
#include "lab/state.h"

#include "lab/cgroup.h"

#include "util/outfile.h"

#ifndef TESTBED_VERSION
#define TESTBED_VERSION "unknown"
#endif

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

const char *state_root(const char *option)
{
	if (option && *option)
		return option;
	const char *env = getenv("TESTBED_STATE_DIR");
	return env && *env ? env : TB_DEFAULT_STATE_DIR;
}

int state_root_mountable(const char *root, struct tb_err *e)
{
	if (strchr(root, ','))
		return tb_fail(e, "state directory %s: may not contain ',' (overlayfs mount options cannot quote it)",
			       root);
	return 0;
}

const char *cache_dir(void)
{
	const char *env = getenv("TESTBED_CACHE_DIR");
	return env && *env ? env : TB_DEFAULT_CACHE_DIR;
}

char *lab_path(const struct lab_dir *d, const char *name)
{
	return xasprintf("%s/%s", d->path, name);
}

/* State is trusted only in a directory that is testbed's user's alone:
 * anyone else who could write there could plant links or forge records. */
static int check_private_dir(int fd, const char *path, struct tb_err *e)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return tb_fail(e, "%s: %s", path, strerror(errno));
	if (st.st_uid != geteuid())
		return tb_fail(e, "%s is owned by uid %u, not %u: refusing it as testbed's state", path,
			       (unsigned)st.st_uid, (unsigned)geteuid());
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return tb_fail(e, "%s is writable by %s: refusing it as testbed's state (chmod go-w %s)", path,
			       st.st_mode & S_IWOTH ? "others" : "its group", path);
	return 0;
}

/* Opens the directory PATH, never through a link, and checks it is ours.
 * -1 with errno ENOENT when it does not exist. */
static int open_private_dir(const char *path, struct tb_err *e)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;
		if (err == ELOOP || err == ENOTDIR)
			tb_fail(e, "%s is not a directory (or is a symlink): refusing it as testbed's state", path);
		else
			tb_fail(e, "opening %s: %s", path, strerror(err));
		errno = err;
		return -1;
	}
	if (check_private_dir(fd, path, e) < 0) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

int state_root_check(const char *root, struct tb_err *e)
{
	int fd = open_private_dir(root, e);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	close(fd);
	return 1;
}

int lab_dir_lock(const char *root, const char *name, bool create, struct lab_dir *d, struct tb_err *e)
{
	*d = (struct lab_dir){.fd = -1};
	if (create && mkdir(root, 0755) < 0 && errno != EEXIST)
		return tb_fail(e, "creating %s: %s", root, strerror(errno));
	autoclose int root_fd = open_private_dir(root, e);
	if (root_fd < 0)
		return errno == ENOENT && !create ? 0 : -1;
	char *path = xasprintf("%s/%s", root, name);
	for (;;) {
		if (create && mkdirat(root_fd, name, 0700) < 0 && errno != EEXIST) {
			tb_fail(e, "creating %s: %s", path, strerror(errno));
			free(path);
			return -1;
		}
		int fd = openat(root_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			int err = errno;
			if (err == ENOENT && !create) {
				free(path);
				return 0;
			}
			tb_fail(e, "opening %s: %s", path, err == ELOOP || err == ENOTDIR ? "not a directory (or a symlink)" : strerror(err));
			free(path);
			return -1;
		}
		if (check_private_dir(fd, path, e) < 0) {
			close(fd);
			free(path);
			return -1;
		}
		if (flock(fd, LOCK_EX) < 0) {
			tb_fail(e, "locking %s: %s", path, strerror(errno));
			close(fd);
			free(path);
			return -1;
		}
		/* A down that held the lock may have removed the directory. */
		struct stat st;
		if (fstat(fd, &st) == 0 && st.st_nlink > 0) {
			d->root = xstrdup(root);
			d->path = path;
			d->fd = fd;
			return 1;
		}
		close(fd);
		if (!create) {
			free(path);
			return 0;
		}
	}
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

int lab_dir_remove(struct lab_dir *d, struct tb_err *e)
{
	if (nftw(d->path, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0)
		return tb_fail(e, "removing %s: %s", d->path, strerror(errno));
	/* The root goes too once no lab is left: down leaves nothing behind. */
	rmdir(d->root);
	return 0;
}

/* Where a failed up keeps its machines' output: beside the labs, under a
 * name no lab can have (status lists only lab names). */
static char *failed_path(const struct lab_dir *d)
{
	const char *name = strrchr(d->path, '/');
	return xasprintf("%s/.failed-%s", d->root, name ? name + 1 : d->path);
}

static void remove_tree(const char *path)
{
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

char *lab_keep_logs(const struct lab_dir *d, struct tb_err *e)
{
	autofree char *logs = lab_path(d, "logs");
	char *kept = failed_path(d);
	remove_tree(kept);
	if (rename(logs, kept) < 0) {
		tb_fail(e, "keeping %s: %s", logs, strerror(errno));
		free(kept);
		return NULL;
	}
	return kept;
}

void lab_forget_failed(const struct lab_dir *d)
{
	autofree char *kept = failed_path(d);
	remove_tree(kept);
}

void lab_dir_close(struct lab_dir *d)
{
	close_fd(&d->fd);
	free(d->root);
	free(d->path);
	*d = (struct lab_dir){.fd = -1};
}

int lab_write(const struct lab_dir *d, const char *name, const char *topology, const char *phase,
	      struct tb_err *e)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddStringToObject(o, "topology", topology);
	cJSON_AddStringToObject(o, "phase", phase);
	cJSON_AddNumberToObject(o, "pid", getpid());
	char *text = cJSON_Print(o);
	cJSON_Delete(o);
	autofree char *path = lab_path(d, "lab.json");
	int rc = write_file_atomic(path, text, strlen(text), e);
	cJSON_free(text);
	return rc;
}

int lab_append_machine(const struct lab_dir *d, const struct machine_record *m, struct tb_err *e)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "kind", m->kind);
	cJSON_AddStringToObject(o, "name", m->name);
	cJSON_AddStringToObject(o, "node", m->node);
	cJSON_AddStringToObject(o, "address", m->address);
	cJSON_AddNumberToObject(o, "http", m->http_port);
	cJSON_AddNumberToObject(o, "pid", m->pid);
	/* As a string: a double cannot hold every 64-bit value. */
	char start[32];
	snprintf(start, sizeof(start), "%llu", m->start_time);
	cJSON_AddStringToObject(o, "start", start);
	char *line = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	autofree char *path = lab_path(d, "machines.jsonl");
	autoclose int fd = openat(d->fd, "machines.jsonl", O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
	size_t len = strlen(line);
	line[len] = '\n'; /* overwrites the NUL: write exactly len + 1 bytes */
	int rc = (fd < 0 || write_all(fd, line, len + 1) < 0) ? tb_fail(e, "writing %s: %s", path, strerror(errno)) : 0;
	cJSON_free(line);
	return rc;
}

int lab_save_plan(const struct lab_dir *d, const struct plan *p, struct tb_err *e)
{
	autofree char *text = plan_to_json(p, true);
	autofree char *path = lab_path(d, "plan.json");
	return write_file_atomic(path, text, strlen(text), e);
}

int lab_load_plan(const char *path, struct plan *p, struct tb_err *e)
{
	autofree char *file = xasprintf("%s/plan.json", path);
	autoclose int dir = open_private_dir(path, e);
	if (dir < 0) {
		*p = (struct plan){0};
		return -1;
	}
	autofree char *text = read_file_at(dir, "plan.json", NULL);
	if (!text) {
		*p = (struct plan){0};
		if (errno == ENOENT)
			return tb_fail(e, "it has no saved plan: it was brought up by a testbed older than %s",
				       TESTBED_VERSION);
		return tb_fail(e, "reading %s: %s", file, strerror(errno));
	}
	return plan_from_json(text, p, e);
}

static char *json_string(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return xstrdup(cJSON_IsString(v) ? v->valuestring : "");
}

static int json_int(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valueint : 0;
}

int lab_read(const char *path, struct lab_record *r, struct tb_err *e)
{
	*r = (struct lab_record){0};
	autoclose int dir = open_private_dir(path, e);
	if (dir < 0)
		return -1;
	autofree char *lab_file = xasprintf("%s/lab.json", path);
	autofree char *text = read_file_at(dir, "lab.json", NULL);
	if (!text)
		return tb_fail(e, "reading %s: %s", lab_file, strerror(errno));
	cJSON *o = cJSON_Parse(text);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return tb_fail(e, "%s: not a lab record", lab_file);
	}
	r->name = json_string(o, "name");
	r->topology = json_string(o, "topology");
	r->phase = json_string(o, "phase");
	r->writer = json_int(o, "pid");
	cJSON_Delete(o);

	autofree char *machines_file = xasprintf("%s/machines.jsonl", path);
	autofree char *lines = read_file_at(dir, "machines.jsonl", NULL);
	if (!lines)
		return errno == ENOENT ? 0 : tb_fail(e, "reading %s: %s", machines_file, strerror(errno));
	char *save = NULL;
	for (char *line = strtok_r(lines, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		/* A line cut short by a crash is skipped; its machine was not
		 * recorded, and its init ends itself without a commit. */
		cJSON *m = cJSON_Parse(line);
		if (cJSON_IsObject(m)) {
			grow_array((void **)&r->machines, &r->cap_machines, r->n_machines + 1, sizeof(*r->machines));
			autofree char *start = json_string(m, "start");
			r->machines[r->n_machines++] = (struct machine_record){
				.kind = json_string(m, "kind"),
				.name = json_string(m, "name"),
				.node = json_string(m, "node"),
				.address = json_string(m, "address"),
				.http_port = json_int(m, "http"),
				.pid = json_int(m, "pid"),
				.start_time = strtoull(start, NULL, 10),
			};
		}
		cJSON_Delete(m);
	}
	/* The machines in the order they were made, then the server pools,
	 * which up starts (and records) before the first machine. */
	size_t n_machines = 0;
	for (size_t i = 0; i < r->n_machines; i++)
		if (!r->machines[i].kind || strcmp(r->machines[i].kind, "pool") != 0) {
			struct machine_record m = r->machines[i];
			memmove(&r->machines[n_machines + 1], &r->machines[n_machines],
				(i - n_machines) * sizeof(*r->machines));
			r->machines[n_machines++] = m;
		}
	return 0;
}

void lab_record_free(struct lab_record *r)
{
	for (size_t i = 0; i < r->n_machines; i++) {
		free(r->machines[i].kind);
		free(r->machines[i].name);
		free(r->machines[i].node);
		free(r->machines[i].address);
	}
	free(r->machines);
	free(r->name);
	free(r->topology);
	free(r->phase);
	*r = (struct lab_record){0};
}

unsigned long long proc_start_time(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	autofree char *stat = read_file(path, NULL);
	if (!stat)
		return 0;
	/* The command name may contain spaces and parentheses: skip to the
	 * last ')', then field 3 onwards; start time is field 22. */
	char *p = strrchr(stat, ')');
	if (!p)
		return 0;
	p++;
	for (int field = 3; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	return p ? strtoull(p + 1, NULL, 10) : 0;
}

bool proc_is_zombie(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	autofree char *stat = read_file(path, NULL);
	const char *p = stat ? strrchr(stat, ')') : NULL;
	return p && p[1] == ' ' && p[2] == 'Z';
}

/* 1: the process shows the title of the machine's init; 0: another
 * title; -1: none (exited or exiting: its memory is gone). */
static int shows_init_title(const struct machine_record *m)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", m->pid);
	autofree char *cmdline = read_file(path, NULL);
	if (!cmdline || !*cmdline)
		return -1;
	autofree char *title = xasprintf("testbed-init: %s", m->name);
	return strcmp(cmdline, title) == 0;
}

bool machine_record_ending(const struct machine_record *m)
{
	return machine_record_alive(m) && !proc_is_zombie(m->pid) && shows_init_title(m) != 0;
}

bool machine_record_in_lab(const struct machine_record *m, const struct lab_cgroup *cg)
{
	if (!machine_record_alive(m))
		return false;
	if (cg && cg->path)
		return lab_cgroup_holds(cg, m->pid);
	/* Without cgroup2: at least a testbed machine's init of that name. */
	return shows_init_title(m) == 1;
}

bool machine_record_alive(const struct machine_record *m)
{
	return m->pid > 0 && m->start_time != 0 && proc_start_time(m->pid) == m->start_time;
}
