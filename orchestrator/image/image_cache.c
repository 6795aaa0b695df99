#define _GNU_SOURCE
#include "image/image_cache.h"

#include "util/outfile.h"
#include "image/tarball.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define META_SUFFIX ".json"

bool image_cache_is_hash(const char *name)
{
	size_t n = 0;
	for (; name[n]; n++)
		if (!((name[n] >= '0' && name[n] <= '9') || (name[n] >= 'a' && name[n] <= 'f')))
			return false;
	return n == 64;
}

void image_cache_human_bytes(unsigned long long bytes, char out[16])
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	if (bytes < 1024) {
		snprintf(out, 16, "%llu B", bytes);
		return;
	}
	double v = (double)bytes / 1024;
	size_t u = 0;
	/* 1023.95 would print as "1024.0": move on to the next unit instead. */
	while (v >= 1023.95 && u + 1 < ARRAY_SIZE(units)) {
		v /= 1024;
		u++;
	}
	snprintf(out, 16, "%.1f %s", v, units[u]);
}

/* Records, beside tree HASH in CACHE_DIR, the tarball IMAGE it was
 * unpacked from and when (atomically); unless REPLACE, only when there is
 * no record yet. */
static int write_meta(const char *cache_dir, const char *hash, const char *image, bool replace, struct tb_err *e)
{
	autofree char *path = xasprintf("%s/%s" META_SUFFIX, cache_dir, hash);
	struct stat st;
	if (!replace && lstat(path, &st) == 0)
		return 0;
	/* Absolute, so that the record means the same from any directory. */
	autofree char *source = realpath(image, NULL);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "sha256", hash);
	cJSON_AddStringToObject(o, "source", source ? source : image);
	cJSON_AddNumberToObject(o, "unpacked", (double)time(NULL));
	char *text = cJSON_Print(o);
	cJSON_Delete(o);
	int rc = write_file_atomic(path, text, strlen(text), e);
	cJSON_free(text);
	return rc;
}

/* Why only root may change directory DIR (stat'ed as ST) on the way to
 * cache directory CACHE, or 0 when it holds. STRICT for the cache and its
 * parent: nobody else may write there at all. Above them a sticky
 * directory such as /tmp will do: others cannot rename or remove root's
 * entries in it. */
static int check_dir(const char *cache, const char *dir, const struct stat *st, bool strict, struct tb_err *e)
{
	autofree char *what = strcmp(cache, dir) == 0 ? xstrdup("") : xasprintf("%s: ", dir);
	if (!S_ISDIR(st->st_mode))
		return tb_fail(e, "cache directory %s: %snot a directory", cache, what);
	if (st->st_uid != 0)
		return tb_fail(e,
			       "cache directory %s: %sowned by uid %u, not root, so that user could swap the "
			       "images in it; fix with: chown root: %s (or set TESTBED_CACHE_DIR to another)",
			       cache, what, (unsigned)st->st_uid, dir);
	mode_t open_bits = st->st_mode & (S_IWGRP | S_IWOTH);
	if (open_bits && (strict || !(st->st_mode & S_ISVTX)))
		return tb_fail(e,
			       "cache directory %s: %swritable by %s (mode %04o), who could swap the images in "
			       "it; fix with: chmod go-w %s (or set TESTBED_CACHE_DIR to another)",
			       cache, what, (open_bits & S_IWOTH) ? "others" : "its group",
			       (unsigned)(st->st_mode & 07777), dir);
	return 0;
}

/* Makes sure that directory PATH (absolute, clean) exists and that only
 * root can change it or any directory above it, creating what is missing
 * as root's, mode 0700. LEVEL: 0 for the cache itself, 1 its parent, and
 * so on. Returns PATH with any symlink above the cache resolved. */
static char *safe_dir(const char *cache, const char *path, int level, bool create, struct tb_err *e)
{
	struct stat st;
	if (strcmp(path, "/") == 0) {
		if (stat("/", &st) < 0) {
			tb_fail(e, "cache directory %s: /: %s", cache, strerror(errno));
			return NULL;
		}
		return check_dir(cache, "/", &st, level <= 1, e) < 0 ? NULL : xstrdup("/");
	}
	const char *slash = strrchr(path, '/');
	autofree char *parent_path = slash == path ? xstrdup("/") : xasprintf("%.*s", (int)(slash - path), path);
	/* Parents first: nothing is created or looked at below an unsafe one. */
	autofree char *parent = safe_dir(cache, parent_path, level + 1, create, e);
	if (!parent)
		return NULL;
	char *full = xasprintf("%s/%s", strcmp(parent, "/") == 0 ? "" : parent, slash + 1);
	if (create && lstat(full, &st) < 0 && errno == ENOENT) {
		if (mkdir(full, 0700) == 0)
			chmod(full, 0700); /* whatever the umask */
		else if (errno != EEXIST)
			goto fail;
	}
	if (lstat(full, &st) < 0)
		goto fail;
	if (S_ISLNK(st.st_mode)) {
		if (level == 0) {
			tb_fail(e,
				"cache directory %s: a symbolic link, which whoever can change it could point "
				"elsewhere; set TESTBED_CACHE_DIR to a directory",
				cache);
			free(full);
			return NULL;
		}
		/* A link above the cache, in a directory only root can change:
		 * follow it, and check the way to where it leads. */
		autofree char *target = realpath(full, NULL);
		if (!target)
			goto fail;
		free(full);
		return safe_dir(cache, target, level, create, e);
	}
	if (check_dir(cache, full, &st, level <= 1, e) < 0) {
		free(full);
		return NULL;
	}
	return full;
fail:;
	int err = errno;
	tb_fail(e, "cache directory %s: %s: %s", cache, full, strerror(err));
	free(full);
	errno = err; /* ENOENT tells image_cache_dir's callers "no cache yet" */
	return NULL;
}

/* The cache directory DIR, made safe: absolute, with no "." or empty
 * components and every symlink above it resolved, root's and writable by
 * nobody else, as its parent, and no symlink itself. CREATE: missing ones
 * are created (root's, mode 0700); else NULL with errno ENOENT. */
static char *image_cache_dir(const char *dir, bool create, struct tb_err *e)
{
	errno = 0;
	autofree char *cwd = dir[0] == '/' ? xstrdup("") : getcwd(NULL, 0);
	if (!cwd) {
		tb_fail(e, "cache directory %s: the working directory: %s", dir, strerror(errno));
		return NULL;
	}
	autofree char *joined = xasprintf("%s/%s", cwd, dir);
	autofree char *clean = xmalloc(strlen(joined) + 2);
	size_t n = 0;
	char *save = NULL;
	for (char *c = strtok_r(joined, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		/* ".." would climb out of a directory checked as a parent. */
		if (strcmp(c, "..") == 0) {
			tb_fail(e, "cache directory %s: name it without \"..\"", dir);
			return NULL;
		}
		n += (size_t)sprintf(clean + n, "/%s", c);
	}
	if (n == 0)
		strcpy(clean, "/");
	return safe_dir(dir, clean, 0, create, e);
}

static bool is_unpack_leftover(const char *name)
{
	return str_has_prefix(name, ".unpack-");
}

/* Removes the .unpack-* directories that unpacking processes killed
 * midway left in CACHE_FD. Called with the cache lock held, under which
 * all unpacking happens: any found then are stale. */
static int sweep_stale(int cache_fd, const char *cache, struct tb_err *e)
{
	char **names;
	size_t n;
	if (dir_names(cache_fd, is_unpack_leftover, cache, &names, &n, e) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && remove_tree_at(cache_fd, names[i], e) < 0)
			rc = tb_context(e, "a leftover of an interrupted unpack in %s", cache);
		free(names[i]);
	}
	free(names);
	return rc;
}

char *image_unpack(const char *cache_arg, const char *image, char hash[65], struct tb_err *e)
{
	struct tarball_limits limits;
	if (tarball_limits(&limits, e) < 0)
		return NULL;
	/* Checked even when the image is cached: whoever could write to the
	 * cache could have changed the unpacked tree. */
	autofree char *cache_dir = image_cache_dir(cache_arg, true, e);
	if (!cache_dir)
		return NULL;
	/* The path becomes an overlayfs mount option, which cannot quote. */
	if (strpbrk(cache_dir, ",:")) {
		tb_fail(e, "cache directory %s: may not contain ',' or ':'", cache_dir);
		return NULL;
	}
	autoclose int fd = open(image, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		tb_fail(e, "image %s: %s", image, strerror(errno));
		return NULL;
	}
	if (tarball_sha256(fd, hash, e) < 0) {
		tb_context(e, "image %s", image);
		return NULL;
	}
	char *rootfs = xasprintf("%s/%s", cache_dir, hash);
	autofree char *lock_path = xasprintf("%s/.lock", cache_dir);
	autofree char *tmp = xasprintf("%s/.unpack-XXXXXX", cache_dir);
	autoclose int cache_fd = open(cache_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	autoclose int lock = open(lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	autoclose int cwd = -1;
	struct stat st;
	if (stat(rootfs, &st) == 0 && S_ISDIR(st.st_mode)) {
		/* Sweep leftovers when no one else holds the lock (an unpacking
		 * up sweeps itself). Otherwise wait for a shared hold: prune
		 * decides under the lock which trees no lab uses, and this lab
		 * has written its state before getting here, so either prune
		 * saw this lab, or it is done and the tree is checked again
		 * below. A read-only cache of unpacked images still works. */
		struct tb_err ignored;
		bool exclusive = cache_fd >= 0 && lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) == 0;
		if (exclusive)
			sweep_stale(cache_fd, cache_dir, &ignored);
		else if (lock >= 0)
			flock(lock, LOCK_SH);
		if (lock < 0 || (stat(rootfs, &st) == 0 && S_ISDIR(st.st_mode))) {
			if (exclusive)
				write_meta(cache_dir, hash, image, false, &ignored);
			return rootfs;
		}
		flock(lock, LOCK_UN); /* pruned meanwhile: unpack it again */
	}
	if (cache_fd < 0) {
		tb_fail(e, "opening %s: %s", cache_dir, strerror(errno));
		goto fail;
	}
	/* Concurrent ups unpack each image once: the first holds the lock, the
	 * others then find the result. */
	if (lock < 0 || flock(lock, LOCK_EX) < 0) {
		tb_fail(e, "locking %s: %s", lock_path, strerror(errno));
		goto fail;
	}
	if (sweep_stale(cache_fd, cache_dir, e) < 0)
		goto fail;
	if (stat(rootfs, &st) == 0 && S_ISDIR(st.st_mode))
		return rootfs;

	if (!mkdtemp(tmp)) {
		tb_fail(e, "creating a directory in %s: %s", cache_dir, strerror(errno));
		goto fail;
	}
	chmod(tmp, 0755);
	struct tb_err ignored;
	cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0 || chdir(tmp) < 0) {
		tb_fail(e, "entering %s: %s", tmp, strerror(errno));
		remove_tree_at(AT_FDCWD, tmp, &ignored);
		goto fail;
	}
	/* libarchive's secure flags only hold for relative paths, hence the
	 * chdir (testbed is single-threaded). */
	lseek(fd, 0, SEEK_SET);
	int rc = tarball_extract(fd, &limits, e);
	if (fchdir(cwd) < 0)
		rc = tb_fail(e, "returning to the working directory: %s", strerror(errno));
	if (rc == 0 && rename(tmp, rootfs) < 0)
		rc = tb_fail(e, "renaming %s: %s", tmp, strerror(errno));
	/* Only for `testbed images`: a tree without its record still works. */
	if (rc == 0)
		write_meta(cache_dir, hash, image, true, &ignored);
	if (rc < 0) {
		/* Nothing of a refused image stays; should removing fail, the
		 * next unpack sweeps it. */
		remove_tree_at(AT_FDCWD, tmp, &ignored);
		tb_context(e, "unpacking image %s", image);
		goto fail;
	}
	return rootfs;
fail:
	free(rootfs);
	return NULL;
}

/* What one nftw walk has counted. nftw takes no context pointer; testbed is
 * single-threaded. */
struct linked_file {
	dev_t dev;
	ino_t ino;
	unsigned long long bytes;
};
struct du_walk {
	unsigned long long bytes;
	struct linked_file *linked; /* files with more than one link: counted once, at the end */
	size_t n_linked, cap_linked;
};
static struct du_walk *du_current;

static int du_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (type == FTW_NS || type == FTW_DNR)
		return -1;
	unsigned long long bytes = (unsigned long long)st->st_blocks * 512;
	if (!S_ISDIR(st->st_mode) && st->st_nlink > 1) {
		struct du_walk *w = du_current;
		grow_array((void **)&w->linked, &w->cap_linked, w->n_linked + 1, sizeof(*w->linked));
		w->linked[w->n_linked++] = (struct linked_file){.dev = st->st_dev, .ino = st->st_ino, .bytes = bytes};
		return 0;
	}
	du_current->bytes += bytes;
	return 0;
}

static int by_inode(const void *a, const void *b)
{
	const struct linked_file *x = a, *y = b;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* The space PATH takes on disk, as du -s -B1 counts it: every entry's
 * allocated blocks, hard-linked files once, symlinks never followed and
 * other file systems never entered. */
static int disk_bytes(const char *path, unsigned long long *out, struct tb_err *e)
{
	struct du_walk w = {0};
	du_current = &w;
	int rc = nftw(path, du_entry, 16, FTW_PHYS | FTW_MOUNT);
	int err = errno;
	du_current = NULL;
	if (w.n_linked > 1)
		qsort(w.linked, w.n_linked, sizeof(*w.linked), by_inode);
	for (size_t i = 0; i < w.n_linked; i++)
		if (i == 0 || by_inode(&w.linked[i - 1], &w.linked[i]) != 0)
			w.bytes += w.linked[i].bytes;
	free(w.linked);
	*out = w.bytes;
	if (rc != 0)
		return tb_fail(e, "measuring %s: %s", path, strerror(rc < 0 ? err : EIO));
	return 0;
}

/* The tree's record, if any: where it came from and when. */
static void read_meta(int cache_fd, struct cached_image *img)
{
	autofree char *name = xasprintf("%s" META_SUFFIX, img->sha256);
	autofree char *text = read_file_at(cache_fd, name, NULL);
	cJSON *o = text ? cJSON_Parse(text) : NULL;
	const cJSON *source = cJSON_GetObjectItemCaseSensitive(o, "source");
	const cJSON *unpacked = cJSON_GetObjectItemCaseSensitive(o, "unpacked");
	if (cJSON_IsString(source) && source->valuestring[0])
		img->source = xstrdup(source->valuestring);
	if (cJSON_IsNumber(unpacked) && unpacked->valuedouble > 0)
		img->unpacked = (long long)unpacked->valuedouble;
	cJSON_Delete(o);
}

static int by_hash(const void *a, const void *b)
{
	return strcmp(((const struct cached_image *)a)->sha256, ((const struct cached_image *)b)->sha256);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static struct cached_image *find_image(struct image_cache *c, const char *sha256)
{
	for (size_t i = 0; i < c->n_images; i++)
		if (strcmp(c->images[i].sha256, sha256) == 0)
			return &c->images[i];
	return NULL;
}

static void add_leftover(struct image_cache *c, const char *name, unsigned long long bytes)
{
	grow_array((void **)&c->leftovers, &c->cap_leftovers, c->n_leftovers + 1, sizeof(*c->leftovers));
	c->leftovers[c->n_leftovers++] = (struct cache_leftover){.name = xstrdup(name), .bytes = bytes};
}

/* The trees, leftovers and records in the cache open as CACHE_FD. */
static int read_trees(int cache_fd, struct image_cache *c, struct tb_err *e)
{
	int copy = dup(cache_fd);
	DIR *d = copy < 0 ? NULL : fdopendir(copy);
	if (!d) {
		close_fd(&copy);
		return tb_fail(e, "reading %s: %s", c->dir, strerror(errno));
	}
	char **records = NULL;
	size_t n_records = 0, cap_records = 0;
	int rc = 0;
	for (struct dirent *de; rc == 0 && (de = readdir(d));) {
		const char *name = de->d_name;
		struct stat st;
		if (fstatat(cache_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* removed meanwhile */
		autofree char *path = xasprintf("%s/%s", c->dir, name);
		size_t len = strlen(name);
		if (image_cache_is_hash(name) && S_ISDIR(st.st_mode)) {
			grow_array((void **)&c->images, &c->cap_images, c->n_images + 1, sizeof(*c->images));
			struct cached_image *img = &c->images[c->n_images++];
			*img = (struct cached_image){.unpacked = (long long)st.st_mtime};
			memcpy(img->sha256, name, 65);
			read_meta(cache_fd, img);
			rc = disk_bytes(path, &img->bytes, e);
		} else if (str_has_prefix(name, ".unpack-")) {
			unsigned long long bytes = 0;
			rc = disk_bytes(path, &bytes, e);
			add_leftover(c, name, bytes);
		} else if (len == 64 + strlen(META_SUFFIX) && strcmp(name + 64, META_SUFFIX) == 0) {
			grow_array((void **)&records, &cap_records, n_records + 1, sizeof(*records));
			records[n_records++] = xstrdup(name);
		}
	}
	closedir(d);
	/* A record whose tree is gone (a removal interrupted between the two). */
	for (size_t i = 0; i < n_records; i++) {
		char hash[65];
		snprintf(hash, sizeof(hash), "%.64s", records[i]);
		struct stat st;
		if (rc == 0 && !find_image(c, hash) && fstatat(cache_fd, records[i], &st, AT_SYMLINK_NOFOLLOW) == 0)
			add_leftover(c, records[i], (unsigned long long)st.st_blocks * 512);
		free(records[i]);
	}
	free(records);
	if (c->n_images > 1)
		qsort(c->images, c->n_images, sizeof(*c->images), by_hash);
	return rc;
}

void image_uses_add(struct image_uses *u, const char *sha256, const char *lab)
{
	grow_array((void **)&u->uses, &u->cap_uses, u->n_uses + 1, sizeof(*u->uses));
	struct image_use *use = &u->uses[u->n_uses++];
	snprintf(use->sha256, sizeof(use->sha256), "%s", sha256);
	use->lab = xstrdup(lab);
}

void image_uses_add_unknown(struct image_uses *u, const char *lab, const char *why)
{
	grow_array((void **)&u->unknown, &u->cap_unknown, u->n_unknown + 1, sizeof(*u->unknown));
	u->unknown[u->n_unknown++] = (struct unknown_lab){.name = xstrdup(lab), .why = xstrdup(why)};
}

static void unknown_free(struct unknown_lab *unknown, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(unknown[i].name);
		free(unknown[i].why);
	}
	free(unknown);
}

void image_uses_free(struct image_uses *u)
{
	for (size_t i = 0; i < u->n_uses; i++)
		free(u->uses[i].lab);
	free(u->uses);
	unknown_free(u->unknown, u->n_unknown);
	*u = (struct image_uses){0};
}

/* Which labs use which tree, as USES says; its unknown labs become C's. */
static int read_uses(image_uses_fn uses, const void *ctx, struct image_cache *c, struct tb_err *e)
{
	struct image_uses u = {0};
	if (uses(ctx, &u, e) < 0) {
		image_uses_free(&u);
		return -1;
	}
	for (size_t i = 0; i < u.n_uses; i++) {
		const char *lab = u.uses[i].lab;
		struct cached_image *img = find_image(c, u.uses[i].sha256);
		bool listed = false;
		for (size_t j = 0; img && j < img->n_labs; j++)
			listed = listed || strcmp(img->labs[j], lab) == 0;
		if (!img || listed)
			continue;
		grow_array((void **)&img->labs, &img->cap_labs, img->n_labs + 1, sizeof(*img->labs));
		img->labs[img->n_labs++] = xstrdup(lab);
	}
	for (size_t i = 0; i < c->n_images; i++)
		if (c->images[i].n_labs > 1)
			qsort(c->images[i].labs, c->images[i].n_labs, sizeof(char *), by_name);
	c->unknown = u.unknown;
	c->n_unknown = u.n_unknown;
	c->cap_unknown = u.cap_unknown;
	u.unknown = NULL;
	u.n_unknown = u.cap_unknown = 0;
	image_uses_free(&u);
	return 0;
}

/* Not root, and refused: the cache (mode 0700) and the labs' state are
 * root's, which is a usage error, not a broken system. */
static int refused(struct tb_err *e)
{
	if (geteuid() == 0)
		return TB_EXIT_SYSTEM;
	tb_context(e, "needs root (the image cache and the labs' state are root's)");
	return TB_EXIT_USAGE;
}

/* Resolves and opens the cache; 0 with C->dir NULL when there is none. */
static int open_cache(const char *cache_arg, struct image_cache *c, int *cache_fd, struct tb_err *e)
{
	*c = (struct image_cache){0};
	*cache_fd = -1;
	c->dir = image_cache_dir(cache_arg, false, e);
	if (!c->dir)
		return errno == ENOENT ? TB_EXIT_OK : refused(e);
	*cache_fd = open(c->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*cache_fd < 0) {
		tb_fail(e, "opening %s: %s", c->dir, strerror(errno));
		return refused(e);
	}
	return TB_EXIT_OK;
}

/* Takes the cache lock (as image_unpack does), creating its file only
 * when EXCLUSIVE: a listing leaves the cache as it is. */
static int lock_cache(const struct image_cache *c, int cache_fd, bool exclusive, int *lock, struct tb_err *e)
{
	*lock = openat(cache_fd, ".lock", (exclusive ? O_RDWR | O_CREAT : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (*lock < 0 && !exclusive && errno == ENOENT)
		return 0; /* never unpacked into: nothing to wait for */
	if (*lock < 0 || flock(*lock, exclusive ? LOCK_EX : LOCK_SH) < 0)
		return tb_fail(e, "locking %s/.lock: %s", c->dir, strerror(errno));
	return 0;
}

int image_cache_read(const char *cache_arg, image_uses_fn uses, const void *ctx, struct image_cache *c,
		     struct tb_err *e)
{
	autoclose int cache_fd = -1;
	int rc = open_cache(cache_arg, c, &cache_fd, e);
	if (rc != TB_EXIT_OK || !c->dir)
		return rc;
	/* Shared: waits while an up unpacks, so that its .unpack-* is not
	 * shown as a leftover. */
	autoclose int lock = -1;
	if (lock_cache(c, cache_fd, false, &lock, e) < 0 || read_trees(cache_fd, c, e) < 0)
		return refused(e);
	if (read_uses(uses, ctx, c, e) < 0)
		return refused(e);
	return TB_EXIT_OK;
}

/* Removes tree IMG: renamed to a leftover's name first, so that no partial
 * tree ever stands under its hash, then removed, then its record. */
static int remove_image(int cache_fd, const struct image_cache *c, const struct cached_image *img, struct tb_err *e)
{
	autofree char *doomed = xasprintf(".unpack-pruned-%s", img->sha256);
	if (renameat(cache_fd, img->sha256, cache_fd, doomed) < 0)
		return tb_fail(e, "renaming %s/%s: %s", c->dir, img->sha256, strerror(errno));
	if (remove_tree_at(cache_fd, doomed, e) < 0)
		return tb_context(e, "in %s (the next up or prune removes the rest)", c->dir);
	autofree char *record = xasprintf("%s" META_SUFFIX, img->sha256);
	if (unlinkat(cache_fd, record, 0) < 0 && errno != ENOENT)
		return tb_fail(e, "removing %s/%s: %s", c->dir, record, strerror(errno));
	return 0;
}

int image_cache_prune(const char *cache_arg, image_uses_fn uses, const void *ctx, bool dry_run,
		      struct image_cache *c, struct tb_err *e)
{
	autoclose int cache_fd = -1;
	int rc = open_cache(cache_arg, c, &cache_fd, e);
	if (rc != TB_EXIT_OK || !c->dir)
		return rc;
	/* Exclusive for the whole decision and removal: an up that finds its
	 * tree cached waits for this lock, then looks again (image_unpack). */
	autoclose int lock = -1;
	if (lock_cache(c, cache_fd, true, &lock, e) < 0 || read_trees(cache_fd, c, e) < 0 ||
	    read_uses(uses, ctx, c, e) < 0)
		return refused(e);
	struct tb_err err;
	rc = TB_EXIT_OK;
	/* Under the lock no unpack runs: every leftover is stale. */
	for (size_t i = 0; i < c->n_leftovers; i++) {
		struct cache_leftover *l = &c->leftovers[i];
		if (!dry_run && remove_tree_at(cache_fd, l->name, &err) < 0) {
			if (rc == TB_EXIT_OK)
				*e = err;
			rc = TB_EXIT_SYSTEM;
			continue;
		}
		l->removed = true;
		c->freed += l->bytes;
	}
	/* A lab whose images are unknown may be using any tree. */
	for (size_t i = 0; c->n_unknown == 0 && i < c->n_images; i++) {
		struct cached_image *img = &c->images[i];
		if (img->n_labs > 0)
			continue;
		if (!dry_run && remove_image(cache_fd, c, img, &err) < 0) {
			if (rc == TB_EXIT_OK)
				*e = err;
			rc = TB_EXIT_SYSTEM;
			continue;
		}
		img->removed = true;
		c->freed += img->bytes;
	}
	return rc;
}

void image_cache_free(struct image_cache *c)
{
	for (size_t i = 0; i < c->n_images; i++) {
		for (size_t j = 0; j < c->images[i].n_labs; j++)
			free(c->images[i].labs[j]);
		free(c->images[i].labs);
		free(c->images[i].source);
	}
	for (size_t i = 0; i < c->n_leftovers; i++)
		free(c->leftovers[i].name);
	free(c->images);
	free(c->leftovers);
	unknown_free(c->unknown, c->n_unknown);
	free(c->dir);
	*c = (struct image_cache){0};
}
