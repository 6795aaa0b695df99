/* Small helpers shared by every part of testbed: allocation that cannot
 * return NULL, string formatting, and the cleanup attributes used for
 * scope-bound resources (the same style as crun and bubblewrap). */
#ifndef TESTBED_UTIL_H
#define TESTBED_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

/* Exit codes, shared by every command. */
enum tb_exit {
	TB_EXIT_OK = 0,
	TB_EXIT_EXPECTATIONS = 1, /* the lab ran, but expectations failed */
	TB_EXIT_USAGE = 2,        /* bad input or usage */
	TB_EXIT_SYSTEM = 3,       /* the system refused something */
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Out of memory is not user input: dying is the only sane answer. */
__attribute__((noreturn)) void out_of_memory(void);
void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* Frees a NULL-terminated array of strings and the strings (NULL: none). */
void strv_free(char **v);

/* Grow *items (of *cap elements of elem_size) so that it holds need. */
void grow_array(void **items, size_t *cap, size_t need, size_t elem_size);

static inline void free_ptr(void *p) { free(*(void **)p); }
static inline void close_file(FILE **f)
{
	if (*f)
		fclose(*f);
}
void close_fd(int *fd);

#define autofree __attribute__((cleanup(free_ptr)))
#define autoclose_file __attribute__((cleanup(close_file)))
#define autoclose __attribute__((cleanup(close_fd)))

/* Read a whole file into a NUL-terminated buffer. Returns NULL with errno set. */
char *read_file(const char *path, size_t *len);
/* The same for NAME in the directory DIRFD, never through a link. */
char *read_file_at(int dirfd, const char *name, size_t *len);
/* The same for an open regular file. */
char *read_fd(int fd, size_t *len);

bool str_has_prefix(const char *s, const char *prefix);

/* Text from a topology, an image, a server or a state file someone may
 * have edited, made safe for a terminal or a report: C0 controls, DEL, C1
 * controls (U+0080-U+009F), Unicode's noncharacters (U+FFFE, U+FFFF, ...),
 * the line and paragraph separators U+2028 and U+2029, and bytes that are
 * not UTF-8 become \xNN (one per byte), a backslash becomes \\ so that the
 * result is unambiguous; printable UTF-8 stays as it is. The result is
 * well-formed in JSON, XML 1.0 and YAML alike. str_escape_n escapes the
 * first N bytes. Both malloc'd. */
char *str_escape(const char *s);
char *str_escape_n(const char *s, size_t n);

/* How many of the N bytes at S are well-formed UTF-8 before the first that
 * is not (N when all are). */
size_t utf8_valid_prefix(const char *s, size_t n);
/* Whether the string S is well-formed UTF-8 throughout. */
bool str_is_utf8(const char *s);
/* How many of the N bytes at S to keep so that at most MAX remain and no
 * character is cut in two: a cut by bytes alone can leave half a character,
 * which strict UTF-8 decoders refuse. */
size_t utf8_cut(const char *s, size_t n, size_t max);

/* An error on a system path: what failed and why, composed from the
 * innermost step outwards ("pod-a: creating eth0: File exists"). */
struct tb_err {
	char msg[1024];
	/* The errno behind it where the system gave one (EEXIST, ENOENT...),
	 * so that callers can tell "exists" from "not found"; 0 otherwise. */
	int err;
};
/* Sets the message and returns -1, so that `return tb_fail(e, ...)` reads. */
int tb_fail(struct tb_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same, keeping ERR (an errno value) in e->err. */
int tb_fail_errno(struct tb_err *e, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prefixes the existing message with more context; returns -1. */
int tb_context(struct tb_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Removes NAME (relative to DIRFD, or a path) and everything below it,
 * never following a symlink (a symlink is just unlinked) and never leaving
 * NAME's file system (a mount point below fails it). Iterative, with one
 * directory open at a time, so that no depth of tree exhausts the stack or
 * the file descriptors. It climbs back through "..": callers make sure
 * that only root can change the tree meanwhile (the image cache is root's). */
/* The names in the directory open as DIR_FD but "." and "..", those KEEP
 * (when given) says yes to, read whole: callers that remove or rename
 * entries do so after, since changing a directory while reading it may skip
 * entries. WHAT names the directory in the error. Free each and the array. */
int dir_names(int dir_fd, bool (*keep)(const char *name), const char *what, char ***names, size_t *n,
	      struct tb_err *e);
int remove_tree_at(int dirfd, const char *name, struct tb_err *e);

/* Write all of BUF, retrying short writes and EINTR. */
int write_all(int fd, const void *buf, size_t len);
/* Process titles: main() hands over argv once; a machine's init then shows
 * as "testbed-init: NAME" in ps instead of a copy of the up command line. */
void proc_title_init(int argc, char **argv);
void proc_title_set(const char *title);

/* Monotonic clock in milliseconds. */
long long now_ms(void);

/* Descriptors below FD_SETSIZE kept for libraries that wait with select()
 * (libnftables does), which aborts on a descriptor past it: a lab of a few
 * hundred machines holds more than that open. fd_low_reserve() (once, at
 * start) holds a few low ones on /dev/null; fd_low_release() frees them for
 * the sockets such a library is about to make, fd_low_restore() refills the
 * reserve from the lowest free ones (after such a socket is made, or closed).
 * The reserve is process-wide and unlocked: callers on several threads share
 * one lock around these calls (steps/step_nft.c). */
void fd_low_reserve(void);
void fd_low_release(void);
void fd_low_restore(void);

#endif
