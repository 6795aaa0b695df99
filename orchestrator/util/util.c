#define _GNU_SOURCE
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void out_of_memory(void)
{
	fputs("testbed: out of memory\n", stderr);
	exit(TB_EXIT_SYSTEM);
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);
	if (!p)
		out_of_memory();
	return p;
}

void *xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);
	if (!p)
		out_of_memory();
	return p;
}

void *xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);
	if (!p)
		out_of_memory();
	return p;
}

void strv_free(char **v)
{
	for (char **s = v; s && *s; s++)
		free(*s);
	free(v);
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		out_of_memory();
	return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	char *s;
	if (vasprintf(&s, fmt, ap) < 0)
		out_of_memory();
	return s;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

void grow_array(void **items, size_t *cap, size_t need, size_t elem_size)
{
	if (need <= *cap)
		return;
	size_t n = *cap ? *cap : 8;
	while (n < need)
		n *= 2;
	*items = xrealloc(*items, n * elem_size);
	*cap = n;
}

void close_fd(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

char *read_file_at(int dirfd, const char *name, size_t *len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	char *text = read_fd(fd, len);
	int err = errno;
	close(fd);
	errno = err;
	return text;
}

char *read_file(const char *path, size_t *len)
{
	autoclose int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	return read_fd(fd, len);
}

char *read_fd(int fd, size_t *len)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return NULL;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		return NULL;
	}
	size_t cap = (size_t)st.st_size + 1, used = 0;
	char *buf = xmalloc(cap);
	for (;;) {
		if (used + 1 >= cap)
			buf = xrealloc(buf, cap *= 2);
		ssize_t n = read(fd, buf + used, cap - used - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int saved = errno;
			free(buf);
			errno = saved;
			return NULL;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	buf[used] = '\0';
	if (len)
		*len = used;
	return buf;
}

bool str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The length of the well-formed UTF-8 sequence at S, of at most N bytes;
 * 0 when there is none (overlong forms and surrogates included). */
static size_t utf8_length(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xBF;
	size_t len;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		len = 2;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		len = 3;
		if (s[0] == 0xE0)
			lo = 0xA0;
		else if (s[0] == 0xED)
			hi = 0x9F;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		len = 4;
		if (s[0] == 0xF0)
			lo = 0x90;
		else if (s[0] == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return len;
}

size_t utf8_valid_prefix(const char *text, size_t n)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0, len;
	while (i < n && (len = utf8_length(s + i, n - i)) > 0)
		i += len;
	return i;
}

bool str_is_utf8(const char *s)
{
	size_t n = strlen(s);
	return utf8_valid_prefix(s, n) == n;
}

size_t utf8_cut(const char *text, size_t n, size_t max)
{
	if (n <= max)
		return n;
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0;
	for (;;) {
		size_t len = utf8_length(s + i, n - i);
		/* A byte that is no character is a unit of its own: str_escape shows it. */
		if (len == 0)
			len = 1;
		if (i + len > max)
			return i;
		i += len;
	}
}

/* The code point of the well-formed sequence of LEN bytes at S. */
static uint32_t code_point(const unsigned char *s, size_t len)
{
	static const unsigned char lead_bits[] = {0, 0x7F, 0x1F, 0x0F, 0x07};
	uint32_t cp = s[0] & lead_bits[len];
	for (size_t i = 1; i < len; i++)
		cp = cp << 6 | (s[i] & 0x3F);
	return cp;
}

/* What no report may show raw. Controls: C0 and DEL, and C1 (CSI, U+009B,
 * starts a sequence on some terminals). Unicode's noncharacters (U+FDD0 to
 * U+FDEF and the last two code points of every plane): XML 1.0 forbids
 * U+FFFE and U+FFFF, and YAML refuses them. The line and paragraph
 * separators: YAML 1.1 (PyYAML) and some viewers break lines there. */
static bool unprintable(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE ||
	       cp == 0x2028 || cp == 0x2029;
}

char *str_escape_n(const char *text, size_t n)
{
	const unsigned char *s = (const unsigned char *)text;
	char *out = xmalloc(4 * n + 1), *o = out; /* \xNN is the longest form of a byte */
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n;) {
		size_t len = utf8_length(s + i, n - i);
		if (len == 0 || unprintable(code_point(s + i, len))) {
			for (size_t k = 0; k < (len ? len : 1); k++) {
				*o++ = '\\';
				*o++ = 'x';
				*o++ = hex[s[i + k] >> 4];
				*o++ = hex[s[i + k] & 0xF];
			}
			i += len ? len : 1;
		} else if (s[i] == '\\') {
			*o++ = '\\';
			*o++ = '\\';
			i++;
		} else {
			memcpy(o, s + i, len);
			o += len;
			i += len;
		}
	}
	*o = '\0';
	return out;
}

char *str_escape(const char *s)
{
	return str_escape_n(s, strlen(s));
}

int tb_fail(struct tb_err *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	e->err = 0;
	return -1;
}

int tb_fail_errno(struct tb_err *e, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	e->err = err;
	return -1;
}

int tb_context(struct tb_err *e, const char *fmt, ...)
{
	char prefix[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	autofree char *joined = xasprintf("%s: %s", prefix, e->msg);
	size_t n = strlen(joined);
	if (n >= sizeof(e->msg))
		n = sizeof(e->msg) - 1;
	memcpy(e->msg, joined, n);
	e->msg[n] = '\0';
	return -1;
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *title_start;
static size_t title_len;

void proc_title_init(int argc, char **argv)
{
	if (argc < 1)
		return;
	/* argv strings are contiguous; their span is what ps shows. */
	title_start = argv[0];
	char *end = argv[argc - 1] + strlen(argv[argc - 1]);
	title_len = (size_t)(end - title_start);
}

void proc_title_set(const char *title)
{
	if (!title_start || title_len == 0)
		return;
	size_t n = strlen(title);
	if (n > title_len)
		n = title_len;
	memcpy(title_start, title, n);
	memset(title_start + n, 0, title_len - n + 1);
}

int dir_names(int dir_fd, bool (*keep)(const char *name), const char *what, char ***names, size_t *n,
	      struct tb_err *e)
{
	*names = NULL;
	*n = 0;
	/* A descriptor of its own: closedir() closes it, and the caller's
	 * keeps its position. */
	int copy = dup(dir_fd);
	DIR *d = copy < 0 ? NULL : fdopendir(copy);
	if (!d) {
		close_fd(&copy);
		return tb_fail(e, "reading %s: %s", what, strerror(errno));
	}
	size_t cap = 0;
	for (struct dirent *de; (de = readdir(d));) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 || (keep && !keep(de->d_name)))
			continue;
		grow_array((void **)names, &cap, *n + 1, sizeof(**names));
		(*names)[(*n)++] = xstrdup(de->d_name);
	}
	closedir(d);
	return 0;
}

/* One directory of a tree being removed: its name in its parent, and the
 * subdirectories still to empty. */
struct rm_frame {
	char *name;
	char **subdirs;
	size_t n, cap, next;
};

static void rm_frame_free(struct rm_frame *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->subdirs[i]);
	free(f->subdirs);
	free(f->name);
}

/* Removes everything in the directory open as FD except non-empty
 * subdirectories, which it lists in F. Names are read first and removed
 * after, since removing while reading may skip entries. */
static int rm_scan(int fd, struct rm_frame *f, struct tb_err *e)
{
	char **names;
	size_t n;
	if (dir_names(fd, NULL, f->name, &names, &n, e) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		/* unlinkat without AT_REMOVEDIR never follows a symlink: it
		 * removes the link, and fails with EISDIR on a directory. */
		int err = 0;
		if (rc < 0 || unlinkat(fd, names[i], 0) == 0 || errno == ENOENT)
			err = 0;
		else if (errno != EISDIR)
			err = errno;
		else if (unlinkat(fd, names[i], AT_REMOVEDIR) < 0)
			err = errno;
		if (err == ENOTEMPTY || err == EEXIST) {
			grow_array((void **)&f->subdirs, &f->cap, f->n + 1, sizeof(*f->subdirs));
			f->subdirs[f->n++] = names[i];
			continue;
		}
		if (err)
			rc = tb_fail(e, "%s/%s: %s", f->name, names[i], strerror(err));
		free(names[i]);
	}
	free(names);
	return rc;
}

int remove_tree_at(int dirfd, const char *name, struct tb_err *e)
{
	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR)
		return tb_fail(e, "removing %s: %s", name, strerror(errno));
	struct rm_frame *stack = NULL;
	size_t depth = 0, cap = 0;
	struct stat top;
	int rc = 0;
	int cur = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (cur < 0 || fstat(cur, &top) < 0) {
		rc = tb_fail(e, "removing %s: %s", name, strerror(errno));
		close_fd(&cur);
		return rc;
	}
	grow_array((void **)&stack, &cap, 1, sizeof(*stack));
	stack[depth++] = (struct rm_frame){.name = xstrdup(name)};
	rc = rm_scan(cur, &stack[0], e);
	while (rc == 0 && depth > 0) {
		struct rm_frame *f = &stack[depth - 1];
		if (f->next < f->n) {
			const char *sub = f->subdirs[f->next++];
			struct stat st;
			int child = openat(cur, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (child < 0 || fstat(child, &st) < 0) {
				rc = tb_fail(e, "%s/%s: %s", f->name, sub, strerror(errno));
				close_fd(&child);
				break;
			}
			if (st.st_dev != top.st_dev) {
				rc = tb_fail(e, "%s/%s: a mount point", f->name, sub);
				close(child);
				break;
			}
			close(cur);
			cur = child;
			grow_array((void **)&stack, &cap, depth + 1, sizeof(*stack));
			stack[depth++] = (struct rm_frame){.name = xstrdup(sub)};
			rc = rm_scan(cur, &stack[depth - 1], e);
			continue;
		}
		/* Empty now: climb to the parent and remove it there. */
		int parent = depth > 1 ? openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : dirfd;
		if (parent < 0 && depth > 1) {
			rc = tb_fail(e, "%s/..: %s", f->name, strerror(errno));
			break;
		}
		close(cur);
		cur = parent;
		if (unlinkat(parent, f->name, AT_REMOVEDIR) < 0)
			rc = tb_fail(e, "%s: %s", f->name, strerror(errno));
		rm_frame_free(f);
		depth--;
	}
	if (cur != dirfd)
		close(cur);
	while (depth > 0)
		rm_frame_free(&stack[--depth]);
	free(stack);
	return rc < 0 ? tb_context(e, "removing %s", name) : 0;
}

/* A handful: a library makes its socket or two while they are free. */
#define LOW_FDS 4
static int low_fds[LOW_FDS];
static size_t n_low_fds;

static void low_fds_fill(size_t want)
{
	while (n_low_fds < want) {
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return;
		if (fd >= FD_SETSIZE) {
			close(fd);
			return;
		}
		low_fds[n_low_fds++] = fd;
	}
}

void fd_low_reserve(void)
{
	low_fds_fill(LOW_FDS);
}

void fd_low_release(void)
{
	while (n_low_fds)
		close(low_fds[--n_low_fds]);
}

void fd_low_restore(void)
{
	low_fds_fill(LOW_FDS);
}
