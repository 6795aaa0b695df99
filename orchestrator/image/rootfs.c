#define _GNU_SOURCE
#include "image/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

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

/* The packing: per file, its path, its mode as four octal digits and its
 * content, each ended by a NUL (plan files hold no NUL). */
int rootfs_files_pack(const struct plan_file *files, size_t n, struct tb_err *e)
{
	int fd = memfd_create("testbed-files", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return tb_fail(e, "memfd_create: %s", strerror(errno));
	char *buf = NULL;
	size_t size = 0;
	FILE *mem = open_memstream(&buf, &size);
	for (size_t i = 0; i < n; i++) {
		fprintf(mem, "%s%c%04o%c%s", files[i].path, 0, files[i].mode & 0777, 0, files[i].content);
		fputc(0, mem);
	}
	fclose(mem);
	int rc = write_all(fd, buf, size);
	free(buf);
	if (rc < 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
		int err = errno;
		close(fd);
		return tb_fail(e, "packing the machine's files: %s", strerror(err));
	}
	return fd;
}

/* mkdir -p of PATH's folders, inside the root. */
static int make_parents(const char *path, struct tb_err *e)
{
	autofree char *dir = xstrdup(path);
	for (char *slash = strchr(dir + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return tb_fail(e, "mkdir %s: %s", dir, strerror(errno));
		*slash = '/';
	}
	return 0;
}

static int write_file(const char *path, unsigned mode, const char *content, struct tb_err *e)
{
	if (make_parents(path, e) < 0)
		return -1;
	/* Replaced, not written through: a symlink the image has there is
	 * removed, never followed. */
	if (unlink(path) < 0 && errno != ENOENT)
		return tb_fail(e, "replacing %s: %s", path, strerror(errno));
	autoclose int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0 || write_all(fd, content, strlen(content)) < 0 || fchmod(fd, mode) < 0)
		return tb_fail(e, "writing %s: %s", path, strerror(errno));
	return 0;
}

int rootfs_files_write(int fd, struct tb_err *e)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return tb_fail(e, "reading the machine's files: %s", strerror(errno));
	if (st.st_size == 0)
		return 0;
	size_t size = (size_t)st.st_size;
	char *data = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (data == MAP_FAILED)
		return tb_fail(e, "reading the machine's files: %s", strerror(errno));
	int rc = 0;
	for (size_t at = 0; at < size && rc == 0;) {
		const char *field[3];
		for (int k = 0; k < 3; k++) {
			const char *nul = at < size ? memchr(data + at, '\0', size - at) : NULL;
			if (!nul) {
				rc = tb_fail(e, "reading the machine's files: malformed");
				goto out;
			}
			field[k] = data + at;
			at = (size_t)(nul - data) + 1;
		}
		rc = write_file(field[0], (unsigned)strtoul(field[1], NULL, 8) & 0777, field[2], e);
	}
out:
	munmap(data, size);
	return rc;
}
