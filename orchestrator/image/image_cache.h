/* The image cache, CACHE/ (TESTBED_CACHE_DIR): each image tarball is
 * unpacked once (tarball.h) into CACHE/<sha256 of the tarball>/, a tree
 * that machines only ever mount as their overlay's lower layer (rootfs.h);
 * beside it its record, CACHE/<sha256>.json: the tarball it came from and
 * when. CACHE/.lock serializes unpacking and pruning; an unpack works in a
 * CACHE/.unpack-* directory and renames it into place. `testbed images`
 * lists the cache and `testbed prune` empties it of the trees no lab
 * uses, as their caller tells them: the cache never reads the labs' state.
 * Library code: the cmd_* file prints. */
#ifndef TESTBED_IMAGE_CACHE_H
#define TESTBED_IMAGE_CACHE_H

#include <stdbool.h>

#include "util/util.h"

/* Unpacks IMAGE into the cache unless already there; returns the rootfs
 * directory (malloc'd) or NULL. HASH receives the tarball's SHA-256.
 * CACHE_DIR (created as root's, mode 0700, if missing) must be root's and
 * writable by nobody else, as must its parent, and may not be a symlink.
 * Under the cache lock it also removes the .unpack-* directories that
 * killed ups left. An archive's "." entry is skipped: the directory it
 * unpacks into keeps testbed's mode, owner and times. */
char *image_unpack(const char *cache_dir, const char *image, char hash[65], struct tb_err *e);

struct cached_image {
	char sha256[65];
	unsigned long long bytes; /* on disk: allocated blocks, each hard-linked file once (as du) */
	long long unpacked;       /* seconds since the epoch: its record's, else the tree's mtime */
	char *source;             /* the tarball, as recorded at unpack; NULL when unknown */
	char **labs;              /* labs that use it, as image_uses_fn says; sorted */
	size_t n_labs, cap_labs;
	bool removed;             /* by prune (or would be, with --dry-run) */
};

/* Something in the cache that is no image: a .unpack-* leftover of an
 * interrupted unpack, or the record of a tree that is gone. */
struct cache_leftover {
	char *name;
	unsigned long long bytes;
	bool removed;
};

/* A lab whose images cannot be known (no saved plan yet, or one this
 * testbed cannot read): while there is one, prune keeps every tree. */
struct unknown_lab {
	char *name;
	char *why;
};

/* Which labs use which trees, as the caller knows them (the lab layer,
 * from the labs' saved plans: lab/image_uses.h). A use may name a tree
 * that is not cached, or repeat one. */
struct image_use {
	char sha256[65];
	char *lab;
};
struct image_uses {
	struct image_use *uses;
	size_t n_uses, cap_uses;
	struct unknown_lab *unknown;
	size_t n_unknown, cap_unknown;
};

void image_uses_add(struct image_uses *u, const char *sha256, const char *lab);
void image_uses_add_unknown(struct image_uses *u, const char *lab, const char *why);
void image_uses_free(struct image_uses *u);

/* Fills in U from CTX, what the caller passed along; -1 with E set when
 * the uses cannot be read. The cache calls it with its lock held, after
 * reading its trees: an up records its lab before it looks for its tree
 * (image_unpack), so a prune either sees that lab or is done before the
 * up looks. */
typedef int (*image_uses_fn)(const void *ctx, struct image_uses *u, struct tb_err *e);

struct image_cache {
	char *dir; /* resolved; NULL when there is no cache yet */
	struct cached_image *images;
	size_t n_images, cap_images;
	struct cache_leftover *leftovers;
	size_t n_leftovers, cap_leftovers;
	struct unknown_lab *unknown;
	size_t n_unknown, cap_unknown;
	unsigned long long freed; /* prune: bytes removed (or that would be) */
};

/* Reads the cache CACHE_DIR (never creating it), and which labs use its
 * trees from USES (called with CTX; not at all when there is no cache).
 * Returns a tb_exit value: TB_EXIT_USAGE, with E saying so, when not root
 * and the cache or the labs' state is root's. */
int image_cache_read(const char *cache_dir, image_uses_fn uses, const void *ctx, struct image_cache *c,
		     struct tb_err *e);

/* Under the cache lock image_unpack takes: reads as above, then removes
 * every tree no lab uses (none while any lab's images are unknown), the
 * .unpack-* leftovers and orphaned records, marking each removed in C;
 * DRY_RUN only marks. A tree is first renamed to a .unpack-* name, so a
 * removal that fails halfway never leaves a partial tree under its hash.
 * Returns a tb_exit value. */
int image_cache_prune(const char *cache_dir, image_uses_fn uses, const void *ctx, bool dry_run,
		      struct image_cache *c, struct tb_err *e);

void image_cache_free(struct image_cache *c);

/* Is NAME a tree's name: 64 lowercase hex digits? */
bool image_cache_is_hash(const char *name);
/* BYTES for people: "512 B", "1.5 KiB", "42.0 MiB" (powers of 1024). */
void image_cache_human_bytes(unsigned long long bytes, char out[16]);

#endif
