#define _GNU_SOURCE
#include "util/diag.h"

#include <stdbool.h>

#include <string.h>

#include "util/util.h"

void diag_init(struct diag *d, const char *file)
{
	*d = (struct diag){.file = file};
}

void diag_note(struct diag *d, const char *text)
{
	d->notes = xrealloc(d->notes, (d->n_notes + 1) * sizeof(*d->notes));
	d->notes[d->n_notes++] = str_escape(text);
}

void diag_free(struct diag *d)
{
	for (size_t i = 0; i < d->n_blocks; i++)
		free(d->blocks[i]);
	free(d->blocks);
	free(d->messages);
	for (size_t i = 0; i < d->n_notes; i++)
		free(d->notes[i]);
	free(d->notes);
	*d = (struct diag){0};
}

enum { DIAG_BLOCK_SIZE = 64 * 1024 };

static void diag_push(struct diag *d, const char *message)
{
	size_t n = strlen(message) + 1;
	if (n > d->block_free) {
		size_t size = n > DIAG_BLOCK_SIZE ? n : DIAG_BLOCK_SIZE;
		grow_array((void **)&d->blocks, &d->cap_blocks, d->n_blocks + 1, sizeof(*d->blocks));
		d->block_next = d->blocks[d->n_blocks++] = xmalloc(size);
		d->block_free = size;
	}
	grow_array((void **)&d->messages, &d->cap, d->count + 1, sizeof(*d->messages));
	d->messages[d->count++] = memcpy(d->block_next, message, n);
	d->block_next += n;
	d->block_free -= n;
}

static const char *diag_file(const struct diag *d)
{
	return d->file ? d->file : "topology";
}

/* Formats into BUF when the text fits, else into memory of its own; the
 * result is BUF or *HEAP. Most messages fit: vasprintf grows its buffer
 * several times per message, which dominated reporting a million errors. */
static const char *format(char *buf, size_t size, char **heap, const char *fmt, va_list ap)
{
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(buf, size, fmt, copy);
	va_end(copy);
	if (n >= 0 && (size_t)n < size)
		return buf;
	return *heap = xvasprintf(fmt, ap);
}

static void diag_pushf(struct diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void diag_pushf(struct diag *d, const char *fmt, ...)
{
	char buf[512];
	autofree char *heap = NULL;
	va_list ap;
	va_start(ap, fmt);
	const char *message = format(buf, sizeof(buf), &heap, fmt, ap);
	va_end(ap);
	/* Keys, values and paths come from the topology (and the file name
	 * from the command line): escaping the whole message keeps a control
	 * character in any of them from reaching the terminal raw or splitting
	 * the one line each error gets. Most messages need nothing escaped. */
	bool plain = true;
	for (const unsigned char *c = (const unsigned char *)message; *c && plain; c++)
		plain = *c >= 0x20 && *c < 0x7f && *c != '\\';
	if (plain) {
		diag_push(d, message);
		return;
	}
	autofree char *escaped = str_escape(message);
	diag_push(d, escaped);
}

void diag_error(struct diag *d, int line, const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_verror(d, line, path, fmt, ap);
	va_end(ap);
}

void diag_verror(struct diag *d, int line, const char *path, const char *fmt, va_list ap)
{
	diag_verror_in(d, NULL, line, 0, path, fmt, ap);
}

void diag_error_in(struct diag *d, const char *file, int line, int column, const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_verror_in(d, file, line, column, path, fmt, ap);
	va_end(ap);
}

void diag_verror_in(struct diag *d, const char *file, int line, int column, const char *path, const char *fmt,
		    va_list ap)
{
	char buf[512];
	autofree char *heap = NULL;
	const char *what = format(buf, sizeof(buf), &heap, fmt, ap);

	/* "FILE:LINE:COLUMN: ", "FILE:LINE: " or "FILE: ". */
	char where[64];
	if (line > 0 && column > 0)
		snprintf(where, sizeof(where), ":%d:%d: ", line, column);
	else if (line > 0)
		snprintf(where, sizeof(where), ":%d: ", line);
	else
		snprintf(where, sizeof(where), ": ");
	const char *name = file ? file : diag_file(d);
	if (path && *path)
		diag_pushf(d, "%s%s%s: %s", name, where, path, what);
	else
		diag_pushf(d, "%s%s%s", name, where, what);
}

void diag_error_at(struct diag *d, int line, int column, const char *fmt, ...)
{
	char buf[512];
	autofree char *heap = NULL;
	va_list ap;
	va_start(ap, fmt);
	const char *what = format(buf, sizeof(buf), &heap, fmt, ap);
	va_end(ap);
	if (line > 0 && column > 0)
		diag_pushf(d, "%s:%d:%d: %s", diag_file(d), line, column, what);
	else if (line > 0)
		diag_pushf(d, "%s:%d: %s", diag_file(d), line, what);
	else
		diag_pushf(d, "%s: %s", diag_file(d), what);
}

void diag_print(const struct diag *d, FILE *out)
{
	/* stderr is unbuffered: in blocks, not a write per message, since a
	 * huge file can have a million. */
	char block[64 * 1024];
	size_t used = 0;
	for (size_t i = 0; i < d->count; i++) {
		size_t n = strlen(d->messages[i]);
		if (used + n + 1 > sizeof(block) && used) {
			fwrite(block, 1, used, out);
			used = 0;
		}
		if (n + 1 > sizeof(block)) {
			fprintf(out, "%s\n", d->messages[i]);
			continue;
		}
		memcpy(block + used, d->messages[i], n);
		block[used + n] = '\n';
		used += n + 1;
	}
	if (used)
		fwrite(block, 1, used, out);
}
