/* Image tarballs: their SHA-256, which names them in the cache, and their
 * extraction with libarchive's secure flags, within limits. An image is
 * untrusted data: this is where testbed, as root, writes files a stranger
 * chose. */
#ifndef TESTBED_TARBALL_H
#define TESTBED_TARBALL_H

#include "util/util.h"

/* What one image may unpack to, unless TESTBED_IMAGE_MAX_BYTES and
 * TESTBED_IMAGE_MAX_ENTRIES say otherwise: room for a full Debian rootfs
 * with a toolchain (about 1 GB, 60,000 entries; the bundled images are
 * 42 and 53 MB), not for a tarball built to fill the disk. */
#define TB_IMAGE_MAX_BYTES (2ULL << 30) /* 2 GiB, as unpacked: sparse files at full size, hard links as copies */
#define TB_IMAGE_MAX_ENTRIES 200000ULL

struct tarball_limits {
	unsigned long long max_bytes, max_entries;
};

/* The limits above, or the environment's; fails on a malformed value. */
int tarball_limits(struct tarball_limits *l, struct tb_err *e);

/* The SHA-256 of what FD holds from its offset on, as 64 hex digits. */
int tarball_sha256(int fd, char hex[65], struct tb_err *e);

/* Extracts the tar or cpio archive FD (any compression) into the working
 * directory, within L: no "..", absolute paths or writing through
 * symlinks, no device nodes, numeric owners. The archive's "." entry is
 * skipped: the directory it unpacks into keeps its mode, owner and times.
 * The secure flags hold only for relative paths, hence the working
 * directory; what a failure leaves is the caller's to remove. */
int tarball_extract(int fd, const struct tarball_limits *l, struct tb_err *e);

#endif
