/* Images and root filesystems.
 *
 * Each image tarball is unpacked once, with libarchive's secure extraction
 * flags, into CACHE/<sha256 of the tarball>/; every machine then gets its own
 * overlay on top of that, with the writable layer on a tmpfs of its own mount
 * namespace, so nothing a lab mounts is visible on the host. Paths inside a
 * rootfs are only ever resolved after pivot_root, never from the host side. */
#ifndef TESTBED_ROOTFS_H
#define TESTBED_ROOTFS_H

#include "util.h"

/* Unpacks IMAGE into the cache unless already there; returns the rootfs
 * directory (malloc'd) or NULL. HASH receives the tarball's SHA-256. */
char *image_unpack(const char *cache_dir, const char *image, char hash[65], struct tb_err *e);

/* For a new machine, in its own mount namespace (and PID namespace, for
 * /proc): build an overlay of LOWER with its upper layer on a tmpfs of
 * DISK_BYTES mounted at SCRATCH, pivot_root into it, and mount /proc, /sys
 * and a minimal nodev /dev, with the host's /proc files masked and
 * /proc/sys read-only but for net/. Writes /etc/hostname and /etc/hosts for
 * HOSTNAME and ADDRESS (may be NULL). */
int rootfs_enter(const char *lower, const char *scratch, unsigned long long disk_bytes, const char *hostname,
		 const char *address, struct tb_err *e);

#endif
