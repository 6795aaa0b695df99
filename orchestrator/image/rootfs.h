/* A machine's root filesystem: its own overlay on top of an image's tree in
 * the cache (image_cache.h), with the writable layer on a tmpfs of its own
 * mount namespace, so nothing a lab mounts is visible on the host. Paths
 * inside a rootfs are only ever resolved after pivot_root, never from the
 * host side. */
#ifndef TESTBED_ROOTFS_H
#define TESTBED_ROOTFS_H

#include <stddef.h>

#include "plan/plan.h"
#include "util/util.h"

/* For a new machine, in its own mount namespace (and PID namespace, for
 * /proc): build an overlay of LOWER with its upper layer on a tmpfs of
 * DISK_BYTES mounted at SCRATCH, pivot_root into it, and mount /proc, /sys
 * and a minimal nodev /dev, with the host's /proc files masked and
 * /proc/sys read-only but for net/. Writes /etc/hostname and /etc/hosts for
 * HOSTNAME and ADDRESS (may be NULL). */
int rootfs_enter(const char *lower, const char *scratch, unsigned long long disk_bytes, const char *hostname,
		 const char *address, struct tb_err *e);

/* FILES (a plan machine's) packed into a sealed memfd, for a machine's init
 * that another process clones: a descriptor (O_CLOEXEC), or -1 and E. */
int rootfs_files_pack(const struct plan_file *files, size_t n, struct tb_err *e);
/* After rootfs_enter, in the new root: writes the files packed in FD, each
 * replacing what the image had at its path (a symlink is replaced, never
 * followed), making missing folders (0755). */
int rootfs_files_write(int fd, struct tb_err *e);

#endif
