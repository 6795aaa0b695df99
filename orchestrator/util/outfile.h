/* Writing files as root without being turned against the machine: state
 * files and reports go through a fresh temporary file in the target's own
 * folder (created with O_EXCL, never through a link) and a rename, so that a
 * symlink planted at a predictable name cannot make root overwrite its
 * target, and a reader never sees half a file. */
#ifndef TESTBED_OUTFILE_H
#define TESTBED_OUTFILE_H

#include <stddef.h>

#include "util/util.h"

/* PATH, atomically: a new temporary beside it, then rename over PATH,
 * which must be missing or a regular file (a symlink there is replaced,
 * never followed). For files testbed owns (its state). */
int write_file_atomic(const char *path, const char *data, size_t len, struct tb_err *e);

/* A file the user named (check --output), whose contents WRITER streams
 * into FD (returns 0, or -1 with errno set), so that a large report never
 * has to fit in memory. A regular file or nothing is replaced atomically
 * as above; a device, FIFO or socket is written in place (/dev/null, a
 * pipe); a symlink is followed only when it is the user's own: owned by
 * the user running testbed, in a folder no one else may write to (so
 * /dev/stdout works, a link planted in /tmp does not). Anything else is
 * refused with a reason. */
typedef int (*outfile_writer)(int fd, void *ctx);
int write_output_stream(const char *path, outfile_writer writer, void *ctx, struct tb_err *e);

#endif
