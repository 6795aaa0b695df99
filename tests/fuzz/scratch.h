/* What both fuzz targets need around the code under test: a scratch
 * directory of their own under $TMPDIR (or /tmp), files in it, and removal
 * that never follows a symlink out of it. Header-only, so that each target
 * stays one file to build. */
#ifndef TESTBED_FUZZ_SCRATCH_H
#define TESTBED_FUZZ_SCRATCH_H

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A message and abort(): libFuzzer saves the input that got here. */
#define FUZZ_ASSERT(cond, ...)                                                                                    \
	do {                                                                                                     \
		if (!(cond)) {                                                                                   \
			fprintf(stderr, "fuzz: " __VA_ARGS__);                                                   \
			fputc('\n', stderr);                                                                     \
			abort();                                                                                 \
		}                                                                                                \
	} while (0)

/* A new directory TMPDIR/PREFIX-XXXXXX (malloc'd); aborts on failure,
 * since no input can be tried without it. */
static inline char *scratch_make(const char *prefix)
{
	const char *tmp = getenv("TMPDIR");
	char *path = NULL;
	if (asprintf(&path, "%s/%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", prefix) < 0)
		abort();
	FUZZ_ASSERT(mkdtemp(path), "mkdtemp %s failed", path);
	return path;
}

static inline void scratch_touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	FUZZ_ASSERT(fd >= 0, "creating %s failed", path);
	close(fd);
}

static inline int scratch_remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

/* An unpacked image may hold directories of mode 0: a caller without
 * CAP_DAC_OVERRIDE could neither list nor empty them. */
static inline int scratch_open_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_D || type == FTW_DNR)
		chmod(path, 0700);
	return 0;
}

/* Directories opened up first, then removed depth first; symlinks are
 * removed, never followed (FTW_PHYS), and no other file system is entered
 * (FTW_MOUNT). */
static inline void scratch_remove(const char *path)
{
	nftw(path, scratch_open_entry, 32, FTW_PHYS | FTW_MOUNT);
	nftw(path, scratch_remove_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

#endif
