/* The labs under a state directory: what `status` shows, and which ones
 * `down --all` and `gc` remove. */
#define _GNU_SOURCE
#include "lab/lab.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "lab/cgroup.h"
#include "model/topology.h"

static int by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The labs with state under ROOT, sorted; none when ROOT cannot be read
 * (a state root not made yet holds no lab). */
static void lab_dir_names(const char *root, char ***names, size_t *n)
{
	*names = NULL;
	*n = 0;
	autoclose int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct tb_err ignored;
	if (fd < 0 || dir_names(fd, topology_is_lab_name, root, names, n, &ignored) < 0)
		return;
	/* qsort's array may not be NULL, even for no elements (UBSan). */
	if (*n > 1)
		qsort(*names, *n, sizeof(**names), by_string);
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
	char **cgroups = NULL, **dirs;
	size_t n_cgroups = 0, n_dirs, cap = 0;
	*names = NULL;
	*n = 0;
	if (lab_cgroups_list(root, &cgroups, &n_cgroups, e) < 0)
		return TB_EXIT_SYSTEM;
	lab_dir_names(root, &dirs, &n_dirs);
	for (size_t i = 0; i < n_dirs; i++) {
		if (all || up_died(root, dirs[i])) {
			grow_array((void **)names, &cap, *n + 1, sizeof(**names));
			(*names)[(*n)++] = dirs[i];
		} else {
			free(dirs[i]);
		}
	}
	free(dirs);
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
	size_t n_names = 0;
	*labs = NULL;
	*n = 0;
	if (state_root_check(root, e) < 0)
		return TB_EXIT_SYSTEM;
	if (name) {
		names = xcalloc(1, sizeof(*names));
		names[n_names++] = xstrdup(name);
	} else {
		lab_dir_names(root, &names, &n_names);
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
