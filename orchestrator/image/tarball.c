#define _GNU_SOURCE
#include "image/tarball.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int tarball_sha256(int fd, char hex[65], struct tb_err *e)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		return tb_fail(e, "cannot start SHA-256");
	}
	static char buf[1 << 16];
	int rc = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = tb_fail(e, "reading: %s", strerror(errno));
			break;
		}
		if (n == 0)
			break;
		EVP_DigestUpdate(ctx, buf, (size_t)n);
	}
	unsigned char md[32];
	unsigned int len = 0;
	if (rc == 0 && EVP_DigestFinal_ex(ctx, md, &len) == 1 && len == 32) {
		for (unsigned i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
	} else if (rc == 0) {
		rc = tb_fail(e, "SHA-256 failed");
	}
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* libarchive's own reason for a failure, never NULL or empty. */
static const char *archive_reason(struct archive *a)
{
	const char *s = archive_error_string(a);
	if (s && *s)
		return s;
	int err = archive_errno(a);
	return err > 0 ? strerror(err) : "libarchive gave no reason";
}

/* What one image may unpack to, and how much it has so far. */
struct unpack_budget {
	unsigned long long max_bytes, max_entries;
	unsigned long long bytes, entries;
};

/* Reads a limit from the environment: a positive whole number, for bytes
 * optionally followed by K, M, G or T (powers of 1024). */
static int env_limit(const char *name, unsigned long long def, bool bytes, unsigned long long *out,
		     struct tb_err *e)
{
	const char *value = getenv(name);
	*out = def;
	if (!value || !*value)
		return 0;
	unsigned long long n = 0;
	const char *p = value;
	if (*p < '0' || *p > '9')
		goto bad;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned digit = (unsigned)(*p - '0');
		if (n > (ULLONG_MAX - digit) / 10)
			goto bad;
		n = n * 10 + digit;
	}
	const char *unit = bytes && *p ? strchr("KMGT", *p) : NULL;
	if (unit) {
		unsigned shift = 10 * (unsigned)(unit - "KMGT" + 1);
		if (n > ULLONG_MAX >> shift)
			goto bad;
		n <<= shift;
		p++;
	}
	if (*p || n == 0)
		goto bad;
	*out = n;
	return 0;
bad:
	return tb_fail(e, "%s=\"%s\": not a positive whole number%s", name, value,
		       bytes ? " of bytes (such as 4294967296 or 4G)" : "");
}

int tarball_limits(struct tarball_limits *l, struct tb_err *e)
{
	*l = (struct tarball_limits){0};
	if (env_limit("TESTBED_IMAGE_MAX_BYTES", TB_IMAGE_MAX_BYTES, true, &l->max_bytes, e) < 0 ||
	    env_limit("TESTBED_IMAGE_MAX_ENTRIES", TB_IMAGE_MAX_ENTRIES, false, &l->max_entries, e) < 0)
		return -1;
	return 0;
}

/* Fails when an entry of SIZE bytes, on top of what is unpacked, would
 * pass the limit. */
static int budget_bytes(const struct unpack_budget *b, unsigned long long size, const char *path,
			struct tb_err *e)
{
	if (size <= b->max_bytes - b->bytes)
		return 0;
	return tb_fail(e, "%s: unpacks to more than the limit of %llu bytes; if the image is trusted, "
			  "raise it with TESTBED_IMAGE_MAX_BYTES (such as TESTBED_IMAGE_MAX_BYTES=8G)",
		       path, b->max_bytes);
}

/* True for ".", "./", ".//.": the directory being unpacked into, whose
 * mode, owner and times are testbed's, never the archive's. */
static bool names_unpack_root(const char *path)
{
	for (const char *p = path; *p;) {
		if (*p == '/' && p != path)
			p++;
		else if (p[0] == '.' && (p[1] == '/' || p[1] == '\0'))
			p++;
		else
			return false;
	}
	return true;
}

/* Copies the entry's data, counting every byte as written: a block's end
 * (a sparse file's holes included), not the header's size alone. */
static int copy_data(struct archive *in, struct archive *out, struct unpack_budget *b, const char *path,
		     unsigned long long *size, struct tb_err *e)
{
	const void *buf;
	size_t len;
	la_int64_t offset;
	int r;
	while ((r = archive_read_data_block(in, &buf, &len, &offset)) == ARCHIVE_OK) {
		if (offset < 0)
			return tb_fail(e, "%s: a data block at a negative offset", path);
		unsigned long long end = (unsigned long long)offset + len;
		if (end > *size) {
			if (budget_bytes(b, end, path, e) < 0)
				return -1;
			*size = end;
		}
		if (archive_write_data_block(out, buf, len, offset) < ARCHIVE_WARN)
			return tb_fail(e, "%s: %s", path, archive_reason(out));
	}
	if (r != ARCHIVE_EOF)
		return tb_fail(e, "%s: %s", path, archive_reason(in));
	return 0;
}

int tarball_extract(int fd, const struct tarball_limits *l, struct tb_err *e)
{
	struct unpack_budget budget = {.max_bytes = l->max_bytes, .max_entries = l->max_entries};
	struct unpack_budget *b = &budget;
	struct archive *in = archive_read_new();
	struct archive *out = archive_write_disk_new();
	int rc = 0;
	archive_read_support_filter_all(in);
	/* Root filesystems come as tar (or cpio) archives. Other formats
	 * would let a text file pass as an mtree manifest naming host files. */
	archive_read_support_format_tar(in);
	archive_read_support_format_cpio(in);
	/* Numeric owners (no lookup through the host's passwd), and refuse
	 * "..", absolute paths and writing through symlinks. */
	archive_write_disk_set_options(out, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER |
						    ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
						    ARCHIVE_EXTRACT_SECURE_SYMLINKS |
						    ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
	if (archive_read_open_fd(in, fd, 1 << 16) != ARCHIVE_OK) {
		rc = tb_fail(e, "%s", archive_reason(in));
		goto out;
	}
	for (;;) {
		struct archive_entry *entry;
		int r = archive_read_next_header(in, &entry);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			rc = tb_fail(e, "%s", archive_reason(in));
			goto out;
		}
		if (++b->entries > b->max_entries) {
			rc = tb_fail(e, "more than the limit of %llu entries; if the image is trusted, raise it "
					"with TESTBED_IMAGE_MAX_ENTRIES",
				     b->max_entries);
			goto out;
		}
		const char *path = archive_entry_pathname(entry);
		if (!path || names_unpack_root(path))
			continue;
		/* Devices come from the machine's own /dev, never from an image. */
		mode_t type = archive_entry_filetype(entry);
		if (type == AE_IFCHR || type == AE_IFBLK)
			continue;
		/* The declared size first: a sparse file is truncated up to
		 * it at the end of the entry. */
		unsigned long long size = archive_entry_size(entry) > 0 ? (unsigned long long)archive_entry_size(entry) : 0;
		if (budget_bytes(b, size, path, e) < 0) {
			rc = -1;
			goto out;
		}
		r = archive_write_header(out, entry);
		if (r < ARCHIVE_WARN) {
			rc = tb_fail(e, "%s: %s", path, archive_reason(out));
			goto out;
		}
		if (copy_data(in, out, b, path, &size, e) < 0) {
			rc = -1;
			goto out;
		}
		if (archive_write_finish_entry(out) < ARCHIVE_WARN) {
			rc = tb_fail(e, "%s: %s", path, archive_reason(out));
			goto out;
		}
		/* A hard link counts as a copy of what it links to: its header
		 * says 0 bytes, whatever the file holds. */
		struct stat st;
		if (archive_entry_hardlink(entry) && lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    (unsigned long long)st.st_size > size) {
			size = (unsigned long long)st.st_size;
			if (budget_bytes(b, size, path, e) < 0) {
				rc = -1;
				goto out;
			}
		}
		b->bytes += size;
	}
	if (archive_write_close(out) != ARCHIVE_OK)
		rc = tb_fail(e, "%s", archive_reason(out));
out:
	archive_read_free(in);
	archive_write_free(out);
	return rc;
}
