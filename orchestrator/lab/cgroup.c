#define _GNU_SOURCE
#include "lab/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TESTBED_CGROUP "testbed"

/* Where the cgroup2 hierarchy is mounted (malloc'd), or NULL when none is. */
static char *cgroup2_mount(void)
{
	autofree char *info = read_file("/proc/self/mountinfo", NULL);
	if (!info)
		return NULL;
	char *save = NULL;
	for (char *line = strtok_r(info, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER */
		char *dash = strstr(line, " - ");
		if (!dash || strncmp(dash + 3, "cgroup2 ", 8) != 0)
			continue;
		char root[PATH_MAX], point[PATH_MAX];
		if (sscanf(line, "%*s %*s %*s %4095s %4095s", root, point) != 2 || strcmp(root, "/") != 0)
			continue;
		/* mountinfo escapes spaces and such as \ooo: such a path is not ours to guess at. */
		if (strchr(point, '\\'))
			continue;
		return xstrdup(point);
	}
	return NULL;
}

/* The name of the lab's cgroup under CGROUP2/testbed: "NAME-HASH". */
static char *lab_cgroup_name(const char *lab, const char *state_root)
{
	/* FNV-1a of the state root's real path: stable, short, and different
	 * for the state roots of two test runs. */
	char real[PATH_MAX];
	const char *root = realpath(state_root, real) ? real : state_root;
	uint32_t h = 2166136261u;
	for (const char *c = root; *c; c++)
		h = (h ^ (unsigned char)*c) * 16777619u;
	return xasprintf("%s-%08x", lab, h);
}

static char *lab_cgroup_path(const char *mount, const char *lab, const char *state_root)
{
	autofree char *name = lab_cgroup_name(lab, state_root);
	return xasprintf("%s/%s/%s", mount, TESTBED_CGROUP, name);
}

int lab_cgroup_open(const char *lab, const char *state_root, bool create, struct lab_cgroup *cg, struct tb_err *e)
{
	*cg = (struct lab_cgroup)LAB_CGROUP_INIT;
	autofree char *mount = cgroup2_mount();
	if (!mount)
		return 0;
	cg->path = lab_cgroup_path(mount, lab, state_root);
	if (create) {
		autofree char *parent = xasprintf("%s/%s", mount, TESTBED_CGROUP);
		if ((mkdir(parent, 0755) < 0 && errno != EEXIST) || (mkdir(cg->path, 0755) < 0 && errno != EEXIST)) {
			tb_fail(e, "creating the lab's cgroup %s: %s", cg->path, strerror(errno));
			lab_cgroup_close(cg);
			return -1;
		}
	}
	cg->dir = open(cg->path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (cg->dir < 0) {
		int err = errno;
		lab_cgroup_close(cg);
		if (err == ENOENT && !create)
			return 0;
		return tb_fail(e, "opening the lab's cgroup: %s", strerror(err));
	}
	cg->procs = openat(cg->dir, "cgroup.procs", O_WRONLY | O_CLOEXEC);
	if (cg->procs < 0) {
		tb_fail(e, "opening %s/cgroup.procs: %s", cg->path, strerror(errno));
		lab_cgroup_close(cg);
		return -1;
	}
	return 1;
}

void lab_cgroup_close(struct lab_cgroup *cg)
{
	close_fd(&cg->dir);
	close_fd(&cg->procs);
	free(cg->path);
	*cg = (struct lab_cgroup)LAB_CGROUP_INIT;
}

int cgroup_enter(int procs_fd)
{
	/* "0" is the writer itself. */
	return write(procs_fd, "0", 1) == 1 ? 0 : -1;
}

bool lab_cgroup_holds(const struct lab_cgroup *cg, pid_t pid)
{
	autofree char *mount = cgroup2_mount();
	if (!mount || !cg->path || !str_has_prefix(cg->path, mount))
		return false;
	const char *relative = cg->path + strlen(mount);
	char file[64];
	snprintf(file, sizeof(file), "/proc/%d/cgroup", pid);
	autofree char *text = read_file(file, NULL);
	if (!text)
		return false;
	/* The cgroup2 line: "0::/testbed/NAME-HASH". */
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "0::", 3) == 0)
			return strcmp(line + 3, relative) == 0;
	return false;
}

long lab_cgroup_count(const struct lab_cgroup *cg)
{
	autoclose int fd = openat(cg->dir, "cgroup.procs", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char buf[4096];
	long lines = 0;
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
	return n < 0 ? -1 : lines;
}

int lab_cgroup_pids(const struct lab_cgroup *cg, pid_t **pids, size_t *n)
{
	*pids = NULL;
	*n = 0;
	autoclose int fd = openat(cg->dir, "cgroup.procs", O_RDONLY | O_CLOEXEC);
	autofree char *text = fd >= 0 ? read_fd(fd, NULL) : NULL;
	if (!text)
		return -1;
	size_t cap = 0;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		grow_array((void **)pids, &cap, *n + 1, sizeof(**pids));
		(*pids)[(*n)++] = (pid_t)strtol(line, NULL, 10);
	}
	return 0;
}

static bool populated(const struct lab_cgroup *cg)
{
	autofree char *path = xasprintf("%s/cgroup.events", cg->path);
	autofree char *events = read_file(path, NULL);
	return !events || !strstr(events, "populated 0");
}

int lab_cgroup_kill(struct lab_cgroup *cg, int timeout_ms, struct tb_err *e)
{
	autofree char *kill_path = xasprintf("%s/cgroup.kill", cg->path);
	autoclose int kill_fd = open(kill_path, O_WRONLY | O_CLOEXEC);
	if (kill_fd < 0 || write(kill_fd, "1", 1) != 1)
		return tb_fail(e, "killing the lab's cgroup %s: %s", cg->path, strerror(errno));
	/* cgroup.events changes (POLLPRI) when the cgroup empties. */
	autofree char *events_path = xasprintf("%s/cgroup.events", cg->path);
	autoclose int events = open(events_path, O_RDONLY | O_CLOEXEC);
	long long deadline = now_ms() + timeout_ms;
	while (populated(cg)) {
		long long left = deadline - now_ms();
		if (left <= 0)
			return tb_fail(e, "the lab's cgroup %s did not empty within %d s", cg->path, timeout_ms / 1000);
		struct pollfd p = {.fd = events, .events = POLLPRI};
		if (events < 0 || poll(&p, 1, left < 50 ? (int)left : 50) < 0)
			usleep(10000);
	}
	if (rmdir(cg->path) < 0 && errno != ENOENT)
		return tb_fail(e, "removing the lab's cgroup %s: %s", cg->path, strerror(errno));
	/* And testbed's own, once no lab is left in it. */
	autofree char *parent = xstrdup(cg->path);
	char *slash = strrchr(parent, '/');
	if (slash) {
		*slash = '\0';
		rmdir(parent);
	}
	return 0;
}

int lab_cgroups_list(const char *state_root, char ***names, size_t *n, struct tb_err *e)
{
	*names = NULL;
	*n = 0;
	autofree char *mount = cgroup2_mount();
	if (!mount)
		return 0;
	autofree char *parent = xasprintf("%s/%s", mount, TESTBED_CGROUP);
	autoclose int dir = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return errno == ENOENT ? 0 : tb_fail(e, "reading %s: %s", parent, strerror(errno));
	char **entries;
	size_t n_entries;
	if (dir_names(dir, NULL, parent, &entries, &n_entries, e) < 0)
		return -1;
	autofree char *suffix = lab_cgroup_name("", state_root); /* "-HASH" */
	size_t cap = 0, slen = strlen(suffix);
	for (size_t i = 0; i < n_entries; i++) {
		size_t len = strlen(entries[i]);
		struct stat st;
		if (len > slen && strcmp(entries[i] + len - slen, suffix) == 0 &&
		    fstatat(dir, entries[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
			grow_array((void **)names, &cap, *n + 1, sizeof(**names));
			(*names)[(*n)++] = strndup(entries[i], len - slen);
		}
		free(entries[i]);
	}
	free(entries);
	return 0;
}
