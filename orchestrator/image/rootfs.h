/* Images and root filesystems.
 *
 * Each image tarball is unpacked once, with libarchive's secure extraction
 * flags, into CACHE/<sha256 of the tarball>/; every machine then gets its own
 * overlay on top of that, with the writable layer on a tmpfs of its own mount
 * namespace, so nothing a lab mounts is visible on the host. Paths inside a
 * rootfs are only ever resolved after pivot_root, never from the host side. */
#ifndef TESTBED_ROOTFS_H
#define TESTBED_ROOTFS_H

#include "util/util.h"

/* Unpacks IMAGE into the cache unless already there; returns the rootfs
 * directory (malloc'd) or NULL. HASH receives the tarball's SHA-256.
 * CACHE_DIR (created as root's, mode 0700, if missing) must be root's and
 * writable by nobody else, as must its parent, and may not be a symlink.
 * Under the cache lock it also removes the .unpack-* directories that
 * killed ups left. An archive's "." entry is skipped: the directory it
 * unpacks into keeps testbed's mode, owner and times. */
char *image_unpack(const char *cache_dir, const char *image, char hash[65], struct tb_err *e);

/* The cache directory DIR, made safe: absolute, with no "." or empty
 * components and every symlink above it resolved, root's and writable by
 * nobody else, as its parent, and no symlink itself. CREATE: missing ones
 * are created (root's, mode 0700); else NULL with errno ENOENT. */
char *image_cache_dir(const char *dir, bool create, struct tb_err *e);

/* For a new machine, in its own mount namespace (and PID namespace, for
 * /proc): build an overlay of LOWER with its upper layer on a tmpfs of
 * DISK_BYTES mounted at SCRATCH, pivot_root into it, and mount /proc, /sys
 * and a minimal nodev /dev, with the host's /proc files masked and
 * /proc/sys read-only but for net/. Writes /etc/hostname and /etc/hosts for
 * HOSTNAME and ADDRESS (may be NULL). */
int rootfs_enter(const char *lower, const char *scratch, unsigned long long disk_bytes, const char *hostname,
		 const char *address, struct tb_err *e);

#endif
