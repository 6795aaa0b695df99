/* libFuzzer target: unpacking an image tarball (image_unpack: image_cache.c, tarball.c),
 * the one place where testbed, as root, writes files a stranger chose.
 *
 * Each input is written as a tarball and unpacked into a fresh cache
 * directory, which is then removed without following symlinks. Beyond "no
 * crash, no leak", nothing may be written outside the cache: the scratch
 * tree around it is checked after every input. Its layout:
 *
 *   ROOT/image.tar          the input
 *   ROOT/cache/             TESTBED_CACHE_DIR; the unpacking happens in
 *                           cache/.unpack-XXXXXX, so "../../outside/x"
 *                           is where an escape would land
 *   ROOT/outside/victim     must keep its content, and be alone there
 *
 * and ROOT must hold nothing else once the cache is gone. Seeds aim at
 * that sentinel with "..", symlinks and hard links.
 *
 * Each file may grow to 1 MiB at most (RLIMIT_FSIZE, SIGXFSZ ignored), so
 * that a small compressed input cannot fill the disk. */
#define _GNU_SOURCE
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image_cache.h"
#include "scratch.h"
#include "util/util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define VICTIM_TEXT "testbed fuzz sentinel: an image wrote outside its cache if this changed\n"
#define FILE_SIZE_MAX (1 << 20)

static char *root, *image, *cache, *outside, *victim;
static char cwd[4096];

static void remove_root(void)
{
	scratch_remove(root);
}

static void write_file(const char *path, const void *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	FUZZ_ASSERT(fd >= 0 && write_all(fd, data, size) == 0, "writing %s failed", path);
	close(fd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	root = scratch_make("tb-fuzz-image");
	atexit(remove_root);
	image = xasprintf("%s/image.tar", root);
	cache = xasprintf("%s/cache", root);
	outside = xasprintf("%s/outside", root);
	victim = xasprintf("%s/victim", outside);
	FUZZ_ASSERT(mkdir(outside, 0755) == 0, "mkdir %s failed", outside);
	write_file(victim, VICTIM_TEXT, strlen(VICTIM_TEXT));
	FUZZ_ASSERT(getcwd(cwd, sizeof(cwd)), "getcwd failed");

	signal(SIGXFSZ, SIG_IGN);
	struct rlimit fsize = {FILE_SIZE_MAX, FILE_SIZE_MAX};
	FUZZ_ASSERT(setrlimit(RLIMIT_FSIZE, &fsize) == 0, "setrlimit failed");
	return 0;
}

/* How many entries DIR holds besides "." and "..", and the first one's
 * name in FIRST. */
static size_t count_entries(const char *dir, char *first, size_t first_size)
{
	DIR *d = opendir(dir);
	FUZZ_ASSERT(d, "%s cannot be listed: something replaced it", dir);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n++ == 0)
			snprintf(first, first_size, "%s", de->d_name);
	}
	closedir(d);
	return n;
}

static void check_nothing_escaped(void)
{
	char name[256];
	struct stat st;
	/* ROOT: image.tar and outside, nothing else. */
	DIR *d = opendir(root);
	FUZZ_ASSERT(d, "%s cannot be listed", root);
	struct dirent *de;
	while ((de = readdir(d)))
		FUZZ_ASSERT(strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
				    strcmp(de->d_name, "image.tar") == 0 || strcmp(de->d_name, "outside") == 0,
			    "an image wrote %s/%s, outside the cache", root, de->d_name);
	closedir(d);
	FUZZ_ASSERT(lstat(outside, &st) == 0 && S_ISDIR(st.st_mode), "an image replaced %s", outside);
	size_t n = count_entries(outside, name, sizeof(name));
	FUZZ_ASSERT(n == 1 && strcmp(name, "victim") == 0, "an image wrote into %s (%zu entries)", outside, n);
	FUZZ_ASSERT(lstat(victim, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1 &&
			    (st.st_mode & 07777) == 0644 && st.st_size == (off_t)strlen(VICTIM_TEXT),
		    "an image changed %s (mode %o, %ju links, %jd bytes)", victim, (unsigned)st.st_mode,
		    (uintmax_t)st.st_nlink, (intmax_t)st.st_size);
	size_t len = 0;
	autofree char *text = read_file(victim, &len);
	FUZZ_ASSERT(text && strcmp(text, VICTIM_TEXT) == 0, "an image changed the content of %s", victim);
	char now[4096];
	FUZZ_ASSERT(getcwd(now, sizeof(now)) && strcmp(now, cwd) == 0, "image_unpack left the working directory");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	write_file(image, data, size);
	char hash[65] = "";
	struct tb_err e = {{0}};
	char *rootfs = image_unpack(cache, image, hash, &e);
	/* For a look at what the seeds do: FUZZ_VERBOSE=1 fuzz_image SEED... */
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "fuzz_image: %s\n", rootfs ? "unpacked" : e.msg);
	if (rootfs) {
		struct stat st;
		FUZZ_ASSERT(lstat(rootfs, &st) == 0 && S_ISDIR(st.st_mode), "image_unpack returned %s, not a directory",
			    rootfs);
		FUZZ_ASSERT(strlen(hash) == 64, "no SHA-256 for an unpacked image");
		free(rootfs);
	} else {
		FUZZ_ASSERT(e.msg[0], "image_unpack failed without a message");
	}
	scratch_remove(cache);
	check_nothing_escaped();
	return 0;
}
