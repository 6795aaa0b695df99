#define _GNU_SOURCE
#include "util/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

/* What to write: a buffer, or whatever a writer streams. */
struct payload {
	const char *data;
	size_t len;
	outfile_writer writer; /* when set, instead of data */
	void *ctx;
};

static int put(int fd, const struct payload *w)
{
	return w->writer ? w->writer(fd, w->ctx) : write_all(fd, w->data, w->len);
}

/* Writes W into a new file in the folder DIRFD and renames it to NAME. */
static int replace_in(int dirfd, const char *path, const char *name, const struct payload *w, struct tb_err *e)
{
	char tmp[64];
	int fd = -1;
	for (int attempt = 0; attempt < 16 && fd < 0; attempt++) {
		unsigned long long r = 0;
		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			r = (unsigned long long)now_ms() ^ ((unsigned long long)getpid() << 20) ^ (unsigned long long)attempt;
		snprintf(tmp, sizeof(tmp), ".testbed-%016llx.tmp", r);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0)
		return tb_fail(e, "creating a temporary file beside %s: %s", path, strerror(errno));
	if (put(fd, w) < 0 || fsync(fd) < 0) {
		int err = errno;
		close(fd);
		unlinkat(dirfd, tmp, 0);
		return tb_fail(e, "writing %s: %s", path, strerror(err));
	}
	close(fd);
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		int err = errno;
		unlinkat(dirfd, tmp, 0);
		return tb_fail(e, "replacing %s: %s", path, strerror(err));
	}
	return 0;
}

/* The folder of PATH, opened without following a link at its last part,
 * and PATH's last part (malloc'd). */
static int open_parent(const char *path, char **name, struct tb_err *e)
{
	autofree char *copy1 = xstrdup(path), *copy2 = xstrdup(path);
	const char *dir = dirname(copy1), *base = basename(copy2);
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0 || strcmp(base, "/") == 0)
		return tb_fail(e, "%s: not a file name", path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return tb_fail(e, "%s: %s", dir, strerror(errno));
	*name = xstrdup(base);
	return fd;
}

int write_file_atomic(const char *path, const char *data, size_t len, struct tb_err *e)
{
	const struct payload payload = {.data = data, .len = len}, *w = &payload;
	autofree char *name = NULL;
	autoclose int dirfd = open_parent(path, &name, e);
	if (dirfd < 0)
		return -1;
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
		return tb_fail(e, "%s: not a regular file", path);
	return replace_in(dirfd, path, name, w, e);
}

static int write_in_place(const char *path, const struct payload *w, struct tb_err *e)
{
	autoclose int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return tb_fail(e, "%s: %s", path, strerror(errno));
	if (put(fd, w) < 0)
		return tb_fail(e, "writing %s: %s", path, strerror(errno));
	return 0;
}

static int write_output(const char *path, const struct payload *w, struct tb_err *e)
{
	autofree char *name = NULL;
	autoclose int dirfd = open_parent(path, &name, e);
	if (dirfd < 0)
		return -1;
	struct stat st, dir_st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			return tb_fail(e, "%s: %s", path, strerror(errno));
		return replace_in(dirfd, path, name, w, e);
	}
	if (S_ISREG(st.st_mode))
		return replace_in(dirfd, path, name, w, e);
	if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))
		return write_in_place(path, w, e);
	if (S_ISDIR(st.st_mode))
		return tb_fail(e, "%s: is a directory", path);
	if (!S_ISLNK(st.st_mode))
		return tb_fail(e, "%s: not a file testbed writes reports to", path);
	/* A symlink: the user's own intent only if the user owns it and nobody
	 * else could have put it there. */
	if (fstat(dirfd, &dir_st) < 0)
		return tb_fail(e, "%s: %s", path, strerror(errno));
	if (st.st_uid != geteuid() || (dir_st.st_mode & (S_IWGRP | S_IWOTH)) || dir_st.st_uid != geteuid())
		return tb_fail(e,
			       "%s is a symlink in a folder others may write to, or not yours: refusing to write "
			       "through it (name the file it points to)",
			       path);
	struct stat target;
	if (stat(path, &target) == 0 && S_ISDIR(target.st_mode))
		return tb_fail(e, "%s: is a directory", path);
	if (stat(path, &target) < 0 && errno != ENOENT)
		return tb_fail(e, "%s: %s", path, strerror(errno));
	/* Through the link, in place: renaming would replace the link itself. */
	autoclose int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
	if (fd < 0)
		return tb_fail(e, "%s: %s", path, strerror(errno));
	if (put(fd, w) < 0)
		return tb_fail(e, "writing %s: %s", path, strerror(errno));
	return 0;
}

int write_output_stream(const char *path, outfile_writer writer, void *ctx, struct tb_err *e)
{
	const struct payload w = {.writer = writer, .ctx = ctx};
	return write_output(path, &w, e);
}
