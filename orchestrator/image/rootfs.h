/* A machine's root filesystem: its own overlay on top of an image's tree in
 * the cache (image_cache.h), with the writable layer on a tmpfs of its own
 * mount namespace, so nothing a lab mounts is visible on the host. Paths
 * inside a rootfs are only ever resolved after pivot_root, never from the
 * host side. */
#ifndef TESTBED_ROOTFS_H
#define TESTBED_ROOTFS_H

#include "util/util.h"

/* For a new machine, in its own mount namespace (and PID namespace, for
 * /proc): build an overlay of LOWER with its upper layer on a tmpfs of
 * DISK_BYTES mounted at SCRATCH, pivot_root into it, and mount /proc, /sys
 * and a minimal nodev /dev, with the host's /proc files masked and
 * /proc/sys read-only but for net/. Writes /etc/hostname and /etc/hosts for
 * HOSTNAME and ADDRESS (may be NULL). */
int rootfs_enter(const char *lower, const char *scratch, unsigned long long disk_bytes, const char *hostname,
		 const char *address, struct tb_err *e);

#endif
