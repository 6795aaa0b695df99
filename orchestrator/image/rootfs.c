#define _GNU_SOURCE
#include "image/rootfs.h"

#include "image/image_cache.h"
#include "image/tarball.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Why only root may change directory DIR (stat'ed as ST) on the way to
 * cache directory CACHE, or 0 when it holds. STRICT for the cache and its
 * parent: nobody else may write there at all. Above them a sticky
 * directory such as /tmp will do: others cannot rename or remove root's
 * entries in it. */
static int check_dir(const char *cache, const char *dir, const struct stat *st, bool strict, struct tb_err *e)
{
	autofree char *what = strcmp(cache, dir) == 0 ? xstrdup("") : xasprintf("%s: ", dir);
	if (!S_ISDIR(st->st_mode))
		return tb_fail(e, "cache directory %s: %snot a directory", cache, what);
	if (st->st_uid != 0)
		return tb_fail(e,
			       "cache directory %s: %sowned by uid %u, not root, so that user could swap the "
			       "images in it; fix with: chown root: %s (or set TESTBED_CACHE_DIR to another)",
			       cache, what, (unsigned)st->st_uid, dir);
	mode_t open_bits = st->st_mode & (S_IWGRP | S_IWOTH);
	if (open_bits && (strict || !(st->st_mode & S_ISVTX)))
		return tb_fail(e,
			       "cache directory %s: %swritable by %s (mode %04o), who could swap the images in "
			       "it; fix with: chmod go-w %s (or set TESTBED_CACHE_DIR to another)",
			       cache, what, (open_bits & S_IWOTH) ? "others" : "its group",
			       (unsigned)(st->st_mode & 07777), dir);
	return 0;
}

/* Makes sure that directory PATH (absolute, clean) exists and that only
 * root can change it or any directory above it, creating what is missing
 * as root's, mode 0700. LEVEL: 0 for the cache itself, 1 its parent, and
 * so on. Returns PATH with any symlink above the cache resolved. */
static char *safe_dir(const char *cache, const char *path, int level, bool create, struct tb_err *e)
{
	struct stat st;
	if (strcmp(path, "/") == 0) {
		if (stat("/", &st) < 0) {
			tb_fail(e, "cache directory %s: /: %s", cache, strerror(errno));
			return NULL;
		}
		return check_dir(cache, "/", &st, level <= 1, e) < 0 ? NULL : xstrdup("/");
	}
	const char *slash = strrchr(path, '/');
	autofree char *parent_path = slash == path ? xstrdup("/") : xasprintf("%.*s", (int)(slash - path), path);
	/* Parents first: nothing is created or looked at below an unsafe one. */
	autofree char *parent = safe_dir(cache, parent_path, level + 1, create, e);
	if (!parent)
		return NULL;
	char *full = xasprintf("%s/%s", strcmp(parent, "/") == 0 ? "" : parent, slash + 1);
	if (create && lstat(full, &st) < 0 && errno == ENOENT) {
		if (mkdir(full, 0700) == 0)
			chmod(full, 0700); /* whatever the umask */
		else if (errno != EEXIST)
			goto fail;
	}
	if (lstat(full, &st) < 0)
		goto fail;
	if (S_ISLNK(st.st_mode)) {
		if (level == 0) {
			tb_fail(e,
				"cache directory %s: a symbolic link, which whoever can change it could point "
				"elsewhere; set TESTBED_CACHE_DIR to a directory",
				cache);
			free(full);
			return NULL;
		}
		/* A link above the cache, in a directory only root can change:
		 * follow it, and check the way to where it leads. */
		autofree char *target = realpath(full, NULL);
		if (!target)
			goto fail;
		free(full);
		return safe_dir(cache, target, level, create, e);
	}
	if (check_dir(cache, full, &st, level <= 1, e) < 0) {
		free(full);
		return NULL;
	}
	return full;
fail:;
	int err = errno;
	tb_fail(e, "cache directory %s: %s: %s", cache, full, strerror(err));
	free(full);
	errno = err; /* ENOENT tells image_cache_dir's callers "no cache yet" */
	return NULL;
}

char *image_cache_dir(const char *dir, bool create, struct tb_err *e)
{
	errno = 0;
	autofree char *cwd = dir[0] == '/' ? xstrdup("") : getcwd(NULL, 0);
	if (!cwd) {
		tb_fail(e, "cache directory %s: the working directory: %s", dir, strerror(errno));
		return NULL;
	}
	autofree char *joined = xasprintf("%s/%s", cwd, dir);
	autofree char *clean = xmalloc(strlen(joined) + 2);
	size_t n = 0;
	char *save = NULL;
	for (char *c = strtok_r(joined, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		/* ".." would climb out of a directory checked as a parent. */
		if (strcmp(c, "..") == 0) {
			tb_fail(e, "cache directory %s: name it without \"..\"", dir);
			return NULL;
		}
		n += (size_t)sprintf(clean + n, "/%s", c);
	}
	if (n == 0)
		strcpy(clean, "/");
	return safe_dir(dir, clean, 0, create, e);
}

static bool is_unpack_leftover(const char *name)
{
	return str_has_prefix(name, ".unpack-");
}

/* Removes the .unpack-* directories that unpacking processes killed
 * midway left in CACHE_FD. Called with the cache lock held, under which
 * all unpacking happens: any found then are stale. */
static int sweep_stale(int cache_fd, const char *cache, struct tb_err *e)
{
	char **names;
	size_t n;
	if (dir_names(cache_fd, is_unpack_leftover, cache, &names, &n, e) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && remove_tree_at(cache_fd, names[i], e) < 0)
			rc = tb_context(e, "a leftover of an interrupted unpack in %s", cache);
		free(names[i]);
	}
	free(names);
	return rc;
}

char *image_unpack(const char *cache_arg, const char *image, char hash[65], struct tb_err *e)
{
	struct tarball_limits limits;
	if (tarball_limits(&limits, e) < 0)
		return NULL;
	/* Checked even when the image is cached: whoever could write to the
	 * cache could have changed the unpacked tree. */
	autofree char *cache_dir = image_cache_dir(cache_arg, true, e);
	if (!cache_dir)
		return NULL;
	/* The path becomes an overlayfs mount option, which cannot quote. */
	if (strpbrk(cache_dir, ",:")) {
		tb_fail(e, "cache directory %s: may not contain ',' or ':'", cache_dir);
		return NULL;
	}
	autoclose int fd = open(image, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		tb_fail(e, "image %s: %s", image, strerror(errno));
		return NULL;
	}
	if (tarball_sha256(fd, hash, e) < 0) {
		tb_context(e, "image %s", image);
		return NULL;
	}
	char *rootfs = xasprintf("%s/%s", cache_dir, hash);
	autofree char *lock_path = xasprintf("%s/.lock", cache_dir);
	autofree char *tmp = xasprintf("%s/.unpack-XXXXXX", cache_dir);
	autoclose int cache_fd = open(cache_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	autoclose int lock = open(lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	autoclose int cwd = -1;
	struct stat st;
	if (stat(rootfs, &st) == 0 && S_ISDIR(st.st_mode)) {
		/* Sweep leftovers when no one else holds the lock (an unpacking
		 * up sweeps itself). Otherwise wait for a shared hold: prune
		 * decides under the lock which trees no lab uses, and this lab
		 * has written its state before getting here, so either prune
		 * saw this lab, or it is done and the tree is checked again
		 * below. A read-only cache of unpacked images still works. */
		struct tb_err ignored;
		bool exclusive = cache_fd >= 0 && lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) == 0;
		if (exclusive)
			sweep_stale(cache_fd, cache_dir, &ignored);
		else if (lock >= 0)
			flock(lock, LOCK_SH);
		if (lock < 0 || (stat(rootfs, &st) == 0 && S_ISDIR(st.st_mode))) {
			if (exclusive)
				image_meta_write(cache_dir, hash, image, false, &ignored);
			return rootfs;
		}
		flock(lock, LOCK_UN); /* pruned meanwhile: unpack it again */
	}
	if (cache_fd < 0) {
		tb_fail(e, "opening %s: %s", cache_dir, strerror(errno));
		goto fail;
	}
	/* Concurrent ups unpack each image once: the first holds the lock, the
	 * others then find the result. */
	if (lock < 0 || flock(lock, LOCK_EX) < 0) {
		tb_fail(e, "locking %s: %s", lock_path, strerror(errno));
		goto fail;
	}
	if (sweep_stale(cache_fd, cache_dir, e) < 0)
		goto fail;
	if (stat(rootfs, &st) == 0 && S_ISDIR(st.st_mode))
		return rootfs;

	if (!mkdtemp(tmp)) {
		tb_fail(e, "creating a directory in %s: %s", cache_dir, strerror(errno));
		goto fail;
	}
	chmod(tmp, 0755);
	struct tb_err ignored;
	cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0 || chdir(tmp) < 0) {
		tb_fail(e, "entering %s: %s", tmp, strerror(errno));
		remove_tree_at(AT_FDCWD, tmp, &ignored);
		goto fail;
	}
	/* libarchive's secure flags only hold for relative paths, hence the
	 * chdir (testbed is single-threaded). */
	lseek(fd, 0, SEEK_SET);
	int rc = tarball_extract(fd, &limits, e);
	if (fchdir(cwd) < 0)
		rc = tb_fail(e, "returning to the working directory: %s", strerror(errno));
	if (rc == 0 && rename(tmp, rootfs) < 0)
		rc = tb_fail(e, "renaming %s: %s", tmp, strerror(errno));
	/* Only for `testbed images`: a tree without its record still works. */
	if (rc == 0)
		image_meta_write(cache_dir, hash, image, true, &ignored);
	if (rc < 0) {
		/* Nothing of a refused image stays; should removing fail, the
		 * next unpack sweeps it. */
		remove_tree_at(AT_FDCWD, tmp, &ignored);
		tb_context(e, "unpacking image %s", image);
		goto fail;
	}
	return rootfs;
fail:
	free(rootfs);
	return NULL;
}

/* Before pivot_root, in the new root (the working directory): /dev is a
 * nodev tmpfs, so that nothing created in it later can be a device; the
 * usual nodes are bind mounts of the host's, which stay usable. */
static int mount_dev(struct tb_err *e)
{
	static const char *const nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
	if (mkdir("dev", 0755) < 0 && errno != EEXIST)
		return tb_fail(e, "mkdir /dev: %s", strerror(errno));
	if (mount("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=0755,size=64k") < 0)
		return tb_fail(e, "mounting a tmpfs on /dev: %s", strerror(errno));
	for (size_t i = 0; i < ARRAY_SIZE(nodes); i++) {
		autofree char *host = xasprintf("/dev/%s", nodes[i]);
		autofree char *here = xasprintf("dev/%s", nodes[i]);
		autoclose int fd = open(here, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
		if (fd < 0 || mount(host, here, NULL, MS_BIND, NULL) < 0 ||
		    mount(NULL, here, NULL, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NOEXEC, NULL) < 0)
			return tb_fail(e, "binding %s into /dev: %s", host, strerror(errno));
	}
	return 0;
}

/* What a machine may not see or change of the host through /proc: files
 * masked by an empty bind (crun's and runc's defaults), files and /proc/sys
 * read-only, except /proc/sys/net, which belongs to the machine's own
 * network namespace. */
static int confine_proc(struct tb_err *e)
{
	static const char *const masked[] = {"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/latency_stats",
					     "/proc/sched_debug", "/proc/timer_stats"};
	static const char *const masked_dirs[] = {"/proc/acpi", "/proc/asound", "/proc/scsi", "/sys/firmware"};
	static const char *const read_only[] = {"/proc/sysrq-trigger", "/proc/bus", "/proc/fs", "/proc/irq"};
	struct stat st;
	for (size_t i = 0; i < ARRAY_SIZE(masked); i++)
		if (stat(masked[i], &st) == 0 && mount("/dev/null", masked[i], NULL, MS_BIND, NULL) < 0)
			return tb_fail(e, "masking %s: %s", masked[i], strerror(errno));
	for (size_t i = 0; i < ARRAY_SIZE(masked_dirs); i++)
		if (stat(masked_dirs[i], &st) == 0 &&
		    mount("tmpfs", masked_dirs[i], "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0") < 0)
			return tb_fail(e, "masking %s: %s", masked_dirs[i], strerror(errno));
	for (size_t i = 0; i < ARRAY_SIZE(read_only); i++)
		if (stat(read_only[i], &st) == 0 &&
		    (mount(read_only[i], read_only[i], NULL, MS_BIND | MS_REC, NULL) < 0 ||
		     mount(NULL, read_only[i], NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0))
			return tb_fail(e, "making %s read-only: %s", read_only[i], strerror(errno));
	/* /proc/sys read-only; then its net/ bound again, writable. A bind of
	 * a path inside a read-only mount starts read-only: remount it. */
	if (mount("/proc/sys", "/proc/sys", NULL, MS_BIND, NULL) < 0 ||
	    mount(NULL, "/proc/sys", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0 ||
	    mount("/proc/sys/net", "/proc/sys/net", NULL, MS_BIND, NULL) < 0 ||
	    mount(NULL, "/proc/sys/net", NULL, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return tb_fail(e, "making /proc/sys read-only: %s", strerror(errno));
	return 0;
}

/* Runs after pivot_root: every path below resolves inside the new root. */
static int mount_system_dirs(struct tb_err *e)
{
	static const struct {
		const char *dir, *type, *opts;
		unsigned long flags;
	} mounts[] = {
		{"/proc", "proc", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC},
		{"/sys", "sysfs", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY},
		{"/dev/pts", "devpts", "newinstance,ptmxmode=0666,mode=0620", MS_NOSUID | MS_NOEXEC},
		{"/dev/shm", "tmpfs", "mode=1777,size=16m", MS_NOSUID | MS_NODEV},
	};
	for (size_t i = 0; i < ARRAY_SIZE(mounts); i++) {
		if (mkdir(mounts[i].dir, 0755) < 0 && errno != EEXIST)
			return tb_fail(e, "mkdir %s: %s", mounts[i].dir, strerror(errno));
		if (mount(mounts[i].type, mounts[i].dir, mounts[i].type, mounts[i].flags, mounts[i].opts) < 0)
			return tb_fail(e, "mounting %s on %s: %s", mounts[i].type, mounts[i].dir, strerror(errno));
	}
	if (symlink("/proc/self/fd", "/dev/fd") < 0 || symlink("/proc/self/fd/0", "/dev/stdin") < 0 ||
	    symlink("/proc/self/fd/1", "/dev/stdout") < 0 || symlink("/proc/self/fd/2", "/dev/stderr") < 0 ||
	    symlink("pts/ptmx", "/dev/ptmx") < 0)
		return tb_fail(e, "creating /dev links: %s", strerror(errno));
	return confine_proc(e);
}

static int write_text(const char *path, const char *text, struct tb_err *e)
{
	/* After pivot_root; O_NOFOLLOW still refuses a planted symlink. */
	autoclose int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, text, strlen(text)) < 0)
		return tb_fail(e, "writing %s: %s", path, strerror(errno));
	return 0;
}

int rootfs_enter(const char *lower, const char *scratch, unsigned long long disk_bytes, const char *hostname,
		 const char *address, struct tb_err *e)
{
	/* Without this, the mounts below would propagate to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return tb_fail(e, "making / private: %s", strerror(errno));
	/* The writable layer lives on this tmpfs: its size bounds what the
	 * machine can write. */
	autofree char *tmpfs_opts = xasprintf("mode=0755,size=%llu", disk_bytes);
	if (mount("tmpfs", scratch, "tmpfs", MS_NOSUID | MS_NODEV, tmpfs_opts) < 0)
		return tb_fail(e, "mounting a tmpfs on %s: %s", scratch, strerror(errno));
	autofree char *upper = xasprintf("%s/upper", scratch);
	autofree char *work = xasprintf("%s/work", scratch);
	autofree char *root = xasprintf("%s/root", scratch);
	if (mkdir(upper, 0755) < 0 || mkdir(work, 0755) < 0 || mkdir(root, 0755) < 0)
		return tb_fail(e, "preparing %s: %s", scratch, strerror(errno));
	autofree char *opts = xasprintf("lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
	if (mount("overlay", root, "overlay", MS_NOSUID, opts) < 0)
		return tb_fail(e, "mounting the overlay of %s: %s", lower, strerror(errno));
	if (chdir(root) < 0)
		return tb_fail(e, "entering %s: %s", root, strerror(errno));
	if (mount_dev(e) < 0)
		return -1;
	/* pivot_root(".", ".") stacks the old root on the new one; detaching
	 * it leaves only the new root (the approach runc and lxc take). */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return tb_fail(e, "pivot_root into %s: %s", root, strerror(errno));
	if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return tb_fail(e, "detaching the old root: %s", strerror(errno));
	if (mount_system_dirs(e) < 0)
		return -1;
	autofree char *hostname_text = xasprintf("%s\n", hostname);
	autofree char *hosts_text =
		xasprintf("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s%s%s%s",
			  address ? address : "", address ? "\t" : "", address ? hostname : "", address ? "\n" : "");
	if (mkdir("/etc", 0755) < 0 && errno != EEXIST)
		return tb_fail(e, "mkdir /etc: %s", strerror(errno));
	if (write_text("/etc/hostname", hostname_text, e) < 0 || write_text("/etc/hosts", hosts_text, e) < 0)
		return -1;
	return 0;
}
